mod documented_defaults;
mod documented_examples;
mod schema;
use super::*;

const EXAMPLE: &str = include_str!("../../../../configs/example.yaml");

fn errors(yaml: &str) -> Vec<String> {
    match Config::from_yaml(yaml) {
        Ok(_) => panic!("expected errors for:\n{yaml}"),
        Err(ConfigError::Invalid(e)) => e.iter().map(|e| e.to_string()).collect(),
        Err(e) => panic!("unexpected {e}"),
    }
}

const GOOD_TARGET: &str = r#"
  - name: a
    signals: [ { sqs: { name: q, queue: q1 } } ]
    worker: { ecs: { cluster: c, service: s } }
    policy: { min: 0, max: 10, target_per_worker: 5 }
"#;

#[test]
fn example_config_loads_with_defaults() {
    let c = Config::from_yaml(EXAMPLE).unwrap();
    assert_eq!(c.targets.len(), 2);
    let orders = c.target("orders").unwrap();
    assert_eq!(
        orders.policy.scale_out,
        DirectionConfig::default_scale_out()
    );
    assert_eq!(orders.policy.tolerance, 0.1);
    let clicks = c.target("clicks").unwrap();
    // 60s / 20ms = 3000 messages per worker.
    assert!((clicks.policy.target_per_worker() - 3000.0).abs() < 1e-9);
    assert_eq!(
        clicks.policy.untrusted_data.fallback,
        Fallback::CurrentIfHigher(4)
    );
}

#[test]
fn bad_duration_names_path_and_value() {
    let yaml = format!(
        "targets:{GOOD_TARGET}{}",
        GOOD_TARGET.replace("name: a", "name: b").replace(
            "target_per_worker: 5 }",
            "target_per_worker: 5, scale_in: { cooldown: 5 minuts, stabilization: 0s, rate_limits: {} } }"
        )
    );
    let e = errors(&yaml);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("targets[1].policy.scale_in.cooldown: \"5 minuts\" is not a duration"),
        "{e:?}"
    );
}

#[test]
fn unknown_field_is_rejected_with_its_path() {
    let yaml = format!(
        "targets:{}",
        GOOD_TARGET.replace("max: 10", "max: 10, mxa: 3")
    );
    let e = errors(&yaml);
    assert!(
        e[0].starts_with("targets[0].policy.mxa: unknown field `mxa`"),
        "{e:?}"
    );
}

#[test]
fn every_broken_target_is_reported() {
    let yaml = format!(
        "targets:{}{}{}",
        GOOD_TARGET.replace("min: 0", "min: 20"),
        GOOD_TARGET
            .replace("name: a", "name: b")
            .replace("ecs:", "eks:"),
        GOOD_TARGET.replace("queue: q1", "queue: q1, include_delayed: maybe")
    );
    let e = errors(&yaml);
    let joined = e.join("\n");
    assert!(
        joined.contains("targets[0].policy.min: 20 is above policy.max 10"),
        "{joined}"
    );
    assert!(
        joined.contains("targets[1].worker.eks: unknown variant `eks`"),
        "{joined}"
    );
    assert!(
        joined.contains("targets[2].signals[0].sqs.include_delayed"),
        "{joined}"
    );
    assert_eq!(e.len(), 3, "{joined}");
}

