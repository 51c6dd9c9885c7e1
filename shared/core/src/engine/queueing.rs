//! Queueing arithmetic for sizing by a latency SLO: Erlang C (M/M/c).
//!
//! With offered load `a = λ·s` Erlangs on `c` workers, the probability that
//! a message waits longer than `t` is `C(c, a)·e^(−(c−a)·t/s)`. Headroom
//! therefore grows like √a, not like a: big fleets run near full
//! utilization, small ones keep what they need. Exponential service makes
//! this pessimistic for the less variable service times of most workers.

/// P(wait > `t`) with `c` workers, offered load `a` Erlangs and mean service
/// time `s` seconds; 1 when the fleet cannot keep up (`c <= a`).
pub fn wait_exceeds(c: u32, a: f64, s: f64, t: f64) -> f64 {
    if (c as f64) <= a {
        return 1.0;
    }
    if a <= 0.0 {
        return 0.0;
    }
    // Erlang B by its stable recursion, then C from B.
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    let rho = a / c as f64;
    let erlang_c = b / (1.0 - rho * (1.0 - b));
    erlang_c * (-(c as f64 - a) * t / s).exp()
}

/// Fewest workers with P(wait > `wait_s`) at most `tail` (0 for no load).
pub fn workers_for_wait(a: f64, s: f64, wait_s: f64, tail: f64) -> u32 {
    if a <= 0.0 || !a.is_finite() {
        return 0;
    }
    let mut c = a.floor() as u32 + 1;
    while wait_exceeds(c, a, s, wait_s) > tail {
        c += 1;
    }
    c
}

/// Fewest workers that keep up with `load` busy workers (Erlangs) of `s`
/// seconds per message under `slo`: at most `100 − percentile` % of
/// messages wait longer than `slo.wait`.
pub fn workers_for_slo(load: f64, s: f64, slo: &crate::config::SloConfig) -> u32 {
    workers_for_wait(
        load,
        s,
        slo.wait.as_secs_f64(),
        1.0 - slo.percentile / 100.0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_c_matches_textbook_values() {
        // a = 2 Erlangs on 3 servers: C = 4/9 (standard worked example).
        let c = wait_exceeds(3, 2.0, 1.0, 0.0);
        assert!((c - 4.0 / 9.0).abs() < 1e-12, "{c}");
        assert_eq!(wait_exceeds(2, 2.0, 1.0, 0.0), 1.0, "saturated");
        assert_eq!(workers_for_wait(0.0, 0.2, 60.0, 0.01), 0);
    }

    #[test]
    fn big_fleets_run_near_full_utilization_small_ones_keep_headroom() {
        // 200 ms messages, 60 s SLO: 100 busy workers need almost no headroom.
        let big = workers_for_wait(100.0, 0.2, 60.0, 0.01);
        assert!((101..=102).contains(&big), "{big}");
        // A tight SLO at low load keeps headroom: 1 Erlang, 0.5 s SLO, 1 s work.
        assert!(workers_for_wait(1.0, 1.0, 0.5, 0.01) >= 3);
    }
}
