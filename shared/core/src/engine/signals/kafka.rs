//! A Kafka consumer group's lag as a signal: per-partition lag and history,
//! production rate and skew, stuck partitions, the `max_lag` time goal, and
//! the partition cap (or growth) when workers would outnumber partitions.
//!
//! Just over 400 lines: the four stages of one signal kind, read top to bottom.

use jiff::Timestamp;

use super::assessed::{AssessedSignal, Stages};
use super::sizing::{ceil_robust, within_tolerance, workers_for, workers_needed, Load};
use crate::config::{
    KafkaSignal, MissingOffsetPolicy, PartitionAssignor, PartitionCapMode, PolicyConfig, SignalKind,
};
use crate::engine::decision::{PartitionLag, PartitionRequest, SignalAssessment, Term};
use crate::engine::observation::{KafkaOffsets, PartitionOffsets};
use crate::engine::partition_history::{
    classify, keep_used, lag_seconds, production_rate, OffsetSample, PartitionStatus, HISTORY_LEN,
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
/// Under `latest`, a partition holding messages that the group never
/// committed counts 1: the messages there are not backlog, but without a
/// consumer the group never commits, and a `min: 0` target would never start
/// one (KEDA counts 1 too, for empty partitions as well).
pub fn partition_lag(
    low: i64,
    high: i64,
    committed: Option<i64>,
    on_missing: MissingOffsetPolicy,
) -> u64 {
    let from = match (committed, on_missing) {
        (Some(c), _) => c.max(low),
        _ if awaits_first_consumer(low, high, committed, on_missing) => high.saturating_sub(1),
        (None, MissingOffsetPolicy::Latest) => high,
        (None, MissingOffsetPolicy::Earliest) => low,
    };
    high.saturating_sub(from).max(0) as u64
}

/// A partition holding messages its group never committed, under `latest`:
/// it counts lag 1 ([`partition_lag`]) and the explanation says so.
fn awaits_first_consumer(
    low: i64,
    high: i64,
    committed: Option<i64>,
    on_missing: MissingOffsetPolicy,
) -> bool {
    committed.is_none() && on_missing == MissingOffsetPolicy::Latest && high > low
}

/// Assesses a Kafka signal in four stages: each partition's progress and
/// history, the sizing (load, skew, the time-lag goal), the tolerance band
/// and the stuck-partition rule, then the partition cap or growth.
pub(super) fn assess_kafka(
    cfg: &KafkaSignal,
    offsets: &KafkaOffsets,
    policy: &PolicyConfig,
    previous: u32,
    observed_at: Timestamp,
    next: &mut TargetState,
) -> AssessedSignal {
    let (scan, reach) = if offsets.topics.is_empty() {
        let scan = scan_partitions(
            cfg,
            &cfg.name,
            &offsets.partitions,
            offsets.members,
            policy,
            observed_at,
            next,
        );
        let n = offsets.partitions.len() as u32;
        let reach = Reach {
            partitions: n,
            usable: n,
            usable_with_lag: scan.with_lag,
            topics: String::new(),
        };
        (scan, reach)
    } else {
        scan_topics(cfg, offsets, policy, observed_at, next)
    };
    let partitions = reach.partitions;
    let sizing = size(cfg, policy, previous, reach.usable, &scan);
    let mut detail = format!(
        "lag {} over {partitions} partitions{}; {}",
        scan.total, reach.topics, sizing.need
    );
    if let (Some(state), Some(members)) = (&offsets.group_state, offsets.members) {
        detail.push_str(&format!("; group {state} with {members} member(s)"));
    }
    if scan.never_committed > 0 {
        detail.push_str(&format!(
            "; {} partition(s) with messages the group never committed count lag 1 each (on_missing_offset: latest), so a first consumer starts",
            scan.never_committed
        ));
    }
    if scan.markers > 0 {
        detail.push_str(&format!(
            "; {} partition(s) end in a transaction marker one past the committed offset: no work (lag 0)",
            scan.markers
        ));
    }
    if let Some(rate) = sizing.rate {
        detail.push_str(&format!("; produced {rate:.1} msg/s"));
    }
    let (after_tolerance, after_stuck, stuck_floor) =
        tolerance_and_stuck(policy, previous, &scan, &sizing, &mut detail);
    let cap = cap_or_grow(
        cfg,
        reach.usable,
        reach.usable_with_lag,
        after_stuck,
        &mut detail,
    );

    AssessedSignal {
        assessment: SignalAssessment {
            signal: cfg.name.clone(),
            kind: SignalKind::Kafka,
            trusted: true,
            backlog: Some(scan.total),
            recommendation: Some(cap.wanted),
            partitions: Some(partitions),
            partition_lag: scan.lags,
            stuck_partitions: scan.stuck,
            consecutive_failures: 0,
            arrival_rate: sizing.rate,
            detail,
        },
        wanted: Some(cap.wanted),
        backlog: scan.total,
        stages: Some(Stages {
            sized: sizing.raw,
            after_tolerance,
            after_stuck,
        }),
        capped_by: cap.capped.then_some(Term::PartitionCap),
        stuck_with_lag: scan.stuck_lag > 0,
        partition_request: cap.request,
        offered_load: sizing.busy,
        load: Some(sizing.load),
        stuck_floor,
        cap: cap.cap,
        poison: None,
    }
}

/// Stage 1: every partition's lag, status and history.
struct PartitionScan {
    lags: Vec<PartitionLag>,
    stuck: Vec<i32>,
    /// Stuck partitions as `topic[p]`, for a signal on several topics.
    stuck_named: Vec<String>,
    /// Lag over all partitions.
    total: u64,
    /// Lag on stuck partitions.
    stuck_lag: u64,
    /// Partitions with lag.
    with_lag: u32,
    /// The most seconds behind of a partition that is not stuck.
    max_lag_seconds: f64,
    /// Production rate per partition, when every partition shows one.
    rates: Option<Vec<f64>>,
    /// Partitions holding messages the group never committed, under `latest`.
    never_committed: u32,
    /// Partitions whose one record left is a transaction marker.
    markers: u32,
}

/// Reads each partition's lag against its history in `next` (which it
/// advances), classifies it (Burrow-style) and estimates its production rate.
/// `key`: where the partitions' progress is kept in the state (the
/// signal's name, or [`progress_key`] for one of its topics).
fn scan_partitions(
    cfg: &KafkaSignal,
    key: &str,
    partitions: &[PartitionOffsets],
    members: Option<u32>,
    policy: &PolicyConfig,
    observed_at: Timestamp,
    next: &mut TargetState,
) -> PartitionScan {
    let old = next.partition_progress.remove(key).unwrap_or_default();
    // Built in partition order, then bulk-loaded: inserting entries one by
    // one dominated `decide` at 10,000 partitions (docs/benchmarks.md).
    let mut progress = Vec::with_capacity(partitions.len());
    let mut lags = Vec::with_capacity(partitions.len());
    let mut stuck = Vec::new();
    let (mut total, mut stuck_lag, mut with_lag) = (0u64, 0u64, 0u32);
    let mut never_committed = 0u32;
    let mut markers = 0u32;
    let mut max_lag_seconds = 0.0f64;
    let mut rates: Vec<Option<f64>> = Vec::with_capacity(partitions.len());
    let mut sorted: Vec<_> = partitions.iter().collect();
    sorted.sort_by_key(|p| p.partition);
    for p in sorted {
        // A transaction marker is all that is left: read as consumed to the
        // end (lag 0, 0 s behind, not stuck).
        let committed = if p.only_marker_left {
            markers += 1;
            Some(p.high_watermark)
        } else {
            p.committed_offset
        };
        let lag = partition_lag(
            p.low_watermark,
            p.high_watermark,
            committed,
            cfg.on_missing_offset,
        );
        if awaits_first_consumer(
            p.low_watermark,
            p.high_watermark,
            committed,
            cfg.on_missing_offset,
        ) {
            never_committed += 1;
        }
        let sample = OffsetSample {
            at: observed_at,
            high: p.high_watermark,
            committed,
        };
        let mut entry = match old.get(&p.partition) {
            // Older or replayed data does not advance the history.
            Some(prev) if observed_at <= prev.observed_at => prev.clone(),
            // A high watermark that went back (the topic recreated, a broker
            // answering from behind) starts the history again: the old one
            // would date the new offsets hours back.
            Some(prev)
                if prev
                    .history
                    .last()
                    .is_some_and(|last| p.high_watermark < last.high) =>
            {
                PartitionProgress {
                    committed_offset: committed,
                    observed_at,
                    unchanged_observations: 0,
                    history: vec![sample],
                }
            }
            Some(prev) => {
                let mut history = prev.history.clone();
                history.push(sample);
                let excess = history.len().saturating_sub(HISTORY_LEN);
                history.drain(..excess);
                PartitionProgress {
                    committed_offset: committed,
                    observed_at,
                    unchanged_observations: if lag > 0 && prev.committed_offset == committed {
                        prev.unchanged_observations.saturating_add(1)
                    } else {
                        0
                    },
                    history,
                }
            }
            None => PartitionProgress {
                committed_offset: committed,
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
            members,
        );
        let seconds = lag_seconds(&entry.history, committed, observed_at)
            .filter(|_| entry.history.len() >= 2 || lag == 0);
        // Stalled: a consumer is there and not moving; more workers cannot help.
        // Stopped (no members) is not stuck: workers are exactly what it needs.
        let is_stuck = status == PartitionStatus::Stalled;
        if !is_stuck {
            max_lag_seconds = max_lag_seconds.max(seconds.unwrap_or(0.0));
        }
        rates.push(production_rate(&entry.history));
        keep_used(&mut entry.history, committed);
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
            topic: None,
            lag,
            lag_seconds: seconds,
            status,
        });
    }
    next.partition_progress
        .insert(key.to_string(), progress.into_iter().collect());
    PartitionScan {
        lags,
        stuck,
        stuck_named: Vec::new(),
        total,
        stuck_lag,
        with_lag,
        max_lag_seconds,
        rates: rates.into_iter().collect(),
        never_committed,
        markers,
    }
}

