//! `temper fix`: check, apply fixes to a fixpoint, and write the result
//! atomically, or print it as a diff; with `--verify`, build the crate before
//! and after and take back every fix that introduced a compile error.
//!
//! The pieces: [`engine`] (the pure fixpoint loop, shared with the lint
//! fixture harness), [`syntax`] (the two-parser guard), [`write`](mod@write) (atomic,
//! only-if-unchanged writes), [`verify`] (cargo check and error attribution)
//! and [`cli`] (arguments, output, exit codes).

pub mod cli;
pub mod engine;
pub mod syntax;
pub mod verify;
pub mod write;

use crate::check::{self, CheckRequest, CheckedFile, RunSettings};
use crate::discover;
use crate::report::{FileNote, NoteSeverity, Reported};
use engine::{AppliedFix, Engine, FixKey, Fixpoint, Left, Rejection, SourceFile};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use temper_lints::Applicability;
use write::{BeforeWrite, WriteError};

/// How the result is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Write fixed files.
    #[default]
    Write,
    /// Compute the fixed files and write nothing.
    Diff,
}

/// What to fix and how.
#[derive(Debug)]
pub struct FixRequest {
    pub check: CheckRequest,
    /// Configured excludes (the analysis cache is not used: fixing re-lints
    /// texts that are not on disk yet).
    pub settings: RunSettings,
    /// Apply `Unsafe` fixes too (`--unsafe-fixes`).
    pub unsafe_fixes: bool,
    pub mode: Mode,
    /// Build with `cargo check` before and after; revert what broke.
    pub verify: bool,
    /// The features `--verify` builds with.
    pub features: verify::Features,
    pub max_rounds: usize,
}

impl Default for FixRequest {
    fn default() -> FixRequest {
        FixRequest {
            check: CheckRequest::default(),
            settings: RunSettings::default(),
            unsafe_fixes: false,
            mode: Mode::Write,
            verify: false,
            features: verify::Features::default(),
            max_rounds: engine::MAX_ROUNDS,
        }
    }
}

impl FixRequest {
    pub fn threshold(&self) -> Applicability {
        if self.unsafe_fixes {
            Applicability::Unsafe
        } else {
            Applicability::Safe
        }
    }
}

/// A file whose text the fixes changed.
#[derive(Debug, Clone)]
pub struct FileChange {
    pub path: PathBuf,
    pub display: String,
    pub original: Arc<str>,
    pub fixed: String,
    /// Written to disk (always false with `--diff`).
    pub written: bool,
}

/// Everything `temper fix` did and did not do.
#[derive(Debug, Default)]
pub struct FixOutcome {
    /// Problems with inputs, from the check and from fixing.
    pub notes: Vec<FileNote>,
    /// Errors that are not about one file's text (bad manifests, cargo).
    pub errors: Vec<miette::Report>,
    pub files_checked: usize,
    /// The check could not read everything asked for.
    pub incomplete: bool,
    /// Files that needed writing and could not be written.
    pub write_failures: usize,
    /// Packages `--verify` could not build at all.
    pub verify_failures: usize,
    /// In path order.
    pub changes: Vec<FileChange>,
    /// Fixes in the files as written (or as they would be, with `--diff`).
    pub fixed: Vec<AppliedFix>,
    /// Findings still there, with why.
    pub left: Vec<Left>,
    /// Rounds of the final fixpoint run.
    pub rounds: usize,
    pub converged: bool,
}

/// Test hooks; not a user-facing knob.
#[doc(hidden)]
#[derive(Default)]
pub struct Hooks<'a> {
    /// Runs right before each file's on-disk check and rename.
    pub before_write: Option<&'a BeforeWrite<'a>>,
}

/// Runs `temper fix`.
pub fn run(request: &FixRequest) -> FixOutcome {
    run_with_hooks(request, &Hooks::default())
}

/// [`run`] with test hooks.
#[doc(hidden)]
pub fn run_with_hooks(request: &FixRequest, hooks: &Hooks<'_>) -> FixOutcome {
    // Re-linting and the two-parser guard run on this thread: give it the
    // stack the nesting limit was measured for.
    crate::stack::with_stack(|| run_on_this_thread(request, hooks))
}

