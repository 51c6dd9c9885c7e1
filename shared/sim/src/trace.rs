//! Traffic traces: arrival rate per second over time. Bundled ones are
//! generated deterministically; users bring theirs as CSV `t_seconds,rate`.

use std::f64::consts::PI;

/// Arrival rate (messages/s) for each second of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// Name shown in reports.
    pub name: String,
    /// Rate for second i.
    pub rates: Vec<f64>,
}

/// Why a trace file is unusable.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// Bad line.
    #[error("{file}: line {line}: {message}")]
    Line {
        /// File name.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong, with the value.
        message: String,
    },
    /// No data.
    #[error("{0}: no data points")]
    Empty(String),
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
];

impl Trace {
    /// Run length, seconds.
    pub fn duration_s(&self) -> u32 {
        self.rates.len() as u32
    }

    /// Highest rate.
    pub fn peak(&self) -> f64 {
        self.rates.iter().copied().fold(0.0, f64::max)
    }

    /// Parses `t_seconds,rate` lines (a header line and `#` comments allowed),
    /// linearly interpolated between points; times strictly increasing from 0.
    pub fn from_csv(name: &str, text: &str) -> Result<Trace, TraceError> {
        let err = |line: usize, message: String| TraceError::Line {
            file: name.to_string(),
            line,
            message,
        };
        let mut points: Vec<(f64, f64)> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || (i == 0 && line.starts_with("t_seconds"))
            {
                continue;
            }
            let (t, r) = line
                .split_once(',')
                .ok_or_else(|| err(i + 1, format!("{line:?} is not `t_seconds,rate`")))?;
            let t: f64 = t
                .trim()
                .parse()
                .map_err(|_| err(i + 1, format!("t_seconds {:?} is not a number", t.trim())))?;
            let r: f64 = r
                .trim()
                .parse()
                .map_err(|_| err(i + 1, format!("rate {:?} is not a number", r.trim())))?;
            if !(r.is_finite() && r >= 0.0) {
                return Err(err(i + 1, format!("rate {r} must be 0 or more")));
            }
            if let Some(&(prev, _)) = points.last() {
                if t <= prev {
                    return Err(err(i + 1, format!("t_seconds {t} is not after {prev}")));
                }
            } else if t != 0.0 {
                return Err(err(
                    i + 1,
                    format!("the first t_seconds must be 0, not {t}"),
                ));
            }
            points.push((t, r));
        }
        if points.len() < 2 {
            return Err(TraceError::Empty(name.to_string()));
        }
        let end = points.last().unwrap().0 as u32;
        let mut rates = Vec::with_capacity(end as usize);
        let mut seg = 0;
        for s in 0..end {
            let x = s as f64;
            while seg + 1 < points.len() - 1 && x >= points[seg + 1].0 {
                seg += 1;
            }
            let (t0, r0) = points[seg];
            let (t1, r1) = points[seg + 1];
            rates.push(r0 + (r1 - r0) * ((x - t0) / (t1 - t0)).clamp(0.0, 1.0));
        }
        Ok(Trace {
            name: name.to_string(),
            rates,
        })
    }

    /// A bundled trace by name.
    pub fn bundled(name: &str) -> Option<Trace> {
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
            _ => return None,
        };
        Some(Trace {
            name: name.to_string(),
            rates,
        })
    }
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
        let f = Trace::bundled("flash_crowd").unwrap();
        assert!(
            (f.rates[1860] / f.rates[1799] - 20.0).abs() < 1e-6,
            "×20 within a minute"
        );
    }
}
