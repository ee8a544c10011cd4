//! Throughput and memory of `temper check` on a large body of real Rust code
//! that nobody here wrote: the crate sources cargo has downloaded into its
//! registry cache (`$CARGO_HOME/registry/src/*/*`).
//!
//! In one run, over the same files, it measures:
//!
//! - a parse-only pass with `ra_ap_syntax` (read + parse, nothing else), the
//!   floor that `temper check` is compared against (target: check ≤ 1.3x);
//! - `temper_lints::analyze` alone (parse + lints, no discovery), to tell the
//!   lints' cost from the driver's;
//! - `temper::check::run` in-process on the explicit list of files temper
//!   checks (the like-for-like comparison) and on the crate directories
//!   (discovery and the walk included);
//! - the `temper check` binary as a child process (start-up and JSON output
//!   included), with its peak RSS, also on 25 % and 50 % of the crates to show
//!   whether memory stays flat as the corpus grows;
//! - `ast-grep scan` with approximations of the three lints
//!   (`benches/ast-grep/`), when `ast-grep` is installed (target: temper ≥ 3x
//!   faster).
//!
//! Each pass runs with 1 and 2 threads; every timing is the best of
//! `TEMPER_BENCH_RUNS` runs. The results are printed as Markdown and written
//! to `target/bench-check.md`. Benchmarks measure: nothing here asserts on
//! time.
//!
//! Run: `cargo bench --bench check`. Environment:
//!
//! - `TEMPER_BENCH_CORPUS=DIR`: a crate, a directory of crates, or a directory
//!   of such directories (the registry's layout); default: the registry cache.
//! - `TEMPER_BENCH_MAX_FILES=N`: take whole crates, in name order, until about
//!   N `.rs` files (quick runs).
//! - `TEMPER_BENCH_RUNS=N`: runs per measurement, best kept (default 3).
//! - `TEMPER_BENCH_AST_GREP=PATH`: the ast-grep binary (default: the one
//!   behind pyenv's shim, else `ast-grep` on `PATH`; without it the comparison
//!   is skipped, and `pip install ast-grep-cli` installs it).

#[path = "corpus.rs"]
mod corpus;

use rayon::prelude::*;
use std::collections::BTreeMap;
use std::error::Error;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use temper::check::{self, CheckOutcome, CheckRequest};
use temper_lints::{CrateFacts, Edition, Options};

type BenchResult<T> = Result<T, Box<dyn Error>>;

const THREADS: [usize; 2] = [1, 2];
const LINTS: [&str; 3] = [
    "arc_from_ptr_read",
    "drop_without_async_cleanup",
    "library_unwrap",
];
const INSTALL_AST_GREP: &str = "pip install ast-grep-cli";

