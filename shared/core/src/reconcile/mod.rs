//! The imperative shell around `decide`: load state, observe, decide, claim
//! the tick (and its audit event, in the outbox) by a versioned write, act,
//! deliver the outbox. The Lambdas, the CLI and the simulator all run this
//! same function; only the adapters differ.

mod audit;
pub mod breaker;
mod claim;
pub mod item_budget;
mod join;
pub mod memory;
pub mod outbox;
pub mod pause;
mod ports;
pub mod register;
pub mod status;
mod unwind;

use jiff::Timestamp;
use serde::Serialize;

pub use audit::{audit_id, AuditEvent, AuditInput, AuditKind, Outcome, AUDIT_SCHEMA_VERSION};
pub use outbox::PendingAudit;
pub use ports::{
    AuditSink, MetricSource, PortError, SaveError, StateStore, VersionedState, WorkerActuator,
};

use crate::config::TargetConfig;
use crate::engine::{decide, Decision, Direction, Observations, ProvisionedChange};
pub use claim::MAX_CLOCK_SKEW;
use claim::{claim_failure, Triage};
use unwind::CatchUnwind;

/// How a reconcile may act.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReconcileOptions {
    /// Decide and audit, change nothing (no state write, no actuation).
    pub dry_run: bool,
    /// Yield when the target was reconciled less than this long ago (0:
    /// only a tick claimed already yields). Requests between ticks use it,
    /// so a flood of them reconciles a target at most once per interval.
    pub min_interval: jiff::SignedDuration,
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
    /// Audit events published here whose delivery could not be recorded in
    /// the state: the next reconcile publishes them again (at least once).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unrecorded_deliveries: Vec<String>,
}

