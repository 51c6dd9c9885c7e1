//! A target in a second account: qscale assumes its role (`targets[].aws`)
//! to read the queue and scale the service there, while state and audit stay
//! in qscale's own account. moto files an assumed role's calls under the
//! role's account, so a service of the same name in qscale's account tells
//! which account was scaled.

use super::*;

const ROLE: &str = "arn:aws:iam::222222222222:role/qscale-target";

#[tokio::test]
async fn a_target_in_a_second_account_scales_through_its_role_and_nothing_else_moves() {
    let f = fixture().await;
    let remote = f.moto.in_account(ROLE).await;
    let (queue, cluster, service) = (unique("q"), unique("c"), unique("s"));
    // The same names in both accounts: 80 waiting over there, 0 here.
    let remote_url = remote.queue_with(&queue, 80).await;
    assert!(
        remote_url.contains("/222222222222/"),
        "the fixture's queue is in the second account: {remote_url}"
    );
    remote.ecs_service(&cluster, &service, 1).await;
    f.moto.ecs_service(&cluster, &service, 1).await;
    let home_url = f.moto.queue_with(&unique("q"), 30).await;
    let (home_cluster, home_service) = (unique("c"), unique("s"));
    f.moto.ecs_service(&home_cluster, &home_service, 1).await;

    let remote_target = ecs_target(
        "remote",
        &remote_url,
        &cluster,
        &service,
        &policy(0, 50, 10, &scale_in("0s")),
    )
    .replace(
        "    signals:",
        &format!("    aws: {{ role_arn: \"{ROLE}\", external_id: qscale-tests }}\n    signals:"),
    );
    let c = config(&[
        remote_target,
        ecs_target(
            "home",
            &home_url,
            &home_cluster,
            &home_service,
            &policy(0, 50, 10, &scale_in("0s")),
        ),
    ]);
    assert!(c.targets[0].aws.is_some(), "the role is in the config");

    let run = f.run(&c, now(), false).await;
    assert_eq!(run.failures(), 0, "{}", run.table());
    assert_eq!(
        remote.desired(&cluster, &service).await,
        8,
        "the second account's service follows its queue"
    );
    assert_eq!(
        f.moto.desired(&cluster, &service).await,
        1,
        "the same-named service in qscale's account is untouched"
    );
    assert_eq!(f.moto.desired(&home_cluster, &home_service).await, 3);
    let d = run.reports[0].report.decision.as_ref().unwrap();
    assert_eq!(d.signals[0].backlog, Some(80), "read through the role");

    // State and audit in qscale's own account.
    let store = DynamoStateStore::new(
        f.moto.clients.dynamodb.clone(),
        &f.table,
        Default::default(),
    );
    assert!(store.load("remote").await.unwrap().version > 0);
    let events = f.moto.audit_events(&f.audit).await;
    assert!(
        events
            .iter()
            .any(|e| e.target == "remote" && e.desired == 8),
        "{events:?}"
    );

    // Drained over there, the next tick scales that service in, still
    // through the role (its clients are cached for the process).
    remote.purge(&remote_url).await;
    let later = f
        .run(&c, now() + SignedDuration::from_secs(120), false)
        .await;
    assert_eq!(later.failures(), 0, "{}", later.table());
    assert_eq!(remote.desired(&cluster, &service).await, 0);
    assert_eq!(f.moto.desired(&cluster, &service).await, 1);
}
