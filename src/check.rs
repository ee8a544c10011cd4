//! `temper check`: paths → discovery → parse and lint each file in parallel →
//! classify files by target → sorted findings and notes.

use crate::discover::{self, FileRole, ModuleSource, Package, PackageIndex, Workspace};
use crate::report::{FileNote, LineIndex, NoteSeverity, Reported};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
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

    /// Sets every lint currently at `warn` to `level` (`-D warnings`,
    /// `-A warnings`).
    pub fn warnings_to(&mut self, level: Level) {
        for lint in crate::suppress::all_lints() {
            if self.level(lint.name) == Level::Warn {
                self.set(lint.name, level);
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
    /// The edition of a file outside any Cargo package (`--edition`);
    /// `None` is the newest stable edition. Package files use their
    /// package's edition.
    pub edition: Option<Edition>,
}

impl CheckRequest {
    /// The edition `file` is parsed with: its package's, else the request's.
    pub fn edition_of(&self, index: &PackageIndex, file: &Path) -> Edition {
        index
            .owner(file)
            .map_or(self.edition.unwrap_or(Edition::LATEST), |p| p.edition)
    }
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
    /// Every checked file with its text, for fixing (the text is empty when
    /// it was let go: see [`RunSettings::drop_clean_sources`]); none when
    /// the findings were rendered as the check went ([`RunSettings::render`]).
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
    /// Compiled only by test targets (or only under `cfg(test)`):
    /// `not_in_tests` findings do not apply.
    pub test_only: bool,
    /// Clippy lints allowed over the whole file from the module tree above it
    /// (`#[allow(clippy::unwrap_used)] mod x;`, a parent's `#![allow]`).
    pub allows: Vec<String>,
    /// The facts of the file's package, for re-linting it ([`recheck`]).
    pub facts: CrateFacts,
    /// The edition the file was parsed with.
    pub edition: Edition,
    /// The file's own configuration, when configurations are per file.
    pub config: Option<Arc<crate::config::Resolved>>,
}

struct Candidate {
    path: PathBuf,
    /// Named on the command line rather than found by walking a directory.
    explicit: bool,
    /// Its nearest configuration, when configurations are per file.
    config: Option<Arc<crate::config::Resolved>>,
}

impl Candidate {
    fn options<'a>(&'a self, request: &'a CheckRequest) -> &'a Options {
        self.config
            .as_ref()
            .map_or(&request.options, |c| &c.config.options)
    }
}

/// A compiled file between classification and reporting.
struct Pending<'a> {
    candidate: &'a Candidate,
    file: Analysed,
    edition: Edition,
    is_library: bool,
    test_only: bool,
    allows: Vec<String>,
}

#[derive(Default)]
struct Analysed {
    path: PathBuf,
    /// Empty when `dropped`.
    source: Arc<str>,
    analysis: FileAnalysis,
    /// The text of a file without findings or parse errors was let go right
    /// after its analysis (`RunSettings::drop_clean_sources`).
    dropped: bool,
    /// Set when the file was only scanned (`RunSettings::prefilter`): the
    /// lints that may fire in it, which decide whether it is parsed.
    needles: Option<temper_lints::scan::Needles>,
}

/// How a check runs, beyond what it checks: configured excludes and the
/// analysis cache.
#[derive(Debug, Default)]
pub struct RunSettings {
    /// Files matching these globs are not checked, even when named.
    pub exclude: crate::config::Exclude,
    /// Each file's nearest configuration (levels, options, excludes), which
    /// then replaces `exclude` and the request's levels and options.
    pub configs: Option<Arc<crate::config::Resolver>>,
    /// The directory holding `.temper-cache/`; `None` disables the cache.
    pub cache_dir: Option<PathBuf>,
    /// Keep the text of files without findings in [`CheckOutcome::files`]
    /// only when the caller needs it (the fixer does; `check` does not): peak
    /// memory then follows the largest files, not the size of the corpus.
    pub drop_clean_sources: bool,
    /// Parse only the files that can have a finding: each file is first
    /// scanned at the lexer level for its module declarations and the words
    /// every finding of a lint needs, and parsed only when its role (library,
    /// test-only) lets a lint whose words it holds fire. Findings are the
    /// same; what is lost is the syntax-error note of a file that is not
    /// parsed, so the fixer and the language server, which read parse errors
    /// of every file, run without it.
    pub prefilter: bool,
    /// Say what `temper fix` would plan for findings whose fix reaches across
    /// the crate (a `library_unwrap` migration carried to every caller),
    /// instead of planning it: planning parses every file of the crate again.
    /// For output that shows no such fix; the fixer, the language server's
    /// code actions and the formats that carry fixes plan them.
    pub describe_crate_fixes: bool,
    /// Render each file's findings for this output as soon as the file is
    /// checked, and keep the rendered text instead of the file's: for
    /// output that needs nothing else of the text (`check`'s human and JSON
    /// formats), so that memory follows the largest packages, not the size
    /// of the corpus. [`CheckOutcome::files`] is then left empty.
    pub render: Option<crate::report::Render>,
    /// Hand each file's findings to this sink as soon as every file that
    /// sorts before it has been checked, in the order of
    /// [`CheckOutcome::findings`], instead of collecting them: the report
    /// of a large corpus is then never held ([`CheckOutcome::findings`] is
    /// left empty). Packages are checked in path order for it.
    pub stream: Option<Stream>,
}

/// Receives a check's findings file by file, in report order.
pub trait FindingSink: Send {
    /// The findings of one checked file, sorted by position; called once for
    /// every file that has findings, files in the order of their paths as
    /// shown, never two calls at once.
    fn file(&mut self, findings: Vec<Reported>);
}

/// A shared [`FindingSink`] for [`RunSettings::stream`].
#[derive(Clone)]
pub struct Stream(pub Arc<Mutex<dyn FindingSink>>);

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stream")
    }
}

