//! The production adapters composed: signals from SQS and Kafka, workers on
//! AWS with Kafka partition growth, and [`run::run_once`] over every target,
//! which `qscale run --once` and the Lambdas call.

pub mod env;
pub mod run;

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;

use qscale_aws::{AwsAudit, AwsWorkers, SqsDepthSource};
use qscale_core::config::{SignalConfig, TargetConfig};
use qscale_core::engine::{PartitionRequest, SignalReading, WorkerObservation};
use qscale_core::reconcile::{AuditEvent, AuditSink, MetricSource, PortError, WorkerActuator};
use qscale_kafka::{KafkaAuditSink, KafkaLagSource, KafkaPartitions};

/// Every signal kind, each read by its own source; a target's signals are read concurrently.
pub struct LiveSignals {
    /// SQS depths.
    pub sqs: SqsDepthSource,
    /// Kafka lag.
    pub kafka: Arc<KafkaLagSource>,
}

impl MetricSource for LiveSignals {
    async fn read(&self, target: &TargetConfig, now: Timestamp) -> BTreeMap<String, SignalReading> {
        let reads = target.signals.iter().map(|signal| async move {
            let reading = match signal {
                SignalConfig::Sqs(s) => self.sqs.read_signal(s, now).await,
                SignalConfig::Kafka(k) => self.kafka.read_signal(k, now).await,
            };
            (signal.name().to_string(), reading)
        });
        futures::future::join_all(reads).await.into_iter().collect()
    }
}

/// AWS workers, plus partition growth on Kafka.
pub struct LiveFleet {
    /// ECS and Lambda.
    pub workers: AwsWorkers,
    /// Kafka topics.
    pub partitions: KafkaPartitions,
}

impl WorkerActuator for LiveFleet {
    async fn observe(&self, target: &TargetConfig) -> Result<WorkerObservation, PortError> {
        self.workers.observe(target).await
    }
    async fn set_desired(&self, target: &TargetConfig, desired: u32) -> Result<(), PortError> {
        self.workers.set_desired(target, desired).await
    }
    async fn grow_partitions(
        &self,
        target: &TargetConfig,
        request: &PartitionRequest,
    ) -> Result<(), PortError> {
        self.partitions.grow(target, request).await
    }
}

/// Audit to AWS destinations and, if configured, a Kafka topic.
pub struct LiveAudit {
    /// EventBridge / SQS / log.
    pub aws: AwsAudit,
    /// Kafka topic.
    pub kafka: Option<KafkaAuditSink>,
}

impl AuditSink for LiveAudit {
    fn destinations(&self) -> Vec<String> {
        let mut all = self.aws.destinations();
        all.extend(self.kafka.iter().map(KafkaAuditSink::destination));
        all
    }

    async fn publish(&self, destination: &str, event: &AuditEvent) -> Result<(), PortError> {
        match &self.kafka {
            Some(k) if k.destination() == destination => k.publish(destination, event).await,
            _ => self.aws.publish(destination, event).await,
        }
    }
}
