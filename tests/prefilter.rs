//! `temper check` parses only the files that can have a finding
//! (`RunSettings::prefilter`): a lexer-level scan gives each file's module
//! declarations and lint needles, and a file is parsed only when its role
//! lets a lint whose needle it holds fire. These tests prove that loses
//! nothing: on every fixture and sample crate, on a crate built to hit each
//! rule of the prefilter, and on registry crates present on this machine,
//! findings (fixes and notes included) and every file's classification are
//! the same with and without it.

use std::path::{Path, PathBuf};
use temper::check::{self, CheckRequest, RunSettings};

/// What a check reports, in a form to compare: findings with everything
/// they carry, each checked file's classification, the notes (without the
/// syntax-error notes of files the prefilter did not parse) and the counts.
fn checked(path: &Path, prefilter: bool) -> (Vec<String>, Vec<String>, Vec<String>, usize) {
    let request = CheckRequest {
        paths: vec![path.to_path_buf()],
        ..CheckRequest::default()
    };
    let settings = RunSettings {
        drop_clean_sources: true,
        prefilter,
        ..RunSettings::default()
    };
    let outcome = check::run_with(&request, &settings);
    let findings = outcome
        .findings
        .iter()
        .map(|r| format!("{} {:?} {:?} {:?}", r.path, r.start, r.level, r.finding))
        .collect();
    let files = outcome
        .files
        .iter()
        .map(|f| {
            format!(
                "{} library={} test_only={} allows={:?}",
                f.display, f.library, f.test_only, f.allows
            )
        })
        .collect();
    let notes = outcome
        .notes
        .iter()
        .filter(|n| !n.message.contains("syntax error"))
        .map(|n| format!("{} {:?} {}", n.path, n.severity, n.message))
        .collect();
    (findings, files, notes, outcome.files_checked)
}

/// Checks `dir` both ways and returns how many findings and files it saw.
fn same_both_ways(dir: &Path) -> (usize, usize) {
    let full = checked(dir, false);
    let filtered = checked(dir, true);
    assert_eq!(full.0, filtered.0, "findings differ in {}", dir.display());
    assert_eq!(
        full.1,
        filtered.1,
        "classification differs in {}",
        dir.display()
    );
    assert_eq!(full.2, filtered.2, "notes differ in {}", dir.display());
    assert_eq!(
        full.3,
        filtered.3,
        "files checked differ in {}",
        dir.display()
    );
    (full.0.len(), full.3)
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

#[test]
fn fixtures_and_sample_crates_lose_nothing() {
    // Lint fixtures are loose files: checked outside any package, as
    // library code, from a copy away from this repository's manifest.
    let loose = tempfile::tempdir().expect("tempdir");
    for lint in subdirs(&fixtures().join("lints")) {
        let name = lint.file_name().expect("a lint directory");
        let into = loose.path().join(name);
        std::fs::create_dir_all(&into).expect("create dir");
        for entry in std::fs::read_dir(&lint).expect("read fixtures").flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "rs") {
                std::fs::copy(&path, into.join(entry.file_name())).expect("copy fixture");
            }
        }
    }
    let mut dirs = subdirs(loose.path());
    dirs.extend(subdirs(&fixtures().join("fix-crates")));
    dirs.push(fixtures().join("members"));
    dirs.push(fixtures().join("workspace"));
    let mut findings = 0;
    for dir in &dirs {
        let (found, files) = same_both_ways(dir);
        assert!(files > 0, "nothing checked in {}", dir.display());
        findings += found;
    }
    assert!(
        findings > 0,
        "no finding at all: the comparison proves nothing"
    );
}

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).expect("create dir");
    }
    std::fs::write(path, text).expect("write file");
}

/// A crate with one file per rule of the prefilter: a spawn wrapper in a file
/// with no needle of its own, a `Drop` calling it from another file, unwraps
/// only tests reach, a `#[path]` module, a file no `mod` reaches, needles only
/// in comments and strings, and an integration test with a spawning `Drop`.
#[test]
fn each_rule_of_the_prefilter_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "Cargo.toml",
        "[package]\nname = \"probe\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ntokio = \"1\"\n",
    );
    write(
        root,
        "src/lib.rs",
        "mod rt;\nmod guard;\n#[cfg(test)]\nmod tests;\n#[path = \"other/p.rs\"]\nmod p;\n\
         // x.unwrap() in a comment, \"Drop\" in a string:\npub const S: &str = \"unwrap\";\n\
         pub fn f() -> u8 { Some(1).unwrap() }\n",
    );
    write(
        root,
        "src/rt.rs",
        "pub struct Manager;\nimpl Manager {\n    pub fn spawn_task(&self) {\n        tokio::spawn(async {});\n    }\n}\npub fn spawn_task() {\n    tokio::spawn(async {});\n}\n",
    );
    write(
        root,
        "src/guard.rs",
        "pub struct Guard;\nimpl Drop for Guard {\n    fn drop(&mut self) {\n        crate::rt::spawn_task();\n    }\n}\n",
    );
    write(
        root,
        "src/tests.rs",
        "#[test]\nfn t() { Some(1).unwrap(); }\n",
    );
    write(
        root,
        "src/other/p.rs",
        "pub fn g() -> u8 { Some(1).expect(\"one\") }\n#[cfg(test)]\nmod tests {\n    fn t() { Some(1).unwrap(); }\n}\n",
    );
    write(
        root,
        "src/unreached.rs",
        "pub fn h() { Some(1).unwrap(); }\n",
    );
    write(
        root,
        "tests/it.rs",
        "#[test]\nfn t() { Some(1).unwrap(); }\nstruct D;\nimpl Drop for D {\n    fn drop(&mut self) {\n        tokio::spawn(async {});\n    }\n}\n",
    );
    let (findings, files, _, _) = checked(root, true);
    same_both_ways(root);
    // The comparison covers what matters: the wrapper chain across files,
    // the `#[path]` module, and nothing from test code or unreached files.
    let in_file = |name: &str| {
        findings
            .iter()
            .filter(|f| f.split(' ').next().is_some_and(|path| path.ends_with(name)))
            .count()
    };
    assert!(in_file("src/guard.rs") > 0, "{findings:#?}");
    assert_eq!(in_file("src/other/p.rs"), 1, "{findings:#?}");
    assert_eq!(in_file("src/lib.rs"), 1, "{findings:#?}");
    assert_eq!(in_file("src/tests.rs"), 0, "{findings:#?}");
    assert_eq!(in_file("src/unreached.rs"), 0, "{findings:#?}");
    assert!(
        files
            .iter()
            .any(|f| f.contains("src/tests.rs") && f.contains("test_only=true"))
    );
}

/// Crates this build depends on are in cargo's registry cache: real code
/// that nobody here wrote, with test modules, `Drop` impls and `#[path]`s.
#[test]
fn registry_crates_lose_nothing() {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let Some(home) = home else {
        return;
    };
    let mut crates: Vec<PathBuf> = Vec::new();
    for index in subdirs(&home.join("registry/src")) {
        for dir in subdirs(&index) {
            let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if ["globset-", "ignore-", "similar-", "rayon-core-"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
            {
                crates.push(dir);
            }
        }
    }
    crates.truncate(4);
    for dir in &crates {
        same_both_ways(dir);
    }
}
