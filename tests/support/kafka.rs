//! Helpers for tests against the local Kafka-protocol broker (noida-db):
//! topics created explicitly with unique names, real produce and consume.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

/// host:port of the test broker.
pub fn bootstrap() -> String {
    std::env::var("QSCALE_TEST_KAFKA").unwrap_or_else(|_| "127.0.0.1:9092".into())
}

fn config() -> ClientConfig {
    let addr = bootstrap();
    if std::net::TcpStream::connect(&addr).is_err() {
        panic!("no Kafka broker at {addr}: start it with `scripts/services.sh start` (scripts/test.sh does)");
    }
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &addr);
    c
}

/// Creates a topic with `partitions` partitions.
pub async fn create_topic(topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = config().create().unwrap();
    let results = admin
        .create_topics(
            &[NewTopic::new(topic, partitions, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        )
        .await
        .unwrap();
    for r in results {
        r.unwrap_or_else(|(t, e)| panic!("creating topic {t}: {e}"));
    }
}

/// Produces `counts[p]` messages to each partition `p` and waits for delivery.
pub fn produce(topic: &str, counts: &[usize]) {
    let producer: BaseProducer = config().create().unwrap();
    send_all(&producer, topic, counts, "m");
    producer.flush(Duration::from_secs(10)).unwrap();
}

/// Consumes `n` messages of `topic` from the beginning as `group`, commits
/// what it consumed, and returns the count consumed per partition.
pub fn consume_and_commit(topic: &str, group: &str, partitions: i32, n: usize) -> Vec<usize> {
    let consumer: BaseConsumer = config()
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut per_partition = vec![0; partitions as usize];
    let mut done = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut last = TopicPartitionList::new();
    while done < n {
        assert!(
            std::time::Instant::now() < deadline,
            "consumed only {done} of {n}"
        );
        if let Some(m) = consumer.poll(Duration::from_millis(200)) {
            let m = m.unwrap();
            per_partition[m.partition() as usize] += 1;
            done += 1;
            // Commit exactly what was consumed: the next offset per partition.
            let _ = last
                .set_partition_offset(topic, m.partition(), Offset::Offset(m.offset() + 1))
                .or_else(|_| {
                    last.add_partition_offset(topic, m.partition(), Offset::Offset(m.offset() + 1))
                });
        }
    }
    // The group reads every partition from the beginning: a partition nothing
    // was polled from yet is committed at 0, not left without an offset.
    for p in 0..partitions {
        if per_partition[p as usize] == 0 {
            last.add_partition_offset(topic, p, Offset::Offset(0))
                .unwrap();
        }
    }
    consumer.commit(&last, CommitMode::Sync).unwrap();
    per_partition
}

/// Commits offsets for a group without consuming (to freeze a partition).
pub fn commit(topic: &str, group: &str, offsets: &[(i32, i64)]) {
    let consumer: BaseConsumer = config()
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for &(p, o) in offsets {
        tpl.add_partition_offset(topic, p, Offset::Offset(o))
            .unwrap();
    }
    consumer.commit(&tpl, CommitMode::Sync).unwrap();
}

/// The topic's partition count.
pub fn partition_count(topic: &str) -> usize {
    let consumer: BaseConsumer = config().create().unwrap();
    let md = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(5))
        .unwrap();
    md.topics()[0].partitions().len()
}

/// A live group member in a background thread: subscribed to `topic` as
/// `group`, it commits what it reads from every partition except `frozen`,
/// until dropped.
pub struct Member {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Member {
    /// Joins the group and waits until it owns partitions.
    pub fn join(topic: &str, group: &str, frozen: i32) -> Member {
        use std::sync::atomic::{AtomicBool, Ordering};
        let consumer: BaseConsumer = config()
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "10000")
            .create()
            .unwrap();
        consumer.subscribe(&[topic]).unwrap();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let (stop2, topic) = (stop.clone(), topic.to_string());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let mut announced = false;
            // Bounded: at most two minutes, in case the test never drops it.
            let deadline = std::time::Instant::now() + Duration::from_secs(120);
            while !stop2.load(Ordering::Relaxed) && std::time::Instant::now() < deadline {
                if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
                    if m.partition() != frozen {
                        let mut tpl = TopicPartitionList::new();
                        tpl.add_partition_offset(
                            &topic,
                            m.partition(),
                            Offset::Offset(m.offset() + 1),
                        )
                        .unwrap();
                        let _ = consumer.commit(&tpl, CommitMode::Sync);
                    }
                }
                if !announced
                    && consumer
                        .assignment()
                        .map(|a| a.count() > 0)
                        .unwrap_or(false)
                {
                    announced = true;
                    let _ = ready_tx.send(());
                }
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the member got no partitions within 30 s");
        Member {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Every message on a single-partition topic as (key, payload), read from the
/// beginning until none arrives for two seconds.
pub fn read_all(topic: &str) -> Vec<(String, String)> {
    let consumer: BaseConsumer = config()
        .set("group.id", format!("reader-{topic}"))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let mut idle_since = std::time::Instant::now();
    while idle_since.elapsed() < Duration::from_secs(2) {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            let key = m
                .key()
                .map(|k| String::from_utf8_lossy(k).into_owned())
                .unwrap_or_default();
            let payload = m
                .payload()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .unwrap_or_default();
            out.push((key, payload));
            idle_since = std::time::Instant::now();
        }
    }
    out
}

/// Produces `counts[p]` messages to each partition `p` in one transaction
/// (a transactional producer, committed): each partition then ends in a
/// commit marker, one offset past its last message.
pub fn produce_in_transaction(topic: &str, counts: &[usize]) {
    let producer: BaseProducer = config()
        .set("transactional.id", super::unique("txn"))
        .create()
        .unwrap();
    producer
        .init_transactions(Duration::from_secs(10))
        .expect("the broker supports transactions");
    producer.begin_transaction().unwrap();
    send_all(&producer, topic, counts, "t");
    producer
        .commit_transaction(Duration::from_secs(10))
        .unwrap();
}

/// Queues `counts[p]` messages (`{prefix}{i}`) to each partition `p`,
/// waiting for room in the producer's queue when it is full.
fn send_all(producer: &BaseProducer, topic: &str, counts: &[usize], prefix: &str) {
    for (p, &n) in counts.iter().enumerate() {
        for i in 0..n {
            let payload = format!("{prefix}{i}");
            let mut record = BaseRecord::<(), str>::to(topic)
                .payload(&payload)
                .partition(p as i32);
            loop {
                match producer.send(record) {
                    Ok(()) => break,
                    Err((_, r)) => {
                        record = r;
                        producer.poll(Duration::from_millis(10));
                    }
                }
            }
        }
    }
}
