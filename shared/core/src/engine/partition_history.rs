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

/// Whether a partition's committed offset is moving.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartitionProgress {
    /// Last committed offset seen.
    pub committed_offset: Option<i64>,
    /// When it was seen.
    pub observed_at: Timestamp,
    /// Observations in a row in which it did not move while the partition had lag.
    pub unchanged_observations: u32,
    /// Recent samples, newest last (at most [`HISTORY_LEN`], and only back to
    /// the sample [`keep_used`] keeps): production rate, lag in seconds and
    /// status come from them.
    #[serde(default)]
    pub history: Vec<OffsetSample>,
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

/// Drops the samples no later tick reads. The next production rate needs
/// only the newest; the lag in seconds of offset `committed` needs the
/// samples from the newest one written before it (`high <= committed`) on,
/// since committed offsets move forward. So a partition keeping up keeps one
/// sample and one far behind keeps its whole history: a 10,000-partition
/// state grows with the lag, not with the partition count. (An offset reset
/// to before the kept samples is dated by extrapolation, as one older than
/// [`HISTORY_LEN`] samples always was.)
pub fn keep_used(history: &mut Vec<OffsetSample>, committed: Option<i64>) {
    let from = match committed {
        None => history.len().saturating_sub(1),
        // None written before it: every sample stays.
        Some(c) => history
            .iter()
            .rposition(|s| s.high <= c)
            .unwrap_or_default(),
    };
    history.drain(..from);
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
    fn only_the_samples_a_later_tick_reads_are_kept() {
        let now = at(300);
        // Keeping up: the newest sample alone, and the next rate still comes.
        let mut h = steady();
        keep_used(&mut h, Some(3000));
        assert_eq!(h, vec![steady()[10]]);
        // No committed offset: no lag in seconds to date, the newest alone.
        let mut h = steady();
        keep_used(&mut h, None);
        assert_eq!(h.len(), 1);
        // Behind: from the newest sample written before the committed offset,
        // and the lag in seconds is what the whole history gave.
        for c in [0, 1, 2399, 2400, 2550, 2999] {
            let mut h = steady();
            keep_used(&mut h, Some(c));
            assert_eq!(h.last(), steady().last());
            assert!(h.len() < 11 || c < 300, "{c}: {}", h.len());
            assert_eq!(
                lag_seconds(&h, Some(c), now),
                lag_seconds(&steady(), Some(c), now),
                "{c}"
            );
        }
        // Older than every sample: everything stays.
        let mut h = steady()[5..].to_vec();
        keep_used(&mut h, Some(900));
        assert_eq!(h.len(), 6);
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

    /// kafka-lag-exporter's `LookupTableSpec.scala` (seglo/kafka-lag-exporter,
    /// `src/test/scala/com/lightbend/kafkalagexporter/`), case by case: its
    /// `lookup(offset)` is the time the offset was produced, which is
    /// `now - lag_seconds` here (`now` = the newest point). Points are
    /// (offset, time). Where qscale differs by design the case says why.
    fn produced_at(points: &[(i64, i64)], offset: i64) -> Option<f64> {
        let history: Vec<OffsetSample> = points
            .iter()
            .map(|&(high, time)| OffsetSample {
                at: at(time),
                high,
                committed: None,
            })
            .collect();
        let now_s = points.last()?.1;
        lag_seconds(&history, Some(offset), at(now_s)).map(|lag| now_s as f64 - lag)
    }

    fn close(got: Option<f64>, want: f64) -> bool {
        got.is_some_and(|g| (g - want).abs() < 1e-9)
    }

    #[test]
    fn kafka_lag_exporter_square_lookups() {
        let t = [(100, 100), (200, 200)];
        // Interpolation, and extrapolation under the table.
        for x in [150, 190, 110, 10, 0, -100, 100] {
            assert!(
                close(produced_at(&t, x), x as f64),
                "{x}: {:?}",
                produced_at(&t, x)
            );
        }
        // Over the table (300): kafka-lag-exporter extrapolates to 300; an
        // offset at or past the high watermark is not produced yet: lag 0.
        assert!(close(produced_at(&t, 300), 200.0));
    }

    #[test]
    fn kafka_lag_exporter_lookups_with_flat_sections() {
        // Its table compresses the flat middle points; qscale keeps them, and
        // the lookups agree: the latest time of a flat section.
        let t = [
            (100, 30),
            (200, 60),
            (200, 120),
            (200, 700),
            (300, 730),
            (300, 9000),
            (400, 9030),
        ];
        for (x, want) in [
            (199, 59.7),
            (200, 700.0),
            (201, 700.3),
            (250, 715.0),
            (299, 729.7),
            (300, 9000.0),
            (301, 9000.3),
        ] {
            let got = produced_at(&t, x);
            assert!(
                got.is_some_and(|g| (g - want).abs() < 1e-6),
                "{x}: {got:?}, want {want}"
            );
        }
        // Only a flat section, looked up at its offset: lag is zero.
        assert_eq!(
            lag_seconds(
                &[
                    OffsetSample {
                        at: at(0),
                        high: 0,
                        committed: None
                    },
                    OffsetSample {
                        at: at(100),
                        high: 0,
                        committed: None
                    }
                ],
                Some(0),
                at(100)
            ),
            Some(0.0)
        );
    }

    #[test]
    fn kafka_lag_exporter_flat_curve() {
        let t = [(100, 100), (100, 200), (100, 300), (100, 400)];
        // Above a curve that never grew: not produced, lag 0 (its +infinity).
        assert!(close(produced_at(&t, 101), 400.0));
        // Below it: kafka-lag-exporter answers -infinity; qscale answers
        // "at least as old as the oldest point", a finite lower bound.
        assert!(close(produced_at(&t, 99), 100.0));
    }

    #[test]
    fn kafka_lag_exporter_normal_case_with_different_rates() {
        // The five points its 5-entry table keeps of the seven added.
        let t = [(0, 0), (10, 1), (200, 2), (3000, 3), (40000, 4)];
        for (x, want) in [
            (1600, 2.5),
            (0, 0.0),
            (1, 0.1),
            (9, 0.9),
            (10, 1.0),
            (200, 2.0),
            (2999, 2.9996428571428573),
            (3000, 3.0),
            (3001, 3.000027027027027),
            (40000, 4.0),
        ] {
            let got = produced_at(&t, x);
            assert!(
                got.is_some_and(|g| (g - want).abs() < 1e-9),
                "{x}: {got:?}, want {want}"
            );
        }
        // Extrapolation under the table: kafka-lag-exporter uses the slope
        // from its first to its last point (-10000 -> -1 s); qscale the
        // oldest segment's rate, the one nearest the unknown past (10/s:
        // -1000 s). Over it (50000): not produced yet, lag 0.
        assert!(close(produced_at(&t, -10000), -1000.0));
        assert!(close(produced_at(&t, 50000), 4.0));
    }
}
