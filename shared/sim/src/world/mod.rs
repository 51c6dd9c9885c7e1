//! The simulated world: messages, a queue or a partitioned topic, workers.
//! Discrete time in 1 s steps; all randomness from one seed.
//!
//! This file is over 400 lines on purpose: it is one idea, the world's
//! per-second physics (arrivals, processing, start-up, drain, rebalance),
//! whose steps share the worker list and the backlogs. The parts with an
//! idea of their own are beside it: [`backlog`], [`scale_in`], [`snapshot`],
//! [`tally`].

mod backlog;
mod scale_in;
mod snapshot;
mod tally;
#[cfg(test)]
mod tests;

pub use scale_in::VictimOrder;
pub use snapshot::Snapshot;
pub use tally::Tally;

use backlog::Backlog;

use std::collections::VecDeque;

use rand::{Rng, RngCore};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Poisson};

use qscale_core::engine::WorkerObservation;

/// Pre-drawn service times (a power of two).
const SERVICE_TABLE: usize = 1 << 16;

/// How messages are held.
#[derive(Debug, Clone, PartialEq)]
pub enum QueueModel {
    /// One SQS-like queue: any worker takes the oldest visible message.
    Sqs,
    /// Several SQS-like queues feeding one pool (a queue and its retry
    /// queue): each worker polls them in turn, taking the oldest visible
    /// message of the next queue that has one. The i-th queue is the
    /// target's i-th signal.
    SqsQueues {
        /// Queue count.
        queues: usize,
    },
    /// One SQS FIFO queue: each message belongs to one of `groups` message
    /// groups (uniformly), and a group's next message is handed out only
    /// once the one in flight is done, so at most `groups` workers are busy.
    SqsFifo {
        /// Message groups.
        groups: usize,
    },
    /// A topic with partitions; one consumer per partition at most.
    Kafka {
        /// Partition count.
        partitions: usize,
        /// Share of traffic on partition 0 (key skew); the rest is uniform.
        hot_share: f64,
        /// Pause of every consumer whenever group membership changes, seconds.
        rebalance_pause_s: u32,
    },
}

/// Messages that fail: from `from_s` to `to_s` a share of arrivals is
/// poison. A poison message is processed like any other, then not deleted:
/// it stays in flight for the visibility timeout, returns, and after
/// `max_receive_count` receives goes to the dead-letter queue, as SQS's
/// redrive policy does.
#[derive(Debug, Clone, PartialEq)]
pub struct PoisonModel {
    /// Share of arrivals that fail, 0 to 1.
    pub share: f64,
    /// First second with poison arrivals.
    pub from_s: u32,
    /// First second without.
    pub to_s: u32,
    /// Receives before dead-lettering (`maxReceiveCount`).
    pub max_receive_count: u32,
    /// Seconds a failed message stays in flight (`VisibilityTimeout`).
    pub visibility_timeout_s: u32,
}

/// Poison messages on their way to the dead-letter queue.
#[derive(Debug, Clone)]
struct PoisonQueue {
    model: PoisonModel,
    /// Visible, each with the receives it has had.
    waiting: VecDeque<u32>,
    /// Failed, in flight until the second they return: (second, receives).
    returning: VecDeque<(u32, u32)>,
    dead_lettered: u64,
}

/// Worker and message parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerModel {
    /// Mean processing time of one message, seconds.
    pub service_mean_s: f64,
    /// Coefficient of variation of processing time (log-normal).
    pub service_cv: f64,
    /// Processing times drawn outside this range are clamped into it
    /// (jobs of 2-20 minutes); none by default.
    pub service_range_s: Option<(f64, f64)>,
    /// Time from "desired" to "running", seconds.
    pub startup_s: f64,
    /// Uniform jitter added to the start-up, ± seconds.
    pub startup_jitter_s: f64,
    /// Which workers stop when the desired count falls.
    pub victims: VictimOrder,
    /// Seconds a stopped worker gets to finish the message in hand before
    /// it is killed (ECS `stopTimeout`, default 30 s).
    pub stop_timeout_s: u32,
    /// Seconds until the message of a killed worker is visible again (the
    /// SQS queue's visibility timeout, default 30 s); a Kafka partition's
    /// next owner reads it again at once, from the committed offset.
    pub visibility_timeout_s: u32,
    /// Periods in which no more workers than a ceiling can run: the rest stay
    /// pending (a capacity provider or Fargate Spot that cannot place them).
    pub capacity: Vec<CapacityCeiling>,
}

