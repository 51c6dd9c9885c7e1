//! Sizing by a wait SLO: Erlang C for the load in progress, the backlog
//! cleared within one wait, queue growth as arrivals, and default scale-out
//! rate limits that do not hold a burst back.

use super::*;
use crate::config::SloConfig;

/// 200 ms messages, 60 s p99 wait; the default policy otherwise.
fn slo_policy() -> PolicyConfig {
    let mut p = PolicyConfig::with_target(0, 1000, 150.0);
    p.slo = Some(SloConfig {
        wait: HumanDuration::secs(60),
        percentile: 99.0,
        processing_time: Some(HumanDuration(std::time::Duration::from_millis(200))),
        startup: crate::config::StartupTime::Fixed(HumanDuration::secs(60)),
    });
    p
}

#[test]
fn a_big_busy_fleet_runs_near_full_utilization() {
    // 100 messages in flight = 100 busy workers. At 80% utilization the old
    // keep-up term asks 125; the queueing model needs one or two spare.
    let depth = SqsDepth {
        visible: 0,
        in_flight: 100,
        delayed: 0,
        ..SqsDepth::default()
    };
    // From the 100 that hold them, with no tolerance band.
    let mut p = slo_policy();
    p.tolerance = 0.0;
    let d = decide_sqs(p, 100, depth);
    assert!((101..=103).contains(&d.desired), "{}", d.explain());
    assert!(
        d.signals[0].detail.contains("Erlang C"),
        "{}",
        d.signals[0].detail
    );
    let mut old = slo_policy();
    old.slo = None;
    assert_eq!(decide_sqs(old, 100, depth).desired, 125);
}

#[test]
fn a_burst_gets_its_whole_need_in_one_step() {
    // From one idle worker, 12,000 waiting: 12,000 × 0.2 s / 60 s = 40
    // workers to clear it within one wait. The default scale-out rate limit (16 pods or
    // 1500% per minute) would give 17; under `slo` it does not apply.
    let d = decide_sqs(slo_policy(), 1, visible(12_000));
    assert_eq!(d.desired, 40, "{}", d.explain());
    assert!(
        !d.bounded_by.contains(&Term::ScaleOutRateLimit),
        "{:?}",
        d.bounded_by
    );
    // Limits the user configured still hold.
    let mut limited = slo_policy();
    limited.scale_out.rate_limits.policies = vec![RateLimitPolicy::Pods {
        value: 4,
        period: HumanDuration::secs(60),
    }];
    let d = decide_sqs(limited, 1, visible(12_000));
    assert_eq!(d.desired, 5);
    assert!(d.bounded_by.contains(&Term::ScaleOutRateLimit));
}

#[test]
fn a_growing_queue_counts_as_arrivals_the_fleet_does_not_serve() {
    let mut p = slo_policy();
    // Instant start-up: the growth during it is the next test's subject.
    p.slo.as_mut().unwrap().startup = crate::config::StartupTime::Fixed(HumanDuration::secs(0));
    for d in [&mut p.scale_out, &mut p.scale_in] {
        d.cooldown = HumanDuration::secs(0);
        d.stabilization = HumanDuration::secs(0);
    }
    let tg = target(p, vec![sqs_signal("q")]);
    let depth = |visible| SqsDepth {
        visible,
        in_flight: 10,
        delayed: 0,
        ..SqsDepth::default()
    };
    let first = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(10, t(0), depth(600)),
        t(0),
    );
    // 60 s later the queue grew by 6,000: arrivals exceed completions by
    // 100 msg/s = 20 more busy workers, beside the 10 in flight.
    let second = decide(
        &tg,
        &first.next_state,
        &sqs_obs(10, t(60), depth(6_600)),
        t(60),
    );
    let detail = &second.signals[0].detail;
    assert!(
        detail.contains("queue growing 100.0 msg/s = 30.0 busy"),
        "{detail}"
    );
    // Erlang C for 30 busy, plus 6,610 × 0.2 / 60 = 23 to clear the backlog.
    assert!(
        (31 + 23..=33 + 23).contains(&second.desired),
        "{}",
        second.explain()
    );
    // A replay of the same tick finds the same earlier sample.
    let again = decide(
        &tg,
        &second.next_state,
        &sqs_obs(10, t(60), depth(6_600)),
        t(60),
    );
    assert_eq!(again.desired, second.desired);
    assert_eq!(again.next_state, second.next_state);
}

