//! Evaluate on demand: a batch from the SQS control queue (each message
//! names a target), or an alarm state change naming its target by metric.

use std::collections::{BTreeMap, BTreeSet};

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::events::{parse_control_message, EvaluateEvent};
use super::{targets_for_alarm, HandlerError, Runtime};
use qscale_core::engine::PauseScope;
use qscale_core::reconcile::{Outcome, ReconcileOptions};
use qscale_live::run::run_once;

/// A control-queue message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlMessage {
    /// Target to reconcile now.
    pub target: String,
    /// Why (for the logs, and a pause's reason).
    #[serde(default)]
    pub reason: Option<String>,
    /// Pause the target before reconciling it (as `qscale pause`).
    #[serde(default)]
    pub pause: Option<ControlPause>,
    /// End the target's pause before reconciling it (as `qscale resume`).
    #[serde(default)]
    pub resume: bool,
}

/// A pause asked for through the control queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlPause {
    /// When it ends by itself (mandatory, at most 30 days ahead).
    pub until: Timestamp,
    /// What it pauses; everything when omitted.
    #[serde(default)]
    pub scope: Option<PauseScope>,
}

/// Applies a message's pause or resume to its target's state; why not, if it cannot.
async fn apply_control(rt: &Runtime, m: &ControlMessage, now: Timestamp) -> Result<(), String> {
    use qscale_core::reconcile::pause::{pause, resume, PauseRequest};
    if m.pause.is_none() && !m.resume {
        return Ok(());
    }
    let store = qscale_aws::DynamoStateStore::new(
        rt.clients.dynamodb.clone(),
        &rt.settings.state_table,
        Default::default(),
    );
    match (&m.pause, m.resume) {
        (Some(_), true) => Err("pause and resume in one message".into()),
        (Some(p), false) => {
            let request = PauseRequest {
                scope: p.scope.unwrap_or(PauseScope::ALL),
                until: p.until,
                reason: m.reason.clone(),
            };
            let checked = request.checked(now).map_err(|e| format!("pause: {e}"))?;
            pause(&store, &m.target, checked)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        (None, _) => resume(&store, &m.target, now)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
    }
}

/// What evaluate answers.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum EvaluateResponse {
    /// To the SQS event source: which records failed (only those are retried).
    Batch(SqsBatchResponse),
    /// For an alarm: which targets were reconciled and how.
    Alarm {
        /// The alarm.
        alarm: String,
        /// (target, outcome).
        outcomes: Vec<(String, Outcome)>,
    },
}

/// A target reconciled less than this long ago is not reconciled again for
/// a control message or an alarm: a flood of requests costs one reconcile
/// per target per interval, not one per message.
pub const MIN_INTERVAL: jiff::SignedDuration = jiff::SignedDuration::from_secs(5);

/// A control message older than this is dropped (logged, not retried): the
/// ticks since have reconciled its target, and acting on it now would only
/// replay a backlog.
pub const MAX_MESSAGE_AGE: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

/// Handles an SQS batch or an alarm state change event.
pub async fn evaluate(
    rt: &Runtime,
    event: serde_json::Value,
    now: Timestamp,
) -> Result<EvaluateResponse, HandlerError> {
    let alarm = match EvaluateEvent::from_value(event)? {
        EvaluateEvent::Batch(batch) => {
            return Ok(EvaluateResponse::Batch(
                evaluate_batch(rt, &batch, now).await,
            ))
        }
        EvaluateEvent::Alarm(alarm) => alarm,
    };
    let names: Vec<&str> = targets_for_alarm(&rt.config, &alarm.detail)
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    let outcomes = reconcile(rt, &names, now).await;
    tracing::info!(alarm = %alarm.detail.alarm_name, state = %alarm.detail.state.value, targets = ?names, "alarm evaluated");
    Ok(EvaluateResponse::Alarm {
        alarm: alarm.detail.alarm_name,
        outcomes: outcomes.into_iter().collect(),
    })
}

async fn reconcile(rt: &Runtime, names: &[&str], now: Timestamp) -> BTreeMap<String, Outcome> {
    if names.is_empty() {
        return BTreeMap::new();
    }
    let summary = run_once(
        &rt.config_for(names),
        &rt.settings,
        &rt.clients,
        now,
        ReconcileOptions {
            dry_run: rt.dry_run,
            min_interval: MIN_INTERVAL,
        },
    )
    .await;
    for r in &summary.reports {
        if let Some(e) = &r.report.error {
            tracing::warn!(target_name = %r.report.target, outcome = ?r.report.outcome, error = %e, "reconcile");
        }
    }
    summary
        .reports
        .into_iter()
        .map(|r| (r.report.target, r.report.outcome))
        .collect()
}

/// Reconciles each named target once; reports the records that must be
/// retried: unreadable messages (they reach the DLQ after the queue's
/// maxReceiveCount), unknown targets, and failed reconciles.
async fn evaluate_batch(rt: &Runtime, batch: &SqsEvent, now: Timestamp) -> SqsBatchResponse {
    let mut failures = Vec::new();
    let mut wanted: Vec<(String, String)> = Vec::new();
    for record in &batch.records {
        let id = record.message_id.clone().unwrap_or_default();
        if let Some(sent) =
            sent_at(record).filter(|sent| now.duration_since(*sent) > MAX_MESSAGE_AGE)
        {
            tracing::warn!(message_id = %id, %sent, body = ?record.body, "control message older than {} min dropped", MAX_MESSAGE_AGE.as_mins());
            continue;
        }
        let parsed = record
            .body
            .as_deref()
            .ok_or_else(|| "no body".to_string())
            .and_then(parse_control_message);
        match parsed {
            Ok(m) if rt.config.target(&m.target).is_some() => {
                match apply_control(rt, &m, now).await {
                    Ok(()) => wanted.push((id, m.target)),
                    Err(e) => {
                        tracing::error!(message_id = %id, target_name = %m.target, error = %e, "control message refused");
                        failures.push(id);
                    }
                }
            }
            Ok(m) => {
                tracing::error!(message_id = %id, target_name = %m.target, "no such target in the config");
                failures.push(id);
            }
            Err(e) => {
                tracing::error!(message_id = %id, error = %e, body = ?record.body, "unreadable control message");
                failures.push(id);
            }
        }
    }
    let names: BTreeSet<&str> = wanted.iter().map(|(_, t)| t.as_str()).collect();
    let outcomes = reconcile(rt, &names.into_iter().collect::<Vec<_>>(), now).await;
    for (id, target) in &wanted {
        if outcomes.get(target).is_none_or(|o| *o == Outcome::Failed) {
            failures.push(id.clone());
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures
        .into_iter()
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id;
            f
        })
        .collect();
    response
}

/// When SQS took the message (its `SentTimestamp` attribute, ms since the epoch).
fn sent_at(record: &aws_lambda_events::event::sqs::SqsMessage) -> Option<Timestamp> {
    let ms: i64 = record.attributes.get("SentTimestamp")?.parse().ok()?;
    Timestamp::from_millisecond(ms).ok()
}
