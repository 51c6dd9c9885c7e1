//! Each baseline at its best configuration, not only its textbook one.
//!
//! Users tune the per-worker target of KEDA (`queueLength` for SQS,
//! `lagThreshold` for Kafka) and of AWS target tracking, and the size of a
//! static fleet. The sweep runs every baseline over a documented range of its
//! own knob on the same scenario and seed, keeps each baseline's Pareto
//! frontier (worker-hours vs SLO-violation seconds), and says whether any
//! swept point dominates qscale's default: cheaper or equal *and* no more
//! violation, one of them strictly.

use std::sync::Mutex;

use jiff::Timestamp;

use super::run::{simulate, RunResult, SimSpec};
use super::world::{QueueModel, World};
use crate::policies::{Autoscaler, AwsTargetTracking, KedaHpa, StaticPeak};
use qscale_core::config::TargetConfig;

/// KEDA `queueLength` / `lagThreshold` values swept. 5 is KEDA's default
/// `queueLength` for SQS (KEDA docs, "AWS SQS Queue" scaler); 1 and 2 are
/// what long jobs are given (one message per worker); the rest spans what
/// users set, up to 4x the demo's latency-derived 150.
pub const KEDA_TARGETS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 150.0, 300.0, 600.0];
/// AWS target values (backlog per instance) swept: the same range. AWS's
/// guidance derives it from acceptable latency / processing time (150 here).
pub const AWS_TARGETS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 150.0, 300.0, 600.0];
/// Static fleets swept, as shares of the peak-load count `ceil(peak × s)`.
pub const STATIC_SHARES: &[f64] = &[0.25, 0.5, 0.75, 1.0];

/// One swept configuration's result.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// Baseline: `keda-hpa`, `aws-target-tracking` or `static`.
    pub baseline: String,
    /// Its knob and value, e.g. `queueLength=100`.
    pub setting: String,
    /// Paid worker-hours.
    pub worker_hours: f64,
    /// Seconds in SLO violation.
    pub slo_violation_s: u64,
}

impl Point {
    /// Worker-hours and violation of a run, labelled.
    pub fn of(r: &RunResult, baseline: &str, setting: &str) -> Point {
        Point {
            baseline: baseline.into(),
            setting: setting.into(),
            worker_hours: r.worker_seconds / 3600.0,
            slo_violation_s: r.slo_violation_s,
        }
    }

    /// At most as costly and as late as `other`, and strictly better in one.
    pub fn dominates(&self, other: &Point) -> bool {
        // Worker-hours compared at report precision (0.01 h) so float noise
        // does not decide dominance.
        let (a, b) = (
            (self.worker_hours * 100.0).round(),
            (other.worker_hours * 100.0).round(),
        );
        a <= b
            && self.slo_violation_s <= other.slo_violation_s
            && (a < b || self.slo_violation_s < other.slo_violation_s)
    }
}

/// One trace's sweep: every swept point, and qscale's and the oracle's points.
#[derive(Debug, Clone)]
pub struct SweepReport {
    /// Trace name.
    pub trace: String,
    /// qscale's default.
    pub qscale: Point,
    /// The clairvoyant limit, when it ran.
    pub oracle: Option<Point>,
    /// Every baseline configuration swept.
    pub points: Vec<Point>,
}

impl SweepReport {
    /// The report of points swept already, read against `results`' qscale
    /// and oracle rows for `trace`; `None` without a qscale row.
    pub fn of_points(
        trace: &str,
        points: Vec<Point>,
        results: &[RunResult],
    ) -> Option<SweepReport> {
        let row = |policy: &str| {
            results
                .iter()
                .find(|r| r.trace == trace && r.policy == policy)
        };
        let qscale = Point::of(row("qscale")?, "qscale", "default");
        let oracle = row("oracle").map(|r| Point::of(r, "oracle", "clairvoyant"));
        Some(SweepReport {
            trace: trace.to_string(),
            qscale,
            oracle,
            points,
        })
    }
}

/// Each swept baseline with the textbook policy its setting stands beside.
pub const BASELINES: &[(&str, &str)] = &[
    ("keda-hpa", "keda-hpa"),
    ("aws-target-tracking", "aws-target-tracking"),
    ("static", "static-peak"),
];

/// The setting of `baseline` a user would pick to match qscale: the cheapest
/// with no more violation seconds than qscale's; if none has so few, the
/// one with the least violation (the cheapest of those).
pub fn best_setting<'a>(points: &'a [Point], baseline: &str, qscale: &Point) -> Option<&'a Point> {
    let mine = points.iter().filter(|p| p.baseline == baseline);
    let cheapest = |a: &&Point, b: &&Point| a.worker_hours.total_cmp(&b.worker_hours);
    mine.clone()
        .filter(|p| p.slo_violation_s <= qscale.slo_violation_s)
        .min_by(cheapest)
        .or_else(|| {
            mine.min_by(|a, b| {
                a.slo_violation_s
                    .cmp(&b.slo_violation_s)
                    .then(a.worker_hours.total_cmp(&b.worker_hours))
            })
        })
}

