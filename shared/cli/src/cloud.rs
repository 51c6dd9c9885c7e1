//! The commands that talk to AWS and Kafka (`run`, `state`, `events`, `config push`):
//! built with the default `cloud` feature only, so the demo build needs no SDK.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use clap::{Args, Subcommand};
use jiff::Timestamp;

use qscale_core::config::Config;

#[derive(Args)]
pub(crate) struct AwsArgs {
    /// AWS endpoint override, e.g. a local moto server (http://127.0.0.1:5000).
    #[arg(long, env = qscale_live::env::ENDPOINT_URL)]
    endpoint_url: Option<String>,
    /// DynamoDB table with per-target state (partition key `target`, string).
    #[arg(long, env = qscale_live::env::STATE_TABLE, default_value = qscale_live::env::DEFAULT_STATE_TABLE)]
    state_table: String,
}

#[derive(Args)]
pub(crate) struct RunArgs {
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
    #[arg(long, env = qscale_live::env::AUDIT_BUS)]
    audit_bus: Option<String>,
    /// SQS queue URL for audit events.
    #[arg(long, env = qscale_live::env::AUDIT_QUEUE)]
    audit_queue: Option<String>,
    /// Targets reconciled at once.
    #[arg(long, default_value_t = qscale_live::env::DEFAULT_CONCURRENCY as usize)]
    concurrency: usize,
    /// Seconds one target's reconcile may take before it is cancelled and
    /// reported failed (the others go on).
    #[arg(long, env = qscale_live::env::TARGET_BUDGET_SECONDS, default_value_t = qscale_live::env::DEFAULT_TARGET_BUDGET_SECONDS)]
    target_budget_seconds: u64,
    /// Also print CloudWatch Embedded Metric Format lines (before the output).
    #[arg(long)]
    emf: bool,
    /// `table` for people; `json` prints one JSON object per target and line
    /// (its reconcile report: target, outcome, decision, error), for scripts.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    output: String,
}

#[derive(Subcommand)]
pub(crate) enum StateCommand {
    /// Print a target's stored state and version as JSON.
    Show {
        /// Target name.
        target: String,
        #[command(flatten)]
        aws: AwsArgs,
    },
    /// Delete a target's state (for a state that no longer parses): its next
    /// reconcile starts afresh and scales in no sooner than one scale-in window.
    Reset {
        /// Target name.
        target: String,
        /// Confirm: the target's history (windows, cooldowns, events) is lost.
        #[arg(long)]
        yes: bool,
        #[command(flatten)]
        aws: AwsArgs,
    },
}

#[derive(Args)]
pub(crate) struct PauseArgs {
    /// Target name.
    target: String,
    /// When the pause ends by itself, RFC 3339 (at most 30 days ahead).
    #[arg(long)]
    until: Timestamp,
    /// No scale-in.
    #[arg(long = "in")]
    scale_in: bool,
    /// No scale-out.
    #[arg(long = "out")]
    scale_out: bool,
    /// No floors from schedules, registered events or the forecast.
    #[arg(long)]
    scheduled: bool,
    /// All three (the default when none is named).
    #[arg(long)]
    all: bool,
    /// Why: shown in decisions and audit events.
    #[arg(long)]
    reason: Option<String>,
    #[command(flatten)]
    aws: AwsArgs,
}

#[derive(Args)]
pub(crate) struct CheckAwsArgs {
    /// Ask the account, read-only.
    #[arg(long)]
    pub(crate) check_aws: bool,
    /// The deployed stack's parameters, to check the IAM grants against: the
    /// JSON `aws cloudformation describe-stacks --stack-name S --query
    /// 'Stacks[0].Parameters'` prints.
    #[arg(long, requires = "check_aws")]
    stack_parameters: Option<PathBuf>,
    /// AWS endpoint override, e.g. a local moto server.
    #[arg(long, env = qscale_live::env::ENDPOINT_URL, requires = "check_aws")]
    endpoint_url: Option<String>,
}

/// Runs `qscale validate --check-aws` on a config that validated: one line
/// per finding, exit 1 on any.
pub(crate) fn check_aws(path: &std::path::Path, args: &CheckAwsArgs) -> Result<ExitCode> {
    use qscale_aws::preflight::{check, StackParameters};
    let config =
        Config::load(path).with_context(|| format!("config {} is not valid", path.display()))?;
    let stack = match &args.stack_parameters {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            Some(
                StackParameters::from_json(&text)
                    .map_err(|e| anyhow!("--stack-parameters {}: {e}", file.display()))?,
            )
        }
        None => None,
    };
    runtime()?.block_on(async {
        let clients = qscale_aws::AwsClients::from_env(args.endpoint_url.as_deref()).await;
        let findings = check(&config, &clients, stack.as_ref()).await;
        for f in &findings {
            println!("{f}");
        }
        if findings.is_empty() {
            println!(
                "{}: the account agrees ({} target(s){})",
                path.display(),
                config.targets.len(),
                if stack.is_some() {
                    ", every resource granted by the stack"
                } else {
                    "; add --stack-parameters to check the IAM grants"
                }
            );
            Ok(ExitCode::SUCCESS)
        } else {
            println!(
                "{}: {} finding(s) in the account",
                path.display(),
                findings.len()
            );
            Ok(ExitCode::FAILURE)
        }
    })
}

