//! Target tracking over the trusted signals: one pool sized for all of
//! them (`aggregate: sum`, `signals::pool`) or the max of what each sized
//! (`max`; backlog per worker and keep-up, or the SLO's queueing model, see
//! `signals::sizing`), then HPA's tolerance band.

use super::context::Context;
use crate::engine::chain::Chain;
use crate::engine::decision::Term;

/// The signals' sizing, then the tolerance band.
pub(in crate::engine) fn apply(ctx: &Context, chain: &mut Chain) {
    let signals = ctx.signals;
    if signals.trusted.is_empty() {
        return;
    }
    let policy = ctx.policy;
    let backlogs = signals
        .trusted
        .iter()
        .map(|a| format!("{} {}", a.assessment.signal, a.backlog))
        .collect::<Vec<_>>()
        .join(", ");
    let sizing = match (&signals.pooled, &policy.slo) {
        (Some(pooled), _) => pooled.detail.clone(),
        (None, Some(slo)) => format!(
            "backlog ({backlogs}) and load sized for a p{} wait <= {} (see signals)",
            slo.percentile, slo.wait
        ),
        (None, None) => format!(
            "backlog ({backlogs}) at {} per worker",
            policy.target_per_worker()
        ),
    };
    let sized = signals.stage(|s| s.sized);
    chain.set(Term::TargetTracking, sized, sizing);
    let after_tolerance = signals.stage(|s| s.after_tolerance);
    if after_tolerance != sized {
        chain.set(
            Term::Tolerance,
            after_tolerance,
            format!("within tolerance of the current {}", ctx.previous),
        );
    }
}
