//! Poison messages (`signals::poison`): while a signal's dead-letter queue
//! grows and its queue does not drain, the redelivered failures look like
//! load; scale-out is held at the current count. Scale-in is not touched,
//! and a fleet at zero still starts (nothing of ours is failing there).

use super::context::Context;
use crate::engine::chain::Chain;
use crate::engine::decision::Term;

/// Holds a scale-out while some trusted signal suspects poison.
pub(in crate::engine) fn hold_scale_out(ctx: &Context, chain: &mut Chain) {
    let previous = ctx.previous;
    if previous == 0 || chain.value <= previous {
        return;
    }
    let suspects: Vec<String> = ctx
        .signals
        .trusted
        .iter()
        .filter_map(|a| {
            a.poison
                .as_ref()
                .map(|why| format!("{}: {why}", a.assessment.signal))
        })
        .collect();
    if suspects.is_empty() {
        return;
    }
    chain.set(
        Term::PoisonSuspected,
        previous,
        format!(
            "scale-out to {} held at {previous}: {}",
            chain.value,
            suspects.join("; ")
        ),
    );
}