/// Two readings 15 s apart on a fleet of `desired` with nothing in flight:
/// the second decision.
fn after_growth(p: PolicyConfig, desired: u32, first: u64, second: u64) -> Decision {
    let tg = target(p, vec![sqs_signal("q")]);
    let first = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(desired, t(0), visible(first)),
        t(0),
    );
    decide(
        &tg,
        &first.next_state,
        &sqs_obs(desired, t(15), visible(second)),
        t(15),
    )
}

#[test]
fn a_fleet_falling_behind_is_sized_for_the_backlog_its_new_workers_will_find() {
    // A storm on an empty fleet: 3,000 in 15 s is 200 msg/s beyond it. By the
    // time new workers have started (1 m), 12,000 more wait: 3,000 + 12,000
    // cleared within 60 s at 0.2 s is 50 workers, beside Erlang C for the
    // 40 busy the arrivals offer (41-43).
    let d = after_growth(slo_policy(), 0, 0, 3_000);
    let detail = &d.signals[0].detail;
    assert!(
        detail.contains("backlog 3000 + 12000 arriving beyond the fleet during 1m start-up"),
        "{detail}"
    );
    assert!((41 + 50..=43 + 50).contains(&d.desired), "{}", d.explain());
    // Sized for today's backlog only, it would be 10 short of the drain.
    let mut instant = slo_policy();
    instant.slo.as_mut().unwrap().startup =
        crate::config::StartupTime::Fixed(HumanDuration::secs(0));
    let without = after_growth(instant, 0, 0, 3_000);
    assert_eq!(d.desired - without.desired, 40, "{}", without.explain());
}

#[test]
fn a_fleet_that_clears_its_backlog_in_time_ignores_small_growth() {
    // 30 workers clear 30 × 60 / 0.2 = 9,000 messages within one wait; 150
    // more in 15 s (10 msg/s, 600 during start-up) leaves 750 by then: noise a
    // steady fleet rides out, so start-up adds nothing.
    let d = after_growth(slo_policy(), 30, 0, 150);
    let detail = &d.signals[0].detail;
    assert!(!detail.contains("start-up"), "{detail}");
    assert!(detail.contains("backlog 150 cleared"), "{detail}");
}