/// From `from_s` to `to_s`, at most `max_running` workers run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CapacityCeiling {
    /// First second of the ceiling.
    pub from_s: u32,
    /// First second without it.
    pub to_s: u32,
    /// Running workers at most.
    pub max_running: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Starting {
        ready_at: u32,
    },
    Running,
    /// Finishing the message in hand, then gone (no deadline).
    Draining,
    /// Sent SIGTERM: finishing the message in hand, killed after `kill_at`.
    Stopping {
        kill_at: u32,
    },
}

#[derive(Debug, Clone)]
struct Worker {
    phase: Phase,
    /// Seconds of work left on the current message.
    remaining: f64,
    /// Partition of the current message (Kafka), to commit on completion.
    partition: Option<usize>,
    /// Assigned partitions (Kafka).
    assigned: Vec<usize>,
    /// The message in hand is poison (with its receives so far).
    failing: Option<u32>,
    /// Processing time of the message in hand, and when it arrived (what a
    /// kill throws away, and when it is redelivered).
    service: f64,
    arrived: u32,
    /// Belongs to the spillover sibling service: outside the desired count,
    /// and placed whatever the capacity ceiling (other capacity).
    sibling: bool,
}

/// A message whose worker was killed, visible again from `at`.
#[derive(Debug, Clone, Copy)]
struct Redelivery {
    at: u32,
    backlog: usize,
    arrived: u32,
}

/// The simulated system.
pub struct World {
    queue: QueueModel,
    model: WorkerModel,
    rng: ChaCha8Rng,
    /// Draws the instant in each second a queue snapshot is taken, on its own
    /// stream: policies that never read in-flight counts see the same
    /// service times as before.
    snapshot_rng: ChaCha8Rng,
    /// Service times pre-drawn from the log-normal; each message picks one at
    /// random (drawing a log-normal per message was most of a day's run time).
    service_table: Vec<f64>,
    /// One backlog (SQS), one per queue (several SQS queues), per message
    /// group (FIFO) or per partition (Kafka).
    backlogs: Vec<Backlog>,
    /// FIFO: the groups with a message in flight.
    group_busy: Vec<bool>,
    /// Poison messages, when the scenario has them, and their own random
    /// stream (runs without poison draw nothing from it).
    poison: Option<PoisonQueue>,
    poison_rng: ChaCha8Rng,
    /// Picks the workers an ECS-like scheduler stops, on its own stream.
    victim_rng: ChaCha8Rng,
    /// Messages of killed workers, in the order they become visible again.
    redelivering: VecDeque<Redelivery>,
    hot_share: f64,
    workers: Vec<Worker>,
    /// No starting worker is ready before this second (a lower bound), so
    /// most seconds skip the scan for workers that became ready.
    next_ready: u32,
    desired: u32,
    /// The spillover sibling's desired count, once set.
    spillover: Option<u32>,
    /// Starting workers past their start-up, held pending by a capacity
    /// ceiling (as of the last second's start-ups).
    held: u32,
    /// Provisioned concurrency as last set (reported back; the world counts
    /// workers by the desired count, which a window's floor already raises).
    provisioned: Option<u32>,
    paused_until: u32,
    /// Messages in progress at the snapshot's instant in the last second (a
    /// worker busy a share `f` of the second counts with probability `f`, so
    /// the mean is the busy workers, as SQS's NotVisible count of
    /// received-not-deleted messages), and per backlog at the second's end
    /// (uncommitted Kafka offsets). Counted while processing, so snapshots
    /// need no extra pass.
    in_flight: u64,
    in_flight_by_backlog: Vec<u64>,
    /// The snapshot's in-flight count per queue (several SQS queues only).
    in_flight_sampled: Vec<u64>,
    /// Snapshots per second, newest last, for delayed metric reads.
    history: VecDeque<Snapshot>,
    history_len: usize,
    slo_s: u32,
    /// Results so far.
    pub tally: Tally,
    /// Current second.
    pub t: u32,
}

