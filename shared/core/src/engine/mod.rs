//! The pure decision engine: `(target config, state, observations, now) ->
//! Decision`. No I/O, no clock, no randomness. Every term that can change the
//! count is a step in the decision's chain, so each result is explainable.
//!
//! Slightly over 400 lines on purpose: this file is the pipeline, one idea,
//! read top to bottom; each stage's arithmetic lives in its own module
//! (signals, stabilization, rate_limit, cooldown, floor, forecast).

pub mod arrivals;
mod chain;
mod cooldown;
mod decision;
mod floor;
pub mod forecast;
mod observation;
pub mod partition_history;
mod provisioned;
pub mod queueing;
mod rate_limit;
mod signals;
mod stabilization;
mod state;

use jiff::Timestamp;

pub use decision::{
    Decision, Direction, PartitionLag, PartitionRequest, SignalAssessment, Step, Term,
    DECISION_SCHEMA_VERSION,
};
pub use observation::{
    KafkaOffsets, Measurement, Observations, PartitionOffsets, SignalReading, SqsDepth,
    WorkerObservation,
};
pub use provisioned::ProvisionedChange;
pub use signals::partition_lag;
pub use state::{
    PartitionProgress, RegisteredEvent, ScalingAction, SignalHealth, TargetState, TimedCount,
    TimedValue, STATE_SCHEMA_VERSION,
};

use crate::config::{ForecastMode, TargetConfig};
use chain::{explanation, Chain};
use stabilization::Window;

