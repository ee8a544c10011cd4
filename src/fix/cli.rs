//! `temper fix` on the command line: arguments, the report of what changed
//! and what was left, the diff, and exit codes.

use super::{FixOutcome, FixRequest, Mode};
use crate::check::{CheckRequest, RunSettings};
use crate::config;
use crate::report::{self, Style};
use clap::Args;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use temper_lints::Level;

/// Arguments of `temper fix`.
#[derive(Debug, Args)]
#[command(after_help = "\
Exit status:
  0  fixes applied (or, with --diff, nothing to change), and no finding at
     level deny is left
  1  findings at level deny are left after fixing; with --diff, also when
     there would be changes
  2  usage error, unreadable input, a file that could not be written (read-only,
     changed or replaced on disk since it was read, a failed write), or --verify
     could not build a package")]
pub struct FixArgs {
    /// Crates, workspaces, directories or `.rs` files (default: the current directory).
    pub paths: Vec<PathBuf>,
    /// Also apply unsafe fixes: those that may change behaviour or need type
    /// information to be sure they compile.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print a unified diff of what would change and write nothing.
    #[arg(long)]
    pub diff: bool,
    /// Run `cargo check --all-targets` before and after fixing and revert
    /// every fix that introduced a compile error.
    #[arg(long, conflicts_with = "diff")]
    pub verify: bool,
    /// With --verify: features to build with, as cargo takes them
    /// (comma- or space-separated, repeatable).
    #[arg(long, short = 'F', value_name = "FEATURES", requires = "verify")]
    pub features: Vec<String>,
    /// With --verify: build with every feature of the package.
    #[arg(long, requires = "verify")]
    pub all_features: bool,
    /// With --verify: build without the package's default features.
    #[arg(long, requires = "verify")]
    pub no_default_features: bool,
    #[command(flatten)]
    pub levels: config::LevelFlags,
    /// Read configuration from this `temper.toml` (or Cargo.toml) instead of
    /// the nearest one.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// When to use colour in messages (`NO_COLOR` is honoured in `auto`).
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j')]
    pub threads: Option<usize>,
    /// Edition of `.rs` files outside any Cargo package (2015, 2018, 2021,
    /// 2024; default: the newest). Package files use their package's edition.
    #[arg(long, value_name = "YEAR", value_parser = crate::discover::parse_edition)]
    pub edition: Option<temper_lints::Edition>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// Runs `temper fix` and maps the outcome to an exit code.
pub fn run(args: &FixArgs) -> ExitCode {
    // The same configuration `temper check` reads, so fix sees what check
    // reports: levels, per-lint options, excludes.
    let cwd = std::env::current_dir().unwrap_or_default();
    let config = config::for_command(&cwd, args.config.as_deref(), &args.paths);
    let config = match config {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{:?}", miette::Report::new(error));
            return ExitCode::from(2);
        }
    };
    let levels = match config.levels_with(&args.levels) {
        Ok(levels) => levels,
        Err(message) => return usage_error(&message),
    };
    crate::check::use_threads(args.threads);
    let configs = config::Resolver::for_command(
        &cwd,
        &args.levels,
        (&config, &levels),
        args.config.is_some(),
    );
    let request = FixRequest {
        check: CheckRequest {
            paths: args.paths.clone(),
            options: config.options.clone(),
            levels,
            edition: args.edition,
        },
        settings: RunSettings {
            exclude: config.exclude.clone(),
            configs: Some(configs),
            cache_dir: None,
            drop_clean_sources: false,
            prefilter: false,
            describe_crate_fixes: false,
            render: None,
            stream: None,
        },
        unsafe_fixes: args.unsafe_fixes,
        mode: if args.diff { Mode::Diff } else { Mode::Write },
        verify: args.verify,
        features: super::verify::Features {
            features: args.features.clone(),
            all: args.all_features,
            no_default: args.no_default_features,
        },
        ..FixRequest::default()
    };
    let outcome = super::run(&request);
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        }
    };
    let style = Style { color, width: 100 };

    let mut stderr = std::io::stderr().lock();
    for error in &outcome.errors {
        let _ = writeln!(stderr, "{error:?}");
    }
    for note in &outcome.notes {
        let _ = write!(stderr, "{}", report::render_note(note, style));
    }
    let report = render_report(&outcome, request.mode, args.unsafe_fixes);
    let written = if args.diff {
        let mut stdout = std::io::stdout().lock();
        // The diff is the output; the report goes beside it, to stderr, so
        // `temper fix --diff > fixes.patch` is a patch.
        let _ = write!(stderr, "{report}");
        write!(stdout, "{}", render_diff(&outcome)).and_then(|()| stdout.flush())
    } else {
        let mut stdout = std::io::stdout().lock();
        write!(stdout, "{report}").and_then(|()| stdout.flush())
    };
    if let Err(error) = written
        && error.kind() != std::io::ErrorKind::BrokenPipe
    {
        return usage_error(&format!("cannot write output: {error}"));
    }
    exit_code(&outcome, request.mode)
}

