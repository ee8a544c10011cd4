//! Findings placed in their files, and the reporters that print them: miette's
//! rustc-like rendering for people, JSON for machines.

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, Severity,
};
use serde::Serialize;
use std::fmt;
use std::sync::Arc;
use temper_lints::{Applicability, Finding, Level};

/// A 1-based line and column (columns count characters, as rustc's do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Converts byte offsets to positions.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    pub fn position(&self, text: &str, offset: usize) -> Position {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&start| start <= offset) - 1;
        let start = self.starts[line];
        let column = text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        Position {
            line: line + 1,
            column,
        }
    }

    /// The byte offset where 1-based `line` starts.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.starts.get(line.checked_sub(1)?).copied()
    }

    /// How many lines the text has (a final newline starts an empty last line).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }
}

/// A finding in a file, with its effective level.
#[derive(Debug, Clone)]
pub struct Reported {
    /// As given on the command line, or relative to the current directory.
    pub path: String,
    /// The file's text; empty once the finding is [`Reported::rendered`].
    pub source: Arc<str>,
    pub level: Level,
    pub finding: Finding,
    pub start: Position,
    pub end: Position,
    /// The edition the file was parsed with (baselines and rustc-JSON
    /// output parse or name it again).
    pub edition: temper_lints::Edition,
    /// The finding as printed, when the check rendered it while the file's
    /// text was in hand ([`crate::check::RunSettings::render`]): the text is
    /// then let go, and formats other than the one rendered cannot be shown.
    pub rendered: Option<Rendered>,
}

/// Which output a check renders findings for as it goes.
#[derive(Debug, Clone, Copy)]
pub enum Render {
    /// [`render_finding`]'s text in this style.
    Human(Style),
    /// One element of `--format json`'s array ([`json_element`]).
    Json,
}

/// A finding's text in one output format, made while the file's text was in
/// hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rendered {
    Human(Box<str>),
    Json(Box<str>),
}

impl Reported {
    pub fn new(
        path: String,
        source: Arc<str>,
        index: &LineIndex,
        level: Level,
        finding: Finding,
    ) -> Reported {
        let start = index.position(&source, finding.range.start);
        let end = index.position(&source, finding.range.end);
        Reported {
            path,
            source,
            level,
            finding,
            start,
            end,
            edition: temper_lints::Edition::LATEST,
            rendered: None,
        }
    }

    /// Renders the finding for `render` and lets go of the file's text:
    /// what a check that only prints keeps of it until the end of the run.
    /// The finding keeps its lint and range, what sorting, `--changed-since`
    /// and the summary read; its messages, labels, notes and fix are in the
    /// rendered text. (A finding JSON cannot serialise, which no finding is,
    /// is kept whole and serialised again at the end, to fail there as
    /// before.)
    pub fn render_early(&mut self, render: Render, empty: &Arc<str>) {
        self.rendered = Some(match render {
            Render::Human(style) => Rendered::Human(render_finding(self, style).into()),
            Render::Json => match try_json_element(self) {
                Ok(text) => Rendered::Json(text.into()),
                Err(_) => return,
            },
        });
        self.source = empty.clone();
        let finding = &mut self.finding;
        finding.message = String::new();
        finding.primary_label = String::new();
        finding.labels = Vec::new();
        finding.help = None;
        finding.notes = Vec::new();
        finding.fix = None;
        finding.crate_fix = None;
    }

    /// Records the edition the file was parsed with.
    pub fn with_edition(mut self, edition: temper_lints::Edition) -> Reported {
        self.edition = edition;
        self
    }

    pub fn sort_key(&self) -> (&str, Position, Position, &'static str) {
        (&self.path, self.start, self.end, self.finding.lint)
    }

    /// The help line, with what `temper fix` would do.
    pub fn help(&self) -> Option<String> {
        self.finding.help.clone()
    }
}

