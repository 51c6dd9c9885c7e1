//! The scheduled tick: reconcile every target, or fan out one control
//! message per target when there are too many for one invocation; with a
//! sub-minute `tick_interval`, several ticks inside one scheduled invocation.

use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;

use super::{HandlerError, Runtime};
use qscale_aws::AwsSettings;
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

/// What one scheduled invocation did: one tick per `tick_interval` slot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TickInvocation {
    /// The ticks run, in order.
    pub ticks: Vec<TickSummary>,
    /// Slots left out because they could not finish inside the time budget.
    pub skipped_slots: u32,
}

/// Ticks per scheduled invocation: the schedule fires once per `period`, and
/// a shorter `tick_interval` runs `period / tick_interval` ticks inside it.
pub fn slots(tick_interval: Duration, period: Duration) -> u32 {
    if tick_interval.is_zero() || tick_interval >= period {
        return 1;
    }
    (period.as_millis() / tick_interval.as_millis()).max(1) as u32
}

/// One scheduled invocation: a tick now, then one every `tick_interval`
/// until the schedule's period is used up (one tick when the interval is a
/// minute or more). Each tick reads the clock and claims its own tick in
/// every target's state, as a lone tick does. A slot that would start after
/// the time budget is skipped, and each tick gets at most its slot's time, so
/// an invocation never runs into the next scheduled one.
pub async fn tick_invocation(rt: &Runtime) -> Result<TickInvocation, HandlerError> {
    let interval = rt.config.tick_interval.0;
    let n = slots(interval, rt.schedule_period);
    let start = tokio::time::Instant::now();
    let mut ticks = Vec::with_capacity(n as usize);
    let mut skipped_slots = 0;
    for k in 0..n {
        let offset = interval * k;
        if offset >= rt.tick_budget {
            skipped_slots = n - k;
            break;
        }
        tokio::time::sleep_until(start + offset).await;
        let budget = (rt.tick_budget - offset).min(if n > 1 { interval } else { rt.tick_budget });
        ticks.push(tick_within(rt, Timestamp::now(), budget).await?);
    }
    Ok(TickInvocation {
        ticks,
        skipped_slots,
    })
}

/// One tick at `now`.
pub async fn tick(rt: &Runtime, now: Timestamp) -> Result<TickSummary, HandlerError> {
    tick_within(rt, now, rt.tick_budget).await
}

/// One tick at `now` that must finish within `budget`.
async fn tick_within(
    rt: &Runtime,
    now: Timestamp,
    budget: Duration,
) -> Result<TickSummary, HandlerError> {
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
        ..Default::default()
    };
    // Each target's budget stays inside this tick's (a 15 s slot's, say), so
    // one hung target is reported alone instead of timing the tick out.
    let settings = AwsSettings {
        target_budget: rt.settings.target_budget.min(budget.mul_f64(0.8)),
        ..rt.settings.clone()
    };
    let summary = tokio::time::timeout(
        budget,
        run_once(&rt.config, &settings, &rt.clients, now, options),
    )
    .await
    .map_err(|_| {
        HandlerError::Config(format!(
            "reconciling {targets} targets took longer than {:.1} s: lower {}",
            budget.as_secs_f64(),
            super::env::FANOUT_ABOVE
        ))
    })?;
    for line in summary.emf_lines(now, rt.metrics) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_minute_intervals_split_the_schedule_period() {
        let s = Duration::from_secs;
        assert_eq!(slots(s(15), s(60)), 4);
        assert_eq!(slots(s(10), s(60)), 6);
        assert_eq!(slots(s(60), s(60)), 1);
        assert_eq!(slots(s(300), s(60)), 1);
        assert_eq!(slots(Duration::ZERO, s(60)), 1);
    }
}