#[test]
fn slo_settings_are_validated_with_their_field() {
    let yaml = |slo: &str| {
        format!(
            "targets:\n  - name: a\n    signals: [ {{ sqs: {{ name: q, queue: q }} }} ]\n    worker: {{ ecs: {{ cluster: c, service: s }} }}\n    policy: {{ min: 0, max: 5, target_per_worker: 10, slo: {slo} }}\n"
        )
    };
    let errors = |slo: &str| match crate::config::Config::from_yaml(&yaml(slo)) {
        Err(crate::config::ConfigError::Invalid(e)) => {
            e.iter().map(|e| e.to_string()).collect::<Vec<_>>()
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(
        errors("{ wait: 60s }"),
        vec!["targets[0].policy.slo: needs a processing time: set slo.processing_time or latency.processing_time_per_message"]
    );
    assert_eq!(
        errors("{ wait: 60s, percentile: 100, processing_time: 200ms }"),
        vec!["targets[0].policy.slo.percentile: 100 must be above 0 and below 100"]
    );
    assert!(
        crate::config::Config::from_yaml(&yaml("{ wait: 60s, processing_time: 200ms }")).is_ok()
    );
}

/// A state with `minutes` of load history: 60 busy workers in minute 3 of
/// every 15, 2 otherwise.
fn quarter_hour_bursts(minutes: i64) -> TargetState {
    let mut state = TargetState::default();
    for m in 0..minutes {
        let load = if m % 15 == 3 { 60.0 } else { 2.0 };
        state.load_history.record(t(m * 60), load);
    }
    state
}

#[test]
fn a_periodic_forecast_raises_the_floor_ahead_and_forecast_only_just_says_so() {
    use crate::config::ForecastMode;
    let state = quarter_hour_bursts(40);
    let mut p = slo_policy();
    p.forecast.mode = ForecastMode::ForecastAndScale;
    let tg = target(p.clone(), vec![sqs_signal("q")]);
    let quiet = SqsDepth {
        visible: 0,
        in_flight: 2,
        delayed: 0,
        ..SqsDepth::default()
    };
    // Minute 47: the burst of minute 48 is within the 2-minute lead.
    let d = decide(&tg, &state, &sqs_obs(3, t(47 * 60), quiet), t(47 * 60));
    assert!((61..=64).contains(&d.desired), "{}", d.explain());
    assert!(d.bounded_by.contains(&Term::Forecast), "{:?}", d.bounded_by);
    // Minute 40: the next burst is 8 minutes away; nothing is raised.
    let d = decide(&tg, &state, &sqs_obs(3, t(40 * 60), quiet), t(40 * 60));
    assert!(d.desired <= 4, "{}", d.explain());
    // forecast_only: the same forecast is a step that changes nothing.
    p.forecast.mode = ForecastMode::ForecastOnly;
    let tg = target(p, vec![sqs_signal("q")]);
    let d = decide(&tg, &state, &sqs_obs(3, t(47 * 60), quiet), t(47 * 60));
    assert!(d.desired <= 4, "{}", d.explain());
    let step = d.steps.iter().find(|s| s.term == Term::Forecast).unwrap();
    assert!(!step.binding && step.detail.starts_with("forecast_only, not applied"));
}

#[test]
fn a_known_quiet_stretch_lifts_the_scale_in_cooldown_after_a_burst() {
    use crate::config::ForecastMode;
    use crate::engine::state::ScalingAction;
    // The last burst at minute 48.
    let mut state = quarter_hour_bursts(50);
    state.adopted_at = Some(t(0));
    // The burst's fleet, then a first step down at minute 49 that starts
    // the 5-minute scale-in cooldown (the scale-in window holds nothing
    // more: only the cooldown stands in the way).
    state.actions = vec![
        ScalingAction {
            at: t(47 * 60),
            from: 3,
            to: 100,
        },
        ScalingAction {
            at: t(49 * 60),
            from: 100,
            to: 62,
        },
    ];
    let quiet = SqsDepth {
        visible: 0,
        in_flight: 2,
        delayed: 0,
        ..SqsDepth::default()
    };
    let mut p = slo_policy();
    p.forecast.mode = ForecastMode::ForecastAndScale;
    let tg = target(p.clone(), vec![sqs_signal("q")]);
    // Minute 50: the next burst is at minute 63, after the cooldown ends.
    let d = decide(&tg, &state, &sqs_obs(62, t(50 * 60), quiet), t(50 * 60));
    assert!(d.desired <= 4, "{}", d.explain());
    assert!(
        !d.bounded_by.contains(&Term::ScaleInCooldown),
        "{:?}",
        d.bounded_by
    );
    assert!(
        d.steps
            .iter()
            .any(|s| s.detail.contains("cooldown is lifted")),
        "{}",
        d.explain()
    );
    // Without the forecast the cooldown holds the 62.
    p.forecast.mode = ForecastMode::Off;
    let tg = target(p, vec![sqs_signal("q")]);
    let d = decide(&tg, &state, &sqs_obs(62, t(50 * 60), quiet), t(50 * 60));
    assert_eq!(d.desired, 62, "{}", d.explain());
    assert!(
        d.bounded_by.contains(&Term::ScaleInCooldown),
        "{:?}",
        d.bounded_by
    );
}

#[test]
fn a_learned_start_up_comes_from_the_workers_own_pending_times() {
    let mut p = slo_policy();
    p.slo.as_mut().unwrap().startup = crate::config::StartupTime::Learned;
    let tg = target(p, vec![sqs_signal("q")]);
    // Three scale-outs whose tasks took 100, 110 and 120 s to run.
    let mut state = TargetState::default();
    let mut at = 0;
    for took in [100, 110, 120] {
        for (dt, pending) in [(0, 0), (took, 10)] {
            let mut obs = sqs_obs(if dt == 0 { 0 } else { 10 }, t(at + dt), visible(0));
            obs.worker.pending = pending;
            // Ask 10 at the first tick (a backlog), then see them pending.
            if dt == 0 {
                obs.signals = sqs_obs(0, t(at), visible(3000)).signals;
            }
            state = decide(&tg, &state, &obs, t(at + dt)).next_state;
        }
        // All 10 running now: one start-up each scale-out.
        let mut obs = sqs_obs(10, t(at + took + 1), visible(0));
        obs.worker.running = 10;
        state = decide(&tg, &state, &obs, t(at + took + 1)).next_state;
        at += 1000;
    }
    assert_eq!(
        state.startup_samples.len(),
        3,
        "{:?}",
        state.startup_samples
    );
    let d = decide(&tg, &state, &sqs_obs(10, t(at), visible(0)), t(at));
    let learned = d.startup.clone().unwrap();
    assert_eq!(learned.samples, 3);
    assert!((100..=121).contains(&learned.seconds), "{learned:?}");
    assert!(d
        .explain()
        .contains(&format!("start-up: {} s, learned", learned.seconds)));
    // A fixed start-up reports none.
    let fixed = target(slo_policy(), vec![sqs_signal("q")]);
    assert_eq!(
        decide(&fixed, &state, &sqs_obs(10, t(at), visible(0)), t(at)).startup,
        None
    );
}
