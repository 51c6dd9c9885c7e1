//! `reconcile_all` on in-memory ports: one target's panic or hang stays its own.

use std::collections::BTreeMap;

use super::*;
use qscale_core::config::PolicyConfig;
use qscale_core::engine::{Measurement, SignalReading, SqsDepth};
use qscale_core::reconcile::breaker::DestinationBreaker;
use qscale_core::reconcile::memory::{
    MemoryAuditSink, MemoryStateStore, MemoryWorkers, StaticMetrics,
};
use qscale_core::reconcile::AuditKind;

/// Panics for target `panics`, never answers for target `hangs`.
struct Misbehaving(StaticMetrics);

impl MetricSource for Misbehaving {
    async fn read(&self, target: &TargetConfig, now: Timestamp) -> BTreeMap<String, SignalReading> {
        match target.name.as_str() {
            "panics" => panic!("a port bug"),
            "hangs" => std::future::pending().await,
            _ => self.0.read(target, now).await,
        }
    }
}

/// One ECS target per name, each with its own service at 1 worker and 120
/// messages waiting (it scales out).
fn fleet(
    names: &[&str],
    now: Timestamp,
    metrics: &StaticMetrics,
    workers: &MemoryWorkers,
) -> Vec<TargetConfig> {
    names
        .iter()
        .map(|name| {
            metrics.set(
                name,
                BTreeMap::from([(
                    "q".to_string(),
                    SignalReading::Ok {
                        observed_at: now,
                        measurement: Measurement::Sqs(SqsDepth {
                            visible: 120,
                            in_flight: 0,
                            delayed: 0,
                            ..SqsDepth::default()
                        }),
                    },
                )]),
            );
            workers.set(name, qscale_core::testing::steady_workers(1));
            let mut target = qscale_core::testing::ecs_target(
                name,
                PolicyConfig::with_target(0, 20, 10.0),
                vec![qscale_core::testing::sqs_signal("q")],
            );
            // One service per target, so each has its own count.
            if let qscale_core::config::WorkerConfig::Ecs(ecs) = &mut target.worker {
                ecs.service = name.to_string();
            }
            target
        })
        .collect()
}

#[tokio::test]
async fn a_panicking_and_a_hung_target_fail_alone_and_the_others_apply() {
    let now: Timestamp = "2026-12-03T10:00:00Z".parse().unwrap();
    let names = ["a", "panics", "hangs", "b"];
    let metrics = Misbehaving(StaticMetrics::default());
    let workers = MemoryWorkers::default();
    let targets = fleet(&names, now, &metrics.0, &workers);
    let store = MemoryStateStore::default();
    let audit = MemoryAuditSink::default();
    let ports = Ports {
        metrics: &metrics,
        actuator: &workers,
        store: &store,
        audit: &audit,
    };
    let runs = reconcile_all(
        &targets,
        now,
        &ports,
        ReconcileOptions::default(),
        4,
        Duration::from_millis(200),
    )
    .await;
    let outcomes: Vec<(&str, Outcome)> = runs
        .iter()
        .map(|r| (r.report.target.as_str(), r.report.outcome))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("a", Outcome::Applied),
            ("panics", Outcome::Failed),
            ("hangs", Outcome::Failed),
            ("b", Outcome::Applied)
        ]
    );
    let hung = runs[2].report.error.as_deref().unwrap();
    assert!(hung.contains("longer than its budget of 0.2 s"), "{hung}");
    let aborted: Vec<String> = audit
        .events()
        .into_iter()
        .filter(|e| e.kind == AuditKind::Aborted)
        .map(|e| e.target)
        .collect();
    assert_eq!(aborted, vec!["panics".to_string(), "hangs".to_string()]);
    assert_eq!(workers.calls().len(), 2, "a and b set their count");
}

/// Destination `dark` answers nothing for 300 ms, then fails (a blackholed
/// endpoint behind the SDK's timeout); `lit` takes every event.
#[derive(Default)]
struct HalfDark {
    dark_calls: std::sync::atomic::AtomicUsize,
    lit: std::sync::Mutex<Vec<String>>,
}

impl AuditSink for HalfDark {
    fn destinations(&self) -> Vec<String> {
        vec!["dark".into(), "lit".into()]
    }

    async fn publish(
        &self,
        destination: &str,
        event: &qscale_core::reconcile::AuditEvent,
    ) -> Result<(), qscale_core::reconcile::PortError> {
        if destination == "dark" {
            self.dark_calls
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(300)).await;
            return Err(qscale_core::reconcile::PortError::new(
                "dark-queue",
                "timed out",
            ));
        }
        self.lit.lock().unwrap().push(event.id.clone());
        Ok(())
    }
}

#[tokio::test]
async fn a_dark_destination_costs_its_timeout_once_per_run_not_once_per_target() {
    let now: Timestamp = "2026-12-03T10:00:00Z".parse().unwrap();
    let names: Vec<String> = (0..40).map(|i| format!("t{i:02}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (metrics, workers) = (StaticMetrics::default(), MemoryWorkers::default());
    let targets = fleet(&names, now, &metrics, &workers);
    let (store, sink) = (MemoryStateStore::default(), HalfDark::default());
    let audit = DestinationBreaker::new(&sink);
    let ports = Ports {
        metrics: &metrics,
        actuator: &workers,
        store: &store,
        audit: &audit,
    };
    let runs = reconcile_all(
        &targets,
        now,
        &ports,
        ReconcileOptions::default(),
        16,
        Duration::from_secs(40),
    )
    .await;
    assert!(runs.iter().all(|r| r.report.outcome == Outcome::Applied));
    // Only the first 16, already waiting on it when it failed, tried it
    // (once each: the retry is not tried either); 80 without the breaker.
    let dark = sink.dark_calls.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        (1..=16).contains(&dark),
        "{dark} calls to the dark destination"
    );
    assert_eq!(
        sink.lit.lock().unwrap().len(),
        40,
        "the other destination got every event"
    );
    assert_eq!(
        audit.open_destinations().keys().collect::<Vec<_>>(),
        ["dark"]
    );
    // Nothing is lost: each event waits in its target's outbox for `dark`.
    for name in &names {
        let state = store.get(name).unwrap();
        assert_eq!(state.outbox.len(), 1, "{name}");
        assert!(state.outbox[0].delivered.contains("lit"), "{name}");
    }
}
