//! The audit event: one per action and per refusal, carrying the inputs,
//! the bounding terms and the outcome. Versioned JSON, with a stable id
//! consumers deduplicate on (delivery is at least once per destination).

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::engine::arrivals::MinuteRates;
use crate::engine::{Decision, Direction, PartitionRequest, ProvisionedChange, Term};

/// Version of the audit event JSON.
pub const AUDIT_SCHEMA_VERSION: u32 = 1;

/// One audit record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Always [`AUDIT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `target@time#kind`: the same for every delivery of this event.
    #[serde(default)]
    pub id: String,
    /// What the event is about.
    #[serde(default)]
    pub kind: AuditKind,
    /// Target name.
    pub target: String,
    /// Decision time.
    pub at: Timestamp,
    /// What happened.
    pub outcome: Outcome,
    /// Count before.
    pub previous: u32,
    /// Count decided.
    pub desired: u32,
    /// Direction decided.
    pub direction: Direction,
    /// Per-signal inputs.
    pub inputs: Vec<AuditInput>,
    /// Terms that bound the result.
    pub bounded_by: Vec<Term>,
    /// Partition growth asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partition_requests: Vec<PartitionRequest>,
    /// Provisioned concurrency set or removed (Lambda pre-warm windows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned: Option<ProvisionedChange>,
    /// The arrival rate per minute over the last half hour (at most), as the
    /// target's state held it: what `qscale trace from-audit` rebuilds
    /// traffic from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrivals: Option<MinuteRates>,
    /// The decision's one-line explanation.
    pub explanation: String,
    /// Changes of the policy's own mode (the forecast switching off or on).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
    /// Error, when the outcome is a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One signal's input to a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditInput {
    /// Signal name.
    pub signal: String,
    /// Whether it was trusted.
    pub trusted: bool,
    /// Backlog counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backlog: Option<u64>,
    /// Messages per second arriving, when the signal shows it (what
    /// `qscale trace from-audit` rebuilds a trace from).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival_rate: Option<f64>,
    /// How it was counted, or why it was not trusted.
    pub detail: String,
}

/// What an audit event is about; part of its id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// A decision of the invocation that claimed its tick.
    #[default]
    Decision,
    /// A decision that lost the tick to another invocation.
    Yield,
    /// A decision whose claim write failed: this invocation acted on
    /// nothing. Another invocation may still claim the tick (its event is
    /// the `decision`), and so may this write if it lands late.
    ClaimError,
    /// A decision of a dry run: nothing claimed, nothing acted on.
    DryRun,
    /// Nothing decided: the state could not be loaded.
    StateError,
    /// Nothing decided: the worker fleet could not be observed.
    ObserveError,
    /// A new config version was rejected; the last valid one keeps running.
    ConfigError,
    /// Undelivered events were dropped from a full or stale outbox.
    OutboxOverflow,
    /// The reconcile stopped before it finished: it panicked, or ran past
    /// its time budget. A claimed tick's own event still comes from the
    /// outbox.
    Aborted,
}

impl AuditKind {
    fn as_str(self) -> &'static str {
        match self {
            AuditKind::Decision => "decision",
            AuditKind::Yield => "yield",
            AuditKind::ClaimError => "claim_error",
            AuditKind::DryRun => "dry_run",
            AuditKind::StateError => "state_error",
            AuditKind::ObserveError => "observe_error",
            AuditKind::ConfigError => "config_error",
            AuditKind::OutboxOverflow => "outbox_overflow",
            AuditKind::Aborted => "aborted",
        }
    }
}

/// The id of a target's event of `kind` at `at`.
pub fn audit_id(target: &str, at: Timestamp, kind: AuditKind) -> String {
    format!("{target}@{at}#{}", kind.as_str())
}

