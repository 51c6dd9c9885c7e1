//! Kafka's partition cap: no more consumers than partitions can use (or
//! growth of the topic, up to `max_partitions`), per signal in
//! `signals::kafka`; here the max of what the signals want after it.

use super::context::Context;
use crate::engine::chain::Chain;
use crate::engine::decision::Term;

/// The most any trusted signal wants after its cap.
pub(in crate::engine) fn apply(ctx: &Context, chain: &mut Chain) {
    let trusted = &ctx.signals.trusted;
    if trusted.is_empty() {
        return;
    }
    let wanted = trusted.iter().filter_map(|a| a.wanted).max().unwrap_or(0);
    if trusted
        .iter()
        .any(|a| a.capped || a.partition_request.is_some())
        || wanted != chain.value
    {
        chain.set(
            Term::PartitionCap,
            wanted,
            "workers capped by Kafka partitions (see signals)".into(),
        );
    }
}
