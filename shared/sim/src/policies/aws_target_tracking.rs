//! The AWS Application Auto Scaling target-tracking baseline.

use std::sync::Mutex;

use jiff::Timestamp;

use super::autoscaler::Autoscaler;
use crate::world::World;
use qscale_core::config::PolicyConfig;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_published_example_1500_messages_target_100_gives_15() {
        // 10 instances, 1500 visible: 150 per instance, target 100 → 15.
        assert_eq!(AwsTargetTracking::proportional(10, 150.0, 100.0, 50), 15);
    }
}
