//! The `library_unwrap` fix: propagate with `?`, `.ok()?`, `.context(..)?` or
//! `.wrap_err(..)?` instead of panicking, and decide how sure that is without
//! type information.

use super::{Method, Receiver, Site, squeeze};
use crate::LintInput;
use crate::context::{self, Enclosing};
use crate::diagnostic::{Applicability, Edit, Fix};
use crate::index::STD_MACROS;
use crate::trees::Tree;
use ra_ap_syntax::ast::{
    self, AstNode, HasArgList, HasGenericArgs, HasGenericParams, HasModuleItem, HasName,
};
use ra_ap_syntax::{SyntaxKind, SyntaxNode, TextRange};
use std::ops::Range;

/// What the receiver evidently is, from the way it was produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Unknown,
    Option,
    Result(ErrorKind),
}

impl Kind {
    pub(super) fn receiver(self) -> Receiver {
        match self {
            Kind::Unknown => Receiver::Unknown,
            Kind::Option => Receiver::Option,
            Kind::Result(_) => Receiver::Result,
        }
    }
}

/// What the error of an evident `Result` receiver is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ErrorKind {
    /// `std::io::Error`.
    Io,
    /// Another standard error type (`ParseIntError`, `VarError`, ..):
    /// `'static`, `Send`, `Sync` and `std::error::Error`.
    Std,
    /// A `PoisonError` / `TryLockError` that borrows the guard.
    Lock,
    Unknown,
}

/// The fix for one call, or why there is none.
pub(super) struct Plan {
    pub fix: Option<Fix>,
    /// Why there is no fix, when the help does not already say it.
    pub note: Option<String>,
    /// A better help than the return type alone gives.
    pub help: Option<String>,
    /// The function returns a plain value: ask the crate-wide pass to make it
    /// fallible and migrate its callers (the payload of the request).
    pub migrate: Option<Vec<String>>,
    /// An `Option` in a function returning a `Result`: ask the crate-wide
    /// pass for an error value (the payload of the request).
    pub option_error: Option<Vec<String>>,
    /// `x?` on a standard error: ask the crate-wide pass whether the
    /// function's error type can take it; `x?` on a receiver of unknown kind:
    /// ask whether the crate declares it an `Option` (the payload of the
    /// request).
    pub error_conversion: Option<Vec<String>>,
}

/// The request to look up a receiver of unknown kind in the crate: the
/// option-error request's payload, then `method` or `field` and the name
/// (`x.len()`, `x.conn`).
fn receiver_kind_request(tree: &Tree, site: &Site<'_>) -> Option<Vec<String>> {
    let (what, name, inner) = match receiver_expr(site)? {
        ast::Expr::MethodCallExpr(call) => (
            "method",
            call.name_ref()?.text().to_string(),
            call.receiver(),
        ),
        ast::Expr::FieldExpr(field) => ("field", field.name_ref()?.text().to_string(), None),
        _ => return None,
    };
    let mut request = option_error_request(tree, site)?;
    request[0] = super::migrate::KIND_REQUEST.to_string();
    request.push(what.to_string());
    request.push(name);
    // `self.m()`: the method of the function's own type.
    let on_self = inner.is_some_and(|r| r.syntax().text() == "self");
    request.push(on_self.to_string());
    Some(request)
}

/// The declared return type (whitespace removed) of the function or closure
/// whose body `?` at `site` would leave; `None` inside an `async` block.
pub(super) fn enclosing_return_type(tree: &Tree, site: &Site<'_>) -> Option<String> {
    Some(
        enclosing_ret(tree, site)?
            .ty()?
            .syntax()
            .text()
            .to_string()
            .split_whitespace()
            .collect(),
    )
}

/// The request for an `Option`'s error value: the function's return type,
/// and the message (`expect`'s when it is a string literal, else a made-up
/// one for `unwrap`; empty for another `expect` argument).
fn option_error_request(tree: &Tree, site: &Site<'_>) -> Option<Vec<String>> {
    if !matches!(site.method, Method::Unwrap | Method::Expect) {
        return None;
    }
    let ret = enclosing_return_type(tree, site)?;
    let message = match message_arg(site) {
        Some(ast::Expr::Literal(lit)) if matches!(lit.kind(), ast::LiteralKind::String(_)) => {
            lit.syntax().text().to_string()
        }
        Some(_) => String::new(),
        None => made_up_message(&receiver_expr(site)?, Kind::Option),
    };
    let method_call = ast::MethodCallExpr::cast(site.node.clone()).is_some();
    Some(vec![
        super::migrate::OPTION_REQUEST.to_string(),
        ret,
        message,
        method_call.to_string(),
    ])
}

/// The payload of a migration request, when the call is directly in a
/// function's body (not a closure's or an `async` block's, not inside a
/// macro whose expansion is unknown), or in a closure passed to a call whose
/// callee may hand its result back (the crate-wide pass checks the callee),
/// and the function returns a plain value: the function's name, and why no
/// migration can start there when its own syntax tells (empty otherwise).
fn can_migrate(tree: &Tree, site: &Site<'_>, input: &LintInput<'_>) -> Option<Vec<String>> {
    if !matches!(site.method, Method::Unwrap | Method::Expect) {
        return None;
    }
    let func = match context::enclosing_body(tree, &site.node) {
        Some(Enclosing::Fn(func)) => func,
        // A closure passed to a call whose callee may hand its result back
        // (the crate-wide pass checks the callee), in a function that returns
        // a plain value.
        Some(Enclosing::Closure(closure))
            if closure.ret_type().is_none()
                && closure
                    .syntax()
                    .parent()
                    .is_some_and(|p| p.kind() == SyntaxKind::ARG_LIST) =>
        {
            match context::enclosing_body(tree, closure.syntax()) {
                Some(Enclosing::Fn(func)) if returns_for(func.ret_type(), input).is_none() => func,
                _ => return None,
            }
        }
        _ => return None,
    };
    // The rewrite walks the function's own tree, not re-parsed macro
    // arguments.
    if func.const_token().is_some() || tree.is_macro() {
        return None;
    }
    let name = func
        .name()
        .map_or_else(String::new, |n| n.text().to_string());
    let obstacle = super::migrate::local_obstacle(&func, input.source).unwrap_or_default();
    Some(vec![name, obstacle])
}

impl Plan {
    pub(super) fn none() -> Plan {
        Plan {
            fix: None,
            note: None,
            help: None,
            migrate: None,
            option_error: None,
            error_conversion: None,
        }
    }

    pub(super) fn because(note: impl Into<String>) -> Plan {
        Plan {
            note: Some(note.into()),
            ..Plan::none()
        }
    }
}

/// How the call is rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// `x?`
    Try,
    /// `x.ok()?`: a `Result` in a function returning `Option`.
    OkTry,
    /// `x.context(..)?` (anyhow) or `x.wrap_err(..)?` (eyre).
    Context(Library),
    /// `x.map_err(std::io::Error::other)?`: a standard error (`'static`,
    /// `Send`, `Sync`) in a function returning `io::Result`, which has no
    /// `From` for it. `old` spells it for a `rust-version` before 1.74.
    IoOther { old: bool },
}

impl Shape {
    /// What follows the receiver: `?`, `.ok()?`, `.map_err(..)?`.
    fn suffix(self) -> Option<String> {
        match self {
            Shape::Try => Some("?".to_string()),
            Shape::OkTry => Some(".ok()?".to_string()),
            Shape::IoOther { old } => Some(format!(".map_err({})?", io_other(old))),
            Shape::Context(_) => None,
        }
    }
}

/// The function (or closure) that wraps an error into an `io::Error`.
pub(super) fn io_other(old: bool) -> &'static str {
    if old {
        "|e| std::io::Error::new(std::io::ErrorKind::Other, e)"
    } else {
        "std::io::Error::other"
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Library {
    Anyhow,
    Eyre,
}

impl Library {
    fn method(self) -> &'static str {
        match self {
            Library::Anyhow => "context",
            Library::Eyre => "wrap_err",
        }
    }

    /// The variant that takes a closure building the message.
    fn lazy_method(self) -> &'static str {
        match self {
            Library::Anyhow => "with_context",
            Library::Eyre => "wrap_err_with",
        }
    }
}

