//! `--verify`: run `cargo check --message-format=json --all-targets` for a
//! package, read the compiler's errors, and decide which errors are new and
//! which fixes they belong to.

use super::engine::AppliedFix;
use super::syntax;
use miette::Diagnostic;
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};
use std::ffi::OsString;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;
use thiserror::Error;

/// `cargo check` could not judge the package.
#[derive(Debug, Error, Diagnostic)]
pub enum VerifyError {
    #[error("{manifest}: cannot run `cargo check`: {source}")]
    #[diagnostic(code(temper::fix::verify))]
    Spawn {
        manifest: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{manifest}: `cargo check` failed without a compiler error to go by:\n{stderr}")]
    #[diagnostic(
        code(temper::fix::verify),
        help("fix the manifest or the build environment, or run without --verify")
    )]
    Cargo { manifest: String, stderr: String },
}

/// One error the compiler reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompilerError {
    pub code: Option<String>,
    pub message: String,
    /// The file of the primary span, absolute.
    pub file: Option<PathBuf>,
    pub range: Option<Range<usize>>,
    pub line: usize,
}

impl CompilerError {
    /// What "the same error" means before and after fixing: code, message
    /// and file; lines move when fixes edit the file.
    pub fn key(&self) -> (Option<String>, String, Option<PathBuf>) {
        (self.code.clone(), self.message.clone(), self.file.clone())
    }

    /// `error[E0277]: message at src/lib.rs:12`, for reports.
    pub fn describe(&self, display: &dyn Fn(&Path) -> String) -> String {
        let code = self
            .code
            .as_ref()
            .map_or_else(String::new, |c| format!("[{c}]"));
        let at = self
            .file
            .as_ref()
            .map_or_else(String::new, |f| format!(" at {}:{}", display(f), self.line));
        format!("error{code}: {}{at}", self.message)
    }
}

#[derive(Deserialize)]
struct Line {
    reason: String,
    message: Option<CompilerMessage>,
    /// A `compiler-artifact`'s package manifest and output files.
    manifest_path: Option<PathBuf>,
    filenames: Option<Vec<PathBuf>>,
}

#[derive(Deserialize)]
struct CompilerMessage {
    message: String,
    code: Option<Code>,
    level: String,
    spans: Vec<Span>,
}

#[derive(Deserialize)]
struct Code {
    code: String,
}

#[derive(Deserialize)]
struct Span {
    file_name: String,
    byte_start: usize,
    byte_end: usize,
    line_start: usize,
    is_primary: bool,
}

/// The `cargo` to run: the one that runs us when there is one.
fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"))
}

/// What one `cargo check` of a package found.
#[derive(Debug, Default)]
pub struct Checked {
    pub errors: Vec<CompilerError>,
    /// Every source file rustc read for the package's own targets (from the
    /// dep-info files next to their artifacts), normalized; empty when
    /// cargo named no artifact of the package (then nothing is concluded
    /// from it).
    pub sources: BTreeSet<PathBuf>,
}

/// The features `cargo check` builds with (`--features`, `--all-features`,
/// `--no-default-features`, passed on as given).
#[derive(Debug, Clone, Default)]
pub struct Features {
    pub features: Vec<String>,
    pub all: bool,
    pub no_default: bool,
}

impl Features {
    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for features in &self.features {
            args.push("--features".to_string());
            args.push(features.clone());
        }
        if self.all {
            args.push("--all-features".to_string());
        }
        if self.no_default {
            args.push("--no-default-features".to_string());
        }
        args
    }
}

