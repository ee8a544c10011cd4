//! `temper check`'s human and JSON output written as the check goes
//! ([`crate::check::RunSettings::stream`]): each file's findings are printed
//! when every file before it is done and then let go, so the report of a
//! large corpus is never held whole. What is printed is byte for byte what
//! [`crate::report::human_text`] with [`crate::report::summary`], or
//! [`crate::report::write_json_document`], make of the collected findings.

use crate::check::FindingSink;
use crate::report::{self, Render as Format, Reported};
use std::io::{self, Write};
use temper_lints::Level;

/// Which findings are printed (`--changed-since` keeps those on changed
/// lines).
pub type Keep = Box<dyn Fn(&Reported) -> bool + Send>;

/// A [`FindingSink`] that writes the findings as they arrive.
pub struct Printer<W: Write + Send> {
    out: W,
    format: Format,
    keep: Option<Keep>,
    findings: usize,
    errors: usize,
    warnings: usize,
    files: usize,
    /// The first write error; nothing more is written after it.
    failed: Option<io::Error>,
}

impl<W: Write + Send> Printer<W> {
    pub fn new(out: W, format: Format, keep: Option<Keep>) -> Printer<W> {
        Printer {
            out,
            format,
            keep,
            findings: 0,
            errors: 0,
            warnings: 0,
            files: 0,
            failed: None,
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
        let mut any = false;
        for finding in &findings {
            if self.keep.as_ref().is_some_and(|keep| !keep(finding)) {
                continue;
            }
            any = true;
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
        self.files += usize::from(any);
    }
}
