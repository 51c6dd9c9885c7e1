//! The limit to read every policy against: a clairvoyant staffing.
//!
//! It knows the whole trace in advance. Per window of one SLO length, it
//! takes the busiest mean rate of any SLO-long span overlapping the window
//! (work arriving within one SLO may be spread over it, so a dump is sized by
//! its span's mean, not its instant, and a burst starting mid-window is not
//! averaged with the quiet before it), picks the fewest workers that meet the
//! SLO at that rate under a queueing model, and asks for them `startup + jitter` seconds
//! ahead so they are running when the window starts. It never exceeds the
//! target's `max`. While messages are still waiting it keeps enough workers
//! to clear them within the SLO (at least one), so a window that needs none
//! does not strand the tail of the burst before it.
//!
//! The model: SQS is one M/M/c queue (Erlang C): the fewest c with
//! P(wait > SLO) = C(c, a)·e^(−(c−a)·SLO/s) ≤ 1%, a = λs. Kafka is one M/M/1
//! queue per consumer over the partitions range assignment gives it: the
//! fewest consumers whose busiest one meets the same tail. Exponential service
//! is pessimistic for the simulated CV 0.5, and the rate within a window is
//! taken at its mean, so the oracle is a near-bound, not a proof: it pays the
//! world's real start-up jitter, rebalance pauses and Poisson noise, and its
//! own SLO-violation seconds are reported like everyone else's. It never
//! stops a busy worker (as if every one held task scale-in protection). On a FIFO
//! queue it never asks more workers than message groups; with poison
//! messages it staffs every receive of them.

use std::sync::Mutex;

use jiff::Timestamp;

use super::autoscaler::Autoscaler;
use crate::run::SimSpec;
use crate::world::{QueueModel, VictimOrder, World};
use qscale_core::engine::queueing::{wait_exceeds, workers_for_wait};

/// Highest acceptable probability that a message waits longer than the SLO.
const TAIL: f64 = 0.01;

/// The clairvoyant staffing of one scenario.
pub struct Oracle {
    /// Workers wanted per SLO-long window, from second 0.
    need: Vec<u32>,
    window_s: u32,
    /// How far ahead a worker must be asked for to be running in time.
    lead_s: u32,
    service_s: f64,
    slo_s: f64,
    max: u32,
}

impl Oracle {
    /// The staffing for `spec`, never above `max`.
    pub fn new(spec: &SimSpec, max: u32) -> Oracle {
        let window_s = spec.slo_s.max(1);
        let s = spec.workers.service_mean_s;
        let rates = &work_rates(spec);
        let w = window_s as usize;
        // Mean rate of the SLO-long span starting at each second (prefix sums).
        let mut prefix = Vec::with_capacity(rates.len() + 1);
        prefix.push(0.0);
        for r in rates {
            prefix.push(prefix.last().unwrap() + r);
        }
        let span_mean = |from: usize| {
            let to = (from + w).min(rates.len());
            (prefix[to] - prefix[from]) / (to - from) as f64
        };
        // A window must carry the busiest span that overlaps it, so a burst
        // starting mid-window is not averaged with the quiet before it.
        let need = (0..rates.len().div_ceil(w))
            .map(|k| {
                let first = (k * w).saturating_sub(w - 1);
                let last = ((k + 1) * w).min(rates.len()) - 1;
                let rate = (first..=last).map(span_mean).fold(0.0, f64::max);
                workers_for(&spec.queue, rate, s, spec.slo_s as f64).min(max)
            })
            .collect();
        Oracle {
            need,
            window_s,
            lead_s: (spec.workers.startup_s + spec.workers.startup_jitter_s).ceil() as u32,
            service_s: s,
            slo_s: spec.slo_s.max(1) as f64,
            max: match spec.queue {
                QueueModel::SqsFifo { groups } => max.min(groups as u32),
                _ => max,
            },
        }
    }

    /// Workers wanted at second `t`: the most any window from `t` to
    /// `t + lead` needs (start ahead of a rise, stop only when it has passed).
    fn desired_at(&self, t: u32) -> u32 {
        let last = self.need.len().saturating_sub(1);
        let from = (t / self.window_s) as usize;
        let to = ((t + self.lead_s) / self.window_s) as usize;
        (from.min(last)..=to.min(last))
            .map(|k| self.need[k])
            .max()
            .unwrap_or(0)
    }
}

