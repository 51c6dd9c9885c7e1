//! Tasks holding ECS task scale-in protection are working on something that
//! must not be killed (a job in hand): a scale-in never asks below them.
//! ECS would not stop them anyway, so a lower count only leaves desired
//! below what runs, and the next unprotected task to start would be stopped.

use super::context::Context;
use crate::engine::chain::Chain;
use crate::engine::decision::Term;

/// A scale-in stops at the protected count (read only for ECS workers with
/// `respect_task_protection`). Returns the notice that audits a scale-in it
/// cut short, with the numbers; one it held entirely changes nothing, and
/// its step says why.
pub(in crate::engine) fn apply(ctx: &Context, chain: &mut Chain) -> Option<String> {
    let protected = ctx.worker.protected?;
    // Never above the current count, so only a scale-in is ever held.
    let floor = protected.min(ctx.previous);
    if chain.value >= floor {
        return None;
    }
    let detail = format!(
        "scale-in held by {protected} protected task(s): {} -> {floor}",
        chain.value
    );
    chain.set(Term::TaskProtection, floor, detail.clone());
    (floor < ctx.previous).then(|| format!("task_protection: {detail}"))
}
