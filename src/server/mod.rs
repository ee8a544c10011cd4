//! `temper server`: a language server over stdio that runs beside
//! rust-analyzer — temper's findings as diagnostics while typing, fixes and
//! suppressions as code actions, lint documentation on hover.
//!
//! One thread owns the state and answers messages; open documents are
//! checked on short-lived threads from their in-memory text with
//! `check::recheck` (the classification, configuration, levels, suppressions
//! and baseline of `temper check`), the workspace on another with
//! `check::run_with`. A result for a document version that is no longer
//! current is dropped; changes that arrive while a check runs are checked
//! together once it ends.

// `lsp_types::Uri` caches parse results in a `Cell`, which does not take part
// in its `Hash` and `Eq`: using it as a map key is sound (rust-analyzer
// allows this lint for the same type).
#![allow(clippy::mutable_key_type)]

mod actions;
mod analysis;
mod convert;
mod text;
mod transport;

use crate::check::CheckedFile;
use crate::report::Reported;
use analysis::{DocumentJob, DocumentResult, Settings, Workspace};
use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{self as notif, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProviderCapability,
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, FileSystemWatcher, GlobPattern, HoverParams,
    HoverProviderCapability, InitializeParams, InitializeResult, LogMessageParams, MessageType,
    PositionEncodingKind, PublishDiagnosticsParams, Registration, RegistrationParams, SaveOptions,
    ServerCapabilities, ServerInfo, ShowMessageParams, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions, Uri,
};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};
use text::Encoding;
use transport::{Incoming, Outgoing};

/// `temper server` options.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServerArgs {
    /// Read configuration from this `temper.toml` (or Cargo.toml) instead of
    /// the nearest one above the workspace folder.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Show only findings that are not in this baseline (as `check --baseline`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Wait this long after the last change before checking a document again
    /// (changes made while a check runs are always checked together).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub debounce_ms: u64,
    /// Accepted because many editors pass it; stdio is the only transport.
    #[arg(long, hide = true)]
    pub stdio: bool,
}

/// Options a client may pass in `initializationOptions`, overriding the
/// command line.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitOptions {
    config: Option<PathBuf>,
    baseline: Option<PathBuf>,
    debounce_ms: Option<u64>,
}

enum Event {
    Incoming(Incoming),
    /// stdin ended or failed.
    Closed,
    Document(DocumentResult),
    Workspace(Workspace),
}

/// Runs the server until `exit`: 0 after `shutdown`, 1 without it (as the
/// protocol asks), 2 when stdin or stdout fail.
pub fn run(args: &ServerArgs) -> ExitCode {
    let (events, receiver) = mpsc::channel::<Event>();
    let (out, outgoing) = mpsc::channel::<Outgoing>();
    let reader = {
        let events = events.clone();
        std::thread::spawn(move || {
            let stdin = std::io::stdin();
            let mut input = stdin.lock();
            loop {
                match transport::read(&mut input) {
                    Ok(Some(incoming)) => {
                        if events.send(Event::Incoming(incoming)).is_err() {
                            return;
                        }
                    }
                    Ok(None) | Err(_) => {
                        let _ = events.send(Event::Closed);
                        return;
                    }
                }
            }
        })
    };
    let writer = std::thread::spawn(move || {
        let stdout = std::io::stdout();
        let mut output = stdout.lock();
        for message in outgoing {
            if transport::write(&mut output, message).is_err() {
                return false;
            }
        }
        true
    });
    let code = serve(args, &receiver, events, out);
    // The writer ends once every sender is gone and the queue is flushed.
    let written = writer.join().unwrap_or(false);
    // The reader may be blocked on stdin; the process exits anyway.
    drop(reader);
    if !written {
        return ExitCode::from(2);
    }
    code
}

fn serve(
    args: &ServerArgs,
    receiver: &Receiver<Event>,
    events: Sender<Event>,
    out: Sender<Outgoing>,
) -> ExitCode {
    let Some((id, params)) = wait_for_initialize(receiver, &out) else {
        return ExitCode::from(1);
    };
    let mut server = match Server::initialize(args, &params, events, out.clone()) {
        Ok(server) => server,
        Err(message) => {
            let _ = out.send(Outgoing::Message(Message::Response(Response::new_err(
                id,
                ErrorCode::InvalidParams as i32,
                message,
            ))));
            return ExitCode::from(1);
        }
    };
    server.respond(Response::new_ok(id, server.initialize_result()));
    server.main_loop(receiver)
}