/// One scenario's `results` with, after each baseline's textbook row, its
/// best swept setting ([`best_setting`]) as a row of its own named
/// `baseline@setting`; and every point swept. Without a qscale row the
/// results come back as they are.
pub fn beside_best_settings(
    spec: &SimSpec,
    target: &TargetConfig,
    results: Vec<RunResult>,
) -> (Vec<RunResult>, Vec<Point>) {
    let Some(qscale) = results
        .iter()
        .find(|r| r.policy == "qscale")
        .map(|r| Point::of(r, "qscale", "default"))
    else {
        return (results, Vec::new());
    };
    let swept = run(spec, target);
    let points: Vec<Point> = swept.iter().map(|(p, _)| p.clone()).collect();
    let mut out = Vec::with_capacity(results.len() + BASELINES.len());
    for row in results {
        let textbook = BASELINES.iter().find(|(_, t)| *t == row.policy);
        out.push(row);
        let Some((baseline, _)) = textbook else {
            continue;
        };
        if let Some(best) = best_setting(&points, baseline, &qscale) {
            // Named as its textbook row: `static-peak@workers=10`.
            let name = label(&out[out.len() - 1].policy, &best.setting);
            let run = swept
                .iter()
                .find(|(p, _)| p == best)
                .map(|(_, r)| RunResult {
                    policy: name,
                    ..r.clone()
                });
            out.extend(run);
        }
    }
    (out, points)
}

/// A run's name in reports: `baseline@setting`.
fn label(baseline: &str, setting: &str) -> String {
    format!("{baseline}@{setting}")
}

/// A baseline under another name, so swept runs are told apart in reports.
struct Named {
    name: String,
    inner: Box<dyn Autoscaler + Send>,
}

impl Autoscaler for Named {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn interval_s(&self) -> u32 {
        self.inner.interval_s()
    }
    fn tick(&mut self, world: &Mutex<World>, now: Timestamp, t: u32) {
        self.inner.tick(world, now, t)
    }
    fn initial_workers(&self) -> Option<u32> {
        self.inner.initial_workers()
    }
}

/// Every swept configuration of every baseline for `target` on `spec`:
/// (baseline, setting, policy).
fn configurations(spec: &SimSpec, target: &TargetConfig) -> Vec<(String, String, Named)> {
    let knob = match spec.queue {
        QueueModel::Sqs | QueueModel::SqsQueues { .. } | QueueModel::SqsFifo { .. } => {
            "queueLength"
        }
        QueueModel::Kafka { .. } => "lagThreshold",
    };
    let with_target = |v: f64| {
        let mut t = target.clone();
        t.policy.target_per_worker = Some(v);
        t.policy.latency = None;
        t
    };
    let mut out = Vec::new();
    let mut push = |baseline: &str, setting: String, inner: Box<dyn Autoscaler + Send>| {
        out.push((
            baseline.to_string(),
            setting.clone(),
            Named {
                name: label(baseline, &setting),
                inner,
            },
        ))
    };
    for &v in KEDA_TARGETS {
        push(
            "keda-hpa",
            format!("{knob}={v}"),
            Box::new(KedaHpa::new(&with_target(v))),
        );
    }
    for &v in AWS_TARGETS {
        push(
            "aws-target-tracking",
            format!("target={v}"),
            Box::new(AwsTargetTracking::new(&with_target(v).policy)),
        );
    }
    let peak = StaticPeak::for_peak(spec.trace.peak(), spec.workers.service_mean_s).workers;
    for &share in STATIC_SHARES {
        let workers = ((peak as f64 * share).round() as u32).max(1);
        push(
            "static",
            format!("workers={workers}"),
            Box::new(StaticPeak { workers }),
        );
    }
    out
}

/// Runs every swept configuration, on all cores, in a stable order.
pub fn run(spec: &SimSpec, target: &TargetConfig) -> Vec<(Point, RunResult)> {
    let jobs: Vec<_> = configurations(spec, target)
        .into_iter()
        .map(Mutex::new)
        .collect();
    let results: Vec<Mutex<Option<(Point, RunResult)>>> =
        jobs.iter().map(|_| Mutex::new(None)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..threads.min(jobs.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let mut job = job.lock().unwrap();
                let (baseline, setting, policy) = &mut *job;
                let r = simulate(spec, policy);
                *results[i].lock().unwrap() = Some((Point::of(&r, baseline, setting), r));
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.into_inner().unwrap().expect("every job ran"))
        .collect()
}

/// The points of one baseline no other point of it dominates, cheapest first.
pub fn frontier<'a>(points: &'a [Point], baseline: &str) -> Vec<&'a Point> {
    let mine: Vec<&Point> = points.iter().filter(|p| p.baseline == baseline).collect();
    let mut front: Vec<&Point> = mine
        .iter()
        .filter(|p| !mine.iter().any(|q| q.dominates(p)))
        .copied()
        .collect();
    front.sort_by(|a, b| {
        a.worker_hours
            .total_cmp(&b.worker_hours)
            .then(b.slo_violation_s.cmp(&a.slo_violation_s))
    });
    front.dedup_by(|a, b| {
        a.worker_hours == b.worker_hours && a.slo_violation_s == b.slo_violation_s
    });
    front
}

