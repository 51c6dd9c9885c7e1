//! Reading the CLI's JSON inputs with errors that name the field and value.

use std::path::Path;

use qscale_core::config::TargetConfig;
use qscale_core::engine::{Observations, TargetState};

/// Why an input file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Unreadable file.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Malformed JSON or a field of the wrong type.
    #[error("{path}: {field}: {message}")]
    Field {
        /// The file.
        path: String,
        /// Field path inside it.
        field: String,
        /// What is wrong.
        message: String,
    },
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, InputError> {
    let text = std::fs::read_to_string(path).map_err(|source| InputError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let de = &mut serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(de).map_err(|e| InputError::Field {
        path: path.display().to_string(),
        field: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

/// Reads observations and checks every reading names a signal of the target.
pub fn read_observations(path: &Path, target: &TargetConfig) -> Result<Observations, InputError> {
    let obs: Observations = read_json(path)?;
    for name in obs.signals.keys() {
        if !target.signals.iter().any(|s| s.name() == name) {
            let known: Vec<_> = target.signals.iter().map(|s| s.name()).collect();
            return Err(InputError::Field {
                path: path.display().to_string(),
                field: format!("signals.{name}"),
                message: format!(
                    "{name:?} is not a signal of target {:?} (its signals: {known:?})",
                    target.name
                ),
            });
        }
    }
    Ok(obs)
}

/// Reads a target state file.
pub fn read_state(path: &Path) -> Result<TargetState, InputError> {
    read_json(path)
}
