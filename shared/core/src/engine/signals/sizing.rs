//! Workers a signal needs from its backlog and the load already flowing:
//! target tracking (backlog per worker), keep-up at a target utilization,
//! and HPA's tolerance band.

use crate::config::PolicyConfig;

/// `ceil(backlog / target)` robust to float noise (3 / 0.1 is 30, not 31).
pub(super) fn workers_for(backlog: u64, target_per_worker: f64) -> u32 {
    if backlog == 0 {
        return 0;
    }
    ceil_robust(backlog as f64 / target_per_worker)
}

/// HPA tolerance: no change when the workers needed (as a real number) are
/// within 1 ± tolerance of the current count.
pub(super) fn within_tolerance(needed: f64, policy: &PolicyConfig, previous: u32) -> bool {
    previous > 0 && (needed / previous as f64 - 1.0).abs() <= policy.tolerance
}

/// Workers a signal needs: enough to drain the backlog at the target per
/// worker, and enough to keep up with the load already flowing at the target
/// utilization. Returns (exact need, whole workers, detail).
pub(super) fn workers_needed(
    backlog: u64,
    busy: Option<f64>,
    policy: &PolicyConfig,
) -> (f64, u32, String) {
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

pub(super) fn ceil_robust(q: f64) -> u32 {
    let r = q.round();
    let n = if (q - r).abs() <= 1e-9 * q.max(1.0) {
        r
    } else {
        q.ceil()
    };
    n.clamp(0.0, u32::MAX as f64) as u32
}
