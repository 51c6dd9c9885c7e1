//! The forecast's tests: periods found and lost, the outlook ahead, and its
//! rules (floor, scale-in window, cooldown lift) as `decide` runs them.
//! Just over 400 lines: the three parts' tests share the history builders
//! and the rule runners at the top.

use jiff::Timestamp;

use super::season::{find_period, MINUTE_SEASONS};
use super::*;
use crate::config::{ForecastMode, PolicyConfig};
use crate::engine::chain::Chain;
use crate::engine::load_history::HISTORY_HOURS;
use crate::engine::rules::{self, with_test_context};
use crate::engine::state::TargetState;

/// The forecast step as `decide` runs it: the outlook at `now`, then the
/// floor, then the period in use recorded.
fn apply_at(
    chain: &mut Chain,
    next: &mut TargetState,
    policy: &PolicyConfig,
    now: Timestamp,
) -> Option<String> {
    let o = outlook(&next.load_history, now, policy.forecast.lead.as_secs_f64());
    let change = with_test_context(policy, next, now, Some(&o), |ctx| {
        rules::forecast::floor(ctx, chain)
    })
    .expect("an outlook gives a period change");
    next.forecast_period = change.period;
    change.notice
}

/// The scale-in window's release as `decide` runs it, for a tick that wants `recommendation`.
fn release_scale_in_window(
    chain: &mut Chain,
    next: &TargetState,
    policy: &PolicyConfig,
    now: Timestamp,
    outlook: &Outlook,
    recommendation: u32,
) {
    chain.recommendation = Some(recommendation);
    with_test_context(policy, next, now, Some(outlook), |ctx| {
        rules::forecast::release_scale_in_window(ctx, chain)
    });
}

/// The scale-in cooldown's lift as `decide` runs it.
fn lift_scale_in_cooldown(
    chain: &mut Chain,
    next: &TargetState,
    policy: &PolicyConfig,
    now: Timestamp,
    outlook: &Outlook,
    cooldown_end: Timestamp,
) -> bool {
    with_test_context(policy, next, now, Some(outlook), |ctx| {
        rules::cooldown::lift_scale_in_cooldown(ctx, chain, cooldown_end)
    })
}

use crate::testing::{at_minute, load_history as history};

#[test]
fn a_quarter_hour_batch_is_found_after_two_periods_and_forecast_ahead() {
    // A burst of 60 busy workers in minute 3 of every 15, 2 otherwise.
    let load = |m: i64| if m % 15 == 3 { 60.0 } else { 2.0 };
    assert_eq!(
        outlook(&history(29, load), at_minute(29), 120.0),
        Outlook::NoPeriod,
        "fewer than two periods of history"
    );
    let h = history(31, load);
    // At minute 31 the next burst is minute 33: within a 2-minute lead.
    match outlook(&h, at_minute(31), 120.0) {
        Outlook::Forecast { period, load, .. } => {
            assert_eq!(period, 15);
            assert_eq!(load, 60.0);
        }
        other => panic!("{other:?}"),
    }
    // At minute 50 the next burst is 13 minutes away.
    let h = history(50, load);
    assert!(matches!(
        outlook(&h, at_minute(50), 120.0),
        Outlook::Forecast { load, .. } if load == 2.0
    ));
}

/// The state, time and outlook at `minute` of a history with 60 busy
/// workers in minute 3 of every 15 and 2 otherwise.
fn quarter_hour_bursts_at(minute: i64, policy: &PolicyConfig) -> (TargetState, Timestamp, Outlook) {
    let load = |m: i64| if m % 15 == 3 { 60.0 } else { 2.0 };
    let next = TargetState {
        load_history: history(minute, load),
        ..Default::default()
    };
    let now = at_minute(minute);
    let o = outlook(&next.load_history, now, policy.forecast.lead.as_secs_f64());
    (next, now, o)
}

/// The chain's first step is a forecast_only note that changed nothing.
fn assert_says_forecast_only(chain: &Chain) {
    let first = &chain.steps[0];
    assert!(
        first.detail.starts_with("forecast_only, not applied") && !first.binding,
        "{:?}",
        chain.steps
    );
}

