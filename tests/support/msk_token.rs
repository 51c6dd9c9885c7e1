//! An MSK IAM token checked as the broker checks it, written from the SigV4
//! spec with ring's HMAC and SHA-256 (not with aws-sigv4, which signs
//! qscale's tokens): the presigned URL's host, action and scope, its time
//! window, and its signature recomputed from the secret key.

use std::time::{Duration, SystemTime};

use base64::Engine;
use ring::{digest, hmac};

/// The credentials the checker trusts.
#[derive(Clone, Debug)]
pub struct TrustedKey {
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn mac(key: &[u8], data: &str) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
        .as_ref()
        .to_vec()
}

/// The presigned URL a token encodes.
pub fn decode(token: &str) -> Result<String, String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|e| format!("not base64url: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "not UTF-8".into())
}

/// A query parameter's raw (still encoded) value.
pub fn param<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    let query = url.split_once('?')?.1;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

/// `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`) as a time.
pub fn amz_date(value: &str) -> Result<SystemTime, String> {
    let ts: jiff::Timestamp = jiff::fmt::strtime::parse("%Y%m%dT%H%M%SZ", value)
        .and_then(|t| t.to_datetime())
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
        .map(|z| z.timestamp())
        .map_err(|e| format!("X-Amz-Date {value:?}: {e}"))?;
    Ok(SystemTime::UNIX_EPOCH + Duration::from_secs(ts.as_second() as u64))
}

/// Whether `token` is a valid MSK IAM token for `key` at `now`.
pub fn check(token: &str, key: &TrustedKey, now: SystemTime) -> Result<(), String> {
    let url = decode(token)?;
    let host = format!("kafka.{}.amazonaws.com", key.region);
    let (base, query) = url.split_once('?').ok_or("no query")?;
    if base != format!("https://{host}/") {
        return Err(format!("signed for {base}, not https://{host}/"));
    }
    let need = |name: &str| param(&url, name).ok_or(format!("no {name}"));
    if need("Action")? != "kafka-cluster%3AConnect" {
        return Err("not a kafka-cluster:Connect".into());
    }
    if need("X-Amz-Algorithm")? != "AWS4-HMAC-SHA256" || need("X-Amz-SignedHeaders")? != "host" {
        return Err("not AWS4-HMAC-SHA256 over the host header".into());
    }
    let date = need("X-Amz-Date")?;
    let scope = format!("{}/{}/kafka-cluster/aws4_request", &date[..8], key.region);
    let credential = format!("{}/{scope}", key.access_key_id).replace('/', "%2F");
    if need("X-Amz-Credential")? != credential {
        return Err(format!(
            "signed by {}, not {credential}",
            need("X-Amz-Credential")?
        ));
    }
    let signed_at = amz_date(date)?;
    let expires: u64 = need("X-Amz-Expires")?
        .parse()
        .map_err(|_| "X-Amz-Expires")?;
    if signed_at > now + Duration::from_secs(300) {
        return Err("signed in the future".into());
    }
    if signed_at + Duration::from_secs(expires) <= now {
        return Err("the token has expired".into());
    }
    // Every parameter but the signature and the unsigned User-Agent, sorted.
    let mut pairs: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.starts_with("X-Amz-Signature=") && !kv.starts_with("User-Agent="))
        .collect();
    pairs.sort_unstable();
    let canonical = format!(
        "GET\n/\n{}\nhost:{host}\n\nhost\n{}",
        pairs.join("&"),
        hex(digest::digest(&digest::SHA256, b"").as_ref())
    );
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{date}\n{scope}\n{}",
        hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    );
    let mut k = mac(
        format!("AWS4{}", key.secret_access_key).as_bytes(),
        &date[..8],
    );
    for part in [key.region.as_str(), "kafka-cluster", "aws4_request"] {
        k = mac(&k, part);
    }
    let signature = hex(&mac(&k, &to_sign));
    if need("X-Amz-Signature")? != signature {
        return Err("the signature does not match".into());
    }
    Ok(())
}
