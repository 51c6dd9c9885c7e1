//! IAM checked by enforcement, not by reading: tick, evaluate and prewarm run
//! against a moto of their own with IAM enforced (`/moto-api/reset-auth`),
//! each as a user whose only policy is that function's statements from
//! template.yaml. Every call they make must be granted (moto refuses the
//! rest), and each granted action, taken away alone, must be refused in
//! some call: nothing granted that the code does not use.
//!
//! moto checks actions, not resources (outside S3): it matches a statement's
//! `Resource` against "*", so the rendered policies keep the template's
//! actions with `Resource: "*"`. Resources are checked by reading the
//! template (tests/iam.rs: no wildcard resource, no `NotAction`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use qscale_aws::{AuditTargets, AwsClients, AwsSettings, ConfigSource, DynamoStateStore};
use qscale_core::config::Config;
use qscale_integration::chaos_proxy::{Chaos, ChaosProxy};
use qscale_integration::template::{statements, strings, template};
use qscale_integration::{unique, Moto};
use qscale_lambda::{evaluate, parse_prewarm, prewarm, tick, EvaluateResponse, Runtime};
use serde_json::json;

/// Granted actions the scenario cannot make moto refuse, each with why.
const NOT_ENFORCEABLE: &[(&str, &str)] = &[
    (
        "kms:Decrypt",
        "moto's SSM decrypts a SecureString itself: no KMS call is made to check",
    ),
    (
        "lambda:",
        "moto 5.2 answers signed Lambda GET calls with SignatureDoesNotMatch once IAM is enforced (boto3 too), so Lambda workers cannot run here; tests/aws.rs runs them unauthenticated",
    ),
    (
        "ecs:ListTasks",
        "only a target with respect_task_protection lists its tasks, and moto serves no GetTaskProtection, so no such target runs here; shared/aws/tests/task_protection.rs tests both calls at the wire, tests/template.rs their grants",
    ),
    (
        "ecs:GetTaskProtection",
        "moto does not implement it (see ecs:ListTasks)",
    ),
    (
        "kafka-cluster:",
        "MSK authorizes these inside its brokers, against the token's identity; neither moto nor the test broker evaluates IAM policies for Kafka requests (tests/template.rs checks which are granted, on which ARNs)",
    ),
];

/// Where moto's action name differs from the one AWS authorizes: AWS checks
/// `SendMessageBatch` against `sqs:SendMessage` ("Amazon SQS API permissions:
/// Actions and resource reference", SQS Developer Guide); moto checks
/// `sqs:SendMessageBatch`. The rendered policies grant moto's name beside.
const MOTO_NAMES: &[(&str, &str)] = &[("sqs:SendMessage", "sqs:SendMessageBatch")];

/// Granted actions only a fallback uses, each with the path.
const FALLBACK_ONLY: &[(&str, &str, &str)] = &[
    (
        "TickFunction",
        "dynamodb:GetItem",
        "a target's own read when the tick's BatchGetItem fails or leaves it unprocessed",
    ),
    (
        "EvaluateFunction",
        "dynamodb:GetItem",
        "a target's own read when the batch's BatchGetItem fails or leaves it unprocessed",
    ),
];

fn iam_endpoint() -> String {
    std::env::var("QSCALE_TEST_AWS_IAM_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:5001".into())
}

/// Turns enforcement on (`0`: from the next request) or off (`inf`).
async fn enforce(on: bool) {
    let addr = iam_endpoint().trim_start_matches("http://").to_string();
    let body = if on { "0" } else { "inf" };
    let request = format!(
        "POST /moto-api/reset-auth HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(&addr)
        .await
        .unwrap_or_else(|e| {
            panic!("no moto for IAM enforcement at {addr} ({e}): scripts/services.sh start runs it")
        });
    tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes())
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut answer)
        .await
        .unwrap();
    assert!(answer.contains("\"status\": \"ok\""), "{answer}");
}

