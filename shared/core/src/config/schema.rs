//! The config's JSON Schema, derived from the same types the loader parses
//! (so it cannot drift from them): `qscale schema` prints it for editors
//! (yaml-language-server). It checks shapes, names and types; values that
//! need parsing or cross-field rules (a cron, `min <= max`) are `qscale
//! validate`'s.

use super::load::RawConfig;

/// The JSON Schema (draft 2020-12) of a qscale config file.
pub fn json_schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(RawConfig);
    schema.insert("title".into(), "qscale config".into());
    schema.to_value()
}
