//! Builders for tests of this crate and of the crates above it (feature
//! `test-util`): one place for the targets, signals and policies that tests
//! write out again and again.

use crate::config::{
    EcsWorker, HumanDuration, KafkaSignal, MissingOffsetPolicy, PartitionCapMode, PolicyConfig,
    SignalConfig, SqsSignal, TargetConfig, WorkerConfig,
};

/// An SQS signal on queue `{name}-url`, counting in-flight messages, one per worker.
pub fn sqs_signal(name: &str) -> SignalConfig {
    SignalConfig::Sqs(sqs_config(name))
}

/// [`sqs_signal`]'s configuration.
pub fn sqs_config(name: &str) -> SqsSignal {
    SqsSignal {
        name: name.into(),
        queue: format!("{name}-url"),
        include_in_flight: true,
        include_delayed: false,
        in_flight_per_worker: 1,
        max_active_groups: None,
    }
}

/// A Kafka signal: group `g` on topic `t` of cluster `main`, capped at the
/// partitions, new partitions read from the latest offset.
pub fn kafka_signal(name: &str) -> KafkaSignal {
    KafkaSignal {
        name: name.into(),
        cluster: "main".into(),
        group: "g".into(),
        topic: "t".into(),
        topics: Vec::new(),
        assignor: Default::default(),
        on_missing_offset: MissingOffsetPolicy::Latest,
        partition_cap: PartitionCapMode::Partitions,
        allow_idle_consumers: false,
        max_partitions: None,
        max_lag: None,
    }
}

/// A target named `name` scaling ECS service `s` of cluster `c`.
pub fn ecs_target(name: &str, policy: PolicyConfig, signals: Vec<SignalConfig>) -> TargetConfig {
    TargetConfig {
        name: name.into(),
        signals,
        worker: WorkerConfig::Ecs(EcsWorker {
            cluster: "c".into(),
            service: "s".into(),
            respect_task_protection: false,
            spillover: None,
        }),
        policy,
        schedules: vec![],
        aws: None,
    }
}

/// `policy` with no cooldowns, stabilization windows or rate limits.
pub fn without_windows(mut policy: PolicyConfig) -> PolicyConfig {
    for d in [&mut policy.scale_out, &mut policy.scale_in] {
        d.cooldown = HumanDuration::secs(0);
        d.stabilization = HumanDuration::secs(0);
        d.rate_limits.policies.clear();
    }
    policy
}

/// A fleet at rest: `desired` workers, all running, none pending.
pub fn steady_workers(desired: u32) -> crate::engine::WorkerObservation {
    crate::engine::WorkerObservation {
        desired,
        running: desired,
        pending: 0,
        deployment_in_progress: false,
        provisioned: None,
        protected: None,
        spillover: None,
    }
}

/// `desired` workers at rest and one Kafka signal `signal` read at `at`.
pub fn kafka_observations(
    signal: &str,
    desired: u32,
    at: jiff::Timestamp,
    offsets: crate::engine::KafkaOffsets,
) -> crate::engine::Observations {
    crate::engine::Observations {
        worker: steady_workers(desired),
        signals: std::collections::BTreeMap::from([(
            signal.to_string(),
            crate::engine::SignalReading::Ok {
                observed_at: at,
                measurement: crate::engine::Measurement::Kafka(offsets),
            },
        )]),
    }
}

/// The start of minute `m` of a Monday (2026-11-23T00:00Z + m minutes).
pub fn at_minute(m: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_795_392_000 + m * 60).unwrap()
}

/// A load history of `minutes` minutes from [`at_minute`] 0, where `f(m)`
/// is the load of minute m.
pub fn load_history(
    minutes: i64,
    f: impl Fn(i64) -> f64,
) -> crate::engine::load_history::LoadHistory {
    let mut h = crate::engine::load_history::LoadHistory::default();
    for m in 0..minutes {
        h.record(at_minute(m), f(m));
    }
    h
}
