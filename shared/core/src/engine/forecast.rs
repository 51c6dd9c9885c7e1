//! Predictive pre-scaling from the target's own history.
//!
//! Every decision records the arrival load (busy workers the arrivals need:
//! for SQS the in-flight count plus the queue's signed growth × processing
//! time, i.e. completions plus what piled up; for Kafka the production rate ×
//! processing time) into a per-minute history in the target's state, the
//! mean of the minute's decisions, bounded to [`HISTORY_MINUTES`]. A batch of
//! 20,000 messages at 200 ms thus counts as the 67 workers that clear it in a
//! minute, not as the spike one tick sees. A period `P` (5 to 60 minutes) is
//! accepted when the seasonal forecast (the mean load `P` and `2P` minutes
//! earlier, or `P` alone where `2P` is not in the history) predicts the
//! last `2P` minutes with less than half the error of the persistence
//! forecast (the load a minute earlier). Persistence is what a
//! reactive scaler effectively assumes, so a period is used only where it
//! knows better. That takes two periods of history. The same test on the
//! most recent period alone switches a stale period off again. The forecast
//! is the most the period predicts for the next `lead`.
//!
//! Daily and weekly periods are found the same way on a coarser series kept
//! beside it: the mean load per hour over [`HISTORY_HOURS`] (15 days), tried
//! when no sub-hour period is in use. The daily period needs two days of
//! history, the weekly one two weeks.
//!
//! Anchor: AWS predictive scaling forecasts hourly from at least 24 h of
//! history. This works at minute resolution, on sub-hour periods, after two
//! periods, and hourly on daily and weekly ones.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::chain::Chain;
use super::decision::Term;
use super::state::TargetState;
use crate::config::{ForecastMode, PolicyConfig};

/// Minutes of load kept: three hours, enough for three 60-minute periods.
pub const HISTORY_MINUTES: usize = 180;
/// Hours of load kept: 15 days, two weekly periods and a day.
pub const HISTORY_HOURS: usize = 360;
/// Daily and weekly periods, hours.
const LONG_PERIODS: [usize; 2] = [24, 168];
/// Shortest and longest period tried, minutes.
const PERIODS: std::ops::RangeInclusive<usize> = 5..=60;
/// A period must cut the persistence forecast's error at least this much.
const MAX_ERROR_RATIO: f64 = 0.5;
/// A period in use is kept while its error stays below this share of
/// persistence's (hysteresis: a ratio hovering at the acceptance threshold
/// would switch the forecast on and off from one minute to the next).
const KEEP_ERROR_RATIO: f64 = 0.75;
/// Periods a sub-hour forecast averages. The per-minute load estimates are
/// noisy (±20% inside a steady burst) and the load one period earlier
/// carries that noise into the forecast's error twice: two periods halve
/// the forecast's share of it. More would remember the bursts a reactive
/// fleet spread over extra minutes before the forecast staffed them (three
/// cost 3-4% more worker-hours on the batch dumps). Daily and weekly
/// periods use the last one only (an average of days would mix weekdays
/// with weekends).
const MINUTE_SEASONS: usize = 2;

/// The per-minute load history in a target's state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadHistory {
    /// Start of the minute of `minutes[0]`, seconds since the epoch.
    pub first_minute: i64,
    /// Mean arrival load of each minute, busy workers, oldest first.
    pub minutes: Vec<f64>,
    /// Decisions averaged into the last minute so far.
    #[serde(default)]
    pub last_samples: u32,
    /// Start of the hour of `hours[0]`, hours since the epoch.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub first_hour: i64,
    /// Mean arrival load of each hour, busy workers, oldest first (daily and
    /// weekly periods).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hours: Vec<f64>,
    /// Decisions averaged into the last hour so far.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hour_samples: u32,
}

fn is_zero<T: Default + PartialEq>(n: &T) -> bool {
    *n == T::default()
}

