//! The config's types at the top: the whole file, its targets and Kafka clusters.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::policy::PolicyConfig;
use super::schedule::ScheduleConfig;
use super::signal::SignalConfig;
use super::values::HumanDuration;
use super::worker::WorkerConfig;

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Config {
    /// How often the scaler reconciles every target. Default 60s.
    pub tick_interval: HumanDuration,
    /// Kafka clusters referenced by Kafka signals, by name.
    pub kafka_clusters: BTreeMap<String, KafkaClusterConfig>,
    /// Optional: audit events also produced to a Kafka topic.
    pub audit_kafka: Option<KafkaAuditConfig>,
    /// The scaling targets.
    pub targets: Vec<TargetConfig>,
}

/// Where Kafka audit events go.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KafkaAuditConfig {
    /// A cluster under `kafka_clusters`.
    pub cluster: String,
    /// The topic.
    pub topic: String,
}

impl Config {
    /// The target with this name.
    pub fn target(&self, name: &str) -> Option<&TargetConfig> {
        self.targets.iter().find(|t| t.name == name)
    }

    /// Every target whose `policy.max` is above `ceiling` (a deployment's
    /// cap on any one target), as field errors naming both.
    pub fn above_ceiling(&self, ceiling: u32) -> Vec<super::error::FieldError> {
        self.targets
            .iter()
            .enumerate()
            .filter(|(_, t)| t.policy.max > ceiling)
            .map(|(i, t)| super::error::FieldError {
                path: format!("targets[{i}].policy.max"),
                message: format!(
                    "{} is above this deployment's ceiling of {ceiling} workers per target (MaxWorkersPerTarget)",
                    t.policy.max
                ),
            })
            .collect()
    }
}

/// The librdkafka properties a cluster may set: connection security (TLS,
/// SASL, OAUTHBEARER) and client timeouts. Others are refused, among them
/// the dangerous (`plugin.library.paths` loads a shared object,
/// `sasl.kerberos.kinit.cmd` runs a command) and those qscale sets itself.
pub const KAFKA_PROPERTIES: &[&str] = &[
    "security.protocol",
    "sasl.mechanism",
    "sasl.mechanisms",
    "sasl.username",
    "sasl.password",
    "sasl.oauthbearer.method",
    "sasl.oauthbearer.client.id",
    "sasl.oauthbearer.client.secret",
    "sasl.oauthbearer.token.endpoint.url",
    "sasl.oauthbearer.scope",
    "sasl.oauthbearer.extensions",
    "ssl.ca.location",
    "ssl.ca.pem",
    "ssl.certificate.location",
    "ssl.certificate.pem",
    "ssl.key.location",
    "ssl.key.pem",
    "ssl.key.password",
    "ssl.endpoint.identification.algorithm",
    "enable.ssl.certificate.verification",
    "client.id",
    "client.rack",
    "broker.address.family",
    "request.timeout.ms",
    "metadata.max.age.ms",
    "api.version.request",
];

/// One Kafka cluster.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KafkaClusterConfig {
    /// `host:port,host:port`.
    pub bootstrap_servers: String,
    /// Extra librdkafka properties (security.protocol, sasl.*), passed through.
    /// Values are never logged.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
    /// Where the SASL password is kept, read at run time (once per
    /// container and config); never written into the config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sasl_password_from: Option<SecretSource>,
    /// Accept `properties.sasl.password` in the config itself (for a local
    /// broker; refused otherwise: the config is stored and shown in clear).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_plain_password: bool,
    /// Log in with the container's own AWS credentials (Amazon MSK IAM
    /// access control): SASL OAUTHBEARER over TLS, the token a SigV4-signed
    /// `kafka-cluster:Connect` request, signed again before it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msk_iam: Option<MskIamAuth>,
}

/// Amazon MSK IAM access control for one cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MskIamAuth {
    /// The cluster's AWS region, for which the token is signed.
    pub region: String,
}

/// A secret kept outside the config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SecretSource {
    /// An SSM Parameter Store parameter (a `SecureString`), by name or ARN,
    /// read with decryption.
    SsmParameter(String),
}

impl fmt::Debug for KafkaClusterConfig {
    // Property values may be secrets (sasl.password): only their names are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaClusterConfig")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("sasl_password_from", &self.sasl_password_from)
            .field("allow_plain_password", &self.allow_plain_password)
            .field("msk_iam", &self.msk_iam)
            .field(
                "properties",
                &self
                    .properties
                    .keys()
                    .map(|k| (k, "<redacted>"))
                    .collect::<BTreeMap<_, _>>(),
            )
            .finish()
    }
}

/// One thing qscale scales.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// Unique name.
    pub name: String,
    /// What is measured.
    pub signals: Vec<SignalConfig>,
    /// What is scaled.
    pub worker: WorkerConfig,
    /// How.
    pub policy: PolicyConfig,
    /// Recurring pre-warm floors.
    #[serde(default)]
    pub schedules: Vec<ScheduleConfig>,
    /// Another account (a role to assume) or region for this target's
    /// queues and workers; absent: qscale's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<super::account::TargetAccess>,
}