/// Answers everything before `initialize` as the protocol says; `None` when
/// the client goes away (or says `exit`) first.
fn wait_for_initialize(
    receiver: &Receiver<Event>,
    out: &Sender<Outgoing>,
) -> Option<(RequestId, InitializeParams)> {
    loop {
        match receiver.recv().ok()? {
            Event::Incoming(Incoming::Message(Message::Request(request))) => {
                if request.method != req::Initialize::METHOD {
                    let _ = out.send(error_response(
                        request.id,
                        ErrorCode::ServerNotInitialized,
                        "the server is not initialized yet".to_string(),
                    ));
                    continue;
                }
                match serde_json::from_value::<InitializeParams>(request.params) {
                    Ok(params) => return Some((request.id, params)),
                    Err(error) => {
                        let _ = out.send(error_response(
                            request.id,
                            ErrorCode::InvalidParams,
                            format!("invalid initialize params: {error}"),
                        ));
                    }
                }
            }
            Event::Incoming(Incoming::Message(Message::Notification(n)))
                if n.method == notif::Exit::METHOD =>
            {
                return None;
            }
            Event::Incoming(Incoming::Malformed { id, code, message }) => {
                let _ = out.send(malformed_reply(id, code, message));
            }
            Event::Closed => return None,
            _ => {}
        }
    }
}

fn error_response(id: RequestId, code: ErrorCode, message: String) -> Outgoing {
    Outgoing::Message(Message::Response(Response::new_err(
        id,
        code as i32,
        message,
    )))
}

fn malformed_reply(id: Option<RequestId>, code: ErrorCode, message: String) -> Outgoing {
    match id {
        Some(id) => error_response(id, code, message),
        None => Outgoing::ErrorWithoutId { code, message },
    }
}

/// An open document.
struct Document {
    path: PathBuf,
    version: i32,
    text: Arc<str>,
    /// Findings on the text of version `checked`.
    findings: Vec<Reported>,
    checked: Option<i32>,
    file: Option<Arc<CheckedFile>>,
    /// A check of some version is running.
    running: bool,
    /// The current version needs checking from this instant on.
    due: Option<Instant>,
}

struct Server {
    out: Sender<Outgoing>,
    events: Sender<Event>,
    encoding: Encoding,
    roots: Vec<PathBuf>,
    cwd: PathBuf,
    config: Option<PathBuf>,
    baseline: Option<PathBuf>,
    debounce: Duration,
    watch_files: bool,
    settings: Arc<Settings>,
    workspace: Arc<Workspace>,
    documents: HashMap<Uri, Document>,
    /// Files whose workspace diagnostics were published non-empty.
    published: HashSet<Uri>,
    /// Requests waiting for their document's current version to be checked.
    deferred: Vec<Request>,
    workspace_running: bool,
    workspace_again: bool,
    shutdown: bool,
    next_id: i32,
}

