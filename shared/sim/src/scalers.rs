//! The policies compared in one harness: qscale itself (through the real
//! reconcile path) and the systems people would use instead.

use std::sync::Mutex;

use jiff::Timestamp;

use super::adapters::{CountingAudit, MetricRead, SimActuator, SimMetrics};
use super::world::World;
use qscale_core::config::{DirectionConfig, PolicyConfig, TargetConfig};
use qscale_core::engine::{decide, Measurement, Observations, SignalReading, TargetState};
use qscale_core::reconcile::memory::{block_on_ready, MemoryStateStore};
use qscale_core::reconcile::{reconcile, AuditEvent, Ports, ReconcileOptions};

/// A scaling policy driven by the simulation clock.
pub trait Autoscaler {
    /// Name in reports.
    fn name(&self) -> String;
    /// Seconds between ticks.
    fn interval_s(&self) -> u32;
    /// One tick at simulated time `now` (second `t` of the run).
    fn tick(&mut self, world: &Mutex<World>, now: Timestamp, t: u32);
    /// Workers at the start, if the policy fixes them.
    fn initial_workers(&self) -> Option<u32> {
        None
    }
}

/// qscale: the production reconcile (state store, audit, decide) on simulated adapters.
pub struct Qscale {
    /// Name in reports.
    pub label: String,
    /// The target as configured.
    pub target: TargetConfig,
    /// Tick interval from the config.
    pub interval_s: u32,
    /// How qscale's metric source sees the world.
    pub metric_read: MetricRead,
    store: MemoryStateStore,
    audit: CountingAudit,
}

impl Qscale {
    /// qscale on `target`.
    pub fn new(
        label: &str,
        target: TargetConfig,
        interval_s: u32,
        metric_read: MetricRead,
    ) -> Self {
        Qscale {
            label: label.to_string(),
            target,
            interval_s,
            metric_read,
            store: MemoryStateStore::default(),
            audit: CountingAudit::default(),
        }
    }

    /// Keeps the audit events it publishes (for `audit_events`).
    pub fn keeping_audit(mut self) -> Self {
        self.audit.kept = Some(Mutex::new(Vec::new()));
        self
    }

    /// The audit events published so far, when kept.
    pub fn audit_events(&self) -> Vec<AuditEvent> {
        self.audit
            .kept
            .as_ref()
            .map(|k| k.lock().unwrap().clone())
            .unwrap_or_default()
    }
}

impl Autoscaler for Qscale {
    fn name(&self) -> String {
        self.label.clone()
    }
    fn interval_s(&self) -> u32 {
        self.interval_s
    }
    fn tick(&mut self, world: &Mutex<World>, now: Timestamp, _t: u32) {
        let metrics = SimMetrics {
            world,
            read: self.metric_read,
        };
        let actuator = SimActuator { world };
        let ports = Ports {
            metrics: &metrics,
            actuator: &actuator,
            store: &self.store,
            audit: &self.audit,
        };
        block_on_ready(reconcile(
            &self.target,
            now,
            &ports,
            ReconcileOptions::default(),
        ));
    }
}