/// The swept points that dominate `qscale`, best (cheapest) first.
pub fn dominating<'a>(points: &'a [Point], qscale: &Point) -> Vec<&'a Point> {
    let mut d: Vec<&Point> = points.iter().filter(|p| p.dominates(qscale)).collect();
    d.sort_by(|a, b| a.worker_hours.total_cmp(&b.worker_hours));
    d
}

/// One line per trace: is qscale's default on or beyond every frontier?
pub fn verdict(trace: &str, points: &[Point], qscale: &Point) -> String {
    let d = dominating(points, qscale);
    match d.first() {
        None => format!(
            "sweep {trace}: qscale ({:.2} h, {} s) is on or beyond every baseline's frontier",
            qscale.worker_hours, qscale.slo_violation_s
        ),
        Some(best) => format!(
            "sweep {trace}: SHORT: {} of {} swept settings dominate qscale ({:.2} h, {} s), e.g. {}@{} ({:.2} h, {} s)",
            d.len(),
            points.len(),
            qscale.worker_hours,
            qscale.slo_violation_s,
            best.baseline,
            best.setting,
            best.worker_hours,
            best.slo_violation_s
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(baseline: &str, wh: f64, viol: u64) -> Point {
        Point {
            baseline: baseline.into(),
            setting: format!("{wh}/{viol}"),
            worker_hours: wh,
            slo_violation_s: viol,
        }
    }

    #[test]
    fn dominance_needs_one_strict_improvement() {
        assert!(p("a", 1.0, 5).dominates(&p("q", 2.0, 5)));
        assert!(p("a", 2.0, 4).dominates(&p("q", 2.0, 5)));
        assert!(!p("a", 2.0, 5).dominates(&p("q", 2.0, 5)), "equal");
        assert!(!p("a", 1.0, 6).dominates(&p("q", 2.0, 5)), "a trade-off");
        assert!(
            !p("a", 2.001, 5).dominates(&p("q", 2.0, 5))
                && !p("q", 2.0, 5).dominates(&p("a", 2.001, 5)),
            "within report precision"
        );
    }

    #[test]
    fn the_best_setting_is_the_cheapest_at_no_more_violation_else_the_least_late() {
        let pts = vec![
            p("k", 10.0, 100),
            p("k", 20.0, 10),
            p("k", 30.0, 0),
            p("k", 25.0, 0),
            p("a", 50.0, 40),
            p("a", 60.0, 30),
        ];
        let best = |b: &str, viol: u64| {
            best_setting(&pts, b, &p("qscale", 22.0, viol))
                .map(|p| (p.worker_hours, p.slo_violation_s))
        };
        assert_eq!(best("k", 0), Some((25.0, 0)), "cheapest of the two at 0 s");
        assert_eq!(best("k", 10), Some((20.0, 10)));
        assert_eq!(best("k", 500), Some((10.0, 100)));
        assert_eq!(
            best("a", 0),
            Some((60.0, 30)),
            "none at 0 s: the least late"
        );
        assert_eq!(best("static", 0), None);
    }

    #[test]
    fn frontier_keeps_the_undominated_cheapest_first() {
        let pts = vec![
            p("k", 10.0, 100),
            p("k", 20.0, 10),
            p("k", 15.0, 200),
            p("k", 30.0, 0),
            p("s", 1.0, 0),
        ];
        let f: Vec<(f64, u64)> = frontier(&pts, "k")
            .iter()
            .map(|p| (p.worker_hours, p.slo_violation_s))
            .collect();
        assert_eq!(f, vec![(10.0, 100), (20.0, 10), (30.0, 0)]);
        let q = p("qscale", 25.0, 20);
        let d: Vec<&str> = dominating(&pts, &q)
            .iter()
            .map(|p| p.setting.as_str())
            .collect();
        assert_eq!(d, vec!["1/0", "20/10"]);
        assert!(verdict("t", &pts, &q).starts_with("sweep t: SHORT: 2 of 5 swept settings dominate qscale (25.00 h, 20 s), e.g. s@1/0 (1.00 h, 0 s)"));
        assert!(verdict("t", &pts, &p("qscale", 0.5, 0)).contains("on or beyond every"));
    }
}
