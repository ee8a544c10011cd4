//! Configuration: `temper.toml`, or `[package.metadata.temper]` /
//! `[workspace.metadata.temper]` in a Cargo.toml — lint levels, excluded paths
//! and per-lint options.
//!
//! The nearest configuration wins, file by file: walking up from each checked
//! file's directory, the first directory with a `temper.toml`, or with a
//! Cargo.toml that has a `metadata.temper` table, supplies it ([`Resolver`]),
//! so a file gets the same configuration whichever path the command was
//! given. `--config FILE` applies one file to everything. Unknown keys,
//! unknown lint names and invalid values are errors that point at the
//! offending text; nothing is silently ignored (a `metadata.temper` table
//! next to a `temper.toml`, which loses, gets a warning).

use crate::check::Levels;
use globset::{Glob, GlobSet, GlobSetBuilder};
use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use temper_lints::{DropOptions, Level, LibraryUnwrapOptions, Options};
use thiserror::Error;
use toml::Spanned;

/// The configuration file name looked for in every ancestor directory.
pub const FILE_NAME: &str = "temper.toml";

/// A loaded configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it came from; `None` for the built-in defaults.
    pub file: Option<PathBuf>,
    /// The directory the configuration applies to (its file's directory):
    /// `exclude` globs are relative to it and the cache lives under it.
    pub root: Option<PathBuf>,
    /// Levels set by `[lints]`, before command-line overrides.
    pub levels: BTreeMap<&'static str, Level>,
    pub exclude: Exclude,
    pub options: Options,
    /// Problems worth a warning that do not stop the command.
    pub warnings: Vec<String>,
}

/// The rustc-style level flags `check` and `fix` share.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LevelFlags {
    /// Set a lint to allow (repeatable; the last flag for a lint wins);
    /// `-A warnings` hides every warning.
    #[arg(short = 'A', long = "allow", value_name = "LINT")]
    pub allow: Vec<String>,
    /// Set a lint to warn (repeatable; the last flag for a lint wins).
    #[arg(short = 'W', long = "warn", value_name = "LINT")]
    pub warn: Vec<String>,
    /// Set a lint to deny (repeatable; the last flag for a lint wins);
    /// `-D warnings` denies every warning.
    #[arg(short = 'D', long = "deny", value_name = "LINT")]
    pub deny: Vec<String>,
    /// Every flag above in command-line order, as rustc applies them
    /// ([`LevelFlags::record_order`]); empty when built without clap, and the
    /// flags then apply as `-A`, `-W`, `-D`.
    #[arg(skip)]
    pub order: Vec<(Level, String)>,
}

impl LevelFlags {
    /// Records the order the level flags were given in, from clap's argument
    /// indices: in rustc the last flag for a lint wins.
    pub fn record_order(&mut self, matches: &clap::ArgMatches) {
        let mut order: Vec<(usize, Level, String)> = Vec::new();
        for (id, level) in [
            ("allow", Level::Allow),
            ("warn", Level::Warn),
            ("deny", Level::Deny),
        ] {
            let (Some(indices), Some(values)) =
                (matches.indices_of(id), matches.get_many::<String>(id))
            else {
                continue;
            };
            order.extend(
                indices
                    .zip(values)
                    .map(|(index, name)| (index, level, name.clone())),
            );
        }
        order.sort_by_key(|(index, _, _)| *index);
        self.order = order
            .into_iter()
            .map(|(_, level, name)| (level, name))
            .collect();
    }

    /// The flags in the order they apply.
    fn in_order(&self) -> Vec<(Level, &str)> {
        if !self.order.is_empty() {
            return self
                .order
                .iter()
                .map(|(level, name)| (*level, name.as_str()))
                .collect();
        }
        let mut out = Vec::new();
        for (names, level) in [
            (&self.allow, Level::Allow),
            (&self.warn, Level::Warn),
            (&self.deny, Level::Deny),
        ] {
            out.extend(names.iter().map(|name| (level, name.as_str())));
        }
        out
    }
}

