//! evaluate: control-queue batches (with partial batch failures) and alarm
//! state changes reconcile the targets they name, between ticks.

use std::sync::Arc;

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use qscale_lambda::{evaluate, init_logging, Runtime};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let rt = Arc::new(Runtime::from_env().await?);
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let rt = rt.clone();
        async move { evaluate(&rt, event.payload, jiff::Timestamp::now()).await }
    }))
    .await
}
