//! The config table of docs/config.md is the contract: every field it gives
//! a default may be omitted, at every nesting level, and omitting it must
//! parse to exactly what writing the documented value gives. The rows are
//! read from the page itself, so a default changed in one place and not the
//! other fails here.

use serde_norway::{Mapping, Value};

use crate::config::Config;

const CONFIG_DOC: &str = include_str!("../../../../../docs/config.md");

/// Target 0: SQS; target 1: Kafka with a schedule; target 2: SQS with `slo`.
const BASE: &str = r#"
kafka_clusters: { main: { bootstrap_servers: "127.0.0.1:9092" } }
targets:
  - name: queue
    signals: [ { sqs: { name: q, queue: q1 } } ]
    worker: { ecs: { cluster: c, service: s } }
    policy: { min: 0, max: 10, target_per_worker: 5 }
  - name: topic
    signals: [ { kafka: { name: k, cluster: main, group: g, topic: t } } ]
    worker: { ecs: { cluster: c, service: k } }
    policy: { min: 1, max: 10, target_per_worker: 100 }
    schedules: [ { name: day, cron: "0 8 * * *", duration: 1h, min: 2 } ]
  - name: slo
    signals: [ { sqs: { name: q, queue: q2 } } ]
    worker: { ecs: { cluster: c, service: x } }
    policy: { min: 0, max: 10, target_per_worker: 5, slo: { wait: 60s, processing_time: 200ms } }
"#;

/// (field path as docs/config.md writes it, default as written), for rows whose
/// default is one literal.
fn documented_literals() -> Vec<(String, String)> {
    CONFIG_DOC
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let [_, field, default, ..] = cells.as_slice() else {
                return None;
            };
            let field = field.strip_prefix('`')?.strip_suffix('`')?;
            let default = default.strip_prefix('`')?.strip_suffix('`')?;
            let single = |s: &str| !s.contains('`') && !s.contains(',');
            (single(field) && single(default)).then(|| (field.to_string(), default.to_string()))
        })
        .collect()
}

/// Where a documented path lives in [`BASE`]: (target index, path inside it).
fn locate(field: &str) -> Option<(usize, Vec<String>)> {
    let parts = |s: &str| s.split('.').map(str::to_string).collect::<Vec<_>>();
    if let Some(rest) = field.strip_prefix("policy.slo.") {
        return Some((2, parts(&format!("policy.slo.{rest}"))));
    }
    if field.starts_with("policy.") {
        return Some((0, parts(field)));
    }
    if let Some(rest) = field.strip_prefix("sqs.") {
        return Some((0, parts(&format!("signals.0.sqs.{rest}"))));
    }
    if let Some(rest) = field.strip_prefix("kafka.") {
        return Some((1, parts(&format!("signals.0.kafka.{rest}"))));
    }
    if let Some(rest) = field.strip_prefix("schedules[].") {
        return Some((1, parts(&format!("schedules.0.{rest}"))));
    }
    None
}

fn set(root: &mut Value, target: usize, path: &[String], value: Value) {
    let mut node = &mut root["targets"][target];
    for (i, key) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        node = if let Ok(index) = key.parse::<usize>() {
            &mut node[index]
        } else {
            let map = node.as_mapping_mut().expect("a mapping on the way");
            let key = Value::String(key.clone());
            if !map.contains_key(&key) {
                let fresh = if last {
                    Value::Null
                } else {
                    Value::Mapping(Mapping::new())
                };
                map.insert(key.clone(), fresh);
            }
            map.get_mut(&key).unwrap()
        };
    }
    *node = value;
}

fn parse(root: &Value) -> Config {
    let yaml = serde_norway::to_string(root).unwrap();
    Config::from_yaml(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

fn base() -> Value {
    serde_norway::from_str(BASE).unwrap()
}

/// Writes `value` at `field` and checks the result equals omitting it.
fn assert_default(field: &str, value: Value) {
    let (target, path) = locate(field).unwrap_or_else(|| panic!("where is {field}?"));
    let mut explicit = base();
    set(&mut explicit, target, &path, value.clone());
    assert_eq!(
        parse(&explicit),
        parse(&base()),
        "docs/config.md says {field} defaults to {value:?}, but omitting it parses differently"
    );
}

#[test]
fn omitting_each_documented_default_equals_writing_it() {
    let mut checked = Vec::new();
    for (field, default) in documented_literals() {
        // Defaults that are another field, or no value at all, are not literals.
        if default.contains("latency.") || locate(&field).is_none() {
            continue;
        }
        let value: Value = serde_norway::from_str(&default).unwrap();
        assert_default(&field, value);
        checked.push(field);
    }
    // Rows whose default is prose in the table, written out here.
    let yaml = |s: &str| -> Value { serde_norway::from_str(s).unwrap() };
    assert_default("sqs.include_in_flight", Value::Bool(true));
    assert_default("sqs.include_delayed", Value::Bool(false));
    assert_default(
        "policy.scale_out.rate_limits",
        yaml("{ select: max, policies: [ { percent: { value: 1500, period: 60s } }, { pods: { value: 16, period: 60s } } ] }"),
    );
    assert_default(
        "policy.scale_in.rate_limits",
        yaml("{ select: max, policies: [ { percent: { value: 100, period: 15s } } ] }"),
    );
    // Every nesting level may be omitted: an empty block is the defaults too.
    for block in [
        "policy.scale_out",
        "policy.scale_in",
        "policy.untrusted_data",
        "policy.forecast",
        "policy.scale_out.rate_limits",
        "policy.scale_in.rate_limits",
    ] {
        assert_default(block, Value::Mapping(Mapping::new()));
    }
    // The page's parse must have found the table, not nothing.
    assert!(checked.len() >= 20, "only {checked:?}");
}
