//! The simulator: a discrete-time world (1 s steps, seeded) scaled by the
//! real reconcile code or by a baseline, and the report comparing them.

pub mod adapters;
pub mod derive;
pub mod html;
pub mod policies;
pub mod report;
pub mod run;
pub mod sweep;
pub mod trace;
pub mod trace_file;
pub mod verdict;
pub mod world;

pub use adapters::MetricRead;
pub use policies::{compare, policies, POLICIES};
pub use policies::{Autoscaler, AwsTargetTracking, KedaHpa, Qscale, StaticPeak};
pub use run::{simulate, RunResult, Sample, SimSpec};
pub use trace::{Trace, BUNDLED};
pub use trace_file::TraceError;
pub use world::{CapacityCeiling, PoisonModel, QueueModel, VictimOrder, WorkerModel, World};

/// The embedded demo config: the policy qscale runs with by default.
pub const DEMO_CONFIG: &str = include_str!("../../configs/demo.yaml");

#[cfg(test)]
mod tests;
