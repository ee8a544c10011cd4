//! No input takes a whole run down: files nested or sized beyond temper's
//! limits are skipped with a note naming them (exit 2) while every other
//! file is still checked; files just within the limits are checked and fixed
//! on stacks deep enough for them; huge lines, `#[path]` module cycles and
//! deep directories finish.

use assert_cmd::Command;
use std::fs;
use std::path::Path;
use temper_lints::lex::{self, MAX_NESTING};

fn temper(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("temper").expect("the temper binary is built for tests");
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE");
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

/// A package `sample` with `src/lib.rs` declaring `mods` and holding one
/// `unwrap` finding of its own.
fn package(files: &[(String, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"sample\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n",
    )
    .expect("manifest");
    fs::create_dir(dir.path().join("src")).expect("src");
    let mut lib = String::new();
    for (name, source) in files {
        lib.push_str(&format!("mod {name};\n"));
        fs::write(dir.path().join(format!("src/{name}.rs")), source).expect("module");
    }
    lib.push_str(
        "pub fn own(x: Option<u8>) -> Option<u8> {\n    let v = x.unwrap();\n    Some(v)\n}\n",
    );
    fs::write(dir.path().join("src/lib.rs"), lib).expect("lib.rs");
    dir
}

/// One way to nest code `n` levels deep, each with a fixable `unwrap` after
/// the nested part.
fn nested(kind: &str, n: usize) -> String {
    let body = match kind {
        "parens" => format!("let _ = {}1{};", "(".repeat(n), ")".repeat(n)),
        "blocks" => format!("{}{}", "if true { ".repeat(n), "}".repeat(n)),
        "else_if" => format!("if true {{}} {} else {{}}", "else if true {}".repeat(n)),
        "unary" => format!("let _ = {}true;", "!".repeat(n)),
        "sum" => format!("let _ = 1{};", " + 1".repeat(n)),
        "calls" => format!("let _ = String::new(){};", ".clone()".repeat(n)),
        "arrays" => format!("let _ = {}0{};", "[".repeat(n), "]".repeat(n)),
        "closures" => format!("let _ = {}0;", "|| ".repeat(n)),
        "generics" => format!("let _: {}u8{} = None;", "Option<".repeat(n), ">".repeat(n)),
        "refs" => format!("let _: {}u8 = &0;", "&".repeat(n)),
        other => panic!("unknown nesting kind {other}"),
    };
    format!(
        "pub fn f(x: Option<u8>) -> Option<u8> {{\n    {body}\n    let v = x.unwrap();\n    Some(v)\n}}\n"
    )
}

const KINDS: &[&str] = &[
    "parens", "blocks", "else_if", "unary", "sum", "calls", "arrays", "closures", "generics",
    "refs",
];

/// The largest `n` whose [`nested`] text is within the limit.
fn deepest_within_limit(kind: &str) -> usize {
    let (mut low, mut high) = (1, MAX_NESTING + 1);
    while low + 1 < high {
        let mid = (low + high) / 2;
        if lex::shape(&nested(kind, mid)).within_limits() {
            low = mid;
        } else {
            high = mid;
        }
    }
    low
}

#[test]
fn files_nested_beyond_the_limit_are_skipped_and_named() {
    let files: Vec<(String, String)> = KINDS
        .iter()
        .map(|kind| (format!("deep_{kind}"), nested(kind, 20_000)))
        .collect();
    let dir = package(&files);
    let output = temper(dir.path())
        .args(["check", "--no-cache", "--format", "json", "."])
        .output()
        .expect("runs");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for kind in KINDS {
        let line = stderr
            .lines()
            .find(|l| l.contains(&format!("src/deep_{kind}.rs")))
            .unwrap_or_else(|| panic!("no note names deep_{kind}.rs:\n{stderr}"));
        assert!(
            line.contains("levels deep, beyond the limit of 2000"),
            "{line}"
        );
    }
    // Every other file is still checked and reported.
    let findings: Vec<serde_json::Value> =
        serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    let paths: Vec<&str> = findings.iter().filter_map(|f| f["path"].as_str()).collect();
    assert_eq!(paths, ["src/lib.rs"], "{stderr}");
}

#[test]
fn files_just_within_the_limit_are_checked_and_fixed() {
    let files: Vec<(String, String)> = KINDS
        .iter()
        .map(|kind| {
            (
                format!("deep_{kind}"),
                nested(kind, deepest_within_limit(kind)),
            )
        })
        .collect();
    let dir = package(&files);
    let check = temper(dir.path())
        .args(["check", "--no-cache", "--format", "json", "."])
        .output()
        .expect("runs");
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    let findings: Vec<serde_json::Value> =
        serde_json::from_slice(&check.stdout).expect("JSON on stdout");
    assert_eq!(findings.len(), KINDS.len() + 1, "{}", text(&check.stderr));

    let fix = temper(dir.path())
        .args(["fix", "."])
        .output()
        .expect("runs");
    let stdout = text(&fix.stdout);
    assert_eq!(
        fix.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&fix.stderr)
    );
    for kind in KINDS {
        let fixed = fs::read_to_string(dir.path().join(format!("src/deep_{kind}.rs")))
            .expect("module reads");
        assert!(
            fixed.contains("let v = x?;"),
            "deep_{kind}.rs was not fixed: {stdout}"
        );
    }
}

#[test]
fn a_huge_line_is_checked_and_its_finding_shown_by_position() {
    // 6 million tokens on one line, with a finding at its end: the report
    // names the position instead of printing 6 MB of source.
    let line = format!(
        "pub const TABLE: &[u8] = &[{}]; pub fn g(x: Option<u8>) -> u8 {{ x.unwrap() }}\n",
        "0,".repeat(3_000_000)
    );
    let dir = package(&[("wide".to_string(), line)]);
    let output = temper(dir.path())
        .args(["check", "--no-cache", "."])
        .output()
        .expect("runs");
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        stdout.contains("at src/wide.rs:1:6000065 (the line is too long to show)"),
        "{}",
        &stdout[..stdout.len().min(2000)]
    );
    assert!(stdout.len() < 10_000, "the long line was printed");
    assert!(
        stdout.contains("0 errors, 2 warnings in 2 files"),
        "{stdout}"
    );
}

