//! Amazon MSK IAM access control: the SASL OAUTHBEARER token is a
//! SigV4-presigned `GET https://kafka.REGION.amazonaws.com/?Action=kafka-cluster:Connect`
//! (service `kafka-cluster`, valid 900 s), base64url-encoded without
//! padding, as AWS's signers build it (aws-msk-iam-sasl-signer-python,
//! `MSKAuthTokenProvider.py`; tests/msk_iam_token.rs checks ours against it).

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;
use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// How long a token is valid: the reference signer's `DEFAULT_TOKEN_EXPIRY_SECONDS`.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(900);

/// The query parameter naming the signer; not signed, MSK logs it.
const USER_AGENT: &str = concat!("qscale/", env!("CARGO_PKG_VERSION"));

/// SigV4's URI encoding: everything but unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A signed token and when it expires.
#[derive(Clone, Debug)]
pub struct MskToken {
    /// What the client sends as `auth=Bearer <token>`.
    pub token: String,
    /// Expiry, in milliseconds since the Unix epoch (what librdkafka wants).
    pub expires_at_ms: i64,
}

/// Signs MSK IAM tokens for one region with one set of credentials.
#[derive(Clone)]
pub struct MskTokenSigner {
    region: String,
    credentials: Credentials,
    lifetime: Duration,
}

impl std::fmt::Debug for MskTokenSigner {
    // The credentials' own Debug redacts the secret; the region is enough here.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MskTokenSigner")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl MskTokenSigner {
    /// A signer for `region` with these credentials.
    pub fn new(region: &str, credentials: Credentials) -> Self {
        MskTokenSigner {
            region: region.to_string(),
            credentials,
            lifetime: TOKEN_LIFETIME,
        }
    }

    /// The same, with tokens valid for `lifetime` (tests: a refresh within seconds).
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// A token signed at `at`.
    pub fn token(&self, at: SystemTime) -> Result<MskToken, String> {
        let url = self.presigned_url(at)?;
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url.as_bytes());
        // X-Amz-Date has whole seconds: the expiry counts from them, as the
        // reference signer's does.
        let signed_at = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_err(|_| "the clock is before 1970".to_string())?
            .as_secs();
        let expires_at_ms = ((signed_at + self.lifetime.as_secs()) * 1000) as i64;
        Ok(MskToken {
            token,
            expires_at_ms,
        })
    }

    /// The presigned URL the token encodes, with the User-Agent parameter after the signature.
    pub fn presigned_url(&self, at: SystemTime) -> Result<String, String> {
        let endpoint = format!(
            "https://kafka.{}.amazonaws.com/?Action=kafka-cluster%3AConnect",
            self.region
        );
        let host = format!("kafka.{}.amazonaws.com", self.region);
        let identity = self.credentials.clone().into();
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(self.lifetime);
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("kafka-cluster")
            .time(at)
            .settings(settings)
            .build()
            .map_err(|e| format!("signing parameters: {e}"))?
            .into();
        let request = SignableRequest::new(
            "GET",
            &endpoint,
            std::iter::once(("host", host.as_str())),
            // The reference signs a GET without a body as the SHA-256 of
            // nothing, not UNSIGNED-PAYLOAD.
            SignableBody::Bytes(&[]),
        )
        .map_err(|e| format!("signing request: {e}"))?;
        let (instructions, _) = sign(request, &params)
            .map_err(|e| format!("signing: {e}"))?
            .into_parts();
        let mut url = endpoint;
        // The reference's order: the signature after every signed parameter.
        let mut params = instructions.params().to_vec();
        params.sort_by_key(|(name, _)| *name == "X-Amz-Signature");
        for (name, value) in params {
            url.push('&');
            url.push_str(name);
            url.push('=');
            url.extend(utf8_percent_encode(&value, QUERY_VALUE));
        }
        url.push_str("&User-Agent=");
        url.extend(utf8_percent_encode(USER_AGENT, QUERY_VALUE));
        Ok(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(unix: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(unix)
    }

    #[test]
    fn a_token_is_the_presigned_connect_url_in_base64url_without_padding() {
        let signer = MskTokenSigner::new(
            "eu-west-1",
            Credentials::new(
                "AKIDEXAMPLE",
                "secret",
                Some("session".into()),
                None,
                "test",
            ),
        );
        // 2026-12-07T18:00:00Z
        let t = signer.token(at(1_796_666_400)).unwrap();
        assert!(!t.token.contains('=') && !t.token.contains('+') && !t.token.contains('/'));
        let url = String::from_utf8(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&t.token)
                .unwrap(),
        )
        .unwrap();
        assert!(
            url.starts_with(
                "https://kafka.eu-west-1.amazonaws.com/?Action=kafka-cluster%3AConnect&"
            ),
            "{url}"
        );
        for part in [
            "X-Amz-Algorithm=AWS4-HMAC-SHA256",
            "X-Amz-Credential=AKIDEXAMPLE%2F20261207%2Feu-west-1%2Fkafka-cluster%2Faws4_request",
            "X-Amz-Date=20261207T180000Z",
            "X-Amz-Expires=900",
            "X-Amz-SignedHeaders=host",
            "X-Amz-Security-Token=session",
            "X-Amz-Signature=",
        ] {
            assert!(url.contains(part), "{part} not in {url}");
        }
        assert!(url.ends_with(&format!(
            "&User-Agent=qscale%2F{}",
            env!("CARGO_PKG_VERSION")
        )));
        assert_eq!(t.expires_at_ms, (1_796_666_400 + 900) * 1000);
    }

    #[test]
    fn the_signature_depends_on_the_time_and_the_secret() {
        let creds = |secret: &str| Credentials::new("AKID", secret, None, None, "test");
        let sig = |signer: &MskTokenSigner, t: u64| {
            let url = signer.presigned_url(at(t)).unwrap();
            url.split("X-Amz-Signature=").nth(1).unwrap()[..64].to_string()
        };
        let a = MskTokenSigner::new("us-east-1", creds("one"));
        let b = MskTokenSigner::new("us-east-1", creds("two"));
        assert_eq!(sig(&a, 1_800_000_000), sig(&a, 1_800_000_000));
        assert_ne!(sig(&a, 1_800_000_000), sig(&a, 1_800_000_001));
        assert_ne!(sig(&a, 1_800_000_000), sig(&b, 1_800_000_000));
        assert!(!a.presigned_url(at(1)).unwrap().contains("Security-Token"));
    }
}
