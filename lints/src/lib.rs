//! temper's analysis core: Rust source text in, findings and fixes out, no IO.
//!
//! [`analyze`] parses one file with `ra_ap_syntax` (lossless and
//! error-tolerant), runs every lint in [`registry::LINTS`] over the file and
//! over the re-parsed arguments of its macro calls, and returns the findings
//! with the file's `mod` declarations, so the caller can decide which findings
//! apply once it knows which target compiles the file.

pub mod context;
pub mod diagnostic;
pub mod index;
pub mod lex;
pub mod modules;
pub mod registry;
mod rules;
pub mod scan;
mod synth;
pub mod trees;

pub use diagnostic::{Applicability, Edit, Finding, Fix, Label, Level};
pub use modules::ModDecl;
pub use ra_ap_syntax::Edition;
pub use registry::{FixAvailability, LINTS, Lint};
pub use rules::drop_without_async_cleanup::wrappers::{
    CrateFunctions, FileFunctions, SpawnWrappers,
};

use ra_ap_syntax::SourceFile;
use std::ops::Range;

/// Per-lint options, from configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub library_unwrap: LibraryUnwrapOptions,
    pub drop_without_async_cleanup: DropOptions,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LibraryUnwrapOptions {
    /// Allow `.lock().unwrap()` and friends on `Mutex` / `RwLock` results:
    /// a poisoned lock is a panic elsewhere already.
    pub allow_lock_results: bool,
    /// Attributes, besides `#[test]` and friends, that mark test functions.
    pub test_attributes: Vec<String>,
    /// Method names, besides `unwrap`, `expect`, `unwrap_err` and `expect_err`,
    /// to report.
    pub extra_methods: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DropOptions {
    /// Paths or method names, besides tokio's, that start async work
    /// (`my_rt::spawn`) or block on it.
    pub extra_spawn_functions: Vec<String>,
    /// Method names, besides the usual ones, that perform explicit cleanup.
    pub extra_cleanup_methods: Vec<String>,
}

/// Facts about the crate a file belongs to, which fixes use to match the
/// crate's existing style.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrateFacts {
    /// `anyhow` is a dependency: `.context(..)` is available.
    pub uses_anyhow: bool,
    /// `eyre` or `color-eyre` is a dependency: `.wrap_err(..)` is available.
    pub uses_eyre: bool,
    /// The logging facade the crate already uses.
    pub logging: Logging,
    /// The package's `rust-version` (major, minor), when it states one: a
    /// fix emits no syntax that this Rust release rejects.
    pub rust_version: Option<(u32, u32)>,
}

impl CrateFacts {
    /// Whether the crate's `rust-version` (when stated) is at least
    /// `major.minor`.
    pub fn supports(&self, major: u32, minor: u32) -> bool {
        self.rust_version.is_none_or(|v| v >= (major, minor))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Logging {
    Tracing,
    Log,
    #[default]
    Stderr,
}

/// What a lint sees: the file and the trees to walk.
pub struct LintInput<'a> {
    pub source: &'a str,
    pub file: &'a SourceFile,
    /// The file's tree first, then re-parsed macro arguments.
    pub trees: &'a [trees::Tree],
    pub options: &'a Options,
    pub facts: &'a CrateFacts,
    /// The file's edition: fixes must not emit syntax it rejects.
    pub edition: Edition,
    /// The crate's spawn wrappers, when the caller resolved them across the
    /// crate's files; `None` looks only at the linted file.
    pub wrappers: Option<&'a SpawnWrappers>,
}

/// The crate a finding's file belongs to, for fixes that reach across files.
pub struct CrateContext<'a> {
    /// The linted file (absolute).
    pub file: &'a std::path::Path,
    /// Every Rust file of the crate's package that was read, the linted file
    /// included (absolute paths).
    pub files: &'a [(std::path::PathBuf, std::sync::Arc<str>)],
    pub edition: Edition,
    /// The package's facts (dependencies, logging facade).
    pub facts: Option<&'a CrateFacts>,
    /// The crate-wide index of `files`, built on first use and shared by
    /// every finding of the crate.
    pub index: &'a IndexCell,
}

/// Holds a crate's [`index::CrateIndex`] once something asked for it.
#[derive(Debug, Default)]
pub struct IndexCell(std::sync::OnceLock<index::CrateIndex>);

impl CrateContext<'_> {
    /// The crate-wide index, built from [`CrateContext::files`] on first use.
    pub fn index(&self) -> &index::CrateIndex {
        self.index
            .0
            .get_or_init(|| index::CrateIndex::build(self.files, self.edition))
    }
}

