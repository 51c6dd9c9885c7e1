//! An SQS queue's depth as a signal: backlog from visible (+ in-flight,
//! + delayed), keep-up from in-flight messages averaged over a window.

use crate::engine::time::minus;
use jiff::Timestamp;

use super::assessed::{AssessedSignal, Stages};
use super::fifo::GroupCap;
use super::sizing::{within_tolerance, workers_needed, Load};
use crate::config::{PolicyConfig, SignalKind, SqsSignal};
use crate::engine::decision::{SignalAssessment, Term};
use crate::engine::observation::SqsDepth;
use crate::engine::state::{TargetState, TimedValue};

/// Busy workers behind an SQS signal, averaged over the keep-up window:
/// each in-flight message occupies a worker (or one of its slots).
///
/// In flight beyond what the fleet (`fleet`: the larger of its desired and
/// running counts) can hold has no worker: messages received and not
/// deleted (a failure, a crashed worker) waiting out their visibility
/// timeout. The count then says nothing about how many workers are busy,
/// and "all of them" would ask one more each tick; the reading keeps the
/// previous sample instead (the fleet's size without one).
pub(super) fn busy_now(in_flight: u64, per_worker: u32, fleet: u32, previous: Option<f64>) -> f64 {
    let busy = in_flight as f64 / per_worker.max(1) as f64;
    if busy <= f64::from(fleet) {
        return busy;
    }
    previous.unwrap_or(f64::from(fleet)).min(f64::from(fleet))
}

/// [`busy_now`] recorded and averaged over the keep-up window.
pub(super) fn average_busy(
    cfg: &SqsSignal,
    depth: &SqsDepth,
    fleet: u32,
    policy: &PolicyConfig,
    (observed_at, now): (Timestamp, Timestamp),
    next: &mut TargetState,
) -> f64 {
    let samples = next.busy_samples.entry(cfg.name.clone()).or_default();
    samples.retain(|s| s.at != observed_at);
    let previous = samples
        .iter()
        .filter(|s| s.at < observed_at)
        .max_by_key(|s| s.at)
        .map(|s| s.value);
    let busy = busy_now(depth.in_flight, cfg.in_flight_per_worker, fleet, previous);
    samples.push(TimedValue {
        at: observed_at,
        value: busy,
    });
    samples.sort_by_key(|s| s.at);
    let cutoff = minus(now, policy.keep_up_window.signed());
    samples.retain(|s| s.at > cutoff || s.at == observed_at);
    samples.iter().map(|s| s.value).sum::<f64>() / samples.len() as f64
}

/// How fast the visible depth changed since the previous sample within the
/// keep-up window, messages/s (`None` without one). Positive: arrivals exceed
/// what the fleet completes. A replay of the same observation compares with
/// the same earlier sample.
pub(super) fn queue_growth(
    cfg: &SqsSignal,
    depth: &SqsDepth,
    policy: &PolicyConfig,
    observed_at: Timestamp,
    now: Timestamp,
    next: &mut TargetState,
) -> Option<f64> {
    let samples = next.depth_samples.entry(cfg.name.clone()).or_default();
    let previous = TimedValue::record_beside_previous(samples, observed_at, depth.visible as f64);
    let cutoff = minus(now, policy.keep_up_window.signed());
    previous.filter(|s| s.at > cutoff).map(|s| {
        let dt = observed_at.duration_since(s.at).as_secs_f64();
        (depth.visible as f64 - s.value) / dt
    })
}

/// What sizing an SQS signal reads: its config and depth, and what the
/// target's state made of earlier depths.
#[derive(Clone)]
pub(super) struct SqsInputs<'a> {
    pub cfg: &'a SqsSignal,
    pub depth: &'a SqsDepth,
    pub policy: &'a PolicyConfig,
    /// The worker's desired count.
    pub previous: u32,
    /// Busy workers, averaged over the keep-up window ([`average_busy`]).
    pub busy: f64,
    /// The queue growth the sizing counts (msg/s, at least 0), with `slo`
    /// or the forecast.
    pub sizing_growth: Option<f64>,
    /// The queue's signed growth ([`queue_growth`]), for the arrival rate on record.
    pub signed_growth: Option<f64>,
    /// A FIFO queue's message groups, when they bound the workers ([`group_cap`]).
    pub group_cap: Option<GroupCap>,
}

