//! What the Lambda functions do, as library functions: each function crate
//! under `functions/` is `serve(Function::X)`: parse the event, call one
//! of these, report.
//! They run the same `reconcile` as the CLI and the simulator.

mod alarm;
mod evaluate;
mod events;
mod prewarm;
mod serve;
mod tick;

use std::time::Duration;

pub use alarm::{targets_for_alarm, AlarmStateChange};
pub use evaluate::{evaluate, ControlMessage, EvaluateResponse};
pub use events::{
    parse_control_message, parse_prewarm, parse_schedule, EvaluateEvent, ALARM_DETAIL_TYPE,
};
/// The error a function's `main` returns.
#[cfg(feature = "lambda")]
pub use lambda_runtime::Error as LambdaError;
pub use prewarm::prewarm;
pub use qscale_core::reconcile::register::{PrewarmPayload, PrewarmResult};
#[cfg(feature = "lambda")]
pub use serve::serve;
pub use serve::{Function, Response};
pub use tick::{slots, tick, tick_invocation, TickInvocation, TickSummary};

use qscale_aws::{AuditTargets, AwsClients, AwsSettings, ConfigSource, ConfigVersion};
use qscale_core::config::{Config, ConfigError};
use qscale_core::reconcile::{AuditEvent, AuditKind};
use qscale_live::run::MetricsMode;

/// Why a handler could not do its job (the invocation fails and is retried
/// or sent to a DLQ by AWS).
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// Configuration (environment or config file) is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// The event is not what this function accepts.
    #[error("event: {0}")]
    Event(String),
    /// A call to AWS or Kafka failed.
    #[error("{0}")]
    Port(#[from] qscale_core::reconcile::PortError),
}

impl HandlerError {
    /// Stable kind for Lambda's `errorType` (`qscale.Config`, `qscale.Event`, `qscale.Port`).
    pub fn kind(&self) -> &'static str {
        match self {
            HandlerError::Config(_) => "qscale.Config",
            HandlerError::Event(_) => "qscale.Event",
            HandlerError::Port(_) => "qscale.Port",
        }
    }
}

#[cfg(feature = "lambda")]
impl From<HandlerError> for lambda_runtime::Diagnostic {
    fn from(e: HandlerError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: e.kind().to_string(),
            error_message: e.to_string(),
        }
    }
}

/// Everything a function needs, built once per cold start and reused.
pub struct Runtime {
    /// The config.
    pub config: Config,
    /// AWS settings.
    pub settings: AwsSettings,
    /// SDK clients.
    pub clients: AwsClients,
    /// SQS control queue (fan-out and manual requests).
    pub control_queue: Option<String>,
    /// Above this many targets, tick fans out instead of reconciling itself.
    pub fanout_above: usize,
    /// Decide and audit only.
    pub dry_run: bool,
    /// Time tick may spend reconciling before it gives up (inside the function timeout).
    pub tick_budget: Duration,
    /// How often the schedule invokes tick; a shorter `tick_interval` runs
    /// several ticks inside one invocation.
    pub schedule_period: Duration,
    /// Where the config is re-read from between invocations, with the last
    /// version seen (valid or rejected).
    pub config_source: Option<(ConfigSource, ConfigVersion)>,
    /// When the source was last asked: it is asked at most once per
    /// `tick_interval`, however often the functions are invoked.
    pub config_checked_at: Option<jiff::Timestamp>,
    /// Which EMF metrics tick prints.
    pub metrics: MetricsMode,
    /// The deployment's cap on any target's `policy.max` ([`env::MAX_WORKERS`]):
    /// a config above it is refused at start and at every refresh.
    pub max_workers: Option<u32>,
}

/// What re-reading the config did.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigRefresh {
    /// No config source, or its version is the one seen last.
    Unchanged,
    /// The source was asked less than a tick ago: not asked again.
    NotDue,
    /// A new valid version now runs.
    Loaded(ConfigVersion),
    /// A new version does not validate: the last valid one keeps running,
    /// and the rejection is audited once.
    Rejected {
        /// The rejected version.
        version: ConfigVersion,
        /// Every validation error.
        error: String,
    },
    /// The source could not be read: the current config keeps running.
    Unreachable(String),
}

/// Names of the environment variables the functions read, and their defaults.
pub use qscale_live::env;

