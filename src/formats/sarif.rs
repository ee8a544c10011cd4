//! `--format sarif`: SARIF 2.1.0 for code-scanning upload, built with the
//! `serde-sarif` types.
//!
//! Every lint is described once as a rule (id, summary, documentation as
//! markdown help, default level); each finding is a result with its location,
//! labelled related locations, fixes as artifact changes, and a
//! `partialFingerprints` entry (`temper/v1`) derived from the same key as the
//! baseline — lint, file, enclosing item, normalised source and occurrence —
//! so code scanning keeps tracking an alert when unrelated lines move.

use crate::baseline;
use crate::report::{LineIndex, Reported};
use serde_sarif::sarif;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use temper_lints::{Applicability, Level};

/// The `uriBaseId` every location is relative to: the current directory.
const SRCROOT: &str = "%SRCROOT%";

fn level(level: Level) -> sarif::ResultLevel {
    match level {
        Level::Deny => sarif::ResultLevel::Error,
        Level::Warn => sarif::ResultLevel::Warning,
        Level::Allow => sarif::ResultLevel::None,
    }
}

/// Percent-encodes what may not appear in a relative URI reference.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b'@' => out.push(byte as char),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn artifact(path: &str) -> sarif::ArtifactLocation {
    sarif::ArtifactLocation::builder()
        .uri(uri(path))
        .uri_base_id(SRCROOT)
        .build()
}

fn region(reported: &Reported, index: &LineIndex, range: &std::ops::Range<usize>) -> sarif::Region {
    let start = index.position(&reported.source, range.start);
    let end = index.position(&reported.source, range.end);
    sarif::Region::builder()
        .start_line(start.line as i64)
        .start_column(start.column as i64)
        .end_line(end.line as i64)
        .end_column(end.column as i64)
        .char_offset(
            reported.source[..range.start.min(reported.source.len())]
                .chars()
                .count() as i64,
        )
        .char_length(
            reported
                .source
                .get(range.clone())
                .map_or(0, |s| s.chars().count()) as i64,
        )
        .build()
}

fn rules() -> Vec<sarif::ReportingDescriptor> {
    crate::suppress::all_lints()
        .map(|lint| {
            let configuration = sarif::ReportingConfiguration::builder()
                .level(serde_json::json!(level(lint.default_level)))
                .enabled(lint.default_level != Level::Allow)
                .build();
            sarif::ReportingDescriptor::builder()
                .id(lint.name)
                .name(lint.name)
                .short_description(
                    sarif::MultiformatMessageString::builder()
                        .text(lint.summary)
                        .build(),
                )
                .full_description(
                    sarif::MultiformatMessageString::builder()
                        .text(lint.summary)
                        .build(),
                )
                .help(
                    sarif::MultiformatMessageString::builder()
                        .text(format!(
                            "{} (run `temper explain {}` for the full documentation)",
                            lint.summary, lint.name
                        ))
                        .markdown(lint.docs)
                        .build(),
                )
                .default_configuration(configuration)
                .build()
        })
        .collect()
}