/// The actions of a function's statements, with every `!If` taken.
fn granted(function: &str) -> Vec<String> {
    let policies = &template()["Resources"][function]["Properties"]["Policies"];
    let mut found = Vec::new();
    statements(policies, &mut found);
    found
        .iter()
        .flat_map(|s| strings(s.get("Action")))
        .collect()
}

fn policy(actions: &[String]) -> String {
    let mut actions = actions.to_vec();
    for (aws, moto) in MOTO_NAMES {
        if actions.iter().any(|a| a == aws) {
            actions.push(moto.to_string());
        }
    }
    json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": actions, "Resource": "*" }]
    })
    .to_string()
}

/// What the functions run against.
struct Fixture {
    admin: Moto,
    table: String,
    bus: String,
    control: String,
    cluster: String,
    service: String,
    yaml: String,
    sources: Vec<ConfigSource>,
}

async fn fixture() -> Fixture {
    let admin = Moto::connect_via(&iam_endpoint()).await;
    let table = unique("iam-state");
    admin.state_table(&table).await;
    let (bus, _) = admin.event_bus_to_queue(&unique("iam-bus")).await;
    let control = admin.queue_with(&unique("iam-control"), 0).await;
    let queue = unique("iam-q");
    admin.queue_with(&queue, 100).await;
    let (cluster, service) = (unique("iam"), "svc".to_string());
    admin.ecs_service(&cluster, &service, 1).await;
    // A second team's target, reached through its role (`targets[].aws`):
    // the role grants its queue and service; the functions only assume it.
    let partner_queue = unique("iam-partner-q");
    admin.queue_with(&partner_queue, 40).await;
    admin.ecs_service(&cluster, "partner", 1).await;
    let role = partner_role(&admin).await;
    // The queues by name: the reading resolves them (GetQueueUrl) first.
    let policy = "    policy:\n      min: 0\n      max: 20\n      target_per_worker: 10\n      scale_out: { cooldown: 0s, stabilization: 0s, rate_limits: { policies: [] } }\n      scale_in: { cooldown: 0s, stabilization: 0s, rate_limits: { policies: [] } }\n";
    let yaml = format!(
        "targets:\n  - name: orders\n    signals: [ {{ sqs: {{ name: q, queue: {queue} }} }} ]\n    worker: {{ ecs: {{ cluster: {cluster}, service: {service} }} }}\n{policy}  - name: partner\n    aws: {{ role_arn: \"{role}\" }}\n    signals: [ {{ sqs: {{ name: q, queue: {partner_queue} }} }} ]\n    worker: {{ ecs: {{ cluster: {cluster}, service: partner }} }}\n{policy}"
    );
    // One config in each source kind the template can grant.
    let (parameter, path, bucket) = (
        format!("/{}", unique("iam-config")),
        format!("/{}/", unique("iam-path")),
        unique("iam-bucket"),
    );
    for name in [parameter.clone(), format!("{path}00")] {
        admin
            .clients
            .ssm
            .put_parameter()
            .name(name)
            .value(&yaml)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .send()
            .await
            .unwrap();
    }
    let s3 = &admin.clients.s3;
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    s3.put_object()
        .bucket(&bucket)
        .key("qscale.yaml")
        .body(yaml.clone().into_bytes().into())
        .send()
        .await
        .unwrap();
    Fixture {
        admin,
        table,
        bus,
        control,
        cluster,
        service,
        yaml,
        sources: vec![
            ConfigSource::SsmParameter(parameter),
            ConfigSource::SsmPath(path),
            ConfigSource::S3 {
                bucket,
                key: "qscale.yaml".into(),
            },
        ],
    }
}

