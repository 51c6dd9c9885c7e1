//! What assessing one signal yields: the public record, and what the rules
//! of `decide` read beyond it.

use super::sizing::Load;
use crate::engine::decision::{PartitionRequest, SignalAssessment, Term};

/// A signal after assessment, with what the pipeline needs beyond the public record.
#[derive(Debug)]
pub(crate) struct AssessedSignal {
    pub assessment: SignalAssessment,
    /// Workers this signal wants (after tolerance, stuck rule and cap); `None` when untrusted.
    pub wanted: Option<u32>,
    /// Backlog counted, for activation.
    pub backlog: u64,
    /// The count after each stage of the sizing, for the explanation chain.
    pub stages: Option<Stages>,
    /// The cap that bound this signal: Kafka's partitions or a FIFO
    /// queue's message groups.
    pub capped_by: Option<Term>,
    /// Some stuck partition has lag.
    pub stuck_with_lag: bool,
    /// Growth asked for.
    pub partition_request: Option<PartitionRequest>,
    /// Busy workers the load in progress needs (the forecast's history),
    /// when the signal shows it.
    pub offered_load: Option<f64>,
    /// What the sizing read (backlog, busy, falling behind), for pooling
    /// several signals into one fleet; `None` when untrusted.
    pub load: Option<Load>,
    /// The workers the stuck-partition rule keeps (at least one), when this
    /// signal has stuck partitions with lag.
    pub stuck_floor: Option<u32>,
    /// The most workers this signal can keep busy: Kafka's partitions
    /// (after growth asked for), a FIFO queue's message groups; `None`
    /// without a cap (a standard queue, `allow_idle_consumers`).
    pub cap: Option<u32>,
    /// Why poison messages are suspected on this signal's queue, if they are.
    pub poison: Option<String>,
}

/// One signal's count after each sizing stage (the partition cap gives
/// [`AssessedSignal::wanted`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Stages {
    /// Sized from backlog and load (target tracking or the SLO).
    pub sized: u32,
    /// After the tolerance band.
    pub after_tolerance: u32,
    /// After the stuck-partition rule.
    pub after_stuck: u32,
}

impl Stages {
    /// A signal with no stuck-partition rule (SQS).
    pub fn without_stuck(sized: u32, after_tolerance: u32) -> Self {
        Stages {
            sized,
            after_tolerance,
            after_stuck: after_tolerance,
        }
    }
}
