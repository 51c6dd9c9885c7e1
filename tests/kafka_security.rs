//! qscale's Kafka lag over TLS and SASL_SSL/SCRAM, against a TLS listener
//! (with a test CA) in front of the real broker: the same offsets as over
//! plaintext, a wrong CA or a wrong password as a clear error naming the
//! cluster, and, through a whole reconcile, an untrusted signal that never
//! scales in.

use std::collections::BTreeMap;

use qscale_core::config::{
    Config, KafkaClusterConfig, KafkaSignal, MissingOffsetPolicy, PartitionCapMode,
};
use qscale_core::reconcile::{Outcome, ReconcileOptions};
use qscale_integration::kafka::{bootstrap, commit, create_topic, produce};
use qscale_integration::kafka_front::{KafkaFront, ScramLogin};
use qscale_integration::scram::Scram;
use qscale_integration::{unique, Moto};
use qscale_kafka::KafkaLagSource;

fn signal(topic: &str, group: &str) -> KafkaSignal {
    KafkaSignal {
        name: "events".into(),
        cluster: "secure".into(),
        group: group.into(),
        topic: topic.into(),
        on_missing_offset: MissingOffsetPolicy::Latest,
        partition_cap: PartitionCapMode::Partitions,
        allow_idle_consumers: false,
        max_partitions: None,
        max_lag: None,
    }
}

fn source(bootstrap_servers: &str, properties: &[(&str, &str)]) -> KafkaLagSource {
    KafkaLagSource::new(BTreeMap::from([(
        "secure".to_string(),
        KafkaClusterConfig {
            bootstrap_servers: bootstrap_servers.into(),
            properties: properties
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            // The SCRAM tests name their password here, as a local broker would.
            allow_plain_password: true,
            ..Default::default()
        },
    )]))
}

/// A topic of three partitions, 100/200/300 messages, the group 50/50/0 in.
async fn topic_with_lag() -> (String, String) {
    let (topic, group) = (unique("secure"), unique("g"));
    create_topic(&topic, 3).await;
    produce(&topic, &[100, 200, 300]);
    commit(&topic, &group, &[(0, 50), (1, 50), (2, 0)]);
    (topic, group)
}

fn offsets(s: &KafkaLagSource, topic: &str, group: &str) -> Vec<(i32, i64, Option<i64>)> {
    s.read_offsets(&signal(topic, group))
        .unwrap()
        .partitions
        .iter()
        .map(|p| (p.partition, p.high_watermark, p.committed_offset))
        .collect()
}

fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::spawn(f).join().unwrap()
}

#[tokio::test]
async fn over_tls_the_lag_is_what_plaintext_reads_and_every_connection_is_tls() {
    let front = KafkaFront::start(&bootstrap(), None);
    let (topic, group) = topic_with_lag().await;
    let ca = front.ca_file.to_string_lossy().into_owned();
    let (bootstrap_tls, t, g) = (front.bootstrap.clone(), topic.clone(), group.clone());
    let tls = blocking(move || {
        let s = source(
            &bootstrap_tls,
            &[("security.protocol", "SSL"), ("ssl.ca.location", &ca)],
        );
        offsets(&s, &t, &g)
    });
    let plain = offsets(&source(&bootstrap(), &[]), &topic, &group);
    assert_eq!(tls, plain);
    assert_eq!(
        tls,
        vec![(0, 100, Some(50)), (1, 200, Some(50)), (2, 300, Some(0))]
    );
    // The bootstrap connection, then the leader's and the coordinator's at
    // the address the (rewritten) metadata advertised: all through TLS.
    use std::sync::atomic::Ordering::Relaxed;
    let established = front.stats.tls_established.load(Relaxed);
    assert!(established >= 2, "{established} TLS connection(s)");
    assert_eq!(front.stats.accepted.load(Relaxed), established);
}

#[tokio::test]
async fn a_wrong_ca_fails_with_an_error_naming_the_cluster_and_the_certificate() {
    let front = KafkaFront::start(&bootstrap(), None);
    let (topic, group) = topic_with_lag().await;
    let other = front.other_ca_file.to_string_lossy().into_owned();
    let bootstrap_tls = front.bootstrap.clone();
    let e = blocking(move || {
        source(
            &bootstrap_tls,
            &[("security.protocol", "SSL"), ("ssl.ca.location", &other)],
        )
        .read_offsets(&signal(&topic, &group))
        .unwrap_err()
        .to_string()
    });
    assert!(
        e.contains(&format!("kafka cluster secure ({})", front.bootstrap)),
        "{e}"
    );
    assert!(e.contains("certificate verify failed"), "{e}");
    println!("wrong CA: {e}");
}

