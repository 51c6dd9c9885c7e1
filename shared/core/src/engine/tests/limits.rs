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
    let tg = target(cooled(120, 0), vec![sqs_signal("q")]);
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
