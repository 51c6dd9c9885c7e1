//! Floors, untrusted data, deployments, and state that stays bounded.

use super::*;

// 9. Floors ------------------------------------------------------------------------

#[test]
fn schedule_floor_applies_lead_early_and_overrides_scale_in_but_not_max() {
    let mut p = cooled(0, 3600);
    p.max = 8;
    let mut tg = target(p, vec![sqs_signal("q")]);
    tg.schedules.push(ScheduleConfig {
        name: "morning".into(),
        cron: "0 8 * * *".parse().unwrap(),
        timezone: "Europe/Paris".parse().unwrap(),
        duration: HumanDuration::secs(3600),
        min: 6,
        lead: Some(HumanDuration::secs(600)),
    });
    // 2026-11-23 08:00 Paris = 07:00Z = t(25200); lead 10 min → 06:50Z.
    let before = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(1, t(24_599), visible(0)),
        t(24_599),
    );
    assert_eq!(before.desired, 0);
    let lead = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(1, t(24_600), visible(0)),
        t(24_600),
    );
    assert_eq!(lead.desired, 6);
    assert_eq!(lead.bounded_by, vec![Term::TargetTracking, Term::Floor]);
    tg.schedules[0].min = 20;
    let capped = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(1, t(25_000), visible(0)),
        t(25_000),
    );
    assert_eq!(capped.desired, 8, "a floor never exceeds max");
}

#[test]
fn registered_event_floor_overrides_cooldown_and_expires() {
    let tg = target(cooled(0, 3600), vec![sqs_signal("q")]);
    let mut state = TargetState::default();
    state.actions.push(ScalingAction {
        at: t(0),
        from: 10,
        to: 3,
    });
    state.register_event(RegisteredEvent {
        name: "launch".into(),
        start: t(1000),
        end: t(2000),
        min: 12,
    });
    // Default lead 5m: the floor starts at t(700) even inside the scale-in cooldown.
    let d = decide(&tg, &state, &sqs_obs(3, t(650), visible(0)), t(650));
    assert_eq!(d.desired, 3);
    let d = decide(&tg, &state, &sqs_obs(3, t(700), visible(0)), t(700));
    assert_eq!(d.desired, 12);
    let after = decide(
        &tg,
        &d.next_state,
        &sqs_obs(12, t(2000), visible(0)),
        t(2000),
    );
    assert!(
        after.next_state.events.is_empty(),
        "expired events are trimmed"
    );
    assert!(after.desired < 12 || after.bounded_by.contains(&Term::ScaleInCooldown));
}

// 10. Untrusted data -------------------------------------------------------------

#[test]
fn failed_or_stale_signal_never_scales_in() {
    let tg = target(plain(0, 100, 10.0), vec![sqs_signal("q")]);
    let d = decide(&tg, &TargetState::default(), &failed(7), t(0));
    assert_eq!(d.desired, 7);
    assert_eq!(d.bounded_by, vec![]);
    assert!(d.steps.iter().any(|s| s.term == Term::NoTrustedSignal));
    // Stale: observed 10 minutes ago with max_signal_age 5m.
    let d = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(7, t(0), visible(0)),
        t(600),
    );
    assert_eq!(d.desired, 7);
    assert!(
        d.signals[0].detail.starts_with("stale"),
        "{}",
        d.signals[0].detail
    );
    // A trusted second signal may scale out, never in, while the first fails.
    let tg2 = target(plain(0, 100, 10.0), vec![sqs_signal("q"), sqs_signal("r")]);
    let mut obs = failed(7);
    obs.signals.insert(
        "r".into(),
        SignalReading::Ok {
            observed_at: t(0),
            measurement: Measurement::Sqs(visible(10)),
        },
    );
    let d = decide(&tg2, &TargetState::default(), &obs, t(0));
    assert_eq!(d.desired, 7);
    assert!(d.bounded_by.contains(&Term::UntrustedSignal));
}