#[tokio::test]
async fn without_a_ca_of_its_own_the_system_bundle_is_used_and_a_test_ca_is_not_trusted() {
    // No ssl.ca.location: qscale sets `probe` (the system's bundle), where
    // the test CA is not: verification is on, and the error says so.
    let front = KafkaFront::start(&bootstrap(), None);
    let (topic, group) = topic_with_lag().await;
    let bootstrap_tls = front.bootstrap.clone();
    let e = blocking(move || {
        source(&bootstrap_tls, &[("security.protocol", "SSL")])
            .read_offsets(&signal(&topic, &group))
            .unwrap_err()
            .to_string()
    });
    assert!(e.contains("certificate verify failed"), "{e}");
}

fn scram(mechanism: Scram) -> ScramLogin {
    ScramLogin {
        mechanism,
        user: "qscale".into(),
        password: "s3cret-password".into(),
    }
}

#[tokio::test]
async fn scram_sha_256_and_512_over_tls_log_in_and_read_the_same_lag() {
    for mechanism in [Scram::Sha256, Scram::Sha512] {
        let front = KafkaFront::start(&bootstrap(), Some(scram(mechanism)));
        let (topic, group) = topic_with_lag().await;
        let ca = front.ca_file.to_string_lossy().into_owned();
        let bootstrap_tls = front.bootstrap.clone();
        let got = blocking(move || {
            let s = source(
                &bootstrap_tls,
                &[
                    ("security.protocol", "SASL_SSL"),
                    ("sasl.mechanism", mechanism.name()),
                    ("sasl.username", "qscale"),
                    ("sasl.password", "s3cret-password"),
                    ("ssl.ca.location", &ca),
                ],
            );
            offsets(&s, &topic, &group)
        });
        assert_eq!(
            got,
            vec![(0, 100, Some(50)), (1, 200, Some(50)), (2, 300, Some(0))],
            "{mechanism:?}"
        );
        use std::sync::atomic::Ordering::Relaxed;
        assert_eq!(front.stats.logins_refused.load(Relaxed), 0);
    }
}

/// An ECS service in moto scaled by qscale on one Kafka signal of the
/// cluster `secure` behind `front`, with a state table and an audit queue.
struct Fleet {
    moto: Moto,
    table: String,
    audit: String,
    cluster: String,
    service: String,
}

impl Fleet {
    async fn new(desired: i32) -> Fleet {
        let moto = Moto::connect().await;
        let (table, cluster, service) = (unique("state"), unique("c"), unique("s"));
        moto.state_table(&table).await;
        let audit = moto.queue_with(&unique("audit"), 0).await;
        moto.ecs_service(&cluster, &service, desired).await;
        Fleet {
            moto,
            table,
            audit,
            cluster,
            service,
        }
    }

