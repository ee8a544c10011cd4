//! `temper fix`: the fixpoint engine on synthetic fixes (overlaps, parse
//! guards, cross-file edits, the round cap, applicability), atomic writes, and
//! the real binary on small crates (the `?` fix of `library_unwrap`): `--diff`,
//! idempotence, read-only files, syntax errors, a file changed between read
//! and write, and `--verify` on a crate that does not compile.

use assert_cmd::Command;
use std::collections::HashMap;
use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use temper::check::CheckRequest;
use temper::fix::engine::{self, Engine, Rejection, SourceFile};
use temper::fix::{self, FixRequest, Hooks, Mode, verify, write};
use temper::report::{LineIndex, Reported};
use temper_lints::{Applicability, Edit, Finding, Fix, Level};

// ---------------------------------------------------------------------------
// The engine, on synthetic lints.

/// A finding at `range` whose fix replaces `edits`.
fn reported(
    text: &str,
    lint: &'static str,
    range: Range<usize>,
    applicability: Applicability,
    edits: Vec<Edit>,
) -> Reported {
    let finding = Finding::new(lint, range, format!("synthetic {lint}")).with_fix(Fix {
        message: "synthetic fix".to_string(),
        applicability,
        edits,
    });
    let source: Arc<str> = Arc::from(text);
    Reported::new(
        "mem.rs".to_string(),
        source,
        &LineIndex::new(text),
        Level::Warn,
        finding,
    )
}

/// Every `.unwrap()` becomes `?`, safely.
fn unwrap_lint(text: &str) -> Vec<Reported> {
    text.match_indices(".unwrap()")
        .map(|(at, m)| {
            let range = at..at + m.len();
            reported(
                text,
                "library_unwrap",
                range.clone(),
                Applicability::Safe,
                vec![Edit::replace(range, "?")],
            )
        })
        .collect()
}

fn source(path: &str, text: &str, findings: Vec<Reported>) -> SourceFile {
    SourceFile {
        path: PathBuf::from(path),
        display: path.trim_start_matches('/').to_string(),
        text: Arc::from(text),
        findings,
        base_dir: PathBuf::from("/crate"),
        blocked: None,
        parse_errors: None,
        edition: temper_lints::Edition::Edition2024,
    }
}

fn run_engine(
    threshold: Applicability,
    relint: &(dyn Fn(&Path, &str) -> Vec<Reported> + Sync),
    files: Vec<SourceFile>,
) -> engine::Fixpoint {
    let relint = |path: &Path,
                  text: &str,
                  _: &[(PathBuf, Arc<str>)],
                  _: &temper_lints::IndexCell| { relint(path, text) };
    Engine {
        threshold,
        max_rounds: engine::MAX_ROUNDS,
        relint: &relint,
    }
    .run(files, &HashMap::new())
}

#[test]
fn engine_applies_to_a_fixpoint_and_is_idempotent() {
    let text =
        "fn f(x: Option<u8>, y: Option<u8>) -> Option<u8> { Some(x.unwrap() + y.unwrap()) }\n";
    let relint = |_: &Path, t: &str| unwrap_lint(t);
    let first = run_engine(
        Applicability::Safe,
        &relint,
        vec![source("/crate/src/lib.rs", text, unwrap_lint(text))],
    );
    assert!(first.converged);
    assert_eq!(first.applied.len(), 2);
    assert_eq!(first.rounds, 1);
    let fixed = first.files[0].text.clone();
    assert_eq!(
        fixed,
        "fn f(x: Option<u8>, y: Option<u8>) -> Option<u8> { Some(x? + y?) }\n"
    );
    let second = run_engine(
        Applicability::Safe,
        &relint,
        vec![source("/crate/src/lib.rs", &fixed, unwrap_lint(&fixed))],
    );
    assert!(second.applied.is_empty());
    assert!(!second.files[0].changed());
}

