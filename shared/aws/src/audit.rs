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
    async fn publish(&self, event: &AuditEvent) -> Result<(), PortError> {
        let body = serde_json::to_string(event)
            .map_err(|e| PortError::new("audit", format!("cannot encode event: {e}")))?;
        let mut errors = Vec::new();
        if let Some(bus) = &self.targets.event_bus {
            if let Err(e) = self.put_event(bus, &body).await {
                errors.push(e);
            }
        }
        if let Some(queue) = &self.targets.queue_url {
            if let Err(e) = self.send_message(queue, &body).await {
                errors.push(e);
            }
        }
        if self.targets.event_bus.is_none() && self.targets.queue_url.is_none() {
            tracing::info!(event = %body, "audit");
        }
        match errors.len() {
            0 => Ok(()),
            _ => Err(PortError::new(
                "audit",
                errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )),
        }
    }
}
