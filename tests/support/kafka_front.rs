//! A TLS listener in front of the plaintext test broker, optionally checking
//! SASL/SCRAM or OAUTHBEARER logins, as a cluster's `SSL` or `SASL_SSL`
//! listener does. The
//! test broker has neither TLS nor SASL, and it advertises only its own
//! address; the front rewrites the broker port in Metadata and
//! FindCoordinator answers to its own, so every connection the client makes
//! after the bootstrap one (to the partition leaders, to the group
//! coordinator) goes through TLS too. Certificates come from a CA made for
//! the test (rcgen), with `127.0.0.1` and `localhost` in the server's names.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::rustls;

use super::kafka_wire::{self as wire, RequestHeader};
use super::scram::{Scram, ScramServer};

/// Who may log in, when the front checks SASL.
#[derive(Clone, Debug)]
pub struct ScramLogin {
    pub mechanism: Scram,
    pub user: String,
    pub password: String,
}

/// Checks an OAUTHBEARER token (as MSK checks its IAM tokens).
pub type TokenCheck = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// The login a front asks for.
#[derive(Clone)]
pub enum SaslLogin {
    /// SCRAM with this user and password.
    Scram(ScramLogin),
    /// OAUTHBEARER, the token checked by this function.
    OAuthBearer(TokenCheck),
}

impl SaslLogin {
    fn mechanism(&self) -> &'static str {
        match self {
            SaslLogin::Scram(s) => s.mechanism.name(),
            SaslLogin::OAuthBearer(_) => "OAUTHBEARER",
        }
    }
}

/// One connection's login, as it goes.
enum LoginStep {
    Scram(ScramServer),
    OAuthBearer(TokenCheck),
}

/// A running front.
pub struct KafkaFront {
    /// `127.0.0.1:PORT`, for `bootstrap_servers`.
    pub bootstrap: String,
    /// The test CA that signed the front's certificate (PEM file).
    pub ca_file: PathBuf,
    /// Another CA, which did not (PEM file): for the wrong-CA case.
    pub other_ca_file: PathBuf,
    /// Connections the front accepted, and how many finished the TLS handshake.
    pub stats: Arc<FrontStats>,
    _dir: TempDir,
}

/// What the front saw.
#[derive(Debug, Default)]
pub struct FrontStats {
    pub accepted: std::sync::atomic::AtomicUsize,
    pub tls_established: std::sync::atomic::AtomicUsize,
    pub logins_refused: std::sync::atomic::AtomicUsize,
    pub logins_accepted: std::sync::atomic::AtomicUsize,
    pub requests_forwarded: std::sync::atomic::AtomicUsize,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn new_ca(name: &str) -> rcgen::CertifiedIssuer<'static, rcgen::KeyPair> {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap()).unwrap()
}

impl KafkaFront {
    /// Starts a front for the broker at `broker` (`host:port`), on its own
    /// thread and runtime, so tests that block in rdkafka calls cannot starve
    /// it. It runs until the test process ends.
    pub fn start(broker: &str, login: Option<SaslLogin>) -> KafkaFront {
        let ca = new_ca("qscale test CA");
        let other = new_ca("some other CA");
        let mut leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        leaf.subject_alt_names
            .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
        leaf.distinguished_name
            .push(rcgen::DnType::CommonName, "qscale test broker");
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf_cert = leaf.signed_by(&leaf_key, &ca).unwrap();

        let dir = std::env::temp_dir().join(super::unique("kafka-front"));
        std::fs::create_dir_all(&dir).unwrap();
        let (ca_file, other_ca_file) = (dir.join("ca.pem"), dir.join("other-ca.pem"));
        std::fs::write(&ca_file, ca.pem()).unwrap();
        std::fs::write(&other_ca_file, other.pem()).unwrap();

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf_cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let broker: SocketAddr = broker.parse().expect("broker address host:port");
        let stats = Arc::new(FrontStats::default());
        let (tx, rx) = std::sync::mpsc::channel();
        let thread_stats = stats.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let port = listener.local_addr().unwrap().port();
                tx.send(port).unwrap();
                loop {
                    let Ok((tcp, _)) = listener.accept().await else {
                        continue;
                    };
                    let (acceptor, login, stats) =
                        (acceptor.clone(), login.clone(), thread_stats.clone());
                    tokio::spawn(async move {
                        use std::sync::atomic::Ordering::Relaxed;
                        stats.accepted.fetch_add(1, Relaxed);
                        let Ok(tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        stats.tls_established.fetch_add(1, Relaxed);
                        let Ok(upstream) = TcpStream::connect(broker).await else {
                            return;
                        };
                        serve(tls, upstream, broker.port(), port, login, stats).await;
                    });
                }
            });
        });
        let port = rx.recv().unwrap();
        KafkaFront {
            bootstrap: format!("127.0.0.1:{port}"),
            ca_file,
            other_ca_file,
            stats,
            _dir: TempDir(dir),
        }
    }
}

async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> Option<Vec<u8>> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).await.ok()?;
    let len = i32::from_be_bytes(len);
    if !(0..=100 << 20).contains(&len) {
        return None;
    }
    let mut frame = vec![0u8; len as usize];
    r.read_exact(&mut frame).await.ok()?;
    Some(frame)
}

