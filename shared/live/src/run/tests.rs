//! `reconcile_all` on in-memory ports: one target's panic or hang stays its own.

use std::collections::BTreeMap;

use super::*;
use qscale_core::config::PolicyConfig;
use qscale_core::engine::{Measurement, SignalReading, SqsDepth};
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

#[tokio::test]
async fn a_panicking_and_a_hung_target_fail_alone_and_the_others_apply() {
    let now: Timestamp = "2026-12-03T10:00:00Z".parse().unwrap();
    let names = ["a", "panics", "hangs", "b"];
    let metrics = Misbehaving(StaticMetrics::default());
    let workers = MemoryWorkers::default();
    let targets: Vec<TargetConfig> = names
        .iter()
        .map(|name| {
            metrics.0.set(
                name,
                BTreeMap::from([(
                    "q".to_string(),
                    SignalReading::Ok {
                        observed_at: now,
                        measurement: Measurement::Sqs(SqsDepth {
                            visible: 120,
                            in_flight: 0,
                            delayed: 0,
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
        .collect();
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
