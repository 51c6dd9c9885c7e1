//! Provisioned concurrency for Lambda pre-warm windows, checked at the wire.
//!
//! moto answers `Get/Put/DeleteProvisionedConcurrencyConfig` with 404, so
//! these tests run the real adapter (`AwsWorkers` on the real SDK client)
//! through reconcile against the SDK's own replay HTTP client: each request
//! the SDK sends is compared with a recorded one (method, URI with the
//! qualifier, JSON body), and the recorded answer (shaped as Lambda's API
//! reference gives it) is returned.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use jiff::Timestamp;
use qscale_aws::{ApiCalls, AwsWorkers};
use qscale_core::config::{Config, TargetConfig};
use qscale_core::engine::{Measurement, ProvisionedChange, SignalReading, SqsDepth};
use qscale_core::reconcile::memory::{MemoryAuditSink, MemoryStateStore, StaticMetrics};
use qscale_core::reconcile::{
    reconcile, Outcome, Ports, ReconcileOptions, ReconcileReport, WorkerActuator,
};

const LAMBDA: &str = "https://lambda.us-east-1.amazonaws.com";
const PROVISIONED: &str = "/2019-09-30/functions/handler/provisioned-concurrency?Qualifier=live";

/// A Lambda worker on alias `live`, a daily 09:00 UTC window of 8 with a 5
/// minute lead, and no stabilization so the window's end scales in at once.
fn target() -> TargetConfig {
    let yaml = r#"
targets:
  - name: fn
    signals: [ { sqs: { name: q, queue: q } } ]
    worker: { lambda_concurrency: { function: handler, qualifier: live } }
    policy:
      min: 0
      max: 50
      target_per_worker: 10
      scale_in: { cooldown: 0s, stabilization: 0s, rate_limits: { policies: [] } }
    schedules:
      - { name: open, cron: "0 9 * * *", duration: 1h, min: 8, lead: 5m }
"#;
    Config::from_yaml(yaml).unwrap().targets.remove(0)
}

fn request(method: &str, path: &str, body: &str) -> http::Request<SdkBody> {
    http::Request::builder()
        .method(method)
        .uri(format!("{LAMBDA}{path}"))
        .body(SdkBody::from(body))
        .unwrap()
}

fn answer(status: u16, body: &str) -> http::Response<SdkBody> {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(SdkBody::from(body))
        .unwrap()
}

/// Lambda's "no configuration on this qualifier" error.
fn not_found() -> http::Response<SdkBody> {
    http::Response::builder()
        .status(404)
        .header("content-type", "application/json")
        .header(
            "x-amzn-errortype",
            "ProvisionedConcurrencyConfigNotFoundException",
        )
        .body(SdkBody::from(
            r#"{"Type":"User","message":"No Provisioned Concurrency Config found for this function"}"#,
        ))
        .unwrap()
}

