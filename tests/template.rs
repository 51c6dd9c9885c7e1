//! `template.yaml` configured for failure (issue 28), read from the file:
//! each assertion names the property it pins and why it matters.

use serde_norway::Value;

fn template_text() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap()
}

fn template() -> Value {
    serde_norway::from_str(&template_text()).expect("template.yaml parses")
}

fn at<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(v, |v, k| match v.get(*k) {
        Some(child) => child,
        None => panic!("template.yaml has no {}", path.join(".")),
    })
}

fn int(v: &Value) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("{v:?} is not a number"))
}

#[test]
fn a_failed_tick_is_not_retried_behind_its_reserved_concurrency() {
    let t = template();
    let tick = at(&t, &["Resources", "TickFunction", "Properties"]);
    assert_eq!(int(at(tick, &["ReservedConcurrentExecutions"])), 1);
    assert_eq!(
        int(at(tick, &["EventInvokeConfig", "MaximumRetryAttempts"])),
        0
    );
    assert!(int(at(tick, &["EventInvokeConfig", "MaximumEventAgeInSeconds"])) <= 60);
}

#[test]
fn the_control_queue_poller_stays_below_evaluates_reserved_concurrency() {
    let t = template();
    let evaluate = at(&t, &["Resources", "EvaluateFunction", "Properties"]);
    let reserved = int(at(evaluate, &["ReservedConcurrentExecutions"]));
    let poller = int(at(
        evaluate,
        &[
            "Events",
            "ControlQueue",
            "Properties",
            "ScalingConfig",
            "MaximumConcurrency",
        ],
    ));
    assert!(
        (2..reserved).contains(&poller),
        "MaximumConcurrency {poller}, reserved {reserved}"
    );
    let receives = int(at(
        &t,
        &[
            "Resources",
            "ControlQueue",
            "Properties",
            "RedrivePolicy",
            "maxReceiveCount",
        ],
    ));
    assert!(receives >= 5, "maxReceiveCount {receives}");
}

#[test]
fn the_inline_config_is_never_echoed() {
    let t = template();
    assert_eq!(
        at(&t, &["Parameters", "ConfigYaml", "NoEcho"]).as_bool(),
        Some(true)
    );
}

#[test]
fn every_arn_parameter_refuses_wildcards_and_takes_a_named_arn() {
    let t = template();
    let samples = [
        ("QueueArns", "arn:aws:sqs:us-east-1:123456789012:orders"),
        ("EcsServiceArns", "arn:aws:ecs:us-east-1:123456789012:service/prod/orders-worker"),
        ("EcsProtectionClusterArns", "arn:aws:ecs:us-east-1:123456789012:cluster/prod"),
        ("EcsProtectedTaskArns", "arn:aws:ecs:us-east-1:123456789012:task/prod/*"),
        ("WorkerFunctionArns", "arn:aws:lambda:us-east-1:123456789012:function:handler"),
        ("WorkerAliasArns", "arn:aws:lambda:us-east-1:123456789012:function:handler:live"),
        (
            "EventSourceMappingArns",
            "arn:aws:lambda:us-east-1:123456789012:event-source-mapping:14e0db71-5d35-4eb5-b481-8945cf9d10c2",
        ),
        ("TargetRoleArns", "arn:aws:iam::123456789012:role/team/qscale-target"),
        (
            "KafkaPasswordParameterArns",
            "arn:aws:ssm:us-east-1:123456789012:parameter/qscale/kafka-password",
        ),
        (
            "MskClusterArns",
            "arn:aws:kafka:us-east-1:123456789012:cluster/events/7f3c2a1b-9d4e-4f6a-8b2c-1a2b3c4d5e6f-3",
        ),
        (
            "MskTopicArns",
            "arn:aws:kafka:us-east-1:123456789012:topic/events/7f3c2a1b-9d4e-4f6a-8b2c-1a2b3c4d5e6f-3/orders",
        ),
        (
            "MskGroupArns",
            "arn:aws:kafka:us-east-1:123456789012:group/events/7f3c2a1b-9d4e-4f6a-8b2c-1a2b3c4d5e6f-3/orders-workers",
        ),
        (
            "MskGrowTopicArns",
            "arn:aws:kafka:us-east-1:123456789012:topic/events/7f3c2a1b-9d4e-4f6a-8b2c-1a2b3c4d5e6f-3/orders",
        ),
        (
            "MskAuditTopicArns",
            "arn:aws:kafka:us-east-1:123456789012:topic/events/7f3c2a1b-9d4e-4f6a-8b2c-1a2b3c4d5e6f-3/qscale-audit",
        ),
        ("AlarmTopicArn", "arn:aws:sns:us-east-1:123456789012:ops"),
        (
            "ConfigKmsKeyArn",
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        ),
    ];
    let params = at(&t, &["Parameters"]).as_mapping().unwrap();
    let arn_params: Vec<&str> = params
        .keys()
        .filter_map(Value::as_str)
        .filter(|k| k.ends_with("Arns") || k.ends_with("Arn"))
        .collect();
    assert_eq!(
        arn_params.len(),
        samples.len(),
        "{arn_params:?}: every ARN parameter has a sample"
    );
    for (name, sample) in samples {
        let pattern = at(&t, &["Parameters", name, "AllowedPattern"])
            .as_str()
            .unwrap();
        let re = regex::Regex::new(pattern).unwrap();
        assert!(re.is_match(""), "{name}: the empty default must pass");
        assert!(re.is_match(sample), "{name}: {sample}");
        for wide in [
            "*",
            &format!("{}*", &sample[..sample.len() - 2]),
            &sample.replace("123456789012", "*"),
        ] {
            assert!(!re.is_match(wide), "{name} accepts {wide}");
        }
    }
}

