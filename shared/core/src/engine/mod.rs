//! The pure decision engine: `(target config, state, observations, now) ->
//! Decision`. No I/O, no clock, no randomness. Every term that can change the
//! count is a step in the decision's chain, so each result is explainable.
//! [`decide`] is the ordered list of the rules (`rules/`, one file each);
//! the signals' assessment is in `signals/`, the forecast's maths in `forecast/`.

pub mod arrivals;
mod capacity;
mod chain;
mod decision;
pub mod forecast;
pub mod load_history;
mod observation;
mod partition_codec;
pub mod partition_history;
mod provisioned;
pub mod queueing;
mod rules;
mod signals;
mod state;
pub(crate) mod time;

use jiff::Timestamp;

pub use capacity::{CapacityShortfall, LearnedStartup};
pub use decision::{
    Decision, Direction, PartitionLag, PartitionRequest, SignalAssessment, Step, Term,
    DECISION_SCHEMA_VERSION,
};
pub use observation::{
    KafkaOffsets, Measurement, Observations, PartitionOffsets, SignalReading, SqsDepth,
    TopicOffsets, WorkerObservation,
};
pub use provisioned::ProvisionedChange;
pub use signals::partition_lag;
pub use state::{
    LastReconcile, ManualHold, PartitionProgress, Pause, PauseScope, PendingCohort,
    RegisteredEvent, ScalingAction, SignalHealth, TargetState, TimedCount, TimedValue,
    STATE_SCHEMA_VERSION,
};

use crate::config::{
    ForecastMode, HumanDuration, PolicyConfig, StartupTime, TargetConfig, WorkerConfig,
};
use chain::{explanation, Chain};
use forecast::{Outlook, PoolPart};
use rules::{Context, Signals};
use signals::AssessedSignal;

/// Decides the worker count of one target.
///
/// `state` is what the previous decision returned (or default). The returned
/// `next_state` assumes the decision is applied; if applying fails, the shell
/// calls [`TargetState::forget_action`] before saving it. Deciding again at the
/// same `now` with the same observations and the returned state gives the same
/// decision and state.
///
/// The rules apply in this order (the steps of docs/decisions.md):
/// 1. signals assessed (`signals`), untrusted ones marked; no trusted
///    signal holds the count (`untrusted`);
/// 2. target tracking and tolerance (`tracking`);
/// 3. stuck partitions do not drive scale-out (`stuck`);
/// 4. the caps: Kafka partitions, FIFO message groups (`caps`);
/// 5. activation from zero (`activation`); no scale-out on suspected
///    poison messages (`poison`);
/// 6. stabilization windows, with safe adoption (`adoption`,
///    `stabilization`), and the forecast's release of the scale-in window
///    (`forecast`);
/// 7. rate limits (`rate_limit`);
/// 8. cooldowns, and the forecast's lift of the scale-in cooldown
///    (`cooldown`); the FIFO groups' ceiling over both (`caps`);
/// 9. untrusted data: the fallback (`fallback`), else no scale-in (`untrusted`);
/// 10. no scale-in during a deployment (`deployment`), nor below the tasks
///     holding scale-in protection (`protection`); never zero with stuck
///     partitions (`stuck`);
/// 11. a count set outside qscale held (`manual`); floors from schedules
///     and events (`floor`), then the forecast's floor (`forecast`), unless
///     paused; no move in a paused direction (`pause`);
/// 12. bounds: min, max, the worker's own range (`bounds`).
pub fn decide(
    target: &TargetConfig,
    state: &TargetState,
    observations: &Observations,
    now: Timestamp,
) -> Decision {
    let resolved = resolve_startup(target, state);
    let (target, learned_startup) = match &resolved {
        Some((t, learned)) => (t, Some(learned.clone())),
        None => (target, None),
    };
    let policy = &target.policy;
    let worker = &observations.worker;
    let previous = worker.desired;
    let mut next = state.clone();
    next.schema_version = STATE_SCHEMA_VERSION;
    let manual = rules::manual::detect(policy, state, worker, now, &mut next);
    let paused = rules::pause::notice(&mut next, now);
    // An actuation whose answer was lost counts only if the fleet shows it.
    next.confirm_action(worker.desired);
    // A replay of the same tick re-derives its decision from scratch.
    next.actions.retain(|a| a.at != now);
    next.recommendations.retain(|r| r.at != now);

    let assessed = signals::assess_all(
        &target.signals,
        policy,
        &observations.signals,
        (previous, worker.running),
        now,
        &mut next,
    );
    let signals = Signals::of(&assessed, policy, previous);
    record_arrivals(&mut next, state, policy, &signals, now);
    let (outlook, pool_forecast) = forecast_outlook(&mut next, policy, &signals, now)
        .map_or((None, Vec::new()), |(o, parts)| (Some(o), parts));
    // Every decision claims its tick, whatever its signals said: a tick
    // decided on failed reads can still act (the fallback) and audits, and
    // a rival that saw it unclaimed would do both again.
    next.last_tick = Some(now);
    if !signals.trusted.is_empty() {
        rules::adoption::adopt(&mut next, now, previous);
    }

    let ctx = Context {
        target,
        policy,
        now,
        previous,
        worker,
        signals: &signals,
        outlook: outlook.as_ref(),
        pool_forecast: &pool_forecast,
        state: &next,
    };
    let mut chain = Chain::new(previous);
    rules::untrusted::no_trusted_signal(&ctx, &mut chain);
    rules::tracking::apply(&ctx, &mut chain);
    rules::stuck::exclude_from_scale_out(&ctx, &mut chain);
    rules::caps::apply(&ctx, &mut chain);
    rules::activation::apply(&ctx, &mut chain);
    rules::poison::hold_scale_out(&ctx, &mut chain);
    chain.recommend(!signals.trusted.is_empty());
    rules::stabilization::apply(&ctx, &mut chain);
    rules::forecast::release_scale_in_window(&ctx, &mut chain);
    rules::rate_limit::apply(&ctx, &mut chain);
    rules::cooldown::apply(&ctx, &mut chain);
    rules::caps::fifo_ceiling(&ctx, &mut chain);
    rules::fallback::apply(&ctx, &mut chain);
    rules::untrusted::hold_scale_in(&ctx, &mut chain);
    rules::deployment::apply(&ctx, &mut chain);
    let protection = rules::protection::apply(&ctx, &mut chain);
    rules::stuck::never_zero(&ctx, &mut chain);
    rules::manual::hold(&ctx, &mut chain);
    let floor = rules::floor::apply(&ctx, &mut chain);
    let period = rules::forecast::floor(&ctx, &mut chain);
    rules::pause::hold(&ctx, &mut chain);
    rules::bounds::apply(&ctx, &mut chain);

    rules::stabilization::remember(&mut next, now, &chain);
    next.last_decided = Some(ScalingAction {
        at: now,
        from: previous,
        to: chain.value,
    });
    let mut notices: Vec<String> = manual.into_iter().chain(paused).chain(protection).collect();
    if let Some(change) = period {
        next.forecast_period = change.period;
        notices.extend(change.notice);
    }
    // Lambda workers with a qualifier keep the window's floor initialized.
    let (provisioned, owned) =
        rules::floor::keep_floor_warm(target, worker, state.provisioned, floor.as_ref());
    next.provisioned = owned;
    let capacity = capacity::assess(
        &mut next,
        worker,
        state.last_decided.is_some_and(|d| worker.desired < d.to),
        chain.value,
        matches!(&target.worker, WorkerConfig::Ecs(e) if e.spillover.is_some()),
        startup_of(policy),
        now,
    );
    notices.extend(capacity.notices);
    let pooled = signals.pooled.as_ref().map(|p| p.wanted);
    Decision {
        provisioned,
        notices,
        capacity_shortfall: capacity.shortfall,
        spillover: capacity.spillover,
        startup: learned_startup,
        ..finish(target, observations, now, chain, assessed, pooled, next)
    }
}