/// Reserved 8 and provisioned 8, ready: what a tick inside the window reads.
fn observed_with_8_ready() -> [ReplayEvent; 2] {
    [
        ReplayEvent::new(
            request("GET", "/2019-09-30/functions/handler/concurrency", ""),
            answer(200, r#"{"ReservedConcurrentExecutions":8}"#),
        ),
        ReplayEvent::new(
            request("GET", PROVISIONED, ""),
            answer(
                200,
                r#"{"RequestedProvisionedConcurrentExecutions":8,"AvailableProvisionedConcurrentExecutions":8,"AllocatedProvisionedConcurrentExecutions":8,"Status":"READY","LastModified":"2026-11-23T08:55:01+0000"}"#,
            ),
        ),
    ]
}

fn workers(replay: &StaticReplayClient) -> AwsWorkers {
    // No ECS call is expected: an empty replay fails any that is made.
    common::replay_workers(
        &StaticReplayClient::new(vec![]),
        replay,
        Arc::new(ApiCalls::default()),
    )
}

fn methods(replay: &StaticReplayClient) -> Vec<String> {
    replay
        .actual_requests()
        .map(|r| format!("{} {}", r.method(), r.uri().trim_start_matches(LAMBDA)))
        .collect()
}

fn empty_queue(metrics: &StaticMetrics, now: Timestamp) {
    let reading = SignalReading::Ok {
        observed_at: now,
        measurement: Measurement::Sqs(SqsDepth {
            visible: 0,
            in_flight: 0,
            delayed: 0,
            ..SqsDepth::default()
        }),
    };
    metrics.set("fn", BTreeMap::from([("q".to_string(), reading)]));
}

async fn tick(
    actuator: &AwsWorkers,
    store: &MemoryStateStore,
    audit: &MemoryAuditSink,
    at: &str,
) -> ReconcileReport {
    let now: Timestamp = at.parse().unwrap();
    let metrics = StaticMetrics::default();
    empty_queue(&metrics, now);
    let ports = Ports {
        metrics: &metrics,
        actuator,
        store,
        audit,
    };
    reconcile(&target(), now, &ports, ReconcileOptions::default()).await
}

#[tokio::test]
async fn a_window_sets_provisioned_concurrency_after_the_reservation_and_its_end_removes_it_first()
{
    let mut events = vec![
        // 08:55, the window's lead: reserved 1, no provisioned concurrency yet.
        ReplayEvent::new(
            request("GET", "/2019-09-30/functions/handler/concurrency", ""),
            answer(200, r#"{"ReservedConcurrentExecutions":1}"#),
        ),
        ReplayEvent::new(request("GET", PROVISIONED, ""), not_found()),
        // The reservation first: provisioned concurrency may not exceed it.
        ReplayEvent::new(
            request(
                "PUT",
                "/2017-10-31/functions/handler/concurrency",
                r#"{"ReservedConcurrentExecutions":8}"#,
            ),
            answer(200, r#"{"ReservedConcurrentExecutions":8}"#),
        ),
        ReplayEvent::new(
            request(
                "PUT",
                PROVISIONED,
                r#"{"ProvisionedConcurrentExecutions":8}"#,
            ),
            answer(
                202,
                r#"{"RequestedProvisionedConcurrentExecutions":8,"AvailableProvisionedConcurrentExecutions":0,"AllocatedProvisionedConcurrentExecutions":0,"Status":"IN_PROGRESS","LastModified":"2026-11-23T08:55:01+0000"}"#,
            ),
        ),
    ];
    // 09:30, inside the window: already set, nothing asked.
    events.extend(observed_with_8_ready());
    // 10:00, the window is over: removed before the reservation drops.
    events.extend(observed_with_8_ready());
    events.extend([
        ReplayEvent::new(
            request("DELETE", PROVISIONED, ""),
            http::Response::builder()
                .status(204)
                .body(SdkBody::empty())
                .unwrap(),
        ),
        ReplayEvent::new(
            request(
                "PUT",
                "/2017-10-31/functions/handler/concurrency",
                r#"{"ReservedConcurrentExecutions":0}"#,
            ),
            answer(200, r#"{"ReservedConcurrentExecutions":0}"#),
        ),
    ]);
    let replay = StaticReplayClient::new(events);
    let actuator = workers(&replay);
    let (store, audit) = (MemoryStateStore::default(), MemoryAuditSink::default());

    let r = tick(&actuator, &store, &audit, "2026-11-23T08:55:00Z").await;
    assert_eq!(r.outcome, Outcome::Applied, "{r:?}");
    assert_eq!(r.decision.as_ref().unwrap().desired, 8);
    assert_eq!(store.get("fn").unwrap().state.provisioned, Some(8));
    let r = tick(&actuator, &store, &audit, "2026-11-23T09:30:00Z").await;
    assert_eq!(r.outcome, Outcome::Unchanged, "{r:?}");
    let r = tick(&actuator, &store, &audit, "2026-11-23T10:00:00Z").await;
    assert_eq!(r.outcome, Outcome::Applied, "{r:?}");
    assert_eq!(store.get("fn").unwrap().state.provisioned, None);

    replay.relaxed_requests_match();
    assert_eq!(
        methods(&replay),
        [
            "GET /2019-09-30/functions/handler/concurrency",
            &format!("GET {PROVISIONED}"),
            "PUT /2017-10-31/functions/handler/concurrency",
            &format!("PUT {PROVISIONED}"),
            "GET /2019-09-30/functions/handler/concurrency",
            &format!("GET {PROVISIONED}"),
            "GET /2019-09-30/functions/handler/concurrency",
            &format!("GET {PROVISIONED}"),
            &format!("DELETE {PROVISIONED}"),
            "PUT /2017-10-31/functions/handler/concurrency",
        ]
    );
    // Both changes are audited with their reasons.
    let changes: Vec<_> = audit
        .events()
        .into_iter()
        .filter_map(|e| e.provisioned)
        .collect();
    assert!(
        matches!(&changes[..], [ProvisionedChange::Set { count: 8, reason }, ProvisionedChange::Remove { count: 8, .. }] if reason.contains("schedule \"open\"")),
        "{changes:?}"
    );
}

#[tokio::test]
async fn removing_a_configuration_that_is_already_gone_succeeds_and_other_errors_name_the_alias() {
    let replay = StaticReplayClient::new(vec![
        ReplayEvent::new(request("DELETE", PROVISIONED, ""), not_found()),
        ReplayEvent::new(
            request("PUT", PROVISIONED, r#"{"ProvisionedConcurrentExecutions":60}"#),
            http::Response::builder()
                .status(400)
                .header("content-type", "application/json")
                .header("x-amzn-errortype", "InvalidParameterValueException")
                .body(SdkBody::from(
                    r#"{"Type":"User","message":"Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function"}"#,
                ))
                .unwrap(),
        ),
    ]);
    let actuator = workers(&replay);
    actuator.set_provisioned(&target(), None).await.unwrap();
    let e = actuator
        .set_provisioned(&target(), Some(60))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("lambda function handler:live"), "{e}");
    assert!(e.contains("InvalidParameterValueException"), "{e}");
    replay.relaxed_requests_match();
}
