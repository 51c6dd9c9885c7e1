//! Loading a config: size and nesting limits, then each target parsed on
//! its own (so one broken target does not hide the next), then validation.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::error::FieldError;
use super::target::{Config, KafkaAuditConfig, KafkaClusterConfig, TargetConfig};
use super::values::HumanDuration;
use super::{limits, validate};

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
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    /// How often every target is reconciled. Default 60s; below 60s it must
    /// be at least 5s and divide 60s.
    #[serde(default = "default_tick_interval")]
    tick_interval: HumanDuration,
    /// Kafka clusters by name, for Kafka signals and the audit topic.
    #[serde(default)]
    kafka_clusters: BTreeMap<String, KafkaClusterConfig>,
    /// Also publish audit events to a Kafka topic.
    #[serde(default)]
    audit_kafka: Option<KafkaAuditConfig>,
    /// The things qscale scales.
    #[schemars(with = "Vec<super::TargetConfig>")]
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
