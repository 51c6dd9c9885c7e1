//! Simulator properties: determinism, conservation of messages, and the
//! real reconcile path driving the world.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::world::PoisonModel;
use qscale_core::config::Config;

fn demo() -> Config {
    Config::from_yaml(DEMO_CONFIG).unwrap()
}

fn all_policies() -> Vec<String> {
    crate::policies::names()
}

fn report(trace: &str, seed: u64) -> String {
    let config = demo();
    let (mut spec, target) = SimSpec::bundled(trace).unwrap();
    spec.seed = seed;
    let results = compare(
        &spec,
        &config,
        config.target(target).unwrap(),
        &all_policies(),
    )
    .unwrap();
    format!("{}{}", report::table(&results), report::csv(&results))
}

#[test]
fn same_seed_gives_a_byte_identical_report() {
    assert_eq!(report("flash_crowd", 7), report("flash_crowd", 7));
    assert_eq!(
        report("kafka_hot_partition", 7),
        report("kafka_hot_partition", 7)
    );
    assert_ne!(
        report("flash_crowd", 7),
        report("flash_crowd", 8),
        "the seed must matter"
    );
}

#[test]
fn messages_are_conserved_and_scale_in_drains() {
    // Every arrival is either completed, in progress or still waiting.
    let trace = Trace::from_csv("t", "0,50\n600,50\n601,0\n1200,0\n").unwrap();
    let mut w = World::new(
        QueueModel::Sqs,
        SimSpec::new(trace.clone(), QueueModel::Sqs).workers,
        ChaCha8Rng::seed_from_u64(3),
        12,
        60,
        10,
    );
    let mut produced = 0u64;
    for (i, &r) in trace.rates.iter().enumerate() {
        w.step(r);
        if i == 300 {
            // Scale in while busy: the removed workers finish their message.
            w.set_desired(6);
        }
        produced = w.snapshot(0).partitions.first().map_or(0, |p| p.0);
    }
    let s = w.snapshot(0);
    assert_eq!(produced, w.tally.completed + s.in_flight + s.visible);
    // 300 s of 50 msg/s against 30 msg/s leaves 6,000; 30 msg/s clears them in 200 s.
    assert_eq!(w.backlog(), 0);
    assert_eq!(w.observe().running, 6);
}

#[test]
fn qscale_runs_through_the_real_reconcile_path() {
    let config = demo();
    let target = config.target("demo-sqs").unwrap().clone();
    let trace = Trace::from_csv("t", "0,0\n300,0\n301,100\n1200,100\n").unwrap();
    let spec = SimSpec::new(trace, QueueModel::Sqs);
    let mut q = Qscale::new("qscale", target, 60, MetricRead::Live { delay_s: 0 });
    let r = simulate(&spec, &mut q);
    // From 0: activation, then 100 msg/s × 0.2 s = 20 busy → 25 at 80% utilization.
    let last = r.samples.last().unwrap();
    assert!((20..=30).contains(&last.workers), "{last:?}");
    assert!(r.actions >= 2);
    assert_eq!(r.left_waiting, 0);
}

#[test]
fn cloudwatch_minutes_are_averaged_and_late() {
    let config = demo();
    let (mut spec, target) = SimSpec::bundled("flash_crowd").unwrap();
    let target = config.target(target).unwrap();
    let live = compare(&spec, &config, target, &["qscale".to_string()]).unwrap();
    spec.metric_read = MetricRead::CloudWatchMinute;
    let late = compare(&spec, &config, target, &["qscale".to_string()]).unwrap();
    // Seeing the crowd a minute or two later lets it wait longer.
    assert!(
        late[0].wait_max_s > live[0].wait_max_s,
        "{} vs {}",
        late[0].wait_max_s,
        live[0].wait_max_s
    );
}

#[test]
fn static_peak_never_acts_and_kafka_caps_consumers_at_partitions() {
    let config = demo();
    let (spec, target) = SimSpec::bundled("kafka_hot_partition").unwrap();
    let results = compare(
        &spec,
        &config,
        config.target(target).unwrap(),
        &all_policies(),
    )
    .unwrap();
    let static_run = results.iter().find(|r| r.policy == "static-peak").unwrap();
    assert_eq!(static_run.actions, 0);
    let q = results.iter().find(|r| r.policy == "qscale").unwrap();
    assert!(
        q.samples.iter().all(|s| s.workers <= 12),
        "one consumer per partition at most"
    );
}

#[test]
fn qscale_ticks_at_the_configs_sub_minute_interval() {
    let config =
        Config::from_yaml(&DEMO_CONFIG.replace("tick_interval: 15s", "tick_interval: 30s"))
            .unwrap();
    let (spec, target) = SimSpec::bundled("steady").unwrap();
    let p = policies(
        &["qscale".to_string()],
        &config,
        config.target(target).unwrap(),
        &spec,
    )
    .unwrap();
    assert_eq!(p[0].interval_s(), 30);
}

