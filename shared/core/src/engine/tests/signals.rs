//! Backlog from signals, target tracking, Kafka partition caps and stuck partitions.

use super::*;

// 1. Backlog from signals -------------------------------------------------

#[test]
fn sqs_backlog_counts_in_flight_but_not_delayed_by_default() {
    let mut p = plain(0, 100, 10.0);
    p.target_utilization = None;
    let d = decide_sqs(
        p,
        0,
        SqsDepth {
            visible: 50,
            in_flight: 30,
            delayed: 1000,
            ..SqsDepth::default()
        },
    );
    assert_eq!(d.signals[0].backlog, Some(80));
    assert_eq!(d.desired, 8);
}

#[test]
fn in_flight_messages_keep_their_workers_at_the_target_utilization() {
    // 12 messages in flight occupy 12 workers; at 80% that is 15, more than
    // the backlog's ceil(14 / 100) = 1: a drained queue does not mean idle workers.
    let depth = SqsDepth {
        visible: 2,
        in_flight: 12,
        delayed: 0,
        ..SqsDepth::default()
    };
    let d = decide_sqs(plain(0, 100, 100.0), 20, depth);
    assert_eq!(d.desired, 15, "{}", d.explain());
    assert!(d.signals[0]
        .detail
        .contains("keeping up: 12.0 busy / 0.8 utilization = 15"));
    // A worker that holds 4 messages at once is busy with 3 of those 12.
    let mut tg = target(plain(0, 100, 100.0), vec![sqs_signal("q")]);
    if let SignalConfig::Sqs(s) = &mut tg.signals[0] {
        s.in_flight_per_worker = 4;
    }
    let d = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(16, t(0), depth),
        t(0),
    );
    assert_eq!(d.desired, 4);
}

#[test]
fn kafka_production_rate_keeps_workers_busy_enough() {
    // 600 msg/s produced at 20 ms each = 12 busy workers; / 0.8 = 15.
    let mut p = plain(0, 100, 3000.0);
    p.target_per_worker = None;
    p.latency = Some(LatencyTarget {
        acceptable: HumanDuration::secs(60),
        processing_time_per_message: HumanDuration(std::time::Duration::from_millis(20)),
    });
    let mut k = kafka_signal("k");
    k.allow_idle_consumers = true;
    let tg = target(p, vec![SignalConfig::Kafka(k)]);
    let first = decide(
        &tg,
        &TargetState::default(),
        &kafka_obs(15, t(0), &[(0, 1000, Some(990)); 2]),
        t(0),
    );
    let obs = kafka_obs(15, t(60), &[(0, 19_000, Some(18_990)); 2]);
    let d = decide(&tg, &first.next_state, &obs, t(60));
    assert!(
        d.signals[0].detail.contains("produced 600.0 msg/s"),
        "{}",
        d.signals[0].detail
    );
    assert_eq!(d.desired, 15, "{}", d.explain());
}

#[test]
fn sqs_backlog_with_delayed_and_without_in_flight() {
    let mut tg = target(plain(0, 100, 10.0), vec![sqs_signal("q")]);
    if let SignalConfig::Sqs(s) = &mut tg.signals[0] {
        s.include_in_flight = false;
        s.include_delayed = true;
    }
    let depth = SqsDepth {
        visible: 50,
        in_flight: 30,
        delayed: 20,
        ..SqsDepth::default()
    };
    let d = decide(&tg, &TargetState::default(), &sqs_obs(0, t(0), depth), t(0));
    assert_eq!(d.signals[0].backlog, Some(70));
}

