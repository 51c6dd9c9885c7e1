//! Traffic traces: arrival rate per second over time. Bundled ones are
//! generated deterministically (the random families from a fixed seed of
//! their own, so every run seed sees the same shape); users bring theirs as
//! CSV `t_seconds,rate` (`trace_file`).

use std::f64::consts::PI;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Normal, Pareto};

/// Arrival rate (messages/s) for each second of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// Name shown in reports.
    pub name: String,
    /// Rate for second i (over all queues).
    pub rates: Vec<f64>,
    /// When several queues feed one pool: each queue's rates (the i-th for
    /// the target's i-th signal), adding up to `rates`; empty for one stream.
    pub queues: Vec<Vec<f64>>,
}

/// Names of the bundled traces, in report order.
pub const BUNDLED: &[&str] = &[
    "steady",
    "diurnal",
    "flash_crowd",
    "known_event",
    "on_off",
    "slow_ramp",
    "kafka_hot_partition",
    "batch_dumps",
    "heavy_tailed_bursts",
    "sawtooth",
    "retry_storm",
    "weekly",
    "two_queues",
    "fifo_groups",
    "poison_wave",
    "long_jobs",
    "flash_crowd_capacity",
];

/// Seed of the random trace families' shapes (not of the run).
const SHAPE_SEED: u64 = 20_261_124;

impl Trace {
    /// Run length, seconds.
    pub fn duration_s(&self) -> u32 {
        self.rates.len() as u32
    }

    /// Highest rate.
    pub fn peak(&self) -> f64 {
        self.rates.iter().copied().fold(0.0, f64::max)
    }

    /// A bundled trace by name.
    pub fn bundled(name: &str) -> Option<Trace> {
        if name == "two_queues" {
            return Some(two_queues());
        }
        let h = 3600.0;
        let gen =
            |secs: f64, f: &dyn Fn(f64) -> f64| (0..secs as u32).map(|s| f(s as f64)).collect();
        let rates: Vec<f64> = match name {
            // 50 msg/s for 2 h.
            "steady" => gen(2.0 * h, &|_| 50.0),
            // 24 h, 20 msg/s at 04:00 up to 200 msg/s at 16:00.
            "diurnal" => gen(24.0 * h, &|t| {
                20.0 + 180.0 * (1.0 - ((t - 4.0 * h) * 2.0 * PI / (24.0 * h)).cos()) / 2.0
            }),
            // 10 msg/s; at 30 min ×20 within a minute, then decays (τ = 10 min).
            "flash_crowd" => gen(2.0 * h, &|t| {
                let start = 1800.0;
                if t < start {
                    10.0
                } else if t < start + 60.0 {
                    10.0 + 190.0 * (t - start) / 60.0
                } else {
                    10.0 + 190.0 * (-(t - start - 60.0) / 600.0).exp()
                }
            }),
            // 10 msg/s; 150 msg/s from 01:00 to 01:30, announced in config.
            "known_event" => gen(3.0 * h, &|t| {
                if (h..h + 1800.0).contains(&t) {
                    150.0
                } else {
                    10.0
                }
            }),
            // 10-minute bursts of 80 msg/s every 40 minutes, silence between.
            "on_off" => gen(3.0 * h, &|t| if t % 2400.0 < 600.0 { 80.0 } else { 0.0 }),
            // 5 → 150 msg/s over 3 h.
            "slow_ramp" => gen(3.0 * h, &|t| 5.0 + 145.0 * t / (3.0 * h)),
            // 20 msg/s for 2 h on 12 partitions, 20% of keys on partition 0.
            "kafka_hot_partition" => gen(2.0 * h, &|_| 20.0),
            // 3 h: 5 msg/s, and every 15 min (from 5 min) a dump of 20,000
            // messages over 10 s (at 200 ms each, 67 workers for a minute).
            "batch_dumps" => gen(3.0 * h, &|t| {
                if (t - 300.0).rem_euclid(900.0) < 10.0 && t >= 300.0 {
                    5.0 + 2000.0
                } else {
                    5.0
                }
            }),
            "heavy_tailed_bursts" => heavy_tailed_bursts(6.0 * h),
            "long_jobs" => long_jobs(8.0 * h),
            // flash_crowd's traffic; its scenario caps running workers (run.rs).
            "flash_crowd_capacity" => {
                return Trace::bundled("flash_crowd").map(|t| Trace {
                    name: name.to_string(),
                    ..t
                })
            }
            // 4 h of ramps 10 -> 150 msg/s over 20 min, each ending in a drop.
            "sawtooth" => gen(4.0 * h, &|t| 10.0 + 140.0 * (t % 1200.0) / 1200.0),
            // 3 h at 40 msg/s; from 01:00 a 10-minute outage sends nothing,
            // then the 24,000 refused messages come back as retries decaying
            // with τ = 2 min (peak 240 msg/s), and a second echo of 20% at
            // 01:30 (clients' longer backoff).
            "retry_storm" => gen(3.0 * h, &|t| {
                let (start, end, missed, tau) = (h, h + 600.0, 24_000.0, 120.0);
                if (start..end).contains(&t) {
                    0.0
                } else if t >= end {
                    let echo = if t >= start + 1800.0 {
                        0.2 * missed / tau * (-(t - start - 1800.0) / tau).exp()
                    } else {
                        0.0
                    };
                    40.0 + missed / tau * (-(t - end) / tau).exp() + echo
                } else {
                    40.0
                }
            }),
            "weekly" => weekly(),
            // 3 h on a FIFO queue of 4 message groups: 8 msg/s, and at 00:30,
            // 01:30 and 02:30 a dump of 3,000 messages over 10 s (750 per
            // group: 150 s of work for its one worker at a time).
            "fifo_groups" => gen(3.0 * h, &|t| {
                if (t - 1800.0).rem_euclid(3600.0) < 10.0 {
                    8.0 + 300.0
                } else {
                    8.0
                }
            }),
            // 3 h at 30 msg/s; from 01:00 to 01:30 30% of the messages fail
            // (a bad deploy): the scenario's poison model, run.rs.
            "poison_wave" => gen(3.0 * h, &|_| 30.0),
            _ => return None,
        };
        Some(Trace {
            name: name.to_string(),
            rates,
            queues: Vec::new(),
        })
    }
}

