//! The API-call budget of a steady tick over many targets.

use futures::StreamExt;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_targets_cost_at_most_three_api_calls_each_per_steady_tick() {
    let f = fixture().await;
    let mut specs = Vec::new();
    for _ in 0..20 {
        let cluster = unique("c");
        for _ in 0..10 {
            specs.push((cluster.clone(), unique("s"), unique("q")));
        }
    }
    // Set up 200 queues and 200 services, 16 at a time against the one emulator.
    let urls: Vec<String> = futures::stream::iter(specs.iter().map(|(cluster, service, queue)| {
        let moto = &f.moto;
        async move {
            moto.ecs_service(cluster, service, 2).await;
            moto.queue_with(queue, 15).await
        }
    }))
    .buffered(16)
    .collect()
    .await;
    let p = policy(1, 20, 10, "");
    let targets: Vec<String> = specs
        .iter()
        .zip(&urls)
        .enumerate()
        .map(|(i, ((cluster, service, _), url))| {
            ecs_target(&format!("t{i}"), url, cluster, service, &p)
        })
        .collect();
    let c = config(&targets);
    let t0 = now();
    let first = f.run(&c, t0, false).await;
    assert_eq!(first.failures(), 0, "{}", first.table());
    let steady = f.run(&c, t0 + SignedDuration::from_secs(60), false).await;
    assert!(
        steady
            .reports
            .iter()
            .all(|r| r.report.outcome == Outcome::Unchanged),
        "{}",
        steady.table()
    );
    // BatchGetItem per 100 targets, DescribeServices per 10 services,
    // one GetQueueAttributes and one PutItem each: 2.11 per target.
    assert!(steady.calls_per_target() <= 3.0, "{:?}", steady.api_calls);
    assert_eq!(steady.api_calls.get("ecs:DescribeServices"), Some(&20));
    assert_eq!(steady.api_calls.get("dynamodb:BatchGetItem"), Some(&2));
}