/// What the enclosing function returns, read from its signature.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Returns {
    option: bool,
    /// `Result<T>` with an error that may be `anyhow::Error` / `eyre::Report`.
    dynamic_error: bool,
    /// The signature names anyhow's error (`anyhow::Result<T>`,
    /// `Result<T, anyhow::Error>`, or `Result<T>` after `use anyhow::Result`).
    anyhow: bool,
    /// The same for eyre and color-eyre.
    eyre: bool,
    /// The error is `std::io::Error`.
    io: bool,
    /// The error is `Box<dyn Error ..>`, which every standard error converts to.
    boxed: bool,
    /// The error converts from no other type with `?`: `()`, or
    /// `thread::Result`'s `Box<dyn Any + Send>`.
    closed: bool,
    /// An error type no guessed `?` converts into.
    target: Target,
}

/// What the function's error type says about a `?` on an error of unknown
/// type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Target {
    #[default]
    Open,
    /// A type parameter (`E`) with no `From` bound in sight: `?` converts
    /// into it only through one.
    TypeParameter,
    /// A generic type that is not an error (`Response<B>` as the early
    /// answer of a `Result<(), Response<B>>`).
    NotAnError,
}

/// Logging and error macros of other crates that also evaluate their arguments
/// in the calling function today, but whose expansion is theirs to change: a
/// fix inside them is at most unsafe.
const CRATE_MACROS: &[&str] = &[
    "anyhow",
    "bail",
    "debug",
    "debug_span",
    "ensure",
    "error",
    "error_span",
    "event",
    "eyre",
    "info",
    "info_span",
    "json",
    // `std::task::ready!` and `futures::ready!`: `match` in place, returning
    // `Poll::Pending` early; a crate may define its own `ready!`.
    "ready",
    "span",
    "trace",
    "trace_span",
    "warn",
    "warn_span",
];

/// Methods, with their argument count, that return an `Option` on every
/// common type that has them, so an `unwrap` called on their result unwraps an
/// `Option`. Left out on purpose: `to_str` (`CStr::to_str` returns a
/// `Result`), `strip_prefix` (`Path::strip_prefix` does too), `get` with a
/// turbofish (`config::Config::get::<T>` does too), `peek` with an argument
/// (`TcpStream::peek`), `max` / `min` with one (`Ord::max`).
const OPTION_METHODS: &[(&str, usize)] = &[
    ("as_pin_mut", 0),
    ("as_pin_ref", 0),
    ("back", 0),
    ("checked_add", 1),
    ("checked_div", 1),
    ("checked_mul", 1),
    ("checked_neg", 0),
    ("checked_pow", 1),
    ("checked_rem", 1),
    ("checked_shl", 1),
    ("checked_shr", 1),
    ("checked_sub", 1),
    ("extension", 0),
    ("file_name", 0),
    ("file_stem", 0),
    ("find", 1),
    ("find_map", 1),
    ("first", 0),
    ("first_mut", 0),
    ("front", 0),
    ("get", 1),
    ("get_mut", 1),
    // indexmap's positional accessors.
    ("get_index", 1),
    ("get_index_mut", 1),
    ("get_index_of", 1),
    ("last", 0),
    ("last_mut", 0),
    ("max", 0),
    ("max_by", 1),
    ("max_by_key", 1),
    ("min", 0),
    ("min_by", 1),
    ("min_by_key", 1),
    ("next", 0),
    ("next_back", 0),
    ("nth", 1),
    ("parent", 0),
    ("peek", 0),
    ("pop", 0),
    ("pop_back", 0),
    ("pop_front", 0),
    ("position", 1),
    ("rposition", 1),
    ("rsplit_once", 1),
    ("split_once", 1),
    ("strip_suffix", 1),
    ("upgrade", 0),
];

/// Methods, with their argument count, that return `std::io::Result` on the
/// std types that have them. `try_clone` is left out: reqwest's returns an
/// `Option`.
const IO_METHODS: &[(&str, usize)] = &[
    ("canonicalize", 0),
    ("flush", 0),
    ("local_addr", 0),
    ("metadata", 0),
    ("peer_addr", 0),
    ("read", 1),
    ("read_dir", 0),
    ("read_exact", 1),
    ("read_line", 1),
    ("read_to_end", 1),
    ("read_to_string", 1),
    ("set_len", 1),
    ("set_nonblocking", 1),
    ("sync_all", 0),
    ("write", 1),
    ("write_all", 1),
];

/// `std::fs` functions: all return `std::io::Result`.
const FS_FUNCTIONS: &[&str] = &[
    "canonicalize",
    "copy",
    "create_dir",
    "create_dir_all",
    "exists",
    "hard_link",
    "metadata",
    "read",
    "read_dir",
    "read_link",
    "read_to_string",
    "remove_dir",
    "remove_dir_all",
    "remove_file",
    "rename",
    "set_permissions",
    "symlink_metadata",
    "write",
];

/// Methods that return a `Result` with a standard error type, whatever
/// std type has them (`Instant::elapsed` returns a `Duration`, which has no
/// `unwrap`).
const STD_RESULT_METHODS: &[(&str, usize)] = &[("duration_since", 1), ("elapsed", 0)];

/// Awaited methods that return a `Result` with a standard error type: tokio's
/// semaphore.
const AWAITED_STD_RESULT_METHODS: &[&str] = &["acquire", "acquire_many", "acquire_owned"];

/// Types whose `FromStr` / `TryFrom` errors are standard error types: the
/// primitives and the network addresses.
fn std_parse_type(ty: &str) -> bool {
    context::PRIMITIVES.contains(&ty)
        || matches!(
            ty,
            "IpAddr" | "Ipv4Addr" | "Ipv6Addr" | "SocketAddr" | "SocketAddrV4" | "SocketAddrV6"
        )
}

