//! What a run accumulates: paid and busy worker-seconds, waits, SLO
//! violation, actions and flaps.

use hdrhistogram::Histogram;

/// Waits below this many milliseconds are counted in a plain array and
/// merged into the histogram when read. HDR with 3 significant digits stores
/// every value below 2048 exactly, so the merged histogram is the one direct
/// recording gives, without the per-record bucket arithmetic that was over a
/// third of a day-long run (about 190 M waits at 1,000 workers).
const EXACT_MS: usize = 2048;

/// Accumulated results.
#[derive(Debug, Clone)]
pub struct Tally {
    /// Paid worker-seconds (starting, running and draining workers).
    pub paid_s: f64,
    /// Seconds workers spent processing.
    pub busy_s: f64,
    /// Message waits of 2048 ms and more; shorter ones are in `short_waits`.
    long_waits: Histogram<u64>,
    /// Count of waits per millisecond below [`EXACT_MS`].
    short_waits: Vec<u64>,
    /// The seconds in which the oldest waiting message was older than the SLO.
    pub slo_violation_at: Vec<u32>,
    /// Most messages waiting at once.
    pub peak_backlog: u64,
    /// Messages finished.
    pub completed: u64,
    /// Changes of the desired count.
    pub actions: u32,
    /// Direction changes within 10 minutes of the previous action.
    pub flaps: u32,
    /// Workers stopped with a message in hand (sent SIGTERM busy).
    pub busy_stopped: u64,
    /// Messages whose worker was killed before finishing them.
    pub redelivered: u64,
    /// Processing seconds spent on those messages, thrown away.
    pub work_lost_s: f64,
    last_action: Option<(u32, bool)>,
}

impl Tally {
    /// Nothing yet.
    pub(super) fn new() -> Tally {
        Tally {
            paid_s: 0.0,
            busy_s: 0.0,
            long_waits: Histogram::new_with_bounds(1, 7 * 86_400_000, 3).expect("bounds"),
            short_waits: vec![0; EXACT_MS],
            slo_violation_at: Vec::new(),
            peak_backlog: 0,
            completed: 0,
            actions: 0,
            flaps: 0,
            busy_stopped: 0,
            redelivered: 0,
            work_lost_s: 0.0,
            last_action: None,
        }
    }

    /// Records one message's wait, in milliseconds (at least 1).
    #[inline]
    pub(super) fn record_wait(&mut self, ms: u64) {
        match self.short_waits.get_mut(ms as usize) {
            Some(count) => *count += 1,
            None => {
                let _ = self.long_waits.record(ms);
            }
        }
    }

    /// Every message wait so far, milliseconds.
    pub fn waits_ms(&self) -> Histogram<u64> {
        let mut all = self.long_waits.clone();
        for (ms, &n) in self.short_waits.iter().enumerate().filter(|(_, n)| **n > 0) {
            let _ = all.record_n(ms as u64, n);
        }
        all
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