impl Runtime {
    /// A runtime over `config`, `settings` and `clients` with every other
    /// setting at its default: no control queue, no config source, the
    /// default fan-out threshold, tick budget and schedule period.
    pub fn new(config: Config, settings: AwsSettings, clients: AwsClients) -> Runtime {
        Runtime {
            config,
            settings,
            clients,
            control_queue: None,
            fanout_above: env::DEFAULT_FANOUT_ABOVE as usize,
            dry_run: false,
            tick_budget: Duration::from_secs(env::DEFAULT_TICK_BUDGET_SECONDS),
            schedule_period: Duration::from_secs(env::DEFAULT_SCHEDULE_PERIOD_SECONDS),
            config_source: None,
            config_checked_at: None,
            metrics: MetricsMode::default(),
            max_workers: None,
        }
    }

    /// From the environment (see [`env`]); every problem names the variable and value.
    pub async fn from_env() -> Result<Runtime, HandlerError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let max_workers = var(env::MAX_WORKERS)
            .map(|v| {
                v.trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        HandlerError::Config(format!(
                            "{}={v:?} is not a whole number above 0",
                            env::MAX_WORKERS
                        ))
                    })
            })
            .transpose()?;
        let endpoint = var(env::ENDPOINT_URL);
        let clients = AwsClients::from_env(endpoint.as_deref()).await;
        let source = var(env::CONFIG_SOURCE)
            .map(|s| {
                s.parse::<ConfigSource>()
                    .map_err(|e| HandlerError::Config(format!("{}: {e}", env::CONFIG_SOURCE)))
            })
            .transpose()?;
        let (config, config_source) = match (source, var(env::CONFIG_YAML), var(env::CONFIG_PATH)) {
            (Some(source), _, _) => {
                let (version, text) = source.fetch(&clients, None).await?;
                let config =
                    Config::from_yaml(text.as_deref().unwrap_or_default()).map_err(|e| {
                        HandlerError::Config(format!("{source} version {}: {e}", version.0))
                    })?;
                (config, Some((source, version)))
            }
            (None, Some(yaml), _) => (Config::from_yaml(&yaml).map_err(config_error)?, None),
            (None, None, Some(path)) => (
                Config::load(std::path::Path::new(&path)).map_err(config_error)?,
                None,
            ),
            (None, None, None) => {
                return Err(HandlerError::Config(format!(
                    "set {}, {} or {}",
                    env::CONFIG_SOURCE,
                    env::CONFIG_YAML,
                    env::CONFIG_PATH
                )))
            }
        };
        // Wherever the config came from, the deployment's ceiling holds.
        let config = within_ceiling(config, max_workers).map_err(config_error)?;
        let number = |name: &str, default: u64| -> Result<u64, HandlerError> {
            match var(name) {
                None => Ok(default),
                Some(v) => v.trim().parse().map_err(|_| {
                    HandlerError::Config(format!("{name}={v:?} is not a whole number"))
                }),
            }
        };
        let tick_budget = number(env::TICK_BUDGET_SECONDS, env::DEFAULT_TICK_BUDGET_SECONDS)?;
        let target_budget = number(
            env::TARGET_BUDGET_SECONDS,
            env::DEFAULT_TARGET_BUDGET_SECONDS,
        )?;
        let target_budget = checked_target_budget(target_budget, tick_budget)?;
        let dry_run = match var(env::DRY_RUN).as_deref().map(str::trim) {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") => true,
            Some(other) => {
                return Err(HandlerError::Config(format!(
                    "{}={other:?} is not true or false",
                    env::DRY_RUN
                )))
            }
        };
        Ok(Runtime {
            settings: AwsSettings {
                endpoint_url: endpoint,
                state_table: var(env::STATE_TABLE)
                    .unwrap_or_else(|| env::DEFAULT_STATE_TABLE.into()),
                audit: AuditTargets {
                    event_bus: var(env::AUDIT_BUS),
                    queue_url: var(env::AUDIT_QUEUE),
                },
                concurrency: number(env::CONCURRENCY, env::DEFAULT_CONCURRENCY)? as usize,
                target_budget,
            },
            config,
            clients,
            control_queue: var(env::CONTROL_QUEUE),
            fanout_above: number(env::FANOUT_ABOVE, env::DEFAULT_FANOUT_ABOVE)? as usize,
            dry_run,
            tick_budget: Duration::from_secs(tick_budget),
            schedule_period: Duration::from_secs(
                number(
                    env::SCHEDULE_PERIOD_SECONDS,
                    env::DEFAULT_SCHEDULE_PERIOD_SECONDS,
                )?
                .max(1),
            ),
            config_source,
            config_checked_at: None,
            max_workers,
            metrics: var(env::METRICS)
                .map(|m| {
                    m.parse()
                        .map_err(|e| HandlerError::Config(format!("{}: {e}", env::METRICS)))
                })
                .transpose()?
                .unwrap_or_default(),
        })
    }

    /// Re-reads the config from its source if its version changed. Called
    /// at the start of each invocation, it asks the source at most once per
    /// `tick_interval` (evaluate can be invoked many times a minute). A new
    /// version that does not validate is rejected, audited once, and the
    /// last valid config keeps running.
    pub async fn refresh_config(&mut self, now: jiff::Timestamp) -> ConfigRefresh {
        let Some((source, seen)) = &self.config_source else {
            return ConfigRefresh::Unchanged;
        };
        let interval = jiff::SignedDuration::try_from(self.config.tick_interval.0)
            .unwrap_or(jiff::SignedDuration::from_secs(60));
        if self
            .config_checked_at
            .is_some_and(|at| now >= at && now < at + interval)
        {
            return ConfigRefresh::NotDue;
        }
        self.config_checked_at = Some(now);
        let (version, text) = match source.fetch(&self.clients, Some(seen)).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(source = %source, error = %e, "config source unreadable; the current config keeps running");
                return ConfigRefresh::Unreachable(e.to_string());
            }
        };
        let Some(text) = text else {
            return ConfigRefresh::Unchanged;
        };
        let source = source.clone();
        self.config_source = Some((source.clone(), version.clone()));
        match Config::from_yaml(&text).and_then(|c| within_ceiling(c, self.max_workers)) {
            Ok(config) => {
                tracing::info!(source = %source, version = %version.0, targets = config.targets.len(), "config loaded");
                self.config = config;
                ConfigRefresh::Loaded(version)
            }
            Err(e) => {
                let error = format!(
                    "{source} version {} rejected, the last valid config keeps running: {e}",
                    version.0
                );
                tracing::error!(error = %error, "config rejected");
                let audit = qscale_aws::AwsAudit::new(
                    self.settings.audit.clone(),
                    self.clients.audit_sqs.clone(),
                    self.clients.eventbridge.clone(),
                    Default::default(),
                );
                let event = AuditEvent::failure_before_decision(
                    "(config)",
                    now,
                    AuditKind::ConfigError,
                    error.clone(),
                );
                qscale_core::reconcile::outbox::publish_unclaimed(&audit, &event).await;
                ConfigRefresh::Rejected { version, error }
            }
        }
    }

    /// The config restricted to some targets (same clusters and audit).
    pub fn config_for(&self, names: &[&str]) -> Config {
        Config {
            targets: self
                .config
                .targets
                .iter()
                .filter(|t| names.contains(&t.name.as_str()))
                .cloned()
                .collect(),
            ..self.config.clone()
        }
    }
}

