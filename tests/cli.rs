//! The real binary: exit codes, output formats, sorting, `explain`, `lints`,
//! classification of a sample workspace, and bad input.

use assert_cmd::Command;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn temper() -> Command {
    let mut cmd = Command::cargo_bin("temper").expect("the temper binary is built for tests");
    cmd.current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE");
    cmd
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

fn json(output: &std::process::Output) -> Vec<serde_json::Value> {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(output)))
}

/// `(path, line, lint)` for every `//~ lint` marker under `dir`.
fn markers(dir: &Path) -> BTreeSet<(String, u64, String)> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() && path.file_name().is_some_and(|n| n != "target") {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = fs::read_to_string(&path).unwrap_or_default();
                let shown = path
                    .strip_prefix(root())
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/");
                for (index, line) in text.lines().enumerate() {
                    let Some(pos) = line.find("//~") else {
                        continue;
                    };
                    for lint in line[pos + 3..].split_whitespace() {
                        out.insert((shown.clone(), index as u64 + 1, lint.to_string()));
                    }
                }
            }
        }
    }
    out
}

#[test]
fn dogfood_temper_checks_itself_clean() {
    let output = temper().arg("check").output().expect("runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("no problems found"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn workspace_classification_matches_markers_and_expected_json() {
    // The expected JSON pins the crate-wide fixes too: planned on request.
    let output = temper()
        .args([
            "check",
            "fixtures/workspace",
            "--format",
            "json",
            "--plan-fixes",
        ])
        .output()
        .expect("runs");
    // The bin-only module holds a deny-level arc_from_ptr_read.
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let findings = json(&output);
    let found: BTreeSet<(String, u64, String)> = findings
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["lint"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(found, markers(&root().join("fixtures/workspace")));

    let expected = root().join("fixtures/workspace/expected.json");
    let actual = stdout(&output);
    if crate::bless() {
        fs::write(&expected, &actual).expect("bless expected.json");
    } else {
        assert_eq!(
            fs::read_to_string(&expected).unwrap_or_default(),
            actual,
            "TEMPER_BLESS=1 rewrites it"
        );
    }
}

/// Without `--plan-fixes`, `check` reports the same findings (lint, place,
/// message, help, level) without planning the migrations that reach across
/// the crate: such a finding shows no fix and says how to see it, and what
/// the file alone rules out is said as the plan says it.
#[test]
fn check_describes_crate_wide_fixes_unless_asked_to_plan_them() {
    let run = |plan: bool| {
        let mut args = vec!["check", "fixtures/workspace", "--format", "json"];
        if plan {
            args.push("--plan-fixes");
        }
        let output = temper().args(&args).output().expect("runs");
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        json(&output)
    };
    let (described, planned) = (run(false), run(true));
    let same = |f: &serde_json::Value| {
        let keys = [
            "lint",
            "level",
            "path",
            "line",
            "column",
            "end_line",
            "end_column",
        ];
        let mut out: Vec<String> = keys.iter().map(|k| f[k].to_string()).collect();
        out.push(f["message"].to_string());
        out.push(f["help"].to_string());
        out
    };
    assert_eq!(
        described.iter().map(same).collect::<Vec<_>>(),
        planned.iter().map(same).collect::<Vec<_>>()
    );
    let mut migrations = 0;
    for (d, p) in described.iter().zip(&planned) {
        if d == p {
            continue;
        }
        let notes = d["notes"].to_string();
        assert!(
            notes.contains("`temper fix --unsafe-fixes` can try to make `fn "),
            "{d:#?}"
        );
        assert!(d["fix"].is_null(), "{d:#?}");
        assert_eq!(p["fix"]["applicability"], "unsafe", "{p:#?}");
        migrations += 1;
    }
    assert!(migrations > 0, "{described:#?}");
}

#[test]
fn json_has_required_fields_and_is_sorted() {
    let output = temper()
        .args(["check", "fixtures/workspace", "--format", "json"])
        .output()
        .expect("runs");
    let findings = json(&output);
    assert!(!findings.is_empty());
    for finding in &findings {
        for key in [
            "lint",
            "level",
            "path",
            "line",
            "column",
            "end_line",
            "end_column",
            "message",
            "help",
        ] {
            assert!(finding.get(key).is_some(), "missing `{key}` in {finding}");
        }
    }
    let keys: Vec<(String, u64, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["column"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // Same input, same bytes.
    let again = temper()
        .args(["check", "fixtures/workspace", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(output.stdout, again.stdout);
}

#[test]
fn exit_codes_follow_levels() {
    let code = |args: &[&str]| temper().args(args).output().expect("runs").status.code();
    assert_eq!(code(&["check", "fixtures/workspace"]), Some(1));
    assert_eq!(
        code(&["check", "fixtures/workspace", "-A", "arc_from_ptr_read"]),
        Some(0)
    );
    assert_eq!(
        code(&[
            "check",
            "fixtures/workspace",
            "-A",
            "arc_from_ptr_read",
            "-D",
            "warnings"
        ]),
        Some(1)
    );
    assert_eq!(
        code(&[
            "check",
            "fixtures/workspace",
            "-A",
            "arc_from_ptr_read",
            "-D",
            "library_unwrap"
        ]),
        Some(1)
    );
    assert_eq!(
        code(&["check", "fixtures/workspace", "-A", "no_such_lint"]),
        Some(2)
    );
    assert_eq!(code(&["check", "--no-such-flag"]), Some(2));
}

#[test]
fn human_output_is_rustc_like_with_summary() {
    let output = temper()
        .args(["check", "fixtures/workspace"])
        .output()
        .expect("runs");
    let text = stdout(&output);
    assert!(text.contains("temper::library_unwrap"), "{text}");
    assert!(
        text.contains("fixtures/workspace/pool-core/src/lib.rs:16:"),
        "{text}"
    );
    assert!(text.contains("help:"), "{text}");
    assert!(text.contains("1 error, 5 warnings in 5 files"), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour without a terminal");
    let forced = temper()
        .args(["check", "fixtures/workspace", "--color", "always"])
        .output()
        .expect("runs");
    assert!(stdout(&forced).contains('\u{1b}'), "--color always colours");
}

#[test]
fn explain_prints_docs_and_lints_lists_all() {
    for lint in [
        "arc_from_ptr_read",
        "drop_without_async_cleanup",
        "library_unwrap",
    ] {
        let output = temper().args(["explain", lint]).output().expect("runs");
        assert_eq!(output.status.code(), Some(0));
        let text = stdout(&output);
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Use instead",
            "## Fix safety",
        ] {
            assert!(text.contains(section), "{lint}: {section}");
        }
    }
    let output = temper().args(["explain", "unwrap"]).output().expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unknown lint `unwrap`"));

    let output = temper().arg("lints").output().expect("runs");
    let text = stdout(&output);
    assert!(text.contains("arc_from_ptr_read           deny"), "{text}");
    assert!(text.contains("drop_without_async_cleanup  warn"), "{text}");
    assert!(text.contains("library_unwrap              warn"), "{text}");
}

#[test]
fn missing_path_is_a_usage_error_naming_it() {
    let output = temper()
        .args(["check", "does/not/exist.rs"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("does/not/exist.rs: no such file or directory"),
        "{}",
        stderr(&output)
    );
}

const UNWRAP: &str = "pub fn f(x: Option<u8>) -> u8 {\n    x.unwrap()\n}\n";

#[test]
fn non_utf8_file_is_reported_and_skipped_while_others_are_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("bad.rs"), b"pub fn f() {}\n\xff\xfe\n").expect("write");
    fs::write(dir.path().join("good.rs"), UNWRAP).expect("write");
    let output = temper()
        .args(["check", "--format", "json"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("bad.rs: not valid UTF-8"),
        "{}",
        stderr(&output)
    );
    let findings = json(&output);
    assert_eq!(findings.len(), 1);
    assert!(
        findings[0]["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("good.rs"))
    );
}

#[test]
fn syntax_errors_are_a_note_and_the_rest_is_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = format!("{UNWRAP}\npub fn broken( {{\n");
    fs::write(dir.path().join("broken.rs"), source).expect("write");
    let output = temper()
        .arg("check")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0), "warnings only");
    assert!(
        stderr(&output).contains("syntax error"),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output).contains("library_unwrap"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn empty_file_and_symlink_loop_do_not_break_the_walk() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("empty.rs"), "").expect("write");
    fs::create_dir(dir.path().join("sub")).expect("mkdir");
    fs::write(dir.path().join("sub/lib.rs"), UNWRAP).expect("write");
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path(), dir.path().join("sub/loop")).expect("symlink");
    let output = temper()
        .args(["check", "--format", "json"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        json(&output).len(),
        1,
        "the looped directory is not checked twice"
    );
    #[cfg(unix)]
    assert!(
        stderr(&output).contains("symbolic link loop"),
        "{}",
        stderr(&output)
    );
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_reported_with_its_path() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = dir.path().join("secret.rs");
    fs::write(&secret, UNWRAP).expect("write");
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o000)).expect("chmod");
    // A dangling link is unreadable for everyone, root included.
    std::os::unix::fs::symlink(dir.path().join("gone.rs"), dir.path().join("dangling.rs"))
        .expect("symlink");
    let output = temper()
        .arg("check")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("dangling.rs"),
        "{}",
        stderr(&output)
    );
    if fs::read(&secret).is_err() {
        assert!(
            stderr(&output).contains("secret.rs: cannot read file"),
            "{}",
            stderr(&output)
        );
    }
}

/// Unreadable input that stays unreadable for root, which is how CI runs: a
/// directory where the library root should be, and a `mod` whose file is a
/// dangling symbolic link.
#[cfg(unix)]
#[test]
fn unreadable_crate_files_are_errors_even_for_root() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"x\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n",
    )
    .expect("manifest");
    fs::create_dir_all(dir.path().join("src/lib.rs")).expect("a directory named lib.rs");
    fs::write(
        dir.path().join("src/main.rs"),
        format!("mod gone;\n{UNWRAP}"),
    )
    .expect("main.rs");
    std::os::unix::fs::symlink(
        dir.path().join("nowhere.rs"),
        dir.path().join("src/gone.rs"),
    )
    .expect("symlink");
    let output = temper()
        .args(["check", "--no-cache"])
        .arg(dir.path())
        .output()
        .expect("runs");
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains("src/lib.rs: a target root that is not a file"),
        "{err}"
    );
    assert!(
        err.contains("src/gone.rs: cannot read file: a broken symbolic link"),
        "{err}"
    );
    // The rest of the crate (main.rs, binary code: no finding) is still checked.
    assert!(
        stdout(&output).contains("no problems found in 1 file"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn large_generated_file_is_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut source = String::with_capacity(21 << 20);
    let mut n = 0;
    while source.len() < 20 << 20 {
        source.push_str(&format!(
            "pub fn generated_{n}(x: u64) -> u64 {{ x.wrapping_mul({n}).rotate_left(3) }}\n"
        ));
        n += 1;
    }
    source.push_str(UNWRAP);
    fs::write(dir.path().join("generated.rs"), source).expect("write");
    let output = temper()
        .args(["check", "--format", "json"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(json(&output).len(), 1);
}

#[test]
fn unparsable_manifest_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"x\nversion = 1\n",
    )
    .expect("write");
    fs::create_dir(dir.path().join("src")).expect("mkdir");
    fs::write(dir.path().join("src/lib.rs"), UNWRAP).expect("write");
    let output = temper()
        .arg("check")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("Cargo.toml"), "{err}");
    assert!(err.contains("failed to parse"), "{err}");
}

/// A reader that closed the pipe before temper wrote (`temper explain
/// library_unwrap | head`, `temper check | head`) ends the output quietly:
/// no panic, no error message, the exit code of the work done.
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    for args in [
        &["explain", "library_unwrap"][..],
        &["lints"][..],
        &["check", "--no-cache", "fixtures/workspace"][..],
    ] {
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("temper"))
            .current_dir(root())
            .args(args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{args:?}: {:?} {stderr}",
            output.status
        );
    }
}