/// The start-up a scale-out waits for: the SLO's (resolved, when learned),
/// else its default (1m).
fn startup_of(policy: &PolicyConfig) -> jiff::SignedDuration {
    let startup = policy
        .slo
        .as_ref()
        .map_or(StartupTime::DEFAULT, |slo| slo.startup.fixed_or_default());
    jiff::SignedDuration::try_from(startup.0).unwrap_or(jiff::SignedDuration::MAX)
}

/// `slo.startup: learned` resolved from the state's pending-to-running
/// times: the target with that start-up fixed for this decision, and what
/// it was learnt from; none when the start-up is fixed.
fn resolve_startup(
    target: &TargetConfig,
    state: &TargetState,
) -> Option<(TargetConfig, LearnedStartup)> {
    let slo = target.policy.slo.as_ref()?;
    if slo.startup != StartupTime::Learned {
        return None;
    }
    let learned = capacity::learned_startup(&state.startup_samples);
    let mut resolved = target.clone();
    if let Some(slo) = resolved.policy.slo.as_mut() {
        slo.startup = StartupTime::Fixed(HumanDuration::secs(u64::from(learned.seconds)));
    }
    Some((resolved, learned))
}

/// The traffic on record (audit events carry it): only when every signal
/// was read and shows its rate.
fn record_arrivals(
    next: &mut TargetState,
    state: &TargetState,
    policy: &PolicyConfig,
    signals: &Signals,
    now: Timestamp,
) {
    let rates: Option<Vec<f64>> = signals
        .assessed
        .iter()
        .map(|a| a.assessment.arrival_rate)
        .collect();
    if let Some(rates) = rates.filter(|r| !r.is_empty() && !signals.any_untrusted) {
        // A rate describes the interval since the previous tick: file it at
        // that interval's middle (a minute's tick describes the minute
        // before). A first tick's rate is what it sees now.
        let since = state
            .last_tick
            .map(|t| now.duration_since(t).as_secs().clamp(0, 120))
            .unwrap_or(0);
        let middle = time::minus(now, jiff::SignedDuration::from_secs(since / 2));
        next.arrivals
            .record(now, middle, policy.aggregate.combine(rates.iter().copied()));
    }
}

