//! What each audit destination received, counted by event id: the soaks
//! check every claimed event arrived at each destination, and how often.

use std::collections::BTreeMap;

use super::kafka::{create_topic, read_all};
use super::{unique, Moto};

/// A soak's state table and its three audit destinations, created fresh.
pub struct SoakResources {
    /// The state table.
    pub table: String,
    /// The SQS audit queue's URL.
    pub audit_queue: String,
    /// The EventBridge bus.
    pub bus: String,
    /// The queue the bus's rule forwards to.
    pub bus_sink: String,
    /// The audit topic (1 partition).
    pub audit_topic: String,
}

impl SoakResources {
    /// Creates them, named after `prefix`.
    pub async fn create(moto: &Moto, prefix: &str) -> SoakResources {
        let table = unique(&format!("{prefix}-state"));
        moto.state_table(&table).await;
        let audit_queue = moto
            .queue_with(&unique(&format!("{prefix}-audit")), 0)
            .await;
        let (bus, bus_sink) = moto
            .event_bus_to_queue(&unique(&format!("{prefix}-bus")))
            .await;
        let audit_topic = unique(&format!("{prefix}-audit"));
        create_topic(&audit_topic, 1).await;
        SoakResources {
            table,
            audit_queue,
            bus,
            bus_sink,
            audit_topic,
        }
    }
}

/// Ids received per destination (`sqs`, `eventbridge`, `kafka`), with counts.
pub type Received = BTreeMap<&'static str, BTreeMap<String, usize>>;

fn count(received: &mut Received, destination: &'static str, id: &serde_json::Value) {
    let id = id.as_str().expect("audit event id").to_string();
    *received
        .entry(destination)
        .or_default()
        .entry(id)
        .or_default() += 1;
}

/// Takes what the SQS audit queue and the bus's queue hold so far.
pub async fn drain_aws(moto: &Moto, audit_queue: &str, bus_sink: &str, received: &mut Received) {
    for body in moto.drain(audit_queue).await {
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        count(received, "sqs", &v["id"]);
    }
    for body in moto.drain(bus_sink).await {
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        count(received, "eventbridge", &v["detail"]["id"]);
    }
}

/// Reads the whole audit topic.
pub async fn read_kafka(topic: &str, received: &mut Received) {
    let topic = topic.to_string();
    let records = tokio::task::spawn_blocking(move || read_all(&topic))
        .await
        .unwrap();
    for (_, payload) in records {
        let v: serde_json::Value = serde_json::from_str(&payload).unwrap();
        count(received, "kafka", &v["id"]);
    }
}