    /// A SCRAM-SHA-512 login as `qscale`; `password` is the cluster's lines
    /// that say where the password comes from.
    fn config(&self, front: &KafkaFront, password: &str, topic: &str, group: &str) -> Config {
        let yaml = format!(
            r#"
kafka_clusters:
  secure:
    bootstrap_servers: "{}"
{password}
    properties:
      security.protocol: SASL_SSL
      sasl.mechanism: SCRAM-SHA-512
      sasl.username: qscale
      ssl.ca.location: "{}"
targets:
  - name: consumers
    signals:
      - kafka: {{ name: events, cluster: secure, group: {group}, topic: {topic} }}
    worker: {{ ecs: {{ cluster: {}, service: {} }} }}
    policy:
      min: 1
      max: 20
      target_per_worker: 100
      scale_in: {{ cooldown: 0s, stabilization: 0s, rate_limits: {{ policies: [] }} }}
"#,
            front.bootstrap,
            front.ca_file.display(),
            self.cluster,
            self.service
        );
        Config::from_yaml(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
    }

    async fn run(&self, config: &Config) -> qscale_live::run::RunSummary {
        qscale_live::run::run_once(
            config,
            &self.moto.settings(&self.table, &self.audit),
            &self.moto.clients,
            jiff::Timestamp::now(),
            ReconcileOptions::default(),
        )
        .await
    }

    async fn desired(&self) -> i32 {
        self.moto.desired(&self.cluster, &self.service).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_scram_password_is_a_clear_error_and_the_fleet_is_not_scaled_in() {
    let front = KafkaFront::start(&bootstrap(), Some(scram(Scram::Sha512)));
    // No lag at all: trusted, this would scale 5 workers in to 1.
    let (topic, group) = (unique("secure"), unique("g"));
    create_topic(&topic, 2).await;
    produce(&topic, &[10, 10]);
    commit(&topic, &group, &[(0, 10), (1, 10)]);
    let fleet = Fleet::new(5).await;
    let mut config = fleet.config(&front, "    allow_plain_password: true", &topic, &group);
    config
        .kafka_clusters
        .get_mut("secure")
        .unwrap()
        .properties
        .insert("sasl.password".into(), "not-the-password".into());
    let summary = fleet.run(&config).await;
    let report = &summary.reports[0].report;
    let d = report
        .decision
        .as_ref()
        .expect("a decision on the other data");
    assert!(!d.signals[0].trusted, "{}", summary.table());
    let why = &d.signals[0].detail;
    assert!(why.contains("kafka cluster secure"), "{why}");
    assert!(why.contains("Authentication failed"), "{why}");
    assert!(!why.contains("not-the-password"), "{why}");
    println!("wrong password: {why}");
    assert_eq!(fleet.desired().await, 5);
    assert_ne!(report.outcome, Outcome::Applied, "{}", summary.table());
    use std::sync::atomic::Ordering::Relaxed;
    assert!(front.stats.logins_refused.load(Relaxed) >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scram_password_comes_from_an_ssm_secure_string_never_from_the_config() {
    let front = KafkaFront::start(&bootstrap(), Some(scram(Scram::Sha512)));
    let (topic, group) = topic_with_lag().await;
    let fleet = Fleet::new(1).await;
    let (secure, plain) = (
        format!("/qscale-test/{}", unique("kafka")),
        format!("/qscale-test/{}", unique("plain")),
    );
    for (name, kind) in [
        (&secure, aws_sdk_ssm::types::ParameterType::SecureString),
        (&plain, aws_sdk_ssm::types::ParameterType::String),
    ] {
        fleet
            .moto
            .clients
            .ssm
            .put_parameter()
            .name(name)
            .value("s3cret-password")
            .r#type(kind)
            .send()
            .await
            .unwrap();
    }
    let from =
        |parameter: &str| format!("    sasl_password_from: {{ ssm_parameter: \"{parameter}\" }}");
    // 500 behind at 100 per worker wants 5, capped at the 3 partitions; the
    // password was read from SSM.
    let summary = fleet
        .run(&fleet.config(&front, &from(&secure), &topic, &group))
        .await;
    let d = summary.reports[0].report.decision.as_ref().unwrap();
    assert!(d.signals[0].trusted, "{}", summary.table());
    assert_eq!(d.signals[0].backlog, Some(500));
    assert_eq!(fleet.desired().await, 3);
    // A parameter that is not there, and one that is no SecureString: the
    // signal fails naming it, the fleet stays, the value shows nowhere.
    for (parameter, why) in [
        (format!("{secure}-gone"), "ParameterNotFound"),
        (plain.clone(), "not a SecureString"),
    ] {
        let summary = fleet
            .run(&fleet.config(&front, &from(&parameter), &topic, &group))
            .await;
        let d = summary.reports[0].report.decision.as_ref().unwrap();
        let detail = &d.signals[0].detail;
        assert!(!d.signals[0].trusted, "{detail}");
        assert!(
            detail.contains(&format!("SASL password from SSM parameter {parameter}")),
            "{detail}"
        );
        assert!(detail.contains(why), "{detail}");
        let all = format!(
            "{}{:?}",
            summary.table(),
            summary.reports[0].report.decision
        );
        assert!(!all.contains("s3cret-password"));
        assert_eq!(fleet.desired().await, 3);
    }
}
