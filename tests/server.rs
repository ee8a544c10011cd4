//! `temper server` driven over stdio as an editor drives it, `cargo temper`
//! run through cargo, and Neovim's built-in LSP client fixing a file.

#[path = "support/lsp_client.rs"]
mod lsp_client;

use lsp_client::{Client, apply_edits, uri};
use serde_json::{Value, json};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn temper() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_temper"))
}

/// A copy of `fixtures/server/sample` (a library with an `unwrap` that has a
/// safe fix, and a binary-only module with one that is not library code).
fn sample() -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().expect("tempdir");
    let dir = temp.path().join("sample");
    fs::create_dir_all(dir.join("src")).expect("create sample");
    let from = root().join("fixtures/server/sample");
    fs::copy(from.join("Cargo.toml"), dir.join("Cargo.toml")).expect("copy manifest");
    for entry in fs::read_dir(from.join("src"))
        .expect("sample sources")
        .flatten()
    {
        fs::copy(entry.path(), dir.join("src").join(entry.file_name())).expect("copy source");
    }
    (temp, dir)
}

fn expected_fixed() -> String {
    fs::read_to_string(root().join("fixtures/server/parse.rs.fixed")).expect("expected text")
}

fn initialize(client: &mut Client, dir: &Path, options: Value) -> Value {
    let id = client.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": uri(dir),
            "capabilities": {
                "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}
            },
            "initializationOptions": options,
        }),
    );
    let response = client.response(id);
    client.notify("initialized", json!({}));
    response
}

fn open(client: &mut Client, path: &Path) -> String {
    let text = fs::read_to_string(path).expect("read file to open");
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri(path), "languageId": "rust", "version": 1, "text": text}}),
    );
    text
}

fn code_actions(client: &mut Client, file: &str, diagnostic: &Value) -> Vec<Value> {
    let id = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": file},
            "range": diagnostic["range"],
            "context": {"diagnostics": [diagnostic]},
        }),
    );
    let response = client.response(id);
    response["result"]
        .as_array()
        .unwrap_or_else(|| panic!("code actions: {response}"))
        .clone()
}

