//! Lint fixtures in the style of clippy's UI tests.
//!
//! `fixtures/lints/<lint>/<case>.rs` marks each expected finding with a
//! trailing `//~ <lint>` comment on the line where the finding starts (or
//! `//~^ <lint>` for the line above). `<case>.stderr` holds the rendered
//! diagnostics, compared byte for byte; a case without findings has none.
//! `<case>.fixed` holds the text after applying every fix (safe and unsafe, as
//! `temper fix --unsafe-fixes` does) to a fixpoint; a case whose fixes change
//! nothing has none. `TEMPER_BLESS=1` rewrites the expected files: review the
//! diff.
//!
//! Besides the outputs, every case checks the fix invariants of DESIGN.md:
//! fixes converge within the round cap, the fixed text parses with both
//! `ra_ap_syntax` and `syn` (no worse than the input), no finding with an
//! applicable fix is left, a second pass changes nothing, no fix is refused as
//! malformed or unparsable, and the lint's declared fix availability matches
//! what it emitted.
//!
//! And, as clippy compiles its fixed UI tests, every case and every `.fixed`
//! output is type-checked by rustc (`--emit=metadata`, edition 2024) against
//! the stub crates in `fixtures/lint-stubs/` (the parts of tokio, anyhow, log,
//! tracing, futures, pollster and async-std the fixtures use, with their real
//! signatures and bounds): a case must be real code, and its fixes must keep
//! it compiling.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use temper::fix::engine::{self, Engine, Rejection, SourceFile};
use temper::fix::syntax;
use temper::report::LineIndex;
use temper::report::{Reported, Style, render_finding};
use temper_lints::{
    Applicability, CrateContext, CrateFacts, Edition, FixAvailability, LINTS, Logging, Options,
    registry,
};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

use crate::bless;

/// `// temper-facts: anyhow tracing` at the top of a fixture describes its crate.
fn facts(source: &str) -> CrateFacts {
    let mut facts = CrateFacts::default();
    for line in source
        .lines()
        .filter_map(|l| l.trim().strip_prefix("// temper-facts:"))
    {
        for word in line.split_whitespace() {
            match word {
                "anyhow" => facts.uses_anyhow = true,
                "eyre" => facts.uses_eyre = true,
                "tracing" => facts.logging = Logging::Tracing,
                "log" => facts.logging = Logging::Log,
                // `rust-version=1.60`: the package's `rust-version`.
                other if other.starts_with("rust-version=") => {
                    facts.rust_version =
                        temper::discover::parse_rust_version(&other["rust-version=".len()..]);
                    assert!(facts.rust_version.is_some(), "bad {other}");
                }
                other => panic!("unknown temper-facts word {other}"),
            }
        }
    }
    facts
}

/// (line, lint) pairs the fixture expects.
fn markers(source: &str) -> BTreeSet<(usize, String)> {
    let mut out = BTreeSet::new();
    for (index, line) in source.lines().enumerate() {
        let Some(pos) = line.find("//~") else {
            continue;
        };
        let rest = &line[pos + 3..];
        let carets = rest.chars().take_while(|&c| c == '^').count();
        for lint in rest[carets..].split_whitespace() {
            out.insert((index + 1 - carets, lint.to_string()));
        }
    }
    out
}

