//! FIFO queues: SQS hands a message group's messages to one receiver at a
//! time (the next only after the one in flight is deleted), so workers
//! beyond the groups that hold messages idle, however long the backlog.
//! The cap is `max_active_groups` when configured, else inferred from the
//! queue: messages waiting at two readings in a row, in-flight flat over the
//! keep-up window, and running workers beyond it. The inferred groups are
//! remembered (the target's state), so the next burst is capped from its
//! first reading. The inferred cap keeps one spare worker: if more groups
//! appear, it takes one, a worker beyond the groups is busy, and the
//! groups are forgotten until inferred again.

use crate::config::SqsSignal;
use crate::engine::observation::SqsDepth;
use crate::engine::state::TimedValue;

/// Readings of busy workers the inference needs over the keep-up window.
const READINGS: usize = 3;

/// The most workers a FIFO queue's message groups can keep busy.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct GroupCap {
    /// Workers.
    pub workers: u32,
    /// How the cap was found.
    pub detail: String,
}

/// What a reading says about a FIFO queue's groups: the cap for it, and
/// the groups to remember (`None`: forget them).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Groups {
    pub cap: Option<GroupCap>,
    pub remember: Option<u32>,
}

/// The cap for this reading of a FIFO queue; `None` for a standard queue or
/// when nothing shows the groups binding.
///
/// `busy` are the busy-worker samples over the keep-up window (this reading
/// last), `visible` the visible depths at the previous reading and this
/// one, `remembered` the groups inferred earlier.
pub(super) fn groups(
    cfg: &SqsSignal,
    depth: &SqsDepth,
    running: u32,
    (busy, visible): (&[TimedValue], &[TimedValue]),
    remembered: Option<u32>,
) -> Groups {
    let none = Groups {
        cap: None,
        remember: None,
    };
    if !depth.fifo {
        return none;
    }
    let per = cfg.in_flight_per_worker.max(1);
    if let Some(groups) = cfg.max_active_groups {
        let workers = groups.div_ceil(per);
        return Groups {
            cap: Some(GroupCap {
                workers,
                detail: format!(
                    "FIFO: at most {groups} message groups at once (max_active_groups), {per} in flight per worker: {workers} workers"
                ),
            }),
            remember: None,
        };
    }
    // A quiet stretch shows fewer groups with messages than a burst does:
    // the most inferred is kept.
    if let Some(mut inferred) = group_cap(depth, running, busy, visible) {
        if let (Some(now), Some(before)) = (inferred.remember, remembered) {
            if before > now {
                inferred.remember = Some(before);
                let workers = before.saturating_add(1);
                inferred.cap = Some(GroupCap {
                    workers,
                    detail: format!(
                        "FIFO: about {before} message group(s) inferred earlier, {now} busy now; {before} + 1 spare = {workers}"
                    ),
                });
            }
        }
        return inferred;
    }
    // Remembered groups hold until a worker beyond them is busy.
    let now_busy = busy.last().map_or(0.0, |s| s.value);
    match remembered {
        Some(groups) if now_busy < f64::from(groups) + 1.0 - 1e-9 => {
            let workers = groups.saturating_add(1);
            Groups {
                cap: Some(GroupCap {
                    workers,
                    detail: format!(
                        "FIFO: about {groups} message group(s) inferred earlier (no worker beyond them busy since); {groups} + 1 spare = {workers}"
                    ),
                }),
                remember: Some(groups),
            }
        }
        _ => none,
    }
}

