//! The command line: `temper check`, `fix`, `explain`, `lints`, `server`, and the optional
//! `wit` and `pool` subcommands.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "temper",
    version,
    about = "Find and rewrite Arc-from-ptr::read, async-work-in-Drop and library unwrap defects"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check Rust code and report findings (exit 1 when any is at level deny).
    Check(CheckArgs),
    /// Apply fixes: safe ones, unsafe ones too with --unsafe-fixes; --diff
    /// shows them instead, --verify builds before and after.
    Fix(temper::fix::cli::FixArgs),
    /// Print a lint's documentation.
    Explain {
        /// The lint's name, e.g. `library_unwrap`.
        lint: String,
    },
    /// List all lints with their default level and fix availability.
    Lints,
    /// Run the language server on stdin/stdout, for editors: diagnostics as
    /// you type and fixes as code actions, beside rust-analyzer.
    Server(temper::server::ServerArgs),
    /// WebAssembly Interface Type tools.
    #[command(subcommand)]
    Wit(WitCommand),
    /// The reference instance-pool runtime.
    #[command(subcommand)]
    Pool(PoolCommand),
}

#[derive(Debug, Subcommand)]
pub enum WitCommand {
    /// Check a compiled component against a WIT world before it runs.
    #[cfg(feature = "wit")]
    Validate(temper::wit::cli::WitValidateArgs),
    /// Check a compiled component against a WIT world before it runs.
    #[cfg(not(feature = "wit"))]
    Validate(Unavailable),
}

#[derive(Debug, Subcommand)]
pub enum PoolCommand {
    /// Run a load against a pool of component instances and print its metrics.
    #[cfg(feature = "runtime")]
    Bench(temper::pool::cli::PoolBenchArgs),
    /// Run a load against a pool of component instances and print its metrics.
    #[cfg(not(feature = "runtime"))]
    Bench(Unavailable),
}

/// Arguments of a subcommand whose feature was not compiled in.
#[derive(Debug, Args)]
pub struct Unavailable {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub rest: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// rustc-like diagnostics for people.
    Human,
    /// A JSON array of findings.
    Json,
    /// SARIF 2.1.0, for code-scanning upload.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
    /// cargo's `compiler-message` JSON lines with rustc diagnostics, for
    /// rust-analyzer's `check.overrideCommand`.
    RustcJson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Crates, workspaces, directories or `.rs` files (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// When to use colour in human output (`NO_COLOR` is honoured in `auto`).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    #[command(flatten)]
    pub levels: temper::config::LevelFlags,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j')]
    pub threads: Option<usize>,
    /// Print one line per lint with its count and how many `temper fix` can
    /// fix (safe fixes; unsafe ones counted apart), instead of the findings
    /// (JSON rows with `--format json`; human and json formats only).
    #[arg(long)]
    pub statistics: bool,
    /// Plan the fixes that reach across the crate (a `library_unwrap`
    /// migration: a function made fallible with all its callers) and show
    /// them, as `temper fix --diff` would. Slower: it reads whole crates.
    /// Without it, human, JSON and GitHub output say how to see such a fix;
    /// SARIF, rustc-json and `--statistics` always plan them.
    #[arg(long)]
    pub plan_fixes: bool,
    /// Read configuration from this `temper.toml` (or Cargo.toml) instead of
    /// the nearest one.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Neither read nor write the analysis cache (`.temper-cache/`).
    #[arg(long)]
    pub no_cache: bool,
    /// Report, and fail on, only findings that are not in this baseline.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub baseline: Option<PathBuf>,
    /// Record every current finding in this baseline file and exit 0 (an
    /// existing file is replaced only when it is a temper baseline).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["changed_since", "statistics"]
    )]
    pub write_baseline: Option<PathBuf>,
    /// Report only findings on lines changed since this git revision
    /// (untracked files count as changed).
    #[arg(long, value_name = "REV")]
    pub changed_since: Option<String>,
    /// Write a `// temper: allow(..)` comment above every current finding.
    #[arg(long, conflicts_with_all = ["write_baseline", "baseline", "statistics"])]
    pub add_suppressions: bool,
    /// Edition of `.rs` files outside any Cargo package (2015, 2018, 2021,
    /// 2024; default: the newest). Package files use their package's edition.
    #[arg(long, value_name = "YEAR", value_parser = temper::discover::parse_edition)]
    pub edition: Option<temper_lints::Edition>,
}
