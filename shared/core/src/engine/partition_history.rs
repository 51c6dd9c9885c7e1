//! What a partition's recent offsets say: production rate, lag in seconds
//! (interpolated as kafka-lag-exporter does) and a Burrow-style status.
//! Pure functions over the bounded history kept in state.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Samples kept per partition.
pub const HISTORY_LEN: usize = 16;

/// One observation of a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OffsetSample {
    /// When.
    pub at: Timestamp,
    /// High watermark (next offset to be written).
    pub high: i64,
    /// The group's committed offset.
    #[serde(default)]
    pub committed: Option<i64>,
}

/// A partition's health, in the spirit of Burrow's evaluator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionStatus {
    /// No lag, or the consumer moves and the lag does not grow.
    Ok,
    /// The committed offset moves but the lag grows over the window.
    LaggingMoving,
    /// Lag, the committed offset fixed for the stuck window, and the group has
    /// members: a consumer is there but not progressing. More workers cannot help.
    Stalled,
    /// Lag, the committed offset fixed for the window, and the group has no
    /// members: nobody consumes. Workers are what it needs.
    Stopped,
}

/// Messages per second produced between the last two samples.
pub fn production_rate(history: &[OffsetSample]) -> Option<f64> {
    let [.., a, b] = history else { return None };
    let dt = b.at.duration_since(a.at).as_secs_f64();
    (dt > 0.0).then(|| b.high.saturating_sub(a.high).max(0) as f64 / dt)
}

/// How long ago the next message to consume (offset `committed`) was
/// produced: the time the high watermark passed it, interpolated between
/// samples; before the oldest sample, extrapolated at the oldest rate.
/// `None` without committed offset or history.
pub fn lag_seconds(
    history: &[OffsetSample],
    committed: Option<i64>,
    now: Timestamp,
) -> Option<f64> {
    let c = committed?;
    let last = history.last()?;
    if c >= last.high {
        return Some(0.0);
    }
    let secs = |t: Timestamp| now.duration_since(t).as_secs_f64();
    // Offset c was written when the high watermark went from <= c to > c.
    for w in history.windows(2) {
        let (a, b) = (w[0], w[1]);
        if a.high <= c && c < b.high {
            // In f64: offsets come from outside and may be anywhere in i64.
            let f = (c as f64 - a.high as f64) / (b.high as f64 - a.high as f64);
            let produced_at = secs(a.at) - f * b.at.duration_since(a.at).as_secs_f64();
            return Some(produced_at.max(0.0));
        }
    }
    let first = history[0];
    match production_rate(&history[..history.len().min(2)]) {
        Some(rate) if rate > 0.0 => Some(secs(first.at) + (first.high as f64 - c as f64) / rate),
        // At least as old as the oldest sample.
        _ => Some(secs(first.at)),
    }
}

/// Status of one partition from its history (newest last), its current lag,
/// how many observations its committed offset has not moved, and the group's
/// member count when known.
pub fn classify(
    history: &[OffsetSample],
    lag: u64,
    unchanged_observations: u32,
    stuck_after: u32,
    members: Option<u32>,
) -> PartitionStatus {
    if lag == 0 {
        return PartitionStatus::Ok;
    }
    if unchanged_observations >= stuck_after {
        return if members == Some(0) {
            PartitionStatus::Stopped
        } else {
            PartitionStatus::Stalled
        };
    }
    let lag_of = |s: &OffsetSample| s.committed.map(|c| s.high.saturating_sub(c).max(0));
    match (
        history.first().and_then(lag_of),
        history.last().and_then(lag_of),
    ) {
        (Some(first), Some(last)) if history.len() >= 3 && last > first => {
            PartitionStatus::LaggingMoving
        }
        _ => PartitionStatus::Ok,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_795_392_000 + s).unwrap()
    }

    /// 10 msg/s for 5 minutes, sampled every 30 s: high = 10 × t.
    fn steady() -> Vec<OffsetSample> {
        (0..=10)
            .map(|i| OffsetSample {
                at: at(i * 30),
                high: 300 * i,
                committed: None,
            })
            .collect()
    }

    #[test]
    fn offsets_at_the_ends_of_i64_do_not_overflow() {
        // Found by tests/fuzz.rs: a stored committed offset of i64::MIN.
        let h: Vec<OffsetSample> = [(i64::MIN, Some(i64::MAX)), (i64::MAX, Some(i64::MIN))]
            .iter()
            .enumerate()
            .map(|(i, &(high, committed))| OffsetSample {
                at: at(i as i64 * 30),
                high,
                committed,
            })
            .collect();
        assert!(production_rate(&h).is_some());
        assert!(lag_seconds(&h, Some(0), at(60)).is_some());
        assert!(lag_seconds(&h, Some(i64::MIN), at(60)).is_some());
        classify(&h, 1, 0, 5, None);
    }

    #[test]
    fn lag_seconds_lands_within_10_percent_of_the_known_answer() {
        let h = steady();
        let now = at(300);
        // Committed 2,400 at 10 msg/s: written at t = 240 s, so 60 s behind.
        let s = lag_seconds(&h, Some(2400), now).unwrap();
        assert!((s - 60.0).abs() <= 6.0, "{s}");
        // Between samples: 2,550 was written at 255 s: 45 s.
        let s = lag_seconds(&h, Some(2550), now).unwrap();
        assert!((s - 45.0).abs() <= 4.5, "{s}");
        // Older than the history: extrapolated at the oldest rate (offset -600 → t = -60 s).
        let bounded: Vec<_> = h[5..].to_vec();
        let s = lag_seconds(&bounded, Some(900), now).unwrap();
        assert!((s - 210.0).abs() <= 21.0, "{s}");
        assert_eq!(lag_seconds(&h, Some(3000), now), Some(0.0));
        assert_eq!(lag_seconds(&h, None, now), None);
    }

    #[test]
    fn rate_from_the_last_two_samples() {
        assert_eq!(production_rate(&steady()), Some(10.0));
        assert_eq!(production_rate(&steady()[..1]), None);
    }

    #[test]
    fn burrow_style_statuses() {
        let moving: Vec<_> = (0..4)
            .map(|i| OffsetSample {
                at: at(i * 60),
                high: 1000 * (i + 1),
                committed: Some(500 * i),
            })
            .collect();
        assert_eq!(
            classify(&moving, 2000, 0, 3, Some(2)),
            PartitionStatus::LaggingMoving
        );
        let keeping_up: Vec<_> = (0..4)
            .map(|i| OffsetSample {
                at: at(i * 60),
                high: 100 * (i + 1),
                committed: Some(100 * i + 90),
            })
            .collect();
        assert_eq!(
            classify(&keeping_up, 10, 0, 3, Some(2)),
            PartitionStatus::Ok
        );
        assert_eq!(classify(&moving, 0, 5, 3, Some(2)), PartitionStatus::Ok);
        assert_eq!(
            classify(&moving, 400, 3, 3, Some(2)),
            PartitionStatus::Stalled
        );
        assert_eq!(classify(&moving, 400, 3, 3, None), PartitionStatus::Stalled);
        assert_eq!(
            classify(&moving, 400, 3, 3, Some(0)),
            PartitionStatus::Stopped
        );
    }
}