#[test]
fn a_known_quiet_stretch_releases_the_scale_in_window() {
    let mut policy = PolicyConfig::with_target(0, 100, 10.0);
    policy.forecast.mode = ForecastMode::ForecastAndScale;
    let held_after_burst = |minute: i64, policy: &PolicyConfig| {
        let (next, now, o) = quarter_hour_bursts_at(minute, policy);
        // The scale-in window holds the burst's 60; this tick wants 3.
        let mut chain = Chain::new(60);
        release_scale_in_window(&mut chain, &next, policy, now, &o, 3);
        chain
    };
    // Two minutes after a burst: the next is 13 minutes away, beyond the
    // 5-minute window, so the window holds what this tick wants.
    let chain = held_after_burst(35, &policy);
    assert_eq!(chain.value, 3, "{:?}", chain.steps);
    assert!(
        chain.steps[0].detail.contains("15-minute period"),
        "{:?}",
        chain.steps
    );
    // Three minutes before one: the window keeps the fleet.
    assert_eq!(held_after_burst(45, &policy).value, 60);
    // Before two periods of history there is no period: nothing released.
    assert_eq!(held_after_burst(25, &policy).value, 60);
    // forecast_only says what it would do and changes nothing.
    policy.forecast.mode = ForecastMode::ForecastOnly;
    let chain = held_after_burst(35, &policy);
    assert_eq!(chain.value, 60);
    assert_says_forecast_only(&chain);
}

#[test]
fn a_known_quiet_stretch_lifts_the_scale_in_cooldown() {
    let mut policy = PolicyConfig::with_target(0, 100, 10.0);
    policy.forecast.mode = ForecastMode::ForecastAndScale;
    // A scale-in to 3 at `minute`, the cooldown running until `end`.
    let lift = |minute: i64, end: i64, policy: &PolicyConfig| {
        let (next, now, o) = quarter_hour_bursts_at(minute, policy);
        let mut chain = Chain::new(3);
        let lifted = lift_scale_in_cooldown(&mut chain, &next, policy, now, &o, at_minute(end));
        (lifted, chain)
    };
    // One minute after a burst, the next 14 minutes away: lifted.
    let (lifted, chain) = lift(34, 38, &policy);
    assert!(lifted, "{:?}", chain.steps);
    assert_eq!(chain.value, 3);
    assert!(
        chain.steps[0].detail.contains("cooldown is lifted"),
        "{:?}",
        chain.steps
    );
    // The cooldown would run into the next burst (minute 48): kept.
    assert!(!lift(44, 48, &policy).0);
    // No period yet (under two periods of history): kept.
    assert!(!lift(25, 29, &policy).0);
    // forecast_only says so and keeps it.
    policy.forecast.mode = ForecastMode::ForecastOnly;
    let (lifted, chain) = lift(34, 38, &policy);
    assert!(!lifted);
    assert_says_forecast_only(&chain);
}

#[test]
fn a_period_in_use_is_kept_until_its_error_passes_the_keep_threshold() {
    // Bursts every 15 minutes under noise: the period cuts persistence's
    // error to about 0.65x, not enough to be found (0.5x) but enough to
    // be kept (0.75x), so the forecast does not flip on and off.
    let load = |m: i64| {
        let burst = if m % 15 == 3 { 60.0 } else { 2.0 };
        burst + ((m * m * 7 + m * 3) % 97) as f64 / 97.0 * 40.0
    };
    let h = history(60, load);
    assert_eq!(outlook(&h, at_minute(60), 120.0), Outlook::NoPeriod);
    match outlook_keeping(&h, at_minute(60), 120.0, Some(15)) {
        Outlook::Forecast { period, ratio, .. } => {
            assert_eq!(period, 15);
            assert!((0.5..0.75).contains(&ratio), "{ratio}");
        }
        other => panic!("{other:?}"),
    }
    // A period in use that stopped repeating is still dropped.
    let stopped = |m: i64| {
        if m < 30 {
            load(m)
        } else {
            2.0 + ((m * m) % 97) as f64 / 50.0
        }
    };
    let h = history(60, stopped);
    assert!(!matches!(
        outlook_keeping(&h, at_minute(60), 120.0, Some(15)),
        Outlook::Forecast { .. }
    ));
}

