//! prewarm: EventBridge Scheduler payloads register a known event (a floor
//! with its lead time) in the target's state; replays change nothing.

use std::sync::Arc;

use tokio::sync::Mutex;

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use qscale_aws::DynamoStateStore;
use qscale_lambda::{init_logging, parse_prewarm, prewarm, Runtime};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    // One invocation at a time per container; the lock lets each one
    // re-read the config (if its version changed) before it works.
    let rt = Arc::new(Mutex::new(Runtime::from_env().await?));
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let rt = rt.clone();
        async move {
            let payload = parse_prewarm(event.payload)?;
            let mut rt = rt.lock().await;
            rt.refresh_config(jiff::Timestamp::now()).await;
            let store = DynamoStateStore::new(
                rt.clients.dynamodb.clone(),
                &rt.settings.state_table,
                Default::default(),
            );
            prewarm(&rt.config, &store, payload).await
        }
    }))
    .await
}
