//! Issue #11's table in one run: `temper check` against the parse-everything
//! floor and against `ast-grep scan` with the same three patterns, on the
//! nine-project corpus that `bash benches/corpus.sh DIR` builds.
//!
//! Per thread count (1 and 2), alternating the three in every round:
//!
//! - floor: read every `.rs` file, parse it with `ra_ap_syntax`, walk its
//!   tree once (this bench re-run as a child with `--floor`);
//! - `temper check --no-cache -j N`;
//! - `ast-grep scan -j N` with `benches/ast-grep/`'s three rules.
//!
//! Each figure is the median of `TEMPER_BENCH_RUNS` runs (default 3), with
//! the peak RSS of the child. Then `temper check -j 2` on the corpus copied
//! ten times over (hard links, in `DIR.x10`): time about 10x, peak RSS about
//! 1x when memory follows the largest package rather than the corpus. The
//! table is printed and written to `target/bench-versus.md`. Nothing here
//! asserts on time.
//!
//! Run: `bash benches/corpus.sh /tmp/corpus` once, then
//! `TEMPER_BENCH_CORPUS=/tmp/corpus cargo bench --bench versus`.
//! `TEMPER_BENCH_AST_GREP=PATH` names the ast-grep binary (default:
//! `ast-grep` on `PATH`; `pip install ast-grep-cli`).

use rayon::prelude::*;
use std::error::Error;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

type BenchResult<T> = Result<T, Box<dyn Error>>;

const THREADS: [usize; 2] = [1, 2];