/// One pool fed by two queues for 3 h: `orders` at 40 msg/s ± 20 (an
/// hourly wave) and its retry queue at 3 msg/s, with a burst of 100 msg/s
/// for 3 minutes every 20 minutes from minute 10 (a downstream recovering
/// and its clients retrying). Each queue alone needs at most about 22
/// workers; together they need up to 33.
fn two_queues() -> Trace {
    let secs = 3 * 3600;
    let orders: Vec<f64> = (0..secs)
        .map(|s| 40.0 + 20.0 * (s as f64 * 2.0 * PI / 3600.0).sin())
        .collect();
    let retries: Vec<f64> = (0..secs)
        .map(|s| {
            let burst = s >= 600 && (s - 600) % 1200 < 180;
            3.0 + if burst { 100.0 } else { 0.0 }
        })
        .collect();
    Trace {
        name: "two_queues".to_string(),
        rates: orders.iter().zip(&retries).map(|(a, b)| a + b).collect(),
        queues: vec![orders, retries],
    }
}

/// On/off bursts with heavy tails: ON and OFF lengths Pareto (α 1.5, from
/// 60 s and 120 s, capped at 30 min and 1 h), each ON at a log-normal rate
/// (median 60 msg/s, σ 0.5), silence between.
fn heavy_tailed_bursts(secs: f64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(SHAPE_SEED);
    let on: Pareto<f64> = Pareto::new(60.0, 1.5).expect("valid");
    let off: Pareto<f64> = Pareto::new(120.0, 1.5).expect("valid");
    let level = LogNormal::new(60f64.ln(), 0.5).expect("valid");
    let mut rates = Vec::with_capacity(secs as usize);
    while rates.len() < secs as usize {
        let quiet = off.sample(&mut rng).min(3600.0) as usize;
        rates.extend(std::iter::repeat_n(0.0, quiet));
        let busy = on.sample(&mut rng).min(1800.0) as usize;
        let rate = level.sample(&mut rng);
        rates.extend(std::iter::repeat_n(rate, busy));
    }
    rates.truncate(secs as usize);
    rates
}

/// 8 h of jobs of 2-20 minutes (the scenario's service times, run.rs): 1.2
/// jobs a minute, and bursts of 6-12 a minute lasting 5-30 minutes (Pareto,
/// α 1.5) after quiet spells of 20 minutes or more, as batch submissions come.
fn long_jobs(secs: f64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(SHAPE_SEED + 2);
    let quiet: Pareto<f64> = Pareto::new(1200.0, 1.5).expect("valid");
    let burst: Pareto<f64> = Pareto::new(300.0, 1.5).expect("valid");
    let mut rates = Vec::with_capacity(secs as usize);
    while rates.len() < secs as usize {
        let off = quiet.sample(&mut rng).min(7200.0) as usize;
        rates.extend(std::iter::repeat_n(0.02, off));
        let on = burst.sample(&mut rng).min(1800.0) as usize;
        let level = rng.random_range(0.1..0.2);
        rates.extend(std::iter::repeat_n(level, on));
    }
    rates.truncate(secs as usize);
    rates
}

