//! `qscale status`: every configured target's standing at a glance, read
//! from the state store alone (no fleet or queue is called): the counts of
//! the last claimed tick and its binding terms, a pause or manual hold in
//! force, registered events ahead, the forecast's period, what last failed.

use jiff::Timestamp;
use serde::Serialize;

use super::ports::StateStore;
use crate::config::Config;
use crate::engine::{LastReconcile, ManualHold, Pause, RegisteredEvent, TargetState};

/// One target's standing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetStatus {
    /// Target name.
    pub target: String,
    /// The state's version (0: never reconciled).
    pub version: u64,
    /// The last claimed tick, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<LastReconcile>,
    /// The pause in force.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused: Option<Pause>,
    /// The manual count held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manual_hold: Option<ManualHold>,
    /// Registered events not over yet, soonest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events_ahead: Vec<RegisteredEvent>,
    /// The forecast's period in use, minutes (per signal for a pool).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub forecast_periods: Vec<(String, u32)>,
    /// Signals failing now: name and failures in a row.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failing_signals: Vec<(String, u32)>,
    /// The state could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_error: Option<String>,
}

impl TargetStatus {
    /// The standing a stored state shows at `now`.
    pub fn of(target: &str, state: &TargetState, version: u64, now: Timestamp) -> TargetStatus {
        let mut forecast_periods: Vec<(String, u32)> = state
            .signal_forecast_periods
            .iter()
            .map(|(signal, period)| (signal.clone(), *period))
            .collect();
        if let Some(period) = state.forecast_period {
            forecast_periods.insert(0, ("load".to_string(), period));
        }
        TargetStatus {
            target: target.to_string(),
            version,
            last: state.last_reconcile.clone(),
            paused: state.pause.clone().filter(|p| p.active(now)),
            manual_hold: state.manual_hold.filter(|h| now < h.until),
            events_ahead: state
                .events
                .iter()
                .filter(|e| e.end > now)
                .cloned()
                .collect(),
            forecast_periods,
            failing_signals: state
                .signal_health
                .iter()
                .filter(|(_, h)| h.consecutive_failures > 0)
                .map(|(signal, h)| (signal.clone(), h.consecutive_failures))
                .collect(),
            state_error: None,
        }
    }
}

/// Every configured target's standing, in the config's order. A state that
/// cannot be read is that target's error; the others are still shown.
pub async fn status<S: StateStore>(
    config: &Config,
    store: &S,
    now: Timestamp,
) -> Vec<TargetStatus> {
    let mut rows = Vec::with_capacity(config.targets.len());
    for target in &config.targets {
        rows.push(match store.load(&target.name).await {
            Ok(v) => TargetStatus::of(&target.name, &v.state, v.version, now),
            Err(e) => TargetStatus {
                state_error: Some(e.to_string()),
                ..TargetStatus::of(&target.name, &TargetState::default(), 0, now)
            },
        });
    }
    rows
}

