//! One Kafka signal on several topics (`topics`): lag summed, each topic on
//! its own history, and the partition cap the group's assignor allows.

use super::*;
use crate::config::PartitionAssignor;
use crate::engine::TopicOffsets;

/// Topics `a`, `b`, `c` with 2, 6 and 4 partitions.
fn three_topics(assignor: PartitionAssignor) -> KafkaSignal {
    let mut k = kafka_signal("k");
    k.topic = String::new();
    k.topics = vec!["a".into(), "b".into(), "c".into()];
    k.assignor = assignor;
    k
}

/// Every partition of topic `name` at `high`, committed at `committed`.
fn topic(name: &str, partitions: i32, high: i64, committed: i64) -> TopicOffsets {
    TopicOffsets {
        topic: name.into(),
        partitions: (0..partitions)
            .map(|p| PartitionOffsets {
                partition: p,
                low_watermark: 0,
                high_watermark: high,
                committed_offset: Some(committed),
                only_marker_left: false,
            })
            .collect(),
    }
}

fn observed(desired: u32, at: Timestamp, topics: Vec<TopicOffsets>) -> Observations {
    kafka_reading(
        desired,
        at,
        KafkaOffsets {
            topics,
            members: Some(desired),
            ..Default::default()
        },
    )
}

/// 100 behind on every partition: 1,200 over 12 partitions.
fn behind() -> Vec<TopicOffsets> {
    vec![
        topic("a", 2, 300, 200),
        topic("b", 6, 300, 200),
        topic("c", 4, 300, 200),
    ]
}

#[test]
fn the_lag_of_every_topic_is_summed_and_the_range_assignor_caps_at_the_largest_topic() {
    // 1,200 behind at 100 per worker wants 12; range gives each topic's
    // partitions out on their own, so at most 6 members (topic b's) get one.
    let tg = target(
        plain(0, 100, 100.0),
        vec![SignalConfig::Kafka(three_topics(PartitionAssignor::Range))],
    );
    let d = decide(
        &tg,
        &TargetState::default(),
        &observed(1, t(0), behind()),
        t(0),
    );
    let s = &d.signals[0];
    assert_eq!(s.backlog, Some(1200));
    assert_eq!(s.partitions, Some(12));
    assert_eq!(d.desired, 6, "{}", d.explain());
    assert!(
        s.detail.contains("lag 1200 over 12 partitions of 3 topics (a: lag 200, b: lag 600, c: lag 400), 6 usable by the assignor (range: the largest topic)"),
        "{}",
        s.detail
    );
    assert!(s.detail.contains("capped at 6"), "{}", s.detail);
    // Each partition's lag names its topic.
    let b3 = s
        .partition_lag
        .iter()
        .find(|l| l.topic.as_deref() == Some("b") && l.partition == 3)
        .unwrap();
    assert_eq!(b3.lag, 100);
    assert_eq!(s.partition_lag.len(), 12);
}

#[test]
fn round_robin_and_cooperative_sticky_deal_every_partition_so_the_total_caps() {
    for assignor in [
        PartitionAssignor::RoundRobin,
        PartitionAssignor::CooperativeSticky,
    ] {
        let tg = target(
            plain(0, 100, 100.0),
            vec![SignalConfig::Kafka(three_topics(assignor))],
        );
        let d = decide(
            &tg,
            &TargetState::default(),
            &observed(1, t(0), behind()),
            t(0),
        );
        assert_eq!(d.desired, 12, "{assignor:?}: {}", d.explain());
        // 2,000 behind wants 20: capped at the 12 partitions in all.
        let more = vec![
            topic("a", 2, 1000, 0),
            topic("b", 6, 100, 0),
            topic("c", 4, 100, 0),
        ];
        let d = decide(&tg, &TargetState::default(), &observed(1, t(0), more), t(0));
        assert_eq!(d.signals[0].backlog, Some(3000));
        assert_eq!(d.desired, 12, "{assignor:?}: {}", d.explain());
    }
}

