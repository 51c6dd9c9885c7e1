//! `validate`, `decide` and `explain`: the engine on files, no I/O beyond reading them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use clap::Args;
use jiff::Timestamp;

use qscale_core::config::{Config, ConfigError};
use qscale_core::engine::{decide, Decision, TargetState};

#[derive(Args)]
pub(crate) struct DecideArgs {
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

pub(crate) fn validate(path: &std::path::Path) -> ExitCode {
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

pub(crate) fn decide_from(args: &DecideArgs) -> Result<Decision> {
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
    let observations = crate::io::read_observations(&args.observations, target)?;
    let state = match &args.state {
        Some(p) => crate::io::read_state(p)?,
        None => TargetState::default(),
    };
    // The clock is read here, at the edge; the engine only ever gets `now`.
    let now = args.now.unwrap_or_else(Timestamp::now);
    Ok(decide(target, &state, &observations, now))
}
