//! Workers: the thing whose count qscale sets.

use serde::{Deserialize, Serialize};

/// The worker fleet of a target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum WorkerConfig {
    /// An ECS service's desiredCount.
    Ecs(EcsWorker),
    /// A Lambda function's reserved concurrency.
    LambdaConcurrency(LambdaFunctionWorker),
    /// An SQS event-source mapping's `ScalingConfig.MaximumConcurrency` (2–1000).
    LambdaEventSourceMapping(EventSourceMappingWorker),
}

/// An ECS service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcsWorker {
    /// Cluster name or ARN.
    pub cluster: String,
    /// Service name or ARN.
    pub service: String,
}

/// A Lambda function.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LambdaFunctionWorker {
    /// Function name or ARN.
    pub function: String,
    /// At `policy.max`, remove the reservation (DeleteFunctionConcurrency) so
    /// the function may use the account's unreserved pool. Default false.
    #[serde(default)]
    pub unreserved_at_max: bool,
}

/// A Lambda event-source mapping.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSourceMappingWorker {
    /// The mapping's UUID.
    pub uuid: String,
}