/// Seven days from Monday 00:00: a daily cycle 20 -> 200 msg/s (trough
/// 04:00, peak 16:00), weekends at 40%, times a slow multiplicative noise
/// (log-AR(1), σ 0.1, correlation time 5 min).
fn weekly() -> Vec<f64> {
    let (h, day) = (3600.0, 86_400.0);
    let mut rng = ChaCha8Rng::seed_from_u64(SHAPE_SEED + 1);
    let phi: f64 = (-1.0f64 / 300.0).exp();
    let shock = Normal::new(0.0, 0.1 * (1.0 - phi * phi).sqrt()).expect("valid");
    let mut noise = 0.0;
    (0..(7.0 * day) as u32)
        .map(|s| {
            let t = s as f64;
            let weekend = (t / day) as u32 >= 5;
            let daily = 20.0 + 180.0 * (1.0 - ((t % day - 4.0 * h) * 2.0 * PI / day).cos()) / 2.0;
            noise = phi * noise + shock.sample(&mut rng);
            daily * if weekend { 0.4 } else { 1.0 } * noise.exp()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_interpolates_and_names_bad_values() {
        let t = Trace::from_csv("x.csv", "t_seconds,rate\n0,0\n10,100\n20,100\n").unwrap();
        assert_eq!(t.duration_s(), 20);
        assert_eq!(t.rates[5], 50.0);
        assert_eq!(t.rates[15], 100.0);
        let e = Trace::from_csv("x.csv", "0,1\n5,fast\n")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "x.csv: line 2: rate \"fast\" is not a number");
        let e = Trace::from_csv("x.csv", "0,1\n5,2\n5,3\n")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "x.csv: line 3: t_seconds 5 is not after 5");
    }

    #[test]
    fn bundled_traces_have_their_documented_shape() {
        for name in BUNDLED {
            assert!(Trace::bundled(name).is_some(), "{name}");
        }
        let d = Trace::bundled("diurnal").unwrap();
        assert_eq!(d.duration_s(), 86_400);
        assert!((d.rates[4 * 3600] - 20.0).abs() < 1e-6);
        assert!((d.rates[16 * 3600] - 200.0).abs() < 1e-6);
        let dumps = Trace::bundled("batch_dumps").unwrap();
        let dump: f64 = dumps.rates[1200..1210].iter().map(|r| r - 5.0).sum();
        assert!((dump - 20_000.0).abs() < 1e-6, "a dump is 20,000 messages");
        assert_eq!(dumps.rates[1210], 5.0);
        let storm = Trace::bundled("retry_storm").unwrap();
        assert_eq!(storm.rates[3600 + 300], 0.0, "outage");
        assert!((storm.peak() - 240.0).abs() < 1e-6, "{}", storm.peak());
        let saw = Trace::bundled("sawtooth").unwrap();
        assert!(saw.rates[1199] > 149.0 && saw.rates[1200] == 10.0);
        let week = Trace::bundled("weekly").unwrap();
        assert_eq!(week.duration_s(), 7 * 86_400);
        let day_mean =
            |d: usize| week.rates[d * 86_400..(d + 1) * 86_400].iter().sum::<f64>() / 86_400.0;
        assert!(day_mean(5) < 0.5 * day_mean(2), "weekends are quieter");
        let bursts = Trace::bundled("heavy_tailed_bursts").unwrap();
        let on = bursts.rates.iter().filter(|r| **r > 0.0).count();
        assert!(on > 600 && on < bursts.rates.len() / 2, "on {on} s");
        let two = Trace::bundled("two_queues").unwrap();
        assert_eq!(two.queues.len(), 2);
        assert!((two.rates[600] - two.queues[0][600] - 103.0).abs() < 1e-9);
        assert_eq!(two.queues[1][600 + 180], 3.0, "a burst lasts 3 minutes");
        let f = Trace::bundled("flash_crowd").unwrap();
        assert!(
            (f.rates[1860] / f.rates[1799] - 20.0).abs() < 1e-6,
            "×20 within a minute"
        );
    }
}
