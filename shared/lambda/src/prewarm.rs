//! Registering known events: EventBridge Scheduler payloads (and
//! `qscale events add`) put a floor in a target's state ahead of time.
//! Idempotent: the same payload again changes nothing.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::HandlerError;
use qscale_aws::DynamoStateStore;
use qscale_core::config::{Config, WARM_QUALIFIER_REASON};
use qscale_core::engine::RegisteredEvent;
use qscale_core::reconcile::{PortError, SaveError, StateStore};

/// The Scheduler payload.
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

/// Checks the payload against the config and registers the event.
pub async fn prewarm(
    config: &Config,
    store: &DynamoStateStore,
    payload: PrewarmPayload,
) -> Result<PrewarmResult, HandlerError> {
    let target = config.target(&payload.target).ok_or_else(|| {
        HandlerError::Event(format!("target {:?} is not in the config", payload.target))
    })?;
    if payload.end <= payload.start {
        return Err(HandlerError::Event(format!(
            "end {} must be after start {}",
            payload.end, payload.start
        )));
    }
    if payload.min > target.policy.max {
        return Err(HandlerError::Event(format!(
            "min {} is above policy.max {} of {}: a floor never exceeds max",
            payload.min, target.policy.max, target.name
        )));
    }
    if target.worker.lacks_warm_qualifier() {
        return Err(HandlerError::Event(format!(
            "{}: worker.lambda_concurrency.qualifier is not set: {WARM_QUALIFIER_REASON}",
            target.name
        )));
    }
    let event = RegisteredEvent {
        name: payload
            .name
            .clone()
            .unwrap_or_else(|| format!("event-{}", payload.start)),
        start: payload.start,
        end: payload.end,
        min: payload.min,
    };
    register(store, &target.name, event).await
}

/// Registers (or replaces, by name) an event in a target's state, retrying
/// when a reconcile writes in between.
pub async fn register(
    store: &DynamoStateStore,
    target: &str,
    event: RegisteredEvent,
) -> Result<PrewarmResult, HandlerError> {
    for _ in 0..5 {
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
            Err(SaveError::Store(e)) => return Err(e.into()),
        }
    }
    Err(PortError::new(
        format!("state of {target}"),
        "kept changing during 5 attempts",
    )
    .into())
}