/// Adds `load` to the mean of slot `slot` of a series whose first slot is
/// `first`, keeping the last `keep` slots.
fn record_into(
    series: &mut Vec<f64>,
    first: &mut i64,
    samples: &mut u32,
    slot: i64,
    load: f64,
    keep: usize,
    precision: f64,
) {
    let index = slot - *first;
    if index < 0 && !series.is_empty() {
        // Older than the history (a late or skewed clock): nothing to add.
        return;
    }
    if series.is_empty() || index as usize >= series.len() + keep {
        // Empty, or a gap longer than the history.
        *series = vec![round_to(load, precision)];
        *first = slot;
        *samples = 1;
        return;
    }
    let index = index as usize;
    if index >= series.len() {
        series.resize(index + 1, 0.0);
        *samples = 0;
    } else if index + 1 < series.len() {
        // A late decision for an earlier slot: that slot is closed.
        return;
    }
    let n = *samples as f64;
    let value = &mut series[index];
    *value = round_to((*value * n + load) / (n + 1.0), precision);
    *samples += 1;
    let excess = series.len().saturating_sub(keep);
    series.drain(..excess);
    *first += excess as i64;
}

impl LoadHistory {
    /// Nothing recorded.
    pub fn is_empty(&self) -> bool {
        self.minutes.is_empty()
    }

    /// Records `load` busy workers at `now` into its minute's and its hour's
    /// mean; minutes and hours without a decision stay at 0, and the oldest
    /// are dropped.
    pub fn record(&mut self, now: Timestamp, load: f64) {
        let load = load.max(0.0);
        let second = now.as_second();
        record_into(
            &mut self.minutes,
            &mut self.first_minute,
            &mut self.last_samples,
            second.div_euclid(60),
            load,
            HISTORY_MINUTES,
            100.0,
        );
        record_into(
            &mut self.hours,
            &mut self.first_hour,
            &mut self.hour_samples,
            second.div_euclid(3600),
            load,
            HISTORY_HOURS,
            10.0,
        );
    }

    /// Complete minutes before `now`, oldest first.
    fn complete(&self, now: Timestamp) -> &[f64] {
        complete_slots(
            &self.minutes,
            self.first_minute,
            now.as_second().div_euclid(60),
        )
    }

    /// The most load one `period` (minutes) earlier over the minutes from
    /// `now` to `now + ahead_s`: what a sub-hour period forecasts for them.
    fn seasonal_minutes_ahead(&self, now: Timestamp, period: usize, ahead_s: f64) -> f64 {
        let current = self.complete(now).len() as i64;
        let ahead = (ahead_s / 60.0).ceil() as i64;
        seasonal_max(&self.minutes, current, period, MINUTE_SEASONS, ahead)
    }

    /// Complete hours before `now`, oldest first.
    fn complete_hours(&self, now: Timestamp) -> &[f64] {
        complete_slots(
            &self.hours,
            self.first_hour,
            now.as_second().div_euclid(3600),
        )
    }
}

/// The slots of `series` (the first is slot `first`) before slot `current`.
fn complete_slots(series: &[f64], first: i64, current: i64) -> &[f64] {
    let end = (current - first).clamp(0, series.len() as i64) as usize;
    &series[..end]
}

/// Rounds to 1/`per_unit` (0.01 for minutes, 0.1 for hours) to keep the stored
/// JSON short.
fn round_to(x: f64, per_unit: f64) -> f64 {
    (x * per_unit).round() / per_unit
}

/// A period's name in reasons and notices.
pub fn period_name(minutes: usize) -> String {
    match minutes {
        1440 => "daily (1440-minute)".to_string(),
        10080 => "weekly (10080-minute)".to_string(),
        m => format!("{m}-minute"),
    }
}

/// What the history says about the next `lead`.
#[derive(Clone, Debug, PartialEq)]
pub enum Outlook {
    /// Fewer than two periods of history, or no period beats persistence.
    NoPeriod,
    /// A period was found but missed in its most recent period: not used.
    SwitchedOff {
        /// Period, minutes.
        period: usize,
        /// Its error over the last period / persistence's.
        ratio: f64,
        /// The ratio it needed to stay below.
        limit: f64,
    },
    /// The load the period predicts.
    Forecast {
        /// Period, minutes.
        period: usize,
        /// Seasonal error / persistence error over the history (two periods at most).
        ratio: f64,
        /// Most busy workers predicted from now to `now + lead`.
        load: f64,
    },
}

/// The seasonal forecast of slot `i` of `x` for period `p`: the mean of
/// the slots one, two, ... `seasons` periods earlier that exist (`None`
/// before the first period). Slots past the end of `x` count as 0.
fn seasonal(x: &[f64], i: i64, p: usize, seasons: usize) -> Option<f64> {
    let past: Vec<f64> = (1..=seasons as i64)
        .map(|k| i - k * p as i64)
        .take_while(|&j| j >= 0)
        .map(|j| x.get(j as usize).copied().unwrap_or(0.0))
        .collect();
    (!past.is_empty()).then(|| past.iter().sum::<f64>() / past.len() as f64)
}