/// Records the offered load into the history and reads the forecast's
/// outlook, once (the scale-in window, the cooldown lift and the forecast's
/// floor all read it): with the forecast on and every signal trusted. A
/// pool of several signals also records each signal's load in its own
/// history and forecasts the sum of their outlooks (`forecast::pool`); the
/// parts come back beside the pool's outlook.
fn forecast_outlook(
    next: &mut TargetState,
    policy: &PolicyConfig,
    signals: &Signals,
    now: Timestamp,
) -> Option<(Outlook, Vec<PoolPart>)> {
    if policy.forecast.mode == ForecastMode::Off
        || signals.trusted.is_empty()
        || signals.any_untrusted
    {
        return None;
    }
    // As the reactive sizing combines them: one pool's load, or the largest.
    let load = policy
        .aggregate
        .combine(signals.trusted.iter().filter_map(|a| a.offered_load));
    next.load_history.record(now, load);
    let lead = policy.forecast.lead.as_secs_f64();
    if signals.pooled.is_none() {
        next.signal_load_history.clear();
        next.signal_forecast_periods.clear();
        let outlook =
            forecast::outlook_keeping(&next.load_history, now, lead, next.forecast_period);
        return Some((outlook, Vec::new()));
    }
    let names: std::collections::BTreeSet<&str> = signals
        .trusted
        .iter()
        .map(|a| a.assessment.signal.as_str())
        .collect();
    next.signal_load_history
        .retain(|name, _| names.contains(name.as_str()));
    next.signal_forecast_periods
        .retain(|name, _| names.contains(name.as_str()));
    let parts: Vec<PoolPart> = signals
        .trusted
        .iter()
        .map(|a| {
            let name = a.assessment.signal.clone();
            let load = a.offered_load.unwrap_or(0.0);
            let history = next.signal_load_history.entry(name.clone()).or_default();
            history.record(now, load);
            // Persistence, as the forecast measures it: the last whole minute
            // (one tick's reading is too noisy to floor on).
            let current = history.complete(now).last().copied().unwrap_or(load);
            let in_use = next.signal_forecast_periods.get(&name).copied();
            let outlook = forecast::outlook_keeping(history, now, lead, in_use);
            match outlook {
                Outlook::Forecast { period, .. } => next
                    .signal_forecast_periods
                    .insert(name.clone(), period as u32),
                _ => next.signal_forecast_periods.remove(&name),
            };
            PoolPart {
                signal: name,
                outlook,
                current,
            }
        })
        .collect();
    Some((forecast::combined(&parts), parts))
}

/// The decision from the finished chain: the direction, the action on
/// record, the trimmed state and the explanation (no provisioned change or
/// notices: `decide` adds those).
fn finish(
    target: &TargetConfig,
    observations: &Observations,
    now: Timestamp,
    chain: Chain,
    assessed: Vec<AssessedSignal>,
    pooled: Option<u32>,
    mut next: TargetState,
) -> Decision {
    let previous = observations.worker.desired;
    let desired = chain.value;
    let direction = match desired.cmp(&previous) {
        std::cmp::Ordering::Greater => Direction::ScaleOut,
        std::cmp::Ordering::Less => Direction::ScaleIn,
        std::cmp::Ordering::Equal => Direction::None,
    };
    if direction != Direction::None {
        next.actions.push(ScalingAction {
            at: now,
            from: previous,
            to: desired,
        });
    }
    trim(&mut next, target, now);
    let partition_requests: Vec<_> = assessed
        .iter()
        .filter(|a| a.wanted.is_some())
        .filter_map(|a| a.partition_request.clone())
        .collect();
    let bounded_by = chain.binding_terms();
    let explanation = explanation(
        &target.name,
        previous,
        desired,
        direction,
        &assessed,
        pooled,
        &bounded_by,
    );
    Decision {
        schema_version: DECISION_SCHEMA_VERSION,
        target: target.name.clone(),
        at: now,
        previous,
        desired,
        direction,
        running: observations.worker.running,
        pending: observations.worker.pending,
        signals: assessed.into_iter().map(|a| a.assessment).collect(),
        partition_requests,
        provisioned: None,
        steps: chain.steps,
        bounded_by,
        explanation,
        notices: Vec::new(),
        next_state: next,
        capacity_shortfall: None,
        spillover: None,
        startup: None,
    }
}

/// Keeps state bounded: only what windows, cooldowns, periods and events still need.
fn trim(next: &mut TargetState, target: &TargetConfig, now: Timestamp) {
    let p = &target.policy;
    let window = p
        .scale_out
        .stabilization
        .max(p.scale_in.stabilization)
        .signed();
    next.recommendations
        .retain(|r| time::plus(r.at, window) > now || r.at == now);
    let horizon = [p.scale_out.cooldown, p.scale_in.cooldown]
        .into_iter()
        .chain(p.scale_out.rate_limits.policies.iter().map(|r| r.period()))
        .chain(p.scale_in.rate_limits.policies.iter().map(|r| r.period()))
        .max()
        .unwrap_or_default()
        .signed();
    next.actions.retain(|a| time::plus(a.at, horizon) > now);
    next.events.retain(|e| e.end > now);
}

#[cfg(test)]
mod tests;
