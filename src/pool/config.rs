//! Configuration of the runtime (engine-wide choices and per-call limits) and
//! of the pool (bounds, tiers, breaker, reuse policy).

use std::time::Duration;

/// How wasmtime allocates instance memory, tables and stacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Allocator {
    /// Allocate at instantiation and free when the store drops (wasmtime's
    /// default). Cheap to set up, slower per instantiation.
    #[default]
    OnDemand,
    /// Reserve slots for `slots` instances up front and recycle them. Faster
    /// instantiation, paid for with address space reserved at start-up.
    Pooling {
        /// How many instances may exist at once across the engine.
        slots: u32,
    },
}

/// Engine-wide choices and the limits every instance runs under.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// The instance allocator.
    pub allocator: Allocator,
    /// Longest a single call (and an instantiation) may run before it is
    /// interrupted, in wall-clock time from its start: time spent waiting in
    /// the executor's run queue counts too.
    pub call_timeout: Duration,
    /// How often the engine's epoch advances (at least
    /// [`MIN_EPOCH_TICK`](super::MIN_EPOCH_TICK)): how often a long call
    /// checks its deadline and yields to the executor, so a runaway call
    /// runs at most one tick past its deadline.
    pub epoch_tick: Duration,
    /// Largest linear memory an instance may grow to, in bytes.
    pub memory_cap: usize,
    /// Fuel granted to each call; `None` turns fuel metering off (it costs
    /// a few percent of guest speed).
    pub fuel: Option<u64>,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            allocator: Allocator::OnDemand,
            call_timeout: Duration::from_secs(1),
            epoch_tick: Duration::from_millis(5),
            memory_cap: 64 * 1024 * 1024,
            fuel: None,
        }
    }
}

/// Whether an instance's guest state survives between checkouts.
///
/// See the module documentation for the trade-off; [`Reuse::Instance`] is
/// the default because the extractor world is a pure function and reuse is
/// what makes a pool worth having.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reuse {
    /// Keep the store and instance between checkouts: the guest's globals
    /// and heap carry over from one call to the next.
    #[default]
    Instance,
    /// Instantiate afresh from the pre-linked component for every checkout
    /// and drop it on release: no state can leak between callers.
    FreshPerCheckout,
}

/// Idle-time thresholds that sort idle instances into tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierThresholds {
    /// Idle for less than this: hot (caches and memory pages still warm).
    pub hot: Duration,
    /// Idle for less than this (and at least `hot`): warm; longer: cold.
    pub warm: Duration,
}

impl Default for TierThresholds {
    fn default() -> Self {
        Self {
            hot: Duration::from_secs(1),
            warm: Duration::from_secs(30),
        }
    }
}

/// When the circuit breaker opens and how long it stays open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive creation failures that open the breaker.
    pub failure_threshold: u32,
    /// How long the breaker stays open before it lets one trial through.
    pub cool_down: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            cool_down: Duration::from_secs(5),
        }
    }
}

/// Bounds and policies of one pool.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Most instances checked out at once, and most instances alive.
    pub max_instances: usize,
    /// Longest a checkout may take: the wait for a free slot and, on a
    /// miss, the creation of the instance together.
    pub checkout_timeout: Duration,
    /// Calls after which an instance is retired; `None` for no limit.
    pub max_uses: Option<u64>,
    /// Whether instances are reused between checkouts.
    pub reuse: Reuse,
    /// Idle-time tier thresholds.
    pub tiers: TierThresholds,
    /// Circuit breaker for instance creation.
    pub breaker: BreakerConfig,
    /// Idle instances unused for this long are evicted (their heap and
    /// fiber stack freed), as `wasmtime serve` does with idle instances;
    /// `None` keeps them until the pool closes.
    pub idle_timeout: Option<Duration>,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_instances: 16,
            checkout_timeout: Duration::from_secs(5),
            max_uses: Some(10_000),
            reuse: Reuse::Instance,
            tiers: TierThresholds::default(),
            breaker: BreakerConfig::default(),
            idle_timeout: Some(Duration::from_secs(60)),
        }
    }
}
