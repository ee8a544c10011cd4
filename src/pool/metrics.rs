//! Pool metrics: lock-free counters updated on the hot path and a plain
//! snapshot struct for callers and the CLI.

use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use super::breaker::BreakerState;
use super::error::RetireReason;

/// Where a checkout's instance came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    /// Reused, idle for less than the hot threshold.
    Hot,
    /// Reused, idle for less than the warm threshold.
    Warm,
    /// Reused, idle for longer.
    Cold,
    /// No idle instance: created for this checkout.
    Created,
}

/// Idle instances by tier at the time of a snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TierCounts {
    /// Idle for less than the hot threshold.
    pub hot: usize,
    /// Idle for less than the warm threshold.
    pub warm: usize,
    /// Idle for longer.
    pub cold: usize,
}

/// Retirements by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetiredCounts {
    /// A call trapped.
    pub trapped: u64,
    /// A call hit the per-call timeout.
    pub timeout: u64,
    /// A call hit the memory cap.
    pub memory_limit: u64,
    /// A call ran out of fuel.
    pub out_of_fuel: u64,
    /// The instance reached its maximum use count.
    pub max_uses: u64,
    /// The handle was dropped during a call.
    pub cancelled: u64,
    /// Fresh-per-checkout mode: used once by design.
    pub single_use: u64,
    /// Evicted after sitting idle longer than the idle timeout.
    pub idle_timeout: u64,
    /// The pool was closed.
    pub pool_closed: u64,
}

impl RetiredCounts {
    /// All retirements.
    pub fn total(&self) -> u64 {
        self.trapped
            + self.timeout
            + self.memory_limit
            + self.out_of_fuel
            + self.max_uses
            + self.cancelled
            + self.single_use
            + self.idle_timeout
            + self.pool_closed
    }
}

/// Checkout latency percentiles (bucketed to within about 6%).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LatencySummary {
    /// Checkouts measured.
    pub count: u64,
    /// Median.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest checkout seen.
    pub max: Duration,
}

/// A snapshot of a pool's counters and state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolMetrics {
    /// Checkouts served by a hot idle instance.
    pub checkouts_hot: u64,
    /// Checkouts served by a warm idle instance.
    pub checkouts_warm: u64,
    /// Checkouts served by a cold idle instance.
    pub checkouts_cold: u64,
    /// Checkouts that had to create an instance.
    pub checkouts_created: u64,
    /// Instances created.
    pub created: u64,
    /// Instance creations that failed.
    pub creation_failures: u64,
    /// Checkouts refused because the breaker was open.
    pub breaker_rejections: u64,
    /// Checkouts that timed out waiting for a slot or for the creation of
    /// an instance.
    pub checkout_timeouts: u64,
    /// Creations refused because the pooling allocator was out of slots;
    /// these never count towards the breaker.
    pub capacity_failures: u64,
    /// Instances retired, by reason.
    pub retired: RetiredCounts,
    /// The creation breaker's state.
    pub breaker: BreakerState,
    /// Instances checked out right now.
    pub in_use: usize,
    /// Idle instances right now.
    pub idle: usize,
    /// Retired instances whose stores the dropper thread has not freed yet;
    /// each still holds its slot (and its permit) until it has.
    pub dropping: usize,
    /// Permits free right now: `max_instances` once nothing is checked out
    /// or waiting to be dropped.
    pub free_slots: usize,
    /// Idle instances by tier right now.
    pub idle_tiers: TierCounts,
    /// Checkout latency, including creation on a miss.
    pub checkout_latency: LatencySummary,
}

