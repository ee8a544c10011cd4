//! The benchmark corpus shared by `benches/check.rs` and `benches/fix.rs`:
//! crate directories under cargo's registry cache (or any directory given).

use std::error::Error;
use std::path::{Path, PathBuf};

type BenchResult<T> = Result<T, Box<dyn Error>>;

/// A number from the environment, `None` when the variable is not set.
pub fn env_number(name: &str) -> BenchResult<Option<usize>> {
    match std::env::var(name) {
        Ok(text) => {
            Ok(Some(text.trim().parse().map_err(|e| {
                format!("{name}={text:?} is not a number: {e}")
            })?))
        }
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(e) => Err(format!("{name}: {e}").into()),
    }
}

/// `$CARGO_HOME`, else `~/.cargo`: where the registry cache lives.
pub fn cargo_home() -> BenchResult<PathBuf> {
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        return Ok(PathBuf::from(home));
    }
    let home = std::env::var_os("HOME").ok_or("neither CARGO_HOME nor HOME is set")?;
    Ok(PathBuf::from(home).join(".cargo"))
}

/// A crate directory as it is, else the crates one or two levels down (the
/// registry keeps one directory per index, each full of crates).
pub fn crate_dirs(corpus: &Path) -> BenchResult<Vec<PathBuf>> {
    let corpus = corpus
        .canonicalize()
        .map_err(|e| format!("corpus {}: {e}", corpus.display()))?;
    if corpus.join("Cargo.toml").is_file() {
        return Ok(vec![corpus]);
    }
    let mut crates = Vec::new();
    for dir in subdirs(&corpus)? {
        if dir.join("Cargo.toml").is_file() {
            crates.push(dir);
        } else {
            crates.extend(
                subdirs(&dir)?
                    .into_iter()
                    .filter(|d| d.join("Cargo.toml").is_file()),
            );
        }
    }
    crates.sort_by(|a, b| a.file_name().cmp(&b.file_name()).then_with(|| a.cmp(b)));
    Ok(crates)
}

fn subdirs(dir: &Path) -> BenchResult<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            dirs.push(entry.path());
        }
    }
    dirs.sort();
    Ok(dirs)
}