/// The standing as a table for people, one line per target.
pub fn table(rows: &[TargetStatus], now: Timestamp) -> String {
    let header = [
        "TARGET",
        "COUNT",
        "LAST",
        "BOUND BY",
        "HELD",
        "EVENTS AHEAD",
        "PERIOD",
        "ERROR",
    ];
    let lines: Vec<[String; 8]> = rows.iter().map(|r| cells(r, now)).collect();
    let mut widths = header.map(str::len);
    for line in &lines {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let render = |cells: &[String]| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = render(&header.map(String::from));
    for line in &lines {
        out.push_str(&render(line));
    }
    out
}

fn cells(r: &TargetStatus, now: Timestamp) -> [String; 8] {
    let dash = || "-".to_string();
    let (count, last, bound) = match &r.last {
        Some(l) => (
            format!("{} -> {} ({} running)", l.previous, l.desired, l.running),
            format!("{} ago, {}", age(l.at, now), l.outcome),
            if l.bounded_by.is_empty() {
                dash()
            } else {
                l.bounded_by.join(", ")
            },
        ),
        None => (dash(), "never".to_string(), dash()),
    };
    let mut held = Vec::new();
    if let Some(p) = &r.paused {
        let why = p
            .reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        held.push(format!(
            "paused {} until {}{why}",
            p.scope.names(),
            to_second(p.until)
        ));
    }
    if let Some(h) = &r.manual_hold {
        held.push(format!("manual {} until {}", h.to, to_second(h.until)));
    }
    let events = match r.events_ahead.first() {
        Some(e) => {
            let more = r.events_ahead.len() - 1;
            let more = if more > 0 {
                format!(" (+{more})")
            } else {
                String::new()
            };
            format!(
                "{}: min {} from {}{more}",
                e.name,
                e.min,
                to_second(e.start)
            )
        }
        None => dash(),
    };
    let period = if r.forecast_periods.is_empty() {
        dash()
    } else {
        r.forecast_periods
            .iter()
            .map(|(name, minutes)| format!("{name} {minutes} min"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut errors = Vec::new();
    if let Some(e) = &r.state_error {
        errors.push(format!("state: {e}"));
    }
    for (signal, failures) in &r.failing_signals {
        errors.push(format!("{signal}: {failures} failures in a row"));
    }
    if let Some(e) = r.last.as_ref().and_then(|l| l.error.as_ref()) {
        errors.push(e.clone());
    }
    [
        r.target.clone(),
        count,
        last,
        bound,
        if held.is_empty() {
            dash()
        } else {
            held.join("; ")
        },
        events,
        period,
        if errors.is_empty() {
            dash()
        } else {
            errors.join("; ")
        },
    ]
}

/// A time to the second, for a table's width.
fn to_second(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

/// `45 s`, `12 min`, `3 h`, `2 d`; a time ahead of `now` (a skewed clock) is `0 s`.
fn age(at: Timestamp, now: Timestamp) -> String {
    let secs = now.as_second().saturating_sub(at.as_second()).max(0);
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7_200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3_600),
        s => format!("{} d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::PauseScope;
    use jiff::SignedDuration;

    fn now() -> Timestamp {
        "2026-12-04T12:00:00Z".parse().unwrap()
    }

    fn standing() -> TargetState {
        let at = now() - SignedDuration::from_mins(3);
        TargetState {
            last_reconcile: Some(LastReconcile {
                at,
                previous: 8,
                running: 8,
                desired: 20,
                bounded_by: vec!["manual_override".into()],
                outcome: "unchanged".into(),
                error: None,
            }),
            manual_hold: Some(ManualHold {
                from: 8,
                to: 20,
                since: at,
                until: now() + SignedDuration::from_mins(27),
            }),
            pause: Some(Pause {
                scope: PauseScope {
                    scale_in: true,
                    ..PauseScope::default()
                },
                since: at,
                // Shown to the second.
                until: now() + SignedDuration::from_mins(60) + SignedDuration::from_millis(250),
                reason: Some("producers down".into()),
                resumed: false,
                noticed: true,
            }),
            events: vec![
                RegisteredEvent {
                    name: "past".into(),
                    start: now() - SignedDuration::from_hours(3),
                    end: now() - SignedDuration::from_hours(2),
                    min: 4,
                },
                RegisteredEvent {
                    name: "sale".into(),
                    start: now() + SignedDuration::from_hours(2),
                    end: now() + SignedDuration::from_hours(3),
                    min: 30,
                },
            ],
            forecast_period: Some(1440),
            ..TargetState::default()
        }
    }

    #[test]
    fn a_row_shows_counts_terms_holds_events_ahead_and_period() {
        let row = TargetStatus::of("orders", &standing(), 7, now());
        let out = table(&[row], now());
        let line = out.lines().nth(1).unwrap();
        for part in [
            "orders",
            "8 -> 20 (8 running)",
            "3 min ago, unchanged",
            "manual_override",
            "paused in until 2026-12-04T13:00:00Z (producers down)",
            "manual 20 until 2026-12-04T12:27:00Z",
            "sale: min 30 from 2026-12-04T14:00:00Z",
            "load 1440 min",
        ] {
            assert!(line.contains(part), "{part:?} in {line}");
        }
        assert!(!line.contains("past"), "an event over is not ahead: {line}");
    }

    #[test]
    fn expired_holds_are_not_shown_and_a_never_reconciled_target_says_so() {
        let later = now() + SignedDuration::from_hours(4);
        let row = TargetStatus::of("orders", &standing(), 7, later);
        assert_eq!(row.paused, None);
        assert_eq!(row.manual_hold, None);
        assert!(row.events_ahead.is_empty());
        let fresh = TargetStatus::of("new", &TargetState::default(), 0, now());
        let out = table(&[fresh], now());
        assert!(out.lines().nth(1).unwrap().contains("never"), "{out}");
    }

    #[test]
    fn an_unreadable_state_is_that_targets_error() {
        let row = TargetStatus {
            state_error: Some("state is not valid: actions: invalid type".into()),
            ..TargetStatus::of("broken", &TargetState::default(), 0, now())
        };
        let out = table(&[row], now());
        assert!(out.contains("state: state is not valid: actions"), "{out}");
    }

    #[test]
    fn outcome_names_are_their_json_names() {
        use crate::reconcile::Outcome;
        for o in [
            Outcome::Applied,
            Outcome::Unchanged,
            Outcome::DryRun,
            Outcome::Refused,
            Outcome::Failed,
            Outcome::Yielded,
            Outcome::Interrupted,
        ] {
            assert_eq!(serde_json::to_value(o).unwrap(), o.name());
        }
    }

    #[test]
    fn ages_read_in_the_unit_that_fits() {
        let at = now();
        assert_eq!(age(at - SignedDuration::from_secs(45), at), "45 s");
        assert_eq!(age(at - SignedDuration::from_mins(12), at), "12 min");
        assert_eq!(age(at - SignedDuration::from_hours(3), at), "3 h");
        assert_eq!(age(at - SignedDuration::from_hours(49), at), "2 d");
        assert_eq!(age(at + SignedDuration::from_secs(30), at), "0 s");
    }
}
