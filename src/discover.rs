//! Which files to check, and what each one is: Cargo packages, their targets,
//! and the module tree reached from each target root.
//!
//! Manifests are read directly (with Cargo's target auto-discovery rules)
//! rather than through `cargo metadata`: a directory of hundreds of crates is
//! discovered in milliseconds instead of one cargo process per crate.

use miette::{Diagnostic, NamedSource, SourceSpan};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};
use temper_lints::{CrateFacts, Edition, Logging, ModDecl};
use thiserror::Error;

/// What kind of Cargo target compiles a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetKind {
    Lib,
    Bin,
    Test,
    Example,
    Bench,
    BuildScript,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: TargetKind,
    pub name: String,
    pub root: PathBuf,
}

/// A Cargo package: its directory, targets and the facts fixes rely on.
#[derive(Debug, Clone)]
pub struct Package {
    pub name: String,
    pub dir: PathBuf,
    pub manifest: PathBuf,
    pub targets: Vec<Target>,
    pub facts: CrateFacts,
    /// The edition every file of the package is parsed with: `edition`,
    /// inherited with `edition.workspace = true`, else 2015 (as Cargo).
    pub edition: Edition,
    /// The `[workspace]` table, when this manifest has one.
    pub workspace: Option<WorkspaceTable>,
}

/// What a workspace root's manifest says about membership and inheritance.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceTable {
    /// `members`, as written (globs allowed).
    pub members: Vec<String>,
    /// `exclude`, as written (path prefixes).
    pub exclude: Vec<String>,
    /// `[workspace.dependencies]` entries that have a `path`, resolved
    /// against the root: members inherit them with `workspace = true`.
    pub path_dependencies: BTreeMap<String, PathBuf>,
    /// `[workspace.package] edition`, as written.
    pub edition: Option<String>,
    /// `[workspace.package] rust-version`, as written.
    pub rust_version: Option<String>,
}

/// The member packages of a workspace, found by Cargo's rules.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    pub root: PathBuf,
    /// Directories of the member packages (the root's own package included).
    pub members: BTreeSet<PathBuf>,
}

impl Workspace {
    /// Resolves the members of the workspace whose root manifest is in
    /// `root`: every directory the `members` globs match, except under an
    /// `exclude` path, the root package, and then every path dependency of a
    /// member (`workspace = true` ones through `[workspace.dependencies]`,
    /// dev, build and target-specific ones too) that lies inside the root,
    /// transitively, as `cargo metadata` lists them.
    pub fn resolve(root: &Path, table: &WorkspaceTable, root_is_package: bool) -> Workspace {
        let mut members = BTreeSet::new();
        let mut queue: Vec<(PathBuf, bool)> = Vec::new();
        for pattern in &table.members {
            let dirs = expand_glob(root, pattern);
            // Like Cargo, a pattern that matches nothing still names its path
            // (which then fails to load and is skipped here).
            queue.extend(dirs.into_iter().map(|dir| (dir, false)));
        }
        if root_is_package {
            queue.push((root.to_path_buf(), false));
        }
        while let Some((dir, is_path_dep)) = queue.pop() {
            let dir = normalize(&dir);
            if members.contains(&dir) {
                continue;
            }
            if is_path_dep && !dir.starts_with(root) {
                continue;
            }
            if is_excluded(root, table, &dir) {
                continue;
            }
            let Some(manifest) = load_table(&dir.join("Cargo.toml")) else {
                continue;
            };
            let Some(package) = manifest.get("package").and_then(toml::Value::as_table) else {
                continue;
            };
            // A package that names another workspace root is not ours.
            if let Some(other) = package.get("workspace").and_then(toml::Value::as_str)
                && normalize(&dir.join(other)) != root
            {
                continue;
            }
            members.insert(dir.clone());
            for dep in path_dependencies(&manifest, &dir, &table.path_dependencies) {
                queue.push((dep, true));
            }
        }
        Workspace {
            root: root.to_path_buf(),
            members,
        }
    }

