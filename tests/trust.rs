//! Issue 15 on the real binary: each test reproduces a defect a new user hit
//! (lost work, suppressions, configuration, level flags, reports, README) and
//! asserts the exit code and the output people rely on.

use crate::gate::{readme_blocks, run, sample_crate_with, stderr, stdout};
use std::fs;
use std::path::Path;

/// One `library_unwrap` finding (line 2) in a function without a fallible
/// return type, so it has no fix.
const UNWRAP: &str = "pub fn f(x: Option<u8>) -> u8 {\n    x.unwrap()\n}\n";

fn write(path: &Path, text: &str) {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).expect("mkdir");
    }
    fs::write(path, text).expect("write");
}

fn code(output: &std::process::Output) -> Option<i32> {
    output.status.code()
}

// ------------------------------------------------------ never lose work

#[test]
fn write_baseline_refuses_to_overwrite_a_file_that_is_not_a_baseline() {
    let dir = sample_crate_with(UNWRAP);
    let output = run(
        dir.path(),
        &["check", ".", "--write-baseline", "src/lib.rs"],
    );
    assert_eq!(code(&output), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("refusing to overwrite src/lib.rs: it is not a temper baseline"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("src/lib.rs")).expect("lib"),
        UNWRAP
    );

    // Reading a manifest as a baseline: an error that does not suggest
    // overwriting it.
    let output = run(dir.path(), &["check", "--baseline", "Cargo.toml"]);
    assert_eq!(code(&output), Some(2));
    let err = stderr(&output);
    assert!(err.contains("Cargo.toml is not a temper baseline"), "{err}");
    assert!(!err.contains("--write-baseline Cargo.toml"), "{err}");

    // A baseline is replaced in place, atomically: no temporary file left.
    for _ in 0..2 {
        let output = run(dir.path(), &["check", "--write-baseline", "base.json"]);
        assert_eq!(code(&output), Some(0), "{}", stderr(&output));
        assert!(stderr(&output).contains("wrote 1 finding to baseline base.json"));
    }
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
        .filter(|n| !n.starts_with(".temper-cache"))
        .collect();
    names.sort();
    assert_eq!(names, ["Cargo.toml", "base.json", "src"]);
}

#[test]
fn nonsensical_flag_combinations_are_usage_errors() {
    let dir = sample_crate_with(UNWRAP);
    for args in [
        &[
            "check",
            "--write-baseline",
            "b.json",
            "--changed-since",
            "HEAD",
        ][..],
        &["check", "--write-baseline", "b.json", "--statistics"],
        &["check", "--add-suppressions", "--baseline", "b.json"],
        &["check", "--add-suppressions", "--statistics"],
    ] {
        let output = run(dir.path(), args);
        assert_eq!(code(&output), Some(2), "{args:?}: {}", stderr(&output));
        assert!(
            stderr(&output).contains("cannot be used with"),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(!dir.path().join("b.json").exists(), "{args:?}");
    }
    assert_eq!(
        fs::read_to_string(dir.path().join("src/lib.rs")).expect("lib"),
        UNWRAP
    );
}

/// A reviewed suppression above a rustfmt-style chain whose `.unwrap()` is
/// four lines down.
const CHAIN: &str = "pub fn total(v: &[Option<u32>]) -> u32 {
    // temper: allow(library_unwrap) -- reviewed: inputs are validated upstream
    let total = v
        .iter()
        .copied()
        .sum::<Option<u32>>()
        .unwrap();
    total
}

// temper: allow(library_unwrap) -- reviewed: covers the whole item
pub fn first(v: &[u8]) -> u8 {
    let x = v.first();
    *x
        .unwrap()
}
";

#[test]
fn suppression_above_a_statement_or_item_covers_all_of_it() {
    let dir = sample_crate_with(CHAIN);
    let output = run(dir.path(), &["check"]);
    assert_eq!(code(&output), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("no problems found in 1 file"),
        "{}",
        stdout(&output)
    );
    let output = run(dir.path(), &["fix"]);
    assert_eq!(code(&output), Some(0), "{}", stdout(&output));
    assert_eq!(
        fs::read_to_string(dir.path().join("src/lib.rs")).expect("lib"),
        CHAIN
    );
}

