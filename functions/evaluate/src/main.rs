//! evaluate: control-queue batches (with partial batch failures) and alarm
//! state changes reconcile the targets they name, between ticks.

#[tokio::main]
async fn main() -> Result<(), qscale_lambda::LambdaError> {
    qscale_lambda::serve(qscale_lambda::Function::Evaluate).await
}
