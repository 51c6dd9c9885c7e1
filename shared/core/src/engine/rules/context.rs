//! What every rule reads: the target, the observations, the signals'
//! assessment, the forecast's outlook and the state so far (as HPA's
//! `NormalizationArg` bundles what its normalization steps read).

use jiff::Timestamp;

use crate::config::{PolicyConfig, TargetConfig};
use crate::engine::decision::Term;
use crate::engine::forecast::{
    pool_sub_hour, sub_hour_forecast, Outlook, PoolPart, SubHourForecast,
};
use crate::engine::observation::WorkerObservation;
use crate::engine::signals::{pool, AssessedSignal, Pooled, Stages};
use crate::engine::state::TargetState;

/// The inputs of one decision's rules.
pub(in crate::engine) struct Context<'a> {
    pub target: &'a TargetConfig,
    pub policy: &'a PolicyConfig,
    pub now: Timestamp,
    /// The worker's desired count: decisions start from it.
    pub previous: u32,
    pub worker: &'a WorkerObservation,
    pub signals: &'a Signals<'a>,
    /// The forecast's outlook, when the forecast is on and every signal was trusted.
    pub outlook: Option<&'a Outlook>,
    /// Each signal's part of a pool's forecast (empty for one signal).
    pub pool_forecast: &'a [PoolPart],
    /// The next state as the assessment left it (histories recorded,
    /// adoption done); the rules only read it.
    pub state: &'a TargetState,
}

impl Context<'_> {
    /// What a sub-hour period forecasts over the next `ahead_s` (the
    /// scale-in window's release, the cooldown's lift): the target's, or the
    /// sum of a pool's signals', each from its own history.
    pub fn sub_hour_forecast(&self, ahead_s: f64) -> Option<SubHourForecast> {
        let outlook = self.outlook?;
        if self.pool_forecast.is_empty() {
            return sub_hour_forecast(
                &self.state.load_history,
                self.policy,
                self.now,
                outlook,
                ahead_s,
            );
        }
        pool_sub_hour(
            self.pool_forecast,
            &self.state.signal_load_history,
            self.policy,
            self.now,
            ahead_s,
        )
    }
}

/// The signals' assessment as the rules read it.
pub(in crate::engine) struct Signals<'a> {
    pub assessed: &'a [AssessedSignal],
    /// The signals whose reading can be trusted.
    pub trusted: Vec<&'a AssessedSignal>,
    /// Some signal's reading cannot be trusted.
    pub any_untrusted: bool,
    /// Some signal failed more than `failures_before_fallback` times in a row.
    pub fallback_due: bool,
    /// Some trusted Kafka signal has stuck partitions with lag.
    pub any_stuck: bool,
    /// The trusted signals sized as one pool (`aggregate: sum`, two or more).
    pub pooled: Option<Pooled>,
}

impl<'a> Signals<'a> {
    /// After the partition cap: the pool's, else the most any signal wants.
    pub fn wanted(&self) -> u32 {
        match &self.pooled {
            Some(pooled) => pooled.wanted,
            None => self
                .trusted
                .iter()
                .filter_map(|a| a.wanted)
                .max()
                .unwrap_or(0),
        }
    }

    /// The cap that bound the count, if one did: the pool's, or a signal's
    /// (Kafka's partitions before a FIFO queue's groups).
    pub fn capped_by(&self) -> Option<Term> {
        match &self.pooled {
            Some(pooled) => pooled.capped_by,
            None => {
                let capped = || self.trusted.iter().filter_map(|a| a.capped_by);
                capped()
                    .find(|t| *t == Term::PartitionCap)
                    .or_else(|| capped().next())
            }
        }
    }

    /// The most workers FIFO message groups can keep busy, when every
    /// trusted signal is a FIFO queue with a cap: no window, cooldown or
    /// forecast holds workers above it (they would idle).
    pub fn fifo_ceiling(&self) -> Option<u32> {
        if self.trusted.is_empty() {
            return None;
        }
        self.trusted
            .iter()
            .map(|a| match a.assessment.kind {
                crate::config::SignalKind::Sqs => a.cap,
                crate::config::SignalKind::Kafka => None,
            })
            .collect::<Option<Vec<u32>>>()
            .and_then(|caps| caps.into_iter().max())
    }

    /// Summarizes an assessment under `policy` from the current count `previous`.
    pub fn of(assessed: &'a [AssessedSignal], policy: &PolicyConfig, previous: u32) -> Self {
        let trusted: Vec<_> = assessed.iter().filter(|a| a.wanted.is_some()).collect();
        Signals {
            pooled: pool(&trusted, policy, previous),
            assessed,
            any_untrusted: trusted.len() < assessed.len(),
            fallback_due: assessed.iter().any(|a| {
                a.assessment.consecutive_failures > policy.untrusted_data.failures_before_fallback
            }),
            any_stuck: trusted.iter().any(|a| a.stuck_with_lag),
            trusted,
        }
    }

    /// What the trusted signals want at sizing stage `stage`: the pool's,
    /// else the most any one wants (0 with none).
    pub fn stage(&self, stage: impl Fn(&Stages) -> u32) -> u32 {
        if let Some(pooled) = &self.pooled {
            return stage(&pooled.stages);
        }
        self.trusted
            .iter()
            .filter_map(|a| a.stages.as_ref().map(&stage))
            .max()
            .unwrap_or(0)
    }
}

/// Runs `f` on a context for `policy` (an ECS target with no signals), as
/// the rules' unit tests need one.
#[cfg(test)]
pub(in crate::engine) fn with_test_context<R>(
    policy: &PolicyConfig,
    state: &TargetState,
    now: Timestamp,
    outlook: Option<&Outlook>,
    f: impl FnOnce(&Context) -> R,
) -> R {
    let target = crate::testing::ecs_target("t", policy.clone(), vec![]);
    let worker = WorkerObservation {
        desired: 0,
        running: 0,
        pending: 0,
        deployment_in_progress: false,
        provisioned: None,
        protected: None,
        spillover: None,
    };
    let signals = Signals::of(&[], policy, 0);
    f(&Context {
        target: &target,
        policy,
        now,
        previous: 0,
        worker: &worker,
        signals: &signals,
        outlook,
        pool_forecast: &[],
        state,
    })
}
