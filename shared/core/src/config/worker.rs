//! Workers: the thing whose count qscale sets.

use serde::{Deserialize, Serialize};

/// The worker fleet of a target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum WorkerConfig {
    /// An ECS service's desiredCount.
    Ecs(EcsWorker),
    /// A Lambda function's reserved concurrency (and, during pre-warm
    /// windows, provisioned concurrency on its `qualifier`).
    LambdaConcurrency(LambdaFunctionWorker),
    /// An SQS event-source mapping's `ScalingConfig.MaximumConcurrency` (2–1000).
    LambdaEventSourceMapping(EventSourceMappingWorker),
}

/// An ECS service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EcsWorker {
    /// Cluster name or ARN.
    pub cluster: String,
    /// Service name or ARN.
    pub service: String,
    /// Read the service's task scale-in protection (ListTasks and
    /// GetTaskProtection each tick) and never ask a scale-in below the
    /// tasks that hold it. For workers that set protection while a message
    /// is in hand (docs/deploy.md has the recipe). Default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub respect_task_protection: bool,
    /// A sibling service (on-demand capacity beside Fargate Spot, say) that
    /// takes only this service's capacity shortfall: while tasks stay pending
    /// past start-up, it is set to their count; once they run, back to 0.
    /// Default none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spillover: Option<EcsService>,
}

/// An ECS service by cluster and name (or ARNs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EcsService {
    /// Cluster name or ARN.
    pub cluster: String,
    /// Service name or ARN.
    pub service: String,
}

impl EcsService {
    /// The cluster's and the service's names, as [`EcsWorker::names`].
    pub fn names(&self) -> (&str, &str) {
        (last_segment(&self.cluster), last_segment(&self.service))
    }
}

impl EcsWorker {
    /// The cluster's and the service's names, from names or ARNs
    /// (`arn:...:service/CLUSTER/NAME`): the last path segment of each.
    pub fn names(&self) -> (&str, &str) {
        (last_segment(&self.cluster), last_segment(&self.service))
    }
}

fn last_segment(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// A Lambda function's name, from its name or (possibly qualified) ARN.
pub fn function_name(function: &str) -> &str {
    match function.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => function,
    }
}

/// A Lambda function.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LambdaFunctionWorker {
    /// Function name or ARN.
    pub function: String,
    /// At `policy.max`, remove the reservation (DeleteFunctionConcurrency) so
    /// the function may use the account's unreserved pool. Default false.
    #[serde(default)]
    pub unreserved_at_max: bool,
    /// The alias or version that takes provisioned concurrency during
    /// pre-warm windows (schedules and registered events). Required when the
    /// target has any: reserved concurrency only caps a function, it keeps no
    /// environment initialized, and `$LATEST` cannot take provisioned
    /// concurrency. Default none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
}

/// Why a `lambda_concurrency` worker needs a qualifier for pre-warm windows.
pub const WARM_QUALIFIER_REASON: &str = "reserved concurrency keeps no environment warm, pre-warm windows set provisioned concurrency on an alias or published version ($LATEST cannot take it)";

impl WorkerConfig {
    /// Whether pre-warm windows (schedules, registered events) would keep
    /// nothing warm on this worker: a `lambda_concurrency` worker without a
    /// qualifier (see [`WARM_QUALIFIER_REASON`]).
    pub fn lacks_warm_qualifier(&self) -> bool {
        matches!(self, WorkerConfig::LambdaConcurrency(l) if l.qualifier.is_none())
    }

    /// The resource this worker sets, by name (an ARN and a name of the
    /// same resource are one identity): two targets must never share one.
    pub fn identity(&self) -> String {
        // Names and ARNs both name one resource: compare by the name.
        match self {
            WorkerConfig::Ecs(e) => {
                let (cluster, service) = e.names();
                format!("ecs service {cluster}/{service}")
            }
            WorkerConfig::LambdaConcurrency(l) => {
                format!("lambda function {}", function_name(&l.function))
            }
            WorkerConfig::LambdaEventSourceMapping(m) => format!("event-source mapping {}", m.uuid),
        }
    }

    /// The Lambda function and qualifier whose provisioned concurrency
    /// pre-warm windows set, when this worker has one.
    pub fn provisioned_qualifier(&self) -> Option<(&str, &str)> {
        match self {
            WorkerConfig::LambdaConcurrency(l) => {
                l.qualifier.as_deref().map(|q| (l.function.as_str(), q))
            }
            _ => None,
        }
    }
}

/// A Lambda event-source mapping.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventSourceMappingWorker {
    /// The mapping's UUID.
    pub uuid: String,
}