/// Decides the worker count of one target.
///
/// `state` is what the previous decision returned (or default). The returned
/// `next_state` assumes the decision is applied; if applying fails, the shell
/// calls [`TargetState::forget_action`] before saving it. Deciding again at the
/// same `now` with the same observations and the returned state gives the same
/// decision and state.
pub fn decide(
    target: &TargetConfig,
    state: &TargetState,
    observations: &Observations,
    now: Timestamp,
) -> Decision {
    let policy = &target.policy;
    let worker = observations.worker;
    let previous = worker.desired;
    let mut next = state.clone();
    next.schema_version = STATE_SCHEMA_VERSION;
    // A replay of the same tick re-derives its decision from scratch.
    next.actions.retain(|a| a.at != now);
    next.recommendations.retain(|r| r.at != now);

    let assessed = signals::assess_all(
        &target.signals,
        policy,
        &observations.signals,
        previous,
        now,
        &mut next,
    );
    let trusted: Vec<_> = assessed.iter().filter(|a| a.wanted.is_some()).collect();
    let any_untrusted = trusted.len() < assessed.len();
    let fallback_due = assessed.iter().any(|a| {
        a.assessment.consecutive_failures > policy.untrusted_data.failures_before_fallback
    });
    let any_stuck = trusted.iter().any(|a| a.stuck_with_lag);
    // The traffic on record (audit events carry it): only when every signal
    // was read and shows its rate.
    let rates: Option<Vec<f64>> = assessed.iter().map(|a| a.assessment.arrival_rate).collect();
    if let Some(rates) = rates.filter(|r| !r.is_empty() && !any_untrusted) {
        // A rate describes the interval since the previous tick: file it at
        // that interval's middle (a minute's tick describes the minute
        // before). A first tick's rate is what it sees now.
        let since = state
            .last_tick
            .map(|t| now.duration_since(t).as_secs().clamp(0, 120))
            .unwrap_or(0);
        let middle = now - jiff::SignedDuration::from_secs(since / 2);
        next.arrivals.record(now, middle, rates.iter().sum());
    }

    // The forecast's outlook, once: the scale-in window and the forecast's
    // floor both read it.
    let outlook = (policy.forecast.mode != ForecastMode::Off
        && !trusted.is_empty()
        && !any_untrusted)
        .then(|| {
            let load: f64 = trusted.iter().filter_map(|a| a.offered_load).sum();
            next.load_history.record(now, load);
            forecast::outlook_keeping(
                &next.load_history,
                now,
                policy.forecast.lead.as_secs_f64(),
                next.forecast_period,
            )
        });
    // Every decision claims its tick, whatever its signals said: a tick
    // decided on failed reads can still act (the fallback) and audits, and
    // a rival that saw it unclaimed would do both again.
    next.last_tick = Some(now);
    let mut chain = Chain::new(previous);
    let mut notices = Vec::new();
    if trusted.is_empty() {
        chain.set(
            Term::NoTrustedSignal,
            previous,
            format!("no signal can be trusted; holding {previous}"),
        );
    } else {
        signal_recommendation(&mut chain, &trusted, policy, previous);
        let total_backlog: u64 = trusted.iter().map(|a| a.backlog).sum();
        if previous == 0 && chain.value > 0 && total_backlog <= policy.activation_backlog {
            chain.set(
                Term::Activation,
                0,
                format!(
                    "at zero and backlog {total_backlog} is not above activation_backlog {}",
                    policy.activation_backlog
                ),
            );
        }
        let recommendation = chain.value;
        // Safe adoption: the first decision for a target (new, or its state
        // reset) records the current count as a recommendation too, so the
        // scale-in window holds it until one window of real observations has
        // passed. HPA and KEDA would scale in at once; AWS waits for 15 low
        // datapoints.
        // (Deciding the adoption tick again re-derives it, like any replay.)
        if next.adopted_at.is_none_or(|at| at == now) {
            next.adopted_at = Some(now);
            next.recommendations.push(TimedCount {
                at: now,
                count: previous,
            });
        }
        next.recommendations.push(TimedCount {
            at: now,
            count: recommendation,
        });
        apply_stabilization(&mut chain, &next, target, now, previous, recommendation);
        if let Some(outlook) = &outlook {
            forecast::release_scale_in_window(
                &mut chain,
                &next,
                policy,
                now,
                outlook,
                recommendation,
            );
        }
        apply_rate_limits(&mut chain, &next, target, now, previous);
        apply_cooldowns(&mut chain, &next, target, now, previous, outlook.as_ref());
    }

    if fallback_due {
        let fallback = policy.untrusted_data.fallback;
        let value = fallback.apply(previous);
        let (v, detail) = if trusted.is_empty() {
            (
                value,
                format!(
                    "signal failures above {}: fallback {fallback:?} gives {value}",
                    policy.untrusted_data.failures_before_fallback
                ),
            )
        } else {
            (value.max(chain.value), format!(
                "signal failures above {}: fallback {fallback:?} gives {value}; trusted signals want {}",
                policy.untrusted_data.failures_before_fallback, chain.value))
        };
        chain.set(Term::Fallback, v, detail);
    } else if any_untrusted && chain.value < previous {
        chain.set(
            Term::UntrustedSignal,
            previous,
            "a signal failed or is stale: no scale-in on data we cannot trust".into(),
        );
    }
    if worker.deployment_in_progress && chain.value < previous {
        chain.set(
            Term::DeploymentInProgress,
            previous,
            "deployment in progress: scale-in suspended".into(),
        );
    }
    if any_stuck && chain.value == 0 {
        chain.set(
            Term::StuckPartitions,
            1,
            "stuck partitions still have lag: never zero".into(),
        );
    }
    let floor = floor::active_floor(target, &next, now);
    if let Some(floor) = &floor {
        let v = chain.value.max(floor.min);
        chain.set(
            Term::Floor,
            v,
            format!("floor {} from {}", floor.min, floor.source),
        );
    }
    if let Some(outlook) = &outlook {
        notices.extend(forecast::apply(&mut chain, &mut next, policy, outlook));
    }
    if chain.value < policy.min {
        chain.set(Term::Min, policy.min, format!("policy.min {}", policy.min));
    }
    if chain.value > policy.max {
        chain.set(Term::Max, policy.max, format!("policy.max {}", policy.max));
    }
    if let crate::config::WorkerConfig::LambdaEventSourceMapping(_) = target.worker {
        let clamped = chain.value.clamp(2, 1000);
        if clamped != chain.value {
            chain.set(
                Term::WorkerLimits,
                clamped,
                "an event-source mapping's MaximumConcurrency must be 2-1000 (AWS)".into(),
            );
        }
    }

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

    // Lambda workers with a qualifier keep the window's floor initialized.
    let wanted_warm = target
        .worker
        .provisioned_qualifier()
        .and(floor.as_ref())
        .filter(|f| f.min > 0)
        .map(|f| (f.min, f.source.as_str()));
    let (provisioned, owned) =
        provisioned::plan(wanted_warm, worker.provisioned, state.provisioned);
    next.provisioned = owned;

    let partition_requests: Vec<_> = trusted
        .iter()
        .filter_map(|a| a.partition_request.clone())
        .collect();
    let bounded_by = chain.binding_terms();
    let explanation = explanation(
        &target.name,
        previous,
        desired,
        direction,
        &assessed,
        &bounded_by,
    );
    Decision {
        schema_version: DECISION_SCHEMA_VERSION,
        target: target.name.clone(),
        at: now,
        previous,
        desired,
        direction,
        running: worker.running,
        pending: worker.pending,
        signals: assessed.into_iter().map(|a| a.assessment).collect(),
        partition_requests,
        provisioned,
        steps: chain.steps,
        bounded_by,
        explanation,
        notices,
        next_state: next,
    }
}

