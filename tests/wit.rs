//! WIT validator: fixture cases compared byte for byte, garbage inputs, the real world, the CLI.
//!
//! Each directory under `fixtures/wit/cases/` holds `component.wit`, the world a
//! dummy component is built from in the test, an optional `world.wit`, the world
//! it is validated against (default `fixtures/wit/world/extractor.wit`, a frozen
//! copy of `wit/extractor.wit` so the expected reports do not move when the real
//! world does), and `expected.txt`, the rendered report. `TEMPER_BLESS=1`
//! rewrites the expected files; review the diff.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use temper::wit::cli::{self, Format, WitValidateArgs};
use temper::wit::{
    ExpectedWorld, ProblemKind, Severity, Style, WitError, dummy_component, load_world, validate,
    validate_file, validate_named,
};

const CASES: &str = "fixtures/wit/cases";
const DEFAULT_WORLD: &str = "fixtures/wit/world/extractor.wit";

fn blessing() -> bool {
    crate::bless()
}

fn component_from(wit: &Path) -> Vec<u8> {
    let world = load_world(wit, None).unwrap_or_else(|e| panic!("{}: {e:?}", wit.display()));
    dummy_component(&world).unwrap_or_else(|e| panic!("{}: {e:?}", wit.display()))
}

fn case_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(CASES)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn expected_world_of(dir: &Path) -> ExpectedWorld {
    let world = dir.join("world.wit");
    let path = if world.exists() {
        world
    } else {
        PathBuf::from(DEFAULT_WORLD)
    };
    load_world(&path, None).unwrap()
}

fn case_report(dir: &Path) -> temper::wit::ValidationReport {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let component = component_from(&dir.join("component.wit"));
    validate_named(&component, &format!("{name}.wasm"), &expected_world_of(dir)).unwrap()
}