#[test]
fn overlapping_fixes_take_two_rounds() {
    // `ab` → `AB` and `bc`/`Bc` → `BC` overlap on `b`: one per round.
    fn lint(text: &str) -> Vec<Reported> {
        let mut out = Vec::new();
        if let Some(at) = text.find("ab") {
            out.push(reported(
                text,
                "first",
                at..at + 2,
                Applicability::Safe,
                vec![Edit::replace(at..at + 2, "AB")],
            ));
        }
        if let Some(at) = text.find("bc").or_else(|| text.find("Bc")) {
            out.push(reported(
                text,
                "second",
                at..at + 2,
                Applicability::Safe,
                vec![Edit::replace(at..at + 2, "BC")],
            ));
        }
        out
    }
    let text = "// abc\n";
    let relint = |_: &Path, t: &str| lint(t);
    let result = run_engine(
        Applicability::Safe,
        &relint,
        vec![source("/crate/src/lib.rs", text, lint(text))],
    );
    assert!(result.converged);
    assert_eq!(result.files[0].text, "// ABC\n");
    assert_eq!(result.rounds, 2);
    let rounds: Vec<(&str, usize)> = result.applied.iter().map(|f| (f.lint, f.round)).collect();
    assert_eq!(rounds, [("first", 1), ("second", 2)]);
}

#[test]
fn identical_edits_are_shared() {
    // Two fixes that both add the same import go in one round, import once.
    fn lint(text: &str) -> Vec<Reported> {
        text.match_indices(".unwrap()")
            .map(|(at, _)| {
                reported(
                    text,
                    "library_unwrap",
                    at..at + 9,
                    Applicability::Safe,
                    vec![
                        Edit::insert(0, "use anyhow::Context;\n"),
                        Edit::replace(at..at + 9, ".context(\"x\")?"),
                    ],
                )
            })
            .collect()
    }
    let text = "fn f() -> anyhow::Result<()> { a.unwrap(); b.unwrap(); Ok(()) }\n";
    let relint = |_: &Path, t: &str| {
        if t.starts_with("use anyhow") {
            Vec::new()
        } else {
            lint(t)
        }
    };
    let result = run_engine(
        Applicability::Safe,
        &relint,
        vec![source("/crate/src/lib.rs", text, lint(text))],
    );
    assert_eq!(result.applied.len(), 2);
    assert_eq!(
        result.files[0].text,
        "use anyhow::Context;\nfn f() -> anyhow::Result<()> { a.context(\"x\")?; b.context(\"x\")?; Ok(()) }\n"
    );
}

#[test]
fn a_fix_that_breaks_parsing_is_refused() {
    fn lint(text: &str) -> Vec<Reported> {
        let Some(at) = text.find('}') else {
            return Vec::new();
        };
        vec![reported(
            text,
            "breaker",
            at..at + 1,
            Applicability::Safe,
            vec![Edit::delete(at..at + 1)],
        )]
    }
    let text = "fn f() {}\n";
    let relint = |_: &Path, t: &str| lint(t);
    let result = run_engine(
        Applicability::Safe,
        &relint,
        vec![source("/crate/src/lib.rs", text, lint(text))],
    );
    assert!(result.converged);
    assert!(!result.files[0].changed());
    assert!(result.applied.is_empty());
    assert!(
        result.rejected.values().any(|r| matches!(
            r,
            Rejection::ParseWorse {
                parser: "ra_ap_syntax",
                ..
            }
        )),
        "{:?}",
        result.rejected
    );
    assert_eq!(result.left.len(), 1);
    assert_eq!(result.left[0].reason, "fix would not parse");
}

