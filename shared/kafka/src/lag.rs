//! Consumer-group lag from the broker: partitions from metadata, the group's
//! committed offsets, low and high watermarks (batched ListOffsets), and the
//! group's state and member count.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_credential_types::Credentials;
use jiff::Timestamp;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::context::{Diagnosed, DIAGNOSIS_WAIT};
use super::{client_config, context_for, REQUEST_TIMEOUT};
use qscale_core::config::{KafkaClusterConfig, KafkaSignal};
use qscale_core::engine::{
    KafkaOffsets, Measurement, PartitionOffsets, SignalReading, TopicOffsets,
};
use qscale_core::reconcile::PortError;

/// The consumer a lag read uses (never subscribed, never committing).
type LagConsumer = BaseConsumer<Diagnosed>;

/// Reads Kafka signals. One consumer per (cluster, group) per invocation.
pub struct KafkaLagSource {
    clusters: BTreeMap<String, KafkaClusterConfig>,
    /// Clusters that cannot be reached, and why (a password not read).
    unavailable: BTreeMap<String, String>,
    consumers: Mutex<HashMap<(String, String), Arc<LagConsumer>>>,
    /// The container's AWS credentials, for clusters on MSK IAM.
    aws: Option<Credentials>,
    /// How long an MSK IAM token is valid.
    token_lifetime: Duration,
}

impl KafkaLagSource {
    /// A source for these clusters.
    pub fn new(clusters: BTreeMap<String, KafkaClusterConfig>) -> Self {
        KafkaLagSource {
            clusters,
            unavailable: BTreeMap::new(),
            consumers: Mutex::new(HashMap::new()),
            aws: None,
            token_lifetime: super::msk_iam::TOKEN_LIFETIME,
        }
    }

    /// MSK IAM tokens its clients have signed so far.
    pub fn tokens_signed(&self) -> usize {
        let consumers = self.consumers.lock().unwrap();
        consumers
            .values()
            .map(|c| c.context().tokens_signed())
            .sum()
    }

    /// The same, with MSK IAM tokens valid for `lifetime` instead of
    /// [`TOKEN_LIFETIME`](super::msk_iam::TOKEN_LIFETIME) (a test sees
    /// librdkafka ask for a new one within seconds).
    pub fn with_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// The same, signing MSK IAM tokens with these credentials.
    pub fn with_aws_credentials(mut self, aws: Option<Credentials>) -> Self {
        self.aws = aws;
        self
    }

    /// The same, with clusters whose signals fail with the given reason.
    pub fn with_unavailable(mut self, unavailable: BTreeMap<String, String>) -> Self {
        self.unavailable = unavailable;
        self
    }

    fn consumer(&self, signal: &KafkaSignal) -> Result<(Arc<LagConsumer>, String), PortError> {
        if let Some(why) = self.unavailable.get(&signal.cluster) {
            return Err(PortError::new(
                format!("kafka cluster {}", signal.cluster),
                why.clone(),
            ));
        }
        let (cluster, name) = super::cluster(&self.clusters, &signal.cluster)?;
        let key = (signal.cluster.clone(), signal.group.clone());
        if let Some(c) = self.consumers.lock().unwrap().get(&key) {
            return Ok((c.clone(), name));
        }
        let context = context_for(cluster, self.aws.as_ref(), self.token_lifetime)
            .map_err(|e| PortError::new(name.clone(), e))?;
        let consumer: LagConsumer = client_config(cluster)
            .set("group.id", &signal.group)
            .set("enable.auto.commit", "false")
            // Reading metadata must never create the topic.
            .set("allow.auto.create.topics", "false")
            // `markers_left` reads to the end of a partition and must see it.
            .set("enable.partition.eof", "true")
            .create_with_context(context)
            .map_err(|e| PortError::new(name.clone(), format!("cannot create a client: {e}")))?;
        Diagnosed::prime(consumer.client(), cluster.msk_iam.is_some())
            .map_err(|e| PortError::new(name.clone(), e))?;
        let consumer = Arc::new(consumer);
        self.consumers.lock().unwrap().insert(key, consumer.clone());
        Ok((consumer, name))
    }

    /// Offsets of every partition of the signal's topic (or topics) for its
    /// group (blocking).
    pub fn read_offsets(&self, signal: &KafkaSignal) -> Result<KafkaOffsets, PortError> {
        let (consumer, cluster) = self.consumer(signal)?;
        // Serve what the client queued since the last read (log and error
        // events), so a stale cause is not reported and the queue stays short.
        let _ = consumer.poll(Duration::ZERO);
        consumer.context().clear();
        let mut topics = Vec::new();
        for topic in signal.topic_names() {
            topics.push(TopicOffsets {
                topic: topic.to_string(),
                partitions: self.read_topic(&consumer, &cluster, &signal.group, topic)?,
            });
        }
        let (group_state, members) =
            match consumer.fetch_group_list(Some(&signal.group), REQUEST_TIMEOUT) {
                Ok(groups) => groups
                    .groups()
                    .iter()
                    .find(|g| g.name() == signal.group)
                    .map(|g| (Some(g.state().to_string()), Some(g.members().len() as u32)))
                    .unwrap_or((None, None)),
                // Group details are for the reasons; lag does not depend on them.
                Err(_) => (None, None),
            };
        // A signal on one topic keeps the one-topic form.
        let (partitions, topics) = if signal.topics.is_empty() {
            (
                topics.pop().map(|t| t.partitions).unwrap_or_default(),
                Vec::new(),
            )
        } else {
            (Vec::new(), topics)
        };
        Ok(KafkaOffsets {
            partitions,
            topics,
            group_state,
            members,
        })
    }

