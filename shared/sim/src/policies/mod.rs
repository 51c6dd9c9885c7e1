//! The policies compared in one harness, one file each: qscale itself
//! (through the real reconcile path), the systems people would use instead,
//! and the clairvoyant oracle; `registry` lists them.

pub mod autoscaler;
pub mod aws_target_tracking;
pub mod keda_hpa;
pub mod oracle;
pub mod qscale;
pub mod registry;
pub mod static_peak;

pub use autoscaler::Autoscaler;
pub use aws_target_tracking::AwsTargetTracking;
pub use keda_hpa::KedaHpa;
pub use oracle::Oracle;
pub use qscale::Qscale;
pub use registry::{compare, names, policies, Policy, POLICIES};
pub use static_peak::StaticPeak;
