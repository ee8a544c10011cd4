//! The pool itself: a semaphore-bounded checkout that reuses idle instances
//! hottest first, creates on a miss behind a circuit breaker, evicts
//! instances idle too long, and takes instances back or retires them.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::breaker::{Attempt, Breaker, BreakerState};
use super::config::{PoolConfig, Reuse, RuntimeConfig};
use super::error::{PoolError, RetireReason};
use super::handle::{PooledInstance, Released};
use super::metrics::{Counters, PoolMetrics, Tier, TierCounts};
use super::runtime::{Instance, Reservation, Runtime};

/// A pool of instances of one component.
///
/// Cloning is cheap and every clone serves the same pool. Time is read from
/// `tokio::time::Instant`, so idle tiers, idle eviction and the breaker's
/// cool-down follow tokio's paused clock in tests (outside a runtime it is
/// the system clock). Per-call deadlines are wall-clock time on purpose:
/// see [`RuntimeConfig::call_timeout`].
#[derive(Clone)]
pub struct Pool {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    runtime: Runtime,
    config: PoolConfig,
    permits: Arc<Semaphore>,
    /// Idle instances, most recently returned last: popping from the end
    /// takes the hottest one, and the longest idle are at the front.
    idle: Mutex<IdleSet>,
    breaker: Mutex<Breaker>,
    counters: Arc<Counters>,
    /// Whether the idle-eviction task was started (on the first checkout's
    /// runtime: building a pool needs no runtime).
    reaper_started: AtomicBool,
    /// This pool's slots on its runtime, given back when the pool goes.
    _reservation: Reservation,
}

struct IdleSet {
    instances: Vec<Idle>,
    /// Set by [`Pool::close`] under this lock, so a concurrent return either
    /// lands before the drain or sees the flag.
    closed: bool,
}

struct Idle {
    instance: Instance,
    since: Instant,
}

/// Locks a pool mutex, recovering from poisoning: every critical section
/// leaves the data consistent (no section can panic half way), so a panic
/// elsewhere is no reason to stop serving.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `future` until `deadline`; `None` when the deadline passed first.
async fn within<F: Future>(deadline: Option<Instant>, future: F) -> Option<F::Output> {
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, future).await.ok(),
        None => Some(future.await),
    }
}

impl Pool {
    /// Loads the component at `path` and builds a pool around it.
    ///
    /// # Errors
    ///
    /// What [`Runtime::load`] and [`Pool::new`] refuse.
    pub fn load(
        path: &Path,
        runtime: RuntimeConfig,
        config: PoolConfig,
    ) -> Result<Self, PoolError> {
        Self::new(Runtime::load(path, runtime)?, config)
    }

    /// A pool over an already loaded runtime; several pools may share one.
    ///
    /// # Errors
    ///
    /// [`PoolError::Capacity`] when the runtime uses the pooling allocator
    /// and its slots cannot hold this pool's `max_instances` besides what
    /// other pools on it were promised: every creation past the slots would
    /// fail, so the configuration is refused now.
    pub fn new(runtime: Runtime, config: PoolConfig) -> Result<Self, PoolError> {
        // A zero bound would make every checkout time out; one is the least
        // that can serve.
        let bound = config.max_instances.max(1);
        let reservation = runtime.reserve(bound)?;
        Ok(Self {
            shared: Arc::new(Shared {
                runtime,
                permits: Arc::new(Semaphore::new(bound)),
                idle: Mutex::new(IdleSet {
                    instances: Vec::with_capacity(bound),
                    closed: false,
                }),
                breaker: Mutex::new(Breaker::new(config.breaker)),
                counters: Arc::default(),
                reaper_started: AtomicBool::new(false),
                _reservation: reservation,
                config,
            }),
        })
    }

    /// The runtime instances are created from.
    pub fn runtime(&self) -> &Runtime {
        &self.shared.runtime
    }

    /// The pool's configuration.
    pub fn config(&self) -> &PoolConfig {
        &self.shared.config
    }

    /// Checks out an instance: waits for a slot, then takes the hottest idle
    /// instance or creates one, all within the checkout timeout.
    ///
    /// Cancel-safe: dropping the future at any point leaves no slot taken
    /// and no instance unaccounted for.
    pub async fn checkout(&self) -> Result<PooledInstance, PoolError> {
        let shared = &self.shared;
        shared.start_reaper();
        let started = Instant::now();
        let deadline = started.checked_add(shared.config.checkout_timeout);
        let waited = within(deadline, Arc::clone(&shared.permits).acquire_owned()).await;
        let permit = match waited {
            Some(Ok(permit)) => permit,
            Some(Err(_closed)) => return Err(PoolError::Closed),
            None => return Err(shared.checkout_timed_out(started)),
        };
        let (instance, tier) = match shared.take_idle() {
            Some(found) => found,
            None => match within(deadline, shared.create()).await {
                Some(created) => (created?, Tier::Created),
                None => return Err(shared.checkout_timed_out(started)),
            },
        };
        shared.counters.record_checkout(tier, started.elapsed());
        shared.counters.in_use.fetch_add(1, Ordering::Relaxed);
        Ok(PooledInstance::new(
            Arc::clone(shared),
            instance,
            permit,
            tier,
        ))
    }

