//! What every simulated policy is: a scaler ticked by the simulation clock.

use std::sync::Mutex;

use jiff::Timestamp;

use crate::world::World;

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
