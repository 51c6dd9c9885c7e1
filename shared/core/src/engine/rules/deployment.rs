//! A deployment in progress suspends scale-in (as AWS Application Auto
//! Scaling does during an ECS deployment): tasks of two revisions are counted.

use super::context::Context;
use crate::engine::chain::Chain;
use crate::engine::decision::Term;

/// No scale-in while the worker reports a deployment in progress.
pub(in crate::engine) fn apply(ctx: &Context, chain: &mut Chain) {
    if ctx.worker.deployment_in_progress && chain.value < ctx.previous {
        chain.set(
            Term::DeploymentInProgress,
            ctx.previous,
            "deployment in progress: scale-in suspended".into(),
        );
    }
}