/// Runs each lint's crate-wide completion over the findings that asked for it.
pub fn complete_fixes(findings: &mut [Finding], context: &CrateContext<'_>) {
    for finding in findings.iter_mut().filter(|f| f.crate_fix.is_some()) {
        let Some(complete) = registry::lint(finding.lint).and_then(|lint| lint.complete) else {
            finding.crate_fix = None;
            continue;
        };
        complete(finding, context);
    }
}

/// Instead of [`complete_fixes`], for output that shows no crate-wide fix:
/// each lint with a [`registry::Lint::describe`] hook says what `temper fix`
/// would plan, which costs nothing; the other requests stay for
/// [`complete_fixes`].
pub fn describe_fixes(findings: &mut [Finding]) {
    for finding in findings.iter_mut().filter(|f| f.crate_fix.is_some()) {
        if let Some(describe) = registry::lint(finding.lint).and_then(|lint| lint.describe) {
            describe(finding);
        }
    }
}

/// A syntax error, with its range in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub range: Range<usize>,
    pub message: String,
}

/// Everything learned from one file.
#[derive(Debug, Clone, Default)]
pub struct FileAnalysis {
    /// Sorted by position.
    pub findings: Vec<Finding>,
    pub modules: Vec<ModDecl>,
    /// The file starts with `#![cfg(test)]`.
    pub cfg_test: bool,
    /// Clippy lints the file allows at its top (`#![allow(clippy::unwrap_used)]`),
    /// which reach the modules it declares in other files.
    pub allows: Vec<String>,
    pub parse_errors: Vec<ParseError>,
    /// Names of functions that `Drop` impls call which may be the crate's
    /// spawn wrappers defined in other files: the caller resolves them with
    /// [`SpawnWrappers::from_files`] and lints the file again with
    /// [`analyze_in_crate`] when any is one.
    pub crate_calls: Vec<String>,
    /// The file's functions for spawn-wrapper resolution, when asked for
    /// ([`analyze_measured_with_functions`]).
    pub functions: Option<FileFunctions>,
}

/// Parses `source` and runs every lint over it.
pub fn analyze(
    source: &str,
    edition: Edition,
    options: &Options,
    facts: &CrateFacts,
) -> FileAnalysis {
    analyze_with(source, edition, options, facts, None, LINTS)
}

/// [`analyze`] for text its caller measured with [`lex::shape`] (or
/// [`scan::scan`]) and found within the limits: not measured again.
pub fn analyze_measured(
    source: &str,
    edition: Edition,
    options: &Options,
    facts: &CrateFacts,
) -> FileAnalysis {
    parse_and_lint(source, edition, options, facts, None, LINTS, None)
}

/// [`analyze_measured`] that also keeps the file's functions as the crate's
/// spawn-wrapper resolution reads them ([`FileAnalysis::functions`]), so
/// that it need not parse the file again: `path` is the file's, `extra` the
/// configured spawn functions the resolution uses.
pub fn analyze_measured_with_functions(
    source: &str,
    edition: Edition,
    options: &Options,
    facts: &CrateFacts,
    path: &std::path::Path,
    extra: &[String],
) -> FileAnalysis {
    parse_and_lint(
        source,
        edition,
        options,
        facts,
        None,
        LINTS,
        Some((path, extra)),
    )
}

/// [`analyze`] with the crate's spawn wrappers, resolved across its files.
pub fn analyze_in_crate(
    source: &str,
    edition: Edition,
    options: &Options,
    facts: &CrateFacts,
    wrappers: &SpawnWrappers,
) -> FileAnalysis {
    analyze_with(source, edition, options, facts, Some(wrappers), LINTS)
}

/// The findings of the lints that read the crate's spawn wrappers
/// (`drop_without_async_cleanup`), linted again with `wrappers`, in place of
/// theirs in `findings` ([`analyze`]'s findings for the same `source`): the
/// same findings as [`analyze_in_crate`] gives, without running the lints
/// that do not read the wrappers a second time.
pub fn relint_in_crate(
    source: &str,
    edition: Edition,
    options: &Options,
    facts: &CrateFacts,
    wrappers: &SpawnWrappers,
    findings: &mut Vec<Finding>,
) {
    let lints = [&rules::drop_without_async_cleanup::LINT];
    let again = analyze_with(source, edition, options, facts, Some(wrappers), &lints);
    findings.retain(|f| !lints.iter().any(|lint| lint.name == f.lint));
    findings.extend(again.findings);
    order(findings);
}

/// Findings by position, each once.
fn order(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| {
        (a.range.start, a.range.end, a.lint).cmp(&(b.range.start, b.range.end, b.lint))
    });
    findings.dedup_by(|a, b| a.lint == b.lint && a.range == b.range && a.message == b.message);
}