/// The fix for `site`, found in `tree`: only computed for a finding.
pub(super) fn plan(
    tree: &Tree,
    site: &Site<'_>,
    kind: Kind,
    input: &LintInput<'_>,
    macros: &[(Range<usize>, String)],
) -> Plan {
    // `.map(Option::unwrap)`: the help suggests collecting into a `Result`,
    // which changes the surrounding expression, not just this path.
    if site.as_value {
        return Plan::none();
    }
    // A poisoned lock is answered the same way whatever the function returns:
    // `?` cannot carry its error (it borrows the guard), and `.ok()?` would
    // make a poisoned lock look like "nothing there".
    if let Some(plan) = recover_poison(tree, site, kind) {
        return plan;
    }
    match context::enclosing_body(tree, &site.node) {
        Some(Enclosing::Closure(closure)) => {
            if let Some(plan) = super::closures::plan(tree, site, kind, input, &closure) {
                return plan;
            }
        }
        Some(Enclosing::AsyncBlock(block)) => {
            if let Some(plan) = super::closures::async_block_plan(tree, site, kind, input, &block) {
                return plan;
            }
        }
        _ => {}
    }
    if let Some(plan) = super::closures::drop_statement_plan(tree, site) {
        return plan;
    }
    if let Some(plan) = super::closures::drop_let_else_plan(tree, site, kind, input) {
        return plan;
    }
    let Some(returns) = returns(tree, site, input) else {
        // The help already says what the function would need; the crate-wide
        // pass can make the function fallible and carry that to its callers.
        return Plan {
            migrate: can_migrate(tree, site, input),
            ..Plan::none()
        };
    };
    // `slot.take().unwrap()`, `this.io.as_mut().unwrap()` on a receiver the
    // file cannot place: `Option::take` / `Option::as_mut` far more often
    // than a `Result`'s (whose `as_mut` error is a reference `?` cannot
    // convert anyway). In a function returning `Result`, a guessed `?`
    // on an `Option` cannot compile; the `Option`'s error value can.
    let guessed = kind == Kind::Unknown && !returns.option && option_shaped(site);
    let kind = if guessed { Kind::Option } else { kind };
    if let Some(Enclosing::Fn(func)) = context::enclosing_body(tree, &site.node)
        && func.const_token().is_some()
    {
        return Plan::because("no automatic fix: `?` is not allowed in a `const fn`");
    }
    match site.method {
        Method::UnwrapErr | Method::ExpectErr => {
            return Plan::because(
                "no automatic fix: `?` propagates an `Err`, while this call fails on an `Ok`",
            );
        }
        Method::Extra(name) => {
            return Plan::because(format!(
                "no automatic fix: what `{name}` fails on, and how, is unknown"
            ));
        }
        Method::Unwrap | Method::Expect => {}
    }
    let mut cap = Applicability::Safe;
    if tree.is_macro() {
        let range = tree.file_range(site.span);
        for (_, name) in macros
            .iter()
            .filter(|(args, _)| args.start <= range.start && range.end <= args.end)
        {
            let last = name.rsplit("::").next().unwrap_or(name);
            if CRATE_MACROS.contains(&last) {
                cap = Applicability::Unsafe;
            } else if !STD_MACROS.contains(&last) {
                return Plan::because(format!(
                    "no automatic fix inside `{name}!`: its expansion may not evaluate the argument where `?` could return"
                ));
            }
        }
    }
    let (shape, applicability) = match decide(site.method, kind, returns, input) {
        // `Type::from_bytes(..)`, `Type::try_new(..)`: constructors by those
        // names return a `Result` far more often than an `Option`, so a
        // function returning `Option` takes it with `.ok()?` (a guess).
        Ok((Shape::Try, _)) if returns.option && kind == Kind::Unknown && likely_result(site) => {
            (Shape::OkTry, Applicability::Unsafe)
        }
        Ok(decision) => decision,
        Err(note) if kind == Kind::Result(ErrorKind::Lock) => {
            return Plan {
                help: Some(
                    "map the poisoned lock's error into the function's error with `.map_err(..)?`"
                        .to_string(),
                ),
                ..Plan::because(note)
            };
        }
        // An `Option` in a function whose error type is the crate's: the
        // crate-wide pass looks for a conversion from a message.
        Err(note) if kind == Kind::Option && !returns.option => {
            return Plan {
                option_error: option_error_request(tree, site).map(|mut request| {
                    if guessed {
                        request.push(super::migrate::GUESSED.to_string());
                    }
                    request
                }),
                ..Plan::because(note)
            };
        }
        // An `expect` on a receiver the file cannot place: the crate may
        // declare every method of that name a `Result` whose error converts.
        Err(note) if kind == Kind::Unknown && !returns.option => {
            return Plan {
                error_conversion: receiver_kind_request(tree, site),
                ..Plan::because(note)
            };
        }
        Err(note) => return Plan::because(note),
    };
    let Some((edits, intact)) = edits(tree, site, kind, shape, input) else {
        return Plan::none();
    };
    let note = (shape == Shape::OkTry && kind == Kind::Result(ErrorKind::Lock)).then(|| {
        "this changes behaviour: a lock that is held elsewhere or poisoned now makes the function return `None`".to_string()
    });
    let mut applicability = applicability.min(cap);
    // A comment inside the replaced text would be lost.
    if !intact {
        applicability = applicability.min(Applicability::Unsafe);
    }
    // `?` on a standard error compiles only if the function's error type
    // converts from it: the crate-wide pass can tell when it certainly does not.
    let error_conversion = (shape == Shape::Try
        && applicability == Applicability::Unsafe
        && !returns.option
        && matches!(kind, Kind::Result(ErrorKind::Io | ErrorKind::Std)))
    .then(|| super::convert::request_for(tree, site))
    .flatten()
    .or_else(|| {
        (shape == Shape::Try
            && applicability == Applicability::Unsafe
            && !returns.option
            && converted(site))
        .then(|| super::convert::request_for_conversion(tree, site))
        .flatten()
    })
    .or_else(|| {
        (shape == Shape::Try && applicability == Applicability::Unsafe && kind == Kind::Unknown)
            .then(|| receiver_kind_request(tree, site))
            .flatten()
    });
    Plan {
        fix: Some(Fix {
            message: fix_message(site, shape),
            applicability,
            edits,
        }),
        error_conversion,
        note,
        help: matches!(shape, Shape::IoOther { .. }).then(|| IO_OTHER_HELP.to_string()),
        ..Plan::none()
    }
}

/// The help, and the fix, for an error that `io::Error` does not convert
/// from.
pub(super) const IO_OTHER_HELP: &str =
    "wrap the error in an `io::Error` and propagate it with `.map_err(io::Error::other)?`";

/// Said of a fix that replaces an `expect` without keeping its message.
pub(super) const MESSAGE_DROPPED: &str = "(the `expect` message is dropped)";

/// `x.take().unwrap()`, `x.as_mut().unwrap()` and the like (no arguments).
fn option_shaped(site: &Site<'_>) -> bool {
    let Some(ast::Expr::MethodCallExpr(call)) = receiver_expr(site) else {
        return false;
    };
    let no_args = call
        .arg_list()
        .is_some_and(|args| args.args().next().is_none());
    no_args
        && call.name_ref().is_some_and(|name| {
            ["take", "as_mut", "as_ref", "as_deref", "as_deref_mut"]
                .contains(&name.text().to_string().as_str())
        })
}

/// `Type::from_bytes(..).unwrap()`, `Type::try_new(..).unwrap()`: a path
/// call to an associated function named `from_*` or `try_*`; or an
/// awaited future.
fn likely_result(site: &Site<'_>) -> bool {
    // `x.chunk().await.unwrap()`: what a future yields is a `Result` far
    // more often than an `Option` (axum's test client).
    if let Some(ast::Expr::AwaitExpr(_)) = receiver_expr(site) {
        return true;
    }
    let Some(ast::Expr::CallExpr(call)) = receiver_expr(site) else {
        return false;
    };
    context::callee_path(&call).is_some_and(|path| {
        let segments = context::path_segments(&path);
        let [.., ty, name] = segments.as_slice() else {
            return false;
        };
        ty.starts_with(char::is_uppercase)
            && (name.starts_with("from_") || name.starts_with("try_"))
    })
}

/// `x.try_into().unwrap()`, `T::try_from(x).unwrap()`: the error is the
/// conversion's (a standard one for standard types), rarely the function's
/// own, so `?` needs a `From` conversion the crate-wide pass can look for.
fn converted(site: &Site<'_>) -> bool {
    match receiver_expr(site) {
        Some(ast::Expr::MethodCallExpr(call)) => call
            .name_ref()
            .is_some_and(|n| n.text() == "try_into" || n.text() == "try_from"),
        Some(ast::Expr::CallExpr(call)) => context::callee_path(&call)
            .is_some_and(|p| p == "try_from" || p.ends_with("::try_from")),
        _ => false,
    }
}

/// What a poisoned lock's `unwrap` becomes.
const RECOVER_POISON: &str = "unwrap_or_else(std::sync::PoisonError::into_inner)";

/// `m.lock().unwrap()` becomes `m.lock().unwrap_or_else(PoisonError::into_inner)`:
/// the guard is recovered from a poisoned lock instead of panicking. That
/// changes behaviour (the code goes on with data a panicking thread may have
/// left half-updated), so the fix is unsafe and says so.
fn recover_poison(tree: &Tree, site: &Site<'_>, kind: Kind) -> Option<Plan> {
    if kind != Kind::Result(ErrorKind::Lock)
        || !matches!(site.method, Method::Unwrap | Method::Expect)
    {
        return None;
    }
    let call = ast::MethodCallExpr::cast(site.node.clone())?;
    let ast::Expr::MethodCallExpr(lock) = context::peel(call.receiver()?) else {
        return None;
    };
    // `try_lock` fails with `WouldBlock` too, which has no guard to recover.
    if lock.name_ref()?.text().starts_with("try_") {
        return None;
    }
    let name_start = call.name_ref()?.syntax().text_range().start();
    let range = TextRange::new(name_start, call.syntax().text_range().end());
    let method = site.method.name();
    Some(Plan {
        fix: Some(Fix {
            message: "recover the guard from a poisoned lock with `.unwrap_or_else(PoisonError::into_inner)`"
                .to_string(),
            applicability: Applicability::Unsafe,
            edits: vec![Edit::replace(
                tree.file_range(range),
                RECOVER_POISON,
            )],
        }),
        note: Some(format!(
            "this changes behaviour: where `{method}` panicked because another thread panicked while holding the lock, the code goes on with the data as that thread left it"
        )),
        help: Some(
            "recover the guard from a poisoned lock, or map the poisoned lock's error into the function's error with `.map_err(..)?`"
                .to_string(),
        ),
        migrate: None,
        option_error: None,
        error_conversion: None,
    })
}

/// The return type of the function or closure whose body `?` would leave.
fn returns(tree: &Tree, site: &Site<'_>, input: &LintInput<'_>) -> Option<Returns> {
    returns_for(enclosing_ret(tree, site), input)
}