/// The groups inferred from this reading, when it shows them binding.
fn group_cap(
    depth: &SqsDepth,
    running: u32,
    busy: &[TimedValue],
    visible: &[TimedValue],
) -> Option<Groups> {
    let waited = visible.len() >= 2 && visible.iter().rev().take(2).all(|v| v.value > 0.0);
    if !waited || busy.len() < READINGS {
        return None;
    }
    let (low, high) = busy
        .iter()
        .map(|s| s.value)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let flat = high - low <= (0.1 * high).max(1.0);
    // A worker beyond the busiest reading was idle all window long.
    let idle = f64::from(running) >= high + 1.0;
    if !flat || !idle {
        return None;
    }
    let groups = super::sizing::ceil_robust(high).max(1);
    let workers = groups.saturating_add(1);
    Some(Groups {
        cap: Some(GroupCap {
            workers,
            detail: format!(
                "FIFO: {} waiting while {:.0}-{:.0} workers stayed busy over {} readings with {running} running: \
                 about {groups} message group(s) can be worked at once; {groups} + 1 spare to find more = {workers}",
                depth.visible,
                low,
                high,
                busy.len()
            ),
        }),
        remember: Some(groups),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn samples(values: &[f64]) -> Vec<TimedValue> {
        values
            .iter()
            .enumerate()
            .map(|(i, &value)| TimedValue {
                at: Timestamp::from_second(i as i64 * 15).unwrap(),
                value,
            })
            .collect()
    }

    fn fifo(visible: u64, in_flight: u64) -> SqsDepth {
        SqsDepth {
            visible,
            in_flight,
            fifo: true,
            ..SqsDepth::default()
        }
    }

    const NOTHING: Groups = Groups {
        cap: None,
        remember: None,
    };

    #[test]
    fn groups_are_inferred_only_when_workers_idle_while_messages_wait() {
        let cfg = crate::testing::sqs_config("q");
        let busy = samples(&[3.0, 3.0, 2.9, 3.0]);
        let waiting = samples(&[997.0, 996.0]);
        let infer = |depth: SqsDepth, running, busy: &[TimedValue], visible: &[TimedValue]| {
            groups(&cfg, &depth, running, (busy, visible), None)
        };
        let found = infer(fifo(996, 3), 10, &busy, &waiting);
        let workers = found.cap.as_ref().expect("a cap").workers;
        assert_eq!(workers, 4, "3 groups and a spare: {:?}", found.cap);
        assert_eq!(found.remember, Some(3));
        // A standard queue has no groups.
        let standard = SqsDepth {
            fifo: false,
            ..fifo(996, 3)
        };
        assert_eq!(infer(standard, 10, &busy, &waiting), NOTHING);
        // No idle worker: every worker busy, the groups may be more.
        assert_eq!(infer(fifo(996, 3), 3, &busy, &waiting), NOTHING);
        // In flight moving: still ramping up.
        let rising = samples(&[1.0, 3.0, 6.0]);
        assert_eq!(infer(fifo(996, 6), 10, &rising, &waiting), NOTHING);
        // The queue emptied at the last reading: nothing waits for a group.
        let drained = samples(&[40.0, 0.0]);
        assert_eq!(infer(fifo(0, 3), 10, &busy, &drained), NOTHING);
        // Too few readings to call it flat.
        assert_eq!(infer(fifo(996, 3), 10, &busy[..2], &waiting), NOTHING);
        // Fewer groups busy than inferred before: the most inferred holds.
        let g = groups(&cfg, &fifo(996, 3), 10, (&busy, &waiting), Some(5));
        assert_eq!((g.cap.map(|c| c.workers), g.remember), (Some(6), Some(5)));
    }

    #[test]
    fn remembered_groups_cap_the_next_burst_until_a_worker_beyond_them_is_busy() {
        let cfg = crate::testing::sqs_config("q");
        let quiet = samples(&[1.5, 1.6]);
        let burst = samples(&[0.0, 2900.0]);
        // A new burst: nothing inferred from it yet, the remembered 4 cap it.
        let g = groups(&cfg, &fifo(2900, 2), 3, (&quiet, &burst), Some(4));
        assert_eq!(g.cap.map(|c| c.workers), Some(5));
        assert_eq!(g.remember, Some(4));
        // The spare is busy: more groups than remembered; forget them.
        let more = samples(&[4.0, 5.0]);
        assert_eq!(
            groups(&cfg, &fifo(2900, 5), 5, (&more, &burst), Some(4)),
            NOTHING
        );
    }

    #[test]
    fn configured_groups_cap_at_once_per_worker_slot() {
        let mut cfg = crate::testing::sqs_config("q");
        cfg.max_active_groups = Some(7);
        cfg.in_flight_per_worker = 2;
        let cap = groups(&cfg, &fifo(1000, 0), 0, (&[], &[]), None)
            .cap
            .expect("a cap");
        assert_eq!(cap.workers, 4, "{}", cap.detail);
        assert!(cap.detail.contains("max_active_groups"), "{}", cap.detail);
    }
}
