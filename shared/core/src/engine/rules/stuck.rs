//! Stuck partitions (Burrow's "stalled": lag, and a committed offset that
//! has not moved for `stuck_partition_observations`): their lag does not
//! drive scale-out, since more workers cannot help, and the fleet never
//! goes to zero while they have lag.

use super::context::Context;
use crate::engine::chain::Chain;
use crate::engine::decision::Term;

/// The count after each signal's stuck-partition rule.
pub(in crate::engine) fn exclude_from_scale_out(ctx: &Context, chain: &mut Chain) {
    if ctx.signals.any_stuck {
        chain.set(
            Term::StuckPartitions,
            ctx.signals.stage(|s| s.after_stuck),
            "stuck partitions' lag does not drive scale-out".into(),
        );
    }
}

/// Never zero while stuck partitions have lag.
pub(in crate::engine) fn never_zero(ctx: &Context, chain: &mut Chain) {
    if ctx.signals.any_stuck && chain.value == 0 {
        chain.set(
            Term::StuckPartitions,
            1,
            "stuck partitions still have lag: never zero".into(),
        );
    }
}
