//! Untrusted data: with no trusted signal the count holds, and a failed or
//! stale signal never causes a scale-in (the fallback, after repeated
//! failures, is [`super::fallback`]).

use super::context::Context;
use crate::engine::chain::Chain;
use crate::engine::decision::Term;

/// No signal can be trusted: hold the current count.
pub(in crate::engine) fn no_trusted_signal(ctx: &Context, chain: &mut Chain) {
    if ctx.signals.trusted.is_empty() {
        let previous = ctx.previous;
        chain.set(
            Term::NoTrustedSignal,
            previous,
            format!("no signal can be trusted; holding {previous}"),
        );
    }
}

/// Some signal failed or is stale (and the fallback is not due): no scale-in.
pub(in crate::engine) fn hold_scale_in(ctx: &Context, chain: &mut Chain) {
    if !ctx.signals.fallback_due && ctx.signals.any_untrusted && chain.value < ctx.previous {
        chain.set(
            Term::UntrustedSignal,
            ctx.previous,
            "a signal failed or is stale: no scale-in on data we cannot trust".into(),
        );
    }
}