/// How many partitions a signal reads, and how many workers they can keep
/// busy (its assignor decides, when it reads several topics).
struct Reach {
    /// Partitions over every topic.
    partitions: u32,
    /// The most workers that get a partition.
    usable: u32,
    /// The same, counting partitions with lag only (`partitions_with_lag`).
    usable_with_lag: u32,
    /// The topics, for the detail (empty for one topic).
    topics: String,
}

/// Where one topic's partition progress is kept, for a signal on several:
/// `signal#topic` (`#` is not allowed in a Kafka topic name).
pub(crate) fn progress_key(signal: &str, topic: &str) -> String {
    format!("{signal}#{topic}")
}

/// Stage 1 for a signal on several topics: each topic scanned on its own
/// history, the lag summed. The range assignor spreads each topic's
/// partitions on their own, so the largest topic bounds the workers that
/// get one; round-robin and cooperative-sticky deal all of them, so the
/// total does.
fn scan_topics(
    cfg: &KafkaSignal,
    offsets: &KafkaOffsets,
    policy: &PolicyConfig,
    observed_at: Timestamp,
    next: &mut TargetState,
) -> (PartitionScan, Reach) {
    let mut all = PartitionScan {
        lags: Vec::new(),
        stuck: Vec::new(),
        stuck_named: Vec::new(),
        total: 0,
        stuck_lag: 0,
        with_lag: 0,
        max_lag_seconds: 0.0,
        rates: Some(Vec::new()),
        never_committed: 0,
        markers: 0,
    };
    let (mut largest, mut largest_with_lag, mut partitions) = (0u32, 0u32, 0u32);
    let mut named = Vec::new();
    for t in &offsets.topics {
        let scan = scan_partitions(
            cfg,
            &progress_key(&cfg.name, &t.topic),
            &t.partitions,
            offsets.members,
            policy,
            observed_at,
            next,
        );
        let n = t.partitions.len() as u32;
        partitions += n;
        largest = largest.max(n);
        largest_with_lag = largest_with_lag.max(scan.with_lag);
        named.push(format!("{}: lag {}", t.topic, scan.total));
        all.stuck_named
            .extend(scan.stuck.iter().map(|p| format!("{}[{p}]", t.topic)));
        all.stuck.extend(&scan.stuck);
        all.lags.extend(scan.lags.into_iter().map(|mut l| {
            l.topic = Some(t.topic.clone());
            l
        }));
        all.total = all.total.saturating_add(scan.total);
        all.stuck_lag = all.stuck_lag.saturating_add(scan.stuck_lag);
        all.with_lag += scan.with_lag;
        all.max_lag_seconds = all.max_lag_seconds.max(scan.max_lag_seconds);
        all.rates = all.rates.zip(scan.rates).map(|(mut a, b)| {
            a.extend(b);
            a
        });
        all.never_committed += scan.never_committed;
        all.markers += scan.markers;
    }
    let (usable, usable_with_lag, how) = match cfg.assignor {
        PartitionAssignor::Range => (largest, largest_with_lag, "range: the largest topic"),
        PartitionAssignor::RoundRobin => (partitions, all.with_lag, "round_robin: all of them"),
        PartitionAssignor::CooperativeSticky => {
            (partitions, all.with_lag, "cooperative_sticky: all of them")
        }
    };
    let reach = Reach {
        partitions,
        usable,
        usable_with_lag,
        topics: format!(
            " of {} topics ({}), {usable} usable by the assignor ({how})",
            offsets.topics.len(),
            listed(&named)
        ),
    };
    (all, reach)
}

