//! Wall time of one real lag read (metadata, committed offsets, batched
//! watermarks, group) for 1,000- and 10,000-partition topics on the local
//! broker.
//! Needs the broker: `scripts/services.sh start`, then
//! `cargo bench -p qscale-integration --bench kafka_read`.

use std::collections::BTreeMap;

use criterion::{criterion_group, criterion_main, Criterion};
use qscale_core::config::{KafkaClusterConfig, KafkaSignal, MissingOffsetPolicy, PartitionCapMode};
use qscale_integration::kafka::{bootstrap, commit, create_topic, produce};
use qscale_integration::unique;
use qscale_kafka::KafkaLagSource;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut group = c.benchmark_group("kafka_read");
    group.sample_size(20);
    for partitions in [1000usize, 10_000] {
        let (topic, group_id) = (unique("bench"), unique("g"));
        rt.block_on(create_topic(&topic, partitions as i32));
        produce(&topic, &vec![3; partitions]);
        let offsets: Vec<(i32, i64)> = (0..partitions as i32).map(|p| (p, 1)).collect();
        commit(&topic, &group_id, &offsets);
        let source = KafkaLagSource::new(BTreeMap::from([(
            "local".to_string(),
            KafkaClusterConfig {
                bootstrap_servers: bootstrap(),
                properties: BTreeMap::new(),
                ..Default::default()
            },
        )]));
        let signal = KafkaSignal {
            name: "events".into(),
            cluster: "local".into(),
            group: group_id,
            topic,
            topics: Vec::new(),
            assignor: Default::default(),
            on_missing_offset: MissingOffsetPolicy::Latest,
            partition_cap: PartitionCapMode::Partitions,
            allow_idle_consumers: false,
            max_partitions: None,
            max_lag: None,
        };
        let first = source.read_offsets(&signal).unwrap();
        assert_eq!(first.partitions.len(), partitions);
        assert!(first
            .partitions
            .iter()
            .all(|p| p.high_watermark == 3 && p.committed_offset == Some(1)));
        group.bench_function(format!("lag_{partitions}_partitions"), |b| {
            b.iter(|| source.read_offsets(&signal).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
