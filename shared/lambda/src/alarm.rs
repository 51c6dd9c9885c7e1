//! CloudWatch alarm state changes (via EventBridge) and which targets they
//! are about: an SQS depth alarm by its `QueueName` dimension, an MSK lag
//! alarm (`MaxOffsetLag`, `EstimatedMaxTimeLag`) by its `Consumer Group` and
//! `Topic` dimensions, or any alarm named `qscale:<target>`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use qscale_core::config::{Config, SignalConfig, TargetConfig};

/// The `detail` of a "CloudWatch Alarm State Change" event. Unknown fields
/// are allowed: AWS adds to this document.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmStateChange {
    /// Alarm name.
    pub alarm_name: String,
    /// New state.
    pub state: AlarmState,
    /// The alarm's metrics.
    #[serde(default)]
    pub configuration: Option<AlarmConfiguration>,
}

/// An alarm state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlarmState {
    /// `ALARM`, `OK` or `INSUFFICIENT_DATA`.
    pub value: String,
}

/// The metrics an alarm watches.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct AlarmConfiguration {
    /// Metrics.
    #[serde(default)]
    pub metrics: Vec<AlarmMetric>,
}

/// One metric of an alarm.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmMetric {
    /// The metric and its statistic (absent for metric-math expressions).
    #[serde(default)]
    pub metric_stat: Option<MetricStat>,
}

/// A metric with its statistic.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricStat {
    /// The metric.
    pub metric: Metric,
}

/// A CloudWatch metric.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Metric {
    /// `AWS/SQS`, `AWS/Kafka`, ...
    pub namespace: String,
    /// Metric name.
    pub name: String,
    /// Dimensions.
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
}

fn queue_is(queue: &str, name: &str) -> bool {
    queue == name || queue.ends_with(&format!("/{name}")) || queue.ends_with(&format!(":{name}"))
}

/// The targets an alarm is about (none when it is not in ALARM).
pub fn targets_for_alarm<'a>(
    config: &'a Config,
    alarm: &AlarmStateChange,
) -> Vec<&'a TargetConfig> {
    if alarm.state.value != "ALARM" {
        return Vec::new();
    }
    if let Some(name) = alarm.alarm_name.strip_prefix("qscale:") {
        return config.target(name).into_iter().collect();
    }
    let metrics: Vec<&Metric> = alarm
        .configuration
        .iter()
        .flat_map(|c| c.metrics.iter())
        .filter_map(|m| m.metric_stat.as_ref().map(|s| &s.metric))
        .collect();
    config
        .targets
        .iter()
        .filter(|t| {
            t.signals.iter().any(|s| {
                metrics.iter().any(|m| match (s, m.namespace.as_str()) {
                    (SignalConfig::Sqs(q), "AWS/SQS") => m
                        .dimensions
                        .get("QueueName")
                        .is_some_and(|name| queue_is(&q.queue, name)),
                    (SignalConfig::Kafka(k), "AWS/Kafka") => {
                        m.dimensions.get("Consumer Group") == Some(&k.group)
                            && m.dimensions.get("Topic") == Some(&k.topic)
                    }
                    _ => false,
                })
            })
        })
        .collect()
}
