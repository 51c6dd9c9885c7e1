//! A client context that remembers why the connection failed. librdkafka
//! reports a TLS handshake or SASL login failure through its error callback
//! ("SSL handshake failed: ... certificate verify failed", "SASL
//! authentication error: Authentication failed ..."), while the request
//! that then times out says only "broker transport failure". Errors name
//! the cause with it.

use std::sync::Mutex;

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;

/// How long a failed read polls for the cause of its failure: the request
/// fails as soon as its connection does, and librdkafka's log and error
/// events for it arrive in the client's queue about half a second later
/// (seen against the test broker).
pub const DIAGNOSIS_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Keeps the last connection-level error librdkafka reported.
#[derive(Default)]
pub struct Diagnosed {
    last: Mutex<Option<String>>,
}

impl Diagnosed {
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
