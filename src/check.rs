//! `temper check`: paths → discovery → parse and lint each file in parallel →
//! classify files by target → sorted findings and notes.

use crate::discover::{self, FileRole, ModuleSource, Package, PackageIndex, WorkspaceMembers};
use crate::report::{FileNote, LineIndex, NoteSeverity, Reported};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use temper_lints::{CrateFacts, Edition, FileAnalysis, Level, ModDecl, Options, registry};

/// Lint levels after configuration and command-line overrides.
#[derive(Debug, Clone, Default)]
pub struct Levels {
    overrides: BTreeMap<&'static str, Level>,
}

impl Levels {
    pub fn set(&mut self, lint: &'static str, level: Level) {
        self.overrides.insert(lint, level);
    }

    /// Sets every lint currently at `warn` to `deny` (`-D warnings`).
    pub fn deny_warnings(&mut self) {
        for lint in crate::suppress::all_lints() {
            if self.level(lint.name) == Level::Warn {
                self.set(lint.name, Level::Deny);
            }
        }
    }

    pub fn level(&self, lint: &str) -> Level {
        if let Some(level) = self.overrides.get(lint) {
            return *level;
        }
        registry::lint(lint).map_or(Level::Warn, |l| l.default_level)
    }
}

/// What to check and how.
#[derive(Debug, Clone, Default)]
pub struct CheckRequest {
    pub paths: Vec<PathBuf>,
    pub options: Options,
    pub levels: Levels,
}

/// Everything a check found.
#[derive(Debug, Default)]
pub struct CheckOutcome {
    /// Sorted by path, then position.
    pub findings: Vec<Reported>,
    /// Problems with inputs (unreadable files, bad manifests, parse errors).
    pub notes: Vec<FileNote>,
    /// Rendered errors that are not about a single file's text (bad manifests).
    pub errors: Vec<miette::Report>,
    pub files_checked: usize,
    /// Something asked for could not be checked: exit code 2.
    pub incomplete: bool,
    /// Every checked file with its text, for fixing.
    pub files: Vec<CheckedFile>,
}

/// A file that was read and analysed.
#[derive(Debug, Clone)]
pub struct CheckedFile {
    pub path: PathBuf,
    pub display: String,
    pub source: Arc<str>,
    pub parse_errors: usize,
    /// Compiled into a library target: `library_only` findings apply.
    pub library: bool,
    /// The facts of the file's package, for re-linting it ([`recheck`]).
    pub facts: CrateFacts,
}

struct Candidate {
    path: PathBuf,
    /// Named on the command line: checked even if no target compiles it.
    explicit: bool,
}

struct Analysed {
    path: PathBuf,
    /// Empty when `dropped`.
    source: Arc<str>,
    analysis: FileAnalysis,
    /// The text of a file without findings or parse errors was let go right
    /// after its analysis (`RunSettings::drop_clean_sources`).
    dropped: bool,
}

/// How a check runs, beyond what it checks: configured excludes and the
/// analysis cache.
#[derive(Debug, Default)]
pub struct RunSettings {
    /// Files matching these globs are not checked, even when named.
    pub exclude: crate::config::Exclude,
    /// The directory holding `.temper-cache/`; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Keep the text of files without findings in [`CheckOutcome::files`]
    /// only when the caller needs it (the fixer does; `check` does not): peak
    /// memory then follows the largest files, not the size of the corpus.
    pub drop_clean_sources: bool,
}

/// Sizes rayon's global pool (`-j`); without a count rayon uses one thread
/// per core. Its threads get stacks deep enough for any file within
/// [`temper_lints::lex::MAX_NESTING`].
pub fn use_threads(threads: Option<usize>) {
    crate::stack::init_pool(threads);
}

/// Runs a check over the requested paths, without excludes or cache.
pub fn run(request: &CheckRequest) -> CheckOutcome {
    run_with(request, &RunSettings::default())
}

/// Runs a check over the requested paths, on threads with stacks for the
/// deepest file temper accepts.
pub fn run_with(request: &CheckRequest, settings: &RunSettings) -> CheckOutcome {
    crate::stack::with_stack(|| run_on_this_thread(request, settings))
}

