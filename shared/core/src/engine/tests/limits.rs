//! Bounds, activation, cooldowns, stabilization windows and rate limits.

use super::*;

// 3. Bounds, activation and scale to zero ---------------------------------

#[test]
fn bounds_clamp() {
    let d = decide_sqs(plain(2, 5, 10.0), 3, visible(1000));
    assert_eq!(d.desired, 5);
    assert_eq!(d.bounded_by, vec![Term::TargetTracking, Term::Max]);
    assert_eq!(decide_sqs(plain(2, 5, 10.0), 3, visible(0)).desired, 2);
}

#[test]
fn activation_is_strictly_above_the_threshold() {
    let mut p = plain(0, 10, 100.0);
    p.activation_backlog = 5;
    let d = decide_sqs(p.clone(), 0, visible(5));
    assert_eq!(d.desired, 0);
    assert_eq!(d.bounded_by, vec![Term::TargetTracking, Term::Activation]);
    assert_eq!(decide_sqs(p.clone(), 0, visible(6)).desired, 1);
    // Once running, a small backlog keeps a worker; zero backlog scales to zero.
    assert_eq!(decide_sqs(p.clone(), 1, visible(3)).desired, 1);
    assert_eq!(decide_sqs(p, 1, visible(0)).desired, 0);
}

// 4. Cooldowns ----------------------------------------------------------------

#[test]
fn scale_in_waits_for_its_cooldown() {
    let tg = target(cooled(0, 300), vec![sqs_signal("q")]);
    let d1 = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(10, t(0), visible(50)),
        t(0),
    );
    assert_eq!(d1.desired, 5);
    let d2 = decide(&tg, &d1.next_state, &sqs_obs(5, t(60), visible(20)), t(60));
    assert_eq!(d2.desired, 5);
    assert!(d2.bounded_by.contains(&Term::ScaleInCooldown));
    let d3 = decide(
        &tg,
        &d2.next_state,
        &sqs_obs(5, t(300), visible(20)),
        t(300),
    );
    assert_eq!(d3.desired, 2);
}

#[test]
fn a_scale_out_ends_a_running_scale_in_cooldown() {
    let tg = target(cooled(0, 300), vec![sqs_signal("q")]);
    let d1 = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(10, t(0), visible(50)),
        t(0),
    );
    let d2 = decide(&tg, &d1.next_state, &sqs_obs(5, t(30), visible(80)), t(30));
    assert_eq!(d2.desired, 8);
    let d3 = decide(&tg, &d2.next_state, &sqs_obs(8, t(60), visible(30)), t(60));
    assert_eq!(d3.desired, 3, "{}", d3.explain());
}

#[test]
fn scale_out_cooldown_only_adds_what_exceeds_the_last_action() {
    // Without a manual-override hold (which would keep the 6 set below).
    let mut p = cooled(120, 0);
    p.manual_override_hold = HumanDuration::secs(0);
    let tg = target(p, vec![sqs_signal("q")]);
    let d1 = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(2, t(0), visible(100)),
        t(0),
    );
    assert_eq!(d1.desired, 10);
    // Someone lowered the service to 6; within cooldown we do not re-add up to 10...
    let d2 = decide(&tg, &d1.next_state, &sqs_obs(6, t(30), visible(90)), t(30));
    assert_eq!(d2.desired, 6);
    assert!(d2.bounded_by.contains(&Term::ScaleOutCooldown));
    // ...but a need beyond the last action goes through.
    let d3 = decide(&tg, &d2.next_state, &sqs_obs(6, t(40), visible(150)), t(40));
    assert_eq!(d3.desired, 15);
}

// 5. Stabilization windows ----------------------------------------------------

#[test]
fn scale_in_stabilization_uses_the_max_over_the_window() {
    let mut p = plain(0, 100, 10.0);
    p.scale_in.stabilization = HumanDuration::secs(300);
    let tg = target(p, vec![sqs_signal("q")]);
    let d1 = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(10, t(0), visible(100)),
        t(0),
    );
    assert_eq!(d1.desired, 10);
    let d2 = decide(
        &tg,
        &d1.next_state,
        &sqs_obs(10, t(100), visible(40)),
        t(100),
    );
    assert_eq!(d2.desired, 10);
    assert!(d2.bounded_by.contains(&Term::ScaleInStabilization));
    let d3 = decide(
        &tg,
        &d2.next_state,
        &sqs_obs(10, t(301), visible(20)),
        t(301),
    );
    assert_eq!(d3.desired, 4, "max(4 from t100, 2 now)");
}

// 6. Rate limits (HPA documentation examples) ---------------------------------

fn rate_limited(policies: Vec<RateLimitPolicy>, scale_in: bool) -> PolicyConfig {
    let mut p = plain(0, 2000, 1.0);
    let rl = RateLimits {
        select: SelectPolicy::Max,
        policies,
    };
    if scale_in {
        p.scale_in.rate_limits = rl;
    } else {
        p.scale_out.rate_limits = rl;
    }
    p
}

#[test]
fn hpa_examples_through_decide() {
    // 10 workers, recommendation 50.
    let mut p = plain(0, 2000, 1.0);
    p.scale_out.rate_limits = DirectionConfig::hpa_scale_out().rate_limits;
    assert_eq!(decide_sqs(p, 10, visible(50)).desired, 20);
    let pods = rate_limited(
        vec![RateLimitPolicy::Pods {
            value: 30,
            period: HumanDuration::secs(60),
        }],
        false,
    );
    assert_eq!(decide_sqs(pods, 10, visible(50)).desired, 40);
    let pct = rate_limited(
        vec![RateLimitPolicy::Percent {
            value: 200,
            period: HumanDuration::secs(60),
        }],
        false,
    );
    let d = decide_sqs(pct, 10, visible(50));
    assert_eq!(d.desired, 30);
    assert_eq!(
        d.bounded_by,
        vec![Term::TargetTracking, Term::ScaleOutRateLimit]
    );
    let down = rate_limited(
        vec![RateLimitPolicy::Pods {
            value: 20,
            period: HumanDuration::secs(60),
        }],
        true,
    );
    assert_eq!(decide_sqs(down, 1000, visible(10)).desired, 980);
}

