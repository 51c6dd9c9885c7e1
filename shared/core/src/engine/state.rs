//! What a target remembers between ticks. Bounded: `decide` trims it.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::arrivals::ArrivalHistory;
use super::load_history::LoadHistory;
pub use super::partition_history::PartitionProgress;

/// Version of the stored state JSON this qscale writes. Older states (0:
/// written before the field existed) are migrated on read; every field added
/// since has a default, so migrating is reading. Newer ones are refused.
/// 2 added `arrivals`, 3 `provisioned` and the forecast's hourly series, 4
/// stores `partition_progress` compactly.
pub const STATE_SCHEMA_VERSION: u32 = 4;

/// Per-target memory, persisted by the state store between invocations.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetState {
    /// [`STATE_SCHEMA_VERSION`] when written by `decide`; 0 when absent.
    #[serde(default)]
    pub schema_version: u32,
    /// Recent raw recommendations, for the stabilization windows.
    #[serde(default)]
    pub recommendations: Vec<TimedCount>,
    /// Recent actions, for cooldowns and rate limits.
    #[serde(default)]
    pub actions: Vec<ScalingAction>,
    /// Consecutive failures per signal.
    #[serde(default)]
    pub signal_health: BTreeMap<String, SignalHealth>,
    /// Committed-offset progress per Kafka signal and partition, stored in
    /// the compact form of `partition_codec` (schema 4; the object form of
    /// schema 3 and before is still read).
    #[serde(default, with = "super::partition_codec")]
    pub partition_progress: BTreeMap<String, BTreeMap<i32, PartitionProgress>>,
    /// Recent busy-worker samples per SQS signal, for the keep-up average.
    #[serde(default)]
    pub busy_samples: BTreeMap<String, Vec<TimedValue>>,
    /// The last two visible depths per SQS signal: how fast the queue grows
    /// tells how far arrivals exceed what the fleet completes (`slo` sizing).
    #[serde(default)]
    pub depth_samples: BTreeMap<String, Vec<TimedValue>>,
    /// The last two dead-letter queue depths per SQS signal whose queue has
    /// one: a growing dead-letter queue while the queue does not drain
    /// suspects poison messages.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dead_letter_samples: BTreeMap<String, Vec<TimedValue>>,
    /// The message groups inferred per FIFO signal, kept until a worker
    /// beyond them is seen busy: the next burst is capped from its first
    /// reading.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fifo_groups: BTreeMap<String, u32>,
    /// Per-minute offered load, kept only with `policy.forecast`.
    #[serde(default, skip_serializing_if = "LoadHistory::is_empty")]
    pub load_history: LoadHistory,
    /// The forecast's period in use at the last decision (minutes), so a
    /// switch off or on is noticed once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast_period: Option<u32>,
    /// Each signal's own load history, for a pool of several
    /// (`aggregate: sum`) with the forecast on: each finds its own period.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub signal_load_history: BTreeMap<String, LoadHistory>,
    /// The period in use per signal of such a pool (minutes).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub signal_forecast_periods: BTreeMap<String, u32>,
    /// The last half hour's arrival rate per minute (copied into audit events).
    #[serde(default, skip_serializing_if = "ArrivalHistory::is_empty")]
    pub arrivals: ArrivalHistory,
    /// When qscale first decided for this target (safe adoption: no
    /// scale-in before one scale-in window from then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted_at: Option<Timestamp>,
    /// The time of the last tick decided: the claim write claims it, and a
    /// reconcile at or before it yields (one actuation per tick, even when a
    /// rival invocation reads the state between another's claim and its action).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_tick: Option<Timestamp>,
    /// Registered one-off events (pre-warm floors).
    #[serde(default)]
    pub events: Vec<RegisteredEvent>,
    /// The provisioned concurrency qscale set on the worker's qualifier for a
    /// pre-warm window and has not removed yet (only this is ever removed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned: Option<u32>,
    /// The action of a tick whose actuation answered with an error: it may
    /// have taken effect (the answer was lost) or not. It keeps counting in
    /// cooldowns and rate limits until the next decision sees the fleet:
    /// kept if the observed count is its target, forgotten otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unconfirmed_action: Option<Timestamp>,
    /// The last decision: when, the count it found and the count it left.
    /// A count observed next that is neither was set outside qscale
    /// (`manual_override_hold`); the one it found means its action did not
    /// happen (a lost answer, a stop between the claim and the action).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_decided: Option<ScalingAction>,
    /// A count set outside qscale, held until `until`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_hold: Option<ManualHold>,
    /// An operator's pause of some directions, until it expires or is resumed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<Pause>,
    /// What the last claimed reconcile found, decided and did, for `qscale
    /// status` (the audit stream has the full record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reconcile: Option<LastReconcile>,
    /// The worker's pending tasks, oldest first (`engine::capacity`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_cohorts: Vec<PendingCohort>,
    /// Since when tasks have been pending past start-up, while they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shortfall_since: Option<Timestamp>,
    /// The worker's last pending-to-running times, seconds, newest last
    /// (`slo.startup: learned`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub startup_samples: Vec<u32>,
}

