//! The last half hour of a target's arrival rate, per minute, kept in its state
//! and copied into its audit events, so a real target's traffic can be
//! rebuilt from its audit trail (`qscale trace from-audit`). Scaling events
//! alone are too sparse for that: between them the rate is unknown, and a
//! burst rebuilt from them alone was off by a third (`derive::tests`).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Minutes kept: half an hour, a small share of the state item (an hour
/// brought the item near the 2 KB step to a third DynamoDB write unit per
/// tick: docs/benchmarks.md).
pub const ARRIVAL_MINUTES: usize = 30;

/// A target's events must carry its minutes at least this often, or it
/// publishes one for that alone (before the oldest unpublished minute is dropped).
pub const ARRIVALS_AUDIT_EVERY_MINUTES: i64 = 25;

/// Mean arrival rate per minute.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinuteRates {
    /// Minute of `per_minute[0]`, minutes since the epoch (UTC).
    pub first_minute: i64,
    /// Messages per second, oldest first; `null` for a minute no decision saw.
    pub per_minute: Vec<Option<f64>>,
}

impl MinuteRates {
    /// Nothing recorded.
    pub fn is_empty(&self) -> bool {
        self.per_minute.is_empty()
    }
}

/// The minutes and what the audit trail already holds of them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrivalHistory {
    /// The rates.
    pub rates: MinuteRates,
    /// Decisions averaged into the last minute so far.
    #[serde(default)]
    pub last_samples: u32,
    /// The minute of the last claimed audit event that carried the rates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audited_minute: Option<i64>,
    /// The decision that recorded last: a replay of its tick adds nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<Timestamp>,
}

impl ArrivalHistory {
    /// Nothing recorded.
    pub fn is_empty(&self) -> bool {
        self.rates.is_empty()
    }

    /// Records `rate` (messages/s), decided at `now`, into the mean of the
    /// minute of `at` (the middle of the interval the rate describes).
    pub fn record(&mut self, now: Timestamp, at: Timestamp, rate: f64) {
        if self.recorded_at.is_some_and(|r| r >= now) {
            return;
        }
        self.recorded_at = Some(now);
        let minute = at.as_second().div_euclid(60);
        let rate = rate.max(0.0);
        let r = &mut self.rates;
        let index = minute - r.first_minute;
        if r.per_minute.is_empty() || index >= (r.per_minute.len() + ARRIVAL_MINUTES) as i64 {
            // Empty, or a gap longer than the window.
            *r = MinuteRates {
                first_minute: minute,
                per_minute: vec![Some(significant(rate))],
            };
            self.last_samples = 1;
            return;
        }
        if index < 0 || (index as usize) + 1 < r.per_minute.len() {
            // An earlier minute (late or skewed clock): that minute is closed.
            return;
        }
        let index = index as usize;
        if index >= r.per_minute.len() {
            r.per_minute.resize(index + 1, None);
            self.last_samples = 0;
        }
        let n = self.last_samples as f64;
        let slot = &mut r.per_minute[index];
        *slot = Some(significant((slot.unwrap_or(0.0) * n + rate) / (n + 1.0)));
        self.last_samples += 1;
        let excess = r.per_minute.len().saturating_sub(ARRIVAL_MINUTES);
        r.per_minute.drain(..excess);
        r.first_minute += excess as i64;
    }

    /// Whether minutes would be dropped unpublished unless an event carries
    /// them now.
    pub fn audit_due(&self, now: Timestamp) -> bool {
        if self.is_empty() {
            return false;
        }
        let minute = now.as_second().div_euclid(60);
        let since = self
            .audited_minute
            .unwrap_or(self.rates.first_minute - 1)
            .max(self.rates.first_minute - 1);
        minute - since >= ARRIVALS_AUDIT_EVERY_MINUTES
    }

    /// An event claimed at `now` carries the minutes.
    pub fn mark_audited(&mut self, now: Timestamp) {
        self.audited_minute = Some(now.as_second().div_euclid(60));
    }
}

/// Four significant digits keep the stored JSON short.
fn significant(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return 0.0;
    }
    let scale = 10f64.powi(3 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64, second: i64) -> Timestamp {
        Timestamp::from_second(minute * 60 + second).unwrap()
    }

    /// Records as a decision at `t` about `t` would.
    fn rec(h: &mut ArrivalHistory, t: Timestamp, rate: f64) {
        h.record(t, t, rate);
    }

    #[test]
    fn keeps_each_minutes_mean_and_an_hour_at_most() {
        let mut h = ArrivalHistory::default();
        rec(&mut h, at(100, 10), 10.0);
        rec(&mut h, at(100, 40), 20.0);
        rec(&mut h, at(102, 5), 7.0);
        assert_eq!(h.rates.first_minute, 100);
        assert_eq!(h.rates.per_minute, [Some(15.0), None, Some(7.0)]);
        // A replay of a decision changes nothing; a decision about a
        // closed minute neither.
        h.record(at(102, 5), at(102, 5), 1000.0);
        assert_eq!(h.rates.per_minute[2], Some(7.0));
        h.record(at(103, 0), at(100, 50), 1000.0);
        assert_eq!(h.rates.per_minute[0], Some(15.0));
        for m in 103..300 {
            rec(&mut h, at(m, 0), m as f64);
        }
        assert_eq!(h.rates.per_minute.len(), ARRIVAL_MINUTES);
        assert_eq!(h.rates.first_minute, 300 - ARRIVAL_MINUTES as i64);
        assert_eq!(h.rates.per_minute.last(), Some(&Some(299.0)));
        // A gap longer than the window starts afresh.
        rec(&mut h, at(1000, 0), 3.0);
        assert_eq!(
            h.rates,
            MinuteRates {
                first_minute: 1000,
                per_minute: vec![Some(3.0)]
            }
        );
    }

    #[test]
    fn an_audit_is_due_before_unpublished_minutes_would_be_dropped() {
        let mut h = ArrivalHistory::default();
        assert!(!h.audit_due(at(0, 0)));
        rec(&mut h, at(10, 0), 1.0);
        assert!(!h.audit_due(at(10, 0)));
        assert!(!h.audit_due(at(33, 59)));
        assert!(h.audit_due(at(34, 0)));
        h.mark_audited(at(34, 0));
        assert!(!h.audit_due(at(58, 0)));
        assert!(h.audit_due(at(59, 0)));
        assert!(ARRIVALS_AUDIT_EVERY_MINUTES < ARRIVAL_MINUTES as i64);
    }

    #[test]
    fn rounds_to_four_significant_digits() {
        assert_eq!(significant(1234.567), 1235.0);
        assert_eq!(significant(0.0123456), 0.01235);
        assert_eq!(significant(-0.0), 0.0);
    }
}
