//! Config without a redeploy, against moto's SSM and S3: `config push`
//! writes, a running function's `refresh_config` loads a new version once,
//! rejects an invalid one (audited once, the last valid config keeps
//! running), and reads configs above one parameter's 8 KB from a path.

use std::time::Duration;

use jiff::Timestamp;
use qscale_aws::{ConfigSource, ConfigVersion};
use qscale_core::config::Config;
use qscale_core::reconcile::{AuditKind, Outcome};
use qscale_integration::{unique, Moto};
use qscale_lambda::{ConfigRefresh, Runtime};

/// A valid config whose only target has `max`, padded with `extra` more targets.
fn config_yaml(max: u32, extra: usize) -> String {
    let target = |name: &str, max: u32| {
        format!(
            "  - name: {name}\n    signals: [ {{ sqs: {{ name: q, queue: {name}-queue }} }} ]\n    worker: {{ ecs: {{ cluster: c, service: {name} }} }}\n    policy: {{ min: 0, max: {max}, target_per_worker: 10 }}\n"
        )
    };
    let mut yaml = format!("targets:\n{}", target("orders", max));
    for i in 0..extra {
        yaml += &target(&format!("extra-{i:03}"), 5);
    }
    yaml
}

async fn runtime(moto: &Moto, source: &ConfigSource) -> (Runtime, String) {
    let audit = moto.queue_with(&unique("config-audit"), 0).await;
    let rt = Runtime {
        // As if started on an older version: the first refresh loads.
        config_source: Some((source.clone(), ConfigVersion("0".into()))),
        tick_budget: Duration::from_secs(30),
        ..Runtime::new(
            Config::from_yaml(&config_yaml(1, 0)).unwrap(),
            moto.settings(&unique("unused-table"), &audit),
            moto.clients.clone(),
        )
    };
    (rt, audit)
}

/// A new, empty bucket for configs; its name.
async fn config_bucket(moto: &Moto) -> String {
    let bucket = unique("qscale-config");
    moto.clients
        .s3
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    bucket
}

fn max_of_orders(rt: &Runtime) -> u32 {
    rt.config.target("orders").unwrap().policy.max
}

/// The whole life cycle on one source.
async fn new_versions_load_and_invalid_ones_are_rejected_once(source: ConfigSource) {
    let moto = Moto::connect().await;
    let (mut rt, audit) = runtime(&moto, &source).await;
    // Each refresh is a tick later than the one before (one check per tick).
    let start = Timestamp::now();
    let mut ticks = 0;
    let mut now = move || {
        ticks += 1;
        start + jiff::SignedDuration::from_mins(ticks)
    };
    let v1 = source
        .push(&moto.clients, &config_yaml(40, 0))
        .await
        .unwrap();
    assert_eq!(
        rt.refresh_config(now()).await,
        ConfigRefresh::Loaded(v1.clone())
    );
    assert_eq!(max_of_orders(&rt), 40);
    assert_eq!(
        rt.refresh_config(now()).await,
        ConfigRefresh::Unchanged,
        "{source}"
    );

    let v2 = source
        .push(&moto.clients, &config_yaml(7, 0))
        .await
        .unwrap();
    assert_ne!(v1, v2);
    // Within the same tick the source is not asked again.
    let asked = start + jiff::SignedDuration::from_mins(2) + jiff::SignedDuration::from_secs(59);
    assert_eq!(rt.refresh_config(asked).await, ConfigRefresh::NotDue);
    assert_eq!(max_of_orders(&rt), 40, "not asked, not loaded");
    assert_eq!(rt.refresh_config(now()).await, ConfigRefresh::Loaded(v2));
    assert_eq!(max_of_orders(&rt), 7);

    // `push` itself does not validate (the CLI does before calling it), so
    // this stands for a hand edit in the console.
    source
        .push(
            &moto.clients,
            "targets:\n  - name: orders\n    policy: { max: lots }\n",
        )
        .await
        .unwrap();
    let ConfigRefresh::Rejected { error, .. } = rt.refresh_config(now()).await else {
        panic!("an invalid version must be rejected");
    };
    assert!(
        error.contains("the last valid config keeps running"),
        "{error}"
    );
    assert!(error.contains("targets[0]"), "{error}");
    assert_eq!(max_of_orders(&rt), 7, "the last valid config keeps running");
    assert_eq!(rt.refresh_config(now()).await, ConfigRefresh::Unchanged);
    let events = moto.audit_events(&audit).await;
    assert_eq!(events.len(), 1, "audited once: {events:?}");
    assert_eq!(
        (events[0].kind, events[0].outcome),
        (AuditKind::ConfigError, Outcome::Failed)
    );
}

