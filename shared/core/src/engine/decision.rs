//! What `decide` returns: the count, why, and the next state.
//!
//! The JSON form of [`Decision`] is a stable contract (schema_version 1),
//! documented in docs/decisions.md.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::state::TargetState;
use crate::config::SignalKind;

/// Version of the decision JSON; bumped on any incompatible change.
pub const DECISION_SCHEMA_VERSION: u32 = 1;

/// The outcome of one `decide`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Always [`DECISION_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Target name.
    pub target: String,
    /// The `now` the decision was made for.
    pub at: Timestamp,
    /// The count set before (worker's desired count).
    pub previous: u32,
    /// The count to set.
    pub desired: u32,
    /// `none`, `scale_out` or `scale_in`.
    pub direction: Direction,
    /// Workers running when observed.
    pub running: u32,
    /// Workers starting when observed.
    pub pending: u32,
    /// Per-signal inputs and their individual recommendations.
    pub signals: Vec<SignalAssessment>,
    /// Partition growth asked for (Kafka signals with `max_partitions`).
    pub partition_requests: Vec<PartitionRequest>,
    /// Provisioned concurrency to set or remove (Lambda workers with a
    /// qualifier, at the edges of pre-warm windows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned: Option<super::provisioned::ProvisionedChange>,
    /// Tasks pending past start-up plus a margin (capacity that does not
    /// come); none when every pending task is within it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_shortfall: Option<super::capacity::CapacityShortfall>,
    /// The count to set on the worker's `spillover` sibling (the shortfall,
    /// or 0) when it changes; none otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spillover: Option<u32>,
    /// The start-up used, when `slo.startup` is `learned`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup: Option<super::capacity::LearnedStartup>,
    /// The chain of terms from raw backlog to the final count, in order.
    pub steps: Vec<Step>,
    /// The terms that changed the count (the ones that bound the result).
    pub bounded_by: Vec<Term>,
    /// One line for humans.
    pub explanation: String,
    /// Changes of the policy's own mode worth an audit event although the
    /// count may not move (the forecast switching itself off or on).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
    /// State to persist if the decision is applied.
    pub next_state: TargetState,
}

/// Direction of a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// No change.
    None,
    /// More workers.
    ScaleOut,
    /// Fewer workers.
    ScaleIn,
}

/// A policy term that shapes a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Term {
    /// ceil(backlog / target per worker), max over signals.
    TargetTracking,
    /// No trusted signal: hold the current count.
    NoTrustedSignal,
    /// Change within the tolerance band: none made.
    Tolerance,
    /// From zero, backlog not above the activation threshold.
    Activation,
    /// Kafka workers capped at the partition count.
    PartitionCap,
    /// FIFO queue workers capped at the message groups that can be worked at once.
    FifoGroups,
    /// Dead-lettering while the queue does not drain: scale-out held.
    PoisonSuspected,
    /// A count set outside qscale, held for `manual_override_hold`.
    ManualOverride,
    /// An operator's pause of this direction (or of the floors).
    Paused,
    /// Stuck partitions: they do not drive scale-out, and keep at least one worker.
    StuckPartitions,
    /// Scale-out stabilization window (min over window).
    ScaleOutStabilization,
    /// Scale-in stabilization window (max over window).
    ScaleInStabilization,
    /// Scale-out rate limit.
    ScaleOutRateLimit,
    /// Scale-in rate limit.
    ScaleInRateLimit,
    /// Scale-out cooldown.
    ScaleOutCooldown,
    /// Scale-in cooldown.
    ScaleInCooldown,
    /// Deployment in progress: no scale-in.
    DeploymentInProgress,
    /// Tasks holding ECS task scale-in protection: no scale-in below them.
    TaskProtection,
    /// A failed or stale signal: no scale-in.
    UntrustedSignal,
    /// Too many failures: the fallback count.
    Fallback,
    /// A schedule or registered event floor.
    Floor,
    /// The floor a periodic load forecast sets ahead of a rise.
    Forecast,
    /// policy.min.
    Min,
    /// policy.max.
    Max,
    /// The worker's own range (an event-source mapping's MaximumConcurrency is 2–1000).
    WorkerLimits,
}