#[test]
fn kafka_passwords_are_readable_only_when_named_and_only_those() {
    let text = template_text();
    let grants: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("Sid: ReadKafkaPasswords"))
        .collect();
    assert_eq!(grants.len(), 2, "tick and evaluate: {grants:?}");
    for line in grants {
        assert!(
            line.trim_start().starts_with("- !If [HasKafkaPasswords,"),
            "{line}"
        );
        assert!(
            line.contains("Resource: !Ref KafkaPasswordParameterArns"),
            "{line}"
        );
    }
}

#[test]
fn msk_iam_actions_are_granted_only_on_named_arns_and_only_what_qscale_does() {
    let text = template_text();
    let grants: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("kafka-cluster:"))
        .filter(|l| l.contains("Sid:"))
        .collect();
    // Five statements in each of the two functions that read Kafka.
    assert_eq!(grants.len(), 10, "{grants:?}");
    let allowed = [
        (
            "ConnectMsk",
            "HasMskClusters",
            "MskClusterArns",
            &["Connect"][..],
        ),
        (
            "ReadMskTopics",
            "HasMskTopics",
            "MskTopicArns",
            &["DescribeTopic", "ReadData"],
        ),
        (
            "DescribeMskGroups",
            "HasMskGroups",
            "MskGroupArns",
            &["DescribeGroup"],
        ),
        (
            "GrowMskTopics",
            "HasMskGrowTopics",
            "MskGrowTopicArns",
            &["DescribeTopic", "AlterTopic"],
        ),
        (
            "WriteMskAudit",
            "HasMskAuditTopics",
            "MskAuditTopicArns",
            &["DescribeTopic", "WriteData", "WriteDataIdempotently"],
        ),
    ];
    for line in grants {
        let (sid, condition, resource, actions) = allowed
            .iter()
            .find(|(sid, ..)| line.contains(&format!("Sid: {sid},")))
            .unwrap_or_else(|| panic!("an unexpected kafka-cluster grant: {line}"));
        assert!(
            line.trim_start()
                .starts_with(&format!("- !If [{condition},")),
            "{sid}: {line}"
        );
        assert!(
            line.contains(&format!("Resource: !Ref {resource}}}")),
            "{sid}: {line}"
        );
        let granted: Vec<&str> = line
            .match_indices("kafka-cluster:")
            .map(|(i, _)| {
                line[i + 14..]
                    .split(|c: char| !c.is_ascii_alphanumeric())
                    .next()
                    .unwrap()
            })
            .collect();
        assert_eq!(&granted[..], *actions, "{sid}: {line}");
    }
}

