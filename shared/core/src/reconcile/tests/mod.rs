//! Reconcile's tests on the in-memory ports: claim, yield, act, outbox,
//! fallback and provisioned concurrency, one scenario per test. Over 400
//! lines on purpose: each scenario builds its world and reads alone; the
//! crash points have their own file.

mod containment;
mod crash_points;

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::memory::{
    block_on_ready, MemoryAuditSink, MemoryStateStore, MemoryWorkers, StaticMetrics,
};
use super::*;
use crate::config::{PolicyConfig, TargetConfig, WorkerConfig};
use crate::engine::{Measurement, SignalReading, SqsDepth};

fn target() -> TargetConfig {
    crate::testing::ecs_target(
        "orders",
        PolicyConfig::with_target(0, 20, 10.0),
        vec![crate::testing::sqs_signal("q")],
    )
}

struct World {
    metrics: StaticMetrics,
    workers: MemoryWorkers,
    store: MemoryStateStore,
    audit: MemoryAuditSink,
}

fn world(backlog: u64, desired: u32, now: Timestamp) -> World {
    let w = World {
        metrics: StaticMetrics::default(),
        workers: MemoryWorkers::default(),
        store: MemoryStateStore::default(),
        audit: MemoryAuditSink::default(),
    };
    set_backlog(&w, backlog, now);
    w.workers
        .set("orders", crate::testing::steady_workers(desired));
    w
}

/// Makes the target's only signal read as failed.
fn fail_signal(w: &World, error: &str) {
    w.metrics.set(
        "orders",
        BTreeMap::from([(
            "q".to_string(),
            SignalReading::Failed {
                error: error.into(),
            },
        )]),
    );
}

fn run(w: &World, now: Timestamp, dry_run: bool) -> ReconcileReport {
    run_target(w, &target(), now, dry_run)
}

fn run_target(w: &World, target: &TargetConfig, now: Timestamp, dry_run: bool) -> ReconcileReport {
    let ports = Ports {
        metrics: &w.metrics,
        actuator: &w.workers,
        store: &w.store,
        audit: &w.audit,
    };
    block_on_ready(reconcile(
        target,
        now,
        &ports,
        ReconcileOptions {
            dry_run,
            ..Default::default()
        },
    ))
}

fn now() -> Timestamp {
    "2026-11-23T10:00:00Z".parse().unwrap()
}

#[test]
fn applies_records_state_and_audits() {
    let w = world(120, 1, now());
    let r = run(&w, now(), false);
    assert_eq!(r.outcome, Outcome::Applied, "{r:?}");
    // Default scale-out rate from 1: max(1 + 16, 1 × 16) = 17 allows the 12 needed.
    assert_eq!(w.workers.calls(), vec![("orders".to_string(), 12)]);
    let stored = w.store.get("orders").unwrap();
    // The claim (state + outbox), then the outbox emptied after delivery.
    assert_eq!(stored.version, 2);
    assert_eq!(stored.state.actions.len(), 1);
    let events = w.audit.events();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].previous, events[0].desired, events[0].outcome),
        (1, 12, Outcome::Applied)
    );
    assert_eq!(events[0].inputs[0].backlog, Some(120));
    // What `status` shows: the outcome recorded after the action's answer.
    let last = stored.state.last_reconcile.unwrap();
    assert_eq!(
        (
            last.previous,
            last.desired,
            last.outcome.as_str(),
            last.error
        ),
        (1, 12, "applied", None)
    );
}

#[test]
fn dry_run_changes_nothing_but_audits() {
    let w = world(120, 1, now());
    let r = run(&w, now(), true);
    assert_eq!(r.outcome, Outcome::DryRun);
    assert!(w.workers.calls().is_empty());
    assert!(w.store.get("orders").is_none());
    let event = &w.audit.events()[0];
    assert_eq!(event.outcome, Outcome::DryRun);
    // Not the tick's `decision` id: a real reconcile of it has its own.
    assert_eq!(event.id, "orders@2026-11-23T10:00:00Z#dry_run");
}

