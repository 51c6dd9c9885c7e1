//! Audit events to EventBridge (`PutEvents`) and/or SQS (`SendMessage`).
//! With neither configured, events go to the log.

use std::sync::Arc;

use aws_sdk_eventbridge::types::PutEventsRequestEntry;

use super::{describe, ApiCalls};
use qscale_core::reconcile::{AuditEvent, AuditSink, PortError};

/// Event source and detail type on EventBridge.
pub const EVENT_SOURCE: &str = "qscale";
/// Detail type of scaling events.
pub const DETAIL_TYPE: &str = "qscale.scaling";

const EVENTBRIDGE_PREFIX: &str = "eventbridge:";
const SQS_PREFIX: &str = "sqs:";
/// With no destination configured, events go to the function's log.
const LOG_DESTINATION: &str = "log";

/// Where audit events go.
#[derive(Debug, Clone, Default)]
pub struct AuditTargets {
    /// EventBridge bus name or ARN.
    pub event_bus: Option<String>,
    /// SQS queue URL.
    pub queue_url: Option<String>,
}

/// The configured audit destinations.
pub struct AwsAudit {
    targets: AuditTargets,
    sqs: aws_sdk_sqs::Client,
    eventbridge: aws_sdk_eventbridge::Client,
    calls: Arc<ApiCalls>,
}

impl AwsAudit {
    /// Audit on these clients.
    pub fn new(
        targets: AuditTargets,
        sqs: aws_sdk_sqs::Client,
        eventbridge: aws_sdk_eventbridge::Client,
        calls: Arc<ApiCalls>,
    ) -> Self {
        AwsAudit {
            targets,
            sqs,
            eventbridge,
            calls,
        }
    }

    async fn put_event(&self, bus: &str, body: &str) -> Result<(), PortError> {
        let resource = format!("eventbridge bus {bus}");
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(bus)
            .source(EVENT_SOURCE)
            .detail_type(DETAIL_TYPE)
            .detail(body)
            .build();
        // The call can succeed while the entry fails: retry the entry itself.
        let mut last = String::new();
        for _ in 0..3 {
            self.calls.count("events:PutEvents");
            let out = self
                .eventbridge
                .put_events()
                .entries(entry.clone())
                .send()
                .await
                .map_err(|e| PortError::new(resource.clone(), describe(&e)))?;
            if out.failed_entry_count() == 0 {
                return Ok(());
            }
            last = out
                .entries()
                .iter()
                .filter_map(|e| {
                    e.error_code()
                        .map(|c| format!("{c}: {}", e.error_message().unwrap_or("")))
                })
                .collect::<Vec<_>>()
                .join("; ");
        }
        Err(PortError::new(resource, format!("entry rejected: {last}")))
    }

    async fn send_message(&self, queue: &str, body: &str) -> Result<(), PortError> {
        self.calls.count("sqs:SendMessage");
        self.sqs
            .send_message()
            .queue_url(queue)
            .message_body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| PortError::new(format!("audit queue {queue}"), describe(&e)))
    }
}

impl AuditSink for AwsAudit {
    fn destinations(&self) -> Vec<String> {
        let mut all = Vec::new();
        if let Some(bus) = &self.targets.event_bus {
            all.push(format!("{EVENTBRIDGE_PREFIX}{bus}"));
        }
        if let Some(queue) = &self.targets.queue_url {
            all.push(format!("{SQS_PREFIX}{queue}"));
        }
        if all.is_empty() {
            all.push(LOG_DESTINATION.to_string());
        }
        all
    }

    async fn publish(&self, destination: &str, event: &AuditEvent) -> Result<(), PortError> {
        let body = serde_json::to_string(event)
            .map_err(|e| PortError::new("audit", format!("cannot encode event: {e}")))?;
        if let Some(bus) = destination.strip_prefix(EVENTBRIDGE_PREFIX) {
            self.put_event(bus, &body).await
        } else if let Some(queue) = destination.strip_prefix(SQS_PREFIX) {
            self.send_message(queue, &body).await
        } else if destination == LOG_DESTINATION {
            tracing::info!(event = %body, "audit");
            Ok(())
        } else {
            Err(PortError::new(
                "audit",
                format!("unknown audit destination {destination:?}"),
            ))
        }
    }
}
