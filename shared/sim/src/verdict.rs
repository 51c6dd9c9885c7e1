//! One line per trace: does qscale's default meet the goal on it?
//!
//! The goal (issue 9): SLO-violation seconds at most both KEDA+HPA's and AWS
//! target tracking's, worker-hours at most 80% of AWS's; on smooth traces
//! also 0 violation seconds at most 1.10x the oracle's worker-hours; on
//! periodic traces 0 violation seconds from the third period on. Every
//! shortfall is named with its numbers, and beside it whether the oracle
//! itself met the SLO there (if it did not, nothing could at that `max`).

use super::run::RunResult;

/// Traces whose load changes slowly: the oracle-cost clause applies.
pub const SMOOTH: &[&str] = &["steady", "diurnal", "slow_ramp", "weekly"];

/// Periodic traces and their periods, seconds (from their generators in
/// `trace.rs`; `weekly`'s daily shape is the period a forecast can use
/// within its seven days). Their clause: 0 violation seconds from the third
/// period on. A period is known after two of them have been seen, so the
/// first two are reported beside it, not judged.
pub const PERIODIC: &[(&str, u32)] = &[
    ("on_off", 2400),
    ("batch_dumps", 900),
    ("sawtooth", 1200),
    ("weekly", 86_400),
];

/// Worker-hours qscale may spend as a share of AWS target tracking's.
const MAX_SHARE_OF_AWS: f64 = 0.80;
/// Worker-hours qscale may spend on smooth traces as a multiple of the oracle's.
const MAX_X_ORACLE_SMOOTH: f64 = 1.10;

