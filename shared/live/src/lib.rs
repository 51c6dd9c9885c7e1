//! The production adapters composed: signals from SQS and Kafka, workers on
//! AWS with Kafka partition growth, and [`run::run_once`] over every target,
//! which `qscale run --once` and the Lambdas call.

pub mod env;
pub mod run;

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;

use qscale_aws::{ApiCalls, AwsAudit, AwsClients, AwsWorkers, SqsDepthSource};
use qscale_core::config::{SignalConfig, TargetAccess, TargetConfig};
use qscale_core::engine::{PartitionRequest, SignalReading, WorkerObservation};
use qscale_core::reconcile::{AuditEvent, AuditSink, MetricSource, PortError, WorkerActuator};
use qscale_kafka::{KafkaAuditSink, KafkaLagSource, KafkaPartitions};

/// One adapter per account and region the config's targets are in: qscale's
/// own, and each `targets[].aws`. A target is only ever served by its own:
/// one whose access has no adapter fails, never falls back to qscale's
/// account (where a resource of the same name may be another team's).
pub struct ByAccess<T> {
    /// qscale's own account and region.
    pub home: T,
    /// Per role and region.
    pub other: BTreeMap<TargetAccess, T>,
}

impl<T> ByAccess<T> {
    /// Only qscale's own account.
    pub fn home(home: T) -> Self {
        ByAccess {
            home,
            other: BTreeMap::new(),
        }
    }

    /// `adapter` on qscale's clients and on each of `targets`' accesses' clients.
    async fn build(
        clients: &AwsClients,
        targets: &[TargetConfig],
        adapter: impl Fn(&AwsClients) -> T,
    ) -> Self {
        let mut by = ByAccess::home(adapter(clients));
        let accesses: std::collections::BTreeSet<&TargetAccess> =
            targets.iter().filter_map(|t| t.aws.as_ref()).collect();
        for access in accesses {
            let own = clients.for_access(Some(access)).await;
            by.other.insert(access.clone(), adapter(&own));
        }
        by
    }

    /// The adapter of `target`'s account and region.
    pub fn of(&self, target: &TargetConfig) -> Result<&T, PortError> {
        match &target.aws {
            None => Ok(&self.home),
            Some(access) => self.other.get(access).ok_or_else(|| {
                PortError::new(
                    format!("target {}", target.name),
                    format!("no clients for {}", access.describe()),
                )
            }),
        }
    }
}

impl ByAccess<SqsDepthSource> {
    /// SQS sources for qscale's account and each of `targets`' accesses.
    pub async fn sqs_for(
        clients: &AwsClients,
        targets: &[TargetConfig],
        calls: &Arc<ApiCalls>,
    ) -> Self {
        ByAccess::build(clients, targets, |c| {
            SqsDepthSource::new(c.sqs.clone(), calls.clone())
        })
        .await
    }
}

impl ByAccess<AwsWorkers> {
    /// ECS and Lambda adapters for qscale's account and each of `targets`' accesses.
    pub async fn workers_for(
        clients: &AwsClients,
        targets: &[TargetConfig],
        calls: &Arc<ApiCalls>,
    ) -> Self {
        ByAccess::build(clients, targets, |c| {
            AwsWorkers::new(c.ecs.clone(), c.lambda.clone(), calls.clone())
        })
        .await
    }

    /// Describes every ECS service of `targets`, each in its own account.
    pub async fn prefetch(&self, targets: &[TargetConfig]) {
        let home = self
            .home
            .prefetch(targets.iter().filter(|t| t.aws.is_none()));
        let others = self.other.iter().map(|(access, workers)| {
            workers.prefetch(
                targets
                    .iter()
                    .filter(move |t| t.aws.as_ref() == Some(access)),
            )
        });
        futures::join!(home, futures::future::join_all(others));
    }
}

/// ` (through role R in region G)` for a target reached through its
/// access, empty otherwise: a failed `AssumeRole` would read as a bare
/// credentials error.
fn through_suffix(target: &TargetConfig) -> String {
    target
        .aws
        .as_ref()
        .map(|access| format!(" (through {})", access.describe()))
        .unwrap_or_default()
}

/// An error of `target`'s adapters, naming the role and region it came through.
fn through(target: &TargetConfig, mut e: PortError) -> PortError {
    e.resource.push_str(&through_suffix(target));
    e
}

