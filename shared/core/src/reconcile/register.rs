//! Registering known events: EventBridge Scheduler payloads (the prewarm
//! Lambda) and `qscale events add` put a floor in a target's state ahead
//! of time, through the [`StateStore`] port. Idempotent: the same payload
//! again changes nothing.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::ports::{PortError, SaveError, StateStore};
use crate::config::{Config, WARM_QUALIFIER_REASON};
use crate::engine::{RegisteredEvent, TargetState};

/// Conditional-save attempts before giving up on a state that keeps changing.
const ATTEMPTS: usize = 5;

/// Bounds of a registration, so an event from outside (a Scheduler payload,
/// an operator) can neither grow the state without limit nor carry a time
/// no decision should see.
pub mod limits {
    use jiff::SignedDuration;

    /// How far in the past an event may start (a late Scheduler delivery).
    pub const MAX_START_AGE: SignedDuration = SignedDuration::from_hours(24);
    /// How far ahead an event may end.
    pub const MAX_END_AHEAD: SignedDuration = SignedDuration::from_hours(400 * 24);
    /// The longest event.
    pub const MAX_WINDOW: SignedDuration = SignedDuration::from_hours(366 * 24);
    /// The longest event name, in characters.
    pub const MAX_NAME_CHARS: usize = 128;
    /// Registered events one target may hold.
    pub const MAX_EVENTS: usize = 100;
}

/// An event to register (the Scheduler payload).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrewarmPayload {
    /// Target name.
    pub target: String,
    /// Event start.
    pub start: Timestamp,
    /// Event end.
    pub end: Timestamp,
    /// Floor during the event.
    pub min: u32,
    /// Name (default: derived from the start, so a replay replaces, not adds).
    #[serde(default)]
    pub name: Option<String>,
}

/// What registering did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrewarmResult {
    /// The event as stored.
    pub event: RegisteredEvent,
    /// State version after the write (unchanged when already registered).
    pub version: u64,
    /// Whether the state changed.
    pub changed: bool,
}

/// Why an event was not registered.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The payload does not fit the config (named field and value).
    #[error("{0}")]
    Invalid(String),
    /// The state store failed.
    #[error("{0}")]
    Port(#[from] PortError),
}

impl PrewarmPayload {
    /// The event this payload registers, without checking it against a config.
    pub fn event(&self) -> RegisteredEvent {
        RegisteredEvent {
            name: self
                .name
                .clone()
                .unwrap_or_else(|| format!("event-{}", self.start)),
            start: self.start,
            end: self.end,
            min: self.min,
        }
    }

    /// The event, within the [`limits`] at `now`: an end after the start, a
    /// start at most a day past, an end at most 400 days ahead, a window of
    /// at most 366 days, a name of 1 to 128 characters.
    pub fn bounded_event(&self, now: Timestamp) -> Result<RegisteredEvent, RegisterError> {
        let invalid = |m: String| Err(RegisterError::Invalid(m));
        if self.end <= self.start {
            return invalid(format!(
                "end {} must be after start {}",
                self.end, self.start
            ));
        }
        if now.duration_since(self.start) > limits::MAX_START_AGE {
            return invalid(format!(
                "start {} is more than {}h before now ({now})",
                self.start,
                limits::MAX_START_AGE.as_hours()
            ));
        }
        if self.end.duration_since(now) > limits::MAX_END_AHEAD {
            return invalid(format!(
                "end {} is more than {} days after now ({now})",
                self.end,
                limits::MAX_END_AHEAD.as_hours() / 24
            ));
        }
        if self.end.duration_since(self.start) > limits::MAX_WINDOW {
            return invalid(format!(
                "the window from start {} to end {} is longer than {} days",
                self.start,
                self.end,
                limits::MAX_WINDOW.as_hours() / 24
            ));
        }
        let event = self.event();
        let chars = event.name.chars().count();
        if event.name.trim().is_empty() || chars > limits::MAX_NAME_CHARS {
            return invalid(format!(
                "name of {chars} characters: must be 1 to {}",
                limits::MAX_NAME_CHARS
            ));
        }
        Ok(event)
    }

    /// The event, within the [`limits`] at `now` and checked against the
    /// config: a known target, a floor within `max`, a Lambda worker that
    /// can be kept warm.
    pub fn checked_event(
        &self,
        config: &Config,
        now: Timestamp,
    ) -> Result<RegisteredEvent, RegisterError> {
        let invalid = |m: String| Err(RegisterError::Invalid(m));
        let Some(target) = config.target(&self.target) else {
            return invalid(format!("target {:?} is not in the config", self.target));
        };
        let event = self.bounded_event(now)?;
        if self.min > target.policy.max {
            return invalid(format!(
                "min {} is above policy.max {} of {}: a floor never exceeds max",
                self.min, target.policy.max, target.name
            ));
        }
        if target.worker.lacks_warm_qualifier() {
            return invalid(format!(
                "{}: worker.lambda_concurrency.qualifier is not set: {WARM_QUALIFIER_REASON}",
                target.name
            ));
        }
        Ok(event)
    }
}

