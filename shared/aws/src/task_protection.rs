//! ECS task scale-in protection, read for workers with
//! `respect_task_protection`: the service's running tasks (`ListTasks`, 100
//! per page) and their protection (`GetTaskProtection`, 100 per call).

use super::{describe, ApiCalls};
use qscale_core::reconcile::PortError;

/// Tasks per `ListTasks` page and per `GetTaskProtection` call (both APIs' limit).
const PAGE: usize = 100;

/// How many of the service's running tasks hold scale-in protection. A task
/// the answer reports as a failure counts as protected: not knowing is not
/// leave to stop it.
pub(crate) async fn protected_tasks(
    ecs: &aws_sdk_ecs::Client,
    calls: &ApiCalls,
    cluster: &str,
    service: &str,
) -> Result<u32, PortError> {
    let resource = || format!("ecs service {cluster}/{service} (task protection)");
    let mut tasks = Vec::new();
    let mut next = None;
    loop {
        calls.count("ecs:ListTasks");
        let page = ecs
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .desired_status(aws_sdk_ecs::types::DesiredStatus::Running)
            .max_results(PAGE as i32)
            .set_next_token(next)
            .send()
            .await
            .map_err(|e| PortError::new(resource(), describe(&e)))?;
        tasks.extend(page.task_arns().iter().cloned());
        next = page.next_token().map(str::to_string);
        if next.is_none() {
            break;
        }
    }
    let mut protected = 0;
    for chunk in tasks.chunks(PAGE) {
        calls.count("ecs:GetTaskProtection");
        let out = ecs
            .get_task_protection()
            .cluster(cluster)
            .set_tasks(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| PortError::new(resource(), describe(&e)))?;
        protected += out
            .protected_tasks()
            .iter()
            .filter(|t| t.protection_enabled())
            .count()
            + out.failures().len();
    }
    Ok(protected as u32)
}