/// Every signal kind, each read by its own source; a target's signals are read concurrently.
pub struct LiveSignals {
    /// SQS depths, per account and region.
    pub sqs: ByAccess<SqsDepthSource>,
    /// Kafka lag.
    pub kafka: Arc<KafkaLagSource>,
}

impl MetricSource for LiveSignals {
    async fn read(&self, target: &TargetConfig, now: Timestamp) -> BTreeMap<String, SignalReading> {
        let sqs = self.sqs.of(target).map_err(|e| e.to_string());
        let sqs = &sqs;
        let reads = target.signals.iter().map(|signal| async move {
            let reading = match (signal, sqs) {
                (SignalConfig::Sqs(s), Ok(sqs)) => match sqs.read_signal(s, now).await {
                    SignalReading::Failed { error } => SignalReading::Failed {
                        error: error + &through_suffix(target),
                    },
                    reading => reading,
                },
                (SignalConfig::Sqs(_), Err(e)) => SignalReading::Failed { error: e.clone() },
                (SignalConfig::Kafka(k), _) => self.kafka.read_signal(k, now).await,
            };
            (signal.name().to_string(), reading)
        });
        futures::future::join_all(reads).await.into_iter().collect()
    }
}

/// AWS workers, plus partition growth on Kafka.
pub struct LiveFleet {
    /// ECS and Lambda, per account and region.
    pub workers: ByAccess<AwsWorkers>,
    /// Kafka topics.
    pub partitions: KafkaPartitions,
}

impl WorkerActuator for LiveFleet {
    async fn observe(&self, target: &TargetConfig) -> Result<WorkerObservation, PortError> {
        let workers = self.workers.of(target)?;
        workers
            .observe(target)
            .await
            .map_err(|e| through(target, e))
    }
    async fn set_desired(&self, target: &TargetConfig, desired: u32) -> Result<(), PortError> {
        let workers = self.workers.of(target)?;
        workers
            .set_desired(target, desired)
            .await
            .map_err(|e| through(target, e))
    }
    async fn grow_partitions(
        &self,
        target: &TargetConfig,
        request: &PartitionRequest,
    ) -> Result<(), PortError> {
        self.partitions.grow(target, request).await
    }
    async fn set_provisioned(
        &self,
        target: &TargetConfig,
        count: Option<u32>,
    ) -> Result<(), PortError> {
        let workers = self.workers.of(target)?;
        workers
            .set_provisioned(target, count)
            .await
            .map_err(|e| through(target, e))
    }
    async fn set_spillover(&self, target: &TargetConfig, count: u32) -> Result<(), PortError> {
        let workers = self.workers.of(target)?;
        workers
            .set_spillover(target, count)
            .await
            .map_err(|e| through(target, e))
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::{BehaviorVersion, Region};
    use aws_smithy_http_client::test_util::capture_request;
    use qscale_core::config::Config;

    /// `LiveFleet` once refused provisioned concurrency (the trait's default
    /// answered for it), so pre-warm windows failed in production while the
    /// adapter's own tests passed: every call is forwarded now, and the
    /// trait has no defaults left to hide a missing one.
    #[tokio::test]
    async fn provisioned_concurrency_reaches_lambda_through_the_live_fleet() {
        let (http, request) = capture_request(None);
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::for_tests())
            .http_client(http)
            .load()
            .await;
        let clients = AwsClients::from_sdk_config(&sdk);
        let config = Config::from_yaml(
            "targets:\n  - name: fn\n    signals: [ { sqs: { name: q, queue: q } } ]\n    worker: { lambda_concurrency: { function: handler, qualifier: live } }\n    policy: { min: 0, max: 50, target_per_worker: 10 }\n",
        )
        .unwrap();
        let calls = Arc::new(ApiCalls::default());
        let fleet = LiveFleet {
            workers: ByAccess::workers_for(&clients, &config.targets, &calls).await,
            partitions: KafkaPartitions::new(BTreeMap::new()),
        };
        let _ = fleet.set_provisioned(&config.targets[0], Some(8)).await;
        let sent = request.expect_request();
        assert_eq!(sent.method(), "PUT");
        assert!(
            sent.uri()
                .contains("/functions/handler/provisioned-concurrency?Qualifier=live"),
            "{}",
            sent.uri()
        );
    }
}
