//! qscale's functional core.
//!
//! [`engine::decide`] is pure: observations + state + policy + `now` in,
//! decision + new state + reasons out. [`reconcile::reconcile`] is the loop
//! around it, written against small port traits (metric source, actuator,
//! state store, audit sink); the real adapters live in other crates
//! (`qscale-aws`, `qscale-kafka`), the in-memory ones in [`reconcile::memory`].
//! This crate depends on no SDK, no Kafka client and no async runtime.

pub mod config;
pub mod engine;
pub mod reconcile;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