/// A store whose saves fail from the `first_failing`-th on (0-based).
struct FailingSaves {
    inner: MemoryStateStore,
    first_failing: usize,
    saves: std::sync::atomic::AtomicUsize,
}

impl FailingSaves {
    fn from(first_failing: usize) -> Self {
        FailingSaves {
            inner: MemoryStateStore::default(),
            first_failing,
            saves: Default::default(),
        }
    }
}

impl StateStore for FailingSaves {
    async fn load(&self, target: &str) -> Result<VersionedState, PortError> {
        self.inner.load(target).await
    }
    async fn save(
        &self,
        target: &str,
        state: &crate::engine::TargetState,
        outbox: &[PendingAudit],
        expected: u64,
    ) -> Result<u64, SaveError> {
        let n = self.saves.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n >= self.first_failing {
            return Err(PortError::new("state", "injected").into());
        }
        self.inner.save(target, state, outbox, expected).await
    }
}

/// Reconciles the world's target at `at` with another state store.
fn run_on_store<S: StateStore>(w: &World, store: &S, at: Timestamp) -> ReconcileReport {
    let ports = Ports {
        metrics: &w.metrics,
        actuator: &w.workers,
        store,
        audit: &w.audit,
    };
    block_on_ready(reconcile(
        &target(),
        at,
        &ports,
        ReconcileOptions::default(),
    ))
}

#[test]
fn a_failed_claim_beside_a_rivals_claim_publishes_its_own_id() {
    // Two invocations of one tick read the state; the first one's claim
    // write fails, the rival's succeeds. Sharing the `decision` id, the
    // failure would make consumers that deduplicate drop one of the two.
    let w = world(120, 1, now());
    let first = run_on_store(&w, &FailingSaves::from(0), now());
    assert_eq!(first.outcome, Outcome::Failed, "{first:?}");
    let rival = run(&w, now(), false);
    assert_eq!(rival.outcome, Outcome::Applied, "{rival:?}");
    let ids: Vec<(String, Outcome)> = w
        .audit
        .events()
        .iter()
        .map(|e| (e.id.clone(), e.outcome))
        .collect();
    assert_eq!(
        ids,
        vec![
            (
                "orders@2026-11-23T10:00:00Z#claim_error".to_string(),
                Outcome::Failed
            ),
            (
                "orders@2026-11-23T10:00:00Z#decision".to_string(),
                Outcome::Applied
            ),
        ]
    );
    assert_eq!(w.workers.calls(), vec![("orders".to_string(), 12)]);
}

#[test]
fn a_delivery_that_cannot_be_recorded_is_named_and_published_again() {
    let w = world(120, 1, now());
    // The claim succeeds, the write recording delivery fails.
    let store = FailingSaves::from(1);
    let r = run_on_store(&w, &store, now());
    assert_eq!(r.outcome, Outcome::Applied, "{r:?}");
    let id = "orders@2026-11-23T10:00:00Z#decision".to_string();
    assert_eq!(r.unrecorded_deliveries, vec![id.clone()]);
    // The claimed outbox still holds it: the next reconcile publishes it again.
    assert_eq!(store.inner.get("orders").unwrap().outbox.len(), 1);
    let later = now() + jiff::SignedDuration::from_mins(1);
    let r = run_on_store(&w, &store.inner, later);
    assert!(r.unrecorded_deliveries.is_empty(), "{r:?}");
    let twice = w.audit.events().iter().filter(|e| e.id == id).count();
    assert_eq!(twice, 2, "at least once: {:?}", w.audit.events());
    assert!(store.inner.get("orders").unwrap().outbox.is_empty());
}

/// A store where a rival invocation writes right after every load.
struct RacingStore(MemoryStateStore);

