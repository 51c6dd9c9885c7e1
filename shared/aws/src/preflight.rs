//! `qscale validate --check-aws`: what the account says of a config before
//! its first tick, from read-only calls. Each finding names the config field
//! it is about: a queue, service, function or mapping that does not exist;
//! another scaler (Application Auto Scaling) on the same worker; reserved
//! concurrency on a function an SQS mapping triggers; a resource the
//! stack's IAM parameters do not grant.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use aws_sdk_sqs::types::QueueAttributeName;

use qscale_core::config::{
    function_name, Config, EcsWorker, SignalConfig, TargetConfig, WorkerConfig,
};

use crate::sqs::{dead_letter_arn, queue_error};
use crate::workers::lambda_error;
use crate::{describe, ApiCalls, AwsClients, SqsDepthSource};

/// One thing to fix, about one config field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The config field (`targets[0].worker.ecs.service`).
    pub path: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// The deployed stack's parameters, as `aws cloudformation describe-stacks
/// --query 'Stacks[0].Parameters'` prints them
/// (`[{"ParameterKey": "QueueArns", "ParameterValue": "arn:...,arn:..."}]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackParameters(BTreeMap<String, BTreeSet<String>>);

impl StackParameters {
    /// Reads the JSON list; an entry without key or value is an error naming it.
    pub fn from_json(text: &str) -> Result<StackParameters, String> {
        let list: Vec<serde_json::Value> = serde_json::from_str(text)
            .map_err(|e| format!("not a JSON list of {{ParameterKey, ParameterValue}}: {e}"))?;
        let mut out = BTreeMap::new();
        for (i, p) in list.iter().enumerate() {
            let key = p.get("ParameterKey").and_then(|v| v.as_str());
            let value = p.get("ParameterValue").and_then(|v| v.as_str());
            let (Some(key), Some(value)) = (key, value) else {
                return Err(format!(
                    "[{i}]: needs ParameterKey and ParameterValue strings"
                ));
            };
            let values = value
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect();
            out.insert(key.to_string(), values);
        }
        Ok(StackParameters(out))
    }

    fn grants(&self, parameter: &str, arn: &str) -> bool {
        self.0.get(parameter).is_some_and(|v| v.contains(arn))
    }
}

/// Every finding for `config`, targets in order. Each target is read with
/// its own account's clients (`targets[].aws`); a resource reached through
/// a role is granted by that role, so only the role is checked against the
/// stack.
pub async fn check(
    config: &Config,
    clients: &AwsClients,
    stack: Option<&StackParameters>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (i, target) in config.targets.iter().enumerate() {
        let at = format!("targets[{i}]");
        let own = clients.for_access(target.aws.as_ref()).await;
        let mut check = TargetCheck {
            at: &at,
            target,
            clients: &own,
            // A role's resources are granted by the role, not the stack.
            stack: stack.filter(|_| target.aws.as_ref().is_none_or(|a| a.role_arn.is_none())),
            findings: &mut findings,
        };
        check.signals().await;
        check.worker().await;
        if let (Some(stack), Some(role)) =
            (stack, target.aws.as_ref().and_then(|a| a.role_arn.as_ref()))
        {
            if !stack.grants("TargetRoleArns", role) {
                findings.push(Finding {
                    path: format!("{at}.aws.role_arn"),
                    message: format!("{role} is not in the stack's TargetRoleArns: the functions may not assume it"),
                });
            }
        }
    }
    findings
}

struct TargetCheck<'a> {
    at: &'a str,
    target: &'a TargetConfig,
    clients: &'a AwsClients,
    stack: Option<&'a StackParameters>,
    findings: &'a mut Vec<Finding>,
}

