//! A Kafka consumer group's lag as a signal: per-partition lag and history,
//! production rate and skew, stuck partitions, the `max_lag` time goal, and
//! the partition cap (or growth) when workers would outnumber partitions.

use jiff::Timestamp;

use super::sizing::{ceil_robust, within_tolerance, workers_for, workers_needed, Load};
use super::AssessedSignal;
use crate::config::{KafkaSignal, MissingOffsetPolicy, PartitionCapMode, PolicyConfig};
use crate::engine::decision::{PartitionLag, PartitionRequest, SignalAssessment};
use crate::engine::observation::KafkaOffsets;
use crate::engine::partition_history::{
    classify, lag_seconds, production_rate, OffsetSample, PartitionStatus, HISTORY_LEN,
};
use crate::engine::state::{PartitionProgress, TargetState};

/// Consumers needed so that none owns more partitions than it can keep up
/// with: the assignor may give one consumer the hottest partitions together,
/// so with `k` partitions each, the `k` busiest must fit one worker at the
/// target utilization. Returns (consumers, k) when partition rates are known.
fn consumers_for_skew(busy_per_partition: &mut [f64], utilization: f64) -> Option<(u32, u32)> {
    let partitions = busy_per_partition.len() as u32;
    if partitions == 0 || busy_per_partition.iter().all(|b| *b <= 0.0) {
        return None;
    }
    busy_per_partition.sort_by(|a, b| b.total_cmp(a));
    let mut sum = 0.0;
    let mut k = 0u32;
    for b in busy_per_partition.iter() {
        if sum + b > utilization + 1e-9 {
            break;
        }
        sum += b;
        k += 1;
    }
    let k = k.max(1);
    Some((partitions.div_ceil(k), k))
}

/// Lag of one partition: high − max(committed, low), or by `on_missing_offset`.
/// Messages below the log start were deleted by retention: they are not backlog.
pub fn partition_lag(
    low: i64,
    high: i64,
    committed: Option<i64>,
    on_missing: MissingOffsetPolicy,
) -> u64 {
    let from = match (committed, on_missing) {
        (Some(c), _) => c.max(low),
        (None, MissingOffsetPolicy::Latest) => high,
        (None, MissingOffsetPolicy::Earliest) => low,
    };
    high.saturating_sub(from).max(0) as u64
}

