//! The pieces the forecast's rules are built from (`rules::forecast` for
//! its floor and the scale-in window, `rules::cooldown` for the cooldown
//! lift): the sub-hour forecast ahead, the workers for a load, the step in
//! either mode, and the notice when the period in use changes.

use jiff::Timestamp;

use super::outlook::{period_name, seasonal_minutes_ahead, Outlook};
use super::season::PERIODS;
use crate::config::{ForecastMode, PolicyConfig};
use crate::engine::chain::Chain;
use crate::engine::decision::Term;
use crate::engine::load_history::LoadHistory;
use crate::engine::signals::sizing::workers_for_load;

/// The period in use after this decision, and a notice when it changed.
pub(crate) struct PeriodChange {
    /// Minutes; `None` when no period is used.
    pub period: Option<u32>,
    /// Switched off, on, or to another period since the last decision:
    /// worth an audit event of its own.
    pub notice: Option<String>,
}

/// What the period in use becomes under `outlook`, given the one `was` in use.
pub(crate) fn period_change(was: Option<u32>, outlook: &Outlook) -> PeriodChange {
    let (is, change) = match outlook {
        Outlook::NoPeriod => (None, "no period beats persistence any more".to_string()),
        Outlook::SwitchedOff {
            period,
            ratio,
            limit,
        } => (None, missed(*period, *ratio, *limit)),
        Outlook::Forecast { period, ratio, .. } => (
            Some(*period as u32),
            format!(
                "{} period, error {ratio:.2}x persistence's",
                period_name(*period)
            ),
        ),
    };
    let notice = match (was, is) {
        (Some(w), None) => Some(format!(
            "forecast switched off (was a {} period): {change}",
            period_name(w as usize)
        )),
        (None, Some(_)) => Some(format!("forecast on: {change}")),
        (Some(w), Some(i)) if w != i => Some(format!(
            "forecast period changed from {w} to {i} minutes: {change}"
        )),
        _ => None,
    };
    PeriodChange { period: is, notice }
}

/// Why a switched-off period is not used.
pub(crate) fn missed(period: usize, ratio: f64, limit: f64) -> String {
    format!(
        "the {} period missed in its last period \
         (error {ratio:.2}x persistence's, needs < {limit}x)",
        period_name(period)
    )
}

/// What a sub-hour period that beats persistence forecasts over the next
/// `ahead_s` seconds: the most busy workers and the workers for them.
pub(crate) struct SubHourForecast {
    /// Period and ratio, as the reasons name them.
    pub period: String,
    pub load: f64,
    pub workers: u32,
}

/// The sub-hour forecast over the next `ahead_s`, if forecasting is on and a
/// sub-hour period is in use. Daily and weekly periods only say which hours
/// rise, not what the next minutes hold: `None` for them.
pub(crate) fn sub_hour_forecast(
    history: &LoadHistory,
    policy: &PolicyConfig,
    now: Timestamp,
    outlook: &Outlook,
    ahead_s: f64,
) -> Option<SubHourForecast> {
    let Outlook::Forecast { period, ratio, .. } = *outlook else {
        return None;
    };
    if period > *PERIODS.end() || policy.forecast.mode == ForecastMode::Off {
        return None;
    }
    let load = seasonal_minutes_ahead(history, now, period, ahead_s);
    Some(SubHourForecast {
        period: format!(
            "{} period (error {ratio:.2}x persistence's)",
            period_name(period)
        ),
        load,
        workers: forecast_workers(policy, load),
    })
}

/// A forecast step: `forecast_and_scale` sets the count to `value`;
/// `forecast_only` keeps it and says what it would have done. Returns
/// whether it was applied.
pub(in crate::engine) fn forecast_step(
    chain: &mut Chain,
    mode: ForecastMode,
    value: u32,
    why: String,
) -> bool {
    match mode {
        ForecastMode::ForecastAndScale => {
            chain.set(Term::Forecast, value, why);
            true
        }
        ForecastMode::ForecastOnly => {
            chain.set(
                Term::Forecast,
                chain.value,
                format!("forecast_only, not applied: {why}"),
            );
            false
        }
        ForecastMode::Off => false,
    }
}

/// Workers for a forecast load, sized as the signals size the load they see.
pub(crate) fn forecast_workers(policy: &PolicyConfig, load: f64) -> u32 {
    workers_for_load(load, policy)
}