impl fmt::Display for PoolMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.retired;
        let l = &self.checkout_latency;
        writeln!(
            f,
            "checkouts: {} (hot {}, warm {}, cold {}, created {})",
            l.count,
            self.checkouts_hot,
            self.checkouts_warm,
            self.checkouts_cold,
            self.checkouts_created
        )?;
        writeln!(
            f,
            "instances: created {}, creation failures {}, in use {}, idle {} (hot {}, warm {}, cold {})",
            self.created,
            self.creation_failures,
            self.in_use,
            self.idle,
            self.idle_tiers.hot,
            self.idle_tiers.warm,
            self.idle_tiers.cold
        )?;
        writeln!(
            f,
            "retired: {} (trapped {}, timeout {}, memory cap {}, out of fuel {}, max uses {}, cancelled {}, single use {}, idle timeout {}, pool closed {})",
            r.total(),
            r.trapped,
            r.timeout,
            r.memory_limit,
            r.out_of_fuel,
            r.max_uses,
            r.cancelled,
            r.single_use,
            r.idle_timeout,
            r.pool_closed
        )?;
        writeln!(
            f,
            "breaker: {:?}, rejections {}; checkout timeouts {}; capacity failures {}; dropping {}, free slots {}",
            self.breaker,
            self.breaker_rejections,
            self.checkout_timeouts,
            self.capacity_failures,
            self.dropping,
            self.free_slots
        )?;
        write!(
            f,
            "checkout latency: p50 {:?}, p90 {:?}, p99 {:?}, max {:?}",
            l.p50, l.p90, l.p99, l.max
        )
    }
}

/// Counters shared by the pool and its handles.
#[derive(Default)]
pub(crate) struct Counters {
    checkouts: [AtomicU64; 4],
    pub(crate) created: AtomicU64,
    pub(crate) creation_failures: AtomicU64,
    pub(crate) breaker_rejections: AtomicU64,
    pub(crate) checkout_timeouts: AtomicU64,
    pub(crate) capacity_failures: AtomicU64,
    retired: [AtomicU64; 9],
    pub(crate) in_use: AtomicUsize,
    pub(crate) dropping: AtomicUsize,
    pub(crate) latency: Histogram,
}

impl Counters {
    pub(crate) fn record_checkout(&self, tier: Tier, latency: Duration) {
        let slot = match tier {
            Tier::Hot => 0,
            Tier::Warm => 1,
            Tier::Cold => 2,
            Tier::Created => 3,
        };
        self.checkouts[slot].fetch_add(1, Ordering::Relaxed);
        self.latency.record(latency);
    }

