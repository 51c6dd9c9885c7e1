//! The HPA's own table for rate limits, ported case by case:
//! `TestScalingWithRules` in kubernetes/kubernetes
//! `pkg/controller/podautoscaler/horizontal_test.go` (the version with
//! scale-up and scale-down events in both directions, after PR #109058).
//! `normalize` is HPA's `convertDesiredReplicasWithBehaviorRate` around
//! qscale's `scale_out_limit` / `scale_in_limit`: the direction's limit, then
//! `min`/`max`, with HPA's condition names. The names and numbers below are
//! HPA's; every case agrees.

use jiff::{SignedDuration, Timestamp};

use super::super::{scale_in_limit, scale_out_limit};
use crate::config::{DirectionConfig, HumanDuration, RateLimitPolicy, RateLimits, SelectPolicy};
use crate::engine::state::ScalingAction;

fn now() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap()
}

/// HPA's `generateScalingRules(pods, podsPeriod, percent, percentPeriod, _)`
/// (select max; a zero value leaves that policy out).
fn rules(pods: u32, pods_period: i64, percent: u32, percent_period: i64) -> RateLimits {
    let mut policies = Vec::new();
    if pods != 0 {
        policies.push(RateLimitPolicy::Pods {
            value: pods,
            period: HumanDuration::secs(pods_period as u64),
        });
    }
    if percent != 0 {
        policies.push(RateLimitPolicy::Percent {
            value: percent,
            period: HumanDuration::secs(percent_period as u64),
        });
    }
    RateLimits {
        select: SelectPolicy::Max,
        policies,
    }
}

/// HPA's `generateEventsUniformDistribution(changes, period)`: one event per
/// change, each in the middle of its share of the last `period` seconds,
/// oldest first; as qscale actions (up: +change, down: -change).
fn events(changes: &[u32], period: i64, up: bool) -> Vec<ScalingAction> {
    let n = changes.len() as i64;
    let segment = period / n;
    changes
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let ago = period - segment * (i as i64 + 1) + segment / 2;
            let (from, to) = if up {
                (1000, 1000 + c)
            } else {
                (1000 + c, 1000)
            };
            ScalingAction {
                at: now() - SignedDuration::from_secs(ago),
                from,
                to,
            }
        })
        .collect()
}

struct Case {
    name: &'static str,
    up_events: Vec<ScalingAction>,
    down_events: Vec<ScalingAction>,
    min: u32,
    max: u32,
    /// `None`: HPA's default scale-up (100% or 4 pods per 15 s, max).
    up: Option<RateLimits>,
    /// `None`: HPA's default scale-down (100% per 15 s).
    down: Option<RateLimits>,
    current: u32,
    desired: u32,
    expected: u32,
    condition: &'static str,
}

impl Default for Case {
    fn default() -> Self {
        Case {
            name: "",
            up_events: Vec::new(),
            down_events: Vec::new(),
            min: 1,
            max: 1000,
            up: None,
            down: None,
            current: 0,
            desired: 0,
            expected: 0,
            condition: "",
        }
    }
}

/// HPA's `convertDesiredReplicasWithBehaviorRate` over qscale's limits.
fn normalize(c: &Case) -> (u32, &'static str) {
    let actions: Vec<ScalingAction> = c.up_events.iter().chain(&c.down_events).copied().collect();
    let up =
        c.up.clone()
            .unwrap_or(DirectionConfig::hpa_scale_out().rate_limits);
    let down = c
        .down
        .clone()
        .unwrap_or(DirectionConfig::hpa_scale_in().rate_limits);
    if c.desired > c.current {
        let limit = scale_out_limit(c.current, &actions, now(), &up);
        let (allowed, why) = if c.max > limit {
            (limit, "ScaleUpLimit")
        } else {
            (c.max, "TooManyReplicas")
        };
        if c.desired > allowed {
            return (allowed, why);
        }
    } else if c.desired < c.current {
        let limit = scale_in_limit(c.current, &actions, now(), &down);
        let (allowed, why) = if c.min < limit {
            (limit, "ScaleDownLimit")
        } else {
            (c.min, "TooFewReplicas")
        };
        if c.desired < allowed {
            return (allowed, why);
        }
    }
    (c.desired, "DesiredWithinRange")
}

