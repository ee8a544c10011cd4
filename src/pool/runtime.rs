//! Loading a component once (read, validate, compile, pre-link) and creating
//! instances from it that run under per-call limits.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolConcurrencyLimitError, PoolingAllocationConfig,
    ResourceLimiter, Store, Trap, UpdateDeadline,
};

use super::bindings::exports::temper::extractor::extract::{
    ExtractedContent, ExtractionError, ExtractionMode,
};
use super::bindings::{Extractor, ExtractorPre};
use super::config::{Allocator, RuntimeConfig};
use super::error::{CallError, PoolError, RetireReason, describe};

/// The world every pooled component must implement.
pub const WORLD: &str = "temper:extractor/extractor@0.1.0";

/// Checks a component against [`WORLD`] before anything is compiled.
///
/// Checks the bytes' header first (a core module or another file gets a clear
/// error of its own), then runs the WIT validator (`temper::wit`) against the
/// world compiled into this crate (`wit/extractor.wit`), so a drifted guest is
/// explained difference by difference before anything is compiled.
pub fn validate_against_world(bytes: &[u8]) -> Result<(), PoolError> {
    check_header(bytes)?;
    let expected =
        crate::wit::load_world_source("wit/extractor.wit", EXTRACTOR_WIT, Some("extractor"))
            .map_err(|error| PoolError::WorldMismatch {
                world: WORLD,
                detail: error.to_string(),
            })?;
    let report =
        crate::wit::validate(bytes, &expected).map_err(|error| PoolError::NotAComponent {
            detail: error.to_string(),
        })?;
    if report.is_compatible() {
        return Ok(());
    }
    let detail = report
        .problems
        .iter()
        .filter(|problem| problem.severity == crate::wit::Severity::Error)
        .map(|problem| problem.message.clone())
        .collect::<Vec<_>>()
        .join("; ");
    Err(PoolError::WorldMismatch {
        world: WORLD,
        detail,
    })
}

/// The world the pool serves, as the validator reads it.
const EXTRACTOR_WIT: &str = include_str!("../../wit/extractor.wit");

fn check_header(bytes: &[u8]) -> Result<(), PoolError> {
    // The binary header: magic, then a 16-bit version and a 16-bit layer
    // (layer 0 is a core module, layer 1 a component).
    const MAGIC: &[u8] = b"\0asm";
    const COMPONENT: [u8; 4] = [0x0d, 0x00, 0x01, 0x00];
    const CORE_MODULE: [u8; 4] = [0x01, 0x00, 0x00, 0x00];

    let detail = match bytes.strip_prefix(MAGIC).and_then(|rest| rest.get(..4)) {
        Some(header) if header == COMPONENT => return Ok(()),
        Some(header) if header == CORE_MODULE => {
            "a core WebAssembly module, not a component".to_string()
        }
        Some(header) => {
            format!("a WebAssembly binary with an unknown version or layer {header:02x?}")
        }
        None => format!("{} bytes without the WebAssembly header", bytes.len()),
    };
    Err(PoolError::NotAComponent { detail })
}

/// A compiled, pre-linked component and the engine that runs it.
///
/// Cloning is cheap (an `Arc`). Compilation and linking happen once, in
/// [`Runtime::from_bytes`]; [`Runtime::instantiate`] only creates a store and
/// an instance.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<RuntimeInner>,
}

struct RuntimeInner {
    engine: Engine,
    pre: ExtractorPre<HostState>,
    config: RuntimeConfig,
    /// The tick the epoch thread really runs at (`epoch_tick`, clamped).
    tick: Duration,
    /// Instance slots of the pooling allocator; `None` with on-demand
    /// allocation, which has no fixed number.
    slots: Option<usize>,
    /// Slots promised to pools built on this runtime (their `max_instances`).
    reserved: AtomicUsize,
    /// Drops stores off the async executor's threads.
    dropper: Dropper,
    /// Held for its `Drop`, which stops the epoch thread with the runtime.
    _ticker: Ticker,
}