#[test]
fn a_reasoned_suppression_is_never_removed_by_a_safe_fix() {
    let reasoned = "// temper: allow(library_unwrap) -- reviewed: kept for the cfg(feature) build\npub fn clean() {}\n";
    let dir = sample_crate_with(reasoned);
    let output = run(dir.path(), &["check"]);
    assert_eq!(code(&output), Some(0));
    assert!(stdout(&output).contains("unused suppression of `library_unwrap`"));
    assert!(
        stdout(&output).contains("the comment gives a reason: removing it is an unsafe fix"),
        "{}",
        stdout(&output)
    );
    let output = run(dir.path(), &["fix"]);
    assert_eq!(code(&output), Some(0));
    assert!(
        stdout(&output).contains("0 fixed, 1 left"),
        "{}",
        stdout(&output)
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("src/lib.rs")).expect("lib"),
        reasoned
    );
    let output = run(dir.path(), &["fix", "--unsafe-fixes"]);
    assert_eq!(code(&output), Some(0));
    assert_eq!(
        fs::read_to_string(dir.path().join("src/lib.rs")).expect("lib"),
        "pub fn clean() {}\n"
    );
}

#[test]
fn a_misspelt_lint_in_a_suppression_gets_did_you_mean() {
    let dir = sample_crate_with("// temper: allow(libary_unwrap) -- legacy\npub fn clean() {}\n");
    let output = run(dir.path(), &["check"]);
    assert_eq!(code(&output), Some(0));
    let out = stdout(&output);
    assert!(
        out.contains("suppression of unknown lint `libary_unwrap`"),
        "{out}"
    );
    assert!(out.contains("did you mean `library_unwrap`?"), "{out}");
    assert!(!out.contains("remove the suppression comment"), "{out}");
}

// ------------------------------------------ one answer, however it is run

#[test]
fn clippy_allow_reaches_modules_in_other_files() {
    let dir = sample_crate_with("#![allow(clippy::unwrap_used)]\npub mod config;\n");
    write(&dir.path().join("src/config.rs"), UNWRAP);
    let output = run(dir.path(), &["check"]);
    assert_eq!(code(&output), Some(0));
    assert!(
        stdout(&output).contains("no problems found in 2 files"),
        "{}",
        stdout(&output)
    );

    // On the `mod` declaration: that subtree only.
    let dir = sample_crate_with("#[allow(clippy::unwrap_used)]\npub mod config;\npub mod other;\n");
    write(&dir.path().join("src/config.rs"), "pub mod deep;\n");
    write(&dir.path().join("src/config/deep.rs"), UNWRAP);
    write(&dir.path().join("src/other.rs"), UNWRAP);
    let output = run(dir.path(), &["check", "--format", "json"]);
    let findings: Vec<serde_json::Value> = serde_json::from_str(&stdout(&output)).expect("json");
    let paths: Vec<&str> = findings.iter().filter_map(|f| f["path"].as_str()).collect();
    assert_eq!(paths, ["src/other.rs"]);
}

/// A workspace whose root `temper.toml` allows `library_unwrap` while the
/// member's own `temper.toml` denies it.
fn nested_configs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        &dir.path().join("Cargo.toml"),
        "[workspace]\nmembers = [\"member\"]\nresolver = \"2\"\n",
    );
    write(
        &dir.path().join("temper.toml"),
        "[lints]\nlibrary_unwrap = \"allow\"\n",
    );
    write(
        &dir.path().join("member/Cargo.toml"),
        "[package]\nname = \"member\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(
        &dir.path().join("member/temper.toml"),
        "[lints]\nlibrary_unwrap = \"deny\"\n",
    );
    write(&dir.path().join("member/src/lib.rs"), UNWRAP);
    dir
}

#[test]
fn the_nearest_configuration_applies_whatever_path_is_given() {
    let dir = nested_configs();
    for (cwd, path) in [
        (dir.path().to_path_buf(), "."),
        (dir.path().to_path_buf(), "member/src/lib.rs"),
        (dir.path().join("member"), "src/lib.rs"),
        (dir.path().join("member/src"), "lib.rs"),
    ] {
        let output = run(&cwd, &["check", path]);
        assert_eq!(code(&output), Some(1), "{path}: {}", stdout(&output));
        assert!(
            stdout(&output).contains("1 error, 0 warnings in 1 file"),
            "{path}: {}",
            stdout(&output)
        );
    }
}