impl TargetCheck<'_> {
    fn push(&mut self, field: &str, message: String) {
        self.findings.push(Finding {
            path: format!("{}.{field}", self.at),
            message,
        });
    }

    /// `arn` must be in the stack's `parameter`.
    fn granted(&mut self, field: &str, parameter: &str, arn: &str, why: &str) {
        if let Some(stack) = self.stack {
            if !stack.grants(parameter, arn) {
                self.push(
                    field,
                    format!("{arn} is not in the stack's {parameter}: {why}"),
                );
            }
        }
    }

    async fn signals(&mut self) {
        let sqs = SqsDepthSource::new(self.clients.sqs.clone(), Arc::new(ApiCalls::default()));
        for (j, signal) in self.target.signals.iter().enumerate() {
            let SignalConfig::Sqs(s) = signal else {
                continue;
            };
            let field = format!("signals[{j}].sqs.queue");
            let url = match sqs.url(&s.queue).await {
                Ok(url) => url,
                Err(e) => {
                    self.push(&field, e.to_string());
                    continue;
                }
            };
            let answer = self
                .clients
                .sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(QueueAttributeName::QueueArn)
                .attribute_names(QueueAttributeName::RedrivePolicy)
                .send()
                .await;
            let attributes = match answer {
                Ok(out) => out.attributes().cloned().unwrap_or_default(),
                Err(e) => {
                    self.push(&field, format!("queue {}: {}", s.queue, queue_error(&e)));
                    continue;
                }
            };
            if let Some(arn) = attributes.get(&QueueAttributeName::QueueArn) {
                self.granted(&field, "QueueArns", arn, "the functions cannot read it");
            }
            let dead_letter = attributes
                .get(&QueueAttributeName::RedrivePolicy)
                .and_then(|p| dead_letter_arn(p).ok());
            if let Some(dlq) = dead_letter {
                self.granted(
                    &field,
                    "QueueArns",
                    &dlq,
                    "its dead-letter queue is unread, so the poison check sees nothing",
                );
            }
        }
    }

    async fn worker(&mut self) {
        match &self.target.worker {
            WorkerConfig::Ecs(e) => self.ecs(e).await,
            WorkerConfig::LambdaConcurrency(l) => {
                self.lambda_function(&l.function, l.qualifier.as_deref())
                    .await
            }
            WorkerConfig::LambdaEventSourceMapping(m) => self.mapping(&m.uuid).await,
        }
    }

    async fn ecs(&mut self, worker: &EcsWorker) {
        let (cluster, service) = (worker.cluster.as_str(), worker.service.as_str());
        let field = "worker.ecs.service";
        let out = match self
            .clients
            .ecs
            .describe_services()
            .cluster(cluster)
            .services(service)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => return self.push(field, format!("ecs cluster {cluster}: {}", describe(&e))),
        };
        let Some(found) = out.services().iter().find(|s| s.status() == Some("ACTIVE")) else {
            let reason = out
                .failures()
                .first()
                .and_then(|f| f.reason())
                .unwrap_or("not found");
            return self.push(
                field,
                format!("ecs service {cluster}/{service} does not exist ({reason})"),
            );
        };
        if let Some(arn) = found.service_arn() {
            for (field, parameter, arn, why) in ecs_grants(worker, arn) {
                self.granted(field, parameter, &arn, why);
            }
        }
        let (cluster_name, service_name) = worker.names();
        let resource = format!("service/{cluster_name}/{service_name}");
        self.other_scaler(ServiceNamespace::Ecs, "worker.ecs", |id| id == resource)
            .await;
    }

    async fn lambda_function(&mut self, function: &str, qualifier: Option<&str>) {
        let field = "worker.lambda_concurrency.function";
        let arn = match self
            .clients
            .lambda
            .get_function()
            .function_name(function)
            .send()
            .await
        {
            Ok(out) => out
                .configuration()
                .and_then(|c| c.function_arn())
                .map(|a| unqualified(a).to_string()),
            Err(e) => {
                let e = lambda_error(&format!("lambda function {function}"), &e);
                return self.push(field, e.to_string());
            }
        };
        if let Some(arn) = &arn {
            self.granted(
                field,
                "WorkerFunctionArns",
                arn,
                "the functions cannot set its reserved concurrency",
            );
            if let Some(q) = qualifier {
                self.granted(
                    "worker.lambda_concurrency.qualifier",
                    "WorkerAliasArns",
                    &format!("{arn}:{q}"),
                    "pre-warm windows cannot set its provisioned concurrency",
                );
            }
        }
        // qscale sets reserved concurrency: with an SQS mapping in front,
        // the messages it throttles go back to the queue and, after
        // maxReceiveCount receives, to the dead-letter queue.
        if let Ok(out) = self
            .clients
            .lambda
            .list_event_source_mappings()
            .function_name(function)
            .send()
            .await
        {
            for m in out.event_source_mappings() {
                let from_sqs = m.event_source_arn().is_some_and(|a| a.contains(":sqs:"));
                if let (true, Some(uuid)) = (from_sqs, m.uuid()) {
                    self.push(
                        "worker.lambda_concurrency",
                        format!(
                            "function {function} is triggered by SQS mapping {uuid} ({}): reserved concurrency throttles its messages, which return to the queue and reach the dead-letter queue after maxReceiveCount; scale the mapping's MaximumConcurrency instead (worker: {{ lambda_event_source_mapping: {{ uuid: {uuid} }} }})",
                            m.event_source_arn().unwrap_or_default()
                        ),
                    );
                }
            }
        }
        if let Some(q) = qualifier {
            let name = function_name(function);
            let resource = format!("function:{name}:{q}");
            self.other_scaler(
                ServiceNamespace::Lambda,
                "worker.lambda_concurrency",
                |id| id == resource,
            )
            .await;
        }
    }

    async fn mapping(&mut self, uuid: &str) {
        let field = "worker.lambda_event_source_mapping.uuid";
        let out = match self
            .clients
            .lambda
            .get_event_source_mapping()
            .uuid(uuid)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let e = lambda_error(&format!("event-source mapping {uuid}"), &e);
                return self.push(field, e.to_string());
            }
        };
        let Some(function) = out.function_arn().map(str::to_string) else {
            return;
        };
        if let Some(arn) = mapping_arn(out.event_source_mapping_arn(), &function, uuid) {
            self.granted(
                field,
                "EventSourceMappingArns",
                &arn,
                "the functions cannot set its MaximumConcurrency",
            );
        }
        let reserved = self
            .clients
            .lambda
            .get_function_concurrency()
            .function_name(unqualified(&function))
            .send()
            .await
            .ok()
            .and_then(|c| c.reserved_concurrent_executions());
        let max = self.target.policy.max;
        if let Some(n) = reserved.filter(|n| (*n as i64) < max as i64) {
            self.push(
                "worker.lambda_event_source_mapping",
                format!(
                    "function {} has reserved concurrency {n}, below policy.max {max}: above {n} the mapping's messages are throttled, return to the queue and reach the dead-letter queue after maxReceiveCount; remove the reservation or raise it to at least {max}",
                    function_name(&function)
                ),
            );
        }
    }

    /// Application Auto Scaling targets in `namespace` whose resource id
    /// matches: each is another scaler on this worker.
    async fn other_scaler(
        &mut self,
        namespace: ServiceNamespace,
        field: &str,
        matches: impl Fn(&str) -> bool,
    ) {
        let answer = self
            .clients
            .applicationautoscaling
            .describe_scalable_targets()
            .service_namespace(namespace)
            .send()
            .await;
        let out = match answer {
            Ok(out) => out,
            Err(e) => {
                return self.push(
                    field,
                    format!(
                    "could not ask Application Auto Scaling whether another scaler drives it: {}",
                    describe(&e)
                ),
                )
            }
        };
        for t in out.scalable_targets() {
            if matches(t.resource_id()) {
                self.push(
                    field,
                    format!(
                        "{} is also a scalable target of Application Auto Scaling ({}, min {}, max {}): it and qscale would both set the count; deregister it (aws application-autoscaling deregister-scalable-target) or remove this target",
                        t.resource_id(),
                        t.scalable_dimension().as_str(),
                        t.min_capacity(),
                        t.max_capacity()
                    ),
                );
            }
        }
    }
}

