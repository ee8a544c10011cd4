//! The CI lint gate on the real binary: every machine format validated against
//! its specification (SARIF schema, cargo's message types, the workflow
//! command syntax), configuration and its errors, inline suppressions,
//! baselines, `--changed-since`, the cache, and the README's commands.

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn temper_in(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("temper").expect("the temper binary is built for tests");
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE");
    cmd
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

pub(crate) fn run(dir: &Path, args: &[&str]) -> Output {
    temper_in(dir).args(args).output().expect("temper runs")
}

const LIB: &str = r#"pub fn parse(text: &str) -> Result<u16, std::num::ParseIntError> {
    let value: u16 = text.trim().parse().unwrap();
    Ok(value)
}

pub struct Catalog;

impl Catalog {
    pub fn first(&self, items: &[u8]) -> u8 {
        *items.first().expect("not empty")
    }
}
"#;

/// `LIB` plus a stale suppression: an `unused_suppression` finding, whose fix
/// (deleting the comment line) temper always offers.
const STALE: &str = "// temper: allow(arc_from_ptr_read) -- fixed long ago\npub fn clean() {}\n";

/// A one-crate workspace with two `library_unwrap` findings in `src/lib.rs`.
fn sample_crate() -> tempfile::TempDir {
    sample_crate_with(LIB)
}

pub(crate) fn sample_crate_with(lib: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"sample\"\nversion = \"0.3.1\"\nedition = \"2024\"\n",
    )
    .expect("write manifest");
    fs::create_dir(dir.path().join("src")).expect("mkdir");
    fs::write(dir.path().join("src/lib.rs"), lib).expect("write lib");
    dir
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

// ---------------------------------------------------------------- formats

fn sarif_validator() -> jsonschema::Validator {
    let text = fs::read_to_string(root().join("fixtures/gate/sarif-schema-2.1.0.json"))
        .expect("the SARIF schema is shipped");
    // The published 2.1.0 schema has one `pattern` (for `run.language`) with a
    // stray `]` that strict ECMA-262 parsers reject; the schema is shipped
    // verbatim and only that pattern is repaired before compiling it.
    let text = text.replace(r#"{2}]?$"#, r#"{2}?$"#);
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&schema)
        .expect("schema compiles")
}

fn sarif_of(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["check", "--format", "sarif"];
    all.extend_from_slice(args);
    let output = run(dir, &all);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        stderr(&output)
    );
    let log: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(&output)));
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF schema violations: {errors:#?}");
    log
}

fn fingerprints(log: &serde_json::Value) -> Vec<String> {
    log["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            r["partialFingerprints"]["temper/v1"]
                .as_str()
                .expect("fp")
                .to_string()
        })
        .collect()
}

#[test]
fn sarif_is_valid_2_1_0_with_rules_fixes_and_stable_fingerprints() {
    let lib = format!("{LIB}{STALE}");
    let dir = sample_crate_with(&lib);
    let log = sarif_of(dir.path(), &[]);
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "temper");
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    for lint in temper_lints::LINTS {
        assert!(ids.contains(&lint.name), "rule for {}", lint.name);
    }
    assert!(ids.contains(&"unused_suppression"));
    for rule in rules {
        assert!(
            rule["help"]["markdown"]
                .as_str()
                .is_some_and(|m| m.contains("## What it does"))
        );
        assert!(rule["defaultConfiguration"]["level"].is_string());
    }
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 3, "{results:#?}");
    for result in &results[..2] {
        assert_eq!(result["ruleId"], "library_unwrap");
        assert_eq!(result["level"], "warning");
        let index = result["ruleIndex"].as_u64().expect("index") as usize;
        assert_eq!(rules[index]["id"], "library_unwrap");
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "src/lib.rs");
        assert!(location["region"]["startLine"].as_u64().is_some());
    }
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
    assert_eq!(
        results[1]["locations"][0]["physicalLocation"]["region"]["startLine"],
        10
    );
    // Fixes are artifact changes: applying the stale suppression's
    // replacement deletes the comment line.
    let stale = &results[2];
    assert_eq!(stale["ruleId"], "unused_suppression");
    let replacement = &stale["fixes"][0]["artifactChanges"][0]["replacements"][0];
    assert_eq!(replacement["insertedContent"]["text"], "");
    assert_eq!(replacement["deletedRegion"]["startLine"], 13);
    assert_eq!(replacement["deletedRegion"]["endLine"], 14);

    // Unrelated lines inserted above keep every fingerprint.
    let before = fingerprints(&log);
    fs::write(
        dir.path().join("src/lib.rs"),
        format!("//! Docs.\n\nuse std::fmt;\n\n{lib}"),
    )
    .expect("write");
    let after = fingerprints(&sarif_of(dir.path(), &[]));
    assert_eq!(before, after);
    assert_ne!(before[0], before[1]);
    // Editing the finding's own line changes its fingerprint only.
    fs::write(
        dir.path().join("src/lib.rs"),
        lib.replace("text.trim()", "text"),
    )
    .expect("write");
    let edited = fingerprints(&sarif_of(dir.path(), &[]));
    assert_ne!(before[0], edited[0]);
    assert_eq!(before[1..], edited[1..]);
}