#[test]
fn kafka_lag_per_partition_and_missing_offsets() {
    // Retention deleted up to 100 on partition 2: its committed 40 counts from 100.
    let parts = [(0, 500, Some(200)), (0, 300, None), (100, 400, Some(40))];
    let mut k = kafka_signal("k");
    let run = |k: &KafkaSignal| {
        decide(
            &target(plain(0, 100, 10.0), vec![SignalConfig::Kafka(k.clone())]),
            &TargetState::default(),
            &kafka_obs(0, t(0), &parts),
            t(0),
        )
    };
    let latest = run(&k);
    let lags: Vec<u64> = latest.signals[0]
        .partition_lag
        .iter()
        .map(|p| p.lag)
        .collect();
    // Never committed, under latest: lag 1, so a first consumer starts.
    assert_eq!(lags, vec![300, 1, 300]);
    assert!(
        latest.signals[0]
            .detail
            .contains("1 partition(s) with messages the group never committed count lag 1"),
        "{}",
        latest.signals[0].detail
    );
    assert_eq!(
        partition_lag(7, 7, None, MissingOffsetPolicy::Latest),
        0,
        "an empty partition is no lag"
    );
    k.on_missing_offset = MissingOffsetPolicy::Earliest;
    let earliest = run(&k);
    let lags: Vec<u64> = earliest.signals[0]
        .partition_lag
        .iter()
        .map(|p| p.lag)
        .collect();
    assert_eq!(lags, vec![300, 300, 300]);
    assert_eq!(
        partition_lag(100, 400, None, MissingOffsetPolicy::Earliest),
        300
    );
    // A committed offset read after the watermark is no negative lag.
    assert_eq!(
        partition_lag(0, 10, Some(12), MissingOffsetPolicy::Latest),
        0
    );
}

#[test]
fn a_group_that_never_committed_gets_its_first_consumer_under_latest() {
    // Issue 29: 1,000 messages over 4 partitions, the group never committed,
    // `min: 0`: lag 0 kept the target at zero forever. Now 1 per partition.
    let parts = [(0, 250, None); 4];
    let tg = target(
        plain(0, 100, 10.0),
        vec![SignalConfig::Kafka(kafka_signal("k"))],
    );
    let d = decide(
        &tg,
        &TargetState::default(),
        &kafka_obs(0, t(0), &parts),
        t(0),
    );
    assert_eq!(d.signals[0].backlog, Some(4));
    assert_eq!(d.desired, 1, "{}", d.explanation);
    // An empty topic keeps it at zero.
    let empty = [(0, 0, None); 4];
    let d = decide(
        &tg,
        &TargetState::default(),
        &kafka_obs(0, t(0), &empty),
        t(0),
    );
    assert_eq!(d.desired, 0, "{}", d.explanation);
}

#[test]
fn a_high_watermark_that_goes_back_starts_the_partition_history_again() {
    // kafka-lag-exporter skips such a point (LookupTableSpec, "invalids and
    // edge conditions"); qscale starts the history again from it.
    let tg = target(
        plain(0, 100, 10.0),
        vec![SignalConfig::Kafka(kafka_signal("k"))],
    );
    let mut state = TargetState::default();
    // 10 msg/s, the group 600 behind, four samples a minute apart.
    for i in 0..4 {
        let parts = [(0, 600 * i + 600, Some(600 * i))];
        state = decide(&tg, &state, &kafka_obs(1, t(i * 60), &parts), t(i * 60)).next_state;
    }
    // Each committed offset is the previous tick's high watermark: the
    // samples before that one are never read again, so they are not kept.
    assert_eq!(state.partition_progress["k"][&0].history.len(), 2);
    // The topic is recreated: 50 messages, nothing consumed.
    let d = decide(
        &tg,
        &state,
        &kafka_obs(1, t(240), &[(0, 50, Some(0))]),
        t(240),
    );
    assert_eq!(d.next_state.partition_progress["k"][&0].history.len(), 1);
    // One sample: no lag in seconds yet (the old history made it 300 s).
    assert_eq!(d.signals[0].partition_lag[0].lag_seconds, None);
}

// 2. Target tracking ------------------------------------------------------

#[test]
fn aws_backlog_per_instance_example_1500_messages_10_workers_target_100_gives_15() {
    // AWS docs, "Scaling policy based on Amazon SQS": 1500 messages, target 100 → 15.
    let d = decide_sqs(PolicyConfig::with_target(1, 50, 100.0), 10, visible(1500));
    assert_eq!(d.desired, 15);
    assert_eq!(d.direction, Direction::ScaleOut);
}