/// The declared return type of the function or closure whose body `?` at
/// `site` would leave.
pub(super) fn enclosing_ret(tree: &Tree, site: &Site<'_>) -> Option<ast::RetType> {
    match context::enclosing_body(tree, &site.node)? {
        Enclosing::Fn(func) => func.ret_type(),
        // A closure with a declared fallible return type is a function for
        // `?`; without one, `?` would change the closure's inferred type.
        Enclosing::Closure(closure) => closure.ret_type(),
        // `?` in an `async` block leaves the block, not the function.
        Enclosing::AsyncBlock(_) => None,
    }
}

/// `Ok` for a `Result` return type, `Some` for an `Option`.
pub(super) fn wrapper(ty: &ast::Type) -> Option<&'static str> {
    match super::fallible(ty)? {
        super::Fallible::Option => Some("Some"),
        super::Fallible::Result { .. } => Some("Ok"),
    }
}

/// What a declared return type lets `?` do.
pub(super) fn returns_for(ret: Option<ast::RetType>, input: &LintInput<'_>) -> Option<Returns> {
    let ty = ret?.ty()?;
    let fallible = super::fallible(&ty)?;
    // `RetainResult<T>` declared in this file is a struct, not a `Result`.
    if let Some(name) = super::type_name(&ty).filter(|name| name != "Result" && name != "Option")
        && input.file.syntax().descendants().any(|node| {
            ast::Struct::cast(node.clone())
                .and_then(|item| item.name())
                .or_else(|| ast::Enum::cast(node).and_then(|item| item.name()))
                .is_some_and(|n| n.text() == name.as_str())
        })
    {
        return None;
    }
    let expanded = squeeze(&context::expanded_type_text(&ty)).replace(' ', "");
    let text = crate::index::poll_output(&expanded);
    let mut out = Returns::default();
    match fallible {
        super::Fallible::Option => out.option = true,
        super::Fallible::Result { dynamic_error } => {
            out.dynamic_error = dynamic_error;
            let unqualified = text.starts_with("Result<") && !text.contains(',');
            out.anyhow = text.starts_with("anyhow::Result<")
                || text.ends_with(",anyhow::Error>")
                || (unqualified && imports_result_of(input, &["anyhow"]));
            out.eyre = text.starts_with("eyre::Result<")
                || text.starts_with("color_eyre::Result<")
                || text.starts_with("color_eyre::eyre::Result<")
                || text.ends_with("eyre::Report>")
                || (unqualified && imports_result_of(input, &["eyre", "color_eyre"]));
            out.io = text.starts_with("io::Result<")
                || text.starts_with("std::io::Result<")
                || text.ends_with(",io::Error>")
                || text.ends_with(",std::io::Error>");
            out.boxed = text.contains(",Box<dyn") && text.contains("Error");
            out.closed = text.ends_with(",()>")
                || text.starts_with("thread::Result<")
                || text.starts_with("std::thread::Result<")
                || text.contains(",Box<dynAny");
            out.target =
                crate::index::error_of(text).map_or(Target::Open, |error| target(&error, &ty));
        }
    }
    Some(out)
}

/// Whether `error` (the function's error type, whitespace removed) can take
/// an error of unknown type with `?`, as far as the signature shows.
fn target(error: &str, ret: &ast::Type) -> Target {
    let head = error.split('<').next().unwrap_or(error);
    let last = head.rsplit("::").next().unwrap_or(head);
    // `Response<B>`, `Request<B>`: a value returned early, not an error.
    let error_like = ["Error", "Err", "Report", "Status", "Rejection", "Problem"]
        .iter()
        .any(|word| last.ends_with(word));
    // `Box<dyn Error + ..>` takes any error; `Box<Self>` (a value handed
    // back, as `try_downcast` does) takes none.
    let boxed_error = matches!(last, "Box" | "Arc") && error.contains("Error");
    if error.contains('<') && !error_like && !boxed_error {
        return Target::NotAnError;
    }
    // `E` declared by the function or its `impl`, with no `From` bound.
    let mut params = Vec::new();
    let mut bounds = String::new();
    for node in ret.syntax().ancestors() {
        let (list, clause) = if let Some(func) = ast::Fn::cast(node.clone()) {
            (func.generic_param_list(), func.where_clause())
        } else if let Some(imp) = ast::Impl::cast(node.clone()) {
            (imp.generic_param_list(), imp.where_clause())
        } else {
            continue;
        };
        if let Some(list) = list {
            bounds.push_str(&list.syntax().text().to_string());
            params.extend(
                list.generic_params()
                    .filter_map(|p| match p {
                        ast::GenericParam::TypeParam(p) => p.name(),
                        _ => None,
                    })
                    .map(|n| n.text().to_string()),
            );
        }
        if let Some(clause) = clause {
            bounds.push_str(&clause.syntax().text().to_string());
        }
    }
    // `E: Into<X>` is no help: `?` calls `From::from` into `E`.
    if params.iter().any(|p| p == error) && !bounds.contains("From<") {
        return Target::TypeParameter;
    }
    Target::Open
}

/// Whether a `use` item of the file imports `Result` from one of `crates`.
fn imports_result_of(input: &LintInput<'_>, crates: &[&str]) -> bool {
    input
        .file
        .syntax()
        .descendants()
        .filter_map(ast::Use::cast)
        .any(|item| {
            let text: String = item
                .syntax()
                .text()
                .to_string()
                .split_whitespace()
                .collect();
            crates
                .iter()
                .any(|krate| text.starts_with(&format!("use{krate}::")))
                && has_word(&text, "Result")
        })
}

/// `word` as a whole identifier in `text`.
pub(super) fn has_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_ident_char) && !after.is_some_and(is_ident_char)
    })
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The shape and applicability, or the note saying why there is no fix.
pub(super) fn decide(
    method: Method<'_>,
    kind: Kind,
    returns: Returns,
    input: &LintInput<'_>,
) -> Result<(Shape, Applicability), String> {
    use Applicability::{Safe, Unsafe};
    if returns.option {
        // A `None` returned early reads to the caller as the function's own
        // "nothing" (no message, not ready, disconnected), not as a failure.
        // After `expect("..")`, which asserts that the value is there (an
        // invariant: futures-intrusive's "wait_node must contain value"),
        // that answer can hang or mislead the caller: unsafe.
        let asserted = matches!(method, Method::Expect);
        return Ok(match kind {
            Kind::Option if asserted => (Shape::Try, Unsafe),
            Kind::Option => (Shape::Try, Safe),
            // `try_lock().ok()?` makes a lock held elsewhere (or poisoned)
            // look like "nothing there": that changes behaviour.
            Kind::Result(ErrorKind::Lock) => (Shape::OkTry, Unsafe),
            Kind::Result(_) if asserted => (Shape::OkTry, Unsafe),
            // `.ok()` turns any `Result` into the `Option` the function returns.
            Kind::Result(_) => (Shape::OkTry, Safe),
            // A `Result` receiver would need `.ok()?`; `--verify` catches it.
            Kind::Unknown => (Shape::Try, Unsafe),
        });
    }
    let library = match (returns.dynamic_error, input.facts) {
        (true, facts) if facts.uses_anyhow => Some(Library::Anyhow),
        (true, facts) if facts.uses_eyre => Some(Library::Eyre),
        _ => None,
    };
    // `()` and `Box<dyn Any + Send>` take no other error with `?`; an
    // `Option` has no `?` into a `Result` at all.
    if returns.closed {
        return Err(
            "no automatic fix: the function's error type (`()` or `Box<dyn Any + Send>`) takes no other error with `?`"
                .to_string(),
        );
    }
    // A poisoned lock's error borrows the guard: neither `?` nor `.context`
    // turns it into an owned error type.
    if kind == Kind::Result(ErrorKind::Lock) {
        return Err(
            "no automatic fix: a poisoned lock's error borrows the guard, so `?` cannot return it"
                .to_string(),
        );
    }
    let expect = method == Method::Expect;
    let std_error = matches!(kind, Kind::Result(ErrorKind::Io | ErrorKind::Std));
    match library {
        Some(library) => {
            // The signature proves the error type; an unqualified `Result<T>`
            // could be the crate's own alias.
            let evident = match library {
                Library::Anyhow => returns.anyhow,
                Library::Eyre => returns.eyre,
            };
            let sure = if evident { Safe } else { Unsafe };
            match kind {
                // eyre's `WrapErr` is implemented for `Result` only.
                Kind::Option if library == Library::Eyre => Err(
                    "no automatic fix: eyre's `.wrap_err(..)` does not apply to an `Option`; use `.ok_or_else(|| eyre!(..))?`"
                        .to_string(),
                ),
                // A standard error converts into anyhow's and eyre's with `?`.
                _ if std_error && !expect => Ok((Shape::Try, sure)),
                Kind::Result(ErrorKind::Unknown) if !expect => Ok((Shape::Try, Unsafe)),
                // anyhow's `Context` covers both `Option` and `Result`.
                Kind::Option => Ok((Shape::Context(library), sure)),
                _ if std_error => Ok((Shape::Context(library), sure)),
                // Whether the error is a `std::error::Error + Send + Sync +
                // 'static` is unknown.
                _ if library == Library::Eyre && !expect => Ok((Shape::Try, Unsafe)),
                _ => Ok((Shape::Context(library), Unsafe)),
            }
        }
        None => match kind {
            Kind::Option => Err(
                "no automatic fix: an `Option` needs an error value of the function's error type"
                    .to_string(),
            ),
            Kind::Result(ErrorKind::Io) if returns.io => Ok((Shape::Try, Safe)),
            // `io::Error` has no `From<ParseIntError>` (and the like): `?`
            // alone cannot compile, `io::Error::other` takes any of them.
            Kind::Result(ErrorKind::Std) if returns.io => Ok((
                Shape::IoOther {
                    old: !input.facts.supports(1, 74),
                },
                Safe,
            )),
            Kind::Result(ErrorKind::Io | ErrorKind::Std) if returns.boxed => Ok((Shape::Try, Safe)),
            // The error may not convert into the function's error type.
            // An `expect` on a value the syntax cannot place asserts an
            // invariant; its error (if it is a `Result` at all) rarely
            // converts into the function's own error type. Not guessed.
            Kind::Unknown if expect => Err(
                "no automatic fix: whether this is an `Option` or a `Result`, and whether its error converts into the function's, is unknown without types"
                    .to_string(),
            ),
            // A guess needs an error type that can take it.
            Kind::Result(_) | Kind::Unknown if returns.target == Target::TypeParameter => Err(
                "no automatic fix: the function's error type is a type parameter, which `?` converts into only through a `From` bound it does not have"
                    .to_string(),
            ),
            Kind::Result(_) | Kind::Unknown if returns.target == Target::NotAnError => Err(
                "no automatic fix: the function's `Err` is a value returned early (not an error type), which `?` does not convert this error into"
                    .to_string(),
            ),
            Kind::Result(_) | Kind::Unknown => Ok((Shape::Try, Unsafe)),
        },
    }
}

