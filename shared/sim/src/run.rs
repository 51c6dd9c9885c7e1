//! One run: a policy over a scenario in the simulated world, second by
//! second, and what it cost.

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::adapters::MetricRead;
use crate::policies::autoscaler::Autoscaler;
use crate::trace::Trace;
use crate::world::{CapacityCeiling, PoisonModel, QueueModel, VictimOrder, WorkerModel, World};
use qscale_core::config::{SignalConfig, TargetConfig, WorkerConfig};

/// Everything about a run except the policy.
#[derive(Debug, Clone)]
pub struct SimSpec {
    /// Traffic.
    pub trace: Trace,
    /// Queue or topic.
    pub queue: QueueModel,
    /// Workers and messages.
    pub workers: WorkerModel,
    /// Simulated wall-clock time of second 0 (schedules use it).
    pub start: Timestamp,
    /// Oldest-message age above which a second counts as an SLO violation.
    pub slo_s: u32,
    /// Seed of all randomness.
    pub seed: u64,
    /// How qscale's metric source sees the world (default: live API read).
    pub metric_read: MetricRead,
    /// Messages that fail and go to the dead-letter queue (default none).
    pub poison: Option<PoisonModel>,
}

impl SimSpec {
    /// Defaults for a trace: 200 ms messages (CV 0.5), 60 ± 10 s start-up,
    /// 60 s SLO, live metric reads, seed 1, start 2026-11-24T00:00Z.
    pub fn new(trace: Trace, queue: QueueModel) -> SimSpec {
        SimSpec {
            trace,
            queue,
            workers: WorkerModel {
                service_mean_s: 0.2,
                service_cv: 0.5,
                service_range_s: None,
                startup_s: 60.0,
                startup_jitter_s: 10.0,
                victims: VictimOrder::Placement,
                stop_timeout_s: 30,
                visibility_timeout_s: 30,
                capacity: Vec::new(),
            },
            start: "2026-11-24T00:00:00Z".parse().expect("valid"),
            slo_s: 60,
            seed: 1,
            metric_read: MetricRead::Live { delay_s: 0 },
            poison: None,
        }
    }

    /// The bundled scenario for a bundled trace name, and the demo target it uses.
    pub fn bundled(name: &str) -> Option<(SimSpec, &'static str)> {
        let trace = Trace::bundled(name)?;
        Some(match name {
            "kafka_hot_partition" => (
                SimSpec::new(
                    trace,
                    QueueModel::Kafka {
                        partitions: 12,
                        hot_share: 0.2,
                        rebalance_pause_s: 5,
                    },
                ),
                "demo-kafka",
            ),
            "two_queues" => (
                SimSpec::new(trace, QueueModel::SqsQueues { queues: 2 }),
                "demo-two-queues",
            ),
            "fifo_groups" => (
                SimSpec::new(trace, QueueModel::SqsFifo { groups: 4 }),
                "demo-fifo",
            ),
            "poison_wave" => {
                let mut s = SimSpec::new(trace, QueueModel::Sqs);
                // A bad deploy: 30% fail for 30 minutes; SQS's redrive
                // policy moves each to the dead-letter queue after 5
                // receives, each failure in flight for a 30 s visibility timeout.
                s.poison = Some(PoisonModel {
                    share: 0.3,
                    from_s: 3600,
                    to_s: 5400,
                    max_receive_count: 5,
                    visibility_timeout_s: 30,
                });
                (s, "demo-sqs")
            }
            "long_jobs" => {
                let mut s = SimSpec::new(trace, QueueModel::Sqs);
                // Jobs of 2-20 minutes (log-normal, mean 7 min, CV 0.6), a
                // 5-minute wait SLO, and a visibility timeout the workers
                // keep extending while a job runs (lost only with its worker).
                s.workers.service_mean_s = 420.0;
                s.workers.service_cv = 0.6;
                s.workers.service_range_s = Some((120.0, 1200.0));
                s.workers.visibility_timeout_s = 60;
                s.slo_s = 300;
                (s, "demo-long-jobs")
            }
            "flash_crowd_capacity" => {
                let mut s = SimSpec::new(trace, QueueModel::Sqs);
                // The crowd arrives while capacity is short (Fargate Spot
                // without a fallback): from 00:25 to 00:50, no more than 20
                // workers run; the rest stay pending.
                s.workers.capacity = vec![CapacityCeiling {
                    from_s: 1500,
                    to_s: 3000,
                    max_running: 20,
                }];
                (s, "demo-sqs")
            }
            "known_event" => {
                let mut s = SimSpec::new(trace, QueueModel::Sqs);
                // The demo config announces an event at 01:00 on this day.
                s.start = "2026-11-23T00:00:00Z".parse().expect("valid");
                (s, "demo-sqs")
            }
            _ => (SimSpec::new(trace, QueueModel::Sqs), "demo-sqs"),
        })
    }

    /// The worker kind's start-up and scale-in, from the target: an ECS
    /// service (the default; with `respect_task_protection`, its workers
    /// protect themselves while a message is in hand) or a Lambda function,
    /// whose lowered concurrency ends no invocation and whose workers start
    /// in about a second.
    pub fn fit_worker(&mut self, target: &TargetConfig) {
        if let WorkerConfig::Ecs(e) = &target.worker {
            self.workers.victims = if e.respect_task_protection {
                VictimOrder::Protected
            } else {
                VictimOrder::Placement
            };
        } else {
            self.workers.victims = VictimOrder::IdleFirst;
            self.workers.startup_s = 1.0;
            self.workers.startup_jitter_s = 1.0;
        }
    }