fn cases() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for lint in LINTS {
        let dir = root().join("fixtures/lints").join(lint.name);
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

fn check_case(path: &Path) -> Result<(), String> {
    let source = fs::read_to_string(path).map_err(|e| e.to_string())?;
    let display = relative(path);
    let findings =
        temper::single::check_source(&display, &source, &Options::default(), &facts(&source));
    let mut errors = Vec::new();

    for reported in &findings {
        let message = &reported.finding.message;
        // clippy's message convention: lowercase start, no trailing period.
        if message.starts_with(|c: char| c.is_uppercase()) || message.ends_with('.') {
            errors.push(format!(
                "message `{message}` must start lowercase and not end with a period"
            ));
        }
    }

    let found: BTreeSet<(usize, String)> = findings
        .iter()
        .map(|r| (r.start.line, r.finding.lint.to_string()))
        .collect();
    let expected = markers(&source);
    for missing in expected.difference(&found) {
        errors.push(format!(
            "expected {} at line {}, not reported",
            missing.1, missing.0
        ));
    }
    for extra in found.difference(&expected) {
        errors.push(format!("unexpected {} at line {}", extra.1, extra.0));
    }

    let rendered: String = findings
        .iter()
        .map(|r| render_finding(r, Style::plain()))
        .collect::<Vec<_>>()
        .join("\n");
    let stderr = path.with_extension("stderr");
    if bless() {
        if rendered.is_empty() {
            let _ = fs::remove_file(&stderr);
        } else {
            fs::write(&stderr, &rendered).map_err(|e| e.to_string())?;
        }
    } else {
        match fs::read_to_string(&stderr) {
            Ok(expected) if expected == rendered => {}
            Ok(expected) => errors.push(format!(
                "{} differs (TEMPER_BLESS=1 rewrites it)\n--- expected\n{expected}\n--- actual\n{rendered}",
                relative(&stderr)
            )),
            Err(_) if rendered.is_empty() => {}
            Err(_) => errors.push(format!("{} is missing; actual:\n{rendered}", relative(&stderr))),
        }
    }
    check_fixes(path, &display, &source, &mut errors)?;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{display}:\n  {}", errors.join("\n  ")))
    }
}

/// The findings of a case with their fixes completed as `temper fix` sees
/// them: the case is a crate of one file, so fixes that reach across files
/// (call sites, struct literals) are completed within it.
fn fix_findings(path: &Path, display: &str, text: &str, facts: &CrateFacts) -> Vec<Reported> {
    let mut analysis =
        temper_lints::analyze(text, Edition::Edition2024, &Options::default(), facts);
    let files = [(path.to_path_buf(), Arc::<str>::from(text))];
    temper_lints::complete_fixes(
        &mut analysis.findings,
        &CrateContext {
            file: path,
            files: &files,
            edition: Edition::Edition2024,
            facts: Some(facts),
            index: &Default::default(),
        },
    );
    let shared: Arc<str> = Arc::from(text);
    let index = LineIndex::new(text);
    analysis
        .findings
        .into_iter()
        .filter_map(|finding| {
            let level = registry::lint(finding.lint)?.default_level;
            Some(Reported::new(
                display.to_string(),
                shared.clone(),
                &index,
                level,
                finding,
            ))
        })
        .collect()
}

