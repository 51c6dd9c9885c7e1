//! Several futures polled together without an async runtime (the core has
//! none): audit destinations are independent, so an event goes to all of
//! them at once and the slowest one, not their sum, sets the wait.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;

/// Every future's output, in the order given, once all have finished.
pub async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut running: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = running.iter().map(|_| None).collect();
    poll_fn(move |cx| {
        let mut waiting = false;
        for (future, output) in running.iter_mut().zip(done.iter_mut()) {
            // A finished future is never polled again.
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(v) => *output = Some(v),
                    Poll::Pending => waiting = true,
                }
            }
        }
        if waiting {
            Poll::Pending
        } else {
            Poll::Ready(std::mem::take(&mut done).into_iter().flatten().collect())
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::reconcile::memory::block_on_ready;

    /// Pending `n` times (waking itself), then ready with `v`.
    async fn after(n: usize, v: u32, polls: &Cell<usize>) -> u32 {
        let mut left = n;
        poll_fn(|cx| {
            polls.set(polls.get() + 1);
            if left == 0 {
                return Poll::Ready(v);
            }
            left -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        })
        .await
    }

    #[test]
    fn outputs_come_in_order_and_each_future_is_polled_until_ready_only() {
        let polls = [Cell::new(0), Cell::new(0), Cell::new(0)];
        let mut fut = std::pin::pin!(join_all(vec![
            after(2, 10, &polls[0]),
            after(0, 20, &polls[1]),
            after(1, 30, &polls[2]),
        ]));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let mut rounds = 0;
        let out = loop {
            rounds += 1;
            if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
                break v;
            }
        };
        assert_eq!(out, [10, 20, 30]);
        assert_eq!(rounds, 3);
        assert_eq!(polls.each_ref().map(|p| p.get()), [3, 1, 2]);
        assert!(block_on_ready(join_all(Vec::<std::future::Ready<u8>>::new())).is_empty());
    }
}