impl World {
    /// A world with `initial` running workers.
    pub fn new(
        queue: QueueModel,
        model: WorkerModel,
        rng: ChaCha8Rng,
        initial: u32,
        slo_s: u32,
        history_len: usize,
    ) -> World {
        let cv2 = model.service_cv * model.service_cv;
        let sigma = (1.0 + cv2).ln().sqrt();
        let mu = model.service_mean_s.ln() - sigma * sigma / 2.0;
        let (n, hot_share) = match &queue {
            QueueModel::Sqs => (1, 1.0),
            QueueModel::SqsQueues { queues } => ((*queues).max(1), 1.0),
            QueueModel::SqsFifo { groups } => ((*groups).max(1), 1.0 / (*groups).max(1) as f64),
            QueueModel::Kafka {
                partitions,
                hot_share,
                ..
            } => ((*partitions).max(1), *hot_share),
        };
        let mut rng = rng;
        let mut snapshot_rng = rng.clone();
        snapshot_rng.set_stream(1);
        let mut poison_rng = rng.clone();
        poison_rng.set_stream(2);
        let mut victim_rng = rng.clone();
        victim_rng.set_stream(3);
        let service = LogNormal::new(mu, sigma.max(1e-9)).expect("valid log-normal");
        let (low, high) = model.service_range_s.unwrap_or((0.0, f64::INFINITY));
        let service_table = (0..SERVICE_TABLE)
            .map(|_| service.sample(&mut rng).clamp(low, high))
            .collect();
        let mut w = World {
            queue,
            model,
            rng,
            snapshot_rng,
            service_table,
            backlogs: vec![Backlog::default(); n],
            group_busy: vec![false; n],
            poison: None,
            poison_rng,
            victim_rng,
            redelivering: VecDeque::new(),
            in_flight: 0,
            in_flight_by_backlog: vec![0; n],
            in_flight_sampled: vec![0; n],
            hot_share,
            workers: Vec::new(),
            next_ready: u32::MAX,
            desired: initial,
            spillover: None,
            held: 0,
            provisioned: None,
            paused_until: 0,
            history: VecDeque::new(),
            history_len: history_len.max(1),
            slo_s,
            tally: Tally::new(),
            t: 0,
        };
        for _ in 0..initial {
            w.add_worker(Phase::Running);
        }
        w.rebalance();
        w.record_snapshot(w.running());
        w
    }

    fn add_worker(&mut self, phase: Phase) {
        if let Phase::Starting { ready_at } = phase {
            self.next_ready = self.next_ready.min(ready_at);
        }
        self.workers.push(Worker {
            phase,
            remaining: 0.0,
            partition: None,
            assigned: Vec::new(),
            failing: None,
            service: 0.0,
            arrived: 0,
            sibling: false,
        });
    }

    /// Adds poison messages to the scenario.
    pub fn set_poison(&mut self, model: PoisonModel) {
        self.poison = Some(PoisonQueue {
            model,
            waiting: VecDeque::new(),
            returning: VecDeque::new(),
            dead_lettered: 0,
        });
    }

    /// Range assignment of partitions over running consumers, and a pause.
    fn rebalance(&mut self) {
        let QueueModel::Kafka {
            partitions,
            rebalance_pause_s,
            ..
        } = self.queue
        else {
            return;
        };
        let consumers: Vec<usize> = (0..self.workers.len())
            .filter(|&i| self.workers[i].phase == Phase::Running)
            .collect();
        for w in &mut self.workers {
            w.assigned.clear();
        }
        if !consumers.is_empty() {
            for p in 0..partitions {
                let c = consumers[p * consumers.len().min(partitions) / partitions];
                self.workers[c].assigned.push(p);
            }
        }
        self.paused_until = self.t + rebalance_pause_s;
    }

    /// Advances one second with `rate` messages/s expected (spread evenly
    /// over several queues).
    pub fn step(&mut self, rate: f64) {
        if let QueueModel::SqsQueues { .. } = self.queue {
            let each = rate / self.backlogs.len() as f64;
            let rates = vec![each; self.backlogs.len()];
            return self.step_queues(&rates);
        }
        self.t += 1;
        let t = self.t;
        // Arrivals.
        if rate > 0.0 {
            if self.backlogs.len() == 1 {
                let n = self.poisson(rate);
                let failing = self.poison_arrivals(t, n);
                self.backlogs[0].push(t, n - failing);
            } else {
                let parts = self.backlogs.len();
                let cold = (1.0 - self.hot_share) / (parts - 1) as f64;
                for p in 0..parts {
                    let share = if p == 0 { self.hot_share } else { cold };
                    let n = self.poisson(rate * share);
                    self.backlogs[p].push(t, n);
                }
            }
        }
        self.advance(t);
    }