#[test]
fn only_the_broken_files_round_is_dropped() {
    // One fix breaks a.rs; the fix in b.rs still applies.
    let a = "fn a() {}\n";
    let b = "fn b(x: Option<u8>) -> Option<u8> { x.unwrap(); None }\n";
    let breaker = reported(
        a,
        "breaker",
        8..9,
        Applicability::Safe,
        vec![Edit::delete(8..9)],
    );
    let relint = |path: &Path, t: &str| {
        if path.ends_with("b.rs") {
            unwrap_lint(t)
        } else {
            Vec::new()
        }
    };
    let result = run_engine(
        Applicability::Safe,
        &relint,
        vec![
            source("/crate/src/a.rs", a, vec![breaker]),
            source("/crate/src/b.rs", b, unwrap_lint(b)),
        ],
    );
    assert!(!result.files[0].changed());
    assert_eq!(
        result.files[1].text,
        "fn b(x: Option<u8>) -> Option<u8> { x?; None }\n"
    );
}

#[test]
fn cross_file_edits_apply_together() {
    // A fix in a.rs that also migrates a call site in b.rs (relative to the
    // package directory).
    let a = "pub fn f(x: &T) {}\n";
    let b = "fn g() { f(&t); }\n";
    let at = a.find("&T").unwrap_or(0);
    let call = b.find("&t").unwrap_or(0);
    let finding = reported(
        a,
        "arc_from_ptr_read",
        at..at + 2,
        Applicability::Safe,
        vec![
            Edit::replace(at..at + 2, "&Arc<T>"),
            Edit {
                file: Some(PathBuf::from("src/b.rs")),
                range: call..call + 2,
                replacement: "&arc".to_string(),
            },
        ],
    );
    let relint = |_: &Path, _: &str| Vec::new();
    let result = run_engine(
        Applicability::Safe,
        &relint,
        vec![
            source("/crate/src/a.rs", a, vec![finding.clone()]),
            source("/crate/src/b.rs", b, Vec::new()),
        ],
    );
    assert_eq!(result.files[0].text, "pub fn f(x: &Arc<T>) {}\n");
    assert_eq!(result.files[1].text, "fn g() { f(&arc); }\n");
    assert_eq!(result.applied.len(), 1);
    assert_eq!(result.applied[0].footprint.len(), 2);

    // With b.rs blocked (read-only), the whole fix is refused: never half.
    let mut blocked = source("/crate/src/b.rs", b, Vec::new());
    blocked.blocked = Some("file is read-only".to_string());
    let result = run_engine(
        Applicability::Safe,
        &relint,
        vec![source("/crate/src/a.rs", a, vec![finding]), blocked],
    );
    assert!(!result.files[0].changed());
    assert!(!result.files[1].changed());
}

#[test]
fn a_fix_that_never_settles_hits_the_cap() {
    fn lint(text: &str) -> Vec<Reported> {
        let at = text.find("a").unwrap_or(0);
        vec![reported(
            text,
            "grower",
            at..at + 1,
            Applicability::Safe,
            vec![Edit::replace(at..at + 1, "aa")],
        )]
    }
    let text = "// a\n";
    let relint = |_: &Path, t: &str| lint(t);
    let result = run_engine(
        Applicability::Safe,
        &relint,
        vec![source("/crate/src/lib.rs", text, lint(text))],
    );
    assert!(!result.converged);
    assert_eq!(result.rounds, engine::MAX_ROUNDS);
    assert!(result.left[0].reason.starts_with("not converged"));
}

