//! The pool itself: a semaphore-bounded checkout that reuses idle instances
//! hottest first, creates on a miss behind a circuit breaker, and takes
//! instances back or retires them.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::breaker::{Breaker, BreakerState};
use super::config::{PoolConfig, Reuse, RuntimeConfig};
use super::error::{PoolError, RetireReason};
use super::handle::{PooledInstance, Released};
use super::metrics::{Counters, PoolMetrics, Tier, TierCounts};
use super::runtime::{Instance, Runtime};

/// A pool of instances of one component.
///
/// Cloning is cheap and every clone serves the same pool. Time is read from
/// `tokio::time::Instant`, so idle tiers and the breaker's cool-down follow
/// tokio's paused clock in tests (outside a runtime it is the system clock).
#[derive(Clone)]
pub struct Pool {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    runtime: Runtime,
    config: PoolConfig,
    permits: Arc<Semaphore>,
    /// Idle instances, most recently returned last: popping from the end
    /// takes the hottest one.
    idle: Mutex<IdleSet>,
    breaker: Mutex<Breaker>,
    pub(crate) counters: Counters,
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

impl Pool {
    /// Loads the component at `path` and builds a pool around it.
    pub fn load(
        path: &Path,
        runtime: RuntimeConfig,
        config: PoolConfig,
    ) -> Result<Self, PoolError> {
        Ok(Self::new(Runtime::load(path, runtime)?, config))
    }

    /// A pool over an already loaded runtime; several pools may share one.
    pub fn new(runtime: Runtime, config: PoolConfig) -> Self {
        // A zero bound would make every checkout time out; one is the least
        // that can serve.
        let bound = config.max_instances.max(1);
        Self {
            shared: Arc::new(Shared {
                runtime,
                permits: Arc::new(Semaphore::new(bound)),
                idle: Mutex::new(IdleSet {
                    instances: Vec::with_capacity(bound),
                    closed: false,
                }),
                breaker: Mutex::new(Breaker::new(config.breaker)),
                counters: Counters::default(),
                config,
            }),
        }
    }

    /// The runtime instances are created from.
    pub fn runtime(&self) -> &Runtime {
        &self.shared.runtime
    }

    /// The pool's configuration.
    pub fn config(&self) -> &PoolConfig {
        &self.shared.config
    }

    /// Checks out an instance: waits (up to the checkout timeout) for a
    /// slot, then takes the hottest idle instance or creates one.
    ///
    /// Cancel-safe: dropping the future at any point leaves no slot taken
    /// and no instance unaccounted for.
    pub async fn checkout(&self) -> Result<PooledInstance, PoolError> {
        let shared = &self.shared;
        let started = Instant::now();
        let waited = tokio::time::timeout(
            shared.config.checkout_timeout,
            Arc::clone(&shared.permits).acquire_owned(),
        )
        .await;
        let permit = match waited {
            Ok(Ok(permit)) => permit,
            Ok(Err(_closed)) => return Err(PoolError::Closed),
            Err(_elapsed) => {
                shared
                    .counters
                    .checkout_timeouts
                    .fetch_add(1, Ordering::Relaxed);
                return Err(PoolError::CheckoutTimeout {
                    waited: started.elapsed(),
                });
            }
        };
        let (instance, tier) = match shared.take_idle() {
            Some(found) => found,
            None => (shared.create().await?, Tier::Created),
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
        self.shared.counters.snapshot(breaker, idle, tiers)
    }

    /// The creation breaker's state now.
    pub fn breaker_state(&self) -> BreakerState {
        lock(&self.shared.breaker).state(Instant::now())
    }

    /// Stops serving: pending and future checkouts fail with
    /// [`PoolError::Closed`], idle instances are retired now, and checked-out
    /// instances are retired when they come back.
    pub fn close(&self) {
        self.shared.permits.close();
        let drained = {
            let mut idle = lock(&self.shared.idle);
            idle.closed = true;
            std::mem::take(&mut idle.instances)
        };
        for entry in drained {
            drop(entry.instance);
            self.shared
                .counters
                .record_retired(RetireReason::PoolClosed);
        }
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

    fn take_idle(&self) -> Option<(Instance, Tier)> {
        let entry = lock(&self.idle).instances.pop()?;
        Some((entry.instance, self.tier_of(entry.since, Instant::now())))
    }

    async fn create(self: &Arc<Self>) -> Result<Instance, PoolError> {
        if let Err(retry_after) = lock(&self.breaker).try_acquire(Instant::now()) {
            self.counters
                .breaker_rejections
                .fetch_add(1, Ordering::Relaxed);
            return Err(PoolError::BreakerOpen { retry_after });
        }
        // If this future is dropped during instantiation the attempt proved
        // nothing; the guard tells the breaker so a half-open trial slot is
        // not lost.
        let mut attempt = Attempt {
            shared: self,
            settled: false,
        };
        let created = self.runtime.instantiate().await;
        attempt.settled = true;
        let mut breaker = lock(&self.breaker);
        match created {
            Ok(instance) => {
                breaker.on_success();
                self.counters.created.fetch_add(1, Ordering::Relaxed);
                Ok(instance)
            }
            Err(error) => {
                breaker.on_failure(Instant::now());
                self.counters
                    .creation_failures
                    .fetch_add(1, Ordering::Relaxed);
                Err(error)
            }
        }
    }

    /// Takes an instance back: retires it when it failed, reached its use
    /// limit, was used once by policy or the pool is closed; otherwise makes
    /// it the hottest idle instance. Runs exactly once per checkout.
    pub(crate) fn finish(
        &self,
        instance: Instance,
        permit: OwnedSemaphorePermit,
        forced: Option<RetireReason>,
    ) -> Released {
        let reason = instance
            .retire_reason()
            .or(forced)
            .or_else(|| {
                let limit = self.config.max_uses?;
                (instance.uses() >= limit).then_some(RetireReason::MaxUses)
            })
            .or((self.config.reuse == Reuse::FreshPerCheckout).then_some(RetireReason::SingleUse));
        let released = match reason {
            Some(reason) => self.retire(instance, reason),
            None => {
                let mut idle = lock(&self.idle);
                if idle.closed {
                    drop(idle);
                    self.retire(instance, RetireReason::PoolClosed)
                } else {
                    idle.instances.push(Idle {
                        instance,
                        since: Instant::now(),
                    });
                    Released::Returned
                }
            }
        };
        self.counters.in_use.fetch_sub(1, Ordering::Relaxed);
        // The slot frees only now, after the instance (and, with the pooling
        // allocator, its memory slot) is idle or gone.
        drop(permit);
        released
    }

    fn retire(&self, instance: Instance, reason: RetireReason) -> Released {
        drop(instance);
        self.counters.record_retired(reason);
        Released::Retired(reason)
    }
}

/// Reports an instantiation abandoned half way to the breaker.
struct Attempt<'a> {
    shared: &'a Shared,
    settled: bool,
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            lock(&self.shared.breaker).on_abandon();
        }
    }
}
