//! Provisioned concurrency for Lambda workers during pre-warm windows.
//!
//! Reserved concurrency (the count qscale sets) only caps a function: it
//! keeps no execution environment initialized, so a floor of 50 reserved
//! still meets the window's first burst with cold starts. During a schedule
//! or registered-event window (from `lead` before it), the floor is also set
//! as provisioned concurrency on the worker's alias or version, and removed
//! when the window ends. The state remembers what qscale set, so a
//! provisioned concurrency someone else configured is never removed.

use serde::{Deserialize, Serialize};

/// A change of the worker qualifier's provisioned concurrency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProvisionedChange {
    /// `PutProvisionedConcurrencyConfig` with `count` environments.
    Set {
        /// Environments to keep initialized.
        count: u32,
        /// The window that asks for them.
        reason: String,
    },
    /// `DeleteProvisionedConcurrencyConfig`: the window qscale set it for has ended.
    Remove {
        /// The count qscale had set (restored in the state if removing fails).
        count: u32,
        /// Why.
        reason: String,
    },
}

/// What the window asks for, against what the qualifier has and what qscale
/// set: the change to make (if any) and what qscale owns afterwards.
///
/// `wanted`: the active floor (and its source) when the worker has a
/// qualifier; `observed`: the qualifier's requested provisioned concurrency;
/// `owned`: the count qscale set and has not removed.
pub(crate) fn plan(
    wanted: Option<(u32, &str)>,
    observed: Option<u32>,
    owned: Option<u32>,
) -> (Option<ProvisionedChange>, Option<u32>) {
    match wanted {
        Some((count, _)) if observed == Some(count) => (None, owned),
        // Someone else keeps more warm than the window needs: leave theirs.
        Some((count, _)) if owned.is_none() && observed.is_some_and(|o| o > count) => (None, None),
        Some((count, source)) => (
            Some(ProvisionedChange::Set {
                count,
                reason: format!("{count} warm environments for {source}"),
            }),
            Some(count),
        ),
        None => match (owned, observed) {
            (Some(_), Some(count)) => (
                Some(ProvisionedChange::Remove {
                    count,
                    reason: "the pre-warm window qscale set it for has ended".into(),
                }),
                None,
            ),
            // Already gone, or never ours (left as its owner set it).
            _ => (None, None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: &str = "schedule \"open\"";

    #[test]
    fn a_window_sets_its_floor_once() {
        let (change, owned) = plan(Some((10, WINDOW)), None, None);
        assert!(matches!(
            change,
            Some(ProvisionedChange::Set { count: 10, .. })
        ));
        assert_eq!(owned, Some(10));
        // Next tick: the qualifier has it; nothing to do, still ours.
        assert_eq!(
            plan(Some((10, WINDOW)), Some(10), Some(10)),
            (None, Some(10))
        );
    }

    #[test]
    fn a_failed_or_changed_setting_is_set_again() {
        // The Put failed (or someone lowered it): observed differs, set again.
        let (change, owned) = plan(Some((10, WINDOW)), Some(4), Some(10));
        assert!(matches!(
            change,
            Some(ProvisionedChange::Set { count: 10, .. })
        ));
        assert_eq!(owned, Some(10));
        // A higher window replaces ours.
        let (change, _) = plan(Some((20, WINDOW)), Some(10), Some(10));
        assert!(matches!(
            change,
            Some(ProvisionedChange::Set { count: 20, .. })
        ));
    }

    #[test]
    fn the_end_of_the_window_removes_only_what_qscale_set() {
        let (change, owned) = plan(None, Some(10), Some(10));
        assert!(matches!(
            change,
            Some(ProvisionedChange::Remove { count: 10, .. })
        ));
        assert_eq!(owned, None);
        // Someone else's configuration outside any window: left alone.
        assert_eq!(plan(None, Some(10), None), (None, None));
        // Ours, already gone: forgotten.
        assert_eq!(plan(None, None, Some(10)), (None, None));
    }

    #[test]
    fn a_larger_configuration_of_someone_else_is_left_in_place() {
        assert_eq!(plan(Some((10, WINDOW)), Some(30), None), (None, None));
        // The same count someone else set: not ours, so not removed later.
        assert_eq!(plan(Some((10, WINDOW)), Some(10), None), (None, None));
        // A smaller one is raised to the window's floor, and then ours.
        let (change, owned) = plan(Some((10, WINDOW)), Some(3), None);
        assert!(matches!(
            change,
            Some(ProvisionedChange::Set { count: 10, .. })
        ));
        assert_eq!(owned, Some(10));
    }
}
