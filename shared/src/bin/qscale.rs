//! `qscale`: validate configs, decide and explain, simulate.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use clap::{Args, Parser, Subcommand};
use jiff::Timestamp;

use qscale::config::{Config, ConfigError};
use qscale::engine::{decide, Decision, TargetState};
use qscale::sim;

/// Queue-driven worker autoscaler.
#[derive(Parser)]
#[command(name = "qscale", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a config file; lists every error with its field path. Exit 1 on any.
    Validate {
        /// The YAML config.
        config: PathBuf,
    },
    /// Decide one target's worker count; prints the Decision as JSON.
    Decide(DecideArgs),
    /// Same inputs as `decide`; prints the chain from backlog to count for humans.
    Explain(DecideArgs),
    /// Simulate a trace under qscale and the baselines. With no arguments:
    /// the bundled demo (embedded config, flash-crowd trace).
    Simulate(SimulateArgs),
    /// One reconcile of every target against AWS (or an emulator); prints a summary.
    /// Exit 1 if any target failed (the others are still reconciled).
    Run(RunArgs),
    /// Per-target state in the state table.
    State {
        #[command(subcommand)]
        command: StateCommand,
    },
    /// Known events: floors registered ahead of time for pre-warming.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// Every bundled trace under every policy.
    Backtest {
        /// Write results.csv and one SVG per trace here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Seed of all randomness.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Args)]
struct AwsArgs {
    /// AWS endpoint override, e.g. a local moto server (http://127.0.0.1:5000).
    #[arg(long, env = "QSCALE_ENDPOINT_URL")]
    endpoint_url: Option<String>,
    /// DynamoDB table with per-target state (partition key `target`, string).
    #[arg(long, env = "QSCALE_STATE_TABLE", default_value = "qscale-state")]
    state_table: String,
}

#[derive(Args)]
struct RunArgs {
    /// Reconcile once and exit (required: qscale is driven by a schedule, not a loop).
    #[arg(long, required = true)]
    once: bool,
    /// The YAML config.
    #[arg(long)]
    config: PathBuf,
    #[command(flatten)]
    aws: AwsArgs,
    /// Decide and audit; change nothing (no state write, no scaling).
    #[arg(long)]
    dry_run: bool,
    /// EventBridge bus for audit events.
    #[arg(long, env = "QSCALE_AUDIT_BUS")]
    audit_bus: Option<String>,
    /// SQS queue URL for audit events.
    #[arg(long, env = "QSCALE_AUDIT_QUEUE")]
    audit_queue: Option<String>,
    /// Targets reconciled at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Also print CloudWatch Embedded Metric Format lines.
    #[arg(long)]
    emf: bool,
}

#[derive(Subcommand)]
enum StateCommand {
    /// Print a target's stored state and version as JSON.
    Show {
        /// Target name.
        target: String,
        #[command(flatten)]
        aws: AwsArgs,
    },
}

#[derive(Subcommand)]
enum EventsCommand {
    /// Register a known event: at least MIN workers from START (minus the lead) to END.
    /// Registering the same name again replaces it.
    Add {
        /// Target name.
        #[arg(long)]
        target: String,
        /// Start, RFC 3339.
        #[arg(long)]
        start: Timestamp,
        /// End, RFC 3339.
        #[arg(long)]
        end: Timestamp,
        /// Floor during the event.
        #[arg(long)]
        min: u32,
        /// Event name (default: derived from the start).
        #[arg(long)]
        name: Option<String>,
        /// Config to check the target and its max against.
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(flatten)]
        aws: AwsArgs,
    },
}

#[derive(Args)]
struct SimulateArgs {
    /// YAML config (default: the embedded demo config).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Target to simulate (default: the first, or the one the bundled trace uses).
    #[arg(long)]
    target: Option<String>,
    /// A bundled trace name or a CSV file `t_seconds,rate` (default: flash_crowd).
    #[arg(long, default_value = "flash_crowd")]
    trace: String,
    /// Policies to run, comma-separated: qscale, keda-hpa, aws-target-tracking, static-peak.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "qscale,keda-hpa,aws-target-tracking,static-peak"
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
}

