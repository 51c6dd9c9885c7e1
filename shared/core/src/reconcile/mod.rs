//! The imperative shell around `decide`: load state, observe, decide, claim
//! the tick by a versioned write, act, audit. The Lambdas, the CLI and the
//! simulator all run this same function; only the adapters differ.

mod audit;
pub mod memory;
mod ports;

use jiff::Timestamp;
use serde::Serialize;

pub use audit::{AuditEvent, AuditInput, Outcome, AUDIT_SCHEMA_VERSION};
pub use ports::{
    AuditSink, Clock, MetricSource, PortError, SaveError, StateStore, SystemClock, VersionedState,
    WorkerActuator,
};

use crate::config::TargetConfig;
use crate::engine::{decide, Decision, Direction, Observations};

/// How a reconcile may act.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReconcileOptions {
    /// Decide and audit, change nothing (no state write, no actuation).
    pub dry_run: bool,
}

/// The adapters one reconcile uses.
pub struct Ports<'a, M, A, S, U> {
    /// Signals.
    pub metrics: &'a M,
    /// Workers.
    pub actuator: &'a A,
    /// State.
    pub store: &'a S,
    /// Audit.
    pub audit: &'a U,
}

/// What one reconcile did.
#[derive(Debug, Clone, Serialize)]
pub struct ReconcileReport {
    /// Target name.
    pub target: String,
    /// Outcome.
    pub outcome: Outcome,
    /// The decision, when one was made.
    pub decision: Option<Decision>,
    /// The error, when something failed.
    pub error: Option<String>,
}

/// Reconciles one target at `now`.
///
/// Two invocations can never both act on one target: the new state (which
/// records the action) is written conditionally on the version read *before*
/// acting, and the loser of that race yields. A failed actuation is removed
/// from the state again. Errors never escape: they are in the report and the
/// audit stream.
pub async fn reconcile<M, A, S, U>(
    target: &TargetConfig,
    now: Timestamp,
    ports: &Ports<'_, M, A, S, U>,
    options: ReconcileOptions,
) -> ReconcileReport
where
    M: MetricSource,
    A: WorkerActuator,
    S: StateStore,
    U: AuditSink,
{
    let fail = |error: String| ReconcileReport {
        target: target.name.clone(),
        outcome: Outcome::Failed,
        decision: None,
        error: Some(error),
    };
    let loaded = match ports.store.load(&target.name).await {
        Ok(v) => v,
        Err(e) => {
            // Unreadable or corrupted state: no action, and the audit trail says why.
            let error = format!("loading state: {e}");
            let event = AuditEvent::failure_before_decision(&target.name, now, error.clone());
            publish_audit(ports.audit, &event).await;
            return fail(error);
        }
    };
    let worker = match ports.actuator.observe(target).await {
        Ok(w) => w,
        Err(e) => return fail(format!("observing workers: {e}")),
    };
    let signals = ports.metrics.read(target, now).await;
    let mut decision = decide(
        target,
        &loaded.state,
        &Observations { worker, signals },
        now,
    );

    let untrusted = decision.signals.iter().any(|s| !s.trusted);
    let wants_change =
        decision.direction != Direction::None || !decision.partition_requests.is_empty();
    let unchanged = if untrusted {
        Outcome::Refused
    } else {
        Outcome::Unchanged
    };
    let (outcome, error) = if options.dry_run {
        (
            if wants_change {
                Outcome::DryRun
            } else {
                unchanged
            },
            None,
        )
    } else {
        match ports
            .store
            .save(&target.name, &decision.next_state, loaded.version)
            .await
        {
            Err(SaveError::Conflict { .. }) => (
                Outcome::Yielded,
                Some("another invocation reconciled this target first".to_string()),
            ),
            Err(SaveError::Store(e)) => (
                Outcome::Failed,
                Some(format!("saving state (nothing changed): {e}")),
            ),
            Ok(version) if wants_change => act(target, &mut decision, ports, version, now).await,
            Ok(_) => (unchanged, None),
        }
    };

    // Name what could not be trusted, so the summary says why nothing moved.
    let error = error.or_else(|| {
        let why: Vec<String> = decision
            .signals
            .iter()
            .filter(|s| !s.trusted)
            .map(|s| format!("signal {}: {}", s.signal, s.detail))
            .collect();
        (!why.is_empty()).then(|| why.join("; "))
    });
    let worth_auditing = wants_change || untrusted || outcome == Outcome::Failed;
    if worth_auditing {
        let event = AuditEvent::from_decision(&decision, outcome, error.clone());
        publish_audit(ports.audit, &event).await;
    }
    ReconcileReport {
        target: target.name.clone(),
        outcome,
        decision: Some(decision),
        error,
    }
}

async fn act<M, A, S, U>(
    target: &TargetConfig,
    decision: &mut Decision,
    ports: &Ports<'_, M, A, S, U>,
    version: u64,
    now: Timestamp,
) -> (Outcome, Option<String>)
where
    M: MetricSource,
    A: WorkerActuator,
    S: StateStore,
    U: AuditSink,
{
    let mut errors = Vec::new();
    for request in &decision.partition_requests {
        if let Err(e) = ports.actuator.grow_partitions(target, request).await {
            errors.push(format!("growing partitions: {e}"));
        }
    }
    if decision.direction != Direction::None {
        if let Err(e) = ports.actuator.set_desired(target, decision.desired).await {
            errors.push(format!("setting desired count: {e}"));
            // The action did not happen: cooldowns and rate limits must not count it.
            decision.next_state.forget_action(now);
            if let Err(save) = ports
                .store
                .save(&target.name, &decision.next_state, version)
                .await
            {
                errors.push(format!("recording the failure: {save}"));
            }
        }
    }
    if errors.is_empty() {
        (Outcome::Applied, None)
    } else {
        (Outcome::Failed, Some(errors.join("; ")))
    }
}

/// Delivers an audit event, retrying once; an event that still cannot be
/// delivered is logged in full as an error, never dropped silently.
pub async fn publish_audit<U: AuditSink>(sink: &U, event: &AuditEvent) {
    let mut last = None;
    for _ in 0..2 {
        match sink.publish(event).await {
            Ok(()) => return,
            Err(e) => last = Some(e),
        }
    }
    let body = serde_json::to_string(event).unwrap_or_default();
    tracing::error!(error = %last.map(|e| e.to_string()).unwrap_or_default(), event = %body, "audit event not delivered");
}

#[cfg(test)]
mod tests;
