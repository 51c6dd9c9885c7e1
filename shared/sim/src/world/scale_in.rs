//! Which workers stop when the desired count falls, per worker kind: ECS
//! picks tasks blind to their work (unless they hold task scale-in
//! protection), Lambda ends no invocation in progress. The stopping itself
//! is world physics (`World::stop_idle_first`, `World::stop_at_random`).

/// Which workers stop when the desired count falls: the worker kind decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VictimOrder {
    /// Starting workers first, then idle ones, then busy ones, which finish
    /// their message: lowering a Lambda function's concurrency ends no
    /// invocation in progress.
    IdleFirst,
    /// An ECS service without task scale-in protection: the scheduler picks
    /// tasks to keep Availability Zones balanced, blind to whether they are
    /// busy (here: uniformly at random among starting and running tasks). A
    /// busy one is sent SIGTERM, finishes its message if it can within
    /// `stop_timeout_s` (taking no other), and is killed otherwise.
    #[default]
    Placement,
    /// An ECS service whose workers hold task scale-in protection while a
    /// message is in hand: only unprotected tasks (starting, idle) are
    /// picked, at random; a busy surplus task stops once its message is done
    /// and its protection cleared.
    Protected,
}