#[test]
fn rustc_json_parses_as_cargo_messages_with_spans_and_suggestions() {
    let lib = format!("{LIB}{STALE}");
    let dir = sample_crate_with(&lib);
    let output = run(
        dir.path(),
        &["check", "--format", "rustc-json", "-D", "library_unwrap"],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    let messages: Vec<cargo_metadata::Message> =
        cargo_metadata::Message::parse_stream(text.as_bytes())
            .collect::<Result<_, _>>()
            .expect("every line is a cargo message");
    assert_eq!(messages.len(), 4, "{text}");
    let mut diagnostics = Vec::new();
    for message in &messages[..3] {
        let cargo_metadata::Message::CompilerMessage(message) = message else {
            panic!("expected a compiler message: {message:?}");
        };
        assert_eq!(message.target.name, "sample");
        assert!(
            message.package_id.repr.contains("sample@0.3.1"),
            "{}",
            message.package_id.repr
        );
        diagnostics.push(&message.message);
    }
    let cargo_metadata::Message::BuildFinished(finished) = &messages[3] else {
        panic!("last message is build-finished");
    };
    assert!(!finished.success);

    let first = diagnostics[0];
    assert_eq!(
        first.level,
        cargo_metadata::diagnostic::DiagnosticLevel::Error
    );
    assert_eq!(
        first.code.as_ref().map(|c| c.code.as_str()),
        Some("temper::library_unwrap")
    );
    // Spans agree with the JSON reporter and with the file's text.
    let json: Vec<serde_json::Value> =
        serde_json::from_slice(&run(dir.path(), &["check", "--format", "json"]).stdout)
            .expect("json");
    for (diagnostic, finding) in diagnostics.iter().zip(&json) {
        let primary = diagnostic
            .spans
            .iter()
            .find(|s| s.is_primary)
            .expect("primary span");
        assert_eq!(primary.file_name, "src/lib.rs");
        assert_eq!(
            u64::from(primary.line_start as u32),
            finding["line"].as_u64().expect("line")
        );
        assert_eq!(
            u64::from(primary.column_start as u32),
            finding["column"].as_u64().expect("col")
        );
        assert_eq!(
            u64::from(primary.column_end as u32),
            finding["end_column"].as_u64().expect("col")
        );
        let line = lib.lines().nth(primary.line_start - 1).expect("line");
        assert_eq!(primary.text[0].text, line);
        let highlighted: String = line
            .chars()
            .skip(primary.text[0].highlight_start - 1)
            .take(primary.text[0].highlight_end - primary.text[0].highlight_start)
            .collect();
        assert_eq!(
            highlighted,
            lib[primary.byte_start as usize..primary.byte_end as usize]
        );
        assert_eq!(
            diagnostic.message,
            finding["message"].as_str().expect("message")
        );
        assert!(
            diagnostic
                .rendered
                .as_deref()
                .is_some_and(|r| r.contains(&diagnostic.message))
        );
    }
    assert!(
        first
            .children
            .iter()
            .any(|c| c.level == cargo_metadata::diagnostic::DiagnosticLevel::Help)
    );
    // A fix is a help child whose spans carry the replacement and its
    // applicability, as rustc's suggestions do; applying it removes the
    // stale suppression.
    let stale = diagnostics[2];
    assert_eq!(
        stale.code.as_ref().map(|c| c.code.as_str()),
        Some("temper::unused_suppression")
    );
    let suggestion = stale
        .children
        .iter()
        .flat_map(|c| &c.spans)
        .find(|s| s.suggested_replacement.is_some())
        .expect("a suggestion");
    // The stale comment gives a reason: removing it is not machine-applicable.
    assert_eq!(
        suggestion.suggestion_applicability,
        Some(cargo_metadata::diagnostic::Applicability::MaybeIncorrect)
    );
    let mut fixed = lib.clone();
    fixed.replace_range(
        suggestion.byte_start as usize..suggestion.byte_end as usize,
        suggestion
            .suggested_replacement
            .as_deref()
            .unwrap_or_default(),
    );
    assert_eq!(fixed, format!("{LIB}pub fn clean() {{}}\n"));
}

/// Parses one workflow command, `::name key=value,..::message`, undoing the
/// documented escapes, without regular expressions.
fn parse_annotation(line: &str) -> (String, BTreeMap<String, String>, String) {
    let rest = line.strip_prefix("::").expect("starts with ::");
    let (head, message) = rest.split_once("::").expect("second ::");
    let (name, properties) = head.split_once(' ').unwrap_or((head, ""));
    let unescape = |text: &str| {
        text.replace("%0D", "\r")
            .replace("%0A", "\n")
            .replace("%3A", ":")
            .replace("%2C", ",")
            .replace("%25", "%")
    };
    let mut map = BTreeMap::new();
    for pair in properties.split(',').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').expect("key=value");
        // Escaped values cannot contain the separators.
        assert!(!value.contains(':') && !value.contains(','), "{line}");
        map.insert(key.to_string(), unescape(value));
    }
    assert!(!message.contains('\n') && !message.contains('\r'));
    (name.to_string(), map, unescape(message))
}

