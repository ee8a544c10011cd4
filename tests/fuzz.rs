//! Replays every fuzz target's committed corpus (`fuzz/corpus/`) and the
//! repository's own fixtures through the same target bodies libFuzzer runs
//! (`temper::fuzz`), on the stable toolchain: every crash the fuzzers found
//! stays fixed, and CI never needs nightly.

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir`, recursively, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The inputs a target replays: its own corpus directory, plus the shared
/// seeds of its kind (Rust sources, WIT packages) that the fuzz runs started
/// from.
fn inputs(target: &str) -> Vec<PathBuf> {
    let mut out = files(&root().join("fuzz/corpus").join(target));
    match target {
        "analyze" | "fix_round_trip" | "suppressions" => {
            out.extend(files(&root().join("fuzz/corpus/rust")));
            out.extend(
                files(&root().join("fixtures/lints"))
                    .into_iter()
                    .filter(|p| p.extension().is_some_and(|e| e == "rs" || e == "fixed")),
            );
        }
        "wit_world" => out.extend(
            files(&root().join("fixtures/wit"))
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "wit")),
        ),
        _ => {}
    }
    out
}

#[test]
fn fuzz_corpora_replay_without_crashing() {
    let mut failures = Vec::new();
    for (name, target) in temper::fuzz::TARGETS {
        let inputs = inputs(name);
        assert!(
            inputs.len() >= 2,
            "fuzz target {name} has no corpus to replay under fuzz/corpus/{name}"
        );
        for input in inputs {
            let data = fs::read(&input).expect("corpus file reads");
            if let Err(panic) = std::panic::catch_unwind(|| target(&data)) {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{name} on {}: {message}", input.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_fuzz_target_has_a_libfuzzer_entry() {
    let manifest = fs::read_to_string(root().join("fuzz/Cargo.toml")).expect("fuzz/Cargo.toml");
    for (name, _) in temper::fuzz::TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] for {name}"
        );
        let entry = fs::read_to_string(root().join(format!("fuzz/fuzz_targets/{name}.rs")))
            .expect("fuzz target entry file");
        assert!(entry.contains(&format!("temper::fuzz::{name}(data)")));
    }
}

#[test]
fn fix_round_trip_holds_on_the_fixtures() {
    // The invariants themselves can fail: a fixture with fixes must come back
    // changed, and parse.
    let case = root().join("fixtures/lints/library_unwrap");
    let source = files(&case)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .find_map(|p| {
            let fixed = p.with_extension("fixed");
            fixed
                .exists()
                .then(|| fs::read_to_string(&p).expect("fixture reads"))
        })
        .expect("a library_unwrap fixture with a .fixed file");
    let fixed = temper::fuzz::fix_invariants(&source).expect("invariants hold");
    assert_ne!(fixed, source);
}