#[test]
fn fallback_after_more_than_n_failures_and_replays_do_not_count() {
    let mut p = plain(0, 100, 10.0);
    p.untrusted_data.failures_before_fallback = 2;
    p.untrusted_data.fallback = Fallback::Static(4);
    let tg = target(p, vec![sqs_signal("q")]);
    let mut state = TargetState::default();
    let mut desired = vec![];
    for i in 0..3 {
        let d = decide(&tg, &state, &failed(9), t(i * 60));
        // Replaying the same tick counts nothing twice.
        let replay = decide(&tg, &d.next_state, &failed(9), t(i * 60));
        assert_eq!(replay.next_state, d.next_state);
        desired.push(d.desired);
        state = d.next_state;
    }
    assert_eq!(desired, vec![9, 9, 4]);
    // One good reading resets the run.
    let d = decide(&tg, &state, &sqs_obs(4, t(200), visible(40)), t(200));
    assert!(d.next_state.signal_health.is_empty());
    assert_eq!(Fallback::CurrentIfHigher(4).apply(9), 9);
    assert_eq!(Fallback::CurrentIfLower(4).apply(9), 4);
    assert_eq!(Fallback::Hold.apply(9), 9);
}

#[test]
fn wrong_kind_and_inconsistent_offsets_are_untrusted() {
    let tg = target(plain(0, 100, 10.0), vec![sqs_signal("k")]);
    let d = decide(
        &tg,
        &TargetState::default(),
        &kafka_obs(3, t(0), &[(0, 10, None)]),
        t(0),
    );
    assert!(!d.signals[0].trusted);
    let tgk = target(
        plain(0, 100, 10.0),
        vec![SignalConfig::Kafka(kafka_signal("k"))],
    );
    let d = decide(
        &tgk,
        &TargetState::default(),
        &kafka_obs(3, t(0), &[(50, 10, None)]),
        t(0),
    );
    assert!(!d.signals[0].trusted);
    assert!(
        d.signals[0].detail.contains("inconsistent"),
        "{}",
        d.signals[0].detail
    );
    assert_eq!(d.desired, 3);
}

// 11. Deployments -------------------------------------------------------------------

#[test]
fn deployment_in_progress_suspends_scale_in_only() {
    let tg = target(plain(0, 100, 10.0), vec![sqs_signal("q")]);
    let mut obs = sqs_obs(8, t(0), visible(10));
    obs.worker.deployment_in_progress = true;
    obs.worker.running = 6;
    obs.worker.pending = 2;
    let d = decide(&tg, &TargetState::default(), &obs, t(0));
    assert_eq!(d.desired, 8);
    assert_eq!((d.running, d.pending), (6, 2));
    assert!(d.bounded_by.contains(&Term::DeploymentInProgress));
    obs.signals.insert(
        "q".into(),
        SignalReading::Ok {
            observed_at: t(0),
            measurement: Measurement::Sqs(visible(150)),
        },
    );
    assert_eq!(decide(&tg, &TargetState::default(), &obs, t(0)).desired, 15);
}

#[test]
fn event_source_mapping_counts_stay_in_aws_range() {
    let mut tg = target(plain(0, 5000, 10.0), vec![sqs_signal("q")]);
    tg.worker = WorkerConfig::LambdaEventSourceMapping(crate::config::EventSourceMappingWorker {
        uuid: "u".into(),
    });
    let low = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(3, t(0), visible(0)),
        t(0),
    );
    assert_eq!(low.desired, 2);
    assert!(low.bounded_by.contains(&Term::WorkerLimits));
    let high = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(900, t(0), visible(20_000)),
        t(0),
    );
    assert_eq!(high.desired, 1000);
    assert!(
        high.explanation.contains("worker_limits"),
        "{}",
        high.explanation
    );
}

// State stays bounded --------------------------------------------------------------