#[derive(Args)]
struct DecideArgs {
    /// The YAML config.
    #[arg(long)]
    config: PathBuf,
    /// Target name.
    #[arg(long)]
    target: String,
    /// Observations JSON (worker and signal readings).
    #[arg(long)]
    observations: PathBuf,
    /// State JSON from a previous decision's `next_state` (default: empty).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Decision time, RFC 3339 (default: now).
    #[arg(long)]
    now: Option<Timestamp>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Validate { config } => Ok(validate(&config)),
        Command::Decide(args) => {
            let d = decide_from(&args)?;
            println!("{}", serde_json::to_string_pretty(&d)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain(args) => {
            let d = decide_from(&args)?;
            print!("{}", d.explain());
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate(args) => simulate(&args),
        Command::Run(args) => runtime()?.block_on(run_once(&args)),
        Command::State {
            command: StateCommand::Show { target, aws },
        } => runtime()?.block_on(state_show(&target, &aws)),
        Command::Events {
            command:
                EventsCommand::Add {
                    target,
                    start,
                    end,
                    min,
                    name,
                    config,
                    aws,
                },
        } => runtime()?.block_on(events_add(
            &target,
            start,
            end,
            min,
            name,
            config.as_deref(),
            &aws,
        )),
        Command::Backtest { out, seed } => backtest(out.as_deref(), seed),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

async fn run_once(args: &RunArgs) -> Result<ExitCode> {
    let config = Config::load(&args.config)
        .with_context(|| format!("config {} is not valid", args.config.display()))?;
    let clients = qscale::aws::AwsClients::from_env(args.aws.endpoint_url.as_deref()).await;
    let settings = qscale::aws::AwsSettings {
        endpoint_url: args.aws.endpoint_url.clone(),
        state_table: args.aws.state_table.clone(),
        audit: qscale::aws::AuditTargets {
            event_bus: args.audit_bus.clone(),
            queue_url: args.audit_queue.clone(),
        },
        concurrency: args.concurrency,
    };
    let now = Timestamp::now();
    let options = qscale::reconcile::ReconcileOptions {
        dry_run: args.dry_run,
    };
    let summary = qscale::aws::run::run_once(&config, &settings, &clients, now, options).await;
    if args.emf {
        for line in summary.emf_lines(now) {
            println!("{line}");
        }
    }
    print!("{}", summary.table());
    Ok(if summary.failures() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn state_show(target: &str, aws: &AwsArgs) -> Result<ExitCode> {
    use qscale::reconcile::StateStore;
    let clients = qscale::aws::AwsClients::from_env(aws.endpoint_url.as_deref()).await;
    let store =
        qscale::aws::DynamoStateStore::new(clients.dynamodb, &aws.state_table, Default::default());
    let v = store.load(target).await?;
    let out = serde_json::json!({ "target": target, "version": v.version, "state": v.state });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}

async fn events_add(
    target: &str,
    start: Timestamp,
    end: Timestamp,
    min: u32,
    name: Option<String>,
    config: Option<&std::path::Path>,
    aws: &AwsArgs,
) -> Result<ExitCode> {
    use qscale::handlers::{prewarm, register, PrewarmPayload};
    if end <= start {
        return Err(anyhow!("--end {end} must be after --start {start}"));
    }
    let clients = qscale::aws::AwsClients::from_env(aws.endpoint_url.as_deref()).await;
    let store =
        qscale::aws::DynamoStateStore::new(clients.dynamodb, &aws.state_table, Default::default());
    let payload = PrewarmPayload {
        target: target.to_string(),
        start,
        end,
        min,
        name,
    };
    // The same registration the prewarm Lambda does; with --config, checked against it.
    let result = match config {
        Some(path) => {
            let config = Config::load(path)
                .with_context(|| format!("config {} is not valid", path.display()))?;
            prewarm(&config, &store, payload)
                .await
                .map_err(|e| match e {
                    qscale::handlers::HandlerError::Event(m) => anyhow!("{m}"),
                    other => anyhow!(other),
                })?
        }
        None => {
            let event = qscale::engine::RegisteredEvent {
                name: payload.name.unwrap_or_else(|| format!("event-{start}")),
                start,
                end,
                min,
            };
            register(&store, target, event).await?
        }
    };
    println!(
        "registered {:?} on {target}: min {min} from {start} to {end} (state version {}{})",
        result.event.name,
        result.version,
        if result.changed {
            ""
        } else {
            ", already registered"
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn load_sim_config(path: Option<&std::path::Path>) -> Result<Config> {
    match path {
        Some(p) => Config::load(p).with_context(|| format!("config {} is not valid", p.display())),
        None => Config::from_yaml(sim::DEMO_CONFIG).context("embedded demo config"),
    }
}

fn simulate(args: &SimulateArgs) -> Result<ExitCode> {
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
            let trace = sim::Trace::from_csv(&args.trace, &text)?;
            (sim::SimSpec::new(trace, sim::QueueModel::Sqs), None)
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
    spec.seed = args.seed;
    spec.metric_read = match args.metric_source.as_str() {
        "cloudwatch" => sim::MetricRead::CloudWatchMinute,
        _ => sim::MetricRead::Live {
            delay_s: args.metric_delay,
        },
    };
    let results = sim::compare(&spec, &config, target, &args.policy).map_err(|e| anyhow!(e))?;
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
    if let Some(dir) = &args.out {
        for p in sim::report::write(dir, &results).map_err(|e| anyhow!(e))? {
            println!("wrote {}", p.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn backtest(out: Option<&std::path::Path>, seed: u64) -> Result<ExitCode> {
    let config = load_sim_config(None)?;
    let names: Vec<String> = sim::POLICIES.iter().map(|s| s.to_string()).collect();
    let mut all = Vec::new();
    for trace in sim::BUNDLED {
        let (mut spec, target) = sim::SimSpec::bundled(trace).expect("bundled");
        spec.seed = seed;
        let target = config.target(target).expect("demo target");
        all.extend(sim::compare(&spec, &config, target, &names).map_err(|e| anyhow!(e))?);
    }
    print!("{}", sim::report::table(&all));
    if let Some(dir) = out {
        for p in sim::report::write(dir, &all).map_err(|e| anyhow!(e))? {
            println!("wrote {}", p.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn validate(path: &std::path::Path) -> ExitCode {
    match Config::load(path) {
        Ok(c) => {
            println!("{}: ok, {} target(s)", path.display(), c.targets.len());
            ExitCode::SUCCESS
        }
        Err(ConfigError::Invalid(errors)) => {
            for e in &errors {
                println!("{e}");
            }
            println!("{}: {} error(s)", path.display(), errors.len());
            ExitCode::FAILURE
        }
        Err(e) => {
            println!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn decide_from(args: &DecideArgs) -> Result<Decision> {
    let config = Config::load(&args.config)
        .with_context(|| format!("config {} is not valid", args.config.display()))?;
    let target = config.target(&args.target).ok_or_else(|| {
        let names: Vec<_> = config.targets.iter().map(|t| t.name.as_str()).collect();
        anyhow!(
            "no target named {:?} in {} (targets: {names:?})",
            args.target,
            args.config.display()
        )
    })?;
    let observations = qscale::io::read_observations(&args.observations, target)?;
    let state = match &args.state {
        Some(p) => qscale::io::read_state(p)?,
        None => TargetState::default(),
    };
    // The clock is read here, at the edge; the engine only ever gets `now`.
    let now = args.now.unwrap_or_else(Timestamp::now);
    Ok(decide(target, &state, &observations, now))
}
