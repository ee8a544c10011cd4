//! What the server checks, off the main thread: one open document from its
//! in-memory text, or the whole workspace from disk — both through the
//! `temper check` pipeline (`check::run_with` for discovery and
//! classification, `check::recheck` for a text that is not on disk).

use crate::baseline::{self, Baseline};
use crate::check::{self, CheckRequest, CheckedFile, RunSettings};
use crate::config::{self, Config, Exclude};
use crate::report::Reported;
use lsp_types::Uri;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Everything configuration decides, shared by every job until the next
/// reload.
#[derive(Debug)]
pub struct Settings {
    /// `paths` are the workspace roots.
    pub request: CheckRequest,
    pub exclude: Exclude,
    pub cache_dir: Option<PathBuf>,
    pub baseline: Option<BaselineFilter>,
    /// What displayed paths are relative to (the server's working directory).
    pub cwd: PathBuf,
}

/// A baseline and the directory its paths are relative to.
#[derive(Debug)]
pub struct BaselineFilter {
    pub known: Baseline,
    pub base: PathBuf,
}

impl Settings {
    /// Loads configuration as `temper check` does for these roots: the
    /// explicit file, else the nearest `temper.toml` / Cargo.toml table.
    pub fn load(
        cwd: &Path,
        roots: &[PathBuf],
        config_file: Option<&Path>,
        baseline_file: Option<&Path>,
    ) -> Result<Settings, String> {
        let config: Config = config::for_command(cwd, config_file, roots).map_err(|error| {
            // The one-line message names the file and the problem; the help,
            // when there is one, says what to do.
            let help = miette::Diagnostic::help(&error).map(|h| format!(" ({h})"));
            format!("{error}{}", help.unwrap_or_default())
        })?;
        let levels = config.levels_with(&config::LevelFlags::default())?;
        let baseline = match baseline_file {
            Some(file) => {
                let path = cwd.join(file);
                let shown = check::display_path(cwd, &path);
                let known = Baseline::read(&path, &shown).map_err(|error| error.to_string())?;
                Some(BaselineFilter {
                    known,
                    base: baseline::base_dir(cwd, file),
                })
            }
            None => None,
        };
        let cache_dir = config
            .root
            .clone()
            .or_else(|| roots.first().cloned())
            .filter(|dir| dir.is_dir());
        Ok(Settings {
            request: CheckRequest {
                paths: roots.to_vec(),
                options: config.options.clone(),
                levels,
                edition: None,
            },
            exclude: config.exclude.clone(),
            cache_dir,
            baseline,
            cwd: cwd.to_path_buf(),
        })
    }

    /// Drops the findings the baseline knows, as `temper check --baseline`.
    pub fn filter(&self, findings: Vec<Reported>) -> Vec<Reported> {
        let Some(filter) = &self.baseline else {
            return findings;
        };
        let entries = baseline::entries(&findings, &self.cwd, &filter.base);
        let comparison = filter.known.compare(&entries, &[]);
        let mut new = comparison.new.into_iter().peekable();
        findings
            .into_iter()
            .enumerate()
            .filter_map(|(index, finding)| (new.next_if_eq(&index).is_some()).then_some(finding))
            .collect()
    }
}

/// What the last workspace check learned: every checked file with its role
/// and disk text, grouped by package, and the findings on disk.
#[derive(Debug, Default)]
pub struct Workspace {
    pub files: HashMap<PathBuf, Arc<CheckedFile>>,
    /// Package directory → its checked files.
    pub packages: HashMap<PathBuf, Vec<PathBuf>>,
    pub findings: HashMap<PathBuf, Vec<Reported>>,
}

