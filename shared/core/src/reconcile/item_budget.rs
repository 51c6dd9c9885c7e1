//! The guard before every save: a target's state and outbox go into one
//! DynamoDB item, which stops at 400 KB. When the two would pass
//! [`ITEM_BUDGET_BYTES`], the oldest partition history is trimmed (the only
//! part that grows with the data rather than by a fixed bound), so the write
//! still lands and the target keeps scaling, with the lag of the partitions
//! furthest behind dated by extrapolation instead of by their samples.

use crate::engine::TargetState;

use super::audit::PendingAudit;

/// State and outbox JSON together at most this many bytes: 50 KB under
/// DynamoDB's item limit leaves room for the key, the version and the
/// attribute names, and for the outcome an action writes into the outbox.
pub const ITEM_BUDGET_BYTES: usize = 350_000;

/// What the guard trimmed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryTrim {
    /// Samples dropped.
    pub dropped_samples: usize,
    /// Samples each partition keeps now, at most.
    pub kept_per_partition: usize,
    /// State and outbox bytes before.
    pub bytes_before: usize,
    /// And after; above the budget when even one sample per partition is
    /// too much (the write may then fail, and says so).
    pub bytes_after: usize,
    /// The budget it trimmed to.
    pub budget: usize,
}

impl HistoryTrim {
    /// One line for the tick's audit event and the log.
    pub fn notice(&self) -> String {
        format!(
            "partition history trimmed to {} sample(s) per partition ({} dropped) to keep state and outbox at {} of {} bytes (was {}): lag in seconds beyond them is extrapolated",
            self.kept_per_partition,
            self.dropped_samples,
            self.bytes_after,
            self.budget,
            self.bytes_before
        )
    }

    /// Still over the budget.
    pub fn over_budget(&self) -> bool {
        self.bytes_after > self.budget
    }
}

fn json_len<T: serde::Serialize + ?Sized>(value: &T) -> usize {
    serde_json::to_string(value).map_or(0, |j| j.len())
}

/// Trims `state`'s partition history, oldest samples first and evenly
/// across partitions, until state and `outbox` fit `budget`; `None` when
/// they already do.
pub fn fit(state: &mut TargetState, outbox: &[PendingAudit], budget: usize) -> Option<HistoryTrim> {
    let outbox_bytes = json_len(outbox);
    let bytes_before = json_len(state) + outbox_bytes;
    if bytes_before <= budget {
        return None;
    }
    let mut trim = HistoryTrim {
        dropped_samples: 0,
        kept_per_partition: state.longest_partition_history(),
        bytes_before,
        bytes_after: bytes_before,
        budget,
    };
    while trim.kept_per_partition > 1 && trim.bytes_after > budget {
        trim.kept_per_partition -= 1;
        trim.dropped_samples += state.trim_partition_history(trim.kept_per_partition);
        trim.bytes_after = json_len(state) + outbox_bytes;
    }
    Some(trim)
}

/// [`fit`] at [`ITEM_BUDGET_BYTES`], logged: what every save path calls.
pub fn guard(
    target: &str,
    state: &mut TargetState,
    outbox: &[PendingAudit],
) -> Option<HistoryTrim> {
    let trim = fit(state, outbox, ITEM_BUDGET_BYTES)?;
    if trim.over_budget() {
        tracing::error!(
            target_name = target,
            bytes = trim.bytes_after,
            "{}",
            trim.notice()
        );
    } else {
        tracing::warn!(target_name = target, "{}", trim.notice());
    }
    Some(trim)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use jiff::{SignedDuration, Timestamp};

    use super::*;
    use crate::engine::partition_history::{lag_seconds, OffsetSample, PartitionProgress};

    /// `n` partitions 10 msg/s each, 16 samples a minute apart, the group
    /// 20 minutes behind everywhere.
    fn behind(n: i32) -> (TargetState, Timestamp) {
        let t0: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
        let now = t0 + SignedDuration::from_mins(15);
        let partitions: BTreeMap<i32, PartitionProgress> = (0..n)
            .map(|p| {
                let base = 1_000_000 * p as i64;
                let history: Vec<OffsetSample> = (0..16)
                    .map(|i| OffsetSample {
                        at: t0 + SignedDuration::from_mins(i),
                        high: base + 600 * i,
                        committed: Some(base - 600 * 5 + 300 * i),
                    })
                    .collect();
                let last = *history.last().unwrap();
                (
                    p,
                    PartitionProgress {
                        committed_offset: last.committed,
                        observed_at: last.at,
                        unchanged_observations: 0,
                        history,
                    },
                )
            })
            .collect();
        let mut state = TargetState::default();
        state.partition_progress.insert("k".into(), partitions);
        (state, now)
    }

    #[test]
    fn under_the_budget_nothing_changes() {
        let (mut state, _) = behind(10);
        let before = state.clone();
        assert_eq!(fit(&mut state, &[], ITEM_BUDGET_BYTES), None);
        assert_eq!(state, before);
    }

    #[test]
    fn over_it_the_oldest_samples_go_until_it_fits() {
        let (mut state, now) = behind(10_000);
        let before = state.clone();
        let trim = fit(&mut state, &[], ITEM_BUDGET_BYTES).unwrap();
        assert!(trim.bytes_before > ITEM_BUDGET_BYTES, "{trim:?}");
        assert!(!trim.over_budget(), "{trim:?}");
        assert!(trim.kept_per_partition >= 2, "{trim:?}");
        // "[]": the empty outbox's two bytes.
        let state_bytes = serde_json::to_string(&state).unwrap().len();
        assert_eq!(state_bytes + 2, trim.bytes_after);
        for (p, kept) in &state.partition_progress["k"] {
            let all = &before.partition_progress["k"][p];
            // The newest samples stay, so the next rate is the same.
            assert_eq!(kept.history.last(), all.history.last());
            assert_eq!(kept.history.len(), trim.kept_per_partition);
            // At a steady rate, the extrapolated lag is the interpolated one.
            let (a, b) = (
                lag_seconds(&kept.history, kept.committed_offset, now).unwrap(),
                lag_seconds(&all.history, all.committed_offset, now).unwrap(),
            );
            assert!((a - b).abs() < 1e-6, "{p}: {a} vs {b}");
        }
        assert!(trim.notice().contains("extrapolated"));
    }

    #[test]
    fn when_one_sample_each_is_still_too_much_it_says_so() {
        let (mut state, _) = behind(1_000);
        let trim = fit(&mut state, &[], 1_000).unwrap();
        assert_eq!(trim.kept_per_partition, 1);
        assert!(trim.over_budget());
        assert_eq!(state.longest_partition_history(), 1);
    }
}
