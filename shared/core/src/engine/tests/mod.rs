//! Engine tests: one per mechanism, the anchors' published examples, and
//! properties over random inputs.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::*;
use crate::config::{
    DirectionConfig, Fallback, HumanDuration, KafkaSignal, LatencyTarget, MissingOffsetPolicy,
    PartitionCapMode, PolicyConfig, RateLimitPolicy, RateLimits, ScheduleConfig, SelectPolicy,
    SignalConfig, TargetConfig, WorkerConfig,
};

use crate::testing::{kafka_signal, sqs_signal};

/// A target named `t` on ECS service `s`.
fn target(policy: PolicyConfig, signals: Vec<SignalConfig>) -> TargetConfig {
    crate::testing::ecs_target("t", policy, signals)
}

fn t(s: i64) -> Timestamp {
    // 2026-11-23T00:00:00Z, a Monday.
    Timestamp::from_second(1_795_392_000 + s).unwrap()
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
    crate::testing::steady_workers(desired)
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
        ..SqsDepth::default()
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

/// Signal `k` read as `offsets` at `at`.
fn kafka_reading(desired: u32, at: Timestamp, offsets: KafkaOffsets) -> Observations {
    Observations {
        worker: worker(desired),
        signals: BTreeMap::from([(
            "k".to_string(),
            SignalReading::Ok {
                observed_at: at,
                measurement: Measurement::Kafka(offsets),
            },
        )]),
    }
}

fn kafka_obs(desired: u32, at: Timestamp, parts: &[(i64, i64, Option<i64>)]) -> Observations {
    let partitions = parts
        .iter()
        .enumerate()
        .map(|(i, &(low, high, committed))| PartitionOffsets {
            partition: i as i32,
            low_watermark: low,
            high_watermark: high,
            committed_offset: committed,
            only_marker_left: false,
        })
        .collect();
    kafka_reading(
        desired,
        at,
        KafkaOffsets {
            partitions,
            ..Default::default()
        },
    )
}

fn decide_sqs(policy: PolicyConfig, desired: u32, depth: SqsDepth) -> Decision {
    decide(
        &target(policy, vec![sqs_signal("q")]),
        &TargetState::default(),
        &sqs_obs(desired, t(0), depth),
        t(0),
    )
}

fn cooled(out: u64, inn: u64) -> PolicyConfig {
    let mut p = plain(0, 100, 10.0);
    p.scale_out.cooldown = HumanDuration::secs(out);
    p.scale_in.cooldown = HumanDuration::secs(inn);
    p
}

mod extreme_times;
mod fifo;
mod kafka_topics;
mod limits;
mod operator;
mod poison;
mod pool;
mod properties;
mod safety;
mod signals;
mod slo;
