//! temper's command-line entry point: parses arguments, runs the command,
//! renders results and maps them to exit codes (0 clean, 1 denied findings,
//! 2 usage or internal error).

mod cli;

/// mimalloc: parsing allocates and frees many small nodes; measured 15%
/// faster than the system allocator on the check benchmark (README).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{CommandFactory, FromArgMatches};
use cli::{CheckArgs, Cli, ColorChoice, Command, Format};
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use temper::baseline::{self, Baseline};
use temper::check::{self, CheckRequest, RunSettings};
use temper::config::{self, Config};
use temper::formats::{self, printer::Printer};
use temper::report::{self, Reported, Style};
use temper::suppress;
use temper_lints::Level;

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let mut cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    // rustc applies level flags in command-line order; clap keeps each
    // flag's values apart, so the order comes from the argument indices.
    match (&mut cli.command, matches.subcommand()) {
        (Command::Check(args), Some((_, sub))) => args.levels.record_order(sub),
        (Command::Fix(args), Some((_, sub))) => args.levels.record_order(sub),
        _ => {}
    }
    match cli.command {
        Command::Check(args) => run_check(&args),
        Command::Fix(args) => temper::fix::cli::run(&args),
        Command::Explain { lint } => explain(&lint),
        Command::Lints => list_lints(),
        Command::Wit(command) => run_wit(command),
        Command::Pool(command) => run_pool(command),
        Command::Server(args) => temper::server::run(&args),
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

fn lint_name(name: &str) -> Result<&'static str, String> {
    temper::config::lint_name(name)
}

fn color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    }
}

/// Prints a miette diagnostic to stderr and returns exit code 2.
fn report_error(error: impl miette::Diagnostic + Send + Sync + 'static) -> ExitCode {
    eprintln!("{:?}", miette::Report::new(error));
    ExitCode::from(2)
}

/// Where `.temper-cache/` lives: the configuration's directory, else the
/// root of the Cargo workspace (or package) of the first checked path, else
/// the current directory: the same place whichever directory temper runs in.
fn cache_root(cwd: &Path, config: &Config, paths: &[PathBuf]) -> PathBuf {
    if let Some(root) = &config.root {
        return root.clone();
    }
    let start = git_dir(cwd, paths);
    let mut found = None;
    for dir in start.ancestors() {
        let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        if text.lines().any(|l| l.trim() == "[workspace]") {
            return dir.to_path_buf();
        }
        found.get_or_insert_with(|| dir.to_path_buf());
    }
    found.unwrap_or_else(|| cwd.to_path_buf())
}

/// The directory whose git repository `--changed-since` asks: the first
/// checked path's, else the current directory's.
fn git_dir(cwd: &Path, paths: &[PathBuf]) -> PathBuf {
    let Some(first) = paths.first() else {
        return cwd.to_path_buf();
    };
    let path = cwd.join(first);
    if path.is_dir() {
        path
    } else {
        path.parent()
            .map_or_else(|| cwd.to_path_buf(), Path::to_path_buf)
    }
}

/// `--statistics` replaces the findings with a table: a SARIF log, workflow
/// annotations or cargo messages made of a table would be neither.
fn statistics_format_error() -> String {
    "`--statistics` prints a table (or JSON rows with `--format json`); it cannot be combined with `--format sarif`, `github` or `rustc-json`".to_string()
}

