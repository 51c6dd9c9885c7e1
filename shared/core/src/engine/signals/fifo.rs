//! FIFO queues: SQS hands a message group's messages to one receiver at a
//! time (the next only after the one in flight is deleted), so workers
//! beyond the groups that hold messages idle, however long the backlog.
//! The cap is `max_active_groups` when configured, else inferred from the
//! queue: messages waiting at two readings in a row, in-flight flat over the
//! keep-up window, and running workers beyond it. The inferred cap keeps
//! one spare worker: if more groups appear, it takes one, in-flight rises
//! to the running count and the cap is released.

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

/// The cap for this reading of a FIFO queue; `None` for a standard queue or
/// when nothing shows the groups binding.
///
/// `busy` are the busy-worker samples over the keep-up window (this reading
/// last), `visible` the visible depths at the previous reading and this one.
pub(super) fn group_cap(
    cfg: &SqsSignal,
    depth: &SqsDepth,
    running: u32,
    busy: &[TimedValue],
    visible: &[TimedValue],
) -> Option<GroupCap> {
    if !depth.fifo {
        return None;
    }
    let per = cfg.in_flight_per_worker.max(1);
    if let Some(groups) = cfg.max_active_groups {
        let workers = groups.div_ceil(per);
        return Some(GroupCap {
            workers,
            detail: format!(
                "FIFO: at most {groups} message groups at once (max_active_groups), {per} in flight per worker: {workers} workers"
            ),
        });
    }
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
    Some(GroupCap {
        workers,
        detail: format!(
            "FIFO: {} waiting while {:.0}-{:.0} workers stayed busy over {} readings with {running} running: \
             about {groups} message group(s) can be worked at once; {groups} + 1 spare to find more = {workers}",
            depth.visible,
            low,
            high,
            busy.len()
        ),
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

    #[test]
    fn groups_are_inferred_only_when_workers_idle_while_messages_wait() {
        let cfg = crate::testing::sqs_config("q");
        let busy = samples(&[3.0, 3.0, 2.9, 3.0]);
        let waiting = samples(&[997.0, 996.0]);
        let cap = group_cap(&cfg, &fifo(996, 3), 10, &busy, &waiting).expect("a cap");
        assert_eq!(cap.workers, 4, "3 groups and a spare: {}", cap.detail);
        // A standard queue has no groups.
        let standard = SqsDepth {
            fifo: false,
            ..fifo(996, 3)
        };
        assert_eq!(group_cap(&cfg, &standard, 10, &busy, &waiting), None);
        // No idle worker: every worker busy, the groups may be more.
        assert_eq!(group_cap(&cfg, &fifo(996, 3), 3, &busy, &waiting), None);
        // In flight moving: still ramping up.
        let rising = samples(&[1.0, 3.0, 6.0]);
        assert_eq!(group_cap(&cfg, &fifo(996, 6), 10, &rising, &waiting), None);
        // The queue emptied at the last reading: nothing waits for a group.
        let drained = samples(&[40.0, 0.0]);
        assert_eq!(group_cap(&cfg, &fifo(0, 3), 10, &busy, &drained), None);
        // Too few readings to call it flat.
        assert_eq!(
            group_cap(&cfg, &fifo(996, 3), 10, &busy[..2], &waiting),
            None
        );
    }

    #[test]
    fn configured_groups_cap_at_once_per_worker_slot() {
        let mut cfg = crate::testing::sqs_config("q");
        cfg.max_active_groups = Some(7);
        cfg.in_flight_per_worker = 2;
        let cap = group_cap(&cfg, &fifo(1000, 0), 0, &[], &[]).expect("a cap");
        assert_eq!(cap.workers, 4, "{}", cap.detail);
        assert!(cap.detail.contains("max_active_groups"), "{}", cap.detail);
    }
}
