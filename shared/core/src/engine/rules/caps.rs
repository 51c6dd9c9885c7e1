//! The caps on what a signal's workers can use: Kafka's partitions (or
//! growth of the topic, up to `max_partitions`) and a FIFO queue's message
//! groups, per signal in `signals::kafka` and `signals::fifo` (for a pool,
//! `signals::pool`); here what the signals want after them.

use super::context::Context;
use crate::engine::chain::Chain;
use crate::engine::decision::Term;

/// What the trusted signals want after their caps.
pub(in crate::engine) fn apply(ctx: &Context, chain: &mut Chain) {
    let signals = ctx.signals;
    if signals.trusted.is_empty() {
        return;
    }
    let wanted = signals.wanted();
    let grows = signals
        .trusted
        .iter()
        .any(|a| a.partition_request.is_some());
    match signals.capped_by() {
        Some(Term::FifoGroups) if !grows => chain.set(
            Term::FifoGroups,
            wanted,
            "workers capped by the FIFO message groups that can be worked at once (see signals)"
                .into(),
        ),
        capped => {
            if capped.is_some() || grows || wanted != chain.value {
                chain.set(
                    Term::PartitionCap,
                    wanted,
                    "workers capped by Kafka partitions (see signals)".into(),
                );
            }
        }
    }
}