fn run_check(args: &CheckArgs) -> ExitCode {
    if args.statistics && !matches!(args.format, Format::Human | Format::Json) {
        return usage_error(&statistics_format_error());
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let config = config::for_command(&cwd, args.config.as_deref(), &args.paths);
    let config = match config {
        Ok(config) => config,
        Err(error) => return report_error(error),
    };
    let levels = match config.levels_with(&args.levels) {
        Ok(levels) => levels,
        Err(message) => return usage_error(&message),
    };
    check::use_threads(args.threads);
    let style = Style {
        color: color(args.color),
        width: terminal_width(),
    };
    let request = CheckRequest {
        paths: args.paths.clone(),
        options: config.options.clone(),
        levels,
        edition: args.edition,
    };
    let reads_texts = args.statistics
        || args.add_suppressions
        || args.baseline.is_some()
        || args.write_baseline.is_some();
    // Asking git first: a bad revision is a usage error before any work.
    let mut changed = match &args.changed_since {
        Some(rev) => match temper::git::changed_since(&git_dir(&cwd, &args.paths), rev) {
            Ok(changed) => Some(changed),
            Err(error) => return report_error(error),
        },
        None => None,
    };
    // Human and JSON output need nothing of a file's text but its
    // findings' rendering: made as each file is checked, the texts are let
    // go, and the findings are printed as the check goes, file by file in
    // report order. Statistics, baselines and suppressions read the texts.
    let render = match args.format {
        Format::Human if !reads_texts => Some(report::Render::Human(style)),
        Format::Json if !reads_texts => Some(report::Render::Json),
        _ => None,
    };
    let printer = render.map(|format| {
        let keep = changed.take().map(|changed| {
            let cwd = cwd.clone();
            Box::new(move |r: &Reported| {
                changed.touches(&cwd.join(&r.path), r.start.line, r.end.line)
            }) as formats::printer::Keep
        });
        let out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout());
        Arc::new(Mutex::new(Printer::new(out, format, keep)))
    });
    let settings = RunSettings {
        exclude: config.exclude.clone(),
        cache_dir: (!args.no_cache).then(|| cache_root(&cwd, &config, &args.paths)),
        configs: Some(config::Resolver::for_command(
            &cwd,
            &args.levels,
            (&config, &request.levels),
            args.config.is_some(),
        )),
        drop_clean_sources: true,
        prefilter: true,
        // A migration planned across the crate shows only where a format
        // carries fixes (SARIF, rustc-json), in `--statistics`' count of what
        // `temper fix` can fix, or when asked for.
        describe_crate_fixes: !args.plan_fixes
            && !args.statistics
            && matches!(args.format, Format::Human | Format::Json | Format::Github),
        render,
        stream: printer.clone().map(|printer| check::Stream(printer)),
    };
    let outcome = check::run_with(&request, &settings);
    let mut stderr = std::io::stderr().lock();
    for error in &outcome.errors {
        let _ = writeln!(stderr, "{error:?}");
    }
    for note in &outcome.notes {
        let _ = write!(stderr, "{}", report::render_note(note, style));
    }
    drop(stderr);
    if let Some(printer) = printer {
        let mut printer = printer.lock().unwrap_or_else(PoisonError::into_inner);
        // A closed pipe (`temper check | head`) is not an error worth a message.
        match printer.finish(outcome.files_checked) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(error) => return usage_error(&format!("cannot write output: {error}")),
        }
        return check_exit(outcome.incomplete, printer.denied());
    }
    let mut findings = outcome.findings;
    if let Some(changed) = &changed {
        findings.retain(|r| changed.touches(&cwd.join(&r.path), r.start.line, r.end.line));
    }
    if args.add_suppressions {
        return add_suppressions(&cwd, &findings);
    }
    if let Some(file) = &args.write_baseline {
        let shown = check::display_path(&cwd, &cwd.join(file));
        let base = baseline::base_dir(&cwd, file);
        let entries = baseline::entries(&findings, &cwd, &base);
        let count = entries.len();
        return match Baseline::new(entries).write(&cwd.join(file), &shown) {
            Ok(()) => {
                eprintln!(
                    "wrote {count} finding{} to baseline {shown}",
                    if count == 1 { "" } else { "s" }
                );
                ExitCode::SUCCESS
            }
            Err(error) => report_error(error),
        };
    }
    if let Some(file) = &args.baseline {
        let shown = check::display_path(&cwd, &cwd.join(file));
        let known = match Baseline::read(&cwd.join(file), &shown) {
            Ok(known) => known,
            Err(error) => return report_error(error),
        };
        let base = baseline::base_dir(&cwd, file);
        let entries = baseline::entries(&findings, &cwd, &base);
        let checked: Vec<String> = outcome
            .files
            .iter()
            .map(|f| baseline::relative_path(&cwd, &base, &f.display))
            .collect();
        let comparison = known.compare(&entries, &checked);
        let mut new = Vec::with_capacity(comparison.new.len());
        let mut findings_by_index: Vec<Option<Reported>> = findings.into_iter().map(Some).collect();
        for index in comparison.new {
            if let Some(finding) = findings_by_index.get_mut(index).and_then(Option::take) {
                new.push(finding);
            }
        }
        findings = new;
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(
            stderr,
            "note: {} finding{} matched the baseline {shown}",
            comparison.matched,
            if comparison.matched == 1 { "" } else { "s" }
        );
        if !comparison.stale.is_empty() {
            let _ = writeln!(
                stderr,
                "note: {} baseline entr{} no longer match any finding (fixed or changed); run `temper check --write-baseline {shown}` to drop them",
                comparison.stale.len(),
                if comparison.stale.len() == 1 {
                    "y"
                } else {
                    "ies"
                }
            );
            for entry in &comparison.stale {
                let item = if entry.key.item.is_empty() {
                    String::new()
                } else {
                    format!(" in `{}`", entry.key.item)
                };
                let _ = writeln!(
                    stderr,
                    "note: stale baseline entry: {} at {}{item}: `{}`",
                    entry.key.lint, entry.key.path, entry.key.source
                );
            }
        }
    }
    let stdout = std::io::stdout().lock();
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, stdout);
    let written = write_findings(
        args,
        &findings,
        outcome.files_checked,
        &cwd,
        style,
        &mut stdout,
    );
    // A closed pipe (`temper check | head`) is not an error worth a message.
    match written.and_then(|()| stdout.flush().map_err(Output::Io)) {
        Ok(()) => {}
        Err(Output::Io(error)) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(Output::Io(error)) => {
            return usage_error(&format!("cannot write output: {error}"));
        }
        Err(Output::Usage(message)) => return usage_error(&message),
    }
    check_exit(
        outcome.incomplete,
        findings.iter().any(|f| f.level == Level::Deny),
    )
}