/// The partner's role: anyone in the account may assume it (the trust
/// policy is not what is tested), and it grants the target's reads and
/// scaling. Returns its ARN.
async fn partner_role(admin: &Moto) -> String {
    let name = unique("iam-partner");
    let arn = admin
        .iam
        .create_role()
        .role_name(&name)
        .assume_role_policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}).to_string(),
        )
        .send()
        .await
        .unwrap()
        .role()
        .unwrap()
        .arn()
        .to_string();
    let grants = [
        "sqs:GetQueueUrl",
        "sqs:GetQueueAttributes",
        "ecs:DescribeServices",
        "ecs:UpdateService",
    ];
    admin
        .iam
        .put_role_policy()
        .role_name(&name)
        .policy_name("target")
        .policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": grants, "Resource": "*"}]}).to_string(),
        )
        .send()
        .await
        .unwrap();
    arn
}

/// A user per function, with an access key; returns (user, key id, secret).
async fn user(admin: &Moto, function: &str) -> (String, String, String) {
    let name = unique(function);
    admin
        .iam
        .create_user()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    let key = admin
        .iam
        .create_access_key()
        .user_name(&name)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    (
        name,
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
    )
}

/// Everything `function` does in production, once, at `now`.
async fn run(function: &str, f: &Fixture, clients: &AwsClients, now: Timestamp) -> Vec<String> {
    let mut errors = Vec::new();
    // A new config version is read at the start of every invocation.
    for source in &f.sources {
        if let Err(e) = source.fetch(clients, None).await {
            errors.push(e.to_string());
        }
    }
    let settings = AwsSettings {
        endpoint_url: None,
        state_table: f.table.clone(),
        audit: AuditTargets {
            event_bus: Some(f.bus.clone()),
            queue_url: None,
        },
        concurrency: 16,
        target_budget: Duration::from_secs(20),
    };
    let rt = |fanout_above| Runtime {
        control_queue: Some(f.control.clone()),
        fanout_above,
        tick_budget: Duration::from_secs(30),
        metrics: qscale_live::run::MetricsMode::Off,
        ..Runtime::new(
            Config::from_yaml(&f.yaml).unwrap(),
            settings.clone(),
            clients.clone(),
        )
    };
    match function {
        "TickFunction" => {
            // Reconciling itself, then fanning out (above QSCALE_FANOUT_ABOVE).
            match tick(&rt(100), now).await {
                Ok(s) if s.failed > 0 => errors.push(format!("{s:?}")),
                Ok(_) => {}
                Err(e) => errors.push(e.to_string()),
            }
            if let Err(e) = tick(&rt(0), now + SignedDuration::from_secs(1)).await {
                errors.push(e.to_string());
            }
        }
        "EvaluateFunction" => {
            let record = |id: &str, target: &str| {
                json!({
                    "messageId": id, "receiptHandle": "rh", "body": json!({"target": target}).to_string(),
                    "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": now.as_millisecond().to_string(),
                                   "SenderId": "x", "ApproximateFirstReceiveTimestamp": now.as_millisecond().to_string()},
                    "messageAttributes": {}, "md5OfBody": "0", "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:qscale-control", "awsRegion": "us-east-1"
                })
            };
            let batch = json!({"Records": [record("m1", "orders"), record("m2", "partner")]});
            match evaluate(&rt(100), batch, now).await {
                // The message failed (to be retried): its reconcile did.
                Ok(EvaluateResponse::Batch(b)) if !b.batch_item_failures.is_empty() => {
                    errors.push(format!("{b:?}"))
                }
                Ok(_) => {}
                Err(e) => errors.push(e.to_string()),
            }
        }
        "PrewarmFunction" => {
            let payload = parse_prewarm(json!({
                "target": "orders", "name": unique("launch"), "min": 3,
                "start": (now + SignedDuration::from_hours(1)).to_string(),
                "end": (now + SignedDuration::from_hours(2)).to_string(),
            }))
            .unwrap();
            let store =
                DynamoStateStore::new(clients.dynamodb.clone(), &f.table, Default::default());
            if let Err(e) =
                prewarm(&Config::from_yaml(&f.yaml).unwrap(), &store, payload, now).await
            {
                errors.push(e.to_string());
            }
        }
        other => panic!("{other}"),
    }
    errors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_function_is_granted_every_call_it_makes_and_uses_every_grant() {
    enforce(false).await;
    let f = fixture().await;
    // The admin keeps its rights once enforcement is on: it rewrites the
    // functions' policies and resets the fleet between runs.
    let (admin_user, admin_key, admin_secret) = user(&f.admin, "admin").await;
    f.admin
        .iam
        .put_user_policy()
        .user_name(&admin_user)
        .policy_name("all")
        .policy_document(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}).to_string())
        .send()
        .await
        .unwrap();
    let functions = ["TickFunction", "EvaluateFunction", "PrewarmFunction"];
    let mut users = BTreeMap::new();
    for function in functions {
        users.insert(function, user(&f.admin, function).await);
    }
    enforce(true).await;
    let admin = Moto::connect_as(&iam_endpoint(), &admin_key, &admin_secret).await;
    let upstream = iam_endpoint().trim_start_matches("http://").to_string();
    let proxy = ChaosProxy::start(upstream, Chaos::none(), 20_000).await;

    let mut now = Timestamp::now();
    let mut problems = Vec::new();
    for function in functions {
        let (name, key, secret) = &users[function];
        let all = granted(function);
        let mut attempt = |actions: Vec<String>| {
            now += SignedDuration::from_mins(1);
            let (admin, f, proxy) = (&admin, &f, &proxy);
            async move {
                // Fresh clients each attempt: an assumed role's credentials
                // are cached per AwsClients, and would outlive a taken grant.
                let clients = &Moto::connect_as(&proxy.endpoint, key, secret).await.clients;
                admin
                    .iam
                    .put_user_policy()
                    .user_name(name)
                    .policy_name("function")
                    .policy_document(policy(&actions))
                    .send()
                    .await
                    .unwrap();
                admin.set_desired(&f.cluster, &f.service, 1).await;
                proxy.denied.lock().unwrap().clear();
                proxy.operations.lock().unwrap().clear();
                let errors = run(function, f, clients, now).await;
                let denied: BTreeSet<String> = proxy.denied.lock().unwrap().drain(..).collect();
                let calls: BTreeSet<String> = proxy.operations.lock().unwrap().drain(..).collect();
                (errors, denied, calls)
            }
        };
        // With every grant: nothing refused, nothing failed.
        let (errors, denied, calls) = attempt(all.clone()).await;
        println!(
            "{function}: {} actions granted; calls made: {calls:?}",
            all.len()
        );
        if !denied.is_empty() || !errors.is_empty() {
            problems.push(format!(
                "{function} with its own policy: refused {denied:?}, errors {errors:#?}"
            ));
        }
        // Each granted action taken away alone must be refused somewhere.
        for action in &all {
            let exempt = NOT_ENFORCEABLE.iter().any(|(a, _)| action.starts_with(a))
                || FALLBACK_ONLY
                    .iter()
                    .any(|(f, a, _)| *f == function && a == action);
            let rest: Vec<String> = all.iter().filter(|a| *a != action).cloned().collect();
            let (errors, denied, _) = attempt(rest).await;
            // S3 refuses a HEAD with a bare 403: the error still says what it is.
            if action == "s3:GetObject"
                && !errors
                    .iter()
                    .any(|e| e.starts_with("s3://") && e.contains("HTTP 403, access denied"))
            {
                problems.push(format!(
                    "{function}: the S3 refusal is not named: {errors:#?}"
                ));
            }
            let refused = denied.contains(action.as_str())
                || MOTO_NAMES
                    .iter()
                    .any(|(aws, moto)| aws == action && denied.contains(*moto));
            println!(
                "  without {action:<40} refused: {refused}{}",
                if exempt { " (exempt)" } else { "" }
            );
            match (exempt, refused) {
                (false, false) => problems.push(format!(
                    "{function} is granted {action} but never refused it without: unused (or untested) grant"
                )),
                (true, true) => problems.push(format!(
                    "{function} needs {action} in this scenario: take it off the exempt list"
                )),
                _ => {}
            }
        }
    }
    enforce(false).await;
    assert!(problems.is_empty(), "{problems:#?}");
}