fn run_on_this_thread(request: &CheckRequest, settings: &RunSettings) -> CheckOutcome {
    let mut outcome = CheckOutcome::default();
    let cwd = std::env::current_dir().unwrap_or_default();
    let display = |path: &Path| display_path(&cwd, path);

    let mut candidates: Vec<Candidate> = Vec::new();
    let mut manifests: Vec<PathBuf> = Vec::new();
    let paths = if request.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        request.paths.clone()
    };
    for given in &paths {
        let absolute = discover::normalize(&cwd.join(given));
        if !absolute.exists() {
            outcome.notes.push(error_note(
                &given.to_string_lossy(),
                "no such file or directory",
            ));
            outcome.incomplete = true;
            continue;
        }
        if let Some(manifest) = discover::enclosing_manifest(&absolute) {
            manifests.push(manifest);
        }
        if absolute.is_dir() {
            walk(
                &absolute,
                &display,
                &mut candidates,
                &mut manifests,
                &mut outcome,
            );
        } else {
            candidates.push(Candidate {
                path: absolute,
                explicit: true,
            });
        }
    }

    // Packages: every manifest found, once.
    manifests.sort();
    manifests.dedup();
    let mut index = PackageIndex::default();
    let mut broken: Vec<PathBuf> = Vec::new();
    for manifest in &manifests {
        match discover::read_manifest(manifest, &display(manifest)) {
            Ok(package) => {
                index.packages.insert(package.dir.clone(), package);
            }
            Err(error) => {
                outcome.errors.push(miette::Report::new(error));
                outcome.incomplete = true;
                if let Some(dir) = manifest.parent() {
                    broken.push(dir.to_path_buf());
                }
            }
        }
    }
    // A target root that exists but is not a file (a directory named
    // `lib.rs`) would otherwise leave its whole target silently unchecked.
    for package in index.packages.values() {
        let mut roots: Vec<PathBuf> = package.targets.iter().map(|t| t.root.clone()).collect();
        roots.push(package.dir.join("src/lib.rs"));
        roots.push(package.dir.join("src/main.rs"));
        roots.sort();
        roots.dedup();
        for root in roots.iter().filter(|r| r.exists() && !r.is_file()) {
            outcome.notes.push(error_note(
                &display(root),
                "a target root that is not a file (a directory?); its target cannot be checked",
            ));
            outcome.incomplete = true;
        }
    }
    candidates.sort_by(|a, b| a.path.cmp(&b.path));
    candidates.dedup_by(|a, b| {
        if a.path == b.path {
            b.explicit |= a.explicit;
            true
        } else {
            false
        }
    });
    // A package whose manifest does not parse cannot be classified; its files
    // are left unchecked rather than guessed at (the error says why).
    candidates.retain(|c| {
        !broken
            .iter()
            .any(|dir| index.owner(&c.path).is_none() && c.path.starts_with(dir))
    });
    candidates.retain(|c| !settings.exclude.matches(&c.path));

    let cache = settings
        .cache_dir
        .as_deref()
        .map(|dir| crate::cache::Cache::open(dir, &request.options));

    let default_facts = CrateFacts::default();
    let analysed: Vec<Result<Analysed, FileNote>> = candidates
        .par_iter()
        .map(|candidate| {
            let facts = index
                .owner(&candidate.path)
                .map_or(&default_facts, |p| &p.facts);
            analyse(
                &candidate.path,
                &display(&candidate.path),
                &request.options,
                facts,
                cache.as_ref(),
            )
            .map(|mut file| {
                if settings.drop_clean_sources
                    && file.analysis.findings.is_empty()
                    && file.analysis.parse_errors.is_empty()
                {
                    file.source = Arc::from("");
                    file.dropped = true;
                }
                file
            })
        })
        .collect();
    if let Some(cache) = cache {
        cache.save();
    }

    let mut by_path: HashMap<PathBuf, Analysed> = HashMap::new();
    for result in analysed {
        match result {
            Ok(file) => {
                by_path.insert(file.path.clone(), file);
            }
            Err(note) => {
                outcome.incomplete = true;
                outcome.notes.push(note);
            }
        }
    }

    let roles = classify_all(&index, &by_path);
    let crate_files = crate_files_for_completion(&index, &by_path);
    for candidate in &candidates {
        let Some(mut file) = by_path.remove(&candidate.path) else {
            continue;
        };
        if file.analysis.findings.iter().any(|f| f.crate_fix.is_some()) {
            let own = [(candidate.path.clone(), file.source.clone())];
            let files = index
                .owner(&candidate.path)
                .and_then(|package| crate_files.get(&package.dir))
                .map_or(&own[..], Vec::as_slice);
            let context = temper_lints::CrateContext {
                file: &candidate.path,
                files,
                edition: Edition::Edition2024,
            };
            temper_lints::complete_fixes(&mut file.analysis.findings, &context);
        }
        let role = match index.owner(&candidate.path) {
            Some(package) => roles
                .get(&package.dir)
                .and_then(|r| r.get(&candidate.path))
                .cloned(),
            // Outside any Cargo package: checked as library code.
            None => Some(library_role()),
        };
        let is_library = match &role {
            Some(role) if role.is_compiled() => role.is_library(),
            // Not compiled by any target: a file found by walking a directory is
            // not part of the crate (as rustc and clippy see it); a file named on
            // the command line is checked as a crate root of its own.
            _ if candidate.explicit => true,
            _ => continue,
        };
        outcome.files_checked += 1;
        let shown = display(&candidate.path);
        if !file.analysis.parse_errors.is_empty() {
            let first = &file.analysis.parse_errors[0];
            let count = file.analysis.parse_errors.len();
            outcome.notes.push(FileNote {
                path: shown.clone(),
                severity: NoteSeverity::Note,
                message: format!(
                    "{count} syntax error{} ({}); findings were checked where the file parses",
                    if count == 1 { "" } else { "s" },
                    first.message
                ),
                span: Some((file.source.clone(), first.range.clone())),
            });
        }
        outcome.findings.extend(report_findings(
            request,
            &shown,
            &file.source,
            is_library,
            file.analysis.findings,
        ));
        outcome.files.push(CheckedFile {
            path: candidate.path.clone(),
            display: shown,
            source: file.source,
            parse_errors: file.analysis.parse_errors.len(),
            library: is_library,
            facts: index
                .owner(&candidate.path)
                .map_or_else(CrateFacts::default, |p| p.facts.clone()),
        });
    }
    outcome
        .findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    outcome.notes.sort_by(|a, b| a.path.cmp(&b.path));
    outcome
}