/// `check`'s exit code: 2 when something could not be checked, else 1 when
/// a reported finding is denied.
fn check_exit(incomplete: bool, denied: bool) -> ExitCode {
    if incomplete {
        ExitCode::from(2)
    } else if denied {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Why the findings were not all written.
enum Output {
    /// Before anything was written.
    Usage(String),
    Io(std::io::Error),
}

/// Writes the findings in the requested format, finding by finding: the
/// output of a large corpus is never held whole.
fn write_findings(
    args: &CheckArgs,
    findings: &[Reported],
    files_checked: usize,
    cwd: &Path,
    style: Style,
    out: &mut dyn Write,
) -> Result<(), Output> {
    let serialise = |e: serde_json::Error| Output::Usage(format!("cannot serialise findings: {e}"));
    let text = if args.statistics {
        let rows = formats::statistics::rows(findings);
        match args.format {
            Format::Json => serde_json::to_string_pretty(&rows)
                .map(|text| text + "\n")
                .map_err(serialise)?,
            Format::Human => formats::statistics::render(&rows, files_checked),
            // Checked before any work in `run_check`.
            Format::Sarif | Format::Github | Format::RustcJson => {
                return Err(Output::Usage(statistics_format_error()));
            }
        }
    } else {
        match args.format {
            Format::Human | Format::Json => {
                let format = match args.format {
                    Format::Json => report::Render::Json,
                    _ => report::Render::Human(style),
                };
                let mut printer = Printer::new(out, format, None);
                printer.print(findings);
                return printer.finish(files_checked).map_err(Output::Io);
            }
            Format::Sarif => formats::sarif::render(findings, cwd).map_err(serialise)? + "\n",
            Format::Github => {
                let mut text = formats::github::render(findings);
                text.push_str(&report::summary(findings, files_checked));
                text.push('\n');
                text
            }
            Format::RustcJson => formats::rustc_json::render(findings, cwd).map_err(serialise)?,
        }
    };
    out.write_all(text.as_bytes()).map_err(Output::Io)
}

/// `--add-suppressions`: writes a suppression comment above every finding,
/// file by file, atomically, and only into files unchanged since they were
/// read.
fn add_suppressions(cwd: &Path, findings: &[Reported]) -> ExitCode {
    let mut by_path: BTreeMap<&str, (&Reported, Vec<suppress::ToSuppress>)> = BTreeMap::new();
    for reported in findings {
        by_path
            .entry(reported.path.as_str())
            .or_insert_with(|| (reported, Vec::new()))
            .1
            .push(suppress::ToSuppress {
                lint: reported.finding.lint,
                offset: reported.finding.range.start,
            });
    }
    let mut files = 0;
    let mut comments = 0;
    let mut failed = false;
    for (path, (first, to_suppress)) in by_path {
        let (text, skipped) = suppress::add_comments(
            &first.source,
            &to_suppress,
            "TODO: fix or explain why this is fine",
        );
        if skipped > 0 {
            eprintln!(
                "warning: {path}: {skipped} finding(s) start inside a multi-line literal and cannot be suppressed by a comment"
            );
        }
        let Some(text) = text else {
            continue;
        };
        let absolute = cwd.join(path);
        match std::fs::read_to_string(&absolute) {
            Ok(on_disk) if *on_disk == *first.source => {}
            _ => {
                eprintln!("error: {path} changed while it was checked; not modified");
                failed = true;
                continue;
            }
        }
        if let Err(error) = baseline::write_atomic(&absolute, text.as_bytes()) {
            eprintln!("error: cannot write {path}: {error}");
            failed = true;
            continue;
        }
        files += 1;
        comments += text.lines().count() - first.source.lines().count();
    }
    eprintln!(
        "added {comments} suppression comment{} in {files} file{}",
        if comments == 1 { "" } else { "s" },
        if files == 1 { "" } else { "s" }
    );
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
}

fn explain(name: &str) -> ExitCode {
    // Diagnostics print the code `temper::library_unwrap`; accept it as is.
    let bare = name.strip_prefix("temper::").unwrap_or(name);
    match lint_name(bare) {
        Ok(name) => {
            let Some(text) = report::explain(name) else {
                return ExitCode::from(2);
            };
            print_out(&format!("{text}\n"))
        }
        Err(message) => match suppress::did_you_mean(bare) {
            Some(suggestion) => {
                usage_error(&format!("{message}\n  help: did you mean `{suggestion}`?"))
            }
            None => usage_error(&message),
        },
    }
}

fn list_lints() -> ExitCode {
    let width = suppress::all_lints()
        .map(|l| l.name.len())
        .max()
        .unwrap_or(0);
    let mut text = format!("{:width$}  {:5}  {:9}  summary\n", "lint", "level", "fix");
    for lint in suppress::all_lints() {
        text.push_str(&format!(
            "{:width$}  {:5}  {:9}  {}\n",
            lint.name,
            lint.default_level.as_str(),
            lint.fix.as_str(),
            lint.summary
        ));
    }
    print_out(&text)
}

/// Writes `text` to stdout: a reader that closed the pipe early (`temper
/// explain library_unwrap | head`) is not an error; another failure is.
fn print_out(text: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => usage_error(&format!("cannot write output: {error}")),
    }
}

#[cfg(not(all(feature = "wit", feature = "runtime")))]
fn unavailable(feature: &str, command: &str) -> ExitCode {
    usage_error(&format!(
        "`temper {command}` needs the `{feature}` feature; build with `cargo build --features {feature}` (or `cargo install --locked cargo-temper --features {feature}`)"
    ))
}

#[cfg(feature = "wit")]
fn run_wit(command: cli::WitCommand) -> ExitCode {
    match command {
        cli::WitCommand::Validate(args) => temper::wit::cli::run_validate(&args),
    }
}

#[cfg(not(feature = "wit"))]
fn run_wit(_: cli::WitCommand) -> ExitCode {
    unavailable("wit", "wit validate")
}

#[cfg(feature = "runtime")]
fn run_pool(command: cli::PoolCommand) -> ExitCode {
    match command {
        cli::PoolCommand::Bench(args) => match temper::pool::cli::run_bench(&args) {
            Ok(code) => code,
            Err(error) => {
                eprintln!("{:?}", miette::Report::new(error));
                ExitCode::from(2)
            }
        },
    }
}

#[cfg(not(feature = "runtime"))]
fn run_pool(_: cli::PoolCommand) -> ExitCode {
    unavailable("runtime", "pool bench")
}
