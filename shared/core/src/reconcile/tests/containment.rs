//! One target's panic stays with that target (issue 28): its report is
//! `Failed` with the panic's message and an `aborted` event is audited; the
//! next target, on the same ports, is applied.

use super::*;

/// Reads like `StaticMetrics`, but panics for the target `panics`.
struct PanickingFor<'a> {
    inner: &'a StaticMetrics,
}

impl MetricSource for PanickingFor<'_> {
    async fn read(&self, target: &TargetConfig, now: Timestamp) -> BTreeMap<String, SignalReading> {
        if target.name == "panics" {
            panic!("a port bug for {}", target.name);
        }
        self.inner.read(target, now).await
    }
}

#[test]
fn a_panicking_target_fails_alone_and_the_next_is_applied() {
    let w = world(120, 1, now());
    let metrics = PanickingFor { inner: &w.metrics };
    let ports = Ports {
        metrics: &metrics,
        actuator: &w.workers,
        store: &w.store,
        audit: &w.audit,
    };
    let mut bad = target();
    bad.name = "panics".into();
    w.workers.set("panics", crate::testing::steady_workers(1));
    let options = ReconcileOptions::default();

    let failed = block_on_ready(reconcile_contained(&bad, now(), &ports, options));
    assert_eq!(failed.outcome, Outcome::Failed);
    let error = failed.error.unwrap();
    assert!(
        error.contains("reconcile panicked: a port bug for panics"),
        "{error}"
    );

    let applied = block_on_ready(reconcile_contained(&target(), now(), &ports, options));
    assert_eq!(applied.outcome, Outcome::Applied, "{applied:?}");
    assert_eq!(w.workers.calls(), vec![("orders".to_string(), 12)]);

    let kinds: Vec<(String, AuditKind)> = w
        .audit
        .events()
        .into_iter()
        .map(|e| (e.target, e.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("panics".to_string(), AuditKind::Aborted),
            ("orders".to_string(), AuditKind::Decision)
        ]
    );
}
