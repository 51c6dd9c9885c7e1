//! The stored form of a Kafka signal's partition progress: one base64 string
//! per signal instead of one JSON object per partition and sample, so that
//! 10,000 partitions fit a DynamoDB item (400 KB) beside a full outbox.
//!
//! Layout (version 1), all integers LEB128, signed ones zigzagged, offset
//! differences in wrapping arithmetic (exact over all of `i64`):
//! the sample times once (every partition of a reading shares them), then
//! per partition: the id's step from the previous id, the unchanged count, a
//! header (samples << 4 | flags: which of the usual cases hold, so their
//! bytes are left out), and the samples newest first, each as a
//! time index, its high watermark (the newest: from the previous partition's;
//! older ones: back from the next newer) and its committed offset (the
//! newest from its own high watermark, so a partition keeping up costs a byte
//! or two; older ones from the next newer committed offset).
//! Measured in `shared/core/tests/state_size.rs`.

use std::collections::BTreeMap;

use base64::Engine as _;
use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::partition_history::{OffsetSample, PartitionProgress};

const VERSION: u8 = 1;
/// `observed_at` and `committed_offset` are the newest sample's.
const FROM_NEWEST: u64 = 1;
/// Every sample has a committed offset (no per-sample presence byte).
const ALL_COMMITTED: u64 = 2;
/// The newest sample is at the latest time (no time index for it).
const AT_LATEST: u64 = 4;
/// The samples are at consecutive times of the table (no index steps).
const CONSECUTIVE: u64 = 8;
/// Bits of the header that hold flags; the sample count is above them.
const FLAG_BITS: u32 = 4;

type Progress = BTreeMap<i32, PartitionProgress>;

/// Serializes each signal's partitions as one string.
pub fn serialize<S: Serializer>(
    value: &BTreeMap<String, Progress>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let encoded: BTreeMap<&String, String> = value.iter().map(|(k, v)| (k, encode(v))).collect();
    encoded.serialize(serializer)
}

/// Reads the compact string, or the object form schema 3 and before wrote.
pub fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, Progress>, D::Error> {
    let stored = BTreeMap::<String, serde_json::Value>::deserialize(deserializer)?;
    stored
        .into_iter()
        .map(|(signal, value)| {
            let progress = match value {
                serde_json::Value::String(text) => decode(&text),
                objects => serde_json::from_value::<Progress>(objects).map_err(|e| e.to_string()),
            };
            progress
                .map(|p| (signal.clone(), p))
                .map_err(|e| serde::de::Error::custom(format!("signal {signal}: {e}")))
        })
        .collect()
}

/// The compact string of one signal's partitions.
pub fn encode(progress: &Progress) -> String {
    let mut times: Vec<Timestamp> = progress
        .values()
        .flat_map(|p| p.history.iter().map(|s| s.at).chain([p.observed_at]))
        .collect();
    times.sort_unstable();
    times.dedup();
    let index = |t: Timestamp| times.binary_search(&t).unwrap_or(0) as u64;
    let mut out = vec![VERSION];
    put(&mut out, times.len() as u64);
    let mut last_second = 0i64;
    for t in &times {
        put(&mut out, zigzag(t.as_second().wrapping_sub(last_second)));
        put(&mut out, t.subsec_nanosecond() as u64);
        last_second = t.as_second();
    }
    put(&mut out, progress.len() as u64);
    let (mut last_id, mut last_high) = (-1i64, 0i64);
    for (&id, p) in progress {
        put(&mut out, zigzag((id as i64).wrapping_sub(last_id)));
        last_id = id as i64;
        put(&mut out, p.unchanged_observations as u64);
        let newest = p.history.last();
        let mut flags = 0;
        if newest.is_some_and(|s| s.at == p.observed_at && s.committed == p.committed_offset) {
            flags |= FROM_NEWEST;
        }
        if p.history.iter().all(|s| s.committed.is_some()) {
            flags |= ALL_COMMITTED;
        }
        if newest.is_some_and(|s| Some(&s.at) == times.last()) {
            flags |= AT_LATEST;
        }
        if p.history
            .windows(2)
            .all(|w| index(w[1].at) == index(w[0].at) + 1)
        {
            flags |= CONSECUTIVE;
        }
        put(&mut out, (p.history.len() as u64) << FLAG_BITS | flags);
        if flags & FROM_NEWEST == 0 {
            put(&mut out, index(p.observed_at));
            put_committed(&mut out, p.committed_offset, 0, false);
        }
        let mut newer: Option<&OffsetSample> = None;
        for s in p.history.iter().rev() {
            match newer {
                None => {
                    if flags & AT_LATEST == 0 {
                        put(&mut out, index(s.at));
                    }
                    put(&mut out, zigzag(s.high.wrapping_sub(last_high)));
                    last_high = s.high;
                }
                Some(n) => {
                    if flags & CONSECUTIVE == 0 {
                        put(
                            &mut out,
                            zigzag((index(n.at) as i64).wrapping_sub(index(s.at) as i64)),
                        );
                    }
                    put(&mut out, zigzag(n.high.wrapping_sub(s.high)));
                }
            }
            // The newest from its own high watermark (a partition keeping up
            // is a byte), older ones from the newer committed offset (it
            // moves little from tick to tick).
            let base = match newer.and_then(|n| n.committed) {
                Some(c) => c,
                None => s.high,
            };
            put_committed(&mut out, s.committed, base, flags & ALL_COMMITTED != 0);
            newer = Some(s);
        }
    }
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
}