#[test]
fn target_from_latency_over_two_signals_summed_or_max() {
    let mut p = plain(0, 100, 1.0);
    p.target_per_worker = None;
    p.latency = Some(LatencyTarget {
        acceptable: HumanDuration::secs(10),
        processing_time_per_message: HumanDuration(std::time::Duration::from_millis(100)),
    });
    // 10s / 0.1s = 100 per worker.
    let mut obs = sqs_obs(0, t(0), visible(250));
    obs.signals.insert(
        "r".into(),
        SignalReading::Ok {
            observed_at: t(0),
            measurement: Measurement::Sqs(visible(710)),
        },
    );
    // One fleet drains both: ceil(960 / 100) = 10 (aggregate: sum, the default).
    let tg = target(p.clone(), vec![sqs_signal("q"), sqs_signal("r")]);
    let d = decide(&tg, &TargetState::default(), &obs, t(0));
    assert_eq!(d.desired, 10, "{}", d.explain());
    assert_eq!(d.signals[0].recommendation, Some(3));
    // Signals of the same work: the busiest, ceil(710 / 100) = 8.
    p.aggregate = crate::config::Aggregate::Max;
    let tg = target(p, vec![sqs_signal("q"), sqs_signal("r")]);
    let d = decide(&tg, &TargetState::default(), &obs, t(0));
    assert_eq!(d.desired, 8);
}

#[test]
fn tolerance_suppresses_small_changes() {
    // 10 workers at 100 each: 1090 is within 10%, 1110 is not.
    assert_eq!(
        decide_sqs(plain(0, 100, 100.0), 10, visible(1090)).desired,
        10
    );
    let d = decide_sqs(plain(0, 100, 100.0), 10, visible(1090));
    assert!(d.bounded_by.contains(&Term::Tolerance), "{:?}", d.steps);
    assert_eq!(
        decide_sqs(plain(0, 100, 100.0), 10, visible(1110)).desired,
        12
    );
    assert_eq!(
        decide_sqs(plain(0, 100, 100.0), 10, visible(910)).desired,
        10
    );
    assert_eq!(
        decide_sqs(plain(0, 100, 100.0), 10, visible(890)).desired,
        9
    );
}

#[test]
fn each_direction_has_its_own_tolerance() {
    // kubernetes #116984, which led to KEP-4951: 10 workers at 4 messages
    // each, 43 waiting (43 / 40 = 1.075) adds nothing under a 0.1
    // tolerance, however long it lasts. `scale_out.tolerance: 0` takes the
    // 11th worker.
    let mut p = plain(0, 100, 4.0);
    p.target_utilization = None;
    let d = decide_sqs(p.clone(), 10, visible(43));
    assert_eq!(d.desired, 10);
    assert!(d.bounded_by.contains(&Term::Tolerance), "{:?}", d.steps);
    p.scale_out.tolerance = Some(0.0);
    assert_eq!(decide_sqs(p.clone(), 10, visible(43)).desired, 11);
    // The scale-in band is the policy's 0.1 still: 36 (0.9) is held, 35 is not.
    assert_eq!(decide_sqs(p.clone(), 10, visible(36)).desired, 10);
    assert_eq!(decide_sqs(p.clone(), 10, visible(35)).desired, 9);
    // And a wide scale-in band holds a fall the scale-out band would not.
    p.scale_in.tolerance = Some(0.5);
    assert_eq!(decide_sqs(p, 10, visible(24)).desired, 10);
}

#[test]
fn float_targets_do_not_add_a_worker() {
    assert_eq!(decide_sqs(plain(0, 100, 0.1), 0, visible(3)).desired, 30);
}

// 7. Kafka partition cap -------------------------------------------------------

fn kafka_decide(k: KafkaSignal, desired: u32, parts: &[(i64, i64, Option<i64>)]) -> Decision {
    decide(
        &target(plain(0, 100, 100.0), vec![SignalConfig::Kafka(k)]),
        &TargetState::default(),
        &kafka_obs(desired, t(0), parts),
        t(0),
    )
}

#[test]
fn partition_cap_compares_exactly() {
    // 4 partitions, target 100: lag 400 needs exactly 4; 401 needs 5 → capped at 4.
    let exact = [(0, 100, Some(0)); 4];
    let d = kafka_decide(kafka_signal("k"), 0, &exact);
    assert_eq!(d.desired, 4);
    assert!(!d.bounded_by.contains(&Term::PartitionCap));
    let over = [
        (0, 101, Some(0)),
        (0, 100, Some(0)),
        (0, 100, Some(0)),
        (0, 100, Some(0)),
    ];
    let d = kafka_decide(kafka_signal("k"), 0, &over);
    assert_eq!(d.desired, 4);
    assert!(d.bounded_by.contains(&Term::PartitionCap), "{:?}", d.steps);
    assert!(d.signals[0].detail.contains("capped at 4"));
}