impl TargetState {
    /// Reads a stored state: an older schema is migrated, a newer one (from a
    /// later qscale) is refused with its version, anything malformed with
    /// serde's path and reason.
    pub fn from_json(text: &str) -> Result<TargetState, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("state is not valid JSON: {e}"))?;
        let version = value
            .get("schema_version")
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        if version > STATE_SCHEMA_VERSION as u64 {
            return Err(format!(
                "schema_version: state schema {version} was written by a newer qscale (this one reads up to {STATE_SCHEMA_VERSION})"
            ));
        }
        let mut state: TargetState = serde_path_to_error::deserialize(value)
            .map_err(|e| format!("state is not valid: {}: {}", e.path(), e.inner()))?;
        state.schema_version = STATE_SCHEMA_VERSION;
        Ok(state)
    }
}

/// Tasks pending since `since` (`engine::capacity` follows them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendingCohort {
    /// When they were asked for (or first seen pending).
    pub since: Timestamp,
    /// How many are still pending.
    pub count: u32,
}

/// A recommendation at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimedCount {
    /// When.
    pub at: Timestamp,
    /// Workers recommended.
    pub count: u32,
}

/// A measured value at a time.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimedValue {
    /// When it was observed.
    pub at: Timestamp,
    /// The value.
    pub value: f64,
}

impl TimedValue {
    /// Records `value` observed at `at` in a series that keeps the previous
    /// reading beside the newest, and returns that previous reading. A
    /// replay of `at` drops its own earlier record first, so it compares
    /// with the same earlier sample.
    pub fn record_beside_previous(
        samples: &mut Vec<TimedValue>,
        at: Timestamp,
        value: f64,
    ) -> Option<TimedValue> {
        samples.retain(|s| s.at < at);
        let keep = samples.len().saturating_sub(1);
        samples.drain(..keep);
        let previous = samples.last().copied();
        samples.push(TimedValue { at, value });
        previous
    }
}

/// What a pause stops (AWS Application Auto Scaling's `SuspendedState`);
/// an omitted direction is not paused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PauseScope {
    /// No scale-in.
    #[serde(rename = "in")]
    pub scale_in: bool,
    /// No scale-out.
    #[serde(rename = "out")]
    pub scale_out: bool,
    /// Schedules, registered events and the forecast raise no floor.
    pub scheduled: bool,
}

impl PauseScope {
    /// Everything.
    pub const ALL: PauseScope = PauseScope {
        scale_in: true,
        scale_out: true,
        scheduled: true,
    };

