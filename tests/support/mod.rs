//! Helpers for integration tests against the moto server: no in-process
//! mocks, only real HTTP to the emulator, with unique resource names so tests
//! can run in parallel on one server.

pub mod audit_tally;
pub mod blackhole;
pub mod chaos_proxy;
pub mod fault_proxy;
pub mod kafka;
pub mod kafka_front;
pub mod kafka_wire;
pub mod msk_token;
pub mod scram;
pub mod template;

use std::sync::atomic::{AtomicU64, Ordering};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_sqs::config::Credentials;
use qscale_aws::{AuditTargets, AwsClients, AwsSettings};
use qscale_core::reconcile::AuditEvent;

/// The moto server under test and clients pointed at it.
pub struct Moto {
    /// Endpoint URL.
    pub endpoint: String,
    /// Clients (the same ones qscale's adapters use).
    pub clients: AwsClients,
    /// IAM, for test fixtures only.
    pub iam: aws_sdk_iam::Client,
}

/// host:port of the test AWS emulator.
pub fn moto_addr() -> String {
    endpoint().trim_start_matches("http://").to_string()
}

/// Endpoint of the test AWS emulator.
pub fn endpoint() -> String {
    std::env::var("QSCALE_TEST_AWS_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:5000".into())
}

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl Moto {
    /// Connects to the emulator, or fails saying how to start it.
    pub async fn connect() -> Moto {
        Moto::connect_via(&endpoint()).await
    }

    /// The emulator whose new ECS services keep only 2 tasks running, the
    /// rest pending (`MOTO_ECS_SERVICE_RUNNING=2`; `scripts/services.sh`).
    pub async fn connect_pending() -> Moto {
        let pending = std::env::var("QSCALE_TEST_AWS_PENDING_ENDPOINT")
            .unwrap_or_else(|_| "http://127.0.0.1:5002".into());
        let addr = pending.trim_start_matches("http://").to_string();
        if std::net::TcpStream::connect(&addr).is_err() {
            panic!("the pending-tasks moto is not running at {pending}: start it with `scripts/services.sh start` (scripts/test.sh does)");
        }
        Moto::connect_as(&pending, "testing", "testing").await
    }

    /// Clients for `via` (the emulator itself, or a fault proxy in front of it).
    pub async fn connect_via(via: &str) -> Moto {
        let moto = endpoint();
        let addr = moto.trim_start_matches("http://").to_string();
        if std::net::TcpStream::connect(&addr).is_err() {
            panic!("moto is not running at {moto}: start it with `scripts/services.sh start` (scripts/test.sh does)");
        }
        Moto::connect_as(via, "testing", "testing").await
    }

    /// Clients for `via` signing with this access key (for a moto that
    /// enforces IAM, where the key names a user and its policies).
    pub async fn connect_as(via: &str, key: &str, secret: &str) -> Moto {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(via)
            // The same retry policy as production: 3 attempts with backoff.
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3))
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(key, secret, None, None, "tests"))
            .load()
            .await;
        Moto {
            endpoint: via.to_string(),
            clients: AwsClients::from_sdk_config(&config),
            iam: aws_sdk_iam::Client::new(&config),
        }
    }

    /// Clients in the account of `role_arn` (moto keeps one set of
    /// resources per account and files an assumed role's calls under its
    /// account): credentials from a plain STS `AssumeRole`, not from
    /// qscale's own `for_access`, so a fixture never depends on the code
    /// under test.
    pub async fn in_account(&self, role_arn: &str) -> Moto {
        let sts = aws_sdk_sts::Client::new(&self.clients.sdk_config);
        let out = sts
            .assume_role()
            .role_arn(role_arn)
            .role_session_name("qscale-tests")
            .send()
            .await
            .unwrap_or_else(|e| panic!("assuming {role_arn}: {e:?}"));
        let c = out.credentials().expect("credentials");
        let config = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_string()),
                None,
                "tests-assumed",
            ))
            .load()
            .await;
        Moto {
            endpoint: self.endpoint.clone(),
            clients: AwsClients::from_sdk_config(&config),
            iam: aws_sdk_iam::Client::new(&config),
        }
    }

    /// Settings for qscale against this emulator.
    pub fn settings(&self, state_table: &str, audit_queue: &str) -> AwsSettings {
        AwsSettings {
            endpoint_url: Some(self.endpoint.clone()),
            state_table: state_table.to_string(),
            audit: AuditTargets {
                event_bus: None,
                queue_url: Some(audit_queue.to_string()),
            },
            concurrency: 8,
            target_budget: std::time::Duration::from_secs(40),
        }
    }

    /// A queue holding `messages` visible messages; returns its URL.
    pub async fn queue_with(&self, name: &str, messages: usize) -> String {
        let url = self.queue_with_attributes(name, &[]).await;
        self.send(&url, messages).await;
        url
    }

    /// An empty queue with these attributes (FIFO, redrive policy, ...); returns its URL.
    pub async fn queue_with_attributes(
        &self,
        name: &str,
        attributes: &[(aws_sdk_sqs::types::QueueAttributeName, String)],
    ) -> String {
        let mut create = self.clients.sqs.create_queue().queue_name(name);
        for (attribute, value) in attributes {
            create = create.attributes(attribute.clone(), value);
        }
        create
            .send()
            .await
            .unwrap()
            .queue_url()
            .unwrap()
            .to_string()
    }

    /// A function's reserved concurrency (`None` when it has none).
    pub async fn reserved_concurrency(&self, function: &str) -> Option<i32> {
        self.clients
            .lambda
            .get_function_concurrency()
            .function_name(function)
            .send()
            .await
            .unwrap()
            .reserved_concurrent_executions()
    }

    /// A queue's ARN.
    pub async fn queue_arn(&self, url: &str) -> String {
        let attr = aws_sdk_sqs::types::QueueAttributeName::QueueArn;
        self.clients
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(attr.clone())
            .send()
            .await
            .unwrap()
            .attributes()
            .unwrap()[&attr]
            .clone()
    }

    /// Sends `n` messages, ten per batch.
    pub async fn send(&self, url: &str, n: usize) {
        use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
        let mut sent = 0;
        while sent < n {
            let batch: Vec<_> = (sent..(sent + 10).min(n))
                .map(|i| {
                    SendMessageBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .message_body(format!("job {i}"))
                        .build()
                        .unwrap()
                })
                .collect();
            sent += batch.len();
            self.clients
                .sqs
                .send_message_batch()
                .queue_url(url)
                .set_entries(Some(batch))
                .send()
                .await
                .unwrap();
        }
    }

    /// Empties a queue.
    pub async fn purge(&self, url: &str) {
        self.clients
            .sqs
            .purge_queue()
            .queue_url(url)
            .send()
            .await
            .unwrap();
    }

    /// An ECS cluster with one EC2-launch-type service at `desired`.
    pub async fn ecs_service(&self, cluster: &str, service: &str, desired: i32) {
        let ecs = &self.clients.ecs;
        ecs.create_cluster()
            .cluster_name(cluster)
            .send()
            .await
            .unwrap();
        let family = format!("{service}-td");
        ecs.register_task_definition()
            .family(&family)
            .container_definitions(
                aws_sdk_ecs::types::ContainerDefinition::builder()
                    .name("worker")
                    .image("worker:latest")
                    .memory(128)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        ecs.create_service()
            .cluster(cluster)
            .service_name(service)
            .task_definition(&family)
            .desired_count(desired)
            .launch_type(aws_sdk_ecs::types::LaunchType::Ec2)
            .send()
            .await
            .unwrap();
    }

    /// Sets a service's desired count (as an operator would).
    pub async fn set_desired(&self, cluster: &str, service: &str, desired: i32) {
        self.clients
            .ecs
            .update_service()
            .cluster(cluster)
            .service(service)
            .desired_count(desired)
            .send()
            .await
            .unwrap();
    }

    /// A service's desired count.
    pub async fn desired(&self, cluster: &str, service: &str) -> i32 {
        let out = self
            .clients
            .ecs
            .describe_services()
            .cluster(cluster)
            .services(service)
            .send()
            .await
            .unwrap();
        out.services()[0].desired_count()
    }

    /// The state table (partition key `target`).
    pub async fn state_table(&self, name: &str) {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        };
        self.clients
            .dynamodb
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("target")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("target")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }

    /// An EventBridge bus whose qscale events a rule forwards to a new queue;
    /// returns (bus name, queue URL).
    pub async fn event_bus_to_queue(&self, bus: &str) -> (String, String) {
        let queue = self.queue_with(&format!("{bus}-sink"), 0).await;
        let arn = self.queue_arn(&queue).await;
        let eb = &self.clients.eventbridge;
        eb.create_event_bus().name(bus).send().await.unwrap();
        eb.put_rule()
            .name(format!("{bus}-rule"))
            .event_bus_name(bus)
            .event_pattern(r#"{"source":["qscale"]}"#)
            .send()
            .await
            .unwrap();
        eb.put_targets()
            .rule(format!("{bus}-rule"))
            .event_bus_name(bus)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("q")
                    .arn(arn)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        (bus.to_string(), queue)
    }

    /// Bodies of every message waiting on a queue (receives until empty).
    pub async fn drain(&self, url: &str) -> Vec<String> {
        let mut bodies = Vec::new();
        loop {
            let out = self
                .clients
                .sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .send()
                .await
                .unwrap();
            if out.messages().is_empty() {
                return bodies;
            }
            for m in out.messages() {
                bodies.push(m.body().unwrap().to_string());
                self.clients
                    .sqs
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }

    /// Every audit event waiting on an audit queue (receives until empty).
    pub async fn audit_events(&self, url: &str) -> Vec<AuditEvent> {
        self.drain(url)
            .await
            .iter()
            .map(|body| serde_json::from_str(body).expect("audit event JSON"))
            .collect()
    }

    /// A Lambda function (no Docker needed to create it) with reserved concurrency.
    pub async fn lambda_function(&self, name: &str, reserved: i32) -> String {
        // moto checks the role exists; it accepts any code bytes, as the function
        // is never invoked here (that would need Docker), only configured.
        let role = self
            .iam
            .create_role()
            .role_name(format!("{name}-role"))
            .assume_role_policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
            )
            .send()
            .await
            .unwrap()
            .role()
            .unwrap()
            .arn()
            .to_string();
        let code = b"placeholder: never invoked".to_vec();
        let f = self
            .clients
            .lambda
            .create_function()
            .function_name(name)
            .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
            .role(role)
            .handler("bootstrap")
            .code(
                aws_sdk_lambda::types::FunctionCode::builder()
                    .zip_file(aws_sdk_lambda::primitives::Blob::new(code))
                    .build(),
            )
            .send()
            .await
            .unwrap();
        self.clients
            .lambda
            .put_function_concurrency()
            .function_name(name)
            .reserved_concurrent_executions(reserved)
            .send()
            .await
            .unwrap();
        f.function_arn().unwrap().to_string()
    }

    /// A disabled SQS event-source mapping (enabled ones make moto try Docker).
    pub async fn event_source_mapping(&self, function: &str, queue_url: &str, max: i32) -> String {
        let arn = self.queue_arn(queue_url).await;
        self.clients
            .lambda
            .create_event_source_mapping()
            .function_name(function)
            .event_source_arn(arn)
            .enabled(false)
            .scaling_config(
                aws_sdk_lambda::types::ScalingConfig::builder()
                    .maximum_concurrency(max)
                    .build(),
            )
            .send()
            .await
            .unwrap()
            .uuid()
            .unwrap()
            .to_string()
    }
}
