//! The target's load history: the arrival load per minute (three hours)
//! and per hour (15 days), the mean of each slot's decisions. The forecast
//! reads it (`forecast`); every decision with `policy.forecast` records into it.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Minutes of load kept: three hours, enough for three 60-minute periods.
pub const HISTORY_MINUTES: usize = 180;
/// Hours of load kept: 15 days, two weekly periods and a day.
pub const HISTORY_HOURS: usize = 360;

/// The per-minute load history in a target's state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadHistory {
    /// Start of the minute of `minutes[0]`, seconds since the epoch.
    pub first_minute: i64,
    /// Mean arrival load of each minute, busy workers, oldest first.
    pub minutes: Vec<f64>,
    /// Decisions averaged into the last minute so far.
    #[serde(default)]
    pub last_samples: u32,
    /// Start of the hour of `hours[0]`, hours since the epoch.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub first_hour: i64,
    /// Mean arrival load of each hour, busy workers, oldest first (daily and
    /// weekly periods).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hours: Vec<f64>,
    /// Decisions averaged into the last hour so far.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hour_samples: u32,
}

fn is_zero<T: Default + PartialEq>(n: &T) -> bool {
    *n == T::default()
}

/// Adds `load` to the mean of slot `slot` of a series whose first slot is
/// `first`, keeping the last `keep` slots.
fn record_into(
    series: &mut Vec<f64>,
    first: &mut i64,
    samples: &mut u32,
    slot: i64,
    load: f64,
    keep: usize,
    precision: f64,
) {
    let index = slot - *first;
    if index < 0 && !series.is_empty() {
        // Older than the history (a late or skewed clock): nothing to add.
        return;
    }
    if series.is_empty() || index as usize >= series.len() + keep {
        // Empty, or a gap longer than the history.
        *series = vec![round_to(load, precision)];
        *first = slot;
        *samples = 1;
        return;
    }
    let index = index as usize;
    if index >= series.len() {
        series.resize(index + 1, 0.0);
        *samples = 0;
    } else if index + 1 < series.len() {
        // A late decision for an earlier slot: that slot is closed.
        return;
    }
    let n = *samples as f64;
    let value = &mut series[index];
    *value = round_to((*value * n + load) / (n + 1.0), precision);
    *samples += 1;
    let excess = series.len().saturating_sub(keep);
    series.drain(..excess);
    *first += excess as i64;
}

impl LoadHistory {
    /// Nothing recorded.
    pub fn is_empty(&self) -> bool {
        self.minutes.is_empty()
    }

    /// Records `load` busy workers at `now` into its minute's and its hour's
    /// mean; minutes and hours without a decision stay at 0, and the oldest
    /// are dropped.
    pub fn record(&mut self, now: Timestamp, load: f64) {
        let load = load.max(0.0);
        let second = now.as_second();
        record_into(
            &mut self.minutes,
            &mut self.first_minute,
            &mut self.last_samples,
            second.div_euclid(60),
            load,
            HISTORY_MINUTES,
            100.0,
        );
        record_into(
            &mut self.hours,
            &mut self.first_hour,
            &mut self.hour_samples,
            second.div_euclid(3600),
            load,
            HISTORY_HOURS,
            10.0,
        );
    }

    /// Complete minutes before `now`, oldest first.
    pub(crate) fn complete(&self, now: Timestamp) -> &[f64] {
        complete_slots(
            &self.minutes,
            self.first_minute,
            now.as_second().div_euclid(60),
        )
    }

    /// Complete hours before `now`, oldest first.
    pub(crate) fn complete_hours(&self, now: Timestamp) -> &[f64] {
        complete_slots(
            &self.hours,
            self.first_hour,
            now.as_second().div_euclid(3600),
        )
    }
}

/// The slots of `series` (the first is slot `first`) before slot `current`.
fn complete_slots(series: &[f64], first: i64, current: i64) -> &[f64] {
    let end = (current - first).clamp(0, series.len() as i64) as usize;
    &series[..end]
}

/// Rounds to 1/`per_unit` (0.01 for minutes, 0.1 for hours) to keep the stored
/// JSON short.
fn round_to(x: f64, per_unit: f64) -> f64 {
    (x * per_unit).round() / per_unit
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::{at_minute, load_history as history};

    #[test]
    fn records_the_minutes_mean_and_stays_bounded() {
        let mut h = LoadHistory::default();
        h.record(at_minute(0), 3.0);
        h.record(at_minute(0) + jiff::SignedDuration::from_secs(30), 7.0);
        h.record(at_minute(2), 1.0);
        assert_eq!(h.minutes, vec![5.0, 0.0, 1.0]);
        // Late readings for closed or older minutes change nothing.
        h.record(at_minute(1), 9.0);
        h.record(at_minute(-5), 9.0);
        assert_eq!(h.minutes, vec![5.0, 0.0, 1.0]);
        let long = history(500, |m| m as f64);
        assert_eq!(long.minutes.len(), HISTORY_MINUTES);
        assert_eq!(long.minutes[0], 320.0);
        // 180 minutes as JSON: a few KB in a 400 KB item.
        let bytes = serde_json::to_string(&long).unwrap().len();
        assert!(bytes < 2_000, "{bytes} bytes");
        let noisy = history(500, |m| m as f64 / 3.0 + 1000.0);
        let bytes = serde_json::to_string(&noisy).unwrap().len();
        assert!(bytes < 2_500, "{bytes} bytes");
    }
}
