//! A client context that remembers why the connection failed. librdkafka
//! reports a TLS handshake or SASL login failure through its error callback
//! ("SSL handshake failed: ... certificate verify failed", "SASL
//! authentication error: Authentication failed ..."), while the request
//! that then times out says only "broker transport failure". Errors name
//! the cause with it. With MSK IAM (`msk_iam`), it also signs the
//! OAUTHBEARER token, and signs a new one when librdkafka asks (at 80% of
//! the token's life).

use std::ffi::CString;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

use rdkafka::client::{Client, ClientContext, OAuthToken};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;

use super::msk_iam::MskTokenSigner;

/// How long a failed read polls for the cause of its failure: the request
/// fails as soon as its connection does, and librdkafka's log and error
/// events for it arrive in the client's queue about half a second later
/// (seen against the test broker).
pub const DIAGNOSIS_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Keeps the last connection-level error librdkafka reported, and signs
/// MSK IAM tokens for clusters that use it.
#[derive(Default)]
pub struct Diagnosed {
    last: Mutex<Option<String>>,
    signer: Option<MskTokenSigner>,
    tokens_signed: AtomicUsize,
}

/// The principal name librdkafka requires beside a token; MSK takes the
/// identity from the signature, not from this.
const PRINCIPAL: &str = "qscale";

impl Diagnosed {
    /// A context that signs MSK IAM tokens with `signer`.
    pub fn signing(signer: MskTokenSigner) -> Self {
        Diagnosed {
            signer: Some(signer),
            ..Default::default()
        }
    }

    /// How many tokens this client has signed.
    pub fn tokens_signed(&self) -> usize {
        self.tokens_signed.load(Ordering::Relaxed)
    }

    /// Hands a new client its first token at once. librdkafka asks for one
    /// through an event that only a poll of the client serves, and the
    /// admin client's main queue is never polled; a client that polls gets
    /// later tokens through [`ClientContext::generate_oauth_token`].
    /// `signs`: whether the client's cluster uses MSK IAM (a producer's
    /// context wraps this one).
    pub fn prime<C: ClientContext>(client: &Client<C>, signs: bool) -> Result<(), String> {
        if !signs {
            return Ok(());
        }
        let token = client
            .context()
            .generate_oauth_token(None)
            .map_err(|e| format!("MSK IAM token: {e}"))?;
        let value = CString::new(token.token).map_err(|e| e.to_string())?;
        let principal = CString::new(token.principal_name).map_err(|e| e.to_string())?;
        let mut why = [0 as std::os::raw::c_char; 512];
        // SAFETY: the client pointer is live for the call (borrowed), the
        // strings are NUL-terminated and outlive it, no extensions are
        // passed, and the error buffer's size is its real size.
        let code = unsafe {
            rdkafka::bindings::rd_kafka_oauthbearer_set_token(
                client.native_ptr(),
                value.as_ptr(),
                token.lifetime_ms,
                principal.as_ptr(),
                std::ptr::null_mut(),
                0,
                why.as_mut_ptr(),
                why.len(),
            )
        };
        if code == rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            Ok(())
        } else {
            // SAFETY: librdkafka wrote a NUL-terminated message into the buffer.
            let why = unsafe { std::ffi::CStr::from_ptr(why.as_ptr()) };
            Err(format!(
                "MSK IAM token refused by the client: {}",
                why.to_string_lossy()
            ))
        }
    }

    /// `error`, with the last connection error beside it when there was one.
    pub fn explain(&self, error: &dyn std::fmt::Display) -> String {
        match self.last.lock().unwrap().as_deref() {
            Some(cause) => format!("{error} (last connection error: {cause})"),
            None => error.to_string(),
        }
    }

    /// Whether a connection error is known.
    pub fn has_cause(&self) -> bool {
        self.last.lock().unwrap().is_some()
    }

    /// Forgets the last error. A read calls it as it begins, once the
    /// client's queue is served, so a cause from an earlier failure is
    /// never reported for a new one.
    pub fn clear(&self) {
        *self.last.lock().unwrap() = None;
    }
}

impl ClientContext for Diagnosed {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = true;

    /// A token signed now with the container's credentials (MSK IAM).
    fn generate_oauth_token(
        &self,
        _oauthbearer_config: Option<&str>,
    ) -> Result<OAuthToken, Box<dyn std::error::Error>> {
        let signer = self
            .signer
            .as_ref()
            .ok_or("OAUTHBEARER is configured without msk_iam: qscale has no other token source")?;
        let token = signer.token(SystemTime::now())?;
        self.tokens_signed.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(expires_at_ms = token.expires_at_ms, "MSK IAM token signed");
        Ok(OAuthToken {
            token: token.token,
            principal_name: PRINCIPAL.into(),
            lifetime_ms: token.expires_at_ms,
        })
    }

    /// librdkafka logs a failed connection with facility `FAIL` (TLS
    /// handshake, SASL login, refused). rdkafka queues log events with the
    /// others: they arrive when the client is polled.
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        if (level as i32) <= (RDKafkaLogLevel::Warning as i32) {
            tracing::warn!(facility = fac, "kafka client: {message}");
            if fac == "FAIL" || fac == "SASLAUTH" || fac == "SSL" {
                *self.last.lock().unwrap() = Some(message.to_string());
            }
        } else {
            tracing::debug!(facility = fac, "kafka client: {message}");
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        // librdkafka's reasons name brokers and causes, never credentials.
        tracing::warn!(error = %error, reason, "kafka client error");
        *self.last.lock().unwrap() = Some(reason.to_string());
    }
}

impl ConsumerContext for Diagnosed {}
