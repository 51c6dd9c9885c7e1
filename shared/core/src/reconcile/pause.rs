//! Pausing a target (`qscale pause`, `qscale resume`): the pause is written
//! into the target's state through the [`StateStore`] port, with the same
//! conditional write every reconcile claims with, so a rival reconcile
//! between the read and the write makes it read again. A pause always has
//! an expiry; a resume ends it at once. Decisions audit both (`rules::pause`).

use jiff::{SignedDuration, Timestamp};

use super::ports::StateStore;
use super::register::{update_state, RegisterError};
use crate::engine::{Pause, PauseScope};

/// The longest pause: an expiry is mandatory, and a forgotten one ends.
pub const MAX_PAUSE: SignedDuration = SignedDuration::from_hours(30 * 24);
/// The longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 256;

/// A pause as asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct PauseRequest {
    /// What to pause.
    pub scope: PauseScope,
    /// Its end.
    pub until: Timestamp,
    /// Why (shown in decisions and audit events).
    pub reason: Option<String>,
}

impl PauseRequest {
    /// The pause at `now`, or why not: something paused, an end after now
    /// and at most [`MAX_PAUSE`] ahead, a reason of at most
    /// [`MAX_REASON_CHARS`] characters.
    pub fn checked(&self, now: Timestamp) -> Result<Pause, RegisterError> {
        let invalid = |m: String| Err(RegisterError::Invalid(m));
        if self.scope == PauseScope::default() {
            return invalid("nothing to pause: name --in, --out, --scheduled or --all".into());
        }
        if self.until <= now {
            return invalid(format!("until {} must be after now ({now})", self.until));
        }
        if self.until.duration_since(now) > MAX_PAUSE {
            return invalid(format!(
                "until {} is more than {} days after now ({now})",
                self.until,
                MAX_PAUSE.as_hours() / 24
            ));
        }
        if let Some(chars) = self
            .reason
            .as_ref()
            .map(|r| r.chars().count())
            .filter(|n| *n > MAX_REASON_CHARS)
        {
            return invalid(format!(
                "reason of {chars} characters: at most {MAX_REASON_CHARS}"
            ));
        }
        Ok(Pause {
            scope: self.scope,
            since: now,
            until: self.until,
            reason: self.reason.clone(),
            resumed: false,
            noticed: false,
        })
    }
}

/// Pauses `target` (replacing a pause it had); returns the state version.
pub async fn pause<S: StateStore>(
    store: &S,
    target: &str,
    pause: Pause,
) -> Result<u64, RegisterError> {
    let (version, _) = update_state(store, target, |state| {
        state.pause = Some(pause.clone());
        Ok(true)
    })
    .await?;
    Ok(version)
}

/// Ends `target`'s pause at `now`; whether it had one in force.
pub async fn resume<S: StateStore>(
    store: &S,
    target: &str,
    now: Timestamp,
) -> Result<bool, RegisterError> {
    let (_, ended) = update_state(store, target, |state| {
        Ok(match state.pause.as_mut().filter(|p| p.active(now)) {
            Some(p) => {
                p.until = now;
                p.resumed = true;
                true
            }
            None => false,
        })
    })
    .await?;
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconcile::memory::{block_on_ready, MemoryStateStore};

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_pause_needs_a_scope_and_a_near_expiry() {
        let now = at("2030-01-01T00:00:00Z");
        let ask = |until: &str, scope| PauseRequest {
            scope,
            until: at(until),
            reason: None,
        };
        assert!(ask("2030-01-01T01:00:00Z", PauseScope::ALL)
            .checked(now)
            .is_ok());
        let refused = |r: PauseRequest| r.checked(now).unwrap_err().to_string();
        assert_eq!(
            refused(ask("2030-01-01T00:00:00Z", PauseScope::ALL)),
            "until 2030-01-01T00:00:00Z must be after now (2030-01-01T00:00:00Z)"
        );
        assert!(refused(ask("2030-03-01T00:00:00Z", PauseScope::ALL))
            .contains("more than 30 days after now"));
        assert!(refused(ask("2030-01-01T01:00:00Z", PauseScope::default()))
            .starts_with("nothing to pause"));
        let long = PauseRequest {
            reason: Some("x".repeat(257)),
            ..ask("2030-01-01T01:00:00Z", PauseScope::ALL)
        };
        assert_eq!(refused(long), "reason of 257 characters: at most 256");
    }

    #[test]
    fn a_pause_is_stored_and_a_resume_ends_it_once() {
        let store = MemoryStateStore::default();
        let now = at("2030-01-01T00:00:00Z");
        let p = PauseRequest {
            scope: PauseScope {
                scale_in: true,
                ..PauseScope::default()
            },
            until: at("2030-01-01T02:00:00Z"),
            reason: Some("producers down".into()),
        }
        .checked(now)
        .unwrap();
        block_on_ready(pause(&store, "t", p.clone())).unwrap();
        assert_eq!(store.get("t").unwrap().state.pause, Some(p));
        let later = at("2030-01-01T00:30:00Z");
        assert!(block_on_ready(resume(&store, "t", later)).unwrap());
        let stored = store.get("t").unwrap().state.pause.unwrap();
        assert_eq!((stored.until, stored.resumed), (later, true));
        assert!(
            !block_on_ready(resume(&store, "t", later)).unwrap(),
            "ended already"
        );
    }
}