/// Lints `source` as the new text of `file`, keeping what [`run`] decided
/// about it (package facts, library or not, levels): the fixer's re-check
/// after each round of edits. `crate_files` are the current texts of the
/// files of its package (the file included, absolute paths), for completing
/// fixes that reach across files, as [`run`] does.
pub fn recheck(
    request: &CheckRequest,
    file: &CheckedFile,
    source: &str,
    crate_files: &[(PathBuf, Arc<str>)],
) -> Vec<Reported> {
    let mut analysis =
        temper_lints::analyze(source, Edition::Edition2024, &request.options, &file.facts);
    if analysis.findings.iter().any(|f| f.crate_fix.is_some()) {
        let context = temper_lints::CrateContext {
            file: &file.path,
            files: crate_files,
            edition: Edition::Edition2024,
        };
        temper_lints::complete_fixes(&mut analysis.findings, &context);
    }
    let shared: Arc<str> = Arc::from(source);
    report_findings(
        request,
        &file.display,
        &shared,
        file.library,
        analysis.findings,
    )
}

/// The findings of one file that apply at their effective level; shared by
/// [`run`] and [`recheck`] so a fix round sees exactly what `check` reports.
fn report_findings(
    request: &CheckRequest,
    shown: &str,
    source: &Arc<str>,
    is_library: bool,
    findings: Vec<temper_lints::Finding>,
) -> Vec<Reported> {
    let applicable: Vec<_> = findings
        .into_iter()
        .filter(|finding| !finding.library_only || is_library)
        .map(|mut finding| {
            // A fix that still waits for the crate-wide pass (the fixer's
            // re-check of one file) is incomplete: never offer half of it.
            if finding.crate_fix.is_some() {
                finding.fix = None;
            }
            finding
        })
        .collect();
    // Inline suppressions see every applicable finding, whatever its level,
    // so a suppression of an allowed lint is not reported as unused.
    let kept = crate::suppress::apply(source, applicable);
    if kept.is_empty() {
        // Most files: no line index to build.
        return Vec::new();
    }
    let line_index = LineIndex::new(source);
    kept.into_iter()
        .filter_map(|finding| {
            let level = request.levels.level(finding.lint);
            if level == Level::Allow {
                return None;
            }
            Some(Reported::new(
                shown.to_string(),
                source.clone(),
                &line_index,
                level,
                finding,
            ))
        })
        .collect()
}

