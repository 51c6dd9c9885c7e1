//! qscale itself, through the production reconcile path on simulated adapters.

use std::sync::Mutex;

use jiff::Timestamp;

use super::autoscaler::Autoscaler;
use crate::adapters::{CountingAudit, MetricRead, SimActuator, SimMetrics};
use crate::world::World;
use qscale_core::config::TargetConfig;
use qscale_core::reconcile::memory::{block_on_ready, MemoryStateStore};
use qscale_core::reconcile::{reconcile, AuditEvent, Ports, ReconcileOptions};

/// qscale: the production reconcile (state store, audit, decide) on simulated adapters.
pub struct Qscale {
    /// Name in reports.
    pub label: String,
    /// The target as configured.
    pub target: TargetConfig,
    /// Tick interval from the config.
    pub interval_s: u32,
    /// How qscale's metric source sees the world.
    pub metric_read: MetricRead,
    store: MemoryStateStore,
    audit: CountingAudit,
}

impl Qscale {
    /// qscale on `target`.
    pub fn new(
        label: &str,
        target: TargetConfig,
        interval_s: u32,
        metric_read: MetricRead,
    ) -> Self {
        Qscale {
            label: label.to_string(),
            target,
            interval_s,
            metric_read,
            store: MemoryStateStore::default(),
            audit: CountingAudit::default(),
        }
    }

    /// Keeps the audit events it publishes (for `audit_events`).
    pub fn keeping_audit(mut self) -> Self {
        self.audit.kept = Some(Mutex::new(Vec::new()));
        self
    }

    /// The audit events published so far, when kept.
    pub fn audit_events(&self) -> Vec<AuditEvent> {
        self.audit
            .kept
            .as_ref()
            .map(|k| k.lock().unwrap().clone())
            .unwrap_or_default()
    }
}

impl Autoscaler for Qscale {
    fn name(&self) -> String {
        self.label.clone()
    }
    fn interval_s(&self) -> u32 {
        self.interval_s
    }
    fn tick(&mut self, world: &Mutex<World>, now: Timestamp, _t: u32) {
        let metrics = SimMetrics {
            world,
            read: self.metric_read,
        };
        let actuator = SimActuator { world };
        let ports = Ports {
            metrics: &metrics,
            actuator: &actuator,
            store: &self.store,
            audit: &self.audit,
        };
        block_on_ready(reconcile(
            &self.target,
            now,
            &ports,
            ReconcileOptions::default(),
        ));
    }
}
