//! Poison messages: a message that fails stays in flight for the queue's
//! visibility timeout, returns, and fails again until SQS moves it to the
//! dead-letter queue after `maxReceiveCount` receives. All that time it
//! looks like load, in flight above all, and scaling out on it burns money
//! and only shortens its way there.
//!
//! A dead-letter queue growing at `d` msg/s keeps about `d × maxReceiveCount
//! × visibility timeout` failing messages in flight. Poison is suspected when
//! that is at least a tenth of the queue's in-flight count while the queue
//! does not drain; the rule (`rules::poison`) then holds scale-out. A
//! trickle of failures is below the tenth and holds nothing back.

use jiff::Timestamp;

use crate::engine::observation::SqsDepth;
use crate::engine::state::TimedValue;

/// Failing messages below this share of the in-flight count are a trickle.
const SHARE: f64 = 0.1;
/// SQS's defaults where the queue does not say (`maxReceiveCount` is
/// required in a redrive policy; 30 s is SQS's default visibility timeout).
const DEFAULT_RECEIVES: u32 = 1;
const DEFAULT_VISIBILITY_S: u32 = 30;

/// Records this reading's dead-letter depth beside the previous one in
/// `samples` and returns why poison is suspected, if it is. `growth` is the
/// queue's signed growth (msg/s).
pub(super) fn suspect(
    depth: &SqsDepth,
    observed_at: Timestamp,
    samples: &mut Vec<TimedValue>,
    growth: Option<f64>,
) -> Option<String> {
    let Some(now) = depth.dead_lettered else {
        samples.clear();
        return None;
    };
    let previous = TimedValue::record_beside_previous(samples, observed_at, now as f64)?;
    let added = now as f64 - previous.value;
    let dt = observed_at.duration_since(previous.at).as_secs_f64();
    let growth = growth.unwrap_or(0.0);
    if added <= 0.0 || dt <= 0.0 || growth < 0.0 {
        return None;
    }
    let rate = added / dt;
    let receives = depth.max_receive_count.unwrap_or(DEFAULT_RECEIVES).max(1);
    let visibility = depth.visibility_timeout_s.unwrap_or(DEFAULT_VISIBILITY_S);
    let failing = rate * f64::from(receives) * f64::from(visibility);
    let share = failing / (depth.in_flight.max(1) as f64);
    if share < SHARE {
        return None;
    }
    Some(format!(
        "dead-letter queue grew by {added:.0} in {dt:.0} s ({rate:.2} msg/s): about {failing:.0} failing \
         messages in flight ({rate:.2} × maxReceiveCount {receives} × visibility {visibility} s), {:.0}% of \
         the {} in flight, while the queue did not drain (growth {growth:.1} msg/s)",
        (share * 100.0).min(100.0),
        depth.in_flight
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn with_dlq(in_flight: u64, n: u64) -> SqsDepth {
        SqsDepth {
            visible: 100,
            in_flight,
            dead_lettered: Some(n),
            max_receive_count: Some(5),
            visibility_timeout_s: Some(30),
            ..SqsDepth::default()
        }
    }

    #[test]
    fn a_growing_dead_letter_queue_on_a_queue_that_does_not_drain_is_poison() {
        let mut samples = Vec::new();
        assert_eq!(
            suspect(&with_dlq(400, 10), at(0), &mut samples, Some(0.0)),
            None,
            "one reading has nothing to compare"
        );
        // 2 msg/s dead-lettered: 2 × 5 × 30 = 300 failing of 400 in flight.
        let why = suspect(&with_dlq(400, 40), at(15), &mut samples, Some(0.5)).expect("poison");
        assert!(
            why.contains("grew by 30 in 15 s (2.00 msg/s): about 300 failing messages in flight (2.00 × maxReceiveCount 5 × visibility 30 s), 75% of the 400 in flight"),
            "{why}"
        );
        // A replay of the same reading finds the same earlier sample.
        assert_eq!(
            suspect(&with_dlq(400, 40), at(15), &mut samples, Some(0.5)),
            Some(why)
        );
        // Draining: the fleet completes more than arrives, whatever fails.
        assert_eq!(
            suspect(&with_dlq(400, 70), at(30), &mut samples, Some(-2.0)),
            None
        );
        // A trickle: 1 in 15 s keeps 10 failing of 400 in flight.
        assert_eq!(
            suspect(&with_dlq(400, 71), at(45), &mut samples, Some(3.0)),
            None
        );
        // Not growing.
        assert_eq!(
            suspect(&with_dlq(400, 71), at(60), &mut samples, Some(3.0)),
            None
        );
        // No dead-letter queue: the samples go.
        let plain = SqsDepth::default();
        assert_eq!(suspect(&plain, at(75), &mut samples, None), None);
        assert!(samples.is_empty());
    }
}
