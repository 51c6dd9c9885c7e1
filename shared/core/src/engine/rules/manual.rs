//! Manual changes: a worker count found other than the one the last
//! decision left (a person during an incident, another scaler) is held for
//! `policy.manual_override_hold` instead of undone at the next scale-in
//! window, audited once when found (`manual_override`). Floors (schedules,
//! registered events, the forecast) may still raise it, and bounds apply.

use jiff::Timestamp;

use super::context::Context;
use crate::config::PolicyConfig;
use crate::engine::chain::Chain;
use crate::engine::decision::Term;
use crate::engine::observation::WorkerObservation;
use crate::engine::state::{ManualHold, TargetState};
use crate::engine::time::plus;

/// Finds a count set outside qscale and starts (or restarts) its hold in
/// `next`; returns the notice that audits it. `state` is what the previous
/// decision returned.
pub(in crate::engine) fn detect(
    policy: &PolicyConfig,
    state: &TargetState,
    worker: &WorkerObservation,
    now: Timestamp,
    next: &mut TargetState,
) -> Option<String> {
    if next.manual_hold.is_some_and(|h| h.until <= now) {
        next.manual_hold = None;
    }
    let hold = policy.manual_override_hold;
    let last = state.last_decided?;
    // A replay of the tick that left it compares nothing: that tick's
    // finding (if any) is in the state already.
    if hold.0.is_zero() || last.at >= now || worker.deployment_in_progress {
        return None;
    }
    let observed = worker.desired;
    // The count it left, or the one it found: its action did not happen (a
    // lost answer, a stop between the claim and the action).
    if observed == last.to || observed == last.from {
        return None;
    }
    let until = plus(now, hold.signed());
    next.manual_hold = Some(ManualHold {
        from: last.to,
        to: observed,
        since: now,
        until,
    });
    Some(format!(
        "manual_override: the count is {observed} where qscale left {} at {}: held until {until} (manual_override_hold {hold})",
        last.to, last.at
    ))
}

/// Holds the count found outside qscale while its hold lasts.
pub(in crate::engine) fn hold(ctx: &Context, chain: &mut Chain) {
    let Some(h) = ctx.state.manual_hold.filter(|h| h.until > ctx.now) else {
        return;
    };
    if chain.value != ctx.previous {
        chain.set(
            Term::ManualOverride,
            ctx.previous,
            format!(
                "set to {} outside qscale at {} (qscale had left {}): held until {} instead of {}",
                h.to, h.since, h.from, h.until, chain.value
            ),
        );
    }
}
