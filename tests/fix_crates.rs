//! Sample crates written like real pool code are fixed with
//! `temper fix --unsafe-fixes --verify` in a temporary copy and must then
//! build and pass their own tests: a rewrite that does not compile fails here.

use assert_cmd::Command;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One target directory for every sample crate, so tokio and friends are built
/// once per machine rather than once per test.
fn shared_target() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fix-crates")
}

/// Copies a fixture directory, leaving out build output.
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create copy dir");
    for entry in fs::read_dir(from).expect("read fixture dir").flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        if path.is_dir() {
            copy_dir(&path, &to.join(&name));
        } else {
            fs::copy(&path, to.join(&name)).expect("copy fixture file");
        }
    }
}

fn show(output: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Cargo in a sample crate, with its committed lockfile (`--locked`): every
/// run builds against the same dependency versions.
fn cargo(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO"))
        .args(args)
        .arg("--locked")
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", shared_target())
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs")
}

/// Copies `fixtures/fix-crates/<name>`, checks it builds as written, fixes it
/// with every fix temper has, and returns the copy's directory (kept alive by
/// the returned guard) after proving the fixed crate builds and passes its
/// tests and that no finding with a fix is left.
pub fn fix_and_build(name: &str) -> (tempfile::TempDir, PathBuf) {
    fix_and_build_as(name, None)
}

/// [`fix_and_build`] with the copy's `edition` line set to `edition`.
fn fix_and_build_as(name: &str, edition: Option<&str>) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = temp.path().join(name);
    copy_dir(&root().join("fixtures/fix-crates").join(name), &dir);
    if let Some(edition) = edition {
        let manifest = dir.join("Cargo.toml");
        let text = fs::read_to_string(&manifest).expect("read manifest");
        let edited: Vec<String> = text
            .lines()
            .map(|line| {
                if line.starts_with("edition = ") {
                    format!("edition = \"{edition}\"")
                } else {
                    line.to_string()
                }
            })
            .collect();
        assert!(text.contains("\nedition = "), "no edition line to set");
        fs::write(&manifest, edited.join("\n") + "\n").expect("write manifest");
    }

    let before = cargo(&dir, &["check", "--all-targets", "--quiet"]);
    assert!(
        before.status.success(),
        "{name} must compile before fixing\n{}",
        show(&before)
    );

    let fix = Command::cargo_bin("temper")
        .expect("temper binary")
        .args(["fix", "--unsafe-fixes", "--verify", "."])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .env("CARGO_TARGET_DIR", shared_target())
        .output()
        .expect("temper fix runs");
    assert!(
        matches!(fix.status.code(), Some(0 | 1)),
        "temper fix failed\n{}",
        show(&fix)
    );
    // `--verify` reverts what breaks the build, so the build below could not
    // catch a bad rewrite on its own: nothing may have been reverted.
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&fix.stdout),
        String::from_utf8_lossy(&fix.stderr)
    );
    assert!(
        !report.contains("reverted by --verify") && !report.contains("every file was restored"),
        "--verify reverted fixes: a rewrite did not compile\n{}",
        show(&fix)
    );

    let check = cargo(&dir, &["check", "--all-targets", "--quiet"]);
    assert!(
        check.status.success(),
        "{name} must compile after fixing\n{}\n{}",
        show(&fix),
        show(&check)
    );
    let test = cargo(&dir, &["test", "--quiet"]);
    assert!(
        test.status.success(),
        "{name}'s tests must pass after fixing\n{}\n{}",
        show(&fix),
        show(&test)
    );

    let after = Command::cargo_bin("temper")
        .expect("temper binary")
        .args(["check", "--format", "json", "--plan-fixes", "."])
        .current_dir(&dir)
        .output()
        .expect("temper check runs");
    assert!(
        matches!(after.status.code(), Some(0 | 1)),
        "temper check failed after fixing\n{}",
        show(&after)
    );
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&after.stdout)
        .unwrap_or_else(|e| panic!("temper check's JSON does not parse ({e})\n{}", show(&after)));
    let fixable: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| {
            f["fix"]["applicability"]
                .as_str()
                .is_some_and(|a| a != "display-only")
        })
        .collect();
    assert!(
        fixable.is_empty(),
        "findings with a fix remain after fixing: {fixable:#?}\n{}",
        show(&fix)
    );
    (temp, dir)
}

