//! Capacity that does not come: ECS tasks that stay pending. A moto whose
//! services keep 2 tasks running whatever their desired count
//! (`MOTO_ECS_SERVICE_RUNNING=2`, scripts/services.sh) holds 8 of 10
//! pending; the shortfall is audited and a sibling service takes it.

use super::*;

#[tokio::test]
async fn eight_tasks_stuck_pending_are_audited_and_the_sibling_takes_them_until_they_run() {
    let moto = Moto::connect_pending().await;
    let (table, queue, cluster) = (unique("state"), unique("q"), unique("c"));
    moto.state_table(&table).await;
    let audit = moto.queue_with(&unique("audit"), 0).await;
    // 100 waiting at 10 per worker: 10, as asked; 2 run, 8 stay pending.
    let url = moto.queue_with(&queue, 100).await;
    moto.ecs_service(&cluster, "spot", 10).await;
    moto.ecs_service(&cluster, "on-demand", 0).await;
    let target = ecs_target(
        "jobs",
        &url,
        &cluster,
        "spot",
        &policy(0, 20, 10, &scale_in("0s")),
    )
    .replace(
        "service: spot }",
        &format!("service: spot, spillover: {{ cluster: {cluster}, service: on-demand }} }}"),
    );
    assert!(target.contains("spillover"), "{target}");
    let c = config(&[target]);
    let run = |at: Timestamp| {
        let (c, moto, table, audit) = (&c, &moto, &table, &audit);
        async move {
            run_once(
                c,
                &moto.settings(table, audit),
                &moto.clients,
                at,
                ReconcileOptions::default(),
            )
            .await
        }
    };
    let t0 = now();
    let first = run(t0).await;
    assert_eq!(first.failures(), 0, "{}", first.table());
    let d = first.reports[0].report.decision.as_ref().unwrap();
    assert_eq!(
        (d.running, d.pending, d.desired),
        (2, 8, 10),
        "{}",
        first.table()
    );
    assert_eq!(d.capacity_shortfall, None);
    assert_eq!(moto.desired(&cluster, "on-demand").await, 0);

    // 90 s on (past 1m start-up and its 15 s margin): 8 short, the sibling at 8.
    let short = run(t0 + SignedDuration::from_secs(90)).await;
    assert_eq!(short.failures(), 0, "{}", short.table());
    let d = short.reports[0].report.decision.as_ref().unwrap();
    assert_eq!(d.capacity_shortfall.as_ref().map(|s| s.tasks), Some(8));
    assert_eq!(moto.desired(&cluster, "on-demand").await, 8);
    assert_eq!(
        moto.desired(&cluster, "spot").await,
        10,
        "the primary is not touched"
    );
    let events = moto.audit_events(&audit).await;
    let shortfalls: Vec<&String> = events
        .iter()
        .flat_map(|e| &e.notices)
        .filter(|n| n.starts_with("capacity_shortfall"))
        .collect();
    assert_eq!(
        shortfalls,
        ["capacity_shortfall: 8 task(s) pending for 90 s, past start-up plus margin (75 s); 2 running of 10 asked"]
    );

    // Capacity comes back: moto runs every task once the count is set again.
    moto.set_desired(&cluster, "spot", 10).await;
    let back = run(t0 + SignedDuration::from_secs(150)).await;
    assert_eq!(back.failures(), 0, "{}", back.table());
    let d = back.reports[0].report.decision.as_ref().unwrap();
    assert_eq!((d.running, d.pending), (10, 0));
    assert_eq!(moto.desired(&cluster, "on-demand").await, 0);
    let events = moto.audit_events(&audit).await;
    assert!(
        events
            .iter()
            .flat_map(|e| &e.notices)
            .any(|n| n == "capacity_shortfall over after 60 s: 10 running of 10 asked"),
        "{events:?}"
    );
}
