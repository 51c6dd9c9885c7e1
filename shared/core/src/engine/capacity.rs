//! Capacity that does not come: tasks that stay pending past their
//! start-up (a capacity provider or Fargate Spot that cannot place them).
//!
//! ECS reports only counts, so pending tasks are followed as cohorts, oldest
//! first: a scale-out adds one (its count, now), pending seen beyond the
//! cohorts adds one, and pending seen below them drains the oldest (ECS
//! places tasks in the order it was asked for them). Tasks of cohorts older
//! than start-up plus a margin are the shortfall. An ECS worker with a
//! `spillover` sibling has it set to the shortfall, and back to 0 once the
//! primary's tasks run.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::observation::WorkerObservation;
use super::state::{PendingCohort, TargetState};

/// Cohorts kept; beyond, the two newest merge (the oldest, which decides
/// the shortfall, is never moved).
const MAX_COHORTS: usize = 16;

/// Pending-to-running times kept for `slo.startup: learned`, newest last.
const MAX_STARTUP_SAMPLES: usize = 20;

/// Samples needed before a learned start-up replaces the default.
const MIN_STARTUP_SAMPLES: usize = 3;

/// The learned start-up's percentile and bounds, seconds: a start-up well
/// inside what is seen (the slow tail decides whether workers come in time),
/// never below a task's own scheduling nor above a quarter hour.
const STARTUP_PERCENTILE: f64 = 0.9;
const STARTUP_BOUNDS_S: (u32, u32) = (5, 900);

/// `slo.startup: learned` as resolved for one decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnedStartup {
    /// The start-up used, seconds.
    pub seconds: u32,
    /// Pending-to-running times it comes from (below 3: the default 1m).
    pub samples: u32,
}