fn analyze_with(
    source: &str,
    edition: Edition,
    options: &Options,
    facts: &CrateFacts,
    wrappers: Option<&SpawnWrappers>,
    lints: &[&Lint],
) -> FileAnalysis {
    // Callers measure first and skip such files with a note; this keeps the
    // promise for every caller that does not.
    if let Some(beyond) = lex::shape(source).beyond_limits() {
        return FileAnalysis {
            parse_errors: vec![ParseError {
                range: 0..0,
                message: format!("{beyond}; not parsed"),
            }],
            ..FileAnalysis::default()
        };
    }
    parse_and_lint(source, edition, options, facts, wrappers, lints, None)
}

/// [`analyze_with`] for text within the limits.
fn parse_and_lint(
    source: &str,
    edition: Edition,
    options: &Options,
    facts: &CrateFacts,
    wrappers: Option<&SpawnWrappers>,
    lints: &[&Lint],
    functions: Option<(&std::path::Path, &[String])>,
) -> FileAnalysis {
    let parse = SourceFile::parse(source, edition);
    let file = parse.tree();
    let extra_keywords: Vec<String> = options
        .library_unwrap
        .extra_methods
        .iter()
        .chain(&options.drop_without_async_cleanup.extra_spawn_functions)
        .cloned()
        .collect();
    let trees = trees::collect(&file, edition, &extra_keywords);
    let input = LintInput {
        source,
        file: &file,
        trees: &trees,
        options,
        facts,
        edition,
        wrappers,
    };
    let mut findings = Vec::new();
    for lint in lints {
        (lint.check)(&input, &mut findings);
    }
    // A macro call that never closes (a syntax error) is re-parsed with a
    // synthetic suffix; what a lint finds reaching into it would point past
    // the file: cut the range at the file's end, and drop such a fix.
    for finding in &mut findings {
        let end = finding.range.end.min(source.len());
        finding.range.end = (finding.range.start.min(end)..=end)
            .rev()
            .find(|&i| source.is_char_boundary(i))
            .unwrap_or(0);
        finding.range.start = finding.range.start.min(finding.range.end);
        let outside = finding.fix.iter().flat_map(|fix| &fix.edits).any(|edit| {
            edit.file.is_none()
                && (edit.range.start > edit.range.end || source.get(edit.range.clone()).is_none())
        });
        if outside {
            finding.fix = None;
        }
    }
    order(&mut findings);
    let parse_errors = parse
        .errors()
        .into_iter()
        .map(|error| ParseError {
            range: usize::from(error.range().start())..usize::from(error.range().end()),
            message: error.to_string(),
        })
        .collect();
    let crate_calls = match wrappers {
        Some(_) => Vec::new(),
        None => rules::drop_without_async_cleanup::crate_calls(&input),
    };
    FileAnalysis {
        findings,
        modules: modules::collect(&file),
        cfg_test: modules::file_is_cfg_test(&file),
        allows: modules::file_allows(&file),
        parse_errors,
        crate_calls,
        functions: functions.map(|(path, extra)| {
            FileFunctions::of(ra_ap_syntax::AstNode::syntax(&file), path, extra)
        }),
    }
}

/// The file's `mod` declarations and whether it is `#![cfg(test)]`, without
/// running any lint: for files that discovery must read but not check.
pub fn module_decls(source: &str, edition: Edition) -> (Vec<ModDecl>, bool) {
    if !lex::shape(source).within_limits() {
        return (Vec::new(), false);
    }
    let file = SourceFile::parse(source, edition).tree();
    (modules::collect(&file), modules::file_is_cfg_test(&file))
}

/// Whether `finding` is silenced by clippy lints (`clippy::unwrap_used`, ..)
/// allowed over its whole file from a `mod` declaration or a parent file.
pub fn allowed_by_module(finding: &Finding, allows: &[&str]) -> bool {
    rules::library_unwrap::allowed_by_module(finding, allows)
}

/// The clippy lints `source` allows at its top, without running any lint:
/// for files that discovery reads but does not check.
pub fn file_allows(source: &str, edition: Edition) -> Vec<String> {
    if !lex::shape(source).within_limits() {
        return Vec::new();
    }
    modules::file_allows(&SourceFile::parse(source, edition).tree())
}

/// How many syntax errors `ra_ap_syntax` finds in `source`.
/// A file beyond [`lex::MAX_NESTING`] is not parsed and counts as one error.
pub fn parse_error_count(source: &str, edition: Edition) -> usize {
    if !lex::shape(source).within_limits() {
        return 1;
    }
    SourceFile::parse(source, edition).errors().len()
}
