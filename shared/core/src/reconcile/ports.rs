//! The small traits between the pure core and the world. Each has a real
//! implementation (AWS SDK, rdkafka) and an in-memory or simulated one.

use std::collections::BTreeMap;
use std::future::Future;

use jiff::Timestamp;

use super::audit::{AuditEvent, PendingAudit};
use crate::config::TargetConfig;
use crate::engine::{PartitionRequest, SignalReading, TargetState, WorkerObservation};

/// A failure of one call to the world, naming the resource.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{resource}: {message}")]
pub struct PortError {
    /// The queue, service, table or topic concerned.
    pub resource: String,
    /// What went wrong.
    pub message: String,
}

impl PortError {
    /// A new error about `resource`.
    pub fn new(resource: impl Into<String>, message: impl Into<String>) -> Self {
        PortError {
            resource: resource.into(),
            message: message.into(),
        }
    }
}

/// Reads every signal of a target. A signal that cannot be read is a
/// `SignalReading::Failed` naming the resource, never a missing entry.
pub trait MetricSource: Sync {
    /// One reading per configured signal, by signal name.
    fn read(
        &self,
        target: &TargetConfig,
        now: Timestamp,
    ) -> impl Future<Output = BTreeMap<String, SignalReading>> + Send;
}

/// Observes and sets a target's worker count.
pub trait WorkerActuator: Sync {
    /// The fleet as it is now.
    fn observe(
        &self,
        target: &TargetConfig,
    ) -> impl Future<Output = Result<WorkerObservation, PortError>> + Send;

    /// Sets the worker count. Called only when it differs from the observed one.
    fn set_desired(
        &self,
        target: &TargetConfig,
        desired: u32,
    ) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Grows a topic's partitions; adapters without Kafka refuse
    /// ([`PortError::cannot_grow_partitions`]). No default: a composed
    /// adapter that forgot to forward it would refuse in production.
    fn grow_partitions(
        &self,
        target: &TargetConfig,
        request: &PartitionRequest,
    ) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Sets (`Some`) or removes (`None`) provisioned concurrency on the
    /// worker's qualifier; adapters without Lambda refuse. No default, for
    /// the same reason.
    fn set_provisioned(
        &self,
        target: &TargetConfig,
        count: Option<u32>,
    ) -> impl Future<Output = Result<(), PortError>> + Send;

    /// Sets the desired count of the worker's `spillover` sibling service;
    /// adapters without ECS refuse. No default, for the same reason.
    fn set_spillover(
        &self,
        target: &TargetConfig,
        count: u32,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

impl PortError {
    /// What an actuator without Kafka answers a partition request.
    pub fn cannot_grow_partitions(request: &PartitionRequest) -> PortError {
        PortError::new(
            request.signal.clone(),
            "this actuator cannot grow Kafka partitions",
        )
    }
}

/// State with the version it was read at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VersionedState {
    /// The state.
    pub state: TargetState,
    /// Audit events claimed by earlier ticks and not yet delivered everywhere.
    pub outbox: Vec<PendingAudit>,
    /// 0 when the target has no state yet.
    pub version: u64,
}

/// Why a save failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SaveError {
    /// Someone else wrote since we read: they own this tick.
    #[error("state of {target} changed since version {expected}")]
    Conflict {
        /// Target name.
        target: String,
        /// Version we read.
        expected: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] PortError),
}

/// Per-target state, written only if the version is still the one read.
pub trait StateStore: Sync {
    /// Current state, outbox and version (default state, version 0, if none).
    fn load(&self, target: &str) -> impl Future<Output = Result<VersionedState, PortError>> + Send;

    /// Writes `state` and `outbox` together if the stored version is still
    /// `expected`; returns the new version.
    fn save(
        &self,
        target: &str,
        state: &TargetState,
        outbox: &[PendingAudit],
        expected: u64,
    ) -> impl Future<Output = Result<u64, SaveError>> + Send;
}

/// Where audit events go: one or more destinations, each acknowledging on
/// its own, so one that fails never makes another receive an event twice.
pub trait AuditSink: Sync {
    /// Stable names of the destinations (they are recorded in the outbox).
    fn destinations(&self) -> Vec<String>;

    /// Delivers one event to one of [`AuditSink::destinations`].
    fn publish(
        &self,
        destination: &str,
        event: &AuditEvent,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}
