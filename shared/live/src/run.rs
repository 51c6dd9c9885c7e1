//! One reconcile of every target against AWS and Kafka: what
//! `qscale run --once` and the tick Lambda do.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use jiff::Timestamp;
use serde_json::json;

use crate::{ByAccess, LiveAudit, LiveFleet, LiveSignals};
use qscale_aws::{ApiCalls, AwsAudit, AwsClients, AwsSettings, DynamoStateStore};
use qscale_core::config::{Config, TargetConfig};
use qscale_core::reconcile::breaker::DestinationBreaker;
use qscale_core::reconcile::{
    aborted, reconcile_contained, AuditSink, MetricSource, Outcome, Ports, ReconcileOptions,
    ReconcileReport, StateStore, WorkerActuator,
};
use qscale_kafka::{KafkaAuditSink, KafkaLagSource, KafkaPartitions};

/// Which metrics the EMF lines publish. Custom metrics cost $0.30 a month
/// each, so per-target metrics (6 per target) dominate qscale's own bill at
/// scale (docs/deploy.md, "What qscale itself costs").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MetricsMode {
    /// Every metric per target and over all targets (the dashboard's graphs by target).
    #[default]
    PerTarget,
    /// Over all targets only: 13 metrics whatever the target count.
    AllTargets,
    /// No EMF lines.
    Off,
}

impl std::str::FromStr for MetricsMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "per_target" => Ok(MetricsMode::PerTarget),
            "all_targets" => Ok(MetricsMode::AllTargets),
            "off" => Ok(MetricsMode::Off),
            other => Err(format!(
                "{other:?} is not a metrics mode: write per_target, all_targets or off"
            )),
        }
    }
}

/// What one run did.
#[derive(Debug)]
pub struct RunSummary {
    /// One report per target, in config order.
    pub reports: Vec<TargetRun>,
    /// AWS API calls made, by operation.
    pub api_calls: std::collections::BTreeMap<&'static str, u64>,
    /// Wall time of the whole run.
    pub elapsed: std::time::Duration,
    /// Audit destinations that failed in this run, with their first error:
    /// later targets left their events in the outbox for the next run.
    pub audit_down: std::collections::BTreeMap<String, String>,
}

/// One target's reconcile and how long it took.
#[derive(Debug)]
pub struct TargetRun {
    /// The report.
    pub report: ReconcileReport,
    /// Time spent on this target.
    pub elapsed: std::time::Duration,
}

impl RunSummary {
    /// Targets whose reconcile failed.
    pub fn failures(&self) -> usize {
        self.reports
            .iter()
            .filter(|r| r.report.outcome == Outcome::Failed)
            .count()
    }

    /// API calls per target.
    pub fn calls_per_target(&self) -> f64 {
        self.api_calls.values().sum::<u64>() as f64 / self.reports.len().max(1) as f64
    }