/// Target tracking over the trusted signals: the max of each stage.
fn signal_recommendation(
    chain: &mut Chain,
    trusted: &[&signals::AssessedSignal],
    policy: &crate::config::PolicyConfig,
    previous: u32,
) {
    let stage = |i: usize| {
        trusted
            .iter()
            .filter_map(|a| a.stages.map(|s| s[i]))
            .max()
            .unwrap_or(0)
    };
    let wanted = trusted.iter().filter_map(|a| a.wanted).max().unwrap_or(0);
    let backlogs = trusted
        .iter()
        .map(|a| format!("{} {}", a.assessment.signal, a.backlog))
        .collect::<Vec<_>>()
        .join(", ");
    let sizing = match &policy.slo {
        Some(slo) => format!(
            "backlog ({backlogs}) and load sized for a p{} wait <= {} (see signals)",
            slo.percentile, slo.wait
        ),
        None => format!(
            "backlog ({backlogs}) at {} per worker",
            policy.target_per_worker()
        ),
    };
    chain.set(Term::TargetTracking, stage(0), sizing);
    if stage(1) != stage(0) {
        chain.set(
            Term::Tolerance,
            stage(1),
            format!("within tolerance of the current {previous}"),
        );
    }
    if trusted.iter().any(|a| a.stuck_with_lag) {
        chain.set(
            Term::StuckPartitions,
            stage(2),
            "stuck partitions' lag does not drive scale-out".into(),
        );
    }
    if trusted
        .iter()
        .any(|a| a.capped || a.partition_request.is_some())
        || wanted != chain.value
    {
        chain.set(
            Term::PartitionCap,
            wanted,
            "workers capped by Kafka partitions (see signals)".into(),
        );
    }
}

fn apply_stabilization(
    chain: &mut Chain,
    next: &TargetState,
    target: &TargetConfig,
    now: Timestamp,
    previous: u32,
    recommendation: u32,
) {
    let p = &target.policy;
    let (value, window) = stabilization::stabilize(
        &next.recommendations,
        now,
        previous,
        recommendation,
        p.scale_out.stabilization,
        p.scale_in.stabilization,
    );
    match window {
        Some(Window::ScaleOut) => chain.set(
            Term::ScaleOutStabilization,
            value,
            format!(
                "min recommendation over the last {}",
                p.scale_out.stabilization
            ),
        ),
        Some(Window::ScaleIn) => chain.set(
            Term::ScaleInStabilization,
            value,
            format!(
                "max recommendation over the last {}",
                p.scale_in.stabilization
            ),
        ),
        None if value != chain.value => chain.set(
            Term::TargetTracking,
            value,
            "stabilized to the current count".into(),
        ),
        None => {}
    }
}

fn apply_rate_limits(
    chain: &mut Chain,
    next: &TargetState,
    target: &TargetConfig,
    now: Timestamp,
    previous: u32,
) {
    let p = &target.policy;
    if chain.value > previous {
        // Under `slo` the default scale-out limits are off (see PolicyConfig).
        let Some(limits) = p.scale_out_rate_limits() else {
            return;
        };
        let limit = rate_limit::scale_out_limit(previous, &next.actions, now, limits);
        if chain.value > limit {
            chain.set(
                Term::ScaleOutRateLimit,
                limit,
                format!(
                    "scale-out rate limit ({:?} of {} policies) allows {limit}",
                    limits.select,
                    limits.policies.len()
                ),
            );
        }
    } else if chain.value < previous {
        let limit =
            rate_limit::scale_in_limit(previous, &next.actions, now, &p.scale_in.rate_limits);
        if chain.value < limit {
            chain.set(
                Term::ScaleInRateLimit,
                limit,
                format!(
                    "scale-in rate limit ({:?} of {} policies) allows {limit}",
                    p.scale_in.rate_limits.select,
                    p.scale_in.rate_limits.policies.len()
                ),
            );
        }
    }
}

fn apply_cooldowns(
    chain: &mut Chain,
    next: &TargetState,
    target: &TargetConfig,
    now: Timestamp,
    previous: u32,
    outlook: Option<&forecast::Outlook>,
) {
    let p = &target.policy;
    if chain.value < previous {
        if let Some(last) =
            cooldown::running_scale_in_cooldown(&next.actions, now, p.scale_in.cooldown)
        {
            let end = last.at + p.scale_in.cooldown.signed();
            if outlook
                .is_some_and(|o| forecast::lift_scale_in_cooldown(chain, next, p, now, o, end))
            {
                return;
            }
            chain.set(
                Term::ScaleInCooldown,
                previous,
                format!(
                    "scale-in cooldown {} since the scale-in at {}",
                    p.scale_in.cooldown, last.at
                ),
            );
        }
    } else if chain.value > previous {
        if let Some(last) =
            cooldown::running_scale_out_cooldown(&next.actions, now, p.scale_out.cooldown)
        {
            if chain.value <= last.to {
                chain.set(
                    Term::ScaleOutCooldown,
                    previous,
                    format!(
                        "scale-out cooldown {}: the scale-out at {} already asked for {}",
                        p.scale_out.cooldown, last.at, last.to
                    ),
                );
            }
        }
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
        .retain(|r| r.at + window > now || r.at == now);
    let horizon = [p.scale_out.cooldown, p.scale_in.cooldown]
        .into_iter()
        .chain(p.scale_out.rate_limits.policies.iter().map(|r| r.period()))
        .chain(p.scale_in.rate_limits.policies.iter().map(|r| r.period()))
        .max()
        .unwrap_or_default()
        .signed();
    next.actions.retain(|a| a.at + horizon > now);
    next.events.retain(|e| e.end > now);
}

#[cfg(test)]
mod tests;
