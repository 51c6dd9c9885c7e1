//! Just enough of the Kafka wire protocol for the TLS and SASL front in
//! `kafka_front.rs`: frame headers, the broker addresses in Metadata and
//! FindCoordinator answers (rewritten so the client reconnects through the
//! front, as a broker advertising its TLS listener makes it), the SASL
//! API keys added to ApiVersions, and SaslHandshake / SaslAuthenticate
//! answered by the front itself. Field layouts from the protocol guide
//! (kafka.apache.org/protocol, "Kafka Protocol Guide"), by version.

pub const API_VERSIONS: i16 = 18;
pub const METADATA: i16 = 3;
pub const FIND_COORDINATOR: i16 = 10;
pub const SASL_HANDSHAKE: i16 = 17;
pub const SASL_AUTHENTICATE: i16 = 36;
/// SASL_AUTHENTICATION_FAILED.
pub const AUTHENTICATION_FAILED: i16 = 58;

/// A request's header fields the front needs.
#[derive(Clone, Copy, Debug)]
pub struct RequestHeader {
    pub api_key: i16,
    pub api_version: i16,
    pub correlation_id: i32,
}

/// The header of a request frame (without its 4-byte length).
pub fn request_header(frame: &[u8]) -> RequestHeader {
    RequestHeader {
        api_key: i16::from_be_bytes([frame[0], frame[1]]),
        api_version: i16::from_be_bytes([frame[2], frame[3]]),
        correlation_id: i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]),
    }
}

/// Where a request's body starts: after key, version, correlation id, the
/// client id (a nullable int16 string) and, in flexible versions, tagged
/// fields.
pub fn request_body(frame: &[u8], flexible: bool) -> usize {
    let id_len = i16::from_be_bytes([frame[8], frame[9]]);
    let mut at = 10 + id_len.max(0) as usize;
    if flexible {
        at = skip_tagged(frame, at);
    }
    at
}

/// Whether a request of this key and version uses the flexible encoding.
pub fn flexible(api_key: i16, version: i16) -> bool {
    match api_key {
        METADATA => version >= 9,
        FIND_COORDINATOR => version >= 3,
        API_VERSIONS => version >= 3,
        SASL_AUTHENTICATE => version >= 2,
        _ => false,
    }
}

fn uvarint(b: &[u8], at: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let byte = b[*at];
        *at += 1;
        v |= ((byte & 0x7f) as u64) << shift;
        if byte & 0x80 == 0 {
            return v;
        }
        shift += 7;
    }
}

fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn skip_tagged(b: &[u8], mut at: usize) -> usize {
    let n = uvarint(b, &mut at);
    for _ in 0..n {
        let _tag = uvarint(b, &mut at);
        let len = uvarint(b, &mut at) as usize;
        at += len;
    }
    at
}

fn i16_at(b: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([b[at], b[at + 1]])
}

