//! The policies the simulator can run, by name, and running several side by side.

use crate::oracle;
use crate::run::{simulate, RunResult, SimSpec};
use crate::scalers::{Autoscaler, AwsTargetTracking, KedaHpa, Qscale, StaticPeak};
use qscale_core::config::{Config, TargetConfig};

/// Policy names accepted by `--policy`.
pub const POLICIES: &[&str] = &[
    "qscale",
    "keda-hpa",
    "aws-target-tracking",
    "static-peak",
    "oracle",
];

/// Builds the named policies for a target.
pub fn policies(
    names: &[String],
    config: &Config,
    target: &TargetConfig,
    spec: &SimSpec,
) -> Result<Vec<Box<dyn Autoscaler>>, String> {
    names
        .iter()
        .map(|n| -> Result<Box<dyn Autoscaler>, String> {
            Ok(match n.as_str() {
                "qscale" => Box::new(Qscale::new(
                    "qscale",
                    target.clone(),
                    config.tick_interval.0.as_secs().max(1) as u32,
                    spec.metric_read,
                )),
                "keda-hpa" => Box::new(KedaHpa::new(target)),
                "aws-target-tracking" => Box::new(AwsTargetTracking::new(&target.policy)),
                "static-peak" => Box::new(StaticPeak::for_peak(
                    spec.trace.peak(),
                    spec.workers.service_mean_s,
                )),
                "oracle" => Box::new(oracle::Oracle::new(spec, target.policy.max)),
                other => return Err(format!("policy {other:?} is not one of {POLICIES:?}")),
            })
        })
        .collect()
}

/// Runs every named policy over a scenario, side by side on the same traffic.
pub fn compare(
    spec: &SimSpec,
    config: &Config,
    target: &TargetConfig,
    names: &[String],
) -> Result<Vec<RunResult>, String> {
    let mut out = Vec::new();
    for mut p in policies(names, config, target, spec)? {
        out.push(simulate(spec, p.as_mut()));
    }
    Ok(out)
}
