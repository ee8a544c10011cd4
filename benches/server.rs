//! `temper server` latency and memory, measured as an editor sees them: the
//! time from sending `didChange` on a 5,000-line file to receiving its
//! `publishDiagnostics` (p50, p99), and the server's resident memory with a
//! 300-file workspace checked and open. The workspace is generated in a
//! temporary directory; the server is the `temper` binary of this build,
//! driven over stdio. Results are printed as Markdown and written to
//! `target/bench-server.md`. Benchmarks measure: nothing here asserts on time.
//!
//! Run: `cargo bench --bench server`. Environment:
//!
//! - `TEMPER_BENCH_CHANGES=N`: edits to time (default 300).
//! - `TEMPER_BENCH_FILES=N`: files in the workspace, the large one included
//!   (default 300).
//! - `TEMPER_BENCH_SERVER=PATH`: the `temper` binary to measure instead of
//!   this build's (a release binary while the bench itself runs in the dev
//!   profile: `cargo build --release --bin temper` is much quicker than a
//!   release build of every dev-dependency).

// Shared with tests/server.rs; the bench needs only part of it.
#[allow(dead_code)]
#[path = "../tests/support/lsp_client.rs"]
mod lsp_client;

use lsp_client::{Client, uri};
use serde_json::json;
use std::error::Error;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

type BenchResult<T> = Result<T, Box<dyn Error>>;

/// Lines of the file that is edited.
const BIG_LINES: usize = 5_000;

fn main() -> BenchResult<()> {
    let changes = env_number("TEMPER_BENCH_CHANGES")?.unwrap_or(300);
    let files = env_number("TEMPER_BENCH_FILES")?.unwrap_or(300).max(2);
    let temp = tempfile::tempdir()?;
    let dir = temp.path().join("workspace");
    let big = write_workspace(&dir, files)?;
    let big_text = std::fs::read_to_string(&big)?;
    let big_uri = uri(&big);

    // A relative path is taken from the current directory: the server itself
    // starts in the generated workspace.
    let program = match std::env::var_os("TEMPER_BENCH_SERVER") {
        Some(path) => std::path::absolute(PathBuf::from(path))?,
        None => PathBuf::from(env!("CARGO_BIN_EXE_temper")),
    };
    let mut client = Client::start(&program, &["server"], &dir);
    let id = client.request(
        "initialize",
        json!({"processId": null, "rootUri": uri(&dir), "capabilities": {}}),
    );
    client.response(id);
    client.notify("initialized", json!({}));
    // The workspace check on start publishes every file with findings at
    // once, when it has finished (module 0 has one).
    client.diagnostics(&uri(&dir.join("src/m0.rs")), None);
    let after_start = memory(client.child.id())?;

    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": big_uri, "languageId": "rust", "version": 1, "text": big_text}}),
    );
    let (_, first) = client.diagnostics(&big_uri, Some(1));
    let findings = first.len();

    // Each change inserts a comment line near the top, or removes it again:
    // the whole file is re-checked every time, as after any keystroke.
    let mut latencies: Vec<Duration> = Vec::with_capacity(changes);
    for round in 0..changes {
        let version = i64::try_from(round)? + 2;
        let change = if round.is_multiple_of(2) {
            json!({"range": {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 0}}, "text": "// edited\n"})
        } else {
            json!({"range": {"start": {"line": 3, "character": 0}, "end": {"line": 4, "character": 0}}, "text": ""})
        };
        let sent = std::time::Instant::now();
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": big_uri, "version": version}, "contentChanges": [change]}),
        );
        let (arrived, diagnostics) = client.diagnostics(&big_uri, Some(version));
        if diagnostics.len() != findings {
            return Err(format!(
                "version {version}: {} diagnostics, expected {findings}",
                diagnostics.len()
            )
            .into());
        }
        latencies.push(arrived.duration_since(sent));
    }
    let after_edits = memory(client.child.id())?;
    let exit = client.shutdown();
    if exit != Some(0) {
        return Err(format!("server exited with {exit:?}").into());
    }

    latencies.sort();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[index.min(latencies.len() - 1)]
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut markdown = String::new();
    writeln!(
        markdown,
        "### `temper server` (`cargo bench --bench server`)\n\n\
         {files} files in the workspace; the edited file has {BIG_LINES} lines \
         ({} KiB) and {findings} findings; {changes} edits; a {} build of the server.\n",
        big_text.len() / 1024,
        if program.components().any(|c| c.as_os_str() == "release") {
            "release"
        } else {
            "dev-profile"
        }
    )?;
    writeln!(markdown, "| measure | value |\n| --- | ---: |")?;
    writeln!(
        markdown,
        "| didChange → publishDiagnostics p50 | {:.1} ms |",
        ms(percentile(0.50))
    )?;
    writeln!(
        markdown,
        "| didChange → publishDiagnostics p99 | {:.1} ms |",
        ms(percentile(0.99))
    )?;
    writeln!(
        markdown,
        "| didChange → publishDiagnostics max | {:.1} ms |",
        ms(percentile(1.0))
    )?;
    writeln!(
        markdown,
        "| resident memory after the workspace check | {:.1} MiB |",
        after_start.0 as f64 / 1024.0
    )?;
    writeln!(
        markdown,
        "| resident memory after the edits (peak) | {:.1} MiB ({:.1} MiB) |",
        after_edits.0 as f64 / 1024.0,
        after_edits.1 as f64 / 1024.0
    )?;
    let out_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&out_dir)?;
    let path = out_dir.join("bench-server.md");
    std::fs::write(&path, &markdown)?;
    println!("{markdown}");
    println!("(written to {})", path.display());
    Ok(())
}

