//! Where the functions read their config without a redeploy: one SSM
//! parameter, a path of SSM parameters (their values joined in name order,
//! for configs above one parameter's 8 KB), or an S3 object. Each source has
//! a version (parameter versions, the object's ETag) so a container re-reads
//! only when it changed; `qscale config push` writes through the same type.

use std::fmt;

use super::{describe, AwsClients};
use qscale_core::config::limits::MAX_BYTES;
use qscale_core::reconcile::PortError;

/// An Advanced parameter holds 8 KB (a Standard one 4 KB); moto accepts
/// more, AWS does not, so the limit is enforced here.
pub const SSM_PARAMETER_MAX_BYTES: usize = 8 * 1024;

/// A config location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// `ssm:NAME`: one parameter.
    SsmParameter(String),
    /// `ssm-path:/PATH/`: every parameter under the path, values joined in name order.
    SsmPath(String),
    /// `s3://BUCKET/KEY`.
    S3 {
        /// Bucket.
        bucket: String,
        /// Object key.
        key: String,
    },
}

/// What identifies one stored config (compare to skip an unchanged re-read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigVersion(pub String);

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::SsmParameter(n) => write!(f, "ssm:{n}"),
            ConfigSource::SsmPath(p) => write!(f, "ssm-path:{p}"),
            ConfigSource::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

impl std::str::FromStr for ConfigSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let bad = || {
            format!(
                "{s:?} is not a config source: write ssm:NAME, ssm-path:/PATH/ or s3://BUCKET/KEY"
            )
        };
        if let Some(path) = s.strip_prefix("ssm-path:") {
            if !path.starts_with('/') || path.len() < 2 {
                return Err(bad());
            }
            let path = if path.ends_with('/') {
                path.to_string()
            } else {
                format!("{path}/")
            };
            return Ok(ConfigSource::SsmPath(path));
        }
        if let Some(name) = s.strip_prefix("ssm:") {
            return if name.is_empty() {
                Err(bad())
            } else {
                Ok(ConfigSource::SsmParameter(name.to_string()))
            };
        }
        if let Some(rest) = s.strip_prefix("s3://") {
            return match rest.split_once('/') {
                Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
                    Ok(ConfigSource::S3 {
                        bucket: bucket.to_string(),
                        key: key.to_string(),
                    })
                }
                _ => Err(bad()),
            };
        }
        Err(bad())
    }
}