impl StateStore for RacingStore {
    async fn load(&self, target: &str) -> Result<VersionedState, PortError> {
        let loaded = self.0.load(target).await?;
        self.0
            .save(target, &loaded.state, &loaded.outbox, loaded.version)
            .await
            .unwrap();
        Ok(loaded)
    }
    async fn save(
        &self,
        target: &str,
        state: &crate::engine::TargetState,
        outbox: &[PendingAudit],
        expected: u64,
    ) -> Result<u64, SaveError> {
        self.0.save(target, state, outbox, expected).await
    }
}

#[test]
fn the_loser_of_a_concurrent_reconcile_yields_without_acting() {
    let w = world(120, 1, now());
    let r = run_on_store(&w, &RacingStore(MemoryStateStore::default()), now());
    assert_eq!(r.outcome, Outcome::Yielded);
    assert!(w.workers.calls().is_empty(), "the loser must not act");
    assert_eq!(w.audit.events()[0].outcome, Outcome::Yielded);
}

#[test]
fn failed_actuation_is_forgotten_and_audited() {
    let w = world(120, 1, now());
    w.workers
        .fail_with(Some(PortError::new("ecs service s", "AccessDenied")));
    let r = run(&w, now(), false);
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(r
        .error
        .as_deref()
        .unwrap()
        .contains("ecs service s: AccessDenied"));
    // Kept, unconfirmed, until the next decision sees the fleet...
    let stored = w.store.get("orders").unwrap().state;
    assert_eq!(stored.actions.len(), 1);
    assert_eq!(stored.unconfirmed_action, Some(now()));
    assert_eq!(w.audit.events()[0].outcome, Outcome::Failed);
    let last = stored.last_reconcile.unwrap();
    assert_eq!(last.outcome, "failed");
    assert!(
        last.error.unwrap().contains("ecs service s: AccessDenied"),
        "status names the failure"
    );
    // ...which still shows the old count: the action never happened, and
    // the next tick may act at once (no cooldown from it).
    w.workers.fail_with(None);
    let later = now() + jiff::SignedDuration::from_secs(60);
    set_backlog(&w, 120, later);
    let r = run(&w, later, false);
    assert_eq!(r.outcome, Outcome::Applied, "{r:?}");
    assert_eq!(w.workers.calls(), vec![("orders".to_string(), 12)]);
    let stored = w.store.get("orders").unwrap().state;
    assert_eq!(stored.unconfirmed_action, None);
    assert_eq!(
        stored.actions.iter().map(|a| a.at).collect::<Vec<_>>(),
        vec![later]
    );
}

/// Issue 28: an `UpdateService` that took effect but whose answer was lost
/// must keep its place in the rate-limit and cooldown history, or the next
/// tick steps again as if it had not happened.
#[test]
fn a_lost_answer_after_the_count_changed_keeps_the_rate_limit_history() {
    let w = world(120, 1, now());
    w.workers
        .lose_answers_with(Some(PortError::new("ecs service s", "connection reset")));
    let r = run(&w, now(), false);
    assert_eq!(r.outcome, Outcome::Failed);
    assert_eq!(
        w.workers.get("orders").unwrap().desired,
        12,
        "it took effect"
    );
    w.workers.lose_answers_with(None);
    // 30 s later, 40 workers' worth of backlog. The default scale-out rate
    // (16 workers or 1500% per 60 s) counts from the 1 worker before the
    // lost-answer action: at most 17. Forgotten, it would count from 12
    // and allow the 40.
    let later = now() + jiff::SignedDuration::from_secs(30);
    set_backlog(&w, 400, later);
    let r = run(&w, later, false);
    let d = r.decision.unwrap();
    assert_eq!(d.desired, 17, "{:?}", d.steps);
    assert!(
        d.steps
            .iter()
            .any(|s| s.term == crate::engine::Term::ScaleOutRateLimit),
        "{:?}",
        d.steps
    );
    let stored = w.store.get("orders").unwrap().state;
    assert_eq!(
        stored.unconfirmed_action, None,
        "confirmed by the observed 12"
    );
    assert_eq!(
        stored.actions.len(),
        2,
        "the lost-answer action and this one"
    );
}

