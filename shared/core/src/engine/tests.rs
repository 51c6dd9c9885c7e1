//! Engine tests: one per mechanism, the anchors' published examples, and
//! properties over random inputs.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::*;
use crate::config::{
    DirectionConfig, Fallback, HumanDuration, KafkaSignal, LatencyTarget, MissingOffsetPolicy,
    PartitionCapMode, PolicyConfig, RateLimitPolicy, RateLimits, ScheduleConfig, SelectPolicy,
    SignalConfig, SqsSignal, TargetConfig, WorkerConfig,
};

fn t(s: i64) -> Timestamp {
    // 2026-11-23T00:00:00Z, a Monday.
    Timestamp::from_second(1_795_392_000 + s).unwrap()
}

fn sqs_signal(name: &str) -> SignalConfig {
    SignalConfig::Sqs(SqsSignal {
        name: name.into(),
        queue: format!("{name}-url"),
        include_in_flight: true,
        include_delayed: false,
        in_flight_per_worker: 1,
    })
}

fn kafka_signal(name: &str) -> KafkaSignal {
    KafkaSignal {
        name: name.into(),
        cluster: "main".into(),
        group: "g".into(),
        topic: "t".into(),
        on_missing_offset: MissingOffsetPolicy::Latest,
        partition_cap: PartitionCapMode::Partitions,
        allow_idle_consumers: false,
        max_partitions: None,
        max_lag: None,
    }
}

fn target(policy: PolicyConfig, signals: Vec<SignalConfig>) -> TargetConfig {
    TargetConfig {
        name: "t".into(),
        signals,
        worker: WorkerConfig::Ecs(crate::config::EcsWorker {
            cluster: "c".into(),
            service: "s".into(),
        }),
        policy,
        schedules: vec![],
    }
}

/// A policy with no cooldowns, windows or rate limits: pure target tracking.
fn plain(min: u32, max: u32, per_worker: f64) -> PolicyConfig {
    let mut p = PolicyConfig::with_target(min, max, per_worker);
    for d in [&mut p.scale_out, &mut p.scale_in] {
        d.cooldown = HumanDuration::secs(0);
        d.stabilization = HumanDuration::secs(0);
        d.rate_limits.policies.clear();
    }
    p
}

fn worker(desired: u32) -> WorkerObservation {
    WorkerObservation {
        desired,
        running: desired,
        pending: 0,
        deployment_in_progress: false,
    }
}

fn sqs_obs(desired: u32, at: Timestamp, depth: SqsDepth) -> Observations {
    Observations {
        worker: worker(desired),
        signals: BTreeMap::from([(
            "q".to_string(),
            SignalReading::Ok {
                observed_at: at,
                measurement: Measurement::Sqs(depth),
            },
        )]),
    }
}

fn visible(n: u64) -> SqsDepth {
    SqsDepth {
        visible: n,
        in_flight: 0,
        delayed: 0,
    }
}

fn failed(desired: u32) -> Observations {
    Observations {
        worker: worker(desired),
        signals: BTreeMap::from([(
            "q".to_string(),
            SignalReading::Failed {
                error: "queue q: timeout".into(),
            },
        )]),
    }
}

fn kafka_obs(desired: u32, at: Timestamp, parts: &[(i64, i64, Option<i64>)]) -> Observations {
    Observations {
        worker: worker(desired),
        signals: BTreeMap::from([(
            "k".to_string(),
            SignalReading::Ok {
                observed_at: at,
                measurement: Measurement::Kafka(KafkaOffsets {
                    partitions: parts
                        .iter()
                        .enumerate()
                        .map(|(i, &(low, high, committed))| PartitionOffsets {
                            partition: i as i32,
                            low_watermark: low,
                            high_watermark: high,
                            committed_offset: committed,
                        })
                        .collect(),
                    ..Default::default()
                }),
            },
        )]),
    }
}

fn decide_sqs(policy: PolicyConfig, desired: u32, depth: SqsDepth) -> Decision {
    decide(
        &target(policy, vec![sqs_signal("q")]),
        &TargetState::default(),
        &sqs_obs(desired, t(0), depth),
        t(0),
    )
}

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
    assert_eq!(lags, vec![300, 0, 300]);
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

// 2. Target tracking ------------------------------------------------------

#[test]
fn aws_backlog_per_instance_example_1500_messages_10_workers_target_100_gives_15() {
    // AWS docs, "Scaling policy based on Amazon SQS": 1500 messages, target 100 → 15.
    let d = decide_sqs(PolicyConfig::with_target(1, 50, 100.0), 10, visible(1500));
    assert_eq!(d.desired, 15);
    assert_eq!(d.direction, Direction::ScaleOut);
}

