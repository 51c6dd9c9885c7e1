//! The fallback after repeated signal failures (KEDA's `fallback`): after
//! more than `failures_before_fallback` consecutive failures of a signal,
//! the configured fallback count applies; trusted signals may still ask for more.

use super::context::Context;
use crate::engine::chain::Chain;
use crate::engine::decision::Term;

/// The fallback count, when due.
pub(in crate::engine) fn apply(ctx: &Context, chain: &mut Chain) {
    if !ctx.signals.fallback_due {
        return;
    }
    let untrusted = &ctx.policy.untrusted_data;
    let fallback = untrusted.fallback;
    let value = fallback.apply(ctx.previous);
    let failures = untrusted.failures_before_fallback;
    let (v, detail) = if ctx.signals.trusted.is_empty() {
        (
            value,
            format!("signal failures above {failures}: fallback {fallback:?} gives {value}"),
        )
    } else {
        (
            value.max(chain.value),
            format!(
                "signal failures above {failures}: fallback {fallback:?} gives {value}; trusted signals want {}",
                chain.value
            ),
        )
    };
    chain.set(Term::Fallback, v, detail);
}