/// Puts the files' findings, which arrive in whatever order the threads
/// finish them, back into report order for a [`FindingSink`]: each file has
/// its rank among the candidates sorted by shown path; a file's findings
/// wait only for the files ranked before it.
struct Ordered<'a> {
    ranks: HashMap<&'a Path, usize>,
    state: Mutex<OrderState>,
    sink: &'a Mutex<dyn FindingSink>,
}

#[derive(Default)]
struct OrderState {
    next: usize,
    ready: BTreeMap<usize, Vec<Reported>>,
}

impl Ordered<'_> {
    /// The findings of `path`, which is then done.
    fn done(&self, path: &Path, mut findings: Vec<Reported>) {
        let Some(&rank) = self.ranks.get(path) else {
            debug_assert!(false, "a file checked that is not a candidate");
            return;
        };
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let mut state = lock(&self.state);
        state.ready.insert(rank, findings);
        loop {
            let next = state.next;
            let Some(findings) = state.ready.remove(&next) else {
                break;
            };
            state.next = next + 1;
            if !findings.is_empty() {
                lock(self.sink).file(findings);
            }
        }
    }

    /// Hands over whatever still waits (a file no path marked done).
    fn finish(&self) {
        let ready = std::mem::take(&mut lock(&self.state).ready);
        for findings in ready.into_values().filter(|f| !f.is_empty()) {
            lock(self.sink).file(findings);
        }
    }
}

/// A poisoned lock still holds consistent data here: every update is a
/// single insert or counter step.
fn lock<T: ?Sized>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
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
                config: None,
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
    if let Some(configs) = &settings.configs {
        let mut failed = std::collections::BTreeSet::new();
        candidates.retain_mut(|c| match configs.for_file(&c.path) {
            Ok(resolved) => {
                c.config = Some(resolved);
                true
            }
            Err(error) => {
                // One bad nested configuration: its files are not checked,
                // the error is shown once and the run is incomplete.
                if failed.insert(error.to_string()) {
                    outcome.errors.push(miette::Report::new(error));
                }
                outcome.incomplete = true;
                false
            }
        });
        let mut warned = std::collections::BTreeSet::new();
        for candidate in &candidates {
            for warning in candidate.config.iter().flat_map(|c| &c.config.warnings) {
                if warned.insert(warning.clone()) {
                    let file = candidate
                        .config
                        .as_ref()
                        .and_then(|c| c.config.file.as_ref());
                    outcome.notes.push(FileNote {
                        path: file.map(|f| display(f)).unwrap_or_default(),
                        severity: NoteSeverity::Warning,
                        message: warning.clone(),
                        span: None,
                    });
                }
            }
        }
    }
    candidates.retain(|c| {
        !c.config
            .as_ref()
            .map_or(&settings.exclude, |r| &r.config.exclude)
            .matches(&c.path)
    });

    let cache = settings
        .cache_dir
        .as_deref()
        .map(|dir| crate::cache::Cache::open(dir, &request.options));

    // Package by package, packages in parallel: each package's texts,
    // trees and crate-wide index are let go once its files are reported, so
    // memory follows the largest packages, not the size of the corpus.
    let mut groups: BTreeMap<Option<&Path>, Vec<&Candidate>> = BTreeMap::new();
    for candidate in &candidates {
        let package = index.owner(&candidate.path).map(|p| p.dir.as_path());
        groups.entry(package).or_default().push(candidate);
    }
    let ordered = settings.stream.as_ref().map(|stream| {
        let mut shown: Vec<(String, &Path)> = candidates
            .iter()
            .map(|c| (display(&c.path), c.path.as_path()))
            .collect();
        // The order of `Reported::sort_key`: by the path as shown.
        shown.sort();
        Ordered {
            ranks: shown
                .into_iter()
                .enumerate()
                .map(|(rank, (_, path))| (path, rank))
                .collect(),
            state: Mutex::default(),
            sink: &*stream.0,
        }
    });
    let shared = Shared {
        request,
        settings,
        index: &index,
        cache: cache.as_ref(),
        cwd: &cwd,
        ordered: ordered.as_ref(),
    };
    // Packages taken in path order, each by the next free thread: when the
    // findings are streamed, few files wait for one checked before them.
    let parts: Vec<CheckOutcome> = groups
        .into_iter()
        .par_bridge()
        .map(|(_, group)| check_group(&shared, &group))
        .collect();
    if let Some(ordered) = &ordered {
        ordered.finish();
    }
    if let Some(cache) = cache {
        cache.save();
    }
    outcome
        .findings
        .reserve_exact(parts.iter().map(|part| part.findings.len()).sum());
    for part in parts {
        outcome.findings.extend(part.findings);
        outcome.notes.extend(part.notes);
        outcome.files.extend(part.files);
        outcome.files_checked += part.files_checked;
        outcome.incomplete |= part.incomplete;
    }
    outcome.files.sort_by(|a, b| a.path.cmp(&b.path));
    outcome
        .findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    outcome.notes.sort_by(|a, b| a.path.cmp(&b.path));
    outcome
}

