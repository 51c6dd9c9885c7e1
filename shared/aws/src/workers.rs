//! Worker fleets: ECS services (desiredCount) and Lambda concurrency
//! (reserved concurrency, or an SQS event-source mapping's MaximumConcurrency).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_lambda::types::ScalingConfig;

use super::{describe, error_code, task_protection, ApiCalls};
use qscale_core::config::{EcsWorker, TargetConfig, WorkerConfig};
use qscale_core::engine::WorkerObservation;
use qscale_core::reconcile::{PortError, WorkerActuator};

/// Lambda's error code for a qualifier without provisioned concurrency.
const NO_PROVISIONED_CONFIG: &str = "ProvisionedConcurrencyConfigNotFoundException";

/// AWS's range for `ScalingConfig.MaximumConcurrency`.
pub const ESM_MAX_CONCURRENCY: std::ops::RangeInclusive<u32> = 2..=1000;

type Cached = Result<WorkerObservation, PortError>;

/// ECS and Lambda workers. ECS services are described in batches of ten
/// per cluster by [`AwsWorkers::prefetch`]; each is then observed from that.
pub struct AwsWorkers {
    ecs: aws_sdk_ecs::Client,
    lambda: aws_sdk_lambda::Client,
    calls: Arc<ApiCalls>,
    described: Mutex<HashMap<(String, String), Cached>>,
}

impl AwsWorkers {
    /// Workers on these clients.
    pub fn new(
        ecs: aws_sdk_ecs::Client,
        lambda: aws_sdk_lambda::Client,
        calls: Arc<ApiCalls>,
    ) -> Self {
        AwsWorkers {
            ecs,
            lambda,
            calls,
            described: Mutex::new(HashMap::new()),
        }
    }

    /// Describes every ECS service of these targets, ten per call per cluster.
    pub async fn prefetch<'t>(&self, targets: impl IntoIterator<Item = &'t TargetConfig>) {
        let mut by_cluster: HashMap<&str, Vec<&str>> = HashMap::new();
        for t in targets {
            if let WorkerConfig::Ecs(e) = &t.worker {
                let sibling = e.spillover.as_ref().map(|s| (&s.cluster, &s.service));
                for (cluster, service) in std::iter::once((&e.cluster, &e.service)).chain(sibling) {
                    let services = by_cluster.entry(cluster.as_str()).or_default();
                    if !services.contains(&service.as_str()) {
                        services.push(service.as_str());
                    }
                }
            }
        }
        let batches = by_cluster.iter().flat_map(|(cluster, services)| {
            services
                .chunks(10)
                .map(move |chunk| (*cluster, chunk.to_vec()))
        });
        let results = futures::future::join_all(batches.map(|(cluster, chunk)| async move {
            (cluster, chunk.clone(), self.describe(cluster, &chunk).await)
        }))
        .await;
        let mut described = self.described.lock().unwrap();
        for (cluster, chunk, result) in results {
            match result {
                Ok(found) => described.extend(found),
                Err(e) => {
                    for s in chunk {
                        described.insert((cluster.to_string(), s.to_string()), Err(e.clone()));
                    }
                }
            }
        }
    }

    async fn describe(
        &self,
        cluster: &str,
        services: &[&str],
    ) -> Result<Vec<((String, String), Cached)>, PortError> {
        self.calls.count("ecs:DescribeServices");
        let out = self
            .ecs
            .describe_services()
            .cluster(cluster)
            .set_services(Some(services.iter().map(|s| s.to_string()).collect()))
            .send()
            .await
            .map_err(|e| PortError::new(format!("ecs cluster {cluster}"), describe(&e)))?;
        let mut found = Vec::new();
        for wanted in services {
            let key = (cluster.to_string(), wanted.to_string());
            let service = out
                .services()
                .iter()
                .find(|s| s.service_name() == Some(*wanted) || s.service_arn() == Some(*wanted));
            let resource = format!("ecs service {cluster}/{wanted}");
            let observed = match service {
                Some(s) if s.status() == Some("ACTIVE") => Ok(WorkerObservation {
                    desired: s.desired_count().max(0) as u32,
                    running: s.running_count().max(0) as u32,
                    pending: s.pending_count().max(0) as u32,
                    // The primary deployment reports IN_PROGRESS even when steady
                    // (moto does; so can ECS): more than one deployment is the signal.
                    deployment_in_progress: s.deployments().len() > 1,
                    provisioned: None,
                    protected: None,
                    spillover: None,
                }),
                Some(s) => Err(PortError::new(
                    resource,
                    format!("service is {}", s.status().unwrap_or("in an unknown state")),
                )),
                None => {
                    let reason = out
                        .failures()
                        .iter()
                        .find(|f| {
                            f.arn()
                                .is_some_and(|a| a.ends_with(&format!("/{wanted}")) || a == *wanted)
                        })
                        .and_then(|f| f.reason())
                        .unwrap_or("not found");
                    Err(PortError::new(
                        resource,
                        format!("does not exist ({reason})"),
                    ))
                }
            };
            found.push((key, observed));
        }
        Ok(found)
    }

    /// One ECS service, from the prefetched descriptions or described now.
    async fn service(&self, cluster: &str, service: &str) -> Cached {
        let key = (cluster.to_string(), service.to_string());
        let cached = self.described.lock().unwrap().remove(&key);
        match cached {
            Some(result) => result,
            None => {
                let found = self.describe(cluster, &[service]).await?;
                found.into_iter().next().map(|(_, r)| r).unwrap_or_else(|| {
                    Err(PortError::new(
                        format!("ecs service {cluster}/{service}"),
                        "not found",
                    ))
                })
            }
        }
    }

    /// Sets an ECS service's desiredCount, and nothing else of it.
    async fn update_service(
        &self,
        cluster: &str,
        service: &str,
        desired: u32,
    ) -> Result<(), PortError> {
        self.calls.count("ecs:UpdateService");
        self.ecs
            .update_service()
            .cluster(cluster)
            .service(service)
            .desired_count(desired.min(i32::MAX as u32) as i32)
            .send()
            .await
            .map(|_| ())
            .map_err(|err| {
                PortError::new(format!("ecs service {cluster}/{service}"), describe(&err))
            })
    }

    /// The provisioned concurrency requested on `function:qualifier`, none
    /// when it has no configuration.
    async fn provisioned(&self, function: &str, qualifier: &str) -> Result<Option<u32>, PortError> {
        let resource = format!("lambda function {function}:{qualifier}");
        self.calls.count("lambda:GetProvisionedConcurrencyConfig");
        match self
            .lambda
            .get_provisioned_concurrency_config()
            .function_name(function)
            .qualifier(qualifier)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .requested_provisioned_concurrent_executions()
                .map(|n| n.max(0) as u32)),
            Err(e) if error_code(&e) == Some(NO_PROVISIONED_CONFIG) => Ok(None),
            Err(e) => Err(lambda_error(&resource, &e)),
        }
    }
}