#[test]
fn state_is_trimmed_to_what_windows_need() {
    let tg = target(
        PolicyConfig::with_target(0, 100, 10.0),
        vec![sqs_signal("q")],
    );
    let mut state = TargetState::default();
    let mut desired = 0;
    for i in 0..2000 {
        let backlog = if i % 2 == 0 { 500 } else { 0 };
        let d = decide(
            &tg,
            &state,
            &sqs_obs(desired, t(i * 15), visible(backlog)),
            t(i * 15),
        );
        desired = d.desired;
        state = d.next_state;
    }
    // 300s window at a 15s tick: at most 21 recommendations.
    assert!(
        state.recommendations.len() <= 21,
        "{}",
        state.recommendations.len()
    );
    assert!(state.actions.len() <= 21, "{}", state.actions.len());
}

#[test]
fn a_newly_adopted_target_does_not_scale_in_before_one_scale_in_window() {
    // Default policy: 5m scale-in stabilization and cooldown. A service at 5
    // with an empty queue, seen for the first time.
    let tg = target(
        PolicyConfig::with_target(0, 10, 100.0),
        vec![sqs_signal("q")],
    );
    let first = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(5, t(0), visible(0)),
        t(0),
    );
    assert_eq!(first.desired, 5, "{}", first.explain());
    assert!(first.bounded_by.contains(&Term::ScaleInStabilization));
    // A replay of the first tick decides the same.
    let replay = decide(
        &tg,
        &TargetState::default(),
        &sqs_obs(5, t(0), visible(0)),
        t(0),
    );
    assert_eq!(replay.next_state, first.next_state);
    let mut state = first.next_state;
    for s in (60..=240).step_by(60) {
        let d = decide(&tg, &state, &sqs_obs(5, t(s), visible(0)), t(s));
        assert_eq!(d.desired, 5, "at {s} s: {}", d.explain());
        state = d.next_state;
    }
    // One window after adoption, the empty queue scales it in.
    let d = decide(&tg, &state, &sqs_obs(5, t(301), visible(0)), t(301));
    assert_eq!(d.desired, 0, "{}", d.explain());
    // A policy without a scale-in window scales in at once, as before.
    let plain_tg = target(plain(0, 10, 100.0), vec![sqs_signal("q")]);
    let d = decide(
        &plain_tg,
        &TargetState::default(),
        &sqs_obs(5, t(0), visible(0)),
        t(0),
    );
    assert_eq!(d.desired, 0);
}

#[test]
fn a_schema_3_partition_history_is_read_and_written_back_compact() {
    let old = r#"{"schema_version":3,"partition_progress":{"k":{"0":{
        "committed_offset":100,"observed_at":"2026-11-23T00:01:00Z","unchanged_observations":2,
        "history":[{"at":"2026-11-23T00:00:00Z","high":90,"committed":100},
                   {"at":"2026-11-23T00:01:00Z","high":700,"committed":100}]},
        "7":{"committed_offset":null,"observed_at":"2026-11-23T00:01:00Z","unchanged_observations":0}}}}"#;
    let s = TargetState::from_json(old).unwrap();
    let p = &s.partition_progress["k"];
    assert_eq!(p[&0].history[1].high, 700);
    assert_eq!(p[&0].unchanged_observations, 2);
    assert!(p[&7].history.is_empty());
    let written = serde_json::to_string(&s).unwrap();
    let compact = serde_json::from_str::<serde_json::Value>(&written).unwrap();
    assert!(compact["partition_progress"]["k"].is_string(), "{written}");
    assert_eq!(TargetState::from_json(&written).unwrap(), s);
    // A damaged compact string names the signal.
    let e = TargetState::from_json(r#"{"partition_progress":{"k":"AQ"}}"#).unwrap_err();
    assert!(e.contains("signal k: partition progress"), "{e}");
}