impl Config {
    /// The configured levels with `-A/-W/-D` applied on top in command-line
    /// order, the last flag for a lint winning, as in rustc. `warnings` (the
    /// group of every lint at level warn once the flags are applied) takes
    /// the level of its last flag: `-D warnings` denies them, `-A warnings`
    /// hides them.
    pub fn levels_with(&self, flags: &LevelFlags) -> Result<Levels, String> {
        let mut levels = Levels::default();
        for (lint, level) in &self.levels {
            levels.set(lint, *level);
        }
        let mut warnings = None;
        for (level, name) in flags.in_order() {
            if name == "warnings" {
                warnings = Some(level);
                continue;
            }
            levels.set(lint_name(name)?, level);
        }
        if let Some(level) = warnings {
            levels.warnings_to(level);
        }
        Ok(levels)
    }
}

/// Looks a lint up among every lint temper reports, including
/// `unused_suppression`.
pub fn lint_name(name: &str) -> Result<&'static str, String> {
    match crate::suppress::all_lints().find(|l| l.name == name) {
        Some(lint) => Ok(lint.name),
        None => {
            let known: Vec<&str> = crate::suppress::all_lints().map(|l| l.name).collect();
            Err(format!(
                "unknown lint `{name}`; known lints: {}",
                known.join(", ")
            ))
        }
    }
}

/// Excluded paths: globs relative to the configuration's directory.
#[derive(Debug, Clone, Default)]
pub struct Exclude {
    root: PathBuf,
    set: GlobSet,
    patterns: Vec<String>,
}

impl Exclude {
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether `path` (absolute) or one of its ancestor directories below the
    /// root matches an exclude glob.
    pub fn matches(&self, path: &Path) -> bool {
        if self.patterns.is_empty() {
            return false;
        }
        let Ok(relative) = path.strip_prefix(&self.root) else {
            return false;
        };
        let mut prefix = PathBuf::new();
        for component in relative.components() {
            prefix.push(component);
            if self.set.is_match(&prefix) {
                return true;
            }
        }
        false
    }
}

