//! Error values of the pool: loading, checkout and calls, plus why an
//! instance was retired.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use miette::Diagnostic;
use thiserror::Error;

/// Why loading a component, checking out an instance or returning one failed.
#[derive(Debug, Error, Diagnostic)]
#[non_exhaustive]
pub enum PoolError {
    /// The component file could not be read.
    #[error("cannot read component {}", path.display())]
    #[diagnostic(code(temper::pool::read))]
    Read {
        /// The file that was asked for.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },

    /// The bytes are not a WebAssembly component (for example a core module).
    #[error("not a WebAssembly component: {detail}")]
    #[diagnostic(
        code(temper::pool::not_a_component),
        help("build the guest as a component, e.g. for wasm32-wasip2 or with wit-component")
    )]
    NotAComponent {
        /// What was found instead.
        detail: String,
    },

    /// The component does not implement the world the pool serves.
    #[error("component does not implement {world}: {detail}")]
    #[diagnostic(
        code(temper::pool::world_mismatch),
        help("the guest must export the `extract` interface of wit/extractor.wit")
    )]
    WorldMismatch {
        /// The expected world.
        world: &'static str,
        /// What did not match.
        detail: String,
    },

    /// wasmtime rejected the configuration or failed to compile the component.
    #[error("cannot prepare the component: {detail}")]
    #[diagnostic(code(temper::pool::prepare))]
    Prepare {
        /// wasmtime's message, with its causes.
        detail: String,
    },

    /// No instance became free within the checkout timeout.
    #[error("no instance became free within {waited:?}")]
    #[diagnostic(
        code(temper::pool::checkout_timeout),
        help("raise max-instances or the checkout timeout, or release instances sooner")
    )]
    CheckoutTimeout {
        /// How long the checkout waited.
        waited: Duration,
    },

    /// Instance creation is suspended after repeated failures.
    #[error("circuit breaker open after repeated creation failures; retry in {retry_after:?}")]
    #[diagnostic(code(temper::pool::breaker_open))]
    BreakerOpen {
        /// Time left until the breaker lets one trial creation through.
        retry_after: Duration,
    },

    /// The pools on one runtime were promised more instances than its
    /// pooling allocator has slots: refused when the pool is built, since
    /// every creation past the slots would fail.
    #[error(
        "the pooling allocator has {slots} instance slots, but {reserved} are promised to other pools and this pool asks for {requested}"
    )]
    #[diagnostic(
        code(temper::pool::capacity),
        help(
            "give `Allocator::Pooling` at least as many slots as the `max_instances` of all pools on the runtime together"
        )
    )]
    Capacity {
        /// Slots of the pooling allocator.
        slots: usize,
        /// This pool's `max_instances`.
        requested: usize,
        /// Slots already promised to other pools on the same runtime.
        reserved: usize,
    },

    /// The pooling allocator had no free slot (memory, table, stack or
    /// instance) for a new instance. Not a guest failure: it does not count
    /// towards the circuit breaker.
    #[error("the pooling allocator is out of slots: {detail}")]
    #[diagnostic(
        code(temper::pool::capacity_exhausted),
        help("instances created outside the pool share the runtime's slots; give it more slots")
    )]
    CapacityExhausted {
        /// wasmtime's message, naming the exhausted resource.
        detail: String,
    },

    /// Creating a new instance failed.
    #[error("cannot create an instance: {detail}")]
    #[diagnostic(code(temper::pool::create))]
    Create {
        /// wasmtime's message, with its causes.
        detail: String,
    },

    /// The pool was closed; no checkouts are served and returned instances
    /// are dropped.
    #[error("the pool is closed")]
    #[diagnostic(code(temper::pool::closed))]
    Closed,

    /// The command-line load could not start its async runtime.
    #[error("cannot start the async runtime")]
    #[diagnostic(code(temper::pool::runtime))]
    AsyncRuntime(#[source] std::io::Error),

    /// A command-line argument is out of range.
    #[error("invalid argument: {0}")]
    #[diagnostic(code(temper::pool::argument))]
    Argument(String),
}

/// Why a call into an instance failed. Every variant except
/// [`CallError::Unusable`] retires the instance that produced it.
#[derive(Debug, Error, Diagnostic)]
#[non_exhaustive]
pub enum CallError {
    /// The call ran past the per-call timeout and was interrupted.
    #[error("call interrupted after {elapsed:?} (timeout {timeout:?})")]
    #[diagnostic(code(temper::pool::call_timeout))]
    Timeout {
        /// The configured per-call timeout.
        timeout: Duration,
        /// Wall-clock time from the start of the call to the interruption:
        /// the timeout plus at most one epoch tick of running time, plus
        /// whatever the executor made the call wait in its run queue.
        elapsed: Duration,
    },

    /// The guest tried to grow its memory past the cap.
    #[error("guest exceeded the memory cap of {cap_bytes} bytes")]
    #[diagnostic(code(temper::pool::memory_cap))]
    MemoryLimit {
        /// The configured cap.
        cap_bytes: usize,
    },

    /// The guest used up its fuel.
    #[error("guest ran out of fuel")]
    #[diagnostic(code(temper::pool::out_of_fuel))]
    OutOfFuel,

    /// The guest trapped or the call failed in the host glue.
    #[error("guest trapped: {detail}")]
    #[diagnostic(code(temper::pool::trap))]
    Trapped {
        /// wasmtime's message, with its causes.
        detail: String,
    },

    /// The instance was already retired by an earlier failure; it is never
    /// entered again.
    #[error("instance is unusable: {0}")]
    #[diagnostic(code(temper::pool::unusable))]
    Unusable(RetireReason),
}

/// Why an instance left the pool for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RetireReason {
    /// A call trapped; wasmtime refuses to enter the instance again.
    Trapped,
    /// A call was interrupted at the per-call timeout.
    Timeout,
    /// A call hit the memory cap.
    MemoryLimit,
    /// A call ran out of fuel.
    OutOfFuel,
    /// The instance served its maximum number of calls.
    MaxUses,
    /// The handle was dropped while a call was in flight, so the guest may
    /// be half way through an operation.
    Cancelled,
    /// The pool hands out a fresh instance per checkout; every instance is
    /// used once.
    SingleUse,
    /// The instance sat idle longer than the pool's idle timeout.
    IdleTimeout,
    /// The pool was closed.
    PoolClosed,
}

impl fmt::Display for RetireReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Trapped => "trapped",
            Self::Timeout => "timed out",
            Self::MemoryLimit => "hit the memory cap",
            Self::OutOfFuel => "ran out of fuel",
            Self::MaxUses => "reached its maximum use count",
            Self::Cancelled => "dropped during a call",
            Self::SingleUse => "single use",
            Self::IdleTimeout => "idle too long",
            Self::PoolClosed => "pool closed",
        })
    }
}

/// Formats a wasmtime error with its whole cause chain, since the top-level
/// message alone ("error while executing at wasm backtrace...") rarely says
/// what went wrong.
pub(crate) fn describe(error: &wasmtime::Error) -> String {
    format!("{error:#}")
}