/// KEDA feeding the Kubernetes HPA, with their documented defaults.
///
/// Sources: KEDA `pkg/scalers/aws_sqs_queue_scaler.go` (metric = visible +
/// in-flight, `scaleOnInFlight` default true) and `kafka_scaler.go` (total lag,
/// capped at partitions × lagThreshold unless `allowIdleConsumers`); KEDA
/// ScaledObject defaults `pollingInterval: 30`, `cooldownPeriod: 300`,
/// activation threshold 0; HPA defaults (kubernetes.io, "Horizontal Pod
/// Autoscaling"): 15 s sync period, tolerance 0.1, scale-down stabilization
/// 300 s, scale-up `100% or 4 pods per 15 s, select max`, scale-down `100% per 15 s`.
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
            .map(|s| {
                let m = match s {
                    qscale_core::config::SignalConfig::Sqs(_) => Measurement::Sqs(snap.sqs()),
                    qscale_core::config::SignalConfig::Kafka(_) => Measurement::Kafka(snap.kafka()),
                };
                (
                    s.name().to_string(),
                    SignalReading::Ok {
                        observed_at: now,
                        measurement: m,
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

/// AWS Application Auto Scaling target tracking on backlog per instance.
///
/// Sources: AWS docs "Scaling policy based on Amazon SQS" (backlog per
/// instance = ApproximateNumberOfMessagesVisible / running capacity, target =
/// acceptable latency / processing time; 1500 messages, target 100 → 15
/// instances) and "Target tracking scaling policies" (the managed alarms: scale
/// out after 3 one-minute datapoints above target, scale in after 15 below it;
/// capacity changed in proportion to metric / target; ECS default cooldowns
/// 300 s out and in; a scale-out during scale-out cooldown only if larger than
/// the one that started it). CloudWatch datapoints are one-minute averages
/// available a minute late. Min capacity 1: a per-instance metric cannot
/// scale from zero. AWS documents that target tracking "scales in more
/// gradually" than it scales out without publishing the rule; we assume at
/// most 10% of capacity (at least 1) per scale-in, which makes this baseline
/// stronger than a proportional cliff to the minimum.
pub struct AwsTargetTracking {
    target_value: f64,
    max: u32,
    high: u32,
    low: u32,
    last_out: Option<(u32, u32)>,
    last_in: Option<u32>,
}

impl AwsTargetTracking {
    /// Datapoints above target before scale-out.
    pub const OUT_DATAPOINTS: u32 = 3;
    /// Datapoints below 90% of target before scale-in.
    pub const IN_DATAPOINTS: u32 = 15;
    /// Cooldowns, seconds.
    pub const COOLDOWN_S: u32 = 300;
    /// Largest share of capacity one scale-in removes (our assumption, see above).
    pub const MAX_SCALE_IN_SHARE: f64 = 0.1;

    /// Target tracking with the same target value and max as `policy`.
    pub fn new(policy: &PolicyConfig) -> Self {
        AwsTargetTracking {
            target_value: policy.target_per_worker(),
            max: policy.max,
            high: 0,
            low: 0,
            last_out: None,
            last_in: None,
        }
    }

    /// Proportional new capacity: ceil(current × metric / target), within [1, max].
    pub fn proportional(current: u32, metric: f64, target: f64, max: u32) -> u32 {
        ((current.max(1) as f64 * metric / target).ceil() as u32).clamp(1, max)
    }
}

impl Autoscaler for AwsTargetTracking {
    fn name(&self) -> String {
        "aws-target-tracking".into()
    }
    fn interval_s(&self) -> u32 {
        60
    }
    fn tick(&mut self, world: &Mutex<World>, _now: Timestamp, t: u32) {
        let mut w = world.lock().unwrap();
        // The previous full minute, as CloudWatch has it now.
        let (visible, running) = w.window_mean(120, 60);
        let metric = visible / running.max(1.0);
        let current = w.observe().desired;
        if current == 0 {
            w.set_desired(1);
            return;
        }
        self.high = if metric > self.target_value {
            self.high + 1
        } else {
            0
        };
        self.low = if metric < 0.9 * self.target_value {
            self.low + 1
        } else {
            0
        };
        if self.high >= Self::OUT_DATAPOINTS {
            let desired = Self::proportional(current, metric, self.target_value, self.max);
            let in_cooldown = self
                .last_out
                .is_some_and(|(at, to)| t < at + Self::COOLDOWN_S && desired <= to);
            if desired > current && !in_cooldown {
                w.set_desired(desired);
                self.last_out = Some((t, desired));
            }
        } else if self.low >= Self::IN_DATAPOINTS {
            let step = (current as f64 * Self::MAX_SCALE_IN_SHARE).ceil().max(1.0) as u32;
            let desired = Self::proportional(current, metric, self.target_value, self.max)
                .max(current.saturating_sub(step));
            let in_cooldown = self.last_in.is_some_and(|at| t < at + Self::COOLDOWN_S);
            if desired < current && !in_cooldown {
                w.set_desired(desired);
                self.last_in = Some(t);
            }
        }
    }
}

/// Static provisioning for the peak: ceil(peak rate × mean processing time)
/// workers the whole time, the classic no-autoscaler baseline.
pub struct StaticPeak {
    /// The fixed count.
    pub workers: u32,
}

impl StaticPeak {
    /// Workers that keep up with `peak_rate` at `service_mean_s` per message.
    pub fn for_peak(peak_rate: f64, service_mean_s: f64) -> Self {
        StaticPeak {
            workers: (peak_rate * service_mean_s).ceil().max(1.0) as u32,
        }
    }
}

impl Autoscaler for StaticPeak {
    fn name(&self) -> String {
        "static-peak".into()
    }
    fn interval_s(&self) -> u32 {
        u32::MAX
    }
    fn tick(&mut self, _world: &Mutex<World>, _now: Timestamp, _t: u32) {}
    fn initial_workers(&self) -> Option<u32> {
        Some(self.workers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_published_example_1500_messages_target_100_gives_15() {
        // 10 instances, 1500 visible: 150 per instance, target 100 → 15.
        assert_eq!(AwsTargetTracking::proportional(10, 150.0, 100.0, 50), 15);
    }

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
    }

    #[test]
    fn static_peak_covers_the_peak() {
        assert_eq!(StaticPeak::for_peak(200.0, 0.2).workers, 40);
    }
}
