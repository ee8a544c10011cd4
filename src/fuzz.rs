//! Fuzz target bodies: one plain function per entry point that takes outside
//! input. `fuzz/` runs them under libFuzzer (`cargo +nightly fuzz run NAME`);
//! `tests/fuzz.rs` replays every committed corpus file through the same
//! functions on stable, so CI never needs nightly. Each function panics when
//! temper breaks a promise on that input (a panic, an edit outside the file,
//! a fix that parses worse or does not settle); rejecting bad input with an
//! error is the expected outcome, not a failure.

use crate::fix::engine::{self, Engine, SourceFile};
use crate::fix::syntax;
use crate::report::{self, Reported, Style};
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use temper_lints::{Applicability, CrateFacts, Edition, Options};

/// A fuzz target body: takes any bytes, panics only on a broken promise.
pub type Target = fn(&[u8]);

/// Every target, by the name `fuzz/` and the corpus directories use.
pub const TARGETS: &[(&str, Target)] = &[
    ("analyze", analyze),
    ("baseline", baseline),
    ("config", config),
    ("fix_round_trip", fix_round_trip),
    ("suppressions", suppressions),
    #[cfg(feature = "wit")]
    ("wit_component", wit_component),
    #[cfg(feature = "wit")]
    ("wit_world", wit_world),
];

/// Where fuzzed Rust text claims to live; nothing is read or written there.
const FILE: &str = "/fuzz/src/lib.rs";

/// `temper_lints::analyze` and the rendering `temper check` does: no panic,
/// every finding and edit inside the text and on character boundaries.
pub fn analyze(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    crate::stack::with_stack(|| {
        for edition in [Edition::Edition2021, Edition::Edition2024] {
            let analysis =
                temper_lints::analyze(text, edition, &Options::default(), &CrateFacts::default());
            for error in &analysis.parse_errors {
                assert_in_text(text, &error.range, "a syntax error");
            }
            for finding in &analysis.findings {
                assert_in_text(text, &finding.range, finding.lint);
                for edit in finding.fix.iter().flat_map(|fix| &fix.edits) {
                    if edit.file.is_none() {
                        assert_in_text(text, &edit.range, finding.lint);
                    }
                }
            }
        }
        for reported in findings(text) {
            let _ = report::render_finding(&reported, Style::plain());
        }
    });
}

/// The fix round trip `temper fix --unsafe-fixes` makes: every fix to a
/// fixpoint, then the promises of DESIGN.md.
pub fn fix_round_trip(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    crate::stack::with_stack(|| {
        if let Err(broken) = fix_invariants(text) {
            panic!("fix round trip: {broken}");
        }
    });
}

/// Fixes `text` to a fixpoint and checks that the result parses with both
/// parsers at least as well as the input, that a second pass changes
/// nothing, and that no edit lies outside the file. Returns the fixed text.
pub fn fix_invariants(text: &str) -> Result<String, String> {
    let path = Path::new(FILE);
    let first_findings = findings(text);
    for reported in &first_findings {
        for edit in reported.finding.fix.iter().flat_map(|fix| &fix.edits) {
            let outside = edit.range.start > edit.range.end
                || edit.range.end > text.len()
                || !text.is_char_boundary(edit.range.start)
                || !text.is_char_boundary(edit.range.end);
            if edit.file.is_none() && outside {
                return Err(format!(
                    "{} edit {:?} lies outside the {}-byte file",
                    reported.finding.lint,
                    edit.range,
                    text.len()
                ));
            }
        }
    }
    let relint = |_: &Path, text: &str, _: &[(PathBuf, Arc<str>)], _: &temper_lints::IndexCell| {
        findings(text)
    };
    let engine = Engine {
        threshold: Applicability::Unsafe,
        max_rounds: engine::MAX_ROUNDS,
        relint: &relint,
    };
    let file = |text: &str, findings: Vec<Reported>| SourceFile {
        path: path.to_path_buf(),
        display: "lib.rs".to_string(),
        text: Arc::from(text),
        findings,
        base_dir: PathBuf::from("/fuzz"),
        blocked: None,
        parse_errors: None,
        edition: temper_lints::Edition::LATEST,
    };
    let first = engine.run(vec![file(text, first_findings)], &HashMap::new());
    let fixed = first
        .files
        .first()
        .map_or_else(|| text.to_string(), |f| f.text.to_string());
    let before = syntax::ra_parse(text, temper_lints::Edition::LATEST).errors;
    let after = syntax::ra_parse(&fixed, temper_lints::Edition::LATEST);
    if after.errors > before {
        return Err(format!(
            "the fixed text has {} ra_ap_syntax errors, the input {before}: {}",
            after.errors,
            after.first.unwrap_or_default()
        ));
    }
    if syntax::syn_parse(text).is_ok()
        && let Err(message) = syntax::syn_parse(&fixed)
    {
        return Err(format!("the fixed text does not parse with syn: {message}"));
    }
    if first.converged {
        let second = engine.run(vec![file(&fixed, findings(&fixed))], &HashMap::new());
        if second.files.first().is_some_and(|f| f.changed()) {
            return Err("a second fix pass changed the fixed text".to_string());
        }
    }
    Ok(fixed)
}