#[test]
fn drop_pool_is_fixed_and_still_builds() {
    let (_guard, dir) = fix_and_build("drop-pool");
    let read = |file: &str| fs::read_to_string(dir.join(file)).expect("fixed file");

    // No cleanup: the spawned block became `return_instance`, awaited, and
    // `drop` spawns only when a runtime is running.
    let lease = read("src/lease.rs");
    assert!(
        lease.contains("pub async fn return_instance(&mut self) {"),
        "{lease}"
    );
    assert!(
        lease.contains("if let Ok(handle) = tokio::runtime::Handle::try_current() {"),
        "{lease}"
    );
    assert!(
        lease.contains(
            "tracing::warn!(\"`PooledInstance` dropped without `return_instance().await`"
        ),
        "{lease}"
    );

    // An unguarded `close`: a new flag that `close` sets and `drop` checks,
    // added to every literal of the type, in every file.
    let conn = read("src/conn.rs");
    assert!(
        conn.contains("pub(crate) cleaned_up: std::sync::atomic::AtomicBool,"),
        "{conn}"
    );
    assert!(
        conn.contains("self.cleaned_up.store(true, std::sync::atomic::Ordering::Release);"),
        "{conn}"
    );
    assert!(
        conn.contains("if self.cleaned_up.load(std::sync::atomic::Ordering::Acquire) {"),
        "{conn}"
    );
    assert_eq!(
        conn.matches("cleaned_up: std::sync::atomic::AtomicBool::new(false)")
            .count(),
        2,
        "{conn}"
    );
    let pool = read("src/pool.rs");
    assert!(
        pool.contains("cleaned_up: std::sync::atomic::AtomicBool::new(false),"),
        "{pool}"
    );

    // A tuple struct: the guard is a new last field, passed by every
    // constructor, here and in `pool.rs`, and ignored by its patterns.
    let ticket = read("src/ticket.rs");
    assert!(
        ticket.contains("pub struct Ticket(pub(crate) Arc<InstancePool>, pub(crate) u32, pub(crate) std::sync::atomic::AtomicBool);"),
        "{ticket}"
    );
    assert!(
        ticket.contains("let Ticket(_, slot, _) = self;"),
        "{ticket}"
    );
    assert!(
        ticket.contains("pub async fn release_slot(&self) {\n        self.2.store(true, std::sync::atomic::Ordering::Release);"),
        "{ticket}"
    );
    assert!(
        ticket.contains(
            "Ticket(Arc::clone(&self.0), slot, std::sync::atomic::AtomicBool::new(false))"
        ),
        "{ticket}"
    );
    assert!(
        pool.contains("crate::ticket::Ticket(Arc::clone(self), slot, std::sync::atomic::AtomicBool::new(false))"),
        "{pool}"
    );

    // A runtime built to `block_on`: the work is awaited in the new cleanup,
    // and `drop` neither builds a runtime nor blocks.
    let snapshot = read("src/snapshot.rs");
    assert!(
        snapshot.contains("        let idle = self.pool.idle().await;\n        tracing::info!(idle, \"snapshot taken\");\n    }"),
        "{snapshot}"
    );
    assert!(!snapshot.contains("block_on"), "{snapshot}");
    assert!(
        !snapshot.contains("Builder::new_current_thread"),
        "{snapshot}"
    );

    // A spawn through the crate's wrapper in another file: the wrapper is
    // still called, only when a runtime is running.
    let watch = read("src/watch.rs");
    assert!(
        watch.contains("if tokio::runtime::Handle::try_current().is_ok() {\n            self.notify(async move {"),
        "{watch}"
    );

    // The new cleanup is callable and does the work: a test written against the
    // fixed API passes too.
    let test = "\n#[cfg(test)]\nmod awaited_cleanup {\n    use crate::pool::InstancePool;\n\n    #[tokio::test]\n    async fn return_instance_hands_the_instance_back_before_drop() {\n        let pool = InstancePool::new(1);\n        let mut lease = pool.checkout().await.expect(\"an idle instance\");\n        lease.return_instance().await;\n        assert_eq!(pool.idle().await, 1);\n        drop(lease);\n        tokio::task::yield_now().await;\n        assert_eq!(pool.idle().await, 1);\n    }\n}\n";
    fs::write(dir.join("src/lease.rs"), format!("{lease}{test}")).expect("write test");
    let run = cargo(&dir, &["test", "--quiet", "awaited_cleanup"]);
    assert!(
        run.status.success(),
        "the fixed API does not work\n{}",
        show(&run)
    );
}

