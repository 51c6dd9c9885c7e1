//! SQS queue depth: one `GetQueueAttributes(All)` per
//! queue per tick (asking for `All` is one call and cheaper than naming three).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_sqs::types::QueueAttributeName;
use jiff::Timestamp;

use super::{describe, error_code, ApiCalls};
use qscale_core::config::SqsSignal;
use qscale_core::engine::{Measurement, SignalReading, SqsDepth};
use qscale_core::reconcile::PortError;

/// Reads SQS queue depths.
pub struct SqsDepthSource {
    client: aws_sdk_sqs::Client,
    calls: Arc<ApiCalls>,
    urls: Mutex<HashMap<String, String>>,
}

impl SqsDepthSource {
    /// A source on this client.
    pub fn new(client: aws_sdk_sqs::Client, calls: Arc<ApiCalls>) -> Self {
        SqsDepthSource {
            client,
            calls,
            urls: Mutex::new(HashMap::new()),
        }
    }

    /// The queue URL for a URL, name or ARN (resolved once per invocation).
    async fn url(&self, queue: &str) -> Result<String, PortError> {
        if queue.starts_with("https://") || queue.starts_with("http://") {
            return Ok(queue.to_string());
        }
        if let Some(url) = self.urls.lock().unwrap().get(queue) {
            return Ok(url.clone());
        }
        // arn:aws:sqs:region:account:name
        let (name, owner) = match queue.strip_prefix("arn:") {
            Some(_) => {
                let parts: Vec<&str> = queue.split(':').collect();
                if parts.len() != 6 || parts[2] != "sqs" {
                    return Err(PortError::new(
                        format!("queue {queue}"),
                        "not an SQS queue ARN",
                    ));
                }
                (parts[5], Some(parts[4]))
            }
            None => (queue, None),
        };
        self.calls.count("sqs:GetQueueUrl");
        let out = self
            .client
            .get_queue_url()
            .queue_name(name)
            .set_queue_owner_aws_account_id(owner.map(str::to_string))
            .send()
            .await
            .map_err(|e| PortError::new(format!("queue {queue}"), queue_error(&e)))?;
        let url = out
            .queue_url()
            .ok_or_else(|| PortError::new(format!("queue {queue}"), "GetQueueUrl returned no URL"))?
            .to_string();
        self.urls
            .lock()
            .unwrap()
            .insert(queue.to_string(), url.clone());
        Ok(url)
    }

    /// Visible, in-flight and delayed counts of one queue.
    pub async fn depth(&self, queue: &str) -> Result<SqsDepth, PortError> {
        let url = self.url(queue).await?;
        self.calls.count("sqs:GetQueueAttributes");
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .map_err(|e| PortError::new(format!("queue {queue}"), queue_error(&e)))?;
        let attrs = out.attributes().cloned().unwrap_or_default();
        let count = |name: QueueAttributeName| -> Result<u64, PortError> {
            let raw = attrs.get(&name).ok_or_else(|| {
                PortError::new(
                    format!("queue {queue}"),
                    format!("attribute {name} missing from the answer"),
                )
            })?;
            raw.parse().map_err(|_| {
                PortError::new(
                    format!("queue {queue}"),
                    format!("attribute {name} is {raw:?}, not a count"),
                )
            })
        };
        Ok(SqsDepth {
            visible: count(QueueAttributeName::ApproximateNumberOfMessages)?,
            in_flight: count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)?,
            delayed: count(QueueAttributeName::ApproximateNumberOfMessagesDelayed)?,
        })
    }
}

fn queue_error<E>(e: &aws_sdk_sqs::error::SdkError<E, crate::HttpResponse>) -> String
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match error_code(e) {
        Some("AWS.SimpleQueueService.NonExistentQueue") | Some("QueueDoesNotExist") => {
            "does not exist".to_string()
        }
        Some("AccessDenied") | Some("AccessDeniedException") => {
            format!("access denied ({})", describe(e))
        }
        _ => describe(e),
    }
}

impl SqsDepthSource {
    /// One SQS signal's reading at the tick `now`.
    pub async fn read_signal(&self, signal: &SqsSignal, now: Timestamp) -> SignalReading {
        match self.depth(&signal.queue).await {
            // Read at the tick: GetQueueAttributes answers with the current depth.
            Ok(depth) => SignalReading::Ok {
                observed_at: now,
                measurement: Measurement::Sqs(depth),
            },
            Err(e) => SignalReading::Failed {
                error: e.to_string(),
            },
        }
    }
}