#[test]
fn files_with_too_many_tokens_are_skipped() {
    let many = format!(
        "pub const TABLE: &[u8] = &[{}];\n",
        "0,\n".repeat(lex::MAX_TOKENS / 2 + 1)
    );
    let dir = package(&[("many".to_string(), many)]);
    let output = temper(dir.path())
        .args(["check", "--no-cache", "."])
        .output()
        .expect("runs");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("src/many.rs")
            && stderr.contains("tokens long, beyond the limit of 8000000"),
        "{stderr}"
    );
    assert!(text(&output.stdout).contains("src/lib.rs"));
}

#[test]
fn path_attribute_module_cycles_finish() {
    // a.rs and b.rs declare each other through `#[path]`, and `c.rs` reaches
    // itself through a directory that links back to its parent: every file is
    // classified once and the run ends.
    let dir = package(&[
        (
            "a".to_string(),
            "#[path = \"b.rs\"]\nmod b;\npub fn a(x: Option<u8>) -> u8 { x.unwrap() }\n"
                .to_string(),
        ),
        ("b".to_string(), "#[path = \"a.rs\"]\nmod a;\n".to_string()),
        (
            "c".to_string(),
            "#[path = \"loop/c.rs\"]\nmod c;\n".to_string(),
        ),
    ]);
    #[cfg(unix)]
    std::os::unix::fs::symlink(".", dir.path().join("src/loop")).expect("symlink");
    let output = temper(dir.path())
        .args(["check", "--no-cache", "--format", "json", "."])
        .output()
        .expect("runs");
    let findings: Vec<serde_json::Value> =
        serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    let paths: Vec<&str> = findings.iter().filter_map(|f| f["path"].as_str()).collect();
    assert!(
        paths.contains(&"src/a.rs"),
        "{paths:?} {}",
        text(&output.stderr)
    );
    assert!(paths.contains(&"src/lib.rs"), "{paths:?}");
    // Each cycle is named, on the file whose `mod` closes it, as rustc names
    // circular modules; the run is complete (every file was checked).
    let stderr = text(&output.stderr);
    // `lib.rs` reaches both `a.rs` and `b.rs`: whichever the walk enters
    // first, the cycle between them is named once.
    assert!(
        stderr.contains("src/b.rs: module cycle: src/a.rs -> src/b.rs -> src/a.rs;")
            || stderr.contains("src/a.rs: module cycle: src/b.rs -> src/a.rs -> src/b.rs;"),
        "no note for the cycle between a.rs and b.rs:\n{stderr}"
    );
    assert_eq!(
        stderr.matches("module cycle: src/a.rs").count()
            + stderr.matches("module cycle: src/b.rs").count(),
        1,
        "{stderr}"
    );
    #[cfg(unix)]
    assert!(
        stderr.contains("src/c.rs: module cycle: src/c.rs -> src/loop/c.rs;"),
        "no note for the cycle through a symbolic link:\n{stderr}"
    );
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

#[test]
fn directories_beyond_the_depth_limit_are_named_and_the_rest_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("top.rs"),
        "pub fn f(x: Option<u8>) -> u8 { x.unwrap() }\n",
    )
    .expect("top");
    let mut deep = dir.path().to_path_buf();
    for _ in 0..temper::check::MAX_DIR_DEPTH + 10 {
        deep.push("d");
    }
    fs::create_dir_all(&deep).expect("deep directories");
    fs::write(
        deep.join("leaf.rs"),
        "pub fn f(x: Option<u8>) -> u8 { x.unwrap() }\n",
    )
    .expect("leaf");
    let output = temper(dir.path())
        .args(["check", "--no-cache", "--format", "json", "."])
        .output()
        .expect("runs");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "directory nested more than {} levels below",
            temper::check::MAX_DIR_DEPTH
        )) && stderr.contains("not walked")
            && stderr.contains("d/d/d/…/d/d/d"),
        "{stderr}"
    );
    let findings: Vec<serde_json::Value> =
        serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    let paths: Vec<&str> = findings.iter().filter_map(|f| f["path"].as_str()).collect();
    assert_eq!(paths, ["top.rs"]);
}

