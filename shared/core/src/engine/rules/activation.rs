//! Activation (KEDA's `activationQueueLength`, `activationLagThreshold`):
//! from zero, nothing starts unless the backlog is above `activation_backlog`.

use super::context::Context;
use crate::engine::chain::Chain;
use crate::engine::decision::Term;

/// At zero with a backlog not above the threshold: stay at zero.
pub(in crate::engine) fn apply(ctx: &Context, chain: &mut Chain) {
    let trusted = &ctx.signals.trusted;
    if trusted.is_empty() {
        return;
    }
    let threshold = ctx.policy.activation_backlog;
    // The pool's backlog under `sum`, the largest signal's under `max`.
    let total_backlog = ctx
        .policy
        .aggregate
        .combine(trusted.iter().map(|a| a.backlog as f64)) as u64;
    if ctx.previous == 0 && chain.value > 0 && total_backlog <= threshold {
        chain.set(
            Term::Activation,
            0,
            format!(
                "at zero and backlog {total_backlog} is not above activation_backlog {threshold}"
            ),
        );
    }
}
