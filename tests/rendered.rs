//! Findings rendered while each file's text is in hand (`RunSettings::render`,
//! what `temper check` does for human and JSON output) read exactly as the
//! ones rendered at the end from the kept texts, snippets and labels
//! included, once the texts are gone.

use assert_cmd::Command;
use std::path::PathBuf;
use temper::check::{self, CheckOutcome, CheckRequest, RunSettings};
use temper::report::{self, Render, Style};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `temper check`'s settings for the human and JSON formats, rendering as it
/// goes or not.
fn check(render: Option<Render>) -> CheckOutcome {
    let request = CheckRequest {
        paths: vec![root().join("fixtures/workspace")],
        ..CheckRequest::default()
    };
    let settings = RunSettings {
        drop_clean_sources: true,
        prefilter: true,
        describe_crate_fixes: true,
        render,
        ..RunSettings::default()
    };
    check::run_with(&request, &settings)
}

/// The human output as `temper check` prints it.
fn human(outcome: &CheckOutcome, style: Style) -> String {
    let mut text = String::new();
    for finding in &outcome.findings {
        text.push_str(&report::human_text(finding, style));
        text.push('\n');
    }
    text.push_str(&report::summary(&outcome.findings, outcome.files_checked));
    text.push('\n');
    text
}

fn json(outcome: &CheckOutcome) -> String {
    let mut out = Vec::new();
    report::write_json_document(&outcome.findings, &mut out).expect("writes to a Vec");
    String::from_utf8(out).expect("JSON is UTF-8")
}

#[test]
fn findings_rendered_early_read_as_rendered_from_kept_texts() {
    let kept = check(None);
    let files: std::collections::BTreeSet<&str> =
        kept.findings.iter().map(|r| r.path.as_str()).collect();
    assert!(
        files.len() > 1 && kept.findings.iter().all(|r| !r.source.is_empty()),
        "a multi-file check with findings, texts kept: {files:?}"
    );

    for style in [
        Style::plain(),
        Style {
            color: true,
            width: 80,
        },
    ] {
        let rendered = check(Some(Render::Human(style)));
        assert!(
            rendered
                .findings
                .iter()
                .all(|r| r.source.is_empty() && r.rendered.is_some()),
            "every finding rendered and its text let go"
        );
        assert!(rendered.files.is_empty());
        assert_eq!(human(&rendered, style), human(&kept, style));
        assert_eq!(rendered.files_checked, kept.files_checked);
    }

    // JSON: element by element, in serde_json's own pretty layout of the
    // whole array.
    let rendered = check(Some(Render::Json));
    assert!(rendered.findings.iter().all(|r| r.source.is_empty()));
    let whole: Vec<_> = kept.findings.iter().map(report::json_finding).collect();
    let expected = serde_json::to_string_pretty(&whole).expect("serialises");
    assert_eq!(json(&rendered), expected);
    assert_eq!(json(&kept), expected);
    assert_eq!(json(&CheckOutcome::default()), "[]");

    // What a reader relies on: each finding's source line under its header,
    // its label, its help, from a text that is no longer held.
    let plain = check(Some(Render::Human(Style::plain())));
    for (early, whole) in plain.findings.iter().zip(&kept.findings) {
        let text = report::human_text(early, Style::plain());
        let line = whole
            .source
            .lines()
            .nth(whole.start.line - 1)
            .expect("line");
        assert!(
            text.contains(line.trim()),
            "{text}\nshows the finding's line {line:?}"
        );
        assert!(text.contains(&format!(
            "[{}:{}:{}]",
            whole.path, whole.start.line, whole.start.column
        )));
        if !whole.finding.primary_label.is_empty() {
            assert!(text.contains(&whole.finding.primary_label), "{text}");
        }
        for label in &whole.finding.labels {
            assert!(text.contains(&label.message), "{text}");
        }
        assert!(text.contains(&whole.finding.message), "{text}");
    }
}

/// The binary prints what the kept texts render, byte for byte.
#[test]
fn check_prints_what_kept_texts_render() {
    let kept = check(None);
    let output = Command::cargo_bin("temper")
        .expect("the temper binary is built for tests")
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("CLICOLOR_FORCE")
        .args(["check", "--no-cache", "fixtures/workspace"])
        .output()
        .expect("runs");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        human(&kept, Style::plain())
    );
    let output = Command::cargo_bin("temper")
        .expect("the temper binary is built for tests")
        .current_dir(root())
        .args([
            "check",
            "--no-cache",
            "--format",
            "json",
            "fixtures/workspace",
        ])
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8_lossy(&output.stdout), json(&kept) + "\n");
}
