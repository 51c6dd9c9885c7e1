//! From one signal's reading to the workers it alone wants: backlog (SQS
//! depth or Kafka lag), trust, stuck partitions and partition caps.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::decision::{PartitionLag, PartitionRequest, SignalAssessment};
use super::observation::{KafkaOffsets, Measurement, SignalReading, SqsDepth};
use super::partition_history::{
    classify, lag_seconds, production_rate, OffsetSample, PartitionStatus, HISTORY_LEN,
};
use super::state::{PartitionProgress, SignalHealth, TargetState, TimedValue};
use crate::config::{
    KafkaSignal, MissingOffsetPolicy, PartitionCapMode, PolicyConfig, SignalConfig, SqsSignal,
};

/// A signal after assessment, with what the pipeline needs beyond the public record.
#[derive(Debug)]
pub(crate) struct AssessedSignal {
    pub assessment: SignalAssessment,
    /// Workers this signal wants (after tolerance, stuck rule and cap); `None` when untrusted.
    pub wanted: Option<u32>,
    /// Backlog counted, for activation.
    pub backlog: u64,
    /// Stage values for the explanation chain: ceil(backlog/target),
    /// after tolerance, after the stuck-partition rule (the cap gives `wanted`).
    pub stages: Option<[u32; 3]>,
    /// The partition cap bound this signal.
    pub capped: bool,
    /// Some stuck partition has lag.
    pub stuck_with_lag: bool,
    /// Growth asked for.
    pub partition_request: Option<PartitionRequest>,
}

/// `ceil(backlog / target)` robust to float noise (3 / 0.1 is 30, not 31).
pub(crate) fn workers_for(backlog: u64, target_per_worker: f64) -> u32 {
    if backlog == 0 {
        return 0;
    }
    ceil_robust(backlog as f64 / target_per_worker)
}

/// Assesses every configured signal and updates health and partition progress in `next`.
pub(crate) fn assess_all(
    signals: &[SignalConfig],
    policy: &PolicyConfig,
    readings: &BTreeMap<String, SignalReading>,
    previous: u32,
    now: Timestamp,
    next: &mut TargetState,
) -> Vec<AssessedSignal> {
    let configured: BTreeSet<&str> = signals.iter().map(|s| s.name()).collect();
    next.signal_health
        .retain(|name, _| configured.contains(name.as_str()));
    next.partition_progress
        .retain(|name, _| configured.contains(name.as_str()));
    next.busy_samples
        .retain(|name, _| configured.contains(name.as_str()));

    signals
        .iter()
        .map(|signal| {
            let reading = readings.get(signal.name());
            let measured = trusted_measurement(signal, reading, policy, now);
            let mut assessed = match measured {
                Ok((observed_at, Measurement::Sqs(depth))) => {
                    let SignalConfig::Sqs(cfg) = signal else {
                        unreachable!("kind checked")
                    };
                    let busy = average_busy(cfg, depth, policy, observed_at, now, next);
                    assess_sqs(cfg, depth, policy, previous, busy)
                }
                Ok((observed_at, Measurement::Kafka(offsets))) => {
                    let SignalConfig::Kafka(cfg) = signal else {
                        unreachable!("kind checked")
                    };
                    assess_kafka(cfg, offsets, policy, previous, observed_at, next)
                }
                Err(why) => untrusted(signal, why),
            };
            let name = signal.name().to_string();
            if assessed.wanted.is_some() {
                next.signal_health.remove(&name);
            } else {
                let health = next.signal_health.entry(name).or_insert(SignalHealth {
                    consecutive_failures: 0,
                    last_failure_at: Timestamp::MIN,
                });
                // A replay of the same tick does not count twice.
                if now > health.last_failure_at {
                    health.consecutive_failures = health.consecutive_failures.saturating_add(1);
                    health.last_failure_at = now;
                }
                assessed.assessment.consecutive_failures = health.consecutive_failures;
            }
            assessed
        })
        .collect()
}

/// The measurement if it can be trusted: present, ok, of the right kind,
/// fresh and internally consistent; otherwise why not.
fn trusted_measurement<'a>(
    signal: &SignalConfig,
    reading: Option<&'a SignalReading>,
    policy: &PolicyConfig,
    now: Timestamp,
) -> Result<(Timestamp, &'a Measurement), String> {
    let (observed_at, measurement) = match reading {
        None => return Err("no reading for this signal".into()),
        Some(SignalReading::Failed { error }) => return Err(format!("read failed: {error}")),
        Some(SignalReading::Ok {
            observed_at,
            measurement,
        }) => (*observed_at, measurement),
    };
    if measurement.kind() != signal.kind() {
        return Err(format!(
            "reading is a {} measurement but the signal is {}",
            measurement.kind(),
            signal.kind()
        ));
    }
    let max_age = policy.untrusted_data.max_signal_age;
    let age = now.duration_since(observed_at);
    if age > max_age.signed() {
        return Err(format!(
            "stale: observed at {observed_at}, older than max_signal_age {max_age}"
        ));
    }
    if let Measurement::Kafka(k) = measurement {
        check_offsets(k)?;
    }
    Ok((observed_at, measurement))
}