#[test]
fn github_annotations_follow_the_workflow_command_syntax() {
    let dir = sample_crate();
    let output = run(
        dir.path(),
        &["check", "--format", "github", "-D", "library_unwrap"],
    );
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let annotations: Vec<_> = text
        .lines()
        .filter(|l| l.starts_with("::"))
        .map(parse_annotation)
        .collect();
    assert_eq!(annotations.len(), 2, "{text}");
    let (name, properties, message) = &annotations[0];
    assert_eq!(name, "error");
    assert_eq!(properties["file"], "src/lib.rs");
    assert_eq!(properties["line"], "2");
    assert_eq!(properties["endLine"], "2");
    let column = LIB
        .lines()
        .nth(1)
        .and_then(|l| l.find("unwrap"))
        .expect("col")
        + 1;
    assert_eq!(properties["col"], column.to_string());
    assert_eq!(properties["title"], "temper::library_unwrap");
    assert!(properties.contains_key("endColumn"));
    assert!(message.contains("\nhelp: "), "{message}");
    // Warnings are `::warning`.
    let output = run(dir.path(), &["check", "--format", "github"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stdout(&output)
            .lines()
            .filter(|l| l.starts_with("::"))
            .all(|l| l.starts_with("::warning "))
    );
}

#[test]
fn statistics_count_findings_and_fixes_per_lint() {
    let dir = sample_crate_with(&format!("{LIB}{STALE}"));
    let output = run(dir.path(), &["check", "--statistics"]);
    let text = stdout(&output);
    let line = text.lines().next().expect("a line");
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words[..3], ["2", "library_unwrap", "warn"], "{text}");
    assert_eq!(
        text.lines()
            .nth(1)
            .map(|l| l.split_whitespace().collect::<Vec<_>>()),
        // Its only fix removes a suppression with a reason: unsafe.
        Some(vec![
            "1",
            "unused_suppression",
            "warn",
            "0",
            "fixable",
            "(1",
            "more",
            "with",
            "--unsafe-fixes)"
        ]),
        "{text}"
    );
    let output = run(dir.path(), &["check", "--statistics", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(rows[0]["lint"], "library_unwrap");
    assert_eq!(rows[0]["count"], 2);
    assert_eq!(rows[1]["lint"], "unused_suppression");
    assert_eq!(rows[1]["fixable"], 0);
    assert_eq!(rows[1]["unsafe_fixable"], 1);
}

// ---------------------------------------------------------- configuration

#[test]
fn temper_toml_sets_levels_and_excludes_and_flags_override_it() {
    let dir = sample_crate();
    fs::write(
        dir.path().join("temper.toml"),
        "[lints]\nlibrary_unwrap = \"deny\"\n",
    )
    .expect("write");
    assert_eq!(run(dir.path(), &["check"]).status.code(), Some(1));
    // Checking from elsewhere finds the configuration above the path.
    let parent = dir.path().parent().expect("parent");
    let name = dir
        .path()
        .file_name()
        .expect("name")
        .to_string_lossy()
        .to_string();
    assert_eq!(run(parent, &["check", &name]).status.code(), Some(1));
    assert_eq!(
        run(dir.path(), &["check", "-W", "library_unwrap"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run(
            dir.path(),
            &["check", "-A", "library_unwrap", "--format", "json"]
        )
        .stdout,
        b"[]\n"
    );

    fs::write(
        dir.path().join("temper.toml"),
        "exclude = [\"src/lib.rs\"]\n[lints]\nlibrary_unwrap = \"deny\"\n",
    )
    .expect("write");
    let output = run(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn workspace_metadata_configures_like_temper_toml() {
    let dir = sample_crate();
    let manifest = dir.path().join("Cargo.toml");
    let mut text = fs::read_to_string(&manifest).expect("read");
    text.push_str(
        "\n[workspace]\n\n[workspace.metadata.temper]\nlints = { library_unwrap = \"deny\" }\n",
    );
    fs::write(&manifest, text).expect("write");
    assert_eq!(run(dir.path(), &["check"]).status.code(), Some(1));
}

#[test]
fn bad_configuration_is_an_error_pointing_at_the_line() {
    let dir = sample_crate();
    for (config, needle) in [
        (
            "[lints]\nlibrary_unwarp = \"deny\"\n",
            "unknown lint `library_unwarp`",
        ),
        (
            "[lints]\nlibrary_unwrap = \"loud\"\n",
            "invalid level `loud`",
        ),
        (
            "[library_unwrap]\nallow-lock-result = true\n",
            "unknown field `allow-lock-result`",
        ),
        ("colour = true\n", "unknown field `colour`"),
        (
            "[library_unwrap]\nallow-lock-results = \"yes\"\n",
            "invalid type",
        ),
    ] {
        fs::write(dir.path().join("temper.toml"), config).expect("write");
        let output = run(dir.path(), &["check"]);
        assert_eq!(output.status.code(), Some(2), "{config}");
        let err = stderr(&output);
        assert!(err.contains(needle), "{config}: {err}");
        assert!(err.contains("temper.toml:"), "{err}");
        // The offending line is shown.
        let line = config.lines().last().expect("line");
        assert!(
            err.contains(line.split(" = ").next().expect("key")),
            "{err}"
        );
    }
}

// ----------------------------------------------------------- suppressions

#[test]
fn inline_suppressions_and_unused_ones() {
    let dir = sample_crate();
    let lib = dir.path().join("src/lib.rs");
    let text = LIB
        .replace(
            "    let value: u16",
            "    // temper: allow(library_unwrap) -- validated by the caller\n    let value: u16",
        )
        .replace(
            "*items.first().expect(\"not empty\")",
            "*items.first().expect(\"not empty\") // temper: allow(library_unwrap, arc_from_ptr_read)",
        )
        .replace("pub struct Catalog;", "// temper: allow(library_unwrap)\npub struct Catalog;");
    fs::write(&lib, &text).expect("write");
    let output = run(dir.path(), &["check", "--format", "json"]);
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("json");
    let summary: Vec<(String, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["lint"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("unused_suppression".to_string(), 7),
            ("unused_suppression".to_string(), 12)
        ],
        "{findings:#?}"
    );
    assert!(
        findings[1]["message"]
            .as_str()
            .is_some_and(|m| m.contains("arc_from_ptr_read"))
    );
    // `-D unused_suppression` makes stale suppressions fail the build.
    assert_eq!(
        run(dir.path(), &["check", "-D", "unused_suppression"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn add_suppressions_is_idempotent_and_silences_the_check() {
    let dir = sample_crate();
    let lib = dir.path().join("src/lib.rs");
    let output = run(dir.path(), &["check", "--add-suppressions"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("added 2 suppression comments in 1 file"),
        "{}",
        stderr(&output)
    );
    let once = fs::read_to_string(&lib).expect("read");
    assert!(
        once.contains("    // temper: allow(library_unwrap) -- "),
        "{once}"
    );
    assert!(
        once.contains("        // temper: allow(library_unwrap) -- "),
        "{once}"
    );
    let output = run(dir.path(), &["check", "--add-suppressions"]);
    assert!(
        stderr(&output).contains("added 0 suppression comments"),
        "{}",
        stderr(&output)
    );
    assert_eq!(fs::read_to_string(&lib).expect("read"), once);
    let output = run(dir.path(), &["check", "-D", "warnings"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("no problems found"));
}

// ---------------------------------------------------------------- baseline

#[test]
fn baseline_survives_unrelated_edits_and_reports_only_new_findings() {
    let dir = sample_crate();
    let lib = dir.path().join("src/lib.rs");
    let output = run(
        dir.path(),
        &["check", "--write-baseline", "temper-baseline.json"],
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let baseline: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(dir.path().join("temper-baseline.json")).expect("read"),
    )
    .expect("json");
    let entries = baseline["findings"].as_array().expect("findings");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["item"], "impl Catalog::first");
    assert_eq!(entries[0]["source"], "*items.first().expect(\"not empty\")");
    assert_eq!(entries[1]["item"], "parse");
    assert!(entries.iter().all(|e| e.get("line").is_none()));

    // Lines inserted above, and the whole file re-indented: still known.
    let edited = format!(
        "//! A crate.\n\nuse std::fmt as _;\n\n{}",
        LIB.replace("    ", "  ")
    );
    fs::write(&lib, &edited).expect("write");
    let args = [
        "check",
        "--baseline",
        "temper-baseline.json",
        "-D",
        "warnings",
    ];
    let output = run(dir.path(), &args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(stderr(&output).contains("2 findings matched the baseline"));

    // A new finding fails; only it is reported.
    let with_new = format!("{edited}\npub fn third(x: Option<u8>) -> u8 {{\n    x.unwrap()\n}}\n");
    fs::write(&lib, &with_new).expect("write");
    let output = run(
        dir.path(),
        &[
            "check",
            "--baseline",
            "temper-baseline.json",
            "-D",
            "warnings",
            "--format",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["line"], 19);

    // Fixing a finding makes its entry stale: a note, not a failure.
    let fixed = edited
        .replace(".expect(\"not empty\")", ".copied().unwrap_or_default()")
        .replace("*items.first()", "items.first()");
    fs::write(&lib, &fixed).expect("write");
    let output = run(dir.path(), &args);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let err = stderr(&output);
    assert!(err.contains("1 baseline entry no longer match"), "{err}");
    assert!(
        err.contains("stale baseline entry: library_unwrap at src/lib.rs in `impl Catalog::first`"),
        "{err}"
    );
}

// ----------------------------------------------------------- changed-since

fn git(dir: &Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(status.status.success(), "git {args:?}: {}", stderr(&status));
}

#[test]
fn changed_since_reports_only_changed_lines_and_untracked_files() {
    let dir = sample_crate();
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "start"]);
    let output = run(
        dir.path(),
        &["check", "--changed-since", "HEAD", "--format", "json"],
    );
    assert_eq!(output.stdout, b"[]\n", "{}", stderr(&output));

    // Change the line of the second finding and add an untracked module.
    let lib = dir.path().join("src/lib.rs");
    let text = LIB.replace("expect(\"not empty\")", "expect(\"never empty\")") + "pub mod extra;\n";
    fs::write(&lib, text).expect("write");
    fs::write(
        dir.path().join("src/extra.rs"),
        "pub fn f(x: Option<u8>) -> u8 { x.unwrap() }\n",
    )
    .expect("write");
    let output = run(
        dir.path(),
        &["check", "--changed-since", "HEAD", "--format", "json"],
    );
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).expect("json");
    let at: Vec<(String, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        at,
        [
            ("src/extra.rs".to_string(), 1),
            ("src/lib.rs".to_string(), 10)
        ],
        "{findings:#?}"
    );

    let output = run(dir.path(), &["check", "--changed-since", "no-such-rev"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no-such-rev"));
}

// ------------------------------------------------------------------- cache

#[test]
fn cache_serves_unchanged_files_and_misses_on_changes() {
    let dir = sample_crate();
    let first = run(dir.path(), &["check", "--format", "json"]);
    let cache = dir.path().join(".temper-cache/check-v1.json");
    assert!(cache.is_file(), "cache written");
    let cached = fs::read_to_string(&cache).expect("read");
    let second = run(dir.path(), &["check", "--format", "json"]);
    assert_eq!(first.stdout, second.stdout);
    assert_eq!(
        fs::read_to_string(&cache).expect("read"),
        cached,
        "a hit writes nothing"
    );

    // The cache stores findings before levels: a level change needs no miss
    // and still applies.
    let denied = run(dir.path(), &["check", "-D", "library_unwrap"]);
    assert_eq!(denied.status.code(), Some(1));

    // A changed file is analysed again. (It mentions `unwrap`, in test
    // code: a file without any lint's needle is not parsed at all, so it
    // would neither read nor write the cache.)
    fs::write(
        dir.path().join("src/lib.rs"),
        "pub fn ok() {}\n#[cfg(test)]\nfn t() { Some(1).unwrap(); }\n",
    )
    .expect("write");
    let third = run(dir.path(), &["check", "--format", "json"]);
    assert_eq!(third.stdout, b"[]\n");
    assert_ne!(fs::read_to_string(&cache).expect("read"), cached);

    // A configuration change that changes analysis misses the cache.
    fs::write(
        dir.path().join("src/lib.rs"),
        "pub fn f(x: Option<u8>) -> u8 { x.frobnicate() }\n",
    )
    .expect("write");
    let plain = run(dir.path(), &["check", "--format", "json"]);
    assert_eq!(plain.stdout, b"[]\n");
    fs::write(
        dir.path().join("temper.toml"),
        "[library_unwrap]\nextra-methods = [\"frobnicate\"]\n",
    )
    .expect("write");
    let configured = run(dir.path(), &["check", "--format", "json"]);
    let findings: Vec<serde_json::Value> =
        serde_json::from_slice(&configured.stdout).expect("json");
    assert_eq!(findings.len(), 1, "{}", stdout(&configured));
    assert_eq!(findings[0]["lint"], "library_unwrap");
    assert!(dir.path().join(".temper-cache/check-v1.json").is_file());

    // --no-cache neither reads nor writes.
    fs::remove_dir_all(dir.path().join(".temper-cache")).expect("rm");
    let output = run(dir.path(), &["check", "--no-cache"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(!dir.path().join(".temper-cache").exists());
}

// ------------------------------------------------------------------ README

/// The fenced blocks of the README section, by info string.
pub(crate) fn readme_blocks() -> Vec<(String, String)> {
    let text = fs::read_to_string(root().join("README.md")).expect("README");
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(info) = line.strip_prefix("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => current = Some((info.to_string(), String::new())),
            }
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    blocks
}

fn temper_words(command: &str) -> Vec<String> {
    command
        .split_whitespace()
        .skip(1)
        .map(str::to_string)
        .collect()
}

#[test]
fn readme_commands_work_as_shown() {
    let blocks = readme_blocks();
    let dir = sample_crate();

    // The workflow's temper steps, run in order as the shell would.
    let workflow = &blocks
        .iter()
        .find(|(info, body)| info == "yaml" && body.contains("upload-sarif"))
        .expect("workflow")
        .1;
    let steps: Vec<&str> = workflow
        .lines()
        .filter_map(|l| l.trim().strip_prefix("run: "))
        .filter(|c| c.starts_with("temper "))
        .collect();
    assert_eq!(steps.len(), 2, "{workflow}");
    let output = temper_in(dir.path())
        .args(temper_words(steps[0]))
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stdout(&output)
            .lines()
            .any(|l| l.starts_with("::warning file=src/lib.rs,"))
    );
    // `temper check --format sarif > temper.sarif || test $? -eq 1`
    let (command, redirect) = steps[1].split_once(" > ").expect("redirect");
    assert_eq!(redirect, "temper.sarif || test $? -eq 1");
    let output = temper_in(dir.path())
        .args(temper_words(command))
        .arg("-D")
        .arg("warnings")
        .output()
        .expect("runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "denied findings keep the step going"
    );
    let log: serde_json::Value = serde_json::from_slice(&output.stdout).expect("SARIF");
    assert!(sarif_validator().is_valid(&log));
    assert!(workflow.contains("sarif_file: temper.sarif"));

    // The baseline commands.
    let sh = &blocks
        .iter()
        .find(|(info, body)| info == "sh" && body.contains("--write-baseline"))
        .expect("sh")
        .1;
    for command in sh.lines().filter(|l| l.starts_with("temper ")) {
        let output = temper_in(dir.path())
            .args(temper_words(command))
            .output()
            .expect("runs");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{command}: {}",
            stderr(&output)
        );
    }

    // The pre-commit entry, with the staged files pre-commit appends.
    let hook = &blocks
        .iter()
        .find(|(_, body)| body.contains("repo: local"))
        .expect("hook")
        .1;
    let entry = hook
        .lines()
        .find_map(|l| l.trim().strip_prefix("entry: "))
        .expect("entry");
    let output = temper_in(dir.path())
        .args(temper_words(entry))
        .arg("src/lib.rs")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("library_unwrap"));
    let shipped = fs::read_to_string(root().join(".pre-commit-hooks.yaml")).expect("hooks file");
    assert!(shipped.contains(&format!("entry: {entry}")));

    // The rust-analyzer setting.
    let settings = &blocks
        .iter()
        .find(|(info, _)| info == "json")
        .expect("json")
        .1;
    let settings: serde_json::Value = serde_json::from_str(settings).expect("settings are JSON");
    let command: Vec<String> = settings["rust-analyzer.check.overrideCommand"]
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_str().expect("string").to_string())
        .collect();
    assert_eq!(command[0], "temper");
    let output = temper_in(dir.path())
        .args(&command[1..])
        .output()
        .expect("runs");
    let messages: Vec<cargo_metadata::Message> =
        cargo_metadata::Message::parse_stream(&output.stdout[..])
            .collect::<Result<_, _>>()
            .expect("cargo messages");
    assert!(
        matches!(messages.last(), Some(cargo_metadata::Message::BuildFinished(f)) if f.success)
    );
    assert_eq!(json_lines(&stdout(&output)).len(), 3);

    // The configuration example is valid.
    let toml = &blocks
        .iter()
        .find(|(info, _)| info == "toml")
        .expect("toml")
        .1;
    fs::write(dir.path().join("temper.toml"), toml).expect("write");
    let output = run(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}
