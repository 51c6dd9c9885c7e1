//! The environment variables the Lambdas and the `qscale` command read, and
//! their defaults: one place for both (the CLI names them in clap's `env =`).

/// Where to read (and re-read) the config: `ssm:NAME`, `ssm-path:/PATH/` or
/// `s3://BUCKET/KEY`. Takes precedence over the two below.
pub const CONFIG_SOURCE: &str = "QSCALE_CONFIG_SOURCE";
/// The config as YAML text (small configs; Lambda environments hold 4 KB).
pub const CONFIG_YAML: &str = "QSCALE_CONFIG_YAML";
/// Or a path to the config file (packaged with the function).
pub const CONFIG_PATH: &str = "QSCALE_CONFIG_PATH";
/// DynamoDB state table ([`DEFAULT_STATE_TABLE`]).
pub const STATE_TABLE: &str = "QSCALE_STATE_TABLE";
/// EventBridge bus for audit events.
pub const AUDIT_BUS: &str = "QSCALE_AUDIT_BUS";
/// SQS queue for audit events.
pub const AUDIT_QUEUE: &str = "QSCALE_AUDIT_QUEUE";
/// SQS control queue.
pub const CONTROL_QUEUE: &str = "QSCALE_CONTROL_QUEUE";
/// Fan-out threshold ([`DEFAULT_FANOUT_ABOVE`]).
pub const FANOUT_ABOVE: &str = "QSCALE_FANOUT_ABOVE";
/// `true` for dry runs.
pub const DRY_RUN: &str = "QSCALE_DRY_RUN";
/// Endpoint override (local emulators).
pub const ENDPOINT_URL: &str = "QSCALE_ENDPOINT_URL";
/// Targets reconciled at once ([`DEFAULT_CONCURRENCY`]).
pub const CONCURRENCY: &str = "QSCALE_CONCURRENCY";
/// Seconds one target's reconcile may take ([`DEFAULT_TARGET_BUDGET_SECONDS`]).
pub const TARGET_BUDGET_SECONDS: &str = "QSCALE_TARGET_BUDGET_SECONDS";
/// The most workers any one target may be given (`policy.max` above it
/// fails validation); unset, no ceiling.
pub const MAX_WORKERS: &str = "QSCALE_MAX_WORKERS";
/// Seconds tick may spend ([`DEFAULT_TICK_BUDGET_SECONDS`]).
pub const TICK_BUDGET_SECONDS: &str = "QSCALE_TICK_BUDGET_SECONDS";
/// EMF metrics: `per_target` (default), `all_targets` or `off`.
pub const METRICS: &str = "QSCALE_METRICS";
/// Seconds between scheduled tick invocations ([`DEFAULT_SCHEDULE_PERIOD_SECONDS`], the schedule's rate).
pub const SCHEDULE_PERIOD_SECONDS: &str = "QSCALE_SCHEDULE_PERIOD_SECONDS";

/// The state table when [`STATE_TABLE`] is not set.
pub const DEFAULT_STATE_TABLE: &str = "qscale-state";
/// Targets reconciled at once when [`CONCURRENCY`] is not set.
pub const DEFAULT_CONCURRENCY: u64 = 16;
/// Above this many targets tick fans out, when [`FANOUT_ABOVE`] is not set.
pub const DEFAULT_FANOUT_ABOVE: u64 = 50;
/// Seconds one target's reconcile may take, when [`TARGET_BUDGET_SECONDS`]
/// is not set: room for its sequential calls at the SDK's retries, and below
/// the tick's budget so the other targets' reports still come.
pub const DEFAULT_TARGET_BUDGET_SECONDS: u64 = 40;
/// Seconds tick may spend, when [`TICK_BUDGET_SECONDS`] is not set.
pub const DEFAULT_TICK_BUDGET_SECONDS: u64 = 50;
/// Seconds between scheduled invocations, when [`SCHEDULE_PERIOD_SECONDS`] is not set.
pub const DEFAULT_SCHEDULE_PERIOD_SECONDS: u64 = 60;
