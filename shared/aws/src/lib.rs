//! Real adapters on the AWS SDK for Rust: SQS depth, ECS and Lambda
//! workers, DynamoDB state, EventBridge/SQS audit. Clients are built once
//! per invocation and shared.

mod access;
mod audit;
mod config_source;
pub mod kafka_secrets;
pub mod preflight;
pub mod sent_history;
mod sqs;
mod state;
mod task_protection;
mod workers;

/// The raw answer every SDK client's errors carry.
pub(crate) use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::config::retry::RetryPartition;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

pub use access::ROLE_SESSION_NAME;
pub use audit::{AuditTargets, AwsAudit};
pub use config_source::{ConfigSource, ConfigVersion, Encryption, SSM_PARAMETER_MAX_BYTES};
pub use sqs::SqsDepthSource;
pub use state::DynamoStateStore;
pub use workers::AwsWorkers;

/// Where qscale's own AWS resources are and how to reach AWS. (No
/// `Default`: a zero target budget would cancel every reconcile.)
#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// Endpoint override (an emulator such as moto); `None` for AWS.
    pub endpoint_url: Option<String>,
    /// DynamoDB table holding per-target state.
    pub state_table: String,
    /// Audit destinations.
    pub audit: AuditTargets,
    /// Targets reconciled at once.
    pub concurrency: usize,
    /// Longest one target's reconcile may take: past it, that reconcile is
    /// cancelled and reported failed, and the other targets go on.
    pub target_budget: std::time::Duration,
}

/// The retry partition (token bucket) of [`AwsClients::audit_sqs`].
pub const AUDIT_SQS_RETRY_PARTITION: &str = "qscale-audit-sqs";

/// The SDK clients of one invocation.
#[derive(Clone, Debug)]
pub struct AwsClients {
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
    /// SQS for audit events only, with a retry budget of its own. The SDK
    /// keeps one retry token bucket per service for the whole process: an
    /// audit queue that times out would otherwise spend the retries of every
    /// target's queue reading (and of tick's fan-out).
    pub audit_sqs: aws_sdk_sqs::Client,
    /// ECS.
    pub ecs: aws_sdk_ecs::Client,
    /// Lambda.
    pub lambda: aws_sdk_lambda::Client,
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// EventBridge.
    pub eventbridge: aws_sdk_eventbridge::Client,
    /// SSM Parameter Store (config source).
    pub ssm: aws_sdk_ssm::Client,
    /// S3 (config source).
    pub s3: aws_sdk_s3::Client,
    /// CloudWatch (queue history for `trace from-cloudwatch`).
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// Application Auto Scaling (read only: `validate --check-aws` looks
    /// for another scaler on a target's worker).
    pub applicationautoscaling: aws_sdk_applicationautoscaling::Client,
    /// The SDK config these were built from (for clients on an assumed role).
    pub sdk_config: SdkConfig,
    /// Clients per target role and region ([`AwsClients::for_access`]).
    assumed: access::AssumedClients,
}

/// How long one attempt of an AWS call may take before the SDK gives up on
/// it (and retries, if attempts are left): the call may still take effect.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);

impl AwsClients {
    /// Clients from the environment's credentials and region, with standard
    /// retries (3 attempts, backoff, throttling and 5xx) and a timeout on every call.
    pub async fn from_env(endpoint_url: Option<&str>) -> AwsClients {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                    .operation_timeout(Duration::from_secs(15))
                    .build(),
            );
        if let Some(url) = endpoint_url {
            loader = loader.endpoint_url(url);
            // A local emulator needs a region and some credentials, not real ones.
            if std::env::var_os("AWS_REGION").is_none()
                && std::env::var_os("AWS_DEFAULT_REGION").is_none()
            {
                loader = loader.region(Region::new("us-east-1"));
            }
            if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
                loader = loader.credentials_provider(aws_sdk_sqs::config::Credentials::new(
                    "qscale-local",
                    "qscale-local",
                    None,
                    None,
                    "qscale-local",
                ));
            }
        }
        AwsClients::from_sdk_config(&loader.load().await)
    }

    /// Clients sharing one SDK config.
    pub fn from_sdk_config(config: &SdkConfig) -> AwsClients {
        AwsClients {
            sqs: aws_sdk_sqs::Client::new(config),
            audit_sqs: aws_sdk_sqs::Client::from_conf(
                aws_sdk_sqs::config::Builder::from(config)
                    .retry_partition(RetryPartition::new(AUDIT_SQS_RETRY_PARTITION))
                    .build(),
            ),
            ecs: aws_sdk_ecs::Client::new(config),
            lambda: aws_sdk_lambda::Client::new(config),
            dynamodb: aws_sdk_dynamodb::Client::new(config),
            eventbridge: aws_sdk_eventbridge::Client::new(config),
            ssm: aws_sdk_ssm::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            applicationautoscaling: aws_sdk_applicationautoscaling::Client::new(config),
            // A local endpoint (moto) serves buckets by path, not by host name.
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(config)
                    .force_path_style(config.endpoint_url().is_some())
                    .build(),
            ),
            sdk_config: config.clone(),
            assumed: access::AssumedClients::default(),
        }
    }
}

/// AWS API calls made, by operation (the "calls per target per tick" measure).
#[derive(Debug, Default)]
pub struct ApiCalls(Mutex<BTreeMap<&'static str, u64>>);

impl ApiCalls {
    /// Counts one call.
    pub fn count(&self, operation: &'static str) {
        *self.0.lock().unwrap().entry(operation).or_default() += 1;
    }
    /// Calls so far by operation.
    pub fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        self.0.lock().unwrap().clone()
    }
    /// All calls so far.
    pub fn total(&self) -> u64 {
        self.0.lock().unwrap().values().sum()
    }
}

/// An SDK error as one line: the service's code and message when it sent
/// one, the full error chain otherwise.
pub(crate) fn describe<E>(err: &aws_sdk_sqs::error::SdkError<E, HttpResponse>) -> String
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match err.as_service_error() {
        Some(e) => match (e.code(), e.message()) {
            (Some(code), Some(msg)) => format!("{code}: {msg}"),
            (Some(code), None) => code.to_string(),
            // An answer without a body (S3's HEAD) says only its status.
            _ => match err.raw_response().map(|r| r.status().as_u16()) {
                Some(403) => "HTTP 403, access denied: the role lacks the permission, or a resource policy refuses it".into(),
                Some(404) => "HTTP 404, not found".into(),
                _ => aws_sdk_sqs::error::DisplayErrorContext(err).to_string(),
            },
        },
        None => aws_sdk_sqs::error::DisplayErrorContext(err).to_string(),
    }
}

/// [`describe`] for callers outside this module.
pub fn describe_error<E>(err: &aws_sdk_sqs::error::SdkError<E, HttpResponse>) -> String
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    describe(err)
}

/// The service error code, if the service answered with one.
pub(crate) fn error_code<E, R>(err: &aws_sdk_sqs::error::SdkError<E, R>) -> Option<&str>
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata,
{
    err.as_service_error().and_then(|e| e.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_events_retry_from_a_budget_of_their_own() {
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        let c = AwsClients::from_sdk_config(&config);
        let audit = RetryPartition::new(AUDIT_SQS_RETRY_PARTITION);
        assert_eq!(c.audit_sqs.config().retry_partition(), Some(&audit));
        assert_ne!(c.sqs.config().retry_partition(), Some(&audit));
    }
}