/// A configuration that cannot be used.
#[derive(Debug, Error, Diagnostic)]
pub enum ConfigError {
    #[error("failed to read {path}: {message}")]
    #[diagnostic(code(temper::config))]
    Io { path: String, message: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(Box<InvalidConfig>),
}

/// A configuration file with a bad key or value, pointing at it.
#[derive(Debug, Error, Diagnostic)]
#[error("invalid configuration in {path}: {message}")]
#[diagnostic(code(temper::config))]
pub struct InvalidConfig {
    pub path: String,
    pub message: String,
    #[source_code]
    pub source_code: NamedSource<String>,
    #[label("{label}")]
    pub span: Option<SourceSpan>,
    pub label: String,
    #[help]
    pub help: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    lints: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    library_unwrap: RawLibraryUnwrap,
    #[serde(default)]
    drop_without_async_cleanup: RawDrop,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLibraryUnwrap {
    #[serde(default)]
    allow_lock_results: bool,
    #[serde(default)]
    test_attributes: Vec<String>,
    #[serde(default)]
    extra_methods: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDrop {
    #[serde(default)]
    extra_spawn_functions: Vec<String>,
    #[serde(default)]
    extra_cleanup_methods: Vec<String>,
}

/// The parts of a Cargo.toml that may hold configuration; everything else in
/// the manifest is Cargo's business and is ignored here.
#[derive(Debug, Default, Deserialize)]
struct Manifest {
    #[serde(default)]
    package: Option<MetadataHolder>,
    #[serde(default)]
    workspace: Option<MetadataHolder>,
}

#[derive(Debug, Default, Deserialize)]
struct MetadataHolder {
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Debug, Default, Deserialize)]
struct Metadata {
    #[serde(default)]
    temper: Option<Spanned<RawConfig>>,
}

/// The configuration a command uses: `--config FILE` when given (relative to
/// `cwd`), else the one [`discover`] finds.
pub fn for_command(
    cwd: &Path,
    explicit: Option<&Path>,
    paths: &[PathBuf],
) -> Result<Config, ConfigError> {
    match explicit {
        Some(file) => load(&cwd.join(file), cwd),
        None => discover(cwd, paths),
    }
}

/// Finds and loads the configuration for `paths` (the nearest one above the
/// first path, or above `cwd` when there is none); defaults when none exists.
pub fn discover(cwd: &Path, paths: &[PathBuf]) -> Result<Config, ConfigError> {
    let start = paths.first().map_or_else(
        || cwd.to_path_buf(),
        |p| crate::discover::normalize(&cwd.join(p)),
    );
    let start = if start.is_file() {
        start.parent().map(Path::to_path_buf).unwrap_or(start)
    } else {
        start
    };
    for dir in start.ancestors() {
        if let Some(config) = in_dir(dir, cwd)? {
            return Ok(config);
        }
    }
    Ok(Config::default())
}

/// The configuration held in `dir` itself, if any: its `temper.toml`, else
/// its Cargo.toml's `metadata.temper` table.
fn in_dir(dir: &Path, cwd: &Path) -> Result<Option<Config>, ConfigError> {
    let file = dir.join(FILE_NAME);
    let manifest = dir.join("Cargo.toml");
    // Cheap pre-check: only parse manifests that mention the table.
    let manifest_text = if manifest.is_file() {
        Some(read(&manifest, cwd)?).filter(|text| text.contains("temper"))
    } else {
        None
    };
    if file.is_file() {
        let mut config = load(&file, cwd)?;
        if let Some(text) = &manifest_text
            && from_manifest(&manifest, text, cwd).is_ok_and(|c| c.is_some())
        {
            let shown = crate::check::display_path(cwd, &manifest);
            let toml = crate::check::display_path(cwd, &file);
            config.warnings.push(format!(
                "both {toml} and a `metadata.temper` table in {shown} configure temper; {toml} is used and the table (its levels, excludes and options) is ignored: merge it into {toml}"
            ));
        }
        return Ok(Some(config));
    }
    match &manifest_text {
        Some(text) => from_manifest(&manifest, text, cwd),
        None => Ok(None),
    }
}

/// A configuration with the command line's level flags applied.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub config: Config,
    pub levels: Levels,
}

/// The nearest configuration of each checked file, looked up once per
/// directory and shared by the analysis threads.
#[derive(Debug)]
pub struct Resolver {
    cwd: PathBuf,
    flags: LevelFlags,
    /// `--config FILE`: one configuration for every file.
    fixed: Option<std::sync::Arc<Resolved>>,
    by_dir: std::sync::Mutex<HashMap<PathBuf, std::sync::Arc<Resolved>>>,
}

impl Resolver {
    /// One [`Resolver`] for a command, shared by the analysis threads: each
    /// file's nearest configuration, or, when `explicit` (`--config FILE`),
    /// `config` with its already computed `levels` for every file.
    pub fn for_command(
        cwd: &Path,
        flags: &LevelFlags,
        (config, levels): (&Config, &Levels),
        explicit: bool,
    ) -> std::sync::Arc<Resolver> {
        let fixed = explicit.then(|| {
            std::sync::Arc::new(Resolved {
                config: config.clone(),
                levels: levels.clone(),
            })
        });
        std::sync::Arc::new(Resolver {
            cwd: cwd.to_path_buf(),
            flags: flags.clone(),
            fixed,
            by_dir: std::sync::Mutex::new(HashMap::new()),
        })
    }