/// Stage 2: the workers the lag and the production rate need.
struct Sizing {
    /// The exact need, for the tolerance band.
    exact: f64,
    /// Whole workers.
    raw: u32,
    /// How the need was found.
    need: String,
    /// Messages per second produced, over all partitions.
    rate: Option<f64>,
    /// Busy workers the production needs.
    busy: Option<f64>,
    /// What the sizing read, for pooling with other signals.
    load: Load,
}

/// Sizes from the lag that is not stuck and the production rate; then the
/// skew of hot partitions and the `max_lag` time goal may ask for more.
fn size(
    cfg: &KafkaSignal,
    policy: &PolicyConfig,
    previous: u32,
    partitions: u32,
    scan: &PartitionScan,
) -> Sizing {
    let driving = scan.total - scan.stuck_lag;
    // Production rate × processing time = workers busy keeping up.
    let rate = scan.rates.as_ref().map(|r| r.iter().sum::<f64>());
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
    let skew = scan
        .rates
        .as_ref()
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
        let behind = scan.max_lag_seconds;
        if behind > goal {
            let by_time = ceil_robust(previous.max(1) as f64 * behind / goal).max(previous + 1);
            need.push_str(&format!(
                "; {behind:.0}s behind, above max_lag {goal:.0}s: {by_time}"
            ));
            if by_time > raw {
                exact = exact.max(by_time as f64);
                raw = by_time;
            }
        }
    }
    Sizing {
        exact,
        raw,
        need,
        rate,
        busy,
        load,
    }
}

