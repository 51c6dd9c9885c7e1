//! `qscale`: validate configs, decide and explain, simulate.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use clap::{Args, Parser, Subcommand};
use jiff::Timestamp;

use qscale::config::{Config, ConfigError};
use qscale::engine::{decide, Decision, TargetState};

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
    }
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
