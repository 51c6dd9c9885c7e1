//! Every event the functions accept, parsed by pure functions whose errors
//! name the field path (`detail.state.value: invalid type ...`). The
//! handlers and the fuzz tests (`tests/fuzz.rs`) call these same functions.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::SqsEvent;

use super::{AlarmStateChange, ControlMessage, HandlerError, PrewarmPayload};

/// What the evaluate function was sent.
#[derive(Debug, Clone)]
pub enum EvaluateEvent {
    /// A batch from the control queue.
    Batch(SqsEvent),
    /// A CloudWatch alarm state change, through EventBridge.
    Alarm(Box<EventBridgeEvent<AlarmStateChange>>),
}

/// The detail type evaluate accepts from EventBridge.
pub const ALARM_DETAIL_TYPE: &str = "CloudWatch Alarm State Change";

impl EvaluateEvent {
    /// An SQS batch (it has `Records`) or an alarm state change.
    pub fn from_value(event: serde_json::Value) -> Result<Self, HandlerError> {
        if event.get("Records").is_some() {
            return parse(event, "SQS batch").map(EvaluateEvent::Batch);
        }
        let alarm: EventBridgeEvent<AlarmStateChange> = parse(event, "alarm state change")?;
        if alarm.detail_type != ALARM_DETAIL_TYPE {
            return Err(HandlerError::Event(format!(
                "detail-type: {:?} is not {ALARM_DETAIL_TYPE:?}",
                alarm.detail_type
            )));
        }
        Ok(EvaluateEvent::Alarm(Box::new(alarm)))
    }
}

/// The body of one control-queue message.
pub fn parse_control_message(body: &str) -> Result<ControlMessage, String> {
    let de = &mut serde_json::Deserializer::from_str(body);
    serde_path_to_error::deserialize(de).map_err(|e| at_path("control message", &e))
}

/// An EventBridge Scheduler payload for prewarm.
pub fn parse_prewarm(event: serde_json::Value) -> Result<PrewarmPayload, HandlerError> {
    parse(event, "prewarm payload")
}

/// The scheduled event that invokes tick (its content is not used, but a
/// wrong event means a wrong wiring, which should fail loudly).
pub fn parse_schedule(event: serde_json::Value) -> Result<EventBridgeEvent, HandlerError> {
    parse(event, "scheduled event")
}

fn parse<T: serde::de::DeserializeOwned>(
    event: serde_json::Value,
    what: &str,
) -> Result<T, HandlerError> {
    serde_path_to_error::deserialize(event).map_err(|e| HandlerError::Event(at_path(what, &e)))
}

fn at_path(what: &str, e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    format!("not a valid {what}: {}: {}", e.path(), e.inner())
}
