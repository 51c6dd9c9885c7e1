//! tick: on the EventBridge schedule, reconcile every target (or fan out),
//! once per `tick_interval` slot of the schedule period.

use std::sync::Arc;

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use qscale_lambda::{init_logging, tick_invocation, Runtime};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let rt = Arc::new(Runtime::from_env().await?);
    run(service_fn(move |_: LambdaEvent<EventBridgeEvent>| {
        let rt = rt.clone();
        async move { tick_invocation(&rt).await }
    }))
    .await
}