    /// Whether the package in `dir` (or a member below it) belongs here.
    pub fn reaches(&self, dir: &Path) -> bool {
        dir == self.root
            || self.members.contains(dir)
            || self
                .members
                .range(dir.to_path_buf()..)
                .next()
                .is_some_and(|m| m.starts_with(dir))
    }
}

/// The workspace whose root manifest is in `dir`, members resolved; `None`
/// when `dir` holds no workspace root (or its manifest does not parse: reading
/// it as a package reports why).
pub fn workspace_at(dir: &Path) -> Option<Workspace> {
    let manifest = dir.join("Cargo.toml");
    let text = fs::read_to_string(&manifest).ok()?;
    // Cheap test first: most manifests met on a walk are not roots.
    if !text
        .lines()
        .any(|l| l.trim_start().starts_with("[workspace"))
    {
        return None;
    }
    let table: toml::Table = toml::from_str(&text).ok()?;
    let ws = workspace_table(table.get("workspace")?.as_table()?, dir);
    Some(Workspace::resolve(dir, &ws, table.contains_key("package")))
}

/// Cargo's `exclude`: a path under an excluded prefix is not a member unless
/// a `members` entry names it (or a parent) literally.
fn is_excluded(root: &Path, table: &WorkspaceTable, dir: &Path) -> bool {
    let excluded = table
        .exclude
        .iter()
        .any(|ex| dir.starts_with(normalize(&root.join(ex))));
    let explicit = table
        .members
        .iter()
        .any(|m| dir.starts_with(normalize(&root.join(m))));
    excluded && !explicit
}

/// The directories a `members` entry names: `*`, `?`, `[..]` and `**` in
/// any path component, matched against the file system like Cargo's glob.
fn expand_glob(root: &Path, pattern: &str) -> Vec<PathBuf> {
    let mut current = vec![root.to_path_buf()];
    for component in Path::new(pattern).components() {
        let part = component.as_os_str().to_string_lossy();
        if part == "**" {
            current = current.iter().flat_map(|dir| subdirectories(dir)).collect();
            continue;
        }
        if !part.contains(['*', '?', '[']) {
            current = current.iter().map(|dir| dir.join(&*part)).collect();
            continue;
        }
        let Ok(glob) = globset::Glob::new(&part) else {
            return Vec::new();
        };
        let matcher = glob.compile_matcher();
        let mut next = Vec::new();
        for dir in &current {
            let Ok(entries) = fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                // Cargo's glob skips hidden entries unless asked for them.
                if name.to_string_lossy().starts_with('.') && !part.starts_with('.') {
                    continue;
                }
                if matcher.is_match(&name) && entry.path().is_dir() {
                    next.push(entry.path());
                }
            }
        }
        current = next;
    }
    current.sort();
    current
}

/// `dir` and every directory below it, for a `**` component.
fn subdirectories(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        if let Ok(entries) = fs::read_dir(&out[i]) {
            for entry in entries.flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    out.push(entry.path());
                }
            }
        }
        i += 1;
    }
    out
}

/// The directories of a manifest's path dependencies, of every kind.
fn path_dependencies(
    manifest: &toml::Table,
    dir: &Path,
    inherited: &BTreeMap<String, PathBuf>,
) -> Vec<PathBuf> {
    const KINDS: [&str; 5] = [
        "dependencies",
        "dev-dependencies",
        "dev_dependencies",
        "build-dependencies",
        "build_dependencies",
    ];
    let mut tables: Vec<&toml::Table> = KINDS
        .iter()
        .filter_map(|kind| manifest.get(*kind).and_then(toml::Value::as_table))
        .collect();
    if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
        for target in targets.values().filter_map(toml::Value::as_table) {
            tables.extend(
                KINDS
                    .iter()
                    .filter_map(|kind| target.get(*kind).and_then(toml::Value::as_table)),
            );
        }
    }
    let mut out = Vec::new();
    for (name, spec) in tables.into_iter().flatten() {
        let Some(spec) = spec.as_table() else {
            continue;
        };
        if let Some(path) = spec.get("path").and_then(toml::Value::as_str) {
            out.push(dir.join(path));
        } else if spec.get("workspace").and_then(toml::Value::as_bool) == Some(true)
            && let Some(path) = inherited.get(name)
        {
            out.push(path.clone());
        }
    }
    out
}