fn env_number(name: &str) -> BenchResult<Option<usize>> {
    match std::env::var(name) {
        Ok(value) => Ok(Some(
            value.parse().map_err(|e| format!("{name}={value}: {e}"))?,
        )),
        Err(_) => Ok(None),
    }
}

/// `VmRSS` and `VmHWM` of a process, in KiB (Linux).
fn memory(pid: u32) -> BenchResult<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| -> BenchResult<u64> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .ok_or_else(|| format!("no {name} in /proc/{pid}/status"))?;
        let kib = line
            .split_whitespace()
            .nth(1)
            .ok_or("malformed status line")?;
        Ok(kib.parse()?)
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// A library crate of `files` files: `files - 2` small modules written like
/// pool code (a few with findings) and one module of `BIG_LINES` lines;
/// returns the large file's path.
fn write_workspace(dir: &Path, files: usize) -> BenchResult<PathBuf> {
    std::fs::create_dir_all(dir.join("src"))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"bench-workspace\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )?;
    let mut lib = String::from("//! Generated for the server benchmark.\n\npub mod big;\n");
    for module in 0..files - 2 {
        writeln!(lib, "pub mod m{module};")?;
        std::fs::write(dir.join(format!("src/m{module}.rs")), small_module(module))?;
    }
    std::fs::write(dir.join("src/lib.rs"), lib)?;
    let big = dir.join("src/big.rs");
    std::fs::write(&big, big_module())?;
    Ok(big)
}

fn small_module(module: usize) -> String {
    let mut text = format!("//! Module {module}.\n\nuse std::collections::HashMap;\n\n");
    for function in 0..6 {
        let call = if function == 0 && module.is_multiple_of(3) {
            ".unwrap()"
        } else {
            "?"
        };
        let _ = write!(
            text,
            "/// Looks up entry {function}.\n\
             pub fn lookup_{function}(map: &HashMap<String, u32>, key: &str) -> Option<u32> {{\n    \
                 let value = map.get(key){call};\n    \
                 Some(value + {function})\n\
             }}\n\n"
        );
    }
    text
}

fn big_module() -> String {
    let mut text = String::from("//! A large module.\n\nuse std::collections::HashMap;\n\n");
    let mut function: u32 = 0;
    while text.lines().count() + 7 <= BIG_LINES {
        let body = if function.is_multiple_of(20) {
            "let raw = text.split('=').nth(1).unwrap();"
        } else {
            "let raw = text.split('=').nth(1)?;"
        };
        let _ = write!(
            text,
            "/// Parses field {function}.\n\
             pub fn field_{function}(text: &str, cache: &mut HashMap<u32, u16>) -> Option<u16> {{\n    \
                 {body}\n    \
                 let port: u16 = raw.trim().parse().ok()?;\n    \
                 cache.insert({function}, port);\n    \
                 Some(port)\n\
             }}\n"
        );
        function += 1;
    }
    while text.lines().count() < BIG_LINES {
        text.push('\n');
    }
    text
}
