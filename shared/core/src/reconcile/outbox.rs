//! The audit outbox: events written into the target's state item by the
//! same conditional write that claims the tick, published after acting, each
//! destination acknowledging on its own, and removed once all have. Whatever
//! is still pending is published first by the target's next reconcile, in any
//! invocation. Delivery is at least once per destination; a destination that
//! acknowledged an event is never sent it again because another one failed.

use std::collections::BTreeSet;

use jiff::{SignedDuration, Timestamp};

use super::audit::AuditEvent;
pub use super::audit::PendingAudit;
use super::join::join_all;
use super::ports::AuditSink;

/// At most this many undelivered events per target (about 1 KB each: far
/// below DynamoDB's 400 KB item limit).
pub const OUTBOX_MAX_EVENTS: usize = 50;

/// An event still undelivered after this long is dropped (logged in full and
/// audited): a destination down for a day is an incident of its own.
pub const OUTBOX_MAX_AGE: SignedDuration = SignedDuration::from_hours(24);

/// Attempts per destination and event in one reconcile (the SDKs retry
/// inside each attempt too). Under a [`super::breaker::DestinationBreaker`]
/// (every run of the Lambdas and the CLI) a failed first attempt opens it,
/// so the second fails at once and the event waits for the next run.
const ATTEMPTS: usize = 2;

/// Reads a stored outbox, naming the path of what does not parse.
pub fn from_json(text: &str) -> Result<Vec<PendingAudit>, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de)
        .map_err(|e| format!("outbox is not valid: {}: {}", e.path(), e.inner()))
}

/// Drops what is too old, then the oldest beyond room for `incoming` more
/// events and an overflow notice. Returns the overflow event when something
/// was dropped; each dropped event is logged in full.
pub fn enforce_bounds(
    outbox: &mut Vec<PendingAudit>,
    target: &str,
    now: Timestamp,
    incoming: usize,
) -> Option<AuditEvent> {
    let mut dropped = Vec::new();
    let mut why = Vec::new();
    let before = outbox.len();
    outbox.retain(|p| {
        let stale = now.duration_since(p.event.at) > OUTBOX_MAX_AGE;
        if stale {
            dropped.push(p.clone());
        }
        !stale
    });
    if outbox.len() < before {
        why.push(format!("older than {}h", OUTBOX_MAX_AGE.as_hours()));
    }
    // Room for the incoming events and the overflow notice itself.
    let room = OUTBOX_MAX_EVENTS.saturating_sub(incoming + 1);
    if outbox.len() > room {
        let excess = outbox.len() - room;
        dropped.extend(outbox.drain(..excess));
        why.push(format!("more than {OUTBOX_MAX_EVENTS} pending"));
    }
    if dropped.is_empty() {
        return None;
    }
    for p in &dropped {
        let body = serde_json::to_string(&p.event).unwrap_or_default();
        tracing::error!(
            target_name = target,
            id = %p.event.id,
            delivered = ?p.delivered,
            event = %body,
            "audit event dropped from the outbox undelivered"
        );
    }
    let ids: Vec<String> = dropped.iter().map(|p| p.event.id.clone()).collect();
    Some(AuditEvent::outbox_overflow(
        target,
        now,
        &ids,
        &why.join(", "),
    ))
}

/// What one delivery pass did.
#[derive(Debug, Default)]
pub struct Delivery {
    /// Ids of the events a destination acknowledged in this pass.
    pub published: Vec<String>,
    /// Whether the outbox changed (an acknowledgment, or an event removed).
    pub changed: bool,
}

/// Publishes every pending event to every destination that has not
/// acknowledged it, oldest first, to all destinations at once; removes what
/// all of them have.
pub async fn deliver<U: AuditSink>(sink: &U, outbox: &mut Vec<PendingAudit>) -> Delivery {
    let destinations = sink.destinations();
    let mut published = Vec::new();
    // A destination that failed is not tried again in this reconcile: a
    // down broker would otherwise cost its timeout once per pending event.
    let mut down = BTreeSet::new();
    for pending in outbox.iter_mut() {
        let open: Vec<&String> = destinations
            .iter()
            .filter(|d| !pending.delivered.contains(*d) && !down.contains(*d))
            .collect();
        let event = &pending.event;
        let results = join_all(
            open.iter()
                .map(|d| publish_with_retry(sink, d, event))
                .collect(),
        )
        .await;
        let mut acknowledged = false;
        for (destination, ok) in open.into_iter().zip(results) {
            if ok {
                pending.delivered.insert(destination.clone());
                acknowledged = true;
            } else {
                down.insert(destination.clone());
            }
        }
        if acknowledged {
            published.push(pending.event.id.clone());
        }
    }
    let before = outbox.len();
    outbox.retain(|p| !destinations.iter().all(|d| p.delivered.contains(d)));
    let changed = !published.is_empty() || outbox.len() != before;
    Delivery { published, changed }
}

/// Publishes an event that has no outbox to wait in (nothing was claimed:
/// dry runs, yields, unreadable state) to every destination, best effort;
/// what fails is logged in full.
pub async fn publish_unclaimed<U: AuditSink>(sink: &U, event: &AuditEvent) {
    let destinations = sink.destinations();
    join_all(
        destinations
            .iter()
            .map(|d| publish_with_retry(sink, d, event))
            .collect(),
    )
    .await;
}

async fn publish_with_retry<U: AuditSink>(sink: &U, destination: &str, event: &AuditEvent) -> bool {
    let mut last = None;
    for _ in 0..ATTEMPTS {
        match sink.publish(destination, event).await {
            Ok(()) => return true,
            Err(e) => last = Some(e),
        }
    }
    let body = serde_json::to_string(event).unwrap_or_default();
    tracing::error!(
        destination,
        id = %event.id,
        error = %last.map(|e| e.to_string()).unwrap_or_default(),
        event = %body,
        "audit event not delivered (yet)"
    );
    false
}