/// A manifest's table, or `None` when it cannot be read or parsed (the
/// package is then not followed; reading it as a package reports why).
fn load_table(manifest: &Path) -> Option<toml::Table> {
    toml::from_str(&fs::read_to_string(manifest).ok()?).ok()
}

/// A manifest that could not be used.
#[derive(Debug, Error, Diagnostic)]
pub enum ManifestError {
    #[error("failed to read {path}: {message}")]
    #[diagnostic(code(temper::manifest))]
    Io { path: String, message: String },
    #[error("failed to parse {path}: {message}")]
    #[diagnostic(
        code(temper::manifest),
        help("fix the manifest so that `cargo metadata` accepts it")
    )]
    Parse {
        path: String,
        message: String,
        // Shared so the error stays small (clippy's result_large_err).
        #[source_code]
        source_code: std::sync::Arc<NamedSource<String>>,
        #[label("{message}")]
        span: Option<SourceSpan>,
    },
    #[error("invalid manifest {path}: {message}")]
    #[diagnostic(code(temper::manifest))]
    Invalid { path: String, message: String },
}

/// Reads a Cargo.toml. Returns `Ok(None)` for a virtual manifest's package
/// part (a workspace root without `[package]` still yields its members).
pub fn read_manifest(manifest: &Path, display: &str) -> Result<Package, ManifestError> {
    let text = fs::read_to_string(manifest).map_err(|e| ManifestError::Io {
        path: display.to_string(),
        message: e.to_string(),
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| ManifestError::Parse {
        path: display.to_string(),
        message: e.message().to_string(),
        span: e
            .span()
            .map(|s| SourceSpan::from((s.start, s.end.saturating_sub(s.start)))),
        source_code: std::sync::Arc::new(NamedSource::new(display, text.clone())),
    })?;
    let dir = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
    let package = table.get("package").and_then(toml::Value::as_table);
    let name = package
        .and_then(|p| p.get("name"))
        .and_then(toml::Value::as_str)
        .unwrap_or_default()
        .to_string();
    let workspace = table
        .get("workspace")
        .and_then(toml::Value::as_table)
        .map(|ws| workspace_table(ws, &dir));
    let fields = package.map(|p| PackageFields::new(p, &dir, workspace.as_ref()));
    let edition = fields
        .as_ref()
        .map_or(Ok(Edition::Edition2015), PackageFields::edition)
        .map_err(|message| ManifestError::Invalid {
            path: display.to_string(),
            message,
        })?;
    let rust_version = fields.as_ref().and_then(PackageFields::rust_version);
    let targets = if package.is_some() {
        targets(&dir, &name, &table)
    } else {
        Vec::new()
    };
    Ok(Package {
        name,
        dir,
        manifest: manifest.to_path_buf(),
        targets,
        facts: facts(&table, rust_version),
        edition,
        workspace,
    })
}

fn workspace_table(ws: &toml::Table, root: &Path) -> WorkspaceTable {
    let list = |key: &str| -> Vec<String> {
        ws.get(key)
            .and_then(toml::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(toml::Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let path_dependencies = ws
        .get("dependencies")
        .and_then(toml::Value::as_table)
        .map(|deps| {
            deps.iter()
                .filter_map(|(name, spec)| {
                    let path = spec.as_table()?.get("path")?.as_str()?;
                    Some((name.clone(), normalize(&root.join(path))))
                })
                .collect()
        })
        .unwrap_or_default();
    let inherited = |key: &str| {
        ws.get("package")
            .and_then(|p| p.get(key))
            .and_then(toml::Value::as_str)
            .map(str::to_string)
    };
    WorkspaceTable {
        members: list("members"),
        exclude: list("exclude"),
        path_dependencies,
        edition: inherited("edition"),
        rust_version: inherited("rust-version"),
    }
}

/// A `[package]` field as written: its own value, or its workspace's
/// `[workspace.package]` value with `field.workspace = true` (`pick` reads
/// that table). The workspace root above a package is read once, when the
/// first inherited field asks for it.
struct PackageFields<'a> {
    package: &'a toml::Table,
    dir: &'a Path,
    own_workspace: Option<&'a WorkspaceTable>,
    root: std::cell::OnceCell<Option<WorkspaceTable>>,
}

impl<'a> PackageFields<'a> {
    fn new(package: &'a toml::Table, dir: &'a Path, own: Option<&'a WorkspaceTable>) -> Self {
        PackageFields {
            package,
            dir,
            own_workspace: own,
            root: std::cell::OnceCell::new(),
        }
    }

    fn workspace(&self) -> Option<&WorkspaceTable> {
        self.own_workspace.or_else(|| {
            self.root
                .get_or_init(|| workspace_root_of(self.package, self.dir).map(|(_, t)| t))
                .as_ref()
        })
    }

    /// `Ok(None)` when the package does not set `key`.
    fn get(
        &self,
        key: &str,
        pick: fn(&WorkspaceTable) -> Option<&String>,
    ) -> Result<Option<String>, String> {
        match self.package.get(key) {
            None => Ok(None),
            Some(toml::Value::String(value)) => Ok(Some(value.clone())),
            Some(toml::Value::Table(t))
                if t.get("workspace").and_then(toml::Value::as_bool) == Some(true) =>
            {
                self.workspace().and_then(pick).cloned().map(Some).ok_or_else(|| {
                    format!(
                        "`{key}.workspace = true`, but the workspace root sets no `workspace.package.{key}`"
                    )
                })
            }
            Some(_) => Err(format!("`package.{key}` must be a string")),
        }
    }

    /// The edition, or 2015 when the package names none (as Cargo).
    fn edition(&self) -> Result<Edition, String> {
        match self.get("edition", |ws| ws.edition.as_ref())? {
            None => Ok(Edition::Edition2015),
            Some(written) => parse_edition(&written),
        }
    }

    /// `rust-version` (major, minor); `None` when the package states none
    /// or one that is not a version (Cargo rejects those itself).
    fn rust_version(&self) -> Option<(u32, u32)> {
        let written = self
            .get("rust-version", |ws| ws.rust_version.as_ref())
            .ok()??;
        parse_rust_version(&written)
    }
}

/// `1.65`, `1.65.0` → `(1, 65)`.
pub fn parse_rust_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    Some((major, minor))
}

/// Parses an edition name (`2015`, `2018`, `2021`, `2024`).
pub fn parse_edition(text: &str) -> Result<Edition, String> {
    text.parse::<Edition>()
        .map_err(|_| format!("unsupported edition `{text}` (expected 2015, 2018, 2021 or 2024)"))
}

/// The workspace root a package belongs to: `package.workspace`, else the
/// nearest directory above it whose manifest has `[workspace]`.
fn workspace_root_of(package: &toml::Table, dir: &Path) -> Option<(PathBuf, WorkspaceTable)> {
    let candidates: Vec<PathBuf> = match package.get("workspace").and_then(toml::Value::as_str) {
        Some(root) => vec![normalize(&dir.join(root))],
        None => dir.ancestors().skip(1).map(Path::to_path_buf).collect(),
    };
    candidates.into_iter().find_map(|root| {
        let table = load_table(&root.join("Cargo.toml"))?;
        let ws = table.get("workspace")?.as_table()?;
        Some((root.clone(), workspace_table(ws, &root)))
    })
}

fn facts(table: &toml::Table, rust_version: Option<(u32, u32)>) -> CrateFacts {
    // What library code may name: `[dependencies]` (and those under
    // `[target.'cfg(..)'.dependencies]`) that are not optional. A
    // dev-dependency (axum's anyhow) or an optional one is not there for
    // every build of the library, so a fix must not reach for it.
    let mut deps = BTreeSet::new();
    let mut add = |t: &toml::Table| {
        deps.extend(
            t.iter()
                .filter(|(_, spec)| {
                    !spec
                        .get("optional")
                        .and_then(toml::Value::as_bool)
                        .unwrap_or(false)
                })
                .map(|(name, _)| name.clone()),
        );
    };
    if let Some(t) = table.get("dependencies").and_then(toml::Value::as_table) {
        add(t);
    }
    if let Some(targets) = table.get("target").and_then(toml::Value::as_table) {
        for target in targets.values().filter_map(toml::Value::as_table) {
            if let Some(t) = target.get("dependencies").and_then(toml::Value::as_table) {
                add(t);
            }
        }
    }
    CrateFacts {
        uses_anyhow: deps.contains("anyhow"),
        uses_eyre: deps.contains("eyre") || deps.contains("color-eyre"),
        logging: if deps.contains("tracing") {
            Logging::Tracing
        } else if deps.contains("log") {
            Logging::Log
        } else {
            Logging::Stderr
        },
        rust_version,
    }
}

/// Cargo's targets: explicit sections plus auto-discovery.
fn targets(dir: &Path, package_name: &str, table: &toml::Table) -> Vec<Target> {
    let package = table.get("package").and_then(toml::Value::as_table);
    let auto = |key: &str| {
        package
            .and_then(|p| p.get(key))
            .and_then(toml::Value::as_bool)
            .unwrap_or(true)
    };
    let mut out = Vec::new();

    let lib = table.get("lib").and_then(toml::Value::as_table);
    let lib_path = lib
        .and_then(|l| l.get("path"))
        .and_then(toml::Value::as_str);
    match lib_path {
        Some(path) => out.push(Target {
            kind: TargetKind::Lib,
            name: package_name.into(),
            root: dir.join(path),
        }),
        None if dir.join("src/lib.rs").is_file() => out.push(Target {
            kind: TargetKind::Lib,
            name: package_name.into(),
            root: dir.join("src/lib.rs"),
        }),
        None => {}
    }

    let sections = [
        ("bin", TargetKind::Bin, "src/bin", "autobins"),
        ("test", TargetKind::Test, "tests", "autotests"),
        ("example", TargetKind::Example, "examples", "autoexamples"),
        ("bench", TargetKind::Bench, "benches", "autobenches"),
    ];
    for (key, kind, auto_dir, auto_key) in sections {
        let explicit: Vec<&toml::Table> = table
            .get(key)
            .and_then(toml::Value::as_array)
            .map(|a| a.iter().filter_map(toml::Value::as_table).collect())
            .unwrap_or_default();
        let mut seen = BTreeSet::new();
        for entry in &explicit {
            let name = entry
                .get("name")
                .and_then(toml::Value::as_str)
                .unwrap_or(package_name);
            let path = match entry.get("path").and_then(toml::Value::as_str) {
                Some(path) => dir.join(path),
                None if kind == TargetKind::Bin
                    && name == package_name
                    && dir.join("src/main.rs").is_file() =>
                {
                    dir.join("src/main.rs")
                }
                None => default_target_path(&dir.join(auto_dir), name),
            };
            seen.insert(path.clone());
            out.push(Target {
                kind,
                name: name.to_string(),
                root: path,
            });
        }
        if !auto(auto_key) {
            continue;
        }
        let mut found = Vec::new();
        if kind == TargetKind::Bin && dir.join("src/main.rs").is_file() {
            found.push((package_name.to_string(), dir.join("src/main.rs")));
        }
        found.extend(auto_targets(&dir.join(auto_dir)));
        for (name, path) in found {
            if seen.insert(path.clone()) {
                out.push(Target {
                    kind,
                    name,
                    root: path,
                });
            }
        }
    }

    let build = package.and_then(|p| p.get("build"));
    match build {
        Some(toml::Value::String(path)) => out.push(Target {
            kind: TargetKind::BuildScript,
            name: "build-script".into(),
            root: dir.join(path),
        }),
        Some(toml::Value::Boolean(false)) => {}
        _ if dir.join("build.rs").is_file() => out.push(Target {
            kind: TargetKind::BuildScript,
            name: "build-script".into(),
            root: dir.join("build.rs"),
        }),
        _ => {}
    }
    out
}

fn default_target_path(dir: &Path, name: &str) -> PathBuf {
    let single = dir.join(format!("{name}.rs"));
    if single.is_file() {
        single
    } else {
        dir.join(name).join("main.rs")
    }
}

/// `dir/*.rs` and `dir/*/main.rs`, sorted.
fn auto_targets(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(stem) = path.file_stem().map(|s| s.to_string_lossy().to_string()) else {
            continue;
        };
        if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
            out.push((stem, path));
        } else if path.is_dir() && path.join("main.rs").is_file() {
            out.push((stem, path.join("main.rs")));
        }
    }
    out.sort();
    out
}

