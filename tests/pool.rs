//! The reference instance pool (`temper::pool`) against the real extractor
//! guest from `fixtures/guests/`: bounds, tiers, failure handling, limits,
//! the breaker, release and its `Drop` fallback, and cancellation.

#[path = "support/guest.rs"]
mod guest;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use temper::pool::{
    Allocator, Breaker, BreakerConfig, BreakerState, CallError, ExtractionError, ExtractionMode,
    Pool, PoolConfig, PoolError, Released, RetireReason, Reuse, Runtime, RuntimeConfig, Tier,
    TierThresholds,
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
    Pool::new(shared_runtime(), config)
}

fn small(max_instances: usize) -> PoolConfig {
    PoolConfig {
        max_instances,
        checkout_timeout: Duration::from_secs(10),
        ..PoolConfig::default()
    }
}

/// Waits until `Drop`-scheduled returns have run.
async fn settle(pool: &Pool) {
    for _ in 0..1_000 {
        if pool.metrics().in_use == 0 {
            return;
        }
        tokio::task::yield_now().await;
    }
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
        matches!(result, Err(CallError::Timeout { timeout }) if timeout == CALL_TIMEOUT),
        "{result:?}"
    );
    assert!(during > 0, "the executor was blocked during the call");
    assert_eq!(
        instance.release().await.expect("release"),
        Released::Retired(RetireReason::Timeout)
    );
    assert_eq!(pool.metrics().retired.timeout, 1);
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
    let pool = Pool::new(runtime, small(1));
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
        assert!(breaker.try_acquire(now()).is_ok());
        breaker.on_failure(now());
    }
    assert_eq!(breaker.state(now()), BreakerState::Closed);
    assert!(breaker.try_acquire(now()).is_ok());
    breaker.on_failure(now());
    assert_eq!(breaker.state(now()), BreakerState::Open);
    assert_eq!(breaker.try_acquire(now()), Err(Duration::from_secs(5)));

    tokio::time::advance(Duration::from_secs(5)).await;
    assert_eq!(breaker.state(now()), BreakerState::HalfOpen);
    assert!(breaker.try_acquire(now()).is_ok(), "one trial goes through");
    assert!(breaker.try_acquire(now()).is_err(), "only one at a time");
    breaker.on_failure(now());
    assert_eq!(
        breaker.state(now()),
        BreakerState::Open,
        "a failed trial reopens"
    );

    tokio::time::advance(Duration::from_secs(5)).await;
    assert!(breaker.try_acquire(now()).is_ok());
    breaker.on_abandon();
    assert!(
        breaker.try_acquire(now()).is_ok(),
        "an abandoned trial frees the slot"
    );
    breaker.on_success();
    assert_eq!(breaker.state(now()), BreakerState::Closed);
    assert_eq!(breaker.consecutive_failures(), 0);
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
    );
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
    settle(&pool).await;
    let metrics = pool.metrics();
    assert_eq!(
        (
            metrics.in_use,
            metrics.idle,
            metrics.retired.total(),
            metrics.created
        ),
        (0, 1, 0, 1)
    );
    let again = pool.checkout().await.expect("checkout");
    assert_eq!((again.tier(), again.uses()), (Tier::Hot, 1));
    again.release().await.expect("release");
}

#[test]
fn dropping_outside_any_runtime_frees_the_instance_and_its_slot_once() {
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
    assert_eq!(metrics.in_use, 0);
    assert_eq!(metrics.retired.dropped_outside_runtime, 1);
    assert_eq!(
        metrics.idle + metrics.retired.total() as usize,
        metrics.created as usize
    );
    // The slot came back: with a bound of one, this would otherwise wait.
    let next = executor.block_on(pool.checkout()).expect("checkout");
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
    let pool = Pool::new(runtime, small(2));
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
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        let (pool, completed, cancelled) = (pool.clone(), completed.clone(), cancelled.clone());
        tasks.spawn(async move {
            let mut rng = XorShift(0x9E37_79B9_7F4A_7C15 ^ (task + 1));
            for _ in 0..PER_TASK {
                let roll = rng.next();
                let limit = Duration::from_micros(1 + roll % 1_000);
                let explicit_release = !roll.is_multiple_of(3);
                let work = async {
                    let mut instance = pool.checkout().await?;
                    let answer = instance.extract(PAGE, "u", ExtractionMode::Metadata).await;
                    assert!(matches!(answer, Ok(Ok(_))), "{answer:?}");
                    if explicit_release {
                        instance.release().await?;
                    }
                    Ok::<_, PoolError>(())
                };
                tokio::select! {
                    done = work => {
                        done.expect("checkout and release");
                        completed.fetch_add(1, Ordering::Relaxed);
                    }
                    () = tokio::time::sleep(limit) => {
                        cancelled.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.expect("task");
    }
    settle(&pool).await;
    let metrics = pool.metrics();
    assert!(completed.load(Ordering::Relaxed) > 0);
    assert!(cancelled.load(Ordering::Relaxed) > 0);
    assert_eq!(
        completed.load(Ordering::Relaxed) + cancelled.load(Ordering::Relaxed),
        10_000
    );
    assert_eq!(metrics.in_use, 0, "{metrics}");
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
