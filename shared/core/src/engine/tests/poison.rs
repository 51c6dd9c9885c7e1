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