fn run_on_this_thread(request: &FixRequest, hooks: &Hooks<'_>) -> FixOutcome {
    let checked = check::run_with(&request.check, &request.settings);
    let mut outcome = FixOutcome {
        notes: checked.notes,
        errors: checked.errors,
        files_checked: checked.files_checked,
        incomplete: checked.incomplete,
        converged: true,
        ..FixOutcome::default()
    };
    if request.mode == Mode::Write {
        remove_stale_temps(&checked.files, &mut outcome.notes);
    }
    let mut by_display: HashMap<String, Vec<Reported>> = HashMap::new();
    for reported in checked.findings {
        by_display
            .entry(reported.path.clone())
            .or_default()
            .push(reported);
    }
    let mut sources: Vec<SourceFile> = checked
        .files
        .iter()
        .map(|file| SourceFile {
            path: file.path.clone(),
            display: file.display.clone(),
            text: file.source.clone(),
            findings: by_display.remove(&file.display).unwrap_or_default(),
            base_dir: base_dir(&file.path),
            blocked: blocked(file, request.mode),
            parse_errors: Some(file.parse_errors),
            edition: file.edition,
        })
        .collect();
    add_edit_targets(&mut sources, request.mode);

    let by_path: HashMap<PathBuf, CheckedFile> = checked
        .files
        .into_iter()
        .map(|f| (f.path.clone(), f))
        .collect();
    let relint = move |path: &Path,
                       text: &str,
                       crate_files: &[(PathBuf, Arc<str>)],
                       index: &temper_lints::IndexCell| {
        by_path
            .get(path)
            .map(|file| check::recheck(&request.check, file, text, crate_files, index))
            .unwrap_or_default()
    };
    let engine = Engine {
        threshold: request.threshold(),
        max_rounds: request.max_rounds,
        relint: &relint,
    };

    let fixpoint = match (request.mode, request.verify) {
        (Mode::Diff, _) => engine.run(sources, &HashMap::new()),
        (Mode::Write, false) => {
            let fixpoint = engine.run(sources, &HashMap::new());
            let mut disk = Disk::new(&fixpoint);
            let failed = disk.write_all(&fixpoint, hooks, &mut outcome);
            return finish(outcome, fixpoint, &disk, &failed);
        }
        (Mode::Write, true) => {
            let (fixpoint, disk, failed) =
                verified(&engine, sources, &request.features, hooks, &mut outcome);
            return finish(outcome, fixpoint, &disk, &failed);
        }
    };
    finish(outcome, fixpoint, &Disk::default(), &HashMap::new())
}

/// Removes what an interrupted `temper fix` left beside the files it was
/// writing, and says so: the files themselves hold their old or new text.
fn remove_stale_temps(files: &[CheckedFile], notes: &mut Vec<FileNote>) {
    let dirs: BTreeSet<&Path> = files.iter().filter_map(|f| f.path.parent()).collect();
    let cwd = std::env::current_dir().unwrap_or_default();
    for dir in dirs {
        for removed in write::remove_stale_temps(dir) {
            notes.push(FileNote {
                path: check::display_path(&cwd, &removed),
                severity: NoteSeverity::Warning,
                message: "removed a temporary file left by an interrupted `temper fix` (the file it was for was not changed by it)".to_string(),
                span: None,
            });
        }
    }
}

/// The package directory that relative cross-file edit paths resolve against
/// (the file's own directory when it belongs to no package).
pub fn base_dir(path: &Path) -> PathBuf {
    discover::enclosing_manifest(path)
        .and_then(|m| m.parent().map(Path::to_path_buf))
        .or_else(|| path.parent().map(Path::to_path_buf))
        .unwrap_or_default()
}

fn blocked(file: &CheckedFile, mode: Mode) -> Option<String> {
    if file.parse_errors > 0 {
        return Some("file has syntax errors".to_string());
    }
    if mode == Mode::Write && write::is_read_only(&file.path) {
        return Some(write::READ_ONLY.to_string());
    }
    None
}

