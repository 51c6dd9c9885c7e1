//! Scaling policy: how backlog becomes a worker count.

use serde::{Deserialize, Serialize};

use super::direction::{scale_in_block, scale_out_block, DirectionConfig, RateLimits};
use super::values::{HumanDuration, StartupTime};

/// The policy of one target. Defaults follow the HPA and AWS target tracking
/// where those have one; each is documented in docs/config.md.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Fewest workers. 0 allows scale to zero.
    pub min: u32,
    /// Most workers; nothing (floors included) goes above it.
    pub max: u32,
    /// Backlog one worker should carry, set directly.
    #[serde(default)]
    pub target_per_worker: Option<f64>,
    /// Or derived as acceptable latency / processing time (AWS's backlog-per-instance method).
    #[serde(default)]
    pub latency: Option<LatencyTarget>,
    /// Size by a wait SLO through a queueing model instead of a fixed
    /// utilization: see [`SloConfig`]. Off by default.
    #[serde(default)]
    pub slo: Option<SloConfig>,
    /// Pre-scaling from the target's own load history. Off by default.
    #[serde(default)]
    pub forecast: ForecastConfig,
    /// Busy share of workers to aim for when keeping up with load already in
    /// progress (Little's law: SQS in-flight messages, Kafka production rate).
    /// Default 0.8; `null` turns the keep-up term off (backlog only, as KEDA and AWS do).
    #[serde(default = "default_target_utilization")]
    pub target_utilization: Option<f64>,
    /// The busy-worker count behind the keep-up term is averaged over this
    /// window: one in-flight sample is noisy (about ±√busy). Default 3m.
    #[serde(default = "default_keep_up_window")]
    pub keep_up_window: HumanDuration,
    /// Relative change below which nothing happens (HPA's tolerance), in
    /// both directions unless `scale_out.tolerance` / `scale_in.tolerance`
    /// say otherwise. Default 0.1.
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
    /// How the signals' needs combine: `sum` (default) sizes one pool that
    /// serves every signal's load at once; `max` takes the signal that needs
    /// most, for signals that measure the same work (as HPA combines metrics).
    #[serde(default)]
    pub aggregate: Aggregate,
    /// From zero workers, scale out only when total backlog is strictly above this. Default 0.
    #[serde(default)]
    pub activation_backlog: u64,
    /// Scale-out behaviour.
    #[serde(
        default = "DirectionConfig::default_scale_out",
        deserialize_with = "scale_out_block"
    )]
    #[schemars(with = "super::direction::DirectionBlock")]
    pub scale_out: DirectionConfig,
    /// Scale-in behaviour.
    #[serde(
        default = "DirectionConfig::default_scale_in",
        deserialize_with = "scale_in_block"
    )]
    #[schemars(with = "super::direction::DirectionBlock")]
    pub scale_in: DirectionConfig,
    /// What to do when signals fail or go stale.
    #[serde(default)]
    pub untrusted_data: UntrustedDataConfig,
    /// A Kafka partition whose committed offset has not moved for this many
    /// observations while it has lag is stuck. Default 5.
    #[serde(default = "default_stuck_observations")]
    pub stuck_partition_observations: u32,
    /// Default lead time of schedules and registered events. Default 5m.
    #[serde(default = "default_prewarm_lead")]
    pub prewarm_lead: HumanDuration,
    /// When the worker's count was changed outside qscale (a person during
    /// an incident, another scaler), keep that count this long instead of
    /// undoing it. `0s` undoes it at once, as HPA and AWS do. Default 30m.
    #[serde(default = "default_manual_override_hold")]
    pub manual_override_hold: HumanDuration,
}

impl PolicyConfig {
    /// Seconds one worker spends on one message, when the policy knows it
    /// (`slo.processing_time`, else `latency.processing_time_per_message`).
    pub fn processing_time_s(&self) -> Option<f64> {
        self.slo
            .as_ref()
            .and_then(|s| s.processing_time)
            .or_else(|| self.latency.as_ref().map(|l| l.processing_time_per_message))
            .map(|d| d.as_secs_f64())
    }