    fn resolve(&self, config: Config) -> Result<std::sync::Arc<Resolved>, ConfigError> {
        let levels = config
            .levels_with(&self.flags)
            .map_err(|message| ConfigError::Io {
                path: "the command line".to_string(),
                message,
            })?;
        Ok(std::sync::Arc::new(Resolved { config, levels }))
    }

    /// The configuration that applies to `file` (absolute).
    pub fn for_file(&self, file: &Path) -> Result<std::sync::Arc<Resolved>, ConfigError> {
        if let Some(fixed) = &self.fixed {
            return Ok(fixed.clone());
        }
        let dir = file.parent().unwrap_or(file);
        self.for_dir(dir)
    }

    fn for_dir(&self, dir: &Path) -> Result<std::sync::Arc<Resolved>, ConfigError> {
        if let Some(found) = self.by_dir.lock().ok().and_then(|m| m.get(dir).cloned()) {
            return Ok(found);
        }
        let resolved = match (in_dir(dir, &self.cwd)?, dir.parent()) {
            (Some(config), _) => self.resolve(config)?,
            (None, Some(parent)) => self.for_dir(parent)?,
            (None, None) => self.resolve(Config::default())?,
        };
        if let Ok(mut map) = self.by_dir.lock() {
            map.insert(dir.to_path_buf(), resolved.clone());
        }
        Ok(resolved)
    }
}

/// Loads an explicit configuration file: a `temper.toml`, or a Cargo.toml
/// whose `metadata.temper` table is read.
pub fn load(file: &Path, cwd: &Path) -> Result<Config, ConfigError> {
    let text = read(file, cwd)?;
    if file.file_name().is_some_and(|n| n == "Cargo.toml") {
        return Ok(from_manifest(file, &text, cwd)?.unwrap_or_default());
    }
    let shown = crate::check::display_path(cwd, file);
    let raw: RawConfig =
        toml::from_str(&text).map_err(|e| invalid(&shown, &text, e.message(), e.span(), None))?;
    build(raw, file, &shown, &text)
}

fn read(file: &Path, cwd: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(file).map_err(|e| ConfigError::Io {
        path: crate::check::display_path(cwd, file),
        message: e.to_string(),
    })
}

fn from_manifest(file: &Path, text: &str, cwd: &Path) -> Result<Option<Config>, ConfigError> {
    let shown = crate::check::display_path(cwd, file);
    let manifest: Manifest =
        toml::from_str(text).map_err(|e| invalid(&shown, text, e.message(), e.span(), None))?;
    let package = manifest
        .package
        .and_then(|p| p.metadata)
        .and_then(|m| m.temper);
    let workspace = manifest
        .workspace
        .and_then(|w| w.metadata)
        .and_then(|m| m.temper);
    let raw = match (package, workspace) {
        (Some(package), Some(workspace)) => {
            return Err(invalid(
                &shown,
                text,
                "both [package.metadata.temper] and [workspace.metadata.temper] are set",
                Some(workspace.span()),
                Some(format!(
                    "keep one of them (the package table starts at byte {})",
                    package.span().start
                )),
            ));
        }
        (Some(raw), None) | (None, Some(raw)) => raw.into_inner(),
        (None, None) => return Ok(None),
    };
    build(raw, file, &shown, text).map(Some)
}

fn invalid(
    shown: &str,
    text: &str,
    message: &str,
    span: Option<Range<usize>>,
    help: Option<String>,
) -> ConfigError {
    let message = message.trim().to_string();
    ConfigError::Invalid(Box::new(InvalidConfig {
        path: shown.to_string(),
        label: message.lines().next().unwrap_or_default().to_string(),
        message,
        source_code: NamedSource::new(shown, text.to_string()).with_language("TOML"),
        span: span.map(|s| SourceSpan::from((s.start, s.end.saturating_sub(s.start)))),
        help,
    }))
}

fn build(raw: RawConfig, file: &Path, shown: &str, text: &str) -> Result<Config, ConfigError> {
    let root = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut levels = BTreeMap::new();
    for (name, level) in &raw.lints {
        let lint = lint_name(name.get_ref())
            .map_err(|message| invalid(shown, text, &message, Some(name.span()), None))?;
        let value = Level::parse(level.get_ref()).ok_or_else(|| {
            invalid(
                shown,
                text,
                &format!("invalid level `{}` for `{lint}`", level.get_ref()),
                Some(level.span()),
                Some("use one of \"allow\", \"warn\", \"deny\"".to_string()),
            )
        })?;
        levels.insert(lint, value);
    }
    let mut builder = GlobSetBuilder::new();
    let mut patterns = Vec::new();
    for pattern in &raw.exclude {
        let text_pattern = pattern.get_ref().trim_end_matches('/');
        let glob = Glob::new(text_pattern).map_err(|e| {
            invalid(
                shown,
                text,
                &format!("invalid glob: {}", e.kind()),
                Some(pattern.span()),
                None,
            )
        })?;
        builder.add(glob);
        patterns.push(pattern.get_ref().clone());
    }
    let set = builder
        .build()
        .map_err(|e| invalid(shown, text, &e.to_string(), None, None))?;
    Ok(Config {
        file: Some(file.to_path_buf()),
        root: Some(root.clone()),
        levels,
        exclude: Exclude {
            root,
            set,
            patterns,
        },
        warnings: Vec::new(),
        options: Options {
            library_unwrap: LibraryUnwrapOptions {
                allow_lock_results: raw.library_unwrap.allow_lock_results,
                test_attributes: raw.library_unwrap.test_attributes,
                extra_methods: raw.library_unwrap.extra_methods,
            },
            drop_without_async_cleanup: DropOptions {
                extra_spawn_functions: raw.drop_without_async_cleanup.extra_spawn_functions,
                extra_cleanup_methods: raw.drop_without_async_cleanup.extra_cleanup_methods,
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join(FILE_NAME);
        std::fs::write(&file, text).expect("write");
        load(&file, dir.path())
    }

    fn label_text(error: &ConfigError, text: &str) -> String {
        match error {
            ConfigError::Invalid(invalid) => {
                let span = invalid.span.expect("a span");
                text[span.offset()..span.offset() + span.len()].to_string()
            }
            other => panic!("no span: {other:?}"),
        }
    }

    #[test]
    fn reads_levels_exclude_and_options() {
        let config = parse(
            "exclude = [\"generated/**\"]\n[lints]\nlibrary_unwrap = \"deny\"\n\
             [library_unwrap]\nallow-lock-results = true\nextra-methods = [\"unwrap_unchecked\"]\n\
             [drop_without_async_cleanup]\nextra-cleanup-methods = [\"teardown\"]\n",
        )
        .expect("valid");
        assert_eq!(config.levels.get("library_unwrap"), Some(&Level::Deny));
        assert!(config.options.library_unwrap.allow_lock_results);
        assert_eq!(
            config
                .options
                .drop_without_async_cleanup
                .extra_cleanup_methods,
            ["teardown"]
        );
        let root = config.root.clone().expect("root");
        assert!(config.exclude.matches(&root.join("generated/a/b.rs")));
        assert!(!config.exclude.matches(&root.join("src/lib.rs")));
    }

    #[test]
    fn errors_point_at_the_bad_text() {
        let text = "[lints]\nlibrary_unwarp = \"deny\"\n";
        let error = parse(text).expect_err("unknown lint");
        assert_eq!(label_text(&error, text), "library_unwarp");

        let text = "[lints]\nlibrary_unwrap = \"forbid\"\n";
        let error = parse(text).expect_err("bad level");
        assert_eq!(label_text(&error, text), "\"forbid\"");

        let text = "[library_unwrap]\nallow-lock-result = true\n";
        let error = parse(text).expect_err("unknown key");
        assert!(label_text(&error, text).contains("allow-lock-result"));
    }
}
