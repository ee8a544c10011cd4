//! A minimal LSP client over a child process's stdio, for the server tests
//! and the latency benchmark: frames JSON-RPC messages, reads them on a
//! thread, and waits for the one a test is after.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

pub struct Client {
    pub child: Child,
    stdin: ChildStdin,
    incoming: Receiver<(Instant, Value)>,
    /// Messages read while waiting for another one.
    backlog: Vec<(Instant, Value)>,
    next_id: i64,
}

/// How long any single wait may take before the test fails: generous, the
/// machine running the tests may be busy.
pub const WAIT: Duration = Duration::from_secs(60);

impl Client {
    pub fn start(program: &Path, args: &[&str], cwd: &Path) -> Client {
        let mut child = Command::new(program)
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("server starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(value) = line.strip_prefix("Content-Length:") {
                        length = value.trim().parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("Content-Length from the server")];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let value: Value = serde_json::from_slice(&body).expect("server sends JSON");
                if sender.send((Instant::now(), value)).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            incoming,
            backlog: Vec::new(),
            next_id: 0,
        }
    }

    pub fn frame(value: &Value) -> Vec<u8> {
        let body = value.to_string();
        format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).expect("write to server");
        self.stdin.flush().expect("flush to server");
    }

    pub fn request_message(&mut self, method: &str, params: Value) -> (i64, Value) {
        self.next_id += 1;
        let id = self.next_id;
        (
            id,
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        )
    }

    pub fn request(&mut self, method: &str, params: Value) -> i64 {
        let (id, message) = self.request_message(method, params);
        self.send_raw(&Client::frame(&message));
        id
    }

    pub fn notification(method: &str, params: Value) -> Value {
        json!({"jsonrpc": "2.0", "method": method, "params": params})
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send_raw(&Client::frame(&Client::notification(method, params)));
    }

    /// The first message (in arrival order) that `wanted` accepts, with when
    /// it arrived; every other message is kept for later waits.
    pub fn wait_for(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> (Instant, Value) {
        if let Some(index) = self.backlog.iter().position(|(_, m)| wanted(m)) {
            return self.backlog.remove(index);
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(left) {
                Ok((at, message)) => {
                    if wanted(&message) {
                        return (at, message);
                    }
                    self.backlog.push((at, message));
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "timed out waiting for {what}; got meanwhile: {:#?}",
                        self.backlog
                    )
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "server closed its output while waiting for {what}; got: {:#?}",
                        self.backlog
                    )
                }
            }
        }
    }

    /// Messages received and not yet taken by a wait.
    pub fn received(&self) -> Vec<Value> {
        self.backlog.iter().map(|(_, m)| m.clone()).collect()
    }

    pub fn response(&mut self, id: i64) -> Value {
        self.wait_for(&format!("the response to request {id}"), |m| {
            m.get("id") == Some(&json!(id)) && m.get("method").is_none()
        })
        .1
    }

    /// The next `publishDiagnostics` for `uri` (for `version`, when given).
    pub fn diagnostics(&mut self, uri: &str, version: Option<i64>) -> (Instant, Vec<Value>) {
        let (at, message) = self.wait_for(&format!("diagnostics for {uri} ({version:?})"), |m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && version.is_none_or(|v| m["params"]["version"] == v)
        });
        let diagnostics = message["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        (at, diagnostics)
    }

    /// Sends `shutdown` and `exit` and returns the exit code.
    pub fn shutdown(mut self) -> Option<i32> {
        let id = self.request("shutdown", Value::Null);
        let response = self.response(id);
        assert_eq!(response["result"], Value::Null, "{response}");
        self.notify("exit", Value::Null);
        drop(self.stdin);
        self.child.wait().expect("server exits").code()
    }
}

/// The `file:` URI of an absolute path (no characters needing escapes in
/// the temporary paths the tests use).
pub fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// Applies LSP text edits (UTF-16 positions; ASCII texts in these tests) to
/// a text.
pub fn apply_edits(text: &str, edits: &[Value]) -> String {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let offset = |position: &Value| {
        let line = position["line"].as_u64().expect("line") as usize;
        let character = position["character"].as_u64().expect("character") as usize;
        starts
            .get(line)
            .map_or(text.len(), |start| start + character)
    };
    let mut edits: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|edit| {
            (
                offset(&edit["range"]["start"]),
                offset(&edit["range"]["end"]),
                edit["newText"].as_str().expect("newText").to_string(),
            )
        })
        .collect();
    edits.sort_by_key(|(start, _, _)| std::cmp::Reverse(*start));
    let mut text = text.to_string();
    for (start, end, new) in edits {
        text.replace_range(start..end, &new);
    }
    text
}
