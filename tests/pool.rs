//! The reference instance pool (`temper::pool`) against the real extractor
//! guest from `fixtures/guests/`: bounds, tiers, failure handling, limits,
//! the breaker, release and its `Drop` fallback, and cancellation.

#[path = "support/guest.rs"]
mod guest;
mod soak;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use temper::pool::{
    Allocator, Breaker, BreakerConfig, BreakerState, CallError, ExtractionError, ExtractionMode,
    MIN_EPOCH_TICK, Pool, PoolConfig, PoolError, Released, RetireReason, Reuse, Runtime,
    RuntimeConfig, Tier, TierThresholds,
};

const PAGE: &str = "<html><head><title> Hello &amp; welcome </title>\
    <style>p { color: red }</style></head><body><h1>News</h1>\
    <p>First <a href=\"https://example.com/one\">link one</a> and \
    <a class=x href='/two'>second</a>.</p><!-- hidden --><script>var x = 1;</script>\
    <p>Closing words here</p></body></html>";

const MEMORY_CAP: usize = 16 * 1024 * 1024;
const CALL_TIMEOUT: Duration = Duration::from_millis(750);

fn runtime_config() -> RuntimeConfig {
    RuntimeConfig {
        call_timeout: CALL_TIMEOUT,
        memory_cap: MEMORY_CAP,
        ..RuntimeConfig::default()
    }
}

/// One compiled runtime shared by most tests: compiling is the slow part in
/// a debug build, and a runtime does not depend on any tokio runtime.
fn shared_runtime() -> Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            Runtime::from_bytes(&guest::extractor().component, runtime_config())
                .expect("the guest component loads")
        })
        .clone()
}

fn pool(config: PoolConfig) -> Pool {
    Pool::new(shared_runtime(), config).expect("the on-demand allocator has no slot limit")
}

fn small(max_instances: usize) -> PoolConfig {
    PoolConfig {
        max_instances,
        checkout_timeout: Duration::from_secs(10),
        ..PoolConfig::default()
    }
}

