//! The real adapter on the real SDK clients, over the SDK's replay HTTP
//! client: what the wire tests of this crate share.

use std::sync::Arc;

use aws_sdk_ecs::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::test_util::StaticReplayClient;
use qscale_aws::{ApiCalls, AwsWorkers};

/// `AwsWorkers` whose ECS and Lambda clients send through these replay
/// clients (one holding no events fails any call made to it), in us-east-1.
pub fn replay_workers(
    ecs: &StaticReplayClient,
    lambda: &StaticReplayClient,
    calls: Arc<ApiCalls>,
) -> AwsWorkers {
    let credentials = || Credentials::new("test", "test", None, None, "replay");
    let ecs = aws_sdk_ecs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials())
        .http_client(ecs.clone())
        .build();
    let lambda = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(credentials())
        .http_client(lambda.clone())
        .build();
    AwsWorkers::new(
        aws_sdk_ecs::Client::from_conf(ecs),
        aws_sdk_lambda::Client::from_conf(lambda),
        calls,
    )
}
