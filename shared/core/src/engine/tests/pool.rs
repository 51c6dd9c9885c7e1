//! One fleet fed by several signals (`aggregate: sum`): sized as one pool,
//! never below the load it carries, never above the signals sized apart and
//! added; `max` for signals of the same work.

use super::*;
use crate::config::{Aggregate, SloConfig};

/// 200 ms messages, 60 s p99 wait, no windows or cooldowns.
fn slo_plain() -> PolicyConfig {
    let mut p = plain(0, 10_000, 150.0);
    p.slo = Some(SloConfig {
        wait: HumanDuration::secs(60),
        percentile: 99.0,
        processing_time: Some(HumanDuration(std::time::Duration::from_millis(200))),
        startup: crate::config::StartupTime::Fixed(HumanDuration::secs(60)),
    });
    p
}

fn sqs_reading(depth: SqsDepth) -> SignalReading {
    SignalReading::Ok {
        observed_at: t(0),
        measurement: Measurement::Sqs(depth),
    }
}

/// Decides a target on queues `q` and `r` from `desired` workers.
fn decide_two(policy: PolicyConfig, desired: u32, q: SqsDepth, r: SqsDepth) -> Decision {
    let tg = target(policy, vec![sqs_signal("q"), sqs_signal("r")]);
    let obs = Observations {
        worker: worker(desired),
        signals: BTreeMap::from([("q".into(), sqs_reading(q)), ("r".into(), sqs_reading(r))]),
    };
    decide(&tg, &TargetState::default(), &obs, t(0))
}

/// The decision's target-tracking step.
fn tracking_step(d: &Decision) -> &Step {
    d.steps
        .iter()
        .find(|s| s.term == Term::TargetTracking)
        .expect("a tracking step")
}

fn in_flight(n: u64) -> SqsDepth {
    SqsDepth {
        visible: 0,
        in_flight: n,
        delayed: 0,
        ..SqsDepth::default()
    }
}

#[test]
fn a_pool_on_two_queues_keeps_the_workers_its_load_occupies() {
    // Issue 24's case: an orders queue and its retry queue, 10 messages in
    // flight on each, so 20 workers busy. Each queue alone needs 12; the max
    // scaled 20 -> 12, 40% below the load being carried (once the scale-in
    // window has passed; here there is none).
    let mut p = slo_plain();
    let d = decide_two(p.clone(), 20, in_flight(10), in_flight(10));
    assert!(d.desired >= 20, "{}", d.explain());
    assert_eq!(d.signals[0].recommendation, Some(12));
    let step = tracking_step(&d);
    assert!(
        step.detail.contains("pooled q + r (aggregate: sum)")
            && step.detail.contains("apart they need 12 and 12 (added 24)"),
        "{}",
        step.detail
    );
    p.aggregate = Aggregate::Max;
    let d = decide_two(p, 20, in_flight(10), in_flight(10));
    assert_eq!(d.desired, 12, "max keeps the old answer: {}", d.explain());
}

#[test]
fn pooling_two_queues_needs_no_more_than_sizing_them_apart() {
    // Erlang C pools: 10 + 10 busy apart need 12 + 12; together fewer
    // (from the 20 that hold them, with no tolerance band).
    let mut p = slo_plain();
    p.tolerance = 0.0;
    let d = decide_two(p, 20, in_flight(10), in_flight(10));
    assert!((21..24).contains(&d.desired), "{}", d.explain());
    // Without `slo`: backlog per worker over the summed backlog, and the
    // keep-up term over the summed busy workers.
    let mut p = plain(0, 100, 100.0);
    p.target_utilization = None;
    let d = decide_two(p, 0, visible(150), visible(150));
    assert_eq!(d.desired, 3, "ceil(300 / 100): {}", d.explain());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Pooled sizing lies between the busiest signal alone and the signals
    /// sized apart and added, and above the busy workers it carries; `max`
    /// is the busiest alone.
    #[test]
    fn pooled_lies_between_the_busiest_alone_and_the_sum_apart(
        qv in 0u64..20_000, qf in 0u64..300, rv in 0u64..20_000, rf in 0u64..300,
        slo in any::<bool>(),
    ) {
        let mut policy = if slo { slo_plain() } else { plain(0, 10_000, 150.0) };
        // From the workers holding what is in flight, with no tolerance band
        // (it would hold that count whatever the sizing).
        policy.tolerance = 0.0;
        let fleet = (qf + rf) as u32;
        let (q, r) = (SqsDepth { visible: qv, in_flight: qf, delayed: 0, ..SqsDepth::default() },
                      SqsDepth { visible: rv, in_flight: rf, delayed: 0, ..SqsDepth::default() });
        let alone = |depth| decide(
            &target(policy.clone(), vec![sqs_signal("q")]),
            &TargetState::default(),
            &sqs_obs(fleet, t(0), depth),
            t(0),
        ).desired;
        let (a, b) = (alone(q), alone(r));
        let pooled = decide_two(policy.clone(), fleet, q, r).desired;
        prop_assert!(pooled >= a.max(b), "pooled {pooled}, alone {a} and {b}");
        prop_assert!(pooled <= a + b, "pooled {pooled}, apart {a} + {b}");
        if slo && qf + rf > 0 {
            prop_assert!(u64::from(pooled) > qf + rf, "pooled {pooled} for {} busy", qf + rf);
        }
        let mut max = policy;
        max.aggregate = Aggregate::Max;
        prop_assert_eq!(decide_two(max, fleet, q, r).desired, a.max(b));
    }
}

