//! Arithmetic on timestamps that may come from outside the process (stored
//! state, registered events, observations): saturating at jiff's bounds
//! instead of panicking. A stored time at the end of the range then orders
//! as "never" or "always" and the decision still comes.

use jiff::{SignedDuration, Timestamp};

/// `t + d`, or the bound it would pass.
pub fn plus(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(if d.is_negative() {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// `t - d`, or the bound it would pass.
pub fn minus(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_sub(d).unwrap_or(if d.is_negative() {
        Timestamp::MAX
    } else {
        Timestamp::MIN
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saturates_at_the_bounds_and_is_exact_inside() {
        let hour = SignedDuration::from_hours(1);
        assert_eq!(plus(Timestamp::MAX, hour), Timestamp::MAX);
        assert_eq!(minus(Timestamp::MIN, hour), Timestamp::MIN);
        assert_eq!(plus(Timestamp::MIN, -hour), Timestamp::MIN);
        assert_eq!(minus(Timestamp::MAX, -hour), Timestamp::MAX);
        let t = Timestamp::UNIX_EPOCH;
        assert_eq!(plus(t, hour), t + hour);
        assert_eq!(minus(t, hour), t - hour);
    }
}
