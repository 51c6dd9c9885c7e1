//! `qscale`: validate configs, decide and explain, simulate and backtest; with
//! the default `cloud` feature also reconcile against AWS and Kafka (`run`),
//! read state and register events.

#[cfg(feature = "cloud")]
mod cloud;
mod decide;
mod io;
mod simulate;
mod trace;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

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
        /// Also ask the account (read-only calls): every resource exists,
        /// no other scaler drives a worker, no reserved concurrency throttles
        /// an SQS mapping, the stack grants what the config names.
        #[cfg(feature = "cloud")]
        #[command(flatten)]
        aws: cloud::CheckAwsArgs,
    },
    /// Print the config's JSON Schema, for editors (yaml-language-server):
    /// `qscale schema > qscale.schema.json`.
    Schema,
    /// Decide one target's worker count; prints the Decision as JSON.
    Decide(decide::DecideArgs),
    /// Same inputs as `decide`; prints the chain from backlog to count for humans.
    Explain(decide::DecideArgs),
    /// Simulate a trace under qscale and the baselines. With no arguments:
    /// the bundled demo (embedded config, flash-crowd trace).
    Simulate(simulate::SimulateArgs),
    /// Traces of your own traffic, for `simulate --trace`.
    Trace {
        #[command(subcommand)]
        command: trace::TraceCommand,
    },
    /// One reconcile of every target against AWS (or an emulator); prints a summary.
    /// Exit 1 if any target failed (the others are still reconciled).
    #[cfg(feature = "cloud")]
    Run(cloud::RunArgs),
    /// Per-target state in the state table.
    #[cfg(feature = "cloud")]
    State {
        #[command(subcommand)]
        command: cloud::StateCommand,
    },
    /// Known events: floors registered ahead of time for pre-warming.
    #[cfg(feature = "cloud")]
    Events {
        #[command(subcommand)]
        command: cloud::EventsCommand,
    },
    /// Pause a target until a time: no scale-in (`--in`), no scale-out
    /// (`--out`), no floors from schedules, events or the forecast
    /// (`--scheduled`), or all three (`--all`, the default).
    #[cfg(feature = "cloud")]
    Pause(cloud::PauseArgs),
    /// Every configured target's standing from the state table: counts,
    /// the last decision's binding terms, pauses and holds, events ahead,
    /// the forecast's period, what failed.
    #[cfg(feature = "cloud")]
    Status(cloud::StatusArgs),
    /// End a target's pause now.
    #[cfg(feature = "cloud")]
    Resume {
        /// Target name.
        target: String,
        #[command(flatten)]
        aws: cloud::AwsArgs,
    },
    /// The config the deployed functions read (SSM or S3).
    #[cfg(feature = "cloud")]
    Config {
        #[command(subcommand)]
        command: cloud::ConfigCommand,
    },
    /// Every bundled trace under every policy.
    Backtest {
        /// Write results.csv and one SVG per trace here.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Seed of all randomness.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also sweep each baseline's own knob and compare qscale with their
        /// Pareto frontiers (sweep.csv and <trace>-pareto.svg with --out).
        #[arg(long)]
        sweep: bool,
    },
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
        #[cfg(feature = "cloud")]
        Command::Validate { config, aws } => {
            let code = decide::validate(&config);
            if code != ExitCode::SUCCESS || !aws.check_aws {
                return Ok(code);
            }
            cloud::check_aws(&config, &aws)
        }
        #[cfg(not(feature = "cloud"))]
        Command::Validate { config } => Ok(decide::validate(&config)),
        Command::Schema => {
            let schema = qscale_core::config::schema::json_schema();
            println!("{}", serde_json::to_string_pretty(&schema)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Decide(args) => {
            let d = decide::decide_from(&args)?;
            println!("{}", serde_json::to_string_pretty(&d)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain(args) => {
            let d = decide::decide_from(&args)?;
            print!("{}", d.explain());
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate(args) => simulate::simulate(&args),
        Command::Trace { command } => trace::trace(command),
        #[cfg(feature = "cloud")]
        Command::Run(args) => cloud::run(&args),
        #[cfg(feature = "cloud")]
        Command::State { command } => cloud::state(command),
        #[cfg(feature = "cloud")]
        Command::Events { command } => cloud::events(command),
        #[cfg(feature = "cloud")]
        Command::Pause(args) => cloud::pause(&args),
        #[cfg(feature = "cloud")]
        Command::Status(args) => cloud::status(&args),
        #[cfg(feature = "cloud")]
        Command::Resume { target, aws } => cloud::resume(&target, &aws),
        #[cfg(feature = "cloud")]
        Command::Config { command } => cloud::config(command),
        Command::Backtest { out, seed, sweep } => simulate::backtest(out.as_deref(), seed, sweep),
    }
}