fn main() -> BenchResult<()> {
    let config = Config::from_env()?;
    let crates = select_crates(&config)?;
    if crates.is_empty() {
        return Err(format!(
            "no crates found under {}; run `cargo fetch` first or set TEMPER_BENCH_CORPUS",
            config.corpus.display()
        )
        .into());
    }
    let crate_dirs: Vec<PathBuf> = crates.iter().map(|c| c.dir.clone()).collect();
    let root = common_root(&crate_dirs);
    eprintln!(
        "corpus: {} crates under {} (best of {} runs per figure)",
        crates.len(),
        root.display(),
        config.runs
    );
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_temper"));
    let out_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&out_dir)?;
    let mut timings = Timings::default();

    // The binary runs first, while this process is still small: a child's
    // `ru_maxrss` starts from the parent's peak RSS (Linux carries the old
    // address space's high-water mark across exec), so later, after the
    // in-process passes have held the whole corpus, every child would report
    // at least that.
    let relative_dirs = relative_to(&root, &crate_dirs);
    let mut cli = CliRuns::default();
    for percent in [25, 50] {
        let take = (crates.len() * percent).div_ceil(100).max(1);
        if take >= crates.len() {
            continue;
        }
        eprintln!("peak RSS: {percent} % of the crates ({take})");
        let output = out_dir.join("bench-check-temper-subset.json");
        let run = run_temper(&binary, &root, &relative_dirs[..take], 2, &output)?;
        cli.subsets.push((percent, take, run));
    }
    for run in 1..=config.runs {
        for threads in THREADS {
            eprintln!("run {run}/{}: temper CLI, {threads} thread(s)", config.runs);
            let output = out_dir.join("bench-check-temper.json");
            let child = run_temper(&binary, &root, &relative_dirs, threads, &output)?;
            timings.record("cli", threads, child.wall);
            let peak = cli.peak_rss_kib.entry(threads).or_default();
            *peak = (*peak).max(child.peak_rss_kib);
            cli.exit_code = child.exit_code;
            cli.counts = temper_json_counts(&output)?;
        }
    }
    let rss_floor_kib = own_peak_rss_kib();

    // One untimed in-process check over the crate directories gives the set
    // of files temper really checks (files no target reaches are skipped),
    // which the parse-only pass and ast-grep then use.
    eprintln!("discovery run...");
    let first = in_pool(2, || check_paths(&crate_dirs))?;
    let corpus = CorpusStats::from_outcome(&first, &crates);
    let files: Vec<PathBuf> = first.files.iter().map(|f| f.path.clone()).collect();
    let temper_counts = count_findings(first.findings.iter().map(|f| f.finding.lint));
    let notes = first.notes.len();
    drop(first);
    eprintln!(
        "{} files checked ({} .rs files under the crates), {} lines, {:.1} MB",
        corpus.files,
        corpus.rs_files_walked,
        corpus.lines,
        mb(corpus.bytes)
    );

    for run in 1..=config.runs {
        for threads in THREADS {
            eprintln!(
                "run {run}/{}: in-process passes, {threads} thread(s)",
                config.runs
            );
            let (wall, parsed) = time(|| in_pool(threads, || parse_only(&files)))?;
            parsed?;
            timings.record("parse", threads, wall);
            let (wall, analysed) = time(|| in_pool(threads, || analyze_only(&files)))?;
            analysed?;
            timings.record("analyze", threads, wall);
            let (wall, outcome) = time(|| in_pool(threads, || check_paths(&files)))?;
            drop(outcome);
            timings.record("check_files", threads, wall);
            let (wall, outcome) = time(|| in_pool(threads, || check_paths(&crate_dirs)))?;
            drop(outcome);
            timings.record("check_dirs", threads, wall);
        }
    }

    let ast_grep = match find_ast_grep(&config) {
        Some(program) => Some(run_ast_grep_passes(
            &program,
            &config,
            &root,
            &files,
            &out_dir,
            &mut timings,
        )?),
        None => None,
    };

    let mut rss_rows: Vec<RssRow> = cli
        .subsets
        .iter()
        .map(|(percent, take, run)| RssRow::new(*percent, &crates[..*take], &corpus, run))
        .collect();
    rss_rows.push(RssRow {
        percent: 100,
        crates: crates.len(),
        files: corpus.files,
        bytes: corpus.bytes,
        peak_rss_kib: cli.peak_rss_kib.get(&2).copied().unwrap_or_default(),
        wall: timings.best("cli", 2),
    });
    let report = Report {
        config: &config,
        root: &root,
        crates: crates.len(),
        corpus: &corpus,
        notes,
        timings: &timings,
        rss_rows: &rss_rows,
        rss_floor_kib,
        temper_counts: &temper_counts,
        cli: &cli,
        ast_grep: ast_grep.as_ref(),
    };
    let markdown = report.markdown()?;
    let path = out_dir.join("bench-check.md");
    std::fs::write(&path, &markdown)?;
    println!("{markdown}");
    println!("(written to {})", path.display());
    Ok(())
}

/// What the `temper check` binary did.
#[derive(Default)]
struct CliRuns {
    /// Percent of the crates, number of crates, the run.
    subsets: Vec<(usize, usize, ChildRun)>,
    /// Highest over the runs on the whole corpus, per thread count.
    peak_rss_kib: BTreeMap<usize, u64>,
    exit_code: Option<i32>,
    counts: BTreeMap<String, usize>,
}

/// This process's own peak RSS (`VmHWM`), the floor below which a child's
/// `ru_maxrss` cannot go; 0 where `/proc` is missing.
fn own_peak_rss_kib() -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Settings from the environment.
struct Config {
    corpus: PathBuf,
    max_files: Option<usize>,
    runs: usize,
    ast_grep: Option<PathBuf>,
}

impl Config {
    fn from_env() -> BenchResult<Config> {
        let corpus = match std::env::var_os("TEMPER_BENCH_CORPUS") {
            Some(dir) => PathBuf::from(dir),
            None => corpus::cargo_home()?.join("registry").join("src"),
        };
        Ok(Config {
            corpus,
            max_files: corpus::env_number("TEMPER_BENCH_MAX_FILES")?,
            runs: corpus::env_number("TEMPER_BENCH_RUNS")?.unwrap_or(3).max(1),
            ast_grep: std::env::var_os("TEMPER_BENCH_AST_GREP").map(PathBuf::from),
        })
    }
}

