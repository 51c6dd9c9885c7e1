//! Simulated adapters for the reconcile ports: the same `reconcile` the
//! Lambdas run reads and scales the simulated world through these.

use std::collections::BTreeMap;
use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

use super::world::World;
use qscale_core::config::TargetConfig;
use qscale_core::engine::{SignalReading, WorkerObservation};
use qscale_core::reconcile::{AuditEvent, AuditSink, MetricSource, PortError, WorkerActuator};

/// How a metric source sees the world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricRead {
    /// The queue's own API (GetQueueAttributes, ListOffsets), `delay_s` late.
    Live {
        /// Seconds late.
        delay_s: u32,
    },
    /// One-minute CloudWatch datapoints, available a minute late.
    CloudWatchMinute,
}

/// Reads the world as the chosen metric source would.
pub struct SimMetrics<'a> {
    /// The world.
    pub world: &'a Mutex<World>,
    /// Live API or CloudWatch.
    pub read: MetricRead,
}

impl MetricSource for SimMetrics<'_> {
    async fn read(&self, target: &TargetConfig, now: Timestamp) -> BTreeMap<String, SignalReading> {
        let world = self.world.lock().unwrap();
        let (snap, late_s) = match self.read {
            MetricRead::Live { delay_s } => (world.snapshot(delay_s).clone(), delay_s),
            MetricRead::CloudWatchMinute => (world.cloudwatch_minute(), 60),
        };
        let observed_at = now - SignedDuration::from_secs(late_s as i64);
        target
            .signals
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    s.name().to_string(),
                    SignalReading::Ok {
                        observed_at,
                        measurement: snap.reading(i, s),
                    },
                )
            })
            .collect()
    }
}

/// Scales the simulated fleet.
pub struct SimActuator<'a> {
    /// The world.
    pub world: &'a Mutex<World>,
}

impl WorkerActuator for SimActuator<'_> {
    async fn observe(&self, _target: &TargetConfig) -> Result<WorkerObservation, PortError> {
        Ok(self.world.lock().unwrap().observe())
    }

    async fn set_desired(&self, _target: &TargetConfig, desired: u32) -> Result<(), PortError> {
        self.world.lock().unwrap().set_desired(desired);
        Ok(())
    }

    async fn set_provisioned(
        &self,
        _target: &TargetConfig,
        count: Option<u32>,
    ) -> Result<(), PortError> {
        self.world.lock().unwrap().set_provisioned(count);
        Ok(())
    }

    async fn set_spillover(&self, _target: &TargetConfig, count: u32) -> Result<(), PortError> {
        self.world.lock().unwrap().set_spillover(count);
        Ok(())
    }

    async fn grow_partitions(
        &self,
        _target: &TargetConfig,
        request: &qscale_core::engine::PartitionRequest,
    ) -> Result<(), PortError> {
        // The simulated queue has no partitions.
        Err(PortError::cannot_grow_partitions(request))
    }
}

/// Counts audit events; keeps them only when asked (a day has thousands).
#[derive(Default)]
pub struct CountingAudit {
    /// Events seen.
    pub count: std::sync::atomic::AtomicU64,
    /// The events, when kept.
    pub kept: Option<Mutex<Vec<AuditEvent>>>,
}

impl AuditSink for CountingAudit {
    fn destinations(&self) -> Vec<String> {
        vec!["count".to_string()]
    }

    async fn publish(&self, _destination: &str, event: &AuditEvent) -> Result<(), PortError> {
        self.count
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Some(kept) = &self.kept {
            kept.lock().unwrap().push(event.clone());
        }
        Ok(())
    }
}
