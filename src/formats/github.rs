//! `--format github`: GitHub Actions workflow commands, one annotation per
//! finding: `::error file=..,line=..,col=..,endLine=..,endColumn=..,title=..::message`.
//!
//! Escaping follows the runner's rules: in the message `%`, `\r` and `\n`
//! become `%25`, `%0D` and `%0A`; in property values `:` and `,` also become
//! `%3A` and `%2C`.

use crate::report::Reported;
use std::fmt::Write as _;
use temper_lints::Level;

/// Escapes a workflow command's message.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// One annotation line (without a newline).
pub fn annotation(reported: &Reported) -> String {
    let command = match reported.level {
        Level::Deny => "error",
        Level::Warn | Level::Allow => "warning",
    };
    let finding = &reported.finding;
    let mut message = finding.message.clone();
    if let Some(help) = &finding.help {
        let _ = write!(message, "\nhelp: {help}");
    }
    for note in &finding.notes {
        let _ = write!(message, "\nnote: {note}");
    }
    format!(
        "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
        escape_property(&reported.path),
        reported.start.line,
        reported.start.column,
        reported.end.line,
        reported.end.column,
        escape_property(&format!("temper::{}", finding.lint)),
        escape_data(&message),
    )
}

/// Every annotation, one per line.
pub fn render(findings: &[Reported]) -> String {
    let mut out = String::new();
    for reported in findings {
        out.push_str(&annotation(reported));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_the_runner() {
        assert_eq!(escape_data("50%\r\nx"), "50%25%0D%0Ax");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
