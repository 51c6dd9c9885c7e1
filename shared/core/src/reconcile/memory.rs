//! In-memory adapters: for unit tests and the simulator.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use super::audit::{AuditEvent, PendingAudit};
use super::ports::{AuditSink, PortError, SaveError, StateStore, VersionedState};
use crate::engine::TargetState;

/// Versioned state per target in a map.
#[derive(Debug, Default)]
pub struct MemoryStateStore {
    items: Mutex<BTreeMap<String, VersionedState>>,
}

impl MemoryStateStore {
    /// The stored state of a target.
    pub fn get(&self, target: &str) -> Option<VersionedState> {
        self.items.lock().unwrap().get(target).cloned()
    }
}

impl StateStore for MemoryStateStore {
    async fn load(&self, target: &str) -> Result<VersionedState, PortError> {
        Ok(self.get(target).unwrap_or_default())
    }

    async fn save(
        &self,
        target: &str,
        state: &TargetState,
        outbox: &[PendingAudit],
        expected: u64,
    ) -> Result<u64, SaveError> {
        let mut items = self.items.lock().unwrap();
        let current = items.get(target).map_or(0, |v| v.version);
        if current != expected {
            return Err(SaveError::Conflict {
                target: target.to_string(),
                expected,
            });
        }
        let version = expected + 1;
        items.insert(
            target.to_string(),
            VersionedState {
                state: state.clone(),
                outbox: outbox.to_vec(),
                version,
            },
        );
        Ok(version)
    }
}

/// Collects audit events per destination; a destination can be told to fail.
#[derive(Debug)]
pub struct MemoryAuditSink {
    destinations: Vec<String>,
    delivered: Mutex<Vec<(String, AuditEvent)>>,
    failing: Mutex<BTreeSet<String>>,
    attempts: Mutex<BTreeMap<String, usize>>,
}

impl Default for MemoryAuditSink {
    fn default() -> Self {
        MemoryAuditSink::with_destinations(&["memory"])
    }
}

impl MemoryAuditSink {
    /// A sink with these destinations.
    pub fn with_destinations(names: &[&str]) -> Self {
        MemoryAuditSink {
            destinations: names.iter().map(|n| n.to_string()).collect(),
            delivered: Mutex::new(Vec::new()),
            failing: Mutex::new(BTreeSet::new()),
            attempts: Mutex::new(BTreeMap::new()),
        }
    }

    /// Every event delivered to the first destination, in order.
    pub fn events(&self) -> Vec<AuditEvent> {
        self.events_at(&self.destinations[0])
    }

    /// Every event delivered to `destination`, in order (duplicates included).
    pub fn events_at(&self, destination: &str) -> Vec<AuditEvent> {
        self.delivered
            .lock()
            .unwrap()
            .iter()
            .filter(|(d, _)| d == destination)
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// Publish calls to `destination` so far, failed ones included.
    pub fn attempts_at(&self, destination: &str) -> usize {
        self.attempts
            .lock()
            .unwrap()
            .get(destination)
            .copied()
            .unwrap_or(0)
    }

    /// Makes `destination` refuse every event (or accept them again).
    pub fn set_failing(&self, destination: &str, failing: bool) {
        let mut set = self.failing.lock().unwrap();
        if failing {
            set.insert(destination.to_string());
        } else {
            set.remove(destination);
        }
    }
}

impl AuditSink for MemoryAuditSink {
    fn destinations(&self) -> Vec<String> {
        self.destinations.clone()
    }

    async fn publish(&self, destination: &str, event: &AuditEvent) -> Result<(), PortError> {
        *self
            .attempts
            .lock()
            .unwrap()
            .entry(destination.to_string())
            .or_default() += 1;
        if self.failing.lock().unwrap().contains(destination) {
            return Err(PortError::new(destination, "unavailable"));
        }
        self.delivered
            .lock()
            .unwrap()
            .push((destination.to_string(), event.clone()));
        Ok(())
    }
}

/// Runs a future whose adapters never wait (in-memory and simulated ones)
/// to completion without a runtime.
///
/// # Panics
/// If the future is not ready at once: only in-memory adapters belong here.
pub fn block_on_ready<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("block_on_ready: a future waited; use a real runtime"),
    }
}

/// Fixed readings per target, set by the test.
#[derive(Debug, Default)]
pub struct StaticMetrics {
    readings: Mutex<BTreeMap<String, BTreeMap<String, crate::engine::SignalReading>>>,
}