/// Applies every applicable fix of a case to a fixpoint, compares the result
/// with `<case>.fixed` and checks the fix invariants.
fn check_fixes(
    path: &Path,
    display: &str,
    source: &str,
    errors: &mut Vec<String>,
) -> Result<(), String> {
    let facts = facts(source);
    let findings = fix_findings(path, display, source, &facts);
    let relint = |_: &Path,
                  text: &str,
                  _: &[(PathBuf, Arc<str>)],
                  _: &temper_lints::IndexCell|
     -> Vec<Reported> { fix_findings(path, display, text, &facts) };
    let engine = Engine {
        threshold: Applicability::Unsafe,
        max_rounds: engine::MAX_ROUNDS,
        relint: &relint,
    };

    for reported in &findings {
        let Some(lint) = registry::lint(reported.finding.lint) else {
            continue;
        };
        let line = reported.start.line;
        match (lint.fix, &reported.finding.fix) {
            (FixAvailability::None, Some(_)) => errors.push(format!(
                "{} declares no fixes but offers one at line {line}",
                lint.name
            )),
            (FixAvailability::Always, None) => errors.push(format!(
                "{} declares a fix for every finding but offers none at line {line}",
                lint.name
            )),
            _ => {}
        }
    }

    let input_ra = syntax::ra_parse(source, Edition::Edition2024).errors;
    let input_syn = syntax::syn_parse(source).is_ok();
    let file = |text: &str, findings: Vec<Reported>| SourceFile {
        path: path.to_path_buf(),
        display: display.to_string(),
        text: Arc::from(text),
        findings,
        base_dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        blocked: None,
        parse_errors: None,
        edition: Edition::Edition2024,
    };
    let first = engine.run(vec![file(source, findings)], &HashMap::new());
    let fixed = first
        .files
        .first()
        .map(|f| f.text.clone())
        .unwrap_or_default();

    if !first.converged {
        errors.push(format!(
            "fixes did not converge within {} rounds",
            engine::MAX_ROUNDS
        ));
    }
    for rejection in first.rejected.values() {
        if matches!(
            rejection,
            Rejection::ParseWorse { .. } | Rejection::Invalid(_)
        ) {
            errors.push(format!("a fix was refused: {}", rejection.detail()));
        }
    }
    let fixed_ra = syntax::ra_parse(&fixed, Edition::Edition2024);
    if fixed_ra.errors > input_ra {
        errors.push(format!(
            "the fixed text has {} ra_ap_syntax errors, the input {input_ra}: {}",
            fixed_ra.errors,
            fixed_ra.first.unwrap_or_default()
        ));
    }
    if input_syn && let Err(message) = syntax::syn_parse(&fixed) {
        errors.push(format!("the fixed text does not parse with syn: {message}"));
    }
    let again = fix_findings(path, display, &fixed, &facts);
    for reported in &again {
        if reported
            .finding
            .fix
            .as_ref()
            .is_some_and(|fix| fix.applicability != Applicability::DisplayOnly)
        {
            errors.push(format!(
                "after fixing, {} at line {} still has an applicable fix",
                reported.finding.lint, reported.start.line
            ));
        }
    }
    let second = engine.run(vec![file(&fixed, again)], &HashMap::new());
    if second.files.first().is_some_and(|f| f.changed()) || !second.applied.is_empty() {
        errors.push("a second fix pass changed the fixed text".to_string());
    }

    let expected_path = path.with_extension("fixed");
    let changed = fixed != source;
    if bless() {
        if changed {
            fs::write(&expected_path, &fixed).map_err(|e| e.to_string())?;
        } else {
            let _ = fs::remove_file(&expected_path);
        }
        return Ok(());
    }
    match fs::read_to_string(&expected_path) {
        Ok(expected) if !changed => errors.push(format!(
            "{} exists but fixes change nothing (TEMPER_BLESS=1 removes it); expected:\n{expected}",
            relative(&expected_path)
        )),
        Ok(expected) if expected == fixed => {}
        Ok(expected) => errors.push(format!(
            "{} differs (TEMPER_BLESS=1 rewrites it)\n{}",
            relative(&expected_path),
            similar::TextDiff::from_lines(&expected, &fixed)
                .unified_diff()
                .header("expected", "actual")
        )),
        Err(_) if !changed => {}
        Err(_) => errors.push(format!(
            "{} is missing; actual:\n{fixed}",
            relative(&expected_path)
        )),
    }
    Ok(())
}

