//! The bounded soak test: 64 tasks for 20 s against a pool of 8 on a
//! saturated two-worker executor, with traps, endless loops, allocation
//! bombs and cancellations mixed into ordinary calls. Afterwards every
//! counter balances, no slot is held, every runaway call was cut at its
//! deadline and the breaker never opened.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use temper::pool::{
    Allocator, BreakerState, CallError, ExtractionMode, Pool, PoolConfig, PoolError, Runtime,
    RuntimeConfig,
};

use super::{PAGE, XorShift, guest, note_wait, settle};

const TASKS: u64 = 64;
const SLOTS: usize = 8;
const CALL_TIMEOUT: Duration = Duration::from_millis(100);
const TICK: Duration = Duration::from_millis(5);

/// The soak's length: 20 s, or `TEMPER_SOAK_SECS` for a longer (or, while
/// developing, shorter) run.
fn soak_length() -> Duration {
    std::env::var("TEMPER_SOAK_SECS")
        .ok()
        .and_then(|secs| secs.parse().ok())
        .map_or(Duration::from_secs(20), Duration::from_secs_f64)
}

/// What the tasks saw, to hold the pool's counters against.
#[derive(Default)]
struct Seen {
    checkouts: AtomicU64,
    ok: AtomicU64,
    trapped: AtomicU64,
    timed_out: AtomicU64,
    memory_limit: AtomicU64,
    cancelled: AtomicU64,
    checkout_timeouts: AtomicU64,
    /// How long each runaway call (not under a cancellation) took, with the
    /// longest it waited for its turn on the executor; and how long each
    /// ordinary call took: for the deadline check and the p99.
    runaways: Mutex<Vec<(Duration, Duration)>>,
    calls: Mutex<Vec<Duration>>,
}

impl Seen {
    fn count(&self, answer: &Result<(), CallError>) {
        let counter = match answer {
            Ok(()) => &self.ok,
            Err(CallError::Trapped { .. }) => &self.trapped,
            Err(CallError::Timeout { .. }) => &self.timed_out,
            Err(CallError::MemoryLimit { .. }) => &self.memory_limit,
            Err(other) => panic!("unexpected call error: {other}"),
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Clone, Copy)]
enum Op {
    Ordinary,
    Trap,
    Runaway,
    AllocationBomb,
}

impl Op {
    fn url(self) -> &'static str {
        match self {
            Op::Ordinary => "https://example.com/",
            Op::Trap => "temper-test:trap",
            Op::Runaway => "temper-test:loop",
            Op::AllocationBomb => "temper-test:alloc",
        }
    }
}

/// One checkout, one call, then an explicit release or a drop.
async fn serve(pool: &Pool, seen: &Seen, op: Op, drop_instead: bool, timed: bool) {
    let mut instance = match pool.checkout().await {
        Ok(instance) => instance,
        Err(PoolError::CheckoutTimeout { .. }) => {
            seen.checkout_timeouts.fetch_add(1, Ordering::Relaxed);
            return;
        }
        Err(other) => panic!("unexpected checkout error: {other}"),
    };
    seen.checkouts.fetch_add(1, Ordering::Relaxed);
    let started = Instant::now();
    let (answer, waited) =
        with_longest_wait(instance.extract(PAGE, op.url(), ExtractionMode::Full)).await;
    let took = started.elapsed();
    let answer = answer.map(|_| ());
    seen.count(&answer);
    if timed {
        match op {
            Op::Runaway => seen.runaways.lock().expect("lock").push((took, waited)),
            Op::Ordinary => seen.calls.lock().expect("lock").push(took),
            Op::Trap | Op::AllocationBomb => {}
        }
    }
    if drop_instead {
        drop(instance);
    } else {
        // Only `Closed` can fail a release, and nobody closes this pool.
        instance.release().await.expect("release");
    }
}

/// Runs `future` and returns its output with the longest time between one
/// of its polls returning pending and the next poll: the longest it waited
/// in the executor's run queue (or for whatever it was waiting on).
async fn with_longest_wait<F: Future>(future: F) -> (F::Output, Duration) {
    let mut future = std::pin::pin!(future);
    let mut pended: Option<Instant> = None;
    let mut longest = Duration::ZERO;
    let output = std::future::poll_fn(|cx| {
        if let Some(pended) = pended {
            longest = longest.max(pended.elapsed());
        }
        let polled = future.as_mut().poll(cx);
        if polled.is_pending() {
            pended = Some(Instant::now());
        }
        polled
    })
    .await;
    (output, longest)
}