impl Term {
    /// The snake_case name used in JSON and explanations.
    pub fn name(self) -> &'static str {
        match self {
            Term::TargetTracking => "target_tracking",
            Term::NoTrustedSignal => "no_trusted_signal",
            Term::Tolerance => "tolerance",
            Term::Activation => "activation",
            Term::PartitionCap => "partition_cap",
            Term::FifoGroups => "fifo_groups",
            Term::PoisonSuspected => "poison_suspected",
            Term::ManualOverride => "manual_override",
            Term::Paused => "paused",
            Term::StuckPartitions => "stuck_partitions",
            Term::ScaleOutStabilization => "scale_out_stabilization",
            Term::ScaleInStabilization => "scale_in_stabilization",
            Term::ScaleOutRateLimit => "scale_out_rate_limit",
            Term::ScaleInRateLimit => "scale_in_rate_limit",
            Term::ScaleOutCooldown => "scale_out_cooldown",
            Term::ScaleInCooldown => "scale_in_cooldown",
            Term::DeploymentInProgress => "deployment_in_progress",
            Term::TaskProtection => "task_protection",
            Term::UntrustedSignal => "untrusted_signal",
            Term::Fallback => "fallback",
            Term::Floor => "floor",
            Term::Forecast => "forecast",
            Term::Min => "min",
            Term::Max => "max",
            Term::WorkerLimits => "worker_limits",
        }
    }
}

/// One link of the chain: the count after the term, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The term.
    pub term: Term,
    /// Count after this term.
    pub value: u32,
    /// Whether it changed the count.
    pub binding: bool,
    /// Human detail with the numbers.
    pub detail: String,
}

/// How one signal was read and what it alone would want.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SignalAssessment {
    /// Signal name.
    pub signal: String,
    /// `sqs` or `kafka`.
    pub kind: SignalKind,
    /// Whether the reading was used.
    pub trusted: bool,
    /// Backlog counted (messages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backlog: Option<u64>,
    /// Workers this signal alone wants, after partition caps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<u32>,
    /// Partition count (Kafka).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partitions: Option<u32>,
    /// Lag per partition (Kafka), in partition order.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub partition_lag: Vec<PartitionLag>,
    /// Partitions flagged stuck (Kafka).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub stuck_partitions: Vec<i32>,
    /// Consecutive failures including this one.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub consecutive_failures: u32,
    /// Messages per second arriving, when the signal shows it: Kafka's
    /// production rate from successive high watermarks; SQS's completions
    /// (in flight / processing time) plus the queue's growth, when the
    /// policy knows the processing time.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub arrival_rate: Option<f64>,
    /// How the backlog was counted, or why the signal is not trusted.
    pub detail: String,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

/// Lag of one partition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PartitionLag {
    /// Partition id.
    pub partition: i32,
    /// Its topic, for a signal on several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// Messages behind.
    pub lag: u64,
    /// Seconds behind (once two observations exist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<f64>,
    /// Burrow-style status.
    pub status: super::partition_history::PartitionStatus,
}

/// A request to grow a topic's partition count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionRequest {
    /// The Kafka signal.
    pub signal: String,
    /// Partitions now.
    pub from: u32,
    /// Partitions wanted (never above `max_partitions`).
    pub to: u32,
}

impl Decision {
    /// Human-readable chain from raw backlog to the final count (`qscale explain`).
    pub fn explain(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(out, "target {} at {}", self.target, self.at);
        let _ = writeln!(
            out,
            "worker: desired {} (running {}, pending {})",
            self.previous, self.running, self.pending
        );
        if let Some(s) = &self.startup {
            let _ = writeln!(
                out,
                "start-up: {} s, learned (p90 of {} pending-to-running time(s); the default 1m below 3)",
                s.seconds, s.samples
            );
        }
        if let Some(s) = &self.capacity_shortfall {
            let _ = writeln!(
                out,
                "capacity: {} task(s) pending for {} s, past start-up plus margin ({} s)",
                s.tasks, s.pending_for_s, s.threshold_s
            );
        }
        let _ = writeln!(out, "signals:");
        for s in &self.signals {
            let rec = s
                .recommendation
                .map(|r| format!(" -> wants {r}"))
                .unwrap_or_default();
            let trust = if s.trusted { "" } else { " [untrusted]" };
            let _ = writeln!(out, "  {} ({}){trust}: {}{rec}", s.signal, s.kind, s.detail);
        }
        let _ = writeln!(out, "chain:");
        for step in &self.steps {
            let mark = if step.binding { "*" } else { " " };
            let _ = writeln!(
                out,
                " {mark} {:<24} {:>6}  {}",
                step.term.name(),
                step.value,
                step.detail
            );
        }
        for p in &self.partition_requests {
            let _ = writeln!(
                out,
                "partitions: grow {} from {} to {}",
                p.signal, p.from, p.to
            );
        }
        let _ = writeln!(out, "(* = changed the count)");
        let _ = writeln!(out, "result: {}", self.explanation);
        out
    }
}