/// Reads the files that cross-file edits aim at but the check did not read
/// (one file of a crate named on the command line).
fn add_edit_targets(sources: &mut Vec<SourceFile>, mode: Mode) {
    let known: BTreeSet<PathBuf> = sources.iter().map(|s| s.path.clone()).collect();
    // Cross-file edits stay inside the crate: the target takes the edition
    // of the file whose fix aims at it.
    let mut wanted: BTreeMap<PathBuf, (PathBuf, temper_lints::Edition)> = BTreeMap::new();
    for source in sources.iter() {
        for reported in &source.findings {
            let Some(fix) = &reported.finding.fix else {
                continue;
            };
            for edit in &fix.edits {
                let Some(path) = &edit.file else { continue };
                let target = engine::resolve_path(path, &source.base_dir);
                if !known.contains(&target) {
                    wanted.insert(target, (source.base_dir.clone(), source.edition));
                }
            }
        }
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    for (path, (base, edition)) in wanted {
        let Ok(text) = std::fs::read_to_string(&path) else {
            // The fix is rejected as aiming at a file that was not read.
            continue;
        };
        let parse_errors = syntax::ra_parse(&text, edition).errors;
        let blocked = if parse_errors > 0 {
            Some("file has syntax errors".to_string())
        } else if mode == Mode::Write && write::is_read_only(&path) {
            Some(write::READ_ONLY.to_string())
        } else {
            None
        };
        sources.push(SourceFile {
            display: check::display_path(&cwd, &path),
            path,
            text: Arc::from(text),
            findings: Vec::new(),
            base_dir: base,
            blocked,
            parse_errors: Some(parse_errors),
            edition,
        });
    }
}

/// What is on disk for the files the fixer may write: the text read, then
/// what was last written.
#[derive(Default)]
struct Disk {
    expected: HashMap<PathBuf, String>,
    displays: HashMap<PathBuf, String>,
    written: BTreeSet<PathBuf>,
}

impl Disk {
    fn new(fixpoint: &Fixpoint) -> Disk {
        let mut disk = Disk::default();
        for file in &fixpoint.files {
            disk.expected
                .insert(file.path.clone(), file.original.to_string());
            disk.displays
                .insert(file.path.clone(), file.display.clone());
        }
        disk
    }

    /// Writes every file whose fixed text differs from what is on disk;
    /// returns the files that could not be written, with why.
    fn write_all(
        &mut self,
        fixpoint: &Fixpoint,
        hooks: &Hooks<'_>,
        outcome: &mut FixOutcome,
    ) -> HashMap<PathBuf, WriteError> {
        let mut failed = HashMap::new();
        for file in &fixpoint.files {
            self.write(&file.path, &file.text, hooks, outcome, &mut failed);
        }
        failed
    }

    fn write(
        &mut self,
        path: &Path,
        text: &str,
        hooks: &Hooks<'_>,
        outcome: &mut FixOutcome,
        failed: &mut HashMap<PathBuf, WriteError>,
    ) -> bool {
        let Some(expected) = self.expected.get(path) else {
            return false;
        };
        if expected == text {
            return false;
        }
        let display = self.displays.get(path).cloned().unwrap_or_default();
        match write::write_if_unchanged(
            path,
            &display,
            expected.as_bytes(),
            text,
            hooks.before_write,
        ) {
            Ok(()) => {
                self.expected.insert(path.to_path_buf(), text.to_string());
                self.written.insert(path.to_path_buf());
                true
            }
            Err(error) => {
                outcome.write_failures += 1;
                outcome.notes.push(FileNote {
                    path: display,
                    severity: NoteSeverity::Error,
                    message: error_message(&error),
                    span: None,
                });
                // Never touch it again in this run: it is not ours any more.
                self.expected.remove(path);
                failed.insert(path.to_path_buf(), error);
                false
            }
        }
    }
}

fn error_message(error: &WriteError) -> String {
    let text = error.to_string();
    // The note already names the file.
    match text.split_once(": ") {
        Some((_, rest)) => rest.to_string(),
        None => text,
    }
}

/// How many times `--verify` reverts and rebuilds before giving up and
/// restoring the original files.
const MAX_VERIFY_ROUNDS: usize = 8;

/// The `--verify` loop: build before; then fix, write, build, and blacklist
/// the fixes new errors are attributed to, until no new error is left.
fn verified(
    engine: &Engine<'_>,
    sources: Vec<SourceFile>,
    features: &verify::Features,
    hooks: &Hooks<'_>,
    outcome: &mut FixOutcome,
) -> (Fixpoint, Disk, HashMap<PathBuf, WriteError>) {
    let cwd = std::env::current_dir().unwrap_or_default();
    let display = |path: &Path| check::display_path(&cwd, path);
    let mut sources = sources;
    let mut blacklist: HashMap<FixKey, Rejection> = HashMap::new();
    let mut fixpoint = engine.run(sources.clone(), &blacklist);
    let mut disk = Disk::new(&fixpoint);
    let mut failed: HashMap<PathBuf, WriteError> = HashMap::new();

    // The baseline: every package with a changed file, built as it is on disk.
    let mut before: BTreeMap<PathBuf, verify::Checked> = BTreeMap::new();
    let mut unverifiable: BTreeMap<PathBuf, String> = BTreeMap::new();
    for file in fixpoint.files.iter().filter(|f| f.changed()) {
        let Some(manifest) = discover::enclosing_manifest(&file.path) else {
            outcome.notes.push(FileNote {
                path: file.display.clone(),
                severity: NoteSeverity::Warning,
                message: "not in a Cargo package; fixes were not verified by a build".to_string(),
                span: None,
            });
            continue;
        };
        if before.contains_key(&manifest) || unverifiable.contains_key(&manifest) {
            continue;
        }
        eprintln!(
            "verifying: cargo check {} (before fixing)",
            display(&manifest)
        );
        match verify::cargo_check(&manifest, &display(&manifest), features) {
            Ok(checked) => {
                let errors = &checked.errors;
                if !errors.is_empty() {
                    outcome.notes.push(FileNote {
                        path: display(&manifest),
                        severity: NoteSeverity::Warning,
                        message: format!(
                            "does not compile before fixing ({} error{}, first: {}); fixes are judged only by not adding errors",
                            errors.len(),
                            if errors.len() == 1 { "" } else { "s" },
                            errors[0].describe(&display)
                        ),
                        span: None,
                    });
                }
                before.insert(manifest, checked);
            }
            Err(error) => {
                outcome.verify_failures += 1;
                unverifiable.insert(manifest, error.to_string());
                outcome.errors.push(miette::Report::new(error));
            }
        }
    }
    if !unverifiable.is_empty() {
        // Fixes in a package that cannot be built are not applied: --verify
        // promised a build, and there is none to trust.
        for source in &mut sources {
            let Some(manifest) = discover::enclosing_manifest(&source.path) else {
                continue;
            };
            if unverifiable.contains_key(&manifest) && source.blocked.is_none() {
                source.blocked = Some("cannot verify: `cargo check` failed".to_string());
            }
        }
        fixpoint = engine.run(sources.clone(), &blacklist);
    }
    // A fix in a file no target compiles on this host (a module behind
    // `#[cfg(target_os = "macos")]`, a disabled feature) is checked by no
    // build here: refused before anything is written. Refusing one may let
    // another fix in, so until none touches such a file.
    for _ in 0..MAX_VERIFY_ROUNDS {
        let mut refused = false;
        for fix in &fixpoint.applied {
            let unbuilt = fix.footprint.iter().find(|(path, _)| {
                before.iter().any(|(manifest, checked)| {
                    !checked.sources.is_empty()
                        && path.starts_with(manifest.parent().unwrap_or_else(|| Path::new(".")))
                        && !checked.sources.contains(&discover::normalize(path))
                })
            });
            if let Some((path, _)) = unbuilt {
                refused = true;
                let message = format!(
                    "{} is not compiled on this host (a `cfg` leaves it out), so no build here checks the fix",
                    display(path)
                );
                blacklist.insert(fix.key.clone(), Rejection::Verify { message });
            }
        }
        if !refused {
            break;
        }
        fixpoint = engine.run(sources.clone(), &blacklist);
    }

    let mut settled = false;
    for _ in 0..MAX_VERIFY_ROUNDS {
        for file in &fixpoint.files {
            disk.write(&file.path, &file.text, hooks, outcome, &mut failed);
        }
        if !failed.is_empty() {
            for source in &mut sources {
                if let Some(error) = failed.get(&source.path) {
                    source
                        .blocked
                        .get_or_insert_with(|| error.short().to_string());
                }
            }
        }
        let texts: HashMap<PathBuf, &str> = fixpoint
            .files
            .iter()
            .map(|f| (f.path.clone(), f.text.as_str()))
            .collect();
        let mut blamed: BTreeMap<usize, String> = BTreeMap::new();
        let mut broken = false;
        for (manifest, checked) in &before {
            let baseline = &checked.errors;
            let package_dir = manifest.parent().unwrap_or_else(|| Path::new("."));
            let edition = discover::read_manifest(manifest, "")
                .map_or(temper_lints::Edition::LATEST, |p| p.edition);
            let touched = disk
                .written
                .iter()
                .any(|p| discover::enclosing_manifest(p).as_ref() == Some(manifest));
            if !touched {
                continue;
            }
            eprintln!(
                "verifying: cargo check {} (after fixing)",
                display(manifest)
            );
            let after = match verify::cargo_check(manifest, &display(manifest), features) {
                Ok(after) => after.errors,
                Err(error) => {
                    // The build broke so badly that cargo has no errors to
                    // show: blame every fix of the package.
                    let message = error.to_string();
                    for (i, fix) in fixpoint.applied.iter().enumerate() {
                        if fix
                            .footprint
                            .iter()
                            .any(|(p, _)| p.starts_with(package_dir))
                        {
                            blamed.entry(i).or_insert_with(|| message.clone());
                        }
                    }
                    broken = true;
                    continue;
                }
            };
            for error in verify::new_errors(baseline, &after) {
                broken = true;
                let message = error.describe(&display);
                for i in verify::attribute(&error, &fixpoint.applied, &texts, package_dir, edition)
                {
                    blamed.entry(i).or_insert_with(|| message.clone());
                }
            }
        }
        if !broken {
            settled = true;
            break;
        }
        if blamed.is_empty() {
            break;
        }
        for (i, message) in blamed {
            if let Some(fix) = fixpoint.applied.get(i) {
                blacklist.insert(fix.key.clone(), Rejection::Verify { message });
            }
        }
        fixpoint = engine.run(sources.clone(), &blacklist);
    }
    if !settled {
        // Could not get back to a build no worse than before: restore every
        // file as it was read, and say so.
        outcome.errors.push(miette::miette!(
            code = "temper::fix::verify",
            "--verify could not find a set of fixes that keeps the build as good as before; every file was restored"
        ));
        outcome.verify_failures += 1;
        for source in &mut sources {
            source
                .blocked
                .get_or_insert_with(|| "reverted by --verify".to_string());
        }
        fixpoint = engine.run(sources, &blacklist);
        for file in &fixpoint.files {
            disk.write(&file.path, &file.text, hooks, outcome, &mut failed);
        }
    }
    (fixpoint, disk, failed)
}

/// Maps 1-based lines of a fixed text back to the original text's lines.
struct LineMap {
    /// For each fixed line (0-based): its original line (0-based) and whether
    /// the two lines are the same text (the column then carries over).
    lines: Vec<(usize, bool)>,
}

impl LineMap {
    fn new(original: &str, fixed: &str) -> LineMap {
        let diff = similar::TextDiff::from_lines(original, fixed);
        let mut lines = Vec::new();
        for op in diff.ops() {
            let (tag, old, new) = op.as_tag_tuple();
            for (i, _) in new.enumerate() {
                lines.push(match tag {
                    similar::DiffTag::Equal => (old.start + i, true),
                    // An inserted or rewritten line: the original line it
                    // replaces (or the one it was inserted before).
                    _ => (old.start + i.min(old.len().saturating_sub(1)), false),
                });
            }
        }
        LineMap { lines }
    }

    /// The on-disk position of a 1-based (line, column) in the fixed text.
    /// On a line that was changed, the column is where the word found there
    /// (`unwrap`, `expect`, ..) stands in the original line, when it stands
    /// there once; else the line's start.
    fn on_disk(&self, line: usize, column: usize, texts: (&str, &str)) -> (usize, usize) {
        match line.checked_sub(1).and_then(|i| self.lines.get(i)) {
            Some(&(old, true)) => (old + 1, column),
            Some(&(old, false)) => {
                let (original, fixed) = texts;
                let now = fixed.lines().nth(line - 1).unwrap_or("");
                let word: String = now
                    .chars()
                    .skip(column.saturating_sub(1))
                    .take_while(|c| is_word_char(*c))
                    .collect();
                let before = original.lines().nth(old).unwrap_or("");
                let in_now = word_offsets(now, &word);
                let in_before = word_offsets(before, &word);
                let at = now
                    .char_indices()
                    .nth(column.saturating_sub(1))
                    .map(|(at, _)| at);
                // Which occurrence of the word the finding is, counted from
                // the line's start when the fixes kept every occurrence, else
                // from its end (an inner call rewritten before the outer one).
                let nth = in_now.iter().position(|&o| Some(o) == at);
                let found = match nth {
                    _ if word.is_empty() => None,
                    Some(n) if in_now.len() == in_before.len() => in_before.get(n),
                    Some(n) => in_before
                        .len()
                        .checked_sub(in_now.len() - n)
                        .and_then(|i| in_before.get(i)),
                    None => None,
                };
                let column = found.map_or(1, |&o| before[..o].chars().count() + 1);
                (old + 1, column)
            }
            None => (line, column),
        }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Byte offsets where `word` stands in `line` as a whole word.
fn word_offsets(line: &str, word: &str) -> Vec<usize> {
    if word.is_empty() {
        return Vec::new();
    }
    line.match_indices(word)
        .map(|(at, _)| at)
        .filter(|&at| {
            !line[..at].chars().next_back().is_some_and(is_word_char)
                && !line[at + word.len()..]
                    .chars()
                    .next()
                    .is_some_and(is_word_char)
        })
        .collect()
}

/// Fills the outcome from the final fixpoint and what reached the disk.
fn finish(
    mut outcome: FixOutcome,
    fixpoint: Fixpoint,
    disk: &Disk,
    failed: &HashMap<PathBuf, WriteError>,
) -> FixOutcome {
    outcome.rounds = fixpoint.rounds;
    outcome.converged = fixpoint.converged;
    if !fixpoint.converged {
        let last: BTreeSet<&str> = fixpoint
            .applied
            .iter()
            .filter(|fix| fix.round == fixpoint.rounds)
            .map(|fix| fix.display.as_str())
            .collect();
        for display in last {
            outcome.notes.push(FileNote {
                path: display.to_string(),
                severity: NoteSeverity::Warning,
                message: format!(
                    "fixes did not converge within {} rounds; the result is kept (it parses), findings are left",
                    fixpoint.rounds
                ),
                span: None,
            });
        }
    }
    for fix in fixpoint.applied {
        let failure = fix
            .footprint
            .iter()
            .find_map(|(path, _)| failed.get(path).map(|e| (path, e)));
        match failure {
            Some((_, error)) => outcome.left.push(Left {
                display: fix.display.clone(),
                line: fix.line,
                column: fix.column,
                lint: fix.lint,
                level: fix.level,
                message: fix.message.clone(),
                reason: error.short().to_string(),
                detail: Some(error.to_string()),
                unsafe_available: false,
            }),
            None => outcome.fixed.push(fix),
        }
    }
    outcome.left.extend(fixpoint.left);
    // A finding left in a file that was not written (`--diff`, a failed
    // write) is found in the fixed text; report it where it is on disk.
    for file in fixpoint.files.iter().filter(|file| file.changed()) {
        let written = disk.written.contains(&file.path) && !failed.contains_key(&file.path);
        if written {
            continue;
        }
        let map = LineMap::new(&file.original, &file.text);
        for left in outcome
            .left
            .iter_mut()
            .filter(|left| left.display == file.display)
        {
            (left.line, left.column) =
                map.on_disk(left.line, left.column, (&file.original, &file.text));
        }
    }
    outcome
        .left
        .sort_by(|a, b| (&a.display, a.line, a.column).cmp(&(&b.display, b.line, b.column)));
    for file in fixpoint.files {
        if !file.changed() {
            continue;
        }
        let written = disk.written.contains(&file.path) && !failed.contains_key(&file.path);
        outcome.changes.push(FileChange {
            path: file.path,
            display: file.display,
            original: file.original,
            fixed: file.text,
            written,
        });
    }
    outcome.changes.sort_by(|a, b| a.display.cmp(&b.display));
    outcome
}
