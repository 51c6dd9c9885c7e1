//! The dashboard and self-alarms in `template.yaml` read metrics qscale
//! actually publishes: every metric and dimension they name is in the EMF
//! lines `tick` prints, and every graph says its unit. (`sam validate --lint`
//! and cfn-lint check the CloudFormation side in `scripts/test.sh`.)

use std::collections::BTreeSet;
use std::time::Duration;

use qscale_core::reconcile::{Outcome, ReconcileReport};
use qscale_live::run::{MetricsMode, RunSummary, TargetRun};
use serde_norway::Value;

fn template() -> Value {
    let text = include_str!("../template.yaml");
    serde_norway::from_str(text).unwrap()
}

fn resource<'a>(t: &'a Value, name: &str) -> &'a Value {
    &t["Resources"][name]["Properties"]
}

/// The dashboard body with `${...}` references replaced by placeholders.
fn dashboard() -> serde_json::Value {
    let t = template();
    let Value::Tagged(sub) = &resource(&t, "Dashboard")["DashboardBody"] else {
        panic!("DashboardBody is not a !Sub");
    };
    let mut body = sub.value.as_str().unwrap().to_string();
    while let Some(start) = body.find("${") {
        let end = start + body[start..].find('}').unwrap();
        body.replace_range(start..=end, "placeholder");
    }
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("dashboard JSON: {e}\n{body}"))
}

fn summary() -> RunSummary {
    RunSummary {
        reports: vec![TargetRun {
            report: ReconcileReport {
                target: "orders".into(),
                outcome: Outcome::Applied,
                decision: None,
                error: None,
                unrecorded_deliveries: Vec::new(),
            },
            elapsed: Duration::from_millis(3),
        }],
        api_calls: Default::default(),
        elapsed: Duration::from_millis(3),
        audit_down: Default::default(),
    }
}

/// (metric, dimension set) pairs one EMF line publishes in namespace qscale.
fn published_in(mode: MetricsMode) -> BTreeSet<(String, Vec<String>)> {
    let lines = summary().emf_lines(jiff::Timestamp::now(), mode);
    let line: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    let mut out = BTreeSet::new();
    for directive in line["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
        assert_eq!(directive["Namespace"], "qscale");
        for dims in directive["Dimensions"].as_array().unwrap() {
            let dims: Vec<String> = dims
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().unwrap().to_string())
                .collect();
            for m in directive["Metrics"].as_array().unwrap() {
                let name = m["Name"].as_str().unwrap();
                assert!(
                    line.get(name).is_some(),
                    "EMF line lacks the value of {name}"
                );
                out.insert((name.to_string(), dims.clone()));
            }
            for d in &dims {
                assert!(line.get(d).is_some(), "EMF line lacks dimension {d}");
            }
        }
    }
    out
}

fn published() -> BTreeSet<(String, Vec<String>)> {
    published_in(MetricsMode::PerTarget)
}

#[test]
fn fewer_metrics_on_request_keep_what_the_alarms_read() {
    let all = published_in(MetricsMode::AllTargets);
    assert!(
        all.iter()
            .all(|(_, dims)| !dims.contains(&"Target".to_string())),
        "{all:?}"
    );
    assert_eq!(
        all.len(),
        8,
        "7 over all targets (Paused among them) + Decisions by outcome: {all:?}"
    );
    assert!(all.contains(&("Errors".to_string(), vec![])));
    assert!(summary()
        .emf_lines(jiff::Timestamp::now(), MetricsMode::Off)
        .is_empty());
}

#[test]
fn every_dashboard_graph_reads_a_published_metric_and_has_units() {
    let published = published();
    let widgets = dashboard()["widgets"].as_array().unwrap().clone();
    assert!(widgets.len() >= 6, "{widgets:?}");
    let mut queried = 0;
    for w in &widgets {
        let p = &w["properties"];
        let title = p["title"].as_str().unwrap();
        assert!(
            p["yAxis"]["left"]["label"]
                .as_str()
                .is_some_and(|l| !l.is_empty()),
            "{title}: the y axis has no unit label"
        );
        for row in p["metrics"].as_array().unwrap() {
            let row = row.as_array().unwrap();
            if let Some(q) = row[0].get("expression").and_then(|e| e.as_str()) {
                // SELECT AGG(Metric) FROM SCHEMA(qscale, Dim) GROUP BY Dim
                let metric = q.split_once('(').unwrap().1.split_once(')').unwrap().0;
                let schema = q
                    .split_once("SCHEMA(")
                    .unwrap()
                    .1
                    .split_once(')')
                    .unwrap()
                    .0;
                let dims: Vec<String> = schema
                    .split(',')
                    .skip(1)
                    .map(|d| d.trim().to_string())
                    .collect();
                assert!(schema.starts_with("qscale"), "{title}: {q}");
                assert!(
                    published.contains(&(metric.to_string(), dims.clone())),
                    "{title}: {metric} by {dims:?} is not published ({published:?})"
                );
                queried += 1;
            } else if row[0] == "qscale" {
                let metric = row[1].as_str().unwrap();
                assert!(
                    published.contains(&(metric.to_string(), vec![])),
                    "{title}: {metric}"
                );
            }
        }
    }
    assert!(queried >= 5);
}

#[test]
fn the_failing_targets_alarm_reads_the_all_targets_errors_metric() {
    let t = template();
    let alarm = resource(&t, "TargetsFailingAlarm");
    assert_eq!(alarm["Namespace"].as_str(), Some("qscale"));
    assert!(alarm.get("Dimensions").is_none());
    let metric = alarm["MetricName"].as_str().unwrap().to_string();
    assert!(published().contains(&(metric, vec![])));
    // Every alarm notifies the optional topic.
    let resources = t["Resources"].as_mapping().unwrap();
    let alarms: Vec<_> = resources
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::CloudWatch::Alarm"))
        .collect();
    assert!(alarms.len() >= 7, "{}", alarms.len());
    for (name, r) in alarms {
        assert!(
            r["Properties"].get("AlarmActions").is_some(),
            "{name:?} notifies nobody"
        );
    }
}
