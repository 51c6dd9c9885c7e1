//! The comparison report: a table, a CSV, and one SVG figure per trace; and
//! the sweep's frontiers with a scatter per trace.
//! Just over 400 lines: both reports share the table and plot helpers.

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;

use super::run::RunResult;
use super::sweep::{self, Point, SweepReport};

/// Worker-hours as a multiple of the oracle's on the same trace, when the
/// results hold an oracle row for it.
pub fn x_oracle(results: &[RunResult], r: &RunResult) -> Option<f64> {
    results
        .iter()
        .find(|o| o.trace == r.trace && o.policy == "oracle")
        .filter(|o| o.worker_seconds > 0.0)
        .map(|o| r.worker_seconds / o.worker_seconds)
}

/// The results as a fixed-width table.
pub fn table(results: &[RunResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<20} {:<30} {:>9} {:>8} {:>6} {:>8} {:>8} {:>8} {:>8} {:>7} {:>5} {:>8} {:>7} {:>7} {:>6}",
        "trace",
        "policy",
        "worker-h",
        "x oracle",
        "util",
        "wait p50",
        "wait p99",
        "wait max",
        "SLO-viol",
        "actions",
        "flaps",
        "peak q",
        "stopped",
        "redeliv",
        "lost h"
    );
    for r in results {
        let _ = writeln!(
            out,
            "{:<20} {:<30} {:>9.2} {:>8} {:>5.1}% {:>7.1}s {:>7.1}s {:>7.1}s {:>7}s {:>7} {:>5} {:>8} {:>7} {:>7} {:>6.2}",
            r.trace,
            r.policy,
            r.worker_seconds / 3600.0,
            x_oracle(results, r).map_or("-".into(), |x| format!("{x:.2}x")),
            r.utilization * 100.0,
            r.wait_p50_s,
            r.wait_p99_s,
            r.wait_max_s,
            r.slo_violation_s,
            r.actions,
            r.flaps,
            r.peak_backlog,
            r.busy_stopped,
            r.redelivered,
            r.work_lost_s / 3600.0
        );
    }
    out
}

/// Poison messages each policy's run sent to the dead-letter queue, one
/// line per run that sent any (traces with poison only).
pub fn dead_lettered(results: &[RunResult]) -> String {
    let mut out = String::new();
    for r in results.iter().filter(|r| r.dead_lettered > 0) {
        let _ = writeln!(
            out,
            "dead-lettered, {} {}: {} messages",
            r.trace, r.policy, r.dead_lettered
        );
    }
    out
}

/// Spans listed per policy before the rest is counted.
const MAX_SPANS: usize = 12;

/// When each policy violated the SLO: runs of consecutive violation seconds
/// as `from-to` (trace seconds), one line per policy that did, so a report
/// says which burst cost what.
pub fn violation_spans(results: &[RunResult]) -> String {
    let mut out = String::new();
    for r in results.iter().filter(|r| !r.slo_violation_at.is_empty()) {
        let mut spans: Vec<(u32, u32)> = Vec::new();
        for &t in &r.slo_violation_at {
            match spans.last_mut() {
                Some((_, to)) if t <= *to + 1 => *to = t,
                _ => spans.push((t, t)),
            }
        }
        let mut listed: Vec<String> = spans
            .iter()
            .take(MAX_SPANS)
            .map(|(from, to)| format!("{from}-{to}"))
            .collect();
        if spans.len() > MAX_SPANS {
            listed.push(format!("and {} more", spans.len() - MAX_SPANS));
        }
        let _ = writeln!(
            out,
            "SLO violated, {} {}: {} s ({} s)",
            r.trace,
            r.policy,
            listed.join(", "),
            r.slo_violation_at.len()
        );
    }
    out
}

/// The results as CSV.
pub fn csv(results: &[RunResult]) -> String {
    let mut out = String::from(
        "trace,policy,worker_seconds,x_oracle,utilization,wait_p50_s,wait_p99_s,wait_max_s,slo_violation_s,actions,flaps,peak_backlog,completed,left_waiting,busy_stopped,redelivered,work_lost_s\n",
    );
    for r in results {
        let _ = writeln!(
            out,
            "{},{},{:.0},{},{:.4},{:.3},{:.3},{:.3},{},{},{},{},{},{},{},{},{:.1}",
            r.trace,
            r.policy,
            r.worker_seconds,
            x_oracle(results, r).map_or(String::new(), |x| format!("{x:.3}")),
            r.utilization,
            r.wait_p50_s,
            r.wait_p99_s,
            r.wait_max_s,
            r.slo_violation_s,
            r.actions,
            r.flaps,
            r.peak_backlog,
            r.completed,
            r.left_waiting,
            r.busy_stopped,
            r.redelivered,
            r.work_lost_s
        );
    }
    out
}

