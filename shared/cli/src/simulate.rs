//! `simulate` and `backtest`: the simulator's commands.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use clap::Args;

use qscale_core::config::Config;
use qscale_sim as sim;

#[derive(Args)]
pub(crate) struct SimulateArgs {
    /// YAML config (default: the embedded demo config).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Target to simulate (default: the first, or the one the bundled trace uses).
    #[arg(long)]
    target: Option<String>,
    /// A bundled trace name or a CSV file `t_seconds,rate` (default: flash_crowd).
    #[arg(long, default_value = "flash_crowd")]
    trace: String,
    /// Policies to run, comma-separated: qscale, keda-hpa, aws-target-tracking, static-peak,
    /// oracle (the clairvoyant limit).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "qscale,keda-hpa,aws-target-tracking,static-peak,oracle"
    )]
    policy: Vec<String>,
    /// Seed of all randomness.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// qscale's metric read delay in seconds, for `--metric-source live`.
    #[arg(long, default_value_t = 0)]
    metric_delay: u32,
    /// qscale's metric source: `live` (the queue API) or `cloudwatch`
    /// (one-minute datapoints, a minute late).
    #[arg(long, default_value = "live", value_parser = ["live", "cloudwatch"])]
    metric_source: String,
    /// Write results.csv and an SVG figure here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also write qscale's audit events of the run here, one JSON object per
    /// line (what `qscale trace from-audit` reads).
    #[arg(long)]
    audit_out: Option<PathBuf>,
    /// Also run each baseline over a range of its own knob and compare
    /// qscale with their Pareto frontiers (needs `qscale` in --policy).
    #[arg(long)]
    sweep: bool,
}

/// Runs the sweep for each scenario, prints its frontiers and verdicts, and
/// writes sweep.csv and the scatter plots into `out`.
fn sweep(
    swept: Vec<(String, Vec<sim::sweep::Point>)>,
    results: &[sim::RunResult],
    out: Option<&std::path::Path>,
) -> Result<Vec<PathBuf>> {
    let reports = swept
        .into_iter()
        .map(|(trace, points)| {
            sim::sweep::SweepReport::of_points(&trace, points, results).ok_or_else(|| {
                anyhow!("--sweep compares the baselines with qscale: include qscale in --policy")
            })
        })
        .collect::<Result<Vec<_>>>()?;
    print!("{}", sim::report::sweep_table(&reports));
    let mut written = Vec::new();
    if let Some(dir) = out {
        for p in sim::report::write_sweep(dir, &reports).map_err(|e| anyhow!(e))? {
            println!("wrote {}", p.display());
            written.push(p);
        }
    }
    Ok(written)
}

/// Writes `index.html` beside the other outputs, inlining every SVG written.
fn write_index(
    dir: &std::path::Path,
    title: &str,
    seed: u64,
    config_yaml: &str,
    results: &[sim::RunResult],
    verdicts: &[String],
    written: &[PathBuf],
) -> Result<()> {
    let figures: Vec<PathBuf> = written
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .cloned()
        .collect();
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let page = sim::html::IndexPage {
        title,
        command: &command,
        seed,
        config_yaml,
        results,
        verdicts,
        figures: &figures,
    };
    let path = sim::html::write_index(dir, &page).map_err(|e| anyhow!(e))?;
    println!("wrote {}", path.display());
    Ok(())
}

fn config_text(path: Option<&std::path::Path>) -> Result<String> {
    match path {
        Some(p) => std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display())),
        None => Ok(sim::DEMO_CONFIG.to_string()),
    }
}

fn load_sim_config(path: Option<&std::path::Path>) -> Result<Config> {
    match path {
        Some(p) => Config::load(p).with_context(|| format!("config {} is not valid", p.display())),
        None => Config::from_yaml(sim::DEMO_CONFIG).context("embedded demo config"),
    }
}

