//! The trace file format, read and written here only: a `t_seconds,rate`
//! header, one `t,rate` point per line (linearly interpolated between
//! points, times strictly increasing from 0), `#` comments, and an optional
//! `# start RFC3339` line saying when the traffic began (written by
//! `qscale trace`, read by `simulate --trace FILE`).

use jiff::Timestamp;

use crate::trace::Trace;

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
    /// The `# start` line does not hold a timestamp.
    #[error("{file}: line {line}: start {value:?} is not a timestamp")]
    Start {
        /// File name.
        file: String,
        /// 1-based line.
        line: usize,
        /// The text after `# start `.
        value: String,
    },
    /// No data.
    #[error("{0}: no data points")]
    Empty(String),
}

/// The header line.
pub const HEADER: &str = "t_seconds,rate";

/// The comment that carries the trace's start.
pub const START_COMMENT: &str = "# start ";

/// A parsed trace file.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceFile {
    /// The rates.
    pub trace: Trace,
    /// When the traffic began, if the file says.
    pub start: Option<Timestamp>,
}

/// The file's text: the start line (if any), the header, one point per
/// change of rate, so a held rate stays held under the reader's
/// interpolation.
pub fn write(trace: &Trace, start: Option<Timestamp>) -> String {
    let mut out = String::new();
    if let Some(start) = start {
        out += &format!("{START_COMMENT}{start}\n");
    }
    out += HEADER;
    out.push('\n');
    let mut last: Option<f64> = None;
    for (s, &r) in trace.rates.iter().enumerate() {
        if last != Some(r) {
            if s > 0 {
                // Close the previous step one second before the change.
                if let Some(prev) = last {
                    if !out.ends_with(&format!("{},{prev}\n", s - 1)) {
                        out += &format!("{},{prev}\n", s - 1);
                    }
                }
            }
            out += &format!("{s},{r}\n");
            last = Some(r);
        }
    }
    let end = trace.rates.len();
    out += &format!("{end},{}\n", last.unwrap_or(0.0));
    out
}

/// Parses a trace file named `name` (the name reports show).
pub fn read(name: &str, text: &str) -> Result<TraceFile, TraceError> {
    let err = |line: usize, message: String| TraceError::Line {
        file: name.to_string(),
        line,
        message,
    };
    let mut points: Vec<(f64, f64)> = Vec::new();
    let mut start = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let header = points.is_empty() && line.starts_with(HEADER);
        if let Some(value) = line.strip_prefix(START_COMMENT) {
            let value = value.trim();
            let parsed = value.parse().map_err(|_| TraceError::Start {
                file: name.to_string(),
                line: i + 1,
                value: value.to_string(),
            })?;
            // The first start line counts.
            start = start.or(Some(parsed));
            continue;
        }
        if line.is_empty() || line.starts_with('#') || header {
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
    Ok(TraceFile {
        trace: Trace {
            name: name.to_string(),
            rates,
            queues: Vec::new(),
        },
        start,
    })
}

impl Trace {
    /// Parses a trace file's points, ignoring its start ([`read`]).
    pub fn from_csv(name: &str, text: &str) -> Result<Trace, TraceError> {
        read(name, text).map(|file| file.trace)
    }

    /// The trace as a trace file without a start line ([`write`]).
    pub fn to_csv(&self) -> String {
        write(self, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_file_reads_back_with_its_start() {
        let trace = Trace {
            name: "x".into(),
            queues: Vec::new(),
            rates: vec![5.0, 5.0, 5.0, 60.0, 60.0, 0.0],
        };
        let start: Timestamp = "2026-11-24T00:00:00Z".parse().unwrap();
        let text = write(&trace, Some(start));
        assert!(text.starts_with("# start 2026-11-24T00:00:00Z\nt_seconds,rate\n0,5\n"));
        let back = read("x", &text).unwrap();
        assert_eq!((back.trace, back.start), (trace, Some(start)));
    }

    #[test]
    fn a_bad_start_names_the_file_line_and_value() {
        let e = read("x.csv", "# start yesterday\n0,1\n5,1\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.csv: line 1: start \"yesterday\" is not a timestamp"
        );
    }
}
