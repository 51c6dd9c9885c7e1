//! Generated inputs for every parser of outside data: the config YAML, the
//! observations JSON, the stored state and outbox JSON, and every Lambda
//! event. Three kinds of input per parser: structural mutations of a valid
//! sample (one value replaced by random JSON, a key removed, an unknown key
//! added), byte-level mutations of its text, and random documents. Checked:
//! no panic (also in `decide` on whatever parses), and every error names
//! where it is. `PROPTEST_CASES` sets the cases per property (256 here;
//! `scripts/fuzz.sh` runs 100,000 in all).
//! Over 400 lines on purpose: the mutation machinery and the per-parser
//! checks are one harness; splitting it would only pass it around.

use std::collections::BTreeMap;

use jiff::Timestamp;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value};

use qscale_core::config::{Config, ConfigError};
use qscale_core::engine::{decide, Observations, TargetState};
use qscale_core::reconcile::{outbox, AuditEvent, AuditKind, Outcome, PendingAudit};
use qscale_lambda::{parse_control_message, parse_prewarm, parse_schedule, EvaluateEvent};

const EXAMPLE_CONFIG: &str = include_str!("../shared/configs/example.yaml");
const EXAMPLE_OBSERVATIONS: &str = include_str!("../shared/configs/example-observations.json");
const EVENTS: [&str; 5] = [
    include_str!("../events/schedule.json"),
    include_str!("../events/control-batch.json"),
    include_str!("../events/alarm-sqs-depth.json"),
    include_str!("../events/alarm-msk-lag.json"),
    include_str!("../events/prewarm.json"),
];

fn now() -> Timestamp {
    "2026-11-23T10:00:30Z".parse().unwrap()
}

fn config() -> Config {
    Config::from_yaml(EXAMPLE_CONFIG).unwrap()
}

/// Kafka observations for the example's `clicks` target.
fn kafka_observations() -> Value {
    serde_json::json!({
        "worker": { "desired": 3, "running": 3, "pending": 0, "deployment_in_progress": false },
        "signals": { "clicks-topic": { "status": "ok", "observed_at": "2026-11-23T10:00:00Z",
            "measurement": { "kafka": { "group_state": "Stable", "members": 3, "partitions": [
                { "partition": 0, "low_watermark": 0, "high_watermark": 9000, "committed_offset": 100 },
                { "partition": 1, "low_watermark": 50, "high_watermark": 70, "committed_offset": null },
                { "partition": 2, "low_watermark": 0, "high_watermark": 10 } ] } } } }
    })
}

/// (target name, observations) samples.
fn observation_samples() -> Vec<(&'static str, Value)> {
    vec![
        (
            "orders",
            serde_json::from_str(EXAMPLE_OBSERVATIONS).unwrap(),
        ),
        ("clicks", kafka_observations()),
    ]
}

/// States as decide writes them after a few ticks (every field in use).
fn state_samples() -> Vec<(&'static str, Value)> {
    let config = config();
    observation_samples()
        .into_iter()
        .map(|(name, obs)| {
            let target = config.target(name).unwrap();
            let obs: Observations = serde_json::from_value(obs).unwrap();
            let mut state = TargetState::default();
            // A registered event, so mutations reach its times too.
            state.register_event(qscale_core::engine::RegisteredEvent {
                name: "launch".into(),
                start: now(),
                end: now() + jiff::SignedDuration::from_hours(2),
                min: 1,
            });
            for minute in 0..3 {
                let at = now() + jiff::SignedDuration::from_mins(minute);
                state = decide(target, &state, &obs, at).next_state;
            }
            (name, serde_json::to_value(&state).unwrap())
        })
        .collect()
}

fn outbox_sample() -> Value {
    let config = config();
    let target = config.target("orders").unwrap();
    let obs: Observations = serde_json::from_str(EXAMPLE_OBSERVATIONS).unwrap();
    let decision = decide(target, &TargetState::default(), &obs, now());
    let mut pending = PendingAudit::new(AuditEvent::from_decision(
        &decision,
        AuditKind::Decision,
        Outcome::Applied,
        None,
    ));
    pending.delivered.insert("eventbridge:qscale".into());
    serde_json::to_value(vec![pending]).unwrap()
}

// ---- generators ----