    /// The queue model a target's signals imply (Kafka partitions default
    /// 12; one queue per SQS signal, sharing one stream's traffic evenly).
    pub fn queue_for(target: &TargetConfig) -> QueueModel {
        match target.signals.first() {
            Some(SignalConfig::Kafka(_)) => QueueModel::Kafka {
                partitions: 12,
                hot_share: 1.0 / 12.0,
                rebalance_pause_s: 5,
            },
            _ if target.signals.len() > 1 => QueueModel::SqsQueues {
                queues: target.signals.len(),
            },
            // A FIFO queue: its configured groups, else the bundled family's 4.
            Some(SignalConfig::Sqs(q)) if q.queue.ends_with(".fifo") => QueueModel::SqsFifo {
                groups: q.max_active_groups.unwrap_or(4) as usize,
            },
            _ => QueueModel::Sqs,
        }
    }
}

/// A point of the time series, every 30 s.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Sample {
    /// Second of the run.
    pub t: u32,
    /// Messages waiting.
    pub backlog: u64,
    /// Workers paid for.
    pub workers: u32,
    /// Age of the oldest waiting message, seconds.
    pub oldest_age_s: u32,
}

/// Results of one (trace, policy) run.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    /// Trace name.
    pub trace: String,
    /// Policy name.
    pub policy: String,
    /// Paid worker-seconds.
    pub worker_seconds: f64,
    /// Busy / paid worker-seconds.
    pub utilization: f64,
    /// Message wait percentiles and max, seconds.
    pub wait_p50_s: f64,
    /// 99th percentile wait.
    pub wait_p99_s: f64,
    /// Longest wait.
    pub wait_max_s: f64,
    /// Seconds with the oldest message older than the SLO.
    pub slo_violation_s: u64,
    /// Which seconds of the run those were (for per-period verdicts).
    #[serde(skip)]
    pub slo_violation_at: Vec<u32>,
    /// Changes of the desired count.
    pub actions: u32,
    /// Direction changes within 10 minutes.
    pub flaps: u32,
    /// Most messages waiting at once.
    pub peak_backlog: u64,
    /// Messages finished.
    pub completed: u64,
    /// Messages still waiting at the end.
    pub left_waiting: u64,
    /// Poison messages dead-lettered (0 without poison).
    pub dead_lettered: u64,
    /// Workers stopped with a message in hand.
    pub busy_stopped: u64,
    /// Messages redelivered because their worker was killed.
    pub redelivered: u64,
    /// Processing seconds thrown away by those kills.
    pub work_lost_s: f64,
    /// Time series for plots.
    #[serde(skip)]
    pub samples: Vec<Sample>,
}

/// Runs one policy over a scenario.
pub fn simulate(spec: &SimSpec, scaler: &mut dyn Autoscaler) -> RunResult {
    let initial = scaler.initial_workers().unwrap_or_else(|| {
        let first = spec.trace.rates.first().copied().unwrap_or(0.0);
        (first * spec.workers.service_mean_s).ceil().max(1.0) as u32
    });
    let mut world = World::new(
        spec.queue.clone(),
        spec.workers.clone(),
        ChaCha8Rng::seed_from_u64(spec.seed),
        initial,
        spec.slo_s,
        // Enough history for metric delays and CloudWatch minutes.
        match spec.metric_read {
            MetricRead::Live { delay_s } => delay_s as usize + 1,
            MetricRead::CloudWatchMinute => 0,
        }
        .max(181),
    );
    if let Some(poison) = &spec.poison {
        world.set_poison(poison.clone());
    }
    let world = Mutex::new(world);
    let interval = scaler.interval_s().max(1);
    let mut samples = Vec::with_capacity(spec.trace.rates.len() / 30 + 1);
    let mut by_queue = vec![0.0; spec.trace.queues.len()];
    for (i, &rate) in spec.trace.rates.iter().enumerate() {
        let t = i as u32 + 1;
        if by_queue.is_empty() {
            world.lock().unwrap().step(rate);
        } else {
            for (r, queue) in by_queue.iter_mut().zip(&spec.trace.queues) {
                *r = queue.get(i).copied().unwrap_or(0.0);
            }
            world.lock().unwrap().step_queues(&by_queue);
        }
        if t % interval == 0 {
            let now = spec.start + SignedDuration::from_secs(t as i64);
            scaler.tick(&world, now, t);
        }
        if t % 30 == 0 {
            let w = world.lock().unwrap();
            samples.push(Sample {
                t,
                backlog: w.backlog(),
                workers: w.paid_workers(),
                oldest_age_s: w.oldest_age(),
            });
        }
    }
    let w = world.into_inner().unwrap();
    let tally = &w.tally;
    let waits = tally.waits_ms();
    let q = |p: f64| waits.value_at_quantile(p) as f64 / 1000.0;
    RunResult {
        trace: spec.trace.name.clone(),
        policy: scaler.name(),
        worker_seconds: tally.paid_s,
        utilization: if tally.paid_s > 0.0 {
            tally.busy_s / tally.paid_s
        } else {
            0.0
        },
        wait_p50_s: q(0.5),
        wait_p99_s: q(0.99),
        wait_max_s: waits.max() as f64 / 1000.0,
        slo_violation_s: tally.slo_violation_at.len() as u64,
        slo_violation_at: tally.slo_violation_at.clone(),
        actions: tally.actions,
        flaps: tally.flaps,
        peak_backlog: tally.peak_backlog,
        completed: tally.completed,
        left_waiting: w.backlog(),
        dead_lettered: w.dead_lettered(),
        busy_stopped: tally.busy_stopped,
        redelivered: tally.redelivered,
        work_lost_s: tally.work_lost_s,
        samples,
    }
}