impl Autoscaler for Oracle {
    fn name(&self) -> String {
        "oracle".into()
    }
    fn interval_s(&self) -> u32 {
        1
    }
    fn tick(&mut self, world: &Mutex<World>, _now: Timestamp, t: u32) {
        let mut w = world.lock().unwrap();
        let backlog = w.backlog();
        let clear = if backlog > 0 {
            ((backlog as f64 * self.service_s / self.slo_s).ceil() as u32).clamp(1, self.max.max(1))
        } else {
            0
        };
        // Clairvoyant, it knows which workers are busy: it stops none of
        // them, whatever the worker kind's own order (a lower bound on cost,
        // not a policy an ECS service can run without task protection).
        let victims = match w.victims() {
            VictimOrder::Placement => VictimOrder::Protected,
            own => own,
        };
        w.set_desired_as(self.desired_at(t).max(clear), victims);
    }
    fn initial_workers(&self) -> Option<u32> {
        Some(self.desired_at(0))
    }
}

/// Messages/s of work per second: the trace's rates, and for poison each
/// failing message received `max_receive_count` times (it knows which fail).
fn work_rates(spec: &SimSpec) -> Vec<f64> {
    let mut rates = spec.trace.rates.clone();
    if let Some(p) = &spec.poison {
        let extra = p.share * f64::from(p.max_receive_count.saturating_sub(1));
        let (from, to) = (p.from_s as usize, (p.to_s as usize).min(rates.len()));
        for r in rates.iter_mut().take(to).skip(from) {
            *r *= 1.0 + extra;
        }
    }
    rates
}

/// Fewest workers meeting the SLO tail at `rate` messages/s of mean service
/// time `s` seconds.
fn workers_for(queue: &QueueModel, rate: f64, s: f64, slo_s: f64) -> u32 {
    if rate <= 0.0 {
        return 0;
    }
    match queue {
        // Several queues into one pool: any worker takes any message.
        QueueModel::Sqs | QueueModel::SqsQueues { .. } => {
            workers_for_wait(rate * s, s, slo_s, TAIL)
        }
        // Workers beyond the groups idle: it counts them.
        QueueModel::SqsFifo { groups } => {
            workers_for_wait(rate * s, s, slo_s, TAIL).min(*groups as u32)
        }
        QueueModel::Kafka {
            partitions,
            hot_share,
            ..
        } => kafka_consumers(*partitions, *hot_share, rate * s, s, slo_s),
    }
}

/// Fewest consumers (at most one per partition) whose busiest one, under the
/// world's range assignment, meets the SLO tail as an M/M/1 queue; all
/// partitions when none does.
fn kafka_consumers(partitions: usize, hot_share: f64, a: f64, s: f64, slo_s: f64) -> u32 {
    let share = |p: usize| {
        if partitions == 1 {
            1.0
        } else if p == 0 {
            hot_share
        } else {
            (1.0 - hot_share) / (partitions - 1) as f64
        }
    };
    let first = (a.floor() as usize + 1).clamp(1, partitions);
    for c in first..=partitions {
        // The world's assignment: partition p goes to consumer p·c/P.
        let mut load = vec![0.0; c];
        for p in 0..partitions {
            load[p * c / partitions] += a * share(p);
        }
        if load.iter().all(|&l| wait_exceeds(1, l, s, slo_s) <= TAIL) {
            return c as u32;
        }
    }
    partitions as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hot_partition_needs_a_consumer_of_its_own() {
        // 12 partitions, 20% of 4 Erlangs on partition 0 = 0.8 of a consumer:
        // any consumer that also holds another partition is overloaded.
        let c = kafka_consumers(12, 0.2, 4.0, 0.2, 60.0);
        assert_eq!(c, 12, "range assignment isolates partition 0 only at 12");
        // Uniform keys: about the offered load, well under one per partition.
        let uniform = kafka_consumers(12, 1.0 / 12.0, 4.0, 0.2, 60.0);
        assert!(uniform < 12, "{uniform}");
    }

    #[test]
    fn starts_ahead_of_a_rise_and_respects_max() {
        let trace = crate::Trace::from_csv("t", "0,0\n600,0\n601,100\n1200,100\n").unwrap();
        let spec = SimSpec::new(trace, QueueModel::Sqs);
        let o = Oracle::new(&spec, 1000);
        assert_eq!(o.desired_at(0), 0);
        let at_rise = o.desired_at(600);
        // The window starting at 600 s is asked for `lead` seconds ahead.
        assert!(
            o.desired_at(600 - o.lead_s) >= o.need[10],
            "asked for ahead"
        );
        // The window before the rise carries the span that crosses into it,
        // so the ask starts at most one window earlier; not before.
        assert!(o.desired_at(600 - o.lead_s - 1) > 0);
        assert_eq!(o.desired_at(600 - o.lead_s - o.window_s - 1), 0);
        assert!(at_rise >= 20, "100 msg/s × 0.2 s = 20 busy: {at_rise}");
        assert!(Oracle::new(&spec, 7).desired_at(900) <= 7);
    }
}
