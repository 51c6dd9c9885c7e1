//! Cooldowns with AWS Application Auto Scaling semantics: a scale-in waits
//! for the scale-in cooldown after the last scale-in, and any scale-out ends a
//! running scale-in cooldown; during the scale-out cooldown a scale-out only
//! happens for what exceeds the last scale-out.

use crate::engine::time::plus;
use jiff::Timestamp;

use super::context::Context;
use crate::config::HumanDuration;
use crate::engine::chain::Chain;
use crate::engine::decision::Term;
use crate::engine::forecast::forecast_step;
use crate::engine::state::ScalingAction;

/// The cooldown of the direction the count moves in (with trusted signals).
pub(in crate::engine) fn apply(ctx: &Context, chain: &mut Chain) {
    if chain.recommendation.is_none() {
        return;
    }
    let (p, previous, now, actions) = (ctx.policy, ctx.previous, ctx.now, &ctx.state.actions);
    if chain.value < previous {
        if let Some(last) = running_scale_in_cooldown(actions, now, p.scale_in.cooldown) {
            let end = plus(last.at, p.scale_in.cooldown.signed());
            if lift_scale_in_cooldown(ctx, chain, end) {
                return;
            }
            chain.set(
                Term::ScaleInCooldown,
                previous,
                format!(
                    "scale-in cooldown {} since the scale-in at {}",
                    p.scale_in.cooldown, last.at
                ),
            );
        }
    } else if chain.value > previous {
        if let Some(last) = running_scale_out_cooldown(actions, now, p.scale_out.cooldown) {
            if chain.value <= last.to {
                chain.set(
                    Term::ScaleOutCooldown,
                    previous,
                    format!(
                        "scale-out cooldown {}: the scale-out at {} already asked for {}",
                        p.scale_out.cooldown, last.at, last.to
                    ),
                );
            }
        }
    }
}

/// Whether the scale-in cooldown is lifted for the scale-in to the chain's
/// count: when a sub-hour period that beats persistence forecasts no more
/// load until the cooldown ends at `cooldown_end` than that count can take.
/// The cooldown guards against a load that returns within it; a period that
/// knows the coming minutes are quiet rules that out, and the cooldown would
/// only keep a burst's fleet idle (after a batch, minutes of it). The
/// forecast's floor still staffs the next rise `lead` ahead of it. Daily and
/// weekly periods lift nothing. With `forecast_only` the decision says what
/// it would do, and the cooldown stays.
pub(in crate::engine) fn lift_scale_in_cooldown(
    ctx: &Context,
    chain: &mut Chain,
    cooldown_end: Timestamp,
) -> bool {
    let now = ctx.now;
    let remaining_s = cooldown_end.duration_since(now).as_secs_f64().max(0.0);
    let Some(f) = ctx.sub_hour_forecast(remaining_s) else {
        return false;
    };
    let to = chain.value;
    if f.workers > to {
        return false;
    }
    let why = format!(
        "{} forecasts at most {:.1} busy until the scale-in cooldown ends at \
         {cooldown_end}: {} workers, so the cooldown is lifted for the scale-in to {to}",
        f.period, f.load, f.workers
    );
    forecast_step(chain, ctx.policy.forecast.mode, to, why)
}

/// The last scale-in if its cooldown still runs (no scale-out since).
pub(crate) fn running_scale_in_cooldown(
    actions: &[ScalingAction],
    now: Timestamp,
    cooldown: HumanDuration,
) -> Option<ScalingAction> {
    let last = actions.iter().rev().find(|a| a.to != a.from)?;
    (last.is_scale_in() && now < plus(last.at, cooldown.signed())).then_some(*last)
}

/// The last scale-out if its cooldown still runs.
pub(crate) fn running_scale_out_cooldown(
    actions: &[ScalingAction],
    now: Timestamp,
    cooldown: HumanDuration,
) -> Option<ScalingAction> {
    let last = actions.iter().rev().find(|a| a.is_scale_out())?;
    (now < plus(last.at, cooldown.signed())).then_some(*last)
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