#[test]
fn a_file_no_mod_reaches_is_skipped_also_when_named() {
    let dir = sample_crate_with("pub fn clean() {}\n");
    write(&dir.path().join("src/orphan.rs"), UNWRAP);
    let walked = run(dir.path(), &["check"]);
    assert_eq!(code(&walked), Some(0));
    let named = run(dir.path(), &["check", "src/orphan.rs"]);
    assert_eq!(code(&named), Some(0), "{}", stdout(&named));
    assert!(
        stdout(&named).contains("no problems found in 0 files"),
        "{}",
        stdout(&named)
    );
    assert!(
        stderr(&named).contains("not checked: no target of package `sample` compiles this file"),
        "{}",
        stderr(&named)
    );
}

#[test]
fn level_flags_apply_in_order_as_in_rustc() {
    let dir = sample_crate_with(UNWRAP);
    let cases: [(&[&str], i32, &str); 6] = [
        (
            &["-W", "library_unwrap", "-A", "library_unwrap"],
            0,
            "no problems found",
        ),
        (
            &["-D", "library_unwrap", "-A", "library_unwrap"],
            0,
            "no problems found",
        ),
        (
            &["-A", "library_unwrap", "-D", "library_unwrap"],
            1,
            "1 error",
        ),
        (&["-A", "warnings"], 0, "no problems found"),
        (&["-A", "warnings", "-D", "library_unwrap"], 1, "1 error"),
        (
            &["-D", "warnings", "-A", "warnings"],
            0,
            "no problems found",
        ),
    ];
    for (flags, expected, summary) in cases {
        let mut args = vec!["check"];
        args.extend_from_slice(flags);
        let output = run(dir.path(), &args);
        assert_eq!(
            code(&output),
            Some(expected),
            "{flags:?}: {}",
            stdout(&output)
        );
        assert!(
            stdout(&output).contains(summary),
            "{flags:?}: {}",
            stdout(&output)
        );
    }
}

#[test]
fn options_have_one_kebab_case_spelling_in_explain_and_configuration() {
    let dir = sample_crate_with(UNWRAP);
    for (lint, section) in [
        ("library_unwrap", "library_unwrap"),
        ("drop_without_async_cleanup", "drop_without_async_cleanup"),
    ] {
        let output = run(dir.path(), &["explain", lint]);
        assert_eq!(code(&output), Some(0));
        let text = stdout(&output);
        let options = text.split("## Options").nth(1).expect("an Options section");
        let names: Vec<&str> = options
            .lines()
            .filter_map(|l| l.strip_prefix("- `"))
            .filter_map(|l| l.split('`').next())
            .collect();
        assert!(!names.is_empty(), "{text}");
        // Every option explain lists is accepted, as spelt, by temper.toml.
        let mut config = format!("[{section}]\n");
        for name in &names {
            assert!(!name.contains('_'), "{name} is not kebab-case");
            let value = if *name == "allow-lock-results" {
                "true"
            } else {
                "[\"x\"]"
            };
            config.push_str(&format!("{name} = {value}\n"));
        }
        write(&dir.path().join("temper.toml"), &config);
        let output = run(dir.path(), &["check"]);
        assert_eq!(code(&output), Some(0), "{config}\n{}", stderr(&output));
    }
}

#[test]
fn both_temper_toml_and_workspace_metadata_get_a_warning() {
    let dir = sample_crate_with(UNWRAP);
    write(
        &dir.path().join("Cargo.toml"),
        "[package]\nname = \"sample\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [workspace]\n\n[workspace.metadata.temper]\nexclude = [\"src/**\"]\n",
    );
    write(
        &dir.path().join("temper.toml"),
        "[lints]\nlibrary_unwrap = \"warn\"\n",
    );
    let output = run(dir.path(), &["check"]);
    assert_eq!(code(&output), Some(0));
    let err = stderr(&output);
    assert!(
        err.contains(
            "both temper.toml and a `metadata.temper` table in Cargo.toml configure temper;"
        ) && err.contains("is ignored"),
        "{err}"
    );
    // Warned once, not per file.
    assert_eq!(err.matches("configure temper").count(), 1, "{err}");
}