#[test]
fn lint_fixtures_match() {
    let cases = cases();
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| check_case(case).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Builds the stub crates into `dir` and returns their `--extern` flags.
fn build_stubs(rustc: &std::ffi::OsStr, dir: &Path) -> Vec<String> {
    let stubs = root().join("fixtures/lint-stubs");
    let mut names: Vec<String> = fs::read_dir(&stubs)
        .expect("fixtures/lint-stubs")
        .flatten()
        .filter_map(|e| {
            let path = e.path();
            (path.extension()? == "rs").then(|| path.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    names.sort();
    let mut externs = Vec::new();
    for name in names {
        let out = dir.join(format!("lib{name}.rmeta"));
        let status = std::process::Command::new(rustc)
            .args([
                "--edition",
                "2021",
                "--crate-type",
                "rlib",
                "--emit=metadata",
            ])
            .args(["--cap-lints", "allow", "--crate-name", &name, "-o"])
            .arg(&out)
            .arg(stubs.join(format!("{name}.rs")))
            .output()
            .expect("run rustc");
        assert!(
            status.status.success(),
            "fixtures/lint-stubs/{name}.rs does not compile:\n{}",
            String::from_utf8_lossy(&status.stderr)
        );
        externs.push(format!("{name}={}", out.display()));
    }
    externs
}

/// rustc's errors for one file, or `None` when it type-checks.
fn compile_errors(
    rustc: &std::ffi::OsStr,
    externs: &[String],
    out_dir: &Path,
    file: &Path,
) -> Option<String> {
    let out = out_dir.join(format!("{}.rmeta", relative(file).replace(['/', '.'], "_")));
    let mut command = std::process::Command::new(rustc);
    command
        .args([
            "--edition",
            "2024",
            "--crate-type",
            "lib",
            "--emit=metadata",
        ])
        .args(["--crate-name", "fixture", "--cap-lints", "allow", "-o"])
        .arg(&out)
        .arg("-L")
        .arg(out_dir);
    for krate in externs {
        command.arg("--extern").arg(krate);
    }
    let output = command.arg(file).output().expect("run rustc");
    if output.status.success() {
        return None;
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The errors without rustc's closing summary.
    let errors: String = stderr
        .split("\n\n")
        .filter(|block| block.starts_with("error") && !block.starts_with("error: aborting"))
        .take(3)
        .collect::<Vec<_>>()
        .join("\n\n");
    Some(format!("{}:\n{errors}", relative(file)))
}

/// Every case is real code, and every `.fixed` output still compiles: a fix
/// that breaks the build would fail here before any user runs it.
#[test]
fn cases_and_fixed_outputs_compile() {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let dir = tempfile::tempdir().expect("tempdir");
    let externs = build_stubs(&rustc, dir.path());
    let mut files: Vec<PathBuf> = Vec::new();
    for case in cases() {
        let fixed = case.with_extension("fixed");
        files.push(case);
        if fixed.exists() {
            files.push(fixed);
        }
    }
    assert!(
        files
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "fixed")),
        "no .fixed outputs found"
    );
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(file) = files.get(at) else {
                        break;
                    };
                    if let Some(errors) = compile_errors(&rustc, &externs, dir.path(), file) {
                        failures
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push(errors);
                    }
                }
            });
        }
    });
    let mut failures = failures
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} files do not compile (a case must be real code, and its fixes must keep it \
         compiling; a case that uses more of a crate than fixtures/lint-stubs/ declares needs \
         the stub extended, with the real signature):\n\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}

#[test]
fn every_lint_has_failing_and_passing_fixtures() {
    for lint in LINTS {
        let dir = root().join("fixtures/lints").join(lint.name);
        let cases: Vec<PathBuf> = cases()
            .into_iter()
            .filter(|c| c.starts_with(&dir))
            .collect();
        let with_findings = cases
            .iter()
            .filter(|c| fs::read_to_string(c).is_ok_and(|s| s.contains("//~")))
            .count();
        assert!(
            with_findings > 0,
            "{} has no fixture with expected findings",
            lint.name
        );
        assert!(
            cases.len() > with_findings,
            "{} has no false-positive (clean) fixture",
            lint.name
        );
    }
}

#[test]
fn no_orphan_expected_files() {
    let Ok(lint_dirs) = fs::read_dir(root().join("fixtures/lints")) else {
        return;
    };
    for dir in lint_dirs.flatten() {
        let name = dir.file_name().to_string_lossy().to_string();
        assert!(
            LINTS.iter().any(|l| l.name == name),
            "fixtures/lints/{name} names no registered lint"
        );
        for entry in fs::read_dir(dir.path()).into_iter().flatten().flatten() {
            let path = entry.path();
            if path
                .extension()
                .is_some_and(|e| e == "stderr" || e == "fixed")
            {
                assert!(
                    path.with_extension("rs").exists(),
                    "{} has no .rs case",
                    relative(&path)
                );
            }
        }
    }
}

#[test]
fn docs_have_required_sections() {
    for lint in LINTS {
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Use instead",
            "## Fix safety",
        ] {
            assert!(
                lint.docs.contains(section),
                "{} docs lack `{section}`",
                lint.name
            );
        }
        assert!(
            !lint.summary.ends_with('.'),
            "{} summary ends with a period",
            lint.name
        );
    }
}

#[test]
fn registry_is_alphabetical_and_snake_case() {
    let names: Vec<&str> = LINTS.iter().map(|l| l.name).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    for name in names {
        assert!(
            name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{name} is not snake_case"
        );
    }
}
