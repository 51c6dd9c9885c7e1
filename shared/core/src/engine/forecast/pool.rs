//! A pool's forecast (`aggregate: sum` over several signals): each signal
//! keeps its own history and finds its own period, and the pool's forecast
//! is their sum. Summed first, an orders queue's hourly wave hides its retry
//! queue's 20-minute bursts from the period search, which then learns only
//! the 60-minute period the sum repeats with, two hours later.
//!
//! A signal with no period counts at its last minute's load (persistence:
//! what a reactive scaler assumes). The pool's floor is the workers for the
//! summed forecast. A release of the scale-in window or cooldown sums each
//! sub-hour period's forecast over it with, for a signal without one, the
//! most it carried over as many minutes back (what the window would have
//! held for it alone): the periodic signal's burst is released, the other
//! signal's load is not bet on.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::outlook::{period_name, seasonal_minutes_ahead, Outlook};
use super::season::PERIODS;
use super::steps::{forecast_workers, SubHourForecast};
use crate::config::{ForecastMode, PolicyConfig};
use crate::engine::load_history::LoadHistory;

/// One signal's part of a pool's forecast.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PoolPart {
    /// The signal.
    pub signal: String,
    /// Its own outlook.
    pub outlook: Outlook,
    /// Its load in the last whole minute (busy workers), for persistence.
    pub current: f64,
}

/// The pool's outlook: a forecast when some signal has one, of the sum of
/// every signal's forecast (or current load), named by the shortest period.
pub(crate) fn combined(parts: &[PoolPart]) -> Outlook {
    let forecasting = parts
        .iter()
        .filter_map(|p| match p.outlook {
            Outlook::Forecast { period, ratio, .. } => Some((period, ratio)),
            _ => None,
        })
        .min_by_key(|(period, _)| *period);
    let Some((period, ratio)) = forecasting else {
        return parts
            .iter()
            .find(|p| matches!(p.outlook, Outlook::SwitchedOff { .. }))
            .map_or(Outlook::NoPeriod, |p| p.outlook.clone());
    };
    let load = parts
        .iter()
        .map(|p| match p.outlook {
            Outlook::Forecast { load, .. } => load,
            _ => p.current,
        })
        .sum();
    Outlook::Forecast {
        period,
        ratio,
        load,
    }
}

/// [`super::steps::sub_hour_forecast`] over a pool: the sum of each
/// signal's sub-hour forecast over the next `ahead_s` and, for a signal
/// without one, the most it carried over the last `ahead_s`; `None` unless
/// some signal has a sub-hour period.
pub(crate) fn sub_hour(
    parts: &[PoolPart],
    histories: &BTreeMap<String, LoadHistory>,
    policy: &PolicyConfig,
    now: Timestamp,
    ahead_s: f64,
) -> Option<SubHourForecast> {
    if policy.forecast.mode == ForecastMode::Off || parts.is_empty() {
        return None;
    }
    let mut load = 0.0;
    let mut named = Vec::with_capacity(parts.len());
    for part in parts {
        let history = histories.get(&part.signal)?;
        match part.outlook {
            Outlook::Forecast { period, ratio, .. } if period <= *PERIODS.end() => {
                load += seasonal_minutes_ahead(history, now, period, ahead_s);
                named.push(format!(
                    "{} {} (error {ratio:.2}x persistence's)",
                    part.signal,
                    period_name(period)
                ));
            }
            _ => {
                let minutes = (ahead_s / 60.0).ceil().max(1.0) as usize;
                let done = history.complete(now);
                let recent = done[done.len().saturating_sub(minutes)..]
                    .iter()
                    .copied()
                    .fold(part.current, f64::max);
                load += recent;
                named.push(format!("{} at most {recent:.1} recently", part.signal));
            }
        }
    }
    if !parts
        .iter()
        .any(|p| matches!(p.outlook, Outlook::Forecast { period, .. } if period <= *PERIODS.end()))
    {
        return None;
    }
    Some(SubHourForecast {
        period: format!("the pool's periods ({})", named.join(", ")),
        load,
        workers: forecast_workers(policy, load),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(signal: &str, outlook: Outlook, current: f64) -> PoolPart {
        PoolPart {
            signal: signal.into(),
            outlook,
            current,
        }
    }

    #[test]
    fn the_pool_forecasts_the_sum_of_its_signals() {
        let burst = Outlook::Forecast {
            period: 20,
            ratio: 0.2,
            load: 20.0,
        };
        let wave = Outlook::Forecast {
            period: 60,
            ratio: 0.3,
            load: 12.0,
        };
        assert_eq!(
            combined(&[
                part("orders", wave.clone(), 10.0),
                part("retries", burst.clone(), 1.0)
            ]),
            Outlook::Forecast {
                period: 20,
                ratio: 0.2,
                load: 32.0
            }
        );
        // A signal without a period counts at its current load.
        assert_eq!(
            combined(&[
                part("orders", Outlook::NoPeriod, 10.0),
                part("retries", burst, 1.0)
            ]),
            Outlook::Forecast {
                period: 20,
                ratio: 0.2,
                load: 30.0
            }
        );
        assert_eq!(
            combined(&[
                part("a", Outlook::NoPeriod, 1.0),
                part("b", Outlook::NoPeriod, 2.0)
            ]),
            Outlook::NoPeriod
        );
    }

    #[test]
    fn a_release_bets_only_on_the_signals_with_a_sub_hour_period() {
        let mut policy = PolicyConfig::with_target(0, 100, 10.0);
        policy.forecast.mode = ForecastMode::ForecastAndScale;
        let history = crate::testing::load_history(120, |_| 1.0);
        let now = crate::testing::at_minute(120);
        let histories: BTreeMap<String, LoadHistory> = [
            ("a".to_string(), history.clone()),
            ("b".to_string(), history),
        ]
        .into();
        let periodic = Outlook::Forecast {
            period: 20,
            ratio: 0.2,
            load: 1.0,
        };
        let parts = [
            part("a", periodic.clone(), 1.0),
            part("b", Outlook::NoPeriod, 1.0),
        ];
        // The signal without a period counts at its recent most (1.0).
        let f = sub_hour(&parts, &histories, &policy, now, 300.0).expect("one periodic");
        assert!((f.load - 2.0).abs() < 1e-9, "{}", f.load);
        assert!(f.period.contains("b at most 1.0 recently"), "{}", f.period);
        let none = [
            part("a", Outlook::NoPeriod, 1.0),
            part("b", Outlook::NoPeriod, 1.0),
        ];
        assert!(sub_hour(&none, &histories, &policy, now, 300.0).is_none());
        let parts = [part("a", periodic.clone(), 1.0), part("b", periodic, 1.0)];
        let f = sub_hour(&parts, &histories, &policy, now, 300.0).expect("both periodic");
        assert!((f.load - 2.0).abs() < 1e-9, "{}", f.load);
        assert!(f.period.contains("a 20-minute"), "{}", f.period);
    }
}