/// What every package's check shares.
struct Shared<'a> {
    request: &'a CheckRequest,
    settings: &'a RunSettings,
    index: &'a PackageIndex,
    cache: Option<&'a crate::cache::Cache>,
    cwd: &'a Path,
    ordered: Option<&'a Ordered<'a>>,
}

/// Checks the candidates of one package (or the files outside any).
fn check_group(shared: &Shared<'_>, candidates: &[&Candidate]) -> CheckOutcome {
    let Shared {
        request,
        settings,
        index,
        cache,
        cwd,
        ordered,
    } = *shared;
    let display = |path: &Path| display_path(cwd, path);
    let mut outcome = CheckOutcome::default();
    let default_facts = CrateFacts::default();
    let facts_of = |path: &Path| index.owner(path).map_or(&default_facts, |p| &p.facts);
    let analysed: Vec<Result<Analysed, FileNote>> = candidates
        .par_iter()
        .map(|candidate| {
            let path = &candidate.path;
            let edition = request.edition_of(index, path);
            let options = candidate.options(request);
            if settings.prefilter {
                return scan(path, &display(path), edition, options);
            }
            analyse(
                path,
                &display(path),
                edition,
                options,
                facts_of(path),
                cache,
            )
            .map(|file| drop_if_clean(settings, file))
        })
        .collect();

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

    let roles = classify_all(index, &by_path);
    // A scanned file is parsed only when its role lets a lint whose needle
    // it holds fire; the others keep the declarations the scan found.
    let by_candidate: HashMap<&Path, &Candidate> =
        candidates.iter().map(|&c| (c.path.as_path(), c)).collect();
    let extra_spawn = &request
        .options
        .drop_without_async_cleanup
        .extra_spawn_functions;
    let parse = |path: &PathBuf, file: &mut Analysed, keep_functions: bool| {
        let Some(needles) = file.needles.take() else {
            return;
        };
        let candidate = by_candidate.get(path.as_path());
        if let Some((is_library, test_only, _)) = role_of(index, &roles, path)
            && needles.need_parse(is_library, test_only)
        {
            let options = candidate.map_or(&request.options, |c| c.options(request));
            let edition = request.edition_of(index, path);
            let functions = keep_functions.then_some(extra_spawn.as_slice());
            file.analysis = analyse_text(
                path,
                &file.source,
                edition,
                options,
                facts_of(path),
                cache,
                functions,
            );
        }
        let taken = std::mem::take(file);
        *file = drop_if_clean(settings, taken);
    };
    // Files with a `Drop` first: when one calls a function of its package
    // that may spawn, the other files keep their functions as they are
    // parsed, for the search of the package's spawn wrappers, which then
    // parses only the files not parsed here.
    let has_drop = |file: &Analysed| file.needles.is_some_and(|n| n.drop_without_async_cleanup);
    by_path
        .par_iter_mut()
        .filter(|(_, file)| has_drop(file))
        .for_each(|(path, file)| parse(path, file, false));
    let keep_functions = by_path
        .values()
        .any(|file| !file.analysis.crate_calls.is_empty() && index.owner(&file.path).is_some());
    by_path
        .par_iter_mut()
        .for_each(|(path, file)| parse(path, file, keep_functions));
    lint_with_wrappers(&request.options, index, &roles, &mut by_path);
    for file in by_path.values_mut() {
        file.analysis.functions = None;
    }
    if settings.describe_crate_fixes {
        for file in by_path.values_mut() {
            temper_lints::describe_fixes(&mut file.analysis.findings);
        }
    }
    module_tree_notes(&roles, &display, &mut outcome.notes);
    let crate_files = crate_files_for_completion(index, &by_path, &roles);
    // What each compiled file is, decided in candidate order.
    let mut pending: Vec<Pending<'_>> = Vec::new();
    for &candidate in candidates {
        let Some(mut file) = by_path.remove(&candidate.path) else {
            continue;
        };
        let edition = request.edition_of(index, &candidate.path);
        let Some((is_library, test_only, allows)) = role_of(index, &roles, &candidate.path) else {
            // Not compiled by any target of its package: not part of the
            // crate as rustc and clippy see it, so not checked, whether found
            // by walking or named (pre-commit names staged files): one answer
            // however temper is run. Named, it gets a note saying why.
            if candidate.explicit
                && let Some(package) = index.owner(&candidate.path)
            {
                outcome.notes.push(FileNote {
                    path: display(&candidate.path),
                    severity: NoteSeverity::Warning,
                    message: format!(
                        "not checked: no target of {} compiles this file (no `mod` declaration reaches it)",
                        if package.name.is_empty() {
                            "the workspace".to_string()
                        } else {
                            format!("package `{}`", package.name)
                        }
                    ),
                    span: None,
                });
            }
            continue;
        };
        // Library-only findings of other code are dropped before the
        // crate-wide pass, which would only complete fixes nobody sees.
        if !is_library {
            file.analysis.findings.retain(|f| !f.library_only);
        }
        pending.push(Pending {
            candidate,
            file,
            edition,
            is_library,
            test_only,
            allows,
        });
    }
    // The crate-wide pass, one package at a time and packages in parallel;
    // each package's index is built when a finding first needs it and let go
    // with the package.
    let mut by_package: BTreeMap<Option<&Path>, Vec<&mut Pending<'_>>> = BTreeMap::new();
    for item in pending.iter_mut() {
        if item
            .file
            .analysis
            .findings
            .iter()
            .any(|f| f.crate_fix.is_some())
        {
            let package = index.owner(&item.candidate.path).map(|p| p.dir.as_path());
            by_package.entry(package).or_default().push(item);
        }
    }
    by_package.into_par_iter().for_each(|(package, items)| {
        let cell = temper_lints::IndexCell::default();
        items.into_par_iter().for_each(|item| {
            let own = [(item.candidate.path.clone(), item.file.source.clone())];
            let files = package
                .and_then(|dir| crate_files.get(dir))
                .map_or(&own[..], Vec::as_slice);
            let own_cell = temper_lints::IndexCell::default();
            let context = temper_lints::CrateContext {
                file: &item.candidate.path,
                files,
                edition: item.edition,
                facts: index.owner(&item.candidate.path).map(|p| &p.facts),
                index: if package.is_some() { &cell } else { &own_cell },
            };
            temper_lints::complete_fixes(&mut item.file.analysis.findings, &context);
            relative_notes(&mut item.file.analysis.findings, cwd);
        });
    });
    let empty: Arc<str> = Arc::from("");
    let mut streamed: std::collections::HashSet<&Path> = std::collections::HashSet::new();
    for Pending {
        candidate,
        file,
        edition,
        is_library,
        test_only,
        allows,
    } in pending
    {
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
        let levels = candidate
            .config
            .as_ref()
            .map_or(&request.levels, |c| &c.levels);
        let mut reported = report_findings(
            levels,
            &shown,
            &file.source,
            (is_library, test_only, &allows),
            edition,
            file.analysis.findings,
        );
        if let Some(render) = settings.render {
            for finding in &mut reported {
                finding.render_early(render, &empty);
            }
        }
        if let Some(ordered) = ordered {
            ordered.done(&candidate.path, reported);
            streamed.insert(candidate.path.as_path());
            continue;
        }
        outcome.findings.extend(reported);
        if settings.render.is_some() {
            // Nothing reads the checked files when the findings are rendered.
            continue;
        }
        outcome.files.push(CheckedFile {
            path: candidate.path.clone(),
            display: shown,
            source: file.source,
            parse_errors: file.analysis.parse_errors.len(),
            library: is_library,
            test_only,
            allows,
            facts: index
                .owner(&candidate.path)
                .map_or_else(CrateFacts::default, |p| p.facts.clone()),
            edition,
            config: candidate.config.clone(),
        });
    }
    // Files with nothing to report (unreadable, compiled by no target) are
    // done too: the files after them need not wait.
    if let Some(ordered) = ordered {
        for candidate in candidates {
            if !streamed.contains(candidate.path.as_path()) {
                ordered.done(&candidate.path, Vec::new());
            }
        }
    }
    outcome
}