impl Runtime {
    /// Reads, validates, compiles and pre-links the component at `path`.
    pub fn load(path: &Path, config: RuntimeConfig) -> Result<Self, PoolError> {
        let bytes = std::fs::read(path).map_err(|source| PoolError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(&bytes, config)
    }

    /// Validates, compiles and pre-links a component given as bytes.
    pub fn from_bytes(bytes: &[u8], config: RuntimeConfig) -> Result<Self, PoolError> {
        validate_against_world(bytes)?;
        let engine = build_engine(&config)?;
        let component = Component::new(&engine, bytes).map_err(|e| PoolError::Prepare {
            detail: describe(&e),
        })?;
        // An empty linker: the pool grants the guest no imports at all, so a
        // component that needs any (WASI included) fails here, cleanly.
        let linker = Linker::<HostState>::new(&engine);
        let instance_pre =
            linker
                .instantiate_pre(&component)
                .map_err(|e| PoolError::WorldMismatch {
                    world: WORLD,
                    detail: describe(&e),
                })?;
        let pre = ExtractorPre::new(instance_pre).map_err(|e| PoolError::WorldMismatch {
            world: WORLD,
            detail: describe(&e),
        })?;
        let tick = effective_tick(config.epoch_tick);
        let ticker = Ticker::start(engine.clone(), tick)?;
        let dropper = Dropper::start()?;
        let slots = match config.allocator {
            Allocator::OnDemand => None,
            Allocator::Pooling { slots } => Some(pooling_slots(slots)),
        };
        Ok(Self {
            inner: Arc::new(RuntimeInner {
                engine,
                pre,
                config,
                tick,
                slots,
                reserved: AtomicUsize::new(0),
                dropper,
                _ticker: ticker,
            }),
        })
    }

    /// The configuration this runtime was built with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    /// The epoch tick in effect: `epoch_tick`, raised to at least
    /// [`MIN_EPOCH_TICK`]. A runaway call is cut at most one tick after its
    /// deadline (counted in time the call gets to run).
    pub fn epoch_tick(&self) -> Duration {
        self.inner.tick
    }

    /// Instance slots of the pooling allocator, or `None` on demand.
    pub fn slots(&self) -> Option<usize> {
        self.inner.slots
    }

    /// Promises `count` instance slots to a pool. With the pooling allocator
    /// the promises of all pools on this runtime must fit its slots, so that
    /// running out of slots is refused here, as a configuration error,
    /// instead of showing up later as creation failures.
    pub(crate) fn reserve(&self, count: usize) -> Result<Reservation, PoolError> {
        let inner = &self.inner;
        let reserved =
            inner
                .reserved
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |reserved| {
                    let wanted = reserved.checked_add(count)?;
                    match inner.slots {
                        Some(slots) if wanted > slots => None,
                        _ => Some(wanted),
                    }
                });
        match (reserved, inner.slots) {
            (Ok(_), _) => Ok(Reservation {
                runtime: Arc::clone(inner),
                count,
            }),
            (Err(already), Some(slots)) => Err(PoolError::Capacity {
                slots,
                requested: count,
                reserved: already,
            }),
            (Err(already), None) => Err(PoolError::Capacity {
                slots: usize::MAX,
                requested: count,
                reserved: already,
            }),
        }
    }

    /// Hands `value` (a store, or something that owns one) to the dropper
    /// thread, so unmapping its memory does not stall an executor thread.
    pub(crate) fn dispose(&self, value: Box<dyn Send>) {
        self.inner.dropper.dispose(value);
    }

    /// Creates a fresh store and instance from the pre-linked component.
    ///
    /// With the pooling allocator, an instance made here takes one of the
    /// runtime's slots beside those promised to pools: pools on the same
    /// runtime then see [`PoolError::CapacityExhausted`] when it is full.
    pub async fn instantiate(&self) -> Result<Instance, PoolError> {
        let inner = &self.inner;
        let mut store = Store::new(
            &inner.engine,
            HostState {
                limiter: MemoryCap {
                    cap: inner.config.memory_cap,
                    hit: false,
                },
                deadline: None,
                timed_out: false,
            },
        );
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_callback(|mut cx| {
            let state = cx.data_mut();
            // Wall-clock time, not ticks counted: a call that waited in the
            // executor's run queue after a yield has used that time too, so
            // on a saturated executor it is still cut at its deadline.
            if state
                .deadline
                .is_some_and(|deadline| Instant::now() >= deadline)
            {
                state.timed_out = true;
                return Ok(UpdateDeadline::Interrupt);
            }
            // Yield at every tick so a long call never holds an executor
            // thread for more than one tick at a time.
            Ok(UpdateDeadline::Yield(1))
        });
        // Instantiation may run guest code too, so it gets the same limits
        // as a call; with epochs on, a store without a deadline traps at once.
        if let Err(error) = arm(&mut store, inner.config.call_timeout, inner.config.fuel) {
            inner.dropper.dispose(Box::new(store));
            return Err(PoolError::Create {
                detail: describe(&error),
            });
        }
        let bindings = match inner.pre.instantiate_async(&mut store).await {
            Ok(bindings) => bindings,
            Err(error) => {
                inner.dropper.dispose(Box::new(store));
                return Err(creation_error(&error));
            }
        };
        Ok(Instance {
            store,
            bindings,
            runtime: Arc::clone(inner),
            uses: 0,
            retired: None,
            in_call: false,
        })
    }
}