pub(super) fn fix_message(site: &Site<'_>, shape: Shape) -> String {
    match shape {
        Shape::Try if site.message.is_some() => {
            format!("propagate with `?` {MESSAGE_DROPPED}")
        }
        Shape::Try => "propagate with `?`".to_string(),
        Shape::OkTry => "propagate with `.ok()?`".to_string(),
        Shape::IoOther { .. } if site.message.is_some() => {
            format!("{IO_OTHER_HELP} {MESSAGE_DROPPED}")
        }
        Shape::IoOther { .. } => IO_OTHER_HELP.to_string(),
        Shape::Context(library) => match &site.message {
            Some(_) if !message_arg(site).as_ref().is_some_and(message_is_static) => {
                format!("propagate the error with `.{}(..)?`", library.lazy_method())
            }
            _ => format!("propagate the error with `.{}(..)?`", library.method()),
        },
    }
}

/// The receiver's expression: `x` in `x.unwrap()` and `Option::unwrap(x)`.
fn receiver_expr(site: &Site<'_>) -> Option<ast::Expr> {
    if let Some(call) = ast::MethodCallExpr::cast(site.node.clone()) {
        return call.receiver();
    }
    ast::CallExpr::cast(site.node.clone())?
        .arg_list()?
        .args()
        .next()
}

/// What the receiver evidently is.
pub(super) fn receiver_kind(tree: &Tree, site: &Site<'_>, input: &LintInput<'_>) -> Kind {
    let receiver = receiver_expr(site);
    let found = receiver
        .as_ref()
        .map_or(Kind::Unknown, |expr| kind_of(tree, expr, input, 0));
    match (site.receiver, found) {
        (Receiver::Option, _) => Kind::Option,
        (Receiver::Result, Kind::Result(error)) => Kind::Result(error),
        (Receiver::Result, _) => Kind::Result(ErrorKind::Unknown),
        (Receiver::Unknown, found) => found,
    }
}

fn kind_of(tree: &Tree, expr: &ast::Expr, input: &LintInput<'_>, depth: usize) -> Kind {
    // Chains are short; the cap only bounds pathological input.
    if depth > 16 {
        return Kind::Unknown;
    }
    match expr {
        ast::Expr::ParenExpr(paren) => paren.expr().map_or(Kind::Unknown, |inner| {
            kind_of(tree, &inner, input, depth + 1)
        }),
        ast::Expr::AwaitExpr(awaited) => match awaited.expr() {
            Some(ast::Expr::MethodCallExpr(call)) => {
                let name = call.name_ref().map(|n| n.text().to_string());
                match name.as_deref() {
                    Some(name) if AWAITED_STD_RESULT_METHODS.contains(&name) => {
                        Kind::Result(ErrorKind::Std)
                    }
                    _ => Kind::Unknown,
                }
            }
            Some(ast::Expr::CallExpr(call)) => path_call_kind(&call),
            _ => Kind::Unknown,
        },
        ast::Expr::MethodCallExpr(call) => method_kind(tree, call, input, depth),
        ast::Expr::CallExpr(call) => path_call_kind(call),
        ast::Expr::PathExpr(path) => match param_kind(tree, expr, path) {
            Kind::Unknown => local_kind(tree, expr, path, input, depth),
            kind => kind,
        },
        // `x?.unwrap()`: what `?` leaves of a `Result` is, far more often than
        // not, an `Option` (`Result<Option<T>, E>`, as parsers return).
        ast::Expr::TryExpr(_) => Kind::Option,
        ast::Expr::FieldExpr(field) => field_kind(tree, field, input),
        // `write!` and `writeln!` return `fmt::Result` or `io::Result`.
        ast::Expr::MacroExpr(mac) => {
            let name = mac
                .macro_call()
                .and_then(|call| crate::trees::macro_name(&call));
            match name.as_deref() {
                Some("write" | "writeln") => Kind::Result(ErrorKind::Unknown),
                _ => Kind::Unknown,
            }
        }
        _ => Kind::Unknown,
    }
}