#[rustfmt::skip] // One line per HPA case, as in its table.
fn cases() -> Vec<Case> {
    let e = |changes: &[u32], up| events(changes, 120, up);
    vec![
        Case { name: "prenormalized desired replicas within range", current: 5, desired: 7, min: 3, max: 8, expected: 7, condition: "DesiredWithinRange", ..Case::default() },
        Case { name: "prenormalized desired replicas < minReplicas", current: 3, desired: 1, min: 2, max: 8, expected: 2, condition: "TooFewReplicas", ..Case::default() },
        Case { name: "prenormalized desired replicas within range when minReplicas is 0", current: 1, desired: 0, min: 0, max: 10, expected: 0, condition: "DesiredWithinRange", ..Case::default() },
        Case { name: "maxReplicas is the limit because maxReplicas < scaleUpLimit", current: 20, desired: 1000, min: 1, max: 10, expected: 10, condition: "TooManyReplicas", ..Case::default() },
        Case { name: "desired replica count is more than the maximum replica count", current: 100, desired: 1000, min: 100, max: 150, expected: 150, condition: "TooManyReplicas", ..Case::default() },
        Case { name: "scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies", current: 3, desired: 1000, min: 1, max: 2000, up: Some(rules(0, 0, 1, 60)), expected: 4, condition: "ScaleUpLimit", ..Case::default() },
        Case { name: "scaleDownLimit is the limit because scaleDownLimit > minReplicas with user defined policies", current: 1000, desired: 3, min: 3, max: 2000, down: Some(rules(20, 60, 0, 0)), expected: 980, condition: "ScaleDownLimit", ..Case::default() },
        Case { name: "scaleUp with default behavior", current: 10, desired: 50, expected: 20, condition: "ScaleUpLimit", ..Case::default() },
        Case { name: "scaleUp with pods policy larger than percent policy", up: Some(rules(100, 60, 100, 60)), current: 10, desired: 500, expected: 110, condition: "ScaleUpLimit", ..Case::default() },
        Case { name: "scaleUp with percent policy larger than pods policy", up: Some(rules(2, 60, 100, 60)), current: 10, desired: 500, expected: 20, condition: "ScaleUpLimit", ..Case::default() },
        Case { name: "scaleUp with spec MaxReplicas limitation with large pod policy", up: Some(rules(100, 60, 0, 0)), current: 10, desired: 50, expected: 50, condition: "DesiredWithinRange", ..Case::default() },
        Case { name: "scaleUp with spec MaxReplicas limitation with large percent policy", up: Some(rules(10000, 60, 0, 0)), current: 10, desired: 50, expected: 50, condition: "DesiredWithinRange", ..Case::default() },
        Case { name: "scaleUp with pod policy limitation", up: Some(rules(30, 60, 0, 0)), current: 10, desired: 50, expected: 40, condition: "ScaleUpLimit", ..Case::default() },
        Case { name: "scaleUp with percent policy limitation", up: Some(rules(0, 0, 200, 60)), current: 10, desired: 50, expected: 30, condition: "ScaleUpLimit", ..Case::default() },
        Case { name: "scaleDown with percent policy larger than pod policy", down: Some(rules(20, 60, 1, 60)), current: 100, desired: 2, expected: 80, condition: "ScaleDownLimit", ..Case::default() },
        Case { name: "scaleDown with pod policy larger than percent policy", down: Some(rules(2, 60, 1, 60)), current: 100, desired: 2, expected: 98, condition: "ScaleDownLimit", ..Case::default() },
        Case { name: "scaleDown with spec MinReplicas=nil limitation with large pod policy", down: Some(rules(100, 60, 0, 0)), current: 10, desired: 0, expected: 1, condition: "TooFewReplicas", ..Case::default() },
        Case { name: "scaleDown with spec MinReplicas limitation with large percent policy", min: 5, down: Some(rules(0, 0, 100, 60)), current: 10, desired: 2, expected: 5, condition: "TooFewReplicas", ..Case::default() },
        Case { name: "scaleDown with pod policy limitation", down: Some(rules(5, 60, 0, 0)), current: 10, desired: 2, expected: 5, condition: "ScaleDownLimit", ..Case::default() },
        Case { name: "scaleDown with percent policy limitation", down: Some(rules(0, 0, 50, 60)), current: 10, desired: 5, expected: 5, condition: "DesiredWithinRange", ..Case::default() },
        Case { name: "scaleUp with spec MaxReplicas limitation with large pod policy and events", up_events: e(&[1, 5, 9], true), max: 200, up: Some(rules(300, 60, 0, 0)), current: 100, desired: 500, expected: 200, condition: "TooManyReplicas", ..Case::default() },
        Case { name: "scaleUp with spec MaxReplicas limitation with large percent policy and events", up_events: e(&[1, 5, 9], true), max: 200, up: Some(rules(0, 0, 10000, 60)), current: 100, desired: 500, expected: 200, condition: "TooManyReplicas", ..Case::default() },
        Case { name: "scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events", up_events: e(&[1, 5, 9], true), up: Some(rules(5, 120, 0, 0)), current: 100, desired: 500, expected: 100, condition: "ScaleUpLimit", ..Case::default() },
        Case { name: "scaleUp with pod policy and previous scale up events", up_events: e(&[1, 5, 9], true), up: Some(rules(150, 120, 0, 0)), current: 100, desired: 500, expected: 235, condition: "ScaleUpLimit", ..Case::default() },
        Case { name: "scaleUp with percent policy and previous scale up events", up_events: e(&[1, 5, 9], true), up: Some(rules(0, 0, 200, 120)), current: 100, desired: 500, expected: 255, condition: "ScaleUpLimit", ..Case::default() },
        Case { name: "scaleUp with percent policy and previous scale up and down events", up_events: e(&[4], true), down_events: e(&[2], false), up: Some(rules(0, 0, 300, 300)), current: 6, desired: 24, expected: 16, condition: "ScaleUpLimit", ..Case::default() },
        Case { name: "scaleDown with default policy and previous events", down_events: e(&[1, 5, 9], false), current: 10, desired: 5, expected: 5, condition: "DesiredWithinRange", ..Case::default() },
        Case { name: "scaleDown with spec MinReplicas=nil limitation with large pod policy and previous events", down_events: e(&[1, 5, 9], false), down: Some(rules(115, 120, 0, 0)), current: 100, desired: 0, expected: 1, condition: "TooFewReplicas", ..Case::default() },
        Case { name: "scaleDown with spec MinReplicas limitation with large pod policy and previous events", down_events: e(&[1, 5, 9], false), min: 5, down: Some(rules(130, 120, 0, 0)), current: 100, desired: 0, expected: 5, condition: "TooFewReplicas", ..Case::default() },
        Case { name: "scaleDown with spec MinReplicas limitation with large percent policy and previous events", down_events: e(&[1, 5, 9], false), min: 5, down: Some(rules(0, 0, 100, 120)), current: 100, desired: 2, expected: 5, condition: "TooFewReplicas", ..Case::default() },
        Case { name: "scaleDown with pod policy limitation and previous events", down_events: e(&[1, 5, 9], false), down: Some(rules(5, 120, 0, 0)), current: 100, desired: 2, expected: 100, condition: "ScaleDownLimit", ..Case::default() },
        Case { name: "scaleDown with percent policy limitation and previous events", down_events: e(&[2, 4, 6], false), down: Some(rules(0, 0, 50, 120)), current: 100, desired: 0, expected: 56, condition: "ScaleDownLimit", ..Case::default() },
        Case { name: "scaleDown with percent policy and previous scale up and down events", up_events: events(&[2], 120, true), down_events: events(&[4], 120, false), down: Some(rules(0, 0, 50, 180)), current: 10, desired: 1, expected: 6, condition: "ScaleDownLimit", ..Case::default() },
        Case { name: "scaleDown with previous events preventing further scale down", down_events: e(&[10, 10, 10], false), down: Some(rules(0, 0, 10, 120)), current: 100, desired: 0, expected: 100, condition: "ScaleDownLimit", ..Case::default() },
        Case { name: "scaleDown with with previous events still allowing more scale down", down_events: e(&[10, 10, 10], false), down: Some(rules(0, 0, 1000, 120)), current: 10, desired: 5, expected: 5, condition: "DesiredWithinRange", ..Case::default() },
        Case { name: "check 'outdated' flag for events for one behavior for up", up_events: e(&[8, 12, 9, 11], true), up: Some(rules(1000, 60, 0, 0)), current: 100, desired: 200, expected: 200, condition: "DesiredWithinRange", ..Case::default() },
        Case { name: "check that events were not marked 'outdated' for two different policies in the behavior for up", up_events: e(&[8, 12, 9, 11], true), up: Some(rules(1000, 120, 100, 60)), current: 100, desired: 200, expected: 200, condition: "DesiredWithinRange", ..Case::default() },
        Case { name: "check that events were marked 'outdated' for two different policies in the behavior for up", up_events: e(&[8, 12, 9, 11], true), up: Some(rules(1000, 30, 100, 60)), current: 100, desired: 200, expected: 200, condition: "DesiredWithinRange", ..Case::default() },
        Case { name: "check 'outdated' flag for events for one behavior for down", down_events: e(&[8, 12, 9, 11], false), down: Some(rules(1000, 60, 0, 0)), current: 100, desired: 5, expected: 5, condition: "DesiredWithinRange", ..Case::default() },
        Case { name: "check that events were not marked 'outdated' for two different policies in the behavior for down", down_events: e(&[8, 12, 9, 11], false), down: Some(rules(1000, 120, 100, 60)), current: 100, desired: 5, expected: 5, condition: "DesiredWithinRange", ..Case::default() },
        Case { name: "check that events were marked 'outdated' for two different policies in the behavior for down", down_events: e(&[8, 12, 9, 11], false), down: Some(rules(1000, 30, 100, 60)), current: 100, desired: 5, expected: 5, condition: "DesiredWithinRange", ..Case::default() },
    ]
}

#[test]
fn every_case_of_the_hpa_table_agrees() {
    let mut wrong = Vec::new();
    let all = cases();
    for c in &all {
        let got = normalize(c);
        if got != (c.expected, c.condition) {
            wrong.push(format!(
                "{}: got {got:?}, HPA {:?}",
                c.name,
                (c.expected, c.condition)
            ));
        }
    }
    assert_eq!(all.len(), 41, "the table has 41 cases");
    assert!(wrong.is_empty(), "{wrong:#?}");
}
