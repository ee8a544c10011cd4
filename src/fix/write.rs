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
    #[error("{display}: file is read-only; not written")]
    #[diagnostic(code(temper::fix::read_only))]
    ReadOnly { display: String },
    #[error("{display}: cannot write: {source}")]
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
            WriteError::ReadOnly { .. } => "file is read-only",
            WriteError::Io { .. } => "file could not be written",
        }
    }
}

/// Called after the new text is in its temporary file and right before the
/// on-disk check and the rename: tests use it to change the file under the
/// writer's feet.
pub type BeforeWrite<'a> = dyn Fn(&Path) + Sync + 'a;

/// Whether `path` is read-only for us (permission bits; root can write
/// anything, so checking the bits is what keeps the promise for everyone).
pub fn is_read_only(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.permissions().readonly())
}

/// Replaces `path`'s content with `text` if it still holds `expected`.
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
    let target: PathBuf = fs::canonicalize(path).map_err(io)?;
    let dir = target.parent().unwrap_or_else(|| Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".temper-fix-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    temp.write_all(text.as_bytes()).map_err(io)?;
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
    // The last moment before the rename: compare the whole content, which is
    // exact where a hash would only be likely.
    let current = fs::read(&target).map_err(io)?;
    if current != expected {
        return Err(WriteError::ChangedOnDisk {
            display: display.to_string(),
        });
    }
    temp.persist(&target).map_err(|e| io(e.error))?;
    Ok(())
}