#[test]
fn workers_poll_several_queues_in_turn_and_each_reads_its_own() {
    // 30 msg/s on the first queue, 10 on the second; 12 workers (6 busy).
    let mut w = World::new(
        QueueModel::SqsQueues { queues: 2 },
        SimSpec::new(Trace::bundled("steady").unwrap(), QueueModel::Sqs).workers,
        ChaCha8Rng::seed_from_u64(3),
        12,
        60,
        10,
    );
    let (mut first, mut second) = (0u64, 0u64);
    for _ in 0..600 {
        w.step_queues(&[30.0, 10.0]);
        let s = w.snapshot(0);
        first += s.queues[0].1;
        second += s.queues[1].1;
    }
    // In flight follows each queue's load (6 and 2 busy), not an even split.
    let (first, second) = (first as f64 / 600.0, second as f64 / 600.0);
    assert!((5.0..7.0).contains(&first), "{first}");
    assert!((1.5..2.5).contains(&second), "{second}");
    assert_eq!(w.backlog(), 0, "12 workers keep up with 8 busy");
    let signals = demo().target("demo-two-queues").unwrap().signals.clone();
    let s = w.snapshot(0);
    for (i, signal) in signals.iter().enumerate() {
        let qscale_core::engine::Measurement::Sqs(depth) = s.reading(i, signal) else {
            panic!("an SQS reading");
        };
        assert_eq!((depth.visible, depth.in_flight), s.queues[i]);
    }
}

#[test]
fn one_pool_on_two_queues_meets_the_slo_where_their_max_does_not() {
    // The `two_queues` family: sized as one pool (the default) no violation;
    // sized for the busier queue only (`aggregate: max`) the pool runs short
    // whenever the retry burst meets the orders' peak.
    let run = |config: &Config| {
        let (spec, target) = SimSpec::bundled("two_queues").unwrap();
        compare(
            &spec,
            config,
            config.target(target).unwrap(),
            &["qscale".to_string()],
        )
        .unwrap()
        .remove(0)
    };
    let pooled = run(&demo());
    assert_eq!(pooled.slo_violation_s, 0, "{pooled:?}");
    // Cheaper than two fleets, one per queue, each with the demo policy:
    // pooled servers need less headroom, and each queue's own period is
    // forecast (the retry bursts' 20 minutes, not only the sum's 60).
    let config = demo();
    let apart: f64 = Trace::bundled("two_queues")
        .unwrap()
        .queues
        .iter()
        .enumerate()
        .map(|(i, rates)| {
            let trace = Trace {
                name: format!("queue {i}"),
                rates: rates.clone(),
                queues: Vec::new(),
            };
            let spec = SimSpec::new(trace, QueueModel::Sqs);
            compare(
                &spec,
                &config,
                config.target("demo-sqs").unwrap(),
                &["qscale".to_string()],
            )
            .unwrap()[0]
                .worker_seconds
        })
        .sum();
    assert!(
        pooled.worker_seconds < apart,
        "pooled {} h, apart {} h",
        pooled.worker_seconds / 3600.0,
        apart / 3600.0
    );
    let mut max = demo();
    let t = max
        .targets
        .iter_mut()
        .find(|t| t.name == "demo-two-queues")
        .unwrap();
    t.policy.aggregate = qscale_core::config::Aggregate::Max;
    let max = run(&max);
    assert!(max.slo_violation_s > 60, "{max:?}");
}

#[test]
fn a_fifo_queue_keeps_at_most_one_message_per_group_in_flight() {
    // 4 groups, 40 msg/s (8 busy at 200 ms) on 20 workers: at most 4 busy,
    // and the backlog grows.
    let mut w = World::new(
        QueueModel::SqsFifo { groups: 4 },
        SimSpec::new(Trace::bundled("steady").unwrap(), QueueModel::Sqs).workers,
        ChaCha8Rng::seed_from_u64(5),
        20,
        60,
        10,
    );
    let mut most = 0;
    for _ in 0..300 {
        w.step(40.0);
        most = most.max(w.snapshot(0).in_flight);
    }
    assert!(most <= 4, "{most} in flight");
    assert!(w.backlog() > 1000, "{}", w.backlog());
    assert!(w.snapshot(0).sqs().fifo);
}

