//! SQS queue depth: one `GetQueueAttributes(All)` per
//! queue per tick (asking for `All` is one call and cheaper than naming three),
//! and one more for the depth of its dead-letter queue when its
//! `RedrivePolicy` names one.

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
    pub(crate) async fn url(&self, queue: &str) -> Result<String, PortError> {
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
        let fifo = attrs
            .get(&QueueAttributeName::FifoQueue)
            .is_some_and(|v| v == "true");
        let redrive = attrs.get(&QueueAttributeName::RedrivePolicy);
        let dead_lettered = match redrive {
            Some(policy) => self.dead_lettered(queue, policy).await,
            None => None,
        };
        let max_receive_count = redrive.and_then(|p| max_receive_count(p));
        let visibility_timeout_s = attrs
            .get(&QueueAttributeName::VisibilityTimeout)
            .and_then(|v| v.parse().ok());
        Ok(SqsDepth {
            visible: count(QueueAttributeName::ApproximateNumberOfMessages)?,
            in_flight: count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)?,
            delayed: count(QueueAttributeName::ApproximateNumberOfMessagesDelayed)?,
            fifo,
            dead_lettered,
            max_receive_count,
            visibility_timeout_s,
        })
    }

    /// Messages in the dead-letter queue `redrive_policy` names. Only the
    /// poison check reads it: when it cannot be read the queue's depth
    /// still counts, without that check, and a warning names why.
    async fn dead_lettered(&self, queue: &str, redrive_policy: &str) -> Option<u64> {
        let read = async {
            let arn = dead_letter_arn(redrive_policy)?;
            let url = self.url(&arn).await.map_err(|e| e.to_string())?;
            self.calls.count("sqs:GetQueueAttributes");
            let out = self
                .client
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                .send()
                .await
                .map_err(|e| format!("dead-letter queue {arn}: {}", queue_error(&e)))?;
            let raw = out
                .attributes()
                .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
                .ok_or_else(|| {
                    format!("dead-letter queue {arn}: no ApproximateNumberOfMessages")
                })?;
            raw.parse::<u64>()
                .map_err(|_| format!("dead-letter queue {arn}: {raw:?} is not a count"))
        };
        match read.await {
            Ok(n) => Some(n),
            Err(why) => {
                tracing::warn!(queue, %why, "dead-letter depth unread: no poison check");
                None
            }
        }
    }
}

/// `maxReceiveCount` in a `RedrivePolicy` (SQS writes it as a number or a string).
fn max_receive_count(redrive_policy: &str) -> Option<u32> {
    let policy: serde_json::Value = serde_json::from_str(redrive_policy).ok()?;
    match policy.get("maxReceiveCount")? {
        serde_json::Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The dead-letter queue's ARN in a `RedrivePolicy` attribute (JSON).
pub(crate) fn dead_letter_arn(redrive_policy: &str) -> Result<String, String> {
    let policy: serde_json::Value = serde_json::from_str(redrive_policy)
        .map_err(|e| format!("RedrivePolicy {redrive_policy:?} is not JSON: {e}"))?;
    policy
        .get("deadLetterTargetArn")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| format!("RedrivePolicy {redrive_policy:?} names no deadLetterTargetArn"))
}

pub(crate) fn queue_error<E>(e: &aws_sdk_sqs::error::SdkError<E, crate::HttpResponse>) -> String
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

#[cfg(test)]
mod tests {
    use super::{dead_letter_arn, max_receive_count};

    #[test]
    fn the_dead_letter_queue_comes_from_the_redrive_policy() {
        let arn = "arn:aws:sqs:eu-west-1:123456789012:orders-dlq";
        let policy = format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"5"}}"#);
        assert_eq!(dead_letter_arn(&policy).unwrap(), arn);
        assert_eq!(max_receive_count(&policy), Some(5));
        assert_eq!(max_receive_count(r#"{"maxReceiveCount":3}"#), Some(3));
        assert_eq!(max_receive_count(r#"{"maxReceiveCount":true}"#), None);
        let e = dead_letter_arn(r#"{"maxReceiveCount":5}"#).unwrap_err();
        assert!(e.contains("names no deadLetterTargetArn"), "{e}");
        let e = dead_letter_arn("not json").unwrap_err();
        assert!(e.contains("is not JSON"), "{e}");
    }
}
