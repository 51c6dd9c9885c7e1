//! One direction's behaviour (scale-out or scale-in): AWS cooldown, HPA
//! stabilization window, HPA rate limits and tolerance, with each direction's defaults,
//! and the partial blocks a config may write.

use serde::{Deserialize, Deserializer, Serialize};

use super::values::HumanDuration;

/// Cooldown, stabilization window and rate limits of one direction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectionConfig {
    /// After an action in this direction, how long before another (AWS semantics).
    pub cooldown: HumanDuration,
    /// HPA stabilization window: scale-in follows the max recommendation over
    /// it, scale-out the min.
    pub stabilization: HumanDuration,
    /// HPA rate-limit policies.
    pub rate_limits: RateLimits,
    /// HPA tolerance for this direction (KEP-4951): no change in it while
    /// the need is within this share of the current count. `None`: the
    /// policy's `tolerance`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
}

impl DirectionConfig {
    /// Scale-out defaults: 60s cooldown, no stabilization, and HPA's default
    /// rate (`100% or 4 pods per 15s`) compounded over qscale's one-minute
    /// tick: `1500% or 16 pods per 60s, select max`.
    pub fn default_scale_out() -> Self {
        DirectionConfig {
            cooldown: HumanDuration::secs(60),
            stabilization: HumanDuration::secs(0),
            tolerance: None,
            rate_limits: RateLimits {
                select: SelectPolicy::Max,
                policies: vec![
                    RateLimitPolicy::Percent {
                        value: 1500,
                        period: HumanDuration::secs(60),
                    },
                    RateLimitPolicy::Pods {
                        value: 16,
                        period: HumanDuration::secs(60),
                    },
                ],
            },
        }
    }

    /// The Kubernetes HPA's scale-up behaviour: no stabilization,
    /// `100% or 4 pods per 15s, select max`, no cooldown.
    pub fn hpa_scale_out() -> Self {
        DirectionConfig {
            cooldown: HumanDuration::secs(0),
            stabilization: HumanDuration::secs(0),
            tolerance: None,
            rate_limits: RateLimits {
                select: SelectPolicy::Max,
                policies: vec![
                    RateLimitPolicy::Percent {
                        value: 100,
                        period: HumanDuration::secs(15),
                    },
                    RateLimitPolicy::Pods {
                        value: 4,
                        period: HumanDuration::secs(15),
                    },
                ],
            },
        }
    }

    /// The Kubernetes HPA's scale-down behaviour: 300s stabilization,
    /// `100% per 15s`, no cooldown.
    pub fn hpa_scale_in() -> Self {
        DirectionConfig {
            cooldown: HumanDuration::secs(0),
            ..Self::default_scale_in()
        }
    }

    /// Scale-in defaults: 300s cooldown, 300s stabilization, HPA's default `100% per 15s`.
    pub fn default_scale_in() -> Self {
        DirectionConfig {
            cooldown: HumanDuration::secs(300),
            stabilization: HumanDuration::secs(300),
            tolerance: None,
            rate_limits: RateLimits {
                select: SelectPolicy::Max,
                policies: vec![RateLimitPolicy::Percent {
                    value: 100,
                    period: HumanDuration::secs(15),
                }],
            },
        }
    }
}

/// A direction block as written in a config: every field may be omitted and
/// then takes that direction's documented default (scale-out and scale-in
/// differ), down to the fields of `rate_limits`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct DirectionBlock {
    /// After an action in this direction, how long before another (AWS
    /// semantics). Default 60s out, 5m in.
    #[serde(default)]
    cooldown: Option<HumanDuration>,
    /// HPA stabilization window: scale-in follows the max recommendation
    /// over it, scale-out the min. Default 0s out, 5m in.
    #[serde(default)]
    stabilization: Option<HumanDuration>,
    /// HPA rate-limit policies; an omitted field keeps the direction's default.
    #[serde(default)]
    rate_limits: Option<RateLimitsBlock>,
    /// HPA tolerance for this direction (KEP-4951), 0 to below 1. Default:
    /// the policy's `tolerance`.
    #[serde(default)]
    tolerance: Option<f64>,
}

/// `rate_limits` as written: an omitted field keeps the direction's default.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RateLimitsBlock {
    /// `max`: the policy allowing the most change wins; `min`: the least;
    /// `disabled`: no change in this direction at all. Default max.
    #[serde(default)]
    select: Option<SelectPolicy>,
    /// The policies. Default: the direction's (see docs/config.md).
    #[serde(default)]
    policies: Option<Vec<RateLimitPolicy>>,
}

impl DirectionBlock {
    /// The block's fields over `defaults`.
    fn over(self, defaults: DirectionConfig) -> DirectionConfig {
        let limits = self
            .rate_limits
            .map_or(defaults.rate_limits.clone(), |r| RateLimits {
                select: r.select.unwrap_or(defaults.rate_limits.select),
                policies: r.policies.unwrap_or(defaults.rate_limits.policies),
            });
        DirectionConfig {
            cooldown: self.cooldown.unwrap_or(defaults.cooldown),
            stabilization: self.stabilization.unwrap_or(defaults.stabilization),
            rate_limits: limits,
            tolerance: self.tolerance.or(defaults.tolerance),
        }
    }
}

pub(super) fn scale_out_block<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<DirectionConfig, D::Error> {
    Ok(DirectionBlock::deserialize(d)?.over(DirectionConfig::default_scale_out()))
}

pub(super) fn scale_in_block<'de, D: Deserializer<'de>>(d: D) -> Result<DirectionConfig, D::Error> {
    Ok(DirectionBlock::deserialize(d)?.over(DirectionConfig::default_scale_in()))
}

/// A set of rate-limit policies and how to combine them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// `max`: the policy allowing the most change wins; `min`: the least;
    /// `disabled`: no change in this direction at all.
    #[serde(default)]
    pub select: SelectPolicy,
    /// The policies.
    #[serde(default)]
    pub policies: Vec<RateLimitPolicy>,
}

/// HPA `selectPolicy`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SelectPolicy {
    /// The policy allowing the most change.
    #[default]
    Max,
    /// The policy allowing the least change.
    Min,
    /// No scaling in this direction.
    Disabled,
}

/// One HPA scaling policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RateLimitPolicy {
    /// At most `value` workers per `period`.
    Pods {
        /// Workers.
        value: u32,
        /// Window.
        period: HumanDuration,
    },
    /// At most `value`% of the count at the period's start per `period`.
    Percent {
        /// Percent.
        value: u32,
        /// Window.
        period: HumanDuration,
    },
}

impl RateLimitPolicy {
    /// The policy's period.
    pub fn period(&self) -> HumanDuration {
        match self {
            RateLimitPolicy::Pods { period, .. } | RateLimitPolicy::Percent { period, .. } => {
                *period
            }
        }
    }
}