    /// `in, out, scheduled` as far as paused.
    pub fn names(&self) -> String {
        [
            (self.scale_in, "in"),
            (self.scale_out, "out"),
            (self.scheduled, "scheduled"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// An operator's pause: what, until when, why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pause {
    /// What is paused.
    pub scope: PauseScope,
    /// When it was asked.
    pub since: Timestamp,
    /// When it ends by itself (mandatory); a resume moves it to then.
    pub until: Timestamp,
    /// Why, as the operator said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Ended by `qscale resume` (else by its expiry).
    #[serde(default, skip_serializing_if = "is_false")]
    pub resumed: bool,
    /// A decision has audited its start.
    #[serde(default, skip_serializing_if = "is_false")]
    pub noticed: bool,
}

impl Pause {
    /// In force at `now`.
    pub fn active(&self, now: Timestamp) -> bool {
        now < self.until
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A worker count set outside qscale and held (`policy.manual_override_hold`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualHold {
    /// The count qscale had left.
    pub from: u32,
    /// The count found instead, and held.
    pub to: u32,
    /// The decision that found it.
    pub since: Timestamp,
    /// The end of the hold.
    pub until: Timestamp,
}

/// The last claimed reconcile, in brief: what `qscale status` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LastReconcile {
    /// The tick.
    pub at: Timestamp,
    /// The desired count observed.
    pub previous: u32,
    /// Workers running when observed.
    pub running: u32,
    /// The count decided.
    pub desired: u32,
    /// The terms that bound it, by their snake_case names (`Term` lives in
    /// `decision`, which imports this module).
    pub bounded_by: Vec<String>,
    /// The reconcile's outcome (`applied`, `unchanged`, `refused`, `failed`;
    /// `interrupted` until the action's answer is recorded).
    pub outcome: String,
    /// What failed or could not be trusted, at most [`LastReconcile::ERROR_CHARS`] characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl LastReconcile {
    /// An error kept in the state is cut here: the state stays small
    /// (DynamoDB items stop at 400 KB), the audit event has the whole text.
    pub const ERROR_CHARS: usize = 300;

    /// Cuts an error to [`LastReconcile::ERROR_CHARS`] characters.
    pub fn bounded_error(error: Option<String>) -> Option<String> {
        error.map(|e| {
            if e.chars().count() <= Self::ERROR_CHARS {
                e
            } else {
                let cut: String = e.chars().take(Self::ERROR_CHARS - 1).collect();
                format!("{cut}…")
            }
        })
    }
}

/// A change of the worker count that qscale decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalingAction {
    /// When.
    pub at: Timestamp,
    /// Count before.
    pub from: u32,
    /// Count after.
    pub to: u32,
}

impl ScalingAction {
    /// More workers.
    pub fn is_scale_out(&self) -> bool {
        self.to > self.from
    }
    /// Fewer workers.
    pub fn is_scale_in(&self) -> bool {
        self.to < self.from
    }
}

/// Failure run of one signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalHealth {
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// The tick of the last counted failure (a replayed tick is not counted twice).
    pub last_failure_at: Timestamp,
}

/// A known event registered ahead of time: a floor from `start` (minus lead) to `end`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisteredEvent {
    /// Name shown in reasons.
    pub name: String,
    /// Start of the event.
    pub start: Timestamp,
    /// End of the event.
    pub end: Timestamp,
    /// Floor during the event.
    pub min: u32,
}

impl TargetState {
    /// Keeps at most `keep` (at least 1) samples of every partition's
    /// history, dropping the oldest; returns how many went. The newest stays,
    /// so the next production rate is exact; a lag older than what is kept
    /// is dated by extrapolation at the oldest kept rate.
    pub fn trim_partition_history(&mut self, keep: usize) -> usize {
        let keep = keep.max(1);
        let mut dropped = 0;
        for partitions in self.partition_progress.values_mut() {
            for p in partitions.values_mut() {
                let excess = p.history.len().saturating_sub(keep);
                p.history.drain(..excess);
                dropped += excess;
            }
        }
        dropped
    }

    /// The longest partition history kept.
    pub fn longest_partition_history(&self) -> usize {
        self.partition_progress
            .values()
            .flat_map(|partitions| partitions.values())
            .map(|p| p.history.len())
            .max()
            .unwrap_or(0)
    }
}

impl TargetState {
    /// Registers an event, replacing one with the same name (idempotent on replay).
    pub fn register_event(&mut self, event: RegisteredEvent) {
        self.events.retain(|e| e.name != event.name);
        self.events.push(event);
        self.events
            .sort_by(|a, b| (a.start, &a.name).cmp(&(b.start, &b.name)));
    }

    /// Forgets an action the shell could not apply.
    pub fn forget_action(&mut self, at: Timestamp) {
        self.actions.retain(|a| a.at != at);
    }

    /// Settles the unconfirmed action against the fleet's observed count:
    /// it took effect if the count is what it set, else it is forgotten.
    pub fn confirm_action(&mut self, observed_desired: u32) {
        let Some(at) = self.unconfirmed_action.take() else {
            return;
        };
        let took_effect = self
            .actions
            .iter()
            .any(|a| a.at == at && a.to == observed_desired);
        if !took_effect {
            self.forget_action(at);
        }
    }
}
