//! Bounds: `policy.min`, `policy.max`, and the worker's own range.

use super::context::Context;
use crate::config::WorkerConfig;
use crate::engine::chain::Chain;
use crate::engine::decision::Term;

/// Clamps to `min`..=`max`, then to what the worker kind accepts.
pub(in crate::engine) fn apply(ctx: &Context, chain: &mut Chain) {
    let policy = ctx.policy;
    if chain.value < policy.min {
        chain.set(Term::Min, policy.min, format!("policy.min {}", policy.min));
    }
    if chain.value > policy.max {
        chain.set(Term::Max, policy.max, format!("policy.max {}", policy.max));
    }
    if let WorkerConfig::LambdaEventSourceMapping(_) = ctx.target.worker {
        let clamped = chain.value.clamp(2, 1000);
        if clamped != chain.value {
            chain.set(
                Term::WorkerLimits,
                clamped,
                "an event-source mapping's MaximumConcurrency must be 2-1000 (AWS)".into(),
            );
        }
    }
}