fn main() -> BenchResult<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--floor") {
        let dir = args.get(at + 1).ok_or("--floor DIR THREADS")?;
        let threads: usize = args.get(at + 2).ok_or("--floor DIR THREADS")?.parse()?;
        return floor(Path::new(dir), threads);
    }
    let corpus = PathBuf::from(std::env::var("TEMPER_BENCH_CORPUS").map_err(
        |_| "set TEMPER_BENCH_CORPUS to a directory built by `bash benches/corpus.sh DIR`",
    )?);
    let runs: usize = match std::env::var("TEMPER_BENCH_RUNS") {
        Ok(n) => n.parse()?,
        Err(_) => 3,
    };
    let ast_grep = std::env::var("TEMPER_BENCH_AST_GREP").unwrap_or_else(|_| "ast-grep".into());
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let temper = PathBuf::from(env!("CARGO_BIN_EXE_temper"));
    let sgconfig = manifest_dir.join("benches/ast-grep/sgconfig.yml");
    let me = std::env::current_exe()?;
    let files = rust_files(&corpus)?;
    let bytes: u64 = files
        .iter()
        .map(|f| f.metadata().map(|m| m.len()).unwrap_or(0))
        .sum();
    eprintln!(
        "corpus: {} .rs files, {:.1} MB; median of {runs}",
        files.len(),
        bytes as f64 / 1e6
    );
    let have_ast_grep = Command::new(&ast_grep)
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());

    // name -> threads -> runs
    let mut results: Vec<(&str, usize, Vec<ChildRun>)> = Vec::new();
    for round in 0..runs {
        for threads in THREADS {
            let j = threads.to_string();
            let mut passes: Vec<(&str, Command)> = Vec::new();
            let mut command = Command::new(&me);
            command.args(["--floor", &corpus.to_string_lossy(), &j]);
            passes.push(("floor", command));
            let mut command = Command::new(&temper);
            command
                .args(["check", "--no-cache", "--color", "never", "-j", &j])
                .arg(&corpus);
            passes.push(("temper", command));
            if have_ast_grep {
                let mut command = Command::new(&ast_grep);
                command
                    .args(["scan", "--color", "never", "-j", &j, "-c"])
                    .arg(&sgconfig)
                    .arg(&corpus);
                passes.push(("ast-grep", command));
            }
            // Alternate the order between rounds so no tool always runs on a
            // warmer cache than another.
            if round % 2 == 1 {
                passes.reverse();
            }
            for (name, mut command) in passes {
                let run = run_child(command.stdout(Stdio::null()).stderr(Stdio::null()))?;
                eprintln!(
                    "round {round}: {name} -j{threads}: {:.2} s, {} MB",
                    run.wall.as_secs_f64(),
                    run.peak_rss_kib / 1024
                );
                match results
                    .iter_mut()
                    .find(|(n, t, _)| *n == name && *t == threads)
                {
                    Some((_, _, list)) => list.push(run),
                    None => results.push((name, threads, vec![run])),
                }
            }
        }
    }
    let median = |name: &str, threads: usize| -> Option<(Duration, u64)> {
        let (_, _, list) = results
            .iter()
            .find(|(n, t, _)| *n == name && *t == threads)?;
        let mut walls: Vec<Duration> = list.iter().map(|r| r.wall).collect();
        walls.sort();
        let rss = list.iter().map(|r| r.peak_rss_kib).max().unwrap_or(0);
        Some((walls[walls.len() / 2], rss))
    };

    let mut table = String::new();
    writeln!(
        table,
        "Corpus: {} `.rs` files, {:.1} MB (`bash benches/corpus.sh DIR`); median of {runs} runs, alternating.\n",
        files.len(),
        bytes as f64 / 1e6
    )?;
    writeln!(
        table,
        "| what | threads | wall | peak RSS | this ÷ temper (above 1: temper is faster) |\n|---|---:|---:|---:|---:|"
    )?;
    for threads in THREADS {
        let temper_wall = median("temper", threads).map(|m| m.0);
        for (name, label) in [
            ("floor", "read + `ra_ap_syntax` parse + one walk (floor)"),
            ("temper", "`temper check --no-cache`"),
            ("ast-grep", "`ast-grep scan`, three rules"),
        ] {
            let Some((wall, rss)) = median(name, threads) else {
                continue;
            };
            let ratio = temper_wall.map_or(String::new(), |t| {
                format!("{:.2}", wall.as_secs_f64() / t.as_secs_f64())
            });
            writeln!(
                table,
                "| {label} | {threads} | {:.2} s | {} MB | {} |",
                wall.as_secs_f64(),
                rss / 1024,
                if name == "temper" { "" } else { &ratio }
            )?;
        }
    }

    // Ten copies: time should grow tenfold, peak memory not at all.
    let x10 = PathBuf::from(format!("{}.x10", corpus.display()));
    if !x10.exists() {
        std::fs::create_dir_all(&x10)?;
        for copy in 0..10 {
            let status = Command::new("cp")
                .arg("-al")
                .arg(&corpus)
                .arg(x10.join(format!("copy-{copy}")))
                .status()?;
            if !status.success() {
                return Err("cp -al failed".into());
            }
        }
    }
    let mut x10_runs = Vec::new();
    for _ in 0..runs.min(2) {
        let run = run_child(
            Command::new(&temper)
                .args(["check", "--no-cache", "--color", "never", "-j", "2"])
                .arg(&x10)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )?;
        eprintln!(
            "x10: temper -j2: {:.2} s, {} MB",
            run.wall.as_secs_f64(),
            run.peak_rss_kib / 1024
        );
        x10_runs.push(run);
    }
    if let (Some(one), Some(best)) = (median("temper", 2), x10_runs.iter().min_by_key(|r| r.wall)) {
        writeln!(
            table,
            "\nCorpus copied ten times, `temper check --no-cache -j 2`: {:.2} s ({:.1}x the time of one copy), peak RSS {} MB ({:.2}x).",
            best.wall.as_secs_f64(),
            best.wall.as_secs_f64() / one.0.as_secs_f64(),
            best.peak_rss_kib / 1024,
            best.peak_rss_kib as f64 / one.1.max(1) as f64
        )?;
    }
    println!("{table}");
    let out = manifest_dir.join("target/bench-versus.md");
    std::fs::write(&out, &table)?;
    eprintln!("written to {}", out.display());
    Ok(())
}

/// The floor: read, parse and walk every file once on `threads` threads.
fn floor(dir: &Path, threads: usize) -> BenchResult<()> {
    let files = rust_files(dir)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(64 << 20)
        .build()?;
    let nodes: usize = pool.install(|| {
        files
            .par_iter()
            .map(|path| {
                let Ok(text) = std::fs::read_to_string(path) else {
                    return 0;
                };
                let parse =
                    ra_ap_syntax::SourceFile::parse(&text, temper_lints::Edition::Edition2021);
                use ra_ap_syntax::AstNode;
                parse.tree().syntax().descendants().count()
            })
            .sum()
    });
    println!("{nodes} nodes");
    Ok(())
}

fn rust_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A finished child process.
struct ChildRun {
    wall: Duration,
    peak_rss_kib: u64,
}

/// Runs `command` to completion with its own resource usage (`wait4`).
fn run_child(command: &mut Command) -> BenchResult<ChildRun> {
    let start = Instant::now();
    let child = command.spawn()?;
    let pid = libc::pid_t::try_from(child.id())?;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain data for which all-zero bytes are valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own unreaped child; both out-pointers are live
        // locals of the right types.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error.into());
        }
    }
    Ok(ChildRun {
        wall: start.elapsed(),
        // Linux reports `ru_maxrss` in KiB.
        peak_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or_default(),
    })
}