fn method_kind(
    tree: &Tree,
    call: &ast::MethodCallExpr,
    input: &LintInput<'_>,
    depth: usize,
) -> Kind {
    let Some(name) = call.name_ref() else {
        return Kind::Unknown;
    };
    let name = name.text();
    let arity = call.arg_list().map_or(0, |args| args.args().count());
    let inner = || {
        call.receiver()
            .map_or(Kind::Unknown, |r| kind_of(tree, &r, input, depth + 1))
    };
    match (name, arity) {
        ("ok" | "err", 0) => Kind::Option,
        // A lock's `lock()`, and a `Condvar`'s `wait(guard)` (recovered as
        // `lock()`'s is, or a poisoned lock recovered one line above panics
        // there: crossbeam's `Parker`). But `self.lock()` in a file with its
        // own `fn lock(&self)` calls that, which may return anything.
        (name, arity) if super::returns_lock_result(name, arity) => {
            let on_self = call.receiver().is_some_and(|r| r.syntax().text() == "self");
            if on_self && declares_fn(input.source, name) {
                Kind::Unknown
            } else {
                Kind::Result(ErrorKind::Lock)
            }
        }
        ("map_err" | "ok_or" | "ok_or_else" | "or" | "or_else", 1) => match inner() {
            Kind::Option if matches!(name, "or" | "or_else") => Kind::Option,
            _ => Kind::Result(ErrorKind::Unknown),
        },
        // These keep an `Option` an `Option` and a `Result` a `Result` with the
        // same error; on an iterator they return something without `unwrap`.
        ("copied" | "cloned", 0) | ("map" | "inspect" | "and_then" | "filter", 1) => inner(),
        // On a `Result` the error becomes a reference, which converts into
        // nothing with `?`.
        ("as_ref" | "as_mut" | "as_deref" | "as_deref_mut", 0) => match inner() {
            Kind::Option => Kind::Option,
            Kind::Result(_) => Kind::Result(ErrorKind::Unknown),
            Kind::Unknown => Kind::Unknown,
        },
        // `Option::take` / `Option::replace`; `Cell::take` and `mem::take`
        // return the value itself.
        ("take", 0) | ("replace", 1) | ("flatten", 0) => match inner() {
            Kind::Option => Kind::Option,
            _ => Kind::Unknown,
        },
        ("parse", 0) => {
            // `s.parse::<u32>()`, or `let n: u32 = s.parse().unwrap();`.
            let parsed = match call.generic_arg_list() {
                Some(list) => {
                    let args = squeeze(&list.syntax().text().to_string()).replace(' ', "");
                    args.strip_prefix("::<")
                        .and_then(|a| a.strip_suffix('>'))
                        .map(str::to_string)
                }
                None => call
                    .syntax()
                    .parent()
                    .and_then(|unwrap| ast::LetStmt::cast(unwrap.parent()?))
                    .and_then(|stmt| stmt.ty())
                    .map(|ty| ty.syntax().text().to_string()),
            };
            if parsed.is_some_and(|ty| std_parse_type(&ty)) {
                Kind::Result(ErrorKind::Std)
            } else {
                Kind::Result(ErrorKind::Unknown)
            }
        }
        ("try_into", 0) => Kind::Result(ErrorKind::Unknown),
        ("get" | "get_mut", 1) if call.generic_arg_list().is_some() => Kind::Unknown,
        (name, arity) if OPTION_METHODS.contains(&(name, arity)) => Kind::Option,
        (name, arity) if IO_METHODS.contains(&(name, arity)) => Kind::Result(ErrorKind::Io),
        (name, arity) if STD_RESULT_METHODS.contains(&(name, arity)) => {
            Kind::Result(ErrorKind::Std)
        }
        _ => Kind::Unknown,
    }
}

/// Whether `source` declares a function `name` (`fn lock(` or `fn lock<`).
fn declares_fn(source: &str, name: &str) -> bool {
    source.match_indices("fn ").any(|(at, _)| {
        let rest = source[at + 3..].trim_start();
        let before = source[..at].chars().next_back();
        !before.is_some_and(is_ident_char)
            && rest
                .strip_prefix(name)
                .is_some_and(|after| after.trim_start().starts_with(['(', '<']))
    })
}

/// `std::fs::read(..)`, `File::open(..)`, `env::var(..)`, `u16::try_from(..)`.
fn path_call_kind(call: &ast::CallExpr) -> Kind {
    let Some(path) = context::callee_path(call) else {
        return Kind::Unknown;
    };
    let segments = context::path_segments(&path);
    let names: Vec<&str> = segments.iter().map(String::as_str).collect();
    match names.as_slice() {
        // `tokio::fs` mirrors `std::fs`; both return `io::Result`. Other
        // names may be the crate's own `fs` module.
        [.., "fs", name] if FS_FUNCTIONS.contains(name) => Kind::Result(ErrorKind::Io),
        [.., "File" | "OpenOptions", "open" | "create" | "create_new"]
        | [.., "TcpStream", "connect"]
        | [.., "TcpListener" | "UdpSocket" | "UnixListener", "bind"]
        | [.., "env", "current_dir"]
        // tokio's runtime constructor returns `io::Result<Runtime>`.
        | [.., "runtime", "Runtime", "new"] => Kind::Result(ErrorKind::Io),
        [.., "env", "var"] => Kind::Result(ErrorKind::Std),
        [.., "String" | "str", "from_utf8"] => Kind::Result(ErrorKind::Std),
        [.., ty, "try_from" | "from_str" | "from_str_radix"] if std_parse_type(ty) => {
            Kind::Result(ErrorKind::Std)
        }
        [.., "char", "from_u32" | "from_digit"] => Kind::Option,
        [.., ty, "new"] if ty.starts_with("NonZero") => Kind::Option,
        _ => Kind::Unknown,
    }
}

/// The unqualified name `path` reads and the function around it.
fn local_name(tree: &Tree, expr: &ast::Expr, path: &ast::PathExpr) -> Option<(String, ast::Fn)> {
    let path = path.path()?;
    if path.qualifier().is_some() {
        return None;
    }
    let func = tree
        .ancestors(expr.syntax())
        .into_iter()
        .find_map(ast::Fn::cast)?;
    Some((path.syntax().text().to_string(), func))
}

/// A parameter of the enclosing function declared as `Option<..>` or
/// `Result<..>` (not a reference: `?` does not look through one) and never
/// rebound in the body.
fn param_kind(tree: &Tree, expr: &ast::Expr, path: &ast::PathExpr) -> Kind {
    let Some((name, func)) = local_name(tree, expr, path) else {
        return Kind::Unknown;
    };
    let Some(ty) = func.param_list().and_then(|params| {
        params.params().find_map(|param| {
            let ast::Pat::IdentPat(pat) = param.pat()? else {
                return None;
            };
            let matches = pat.name()?.text() == name.as_str() && pat.ref_token().is_none();
            matches.then(|| param.ty())?
        })
    }) else {
        return Kind::Unknown;
    };
    let rebound = func.body().is_some_and(|body| {
        body.syntax()
            .descendants()
            .filter_map(ast::IdentPat::cast)
            .any(|pat| pat.name().is_some_and(|n| n.text() == name.as_str()))
    });
    if rebound {
        return Kind::Unknown;
    }
    type_kind(&ty)
}

/// A local variable bound once in the function by `let`, whose type or
/// initializer says what it is: `let mut error = None;`, `let host =
/// hosts.get(i);`, `let x: Option<u8> = ..`.
fn local_kind(
    tree: &Tree,
    expr: &ast::Expr,
    path: &ast::PathExpr,
    input: &LintInput<'_>,
    depth: usize,
) -> Kind {
    let Some((name, func)) = local_name(tree, expr, path) else {
        return Kind::Unknown;
    };
    let Some(body) = func.body() else {
        return Kind::Unknown;
    };
    // Every binding of the name in scope where it is read: a second one (a
    // shadowing `let`, an enclosing `match` arm or closure parameter) makes
    // the variable's type unclear. A binding whose scope ends before the read
    // (another `match`'s arm, an inner block's `let`) is another variable.
    let use_range = expr.syntax().text_range();
    let mut bindings = body
        .syntax()
        .descendants()
        .filter_map(ast::IdentPat::cast)
        .filter(|pat| pat.name().is_some_and(|n| n.text() == name.as_str()))
        .filter(|pat| binding_reaches(pat, use_range));
    let (Some(only), None) = (bindings.next(), bindings.next()) else {
        return Kind::Unknown;
    };
    let Some(stmt) = only.syntax().parent().and_then(ast::LetStmt::cast) else {
        return Kind::Unknown;
    };
    if let Some(ty) = stmt.ty() {
        return type_kind(&ty);
    }
    match stmt.initializer() {
        Some(ast::Expr::PathExpr(init)) if init.syntax().text() == "None" => Kind::Option,
        Some(ast::Expr::CallExpr(call))
            if call
                .expr()
                .is_some_and(|callee| callee.syntax().text() == "Some") =>
        {
            Kind::Option
        }
        Some(init) => kind_of(tree, &init, input, depth + 1),
        None => Kind::Unknown,
    }
}

/// Whether the variable `pat` binds may be the one read at `use_range`: a
/// `let`'s scope is the rest of its block; a pattern elsewhere (a `match`
/// arm, a closure or `for` pattern, `if let`) is scoped by the nearest
/// expression that holds it, which must hold the read. Unsure cases reach.
fn binding_reaches(pat: &ast::IdentPat, use_range: TextRange) -> bool {
    for node in pat.syntax().ancestors().skip(1) {
        if let Some(stmt) = ast::LetStmt::cast(node.clone()) {
            // `let` .. `else { .. }` binds after the statement too.
            let Some(block) = stmt.syntax().parent() else {
                return true;
            };
            return block.text_range().contains_range(use_range)
                && stmt.syntax().text_range().end() <= use_range.start();
        }
        if matches!(
            node.kind(),
            SyntaxKind::MATCH_ARM
                | SyntaxKind::CLOSURE_EXPR
                | SyntaxKind::FOR_EXPR
                | SyntaxKind::IF_EXPR
                | SyntaxKind::WHILE_EXPR
        ) {
            return node.text_range().contains_range(use_range);
        }
    }
    true
}

