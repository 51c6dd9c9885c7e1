//! Every Lambda handler invoked in-process with the sample events in
//! `events/`, against moto and the local Kafka broker; each test checks the
//! effect (service desired count, audit event, state item, control queue).
//! The event files name resources `orders-queue`, `click-aggregator` and
//! `clicks`; each test swaps in its own unique names.

use std::time::Duration;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use jiff::Timestamp;
use qscale_aws::DynamoStateStore;
use qscale_core::config::Config;
use qscale_core::config::HumanDuration;
use qscale_core::reconcile::{Outcome, StateStore};
use qscale_integration::kafka::{bootstrap, commit, create_topic, produce};
use qscale_integration::{unique, Moto};
use qscale_lambda::{
    evaluate, prewarm, tick, tick_invocation, AlarmStateChange, EvaluateResponse, PrewarmPayload,
    Runtime,
};

/// An hour before the sample prewarm event starts: the time its tests run at,
/// so the event stays inside the registration limits whatever the date.
fn sample_now() -> Timestamp {
    "2027-11-26T07:00:00Z".parse().unwrap()
}

/// The sample batch as if SQS had just taken its messages (older ones are
/// dropped as stale).
fn sent_now(batch: &str) -> String {
    batch.replace(
        "\"SentTimestamp\": \"1795428000000\"",
        &format!(
            "\"SentTimestamp\": \"{}\"",
            Timestamp::now().as_millisecond()
        ),
    )
}

