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
use temper_lints::{CrateFacts, Logging, ModDecl};
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
    /// Workspace member directories, when this manifest has `[workspace]`.
    pub workspace: Option<WorkspaceMembers>,
}

/// A workspace's `members` and `exclude`, as directory globs.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceMembers {
    pub members: Vec<PathBuf>,
    pub exclude: Vec<PathBuf>,
}

impl WorkspaceMembers {
    /// Whether the package in `dir` belongs to this workspace (rooted at `root`).
    pub fn contains(&self, root: &Path, dir: &Path) -> bool {
        if dir == root {
            return true;
        }
        let matches = |pattern: &PathBuf| glob_match(&root.join(pattern), dir);
        if self
            .exclude
            .iter()
            .any(|p| dir.starts_with(root.join(p)) || matches(p))
        {
            return false;
        }
        self.members.iter().any(matches)
    }
}

/// Matches a directory against a path whose components may contain `*`.
fn glob_match(pattern: &Path, dir: &Path) -> bool {
    let pattern: Vec<_> = pattern.components().collect();
    let dir: Vec<_> = dir.components().collect();
    if pattern.len() != dir.len() {
        return false;
    }
    pattern.iter().zip(&dir).all(|(p, d)| {
        let p = p.as_os_str().to_string_lossy();
        let d = d.as_os_str().to_string_lossy();
        wildcard(&p, &d)
    })
}

fn wildcard(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((prefix, rest)) => {
            let Some(text) = text.strip_prefix(prefix) else {
                return false;
            };
            (0..=text.len()).any(|i| text.is_char_boundary(i) && wildcard(rest, &text[i..]))
        }
    }
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
        .map(|ws| {
            let list = |key: &str| -> Vec<PathBuf> {
                ws.get(key)
                    .and_then(toml::Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(toml::Value::as_str)
                            .map(PathBuf::from)
                            .collect()
                    })
                    .unwrap_or_default()
            };
            WorkspaceMembers {
                members: list("members"),
                exclude: list("exclude"),
            }
        });
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
        facts: facts(&table),
        workspace,
    })
}

fn facts(table: &toml::Table) -> CrateFacts {
    let mut deps = BTreeSet::new();
    for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(t) = table.get(key).and_then(toml::Value::as_table) {
            deps.extend(t.keys().cloned());
        }
    }
    // Dependencies under `[target.'cfg(..)'.dependencies]` count too.
    if let Some(targets) = table.get("target").and_then(toml::Value::as_table) {
        for target in targets.values().filter_map(toml::Value::as_table) {
            if let Some(t) = target.get("dependencies").and_then(toml::Value::as_table) {
                deps.extend(t.keys().cloned());
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
    fn modules(&mut self, path: &Path) -> Option<(Vec<ModDecl>, bool)>;
    /// The clippy lints the file allows for all of itself (`#![allow(..)]`).
    fn file_allows(&mut self, _path: &Path) -> Vec<String> {
        Vec::new()
    }
}

/// A module-tree walk item: the file, whether it is a mod-rs file, whether it
/// is reached only under `cfg(test)`, and the clippy allows inherited from
/// the modules above it.
type Pending = (PathBuf, bool, bool, BTreeSet<String>);

/// Walks every target's module tree and returns each reached file's role.
pub fn classify(package: &Package, modules: &mut dyn ModuleSource) -> HashMap<PathBuf, FileRole> {
    let mut roles: HashMap<PathBuf, FileRole> = HashMap::new();
    for target in &package.targets {
        let mut visited = BTreeSet::new();
        let mut stack: Vec<Pending> = vec![(normalize(&target.root), true, false, BTreeSet::new())];
        while let Some((file, is_mod_rs, test_only, mut allows)) = stack.pop() {
            if !visited.insert((file.clone(), test_only)) {
                continue;
            }
            let Some((decls, file_cfg_test)) = modules.modules(&file) else {
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
            resolve_decls(
                &decls,
                &file_dir,
                &module_dir,
                (test_only, &allows),
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
    (test_only, allows): (bool, &BTreeSet<String>),
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
            resolve_decls(inner, &dir, &dir, (test_only, &allows), stack);
            continue;
        }
        if let Some(path) = &decl.path_attr {
            // `#[path]` is relative to the directory of the declaring file; the
            // target is a mod-rs file for its own children.
            let target = normalize(&file_dir.join(path));
            stack.push((target, true, test_only, allows));
            continue;
        }
        let flat = module_dir.join(format!("{}.rs", decl.name));
        let nested = module_dir.join(&decl.name).join("mod.rs");
        if flat.is_file() {
            stack.push((normalize(&flat), false, test_only, allows));
        } else if nested.is_file() {
            stack.push((normalize(&nested), true, test_only, allows));
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
    fn wildcard_matches_like_cargo_member_globs() {
        assert!(wildcard("*", "anything"));
        assert!(wildcard("crate-*", "crate-a"));
        assert!(!wildcard("crate-*", "other"));
        assert!(glob_match(
            Path::new("/w/crates/*"),
            Path::new("/w/crates/a")
        ));
        assert!(!glob_match(
            Path::new("/w/crates/*"),
            Path::new("/w/crates/a/b")
        ));
    }

    #[test]
    fn normalize_removes_dots() {
        assert_eq!(
            normalize(Path::new("a/./b/../c.rs")),
            PathBuf::from("a/c.rs")
        );
    }
}
