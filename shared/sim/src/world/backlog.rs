//! Messages waiting, in arrival order, stored as runs per second so a backlog
//! of millions costs a few thousand entries.

use std::collections::VecDeque;

/// A run of messages that arrived in the same second.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    arrived: u32,
    count: u32,
}

/// Messages waiting, oldest first, in run-length buckets.
#[derive(Debug, Default, Clone)]
pub(super) struct Backlog {
    buckets: VecDeque<Bucket>,
    pub(super) len: u64,
    pub(super) produced: u64,
    pub(super) taken: u64,
}

impl Backlog {
    pub(super) fn push(&mut self, t: u32, n: u32) {
        if n == 0 {
            return;
        }
        match self.buckets.back_mut() {
            Some(b) if b.arrived == t => b.count += n,
            _ => self.buckets.push_back(Bucket {
                arrived: t,
                count: n,
            }),
        }
        self.len += n as u64;
        self.produced += n as u64;
    }
    pub(super) fn pop(&mut self) -> Option<u32> {
        let b = self.buckets.front_mut()?;
        let t = b.arrived;
        b.count -= 1;
        if b.count == 0 {
            self.buckets.pop_front();
        }
        self.len -= 1;
        self.taken += 1;
        Some(t)
    }
    /// A message taken earlier comes back (its worker was killed), in
    /// arrival order: it is neither produced nor taken again.
    pub(super) fn put_back(&mut self, arrived: u32) {
        let at = self.buckets.partition_point(|b| b.arrived < arrived);
        match self.buckets.get_mut(at) {
            Some(b) if b.arrived == arrived => b.count += 1,
            _ => self.buckets.insert(at, Bucket { arrived, count: 1 }),
        }
        self.len += 1;
        self.taken -= 1;
    }
    pub(super) fn oldest(&self) -> Option<u32> {
        self.buckets.front().map(|b| b.arrived)
    }
}