#[test]
fn poison_messages_return_until_their_last_receive_then_go_to_the_dead_letter_queue() {
    let trace = Trace::from_csv("t", "0,10\n600,10\n601,0\n1200,0\n").unwrap();
    let mut w = World::new(
        QueueModel::Sqs,
        SimSpec::new(trace.clone(), QueueModel::Sqs).workers,
        ChaCha8Rng::seed_from_u64(9),
        5,
        60,
        10,
    );
    w.set_poison(PoisonModel {
        share: 0.5,
        from_s: 0,
        to_s: 600,
        max_receive_count: 3,
        visibility_timeout_s: 10,
    });
    for &r in &trace.rates {
        w.step(r);
    }
    let s = w.snapshot(0);
    // Once the queue is quiet every good message is completed and every
    // poison one dead-lettered (none completes: failures are not counted).
    let good = s.partitions[0].0;
    assert_eq!(s.visible + s.in_flight, 0);
    assert_eq!(w.tally.completed, good);
    let share = w.dead_lettered() as f64 / (good + w.dead_lettered()) as f64;
    assert!((0.45..0.55).contains(&share), "{share}");
    assert_eq!(s.dead_letter.map(|d| (d.1, d.2)), Some((3, 10)));
}

#[test]
fn qscale_does_not_scale_out_on_the_failures_it_cannot_help() {
    // poison_wave: 30% failing for 30 minutes, 5 receives, 30 s visibility.
    // Every receive takes a worker, so the fleet grows to what the oracle
    // staffs (about 15); in flight reaches about 1,600, which as busy
    // workers would have asked the max (100).
    let config = demo();
    let (spec, target) = SimSpec::bundled("poison_wave").unwrap();
    let results = compare(
        &spec,
        &config,
        config.target(target).unwrap(),
        &["qscale".to_string(), "oracle".to_string()],
    )
    .unwrap();
    let (q, oracle) = (&results[0], &results[1]);
    assert_eq!(q.slo_violation_s, 0, "{q:?}");
    let most = q.samples.iter().map(|s| s.workers).max().unwrap();
    assert!(most <= 20, "{most} workers");
    assert!(q.worker_seconds < 1.2 * oracle.worker_seconds);
    assert!(q.dead_lettered > 15_000, "{}", q.dead_lettered);
}

#[test]
fn long_jobs_on_ecs_show_the_work_its_scale_in_throws_away_and_the_oracle_throws_none() {
    // Jobs of 2-20 minutes: ECS stops tasks blind to their work, so every
    // policy that scales in while jobs run loses some; the oracle stops no
    // busy worker. The same run as a Lambda fleet loses nothing.
    let config = demo();
    let (mut spec, target) = SimSpec::bundled("long_jobs").unwrap();
    let mut target = config.target(target).unwrap().clone();
    spec.fit_worker(&target);
    assert_eq!(spec.workers.victims, VictimOrder::Placement);
    let names = ["qscale".to_string(), "oracle".to_string()];
    let results = compare(&spec, &config, &target, &names).unwrap();
    let (q, oracle) = (&results[0], &results[1]);
    assert!(
        q.redelivered > 0 && q.redelivered <= q.busy_stopped,
        "{q:?}"
    );
    assert!(
        q.work_lost_s > 60.0 * q.redelivered as f64,
        "{}",
        q.work_lost_s
    );
    assert_eq!((oracle.busy_stopped, oracle.redelivered), (0, 0));
    let csv = report::csv(&results);
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .ends_with(",busy_stopped,redelivered,work_lost_s"));

    // Workers that protect themselves while a job is in hand, and qscale
    // reading it (`respect_task_protection`): nothing stopped mid-job, for
    // no more worker-hours.
    let mut protected = target.clone();
    let qscale_core::config::WorkerConfig::Ecs(ecs) = &mut protected.worker else {
        panic!("an ECS target");
    };
    ecs.respect_task_protection = true;
    spec.fit_worker(&protected);
    assert_eq!(spec.workers.victims, VictimOrder::Protected);
    let kept = &compare(&spec, &config, &protected, &names[..1]).unwrap()[0];
    assert_eq!((kept.busy_stopped, kept.redelivered), (0, 0), "{kept:?}");
    assert!(kept.worker_seconds <= q.worker_seconds, "{kept:?}");

    target.worker = qscale_core::config::WorkerConfig::LambdaConcurrency(
        qscale_core::config::LambdaFunctionWorker {
            function: "jobs".into(),
            unreserved_at_max: false,
            qualifier: None,
        },
    );
    spec.fit_worker(&target);
    assert_eq!(
        (spec.workers.victims, spec.workers.startup_s),
        (VictimOrder::IdleFirst, 1.0)
    );
    let lambda = compare(&spec, &config, &target, &names[..1]).unwrap();
    assert_eq!((lambda[0].busy_stopped, lambda[0].redelivered), (0, 0));
}