#[test]
fn cases_match_expected_reports() {
    let mut failures = Vec::new();
    for dir in case_dirs() {
        let actual = case_report(&dir).render_human(Style::Plain);
        let expected_path = dir.join("expected.txt");
        if blessing() {
            fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            let diff = similar::TextDiff::from_lines(&expected, &actual)
                .unified_diff()
                .header("expected", "actual")
                .to_string();
            failures.push(format!("{}:\n{diff}", dir.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "reports differ (TEMPER_BLESS=1 rewrites them):\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_case_has_an_expected_report_and_no_orphans() {
    for dir in case_dirs() {
        assert!(dir.join("component.wit").is_file(), "{}", dir.display());
        assert!(dir.join("expected.txt").is_file(), "{}", dir.display());
        for entry in fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name();
            let name = name.to_string_lossy();
            assert!(
                ["component.wit", "world.wit", "expected.txt"].contains(&name.as_ref()),
                "unexpected file {name} in {}",
                dir.display()
            );
        }
    }
}

/// Case names say what they test: clean cases are compatible, the others are not
/// (or, for missing imports, warn), and together they cover every problem kind.
#[test]
fn cases_cover_every_problem_kind() {
    let mut seen = BTreeSet::new();
    for dir in case_dirs() {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let report = case_report(&dir);
        let should_pass = name.ends_with("clean")
            || name.ends_with("compatible") && !name.ends_with("incompatible");
        if should_pass {
            assert!(report.problems.is_empty(), "{name}: {:#?}", report.problems);
        } else if name == "missing-import" {
            assert!(report.is_compatible(), "{name}");
            assert_eq!(report.warning_count(), 1, "{name}");
        } else {
            assert!(!report.is_compatible(), "{name} should be incompatible");
        }
        for problem in &report.problems {
            seen.insert(problem.kind.as_str());
            assert!(
                problem.location.is_some(),
                "{name}: {problem:?} has no location"
            );
            assert!(
                !problem.message.ends_with('.'),
                "{name}: {}",
                problem.message
            );
        }
    }
    let all = [
        ProblemKind::MissingExport,
        ProblemKind::MissingImport,
        ProblemKind::UnexpectedImport,
        ProblemKind::VersionMismatch,
        ProblemKind::MissingFunction,
        ProblemKind::ParamCountMismatch,
        ProblemKind::ParamNameMismatch,
        ProblemKind::ParamTypeMismatch,
        ProblemKind::ResultMismatch,
        ProblemKind::MissingType,
        ProblemKind::TypeMismatch,
    ];
    for kind in all {
        assert!(
            seen.contains(kind.as_str()),
            "no case produces {}",
            kind.as_str()
        );
    }
}

#[test]
fn issue_example_path_to_first_difference() {
    let report = case_report(Path::new("fixtures/wit/cases/record-field-type"));
    let problem = &report.problems[0];
    assert_eq!(problem.kind, ProblemKind::TypeMismatch);
    assert_eq!(problem.path.as_deref(), Some("extracted-content.links"));
    assert_eq!(problem.expected.as_deref(), Some("list<link>"));
    assert_eq!(problem.found.as_deref(), Some("list<string>"));
    let location = problem.location.as_ref().unwrap();
    assert_eq!(location.file, DEFAULT_WORLD);
    let source = fs::read_to_string(DEFAULT_WORLD).unwrap();
    assert_eq!(
        &source[location.offset..location.offset + location.length],
        "links"
    );
}

#[test]
fn version_mismatch_points_at_the_package_line() {
    let report = case_report(Path::new("fixtures/wit/cases/version-incompatible"));
    assert_eq!(report.problems.len(), 1, "{:#?}", report.problems);
    let problem = &report.problems[0];
    assert_eq!(problem.kind, ProblemKind::VersionMismatch);
    assert_eq!(problem.expected.as_deref(), Some("0.1.0"));
    assert_eq!(problem.found.as_deref(), Some("0.2.0"));
    let location = problem.location.as_ref().unwrap();
    assert_eq!((location.line, location.column), (1, 1));
}

#[test]
fn json_report_is_structured() {
    let report = case_report(Path::new("fixtures/wit/cases/param-name"));
    let json: serde_json::Value = serde_json::from_str(&report.render_json()).unwrap();
    assert_eq!(json["compatible"], false);
    assert_eq!(json["world"], "temper:extractor/extractor@0.1.0");
    assert_eq!(json["errors"], 1);
    let problem = &json["problems"][0];
    assert_eq!(problem["kind"], "param-name-mismatch");
    assert_eq!(problem["severity"], "error");
    assert_eq!(problem["item"], "temper:extractor/extract@0.1.0");
    assert_eq!(problem["expected"], "url");
    assert_eq!(problem["found"], "uri");
    assert_eq!(problem["location"]["file"], DEFAULT_WORLD);
    assert!(problem["location"]["line"].as_u64().unwrap() > 1);
}

#[test]
fn real_world_dummy_component_validates_clean() {
    let world = load_world(Path::new("wit"), None).unwrap();
    assert_eq!(world.name(), "temper:extractor/extractor@0.1.0");
    let component = dummy_component(&world).unwrap();
    let report = validate(&component, &world).unwrap();
    assert!(
        report.problems.is_empty(),
        "{}",
        report.render_human(Style::Plain)
    );
    assert!(report.is_compatible());
}

/// The pool's tests build the real guest component into `target/guests/` (or
/// `$CARGO_TARGET_DIR/guests/`); validate any found there.
#[test]
fn built_guests_validate_clean_when_present() {
    let world = load_world(Path::new("wit"), None).unwrap();
    let mut dirs = vec![PathBuf::from("target/guests")];
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        dirs.push(PathBuf::from(dir).join("guests"));
    }
    for dir in dirs {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "wasm") {
                let report = validate_file(&path, &world).unwrap();
                assert!(
                    report.is_compatible(),
                    "{}",
                    report.render_human(Style::Plain)
                );
            }
        }
    }
}

// ---- garbage input ----

fn world() -> ExpectedWorld {
    load_world(Path::new(DEFAULT_WORLD), None).unwrap()
}