/// Runs `cargo check` for the package of `manifest` and returns its errors
/// and the files it compiled.
pub fn cargo_check(
    manifest: &Path,
    display: &str,
    features: &Features,
) -> Result<Checked, VerifyError> {
    let dir = manifest.parent().unwrap_or_else(|| Path::new("."));
    let output = Command::new(cargo())
        .arg("check")
        .args(features.args())
        .arg("--message-format=json")
        .arg("--all-targets")
        // Every target's errors, not only the first failing target's:
        // without it the errors before and after a fix differ by which
        // target cargo happened to stop at, and fixes are blamed for them.
        .arg("--keep-going")
        .arg("--manifest-path")
        .arg(manifest)
        .current_dir(dir)
        .output()
        .map_err(|source| VerifyError::Spawn {
            manifest: display.to_string(),
            source,
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let errors = parse_messages(&stdout, dir);
    if !output.status.success() && errors.is_empty() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
        return Err(VerifyError::Cargo {
            manifest: display.to_string(),
            stderr: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
        });
    }
    Ok(Checked {
        errors,
        sources: compiled_sources(&stdout, manifest),
    })
}

/// The source files of `manifest`'s package that rustc read, as its targets'
/// dep-info files (`deps/name-hash.d`, beside each `libname-hash.rmeta`)
/// list them. A file a `cfg` leaves out on this host is not among them.
pub fn compiled_sources(stdout: &str, manifest: &Path) -> BTreeSet<PathBuf> {
    let manifest = crate::discover::normalize(manifest);
    let package_dir = manifest.parent().unwrap_or_else(|| Path::new("."));
    let mut sources = BTreeSet::new();
    for line in stdout.lines() {
        let Ok(parsed) = serde_json::from_str::<Line>(line) else {
            continue;
        };
        if parsed.reason != "compiler-artifact"
            || parsed
                .manifest_path
                .as_deref()
                .map(crate::discover::normalize)
                .as_ref()
                != Some(&manifest)
        {
            continue;
        }
        for artifact in parsed.filenames.iter().flatten() {
            let Some(stem) = artifact.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let name = stem.strip_prefix("lib").unwrap_or(stem);
            let Ok(text) = std::fs::read_to_string(artifact.with_file_name(format!("{name}.d")))
            else {
                continue;
            };
            // `path:` lines, one per file read, spaces escaped as `\ `.
            // Relative to the workspace root, which is the package
            // directory or one of its ancestors.
            for entry in text.lines().filter_map(|l| l.strip_suffix(':')) {
                let entry = entry.replace("\\ ", " ");
                if entry.ends_with(".rs") {
                    sources.insert(resolve_file(&entry, package_dir));
                }
            }
        }
    }
    sources
}

/// The errors (not warnings) in cargo's JSON message stream.
pub fn parse_messages(stdout: &str, package_dir: &Path) -> Vec<CompilerError> {
    let mut out = Vec::new();
    for line in stdout.lines() {
        let Ok(parsed) = serde_json::from_str::<Line>(line) else {
            continue;
        };
        if parsed.reason != "compiler-message" {
            continue;
        }
        let Some(message) = parsed.message else {
            continue;
        };
        if message.level != "error" {
            continue;
        }
        let Some(primary) = message.spans.iter().find(|s| s.is_primary) else {
            // "aborting due to N previous errors" and friends: no span, and a
            // count that changes with every other error.
            continue;
        };
        out.push(CompilerError {
            code: message.code.map(|c| c.code),
            message: message.message,
            file: Some(resolve_file(&primary.file_name, package_dir)),
            range: Some(primary.byte_start..primary.byte_end),
            line: primary.line_start,
        });
    }
    out
}

/// rustc names workspace files relative to the workspace root, which is the
/// package directory or one of its ancestors.
fn resolve_file(name: &str, package_dir: &Path) -> PathBuf {
    let path = Path::new(name);
    if path.is_absolute() {
        return crate::discover::normalize(path);
    }
    package_dir
        .ancestors()
        .map(|dir| dir.join(path))
        .find(|candidate| candidate.is_file())
        .map_or_else(
            || crate::discover::normalize(&package_dir.join(path)),
            |found| crate::discover::normalize(&found),
        )
}

/// Errors in `after` beyond those in `before` (as multisets by key).
pub fn new_errors(before: &[CompilerError], after: &[CompilerError]) -> Vec<CompilerError> {
    let mut budget: HashMap<_, usize> = HashMap::new();
    for error in before {
        *budget.entry(error.key()).or_default() += 1;
    }
    let mut after_count: HashMap<_, usize> = HashMap::new();
    for error in after {
        *after_count.entry(error.key()).or_default() += 1;
    }
    // When a key has more errors than before, every instance is a suspect:
    // positions moved, so which one is new cannot be told apart.
    after
        .iter()
        .filter(|error| {
            let key = error.key();
            after_count.get(&key).copied().unwrap_or(0) > budget.get(&key).copied().unwrap_or(0)
        })
        .cloned()
        .collect()
}

/// The fixes (indexes into `applied`) an error is blamed on: those whose
/// edits overlap its primary span; else those in the innermost item around
/// it; else the nearest one in the same file; else every fix of the package
/// (a signature change breaking a caller in a file no fix touched).
pub fn attribute(
    error: &CompilerError,
    applied: &[AppliedFix],
    texts: &HashMap<PathBuf, &str>,
    package_dir: &Path,
    edition: temper_lints::Edition,
) -> BTreeSet<usize> {
    let in_package: BTreeSet<usize> = applied
        .iter()
        .enumerate()
        .filter(|(_, fix)| {
            fix.footprint
                .iter()
                .any(|(p, _)| p.starts_with(package_dir))
        })
        .map(|(i, _)| i)
        .collect();
    let (Some(file), Some(range)) = (&error.file, &error.range) else {
        return in_package;
    };
    let in_file: Vec<(usize, &Range<usize>)> = applied
        .iter()
        .enumerate()
        .flat_map(|(i, fix)| {
            fix.footprint
                .iter()
                .filter(move |(p, _)| p == file)
                .map(move |(_, r)| (i, r))
        })
        .collect();
    let touching: BTreeSet<usize> = in_file
        .iter()
        .filter(|(_, r)| r.start <= range.end && range.start <= r.end)
        .map(|(i, _)| *i)
        .collect();
    if !touching.is_empty() {
        return touching;
    }
    if let Some(text) = texts.get(file) {
        let items = syntax::item_ranges(text, edition);
        if let Some(item) = syntax::innermost_item(&items, range) {
            let inside: BTreeSet<usize> = in_file
                .iter()
                .filter(|(_, r)| item.start <= r.start && r.end <= item.end)
                .map(|(i, _)| *i)
                .collect();
            if !inside.is_empty() {
                return inside;
            }
        }
    }
    let distance = |r: &Range<usize>| {
        if r.end < range.start {
            range.start - r.end
        } else {
            r.start.saturating_sub(range.end)
        }
    };
    if let Some(nearest) = in_file.iter().min_by_key(|(_, r)| distance(r)) {
        return BTreeSet::from([nearest.0]);
    }
    in_package
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_errors_and_skips_the_rest() {
        let stdout = concat!(
            r#"{"reason":"compiler-artifact","target":{}}"#,
            "\n",
            r#"{"reason":"compiler-message","message":{"message":"mismatched types","code":{"code":"E0308","explanation":null},"level":"error","spans":[{"file_name":"/abs/src/lib.rs","byte_start":10,"byte_end":12,"line_start":2,"is_primary":true}],"rendered":"error"}}"#,
            "\n",
            r#"{"reason":"compiler-message","message":{"message":"unused","code":null,"level":"warning","spans":[],"rendered":"w"}}"#,
            "\n",
            r#"{"reason":"compiler-message","message":{"message":"aborting due to 1 previous error","code":null,"level":"error","spans":[],"rendered":"a"}}"#,
            "\n",
        );
        let errors = parse_messages(stdout, Path::new("/abs"));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code.as_deref(), Some("E0308"));
        assert_eq!(errors[0].range, Some(10..12));
    }

    #[test]
    fn new_is_beyond_the_old_count() {
        let error = |m: &str| CompilerError {
            code: None,
            message: m.to_string(),
            file: None,
            range: None,
            line: 1,
        };
        let before = vec![error("a"), error("b")];
        let after = vec![error("a"), error("b"), error("b"), error("c")];
        let new: Vec<String> = new_errors(&before, &after)
            .into_iter()
            .map(|e| e.message)
            .collect();
        assert_eq!(new, ["b", "b", "c"]);
    }
}