/// A non-finding message about a file: parse errors, unreadable files.
#[derive(Debug, Clone)]
pub struct FileNote {
    pub path: String,
    pub severity: NoteSeverity,
    pub message: String,
    /// Source and span to show, when there is one.
    pub span: Option<(Arc<str>, std::ops::Range<usize>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteSeverity {
    Note,
    Warning,
    Error,
}

struct FindingDiagnostic<'a, S = Window> {
    reported: &'a Reported,
    /// `None` when a line to show is too long (see [`MAX_SHOWN_LINE`]).
    source: Option<S>,
}

/// The lines of a file around a diagnostic's spans, as miette's source.
/// miette finds a span's lines by counting from the start of its source, so
/// given the whole file, each finding of a long file costs the whole text
/// before it. The window starts and ends whole lines enough before and after
/// the spans that every read miette makes of it gives what the whole file
/// gives, numbered as in the whole file.
struct Window {
    name: String,
    text: Arc<str>,
    /// The window's byte range in `text`, on line boundaries.
    range: std::ops::Range<usize>,
    /// How many line breaks precede it.
    line: usize,
}

/// Lines of context the window keeps beyond the spans: miette's handler
/// shows one line around each span, and reads one more to decide that.
const WINDOW_LINES: usize = 3;

impl Window {
    fn new<'r>(
        name: &str,
        text: &Arc<str>,
        ranges: impl Iterator<Item = &'r std::ops::Range<usize>>,
    ) -> Window {
        let (mut low, mut high) = (text.len(), 0);
        for range in ranges {
            low = low.min(range.start.min(text.len()));
            high = high.max(range.end.min(text.len()));
        }
        low = low.min(high);
        let bytes = text.as_bytes();
        // Back to the start of the line `WINDOW_LINES` lines above.
        let mut start = low;
        for _ in 0..=WINDOW_LINES {
            match bytes[..start].iter().rposition(|&b| b == b'\n') {
                Some(at) => start = at,
                None => {
                    start = 0;
                    break;
                }
            }
        }
        if start > 0 {
            start += 1;
        }
        // On to the end of the line `WINDOW_LINES` lines below.
        let mut end = high;
        for _ in 0..=WINDOW_LINES {
            match bytes[end..].iter().position(|&b| b == b'\n') {
                Some(at) => end += at + 1,
                None => {
                    end = text.len();
                    break;
                }
            }
        }
        // miette counts `\r` alone as a line break too: count as it does.
        let line = count_breaks(&bytes[..start]);
        Window {
            name: name.to_string(),
            text: text.clone(),
            range: start..end,
            line,
        }
    }
}

/// Line breaks as miette counts them: `\n`, `\r\n` and a lone `\r`.
fn count_breaks(bytes: &[u8]) -> usize {
    let mut count = 0;
    let mut iter = bytes.iter().peekable();
    while let Some(&b) = iter.next() {
        if b == b'\n' || b == b'\r' {
            count += 1;
            if b == b'\r' && iter.peek() == Some(&&b'\n') {
                iter.next();
            }
        }
    }
    count
}

impl miette::SourceCode for Window {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let start = self.range.start;
        let local = miette::SourceSpan::from((span.offset().saturating_sub(start), span.len()));
        let inner = self.text[self.range.clone()].read_span(&local, before, after)?;
        let span = miette::SourceSpan::from((inner.span().offset() + start, inner.span().len()));
        Ok(Box::new(
            miette::MietteSpanContents::new_named(
                self.name.clone(),
                inner.data(),
                span,
                inner.line() + self.line,
                inner.column(),
                inner.line_count() + self.line,
            )
            .with_language("Rust"),
        ))
    }
}

/// Lines longer than this (minified or generated code) are not shown under a
/// diagnostic: the terminal cannot show them usefully, and miette's layout
/// fails on lines past 65,535 columns. The diagnostic names the position
/// instead.
const MAX_SHOWN_LINE: usize = 4096;

/// Whether every line that `ranges` touch in `text` is short enough to show.
fn lines_showable<'r>(
    text: &str,
    mut ranges: impl Iterator<Item = &'r std::ops::Range<usize>>,
) -> bool {
    ranges.all(|range| {
        let start = range.start.min(text.len());
        let end = range.end.clamp(start, text.len());
        let bytes = text.as_bytes();
        let line_start = bytes[..start]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line_end = bytes[end..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |i| end + i);
        // Long spans over short lines are fine; only a single long line
        // breaks the layout.
        let longest = text[line_start..line_end]
            .split('\n')
            .map(str::len)
            .max()
            .unwrap_or(0);
        longest <= MAX_SHOWN_LINE
    })
}

impl<S> fmt::Debug for FindingDiagnostic<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FindingDiagnostic").finish_non_exhaustive()
    }
}

impl<S> fmt::Display for FindingDiagnostic<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reported.finding.message)?;
        if self.source.is_none() {
            let reported = self.reported;
            write!(
                f,
                "\n  at {}:{}:{} (the line is too long to show)",
                reported.path, reported.start.line, reported.start.column
            )?;
        }
        Ok(())
    }
}