/// How a file is compiled, decided from every target that reaches it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileRole {
    /// Target kinds that compile this file outside `cfg(test)`.
    pub kinds: BTreeSet<TargetKind>,
    /// Reached only under `cfg(test)` by some target.
    pub test_only_kinds: BTreeSet<TargetKind>,
    /// Clippy lints allowed over the file by an attribute on a `mod`
    /// declaration or a file's `#![allow]` above it in the module tree, on
    /// every path that reaches it (`None` before the first).
    pub allows: Option<BTreeSet<String>>,
    /// Module cycles a `mod` declaration of this file closes (through
    /// `#[path]` or a symbolic link): each the chain of files from the one
    /// declared back to itself. rustc rejects them; temper does not follow
    /// the declaration and says so.
    pub cycles: BTreeSet<Vec<PathBuf>>,
    /// A `mod` declaration of this file lies deeper than
    /// [`MAX_MODULE_DEPTH`] files below its target's root: not followed.
    pub too_deep: bool,
}

/// How many files deep a module tree is followed (rustc has no limit, but a
/// real crate is a few levels deep; a deeper chain is generated or a cycle
/// through symbolic links that paths alone do not show).
pub const MAX_MODULE_DEPTH: usize = 256;

/// The files from a target's root down to one being walked.
#[derive(Debug)]
struct Ancestor {
    /// The file as the file system resolves it, so that a cycle through a
    /// symbolic link is seen as one.
    real: PathBuf,
    /// The file as the walk names it.
    file: PathBuf,
    depth: usize,
    parent: Option<std::rc::Rc<Ancestor>>,
}

