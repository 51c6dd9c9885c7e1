//! Real Kafka adapters on rdkafka (bundled librdkafka, with OpenSSL built
//! from source for `SSL` and `SASL_SSL`): consumer-group lag as a metric
//! source, and partition growth. Connection settings come from
//! `kafka_clusters` and are passed through to librdkafka; their values are
//! never logged.

mod audit;
mod context;
mod lag;
pub mod msk_iam;
mod partitions;

use std::time::Duration;

use aws_credential_types::Credentials;
use rdkafka::ClientConfig;

use context::Diagnosed;
use msk_iam::MskTokenSigner;

pub use audit::KafkaAuditSink;
pub use lag::KafkaLagSource;
pub use partitions::KafkaPartitions;

use qscale_core::config::KafkaClusterConfig;

/// Default timeout of each broker request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// librdkafka settings for a cluster: bootstrap servers, the user's
/// properties (security, SASL), and ours.
pub(crate) fn client_config(cluster: &KafkaClusterConfig) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &cluster.bootstrap_servers);
    for (k, v) in &cluster.properties {
        c.set(k, v);
    }
    if cluster.msk_iam.is_some() {
        // MSK's IAM listener (port 9098): TLS, and a signed token as the login.
        c.set("security.protocol", "SASL_SSL")
            .set("sasl.mechanisms", "OAUTHBEARER");
    }
    // librdkafka's OpenSSL is built from source here, and its compiled-in CA
    // path exists neither on Lambda nor on most hosts: without a CA of the
    // user's own, look where the system keeps its bundle (Amazon Linux
    // /etc/pki/tls/certs, Debian /etc/ssl/certs, ...), so brokers with public
    // certificates (MSK, Confluent Cloud) verify. Verification stays on.
    if uses_tls(cluster)
        && !cluster.properties.contains_key("ssl.ca.location")
        && !cluster.properties.contains_key("ssl.ca.pem")
    {
        c.set("ssl.ca.location", "probe");
    }
    c.set("socket.timeout.ms", "5000")
        // Fail fast when no broker answers, instead of retrying for a minute.
        .set("socket.connection.setup.timeout.ms", "3000");
    c
}

/// The client context for a cluster: with a token signer when it uses MSK
/// IAM, which needs the container's AWS credentials.
pub(crate) fn context_for(
    cluster: &KafkaClusterConfig,
    aws: Option<&Credentials>,
    token_lifetime: Duration,
) -> Result<Diagnosed, String> {
    match (&cluster.msk_iam, aws) {
        (None, _) => Ok(Diagnosed::default()),
        (Some(msk), Some(credentials)) => Ok(Diagnosed::signing(
            MskTokenSigner::new(&msk.region, credentials.clone()).with_lifetime(token_lifetime),
        )),
        (Some(_), None) => Err("msk_iam: no AWS credentials to sign the token with".into()),
    }
}

/// Whether the cluster's `security.protocol` is `SSL` or `SASL_SSL` (MSK IAM is).
fn uses_tls(cluster: &KafkaClusterConfig) -> bool {
    cluster.msk_iam.is_some()
        || cluster
            .properties
            .get("security.protocol")
            .is_some_and(|p| p.eq_ignore_ascii_case("ssl") || p.eq_ignore_ascii_case("sasl_ssl"))
}

/// The configured cluster named `name`, and how errors name it.
pub(crate) fn cluster<'a>(
    clusters: &'a std::collections::BTreeMap<String, KafkaClusterConfig>,
    name: &str,
) -> Result<(&'a KafkaClusterConfig, String), qscale_core::reconcile::PortError> {
    let cluster = clusters.get(name).ok_or_else(|| {
        qscale_core::reconcile::PortError::new(
            format!("kafka cluster {name}"),
            "not defined under kafka_clusters",
        )
    })?;
    Ok((cluster, describe_cluster(name, cluster)))
}

/// How a cluster is named in errors: its name and servers, never its properties.
pub(crate) fn describe_cluster(name: &str, cluster: &KafkaClusterConfig) -> String {
    format!("kafka cluster {name} ({})", cluster.bootstrap_servers)
}