/// Mean absolute error over the last `n` slots of the seasonal forecast
/// (period `p`, `seasons` averaged).
fn seasonal_error(x: &[f64], p: usize, seasons: usize, n: usize) -> f64 {
    let from = x.len() - n;
    (from..x.len())
        .map(|i| (x[i] - seasonal(x, i as i64, p, seasons).unwrap_or(0.0)).abs())
        .sum::<f64>()
        / n as f64
}

/// Seasonal error / persistence error over the last `n` slots for period `p`.
fn ratio(x: &[f64], p: usize, seasons: usize, n: usize) -> f64 {
    // Persistence: the seasonal forecast of a one-slot period.
    let persistence = seasonal_error(x, 1, 1, n);
    if persistence <= f64::EPSILON {
        // Flat history: nothing to predict.
        return f64::INFINITY;
    }
    seasonal_error(x, p, seasons, n) / persistence
}

/// A period that fits, `Ok((period, ratio))`, or one that missed in its
/// most recent period, `Err((period, recent ratio, the limit it missed))`.
type PeriodFit = Result<(usize, f64), (usize, f64, f64)>;

/// The best period among `periods` for series `x`: (period, ratio), or
/// `Err` with the period that missed in its most recent period. A new
/// period must beat [`MAX_ERROR_RATIO`]; the one `in_use` stays while it
/// beats [`KEEP_ERROR_RATIO`].
fn find_period(
    x: &[f64],
    periods: impl Iterator<Item = usize>,
    seasons: usize,
    in_use: Option<usize>,
) -> Option<PeriodFit> {
    let ratios: Vec<(usize, f64)> = periods
        .filter(|&p| x.len() >= 2 * p)
        .map(|p| (p, ratio(x, p, seasons, (x.len() - p).min(2 * p))))
        .filter(|(_, r)| r.is_finite())
        .collect();
    // Multiples of the period fit about as well: take the shortest period
    // within 0.1 of the best ratio, the fundamental one.
    let lowest = ratios.iter().map(|(_, r)| *r).fold(f64::INFINITY, f64::min);
    let kept = ratios
        .iter()
        .copied()
        .find(|&(p, r)| Some(p) == in_use && r < KEEP_ERROR_RATIO);
    let best = ratios
        .into_iter()
        .find(|(_, r)| *r <= lowest + 0.1)
        .filter(|(_, r)| *r < MAX_ERROR_RATIO);
    let (period, r) = best.or(kept)?;
    let recent = ratio(x, period, seasons, period);
    let limit = if Some(period) == in_use {
        KEEP_ERROR_RATIO
    } else {
        MAX_ERROR_RATIO
    };
    Some(if recent >= limit {
        Err((period, recent, limit))
    } else {
        Ok((period, r))
    })
}

/// The most the seasonal forecast (period `period`, `seasons` averaged)
/// predicts for the slots `current` to `current + slots_ahead` of `all`.
fn seasonal_max(all: &[f64], current: i64, period: usize, seasons: usize, slots_ahead: i64) -> f64 {
    (current..=current + slots_ahead)
        .filter_map(|m| seasonal(all, m, period, seasons))
        .fold(0.0, f64::max)
}

/// The outlook at `now` for the next `lead_s` seconds: a sub-hour period
/// from the minutes, else a daily or weekly one from the hours.
pub fn outlook(history: &LoadHistory, now: Timestamp, lead_s: f64) -> Outlook {
    outlook_keeping(history, now, lead_s, None)
}

