//! qscale's Kafka lag over TLS and SASL_SSL/SCRAM, against a TLS listener
//! (with a test CA) in front of the real broker: the same offsets as over
//! plaintext, a wrong CA or a wrong password as a clear error naming the
//! cluster, and, through a whole reconcile, an untrusted signal that never
//! scales in. MSK IAM: the token against AWS's reference signer, and an
//! OAUTHBEARER login checked by an independent SigV4 verifier.

use std::collections::BTreeMap;

use qscale_core::config::{
    Config, KafkaClusterConfig, KafkaSignal, MissingOffsetPolicy, PartitionCapMode,
};
use qscale_core::reconcile::{Outcome, ReconcileOptions};
use qscale_integration::kafka::{
    bootstrap, commit, create_topic, partition_count, produce, read_all,
};
use qscale_integration::kafka_front::{KafkaFront, SaslLogin, ScramLogin};
use qscale_integration::msk_token::{self, TrustedKey};
use qscale_integration::scram::Scram;
use qscale_integration::{unique, Moto};
use qscale_kafka::KafkaLagSource;

fn signal(topic: &str, group: &str) -> KafkaSignal {
    KafkaSignal {
        name: "events".into(),
        cluster: "secure".into(),
        group: group.into(),
        topic: topic.into(),
        topics: Vec::new(),
        assignor: Default::default(),
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

/// The error of a read that must fail, off the async runtime (rdkafka blocks).
fn read_error(s: KafkaLagSource, topic: String, group: String) -> String {
    blocking(move || {
        s.read_offsets(&signal(&topic, &group))
            .unwrap_err()
            .to_string()
    })
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
    let s = source(
        &front.bootstrap,
        &[("security.protocol", "SSL"), ("ssl.ca.location", &other)],
    );
    let e = read_error(s, topic, group);
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
    let e = read_error(
        source(&front.bootstrap, &[("security.protocol", "SSL")]),
        topic,
        group,
    );
    assert!(e.contains("certificate verify failed"), "{e}");
}

fn scram(mechanism: Scram) -> SaslLogin {
    SaslLogin::Scram(ScramLogin {
        mechanism,
        user: "qscale".into(),
        password: "s3cret-password".into(),
    })
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
        let login = format!(
            "{password}\n    properties:\n      security.protocol: SASL_SSL\n      sasl.mechanism: SCRAM-SHA-512\n      sasl.username: qscale\n      ssl.ca.location: \"{}\"",
            front.ca_file.display()
        );
        self.config_with(front, &login, topic, group)
    }

    /// The cluster `secure` at `front`, logging in as `login` (its lines).
    fn config_with(&self, front: &KafkaFront, login: &str, topic: &str, group: &str) -> Config {
        let yaml = format!(
            r#"
kafka_clusters:
  secure:
    bootstrap_servers: "{}"
{login}
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
            front.bootstrap, self.cluster, self.service
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

const MSK_REGION: &str = "eu-west-1";

fn msk_key(secret: &str) -> TrustedKey {
    TrustedKey {
        region: MSK_REGION.into(),
        access_key_id: "AKIAQSCALETEST000001".into(),
        secret_access_key: secret.into(),
    }
}

fn msk_credentials(secret: &str) -> aws_credential_types::Credentials {
    aws_credential_types::Credentials::new(
        "AKIAQSCALETEST000001",
        secret,
        Some("IQoJb3JpZ2luX2VjEXAMPLE/session+token=".into()),
        None,
        "test",
    )
}

/// A front that takes OAUTHBEARER tokens valid for `key`.
fn msk_front(key: TrustedKey) -> KafkaFront {
    KafkaFront::start(
        &bootstrap(),
        Some(SaslLogin::OAuthBearer(std::sync::Arc::new(move |token| {
            msk_token::check(token, &key, std::time::SystemTime::now())
        }))),
    )
}

fn msk_source(front: &KafkaFront, secret: &str) -> KafkaLagSource {
    KafkaLagSource::new(BTreeMap::from([(
        "secure".to_string(),
        KafkaClusterConfig {
            bootstrap_servers: front.bootstrap.clone(),
            properties: BTreeMap::from([(
                "ssl.ca.location".to_string(),
                front.ca_file.to_string_lossy().into_owned(),
            )]),
            msk_iam: Some(qscale_core::config::MskIamAuth {
                region: MSK_REGION.into(),
            }),
            ..Default::default()
        },
    )]))
    .with_aws_credentials(Some(msk_credentials(secret)))
}

#[test]
fn the_msk_iam_token_is_the_one_aws_reference_signer_makes() {
    // aws-msk-iam-sasl-signer-python (scripts/test.sh installs it), with
    // the same credentials; then ours, signed at its X-Amz-Date.
    let creds = msk_credentials("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys\nfrom aws_msk_iam_sasl_signer import MSKAuthTokenProvider as P\n\
             t, e = P.generate_auth_token(sys.argv[1])\nprint(t)\nprint(e)",
            MSK_REGION,
        ])
        .env("AWS_ACCESS_KEY_ID", creds.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", creds.secret_access_key())
        .env("AWS_SESSION_TOKEN", creds.session_token().unwrap())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "the reference signer failed (pip install aws-msk-iam-sasl-signer-python): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut lines = stdout.lines();
    let (theirs, their_expiry) = (lines.next().unwrap(), lines.next().unwrap());
    let their_url = msk_token::decode(theirs).unwrap();
    let at = msk_token::amz_date(msk_token::param(&their_url, "X-Amz-Date").unwrap()).unwrap();

    let signer = qscale_kafka::msk_iam::MskTokenSigner::new(MSK_REGION, creds);
    let ours = signer.token(at).unwrap();
    let our_url = msk_token::decode(&ours.token).unwrap();
    println!("reference: {their_url}\nqscale:    {our_url}");
    // The same signed URL up to the unsigned User-Agent, which names the signer.
    let signed = |url: &str| url.split("&User-Agent=").next().unwrap().to_string();
    assert_eq!(signed(&our_url), signed(&their_url));
    assert!(our_url.contains("&User-Agent=qscale%2F"), "{our_url}");
    assert_eq!(ours.expires_at_ms.to_string(), their_expiry);
    // The test's verifier takes the reference's token, and refuses it
    // under another secret or once expired.
    let key = msk_key("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    msk_token::check(theirs, &key, at).unwrap();
    msk_token::check(&ours.token, &key, at).unwrap();
    assert_eq!(
        msk_token::check(theirs, &msk_key("another"), at),
        Err("the signature does not match".into())
    );
    assert_eq!(
        msk_token::check(theirs, &key, at + std::time::Duration::from_secs(900)),
        Err("the token has expired".into())
    );
}

#[tokio::test]
async fn msk_iam_logs_in_over_tls_with_a_signed_token_and_reads_the_same_lag() {
    let secret = "msk-secret-key";
    let front = msk_front(msk_key(secret));
    let (topic, group) = topic_with_lag().await;
    let plain = offsets(&source(&bootstrap(), &[]), &topic, &group);
    let source = msk_source(&front, secret);
    let (t, g) = (topic.clone(), group.clone());
    let (got, signed) = blocking(move || (offsets(&source, &t, &g), source.tokens_signed()));
    assert_eq!(got, plain);
    assert_eq!(
        got,
        vec![(0, 100, Some(50)), (1, 200, Some(50)), (2, 300, Some(0))]
    );
    use std::sync::atomic::Ordering::Relaxed;
    assert!(
        front.stats.logins_accepted.load(Relaxed) >= 2,
        "bootstrap, then leader or coordinator"
    );
    assert_eq!(front.stats.logins_refused.load(Relaxed), 0);
    assert!(signed >= 1);
}

#[tokio::test]
async fn an_msk_iam_token_the_broker_refuses_is_a_clear_error_naming_the_cluster() {
    // The broker trusts another secret for this access key (a role whose
    // policy does not allow kafka-cluster:Connect looks the same to qscale).
    let front = msk_front(msk_key("the-real-secret"));
    let (topic, group) = topic_with_lag().await;
    let e = read_error(msk_source(&front, "a-stale-secret"), topic, group);
    assert!(
        e.contains(&format!("kafka cluster secure ({})", front.bootstrap)),
        "{e}"
    );
    assert!(e.contains("the signature does not match"), "{e}");
    assert!(!e.contains("a-stale-secret"), "{e}");
    println!("refused token: {e}");
}

#[tokio::test]
async fn librdkafka_asks_for_a_new_msk_iam_token_before_the_old_one_expires() {
    // Tokens valid for 4 s: librdkafka asks again at 80% of that, and the
    // next read serves the request and signs a new one.
    let secret = "msk-secret-key";
    let front = msk_front(msk_key(secret));
    let (topic, group) = topic_with_lag().await;
    let source = msk_source(&front, secret).with_token_lifetime(std::time::Duration::from_secs(4));
    let got = blocking(move || {
        let first = offsets(&source, &topic, &group);
        let signed_first = source.tokens_signed();
        std::thread::sleep(std::time::Duration::from_secs(5));
        let second = offsets(&source, &topic, &group);
        (first, signed_first, second, source.tokens_signed())
    });
    let (first, signed_first, second, signed_after) = got;
    assert_eq!(first, second);
    assert!(
        signed_after > signed_first,
        "{signed_first} token(s) at the first read, {signed_after} after 5 s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_on_msk_iam_signs_with_the_containers_own_credentials_and_scales() {
    // The clients' credentials (moto's "testing" key) sign the token.
    let front = msk_front(TrustedKey {
        region: MSK_REGION.into(),
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
    });
    let (topic, group) = topic_with_lag().await;
    let fleet = Fleet::new(1).await;
    let login = format!(
        "    msk_iam: {{ region: {MSK_REGION} }}\n    properties: {{ ssl.ca.location: \"{}\" }}",
        front.ca_file.display()
    );
    let audit_topic = unique("audit");
    create_topic(&audit_topic, 1).await;
    let mut config = fleet.config_with(&front, &login, &topic, &group);
    // Partition growth (the admin client) and the audit topic (the
    // producer) log in with the token too.
    if let qscale_core::config::SignalConfig::Kafka(k) = &mut config.targets[0].signals[0] {
        k.max_partitions = Some(8);
    }
    config.audit_kafka = Some(qscale_core::config::KafkaAuditConfig {
        cluster: "secure".into(),
        topic: audit_topic.clone(),
    });
    let summary = fleet.run(&config).await;
    let d = summary.reports[0].report.decision.as_ref().unwrap();
    assert!(d.signals[0].trusted, "{}", summary.table());
    assert_eq!(d.signals[0].backlog, Some(500));
    // 500 behind at 100 per worker wants 5 workers: 3 partitions grow to 5.
    assert_eq!(fleet.desired().await, 5, "{}", summary.table());
    assert_eq!(partition_count(&topic), 5);
    let audited = read_all(&audit_topic);
    assert_eq!(audited.len(), 1, "{audited:?}");
    use std::sync::atomic::Ordering::Relaxed;
    assert!(front.stats.logins_accepted.load(Relaxed) >= 1);
    assert_eq!(front.stats.logins_refused.load(Relaxed), 0);
}
