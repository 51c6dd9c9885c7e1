//! The chaos soak's companion: 40 targets reconciled at production's
//! concurrency (16) while every audit destination accepts connections and
//! never answers (SQS `SendMessage` and EventBridge `PutEvents` held by a
//! proxy in front of moto, the audit Kafka cluster a silent TCP listener).
//! Every tick must finish inside the tick's budget with every target
//! applied, and once the destinations answer again every audit event
//! reaches each of them: the dark ticks' events waited in the outboxes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use qscale_aws::{AuditTargets, AwsClients, AwsSettings};
use qscale_core::config::Config;
use qscale_core::reconcile::{audit_id, AuditKind, ReconcileOptions};
use qscale_integration::audit_tally::{drain_aws, read_kafka, Received, SoakResources};
use qscale_integration::blackhole::Blackhole;
use qscale_integration::chaos_proxy::{Chaos, ChaosProxy};
use qscale_integration::kafka::bootstrap;
use qscale_integration::{moto_addr, unique, Moto};
use qscale_live::env::DEFAULT_TICK_BUDGET_SECONDS;
use qscale_live::run::run_once;

const TARGETS: usize = 40;
const DARK_TICKS: usize = 2;
/// Lifted ticks: they go on until one delivers with no destination failing
/// (a destination whose SDK retry budget the dark ticks spent may time out
/// once more: its events then wait one more tick), at most this many.
const MAX_LIFTED_TICKS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ticks_finish_within_budget_while_every_audit_destination_is_blackholed() {
    let moto = Moto::connect().await;
    let SoakResources {
        table,
        audit_queue,
        bus,
        bus_sink,
        audit_topic,
    } = SoakResources::create(&moto, "bh").await;
    let dark_kafka = Blackhole::start(bootstrap(), 1_000).await;
    let cluster = unique("bh");

    let mut yaml = format!(
        "kafka_clusters:\n  dark: {{ bootstrap_servers: \"{}\" }}\naudit_kafka: {{ cluster: dark, topic: {audit_topic} }}\ntargets:\n",
        dark_kafka.addr
    );
    let mut queues = Vec::new();
    for i in 0..TARGETS {
        let queue = moto.queue_with(&unique("bh-q"), 0).await;
        let service = format!("svc-{i}");
        moto.ecs_service(&cluster, &service, 1).await;
        yaml += &format!(
            "  - name: t{i:02}\n    signals: [ {{ sqs: {{ name: s, queue: \"{queue}\" }} }} ]\n    worker: {{ ecs: {{ cluster: {cluster}, service: {service} }} }}\n    policy:\n      min: 0\n      max: 40\n      target_per_worker: 10\n      scale_out: {{ cooldown: 0s, stabilization: 0s, rate_limits: {{ policies: [] }} }}\n      scale_in: {{ cooldown: 0s, stabilization: 0s, rate_limits: {{ policies: [] }} }}\n"
        );
        queues.push(queue);
    }
    let config = Arc::new(Config::from_yaml(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}")));

    let proxy = ChaosProxy::start(moto_addr(), Chaos::none(), 50_000).await;
    proxy.set_blackholed(&[
        "x-amz-target: amazonsqs.sendmessage",
        "x-amz-target: awsevents.putevents",
    ]);
    let clients = AwsClients::from_env(Some(&proxy.endpoint)).await;
    let settings = AwsSettings {
        endpoint_url: Some(proxy.endpoint.clone()),
        state_table: table.clone(),
        audit: AuditTargets {
            event_bus: Some(bus.clone()),
            queue_url: Some(audit_queue.clone()),
        },
        // Production's defaults (QSCALE_CONCURRENCY, QSCALE_TARGET_BUDGET_SECONDS).
        concurrency: qscale_live::env::DEFAULT_CONCURRENCY as usize,
        target_budget: Duration::from_secs(qscale_live::env::DEFAULT_TARGET_BUDGET_SECONDS),
    };
    let budget = Duration::from_secs(DEFAULT_TICK_BUDGET_SECONDS);

    let start: Timestamp = "2026-12-03T00:00:00Z".parse().unwrap();
    let mut expected = BTreeSet::new();
    let mut durations = Vec::new();
    let mut clean_runs = 0;
    let mut tick = 0;
    while tick < DARK_TICKS || (clean_runs == 0 && tick < DARK_TICKS + MAX_LIFTED_TICKS) {
        let dark = tick < DARK_TICKS;
        if !dark {
            proxy.set_blackholed(&[]);
            dark_kafka.lift();
        }
        // More work every tick, so every target scales out and audits.
        for q in &queues {
            moto.send(q, 60).await;
        }
        let now = start + SignedDuration::from_mins(tick as i64);
        let summary = run_once(
            &config,
            &settings,
            &clients,
            now,
            ReconcileOptions::default(),
        )
        .await;
        durations.push(summary.elapsed);
        let outcomes: BTreeMap<String, usize> =
            summary.reports.iter().fold(BTreeMap::new(), |mut m, r| {
                *m.entry(format!("{:?}", r.report.outcome)).or_default() += 1;
                m
            });
        println!(
            "tick {tick} ({}): {:.1} s, outcomes {outcomes:?}, audit destinations failed: {:?}",
            if dark { "dark" } else { "lifted" },
            summary.elapsed.as_secs_f64(),
            summary.audit_down.keys().collect::<Vec<_>>()
        );
        assert!(
            summary.elapsed < budget,
            "tick {tick} took {:?}, over the tick budget of {budget:?}",
            summary.elapsed
        );
        assert_eq!(
            outcomes.get("Applied"),
            Some(&TARGETS),
            "tick {tick}: {}",
            summary.table()
        );
        if dark {
            assert_eq!(
                summary.audit_down.len(),
                3,
                "every destination is dark: {:?}",
                summary.audit_down
            );
        } else if summary.audit_down.is_empty() {
            clean_runs += 1;
        }
        for r in &summary.reports {
            expected.insert(audit_id(&r.report.target, now, AuditKind::Decision));
        }
        tick += 1;
    }
    assert_eq!(
        clean_runs, 1,
        "no lifted tick within {MAX_LIFTED_TICKS} delivered without a failing destination"
    );

    // Every event, the dark ticks' among them, reached every destination once.
    let mut received = Received::new();
    drain_aws(&moto, &audit_queue, &bus_sink, &mut received).await;
    read_kafka(&audit_topic, &mut received).await;
    let held = proxy.held.load(std::sync::atomic::Ordering::SeqCst)
        + dark_kafka.held.load(std::sync::atomic::Ordering::SeqCst);
    println!(
        "blackhole soak: {TARGETS} targets, {DARK_TICKS} dark + {} lifted ticks, longest tick {:.1} s (budget {} s), {held} connections held unanswered, {} events expected",
        tick - DARK_TICKS,
        durations.iter().max().unwrap().as_secs_f64(),
        budget.as_secs(),
        expected.len()
    );
    for destination in ["sqs", "eventbridge", "kafka"] {
        let got = received.get(destination).cloned().unwrap_or_default();
        let lost: Vec<&String> = expected
            .iter()
            .filter(|id| !got.contains_key(*id))
            .collect();
        let duplicated = got.values().filter(|&&n| n > 1).count();
        println!(
            "  {destination:<12} received {} ids, lost {}, duplicated {duplicated}",
            got.len(),
            lost.len()
        );
        assert!(lost.is_empty(), "{destination} lost {lost:?}");
        // Held calls never reached moto or the broker: nothing to duplicate.
        assert_eq!(duplicated, 0, "{destination}");
    }
    assert!(
        held > 0,
        "the blackholes held nothing: the test tested nothing"
    );
}