fn check_offsets(k: &KafkaOffsets) -> Result<(), String> {
    if k.partitions.is_empty() {
        return Err("topic reported no partitions".into());
    }
    let mut seen = BTreeSet::new();
    for p in &k.partitions {
        if !seen.insert(p.partition) {
            return Err(format!("partition {} reported twice", p.partition));
        }
        if p.low_watermark < 0 || p.low_watermark > p.high_watermark {
            return Err(format!(
                "partition {}: watermarks low {} / high {} are inconsistent",
                p.partition, p.low_watermark, p.high_watermark
            ));
        }
    }
    Ok(())
}

fn untrusted(signal: &SignalConfig, why: String) -> AssessedSignal {
    AssessedSignal {
        assessment: SignalAssessment {
            signal: signal.name().to_string(),
            kind: signal.kind().to_string(),
            trusted: false,
            backlog: None,
            recommendation: None,
            partitions: None,
            partition_lag: Vec::new(),
            stuck_partitions: Vec::new(),
            consecutive_failures: 0,
            detail: why,
        },
        wanted: None,
        backlog: 0,
        stages: None,
        capped: false,
        stuck_with_lag: false,
        partition_request: None,
    }
}

/// HPA tolerance: no change when the workers needed (as a real number) are
/// within 1 ± tolerance of the current count.
fn within_tolerance(needed: f64, policy: &PolicyConfig, previous: u32) -> bool {
    previous > 0 && (needed / previous as f64 - 1.0).abs() <= policy.tolerance
}

/// Workers a signal needs: enough to drain the backlog at the target per
/// worker, and enough to keep up with the load already flowing at the target
/// utilization. Returns (exact need, whole workers, detail).
fn workers_needed(backlog: u64, busy: Option<f64>, policy: &PolicyConfig) -> (f64, u32, String) {
    let target = policy.target_per_worker();
    let drain = workers_for(backlog, target);
    let mut detail = format!("ceil({backlog} / {target}) = {drain}");
    let mut exact = backlog as f64 / target;
    let mut whole = drain;
    if let (Some(busy), Some(utilization)) = (busy.filter(|b| *b > 0.0), policy.target_utilization)
    {
        let keep_up_exact = busy / utilization;
        let keep_up = ceil_robust(keep_up_exact);
        detail.push_str(&format!(
            "; keeping up: {busy:.1} busy / {utilization} utilization = {keep_up}"
        ));
        exact = exact.max(keep_up_exact);
        whole = whole.max(keep_up);
    }
    (exact, whole, detail)
}

fn ceil_robust(q: f64) -> u32 {
    let r = q.round();
    let n = if (q - r).abs() <= 1e-9 * q.max(1.0) {
        r
    } else {
        q.ceil()
    };
    n.clamp(0.0, u32::MAX as f64) as u32
}

/// Busy workers behind an SQS signal, averaged over the keep-up window:
/// each in-flight message occupies a worker (or one of its slots).
fn average_busy(
    cfg: &SqsSignal,
    depth: &SqsDepth,
    policy: &PolicyConfig,
    observed_at: Timestamp,
    now: Timestamp,
    next: &mut TargetState,
) -> f64 {
    let busy = depth.in_flight as f64 / cfg.in_flight_per_worker.max(1) as f64;
    let samples = next.busy_samples.entry(cfg.name.clone()).or_default();
    samples.retain(|s| s.at != observed_at);
    samples.push(TimedValue {
        at: observed_at,
        value: busy,
    });
    samples.sort_by_key(|s| s.at);
    let cutoff = now - policy.keep_up_window.signed();
    samples.retain(|s| s.at > cutoff || s.at == observed_at);
    samples.iter().map(|s| s.value).sum::<f64>() / samples.len() as f64
}

fn assess_sqs(
    cfg: &SqsSignal,
    depth: &SqsDepth,
    policy: &PolicyConfig,
    previous: u32,
    busy: f64,
) -> AssessedSignal {
    let in_flight = if cfg.include_in_flight {
        depth.in_flight
    } else {
        0
    };
    let delayed = if cfg.include_delayed {
        depth.delayed
    } else {
        0
    };
    let backlog = depth
        .visible
        .saturating_add(in_flight)
        .saturating_add(delayed);
    let (exact, raw, need) = workers_needed(backlog, Some(busy), policy);
    let wanted = if within_tolerance(exact, policy, previous) {
        previous
    } else {
        raw
    };
    AssessedSignal {
        assessment: SignalAssessment {
            signal: cfg.name.clone(),
            kind: "sqs".into(),
            trusted: true,
            backlog: Some(backlog),
            recommendation: Some(wanted),
            partitions: None,
            partition_lag: Vec::new(),
            stuck_partitions: Vec::new(),
            consecutive_failures: 0,
            detail: format!(
                "backlog {backlog} = visible {}{}{}; {need}",
                depth.visible,
                if cfg.include_in_flight {
                    format!(" + in-flight {}", depth.in_flight)
                } else {
                    String::new()
                },
                if cfg.include_delayed {
                    format!(" + delayed {}", depth.delayed)
                } else {
                    String::new()
                },
            ),
        },
        wanted: Some(wanted),
        backlog,
        stages: Some([raw, wanted, wanted]),
        capped: false,
        stuck_with_lag: false,
        partition_request: None,
    }
}

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

fn assess_kafka(
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
    let (mut exact, mut raw, mut need) = workers_needed(driving, busy, policy);
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
            detail,
        },
        wanted: Some(wanted),
        backlog: total,
        stages: Some([raw, after_tolerance, after_stuck]),
        capped,
        stuck_with_lag: stuck_lag > 0,
        partition_request,
    }
}
