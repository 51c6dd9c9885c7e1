//! Faults injected by a proxy in front of moto: the SDK's real retry path runs.

use super::*;
use qscale_integration::fault_proxy::{Fault, FaultProxy, Rule};
use qscale_integration::moto_addr;

async fn through(rules: Vec<Rule>) -> (FaultProxy, Fixture) {
    let f = fixture().await;
    let proxy = FaultProxy::start(moto_addr(), rules).await;
    (proxy, f)
}

async fn run_via(proxy: &FaultProxy, f: &Fixture, c: &Config) -> RunSummary {
    let via = Moto::connect_via(&proxy.endpoint).await;
    run_once(
        c,
        &f.moto.settings(&f.table, &f.audit),
        &via.clients,
        now(),
        ReconcileOptions::default(),
    )
    .await
}

/// A target `name` with 60 messages waiting and one ECS worker, run once
/// through `proxy`: it must scale out to 6 whatever the proxy injected.
async fn sixty_messages_scale_out_through(proxy: &FaultProxy, f: &Fixture, name: &str) {
    let (cluster, service) = (unique("c"), unique("s"));
    let url = f.moto.queue_with(&unique("q"), 60).await;
    f.moto.ecs_service(&cluster, &service, 1).await;
    let c = config(&[ecs_target(
        name,
        &url,
        &cluster,
        &service,
        &policy(0, 20, 10, ""),
    )]);
    let summary = run_via(proxy, f, &c).await;
    assert_eq!(
        summary.reports[0].report.outcome,
        Outcome::Applied,
        "{}",
        summary.table()
    );
    assert_eq!(f.moto.desired(&cluster, &service).await, 6);
}

#[tokio::test]
async fn throttling_and_5xx_are_retried_and_the_target_still_scales() {
    let rules = vec![
        Rule {
            operation: "GetQueueAttributes",
            fault: Fault::Throttle,
            times: 1,
        },
        Rule {
            operation: "UpdateService",
            fault: Fault::ServerError,
            times: 1,
        },
    ];
    let (proxy, f) = through(rules).await;
    sixty_messages_scale_out_through(&proxy, &f, "retry").await;
    assert_eq!(
        proxy.count("GetQueueAttributes"),
        2,
        "one throttled, one retried"
    );
    assert_eq!(proxy.count("UpdateService"), 2, "one 500, one retried");
}

#[tokio::test]
async fn access_denied_names_the_queue_and_nothing_moves() {
    let rules = vec![Rule {
        operation: "GetQueueAttributes",
        fault: Fault::AccessDenied,
        times: u32::MAX,
    }];
    let (proxy, f) = through(rules).await;
    let (cluster, service) = (unique("c"), unique("s"));
    let url = f.moto.queue_with(&unique("q"), 60).await;
    f.moto.ecs_service(&cluster, &service, 3).await;
    let c = config(&[ecs_target(
        "denied",
        &url,
        &cluster,
        &service,
        &policy(0, 20, 10, ""),
    )]);
    let summary = run_via(&proxy, &f, &c).await;
    let report = &summary.reports[0].report;
    assert_eq!(report.outcome, Outcome::Refused, "{}", summary.table());
    let e = report.error.as_deref().unwrap();
    assert!(e.contains(&format!("queue {url}: access denied")), "{e}");
    assert_eq!(
        proxy.count("GetQueueAttributes"),
        1,
        "access denied is not retried"
    );
    assert_eq!(f.moto.desired(&cluster, &service).await, 3);
}

#[tokio::test]
async fn a_claim_write_whose_answer_is_lost_still_counts_as_claimed() {
    // moto stores the claim, the proxy answers 500; the SDK's retry then
    // fails its condition (the version moved): without reading the item back
    // the invocation would yield and publish a `yield` event beside the
    // claimed one.
    let rules = vec![Rule {
        operation: "PutItem",
        fault: Fault::ServerErrorAfterForwarding,
        times: 1,
    }];
    let (proxy, f) = through(rules).await;
    sixty_messages_scale_out_through(&proxy, &f, "lost-answer").await;
    assert!(
        proxy.count("PutItem") >= 2,
        "the claim and the SDK's retry of it: {:?}",
        proxy.seen.lock().unwrap()
    );
    let events = f.moto.audit_events(&f.audit).await;
    let ids: Vec<(&str, Outcome)> = events.iter().map(|e| (e.id.as_str(), e.outcome)).collect();
    assert_eq!(ids.len(), 1, "exactly one event for the tick: {ids:?}");
    assert!(
        ids[0].0.starts_with("lost-answer@") && ids[0].0.ends_with("#decision"),
        "{ids:?}"
    );
    assert_eq!(ids[0].1, Outcome::Applied);
}
