//! The scheduled tick: reconcile every target, or fan out one control
//! message per target when there are too many for one invocation.

use jiff::Timestamp;
use serde::Serialize;

use super::{HandlerError, Runtime};
use qscale_core::reconcile::{Outcome, PortError, ReconcileOptions};
use qscale_live::run::run_once;

/// What tick did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TickSummary {
    /// Targets in the config.
    pub targets: usize,
    /// Targets sent to the control queue instead.
    pub fanned_out: usize,
    /// Reconciled and changed.
    pub applied: usize,
    /// Reconciled, failed.
    pub failed: usize,
    /// Outcome per target (when reconciled here).
    pub outcomes: Vec<(String, Outcome)>,
    /// AWS calls made.
    pub api_calls: u64,
}

/// One tick at `now`.
pub async fn tick(rt: &Runtime, now: Timestamp) -> Result<TickSummary, HandlerError> {
    let targets = rt.config.targets.len();
    if targets > rt.fanout_above {
        let queue = rt.control_queue.as_deref().ok_or_else(|| {
            HandlerError::Config(format!(
                "{targets} targets is above {}={} but {} is not set",
                super::env::FANOUT_ABOVE,
                rt.fanout_above,
                super::env::CONTROL_QUEUE
            ))
        })?;
        fan_out(rt, queue).await?;
        return Ok(TickSummary {
            targets,
            fanned_out: targets,
            applied: 0,
            failed: 0,
            outcomes: Vec::new(),
            api_calls: targets.div_ceil(10) as u64,
        });
    }
    let options = ReconcileOptions {
        dry_run: rt.dry_run,
    };
    let summary = tokio::time::timeout(
        rt.tick_budget,
        run_once(&rt.config, &rt.settings, &rt.clients, now, options),
    )
    .await
    .map_err(|_| {
        HandlerError::Config(format!(
            "reconciling {targets} targets took longer than {} s: lower {}",
            rt.tick_budget.as_secs(),
            super::env::FANOUT_ABOVE
        ))
    })?;
    for line in summary.emf_lines(now) {
        // CloudWatch turns these log lines into metrics.
        println!("{line}");
    }
    let outcomes: Vec<_> = summary
        .reports
        .iter()
        .map(|r| (r.report.target.clone(), r.report.outcome))
        .collect();
    Ok(TickSummary {
        targets,
        fanned_out: 0,
        applied: outcomes
            .iter()
            .filter(|(_, o)| *o == Outcome::Applied)
            .count(),
        failed: summary.failures(),
        outcomes,
        api_calls: summary.api_calls.values().sum(),
    })
}

async fn fan_out(rt: &Runtime, queue: &str) -> Result<(), HandlerError> {
    use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
    for (chunk_no, chunk) in rt.config.targets.chunks(10).enumerate() {
        let entries = chunk
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let body =
                    serde_json::json!({ "target": t.name, "reason": "tick fan-out" }).to_string();
                SendMessageBatchRequestEntry::builder()
                    .id(format!("t{}", chunk_no * 10 + i))
                    .message_body(body)
                    .build()
                    .map_err(|e| PortError::new(format!("control queue {queue}"), e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = rt
            .clients
            .sqs
            .send_message_batch()
            .queue_url(queue)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| {
                PortError::new(
                    format!("control queue {queue}"),
                    qscale_aws::describe_error(&e),
                )
            })?;
        if !out.failed().is_empty() {
            let ids: Vec<_> = out.failed().iter().map(|f| f.id().to_string()).collect();
            return Err(PortError::new(
                format!("control queue {queue}"),
                format!("entries not sent: {ids:?}"),
            )
            .into());
        }
    }
    Ok(())
}
