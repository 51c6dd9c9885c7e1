//! The forecast's rules (the maths is in `forecast`): its floor ahead of a
//! forecast rise, and the release of the scale-in window on a known-quiet
//! stretch. Its lift of the scale-in cooldown sits beside the cooldown it
//! lifts (`cooldown`).

use super::context::Context;
use crate::engine::chain::Chain;
use crate::engine::decision::Term;
use crate::engine::forecast::{
    forecast_step, forecast_workers, missed, period_change, period_name, Outlook, PeriodChange,
};

/// The scale-in window holds the most any recent decision wanted, in case
/// the load comes back. A sub-hour period that beats persistence knows
/// better whether it will within the window: the hold becomes the most the
/// period forecasts over the window ahead (never below this tick's own
/// recommendation). The forecast's floor still staffs the next rise `lead`
/// ahead of it. Daily and weekly periods only say which hours rise, so they
/// release nothing. With `forecast_only` the decision says what it would do.
pub(in crate::engine) fn release_scale_in_window(ctx: &Context, chain: &mut Chain) {
    let Some(recommendation) = chain.recommendation else {
        return;
    };
    let policy = ctx.policy;
    let held = chain.value;
    let window = policy.scale_in.stabilization;
    let Some(f) = ctx.sub_hour_forecast(window.as_secs_f64()) else {
        return;
    };
    let release = f.workers.max(recommendation);
    if held <= recommendation || release >= held {
        return;
    }
    let why = format!(
        "{} forecasts at most {:.1} busy over the next {window}: the scale-in \
         window holds {release}, not {held}",
        f.period, f.load
    );
    forecast_step(chain, policy.forecast.mode, release, why);
}

/// The forecast's floor: with `forecast_and_scale` it raises the count ahead
/// of a forecast rise (never lowers it); with `forecast_only`, and when the
/// forecast switched itself off, it is a step that changes nothing, so the
/// decision (and its audit event) says what it would have done and why.
/// Returns the period in use after this decision (`None` with the forecast
/// off), with a notice when it changed since the last decision.
pub(in crate::engine) fn floor(ctx: &Context, chain: &mut Chain) -> Option<PeriodChange> {
    let outlook = ctx.outlook?;
    let policy = ctx.policy;
    let change = period_change(ctx.state.forecast_period, outlook);
    match *outlook {
        Outlook::NoPeriod => {}
        Outlook::SwitchedOff {
            period,
            ratio,
            limit,
        } => chain.set(
            Term::Forecast,
            chain.value,
            format!("forecast off: {}", missed(period, ratio, limit)),
        ),
        Outlook::Forecast {
            period,
            ratio,
            load,
        } => {
            // Workers beyond a FIFO queue's groups would idle.
            let floor =
                forecast_workers(policy, load).min(ctx.signals.fifo_ceiling().unwrap_or(u32::MAX));
            if floor > chain.value && !super::pause::floors_paused(ctx) {
                let why = format!(
                    "{} period (error {ratio:.2}x persistence's) forecasts \
                     {load:.1} busy within {}: {floor} workers",
                    period_name(period),
                    policy.forecast.lead
                );
                forecast_step(chain, policy.forecast.mode, floor, why);
            }
        }
    }
    Some(change)
}