/// Reconciles one target at `now`.
///
/// Two invocations can never both act on one target: the new state (which
/// records the action) is written conditionally on the version read *before*
/// acting, and the loser of that race yields. The same write puts the tick's
/// audit event into the target's outbox, so an invocation that dies after
/// it loses no event: the next reconcile publishes it. A failed actuation
/// stays in the state as unconfirmed (its answer may have been lost after it
/// took effect) until the next decision sees the fleet's count. Errors never
/// escape: they are in the report
/// and the audit stream.
///
/// Long (about 150 lines) on purpose: load, decide, claim, act, deliver and
/// record read top to bottom as the one sequence whose every step is a crash
/// point (`tests/crash_points.rs`); the pure parts are in `claim` (the yield
/// check, `Triage`, `claim_failure`), `act` and `outbox`.
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
    // Nothing decided (no state, no fleet): no action, and the audit trail says why.
    let fail = |kind: AuditKind, error: String| {
        failed_before_decision(target, now, ports.audit, kind, error)
    };
    let loaded = match ports.store.load(&target.name).await {
        Ok(v) => v,
        // Unreadable or corrupted state.
        Err(e) => return fail(AuditKind::StateError, format!("loading state: {e}")).await,
    };
    if let Some(why) =
        claim::yield_reason(target, loaded.state.last_tick, now, options.min_interval)
    {
        // Claimed already (this tick, or within the interval asked): acting
        // too would make two actuations of one tick.
        return ReconcileReport::without_decision(target, Outcome::Yielded, why);
    }
    let worker = match ports.actuator.observe(target).await {
        Ok(w) => w,
        Err(e) => return fail(AuditKind::ObserveError, format!("observing workers: {e}")).await,
    };
    let signals = ports.metrics.read(target, now).await;
    let mut decision = decide(
        target,
        &loaded.state,
        &Observations { worker, signals },
        now,
    );

    let Triage {
        wants_change,
        unchanged,
        distrust,
        worth_auditing,
    } = Triage::of(&decision, now);
    let report = |outcome: Outcome, error: Option<String>, decision: Decision| ReconcileReport {
        target: target.name.clone(),
        outcome,
        decision: Some(decision),
        error: error.or_else(|| distrust.clone()),
        unrecorded_deliveries: Vec::new(),
    };

    if options.dry_run {
        let outcome = if wants_change {
            Outcome::DryRun
        } else {
            unchanged
        };
        if worth_auditing {
            let event =
                AuditEvent::from_decision(&decision, AuditKind::DryRun, outcome, distrust.clone());
            outbox::publish_unclaimed(ports.audit, &event).await;
        }
        return report(outcome, None, decision);
    }

    // The claim: next state (with what `status` shows of this tick; an
    // action's outcome is not known yet) and outbox (with this tick's event, its outcome
    // not known yet) in one conditional write.
    let mut pending = loaded.outbox;
    let incoming = usize::from(worth_auditing);
    if let Some(overflow) = outbox::enforce_bounds(&mut pending, &target.name, now, incoming) {
        pending.push(PendingAudit::new(overflow));
    }
    let tick_event = worth_auditing.then(|| {
        AuditEvent::from_decision(
            &decision,
            AuditKind::Decision,
            Outcome::Interrupted,
            distrust.clone(),
        )
    });
    if let Some(event) = &tick_event {
        pending.push(PendingAudit::new(event.clone()));
        decision.next_state.arrivals.mark_audited(now);
    }
    let claimed_outcome = if wants_change {
        Outcome::Interrupted
    } else {
        unchanged
    };
    decision.next_state.last_reconcile =
        Some(last_reconcile(&decision, claimed_outcome, distrust.clone()));
    if let Some(trim) = item_budget::guard(&target.name, &mut decision.next_state, &pending) {
        let notice = trim.notice();
        if let Some(slot) = tick_event
            .as_ref()
            .and_then(|e| pending.iter_mut().find(|p| p.event.id == e.id))
        {
            slot.event.notices.push(notice.clone());
        }
        decision.notices.push(notice);
    }
    let version = match ports
        .store
        .save(&target.name, &decision.next_state, &pending, loaded.version)
        .await
    {
        Ok(version) => version,
        Err(e) => {
            let (kind, outcome, error) = claim_failure(e);
            // Nothing was claimed, so there is no outbox to wait in.
            if worth_auditing || outcome == Outcome::Failed {
                let event =
                    AuditEvent::from_decision(&decision, kind, outcome, Some(error.clone()));
                outbox::publish_unclaimed(ports.audit, &event).await;
            }
            return report(outcome, Some(error), decision);
        }
    };

    let (outcome, error) = if wants_change {
        act(target, &mut decision, ports, now).await
    } else {
        (unchanged, None)
    };
    if let Some(event) = &tick_event {
        // The event now tells what happened, before anyone receives it.
        let slot = pending.iter_mut().find(|p| p.event.id == event.id);
        if let Some(slot) = slot {
            slot.event.outcome = outcome;
            slot.event.error = error.clone().or_else(|| distrust.clone());
        }
    }
    if wants_change {
        decision.next_state.last_reconcile = Some(last_reconcile(
            &decision,
            outcome,
            error.clone().or_else(|| distrust.clone()),
        ));
    }
    let delivery = outbox::deliver(ports.audit, &mut pending).await;
    let mut unrecorded = Vec::new();
    // An action's outcome (a failed one too) is recorded even when no
    // event was delivered.
    if wants_change || delivery.changed {
        item_budget::guard(&target.name, &mut decision.next_state, &pending);
        if let Err(e) = ports
            .store
            .save(&target.name, &decision.next_state, &pending, version)
            .await
        {
            // The claimed outbox stays: its events are published again (at
            // least once), and a failed action may count in cooldowns once.
            tracing::warn!(target_name = %target.name, error = %e, ids = ?delivery.published, "recording delivery and outcome");
            unrecorded = delivery.published;
        }
    }
    ReconcileReport {
        unrecorded_deliveries: unrecorded,
        ..report(outcome, error, decision)
    }
}

// One target's reconcile may never take the others down: a panic anywhere
// inside it (the engine on data nobody foresaw, a port) becomes that target's
// `Failed` report and an `aborted` audit event. What it did before it stopped
// is safe by the claim's design: a claimed tick's event waits in the outbox
// and the next reconcile publishes it (at least once); an unclaimed tick
// changed nothing.

/// [`reconcile`], with a panic inside it contained to this target.
pub async fn reconcile_contained<M, A, S, U>(
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
    match CatchUnwind::new(reconcile(target, now, ports, options)).await {
        Ok(report) => report,
        Err(message) => {
            aborted(
                target,
                now,
                ports.audit,
                format!("reconcile panicked: {message}"),
            )
            .await
        }
    }
}