impl ConfigSource {
    /// The current version, and the text when it differs from `known`.
    pub async fn fetch(
        &self,
        clients: &AwsClients,
        known: Option<&ConfigVersion>,
    ) -> Result<(ConfigVersion, Option<String>), PortError> {
        let err = |e: String| PortError::new(self.to_string(), e);
        match self {
            ConfigSource::SsmParameter(name) => {
                let out = clients
                    .ssm
                    .get_parameter()
                    .name(name)
                    .with_decryption(true)
                    .send()
                    .await
                    .map_err(|e| err(describe(&e)))?;
                let p = out
                    .parameter()
                    .ok_or_else(|| err("no parameter in the answer".into()))?;
                let version = ConfigVersion(p.version().to_string());
                let text = (known != Some(&version)).then(|| p.value().unwrap_or("").to_string());
                Ok((version, text))
            }
            ConfigSource::SsmPath(path) => {
                let mut params = Vec::new();
                let mut next = None;
                loop {
                    let out = clients
                        .ssm
                        .get_parameters_by_path()
                        .path(path)
                        .recursive(false)
                        .with_decryption(true)
                        .set_next_token(next)
                        .send()
                        .await
                        .map_err(|e| err(describe(&e)))?;
                    for p in out.parameters() {
                        params.push((
                            p.name().unwrap_or("").to_string(),
                            p.version(),
                            p.value().unwrap_or("").to_string(),
                        ));
                    }
                    next = out.next_token().map(str::to_string);
                    if next.is_none() {
                        break;
                    }
                }
                if params.is_empty() {
                    return Err(err("no parameters under the path".into()));
                }
                params.sort();
                let version = ConfigVersion(
                    params
                        .iter()
                        .map(|(n, v, _)| format!("{n}@{v}"))
                        .collect::<Vec<_>>()
                        .join(","),
                );
                let text = (known != Some(&version)).then(|| {
                    params
                        .iter()
                        .map(|(_, _, t)| t.as_str())
                        .collect::<String>()
                });
                Ok((version, text))
            }
            ConfigSource::S3 { bucket, key } => {
                let head = clients
                    .s3
                    .head_object()
                    .bucket(bucket)
                    .key(key)
                    .send()
                    .await
                    .map_err(|e| err(describe(&e)))?;
                let version = ConfigVersion(head.e_tag().unwrap_or("").to_string());
                if known == Some(&version) {
                    return Ok((version, None));
                }
                let too_big = |size: String| {
                    err(format!(
                        "the object is {size} bytes; a config is at most {MAX_BYTES}"
                    ))
                };
                if let Some(size) = head.content_length().filter(|n| *n > MAX_BYTES as i64) {
                    return Err(too_big(size.to_string()));
                }
                // The object may have grown since the HEAD: ask for one byte
                // more than the limit at most, and read no further than that.
                let out = clients
                    .s3
                    .get_object()
                    .bucket(bucket)
                    .key(key)
                    .range(format!("bytes=0-{MAX_BYTES}"))
                    .send()
                    .await
                    .map_err(|e| err(describe(&e)))?;
                let version = ConfigVersion(out.e_tag().unwrap_or("").to_string());
                let mut body = out.body;
                let mut bytes = Vec::new();
                while let Some(chunk) = body
                    .try_next()
                    .await
                    .map_err(|e| err(format!("reading the object: {e}")))?
                {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() > MAX_BYTES {
                        return Err(too_big(format!("more than {MAX_BYTES}")));
                    }
                }
                let text = String::from_utf8(bytes)
                    .map_err(|_| err("the object is not UTF-8 text".into()))?;
                Ok((version, Some(text)))
            }
        }
    }

    /// Writes `text` (already validated) as the new config, unencrypted
    /// beyond the service's defaults; returns its version.
    pub async fn push(&self, clients: &AwsClients, text: &str) -> Result<ConfigVersion, PortError> {
        self.push_with(clients, text, &Encryption::Default).await
    }

    /// Writes `text` (already validated) as the new config with `encryption`
    /// (a config may hold Kafka passwords); returns its version.
    pub async fn push_with(
        &self,
        clients: &AwsClients,
        text: &str,
        encryption: &Encryption,
    ) -> Result<ConfigVersion, PortError> {
        let err = |e: String| PortError::new(self.to_string(), e);
        match self {
            ConfigSource::SsmParameter(name) => {
                if text.len() > SSM_PARAMETER_MAX_BYTES {
                    return Err(err(format!(
                        "the config is {} bytes; one parameter holds {SSM_PARAMETER_MAX_BYTES}: use ssm-path:/PATH/ or s3://",
                        text.len()
                    )));
                }
                let version = put_parameter(clients, name, text, encryption)
                    .await
                    .map_err(err)?;
                Ok(ConfigVersion(version.to_string()))
            }
            ConfigSource::SsmPath(path) => {
                let chunks = chunks(text, SSM_PARAMETER_MAX_BYTES);
                for (i, chunk) in chunks.iter().enumerate() {
                    put_parameter(clients, &format!("{path}{i:03}"), chunk, encryption)
                        .await
                        .map_err(err)?;
                }
                // Parts left from a longer config would be joined in: remove them.
                let (current, _) = self.fetch(clients, None).await?;
                for part in current.0.split(',') {
                    let name = part.rsplit_once('@').map_or(part, |(n, _)| n);
                    let index = name
                        .strip_prefix(path.as_str())
                        .and_then(|i| i.parse::<usize>().ok());
                    if index.is_some_and(|i| i >= chunks.len()) {
                        clients
                            .ssm
                            .delete_parameter()
                            .name(name)
                            .send()
                            .await
                            .map_err(|e| err(describe(&e)))?;
                    }
                }
                Ok(self.fetch(clients, None).await?.0)
            }
            ConfigSource::S3 { bucket, key } => {
                let mut put = clients
                    .s3
                    .put_object()
                    .bucket(bucket)
                    .key(key)
                    .content_type("application/yaml")
                    .body(text.as_bytes().to_vec().into());
                if let Encryption::Kms { key_id } = encryption {
                    put = put
                        .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::AwsKms)
                        .set_ssekms_key_id(key_id.clone());
                }
                let out = put.send().await.map_err(|e| err(describe(&e)))?;
                Ok(ConfigVersion(out.e_tag().unwrap_or("").to_string()))
            }
        }
    }
}

