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

/// The soak's two invokers reach moto through two chaos proxies. moto checks
/// a conditional `PutItem`'s condition and writes in two steps on its
/// request threads, so two writes conditional on one version could both
/// succeed (1 in 300 tries, measured), which the soak then counted as two
/// invokers acting on one tick. DynamoDB applies a conditional write
/// atomically; the proxies forward DynamoDB writes one at a time so moto
/// does too. Exactly one of two rival claims must win, every time.
#[tokio::test]
async fn dynamo_conditional_writes_through_two_proxies_are_atomic() {
    use qscale_integration::chaos_proxy::{Chaos, ChaosProxy};
    let f = fixture().await;
    let calm = Chaos {
        seed: 1,
        throttle: 0.0,
        server_error: 0.0,
        reset: 0.0,
        slow: 0.0,
        latency: std::time::Duration::ZERO,
    };
    let mut stores = Vec::new();
    for seed in [1, 2] {
        let proxy = ChaosProxy::start(moto_addr(), Chaos { seed, ..calm }, 2_000).await;
        let via = Moto::connect_via(&proxy.endpoint).await;
        stores.push((
            proxy,
            DynamoStateStore::new(via.clients.dynamodb.clone(), &f.table, Default::default()),
        ));
    }
    let state = qscale_core::engine::TargetState::default();
    for expected in 0..300u64 {
        let (a, b) = futures::future::join(
            stores[0].1.save("race", &state, &[], expected),
            stores[1].1.save("race", &state, &[], expected),
        )
        .await;
        assert_eq!(
            u8::from(a.is_ok()) + u8::from(b.is_ok()),
            1,
            "claim of version {expected}: {a:?} / {b:?}"
        );
    }
}