/// The target budget, which must sit below the tick's: at or past it, one
/// hung target would time the whole tick out, every other report with it.
fn checked_target_budget(target_budget: u64, tick_budget: u64) -> Result<Duration, HandlerError> {
    if target_budget == 0 || target_budget >= tick_budget {
        return Err(HandlerError::Config(format!(
            "{}={target_budget} must be above 0 and below {}={tick_budget}",
            env::TARGET_BUDGET_SECONDS,
            env::TICK_BUDGET_SECONDS
        )));
    }
    Ok(Duration::from_secs(target_budget))
}

/// `config`, unless a target's `policy.max` is above the ceiling.
fn within_ceiling(config: Config, ceiling: Option<u32>) -> Result<Config, ConfigError> {
    let errors = ceiling.map(|c| config.above_ceiling(c)).unwrap_or_default();
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError::Invalid(errors))
    }
}

fn config_error(e: ConfigError) -> HandlerError {
    HandlerError::Config(e.to_string())
}

/// JSON logs for CloudWatch (level from `RUST_LOG`, default info).
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .without_time()
        .with_current_span(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_budget_must_sit_inside_the_tick_budget() {
        assert_eq!(
            checked_target_budget(40, 50).unwrap(),
            Duration::from_secs(40)
        );
        let e = checked_target_budget(50, 50).unwrap_err().to_string();
        assert_eq!(
            e,
            "configuration: QSCALE_TARGET_BUDGET_SECONDS=50 must be above 0 and below QSCALE_TICK_BUDGET_SECONDS=50"
        );
        assert!(checked_target_budget(0, 50).is_err());
    }
}