/// One signal's partitions from [`encode`]'s string.
pub fn decode(text: &str) -> Result<Progress, String> {
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(text)
        .map_err(|e| format!("partition progress is not base64: {e}"))?;
    let mut r = Reader {
        bytes: &bytes,
        at: 0,
    };
    let version = r.byte()?;
    if version != VERSION {
        return Err(format!(
            "partition progress encoding {version} is unknown (this qscale reads {VERSION})"
        ));
    }
    let n_times = r.len()?;
    let mut times = Vec::with_capacity(n_times);
    let mut last_second = 0i64;
    for _ in 0..n_times {
        let second = last_second.wrapping_add(r.signed()?);
        let nanos = i32::try_from(r.get()?).map_err(|_| r.bad("nanoseconds"))?;
        let t = Timestamp::new(second, nanos).map_err(|e| format!("partition progress: {e}"))?;
        times.push(t);
        last_second = second;
    }
    let time = |i: i64| -> Result<Timestamp, String> {
        usize::try_from(i)
            .ok()
            .and_then(|i| times.get(i).copied())
            .ok_or_else(|| format!("partition progress: time index {i} out of range"))
    };
    let n = r.len()?;
    let mut progress = Progress::new();
    let (mut last_id, mut last_high) = (-1i64, 0i64);
    for _ in 0..n {
        let id = last_id.wrapping_add(r.signed()?);
        last_id = id;
        let id = i32::try_from(id).map_err(|_| r.bad("partition id"))?;
        let unchanged = u32::try_from(r.get()?).map_err(|_| r.bad("unchanged count"))?;
        let header = r.get()?;
        let (samples, flags) = (
            (header >> FLAG_BITS) as usize,
            header & ((1 << FLAG_BITS) - 1),
        );
        if samples > r.remaining() {
            return Err(r.bad("sample count"));
        }
        let explicit = if flags & FROM_NEWEST == 0 {
            let at = time(r.get()? as i64)?;
            Some((at, r.committed(0, false)?))
        } else {
            None
        };
        let mut history = Vec::with_capacity(samples);
        let (mut index, mut high) = (0i64, 0i64);
        let mut newer_committed: Option<i64> = None;
        for k in 0..samples {
            if k == 0 {
                index = if flags & AT_LATEST != 0 {
                    times.len() as i64 - 1
                } else {
                    r.get()? as i64
                };
                high = last_high.wrapping_add(r.signed()?);
                last_high = high;
            } else {
                index = if flags & CONSECUTIVE != 0 {
                    index - 1
                } else {
                    index.wrapping_sub(r.signed()?)
                };
                high = high.wrapping_sub(r.signed()?);
            }
            let base = match newer_committed {
                Some(c) if k > 0 => c,
                _ => high,
            };
            let committed = r.committed(base, flags & ALL_COMMITTED != 0)?;
            newer_committed = committed;
            history.push(OffsetSample {
                at: time(index)?,
                high,
                committed,
            });
        }
        history.reverse();
        let (observed_at, committed_offset) = match (explicit, history.last()) {
            (Some(e), _) => e,
            (None, Some(s)) => (s.at, s.committed),
            (None, None) => return Err(r.bad("empty history without its own time")),
        };
        progress.insert(
            id,
            PartitionProgress {
                committed_offset,
                observed_at,
                unchanged_observations: unchanged,
                history,
            },
        );
    }
    if r.remaining() > 0 {
        return Err(r.bad("trailing bytes"));
    }
    Ok(progress)
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A committed offset relative to `high`; with a presence byte unless every
/// sample has one.
fn put_committed(out: &mut Vec<u8>, committed: Option<i64>, high: i64, always: bool) {
    if !always {
        out.push(u8::from(committed.is_some()));
    }
    if let Some(c) = committed {
        put(out, zigzag(high.wrapping_sub(c)));
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn bad(&self, what: &str) -> String {
        format!("partition progress: bad {what} at byte {}", self.at)
    }

    fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn byte(&mut self) -> Result<u8, String> {
        let b = *self.bytes.get(self.at).ok_or_else(|| self.bad("end"))?;
        self.at += 1;
        Ok(b)
    }

    fn get(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= ((b & 0x7f) as u64) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.bad("integer"))
    }

    fn signed(&mut self) -> Result<i64, String> {
        let v = self.get()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    /// A count that must fit what is left of the input.
    fn len(&mut self) -> Result<usize, String> {
        let v = self.get()?;
        usize::try_from(v)
            .ok()
            .filter(|v| *v <= self.remaining())
            .ok_or_else(|| self.bad("count"))
    }

    fn committed(&mut self, high: i64, always: bool) -> Result<Option<i64>, String> {
        if !always && self.byte()? == 0 {
            return Ok(None);
        }
        Ok(Some(high.wrapping_sub(self.signed()?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64, nanos: i32) -> Timestamp {
        Timestamp::new(1_795_392_000 + s, nanos).unwrap()
    }

    fn sample(s: i64, high: i64, committed: Option<i64>) -> OffsetSample {
        OffsetSample {
            at: at(s, 250_000_000),
            high,
            committed,
        }
    }

    fn progress(history: Vec<OffsetSample>, unchanged: u32) -> PartitionProgress {
        let last = *history.last().unwrap();
        PartitionProgress {
            committed_offset: last.committed,
            observed_at: last.at,
            unchanged_observations: unchanged,
            history,
        }
    }

    #[test]
    fn every_shape_comes_back_exactly() {
        let mut p = Progress::new();
        p.insert(
            0,
            progress(
                vec![sample(0, 100, Some(90)), sample(60, 700, Some(100))],
                0,
            ),
        );
        p.insert(3, progress(vec![sample(60, 5, None)], 7));
        // Offsets at the ends of i64 (tests/fuzz.rs stores such states).
        p.insert(
            -4,
            progress(
                vec![
                    sample(0, i64::MIN, Some(i64::MAX)),
                    sample(60, i64::MAX, Some(i64::MIN)),
                ],
                u32::MAX,
            ),
        );
        p.insert(
            i32::MAX,
            PartitionProgress {
                committed_offset: Some(-1),
                observed_at: at(-86_400_000, 0),
                unchanged_observations: 1,
                history: vec![],
            },
        );
        p.insert(
            9,
            PartitionProgress {
                committed_offset: None,
                observed_at: at(120, 1),
                unchanged_observations: 0,
                history: vec![sample(0, 1, Some(1)), sample(60, 2, None)],
            },
        );
        let text = encode(&p);
        assert_eq!(decode(&text).unwrap(), p);
        assert_eq!(decode(&encode(&Progress::new())).unwrap(), Progress::new());
    }

    #[test]
    fn a_partition_keeping_up_costs_a_dozen_characters() {
        let p: Progress = (0..1000)
            .map(|i| {
                let high = 1_000_000_000 + (i as i64 * 104_729) % 9_000_000;
                (i, progress(vec![sample(60, high, Some(high - 20))], 0))
            })
            .collect();
        let per = encode(&p).len() as f64 / 1000.0;
        assert!(per <= 12.0, "{per} characters per partition");
    }

    #[test]
    fn damage_is_an_error_naming_what() {
        let mut p = Progress::new();
        p.insert(0, progress(vec![sample(0, 100, Some(90))], 0));
        let text = encode(&p);
        let e = decode(&text[..text.len() - 2]).unwrap_err();
        assert!(e.contains("partition progress"), "{e}");
        assert!(decode("%%%").unwrap_err().contains("not base64"));
        let mut bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(&text)
            .unwrap();
        bytes[0] = 9;
        let e =
            decode(&base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)).unwrap_err();
        assert!(e.contains("encoding 9 is unknown"), "{e}");
        // A huge count in a short input is refused, not allocated.
        let e = decode(
            &base64::engine::general_purpose::STANDARD_NO_PAD.encode([1u8, 0xff, 0xff, 0xff, 0x7f]),
        )
        .unwrap_err();
        assert!(e.contains("count"), "{e}");
    }
}
