//! The one list of the policies the simulator can run, by name, and running
//! several side by side. A new policy is one file beside this one and one
//! row here.

use super::autoscaler::Autoscaler;
use super::aws_target_tracking::AwsTargetTracking;
use super::keda_hpa::KedaHpa;
use super::oracle::Oracle;
use super::qscale::Qscale;
use super::static_peak::StaticPeak;
use crate::run::{simulate, RunResult, SimSpec};
use qscale_core::config::{Config, TargetConfig};

/// A policy `--policy` accepts: its name and how it is built for a target.
pub struct Policy {
    /// Name on the command line and in reports.
    pub name: &'static str,
    build: fn(&Config, &TargetConfig, &SimSpec) -> Box<dyn Autoscaler>,
}

/// Every policy, in report order.
pub const POLICIES: &[Policy] = &[
    Policy {
        name: "qscale",
        build: |config, target, spec| {
            Box::new(Qscale::new(
                "qscale",
                target.clone(),
                config.tick_interval.0.as_secs().max(1) as u32,
                spec.metric_read,
            ))
        },
    },
    Policy {
        name: "keda-hpa",
        build: |_, target, _| Box::new(KedaHpa::new(target)),
    },
    Policy {
        name: "aws-target-tracking",
        build: |_, target, _| Box::new(AwsTargetTracking::new(&target.policy)),
    },
    Policy {
        name: "static-peak",
        build: |_, _, spec| {
            Box::new(StaticPeak::for_peak(
                spec.trace.peak(),
                spec.workers.service_mean_s,
            ))
        },
    },
    Policy {
        name: "oracle",
        build: |_, target, spec| Box::new(Oracle::new(spec, target.policy.max)),
    },
];

/// Every policy's name, in report order.
pub fn names() -> Vec<String> {
    POLICIES.iter().map(|p| p.name.to_string()).collect()
}

/// Builds the named policies for a target.
pub fn policies(
    names: &[String],
    config: &Config,
    target: &TargetConfig,
    spec: &SimSpec,
) -> Result<Vec<Box<dyn Autoscaler>>, String> {
    names
        .iter()
        .map(|n| match POLICIES.iter().find(|p| p.name == n.as_str()) {
            Some(p) => Ok((p.build)(config, target, spec)),
            None => Err(format!("policy {n:?} is not one of {:?}", self::names())),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_policy_is_named_with_the_known_ones() {
        let config = Config::from_yaml(crate::DEMO_CONFIG).unwrap();
        let target = &config.targets[0];
        let spec = SimSpec::new(
            crate::Trace::bundled("steady").unwrap(),
            crate::QueueModel::Sqs,
        );
        let Err(e) = policies(&["keda".into()], &config, target, &spec) else {
            panic!("keda is not a policy")
        };
        assert_eq!(
            e,
            "policy \"keda\" is not one of [\"qscale\", \"keda-hpa\", \"aws-target-tracking\", \"static-peak\", \"oracle\"]"
        );
        let built = policies(&names(), &config, target, &spec).unwrap();
        let built: Vec<String> = built.iter().map(|p| p.name()).collect();
        assert_eq!(built, names(), "each row builds the policy it names");
    }
}
