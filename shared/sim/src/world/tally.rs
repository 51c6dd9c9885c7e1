//! What a run accumulates: paid and busy worker-seconds, waits, SLO
//! violation, actions and flaps.

use hdrhistogram::Histogram;

/// Accumulated results.
#[derive(Debug, Clone)]
pub struct Tally {
    /// Paid worker-seconds (starting, running and draining workers).
    pub paid_s: f64,
    /// Seconds workers spent processing.
    pub busy_s: f64,
    /// Message waits, milliseconds.
    pub waits_ms: Histogram<u64>,
    /// Seconds in which the oldest waiting message was older than the SLO.
    pub slo_violation_s: u64,
    /// Most messages waiting at once.
    pub peak_backlog: u64,
    /// Messages finished.
    pub completed: u64,
    /// Changes of the desired count.
    pub actions: u32,
    /// Direction changes within 10 minutes of the previous action.
    pub flaps: u32,
    last_action: Option<(u32, bool)>,
}

impl Tally {
    /// Nothing yet.
    pub(super) fn new() -> Tally {
        Tally {
            paid_s: 0.0,
            busy_s: 0.0,
            waits_ms: Histogram::new_with_bounds(1, 7 * 86_400_000, 3).expect("bounds"),
            slo_violation_s: 0,
            peak_backlog: 0,
            completed: 0,
            actions: 0,
            flaps: 0,
            last_action: None,
        }
    }

    /// Counts a change of the desired count at second `t`, and a flap when it
    /// reverses the previous action's direction within 10 minutes.
    pub(super) fn record_action(&mut self, t: u32, out: bool) {
        self.actions += 1;
        if let Some((at, was_out)) = self.last_action {
            if was_out != out && t.saturating_sub(at) <= 600 {
                self.flaps += 1;
            }
        }
        self.last_action = Some((t, out));
    }
}
