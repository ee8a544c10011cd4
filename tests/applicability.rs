//! Issue 15, "safe means safe": every kind of fix temper emits, with the
//! applicability it must have, pinned on the real binary.
//!
//! The definition (SPEC.md, README): a *safe* fix keeps meaning and comments
//! and compiles; an *unsafe* fix may change behaviour or may not compile
//! without type information; a fix known not to compile is not offered
//! (*display-only*, or no fix with a note). Each row is one kind: a small
//! crate, the finding's lint and line, and the applicability `temper check
//! --format json` reports for it (`none` for no fix).

use crate::gate::{run, stderr, stdout};
use std::fs;

struct Row {
    kind: &'static str,
    /// Extra `[dependencies]` lines (the crate's facts: anyhow, tracing).
    deps: &'static str,
    lib: &'static str,
    lint: &'static str,
    line: u64,
    expected: &'static str,
}

const ROWS: &[Row] = &[
    // ------------------------------------------------ library_unwrap
    Row {
        kind: "`x?` on an Option in a fn returning Option",
        deps: "",
        lib: "pub fn f(v: &[u8]) -> Option<u8> {\n    let x = v.first().unwrap();\n    Some(*x)\n}\n",
        lint: "library_unwrap",
        line: 2,
        expected: "safe",
    },
    Row {
        kind: "`x.ok()?` on a std Result in a fn returning Option",
        deps: "",
        lib: "pub fn f(s: &str) -> Option<u8> {\n    let n = s.parse::<u8>().unwrap();\n    Some(n)\n}\n",
        lint: "library_unwrap",
        line: 2,
        expected: "safe",
    },
    Row {
        kind: "`x.ok()?` on `try_lock` (contention becomes None)",
        deps: "",
        lib: "pub fn f(m: &std::sync::Mutex<u8>) -> Option<u8> {\n    let g = m.try_lock().unwrap();\n    Some(*g)\n}\n",
        lint: "library_unwrap",
        line: 2,
        expected: "unsafe",
    },
    Row {
        kind: "`x?` on a receiver of unknown kind in a fn returning Option",
        deps: "",
        lib: "pub struct T;\nimpl T { pub fn value(&self) -> Option<u8> { None } }\npub fn f(t: &T) -> Option<u8> {\n    let n = t.value().unwrap();\n    Some(n)\n}\n",
        lint: "library_unwrap",
        line: 4,
        expected: "unsafe",
    },
    Row {
        kind: "poisoned lock recovered with `unwrap_or_else(PoisonError::into_inner)`",
        deps: "",
        lib: "pub fn f(m: &std::sync::Mutex<u8>) -> u8 {\n    *m.lock().unwrap()\n}\n",
        lint: "library_unwrap",
        line: 2,
        expected: "unsafe",
    },
    Row {
        kind: "`x?` on an io::Error in a fn returning io::Result",
        deps: "",
        lib: "pub fn f(p: &std::path::Path) -> std::io::Result<String> {\n    let s = std::fs::read_to_string(p).unwrap();\n    Ok(s)\n}\n",
        lint: "library_unwrap",
        line: 2,
        expected: "safe",
    },
    Row {
        kind: "`x?` on a std error in a fn returning Box<dyn Error>",
        deps: "",
        lib: "pub fn f() -> Result<String, Box<dyn std::error::Error>> {\n    let v = std::env::var(\"A\").unwrap();\n    Ok(v)\n}\n",
        lint: "library_unwrap",
        line: 2,
        expected: "safe",
    },
    Row {
        kind: "`.context(..)?` on an Option in a fn returning anyhow::Result",
        deps: "anyhow = \"1\"\n",
        lib: "pub fn f(v: &[u8]) -> anyhow::Result<u8> {\n    let x = v.first().expect(\"not empty\");\n    Ok(*x)\n}\n",
        lint: "library_unwrap",
        line: 2,
        expected: "safe",
    },
    Row {
        kind: "`.context(..)?` where `Result<T>` may be the crate's own alias",
        deps: "anyhow = \"1\"\n",
        lib: "pub type Result<T> = std::result::Result<T, Error>;\n#[derive(Debug)]\npub struct Error;\npub fn f(v: &[u8]) -> Result<u8> {\n    let x = v.first().expect(\"not empty\");\n    Ok(*x)\n}\n",
        lint: "library_unwrap",
        line: 5,
        expected: "unsafe",
    },
    Row {
        kind: "`x?` on a std error into a crate error with a From impl",
        deps: "",
        lib: "#[derive(Debug)]\npub enum MyError { Parse(std::num::ParseIntError) }\nimpl From<std::num::ParseIntError> for MyError {\n    fn from(e: std::num::ParseIntError) -> Self { MyError::Parse(e) }\n}\npub fn f(s: &str) -> Result<u8, MyError> {\n    let n = s.parse::<u8>().unwrap();\n    Ok(n)\n}\n",
        lint: "library_unwrap",
        line: 7,
        expected: "unsafe",
    },
    Row {
        kind: "`x?` on a std error into a crate error with no From at all (cannot compile)",
        deps: "",
        lib: "#[derive(Debug)]\npub enum MyError { Bad }\npub fn f(s: &str) -> Result<u8, MyError> {\n    let n = s.parse::<u8>().unwrap();\n    Ok(n)\n}\n",
        lint: "library_unwrap",
        line: 4,
        expected: "none",
    },
    Row {
        kind: "`x?` on a Result of unknown error into a crate error",
        deps: "",
        lib: "#[derive(Debug)]\npub enum MyError { Bad }\npub struct T;\nimpl T { pub fn get(&self) -> Result<u8, MyError> { Err(MyError::Bad) } }\npub fn f(t: &T) -> Result<u8, MyError> {\n    let n = t.get().unwrap();\n    Ok(n)\n}\n",
        lint: "library_unwrap",
        line: 6,
        expected: "unsafe",
    },
    Row {
        kind: "`.ok_or(\"..\")?` on an Option into an error that converts from &str",
        deps: "",
        lib: "#[derive(Debug)]\npub struct MyError(String);\nimpl From<&str> for MyError {\n    fn from(s: &str) -> Self { MyError(s.to_string()) }\n}\npub fn f(v: &[u8]) -> Result<u8, MyError> {\n    let x = v.first().expect(\"not empty\");\n    Ok(*x)\n}\n",
        lint: "library_unwrap",
        line: 7,
        expected: "safe",
    },
    Row {
        kind: "an Option into an error with no conversion (no error value to give)",
        deps: "",
        lib: "#[derive(Debug)]\npub enum MyError { Bad }\npub fn f(v: &[u8]) -> Result<u8, MyError> {\n    let x = v.first().unwrap();\n    Ok(*x)\n}\n",
        lint: "library_unwrap",
        line: 4,
        expected: "none",
    },
    Row {
        kind: "fallible-signature migration (signature and callers change)",
        deps: "",
        lib: "pub fn f(v: &[u8]) -> u8 {\n    *v.first().unwrap()\n}\n",
        lint: "library_unwrap",
        line: 2,
        expected: "unsafe",
    },
    Row {
        kind: "inside a tracing macro (its expansion is another crate's)",
        deps: "tracing = \"0.1\"\n",
        lib: "pub fn f(v: &[u8]) -> Option<u8> {\n    tracing::info!(\"{}\", v.first().unwrap());\n    Some(0)\n}\n",
        lint: "library_unwrap",
        line: 2,
        expected: "unsafe",
    },
    Row {
        kind: "a comment inside the replaced text",
        deps: "",
        lib: "pub fn f(v: &[u8]) -> Option<u8> {\n    let x = v.first().expect(/* reviewed */ \"first\");\n    Some(*x)\n}\n",
        lint: "library_unwrap",
        line: 2,
        expected: "unsafe",
    },
    Row {
        kind: "no `?` inside an unknown macro",
        deps: "",
        lib: "macro_rules! twice { ($e:expr) => { ($e, $e) }; }\npub fn f(v: &[u8]) -> Option<(u8, u8)> {\n    Some(twice!(*v.first().unwrap()))\n}\n",
        lint: "library_unwrap",
        line: 3,
        expected: "none",
    },
    Row {
        kind: "`let Some(v) = x else { return; }` for a value `Drop::drop` uses",
        deps: "",
        lib: "pub struct C { conn: Option<String>, idle: Vec<String> }\nimpl Drop for C {\n    fn drop(&mut self) {\n        self.idle.push(self.conn.take().unwrap());\n    }\n}\n",
        lint: "library_unwrap",
        line: 4,
        expected: "unsafe",
    },
    Row {
        kind: "`?` on a crate method every definition of which returns a converting `Result`",
        deps: "",
        lib: "#[derive(Debug)]\npub struct UserError;\n#[derive(Debug)]\npub struct ConnError;\nimpl From<UserError> for ConnError { fn from(_: UserError) -> Self { ConnError } }\npub struct Codec;\nimpl Codec { pub fn buffer(&mut self) -> Result<(), UserError> { Ok(()) } }\npub trait Sink { fn codec(&mut self) -> &mut Codec; }\npub fn f<T: Sink>(t: &mut T) -> Result<(), ConnError> {\n    let c = t.codec();\n    c.buffer().expect(\"fits\");\n    Ok(())\n}\n",
        lint: "library_unwrap",
        line: 11,
        expected: "unsafe",
    },
    Row {
        kind: "a closure whose callee hands its result back, migrated with its function",
        deps: "",
        lib: "pub fn with<F: FnOnce(&str) -> R, R>(f: F) -> R {\n    f(\"7\")\n}\npub fn g() -> u8 {\n    with(|s| s.parse::<u8>().unwrap())\n}\n",
        lint: "library_unwrap",
        line: 5,
        expected: "unsafe",
    },
    // ---------------------------------- drop_without_async_cleanup
    Row {
        kind: "spawn in Drop moved to an async cleanup with a guarded fallback",
        deps: "tokio = \"1\"\n",
        lib: "pub struct Conn;\nimpl Conn { pub async fn close(&mut self) {} }\npub struct Lease { conn: Option<Conn> }\nimpl Drop for Lease {\n    fn drop(&mut self) {\n        if let Some(mut conn) = self.conn.take() {\n            tokio::spawn(async move { conn.close().await });\n        }\n    }\n}\n",
        lint: "drop_without_async_cleanup",
        line: 7,
        expected: "unsafe",
    },
    Row {
        kind: "block_on in Drop",
        deps: "futures = \"0.3\"\n",
        lib: "pub struct Conn;\nimpl Conn { pub async fn close(&mut self) {} }\npub struct Lease { conn: Option<Conn> }\nimpl Lease { pub async fn release(&mut self) { if let Some(mut c) = self.conn.take() { c.close().await } } }\nimpl Drop for Lease {\n    fn drop(&mut self) {\n        if let Some(mut conn) = self.conn.take() {\n            futures::executor::block_on(conn.close());\n        }\n    }\n}\n",
        lint: "drop_without_async_cleanup",
        line: 8,
        expected: "unsafe",
    },
    // --------------------------------------------- arc_from_ptr_read
    Row {
        kind: "arc: every caller holds an Arc, crate-private",
        deps: "",
        lib: "use std::sync::Arc;\nstruct Cache { v: Vec<u8> }\nimpl Cache {\n    fn shared(&self) -> Arc<Cache> {\n        unsafe { Arc::new(std::ptr::read(self)) }\n    }\n}\npub fn g() -> usize {\n    let c = Arc::new(Cache { v: Vec::new() });\n    c.shared().v.len()\n}\n",
        lint: "arc_from_ptr_read",
        line: 5,
        expected: "safe",
    },
    Row {
        kind: "arc: a public function (callers outside the crate)",
        deps: "",
        lib: "use std::sync::Arc;\npub struct Cache { v: Vec<u8> }\nimpl Cache {\n    pub fn shared(&self) -> Arc<Cache> {\n        unsafe { Arc::new(std::ptr::read(self)) }\n    }\n}\n",
        lint: "arc_from_ptr_read",
        line: 5,
        expected: "unsafe",
    },
    Row {
        kind: "arc: a caller passes a plain value (cannot compile)",
        deps: "",
        lib: "use std::sync::Arc;\nstruct Cache { v: Vec<u8> }\nimpl Cache {\n    fn shared(&self) -> Arc<Cache> {\n        unsafe { Arc::new(std::ptr::read(self)) }\n    }\n}\npub fn g() -> usize {\n    let c = Cache { v: Vec::new() };\n    c.shared().v.len()\n}\n",
        lint: "arc_from_ptr_read",
        line: 5,
        expected: "display-only",
    },
    Row {
        kind: "arc: a caller temper cannot see into",
        deps: "",
        lib: "use std::sync::Arc;\nstruct Cache { v: Vec<u8> }\nimpl Cache {\n    fn shared(&self) -> Arc<Cache> {\n        unsafe { Arc::new(std::ptr::read(self)) }\n    }\n}\npub fn g(make: impl Fn() -> Arc<Cache>) -> usize {\n    let c = make();\n    c.shared().v.len()\n}\n",
        lint: "arc_from_ptr_read",
        line: 5,
        expected: "unsafe",
    },
    // -------------------------------------------- unused_suppression
    Row {
        kind: "remove an unused suppression without a reason",
        deps: "",
        lib: "// temper: allow(library_unwrap)\npub fn f() -> u8 {\n    1\n}\n",
        lint: "unused_suppression",
        line: 1,
        expected: "safe",
    },
    Row {
        kind: "remove an unused suppression with a reason",
        deps: "",
        lib: "// temper: allow(library_unwrap) -- reviewed: cfg-dependent\npub fn f() -> u8 {\n    1\n}\n",
        lint: "unused_suppression",
        line: 1,
        expected: "unsafe",
    },
    Row {
        kind: "remove one unused name of a suppression without a reason",
        deps: "",
        lib: "// temper: allow(library_unwrap, arc_from_ptr_read)\npub fn f(x: Option<u8>) -> u8 {\n    x.unwrap()\n}\n",
        lint: "unused_suppression",
        line: 1,
        expected: "safe",
    },
    Row {
        kind: "remove one unused name of a suppression with a reason",
        deps: "",
        lib: "// temper: allow(library_unwrap, arc_from_ptr_read) -- reviewed: startup only\npub fn f(x: Option<u8>) -> u8 {\n    x.unwrap()\n}\n",
        lint: "unused_suppression",
        line: 1,
        expected: "unsafe",
    },
    Row {
        kind: "correct a misspelt lint name (the suppression starts to apply)",
        deps: "",
        lib: "// temper: allow(library_unwarp)\npub fn f(x: Option<u8>) -> u8 {\n    x.unwrap()\n}\n",
        lint: "unused_suppression",
        line: 1,
        expected: "unsafe",
    },
];