#[test]
fn untrusted_signal_is_refused_and_audited() {
    let w = world(0, 4, now());
    fail_signal(&w, "queue q: timeout");
    let r = run(&w, now(), false);
    assert_eq!(r.outcome, Outcome::Refused);
    assert!(w.workers.calls().is_empty());
    assert_eq!(w.audit.events()[0].outcome, Outcome::Refused);
    assert!(!w.audit.events()[0].inputs[0].trusted);
    let last = w.store.get("orders").unwrap().state.last_reconcile.unwrap();
    assert_eq!(last.outcome, "refused");
    assert!(last.error.unwrap().contains("queue q: timeout"));
}

#[test]
fn dry_run_still_reports_a_refusal() {
    let w = world(0, 4, now());
    fail_signal(&w, "queue q: does not exist");
    let r = run(&w, now(), true);
    assert_eq!(r.outcome, Outcome::Refused);
    assert!(r
        .error
        .unwrap()
        .contains("signal q: read failed: queue q: does not exist"));
}

#[test]
fn a_missing_worker_fleet_changes_nothing() {
    let w = world(120, 1, now());
    let other = TargetConfig {
        name: "ghost".into(),
        ..target()
    };
    let ports = Ports {
        metrics: &w.metrics,
        actuator: &w.workers,
        store: &w.store,
        audit: &w.audit,
    };
    let r = block_on_ready(reconcile(
        &other,
        now(),
        &ports,
        ReconcileOptions::default(),
    ));
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(r.error.unwrap().contains("ghost: no such worker fleet"));
    assert!(w.store.get("ghost").is_none());
    // No decision, but the failure is on record.
    let events = w.audit.events();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].kind, events[0].outcome),
        (AuditKind::ObserveError, Outcome::Failed)
    );
    assert!(events[0]
        .error
        .as_deref()
        .unwrap()
        .contains("no such worker fleet"));
}

fn run_with(w: &World, audit: &MemoryAuditSink, now: Timestamp) -> ReconcileReport {
    let ports = Ports {
        metrics: &w.metrics,
        actuator: &w.workers,
        store: &w.store,
        audit,
    };
    block_on_ready(reconcile(
        &target(),
        now,
        &ports,
        ReconcileOptions::default(),
    ))
}

fn set_backlog(w: &World, backlog: u64, now: Timestamp) {
    w.metrics.set(
        "orders",
        BTreeMap::from([(
            "q".to_string(),
            SignalReading::Ok {
                observed_at: now,
                measurement: Measurement::Sqs(SqsDepth {
                    visible: backlog,
                    in_flight: 0,
                    delayed: 0,
                    ..SqsDepth::default()
                }),
            },
        )]),
    );
}

#[test]
fn events_carry_a_stable_id_and_leave_the_outbox_once_delivered() {
    let w = world(120, 1, now());
    run(&w, now(), false);
    let event = &w.audit.events()[0];
    assert_eq!(event.id, "orders@2026-11-23T10:00:00Z#decision");
    assert_eq!(event.kind, AuditKind::Decision);
    assert!(w.store.get("orders").unwrap().outbox.is_empty());
}

#[test]
fn a_failing_destination_never_makes_a_healthy_one_receive_twice() {
    let w = world(120, 1, now());
    let audit = MemoryAuditSink::with_destinations(&["bus", "queue"]);
    audit.set_failing("queue", true);
    run_with(&w, &audit, now());
    // Pending for the queue only.
    let stored = w.store.get("orders").unwrap();
    assert_eq!(stored.outbox.len(), 1);
    assert_eq!(
        stored.outbox[0].delivered.iter().collect::<Vec<_>>(),
        vec!["bus"]
    );
    assert_eq!(stored.outbox[0].event.outcome, Outcome::Applied);
    // Two more ticks with the queue down, then it recovers.
    for minute in 1..=3 {
        if minute == 3 {
            audit.set_failing("queue", false);
        }
        let at = now() + jiff::SignedDuration::from_mins(minute);
        set_backlog(&w, 120, at);
        run_with(&w, &audit, at);
    }
    let ids = |d: &str| -> Vec<String> { audit.events_at(d).into_iter().map(|e| e.id).collect() };
    assert_eq!(ids("bus"), vec!["orders@2026-11-23T10:00:00Z#decision"]);
    assert_eq!(ids("queue"), ids("bus"), "the queue gets it late, once");
    assert_eq!(audit.events_at("queue")[0].outcome, Outcome::Applied);
    assert!(w.store.get("orders").unwrap().outbox.is_empty());
}