/// `temper.toml` and `[package.metadata.temper]` as `temper check` loads
/// them: a configuration or an error, never a panic.
pub fn config(data: &[u8]) {
    with_file("temper.toml", data, |path, cwd| {
        let _ = crate::config::load(path, cwd);
    });
    let mut manifest = b"[package]\nname = \"fuzz\"\n[package.metadata.temper]\n".to_vec();
    manifest.extend_from_slice(data);
    with_file("Cargo.toml", &manifest, |path, cwd| {
        let _ = crate::config::load(path, cwd);
    });
}

/// A baseline file: read, compared against findings, written back; what is
/// written reads back the same.
pub fn baseline(data: &[u8]) {
    with_file("baseline.json", data, |path, _| {
        let Ok(baseline) = crate::baseline::Baseline::read(path, "baseline.json") else {
            return;
        };
        let _ = baseline.compare(&[], &["src/lib.rs".to_string()]);
        let again = path.with_extension("again.json");
        if baseline.write(&again, "again.json").is_ok() {
            let reread = crate::baseline::Baseline::read(&again, "again.json");
            assert!(reread.is_ok(), "a written baseline does not read back");
        }
    });
}

/// Suppression comments: applied to every finding of the text, and
/// `--add-suppressions` run on it, whose output must suppress what it meant
/// to and still parse as well.
pub fn suppressions(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    crate::stack::with_stack(|| {
        let analysis = temper_lints::analyze(
            text,
            Edition::Edition2024,
            &Options::default(),
            &CrateFacts::default(),
        );
        let kept = crate::suppress::apply(text, analysis.findings.clone());
        for finding in &kept {
            assert_in_text(text, &finding.range, finding.lint);
        }
        let wanted: Vec<crate::suppress::ToSuppress> = kept
            .iter()
            .map(|f| crate::suppress::ToSuppress {
                lint: f.lint,
                offset: f.range.start,
            })
            .collect();
        let (added, _) = crate::suppress::add_comments(text, &wanted, "fuzz");
        if let Some(added) = added {
            let before = syntax::ra_parse(text, temper_lints::Edition::LATEST).errors;
            let after = syntax::ra_parse(&added, temper_lints::Edition::LATEST).errors;
            assert!(
                after <= before,
                "suppression comments made the text parse worse ({before} -> {after} errors)"
            );
        }
    });
}

/// `temper wit validate` on arbitrary bytes against the shipped world: a
/// report or an error, never a panic.
#[cfg(feature = "wit")]
pub fn wit_component(data: &[u8]) {
    let Some(world) = shipped_world() else {
        return;
    };
    if let Ok(report) = crate::wit::validate(data, world) {
        let _ = report.render_human(crate::wit::Style::Plain);
        let _ = report.render_json();
    }
}

/// A WIT package text: parsed and a world selected, or an error; a world
/// that loads yields a dummy component that validates as compatible with it.
#[cfg(feature = "wit")]
pub fn wit_world(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    crate::stack::with_stack(|| {
        let Ok(world) = crate::wit::load_world_source("fuzz.wit", text, None) else {
            return;
        };
        let Ok(component) = crate::wit::dummy_component(&world) else {
            return;
        };
        match crate::wit::validate(&component, &world) {
            Ok(report) => assert!(
                report.is_compatible(),
                "a dummy component is not compatible with its own world:\n{}",
                report.render_human(crate::wit::Style::Plain)
            ),
            Err(error) => panic!("a dummy component of a valid world does not validate: {error}"),
        }
    });
}

#[cfg(feature = "wit")]
fn shipped_world() -> Option<&'static crate::wit::ExpectedWorld> {
    static WORLD: std::sync::OnceLock<Option<crate::wit::ExpectedWorld>> =
        std::sync::OnceLock::new();
    WORLD
        .get_or_init(|| {
            crate::wit::load_world_source(
                "extractor.wit",
                include_str!("../wit/extractor.wit"),
                None,
            )
            .ok()
        })
        .as_ref()
}

/// Findings of `text` as a one-file library crate at default levels, with
/// crate-wide fixes completed, as the fixer sees them.
fn findings(text: &str) -> Vec<Reported> {
    crate::single::check_source(FILE, text, &Options::default(), &CrateFacts::default())
}

fn assert_in_text(text: &str, range: &Range<usize>, what: &str) {
    assert!(
        range.start <= range.end
            && range.end <= text.len()
            && text.is_char_boundary(range.start)
            && text.is_char_boundary(range.end),
        "{what}: range {range:?} is outside the {}-byte text or splits a character",
        text.len()
    );
}

/// Writes `data` to `name` in a fresh scratch directory and runs `use_file`
/// on it: the entry points under test read files themselves.
fn with_file(name: &str, data: &[u8], use_file: impl FnOnce(&Path, &Path)) {
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let path = dir.path().join(name);
    if std::fs::write(&path, data).is_ok() {
        use_file(&path, dir.path());
    }
}
