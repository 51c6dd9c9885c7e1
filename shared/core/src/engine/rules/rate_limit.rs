//! HPA rate limits (`calculateScaleUpLimitWithBehaviors` /
//! `calculateScaleDownLimitWithBehaviors`): each policy allows a change
//! relative to the count at the start of its period, derived from recorded
//! actions; `select` picks the most (max) or least (min) permissive.

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

/// Net workers added (scale-out) or removed (scale-in) by actions inside `period` of `now`.
fn changed_in_period(
    actions: &[ScalingAction],
    now: Timestamp,
    period: jiff::SignedDuration,
    out: bool,
) -> u32 {
    actions
        .iter()
        .filter(|a| plus(a.at, period) > now)
        .map(|a| {
            if out && a.is_scale_out() {
                a.to - a.from
            } else if !out && a.is_scale_in() {
                a.from - a.to
            } else {
                0
            }
        })
        .fold(0u32, u32::saturating_add)
}

/// Highest count a scale-out may reach now.
pub(crate) fn scale_out_limit(
    current: u32,
    actions: &[ScalingAction],
    now: Timestamp,
    limits: &RateLimits,
) -> u32 {
    if limits.select == SelectPolicy::Disabled {
        return current;
    }
    let mut result: Option<u32> = None;
    for policy in &limits.policies {
        let added = changed_in_period(actions, now, policy.period().signed(), true);
        let start = current.saturating_sub(added);
        let proposed = match *policy {
            RateLimitPolicy::Pods { value, .. } => start.saturating_add(value),
            RateLimitPolicy::Percent { value, .. } => (start as f64 * (1.0 + value as f64 / 100.0))
                .ceil()
                .min(u32::MAX as f64) as u32,
        };
        result = Some(match (result, limits.select) {
            (None, _) => proposed,
            (Some(r), SelectPolicy::Max) => r.max(proposed),
            (Some(r), _) => r.min(proposed),
        });
    }
    // No policy: no limit.
    result.unwrap_or(u32::MAX)
}

/// Lowest count a scale-in may reach now.
pub(crate) fn scale_in_limit(
    current: u32,
    actions: &[ScalingAction],
    now: Timestamp,
    limits: &RateLimits,
) -> u32 {
    if limits.select == SelectPolicy::Disabled {
        return current;
    }
    let mut result: Option<u32> = None;
    for policy in &limits.policies {
        let removed = changed_in_period(actions, now, policy.period().signed(), false);
        let start = current.saturating_add(removed);
        let proposed = match *policy {
            RateLimitPolicy::Pods { value, .. } => start.saturating_sub(value),
            // HPA truncates toward zero here.
            RateLimitPolicy::Percent { value, .. } => {
                (start as f64 * (1.0 - value as f64 / 100.0)).max(0.0) as u32
            }
        };
        result = Some(match (result, limits.select) {
            (None, _) => proposed,
            // For scale-in the most permissive policy is the lowest limit.
            (Some(r), SelectPolicy::Max) => r.min(proposed),
            (Some(r), _) => r.max(proposed),
        });
    }
    result.unwrap_or(0)
}

#[cfg(test)]
mod tests {
    //! Pinned to the Kubernetes HPA documentation's examples
    //! (kubernetes.io, "Horizontal Pod Autoscaling", scaling policies).
    use super::*;
    use crate::config::{DirectionConfig, HumanDuration};

    fn now() -> Timestamp {
        Timestamp::from_second(1_700_000_000).unwrap()
    }

    fn limits(select: SelectPolicy, policies: Vec<RateLimitPolicy>) -> RateLimits {
        RateLimits { select, policies }
    }

    #[test]
    fn hpa_default_scale_up_from_10_allows_20() {
        let d = DirectionConfig::hpa_scale_out();
        assert_eq!(scale_out_limit(10, &[], now(), &d.rate_limits), 20);
    }

    #[test]
    fn hpa_30_pods_per_minute_from_10_allows_40() {
        let l = limits(
            SelectPolicy::Max,
            vec![RateLimitPolicy::Pods {
                value: 30,
                period: HumanDuration::secs(60),
            }],
        );
        assert_eq!(scale_out_limit(10, &[], now(), &l), 40);
    }

    #[test]
    fn hpa_200_percent_per_minute_from_10_allows_30() {
        let l = limits(
            SelectPolicy::Max,
            vec![RateLimitPolicy::Percent {
                value: 200,
                period: HumanDuration::secs(60),
            }],
        );
        assert_eq!(scale_out_limit(10, &[], now(), &l), 30);
    }

    #[test]
    fn hpa_scale_in_20_pods_per_minute_from_1000_allows_980() {
        let l = limits(
            SelectPolicy::Max,
            vec![RateLimitPolicy::Pods {
                value: 20,
                period: HumanDuration::secs(60),
            }],
        );
        assert_eq!(scale_in_limit(1000, &[], now(), &l), 980);
    }

    #[test]
    fn period_start_comes_from_recorded_actions() {
        // 4 added 10s ago under `4 pods / 15s`: nothing more until the period passes.
        let l = limits(
            SelectPolicy::Max,
            vec![RateLimitPolicy::Pods {
                value: 4,
                period: HumanDuration::secs(15),
            }],
        );
        let a = [ScalingAction {
            at: now() - jiff::SignedDuration::from_secs(10),
            from: 6,
            to: 10,
        }];
        assert_eq!(scale_out_limit(10, &a, now(), &l), 10);
        let later = now() + jiff::SignedDuration::from_secs(6);
        assert_eq!(scale_out_limit(10, &a, later, &l), 14);
    }

    #[test]
    fn select_min_and_disabled() {
        let p = vec![
            RateLimitPolicy::Percent {
                value: 100,
                period: HumanDuration::secs(15),
            },
            RateLimitPolicy::Pods {
                value: 4,
                period: HumanDuration::secs(15),
            },
        ];
        assert_eq!(
            scale_out_limit(10, &[], now(), &limits(SelectPolicy::Min, p.clone())),
            14
        );
        assert_eq!(
            scale_out_limit(10, &[], now(), &limits(SelectPolicy::Disabled, p.clone())),
            10
        );
        assert_eq!(
            scale_in_limit(10, &[], now(), &limits(SelectPolicy::Disabled, p)),
            10
        );
    }
}