/// Registers (or replaces, by name) an event in a target's state, retrying
/// when a reconcile writes in between. A new name on a target holding
/// [`limits::MAX_EVENTS`] already is refused.
pub async fn register<S: StateStore>(
    store: &S,
    target: &str,
    event: RegisteredEvent,
) -> Result<PrewarmResult, RegisterError> {
    let (version, changed) = update_state(store, target, |state| {
        if state.events.contains(&event) {
            return Ok(false);
        }
        let replaces = state.events.iter().any(|e| e.name == event.name);
        if !replaces && state.events.len() >= limits::MAX_EVENTS {
            return Err(RegisterError::Invalid(format!(
                "target {target} holds {} registered events already, the most it may: \
                 replace one by name or wait for one to end",
                state.events.len()
            )));
        }
        state.register_event(event.clone());
        Ok(true)
    })
    .await?;
    Ok(PrewarmResult {
        event,
        version,
        changed,
    })
}

/// Applies `change` to a target's stored state from outside a reconcile
/// (an event, a pause), saving it when `change` says it changed something,
/// with the conditional write reconciles claim with: when another writer
/// came between, it reads again. Returns the version after, and whether it
/// saved.
pub(crate) async fn update_state<S: StateStore>(
    store: &S,
    target: &str,
    mut change: impl FnMut(&mut TargetState) -> Result<bool, RegisterError>,
) -> Result<(u64, bool), RegisterError> {
    for _ in 0..ATTEMPTS {
        let mut v = store.load(target).await?;
        if !change(&mut v.state)? {
            return Ok((v.version, false));
        }
        super::item_budget::guard(target, &mut v.state, &v.outbox);
        match store.save(target, &v.state, &v.outbox, v.version).await {
            Ok(version) => return Ok((version, true)),
            Err(SaveError::Conflict { .. }) => continue,
            Err(SaveError::Store(e)) => return Err(e.into()),
        }
    }
    Err(PortError::new(
        format!("state of {target}"),
        format!("kept changing during {ATTEMPTS} attempts"),
    )
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::memory::{block_on_ready, MemoryStateStore};

    fn payload() -> PrewarmPayload {
        PrewarmPayload {
            target: "t".into(),
            start: "2030-01-01T09:00:00Z".parse().unwrap(),
            end: "2030-01-01T10:00:00Z".parse().unwrap(),
            min: 5,
            name: None,
        }
    }

    #[test]
    fn a_registration_is_stored_once_and_a_replay_changes_nothing() {
        let store = MemoryStateStore::default();
        let event = payload().event();
        assert_eq!(event.name, "event-2030-01-01T09:00:00Z");
        let first = block_on_ready(register(&store, "t", event.clone())).unwrap();
        assert!(first.changed);
        let again = block_on_ready(register(&store, "t", event.clone())).unwrap();
        assert!(!again.changed);
        assert_eq!(again.version, first.version);
        assert_eq!(store.get("t").unwrap().state.events, vec![event]);
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn an_event_outside_the_limits_is_refused_naming_the_value() {
        let now = at("2029-12-31T00:00:00Z");
        assert!(payload().bounded_event(now).is_ok());
        let refused = |p: PrewarmPayload| p.bounded_event(now).unwrap_err().to_string();
        // Issue 28's repro: a start at jiff's minimum.
        let mut p = payload();
        p.start = Timestamp::MIN;
        assert_eq!(
            refused(p),
            "start -009999-01-02T01:59:59Z is more than 24h before now (2029-12-31T00:00:00Z)"
        );
        let mut p = payload();
        p.end = at("2031-03-01T00:00:00Z");
        assert!(refused(p).starts_with("end 2031-03-01T00:00:00Z is more than 400 days after now"));
        let mut p = payload();
        p.start = at("2029-12-30T12:00:00Z");
        p.end = at("2031-01-01T00:00:00Z");
        assert!(refused(p).contains("is longer than 366 days"));
        let mut p = payload();
        p.name = Some("x".repeat(129));
        assert_eq!(refused(p), "name of 129 characters: must be 1 to 128");
        let mut p = payload();
        p.name = Some(" ".into());
        assert!(refused(p).starts_with("name of 1 characters"));
        // A late delivery (an hour past the start) is still taken.
        assert!(payload().bounded_event(at("2030-01-01T10:00:00Z")).is_ok());
    }

    #[test]
    fn a_target_holds_at_most_a_hundred_events_but_may_replace_one() {
        let store = MemoryStateStore::default();
        let event = |i: usize| RegisteredEvent {
            name: format!("e{i}"),
            ..payload().event()
        };
        for i in 0..limits::MAX_EVENTS {
            block_on_ready(register(&store, "t", event(i))).unwrap();
        }
        let e = block_on_ready(register(&store, "t", event(100))).unwrap_err();
        assert!(
            e.to_string()
                .contains("holds 100 registered events already"),
            "{e}"
        );
        // Replacing one by name is still possible.
        let replaced = RegisteredEvent { min: 7, ..event(3) };
        assert!(
            block_on_ready(register(&store, "t", replaced))
                .unwrap()
                .changed
        );
        assert_eq!(store.get("t").unwrap().state.events.len(), 100);
    }
}