fn percentile(mut samples: Vec<Duration>, quantile: f64) -> Duration {
    samples.sort_unstable();
    let rank = ((samples.len() as f64) * quantile).ceil() as usize;
    samples
        .get(rank.clamp(1, samples.len().max(1)) - 1)
        .copied()
        .unwrap_or_default()
}

#[test]
fn soak_64_tasks_against_8_instances_on_a_saturated_executor() {
    let runtime = Runtime::from_bytes(
        &guest::extractor().component,
        RuntimeConfig {
            allocator: Allocator::Pooling {
                slots: u32::try_from(SLOTS).expect("small"),
            },
            call_timeout: CALL_TIMEOUT,
            epoch_tick: TICK,
            memory_cap: 16 * 1024 * 1024,
            fuel: None,
        },
    )
    .expect("loads");
    let tick = runtime.epoch_tick();
    let pool = Pool::new(
        runtime,
        PoolConfig {
            max_instances: SLOTS,
            checkout_timeout: Duration::from_secs(5),
            max_uses: Some(200),
            idle_timeout: Some(Duration::from_millis(500)),
            ..PoolConfig::default()
        },
    )
    .expect("8 slots hold a pool of 8");
    let executor = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .expect("executor");

    let seen = Arc::new(Seen::default());
    let stop = Arc::new(AtomicBool::new(false));
    // Scheduling slack, measured while the soak runs: the longest a
    // runnable task waited for its turn on the executor, and the longest a
    // plain thread overslept a 1 ms sleep (the machine's own load).
    let executor_wait = Arc::new(AtomicU64::new(0));
    let thread_oversleep = Arc::new(AtomicU64::new(0));
    let sleeper = std::thread::spawn({
        let (stop, oversleep) = (stop.clone(), thread_oversleep.clone());
        move || {
            while !stop.load(Ordering::Relaxed) {
                let before = Instant::now();
                std::thread::sleep(Duration::from_millis(1));
                note_wait(
                    &oversleep,
                    before.elapsed().saturating_sub(Duration::from_millis(1)),
                );
            }
        }
    });

    let length = soak_length();
    let wall = Instant::now();
    executor.block_on(async {
        let until = Instant::now() + length;
        let mut tasks = tokio::task::JoinSet::new();
        // Two CPU-bound tasks beside the pool's callers keep both workers
        // busy: 2 ms of spinning per turn.
        for _ in 0..2 {
            let (stop, executor_wait) = (stop.clone(), executor_wait.clone());
            tasks.spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let busy = Instant::now();
                    while busy.elapsed() < Duration::from_millis(2) {
                        std::hint::spin_loop();
                    }
                    let yielded = Instant::now();
                    tokio::task::yield_now().await;
                    note_wait(&executor_wait, yielded.elapsed());
                }
            });
        }
        for task in 0..TASKS {
            let (pool, seen) = (pool.clone(), seen.clone());
            tasks.spawn(async move {
                let mut rng = XorShift(0x2545_F491_4F6C_DD1D ^ (task + 1));
                while Instant::now() < until {
                    let roll = rng.next();
                    let op = match roll % 100 {
                        0..=3 => Op::Trap,
                        4..=5 => Op::Runaway,
                        6..=8 => Op::AllocationBomb,
                        _ => Op::Ordinary,
                    };
                    let drop_instead = (roll >> 8).is_multiple_of(10);
                    if (roll >> 16).is_multiple_of(8) {
                        // Cancelled at a random point: waiting for a slot,
                        // holding one, or in the middle of a call.
                        let limit = Duration::from_micros((roll >> 24) % 3_000);
                        let run = serve(&pool, &seen, op, drop_instead, false);
                        if tokio::time::timeout(limit, run).await.is_err() {
                            seen.cancelled.fetch_add(1, Ordering::Relaxed);
                        }
                    } else {
                        serve(&pool, &seen, op, drop_instead, true).await;
                    }
                }
            });
        }
        let mut tasks_left = TASKS;
        while let Some(joined) = tasks.join_next().await {
            joined.expect("a soak task panicked");
            tasks_left = tasks_left.saturating_sub(1);
            if tasks_left == 0 {
                stop.store(true, Ordering::Relaxed);
            }
        }
    });
    let wall = wall.elapsed();
    stop.store(true, Ordering::Relaxed);
    sleeper.join().expect("sleeper");

    let metrics = settle(&pool);
    let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    let runaways = std::mem::take(&mut *seen.runaways.lock().expect("lock"));
    let calls = std::mem::take(&mut *seen.calls.lock().expect("lock"));
    let executor_wait = Duration::from_micros(load(&executor_wait));
    let thread_oversleep = Duration::from_micros(load(&thread_oversleep));
    println!(
        "soak: {wall:.1?}, {} checkouts, {} ok, {} trapped, {} timed out, {} memory cap, {} cancelled, {} checkout timeouts",
        load(&seen.checkouts),
        load(&seen.ok),
        load(&seen.trapped),
        load(&seen.timed_out),
        load(&seen.memory_limit),
        load(&seen.cancelled),
        load(&seen.checkout_timeouts),
    );
    let worst_runaway = runaways
        .iter()
        .map(|(took, _)| *took)
        .max()
        .unwrap_or_default();
    // How far past deadline + tick + its own longest wait any runaway ran.
    let worst_excess = runaways
        .iter()
        .map(|(took, waited)| took.saturating_sub(CALL_TIMEOUT + tick + *waited))
        .max()
        .unwrap_or_default();
    println!(
        "soak: ordinary call p50 {:?}, p99 {:?}; runaway calls {}, slowest cut after {worst_runaway:?}, at most {worst_excess:?} past deadline + tick + its own longest wait; worst executor wait {executor_wait:?}, worst thread oversleep {thread_oversleep:?}",
        percentile(calls.clone(), 0.50),
        percentile(calls, 0.99),
        runaways.len(),
    );
    println!("{metrics}");

    // Bounded in time: the soak, then at most one call timeout to finish.
    assert!(wall < length + Duration::from_secs(5), "took {wall:?}");
    // Every counter balances.
    assert_eq!(metrics.in_use, 0, "{metrics}");
    assert_eq!(metrics.dropping, 0, "{metrics}");
    assert_eq!(metrics.free_slots, SLOTS, "a slot is still held: {metrics}");
    assert_eq!(
        metrics.created,
        metrics.idle as u64 + metrics.retired.total(),
        "{metrics}"
    );
    assert_eq!(
        metrics.checkout_latency.count,
        load(&seen.checkouts),
        "{metrics}"
    );
    assert_eq!(metrics.checkout_timeouts, load(&seen.checkout_timeouts));
    assert_eq!(metrics.retired.trapped, load(&seen.trapped), "{metrics}");
    assert_eq!(metrics.retired.timeout, load(&seen.timed_out), "{metrics}");
    assert_eq!(
        metrics.retired.memory_limit,
        load(&seen.memory_limit),
        "{metrics}"
    );
    assert!(
        metrics.retired.cancelled <= load(&seen.cancelled),
        "{metrics}"
    );
    // The breaker never opened: no creation failed, for capacity or else.
    assert_eq!(metrics.breaker, BreakerState::Closed, "{metrics}");
    assert_eq!(
        (
            metrics.capacity_failures,
            metrics.creation_failures,
            metrics.breaker_rejections
        ),
        (0, 0, 0),
        "{metrics}"
    );
    // Every runaway call was cut at its deadline plus at most one tick of
    // running, plus the wait for its turn on the executor. That wait is
    // measured, not assumed, for each call: the longest it waited between
    // two polls, and the worst oversleep of a plain thread during the soak
    // for the machine's own noise (the ticker thread sleeps too), both
    // doubled. Counting ticks run instead of time, the pool once let such a
    // call take 20 ticks and 20 such waits.
    assert!(!runaways.is_empty(), "the soak ran no runaway call");
    for (took, waited) in &runaways {
        let bound = CALL_TIMEOUT + tick + 2 * (*waited + thread_oversleep);
        assert!(
            *took >= CALL_TIMEOUT && *took <= bound,
            "a runaway call was cut after {took:?}; bound {bound:?} (longest wait {waited:?})"
        );
    }
}
