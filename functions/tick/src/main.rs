//! tick: on the EventBridge schedule, reconcile every target (or fan out),
//! once per `tick_interval` slot of the schedule period.

use std::sync::Arc;

use tokio::sync::Mutex;

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use qscale_lambda::{init_logging, parse_schedule, tick_invocation, Runtime};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    // One invocation at a time per container; the lock lets each one
    // re-read the config (if its version changed) before it works.
    let rt = Arc::new(Mutex::new(Runtime::from_env().await?));
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let rt = rt.clone();
        async move {
            parse_schedule(event.payload)?;
            let mut rt = rt.lock().await;
            rt.refresh_config(jiff::Timestamp::now()).await;
            tick_invocation(&rt).await
        }
    }))
    .await
}
