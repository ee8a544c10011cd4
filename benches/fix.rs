//! `temper fix --diff` against `temper check` on the same real-code corpus as
//! the check benchmark (the crate sources in cargo's registry cache, or
//! `TEMPER_BENCH_CORPUS`): both in-process on the same crate directories, with
//! 1 and 2 threads, best of `TEMPER_BENCH_RUNS` runs. The ratio fix / check is
//! the figure to watch (target: at most 2x). The results are printed as
//! Markdown and written to `target/bench-fix.md`. Benchmarks measure: nothing
//! here asserts on time.
//!
//! Run: `cargo bench --bench fix`. Environment (as for `--bench check`):
//!
//! - `TEMPER_BENCH_CORPUS=DIR`: a crate, a directory of crates, or a directory
//!   of such directories (the registry's layout); default: the registry cache.
//! - `TEMPER_BENCH_MAX_FILES=N`: take whole crates, in name order, until about
//!   N `.rs` files (quick runs).
//! - `TEMPER_BENCH_RUNS=N`: runs per measurement, best kept (default 3).
//!
//! The corpus selection mirrors `benches/check.rs` (same variables, same crate
//! order), so the two reports describe the same files.

#[path = "corpus.rs"]
mod corpus;

use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use temper::check::{self, CheckRequest};
use temper::fix::{self, FixOutcome, FixRequest, Mode};

type BenchResult<T> = Result<T, Box<dyn Error>>;

const THREADS: [usize; 2] = [1, 2];

fn main() -> BenchResult<()> {
    let corpus = match std::env::var_os("TEMPER_BENCH_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => corpus::cargo_home()?.join("registry").join("src"),
    };
    let max_files = corpus::env_number("TEMPER_BENCH_MAX_FILES")?;
    let runs = corpus::env_number("TEMPER_BENCH_RUNS")?.unwrap_or(3).max(1);
    let crates = select_crates(&corpus, max_files)?;
    if crates.is_empty() {
        return Err(format!(
            "no crates found under {}; run `cargo fetch` first or set TEMPER_BENCH_CORPUS",
            corpus.display()
        )
        .into());
    }
    eprintln!(
        "corpus: {} crates under {} (best of {runs} runs per figure)",
        crates.len(),
        corpus.display()
    );

    // Untimed: warms the page cache and gives the figures for the report.
    let warm = in_pool(2, || fix_diff(&crates))?;
    let files = warm.files_checked;
    let changed = warm.changes.len();
    let fixed = warm.fixed.len();
    let left = warm.left.len();
    let rounds = warm.rounds;
    let bytes: usize = warm.changes.iter().map(|c| c.original.len()).sum();
    drop(warm);

    let mut rows = Vec::new();
    for threads in THREADS {
        let mut best_check = Duration::MAX;
        let mut best_fix = Duration::MAX;
        for run in 1..=runs {
            eprintln!("run {run}/{runs}: {threads} thread(s)");
            let start = Instant::now();
            let outcome = in_pool(threads, || check::run(&check_request(&crates)))?;
            best_check = best_check.min(start.elapsed());
            drop(outcome);
            let start = Instant::now();
            let outcome = in_pool(threads, || fix_diff(&crates))?;
            best_fix = best_fix.min(start.elapsed());
            drop(outcome);
        }
        rows.push((threads, best_check, best_fix));
    }

    let mut markdown = String::new();
    writeln!(markdown, "# temper fix --diff vs temper check\n")?;
    writeln!(
        markdown,
        "Corpus: {} crates under `{}`, {files} files checked. `fix --diff` \
         (all safe fixes, to a fixpoint, nothing written): {fixed} fixes in \
         {changed} files ({:.1} MB of them), {left} findings left, {rounds} \
         round(s).\n",
        crates.len(),
        corpus.display(),
        bytes as f64 / 1_000_000.0
    )?;
    writeln!(
        markdown,
        "| threads | check (s) | fix --diff (s) | fix / check |"
    )?;
    writeln!(markdown, "|---:|---:|---:|---:|")?;
    for (threads, check, fix) in &rows {
        writeln!(
            markdown,
            "| {threads} | {:.3} | {:.3} | {:.2}x |",
            check.as_secs_f64(),
            fix.as_secs_f64(),
            fix.as_secs_f64() / check.as_secs_f64().max(f64::EPSILON)
        )?;
    }
    writeln!(markdown, "\nTarget: fix --diff within 2x of check.")?;
    let out_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&out_dir)?;
    let path = out_dir.join("bench-fix.md");
    std::fs::write(&path, &markdown)?;
    println!("{markdown}");
    println!("(written to {})", path.display());
    Ok(())
}

fn check_request(crates: &[PathBuf]) -> CheckRequest {
    CheckRequest {
        paths: crates.to_vec(),
        ..CheckRequest::default()
    }
}

fn fix_diff(crates: &[PathBuf]) -> FixOutcome {
    fix::run(&FixRequest {
        check: check_request(crates),
        mode: Mode::Diff,
        ..FixRequest::default()
    })
}

fn in_pool<T: Send>(threads: usize, work: impl FnOnce() -> T + Send) -> BenchResult<T> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    Ok(pool.install(work))
}

/// Whole crates in name order until about `max_files` `.rs` files.
fn select_crates(corpus: &Path, max_files: Option<usize>) -> BenchResult<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut total = 0;
    for dir in corpus::crate_dirs(corpus)? {
        if max_files.is_some_and(|max| total >= max) {
            break;
        }
        total += count_rs_files(&dir)?;
        out.push(dir);
    }
    Ok(out)
}

fn count_rs_files(dir: &Path) -> BenchResult<usize> {
    let mut count = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "rs") {
                count += 1;
            }
        }
    }
    Ok(count)
}