    /// A snapshot of the counters, tiers and breaker state.
    pub fn metrics(&self) -> PoolMetrics {
        let now = Instant::now();
        let (idle, tiers) = {
            let idle = lock(&self.shared.idle);
            let mut tiers = TierCounts::default();
            for entry in &idle.instances {
                match self.shared.tier_of(entry.since, now) {
                    Tier::Hot => tiers.hot += 1,
                    Tier::Warm => tiers.warm += 1,
                    Tier::Cold | Tier::Created => tiers.cold += 1,
                }
            }
            (idle.instances.len(), tiers)
        };
        let breaker = lock(&self.shared.breaker).state(now);
        let free_slots = self.shared.permits.available_permits();
        self.shared
            .counters
            .snapshot(breaker, idle, tiers, free_slots)
    }

    /// The creation breaker's state now.
    pub fn breaker_state(&self) -> BreakerState {
        lock(&self.shared.breaker).state(Instant::now())
    }

    /// Stops serving: pending and future checkouts fail with
    /// [`PoolError::Closed`], idle instances are retired now (their stores
    /// freed on the dropper thread, not on the caller's), and checked-out
    /// instances are retired when they come back.
    pub fn close(&self) {
        self.shared.permits.close();
        let drained = {
            let mut idle = lock(&self.shared.idle);
            idle.closed = true;
            std::mem::take(&mut idle.instances)
        };
        self.shared.retire_idle(drained, RetireReason::PoolClosed);
    }
}

impl Shared {
    fn tier_of(&self, since: Instant, now: Instant) -> Tier {
        let idle_for = now.saturating_duration_since(since);
        let tiers = &self.config.tiers;
        if idle_for < tiers.hot {
            Tier::Hot
        } else if idle_for < tiers.warm {
            Tier::Warm
        } else {
            Tier::Cold
        }
    }

    fn checkout_timed_out(&self, started: Instant) -> PoolError {
        self.counters
            .checkout_timeouts
            .fetch_add(1, Ordering::Relaxed);
        PoolError::CheckoutTimeout {
            waited: started.elapsed(),
        }
    }

    /// Pops the hottest idle instance, evicting the expired ones on the way:
    /// this keeps eviction going on a runtime without the reaper task.
    fn take_idle(&self) -> Option<(Instance, Tier)> {
        let now = Instant::now();
        let (found, expired) = {
            let mut idle = lock(&self.idle);
            let expired = self.drain_expired(&mut idle, now);
            (idle.instances.pop(), expired)
        };
        self.retire_idle(expired, RetireReason::IdleTimeout);
        let entry = found?;
        Some((entry.instance, self.tier_of(entry.since, now)))
    }

    /// Removes the instances idle for at least the idle timeout; they sit
    /// at the front, since returns are pushed in time order.
    fn drain_expired(&self, idle: &mut IdleSet, now: Instant) -> Vec<Idle> {
        let Some(timeout) = self.config.idle_timeout else {
            return Vec::new();
        };
        let expired = idle
            .instances
            .iter()
            .take_while(|entry| now.saturating_duration_since(entry.since) >= timeout)
            .count();
        idle.instances.drain(..expired).collect()
    }

    fn retire_idle(&self, entries: Vec<Idle>, reason: RetireReason) {
        for entry in entries {
            self.retire(entry.instance, None, reason);
        }
    }