#[test]
fn stored_state_is_migrated_when_older_and_refused_when_newer() {
    // Written before the schema field existed: read, and stamped current.
    let old = r#"{"recommendations":[{"at":"2026-11-23T00:00:00Z","count":3}],"actions":[]}"#;
    let s = TargetState::from_json(old).unwrap();
    assert_eq!(s.schema_version, STATE_SCHEMA_VERSION);
    assert_eq!(s.recommendations[0].count, 3);
    // Every decision writes the current schema.
    let d = decide_sqs(plain(0, 10, 10.0), 1, visible(0));
    assert_eq!(d.next_state.schema_version, STATE_SCHEMA_VERSION);
    // From a later qscale: refused with both versions, whatever else it holds.
    let newer = r#"{"schema_version": 9, "something_new": true}"#;
    assert_eq!(
        TargetState::from_json(newer).unwrap_err(),
        "schema_version: state schema 9 was written by a newer qscale (this one reads up to 4)"
    );
    // Malformed: the path and the reason.
    let bad = r#"{"recommendations":[{"at":"2026-11-23T00:00:00Z","count":"three"}]}"#;
    let e = TargetState::from_json(bad).unwrap_err();
    assert!(
        e.starts_with("state is not valid: recommendations[0].count: invalid type"),
        "{e}"
    );
    assert!(TargetState::from_json("{\"recomm")
        .unwrap_err()
        .starts_with("state is not valid JSON"));
}

#[test]
fn a_scale_in_stops_at_the_tasks_holding_scale_in_protection() {
    // An empty queue wants 0; 4 of the 8 tasks hold protection (a job in
    // hand each): the scale-in goes to 4, named, and no further.
    let tg = target(plain(0, 100, 10.0), vec![sqs_signal("q")]);
    let mut obs = sqs_obs(8, t(0), visible(0));
    obs.worker.protected = Some(4);
    let d = decide(&tg, &TargetState::default(), &obs, t(0));
    assert_eq!(d.desired, 4);
    assert!(
        d.bounded_by.contains(&Term::TaskProtection),
        "{:?}",
        d.steps
    );
    let step = d
        .steps
        .iter()
        .find(|s| s.term == Term::TaskProtection)
        .unwrap();
    assert_eq!(step.detail, "scale-in held by 4 protected task(s): 0 -> 4");
    assert!(
        d.explanation.contains("task_protection"),
        "{}",
        d.explanation
    );
    assert_eq!(
        d.notices,
        ["task_protection: scale-in held by 4 protected task(s): 0 -> 4"]
    );
    // Held entirely (as many protected as run): no action, so no notice.
    obs.worker.protected = Some(8);
    let held = decide(&tg, &TargetState::default(), &obs, t(0));
    assert_eq!((held.desired, held.notices.len()), (8, 0));
    assert!(held.bounded_by.contains(&Term::TaskProtection));
    // Protection never raises a count, nor holds a scale-out back.
    obs.worker.protected = Some(12);
    assert_eq!(decide(&tg, &TargetState::default(), &obs, t(0)).desired, 8);
    let mut busy = sqs_obs(8, t(0), visible(150));
    busy.worker.protected = Some(8);
    assert_eq!(
        decide(&tg, &TargetState::default(), &busy, t(0)).desired,
        15
    );
    // Unread (not configured): nothing held.
    obs.worker.protected = None;
    assert_eq!(decide(&tg, &TargetState::default(), &obs, t(0)).desired, 0);
}

