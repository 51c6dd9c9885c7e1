//! A proxy in front of moto that injects random faults into any AWS call:
//! throttling, 5xx, a connection reset before forwarding, and latency beyond
//! the SDK's attempt timeout *after* forwarding (the call took effect, its
//! answer is lost: the nastiest case). It logs the actuations it forwarded
//! and moto accepted, so a test can tell which invoker acted on what.
//!
//! DynamoDB writes are forwarded one at a time across every proxy of the
//! process: moto serves requests on threads, and its conditional `PutItem`
//! checks the condition and writes in two steps, so two concurrent writes
//! conditional on the same version both succeeded in 1 of 300 tries here
//! (`dynamo_conditional_writes_through_two_proxies_are_atomic` in
//! tests/aws/faults.rs). DynamoDB itself applies a conditional write
//! atomically; without this, the soak counted moto's race as two invokers
//! acting on one tick.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex as AsyncMutex;

use super::fault_proxy::{answer, error_response, find, forward, read_request};

/// Held while a DynamoDB write is forwarded (see the module doc).
static DYNAMO_WRITES: AsyncMutex<()> = AsyncMutex::const_new(());

/// Whether the request is a DynamoDB write (moto checks its condition and
/// writes in two steps).
fn is_dynamo_write(head: &str) -> bool {
    let lower = head.to_ascii_lowercase();
    [
        "putitem",
        "updateitem",
        "deleteitem",
        "batchwriteitem",
        "transactwriteitems",
    ]
    .iter()
    .any(|op| lower.contains(&format!("x-amz-target: dynamodb_20120810.{op}")))
}

/// Fault probabilities, per call.
#[derive(Clone, Copy, Debug)]
pub struct Chaos {
    /// Seed of the proxy's generator.
    pub seed: u64,
    /// `ThrottlingException` (HTTP 400; retried by the SDK).
    pub throttle: f64,
    /// HTTP 500 (retried by the SDK).
    pub server_error: f64,
    /// Connection closed before forwarding.
    pub reset: f64,
    /// Forwarded, answered after `latency` (beyond the attempt timeout).
    pub slow: f64,
    /// The delay of a slow answer.
    pub latency: Duration,
}

impl Chaos {
    /// No random faults: only what the test sets (blackholed calls).
    pub fn none() -> Chaos {
        Chaos {
            seed: 1,
            throttle: 0.0,
            server_error: 0.0,
            reset: 0.0,
            slow: 0.0,
            latency: Duration::ZERO,
        }
    }
}

/// Injected faults by kind.
#[derive(Debug, Default)]
pub struct FaultCounts {
    /// Throttled calls.
    pub throttle: AtomicU64,
    /// 5xx answers.
    pub server_error: AtomicU64,
    /// Connections reset.
    pub reset: AtomicU64,
    /// Answers delayed beyond the timeout.
    pub slow: AtomicU64,
}

impl FaultCounts {
    /// (throttle, 5xx, reset, slow).
    pub fn get(&self) -> [u64; 4] {
        [
            self.throttle.load(Ordering::SeqCst),
            self.server_error.load(Ordering::SeqCst),
            self.reset.load(Ordering::SeqCst),
            self.slow.load(Ordering::SeqCst),
        ]
    }
}

/// A running chaos proxy.
pub struct ChaosProxy {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Faults injected so far.
    pub faults: Arc<FaultCounts>,
    /// Actuations moto accepted through this proxy (ECS service or Lambda
    /// function named in the request), since the last `take_actuations`.
    actuations: Arc<Mutex<Vec<String>>>,
    /// Bodies of the requests that took effect but whose answers the caller
    /// gave up on: delayed by the proxy, or moto itself answering after the
    /// SDK's attempt timeout (the caller could not know either way).
    pub lost_answers: Arc<Mutex<Vec<String>>>,
    /// Of those, the ones moto itself answered too late.
    pub late_answers: Arc<AtomicU64>,
    enabled: Arc<AtomicBool>,
    /// Requests whose head contains one of these (lowercase) are read and
    /// never answered: a destination that accepts and stays silent.
    blackholed: Arc<Mutex<Vec<String>>>,
    /// Requests held unanswered so far.
    pub held: Arc<AtomicU64>,
    /// The IAM actions moto refused ("not authorized to perform: ACTION").
    pub denied: Arc<Mutex<Vec<String>>>,
    /// Every call forwarded: its `X-Amz-Target`, or method and path (REST).
    pub operations: Arc<Mutex<Vec<String>>>,
}

