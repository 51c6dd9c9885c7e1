//! `trace`: arrival-rate traces of real traffic, for `simulate --trace`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;

use qscale_sim::derive;

#[derive(Subcommand)]
pub(crate) enum TraceCommand {
    /// Rebuild a target's arrival rate per minute from its audit events (one
    /// JSON object per line: qscale's events, or EventBridge events holding
    /// them, in any order, duplicates allowed). Writes `t_seconds,rate` CSV.
    FromAudit {
        /// The audit events file.
        file: PathBuf,
        /// The target whose traffic to rebuild.
        #[arg(long)]
        target: String,
        /// Write the CSV here (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// The line `simulate --trace` reads the start time of a derived trace from.
pub(crate) const START_COMMENT: &str = "# start ";

pub(crate) fn trace(command: TraceCommand) -> Result<ExitCode> {
    match command {
        TraceCommand::FromAudit { file, target, out } => {
            let name = file.display().to_string();
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {name}"))?;
            let events = derive::read_audit_lines(&name, &text)?;
            let derived = derive::from_audit(&events, &target, 60)?;
            let csv = format!(
                "{START_COMMENT}{}\n{}",
                derived.start,
                derived.trace.to_csv()
            );
            eprintln!(
                "{target}: {:.2} h from {} ({} minutes on record; {} duplicate deliveries dropped; {} events without a rate)",
                derived.trace.duration_s() as f64 / 3600.0,
                derived.start,
                derived.points,
                derived.duplicates,
                derived.without_rate
            );
            match out {
                Some(path) => {
                    std::fs::write(&path, csv)
                        .with_context(|| format!("writing {}", path.display()))?;
                    eprintln!("wrote {}", path.display());
                }
                None => print!("{csv}"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