/// A small deterministic generator: the test must not depend on a seed that changes.
fn pseudo_random_bytes(len: usize, mut state: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

#[test]
fn empty_input() {
    let err = validate_named(&[], "empty.wasm", &world()).unwrap_err();
    assert!(matches!(err, WitError::Empty { .. }), "{err:?}");
    assert_eq!(err.to_string(), "component `empty.wasm` is empty");
}

#[test]
fn random_bytes() {
    for seed in 1..50 {
        let bytes = pseudo_random_bytes(1024, seed);
        let err = validate_named(&bytes, "random.wasm", &world()).unwrap_err();
        assert!(matches!(err, WitError::NotWasm { .. }), "{err:?}");
        assert!(err.to_string().contains("random.wasm"));
    }
}

#[test]
fn random_bytes_after_a_component_header() {
    for seed in 1..50 {
        let mut bytes = b"\0asm\x0d\0\x01\0".to_vec();
        bytes.extend(pseudo_random_bytes(512, seed));
        let err = validate_named(&bytes, "noise.wasm", &world()).unwrap_err();
        assert!(
            matches!(err, WitError::Malformed { .. } | WitError::Truncated { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("noise.wasm"));
    }
}

/// Every prefix of a component is an input error, except prefixes that end on a
/// section boundary: those are smaller valid components, and they must not pass
/// as the whole one unless only trailing custom sections were cut.
#[test]
fn every_truncation_of_a_component_is_handled() {
    let world = world();
    let component = component_from(Path::new(DEFAULT_WORLD));
    let mut truncated = 0;
    for len in 0..component.len() {
        match validate_named(&component[..len], "cut.wasm", &world) {
            Err(WitError::Truncated { .. }) => truncated += 1,
            Err(WitError::Empty { .. } | WitError::NotWasm { .. } | WitError::Malformed { .. }) => {
            }
            Err(err) => panic!("prefix of {len} bytes: {err:?}"),
            Ok(_) => {}
        }
    }
    assert!(
        truncated > component.len() * 9 / 10,
        "{truncated} of {} prefixes reported as truncated",
        component.len()
    );
    let half = &component[..component.len() / 2];
    let err = validate_named(half, "half.wasm", &world).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("component `half.wasm` is truncated"),
        "{err}"
    );
}

#[test]
fn core_module_is_named_as_such() {
    // The smallest core module: magic and version 1, no sections.
    let err = validate_named(b"\0asm\x01\0\0\0", "core.wasm", &world()).unwrap_err();
    assert!(matches!(err, WitError::CoreModule { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "`core.wasm` is a core WebAssembly module, not a component"
    );
}

#[test]
fn text_files_are_recognised() {
    let cases = [
        ("notes.txt", "hello, this is not wasm\n", "compiled `.wasm`"),
        (
            "guest.wat",
            "(component\n  (core module)\n)\n",
            "wasm-tools parse",
        ),
        ("world.wit", "package a:b;\nworld w {}\n", "--wit"),
    ];
    for (name, text, hint) in cases {
        let err = validate_named(text.as_bytes(), name, &world()).unwrap_err();
        let WitError::TextFile { hint: got, .. } = &err else {
            panic!("{name}: {err:?}");
        };
        assert!(got.contains(hint), "{name}: {got}");
        assert!(err.to_string().contains(name));
    }
}

#[test]
fn files_are_named_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.wasm");
    fs::write(&empty, b"").unwrap();
    let err = validate_file(&empty, &world()).unwrap_err();
    assert!(err.to_string().contains(&empty.display().to_string()));

    let missing = dir.path().join("missing.wasm");
    let err = validate_file(&missing, &world()).unwrap_err();
    assert!(matches!(err, WitError::Read { .. }), "{err:?}");
    assert!(err.to_string().contains("missing.wasm"));
}

#[test]
fn oversized_file_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.wasm");
    // A sparse file: the size is what matters, and no disk is used.
    let file = fs::File::create(&path).unwrap();
    file.set_len(temper::wit::MAX_COMPONENT_BYTES + 1).unwrap();
    let err = validate_file(&path, &world()).unwrap_err();
    assert!(matches!(err, WitError::TooLarge { .. }), "{err:?}");
}

#[test]
fn wit_package_binary_is_not_a_component() {
    let world = world();
    let package = wit_component::encode(
        world.resolve(),
        world.resolve().worlds[world.world_id()].package.unwrap(),
    )
    .unwrap();
    let err = validate_named(&package, "package.wasm", &world).unwrap_err();
    assert!(matches!(err, WitError::WitPackage { .. }), "{err:?}");
}

// ---- WIT loading ----

#[test]
fn wit_errors() {
    let err = load_world(Path::new("fixtures/wit/no-such-dir"), None).unwrap_err();
    assert!(matches!(err, WitError::WitNotFound { .. }), "{err:?}");

    let err = load_world(Path::new(DEFAULT_WORLD), Some("nope")).unwrap_err();
    let WitError::UnknownWorld { available, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(available, &["extractor"]);

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.wit");
    fs::write(&bad, "package a:b;\nworld w { export nope; }\n").unwrap();
    let err = load_world(&bad, None).unwrap_err();
    assert!(matches!(err, WitError::WitInvalid { .. }), "{err:?}");
    assert!(err.to_string().contains("bad.wit"), "{err}");

    let two = dir.path().join("two.wit");
    fs::write(&two, "package a:b;\nworld one {}\nworld two {}\n").unwrap();
    let err = load_world(&two, None).unwrap_err();
    assert!(matches!(err, WitError::AmbiguousWorld { .. }), "{err:?}");
    assert_eq!(load_world(&two, Some("two")).unwrap().name(), "a:b/two");
}

// ---- CLI ----

struct Cli {
    code: u8,
    out: String,
    err: String,
}

fn run_cli(component: &Path, wit: &str, world: Option<&str>, format: Format) -> Cli {
    let args = WitValidateArgs {
        component: component.to_path_buf(),
        wit: PathBuf::from(wit),
        world: world.map(str::to_owned),
        format,
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli::run_validate_with(&args, Style::Plain, &mut out, &mut err);
    Cli {
        code,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    }
}

#[test]
fn cli_exit_codes_and_formats() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.wasm");
    fs::write(&good, component_from(Path::new("wit"))).unwrap();
    let bad = dir.path().join("bad.wasm");
    fs::write(
        &bad,
        component_from(Path::new("fixtures/wit/cases/param-count/component.wit")),
    )
    .unwrap();
    let core = dir.path().join("core.wasm");
    fs::write(&core, b"\0asm\x01\0\0\0").unwrap();

    let run = run_cli(&good, "wit", None, Format::Human);
    assert_eq!(run.code, cli::EXIT_COMPATIBLE, "{}{}", run.out, run.err);
    assert!(run.out.starts_with("ok: component"), "{}", run.out);

    let run = run_cli(&bad, "wit", Some("extractor"), Format::Human);
    assert_eq!(run.code, cli::EXIT_INCOMPATIBLE);
    assert!(run.out.contains("wit::param-count-mismatch"), "{}", run.out);
    assert!(run.out.contains("wit/extractor.wit"), "{}", run.out);

    let run = run_cli(&bad, "wit", None, Format::Json);
    assert_eq!(run.code, cli::EXIT_INCOMPATIBLE);
    let json: serde_json::Value = serde_json::from_str(&run.out).unwrap();
    assert_eq!(json["problems"][0]["kind"], "param-count-mismatch");

    let run = run_cli(&core, "wit", None, Format::Human);
    assert_eq!(run.code, cli::EXIT_UNUSABLE);
    assert!(run.out.is_empty());
    assert!(run.err.contains("core WebAssembly module"), "{}", run.err);

    let run = run_cli(&core, "wit", None, Format::Json);
    assert_eq!(run.code, cli::EXIT_UNUSABLE);
    let json: serde_json::Value = serde_json::from_str(&run.out).unwrap();
    assert_eq!(json["error"]["kind"], "core-module");

    let run = run_cli(&good, "wit", Some("nope"), Format::Human);
    assert_eq!(run.code, cli::EXIT_UNUSABLE);
    assert!(run.err.contains("no world `nope`"), "{}", run.err);

    let run = run_cli(&good, "fixtures/wit/no-such-dir", None, Format::Human);
    assert_eq!(run.code, cli::EXIT_UNUSABLE);
    assert!(run.err.contains("does not exist"), "{}", run.err);
}

#[test]
fn cli_arguments_parse() {
    use clap::Parser;
    #[derive(Parser)]
    struct Test {
        #[command(flatten)]
        args: WitValidateArgs,
    }
    let parsed = Test::try_parse_from(["validate", "guest.wasm"])
        .unwrap()
        .args;
    assert_eq!(parsed.wit, PathBuf::from("wit"));
    assert_eq!(parsed.world, None);
    assert_eq!(parsed.format, Format::Human);
    let parsed = Test::try_parse_from([
        "validate", "g.wasm", "--wit", "w", "--world", "x", "--format", "json",
    ])
    .unwrap()
    .args;
    assert_eq!(parsed.wit, PathBuf::from("w"));
    assert_eq!(parsed.world.as_deref(), Some("x"));
    assert_eq!(parsed.format, Format::Json);
    assert!(Test::try_parse_from(["validate", "g.wasm", "--format", "xml"]).is_err());
}

#[test]
fn severity_of_missing_import_is_warning() {
    let report = case_report(Path::new("fixtures/wit/cases/missing-import"));
    assert_eq!(report.problems[0].severity, Severity::Warning);
    assert!(report.summary().starts_with("ok: "), "{}", report.summary());
}

#[test]
fn world_and_report_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<ExpectedWorld>();
    assert_send_sync::<temper::wit::ValidationReport>();
    assert_send_sync::<WitError>();
}
