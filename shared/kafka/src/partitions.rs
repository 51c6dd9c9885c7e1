//! Partition growth: `CreatePartitions` up to what a decision asks for.
//! Opt-in per topic (`max_partitions`); never decreases. Keyed ordering
//! changes when partitions grow.

use std::collections::BTreeMap;

use aws_credential_types::Credentials;
use rdkafka::admin::{AdminClient, AdminOptions, NewPartitions};
use rdkafka::config::FromClientConfigAndContext;
use rdkafka::consumer::{BaseConsumer, Consumer};

use super::context::Diagnosed;
use super::msk_iam::TOKEN_LIFETIME;
use super::{client_config, context_for, REQUEST_TIMEOUT};
use qscale_core::config::{KafkaClusterConfig, SignalConfig, TargetConfig};
use qscale_core::engine::PartitionRequest;
use qscale_core::reconcile::PortError;

/// Grows topics on the configured clusters.
pub struct KafkaPartitions {
    clusters: BTreeMap<String, KafkaClusterConfig>,
    /// The container's AWS credentials, for clusters on MSK IAM.
    aws: Option<Credentials>,
}

impl KafkaPartitions {
    /// Growth on these clusters.
    pub fn new(clusters: BTreeMap<String, KafkaClusterConfig>) -> Self {
        KafkaPartitions {
            clusters,
            aws: None,
        }
    }

    /// The same, signing MSK IAM tokens with these credentials.
    pub fn with_aws_credentials(mut self, aws: Option<Credentials>) -> Self {
        self.aws = aws;
        self
    }

    /// Grows the signal's topic to `request.to` partitions if it has fewer.
    pub async fn grow(
        &self,
        target: &TargetConfig,
        request: &PartitionRequest,
    ) -> Result<(), PortError> {
        let Some(SignalConfig::Kafka(signal)) =
            target.signals.iter().find(|s| s.name() == request.signal)
        else {
            return Err(PortError::new(
                request.signal.clone(),
                "not a Kafka signal of this target",
            ));
        };
        let (cluster, name) = super::cluster(&self.clusters, &signal.cluster)?;
        let cap = signal.max_partitions.unwrap_or(0);
        let to = request.to.min(cap) as usize;
        let config = client_config(cluster);
        let signs = cluster.msk_iam.is_some();
        let context = || {
            context_for(cluster, self.aws.as_ref(), TOKEN_LIFETIME)
                .map_err(|e| PortError::new(name.clone(), e))
        };
        // Re-read the count: never shrink, never exceed max_partitions.
        let (topic, probe_config, probe_context) =
            (signal.topic.clone(), config.clone(), context()?);
        let current = tokio::task::spawn_blocking(move || -> Result<usize, String> {
            let probe: BaseConsumer<Diagnosed> = probe_config
                .clone()
                .set("allow.auto.create.topics", "false")
                .create_with_context(probe_context)
                .map_err(|e| e.to_string())?;
            Diagnosed::prime(probe.client(), signs)?;
            let md = probe
                .fetch_metadata(Some(&topic), REQUEST_TIMEOUT)
                .map_err(|e| e.to_string())?;
            Ok(md.topics().first().map_or(0, |t| t.partitions().len()))
        })
        .await
        .map_err(|e| PortError::new(name.clone(), e.to_string()))?
        .map_err(|e| {
            PortError::new(
                name.clone(),
                format!("metadata of topic {}: {e}", signal.topic),
            )
        })?;
        if to <= current {
            return Ok(());
        }
        let admin = AdminClient::from_config_and_context(&config, context()?).map_err(|e| {
            PortError::new(name.clone(), format!("cannot create an admin client: {e}"))
        })?;
        Diagnosed::prime(admin.inner(), signs).map_err(|e| PortError::new(name.clone(), e))?;
        let results = admin
            .create_partitions(
                &[NewPartitions::new(&signal.topic, to)],
                &AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT)),
            )
            .await
            .map_err(|e| {
                PortError::new(
                    name.clone(),
                    format!("CreatePartitions on {}: {e}", signal.topic),
                )
            })?;
        for r in results {
            if let Err((topic, code)) = r {
                return Err(PortError::new(
                    name.clone(),
                    format!("CreatePartitions on {topic}: {code}"),
                ));
            }
        }
        tracing::info!(topic = %signal.topic, from = current, to, "partitions grown");
        Ok(())
    }
}