impl<S> std::error::Error for FindingDiagnostic<'_, S> {}

impl<S: miette::SourceCode> Diagnostic for FindingDiagnostic<'_, S> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let finding = &self.reported.finding;
        Some(Box::new(format!("temper::{}", finding.lint)))
    }

    fn severity(&self) -> Option<Severity> {
        Some(match self.reported.level {
            Level::Deny => Severity::Error,
            Level::Warn | Level::Allow => Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let finding = &self.reported.finding;
        let mut lines = Vec::new();
        if let Some(help) = &finding.help {
            lines.push(help.clone());
        }
        match &finding.fix {
            Some(fix) if fix.applicability != Applicability::DisplayOnly => lines.push(format!(
                "fix ({}): {}{}",
                fix.applicability.as_str(),
                fix.message,
                if fix.applicability == Applicability::Unsafe {
                    " (with --unsafe-fixes)"
                } else {
                    ""
                }
            )),
            _ => {}
        }
        for note in &finding.notes {
            lines.push(format!("note: {note}"));
        }
        lines.push(format!(
            "for further information run `temper explain {}`",
            finding.lint
        ));
        Some(Box::new(lines.join("\n")))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let finding = &self.reported.finding;
        let primary_label =
            (!finding.primary_label.is_empty()).then(|| finding.primary_label.clone());
        let primary = LabeledSpan::new_primary_with_span(primary_label, span(&finding.range));
        let others = finding.labels.iter().map(|label| {
            LabeledSpan::new_with_span(Some(label.message.clone()), span(&label.range))
        });
        Some(Box::new(std::iter::once(primary).chain(others)))
    }
}

fn span(range: &std::ops::Range<usize>) -> miette::SourceSpan {
    (range.start, range.end.saturating_sub(range.start)).into()
}

struct NoteDiagnostic<'a> {
    note: &'a FileNote,
    source: Option<NamedSource<Arc<str>>>,
}

impl fmt::Debug for NoteDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoteDiagnostic").finish_non_exhaustive()
    }
}

impl fmt::Display for NoteDiagnostic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.source.is_some() {
            f.write_str(&self.note.message)
        } else if let Some((text, range)) = &self.note.span {
            let position = LineIndex::new(text).position(text, range.start);
            write!(
                f,
                "{}:{}:{}: {} (the line is too long to show)",
                self.note.path, position.line, position.column, self.note.message
            )
        } else {
            write!(f, "{}: {}", self.note.path, self.note.message)
        }
    }
}

impl std::error::Error for NoteDiagnostic<'_> {}

impl Diagnostic for NoteDiagnostic<'_> {
    fn severity(&self) -> Option<Severity> {
        Some(match self.note.severity {
            NoteSeverity::Note => Severity::Advice,
            NoteSeverity::Warning => Severity::Warning,
            NoteSeverity::Error => Severity::Error,
        })
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let (_, range) = self.note.span.as_ref()?;
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(None, span(range)),
        )))
    }
}

/// How human output looks.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

impl Style {
    /// Stable output for expected-output files: no colour, no links, ASCII-free
    /// of terminal detection.
    pub fn plain() -> Style {
        Style {
            color: false,
            width: 100,
        }
    }

    fn handler(self) -> GraphicalReportHandler {
        let theme = if self.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        GraphicalReportHandler::new_themed(theme)
            .with_links(false)
            .with_width(self.width)
            .without_syntax_highlighting()
    }
}

/// One finding as rustc-like text: rendered by the check when it was
/// (in this style: the check was given it), else now.
pub fn human_text(reported: &Reported, style: Style) -> std::borrow::Cow<'_, str> {
    match &reported.rendered {
        Some(Rendered::Human(text)) => std::borrow::Cow::Borrowed(text),
        _ => std::borrow::Cow::Owned(render_finding(reported, style)),
    }
}

/// Renders one finding as rustc-like text.
pub fn render_finding(reported: &Reported, style: Style) -> String {
    debug_assert!(
        reported.rendered.is_none(),
        "the text of a rendered finding is gone"
    );
    let diagnostic = FindingDiagnostic {
        reported,
        source: lines_showable(
            &reported.source,
            std::iter::once(&reported.finding.range)
                .chain(reported.finding.labels.iter().map(|l| &l.range)),
        )
        .then(|| {
            Window::new(
                &reported.path,
                &reported.source,
                std::iter::once(&reported.finding.range)
                    .chain(reported.finding.labels.iter().map(|l| &l.range)),
            )
        }),
    };
    let mut out = String::new();
    // Rendering into a String cannot fail: fmt::Write for String is infallible.
    let _ = style.handler().render_report(&mut out, &diagnostic);
    out
}