/// `self.field` where the file declares the `impl`'s type with that field as
/// `Option<..>` or `Result<..>`.
fn field_kind(tree: &Tree, field: &ast::FieldExpr, input: &LintInput<'_>) -> Kind {
    let is_self = matches!(
        field.expr(),
        Some(ast::Expr::PathExpr(path)) if path.syntax().text() == "self"
    );
    let Some(field_name) = field.name_ref().map(|n| n.text().to_string()) else {
        return Kind::Unknown;
    };
    if !is_self {
        return any_field_kind(&field_name, input);
    }
    let self_ty = tree
        .ancestors(field.syntax())
        .into_iter()
        .find_map(ast::Impl::cast)
        .and_then(|imp| imp.self_ty())
        .and_then(|ty| super::type_name(&ty));
    let Some(self_ty) = self_ty else {
        return Kind::Unknown;
    };
    let declared = input
        .file
        .syntax()
        .descendants()
        .filter_map(ast::Struct::cast)
        .filter(|item| item.name().is_some_and(|n| n.text() == self_ty.as_str()))
        .find_map(|item| match item.field_list()? {
            ast::FieldList::RecordFieldList(fields) => fields
                .fields()
                .find(|f| f.name().is_some_and(|n| n.text() == field_name.as_str()))?
                .ty(),
            // `self.0` of `struct Guard(Option<T>)`.
            ast::FieldList::TupleFieldList(fields) => {
                let at: usize = field_name.parse().ok()?;
                fields.fields().nth(at)?.ty()
            }
        });
    declared.map_or(Kind::Unknown, |ty| type_kind(&ty))
}

/// `value.field` on something other than `self`: the kind every field of
/// that name declared in the file agrees on (`conn.conn.as_ref().unwrap()`
/// where each struct's `conn` is an `Option`).
fn any_field_kind(field_name: &str, input: &LintInput<'_>) -> Kind {
    // A field whose type is a struct of this file has no `unwrap`: the call
    // cannot be on it.
    let own_structs: Vec<String> = input
        .file
        .syntax()
        .descendants()
        .filter_map(ast::Struct::cast)
        .filter_map(|item| item.name().map(|n| n.text().to_string()))
        .collect();
    // Nor does a bare generic parameter of the struct (`conn: C`).
    let generic = |field: &ast::RecordField, name: &str| {
        field
            .syntax()
            .ancestors()
            .find_map(ast::Struct::cast)
            .and_then(|item| item.generic_param_list())
            .is_some_and(|params| {
                params.generic_params().any(|p| match p {
                    ast::GenericParam::TypeParam(p) => p.name().is_some_and(|n| n.text() == name),
                    _ => false,
                })
            })
    };
    let unwrappable = |field: &ast::RecordField, ty: &ast::Type| {
        let bare = ty.syntax().text().to_string();
        !super::type_name(ty).is_some_and(|name| own_structs.contains(&name))
            && !generic(field, bare.trim())
    };
    let mut kinds = input
        .file
        .syntax()
        .descendants()
        .filter_map(ast::RecordField::cast)
        .filter(|f| f.name().is_some_and(|n| n.text() == field_name))
        .filter(|f| f.ty().is_none_or(|ty| unwrappable(f, &ty)))
        .map(|f| f.ty().map_or(Kind::Unknown, |ty| type_kind(&ty)));
    let Some(first) = kinds.next() else {
        return Kind::Unknown;
    };
    if kinds.all(|kind| kind == first) {
        first
    } else {
        Kind::Unknown
    }
}

/// `Option<..>`, `Result<..>`, `io::Result<..>` as declared.
fn type_kind(ty: &ast::Type) -> Kind {
    let ast::Type::PathType(path) = ty else {
        return Kind::Unknown;
    };
    let text = squeeze(&path.syntax().text().to_string()).replace(' ', "");
    let Some(segment) = path.path().and_then(|p| p.segment()) else {
        return Kind::Unknown;
    };
    let Some(name) = segment.name_ref() else {
        return Kind::Unknown;
    };
    let generic_count = segment
        .generic_arg_list()
        .map_or(0, |list| list.generic_args().count());
    let name = name.text();
    match name {
        "Option" if generic_count == 1 => Kind::Option,
        "Result" => {
            if text.starts_with("io::Result<")
                || text.starts_with("std::io::Result<")
                || text.ends_with(",io::Error>")
                || text.ends_with(",std::io::Error>")
            {
                Kind::Result(ErrorKind::Io)
            } else {
                Kind::Result(ErrorKind::Unknown)
            }
        }
        _ => Kind::Unknown,
    }
}

/// The edits of the fix, and whether every comment of the replaced text
/// survives.
pub(super) fn edits(
    tree: &Tree,
    site: &Site<'_>,
    kind: Kind,
    shape: Shape,
    input: &LintInput<'_>,
) -> Option<(Vec<Edit>, bool)> {
    let mut edits = Vec::new();
    let mut intact = true;
    let mut replace = |range: TextRange, text: String, edits: &mut Vec<Edit>| {
        let lost = tree
            .root
            .covering_element(range)
            .as_node()
            .map(|node| {
                node.descendants_with_tokens()
                    .filter_map(|e| e.into_token())
                    .filter(|t| t.kind() == SyntaxKind::COMMENT)
                    .filter(|t| range.contains_range(t.text_range()))
                    .any(|t| !text.contains(t.text()))
            })
            .unwrap_or(false);
        intact &= !lost;
        edits.push(Edit::replace(tree.file_range(range), text));
    };
    let receiver = receiver_expr(site)?;
    let message_arg = message_arg(site);
    if let Some(call) = ast::MethodCallExpr::cast(site.node.clone()) {
        let end = call.syntax().text_range().end();
        let name = call.name_ref()?.syntax().text_range();
        match shape {
            Shape::Try | Shape::OkTry | Shape::IoOther { .. } => {
                let suffix = shape.suffix()?;
                let dot = call.dot_token()?.text_range().start();
                let receiver_end = receiver.syntax().text_range().end();
                // Sliced from the call, not the file: formatting a slice of
                // the root walks every token of the file.
                let call_start = call.syntax().text_range().start();
                let gap = call
                    .syntax()
                    .text()
                    .slice(TextRange::new(receiver_end - call_start, dot - call_start))
                    .to_string();
                // A chain broken over lines keeps its layout: `x\n    .unwrap()`
                // becomes `x?`, not `x\n    ?`.
                let start = if gap.trim().is_empty() {
                    receiver_end
                } else {
                    dot
                };
                replace(TextRange::new(start, end), suffix, &mut edits);
            }
            Shape::Context(library) => match &message_arg {
                // A message that may borrow a local is turned into an owned
                // one only when the error happens.
                Some(arg) if !message_is_static(arg) => {
                    replace(name, library.lazy_method().to_string(), &mut edits);
                    let lazy = format!("|| {}.to_string()", operand(arg));
                    replace(arg.syntax().text_range(), lazy, &mut edits);
                    replace(TextRange::empty(end), "?".to_string(), &mut edits);
                }
                Some(arg) => {
                    replace(name, library.method().to_string(), &mut edits);
                    if let Some(amp) = borrowed_message(arg) {
                        replace(amp, String::new(), &mut edits);
                    }
                    replace(TextRange::empty(end), "?".to_string(), &mut edits);
                }
                None => {
                    let text = format!(
                        "{}({})?",
                        library.method(),
                        made_up_message(&receiver, kind)
                    );
                    replace(TextRange::new(name.start(), end), text, &mut edits);
                }
            },
        }
    } else {
        let receiver_text = operand(&receiver);
        let text = match shape {
            Shape::Try | Shape::OkTry | Shape::IoOther { .. } => {
                format!("{receiver_text}{}", shape.suffix()?)
            }
            Shape::Context(library) => match &message_arg {
                Some(arg) if !message_is_static(arg) => format!(
                    "{receiver_text}.{}(|| {}.to_string())?",
                    library.lazy_method(),
                    operand(arg)
                ),
                Some(arg) => {
                    let message = match borrowed_message(arg).and_then(|_| ref_inner(arg)) {
                        Some(inner) => inner.syntax().text().to_string(),
                        None => arg.syntax().text().to_string(),
                    };
                    format!("{receiver_text}.{}({message})?", library.method())
                }
                None => format!(
                    "{receiver_text}.{}({})?",
                    library.method(),
                    made_up_message(&receiver, kind)
                ),
            },
        };
        replace(site.node.text_range(), text, &mut edits);
    }
    if let Shape::Context(library) = shape {
        edits.extend(import_edit(tree, site, library, input));
    }
    Some((edits, intact))
}