/// Sizes an SQS signal: backlog from its depth, load from what is in flight
/// and how fast the queue grows.
pub(super) fn assess_sqs(inputs: SqsInputs<'_>) -> AssessedSignal {
    let SqsInputs {
        cfg,
        depth,
        policy,
        previous,
        busy,
        sizing_growth: growth,
        signed_growth,
        group_cap,
    } = inputs;
    let in_flight = if cfg.include_in_flight {
        depth.in_flight
    } else {
        0
    };
    let delayed = if cfg.include_delayed {
        depth.delayed
    } else {
        0
    };
    let backlog = depth
        .visible
        .saturating_add(in_flight)
        .saturating_add(delayed);
    // Offered load: the busy workers, plus what the growth of the queue says
    // arrives beyond them (with `slo`).
    let per_message = policy.processing_time_s().unwrap_or(0.0);
    // Sizing counts only growth (a shrinking queue is already being served).
    let excess = growth.map(|g| g.max(0.0));
    let excess_busy = excess.unwrap_or(0.0) * per_message;
    let load = Load {
        backlog,
        busy: Some(busy + excess_busy),
        falling_behind: excess.unwrap_or(0.0),
    };
    let (exact, raw, mut need) = workers_needed(&load, previous, policy);
    if let Some(e) = excess.filter(|e| *e > 0.0) {
        need.push_str(&format!(
            " (busy {busy:.1} + queue growing {e:.1} msg/s = {:.1} busy)",
            busy + excess_busy
        ));
    }
    let after_tolerance = if within_tolerance(exact, policy, previous) {
        previous
    } else {
        raw
    };
    // Workers beyond the message groups that can be worked at once idle.
    let (wanted, capped_by) = match &group_cap {
        Some(cap) if after_tolerance > cap.workers => (cap.workers, Some(Term::FifoGroups)),
        _ => (after_tolerance, None),
    };
    AssessedSignal {
        assessment: SignalAssessment {
            signal: cfg.name.clone(),
            kind: SignalKind::Sqs,
            trusted: true,
            backlog: Some(backlog),
            recommendation: Some(wanted),
            partitions: None,
            partition_lag: Vec::new(),
            stuck_partitions: Vec::new(),
            consecutive_failures: 0,
            // Arrivals = completions (in flight / processing time) + the
            // queue's change, signed: a queue drained by the fleet is not arriving.
            arrival_rate: (per_message > 0.0).then(|| {
                (depth.in_flight as f64 / cfg.in_flight_per_worker.max(1) as f64 / per_message
                    + signed_growth.unwrap_or(0.0))
                .max(0.0)
            }),
            detail: format!(
                "backlog {backlog} = visible {}{}{}; {need}{}",
                depth.visible,
                if cfg.include_in_flight {
                    format!(" + in-flight {}", depth.in_flight)
                } else {
                    String::new()
                },
                if cfg.include_delayed {
                    format!(" + delayed {}", depth.delayed)
                } else {
                    String::new()
                },
                group_cap
                    .as_ref()
                    .map_or(String::new(), |c| format!("; {}", c.detail)),
            ),
        },
        wanted: Some(wanted),
        backlog,
        stages: Some(Stages::without_stuck(raw, after_tolerance)),
        capped_by,
        stuck_with_lag: false,
        partition_request: None,
        // Arrivals = completions (each in-flight message now) + what piled up.
        offered_load: Some(
            (depth.in_flight as f64 / cfg.in_flight_per_worker.max(1) as f64
                + growth.unwrap_or(0.0) * per_message)
                .max(0.0),
        ),
        load: Some(load),
        stuck_floor: None,
        cap: group_cap.map(|c| c.workers),
        poison: None,
    }
}