impl Ancestor {
    /// The chain from `file`'s earlier place down to `self` and on to `file`
    /// again, when `file` (`real` as the file system resolves it) is already
    /// on it.
    fn cycle_to(self: &std::rc::Rc<Self>, file: &Path, real: &Path) -> Option<Vec<PathBuf>> {
        let mut chain = Vec::new();
        let mut at = Some(self);
        while let Some(ancestor) = at {
            chain.push(ancestor.file.clone());
            if ancestor.real == real {
                chain.reverse();
                chain.push(file.to_path_buf());
                return Some(chain);
            }
            at = ancestor.parent.as_ref();
        }
        None
    }
}

impl FileRole {
    /// Compiled into a library target outside `cfg(test)`.
    pub fn is_library(&self) -> bool {
        self.kinds.contains(&TargetKind::Lib)
    }

    pub fn is_compiled(&self) -> bool {
        !self.kinds.is_empty() || !self.test_only_kinds.is_empty()
    }
}

/// Supplies a file's module declarations: from files already analysed, or by
/// reading the file.
pub trait ModuleSource {
    /// `edition` is the package's, for a file that has to be parsed.
    fn modules(&mut self, path: &Path, edition: Edition) -> Option<(Vec<ModDecl>, bool)>;
    /// The clippy lints the file allows for all of itself (`#![allow(..)]`).
    fn file_allows(&mut self, _path: &Path) -> Vec<String> {
        Vec::new()
    }
}