/// [`outlook`], keeping the period in use (minutes) while it stays below
/// [`KEEP_ERROR_RATIO`].
pub fn outlook_keeping(
    history: &LoadHistory,
    now: Timestamp,
    lead_s: f64,
    in_use: Option<u32>,
) -> Outlook {
    let in_use = in_use.map(|p| p as usize);
    let x = history.complete(now);
    let minutes = find_period(
        x,
        PERIODS,
        MINUTE_SEASONS,
        in_use.filter(|p| PERIODS.contains(p)),
    );
    if let Some(Ok((period, ratio))) = minutes {
        let load = history.seasonal_minutes_ahead(now, period, lead_s);
        return Outlook::Forecast {
            period,
            ratio,
            load,
        };
    }
    let hours = history.complete_hours(now);
    let hours_in_use = in_use.filter(|p| p % 60 == 0).map(|p| p / 60);
    match (
        find_period(hours, LONG_PERIODS.into_iter(), 1, hours_in_use),
        minutes,
    ) {
        (Some(Ok((period, ratio))), _) => {
            // Hourly means only say which hours are busier than the one
            // before: those are staffed from `lead` ahead of them and held
            // through them, so the floor does not drop into a scale-in
            // while the rise goes on. In other hours the reactive count
            // follows the load better than an hour's mean would (a floor
            // of the mean held falling afternoons up: +0.8% worker-hours on
            // the weekly trace; dropping it right after the rise's start
            // added up to 11% flaps).
            let now_s = now.as_second();
            let ahead = (now_s + lead_s.ceil() as i64).div_euclid(3600) - now_s.div_euclid(3600);
            let current = hours.len() as i64;
            let seasonal = |h: i64| seasonal_max(&history.hours, h, period, 1, 0);
            // A rise beyond the 10% noise band the tolerance also uses.
            let rising =
                |h: i64| Some(seasonal(h)).filter(|&v| h >= 1 && v > 1.1 * seasonal(h - 1));
            let load = (current..=current + ahead)
                .filter_map(rising)
                .fold(0.0, f64::max);
            Outlook::Forecast {
                period: period * 60,
                ratio,
                load,
            }
        }
        // A sub-hour period that missed is reported before an hourly one.
        (_, Some(Err((period, ratio, limit)))) => Outlook::SwitchedOff {
            period,
            ratio,
            limit,
        },
        (Some(Err((period, ratio, limit))), _) => Outlook::SwitchedOff {
            period: period * 60,
            ratio,
            limit,
        },
        _ => Outlook::NoPeriod,
    }
}

/// The forecast's floor: with `forecast_and_scale` it raises the count ahead
/// of a forecast rise (never lowers it); with `forecast_only`, and when the
/// forecast switched itself off, it is a step that changes nothing, so the
/// decision (and its audit event) says what it would have done and why.
/// Returns a notice when the period in use changed since the last decision
/// (switched off, on, or to another period): worth an audit event of its own.
pub(super) fn apply(
    chain: &mut Chain,
    next: &mut TargetState,
    policy: &PolicyConfig,
    outlook: &Outlook,
) -> Option<String> {
    let lead = policy.forecast.lead;
    let was = next.forecast_period;
    let (is, change) = match &outlook {
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
    next.forecast_period = is;
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
            let floor = forecast_workers(policy, load);
            if floor > chain.value {
                let why = format!(
                    "{} period (error {ratio:.2}x persistence's) forecasts \
                     {load:.1} busy within {lead}: {floor} workers",
                    period_name(period)
                );
                forecast_step(chain, policy.forecast.mode, floor, why);
            }
        }
    }
    notice
}

/// Why a switched-off period is not used.
fn missed(period: usize, ratio: f64, limit: f64) -> String {
    format!(
        "the {} period missed in its last period \
         (error {ratio:.2}x persistence's, needs < {limit}x)",
        period_name(period)
    )
}

/// What a sub-hour period that beats persistence forecasts over the next
/// `ahead_s` seconds: the most busy workers and the workers for them.
struct SubHourForecast {
    /// Period and ratio, as the reasons name them.
    period: String,
    load: f64,
    workers: u32,
}

