//! Wall time of one real lag read (metadata, committed offsets, batched
//! watermarks, group) for a 1,000-partition topic on the local broker.
//! Needs the broker: `scripts/services.sh start`, then
//! `cargo bench -p qscale-integration --bench kafka_read`.

use std::collections::BTreeMap;

use criterion::{criterion_group, criterion_main, Criterion};
use qscale_core::config::{KafkaClusterConfig, KafkaSignal, MissingOffsetPolicy, PartitionCapMode};
use qscale_integration::kafka::{bootstrap, commit, create_topic, produce};
use qscale_integration::unique;
use qscale_kafka::KafkaLagSource;

fn bench(c: &mut Criterion) {
    let (topic, group) = (unique("bench"), unique("g"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(create_topic(&topic, 1000));
    produce(&topic, &[3; 1000]);
    let offsets: Vec<(i32, i64)> = (0..1000).map(|p| (p, 1)).collect();
    commit(&topic, &group, &offsets);
    let source = KafkaLagSource::new(BTreeMap::from([(
        "local".to_string(),
        KafkaClusterConfig {
            bootstrap_servers: bootstrap(),
            properties: BTreeMap::new(),
        },
    )]));
    let signal = KafkaSignal {
        name: "events".into(),
        cluster: "local".into(),
        group,
        topic,
        on_missing_offset: MissingOffsetPolicy::Latest,
        partition_cap: PartitionCapMode::Partitions,
        allow_idle_consumers: false,
        max_partitions: None,
        max_lag: None,
    };
    let first = source.read_offsets(&signal).unwrap();
    assert_eq!(first.partitions.len(), 1000);
    assert!(first
        .partitions
        .iter()
        .all(|p| p.high_watermark == 3 && p.committed_offset == Some(1)));
    let mut group = c.benchmark_group("kafka_read");
    group.sample_size(20);
    group.bench_function("lag_1000_partitions", |b| {
        b.iter(|| source.read_offsets(&signal).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
