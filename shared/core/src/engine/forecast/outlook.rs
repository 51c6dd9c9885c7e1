//! What the load history says about the next `lead`: a sub-hour period
//! from the minutes, else a daily or weekly one from the hours.

use jiff::Timestamp;

use super::season::{find_period, seasonal_max, LONG_PERIODS, MINUTE_SEASONS, PERIODS};
use crate::engine::load_history::LoadHistory;

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

/// The most load one `period` (minutes) earlier over the minutes from
/// `now` to `now + ahead_s`: what a sub-hour period forecasts for them.
pub(crate) fn seasonal_minutes_ahead(
    history: &LoadHistory,
    now: Timestamp,
    period: usize,
    ahead_s: f64,
) -> f64 {
    let current = history.complete(now).len() as i64;
    let ahead = (ahead_s / 60.0).ceil() as i64;
    seasonal_max(&history.minutes, current, period, MINUTE_SEASONS, ahead)
}

/// The outlook at `now` for the next `lead_s` seconds: a sub-hour period
/// from the minutes, else a daily or weekly one from the hours.
pub fn outlook(history: &LoadHistory, now: Timestamp, lead_s: f64) -> Outlook {
    outlook_keeping(history, now, lead_s, None)
}

/// [`outlook`], keeping the period in use (minutes) while it stays below
/// [`KEEP_ERROR_RATIO`](super::season::KEEP_ERROR_RATIO).
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
        let load = seasonal_minutes_ahead(history, now, period, lead_s);
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
            // of the mean held falling afternoons up; dropping it right
            // after the rise's start added flaps: docs/benchmarks.md).
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
