//! `decide` on a Kafka target with 1, 100 and 10,000 partitions, with a
//! state carried from a previous tick (partition history present).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use jiff::Timestamp;

use qscale_core::config::{MissingOffsetPolicy, PolicyConfig, SignalConfig, TargetConfig};
use qscale_core::engine::{decide, KafkaOffsets, Observations, PartitionOffsets};

fn target() -> TargetConfig {
    let mut kafka = qscale_core::testing::kafka_signal("k");
    kafka.on_missing_offset = MissingOffsetPolicy::Earliest;
    qscale_core::testing::ecs_target(
        "bench",
        PolicyConfig::with_target(1, 10_000, 1000.0),
        vec![SignalConfig::Kafka(kafka)],
    )
}

fn observations(partitions: i32, at: Timestamp, shift: i64) -> Observations {
    let parts = (0..partitions)
        .map(|p| PartitionOffsets {
            partition: p,
            low_watermark: 0,
            high_watermark: 10_000 + (p as i64 * 7919) % 5000 + shift,
            committed_offset: (p % 10 != 0).then_some(9_000 + shift),
            only_marker_left: false,
        })
        .collect();
    qscale_core::testing::kafka_observations(
        "k",
        20,
        at,
        KafkaOffsets {
            partitions: parts,
            ..Default::default()
        },
    )
}

fn bench(c: &mut Criterion) {
    let tg = target();
    let t0: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
    let t1: Timestamp = "2026-11-23T10:01:00Z".parse().unwrap();
    let mut group = c.benchmark_group("decide_kafka");
    for n in [1, 100, 10_000] {
        let warm = decide(&tg, &Default::default(), &observations(n, t0, 0), t0).next_state;
        let obs = observations(n, t1, 50);
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| decide(&tg, &warm, &obs, t1))
        });
    }
    group.finish();
}

/// The pure lag arithmetic alone for 10,000 partitions: lag, lag in seconds
/// over a full 16-sample history, and status.
fn bench_lag(c: &mut Criterion) {
    use qscale_core::config::MissingOffsetPolicy;
    use qscale_core::engine::partition_history::{
        classify, lag_seconds, OffsetSample, HISTORY_LEN,
    };
    let t0: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
    let histories: Vec<Vec<OffsetSample>> = (0..10_000i64)
        .map(|p| {
            (0..HISTORY_LEN as i64)
                .map(|i| OffsetSample {
                    at: t0 + jiff::SignedDuration::from_secs(60 * i),
                    high: 1000 * i + p % 97,
                    committed: Some(900 * i),
                })
                .collect()
        })
        .collect();
    let now = t0 + jiff::SignedDuration::from_secs(60 * HISTORY_LEN as i64);
    c.bench_function("kafka_lag_pure/10000", |b| {
        b.iter(|| {
            let mut total = 0u64;
            let mut worst = 0.0f64;
            for h in &histories {
                let last = h[h.len() - 1];
                let lag = qscale_core::engine::partition_lag(
                    0,
                    last.high,
                    last.committed,
                    MissingOffsetPolicy::Latest,
                );
                worst = worst.max(lag_seconds(h, last.committed, now).unwrap_or(0.0));
                let _ = classify(h, lag, 0, 5, Some(4));
                total += lag;
            }
            (total, worst)
        })
    });
}

criterion_group!(benches, bench, bench_lag);
criterion_main!(benches);