pub(crate) fn lambda_error<E>(
    resource: &str,
    e: &aws_sdk_lambda::error::SdkError<E, crate::HttpResponse>,
) -> PortError
where
    E: aws_sdk_lambda::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = match error_code(e) {
        Some("ResourceNotFoundException") => "does not exist".to_string(),
        Some("AccessDeniedException") => format!("access denied ({})", describe(e)),
        _ => describe(e),
    };
    PortError::new(resource.to_string(), message)
}

impl WorkerActuator for AwsWorkers {
    async fn observe(&self, target: &TargetConfig) -> Result<WorkerObservation, PortError> {
        match &target.worker {
            WorkerConfig::Ecs(e) => {
                let mut observed = self.service(&e.cluster, &e.service).await?;
                if let Some(sibling) = &e.spillover {
                    let found = self.service(&sibling.cluster, &sibling.service).await?;
                    observed.spillover = Some(found.desired);
                }
                if e.respect_task_protection {
                    observed.protected = Some(
                        task_protection::protected_tasks(
                            &self.ecs,
                            &self.calls,
                            &e.cluster,
                            &e.service,
                        )
                        .await?,
                    );
                }
                Ok(observed)
            }
            WorkerConfig::LambdaConcurrency(l) => {
                let resource = format!("lambda function {}", l.function);
                self.calls.count("lambda:GetFunctionConcurrency");
                let out = self
                    .lambda
                    .get_function_concurrency()
                    .function_name(&l.function)
                    .send()
                    .await
                    .map_err(|e| lambda_error(&resource, &e))?;
                // Unreserved means "all the account has": the top of our range.
                let n = out
                    .reserved_concurrent_executions()
                    .map_or(target.policy.max, |n| n.max(0) as u32);
                let provisioned = match l.qualifier.as_deref() {
                    Some(qualifier) => self.provisioned(&l.function, qualifier).await?,
                    None => None,
                };
                Ok(WorkerObservation {
                    desired: n,
                    running: n,
                    pending: 0,
                    deployment_in_progress: false,
                    provisioned,
                    protected: None,
                    spillover: None,
                })
            }
            WorkerConfig::LambdaEventSourceMapping(m) => {
                let resource = format!("lambda event-source mapping {}", m.uuid);
                self.calls.count("lambda:GetEventSourceMapping");
                let out = self
                    .lambda
                    .get_event_source_mapping()
                    .uuid(&m.uuid)
                    .send()
                    .await
                    .map_err(|e| lambda_error(&resource, &e))?;
                // No ScalingConfig: AWS's own ceiling applies.
                let n = out
                    .scaling_config()
                    .and_then(|c| c.maximum_concurrency())
                    .map_or(*ESM_MAX_CONCURRENCY.end(), |n| n.max(0) as u32);
                Ok(WorkerObservation {
                    desired: n,
                    running: n,
                    pending: 0,
                    deployment_in_progress: false,
                    provisioned: None,
                    protected: None,
                    spillover: None,
                })
            }
        }
    }

