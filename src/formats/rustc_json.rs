//! `--format rustc-json`: cargo's `compiler-message` JSON lines carrying
//! rustc's diagnostic structure (spans with line text, labels, children, and
//! suggestions with applicability), then a `build-finished` line — what
//! `cargo check --message-format=json` prints, so rust-analyzer configured
//! with `check.overrideCommand` shows temper's findings and quick fixes.

use crate::discover::{self, TargetKind};
use crate::report::{LineIndex, Reported, Style, render_finding};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use temper_lints::{Applicability, Level};

#[derive(Debug, Serialize)]
struct CompilerMessage<'a> {
    reason: &'static str,
    package_id: &'a str,
    manifest_path: &'a str,
    target: &'a TargetJson,
    message: Diagnostic,
}

#[derive(Debug, Clone, Serialize)]
struct TargetJson {
    kind: Vec<&'static str>,
    crate_types: Vec<&'static str>,
    name: String,
    src_path: String,
    edition: &'static str,
    doc: bool,
    doctest: bool,
    test: bool,
}

#[derive(Debug, Serialize)]
struct BuildFinished {
    reason: &'static str,
    success: bool,
}

#[derive(Debug, Serialize)]
struct Diagnostic {
    #[serde(rename = "$message_type")]
    message_type: &'static str,
    message: String,
    code: Option<Code>,
    level: &'static str,
    spans: Vec<Span>,
    children: Vec<Diagnostic>,
    rendered: Option<String>,
}

#[derive(Debug, Serialize)]
struct Code {
    code: String,
    explanation: Option<&'static str>,
}

#[derive(Debug, Serialize)]
struct Span {
    file_name: String,
    byte_start: usize,
    byte_end: usize,
    line_start: usize,
    line_end: usize,
    column_start: usize,
    column_end: usize,
    is_primary: bool,
    text: Vec<SpanLine>,
    label: Option<String>,
    suggested_replacement: Option<String>,
    suggestion_applicability: Option<&'static str>,
    expansion: Option<()>,
}

#[derive(Debug, Serialize)]
struct SpanLine {
    text: String,
    highlight_start: usize,
    highlight_end: usize,
}

/// A package's messages: its id, manifest, and the target each of its files
/// is compiled by.
struct Owner {
    package_id: String,
    manifest_path: String,
    targets: Vec<TargetJson>,
    /// The index in `targets` of the target that compiles each file: the
    /// library when it reaches the file, else the first target that does.
    by_file: HashMap<PathBuf, usize>,
}

impl Owner {
    fn target(&self, file: &Path) -> &TargetJson {
        let index = self.by_file.get(file).copied().unwrap_or(0);
        &self.targets[index.min(self.targets.len() - 1)]
    }
}

/// Renders every finding as one JSON line, then `build-finished`.
pub fn render(findings: &[Reported], cwd: &Path) -> Result<String, serde_json::Error> {
    let mut owners: HashMap<PathBuf, Owner> = HashMap::new();
    let mut indexes: HashMap<&str, LineIndex> = HashMap::new();
    let mut out = String::new();
    for reported in findings {
        let absolute = discover::normalize(&cwd.join(&reported.path));
        let dir = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
        let manifest = discover::enclosing_manifest(&dir);
        let key = manifest.clone().unwrap_or_else(|| absolute.clone());
        let owner = owners
            .entry(key)
            .or_insert_with(|| owner(manifest.as_deref(), &absolute, reported.edition));
        let index = indexes
            .entry(reported.path.as_str())
            .or_insert_with(|| LineIndex::new(&reported.source));
        let message = CompilerMessage {
            reason: "compiler-message",
            package_id: &owner.package_id,
            manifest_path: &owner.manifest_path,
            target: owner.target(&absolute),
            message: diagnostic(reported, index),
        };
        out.push_str(&serde_json::to_string(&message)?);
        out.push('\n');
    }
    let finished = BuildFinished {
        reason: "build-finished",
        success: !findings.iter().any(|r| r.level == Level::Deny),
    };
    out.push_str(&serde_json::to_string(&finished)?);
    out.push('\n');
    Ok(out)
}

/// Module declarations read from disk, for following each target's tree.
struct OnDisk;