fn i32_at(b: &[u8], at: usize) -> i32 {
    i32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// An array's or a byte string's length (compact: uvarint length + 1;
/// else int32), moving past it.
fn array_len(b: &[u8], at: &mut usize, compact: bool) -> usize {
    if compact {
        uvarint(b, at).saturating_sub(1) as usize
    } else {
        let n = i32_at(b, *at);
        *at += 4;
        n.max(0) as usize
    }
}

/// Skips a string (compact: uvarint length + 1; else int16 length; -1 or
/// 0 compact for null).
fn skip_string(b: &[u8], at: &mut usize, compact: bool) {
    if compact {
        let n = uvarint(b, at);
        *at += n.saturating_sub(1) as usize;
    } else {
        let n = i16_at(b, *at);
        *at += 2 + n.max(0) as usize;
    }
}

/// Where a response body starts (after the correlation id and, for flexible
/// responses other than ApiVersions, the header's tagged fields).
fn response_body(frame: &[u8], api_key: i16, version: i16) -> usize {
    if flexible(api_key, version) && api_key != API_VERSIONS {
        skip_tagged(frame, 4)
    } else {
        4
    }
}

/// Rewrites every broker port `from` into `to` in a Metadata or
/// FindCoordinator response frame (without its length), in place: the host
/// stays, the port is fixed width, so the frame keeps its length.
pub fn rewrite_broker_ports(frame: &mut [u8], api_key: i16, version: i16, from: u16, to: u16) {
    let compact = flexible(api_key, version);
    let mut at = response_body(frame, api_key, version);
    let patch = |frame: &mut [u8], port_at: usize| {
        if i32_at(frame, port_at) == from as i32 {
            frame[port_at..port_at + 4].copy_from_slice(&(to as i32).to_be_bytes());
        }
    };
    match api_key {
        METADATA => {
            if version >= 3 {
                at += 4; // throttle_time_ms
            }
            let n = array_len(frame, &mut at, compact);
            for _ in 0..n {
                at += 4; // node_id
                skip_string(frame, &mut at, compact);
                patch(frame, at);
                at += 4;
                if version >= 1 {
                    skip_string(frame, &mut at, compact); // rack
                }
                if compact {
                    at = skip_tagged(frame, at);
                }
            }
        }
        FIND_COORDINATOR if version < 4 => {
            if version >= 1 {
                at += 4; // throttle_time_ms
            }
            at += 2; // error_code
            if version >= 1 {
                skip_string(frame, &mut at, compact); // error_message
            }
            at += 4; // node_id
            skip_string(frame, &mut at, compact);
            patch(frame, at);
        }
        FIND_COORDINATOR => {
            at += 4; // throttle_time_ms
            let n = uvarint(frame, &mut at).saturating_sub(1) as usize;
            for _ in 0..n {
                skip_string(frame, &mut at, true); // key
                at += 4; // node_id
                skip_string(frame, &mut at, true);
                patch(frame, at);
                at += 4 + 2; // port, error_code
                skip_string(frame, &mut at, true); // error_message
                at = skip_tagged(frame, at);
            }
        }
        _ => {}
    }
}

/// An ApiVersions response frame with SaslHandshake (v0-1) and
/// SaslAuthenticate (v0-2) added, as a broker with a SASL listener
/// advertises them. The test broker has no SASL of its own.
pub fn add_sasl_api_versions(frame: &[u8], version: i16) -> Vec<u8> {
    let compact = version >= 3;
    let mut at = 4 + 2; // correlation id, error_code
    let mut keys = Vec::new();
    let n = array_len(frame, &mut at, compact);
    for _ in 0..n {
        let (k, min, max) = (
            i16_at(frame, at),
            i16_at(frame, at + 2),
            i16_at(frame, at + 4),
        );
        at += 6;
        if compact {
            at = skip_tagged(frame, at);
        }
        if k != SASL_HANDSHAKE && k != SASL_AUTHENTICATE {
            keys.push((k, min, max));
        }
    }
    keys.push((SASL_HANDSHAKE, 0, 1));
    keys.push((SASL_AUTHENTICATE, 0, 2));
    let mut out = frame[..6].to_vec();
    if compact {
        put_uvarint(&mut out, keys.len() as u64 + 1);
    } else {
        out.extend_from_slice(&(keys.len() as i32).to_be_bytes());
    }
    for (k, min, max) in keys {
        out.extend_from_slice(&k.to_be_bytes());
        out.extend_from_slice(&min.to_be_bytes());
        out.extend_from_slice(&max.to_be_bytes());
        if compact {
            out.push(0);
        }
    }
    out.extend_from_slice(&frame[at..]);
    out
}

/// The mechanism a SaslHandshake request asks for.
pub fn handshake_mechanism(frame: &[u8]) -> String {
    let at = request_body(frame, false);
    let n = i16_at(frame, at).max(0) as usize;
    String::from_utf8_lossy(&frame[at + 2..at + 2 + n]).into_owned()
}

/// The answer to a SaslHandshake: `error` (0 or UNSUPPORTED_SASL_MECHANISM,
/// 33) and the one mechanism enabled.
pub fn handshake_response(correlation_id: i32, error: i16, mechanism: &str) -> Vec<u8> {
    let mut out = correlation_id.to_be_bytes().to_vec();
    out.extend_from_slice(&error.to_be_bytes());
    out.extend_from_slice(&1i32.to_be_bytes());
    out.extend_from_slice(&(mechanism.len() as i16).to_be_bytes());
    out.extend_from_slice(mechanism.as_bytes());
    out
}

/// The auth bytes of a SaslAuthenticate request.
pub fn authenticate_bytes(frame: &[u8], version: i16) -> Vec<u8> {
    let compact = flexible(SASL_AUTHENTICATE, version);
    let mut at = request_body(frame, compact);
    let n = array_len(frame, &mut at, compact);
    frame[at..at + n].to_vec()
}

/// The answer to a SaslAuthenticate.
pub fn authenticate_response(
    correlation_id: i32,
    version: i16,
    error: i16,
    message: Option<&str>,
    bytes: &[u8],
) -> Vec<u8> {
    let compact = flexible(SASL_AUTHENTICATE, version);
    let mut out = correlation_id.to_be_bytes().to_vec();
    if compact {
        out.push(0); // header tagged fields
    }
    out.extend_from_slice(&error.to_be_bytes());
    match (message, compact) {
        (None, true) => out.push(0),
        (None, false) => out.extend_from_slice(&(-1i16).to_be_bytes()),
        (Some(m), true) => {
            put_uvarint(&mut out, m.len() as u64 + 1);
            out.extend_from_slice(m.as_bytes());
        }
        (Some(m), false) => {
            out.extend_from_slice(&(m.len() as i16).to_be_bytes());
            out.extend_from_slice(m.as_bytes());
        }
    }
    if compact {
        put_uvarint(&mut out, bytes.len() as u64 + 1);
    } else {
        out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    }
    out.extend_from_slice(bytes);
    if version >= 1 {
        out.extend_from_slice(&0i64.to_be_bytes()); // session_lifetime_ms
    }
    if compact {
        out.push(0);
    }
    out
}
