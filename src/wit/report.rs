//! The structured validation report and its human (miette) and JSON renderings.

use std::fmt::Write as _;
use std::sync::Arc;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, Report,
};
use serde::Serialize;

use super::world::Sources;

/// What kind of difference a [`Problem`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// The world exports an interface or function the component does not export.
    MissingExport,
    /// The world imports an interface or function the component does not import.
    /// Harmless for instantiation, so it is a warning.
    MissingImport,
    /// The component imports something the host does not provide (WASI aside).
    UnexpectedImport,
    /// Same interface, semver-incompatible package versions.
    VersionMismatch,
    /// An interface lacks a function on the side that must provide it.
    MissingFunction,
    /// Sync against async, or a method against a free function.
    FunctionKindMismatch,
    /// A function takes a different number of parameters.
    ParamCountMismatch,
    /// A parameter has another name at the same position.
    ParamNameMismatch,
    /// A parameter has another type.
    ParamTypeMismatch,
    /// A function returns another type.
    ResultMismatch,
    /// A named type of the world is missing from the component's interface.
    MissingType,
    /// A named type has another structure.
    TypeMismatch,
}

impl ProblemKind {
    /// The kebab-case name used in JSON and as the diagnostic code.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::MissingExport => "missing-export",
            ProblemKind::MissingImport => "missing-import",
            ProblemKind::UnexpectedImport => "unexpected-import",
            ProblemKind::VersionMismatch => "version-mismatch",
            ProblemKind::MissingFunction => "missing-function",
            ProblemKind::FunctionKindMismatch => "function-kind-mismatch",
            ProblemKind::ParamCountMismatch => "param-count-mismatch",
            ProblemKind::ParamNameMismatch => "param-name-mismatch",
            ProblemKind::ParamTypeMismatch => "param-type-mismatch",
            ProblemKind::ResultMismatch => "result-mismatch",
            ProblemKind::MissingType => "missing-type",
            ProblemKind::TypeMismatch => "type-mismatch",
        }
    }
}

/// Whether a problem makes the component incompatible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Instantiation would fail or calls would misbehave.
    Error,
    /// Worth knowing, but the component still works with the host.
    Warning,
}

/// Where in the expected WIT a problem is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The WIT file, as wit-parser registered it (the `--wit` path joined with the file name).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Byte offset of the span in the file.
    pub offset: usize,
    /// Byte length of the span.
    pub length: usize,
    #[serde(skip)]
    pub(crate) file_index: usize,
}

/// One difference between the component and the expected world.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// What kind of difference this is.
    pub kind: ProblemKind,
    /// Whether it makes the component incompatible.
    pub severity: Severity,
    /// The world import or export it belongs to, e.g. `temper:extractor/extract@0.1.0`.
    pub item: String,
    /// The path to the first difference, e.g. `extract: result.ok.links`, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The full message, lowercase and without trailing period.
    pub message: String,
    /// What the world expects at `path`, rendered as WIT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What the component has at `path`, rendered as WIT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    /// Where in the expected WIT the difference is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The text of the label under the WIT span in the human rendering.
    #[serde(skip)]
    pub(crate) label: String,
}

/// The outcome of validating one component against one world.
#[derive(Debug, Clone, Serialize)]
pub struct ValidationReport {
    /// The component, as named by the caller (its path for [`validate_file`](super::validate_file)).
    pub component: String,
    /// The fully qualified world name.
    pub world: String,
    /// Every difference found, errors and warnings, in world order.
    pub problems: Vec<Problem>,
    #[serde(skip)]
    pub(crate) sources: Arc<Sources>,
}

/// How the human rendering looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// Unicode box drawing, no colour: stable bytes for files and tests.
    #[default]
    Plain,
    /// Colour for terminals.
    Color,
}

/// Width of the human rendering; fixed so the output does not depend on the terminal.
const RENDER_WIDTH: usize = 100;

impl ValidationReport {
    /// True when there is no error-severity problem; warnings do not count.
    pub fn is_compatible(&self) -> bool {
        self.error_count() == 0
    }

    /// The number of error-severity problems.
    pub fn error_count(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count()
    }

    /// The number of warning-severity problems.
    pub fn warning_count(&self) -> usize {
        self.problems.len() - self.error_count()
    }

    /// One line: the verdict and the counts.
    pub fn summary(&self) -> String {
        let counts = |n: usize, what: &str| match n {
            1 => format!("1 {what}"),
            n => format!("{n} {what}s"),
        };
        let (errors, warnings) = (self.error_count(), self.warning_count());
        if errors == 0 {
            let mut line = format!(
                "ok: component `{}` is compatible with world `{}`",
                self.component, self.world
            );
            if warnings > 0 {
                let _ = write!(line, " ({})", counts(warnings, "warning"));
            }
            line
        } else {
            format!(
                "error: component `{}` is not compatible with world `{}`: {}, {}",
                self.component,
                self.world,
                counts(errors, "error"),
                counts(warnings, "warning")
            )
        }
    }

    /// Every problem rendered by miette with the WIT file as source, then the summary line.
    pub fn render_human(&self, style: Style) -> String {
        let theme = match style {
            Style::Plain => GraphicalTheme::unicode_nocolor(),
            Style::Color => GraphicalTheme::unicode(),
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(RENDER_WIDTH)
            .with_links(false);
        let mut out = String::new();
        for problem in &self.problems {
            let report = self.diagnostic(problem);
            let mut rendered = String::new();
            if handler
                .render_report(&mut rendered, report.as_ref())
                .is_err()
            {
                // Rendering into a String only fails if a Display impl fails;
                // keep the plain message rather than lose the problem.
                rendered = format!("{}\n", problem.message);
            }
            out.push_str(&rendered);
            out.push('\n');
        }
        out.push_str(&self.summary());
        out.push('\n');
        out
    }

    /// The report as pretty JSON: component, world, compatible, counts, problems.
    pub fn render_json(&self) -> String {
        #[derive(Serialize)]
        struct Json<'a> {
            component: &'a str,
            world: &'a str,
            compatible: bool,
            errors: usize,
            warnings: usize,
            problems: &'a [Problem],
        }
        let json = Json {
            component: &self.component,
            world: &self.world,
            compatible: self.is_compatible(),
            errors: self.error_count(),
            warnings: self.warning_count(),
            problems: &self.problems,
        };
        // Serialising plain strings, numbers and enums cannot fail.
        serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
    }

    fn diagnostic(&self, problem: &Problem) -> Report {
        let mut diagnostic = MietteDiagnostic::new(problem.message.clone())
            .with_code(format!("wit::{}", problem.kind.as_str()))
            .with_severity(match problem.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            });
        if let Some(help) = &problem.help {
            diagnostic = diagnostic.with_help(help.clone());
        }
        let source = problem.location.as_ref().and_then(|location| {
            let file = self.sources.files.get(location.file_index)?;
            Some((location, file))
        });
        let Some((location, file)) = source else {
            return Report::new(diagnostic);
        };
        diagnostic = diagnostic.with_label(LabeledSpan::at(
            location.offset..location.offset + location.length,
            problem.label.clone(),
        ));
        Report::new(diagnostic).with_source_code(NamedSource::new(
            file.name.clone(),
            Arc::clone(&file.contents).to_string(),
        ))
    }
}
