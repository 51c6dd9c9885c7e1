//! Properties over random policies and backlogs.

use super::*;

// Properties --------------------------------------------------------------------------

fn arb_policy() -> impl Strategy<Value = PolicyConfig> {
    (
        0u32..5,
        1u32..60,
        1u32..200,
        0u64..400,
        0u64..400,
        0u64..400,
        0u64..400,
        prop::option::of((1u64..300, 50u32..100)),
    )
        .prop_map(|(min, span, per, out_cd, in_cd, out_w, in_w, slo)| {
            let mut p = PolicyConfig::with_target(min, min + span, per as f64);
            // Half the policies size by a wait SLO (200 ms messages).
            p.slo = slo.map(|(wait, percentile)| crate::config::SloConfig {
                wait: HumanDuration::secs(wait),
                percentile: percentile as f64 - 0.5,
                processing_time: Some(HumanDuration(std::time::Duration::from_millis(200))),
                startup: crate::config::StartupTime::Fixed(HumanDuration::secs(60)),
            });
            p.scale_out.cooldown = HumanDuration::secs(out_cd);
            p.scale_in.cooldown = HumanDuration::secs(in_cd);
            p.scale_out.stabilization = HumanDuration::secs(out_w);
            p.scale_in.stabilization = HumanDuration::secs(in_w);
            p
        })
}

/// A short history of ticks, then one more decision to check.
fn run_history(tg: &TargetConfig, backlogs: &[u64]) -> (TargetState, u32, i64) {
    let mut state = TargetState::default();
    let mut desired = tg.policy.min;
    let mut now = 0;
    for (i, b) in backlogs.iter().enumerate() {
        now = i as i64 * 30;
        let d = decide(tg, &state, &sqs_obs(desired, t(now), visible(*b)), t(now));
        desired = d.desired;
        state = d.next_state;
    }
    (state, desired, now)
}

proptest! {
    #[test]
    fn result_within_bounds_and_never_below_an_active_floor(
        policy in arb_policy(),
        history in prop::collection::vec(0u64..20_000, 0..12),
        backlog in 0u64..50_000,
        floor in 0u32..80,
        current in 0u32..100,
        fail in any::<bool>(),
    ) {
        let tg = target(policy, vec![sqs_signal("q")]);
        let (mut state, _, last) = run_history(&tg, &history);
        let now = t(last + 30);
        state.register_event(RegisteredEvent { name: "e".into(), start: now, end: now + SignedDuration::from_secs(60), min: floor });
        let obs = if fail { failed(current) } else { sqs_obs(current, now, visible(backlog)) };
        let d = decide(&tg, &state, &obs, now);
        prop_assert!(d.desired >= tg.policy.min && d.desired <= tg.policy.max, "{}", d.explain());
        prop_assert!(d.desired >= floor.min(tg.policy.max), "{}", d.explain());
    }

    #[test]
    fn no_scale_in_during_cooldown_or_on_a_failed_signal(
        policy in arb_policy(),
        backlog in 0u64..50_000,
        current in 1u32..60,
        since in 0i64..400,
    ) {
        let tg = target(policy.clone(), vec![sqs_signal("q")]);
        let mut state = TargetState::default();
        state.actions.push(ScalingAction { at: t(0), from: current + 5, to: current });
        let now = t(since);
        let current = current.clamp(policy.min, policy.max);
        let d = decide(&tg, &state, &sqs_obs(current, now, visible(backlog)), now);
        if since < policy.scale_in.cooldown.0.as_secs() as i64 {
            prop_assert!(d.desired >= current, "{}", d.explain());
        }
        let d = decide(&tg, &state, &failed(current), now);
        prop_assert!(d.desired >= current, "{}", d.explain());
    }

    #[test]
    fn deciding_twice_changes_nothing_more(
        policy in arb_policy(),
        history in prop::collection::vec(0u64..20_000, 0..12),
        backlog in 0u64..50_000,
        current in 0u32..100,
        fail in any::<bool>(),
    ) {
        let tg = target(policy, vec![sqs_signal("q")]);
        let (state, _, last) = run_history(&tg, &history);
        let now = t(last + 30);
        let obs = if fail { failed(current) } else { sqs_obs(current, now, visible(backlog)) };
        let first = decide(&tg, &state, &obs, now);
        let second = decide(&tg, &first.next_state, &obs, now);
        prop_assert_eq!(first.desired, second.desired);
        prop_assert_eq!(&first.next_state, &second.next_state);
    }

    #[test]
    fn desired_is_monotone_in_backlog_without_cooldowns_or_windows(
        per in 1u32..500,
        current in 0u32..200,
        a in 0u64..100_000,
        b in 0u64..100_000,
    ) {
        let tg = target(plain(0, 1000, per as f64), vec![sqs_signal("q")]);
        let (lo, hi) = (a.min(b), a.max(b));
        let d_lo = decide(&tg, &TargetState::default(), &sqs_obs(current, t(0), visible(lo)), t(0));
        let d_hi = decide(&tg, &TargetState::default(), &sqs_obs(current, t(0), visible(hi)), t(0));
        prop_assert!(d_lo.desired <= d_hi.desired, "{} vs {}", d_lo.explain(), d_hi.explain());
    }
}