/// Stage 3: the tolerance band, then the stuck-partition rule: more workers
/// cannot help a stuck partition, but the workers that hold it stay, and
/// never zero while it has lag. Returns the count after each, and the
/// workers the stuck rule keeps when it applies.
fn tolerance_and_stuck(
    policy: &PolicyConfig,
    previous: u32,
    scan: &PartitionScan,
    sizing: &Sizing,
    detail: &mut String,
) -> (u32, u32, Option<u32>) {
    let after_tolerance = if within_tolerance(sizing.exact, policy, previous) {
        previous
    } else {
        sizing.raw
    };
    let mut wanted = after_tolerance;
    let mut floor = None;
    if scan.stuck_lag > 0 {
        let with_stuck = workers_for(scan.total, policy.target_per_worker());
        let keep = with_stuck.min(previous).max(1);
        floor = Some(keep);
        wanted = wanted.max(keep);
        detail.push_str(&format!(
            "; {} stuck partition(s) {} with lag {} do not drive scale-out",
            scan.stuck.len(),
            if scan.stuck_named.is_empty() {
                first_few(&scan.stuck)
            } else {
                first_few(&scan.stuck_named)
            },
            scan.stuck_lag
        ));
    }
    (after_tolerance, wanted, floor)
}

/// Partitions named in a detail: the first [`NAMED_PARTITIONS`], then how
/// many more. The detail goes into every audit event, and an outbox of them
/// lives in the state item: a list of 10,000 stuck partitions would not fit.
fn first_few<T: std::fmt::Display>(partitions: &[T]) -> String {
    format!("[{}]", listed(partitions))
}

