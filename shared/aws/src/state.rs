//! Per-target state in DynamoDB: one item per target (`target` key), the
//! state as JSON, the audit outbox as JSON (`outbox`, absent when empty),
//! and a `version` every write is conditional on, so two invocations can
//! never both act on one target. Items expire 30 days after
//! their last write (TTL attribute `expires_at`) if a target is removed.
//!
//! Each write also stores a random `write_id`. A write whose answer is lost
//! (a timeout, a 5xx after the fact, or the SDK's retry of a write that had
//! already taken effect failing its own condition) is ambiguous; the store
//! then reads the item back, and if it holds this write's id, the write
//! happened and `save` says so. Without that, an invocation that did claim
//! the tick would report a failure or a yield beside the claimed event (the
//! chaos soak measured 55 duplicates in 100 ticks).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

use super::{describe, error_code, ApiCalls};
use qscale_core::engine::TargetState;
use qscale_core::reconcile::{
    outbox, PendingAudit, PortError, SaveError, StateStore, VersionedState,
};

const TTL_SECONDS: i64 = 30 * 24 * 3600;

/// State store on a DynamoDB table with partition key `target` (string).
pub struct DynamoStateStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    calls: Arc<ApiCalls>,
    prefetched: Mutex<HashMap<String, Result<VersionedState, PortError>>>,
}