impl ChaosProxy {
    /// Starts a proxy to `upstream` (host:port); it stops accepting after
    /// `max_connections`.
    pub async fn start(upstream: String, chaos: Chaos, max_connections: usize) -> ChaosProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let proxy = ChaosProxy {
            endpoint,
            faults: Arc::new(FaultCounts::default()),
            actuations: Arc::new(Mutex::new(Vec::new())),
            lost_answers: Arc::new(Mutex::new(Vec::new())),
            late_answers: Arc::new(AtomicU64::new(0)),
            enabled: Arc::new(AtomicBool::new(true)),
            blackholed: Arc::new(Mutex::new(Vec::new())),
            held: Arc::new(AtomicU64::new(0)),
            denied: Arc::new(Mutex::new(Vec::new())),
            operations: Arc::new(Mutex::new(Vec::new())),
        };
        let (faults, actuations, enabled, lost, late) = (
            proxy.faults.clone(),
            proxy.actuations.clone(),
            proxy.enabled.clone(),
            proxy.lost_answers.clone(),
            proxy.late_answers.clone(),
        );
        let (blackholed, held) = (proxy.blackholed.clone(), proxy.held.clone());
        let (denied, operations) = (proxy.denied.clone(), proxy.operations.clone());
        let rng = Arc::new(AtomicU64::new(chaos.seed.max(1)));
        tokio::spawn(async move {
            for _ in 0..max_connections {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let fault = if enabled.load(Ordering::SeqCst) {
                    pick(&chaos, next_unit(&rng))
                } else {
                    None
                };
                let (upstream, faults, actuations, lost, late) = (
                    upstream.clone(),
                    faults.clone(),
                    actuations.clone(),
                    lost.clone(),
                    late.clone(),
                );
                let (blackholed, held) = (blackholed.lock().unwrap().clone(), held.clone());
                let (denied, operations) = (denied.clone(), operations.clone());
                tokio::spawn(async move {
                    let logs = Logs {
                        faults: &faults,
                        actuations: &actuations,
                        lost_answers: &lost,
                        late_answers: &late,
                        blackholed: &blackholed,
                        held: &held,
                        denied: &denied,
                        operations: &operations,
                    };
                    let _ = handle(client, &upstream, fault, chaos.latency, logs).await;
                });
            }
        });
        proxy
    }

    /// Turns fault injection on or off.
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::SeqCst);
    }

    /// Holds every later request whose head contains one of `needles`
    /// (lowercase) unanswered; an empty list lifts it.
    pub fn set_blackholed(&self, needles: &[&str]) {
        *self.blackholed.lock().unwrap() = needles.iter().map(|n| n.to_string()).collect();
    }

    /// The actuations logged since the last call.
    pub fn take_actuations(&self) -> Vec<String> {
        std::mem::take(&mut self.actuations.lock().unwrap())
    }
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    Throttle,
    ServerError,
    Reset,
    Slow,
}

fn pick(c: &Chaos, u: f64) -> Option<Fault> {
    let mut edge = 0.0;
    for (p, f) in [
        (c.throttle, Fault::Throttle),
        (c.server_error, Fault::ServerError),
        (c.reset, Fault::Reset),
        (c.slow, Fault::Slow),
    ] {
        edge += p;
        if u < edge {
            return Some(f);
        }
    }
    None
}

/// xorshift64*: a seeded, lock-free uniform in [0, 1).
fn next_unit(state: &AtomicU64) -> f64 {
    let mut x = state.load(Ordering::SeqCst);
    loop {
        let mut y = x;
        y ^= y >> 12;
        y ^= y << 25;
        y ^= y >> 27;
        match state.compare_exchange(x, y, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => {
                return (y.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
            }
            Err(now) => x = now,
        }
    }
}

/// The resource an actuation request names, if it is one.
fn actuation(head: &str, body: &str) -> Option<String> {
    let lower = head.to_ascii_lowercase();
    if lower.contains("x-amz-target: amazonec2containerservicev20141113.updateservice") {
        let v: serde_json::Value = serde_json::from_str(body).ok()?;
        return Some(format!("ecs:{}", v["service"].as_str()?));
    }
    // Lambda is REST: PUT /2017-10-31/functions/NAME/concurrency (or DELETE).
    let request_line = head.lines().next()?;
    let path = request_line.split_whitespace().nth(1)?;
    let name = path
        .strip_prefix("/2017-10-31/functions/")?
        .strip_suffix("/concurrency")?;
    Some(format!("lambda:{name}"))
}

/// Where a request's fate is recorded.
struct Logs<'a> {
    faults: &'a FaultCounts,
    actuations: &'a Mutex<Vec<String>>,
    lost_answers: &'a Mutex<Vec<String>>,
    late_answers: &'a AtomicU64,
    blackholed: &'a [String],
    held: &'a AtomicU64,
    denied: &'a Mutex<Vec<String>>,
    operations: &'a Mutex<Vec<String>>,
}