#[test]
fn semantic_errors_name_field_and_value() {
    let yaml = r#"
targets:
  - name: k
    signals:
      - kafka: { name: t, cluster: nope, group: g, topic: t, max_partitions: 0 }
      - sqs: { name: t, queue: "" }
    worker: { lambda_concurrency: { function: f } }
    policy:
      min: 0
      max: 4
      target_per_worker: -1
      tolerance: 1.5
      untrusted_data: { fallback: { static: 9 } }
      scale_out:
        cooldown: 0s
        stabilization: 0s
        rate_limits: { policies: [ { pods: { value: 0, period: 0s } } ] }
    schedules:
      - { name: s, cron: "0 8 * * *", timezone: Mars/Olympus, duration: 1h, min: 2 }
      - { name: s2, cron: "0 8 * * *", duration: 1h, min: 9 }
"#;
    let joined = errors(yaml).join("\n");
    let want = "targets[0].schedules[0].timezone: \"Mars/Olympus\" is not an IANA time zone";
    assert!(joined.contains(want), "missing {want:?} in\n{joined}");
    // The zone error is a parse error: fix it and the semantic errors show.
    let joined = errors(&yaml.replace("Mars/Olympus", "UTC")).join("\n");
    for want in [
        "targets[0].policy.target_per_worker: -1 must be a number above 0",
        "targets[0].policy.tolerance: 1.5 must be at least 0 and below 1",
        "targets[0].policy.untrusted_data.fallback: 9 is above policy.max 4",
        "targets[0].policy.scale_out.rate_limits.policies[0].value: 0 must be at least 1",
        "targets[0].policy.scale_out.rate_limits.policies[0].period: must be above 0s",
        "targets[0].signals[0].kafka.cluster: \"nope\" is not defined under kafka_clusters",
        "targets[0].signals[0].kafka.max_partitions: 0 must be at least 1",
        "targets[0].signals[1].sqs.name: \"t\" is used by another signal of this target",
        "targets[0].signals[1].sqs.queue: must not be empty",
        "targets[0].schedules[1].min: 9 is above policy.max 4",
        "targets[0].worker.lambda_concurrency.qualifier: required with schedules",
    ] {
        assert!(joined.contains(want), "missing {want:?} in\n{joined}");
    }
}

#[test]
fn duplicate_target_names_and_missing_target_value() {
    let yaml = format!("targets:{GOOD_TARGET}{GOOD_TARGET}");
    let e = errors(&yaml);
    assert_eq!(
        e,
        vec!["targets[1].name: \"a\" is used by another target".to_string()]
    );
    let e = errors(&format!(
        "targets:{}",
        GOOD_TARGET.replace("target_per_worker: 5", "tolerance: 0.2")
    ));
    assert_eq!(
        e,
        vec!["targets[0].policy: one of target_per_worker or latency is required".to_string()]
    );
}

#[test]
fn number_without_unit_is_not_a_duration() {
    let yaml = format!("tick_interval: 60\ntargets:{GOOD_TARGET}");
    let e = errors(&yaml);
    assert!(
        e[0].starts_with("tick_interval: 60 is not a duration"),
        "{e:?}"
    );
}

#[test]
fn durations_longer_than_a_year_are_refused() {
    // Found by tests/fuzz.rs: such a lead made decide's timestamp arithmetic overflow.
    let yaml = format!("targets:{GOOD_TARGET}")
        .replace("min: 0,", "min: 0, prewarm_lead: 18446744073709551615s,");
    let e = errors(&yaml);
    assert!(
        e[0].ends_with(
            "\"18446744073709551615s\" is longer than the longest accepted duration, 366d"
        ),
        "{e:?}"
    );
    assert!(Config::from_yaml(&format!("tick_interval: 367d\ntargets:{GOOD_TARGET}")).is_err());
}

#[test]
fn sub_minute_ticks_split_the_minute_evenly() {
    for ok in ["5s", "15s", "30s", "60s", "2m"] {
        let yaml = format!("tick_interval: {ok}\ntargets:{GOOD_TARGET}");
        assert!(Config::from_yaml(&yaml).is_ok(), "{ok}");
    }
    for (bad, shown) in [("7s", "7s"), ("2s", "2s"), ("45s", "45s")] {
        let e = errors(&format!("tick_interval: {bad}\ntargets:{GOOD_TARGET}"));
        assert_eq!(
            e,
            vec![format!("tick_interval: {shown} is below 60s: it must be at least 5s and divide 60s evenly (5s, 6s, 10s, 12s, 15s, 20s or 30s)")]
        );
    }
}

