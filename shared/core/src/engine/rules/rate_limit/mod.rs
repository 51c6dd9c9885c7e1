//! HPA rate limits (`calculateScaleUpLimitWithScalingRules` /
//! `calculateScaleDownLimitWithBehaviors` in `horizontal.go`): each policy
//! allows a change relative to the count at the start of its period, derived
//! from the recorded actions of both directions; `select` picks the most
//! (max) or least (min) permissive; a limit never moves the count against
//! its direction.

use crate::engine::time::plus;
use jiff::Timestamp;

use super::context::Context;
use crate::config::{RateLimitPolicy, RateLimits, SelectPolicy};
use crate::engine::chain::Chain;
use crate::engine::decision::Term;
use crate::engine::state::ScalingAction;

/// The rate limit of the direction the count moves in (with trusted signals).
pub(in crate::engine) fn apply(ctx: &Context, chain: &mut Chain) {
    if chain.recommendation.is_none() {
        return;
    }
    let (p, previous, actions) = (ctx.policy, ctx.previous, &ctx.state.actions);
    if chain.value > previous {
        // Under `slo` the default scale-out limits are off (see PolicyConfig).
        let Some(limits) = p.scale_out_rate_limits() else {
            return;
        };
        let limit = scale_out_limit(previous, actions, ctx.now, limits);
        if chain.value > limit {
            chain.set(
                Term::ScaleOutRateLimit,
                limit,
                format!(
                    "scale-out rate limit ({:?} of {} policies) allows {limit}",
                    limits.select,
                    limits.policies.len()
                ),
            );
        }
    } else if chain.value < previous {
        let limits = &p.scale_in.rate_limits;
        let limit = scale_in_limit(previous, actions, ctx.now, limits);
        if chain.value < limit {
            chain.set(
                Term::ScaleInRateLimit,
                limit,
                format!(
                    "scale-in rate limit ({:?} of {} policies) allows {limit}",
                    limits.select,
                    limits.policies.len()
                ),
            );
        }
    }
}

/// The count at the start of `period`: the current count less what actions
/// inside the period added, plus what they removed, in both directions
/// (HPA since kubernetes #108354, PR #109058: `periodStartReplicas`).
fn period_start(
    current: u32,
    actions: &[ScalingAction],
    now: Timestamp,
    period: jiff::SignedDuration,
) -> u32 {
    let net: i64 = actions
        .iter()
        .filter(|a| plus(a.at, period) > now)
        .map(|a| i64::from(a.to) - i64::from(a.from))
        .fold(0i64, i64::saturating_add);
    (i64::from(current).saturating_sub(net)).clamp(0, i64::from(u32::MAX)) as u32
}

/// Picks one of two limits.
type Pick = fn(u32, u32) -> u32;

/// Each policy's proposal from the count at its period's start, combined by
/// `select`: `max` keeps the one allowing the most change (`permissive`),
/// `min` the least (`restrictive`). `None` without policies.
fn combine(
    current: u32,
    actions: &[ScalingAction],
    now: Timestamp,
    limits: &RateLimits,
    propose: impl Fn(u32, &RateLimitPolicy) -> u32,
    (permissive, restrictive): (Pick, Pick),
) -> Option<u32> {
    limits
        .policies
        .iter()
        .map(|policy| {
            let start = period_start(current, actions, now, policy.period().signed());
            propose(start, policy)
        })
        .reduce(|a, b| match limits.select {
            SelectPolicy::Max => permissive(a, b),
            _ => restrictive(a, b),
        })
}

/// Highest count a scale-out may reach now: never below the current count
/// (a scale-out limit does not scale in; HPA's
/// `convertDesiredReplicasWithBehaviorRate`), and from zero at least one
/// worker, whatever a percent policy says (a percent of zero is zero; KEDA
/// takes a workload from 0 to 1 itself, before the HPA's limits apply).
pub(crate) fn scale_out_limit(
    current: u32,
    actions: &[ScalingAction],
    now: Timestamp,
    limits: &RateLimits,
) -> u32 {
    if limits.select == SelectPolicy::Disabled {
        return current;
    }
    let propose = |start: u32, policy: &RateLimitPolicy| match *policy {
        RateLimitPolicy::Pods { value, .. } => start.saturating_add(value),
        // Rounded up, or a small fleet could never grow.
        RateLimitPolicy::Percent { value, .. } => (start as f64 * (1.0 + value as f64 / 100.0))
            .ceil()
            .min(u32::MAX as f64) as u32,
    };
    // No policy: no limit.
    combine(current, actions, now, limits, propose, (u32::max, u32::min))
        .unwrap_or(u32::MAX)
        .max(current)
        .max(1)
}

/// Lowest count a scale-in may reach now: never above the current count (a
/// scale-in limit does not scale out).
pub(crate) fn scale_in_limit(
    current: u32,
    actions: &[ScalingAction],
    now: Timestamp,
    limits: &RateLimits,
) -> u32 {
    if limits.select == SelectPolicy::Disabled {
        return current;
    }
    let propose = |start: u32, policy: &RateLimitPolicy| match *policy {
        RateLimitPolicy::Pods { value, .. } => start.saturating_sub(value),
        // HPA truncates toward zero here.
        RateLimitPolicy::Percent { value, .. } => {
            (start as f64 * (1.0 - value as f64 / 100.0)).max(0.0) as u32
        }
    };
    // For scale-in the most permissive policy is the lowest limit.
    combine(current, actions, now, limits, propose, (u32::min, u32::max))
        .unwrap_or(0)
        .min(current)
}

#[cfg(test)]
mod tests;