#[test]
fn the_cache_lands_in_the_workspace_root_not_the_current_directory() {
    let dir = sample_crate_with(UNWRAP);
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let output = run(elsewhere.path(), &["check", &dir.path().to_string_lossy()]);
    assert_eq!(code(&output), Some(0));
    assert!(dir.path().join(".temper-cache").is_dir());
    assert!(!elsewhere.path().join(".temper-cache").exists());
}

// ----------------------------------------------- reports that say what is true

#[test]
fn statistics_count_safe_fixes_respect_the_format_and_speak_on_clean_code() {
    // Its only fix (removing a reasoned suppression) is unsafe.
    let dir =
        sample_crate_with("// temper: allow(library_unwrap) -- reviewed\npub fn clean() {}\n");
    let output = run(dir.path(), &["check", "--statistics"]);
    assert_eq!(code(&output), Some(0));
    assert_eq!(
        stdout(&output),
        "1  unused_suppression  warn  0 fixable (1 more with --unsafe-fixes)\n"
    );
    let output = run(dir.path(), &["check", "--statistics", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("json");
    assert_eq!(rows[0]["fixable"], 0);
    assert_eq!(rows[0]["unsafe_fixable"], 1);
    for format in ["sarif", "github", "rustc-json"] {
        let output = run(dir.path(), &["check", "--statistics", "--format", format]);
        assert_eq!(code(&output), Some(2), "{format}");
        assert_eq!(stdout(&output), "", "{format}");
        assert!(stderr(&output).contains("`--statistics` prints a table"));
    }
    let clean = sample_crate_with("pub fn clean() {}\n");
    let output = run(clean.path(), &["check", "--statistics"]);
    assert_eq!(code(&output), Some(0));
    assert_eq!(stdout(&output), "no findings in 1 file\n");
}

/// A stale suppression (removed by a safe fix) above a finding with no fix.
const SHIFTED: &str = "// temper: allow(arc_from_ptr_read)\n// temper: allow(drop_without_async_cleanup)\npub fn f(x: Option<u8>) -> u8 {\n    x.unwrap()\n}\n";

#[test]
fn fix_diff_reports_left_findings_where_they_are_on_disk_and_fails_on_denied() {
    let dir = sample_crate_with(SHIFTED);
    let output = run(dir.path(), &["fix", "--diff"]);
    let err = stderr(&output);
    assert!(err.contains("left src/lib.rs:4:7: library_unwrap"), "{err}");
    assert!(stdout(&output).contains("-// temper: allow(arc_from_ptr_read)"));
    // A diff is a failure for CI, as the help says.
    assert_eq!(code(&output), Some(1));

    // No change to make, but a denied finding left: exit 1, as `fix` would.
    let dir = sample_crate_with(UNWRAP);
    let output = run(dir.path(), &["fix", "--diff", "-D", "library_unwrap"]);
    assert_eq!(stdout(&output), "");
    assert_eq!(code(&output), Some(1), "{}", stderr(&output));
    let output = run(dir.path(), &["fix", "--diff"]);
    assert_eq!(code(&output), Some(0));
    let help = run(dir.path(), &["fix", "--help"]);
    assert!(stdout(&help).contains(
        "1  findings at level deny are left after fixing; with --diff, also when\n     there would be changes"
    ));
}

#[test]
fn rustc_json_has_the_package_edition_and_the_target_that_compiles_the_file() {
    let dir = sample_crate_with("pub fn clean() {}\n");
    write(
        &dir.path().join("Cargo.toml"),
        "[package]\nname = \"sample\"\nversion = \"0.1.0\"\nedition = \"2018\"\n",
    );
    write(&dir.path().join("src/main.rs"), "mod cli;\nfn main() {}\n");
    write(
        &dir.path().join("src/cli.rs"),
        "// temper: allow(arc_from_ptr_read)\npub fn f() {}\n",
    );
    write(&dir.path().join("src/lib.rs"), UNWRAP);
    let output = run(dir.path(), &["check", "--format", "rustc-json"]);
    let messages: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .filter(|m: &serde_json::Value| m["reason"] == "compiler-message")
        .collect();
    assert_eq!(messages.len(), 2, "{}", stdout(&output));
    for message in &messages {
        assert_eq!(message["target"]["edition"], "2018");
        let file = message["message"]["spans"][0]["file_name"]
            .as_str()
            .expect("file");
        let kind = &message["target"]["kind"][0];
        match file {
            "src/cli.rs" => assert_eq!(kind, "bin", "{message}"),
            "src/lib.rs" => assert_eq!(kind, "lib", "{message}"),
            other => panic!("{other}"),
        }
    }
}

#[test]
fn notes_name_files_as_headers_do() {
    let output = run(
        &crate::gate::root(),
        &["check", "fixtures/workspace", "--format", "json"],
    );
    let findings: Vec<serde_json::Value> = serde_json::from_str(&stdout(&output)).expect("json");
    let notes: Vec<&str> = findings
        .iter()
        .flat_map(|f| f["notes"].as_array().into_iter().flatten())
        .filter_map(|n| n.as_str())
        .filter(|n| n.contains("cli_only.rs:"))
        .collect();
    assert!(!notes.is_empty());
    for note in notes {
        assert!(
            note.contains("fixtures/workspace/pool-core/src/cli_only.rs:18:39"),
            "{note}"
        );
    }
}

#[test]
fn explain_accepts_the_diagnostic_code_and_prints_one_heading() {
    let dir = sample_crate_with(UNWRAP);
    let output = run(dir.path(), &["explain", "temper::library_unwrap"]);
    assert_eq!(code(&output), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("# library_unwrap\n\nDefault level: warn."),
        "{text}"
    );
    assert_eq!(text.matches("# library_unwrap").count(), 1, "{text}");
    let output = run(dir.path(), &["explain", "libary_unwrap"]);
    assert_eq!(code(&output), Some(2));
    assert!(stderr(&output).contains("did you mean `library_unwrap`?"));
}

#[test]
fn editing_the_comment_on_a_findings_line_keeps_it_in_the_baseline() {
    let dir = sample_crate_with(
        "pub fn f(x: Option<u8>) -> u8 {\n    x.unwrap() // TODO: handle None\n}\n",
    );
    let output = run(
        dir.path(),
        &["check", "--write-baseline", "base.json", "-D", "warnings"],
    );
    assert_eq!(code(&output), Some(0));
    write(
        &dir.path().join("src/lib.rs"),
        "pub fn f(x: Option<u8>) -> u8 {\n    x.unwrap() // never None: checked by the caller\n}\n",
    );
    let output = run(
        dir.path(),
        &["check", "--baseline", "base.json", "-D", "warnings"],
    );
    assert_eq!(code(&output), Some(0), "{}", stdout(&output));
    assert!(stderr(&output).contains("1 finding matched the baseline"));
}

// ------------------------------------------------------------------ README

#[test]
fn readme_pre_commit_snippet_runs_serially() {
    let blocks = readme_blocks();
    let local = &blocks
        .iter()
        .find(|(info, body)| info == "yaml" && body.contains("repo: local"))
        .expect("the local pre-commit snippet")
        .1;
    assert!(local.contains("require_serial: true"), "{local}");
}

#[test]
fn readme_configuration_excludes_a_nested_generated_folder() {
    let blocks = readme_blocks();
    let config = &blocks
        .iter()
        .find(|(info, body)| info == "toml" && body.contains("exclude = "))
        .expect("the configuration example")
        .1;
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        &dir.path().join("Cargo.toml"),
        "[workspace]\nmembers = [\"crates/app\"]\nresolver = \"2\"\n",
    );
    write(&dir.path().join("temper.toml"), config);
    write(
        &dir.path().join("crates/app/Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(
        &dir.path().join("crates/app/src/lib.rs"),
        "pub mod generated;\npub fn clean() {}\n",
    );
    write(
        &dir.path().join("crates/app/src/generated.rs"),
        "pub mod proto;\n",
    );
    write(
        &dir.path().join("crates/app/src/generated/proto.rs"),
        UNWRAP,
    );
    let output = run(dir.path(), &["check"]);
    assert_eq!(code(&output), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("no problems found in 2 files"),
        "{}",
        stdout(&output)
    );
}

/// Pre-commit names the staged files only; a fix that reaches across the
/// crate (here a fallible-signature migration, whose new error type goes in
/// `src/lib.rs`) must be completed against the whole module tree, as when
/// the package is checked from its root.
#[test]
fn a_named_file_gets_the_same_crate_wide_fix_as_the_whole_package() {
    let dir = sample_crate_with("pub mod parse;\n");
    write(
        &dir.path().join("src/parse.rs"),
        "pub fn port(text: &str) -> u16 {\n    text.trim().parse().expect(\"a port\")\n}\n",
    );
    let fix_of = |args: &[&str]| {
        let output = run(dir.path(), args);
        assert_eq!(code(&output), Some(0), "{}", stderr(&output));
        let findings: Vec<serde_json::Value> =
            serde_json::from_str(&stdout(&output)).expect("JSON findings");
        assert_eq!(findings.len(), 1, "{findings:#?}");
        (findings[0]["fix"].clone(), findings[0]["notes"].clone())
    };
    let whole = fix_of(&["check", "--format", "json", "--plan-fixes", "."]);
    let named = fix_of(&["check", "--format", "json", "--plan-fixes", "src/parse.rs"]);
    assert_eq!(whole.0["applicability"], "unsafe", "{whole:#?}");
    assert_eq!(named, whole);
    // The JSON fix is the whole fix: the new error type goes in `src/lib.rs`,
    // positioned in that file (a consumer applying only `src/parse.rs`'s
    // edit would break the build).
    let edits = whole.0["edits"].as_array().expect("edits");
    let mut paths: Vec<&str> = edits.iter().filter_map(|e| e["path"].as_str()).collect();
    paths.sort_unstable();
    assert_eq!(paths, ["src/lib.rs", "src/parse.rs"], "{whole:#?}");
    let lib_edit = edits
        .iter()
        .find(|e| e["path"] == "src/lib.rs")
        .expect("an edit of src/lib.rs");
    // At the end of `pub mod parse;`, before the newline.
    assert_eq!(
        (&lib_edit["line"], &lib_edit["column"]),
        (&1.into(), &15.into())
    );
    assert!(
        lib_edit["replacement"]
            .as_str()
            .is_some_and(|r| r.contains("pub struct UnexpectedError")),
        "{lib_edit:#?}"
    );
}

/// A `Drop` that spawns through a wrapper defined in another file (bb8's
/// `put_back` shape): named alone (as pre-commit names a staged file), it is
/// reported as from the package's root, since the wrapper is found in the
/// module tree on disk.
#[test]
fn a_named_file_sees_spawn_wrappers_in_unnamed_files() {
    let dir = sample_crate_with("pub mod lease;\nmod pool;\n");
    write(
        &dir.path().join("src/pool.rs"),
        "pub struct Pool;\nimpl Pool {\n    pub fn put_back<F>(&self, future: F)\n    where\n        F: std::future::Future<Output = ()> + Send + 'static,\n    {\n        tokio::spawn(future);\n    }\n}\n",
    );
    write(
        &dir.path().join("src/lease.rs"),
        "use crate::pool::Pool;\nuse std::sync::Arc;\npub struct Conn;\nimpl Conn {\n    pub async fn close(self) {}\n}\npub struct Lease {\n    pool: Arc<Pool>,\n    conn: Option<Conn>,\n}\nimpl Drop for Lease {\n    fn drop(&mut self) {\n        if let Some(conn) = self.conn.take() {\n            self.pool.put_back(async move { conn.close().await });\n        }\n    }\n}\n",
    );
    let findings_of = |args: &[&str]| {
        let output = run(dir.path(), args);
        assert_eq!(code(&output), Some(0), "{}", stderr(&output));
        let findings: Vec<serde_json::Value> =
            serde_json::from_str(&stdout(&output)).expect("JSON findings");
        findings
            .into_iter()
            .filter(|f| f["path"] == "src/lease.rs")
            .map(|f| (f["lint"].clone(), f["line"].clone(), f["fix"].clone()))
            .collect::<Vec<_>>()
    };
    let whole = findings_of(&["check", "--format", "json", "."]);
    assert_eq!(
        whole.iter().map(|f| (&f.0, &f.1)).collect::<Vec<_>>(),
        [(&"drop_without_async_cleanup".into(), &14.into())],
        "{whole:#?}"
    );
    let named = findings_of(&["check", "--format", "json", "src/lease.rs"]);
    assert_eq!(named, whole);
}
