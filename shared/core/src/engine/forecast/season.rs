//! Seasonal maths over a series of slots (minutes or hours): the seasonal
//! forecast, its error against persistence, and the period that fits best.

/// Daily and weekly periods, hours.
pub(super) const LONG_PERIODS: [usize; 2] = [24, 168];
/// Shortest and longest period tried, minutes.
pub(super) const PERIODS: std::ops::RangeInclusive<usize> = 5..=60;
/// A period must cut the persistence forecast's error at least this much.
pub(super) const MAX_ERROR_RATIO: f64 = 0.5;
/// A period in use is kept while its error stays below this share of
/// persistence's (hysteresis: a ratio hovering at the acceptance threshold
/// would switch the forecast on and off from one minute to the next).
pub(super) const KEEP_ERROR_RATIO: f64 = 0.75;
/// Periods a sub-hour forecast averages. The per-minute load estimates are
/// noisy (±20% inside a steady burst) and the load one period earlier
/// carries that noise into the forecast's error twice: two periods halve
/// the forecast's share of it. More would remember the bursts a reactive
/// fleet spread over extra minutes before the forecast staffed them (three
/// cost more worker-hours: docs/benchmarks.md). Daily and weekly
/// periods use the last one only (an average of days would mix weekdays
/// with weekends).
pub(super) const MINUTE_SEASONS: usize = 2;

/// The seasonal forecast of slot `i` of `x` for period `p`: the mean of
/// the slots one, two, ... `seasons` periods earlier that exist (`None`
/// before the first period). Slots past the end of `x` count as 0.
pub(super) fn seasonal(x: &[f64], i: i64, p: usize, seasons: usize) -> Option<f64> {
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
pub(super) fn ratio(x: &[f64], p: usize, seasons: usize, n: usize) -> f64 {
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
pub(super) type PeriodFit = Result<(usize, f64), (usize, f64, f64)>;

/// The best period among `periods` for series `x`: (period, ratio), or
/// `Err` with the period that missed in its most recent period. A new
/// period must beat [`MAX_ERROR_RATIO`]; the one `in_use` stays while it
/// beats [`KEEP_ERROR_RATIO`].
pub(super) fn find_period(
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
pub(super) fn seasonal_max(
    all: &[f64],
    current: i64,
    period: usize,
    seasons: usize,
    slots_ahead: i64,
) -> f64 {
    (current..=current + slots_ahead)
        .filter_map(|m| seasonal(all, m, period, seasons))
        .fold(0.0, f64::max)
}
