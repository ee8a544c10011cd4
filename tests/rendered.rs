//! Findings rendered while each file's text is in hand (`RunSettings::render`,
//! what `temper check` does for human and JSON output) read exactly as the
//! ones rendered at the end from the kept texts, snippets and labels
//! included, once the texts are gone.

use assert_cmd::Command;
use std::path::PathBuf;
use temper::check::{self, CheckOutcome, CheckRequest, RunSettings};
use temper::formats::printer::Printer;
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

/// The JSON document as `temper check --format json` prints it, without
/// the final line break.
fn json(outcome: &CheckOutcome) -> String {
    let mut out = Vec::new();
    let mut printer = Printer::new(&mut out, Render::Json, None);
    printer.print(&outcome.findings);
    printer
        .finish(outcome.files_checked)
        .expect("writes to a Vec");
    let mut text = String::from_utf8(out).expect("JSON is UTF-8");
    assert_eq!(text.pop(), Some('\n'), "the document ends its line");
    text
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

/// Packages whose paths sort differently as paths and as text (`a/`,
/// `a-b/`, a package inside another) and a file outside any package.
fn awkward_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for package in ["a", "a-b", "a/inner", "b", "b_c"] {
        let src = dir.path().join(package).join("src");
        std::fs::create_dir_all(&src).expect("mkdir");
        let name = package.replace(['/', '-'], "_");
        std::fs::write(
            dir.path().join(package).join("Cargo.toml"),
            format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
        )
        .expect("manifest");
        std::fs::write(
            src.join("lib.rs"),
            "mod m;\npub fn f(x: Option<u8>) -> u8 {\n    x.unwrap()\n}\npub fn g(x: Option<u8>) -> u8 {\n    x.expect(\"g\")\n}\n",
        )
        .expect("lib.rs");
        std::fs::write(
            src.join("m.rs"),
            "pub fn h(x: Option<u8>) -> u8 {\n    x.unwrap()\n}\n",
        )
        .expect("m.rs");
    }
    std::fs::write(
        dir.path().join("loose.rs"),
        "pub fn k(x: Option<u8>) -> u8 {\n    x.unwrap()\n}\n",
    )
    .expect("loose.rs");
    dir
}

/// Collects what a streamed check hands over, call by call.
#[derive(Default)]
struct Collect(Vec<Vec<temper::report::Reported>>);

impl check::FindingSink for Collect {
    fn file(&mut self, findings: Vec<temper::report::Reported>) {
        self.0.push(findings);
    }
}

/// A streamed check hands each file's findings over once, in exactly the
/// order of the collected and sorted report, whatever order the threads
/// finish the files in.
#[test]
fn streamed_findings_arrive_in_report_order() {
    let tree = awkward_tree();
    let request = CheckRequest {
        paths: vec![tree.path().to_path_buf()],
        ..CheckRequest::default()
    };
    let render = Some(Render::Human(Style::plain()));
    let settings = |stream| RunSettings {
        drop_clean_sources: true,
        prefilter: true,
        describe_crate_fixes: true,
        render,
        stream,
        ..RunSettings::default()
    };
    let collected = check::run_with(&request, &settings(None));
    let sink = std::sync::Arc::new(std::sync::Mutex::new(Collect::default()));
    let streamed = check::run_with(&request, &settings(Some(check::Stream(sink.clone()))));
    assert!(streamed.findings.is_empty(), "nothing held");
    assert_eq!(streamed.files_checked, collected.files_checked);
    let calls = std::mem::take(&mut sink.lock().expect("not poisoned").0);
    assert_eq!(calls.len(), 11, "one call per file with findings");
    for call in &calls {
        assert!(
            call.iter().all(|r| r.path == call[0].path),
            "one file per call"
        );
    }
    let order = |findings: &mut dyn Iterator<Item = &temper::report::Reported>| {
        findings
            .map(|r| format!("{}:{}:{}", r.path, r.start.line, r.start.column))
            .collect::<Vec<_>>()
    };
    let streamed_order = order(&mut calls.iter().flatten());
    assert_eq!(streamed_order, order(&mut collected.findings.iter()));
    assert_eq!(streamed_order.len(), 16);
    let a = streamed_order
        .iter()
        .position(|p| p.contains("/a/src/lib.rs"));
    let a_b = streamed_order
        .iter()
        .position(|p| p.contains("/a-b/src/lib.rs"));
    assert!(a_b < a, "sorted as text, as shown: {streamed_order:#?}");
}

/// The binary's streamed output (human and JSON, `-D warnings`, run from
/// a directory the paths are shown relative to with `../`) is what the
/// collected report prints; an empty baseline takes the collected path.
#[test]
fn streamed_output_matches_the_collected_report() {
    let tree = awkward_tree();
    let sub = tree.path().join("sub");
    std::fs::create_dir(&sub).expect("mkdir");
    let temper = |args: &[&str]| {
        Command::cargo_bin("temper")
            .expect("the temper binary is built for tests")
            .current_dir(&sub)
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .env_remove("CLICOLOR_FORCE")
            .args(args)
            .output()
            .expect("runs")
    };
    let empty = temper(&["check", "--write-baseline", "empty.json", "."]);
    assert!(empty.status.success(), "{empty:?}");
    for format in ["human", "json"] {
        let args = ["check", "--no-cache", "-D", "warnings", "--format", format];
        let streamed = temper(&[&args[..], &["..", "../loose.rs", "../a"]].concat());
        let collected = temper(
            &[
                &args[..],
                &["--baseline", "empty.json", "..", "../loose.rs", "../a"],
            ]
            .concat(),
        );
        assert_eq!(streamed.status.code(), Some(1), "{streamed:?}");
        assert_eq!(collected.status.code(), Some(1));
        assert!(!streamed.stdout.is_empty());
        assert_eq!(
            String::from_utf8_lossy(&streamed.stdout),
            String::from_utf8_lossy(&collected.stdout)
        );
    }
}
