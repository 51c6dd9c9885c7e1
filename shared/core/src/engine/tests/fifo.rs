//! FIFO queues: workers beyond the message groups that can be worked at once
//! idle, configured (`max_active_groups`) or inferred from the queue.

use super::*;

fn fifo_depth(visible: u64, in_flight: u64) -> SqsDepth {
    SqsDepth {
        visible,
        in_flight,
        fifo: true,
        ..SqsDepth::default()
    }
}

fn observe(desired: u32, running: u32, at: Timestamp, depth: SqsDepth) -> Observations {
    let mut obs = sqs_obs(desired, at, depth);
    obs.worker.running = running;
    obs
}

#[test]
fn configured_groups_cap_a_fifo_backlog() {
    // 1,000 messages in 3 groups at 100 per worker would want 10 workers.
    let mut signal = crate::testing::sqs_config("q");
    signal.queue = "orders.fifo".into();
    signal.max_active_groups = Some(3);
    let tg = target(plain(0, 100, 100.0), vec![SignalConfig::Sqs(signal)]);
    let d = decide(
        &tg,
        &TargetState::default(),
        &observe(1, 1, t(0), fifo_depth(1000, 0)),
        t(0),
    );
    assert_eq!(d.desired, 3, "{}", d.explain());
    assert!(d.bounded_by.contains(&Term::FifoGroups), "{:?}", d.steps);
    assert!(d.signals[0].detail.contains("max_active_groups"));
    // The same backlog on a standard queue is sized as usual.
    let d = decide(
        &tg,
        &TargetState::default(),
        &observe(1, 1, t(0), visible(1000)),
        t(0),
    );
    assert_eq!(d.desired, 10);
}

#[test]
fn groups_are_inferred_from_idle_workers_and_the_cap_keeps_one_spare() {
    // 10 workers on 997 waiting messages in 3 groups: 3 in flight all along.
    let tg = target(plain(0, 100, 100.0), vec![sqs_signal("q")]);
    let mut state = TargetState::default();
    let mut desired = 10;
    let mut last = None;
    for tick in 0..4 {
        let d = decide(
            &tg,
            &state,
            &observe(desired, desired, t(tick * 15), fifo_depth(997, 3)),
            t(tick * 15),
        );
        state = d.next_state.clone();
        desired = d.desired;
        last = Some(d);
    }
    let d = last.take().unwrap();
    assert_eq!(d.desired, 4, "3 groups and a spare: {}", d.explain());
    assert!(d.bounded_by.contains(&Term::FifoGroups), "{:?}", d.steps);
    // The cap holds: at 4 running with 3 busy the spare stays idle.
    let held = decide(
        &tg,
        &state,
        &observe(4, 4, t(60), fifo_depth(996, 3)),
        t(60),
    );
    assert_eq!(held.desired, 4, "{}", held.explain());
    // A fourth group appears: the spare takes it, no worker is idle any
    // more, and the backlog is sized again.
    let mut state = held.next_state;
    for tick in 5..9 {
        let d = decide(
            &tg,
            &state,
            &observe(4, 4, t(tick * 15), fifo_depth(995, 4)),
            t(tick * 15),
        );
        state = d.next_state.clone();
        last = Some(d);
    }
    let d = last.unwrap();
    assert!(d.desired > 4, "{}", d.explain());
    assert!(!d.bounded_by.contains(&Term::FifoGroups), "{:?}", d.steps);
}