pub(crate) fn simulate(args: &SimulateArgs) -> Result<ExitCode> {
    let config = load_sim_config(args.config.as_deref())?;
    let (mut spec, default_target) = match sim::SimSpec::bundled(&args.trace) {
        Some((spec, target)) => (spec, Some(target)),
        None => {
            let text = std::fs::read_to_string(&args.trace).with_context(|| {
                format!(
                    "trace {:?} is neither a bundled trace {:?} nor a readable CSV file",
                    args.trace,
                    sim::BUNDLED
                )
            })?;
            // Reports and plots are named by the file's stem, not its path.
            let stem = std::path::Path::new(&args.trace)
                .file_stem()
                .map_or_else(|| args.trace.clone(), |s| s.to_string_lossy().into_owned());
            let file = sim::trace_file::read(&stem, &text)
                .with_context(|| format!("trace file {}", args.trace))?;
            let mut spec = sim::SimSpec::new(file.trace, sim::QueueModel::Sqs);
            // A trace rebuilt from real traffic starts when that traffic did
            // (schedules and registered events depend on it).
            if let Some(start) = file.start {
                spec.start = start;
            }
            (spec, None)
        }
    };
    let target_name = args
        .target
        .as_deref()
        .or(default_target.filter(|t| config.target(t).is_some()))
        .unwrap_or(&config.targets[0].name);
    let target = config
        .target(target_name)
        .ok_or_else(|| anyhow!("no target named {target_name:?} in the config"))?;
    if default_target.is_none() || args.target.is_some() {
        spec.queue = sim::SimSpec::queue_for(target);
    }
    spec.fit_worker(target);
    spec.seed = args.seed;
    spec.metric_read = match args.metric_source.as_str() {
        "cloudwatch" => sim::MetricRead::CloudWatchMinute,
        _ => sim::MetricRead::Live {
            delay_s: args.metric_delay,
        },
    };
    let results = sim::compare(&spec, &config, target, &args.policy).map_err(|e| anyhow!(e))?;
    // Each baseline's best swept setting beside its textbook row.
    let (results, points) = sim::sweep::beside_best_settings(&spec, target, results);
    println!(
        "trace {} ({} h), target {}, seed {}, SLO {} s, {} ms messages, {} s start-up",
        spec.trace.name,
        spec.trace.duration_s() as f64 / 3600.0,
        target.name,
        spec.seed,
        spec.slo_s,
        spec.workers.service_mean_s * 1000.0,
        spec.workers.startup_s
    );
    print!("{}", sim::report::table(&results));
    print!("{}", sim::report::violation_spans(&results));
    print!("{}", sim::report::dead_lettered(&results));
    let verdicts: Vec<String> = sim::verdict::verdict(&spec.trace.name, &results)
        .into_iter()
        .collect();
    let mut written = Vec::new();
    if let Some(dir) = &args.out {
        for p in sim::report::write(dir, &results).map_err(|e| anyhow!(e))? {
            println!("wrote {}", p.display());
            written.push(p);
        }
    }
    if let Some(path) = &args.audit_out {
        // The same run again, keeping what qscale published (deterministic:
        // the same decisions as the row above).
        let interval = config.tick_interval.0.as_secs().max(1) as u32;
        let mut qscale =
            sim::Qscale::new("qscale", target.clone(), interval, spec.metric_read).keeping_audit();
        sim::simulate(&spec, &mut qscale);
        let mut lines = String::new();
        for event in qscale.audit_events() {
            lines += &serde_json::to_string(&event)?;
            lines.push('\n');
        }
        std::fs::write(path, lines).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    let seed = spec.seed;
    if args.sweep {
        let swept = vec![(spec.trace.name.clone(), points)];
        written.extend(sweep(swept, &results, args.out.as_deref())?);
    }
    if let Some(dir) = &args.out {
        let yaml = config_text(args.config.as_deref())?;
        write_index(
            dir,
            "qscale simulate",
            seed,
            &yaml,
            &results,
            &verdicts,
            &written,
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn backtest(
    out: Option<&std::path::Path>,
    seed: u64,
    with_sweep: bool,
) -> Result<ExitCode> {
    let config = load_sim_config(None)?;
    let names: Vec<String> = sim::policies::names();
    let mut all = Vec::new();
    let mut swept = Vec::new();
    for trace in sim::BUNDLED {
        let (mut spec, target) = sim::SimSpec::bundled(trace).expect("bundled");
        spec.seed = seed;
        let target = config.target(target).expect("demo target");
        spec.fit_worker(target);
        let results = sim::compare(&spec, &config, target, &names).map_err(|e| anyhow!(e))?;
        // Each baseline's best swept setting beside its textbook row.
        let (results, points) = sim::sweep::beside_best_settings(&spec, target, results);
        all.extend(results);
        swept.push((spec.trace.name.clone(), points));
    }
    print!("{}", sim::report::table(&all));
    print!("{}", sim::report::dead_lettered(&all));
    let verdicts: Vec<String> = sim::BUNDLED
        .iter()
        .filter_map(|trace| sim::verdict::verdict(trace, &all))
        .collect();
    for line in &verdicts {
        println!("{line}");
    }
    let mut written = Vec::new();
    if let Some(dir) = out {
        for p in sim::report::write(dir, &all).map_err(|e| anyhow!(e))? {
            println!("wrote {}", p.display());
            written.push(p);
        }
    }
    if with_sweep {
        written.extend(sweep(swept, &all, out)?);
    }
    if let Some(dir) = out {
        write_index(
            dir,
            "qscale backtest",
            seed,
            sim::DEMO_CONFIG,
            &all,
            &verdicts,
            &written,
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
