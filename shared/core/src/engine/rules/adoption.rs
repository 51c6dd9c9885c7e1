//! Safe adoption: the first decision for a target (new, or its state reset)
//! records the current count as a recommendation too, so the scale-in
//! window holds it until one window of real observations has passed. HPA
//! and KEDA would scale in at once; AWS waits for 15 low datapoints. It
//! changes no count by itself: the scale-in window does (`stabilization`).

use jiff::Timestamp;

use crate::engine::state::{TargetState, TimedCount};

/// Records the adoption in `next` on the first decision with a trusted
/// signal (deciding the adoption tick again re-derives it, like any replay).
pub(in crate::engine) fn adopt(next: &mut TargetState, now: Timestamp, previous: u32) {
    if next.adopted_at.is_none_or(|at| at == now) {
        next.adopted_at = Some(now);
        next.recommendations.push(TimedCount {
            at: now,
            count: previous,
        });
    }
}
