//! What pooling buys: every way of serving one call, on the same guest, in
//! one run.
//!
//! - (a) compile + instantiate + call per request (engine set-up included),
//! - (b) a fresh instance from the pre-linked component per request, with
//!   the on-demand and with the pooling allocator,
//! - (c) pooled: hot checkout + call + release, with instances reused (the
//!   default) and with a fresh instance per checkout,
//! - (d) checkout + release alone: the pool's own overhead.
//!
//! Criterion measures means; a second pass times single requests and prints
//! a p50 / p99 table with the ratios of (c) to (a) and (b).

#[path = "../tests/support/guest.rs"]
mod guest;

use std::hint::black_box;
use std::pin::Pin;
use std::time::{Duration, Instant};

use criterion::Criterion;
use temper::pool::{Allocator, ExtractionMode, Pool, PoolConfig, Reuse, Runtime, RuntimeConfig};
use tokio::runtime::Runtime as Executor;

const PAGE: &str = "<html><head><title>Sample page</title></head><body>\
    <h1>Heading</h1><p>Some text with a <a href=\"https://example.com/a\">first link</a> \
    and a <a href='/b'>second one</a>.</p><script>ignored()</script></body></html>";

fn runtime_config(allocator: Allocator) -> RuntimeConfig {
    RuntimeConfig {
        allocator,
        call_timeout: Duration::from_secs(10),
        ..RuntimeConfig::default()
    }
}

fn pool_config(reuse: Reuse) -> PoolConfig {
    PoolConfig {
        max_instances: 4,
        max_uses: None,
        reuse,
        ..PoolConfig::default()
    }
}

/// Everything a variant needs, built once.
struct Setup {
    executor: Executor,
    component: &'static [u8],
    on_demand: Runtime,
    pooling: Runtime,
    reused: Pool,
    fresh: Pool,
}

impl Setup {
    fn new() -> Self {
        let component = guest::extractor().component.as_slice();
        let on_demand =
            Runtime::from_bytes(component, runtime_config(Allocator::OnDemand)).expect("load");
        let pooling =
            Runtime::from_bytes(component, runtime_config(Allocator::Pooling { slots: 16 }))
                .expect("load");
        let reused = Pool::new(pooling.clone(), pool_config(Reuse::Instance)).expect("pool");
        let fresh = Pool::new(pooling.clone(), pool_config(Reuse::FreshPerCheckout)).expect("pool");
        let executor = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("executor");
        Self {
            executor,
            component,
            on_demand,
            pooling,
            reused,
            fresh,
        }
    }
}

async fn compile_instantiate_call(component: &[u8]) {
    let runtime =
        Runtime::from_bytes(component, runtime_config(Allocator::OnDemand)).expect("load");
    let mut instance = runtime.instantiate().await.expect("instantiate");
    let page = instance.extract(PAGE, "u", ExtractionMode::Full).await;
    black_box(page.expect("call").expect("page"));
}

async fn instantiate_call(runtime: &Runtime) {
    let mut instance = runtime.instantiate().await.expect("instantiate");
    let page = instance.extract(PAGE, "u", ExtractionMode::Full).await;
    black_box(page.expect("call").expect("page"));
}

async fn checkout_call_release(pool: &Pool) {
    let mut instance = pool.checkout().await.expect("checkout");
    let page = instance.extract(PAGE, "u", ExtractionMode::Full).await;
    black_box(page.expect("call").expect("page"));
    instance.release().await.expect("release");
}

async fn checkout_release(pool: &Pool) {
    let instance = pool.checkout().await.expect("checkout");
    black_box(instance.release().await.expect("release"));
}

/// One request of a variant, as a boxed future over the shared set-up.
type Run = fn(&'static Setup) -> Pin<Box<dyn Future<Output = ()>>>;
type Variant = (&'static str, Run);

fn a(s: &'static Setup) -> Pin<Box<dyn Future<Output = ()>>> {
    Box::pin(compile_instantiate_call(s.component))
}

fn b_on_demand(s: &'static Setup) -> Pin<Box<dyn Future<Output = ()>>> {
    Box::pin(instantiate_call(&s.on_demand))
}

fn b_pooling(s: &'static Setup) -> Pin<Box<dyn Future<Output = ()>>> {
    Box::pin(instantiate_call(&s.pooling))
}

fn c_reused(s: &'static Setup) -> Pin<Box<dyn Future<Output = ()>>> {
    Box::pin(checkout_call_release(&s.reused))
}

fn c_fresh(s: &'static Setup) -> Pin<Box<dyn Future<Output = ()>>> {
    Box::pin(checkout_call_release(&s.fresh))
}

fn d(s: &'static Setup) -> Pin<Box<dyn Future<Output = ()>>> {
    Box::pin(checkout_release(&s.reused))
}

fn variants() -> Vec<Variant> {
    vec![
        ("a: compile + instantiate + call", a as Run),
        ("b: fresh instance + call, on-demand", b_on_demand as Run),
        ("b: fresh instance + call, pooling", b_pooling as Run),
        ("c: pooled checkout + call + release", c_reused as Run),
        ("c': pooled, fresh per checkout", c_fresh as Run),
        ("d: checkout + release", d as Run),
    ]
}

fn criterion_pass(setup: &'static Setup, criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("pool");
    for (name, run) in variants() {
        if name.starts_with("a:") {
            // Compiling takes milliseconds: fewer, longer samples.
            group
                .sample_size(10)
                .measurement_time(Duration::from_secs(10));
        } else {
            group
                .sample_size(50)
                .measurement_time(Duration::from_secs(3));
        }
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                setup.executor.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        run(setup).await;
                    }
                    start.elapsed()
                })
            });
        });
    }
    group.finish();
}

/// Times requests one by one and returns (p50, p99).
fn percentiles(setup: &'static Setup, run: Run, samples: usize) -> (Duration, Duration) {
    let mut times: Vec<Duration> = setup.executor.block_on(async {
        // Warm up: fill the pools, fault in code and memory.
        for _ in 0..samples.min(200) {
            run(setup).await;
        }
        let mut times = Vec::with_capacity(samples);
        for _ in 0..samples {
            let start = Instant::now();
            run(setup).await;
            times.push(start.elapsed());
        }
        times
    });
    times.sort_unstable();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    (at(0.50), at(0.99))
}

fn main() {
    let setup: &'static Setup = Box::leak(Box::new(Setup::new()));
    let mut criterion = Criterion::default().configure_from_args();
    criterion_pass(setup, &mut criterion);
    criterion.final_summary();

    println!();
    println!("| variant | p50 | p99 |");
    println!("| --- | ---: | ---: |");
    let mut p50 = Vec::new();
    for (name, run) in variants() {
        let samples = if name.starts_with("a:") { 30 } else { 20_000 };
        let (median, tail) = percentiles(setup, run, samples);
        println!("| {name} | {median:.2?} | {tail:.2?} |");
        p50.push((name, median));
    }
    let of = |prefix: &str| {
        p50.iter()
            .find(|(name, _)| name.starts_with(prefix))
            .map(|(_, d)| d.as_secs_f64())
            .unwrap_or(f64::NAN)
    };
    let pooled = of("c: pooled");
    println!();
    println!("(a) / (c) at p50: {:.0}x", of("a:") / pooled);
    println!(
        "(b, on-demand) / (c) at p50: {:.1}x",
        of("b: fresh instance + call, on") / pooled
    );
    println!(
        "(b, pooling) / (c) at p50: {:.1}x",
        of("b: fresh instance + call, pooling") / pooled
    );
}