#[test]
fn kafka_secrets_never_show_in_debug_output() {
    let yaml = format!(
        "kafka_clusters:\n  main: {{ bootstrap_servers: b:9092, properties: {{ sasl.password: hunter2 }}, allow_plain_password: true }}\ntargets:{GOOD_TARGET}"
    );
    let c = Config::from_yaml(&yaml).unwrap();
    let shown = format!("{c:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("sasl.password"), "{shown}");
}

#[test]
fn partial_direction_blocks_take_each_directions_documented_defaults() {
    let policy = |extra: &str| {
        let yaml = format!(
            "targets:\n  - name: a\n    signals: [ {{ sqs: {{ name: q, queue: q }} }} ]\n    worker: {{ ecs: {{ cluster: c, service: s }} }}\n    policy: {{ min: 0, max: 5, target_per_worker: 10{extra} }}\n"
        );
        Config::from_yaml(&yaml).map(|c| c.targets[0].policy.clone())
    };
    let out = DirectionConfig::default_scale_out();
    let inn = DirectionConfig::default_scale_in();
    let p = policy(", scale_out: { cooldown: 2m }").unwrap();
    assert_eq!(
        p.scale_out,
        DirectionConfig {
            cooldown: HumanDuration::secs(120),
            ..out.clone()
        }
    );
    assert_eq!(p.scale_in, inn);
    let p = policy(", scale_in: { stabilization: 60s }").unwrap();
    assert_eq!(
        p.scale_in,
        DirectionConfig {
            stabilization: HumanDuration::secs(60),
            ..inn.clone()
        }
    );
    let p = policy(", scale_out: { rate_limits: { select: min } }").unwrap();
    assert_eq!(p.scale_out.rate_limits.select, SelectPolicy::Min);
    assert_eq!(p.scale_out.rate_limits.policies, out.rate_limits.policies);
    let p = policy(", scale_in: {}").unwrap();
    assert_eq!(p.scale_in, inn);
    // A direction's tolerance (KEP-4951) leaves the rest of its defaults.
    let p = policy(", scale_out: { tolerance: 0 }").unwrap();
    assert_eq!(
        p.scale_out,
        DirectionConfig {
            tolerance: Some(0.0),
            ..out.clone()
        }
    );
    assert_eq!((p.tolerance_of(true), p.tolerance_of(false)), (0.0, 0.1));
    let e = policy(", scale_in: { tolerance: 1.5 }")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("targets[0].policy.scale_in.tolerance")
            && e.contains("1.5 must be at least 0 and below 1"),
        "{e}"
    );
    let e = match policy(", scale_in: { cooldwn: 1m }") {
        Err(ConfigError::Invalid(e)) => e[0].to_string(),
        other => panic!("{other:?}"),
    };
    assert!(
        e.starts_with("targets[0].policy.scale_in.cooldwn: unknown field `cooldwn`"),
        "{e}"
    );
}

#[test]
fn deep_or_huge_input_is_refused_before_parsing() {
    let deep = format!("targets: {}{}", "[".repeat(20_000), "]".repeat(20_000));
    assert_eq!(
        errors(&deep),
        vec!["line 1, column 74: collections nest deeper than 64 levels".to_string()]
    );
    // Brackets inside quotes and comments do not count.
    let quoted = format!(
        "# {}\ntick_interval: 60s\ntargets:{GOOD_TARGET}",
        "[".repeat(100)
    )
    .replace("queue: q1", &format!("queue: \"{}\"", "{".repeat(100)));
    assert!(Config::from_yaml(&quoted).is_ok(), "{quoted}");
    let huge = format!(
        "# {}\ntargets:{GOOD_TARGET}",
        "x".repeat(super::limits::MAX_BYTES)
    );
    let e = errors(&huge);
    assert!(
        e[0].contains("bytes, above the 1048576-byte limit"),
        "{e:?}"
    );
}