/// One client connection: requests to the broker (or answered here, for
/// SASL), answers back in order, broker ports rewritten.
async fn serve<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    client: S,
    upstream: TcpStream,
    broker_port: u16,
    front_port: u16,
    login: Option<SaslLogin>,
    stats: Arc<FrontStats>,
) {
    let (mut client_r, mut client_w) = tokio::io::split(client);
    let (mut up_r, mut up_w) = upstream.into_split();
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Option<Vec<u8>>>();
    // Requests forwarded, oldest first: their answers come back in that order.
    let in_flight: Arc<Mutex<VecDeque<RequestHeader>>> = Arc::default();

    let writer = tokio::spawn(async move {
        while let Some(Some(frame)) = out_rx.recv().await {
            let len = (frame.len() as i32).to_be_bytes();
            if client_w.write_all(&len).await.is_err() || client_w.write_all(&frame).await.is_err()
            {
                break;
            }
        }
        let _ = client_w.shutdown().await;
    });

    let answers = {
        let (out_tx, in_flight) = (out_tx.clone(), in_flight.clone());
        let sasl = login.is_some();
        tokio::spawn(async move {
            while let Some(mut frame) = read_frame(&mut up_r).await {
                let Some(h) = in_flight.lock().unwrap().pop_front() else {
                    break;
                };
                match h.api_key {
                    wire::METADATA | wire::FIND_COORDINATOR => wire::rewrite_broker_ports(
                        &mut frame,
                        h.api_key,
                        h.api_version,
                        broker_port,
                        front_port,
                    ),
                    wire::API_VERSIONS if sasl => {
                        frame = wire::add_sasl_api_versions(&frame, h.api_version)
                    }
                    _ => {}
                }
                if out_tx.send(Some(frame)).is_err() {
                    break;
                }
            }
            let _ = out_tx.send(None);
        })
    };

    let mut step = None::<LoginStep>;
    let mut authenticated = login.is_none();
    while let Some(frame) = read_frame(&mut client_r).await {
        let h = wire::request_header(&frame);
        match (h.api_key, &login) {
            (wire::SASL_HANDSHAKE, Some(cfg)) => {
                let asked = wire::handshake_mechanism(&frame);
                let ok = asked == cfg.mechanism();
                step = ok.then(|| match cfg {
                    SaslLogin::Scram(s) => {
                        LoginStep::Scram(ScramServer::new(s.mechanism, &s.user, &s.password))
                    }
                    SaslLogin::OAuthBearer(check) => LoginStep::OAuthBearer(check.clone()),
                });
                let error = if ok { 0 } else { 33 };
                let _ = out_tx.send(Some(wire::handshake_response(
                    h.correlation_id,
                    error,
                    cfg.mechanism(),
                )));
                continue;
            }
            (wire::SASL_AUTHENTICATE, Some(_)) if step.is_some() => {
                let bytes = wire::authenticate_bytes(&frame, h.api_version);
                let (result, done) = match step.as_mut() {
                    Some(LoginStep::Scram(server)) => {
                        let first = !bytes.starts_with(b"c=");
                        let answer = if first {
                            server.first(&bytes)
                        } else {
                            server.last(&bytes)
                        };
                        (answer, !first)
                    }
                    Some(LoginStep::OAuthBearer(check)) => (
                        oauthbearer_token(&bytes)
                            .and_then(|t| check(&t))
                            .map(|()| Vec::new()),
                        true,
                    ),
                    None => unreachable!("guarded above"),
                };
                match result {
                    Ok(answer) => {
                        authenticated = done;
                        if done {
                            stats
                                .logins_accepted
                                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        let _ = out_tx.send(Some(wire::authenticate_response(
                            h.correlation_id,
                            h.api_version,
                            0,
                            None,
                            &answer,
                        )));
                        continue;
                    }
                    Err(why) => {
                        stats
                            .logins_refused
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let message = format!("Authentication failed: {why}");
                        let _ = out_tx.send(Some(wire::authenticate_response(
                            h.correlation_id,
                            h.api_version,
                            wire::AUTHENTICATION_FAILED,
                            Some(&message),
                            &[],
                        )));
                        break;
                    }
                }
            }
            _ => {}
        }
        // A SASL listener answers nothing but ApiVersions before the login.
        if !authenticated && h.api_key != wire::API_VERSIONS {
            break;
        }
        in_flight.lock().unwrap().push_back(h);
        stats
            .requests_forwarded
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let len = (frame.len() as i32).to_be_bytes();
        if up_w.write_all(&len).await.is_err() || up_w.write_all(&frame).await.is_err() {
            break;
        }
    }
    // Let the answers already sent reach the client, then close.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let _ = out_tx.send(None);
    answers.abort();
    let _ = writer.await;
}

/// The token of an OAUTHBEARER initial response (RFC 7628):
/// `n,,\x01auth=Bearer <token>\x01[key=value\x01]*\x01`.
fn oauthbearer_token(bytes: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the initial response is not UTF-8")?;
    let rest = text
        .strip_prefix("n,")
        .ok_or("the initial response has no GS2 header")?;
    rest.split('\x01')
        .find_map(|kv| kv.strip_prefix("auth=Bearer "))
        .map(str::to_string)
        .ok_or_else(|| "no auth=Bearer in the initial response".to_string())
}
