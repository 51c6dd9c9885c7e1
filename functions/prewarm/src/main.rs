//! prewarm: EventBridge Scheduler payloads register a known event (a floor
//! with its lead time) in the target's state; replays change nothing.

#[tokio::main]
async fn main() -> Result<(), qscale_lambda::LambdaError> {
    qscale_lambda::serve(qscale_lambda::Function::Prewarm).await
}
