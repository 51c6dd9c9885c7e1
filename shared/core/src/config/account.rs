//! Where a target's queues and workers are when they are not in qscale's own
//! account and region: a role to assume there (and its external ID), a region.

use serde::{Deserialize, Serialize};

/// How qscale reaches one target's AWS resources (`targets[].aws`). State
/// and audit stay in qscale's own account; only the target's queues, ECS
/// service or Lambda function are read and scaled through the role.
#[derive(
    Clone,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct TargetAccess {
    /// The IAM role to assume (`arn:aws:iam::ACCOUNT:role/NAME`); qscale's
    /// functions need `sts:AssumeRole` on it (template parameter
    /// `TargetRoleArns`), and it needs the target's read and scale permissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The external ID the role's trust policy asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The target's region (default: qscale's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

impl TargetAccess {
    /// The 12-digit account of `role_arn`.
    pub fn account_id(&self) -> Option<&str> {
        self.role_arn.as_deref()?.split(':').nth(4)
    }

    /// `role R in region G` for messages.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(role) = &self.role_arn {
            parts.push(format!("role {role}"));
        }
        if let Some(region) = &self.region {
            parts.push(format!("region {region}"));
        }
        parts.join(" in ")
    }

    /// Every problem, as (field under `aws`, message).
    pub(super) fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(role) = &self.role_arn {
            if !is_role_arn(role) {
                out.push((
                    "role_arn",
                    format!(
                        "{role:?} is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"
                    ),
                ));
            }
        }
        if let Some(id) = &self.external_id {
            if self.role_arn.is_none() {
                out.push((
                    "external_id",
                    "needs role_arn: it is sent when assuming it".into(),
                ));
            }
            // STS: 2 to 1224 characters of [\w+=,.@:/-].
            let valid_char = |c: char| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c);
            if !(2..=1224).contains(&id.len()) || !id.chars().all(valid_char) {
                out.push((
                    "external_id",
                    format!("{id:?} is not an external ID STS accepts (2 to 1224 of letters, digits and _+=,.@:/-)"),
                ));
            }
        }
        if let Some(region) = &self.region {
            if !is_region(region) {
                out.push((
                    "region",
                    format!("{region:?} is not an AWS region name (e.g. eu-west-1)"),
                ));
            }
        }
        if self == &TargetAccess::default() {
            out.push(("", "names neither role_arn nor region: remove it".into()));
        }
        out
    }
}

/// `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`.
fn is_role_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else {
        return false;
    };
    let name = resource.strip_prefix("role/").unwrap_or("");
    arn == "arn"
        && partition.starts_with("aws")
        && service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@/-".contains(c))
}

/// `xx-name-1`, `us-gov-west-1`.
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(role: Option<&str>, id: Option<&str>, region: Option<&str>) -> TargetAccess {
        TargetAccess {
            role_arn: role.map(String::from),
            external_id: id.map(String::from),
            region: region.map(String::from),
        }
    }

    #[test]
    fn a_role_and_region_are_accepted_and_name_their_account() {
        let a = access(
            Some("arn:aws:iam::222222222222:role/team/qscale-target"),
            Some("qscale-7"),
            Some("eu-west-1"),
        );
        assert!(a.problems().is_empty(), "{:?}", a.problems());
        assert_eq!(a.account_id(), Some("222222222222"));
        assert!(access(None, None, Some("us-gov-west-1"))
            .problems()
            .is_empty());
    }

    #[test]
    fn each_bad_value_is_named() {
        let cases = [
            (
                access(Some("arn:aws:iam::2222:role/x"), None, None),
                "role_arn",
            ),
            (
                access(Some("arn:aws:iam::222222222222:user/x"), None, None),
                "role_arn",
            ),
            (access(Some("qscale-target"), None, None), "role_arn"),
            (access(None, Some("abc"), Some("eu-west-1")), "external_id"),
            (
                access(Some("arn:aws:iam::222222222222:role/x"), Some("a b"), None),
                "external_id",
            ),
            (access(None, None, Some("EU-west-1")), "region"),
            (access(None, None, Some("eu-west")), "region"),
            (access(None, None, None), ""),
        ];
        for (a, field) in cases {
            let problems = a.problems();
            assert!(
                problems.iter().any(|(f, _)| *f == field),
                "{a:?}: {problems:?}"
            );
        }
    }
}