/// Lets go of the text of a file without findings, parse errors or
/// suppression comments, when the caller does not need it.
fn drop_if_clean(settings: &RunSettings, mut file: Analysed) -> Analysed {
    // A file with a suppression comment keeps its text: an unused
    // suppression is found only after classification.
    if settings.drop_clean_sources
        && file.analysis.findings.is_empty()
        && file.analysis.parse_errors.is_empty()
        && !crate::suppress::may_have_suppressions(&file.source)
    {
        file.source = Arc::from("");
        file.dropped = true;
    }
    file
}

/// Whether a file is library code, whether only tests compile it, and the
/// clippy lints its module tree allows over it; `None` when no target of its
/// package compiles it.
fn role_of(
    index: &PackageIndex,
    roles: &HashMap<PathBuf, HashMap<PathBuf, FileRole>>,
    path: &Path,
) -> Option<(bool, bool, Vec<String>)> {
    let role = match index.owner(path) {
        Some(package) => roles.get(&package.dir)?.get(path)?.clone(),
        // Outside any Cargo package: checked as library code.
        None => library_role(),
    };
    if !role.is_compiled() {
        return None;
    }
    let allows: Vec<String> = role
        .allows
        .as_ref()
        .map(|a| a.iter().cloned().collect())
        .unwrap_or_default();
    Some((role.is_library(), is_test_only(&role), allows))
}