#[test]
fn partition_cap_modes_and_idle_consumers() {
    let parts = [(0, 1000, Some(0)), (0, 0, None), (0, 0, None), (0, 0, None)];
    let mut k = kafka_signal("k");
    k.partition_cap = PartitionCapMode::PartitionsWithLag;
    assert_eq!(kafka_decide(k.clone(), 0, &parts).desired, 1);
    k.allow_idle_consumers = true;
    assert_eq!(kafka_decide(k, 0, &parts).desired, 10);
}

#[test]
fn partition_growth_is_asked_for_instead_of_capping() {
    let parts = [(0, 200, Some(0)); 4];
    let mut k = kafka_signal("k");
    k.max_partitions = Some(6);
    let d = kafka_decide(k, 0, &parts);
    assert_eq!(
        d.partition_requests,
        vec![PartitionRequest {
            signal: "k".into(),
            from: 4,
            to: 6
        }]
    );
    assert_eq!(
        d.desired, 6,
        "8 wanted, capped at the 6 partitions asked for"
    );
}

#[test]
fn a_hot_partition_needs_consumers_that_do_not_share_it() {
    // 12 partitions at 20 ms per message; partition 0 gets 40 msg/s (0.8 of a
    // worker), the others 14.5 msg/s (0.29). At 80% utilization the hot one
    // fits only alone: 12 consumers, though total load is 4 workers.
    let mut p = plain(0, 100, 3000.0);
    p.target_per_worker = None;
    p.latency = Some(LatencyTarget {
        acceptable: HumanDuration::secs(60),
        processing_time_per_message: HumanDuration(std::time::Duration::from_millis(20)),
    });
    let tg = target(p.clone(), vec![SignalConfig::Kafka(kafka_signal("k"))]);
    let at = |s: i64, hot: i64, cold: i64| {
        let parts: Vec<_> = (0..12)
            .map(|i| {
                let h = if i == 0 { hot } else { cold };
                (0, h, Some(h))
            })
            .collect();
        kafka_obs(5, t(s), &parts)
    };
    let first = decide(&tg, &TargetState::default(), &at(0, 0, 0), t(0));
    let d = decide(&tg, &first.next_state, &at(60, 2400, 870), t(60));
    assert_eq!(d.desired, 12, "{}", d.explain());
    assert!(
        d.signals[0].detail.contains("fit 1 per consumer"),
        "{}",
        d.signals[0].detail
    );
    // Evenly spread, the same 4 workers of load need 6: range assignment of 12
    // partitions over 5 consumers gives one of them 3 (1.0 > 0.8).
    let even = decide(&tg, &first.next_state, &at(60, 1000, 1000), t(60));
    assert_eq!(even.desired, 6, "{}", even.explain());
}

#[test]
fn a_time_lag_goal_scales_in_proportion_to_how_far_behind() {
    // 10 msg/s produced; the group sits 120 s behind with a 60 s goal.
    let mut k = kafka_signal("k");
    k.max_lag = Some(HumanDuration::secs(60));
    k.allow_idle_consumers = true;
    let tg = target(plain(0, 100, 100_000.0), vec![SignalConfig::Kafka(k)]);
    let mut state = TargetState::default();
    let mut d = None;
    for i in 0..5 {
        let high = 600 * (i + 1);
        let obs = kafka_obs(3, t(i * 60), &[(0, high, Some(high - 1200))]);
        let next = decide(&tg, &state, &obs, t(i * 60));
        state = next.next_state.clone();
        d = Some(next);
    }
    let d = d.unwrap();
    let lag = d.signals[0].partition_lag[0].clone();
    assert!((lag.lag_seconds.unwrap() - 120.0).abs() < 12.0, "{lag:?}");
    // 120 s / 60 s × 3 workers = 6.
    assert_eq!(d.desired, 6, "{}", d.explain());
    assert!(
        d.signals[0].detail.contains("above max_lag 60s"),
        "{}",
        d.signals[0].detail
    );
}