impl Server {
    fn initialize(
        args: &ServerArgs,
        params: &InitializeParams,
        events: Sender<Event>,
        out: Sender<Outgoing>,
    ) -> Result<Server, String> {
        let cwd = std::env::current_dir().unwrap_or_default();
        let options: InitOptions = params
            .initialization_options
            .clone()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|error| format!("invalid initializationOptions: {error}"))?
            .unwrap_or_default();
        let mut roots: Vec<PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|folder| text::uri_to_path(&folder.uri))
            .collect();
        #[allow(deprecated)] // Older clients (Neovim 0.7) send only `rootUri`.
        if roots.is_empty()
            && let Some(root) = params.root_uri.as_ref().and_then(text::uri_to_path)
        {
            roots.push(root);
        }
        if roots.is_empty() {
            roots.push(cwd.clone());
        }
        let encoding = negotiate_encoding(params);
        let config = options.config.or_else(|| args.config.clone());
        let baseline = options.baseline.or_else(|| args.baseline.clone());
        let base = roots.first().cloned().unwrap_or_else(|| cwd.clone());
        let settings = Settings::load(&base, &roots, config.as_deref(), baseline.as_deref())?;
        let watch_files = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files)
            .and_then(|w| w.dynamic_registration)
            .unwrap_or(false);
        Ok(Server {
            out,
            events,
            encoding,
            roots,
            cwd: base,
            config,
            baseline,
            debounce: Duration::from_millis(options.debounce_ms.unwrap_or(args.debounce_ms)),
            watch_files,
            settings: Arc::new(settings),
            workspace: Arc::new(Workspace::default()),
            documents: HashMap::new(),
            published: HashSet::new(),
            deferred: Vec::new(),
            workspace_running: false,
            workspace_again: false,
            shutdown: false,
            next_id: 0,
        })
    }

    fn initialize_result(&self) -> InitializeResult {
        InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(match self.encoding {
                    Encoding::Utf8 => PositionEncodingKind::UTF8,
                    Encoding::Utf16 => PositionEncodingKind::UTF16,
                }),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                            include_text: Some(false),
                        })),
                        ..TextDocumentSyncOptions::default()
                    },
                )),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![
                            CodeActionKind::QUICKFIX,
                            CodeActionKind::new(actions::FIX_ALL),
                        ]),
                        ..CodeActionOptions::default()
                    },
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "temper".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
        }
    }

    fn send(&self, message: Message) {
        // Only fails once the writer is gone, when nobody is listening.
        let _ = self.out.send(Outgoing::Message(message));
    }

    fn respond(&self, response: Response) {
        self.send(Message::Response(response));
    }

    fn notify<N: lsp_types::notification::Notification>(&self, params: N::Params) {
        self.send(Message::Notification(Notification::new(
            N::METHOD.to_string(),
            params,
        )));
    }

    fn log(&self, typ: MessageType, message: String) {
        self.notify::<notif::LogMessage>(LogMessageParams { typ, message });
    }

    fn main_loop(&mut self, receiver: &Receiver<Event>) -> ExitCode {
        loop {
            let event = match self.next_due() {
                Some(wait) => match receiver.recv_timeout(wait) {
                    Ok(event) => Some(event),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return ExitCode::from(1),
                },
                None => match receiver.recv() {
                    Ok(event) => Some(event),
                    Err(_) => return ExitCode::from(1),
                },
            };
            match event {
                Some(Event::Incoming(Incoming::Message(Message::Request(request)))) => {
                    self.on_request(request);
                }
                Some(Event::Incoming(Incoming::Message(Message::Notification(n)))) => {
                    if n.method == notif::Exit::METHOD {
                        return if self.shutdown {
                            ExitCode::SUCCESS
                        } else {
                            ExitCode::from(1)
                        };
                    }
                    self.on_notification(n);
                }
                // Replies to our own requests (capability registration).
                Some(Event::Incoming(Incoming::Message(Message::Response(_)))) => {}
                Some(Event::Incoming(Incoming::Malformed { id, code, message })) => {
                    self.log(MessageType::ERROR, format!("temper: {message}"));
                    let _ = self.out.send(malformed_reply(id, code, message));
                }
                Some(Event::Closed) => return ExitCode::from(1),
                Some(Event::Document(result)) => self.on_document_checked(result),
                Some(Event::Workspace(workspace)) => self.on_workspace_checked(workspace),
                None => {}
            }
            self.start_due_checks();
        }
    }

    fn on_request(&mut self, request: Request) {
        if self.shutdown {
            self.respond(Response::new_err(
                request.id,
                ErrorCode::InvalidRequest as i32,
                "the server is shutting down".to_string(),
            ));
            return;
        }
        match request.method.as_str() {
            req::Shutdown::METHOD => {
                self.shutdown = true;
                self.respond(Response::new_ok(request.id, ()));
            }
            req::Initialize::METHOD => self.respond(Response::new_err(
                request.id,
                ErrorCode::InvalidRequest as i32,
                "the server is already initialized".to_string(),
            )),
            req::CodeActionRequest::METHOD | req::HoverRequest::METHOD => {
                self.document_request(request);
            }
            _ => self.respond(Response::new_err(
                request.id,
                ErrorCode::MethodNotFound as i32,
                format!("unknown method `{}`", request.method),
            )),
        }
    }

    /// Answers a request about a document once its current version is
    /// checked; until then it waits (and can be cancelled).
    fn document_request(&mut self, request: Request) {
        let uri = request
            .params
            .get("textDocument")
            .and_then(|d| d.get("uri"))
            .and_then(|u| u.as_str())
            .and_then(|u| u.parse::<Uri>().ok());
        let Some(uri) = uri else {
            self.respond(Response::new_err(
                request.id,
                ErrorCode::InvalidParams as i32,
                "missing or invalid `textDocument.uri`".to_string(),
            ));
            return;
        };
        let Some(document) = self.documents.get(&uri) else {
            self.respond(Response::new_err(
                request.id,
                ErrorCode::InvalidParams as i32,
                format!("document {} is not open", uri.as_str()),
            ));
            return;
        };
        if document.checked != Some(document.version) {
            self.deferred.push(request);
            return;
        }
        let response = match request.method.as_str() {
            req::CodeActionRequest::METHOD => {
                match serde_json::from_value::<CodeActionParams>(request.params) {
                    Ok(params) => Response::new_ok(request.id, self.code_actions(&uri, &params)),
                    Err(error) => invalid_params(request.id, &error),
                }
            }
            _ => match serde_json::from_value::<HoverParams>(request.params) {
                Ok(params) => {
                    let hover = self.documents.get(&uri).and_then(|document| {
                        actions::hover(
                            &self.action_document(&uri, document),
                            params.text_document_position_params.position,
                            self.encoding,
                        )
                    });
                    Response::new_ok(request.id, hover)
                }
                Err(error) => invalid_params(request.id, &error),
            },
        };
        self.respond(response);
    }

    fn action_document<'a>(&self, uri: &'a Uri, document: &'a Document) -> actions::Document<'a> {
        actions::Document {
            uri,
            path: &document.path,
            text: &document.text,
            findings: &document.findings,
            file: document.file.as_ref(),
        }
    }

    fn code_actions(
        &self,
        uri: &Uri,
        params: &CodeActionParams,
    ) -> Vec<lsp_types::CodeActionOrCommand> {
        let Some(document) = self.documents.get(uri) else {
            return Vec::new();
        };
        let texts = |path: &Path| self.current_text(path);
        let context = actions::Context {
            settings: &self.settings,
            workspace: &self.workspace,
            texts: &texts,
            encoding: self.encoding,
        };
        actions::code_actions(&self.action_document(uri, document), &context, params)
    }

    /// A file's text as the editor has it: the open buffer, else the disk.
    fn current_text(&self, path: &Path) -> Option<Arc<str>> {
        if let Some(document) = self.documents.values().find(|d| d.path == path) {
            return Some(document.text.clone());
        }
        std::fs::read_to_string(path).ok().map(Arc::from)
    }

    fn on_notification(&mut self, notification: Notification) {
        let method = notification.method.clone();
        let result = match method.as_str() {
            notif::Initialized::METHOD => {
                self.register_watchers();
                self.request_workspace_check();
                Ok(())
            }
            notif::DidOpenTextDocument::METHOD => {
                parse::<DidOpenTextDocumentParams>(notification).map(|p| self.did_open(p))
            }
            notif::DidChangeTextDocument::METHOD => {
                parse::<DidChangeTextDocumentParams>(notification).map(|p| self.did_change(p))
            }
            notif::DidCloseTextDocument::METHOD => {
                parse::<DidCloseTextDocumentParams>(notification).map(|p| self.did_close(p))
            }
            notif::DidSaveTextDocument::METHOD => parse::<DidSaveTextDocumentParams>(notification)
                .map(|_| {
                    self.request_workspace_check();
                }),
            notif::DidChangeWatchedFiles::METHOD => {
                self.reload_settings();
                Ok(())
            }
            notif::Cancel::METHOD => {
                parse::<lsp_types::CancelParams>(notification).map(|p| self.cancel(p))
            }
            // Notifications the server has no use for (`$/setTrace`, ...)
            // are ignored, as the protocol allows.
            _ => Ok(()),
        };
        if let Err(message) = result {
            self.log(
                MessageType::ERROR,
                format!("temper: invalid `{method}` notification: {message}"),
            );
        }
    }

    fn did_open(&mut self, params: DidOpenTextDocumentParams) {
        let document = params.text_document;
        let Some(path) = text::uri_to_path(&document.uri) else {
            // Not a file (`untitled:`, a diff view): nothing to classify.
            return;
        };
        let file = self.workspace.files.get(&path).cloned();
        self.documents.insert(
            document.uri,
            Document {
                path,
                version: document.version,
                text: Arc::from(document.text),
                findings: Vec::new(),
                checked: None,
                file,
                running: false,
                due: Some(Instant::now()),
            },
        );
    }

    fn did_change(&mut self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let Some(document) = self.documents.get_mut(&uri) else {
            self.log(
                MessageType::WARNING,
                format!(
                    "temper: ignored a change to {}, which is not open (no didOpen)",
                    uri.as_str()
                ),
            );
            return;
        };
        let text = text::apply_changes(&document.text, params.content_changes, self.encoding);
        document.text = Arc::from(text);
        document.version = params.text_document.version;
        document.due = Some(Instant::now() + self.debounce);
    }

    fn did_close(&mut self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        let Some(document) = self.documents.remove(&uri) else {
            return;
        };
        // Back to what the workspace check saw on disk.
        let findings = self
            .workspace
            .findings
            .get(&document.path)
            .cloned()
            .unwrap_or_default();
        self.publish(&uri, None, &findings);
        if findings.is_empty() {
            self.published.remove(&uri);
        } else {
            self.published.insert(uri);
        }
        self.answer_deferred();
    }

    fn cancel(&mut self, params: lsp_types::CancelParams) {
        let id = match params.id {
            lsp_types::NumberOrString::Number(n) => RequestId::from(n),
            lsp_types::NumberOrString::String(s) => RequestId::from(s),
        };
        // Only a request still waiting can be cancelled; one already answered
        // has nothing left to stop.
        if let Some(index) = self.deferred.iter().position(|r| r.id == id) {
            let request = self.deferred.remove(index);
            self.respond(Response::new_err(
                request.id,
                ErrorCode::RequestCanceled as i32,
                "cancelled".to_string(),
            ));
        }
    }

    fn register_watchers(&mut self) {
        if !self.watch_files {
            return;
        }
        let watchers = ["**/temper.toml", "**/Cargo.toml"]
            .into_iter()
            .map(|glob| FileSystemWatcher {
                glob_pattern: GlobPattern::String(glob.to_string()),
                kind: None,
            })
            .collect();
        let Ok(options) =
            serde_json::to_value(lsp_types::DidChangeWatchedFilesRegistrationOptions { watchers })
        else {
            return;
        };
        let params = RegistrationParams {
            registrations: vec![Registration {
                id: "temper-watched-files".to_string(),
                method: notif::DidChangeWatchedFiles::METHOD.to_string(),
                register_options: Some(options),
            }],
        };
        self.next_id += 1;
        self.send(Message::Request(Request::new(
            RequestId::from(format!("temper-{}", self.next_id)),
            req::RegisterCapability::METHOD.to_string(),
            params,
        )));
    }

    /// `temper.toml` or a Cargo.toml changed: configuration, levels and the
    /// module tree may all be different, so everything is checked again.
    fn reload_settings(&mut self) {
        match Settings::load(
            &self.cwd,
            &self.roots,
            self.config.as_deref(),
            self.baseline.as_deref(),
        ) {
            Ok(settings) => self.settings = Arc::new(settings),
            Err(message) => {
                self.notify::<notif::ShowMessage>(ShowMessageParams {
                    typ: MessageType::ERROR,
                    message: format!("temper: {message}; keeping the previous configuration"),
                });
                return;
            }
        }
        self.request_workspace_check();
        let now = Instant::now();
        for document in self.documents.values_mut() {
            document.file = None;
            document.due = Some(now);
        }
    }

    fn request_workspace_check(&mut self) {
        if self.workspace_running {
            self.workspace_again = true;
            return;
        }
        self.workspace_running = true;
        let settings = self.settings.clone();
        let events = self.events.clone();
        std::thread::spawn(move || {
            let workspace = analysis::check_workspace(&settings);
            let _ = events.send(Event::Workspace(workspace));
        });
    }

    fn on_workspace_checked(&mut self, workspace: Workspace) {
        self.workspace_running = false;
        let mut published = HashSet::new();
        for (path, findings) in &workspace.findings {
            let Some(uri) = text::path_to_uri(path) else {
                continue;
            };
            if self.documents.contains_key(&uri) {
                continue;
            }
            self.publish(&uri, None, findings);
            published.insert(uri);
        }
        // Files that had findings and have none now.
        for uri in self.published.difference(&published) {
            if !self.documents.contains_key(uri) {
                self.publish(uri, None, &[]);
            }
        }
        self.published = published;
        // Open documents take the new roles and package texts.
        let now = Instant::now();
        for document in self.documents.values_mut() {
            document.file = workspace.files.get(&document.path).cloned();
            document.due.get_or_insert(now);
        }
        self.workspace = Arc::new(workspace);
        if std::mem::take(&mut self.workspace_again) {
            self.request_workspace_check();
        }
    }

    /// How long until the next document is due, if one is waiting.
    fn next_due(&self) -> Option<Duration> {
        let now = Instant::now();
        self.documents
            .values()
            .filter(|d| !d.running)
            .filter_map(|d| d.due)
            .min()
            .map(|due| due.saturating_duration_since(now))
    }

    fn start_due_checks(&mut self) {
        let now = Instant::now();
        let due: Vec<Uri> = self
            .documents
            .iter()
            .filter(|(_, d)| !d.running && d.due.is_some_and(|due| due <= now))
            .map(|(uri, _)| uri.clone())
            .collect();
        for uri in due {
            let crate_files = self.crate_files(&uri);
            let Some(document) = self.documents.get_mut(&uri) else {
                continue;
            };
            document.due = None;
            document.running = true;
            let job = DocumentJob {
                uri,
                version: document.version,
                path: document.path.clone(),
                text: document.text.clone(),
                settings: self.settings.clone(),
                file: document.file.clone(),
                crate_files,
            };
            let events = self.events.clone();
            std::thread::spawn(move || {
                let _ = events.send(Event::Document(job.run()));
            });
        }
    }

    /// The current texts of every file of the document's package (open
    /// buffers first), for fixes that reach across files.
    fn crate_files(&self, uri: &Uri) -> Vec<(PathBuf, Arc<str>)> {
        let Some(document) = self.documents.get(uri) else {
            return Vec::new();
        };
        let package = crate::fix::base_dir(&document.path);
        let Some(paths) = self.workspace.packages.get(&package) else {
            return Vec::new();
        };
        let open: HashMap<&Path, &Arc<str>> = self
            .documents
            .values()
            .map(|d| (d.path.as_path(), &d.text))
            .collect();
        let mut files: Vec<(PathBuf, Arc<str>)> = paths
            .iter()
            .filter_map(|path| {
                let text = match open.get(path.as_path()) {
                    Some(text) => (*text).clone(),
                    None => self.workspace.files.get(path)?.source.clone(),
                };
                Some((path.clone(), text))
            })
            .collect();
        if !paths.contains(&document.path) {
            files.push((document.path.clone(), document.text.clone()));
        }
        files
    }

    fn on_document_checked(&mut self, result: DocumentResult) {
        let Some(document) = self.documents.get_mut(&result.uri) else {
            // Closed meanwhile.
            return;
        };
        document.running = false;
        if document.file.is_none() {
            document.file = result.file;
        }
        if result.version != document.version {
            // Stale: a newer version is already due.
            return;
        }
        document.findings = result.findings;
        document.checked = Some(result.version);
        let findings = document.findings.clone();
        self.publish(&result.uri, Some(result.version), &findings);
        self.answer_deferred();
    }

    fn answer_deferred(&mut self) {
        let waiting = std::mem::take(&mut self.deferred);
        for request in waiting {
            // Re-dispatching defers again what is still not ready, and
            // answers a request whose document was closed.
            self.document_request(request);
        }
    }

    fn publish(&self, uri: &Uri, version: Option<i32>, findings: &[Reported]) {
        self.notify::<notif::PublishDiagnostics>(PublishDiagnosticsParams {
            uri: uri.clone(),
            diagnostics: convert::diagnostics(uri, findings, self.encoding),
            version,
        });
    }
}

fn parse<T: serde::de::DeserializeOwned>(notification: Notification) -> Result<T, String> {
    serde_json::from_value(notification.params).map_err(|error| error.to_string())
}

fn invalid_params(id: RequestId, error: &serde_json::Error) -> Response {
    Response::new_err(
        id,
        ErrorCode::InvalidParams as i32,
        format!("invalid params: {error}"),
    )
}

/// UTF-8 positions when the client offers them (fewer conversions), else
/// the protocol's default, UTF-16.
fn negotiate_encoding(params: &InitializeParams) -> Encoding {
    let offered = params
        .capabilities
        .general
        .as_ref()
        .and_then(|general| general.position_encodings.as_ref());
    if offered.is_some_and(|kinds| kinds.contains(&PositionEncodingKind::UTF8)) {
        Encoding::Utf8
    } else {
        Encoding::Utf16
    }
}
