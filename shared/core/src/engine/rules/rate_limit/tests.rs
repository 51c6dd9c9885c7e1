//! Pinned to the Kubernetes HPA documentation's examples (kubernetes.io,
//! "Horizontal Pod Autoscaling", scaling policies) and to the HPA's own
//! table, `TestScalingWithRules` (hpa_table.rs).
use super::*;
use crate::engine::state::ScalingAction;

mod hpa_table;
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
    // HPA's default scale-up policies: 100% or 4 pods per 15 s.
    let p = DirectionConfig::hpa_scale_out().rate_limits.policies;
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
