//! The one YAML file that describes every scaling target.
//!
//! Loading parses each target separately so that `qscale validate` reports
//! every broken target, each error with its field path and the bad value.

mod account;
mod direction;
mod error;
pub mod limits;
mod load;
mod policy;
mod schedule;
pub mod schema;
mod signal;
mod target;
mod validate;
mod values;
mod worker;

pub use account::TargetAccess;
pub use direction::{DirectionConfig, RateLimitPolicy, RateLimits, SelectPolicy};
pub use error::FieldError;
pub use load::ConfigError;
pub use policy::{
    Aggregate, Fallback, ForecastConfig, ForecastMode, LatencyTarget, PolicyConfig, SloConfig,
    UntrustedDataConfig,
};
pub use schedule::ScheduleConfig;
pub use signal::{
    KafkaSignal, MissingOffsetPolicy, PartitionAssignor, PartitionCapMode, SignalConfig,
    SignalKind, SqsSignal,
};
pub use target::{
    Config, KafkaAuditConfig, KafkaClusterConfig, MskIamAuth, SecretSource, TargetConfig,
    KAFKA_PROPERTIES,
};
pub use values::{CronExpr, HumanDuration, StartupTime, ZoneName};
pub use worker::{
    function_name, EcsService, EcsWorker, EventSourceMappingWorker, LambdaFunctionWorker,
    WorkerConfig, WARM_QUALIFIER_REASON,
};

#[cfg(test)]
mod tests;