#[test]
fn a_down_destination_is_tried_once_per_reconcile_not_once_per_event() {
    let w = world(0, 4, now());
    fail_signal(&w, "queue q: timeout"); // every tick is a refusal worth auditing
    let audit = MemoryAuditSink::with_destinations(&["bus", "queue"]);
    audit.set_failing("queue", true);
    for minute in 0..5 {
        run_with(&w, &audit, now() + jiff::SignedDuration::from_mins(minute));
    }
    // Five pending events by the last tick, but each reconcile gave up on the
    // queue after one event's two attempts.
    assert_eq!(w.store.get("orders").unwrap().outbox.len(), 5);
    assert_eq!(audit.attempts_at("queue"), 5 * 2);
    assert_eq!(audit.events_at("bus").len(), 5);
}

#[test]
fn the_outbox_is_bounded_and_says_what_it_dropped() {
    let w = world(0, 4, now());
    fail_signal(&w, "queue q: timeout"); // every tick is a refusal worth auditing
    let audit = MemoryAuditSink::with_destinations(&["bus"]);
    audit.set_failing("bus", true);
    for minute in 0..(outbox::OUTBOX_MAX_EVENTS as i64 + 10) {
        run_with(&w, &audit, now() + jiff::SignedDuration::from_mins(minute));
        let pending = w.store.get("orders").unwrap().outbox;
        assert!(
            pending.len() <= outbox::OUTBOX_MAX_EVENTS,
            "{}",
            pending.len()
        );
    }
    let pending = w.store.get("orders").unwrap().outbox;
    let overflow: Vec<_> = pending
        .iter()
        .filter(|p| p.event.kind == AuditKind::OutboxOverflow)
        .collect();
    assert!(!overflow.is_empty());
    assert!(overflow[0]
        .event
        .error
        .as_deref()
        .unwrap()
        .contains("orders@2026-11-23T10:00:00Z#decision"));
    // Once the bus is back, the notices reach it with the newest events.
    audit.set_failing("bus", false);
    run_with(&w, &audit, now() + jiff::SignedDuration::from_hours(1));
    assert!(audit
        .events()
        .iter()
        .any(|e| e.kind == AuditKind::OutboxOverflow));
    assert!(w.store.get("orders").unwrap().outbox.is_empty());
}

#[test]
fn events_older_than_a_day_are_dropped_with_a_notice() {
    let w = world(120, 1, now());
    let audit = MemoryAuditSink::with_destinations(&["bus"]);
    audit.set_failing("bus", true);
    run_with(&w, &audit, now());
    audit.set_failing("bus", false);
    let later = now() + jiff::SignedDuration::from_hours(25);
    set_backlog(&w, 120, later);
    run_with(&w, &audit, later);
    let kinds: Vec<AuditKind> = audit.events().iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&AuditKind::OutboxOverflow), "{kinds:?}");
    assert!(!audit
        .events()
        .iter()
        .any(|e| e.id == "orders@2026-11-23T10:00:00Z#decision"));
}

#[test]
fn a_tick_already_claimed_is_not_acted_on_again() {
    let w = world(120, 1, now());
    assert_eq!(run(&w, now(), false).outcome, Outcome::Applied);
    // A second invocation of the same tick (or an older one) yields before
    // observing anything, even though the fleet could look unchanged to it.
    for at in [now(), now() - jiff::SignedDuration::from_secs(30)] {
        let again = run(&w, at, false);
        assert_eq!(again.outcome, Outcome::Yielded, "{again:?}");
        assert!(again.error.unwrap().contains("already claimed"));
    }
    assert_eq!(w.workers.calls().len(), 1);
    assert_eq!(w.store.get("orders").unwrap().version, 2);
}