/// A crate of the corpus.
struct Crate {
    dir: PathBuf,
    /// `.rs` files anywhere under `dir`, checked by temper or not.
    rs_files: usize,
    /// Their total size.
    rs_bytes: u64,
}

/// The corpus's crates in name order, cut to `TEMPER_BENCH_MAX_FILES`.
fn select_crates(config: &Config) -> BenchResult<Vec<Crate>> {
    let dirs = corpus::crate_dirs(&config.corpus)?;
    let mut crates = Vec::new();
    let mut total = 0;
    for dir in dirs {
        if config.max_files.is_some_and(|max| total >= max) {
            break;
        }
        let (rs_files, rs_bytes) = read_rs_files(&dir)?;
        total += rs_files;
        crates.push(Crate {
            dir,
            rs_files,
            rs_bytes,
        });
    }
    Ok(crates)
}

/// Counts and reads every `.rs` file under `dir`: reading warms the page
/// cache before the first timed run, without keeping anything in memory.
fn read_rs_files(dir: &Path) -> BenchResult<(usize, u64)> {
    let mut count = 0;
    let mut bytes = 0;
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
                bytes += io::copy(&mut File::open(&path)?, &mut io::sink())?;
            }
        }
    }
    Ok((count, bytes))
}

/// The deepest directory that holds every crate: children run there and get
/// short relative paths, which keeps the argument list far below `ARG_MAX`.
fn common_root(dirs: &[PathBuf]) -> PathBuf {
    let Some(first) = dirs.first() else {
        return PathBuf::from(".");
    };
    let mut root = first.parent().unwrap_or(first).to_path_buf();
    while !dirs.iter().all(|d| d.starts_with(&root)) {
        match root.parent() {
            Some(parent) => root = parent.to_path_buf(),
            None => break,
        }
    }
    root
}

fn relative_to(root: &Path, paths: &[PathBuf]) -> Vec<PathBuf> {
    paths
        .iter()
        .map(|p| p.strip_prefix(root).unwrap_or(p).to_path_buf())
        .collect()
}

/// Size of the checked corpus.
struct CorpusStats {
    files: usize,
    rs_files_walked: usize,
    rs_bytes_walked: u64,
    lines: usize,
    bytes: usize,
    /// Checked files and bytes per crate directory.
    per_crate: BTreeMap<PathBuf, (usize, usize)>,
}

impl CorpusStats {
    fn from_outcome(outcome: &CheckOutcome, crates: &[Crate]) -> CorpusStats {
        let mut per_crate: BTreeMap<PathBuf, (usize, usize)> = BTreeMap::new();
        let mut lines = 0;
        let mut bytes = 0;
        for file in &outcome.files {
            lines += file.source.lines().count();
            bytes += file.source.len();
            if let Some(krate) = crates.iter().find(|c| file.path.starts_with(&c.dir)) {
                let entry = per_crate.entry(krate.dir.clone()).or_default();
                entry.0 += 1;
                entry.1 += file.source.len();
            }
        }
        CorpusStats {
            files: outcome.files.len(),
            rs_files_walked: crates.iter().map(|c| c.rs_files).sum(),
            rs_bytes_walked: crates.iter().map(|c| c.rs_bytes).sum(),
            lines,
            bytes,
            per_crate,
        }
    }
}

fn in_pool<T: Send>(threads: usize, work: impl FnOnce() -> T + Send) -> BenchResult<T> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    Ok(pool.install(work))
}

fn time<T>(work: impl FnOnce() -> BenchResult<T>) -> BenchResult<(Duration, T)> {
    let start = Instant::now();
    let value = work()?;
    Ok((start.elapsed(), value))
}

fn check_paths(paths: &[PathBuf]) -> CheckOutcome {
    check::run(&CheckRequest {
        paths: paths.to_vec(),
        ..Default::default()
    })
}

/// Reads and parses every file with the parser temper uses, nothing more;
/// returns the total number of syntax errors so the work is not optimised
/// away.
fn parse_only(files: &[PathBuf]) -> io::Result<usize> {
    files
        .par_iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)?;
            Ok(temper_lints::parse_error_count(&text, Edition::Edition2024))
        })
        .sum()
}

