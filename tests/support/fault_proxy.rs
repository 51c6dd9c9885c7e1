//! A small HTTP proxy in front of moto that answers chosen AWS calls with
//! faults (throttling, 5xx, access denied) and forwards the rest, so the
//! SDK's real retry and error paths run against a real server.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What to answer instead of forwarding.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// HTTP 400 `ThrottlingException` (the SDK retries it with backoff).
    Throttle,
    /// HTTP 500 (the SDK retries it).
    ServerError,
    /// HTTP 400 `AccessDenied` (not retried).
    AccessDenied,
    /// Forwarded (the call takes effect), then answered HTTP 500: the caller
    /// cannot tell, and the SDK retries a call that already happened.
    ServerErrorAfterForwarding,
}

/// One rule: the first `times` requests whose `X-Amz-Target` ends with `operation` get `fault`.
#[derive(Clone, Debug)]
pub struct Rule {
    /// e.g. `GetQueueAttributes`.
    pub operation: &'static str,
    /// The fault.
    pub fault: Fault,
    /// How many requests it applies to (`u32::MAX`: all).
    pub times: u32,
}

/// A running proxy.
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Operations seen, in order, with whether they were faulted.
    pub seen: Arc<Mutex<Vec<(String, bool)>>>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (host:port) applying `rules`.
    pub async fn start(upstream: String, rules: Vec<Rule>) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let rules = Arc::new(Mutex::new(rules));
        let seen2 = seen.clone();
        tokio::spawn(async move {
            // Bounded: a test makes a handful of calls; stop after 1,000 connections.
            for _ in 0..1000 {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let (upstream, rules, seen) = (upstream.clone(), rules.clone(), seen2.clone());
                tokio::spawn(async move {
                    let _ = handle(client, &upstream, &rules, &seen).await;
                });
            }
        });
        FaultProxy { endpoint, seen }
    }

    /// How many requests for `operation` arrived.
    pub fn count(&self, operation: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(op, _)| op.ends_with(operation))
            .count()
    }
}

pub(crate) async fn read_request(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(buf);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(buf);
        }
    }
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn handle(
    mut client: TcpStream,
    upstream: &str,
    rules: &Mutex<Vec<Rule>>,
    seen: &Mutex<Vec<(String, bool)>>,
) -> std::io::Result<()> {
    let request = read_request(&mut client).await?;
    let head =
        String::from_utf8_lossy(&request[..find(&request, b"\r\n\r\n").unwrap_or(0)]).to_string();
    let operation = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("x-amz-target")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    let fault = {
        let mut rules = rules.lock().unwrap();
        rules
            .iter_mut()
            .find(|r| r.times > 0 && operation.ends_with(r.operation))
            .map(|r| {
                r.times = r.times.saturating_sub(1);
                r.fault
            })
    };
    seen.lock().unwrap().push((operation, fault.is_some()));
    if let Some(fault) = fault {
        let (status, code, message) = match fault {
            Fault::Throttle => ("400 Bad Request", "ThrottlingException", "Rate exceeded"),
            Fault::ServerError => (
                "500 Internal Server Error",
                "InternalFailure",
                "injected 5xx",
            ),
            Fault::AccessDenied => (
                "400 Bad Request",
                "AccessDenied",
                "injected: not authorized",
            ),
            Fault::ServerErrorAfterForwarding => (
                "500 Internal Server Error",
                "InternalFailure",
                "injected after the call took effect",
            ),
        };
        if let Fault::ServerErrorAfterForwarding = fault {
            // The call takes effect upstream; only its answer is replaced.
            forward(upstream, &request).await?;
        }
        return answer(
            &mut client,
            error_response(status, code, message).as_bytes(),
        )
        .await;
    }
    let response = forward(upstream, &request).await?;
    answer(&mut client, &response).await
}

/// An AWS error answer, understood by the JSON protocols (`__type`), the
/// query protocols (`x-amzn-query-error`) and REST-JSON (`x-amzn-errortype`).
pub(crate) fn error_response(status: &str, code: &str, message: &str) -> String {
    let body = format!(r#"{{"__type":"{code}","message":"{message}"}}"#);
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.0\r\nx-amzn-query-error: {code};Sender\r\nx-amzn-errortype: {code}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Sends the request upstream as is and returns the whole answer (moto
/// closes the connection after it).
pub(crate) async fn forward(upstream: &str, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(request).await?;
    let mut response = Vec::new();
    server.read_to_end(&mut response).await?;
    Ok(response)
}

/// Writes the answer and closes the client connection.
pub(crate) async fn answer(client: &mut TcpStream, response: &[u8]) -> std::io::Result<()> {
    client.write_all(response).await?;
    client.shutdown().await
}