#[test]
fn target_from_latency_and_max_over_signals() {
    let mut p = plain(0, 100, 1.0);
    p.target_per_worker = None;
    p.latency = Some(LatencyTarget {
        acceptable: HumanDuration::secs(10),
        processing_time_per_message: HumanDuration(std::time::Duration::from_millis(100)),
    });
    // 10s / 0.1s = 100 per worker.
    let tg = target(p, vec![sqs_signal("q"), sqs_signal("r")]);
    let mut obs = sqs_obs(0, t(0), visible(250));
    obs.signals.insert(
        "r".into(),
        SignalReading::Ok {
            observed_at: t(0),
            measurement: Measurement::Sqs(visible(710)),
        },
    );
    let d = decide(&tg, &TargetState::default(), &obs, t(0));
    assert_eq!(d.desired, 8);
    assert_eq!(d.signals[0].recommendation, Some(3));
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
fn float_targets_do_not_add_a_worker() {
    assert_eq!(decide_sqs(plain(0, 100, 0.1), 0, visible(3)).desired, 30);
}

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

fn cooled(out: u64, inn: u64) -> PolicyConfig {
    let mut p = plain(0, 100, 10.0);
    p.scale_out.cooldown = HumanDuration::secs(out);
    p.scale_in.cooldown = HumanDuration::secs(inn);
    p
}

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
    let lag = d.signals[0].partition_lag[0];
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

// 9. Floors ------------------------------------------------------------------------

#[test]
fn schedule_floor_applies_lead_early_and_overrides_scale_in_but_not_max() {
    let mut p = cooled(0, 3600);
    p.max = 8;
    let mut tg = target(p, vec![sqs_signal("q")]);
    tg.schedules.push(ScheduleConfig {
        name: "morning".into(),
        cron: "0 8 * * *".parse().unwrap(),
        timezone: "Europe/Paris".parse().unwrap(),
        duration: HumanDuration::secs(3600),
        min: 6,
        lead: Some(HumanDuration::secs(600)),
    });
    // 2026-11-23 08:00 Paris = 07:00Z = t(25200); lead 10 min → 06:50Z.
    let before = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(1, t(24_599), visible(0)),
        t(24_599),
    );
    assert_eq!(before.desired, 0);
    let lead = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(1, t(24_600), visible(0)),
        t(24_600),
    );
    assert_eq!(lead.desired, 6);
    assert_eq!(lead.bounded_by, vec![Term::TargetTracking, Term::Floor]);
    tg.schedules[0].min = 20;
    let capped = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(1, t(25_000), visible(0)),
        t(25_000),
    );
    assert_eq!(capped.desired, 8, "a floor never exceeds max");
}

#[test]
fn registered_event_floor_overrides_cooldown_and_expires() {
    let tg = target(cooled(0, 3600), vec![sqs_signal("q")]);
    let mut state = TargetState::default();
    state.actions.push(ScalingAction {
        at: t(0),
        from: 10,
        to: 3,
    });
    state.register_event(RegisteredEvent {
        name: "launch".into(),
        start: t(1000),
        end: t(2000),
        min: 12,
    });
    // Default lead 5m: the floor starts at t(700) even inside the scale-in cooldown.
    let d = decide(&tg, &state, &sqs_obs(3, t(650), visible(0)), t(650));
    assert_eq!(d.desired, 3);
    let d = decide(&tg, &state, &sqs_obs(3, t(700), visible(0)), t(700));
    assert_eq!(d.desired, 12);
    let after = decide(
        &tg,
        &d.next_state,
        &sqs_obs(12, t(2000), visible(0)),
        t(2000),
    );
    assert!(
        after.next_state.events.is_empty(),
        "expired events are trimmed"
    );
    assert!(after.desired < 12 || after.bounded_by.contains(&Term::ScaleInCooldown));
}

// 10. Untrusted data -------------------------------------------------------------

#[test]
fn failed_or_stale_signal_never_scales_in() {
    let tg = target(plain(0, 100, 10.0), vec![sqs_signal("q")]);
    let d = decide(&tg, &TargetState::default(), &failed(7), t(0));
    assert_eq!(d.desired, 7);
    assert_eq!(d.bounded_by, vec![]);
    assert!(d.steps.iter().any(|s| s.term == Term::NoTrustedSignal));
    // Stale: observed 10 minutes ago with max_signal_age 5m.
    let d = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(7, t(0), visible(0)),
        t(600),
    );
    assert_eq!(d.desired, 7);
    assert!(
        d.signals[0].detail.starts_with("stale"),
        "{}",
        d.signals[0].detail
    );
    // A trusted second signal may scale out, never in, while the first fails.
    let tg2 = target(plain(0, 100, 10.0), vec![sqs_signal("q"), sqs_signal("r")]);
    let mut obs = failed(7);
    obs.signals.insert(
        "r".into(),
        SignalReading::Ok {
            observed_at: t(0),
            measurement: Measurement::Sqs(visible(10)),
        },
    );
    let d = decide(&tg2, &TargetState::default(), &obs, t(0));
    assert_eq!(d.desired, 7);
    assert!(d.bounded_by.contains(&Term::UntrustedSignal));
}

