//! Kafka SASL passwords kept outside the config
//! (`kafka_clusters.<name>.sasl_password_from`): read from SSM Parameter
//! Store with decryption, once per container and kafka_clusters section
//! (a changed section reads them again), and handed to librdkafka only.
//! Never logged: errors name the cluster and the parameter, not the value.
//! Clusters on MSK IAM (`msk_iam`) get the container's own AWS credentials
//! instead, which sign their tokens.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::Credentials;
use qscale_core::config::{KafkaClusterConfig, SecretSource};

use super::{describe, ApiCalls, AwsClients};

/// The clusters with their passwords filled in, and those whose password
/// could not be read (name → why): their signals fail with that reason, so
/// nothing scales on them.
#[derive(Default)]
pub struct ResolvedClusters {
    /// Ready for librdkafka.
    pub clusters: BTreeMap<String, KafkaClusterConfig>,
    /// Clusters left out, with the reason.
    pub unavailable: BTreeMap<String, String>,
    /// The container's AWS credentials, when a cluster uses MSK IAM.
    pub aws_credentials: Option<Credentials>,
}

/// Values read, keyed by (section fingerprint, parameter): a container
/// reads each once until the kafka_clusters section changes.
static CACHE: Mutex<Option<(u64, HashMap<String, String>)>> = Mutex::new(None);

fn fingerprint(clusters: &BTreeMap<String, KafkaClusterConfig>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(clusters)
        .unwrap_or_default()
        .hash(&mut h);
    h.finish()
}

/// Fills in each cluster's `sasl.password` from its `sasl_password_from`.
pub async fn resolve(
    clients: &AwsClients,
    clusters: &BTreeMap<String, KafkaClusterConfig>,
    calls: &ApiCalls,
) -> ResolvedClusters {
    let print = fingerprint(clusters);
    let mut out = ResolvedClusters::default();
    let mut credentials = None;
    for (name, cluster) in clusters {
        if cluster.msk_iam.is_some() {
            let read = match &credentials {
                Some(read) => read,
                None => credentials.insert(aws_credentials(clients).await),
            };
            match read {
                Ok(c) => {
                    out.aws_credentials = Some(c.clone());
                    out.clusters.insert(name.clone(), cluster.clone());
                }
                Err(why) => {
                    tracing::error!(cluster = %name, error = %why, "kafka MSK IAM credentials unavailable");
                    out.unavailable.insert(name.clone(), why.clone());
                }
            }
            continue;
        }
        let Some(SecretSource::SsmParameter(parameter)) = &cluster.sasl_password_from else {
            out.clusters.insert(name.clone(), cluster.clone());
            continue;
        };
        let cached = {
            let cache = CACHE.lock().unwrap();
            cache
                .as_ref()
                .filter(|(p, _)| *p == print)
                .and_then(|(_, values)| values.get(parameter).cloned())
        };
        let value = match cached {
            Some(v) => Ok(v),
            None => read_parameter(clients, parameter, calls).await,
        };
        match value {
            Ok(password) => {
                {
                    let mut cache = CACHE.lock().unwrap();
                    if cache.as_ref().is_none_or(|(p, _)| *p != print) {
                        *cache = Some((print, HashMap::new()));
                    }
                    if let Some((_, values)) = cache.as_mut() {
                        values.insert(parameter.clone(), password.clone());
                    }
                }
                let mut ready = cluster.clone();
                ready.properties.insert("sasl.password".into(), password);
                out.clusters.insert(name.clone(), ready);
            }
            Err(why) => {
                tracing::error!(cluster = %name, parameter = %parameter, error = %why, "kafka SASL password unavailable");
                out.unavailable.insert(
                    name.clone(),
                    format!("SASL password from SSM parameter {parameter}: {why}"),
                );
            }
        }
    }
    out
}

/// The credentials the SDK clients sign with (in Lambda, the function's
/// role; the provider caches and refreshes them).
async fn aws_credentials(clients: &AwsClients) -> Result<Credentials, String> {
    let provider = clients
        .sdk_config
        .credentials_provider()
        .ok_or("MSK IAM: no AWS credentials provider is configured")?;
    provider
        .provide_credentials()
        .await
        .map_err(|e| format!("MSK IAM: AWS credentials: {e}"))
}

async fn read_parameter(
    clients: &AwsClients,
    parameter: &str,
    calls: &ApiCalls,
) -> Result<String, String> {
    calls.count("ssm:GetParameter");
    let out = clients
        .ssm
        .get_parameter()
        .name(parameter)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let p = out.parameter().ok_or("no parameter in the answer")?;
    // A String parameter is readable by anyone who may describe parameters:
    // a password belongs in a SecureString.
    if p.r#type() != Some(&aws_sdk_ssm::types::ParameterType::SecureString) {
        return Err(format!(
            "is a {}, not a SecureString",
            p.r#type()
                .map_or("parameter of unknown type", |t| t.as_str())
        ));
    }
    match p.value() {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        _ => Err("is empty".into()),
    }
}
