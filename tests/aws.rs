//! qscale against the moto server over HTTP: the production adapters (AWS SDK
//! with an endpoint override), no in-process mocks. `scripts/test.sh` starts moto.
//! Over 400 lines on purpose: one end-to-end scenario per test, each reading
//! alone; faults and the API-call budget have their own files under `aws/`.

// The crate root is this file, so its modules are named by path.
#[path = "aws/accounts.rs"]
mod accounts;
#[path = "aws/api_calls.rs"]
mod api_calls;
#[path = "aws/capacity.rs"]
mod capacity;
#[path = "aws/faults.rs"]
mod faults;
#[path = "aws/operator.rs"]
mod operator;
#[path = "aws/queue_shapes.rs"]
mod queue_shapes;

use jiff::{SignedDuration, Timestamp};
use qscale_aws::DynamoStateStore;
use qscale_core::config::Config;
use qscale_core::engine::{Direction, RegisteredEvent, Term};
use qscale_core::reconcile::{Outcome, ReconcileOptions, StateStore};
use qscale_integration::{unique, Moto};
use qscale_live::run::{run_once, RunSummary};

/// A target on an SQS queue and an ECS service, with the policy lines given.
fn ecs_target(name: &str, queue: &str, cluster: &str, service: &str, policy: &str) -> String {
    format!(
        r#"
  - name: {name}
    signals: [ {{ sqs: {{ name: jobs, queue: "{queue}" }} }} ]
    worker: {{ ecs: {{ cluster: {cluster}, service: {service} }} }}
    policy:
{policy}
"#
    )
}

/// Immediate policy: no rate limits, windows or cooldowns unless given.
fn policy(min: u32, max: u32, per_worker: u32, extra: &str) -> String {
    format!(
        "      min: {min}\n      max: {max}\n      target_per_worker: {per_worker}\n      scale_out: {{ cooldown: 0s, stabilization: 0s, rate_limits: {{ policies: [] }} }}\n{extra}"
    )
}

fn scale_in(cooldown: &str) -> String {
    format!("      scale_in: {{ cooldown: {cooldown}, stabilization: 0s, rate_limits: {{ policies: [] }} }}\n")
}