#[test]
fn deep_block_nesting_is_refused_before_parsing() {
    let dashes = format!("targets:\n  {}x\n", "- ".repeat(300_000));
    assert_eq!(
        errors(&dashes),
        vec!["line 2: 300000 nested `- ` entries, more than 64".to_string()]
    );
    let mut indented = "targets:\n".to_string();
    for i in 0..200 {
        indented += &format!("{}- k{i}:\n", "  ".repeat(i));
    }
    assert_eq!(
        errors(&indented),
        vec!["line 131: indented 258 columns, deeper than 256".to_string()]
    );
    // A list item holding a list item is fine.
    let nested_ok = "targets:\n- - x\n";
    assert!(!errors(nested_ok)[0].contains("nested"));
}

#[test]
fn slo_and_forecast_defaults_are_the_documented_ones() {
    let yaml = format!(
        "targets:{}",
        GOOD_TARGET.replace(
            "target_per_worker: 5 }",
            "target_per_worker: 5, slo: { wait: 60s, processing_time: 200ms } }"
        )
    );
    let c = Config::from_yaml(&yaml).unwrap();
    assert_eq!(c.tick_interval, HumanDuration::secs(60));
    let p = &c.targets[0].policy;
    let slo = p.slo.as_ref().unwrap();
    assert_eq!(slo.percentile, 99.0);
    assert_eq!(
        slo.startup,
        crate::config::StartupTime::Fixed(HumanDuration::secs(60))
    );
    assert_eq!(p.forecast.mode, ForecastMode::Off);
    assert_eq!(p.forecast.lead, HumanDuration::secs(120));
    assert_eq!(p.target_utilization, Some(0.8));
}

#[test]
fn lambda_pre_warm_windows_need_a_qualifier_that_can_take_provisioned_concurrency() {
    let target = |worker: &str| {
        format!(
            "targets:\n  - name: a\n    signals: [ {{ sqs: {{ name: q, queue: q1 }} }} ]\n    worker: {{ lambda_concurrency: {worker} }}\n    policy: {{ min: 0, max: 10, target_per_worker: 5 }}\n    schedules: [ {{ name: s, cron: \"0 8 * * *\", duration: 1h, min: 2 }} ]\n"
        )
    };
    let e = errors(&target("{ function: f, qualifier: \"$LATEST\" }")).join("\n");
    assert!(
        e.contains("targets[0].worker.lambda_concurrency.qualifier: \"$LATEST\" cannot take provisioned concurrency"),
        "{e}"
    );
    let c = Config::from_yaml(&target("{ function: f, qualifier: live }")).unwrap();
    assert_eq!(
        c.targets[0].worker.provisioned_qualifier(),
        Some(("f", "live"))
    );
    // Without schedules no qualifier is needed (registered events are checked when registered).
    let no_schedule = target("{ function: f }").replace(
        "    schedules: [ { name: s, cron: \"0 8 * * *\", duration: 1h, min: 2 } ]\n",
        "",
    );
    assert!(Config::from_yaml(&no_schedule).is_ok());
}

#[test]
fn two_targets_on_one_resource_are_refused_by_name_or_arn() {
    let yaml = r#"
targets:
  - name: a
    signals: [ { sqs: { name: q, queue: q1 } } ]
    worker: { ecs: { cluster: prod, service: orders } }
    policy: { min: 0, max: 10, target_per_worker: 5 }
  - name: b
    signals: [ { sqs: { name: q, queue: q2 } } ]
    worker: { ecs: { cluster: prod, service: "arn:aws:ecs:us-east-1:123456789012:service/prod/orders" } }
    policy: { min: 0, max: 10, target_per_worker: 5 }
  - name: c
    signals: [ { sqs: { name: q, queue: q3 } } ]
    worker: { lambda_concurrency: { function: handler } }
    policy: { min: 0, max: 10, target_per_worker: 5 }
  - name: d
    signals: [ { sqs: { name: q, queue: q4 } } ]
    worker: { lambda_concurrency: { function: "arn:aws:lambda:us-east-1:123456789012:function:handler" } }
    policy: { min: 0, max: 10, target_per_worker: 5 }
  - name: e
    signals: [ { sqs: { name: q, queue: q5 } } ]
    worker: { ecs: { cluster: prod, service: payments } }
    policy: { min: 0, max: 10, target_per_worker: 5 }
"#;
    assert_eq!(
        errors(yaml),
        vec![
            "targets[1].worker: ecs service prod/orders is already scaled by target \"a\"; one resource, one target",
            "targets[3].worker: lambda function handler is already scaled by target \"c\"; one resource, one target",
        ]
    );
}