/// How a pushed config is encrypted at rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Encryption {
    /// SSM `String` parameters; S3 objects under the bucket's default.
    #[default]
    Default,
    /// SSM `SecureString` parameters, S3 SSE-KMS; with a key id, that KMS
    /// key (the functions then need `kms:Decrypt` on it: the template's
    /// `ConfigKmsKeyArn`), else the AWS-managed key.
    Kms {
        /// KMS key id or ARN; `None` for the AWS-managed key.
        key_id: Option<String>,
    },
}

/// Writes one Advanced (8 KB) parameter; returns its new version.
async fn put_parameter(
    clients: &AwsClients,
    name: &str,
    value: &str,
    encryption: &Encryption,
) -> Result<i64, String> {
    let (kind, key_id) = match encryption {
        Encryption::Default => (aws_sdk_ssm::types::ParameterType::String, None),
        Encryption::Kms { key_id } => (
            aws_sdk_ssm::types::ParameterType::SecureString,
            key_id.clone(),
        ),
    };
    clients
        .ssm
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(kind)
        .set_key_id(key_id)
        .tier(aws_sdk_ssm::types::ParameterTier::Advanced)
        .overwrite(true)
        .send()
        .await
        .map(|out| out.version())
        .map_err(|e| describe(&e))
}

/// Splits at line ends into parts of at most `max` bytes (a longer line is
/// split at a character boundary).
fn chunks(text: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + max).min(text.len());
        if end < text.len() {
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            if let Some(nl) = text[start..end].rfind('\n') {
                if nl > 0 {
                    end = start + nl + 1;
                }
            }
        }
        out.push(&text[start..end]);
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_and_bad_ones_name_the_forms() {
        assert_eq!(
            "ssm:/qscale/config".parse::<ConfigSource>().unwrap(),
            ConfigSource::SsmParameter("/qscale/config".into())
        );
        assert_eq!(
            "ssm-path:/qscale/config".parse::<ConfigSource>().unwrap(),
            ConfigSource::SsmPath("/qscale/config/".into())
        );
        assert_eq!(
            "s3://b/dir/qscale.yaml".parse::<ConfigSource>().unwrap(),
            ConfigSource::S3 {
                bucket: "b".into(),
                key: "dir/qscale.yaml".into()
            }
        );
        for bad in [
            "",
            "ssm:",
            "s3://bucket",
            "s3:///key",
            "ssm-path:relative",
            "file:/x",
        ] {
            let e = bad.parse::<ConfigSource>().unwrap_err();
            assert!(
                e.contains("ssm:NAME, ssm-path:/PATH/ or s3://BUCKET/KEY"),
                "{e}"
            );
        }
    }

    #[test]
    fn chunks_split_at_lines_and_join_back() {
        let text: String = (0..2000).map(|i| format!("line {i}\n")).collect();
        let parts = chunks(&text, 1000);
        assert!(parts.iter().all(|p| p.len() <= 1000 && p.ends_with('\n')));
        assert_eq!(parts.concat(), text);
        let long = "é".repeat(3000);
        assert_eq!(chunks(&long, 1001).concat(), long);
    }
}