fn config(targets: &[String]) -> Config {
    let yaml = format!("targets:{}", targets.concat());
    Config::from_yaml(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"))
}

struct Fixture {
    moto: Moto,
    table: String,
    audit: String,
}

async fn fixture() -> Fixture {
    let moto = Moto::connect().await;
    let table = unique("state");
    moto.state_table(&table).await;
    let audit = moto.queue_with(&unique("audit"), 0).await;
    Fixture { moto, table, audit }
}

impl Fixture {
    async fn run(&self, config: &Config, now: Timestamp, dry_run: bool) -> RunSummary {
        run_once(
            config,
            &self.moto.settings(&self.table, &self.audit),
            &self.moto.clients,
            now,
            ReconcileOptions {
                dry_run,
                ..Default::default()
            },
        )
        .await
    }
}

fn now() -> Timestamp {
    Timestamp::now()
}

#[tokio::test]
async fn backlog_of_250_scales_an_ecs_service_from_1_to_20_once_and_audits_it() {
    let f = fixture().await;
    let (queue, cluster, service) = (unique("q"), unique("c"), unique("s"));
    let url = f.moto.queue_with(&queue, 250).await;
    f.moto.ecs_service(&cluster, &service, 1).await;
    let c = config(&[ecs_target(
        "orders",
        &url,
        &cluster,
        &service,
        &policy(0, 20, 10, ""),
    )]);

    let summary = f.run(&c, now(), false).await;
    let report = &summary.reports[0].report;
    assert_eq!(report.outcome, Outcome::Applied, "{}", summary.table());
    assert_eq!(summary.api_calls.get("ecs:UpdateService"), Some(&1));
    assert_eq!(f.moto.desired(&cluster, &service).await, 20);

    let events = f.moto.audit_events(&f.audit).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(
        (e.target.as_str(), e.previous, e.desired, e.outcome),
        ("orders", 1, 20, Outcome::Applied)
    );
    assert_eq!(e.inputs[0].backlog, Some(250));
    // 25 wanted, capped by max 20.
    assert!(e.bounded_by.contains(&Term::Max), "{:?}", e.bounded_by);

    // Steady state: the next tick changes nothing and makes no UpdateService.
    let again = f
        .run(&c, now() + SignedDuration::from_secs(60), false)
        .await;
    assert_eq!(
        again.reports[0].report.outcome,
        Outcome::Unchanged,
        "{}",
        again.table()
    );
    assert_eq!(again.api_calls.get("ecs:UpdateService"), None);
    assert!(again.calls_per_target() <= 4.0, "{:?}", again.api_calls);
}

#[tokio::test]
async fn scale_in_cooldown_holds_across_invocations_through_dynamodb_state() {
    let f = fixture().await;
    let (cluster, service) = (unique("c"), unique("s"));
    let url = f.moto.queue_with(&unique("q"), 50).await;
    f.moto.ecs_service(&cluster, &service, 10).await;
    let c = config(&[ecs_target(
        "t",
        &url,
        &cluster,
        &service,
        &policy(0, 20, 10, &scale_in("5m")),
    )]);
    let t0 = now();

    let first = f.run(&c, t0, false).await;
    assert_eq!(
        f.moto.desired(&cluster, &service).await,
        5,
        "{}",
        first.table()
    );

    f.moto.purge(&url).await;
    f.moto.send(&url, 10).await;
    // A separate invocation a minute later: only DynamoDB remembers the scale-in.
    let second = f.run(&c, t0 + SignedDuration::from_secs(60), false).await;
    let d = second.reports[0].report.decision.as_ref().unwrap();
    assert_eq!(
        f.moto.desired(&cluster, &service).await,
        5,
        "{}",
        second.table()
    );
    assert!(
        d.bounded_by.contains(&Term::ScaleInCooldown),
        "{:?}",
        d.steps
    );

    // After the cooldown it may scale in.
    let third = f.run(&c, t0 + SignedDuration::from_secs(301), false).await;
    assert_eq!(
        f.moto.desired(&cluster, &service).await,
        1,
        "{}",
        third.table()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_reconciles_at_once_make_exactly_one_update() {
    let f = fixture().await;
    let (cluster, service) = (unique("c"), unique("s"));
    let url = f.moto.queue_with(&unique("q"), 120).await;
    f.moto.ecs_service(&cluster, &service, 2).await;
    let c = config(&[ecs_target(
        "race",
        &url,
        &cluster,
        &service,
        &policy(0, 50, 10, ""),
    )]);
    let t = now();
    let (a, b) = tokio::join!(f.run(&c, t, false), f.run(&c, t, false));
    let updates = a.api_calls.get("ecs:UpdateService").unwrap_or(&0)
        + b.api_calls.get("ecs:UpdateService").unwrap_or(&0);
    assert_eq!(updates, 1, "{}\n{}", a.table(), b.table());
    assert_eq!(f.moto.desired(&cluster, &service).await, 12);
    let mut outcomes = [a.reports[0].report.outcome, b.reports[0].report.outcome];
    outcomes.sort_by_key(|o| format!("{o:?}"));
    // The loser's conditional write fails and it yields (or, if it started
    // after the winner finished, finds nothing to do).
    assert!(
        outcomes == [Outcome::Applied, Outcome::Yielded]
            || outcomes == [Outcome::Applied, Outcome::Unchanged],
        "{outcomes:?}"
    );
    let applied = f
        .moto
        .audit_events(&f.audit)
        .await
        .into_iter()
        .filter(|e| e.outcome == Outcome::Applied)
        .count();
    assert_eq!(applied, 1);
}

#[tokio::test]
async fn lambda_reserved_concurrency_and_event_source_mapping_follow_decisions() {
    let f = fixture().await;
    let function = unique("fn");
    f.moto.lambda_function(&function, 5).await;
    let busy = f.moto.queue_with(&unique("q"), 300).await;
    let quiet = f.moto.queue_with(&unique("q"), 0).await;
    let esm = f.moto.event_source_mapping(&function, &quiet, 5).await;
    let p = policy(0, 50, 10, &scale_in("0s"));
    let c = config(&[
        format!(
            "\n  - name: fn-concurrency\n    signals: [ {{ sqs: {{ name: jobs, queue: \"{busy}\" }} }} ]\n    worker: {{ lambda_concurrency: {{ function: {function} }} }}\n    policy:\n{p}"
        ),
        format!(
            "\n  - name: fn-esm\n    signals: [ {{ sqs: {{ name: jobs, queue: \"{quiet}\" }} }} ]\n    worker: {{ lambda_event_source_mapping: {{ uuid: {esm} }} }}\n    policy:\n{p}"
        ),
    ]);
    let summary = f.run(&c, now(), false).await;
    assert_eq!(summary.failures(), 0, "{}", summary.table());
    assert_eq!(f.moto.reserved_concurrency(&function).await, Some(30));
    let mapping = f
        .moto
        .clients
        .lambda
        .get_event_source_mapping()
        .uuid(&esm)
        .send()
        .await
        .unwrap();
    // An empty queue wants 0, but AWS's MaximumConcurrency floor is 2: clamped, and said so.
    assert_eq!(
        mapping
            .scaling_config()
            .and_then(|s| s.maximum_concurrency()),
        Some(2)
    );
    let d = summary.reports[1].report.decision.as_ref().unwrap();
    assert!(
        d.bounded_by.contains(&Term::WorkerLimits),
        "{:?}",
        d.bounded_by
    );
}

#[tokio::test]
async fn a_registered_event_raises_the_floor_until_it_ends() {
    let f = fixture().await;
    let (cluster, service) = (unique("c"), unique("s"));
    let url = f.moto.queue_with(&unique("q"), 0).await;
    f.moto.ecs_service(&cluster, &service, 2).await;
    let c = config(&[ecs_target(
        "launch",
        &url,
        &cluster,
        &service,
        &policy(0, 20, 10, &scale_in("0s")),
    )]);
    let t0 = now();
    let store = DynamoStateStore::new(
        f.moto.clients.dynamodb.clone(),
        &f.table,
        Default::default(),
    );
    let mut v = store.load("launch").await.unwrap();
    v.state.register_event(RegisteredEvent {
        name: "launch".into(),
        start: t0 + SignedDuration::from_secs(120),
        end: t0 + SignedDuration::from_secs(900),
        min: 8,
    });
    store
        .save("launch", &v.state, &v.outbox, v.version)
        .await
        .unwrap();

    // Inside the default 5 minute lead: the floor already holds.
    let during = f.run(&c, t0, false).await;
    assert_eq!(
        f.moto.desired(&cluster, &service).await,
        8,
        "{}",
        during.table()
    );
    let after = f.run(&c, t0 + SignedDuration::from_secs(901), false).await;
    assert_eq!(
        f.moto.desired(&cluster, &service).await,
        0,
        "{}",
        after.table()
    );
    assert!(
        store.load("launch").await.unwrap().state.events.is_empty(),
        "ended events are trimmed"
    );
}

#[tokio::test]
async fn missing_queue_and_missing_service_fail_alone_and_name_the_resource() {
    let f = fixture().await;
    let (cluster, good, other) = (unique("c"), unique("s"), unique("s"));
    let url = f.moto.queue_with(&unique("q"), 40).await;
    f.moto.ecs_service(&cluster, &good, 1).await;
    f.moto.ecs_service(&cluster, &other, 3).await;
    let p = policy(0, 20, 10, "");
    let missing_queue = format!("{}-gone", unique("q"));
    let c = config(&[
        ecs_target("good", &url, &cluster, &good, &p),
        ecs_target("no-queue", &missing_queue, &cluster, &other, &p),
        ecs_target("no-service", &url, &cluster, "no-such-service", &p),
    ]);
    let summary = f.run(&c, now(), false).await;
    let table = summary.table();
    let by = |name: &str| {
        &summary
            .reports
            .iter()
            .find(|r| r.report.target == name)
            .unwrap()
            .report
    };
    assert_eq!(by("good").outcome, Outcome::Applied, "{table}");
    assert_eq!(f.moto.desired(&cluster, &good).await, 4);

    assert_eq!(by("no-queue").outcome, Outcome::Refused, "{table}");
    let e = by("no-queue").error.as_deref().unwrap();
    assert!(
        e.contains(&format!("queue {missing_queue}: does not exist")),
        "{e}"
    );
    assert_eq!(
        f.moto.desired(&cluster, &other).await,
        3,
        "nothing changes for a broken target"
    );

    assert_eq!(by("no-service").outcome, Outcome::Failed, "{table}");
    let e = by("no-service").error.as_deref().unwrap();
    assert!(
        e.contains(&format!(
            "ecs service {cluster}/no-such-service: does not exist"
        )),
        "{e}"
    );
    assert!(table.contains("1 failed"), "{table}");
}

#[tokio::test]
async fn dry_run_changes_nothing_but_audits() {
    let f = fixture().await;
    let (cluster, service) = (unique("c"), unique("s"));
    let url = f.moto.queue_with(&unique("q"), 90).await;
    f.moto.ecs_service(&cluster, &service, 1).await;
    let c = config(&[ecs_target(
        "dry",
        &url,
        &cluster,
        &service,
        &policy(0, 20, 10, ""),
    )]);
    let summary = f.run(&c, now(), true).await;
    assert_eq!(summary.reports[0].report.outcome, Outcome::DryRun);
    assert_eq!(summary.api_calls.get("ecs:UpdateService"), None);
    assert_eq!(summary.api_calls.get("dynamodb:PutItem"), None);
    assert_eq!(f.moto.desired(&cluster, &service).await, 1);
    let store = DynamoStateStore::new(
        f.moto.clients.dynamodb.clone(),
        &f.table,
        Default::default(),
    );
    assert_eq!(
        store.load("dry").await.unwrap().version,
        0,
        "no state written"
    );
    let events = f.moto.audit_events(&f.audit).await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].outcome, events[0].desired, events[0].direction),
        (Outcome::DryRun, 9, Direction::ScaleOut)
    );

    // The scaler's own metrics as CloudWatch Embedded Metric Format lines.
    let emf: serde_json::Value = serde_json::from_str(
        &summary.emf_lines(now(), qscale_live::run::MetricsMode::PerTarget)[0],
    )
    .unwrap();
    assert_eq!(emf["_aws"]["CloudWatchMetrics"][0]["Namespace"], "qscale");
    assert_eq!(
        (
            emf["Target"].as_str(),
            emf["Backlog"].as_u64(),
            emf["DesiredWorkers"].as_u64()
        ),
        (Some("dry"), Some(90), Some(9))
    );
    assert_eq!(emf["Errors"], 0);
}

