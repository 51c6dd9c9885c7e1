//! The caps on what a signal's workers can use: Kafka's partitions (or
//! growth of the topic, up to `max_partitions`) and a FIFO queue's message
//! groups, per signal in `signals::kafka` and `signals::fifo` (for a pool,
//! `signals::pool`); here what the signals want after them.

use super::context::Context;
use crate::engine::chain::Chain;
use crate::engine::decision::Term;

/// FIFO groups again after the windows and cooldowns: groups inferred
/// after a burst began leave recommendations above them in the scale-in
/// window, and the workers above them idle whatever the window says.
pub(in crate::engine) fn fifo_ceiling(ctx: &Context, chain: &mut Chain) {
    if let Some(ceiling) = ctx.signals.fifo_ceiling().filter(|c| chain.value > *c) {
        chain.set(
            Term::FifoGroups,
            ceiling,
            format!(
                "workers above the {ceiling} the FIFO message groups keep busy would idle: not held by the window or cooldown"
            ),
        );
    }
}

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
