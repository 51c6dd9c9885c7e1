//! Cooldowns with AWS Application Auto Scaling semantics: a scale-in waits
//! for the scale-in cooldown after the last scale-in, and any scale-out ends a
//! running scale-in cooldown; during the scale-out cooldown a scale-out only
//! happens for what exceeds the last scale-out.

use jiff::Timestamp;

use super::state::ScalingAction;
use crate::config::HumanDuration;

/// The last scale-in if its cooldown still runs (no scale-out since).
pub(crate) fn running_scale_in_cooldown(
    actions: &[ScalingAction],
    now: Timestamp,
    cooldown: HumanDuration,
) -> Option<ScalingAction> {
    let last = actions.iter().rev().find(|a| a.to != a.from)?;
    (last.is_scale_in() && now < last.at + cooldown.signed()).then_some(*last)
}

/// The last scale-out if its cooldown still runs.
pub(crate) fn running_scale_out_cooldown(
    actions: &[ScalingAction],
    now: Timestamp,
    cooldown: HumanDuration,
) -> Option<ScalingAction> {
    let last = actions.iter().rev().find(|a| a.is_scale_out())?;
    (now < last.at + cooldown.signed()).then_some(*last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    #[test]
    fn scale_in_cooldown_runs_until_it_expires_or_a_scale_out() {
        let cd = HumanDuration::secs(300);
        let a = vec![ScalingAction {
            at: at(0),
            from: 10,
            to: 5,
        }];
        assert!(running_scale_in_cooldown(&a, at(299), cd).is_some());
        assert!(running_scale_in_cooldown(&a, at(300), cd).is_none());
        let mut b = a.clone();
        b.push(ScalingAction {
            at: at(100),
            from: 5,
            to: 8,
        });
        assert!(running_scale_in_cooldown(&b, at(200), cd).is_none());
    }

    #[test]
    fn scale_out_cooldown_tracks_the_last_scale_out() {
        let cd = HumanDuration::secs(60);
        let a = vec![
            ScalingAction {
                at: at(0),
                from: 1,
                to: 4,
            },
            ScalingAction {
                at: at(10),
                from: 4,
                to: 3,
            },
        ];
        assert_eq!(
            running_scale_out_cooldown(&a, at(59), cd).map(|a| a.to),
            Some(4)
        );
        assert!(running_scale_out_cooldown(&a, at(60), cd).is_none());
    }
}