    pub(crate) fn record_retired(&self, reason: RetireReason) {
        let slot = match reason {
            RetireReason::Trapped => 0,
            RetireReason::Timeout => 1,
            RetireReason::MemoryLimit => 2,
            RetireReason::OutOfFuel => 3,
            RetireReason::MaxUses => 4,
            RetireReason::Cancelled => 5,
            RetireReason::SingleUse => 6,
            RetireReason::IdleTimeout => 7,
            RetireReason::PoolClosed => 8,
        };
        self.retired[slot].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(
        &self,
        breaker: BreakerState,
        idle: usize,
        idle_tiers: TierCounts,
        free_slots: usize,
    ) -> PoolMetrics {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let retired = RetiredCounts {
            trapped: load(&self.retired[0]),
            timeout: load(&self.retired[1]),
            memory_limit: load(&self.retired[2]),
            out_of_fuel: load(&self.retired[3]),
            max_uses: load(&self.retired[4]),
            cancelled: load(&self.retired[5]),
            single_use: load(&self.retired[6]),
            idle_timeout: load(&self.retired[7]),
            pool_closed: load(&self.retired[8]),
        };
        PoolMetrics {
            checkouts_hot: load(&self.checkouts[0]),
            checkouts_warm: load(&self.checkouts[1]),
            checkouts_cold: load(&self.checkouts[2]),
            checkouts_created: load(&self.checkouts[3]),
            created: load(&self.created),
            creation_failures: load(&self.creation_failures),
            breaker_rejections: load(&self.breaker_rejections),
            checkout_timeouts: load(&self.checkout_timeouts),
            capacity_failures: load(&self.capacity_failures),
            retired,
            breaker,
            in_use: self.in_use.load(Ordering::Relaxed),
            idle,
            dropping: self.dropping.load(Ordering::Relaxed),
            free_slots,
            idle_tiers,
            checkout_latency: self.latency.summary(),
        }
    }
}

/// Sub-buckets per power of two: 8 gives buckets about 12% wide, so a
/// reported percentile (the bucket's midpoint) is within about 6%.
const SUB_BITS: u32 = 3;
const SUB: usize = 1 << SUB_BITS;
/// Values below this many nanoseconds get a bucket each.
const LINEAR: usize = 2 * SUB;
const BUCKETS: usize = LINEAR + (64 - (SUB_BITS as usize + 1)) * SUB;

/// A log-linear latency histogram of atomic counters: recording is one
/// relaxed increment, with no lock on the checkout path.
pub(crate) struct Histogram {
    buckets: Box<[AtomicU64]>,
    max_nanos: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            max_nanos: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    pub(crate) fn record(&self, value: Duration) {
        let nanos = u64::try_from(value.as_nanos()).unwrap_or(u64::MAX);
        if let Some(bucket) = self.buckets.get(bucket_of(nanos)) {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        self.max_nanos.fetch_max(nanos, Ordering::Relaxed);
    }

    pub(crate) fn summary(&self) -> LatencySummary {
        let counts: Vec<u64> = self
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let count: u64 = counts.iter().sum();
        let max = Duration::from_nanos(self.max_nanos.load(Ordering::Relaxed));
        let at = |quantile: f64| {
            if count == 0 {
                return Duration::ZERO;
            }
            // The rank of the sample at this quantile, 1-based.
            let rank = ((count as f64) * quantile).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (index, n) in counts.iter().enumerate() {
                seen += n;
                if seen >= rank {
                    return Duration::from_nanos(midpoint_of(index)).min(max);
                }
            }
            max
        };
        LatencySummary {
            count,
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max,
        }
    }
}

fn bucket_of(nanos: u64) -> usize {
    if nanos < LINEAR as u64 {
        return nanos as usize;
    }
    let exponent = 63 - nanos.leading_zeros();
    let shift = exponent - SUB_BITS;
    let sub = ((nanos >> shift) as usize) & (SUB - 1);
    LINEAR + (exponent - (SUB_BITS + 1)) as usize * SUB + sub
}

fn midpoint_of(index: usize) -> u64 {
    if index < LINEAR {
        return index as u64;
    }
    let offset = index - LINEAR;
    let exponent = (offset / SUB) as u32 + SUB_BITS + 1;
    let sub = (offset % SUB) as u64;
    let shift = exponent - SUB_BITS;
    let low = ((SUB as u64) + sub) << shift;
    low + (1u64 << shift) / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_round_trip_within_their_width() {
        for nanos in [
            0u64,
            1,
            15,
            16,
            17,
            100,
            1_000,
            4_321,
            1 << 20,
            123_456_789,
            u64::MAX / 3,
        ] {
            let mid = midpoint_of(bucket_of(nanos));
            let error = mid.abs_diff(nanos) as f64 / (nanos.max(1) as f64);
            assert!(error <= 0.07, "{nanos} -> {mid}");
        }
        assert!(bucket_of(u64::MAX) < BUCKETS);
    }

    #[test]
    fn percentiles_follow_the_samples() {
        let h = Histogram::default();
        for micros in 1..=100u64 {
            h.record(Duration::from_micros(micros));
        }
        let s = h.summary();
        assert_eq!(s.count, 100);
        let near = |d: Duration, want: u64| {
            (d.as_nanos() as f64 / (want * 1000) as f64 - 1.0).abs() < 0.07
        };
        assert!(near(s.p50, 50), "{:?}", s.p50);
        assert!(near(s.p90, 90), "{:?}", s.p90);
        assert!(near(s.p99, 99), "{:?}", s.p99);
        assert_eq!(s.max, Duration::from_micros(100));
    }
}
