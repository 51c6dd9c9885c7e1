//! Several signals one fleet serves (`aggregate: sum`): one sizing over
//! their summed backlog and load, so a pool fed by two queues is sized for
//! both at once. Under `slo` that is one Erlang C over the summed offered
//! load: never more than the signals sized apart and added (pooled servers
//! need less headroom), never less than any one alone nor than the load
//! already carried. The tolerance band, the stuck rule and the partition cap
//! then apply to the pool as each signal's do to it alone.

use super::assessed::{AssessedSignal, Stages};
use super::sizing::{within_tolerance, workers_needed, Load};
use crate::config::{Aggregate, PolicyConfig, SignalKind};
use crate::engine::decision::Term;

/// The pool's count after each stage, and how it was found.
#[derive(Debug)]
pub(crate) struct Pooled {
    /// Sized, after tolerance, after the stuck rule.
    pub stages: Stages,
    /// After the partition cap.
    pub wanted: u32,
    /// The cap that bound the pool: that of the signal with the largest cap.
    pub capped_by: Option<Term>,
    /// How the pooled need was found.
    pub detail: String,
}

/// The pooled sizing of the `trusted` signals under `aggregate: sum`;
/// `None` under `max` or with fewer than two (one signal is its own pool).
pub(crate) fn pool(
    trusted: &[&AssessedSignal],
    policy: &PolicyConfig,
    previous: u32,
) -> Option<Pooled> {
    if policy.aggregate != Aggregate::Sum || trusted.len() < 2 {
        return None;
    }
    let load = summed_load(trusted.iter().filter_map(|a| a.load));
    let (mut exact, mut whole, need) = workers_needed(&load, previous, policy);
    let names = trusted
        .iter()
        .map(|a| a.assessment.signal.as_str())
        .collect::<Vec<_>>()
        .join(" + ");
    let alone: Vec<u32> = trusted
        .iter()
        .map(|a| a.stages.map_or(0, |s| s.sized))
        .collect();
    let added: u64 = alone.iter().map(|&n| u64::from(n)).sum();
    let mut detail = format!(
        "pooled {names} (aggregate: sum): {need}; apart they need {} (added {added})",
        alone
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(" and ")
    );
    // Never more than the signals apart: the summed growth can cross the
    // start-up term's threshold where no signal alone does.
    let added = u32::try_from(added).unwrap_or(u32::MAX);
    if whole > added {
        detail.push_str(&format!("; no more than apart: {added}"));
        exact = exact.min(f64::from(added));
        whole = added;
    }
    // What one signal alone needs beyond its load (a hot partition, a time
    // goal) the pool needs too.
    if let Some(&most) = alone.iter().max().filter(|&&m| m > whole) {
        detail.push_str(&format!("; no fewer than one signal alone: {most}"));
        exact = exact.max(f64::from(most));
        whole = most;
    }
    let after_tolerance = if within_tolerance(exact, policy, previous) {
        previous
    } else {
        whole
    };
    let after_stuck = trusted
        .iter()
        .filter_map(|a| a.stuck_floor)
        .fold(after_tolerance, u32::max);
    // Every worker consumes every signal: workers beyond the most any one
    // signal can keep busy (its partitions, a FIFO queue's groups) idle,
    // unless some signal (a standard queue) takes any number.
    let cap = trusted
        .iter()
        .map(|a| a.cap.map(|c| (c, a)))
        .collect::<Option<Vec<_>>>()
        .and_then(|caps| caps.into_iter().max_by_key(|(c, _)| *c));
    let (wanted, capped_by) = match cap {
        Some((cap, widest)) if after_stuck > cap => {
            detail.push_str(&format!(
                "; capped at {cap}, the most one signal can keep busy ({})",
                widest.assessment.signal
            ));
            // Named by the kind of cap the widest signal has.
            let term = match widest.assessment.kind {
                SignalKind::Kafka => Term::PartitionCap,
                SignalKind::Sqs => Term::FifoGroups,
            };
            (cap, Some(term))
        }
        _ => (after_stuck, None),
    };
    Some(Pooled {
        stages: Stages {
            sized: whole,
            after_tolerance,
            after_stuck,
        },
        wanted,
        capped_by,
        detail,
    })
}

/// The signals' loads added: one backlog, one offered load, one excess rate.
fn summed_load(loads: impl Iterator<Item = Load>) -> Load {
    loads.fold(Load::default(), |sum, l| Load {
        backlog: sum.backlog.saturating_add(l.backlog),
        busy: match (sum.busy, l.busy) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
        },
        // A signal's spare capacity is not the pool's: it assumed every
        // worker on it alone.
        falling_behind: sum.falling_behind + l.falling_behind.max(0.0),
    })
}