#[test]
fn malformed_fixes_are_refused() {
    let text = "fn f() {}\n";
    let out_of_bounds = reported(
        text,
        "bad",
        0..1,
        Applicability::Safe,
        vec![Edit::replace(5..500, "x")],
    );
    let relint = |_: &Path, _: &str| Vec::new();
    let result = run_engine(
        Applicability::Safe,
        &relint,
        vec![source("/crate/src/lib.rs", text, vec![out_of_bounds])],
    );
    assert!(!result.files[0].changed());
    assert!(
        result
            .rejected
            .values()
            .any(|r| matches!(r, Rejection::Invalid(_)))
    );

    // A fix that changes nothing would be offered again every round.
    let no_op = reported(
        text,
        "bad",
        0..2,
        Applicability::Safe,
        vec![Edit::replace(0..2, "fn")],
    );
    let relint = |_: &Path, t: &str| {
        vec![reported(
            t,
            "bad",
            0..2,
            Applicability::Safe,
            vec![Edit::replace(0..2, "fn")],
        )]
    };
    let result = run_engine(
        Applicability::Safe,
        &relint,
        vec![source("/crate/src/lib.rs", text, vec![no_op])],
    );
    assert!(result.converged);
    assert_eq!(result.rounds, 0);
    assert_eq!(result.left[0].reason, "invalid fix");
}

#[test]
fn unsafe_fixes_need_the_flag() {
    fn lint(text: &str) -> Vec<Reported> {
        text.match_indices(".unwrap()")
            .map(|(at, _)| {
                reported(
                    text,
                    "library_unwrap",
                    at..at + 9,
                    Applicability::Unsafe,
                    vec![Edit::replace(at..at + 9, "?")],
                )
            })
            .collect()
    }
    let text = "fn f(x: Option<u8>) -> Option<u8> { x.unwrap(); None }\n";
    let relint = |_: &Path, t: &str| lint(t);
    let safe = run_engine(
        Applicability::Safe,
        &relint,
        vec![source("/crate/src/lib.rs", text, lint(text))],
    );
    assert!(!safe.files[0].changed());
    assert!(safe.left[0].unsafe_available);
    let with_unsafe = run_engine(
        Applicability::Unsafe,
        &relint,
        vec![source("/crate/src/lib.rs", text, lint(text))],
    );
    assert!(with_unsafe.files[0].changed());

    // Display-only fixes are never applied.
    let shown = reported(
        text,
        "library_unwrap",
        37..46,
        Applicability::DisplayOnly,
        vec![Edit::replace(37..46, "?")],
    );
    let display_only = run_engine(
        Applicability::Unsafe,
        &|_: &Path, _: &str| Vec::new(),
        vec![source("/crate/src/lib.rs", text, vec![shown])],
    );
    assert!(!display_only.files[0].changed());
}

#[test]
fn compile_errors_are_blamed_on_the_fix_that_touches_them() {
    let text = "fn a() { x?; }\nfn b() { y?; }\nfn c() { z; }\n";
    let fix = |lint: &'static str, range: Range<usize>| engine::AppliedFix {
        key: engine::FixKey {
            lint,
            file: PathBuf::from("/p/src/lib.rs"),
            message: String::new(),
            edits: Vec::new(),
        },
        lint,
        path: PathBuf::from("/p/src/lib.rs"),
        display: "src/lib.rs".to_string(),
        line: 1,
        column: 1,
        message: String::new(),
        level: Level::Warn,
        fix_message: String::new(),
        applicability: Applicability::Safe,
        round: 1,
        footprint: vec![(PathBuf::from("/p/src/lib.rs"), range)],
    };
    let applied = vec![fix("a", 10..11), fix("b", 25..26)];
    let texts: HashMap<PathBuf, &str> = HashMap::from([(PathBuf::from("/p/src/lib.rs"), text)]);
    let error = |range: Range<usize>| verify::CompilerError {
        code: Some("E0277".to_string()),
        message: "the `?` operator can only be used ...".to_string(),
        file: Some(PathBuf::from("/p/src/lib.rs")),
        range: Some(range),
        line: 1,
    };
    // On the edit.
    let blamed = verify::attribute(
        &error(9..11),
        &applied,
        &texts,
        Path::new("/p"),
        temper_lints::Edition::Edition2024,
    );
    assert_eq!(blamed.into_iter().collect::<Vec<_>>(), [0]);
    // Elsewhere in the same function as the second fix.
    let blamed = verify::attribute(
        &error(15..17),
        &applied,
        &texts,
        Path::new("/p"),
        temper_lints::Edition::Edition2024,
    );
    assert_eq!(blamed.into_iter().collect::<Vec<_>>(), [1]);
    // In a function no fix touched: the nearest one.
    let blamed = verify::attribute(
        &error(39..40),
        &applied,
        &texts,
        Path::new("/p"),
        temper_lints::Edition::Edition2024,
    );
    assert_eq!(blamed.into_iter().collect::<Vec<_>>(), [1]);
    // In another file of the package: every fix of the package.
    let mut elsewhere = error(0..1);
    elsewhere.file = Some(PathBuf::from("/p/src/other.rs"));
    let blamed = verify::attribute(
        &elsewhere,
        &applied,
        &texts,
        Path::new("/p"),
        temper_lints::Edition::Edition2024,
    );
    assert_eq!(blamed.len(), 2);
}