#[test]
fn server_publishes_fixes_and_clears_diagnostics() {
    let (_temp, dir) = sample();
    let parse = dir.join("src/parse.rs");
    let file = uri(&parse);
    let mut client = Client::start(&temper(), &["server"], &dir);
    let init = initialize(&mut client, &dir, Value::Null);
    let capabilities = &init["result"]["capabilities"];
    assert_eq!(capabilities["positionEncoding"], "utf-16", "{init}");
    assert_eq!(capabilities["hoverProvider"], true, "{init}");
    assert_eq!(
        capabilities["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix", "source.fixAll.temper"]),
        "{init}"
    );
    // The file watchers for configuration are registered with the client.
    let (_, registration) = client.wait_for("client/registerCapability", |m| {
        m["method"] == "client/registerCapability"
    });
    let globs = &registration["params"]["registrations"][0]["registerOptions"]["watchers"];
    assert_eq!(globs[0]["globPattern"], "**/temper.toml", "{registration}");
    assert_eq!(globs[1]["globPattern"], "**/Cargo.toml", "{registration}");
    client.send_raw(&Client::frame(
        &json!({"jsonrpc": "2.0", "id": registration["id"], "result": null}),
    ));

    // The workspace check on start publishes the file before it is opened.
    let (_, on_disk) = client.diagnostics(&file, None);
    assert_eq!(on_disk.len(), 1, "{on_disk:#?}");

    let text = open(&mut client, &parse);
    let (_, diagnostics) = client.diagnostics(&file, Some(1));
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    let diagnostic = &diagnostics[0];
    assert_eq!(diagnostic["code"], "library_unwrap");
    assert_eq!(diagnostic["source"], "temper");
    assert_eq!(diagnostic["severity"], 2, "warn is a warning");
    assert_eq!(
        diagnostic["range"],
        json!({"start": {"line": 4, "character": 39}, "end": {"line": 4, "character": 47}})
    );
    assert!(
        diagnostic["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("`unwrap` in library code")),
        "{diagnostic}"
    );
    assert!(
        diagnostic["codeDescription"]["href"]
            .as_str()
            .is_some_and(|href| href.starts_with("file://") && href.ends_with("/library_unwrap.md")),
        "{diagnostic}"
    );

    // Hover over the finding shows `temper explain library_unwrap`.
    let explain = Command::new(temper())
        .args(["explain", "library_unwrap"])
        .output()
        .expect("temper explain runs");
    let id = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": file}, "position": {"line": 4, "character": 42}}),
    );
    let hover = client.response(id);
    assert_eq!(
        hover["result"]["contents"]["value"]
            .as_str()
            .map(str::trim_end),
        Some(String::from_utf8_lossy(&explain.stdout).trim_end()),
        "{hover}"
    );

    let actions = code_actions(&mut client, &file, diagnostic);
    let titles: Vec<&str> = actions.iter().filter_map(|a| a["title"].as_str()).collect();
    assert_eq!(
        titles,
        [
            "propagate with `?` (library_unwrap)",
            "suppress with `// temper: allow(library_unwrap)`",
            "apply 1 safe temper fix",
        ],
        "{actions:#?}"
    );
    assert_eq!(actions[0]["kind"], "quickfix");
    assert_eq!(actions[0]["isPreferred"], true);
    assert_eq!(actions[1]["isPreferred"], false);
    assert_eq!(actions[2]["kind"], "source.fixAll.temper");
    let suppressed = apply_edits(
        &text,
        actions[1]["edit"]["changes"][&file]
            .as_array()
            .expect("edits"),
    );
    assert!(
        suppressed.contains(
            "    // temper: allow(library_unwrap) -- TODO: fix or explain why this is fine\n    let value"
        ),
        "{suppressed}"
    );
    let edits = actions[0]["edit"]["changes"][&file]
        .as_array()
        .expect("the quick fix edits the file")
        .clone();
    let fixed = apply_edits(&text, &edits);
    assert_eq!(fixed, expected_fixed());
    let fix_all = apply_edits(
        &text,
        actions[2]["edit"]["changes"][&file]
            .as_array()
            .expect("edits"),
    );
    assert_eq!(fix_all, expected_fixed());

    // The editor applies the edit and sends it as an incremental change.
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": file, "version": 2},
            "contentChanges": edits.iter().map(|e| json!({"range": e["range"], "text": e["newText"]})).collect::<Vec<_>>(),
        }),
    );
    let (_, diagnostics) = client.diagnostics(&file, Some(2));
    assert_eq!(diagnostics, Vec::<Value>::new());

    // A module only the binary reaches is not library code, open or not.
    let cli = dir.join("src/cli.rs");
    open(&mut client, &cli);
    let (_, diagnostics) = client.diagnostics(&uri(&cli), Some(1));
    assert_eq!(diagnostics, Vec::<Value>::new());

    // A new temper.toml is picked up when the client reports it changed.
    fs::write(
        dir.join("temper.toml"),
        "[lints]\nlibrary_unwrap = \"deny\"\n",
    )
    .expect("write config");
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&dir.join("temper.toml")), "type": 1}]}),
    );
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": file, "version": 3}, "contentChanges": [{"text": text}]}),
    );
    let (_, diagnostics) = client.diagnostics(&file, Some(3));
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert_eq!(diagnostics[0]["severity"], 1, "deny is an error");

    // Two quick changes: whatever was checked meanwhile, the diagnostics of
    // the last version are those of its text.
    let quick = [(4, text.clone()), (5, expected_fixed())]
        .iter()
        .flat_map(|(version, text)| {
            Client::frame(&Client::notification(
                "textDocument/didChange",
                json!({"textDocument": {"uri": file, "version": version}, "contentChanges": [{"text": text}]}),
            ))
        })
        .collect::<Vec<u8>>();
    client.send_raw(&quick);
    let (_, diagnostics) = client.diagnostics(&file, Some(5));
    assert_eq!(diagnostics, Vec::<Value>::new());

    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn server_answers_bad_messages_with_errors_and_keeps_running() {
    let (_temp, dir) = sample();
    let mut client = Client::start(&temper(), &["server"], &dir);
    // Before `initialize`, requests are refused with the protocol's code.
    let early = client.request("textDocument/hover", json!({}));
    assert_eq!(client.response(early)["error"]["code"], -32002);
    initialize(&mut client, &dir, Value::Null);

    client.send_raw(b"Content-Length: 9\r\n\r\n{\"jsonrpc");
    let (_, parse_error) = client.wait_for("a parse error", |m| m.get("error").is_some());
    assert_eq!(parse_error["id"], Value::Null, "{parse_error}");
    assert_eq!(parse_error["error"]["code"], -32700, "{parse_error}");

    let unknown = client.request("temper/frobnicate", json!({}));
    let response = client.response(unknown);
    assert_eq!(response["error"]["code"], -32601, "{response}");
    assert!(
        response["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("temper/frobnicate")),
        "{response}"
    );

    let closed = uri(&dir.join("src/parse.rs"));
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": closed, "version": 2}, "contentChanges": [{"text": "fn x() {}"}]}),
    );
    let (_, log) = client.wait_for("a log message about the unopened document", |m| {
        m["method"] == "window/logMessage"
            && m["params"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("not open"))
    });
    assert_eq!(log["params"]["type"], 2, "a warning: {log}");
    // Nothing was published for it.
    let published =
        |m: &Value| m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == 2;
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": closed}, "position": {"line": 0, "character": 0}}),
    );
    let response = client.response(hover);
    assert_eq!(response["error"]["code"], -32602, "{response}");
    assert!(
        !client.received().iter().any(published),
        "{:#?}",
        client.received()
    );

    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn cancelled_request_is_answered_as_cancelled() {
    let (_temp, dir) = sample();
    let parse = dir.join("src/parse.rs");
    let file = uri(&parse);
    let mut client = Client::start(&temper(), &["server"], &dir);
    // A long debounce keeps the code action waiting for the new version, so
    // the cancellation reaches it while it waits.
    initialize(&mut client, &dir, json!({"debounceMs": 1500}));
    let text = open(&mut client, &parse);
    client.diagnostics(&file, Some(1));

    let change = Client::notification(
        "textDocument/didChange",
        json!({"textDocument": {"uri": file, "version": 2}, "contentChanges": [{"text": text}]}),
    );
    let (id, request) = client.request_message(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": file},
            "range": {"start": {"line": 4, "character": 39}, "end": {"line": 4, "character": 47}},
            "context": {"diagnostics": []},
        }),
    );
    let cancel = Client::notification("$/cancelRequest", json!({"id": id}));
    let batch = [change, request, cancel]
        .iter()
        .flat_map(Client::frame)
        .collect::<Vec<u8>>();
    client.send_raw(&batch);
    let response = client.response(id);
    assert_eq!(response["error"]["code"], -32800, "{response}");
    // The server goes on: the new version still gets its diagnostics.
    let (_, diagnostics) = client.diagnostics(&file, Some(2));
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert_eq!(client.shutdown(), Some(0));
}

