//! An operator takes the wheel: a desired count set by hand between ticks
//! is held for `manual_override_hold` and audited, then qscale sizes again;
//! a pause holds its direction until it expires.

use super::*;

#[tokio::test]
async fn a_manual_update_service_to_20_is_held_for_the_window_and_audited() {
    let f = fixture().await;
    let (queue, cluster, service) = (unique("q"), unique("c"), unique("s"));
    let url = f.moto.queue_with(&queue, 80).await;
    f.moto.ecs_service(&cluster, &service, 1).await;
    let c = config(&[ecs_target(
        "orders",
        &url,
        &cluster,
        &service,
        &policy(
            0,
            50,
            10,
            &format!("{}      manual_override_hold: 5m\n", scale_in("0s")),
        ),
    )]);
    let t0 = now();
    let first = f.run(&c, t0, false).await;
    assert_eq!(first.failures(), 0, "{}", first.table());
    assert_eq!(f.moto.desired(&cluster, &service).await, 8);

    // During an incident someone sets 20 by hand.
    f.moto.set_desired(&cluster, &service, 20).await;
    for after in [60, 240] {
        let held = f
            .run(&c, t0 + SignedDuration::from_secs(after), false)
            .await;
        assert_eq!(held.failures(), 0, "{}", held.table());
        assert_eq!(
            f.moto.desired(&cluster, &service).await,
            20,
            "at +{after} s"
        );
        let d = held.reports[0].report.decision.as_ref().unwrap();
        assert!(
            d.bounded_by.contains(&Term::ManualOverride),
            "{:?}",
            d.steps
        );
    }
    let events = f.moto.audit_events(&f.audit).await;
    let found: Vec<_> = events
        .iter()
        .filter(|e| e.notices.iter().any(|n| n.starts_with("manual_override")))
        .collect();
    assert_eq!(found.len(), 1, "audited once: {events:?}");
    assert!(
        found[0].notices[0].contains("the count is 20 where qscale left 8"),
        "{}",
        found[0].notices[0]
    );

    // The hold over (5 minutes), the 80 waiting want 8 again.
    let after = f.run(&c, t0 + SignedDuration::from_secs(400), false).await;
    assert_eq!(after.failures(), 0, "{}", after.table());
    assert_eq!(f.moto.desired(&cluster, &service).await, 8);
}

#[tokio::test]
async fn a_paused_scale_in_holds_an_empty_queues_fleet_for_three_ticks_then_scales_in() {
    use qscale_core::engine::PauseScope;
    use qscale_core::reconcile::pause::{pause, PauseRequest};
    let f = fixture().await;
    let (queue, cluster, service) = (unique("q"), unique("c"), unique("s"));
    let url = f.moto.queue_with(&queue, 0).await;
    f.moto.ecs_service(&cluster, &service, 5).await;
    let c = config(&[ecs_target(
        "paused",
        &url,
        &cluster,
        &service,
        &policy(0, 50, 10, &scale_in("0s")),
    )]);
    let t0 = now();
    let store = DynamoStateStore::new(
        f.moto.clients.dynamodb.clone(),
        &f.table,
        Default::default(),
    );
    let request = PauseRequest {
        scope: PauseScope {
            scale_in: true,
            ..PauseScope::default()
        },
        until: t0 + SignedDuration::from_secs(180),
        reason: Some("producers down".into()),
    };
    pause(&store, "paused", request.checked(t0).unwrap())
        .await
        .unwrap();
    let paused_metric = |run: &RunSummary, at| {
        let line = &run.emf_lines(at, qscale_live::run::MetricsMode::PerTarget)[0];
        serde_json::from_str::<serde_json::Value>(line).unwrap()["Paused"].clone()
    };
    for tick in 0..3 {
        let at = t0 + SignedDuration::from_secs(60 * tick);
        let run = f.run(&c, at, false).await;
        assert_eq!(run.failures(), 0, "{}", run.table());
        assert_eq!(paused_metric(&run, at), 1, "the Paused metric");
        assert_eq!(f.moto.desired(&cluster, &service).await, 5, "tick {tick}");
        let d = run.reports[0].report.decision.as_ref().unwrap();
        assert!(d.bounded_by.contains(&Term::Paused), "{:?}", d.steps);
    }
    let at = t0 + SignedDuration::from_secs(200);
    let after = f.run(&c, at, false).await;
    assert_eq!(after.failures(), 0, "{}", after.table());
    assert_eq!(paused_metric(&after, at), 0);
    assert_eq!(f.moto.desired(&cluster, &service).await, 0);
    let notices: Vec<String> = f
        .moto
        .audit_events(&f.audit)
        .await
        .into_iter()
        .flat_map(|e| e.notices)
        // moto reports a new service's tasks pending until it is updated:
        // the shortfall that makes is audited too, and is not the pause's.
        .filter(|n| !n.starts_with("capacity_shortfall"))
        .collect();
    assert_eq!(notices.len(), 2, "start and end, once each: {notices:?}");
    assert!(notices[0].starts_with("paused: in until"), "{notices:?}");
    assert!(notices[1].starts_with("pause of in expired"), "{notices:?}");
}