/// Reads every file and runs `temper_lints::analyze` on it (parse and every
/// lint) without discovery, classification or reporting: splits the cost of
/// `check::run` into the lints' and the driver's.
fn analyze_only(files: &[PathBuf]) -> io::Result<usize> {
    let options = Options::default();
    let facts = CrateFacts::default();
    files
        .par_iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)?;
            let analysis = temper_lints::analyze(&text, Edition::Edition2024, &options, &facts);
            Ok(analysis.findings.len())
        })
        .sum()
}

fn count_findings<'a>(lints: impl Iterator<Item = &'a str>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for lint in lints {
        *counts.entry(lint.to_string()).or_default() += 1;
    }
    counts
}

/// Best wall time per pass and thread count.
#[derive(Default)]
struct Timings {
    best: BTreeMap<(&'static str, usize), Duration>,
}

impl Timings {
    fn record(&mut self, pass: &'static str, threads: usize, wall: Duration) {
        let best = self.best.entry((pass, threads)).or_insert(wall);
        *best = (*best).min(wall);
    }

    fn get(&self, pass: &str, threads: usize) -> Option<Duration> {
        self.best.get(&(pass, threads)).copied()
    }

    fn best(&self, pass: &str, threads: usize) -> Duration {
        self.get(pass, threads).unwrap_or_default()
    }
}

/// A finished child process.
struct ChildRun {
    wall: Duration,
    peak_rss_kib: u64,
    exit_code: Option<i32>,
}

/// Runs `command` to completion and takes its own resource usage (`wait4`),
/// so no other child's peak is mixed in (the parent's can be: see `main`).
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
    let wall = start.elapsed();
    let exit_code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Ok(ChildRun {
        wall,
        // Linux reports `ru_maxrss` in KiB.
        peak_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or_default(),
        exit_code,
    })
}

fn run_temper(
    binary: &Path,
    root: &Path,
    dirs: &[PathBuf],
    threads: usize,
    output: &Path,
) -> BenchResult<ChildRun> {
    let run = run_child(
        Command::new(binary)
            .current_dir(root)
            // The cache would make every run after the first a cache read (and
            // would write `.temper-cache/` into the corpus).
            .args(["check", "--no-cache", "--format", "json"])
            .args(["-j", &threads.to_string()])
            .args(dirs)
            .stdin(Stdio::null())
            .stdout(File::create(output)?)
            .stderr(Stdio::null()),
    )?;
    match run.exit_code {
        // 0 clean, 1 denied findings, 2 some input could not be checked (a
        // note says which): all three still measure a full check.
        Some(0..=2) => Ok(run),
        other => Err(format!("temper check exited with {other:?}").into()),
    }
}

fn temper_json_counts(output: &Path) -> BenchResult<BTreeMap<String, usize>> {
    let findings: Vec<serde_json::Value> =
        serde_json::from_reader(BufReader::new(File::open(output)?))?;
    Ok(count_findings(
        findings.iter().filter_map(|f| f.get("lint")?.as_str()),
    ))
}

/// What `ast-grep scan` did.
struct AstGrep {
    version: String,
    startup: Duration,
    counts: BTreeMap<String, usize>,
}

fn find_ast_grep(config: &Config) -> Option<PathBuf> {
    let program = config
        .ast_grep
        .clone()
        .or_else(pyenv_ast_grep)
        .unwrap_or_else(|| PathBuf::from("ast-grep"));
    let found = Command::new(&program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!(
            "ast-grep not found ({}): skipping the comparison; install it with `{INSTALL_AST_GREP}`",
            program.display()
        );
    }
    found.then_some(program)
}

