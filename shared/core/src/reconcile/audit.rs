//! The audit event: one per action and per refusal, carrying the inputs,
//! the bounding terms and the outcome. Versioned JSON.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::engine::{Decision, Direction, PartitionRequest, Term};

/// Version of the audit event JSON.
pub const AUDIT_SCHEMA_VERSION: u32 = 1;

/// One audit record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Always [`AUDIT_SCHEMA_VERSION`].
    pub schema_version: u32,
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
    /// The decision's one-line explanation.
    pub explanation: String,
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
    /// How it was counted, or why it was not trusted.
    pub detail: String,
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
}

impl AuditEvent {
    /// A reconcile that failed before any decision (state that cannot be
    /// loaded): no action, and the reason on record.
    pub fn failure_before_decision(target: &str, at: Timestamp, error: String) -> AuditEvent {
        AuditEvent {
            schema_version: AUDIT_SCHEMA_VERSION,
            target: target.to_string(),
            at,
            outcome: Outcome::Failed,
            previous: 0,
            desired: 0,
            direction: Direction::None,
            inputs: Vec::new(),
            bounded_by: Vec::new(),
            partition_requests: Vec::new(),
            explanation: format!("{target}: nothing decided ({error})"),
            error: Some(error),
        }
    }

    /// The event for a decision and its outcome.
    pub fn from_decision(d: &Decision, outcome: Outcome, error: Option<String>) -> Self {
        AuditEvent {
            schema_version: AUDIT_SCHEMA_VERSION,
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
                    detail: s.detail.clone(),
                })
                .collect(),
            bounded_by: d.bounded_by.clone(),
            partition_requests: d.partition_requests.clone(),
            explanation: d.explanation.clone(),
            error,
        }
    }
}
