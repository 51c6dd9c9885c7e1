//! The claim's pure parts: whether a tick is claimed already, what a
//! decision asks of the shell, and what a failed claim write means.

use jiff::{SignedDuration, Timestamp};

use super::audit::{AuditKind, Outcome};
use super::ports::SaveError;
use crate::config::TargetConfig;
use crate::engine::time::minus;
use crate::engine::{Decision, Direction, Term};

/// How far ahead of this invocation's clock a claimed tick is believed:
/// beyond it, the claim is a skewed clock's or a hand's, and is not honoured.
pub const MAX_CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// Why this reconcile must yield, if it must: the tick (or a later one) is
/// claimed already, or the target was reconciled less than `min_interval`
/// ago. A claim beyond [`MAX_CLOCK_SKEW`] ahead of the clock is not
/// believed: no rival's clock is that far ahead, a skewed clock (a laptop's
/// `run --once`) or a hand wrote it, and believed it would make every
/// invocation yield until then. The claim write is still conditional on the
/// version read, so a live rival still wins.
pub(super) fn yield_reason(
    target: &TargetConfig,
    last_tick: Option<Timestamp>,
    now: Timestamp,
    min_interval: SignedDuration,
) -> Option<String> {
    let claimed = last_tick?;
    if claimed >= now {
        if claimed.duration_since(now) > MAX_CLOCK_SKEW {
            tracing::warn!(target_name = %target.name, %claimed, %now, "last claimed tick is in the future beyond the clock skew allowed; not believed");
            return None;
        }
        return Some(format!(
            "tick {now} already claimed (the last claimed tick is {claimed})"
        ));
    }
    (!min_interval.is_zero() && claimed > minus(now, min_interval)).then(|| {
        format!(
            "reconciled at {claimed}, less than {} s before {now}",
            min_interval.as_secs()
        )
    })
}

/// What a decision asks of the shell, read once before acting.
pub(super) struct Triage {
    /// The count, a partition count, provisioned concurrency or the
    /// spillover sibling would change.
    pub(super) wants_change: bool,
    /// The outcome when nothing is acted on.
    pub(super) unchanged: Outcome,
    /// What could not be trusted, for the summary.
    pub(super) distrust: Option<String>,
    /// Whether this tick gets an audit event.
    pub(super) worth_auditing: bool,
}

impl Triage {
    pub(super) fn of(decision: &Decision, now: Timestamp) -> Triage {
        let untrusted = decision.signals.iter().any(|s| !s.trusted);
        let wants_change = decision.direction != Direction::None
            || !decision.partition_requests.is_empty()
            || decision.provisioned.is_some()
            || decision.spillover.is_some();
        let unchanged = if untrusted {
            Outcome::Refused
        } else {
            Outcome::Unchanged
        };
        // Name what could not be trusted, so the summary says why nothing moved.
        let distrust = {
            let why: Vec<String> = decision
                .signals
                .iter()
                .filter(|s| !s.trusted)
                .map(|s| format!("signal {}: {}", s.signal, s.detail))
                .collect();
            (!why.is_empty()).then(|| why.join("; "))
        };
        // Besides changes and distrust: the traffic on record, before the
        // state's window drops minutes no event carried, and the policy's own
        // mode changes (the forecast switching itself off), and a scale-out
        // held back by suspected poison messages (with its numbers).
        let arrivals_due = decision.next_state.arrivals.audit_due(now);
        let poison = decision.bounded_by.contains(&Term::PoisonSuspected);
        let worth_auditing =
            wants_change || untrusted || arrivals_due || poison || !decision.notices.is_empty();
        Triage {
            wants_change,
            unchanged,
            distrust,
            worth_auditing,
        }
    }
}

/// The audit kind, outcome and error of a claim that could not be written.
pub(super) fn claim_failure(e: SaveError) -> (AuditKind, Outcome, String) {
    match e {
        SaveError::Conflict { .. } => (
            AuditKind::Yield,
            Outcome::Yielded,
            "another invocation reconciled this target first".to_string(),
        ),
        // Not the tick's `decision` id: a rival may claim this tick
        // (and publish that) after this write failed.
        SaveError::Store(e) => (
            AuditKind::ClaimError,
            Outcome::Failed,
            format!("saving state (nothing changed): {e}"),
        ),
    }
}
