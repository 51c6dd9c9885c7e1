//! Traces rebuilt from a real target's records, so `simulate --trace` can
//! compare policies on your own traffic:
//!
//! - from its audit events: every tick records the arrival rate its signals
//!   showed (Kafka: production rate from high watermarks; SQS: completions
//!   plus queue growth, when the policy knows the processing time) into the
//!   state's last half hour, per minute, and every audit event carries it.
//!   Events come on changes, distrust, and at least every 25 minutes for
//!   this alone, so the minutes join up. The round trip over the bundled
//!   traces (`derive::tests`) measures the error.
//! - from per-period message counts (CloudWatch `NumberOfMessagesSent`,
//!   Sum per period): the rate of a period is its count over its length.

use std::collections::BTreeMap;

use jiff::Timestamp;
use qscale_core::reconcile::{AuditEvent, AuditKind};

use crate::trace::Trace;

/// Why a trace cannot be derived.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DeriveError {
    /// A line of the audit file is not an audit event.
    #[error("{file}: line {line}: not an audit event: {message}")]
    Line {
        /// File name.
        file: String,
        /// 1-based line.
        line: usize,
        /// serde's reason.
        message: String,
    },
    /// Fewer than two usable points.
    #[error("{0}")]
    TooFew(String),
}

/// A derived trace and what went into it.
#[derive(Debug, Clone)]
pub struct Derived {
    /// The trace, second 0 at `start`.
    pub trace: Trace,
    /// Time of second 0.
    pub start: Timestamp,
    /// Points used (distinct ticks with a rate).
    pub points: usize,
    /// Events of the target skipped: no trusted signal showed a rate.
    pub without_rate: usize,
    /// Deliveries dropped as duplicates of an id already read.
    pub duplicates: usize,
}

/// Reads audit events, one JSON object per line, or EventBridge events whose
/// `detail` is one (what an archive or a queue subscribed to the bus holds).
pub fn read_audit_lines(file: &str, text: &str) -> Result<Vec<AuditEvent>, DeriveError> {
    let mut events = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let err = |message: String| DeriveError::Line {
            file: file.to_string(),
            line: i + 1,
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| err(e.to_string()))?;
        let value = match value.get("detail") {
            Some(detail) if value.get("detail-type").is_some() => detail.clone(),
            _ => value,
        };
        events.push(serde_json::from_value(value).map_err(|e| err(e.to_string()))?);
    }
    Ok(events)
}

/// The arrival-rate trace of `target` from its audit events (any order,
/// duplicates allowed). Each event carries the per-minute rates of the half hour
/// before it; a minute takes its value from the latest event that holds it,
/// and a minute no event holds keeps the rate before it. Events without
/// minutes (written before they were added) give their own rates instead,
/// each held to the next. The trace ends `tail_s` after the last one.
pub fn from_audit(
    events: &[AuditEvent],
    target: &str,
    tail_s: u32,
) -> Result<Derived, DeriveError> {
    // Per minute: (the time of the event that said it, the rate).
    let mut minutes: BTreeMap<i64, (Timestamp, f64)> = BTreeMap::new();
    let mut points: BTreeMap<Timestamp, f64> = BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    let (mut without_rate, mut duplicates, mut of_target) = (0, 0, 0);
    for e in events.iter().filter(|e| e.target == target) {
        of_target += 1;
        if !seen.insert(e.id.clone()) {
            duplicates += 1;
            continue;
        }
        // A yield repeats the reading of a tick another invocation claimed;
        // a failed claim and a dry run carry their tick's own reading.
        if !matches!(
            e.kind,
            AuditKind::Decision | AuditKind::ClaimError | AuditKind::DryRun
        ) {
            continue;
        }
        let mut used = false;
        if let Some(rates) = &e.arrivals {
            for (i, rate) in rates.per_minute.iter().enumerate() {
                let Some(rate) = rate else { continue };
                let minute = rates.first_minute + i as i64;
                let newer = minutes.get(&minute).is_none_or(|(at, _)| *at <= e.at);
                if newer {
                    minutes.insert(minute, (e.at, rate.max(0.0)));
                }
                used = true;
            }
        }
        let trusted: Vec<_> = e.inputs.iter().filter(|i| i.trusted).collect();
        if !trusted.is_empty() && trusted.iter().all(|i| i.arrival_rate.is_some()) {
            let rate: f64 = trusted.iter().filter_map(|i| i.arrival_rate).sum();
            points.insert(e.at, rate.max(0.0));
            used = true;
        }
        if !used {
            without_rate += 1;
        }
    }
    // Minute rates when the events carry them (every event since they
    // were added); else the events' own rates, each held to the next.
    let known: BTreeMap<i64, f64> = if minutes.is_empty() {
        points.iter().map(|(t, r)| (t.as_second(), *r)).collect()
    } else {
        minutes.iter().map(|(m, (_, r))| (m * 60, *r)).collect()
    };
    if known.len() < 2 {
        return Err(DeriveError::TooFew(format!(
            "target {target:?}: no arrival rates in {of_target} events (need two minutes or two decisions); \
             SQS signals show a rate only when the policy sets a processing time \
             (policy.slo.processing_time or policy.latency.processing_time_per_message)"
        )));
    }
    let first = *known.keys().next().expect("two points");
    let last = *known.keys().last().expect("two points");
    let start = Timestamp::from_second(first).expect("from a timestamp");
    let end = (last - first) as u32 + tail_s.max(1);
    let mut rates = Vec::with_capacity(end as usize);
    let mut next = known.iter().peekable();
    let mut held = 0.0;
    for s in 0..end as i64 {
        while let Some((_, r)) = next.next_if(|(t, _)| **t - first <= s) {
            held = *r;
        }
        rates.push(held);
    }
    Ok(Derived {
        trace: Trace {
            name: format!("{target}-from-audit"),
            rates,
            queues: Vec::new(),
        },
        start,
        points: minutes.len().max(points.len()),
        without_rate,
        duplicates,
    })
}

/// The arrival-rate trace from message counts per period (`(period start,
/// messages)`, any order): each period's rate is its count over
/// `period_s`; periods with no datapoint count as 0 (CloudWatch omits empty
/// SQS periods).
pub fn from_period_counts(
    name: &str,
    counts: &[(Timestamp, f64)],
    period_s: u32,
) -> Result<Derived, DeriveError> {
    let period_s = period_s.max(1);
    let by_time: BTreeMap<Timestamp, f64> = counts.iter().copied().collect();
    if by_time.is_empty() {
        return Err(DeriveError::TooFew(format!(
            "{name}: no datapoints in the period asked for"
        )));
    }
    let start = *by_time.keys().next().expect("one point");
    let last = *by_time.keys().last().expect("one point");
    let periods = last.duration_since(start).as_secs() as u32 / period_s + 1;
    let mut rates = vec![0.0; (periods * period_s) as usize];
    for (t, n) in &by_time {
        let first = t.duration_since(start).as_secs() as u32 / period_s * period_s;
        let rate = n.max(0.0) / period_s as f64;
        for r in &mut rates[first as usize..(first + period_s) as usize] {
            *r = rate;
        }
    }
    Ok(Derived {
        trace: Trace {
            name: name.to_string(),
            queues: Vec::new(),
            rates,
        },
        start,
        points: by_time.len(),
        without_rate: 0,
        duplicates: counts.len() - by_time.len(),
    })
}

#[cfg(test)]
mod tests;
