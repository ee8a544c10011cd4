//! `temper pool bench`: serves a component from a pool under load for a
//! given time and prints what the pool's metrics saw.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{
    Allocator, ExtractionMode, Pool, PoolConfig, PoolError, Reuse, Runtime, RuntimeConfig,
};

/// Arguments of `temper pool bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct PoolBenchArgs {
    /// The component to serve; it must implement the temper:extractor world.
    pub component: PathBuf,

    /// How long to run the load, e.g. `10s`, `500ms` or `2m`.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub duration: Duration,

    /// Tasks calling the pool at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,

    /// Worker threads of the async runtime; by default the available cores,
    /// at most one per task.
    #[arg(long)]
    pub workers: Option<usize>,

    /// Most instances alive (and checked out) at once.
    #[arg(long, default_value_t = 8)]
    pub max_instances: usize,

    /// Use wasmtime's pooling instance allocator instead of on-demand.
    #[arg(long)]
    pub pooling_allocator: bool,

    /// Instantiate afresh for every checkout instead of reusing instances.
    #[arg(long)]
    pub fresh: bool,

    /// Per-call timeout, e.g. `1s`.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub call_timeout: Duration,

    /// Memory cap per instance, in MiB.
    #[arg(long, default_value_t = 64)]
    pub memory_cap_mib: usize,

    /// Fuel per call; off when not given.
    #[arg(long)]
    pub fuel: Option<u64>,

    /// Retire an instance after this many calls.
    #[arg(long)]
    pub max_uses: Option<u64>,

    /// An HTML file to extract from on every call; a built-in page otherwise.
    #[arg(long)]
    pub html: Option<PathBuf>,
}

/// A small page with a title, links and text: what a typical call sees.
const SAMPLE_PAGE: &str = "<html><head><title>Sample page</title></head><body>\
    <h1>Heading</h1><p>Some text with a <a href=\"https://example.com/a\">first link</a> \
    and a <a href='/b'>second one</a>.</p><script>ignored()</script></body></html>";

/// Runs the load described by `args` and prints the pool's metrics.
///
/// Returns failure when any call failed (trap, timeout, limit) or when no
/// call succeeded at all.
pub fn run_bench(args: &PoolBenchArgs) -> Result<ExitCode, PoolError> {
    if args.concurrency == 0 || args.max_instances == 0 || args.workers == Some(0) {
        return Err(PoolError::Argument(
            "--concurrency, --max-instances and --workers must be at least 1".to_string(),
        ));
    }
    let html = match &args.html {
        Some(path) => std::fs::read_to_string(path).map_err(|source| PoolError::Read {
            path: path.clone(),
            source,
        })?,
        None => SAMPLE_PAGE.to_string(),
    };
    let slots = u32::try_from(args.max_instances).unwrap_or(u32::MAX);
    let runtime_config = RuntimeConfig {
        allocator: if args.pooling_allocator {
            Allocator::Pooling { slots }
        } else {
            Allocator::OnDemand
        },
        call_timeout: args.call_timeout,
        memory_cap: args.memory_cap_mib.saturating_mul(1024 * 1024),
        fuel: args.fuel,
        ..RuntimeConfig::default()
    };
    let pool_config = PoolConfig {
        max_instances: args.max_instances,
        max_uses: args.max_uses,
        reuse: if args.fresh {
            Reuse::FreshPerCheckout
        } else {
            Reuse::Instance
        },
        ..PoolConfig::default()
    };
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(args.concurrency)
    });
    let executor = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_time()
        .build()
        .map_err(PoolError::AsyncRuntime)?;

    let pool = Pool::new(Runtime::load(&args.component, runtime_config)?, pool_config)?;
    let tally = Arc::new(Tally::default());
    let html: Arc<str> = html.into();
    let started = std::time::Instant::now();
    executor.block_on(async {
        let deadline = tokio::time::Instant::now() + args.duration;
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..args.concurrency {
            tasks.spawn(drive(
                pool.clone(),
                Arc::clone(&html),
                Arc::clone(&tally),
                deadline,
            ));
        }
        while let Some(joined) = tasks.join_next().await {
            if joined.is_err() {
                tally.call_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let elapsed = started.elapsed();

    let ok = tally.ok.load(Ordering::Relaxed);
    let guest_errors = tally.guest_errors.load(Ordering::Relaxed);
    let call_errors = tally.call_errors.load(Ordering::Relaxed);
    let checkout_errors = tally.checkout_errors.load(Ordering::Relaxed);
    let calls = ok + guest_errors + call_errors;
    let rate = calls as f64 / elapsed.as_secs_f64().max(f64::EPSILON);
    println!(
        "{calls} calls in {elapsed:.2?} ({rate:.0} calls/s) with {} tasks on {workers} worker thread{}, {} instances max, {} allocator, {}",
        args.concurrency,
        if workers == 1 { "" } else { "s" },
        args.max_instances,
        if args.pooling_allocator {
            "pooling"
        } else {
            "on-demand"
        },
        if args.fresh {
            "fresh instance per checkout"
        } else {
            "instances reused"
        },
    );
    println!(
        "results: ok {ok}, guest errors {guest_errors}, failed calls {call_errors}, failed checkouts {checkout_errors}"
    );
    println!("{}", pool.metrics());
    Ok(if ok > 0 && call_errors == 0 && checkout_errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    guest_errors: AtomicU64,
    call_errors: AtomicU64,
    checkout_errors: AtomicU64,
}

async fn drive(pool: Pool, html: Arc<str>, tally: Arc<Tally>, deadline: tokio::time::Instant) {
    while tokio::time::Instant::now() < deadline {
        let mut instance = match pool.checkout().await {
            Ok(instance) => instance,
            Err(error) => {
                tally.checkout_errors.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%error, "checkout failed");
                continue;
            }
        };
        let counter = match instance
            .extract(&html, "https://example.com/", ExtractionMode::Full)
            .await
        {
            Ok(Ok(_)) => &tally.ok,
            Ok(Err(_)) => &tally.guest_errors,
            Err(error) => {
                tracing::warn!(%error, "call failed");
                &tally.call_errors
            }
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if let Err(error) = instance.release().await {
            tally.checkout_errors.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%error, "release failed");
        }
    }
}

/// Parses `250ms`, `10s`, `2m` or a bare number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(split) => text.split_at(split),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 500ms, 10s or 2m"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        other => return Err(format!("unknown duration unit `{other}`: use ms, s or m")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("`{text}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("5h").is_err());
    }
}