fn interesting_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,12}",
        Just(String::new()),
        Just("2026-11-23T10:00:00Z".to_string()),
        Just("9999-12-31T23:59:59Z".to_string()),
        Just("-009999-01-01T00:00:00Z".to_string()),
        // jiff's true bounds and in-range extremes (the strings above are
        // just outside and only exercise parse rejection): issue 28's repro
        // states panicked on these.
        Just(jiff::Timestamp::MIN.to_string()),
        Just(jiff::Timestamp::MAX.to_string()),
        Just("-009999-01-02T01:59:59Z".to_string()),
        Just("9999-12-30T22:00:00Z".to_string()),
        Just("9999-12-30T21:59:00Z".to_string()),
        Just("1970-01-01T00:00:00Z".to_string()),
        Just("0s".to_string()),
        Just("18446744073709551615s".to_string()),
        Just("99999999999d".to_string()),
        Just("-1".to_string()),
        Just("NaN".to_string()),
        Just("1e309".to_string()),
        Just("ok".to_string()),
        Just("failed".to_string()),
        Just("sqs".to_string()),
        Just("kafka".to_string()),
        Just("* * * * *".to_string()),
        Just("Europe/Nowhere".to_string()),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop_oneof![Just(0u64), Just(1), Just(u32::MAX as u64), Just(u64::MAX)]
            .prop_map(Value::from),
        prop_oneof![Just(-1i64), Just(i64::MIN), Just(i32::MAX as i64 + 1)].prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        interesting_string().prop_map(Value::from),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// One change to a JSON document.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(Index, Value),
    Remove(Index),
    AddKey(Index, String, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), any_json()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        1 => any::<Index>().prop_map(Mutation::Remove),
        1 => (any::<Index>(), "[a-z_]{1,10}", leaf()).prop_map(|(i, k, v)| Mutation::AddKey(i, k, v)),
    ]
}

/// A step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Item(usize),
}

fn paths(v: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                prefix.push(Step::Key(k.clone()));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                prefix.push(Step::Item(i));
                paths(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(v: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path.iter().fold(v, |v, step| match step {
        Step::Key(k) => &mut v[k.as_str()],
        Step::Item(i) => &mut v[*i],
    })
}

/// Applies `m`; returns the path it changed (empty: the root).
fn apply(doc: &mut Value, m: &Mutation) -> Vec<Step> {
    let mut all = Vec::new();
    paths(doc, &mut Vec::new(), &mut all);
    match m {
        Mutation::Replace(i, v) => {
            let path = i.get(&all).clone();
            *at(doc, &path) = v.clone();
            path
        }
        Mutation::Remove(i) => {
            let path = i.get(&all).clone();
            let Some((last, parent)) = path.split_last() else {
                *doc = Value::Null;
                return path;
            };
            match (at(doc, parent), last) {
                (Value::Object(m), Step::Key(k)) => {
                    m.remove(k);
                }
                (Value::Array(items), Step::Item(i)) => {
                    items.remove(*i);
                }
                _ => unreachable!("paths come from the document"),
            }
            path
        }
        Mutation::AddKey(i, key, v) => {
            let objects: Vec<&Vec<Step>> = all
                .iter()
                .filter(|p| at(&mut doc.clone(), p).is_object())
                .collect();
            if objects.is_empty() {
                return Vec::new();
            }
            let mut path = i.get(&objects).to_vec();
            if let Value::Object(m) = at(doc, &path) {
                m.insert(key.clone(), v.clone());
            }
            path.push(Step::Key(key.clone()));
            path
        }
    }
}

/// A byte-level change to a document's text.
#[derive(Debug, Clone)]
enum Edit {
    Insert(Index, String),
    Delete(Index, usize),
    Duplicate(Index, usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        (
            any::<Index>(),
            prop_oneof![
                "\\PC{1,3}",
                "[\\[\\]{}:,\"'&*!|>#-]{1,4}",
                Just("\n  ".to_string())
            ]
        )
            .prop_map(|(i, s)| Edit::Insert(i, s)),
        (any::<Index>(), 1usize..16).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<Index>(), 1usize..64).prop_map(|(i, n)| Edit::Duplicate(i, n)),
    ];
    prop::collection::vec(edit, 1..6)
}

fn edit_text(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        let len = chars.len().max(1);
        match e {
            Edit::Insert(i, s) => {
                let at = i.index(len + 1).min(chars.len());
                chars.splice(at..at, s.chars());
            }
            Edit::Delete(i, n) => {
                let at = i.index(len).min(chars.len());
                let end = (at + n).min(chars.len());
                chars.drain(at..end);
            }
            Edit::Duplicate(i, n) => {
                let at = i.index(len).min(chars.len());
                let end = (at + n).min(chars.len());
                let copy: Vec<char> = chars[at..end].to_vec();
                chars.splice(end..end, copy);
            }
        }
    }
    chars.into_iter().collect()
}

