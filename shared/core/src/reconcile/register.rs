//! Registering known events: EventBridge Scheduler payloads (the prewarm
//! Lambda) and `qscale events add` put a floor in a target's state ahead
//! of time, through the [`StateStore`] port. Idempotent: the same payload
//! again changes nothing.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::ports::{PortError, SaveError, StateStore};
use crate::config::{Config, WARM_QUALIFIER_REASON};
use crate::engine::RegisteredEvent;

/// Conditional-save attempts before giving up on a state that keeps changing.
const ATTEMPTS: usize = 5;

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

    /// The event, checked against the config: a known target, an end after
    /// the start, a floor within `max`, a Lambda worker that can be kept warm.
    pub fn checked_event(&self, config: &Config) -> Result<RegisteredEvent, RegisterError> {
        let invalid = |m: String| Err(RegisterError::Invalid(m));
        let Some(target) = config.target(&self.target) else {
            return invalid(format!("target {:?} is not in the config", self.target));
        };
        if self.end <= self.start {
            return invalid(format!(
                "end {} must be after start {}",
                self.end, self.start
            ));
        }
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
        Ok(self.event())
    }
}

/// Registers (or replaces, by name) an event in a target's state, retrying
/// when a reconcile writes in between.
pub async fn register<S: StateStore>(
    store: &S,
    target: &str,
    event: RegisteredEvent,
) -> Result<PrewarmResult, PortError> {
    for _ in 0..ATTEMPTS {
        let mut v = store.load(target).await?;
        if v.state.events.contains(&event) {
            return Ok(PrewarmResult {
                event,
                version: v.version,
                changed: false,
            });
        }
        v.state.register_event(event.clone());
        match store.save(target, &v.state, &v.outbox, v.version).await {
            Ok(version) => {
                return Ok(PrewarmResult {
                    event,
                    version,
                    changed: true,
                })
            }
            Err(SaveError::Conflict { .. }) => continue,
            Err(SaveError::Store(e)) => return Err(e),
        }
    }
    Err(PortError::new(
        format!("state of {target}"),
        format!("kept changing during {ATTEMPTS} attempts"),
    ))
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
}
