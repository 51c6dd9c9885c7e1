//! Floors from recurring schedules (cron in a time zone) and registered
//! events, applied `lead` before they start so workers are warm in time.

use crate::engine::time::minus;
use jiff::Timestamp;

use super::context::Context;
use crate::config::{ScheduleConfig, TargetConfig};
use crate::engine::chain::Chain;
use crate::engine::decision::Term;
use crate::engine::observation::WorkerObservation;
use crate::engine::provisioned::{self, ProvisionedChange};
use crate::engine::state::TargetState;

/// Raises the count to the highest floor in force; returns that floor
/// (Lambda workers with a qualifier keep it warm as provisioned concurrency).
pub(in crate::engine) fn apply(ctx: &Context, chain: &mut Chain) -> Option<ActiveFloor> {
    let floor = active_floor(ctx.target, ctx.state, ctx.now)?;
    if super::pause::floors_paused(ctx) {
        // Said, not applied; the window's provisioned concurrency is kept.
        chain.set(
            Term::Paused,
            chain.value,
            format!(
                "floor {} from {} paused (scheduled)",
                floor.min, floor.source
            ),
        );
        return Some(floor);
    }
    let v = chain.value.max(floor.min);
    chain.set(
        Term::Floor,
        v,
        format!("floor {} from {}", floor.min, floor.source),
    );
    Some(floor)
}

/// The highest floor in force now, and what imposes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ActiveFloor {
    pub min: u32,
    pub source: String,
}

/// Whether a schedule's window (minus lead) covers `now`: some occurrence
/// `s` with `s - lead <= now < s + duration`.
pub(crate) fn schedule_active(
    s: &ScheduleConfig,
    lead: jiff::SignedDuration,
    now: Timestamp,
) -> Option<Timestamp> {
    // The first occurrence strictly after now - duration is the only candidate.
    let from = minus(now, s.duration.signed()).to_zoned(s.timezone.zone().clone());
    let occurrence = s.cron.cron().find_next_occurrence(&from, false).ok()?;
    let start = occurrence.timestamp();
    (minus(start, lead) <= now).then_some(start)
}

/// The highest active floor over schedules and registered events.
pub(crate) fn active_floor(
    target: &TargetConfig,
    state: &TargetState,
    now: Timestamp,
) -> Option<ActiveFloor> {
    let default_lead = target.policy.prewarm_lead.signed();
    let schedules = target.schedules.iter().filter_map(|s| {
        let lead = s.lead.map(|l| l.signed()).unwrap_or(default_lead);
        schedule_active(s, lead, now).map(|start| ActiveFloor {
            min: s.min,
            source: format!("schedule {:?} (window starting {start})", s.name),
        })
    });
    let events = state
        .events
        .iter()
        .filter(|e| minus(e.start, default_lead) <= now && now < e.end)
        .map(|e| ActiveFloor {
            min: e.min,
            source: format!("event {:?} ({} to {})", e.name, e.start, e.end),
        });
    schedules.chain(events).max_by_key(|f| f.min)
}

/// The provisioned-concurrency change for the floor in force (Lambda
/// workers with a qualifier keep a window's floor initialized), and what
/// qscale owns afterwards.
pub(crate) fn keep_floor_warm(
    target: &TargetConfig,
    worker: &WorkerObservation,
    owned: Option<u32>,
    floor: Option<&ActiveFloor>,
) -> (Option<ProvisionedChange>, Option<u32>) {
    let wanted = target
        .worker
        .provisioned_qualifier()
        .and(floor)
        .filter(|f| f.min > 0)
        .map(|f| (f.min, f.source.as_str()));
    provisioned::plan(wanted, worker.provisioned, owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HumanDuration;

    fn schedule(cron: &str, tz: &str, duration: u64) -> ScheduleConfig {
        ScheduleConfig {
            name: "s".into(),
            cron: cron.parse().unwrap(),
            timezone: tz.parse().unwrap(),
            duration: HumanDuration::secs(duration),
            min: 5,
            lead: None,
        }
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn window_in_a_time_zone_with_lead() {
        // 08:00 Paris on 2026-11-24 is 07:00 UTC (CET, UTC+1).
        let s = schedule("0 8 * * *", "Europe/Paris", 3600);
        let lead = jiff::SignedDuration::from_secs(300);
        assert!(schedule_active(&s, lead, ts("2026-11-24T06:54:59Z")).is_none());
        assert!(schedule_active(&s, lead, ts("2026-11-24T06:55:00Z")).is_some());
        assert!(schedule_active(&s, lead, ts("2026-11-24T07:59:59Z")).is_some());
        assert!(schedule_active(&s, lead, ts("2026-11-24T08:00:00Z")).is_none());
    }

    #[test]
    fn window_follows_daylight_saving_time() {
        // In July Paris is UTC+2: 08:00 local is 06:00 UTC.
        let s = schedule("0 8 * * *", "Europe/Paris", 600);
        let lead = jiff::SignedDuration::ZERO;
        assert!(schedule_active(&s, lead, ts("2026-07-01T06:05:00Z")).is_some());
        assert!(schedule_active(&s, lead, ts("2026-07-01T07:05:00Z")).is_none());
    }
}