    /// A table for humans.
    pub fn table(&self) -> String {
        use std::fmt::Write;
        let mut out = format!(
            "{:<24} {:<10} {:>9} {:<40} {}\n",
            "target", "outcome", "count", "shaped by", "error"
        );
        for r in &self.reports {
            let rep = &r.report;
            let (count, terms) = match &rep.decision {
                Some(d) => (
                    format!("{} -> {}", d.previous, d.desired),
                    d.bounded_by
                        .iter()
                        .map(|t| t.name())
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                None => ("-".into(), String::new()),
            };
            let _ = writeln!(
                out,
                "{:<24} {:<10} {:>9} {:<40} {}",
                rep.target,
                format!("{:?}", rep.outcome).to_lowercase(),
                count,
                terms,
                rep.error.as_deref().unwrap_or("")
            );
        }
        let _ = writeln!(
            out,
            "{} target(s), {} failed, {} API calls ({:.2} per target), {:.0} ms",
            self.reports.len(),
            self.failures(),
            self.api_calls.values().sum::<u64>(),
            self.calls_per_target(),
            self.elapsed.as_secs_f64() * 1000.0
        );
        for (destination, error) in &self.audit_down {
            let _ = writeln!(
                out,
                "audit destination {destination} failed in this run (events wait in the outbox): {error}"
            );
        }
        out
    }

    /// CloudWatch Embedded Metric Format lines, one per target (no API calls:
    /// CloudWatch Logs turns them into metrics).
    pub fn emf_lines(&self, at: Timestamp, mode: MetricsMode) -> Vec<String> {
        let dimensions = match mode {
            MetricsMode::Off => return Vec::new(),
            MetricsMode::PerTarget => json!([["Target"], []]),
            MetricsMode::AllTargets => json!([[]]),
        };
        self.reports
            .iter()
            .map(|r| {
                let rep = &r.report;
                let backlog: u64 = rep
                    .decision
                    .iter()
                    .flat_map(|d| d.signals.iter().filter_map(|s| s.backlog))
                    .sum();
                let (desired, actual) = rep
                    .decision
                    .as_ref()
                    .map_or((0, 0), |d| (d.desired, d.running));
                json!({
                    "_aws": {
                        "Timestamp": at.as_millisecond(),
                        // Per target, and summed over all targets (the empty
                        // dimension set) for the self-alarms; decisions counted
                        // by outcome for the dashboard.
                        "CloudWatchMetrics": [{
                            "Namespace": "qscale",
                            "Dimensions": dimensions,
                            "Metrics": [
                                {"Name": "Backlog", "Unit": "Count"},
                                {"Name": "BacklogPerWorker", "Unit": "Count"},
                                {"Name": "DesiredWorkers", "Unit": "Count"},
                                {"Name": "ActualWorkers", "Unit": "Count"},
                                {"Name": "DecisionLatency", "Unit": "Milliseconds"},
                                {"Name": "Errors", "Unit": "Count"},
                                {"Name": "Paused", "Unit": "Count"}
                            ]
                        }, {
                            "Namespace": "qscale",
                            "Dimensions": [["Outcome"]],
                            "Metrics": [{"Name": "Decisions", "Unit": "Count"}]
                        }]
                    },
                    "Target": rep.target,
                    "Backlog": backlog,
                    "BacklogPerWorker": backlog as f64 / actual.max(1) as f64,
                    "DesiredWorkers": desired,
                    "ActualWorkers": actual,
                    "DecisionLatency": r.elapsed.as_secs_f64() * 1000.0,
                    "Errors": u32::from(rep.outcome == Outcome::Failed),
                    // 1 while an operator's pause is in force.
                    "Paused": u32::from(rep.decision.as_ref().is_some_and(|d| d
                        .next_state
                        .pause
                        .as_ref()
                        .is_some_and(|p| p.active(at)))),
                    "Decisions": 1,
                    "Outcome": format!("{:?}", rep.outcome).to_lowercase(),
                })
                .to_string()
            })
            .collect()
    }
}

/// Reconciles every target of `config` once at `now`. One target's failure,
/// panic or hang (past `settings.target_budget`) never stops the others: it
/// is in its report and the audit stream.
pub async fn run_once(
    config: &Config,
    settings: &AwsSettings,
    clients: &AwsClients,
    now: Timestamp,
    options: ReconcileOptions,
) -> RunSummary {
    let started = Instant::now();
    let calls = Arc::new(ApiCalls::default());
    let kafka = qscale_aws::kafka_secrets::resolve(clients, &config.kafka_clusters, &calls).await;
    let metrics = LiveSignals {
        sqs: ByAccess::sqs_for(clients, &config.targets, &calls).await,
        kafka: Arc::new(
            KafkaLagSource::new(kafka.clusters.clone())
                .with_unavailable(kafka.unavailable.clone())
                .with_aws_credentials(kafka.aws_credentials.clone()),
        ),
    };
    let fleet = LiveFleet {
        workers: ByAccess::workers_for(clients, &config.targets, &calls).await,
        partitions: KafkaPartitions::new(kafka.clusters.clone())
            .with_aws_credentials(kafka.aws_credentials.clone()),
    };
    let store = DynamoStateStore::new(
        clients.dynamodb.clone(),
        &settings.state_table,
        calls.clone(),
    );
    let kafka_audit = config.audit_kafka.as_ref().and_then(|a| {
        if let Some(why) = kafka.unavailable.get(&a.cluster) {
            tracing::error!(cluster = %a.cluster, error = %why, "kafka audit sink unavailable; audit goes to the other sinks");
            return None;
        }
        let cluster = kafka.clusters.get(&a.cluster)?;
        KafkaAuditSink::new(a, cluster, kafka.aws_credentials.as_ref())
            .map_err(|e| tracing::error!(error = %e, "kafka audit sink unavailable; audit goes to the other sinks"))
            .ok()
    });
    let live_audit = LiveAudit {
        aws: AwsAudit::new(
            settings.audit.clone(),
            clients.audit_sqs.clone(),
            clients.eventbridge.clone(),
            calls.clone(),
        ),
        kafka: kafka_audit,
    };
    // One failed destination costs its timeout once per run, not per target.
    let audit = DestinationBreaker::new(&live_audit);
    let names: Vec<&str> = config.targets.iter().map(|t| t.name.as_str()).collect();
    futures::join!(
        store.prefetch(&names),
        fleet.workers.prefetch(&config.targets)
    );

    let ports = Ports {
        metrics: &metrics,
        actuator: &fleet,
        store: &store,
        audit: &audit,
    };
    let reports = reconcile_all(
        &config.targets,
        now,
        &ports,
        options,
        settings.concurrency,
        settings.target_budget,
    )
    .await;
    let audit_down: std::collections::BTreeMap<String, String> = audit
        .open_destinations()
        .into_iter()
        .map(|(destination, e)| (destination, e.to_string()))
        .collect();
    for (destination, error) in &audit_down {
        tracing::warn!(
            destination,
            error,
            "audit destination failed in this run; its events wait in the outboxes for the next"
        );
    }
    RunSummary {
        reports,
        api_calls: calls.snapshot(),
        elapsed: started.elapsed(),
        audit_down,
    }
}

/// Reconciles `targets` at `now`, `concurrency` at a time, each contained
/// (a panic is its own `failed` report) and cancelled past `target_budget`;
/// the reports in the targets' order.
pub async fn reconcile_all<M, A, S, U>(
    targets: &[TargetConfig],
    now: Timestamp,
    ports: &Ports<'_, M, A, S, U>,
    options: ReconcileOptions,
    concurrency: usize,
    target_budget: Duration,
) -> Vec<TargetRun>
where
    M: MetricSource,
    A: WorkerActuator,
    S: StateStore,
    U: AuditSink,
{
    let mut reports: Vec<(usize, TargetRun)> = futures::stream::iter(targets.iter().enumerate())
        .map(|(i, target)| async move {
            let t0 = Instant::now();
            let report = match tokio::time::timeout(
                target_budget,
                reconcile_contained(target, now, ports, options),
            )
            .await
            {
                Ok(report) => report,
                Err(_) => {
                    let error = format!(
                        "reconcile took longer than its budget of {} s ({}); cancelled",
                        target_budget.as_secs_f64(),
                        crate::env::TARGET_BUDGET_SECONDS
                    );
                    aborted(target, now, ports.audit, error).await
                }
            };
            (
                i,
                TargetRun {
                    report,
                    elapsed: t0.elapsed(),
                },
            )
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    reports.sort_by_key(|(i, _)| *i);
    reports.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests;