#[test]
fn every_fix_kind_has_its_pinned_applicability() {
    let mut wrong = Vec::new();
    for row in ROWS {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(
            dir.path().join("Cargo.toml"),
            format!(
                "[package]\nname = \"sample\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{}",
                row.deps
            ),
        )
        .expect("manifest");
        fs::create_dir(dir.path().join("src")).expect("src");
        fs::write(dir.path().join("src/lib.rs"), row.lib).expect("lib.rs");
        let output = run(
            dir.path(),
            &[
                "check",
                "--no-cache",
                "--format",
                "json",
                "--plan-fixes",
                "-W",
                "warnings",
            ],
        );
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{}: {}",
            row.kind,
            stderr(&output)
        );
        let findings: Vec<serde_json::Value> = serde_json::from_str(&stdout(&output))
            .unwrap_or_else(|e| panic!("{}: {e}: {}", row.kind, stdout(&output)));
        let found: Vec<&serde_json::Value> = findings
            .iter()
            .filter(|f| f["lint"] == row.lint && f["line"] == row.line)
            .collect();
        let [finding] = found.as_slice() else {
            wrong.push(format!(
                "{}: expected one {} finding at line {}, found {}: {findings:#?}",
                row.kind,
                row.lint,
                row.line,
                found.len()
            ));
            continue;
        };
        let actual = finding["fix"]["applicability"].as_str().unwrap_or("none");
        if actual != row.expected {
            wrong.push(format!(
                "{}: expected {}, got {actual}\n  fix: {}\n  notes: {}",
                row.kind, row.expected, finding["fix"], finding["notes"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

/// The function's error type is named like a crate type but imported from
/// elsewhere (`use std::io::Error;`): `?` compiles there, so the unsafe fix
/// stays offered.
#[test]
fn an_imported_error_name_is_not_taken_for_the_crates_own_type() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, text).expect("write");
    };
    write(
        "Cargo.toml",
        "[package]\nname = \"sample\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write("src/lib.rs", "pub mod error;\npub mod load;\n");
    write(
        "src/error.rs",
        "#[derive(Debug)]\npub enum Error {\n    Bad,\n}\n",
    );
    write(
        "src/load.rs",
        "use std::io::{\n    Error,\n};\npub fn f(p: &std::path::Path) -> Result<String, Error> {\n    let s = std::fs::read_to_string(p).unwrap();\n    Ok(s)\n}\n",
    );
    let output = run(
        dir.path(),
        &["check", "--no-cache", "--format", "json", "--plan-fixes"],
    );
    let findings: Vec<serde_json::Value> =
        serde_json::from_str(&stdout(&output)).expect("JSON findings");
    let [finding] = findings.as_slice() else {
        panic!("{findings:#?}");
    };
    assert_eq!(finding["fix"]["applicability"], "unsafe", "{finding:#?}");
}
