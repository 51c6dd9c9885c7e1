//! The KEDA + Kubernetes HPA baseline.

use std::sync::Mutex;

use jiff::Timestamp;

use super::autoscaler::Autoscaler;
use crate::world::World;
use qscale_core::config::{Aggregate, DirectionConfig, PolicyConfig, TargetConfig};
use qscale_core::engine::{
    decide, Measurement, Observations, SignalReading, SqsDepth, TargetState,
};

/// KEDA feeding the Kubernetes HPA, with their documented defaults.
///
/// Sources: KEDA `pkg/scalers/aws_sqs_queue_scaler.go` (metric = visible +
/// in-flight, `scaleOnInFlight` default true) and `kafka_scaler.go` (total lag,
/// capped at partitions × lagThreshold unless `allowIdleConsumers`); KEDA
/// ScaledObject defaults `pollingInterval: 30`, `cooldownPeriod: 300`,
/// activation threshold 0; HPA defaults (kubernetes.io, "Horizontal Pod
/// Autoscaling"): 15 s sync period, tolerance 0.1, scale-down stabilization
/// 300 s, scale-up `100% or 4 pods per 15 s, select max`, scale-down `100% per 15 s`.
/// Several triggers (one per queue) are several HPA metrics, and the HPA
/// "will calculate proposed replica counts for each metric, and then the
/// one with the highest replica count will be chosen" (same page, "Support
/// for multiple metrics"): `aggregate: max`.
/// HPA's own replica arithmetic is our engine's, which is pinned to the HPA
/// documentation's examples in `engine::rate_limit` tests.
pub struct KedaHpa {
    hpa: TargetConfig,
    state: TargetState,
    last_active: u32,
}

impl KedaHpa {
    /// HPA sync period.
    pub const SYNC_S: u32 = 15;
    /// KEDA pollingInterval (activation checks).
    pub const POLLING_S: u32 = 30;
    /// KEDA cooldownPeriod before scaling to zero.
    pub const COOLDOWN_PERIOD_S: u32 = 300;

    /// The HPA policy KEDA creates for `target` (min 1: zero is KEDA's business).
    pub fn hpa_policy(target: &PolicyConfig) -> PolicyConfig {
        let mut p = PolicyConfig::with_target(1, target.max, target.target_per_worker());
        p.tolerance = 0.1;
        p.aggregate = Aggregate::Max;
        // The HPA sets the count it computes whatever was set by hand.
        p.manual_override_hold = qscale_core::config::HumanDuration::secs(0);
        // KEDA's formula is backlog only: no keep-up term.
        p.target_utilization = None;
        p.scale_out = DirectionConfig::hpa_scale_out();
        p.scale_in = DirectionConfig::hpa_scale_in();
        p
    }

    /// KEDA + HPA for the same signals and target value as `target`.
    pub fn new(target: &TargetConfig) -> Self {
        let mut hpa = target.clone();
        hpa.policy = Self::hpa_policy(&target.policy);
        hpa.schedules.clear();
        KedaHpa {
            hpa,
            state: TargetState::default(),
            last_active: 0,
        }
    }
}

impl Autoscaler for KedaHpa {
    fn name(&self) -> String {
        "keda-hpa".into()
    }
    fn interval_s(&self) -> u32 {
        Self::SYNC_S
    }
    fn tick(&mut self, world: &Mutex<World>, now: Timestamp, t: u32) {
        let mut w = world.lock().unwrap();
        let snap = w.snapshot(0).clone();
        let current = w.observe();
        let active = snap.visible + snap.in_flight > 0;
        if active {
            self.last_active = t;
        }
        if current.desired == 0 {
            if active && t % Self::POLLING_S == 0 {
                w.set_desired(1);
            }
            return;
        }
        if !active && t % Self::POLLING_S == 0 && t - self.last_active >= Self::COOLDOWN_PERIOD_S {
            w.set_desired(0);
            return;
        }
        let signals = self
            .hpa
            .signals
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    s.name().to_string(),
                    SignalReading::Ok {
                        observed_at: now,
                        measurement: keda_sees(snap.reading(i, s)),
                    },
                )
            })
            .collect();
        let d = decide(
            &self.hpa,
            &self.state,
            &Observations {
                worker: current,
                signals,
            },
            now,
        );
        self.state = d.next_state;
        w.set_desired(d.desired);
    }
}

/// KEDA's SQS scaler reads the three depth counts only: it knows nothing
/// of FIFO message groups or dead-letter queues.
fn keda_sees(m: Measurement) -> Measurement {
    match m {
        Measurement::Sqs(d) => Measurement::Sqs(SqsDepth {
            visible: d.visible,
            in_flight: d.in_flight,
            delayed: d.delayed,
            ..SqsDepth::default()
        }),
        kafka => kafka,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keda_hpa_uses_the_hpa_defaults() {
        let p = KedaHpa::hpa_policy(&PolicyConfig::with_target(0, 50, 100.0));
        assert_eq!(p.tolerance, 0.1);
        assert_eq!(
            p.scale_in.stabilization,
            qscale_core::config::HumanDuration::secs(300)
        );
        assert_eq!(
            p.scale_out.stabilization,
            qscale_core::config::HumanDuration::secs(0)
        );
        assert_eq!(p.scale_out, DirectionConfig::hpa_scale_out());
        assert_eq!(p.target_utilization, None);
        assert_eq!(p.min, 1);
        assert_eq!(
            p.aggregate,
            Aggregate::Max,
            "HPA takes the max over metrics"
        );
    }
}
