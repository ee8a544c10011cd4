//! Code actions (each finding's fix, the file's safe fixes, a suppression
//! comment) and hover documentation for an open document's findings.

use super::analysis::{Settings, Workspace};
use super::convert::{self, Texts};
use super::text::{Encoding, Lines};
use crate::check::{self, CheckedFile};
use crate::fix::engine::{self, Engine, SourceFile};
use crate::report::Reported;
use crate::suppress::{self, ToSuppress, UNUSED_SUPPRESSION};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, Hover, HoverContents,
    MarkupContent, MarkupKind, Position, Uri,
};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use temper_lints::Applicability;

/// The kind of the action that applies every safe fix of a file.
pub const FIX_ALL: &str = "source.fixAll.temper";

/// An open document as the actions see it: the text its findings are on.
pub struct Document<'a> {
    pub uri: &'a Uri,
    pub path: &'a Path,
    pub text: &'a Arc<str>,
    pub findings: &'a [Reported],
    pub file: Option<&'a Arc<CheckedFile>>,
}

/// What the actions may read besides the document.
pub struct Context<'a> {
    pub settings: &'a Settings,
    pub workspace: &'a Workspace,
    pub texts: &'a Texts<'a>,
    pub encoding: Encoding,
}

/// Whether the client's `only` filter admits actions of `kind` (kinds are
/// hierarchical: `source` admits `source.fixAll.temper`).
fn wanted(only: Option<&Vec<CodeActionKind>>, kind: &str) -> bool {
    only.is_none_or(|only| {
        only.iter().any(|wanted| {
            let wanted = wanted.as_str();
            kind == wanted || kind.starts_with(&format!("{wanted}."))
        })
    })
}

pub fn code_actions(
    document: &Document<'_>,
    context: &Context<'_>,
    params: &CodeActionParams,
) -> Vec<CodeActionOrCommand> {
    let lines = Lines::new(document.text);
    let start = lines.offset(params.range.start, context.encoding);
    let end = lines.offset(params.range.end, context.encoding);
    let only = params.context.only.as_ref();
    let base_dir = crate::fix::base_dir(document.path);
    let mut actions = Vec::new();
    let diagnostics = convert::diagnostics(document.uri, document.findings, context.encoding);
    for (reported, diagnostic) in document.findings.iter().zip(diagnostics) {
        let range = &reported.finding.range;
        // Touching counts: a cursor right after `unwrap()` still offers it.
        if range.start > end || range.end < start {
            continue;
        }
        if let Some(fix) = &reported.finding.fix
            && fix.applicability != Applicability::DisplayOnly
            && wanted(only, CodeActionKind::QUICKFIX.as_str())
            && let Some(edit) = convert::fix_edit(
                fix,
                document.path,
                &base_dir,
                context.texts,
                context.encoding,
            )
        {
            let safe = fix.applicability == Applicability::Safe;
            let title = if safe {
                format!("{} ({})", fix.message, reported.finding.lint)
            } else {
                format!(
                    "{} ({}, unsafe fix: may change behaviour or not compile)",
                    fix.message, reported.finding.lint
                )
            };
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic.clone()]),
                edit: Some(edit),
                is_preferred: Some(safe),
                ..CodeAction::default()
            }));
        }
        if reported.finding.lint != UNUSED_SUPPRESSION
            && wanted(only, CodeActionKind::QUICKFIX.as_str())
            && let Some(edit) = suppress_edit(document, reported, context.encoding)
        {
            actions.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!(
                    "suppress with `// temper: allow({})`",
                    reported.finding.lint
                ),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic]),
                edit: Some(edit),
                is_preferred: Some(false),
                ..CodeAction::default()
            }));
        }
    }
    if wanted(only, FIX_ALL)
        && let Some(action) = fix_all(document, context)
    {
        actions.push(CodeActionOrCommand::CodeAction(action));
    }
    actions
}