#[tokio::test]
async fn from_one_ssm_parameter() {
    let name = format!("/{}/config", unique("qscale"));
    new_versions_load_and_invalid_ones_are_rejected_once(ConfigSource::SsmParameter(name)).await;
}

#[tokio::test]
async fn from_an_s3_object() {
    let moto = Moto::connect().await;
    let bucket = config_bucket(&moto).await;
    new_versions_load_and_invalid_ones_are_rejected_once(ConfigSource::S3 {
        bucket,
        key: "prod/qscale.yaml".into(),
    })
    .await;
}

#[tokio::test]
async fn configs_above_8_kb_live_under_an_ssm_path() {
    let moto = Moto::connect().await;
    let big = config_yaml(9, 120);
    assert!(
        big.len() > 2 * qscale_aws::SSM_PARAMETER_MAX_BYTES,
        "{}",
        big.len()
    );
    // One parameter refuses it, naming the way out (moto alone would accept it).
    let single = ConfigSource::SsmParameter(format!("/{}/one", unique("qscale")));
    let e = single
        .push(&moto.clients, &big)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("use ssm-path:/PATH/ or s3://"), "{e}");

    let path = ConfigSource::SsmPath(format!("/{}/config/", unique("qscale")));
    let (mut rt, _) = runtime(&moto, &path).await;
    path.push(&moto.clients, &big).await.unwrap();
    assert!(matches!(
        rt.refresh_config(Timestamp::now()).await,
        ConfigRefresh::Loaded(_)
    ));
    assert_eq!((rt.config.targets.len(), max_of_orders(&rt)), (121, 9));
    // A shorter config leaves no old part behind to be joined in.
    path.push(&moto.clients, &config_yaml(3, 0)).await.unwrap();
    assert!(matches!(
        rt.refresh_config(Timestamp::now() + jiff::SignedDuration::from_mins(1))
            .await,
        ConfigRefresh::Loaded(_)
    ));
    assert_eq!((rt.config.targets.len(), max_of_orders(&rt)), (1, 3));
}

/// Issue 28: an S3 object above the config limit (1 MiB) is refused from its
/// size, without reading it whole; one at the limit's edge still loads as text.
#[tokio::test]
async fn an_s3_object_above_the_config_limit_is_refused_from_its_size() {
    let moto = Moto::connect().await;
    let bucket = config_bucket(&moto).await;
    let limit = qscale_core::config::limits::MAX_BYTES;
    let put = |key: &'static str, size: usize| {
        let (clients, bucket) = (moto.clients.clone(), bucket.clone());
        async move {
            clients
                .s3
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(vec![b'#'; size].into())
                .send()
                .await
                .unwrap();
        }
    };
    put("big.yaml", limit + 1).await;
    put("edge.yaml", limit).await;
    let big = ConfigSource::S3 {
        bucket: bucket.clone(),
        key: "big.yaml".into(),
    };
    let e = big
        .fetch(&moto.clients, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!(
            "the object is {} bytes; a config is at most {limit}",
            limit + 1
        )),
        "{e}"
    );
    let edge = ConfigSource::S3 {
        bucket,
        key: "edge.yaml".into(),
    };
    let (_, text) = edge.fetch(&moto.clients, None).await.unwrap();
    assert_eq!(text.map(|t| t.len()), Some(limit));
}

/// Issue 28: the stack's ceiling on any target's `max` (MaxWorkersPerTarget,
/// QSCALE_MAX_WORKERS) holds for configs pushed after the deploy too.
#[tokio::test]
async fn a_new_version_above_the_deployments_ceiling_is_rejected() {
    let moto = Moto::connect().await;
    let source = ConfigSource::SsmParameter(format!("/{}/config", unique("qscale")));
    let (mut rt, _) = runtime(&moto, &source).await;
    rt.max_workers = Some(30);
    let now = Timestamp::now();
    source
        .push(&moto.clients, &config_yaml(40, 0))
        .await
        .unwrap();
    let ConfigRefresh::Rejected { error, .. } = rt.refresh_config(now).await else {
        panic!("a max of 40 over a ceiling of 30 loaded")
    };
    assert!(
        error.contains("targets[0].policy.max: 40 is above this deployment's ceiling of 30"),
        "{error}"
    );
    assert_eq!(max_of_orders(&rt), 1, "the last valid config keeps running");
    source
        .push(&moto.clients, &config_yaml(30, 0))
        .await
        .unwrap();
    let later = now + jiff::SignedDuration::from_mins(1);
    assert!(matches!(
        rt.refresh_config(later).await,
        ConfigRefresh::Loaded(_)
    ));
    assert_eq!(max_of_orders(&rt), 30);
}
