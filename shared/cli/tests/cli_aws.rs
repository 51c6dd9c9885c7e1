//! The `qscale` binary's AWS commands against the moto server:
//! `events add`, `state show`, `run --once --dry-run`, `pause`, `resume`,
//! `status` and `config push`.
//! Only with the `cloud` feature (the binary has no AWS commands without it).
#![cfg(feature = "cloud")]

use std::process::{Command, Output};

use qscale_integration::{endpoint, unique, Moto};

fn qscale(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qscale"))
        .args(args)
        // Whatever the developer's shell has, talk to the emulator with dummy credentials.
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run qscale")
}

/// `--endpoint-url EP --state-table TABLE`, which every state command takes.
fn aws_flags<'a>(endpoint: &'a str, table: &'a str) -> [&'a str; 4] {
    ["--endpoint-url", endpoint, "--state-table", table]
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A target `web`: 30 messages on a fresh queue, an ECS service at 1, a
/// fresh state table, and a config file naming them.
struct Web {
    moto: Moto,
    table: String,
    cluster: String,
    service: String,
    config: String,
}

async fn web() -> Web {
    let moto = Moto::connect().await;
    let (table, cluster, service) = (unique("state"), unique("c"), unique("s"));
    moto.state_table(&table).await;
    let url = moto.queue_with(&unique("q"), 30).await;
    moto.ecs_service(&cluster, &service, 1).await;
    let dir = std::env::temp_dir().join(unique("cli-aws"));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("qscale.yaml");
    std::fs::write(
        &config,
        format!(
            "targets:\n  - name: web\n    signals: [ {{ sqs: {{ name: jobs, queue: \"{url}\" }} }} ]\n    worker: {{ ecs: {{ cluster: {cluster}, service: {service} }} }}\n    policy: {{ min: 0, max: 10, target_per_worker: 10 }}\n"
        ),
    )
    .unwrap();
    Web {
        moto,
        table,
        cluster,
        service,
        config: config.to_str().unwrap().to_string(),
    }
}

#[tokio::test]
async fn events_add_state_show_and_a_dry_run() {
    let Web {
        moto,
        table,
        cluster,
        service,
        config,
    } = web().await;
    let config = config.as_str();
    let ep = endpoint();
    let aws = aws_flags(&ep, &table);
    let start = jiff::Timestamp::now().to_string();
    let end = (jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3600)).to_string();

    // A floor above max is refused before anything is written.
    let o = qscale(
        &[
            &[
                "events", "add", "--target", "web", "--start", &start, "--end", &end, "--min",
                "11", "--config", config,
            ][..],
            &aws,
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("min 11 is above policy.max 10 of web"),
        "{}",
        text(&o)
    );

    let o = qscale(
        &[
            &[
                "events", "add", "--target", "web", "--start", &start, "--end", &end, "--min", "6",
                "--name", "sale", "--config", config,
            ][..],
            &aws,
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("registered \"sale\" on web: min 6"),
        "{}",
        text(&o)
    );

    let o = qscale(&[&["state", "show", "web"][..], &aws].concat());
    assert!(o.status.success(), "{}", text(&o));
    let shown: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(shown["version"], 1);
    assert_eq!(shown["state"]["events"][0]["name"], "sale");

    // 30 messages want 3; the event's floor makes it 6. Dry run: decided, not applied.
    let o = qscale(
        &[
            &["run", "--once", "--dry-run", "--config", config][..],
            &aws,
        ]
        .concat(),
    );
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("dryrun") && out.contains("1 -> 6") && out.contains("floor"),
        "{out}"
    );
    assert!(out.contains("1 target(s), 0 failed"), "{out}");
    assert_eq!(moto.desired(&cluster, &service).await, 1);

    // The same run for scripts: one JSON object per target and line.
    let o = qscale(
        &[
            &[
                "run",
                "--once",
                "--dry-run",
                "--output",
                "json",
                "--config",
                config,
            ][..],
            &aws,
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["target"], "web");
    assert_eq!(lines[0]["outcome"], "dry_run");
    assert_eq!(lines[0]["decision"]["desired"], 6);
    assert_eq!(moto.desired(&cluster, &service).await, 1);

    // `run` without --once is refused: qscale is driven by a schedule.
    let o = qscale(&["run", "--config", config]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[tokio::test]
async fn pause_holds_a_run_and_resume_ends_it() {
    let Web {
        moto,
        table,
        cluster,
        service,
        config,
    } = web().await;
    let ep = endpoint();
    let aws = aws_flags(&ep, &table);
    let until = (jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3600)).to_string();
    // An expiry is mandatory and must lie ahead.
    let o = qscale(
        &[
            &["pause", "web", "--until", "2020-01-01T00:00:00Z"][..],
            &aws,
        ]
        .concat(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("until 2020-01-01T00:00:00Z must be after now"),
        "{}",
        text(&o)
    );
    let o = qscale(
        &[
            &[
                "pause",
                "web",
                "--until",
                &until,
                "--out",
                "--reason",
                "load test",
            ][..],
            &aws,
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("paused out on web until"), "{}", text(&o));
    // 30 messages want 3 from 1: the scale-out is paused.
    let o = qscale(&[&["run", "--once", "--config", config.as_str()][..], &aws].concat());
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("paused"), "{}", text(&o));
    assert_eq!(moto.desired(&cluster, &service).await, 1);
    let o = qscale(&[&["resume", "web"][..], &aws].concat());
    assert!(text(&o).contains("resumed web"), "{}", text(&o));
    let o = qscale(&[&["run", "--once", "--config", config.as_str()][..], &aws].concat());
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(moto.desired(&cluster, &service).await, 3);
}

/// The walkthrough: a target paused for scale-in and a target whose
/// count an operator set by hand, both in one `status` table.
#[tokio::test]
async fn status_shows_a_paused_target_and_a_manual_hold() {
    let moto = Moto::connect().await;
    let table = unique("state");
    moto.state_table(&table).await;
    let (idle, busy) = (
        moto.queue_with(&unique("q"), 0).await,
        moto.queue_with(&unique("q"), 80).await,
    );
    let cluster = unique("c");
    let (quiet, orders) = (unique("s"), unique("s"));
    moto.ecs_service(&cluster, &quiet, 5).await;
    moto.ecs_service(&cluster, &orders, 1).await;
    let dir = std::env::temp_dir().join(unique("cli-status"));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("qscale.yaml");
    let target = |name: &str, url: &str, service: &str| {
        format!(
            "  - name: {name}\n    signals: [ {{ sqs: {{ name: jobs, queue: \"{url}\" }} }} ]\n    worker: {{ ecs: {{ cluster: {cluster}, service: {service} }} }}\n    policy: {{ min: 0, max: 50, target_per_worker: 10 }}\n"
        )
    };
    std::fs::write(
        &config,
        format!(
            "targets:\n{}{}",
            target("quiet", &idle, &quiet),
            target("orders", &busy, &orders)
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let ep = endpoint();
    let aws = aws_flags(&ep, &table);
    let status =
        |extra: &[&str]| qscale(&[&["status", "--config", config][..], &aws, extra].concat());

    // Before any tick: both listed, never reconciled.
    let o = status(&[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(text(&o).matches("never").count(), 2, "{}", text(&o));

    // To the second: the table shows times to the second.
    let until = jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() + 3600)
        .unwrap()
        .to_string();
    let o = qscale(
        &[
            &[
                "pause",
                "quiet",
                "--until",
                &until,
                "--in",
                "--reason",
                "producers down",
            ][..],
            &aws,
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = qscale(&[&["run", "--once", "--config", config][..], &aws].concat());
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(moto.desired(&cluster, &orders).await, 8);
    // During an incident someone sets 20 by hand; the next tick holds it.
    moto.set_desired(&cluster, &orders, 20).await;
    let o = qscale(&[&["run", "--once", "--config", config][..], &aws].concat());
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(moto.desired(&cluster, &orders).await, 20);

    let o = status(&[]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    let line = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {out}"))
            .to_string()
    };
    let quiet_line = line("quiet");
    assert!(quiet_line.contains("5 -> 5"), "{quiet_line}");
    assert!(quiet_line.contains("paused"), "{quiet_line}");
    assert!(
        quiet_line.contains(&format!("paused in until {until} (producers down)")),
        "{quiet_line}"
    );
    let orders_line = line("orders");
    assert!(orders_line.contains("20 -> 20"), "{orders_line}");
    assert!(orders_line.contains("manual_override"), "{orders_line}");
    assert!(orders_line.contains("manual 20 until"), "{orders_line}");

    let o = status(&["--output", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["target"], "quiet");
    assert_eq!(rows[0]["paused"]["scope"]["in"], true);
    assert_eq!(rows[1]["manual_hold"]["to"], 20);
    assert_eq!(rows[1]["manual_hold"]["from"], 8);
    assert_eq!(rows[1]["last"]["outcome"], "unchanged");
}

#[tokio::test]
async fn a_corrupted_state_acts_on_nothing_is_audited_and_state_reset_recovers() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let Web {
        moto,
        table,
        cluster,
        service,
        config,
    } = web().await;
    let config = config.as_str();
    let audit = moto.queue_with(&unique("audit"), 0).await;
    // A hand-edited item whose state no longer parses.
    moto.clients
        .dynamodb
        .put_item()
        .table_name(&table)
        .item("target", AttributeValue::S("web".into()))
        .item("version", AttributeValue::N("3".into()))
        .item(
            "state",
            AttributeValue::S("{\"recommendations\": [tru".into()),
        )
        .send()
        .await
        .unwrap();
    let ep = endpoint();
    let aws = aws_flags(&ep, &table);
    let run = || {
        qscale(
            &[
                &["run", "--once", "--output", "json", "--config", config][..],
                &["--audit-queue", audit.as_str()][..],
                &aws,
            ]
            .concat(),
        )
    };

    // 30 messages would want 3 workers, but the state cannot be trusted.
    let o = run();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["outcome"], "failed");
    let error = report["error"].as_str().unwrap();
    assert!(
        error.contains("web") && error.contains("state is not valid"),
        "{error}"
    );
    assert!(error.contains("qscale state reset web --yes"), "{error}");
    assert_eq!(moto.desired(&cluster, &service).await, 1, "no action");
    let events = moto.audit_events(&audit).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].target, "web");
    assert!(events[0]
        .error
        .as_deref()
        .unwrap()
        .contains("state is not valid"));

    // Reset needs confirming, then recovers: the next run decides afresh.
    let o = qscale(&[&["state", "reset", "web"][..], &aws].concat());
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("add --yes to confirm"), "{}", text(&o));
    let o = qscale(&[&["state", "reset", "web", "--yes"][..], &aws].concat());
    assert!(text(&o).contains("state of web deleted"), "{}", text(&o));
    let o = run();
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(moto.desired(&cluster, &service).await, 3);
}

/// `qscale config push FILE --to TO [extra..]` against moto.
fn config_push(file: &str, to: &str, extra: &[&str]) -> Output {
    let endpoint = endpoint();
    let mut args = vec!["config", "push", file, "--to", to];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--endpoint-url", &endpoint]);
    qscale(&args)
}

#[tokio::test]
async fn config_push_writes_a_valid_config_and_refuses_an_invalid_one() {
    let w = web().await;
    let name = format!("/{}/config", unique("qscale"));
    let to = format!("ssm:{name}");
    let pushed = config_push(&w.config, &to, &[]);
    assert!(pushed.status.success(), "{}", text(&pushed));
    assert!(text(&pushed).contains("(version 1)"), "{}", text(&pushed));

    let broken = std::path::Path::new(&w.config).with_file_name("broken.yaml");
    std::fs::write(
        &broken,
        "targets:\n  - name: web\n    policy: { max: lots }\n",
    )
    .unwrap();
    let refused = config_push(broken.to_str().unwrap(), &to, &[]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).contains("not written"), "{}", text(&refused));
    // Still version 1, still the valid text.
    let p = w
        .moto
        .clients
        .ssm
        .get_parameter()
        .name(&name)
        .send()
        .await
        .unwrap();
    let p = p.parameter().unwrap();
    assert_eq!(p.version(), 1);
    assert_eq!(
        p.value().unwrap(),
        std::fs::read_to_string(&w.config).unwrap()
    );
}

/// Issue 28: `config push --secure` writes a SecureString (a config may
/// hold Kafka passwords), which the functions read back decrypted.
#[tokio::test]
async fn config_push_secure_writes_a_secure_string_the_functions_read() {
    let w = web().await;
    let name = format!("/{}/config", unique("qscale"));
    let to = format!("ssm:{name}");
    let pushed = config_push(&w.config, &to, &["--secure"]);
    assert!(pushed.status.success(), "{}", text(&pushed));
    let raw = w
        .moto
        .clients
        .ssm
        .get_parameter()
        .name(&name)
        .send()
        .await
        .unwrap();
    let raw = raw.parameter().unwrap();
    assert_eq!(
        raw.r#type(),
        Some(&aws_sdk_ssm::types::ParameterType::SecureString)
    );
    let source: qscale_aws::ConfigSource = to.parse().unwrap();
    let (_, text_read) = source.fetch(&w.moto.clients, None).await.unwrap();
    assert_eq!(
        text_read.unwrap(),
        std::fs::read_to_string(&w.config).unwrap()
    );
    // A key id without --secure is refused by the command line.
    let refused = qscale(&[
        "config",
        "push",
        &w.config,
        "--to",
        &to,
        "--kms-key-id",
        "k",
    ]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
}

#[tokio::test]
async fn trace_from_cloudwatch_turns_messages_sent_per_minute_into_rates() {
    let moto = Moto::connect().await;
    let queue = unique("sent");
    // Whole minutes, well inside CloudWatch's two weeks of accepted timestamps.
    let now = jiff::Timestamp::now().as_second() / 60 * 60;
    let t0 = jiff::Timestamp::from_second(now - 3600).unwrap();
    let minute = |m: i64| t0 + jiff::SignedDuration::from_mins(m);
    // 600 messages in minute 0, none in minute 1 (no datapoint, as SQS), 120 in minute 2.
    for (m, sent) in [(0, 600.0), (2, 120.0)] {
        let datum = aws_sdk_cloudwatch::types::MetricDatum::builder()
            .metric_name("NumberOfMessagesSent")
            .dimensions(
                aws_sdk_cloudwatch::types::Dimension::builder()
                    .name("QueueName")
                    .value(&queue)
                    .build(),
            )
            .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
                minute(m).as_second(),
            ))
            .value(sent)
            .build();
        moto.clients
            .cloudwatch
            .put_metric_data()
            .namespace("AWS/SQS")
            .metric_data(datum)
            .send()
            .await
            .unwrap();
    }
    let csv = std::env::temp_dir().join(format!("{queue}.csv"));
    let o = qscale(&[
        "trace",
        "from-cloudwatch",
        "--queue",
        &queue,
        "--start",
        &minute(-5).to_string(),
        "--end",
        &minute(10).to_string(),
        "--out",
        csv.to_str().unwrap(),
        "--endpoint-url",
        &endpoint(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let got = std::fs::read_to_string(&csv).unwrap();
    assert!(
        got.starts_with(&format!("# start {t0}\nt_seconds,rate\n0,10\n")),
        "{got}"
    );
    assert!(got.contains("\n60,0\n"), "{got}");
    assert!(got.contains("\n120,2\n"), "{got}");
    assert!(got.ends_with("\n180,2\n"), "{got}");

    // A queue with no datapoints says so, exit 1.
    let o = qscale(&[
        "trace",
        "from-cloudwatch",
        "--queue",
        "no-such-queue",
        "--start",
        &minute(-5).to_string(),
        "--end",
        &minute(10).to_string(),
        "--endpoint-url",
        &endpoint(),
    ]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("no-such-queue: no datapoints"),
        "{}",
        text(&o)
    );
}

/// `validate --check-aws` against moto: each planted conflict found, named
/// by its field, and nothing on a clean account.
#[tokio::test]
async fn check_aws_finds_each_planted_conflict_and_nothing_on_a_clean_account() {
    use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
    let moto = Moto::connect().await;
    let ep = endpoint();
    let dir = std::env::temp_dir().join(unique("cli-check"));
    std::fs::create_dir_all(&dir).unwrap();
    let cluster = unique("c");
    let (present, fought) = (unique("s"), unique("s"));
    moto.ecs_service(&cluster, &present, 1).await;
    moto.ecs_service(&cluster, &fought, 1).await;
    let queue = moto.queue_with(&unique("q"), 0).await;
    let queue_arn = moto.queue_arn(&queue).await;
    // Another scaler on `fought`: an Application Auto Scaling target.
    moto.clients
        .applicationautoscaling
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(format!("service/{cluster}/{fought}"))
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .min_capacity(1)
        .max_capacity(10)
        .send()
        .await
        .unwrap();
    // A function an SQS mapping triggers, scaled by reserved concurrency;
    // and a mapping whose function keeps a reservation below policy.max.
    let (triggered, reserved) = (unique("fn"), unique("fn"));
    moto.lambda_function(&triggered, 5).await;
    moto.event_source_mapping(&triggered, &queue, 5).await;
    moto.lambda_function(&reserved, 2).await;
    let mapping = moto
        .event_source_mapping(&reserved, &moto.queue_with(&unique("q"), 0).await, 5)
        .await;
    let sqs = |q: &str| format!("signals: [ {{ sqs: {{ name: jobs, queue: \"{q}\" }} }} ]");
    let target = |name: &str, signals: &str, worker: &str| {
        format!("  - name: {name}\n    {signals}\n    worker: {worker}\n    policy: {{ min: 0, max: 10, target_per_worker: 10 }}\n")
    };
    let planted = dir.join("planted.yaml");
    std::fs::write(
        &planted,
        format!(
            "targets:\n{}{}{}{}",
            target(
                "missing",
                &sqs(&unique("no-such-queue")),
                &format!("{{ ecs: {{ cluster: {cluster}, service: no-such-service }} }}")
            ),
            target(
                "fought",
                &sqs(&queue),
                &format!("{{ ecs: {{ cluster: {cluster}, service: {fought} }} }}")
            ),
            target(
                "triggered",
                &sqs(&queue),
                &format!("{{ lambda_concurrency: {{ function: {triggered} }} }}")
            ),
            target(
                "reserved",
                &sqs(&queue),
                &format!("{{ lambda_event_source_mapping: {{ uuid: {mapping} }} }}")
            ),
        ),
    )
    .unwrap();
    let o = qscale(&[
        "validate",
        planted.to_str().unwrap(),
        "--check-aws",
        "--endpoint-url",
        &ep,
    ]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    for (field, says) in [
        ("targets[0].signals[0].sqs.queue", "does not exist"),
        ("targets[0].worker.ecs.service", "does not exist"),
        (
            "targets[1].worker.ecs",
            "is also a scalable target of Application Auto Scaling (ecs:service:DesiredCount, min 1, max 10)",
        ),
        (
            "targets[2].worker.lambda_concurrency",
            "is triggered by SQS mapping",
        ),
        (
            "targets[3].worker.lambda_event_source_mapping",
            "has reserved concurrency 2, below policy.max 10",
        ),
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(&format!("{field}: ")) && l.contains(says)),
            "{field}: {says} in\n{out}"
        );
    }
    assert!(out.contains("5 finding(s) in the account"), "{out}");

    // Clean: the one healthy target, with the stack granting its resources.
    let clean = dir.join("clean.yaml");
    std::fs::write(
        &clean,
        format!(
            "targets:\n{}",
            target(
                "present",
                &sqs(&queue),
                &format!("{{ ecs: {{ cluster: {cluster}, service: {present} }} }}")
            )
        ),
    )
    .unwrap();
    let service_arn = moto
        .clients
        .ecs
        .describe_services()
        .cluster(&cluster)
        .services(&present)
        .send()
        .await
        .unwrap()
        .services()[0]
        .service_arn()
        .unwrap()
        .to_string();
    let params = |queues: &str| {
        let file = dir.join(unique("params"));
        std::fs::write(
            &file,
            serde_json::json!([
                { "ParameterKey": "QueueArns", "ParameterValue": queues },
                { "ParameterKey": "EcsServiceArns", "ParameterValue": service_arn },
            ])
            .to_string(),
        )
        .unwrap();
        file
    };
    let check_against = |stack: &std::path::Path| {
        qscale(&[
            "validate",
            clean.to_str().unwrap(),
            "--check-aws",
            "--endpoint-url",
            &ep,
            "--stack-parameters",
            stack.to_str().unwrap(),
        ])
    };
    let o = check_against(&params(&queue_arn));
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("the account agrees (1 target(s), every resource granted by the stack)"),
        "{}",
        text(&o)
    );
    // The same account, a stack that does not list the queue.
    let o = check_against(&params(""));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "targets[0].signals[0].sqs.queue: {queue_arn} is not in the stack's QueueArns"
        )),
        "{}",
        text(&o)
    );
}