/// The report and audit event of a reconcile stopped before it finished
/// (a panic, or the shell's time budget).
pub async fn aborted<U: AuditSink>(
    target: &TargetConfig,
    now: Timestamp,
    audit: &U,
    error: String,
) -> ReconcileReport {
    tracing::error!(target_name = %target.name, error = %error, "reconcile aborted");
    // The sink may be what failed; whatever it does, the report stands.
    let published = failed_before_decision(target, now, audit, AuditKind::Aborted, error.clone());
    match CatchUnwind::new(published).await {
        Ok(report) => report,
        Err(message) => {
            tracing::error!(target_name = %target.name, error = %message, "publishing the aborted event panicked");
            ReconcileReport::without_decision(target, Outcome::Failed, error)
        }
    }
}

/// Publishes a `kind` event for a reconcile that decided nothing, and
/// reports it failed.
async fn failed_before_decision<U: AuditSink>(
    target: &TargetConfig,
    now: Timestamp,
    audit: &U,
    kind: AuditKind,
    error: String,
) -> ReconcileReport {
    let event = AuditEvent::failure_before_decision(&target.name, now, kind, error.clone());
    outbox::publish_unclaimed(audit, &event).await;
    ReconcileReport::without_decision(target, Outcome::Failed, error)
}

impl ReconcileReport {
    /// A report of a reconcile that decided nothing.
    fn without_decision(target: &TargetConfig, outcome: Outcome, error: String) -> Self {
        ReconcileReport {
            target: target.name.clone(),
            outcome,
            decision: None,
            error: Some(error),
            unrecorded_deliveries: Vec::new(),
        }
    }
}

/// What `qscale status` keeps of a claimed tick.
fn last_reconcile(
    decision: &Decision,
    outcome: Outcome,
    error: Option<String>,
) -> crate::engine::LastReconcile {
    crate::engine::LastReconcile {
        at: decision.at,
        previous: decision.previous,
        running: decision.running,
        desired: decision.desired,
        bounded_by: decision
            .bounded_by
            .iter()
            .map(|t| t.name().to_string())
            .collect(),
        outcome: outcome.name().to_string(),
        error: crate::engine::LastReconcile::bounded_error(error),
    }
}

/// Acts on a claimed decision: (outcome, error). What it could not do is in
/// `decision.next_state`, which the caller records.
async fn act<M, A, S, U>(
    target: &TargetConfig,
    decision: &mut Decision,
    ports: &Ports<'_, M, A, S, U>,
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
    // Provisioned concurrency cannot exceed the reserved concurrency: it is
    // removed before the count drops and set after the count rises.
    let provisioned = decision.provisioned.clone();
    if let Some(ProvisionedChange::Remove { count, .. }) = provisioned {
        if let Err(e) = ports.actuator.set_provisioned(target, None).await {
            errors.push(format!("removing provisioned concurrency: {e}"));
            // Still ours: removed again next tick.
            decision.next_state.provisioned = Some(count);
        }
    }
    if decision.direction != Direction::None {
        if let Err(e) = ports.actuator.set_desired(target, decision.desired).await {
            errors.push(format!("setting desired count: {e}"));
            // It may have happened (a lost answer) or not: it counts in
            // cooldowns and rate limits until the next decision sees the
            // fleet (`TargetState::confirm_action`).
            decision.next_state.unconfirmed_action = Some(now);
        }
    }
    if let Some(count) = decision.spillover {
        // A failed set is seen (the sibling's count observed) and set again.
        if let Err(e) = ports.actuator.set_spillover(target, count).await {
            errors.push(format!("setting the spillover service: {e}"));
        }
    }
    if let Some(ProvisionedChange::Set { count, .. }) = provisioned {
        // A failed set is seen (observed below the floor) and set again next tick.
        if let Err(e) = ports.actuator.set_provisioned(target, Some(count)).await {
            errors.push(format!("setting provisioned concurrency: {e}"));
        }
    }
    if errors.is_empty() {
        (Outcome::Applied, None)
    } else {
        (Outcome::Failed, Some(errors.join("; ")))
    }
}

#[cfg(test)]
mod tests;