#[test]
fn one_service_name_in_two_accounts_is_two_resources_and_bad_access_is_named() {
    let yaml = r#"
targets:
  - name: home
    signals: [ { sqs: { name: q, queue: q1 } } ]
    worker: { ecs: { cluster: prod, service: orders } }
    policy: { min: 0, max: 10, target_per_worker: 5 }
  - name: other
    aws: { role_arn: "arn:aws:iam::222222222222:role/qscale-target", external_id: qscale-7 }
    signals: [ { sqs: { name: q, queue: q2 } } ]
    worker: { ecs: { cluster: prod, service: orders } }
    policy: { min: 0, max: 10, target_per_worker: 5 }
  - name: broken
    aws: { role_arn: "arn:aws:iam::2222:role/x", region: Europe, external_id: "a b" }
    signals: [ { sqs: { name: q, queue: q3 } } ]
    worker: { ecs: { cluster: prod, service: payments } }
    policy: { min: 0, max: 10, target_per_worker: 5 }
  - name: typo
    aws: { role: "arn:aws:iam::222222222222:role/x" }
    signals: [ { sqs: { name: q, queue: q4 } } ]
    worker: { ecs: { cluster: prod, service: billing } }
    policy: { min: 0, max: 10, target_per_worker: 5 }
"#;
    let errors = errors(yaml);
    assert_eq!(errors.len(), 4, "{errors:#?}");
    assert!(
        errors[1].starts_with(
            "targets[2].aws.role_arn: \"arn:aws:iam::2222:role/x\" is not an IAM role ARN"
        ),
        "{errors:#?}"
    );
    assert!(
        errors[2].starts_with("targets[2].aws.external_id: \"a b\""),
        "{errors:#?}"
    );
    assert!(
        errors[3].starts_with("targets[2].aws.region: \"Europe\" is not an AWS region name"),
        "{errors:#?}"
    );
    assert!(
        errors[0].starts_with("targets[3].aws.role: unknown field `role`"),
        "{errors:#?}"
    );
}

#[test]
fn a_cron_that_never_fires_is_refused_and_a_leap_day_is_not() {
    let never = "0 0 30 2 *".parse::<crate::config::CronExpr>().unwrap_err();
    assert_eq!(never, "\"0 0 30 2 *\" never fires (no date matches it)");
    assert!("0 0 29 2 *".parse::<crate::config::CronExpr>().is_ok());
}

#[test]
fn kafka_properties_outside_the_allowlist_are_refused_by_name() {
    let yaml = format!(
        "kafka_clusters:\n  main: {{ bootstrap_servers: b:9092, properties: {{ security.protocol: SASL_SSL, sasl.mechanism: SCRAM-SHA-512, plugin.library.paths: /tmp/evil.so, socket.timeout.ms: \"1\" }} }}\ntargets:{GOOD_TARGET}"
    );
    assert_eq!(
        errors(&yaml),
        vec![
            "kafka_clusters.main.properties.plugin.library.paths: is not a property qscale passes to librdkafka (security, SASL, TLS and client timeouts only; see docs/config.md)",
            "kafka_clusters.main.properties.socket.timeout.ms: is not a property qscale passes to librdkafka (security, SASL, TLS and client timeouts only; see docs/config.md)",
        ]
    );
}