impl DynamoStateStore {
    /// A store on `table`.
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        calls: Arc<ApiCalls>,
    ) -> Self {
        DynamoStateStore {
            client,
            table: table.into(),
            calls,
            prefetched: Mutex::new(HashMap::new()),
        }
    }

    fn resource(&self, target: &str) -> String {
        format!("state of {target} in dynamodb table {}", self.table)
    }

    fn parse(
        &self,
        target: &str,
        item: &HashMap<String, AttributeValue>,
    ) -> Result<VersionedState, PortError> {
        // A state that does not parse is never guessed at: no action, and
        // the error says how to start the target afresh.
        let bad = |what: String| {
            PortError::new(
                self.resource(target),
                format!("{what}; no action until it is fixed or reset (`qscale state reset {target} --yes`)"),
            )
        };
        let version = match item.get("version") {
            Some(AttributeValue::N(n)) => n
                .parse()
                .map_err(|_| bad(format!("version {n:?} is not a number")))?,
            other => return Err(bad(format!("version attribute is {other:?}, not a number"))),
        };
        let state = match item.get("state") {
            Some(AttributeValue::S(json)) => TargetState::from_json(json).map_err(bad)?,
            other => {
                return Err(bad(format!(
                    "state attribute is {other:?}, not a JSON string"
                )))
            }
        };
        let outbox = match item.get("outbox") {
            None => Vec::new(),
            Some(AttributeValue::S(json)) => outbox::from_json(json).map_err(bad)?,
            Some(other) => {
                return Err(bad(format!(
                    "outbox attribute is {other:?}, not a JSON string"
                )))
            }
        };
        Ok(VersionedState {
            state,
            outbox,
            version,
        })
    }

    /// Reads the state of many targets, 100 per `BatchGetItem` (consistent reads).
    pub async fn prefetch(&self, targets: &[&str]) {
        for chunk in targets.chunks(100) {
            let keys = chunk
                .iter()
                .map(|t| HashMap::from([("target".to_string(), AttributeValue::S(t.to_string()))]))
                .collect();
            let request = match KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
            {
                Ok(r) => r,
                Err(_) => return,
            };
            self.calls.count("dynamodb:BatchGetItem");
            let Ok(out) = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
            else {
                // Not fatal: each target falls back to its own GetItem.
                return;
            };
            let mut prefetched = self.prefetched.lock().unwrap();
            let unprocessed: Vec<String> = out
                .unprocessed_keys()
                .and_then(|u| u.get(&self.table))
                .map(|k| {
                    k.keys()
                        .iter()
                        .filter_map(|key| match key.get("target") {
                            Some(AttributeValue::S(s)) => Some(s.clone()),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            let items = out
                .responses()
                .and_then(|r| r.get(&self.table))
                .cloned()
                .unwrap_or_default();
            for t in chunk {
                if unprocessed.iter().any(|u| u == t) {
                    continue;
                }
                let found = items
                    .iter()
                    .find(|i| matches!(i.get("target"), Some(AttributeValue::S(s)) if s == t));
                let value = match found {
                    Some(item) => self.parse(t, item),
                    None => Ok(VersionedState::default()),
                };
                prefetched.insert(t.to_string(), value);
            }
        }
    }

    /// Deletes a target's state: its next reconcile starts afresh, with
    /// safe adoption (no scale-in before one scale-in window).
    pub async fn reset(&self, target: &str) -> Result<bool, PortError> {
        self.calls.count("dynamodb:DeleteItem");
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("target", AttributeValue::S(target.to_string()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| PortError::new(self.resource(target), describe(&e)))?;
        Ok(out.attributes().is_some())
    }

    /// Reads one target's state (version 0 and empty when it has none).
    pub async fn get(&self, target: &str) -> Result<VersionedState, PortError> {
        match self.read_item(target, None).await? {
            Some(item) => self.parse(target, &item),
            None => Ok(VersionedState::default()),
        }
    }

    /// The `write_id` of the item's last write, when it can be read.
    async fn written_by(&self, target: &str) -> Option<String> {
        match self
            .read_item(target, Some("write_id"))
            .await
            .ok()??
            .get("write_id")?
        {
            AttributeValue::S(id) => Some(id.clone()),
            _ => None,
        }
    }

    /// The item (or the attributes of `projection`), by a consistent `GetItem`.
    async fn read_item(
        &self,
        target: &str,
        projection: Option<&str>,
    ) -> Result<Option<HashMap<String, AttributeValue>>, PortError> {
        self.calls.count("dynamodb:GetItem");
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("target", AttributeValue::S(target.to_string()))
            .set_projection_expression(projection.map(str::to_string))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| PortError::new(self.resource(target), describe(&e)))?;
        Ok(out.item().cloned())
    }
}

impl StateStore for DynamoStateStore {
    async fn load(&self, target: &str) -> Result<VersionedState, PortError> {
        let prefetched = self.prefetched.lock().unwrap().remove(target);
        match prefetched {
            Some(v) => v,
            None => self.get(target).await,
        }
    }

    async fn save(
        &self,
        target: &str,
        state: &TargetState,
        outbox: &[PendingAudit],
        expected: u64,
    ) -> Result<u64, SaveError> {
        let version = expected + 1;
        let encode = |what: &str, e: serde_json::Error| {
            PortError::new(self.resource(target), format!("cannot encode {what}: {e}"))
        };
        let json = serde_json::to_string(state).map_err(|e| encode("state", e))?;
        let now = jiff::Timestamp::now();
        let write_id = format!("{:032x}", fastrand::u128(..));
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("target", AttributeValue::S(target.to_string()))
            .item("version", AttributeValue::N(version.to_string()))
            .item("state", AttributeValue::S(json))
            .item("updated_at", AttributeValue::S(now.to_string()))
            .item("write_id", AttributeValue::S(write_id.clone()))
            .item(
                "expires_at",
                AttributeValue::N((now.as_second() + TTL_SECONDS).to_string()),
            );
        if !outbox.is_empty() {
            let json = serde_json::to_string(outbox).map_err(|e| encode("outbox", e))?;
            put = put.item("outbox", AttributeValue::S(json));
        }
        // DynamoDB rejects declared names a condition does not use: declare per branch.
        put = if expected == 0 {
            put.condition_expression("attribute_not_exists(#t)")
                .expression_attribute_names("#t", "target")
        } else {
            put.condition_expression("#v = :expected")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
        };
        self.calls.count("dynamodb:PutItem");
        let error = match put.send().await {
            Ok(_) => return Ok(version),
            Err(e) if error_code(&e) == Some("ConditionalCheckFailedException") => {
                SaveError::Conflict {
                    target: target.to_string(),
                    expected,
                }
            }
            Err(e) => SaveError::Store(PortError::new(self.resource(target), describe(&e))),
        };
        // The write may have happened although its answer says otherwise.
        match self.written_by(target).await {
            Some(id) if id == write_id => {
                tracing::info!(target_name = %target, %error, "the write happened although its answer was an error");
                Ok(version)
            }
            _ => Err(error),
        }
    }
}
