//! Writing fixed files: atomically (a temporary file in the same directory,
//! then a rename), keeping permissions, and only when the file on disk is
//! still what was read.

use miette::Diagnostic;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Why a fixed file was not written.
#[derive(Debug, Error, Diagnostic)]
pub enum WriteError {
    #[error("{display}: changed on disk since it was read; not written (run `temper fix` again)")]
    #[diagnostic(code(temper::fix::changed_on_disk))]
    ChangedOnDisk { display: String },
    #[error(
        "{display}: no longer the file that was read (replaced by a directory, a symbolic link or something else); not written"
    )]
    #[diagnostic(code(temper::fix::not_a_file))]
    NotAFile { display: String },
    #[error("{display}: file is read-only; not written")]
    #[diagnostic(code(temper::fix::read_only))]
    ReadOnly { display: String },
    #[error("{display}: cannot write: {source}; the file is unchanged")]
    #[diagnostic(code(temper::fix::io))]
    Io {
        display: String,
        #[source]
        source: std::io::Error,
    },
}

impl WriteError {
    /// A short phrase for the summary ("2 file changed on disk").
    pub fn short(&self) -> &'static str {
        match self {
            WriteError::ChangedOnDisk { .. } => "file changed on disk",
            WriteError::ReadOnly { .. } => READ_ONLY,
            WriteError::NotAFile { .. } => "file replaced by something else",
            WriteError::Io { .. } => "file could not be written",
        }
    }
}

/// Why a read-only file's fixes are left: in the summary, and what makes
/// `temper fix` exit with 2.
pub const READ_ONLY: &str = "file is read-only";

/// Called after the new text is in its temporary file and right before the
/// on-disk check and the rename: tests use it to change the file under the
/// writer's feet.
pub type BeforeWrite<'a> = dyn Fn(&Path) + Sync + 'a;

/// Whether `path` is read-only for us (permission bits; root can write
/// anything, so checking the bits is what keeps the promise for everyone).
pub fn is_read_only(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.permissions().readonly())
}

/// Temporary files are named `.temper-fix-<pid>-<random>.tmp`: the process id
/// tells a later run whether the writer is still alive.
const TEMP_PREFIX: &str = ".temper-fix-";
const TEMP_SUFFIX: &str = ".tmp";

/// Removes temporary files that a killed `temper fix` left in `dir` (their
/// writer is no longer running) and returns their paths, for a note. A
/// temporary file never replaced anything, so removing it loses nothing: the
/// file it was meant for still holds its old content.
pub fn remove_stale_temps(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(TEMP_PREFIX))
            .and_then(|n| n.strip_suffix(TEMP_SUFFIX))
            .and_then(|n| n.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let path = entry.path();
        if writer_alive(pid, &path) {
            continue;
        }
        if entry.file_type().is_ok_and(|t| t.is_file()) && fs::remove_file(&path).is_ok() {
            removed.push(path);
        }
    }
    removed.sort();
    removed
}

/// Whether the process that created a temporary file may still be writing
/// it: on Linux, whether the process exists; elsewhere, whether the file was
/// modified in the last ten minutes.
fn writer_alive(pid: u32, temp: &Path) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    if proc.join("self").exists() {
        return proc.join(pid.to_string()).exists();
    }
    fs::metadata(temp)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|modified| modified.elapsed().ok())
        .is_none_or(|age| age < std::time::Duration::from_secs(600))
}

/// Holds an advisory lock on a directory while a file in it is compared and
/// replaced, so two `temper fix` runs never interleave a check and a rename
/// (the second then sees the first's result as a change on disk). Where
/// directories cannot be locked the lock is skipped: the content comparison
/// still catches most races.
struct DirLock(Option<fs::File>);

impl DirLock {
    fn new(dir: &Path) -> DirLock {
        let file = fs::File::open(dir).ok().filter(|file| file.lock().is_ok());
        DirLock(file)
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        if let Some(file) = &self.0 {
            let _ = file.unlock();
        }
    }
}

/// Replaces `path`'s content with `text` if it still holds `expected`.
///
/// What can go wrong on the way is reported as an error naming the file, and
/// leaves the file as it was: the new text goes to a temporary file first
/// (removed again on failure; a killed process leaves one that
/// [`remove_stale_temps`] cleans up next run), which is renamed over the file
/// only after the file was found unchanged, still a regular file and still
/// writable.
pub fn write_if_unchanged(
    path: &Path,
    display: &str,
    expected: &[u8],
    text: &str,
    before_write: Option<&BeforeWrite<'_>>,
) -> Result<(), WriteError> {
    let io = |source: std::io::Error| WriteError::Io {
        display: display.to_string(),
        source,
    };
    let metadata = fs::metadata(path).map_err(io)?;
    if metadata.permissions().readonly() {
        return Err(WriteError::ReadOnly {
            display: display.to_string(),
        });
    }
    // Symlinks are written through: the rename replaces the link target, not
    // the link, as editors do.
    let was_symlink = fs::symlink_metadata(path)
        .map_err(io)?
        .file_type()
        .is_symlink();
    let target: PathBuf = fs::canonicalize(path).map_err(io)?;
    let dir = target.parent().unwrap_or_else(|| Path::new("."));
    let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
    let mut temp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(io)?;
    // Through the file itself: the error then names the cause, not the
    // temporary file (which is removed when `temp` drops).
    temp.as_file_mut().write_all(text.as_bytes()).map_err(io)?;
    temp.as_file().sync_all().map_err(io)?;
    fs::set_permissions(temp.path(), metadata.permissions()).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // Keep the owner too when we may (root fixing a user's checkout);
        // anyone else cannot give files away and keeps their own.
        let _ = std::os::unix::fs::chown(temp.path(), Some(metadata.uid()), Some(metadata.gid()));
    }
    if let Some(hook) = before_write {
        hook(path);
    }
    let _lock = DirLock::new(dir);
    // The last moment before the rename: the file must still be the regular,
    // writable file that was read (not replaced by a directory, a symbolic
    // link or anything else, nor made read-only meanwhile), with the whole
    // content as read, which is exact where a hash would only be likely.
    let now = fs::symlink_metadata(path).map_err(io)?;
    let same_kind = if was_symlink {
        now.file_type().is_symlink() && fs::canonicalize(path).ok().as_ref() == Some(&target)
    } else {
        now.is_file()
    };
    if !same_kind || !fs::metadata(&target).map_err(io)?.is_file() {
        return Err(WriteError::NotAFile {
            display: display.to_string(),
        });
    }
    if fs::metadata(&target).map_err(io)?.permissions().readonly() {
        return Err(WriteError::ReadOnly {
            display: display.to_string(),
        });
    }
    let current = fs::read(&target).map_err(io)?;
    if current != expected {
        return Err(WriteError::ChangedOnDisk {
            display: display.to_string(),
        });
    }
    temp.persist(&target).map_err(|e| io(e.error))?;
    Ok(())
}