/// The sub-hour forecast over the next `ahead_s`, if forecasting is on and a
/// sub-hour period is in use. Daily and weekly periods only say which hours
/// rise, not what the next minutes hold: `None` for them.
fn sub_hour_forecast(
    next: &TargetState,
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
    let load = next
        .load_history
        .seasonal_minutes_ahead(now, period, ahead_s);
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
fn forecast_step(chain: &mut Chain, mode: ForecastMode, value: u32, why: String) -> bool {
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

/// The scale-in window holds the most any recent decision wanted, in case
/// the load comes back. A sub-hour period that beats persistence knows
/// better whether it will within the window: the hold becomes the most the
/// period forecasts over the window ahead (never below this tick's own
/// recommendation). The forecast's floor still staffs the next rise `lead`
/// ahead of it. Daily and weekly periods only say which hours rise, so they
/// release nothing. With `forecast_only` the decision says what it would do.
pub(super) fn release_scale_in_window(
    chain: &mut Chain,
    next: &TargetState,
    policy: &PolicyConfig,
    now: Timestamp,
    outlook: &Outlook,
    recommendation: u32,
) {
    let held = chain.value;
    let window = policy.scale_in.stabilization;
    let Some(f) = sub_hour_forecast(next, policy, now, outlook, window.as_secs_f64()) else {
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

/// Whether the scale-in cooldown is lifted for the scale-in to the chain's
/// count: when a sub-hour period that beats persistence forecasts no more
/// load until the cooldown ends at `cooldown_end` than that count can take.
/// The cooldown guards against a load that returns within it; a period that
/// knows the coming minutes are quiet rules that out, and the cooldown would
/// only keep a burst's fleet idle (after a batch, minutes of it). The
/// forecast's floor still staffs the next rise `lead` ahead of it. Daily and
/// weekly periods lift nothing. With `forecast_only` the decision says what
/// it would do, and the cooldown stays.
pub(super) fn lift_scale_in_cooldown(
    chain: &mut Chain,
    next: &TargetState,
    policy: &PolicyConfig,
    now: Timestamp,
    outlook: &Outlook,
    cooldown_end: Timestamp,
) -> bool {
    let remaining_s = cooldown_end.duration_since(now).as_secs_f64().max(0.0);
    let Some(f) = sub_hour_forecast(next, policy, now, outlook, remaining_s) else {
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
    forecast_step(chain, policy.forecast.mode, to, why)
}

/// Workers for a forecast load: the SLO's queueing model, else the target utilization.
fn forecast_workers(policy: &PolicyConfig, load: f64) -> u32 {
    match (&policy.slo, policy.processing_time_s()) {
        (Some(slo), Some(s)) => super::queueing::workers_for_slo(load, s, slo),
        _ => (load / policy.target_utilization.unwrap_or(1.0)).ceil() as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The forecast step as `decide` runs it: the outlook at `now`, then apply.
    fn apply_at(
        chain: &mut Chain,
        next: &mut TargetState,
        policy: &PolicyConfig,
        now: Timestamp,
    ) -> Option<String> {
        let o = outlook(&next.load_history, now, policy.forecast.lead.as_secs_f64());
        apply(chain, next, policy, &o)
    }

    fn at_minute(m: i64) -> Timestamp {
        Timestamp::from_second(1_795_392_000 + m * 60).unwrap()
    }

    /// A history of `minutes` minutes where `f(m)` is the load of minute m.
    fn history(minutes: i64, f: impl Fn(i64) -> f64) -> LoadHistory {
        let mut h = LoadHistory::default();
        for m in 0..minutes {
            h.record(at_minute(m), f(m));
        }
        h
    }

    #[test]
    fn records_the_minutes_mean_and_stays_bounded() {
        let mut h = LoadHistory::default();
        h.record(at_minute(0), 3.0);
        h.record(at_minute(0) + jiff::SignedDuration::from_secs(30), 7.0);
        h.record(at_minute(2), 1.0);
        assert_eq!(h.minutes, vec![5.0, 0.0, 1.0]);
        // Late readings for closed or older minutes change nothing.
        h.record(at_minute(1), 9.0);
        h.record(at_minute(-5), 9.0);
        assert_eq!(h.minutes, vec![5.0, 0.0, 1.0]);
        let long = history(500, |m| m as f64);
        assert_eq!(long.minutes.len(), HISTORY_MINUTES);
        assert_eq!(long.minutes[0], 320.0);
        // 180 minutes as JSON: a few KB in a 400 KB item.
        let bytes = serde_json::to_string(&long).unwrap().len();
        assert!(bytes < 2_000, "{bytes} bytes");
        let noisy = history(500, |m| m as f64 / 3.0 + 1000.0);
        let bytes = serde_json::to_string(&noisy).unwrap().len();
        assert!(bytes < 2_500, "{bytes} bytes");
    }

    #[test]
    fn a_quarter_hour_batch_is_found_after_two_periods_and_forecast_ahead() {
        // A burst of 60 busy workers in minute 3 of every 15, 2 otherwise.
        let load = |m: i64| if m % 15 == 3 { 60.0 } else { 2.0 };
        assert_eq!(
            outlook(&history(29, load), at_minute(29), 120.0),
            Outlook::NoPeriod,
            "fewer than two periods of history"
        );
        let h = history(31, load);
        // At minute 31 the next burst is minute 33: within a 2-minute lead.
        match outlook(&h, at_minute(31), 120.0) {
            Outlook::Forecast { period, load, .. } => {
                assert_eq!(period, 15);
                assert_eq!(load, 60.0);
            }
            other => panic!("{other:?}"),
        }
        // At minute 50 the next burst is 13 minutes away.
        let h = history(50, load);
        assert!(matches!(
            outlook(&h, at_minute(50), 120.0),
            Outlook::Forecast { load, .. } if load == 2.0
        ));
    }

    /// The state, time and outlook at `minute` of a history with 60 busy
    /// workers in minute 3 of every 15 and 2 otherwise.
    fn quarter_hour_bursts_at(
        minute: i64,
        policy: &PolicyConfig,
    ) -> (TargetState, Timestamp, Outlook) {
        let load = |m: i64| if m % 15 == 3 { 60.0 } else { 2.0 };
        let next = TargetState {
            load_history: history(minute, load),
            ..Default::default()
        };
        let now = at_minute(minute);
        let o = outlook(&next.load_history, now, policy.forecast.lead.as_secs_f64());
        (next, now, o)
    }

    /// The chain's first step is a forecast_only note that changed nothing.
    fn assert_says_forecast_only(chain: &Chain) {
        let first = &chain.steps[0];
        assert!(
            first.detail.starts_with("forecast_only, not applied") && !first.binding,
            "{:?}",
            chain.steps
        );
    }

    #[test]
    fn a_known_quiet_stretch_releases_the_scale_in_window() {
        let mut policy = PolicyConfig::with_target(0, 100, 10.0);
        policy.forecast.mode = ForecastMode::ForecastAndScale;
        let held_after_burst = |minute: i64, policy: &PolicyConfig| {
            let (next, now, o) = quarter_hour_bursts_at(minute, policy);
            // The scale-in window holds the burst's 60; this tick wants 3.
            let mut chain = Chain::new(60);
            release_scale_in_window(&mut chain, &next, policy, now, &o, 3);
            chain
        };
        // Two minutes after a burst: the next is 13 minutes away, beyond the
        // 5-minute window, so the window holds what this tick wants.
        let chain = held_after_burst(35, &policy);
        assert_eq!(chain.value, 3, "{:?}", chain.steps);
        assert!(
            chain.steps[0].detail.contains("15-minute period"),
            "{:?}",
            chain.steps
        );
        // Three minutes before one: the window keeps the fleet.
        assert_eq!(held_after_burst(45, &policy).value, 60);
        // Before two periods of history there is no period: nothing released.
        assert_eq!(held_after_burst(25, &policy).value, 60);
        // forecast_only says what it would do and changes nothing.
        policy.forecast.mode = ForecastMode::ForecastOnly;
        let chain = held_after_burst(35, &policy);
        assert_eq!(chain.value, 60);
        assert_says_forecast_only(&chain);
    }

    #[test]
    fn a_known_quiet_stretch_lifts_the_scale_in_cooldown() {
        let mut policy = PolicyConfig::with_target(0, 100, 10.0);
        policy.forecast.mode = ForecastMode::ForecastAndScale;
        // A scale-in to 3 at `minute`, the cooldown running until `end`.
        let lift = |minute: i64, end: i64, policy: &PolicyConfig| {
            let (next, now, o) = quarter_hour_bursts_at(minute, policy);
            let mut chain = Chain::new(3);
            let lifted = lift_scale_in_cooldown(&mut chain, &next, policy, now, &o, at_minute(end));
            (lifted, chain)
        };
        // One minute after a burst, the next 14 minutes away: lifted.
        let (lifted, chain) = lift(34, 38, &policy);
        assert!(lifted, "{:?}", chain.steps);
        assert_eq!(chain.value, 3);
        assert!(
            chain.steps[0].detail.contains("cooldown is lifted"),
            "{:?}",
            chain.steps
        );
        // The cooldown would run into the next burst (minute 48): kept.
        assert!(!lift(44, 48, &policy).0);
        // No period yet (under two periods of history): kept.
        assert!(!lift(25, 29, &policy).0);
        // forecast_only says so and keeps it.
        policy.forecast.mode = ForecastMode::ForecastOnly;
        let (lifted, chain) = lift(34, 38, &policy);
        assert!(!lifted);
        assert_says_forecast_only(&chain);
    }

    #[test]
    fn a_period_in_use_is_kept_until_its_error_passes_the_keep_threshold() {
        // Bursts every 15 minutes under noise: the period cuts persistence's
        // error to about 0.65x, not enough to be found (0.5x) but enough to
        // be kept (0.75x), so the forecast does not flip on and off.
        let load = |m: i64| {
            let burst = if m % 15 == 3 { 60.0 } else { 2.0 };
            burst + ((m * m * 7 + m * 3) % 97) as f64 / 97.0 * 40.0
        };
        let h = history(60, load);
        assert_eq!(outlook(&h, at_minute(60), 120.0), Outlook::NoPeriod);
        match outlook_keeping(&h, at_minute(60), 120.0, Some(15)) {
            Outlook::Forecast { period, ratio, .. } => {
                assert_eq!(period, 15);
                assert!((0.5..0.75).contains(&ratio), "{ratio}");
            }
            other => panic!("{other:?}"),
        }
        // A period in use that stopped repeating is still dropped.
        let stopped = |m: i64| {
            if m < 30 {
                load(m)
            } else {
                2.0 + ((m * m) % 97) as f64 / 50.0
            }
        };
        let h = history(60, stopped);
        assert!(!matches!(
            outlook_keeping(&h, at_minute(60), 120.0, Some(15)),
            Outlook::Forecast { .. }
        ));
    }

    #[test]
    fn averaging_two_periods_keeps_a_noisy_square_wave_in_use() {
        // on_off's shape: 10 busy minutes of 40 at 16 busy workers, each
        // minute's estimate off by up to ±25% (about what the SQS estimate
        // shows inside a burst). Over 100 noise draws, count the series
        // whose period stays in use through the third and fourth periods.
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut uniform = move || {
            // splitmix64
            rng = rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = rng;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) as f64 / u64::MAX as f64
        };
        let (mut kept_one, mut kept_two) = (0, 0);
        for _ in 0..100 {
            let loads: Vec<f64> = (0..180)
                .map(|m| {
                    let noise = 0.75 + 0.5 * uniform();
                    if m % 40 < 10 {
                        16.0 * noise
                    } else {
                        0.0
                    }
                })
                .collect();
            let h = history(180, |m| loads[m as usize]);
            let kept = |seasons| {
                (120..=180).all(|minute| {
                    let x = h.complete(at_minute(minute));
                    matches!(find_period(x, 40..=40, seasons, Some(40)), Some(Ok(_)))
                })
            };
            kept_one += u32::from(kept(1));
            kept_two += u32::from(kept(MINUTE_SEASONS));
        }
        assert!(kept_two >= 95, "{kept_two} of 100 kept");
        assert!(kept_two >= kept_one + 5, "{kept_two} vs {kept_one}");
    }

    #[test]
    fn smooth_trends_and_noise_have_no_period() {
        // A ramp: persistence beats any seasonal lag.
        let ramp = history(180, |m| m as f64);
        assert_eq!(outlook(&ramp, at_minute(180), 120.0), Outlook::NoPeriod);
        // Flat load.
        let flat = history(180, |_| 10.0);
        assert_eq!(outlook(&flat, at_minute(180), 120.0), Outlook::NoPeriod);
    }

    #[test]
    fn a_period_that_stopped_repeating_is_no_longer_used() {
        // Bursts every 15 minutes for two hours, then irregular load
        // (m² mod 97 has no period under an hour).
        let load = |m: i64| {
            if m < 120 && m % 15 == 3 {
                60.0
            } else {
                2.0 + ((m * m) % 97) as f64 / 50.0
            }
        };
        let h = history(150, load);
        let before = outlook(&h, at_minute(118), 120.0);
        assert!(
            matches!(before, Outlook::Forecast { period: 15, .. }),
            "{before:?}"
        );
        let later = outlook(&h, at_minute(150), 120.0);
        assert!(!matches!(later, Outlook::Forecast { .. }), "{later:?}");
    }

    #[test]
    fn switching_on_off_and_between_periods_gives_one_notice_each() {
        let load = |m: i64| {
            if m < 120 && m % 15 == 3 {
                60.0
            } else {
                2.0 + ((m * m) % 97) as f64 / 50.0
            }
        };
        let policy = PolicyConfig::with_target(0, 100, 10.0);
        let mut chain = Chain::new(1);
        let mut next = TargetState {
            load_history: history(119, load),
            ..Default::default()
        };
        let on = apply_at(&mut chain, &mut next, &policy, at_minute(118));
        assert!(
            on.as_deref()
                .is_some_and(|n| n.starts_with("forecast on: 15-minute period")),
            "{on:?}"
        );
        assert_eq!(next.forecast_period, Some(15));
        assert_eq!(
            apply_at(&mut chain, &mut next, &policy, at_minute(118)),
            None,
            "said once"
        );

        next.load_history = history(150, load);
        let off = apply_at(&mut chain, &mut next, &policy, at_minute(150));
        assert!(
            off.as_deref()
                .is_some_and(|n| n.starts_with("forecast switched off (was a 15-minute period)")),
            "{off:?}"
        );
        assert_eq!(next.forecast_period, None);
        assert_eq!(
            apply_at(&mut chain, &mut next, &policy, at_minute(150)),
            None
        );

        next.forecast_period = Some(20);
        next.load_history = history(119, load);
        let moved = apply_at(&mut chain, &mut next, &policy, at_minute(118));
        assert!(
            moved
                .as_deref()
                .is_some_and(|n| n.starts_with("forecast period changed from 20 to 15 minutes")),
            "{moved:?}"
        );
    }

    /// Minute `m` of a week starting Monday 00:00 UTC (minute 0 is one):
    /// 50 busy 09:00-17:00 on the days `busy_day` accepts, 5 otherwise, plus
    /// up to 2 of noise with no period under a day.
    fn office_hours(busy_day: impl Fn(i64) -> bool) -> impl Fn(i64) -> f64 {
        move |m: i64| {
            let hour = (m % 1440) / 60;
            let busy = busy_day(m / 1440) && (9..17).contains(&hour);
            (if busy { 50.0 } else { 5.0 }) + ((m * m) % 97) as f64 / 50.0
        }
    }

    #[test]
    fn a_daily_pattern_is_found_after_two_days_and_pre_warms_the_morning() {
        let load = office_hours(|_| true);
        let before_nine = |day: i64| day * 1440 + 8 * 60 + 58;
        // Day two: one day of history, no period yet.
        let m = before_nine(1);
        assert_eq!(
            outlook(&history(m, &load), at_minute(m), 120.0),
            Outlook::NoPeriod
        );
        // Day three, 08:58 with a 2-minute lead: yesterday's 09:00 hour.
        let m = before_nine(2);
        match outlook(&history(m, &load), at_minute(m), 120.0) {
            Outlook::Forecast {
                period,
                ratio,
                load,
            } => {
                assert_eq!(period, 1440);
                assert!(ratio < 0.5, "{ratio}");
                assert!((50.0..52.0).contains(&load), "{load}");
            }
            other => panic!("{other:?}"),
        }
        // At 08:30 the rise is beyond the lead, and at 10:00 inside the busy
        // hours nothing rises ahead: no floor (the reactive count follows).
        for m in [before_nine(2) - 28, before_nine(2) + 62] {
            assert!(matches!(
                outlook(&history(m, &load), at_minute(m), 120.0),
                Outlook::Forecast { period: 1440, load, .. } if load == 0.0
            ));
        }
    }

    #[test]
    fn a_weekly_pattern_is_found_after_two_weeks_where_the_daily_one_fails() {
        // Busy Monday to Friday, quiet at weekends.
        let load = office_hours(|day| day % 7 < 5);
        // Monday of the third week, 08:58.
        let m = 14 * 1440 + 8 * 60 + 58;
        let h = history(m, &load);
        match outlook(&h, at_minute(m), 120.0) {
            Outlook::Forecast { period, load, .. } => {
                assert_eq!(period, 10080, "the weekend breaks the daily period");
                assert!((50.0..52.0).contains(&load), "{load}");
            }
            other => panic!("{other:?}"),
        }
        // 15 days of hours stay small in the state item (400 KB allowed).
        assert_eq!(h.hours.len(), 14 * 24 + 9);
        let bytes = serde_json::to_string(&h).unwrap().len();
        assert!(bytes < 4_000, "{bytes} bytes");
        // Past 15 days the oldest hours are dropped.
        let long = history(16 * 1440, &load);
        assert_eq!(long.hours.len(), HISTORY_HOURS);
        eprintln!(
            "history bytes: 14 days 9 hours {bytes}, 16 days {}",
            serde_json::to_string(&long).unwrap().len()
        );
        // The notice names the period.
        let mut next = TargetState {
            load_history: h,
            ..Default::default()
        };
        let policy = PolicyConfig::with_target(0, 100, 10.0);
        let on = apply_at(&mut Chain::new(1), &mut next, &policy, at_minute(m));
        assert!(
            on.as_deref()
                .is_some_and(|n| n.starts_with("forecast on: weekly (10080-minute) period")),
            "{on:?}"
        );
    }
}