// 8. Stuck partitions -----------------------------------------------------------

#[test]
fn stuck_partition_does_not_drive_scale_out_and_keeps_a_worker() {
    let mut p = plain(0, 100, 100.0);
    p.stuck_partition_observations = 2;
    // The fleet found at zero below stands for one at zero, not for a
    // person's change (which `manual_override_hold` would keep).
    p.manual_override_hold = HumanDuration::secs(0);
    let tg = target(p, vec![SignalConfig::Kafka(kafka_signal("k"))]);
    let mut state = TargetState::default();
    let mut last = None;
    // Partition 0 stays at committed 0 with lag 1000 while partition 1 moves.
    for i in 0..3 {
        let obs = kafka_obs(
            2,
            t(i * 60),
            &[(0, 1000, Some(0)), (0, 5000, Some(4990 - i))],
        );
        let d = decide(&tg, &state, &obs, t(i * 60));
        state = d.next_state.clone();
        last = Some(d);
    }
    let d = last.unwrap();
    assert_eq!(d.signals[0].stuck_partitions, vec![0]);
    // 1000 + 12 would want 11; the moving 12 wants 1; the stuck 1000 may only hold the current 2.
    assert_eq!(d.desired, 2, "{}", d.explain());
    assert!(d.bounded_by.contains(&Term::StuckPartitions));

    // With nothing else to do it never reaches zero while lagging.
    let obs = kafka_obs(2, t(300), &[(0, 1000, Some(0)), (0, 5000, Some(5000))]);
    let d = decide(&tg, &state, &obs, t(300));
    assert_eq!(d.desired, 2);
    let obs = kafka_obs(0, t(360), &[(0, 1000, Some(0)), (0, 5000, Some(5000))]);
    let d = decide(&tg, &d.next_state, &obs, t(360));
    assert_eq!(d.desired, 1, "{}", d.explain());
}

/// Marks these partitions of signal `k` as the adapter does when only a
/// transaction marker is left past their committed offset.
fn mark_markers(obs: &mut Observations, partitions: &[usize]) {
    let Some(SignalReading::Ok {
        measurement: Measurement::Kafka(k),
        ..
    }) = obs.signals.get_mut("k")
    else {
        panic!("no kafka reading")
    };
    for &p in partitions {
        k.partitions[p].only_marker_left = true;
    }
}

#[test]
fn a_transaction_marker_left_past_the_committed_offset_is_no_work_so_zero_is_reached() {
    // KEDA #5675: a transactional producer leaves a commit marker after each
    // transaction; a consumer that committed its last record is 1 behind on
    // every partition, forever, and a `min: 0` fleet never reached zero.
    let tg = target(
        plain(0, 10, 10.0),
        vec![SignalConfig::Kafka(kafka_signal("k"))],
    );
    let parts = [(0, 101, Some(100)), (0, 51, Some(50)), (0, 8, Some(7))];
    let mut obs = kafka_obs(1, t(0), &parts);
    let d = decide(&tg, &TargetState::default(), &obs, t(0));
    assert_eq!(d.signals[0].backlog, Some(3));
    assert_eq!(d.desired, 1, "{}", d.explain());
    // The adapter found markers there on two of the three partitions.
    mark_markers(&mut obs, &[0, 1]);
    let d = decide(&tg, &TargetState::default(), &obs, t(0));
    assert_eq!(d.signals[0].backlog, Some(1), "{}", d.signals[0].detail);
    assert!(
        d.signals[0]
            .detail
            .contains("2 partition(s) end in a transaction marker"),
        "{}",
        d.signals[0].detail
    );
    // No time behind either.
    assert_eq!(d.signals[0].partition_lag[0].lag_seconds, Some(0.0));
    // On all three: nothing to do, and the fleet goes to zero.
    mark_markers(&mut obs, &[2]);
    let d = decide(&tg, &TargetState::default(), &obs, t(0));
    assert_eq!(d.signals[0].backlog, Some(0));
    assert_eq!(d.desired, 0, "{}", d.explain());
}
