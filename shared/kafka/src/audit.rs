//! Audit events produced to a Kafka topic, keyed by target; `publish`
//! returns only once the broker acknowledged the event.

use std::time::Duration;

use aws_credential_types::Credentials;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

use super::context::Diagnosed;
use super::msk_iam::TOKEN_LIFETIME;
use super::{client_config, context_for, describe_cluster};
use qscale_core::config::{KafkaAuditConfig, KafkaClusterConfig};
use qscale_core::reconcile::{AuditEvent, AuditSink, PortError};

/// Producer of audit events.
pub struct KafkaAuditSink {
    producer: FutureProducer<Diagnosed>,
    topic: String,
    name: String,
}

impl KafkaAuditSink {
    /// A sink for `audit` on `cluster` (`aws`: the credentials that sign
    /// MSK IAM tokens, for a cluster on MSK IAM).
    pub fn new(
        audit: &KafkaAuditConfig,
        cluster: &KafkaClusterConfig,
        aws: Option<&Credentials>,
    ) -> Result<Self, PortError> {
        let name = describe_cluster(&audit.cluster, cluster);
        let context = context_for(cluster, aws, TOKEN_LIFETIME)
            .map_err(|e| PortError::new(name.clone(), e))?;
        let producer: FutureProducer<Diagnosed> = client_config(cluster)
            // Every event is acknowledged by all in-sync replicas; no duplicates on retry.
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("message.timeout.ms", "10000")
            .create_with_context(context)
            .map_err(|e| PortError::new(name.clone(), format!("cannot create a producer: {e}")))?;
        Diagnosed::prime(producer.client(), cluster.msk_iam.is_some())
            .map_err(|e| PortError::new(name.clone(), e))?;
        Ok(KafkaAuditSink {
            producer,
            topic: audit.topic.clone(),
            name,
        })
    }

    /// This sink's destination name.
    pub fn destination(&self) -> String {
        format!("kafka:{}", self.topic)
    }
}

impl AuditSink for KafkaAuditSink {
    fn destinations(&self) -> Vec<String> {
        vec![self.destination()]
    }

    async fn publish(&self, _destination: &str, event: &AuditEvent) -> Result<(), PortError> {
        let body = serde_json::to_string(event)
            .map_err(|e| PortError::new("audit", format!("cannot encode event: {e}")))?;
        self.producer
            .send(
                FutureRecord::to(&self.topic)
                    .key(&event.target)
                    .payload(&body),
                Duration::from_secs(10),
            )
            .await
            .map(|_| ())
            .map_err(|(e, _)| {
                PortError::new(
                    self.name.clone(),
                    format!("audit topic {}: {e}", self.topic),
                )
            })
    }
}
