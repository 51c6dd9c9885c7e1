use std::collections::BTreeMap;

use jiff::Timestamp;

use super::memory::{
    block_on_ready, MemoryAuditSink, MemoryStateStore, MemoryWorkers, StaticMetrics,
};
use super::*;
use crate::config::{EcsWorker, PolicyConfig, SignalConfig, SqsSignal, TargetConfig, WorkerConfig};
use crate::engine::{Measurement, SignalReading, SqsDepth, WorkerObservation};

fn target() -> TargetConfig {
    TargetConfig {
        name: "orders".into(),
        signals: vec![SignalConfig::Sqs(SqsSignal {
            name: "q".into(),
            queue: "q".into(),
            include_in_flight: true,
            include_delayed: false,
            in_flight_per_worker: 1,
        })],
        worker: WorkerConfig::Ecs(EcsWorker {
            cluster: "c".into(),
            service: "s".into(),
        }),
        policy: PolicyConfig::with_target(0, 20, 10.0),
        schedules: vec![],
    }
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
                }),
            },
        )]),
    );
    w.workers.set(
        "orders",
        WorkerObservation {
            desired,
            running: desired,
            pending: 0,
            deployment_in_progress: false,
        },
    );
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
    let ports = Ports {
        metrics: &w.metrics,
        actuator: &w.workers,
        store: &w.store,
        audit: &w.audit,
    };
    block_on_ready(reconcile(
        &target(),
        now,
        &ports,
        ReconcileOptions { dry_run },
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
    assert_eq!(stored.version, 1);
    assert_eq!(stored.state.actions.len(), 1);
    let events = w.audit.events();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].previous, events[0].desired, events[0].outcome),
        (1, 12, Outcome::Applied)
    );
    assert_eq!(events[0].inputs[0].backlog, Some(120));
}

#[test]
fn dry_run_changes_nothing_but_audits() {
    let w = world(120, 1, now());
    let r = run(&w, now(), true);
    assert_eq!(r.outcome, Outcome::DryRun);
    assert!(w.workers.calls().is_empty());
    assert!(w.store.get("orders").is_none());
    assert_eq!(w.audit.events()[0].outcome, Outcome::DryRun);
}

/// A store where a rival invocation writes right after every load.
struct RacingStore(MemoryStateStore);

impl StateStore for RacingStore {
    async fn load(&self, target: &str) -> Result<VersionedState, PortError> {
        let loaded = self.0.load(target).await?;
        self.0
            .save(target, &loaded.state, loaded.version)
            .await
            .unwrap();
        Ok(loaded)
    }
    async fn save(
        &self,
        target: &str,
        state: &crate::engine::TargetState,
        expected: u64,
    ) -> Result<u64, SaveError> {
        self.0.save(target, state, expected).await
    }
}

#[test]
fn the_loser_of_a_concurrent_reconcile_yields_without_acting() {
    let w = world(120, 1, now());
    let store = RacingStore(MemoryStateStore::default());
    let ports = Ports {
        metrics: &w.metrics,
        actuator: &w.workers,
        store: &store,
        audit: &w.audit,
    };
    let r = block_on_ready(reconcile(
        &target(),
        now(),
        &ports,
        ReconcileOptions::default(),
    ));
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
    assert!(w.store.get("orders").unwrap().state.actions.is_empty());
    assert_eq!(w.audit.events()[0].outcome, Outcome::Failed);
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
}
