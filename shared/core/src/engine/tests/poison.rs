//! Poison messages: a dead-letter queue growing while the queue does not
//! drain holds scale-out.

use super::*;

fn with_dlq(visible: u64, in_flight: u64, dead_lettered: u64) -> SqsDepth {
    SqsDepth {
        visible,
        in_flight,
        dead_lettered: Some(dead_lettered),
        ..SqsDepth::default()
    }
}

#[test]
fn poison_holds_scale_out_at_the_current_count_and_says_why() {
    let mut p = plain(0, 100, 10.0);
    p.latency = Some(LatencyTarget {
        acceptable: HumanDuration::secs(2),
        processing_time_per_message: HumanDuration(std::time::Duration::from_millis(200)),
    });
    p.target_per_worker = None;
    p.target_utilization = None;
    let tg = target(p, vec![sqs_signal("q")]);
    let first = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(5, t(0), with_dlq(40, 5, 100)),
        t(0),
    );
    assert_eq!(first.desired, 5, "{}", first.explain());
    // 15 s later: 60 more dead-lettered, the queue grew to 80 waiting.
    let d = decide(
        &tg,
        &first.next_state,
        &sqs_obs(5, t(15), with_dlq(80, 5, 160)),
        t(15),
    );
    assert_eq!(d.desired, 5, "{}", d.explain());
    assert!(
        d.bounded_by.contains(&Term::PoisonSuspected),
        "{:?}",
        d.steps
    );
    let step = d
        .steps
        .iter()
        .find(|s| s.term == Term::PoisonSuspected)
        .unwrap();
    assert!(
        step.detail
            .contains("scale-out to 9 held at 5: q: dead-letter queue grew by 60 in 15 s"),
        "{}",
        step.detail
    );
    // The dead-letter queue stops growing: the backlog is sized again.
    let d = decide(
        &tg,
        &d.next_state,
        &sqs_obs(5, t(30), with_dlq(120, 5, 160)),
        t(30),
    );
    assert!(d.desired > 5, "{}", d.explain());
}

#[test]
fn messages_in_flight_beyond_what_the_fleet_holds_are_not_load() {
    // 10 workers, 1,350 in flight: failures waiting out their visibility
    // timeout. They still count as backlog (they come back), but the load
    // is the 10 busy: 11 + 5 = 16, where 1,350 busy would ask the max.
    let tg = target(slo_policy(150.0), vec![sqs_signal("q")]);
    let depth = SqsDepth {
        visible: 0,
        in_flight: 1350,
        ..SqsDepth::default()
    };
    let d = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(10, t(0), depth),
        t(0),
    );
    assert_eq!(d.desired, 16, "{}", d.explain());
    assert!(
        d.signals[0].detail.contains("offered load 10.0 busy"),
        "{}",
        d.signals[0].detail
    );
}

/// 200 ms messages, 60 s p99 wait, `per_worker` as the backlog target, no
/// windows, cooldowns or rate limits.
fn slo_policy(per_worker: f64) -> PolicyConfig {
    let mut p = PolicyConfig::with_target(0, 100, per_worker);
    p.slo = Some(crate::config::SloConfig {
        wait: HumanDuration::secs(60),
        percentile: 99.0,
        processing_time: Some(HumanDuration(std::time::Duration::from_millis(200))),
        startup: crate::config::StartupTime::Fixed(HumanDuration::secs(60)),
    });
    crate::testing::without_windows(p)
}

#[test]
fn in_flight_the_fleet_cannot_hold_keeps_the_busy_count_it_had() {
    // 6 busy of 8; then 1,600 in flight, far more than 8 workers hold: the
    // count says nothing about busy workers, and taking "all 8 busy" each
    // tick would ask one more each tick. The 6 stay.
    let mut signal = crate::testing::sqs_config("q");
    signal.include_in_flight = false;
    let tg = target(slo_policy(1_000_000.0), vec![SignalConfig::Sqs(signal)]);
    let depth = |in_flight| SqsDepth {
        in_flight,
        ..SqsDepth::default()
    };
    let mut state = TargetState::default();
    let mut desired = 8;
    for (tick, in_flight) in [6, 1600, 1600, 1600, 1600].into_iter().enumerate() {
        let at = t(tick as i64 * 15);
        let d = decide(&tg, &state, &sqs_obs(desired, at, depth(in_flight)), at);
        assert!(
            d.signals[0].detail.contains("offered load 6.0 busy"),
            "tick {tick}: {}",
            d.signals[0].detail
        );
        state = d.next_state;
        desired = d.desired;
    }
    assert!(desired <= 8, "{desired}");
}