/// The verdict on one trace, or `None` when its results lack qscale or a baseline.
pub fn verdict(trace: &str, results: &[RunResult]) -> Option<String> {
    let row = |policy: &str| {
        results
            .iter()
            .find(|r| r.trace == trace && r.policy == policy)
    };
    let (q, keda, aws) = (
        row("qscale")?,
        row("keda-hpa")?,
        row("aws-target-tracking")?,
    );
    let oracle = row("oracle");
    let mut short = Vec::new();
    for b in [keda, aws] {
        if q.slo_violation_s > b.slo_violation_s {
            short.push(format!(
                "SLO violation {} s > {}'s {} s",
                q.slo_violation_s, b.policy, b.slo_violation_s
            ));
        }
    }
    let of_aws = |r: &RunResult| r.worker_seconds / aws.worker_seconds.max(f64::MIN_POSITIVE);
    let share = of_aws(q);
    if share > MAX_SHARE_OF_AWS {
        // Whether anything meeting the SLO could spend that little here.
        let reachable = match oracle {
            Some(o) if o.slo_violation_s == 0 && of_aws(o) > MAX_SHARE_OF_AWS => format!(
                "; the oracle itself needs {:.0}%: no policy meeting the SLO can",
                of_aws(o) * 100.0
            ),
            _ => String::new(),
        };
        short.push(format!(
            "worker-hours {:.0}% of AWS's (goal <= {:.0}%{reachable})",
            share * 100.0,
            MAX_SHARE_OF_AWS * 100.0
        ));
    }
    if SMOOTH.contains(&trace) {
        if q.slo_violation_s > 0 {
            short.push(format!(
                "smooth trace with {} s of SLO violation (goal 0)",
                q.slo_violation_s
            ));
        }
        if let Some(o) = oracle.filter(|o| o.worker_seconds > 0.0) {
            let x = q.worker_seconds / o.worker_seconds;
            if x > MAX_X_ORACLE_SMOOTH {
                short.push(format!(
                    "{x:.2}x the oracle's worker-hours (goal <= {MAX_X_ORACLE_SMOOTH:.2}x)"
                ));
            }
        }
    }
    let mut periodic_note = String::new();
    if let Some(&(_, period)) = PERIODIC.iter().find(|(t, _)| *t == trace) {
        let learnt = 2 * period;
        let (early, late) = q
            .slo_violation_at
            .iter()
            .partition::<Vec<u32>, _>(|&&t| t <= learnt);
        if !late.is_empty() {
            short.push(format!(
                "periodic trace with {} s of SLO violation from the third {period} s period on \
                 (goal 0; at {}-{} s)",
                late.len(),
                late[0],
                late[late.len() - 1]
            ));
        }
        periodic_note = format!(
            " (period {period} s: {} s of violation in the first two, while it is learnt)",
            early.len()
        );
    }
    let oracle_note = match oracle {
        Some(o) if o.slo_violation_s > 0 => {
            format!(" (the oracle itself: {} s of violation)", o.slo_violation_s)
        }
        Some(_) => " (the oracle meets the SLO here)".into(),
        None => String::new(),
    };
    Some(if short.is_empty() {
        format!("verdict {trace}: met{periodic_note}")
    } else {
        format!(
            "verdict {trace}: NOT MET: {}{periodic_note}{oracle_note}",
            short.join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(trace: &str, policy: &str, worker_h: f64, viol: u64) -> RunResult {
        RunResult {
            trace: trace.into(),
            policy: policy.into(),
            worker_seconds: worker_h * 3600.0,
            utilization: 0.5,
            wait_p50_s: 0.0,
            wait_p99_s: 0.0,
            wait_max_s: 0.0,
            slo_violation_s: viol,
            slo_violation_at: Vec::new(),
            actions: 0,
            flaps: 0,
            peak_backlog: 0,
            completed: 0,
            left_waiting: 0,
            busy_stopped: 0,
            redelivered: 0,
            work_lost_s: 0.0,
            dead_lettered: 0,
            samples: Vec::new(),
        }
    }

    #[test]
    fn names_each_shortfall_with_its_numbers() {
        let rows = vec![
            run("steady", "qscale", 12.0, 5),
            run("steady", "keda-hpa", 20.0, 3),
            run("steady", "aws-target-tracking", 20.0, 10),
            run("steady", "oracle", 10.0, 0),
        ];
        let v = verdict("steady", &rows).unwrap();
        assert_eq!(
            v,
            "verdict steady: NOT MET: SLO violation 5 s > keda-hpa's 3 s; \
             smooth trace with 5 s of SLO violation (goal 0); \
             1.20x the oracle's worker-hours (goal <= 1.10x) (the oracle meets the SLO here)"
        );
        let met = vec![
            run("flash_crowd", "qscale", 10.0, 0),
            run("flash_crowd", "keda-hpa", 20.0, 3),
            run("flash_crowd", "aws-target-tracking", 20.0, 10),
        ];
        assert_eq!(
            verdict("flash_crowd", &met).unwrap(),
            "verdict flash_crowd: met"
        );
        let mut dumps = vec![
            run("batch_dumps", "qscale", 10.0, 0),
            run("batch_dumps", "keda-hpa", 20.0, 30),
            run("batch_dumps", "aws-target-tracking", 20.0, 30),
        ];
        dumps[0].slo_violation_at = vec![400, 1300];
        dumps[0].slo_violation_s = 2;
        assert_eq!(
            verdict("batch_dumps", &dumps).unwrap(),
            "verdict batch_dumps: met (period 900 s: 2 s of violation in the first two, while it is learnt)"
        );
        dumps[0].slo_violation_at.push(2000);
        dumps[0].slo_violation_s = 3;
        assert_eq!(
            verdict("batch_dumps", &dumps).unwrap(),
            "verdict batch_dumps: NOT MET: periodic trace with 1 s of SLO violation from the third \
             900 s period on (goal 0; at 2000-2000 s) (period 900 s: 2 s of violation in the first \
             two, while it is learnt)"
        );
        let out_of_reach = vec![
            run("kafka", "qscale", 24.0, 0),
            run("kafka", "keda-hpa", 18.0, 3),
            run("kafka", "aws-target-tracking", 28.0, 10),
            run("kafka", "oracle", 24.0, 0),
        ];
        assert_eq!(
            verdict("kafka", &out_of_reach).unwrap(),
            "verdict kafka: NOT MET: worker-hours 86% of AWS's (goal <= 80%; the oracle \
             itself needs 86%: no policy meeting the SLO can) (the oracle meets the SLO here)"
        );
        assert_eq!(verdict("missing", &met), None);
    }
}