/// A module-tree walk item: the file, whether it is a mod-rs file, whether it
/// is reached only under `cfg(test)`, the clippy allows inherited from the
/// modules above it, and the file that declared it.
type Pending = (
    PathBuf,
    bool,
    bool,
    BTreeSet<String>,
    Option<std::rc::Rc<Ancestor>>,
);

/// Walks every target's module tree and returns each reached file's role.
pub fn classify(package: &Package, modules: &mut dyn ModuleSource) -> HashMap<PathBuf, FileRole> {
    let mut roles: HashMap<PathBuf, FileRole> = HashMap::new();
    for target in &package.targets {
        let mut visited = BTreeSet::new();
        let mut stack: Vec<Pending> =
            vec![(normalize(&target.root), true, false, BTreeSet::new(), None)];
        while let Some((file, is_mod_rs, test_only, mut allows, parent)) = stack.pop() {
            let real = fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
            if let Some(parent) = &parent {
                if let Some(cycle) = parent.cycle_to(&file, &real) {
                    let role = roles.entry(parent.file.clone()).or_default();
                    role.cycles.insert(cycle);
                    continue;
                }
                if parent.depth + 1 >= MAX_MODULE_DEPTH {
                    roles.entry(parent.file.clone()).or_default().too_deep = true;
                    continue;
                }
            }
            if !visited.insert((file.clone(), test_only)) {
                continue;
            }
            let Some((decls, file_cfg_test)) = modules.modules(&file, package.edition) else {
                continue;
            };
            allows.extend(modules.file_allows(&file));
            let test_only = test_only || file_cfg_test;
            let role = roles.entry(file.clone()).or_default();
            // Allowed only when every way the file is compiled allows it.
            role.allows = Some(match role.allows.take() {
                Some(before) => before.intersection(&allows).cloned().collect(),
                None => allows.clone(),
            });
            if test_only {
                role.test_only_kinds.insert(target.kind);
            } else {
                role.kinds.insert(target.kind);
            }
            let file_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
            let module_dir = if is_mod_rs {
                file_dir.clone()
            } else {
                let stem = file
                    .file_stem()
                    .map(|s| s.to_os_string())
                    .unwrap_or_default();
                file_dir.join(stem)
            };
            let here = std::rc::Rc::new(Ancestor {
                real,
                file: file.clone(),
                depth: parent.as_ref().map_or(0, |p| p.depth + 1),
                parent,
            });
            resolve_decls(
                &decls,
                &file_dir,
                &module_dir,
                (test_only, &allows, &here),
                &mut stack,
            );
        }
    }
    roles
}