fn event(name: &str) -> String {
    std::fs::read_to_string(format!("{}/../events/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn every_sample_event_parses_with_the_handlers_types() {
    let _: EventBridgeEvent = serde_json::from_str(&event("schedule.json")).unwrap();
    let batch: SqsEvent = serde_json::from_str(&event("control-batch.json")).unwrap();
    assert_eq!(batch.records.len(), 3);
    for name in ["alarm-sqs-depth.json", "alarm-msk-lag.json"] {
        let alarm: EventBridgeEvent<AlarmStateChange> = serde_json::from_str(&event(name)).unwrap();
        assert_eq!(alarm.detail_type, "CloudWatch Alarm State Change");
        assert_eq!(alarm.detail.state.value, "ALARM");
    }
    let p: PrewarmPayload = serde_json::from_str(&event("prewarm.json")).unwrap();
    assert_eq!((p.target.as_str(), p.min), ("orders", 12));
}

struct Stack {
    moto: Moto,
    rt: Runtime,
    orders_queue: String,
    cluster: String,
    audit: String,
    topic: String,
    group: String,
}

/// Resources for targets `orders` (SQS → ECS) and `clicks` (Kafka → ECS), and a Runtime on them.
async fn stack(orders_backlog: usize, fanout_above: usize) -> Stack {
    let moto = Moto::connect().await;
    let (table, cluster) = (unique("state"), unique("c"));
    moto.state_table(&table).await;
    let audit = moto.queue_with(&unique("audit"), 0).await;
    let control = moto.queue_with(&unique("control"), 0).await;
    let orders_queue = unique("orders-queue");
    moto.queue_with(&orders_queue, orders_backlog).await;
    moto.ecs_service(&cluster, "orders-worker", 1).await;
    moto.ecs_service(&cluster, "click-aggregator", 1).await;
    let (topic, group) = (unique("clicks"), unique("click-aggregator"));
    create_topic(&topic, 4).await;
    produce(&topic, &[100; 4]);
    commit(&topic, &group, &[(0, 0), (1, 0), (2, 0), (3, 0)]);
    let yaml = format!(
        r#"
kafka_clusters:
  main: {{ bootstrap_servers: "{}" }}
targets:
  - name: orders
    signals: [ {{ sqs: {{ name: jobs, queue: {orders_queue} }} }} ]
    worker: {{ ecs: {{ cluster: {cluster}, service: orders-worker }} }}
    policy: {{ min: 0, max: 40, target_per_worker: 10, scale_out: {{ cooldown: 0s, stabilization: 0s, rate_limits: {{ policies: [] }} }} }}
  - name: clicks
    signals: [ {{ kafka: {{ name: events, cluster: main, group: {group}, topic: {topic} }} }} ]
    worker: {{ ecs: {{ cluster: {cluster}, service: click-aggregator }} }}
    policy: {{ min: 1, max: 40, target_per_worker: 100 }}
"#,
        bootstrap()
    );
    let rt = Runtime {
        control_queue: Some(control),
        fanout_above,
        tick_budget: Duration::from_secs(30),
        ..Runtime::new(
            Config::from_yaml(&yaml).unwrap(),
            moto.settings(&table, &audit),
            moto.clients.clone(),
        )
    };
    Stack {
        moto,
        rt,
        orders_queue,
        cluster,
        audit,
        topic,
        group,
    }
}

#[tokio::test]
async fn tick_reconciles_every_target() {
    let s = stack(250, 50).await;
    let _: EventBridgeEvent = serde_json::from_str(&event("schedule.json")).unwrap();
    let summary = tick(&s.rt, Timestamp::now()).await.unwrap();
    assert_eq!(
        (summary.targets, summary.applied, summary.failed),
        (2, 2, 0),
        "{summary:?}"
    );
    assert_eq!(s.moto.desired(&s.cluster, "orders-worker").await, 25);
    assert_eq!(s.moto.desired(&s.cluster, "click-aggregator").await, 4);
    assert_eq!(s.moto.audit_events(&s.audit).await.len(), 2);
}

#[tokio::test]
async fn a_sub_minute_interval_runs_one_tick_per_slot_in_one_invocation() {
    let mut s = stack(250, 50).await;
    // 5 s ticks inside a 10 s schedule period: two ticks, 5 s apart.
    s.rt.config.tick_interval = HumanDuration::secs(5);
    s.rt.schedule_period = Duration::from_secs(10);
    let started = std::time::Instant::now();
    let inv = tick_invocation(&s.rt).await.unwrap();
    let took = started.elapsed();
    assert_eq!((inv.ticks.len(), inv.skipped_slots), (2, 0), "{inv:?}");
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(10),
        "{took:?}"
    );
    assert_eq!(
        (inv.ticks[0].applied, inv.ticks[0].failed),
        (2, 0),
        "{inv:?}"
    );
    assert_eq!(inv.ticks[1].failed, 0, "{inv:?}");
    assert_eq!(s.moto.desired(&s.cluster, "orders-worker").await, 25);
    // Each tick claimed its own tick: the first wrote its claim (with its
    // audit event in the outbox) and then the emptied outbox; the second,
    // with nothing to audit, only its claim.
    let store = DynamoStateStore::new(
        s.rt.clients.dynamodb.clone(),
        &s.rt.settings.state_table,
        Default::default(),
    );
    let stored = store.load("orders").await.unwrap();
    assert_eq!(stored.version, 3);
    assert!(stored.outbox.is_empty(), "{:?}", stored.outbox);

    // A budget shorter than the slots skips the late ones instead of
    // running into the next scheduled invocation.
    s.rt.tick_budget = Duration::from_secs(4);
    let inv = tick_invocation(&s.rt).await.unwrap();
    assert_eq!((inv.ticks.len(), inv.skipped_slots), (1, 1), "{inv:?}");
}

#[tokio::test]
async fn tick_fans_out_above_the_threshold() {
    let s = stack(250, 1).await;
    let summary = tick(&s.rt, Timestamp::now()).await.unwrap();
    assert_eq!(summary.fanned_out, 2);
    assert_eq!(
        s.moto.desired(&s.cluster, "orders-worker").await,
        1,
        "fan-out does not reconcile"
    );
    let mut bodies = s.moto.drain(s.rt.control_queue.as_deref().unwrap()).await;
    bodies.sort();
    assert_eq!(bodies.len(), 2);
    assert!(
        bodies[0].contains("\"target\":\"clicks\"") && bodies[1].contains("\"target\":\"orders\""),
        "{bodies:?}"
    );
}

#[tokio::test]
async fn evaluate_a_control_batch_reports_only_the_bad_records() {
    let s = stack(120, 50).await;
    let batch: serde_json::Value =
        serde_json::from_str(&sent_now(&event("control-batch.json"))).unwrap();
    let EvaluateResponse::Batch(response) = evaluate(&s.rt, batch, Timestamp::now()).await.unwrap()
    else {
        panic!("an SQS batch gets a batch response");
    };
    let mut failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    failed.sort();
    assert_eq!(failed, vec!["m-ghost", "m-poison"]);
    assert_eq!(s.moto.desired(&s.cluster, "orders-worker").await, 12);
    let json = serde_json::to_value(EvaluateResponse::Batch(response)).unwrap();
    assert!(
        json["batchItemFailures"][0]["itemIdentifier"].is_string(),
        "{json}"
    );
}

#[tokio::test]
async fn an_sqs_depth_alarm_evaluates_its_target_at_once() {
    let s = stack(90, 50).await;
    let alarm = event("alarm-sqs-depth.json")
        .replace("\"orders-queue\"", &format!("\"{}\"", s.orders_queue));
    let response = evaluate(
        &s.rt,
        serde_json::from_str(&alarm).unwrap(),
        Timestamp::now(),
    )
    .await
    .unwrap();
    let EvaluateResponse::Alarm { alarm, outcomes } = response else {
        panic!("alarm response")
    };
    assert_eq!(alarm, "orders-queue-depth");
    assert_eq!(outcomes, vec![("orders".to_string(), Outcome::Applied)]);
    assert_eq!(s.moto.desired(&s.cluster, "orders-worker").await, 9);
}

#[tokio::test]
async fn an_msk_lag_alarm_evaluates_the_kafka_target() {
    let s = stack(0, 50).await;
    let alarm = event("alarm-msk-lag.json")
        .replace("\"click-aggregator\"", &format!("\"{}\"", s.group))
        .replace("\"clicks\"", &format!("\"{}\"", s.topic));
    let response = evaluate(
        &s.rt,
        serde_json::from_str(&alarm).unwrap(),
        Timestamp::now(),
    )
    .await
    .unwrap();
    let EvaluateResponse::Alarm { outcomes, .. } = response else {
        panic!("alarm response")
    };
    assert_eq!(outcomes, vec![("clicks".to_string(), Outcome::Applied)]);
    assert_eq!(s.moto.desired(&s.cluster, "click-aggregator").await, 4);
}

#[tokio::test]
async fn prewarm_registers_the_event_once_even_when_replayed() {
    let s = stack(0, 50).await;
    let payload: PrewarmPayload = serde_json::from_str(&event("prewarm.json")).unwrap();
    let store = DynamoStateStore::new(
        s.moto.clients.dynamodb.clone(),
        &s.rt.settings.state_table,
        Default::default(),
    );
    let first = prewarm(&s.rt.config, &store, payload.clone(), sample_now())
        .await
        .unwrap();
    assert!(first.changed);
    let replay = prewarm(&s.rt.config, &store, payload, sample_now())
        .await
        .unwrap();
    assert!(!replay.changed, "a replayed payload changes nothing");
    assert_eq!(replay.version, first.version);
    let state = store.load("orders").await.unwrap().state;
    assert_eq!(state.events.len(), 1);
    assert_eq!(
        (state.events[0].name.as_str(), state.events[0].min),
        ("black-friday-morning", 12)
    );
    let mut bad: PrewarmPayload = serde_json::from_str(&event("prewarm.json")).unwrap();
    bad.min = 41;
    let e = prewarm(&s.rt.config, &store, bad, sample_now())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("min 41 is above policy.max 40 of orders"), "{e}");
}