impl StaticMetrics {
    /// Sets what `read` returns for a target.
    pub fn set(&self, target: &str, readings: BTreeMap<String, crate::engine::SignalReading>) {
        self.readings
            .lock()
            .unwrap()
            .insert(target.to_string(), readings);
    }
}

impl super::ports::MetricSource for StaticMetrics {
    async fn read(
        &self,
        target: &crate::config::TargetConfig,
        _now: jiff::Timestamp,
    ) -> BTreeMap<String, crate::engine::SignalReading> {
        self.readings
            .lock()
            .unwrap()
            .get(&target.name)
            .cloned()
            .unwrap_or_default()
    }
}

/// Worker counts per target; records every `set_desired` and
/// `set_provisioned`; can be told to fail.
#[derive(Debug, Default)]
pub struct MemoryWorkers {
    workers: Mutex<BTreeMap<String, crate::engine::WorkerObservation>>,
    calls: Mutex<Vec<(String, u32)>>,
    provisioned_calls: Mutex<Vec<(String, Option<u32>)>>,
    failing: Mutex<Option<PortError>>,
    losing_answers: Mutex<Option<PortError>>,
}

impl MemoryWorkers {
    /// Sets a target's fleet.
    pub fn set(&self, target: &str, w: crate::engine::WorkerObservation) {
        self.workers.lock().unwrap().insert(target.to_string(), w);
    }
    /// A target's fleet.
    pub fn get(&self, target: &str) -> Option<crate::engine::WorkerObservation> {
        self.workers.lock().unwrap().get(target).copied()
    }
    /// Every `set_desired` call so far.
    pub fn calls(&self) -> Vec<(String, u32)> {
        self.calls.lock().unwrap().clone()
    }
    /// Every `set_provisioned` call so far.
    pub fn provisioned_calls(&self) -> Vec<(String, Option<u32>)> {
        self.provisioned_calls.lock().unwrap().clone()
    }
    /// Makes `set_desired` and `set_provisioned` fail (or succeed again with `None`).
    pub fn fail_with(&self, e: Option<PortError>) {
        *self.failing.lock().unwrap() = e;
    }
    /// Makes `set_desired` take effect and then answer with `e` (an answer
    /// lost on the way back), or answer normally again with `None`.
    pub fn lose_answers_with(&self, e: Option<PortError>) {
        *self.losing_answers.lock().unwrap() = e;
    }
}

impl super::ports::WorkerActuator for MemoryWorkers {
    async fn observe(
        &self,
        target: &crate::config::TargetConfig,
    ) -> Result<crate::engine::WorkerObservation, PortError> {
        self.get(&target.name)
            .ok_or_else(|| PortError::new(target.name.clone(), "no such worker fleet"))
    }

    async fn set_desired(
        &self,
        target: &crate::config::TargetConfig,
        desired: u32,
    ) -> Result<(), PortError> {
        if let Some(e) = self.failing.lock().unwrap().clone() {
            return Err(e);
        }
        self.calls
            .lock()
            .unwrap()
            .push((target.name.clone(), desired));
        let mut workers = self.workers.lock().unwrap();
        let w = workers.entry(target.name.clone()).or_default();
        w.desired = desired;
        w.running = desired;
        match self.losing_answers.lock().unwrap().clone() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    async fn set_provisioned(
        &self,
        target: &crate::config::TargetConfig,
        count: Option<u32>,
    ) -> Result<(), PortError> {
        if let Some(e) = self.failing.lock().unwrap().clone() {
            return Err(e);
        }
        self.provisioned_calls
            .lock()
            .unwrap()
            .push((target.name.clone(), count));
        let mut workers = self.workers.lock().unwrap();
        workers.entry(target.name.clone()).or_default().provisioned = count;
        Ok(())
    }

    async fn set_spillover(
        &self,
        target: &crate::config::TargetConfig,
        count: u32,
    ) -> Result<(), PortError> {
        if let Some(e) = self.failing.lock().unwrap().clone() {
            return Err(e);
        }
        let mut workers = self.workers.lock().unwrap();
        workers.entry(target.name.clone()).or_default().spillover = Some(count);
        Ok(())
    }

    async fn grow_partitions(
        &self,
        _target: &crate::config::TargetConfig,
        request: &crate::engine::PartitionRequest,
    ) -> Result<(), PortError> {
        Err(PortError::cannot_grow_partitions(request))
    }
}
