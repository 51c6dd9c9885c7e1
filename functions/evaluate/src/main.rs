//! evaluate: control-queue batches (with partial batch failures) and alarm
//! state changes reconcile the targets they name, between ticks.

use std::sync::Arc;

use tokio::sync::Mutex;

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use qscale_lambda::{evaluate, init_logging, Runtime};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    // One invocation at a time per container; the lock lets each one
    // re-read the config (if its version changed) before it works.
    let rt = Arc::new(Mutex::new(Runtime::from_env().await?));
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let rt = rt.clone();
        async move {
            let mut rt = rt.lock().await;
            let now = jiff::Timestamp::now();
            rt.refresh_config(now).await;
            evaluate(&rt, event.payload, now).await
        }
    }))
    .await
}
