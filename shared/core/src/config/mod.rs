//! The one YAML file that describes every scaling target.
//!
//! Loading parses each target separately so that `qscale validate` reports
//! every broken target, each error with its field path and the bad value.

mod direction;
pub mod limits;
mod policy;
mod schedule;
mod signal;
mod validate;
mod values;
mod worker;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use direction::{DirectionConfig, RateLimitPolicy, RateLimits, SelectPolicy};
pub use policy::{
    Fallback, ForecastConfig, ForecastMode, LatencyTarget, PolicyConfig, SloConfig,
    UntrustedDataConfig,
};
pub use schedule::ScheduleConfig;
pub use signal::{KafkaSignal, MissingOffsetPolicy, PartitionCapMode, SignalConfig, SqsSignal};
pub use values::{CronExpr, HumanDuration, ZoneName};
pub use worker::{
    EcsWorker, EventSourceMappingWorker, LambdaFunctionWorker, WorkerConfig, WARM_QUALIFIER_REASON,
};

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Config {
    /// How often the scaler reconciles every target. Default 60s.
    pub tick_interval: HumanDuration,
    /// Kafka clusters referenced by Kafka signals, by name.
    pub kafka_clusters: BTreeMap<String, KafkaClusterConfig>,
    /// Optional: audit events also produced to a Kafka topic.
    pub audit_kafka: Option<KafkaAuditConfig>,
    /// The scaling targets.
    pub targets: Vec<TargetConfig>,
}

/// Where Kafka audit events go.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaAuditConfig {
    /// A cluster under `kafka_clusters`.
    pub cluster: String,
    /// The topic.
    pub topic: String,
}

impl Config {
    /// The target with this name.
    pub fn target(&self, name: &str) -> Option<&TargetConfig> {
        self.targets.iter().find(|t| t.name == name)
    }
}

/// One Kafka cluster.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaClusterConfig {
    /// `host:port,host:port`.
    pub bootstrap_servers: String,
    /// Extra librdkafka properties (security.protocol, sasl.*), passed through.
    /// Values are never logged.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

impl fmt::Debug for KafkaClusterConfig {
    // Property values may be secrets (sasl.password): only their names are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaClusterConfig")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field(
                "properties",
                &self
                    .properties
                    .keys()
                    .map(|k| (k, "<redacted>"))
                    .collect::<BTreeMap<_, _>>(),
            )
            .finish()
    }
}

/// One thing qscale scales.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// Unique name.
    pub name: String,
    /// What is measured.
    pub signals: Vec<SignalConfig>,
    /// What is scaled.
    pub worker: WorkerConfig,
    /// How.
    pub policy: PolicyConfig,
    /// Recurring pre-warm floors.
    #[serde(default)]
    pub schedules: Vec<ScheduleConfig>,
}

/// One problem in a config file: where, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Field path such as `targets[2].policy.scale_in.cooldown`.
    pub path: String,
    /// What is wrong, with the bad value.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            // A problem with the whole document.
            return write!(f, "{}", self.message);
        }
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid; every problem found is listed.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<FieldError>),
}

/// The top level as written, before each target is parsed on its own.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default = "default_tick_interval")]
    tick_interval: HumanDuration,
    #[serde(default)]
    kafka_clusters: BTreeMap<String, KafkaClusterConfig>,
    #[serde(default)]
    audit_kafka: Option<KafkaAuditConfig>,
    targets: Vec<serde_norway::Value>,
}

fn default_tick_interval() -> HumanDuration {
    HumanDuration::secs(60)
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::from_yaml(&text)
    }

    /// Parses and validates config text.
    pub fn from_yaml(text: &str) -> Result<Config, ConfigError> {
        limits::check(text).map_err(|e| ConfigError::Invalid(vec![e]))?;
        let raw: RawConfig =
            parse_tracked(text).map_err(|e| ConfigError::Invalid(vec![e.under("")]))?;

        let mut errors = Vec::new();
        let mut targets = Vec::with_capacity(raw.targets.len());
        for (i, value) in raw.targets.into_iter().enumerate() {
            // Parse each target on its own so one broken target does not hide the next.
            let text = serde_norway::to_string(&value).unwrap_or_default();
            match parse_tracked::<TargetConfig>(&text) {
                Ok(t) => targets.push(t),
                Err(e) => errors.push(e.under(&format!("targets[{i}]"))),
            }
        }
        let config = Config {
            tick_interval: raw.tick_interval,
            kafka_clusters: raw.kafka_clusters,
            audit_kafka: raw.audit_kafka,
            targets,
        };
        errors.extend(validate::validate(&config));
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid(errors))
        }
    }
}

impl FieldError {
    /// The same error with its path placed under `prefix`.
    fn under(mut self, prefix: &str) -> FieldError {
        self.path = match (prefix.is_empty(), self.path.as_str()) {
            // An empty path: the error is about the top level, or a key
            // that is the empty string.
            (true, "." | "") => "(top level)".to_string(),
            (true, _) => self.path,
            (false, "." | "") => prefix.to_string(),
            (false, p) => format!("{prefix}.{p}"),
        };
        self
    }
}

/// Deserializes YAML, tracking the field path of the first error. Enums are
/// written as `{ variant: fields }` or a bare `variant` (singleton maps).
fn parse_tracked<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, FieldError> {
    let mut track = serde_path_to_error::Track::new();
    let de = serde_norway::Deserializer::from_str(text);
    let tracked = serde_path_to_error::Deserializer::new(de, &mut track);
    serde_norway::with::singleton_map_recursive::deserialize(tracked).map_err(
        |e: serde_norway::Error| FieldError {
            path: track.path().to_string(),
            message: clean_serde_message(&e.to_string()),
        },
    )
}

/// Drops what the YAML error repeats (its own path prefix) or cannot know
/// (line numbers inside a re-serialized target): the field path says where.
fn clean_serde_message(msg: &str) -> String {
    let msg = match msg.rfind(" at line ") {
        Some(i) if msg[i..].contains("column") => &msg[..i],
        _ => msg,
    };
    match msg.split_once(": ") {
        Some((prefix, rest)) if !prefix.contains(' ') && !prefix.contains('`') => rest.to_string(),
        _ => msg.to_string(),
    }
}

#[cfg(test)]
mod documented_defaults;
#[cfg(test)]
mod tests;
