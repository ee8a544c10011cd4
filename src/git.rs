//! `--changed-since REV`: the lines changed since a git revision, from
//! `git diff --unified=0 REV` (working tree against the revision) plus
//! untracked files, which count as changed as a whole.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Which lines of which files changed.
#[derive(Debug, Clone, Default)]
pub struct ChangedLines {
    /// Absolute, canonical paths; `None` means the whole file.
    files: HashMap<PathBuf, Option<BTreeSet<usize>>>,
}

/// Why the changed lines could not be found.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("--changed-since {rev}: {message}")]
#[diagnostic(code(temper::git))]
pub struct GitError {
    pub rev: String,
    pub message: String,
}

impl ChangedLines {
    /// Whether any of the 1-based lines `start..=end` of `path` changed.
    pub fn touches(&self, path: &Path, start: usize, end: usize) -> bool {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        match self.files.get(&path) {
            None => false,
            Some(None) => true,
            Some(Some(lines)) => lines.range(start..=end.max(start)).next().is_some(),
        }
    }
}

fn git(dir: &Path, args: &[&str], rev: &str) -> Result<String, GitError> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "core.quotePath=false"])
        .args(args)
        .output()
        .map_err(|e| GitError {
            rev: rev.to_string(),
            message: format!("cannot run git: {e}"),
        })?;
    if !output.status.success() {
        return Err(GitError {
            rev: rev.to_string(),
            message: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    String::from_utf8(output.stdout).map_err(|e| GitError {
        rev: rev.to_string(),
        message: format!("git printed invalid UTF-8: {e}"),
    })
}

/// The lines changed in the repository containing `dir` since `rev`.
pub fn changed_since(dir: &Path, rev: &str) -> Result<ChangedLines, GitError> {
    let top = git(dir, &["rev-parse", "--show-toplevel"], rev)?;
    let top = PathBuf::from(top.trim());
    let top = std::fs::canonicalize(&top).unwrap_or(top);
    // `--end-of-options` keeps a revision that starts with `-` from being
    // read as an option.
    let diff = git(
        &top,
        &[
            "diff",
            "--unified=0",
            "--no-color",
            "--no-ext-diff",
            "--no-renames",
            "--end-of-options",
            rev,
            "--",
        ],
        rev,
    )?;
    let mut changed = ChangedLines::default();
    for (path, lines) in parse_diff(&diff) {
        changed.files.insert(top.join(path), Some(lines));
    }
    let untracked = git(
        &top,
        &["ls-files", "--others", "--exclude-standard", "-z"],
        rev,
    )?;
    for path in untracked.split('\0').filter(|p| !p.is_empty()) {
        changed.files.insert(top.join(path), None);
    }
    Ok(changed)
}

/// Parses `git diff --unified=0` output into the new-side lines added or
/// modified in each file. Pure deletions change no remaining line.
pub fn parse_diff(diff: &str) -> Vec<(String, BTreeSet<usize>)> {
    let mut out: Vec<(String, BTreeSet<usize>)> = Vec::new();
    for line in diff.lines() {
        if let Some(path) = line.strip_prefix("+++ ") {
            let path = path.strip_prefix("b/").unwrap_or(path);
            out.push((path.to_string(), BTreeSet::new()));
            continue;
        }
        let Some(hunk) = line.strip_prefix("@@ ") else {
            continue;
        };
        // `@@ -a,b +c,d @@`: the new side starts at c and has d lines (1 when
        // d is missing).
        let Some(new_side) = hunk.split(' ').find_map(|part| part.strip_prefix('+')) else {
            continue;
        };
        let (start, count) = match new_side.split_once(',') {
            Some((start, count)) => (start.parse::<usize>(), count.parse::<usize>()),
            None => (new_side.parse::<usize>(), Ok(1)),
        };
        let (Ok(start), Ok(count), Some((_, lines))) = (start, count, out.last_mut()) else {
            continue;
        };
        lines.extend(start..start + count);
    }
    // A deleted file's new side is `/dev/null`: nothing left to report on.
    out.retain(|(path, _)| path != "/dev/null");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_give_new_side_lines() {
        let diff = "diff --git a/src/lib.rs b/src/lib.rs\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -3 +3 @@ fn a()\n-x\n+y\n@@ -10,0 +11,2 @@\n+a\n+b\n@@ -20,2 +22,0 @@\n-c\n-d\n";
        let parsed = parse_diff(diff);
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].0, "src/lib.rs");
        assert_eq!(parsed[0].1.iter().copied().collect::<Vec<_>>(), [3, 11, 12]);
    }
}
