//! qscale against a real Kafka-protocol broker on 127.0.0.1 (noida-db), through
//! rdkafka: lag, missing offsets, partition growth and caps, stalled partitions,
//! a broker that is down, and one group on several topics. Workers are ECS
//! services in moto.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use qscale_core::config::{
    Config, KafkaClusterConfig, KafkaSignal, MissingOffsetPolicy, PartitionCapMode,
};
use qscale_core::engine::partition_history::PartitionStatus;
use qscale_core::engine::{PartitionOffsets, Term};
use qscale_core::reconcile::{Outcome, ReconcileOptions};
use qscale_integration::kafka::{
    bootstrap, commit, consume_and_commit, create_topic, partition_count, produce,
    produce_in_transaction, read_all, Member,
};
use qscale_integration::{unique, Moto};
use qscale_kafka::KafkaLagSource;
use qscale_live::run::{run_once, RunSummary};

fn signal(topic: &str, group: &str, on_missing: MissingOffsetPolicy) -> KafkaSignal {
    KafkaSignal {
        name: "events".into(),
        cluster: "local".into(),
        group: group.into(),
        topic: topic.into(),
        topics: Vec::new(),
        assignor: Default::default(),
        on_missing_offset: on_missing,
        partition_cap: PartitionCapMode::Partitions,
        allow_idle_consumers: false,
        max_partitions: None,
        max_lag: None,
    }
}

/// The partitions' lag summed, as the engine counts each.
fn total_lag(partitions: &[PartitionOffsets], policy: MissingOffsetPolicy) -> u64 {
    partitions
        .iter()
        .map(|p| {
            qscale_core::engine::partition_lag(
                p.low_watermark,
                p.high_watermark,
                p.committed_offset,
                policy,
            )
        })
        .sum()
}

fn source(bootstrap_servers: &str) -> KafkaLagSource {
    KafkaLagSource::new(BTreeMap::from([(
        "local".to_string(),
        KafkaClusterConfig {
            bootstrap_servers: bootstrap_servers.into(),
            properties: BTreeMap::new(),
            ..Default::default()
        },
    )]))
}

#[tokio::test]
async fn lag_per_partition_is_exact_after_consuming_300_of_1000() {
    let (topic, group) = (unique("lag"), unique("g"));
    create_topic(&topic, 4).await;
    produce(&topic, &[250; 4]);
    let consumed = consume_and_commit(&topic, &group, 4, 300);
    let offsets = source(&bootstrap())
        .read_offsets(&signal(&topic, &group, MissingOffsetPolicy::Latest))
        .unwrap();
    assert_eq!(offsets.partitions.len(), 4);
    let mut total = 0;
    for p in &offsets.partitions {
        let lag = qscale_core::engine::partition_lag(
            p.low_watermark,
            p.high_watermark,
            p.committed_offset,
            MissingOffsetPolicy::Latest,
        );
        assert_eq!(p.high_watermark, 250);
        assert_eq!(lag, 250 - consumed[p.partition as usize] as u64, "{p:?}");
        total += lag;
    }
    assert_eq!(total, 700);
}

#[tokio::test]
async fn a_group_without_committed_offsets_follows_on_missing_offset() {
    let (topic, group) = (unique("fresh"), unique("g"));
    create_topic(&topic, 2).await;
    produce(&topic, &[40, 60]);
    let offsets = source(&bootstrap())
        .read_offsets(&signal(&topic, &group, MissingOffsetPolicy::Latest))
        .unwrap();
    assert!(
        offsets
            .partitions
            .iter()
            .all(|p| p.committed_offset.is_none()),
        "{offsets:?}"
    );
    let lag = |policy| total_lag(&offsets.partitions, policy);
    // 1 per partition holding messages: a first consumer starts (KEDA: 1 each).
    assert_eq!(lag(MissingOffsetPolicy::Latest), 2);
    assert_eq!(lag(MissingOffsetPolicy::Earliest), 100);
}

struct World {
    moto: Moto,
    table: String,
    audit: String,
    cluster: String,
    service: String,
}

