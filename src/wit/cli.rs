//! The `temper wit validate` subcommand: arguments, output and exit codes.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use miette::{GraphicalReportHandler, GraphicalTheme};
use serde::Serialize;

use super::{Style, WitError, load_world, validate_file};

/// Exit code when the component is compatible with the world.
pub const EXIT_COMPATIBLE: u8 = 0;
/// Exit code when the component is not compatible with the world.
pub const EXIT_INCOMPATIBLE: u8 = 1;
/// Exit code when the component or the WIT cannot be used at all.
pub const EXIT_UNUSABLE: u8 = 2;

/// Output format of `temper wit validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// Diagnostics with the WIT source, then a summary line.
    #[default]
    Human,
    /// One JSON document on stdout.
    Json,
}

/// `temper wit validate COMPONENT [--wit DIR] [--world NAME] [--format human|json]`
#[derive(Debug, Clone, Args)]
pub struct WitValidateArgs {
    /// The compiled component (.wasm) to check.
    #[arg(value_name = "COMPONENT")]
    pub component: PathBuf,

    /// WIT directory (with an optional deps/) or single .wit file holding the world.
    #[arg(long, value_name = "DIR", default_value = "wit")]
    pub wit: PathBuf,

    /// The world to check against, when the package declares several.
    #[arg(long, value_name = "NAME")]
    pub world: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Runs the subcommand on the process's stdout and stderr: exit 0 when
/// compatible, 1 when not, 2 for unusable input.
pub fn run_validate(args: &WitValidateArgs) -> ExitCode {
    let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let style = if colour { Style::Color } else { Style::Plain };
    let code = run_validate_with(
        args,
        style,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(code)
}

/// Same as [`run_validate`], writing to `out` and `err`; returns the exit code.
///
/// The report goes to `out`. Input errors go to `err` in human format and to
/// `out` as `{"error": ...}` in JSON format, so CI can always parse stdout.
pub fn run_validate_with(
    args: &WitValidateArgs,
    style: Style,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let result = load_world(&args.wit, args.world.as_deref())
        .and_then(|world| validate_file(&args.component, &world));
    // A closed pipe on stdout or stderr is not worth a different exit code.
    match result {
        Ok(report) => {
            let text = match args.format {
                Format::Human => report.render_human(style),
                Format::Json => report.render_json(),
            };
            let _ = out.write_all(text.as_bytes());
            if report.is_compatible() {
                EXIT_COMPATIBLE
            } else {
                EXIT_INCOMPATIBLE
            }
        }
        Err(error) => {
            match args.format {
                Format::Human => {
                    let _ = err.write_all(render_error(&error, style).as_bytes());
                }
                Format::Json => {
                    let _ = out.write_all(error_json(&error).as_bytes());
                }
            }
            EXIT_UNUSABLE
        }
    }
}

/// An input error rendered by miette, with the same fixed layout as reports.
pub fn render_error(error: &WitError, style: Style) -> String {
    let theme = match style {
        Style::Plain => GraphicalTheme::unicode_nocolor(),
        Style::Color => GraphicalTheme::unicode(),
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut text = String::new();
    if handler.render_report(&mut text, error).is_err() {
        text = format!("error: {error}\n");
    }
    text
}

/// An input error as `{"error": {"kind", "message"}}`.
pub fn error_json(error: &WitError) -> String {
    #[derive(Serialize)]
    struct Inner {
        kind: &'static str,
        message: String,
    }
    #[derive(Serialize)]
    struct Outer {
        error: Inner,
    }
    let json = Outer {
        error: Inner {
            kind: error.kind(),
            message: error.to_string(),
        },
    };
    // Serialising two strings cannot fail.
    serde_json::to_string_pretty(&json).unwrap_or_default() + "\n"
}