/// A target `name`: 70 messages for an ECS service at 1 (it scales to 7);
/// returns (config, cluster, service).
async fn seventy_waiting_for_one_worker(f: &Fixture, name: &str) -> (Config, String, String) {
    let (cluster, service) = (unique("c"), unique("s"));
    let url = f.moto.queue_with(&unique("q"), 70).await;
    f.moto.ecs_service(&cluster, &service, 1).await;
    let c = config(&[ecs_target(
        name,
        &url,
        &cluster,
        &service,
        &policy(0, 20, 10, ""),
    )]);
    (c, cluster, service)
}

#[tokio::test]
async fn audit_events_reach_an_eventbridge_bus_and_its_rule_targets() {
    let f = fixture().await;
    let (bus, sink) = f.moto.event_bus_to_queue(&unique("bus")).await;
    let (c, _, _) = seventy_waiting_for_one_worker(&f, "eb").await;
    let mut settings = f.moto.settings(&f.table, &f.audit);
    settings.audit = qscale_aws::AuditTargets {
        event_bus: Some(bus),
        queue_url: None,
    };
    let summary = run_once(
        &c,
        &settings,
        &f.moto.clients,
        now(),
        ReconcileOptions::default(),
    )
    .await;
    assert_eq!(
        summary.api_calls.get("events:PutEvents"),
        Some(&1),
        "{}",
        summary.table()
    );
    let bodies = f.moto.drain(&sink).await;
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let envelope: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(
        (
            envelope["source"].as_str(),
            envelope["detail-type"].as_str()
        ),
        (Some("qscale"), Some("qscale.scaling"))
    );
    let event: qscale_core::reconcile::AuditEvent =
        serde_json::from_value(envelope["detail"].clone()).unwrap();
    assert_eq!(
        (
            event.target.as_str(),
            event.previous,
            event.desired,
            event.outcome
        ),
        ("eb", 1, 7, Outcome::Applied)
    );
}