/// Waits (in real time, whatever tokio's clock does) until the dropper
/// thread has freed every retired store and with it every slot.
fn settle(pool: &Pool) -> temper::pool::PoolMetrics {
    let bound = pool.config().max_instances;
    for _ in 0..2_000 {
        let metrics = pool.metrics();
        if metrics.dropping == 0 && metrics.in_use == 0 && metrics.free_slots == bound {
            return metrics;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    pool.metrics()
}

#[tokio::test]
async fn extracts_title_links_and_text_and_reports_guest_errors() {
    let pool = pool(small(1));
    let mut instance = pool.checkout().await.expect("checkout");

    let page = instance
        .extract(PAGE, "https://example.com/", ExtractionMode::Full)
        .await
        .expect("call succeeds")
        .expect("page extracts");
    assert_eq!(page.url, "https://example.com/");
    assert_eq!(page.title.as_deref(), Some("Hello & welcome"));
    let links: Vec<(&str, &str)> = page
        .links
        .iter()
        .map(|l| (l.href.as_str(), l.text.as_str()))
        .collect();
    assert_eq!(
        links,
        [("https://example.com/one", "link one"), ("/two", "second")]
    );
    assert_eq!(
        page.text,
        "News First link one and second. Closing words here"
    );
    assert_eq!(page.word_count, 9);

    let metadata = instance
        .extract(PAGE, "u", ExtractionMode::Metadata)
        .await
        .expect("call succeeds")
        .expect("page extracts");
    assert_eq!(metadata.text, "");
    assert_eq!(metadata.links.len(), 2);

    let empty = instance
        .extract("  \n ", "u", ExtractionMode::Full)
        .await
        .expect("call succeeds");
    assert!(
        matches!(empty, Err(ExtractionError::EmptyInput)),
        "{empty:?}"
    );
    let broken = instance
        .extract("<p>text <a href", "u", ExtractionMode::Full)
        .await
        .expect("call succeeds");
    assert!(
        matches!(&broken, Err(ExtractionError::Malformed(why)) if why.contains("byte 8")),
        "{broken:?}"
    );

    // Guest-level errors are answers, not failures: the instance goes back.
    assert_eq!(
        instance.release().await.expect("release"),
        Released::Returned
    );
    assert_eq!(pool.metrics().idle, 1);
}

#[tokio::test]
async fn wrong_components_fail_to_load_cleanly() {
    let core = Runtime::from_bytes(&guest::extractor().core_module, runtime_config());
    assert!(
        matches!(&core, Err(PoolError::NotAComponent { detail }) if detail.contains("core")),
        "{:?}",
        core.err()
    );
    // The smallest valid component: it exports nothing.
    let empty_component = b"\0asm\x0d\0\x01\0";
    let missing = Runtime::from_bytes(empty_component, runtime_config());
    assert!(
        matches!(&missing, Err(PoolError::WorldMismatch { detail, .. }) if detail.contains("temper:extractor/extract")),
        "{:?}",
        missing.err()
    );
    let text = Runtime::from_bytes(b"<html></html>", runtime_config());
    assert!(matches!(text, Err(PoolError::NotAComponent { .. })));
    let absent = Runtime::load(
        std::path::Path::new("/nonexistent/guest.wasm"),
        runtime_config(),
    );
    assert!(matches!(absent, Err(PoolError::Read { .. })));
    // And the real component loads from its file.
    let loaded = Runtime::load(&guest::extractor().component_path, runtime_config());
    assert!(loaded.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_never_exceeds_the_bound() {
    const BOUND: usize = 3;
    let pool = pool(small(BOUND));
    let current = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..24 {
        let (pool, current, peak) = (pool.clone(), current.clone(), peak.clone());
        tasks.spawn(async move {
            let mut instance = pool.checkout().await.expect("checkout");
            let now = current.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            assert!(pool.metrics().in_use <= BOUND);
            let url = format!("https://example.com/{task}");
            let page = instance.extract(PAGE, &url, ExtractionMode::Full).await;
            assert!(matches!(page, Ok(Ok(_))));
            tokio::task::yield_now().await;
            current.fetch_sub(1, Ordering::SeqCst);
            instance.release().await.expect("release");
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("task");
    }
    let metrics = pool.metrics();
    assert!(peak.load(Ordering::SeqCst) <= BOUND);
    assert!(metrics.created as usize <= BOUND, "{metrics}");
    assert_eq!(metrics.in_use, 0);
    assert_eq!(metrics.checkout_latency.count, 24);
}

#[tokio::test(start_paused = true)]
async fn checkout_times_out_when_every_slot_is_taken() {
    let pool = pool(PoolConfig {
        checkout_timeout: Duration::from_millis(200),
        ..small(1)
    });
    let held = pool.checkout().await.expect("first checkout");
    let waited = pool.checkout().await;
    assert!(
        matches!(waited, Err(PoolError::CheckoutTimeout { waited }) if waited >= Duration::from_millis(200))
    );
    assert_eq!(pool.metrics().checkout_timeouts, 1);
    held.release().await.expect("release");
    assert!(pool.checkout().await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn idle_instances_cool_through_tiers_and_the_hottest_is_reused_first() {
    let pool = pool(PoolConfig {
        tiers: TierThresholds {
            hot: Duration::from_secs(1),
            warm: Duration::from_secs(10),
        },
        ..small(2)
    });
    let mut older = pool.checkout().await.expect("checkout");
    let mut newer = pool.checkout().await.expect("checkout");
    assert_eq!(older.tier(), Tier::Created);
    for _ in 0..2 {
        let answer = older.extract(PAGE, "u", ExtractionMode::Metadata).await;
        assert!(matches!(answer, Ok(Ok(_))));
    }
    let answer = newer.extract(PAGE, "u", ExtractionMode::Metadata).await;
    assert!(matches!(answer, Ok(Ok(_))));
    older.release().await.expect("release");
    tokio::time::advance(Duration::from_millis(500)).await;
    newer.release().await.expect("release");

    let tiers = pool.metrics().idle_tiers;
    assert_eq!((tiers.hot, tiers.warm, tiers.cold), (2, 0, 0));
    tokio::time::advance(Duration::from_millis(700)).await;
    let tiers = pool.metrics().idle_tiers;
    assert_eq!((tiers.hot, tiers.warm, tiers.cold), (1, 1, 0));
    tokio::time::advance(Duration::from_secs(9)).await;
    let tiers = pool.metrics().idle_tiers;
    assert_eq!((tiers.hot, tiers.warm, tiers.cold), (0, 1, 1));

    // The most recently returned instance (one use) comes out first.
    let first = pool.checkout().await.expect("checkout");
    assert_eq!((first.tier(), first.uses()), (Tier::Warm, 1));
    let second = pool.checkout().await.expect("checkout");
    assert_eq!((second.tier(), second.uses()), (Tier::Cold, 2));
    let metrics = pool.metrics();
    assert_eq!(
        (
            metrics.checkouts_created,
            metrics.checkouts_warm,
            metrics.checkouts_cold
        ),
        (2, 1, 1)
    );
    first.release().await.expect("release");
    second.release().await.expect("release");
}

#[tokio::test]
async fn a_trapping_call_retires_its_instance_and_the_pool_keeps_serving() {
    let pool = pool(small(1));
    let mut instance = pool.checkout().await.expect("checkout");
    let trapped = instance
        .extract(PAGE, "temper-test:trap", ExtractionMode::Full)
        .await;
    assert!(
        matches!(trapped, Err(CallError::Trapped { .. })),
        "{trapped:?}"
    );
    // wasmtime would refuse to re-enter it; the pool never tries.
    let again = instance.extract(PAGE, "u", ExtractionMode::Full).await;
    assert!(matches!(
        again,
        Err(CallError::Unusable(RetireReason::Trapped))
    ));
    assert_eq!(
        instance.release().await.expect("release"),
        Released::Retired(RetireReason::Trapped)
    );

    let mut replacement = pool.checkout().await.expect("checkout");
    assert_eq!(replacement.tier(), Tier::Created);
    let page = replacement.extract(PAGE, "u", ExtractionMode::Full).await;
    assert!(matches!(page, Ok(Ok(_))));
    replacement.release().await.expect("release");
    let metrics = pool.metrics();
    assert_eq!(
        (metrics.created, metrics.retired.trapped, metrics.idle),
        (2, 1, 1)
    );
}

#[tokio::test]
async fn an_endless_loop_is_interrupted_at_the_timeout_without_blocking_the_executor() {
    let pool = pool(small(1));
    let mut instance = pool.checkout().await.expect("checkout");
    // This single-threaded runtime only gets to run the other task if the
    // looping guest yields at epoch ticks.
    let looping = Arc::new(AtomicBool::new(true));
    let turns = Arc::new(AtomicUsize::new(0));
    let observer = tokio::spawn({
        let (looping, turns) = (looping.clone(), turns.clone());
        async move {
            while looping.load(Ordering::SeqCst) {
                turns.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
            }
        }
    });
    tokio::task::yield_now().await;
    let before = turns.load(Ordering::SeqCst);
    let result = instance
        .extract(PAGE, "temper-test:loop", ExtractionMode::Full)
        .await;
    let during = turns.load(Ordering::SeqCst) - before;
    looping.store(false, Ordering::SeqCst);
    observer.await.expect("observer");
    assert!(
        matches!(result, Err(CallError::Timeout { timeout, .. }) if timeout == CALL_TIMEOUT),
        "{result:?}"
    );
    assert!(during > 0, "the executor was blocked during the call");
    assert_eq!(
        instance.release().await.expect("release"),
        Released::Retired(RetireReason::Timeout)
    );
    assert_eq!(pool.metrics().retired.timeout, 1);
}

/// Largest gap, in microseconds, between a task's `yield_now` and its next
/// turn seen so far: how long the executor makes a runnable task wait.
fn note_wait(worst: &AtomicU64, waited: Duration) {
    worst.fetch_max(
        u64::try_from(waited.as_micros()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
}

#[tokio::test]
async fn a_runaway_call_on_a_saturated_executor_is_cut_at_its_wall_clock_deadline() {
    const TIMEOUT: Duration = Duration::from_millis(200);
    let runtime = Runtime::from_bytes(
        &guest::extractor().component,
        RuntimeConfig {
            call_timeout: TIMEOUT,
            epoch_tick: Duration::from_millis(5),
            ..runtime_config()
        },
    )
    .expect("loads");
    let tick = runtime.epoch_tick();
    let pool = Pool::new(runtime, small(1)).expect("pool");
    let mut instance = pool.checkout().await.expect("checkout");

    // Six CPU-bound tasks on this single-threaded executor, each holding it
    // 5 ms per turn: after every yield the call waits about 30 ms in the
    // run queue. Counting ticks the call ran, as the pool once did, would
    // stretch 200 ms to 40 ticks x 35 ms = 1.4 s.
    let stop = Arc::new(AtomicBool::new(false));
    let worst_wait = Arc::new(AtomicU64::new(0));
    let mut hogs = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (stop, worst_wait) = (stop.clone(), worst_wait.clone());
        hogs.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let busy = std::time::Instant::now();
                while busy.elapsed() < Duration::from_millis(5) {
                    std::hint::spin_loop();
                }
                let yielded = std::time::Instant::now();
                tokio::task::yield_now().await;
                note_wait(&worst_wait, yielded.elapsed());
            }
        });
    }
    tokio::task::yield_now().await;

    let started = std::time::Instant::now();
    let result = instance
        .extract(PAGE, "temper-test:loop", ExtractionMode::Full)
        .await;
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    while hogs.join_next().await.is_some() {}

    let Err(CallError::Timeout {
        timeout,
        elapsed: reported,
    }) = result
    else {
        panic!("expected a timeout, got {result:?}");
    };
    assert_eq!(timeout, TIMEOUT);
    assert!(reported <= elapsed && reported >= TIMEOUT, "{reported:?}");
    // Past the deadline the call may run one more tick, and may wait one
    // turn of the run queue before it is polled again; twice the worst wait
    // the hogs saw covers that turn and the machine's own noise.
    let slack = Duration::from_micros(worst_wait.load(Ordering::Relaxed));
    let bound = TIMEOUT + tick + 2 * slack;
    assert!(
        elapsed <= bound,
        "cut after {elapsed:?}; bound {bound:?} (tick {tick:?}, worst queue wait {slack:?})"
    );
    assert_eq!(
        instance.release().await.expect("release"),
        Released::Retired(RetireReason::Timeout)
    );
}

#[tokio::test]
async fn an_epoch_tick_below_the_minimum_does_not_lengthen_the_timeout() {
    const TIMEOUT: Duration = Duration::from_millis(100);
    let runtime = Runtime::from_bytes(
        &guest::extractor().component,
        RuntimeConfig {
            call_timeout: TIMEOUT,
            epoch_tick: Duration::from_nanos(1),
            ..runtime_config()
        },
    )
    .expect("loads");
    assert_eq!(runtime.epoch_tick(), MIN_EPOCH_TICK);
    let mut instance = runtime.instantiate().await.expect("instantiate");
    let started = std::time::Instant::now();
    let result = instance
        .extract(PAGE, "temper-test:loop", ExtractionMode::Full)
        .await;
    let elapsed = started.elapsed();
    assert!(
        matches!(result, Err(CallError::Timeout { .. })),
        "{result:?}"
    );
    // Ticks computed from the raw 1 ns setting but run at the clamped
    // 100 us made this 100 ms call last 10,000 s; a tenth of that margin is
    // still far from any scheduling noise.
    assert!(elapsed < 10 * TIMEOUT, "cut after {elapsed:?}");
}

#[tokio::test]
async fn an_allocation_bomb_is_stopped_at_the_memory_cap() {
    let pool = pool(small(1));
    let mut instance = pool.checkout().await.expect("checkout");
    let result = instance
        .extract(PAGE, "temper-test:alloc", ExtractionMode::Full)
        .await;
    assert!(
        matches!(result, Err(CallError::MemoryLimit { cap_bytes }) if cap_bytes == MEMORY_CAP),
        "{result:?}"
    );
    assert_eq!(
        instance.release().await.expect("release"),
        Released::Retired(RetireReason::MemoryLimit)
    );
    let mut next = pool.checkout().await.expect("checkout");
    assert!(matches!(
        next.extract(PAGE, "u", ExtractionMode::Full).await,
        Ok(Ok(_))
    ));
    next.release().await.expect("release");
}

#[tokio::test]
async fn fuel_stops_a_loop_when_configured() {
    let runtime = Runtime::from_bytes(
        &guest::extractor().component,
        RuntimeConfig {
            fuel: Some(5_000_000),
            call_timeout: Duration::from_secs(30),
            ..runtime_config()
        },
    )
    .expect("loads");
    let pool = Pool::new(runtime, small(1)).expect("pool");
    let mut instance = pool.checkout().await.expect("checkout");
    let ok = instance.extract(PAGE, "u", ExtractionMode::Full).await;
    assert!(matches!(ok, Ok(Ok(_))), "a normal call fits in the fuel");
    let result = instance
        .extract(PAGE, "temper-test:loop", ExtractionMode::Full)
        .await;
    assert!(matches!(result, Err(CallError::OutOfFuel)), "{result:?}");
    assert_eq!(
        instance.release().await.expect("release"),
        Released::Retired(RetireReason::OutOfFuel)
    );
}

#[tokio::test(start_paused = true)]
async fn the_breaker_opens_half_opens_and_closes() {
    let mut breaker = Breaker::new(BreakerConfig {
        failure_threshold: 3,
        cool_down: Duration::from_secs(5),
    });
    let now = tokio::time::Instant::now;
    for _ in 0..2 {
        let attempt = breaker.try_acquire(now()).expect("closed");
        assert!(!attempt.is_trial());
        breaker.on_failure(attempt, now());
    }
    assert_eq!(breaker.state(now()), BreakerState::Closed);
    let attempt = breaker.try_acquire(now()).expect("closed");
    breaker.on_failure(attempt, now());
    assert_eq!(breaker.state(now()), BreakerState::Open);
    assert_eq!(breaker.try_acquire(now()), Err(Duration::from_secs(5)));

    tokio::time::advance(Duration::from_secs(5)).await;
    assert_eq!(breaker.state(now()), BreakerState::HalfOpen);
    let trial = breaker.try_acquire(now()).expect("one trial goes through");
    assert!(trial.is_trial());
    assert!(breaker.try_acquire(now()).is_err(), "only one at a time");
    breaker.on_failure(trial, now());
    assert_eq!(
        breaker.state(now()),
        BreakerState::Open,
        "a failed trial reopens"
    );

    tokio::time::advance(Duration::from_secs(5)).await;
    let trial = breaker.try_acquire(now()).expect("trial");
    breaker.on_abandon(trial);
    let trial = breaker
        .try_acquire(now())
        .expect("an abandoned trial frees the slot");
    breaker.on_success(trial);
    assert_eq!(breaker.state(now()), BreakerState::Closed);
    assert_eq!(breaker.consecutive_failures(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_stale_creation_cannot_reopen_clear_or_double_a_half_open_trial() {
    let mut breaker = Breaker::new(BreakerConfig {
        failure_threshold: 2,
        cool_down: Duration::from_secs(5),
    });
    let now = tokio::time::Instant::now;
    // Three creations start while the breaker is closed; two fail and open it.
    let slow_failure = breaker.try_acquire(now()).expect("closed");
    let slow_abandon = breaker.try_acquire(now()).expect("closed");
    let slow_success = breaker.try_acquire(now()).expect("closed");
    for _ in 0..2 {
        let attempt = breaker.try_acquire(now()).expect("closed");
        breaker.on_failure(attempt, now());
    }
    assert_eq!(breaker.state(now()), BreakerState::Open);

    tokio::time::advance(Duration::from_secs(5)).await;
    let trial = breaker.try_acquire(now()).expect("the trial");
    assert!(trial.is_trial());
    // The stale attempts end while the trial runs: none of them decides.
    breaker.on_failure(slow_failure, now());
    assert_eq!(
        breaker.state(now()),
        BreakerState::HalfOpen,
        "a stale failure reopened the breaker"
    );
    breaker.on_abandon(slow_abandon);
    assert!(
        breaker.try_acquire(now()).is_err(),
        "a stale abandon let a second trial in"
    );
    breaker.on_success(slow_success);
    assert_eq!(breaker.state(now()), BreakerState::HalfOpen);
    assert!(breaker.try_acquire(now()).is_err());

    // The trial alone decides.
    breaker.on_success(trial);
    assert_eq!(breaker.state(now()), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn the_pool_stops_creating_while_its_breaker_is_open() {
    // A cap below the guest's initial memory: every instantiation fails.
    let runtime = Runtime::from_bytes(
        &guest::extractor().component,
        RuntimeConfig {
            memory_cap: 64 * 1024,
            ..runtime_config()
        },
    )
    .expect("loads");
    let pool = Pool::new(
        runtime,
        PoolConfig {
            breaker: BreakerConfig {
                failure_threshold: 2,
                cool_down: Duration::from_secs(30),
            },
            ..small(2)
        },
    )
    .expect("pool");
    for _ in 0..2 {
        let failed = pool.checkout().await;
        assert!(
            matches!(failed, Err(PoolError::Create { .. })),
            "{:?}",
            failed.err()
        );
    }
    assert_eq!(pool.breaker_state(), BreakerState::Open);
    let refused = pool.checkout().await;
    assert!(matches!(refused, Err(PoolError::BreakerOpen { .. })));
    let metrics = pool.metrics();
    assert_eq!(
        (metrics.creation_failures, metrics.breaker_rejections),
        (2, 1)
    );

    tokio::time::advance(Duration::from_secs(30)).await;
    assert_eq!(pool.breaker_state(), BreakerState::HalfOpen);
    let trial = pool.checkout().await;
    assert!(matches!(trial, Err(PoolError::Create { .. })));
    assert_eq!(pool.breaker_state(), BreakerState::Open);
    let metrics = pool.metrics();
    assert_eq!(
        (metrics.creation_failures, metrics.in_use, metrics.created),
        (3, 0, 0)
    );
}

/// Lets tasks woken by `tokio::time::advance` (the reaper) run.
async fn let_tasks_run() {
    for _ in 0..16 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn instances_idle_past_the_idle_timeout_are_evicted() {
    let pool = pool(PoolConfig {
        idle_timeout: Some(Duration::from_secs(10)),
        ..small(3)
    });
    let first = pool.checkout().await.expect("checkout");
    let second = pool.checkout().await.expect("checkout");
    let third = pool.checkout().await.expect("checkout");
    first.release().await.expect("release");
    tokio::time::advance(Duration::from_secs(4)).await;
    second.release().await.expect("release");
    third.release().await.expect("release");

    // Nobody checks out: the reaper alone evicts, oldest first. (Tokio
    // timers fire on the millisecond after their deadline.)
    tokio::time::advance(Duration::from_millis(6_010)).await;
    let_tasks_run().await;
    let metrics = pool.metrics();
    assert_eq!(
        (metrics.idle, metrics.retired.idle_timeout),
        (2, 1),
        "{metrics}"
    );
    tokio::time::advance(Duration::from_secs(4)).await;
    let_tasks_run().await;
    let metrics = pool.metrics();
    assert_eq!(
        (metrics.idle, metrics.retired.idle_timeout, metrics.created),
        (0, 3, 3),
        "{metrics}"
    );
    assert!(metrics.to_string().contains("idle timeout 3"), "{metrics}");
    // The next checkout creates afresh.
    let next = pool.checkout().await.expect("checkout");
    assert_eq!(next.tier(), Tier::Created);
    next.release().await.expect("release");
}

#[tokio::test(start_paused = true)]
async fn without_an_idle_timeout_idle_instances_stay() {
    let pool = pool(PoolConfig {
        idle_timeout: None,
        ..small(1)
    });
    pool.checkout()
        .await
        .expect("checkout")
        .release()
        .await
        .expect("release");
    tokio::time::advance(Duration::from_secs(3600)).await;
    let_tasks_run().await;
    let again = pool.checkout().await.expect("checkout");
    assert_eq!(again.tier(), Tier::Cold);
    again.release().await.expect("release");
}

#[tokio::test]
async fn pooling_slots_are_checked_at_load_and_running_out_is_not_a_guest_failure() {
    let runtime = Runtime::from_bytes(
        &guest::extractor().component,
        RuntimeConfig {
            allocator: Allocator::Pooling { slots: 2 },
            ..runtime_config()
        },
    )
    .expect("loads");
    assert_eq!(runtime.slots(), Some(2));
    // Too small for one pool: refused before anything is created.
    match Pool::new(runtime.clone(), small(3)) {
        Err(error @ PoolError::Capacity { .. }) => {
            let text = error.to_string();
            assert!(
                text.contains("2 instance slots") && text.contains("asks for 3"),
                "{text}"
            );
        }
        Err(other) => panic!("expected a capacity error, got {other}"),
        Ok(_) => panic!("a pool of 3 on 2 slots was accepted"),
    }
    // Pools on one runtime share its slots; a dropped pool gives them back.
    let one = Pool::new(runtime.clone(), small(1)).expect("1 of 2 slots");
    assert!(matches!(
        Pool::new(runtime.clone(), small(2)),
        Err(PoolError::Capacity { reserved: 1, .. })
    ));
    drop(one);
    let pool = Pool::new(
        runtime.clone(),
        PoolConfig {
            breaker: BreakerConfig {
                failure_threshold: 1,
                cool_down: Duration::from_secs(60),
            },
            ..small(2)
        },
    )
    .expect("2 of 2 slots");

    // Instances made beside the pool take its slots: creation then fails
    // for capacity, which must not open the breaker.
    let outside = [
        runtime.instantiate().await.expect("instantiate"),
        runtime.instantiate().await.expect("instantiate"),
    ];
    for _ in 0..3 {
        let refused = pool.checkout().await;
        assert!(
            matches!(&refused, Err(PoolError::CapacityExhausted { detail }) if detail.contains("component instances")),
            "{:?}",
            refused.err()
        );
    }
    let metrics = pool.metrics();
    assert_eq!(metrics.breaker, BreakerState::Closed, "{metrics}");
    assert_eq!(
        (
            metrics.capacity_failures,
            metrics.creation_failures,
            metrics.free_slots
        ),
        (3, 0, 2)
    );
    drop(outside);
    let mut instance = pool.checkout().await.expect("slots are free again");
    assert!(matches!(
        instance.extract(PAGE, "u", ExtractionMode::Full).await,
        Ok(Ok(_))
    ));
    instance.release().await.expect("release");
}

#[tokio::test]
async fn explicit_release_returns_the_instance_once() {
    let pool = pool(small(1));
    let mut instance = pool.checkout().await.expect("checkout");
    let first = instance
        .extract(PAGE, "temper-test:calls", ExtractionMode::Metadata)
        .await;
    assert_eq!(first.expect("call").expect("answer").word_count, 1);
    assert_eq!(
        instance.release().await.expect("release"),
        Released::Returned
    );
    let metrics = pool.metrics();
    assert_eq!(
        (metrics.in_use, metrics.idle, metrics.retired.total()),
        (0, 1, 0)
    );

    // Same instance, state kept: the default reuse policy.
    let mut again = pool.checkout().await.expect("checkout");
    assert_eq!(again.tier(), Tier::Hot);
    let second = again
        .extract(PAGE, "temper-test:calls", ExtractionMode::Metadata)
        .await;
    assert_eq!(second.expect("call").expect("answer").word_count, 2);
    again.release().await.expect("release");
    assert_eq!(pool.metrics().created, 1);
}

#[tokio::test]
async fn dropping_inside_a_runtime_returns_the_instance_once() {
    let pool = pool(small(1));
    let mut instance = pool.checkout().await.expect("checkout");
    assert!(matches!(
        instance.extract(PAGE, "u", ExtractionMode::Full).await,
        Ok(Ok(_))
    ));
    drop(instance);
    // No yield between the drop and the checks: a return scheduled as a
    // task would still hold the slot here.
    let metrics = pool.metrics();
    assert_eq!(
        (
            metrics.in_use,
            metrics.idle,
            metrics.free_slots,
            metrics.retired.total(),
            metrics.created
        ),
        (0, 1, 1, 0, 1),
        "{metrics}"
    );
    let again = pool.checkout().await.expect("checkout");
    assert_eq!((again.tier(), again.uses()), (Tier::Hot, 1));
    again.release().await.expect("release");
}

#[test]
fn dropping_outside_any_runtime_returns_the_instance_and_its_slot_once() {
    let executor = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let pool = pool(small(1));
    let instance = executor.block_on(pool.checkout()).expect("checkout");
    // Not inside block_on: no runtime is current here.
    assert!(tokio::runtime::Handle::try_current().is_err());
    drop(instance);
    let metrics = pool.metrics();
    assert_eq!(
        (metrics.in_use, metrics.idle, metrics.free_slots),
        (0, 1, 1)
    );
    assert_eq!(metrics.retired.total(), 0);
    // The same instance serves the next checkout.
    let next = executor.block_on(pool.checkout()).expect("checkout");
    assert_eq!(next.tier(), Tier::Hot);
    executor.block_on(next.release()).expect("release");
}

#[tokio::test]
async fn instances_are_retired_at_their_use_limit() {
    let pool = pool(PoolConfig {
        max_uses: Some(2),
        ..small(1)
    });
    let mut instance = pool.checkout().await.expect("checkout");
    assert!(matches!(
        instance.extract(PAGE, "u", ExtractionMode::Full).await,
        Ok(Ok(_))
    ));
    assert_eq!(
        instance.release().await.expect("release"),
        Released::Returned
    );
    let mut instance = pool.checkout().await.expect("checkout");
    assert!(matches!(
        instance.extract(PAGE, "u", ExtractionMode::Full).await,
        Ok(Ok(_))
    ));
    assert_eq!(
        instance.release().await.expect("release"),
        Released::Retired(RetireReason::MaxUses)
    );
}

#[tokio::test]
async fn fresh_per_checkout_shares_no_state() {
    let pool = pool(PoolConfig {
        reuse: Reuse::FreshPerCheckout,
        ..small(1)
    });
    for _ in 0..2 {
        let mut instance = pool.checkout().await.expect("checkout");
        assert_eq!(instance.tier(), Tier::Created);
        let answer = instance
            .extract(PAGE, "temper-test:calls", ExtractionMode::Metadata)
            .await;
        assert_eq!(answer.expect("call").expect("answer").word_count, 1);
        assert_eq!(
            instance.release().await.expect("release"),
            Released::Retired(RetireReason::SingleUse)
        );
    }
    let metrics = pool.metrics();
    assert_eq!(
        (metrics.created, metrics.retired.single_use, metrics.idle),
        (2, 2, 0)
    );
}

#[tokio::test]
async fn the_pooling_allocator_serves_and_reuses() {
    let runtime = Runtime::from_bytes(
        &guest::extractor().component,
        RuntimeConfig {
            allocator: Allocator::Pooling { slots: 2 },
            ..runtime_config()
        },
    )
    .expect("loads with the pooling allocator");
    let pool = Pool::new(runtime, small(2)).expect("two slots hold a pool of two");
    for round in 1..=3 {
        let mut instance = pool.checkout().await.expect("checkout");
        let answer = instance
            .extract(PAGE, "temper-test:calls", ExtractionMode::Metadata)
            .await;
        assert_eq!(answer.expect("call").expect("answer").word_count, round);
        instance.release().await.expect("release");
    }
    // A trap frees its slot: two slots, three creations.
    for _ in 0..2 {
        let mut instance = pool.checkout().await.expect("checkout");
        let trapped = instance
            .extract(PAGE, "temper-test:trap", ExtractionMode::Full)
            .await;
        assert!(trapped.is_err());
        instance.release().await.expect("release");
    }
    let mut instance = pool.checkout().await.expect("checkout");
    assert!(matches!(
        instance.extract(PAGE, "u", ExtractionMode::Full).await,
        Ok(Ok(_))
    ));
    instance.release().await.expect("release");
    assert_eq!(pool.metrics().created, 3);
}

#[tokio::test]
async fn closing_the_pool_refuses_checkouts_and_retires_returns() {
    let pool = pool(small(2));
    let idle = pool.checkout().await.expect("checkout");
    let held = pool.checkout().await.expect("checkout");
    idle.release().await.expect("release");
    pool.close();
    assert!(matches!(pool.checkout().await, Err(PoolError::Closed)));
    assert!(matches!(held.release().await, Err(PoolError::Closed)));
    let metrics = pool.metrics();
    assert_eq!(
        (metrics.idle, metrics.in_use, metrics.retired.pool_closed),
        (0, 0, 2)
    );
}

/// A small deterministic generator: the test needs variety, not security.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Polls `future` at most `budget` times (any number without one) and
/// drops it, cancelling whatever it was doing, when it is still pending after
/// the last of them: a cancellation point chosen by count, not by a timer,
/// so where it lands does not depend on how loaded the machine is.
async fn with_poll_budget<F: Future>(future: F, budget: Option<u32>) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut polls = 0u32;
    std::future::poll_fn(|cx| match future.as_mut().poll(cx) {
        std::task::Poll::Ready(output) => std::task::Poll::Ready(Some(output)),
        std::task::Poll::Pending => {
            polls += 1;
            if budget.is_some_and(|budget| polls >= budget) {
                std::task::Poll::Ready(None)
            } else {
                std::task::Poll::Pending
            }
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_checkouts_with_random_cancellation_leave_nothing_behind() {
    // Four times the slots, so checkouts often wait and get cancelled there.
    const TASKS: u64 = 16;
    const PER_TASK: u64 = 625;
    let pool = pool(PoolConfig {
        max_uses: Some(50),
        ..small(4)
    });
    let completed = Arc::new(AtomicUsize::new(0));
    let cancelled = Arc::new(AtomicUsize::new(0));
    let loop_timed_out = Arc::new(AtomicUsize::new(0));
    let planned_to_complete = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        let pool = pool.clone();
        let counts = [
            completed.clone(),
            cancelled.clone(),
            loop_timed_out.clone(),
            planned_to_complete.clone(),
        ];
        tasks.spawn(async move {
            let [completed, cancelled, loop_timed_out, planned] = counts;
            let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ (task + 1));
            for _ in 0..PER_TASK {
                let roll = rng.next();
                let explicit_release = !(roll >> 8).is_multiple_of(3);
                // Every run needs at least three polls (two yields), so a
                // budget of one or two always cancels it: at the wait for a
                // slot, holding an instance, or (for the endless loop,
                // which yields at every epoch tick) in the middle of a call.
                let (url, budget) = match roll % 16 {
                    0..=9 => ("u", None),
                    10..=14 => ("u", Some(1 + u32::from((roll >> 4) & 1 == 1))),
                    _ => ("temper-test:loop", Some(2)),
                };
                if budget.is_none() {
                    planned.fetch_add(1, Ordering::Relaxed);
                }
                let pool = &pool;
                let work = async move {
                    let mut instance = pool.checkout().await?;
                    tokio::task::yield_now().await;
                    let answer = instance.extract(PAGE, url, ExtractionMode::Metadata).await;
                    tokio::task::yield_now().await;
                    if explicit_release {
                        instance.release().await?;
                    }
                    Ok::<_, PoolError>(answer)
                };
                match with_poll_budget(work, budget).await {
                    None => cancelled.fetch_add(1, Ordering::Relaxed),
                    Some(done) => match done.expect("checkout and release") {
                        Ok(Ok(_)) if budget.is_none() => completed.fetch_add(1, Ordering::Relaxed),
                        // Only if the machine stalled this task for the
                        // whole call timeout between two polls.
                        Err(CallError::Timeout { .. }) if url != "u" => {
                            loop_timed_out.fetch_add(1, Ordering::Relaxed)
                        }
                        other => panic!("budget {budget:?}, url {url}: {other:?}"),
                    },
                };
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("task");
    }
    let metrics = settle(&pool);
    let planned = planned_to_complete.load(Ordering::Relaxed);
    assert!(planned > 0 && planned < 10_000);
    assert_eq!(completed.load(Ordering::Relaxed), planned);
    assert_eq!(
        cancelled.load(Ordering::Relaxed) + loop_timed_out.load(Ordering::Relaxed),
        10_000 - planned
    );
    assert!(metrics.retired.cancelled > 0, "{metrics}");
    assert_eq!(metrics.in_use, 0, "{metrics}");
    assert_eq!(metrics.free_slots, 4, "{metrics}");
    assert_eq!(
        metrics.idle as u64 + metrics.retired.total(),
        metrics.created,
        "{metrics}"
    );
    assert!(metrics.idle <= 4);
    // Every slot is free again.
    let all: Vec<_> = hold_all(&pool, 4).await;
    for instance in all {
        instance.release().await.expect("release");
    }
}

/// Checks out `n` instances at once; succeeds only if `n` slots are free.
async fn hold_all(pool: &Pool, n: usize) -> Vec<temper::pool::PooledInstance> {
    let mut held = Vec::with_capacity(n);
    for _ in 0..n {
        held.push(
            tokio::time::timeout(Duration::from_secs(10), pool.checkout())
                .await
                .expect("a free slot")
                .expect("checkout"),
        );
    }
    held
}

// The subcommands, on the real binary.

fn temper_bin() -> assert_cmd::Command {
    let mut cmd =
        assert_cmd::Command::cargo_bin("temper").expect("the temper binary is built for tests");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1");
    cmd
}

#[test]
fn cli_wit_validate_accepts_the_guest_and_rejects_a_core_module() {
    let guest = guest::extractor();
    let output = temper_bin()
        .args(["wit", "validate"])
        .arg(&guest.component_path)
        .args(["--wit", "wit"])
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, &guest.core_module).expect("write");
    let output = temper_bin()
        .args(["wit", "validate"])
        .arg(&core)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("core.wasm") && stderr.contains("core"),
        "{stderr}"
    );
}

#[test]
fn cli_pool_bench_runs_a_load_and_prints_metrics() {
    let guest = guest::extractor();
    let output = temper_bin()
        .args(["pool", "bench"])
        .arg(&guest.component_path)
        .args([
            "--duration",
            "300ms",
            "--concurrency",
            "2",
            "--max-instances",
            "2",
        ])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("checkouts:") && stdout.contains("instances: created"),
        "{stdout}"
    );

    // A core module is refused at load time with the reason, not a panic.
    let dir = tempfile::tempdir().expect("tempdir");
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, &guest.core_module).expect("write");
    let output = temper_bin()
        .args(["pool", "bench"])
        .arg(&core)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a WebAssembly component"));
}

#[test]
fn a_component_that_drifted_from_the_world_is_refused_before_compiling() {
    // A component built for a variant of the world whose `extract` takes
    // bytes instead of a string: the WIT validator names the difference.
    let world = temper::wit::load_world(
        std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/wit/cases/param-type/component.wit"
        )),
        None,
    )
    .expect("variant world parses");
    let drifted = temper::wit::dummy_component(&world).expect("dummy component");
    match Runtime::from_bytes(&drifted, RuntimeConfig::default()) {
        Err(PoolError::WorldMismatch { detail, .. }) => {
            assert!(
                detail.contains("extract: html: expected string, found list<u8>"),
                "{detail}"
            );
        }
        Err(other) => panic!("expected a world mismatch, got {other}"),
        Ok(_) => panic!("a drifted component was accepted"),
    }
}
