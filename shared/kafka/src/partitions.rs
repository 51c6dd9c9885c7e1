//! Partition growth: `CreatePartitions` up to what a decision asks for.
//! Opt-in per topic (`max_partitions`); never decreases. Keyed ordering
//! changes when partitions grow.

use std::collections::BTreeMap;

use rdkafka::admin::{AdminClient, AdminOptions, NewPartitions};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};

use super::{client_config, REQUEST_TIMEOUT};
use qscale_core::config::{KafkaClusterConfig, SignalConfig, TargetConfig};
use qscale_core::engine::PartitionRequest;
use qscale_core::reconcile::PortError;

/// Grows topics on the configured clusters.
pub struct KafkaPartitions {
    clusters: BTreeMap<String, KafkaClusterConfig>,
}

impl KafkaPartitions {
    /// Growth on these clusters.
    pub fn new(clusters: BTreeMap<String, KafkaClusterConfig>) -> Self {
        KafkaPartitions { clusters }
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
        // Re-read the count: never shrink, never exceed max_partitions.
        let (topic, probe_config) = (signal.topic.clone(), config.clone());
        let current = tokio::task::spawn_blocking(move || -> Result<usize, String> {
            let probe: BaseConsumer = probe_config
                .clone()
                .set("allow.auto.create.topics", "false")
                .create()
                .map_err(|e| e.to_string())?;
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
        let admin: AdminClient<DefaultClientContext> = config.create().map_err(|e| {
            PortError::new(name.clone(), format!("cannot create an admin client: {e}"))
        })?;
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