#[tokio::test]
async fn a_down_audit_queue_gets_the_event_later_and_the_bus_gets_it_once() {
    let f = fixture().await;
    let (bus, bus_sink) = f.moto.event_bus_to_queue(&unique("bus")).await;
    // The audit queue is down for the first tick: it does not exist.
    let audit_name = unique("audit-down");
    let audit_queue = f.moto.queue_with(&audit_name, 0).await;
    f.moto
        .clients
        .sqs
        .delete_queue()
        .queue_url(&audit_queue)
        .send()
        .await
        .unwrap();
    let (c, cluster, service) = seventy_waiting_for_one_worker(&f, "outbox").await;
    let mut settings = f.moto.settings(&f.table, &f.audit);
    settings.audit = qscale_aws::AuditTargets {
        event_bus: Some(bus),
        queue_url: Some(audit_queue.clone()),
    };
    let t0 = now();
    let first = run_once(&c, &settings, &f.moto.clients, t0, Default::default()).await;
    assert_eq!(
        first.reports[0].report.outcome,
        Outcome::Applied,
        "{}",
        first.table()
    );
    assert_eq!(f.moto.desired(&cluster, &service).await, 7);

    // The event waits in the state item, acknowledged by the bus only.
    let store = DynamoStateStore::new(
        f.moto.clients.dynamodb.clone(),
        &f.table,
        Default::default(),
    );
    let pending = store.load("outbox").await.unwrap().outbox;
    assert_eq!(pending.len(), 1, "{pending:?}");
    let id = pending[0].event.id.clone();
    assert_eq!(pending[0].event.outcome, Outcome::Applied);
    let acknowledged: Vec<&str> = pending[0].delivered.iter().map(String::as_str).collect();
    assert_eq!(
        acknowledged,
        [format!(
            "eventbridge:{}",
            settings.audit.event_bus.as_ref().unwrap()
        )]
    );

    // The queue is back; the next tick (nothing to change) delivers it there.
    f.moto.queue_with(&audit_name, 0).await;
    let second = run_once(
        &c,
        &settings,
        &f.moto.clients,
        t0 + SignedDuration::from_secs(60),
        Default::default(),
    )
    .await;
    assert_eq!(
        second.reports[0].report.outcome,
        Outcome::Unchanged,
        "{}",
        second.table()
    );
    let on_queue = f.moto.audit_events(&audit_queue).await;
    assert_eq!(
        on_queue.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        [id.as_str()]
    );
    assert_eq!(on_queue[0].outcome, Outcome::Applied);
    let on_bus = f.moto.drain(&bus_sink).await;
    assert_eq!(
        on_bus.len(),
        1,
        "the bus must not receive the event twice: {on_bus:?}"
    );
    assert!(store.load("outbox").await.unwrap().outbox.is_empty());
}