#[test]
fn averaging_two_periods_keeps_a_noisy_square_wave_in_use() {
    // on_off's shape: 10 busy minutes of 40 at 16 busy workers, each
    // minute's estimate off by up to ±25% (about what the SQS estimate
    // shows inside a burst). Over 100 noise draws, count the series
    // whose period stays in use through the third and fourth periods.
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut uniform = move || {
        // splitmix64
        rng = rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as f64 / u64::MAX as f64
    };
    let (mut kept_one, mut kept_two) = (0, 0);
    for _ in 0..100 {
        let loads: Vec<f64> = (0..180)
            .map(|m| {
                let noise = 0.75 + 0.5 * uniform();
                if m % 40 < 10 {
                    16.0 * noise
                } else {
                    0.0
                }
            })
            .collect();
        let h = history(180, |m| loads[m as usize]);
        let kept = |seasons| {
            (120..=180).all(|minute| {
                let x = h.complete(at_minute(minute));
                matches!(find_period(x, 40..=40, seasons, Some(40)), Some(Ok(_)))
            })
        };
        kept_one += u32::from(kept(1));
        kept_two += u32::from(kept(MINUTE_SEASONS));
    }
    assert!(kept_two >= 95, "{kept_two} of 100 kept");
    assert!(kept_two >= kept_one + 5, "{kept_two} vs {kept_one}");
}

#[test]
fn smooth_trends_and_noise_have_no_period() {
    // A ramp: persistence beats any seasonal lag.
    let ramp = history(180, |m| m as f64);
    assert_eq!(outlook(&ramp, at_minute(180), 120.0), Outlook::NoPeriod);
    // Flat load.
    let flat = history(180, |_| 10.0);
    assert_eq!(outlook(&flat, at_minute(180), 120.0), Outlook::NoPeriod);
}

#[test]
fn a_period_that_stopped_repeating_is_no_longer_used() {
    // Bursts every 15 minutes for two hours, then irregular load
    // (m² mod 97 has no period under an hour).
    let load = |m: i64| {
        if m < 120 && m % 15 == 3 {
            60.0
        } else {
            2.0 + ((m * m) % 97) as f64 / 50.0
        }
    };
    let h = history(150, load);
    let before = outlook(&h, at_minute(118), 120.0);
    assert!(
        matches!(before, Outlook::Forecast { period: 15, .. }),
        "{before:?}"
    );
    let later = outlook(&h, at_minute(150), 120.0);
    assert!(!matches!(later, Outlook::Forecast { .. }), "{later:?}");
}

#[test]
fn switching_on_off_and_between_periods_gives_one_notice_each() {
    let load = |m: i64| {
        if m < 120 && m % 15 == 3 {
            60.0
        } else {
            2.0 + ((m * m) % 97) as f64 / 50.0
        }
    };
    let policy = PolicyConfig::with_target(0, 100, 10.0);
    let mut chain = Chain::new(1);
    let mut next = TargetState {
        load_history: history(119, load),
        ..Default::default()
    };
    let on = apply_at(&mut chain, &mut next, &policy, at_minute(118));
    assert!(
        on.as_deref()
            .is_some_and(|n| n.starts_with("forecast on: 15-minute period")),
        "{on:?}"
    );
    assert_eq!(next.forecast_period, Some(15));
    assert_eq!(
        apply_at(&mut chain, &mut next, &policy, at_minute(118)),
        None,
        "said once"
    );

    next.load_history = history(150, load);
    let off = apply_at(&mut chain, &mut next, &policy, at_minute(150));
    assert!(
        off.as_deref()
            .is_some_and(|n| n.starts_with("forecast switched off (was a 15-minute period)")),
        "{off:?}"
    );
    assert_eq!(next.forecast_period, None);
    assert_eq!(
        apply_at(&mut chain, &mut next, &policy, at_minute(150)),
        None
    );

    next.forecast_period = Some(20);
    next.load_history = history(119, load);
    let moved = apply_at(&mut chain, &mut next, &policy, at_minute(118));
    assert!(
        moved
            .as_deref()
            .is_some_and(|n| n.starts_with("forecast period changed from 20 to 15 minutes")),
        "{moved:?}"
    );
}

