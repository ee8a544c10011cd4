//! Findings as LSP diagnostics, and fixes as LSP workspace edits.

use super::text::{Encoding, Lines, path_to_uri};
use crate::fix::engine::resolve_path;
use crate::report::Reported;
use lsp_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, TextEdit, Uri, WorkspaceEdit,
};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use temper_lints::{Applicability, Fix, Level};

/// The diagnostics of one file's findings (all on the same text).
pub fn diagnostics(uri: &Uri, findings: &[Reported], encoding: Encoding) -> Vec<Diagnostic> {
    let Some(first) = findings.first() else {
        return Vec::new();
    };
    let lines = Lines::new(&first.source);
    findings
        .iter()
        .map(|reported| diagnostic(uri, reported, &lines, encoding))
        .collect()
}

fn diagnostic(uri: &Uri, reported: &Reported, lines: &Lines<'_>, encoding: Encoding) -> Diagnostic {
    let finding = &reported.finding;
    let mut message = finding.message.clone();
    if !finding.primary_label.is_empty() {
        message.push_str(&format!(": {}", finding.primary_label));
    }
    if let Some(help) = &finding.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    if let Some(fix) = &finding.fix {
        match fix.applicability {
            Applicability::Safe => message.push_str(&format!("\nfix: {}", fix.message)),
            Applicability::Unsafe => {
                message.push_str(&format!("\nfix (unsafe): {}", fix.message));
            }
            Applicability::DisplayOnly => {}
        }
    }
    for note in &finding.notes {
        message.push_str(&format!("\nnote: {note}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = finding
        .labels
        .iter()
        .map(|label| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), lines.range(&label.range, encoding)),
            message: label.message.clone(),
        })
        .collect();
    Diagnostic {
        range: lines.range(&finding.range, encoding),
        severity: Some(match reported.level {
            Level::Deny => DiagnosticSeverity::ERROR,
            Level::Warn | Level::Allow => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(finding.lint.to_string())),
        code_description: docs_link(finding.lint).map(|href| CodeDescription { href }),
        source: Some("temper".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

/// Where a lint's documentation (the text `temper explain` prints) lives:
/// the lint's Markdown file in the installed sources of `temper-lints`, which
/// `cargo install` keeps; none when those sources are gone.
fn docs_link(lint: &str) -> Option<Uri> {
    let path = if lint == crate::suppress::UNUSED_SUPPRESSION {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/unused_suppression.md")
    } else {
        temper_lints::registry::docs_path(lint)?
    };
    if !path.is_file() {
        return None;
    }
    path_to_uri(&path)
}

/// Reads the current text of a file an edit reaches: an open document's
/// buffer, else the file on disk.
pub type Texts<'a> = dyn Fn(&Path) -> Option<Arc<str>> + 'a;

/// One fix as a workspace edit: every file it touches, in one edit, so the
/// editor applies it whole. `None` when a file it reaches cannot be read.
pub fn fix_edit(
    fix: &Fix,
    path: &Path,
    base_dir: &Path,
    texts: &Texts<'_>,
    encoding: Encoding,
) -> Option<WorkspaceEdit> {
    let mut by_file: BTreeMap<PathBuf, Vec<(std::ops::Range<usize>, String)>> = BTreeMap::new();
    for edit in &fix.edits {
        let target = match &edit.file {
            None => path.to_path_buf(),
            Some(file) => resolve_path(file, base_dir),
        };
        by_file
            .entry(target)
            .or_default()
            .push((edit.range.clone(), edit.replacement.clone()));
    }
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for (target, edits) in by_file {
        let text = texts(&target)?;
        let lines = Lines::new(&text);
        let uri = path_to_uri(&target)?;
        let mut edits: Vec<TextEdit> = edits
            .into_iter()
            .map(|(range, replacement)| TextEdit::new(lines.range(&range, encoding), replacement))
            .collect();
        edits.sort_by_key(|edit| (edit.range.start, edit.range.end));
        changes.insert(uri, edits);
    }
    Some(WorkspaceEdit::new(changes))
}

/// The smallest single edit that turns `old` into `new`: the text between
/// their common prefix and suffix (on character boundaries).
pub fn text_edit(old: &str, new: &str, encoding: Encoding) -> Option<TextEdit> {
    if old == new {
        return None;
    }
    let mut prefix = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let max_suffix = (old.len() - prefix).min(new.len() - prefix);
    let mut suffix = old
        .bytes()
        .rev()
        .zip(new.bytes().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    let lines = Lines::new(old);
    Some(TextEdit::new(
        lines.range(&(prefix..old.len() - suffix), encoding),
        new[prefix..new.len() - suffix].to_string(),
    ))
}

/// A workspace edit from whole new texts of files.
pub fn whole_file_edits<'a>(
    files: impl IntoIterator<Item = (&'a Path, &'a str, &'a str)>,
    encoding: Encoding,
) -> Option<WorkspaceEdit> {
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for (path, old, new) in files {
        if let Some(edit) = text_edit(old, new, encoding) {
            changes.insert(path_to_uri(path)?, vec![edit]);
        }
    }
    (!changes.is_empty()).then(|| WorkspaceEdit::new(changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_edit_keeps_common_prefix_and_suffix() {
        let edit = text_edit("let a = x.unwrap();\n", "let a = x?;\n", Encoding::Utf16).unwrap();
        assert_eq!(edit.new_text, "?");
        assert_eq!(edit.range.start.character, 9);
        assert_eq!(edit.range.end.character, 18);
        assert!(text_edit("same", "same", Encoding::Utf16).is_none());
        let edit = text_edit("aé", "aè", Encoding::Utf8).unwrap();
        assert_eq!(edit.new_text, "è");
    }
}