    /// How many of `n` arrivals at `t` are poison (joining the poison queue).
    fn poison_arrivals(&mut self, t: u32, n: u32) -> u32 {
        let Some(pq) = self.poison.as_mut() else {
            return 0;
        };
        let m = &pq.model;
        if n == 0 || !(m.from_s..m.to_s).contains(&t) || m.share <= 0.0 {
            return 0;
        }
        let failing = rand_distr::Binomial::new(u64::from(n), m.share.min(1.0))
            .map(|b| b.sample(&mut self.poison_rng) as u32)
            .unwrap_or(0);
        pq.waiting.extend(std::iter::repeat_n(0, failing as usize));
        failing
    }

    /// Advances one second with `rates[i]` messages/s expected on queue `i`
    /// (several SQS queues; queues beyond `rates` get none).
    pub fn step_queues(&mut self, rates: &[f64]) {
        self.t += 1;
        let t = self.t;
        for q in 0..self.backlogs.len() {
            let rate = rates.get(q).copied().unwrap_or(0.0);
            if rate > 0.0 {
                let n = self.poisson(rate);
                self.backlogs[q].push(t, n);
            }
        }
        self.advance(t);
    }

    /// The rest of second `t` once its messages have arrived: start-ups,
    /// work, the tally and the snapshot.
    fn advance(&mut self, t: u32) {
        // Failed poison messages whose visibility timeout ended return, or
        // go to the dead-letter queue after their last receive.
        if let Some(pq) = self.poison.as_mut() {
            while pq.returning.front().is_some_and(|&(at, _)| at <= t) {
                let (_, receives) = pq.returning.pop_front().expect("checked");
                if receives >= pq.model.max_receive_count {
                    pq.dead_lettered += 1;
                } else {
                    pq.waiting.push_back(receives);
                }
            }
        }
        // Messages of killed workers are visible again.
        while self.redelivering.front().is_some_and(|r| r.at <= t) {
            let r = self.redelivering.pop_front().expect("checked");
            self.backlogs[r.backlog].put_back(r.arrived);
            if let QueueModel::SqsFifo { .. } = self.queue {
                self.group_busy[r.backlog] = false;
            }
        }
        // Starting workers become running, as far as capacity allows.
        let mut joined = false;
        if t >= self.next_ready {
            self.next_ready = u32::MAX;
            let ceiling = self
                .model
                .capacity
                .iter()
                .filter(|c| (c.from_s..c.to_s).contains(&t))
                .map(|c| c.max_running)
                .min();
            let mut running = ceiling.map_or(0, |_| self.running());
            self.held = 0;
            for w in &mut self.workers {
                if let Phase::Starting { ready_at } = w.phase {
                    if t < ready_at {
                        self.next_ready = self.next_ready.min(ready_at);
                    } else if w.sibling {
                        w.phase = Phase::Running;
                        joined = true;
                    } else if ceiling.is_some_and(|c| running >= c) {
                        // Pending until capacity comes: look again next second.
                        self.next_ready = self.next_ready.min(t + 1);
                        self.held += 1;
                    } else {
                        w.phase = Phase::Running;
                        running += 1;
                        joined = true;
                    }
                }
            }
        }
        if joined {
            self.rebalance();
        }
        let running = self.process(t);
        self.tally.paid_s += self.paid_workers() as f64;
        let backlog: u64 = self.backlogs.iter().map(|b| b.len).sum();
        self.tally.peak_backlog = self.tally.peak_backlog.max(backlog);
        if let Some(oldest) = self.backlogs.iter().filter_map(|b| b.oldest()).min() {
            if t.saturating_sub(oldest) > self.slo_s {
                self.tally.slo_violation_at.push(t);
            }
        }
        self.record_snapshot(running);
    }

    fn poisson(&mut self, mean: f64) -> u32 {
        if mean <= 0.0 {
            return 0;
        }
        Poisson::new(mean)
            .map(|d| d.sample(&mut self.rng) as u32)
            .unwrap_or(0)
    }