/// Lints `source` as the new text of `file`, keeping what [`run`] decided
/// about it (package facts, library or not, levels): the fixer's re-check
/// after each round of edits. `crate_files` are the current texts of the
/// files of its package (the file included, absolute paths), for completing
/// fixes that reach across files, as [`run`] does; `index` is their crate
/// index, built on first use and shared by the files of one fix round.
pub fn recheck(
    request: &CheckRequest,
    file: &CheckedFile,
    source: &str,
    crate_files: &[(PathBuf, Arc<str>)],
    index: &temper_lints::IndexCell,
) -> Vec<Reported> {
    let options = file
        .config
        .as_ref()
        .map_or(&request.options, |c| &c.config.options);
    let levels = file.config.as_ref().map_or(&request.levels, |c| &c.levels);
    let mut analysis = temper_lints::analyze(source, file.edition, options, &file.facts);
    if !analysis.crate_calls.is_empty() && !crate_files.is_empty() {
        let wrappers = temper_lints::SpawnWrappers::from_files(
            &analysis.crate_calls,
            crate_files,
            file.edition,
            &options.drop_without_async_cleanup.extra_spawn_functions,
        );
        if !wrappers.is_empty() {
            analysis.findings = temper_lints::analyze_in_crate(
                source,
                file.edition,
                options,
                &file.facts,
                &wrappers,
            )
            .findings;
        }
    }
    if analysis.findings.iter().any(|f| f.crate_fix.is_some()) {
        let context = temper_lints::CrateContext {
            file: &file.path,
            files: crate_files,
            edition: file.edition,
            facts: Some(&file.facts),
            index,
        };
        temper_lints::complete_fixes(&mut analysis.findings, &context);
        relative_notes(
            &mut analysis.findings,
            &std::env::current_dir().unwrap_or_default(),
        );
    }
    let shared: Arc<str> = Arc::from(source);
    report_findings(
        levels,
        &file.display,
        &shared,
        (file.library, file.test_only, &file.allows),
        file.edition,
        analysis.findings,
    )
}

/// Crate-wide completion names other files by absolute path (`/../src/a.rs:3:9`);
/// show them relative to the current directory, as finding headers are.
fn relative_notes(findings: &mut [temper_lints::Finding], cwd: &Path) {
    let prefix = format!("{}/", cwd.to_string_lossy().trim_end_matches('/'));
    for finding in findings {
        for text in finding.notes.iter_mut().chain(finding.help.as_mut()) {
            if text.contains(&prefix) {
                *text = text.replace(&prefix, "");
            }
        }
    }
}

/// The findings of one file that apply at their effective level; shared by
/// [`run`] and [`recheck`] so a fix round sees exactly what `check` reports.
fn report_findings(
    levels: &Levels,
    shown: &str,
    source: &Arc<str>,
    (is_library, test_only, allows): (bool, bool, &[String]),
    edition: Edition,
    findings: Vec<temper_lints::Finding>,
) -> Vec<Reported> {
    let allows: Vec<&str> = allows.iter().map(String::as_str).collect();
    let applicable: Vec<_> = findings
        .into_iter()
        .filter(|finding| !finding.library_only || is_library)
        .filter(|finding| !finding.not_in_tests || !test_only)
        // As clippy does, an allow on a `mod` reaches the module's files.
        .filter(|finding| !temper_lints::allowed_by_module(finding, &allows))
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
            let level = levels.level(finding.lint);
            if level == Level::Allow {
                return None;
            }
            Some(
                Reported::new(
                    shown.to_string(),
                    source.clone(),
                    &line_index,
                    level,
                    finding,
                )
                .with_edition(edition),
            )
        })
        .collect()
}

