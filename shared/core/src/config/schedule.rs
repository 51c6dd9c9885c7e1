//! Pre-warm schedules: floors that recur on a cron schedule in a time zone.

use serde::{Deserialize, Serialize};

use super::values::{CronExpr, HumanDuration, ZoneName};

/// A recurring floor: from each cron occurrence (minus `lead`) for `duration`,
/// the target keeps at least `min` workers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// Name shown in reasons and audit events.
    pub name: String,
    /// When the window starts, in `timezone` wall-clock time.
    pub cron: CronExpr,
    /// IANA zone of the cron expression. Default UTC.
    #[serde(default)]
    pub timezone: ZoneName,
    /// How long the window lasts from each occurrence.
    pub duration: HumanDuration,
    /// The floor during the window.
    pub min: u32,
    /// How early the floor is applied, so workers are warm at the start.
    /// Default: the policy's `prewarm_lead`.
    #[serde(default)]
    pub lead: Option<HumanDuration>,
}
