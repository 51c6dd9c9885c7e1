//! Kafka's partition cap: no more consumers than partitions can use (or
//! growth of the topic, up to `max_partitions`), per signal in
//! `signals::kafka` (for a pool, `signals::pool`); here what the signals
//! want after it.

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
    if signals.capped()
        || signals
            .trusted
            .iter()
            .any(|a| a.partition_request.is_some())
        || wanted != chain.value
    {
        chain.set(
            Term::PartitionCap,
            wanted,
            "workers capped by Kafka partitions (see signals)".into(),
        );
    }
}