// ---------------------------------------------------------------------------
// Writing.

#[test]
fn writes_are_atomic_keep_permissions_and_check_the_disk() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("lib.rs");
    fs::write(&path, "old").expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
    }
    write::write_if_unchanged(&path, "lib.rs", b"old", "new", None).expect("written");
    assert_eq!(fs::read_to_string(&path).expect("read"), "new");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).expect("metadata").permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    // Changed between read and write: not written, and no temporary left.
    let swap = |p: &Path| fs::write(p, "someone else's edit").expect("swap");
    let error = write::write_if_unchanged(&path, "lib.rs", b"new", "newer", Some(&swap))
        .expect_err("refused");
    assert!(matches!(error, write::WriteError::ChangedOnDisk { .. }));
    assert_eq!(
        fs::read_to_string(&path).expect("read"),
        "someone else's edit"
    );
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .expect("list")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".temper-fix-"))
        .collect();
    assert!(leftovers.is_empty());

    // Read-only: refused even for root, who could write it.
    let mut permissions = fs::metadata(&path).expect("metadata").permissions();
    permissions.set_readonly(true);
    fs::set_permissions(&path, permissions).expect("chmod");
    let error = write::write_if_unchanged(&path, "lib.rs", b"someone else's edit", "mine", None)
        .expect_err("refused");
    assert!(matches!(error, write::WriteError::ReadOnly { .. }));
}

// ---------------------------------------------------------------------------
// End to end, on the `?` fix of `library_unwrap`.

const FALLIBLE: &str =
    "pub fn f(x: Option<u8>) -> Option<u8> {\n    let v = x.unwrap();\n    Some(v)\n}\n";
const FIXED: &str = "pub fn f(x: Option<u8>) -> Option<u8> {\n    let v = x?;\n    Some(v)\n}\n";

/// A library crate in a temporary directory with `src/lib.rs` = `lib`.
fn crate_with(lib: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"sample\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n",
    )
    .expect("manifest");
    fs::create_dir(dir.path().join("src")).expect("src");
    fs::write(dir.path().join("src/lib.rs"), lib).expect("lib.rs");
    dir
}

/// Appends `tables` (`[features]`, `[dependencies]`, ..) to the manifest of
/// a crate made by [`crate_with`].
fn append_to_manifest(dir: &Path, tables: &str) {
    let manifest = dir.join("Cargo.toml");
    let written = fs::read_to_string(&manifest).expect("manifest");
    fs::write(&manifest, format!("{written}\n{tables}")).expect("manifest");
}

fn temper(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("temper").expect("the temper binary is built for tests");
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("CLICOLOR_FORCE");
    cmd
}