/// One store with one instance of the component.
///
/// Guest state (globals, heap) lives as long as this value: calls on the
/// same `Instance` see what earlier calls left behind.
pub struct Instance {
    store: Store<HostState>,
    bindings: Extractor,
    runtime: Arc<RuntimeInner>,
    uses: u64,
    retired: Option<RetireReason>,
    /// Set for the duration of a call; still set afterwards only when the
    /// call's future was dropped half way.
    in_call: bool,
}

impl Instance {
    /// Calls the guest's `extract`. The outer `Result` is the call itself
    /// (trap, timeout, limits); the inner one is the guest's answer.
    ///
    /// After an outer error the instance is retired: wasmtime will not
    /// enter an instance again after a trap, and the pool never reuses it.
    pub async fn extract(
        &mut self,
        html: &str,
        url: &str,
        mode: ExtractionMode,
    ) -> Result<Result<ExtractedContent, ExtractionError>, CallError> {
        if let Some(reason) = self.retire_reason() {
            return Err(CallError::Unusable(reason));
        }
        let started = Instant::now();
        arm(
            &mut self.store,
            self.runtime.config.call_timeout,
            self.runtime.config.fuel,
        )
        .map_err(|e| CallError::Trapped {
            detail: describe(&e),
        })?;
        self.in_call = true;
        let result = self
            .bindings
            .temper_extractor_extract()
            .call_extract(&mut self.store, html, url, mode)
            .await;
        self.in_call = false;
        self.uses += 1;
        result.map_err(|error| {
            let (reason, call_error) = self.classify(&error, started.elapsed());
            self.retired = Some(reason);
            call_error
        })
    }

    /// Calls made on this instance.
    pub fn uses(&self) -> u64 {
        self.uses
    }

    /// Why this instance must not be used again, if it must not.
    pub fn retire_reason(&self) -> Option<RetireReason> {
        if self.in_call {
            return Some(RetireReason::Cancelled);
        }
        self.retired
    }

    fn classify(&self, error: &wasmtime::Error, elapsed: Duration) -> (RetireReason, CallError) {
        let state = self.store.data();
        let config = &self.runtime.config;
        // The flags come first: the trap wasmtime reports for them is generic.
        if state.limiter.hit {
            return (
                RetireReason::MemoryLimit,
                CallError::MemoryLimit {
                    cap_bytes: config.memory_cap,
                },
            );
        }
        match error.downcast_ref::<Trap>() {
            _ if state.timed_out => (
                RetireReason::Timeout,
                CallError::Timeout {
                    timeout: config.call_timeout,
                    elapsed,
                },
            ),
            Some(Trap::Interrupt) => (
                RetireReason::Timeout,
                CallError::Timeout {
                    timeout: config.call_timeout,
                    elapsed,
                },
            ),
            Some(Trap::OutOfFuel) => (RetireReason::OutOfFuel, CallError::OutOfFuel),
            _ => (
                RetireReason::Trapped,
                CallError::Trapped {
                    detail: describe(error),
                },
            ),
        }
    }
}

/// Per-store host data: the limiter and the call deadline.
struct HostState {
    limiter: MemoryCap,
    /// When the current call (or instantiation) is interrupted; `None` when
    /// the timeout is too large to express as an instant.
    deadline: Option<Instant>,
    /// Set when the deadline interrupted a call.
    timed_out: bool,
}

/// Refuses memory growth past the cap, with an error rather than a failed
/// `memory.grow`: the guest traps at once with a precise cause instead of
/// wandering into its allocator's out-of-memory path.
struct MemoryCap {
    cap: usize,
    hit: bool,
}

/// Tables hold function references; the extractor needs a handful, so this
/// bound only stops a runaway guest.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.cap {
            self.hit = true;
            wasmtime::bail!(
                "memory cap of {} bytes reached (growth to {desired} bytes refused)",
                self.cap
            );
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// Resets the per-call limits: deadline, fuel and the flags that classify a
/// failure.
fn arm(store: &mut Store<HostState>, timeout: Duration, fuel: Option<u64>) -> wasmtime::Result<()> {
    let state = store.data_mut();
    state.deadline = Instant::now().checked_add(timeout);
    state.timed_out = false;
    state.limiter.hit = false;
    // The callback runs at every tick and compares the clock with the
    // deadline.
    store.set_epoch_deadline(1);
    if let Some(fuel) = fuel {
        store.set_fuel(fuel)?;
    }
    Ok(())
}

/// The shortest epoch tick the ticker thread runs at: a shorter one would
/// spend a core on waking up.
pub const MIN_EPOCH_TICK: Duration = Duration::from_micros(100);