/// The exit status documented in `temper fix --help`.
pub fn exit_code(outcome: &FixOutcome, mode: Mode) -> ExitCode {
    // A read-only file is never written, but its fixes were asked for: as
    // for any file that could not be written, the run did not do its job.
    let read_only = outcome
        .left
        .iter()
        .any(|left| left.reason == super::write::READ_ONLY);
    if outcome.incomplete || outcome.write_failures > 0 || outcome.verify_failures > 0 || read_only
    {
        return ExitCode::from(2);
    }
    let denied_left = outcome.left.iter().any(|l| l.level == Level::Deny);
    let code = match mode {
        // Like `rustfmt --check`: a diff is a failure for CI, and so is a
        // denied finding the fixes would leave.
        Mode::Diff => denied_left || !outcome.changes.is_empty(),
        Mode::Write => denied_left,
    };
    if code {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Unified diffs of every changed file, `--- a/path` / `+++ b/path`.
pub fn render_diff(outcome: &FixOutcome) -> String {
    let mut out = String::new();
    for change in &outcome.changes {
        let diff = similar::TextDiff::from_lines(&*change.original, change.fixed.as_str());
        let _ = write!(
            out,
            "{}",
            diff.unified_diff().context_radius(3).header(
                &format!("a/{}", change.display),
                &format!("b/{}", change.display)
            )
        );
    }
    out
}

/// What changed, what was left and why, and the one-line summary:
/// `12 fixed, 3 left: 2 need a fallible return type, 1 call site not migratable`.
pub fn render_report(outcome: &FixOutcome, mode: Mode, unsafe_fixes: bool) -> String {
    let mut out = String::new();
    let verb = match mode {
        Mode::Write => "fixed",
        Mode::Diff => "would fix",
    };
    let mut per_file: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    for fix in &outcome.fixed {
        *per_file
            .entry(fix.display.as_str())
            .or_default()
            .entry(fix.lint)
            .or_default() += 1;
    }
    for (file, lints) in &per_file {
        let total: usize = lints.values().sum();
        let by_lint: Vec<String> = lints
            .iter()
            .map(|(lint, count)| format!("{count} {lint}"))
            .collect();
        let _ = writeln!(out, "{verb} {total} in {file} ({})", by_lint.join(", "));
    }
    for left in &outcome.left {
        let because = left.detail.as_deref().unwrap_or(&left.reason);
        let _ = writeln!(
            out,
            "left {}:{}:{}: {}: {}: {because}",
            left.display, left.line, left.column, left.lint, left.message
        );
    }
    let _ = writeln!(out, "{}", summary(outcome, mode));
    let unsafe_count = outcome.left.iter().filter(|l| l.unsafe_available).count();
    if unsafe_count > 0 && !unsafe_fixes {
        let _ = writeln!(
            out,
            "hint: {unsafe_count} unsafe fix{} available with --unsafe-fixes",
            if unsafe_count == 1 { "" } else { "es" }
        );
    }
    out
}

/// `12 fixed, 3 left: 2 need a fallible return type, 1 need --unsafe-fixes`.
pub fn summary(outcome: &FixOutcome, mode: Mode) -> String {
    let fixed = outcome.fixed.len();
    let head = match mode {
        Mode::Write => format!("{fixed} fixed"),
        Mode::Diff => format!("{fixed} would be fixed"),
    };
    if outcome.left.is_empty() {
        return format!("{head}, 0 left");
    }
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for left in &outcome.left {
        *reasons.entry(left.reason.as_str()).or_default() += 1;
    }
    let mut groups: Vec<(&str, usize)> = reasons.into_iter().collect();
    groups.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let groups: Vec<String> = groups
        .into_iter()
        .map(|(reason, count)| format!("{count} {reason}"))
        .collect();
    format!("{head}, {} left: {}", outcome.left.len(), groups.join(", "))
}