/// `arn:...:function:NAME` of a possibly qualified function ARN.
fn unqualified(arn: &str) -> &str {
    match arn.split_once(":function:") {
        Some((head, rest)) => match rest.find(':') {
            Some(i) => &arn[..head.len() + ":function:".len() + i],
            None => arn,
        },
        None => arn,
    }
}

/// The mapping's ARN as Lambda gives it, or built from its function's
/// region and account (older answers, and moto, leave it out).
fn mapping_arn(given: Option<&str>, function_arn: &str, uuid: &str) -> Option<String> {
    if let Some(arn) = given {
        return Some(arn.to_string());
    }
    let parts: Vec<&str> = function_arn.split(':').collect();
    (parts.len() >= 5 && parts[0] == "arn").then(|| {
        format!(
            "arn:{}:lambda:{}:{}:event-source-mapping:{uuid}",
            parts[1], parts[3], parts[4]
        )
    })
}

/// What the stack must grant for an ECS worker whose service ARN is
/// `service_arn` (`arn:...:service/CLUSTER/NAME`): the service, its
/// spillover sibling, and with `respect_task_protection` its cluster's task
/// listing and tasks. Each as (field, stack parameter, ARN, why).
fn ecs_grants(
    worker: &EcsWorker,
    service_arn: &str,
) -> Vec<(&'static str, &'static str, String, &'static str)> {
    let mut out = vec![(
        "worker.ecs.service",
        "EcsServiceArns",
        service_arn.to_string(),
        "the functions cannot describe or scale it",
    )];
    let Some((prefix, _)) = service_arn.split_once(":service/") else {
        return out;
    };
    if let Some(sibling) = &worker.spillover {
        let (cluster, service) = sibling.names();
        out.push((
            "worker.ecs.spillover",
            "EcsServiceArns",
            format!("{prefix}:service/{cluster}/{service}"),
            "the functions cannot describe or scale the spillover service",
        ));
    }
    if worker.respect_task_protection {
        let (cluster, _) = worker.names();
        out.push((
            "worker.ecs.respect_task_protection",
            "EcsProtectionClusterArns",
            format!("{prefix}:cluster/{cluster}"),
            "the functions cannot list its tasks",
        ));
        out.push((
            "worker.ecs.respect_task_protection",
            "EcsProtectedTaskArns",
            format!("{prefix}:task/{cluster}/*"),
            "the functions cannot read its tasks' protection",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ecs_worker_needs_its_sibling_and_its_protection_reads_granted() {
        let worker: EcsWorker = serde_json::from_str(
            r#"{"cluster": "prod", "service": "spot", "respect_task_protection": true, "spillover": {"cluster": "prod", "service": "on-demand"}}"#,
        )
        .unwrap();
        let arn = "arn:aws:ecs:us-east-1:123456789012:service/prod/spot";
        let grants: Vec<(&str, String)> = ecs_grants(&worker, arn)
            .into_iter()
            .map(|(_, parameter, arn, _)| (parameter, arn))
            .collect();
        assert_eq!(
            grants,
            [
                ("EcsServiceArns", arn.to_string()),
                (
                    "EcsServiceArns",
                    "arn:aws:ecs:us-east-1:123456789012:service/prod/on-demand".into()
                ),
                (
                    "EcsProtectionClusterArns",
                    "arn:aws:ecs:us-east-1:123456789012:cluster/prod".into()
                ),
                (
                    "EcsProtectedTaskArns",
                    "arn:aws:ecs:us-east-1:123456789012:task/prod/*".into()
                ),
            ]
        );
        let stack = StackParameters::from_json(
            r#"[{"ParameterKey": "EcsProtectedTaskArns", "ParameterValue": "arn:aws:ecs:us-east-1:123456789012:task/prod/*"}]"#,
        )
        .unwrap();
        assert!(stack.grants("EcsProtectedTaskArns", &grants[3].1));
        let plain: EcsWorker =
            serde_json::from_str(r#"{"cluster": "prod", "service": "spot"}"#).unwrap();
        assert_eq!(ecs_grants(&plain, arn).len(), 1);
    }

    #[test]
    fn stack_parameters_read_as_describe_stacks_prints_them() {
        let p = StackParameters::from_json(
            r#"[{"ParameterKey": "QueueArns", "ParameterValue": "arn:aws:sqs:us-east-1:1:a, arn:aws:sqs:us-east-1:1:b"},
                {"ParameterKey": "EcsServiceArns", "ParameterValue": ""}]"#,
        )
        .unwrap();
        assert!(p.grants("QueueArns", "arn:aws:sqs:us-east-1:1:b"));
        assert!(!p.grants("EcsServiceArns", "x"));
        assert!(!p.grants("WorkerFunctionArns", "x"));
        let e = StackParameters::from_json(r#"[{"ParameterKey": "QueueArns"}]"#).unwrap_err();
        assert!(
            e.starts_with("[0]: needs ParameterKey and ParameterValue"),
            "{e}"
        );
    }

    #[test]
    fn function_arns_lose_their_qualifier_and_mappings_get_an_arn() {
        let f = "arn:aws:lambda:eu-west-1:222222222222:function:handler:live";
        assert_eq!(
            unqualified(f),
            "arn:aws:lambda:eu-west-1:222222222222:function:handler"
        );
        assert_eq!(
            unqualified("arn:aws:lambda:eu-west-1:2:function:h"),
            "arn:aws:lambda:eu-west-1:2:function:h"
        );
        assert_eq!(function_name(f), "handler");
        assert_eq!(function_name("handler"), "handler");
        assert_eq!(
            mapping_arn(None, f, "u-1").unwrap(),
            "arn:aws:lambda:eu-west-1:222222222222:event-source-mapping:u-1"
        );
    }
}