#[test]
fn the_forecast_switching_itself_off_is_audited_once_although_nothing_moves() {
    // Steady load, nothing to change; the stored state says a 15-minute
    // period was in use, and the (flat) history no longer shows one.
    let mut t = target();
    t.policy.forecast.mode = crate::config::ForecastMode::ForecastAndScale;
    let w = world(0, 0, now());
    let mut state = crate::engine::TargetState {
        forecast_period: Some(15),
        ..Default::default()
    };
    for m in 0..60 {
        state
            .load_history
            .record(now() - jiff::SignedDuration::from_mins(60 - m), 3.0);
    }
    block_on_ready(w.store.save("orders", &state, &[], 0)).unwrap();
    let ports = Ports {
        metrics: &w.metrics,
        actuator: &w.workers,
        store: &w.store,
        audit: &w.audit,
    };
    let r = block_on_ready(reconcile(&t, now(), &ports, ReconcileOptions::default()));
    assert_eq!(r.outcome, Outcome::Unchanged, "{r:?}");
    let events = w.audit.events();
    assert_eq!(events.len(), 1, "{events:?}");
    assert!(
        events[0].notices[0].starts_with("forecast switched off (was a 15-minute period)"),
        "{:?}",
        events[0].notices
    );
    assert_eq!(w.store.get("orders").unwrap().state.forecast_period, None);

    // The next tick: still off, nothing to say.
    let later = now() + jiff::SignedDuration::from_mins(1);
    set_backlog(&w, 0, later);
    let r = block_on_ready(reconcile(&t, later, &ports, ReconcileOptions::default()));
    assert_eq!(r.outcome, Outcome::Unchanged, "{r:?}");
    assert_eq!(w.audit.events().len(), 1, "audited once");
}

/// A Lambda worker on alias `live` with a daily 09:00 UTC window of 8.
fn lambda_with_window() -> TargetConfig {
    let yaml = "cron: \"0 9 * * *\"\nduration: 1h\nmin: 8\nname: open\nlead: 5m\n";
    TargetConfig {
        worker: WorkerConfig::LambdaConcurrency(crate::config::LambdaFunctionWorker {
            function: "handler".into(),
            unreserved_at_max: false,
            qualifier: Some("live".into()),
        }),
        schedules: vec![serde_norway::from_str(yaml).unwrap()],
        aws: None,
        ..target()
    }
}

fn at(s: &str) -> Timestamp {
    format!("2026-11-23T{s}:00Z").parse().unwrap()
}

/// A reconcile of `t` at `time` (HH:MM) with an empty queue.
fn quiet_tick(w: &World, t: &TargetConfig, time: &str) -> ReconcileReport {
    set_backlog(w, 0, at(time));
    run_target(w, t, at(time), false)
}

#[test]
fn a_pre_warm_window_sets_provisioned_concurrency_and_removes_it_after() {
    let t = lambda_with_window();
    let w = world(0, 1, at("08:50"));
    let tick = |time: &str| quiet_tick(&w, &t, time);
    tick("08:50");
    assert!(w.workers.provisioned_calls().is_empty());
    // From lead (5 min) before the window: the floor, reserved and provisioned.
    let r = tick("08:55");
    assert_eq!(r.outcome, Outcome::Applied, "{r:?}");
    assert_eq!(w.workers.calls(), vec![("orders".to_string(), 8)]);
    assert_eq!(
        w.workers.provisioned_calls(),
        vec![("orders".to_string(), Some(8))]
    );
    assert_eq!(w.store.get("orders").unwrap().state.provisioned, Some(8));
    let event = w.audit.events().pop().unwrap();
    assert!(matches!(
        event.provisioned,
        Some(ProvisionedChange::Set { count: 8, .. })
    ));
    // Inside the window: already set, nothing asked again.
    tick("09:30");
    assert_eq!(w.workers.provisioned_calls().len(), 1);
    // The window ends: removed, and forgotten.
    let r = tick("10:00");
    assert_eq!(r.outcome, Outcome::Applied, "{r:?}");
    assert_eq!(
        w.workers.provisioned_calls()[1],
        ("orders".to_string(), None)
    );
    assert_eq!(w.store.get("orders").unwrap().state.provisioned, None);
    assert!(matches!(
        w.audit.events().pop().unwrap().provisioned,
        Some(ProvisionedChange::Remove { count: 8, .. })
    ));
}