/// Checks the workspace roots from disk.
pub fn check_workspace(settings: &Settings) -> Workspace {
    let run = RunSettings {
        exclude: settings.exclude.clone(),
        configs: None,
        cache_dir: settings.cache_dir.clone(),
        // Kept: open documents re-check against their package's texts.
        drop_clean_sources: false,
        prefilter: false,
        describe_crate_fixes: false,
        render: None,
        stream: None,
    };
    let outcome = check::run_with(&settings.request, &run);
    let mut workspace = Workspace::default();
    let by_display: HashMap<&str, &Path> = outcome
        .files
        .iter()
        .map(|file| (file.display.as_str(), file.path.as_path()))
        .collect();
    for reported in settings.filter(outcome.findings) {
        let Some(path) = by_display.get(reported.path.as_str()) else {
            continue;
        };
        workspace
            .findings
            .entry(path.to_path_buf())
            .or_default()
            .push(reported);
    }
    for file in outcome.files {
        workspace
            .packages
            .entry(crate::fix::base_dir(&file.path))
            .or_default()
            .push(file.path.clone());
        workspace.files.insert(file.path.clone(), Arc::new(file));
    }
    workspace
}

/// A document to check from its in-memory text.
pub struct DocumentJob {
    pub uri: Uri,
    pub version: i32,
    pub path: PathBuf,
    pub text: Arc<str>,
    pub settings: Arc<Settings>,
    /// What the workspace check decided about the file, when it saw it.
    pub file: Option<Arc<CheckedFile>>,
    /// The current texts of the file's package (open documents' included),
    /// for fixes that reach other files.
    pub crate_files: Vec<(PathBuf, Arc<str>)>,
}

/// The findings on one version of a document.
pub struct DocumentResult {
    pub uri: Uri,
    pub version: i32,
    pub findings: Vec<Reported>,
    /// The file's role, for code actions that re-check after fixing; `None`
    /// when configuration excludes it.
    pub file: Option<Arc<CheckedFile>>,
}

impl DocumentJob {
    pub fn run(self) -> DocumentResult {
        let file = self
            .file
            .clone()
            .or_else(|| discover_file(&self.path, &self.text, &self.settings));
        let findings = match &file {
            Some(file) => {
                let mut crate_files = self.crate_files;
                if crate_files.is_empty() {
                    crate_files.push((self.path.clone(), self.text.clone()));
                }
                let findings = check::recheck(
                    &self.settings.request,
                    file,
                    &self.text,
                    &crate_files,
                    &temper_lints::IndexCell::default(),
                );
                self.settings.filter(findings)
            }
            None => Vec::new(),
        };
        DocumentResult {
            uri: self.uri,
            version: self.version,
            findings,
            file,
        }
    }
}

/// Classifies a file the workspace check has not seen (opened before it
/// finished, or outside the workspace folders) the way `temper check FILE`
/// does; `None` when configuration excludes it.
fn discover_file(path: &Path, text: &Arc<str>, settings: &Settings) -> Option<Arc<CheckedFile>> {
    if settings.exclude.matches(path) {
        return None;
    }
    let request = CheckRequest {
        paths: vec![path.to_path_buf()],
        options: settings.request.options.clone(),
        levels: settings.request.levels.clone(),
        edition: settings.request.edition,
    };
    let run = RunSettings {
        exclude: settings.exclude.clone(),
        configs: None,
        cache_dir: None,
        drop_clean_sources: true,
        prefilter: false,
        describe_crate_fixes: false,
        render: None,
        stream: None,
    };
    let outcome = check::run_with(&request, &run);
    if let Some(file) = outcome.files.into_iter().next() {
        return Some(Arc::new(file));
    }
    // Not on disk yet (a new, unsaved file): library code, as `temper check`
    // treats a file named on the command line that no target reaches.
    Some(Arc::new(CheckedFile {
        path: path.to_path_buf(),
        display: check::display_path(&settings.cwd, path),
        source: text.clone(),
        parse_errors: 0,
        library: true,
        test_only: false,
        allows: Vec::new(),
        config: None,
        facts: temper_lints::CrateFacts::default(),
        edition: settings
            .request
            .edition
            .unwrap_or(temper_lints::Edition::LATEST),
    }))
}