/// Renders a note about a file (parse errors, unreadable files).
pub fn render_note(note: &FileNote, style: Style) -> String {
    let diagnostic = NoteDiagnostic {
        note,
        source: note
            .span
            .as_ref()
            .filter(|(text, range)| lines_showable(text, std::iter::once(range)))
            .map(|(text, _)| NamedSource::new(&note.path, text.clone())),
    };
    let mut out = String::new();
    let _ = style.handler().render_report(&mut out, &diagnostic);
    out
}

fn plural(count: usize, word: &str) -> String {
    if count == 1 {
        format!("1 {word}")
    } else {
        format!("{count} {word}s")
    }
}

/// `2 errors, 1 warning in 3 files`.
pub fn summary(findings: &[Reported], files_checked: usize) -> String {
    let errors = findings.iter().filter(|r| r.level == Level::Deny).count();
    let warnings = findings.iter().filter(|r| r.level == Level::Warn).count();
    let mut files: Vec<&str> = findings.iter().map(|r| r.path.as_str()).collect();
    files.dedup();
    summary_of(
        findings.len(),
        (errors, warnings),
        files.len(),
        files_checked,
    )
}

/// [`summary`] from counts: all findings, errors and warnings among them,
/// files with findings, files checked.
pub fn summary_of(
    findings: usize,
    (errors, warnings): (usize, usize),
    files: usize,
    files_checked: usize,
) -> String {
    if findings == 0 {
        return format!("no problems found in {}", plural(files_checked, "file"));
    }
    format!(
        "{}, {} in {}",
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(files, "file")
    )
}

/// The JSON shape of one finding (`--format json`).
#[derive(Debug, Serialize)]
pub struct JsonFinding<'a> {
    pub lint: &'static str,
    pub level: &'static str,
    pub path: &'a str,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub message: &'a str,
    pub help: Option<&'a str>,
    pub notes: &'a [String],
    pub labels: Vec<JsonLabel<'a>>,
    pub fix: Option<JsonFix<'a>>,
}

#[derive(Debug, Serialize)]
pub struct JsonLabel<'a> {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub message: &'a str,
}

#[derive(Debug, Serialize)]
pub struct JsonFix<'a> {
    pub applicability: &'static str,
    pub message: &'a str,
    pub edits: Vec<JsonEdit<'a>>,
}

#[derive(Debug, Serialize)]
pub struct JsonEdit<'a> {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub replacement: &'a str,
}

/// One element of `--format json`'s array, as it is printed
/// ([`crate::formats::printer::Printer`]).
pub fn json_element(reported: &Reported) -> std::io::Result<std::borrow::Cow<'_, str>> {
    Ok(match &reported.rendered {
        Some(Rendered::Json(text)) => std::borrow::Cow::Borrowed(text),
        _ => std::borrow::Cow::Owned(try_json_element(reported)?),
    })
}

/// One finding as an element of `--format json`'s array, indented as
/// `serde_json`'s pretty printer indents it there.
fn try_json_element(reported: &Reported) -> Result<String, serde_json::Error> {
    debug_assert!(
        reported.rendered.is_none(),
        "the text of a rendered finding is gone"
    );
    let alone = serde_json::to_string_pretty(&json_finding(reported))?;
    // Line breaks inside JSON strings are escaped: every break is layout.
    Ok(format!("  {}", alone.replace('\n', "\n  ")))
}