/// The call a request makes: its `X-Amz-Target`, or method and path (REST).
fn operation(head: &str) -> String {
    head.lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("x-amz-target")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| {
            let mut words = head.lines().next().unwrap_or("").split_whitespace();
            let method = words.next().unwrap_or("");
            let path = words.next().unwrap_or("").split('?').next().unwrap_or("");
            format!("{method} {path}")
        })
}

/// The action an IAM refusal names, if the answer is one. S3 refuses an
/// object read with a bare 403 (no body on a HEAD): that is `s3:GetObject`.
fn denied_action(head: &str, response: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(response);
    let rest_read = ["GET ", "HEAD "].iter().any(|m| head.starts_with(m))
        && !head.to_ascii_lowercase().contains("x-amz-target:");
    if rest_read && text.starts_with("HTTP/1.1 403") && !text.contains("not authorized to perform")
    {
        return Some("s3:GetObject".into());
    }
    let rest = text.split("not authorized to perform: ").nth(1)?;
    let action: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '-')
        .collect();
    (!action.is_empty()).then_some(action)
}

async fn handle(
    mut client: TcpStream,
    upstream: &str,
    fault: Option<Fault>,
    latency: Duration,
    logs: Logs<'_>,
) -> std::io::Result<()> {
    let Logs {
        faults,
        actuations,
        lost_answers,
        late_answers,
        blackholed,
        held,
        denied,
        operations,
    } = logs;
    // From the connection, not the forward: the SDK's attempt clock started
    // before the proxy read the request.
    let asked = std::time::Instant::now();
    let request = read_request(&mut client).await?;
    let end = find(&request, b"\r\n\r\n").unwrap_or(0);
    let head = String::from_utf8_lossy(&request[..end]).to_string();
    let body = String::from_utf8_lossy(&request[(end + 4).min(request.len())..]).to_string();
    let lower = head.to_ascii_lowercase();
    if blackholed.iter().any(|n| lower.contains(n.as_str())) {
        held.fetch_add(1, Ordering::SeqCst);
        super::blackhole::hold(client).await;
        return Ok(());
    }
    let injected = |status: &str, code: &str| {
        error_response(status, code, "injected by the chaos proxy").into_bytes()
    };
    match fault {
        Some(Fault::Throttle) => {
            faults.throttle.fetch_add(1, Ordering::SeqCst);
            let r = injected("400 Bad Request", "ThrottlingException");
            return answer(&mut client, &r).await;
        }
        Some(Fault::ServerError) => {
            faults.server_error.fetch_add(1, Ordering::SeqCst);
            let r = injected("500 Internal Server Error", "InternalFailure");
            return answer(&mut client, &r).await;
        }
        Some(Fault::Reset) => {
            faults.reset.fetch_add(1, Ordering::SeqCst);
            // Dropping the socket unanswered: the client sees the connection close.
            return Ok(());
        }
        _ => {}
    }
    let response = if is_dynamo_write(&head) {
        let _one_at_a_time = DYNAMO_WRITES.lock().await;
        forward(upstream, &request).await?
    } else {
        forward(upstream, &request).await?
    };
    operations.lock().unwrap().push(operation(&head));
    if let Some(action) = denied_action(&head, &response) {
        denied.lock().unwrap().push(action);
    }
    let ok = response.starts_with(b"HTTP/1.1 2") || response.starts_with(b"HTTP/1.0 2");
    if ok {
        if let Some(resource) = actuation(&head, &body) {
            actuations.lock().unwrap().push(resource);
        }
    }
    if let Some(Fault::Slow) = fault {
        faults.slow.fetch_add(1, Ordering::SeqCst);
        lost_answers.lock().unwrap().push(body.clone());
        tokio::time::sleep(latency).await;
    } else if ok && asked.elapsed() >= qscale_aws::ATTEMPT_TIMEOUT {
        late_answers.fetch_add(1, Ordering::SeqCst);
        lost_answers.lock().unwrap().push(body.clone());
    }
    answer(&mut client, &response).await
}