/// The start-up learned from `samples` (seconds): their 90th percentile
/// (nearest rank), bounded; the default until [`MIN_STARTUP_SAMPLES`].
pub(super) fn learned_startup(samples: &[u32]) -> LearnedStartup {
    let default = crate::config::StartupTime::DEFAULT.0.as_secs() as u32;
    if samples.len() < MIN_STARTUP_SAMPLES {
        return LearnedStartup {
            seconds: default,
            samples: samples.len() as u32,
        };
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = ((STARTUP_PERCENTILE * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    LearnedStartup {
        seconds: sorted[rank - 1].clamp(STARTUP_BOUNDS_S.0, STARTUP_BOUNDS_S.1),
        samples: sorted.len() as u32,
    }
}

/// Margin past start-up before pending tasks are short: a quarter of it,
/// at least 10 s (start-ups jitter; 60 ± 10 s is usual on Fargate).
fn threshold(startup: SignedDuration) -> SignedDuration {
    startup + (startup / 4).max(SignedDuration::from_secs(10))
}

/// Tasks pending past start-up plus the margin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityShortfall {
    /// Tasks short.
    pub tasks: u32,
    /// How long the oldest of them has been pending, seconds.
    pub pending_for_s: i64,
    /// Pending longer than this is short: start-up plus the margin, seconds.
    pub threshold_s: i64,
}

/// The cohorts after this observation: drained oldest first down to the
/// pending count seen, or topped up with what is pending beyond them; and
/// how long each drained cohort had been pending, seconds (a start-up each,
/// when they drained by starting).
pub(super) fn follow(
    cohorts: &[PendingCohort],
    pending: u32,
    now: Timestamp,
) -> (Vec<PendingCohort>, Vec<u32>) {
    let mut out: Vec<PendingCohort> = cohorts.to_vec();
    let mut ages = Vec::new();
    let held: u32 = out.iter().map(|c| c.count).sum();
    if pending < held {
        let mut drain = held - pending;
        while drain > 0 {
            let oldest = &mut out[0];
            let take = oldest.count.min(drain);
            oldest.count -= take;
            drain -= take;
            let age = now.duration_since(oldest.since).as_secs();
            ages.push(age.clamp(0, i64::from(u32::MAX)) as u32);
            if oldest.count == 0 {
                out.remove(0);
            }
        }
    } else if pending > held {
        out.push(PendingCohort {
            since: now,
            count: pending - held,
        });
    }
    (out, ages)
}

/// Adds the tasks a scale-out asks for now, keeping at most [`MAX_COHORTS`].
pub(super) fn asked(cohorts: &mut Vec<PendingCohort>, count: u32, now: Timestamp) {
    if count == 0 {
        return;
    }
    cohorts.push(PendingCohort { since: now, count });
    while cohorts.len() > MAX_COHORTS {
        let newest = cohorts.pop().expect("over the limit");
        cohorts.last_mut().expect("over the limit").count += newest.count;
    }
}

/// The tasks pending past `startup` plus the margin, if any.
pub(super) fn shortfall(
    cohorts: &[PendingCohort],
    now: Timestamp,
    startup: SignedDuration,
) -> Option<CapacityShortfall> {
    let limit = threshold(startup);
    let late = |c: &&PendingCohort| now.duration_since(c.since) > limit;
    let first = cohorts.iter().find(late)?;
    let tasks: u32 = cohorts.iter().filter(late).map(|c| c.count).sum();
    (tasks > 0).then(|| CapacityShortfall {
        tasks,
        pending_for_s: now.duration_since(first.since).as_secs(),
        threshold_s: limit.as_secs(),
    })
}

/// What this tick knows of the fleet's capacity: the shortfall, the count to
/// set on the sibling when it changes, and a notice when a shortfall begins
/// or ends or the sibling changes.
pub(super) struct Capacity {
    pub shortfall: Option<CapacityShortfall>,
    pub spillover: Option<u32>,
    pub notices: Vec<String>,
}

/// Follows the pending tasks into `next`, given this decision's `desired`;
/// `count_fell`: the observed count is below what the last decision left
/// (pending tasks may have been removed rather than started).
pub(super) fn assess(
    next: &mut TargetState,
    worker: &WorkerObservation,
    count_fell: bool,
    desired: u32,
    has_spillover: bool,
    startup: SignedDuration,
    now: Timestamp,
) -> Capacity {
    let (mut cohorts, started) = follow(&next.pending_cohorts, worker.pending, now);
    // Pending tasks that left while the count did not fall started: their
    // time pending is a start-up (one a scale-in removed is not).
    if !count_fell {
        next.startup_samples.extend(started);
        let over = next
            .startup_samples
            .len()
            .saturating_sub(MAX_STARTUP_SAMPLES);
        next.startup_samples.drain(..over);
    }
    let shortfall = shortfall(&cohorts, now, startup);
    asked(&mut cohorts, desired.saturating_sub(worker.desired), now);
    next.pending_cohorts = cohorts;
    let mut notices = Vec::new();
    match (&shortfall, next.shortfall_since) {
        (Some(s), None) => {
            next.shortfall_since = Some(now);
            notices.push(format!(
                "capacity_shortfall: {} task(s) pending for {} s, past start-up plus margin ({} s); {} running of {} asked",
                s.tasks, s.pending_for_s, s.threshold_s, worker.running, worker.desired
            ));
        }
        (None, Some(since)) => {
            next.shortfall_since = None;
            notices.push(format!(
                "capacity_shortfall over after {} s: {} running of {} asked",
                now.duration_since(since).as_secs(),
                worker.running,
                worker.desired
            ));
        }
        _ => {}
    }
    // The sibling takes the shortfall, only when its count would change.
    let wanted = has_spillover.then(|| shortfall.as_ref().map_or(0, |s| s.tasks));
    let spillover = wanted.filter(|w| worker.spillover != Some(*w));
    if let Some(w) = spillover {
        notices.push(format!(
            "spillover: {} -> {w} ({})",
            worker.spillover.map_or("unknown".into(), |h| h.to_string()),
            if w > 0 {
                "the tasks the worker cannot place"
            } else {
                "the worker's tasks run"
            }
        ));
    }
    Capacity {
        shortfall,
        spillover,
        notices,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn pending_tasks_drain_oldest_first_and_new_ones_join_at_the_back() {
        let (c, _) = follow(&[], 8, t(0));
        assert_eq!(
            c,
            vec![PendingCohort {
                since: t(0),
                count: 8
            }]
        );
        let (mut c, started) = follow(&c, 8, t(30));
        assert!(started.is_empty());
        asked(&mut c, 4, t(30));
        // 5 start: the oldest cohort gives them, 60 s after it was asked.
        let (c, started) = follow(&c, 7, t(60));
        assert_eq!(started, vec![60]);
        assert_eq!(
            c,
            vec![
                PendingCohort {
                    since: t(0),
                    count: 3
                },
                PendingCohort {
                    since: t(30),
                    count: 4
                }
            ]
        );
        assert_eq!(follow(&c, 0, t(90)), (vec![], vec![90, 60]));
    }

    #[test]
    fn only_tasks_pending_past_start_up_and_its_margin_are_short() {
        // 1m start-up: 75 s (a quarter more) before a task is short.
        let c = vec![
            PendingCohort {
                since: t(0),
                count: 3,
            },
            PendingCohort {
                since: t(40),
                count: 5,
            },
        ];
        let minute = SignedDuration::from_secs(60);
        assert_eq!(shortfall(&c, t(75), minute), None);
        assert_eq!(
            shortfall(&c, t(76), minute),
            Some(CapacityShortfall {
                tasks: 3,
                pending_for_s: 76,
                threshold_s: 75
            })
        );
        assert_eq!(shortfall(&c, t(120), minute).unwrap().tasks, 8);
        // A short start-up still gets 10 s.
        assert_eq!(threshold(SignedDuration::from_secs(1)).as_secs(), 11);
    }

    #[test]
    fn the_learned_start_up_is_the_90th_percentile_bounded_and_the_default_until_three() {
        assert_eq!(
            learned_startup(&[30, 40]),
            LearnedStartup {
                seconds: 60,
                samples: 2
            }
        );
        let seen: Vec<u32> = (1..=10).map(|i| i * 10).collect();
        assert_eq!(
            learned_startup(&seen),
            LearnedStartup {
                seconds: 90,
                samples: 10
            }
        );
        assert_eq!(learned_startup(&[1, 2, 3]).seconds, 5);
        assert_eq!(learned_startup(&[2000, 3000, 4000]).seconds, 900);
    }

    #[test]
    fn cohorts_stay_bounded_and_the_oldest_is_never_moved() {
        let mut c = Vec::new();
        for i in 0..40 {
            asked(&mut c, 1, t(i));
        }
        assert_eq!(c.len(), MAX_COHORTS);
        assert_eq!(
            c[0],
            PendingCohort {
                since: t(0),
                count: 1
            }
        );
        assert_eq!(c.iter().map(|c| c.count).sum::<u32>(), 40);
    }
}
