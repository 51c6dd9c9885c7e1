//! Clients for a target in another account or region (`targets[].aws`):
//! credentials from `sts:AssumeRole` on its role, built once per role and
//! region for the life of the process (a Lambda container) and refreshed by
//! the SDK's identity cache before they expire.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_config::sts::AssumeRoleProvider;
use aws_config::Region;
use aws_sdk_sqs::config::SharedCredentialsProvider;

use qscale_core::config::TargetAccess;

use crate::AwsClients;

/// The session name CloudTrail shows for qscale's calls in a target's account.
pub const ROLE_SESSION_NAME: &str = "qscale";

/// Clients per role and region, built on first use.
#[derive(Clone, Debug, Default)]
pub(crate) struct AssumedClients(Arc<Mutex<BTreeMap<TargetAccess, AwsClients>>>);

impl AwsClients {
    /// The clients a target's queues and workers are reached with: these
    /// for a target in qscale's own account and region, else clients on
    /// the target's role (assumed from these clients' credentials) and
    /// region. Cached: one set per role and region in the process. STS is
    /// only called when the first request needs credentials.
    pub async fn for_access(&self, access: Option<&TargetAccess>) -> AwsClients {
        let Some(access) = access else {
            return self.clone();
        };
        if let Some(clients) = self.assumed.0.lock().unwrap().get(access) {
            return clients.clone();
        }
        let mut config = self.sdk_config.to_builder();
        if let Some(role) = &access.role_arn {
            let mut provider = AssumeRoleProvider::builder(role.clone())
                .session_name(ROLE_SESSION_NAME)
                .configure(&self.sdk_config);
            if let Some(id) = &access.external_id {
                provider = provider.external_id(id.clone());
            }
            config =
                config.credentials_provider(SharedCredentialsProvider::new(provider.build().await));
        }
        if let Some(region) = &access.region {
            config = config.region(Region::new(region.clone()));
        }
        let mut clients = AwsClients::from_sdk_config(&config.build());
        // A role's clients never assume further from themselves.
        clients.assumed = AssumedClients::default();
        self.assumed
            .0
            .lock()
            .unwrap()
            .entry(access.clone())
            .or_insert(clients)
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_config::{BehaviorVersion, SdkConfig};
    use aws_sdk_sqs::config::Credentials;
    use aws_smithy_http_client::test_util::capture_request;

    /// The STS request a target's role is assumed with, taken off the wire
    /// (moto does not check external IDs).
    #[tokio::test]
    async fn the_role_is_assumed_with_its_external_id_and_the_target_region() {
        let (http, request) = capture_request(None);
        let home: SdkConfig = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::for_tests())
            .http_client(http)
            .load()
            .await;
        let clients = AwsClients::from_sdk_config(&home);
        let access = TargetAccess {
            role_arn: Some("arn:aws:iam::222222222222:role/qscale-target".into()),
            external_id: Some("qscale-7".into()),
            region: Some("eu-west-1".into()),
        };
        let remote = clients.for_access(Some(&access)).await;
        assert_eq!(
            remote.sqs.config().region().map(|r| r.as_ref()),
            Some("eu-west-1")
        );
        // The first call needing credentials assumes the role; the captured
        // answer is empty, so the call fails.
        let err = remote
            .sqs
            .get_queue_attributes()
            .queue_url("q")
            .send()
            .await
            .unwrap_err();
        let sts = request.expect_request();
        let body = std::str::from_utf8(sts.body().bytes().unwrap()).unwrap();
        for part in [
            "Action=AssumeRole",
            "RoleArn=arn%3Aaws%3Aiam%3A%3A222222222222%3Arole%2Fqscale-target",
            "ExternalId=qscale-7",
            "RoleSessionName=qscale",
        ] {
            assert!(body.contains(part), "{part} in {body}");
        }
        let message = crate::describe(&err);
        assert!(message.contains("credentials"), "{message}");
        // Cached: the same role and region get the same clients.
        let again = clients.for_access(Some(&access)).await;
        assert_eq!(clients.assumed.0.lock().unwrap().len(), 1);
        assert_eq!(again.sqs.config().region(), remote.sqs.config().region());
        // qscale's own account is served by its own clients.
        let home_again = clients.for_access(None).await;
        assert_eq!(
            home_again.sqs.config().region().map(|r| r.as_ref()),
            Some("us-east-1")
        );
    }
}
