//! Workspace members and package editions as Cargo decides them: temper's
//! list is compared with `cargo metadata --no-deps`, and a workspace checks
//! the same from its root as from the folder above, without syntax errors
//! from reading an older edition's code as 2024.

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Member directories and their editions, by `cargo metadata --no-deps`
/// (which works offline: it resolves no dependency).
fn cargo_members(workspace: &Path) -> BTreeMap<PathBuf, String> {
    let metadata = cargo_metadata::MetadataCommand::new()
        .manifest_path(workspace.join("Cargo.toml"))
        .no_deps()
        .other_options(vec!["--offline".to_string()])
        .exec()
        .expect("cargo metadata");
    metadata
        .packages
        .iter()
        .filter(|p| metadata.workspace_members.contains(&p.id))
        .map(|p| {
            let dir = p
                .manifest_path
                .parent()
                .expect("manifest has a directory")
                .as_std_path()
                .to_path_buf();
            (dir, p.edition.as_str().to_string())
        })
        .collect()
}

/// Member directories and their editions, by temper's discovery.
fn temper_members(workspace: &Path) -> BTreeMap<PathBuf, String> {
    let found = temper::discover::workspace_at(workspace).expect("a workspace root");
    found
        .members
        .iter()
        .map(|dir| {
            let package = temper::discover::read_manifest(&dir.join("Cargo.toml"), "member")
                .expect("member manifest");
            (dir.clone(), package.edition.number().to_string())
        })
        .collect()
}

#[test]
fn members_and_editions_match_cargo_metadata_on_the_fixture() {
    let workspace = root().join("fixtures/members");
    let cargo = cargo_members(&workspace);
    // The fixture has every way in: glob, path, `workspace = true`, dev,
    // build and target-specific dependencies, and two ways out.
    assert_eq!(cargo.len(), 9, "{cargo:#?}");
    assert_eq!(temper_members(&workspace), cargo);
}

#[test]
fn members_match_cargo_metadata_on_temper_itself() {
    // `lints` is both listed and a path dependency; `fixtures` is excluded.
    let cargo = cargo_members(&root());
    assert_eq!(temper_members(&root()), cargo);
}

fn check_json(dir: &Path, target: &str) -> Vec<serde_json::Value> {
    let output = Command::cargo_bin("temper")
        .expect("temper binary")
        .args(["check", "--no-cache", "--format", "json", target])
        .current_dir(dir)
        .output()
        .expect("temper check runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("syntax error"), "{stderr}");
    serde_json::from_slice(&output.stdout).expect("json findings")
}

/// Paths of the findings' files, relative to `base`.
fn finding_files(findings: &[serde_json::Value], prefix: &str) -> Vec<String> {
    let mut files: Vec<String> = findings
        .iter()
        .map(|f| {
            let path = f["path"].as_str().expect("path").to_string();
            path.strip_prefix(prefix)
                .map_or(path.clone(), str::to_string)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_workspace_checks_the_same_from_its_root_and_from_above() {
    let temp = tempfile::tempdir().expect("tempdir");
    let workspace = temp.path().join("members");
    crate::fix_crates::copy_dir(&root().join("fixtures/members"), &workspace);

    let from_root = check_json(&workspace, ".");
    let from_above = check_json(temp.path(), ".");
    let expected: Vec<String> = [
        "crates/app/src/lib.rs",
        "crates/e2018/src/lib.rs",
        "crates/old/src/lib.rs",
        "libs/core-lib/src/lib.rs",
        "libs/deep/src/lib.rs",
        "libs/shared/src/lib.rs",
        "libs/unixy/src/lib.rs",
        "tools/buildhelp/src/lib.rs",
        "tools/testkit/src/lib.rs",
    ]
    .map(str::to_string)
    .to_vec();
    // One `unwrap` per member; none from the excluded or unused packages.
    assert_eq!(finding_files(&from_root, ""), expected, "{from_root:#?}");
    assert_eq!(finding_files(&from_above, "members/"), expected);
}

#[test]
fn a_lone_file_takes_the_edition_flag() {
    let temp = tempfile::tempdir().expect("tempdir");
    fs::write(
        temp.path().join("lone.rs"),
        "pub fn f(gen: Option<u8>) -> u8 {\n    gen.unwrap()\n}\n",
    )
    .expect("write");
    let run = |args: &[&str]| {
        Command::cargo_bin("temper")
            .expect("temper binary")
            .args(["check", "--no-cache", "lone.rs"])
            .args(args)
            .current_dir(temp.path())
            .env("NO_COLOR", "1")
            .output()
            .expect("temper check runs")
    };
    // Newest edition by default: `gen` is reserved.
    let default = run(&[]);
    assert!(
        String::from_utf8_lossy(&default.stderr).contains("syntax error"),
        "{default:?}"
    );
    let old = run(&["--edition", "2021"]);
    let stderr = String::from_utf8_lossy(&old.stderr);
    assert!(!stderr.contains("syntax error"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&old.stdout).contains("library_unwrap"),
        "{old:?}"
    );
    let bad = run(&["--edition", "2027"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("unsupported edition `2027`"),
        "{bad:?}"
    );
}

#[test]
fn a_manifest_with_an_unknown_edition_is_an_error_naming_it() {
    let temp = tempfile::tempdir().expect("tempdir");
    fs::create_dir_all(temp.path().join("src")).expect("mkdir");
    fs::write(
        temp.path().join("Cargo.toml"),
        "[package]\nname = \"x\"\nversion = \"0.1.0\"\nedition = \"2030\"\n",
    )
    .expect("write");
    fs::write(temp.path().join("src/lib.rs"), "pub fn f() {}\n").expect("write");
    let output = Command::cargo_bin("temper")
        .expect("temper binary")
        .args(["check", "--no-cache", "."])
        .current_dir(temp.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("temper check runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("Cargo.toml") && stderr.contains("unsupported edition `2030`"),
        "{stderr}"
    );
}

/// The async-cleanup fix writes `async fn` and `.await`: offered from 2018
/// on, never to a 2015 crate, where both are syntax errors.
#[test]
fn the_async_cleanup_fix_is_not_offered_to_edition_2015() {
    let source = "pub struct Conn { id: u64 }\nimpl Drop for Conn {\n    fn drop(&mut self) {\n        tokio::runtime::Handle::current().block_on(close(self.id));\n    }\n}\n";
    let fixes = |edition| {
        let analysis = temper_lints::analyze(
            source,
            edition,
            &temper_lints::Options::default(),
            &temper_lints::CrateFacts::default(),
        );
        assert!(analysis.parse_errors.is_empty(), "{analysis:?}");
        let drops: Vec<_> = analysis
            .findings
            .into_iter()
            .filter(|f| f.lint == "drop_without_async_cleanup")
            .collect();
        assert!(!drops.is_empty(), "no drop finding");
        (
            drops.iter().any(|f| f.fix.is_some()),
            drops.into_iter().flat_map(|f| f.notes).collect::<Vec<_>>(),
        )
    };
    let (fixed_2018, notes) = fixes(temper_lints::Edition::Edition2018);
    assert!(fixed_2018, "{notes:?}");
    let (fixed_2015, notes) = fixes(temper_lints::Edition::Edition2015);
    assert!(!fixed_2015);
    assert!(
        notes.iter().any(|n| n.contains("edition 2015")),
        "{notes:?}"
    );
}