#[test]
fn tasks_pending_past_start_up_are_a_shortfall_the_sibling_takes_and_gives_back() {
    // 100 waiting at 10 per worker: 10 wanted and asked; only 2 run.
    let mut tg = target(plain(0, 100, 10.0), vec![sqs_signal("q")]);
    let WorkerConfig::Ecs(ecs) = &mut tg.worker else {
        panic!("an ECS target")
    };
    ecs.spillover = Some(crate::config::EcsService {
        cluster: "c".into(),
        service: "on-demand".into(),
    });
    let tick = |state: &TargetState, at: i64, running: u32, sibling: u32| {
        let mut obs = sqs_obs(10, t(at), visible(100));
        (obs.worker.running, obs.worker.pending) = (running, 10 - running);
        obs.worker.spillover = Some(sibling);
        decide(&tg, state, &obs, t(at))
    };
    // Within start-up plus its margin (1m + 15 s): nothing yet.
    let d = tick(&TargetState::default(), 0, 2, 0);
    assert_eq!((d.capacity_shortfall.as_ref(), d.spillover), (None, None));
    let d = tick(&d.next_state, 75, 2, 0);
    assert_eq!(d.capacity_shortfall, None);
    // Past it: 8 short, audited once, and the sibling asked for 8.
    let d = tick(&d.next_state, 90, 2, 0);
    let short = d.capacity_shortfall.clone().unwrap();
    assert_eq!(
        (short.tasks, short.pending_for_s, short.threshold_s),
        (8, 90, 75)
    );
    assert_eq!(d.spillover, Some(8));
    assert_eq!(
        d.notices,
        [
            "capacity_shortfall: 8 task(s) pending for 90 s, past start-up plus margin (75 s); 2 running of 10 asked",
            "spillover: 0 -> 8 (the tasks the worker cannot place)"
        ]
    );
    assert_eq!(d.desired, 10, "the primary's count is not touched");
    // Still short, the sibling at 8: nothing new to set or say.
    let d = tick(&d.next_state, 120, 2, 8);
    assert_eq!((d.spillover, d.notices.len()), (None, 0));
    assert_eq!(d.capacity_shortfall.as_ref().unwrap().tasks, 8);
    // 5 more placed: the sibling gives back as many.
    let d = tick(&d.next_state, 150, 7, 8);
    assert_eq!(d.spillover, Some(3));
    // All placed: the shortfall is over and the sibling goes to 0.
    let d = tick(&d.next_state, 180, 10, 3);
    assert_eq!(
        (d.capacity_shortfall.as_ref(), d.spillover),
        (None, Some(0))
    );
    assert_eq!(
        d.notices,
        [
            "capacity_shortfall over after 90 s: 10 running of 10 asked",
            "spillover: 3 -> 0 (the worker's tasks run)"
        ]
    );
    assert!(d.next_state.pending_cohorts.is_empty());
}

#[test]
fn a_shortfall_is_reported_without_a_sibling_too_and_a_normal_start_up_is_none() {
    let tg = target(plain(0, 100, 10.0), vec![sqs_signal("q")]);
    // A scale-out 0 -> 10 at 0; all 10 start at 60 s: never short.
    let mut state = TargetState::default();
    for (at, running) in [(0, 0), (30, 0), (60, 10), (90, 10)] {
        let mut obs = sqs_obs(if at == 0 { 0 } else { 10 }, t(at), visible(100));
        (obs.worker.running, obs.worker.pending) =
            (running, if at == 0 { 0 } else { 10 - running });
        let d = decide(&tg, &state, &obs, t(at));
        assert_eq!(d.capacity_shortfall, None, "at {at}");
        assert_eq!(d.spillover, None);
        state = d.next_state;
    }
    // Asked at 0 and still all pending at 80 s: short, without a sibling to call.
    let mut state = TargetState::default();
    for at in [0, 40, 80] {
        let mut obs = sqs_obs(if at == 0 { 0 } else { 10 }, t(at), visible(100));
        obs.worker.pending = if at == 0 { 0 } else { 10 };
        let d = decide(&tg, &state, &obs, t(at));
        if at == 80 {
            assert_eq!(d.capacity_shortfall.as_ref().map(|s| s.tasks), Some(10));
            assert_eq!(d.spillover, None);
            assert!(d.notices[0].starts_with("capacity_shortfall: 10 task(s) pending for 80 s"));
        }
        state = d.next_state;
    }
}
