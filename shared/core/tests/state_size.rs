//! How big a Kafka target's stored item grows: the state `decide` carries
//! from tick to tick plus a full audit outbox, for 10 to 10,000 partitions
//! over 100 ticks, as the DynamoDB store writes them (two JSON strings in one
//! item; DynamoDB refuses items over 400 KB).

use jiff::{SignedDuration, Timestamp};

use qscale_core::config::{MissingOffsetPolicy, PolicyConfig, SignalConfig, TargetConfig};
use qscale_core::engine::partition_history::PartitionStatus;
use qscale_core::engine::{
    decide, Decision, KafkaOffsets, Observations, PartitionOffsets, TargetState,
};
use qscale_core::reconcile::item_budget::{self, ITEM_BUDGET_BYTES};
use qscale_core::reconcile::outbox::OUTBOX_MAX_EVENTS;
use qscale_core::reconcile::{AuditEvent, AuditKind, Outcome, PendingAudit};

const TICK_S: i64 = 60;

fn target() -> TargetConfig {
    let mut kafka = qscale_core::testing::kafka_signal("k");
    kafka.on_missing_offset = MissingOffsetPolicy::Earliest;
    let mut policy = PolicyConfig::with_target(1, 10_000, 1000.0);
    policy.stuck_partition_observations = 5;
    qscale_core::testing::ecs_target("orders", policy, vec![SignalConfig::Kafka(kafka)])
}

/// How the group keeps up, partition by partition.
#[derive(Clone, Copy, Debug)]
enum Group {
    /// 90% of partitions keep up (a second's production in hand), 9% fall
    /// behind at 80% of production, 1% stall (the committed offset stays).
    Healthy,
    /// Every partition falls behind at half its production: the worst case
    /// for history, since every partition's lag is older than the last tick.
    FallingBehind,
}

/// Partition `p` produces `rate(p)` msg/s; its high watermark and committed
/// offset at tick `i`.
fn offsets(group: Group, p: i32, i: i64) -> (i64, Option<i64>) {
    let rate = 5 + (p as i64 * 7919) % 50;
    let base = 1_000_000_000 + (p as i64 * 104_729) % 9_000_000;
    let high = base + rate * TICK_S * i;
    let produced = rate * TICK_S * i;
    let committed = match group {
        Group::Healthy if p % 100 == 7 => base + produced.min(rate * TICK_S * 3),
        Group::Healthy if p % 100 < 10 => base + produced * 8 / 10,
        Group::Healthy => high - rate,
        Group::FallingBehind => base + produced / 2,
    };
    (high, Some(committed))
}

fn observations(group: Group, partitions: i32, i: i64, at: Timestamp) -> Observations {
    let parts = (0..partitions)
        .map(|p| {
            let (high, committed) = offsets(group, p, i);
            PartitionOffsets {
                partition: p,
                low_watermark: 0,
                high_watermark: high,
                committed_offset: committed,
                only_marker_left: false,
            }
        })
        .collect();
    qscale_core::testing::kafka_observations(
        "k",
        20,
        at,
        KafkaOffsets {
            partitions: parts,
            topics: Vec::new(),
            members: Some(20),
            group_state: Some("Stable".into()),
        },
    )
}

/// The seconds behind partition `p` is at tick `i`, from the traffic's own
/// arithmetic (every rate is steady).
fn true_lag_seconds(group: Group, p: i32, i: i64) -> f64 {
    let elapsed = (TICK_S * i) as f64;
    match group {
        Group::Healthy if p % 100 == 7 => (elapsed - 180.0).max(0.0),
        Group::Healthy if p % 100 < 10 => elapsed * 0.2,
        Group::Healthy => 1.0,
        Group::FallingBehind => elapsed * 0.5,
    }
}

struct Run {
    state: TargetState,
    last: Decision,
    /// State and full outbox, bytes, after the last tick's guard.
    item_bytes: usize,
    /// Ticks at which the guard trimmed.
    trimmed_ticks: usize,
}

/// `ticks` ticks of `decide`, each saved as the reconcile saves it: beside
/// a full outbox of that tick's events, through the item guard.
fn run(group: Group, partitions: i32, ticks: i64) -> Run {
    let tg = target();
    let t0: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
    let mut state = TargetState::default();
    let (mut last, mut item_bytes, mut trimmed_ticks) = (None, 0, 0);
    for i in 0..ticks {
        let at = t0 + SignedDuration::from_secs(TICK_S * i);
        let d = decide(&tg, &state, &observations(group, partitions, i, at), at);
        let outbox = full_outbox(&d);
        state = d.next_state.clone();
        if item_budget::fit(&mut state, &outbox, ITEM_BUDGET_BYTES).is_some() {
            trimmed_ticks += 1;
        }
        item_bytes = json_len(&state) + json_len(&outbox);
        last = Some(d);
    }
    Run {
        state,
        last: last.unwrap(),
        item_bytes,
        trimmed_ticks,
    }
}

/// The outbox at its bound, every event this tick's.
fn full_outbox(d: &Decision) -> Vec<PendingAudit> {
    (0..OUTBOX_MAX_EVENTS)
        .map(|_| {
            PendingAudit::new(AuditEvent::from_decision(
                d,
                AuditKind::Decision,
                Outcome::Applied,
                None,
            ))
        })
        .collect()
}

fn json_len<T: serde::Serialize + ?Sized>(value: &T) -> usize {
    serde_json::to_string(value).unwrap().len()
}

#[test]
fn state_and_a_full_outbox_stay_under_the_budget_with_lag_seconds_exact() {
    for group in [Group::Healthy, Group::FallingBehind] {
        for n in [10, 100, 1_000, 10_000] {
            let r = run(group, n, 100);
            let state = json_len(&r.state);
            println!(
                "{group:?} {n} partitions, 100 ticks: state {state} B, with a full outbox {} B, trimmed at {} tick(s), history at most {} samples",
                r.item_bytes,
                r.trimmed_ticks,
                r.state.longest_partition_history()
            );
            assert!(
                r.item_bytes <= ITEM_BUDGET_BYTES,
                "{group:?} {n}: {}",
                r.item_bytes
            );
            // A group mostly keeping up never needs the guard, even at 10,000.
            if matches!(group, Group::Healthy) {
                assert_eq!(r.trimmed_ticks, 0, "{n}");
            }
            let signal = &r.last.signals[0];
            let mut with_lag = 0;
            for lag in &signal.partition_lag {
                let want = true_lag_seconds(group, lag.partition, 99);
                let got = lag.lag_seconds.unwrap();
                assert!(
                    (got - want).abs() < 1e-6,
                    "{group:?} {n}: partition {}: {got} s, want {want}",
                    lag.partition
                );
                with_lag += usize::from(lag.lag > 0);
            }
            assert!(with_lag == n as usize, "{with_lag}");
            // Stall detection: the stalled 1% and nothing else.
            let stalled: Vec<i32> = match group {
                Group::Healthy => (0..n).filter(|p| p % 100 == 7).collect(),
                Group::FallingBehind => vec![],
            };
            assert_eq!(signal.stuck_partitions, stalled, "{group:?} {n}");
            for lag in &signal.partition_lag {
                assert_eq!(
                    lag.status == PartitionStatus::Stalled,
                    stalled.contains(&lag.partition)
                );
            }
        }
    }
}