#[tokio::test]
async fn prewarm_refuses_a_lambda_worker_without_a_qualifier() {
    let s = stack(0, 50).await;
    let store = DynamoStateStore::new(
        s.moto.clients.dynamodb.clone(),
        &s.rt.settings.state_table,
        Default::default(),
    );
    let yaml = "targets:\n  - name: orders\n    signals: [ { sqs: { name: q, queue: q } } ]\n    worker: { lambda_concurrency: { function: handler } }\n    policy: { min: 0, max: 40, target_per_worker: 10 }\n";
    let config = Config::from_yaml(yaml).unwrap();
    let payload: PrewarmPayload = serde_json::from_str(&event("prewarm.json")).unwrap();
    let e = prewarm(&config, &store, payload.clone(), sample_now())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("orders: worker.lambda_concurrency.qualifier is not set"),
        "{e}"
    );
    assert!(store.load("orders").await.unwrap().state.events.is_empty());
    // With an alias named, the event registers.
    let config =
        Config::from_yaml(&yaml.replace("function: handler", "function: handler, qualifier: live"))
            .unwrap();
    assert!(
        prewarm(&config, &store, payload, sample_now())
            .await
            .unwrap()
            .changed
    );
}

/// The path each function's `main` takes (`serve` -> `Function::handle`):
/// the sample events in, the answer the Lambda runtime serializes out.
#[tokio::test]
async fn each_function_answers_its_sample_event_through_handle() {
    use qscale_lambda::{Function, Response};
    let mut s = stack(250, 50).await;
    let schedule: serde_json::Value = serde_json::from_str(&event("schedule.json")).unwrap();
    let tick = Function::Tick
        .handle(&mut s.rt, schedule.clone(), Timestamp::now())
        .await
        .unwrap();
    let Response::Tick(inv) = &tick else {
        panic!("{tick:?}")
    };
    assert_eq!((inv.ticks.len(), inv.ticks[0].applied), (1, 2), "{inv:?}");
    assert_eq!(s.moto.desired(&s.cluster, "orders-worker").await, 25);
    // Untagged: the JSON is the inner answer, as before `serve` existed.
    assert_eq!(
        serde_json::to_value(&tick).unwrap(),
        serde_json::to_value(inv).unwrap()
    );

    let prewarm_event: serde_json::Value = serde_json::from_str(&event("prewarm.json")).unwrap();
    let Response::Prewarm(registered) = Function::Prewarm
        .handle(&mut s.rt, prewarm_event, sample_now())
        .await
        .unwrap()
    else {
        panic!("prewarm answered another response")
    };
    assert!(registered.changed);

    // A function given another function's event fails as an event error,
    // before it touches anything.
    let e = Function::Prewarm
        .handle(&mut s.rt, schedule, Timestamp::now())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "qscale.Event", "{e}");
}