/// Writes `results.csv` and one `<trace>.svg` per trace into `dir`.
pub fn write(dir: &Path, results: &[RunResult]) -> Result<Vec<std::path::PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    let csv_path = dir.join("results.csv");
    std::fs::write(&csv_path, csv(results))
        .map_err(|e| format!("writing {}: {e}", csv_path.display()))?;
    written.push(csv_path);
    let mut traces: Vec<&str> = results.iter().map(|r| r.trace.as_str()).collect();
    traces.dedup();
    for trace in traces {
        // The figure keeps the textbook rows: a best swept setting
        // (`baseline@setting`) is in the table and the CSV.
        let runs: Vec<&RunResult> = results
            .iter()
            .filter(|r| r.trace == trace && !r.policy.contains('@'))
            .collect();
        let path = dir.join(format!("{trace}.svg"));
        plot(&path, trace, &runs).map_err(|e| format!("plotting {}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

type Series = fn(&super::run::Sample) -> f64;

fn plot(path: &Path, trace: &str, runs: &[&RunResult]) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (1000, 900)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(&format!("qscale simulation: {trace}"), ("sans-serif", 22))?;
    // One legend for all panels, in its own strip: it never covers data.
    let (strip, root) = root.split_vertically(30);
    for (i, r) in runs.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let x = 70 + 180 * i as i32;
        strip.draw(&PathElement::new(
            vec![(x, 15), (x + 24, 15)],
            color.stroke_width(3),
        ))?;
        strip.draw(&Text::new(
            r.policy.clone(),
            (x + 30, 8),
            ("sans-serif", 14).into_font(),
        ))?;
    }
    let panels = root.split_evenly((3, 1));
    let series: [(&str, Series); 3] = [
        ("backlog (messages)", |s| s.backlog as f64),
        ("workers paid", |s| s.workers as f64),
        ("oldest message age (s)", |s| s.oldest_age_s as f64),
    ];
    let end_h = runs
        .iter()
        .filter_map(|r| r.samples.last())
        .map(|s| s.t as f64 / 3600.0)
        .fold(0.01, f64::max);
    for (panel, (label, f)) in panels.iter().zip(series) {
        let top = runs
            .iter()
            .flat_map(|r| r.samples.iter().map(f))
            .fold(1.0, f64::max)
            * 1.05;
        let mut chart = ChartBuilder::on(panel)
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..end_h, 0.0..top)?;
        chart
            .configure_mesh()
            .x_desc("hours")
            .y_desc(label)
            .light_line_style(WHITE)
            .draw()?;
        for (i, r) in runs.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            chart.draw_series(LineSeries::new(
                r.samples.iter().map(|s| (s.t as f64 / 3600.0, f(s))),
                color.stroke_width(2),
            ))?;
        }
    }
    root.present()?;
    Ok(())
}

/// Baselines in sweep reports, in order.
const SWEPT: &[&str] = &["keda-hpa", "aws-target-tracking", "static"];

/// Each trace's frontiers beside qscale and the oracle, then the verdict line.
pub fn sweep_table(reports: &[SweepReport]) -> String {
    let mut out = String::new();
    for r in reports {
        let _ = writeln!(out, "{} (worker-hours, SLO-violation seconds):", r.trace);
        let _ = writeln!(
            out,
            "  {:<21} {:.2} h, {} s",
            "qscale (default)", r.qscale.worker_hours, r.qscale.slo_violation_s
        );
        if let Some(o) = &r.oracle {
            let _ = writeln!(
                out,
                "  {:<21} {:.2} h, {} s",
                "oracle", o.worker_hours, o.slo_violation_s
            );
        }
        for b in SWEPT {
            let front = sweep::frontier(&r.points, b)
                .iter()
                .map(|p| {
                    format!(
                        "{} {:.2} h {} s",
                        p.setting, p.worker_hours, p.slo_violation_s
                    )
                })
                .collect::<Vec<_>>()
                .join(" | ");
            let _ = writeln!(out, "  {:<21} {front}", format!("{b} frontier"));
        }
        let _ = writeln!(out, "{}", sweep::verdict(&r.trace, &r.points, &r.qscale));
    }
    out
}

