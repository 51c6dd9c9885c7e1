//! The scaffolding the three functions share: logging, the runtime built once
//! per cold start, one invocation at a time, the config re-read (when due)
//! before each job. A function's `main` is `serve(Function::X)`.

use jiff::Timestamp;
use serde::Serialize;

use super::{
    evaluate, parse_prewarm, parse_schedule, prewarm, tick_invocation, EvaluateResponse,
    HandlerError, PrewarmResult, Runtime, TickInvocation,
};
use qscale_aws::DynamoStateStore;

/// Which of qscale's Lambda functions this process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// The schedule: reconcile every target (or fan out), per slot.
    Tick,
    /// Control-queue batches and alarm state changes.
    Evaluate,
    /// EventBridge Scheduler payloads registering a known event.
    Prewarm,
}

/// What a function answers (serialized as the inner value alone).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Response {
    /// From [`Function::Tick`].
    Tick(TickInvocation),
    /// From [`Function::Evaluate`].
    Evaluate(EvaluateResponse),
    /// From [`Function::Prewarm`].
    Prewarm(PrewarmResult),
}

impl Function {
    /// Handles one event: an event this function does not accept fails before
    /// anything else; then the config is re-read when due, then the job runs.
    pub async fn handle(
        self,
        rt: &mut Runtime,
        event: serde_json::Value,
        now: Timestamp,
    ) -> Result<Response, HandlerError> {
        match self {
            Function::Tick => {
                parse_schedule(event)?;
                rt.refresh_config(now).await;
                Ok(Response::Tick(tick_invocation(rt).await?))
            }
            Function::Evaluate => {
                rt.refresh_config(now).await;
                Ok(Response::Evaluate(evaluate(rt, event, now).await?))
            }
            Function::Prewarm => {
                let payload = parse_prewarm(event)?;
                rt.refresh_config(now).await;
                let store = DynamoStateStore::new(
                    rt.clients.dynamodb.clone(),
                    &rt.settings.state_table,
                    Default::default(),
                );
                Ok(Response::Prewarm(
                    prewarm(&rt.config, &store, payload, now).await?,
                ))
            }
        }
    }
}

/// Runs `function` under the Lambda runtime until the container stops.
#[cfg(feature = "lambda")]
pub async fn serve(function: Function) -> Result<(), lambda_runtime::Error> {
    use std::sync::Arc;

    super::init_logging();
    // One invocation at a time per container; the lock lets each one
    // re-read the config (if its version changed) before it works.
    let rt = Arc::new(tokio::sync::Mutex::new(Runtime::from_env().await?));
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| {
            let rt = rt.clone();
            async move {
                let mut rt = rt.lock().await;
                function
                    .handle(&mut rt, event.payload, Timestamp::now())
                    .await
            }
        },
    ))
    .await
}