impl discover::ModuleSource for OnDisk {
    fn modules(
        &mut self,
        path: &Path,
        edition: temper_lints::Edition,
    ) -> Option<(Vec<temper_lints::ModDecl>, bool)> {
        let text = std::fs::read_to_string(path).ok()?;
        Some(temper_lints::module_decls(&text, edition))
    }
}

/// The package's edition as Cargo reads it: `package.edition`, inherited
/// from `[workspace.package]` with `edition.workspace = true`, else 2015.
fn edition(manifest: &Path, table: &toml::Table) -> &'static str {
    let value = table.get("package").and_then(|p| p.get("edition"));
    let text = match value {
        Some(toml::Value::String(text)) => Some(text.clone()),
        Some(toml::Value::Table(inherit)) if inherit.get("workspace").is_some() => manifest
            .parent()
            .into_iter()
            .flat_map(Path::ancestors)
            .skip(1)
            .find_map(|dir| {
                let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
                let root = text.parse::<toml::Table>().ok()?;
                root.get("workspace")?
                    .get("package")?
                    .get("edition")?
                    .as_str()
                    .map(str::to_string)
            }),
        _ => None,
    };
    match text.as_deref() {
        Some("2018") => "2018",
        Some("2021") => "2021",
        Some("2024") => "2024",
        _ => "2015",
    }
}

fn target_json(target: &discover::Target, edition: &'static str) -> TargetJson {
    let (kind, crate_type) = match target.kind {
        TargetKind::Lib => ("lib", "lib"),
        TargetKind::Bin => ("bin", "bin"),
        TargetKind::Test => ("test", "bin"),
        TargetKind::Example => ("example", "bin"),
        TargetKind::Bench => ("bench", "bin"),
        TargetKind::BuildScript => ("custom-build", "bin"),
    };
    TargetJson {
        kind: vec![kind],
        crate_types: vec![crate_type],
        name: target.name.clone(),
        src_path: target.root.display().to_string(),
        edition,
        doc: true,
        doctest: kind == "lib",
        test: true,
    }
}

/// cargo's name for an edition.
fn edition_name(edition: temper_lints::Edition) -> &'static str {
    match edition {
        temper_lints::Edition::Edition2015 => "2015",
        temper_lints::Edition::Edition2018 => "2018",
        temper_lints::Edition::Edition2021 => "2021",
        temper_lints::Edition::Edition2024 => "2024",
    }
}

/// The package (and targets) a file belongs to; `edition` is the file's, for
/// a file outside any package.
fn owner(manifest: Option<&Path>, file: &Path, file_edition: temper_lints::Edition) -> Owner {
    let package = manifest.and_then(|m| discover::read_manifest(m, "").ok());
    let Some((manifest, package)) = manifest.zip(package) else {
        let name = file
            .file_stem()
            .map_or_else(|| "main".to_string(), |s| s.to_string_lossy().to_string());
        return Owner {
            package_id: format!("path+file://{}#{name}@0.0.0", file.display()),
            manifest_path: String::new(),
            targets: vec![TargetJson {
                kind: vec!["lib"],
                crate_types: vec!["lib"],
                name,
                src_path: file.display().to_string(),
                edition: edition_name(file_edition),
                doc: true,
                doctest: true,
                test: true,
            }],
            by_file: HashMap::new(),
        };
    };
    let table = std::fs::read_to_string(manifest)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .unwrap_or_default();
    let version = table
        .get("package")
        .and_then(|p| p.get("version"))
        .and_then(toml::Value::as_str)
        .unwrap_or("0.0.0")
        .to_string();
    let edition = edition(manifest, &table);
    // The library first: a file it compiles is attributed to it.
    let mut ordered: Vec<&discover::Target> = package.targets.iter().collect();
    ordered.sort_by_key(|t| t.kind != TargetKind::Lib);
    let mut targets = Vec::new();
    let mut by_file = HashMap::new();
    for target in ordered {
        let single = discover::Package {
            targets: vec![target.clone()],
            ..package.clone()
        };
        let index = targets.len();
        for (path, role) in discover::classify(&single, &mut OnDisk) {
            if role.is_compiled() {
                by_file.entry(path).or_insert(index);
            }
        }
        targets.push(target_json(target, edition));
    }
    if targets.is_empty() {
        targets.push(TargetJson {
            kind: vec!["lib"],
            crate_types: vec!["lib"],
            name: package.name.clone(),
            src_path: String::new(),
            edition,
            doc: true,
            doctest: true,
            test: true,
        });
    }
    Owner {
        package_id: format!(
            "path+file://{}#{}@{version}",
            package.dir.display(),
            package.name
        ),
        manifest_path: manifest.display().to_string(),
        targets,
        by_file,
    }
}