/// The tick the ticker really uses; deadlines are wall-clock instants, so
/// the clamp changes how finely a call is cut, never how long it may run.
pub(crate) fn effective_tick(requested: Duration) -> Duration {
    requested.max(MIN_EPOCH_TICK)
}

/// Per-instance needs the pooling allocator is sized for. wasmtime checks a
/// component against these when it is compiled, so a guest that needs more
/// is refused at load, and `slots` instances of any accepted guest fit the
/// totals below.
const CORE_INSTANCES_PER_COMPONENT: u32 = 4;
const MEMORIES_PER_COMPONENT: u32 = 2;
const TABLES_PER_COMPONENT: u32 = 4;

fn pooling_slots(slots: u32) -> usize {
    usize::try_from(slots.max(1)).unwrap_or(usize::MAX)
}

/// Tells the pooling allocator running out of slots (a configuration
/// problem, or a runtime shared beyond its slots) from a guest that fails to
/// instantiate.
fn creation_error(error: &wasmtime::Error) -> PoolError {
    if error
        .chain()
        .any(|cause| cause.is::<PoolConcurrencyLimitError>())
    {
        PoolError::CapacityExhausted {
            detail: describe(error),
        }
    } else {
        PoolError::Create {
            detail: describe(error),
        }
    }
}

fn build_engine(config: &RuntimeConfig) -> Result<Engine, PoolError> {
    let mut wasm = Config::new();
    wasm.epoch_interruption(true);
    wasm.consume_fuel(config.fuel.is_some());
    if let Allocator::Pooling { slots } = config.allocator {
        let slots = slots.max(1);
        let mut pooling = PoolingAllocationConfig::new();
        pooling
            .total_component_instances(slots)
            // A component made by wit-component holds a few core instances
            // (the main module plus adapters and shims).
            .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
            .max_memories_per_component(MEMORIES_PER_COMPONENT)
            .max_tables_per_component(TABLES_PER_COMPONENT)
            .total_core_instances(slots.saturating_mul(CORE_INSTANCES_PER_COMPONENT))
            .total_memories(slots.saturating_mul(MEMORIES_PER_COMPONENT))
            .total_tables(slots.saturating_mul(TABLES_PER_COMPONENT))
            // A store keeps its fiber stack between calls, so every live
            // instance holds one.
            .total_stacks(slots)
            .max_memory_size(config.memory_cap);
        wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    }
    Engine::new(&wasm).map_err(|e| PoolError::Prepare {
        detail: describe(&e),
    })
}

/// Advances the engine's epoch at a fixed interval on a dedicated thread.
///
/// A thread rather than a tokio task: the ticker must keep time while guest
/// code holds an executor thread, and it must not follow tokio's paused
/// clock in tests, where a stalled call would otherwise never time out.
struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    fn start(engine: Engine, tick: Duration) -> Result<Self, PoolError> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        std::thread::Builder::new()
            .name("temper-pool-epoch".to_string())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    engine.increment_epoch();
                }
            })
            .map_err(|e| PoolError::Prepare {
                detail: format!("cannot start the epoch thread: {e}"),
            })?;
        Ok(Self { stop })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        // The thread notices within one tick and exits; joining here would
        // block whoever drops the last runtime handle for that long.
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Slots a pool reserved on its runtime; given back when the pool goes.
pub(crate) struct Reservation {
    runtime: Arc<RuntimeInner>,
    count: usize,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.runtime
            .reserved
            .fetch_sub(self.count, Ordering::AcqRel);
    }
}

/// Drops stores on a thread of its own.
///
/// Dropping a store unmaps (or, with the pooling allocator, decommits) its
/// memory and stack: tens to hundreds of microseconds that would otherwise
/// stall a tokio worker. A dedicated thread rather than `spawn_blocking`
/// because it works the same outside a runtime and during its shutdown. The
/// thread ends when the last runtime handle (and so the sender) is gone.
struct Dropper {
    sender: mpsc::Sender<Box<dyn Send>>,
}

impl Dropper {
    fn start() -> Result<Self, PoolError> {
        let (sender, receiver) = mpsc::channel::<Box<dyn Send>>();
        std::thread::Builder::new()
            .name("temper-pool-dropper".to_string())
            .spawn(move || {
                while let Ok(value) = receiver.recv() {
                    drop(value);
                }
            })
            .map_err(|e| PoolError::Prepare {
                detail: format!("cannot start the dropper thread: {e}"),
            })?;
        Ok(Self { sender })
    }

    fn dispose(&self, value: Box<dyn Send>) {
        // The thread only stops once every sender is gone, so this fails
        // only if it panicked; dropping here is then the best left to do.
        if let Err(mpsc::SendError(value)) = self.sender.send(value) {
            drop(value);
        }
    }
}
