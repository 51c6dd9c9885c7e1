//! The rules that can change a decision's count, one file each, in the
//! order `decide` applies them. Each takes the decision's [`Context`] and
//! the running [`Chain`](super::chain::Chain); a rule that changes the
//! count records the `Term` it is, and the docs' numbered steps follow this
//! order (docs/decisions.md; docs/ARCHITECTURE.md maps each term to its file).

pub(super) mod activation;
pub(super) mod adoption;
pub(super) mod bounds;
pub(super) mod caps;
mod context;
pub(super) mod cooldown;
pub(super) mod deployment;
pub(super) mod fallback;
pub(super) mod floor;
pub(super) mod forecast;
pub(super) mod manual;
pub(super) mod pause;
pub(super) mod poison;
pub(super) mod protection;
pub(super) mod rate_limit;
pub(super) mod stabilization;
pub(super) mod stuck;
pub(super) mod tracking;
pub(super) mod untrusted;

#[cfg(test)]
pub(super) use context::with_test_context;
pub(super) use context::{Context, Signals};