#[test]
fn unwrap_pool_is_fixed_and_still_builds() {
    let (_guard, dir) = fix_and_build("unwrap-pool");
    let read = |file: &str| fs::read_to_string(dir.join(file)).expect("read fixed file");

    // anyhow: `.context(msg)?` keeps the `expect` message, `?` for standard
    // errors, and the import is added once per module that needs it.
    let config = read("src/config.rs");
    assert!(
        config.contains("use anyhow::{Result, bail};\nuse anyhow::Context as _;\n"),
        "{config}"
    );
    assert_eq!(
        config.matches("use anyhow::Context as _;").count(),
        2,
        "{config}"
    );
    assert!(
        config.contains(".context(\"max_instances is set\")?;"),
        "{config}"
    );
    assert!(
        config.contains("let max_instances = max.parse::<usize>()?;"),
        "{config}"
    );
    assert!(
        config.contains(
            "std::fs::read_to_string(path).context(format!(\"reading {}\", path.display()))?;"
        ),
        "{config}"
    );
    assert!(config.contains("checked_div(3)?.max(1)"), "{config}");
    // A function without a fallible return type becomes fallible with the
    // crate's error type (anyhow here), and its caller in test code keeps
    // the panic with `.unwrap()`.
    assert!(
        config.contains("pub fn fallback() -> anyhow::Result<PoolConfig> {\n        PoolConfig::parse(\"# fallback\\nmax_instances = 4\\n\").context("),
        "{config}"
    );
    assert!(
        config.contains("let mut config = PoolConfig::fallback().unwrap();"),
        "{config}"
    );
    // Test code is not library code.
    assert!(
        config.contains("let config = PoolConfig::parse(TEXT).unwrap();"),
        "{config}"
    );

    // The crate's own error type: `?` through its `From` impls; a poisoned
    // lock is recovered (an unsafe fix that says what it changes).
    let metrics = read("src/metrics.rs");
    assert!(
        metrics.contains("let micros = text.trim().parse::<u64>()?;"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "self.samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("out.flush()?;"), "{metrics}");
    // An `Option` in a function returning the crate's error, which converts
    // from `io::Error`: the message travels as one (unsafe: temper picked
    // the conversion).
    assert!(
        metrics
            .contains(".copied().ok_or_else(|| std::io::Error::other(\"at least one sample\"))?;"),
        "{metrics}"
    );

    // Async code: `?` after `.await`, `.context` on a chain broken over lines,
    // and nothing inside a spawned `async` block.
    let pool = read("src/pool.rs");
    assert!(
        pool.contains("let permit = self.permits.acquire().await?;"),
        "{pool}"
    );
    assert!(
        pool.contains(".pop()\n            .context(\"a permit guarantees an idle instance\")?;"),
        "{pool}"
    );
    assert!(
        pool.contains("let instance = pool.checkout().await.unwrap();"),
        "{pool}"
    );
    assert!(!pool.contains("use anyhow::Context as _;"), "{pool}");
}

#[test]
fn arc_pool_is_fixed_and_still_builds() {
    let (_guard, dir) = fix_and_build("arc-pool");
    let read = |file: &str| fs::read_to_string(dir.join(file)).expect("read fixed file");

    // The receivers borrow the `Arc` the catalog already lives in, and the
    // copies are gone with the `unsafe` blocks that made them.
    let catalog = read("src/catalog.rs");
    assert!(
        catalog.contains("pub fn handle(self: &Arc<Self>) -> CatalogHandle {"),
        "{catalog}"
    );
    assert!(catalog.contains("            // SAFETY: the catalog outlives every worker that holds a handle.\n            inner: Arc::downgrade(self),\n"), "{catalog}");
    assert!(catalog.contains("pub(crate) fn share(self: &Arc<Self>) -> Arc<Catalog> {\n        Arc::clone(self)\n    }"), "{catalog}");
    assert!(!catalog.contains("ptr::read("), "{catalog}");

    // A free function takes `&Arc<Catalog>`; its caller in another file lends
    // the `Arc` instead of the value behind it, the others already did.
    let worker = read("src/worker.rs");
    assert!(worker.contains("pub(crate) fn watch(catalog: &Arc<Catalog>) -> Weak<Catalog> {\n    Arc::downgrade(catalog)\n}"), "{worker}");
    assert!(
        worker.contains("let watcher = watch(&catalog);"),
        "{worker}"
    );
    assert!(worker.contains("let next = catalog.handle();"), "{worker}");
    let registry = read("src/registry.rs");
    assert!(
        registry.contains("let watcher = worker::watch(&self.catalog);"),
        "{registry}"
    );
    assert!(
        registry.contains("let handle = self.catalog.handle();"),
        "{registry}"
    );
    // The textbook case across two files: the constructor takes the `Arc`,
    // and each `&self` method that hands its `self` along takes one too.
    let ticket = read("src/ticket.rs");
    assert!(
        ticket.contains("pub(crate) fn new(slots: &Arc<Slots>) -> Ticket {"),
        "{ticket}"
    );
    assert!(ticket.contains("slots: Arc::downgrade(slots),"), "{ticket}");
    let slots = read("src/slots.rs");
    assert!(
        slots.contains("pub(crate) fn ticket(self: &Arc<Self>) -> Ticket {"),
        "{slots}"
    );
    assert!(
        slots.contains("pub(crate) fn reserve(self: &Arc<Self>) -> Option<Ticket> {"),
        "{slots}"
    );

    // Call sites in integration tests already hold an `Arc`: untouched.
    let tests = read("tests/workers.rs");
    assert!(tests.contains("let handle = catalog.handle();"), "{tests}");
}

#[test]
fn migrate_chain_is_fixed_and_still_builds() {
    let (_guard, dir) = fix_and_build("migrate-chain");
    let read = |file: &str| fs::read_to_string(dir.join(file)).expect("read fixed file");

    // The crate has no error type and no anyhow: a small `UnexpectedError`
    // and its extension trait are added to the crate root.
    let lib = read("src/lib.rs");
    assert!(lib.contains("pub struct UnexpectedError(String);"), "{lib}");
    assert!(lib.contains("pub(crate) trait OrUnexpected<T> {"), "{lib}");
    // A unit test calling a function that became fallible keeps its panic.
    assert!(
        lib.contains("crate::parse::parse_port(\" 8080 \").unwrap()"),
        "{lib}"
    );

    // Three levels of callers across two files: `parse_port` <-
    // `parse_endpoint` <- `Registry::add` <- `Registry::load` (public).
    let parse = read("src/parse.rs");
    assert!(parse.contains("use crate::OrUnexpected;"), "{parse}");
    assert!(
        parse.contains("pub(crate) fn parse_port(text: &str) -> Result<u16, crate::UnexpectedError> {\n    text.trim().parse().or_unexpected(\"a port number\")\n}"),
        "{parse}"
    );
    assert!(
        parse.contains("return Ok((\"localhost\".to_string(), parse_port(port)?));"),
        "{parse}"
    );
    let registry = read("src/registry.rs");
    assert!(
        registry
            .contains("pub fn add(&mut self, line: &str) -> Result<(), crate::UnexpectedError> {"),
        "{registry}"
    );
    assert!(registry.contains("registry.add(line)?;"), "{registry}");
    // A caller returning `io::Result` takes the new error through one impl
    // the crate root gets.
    let net = read("src/net.rs");
    assert!(
        net.contains("out.push(crate::parse::parse_endpoint(line)?);"),
        "{net}"
    );
    assert!(
        lib.contains("impl From<crate::UnexpectedError> for std::io::Error {\n    fn from(error: crate::UnexpectedError) -> Self {\n        std::io::Error::other(error)\n    }\n}"),
        "{lib}"
    );
    // Doc examples are programs of their own: a call there keeps panicking
    // (hidden lines too), so `cargo test` above still built them; `ignore`
    // and `text` blocks are not compiled and stay as they were.
    assert!(
        registry.contains(
            "/// let registry = Registry::load(\"a.example:80\\n\\nb.example:8080\\n\").unwrap();"
        ),
        "{registry}"
    );
    assert!(
        registry.contains("/// assert_eq!(registry.first_port().unwrap(), 80);"),
        "{registry}"
    );
    assert!(
        registry.contains(
            "/// # let registry = migrate_chain::Registry::load(\"c.example:443\\n\").unwrap();"
        ),
        "{registry}"
    );
    assert!(
        registry.contains("/// let registry = Registry::load(read_config());"),
        "{registry}"
    );
    assert!(
        registry.contains("/// Registry::load(\"a:1\") reads one endpoint"),
        "{registry}"
    );
    assert!(
        registry.contains("pub fn load(text: &str) -> Result<Registry, crate::UnexpectedError> {"),
        "{registry}"
    );
    // A closure collected on the spot returns the error to a fallible
    // collect; `for_each` becomes a `for` loop, its `return` a `continue`.
    assert!(
        registry.contains(".map(|p| -> Result<_, std::num::ParseIntError> { Ok(p.trim().parse::<u16>()?) })\n            .collect::<Result<Vec<_>, std::num::ParseIntError>>()?;"),
        "{registry}"
    );
    assert!(
        registry.contains("for p in list.split(',') {\n            if p.trim().is_empty() {\n                continue;\n            }\n            sum += p.trim().parse::<u32>()?;\n        }"),
        "{registry}"
    );
    // A caller with its own error type that converts from `io::Error` gets
    // `?` and a `From<UnexpectedError>` that goes through `io::Error`.
    let net = read("src/net.rs");
    assert!(
        net.contains("Ok(crate::parse::parse_endpoint(line)?)"),
        "{net}"
    );
    assert!(
        net.contains("impl From<crate::UnexpectedError> for NetError {\n    fn from(error: crate::UnexpectedError) -> Self {\n        std::io::Error::other(error).into()\n    }\n}"),
        "{net}"
    );
    // One whose error type has no `From<io::Error>` but a constructor from
    // one: the `From<UnexpectedError>` goes through that constructor.
    let wire = read("src/wire.rs");
    assert!(
        wire.contains("Ok(crate::parse::parse_endpoint(body)?)"),
        "{wire}"
    );
    assert!(
        wire.contains("impl From<crate::UnexpectedError> for WireError {\n    fn from(error: crate::UnexpectedError) -> Self {\n        Self::from_io(std::io::Error::other(error))\n    }\n}"),
        "{wire}"
    );
    // The integration test is outside the library: `.unwrap()` there.
    let tests = read("tests/registry.rs");
    assert!(
        tests.contains("Registry::load(\"a.example:80\\n\\n:8080\\n\").unwrap();"),
        "{tests}"
    );
    // A closure handed back by its callee returns the error, the call gets
    // `?`; `Drop::drop` ignores it, the chain ends there.
    assert!(
        registry.contains("self.with_scratch(|buf| -> Result<_, crate::UnexpectedError> {"),
        "{registry}"
    );
    assert!(
        registry.contains("let _ = self.registry.count_ports(&self.pending);"),
        "{registry}"
    );
    assert!(
        tests.contains("assert_eq!(registry.count_ports(\"80, 8080\").unwrap(), 2);"),
        "{tests}"
    );
    // Only `pub` methods are callable from an integration test: the
    // crate-private `Line::first_port` is not a candidate there.
    assert!(
        tests.contains("assert_eq!(registry.first_port().unwrap(), 80);"),
        "{tests}"
    );
    assert!(
        registry.contains("pub fn first_port(&self) -> Result<u16, crate::UnexpectedError> {"),
        "{registry}"
    );
    // `label` is reached only from `Display::fmt`, a trait method whose
    // signature cannot change: it is left, whole, with its `unwrap`.
    assert!(
        parse.contains("host.split('.').next().map(str::to_string).unwrap()"),
        "{parse}"
    );
    let check = Command::cargo_bin("temper")
        .expect("temper binary")
        .args(["check", "--format", "json", "--plan-fixes", "."])
        .current_dir(&dir)
        .output()
        .expect("temper check runs");
    let findings: Vec<serde_json::Value> =
        serde_json::from_slice(&check.stdout).expect("temper check prints JSON");
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let notes = findings[0]["notes"].to_string();
    assert!(notes.contains("`Display::fmt`, a trait method"), "{notes}");
}

/// The same crate in every edition: each fix must emit syntax the crate's
/// edition accepts (the copy is built after fixing), and the fixes are the
/// same in all of them.
#[test]
fn the_editions_crate_is_fixed_and_builds_in_every_edition() {
    let mut fixed: Vec<(String, String)> = Vec::new();
    for edition in ["2015", "2018", "2021", "2024"] {
        let (_guard, dir) = fix_and_build_as("editions", Some(edition));
        let read = |file: &str| fs::read_to_string(dir.join(file)).expect("read fixed file");
        let settings = read("src/settings.rs");
        assert!(
            settings.contains("let number = text.parse::<u64>()?;"),
            "{edition}: {settings}"
        );
        assert!(
            settings
                .contains("self.reads.lock().unwrap_or_else(std::sync::PoisonError::into_inner);"),
            "{edition}: {settings}"
        );
        let registry = read("src/registry.rs");
        assert!(
            registry.contains("pub fn share(self: &Arc<Self>) -> Arc<Registry> {"),
            "{edition}: {registry}"
        );
        fixed.push((edition.to_string(), format!("{settings}{registry}")));
    }
    for (edition, text) in &fixed[1..] {
        assert_eq!(
            text, &fixed[0].1,
            "{edition} was fixed differently from 2015"
        );
    }
}

#[test]
fn error_enum_is_fixed_and_still_builds() {
    let (_guard, dir) = fix_and_build("error-enum");
    let read = |file: &str| fs::read_to_string(dir.join(file)).expect("read fixed file");
    // The crate's `thiserror` enum gets a variant carrying the message, and
    // the extension trait lives beside it (synthesised, formatted).
    let error = read("src/error.rs");
    assert!(
        error.contains("    Empty,\n    /// An `unwrap` or `expect` that used to panic (written by `temper fix`).\n    #[error(\"{0}\")]\n    Unexpected(String),\n}"),
        "{error}"
    );
    assert!(
        error.contains("impl<T> OrUnexpected<T> for Option<T> {\n    fn or_unexpected(self, message: &str) -> std::result::Result<T, Error> {\n        self.ok_or_else(|| Error::Unexpected(message.to_string()))\n    }\n}"),
        "{error}"
    );
    let lib = read("src/lib.rs");
    assert!(
        lib.contains("pub fn port(line: &str) -> Result<u16, crate::error::Error> {"),
        "{lib}"
    );
    assert!(
        lib.contains("port.trim().parse().or_unexpected(\"a port number\")"),
        "{lib}"
    );
    assert!(lib.contains("Ok(port(line)?)"), "{lib}");
}
