//! What the metric sources can see of the world at one second, and its
//! readings in the engine's terms.

use qscale_core::config::SignalConfig;
use qscale_core::engine::{KafkaOffsets, Measurement, PartitionOffsets, SqsDepth};

/// What the metric sources can see at one second.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Visible messages (SQS) or total lag (Kafka).
    pub visible: u64,
    /// Messages being processed.
    pub in_flight: u64,
    /// Kafka: (produced, committed) per partition.
    pub partitions: Vec<(u64, u64)>,
    /// Several SQS queues: (visible, in flight) per queue; empty otherwise.
    pub queues: Vec<(u64, u64)>,
    /// A FIFO queue.
    pub fifo: bool,
    /// With poison messages: the dead-letter queue's depth, the redrive
    /// policy's `maxReceiveCount` and the visibility timeout (s).
    pub dead_letter: Option<(u64, u32, u32)>,
    /// Workers running.
    pub running: u32,
}

impl Snapshot {
    /// The SQS reading.
    pub fn sqs(&self) -> SqsDepth {
        SqsDepth {
            visible: self.visible,
            in_flight: self.in_flight,
            delayed: 0,
            fifo: self.fifo,
            dead_lettered: self.dead_letter.map(|d| d.0),
            max_receive_count: self.dead_letter.map(|d| d.1),
            visibility_timeout_s: self.dead_letter.map(|d| d.2),
        }
    }
    /// What the target's `index`-th signal reads: its own queue's depth
    /// when several queues feed the pool, else the one queue or topic.
    pub fn reading(&self, index: usize, signal: &SignalConfig) -> Measurement {
        match signal {
            SignalConfig::Kafka(_) => Measurement::Kafka(self.kafka()),
            SignalConfig::Sqs(_) => Measurement::Sqs(match self.queues.get(index) {
                Some(&(visible, in_flight)) => SqsDepth {
                    visible,
                    in_flight,
                    ..SqsDepth::default()
                },
                // Signals beyond the world's queues see an empty one.
                None if !self.queues.is_empty() => SqsDepth::default(),
                None => self.sqs(),
            }),
        }
    }

    /// The Kafka reading.
    pub fn kafka(&self) -> KafkaOffsets {
        KafkaOffsets {
            group_state: None,
            members: Some(self.running),
            topics: Vec::new(),
            partitions: self
                .partitions
                .iter()
                .enumerate()
                .map(|(i, &(produced, committed))| PartitionOffsets {
                    partition: i as i32,
                    low_watermark: 0,
                    high_watermark: produced as i64,
                    committed_offset: Some(committed as i64),
                    only_marker_left: false,
                })
                .collect(),
        }
    }
}