#[test]
fn a_failed_removal_stays_owned_and_is_retried() {
    let t = lambda_with_window();
    let w = world(0, 1, at("09:00"));
    let tick = |time: &str| quiet_tick(&w, &t, time);
    tick("09:00");
    w.workers
        .fail_with(Some(PortError::new("handler:live", "throttled")));
    let r = tick("10:00");
    assert_eq!(r.outcome, Outcome::Failed);
    assert!(r
        .error
        .unwrap()
        .contains("removing provisioned concurrency"));
    // Still ours: without this the next tick would take it for someone else's.
    assert_eq!(w.store.get("orders").unwrap().state.provisioned, Some(8));
    w.workers.fail_with(None);
    tick("10:01");
    assert_eq!(w.workers.provisioned_calls().last().unwrap().1, None);
    assert_eq!(w.workers.get("orders").unwrap().provisioned, None);
}

#[test]
fn provisioned_concurrency_qscale_did_not_set_is_left_alone() {
    let t = lambda_with_window();
    let w = world(0, 1, at("10:00"));
    let mut fleet = w.workers.get("orders").unwrap();
    fleet.provisioned = Some(5);
    w.workers.set("orders", fleet);
    set_backlog(&w, 0, at("10:00"));
    run_target(&w, &t, at("10:00"), false);
    assert!(w.workers.provisioned_calls().is_empty());
    assert_eq!(w.workers.get("orders").unwrap().provisioned, Some(5));
}

/// Issue 28: a claimed tick far in the future (a skewed laptop's `run
/// --once`, a hand) must not make every invocation yield until then; one
/// within the allowed skew still yields.
#[test]
fn a_claim_beyond_the_clock_skew_is_not_believed() {
    for (ahead, expected) in [
        (jiff::SignedDuration::from_hours(24), Outcome::Applied),
        (jiff::SignedDuration::from_secs(60), Outcome::Yielded),
    ] {
        let w = world(120, 1, now());
        let state = crate::engine::TargetState {
            last_tick: Some(now() + ahead),
            ..crate::engine::TargetState::default()
        };
        block_on_ready(w.store.save("orders", &state, &[], 0)).unwrap();
        let r = run(&w, now(), false);
        assert_eq!(r.outcome, expected, "claimed {ahead} ahead: {r:?}");
    }
}

/// Requests between ticks (`min_interval`): a target reconciled less than
/// the interval ago yields; after it, the request reconciles.
#[test]
fn a_request_within_the_minimum_interval_yields() {
    let w = world(120, 1, now());
    assert_eq!(run(&w, now(), false).outcome, Outcome::Applied);
    let ports = Ports {
        metrics: &w.metrics,
        actuator: &w.workers,
        store: &w.store,
        audit: &w.audit,
    };
    let options = ReconcileOptions {
        min_interval: jiff::SignedDuration::from_secs(5),
        ..Default::default()
    };
    let soon = now() + jiff::SignedDuration::from_secs(3);
    let r = block_on_ready(reconcile(&target(), soon, &ports, options));
    assert_eq!(r.outcome, Outcome::Yielded);
    assert!(r.error.unwrap().contains("less than 5 s before"));
    let later = now() + jiff::SignedDuration::from_secs(6);
    set_backlog(&w, 120, later);
    let r = block_on_ready(reconcile(&target(), later, &ports, options));
    assert_ne!(r.outcome, Outcome::Yielded, "{r:?}");
}
