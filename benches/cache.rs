//! How much the analysis cache saves: `temper check` of a real-code corpus
//! (the crate sources in cargo's registry cache) with no cache, then with an
//! empty cache (the first run, which also writes it), then again with the
//! warm cache (an unchanged workspace re-checked). Target: the warm run at
//! least 10x faster than the run without a cache.
//!
//! Both the in-process `temper::check::run_with` and the `temper` binary
//! (start-up, reading the cache file and output included) are measured.
//!
//! Run: `cargo bench --bench cache`. Environment: `TEMPER_BENCH_CORPUS=DIR`
//! (default: `$CARGO_HOME/registry/src`), `TEMPER_BENCH_MAX_FILES=N` (take
//! whole crates in name order until about N `.rs` files), `TEMPER_BENCH_RUNS=N`
//! (best of N, default 3). Benchmarks measure; nothing here asserts on time.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use temper::check::{self, CheckRequest, RunSettings};

type BenchResult<T> = Result<T, Box<dyn Error>>;

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

/// Crate directories (with a Cargo.toml) at or below `dir`, two levels deep at most.
fn crates(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if dir.join("Cargo.toml").is_file() {
        out.push(dir.to_path_buf());
        return;
    }
    if depth == 0 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for child in dirs {
        crates(&child, depth - 1, out);
    }
}

fn count_rs(dir: &Path) -> usize {
    ignore::WalkBuilder::new(dir)
        .build()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
        .count()
}

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        let value = f();
        best = best.min(start.elapsed());
        last = Some(value);
    }
    (best, last.expect("at least one run"))
}

fn main() -> BenchResult<()> {
    let corpus = std::env::var_os("TEMPER_BENCH_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| cargo_home().join("registry/src"));
    let max_files: usize = std::env::var("TEMPER_BENCH_MAX_FILES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX);
    let runs: usize = std::env::var("TEMPER_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let mut all = Vec::new();
    crates(&corpus, 2, &mut all);
    let mut paths = Vec::new();
    let mut files = 0;
    for dir in all {
        if files >= max_files {
            break;
        }
        files += count_rs(&dir);
        paths.push(dir);
    }
    if paths.is_empty() {
        return Err(format!("no crates under {}", corpus.display()).into());
    }
    eprintln!("corpus: {} crates, about {files} .rs files", paths.len());

    let cache = tempfile::tempdir()?;
    let request = CheckRequest {
        paths: paths.clone(),
        ..CheckRequest::default()
    };
    let none = RunSettings::default();
    let cached = RunSettings {
        cache_dir: Some(cache.path().to_path_buf()),
        ..RunSettings::default()
    };
    let (no_cache, outcome) = best(runs, || check::run_with(&request, &none));
    let start = Instant::now();
    let cold_outcome = check::run_with(&request, &cached);
    let cold = start.elapsed();
    let (warm, warm_outcome) = best(runs, || check::run_with(&request, &cached));
    assert_eq!(outcome.findings.len(), warm_outcome.findings.len());
    assert_eq!(cold_outcome.findings.len(), warm_outcome.findings.len());

    // The binary, as CI and editors run it.
    let binary = std::env::var_os("TEMPER_BENCH_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_temper")));
    let bin_dir = tempfile::tempdir()?;
    let run_binary = |extra: &[&str]| -> BenchResult<()> {
        let status = Command::new(&binary)
            .current_dir(bin_dir.path())
            .arg("check")
            .args(extra)
            .args(&paths)
            .args(["--format", "json"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if status.code().is_some_and(|c| c <= 1) {
            Ok(())
        } else {
            Err(format!("{} exited with {status}", binary.display()).into())
        }
    };
    let binary_times = if binary.is_file() {
        let (bin_none, r) = best(runs, || run_binary(&["--no-cache"]));
        r?;
        let start = Instant::now();
        run_binary(&[])?;
        let bin_cold = start.elapsed();
        let (bin_warm, r) = best(runs, || run_binary(&[]));
        r?;
        Some((bin_none, bin_cold, bin_warm))
    } else {
        eprintln!("no binary at {}; set TEMPER_BENCH_BINARY", binary.display());
        None
    };

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("| pass | no cache | first run (empty cache) | second run (warm) | speed-up |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    println!(
        "| in-process `check::run_with`, {} files, {} findings | {:.0} ms | {:.0} ms | {:.0} ms | {:.1}x |",
        warm_outcome.files_checked,
        warm_outcome.findings.len(),
        ms(no_cache),
        ms(cold),
        ms(warm),
        no_cache.as_secs_f64() / warm.as_secs_f64()
    );
    if let Some((none, cold, warm)) = binary_times {
        println!(
            "| `temper check --format json` binary | {:.0} ms | {:.0} ms | {:.0} ms | {:.1}x |",
            ms(none),
            ms(cold),
            ms(warm),
            none.as_secs_f64() / warm.as_secs_f64()
        );
    }
    Ok(())
}
