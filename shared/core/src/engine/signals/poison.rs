//! Poison messages: a message that fails returns after its visibility
//! timeout and looks like load until SQS moves it to the dead-letter queue
//! (`maxReceiveCount`). Scaling out on it burns money and only shortens its
//! way there. Suspected when the dead-letter queue grows, by at least a
//! tenth of the arrivals, while the queue does not drain; the rule
//! (`rules::poison`) then holds scale-out.

use jiff::Timestamp;

use crate::engine::observation::SqsDepth;
use crate::engine::state::TimedValue;

/// Dead-lettering below this share of the arrivals is a trickle that must
/// not hold back a real rise.
const SHARE: f64 = 0.1;

/// Records this reading's dead-letter depth beside the previous one in
/// `samples` and returns why poison is suspected, if it is.
///
/// `growth` is the queue's signed growth (msg/s), `arrivals` the estimated
/// arrival rate (msg/s) when the policy knows a processing time.
pub(super) fn suspect(
    depth: &SqsDepth,
    observed_at: Timestamp,
    samples: &mut Vec<TimedValue>,
    growth: Option<f64>,
    arrivals: Option<f64>,
) -> Option<String> {
    let Some(now) = depth.dead_lettered else {
        samples.clear();
        return None;
    };
    // A replay of the same observation compares with the same earlier sample.
    samples.retain(|s| s.at < observed_at);
    let keep = samples.len().saturating_sub(1);
    samples.drain(..keep);
    let previous = samples.last().copied();
    samples.push(TimedValue {
        at: observed_at,
        value: now as f64,
    });
    let previous = previous?;
    let added = now as f64 - previous.value;
    let dt = observed_at.duration_since(previous.at).as_secs_f64();
    if added <= 0.0 || dt <= 0.0 {
        return None;
    }
    let growth = growth.unwrap_or(0.0);
    if growth < 0.0 {
        return None;
    }
    let rate = added / dt;
    let share = match arrivals {
        Some(a) if a > 0.0 => {
            let share = rate / a;
            if share < SHARE {
                return None;
            }
            format!(", {:.0}% of the {a:.1} msg/s arriving", share * 100.0)
        }
        _ => String::new(),
    };
    Some(format!(
        "dead-letter queue grew by {added:.0} in {dt:.0} s ({rate:.2} msg/s{share}) while the queue did not drain (growth {growth:.1} msg/s)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn with_dlq(n: u64) -> SqsDepth {
        SqsDepth {
            visible: 100,
            dead_lettered: Some(n),
            ..SqsDepth::default()
        }
    }

    #[test]
    fn a_growing_dead_letter_queue_on_a_queue_that_does_not_drain_is_poison() {
        let mut samples = Vec::new();
        assert_eq!(
            suspect(&with_dlq(10), at(0), &mut samples, Some(0.0), Some(5.0)),
            None,
            "one reading has nothing to compare"
        );
        let why =
            suspect(&with_dlq(40), at(15), &mut samples, Some(0.5), Some(5.0)).expect("poison");
        assert!(
            why.contains("grew by 30 in 15 s (2.00 msg/s, 40% of the 5.0 msg/s arriving)"),
            "{why}"
        );
        // A replay of the same reading finds the same earlier sample.
        assert_eq!(
            suspect(&with_dlq(40), at(15), &mut samples, Some(0.5), Some(5.0)),
            Some(why)
        );
        // Draining: the fleet completes more than arrives, whatever fails.
        assert_eq!(
            suspect(&with_dlq(70), at(30), &mut samples, Some(-2.0), Some(5.0)),
            None
        );
        // A trickle (1 in 15 s against 50 msg/s) holds nothing back.
        assert_eq!(
            suspect(&with_dlq(71), at(45), &mut samples, Some(3.0), Some(50.0)),
            None
        );
        // Not growing.
        assert_eq!(
            suspect(&with_dlq(71), at(60), &mut samples, Some(3.0), Some(5.0)),
            None
        );
        // No dead-letter queue: the samples go.
        let plain = SqsDepth::default();
        assert_eq!(suspect(&plain, at(75), &mut samples, None, None), None);
        assert!(samples.is_empty());
    }
}
