//! `trace`: arrival-rate traces of real traffic, for `simulate --trace`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Subcommand;

use qscale_sim::derive;
use qscale_sim::trace_file;

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
    /// Rebuild an SQS queue's arrival rate from CloudWatch
    /// (`AWS/SQS NumberOfMessagesSent`, Sum per period): exact counts, with
    /// no processing time needed. Writes `t_seconds,rate` CSV.
    #[cfg(feature = "cloud")]
    FromCloudwatch {
        /// The queue's name.
        #[arg(long)]
        queue: String,
        /// From (RFC 3339, e.g. 2026-11-23T00:00:00Z).
        #[arg(long)]
        start: jiff::Timestamp,
        /// To (RFC 3339).
        #[arg(long)]
        end: jiff::Timestamp,
        /// Seconds per datapoint (SQS publishes per minute).
        #[arg(long, default_value_t = 60)]
        period: u32,
        /// Write the CSV here (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// AWS endpoint override, e.g. a local moto server.
        #[arg(long, env = qscale_live::env::ENDPOINT_URL)]
        endpoint_url: Option<String>,
    },
}

/// Prints what was derived and writes the CSV (with its start line).
fn write(derived: &derive::Derived, what: &str, out: Option<PathBuf>) -> Result<()> {
    let csv = trace_file::write(&derived.trace, Some(derived.start));
    eprintln!(
        "{what}: {:.2} h from {} ({} minutes on record; {} duplicate deliveries dropped; {} events without a rate)",
        derived.trace.duration_s() as f64 / 3600.0,
        derived.start,
        derived.points,
        derived.duplicates,
        derived.without_rate
    );
    match out {
        Some(path) => {
            std::fs::write(&path, csv).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{csv}"),
    }
    Ok(())
}

pub(crate) fn trace(command: TraceCommand) -> Result<ExitCode> {
    match command {
        TraceCommand::FromAudit { file, target, out } => {
            let name = file.display().to_string();
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {name}"))?;
            let events = derive::read_audit_lines(&name, &text)?;
            let derived = derive::from_audit(&events, &target, 60)?;
            write(&derived, &target, out)?;
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "cloud")]
        TraceCommand::FromCloudwatch {
            queue,
            start,
            end,
            period,
            out,
            endpoint_url,
        } => {
            if end <= start {
                anyhow::bail!("--end {end} is not after --start {start}");
            }
            let counts = crate::cloud::runtime()?.block_on(async {
                let clients = qscale_aws::AwsClients::from_env(endpoint_url.as_deref()).await;
                qscale_aws::sent_history::messages_sent(&clients, &queue, start, end, period).await
            })?;
            let derived = derive::from_period_counts(&queue, &counts, period)?;
            write(&derived, &queue, out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