    /// Starts the task that evicts idle instances on the current runtime,
    /// once. It holds the pool only weakly, so dropping the last handle ends
    /// it at its next wake-up.
    fn start_reaper(self: &Arc<Self>) {
        let Some(timeout) = self.config.idle_timeout else {
            return;
        };
        if self.reaper_started.load(Ordering::Relaxed)
            || self.reaper_started.swap(true, Ordering::AcqRel)
        {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                // The first wake-up is fixed now: the task may first run
                // only after the clock has moved on.
                let first = Instant::now().checked_add(timeout);
                drop(runtime.spawn(reap(Arc::downgrade(self), timeout, first)));
            }
            Err(_) => self.reaper_started.store(false, Ordering::Release),
        }
    }

    async fn create(&self) -> Result<Instance, PoolError> {
        let attempt = match lock(&self.breaker).try_acquire(Instant::now()) {
            Ok(attempt) => attempt,
            Err(retry_after) => {
                self.counters
                    .breaker_rejections
                    .fetch_add(1, Ordering::Relaxed);
                return Err(PoolError::BreakerOpen { retry_after });
            }
        };
        // If this future is dropped during instantiation (the checkout
        // timed out or was cancelled) the attempt proved nothing; the guard
        // tells the breaker so a half-open trial slot is not lost.
        let guard = AttemptGuard {
            shared: self,
            attempt: Some(attempt),
        };
        let created = self.runtime.instantiate().await;
        guard.settle(&created);
        let counter = match &created {
            Ok(_) => &self.counters.created,
            Err(PoolError::CapacityExhausted { .. }) => &self.counters.capacity_failures,
            Err(_) => &self.counters.creation_failures,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        created
    }

    /// Takes an instance back: retires it when it failed, reached its use
    /// limit, was used once by policy or the pool is closed; otherwise makes
    /// it the hottest idle instance. Runs exactly once per checkout, inline:
    /// nothing here waits.
    pub(crate) fn finish(&self, instance: Instance, permit: OwnedSemaphorePermit) -> Released {
        let reason = instance
            .retire_reason()
            .or_else(|| {
                let limit = self.config.max_uses?;
                (instance.uses() >= limit).then_some(RetireReason::MaxUses)
            })
            .or((self.config.reuse == Reuse::FreshPerCheckout).then_some(RetireReason::SingleUse));
        self.counters.in_use.fetch_sub(1, Ordering::Relaxed);
        let Some(reason) = reason else {
            let mut idle = lock(&self.idle);
            if idle.closed {
                drop(idle);
                return self.retire(instance, Some(permit), RetireReason::PoolClosed);
            }
            idle.instances.push(Idle {
                instance,
                since: Instant::now(),
            });
            drop(idle);
            // The slot frees only now, after the instance is idle.
            drop(permit);
            return Released::Returned;
        };
        self.retire(instance, Some(permit), reason)
    }

    /// Counts the retirement and hands the store to the dropper thread. The
    /// permit (when the instance was checked out) goes with it and is freed
    /// only after the store: with the pooling allocator, a slot freed sooner
    /// could let a creation find the allocator still full.
    fn retire(
        &self,
        instance: Instance,
        permit: Option<OwnedSemaphorePermit>,
        reason: RetireReason,
    ) -> Released {
        self.counters.record_retired(reason);
        self.counters.dropping.fetch_add(1, Ordering::Relaxed);
        self.runtime.dispose(Box::new(Disposal {
            instance: Some(instance),
            permit,
            counters: Arc::clone(&self.counters),
        }));
        Released::Retired(reason)
    }
}

/// Evicts idle instances as they pass the idle timeout, sleeping until the
/// longest-idle one is due.
async fn reap(pool: Weak<Shared>, timeout: Duration, first: Option<Instant>) {
    let mut next = first;
    while let Some(due) = next {
        tokio::time::sleep_until(due).await;
        let Some(shared) = pool.upgrade() else {
            return;
        };
        let now = Instant::now();
        let (expired, oldest, closed) = {
            let mut idle = lock(&shared.idle);
            let expired = shared.drain_expired(&mut idle, now);
            let oldest = idle.instances.first().map(|entry| entry.since);
            (expired, oldest, idle.closed)
        };
        shared.retire_idle(expired, RetireReason::IdleTimeout);
        if closed {
            return;
        }
        next = oldest.unwrap_or(now).checked_add(timeout);
    }
}

/// A retired store on its way to the dropper thread, with the slot it holds.
struct Disposal {
    instance: Option<Instance>,
    permit: Option<OwnedSemaphorePermit>,
    counters: Arc<Counters>,
}

impl Drop for Disposal {
    fn drop(&mut self) {
        // The store first, then the slot (see `Shared::retire`).
        drop(self.instance.take());
        drop(self.permit.take());
        self.counters.dropping.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Reports a creation's outcome to the breaker, or its abandonment when the
/// creating future is dropped half way.
struct AttemptGuard<'a> {
    shared: &'a Shared,
    attempt: Option<Attempt>,
}

impl AttemptGuard<'_> {
    fn settle(mut self, outcome: &Result<Instance, PoolError>) {
        let Some(attempt) = self.attempt.take() else {
            return;
        };
        let mut breaker = lock(&self.shared.breaker);
        match outcome {
            Ok(_) => breaker.on_success(attempt),
            // Out of slots says nothing about the guest: the breaker is for
            // guests that fail, not for a full allocator.
            Err(PoolError::CapacityExhausted { .. }) => breaker.on_abandon(attempt),
            Err(_) => breaker.on_failure(attempt, Instant::now()),
        }
    }
}

impl Drop for AttemptGuard<'_> {
    fn drop(&mut self) {
        if let Some(attempt) = self.attempt.take() {
            lock(&self.shared.breaker).on_abandon(attempt);
        }
    }
}