/// Lints again, with the crate's spawn wrappers, each file whose `Drop` impls
/// call functions that may spawn further down in another file of its
/// package. Only those files are linted twice, and only the files that
/// define a function of a name on the chain are parsed for the wrappers.
fn lint_with_wrappers(
    options: &Options,
    index: &PackageIndex,
    roles: &HashMap<PathBuf, HashMap<PathBuf, FileRole>>,
    analysed: &mut HashMap<PathBuf, Analysed>,
) {
    let wanted: Vec<PathBuf> = analysed
        .values()
        .filter(|file| !file.analysis.crate_calls.is_empty())
        .filter(|file| index.owner(&file.path).is_some())
        .map(|file| file.path.clone())
        .collect();
    let mut packages: HashMap<PathBuf, Vec<(PathBuf, Arc<str>)>> = HashMap::new();
    for path in &wanted {
        let Some(package) = index.owner(path) else {
            continue;
        };
        packages.entry(package.dir.clone()).or_insert_with(|| {
            let mut files: Vec<(PathBuf, Arc<str>)> = analysed
                .values()
                .filter(|f| index.owner(&f.path).is_some_and(|p| p.dir == package.dir))
                .map(|f| (f.path.clone(), source_of(f)))
                .collect();
            files.extend(unanalysed_files(&package.dir, analysed, roles));
            files.sort_by(|a, b| a.0.cmp(&b.0));
            files
        });
    }
    // Each package's files are searched and parsed for wrappers once, however
    // many of its files ask.
    let mut crate_fns: HashMap<PathBuf, temper_lints::CrateFunctions<'_>> = packages
        .iter()
        .map(|(dir, files)| {
            let edition = index
                .packages
                .get(dir)
                .map_or(Edition::LATEST, |p| p.edition);
            let mut crate_fns = temper_lints::CrateFunctions::new(
                files,
                edition,
                &options.drop_without_async_cleanup.extra_spawn_functions,
            );
            // Files already parsed for linting are not parsed again.
            for (at, (path, _)) in files.iter().enumerate() {
                if let Some(known) = analysed
                    .get(path)
                    .and_then(|f| f.analysis.functions.clone())
                {
                    crate_fns.know(at, known);
                }
            }
            (dir.clone(), crate_fns)
        })
        .collect();
    // The wrappers are resolved file by file on the shared search; the files
    // that call one are then linted again in parallel.
    let mut relint: Vec<(&mut Analysed, &Package, Arc<temper_lints::SpawnWrappers>)> = Vec::new();
    let mut wanted_files: Vec<&mut Analysed> = analysed
        .values_mut()
        .filter(|file| wanted.contains(&file.path))
        .collect();
    wanted_files.sort_by(|a, b| a.path.cmp(&b.path));
    for file in wanted_files {
        let Some(package) = index.owner(&file.path) else {
            continue;
        };
        let Some(crate_fns) = crate_fns.get_mut(&package.dir) else {
            continue;
        };
        let wrappers =
            temper_lints::SpawnWrappers::from_crate(&file.analysis.crate_calls, crate_fns);
        if !wrappers.is_empty() {
            relint.push((file, package, wrappers));
        }
    }
    relint
        .into_par_iter()
        .for_each(|(file, package, wrappers)| {
            let source = source_of(file);
            temper_lints::relint_in_crate(
                &source,
                package.edition,
                options,
                &package.facts,
                &wrappers,
                &mut file.analysis.findings,
            );
            file.source = source;
            file.dropped = false;
        });
}

/// The sources of every package that has a finding whose fix reaches across
/// files; other packages need none, so nothing is copied for them.
fn crate_files_for_completion(
    index: &PackageIndex,
    analysed: &HashMap<PathBuf, Analysed>,
    roles: &HashMap<PathBuf, HashMap<PathBuf, FileRole>>,
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
    for (dir, files) in out.iter_mut() {
        files.extend(unanalysed_files(dir, analysed, roles));
    }
    for files in out.values_mut() {
        files.sort_by(|a, b| a.0.cmp(&b.0));
    }
    out
}

/// The files of the package at `dir` that its targets compile but that were
/// not analysed, read from disk: when files are named one by one (as
/// pre-commit names staged files), crate-wide work (spawn wrappers, fix
/// completion) still sees the whole module tree, and gives the same answer
/// as when the whole package is checked.
fn unanalysed_files(
    dir: &Path,
    analysed: &HashMap<PathBuf, Analysed>,
    roles: &HashMap<PathBuf, HashMap<PathBuf, FileRole>>,
) -> Vec<(PathBuf, Arc<str>)> {
    let Some(reached) = roles.get(dir) else {
        return Vec::new();
    };
    reached
        .iter()
        .filter(|(path, role)| role.is_compiled() && !analysed.contains_key(*path))
        .filter_map(|(path, _)| {
            let text = std::fs::read_to_string(path).ok()?;
            Some((path.clone(), Arc::from(text)))
        })
        .collect()
}

