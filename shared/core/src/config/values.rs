//! Small value types parsed at load time, so an invalid duration, cron
//! expression or time zone can never reach the engine.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// A duration written for humans in config: `90s`, `5m`, `1h 30m`, `250ms`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// A duration of whole seconds.
    pub const fn secs(s: u64) -> Self {
        Self(Duration::from_secs(s))
    }

    /// The duration as fractional seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0.as_secs_f64()
    }

    /// The duration as a jiff span for timestamp arithmetic (saturating).
    pub fn signed(self) -> jiff::SignedDuration {
        jiff::SignedDuration::try_from(self.0).unwrap_or(jiff::SignedDuration::MAX)
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

/// The longest duration any setting accepts: no window, cooldown, lead or
/// schedule needs more, and timestamp arithmetic with it can never overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

impl FromStr for HumanDuration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let d = humantime::parse_duration(s.trim())
            .map_err(|e| format!("{s:?} is not a duration ({e}); write e.g. \"90s\" or \"5m\""))?;
        if d > MAX_DURATION {
            return Err(format!(
                "{s:?} is longer than the longest accepted duration, 366d"
            ));
        }
        Ok(HumanDuration(d))
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Accept a bare number too, but only to name the mistake: a unit is required.
        struct V;
        impl de::Visitor<'_> for V {
            type Value = HumanDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"90s\" or \"5m\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HumanDuration, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<HumanDuration, E> {
                Err(E::custom(format!(
                    "{v} is not a duration: a unit is required, e.g. \"{v}s\""
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<HumanDuration, E> {
                Err(E::custom(format!(
                    "{v} is not a duration: a unit is required, e.g. \"{v}s\""
                )))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<HumanDuration, E> {
                Err(E::custom(format!(
                    "{v} is not a duration: a unit is required, e.g. \"{v}s\""
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// A cron expression (5 fields, or 6 with seconds), parsed by `croner`.
#[derive(Clone, Debug)]
pub struct CronExpr {
    text: String,
    parsed: croner::Cron,
}

impl CronExpr {
    /// The parsed schedule.
    pub fn cron(&self) -> &croner::Cron {
        &self.parsed
    }
}

impl PartialEq for CronExpr {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl FromStr for CronExpr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = croner::Cron::from_str(s)
            .map_err(|e| format!("{s:?} is not a cron expression ({e})"))?;
        // One that never fires (`0 0 30 2 *`) would be searched for, in vain,
        // on every decision (about 60 ms each).
        let reference = jiff::Timestamp::from_second(1_767_225_600) // 2026-01-01T00:00Z
            .map_err(|e| e.to_string())?
            .to_zoned(jiff::tz::TimeZone::UTC);
        if parsed.find_next_occurrence(&reference, false).is_err() {
            return Err(format!("{s:?} never fires (no date matches it)"));
        }
        Ok(CronExpr {
            text: s.to_string(),
            parsed,
        })
    }
}

impl Serialize for CronExpr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for CronExpr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// An IANA time zone name (`Europe/Paris`), resolved against the bundled tz database.
#[derive(Clone, Debug)]
pub struct ZoneName {
    name: String,
    zone: jiff::tz::TimeZone,
}

impl ZoneName {
    /// The resolved zone.
    pub fn zone(&self) -> &jiff::tz::TimeZone {
        &self.zone
    }
}

impl Default for ZoneName {
    fn default() -> Self {
        ZoneName {
            name: "UTC".into(),
            zone: jiff::tz::TimeZone::UTC,
        }
    }
}

impl PartialEq for ZoneName {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl FromStr for ZoneName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        jiff::tz::TimeZone::get(s)
            .map(|zone| ZoneName {
                name: s.to_string(),
                zone,
            })
            .map_err(|_| format!("{s:?} is not an IANA time zone (e.g. \"Europe/Paris\")"))
    }
}

impl Serialize for ZoneName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name)
    }
}

impl<'de> Deserialize<'de> for ZoneName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

/// `slo.startup`: a fixed time, or `learned` from the worker's own
/// pending-to-running times (`engine::capacity`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartupTime {
    /// This long.
    Fixed(HumanDuration),
    /// A high percentile of the start-ups observed, bounded; the default
    /// (1m) until enough are seen.
    Learned,
}

impl StartupTime {
    /// The default start-up, and what `learned` uses before it has seen enough.
    pub const DEFAULT: HumanDuration = HumanDuration::secs(60);

    /// The fixed time, or the default for `learned` (which `decide`
    /// resolves from the state before sizing).
    pub fn fixed_or_default(self) -> HumanDuration {
        match self {
            StartupTime::Fixed(d) => d,
            StartupTime::Learned => Self::DEFAULT,
        }
    }
}

impl fmt::Display for StartupTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartupTime::Fixed(d) => d.fmt(f),
            StartupTime::Learned => f.write_str("learned"),
        }
    }
}

impl Serialize for StartupTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for StartupTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.trim() == "learned" {
            return Ok(StartupTime::Learned);
        }
        s.parse::<HumanDuration>()
            .map(StartupTime::Fixed)
            .map_err(|e| de::Error::custom(format!("{e}, or `learned`")))
    }
}

impl JsonSchema for StartupTime {
    fn schema_name() -> Cow<'static, str> {
        "StartupTime".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A duration with units (90s, 1m), or `learned`: a high percentile of the worker's own pending-to-running times.",
            "examples": ["1m", "learned"]
        })
    }
}

// Schemas of the value types: strings the loader parses (an editor checks
// the shape; `qscale validate` checks the value).

impl JsonSchema for HumanDuration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A duration with units, at most 366d: 90s, 5m, 1h 30m, 250ms (a bare number is rejected).",
            "pattern": "^\\s*([0-9]+\\s*[a-zA-Z]+\\s*)+$",
            "examples": ["90s", "5m", "1h 30m"]
        })
    }
}

impl JsonSchema for CronExpr {
    fn schema_name() -> Cow<'static, str> {
        "Cron".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A cron expression: minute hour day-of-month month day-of-week.",
            "examples": ["0 8 * * MON-FRI"]
        })
    }
}

impl JsonSchema for ZoneName {
    fn schema_name() -> Cow<'static, str> {
        "TimeZone".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "An IANA time zone name.",
            "examples": ["UTC", "Europe/Paris"]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_and_reject_typos() {
        assert_eq!(
            "90s".parse::<HumanDuration>().unwrap(),
            HumanDuration::secs(90)
        );
        assert_eq!(
            "5m".parse::<HumanDuration>().unwrap(),
            HumanDuration::secs(300)
        );
        let err = "5 minuts".parse::<HumanDuration>().unwrap_err();
        assert!(err.starts_with("\"5 minuts\" is not a duration"), "{err}");
    }

    #[test]
    fn cron_and_zone_reject_garbage() {
        assert!("0 8 * * MON-FRI".parse::<CronExpr>().is_ok());
        assert!("0 25 * * *".parse::<CronExpr>().is_err());
        assert!("Europe/Paris".parse::<ZoneName>().is_ok());
        let err = "Europe/Pariss".parse::<ZoneName>().unwrap_err();
        assert!(err.contains("Europe/Pariss"), "{err}");
    }
}