pub(super) fn assess_kafka(
    cfg: &KafkaSignal,
    offsets: &KafkaOffsets,
    policy: &PolicyConfig,
    previous: u32,
    observed_at: Timestamp,
    next: &mut TargetState,
) -> AssessedSignal {
    let old = next
        .partition_progress
        .remove(&cfg.name)
        .unwrap_or_default();
    // Built in partition order, then bulk-loaded: inserting 10,000 entries one
    // by one was a quarter of `decide` at that size.
    let mut progress = Vec::with_capacity(offsets.partitions.len());
    let mut lags = Vec::with_capacity(offsets.partitions.len());
    let mut stuck = Vec::new();
    let (mut total, mut stuck_lag, mut with_lag) = (0u64, 0u64, 0u32);
    let mut max_lag_seconds = 0.0f64;
    let mut rates: Vec<Option<f64>> = Vec::with_capacity(offsets.partitions.len());
    let mut sorted: Vec<_> = offsets.partitions.iter().collect();
    sorted.sort_by_key(|p| p.partition);
    for p in sorted {
        let lag = partition_lag(
            p.low_watermark,
            p.high_watermark,
            p.committed_offset,
            cfg.on_missing_offset,
        );
        let sample = OffsetSample {
            at: observed_at,
            high: p.high_watermark,
            committed: p.committed_offset,
        };
        let entry = match old.get(&p.partition) {
            // Older or replayed data does not advance the history.
            Some(prev) if observed_at <= prev.observed_at => prev.clone(),
            Some(prev) => {
                let mut history = prev.history.clone();
                history.push(sample);
                let excess = history.len().saturating_sub(HISTORY_LEN);
                history.drain(..excess);
                PartitionProgress {
                    committed_offset: p.committed_offset,
                    observed_at,
                    unchanged_observations: if lag > 0
                        && prev.committed_offset == p.committed_offset
                    {
                        prev.unchanged_observations.saturating_add(1)
                    } else {
                        0
                    },
                    history,
                }
            }
            None => PartitionProgress {
                committed_offset: p.committed_offset,
                observed_at,
                unchanged_observations: 0,
                history: vec![sample],
            },
        };
        let status = classify(
            &entry.history,
            lag,
            entry.unchanged_observations,
            policy.stuck_partition_observations,
            offsets.members,
        );
        let seconds = lag_seconds(&entry.history, p.committed_offset, observed_at)
            .filter(|_| entry.history.len() >= 2 || lag == 0);
        // Stalled: a consumer is there and not moving; more workers cannot help.
        // Stopped (no members) is not stuck: workers are exactly what it needs.
        let is_stuck = status == PartitionStatus::Stalled;
        if !is_stuck {
            max_lag_seconds = max_lag_seconds.max(seconds.unwrap_or(0.0));
        }
        rates.push(production_rate(&entry.history));
        progress.push((p.partition, entry));
        total = total.saturating_add(lag);
        if lag > 0 {
            with_lag += 1;
        }
        if is_stuck {
            stuck.push(p.partition);
            stuck_lag = stuck_lag.saturating_add(lag);
        }
        lags.push(PartitionLag {
            partition: p.partition,
            lag,
            lag_seconds: seconds,
            status,
        });
    }
    next.partition_progress
        .insert(cfg.name.clone(), progress.into_iter().collect());

    let partitions = offsets.partitions.len() as u32;
    let target = policy.target_per_worker();
    let driving = total - stuck_lag;
    // Production rate × processing time = workers busy keeping up.
    let rates: Option<Vec<f64>> = rates.into_iter().collect();
    let rate = rates.as_ref().map(|r| r.iter().sum::<f64>());
    let busy = rate.zip(policy.processing_time_s()).map(|(r, per)| r * per);
    // Production beyond what the fleet can consume (one worker takes one
    // message per processing time, and no more workers than partitions work).
    let falling_behind = rate
        .zip(policy.processing_time_s().filter(|s| *s > 0.0))
        .map_or(0.0, |(r, per)| r - previous.min(partitions) as f64 / per);
    let load = Load {
        backlog: driving,
        busy,
        falling_behind,
    };
    let (mut exact, mut raw, mut need) = workers_needed(&load, previous, policy);
    let skew = rates
        .zip(policy.processing_time_s().zip(policy.target_utilization))
        .and_then(|(rates, (per, utilization))| {
            let mut busy: Vec<f64> = rates.iter().map(|r| r * per).collect();
            consumers_for_skew(&mut busy, utilization)
        });
    if let Some((consumers, k)) = skew.filter(|(c, _)| *c > raw) {
        need.push_str(&format!(
            "; skew: the busiest partitions fit {k} per consumer, so {consumers} consumers"
        ));
        exact = exact.max(consumers as f64);
        raw = consumers;
    }
    // A time-lag goal: more than `max_lag` behind scales in proportion.
    if let Some(goal) = cfg.max_lag.map(|g| g.as_secs_f64()).filter(|g| *g > 0.0) {
        if max_lag_seconds > goal {
            let by_time =
                ceil_robust(previous.max(1) as f64 * max_lag_seconds / goal).max(previous + 1);
            need.push_str(&format!(
                "; {max_lag_seconds:.0}s behind, above max_lag {goal:.0}s: {by_time}"
            ));
            if by_time > raw {
                exact = exact.max(by_time as f64);
                raw = by_time;
            }
        }
    }
    let mut wanted = if within_tolerance(exact, policy, previous) {
        previous
    } else {
        raw
    };
    let after_tolerance = wanted;
    let mut detail = format!("lag {total} over {partitions} partitions; {need}");
    if let (Some(state), Some(members)) = (&offsets.group_state, offsets.members) {
        detail.push_str(&format!("; group {state} with {members} member(s)"));
    }
    if let Some(rate) = rate {
        detail.push_str(&format!("; produced {rate:.1} msg/s"));
    }
    // Stuck partitions: more workers cannot help, but the workers that hold
    // them stay, and never zero while they have lag.
    if stuck_lag > 0 {
        let with_stuck = workers_for(total, target);
        wanted = wanted.max(with_stuck.min(previous)).max(1);
        detail.push_str(&format!(
            "; {} stuck partition(s) {:?} with lag {stuck_lag} do not drive scale-out",
            stuck.len(),
            stuck
        ));
    }

    let after_stuck = wanted;
    let mut capped = false;
    let mut partition_request = None;
    if !cfg.allow_idle_consumers {
        let cap = match cfg.partition_cap {
            PartitionCapMode::Partitions => partitions,
            PartitionCapMode::PartitionsWithLag => with_lag.max(1),
        };
        // Exact comparison: lag > cap × target, i.e. ceil(lag/target) > cap.
        if wanted > cap {
            match cfg.max_partitions {
                Some(max_p) if max_p > partitions => {
                    let to = wanted.min(max_p);
                    partition_request = Some(PartitionRequest {
                        signal: cfg.name.clone(),
                        from: partitions,
                        to,
                    });
                    let new_cap = cap + (to - partitions);
                    if wanted > new_cap {
                        capped = true;
                    }
                    detail.push_str(&format!(
                        "; asks partitions {partitions} -> {to} (max_partitions {max_p})"
                    ));
                    wanted = wanted.min(new_cap);
                }
                _ => {
                    capped = true;
                    detail.push_str(&format!(
                        "; capped at {cap} ({})",
                        match cfg.partition_cap {
                            PartitionCapMode::Partitions => "partitions",
                            PartitionCapMode::PartitionsWithLag => "partitions with lag",
                        }
                    ));
                    wanted = cap;
                }
            }
        }
    }

    AssessedSignal {
        assessment: SignalAssessment {
            signal: cfg.name.clone(),
            kind: "kafka".into(),
            trusted: true,
            backlog: Some(total),
            recommendation: Some(wanted),
            partitions: Some(partitions),
            partition_lag: lags,
            stuck_partitions: stuck,
            consecutive_failures: 0,
            arrival_rate: rate,
            detail,
        },
        wanted: Some(wanted),
        backlog: total,
        stages: Some([raw, after_tolerance, after_stuck]),
        capped,
        stuck_with_lag: stuck_lag > 0,
        partition_request,
        offered_load: busy,
    }
}