/// A file's text, read again when it was dropped after analysis: only the
/// rare crate-wide fix completion needs the text of clean files.
fn source_of(file: &Analysed) -> Arc<str> {
    if !file.dropped {
        return file.source.clone();
    }
    std::fs::read_to_string(&file.path).map_or_else(|_| file.source.clone(), Arc::from)
}

/// Reached only by test and bench targets, or only under `cfg(test)`: the
/// code exists for testing, not for users of the crate.
fn is_test_only(role: &FileRole) -> bool {
    use discover::TargetKind::{Bench, Test};
    if role.kinds.is_empty() {
        return !role.test_only_kinds.is_empty();
    }
    role.kinds.iter().all(|kind| matches!(kind, Test | Bench))
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
    edition: Edition,
    options: &Options,
    facts: &CrateFacts,
    cache: Option<&crate::cache::Cache>,
) -> Result<Analysed, FileNote> {
    let text = read_source(path, shown)?;
    let analysis = analyse_text(path, &text, edition, options, facts, cache, None);
    Ok(Analysed {
        path: path.to_path_buf(),
        source: Arc::from(text),
        analysis,
        dropped: false,
        needles: None,
    })
}

/// Reads one file and learns from its tokens alone what discovery needs and
/// which lints may fire in it; the full parse waits until its role is known.
fn scan(
    path: &Path,
    shown: &str,
    edition: Edition,
    options: &Options,
) -> Result<Analysed, FileNote> {
    let text = read_text(path, shown)?;
    // The scan measures the file on the tokens it reads anyway.
    let scan = temper_lints::scan::scan(&text, edition, options);
    if let Some(beyond) = scan.shape.beyond_limits() {
        return Err(error_note(shown, &too_large(&beyond)));
    }
    Ok(Analysed {
        path: path.to_path_buf(),
        source: Arc::from(text),
        analysis: FileAnalysis {
            modules: scan.modules,
            cfg_test: scan.cfg_test,
            allows: scan.allows,
            ..FileAnalysis::default()
        },
        dropped: false,
        needles: Some(scan.needles),
    })
}

/// A file's text, or the note saying why it is not checked.
fn read_source(path: &Path, shown: &str) -> Result<String, FileNote> {
    let text = read_text(path, shown)?;
    // Measured before parsing: a file nested deeper than the parsers' stacks
    // hold is skipped, and every other file is still checked.
    if let Some(beyond) = temper_lints::lex::shape(&text).beyond_limits() {
        return Err(error_note(shown, &too_large(&beyond)));
    }
    Ok(text)
}

/// A file's text, not yet measured, or the note saying why it is not read.
fn read_text(path: &Path, shown: &str) -> Result<String, FileNote> {
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
    Ok(text)
}

/// Parses and lints a file's text, measured within the limits (by
/// [`read_source`] or the scan), through the cache when there is one.
/// `functions`: keep the file's functions for the search of spawn wrappers,
/// with these configured spawn functions (unless the analysis is cached).
fn analyse_text(
    path: &Path,
    text: &str,
    edition: Edition,
    options: &Options,
    facts: &CrateFacts,
    cache: Option<&crate::cache::Cache>,
    functions: Option<&[String]>,
) -> FileAnalysis {
    let key = cache.map(|cache| cache.key(options, facts, edition, text));
    let cached = cache
        .zip(key.as_deref())
        .and_then(|(c, key)| c.get(path, key));
    match cached {
        Some(analysis) => analysis,
        None => {
            let analysis = match functions {
                Some(extra) => temper_lints::analyze_measured_with_functions(
                    text, edition, options, facts, path, extra,
                ),
                None => temper_lints::analyze_measured(text, edition, options, facts),
            };
            if let (Some(cache), Some(key)) = (cache, key) {
                cache.put(path, key, &analysis);
            }
            analysis
        }
    }
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
    fn modules(&mut self, path: &Path, edition: Edition) -> Option<(Vec<ModDecl>, bool)> {
        if let Some(file) = self.analysed.get(path) {
            return Some((file.analysis.modules.clone(), file.analysis.cfg_test));
        }
        // A file on the module path that was not asked for (checking one file
        // of a crate): read it for its declarations only.
        let text = std::fs::read_to_string(path).ok()?;
        Some(temper_lints::module_decls(&text, edition))
    }

    fn file_allows(&mut self, path: &Path) -> Vec<String> {
        if let Some(file) = self.analysed.get(path) {
            return file.analysis.allows.clone();
        }
        std::fs::read_to_string(path)
            .map(|text| temper_lints::file_allows(&text, Edition::Edition2024))
            .unwrap_or_default()
    }
}