fn resolve_decls(
    decls: &[ModDecl],
    file_dir: &Path,
    module_dir: &Path,
    (test_only, allows, parent): (bool, &BTreeSet<String>, &std::rc::Rc<Ancestor>),
    stack: &mut Vec<Pending>,
) {
    for decl in decls {
        let test_only = test_only || decl.cfg_test;
        let mut allows = allows.clone();
        allows.extend(decl.allows.iter().cloned());
        if let Some(inner) = &decl.inline {
            let dir = match &decl.path_attr {
                Some(path) => module_dir.join(path),
                None => module_dir.join(&decl.name),
            };
            resolve_decls(inner, &dir, &dir, (test_only, &allows, parent), stack);
            continue;
        }
        if let Some(path) = &decl.path_attr {
            // `#[path]` is relative to the directory of the declaring file; the
            // target is a mod-rs file for its own children.
            let target = normalize(&file_dir.join(path));
            stack.push((target, true, test_only, allows, Some(parent.clone())));
            continue;
        }
        let flat = module_dir.join(format!("{}.rs", decl.name));
        let nested = module_dir.join(&decl.name).join("mod.rs");
        if flat.is_file() {
            stack.push((
                normalize(&flat),
                false,
                test_only,
                allows,
                Some(parent.clone()),
            ));
        } else if nested.is_file() {
            stack.push((
                normalize(&nested),
                true,
                test_only,
                allows,
                Some(parent.clone()),
            ));
        }
    }
}

