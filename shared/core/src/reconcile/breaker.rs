//! A circuit breaker per audit destination for one run over many targets:
//! after a destination fails once, the run's later publishes to it fail at
//! once, and their events wait in each target's outbox for the next run.
//! A destination that accepts connections and never answers would otherwise
//! cost its full timeout (the SDK's 15 s, Kafka's 10 s) in every target's
//! reconcile, and 40 targets at 16 at a time would outlast the tick.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::audit::AuditEvent;
use super::ports::{AuditSink, PortError};

/// Wraps a sink for one run (a tick, a batch of control messages); a new
/// run starts with every destination closed (tried again).
pub struct DestinationBreaker<'a, U> {
    inner: &'a U,
    /// Destinations that failed in this run, with their first error.
    open: Mutex<BTreeMap<String, PortError>>,
}

impl<'a, U: AuditSink> DestinationBreaker<'a, U> {
    /// A breaker with every destination closed.
    pub fn new(inner: &'a U) -> Self {
        DestinationBreaker {
            inner,
            open: Mutex::new(BTreeMap::new()),
        }
    }

    /// The destinations that failed in this run, with their first error.
    pub fn open_destinations(&self) -> BTreeMap<String, PortError> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, PortError>> {
        // A panic elsewhere while holding the lock leaves a valid map.
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<U: AuditSink> AuditSink for DestinationBreaker<'_, U> {
    fn destinations(&self) -> Vec<String> {
        self.inner.destinations()
    }

    async fn publish(&self, destination: &str, event: &AuditEvent) -> Result<(), PortError> {
        if let Some(first) = self.lock().get(destination) {
            return Err(PortError::new(
                first.resource.clone(),
                format!(
                    "not tried: {destination} already failed in this run ({}); the event waits in the outbox",
                    first.message
                ),
            ));
        }
        let result = self.inner.publish(destination, event).await;
        if let Err(e) = &result {
            self.lock()
                .entry(destination.to_string())
                .or_insert_with(|| e.clone());
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::reconcile::memory::block_on_ready;

    /// `bad` always fails, `good` always succeeds; calls are counted.
    #[derive(Default)]
    struct Counting {
        bad: AtomicUsize,
        good: AtomicUsize,
    }

    impl AuditSink for Counting {
        fn destinations(&self) -> Vec<String> {
            vec!["bad".into(), "good".into()]
        }
        async fn publish(&self, destination: &str, _: &AuditEvent) -> Result<(), PortError> {
            if destination == "bad" {
                self.bad.fetch_add(1, Ordering::SeqCst);
                Err(PortError::new("bad-queue", "timed out"))
            } else {
                self.good.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        }
    }

    fn event(n: i64) -> AuditEvent {
        let at = jiff::Timestamp::from_second(1_800_000_000 + n).unwrap();
        AuditEvent::outbox_overflow("t", at, &[], "test")
    }

    #[test]
    fn a_failed_destination_is_not_tried_again_in_the_run() {
        let sink = Counting::default();
        let breaker = DestinationBreaker::new(&sink);
        for n in 0..5 {
            let bad = block_on_ready(breaker.publish("bad", &event(n))).unwrap_err();
            if n > 0 {
                assert!(
                    bad.message
                        .contains("already failed in this run (timed out)"),
                    "{bad}"
                );
                assert_eq!(bad.resource, "bad-queue");
            }
            block_on_ready(breaker.publish("good", &event(n))).unwrap();
        }
        assert_eq!(sink.bad.load(Ordering::SeqCst), 1);
        assert_eq!(sink.good.load(Ordering::SeqCst), 5);
        assert_eq!(
            breaker.open_destinations().keys().collect::<Vec<_>>(),
            ["bad"]
        );
        // The next run tries it again.
        let next = DestinationBreaker::new(&sink);
        assert!(block_on_ready(next.publish("bad", &event(9))).is_err());
        assert_eq!(sink.bad.load(Ordering::SeqCst), 2);
    }
}
