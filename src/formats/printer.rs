//! `temper check`'s human and JSON output, finding by finding: as the check
//! goes ([`crate::check::RunSettings::stream`]: each file's findings are
//! printed when every file before it is done and then let go, so the report
//! of a large corpus is never held whole), or from the collected findings.
//! The human text is [`crate::report::human_text`]'s with
//! [`crate::report::summary`]'s line; the JSON document is `serde_json`'s
//! pretty printing of the whole array.

use crate::check::FindingSink;
use crate::report::{self, Render as Format, Reported};
use std::io::{self, Write};
use temper_lints::Level;

/// Which findings are printed (`--changed-since` keeps those on changed
/// lines).
pub type Keep = Box<dyn Fn(&Reported) -> bool + Send>;

/// Writes findings as they arrive; a [`FindingSink`] for a check.
pub struct Printer<W: Write> {
    out: W,
    format: Format,
    keep: Option<Keep>,
    findings: usize,
    errors: usize,
    warnings: usize,
    /// Files with printed findings, and the last one's path.
    files: usize,
    last_path: Option<String>,
    /// The first write error; nothing more is written after it.
    failed: Option<io::Error>,
}

impl<W: Write> Printer<W> {
    pub fn new(out: W, format: Format, keep: Option<Keep>) -> Printer<W> {
        Printer {
            out,
            format,
            keep,
            findings: 0,
            errors: 0,
            warnings: 0,
            files: 0,
            last_path: None,
            failed: None,
        }
    }

    /// Prints `findings` (sorted; a file's findings together), those
    /// [`Keep`] keeps.
    pub fn print(&mut self, findings: &[Reported]) {
        for finding in findings {
            if self.keep.as_ref().is_some_and(|keep| !keep(finding)) {
                continue;
            }
            if self.last_path.as_deref() != Some(finding.path.as_str()) {
                self.files += 1;
                self.last_path = Some(finding.path.clone());
            }
            self.findings += 1;
            match finding.level {
                Level::Deny => self.errors += 1,
                Level::Warn => self.warnings += 1,
                Level::Allow => {}
            }
            if self.failed.is_none()
                && let Err(error) = self.write(finding)
            {
                self.failed = Some(error);
            }
        }
    }

    /// Whether a printed finding is at `deny` level (exit code 1).
    pub fn denied(&self) -> bool {
        self.errors > 0
    }

    /// Writes the end of the output (the human summary line, the JSON
    /// array's close) and flushes; the first write error of the run, if any.
    pub fn finish(&mut self, files_checked: usize) -> io::Result<()> {
        if self.failed.is_none() {
            let end = match self.format {
                Format::Human(_) => {
                    let counts = (self.errors, self.warnings);
                    let summary =
                        report::summary_of(self.findings, counts, self.files, files_checked);
                    writeln!(self.out, "{summary}")
                }
                Format::Json if self.findings == 0 => self.out.write_all(b"[]\n"),
                Format::Json => self.out.write_all(b"\n]\n"),
            };
            if let Err(error) = end.and_then(|()| self.out.flush()) {
                self.failed = Some(error);
            }
        }
        self.failed.take().map_or(Ok(()), Err)
    }

    fn write(&mut self, finding: &Reported) -> io::Result<()> {
        match self.format {
            Format::Human(style) => {
                self.out
                    .write_all(report::human_text(finding, style).as_bytes())?;
                self.out.write_all(b"\n")
            }
            Format::Json => {
                let first = self.findings == 1;
                self.out.write_all(if first { b"[\n" } else { b",\n" })?;
                self.out
                    .write_all(report::json_element(finding)?.as_bytes())
            }
        }
    }
}

impl<W: Write + Send> FindingSink for Printer<W> {
    fn file(&mut self, findings: Vec<Reported>) {
        self.print(&findings);
    }
}