fn lib(dir: &Path) -> String {
    fs::read_to_string(dir.join("src/lib.rs")).expect("src/lib.rs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

#[test]
fn fix_rewrites_unwrap_and_a_second_run_changes_nothing() {
    let dir = crate_with(FALLIBLE);
    let output = temper(dir.path()).arg("fix").output().expect("runs");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(lib(dir.path()), FIXED);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("fixed 1 in src/lib.rs (1 library_unwrap)"),
        "{stdout}"
    );
    assert!(stdout.contains("1 fixed, 0 left"), "{stdout}");

    let again = temper(dir.path()).arg("fix").output().expect("runs");
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(lib(dir.path()), FIXED);
    assert!(text(&again.stdout).contains("0 fixed, 0 left"));
}

#[test]
fn diff_prints_and_writes_nothing() {
    let dir = crate_with(FALLIBLE);
    let output = temper(dir.path())
        .args(["fix", "--diff"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert_eq!(lib(dir.path()), FALLIBLE);
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with("--- a/src/lib.rs\n+++ b/src/lib.rs\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("-    let v = x.unwrap();\n+    let v = x?;\n"),
        "{stdout}"
    );
    assert!(text(&output.stderr).contains("1 would be fixed"));

    // Nothing to change: exit 0, empty diff.
    let clean = crate_with(FIXED);
    let output = temper(clean.path())
        .args(["fix", "--diff"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout.is_empty());
}

#[test]
fn chained_fixes_end_to_end() {
    // Two edits that touch (`.unwrap()` twice in a row) are not an overlap:
    // both go in one round. The outer receiver's type is unknown, so its fix
    // is unsafe. (Edits that really overlap are tested on the engine above:
    // no lint emits them today.)
    let dir = crate_with(
        "pub fn f(x: Option<Option<u8>>) -> Option<u8> {\n    let v = x.unwrap().unwrap();\n    Some(v)\n}\n",
    );
    let output = temper(dir.path())
        .args(["fix", "--unsafe-fixes"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        lib(dir.path()),
        "pub fn f(x: Option<Option<u8>>) -> Option<u8> {\n    let v = x??;\n    Some(v)\n}\n"
    );
    assert!(text(&output.stdout).contains("2 fixed, 0 left"));
}

#[test]
fn read_only_files_are_not_written() {
    let dir = crate_with(FALLIBLE);
    let path = dir.path().join("src/lib.rs");
    let mut permissions = fs::metadata(&path).expect("metadata").permissions();
    permissions.set_readonly(true);
    fs::set_permissions(&path, permissions).expect("chmod");
    let output = temper(dir.path()).arg("fix").output().expect("runs");
    assert_eq!(lib(dir.path()), FALLIBLE);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("0 fixed, 1 left: 1 file is read-only"),
        "{stdout}"
    );
    // As the README promises: a file that could not be written is exit 2.
    assert_eq!(output.status.code(), Some(2), "{stdout}");
}

#[test]
fn files_with_syntax_errors_are_not_written() {
    let broken = format!("{FALLIBLE}\nfn g( {{\n");
    let dir = crate_with(&broken);
    let output = temper(dir.path()).arg("fix").output().expect("runs");
    assert_eq!(lib(dir.path()), broken);
    let stdout = text(&output.stdout);
    assert!(stdout.contains("file has syntax errors"), "{stdout}");
    assert!(stdout.contains("0 fixed"), "{stdout}");
    // Not written by design (like `check`, a note, not a failure): the
    // finding is a warning, so the run succeeds.
    assert_eq!(output.status.code(), Some(0), "{stdout}");
}

#[test]
fn a_file_changed_between_read_and_write_is_skipped() {
    let dir = crate_with(FALLIBLE);
    let path = dir.path().join("src/lib.rs");
    let edited = format!("{FALLIBLE}// edited meanwhile\n");
    let swap = |p: &Path| {
        if p.ends_with("src/lib.rs") {
            fs::write(p, &edited).expect("swap");
        }
    };
    let request = FixRequest {
        check: CheckRequest {
            paths: vec![dir.path().to_path_buf()],
            ..CheckRequest::default()
        },
        mode: Mode::Write,
        ..FixRequest::default()
    };
    let outcome = fix::run_with_hooks(
        &request,
        &Hooks {
            before_write: Some(&swap),
        },
    );
    assert_eq!(fs::read_to_string(&path).expect("read"), edited);
    assert_eq!(outcome.write_failures, 1);
    assert!(outcome.fixed.is_empty());
    assert_eq!(outcome.left.len(), 1);
    assert_eq!(outcome.left[0].reason, "file changed on disk");
    assert!(
        outcome
            .notes
            .iter()
            .any(|n| n.message.contains("changed on disk"))
    );
}

#[test]
fn verify_keeps_going_when_the_crate_does_not_compile_before() {
    let lib_rs = format!("{FALLIBLE}\npub fn broken() -> u8 {{\n    \"not a number\"\n}}\n");
    let dir = crate_with(&lib_rs);
    let output = temper(dir.path())
        .args(["fix", "--verify"])
        .output()
        .expect("runs");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("does not compile before fixing"),
        "{stderr}"
    );
    assert_eq!(
        lib(dir.path()),
        format!("{FIXED}\npub fn broken() -> u8 {{\n    \"not a number\"\n}}\n")
    );
    assert!(text(&output.stdout).contains("1 fixed"));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

/// A crate whose test targets fail before any fix (they need a feature):
/// cargo stops at the first failing target unless it keeps going, so which
/// errors it reports differs from run to run, and a correct fix was blamed
/// for errors in targets it never touched (tokio-util without `full`).
#[test]
fn verify_compares_every_target_of_a_crate_that_fails_before() {
    let dir = crate_with(
        "#[cfg(feature = \"full\")]\npub mod codec {}\n\npub fn first(v: &mut Vec<u32>) -> Option<u32> {\n    let x = v.pop().unwrap();\n    Some(x)\n}\n",
    );
    append_to_manifest(dir.path(), "[features]\nfull = []\n");
    fs::create_dir(dir.path().join("tests")).expect("tests");
    fs::write(
        dir.path().join("tests/require_full.rs"),
        "#[cfg(not(feature = \"full\"))]\ncompile_error!(\"run tests with --features full\");\n",
    )
    .expect("test target");
    for name in ["a", "b", "c", "d", "e", "f"] {
        fs::write(
            dir.path().join(format!("tests/{name}.rs")),
            "use sample::codec;\n",
        )
        .expect("test target");
    }
    let output = temper(dir.path())
        .args(["fix", "--verify"])
        .output()
        .expect("runs");
    let stdout = text(&output.stdout);
    assert!(
        lib(dir.path()).contains("    let x = v.pop()?;\n"),
        "{stdout}\n{}",
        text(&output.stderr)
    );
    assert!(!stdout.contains("reverted"), "{stdout}");
    assert!(stdout.contains("1 fixed"), "{stdout}");
}

/// A module a `cfg` leaves out on this host (kqueue code on Linux) is
/// compiled by no build here: `--verify` cannot vouch for a fix there, so
/// the fix is reverted with that reason, and the rest is kept.
#[test]
fn verify_reverts_fixes_in_files_this_host_does_not_compile() {
    let dir = crate_with(&format!(
        "#[cfg(target_os = \"none-such-os\")]\nmod other;\n\n{FALLIBLE}"
    ));
    fs::write(dir.path().join("src/other.rs"), FALLIBLE).expect("other.rs");
    let output = temper(dir.path())
        .args(["fix", "--verify"])
        .output()
        .expect("runs");
    let stdout = text(&output.stdout);
    assert!(lib(dir.path()).ends_with(FIXED), "{stdout}");
    assert_eq!(
        fs::read_to_string(dir.path().join("src/other.rs")).expect("read"),
        FALLIBLE
    );
    assert!(
        stdout.contains("src/other.rs is not compiled on this host"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 fixed, 1 left: 1 reverted by --verify"),
        "{stdout}"
    );
    assert_eq!(output.status.code(), Some(0), "{stdout}");
}

#[test]
fn library_fixes_use_only_the_dependencies_every_build_has() {
    // anyhow only as a dev-dependency (axum 0.8) and tracing only as an
    // optional one: library code cannot name either, so the migration
    // writes its own error type and no `anyhow::` or `tracing::`.
    let dir =
        crate_with("pub fn port(text: &str) -> u16 {\n    text.parse().expect(\"a port\")\n}\n");
    append_to_manifest(
        dir.path(),
        "[dependencies]\ntracing = { version = \"0.1\", optional = true }\n\n[dev-dependencies]\nanyhow = \"1\"\n",
    );
    let output = temper(dir.path())
        .args(["fix", "--unsafe-fixes", "--diff"])
        .output()
        .expect("runs");
    let diff = text(&output.stdout);
    assert!(diff.contains("pub struct UnexpectedError"), "{diff}");
    assert!(!diff.contains("anyhow"), "{diff}");
    assert!(!diff.contains("tracing"), "{diff}");
}

#[test]
fn verify_builds_with_the_features_it_is_given() {
    // A module behind a feature is compiled (and its fix kept) only when
    // `--verify` builds with that feature, as `cargo check --features` does.
    let dir = crate_with(&format!(
        "#[cfg(feature = \"extra\")]\nmod other;\n\n{FALLIBLE}"
    ));
    append_to_manifest(dir.path(), "[features]\nextra = []\n");
    fs::write(dir.path().join("src/other.rs"), FALLIBLE).expect("other.rs");
    let output = temper(dir.path())
        .args(["fix", "--verify", "--features", "extra"])
        .output()
        .expect("runs");
    let stdout = text(&output.stdout);
    assert!(lib(dir.path()).ends_with(FIXED), "{stdout}");
    assert!(
        fs::read_to_string(dir.path().join("src/other.rs"))
            .expect("read")
            .ends_with(FIXED),
        "{stdout}\n{}",
        text(&output.stderr)
    );
    assert!(stdout.contains("2 fixed, 0 left"), "{stdout}");
    assert_eq!(output.status.code(), Some(0), "{stdout}");

    // The flags are `--verify`'s: alone they are a usage error.
    let alone = temper(dir.path())
        .args(["fix", "--all-features"])
        .output()
        .expect("runs");
    assert_eq!(alone.status.code(), Some(2));
    assert!(
        text(&alone.stderr).contains("--verify"),
        "{}",
        text(&alone.stderr)
    );
}

#[test]
fn verify_reverts_a_fix_that_breaks_the_build() {
    // `?` on a `Result` inside a function returning `Option` does not
    // compile; without types the lint cannot know, so --verify must. The
    // same fix on the same line of another function is kept.
    let source = "fn parse() -> Result<u8, ()> {\n    Ok(1)\n}\n\npub fn f() -> Option<u8> {\n    let v = parse().unwrap();\n    Some(v)\n}\n\npub fn g(x: Option<u8>) -> Option<u8> {\n    let v = x.unwrap();\n    Some(v)\n}\n";
    let dir = crate_with(source);
    let output = temper(dir.path())
        .args(["fix", "--verify", "--unsafe-fixes"])
        .output()
        .expect("runs");
    let stdout = text(&output.stdout);
    let fixed = lib(dir.path());
    assert!(
        fixed.contains("pub fn f() -> Option<u8> {\n    let v = parse().unwrap();"),
        "{fixed}\n{stdout}\n{}",
        text(&output.stderr)
    );
    assert!(
        fixed.contains("pub fn g(x: Option<u8>) -> Option<u8> {\n    let v = x?;"),
        "{fixed}"
    );
    assert!(stdout.contains("reverted by --verify"), "{stdout}");
    assert!(stdout.contains("E0277"), "{stdout}");
    // A reverted fix is a finding left at level warn, not a failure.
    assert_eq!(output.status.code(), Some(0), "{stdout}");
}