/// Outcome of a reconcile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The new count was set.
    Applied,
    /// Nothing to change.
    Unchanged,
    /// Decided and audited, nothing changed (`--dry-run`).
    DryRun,
    /// A scale-in (or any action) refused because a signal was untrusted.
    Refused,
    /// Acting failed; see `error`.
    Failed,
    /// Another invocation reconciled this target at the same time.
    Yielded,
    /// The invocation that claimed the tick stopped before it could report
    /// the outcome: whether the count was set shows in the next observation.
    /// Only ever published from the outbox by a later reconcile.
    Interrupted,
}

impl Outcome {
    /// The snake_case name used in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::Unchanged => "unchanged",
            Outcome::DryRun => "dry_run",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
            Outcome::Yielded => "yielded",
            Outcome::Interrupted => "interrupted",
        }
    }
}

impl AuditEvent {
    /// A reconcile that failed before any decision (state that cannot be
    /// loaded, a fleet that cannot be observed): no action, and the reason
    /// on record.
    pub fn failure_before_decision(
        target: &str,
        at: Timestamp,
        kind: AuditKind,
        error: String,
    ) -> AuditEvent {
        AuditEvent {
            schema_version: AUDIT_SCHEMA_VERSION,
            id: audit_id(target, at, kind),
            kind,
            target: target.to_string(),
            at,
            outcome: Outcome::Failed,
            previous: 0,
            desired: 0,
            direction: Direction::None,
            inputs: Vec::new(),
            bounded_by: Vec::new(),
            partition_requests: Vec::new(),
            provisioned: None,
            arrivals: None,
            explanation: format!("{target}: nothing decided ({error})"),
            notices: Vec::new(),
            error: Some(error),
        }
    }

    /// The event of `kind` for a decision and its outcome. Only the
    /// invocation that claimed the tick publishes its `Decision`: every
    /// other event of the tick has its own kind, so no two events share an id.
    pub fn from_decision(
        d: &Decision,
        kind: AuditKind,
        outcome: Outcome,
        error: Option<String>,
    ) -> Self {
        AuditEvent {
            schema_version: AUDIT_SCHEMA_VERSION,
            id: audit_id(&d.target, d.at, kind),
            kind,
            target: d.target.clone(),
            at: d.at,
            outcome,
            previous: d.previous,
            desired: d.desired,
            direction: d.direction,
            inputs: d
                .signals
                .iter()
                .map(|s| AuditInput {
                    signal: s.signal.clone(),
                    trusted: s.trusted,
                    backlog: s.backlog,
                    arrival_rate: s.arrival_rate,
                    detail: s.detail.clone(),
                })
                .collect(),
            bounded_by: d.bounded_by.clone(),
            partition_requests: d.partition_requests.clone(),
            provisioned: d.provisioned.clone(),
            arrivals: Some(d.next_state.arrivals.rates.clone()).filter(|r| !r.is_empty()),
            explanation: d.explanation.clone(),
            notices: d.notices.clone(),
            error,
        }
    }

    /// Undelivered events dropped from a full or stale outbox: what they were
    /// is in the log (in full) and, by id, here.
    pub fn outbox_overflow(target: &str, at: Timestamp, dropped: &[String], why: &str) -> Self {
        let error = format!(
            "{} undelivered audit event(s) dropped ({why}): {}",
            dropped.len(),
            dropped.join(", ")
        );
        AuditEvent {
            arrivals: None,
            explanation: format!("{target}: audit outbox overflow"),
            notices: Vec::new(),
            ..AuditEvent::failure_before_decision(target, at, AuditKind::OutboxOverflow, error)
        }
    }
}

/// An audit event not yet acknowledged by every destination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendingAudit {
    /// The event, as it will be published.
    pub event: AuditEvent,
    /// Destinations that acknowledged it.
    #[serde(default)]
    pub delivered: BTreeSet<String>,
}

impl PendingAudit {
    /// A new, undelivered event.
    pub fn new(event: AuditEvent) -> Self {
        PendingAudit {
            event,
            delivered: BTreeSet::new(),
        }
    }
}