    async fn grow_partitions(
        &self,
        _target: &TargetConfig,
        request: &qscale_core::engine::PartitionRequest,
    ) -> Result<(), PortError> {
        // Kafka's adapter grows partitions (`qscale_live::LiveFleet`).
        Err(PortError::cannot_grow_partitions(request))
    }

    async fn set_spillover(&self, target: &TargetConfig, count: u32) -> Result<(), PortError> {
        match &target.worker {
            WorkerConfig::Ecs(EcsWorker {
                spillover: Some(sibling),
                ..
            }) => {
                self.update_service(&sibling.cluster, &sibling.service, count)
                    .await
            }
            _ => Err(PortError::new(
                target.name.clone(),
                "has no spillover service (worker.ecs.spillover)",
            )),
        }
    }

    async fn set_provisioned(
        &self,
        target: &TargetConfig,
        count: Option<u32>,
    ) -> Result<(), PortError> {
        let Some((function, qualifier)) = target.worker.provisioned_qualifier() else {
            return Err(PortError::new(
                target.name.clone(),
                "provisioned concurrency needs a lambda_concurrency worker with a qualifier",
            ));
        };
        let resource = format!("lambda function {function}:{qualifier}");
        match count {
            Some(n) => {
                self.calls.count("lambda:PutProvisionedConcurrencyConfig");
                self.lambda
                    .put_provisioned_concurrency_config()
                    .function_name(function)
                    .qualifier(qualifier)
                    .provisioned_concurrent_executions(n.min(i32::MAX as u32) as i32)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| lambda_error(&resource, &e))
            }
            None => {
                self.calls
                    .count("lambda:DeleteProvisionedConcurrencyConfig");
                match self
                    .lambda
                    .delete_provisioned_concurrency_config()
                    .function_name(function)
                    .qualifier(qualifier)
                    .send()
                    .await
                {
                    Ok(_) => Ok(()),
                    // Already gone: what removing wanted.
                    Err(e) if error_code(&e) == Some(NO_PROVISIONED_CONFIG) => Ok(()),
                    Err(e) => Err(lambda_error(&resource, &e)),
                }
            }
        }
    }

    async fn set_desired(&self, target: &TargetConfig, desired: u32) -> Result<(), PortError> {
        match &target.worker {
            WorkerConfig::Ecs(e) => self.update_service(&e.cluster, &e.service, desired).await,
            WorkerConfig::LambdaConcurrency(l)
                if l.unreserved_at_max && desired >= target.policy.max =>
            {
                let resource = format!("lambda function {}", l.function);
                self.calls.count("lambda:DeleteFunctionConcurrency");
                self.lambda
                    .delete_function_concurrency()
                    .function_name(&l.function)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| lambda_error(&resource, &e))
            }
            WorkerConfig::LambdaConcurrency(l) => {
                let resource = format!("lambda function {}", l.function);
                self.calls.count("lambda:PutFunctionConcurrency");
                self.lambda
                    .put_function_concurrency()
                    .function_name(&l.function)
                    .reserved_concurrent_executions(desired.min(i32::MAX as u32) as i32)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| lambda_error(&resource, &e))
            }
            WorkerConfig::LambdaEventSourceMapping(m) => {
                let resource = format!("lambda event-source mapping {}", m.uuid);
                // The engine already keeps ESM counts in range; clamp again at the edge.
                let n = desired.clamp(*ESM_MAX_CONCURRENCY.start(), *ESM_MAX_CONCURRENCY.end());
                self.calls.count("lambda:UpdateEventSourceMapping");
                self.lambda
                    .update_event_source_mapping()
                    .uuid(&m.uuid)
                    .scaling_config(
                        ScalingConfig::builder()
                            .maximum_concurrency(n as i32)
                            .build(),
                    )
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| lambda_error(&resource, &e))
            }
        }
    }
}