fn level(level: Level) -> &'static str {
    match level {
        Level::Deny => "error",
        Level::Warn | Level::Allow => "warning",
    }
}

fn applicability(applicability: Applicability) -> &'static str {
    match applicability {
        Applicability::Safe => "MachineApplicable",
        Applicability::Unsafe => "MaybeIncorrect",
        Applicability::DisplayOnly => "HasPlaceholders",
    }
}

fn span(
    reported: &Reported,
    index: &LineIndex,
    range: &std::ops::Range<usize>,
    primary: bool,
    label: Option<String>,
) -> Span {
    let source = &reported.source;
    let start = index.position(source, range.start);
    let end = index.position(source, range.end);
    let text = (start.line..=end.line)
        .filter_map(|line| {
            let line_start = index.line_start(line)?;
            let line_text = source[line_start..]
                .split('\n')
                .next()
                .unwrap_or_default()
                .trim_end_matches('\r');
            let highlight_start = if line == start.line { start.column } else { 1 };
            let highlight_end = if line == end.line {
                end.column
            } else {
                line_text.chars().count() + 1
            };
            Some(SpanLine {
                text: line_text.to_string(),
                highlight_start,
                highlight_end,
            })
        })
        .collect();
    Span {
        file_name: reported.path.clone(),
        byte_start: range.start,
        byte_end: range.end,
        line_start: start.line,
        line_end: end.line,
        column_start: start.column,
        column_end: end.column,
        is_primary: primary,
        text,
        label,
        suggested_replacement: None,
        suggestion_applicability: None,
        expansion: None,
    }
}

fn child(level: &'static str, message: String, spans: Vec<Span>) -> Diagnostic {
    Diagnostic {
        message_type: "diagnostic",
        message,
        code: None,
        level,
        spans,
        children: Vec::new(),
        rendered: None,
    }
}

fn diagnostic(reported: &Reported, index: &LineIndex) -> Diagnostic {
    let finding = &reported.finding;
    let primary_label = (!finding.primary_label.is_empty()).then(|| finding.primary_label.clone());
    let mut spans = vec![span(reported, index, &finding.range, true, primary_label)];
    for label in &finding.labels {
        spans.push(span(
            reported,
            index,
            &label.range,
            false,
            Some(label.message.clone()),
        ));
    }
    let mut children = Vec::new();
    for note in &finding.notes {
        children.push(child("note", note.clone(), Vec::new()));
    }
    if let Some(help) = &finding.help {
        children.push(child("help", help.clone(), Vec::new()));
    }
    if let Some(fix) = super::in_file_fix(reported)
        && fix.applicability != Applicability::DisplayOnly
    {
        let suggestions = fix
            .edits
            .iter()
            .map(|edit| {
                let mut s = span(reported, index, &edit.range, true, None);
                s.suggested_replacement = Some(edit.replacement.clone());
                s.suggestion_applicability = Some(applicability(fix.applicability));
                s
            })
            .collect();
        children.push(child("help", fix.message.clone(), suggestions));
    }
    children.push(child(
        "note",
        format!(
            "`{}` is set to `{}`; for further information run `temper explain {}`",
            finding.lint,
            reported.level.as_str(),
            finding.lint
        ),
        Vec::new(),
    ));
    let explanation = crate::suppress::all_lints()
        .find(|l| l.name == finding.lint)
        .map(|l| l.docs);
    Diagnostic {
        message_type: "diagnostic",
        message: finding.message.clone(),
        code: Some(Code {
            code: format!("temper::{}", finding.lint),
            explanation,
        }),
        level: level(reported.level),
        spans,
        children,
        rendered: Some(render_finding(reported, Style::plain())),
    }
}