#[test]
fn fallback_after_more_than_n_failures_and_replays_do_not_count() {
    let mut p = plain(0, 100, 10.0);
    p.untrusted_data.failures_before_fallback = 2;
    p.untrusted_data.fallback = Fallback::Static(4);
    let tg = target(p, vec![sqs_signal("q")]);
    let mut state = TargetState::default();
    let mut desired = vec![];
    for i in 0..3 {
        let d = decide(&tg, &state, &failed(9), t(i * 60));
        // Replaying the same tick counts nothing twice.
        let replay = decide(&tg, &d.next_state, &failed(9), t(i * 60));
        assert_eq!(replay.next_state, d.next_state);
        desired.push(d.desired);
        state = d.next_state;
    }
    assert_eq!(desired, vec![9, 9, 4]);
    // One good reading resets the run.
    let d = decide(&tg, &state, &sqs_obs(4, t(200), visible(40)), t(200));
    assert!(d.next_state.signal_health.is_empty());
    assert_eq!(Fallback::CurrentIfHigher(4).apply(9), 9);
    assert_eq!(Fallback::CurrentIfLower(4).apply(9), 4);
    assert_eq!(Fallback::Hold.apply(9), 9);
}

#[test]
fn wrong_kind_and_inconsistent_offsets_are_untrusted() {
    let tg = target(plain(0, 100, 10.0), vec![sqs_signal("k")]);
    let d = decide(
        &tg,
        &TargetState::default(),
        &kafka_obs(3, t(0), &[(0, 10, None)]),
        t(0),
    );
    assert!(!d.signals[0].trusted);
    let tgk = target(
        plain(0, 100, 10.0),
        vec![SignalConfig::Kafka(kafka_signal("k"))],
    );
    let d = decide(
        &tgk,
        &TargetState::default(),
        &kafka_obs(3, t(0), &[(50, 10, None)]),
        t(0),
    );
    assert!(!d.signals[0].trusted);
    assert!(
        d.signals[0].detail.contains("inconsistent"),
        "{}",
        d.signals[0].detail
    );
    assert_eq!(d.desired, 3);
}

// 11. Deployments -------------------------------------------------------------------

#[test]
fn deployment_in_progress_suspends_scale_in_only() {
    let tg = target(plain(0, 100, 10.0), vec![sqs_signal("q")]);
    let mut obs = sqs_obs(8, t(0), visible(10));
    obs.worker.deployment_in_progress = true;
    obs.worker.running = 6;
    obs.worker.pending = 2;
    let d = decide(&tg, &TargetState::default(), &obs, t(0));
    assert_eq!(d.desired, 8);
    assert_eq!((d.running, d.pending), (6, 2));
    assert!(d.bounded_by.contains(&Term::DeploymentInProgress));
    obs.signals.insert(
        "q".into(),
        SignalReading::Ok {
            observed_at: t(0),
            measurement: Measurement::Sqs(visible(150)),
        },
    );
    assert_eq!(decide(&tg, &TargetState::default(), &obs, t(0)).desired, 15);
}

#[test]
fn event_source_mapping_counts_stay_in_aws_range() {
    let mut tg = target(plain(0, 5000, 10.0), vec![sqs_signal("q")]);
    tg.worker = WorkerConfig::LambdaEventSourceMapping(crate::config::EventSourceMappingWorker {
        uuid: "u".into(),
    });
    let low = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(3, t(0), visible(0)),
        t(0),
    );
    assert_eq!(low.desired, 2);
    assert!(low.bounded_by.contains(&Term::WorkerLimits));
    let high = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(900, t(0), visible(20_000)),
        t(0),
    );
    assert_eq!(high.desired, 1000);
    assert!(
        high.explanation.contains("worker_limits"),
        "{}",
        high.explanation
    );
}

// State stays bounded --------------------------------------------------------------

#[test]
fn state_is_trimmed_to_what_windows_need() {
    let tg = target(
        PolicyConfig::with_target(0, 100, 10.0),
        vec![sqs_signal("q")],
    );
    let mut state = TargetState::default();
    let mut desired = 0;
    for i in 0..2000 {
        let backlog = if i % 2 == 0 { 500 } else { 0 };
        let d = decide(
            &tg,
            &state,
            &sqs_obs(desired, t(i * 15), visible(backlog)),
            t(i * 15),
        );
        desired = d.desired;
        state = d.next_state;
    }
    // 300s window at a 15s tick: at most 21 recommendations.
    assert!(
        state.recommendations.len() <= 21,
        "{}",
        state.recommendations.len()
    );
    assert!(state.actions.len() <= 21, "{}", state.actions.len());
}

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
    )
        .prop_map(|(min, span, per, out_cd, in_cd, out_w, in_w)| {
            let mut p = PolicyConfig::with_target(min, min + span, per as f64);
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