/// [`first_few`] without the brackets.
fn listed<T: std::fmt::Display>(items: &[T]) -> String {
    let shown: Vec<String> = items
        .iter()
        .take(NAMED_PARTITIONS)
        .map(|p| p.to_string())
        .collect();
    match items.len().saturating_sub(NAMED_PARTITIONS) {
        0 => shown.join(", "),
        more => format!("{}, and {more} more", shown.join(", ")),
    }
}

/// See [`first_few`].
const NAMED_PARTITIONS: usize = 10;

/// Stage 4: what the partition cap leaves of `wanted`.
struct Capped {
    wanted: u32,
    /// The cap bound the count.
    capped: bool,
    /// Growth asked for instead (`max_partitions`).
    request: Option<PartitionRequest>,
    /// The most consumers the partitions (after growth) can use; `None`
    /// with `allow_idle_consumers`.
    cap: Option<u32>,
}

/// No more consumers than partitions (or partitions with lag) can use,
/// unless `allow_idle_consumers`; with `max_partitions`, asks the topic to
/// grow instead, up to it.
fn cap_or_grow(
    cfg: &KafkaSignal,
    partitions: u32,
    with_lag: u32,
    wanted: u32,
    detail: &mut String,
) -> Capped {
    if cfg.allow_idle_consumers {
        return Capped {
            wanted,
            capped: false,
            request: None,
            cap: None,
        };
    }
    let cap = match cfg.partition_cap {
        PartitionCapMode::Partitions => partitions,
        PartitionCapMode::PartitionsWithLag => with_lag.max(1),
    };
    // Exact comparison: lag > cap × target, i.e. ceil(lag/target) > cap.
    if wanted <= cap {
        return Capped {
            wanted,
            capped: false,
            request: None,
            cap: Some(cap),
        };
    }
    match cfg.max_partitions {
        Some(max_p) if max_p > partitions => {
            let to = wanted.min(max_p);
            let new_cap = cap + (to - partitions);
            detail.push_str(&format!(
                "; asks partitions {partitions} -> {to} (max_partitions {max_p})"
            ));
            Capped {
                wanted: wanted.min(new_cap),
                capped: wanted > new_cap,
                request: Some(PartitionRequest {
                    signal: cfg.name.clone(),
                    from: partitions,
                    to,
                }),
                cap: Some(new_cap),
            }
        }
        _ => {
            detail.push_str(&format!(
                "; capped at {cap} ({})",
                match cfg.partition_cap {
                    PartitionCapMode::Partitions => "partitions",
                    PartitionCapMode::PartitionsWithLag => "partitions with lag",
                }
            ));
            Capped {
                wanted: cap,
                capped: true,
                request: None,
                cap: Some(cap),
            }
        }
    }
}