/// Under pyenv, `ast-grep` on `PATH` is a shell shim that adds about 0.1 s to
/// every start; time the real binary instead.
fn pyenv_ast_grep() -> Option<PathBuf> {
    let output = Command::new("pyenv")
        .args(["which", "ast-grep"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
    (output.status.success() && path.is_file()).then_some(path)
}

fn run_ast_grep_passes(
    program: &Path,
    config: &Config,
    root: &Path,
    files: &[PathBuf],
    out_dir: &Path,
    timings: &mut Timings,
) -> BenchResult<AstGrep> {
    let version_start = Instant::now();
    let version = Command::new(program).arg("--version").output()?;
    let startup = version_start.elapsed();
    let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
    let sgconfig = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/ast-grep/sgconfig.yml");
    let relative_files = relative_to(root, files);
    let output = out_dir.join("bench-check-ast-grep.jsonl");
    for run in 1..=config.runs {
        for threads in THREADS {
            eprintln!(
                "run {run}/{}: ast-grep scan, {threads} thread(s)",
                config.runs
            );
            let child = run_child(
                Command::new(program)
                    .current_dir(root)
                    .arg("scan")
                    .arg("--config")
                    .arg(&sgconfig)
                    .args(["--json=stream", "--threads", &threads.to_string()])
                    .args(&relative_files)
                    .stdin(Stdio::null())
                    .stdout(File::create(&output)?)
                    .stderr(Stdio::null()),
            )?;
            // ast-grep exits 1 when an error-level rule matched.
            if !matches!(child.exit_code, Some(0 | 1)) {
                return Err(format!("ast-grep scan exited with {:?}", child.exit_code).into());
            }
            timings.record("ast_grep", threads, child.wall);
        }
    }
    let mut counts = BTreeMap::new();
    for line in BufReader::new(File::open(&output)?).lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let matched: serde_json::Value = serde_json::from_str(&line)?;
        if let Some(rule) = matched.get("ruleId").and_then(|r| r.as_str()) {
            *counts.entry(rule.to_string()).or_default() += 1;
        }
    }
    Ok(AstGrep {
        version,
        startup,
        counts,
    })
}

/// One row of the memory table.
struct RssRow {
    percent: usize,
    crates: usize,
    files: usize,
    bytes: usize,
    peak_rss_kib: u64,
    wall: Duration,
}

impl RssRow {
    fn new(percent: usize, crates: &[Crate], corpus: &CorpusStats, run: &ChildRun) -> RssRow {
        let (files, bytes) = crates
            .iter()
            .filter_map(|c| corpus.per_crate.get(&c.dir))
            .fold((0, 0), |(f, b), (cf, cb)| (f + cf, b + cb));
        RssRow {
            percent,
            crates: crates.len(),
            files,
            bytes,
            peak_rss_kib: run.peak_rss_kib,
            wall: run.wall,
        }
    }
}

struct Report<'a> {
    config: &'a Config,
    root: &'a Path,
    crates: usize,
    corpus: &'a CorpusStats,
    notes: usize,
    timings: &'a Timings,
    rss_rows: &'a [RssRow],
    rss_floor_kib: u64,
    temper_counts: &'a BTreeMap<String, usize>,
    cli: &'a CliRuns,
    ast_grep: Option<&'a AstGrep>,
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

fn seconds(wall: Option<Duration>) -> String {
    wall.map_or_else(|| "–".to_string(), |w| format!("{:.2} s", w.as_secs_f64()))
}

fn ratio(numerator: Option<Duration>, denominator: Option<Duration>) -> String {
    match (numerator, denominator) {
        (Some(n), Some(d)) if !d.is_zero() => format!("{:.2}x", n.as_secs_f64() / d.as_secs_f64()),
        _ => "–".to_string(),
    }
}

impl Report<'_> {
    fn throughput(&self, wall: Option<Duration>) -> String {
        match wall {
            Some(w) if !w.is_zero() => {
                format!("{:.1} MB/s", mb(self.corpus.bytes) / w.as_secs_f64())
            }
            _ => "–".to_string(),
        }
    }

    fn markdown(&self) -> BenchResult<String> {
        let t = self.timings;
        let c = self.corpus;
        let mut md = String::new();
        writeln!(md, "## `temper check` benchmark\n")?;
        writeln!(md, "Command: `cargo bench --bench check`\n")?;
        writeln!(
            md,
            "Corpus: {} crates from `{}` ({}): {} files checked, {} lines, {:.1} MB \
             ({} `.rs` files, {:.1} MB, under the crates: temper skips files no Cargo target \
             reaches). Machine: {} cores. Each time is the best of {} run(s).\n",
            self.crates,
            self.config.corpus.display(),
            self.root.display(),
            c.files,
            c.lines,
            mb(c.bytes),
            c.rs_files_walked,
            c.rs_bytes_walked as f64 / 1e6,
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            self.config.runs,
        )?;

        writeln!(
            md,
            "| pass | 1 thread | 2 threads | throughput (2 threads) |"
        )?;
        writeln!(md, "|---|---:|---:|---:|")?;
        let mut row = |label: &str, pass: &str| -> std::fmt::Result {
            writeln!(
                md,
                "| {label} | {} | {} | {} |",
                seconds(t.get(pass, 1)),
                seconds(t.get(pass, 2)),
                self.throughput(t.get(pass, 2))
            )
        };
        row("parse only (`ra_ap_syntax`, read + parse)", "parse")?;
        row(
            "`temper_lints::analyze` (read + parse + lints, no discovery)",
            "analyze",
        )?;
        row("`check::run`, the same files listed", "check_files")?;
        row(
            "`check::run`, the crate directories (walk + discovery)",
            "check_dirs",
        )?;
        row(
            "`temper check --no-cache --format json` binary, crate directories",
            "cli",
        )?;
        if self.ast_grep.is_some() {
            row(
                "`ast-grep scan --json=stream`, 3 rules, the same files",
                "ast_grep",
            )?;
        }
        writeln!(md)?;

        writeln!(md, "| ratio | 1 thread | 2 threads | target |")?;
        writeln!(md, "|---|---:|---:|---|")?;
        let mut ratio_row = |label: &str, num: &str, den: &str, target: &str| -> std::fmt::Result {
            writeln!(
                md,
                "| {label} | {} | {} | {target} |",
                ratio(t.get(num, 1), t.get(den, 1)),
                ratio(t.get(num, 2), t.get(den, 2)),
            )
        };
        ratio_row(
            "check (files) / parse only",
            "check_files",
            "parse",
            "≤ 1.3x",
        )?;
        ratio_row("analyze / parse only", "analyze", "parse", "")?;
        ratio_row("check (crate dirs) / parse only", "check_dirs", "parse", "")?;
        ratio_row("check binary / parse only", "cli", "parse", "")?;
        if self.ast_grep.is_some() {
            ratio_row("ast-grep / check binary", "ast_grep", "cli", "≥ 3x")?;
            ratio_row("ast-grep / check (files)", "ast_grep", "check_files", "")?;
        }
        writeln!(md)?;

        writeln!(
            md,
            "Peak RSS of the `temper check -j 2` binary as the corpus grows (crates in name order):\n"
        )?;
        writeln!(md, "| crates | files | MB | wall | peak RSS | RSS / MB |")?;
        writeln!(md, "|---:|---:|---:|---:|---:|---:|")?;
        for r in self.rss_rows {
            // At or below this process's own peak when the child ran, the
            // figure is the inherited floor, not the child's.
            let floor = if r.peak_rss_kib <= self.rss_floor_kib {
                " (floor)"
            } else {
                ""
            };
            let rss_mib = r.peak_rss_kib as f64 / 1024.0;
            writeln!(
                md,
                "| {} ({} %) | {} | {:.1} | {:.2} s | {:.0} MiB{floor} | {:.2} |",
                r.crates,
                r.percent,
                r.files,
                mb(r.bytes),
                r.wall.as_secs_f64(),
                rss_mib,
                rss_mib / mb(r.bytes).max(f64::EPSILON),
            )?;
        }
        writeln!(
            md,
            "\nThe bench process's own peak RSS while the binary ran: {:.0} MiB (a child's \
             figure cannot go below it).\n",
            self.rss_floor_kib as f64 / 1024.0
        )?;

        writeln!(
            md,
            "Findings (ast-grep's rules in `benches/ast-grep/` are syntactic approximations, \
             so only the order of magnitude should agree):\n"
        )?;
        writeln!(md, "| lint | `check::run` | binary | ast-grep |")?;
        writeln!(md, "|---|---:|---:|---:|")?;
        for lint in LINTS {
            let count = |m: &BTreeMap<String, usize>| m.get(lint).copied().unwrap_or(0);
            writeln!(
                md,
                "| `{lint}` | {} | {} | {} |",
                count(self.temper_counts),
                count(&self.cli.counts),
                self.ast_grep
                    .map_or_else(|| "–".to_string(), |a| count(&a.counts).to_string())
            )?;
        }
        writeln!(md)?;

        writeln!(
            md,
            "Notes: the binary wrote JSON to a file (exit code {:?}); {} note(s) about inputs \
             (syntax errors, unreadable files).",
            self.cli.exit_code, self.notes
        )?;
        match self.ast_grep {
            Some(a) => writeln!(
                md,
                "ast-grep: {}; its start-up (`--version`) takes {:.0} ms.",
                a.version,
                a.startup.as_secs_f64() * 1000.0
            )?,
            None => writeln!(
                md,
                "ast-grep: not installed, comparison skipped (install: `{INSTALL_AST_GREP}`)."
            )?,
        }
        Ok(md)
    }
}
