//! From one signal's reading to the workers it alone wants: whether the
//! reading can be trusted (here), then sizing by kind: [`sqs`] depth or
//! [`kafka`] lag (stuck partitions, partition caps), both through [`sizing`];
//! several signals one fleet serves sized together in [`pool`].

mod assessed;
mod fifo;
mod kafka;
mod poison;
mod pool;
pub(crate) mod sizing;
mod sqs;

pub(crate) use assessed::{AssessedSignal, Stages};
pub use kafka::partition_lag;
pub(crate) use pool::{pool, Pooled};

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::decision::SignalAssessment;
use super::observation::{KafkaOffsets, Measurement, PartitionOffsets, SignalReading};
use super::state::{SignalHealth, TargetState};
use crate::config::{ForecastMode, PolicyConfig, SignalConfig};
use kafka::assess_kafka;
use sqs::{assess_sqs, average_busy, queue_growth, SqsInputs};

/// Assesses every configured signal and updates health and partition progress in `next`.
pub(crate) fn assess_all(
    signals: &[SignalConfig],
    policy: &PolicyConfig,
    readings: &BTreeMap<String, SignalReading>,
    (previous, running): (u32, u32),
    now: Timestamp,
    next: &mut TargetState,
) -> Vec<AssessedSignal> {
    let configured: BTreeSet<&str> = signals.iter().map(|s| s.name()).collect();
    next.signal_health
        .retain(|name, _| configured.contains(name.as_str()));
    // A signal on several topics keeps each topic's progress under its own key.
    let progress_keys: BTreeSet<String> = signals
        .iter()
        .filter_map(|s| match s {
            SignalConfig::Kafka(k) if !k.topics.is_empty() => Some(k),
            _ => None,
        })
        .flat_map(|k| k.topics.iter().map(|t| kafka::progress_key(&k.name, t)))
        .collect();
    next.partition_progress
        .retain(|name, _| configured.contains(name.as_str()) || progress_keys.contains(name));
    next.busy_samples
        .retain(|name, _| configured.contains(name.as_str()));
    next.depth_samples
        .retain(|name, _| configured.contains(name.as_str()));
    next.dead_letter_samples
        .retain(|name, _| configured.contains(name.as_str()));
    next.fifo_groups
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
                    let fleet = previous.max(running);
                    let busy = average_busy(cfg, depth, fleet, policy, (observed_at, now), next);
                    let growth = queue_growth(cfg, depth, policy, observed_at, now, next);
                    // Sizing counts only growth (a shrinking queue is already
                    // being served), with `slo` and for the forecast; the
                    // arrival rate on record always counts the signed change.
                    let sizing = (policy.slo.is_some()
                        || policy.forecast.mode != ForecastMode::Off)
                        .then(|| growth.map_or(0.0, |g| g.max(0.0)));
                    let groups = fifo::groups(
                        cfg,
                        depth,
                        running,
                        (
                            next.busy_samples.get(&cfg.name).map_or(&[], Vec::as_slice),
                            next.depth_samples.get(&cfg.name).map_or(&[], Vec::as_slice),
                        ),
                        next.fifo_groups.get(&cfg.name).copied(),
                    );
                    match groups.remember {
                        Some(n) => next.fifo_groups.insert(cfg.name.clone(), n),
                        None => next.fifo_groups.remove(&cfg.name),
                    };
                    let group_cap = groups.cap;
                    let mut assessed = assess_sqs(SqsInputs {
                        cfg,
                        depth,
                        policy,
                        previous,
                        busy,
                        sizing_growth: sizing,
                        signed_growth: growth,
                        group_cap,
                    });
                    let samples = next
                        .dead_letter_samples
                        .entry(cfg.name.clone())
                        .or_default();
                    assessed.poison = poison::suspect(depth, observed_at, samples, growth);
                    if samples.is_empty() {
                        next.dead_letter_samples.remove(&cfg.name);
                    }
                    if let Some(why) = &assessed.poison {
                        assessed
                            .assessment
                            .detail
                            .push_str(&format!("; poison suspected: {why}"));
                    }
                    assessed
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
        match signal {
            SignalConfig::Kafka(cfg) if !k.topics.is_empty() => check_topics(cfg, k)?,
            _ => check_offsets(&k.partitions, "")?,
        }
    }
    Ok((observed_at, measurement))
}

/// A reading of several topics covers exactly the configured ones, each
/// once: a topic left out would count its lag as none.
fn check_topics(cfg: &crate::config::KafkaSignal, k: &KafkaOffsets) -> Result<(), String> {
    if !k.partitions.is_empty() {
        return Err("partitions reported outside topics in a reading of several topics".into());
    }
    let read: Vec<&str> = k.topics.iter().map(|t| t.topic.as_str()).collect();
    let mut wanted = cfg.topic_names();
    wanted.sort_unstable();
    let mut sorted = read.clone();
    sorted.sort_unstable();
    if sorted != wanted {
        return Err(format!(
            "the reading has topics {read:?}, the signal reads {:?}",
            cfg.topic_names()
        ));
    }
    for t in &k.topics {
        check_offsets(&t.partitions, &format!("topic {}: ", t.topic))?;
    }
    Ok(())
}

fn check_offsets(partitions: &[PartitionOffsets], topic: &str) -> Result<(), String> {
    if partitions.is_empty() {
        return Err(format!("{topic}topic reported no partitions"));
    }
    let mut seen = BTreeSet::new();
    for p in partitions {
        if !seen.insert(p.partition) {
            return Err(format!("{topic}partition {} reported twice", p.partition));
        }
        if p.low_watermark < 0 || p.low_watermark > p.high_watermark {
            return Err(format!(
                "{topic}partition {}: watermarks low {} / high {} are inconsistent",
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
            kind: signal.kind(),
            trusted: false,
            backlog: None,
            recommendation: None,
            partitions: None,
            partition_lag: Vec::new(),
            stuck_partitions: Vec::new(),
            consecutive_failures: 0,
            arrival_rate: None,
            detail: why,
        },
        wanted: None,
        backlog: 0,
        stages: None,
        capped_by: None,
        stuck_with_lag: false,
        partition_request: None,
        offered_load: None,
        load: None,
        stuck_floor: None,
        cap: None,
        poison: None,
    }
}