pub fn json_finding(reported: &Reported) -> JsonFinding<'_> {
    let index = LineIndex::new(&reported.source);
    let finding = &reported.finding;
    let labels = finding
        .labels
        .iter()
        .map(|label| {
            let start = index.position(&reported.source, label.range.start);
            let end = index.position(&reported.source, label.range.end);
            JsonLabel {
                line: start.line,
                column: start.column,
                end_line: end.line,
                end_column: end.column,
                message: &label.message,
            }
        })
        .collect();
    // Edits in other files of the crate (a migrated caller, the crate root's
    // new error type) are positioned in those files as they are on disk; a
    // fix with an edit whose file cannot be read is left out whole, since
    // half a fix would break the code it is applied to.
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut others: std::collections::HashMap<&std::path::Path, Option<(String, LineIndex)>> =
        std::collections::HashMap::new();
    let fix = finding.fix.as_ref().and_then(|fix| {
        let mut edits = Vec::new();
        for edit in &fix.edits {
            let (path, source, lines) = match &edit.file {
                None => (reported.path.clone(), &*reported.source, &index),
                Some(other) => {
                    let read = others.entry(other.as_path()).or_insert_with(|| {
                        let text = std::fs::read_to_string(other)
                            .ok()
                            .filter(|_| other.is_absolute())?;
                        let lines = LineIndex::new(&text);
                        Some((text, lines))
                    });
                    let (text, lines) = read.as_ref()?;
                    let shown = crate::check::display_path(&cwd, other);
                    (shown, text.as_str(), lines)
                }
            };
            let start = lines.position(source, edit.range.start);
            let end = lines.position(source, edit.range.end);
            edits.push((path, start, end, edit.replacement.as_str()));
        }
        Some(JsonFix {
            applicability: fix.applicability.as_str(),
            message: &fix.message,
            edits: edits
                .into_iter()
                .map(|(path, start, end, replacement)| JsonEdit {
                    path,
                    line: start.line,
                    column: start.column,
                    end_line: end.line,
                    end_column: end.column,
                    replacement,
                })
                .collect(),
        })
    });
    JsonFinding {
        lint: finding.lint,
        level: reported.level.as_str(),
        path: &reported.path,
        line: reported.start.line,
        column: reported.start.column,
        end_line: reported.end.line,
        end_column: reported.end.column,
        message: &finding.message,
        help: finding.help.as_deref(),
        notes: &finding.notes,
        labels,
        fix,
    }
}

/// What `temper explain LINT` prints (and what the language server shows on
/// hover): the lint's level, fix availability and documentation.
pub fn explain(name: &str) -> Option<String> {
    let lint = crate::suppress::all_lints().find(|l| l.name == name)?;
    // The docs open with their own `# name` heading; it is printed once,
    // with the level and fix line under it.
    let docs = lint.docs.trim_end();
    let body = docs
        .strip_prefix(&format!("# {}", lint.name))
        .map_or(docs, str::trim_start);
    Some(format!(
        "# {}\n\nDefault level: {}. Fix: {}.\n\n{body}",
        lint.name,
        lint.default_level.as_str(),
        lint.fix.as_str(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A finding rendered from its window of the file reads exactly as one
    /// rendered from the whole file: at the first and last lines, next to
    /// blank lines, with `\r\n` and lone `\r` line breaks, with a label
    /// far from the primary span.
    #[test]
    fn windows_render_as_the_whole_file_does() {
        let body = "pub fn a(x: Option<u8>) -> u8 { x.unwrap() }\n// one\n// two\n\n// four\nfn b() {\r    y.unwrap()\r}\n// x\n// y\n// z\nfn c() { z.unwrap() }";
        let texts = [
            body.to_string(),
            body.replace('\n', "\r\n"),
            body.replace('\r', ""),
        ];
        for text in texts {
            let text: Arc<str> = Arc::from(text.as_str());
            let index = LineIndex::new(&text);
            let mut ranges: Vec<std::ops::Range<usize>> = text
                .match_indices("unwrap()")
                .map(|(at, m)| at..at + m.len())
                .collect();
            ranges.push(0..0);
            ranges.push(text.len()..text.len());
            for (i, range) in ranges.iter().enumerate() {
                let mut finding = Finding::new("library_unwrap", range.clone(), "`unwrap`")
                    .with_primary_label("here");
                if let Some(other) = ranges.get(i + 1) {
                    finding = finding.with_label(other.clone(), "and there");
                }
                let reported =
                    Reported::new("a.rs".into(), text.clone(), &index, Level::Warn, finding);
                for color in [false, true] {
                    let style = Style { color, width: 100 };
                    let whole = FindingDiagnostic {
                        reported: &reported,
                        source: Some(NamedSource::new("a.rs", text.clone()).with_language("Rust")),
                    };
                    let mut expected = String::new();
                    let _ = style.handler().render_report(&mut expected, &whole);
                    assert_eq!(
                        render_finding(&reported, style),
                        expected,
                        "{text:?} {range:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn positions_count_characters() {
        let text = "ab\néx = 1;\n";
        let index = LineIndex::new(text);
        assert_eq!(index.position(text, 0), Position { line: 1, column: 1 });
        assert_eq!(index.position(text, 3), Position { line: 2, column: 1 });
        // 'é' is two bytes but one column.
        assert_eq!(index.position(text, 5), Position { line: 2, column: 2 });
    }
}