/// The sources of every package that has a finding whose fix reaches across
/// files; other packages need none, so nothing is copied for them.
fn crate_files_for_completion(
    index: &PackageIndex,
    analysed: &HashMap<PathBuf, Analysed>,
) -> HashMap<PathBuf, Vec<(PathBuf, Arc<str>)>> {
    let mut wanted: Vec<&Path> = analysed
        .values()
        .filter(|file| file.analysis.findings.iter().any(|f| f.crate_fix.is_some()))
        .filter_map(|file| index.owner(&file.path).map(|p| p.dir.as_path()))
        .collect();
    wanted.sort();
    wanted.dedup();
    let mut out: HashMap<PathBuf, Vec<(PathBuf, Arc<str>)>> = HashMap::new();
    for file in analysed.values() {
        let Some(package) = index.owner(&file.path) else {
            continue;
        };
        if wanted.contains(&package.dir.as_path()) {
            out.entry(package.dir.clone())
                .or_default()
                .push((file.path.clone(), source_of(file)));
        }
    }
    for files in out.values_mut() {
        files.sort_by(|a, b| a.0.cmp(&b.0));
    }
    out
}

/// A file's text, read again when it was dropped after analysis: only the
/// rare crate-wide fix completion needs the text of clean files.
fn source_of(file: &Analysed) -> Arc<str> {
    if !file.dropped {
        return file.source.clone();
    }
    std::fs::read_to_string(&file.path).map_or_else(|_| file.source.clone(), Arc::from)
}

fn library_role() -> FileRole {
    let mut role = FileRole::default();
    role.kinds.insert(discover::TargetKind::Lib);
    role
}

fn error_note(path: &str, message: &str) -> FileNote {
    FileNote {
        path: path.to_string(),
        severity: NoteSeverity::Error,
        message: message.to_string(),
        span: None,
    }
}

/// Reads and analyses one file; the tree is dropped before returning, only
/// findings and module declarations are kept.
fn analyse(
    path: &Path,
    shown: &str,
    options: &Options,
    facts: &CrateFacts,
    cache: Option<&crate::cache::Cache>,
) -> Result<Analysed, FileNote> {
    let cannot_read = |e: std::io::Error| error_note(shown, &format!("cannot read file: {e}"));
    let size = std::fs::metadata(path).map_err(cannot_read)?.len();
    if size > MAX_FILE_BYTES {
        return Err(error_note(
            shown,
            &too_large(&format!(
                "{size} bytes, beyond the limit of {MAX_FILE_BYTES}"
            )),
        ));
    }
    let bytes = std::fs::read(path).map_err(cannot_read)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        error_note(
            shown,
            &format!(
                "not valid UTF-8 (invalid byte at offset {}); skipped",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    // Measured before parsing: a file nested deeper than the parsers' stacks
    // hold is skipped, and every other file is still checked.
    if let Some(beyond) = temper_lints::lex::shape(&text).beyond_limits() {
        return Err(error_note(shown, &too_large(&beyond)));
    }
    let key = cache.map(|cache| cache.key(facts, &text));
    let cached = cache
        .zip(key.as_deref())
        .and_then(|(c, key)| c.get(path, key));
    let analysis = match cached {
        Some(analysis) => analysis,
        None => {
            let analysis = temper_lints::analyze(&text, Edition::Edition2024, options, facts);
            if let (Some(cache), Some(key)) = (cache, key) {
                cache.put(path, key, &analysis);
            }
            analysis
        }
    };
    Ok(Analysed {
        path: path.to_path_buf(),
        source: Arc::from(text),
        analysis,
        dropped: false,
    })
}

/// The note for a file beyond the limits of [`temper_lints::lex`] or
/// [`MAX_FILE_BYTES`]: what was exceeded, and that the file was skipped.
fn too_large(beyond: &str) -> String {
    format!("{beyond}; skipped (temper bounds the stack and memory one file may take)")
}

/// Files larger than this are not read at all.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

struct Modules<'a> {
    analysed: &'a HashMap<PathBuf, Analysed>,
}

impl ModuleSource for Modules<'_> {
    fn modules(&mut self, path: &Path) -> Option<(Vec<ModDecl>, bool)> {
        if let Some(file) = self.analysed.get(path) {
            return Some((file.analysis.modules.clone(), file.analysis.cfg_test));
        }
        // A file on the module path that was not asked for (checking one file
        // of a crate): read it for its declarations only.
        let text = std::fs::read_to_string(path).ok()?;
        Some(temper_lints::module_decls(&text, Edition::Edition2024))
    }
}

