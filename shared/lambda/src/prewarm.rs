//! The prewarm function: an EventBridge Scheduler payload registers a known
//! event (a floor with its lead time) in the target's state; replays change
//! nothing. The registration itself is `qscale_core::reconcile::register`,
//! which `qscale events add` calls too.

use jiff::Timestamp;

use super::HandlerError;
use qscale_aws::DynamoStateStore;
use qscale_core::config::Config;
use qscale_core::reconcile::register::{register, PrewarmPayload, PrewarmResult, RegisterError};

/// Checks the payload against the limits at `now` and the config, and
/// registers the event.
pub async fn prewarm(
    config: &Config,
    store: &DynamoStateStore,
    payload: PrewarmPayload,
    now: Timestamp,
) -> Result<PrewarmResult, HandlerError> {
    let event = payload.checked_event(config, now).map_err(handler_error)?;
    register(store, &payload.target, event)
        .await
        .map_err(handler_error)
}

fn handler_error(e: RegisterError) -> HandlerError {
    match e {
        RegisterError::Invalid(m) => HandlerError::Event(m),
        RegisterError::Port(e) => HandlerError::Port(e),
    }
}
