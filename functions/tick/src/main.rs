//! tick: on the EventBridge schedule, reconcile every target (or fan out),
//! once per `tick_interval` slot of the schedule period.

#[tokio::main]
async fn main() -> Result<(), qscale_lambda::LambdaError> {
    qscale_lambda::serve(qscale_lambda::Function::Tick).await
}