/// A state whose only recorded action is `from -> to` at `at`.
fn acted(at: Timestamp, from: u32, to: u32) -> TargetState {
    let mut state = TargetState::default();
    state.actions.push(ScalingAction { at, from, to });
    state
}

#[test]
fn a_scale_out_limit_never_scales_in_and_a_scale_in_limit_never_scales_out() {
    // Issue 29: qscale went 85 -> 100 a minute ago, someone set 90 since,
    // 500 waiting (wants 500) under 5 workers per 120 s. The period started
    // at 75 and 75 + 5 < 90: the limit held 90 -> 80 before; HPA keeps 90.
    let five = RateLimitPolicy::Pods {
        value: 5,
        period: HumanDuration::secs(120),
    };
    let tg = target(rate_limited(vec![five], false), vec![sqs_signal("q")]);
    let d = decide(
        &tg,
        &acted(t(0), 85, 100),
        &sqs_obs(90, t(60), visible(500)),
        t(60),
    );
    assert_eq!((d.previous, d.desired), (90, 90), "{:?}", d.explanation);
    // The mirror: 100 -> 85 a minute ago, 90 by hand since, nothing waiting,
    // 10% per 120 s. The period started at 105 and 105 - 10% = 94 > 90.
    let ten = RateLimitPolicy::Percent {
        value: 10,
        period: HumanDuration::secs(120),
    };
    let tg = target(rate_limited(vec![ten], true), vec![sqs_signal("q")]);
    let d = decide(
        &tg,
        &acted(t(0), 100, 85),
        &sqs_obs(90, t(60), visible(0)),
        t(60),
    );
    assert_eq!((d.previous, d.desired), (90, 90), "{:?}", d.explanation);
}

#[test]
fn a_percent_only_scale_out_limit_lets_the_first_worker_start() {
    // KEDA's own scale-up block (100% per 15 s) with `min: 0`: a percent of
    // zero workers is zero, which pinned the fleet at 0 forever.
    let pct = RateLimitPolicy::Percent {
        value: 100,
        period: HumanDuration::secs(15),
    };
    let p = rate_limited(vec![pct], false);
    let d = decide_sqs(p.clone(), 0, visible(5));
    assert_eq!(d.desired, 1, "{:?}", d.explanation);
    assert_eq!(
        d.bounded_by,
        vec![Term::TargetTracking, Term::ScaleOutRateLimit]
    );
    // From there the percent applies: 1 -> 2.
    assert_eq!(decide_sqs(p, 1, visible(5)).desired, 2);
}

// Manual changes ---------------------------------------------------------------

#[test]
fn a_count_set_outside_qscale_is_held_for_the_window_then_released() {
    // qscale leaves 8; someone sets 20 during an incident; the queue is empty.
    let mut p = plain(0, 100, 10.0);
    p.manual_override_hold = HumanDuration::secs(600);
    let tg = target(p.clone(), vec![sqs_signal("q")]);
    let first = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(2, t(0), visible(80)),
        t(0),
    );
    assert_eq!(first.desired, 8);
    let found = decide(
        &tg,
        &first.next_state,
        &sqs_obs(20, t(60), visible(0)),
        t(60),
    );
    assert_eq!(found.desired, 20, "{}", found.explain());
    assert!(
        found.bounded_by.contains(&Term::ManualOverride),
        "{:?}",
        found.steps
    );
    assert_eq!(found.notices.len(), 1, "audited once when found");
    assert!(
        found.notices[0].starts_with("manual_override: the count is 20 where qscale left 8"),
        "{}",
        found.notices[0]
    );
    // Still held later in the window, without a second notice.
    let held = decide(
        &tg,
        &found.next_state,
        &sqs_obs(20, t(400), visible(0)),
        t(400),
    );
    assert_eq!(held.desired, 20);
    assert!(held.notices.is_empty());
    // After it: sized again (an empty queue at min 0).
    let after = decide(
        &tg,
        &held.next_state,
        &sqs_obs(20, t(700), visible(0)),
        t(700),
    );
    assert_eq!(after.desired, 0, "{}", after.explain());
    assert_eq!(after.next_state.manual_hold, None);
    // 0s undoes it at once.
    p.manual_override_hold = HumanDuration::secs(0);
    let tg = target(p, vec![sqs_signal("q")]);
    let undone = decide(
        &tg,
        &first.next_state,
        &sqs_obs(20, t(60), visible(0)),
        t(60),
    );
    assert_eq!(undone.desired, 0);
}

#[test]
fn an_action_that_did_not_happen_is_not_a_manual_change() {
    // qscale left 8 from 2, and the fleet still shows 2: its action was lost
    // or never ran (a stop between the claim and UpdateService).
    let tg = target(plain(0, 100, 10.0), vec![sqs_signal("q")]);
    let first = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(2, t(0), visible(80)),
        t(0),
    );
    let again = decide(
        &tg,
        &first.next_state,
        &sqs_obs(2, t(60), visible(80)),
        t(60),
    );
    assert_eq!(again.desired, 8, "{}", again.explain());
    assert!(again.notices.is_empty());
    // A replay of the same tick finds nothing either.
    let replay = decide(
        &tg,
        &first.next_state,
        &sqs_obs(20, t(0), visible(80)),
        t(0),
    );
    assert!(replay.notices.is_empty(), "{:?}", replay.notices);
}