#[test]
fn delete_function_concurrency_is_granted_only_on_opt_in() {
    let text = template_text();
    let grants: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("Action: lambda:DeleteFunctionConcurrency"))
        .collect();
    assert_eq!(grants.len(), 2, "tick and evaluate: {grants:?}");
    for line in grants {
        assert!(
            line.trim_start().starts_with("- !If [UnreservesAtMax,"),
            "{line}"
        );
    }
    // Nowhere else: not in the lists of the scaling actions (the third
    // mention is the parameter's description).
    assert_eq!(text.matches("lambda:DeleteFunctionConcurrency").count(), 3);
    let t = template();
    assert_eq!(
        at(&t, &["Parameters", "AllowUnreservedAtMax", "Default"]).as_str(),
        Some("false")
    );
}

#[test]
fn the_functions_get_the_stacks_ceiling_on_max() {
    let t = template();
    assert_eq!(
        at(
            &t,
            &[
                "Globals",
                "Function",
                "Environment",
                "Variables",
                "QSCALE_MAX_WORKERS"
            ]
        ),
        &serde_norway::from_str::<Value>("!Ref MaxWorkersPerTarget").unwrap()
    );
    assert_eq!(
        int(at(&t, &["Parameters", "MaxWorkersPerTarget", "Default"])),
        1000
    );
}

#[test]
fn kms_decrypt_is_granted_only_with_a_config_key_and_only_on_it() {
    let text = template_text();
    let grants: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("Action: kms:Decrypt"))
        .collect();
    assert_eq!(grants.len(), 3, "tick, evaluate, prewarm: {grants:?}");
    for line in grants {
        assert!(
            line.trim_start().starts_with("- !If [HasConfigKey,"),
            "{line}"
        );
        assert!(line.contains("Resource: !Ref ConfigKmsKeyArn"), "{line}");
    }
}

#[test]
fn task_protection_is_read_only_in_the_named_clusters() {
    // ListTasks authorizes on container instances, which Fargate tasks have
    // none of: it is granted on "*" and scoped by the ecs:cluster condition
    // to the clusters listed; GetTaskProtection on those clusters' tasks.
    let text = template_text();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("ecs:ListTasks") || l.contains("ecs:GetTaskProtection"))
        .collect();
    // Each in tick and in evaluate, the two functions that observe workers.
    assert_eq!(lines.len(), 4, "{lines:?}");
    for line in lines {
        if line.contains("ecs:ListTasks") {
            assert!(
                line.trim_start()
                    .starts_with("- !If [HasProtectionClusters,"),
                "{line}"
            );
            assert!(
                line.contains(
                    r#"Condition: {ArnEquals: {"ecs:cluster": !Ref EcsProtectionClusterArns}}"#
                ),
                "{line}"
            );
            assert!(!line.contains("ecs:GetTaskProtection"), "{line}");
        } else {
            assert!(
                line.trim_start().starts_with("- !If [HasProtectedTasks,"),
                "{line}"
            );
            assert!(
                line.contains("Resource: !Ref EcsProtectedTaskArns}"),
                "{line}"
            );
        }
    }
    // A task pattern of one named cluster, never of all.
    let t = template();
    let pattern = at(
        &t,
        &["Parameters", "EcsProtectedTaskArns", "AllowedPattern"],
    )
    .as_str()
    .unwrap();
    let re = regex::Regex::new(pattern).unwrap();
    assert!(re.is_match("arn:aws:ecs:us-east-1:123456789012:task/prod/*"));
    for wide in [
        "arn:aws:ecs:us-east-1:123456789012:task/*",
        "arn:aws:ecs:us-east-1:123456789012:task/*/*",
        "arn:aws:ecs:us-east-1:123456789012:*",
    ] {
        assert!(!re.is_match(wide), "{wide}");
    }
}