#[test]
fn partitions_with_lag_counts_per_topic_under_range_and_in_all_under_round_robin() {
    // Only topic a (2 partitions) and one partition of c have lag.
    let lagging = vec![
        topic("a", 2, 900, 0),
        topic("b", 6, 50, 50),
        TopicOffsets {
            topic: "c".into(),
            partitions: (0..4)
                .map(|p| PartitionOffsets {
                    partition: p,
                    low_watermark: 0,
                    high_watermark: 500,
                    committed_offset: Some(if p == 0 { 0 } else { 500 }),
                    only_marker_left: false,
                })
                .collect(),
        },
    ];
    for (assignor, cap) in [
        (PartitionAssignor::Range, 2),
        (PartitionAssignor::RoundRobin, 3),
    ] {
        let mut k = three_topics(assignor);
        k.partition_cap = PartitionCapMode::PartitionsWithLag;
        let tg = target(plain(0, 100, 100.0), vec![SignalConfig::Kafka(k)]);
        let d = decide(
            &tg,
            &TargetState::default(),
            &observed(1, t(0), lagging.clone()),
            t(0),
        );
        assert_eq!(d.signals[0].backlog, Some(2300));
        assert_eq!(d.desired, cap, "{assignor:?}: {}", d.explain());
    }
}

#[test]
fn a_reading_that_leaves_out_a_configured_topic_is_not_trusted() {
    let tg = target(
        plain(0, 100, 100.0),
        vec![SignalConfig::Kafka(three_topics(PartitionAssignor::Range))],
    );
    let two = vec![topic("a", 2, 300, 200), topic("b", 6, 300, 200)];
    let d = decide(&tg, &TargetState::default(), &observed(3, t(0), two), t(0));
    assert!(!d.signals[0].trusted);
    assert_eq!(
        d.signals[0].detail,
        "the reading has topics [\"a\", \"b\"], the signal reads [\"a\", \"b\", \"c\"]"
    );
    let mut empty = behind();
    empty[2].partitions.clear();
    let d = decide(
        &tg,
        &TargetState::default(),
        &observed(3, t(0), empty),
        t(0),
    );
    assert_eq!(d.signals[0].detail, "topic c: topic reported no partitions");
    assert_eq!(d.desired, 3, "nothing scales on it");
}

#[test]
fn each_topic_keeps_its_own_history_and_a_topic_taken_out_loses_it() {
    let mut k = three_topics(PartitionAssignor::RoundRobin);
    k.topics = vec!["a".into(), "b".into()];
    let tg = target(plain(0, 100, 100.0), vec![SignalConfig::Kafka(k.clone())]);
    // Topic a produces 10 msg/s per partition, b 1 msg/s.
    let at = |i: i64, a_high: i64, b_high: i64, a_c: i64, b_c: i64| {
        observed(
            4,
            t(i * 60),
            vec![topic("a", 2, a_high, a_c), topic("b", 6, b_high, b_c)],
        )
    };
    let s1 = decide(&tg, &TargetState::default(), &at(0, 6000, 600, 0, 0), t(0)).next_state;
    assert!(s1.partition_progress.contains_key("k#a"));
    assert!(s1.partition_progress.contains_key("k#b"));
    assert!(!s1.partition_progress.contains_key("k"));
    let d = decide(&tg, &s1, &at(1, 6600, 660, 600, 60), t(60));
    // Partition 0 of a and of b: the same id, each dated on its own topic's
    // history: a's offset 600 was written 5,400 messages at 10/s before the
    // first sample, b's 60 was 540 at 1/s before it: 600 s behind both.
    let secs = |topic: &str| {
        d.signals[0]
            .partition_lag
            .iter()
            .find(|l| l.topic.as_deref() == Some(topic) && l.partition == 0)
            .and_then(|l| l.lag_seconds)
            .unwrap()
    };
    assert!((secs("a") - 600.0).abs() < 1.0, "{}", secs("a"));
    assert!((secs("b") - 600.0).abs() < 1.0, "{}", secs("b"));
    assert_eq!(d.signals[0].backlog, Some(2 * 6000 + 6 * 600));
    // Topic b taken out of the signal: its history goes with it.
    k.topics = vec!["a".into()];
    let tg = target(plain(0, 100, 100.0), vec![SignalConfig::Kafka(k)]);
    let d = decide(
        &tg,
        &d.next_state,
        &observed(4, t(120), vec![topic("a", 2, 7200, 1200)]),
        t(120),
    );
    assert!(d.next_state.partition_progress.contains_key("k#a"));
    assert!(!d.next_state.partition_progress.contains_key("k#b"));
}
