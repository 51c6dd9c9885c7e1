//! ECS task scale-in protection, checked at the wire.
//!
//! moto serves neither `GetTaskProtection` nor a service's tasks with
//! protection, so these tests run the real adapter (`AwsWorkers` on the
//! real SDK client) through reconcile against the SDK's replay HTTP client:
//! each request the SDK sends is compared with one shaped as the ECS API
//! reference gives it (JSON 1.1, `X-Amz-Target`, the body), and the answer,
//! shaped the same way, is returned.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use jiff::Timestamp;
use qscale_aws::{ApiCalls, AwsWorkers};
use qscale_core::config::{Config, TargetConfig};
use qscale_core::engine::{Measurement, SignalReading, SqsDepth, Term};
use qscale_core::reconcile::memory::{MemoryAuditSink, MemoryStateStore, StaticMetrics};
use qscale_core::reconcile::{reconcile, Outcome, Ports, ReconcileOptions, ReconcileReport};

const ECS: &str = "https://ecs.us-east-1.amazonaws.com/";

/// ECS service `c/s` scaling on an SQS queue, no windows, so an empty queue
/// scales in at once.
fn target(respect_task_protection: bool) -> TargetConfig {
    let yaml = format!(
        r#"
targets:
  - name: jobs
    signals: [ {{ sqs: {{ name: q, queue: q }} }} ]
    worker: {{ ecs: {{ cluster: c, service: s, respect_task_protection: {respect_task_protection} }} }}
    policy:
      min: 0
      max: 200
      target_per_worker: 1
      scale_in: {{ cooldown: 0s, stabilization: 0s, rate_limits: {{ policies: [] }} }}
"#
    );
    Config::from_yaml(&yaml).unwrap().targets.remove(0)
}

fn call(operation: &str, body: &str, answer: &str) -> ReplayEvent {
    call_answered(operation, body, 200, answer)
}

/// One ECS call (JSON 1.1) and the answer it gets, with its HTTP status.
fn call_answered(operation: &str, body: &str, status: u16, answer: &str) -> ReplayEvent {
    ReplayEvent::new(
        http::Request::builder()
            .method("POST")
            .uri(ECS)
            .header(
                "x-amz-target",
                format!("AmazonEC2ContainerServiceV20141113.{operation}"),
            )
            .header("content-type", "application/x-amz-json-1.1")
            .body(SdkBody::from(body))
            .unwrap(),
        http::Response::builder()
            .status(status)
            .header("content-type", "application/x-amz-json-1.1")
            .body(SdkBody::from(answer))
            .unwrap(),
    )
}

fn describe_services(desired: u32) -> ReplayEvent {
    call(
        "DescribeServices",
        r#"{"cluster":"c","services":["s"]}"#,
        &format!(
            r#"{{"services":[{{"serviceName":"s","serviceArn":"arn:aws:ecs:us-east-1:123456789012:service/c/s","status":"ACTIVE","desiredCount":{desired},"runningCount":{desired},"pendingCount":0,"deployments":[{{"status":"PRIMARY"}}]}}],"failures":[]}}"#
        ),
    )
}

