//! prewarm: EventBridge Scheduler payloads register a known event (a floor
//! with its lead time) in the target's state; replays change nothing.

use std::sync::Arc;

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use qscale_aws::DynamoStateStore;
use qscale_lambda::{init_logging, parse_prewarm, prewarm, Runtime};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let rt = Arc::new(Runtime::from_env().await?);
    run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let rt = rt.clone();
        async move {
            let payload = parse_prewarm(event.payload)?;
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