/// A note for each module cycle and each module tree cut at
/// [`discover::MAX_MODULE_DEPTH`], on the file whose `mod` was not followed.
fn module_tree_notes(
    roles: &HashMap<PathBuf, HashMap<PathBuf, FileRole>>,
    display: &dyn Fn(&Path) -> String,
    notes: &mut Vec<FileNote>,
) {
    for (file, role) in roles.values().flatten() {
        for cycle in &role.cycles {
            let chain: Vec<String> = cycle.iter().map(|f| display(f)).collect();
            notes.push(FileNote {
                path: display(file),
                severity: NoteSeverity::Warning,
                message: format!(
                    "module cycle: {}; the `mod` declaration that closes it is not followed (rustc rejects circular modules)",
                    chain.join(" -> ")
                ),
                span: None,
            });
        }
        if role.too_deep {
            notes.push(FileNote {
                path: display(file),
                severity: NoteSeverity::Warning,
                message: format!(
                    "module tree deeper than {} files; its `mod` declarations are not followed",
                    discover::MAX_MODULE_DEPTH
                ),
                span: None,
            });
        }
    }
}

/// The roles of the files of the packages that own `analysed`'s files.
fn classify_all(
    index: &PackageIndex,
    analysed: &HashMap<PathBuf, Analysed>,
) -> HashMap<PathBuf, HashMap<PathBuf, FileRole>> {
    let mut modules = Modules { analysed };
    let mut owners: Vec<&Package> = analysed
        .keys()
        .filter_map(|path| index.owner(path))
        .collect();
    owners.sort_by(|a, b| a.dir.cmp(&b.dir));
    owners.dedup_by(|a, b| a.dir == b.dir);
    owners
        .into_iter()
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
    // Workspaces met on the way down, innermost last: the walk is
    // depth-first, so a directory is filtered after every ancestor was.
    let workspaces =
        std::sync::Mutex::new(enclosing_workspace(root).into_iter().collect::<Vec<_>>());
    // Directories cut at MAX_DIR_DEPTH, for one note each after the walk.
    let too_deep = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let cut = too_deep.clone();
    let walker = ignore::WalkBuilder::new(root)
        .follow_links(true)
        .require_git(false)
        .filter_entry(move |entry| {
            let path = entry.path();
            if !entry.file_type().is_some_and(|t| t.is_dir()) || entry.depth() == 0 {
                return true;
            }
            if entry.depth() > MAX_DIR_DEPTH {
                if let Ok(mut cut) = cut.lock() {
                    cut.push(path.to_path_buf());
                }
                return false;
            }
            if path.file_name().is_some_and(|n| n == "target")
                && path
                    .parent()
                    .is_some_and(|p| p.join("Cargo.toml").is_file())
            {
                return false;
            }
            let manifest = path.join("Cargo.toml");
            if !manifest.is_file() {
                return true;
            }
            let Ok(mut workspaces) = workspaces.lock() else {
                return true;
            };
            // The innermost workspace around decides (a project it excludes
            // is not walked, even when it is a workspace of its own, as
            // before); a workspace root met where none decides is walked,
            // and its members decide below it: the same files from a
            // workspace's root as from the folder above.
            let governed = workspaces
                .iter()
                .rev()
                .find(|ws| path.starts_with(&ws.root))
                .is_none_or(|ws| ws.reaches(path));
            if governed && let Some(workspace) = discover::workspace_at(path) {
                workspaces.push(workspace);
            }
            governed
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
                        config: None,
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
    let cut = std::mem::take(&mut *too_deep.lock().unwrap_or_else(|e| e.into_inner()));
    for dir in cut {
        outcome.incomplete = true;
        outcome.notes.push(error_note(
            &shorten(&display(&dir)),
            &format!(
                "directory nested more than {MAX_DIR_DEPTH} levels below {}; not walked, its files are not checked",
                display(root)
            ),
        ));
    }
}

/// How many directory levels below a starting point are walked. Paths grow
/// with depth: far below this, the operating system's path limit (4096 bytes
/// on Linux) fails every file anyway, with a note as long as the path.
pub const MAX_DIR_DEPTH: usize = 512;

/// A path cut to its first and last 60 characters when it is longer than 160.
fn shorten(path: &str) -> String {
    let chars: Vec<char> = path.chars().collect();
    if chars.len() <= 160 {
        return path.to_string();
    }
    let head: String = chars[..60].iter().collect();
    let tail: String = chars[chars.len() - 60..].iter().collect();
    format!("{head}…{tail} ({} characters)", chars.len())
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

fn enclosing_workspace(start: &Path) -> Option<Workspace> {
    start.ancestors().find_map(discover::workspace_at)
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