#[test]
fn a_sasl_password_in_the_config_is_refused_unless_allowed_and_a_reference_is_checked() {
    let cluster = |extra: &str| {
        format!(
            "kafka_clusters:\n  main: {{ bootstrap_servers: b:9092, properties: {{ security.protocol: SASL_SSL, sasl.mechanism: SCRAM-SHA-512, sasl.username: u{extra} }}\ntargets:{GOOD_TARGET}"
        )
    };
    assert_eq!(
        errors(&cluster(", sasl.password: hunter2 }")),
        vec!["kafka_clusters.main.properties.sasl.password: a password in the config is refused (the config is stored and shown in clear): use sasl_password_from: { ssm_parameter: NAME } (a SecureString), or set allow_plain_password: true for a local broker"]
    );
    assert!(Config::from_yaml(&cluster(
        ", sasl.password: hunter2 }, allow_plain_password: true"
    ))
    .is_ok());
    let from = Config::from_yaml(&cluster(
        " }, sasl_password_from: { ssm_parameter: /qscale/kafka }",
    ))
    .unwrap();
    assert_eq!(
        from.kafka_clusters["main"].sasl_password_from,
        Some(crate::config::SecretSource::SsmParameter(
            "/qscale/kafka".into()
        ))
    );
    assert_eq!(
        errors(&cluster(", sasl.password: x }, sasl_password_from: { ssm_parameter: /p }")),
        vec!["kafka_clusters.main.sasl_password_from: and properties.sasl.password are both set: keep one"]
    );
    assert_eq!(
        errors(&cluster(" }, sasl_password_from: { ssm_parameter: \"not a name\" }")),
        vec!["kafka_clusters.main.sasl_password_from.ssm_parameter: \"not a name\" is not an SSM parameter name or ARN"]
    );
    // A typo in the source kind is refused, not ignored.
    let e =
        Config::from_yaml(&cluster(" }, sasl_password_from: { ssm_paramter: /p }")).unwrap_err();
    assert!(e.to_string().contains("ssm_paramter"), "{e}");
    // And the password's value never shows in the config's debug form.
    let c = Config::from_yaml(&cluster(
        ", sasl.password: hunter2 }, allow_plain_password: true",
    ))
    .unwrap();
    assert!(!format!("{:?}", c.kafka_clusters["main"]).contains("hunter2"));
}

#[test]
fn msk_iam_needs_a_region_and_refuses_settings_that_contradict_it() {
    let cluster = |inner: &str| {
        format!("kafka_clusters:\n  msk: {{ bootstrap_servers: b:9098, {inner} }}\ntargets:{GOOD_TARGET}")
    };
    let ok = Config::from_yaml(&cluster("msk_iam: { region: eu-west-1 }")).unwrap();
    assert_eq!(
        ok.kafka_clusters["msk"].msk_iam,
        Some(crate::config::MskIamAuth {
            region: "eu-west-1".into()
        })
    );
    // Stating what msk_iam implies is allowed; contradicting it is not.
    assert!(Config::from_yaml(&cluster(
        "msk_iam: { region: eu-west-1 }, properties: { security.protocol: sasl_ssl, sasl.mechanism: OAUTHBEARER }"
    ))
    .is_ok());
    assert_eq!(
        errors(&cluster(
            "msk_iam: { region: EU West }, properties: { security.protocol: SSL, sasl.mechanisms: SCRAM-SHA-512, sasl.username: u }"
        )),
        vec![
            "kafka_clusters.msk.msk_iam.region: \"EU West\" is not an AWS region (like eu-west-1)",
            "kafka_clusters.msk.properties.security.protocol: \"SSL\" contradicts msk_iam, which logs in with SASL_SSL (leave it out)",
            "kafka_clusters.msk.properties.sasl.mechanisms: \"SCRAM-SHA-512\" contradicts msk_iam, which logs in with OAUTHBEARER (leave it out)",
            "kafka_clusters.msk.properties.sasl.username: is not used with msk_iam (the token is signed with the container's AWS credentials): leave it out",
        ]
    );
    assert_eq!(
        errors(&cluster(
            "msk_iam: { region: us-east-1 }, sasl_password_from: { ssm_parameter: /p }"
        )),
        vec!["kafka_clusters.msk.msk_iam: and sasl_password_from are both set: MSK IAM logs in with AWS credentials, keep one"]
    );
    let e = Config::from_yaml(&cluster("msk_iam: { regoin: us-east-1 }")).unwrap_err();
    assert!(e.to_string().contains("regoin"), "{e}");
}