    /// Scale-out rate limits in force. With `slo`, the default limits do not
    /// apply (the queueing model sizes the step, and a burst must not wait
    /// for a ramp); limits configured to anything else still do.
    pub fn scale_out_rate_limits(&self) -> Option<&RateLimits> {
        let default = self.slo.is_some()
            && self.scale_out.rate_limits == DirectionConfig::default_scale_out().rate_limits;
        (!default).then_some(&self.scale_out.rate_limits)
    }

    /// The tolerance of a scale-out (`out`) or a scale-in: the direction's
    /// own, else the policy's.
    pub fn tolerance_of(&self, out: bool) -> f64 {
        let direction = if out { &self.scale_out } else { &self.scale_in };
        direction.tolerance.unwrap_or(self.tolerance)
    }

    /// Backlog per worker the policy aims for.
    pub fn target_per_worker(&self) -> f64 {
        match (self.target_per_worker, &self.latency) {
            (Some(t), _) => t,
            (None, Some(l)) => l.target_per_worker(),
            // Unreachable after validation; a safe, visible value otherwise.
            (None, None) => f64::INFINITY,
        }
    }

    /// A policy with the given bounds and target and every other field at its default.
    pub fn with_target(min: u32, max: u32, target_per_worker: f64) -> Self {
        PolicyConfig {
            min,
            max,
            target_per_worker: Some(target_per_worker),
            latency: None,
            slo: None,
            forecast: ForecastConfig::default(),
            target_utilization: default_target_utilization(),
            keep_up_window: default_keep_up_window(),
            tolerance: default_tolerance(),
            aggregate: Aggregate::Sum,
            activation_backlog: 0,
            scale_out: DirectionConfig::default_scale_out(),
            scale_in: DirectionConfig::default_scale_in(),
            untrusted_data: UntrustedDataConfig::default(),
            stuck_partition_observations: default_stuck_observations(),
            prewarm_lead: default_prewarm_lead(),
            manual_override_hold: default_manual_override_hold(),
        }
    }
}

/// How the needs of several signals combine into one count.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// One fleet serves every signal: size one pool for the summed backlog
    /// and load (one Erlang C under `slo`), never less than any signal alone.
    #[default]
    Sum,
    /// The signals measure the same work: the most any one needs.
    Max,
}

impl Aggregate {
    /// Combines per-signal quantities (backlogs, loads, rates) the same way.
    pub fn combine(self, values: impl IntoIterator<Item = f64>) -> f64 {
        let values = values.into_iter();
        match self {
            Aggregate::Sum => values.sum(),
            Aggregate::Max => values.fold(0.0, f64::max),
        }
    }
}

/// Target backlog per worker from a latency goal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LatencyTarget {
    /// How long a message may wait.
    pub acceptable: HumanDuration,
    /// Average time one worker spends on one message.
    pub processing_time_per_message: HumanDuration,
}

impl LatencyTarget {
    /// acceptable / processing time.
    pub fn target_per_worker(&self) -> f64 {
        self.acceptable.as_secs_f64() / self.processing_time_per_message.as_secs_f64()
    }
}

/// Sizing by a wait SLO. Workers = the fewest that keep up with the
/// estimated arrivals so that no more than `100 − percentile` % of messages
/// wait longer than `wait` (Erlang C), plus those that clear the current
/// backlog within one `wait` (when the fleet falls behind, the backlog it
/// will have once new workers have started). `target_utilization` is not used then; the
/// backlog target (`target_per_worker` / `latency`) still drives activation
/// and the partition cap.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SloConfig {
    /// Longest acceptable wait of a message.
    pub wait: HumanDuration,
    /// Share of messages that must wait less, percent. Default 99.
    #[serde(default = "default_slo_percentile")]
    pub percentile: f64,
    /// Mean time a worker spends on one message; default
    /// `latency.processing_time_per_message`.
    #[serde(default)]
    pub processing_time: Option<HumanDuration>,
    /// Time from a scale-out until the new workers take messages (ECS task
    /// start-up; about 1s for Lambda), or `learned` from the worker's own
    /// pending-to-running times. Default 1m.
    #[serde(default = "default_slo_startup")]
    pub startup: StartupTime,
}

