//! The simulator: a discrete-time world (1 s steps, seeded) scaled by the
//! real reconcile code or by a baseline, and the report comparing them.

pub mod adapters;
pub mod derive;
pub mod html;
pub mod oracle;
pub mod registry;
pub mod report;
pub mod run;
pub mod scalers;
pub mod sweep;
pub mod trace;
pub mod trace_file;
pub mod verdict;
pub mod world;

pub use adapters::MetricRead;
pub use registry::{compare, policies, POLICIES};
pub use run::{simulate, RunResult, Sample, SimSpec};
pub use scalers::{Autoscaler, AwsTargetTracking, KedaHpa, Qscale, StaticPeak};
pub use trace::{Trace, BUNDLED};
pub use trace_file::TraceError;
pub use world::{QueueModel, WorkerModel, World};

/// The embedded demo config: the policy qscale runs with by default.
pub const DEMO_CONFIG: &str = include_str!("../../configs/demo.yaml");

#[cfg(test)]
mod tests;
