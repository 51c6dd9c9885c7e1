//! Signals: the measured backlogs a target scales on.

use serde::{Deserialize, Serialize};

/// One signal of a target: an SQS queue or a Kafka consumer group on a topic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SignalConfig {
    /// An SQS queue's depth.
    Sqs(SqsSignal),
    /// A Kafka consumer group's lag on a topic.
    Kafka(KafkaSignal),
}

impl SignalConfig {
    /// The signal's name, unique within its target.
    pub fn name(&self) -> &str {
        match self {
            SignalConfig::Sqs(s) => &s.name,
            SignalConfig::Kafka(k) => &k.name,
        }
    }

    /// What the signal measures.
    pub fn kind(&self) -> SignalKind {
        match self {
            SignalConfig::Sqs(_) => SignalKind::Sqs,
            SignalConfig::Kafka(_) => SignalKind::Kafka,
        }
    }
}

/// The kinds of signal: `sqs` or `kafka` in JSON and explanations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// An SQS queue's depth.
    Sqs,
    /// A Kafka consumer group's lag.
    Kafka,
}

impl SignalKind {
    /// The snake_case name used in JSON, field paths and explanations.
    pub fn name(self) -> &'static str {
        match self {
            SignalKind::Sqs => "sqs",
            SignalKind::Kafka => "kafka",
        }
    }
}

impl std::fmt::Display for SignalKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An SQS queue. Backlog = visible + in-flight (default on) + delayed (default off).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SqsSignal {
    /// Name of the signal within the target.
    pub name: String,
    /// Queue URL, name or ARN.
    pub queue: String,
    /// Count messages being processed (not visible) as backlog. Default true:
    /// a worker busy with a message is still work the fleet has to carry.
    #[serde(default = "yes")]
    pub include_in_flight: bool,
    /// Count delayed messages as backlog. Default false: they cannot be worked yet.
    #[serde(default)]
    pub include_delayed: bool,
    /// Messages one worker holds in flight at once (its receive batch or
    /// concurrency). In-flight / this = busy workers. Default 1.
    #[serde(default = "one")]
    pub in_flight_per_worker: u32,
    /// FIFO queues: at most this many message groups have messages at once.
    /// SQS hands out one group's messages to one receiver at a time, so
    /// workers beyond the groups idle. Without it, qscale infers the groups
    /// when workers stay idle while messages wait (docs/decisions.md).
    #[serde(default)]
    pub max_active_groups: Option<u32>,
}

/// What a partition without a committed offset counts as.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MissingOffsetPolicy {
    /// The group will start at the end: the messages there are no backlog,
    /// but a partition holding any counts lag 1 until the group commits, so
    /// a `min: 0` target starts its first consumer.
    #[default]
    Latest,
    /// The group will start at the log start: high − low watermark
    /// (retention-deleted messages are not backlog).
    Earliest,
}

/// Which partitions cap the worker count of a Kafka signal.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PartitionCapMode {
    /// At most one worker per partition.
    #[default]
    Partitions,
    /// At most one worker per partition that has lag.
    PartitionsWithLag,
}

/// How a consumer group's assignor spreads partitions over its members,
/// which sets how many members can get one when it reads several topics.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PartitionAssignor {
    /// Kafka's and librdkafka's default: each topic's partitions spread on
    /// their own, so no more members work than the largest topic has partitions.
    #[default]
    Range,
    /// Every partition of every topic dealt in turn: members up to the total.
    RoundRobin,
    /// As round-robin, keeping assignments across rebalances.
    CooperativeSticky,
}

/// A Kafka consumer group reading one topic, or several (`topics`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KafkaSignal {
    /// Name of the signal within the target.
    pub name: String,
    /// Name of a cluster under `kafka_clusters`.
    pub cluster: String,
    /// Consumer group id.
    pub group: String,
    /// Topic the group consumes (or `topics`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub topic: String,
    /// Several topics the group consumes, instead of `topic`: their lag is
    /// summed, and the partition cap follows `assignor`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// The group's partition assignor (`partition.assignment.strategy`):
    /// with `topics`, how many workers can get a partition.
    #[serde(default)]
    pub assignor: PartitionAssignor,
    /// How a partition without a committed offset counts.
    #[serde(default)]
    pub on_missing_offset: MissingOffsetPolicy,
    /// Which partitions cap the worker count.
    #[serde(default)]
    pub partition_cap: PartitionCapMode,
    /// Allow more workers than partitions (they would sit idle). Default false.
    #[serde(default)]
    pub allow_idle_consumers: bool,
    /// Opt-in partition growth: ask for up to this many partitions instead of
    /// capping workers. Keyed ordering changes when partitions grow.
    #[serde(default)]
    pub max_partitions: Option<u32>,
    /// Time-lag goal: when a (non-stalled) partition is further behind than
    /// this, workers grow in proportion. Lag in seconds is interpolated from
    /// the offset history kept in state.
    #[serde(default)]
    pub max_lag: Option<super::values::HumanDuration>,
}

impl KafkaSignal {
    /// The topics the group consumes: `topic`, or each of `topics`.
    pub fn topic_names(&self) -> Vec<&str> {
        if self.topics.is_empty() {
            vec![self.topic.as_str()]
        } else {
            self.topics.iter().map(String::as_str).collect()
        }
    }
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}