fn update_service(desired: u32) -> ReplayEvent {
    call(
        "UpdateService",
        &format!(r#"{{"cluster":"c","service":"s","desiredCount":{desired}}}"#),
        &format!(r#"{{"service":{{"serviceName":"s","desiredCount":{desired}}}}}"#),
    )
}

fn task(i: usize) -> String {
    format!("arn:aws:ecs:us-east-1:123456789012:task/c/{i:032x}")
}

fn quoted(tasks: &[String]) -> String {
    tasks
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(",")
}

fn workers(replay: &StaticReplayClient, calls: Arc<ApiCalls>) -> AwsWorkers {
    // No Lambda call is expected: an empty replay fails any that is made.
    common::replay_workers(replay, &StaticReplayClient::new(vec![]), calls)
}

async fn tick(
    target: &TargetConfig,
    actuator: &AwsWorkers,
    audit: &MemoryAuditSink,
) -> ReconcileReport {
    let now: Timestamp = "2026-12-07T10:00:00Z".parse().unwrap();
    let metrics = StaticMetrics::default();
    let empty = SignalReading::Ok {
        observed_at: now,
        measurement: Measurement::Sqs(SqsDepth::default()),
    };
    metrics.set("jobs", BTreeMap::from([("q".to_string(), empty)]));
    let store = MemoryStateStore::default();
    let ports = Ports {
        metrics: &metrics,
        actuator,
        store: &store,
        audit,
    };
    reconcile(target, now, &ports, ReconcileOptions::default()).await
}

#[tokio::test]
async fn an_empty_queue_scales_in_only_to_the_tasks_holding_protection() {
    // 150 running tasks over two ListTasks pages, their protection read in
    // two calls of at most 100: 60 protected (until 10:15), one the answer
    // cannot report (counted protected), the rest not.
    let tasks: Vec<String> = (0..150).map(task).collect();
    let protection = |chunk: &[String], offset: usize| {
        let rows: Vec<String> = chunk
            .iter()
            .enumerate()
            .filter(|(i, _)| offset + i != 149)
            .map(|(i, t)| {
                let on = (offset + i) % 5 < 2;
                format!(
                    r#"{{"taskArn":"{t}","protectionEnabled":{on}{}}}"#,
                    if on {
                        r#","expirationDate":1796637300"#
                    } else {
                        ""
                    }
                )
            })
            .collect();
        let failures = if offset + chunk.len() == 150 {
            format!(
                r#"[{{"arn":"{}","reason":"MISSING","detail":"the task stopped"}}]"#,
                tasks[149]
            )
        } else {
            "[]".into()
        };
        format!(
            r#"{{"protectedTasks":[{}],"failures":{failures}}}"#,
            rows.join(",")
        )
    };
    let replay = StaticReplayClient::new(vec![
        describe_services(150),
        call(
            "ListTasks",
            r#"{"cluster":"c","serviceName":"s","desiredStatus":"RUNNING","maxResults":100}"#,
            &format!(
                r#"{{"taskArns":[{}],"nextToken":"page-2"}}"#,
                quoted(&tasks[..100])
            ),
        ),
        call(
            "ListTasks",
            r#"{"cluster":"c","serviceName":"s","desiredStatus":"RUNNING","maxResults":100,"nextToken":"page-2"}"#,
            &format!(r#"{{"taskArns":[{}]}}"#, quoted(&tasks[100..])),
        ),
        call(
            "GetTaskProtection",
            &format!(r#"{{"cluster":"c","tasks":[{}]}}"#, quoted(&tasks[..100])),
            &protection(&tasks[..100], 0),
        ),
        call(
            "GetTaskProtection",
            &format!(r#"{{"cluster":"c","tasks":[{}]}}"#, quoted(&tasks[100..])),
            &protection(&tasks[100..], 100),
        ),
        update_service(61),
    ]);
    let calls = Arc::new(ApiCalls::default());
    let actuator = workers(&replay, calls.clone());
    let audit = MemoryAuditSink::default();
    let r = tick(&target(true), &actuator, &audit).await;
    assert_eq!(r.outcome, Outcome::Applied, "{r:?}");
    let d = r.decision.as_ref().unwrap();
    assert_eq!((d.previous, d.desired), (150, 61));
    assert!(
        d.bounded_by.contains(&Term::TaskProtection),
        "{:?}",
        d.steps
    );
    replay.relaxed_requests_match();
    // The audit event carries the reason with the count.
    let events = audit.events();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].notices,
        ["task_protection: scale-in held by 61 protected task(s): 0 -> 61"]
    );
    assert!(events[0].bounded_by.contains(&Term::TaskProtection));
    // What reading protection costs: 2 ListTasks pages and 2 reads of 100.
    let counted = calls.snapshot();
    assert_eq!(
        (counted["ecs:ListTasks"], counted["ecs:GetTaskProtection"]),
        (2, 2)
    );
}

#[tokio::test]
async fn protection_that_cannot_be_read_moves_nothing_and_names_the_service() {
    let denied = call_answered(
        "GetTaskProtection",
        &format!(r#"{{"cluster":"c","tasks":[{}]}}"#, quoted(&[task(0)])),
        400,
        r#"{"__type":"AccessDeniedException","message":"User is not authorized to perform: ecs:GetTaskProtection"}"#,
    );
    let replay = StaticReplayClient::new(vec![
        describe_services(5),
        call(
            "ListTasks",
            r#"{"cluster":"c","serviceName":"s","desiredStatus":"RUNNING","maxResults":100}"#,
            &format!(r#"{{"taskArns":[{}]}}"#, quoted(&[task(0)])),
        ),
        denied,
    ]);
    let actuator = workers(&replay, Arc::new(ApiCalls::default()));
    let audit = MemoryAuditSink::default();
    let r = tick(&target(true), &actuator, &audit).await;
    assert_ne!(r.outcome, Outcome::Applied, "{r:?}");
    let error = r.error.as_deref().unwrap_or_default();
    assert!(
        error.contains("ecs service c/s (task protection)") && error.contains("AccessDenied"),
        "{error}"
    );
    // No UpdateService: the replay holds none, and every event was used.
    replay.relaxed_requests_match();
}

#[tokio::test]
async fn without_respect_task_protection_nothing_more_is_read() {
    let replay = StaticReplayClient::new(vec![describe_services(5), update_service(0)]);
    let calls = Arc::new(ApiCalls::default());
    let actuator = workers(&replay, calls.clone());
    let r = tick(&target(false), &actuator, &MemoryAuditSink::default()).await;
    assert_eq!(r.decision.as_ref().unwrap().desired, 0, "{r:?}");
    replay.relaxed_requests_match();
    assert!(!calls.snapshot().contains_key("ecs:ListTasks"));
}