/// Removes `.` and `..` components without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// The nearest ancestor directory (including `start`) with a Cargo.toml that
/// declares a `[package]`.
pub fn enclosing_manifest(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(current) = dir {
        let manifest = current.join("Cargo.toml");
        if manifest.is_file()
            && fs::read_to_string(&manifest)
                .is_ok_and(|text| text.lines().any(|l| l.trim() == "[package]"))
        {
            return Some(manifest);
        }
        dir = current.parent();
    }
    None
}

/// Packages by directory, for lookups from a file upwards.
#[derive(Debug, Default)]
pub struct PackageIndex {
    pub packages: BTreeMap<PathBuf, Package>,
}

impl PackageIndex {
    /// The package whose directory is the nearest ancestor of `file`.
    pub fn owner(&self, file: &Path) -> Option<&Package> {
        file.ancestors()
            .skip(1)
            .find_map(|dir| self.packages.get(dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_version_is_read_and_inherited() {
        assert_eq!(parse_rust_version("1.60"), Some((1, 60)));
        assert_eq!(parse_rust_version("1.65.0"), Some((1, 65)));
        assert_eq!(parse_rust_version("1"), Some((1, 0)));
        assert_eq!(parse_rust_version("one"), None);
        let package: toml::Table = toml::from_str("rust-version = \"1.63\"").unwrap();
        assert_eq!(
            PackageFields::new(&package, Path::new("/w"), None).rust_version(),
            Some((1, 63))
        );
        let package: toml::Table = toml::from_str("rust-version.workspace = true").unwrap();
        let ws = WorkspaceTable {
            rust_version: Some("1.70".into()),
            ..WorkspaceTable::default()
        };
        assert_eq!(
            PackageFields::new(&package, Path::new("/w"), Some(&ws)).rust_version(),
            Some((1, 70))
        );
    }

    #[test]
    fn exclude_yields_to_literal_members_only() {
        let table = WorkspaceTable {
            members: vec!["crates/*".into(), "tools/keep".into()],
            exclude: vec!["crates/skip".into(), "tools".into()],
            ..WorkspaceTable::default()
        };
        let root = Path::new("/w");
        assert!(is_excluded(root, &table, Path::new("/w/crates/skip")));
        assert!(!is_excluded(root, &table, Path::new("/w/crates/a")));
        assert!(!is_excluded(root, &table, Path::new("/w/tools/keep")));
        assert!(is_excluded(root, &table, Path::new("/w/tools/other")));
    }

    #[test]
    fn editions_parse_or_name_the_problem() {
        assert_eq!(parse_edition("2018"), Ok(Edition::Edition2018));
        let err = parse_edition("2027").err().unwrap_or_default();
        assert!(err.contains("2027"), "{err}");
    }

    #[test]
    fn normalize_removes_dots() {
        assert_eq!(
            normalize(Path::new("a/./b/../c.rs")),
            PathBuf::from("a/c.rs")
        );
    }
}