    /// One second of work for every running or draining worker.
    ///
    /// The hot loop of a day-long run (about 190 M messages at 1,000
    /// workers): the world's fields are borrowed apart so the worker's
    /// state stays in registers while messages are taken, and the float
    /// arithmetic per message is the same as one message at a time (busy
    /// seconds are summed per second before they join the total).
    /// Returns the workers running at the end of the second.
    fn process(&mut self, t: u32) -> u32 {
        let kafka_paused = matches!(self.queue, QueueModel::Kafka { .. }) && t < self.paused_until;
        let World {
            queue,
            rng,
            snapshot_rng,
            service_table,
            backlogs,
            workers,
            in_flight,
            in_flight_by_backlog,
            in_flight_sampled,
            tally,
            group_busy,
            poison,
            poison_rng,
            redelivering,
            model,
            ..
        } = self;
        let kafka = matches!(queue, QueueModel::Kafka { .. });
        let fifo = matches!(queue, QueueModel::SqsFifo { .. });
        let sqs = matches!(queue, QueueModel::Sqs);
        let queues = match queue {
            QueueModel::SqsQueues { .. } => backlogs.len(),
            _ => 0,
        };
        // Summed per second, then added: the tally's totals are not a
        // dependency of every message.
        let (mut busy_s, mut completed, mut running) = (0.0f64, 0u64, 0u32);
        *in_flight = 0;
        in_flight_by_backlog.iter_mut().for_each(|c| *c = 0);
        in_flight_sampled.iter_mut().for_each(|c| *c = 0);
        let mut i = 0;
        while i < workers.len() {
            let w = &mut workers[i];
            if matches!(w.phase, Phase::Starting { .. }) {
                i += 1;
                continue;
            }
            if let Phase::Stopping { kill_at } = w.phase {
                if t > kill_at && w.remaining > 0.0 {
                    // Killed with its message in hand: the work done on it is
                    // lost, and the message comes back.
                    tally.redelivered += 1;
                    tally.work_lost_s += w.service - w.remaining;
                    match (w.failing, poison.as_mut()) {
                        (Some(receives), Some(pq)) => pq
                            .returning
                            .push_back((t + model.visibility_timeout_s, receives + 1)),
                        _ => redelivering.push_back(Redelivery {
                            at: if kafka {
                                t
                            } else {
                                t + model.visibility_timeout_s
                            },
                            backlog: w.partition.unwrap_or(0),
                            arrived: w.arrived,
                        }),
                    }
                    workers.swap_remove(i);
                    continue;
                }
            }
            let draining = matches!(w.phase, Phase::Draining | Phase::Stopping { .. });
            let mut remaining = w.remaining;
            let mut partition = w.partition;
            let mut failing = w.failing;
            let (mut service, mut arrived_at) = (w.service, w.arrived);
            let mut budget = 1.0f64;
            let mut busy = 0.0f64;
            let mut exit = false;
            loop {
                if remaining > 0.0 {
                    let used = remaining.min(budget);
                    remaining -= used;
                    budget -= used;
                    busy += used;
                    if remaining > 1e-12 {
                        break;
                    }
                    remaining = 0.0;
                    match (failing.take(), poison.as_mut()) {
                        // Not deleted: in flight until the visibility timeout ends.
                        (Some(receives), Some(pq)) => pq
                            .returning
                            .push_back((t + pq.model.visibility_timeout_s, receives + 1)),
                        _ => completed += 1,
                    }
                    if let (true, Some(p)) = (fifo, partition) {
                        group_busy[p] = false;
                    }
                }
                if draining {
                    exit = true;
                    break;
                }
                if budget <= 1e-12 || kafka_paused {
                    break;
                }
                // Take the next message: a poison one as often as poison
                // messages are among the visible (SQS hands out a sample).
                if let Some(pq) = poison.as_mut().filter(|pq| !pq.waiting.is_empty()) {
                    let visible = pq.waiting.len() as u64 + backlogs[0].len;
                    if poison_rng.random_range(0..visible) < pq.waiting.len() as u64 {
                        failing = pq.waiting.pop_front();
                        remaining = service_table[rng.next_u32() as usize & (SERVICE_TABLE - 1)];
                        (service, arrived_at) = (remaining, t);
                        partition = None;
                        continue;
                    }
                }
                let source = if sqs {
                    Some(0)
                } else if fifo {
                    // The oldest message of a group with none in flight.
                    (0..backlogs.len())
                        .filter(|&g| !group_busy[g] && backlogs[g].len > 0)
                        .min_by_key(|&g| backlogs[g].oldest())
                } else if queues > 0 {
                    // The next queue after the last one served that has a message.
                    let start = partition.map_or(0, |p| p + 1);
                    (0..queues)
                        .map(|k| (start + k) % queues)
                        .find(|&q| backlogs[q].len > 0)
                } else {
                    w.assigned
                        .iter()
                        .copied()
                        .filter(|&p| backlogs[p].len > 0)
                        .min_by_key(|&p| backlogs[p].oldest())
                };
                let Some(p) = source else { break };
                let Some(arrived) = backlogs[p].pop() else {
                    break;
                };
                // Arrivals are spread over their second; service starts `1 - budget` in.
                let wait_s = (t as f64 - arrived as f64) + (1.0 - budget) - 0.5;
                tally.record_wait((wait_s.max(0.001) * 1000.0) as u64);
                remaining = service_table[rng.next_u32() as usize & (SERVICE_TABLE - 1)];
                (service, arrived_at) = (remaining, arrived);
                partition = Some(p);
                if fifo {
                    group_busy[p] = true;
                }
            }
            w.remaining = remaining;
            w.partition = partition;
            w.failing = failing;
            (w.service, w.arrived) = (service, arrived_at);
            busy_s += busy;
            // A worker busy all second is seen at any instant; one busy part
            // of it, with that probability.
            if busy >= 1.0 - 1e-9 || (busy > 0.0 && snapshot_rng.random::<f64>() < busy) {
                *in_flight += 1;
                if queues > 0 {
                    in_flight_sampled[partition.unwrap_or(0)] += 1;
                }
            }
            if exit {
                workers.swap_remove(i);
            } else {
                if let (true, Some(p)) = (remaining > 0.0, partition) {
                    in_flight_by_backlog[p] += 1;
                }
                running += u32::from(!draining);
                i += 1;
            }
        }
        tally.busy_s += busy_s;
        tally.completed += completed;
        running
    }

