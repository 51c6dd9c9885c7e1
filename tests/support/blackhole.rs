//! A TCP endpoint that accepts connections and never answers (a blackholed
//! destination: a firewall dropping replies, a hung broker), or, once lifted,
//! forwards them to a real server. Bounded in connections and in how long it
//! holds each one.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

/// A running blackhole.
pub struct Blackhole {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// Connections held silent so far.
    pub held: Arc<AtomicU64>,
    lifted: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Blackhole {
    /// Starts dark; once lifted, new connections go to `upstream` (host:port).
    /// It stops accepting after `max_connections`.
    pub async fn start(upstream: String, max_connections: usize) -> Blackhole {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let held = Arc::new(AtomicU64::new(0));
        let lifted = Arc::new(AtomicBool::new(false));
        let (h, l) = (held.clone(), lifted.clone());
        let task = tokio::spawn(async move {
            for _ in 0..max_connections {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                if l.load(Ordering::SeqCst) {
                    tokio::spawn(forward(client, upstream.clone()));
                } else {
                    h.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(hold(client));
                }
            }
        });
        Blackhole {
            addr,
            held,
            lifted,
            task,
        }
    }

    /// From now on, connections are forwarded (those held stay silent).
    pub fn lift(&self) {
        self.lifted.store(true, Ordering::SeqCst);
    }
}

impl Drop for Blackhole {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads and drops whatever comes, answers nothing, until the peer closes
/// (at most 2 minutes).
pub(crate) async fn hold(mut client: TcpStream) {
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(120), async {
        while matches!(client.read(&mut buf).await, Ok(n) if n > 0) {}
    })
    .await;
}

async fn forward(mut client: TcpStream, upstream: String) {
    if let Ok(mut server) = TcpStream::connect(&upstream).await {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
    }
}