fn classify_all(
    index: &PackageIndex,
    analysed: &HashMap<PathBuf, Analysed>,
) -> HashMap<PathBuf, HashMap<PathBuf, FileRole>> {
    let mut modules = Modules { analysed };
    index
        .packages
        .values()
        .map(|package: &Package| {
            (
                package.dir.clone(),
                discover::classify(package, &mut modules),
            )
        })
        .collect()
}

/// Walks a directory for `.rs` files and Cargo manifests, honouring
/// `.gitignore`, skipping `target/` and packages that are not members of the
/// workspace being walked (fixtures, vendored crates).
fn walk(
    root: &Path,
    display: &dyn Fn(&Path) -> String,
    candidates: &mut Vec<Candidate>,
    manifests: &mut Vec<PathBuf>,
    outcome: &mut CheckOutcome,
) {
    let workspace = enclosing_workspace(root);
    let walker = ignore::WalkBuilder::new(root)
        .follow_links(true)
        .require_git(false)
        .filter_entry(move |entry| {
            let path = entry.path();
            if !entry.file_type().is_some_and(|t| t.is_dir()) || entry.depth() == 0 {
                return true;
            }
            if path.file_name().is_some_and(|n| n == "target")
                && path
                    .parent()
                    .is_some_and(|p| p.join("Cargo.toml").is_file())
            {
                return false;
            }
            if !path.join("Cargo.toml").is_file() {
                return true;
            }
            match &workspace {
                Some((ws_root, members)) if path.starts_with(ws_root) => {
                    members.contains(ws_root, path)
                }
                _ => true,
            }
        })
        .build();
    for entry in walker {
        match entry {
            Ok(entry) => {
                if !entry.file_type().is_some_and(|t| t.is_file()) {
                    continue;
                }
                let path = entry.path();
                if path.file_name().is_some_and(|n| n == "Cargo.toml") {
                    manifests.push(discover::normalize(path));
                } else if path.extension().is_some_and(|e| e == "rs") {
                    candidates.push(Candidate {
                        path: discover::normalize(path),
                        explicit: false,
                    });
                }
            }
            Err(error) => {
                let note = walk_note(&error, display);
                outcome.incomplete |= note.severity == NoteSeverity::Error;
                outcome.notes.push(note);
            }
        }
    }
}

fn walk_note(error: &ignore::Error, display: &dyn Fn(&Path) -> String) -> FileNote {
    let mut inner = error;
    let mut path = None;
    loop {
        match inner {
            ignore::Error::WithPath { path: p, err } => {
                path.get_or_insert(p.clone());
                inner = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                inner = err
            }
            ignore::Error::Loop { child, ancestor } => {
                return FileNote {
                    path: display(child),
                    severity: NoteSeverity::Warning,
                    message: format!(
                        "symbolic link loop back to {}; not followed",
                        display(ancestor)
                    ),
                    span: None,
                };
            }
            ignore::Error::Io(io) => {
                let shown = path
                    .as_deref()
                    .map_or_else(|| "<walk>".to_string(), display);
                let reason = match io.kind() {
                    std::io::ErrorKind::NotFound => "a broken symbolic link".to_string(),
                    _ => io.to_string(),
                };
                return error_note(&shown, &format!("cannot read file: {reason}"));
            }
            _ => break,
        }
    }
    let shown = path
        .as_deref()
        .map_or_else(|| "<walk>".to_string(), display);
    error_note(&shown, &inner.to_string())
}

fn enclosing_workspace(start: &Path) -> Option<(PathBuf, WorkspaceMembers)> {
    start.ancestors().find_map(|dir| {
        let manifest = dir.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).ok()?;
        if !text.lines().any(|l| l.trim() == "[workspace]") {
            return None;
        }
        let package = discover::read_manifest(&manifest, "").ok()?;
        Some((dir.to_path_buf(), package.workspace?))
    })
}

/// A path relative to the current directory when it is inside it.
pub fn display_path(cwd: &Path, path: &Path) -> String {
    let shown = path.strip_prefix(cwd).unwrap_or(path);
    let text = shown.to_string_lossy().replace('\\', "/");
    if text.is_empty() {
        ".".to_string()
    } else {
        text
    }
}
