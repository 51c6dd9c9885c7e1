//! HPA stabilization windows (`stabilizeRecommendationWithBehaviors`):
//! scale-out follows the minimum recommendation over its window, scale-in the
//! maximum over its window, so a brief spike or dip does not move the fleet.

use crate::engine::time::minus;
use jiff::Timestamp;

use super::context::Context;
use crate::config::HumanDuration;
use crate::engine::chain::Chain;
use crate::engine::decision::Term;
use crate::engine::state::{TargetState, TimedCount};

/// The stabilization windows over the recommendation (with trusted signals).
pub(in crate::engine) fn apply(ctx: &Context, chain: &mut Chain) {
    let Some(recommendation) = chain.recommendation else {
        return;
    };
    let p = ctx.policy;
    let (value, window) = stabilize(
        &ctx.state.recommendations,
        ctx.now,
        ctx.previous,
        recommendation,
        p.scale_out.stabilization,
        p.scale_in.stabilization,
    );
    match window {
        Some(Window::ScaleOut) => chain.set(
            Term::ScaleOutStabilization,
            value,
            format!(
                "min recommendation over the last {}",
                p.scale_out.stabilization
            ),
        ),
        Some(Window::ScaleIn) => chain.set(
            Term::ScaleInStabilization,
            value,
            format!(
                "max recommendation over the last {}",
                p.scale_in.stabilization
            ),
        ),
        None if value != chain.value => chain.set(
            Term::TargetTracking,
            value,
            "stabilized to the current count".into(),
        ),
        None => {}
    }
}

/// Remembers this decision's recommendation for the windows of later ones.
pub(in crate::engine) fn remember(next: &mut TargetState, now: Timestamp, chain: &Chain) {
    if let Some(count) = chain.recommendation {
        next.recommendations.push(TimedCount { at: now, count });
    }
}

/// The stabilized count and which window bound it, if any.
pub(crate) fn stabilize(
    history: &[TimedCount],
    now: Timestamp,
    current: u32,
    recommendation: u32,
    scale_out_window: HumanDuration,
    scale_in_window: HumanDuration,
) -> (u32, Option<Window>) {
    let mut up = recommendation;
    let mut down = recommendation;
    let out_cutoff = minus(now, scale_out_window.signed());
    let in_cutoff = minus(now, scale_in_window.signed());
    for r in history {
        if r.at > out_cutoff {
            up = up.min(r.count);
        }
        if r.at > in_cutoff {
            down = down.max(r.count);
        }
    }
    let mut result = current;
    if result < up {
        result = up;
    }
    if result > down {
        result = down;
    }
    let bound = if result == recommendation {
        None
    } else if recommendation > current {
        Some(Window::ScaleOut)
    } else {
        Some(Window::ScaleIn)
    };
    (result, bound)
}

/// Which window bound a recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Window {
    ScaleOut,
    ScaleIn,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    #[test]
    fn scale_in_follows_the_max_over_its_window() {
        let h = [
            TimedCount {
                at: at(0),
                count: 10,
            },
            TimedCount {
                at: at(100),
                count: 6,
            },
        ];
        // At 200 both are within 300s: max(10, 6, 4) = 10, no scale-in.
        assert_eq!(
            stabilize(
                &h,
                at(200),
                10,
                4,
                HumanDuration::secs(0),
                HumanDuration::secs(300)
            ),
            (10, Some(Window::ScaleIn))
        );
        // At 350 the 10 has left the window: max(6, 4) = 6.
        assert_eq!(
            stabilize(
                &h,
                at(350),
                10,
                4,
                HumanDuration::secs(0),
                HumanDuration::secs(300)
            ),
            (6, Some(Window::ScaleIn))
        );
    }

    #[test]
    fn scale_out_follows_the_min_over_its_window() {
        let h = [TimedCount {
            at: at(0),
            count: 3,
        }];
        assert_eq!(
            stabilize(
                &h,
                at(30),
                3,
                9,
                HumanDuration::secs(60),
                HumanDuration::secs(300)
            ),
            (3, Some(Window::ScaleOut))
        );
        assert_eq!(
            stabilize(
                &h,
                at(61),
                3,
                9,
                HumanDuration::secs(60),
                HumanDuration::secs(300)
            ),
            (9, None)
        );
    }
}