fn default_slo_percentile() -> f64 {
    99.0
}

fn default_slo_startup() -> StartupTime {
    StartupTime::Fixed(StartupTime::DEFAULT)
}

/// Predictive pre-scaling: periods found in the target's per-minute load
/// history raise a floor `lead` ahead of a forecast rise (`engine::forecast`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForecastConfig {
    /// `off`, `forecast_only` (decisions show what it would do, nothing
    /// changes) or `forecast_and_scale`. Default `off`.
    #[serde(default)]
    pub mode: ForecastMode,
    /// How far ahead a forecast rise is staffed: worker start-up plus one
    /// tick. Default 2m.
    #[serde(default = "default_forecast_lead")]
    pub lead: HumanDuration,
}

impl Default for ForecastConfig {
    fn default() -> Self {
        ForecastConfig {
            mode: ForecastMode::Off,
            lead: default_forecast_lead(),
        }
    }
}

/// What the forecast may do.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ForecastMode {
    /// No history is kept.
    #[default]
    Off,
    /// Keep history and show the floor the forecast would set; never act on it.
    ForecastOnly,
    /// Raise the count to the forecast's floor ahead of a rise.
    ForecastAndScale,
}

fn default_forecast_lead() -> HumanDuration {
    HumanDuration::secs(120)
}

/// Handling of failed or stale signals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UntrustedDataConfig {
    /// A reading older than this is stale. Default 5m.
    #[serde(default = "default_max_signal_age")]
    pub max_signal_age: HumanDuration,
    /// After more than this many consecutive failures of a signal, `fallback` applies. Default 3.
    #[serde(default = "default_failures_before_fallback")]
    pub failures_before_fallback: u32,
    /// What the count becomes then. Default `hold`.
    #[serde(default)]
    pub fallback: Fallback,
}

impl Default for UntrustedDataConfig {
    fn default() -> Self {
        UntrustedDataConfig {
            max_signal_age: default_max_signal_age(),
            failures_before_fallback: default_failures_before_fallback(),
            fallback: Fallback::Hold,
        }
    }
}

/// Fallback count when a signal has failed too often (KEDA's fallback behaviours).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// Keep the current count.
    #[default]
    Hold,
    /// Exactly this count.
    Static(u32),
    /// The current count if higher than this one, else this one.
    CurrentIfHigher(u32),
    /// The current count if lower than this one, else this one.
    CurrentIfLower(u32),
}

impl Fallback {
    /// The count the fallback gives for a current count.
    pub fn apply(self, current: u32) -> u32 {
        match self {
            Fallback::Hold => current,
            Fallback::Static(n) => n,
            Fallback::CurrentIfHigher(n) => current.max(n),
            Fallback::CurrentIfLower(n) => current.min(n),
        }
    }
}

fn default_keep_up_window() -> HumanDuration {
    HumanDuration::secs(180)
}
fn default_target_utilization() -> Option<f64> {
    Some(0.8)
}
fn default_tolerance() -> f64 {
    0.1
}
fn default_stuck_observations() -> u32 {
    5
}
fn default_prewarm_lead() -> HumanDuration {
    HumanDuration::secs(300)
}
fn default_manual_override_hold() -> HumanDuration {
    HumanDuration::secs(1800)
}
fn default_max_signal_age() -> HumanDuration {
    HumanDuration::secs(300)
}
fn default_failures_before_fallback() -> u32 {
    3
}