fn kafka_reading(partitions: usize, lag_each: i64) -> SignalReading {
    SignalReading::Ok {
        observed_at: t(0),
        measurement: Measurement::Kafka(KafkaOffsets {
            partitions: (0..partitions)
                .map(|i| PartitionOffsets {
                    partition: i as i32,
                    low_watermark: 0,
                    high_watermark: lag_each,
                    committed_offset: Some(0),
                    only_marker_left: false,
                })
                .collect(),
            ..Default::default()
        }),
    }
}

#[test]
fn a_pool_of_topics_uses_no_more_consumers_than_one_topic_can() {
    // Every worker consumes both topics: workers beyond the larger topic's
    // 6 partitions would idle on both.
    let mut small = kafka_signal("k");
    small.topic = "small".into();
    let mut large = kafka_signal("l");
    large.topic = "large".into();
    let tg = target(
        plain(0, 100, 100.0),
        vec![SignalConfig::Kafka(small), SignalConfig::Kafka(large)],
    );
    let obs = Observations {
        worker: worker(1),
        signals: BTreeMap::from([
            ("k".into(), kafka_reading(4, 1_000)),
            ("l".into(), kafka_reading(6, 1_000)),
        ]),
    };
    let d = decide(&tg, &TargetState::default(), &obs, t(0));
    assert_eq!(d.desired, 6, "{}", d.explain());
    assert!(d.bounded_by.contains(&Term::PartitionCap), "{:?}", d.steps);
    // A queue beside the topic takes any number of workers: no cap.
    let tg = target(
        plain(0, 100, 100.0),
        vec![sqs_signal("q"), SignalConfig::Kafka(kafka_signal("k"))],
    );
    let obs = Observations {
        worker: worker(1),
        signals: BTreeMap::from([
            ("q".into(), sqs_reading(visible(500))),
            ("k".into(), kafka_reading(4, 1_000)),
        ]),
    };
    let d = decide(&tg, &TargetState::default(), &obs, t(0));
    assert_eq!(d.desired, 45, "ceil(4,500 / 100): {}", d.explain());
}

#[test]
fn the_forecast_records_the_load_the_reactive_sizing_pools() {
    let mut p = slo_plain();
    p.forecast.mode = crate::config::ForecastMode::ForecastOnly;
    let recorded = |p: PolicyConfig| {
        let d = decide_two(p, 20, in_flight(10), in_flight(6));
        *d.next_state
            .load_history
            .minutes
            .last()
            .expect("one minute recorded")
    };
    assert_eq!(recorded(p.clone()), 16.0);
    p.aggregate = Aggregate::Max;
    assert_eq!(recorded(p), 10.0);
}

#[test]
fn a_pool_falling_behind_on_both_queues_needs_no_more_than_apart() {
    // From 13 workers both queues grow: orders by 24.7 msg/s, retries by
    // 69 msg/s. Alone, only the retries outlast one wait while new workers
    // start; summed, the orders' growth would count too and ask more than
    // the two sized apart. The pool is held to what they need apart.
    let tg = target(slo_plain(), vec![sqs_signal("q"), sqs_signal("r")]);
    let at = |s: i64, q: u64, r: u64| Observations {
        worker: worker(13),
        signals: BTreeMap::from([
            (
                "q".into(),
                SignalReading::Ok {
                    observed_at: t(s),
                    measurement: Measurement::Sqs(visible(q)),
                },
            ),
            (
                "r".into(),
                SignalReading::Ok {
                    observed_at: t(s),
                    measurement: Measurement::Sqs(visible(r)),
                },
            ),
        ]),
    };
    let first = decide(&tg, &TargetState::default(), &at(0, 0, 0), t(0));
    let d = decide(&tg, &first.next_state, &at(15, 371, 1035), t(15));
    let apart: u32 = d.signals.iter().filter_map(|s| s.recommendation).sum();
    assert_eq!(d.desired, apart, "{}", d.explain());
    let step = tracking_step(&d);
    assert!(
        step.detail.contains("no more than apart"),
        "{}",
        step.detail
    );
}

#[test]
fn a_pools_forecast_keeps_one_history_per_signal() {
    let mut p = slo_plain();
    p.forecast.mode = crate::config::ForecastMode::ForecastOnly;
    let d = decide_two(p.clone(), 20, in_flight(10), in_flight(6));
    let histories = &d.next_state.signal_load_history;
    assert_eq!(histories.keys().collect::<Vec<_>>(), ["q", "r"]);
    assert_eq!(histories["q"].minutes.last(), Some(&10.0));
    assert_eq!(histories["r"].minutes.last(), Some(&6.0));
    // Signals of the same work are one history, the target's.
    p.aggregate = Aggregate::Max;
    let d = decide_two(p, 20, in_flight(10), in_flight(6));
    assert!(d.next_state.signal_load_history.is_empty());
}
