//! Predictive pre-scaling from the target's own history.
//!
//! Every decision records the arrival load (busy workers the arrivals need:
//! for SQS the in-flight count plus the queue's signed growth × processing
//! time, i.e. completions plus what piled up; for Kafka the production rate ×
//! processing time) into a per-minute history in the target's state, the
//! mean of the minute's decisions, bounded to [`HISTORY_MINUTES`](crate::engine::load_history::HISTORY_MINUTES). A batch of
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
//! beside it: the mean load per hour over [`HISTORY_HOURS`](crate::engine::load_history::HISTORY_HOURS) (15 days), tried
//! when no sub-hour period is in use. The daily period needs two days of
//! history, the weekly one two weeks.
//!
//! Anchor: AWS predictive scaling forecasts hourly from at least 24 h of
//! history. This works at minute resolution, on sub-hour periods, after two
//! periods, and hourly on daily and weekly ones.

mod outlook;
mod pool;
mod season;
mod steps;
#[cfg(test)]
mod tests;

pub use outlook::{outlook, outlook_keeping, period_name, Outlook};
pub(in crate::engine) use pool::{combined, sub_hour as pool_sub_hour, PoolPart};
pub(in crate::engine) use steps::{
    forecast_step, forecast_workers, missed, period_change, sub_hour_forecast, PeriodChange,
    SubHourForecast,
};