/// Every swept point as CSV, with qscale's and the oracle's rows.
pub fn sweep_csv(reports: &[SweepReport]) -> String {
    let mut out = String::from(
        "trace,baseline,setting,worker_hours,slo_violation_s,on_frontier,dominates_qscale\n",
    );
    for r in reports {
        let fronts: Vec<&Point> = SWEPT
            .iter()
            .flat_map(|b| sweep::frontier(&r.points, b))
            .collect();
        let fixed = std::iter::once(&r.qscale).chain(r.oracle.as_ref());
        for p in fixed.chain(&r.points) {
            let _ = writeln!(
                out,
                "{},{},{},{:.3},{},{},{}",
                r.trace,
                p.baseline,
                p.setting,
                p.worker_hours,
                p.slo_violation_s,
                fronts.contains(&p),
                p.dominates(&r.qscale)
            );
        }
    }
    out
}

/// Writes `sweep.csv` and one `<trace>-pareto.svg` per trace into `dir`.
pub fn write_sweep(dir: &Path, reports: &[SweepReport]) -> Result<Vec<std::path::PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let csv_path = dir.join("sweep.csv");
    std::fs::write(&csv_path, sweep_csv(reports))
        .map_err(|e| format!("writing {}: {e}", csv_path.display()))?;
    let mut written = vec![csv_path];
    for r in reports {
        let path = dir.join(format!("{}-pareto.svg", r.trace));
        plot_pareto(&path, r).map_err(|e| format!("plotting {}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Worker-hours (x) against SLO-violation seconds (y): each baseline's swept
/// points with its frontier as a line, qscale and the oracle as marked points.
fn plot_pareto(path: &Path, r: &SweepReport) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (900, 650)).into_drawing_area();
    root.fill(&WHITE)?;
    let all = r
        .points
        .iter()
        .chain(Some(&r.qscale))
        .chain(r.oracle.as_ref());
    let (x_max, y_max) = all.fold((1.0f64, 1.0f64), |(x, y), p| {
        (x.max(p.worker_hours), y.max(p.slo_violation_s as f64))
    });
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{}: cost vs SLO violation, swept baselines", r.trace),
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        // Headroom above the highest point holds the legend (upper right),
        // so it never covers a point.
        .build_cartesian_2d(0.0..x_max * 1.08, 0.0..y_max * 1.7)?;
    chart
        .configure_mesh()
        .x_desc("worker-hours")
        .y_desc("SLO-violation seconds")
        .light_line_style(WHITE)
        .draw()?;
    for (i, b) in SWEPT.iter().enumerate() {
        let color = COLORS[(i + 1) % COLORS.len()];
        let front: Vec<(f64, f64)> = sweep::frontier(&r.points, b)
            .iter()
            .map(|p| (p.worker_hours, p.slo_violation_s as f64))
            .collect();
        chart
            .draw_series(LineSeries::new(front, color.stroke_width(2)))?
            .label(format!("{b} (frontier; dots: every setting)"))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
            });
        chart.draw_series(r.points.iter().filter(|p| p.baseline == *b).map(|p| {
            Circle::new(
                (p.worker_hours, p.slo_violation_s as f64),
                4,
                color.filled(),
            )
        }))?;
    }
    let marked = [(&r.qscale, COLORS[0], "qscale default")]
        .into_iter()
        .chain(r.oracle.as_ref().map(|o| (o, BLACK, "oracle")));
    for (p, color, name) in marked {
        let at = (p.worker_hours, p.slo_violation_s as f64);
        chart
            .draw_series(std::iter::once(Cross::new(at, 9, color.stroke_width(3))))?
            .label(name)
            .legend(move |(x, y)| Cross::new((x + 9, y), 6, color.stroke_width(3)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violating(policy: &str, at: Vec<u32>) -> RunResult {
        RunResult {
            trace: "on_off".into(),
            policy: policy.into(),
            worker_seconds: 3600.0,
            utilization: 0.5,
            wait_p50_s: 0.0,
            wait_p99_s: 0.0,
            wait_max_s: 0.0,
            slo_violation_s: at.len() as u64,
            slo_violation_at: at,
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
    fn violation_spans_join_consecutive_seconds_and_skip_clean_runs() {
        let rows = vec![
            violating("qscale", vec![10, 11, 12, 40, 90, 91]),
            violating("oracle", vec![]),
        ];
        assert_eq!(
            violation_spans(&rows),
            "SLO violated, on_off qscale: 10-12, 40-40, 90-91 s (6 s)\n"
        );
        let many = vec![violating("keda-hpa", (0..20).map(|k| k * 10).collect())];
        let line = violation_spans(&many);
        assert!(line.contains("110-110, and 8 more s (20 s)"), "{line}");
    }
}