#[test]
fn deep_directories_finish() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut deep = dir.path().to_path_buf();
    for _ in 0..400 {
        deep.push("d");
    }
    fs::create_dir_all(&deep).expect("deep directories");
    fs::write(
        deep.join("leaf.rs"),
        "pub fn f(x: Option<u8>) -> u8 { x.unwrap() }\n",
    )
    .expect("leaf");
    let output = temper(dir.path())
        .args(["check", "--no-cache", "--format", "json", "."])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let findings: Vec<serde_json::Value> =
        serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(findings.len(), 1);
}

#[test]
fn module_trees_beyond_the_depth_limit_are_cut_with_a_note() {
    // lib.rs -> a.rs -> a/a.rs -> a/a/a.rs ..., deeper than the limit: the
    // walk stops with a warning on the file whose `mod` it did not follow.
    let depth = temper::discover::MAX_MODULE_DEPTH + 5;
    let dir = package(&[("a".to_string(), "pub mod a;\n".to_string())]);
    let mut at = dir.path().join("src/a");
    for _ in 0..depth {
        fs::create_dir_all(&at).expect("module dir");
        fs::write(at.join("a.rs"), "pub mod a;\n").expect("module");
        at.push("a");
    }
    let output = temper(dir.path())
        .args(["check", "--no-cache", "--format", "json", "."])
        .output()
        .expect("runs");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "module tree deeper than {} files",
            temper::discover::MAX_MODULE_DEPTH
        )),
        "{stderr}"
    );
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}