#[test]
fn a_kafka_signal_reads_one_topic_or_several_named_once_each() {
    let with = |kafka: &str| {
        format!(
            "kafka_clusters:\n  main: {{ bootstrap_servers: b:9092 }}\ntargets:\n  - name: a\n    signals: [ {{ kafka: {{ name: k, cluster: main, group: g, {kafka} }} }} ]\n    worker: {{ ecs: {{ cluster: c, service: s }} }}\n    policy: {{ min: 0, max: 10, target_per_worker: 5 }}\n"
        )
    };
    let c = Config::from_yaml(&with("topics: [a, b, c], assignor: round_robin")).unwrap();
    let SignalConfig::Kafka(k) = &c.targets[0].signals[0] else {
        panic!("a kafka signal")
    };
    assert_eq!(k.topic_names(), vec!["a", "b", "c"]);
    assert_eq!(k.assignor, crate::config::PartitionAssignor::RoundRobin);
    let c = Config::from_yaml(&with("topic: t")).unwrap();
    let SignalConfig::Kafka(k) = &c.targets[0].signals[0] else {
        panic!("a kafka signal")
    };
    assert_eq!(k.topic_names(), vec!["t"]);
    assert_eq!(k.assignor, crate::config::PartitionAssignor::Range);
    assert_eq!(
        errors(&with("topic: t, topics: [a]")),
        vec!["targets[0].signals[0].kafka.topics: and topic \"t\" are both set: keep one"]
    );
    assert_eq!(
        errors(&with("on_missing_offset: latest")),
        vec!["targets[0].signals[0].kafka.topic: must not be empty (or name several in topics)"]
    );
    assert_eq!(
        errors(&with("topics: [a, b, a], max_partitions: 8")),
        vec![
            "targets[0].signals[0].kafka.topics[2]: \"a\" is named twice: its lag would count twice",
            "targets[0].signals[0].kafka.max_partitions: is for a signal on one topic: growth with topics is not built (which topic would grow?)",
        ]
    );
    assert!(Config::from_yaml(&with("topics: [a], assignor: sticky"))
        .unwrap_err()
        .to_string()
        .contains("sticky"));
}

#[test]
fn message_groups_are_configured_on_fifo_queues_only() {
    let target = |queue: &str, groups: u32| {
        format!(
            "targets:{}",
            GOOD_TARGET.replace(
                "queue: q1",
                &format!("queue: \"{queue}\", max_active_groups: {groups}"),
            )
        )
    };
    let ok = Config::from_yaml(&target(
        "https://sqs.eu-west-1.amazonaws.com/123456789012/orders.fifo",
        3,
    ))
    .unwrap();
    let SignalConfig::Sqs(q) = &ok.targets[0].signals[0] else {
        panic!("an SQS signal");
    };
    assert_eq!(q.max_active_groups, Some(3));
    assert_eq!(
        errors(&target("orders", 3)),
        ["targets[0].signals[0].sqs.max_active_groups: is set but queue \"orders\" is not a FIFO queue (its name does not end in .fifo)"]
    );
    assert_eq!(
        errors(&target("orders.fifo", 0)),
        ["targets[0].signals[0].sqs.max_active_groups: 0 must be at least 1"]
    );
}
