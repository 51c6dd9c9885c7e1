//! tick: on the EventBridge schedule, reconcile every target (or fan out),
//! once per `tick_interval` slot of the schedule period.

use std::sync::Arc;

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use qscale_lambda::{init_logging, parse_schedule, tick_invocation, Runtime};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let rt = Arc::new(Runtime::from_env().await?);
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let rt = rt.clone();
        async move {
            parse_schedule(event.payload)?;
            tick_invocation(&rt).await
        }
    }))
    .await
}