    fn record_snapshot(&mut self, running: u32) {
        // Poison messages are visible while waiting and in flight while they
        // wait out their visibility timeout, as SQS counts them.
        let (poison_visible, poison_in_flight) = self.poison.as_ref().map_or((0, 0), |pq| {
            (pq.waiting.len() as u64, pq.returning.len() as u64)
        });
        let snap = Snapshot {
            visible: self.backlogs.iter().map(|b| b.len).sum::<u64>() + poison_visible,
            in_flight: self.in_flight + poison_in_flight,
            partitions: self
                .backlogs
                .iter()
                .zip(&self.in_flight_by_backlog)
                // A message in progress is not committed yet.
                .map(|(b, &f)| (b.produced, b.taken - f))
                .collect(),
            queues: match self.queue {
                QueueModel::SqsQueues { .. } => self
                    .backlogs
                    .iter()
                    .zip(&self.in_flight_sampled)
                    .map(|(b, &f)| (b.len, f))
                    .collect(),
                _ => Vec::new(),
            },
            fifo: matches!(self.queue, QueueModel::SqsFifo { .. }),
            dead_letter: self.poison.as_ref().map(|pq| {
                (
                    pq.dead_lettered,
                    pq.model.max_receive_count,
                    pq.model.visibility_timeout_s,
                )
            }),
            running,
        };
        self.history.push_back(snap);
        while self.history.len() > self.history_len {
            self.history.pop_front();
        }
    }

    /// The snapshot `delay_s` seconds ago (or the oldest kept).
    pub fn snapshot(&self, delay_s: u32) -> &Snapshot {
        let idx = self.history.len().saturating_sub(1 + delay_s as usize);
        &self.history[idx]
    }

    /// What CloudWatch shows now: the previous full minute's averages (its
    /// datapoints arrive about a minute late), offsets as at that minute's end.
    pub fn cloudwatch_minute(&self) -> Snapshot {
        let (mut visible, mut in_flight, mut running, mut n) = (0u64, 0u64, 0u64, 0u64);
        // Per queue, with several queues (empty otherwise).
        let mut queues = vec![(0u64, 0u64); self.snapshot(60).queues.len()];
        let len = self.history.len();
        for ago in 60..120usize {
            if let Some(s) = len.checked_sub(1 + ago).map(|i| &self.history[i]) {
                visible += s.visible;
                in_flight += s.in_flight;
                running += s.running as u64;
                n += 1;
                for (sum, q) in queues.iter_mut().zip(&s.queues) {
                    sum.0 += q.0;
                    sum.1 += q.1;
                }
            }
        }
        let mut snap = self.snapshot(60).clone();
        let mean = |sum: u64| (sum + n / 2).checked_div(n);
        if let (Some(v), Some(f), Some(r)) = (mean(visible), mean(in_flight), mean(running)) {
            snap.visible = v;
            snap.in_flight = f;
            snap.running = r as u32;
            for (q, sum) in snap.queues.iter_mut().zip(&queues) {
                *q = (mean(sum.0).unwrap_or(0), mean(sum.1).unwrap_or(0));
            }
        }
        snap
    }

