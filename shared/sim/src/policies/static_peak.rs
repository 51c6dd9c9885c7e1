//! The no-autoscaler baseline: a fixed fleet sized for the peak.

use std::sync::Mutex;

use jiff::Timestamp;

use super::autoscaler::Autoscaler;
use crate::world::World;

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
    fn static_peak_covers_the_peak() {
        assert_eq!(StaticPeak::for_peak(200.0, 0.2).workers, 40);
    }
}