#[test]
fn exit_without_shutdown_is_an_error_exit() {
    let (_temp, dir) = sample();
    let mut client = Client::start(&temper(), &["server"], &dir);
    initialize(&mut client, &dir, Value::Null);
    client.notify("exit", Value::Null);
    assert_eq!(client.child.wait().expect("server exits").code(), Some(1));
}

/// `cargo temper check` through cargo itself, with the built binaries on
/// `PATH` as `cargo install` would put them.
#[test]
fn cargo_temper_runs_temper() {
    let (_temp, dir) = sample();
    let bin_dir = temper().parent().expect("binary directory").to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO"))
            .args(args)
            .current_dir(&dir)
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .output()
            .expect("cargo runs")
    };
    let output = run(&["temper", "check"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("src/parse.rs:5:40"), "{stdout}");
    assert!(stdout.contains("0 errors, 1 warning in 1 file"), "{stdout}");

    let output = run(&["temper", "check", "-D", "warnings"]);
    assert_eq!(output.status.code(), Some(1));

    let output = run(&["temper", "fix"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        fs::read_to_string(dir.join("src/parse.rs")).expect("fixed file"),
        expected_fixed()
    );

    // Run directly, there is no extra `temper` argument to drop.
    let direct = Command::new(env!("CARGO_BIN_EXE_cargo-temper"))
        .args(["lints"])
        .output()
        .expect("cargo-temper runs");
    assert_eq!(direct.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&direct.stdout).contains("library_unwrap"));
}

/// Neovim's built-in LSP client (Debian's 0.7, headless) opens the sample's
/// file, waits for temper's diagnostic, applies the preferred code action
/// and writes the buffer. Needs `nvim`; under CI a missing one fails.
#[test]
fn neovim_applies_the_fix_code_action() {
    let nvim = Command::new("nvim").arg("--version").output();
    if !nvim.as_ref().is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os("CI").is_none_or(|ci| ci != "true"),
            "nvim is required under CI (.ci/run installs Debian's neovim)"
        );
        eprintln!("skipped: nvim is not installed (apt-get install neovim)");
        return;
    }
    let (temp, dir) = sample();
    let parse = dir.join("src/parse.rs");
    let log = temp.path().join("nvim.log");
    let output = Command::new("nvim")
        .args(["--headless", "--clean", "-n", "-u", "NONE", "-i", "NONE"])
        .arg("-c")
        .arg(format!(
            "luafile {}",
            root().join("tests/support/nvim_fix.lua").display()
        ))
        .arg(&parse)
        .current_dir(&dir)
        .env("TEMPER_BIN", temper())
        .env("TEMPER_ROOT", &dir)
        .env("TEMPER_LOG", &log)
        .env("HOME", temp.path())
        .env("XDG_STATE_HOME", temp.path())
        .env("XDG_CACHE_HOME", temp.path())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("nvim runs");
    let log = fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        output.status.code(),
        Some(0),
        "nvim failed\n--- log\n{log}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(log.contains("diagnostics: 1 library_unwrap"), "{log}");
    assert!(log.contains("after fix: 0 diagnostics"), "{log}");
    assert_eq!(
        fs::read_to_string(&parse).expect("written file"),
        expected_fixed()
    );
}
