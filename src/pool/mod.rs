//! A pool of WebAssembly component instances on tokio and wasmtime: the
//! reference runtime for the shapes temper's fixes point to (explicit async
//! release with a guarded `Drop` fallback, `Arc`-owned sharing, errors as
//! values).
//!
//! # Shape
//!
//! - [`Runtime`] loads a component once: reads it, checks it against the
//!   `temper:extractor` world ([`validate_against_world`], then the typed
//!   bindings' own check), compiles it and pre-links it (`InstancePre`). The
//!   linker is empty: the guest gets no imports, WASI included.
//! - [`Pool::new`] checks that a pooling allocator's slots cover the pool.
//! - [`Pool::checkout`] waits on a semaphore for a slot, reuses the most
//!   recently returned idle instance (the hottest) and creates one only on a
//!   miss, behind a [`Breaker`], all within the checkout timeout. Instances
//!   idle past the idle timeout are evicted.
//! - Every call runs under a wall-clock deadline (checked at each epoch
//!   tick, where the guest otherwise yields to the executor), a memory cap (a
//!   resource limiter) and optionally fuel. A call that fails in any of these
//!   ways retires its instance: wasmtime never re-enters an instance after a
//!   trap.
//! - [`PooledInstance::release`] hands an instance back and reports what
//!   happened; `Drop` is the guarded fallback and returns it inline.
//! - Retired stores are freed on a dropper thread, not on the executor.
//! - [`Pool::metrics`] returns a plain [`PoolMetrics`] snapshot.
//!
//! # Instance state is reused between calls, by default
//!
//! With [`Reuse::Instance`] (the default) a returned instance keeps its store:
//! the guest's globals and heap carry over to the next caller. That is what
//! makes a pooled call cost a few microseconds instead of the tens a fresh
//! instantiation costs (see `benches/pool.rs`), and it is safe for the
//! extractor world, whose `extract` is a pure function of its arguments.
//! Guests that cache or count across calls will show it (the test guest's
//! `temper-test:calls` does so on purpose); `max_uses` bounds how long any
//! drift can build up. When callers must not share any state (untrusted
//! tenants, guests that keep per-request data), choose
//! [`Reuse::FreshPerCheckout`]: each checkout instantiates from the
//! pre-linked component and release drops the store, which is what
//! `wasmtime serve` does per request. The pooling allocator
//! ([`Allocator::Pooling`]) makes that fresh instantiation cheaper.

mod bindings;
mod breaker;
pub mod cli;
mod config;
mod error;
mod handle;
mod manager;
mod metrics;
mod runtime;

pub use bindings::exports::temper::extractor::extract::{
    ExtractedContent, ExtractionError, ExtractionMode, Link,
};
pub use breaker::{Attempt, Breaker, BreakerState};
pub use config::{Allocator, BreakerConfig, PoolConfig, Reuse, RuntimeConfig, TierThresholds};
pub use error::{CallError, PoolError, RetireReason};
pub use handle::{PooledInstance, Released};
pub use manager::Pool;
pub use metrics::{LatencySummary, PoolMetrics, RetiredCounts, Tier, TierCounts};
pub use runtime::{Instance, MIN_EPOCH_TICK, Runtime, WORLD, validate_against_world};
