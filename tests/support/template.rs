//! template.yaml read as data: its IAM statements, through every `!If`
//! branch, for the tests that check what the functions are granted.

use serde_norway::Value;

/// template.yaml, parsed.
pub fn template() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap();
    serde_norway::from_str(&text).expect("template.yaml parses")
}

/// Every IAM statement under a `Statement` key anywhere in `v`.
pub fn statements(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Mapping(m) => {
            for (k, child) in m {
                if k.as_str() == Some("Statement") {
                    match child {
                        Value::Sequence(s) => out.extend(s.iter().cloned()),
                        other => out.push(other.clone()),
                    }
                }
                statements(child, out);
            }
        }
        Value::Sequence(s) => s.iter().for_each(|c| statements(c, out)),
        Value::Tagged(t) => statements(&t.value, out),
        _ => {}
    }
}

/// The plain strings of a field that is a string or a list of them.
pub fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Sequence(s)) => s
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}
