//! qscale: a queue-driven worker autoscaler.
//!
//! Functional core, imperative shell: [`engine::decide`] is pure; everything
//! that touches the world sits behind small traits with real and in-memory
//! implementations.

pub mod aws;
pub mod config;
pub mod engine;
pub mod handlers;
pub mod io;
pub mod kafka;
pub mod live;
pub mod reconcile;
pub mod sim;
