//! Workers a signal needs from its backlog and the load already flowing:
//! target tracking (backlog per worker) with keep-up at a target
//! utilization, or sizing by a wait SLO (Erlang C); and HPA's tolerance band.

use crate::config::{PolicyConfig, SloConfig};
use crate::engine::queueing::workers_for_slo;

/// `ceil(backlog / target)` robust to float noise (3 / 0.1 is 30, not 31).
pub(super) fn workers_for(backlog: u64, target_per_worker: f64) -> u32 {
    if backlog == 0 {
        return 0;
    }
    ceil_robust(backlog as f64 / target_per_worker)
}

/// HPA tolerance: no change when the workers needed (as a real number) are
/// within 1 ± tolerance of the current count. Under `slo` too: a fleet held
/// a little below the queueing model's need lets the queue grow, and the
/// backlog and growth terms then lift the need past the band within a tick
/// or two. That measured cheaper and with fewer flaps than acting on every
/// small rise (docs/benchmarks.md).
/// Each direction has its own band (HPA KEP-4951): a rise is held while
/// within `scale_out`'s tolerance, a fall within `scale_in`'s.
pub(super) fn within_tolerance(needed: f64, policy: &PolicyConfig, previous: u32) -> bool {
    if previous == 0 {
        return false;
    }
    let ratio = needed / previous as f64;
    if ratio >= 1.0 {
        ratio - 1.0 <= policy.tolerance_of(true)
    } else {
        1.0 - ratio <= policy.tolerance_of(false)
    }
}

/// Load the sizing works from: the backlog, the offered load in busy
/// workers (SQS in-flight, Kafka production rate × processing time), and
/// how fast messages arrive beyond what the current fleet takes (msg/s: SQS
/// queue growth, Kafka production above the fleet's capacity).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Load {
    pub backlog: u64,
    pub busy: Option<f64>,
    pub falling_behind: f64,
}

/// Workers a signal needs: enough to drain the backlog at the target per
/// worker, and enough to keep up with the load already flowing at the target
/// utilization; or, with `slo`, by [`slo_workers`]. Returns (exact need,
/// whole workers, detail).
pub(super) fn workers_needed(
    load: &Load,
    previous: u32,
    policy: &PolicyConfig,
) -> (f64, u32, String) {
    let backlog = load.backlog;
    let busy = load.busy;
    if let (Some(slo), Some(s)) = (&policy.slo, policy.processing_time_s()) {
        let behind = backlog_when_started(load, previous, s, slo);
        return slo_workers(backlog, behind, busy.unwrap_or(0.0).max(0.0), s, slo);
    }
    let target = policy.target_per_worker();
    let drain = workers_for(backlog, target);
    let mut detail = format!("ceil({backlog} / {target}) = {drain}");
    let mut exact = backlog as f64 / target;
    let mut whole = drain;
    if let (Some(busy), Some(utilization)) = (busy.filter(|b| *b > 0.0), policy.target_utilization)
    {
        let keep_up_exact = busy / utilization;
        let keep_up = ceil_robust(keep_up_exact);
        detail.push_str(&format!(
            "; keeping up: {busy:.1} busy / {utilization} utilization = {keep_up}"
        ));
        exact = exact.max(keep_up_exact);
        whole = whole.max(keep_up);
    }
    (exact, whole, detail)
}

/// Messages that will arrive beyond the fleet while new workers start, when
/// the fleet is falling behind so far that the backlog it will have by then
/// outlasts one `wait` at its current size (0 otherwise). Workers started now
/// first see the queue `startup` later: sizing for today's backlog leaves
/// them short by what piled up meanwhile (a burst from zero: all of it).
/// Small, noisy growth never counts: a fleet that clears the whole backlog
/// within one wait keeps its count.
fn backlog_when_started(load: &Load, previous: u32, s: f64, slo: &SloConfig) -> u64 {
    let arriving = load.falling_behind.max(0.0) * slo.startup.fixed_or_default().as_secs_f64();
    if !arriving.is_finite() || arriving < 1.0 {
        return 0;
    }
    let arriving = arriving.min(u64::MAX as f64) as u64;
    let by_then = load.backlog.saturating_add(arriving) as f64 * s;
    let late = by_then > previous as f64 * slo.wait.as_secs_f64();
    if late {
        arriving
    } else {
        0
    }
}

/// Sizing by the SLO: the fewest workers that keep up with offered load `a`
/// (Erlangs) with at most `100 − percentile` % of messages waiting longer
/// than `wait` (Erlang C), plus the workers that clear `backlog` (and what
/// arrives `behind` the fleet while they start) within one `wait` on top of
/// that, so a burst gets its whole need in one step.
fn slo_workers(backlog: u64, behind: u64, a: f64, s: f64, slo: &SloConfig) -> (f64, u32, String) {
    let wait = slo.wait.as_secs_f64();
    let keep = workers_for_slo(a, s, slo);
    let cleared = backlog.saturating_add(behind);
    let drain_exact = cleared as f64 * s / wait;
    let drain = ceil_robust(drain_exact);
    let whole = keep.saturating_add(drain);
    let counted = if behind > 0 {
        format!(
            "backlog {backlog} + {behind} arriving beyond the fleet during {} start-up",
            slo.startup
        )
    } else {
        format!("backlog {backlog}")
    };
    let detail = format!(
        "slo: offered load {a:.1} busy needs {keep} for p{} wait <= {} (Erlang C, {:.0} ms per message); \
         {counted} cleared within {} needs {drain}; {keep} + {drain} = {whole}",
        slo.percentile,
        slo.wait,
        s * 1000.0,
        slo.wait
    );
    (keep as f64 + drain_exact, whole, detail)
}

/// Workers that keep up with `busy` busy workers' worth of load: the SLO's
/// queueing model (Erlang C) when the policy has one, else at the target
/// utilization (a whole worker each without one).
pub(crate) fn workers_for_load(busy: f64, policy: &PolicyConfig) -> u32 {
    match (&policy.slo, policy.processing_time_s()) {
        (Some(slo), Some(s)) => workers_for_slo(busy, s, slo),
        _ => ceil_robust(busy / policy.target_utilization.unwrap_or(1.0)),
    }
}

/// `ceil(q)`, except that a `q` within float noise of a whole number is that number.
pub(super) fn ceil_robust(q: f64) -> u32 {
    let r = q.round();
    let n = if (q - r).abs() <= 1e-9 * q.max(1.0) {
        r
    } else {
        q.ceil()
    };
    n.clamp(0.0, u32::MAX as f64) as u32
}