/// The `expect` message argument.
fn message_arg(site: &Site<'_>) -> Option<ast::Expr> {
    if !site.method.takes_message() {
        return None;
    }
    if let Some(call) = ast::MethodCallExpr::cast(site.node.clone()) {
        return call.arg_list()?.args().next();
    }
    ast::CallExpr::cast(site.node.clone())?
        .arg_list()?
        .args()
        .nth(1)
}

/// The `&` (and the space after it) of `&format!(..)` / `&"..."`: `.context`
/// needs a `'static` message, so the owned `String` is passed instead.
fn borrowed_message(arg: &ast::Expr) -> Option<TextRange> {
    let ast::Expr::RefExpr(reference) = arg else {
        return None;
    };
    if reference.mut_token().is_some() {
        return None;
    }
    let inner = reference.expr()?;
    if !message_is_static(&inner) {
        return None;
    }
    let amp = reference.amp_token()?.text_range();
    Some(TextRange::new(
        amp.start(),
        inner.syntax().text_range().start(),
    ))
}

fn ref_inner(arg: &ast::Expr) -> Option<ast::Expr> {
    match arg {
        ast::Expr::RefExpr(reference) => reference.expr(),
        _ => None,
    }
}

/// A message `.context(..)` takes as it is: a string literal, or a `format!`,
/// `concat!` or `stringify!` (behind a `&` that the fix removes). Anything
/// else may be a borrowed `&str` that is not `'static`, so it is passed
/// through `.with_context(|| ..)`.
pub(super) fn message_is_static(arg: &ast::Expr) -> bool {
    match arg {
        ast::Expr::Literal(lit) => matches!(lit.kind(), ast::LiteralKind::String(_)),
        ast::Expr::MacroExpr(mac) => mac
            .macro_call()
            .and_then(|call| crate::trees::macro_name(&call))
            .is_some_and(|name| matches!(name.as_str(), "format" | "concat" | "stringify")),
        ast::Expr::RefExpr(reference) => {
            reference.mut_token().is_none()
                && reference.expr().is_some_and(|e| message_is_static(&e))
        }
        _ => false,
    }
}

/// A context for an `unwrap`, which has no message: what was expected.
pub(super) fn made_up_message(receiver: &ast::Expr, kind: Kind) -> String {
    // On one line; a lock recovered by an earlier fix reads as written.
    let shown = |text: &str| {
        squeeze(text)
            .replace(" .", ".")
            .replace(RECOVER_POISON, "unwrap()")
    };
    let whole = receiver.syntax().text().to_string();
    let mut text = shown(&whole);
    // A long receiver keeps its last calls, the ones nearest the failure,
    // cut where one of its chained calls starts: the message only needs to
    // locate it.
    if text.chars().count() > 60 {
        let start = receiver.syntax().text_range().start();
        let mut dots = Vec::new();
        let mut link = receiver.clone();
        while let ast::Expr::MethodCallExpr(call) = &link {
            if let Some(dot) = call.dot_token() {
                dots.push(usize::from(dot.text_range().start() - start));
            }
            let Some(inner) = call.receiver() else {
                break;
            };
            link = inner;
        }
        // Innermost first: the longest tail that fits.
        let tail = dots.iter().rev().find_map(|&at| {
            let tail = shown(whole.get(at..)?);
            (tail.chars().count() <= 57).then_some(tail)
        });
        text = match tail {
            Some(tail) => format!("..{tail}"),
            None => text.chars().take(57).collect::<String>() + "...",
        };
    }
    let what = match kind {
        Kind::Option => "is None",
        _ => "failed",
    };
    let escaped: String = format!("`{text}` {what}")
        .chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

/// The UFCS argument as an operand of a postfix `?`: parenthesised unless it
/// already binds tighter.
fn operand(expr: &ast::Expr) -> String {
    let text = expr.syntax().text().to_string();
    match expr {
        ast::Expr::PathExpr(_)
        | ast::Expr::CallExpr(_)
        | ast::Expr::MethodCallExpr(_)
        | ast::Expr::FieldExpr(_)
        | ast::Expr::IndexExpr(_)
        | ast::Expr::ParenExpr(_)
        | ast::Expr::MacroExpr(_)
        | ast::Expr::AwaitExpr(_)
        | ast::Expr::TryExpr(_)
        | ast::Expr::Literal(_)
        | ast::Expr::TupleExpr(_)
        | ast::Expr::ArrayExpr(_) => text,
        _ => format!("({text})"),
    }
}

/// `use anyhow::Context as _;` (or eyre's `WrapErr`) in the module that holds
/// the function, after its last `use` item, unless it is imported already.
fn import_edit(
    tree: &Tree,
    site: &Site<'_>,
    library: Library,
    input: &LintInput<'_>,
) -> Option<Edit> {
    // The module's items are in the file's own tree: start from the macro call
    // for a site inside macro arguments.
    let start = match &tree.host {
        Some(host) => host.syntax().clone(),
        None => site.node.clone(),
    };
    let scope = start.ancestors().find(|node| {
        node.kind() == SyntaxKind::SOURCE_FILE
            || (node.kind() == SyntaxKind::ITEM_LIST
                && node
                    .parent()
                    .is_some_and(|p| p.kind() == SyntaxKind::MODULE))
    })?;
    let items: Vec<ast::Item> = match ast::SourceFile::cast(scope.clone()) {
        Some(file) => file.items().collect(),
        None => ast::ItemList::cast(scope)?.items().collect(),
    };
    let uses: Vec<ast::Use> = items
        .iter()
        .filter_map(|item| match item {
            ast::Item::Use(item) => Some(item.clone()),
            _ => None,
        })
        .collect();
    let (import, krate, trait_name) = match library {
        Library::Anyhow => ("anyhow::Context".to_string(), "anyhow", "Context"),
        Library::Eyre => {
            // With only color-eyre as a dependency, `eyre` is not a crate name
            // the code can use.
            let krate = if input.source.contains("color_eyre") {
                "color_eyre::eyre"
            } else {
                "eyre"
            };
            (format!("{krate}::WrapErr"), krate, "WrapErr")
        }
    };
    let present = uses.iter().any(|item| {
        // Words stay separated: `Context as _` must not read as `Contextas_`.
        let text = item
            .syntax()
            .text()
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace(" ::", "::")
            .replace(":: ", "::");
        text.contains(&format!("{krate}::"))
            && (has_word(&text, trait_name)
                || text.contains(&format!("{krate}::*"))
                || text.contains("::prelude"))
    });
    if present {
        return None;
    }
    let line = format!("use {import} as _;");
    let source = input.source;
    if let Some(last) = uses.last() {
        let range = node_range(last.syntax());
        let indent = line_indent(source, range.start);
        // After the rest of the `use` line, so a trailing comment stays with
        // the `use` it describes.
        let rest = &source[range.end..];
        let line_end = rest.find('\n').map(|at| range.end + at + 1);
        return Some(match line_end {
            Some(at) if is_trivia(&source[range.end..at]) => {
                Edit::insert(at, format!("{indent}{line}\n"))
            }
            _ => Edit::insert(range.end, format!("\n{indent}{line}")),
        });
    }
    let first = items.first()?;
    let start = node_range(first.syntax()).start;
    let indent = line_indent(source, start);
    Some(Edit::insert(start, format!("{line}\n\n{indent}")))
}

/// A node of the file's own tree as a byte range.
pub(super) fn node_range(node: &SyntaxNode) -> Range<usize> {
    usize::from(node.text_range().start())..usize::from(node.text_range().end())
}

/// The whitespace before `offset` on its line.
pub(super) fn line_indent(source: &str, offset: usize) -> String {
    let line_start = source[..offset].rfind('\n').map_or(0, |at| at + 1);
    let before = &source[line_start..offset];
    if before.chars().all(char::is_whitespace) {
        before.to_string()
    } else {
        String::new()
    }
}

/// Whitespace and at most one line comment: the end of a `use` line.
pub(super) fn is_trivia(text: &str) -> bool {
    let text = text.trim();
    text.is_empty() || (text.starts_with("//") && !text.contains('\n'))
}