async fn world(desired: i32) -> World {
    let moto = Moto::connect().await;
    let (table, cluster, service) = (unique("state"), unique("c"), unique("s"));
    moto.state_table(&table).await;
    let audit = moto.queue_with(&unique("audit"), 0).await;
    moto.ecs_service(&cluster, &service, desired).await;
    World {
        moto,
        table,
        audit,
        cluster,
        service,
    }
}

impl World {
    fn config(
        &self,
        bootstrap_servers: &str,
        topic: &str,
        group: &str,
        signal_extra: &str,
        policy_extra: &str,
    ) -> Config {
        self.config_with(
            bootstrap_servers,
            topic,
            group,
            signal_extra,
            policy_extra,
            "",
        )
    }

    fn config_with(
        &self,
        bootstrap_servers: &str,
        topic: &str,
        group: &str,
        signal_extra: &str,
        policy_extra: &str,
        top_level: &str,
    ) -> Config {
        // A YAML list (`[a, b]`) is a signal on several topics.
        let topic_key = if topic.starts_with('[') {
            "topics"
        } else {
            "topic"
        };
        let yaml = format!(
            r#"{top_level}
kafka_clusters:
  local: {{ bootstrap_servers: "{bootstrap_servers}" }}
targets:
  - name: consumers
    signals:
      - kafka: {{ name: events, cluster: local, group: {group}, {topic_key}: {topic}{signal_extra} }}
    worker: {{ ecs: {{ cluster: {}, service: {} }} }}
    policy:
      min: 1
      max: 20
      target_per_worker: 100
      scale_out: {{ cooldown: 0s, stabilization: 0s, rate_limits: {{ policies: [] }} }}
      scale_in: {{ cooldown: 0s, stabilization: 0s, rate_limits: {{ policies: [] }} }}
{policy_extra}"#,
            self.cluster, self.service
        );
        Config::from_yaml(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
    }

    async fn run(&self, config: &Config, now: Timestamp) -> RunSummary {
        run_once(
            config,
            &self.moto.settings(&self.table, &self.audit),
            &self.moto.clients,
            now,
            ReconcileOptions::default(),
        )
        .await
    }
}

#[tokio::test]
async fn a_need_for_8_workers_grows_4_partitions_to_8_or_caps_at_4() {
    // 800 messages behind at 100 per worker: 8 workers on a 4-partition topic.
    for grow in [true, false] {
        let w = world(1).await;
        let (topic, group) = (unique("grow"), unique("g"));
        create_topic(&topic, 4).await;
        produce(&topic, &[200; 4]);
        commit(&topic, &group, &[(0, 0), (1, 0), (2, 0), (3, 0)]);
        let extra = if grow { ", max_partitions: 8" } else { "" };
        let c = w.config(&bootstrap(), &topic, &group, extra, "");
        let summary = w.run(&c, Timestamp::now()).await;
        let d = summary.reports[0].report.decision.as_ref().unwrap();
        assert_eq!(
            summary.reports[0].report.outcome,
            Outcome::Applied,
            "{}",
            summary.table()
        );
        if grow {
            assert_eq!(partition_count(&topic), 8, "{}", summary.table());
            assert_eq!(d.partition_requests.len(), 1);
            assert_eq!(w.moto.desired(&w.cluster, &w.service).await, 8);
        } else {
            assert_eq!(partition_count(&topic), 4);
            assert_eq!(w.moto.desired(&w.cluster, &w.service).await, 4);
            assert!(
                d.bounded_by.contains(&Term::PartitionCap),
                "{:?}",
                d.bounded_by
            );
            assert!(
                d.signals[0].detail.contains("capped at 4"),
                "{}",
                d.signals[0].detail
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_partition_is_flagged_and_does_not_drive_scale_out() {
    let w = world(2).await;
    let (topic, group) = (unique("stall"), unique("g"));
    create_topic(&topic, 2).await;
    produce(&topic, &[600, 10]);
    // Partition 0 is committed at 0 and stays there: a member is in the group
    // and keeps up with partition 1, but never moves partition 0.
    commit(&topic, &group, &[(0, 0)]);
    let _member = Member::join(&topic, &group, 0);
    let c = w.config(
        &bootstrap(),
        &topic,
        &group,
        "",
        "      stuck_partition_observations: 2\n",
    );
    let t0 = Timestamp::now();
    let mut last = None;
    for i in 0..3 {
        produce(&topic, &[0, 5]);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        last = Some(w.run(&c, t0 + SignedDuration::from_secs(60 * i)).await);
    }
    let summary = last.unwrap();
    let d = summary.reports[0].report.decision.as_ref().unwrap();
    assert_eq!(
        d.signals[0].stuck_partitions,
        vec![0],
        "{}",
        d.signals[0].detail
    );
    assert_eq!(
        d.signals[0].partition_lag[0].status,
        PartitionStatus::Stalled
    );
    assert!(
        d.signals[0].detail.contains("1 member(s)"),
        "{}",
        d.signals[0].detail
    );
    // 600 behind would want 6 workers; the stalled lag only holds the current 2.
    assert_eq!(
        w.moto.desired(&w.cluster, &w.service).await,
        2,
        "{}",
        summary.table()
    );
}

#[tokio::test]
async fn a_stopped_group_is_not_stuck_its_lag_drives_workers() {
    let w = world(1).await;
    let (topic, group) = (unique("stop"), unique("g"));
    create_topic(&topic, 4).await;
    produce(&topic, &[150; 4]);
    // Committed long ago, nobody in the group now.
    commit(&topic, &group, &[(0, 0), (1, 0), (2, 0), (3, 0)]);
    let c = w.config(
        &bootstrap(),
        &topic,
        &group,
        "",
        "      stuck_partition_observations: 2\n",
    );
    let t0 = Timestamp::now();
    let mut last = None;
    for i in 0..3 {
        last = Some(w.run(&c, t0 + SignedDuration::from_secs(60 * i)).await);
    }
    let summary = last.unwrap();
    let d = summary.reports[0].report.decision.as_ref().unwrap();
    assert!(
        d.signals[0].stuck_partitions.is_empty(),
        "{}",
        d.signals[0].detail
    );
    assert!(d.signals[0]
        .partition_lag
        .iter()
        .all(|p| p.status == PartitionStatus::Stopped));
    // 600 behind at 100 per worker: 6, capped at the 4 partitions.
    assert_eq!(
        w.moto.desired(&w.cluster, &w.service).await,
        4,
        "{}",
        summary.table()
    );
}

#[tokio::test]
async fn a_broker_that_is_down_fails_the_signal_and_the_target_holds() {
    let w = world(3).await;
    // Nothing listens on port 1.
    let c = w.config("127.0.0.1:1", "t", "g", "", "");
    let summary = w.run(&c, Timestamp::now()).await;
    let report = &summary.reports[0].report;
    assert_eq!(report.outcome, Outcome::Refused, "{}", summary.table());
    let e = report.error.as_deref().unwrap();
    assert!(e.contains("kafka cluster local (127.0.0.1:1)"), "{e}");
    assert_eq!(
        w.moto.desired(&w.cluster, &w.service).await,
        3,
        "no scale-in on a signal we cannot read"
    );
}

#[tokio::test]
async fn audit_events_are_produced_to_a_kafka_topic_and_acknowledged() {
    let w = world(1).await;
    let (topic, group, audit_topic) = (unique("work"), unique("g"), unique("audit"));
    create_topic(&topic, 2).await;
    create_topic(&audit_topic, 1).await;
    produce(&topic, &[150, 150]);
    commit(&topic, &group, &[(0, 0), (1, 0)]);
    let top = format!("audit_kafka: {{ cluster: local, topic: {audit_topic} }}");
    let c = w.config_with(&bootstrap(), &topic, &group, "", "", &top);
    let summary = w.run(&c, Timestamp::now()).await;
    assert_eq!(
        summary.reports[0].report.outcome,
        Outcome::Applied,
        "{}",
        summary.table()
    );
    let messages = read_all(&audit_topic);
    assert_eq!(messages.len(), 1, "{messages:?}");
    let (key, payload) = &messages[0];
    assert_eq!(key, "consumers");
    let event: qscale_core::reconcile::AuditEvent = serde_json::from_str(payload).unwrap();
    assert_eq!(
        (event.previous, event.desired, event.outcome),
        (1, 2, Outcome::Applied)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1000_partition_target_saves_its_state_tick_after_tick() {
    // Before the compact state, 1,000 partitions passed DynamoDB's 400 KB
    // item limit by the fifth tick: every claim failed from then on.
    let w = world(1).await;
    let (topic, group) = (unique("wide"), unique("g"));
    create_topic(&topic, 1000).await;
    let c = w.config(&bootstrap(), &topic, &group, "", "");
    let t0 = Timestamp::now();
    let mut sizes = Vec::new();
    for i in 0..20i64 {
        produce(&topic, &[2; 1000]);
        // Nine partitions in ten consumed to one message short of the end;
        // every tenth falls behind, at half the production.
        let high = 2 * (i + 1);
        let offsets: Vec<(i32, i64)> = (0..1000)
            .map(|p| (p, if p % 10 == 0 { high / 2 } else { high - 1 }))
            .collect();
        commit(&topic, &group, &offsets);
        let summary = w.run(&c, t0 + SignedDuration::from_secs(60 * i)).await;
        let report = &summary.reports[0].report;
        assert!(
            report.error.is_none() && report.outcome != Outcome::Failed,
            "tick {i}: {}",
            summary.table()
        );
        let item = w
            .moto
            .clients
            .dynamodb
            .get_item()
            .table_name(&w.table)
            .key(
                "target",
                aws_sdk_dynamodb::types::AttributeValue::S("consumers".into()),
            )
            .send()
            .await
            .unwrap();
        let state = item.item().unwrap()["state"].as_s().unwrap().clone();
        let state = qscale_core::engine::TargetState::from_json(&state).unwrap();
        // The tick was claimed: the stored state is this tick's.
        assert_eq!(
            state.last_tick,
            Some(t0 + SignedDuration::from_secs(60 * i)),
            "tick {i}"
        );
        let progress = &state.partition_progress["events"];
        assert_eq!(progress.len(), 1000);
        if i >= 1 {
            // Samples from the one written before the committed offset on:
            // partition 10 (committed at i + 1, written at tick (i - 1) / 2)
            // keeps i - (i - 1) / 2 + 1 of them, partition 11 two.
            let behind = (i - (i - 1) / 2 + 1) as usize;
            assert_eq!(progress[&10].history.len(), behind, "tick {i}");
            assert_eq!(progress[&11].history.len(), 2, "tick {i}");
        }
        sizes.push(serde_json::to_string(&state).unwrap().len());
    }
    let events = w.moto.audit_events(&w.audit).await;
    assert!(!events.is_empty());
    assert!(
        events
            .iter()
            .all(|e| e.kind != qscale_core::reconcile::AuditKind::ClaimError),
        "{:?}",
        events.iter().map(|e| e.kind).collect::<Vec<_>>()
    );
    // Measured: the state JSON after ticks 1, 5, 10 and 20.
    println!(
        "1,000 partitions: state after tick 1 {} B, 5 {} B, 10 {} B, 20 {} B",
        sizes[0], sizes[4], sizes[9], sizes[19]
    );
    assert!(sizes[19] < 100_000, "{sizes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transactional_topic_lets_a_min_0_fleet_reach_zero_and_a_real_message_does_not() {
    // KEDA #5675: the commit marker after a transaction leaves a lag of 1
    // per partition that never moves.
    let w = world(1).await;
    let (topic, group) = (unique("txn"), unique("g"));
    create_topic(&topic, 3).await;
    produce_in_transaction(&topic, &[5, 5, 5]);
    let consumed = consume_and_commit(&topic, &group, 3, 15);
    assert_eq!(consumed, vec![5, 5, 5]);
    let c = w.config(&bootstrap(), &topic, &group, "", "");
    let read = source(&bootstrap())
        .read_offsets(&signal(&topic, &group, MissingOffsetPolicy::Latest))
        .unwrap();
    // Messages at 0-4, the marker at 5, committed 5: 1 behind, no work.
    for p in &read.partitions {
        assert_eq!(
            (p.high_watermark, p.committed_offset, p.only_marker_left),
            (6, Some(5), true),
            "{p:?}"
        );
    }
    let mut c_min0 = c.clone();
    c_min0.targets[0].policy.min = 0;
    let summary = w.run(&c_min0, Timestamp::now()).await;
    let d = summary.reports[0].report.decision.as_ref().unwrap();
    assert_eq!(d.signals[0].backlog, Some(0), "{}", d.signals[0].detail);
    assert_eq!(
        w.moto.desired(&w.cluster, &w.service).await,
        0,
        "{}",
        summary.table()
    );

    // A plain message past the committed offset is work: 1 behind, and it is
    // not taken for a marker.
    let (plain, group2) = (unique("plain"), unique("g"));
    create_topic(&plain, 1).await;
    produce(&plain, &[3]);
    commit(&plain, &group2, &[(0, 2)]);
    let read = source(&bootstrap())
        .read_offsets(&signal(&plain, &group2, MissingOffsetPolicy::Latest))
        .unwrap();
    assert!(!read.partitions[0].only_marker_left);
    assert_eq!(read.partitions[0].committed_offset, Some(2));
}

#[tokio::test]
async fn one_group_on_three_topics_sums_their_lag_and_caps_per_assignor() {
    // 2, 3 and 5 partitions; 400 + 600 + 250 = 1,250 behind: 13 workers at
    // 100 each. The range assignor gives each member partitions of every
    // topic, so at most 5 (the largest topic) get work; round-robin and
    // cooperative-sticky spread all 10.
    let group = unique("g");
    let topics = [unique("ta"), unique("tb"), unique("tc")];
    for (topic, partitions) in topics.iter().zip([2, 3, 5]) {
        create_topic(topic, partitions).await;
    }
    produce(&topics[0], &[300, 300]);
    produce(&topics[1], &[200, 200, 200]);
    produce(&topics[2], &[100; 5]);
    commit(&topics[0], &group, &[(0, 100), (1, 100)]);
    commit(&topics[1], &group, &[(0, 0), (1, 0), (2, 0)]);
    commit(
        &topics[2],
        &group,
        &[(0, 50), (1, 50), (2, 50), (3, 50), (4, 50)],
    );

    let mut several = signal("", &group, MissingOffsetPolicy::Latest);
    several.topics = topics.to_vec();
    let read = source(&bootstrap()).read_offsets(&several).unwrap();
    assert!(read.partitions.is_empty(), "{read:?}");
    let lag_per_topic: Vec<(String, usize, u64)> = read
        .topics
        .iter()
        .map(|t| {
            let lag = total_lag(&t.partitions, MissingOffsetPolicy::Latest);
            (t.topic.clone(), t.partitions.len(), lag)
        })
        .collect();
    assert_eq!(
        lag_per_topic,
        vec![
            (topics[0].clone(), 2, 400),
            (topics[1].clone(), 3, 600),
            (topics[2].clone(), 5, 250),
        ]
    );

    let list = format!("[{}]", topics.join(", "));
    for (extra, workers, capped) in [
        ("", 5, true),
        (", assignor: range", 5, true),
        (", assignor: round_robin", 10, true),
        (", assignor: cooperative_sticky", 10, true),
        (", allow_idle_consumers: true", 13, false),
    ] {
        let w = world(1).await;
        let c = w.config(&bootstrap(), &list, &group, extra, "");
        let summary = w.run(&c, Timestamp::now()).await;
        let d = summary.reports[0].report.decision.as_ref().unwrap();
        assert_eq!(d.signals[0].backlog, Some(1250), "{}", summary.table());
        assert_eq!(
            w.moto.desired(&w.cluster, &w.service).await,
            workers,
            "{extra}: {}",
            summary.table()
        );
        assert_eq!(
            d.bounded_by.contains(&Term::PartitionCap),
            capped,
            "{extra}: {:?}",
            d.bounded_by
        );
    }

    // A configured topic the broker does not have: the signal fails and the
    // service holds, rather than being sized on the topics it could read.
    let w = world(7).await;
    let absent = unique("absent");
    let c = w.config(
        &bootstrap(),
        &format!("[{}, {absent}]", topics[0]),
        &group,
        "",
        "",
    );
    let summary = w.run(&c, Timestamp::now()).await;
    let d = summary.reports[0].report.decision.as_ref().unwrap();
    assert_eq!(summary.reports[0].report.outcome, Outcome::Refused);
    assert!(!d.signals[0].trusted);
    assert!(
        d.signals[0]
            .detail
            .contains(&format!("topic {absent}: UnknownTopicOrPartition")),
        "{}",
        d.signals[0].detail
    );
    assert_eq!(w.moto.desired(&w.cluster, &w.service).await, 7);
}