    /// One topic's partitions: metadata, the group's committed offsets,
    /// watermarks, and the transaction-marker probe.
    fn read_topic(
        &self,
        consumer: &LagConsumer,
        cluster: &str,
        group: &str,
        topic: &str,
    ) -> Result<Vec<PartitionOffsets>, PortError> {
        let err = |what: &str, e: &dyn std::fmt::Display| {
            PortError::new(
                cluster,
                format!("{what} of topic {topic}: {}", diagnose(consumer, e)),
            )
        };
        let metadata = consumer
            .fetch_metadata(Some(topic), REQUEST_TIMEOUT)
            .map_err(|e| err("metadata", &e))?;
        let t = metadata
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .ok_or_else(|| {
                PortError::new(cluster, format!("topic {topic} is not in the metadata"))
            })?;
        if let Some(e) = t.error() {
            let e = rdkafka::error::RDKafkaErrorCode::from(e);
            return Err(PortError::new(cluster, format!("topic {topic}: {e}")));
        }
        let mut ids: Vec<i32> = t.partitions().iter().map(|p| p.id()).collect();
        ids.sort_unstable();
        if ids.is_empty() {
            return Err(PortError::new(
                cluster,
                format!("topic {topic} has no partitions"),
            ));
        }
        let list = |offset: Offset| {
            let mut tpl = TopicPartitionList::new();
            for &p in &ids {
                let _ = tpl.add_partition_offset(topic, p, offset);
            }
            tpl
        };
        let committed = consumer
            .committed_offsets(list(Offset::Invalid), REQUEST_TIMEOUT)
            .map_err(|e| err("committed offsets", &e))?;
        let watermarks = self
            .watermarks(consumer, topic, &ids, &list)
            .map_err(|e| err("watermarks", &e))?;
        // One pass over each answer: `find_partition` searches the list, so
        // asking it per partition was quadratic in the partition count.
        let committed: HashMap<i32, (Offset, rdkafka::error::KafkaResult<()>)> = committed
            .elements_for_topic(topic)
            .iter()
            .map(|e| (e.partition(), (e.offset(), e.error())))
            .collect();
        let mut partitions = ids
            .iter()
            .map(|&p| {
                let answer = committed.get(&p).cloned();
                let committed_offset = committed_offset(answer).map_err(|why| {
                    PortError::new(
                        cluster,
                        format!(
                            "committed offset of {topic}[{p}] for group {}: {why}",
                            group
                        ),
                    )
                })?;
                let (low, high) = watermarks[&p];
                Ok(PartitionOffsets {
                    partition: p,
                    low_watermark: low,
                    high_watermark: high,
                    committed_offset,
                    only_marker_left: false,
                })
            })
            .collect::<Result<Vec<_>, PortError>>()?;
        // One record left past the committed offset may be a transaction's
        // marker, which no consumer receives: a lag of 1 that never moves
        // (KEDA #5675). Fetching from it tells: a marker yields no message.
        let one_left: Vec<(i32, i64)> = partitions
            .iter()
            .filter_map(|p| {
                let c = p.committed_offset?;
                (c >= p.low_watermark && c == p.high_watermark - 1).then_some((p.partition, c))
            })
            .collect();
        let markers = markers_left(consumer, topic, &one_left);
        for p in &mut partitions {
            p.only_marker_left = markers.contains(&p.partition);
        }
        Ok(partitions)
    }

    /// Low and high watermarks: two batched ListOffsets (earliest, latest),
    /// or one request per partition if the broker refuses those.
    fn watermarks(
        &self,
        consumer: &LagConsumer,
        topic: &str,
        ids: &[i32],
        list: &dyn Fn(Offset) -> TopicPartitionList,
    ) -> Result<HashMap<i32, (i64, i64)>, rdkafka::error::KafkaError> {
        let batched = || -> Result<HashMap<i32, (i64, i64)>, rdkafka::error::KafkaError> {
            let low = consumer.offsets_for_times(list(Offset::Beginning), REQUEST_TIMEOUT)?;
            let high = consumer.offsets_for_times(list(Offset::End), REQUEST_TIMEOUT)?;
            let by_partition = |tpl: &TopicPartitionList| -> HashMap<i32, i64> {
                tpl.elements_for_topic(topic)
                    .iter()
                    .filter_map(|e| match e.offset() {
                        Offset::Offset(n) if n >= 0 => Some((e.partition(), n)),
                        _ => None,
                    })
                    .collect()
            };
            let (low, high) = (by_partition(&low), by_partition(&high));
            let mut out = HashMap::new();
            for &p in ids {
                match (low.get(&p).copied(), high.get(&p).copied()) {
                    (Some(l), Some(h)) => out.insert(p, (l, h)),
                    _ => {
                        return Err(rdkafka::error::KafkaError::OffsetFetch(
                            rdkafka::error::RDKafkaErrorCode::InvalidPartitions,
                        ))
                    }
                };
            }
            Ok(out)
        };
        batched().or_else(|_| {
            ids.iter()
                .map(|&p| {
                    consumer
                        .fetch_watermarks(topic, p, REQUEST_TIMEOUT)
                        .map(|w| (p, w))
                })
                .collect()
        })
    }

