//! The JSON Schema accepts every config qscale ships or documents, and
//! flags the typos `deny_unknown_fields` rejects, as an editor would show
//! them (validated with an independent validator, `jsonschema`).

use super::documented_examples::documented_yaml_blocks;
use crate::config::schema::json_schema;
use crate::config::Config;

const SHIPPED: &[(&str, &str)] = &[
    (
        "configs/example.yaml",
        include_str!("../../../../configs/example.yaml"),
    ),
    (
        "configs/demo.yaml",
        include_str!("../../../../configs/demo.yaml"),
    ),
];

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&json_schema()).expect("the schema is a valid JSON Schema")
}

fn schema_errors(v: &jsonschema::Validator, yaml: &str) -> Vec<String> {
    let json: serde_json::Value = serde_norway::from_str(yaml).expect("YAML");
    v.iter_errors(&json)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn every_shipped_and_documented_config_validates() {
    let v = validator();
    let documented = documented_yaml_blocks();
    assert!(documented.len() >= 2);
    for (name, yaml) in SHIPPED
        .iter()
        .copied()
        .chain(documented.iter().map(|(n, y)| (*n, y.as_str())))
    {
        Config::from_yaml(yaml).unwrap_or_else(|e| panic!("{name} loads: {e}"));
        let errors = schema_errors(&v, yaml);
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
}

#[test]
fn typos_the_loader_rejects_are_flagged_with_their_place() {
    let v = validator();
    let good = "targets:\n  - name: a\n    signals: [ { sqs: { name: q, queue: q1 } } ]\n    worker: { ecs: { cluster: c, service: s } }\n    policy: { min: 0, max: 10, target_per_worker: 5, scale_in: { cooldown: 2m } }\n";
    assert!(schema_errors(&v, good).is_empty());
    for (typo, from, to, place) in [
        (
            "field in policy",
            "target_per_worker",
            "target_per_workr",
            "/targets/0/policy",
        ),
        (
            "field in a partial direction block",
            "cooldown: 2m",
            "cooldwn: 2m",
            "/targets/0/policy/scale_in",
        ),
        ("worker kind", "ecs:", "ecss:", "/targets/0/worker"),
        (
            "duration without a unit",
            "cooldown: 2m",
            "cooldown: 120",
            "/targets/0/policy/scale_in/cooldown",
        ),
        (
            "top-level field",
            "targets:",
            "tick_interval: 15s\ntargts:",
            "",
        ),
    ] {
        let yaml = good.replace(from, to);
        assert!(
            Config::from_yaml(&yaml).is_err(),
            "the loader rejects the {typo}"
        );
        let errors = schema_errors(&v, &yaml);
        assert!(
            errors.iter().any(|e| e.ends_with(&format!(" at {place}"))),
            "{typo}: {errors:?}"
        );
    }
}

#[test]
fn the_shipped_schema_file_is_the_derived_one() {
    // shared/configs/qscale.schema.json is what the shipped configs' modeline
    // names; regenerate it with `qscale schema > shared/configs/qscale.schema.json`.
    let shipped: serde_json::Value =
        serde_json::from_str(include_str!("../../../../configs/qscale.schema.json")).unwrap();
    assert_eq!(
        shipped,
        json_schema(),
        "run: qscale schema > shared/configs/qscale.schema.json"
    );
}