#[derive(Args)]
pub(crate) struct StatusArgs {
    /// The YAML config: its targets, in its order.
    #[arg(long)]
    config: PathBuf,
    #[command(flatten)]
    aws: AwsArgs,
    /// `table` for people; `json` prints one JSON object per target and line.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    output: String,
}

#[derive(Subcommand)]
pub(crate) enum EventsCommand {
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

#[derive(Subcommand)]
pub(crate) enum ConfigCommand {
    /// Validate a config file, then write it where the functions read it
    /// (their QSCALE_CONFIG_SOURCE); they load it on their next invocation.
    /// An invalid file is not written.
    Push {
        /// The YAML config.
        file: PathBuf,
        /// `ssm:NAME`, `ssm-path:/PATH/` (configs above 8 KB, split by line) or `s3://BUCKET/KEY`.
        #[arg(long, env = qscale_live::env::CONFIG_SOURCE)]
        to: String,
        /// Encrypt at rest with KMS: SSM SecureString parameters, S3 SSE-KMS
        /// (a config may hold Kafka passwords).
        #[arg(long)]
        secure: bool,
        /// The KMS key for --secure (default: the AWS-managed key); the
        /// functions need kms:Decrypt on it (template parameter ConfigKmsKeyArn).
        #[arg(long, requires = "secure")]
        kms_key_id: Option<String>,
        /// AWS endpoint override, e.g. a local moto server.
        #[arg(long, env = qscale_live::env::ENDPOINT_URL)]
        endpoint_url: Option<String>,
    },
}

/// Runs `qscale config ...`.
pub(crate) fn config(command: ConfigCommand) -> Result<ExitCode> {
    let ConfigCommand::Push {
        file,
        to,
        secure,
        kms_key_id,
        endpoint_url,
    } = command;
    let encryption = if secure {
        qscale_aws::Encryption::Kms { key_id: kms_key_id }
    } else {
        qscale_aws::Encryption::Default
    };
    let source: qscale_aws::ConfigSource = to.parse().map_err(|e: String| anyhow!("--to: {e}"))?;
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    if let Err(e) = Config::from_yaml(&text) {
        eprintln!("{e}");
        eprintln!("{}: not written: the config is not valid", file.display());
        return Ok(ExitCode::FAILURE);
    }
    runtime()?.block_on(async {
        let clients = qscale_aws::AwsClients::from_env(endpoint_url.as_deref()).await;
        let version = source.push_with(&clients, &text, &encryption).await?;
        println!(
            "{} written to {source} (version {}); the functions load it on their next invocation",
            file.display(),
            version.0
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// Runs `qscale run`.
pub(crate) fn run(args: &RunArgs) -> Result<ExitCode> {
    runtime()?.block_on(run_once(args))
}

/// Runs `qscale state ...`.
pub(crate) fn state(command: StateCommand) -> Result<ExitCode> {
    match command {
        StateCommand::Show { target, aws } => runtime()?.block_on(state_show(&target, &aws)),
        StateCommand::Reset { target, yes, aws } => {
            if !yes {
                return Err(anyhow!(
                    "state reset deletes {target:?}'s history (windows, cooldowns, registered events): add --yes to confirm"
                ));
            }
            runtime()?.block_on(state_reset(&target, &aws))
        }
    }
}

/// Runs `qscale events ...`.
pub(crate) fn events(command: EventsCommand) -> Result<ExitCode> {
    match command {
        EventsCommand::Add {
            target,
            start,
            end,
            min,
            name,
            config,
            aws,
        } => runtime()?.block_on(events_add(
            &target,
            start,
            end,
            min,
            name,
            config.as_deref(),
            &aws,
        )),
    }
}

/// Runs `qscale pause`.
pub(crate) fn pause(args: &PauseArgs) -> Result<ExitCode> {
    use qscale_core::engine::PauseScope;
    use qscale_core::reconcile::pause::{pause, PauseRequest};
    let named = args.scale_in || args.scale_out || args.scheduled;
    let scope = if args.all || !named {
        PauseScope::ALL
    } else {
        PauseScope {
            scale_in: args.scale_in,
            scale_out: args.scale_out,
            scheduled: args.scheduled,
        }
    };
    let request = PauseRequest {
        scope,
        until: args.until,
        reason: args.reason.clone(),
    };
    let checked = request.checked(Timestamp::now())?;
    runtime()?.block_on(async {
        let store = state_store(&args.aws).await;
        let version = pause(&store, &args.target, checked).await?;
        println!(
            "paused {} on {} until {} (state version {version})",
            scope.names(),
            args.target,
            args.until
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// Runs `qscale status`: reads the state table only (one BatchGetItem per
/// 100 targets), so it is safe to run at any time.
pub(crate) fn status(args: &StatusArgs) -> Result<ExitCode> {
    use qscale_core::reconcile::status::{status, table};
    let config = Config::load(&args.config)
        .with_context(|| format!("config {} is not valid", args.config.display()))?;
    runtime()?.block_on(async {
        let store = state_store(&args.aws).await;
        let names: Vec<&str> = config.targets.iter().map(|t| t.name.as_str()).collect();
        store.prefetch(&names).await;
        let now = Timestamp::now();
        let rows = status(&config, &store, now).await;
        if args.output == "json" {
            for row in &rows {
                println!("{}", serde_json::to_string(row)?);
            }
        } else {
            print!("{}", table(&rows, now));
        }
        // Unreadable states are the command's failure (the rows still print).
        Ok(if rows.iter().any(|r| r.state_error.is_some()) {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        })
    })
}

/// Runs `qscale resume`.
pub(crate) fn resume(target: &str, aws: &AwsArgs) -> Result<ExitCode> {
    use qscale_core::reconcile::pause::resume;
    runtime()?.block_on(async {
        let store = state_store(aws).await;
        if resume(&store, target, Timestamp::now()).await? {
            println!("resumed {target}: its next reconcile decides freely");
        } else {
            println!("{target} was not paused");
        }
        Ok(ExitCode::SUCCESS)
    })
}

async fn state_store(aws: &AwsArgs) -> qscale_aws::DynamoStateStore {
    let clients = qscale_aws::AwsClients::from_env(aws.endpoint_url.as_deref()).await;
    qscale_aws::DynamoStateStore::new(clients.dynamodb, &aws.state_table, Default::default())
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

async fn run_once(args: &RunArgs) -> Result<ExitCode> {
    let config = Config::load(&args.config)
        .with_context(|| format!("config {} is not valid", args.config.display()))?;
    let clients = qscale_aws::AwsClients::from_env(args.aws.endpoint_url.as_deref()).await;
    let settings = qscale_aws::AwsSettings {
        endpoint_url: args.aws.endpoint_url.clone(),
        state_table: args.aws.state_table.clone(),
        audit: qscale_aws::AuditTargets {
            event_bus: args.audit_bus.clone(),
            queue_url: args.audit_queue.clone(),
        },
        concurrency: args.concurrency,
        target_budget: std::time::Duration::from_secs(args.target_budget_seconds),
    };
    let now = Timestamp::now();
    let options = qscale_core::reconcile::ReconcileOptions {
        dry_run: args.dry_run,
        ..Default::default()
    };
    let summary = qscale_live::run::run_once(&config, &settings, &clients, now, options).await;
    if args.emf {
        for line in summary.emf_lines(now, qscale_live::run::MetricsMode::PerTarget) {
            println!("{line}");
        }
    }
    if args.output == "json" {
        for run in &summary.reports {
            println!("{}", serde_json::to_string(&run.report)?);
        }
    } else {
        print!("{}", summary.table());
    }
    Ok(if summary.failures() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn state_reset(target: &str, aws: &AwsArgs) -> Result<ExitCode> {
    let clients = qscale_aws::AwsClients::from_env(aws.endpoint_url.as_deref()).await;
    let store =
        qscale_aws::DynamoStateStore::new(clients.dynamodb, &aws.state_table, Default::default());
    let existed = store.reset(target).await?;
    println!(
        "{}",
        if existed {
            format!("state of {target} deleted: its next reconcile starts afresh")
        } else {
            format!("{target} had no state: nothing deleted")
        }
    );
    Ok(ExitCode::SUCCESS)
}

async fn state_show(target: &str, aws: &AwsArgs) -> Result<ExitCode> {
    use qscale_core::reconcile::StateStore;
    let clients = qscale_aws::AwsClients::from_env(aws.endpoint_url.as_deref()).await;
    let store =
        qscale_aws::DynamoStateStore::new(clients.dynamodb, &aws.state_table, Default::default());
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
    use qscale_core::reconcile::register::{register, PrewarmPayload};
    let payload = PrewarmPayload {
        target: target.to_string(),
        start,
        end,
        min,
        name,
    };
    // The same registration the prewarm Lambda does; with --config, checked against it.
    let now = Timestamp::now();
    let event = match config {
        Some(path) => {
            let config = Config::load(path)
                .with_context(|| format!("config {} is not valid", path.display()))?;
            payload.checked_event(&config, now)?
        }
        None => payload.bounded_event(now)?,
    };
    let store = state_store(aws).await;
    let result = register(&store, target, event).await?;
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
