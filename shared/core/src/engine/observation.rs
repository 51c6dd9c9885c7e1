//! What the shell measured before calling `decide`.

use std::collections::BTreeMap;

use crate::config::SignalKind;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Everything measured for one target at one tick.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observations {
    /// The worker fleet as it is now.
    pub worker: WorkerObservation,
    /// One reading per configured signal, by signal name. A configured signal
    /// with no reading counts as failed.
    #[serde(default)]
    pub signals: BTreeMap<String, SignalReading>,
}

/// The worker fleet as reported by its API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerObservation {
    /// The count currently set (ECS desiredCount, Lambda concurrency). Decisions start from it.
    pub desired: u32,
    /// Workers running now.
    pub running: u32,
    /// Workers starting (ECS pending tasks).
    #[serde(default)]
    pub pending: u32,
    /// A deployment is rolling: scale-in is suspended until it ends.
    #[serde(default)]
    pub deployment_in_progress: bool,
    /// Provisioned concurrency requested on the worker's qualifier (Lambda
    /// workers with one); none when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned: Option<u32>,
    /// Tasks holding scale-in protection now (ECS workers with
    /// `respect_task_protection`); none when not read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected: Option<u32>,
    /// The desired count of the worker's `spillover` sibling service; none
    /// without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spillover: Option<u32>,
}

/// One signal's reading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case", deny_unknown_fields)]
pub enum SignalReading {
    /// Measured.
    Ok {
        /// When the measurement was taken (for staleness).
        observed_at: Timestamp,
        /// What was measured.
        measurement: Measurement,
    },
    /// The metric source failed.
    Failed {
        /// Why, naming the resource.
        error: String,
    },
}

/// A measurement of one signal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Measurement {
    /// SQS queue attributes.
    Sqs(SqsDepth),
    /// Kafka offsets per partition.
    Kafka(KafkaOffsets),
}

impl Measurement {
    /// What was measured, matching `SignalConfig::kind`.
    pub fn kind(&self) -> SignalKind {
        match self {
            Measurement::Sqs(_) => SignalKind::Sqs,
            Measurement::Kafka(_) => SignalKind::Kafka,
        }
    }
}

/// SQS `ApproximateNumberOfMessages*`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqsDepth {
    /// Visible messages.
    pub visible: u64,
    /// Received, not yet deleted.
    #[serde(default)]
    pub in_flight: u64,
    /// Delayed.
    #[serde(default)]
    pub delayed: u64,
    /// A FIFO queue (`FifoQueue`): one message per message group in flight.
    #[serde(default, skip_serializing_if = "is_false")]
    pub fifo: bool,
    /// Messages in the queue's dead-letter queue (its `RedrivePolicy`), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_lettered: Option<u64>,
    /// Receives before a message is dead-lettered (`RedrivePolicy.maxReceiveCount`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_receive_count: Option<u32>,
    /// The queue's `VisibilityTimeout`, seconds: a message that failed stays
    /// in flight this long before it returns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility_timeout_s: Option<u32>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A consumer group's position on every partition of a topic (or of
/// several, in `topics`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaOffsets {
    /// One entry per partition of the topic (a signal on one topic).
    #[serde(default)]
    pub partitions: Vec<PartitionOffsets>,
    /// Each topic's partitions, for a signal on several (`topics`); then
    /// `partitions` is empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<TopicOffsets>,
    /// The group's state as the broker reports it (`Stable`, `Empty`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_state: Option<String>,
    /// Members of the group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<u32>,
}

/// One topic's partitions, in a reading of several.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicOffsets {
    /// The topic.
    pub topic: String,
    /// One entry per partition.
    pub partitions: Vec<PartitionOffsets>,
}

/// Watermarks and committed offset of one partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionOffsets {
    /// Partition id.
    pub partition: i32,
    /// Log start offset.
    pub low_watermark: i64,
    /// Next offset to be written.
    pub high_watermark: i64,
    /// The group's committed offset, if any.
    #[serde(default)]
    pub committed_offset: Option<i64>,
    /// The one record left past the committed offset is a transaction's
    /// commit or abort marker (a control record, which no consumer ever
    /// receives): the lag of 1 it leaves is no work. Read by the adapter;
    /// false when not checked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub only_marker_left: bool,
}
