//! The template's IAM statements grant nothing wider than named resources:
//! no `Resource: "*"`, no wildcard action, no `NotAction`/`NotResource`,
//! except the listed, justified exceptions. Read from `template.yaml` itself,
//! through every `!If` branch.

use qscale_integration::template::{statements, strings, template};
use serde_norway::Value;

/// (action, why) pairs allowed on `Resource: "*"`: APIs that support no
/// resource-level permissions for what qscale reads.
const WILDCARD_RESOURCE_EXCEPTIONS: &[(&str, &str)] = &[(
    "ecs:ListTasks",
    "authorizes on container instances, which Fargate tasks have none of; scoped to the \
     named clusters by the ecs:cluster condition instead (tests/template.rs)",
)];

/// What is too wide in one statement.
fn problems(statement: &Value) -> Vec<String> {
    let get = |k: &str| statement.get(k);
    let sid = get("Sid").and_then(Value::as_str).unwrap_or("(no Sid)");
    let mut out = Vec::new();
    for k in ["NotAction", "NotResource"] {
        if get(k).is_some() {
            out.push(format!("{sid}: {k} grants everything not listed"));
        }
    }
    let actions = strings(get("Action"));
    for a in &actions {
        if a.contains('*') {
            out.push(format!("{sid}: wildcard action {a:?}"));
        }
    }
    if strings(get("Resource")).iter().any(|r| r == "*") {
        for a in &actions {
            if !WILDCARD_RESOURCE_EXCEPTIONS.iter().any(|(x, _)| x == a) {
                out.push(format!("{sid}: {a} on Resource \"*\""));
            }
        }
    }
    out
}

fn template_statements() -> Vec<Value> {
    let mut out = Vec::new();
    statements(&template(), &mut out);
    out
}

#[test]
fn template_grants_only_named_resources() {
    let all = template_statements();
    // Every function role and the scheduler role: the walk must see them all.
    assert!(all.len() >= 15, "found only {} statements", all.len());
    let found: Vec<String> = all.iter().flat_map(problems).collect();
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_check_catches_wide_grants() {
    let wide: Value = serde_norway::from_str(
        "Statement:\n  - { Sid: A, Effect: Allow, Action: [s3:*], Resource: arn:aws:s3:::b }\n  - { Sid: B, Effect: Allow, Action: sqs:SendMessage, Resource: '*' }\n  - { Sid: C, Effect: Allow, NotAction: iam:*, Resource: x }\n",
    )
    .unwrap();
    let mut all = Vec::new();
    statements(&wide, &mut all);
    let found: Vec<String> = all.iter().flat_map(problems).collect();
    assert_eq!(
        found,
        vec![
            "A: wildcard action \"s3:*\"",
            "B: sqs:SendMessage on Resource \"*\"",
            "C: NotAction grants everything not listed",
        ]
    );
}