fn result(
    reported: &Reported,
    index: &LineIndex,
    rule_index: i64,
    fingerprint: String,
) -> sarif::Result {
    let finding = &reported.finding;
    let mut text = finding.message.clone();
    if let Some(help) = &finding.help {
        text.push_str(&format!("\nhelp: {help}"));
    }
    for note in &finding.notes {
        text.push_str(&format!("\nnote: {note}"));
    }
    let primary = sarif::PhysicalLocation::builder()
        .artifact_location(artifact(&reported.path))
        .region(region(reported, index, &finding.range))
        .build();
    let mut location = sarif::Location::builder()
        .physical_location(primary)
        .build();
    if !finding.primary_label.is_empty() {
        location.message = Some(
            sarif::Message::builder()
                .text(finding.primary_label.clone())
                .build(),
        );
    }
    let related: Vec<sarif::Location> = finding
        .labels
        .iter()
        .enumerate()
        .map(|(i, label)| {
            sarif::Location::builder()
                .id(i as i64)
                .physical_location(
                    sarif::PhysicalLocation::builder()
                        .artifact_location(artifact(&reported.path))
                        .region(region(reported, index, &label.range))
                        .build(),
                )
                .message(
                    sarif::Message::builder()
                        .text(label.message.clone())
                        .build(),
                )
                .build()
        })
        .collect();
    let fixes: Vec<sarif::Fix> = super::in_file_fix(reported)
        .filter(|fix| fix.applicability != Applicability::DisplayOnly)
        .map(|fix| {
            let replacements = fix
                .edits
                .iter()
                .map(|edit| {
                    sarif::Replacement::builder()
                        .deleted_region(region(reported, index, &edit.range))
                        .inserted_content(
                            sarif::ArtifactContent::builder()
                                .text(edit.replacement.clone())
                                .build(),
                        )
                        .build()
                })
                .collect::<Vec<_>>();
            sarif::Fix::builder()
                .description(
                    sarif::Message::builder()
                        .text(format!("{} ({})", fix.message, fix.applicability.as_str()))
                        .build(),
                )
                .artifact_changes(vec![
                    sarif::ArtifactChange::builder()
                        .artifact_location(artifact(&reported.path))
                        .replacements(replacements)
                        .build(),
                ])
                .build()
        })
        .into_iter()
        .collect();
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert("temper/v1".to_string(), fingerprint);
    let mut result = sarif::Result::builder()
        .rule_id(finding.lint)
        .rule_index(rule_index)
        .level(level(reported.level))
        .message(sarif::Message::builder().text(text).build())
        .locations(vec![location])
        .partial_fingerprints(fingerprints)
        .build();
    if !related.is_empty() {
        result.related_locations = Some(related);
    }
    if !fixes.is_empty() {
        result.fixes = Some(fixes);
    }
    result
}

/// The SARIF log for `findings`, pretty-printed.
pub fn render(findings: &[Reported], cwd: &Path) -> Result<String, serde_json::Error> {
    let rules = rules();
    let rule_index: HashMap<&str, i64> = crate::suppress::all_lints()
        .enumerate()
        .map(|(i, lint)| (lint.name, i as i64))
        .collect();
    let entries = baseline::entries(findings, cwd, cwd);
    let mut indexes: HashMap<&str, LineIndex> = HashMap::new();
    let results: Vec<sarif::Result> = findings
        .iter()
        .zip(&entries)
        .map(|(reported, entry)| {
            let index = indexes
                .entry(reported.path.as_str())
                .or_insert_with(|| LineIndex::new(&reported.source));
            let rule = rule_index.get(reported.finding.lint).copied().unwrap_or(-1);
            result(reported, index, rule, baseline::fingerprint(entry))
        })
        .collect();
    let driver = sarif::ToolComponent::builder()
        .name("temper")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .rules(rules)
        .build();
    let mut base = cwd.to_string_lossy().replace('\\', "/");
    if !base.ends_with('/') {
        base.push('/');
    }
    if !base.starts_with('/') {
        base.insert(0, '/');
    }
    let mut base_ids = BTreeMap::new();
    base_ids.insert(
        SRCROOT.to_string(),
        sarif::ArtifactLocation::builder()
            .uri(format!("file://{}", uri(&base)))
            .build(),
    );
    let run = sarif::Run::builder()
        .tool(sarif::Tool::builder().driver(driver).build())
        .results(results)
        .column_kind(serde_json::json!("unicodeCodePoints"))
        .original_uri_base_ids(base_ids)
        .build();
    let log = sarif::Sarif::builder()
        .version(sarif::Version::V2_1_0.to_string())
        .schema(sarif::SCHEMA_URL)
        .runs(vec![run])
        .build();
    serde_json::to_string_pretty(&log)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(uri("src/a b#c.rs"), "src/a%20b%23c.rs");
        assert_eq!(uri("src/é.rs"), "src/%C3%A9.rs");
    }
}