// ---- checks ----

/// The top-level key a mutation touched, which an error must name.
fn top_key(path: &[Step]) -> Option<&str> {
    match path.first() {
        Some(Step::Key(k)) => Some(k.as_str()),
        _ => None,
    }
}

fn names_path(error: &str, path: &[Step]) -> Result<(), TestCaseError> {
    if let Some(key) = top_key(path) {
        prop_assert!(
            error.contains(key),
            "error {error:?} does not name {key:?} (changed {path:?})"
        );
    }
    Ok(())
}

/// Every config error carries a field path or a line.
fn config_errors_are_located(e: &ConfigError) -> Result<(), TestCaseError> {
    let ConfigError::Invalid(errors) = e else {
        return Err(TestCaseError::fail(format!("not a validation error: {e}")));
    };
    prop_assert!(!errors.is_empty());
    for fe in errors {
        prop_assert!(
            !fe.path.is_empty() || fe.message.starts_with("line "),
            "error without a location: {fe}"
        );
    }
    Ok(())
}

/// Parses a config; when it is valid, decides for every target on sample
/// observations (a config that validates must never make decide panic).
fn check_config(yaml: &str) -> Result<(), TestCaseError> {
    match Config::from_yaml(yaml) {
        Ok(c) => {
            for target in &c.targets {
                for (_, obs) in observation_samples() {
                    let obs: Observations = serde_json::from_value(obs).unwrap();
                    decide(target, &TargetState::default(), &obs, now());
                }
            }
            Ok(())
        }
        Err(e) => config_errors_are_located(&e),
    }
}

fn parse_observations(text: &str) -> Result<Observations, String> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| format!("{}: {}", e.path(), e.inner()))
}

/// Parses observations and state; decides on whatever parses.
fn check_decide(target: &str, obs: &str, state: &str) -> Result<Option<String>, TestCaseError> {
    let config = config();
    let target = config.target(target).unwrap();
    let obs = match parse_observations(obs) {
        Ok(o) => o,
        Err(e) => return Ok(Some(e)),
    };
    let state = match TargetState::from_json(state) {
        Ok(s) => s,
        Err(e) => return Ok(Some(e)),
    };
    decide(target, &state, &obs, now());
    Ok(None)
}

fn check_event(text: &str) -> Option<String> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Some(e.to_string()),
    };
    let mut errors = Vec::new();
    if let Err(e) = EvaluateEvent::from_value(value.clone()) {
        errors.push(e.to_string());
    }
    if let Err(e) = parse_prewarm(value.clone()) {
        errors.push(e.to_string());
    }
    if let Err(e) = parse_schedule(value.clone()) {
        errors.push(e.to_string());
    }
    if let Err(e) = parse_control_message(text) {
        errors.push(e);
    }
    (errors.len() == 4).then(|| errors.join("\n"))
}

fn config_value() -> Value {
    serde_norway::from_str(EXAMPLE_CONFIG).unwrap()
}