/// Minute `m` of a week starting Monday 00:00 UTC (minute 0 is one):
/// 50 busy 09:00-17:00 on the days `busy_day` accepts, 5 otherwise, plus
/// up to 2 of noise with no period under a day.
fn office_hours(busy_day: impl Fn(i64) -> bool) -> impl Fn(i64) -> f64 {
    move |m: i64| {
        let hour = (m % 1440) / 60;
        let busy = busy_day(m / 1440) && (9..17).contains(&hour);
        (if busy { 50.0 } else { 5.0 }) + ((m * m) % 97) as f64 / 50.0
    }
}

#[test]
fn a_daily_pattern_is_found_after_two_days_and_pre_warms_the_morning() {
    let load = office_hours(|_| true);
    let before_nine = |day: i64| day * 1440 + 8 * 60 + 58;
    // Day two: one day of history, no period yet.
    let m = before_nine(1);
    assert_eq!(
        outlook(&history(m, &load), at_minute(m), 120.0),
        Outlook::NoPeriod
    );
    // Day three, 08:58 with a 2-minute lead: yesterday's 09:00 hour.
    let m = before_nine(2);
    match outlook(&history(m, &load), at_minute(m), 120.0) {
        Outlook::Forecast {
            period,
            ratio,
            load,
        } => {
            assert_eq!(period, 1440);
            assert!(ratio < 0.5, "{ratio}");
            assert!((50.0..52.0).contains(&load), "{load}");
        }
        other => panic!("{other:?}"),
    }
    // At 08:30 the rise is beyond the lead, and at 10:00 inside the busy
    // hours nothing rises ahead: no floor (the reactive count follows).
    for m in [before_nine(2) - 28, before_nine(2) + 62] {
        assert!(matches!(
            outlook(&history(m, &load), at_minute(m), 120.0),
            Outlook::Forecast { period: 1440, load, .. } if load == 0.0
        ));
    }
}

#[test]
fn a_weekly_pattern_is_found_after_two_weeks_where_the_daily_one_fails() {
    // Busy Monday to Friday, quiet at weekends.
    let load = office_hours(|day| day % 7 < 5);
    // Monday of the third week, 08:58.
    let m = 14 * 1440 + 8 * 60 + 58;
    let h = history(m, &load);
    match outlook(&h, at_minute(m), 120.0) {
        Outlook::Forecast { period, load, .. } => {
            assert_eq!(period, 10080, "the weekend breaks the daily period");
            assert!((50.0..52.0).contains(&load), "{load}");
        }
        other => panic!("{other:?}"),
    }
    // 15 days of hours stay small in the state item (400 KB allowed).
    assert_eq!(h.hours.len(), 14 * 24 + 9);
    let bytes = serde_json::to_string(&h).unwrap().len();
    assert!(bytes < 4_000, "{bytes} bytes");
    // Past 15 days the oldest hours are dropped.
    let long = history(16 * 1440, &load);
    assert_eq!(long.hours.len(), HISTORY_HOURS);
    eprintln!(
        "history bytes: 14 days 9 hours {bytes}, 16 days {}",
        serde_json::to_string(&long).unwrap().len()
    );
    // The notice names the period.
    let mut next = TargetState {
        load_history: h,
        ..Default::default()
    };
    let policy = PolicyConfig::with_target(0, 100, 10.0);
    let on = apply_at(&mut Chain::new(1), &mut next, &policy, at_minute(m));
    assert!(
        on.as_deref()
            .is_some_and(|n| n.starts_with("forecast on: weekly (10080-minute) period")),
        "{on:?}"
    );
}