    /// Mean of `visible` and `running` over snapshots `from..to` seconds ago.
    pub fn window_mean(&self, from_s: u32, to_s: u32) -> (f64, f64) {
        let len = self.history.len();
        let (mut v, mut r, mut n) = (0.0, 0.0, 0.0);
        for ago in to_s..from_s {
            if let Some(s) = len.checked_sub(1 + ago as usize).map(|i| &self.history[i]) {
                v += s.visible as f64;
                r += s.running as f64;
                n += 1.0;
            }
        }
        if n == 0.0 {
            (0.0, 0.0)
        } else {
            (v / n, r / n)
        }
    }

    fn running(&self) -> u32 {
        self.workers
            .iter()
            .filter(|w| w.phase == Phase::Running && !w.sibling)
            .count() as u32
    }

    /// The fleet as an ECS-like API reports it.
    pub fn observe(&self) -> WorkerObservation {
        WorkerObservation {
            desired: self.desired,
            running: self.running(),
            pending: self
                .workers
                .iter()
                .filter(|w| matches!(w.phase, Phase::Starting { .. }) && !w.sibling)
                .count() as u32,
            deployment_in_progress: false,
            provisioned: self.provisioned,
            // Workers that protect themselves while a message is in hand:
            // the running and draining ones holding one.
            protected: (self.model.victims == VictimOrder::Protected).then(|| {
                self.workers
                    .iter()
                    .filter(|w| {
                        matches!(w.phase, Phase::Running | Phase::Draining)
                            && w.remaining > 0.0
                            && !w.sibling
                    })
                    .count() as u32
            }),
            spillover: self.spillover,
        }
    }

    /// The order in which this world's worker kind stops workers.
    pub fn victims(&self) -> VictimOrder {
        self.model.victims
    }

    /// Poison messages dead-lettered so far (0 without poison).
    pub fn dead_lettered(&self) -> u64 {
        self.poison.as_ref().map_or(0, |pq| pq.dead_lettered)
    }

    /// Messages waiting now (poison messages aside).
    pub fn backlog(&self) -> u64 {
        self.backlogs.iter().map(|b| b.len).sum()
    }

    /// Age of the oldest waiting message, seconds.
    pub fn oldest_age(&self) -> u32 {
        self.backlogs
            .iter()
            .filter_map(|b| b.oldest())
            .min()
            .map_or(0, |o| self.t.saturating_sub(o))
    }

    /// Workers paid for now: all but those held pending by a capacity
    /// ceiling (a task not placed is not billed; one starting is).
    pub fn paid_workers(&self) -> u32 {
        self.workers.len() as u32 - self.held
    }

    /// Sets the spillover sibling's desired count: its workers start after
    /// the kind's mean start-up (no jitter: drawing it would shift the main
    /// random stream), outside any capacity ceiling; surplus ones go
    /// starting first, then idle, then busy ones after their message (a
    /// sibling's scale-in is modelled idle-first, a simplification).
    pub fn set_spillover(&mut self, count: u32) {
        self.spillover = Some(count);
        let have = self
            .workers
            .iter()
            .filter(|w| w.sibling && matches!(w.phase, Phase::Starting { .. } | Phase::Running))
            .count() as u32;
        for _ in have..count {
            let ready_at = self.t + self.model.startup_s.round() as u32;
            self.add_worker(Phase::Starting { ready_at });
            self.workers.last_mut().expect("just added").sibling = true;
        }
        self.stop_idle_first(have.saturating_sub(count) as usize, true);
        self.rebalance();
    }

    /// Sets (or removes) provisioned concurrency.
    pub fn set_provisioned(&mut self, count: Option<u32>) {
        self.provisioned = count;
    }

    /// Sets the desired count: new workers start, surplus ones stop, chosen
    /// as [`WorkerModel::victims`] says.
    pub fn set_desired(&mut self, desired: u32) {
        self.set_desired_as(desired, self.model.victims);
    }