proptest! {
    #[test]
    fn fuzz_config_structure(m in mutation()) {
        let mut doc = config_value();
        apply(&mut doc, &m);
        let yaml = serde_norway::to_string(&doc).unwrap();
        check_config(&yaml)?;
    }

    #[test]
    fn fuzz_config_text(e in edits(), doc in any_json()) {
        check_config(&edit_text(EXAMPLE_CONFIG, &e))?;
        check_config(&serde_norway::to_string(&doc).unwrap())?;
    }

    #[test]
    fn fuzz_observations_and_state_structure(
        which in 0usize..2,
        m in mutation(),
        mutate_state in any::<bool>(),
    ) {
        let (target, obs) = observation_samples().swap_remove(which);
        let (_, state) = state_samples().swap_remove(which);
        let (mut obs, mut state) = (obs, state);
        let changed = apply(if mutate_state { &mut state } else { &mut obs }, &m);
        if let Some(error) = check_decide(target, &obs.to_string(), &state.to_string())? {
            names_path(&error, &changed)?;
        }
    }

    /// Every stored time is outside data: one of a state's (and the
    /// observations') timestamps moved to the ends of jiff's range, to an
    /// in-range extreme, or anywhere in range; `decide` must decide.
    #[test]
    fn fuzz_timestamps_at_the_ends_of_time(
        which in 0usize..2,
        pick in any::<Index>(),
        in_state in any::<bool>(),
        when in prop_oneof![
            Just(Timestamp::MIN),
            Just(Timestamp::MAX),
            Just(Timestamp::MIN + jiff::SignedDuration::from_secs(1)),
            Just(Timestamp::MAX - jiff::SignedDuration::from_hours(1)),
            (Timestamp::MIN.as_second()..Timestamp::MAX.as_second())
                .prop_map(|s| Timestamp::from_second(s).unwrap()),
        ],
    ) {
        let (target, obs) = observation_samples().swap_remove(which);
        let (_, state) = state_samples().swap_remove(which);
        let (mut obs, mut state) = (obs, state);
        let doc = if in_state { &mut state } else { &mut obs };
        let mut all = Vec::new();
        paths(doc, &mut Vec::new(), &mut all);
        let times: Vec<Vec<Step>> = all
            .into_iter()
            .filter(|p| {
                let mut v = doc.clone();
                at(&mut v, p).as_str().is_some_and(|s| s.parse::<Timestamp>().is_ok())
            })
            .collect();
        prop_assume!(!times.is_empty());
        let path = pick.get(&times);
        *at(doc, path) = Value::String(when.to_string());
        check_decide(target, &obs.to_string(), &state.to_string())?;
    }

    #[test]
    fn fuzz_observations_and_state_text(which in 0usize..2, e in edits(), doc in any_json()) {
        let (target, obs) = observation_samples().swap_remove(which);
        let (_, state) = state_samples().swap_remove(which);
        check_decide(target, &edit_text(&obs.to_string(), &e), &state.to_string())?;
        check_decide(target, &obs.to_string(), &edit_text(&state.to_string(), &e))?;
        check_decide(target, &doc.to_string(), &doc.to_string())?;
    }

    #[test]
    fn fuzz_outbox(m in mutation(), e in edits()) {
        let mut doc = outbox_sample();
        let changed = apply(&mut doc, &m);
        if let Err(error) = outbox::from_json(&doc.to_string()) {
            prop_assert!(error.starts_with("outbox is not valid: "), "{error}");
            let _ = changed;
        }
        let _ = outbox::from_json(&edit_text(&outbox_sample().to_string(), &e));
    }

    #[test]
    fn fuzz_lambda_events(which in 0usize..5, m in mutation(), e in edits(), doc in any_json()) {
        let sample: Value = serde_json::from_str(EVENTS[which]).unwrap();
        let mut mutated = sample.clone();
        let changed = apply(&mut mutated, &m);
        // The event's own parser must name what changed, if it now fails.
        let own = match which {
            0 => parse_schedule(mutated.clone()).err().map(|e| e.to_string()),
            1..=3 => {
                // Removing `Records` turns a batch into a (bad) alarm event.
                let records = top_key(&changed) == Some("Records");
                EvaluateEvent::from_value(mutated.clone())
                    .err()
                    .filter(|_| !records)
                    .map(|e| e.to_string())
            }
            _ => parse_prewarm(mutated.clone()).err().map(|e| e.to_string()),
        };
        if let Some(error) = own {
            names_path(&error, &changed)?;
        }
        check_event(&mutated.to_string());
        check_event(&edit_text(EVENTS[which], &e));
        check_event(&doc.to_string());
        // Control messages, as bodies of a batch.
        let body = serde_json::json!({ "target": "orders", "reason": "manual" });
        let mut body_doc = body.clone();
        let changed = apply(&mut body_doc, &m);
        if let Err(error) = parse_control_message(&body_doc.to_string()) {
            names_path(&error, &changed)?;
        }
    }
}

/// The samples themselves parse: the mutations start from valid input.
#[test]
fn samples_are_valid() {
    config();
    for (target, obs) in observation_samples() {
        let (_, state) = state_samples()
            .into_iter()
            .find(|(t, _)| *t == target)
            .unwrap();
        assert_eq!(
            check_decide(target, &obs.to_string(), &state.to_string()).unwrap(),
            None
        );
    }
    outbox::from_json(&outbox_sample().to_string()).unwrap();
    for text in EVENTS {
        assert_eq!(check_event(text), None, "{text}");
    }
    let parsed: BTreeMap<String, Value> = serde_json::from_str(EVENTS[4]).unwrap();
    assert_eq!(parsed["target"], "orders");
}