fn suppress_edit(
    document: &Document<'_>,
    reported: &Reported,
    encoding: Encoding,
) -> Option<lsp_types::WorkspaceEdit> {
    let (text, _) = suppress::add_comments(
        document.text,
        &[ToSuppress {
            lint: reported.finding.lint,
            offset: reported.finding.range.start,
        }],
        "TODO: fix or explain why this is fine",
    );
    convert::whole_file_edits(
        [(document.path, &**document.text, text?.as_str())],
        encoding,
    )
}

/// Every safe fix of the document, applied to a fixpoint by the same engine
/// as `temper fix` (re-parsed, re-checked, never parsing worse), as one
/// workspace edit over every file it changes.
fn fix_all(document: &Document<'_>, context: &Context<'_>) -> Option<CodeAction> {
    let file = document.file?;
    let has_safe = document.findings.iter().any(|reported| {
        reported
            .finding
            .fix
            .as_ref()
            .is_some_and(|fix| fix.applicability == Applicability::Safe)
    });
    if !has_safe {
        return None;
    }
    let base_dir = crate::fix::base_dir(document.path);
    let mut inputs = vec![SourceFile {
        path: document.path.to_path_buf(),
        display: file.display.clone(),
        text: document.text.clone(),
        findings: document.findings.to_vec(),
        base_dir: base_dir.clone(),
        blocked: None,
        parse_errors: None,
        edition: file.edition,
    }];
    // The other files the fixes reach, at their current texts.
    let mut targets = BTreeSet::new();
    for reported in document.findings {
        for edit in reported.finding.fix.iter().flat_map(|fix| &fix.edits) {
            if let Some(other) = &edit.file {
                targets.insert(engine::resolve_path(other, &base_dir));
            }
        }
    }
    for target in targets {
        if target == document.path {
            continue;
        }
        let Some(text) = (context.texts)(&target) else {
            continue;
        };
        inputs.push(SourceFile {
            display: check::display_path(&context.settings.cwd, &target),
            path: target,
            text,
            findings: Vec::new(),
            base_dir: base_dir.clone(),
            blocked: None,
            parse_errors: None,
            edition: file.edition,
        });
    }
    let files: HashMap<PathBuf, Arc<CheckedFile>> =
        std::iter::once((document.path.to_path_buf(), file.clone()))
            .chain(inputs.iter().skip(1).filter_map(|input| {
                Some((
                    input.path.clone(),
                    context.workspace.files.get(&input.path)?.clone(),
                ))
            }))
            .collect();
    let relint = |path: &Path,
                  text: &str,
                  crate_files: &[(PathBuf, Arc<str>)],
                  index: &temper_lints::IndexCell| {
        files.get(path).map_or_else(Vec::new, |file| {
            context.settings.filter(check::recheck(
                &context.settings.request,
                file,
                text,
                crate_files,
                index,
            ))
        })
    };
    let engine = Engine {
        threshold: Applicability::Safe,
        max_rounds: engine::MAX_ROUNDS,
        relint: &relint,
    };
    let fixpoint = engine.run(inputs, &HashMap::new());
    if fixpoint.applied.is_empty() {
        return None;
    }
    let count = fixpoint.applied.len();
    let edit = convert::whole_file_edits(
        fixpoint
            .files
            .iter()
            .map(|file| (file.path.as_path(), &*file.original, file.text.as_str())),
        context.encoding,
    )?;
    Some(CodeAction {
        title: format!(
            "apply {count} safe temper fix{}",
            if count == 1 { "" } else { "es" }
        ),
        kind: Some(CodeActionKind::new(FIX_ALL)),
        edit: Some(edit),
        ..CodeAction::default()
    })
}

/// The documentation of the lint whose finding is under the cursor.
pub fn hover(document: &Document<'_>, position: Position, encoding: Encoding) -> Option<Hover> {
    let lines = Lines::new(document.text);
    let offset = lines.offset(position, encoding);
    let reported = document
        .findings
        .iter()
        .find(|r| r.finding.range.start <= offset && offset <= r.finding.range.end)?;
    let text = crate::report::explain(reported.finding.lint)?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: text,
        }),
        range: Some(lines.range(&reported.finding.range, encoding)),
    })
}