    /// Sets the desired count, stopping surplus workers in `victims`' order
    /// rather than the worker kind's (the oracle stops no busy worker).
    pub fn set_desired_as(&mut self, desired: u32, victims: VictimOrder) {
        if desired == self.desired {
            return;
        }
        self.tally.record_action(self.t, desired > self.desired);
        self.desired = desired;
        let active = self.workers.iter().filter(|w| w.staying()).count() as u32;
        if desired > active {
            for _ in active..desired {
                let jitter = if self.model.startup_jitter_s > 0.0 {
                    self.rng
                        .random_range(-self.model.startup_jitter_s..=self.model.startup_jitter_s)
                } else {
                    0.0
                };
                let ready_at = self.t + (self.model.startup_s + jitter).max(0.0).round() as u32;
                self.add_worker(Phase::Starting { ready_at });
            }
            return;
        }
        let surplus = (active - desired) as usize;
        let membership_changed = match victims {
            VictimOrder::IdleFirst => self.stop_idle_first(surplus, false),
            VictimOrder::Placement => self.stop_at_random(surplus, false),
            VictimOrder::Protected => self.stop_at_random(surplus, true),
        };
        if membership_changed {
            self.rebalance();
        }
    }

    /// Starting workers first (newest first), then idle, then busy ones,
    /// which drain: of the primary fleet, or of the `sibling` one. Returns
    /// whether a running worker left.
    fn stop_idle_first(&mut self, mut surplus: usize, sibling: bool) -> bool {
        let mut membership_changed = false;
        for pass in 0..3 {
            let mut i = self.workers.len();
            while surplus > 0 && i > 0 {
                i -= 1;
                let w = &self.workers[i];
                let pick = w.sibling == sibling
                    && match pass {
                        0 => matches!(w.phase, Phase::Starting { .. }),
                        1 => w.phase == Phase::Running && w.remaining <= 0.0,
                        _ => w.phase == Phase::Running,
                    };
                if !pick {
                    continue;
                }
                surplus -= 1;
                if pass == 0 || pass == 1 {
                    membership_changed |= pass == 1;
                    self.remove_worker(i);
                } else {
                    membership_changed = true;
                    self.workers[i].phase = Phase::Draining;
                    self.workers[i].assigned.clear();
                }
            }
        }
        membership_changed
    }

    /// `surplus` workers picked uniformly at random among the starting and
    /// running ones (only those without a message in hand when `protected`):
    /// idle and starting ones go at once, busy ones get the stop timeout.
    /// A protected surplus drains. Returns whether a running worker left.
    fn stop_at_random(&mut self, mut surplus: usize, protected: bool) -> bool {
        let mut candidates: Vec<usize> = (0..self.workers.len())
            .filter(|&i| {
                let w = &self.workers[i];
                w.staying() && !(protected && w.remaining > 0.0)
            })
            .collect();
        let picks = surplus.min(candidates.len());
        // A partial Fisher-Yates shuffle: the first `picks` are the victims.
        for k in 0..picks {
            let j = self.victim_rng.random_range(k..candidates.len());
            candidates.swap(k, j);
        }
        candidates.truncate(picks);
        surplus -= picks;
        let mut membership_changed = false;
        let kill_at = self.t + self.model.stop_timeout_s;
        let mut gone = Vec::new();
        for &i in &candidates {
            let w = &mut self.workers[i];
            membership_changed |= w.phase == Phase::Running;
            if w.phase == Phase::Running && w.remaining > 0.0 {
                self.tally.busy_stopped += 1;
                w.phase = Phase::Stopping { kill_at };
                w.assigned.clear();
            } else {
                gone.push(i);
            }
        }
        // Protected and busy: each stops once its message is done.
        if surplus > 0 {
            for i in (0..self.workers.len()).rev() {
                if surplus == 0 {
                    break;
                }
                let w = &mut self.workers[i];
                if w.phase == Phase::Running && !w.sibling && !gone.contains(&i) {
                    surplus -= 1;
                    membership_changed = true;
                    w.phase = Phase::Draining;
                    w.assigned.clear();
                }
            }
        }
        gone.sort_unstable();
        for i in gone.into_iter().rev() {
            self.remove_worker(i);
        }
        membership_changed
    }

    /// Removes a starting or idle worker; one held pending by a capacity
    /// ceiling leaves the held count too.
    fn remove_worker(&mut self, i: usize) {
        if let Phase::Starting { ready_at } = self.workers.remove(i).phase {
            if ready_at <= self.t && self.held > 0 {
                self.held -= 1;
            }
        }
    }
}

impl Worker {
    /// Counted in the desired count (not on its way out, not the
    /// sibling's).
    fn staying(&self) -> bool {
        matches!(self.phase, Phase::Starting { .. } | Phase::Running) && !self.sibling
    }
}