/// Issue 28: a flood of control messages reconciles a target at most once
/// per `MIN_INTERVAL`, and a message older than `MAX_MESSAGE_AGE` is dropped
/// (acknowledged, not retried, nothing reconciled).
#[tokio::test]
async fn control_message_floods_and_stale_messages_cost_no_reconcile() {
    let s = stack(120, 50).await;
    let fresh: serde_json::Value =
        serde_json::from_str(&sent_now(&event("control-batch.json"))).unwrap();
    let now = Timestamp::now();
    evaluate(&s.rt, fresh.clone(), now).await.unwrap();
    assert_eq!(s.moto.desired(&s.cluster, "orders-worker").await, 12);
    // (Reading the audit queue takes its messages.)
    assert!(!s.moto.audit_events(&s.audit).await.is_empty());
    // The same request again 2 s later: the target was reconciled just now.
    s.moto.set_desired(&s.cluster, "orders-worker", 1).await;
    let again = now + jiff::SignedDuration::from_secs(2);
    let EvaluateResponse::Batch(response) = evaluate(&s.rt, fresh, again).await.unwrap() else {
        panic!("batch")
    };
    assert_eq!(
        s.moto.desired(&s.cluster, "orders-worker").await,
        1,
        "not reconciled again within MIN_INTERVAL"
    );
    assert!(
        !response
            .batch_item_failures
            .iter()
            .any(|f| f.item_identifier == "m-orders"),
        "a yielded request is done, not retried"
    );
    assert!(
        s.moto.audit_events(&s.audit).await.is_empty(),
        "a yielded request audits nothing"
    );
    // The sample's own SentTimestamp is 2026-11-23T10:00Z: stale now.
    let stale: serde_json::Value = serde_json::from_str(&event("control-batch.json")).unwrap();
    let EvaluateResponse::Batch(response) =
        evaluate(&s.rt, stale, now + jiff::SignedDuration::from_secs(60))
            .await
            .unwrap()
    else {
        panic!("batch")
    };
    assert!(
        response.batch_item_failures.is_empty(),
        "stale messages are not retried"
    );
    assert_eq!(s.moto.desired(&s.cluster, "orders-worker").await, 1);
}

/// A batch holding one control message with this body, sent now.
fn control_batch(body: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "Records": [{
            "messageId": "m-control",
            "receiptHandle": "rh",
            "body": body.to_string(),
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": Timestamp::now().as_millisecond().to_string(),
                "SenderId": "AIDAEXAMPLE",
                "ApproximateFirstReceiveTimestamp": Timestamp::now().as_millisecond().to_string()
            },
            "messageAttributes": {},
            "md5OfBody": "0",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:qscale-control",
            "awsRegion": "us-east-1"
        }]
    })
}

/// Issue 26: a pause and a resume through the control queue, as `qscale
/// pause` and `qscale resume` write them; a pause without a valid expiry is
/// refused (retried, then the DLQ) and stores nothing.
#[tokio::test]
async fn the_control_queue_pauses_and_resumes_a_target() {
    let s = stack(120, 50).await;
    let now = Timestamp::now();
    let failed = |r: &EvaluateResponse| match r {
        EvaluateResponse::Batch(b) => b.batch_item_failures.len(),
        _ => panic!("batch"),
    };
    let past = control_batch(serde_json::json!({
        "target": "orders", "pause": { "until": "2020-01-01T00:00:00Z" }
    }));
    assert_eq!(failed(&evaluate(&s.rt, past, now).await.unwrap()), 1);
    let until = (now + jiff::SignedDuration::from_secs(3600)).to_string();
    let pause = control_batch(serde_json::json!({
        "target": "orders", "reason": "load test",
        "pause": { "until": until, "scope": { "out": true } }
    }));
    assert_eq!(failed(&evaluate(&s.rt, pause, now).await.unwrap()), 0);
    // 120 waiting want 12 from 1: the scale-out is paused.
    assert_eq!(s.moto.desired(&s.cluster, "orders-worker").await, 1);
    let store = DynamoStateStore::new(
        s.moto.clients.dynamodb.clone(),
        &s.rt.settings.state_table,
        Default::default(),
    );
    let stored = store.load("orders").await.unwrap().state.pause.unwrap();
    assert_eq!(stored.reason.as_deref(), Some("load test"));
    assert!(stored.scope.scale_out && !stored.scope.scale_in);
    let resume = control_batch(serde_json::json!({ "target": "orders", "resume": true }));
    let later = now + jiff::SignedDuration::from_secs(10);
    assert_eq!(failed(&evaluate(&s.rt, resume, later).await.unwrap()), 0);
    assert_eq!(s.moto.desired(&s.cluster, "orders-worker").await, 12);
}
