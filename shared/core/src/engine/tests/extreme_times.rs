//! Stored state comes from outside the process (DynamoDB, `--state`, an
//! operator's hand): every timestamp in it may be anywhere in jiff's range.
//! `decide` must give a decision for each, never panic (issue 28's repro
//! states are the first two cases).

use super::*;
use crate::config::{ForecastConfig, ForecastMode};

/// A target using every rule that reads a stored time: windows, cooldowns,
/// rate limits, a schedule, the forecast, the keep-up estimate.
fn busy_target() -> TargetConfig {
    let mut p = PolicyConfig::with_target(0, 50, 10.0);
    p.forecast = ForecastConfig {
        mode: ForecastMode::ForecastAndScale,
        ..ForecastConfig::default()
    };
    let mut tg = target(p, vec![sqs_signal("q")]);
    tg.schedules.push(ScheduleConfig {
        name: "morning".into(),
        cron: "0 8 * * *".parse().unwrap(),
        timezone: "Europe/Paris".parse().unwrap(),
        duration: HumanDuration::secs(3600),
        min: 2,
        lead: Some(HumanDuration::secs(600)),
    });
    tg
}

/// A state with every time-bearing field filled, from ticks of real decisions.
fn lived_state(tg: &TargetConfig) -> (TargetState, Timestamp) {
    let mut state = TargetState::default();
    state.register_event(crate::engine::RegisteredEvent {
        name: "launch".into(),
        start: t(3_600),
        end: t(7_200),
        min: 3,
    });
    let mut desired = 1;
    let mut now = t(0);
    for tick in 0..40 {
        now = t(tick * 60);
        let depth = visible(((tick * 37) % 200) as u64);
        let d = decide(tg, &state, &sqs_obs(desired, now, depth), now);
        desired = d.desired;
        state = d.next_state;
    }
    (state, now)
}

/// Every string in `v` that is a timestamp, by JSON pointer.
fn timestamp_paths(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) if s.parse::<Timestamp>().is_ok() => out.push(at),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                timestamp_paths(item, format!("{at}/{i}"), out);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, item) in map {
                let k = k.replace('~', "~0").replace('/', "~1");
                timestamp_paths(item, format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn issue_28_repro_states_give_a_decision() {
    let tg = target(
        PolicyConfig::with_target(0, 50, 10.0),
        vec![sqs_signal("q")],
    );
    let now: Timestamp = "2026-12-03T00:00:00Z".parse().unwrap();
    for json in [
        r#"{"schema_version":1,"events":[{"name":"x","start":"-009999-01-02T01:59:59Z","end":"2030-01-01T00:00:00Z","min":1}]}"#,
        r#"{"schema_version":1,"actions":[{"at":"9999-12-30T22:00:00Z","from":1,"to":2}]}"#,
    ] {
        let state: TargetState = serde_json::from_str(json).unwrap();
        let d = decide(&tg, &state, &sqs_obs(1, now, visible(100)), now);
        assert!(d.desired <= 50, "{json}: {d:?}");
    }
}

#[test]
fn every_stored_timestamp_at_the_ends_of_time_gives_a_decision() {
    let tg = busy_target();
    let (state, last) = lived_state(&tg);
    let now = last + jiff::SignedDuration::from_secs(60);
    let value = serde_json::to_value(&state).unwrap();
    let mut paths = Vec::new();
    timestamp_paths(&value, String::new(), &mut paths);
    // Actions, recommendations, samples, the event, the history...
    assert!(
        paths.len() >= 10,
        "only {} stored times: {paths:?}",
        paths.len()
    );
    let extremes = [
        Timestamp::MIN,
        Timestamp::MAX,
        Timestamp::MIN + jiff::SignedDuration::from_secs(1),
        Timestamp::MAX - jiff::SignedDuration::from_hours(2),
        Timestamp::UNIX_EPOCH,
        now + jiff::SignedDuration::from_hours(24 * 400),
    ];
    for path in &paths {
        for extreme in extremes {
            let mut v = value.clone();
            *v.pointer_mut(path).unwrap() = serde_json::Value::String(extreme.to_string());
            // A state the loader refuses is fine too; one it accepts must decide.
            let Ok(state) = serde_json::from_value::<TargetState>(v) else {
                continue;
            };
            let d = std::panic::catch_unwind(|| {
                decide(&tg, &state, &sqs_obs(3, now, visible(120)), now)
            });
            assert!(d.is_ok(), "decide panicked with {path} = {extreme}");
        }
    }
}