    /// One signal's reading (broker calls run off the async runtime).
    pub async fn read_signal(
        self: &Arc<Self>,
        signal: &KafkaSignal,
        now: Timestamp,
    ) -> SignalReading {
        let (me, s) = (self.clone(), signal.clone());
        let result = tokio::task::spawn_blocking(move || me.read_offsets(&s))
            .await
            .unwrap_or_else(|e| {
                Err(PortError::new(
                    format!("kafka cluster {}", signal.cluster),
                    format!("reader panicked: {e}"),
                ))
            });
        match result {
            Ok(offsets) => SignalReading::Ok {
                observed_at: now,
                measurement: Measurement::Kafka(offsets),
            },
            Err(e) => SignalReading::Failed {
                error: e.to_string(),
            },
        }
    }
}

/// How long [`markers_left`] reads before it counts the records it could
/// not classify as work.
const MARKER_PROBE: Duration = Duration::from_secs(2);

/// Which of `candidates` (partition, the offset of its one record left)
/// hold only a transaction marker there: read from that offset (assigned,
/// outside the group, nothing committed), a data record comes back as a
/// message, a marker is skipped to the partition's end. The consumer reads
/// committed data only (librdkafka's default), as its watermark does, so an
/// open transaction's records are not seen past it. Anything not answered
/// in [`MARKER_PROBE`], or a failed assignment, counts as work: the error
/// is on the side of a worker too many.
fn markers_left(consumer: &LagConsumer, topic: &str, candidates: &[(i32, i64)]) -> BTreeSet<i32> {
    let mut markers = BTreeSet::new();
    if candidates.is_empty() {
        return markers;
    }
    let mut tpl = TopicPartitionList::new();
    for &(p, at) in candidates {
        let _ = tpl.add_partition_offset(topic, p, Offset::Offset(at));
    }
    if consumer.assign(&tpl).is_err() {
        return markers;
    }
    let mut pending: BTreeSet<i32> = candidates.iter().map(|(p, _)| *p).collect();
    let deadline = std::time::Instant::now() + MARKER_PROBE;
    while !pending.is_empty() && std::time::Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                pending.remove(&m.partition());
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) if pending.remove(&p) => {
                markers.insert(p);
            }
            _ => {}
        }
    }
    let _ = consumer.unassign();
    markers
}

/// `e` with the cause librdkafka gave for it (a TLS handshake or a SASL
/// login that failed): its events wait in the client's queue until a poll
/// serves them, so a failed read polls up to [`DIAGNOSIS_WAIT`] for one.
fn diagnose(consumer: &LagConsumer, e: &dyn std::fmt::Display) -> String {
    let deadline = std::time::Instant::now() + DIAGNOSIS_WAIT;
    while !consumer.context().has_cause() && std::time::Instant::now() < deadline {
        let _ = consumer.poll(Duration::from_millis(50));
    }
    consumer.context().explain(e)
}

/// A partition's committed offset from the broker's answer: `None` when the
/// group has committed nothing there. A per-partition error (or a partition
/// missing from the answer) is an error, never "nothing committed": with
/// `on_missing_offset: latest` that would read as lag 0 and scale in on
/// data that was an error.
fn committed_offset(
    answer: Option<(Offset, rdkafka::error::KafkaResult<()>)>,
) -> Result<Option<i64>, String> {
    match answer {
        None => Err("missing from the broker's answer".into()),
        Some((_, Err(e))) => Err(e.to_string()),
        Some((Offset::Offset(n), Ok(()))) if n >= 0 => Ok(Some(n)),
        Some((_, Ok(()))) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_error_in_committed_offsets_is_an_error_not_lag_zero() {
        use rdkafka::error::{KafkaError, RDKafkaErrorCode};
        assert_eq!(
            committed_offset(Some((Offset::Offset(42), Ok(())))),
            Ok(Some(42))
        );
        assert_eq!(committed_offset(Some((Offset::Invalid, Ok(())))), Ok(None));
        let e = committed_offset(Some((
            Offset::Invalid,
            Err(KafkaError::OffsetFetch(RDKafkaErrorCode::NotCoordinator)),
        )))
        .unwrap_err();
        assert!(e.contains("Not coordinator"), "{e}");
        assert!(committed_offset(None).is_err());
    }
}
