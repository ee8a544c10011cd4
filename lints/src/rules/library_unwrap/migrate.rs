//! The crate-wide `library_unwrap` fix: a function that returns a plain `T`
//! becomes fallible (`Result<T, E>`), its `unwrap`/`expect` calls propagate
//! with `?`, and every caller in the crate follows, transitively, until each
//! chain reaches a caller that already returns a compatible `Result` (it gets
//! `?`) or test and binary code (it gets the `unwrap` back, where a panic is
//! the norm). A chain that reaches something whose signature cannot change
//! (a trait method, `main`, a function passed as a value, an `extern` fn, a
//! closure or `async` block) stops the whole fix: nothing is applied half way.
//!
//! The error type follows the crate: `anyhow::Result` when the crate depends
//! on anyhow; else its own `thiserror` error enum, which gains an
//! `Unexpected(String)` variant; else a small `UnexpectedError` type added to
//! the crate root. For the last two, a crate-private extension trait
//! (`OrUnexpected`) turns an `Option` or a `Result` with any `Debug` error into
//! that error, so the rewrite compiles without knowing the receiver's type.

use super::fix::{is_trivia, line_indent, made_up_message, node_range};
use crate::diagnostic::{Applicability, Edit, Fix};
use crate::index::{self, CallKind, CallPlace, CallSite, CrateIndex, Function, Owner};
use crate::{CrateContext, Finding};
use quote::quote;
use ra_ap_syntax::ast::{
    self, AstNode, HasArgList, HasGenericParams, HasModuleItem, HasName, HasTypeBounds,
};
use ra_ap_syntax::{SourceFile, SyntaxKind, SyntaxNode};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::PathBuf;

/// How far a signature change is carried: callers of callers, up to this many
/// levels above the function with the finding.
pub const MAX_DEPTH: usize = 6;
/// At most this many functions change in one fix.
pub const MAX_FUNCTIONS: usize = 48;

/// Method names that std and common crates also define: a call
/// `x.name(..)` with such a name cannot be told apart from another type's.
const COMMON_METHODS: &[&str] = &[
    "as_ref",
    "borrow",
    "build",
    "call",
    "clear",
    "clone",
    "close",
    "contains",
    "default",
    "drop",
    "extend",
    "find",
    "flush",
    "from",
    "get",
    "get_mut",
    "handle",
    "index",
    "init",
    "insert",
    "into",
    "is_empty",
    "iter",
    "join",
    "len",
    "lock",
    "map",
    "new",
    "next",
    "open",
    "parse",
    "poll",
    "pop",
    "push",
    "read",
    "recv",
    "remove",
    "run",
    "send",
    "set",
    "shutdown",
    "spawn",
    "start",
    "stop",
    "take",
    "to_string",
    "try_from",
    "update",
    "wait",
    "write",
];

/// Whether a type of the standard library has a method `name` (inherent or
/// of a std trait): a call `x.name(..)` on a receiver syntax cannot place
/// may be that method rather than the crate's.
fn is_std_method(name: &str) -> bool {
    std_methods().contains_key(name)
}

/// Whether some method `name` of the standard library returns an `Option`
/// or a `Result`: only such a method can be the receiver of `.unwrap()`.
fn is_fallible_std_method(name: &str) -> bool {
    std_methods().get(name).copied().unwrap_or(false)
}

/// `std_methods.txt`: each std method name, and whether some method of that
/// name returns an `Option` or a `Result` (a trailing ` ?`).
fn std_methods() -> &'static HashMap<&'static str, bool> {
    static NAMES: std::sync::OnceLock<HashMap<&'static str, bool>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        include_str!("std_methods.txt")
            .lines()
            .filter(|line| !line.starts_with('#'))
            .map(|line| match line.strip_suffix(" ?") {
                Some(name) => (name, true),
                None => (line, false),
            })
            .collect()
    })
}

/// Payload marker for findings that ask for a migration.
pub(super) const REQUEST: &str = "migrate";
/// Payload marker for an `Option` that needs an error value of the
/// function's error type.
pub(super) const OPTION_REQUEST: &str = "option-error";

/// The last word of an [`OPTION_REQUEST`] whose receiver is taken for an
/// `Option` by its method's name (`x.take()`), not known to be one.
pub(super) const GUESSED: &str = "guessed";
/// A `?` fix on a receiver whose kind the file does not tell: the crate may
/// declare it an `Option` (a method or field of its own).
pub(super) const KIND_REQUEST: &str = "receiver-kind";

/// The error type the crate's new signatures use.
#[derive(Debug, Clone)]
enum Strategy {
    Anyhow,
    /// The crate's own `thiserror` enum (index into `error_enums`), and
    /// whether it still needs the `Unexpected(String)` variant.
    CrateError {
        at: usize,
        add_variant: bool,
    },
    /// A new `UnexpectedError` in the crate root.
    NewError {
        root: usize,
    },
}

/// One text edit of the plan, before edits inside a function are merged.
#[derive(Debug, Clone)]
struct Piece {
    range: Range<usize>,
    text: String,
    /// Order among edits at the same offset: an opening `Ok(` first, the
    /// closing `)` last.
    order: u8,
}

#[derive(Default)]
struct Plan {
    /// Functions that become fallible, with their depth above the finding's.
    migrated: BTreeMap<usize, usize>,
    /// Small edits by file.
    pieces: HashMap<usize, Vec<Piece>>,
    /// Call sites in test and binary code that get the `unwrap` back.
    unwrapped: usize,
    /// Calls in doc examples that keep panicking with `.unwrap()`.
    unwrapped_docs: usize,
    /// Error types of callers that get `impl From<UnexpectedError>`, by
    /// name: the file of the first caller naming it, and its spelling there.
    bridges: BTreeMap<String, (usize, Bridge)>,
    /// The finding's file and offset.
    start: Option<(usize, usize)>,
    /// Calls in `Drop::drop` that ignore the new error, by location.
    dropped: Vec<String>,
}

/// `impl Drop for T { fn drop(&mut self) }`.
fn is_drop(function: &Function) -> bool {
    function.name == "drop"
        && matches!(&function.owner, Owner::TraitImpl { trait_name, .. }
            if trait_name == "Drop" || trait_name.ends_with("::Drop"))
}

/// Where the statement starts when the call at `site` is a whole expression
/// statement (`x.f(..);`) or the block's tail (`{ x.f(..) }`, then `true`),
/// not a value used by something else.
fn statement_start(text: &str, site: &CallSite) -> Option<(usize, bool)> {
    if site.awaited {
        return None;
    }
    let after = text.get(site.end..)?.trim_start();
    let tail = after.starts_with('}');
    if !after.starts_with(';') && !tail {
        return None;
    }
    let before = text.get(..site.range.start)?.trim_end();
    before
        .ends_with([';', '{', '}'])
        .then_some((site.range.start, tail))
}

pub(super) fn complete(finding: &mut Finding, ctx: &CrateContext<'_>) {
    let Some(request) = finding.crate_fix.take() else {
        return;
    };
    let index = ctx.index();
    if request.data.first().map(String::as_str) == Some(OPTION_REQUEST) {
        option_error(finding, &request.data, ctx, index);
        return;
    }
    if request.data.first().map(String::as_str) == Some(KIND_REQUEST) {
        receiver_kind(finding, &request.data, ctx, index);
        return;
    }
    if request.data.first().map(String::as_str) != Some(REQUEST) {
        return;
    }
    match plan(finding.range.start, ctx, index) {
        Ok((fix, notes)) => {
            // A closure whose callee hands its result back: it can.
            if finding
                .help
                .as_deref()
                .is_some_and(|help| help.starts_with("this closure cannot propagate"))
            {
                finding.help = Some(
                    "the closure's result is handed back by the function it is passed to: return the error from the closure and propagate it with `?` after that call".to_string(),
                );
            }
            finding.fix = Some(fix);
            finding.notes.extend(notes);
        }
        Err(reason) => finding.notes.push(format!("no automatic fix: {reason}")),
    }
}

fn plan(
    offset: usize,
    ctx: &CrateContext<'_>,
    index: &CrateIndex,
) -> Result<(Fix, Vec<String>), String> {
    let file = index
        .file_of(ctx.file)
        .ok_or_else(|| "the file is not part of the crate's module tree".to_string())?;
    let start = index
        .function_at(file, offset)
        .ok_or_else(|| "the call is not inside a function body".to_string())?;
    // What stops the chain at its start (a trait method, `main`, ..) is
    // the reason to give, before anything about the crate's error type.
    eligible(&index.functions[start], index)?;
    let strategy = strategy(ctx, index)?;
    let mut plan = Plan {
        start: Some((file, offset)),
        ..Plan::default()
    };
    let mut parsed = Parsed::new(index);
    let mut queue = vec![(start, 0usize)];
    let mut calls: HashMap<String, std::sync::Arc<Vec<CallSite>>> = HashMap::new();
    plan.migrated.insert(start, 0);
    while let Some((at, depth)) = queue.pop() {
        let function = &index.functions[at];
        eligible(function, index)?;
        rewrite_function(at, &strategy, index, &mut parsed, &mut plan)?;
        let sites = calls
            .entry(function.name.clone())
            .or_insert_with(|| index::calls_to(index, &function.name));
        let same_name: Vec<usize> = index
            .functions_named(&function.name)
            .map(|(i, _)| i)
            .collect();
        // Doc examples are programs of their own, as tests are: the call
        // there keeps panicking with `.unwrap()`, so `cargo test` still
        // builds them. Only `pub` functions are theirs to call, and a call
        // temper cannot place does not stop the chain.
        let docs = if function.public {
            index::doc_calls_to(index, &function.name)
        } else {
            Default::default()
        };
        for site in docs.iter() {
            if !site.as_value && matches!(resolves_to(site, at, index, &same_name), Ok(true)) {
                push(&mut plan, site.file, site.end..site.end, ".unwrap()", 1);
                plan.unwrapped_docs += 1;
            }
        }
        for site in sites.iter() {
            if !resolves_to(site, at, index, &same_name)? {
                continue;
            }
            let shown = location(index, site.file, site.range.start);
            if site.as_value {
                return Err(format!(
                    "`{}` is used as a value at {shown}, so its signature cannot change",
                    function.display()
                ));
            }
            // Test and binary code may panic: the `unwrap` moves there, inside
            // closures and `async` blocks too.
            let test_code = site.test
                || index.files[site.file].outside_library
                || matches!(site.place, CallPlace::Function(caller) if index.functions[caller].test);
            if test_code
                && matches!(
                    site.place,
                    CallPlace::Function(_) | CallPlace::Closure | CallPlace::AsyncBlock
                )
            {
                push(&mut plan, site.file, site.end..site.end, ".unwrap()", 1);
                plan.unwrapped += 1;
                continue;
            }
            let caller = match site.place {
                CallPlace::Function(caller) => caller,
                CallPlace::Closure => {
                    return Err(format!(
                        "`{}` is called inside a closure at {shown}, where `?` would leave the closure",
                        function.display()
                    ));
                }
                CallPlace::AsyncBlock => {
                    return Err(format!(
                        "`{}` is called inside an `async` block at {shown}",
                        function.display()
                    ));
                }
                CallPlace::Macro => {
                    return Err(format!(
                        "`{}` is called inside a macro at {shown} whose expansion is unknown",
                        function.display()
                    ));
                }
                // Not among `calls_to`'s sites: doc examples are visited above.
                CallPlace::Item | CallPlace::Doc => {
                    return Err(format!(
                        "`{}` is called outside a function body at {shown}",
                        function.display()
                    ));
                }
            };
            let caller_fn = &index.functions[caller];
            // `Drop::drop` cannot return the error: a call that is a whole
            // statement there ignores it (`let _ = ..;`), as a failed
            // cleanup in `drop` is ignored by std's own types.
            if is_drop(caller_fn) && !plan.migrated.contains_key(&caller) {
                let Some((start, tail)) = statement_start(&index.files[site.file].text, site)
                else {
                    return Err(format!(
                        "`{}` is called by `Drop::drop` at {shown}, where its value is used, and `drop` cannot return an error",
                        function.display()
                    ));
                };
                push(&mut plan, site.file, start..start, "let _ = ", 1);
                if tail {
                    push(&mut plan, site.file, site.end..site.end, ";", 1);
                }
                plan.dropped.push(shown);
                continue;
            }
            push(&mut plan, site.file, site.end..site.end, "?", 1);
            if plan.migrated.contains_key(&caller) {
                continue;
            }
            match returns(caller_fn, index, &strategy) {
                Returns::Compatible => {}
                Returns::Bridge(bridge) => {
                    plan.bridges
                        .entry(bridge.key.clone())
                        .or_insert((caller_fn.file, bridge));
                }
                Returns::Incompatible(why) => {
                    return Err(format!(
                        "`{}` calls `{}` at {shown} and {why}",
                        caller_fn.display(),
                        function.display()
                    ));
                }
                Returns::Plain => {
                    if depth + 1 > MAX_DEPTH || plan.migrated.len() >= MAX_FUNCTIONS {
                        return Err(format!(
                            "the chain of callers is longer than temper carries a signature change ({MAX_DEPTH} levels, {MAX_FUNCTIONS} functions); it reaches `{}`",
                            caller_fn.display()
                        ));
                    }
                    plan.migrated.insert(caller, depth + 1);
                    queue.push((caller, depth + 1));
                }
            }
        }
    }
    finish(plan, &strategy, ctx, index, start)
}

/// Functions whose signature may change.
fn eligible(function: &Function, index: &CrateIndex) -> Result<(), String> {
    let file = &index.files[function.file];
    eligible_in(function, &file.text, file.outside_library)
}

/// Why no migration can start at `func`, as far as its own syntax tells
/// (`source` is its file's text): the first reason the crate-wide plan
/// would give about it.
pub(super) fn local_obstacle(func: &ast::Fn, source: &str) -> Option<String> {
    let function = index::function(0, func)?;
    eligible_in(&function, source, false).err()
}

/// [`eligible`] for a function of a file with this text.
fn eligible_in(function: &Function, text: &str, outside_library: bool) -> Result<(), String> {
    let name = function.display();
    match &function.owner {
        Owner::TraitImpl { .. } | Owner::TraitDef(_) => {
            return Err(format!(
                "the chain reaches `{name}`, a trait method whose signature the trait decides"
            ));
        }
        Owner::Free if function.name == "main" => {
            return Err("the chain reaches `main`".to_string());
        }
        _ => {}
    }
    if function.foreign {
        return Err(format!(
            "the chain reaches `{name}`, which is called from outside Rust"
        ));
    }
    if function.is_const {
        return Err(format!("the chain reaches `{name}`, a `const fn`"));
    }
    if function.body.is_none() {
        return Err(format!("`{name}` has no body"));
    }
    if outside_library {
        return Err(format!("the chain reaches `{name}` in test or binary code"));
    }
    if let Some(ret) = &function.ret {
        let written = text.get(ret.clone()).unwrap_or_default();
        let text: String = written.split_whitespace().collect();
        if text == "!" || text.starts_with("implFuture") {
            return Err(format!("`{name}` returns `{}`", super::squeeze(written)));
        }
    }
    Ok(())
}

/// Whether `site` calls function `at`, or an error when it might and the
/// syntax cannot tell.
fn resolves_to(
    site: &CallSite,
    at: usize,
    index: &CrateIndex,
    same_name: &[usize],
) -> Result<bool, String> {
    let function = &index.functions[at];
    let caller_owner = match site.place {
        CallPlace::Function(caller) => Some(&index.functions[caller].owner),
        _ => None,
    };
    let caller_type = caller_owner.and_then(|owner| match owner {
        Owner::Inherent(ty) | Owner::TraitImpl { self_ty: ty, .. } => Some(ty.as_str()),
        _ => None,
    });
    match (&function.owner, &site.kind) {
        (Owner::Free, CallKind::Method(_)) => Ok(false),
        (Owner::Free, CallKind::Path(qualifier)) => {
            // `Type::name` is an associated function, not this one.
            if qualifier
                .last()
                .is_some_and(|q| q.starts_with(|c: char| c.is_uppercase()))
            {
                return Ok(false);
            }
            if !qualifier.is_empty() && !is_crate_path(qualifier, index, site) {
                return Ok(false);
            }
            let free: Vec<usize> = same_name
                .iter()
                .copied()
                .filter(|&i| index.functions[i].owner == Owner::Free)
                .collect();
            if free.len() == 1 {
                return Ok(true);
            }
            // Several free functions share the name: the module decides,
            // an inline `mod name { .. }` first.
            let module = &index.files[function.file].module;
            let innermost = function
                .inline_modules
                .last()
                .map_or_else(|| module.rsplit("::").next().unwrap_or(""), String::as_str);
            let matches = match qualifier.last() {
                Some(last) => innermost == last.as_str(),
                None => {
                    function.file == site.file
                        && match site.place {
                            CallPlace::Function(caller) => {
                                index.functions[caller].inline_modules == function.inline_modules
                            }
                            _ => true,
                        }
                }
            };
            Ok(matches)
        }
        (Owner::Inherent(ty), CallKind::Path(qualifier)) => Ok(match qualifier.last() {
            Some(last) if last == ty => true,
            Some(last) if last == "Self" => caller_type == Some(ty.as_str()),
            _ => false,
        }),
        // An associated function without `self` is not callable as a method.
        (Owner::Inherent(_), CallKind::Method(_)) if !function.has_self => Ok(false),
        (Owner::Inherent(ty), CallKind::Method(receiver)) => {
            // Tests, examples and binaries are crates of their own: only
            // the library's `pub` methods are theirs to call.
            let external = external(site, index);
            let methods: Vec<usize> = same_name
                .iter()
                .copied()
                .filter(|&i| {
                    let candidate = &index.functions[i];
                    candidate.has_self
                        && (!external
                            || candidate.public
                            || index.files[candidate.file].outside_library)
                })
                .collect();
            if !methods.contains(&at) {
                return Ok(false);
            }
            if receiver == "self" && caller_type.is_some() {
                return Ok(caller_type == Some(ty.as_str()));
            }
            // A parameter of a named type: that type's method, or not ours.
            let param_type = match site.place {
                CallPlace::Function(caller) => index.functions[caller].param_type(receiver),
                _ => None,
            };
            if let Some(param_type) = param_type {
                return Ok(param_type == ty.as_str());
            }
            // A slice, a tuple or a primitive: an inherent method of the
            // crate's type is not one of theirs (a trait's could be, but
            // trait methods are not migrated).
            if let CallPlace::Function(caller) = site.place
                && index.functions[caller].param_is_builtin(receiver)
            {
                return Ok(false);
            }
            // A local whose `let` names its type.
            // (inside a closure or `async` block too: the `let` may be there).
            if site.place != CallPlace::Doc
                && let Some(caller) = index.function_at(site.file, site.range.start)
                && let Some(local) = index.receiver_type(caller, receiver, site.range.start)
            {
                return Ok(local == *ty);
            }
            // A field of `self` (or the value in its `Option`): its type.
            if let Some(field_type) =
                caller_type.and_then(|own| index.field_receiver_type(own, receiver))
            {
                return Ok(field_type == *ty);
            }
            // `Name(..).m()`: a tuple struct of the crate built on the spot.
            if let Some(built) = tuple_struct_built(receiver, index) {
                return Ok(built == ty.as_str());
            }
            if methods.len() == 1
                && !COMMON_METHODS.contains(&function.name.as_str())
                && !is_std_method(&function.name)
            {
                return Ok(true);
            }
            Err(format!(
                "`{}.{}(..)` at {} may call `{}` or another type's `{}`, and temper has no types to tell",
                one_line(receiver),
                function.name,
                location(index, site.file, site.range.start),
                function.display(),
                function.name
            ))
        }
        _ => Ok(false),
    }
}

/// A receiver written over several lines (a method chain), on one line as
/// rustfmt would join it: no space before `.` or `?`.
fn one_line(receiver: &str) -> String {
    let mut out = String::with_capacity(receiver.len());
    for line in receiver.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !out.is_empty() && !line.starts_with(['.', '?']) {
            out.push(' ');
        }
        out.push_str(line);
    }
    out
}

/// `Name` when `receiver` is `Name(..)` or `path::Name(..)` and `Name` is a
/// tuple struct of the crate (not `Some(..)`, not an enum's variant).
fn tuple_struct_built<'a>(receiver: &'a str, index: &CrateIndex) -> Option<&'a str> {
    let (path, rest) = receiver.split_once('(')?;
    // The first `(` closes at the very end: `Name(a)`, not `Name(a).b()`.
    let mut depth = 1usize;
    for (at, c) in rest.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth == 0 && at + 1 != rest.len() {
            return None;
        }
    }
    if depth != 0 {
        return None;
    }
    let name = path.trim().rsplit("::").next()?;
    let plain = path
        .trim()
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == ':');
    (plain && index.tuple_structs.iter().any(|s| s == name)).then_some(name)
}

/// A qualifier that names a module of this crate (or the crate itself, from
/// test and binary code).
fn is_crate_path(qualifier: &[String], index: &CrateIndex, site: &CallSite) -> bool {
    let first = qualifier[0].as_str();
    if matches!(first, "crate" | "self" | "super") {
        return true;
    }
    let module_named = index
        .files
        .iter()
        .any(|f| f.module.split("::").any(|segment| segment == first))
        || index.inline_modules.contains(first);
    module_named || (external(site, index) && !matches!(first, "std" | "core" | "alloc"))
}

/// Whether the call is in a crate of its own that uses the library (a test,
/// an example, a binary, a doc example): it names the library by its crate
/// name and reaches only its `pub` items.
fn external(site: &CallSite, index: &CrateIndex) -> bool {
    site.place == CallPlace::Doc || index.files[site.file].outside_library
}

enum Returns {
    /// `?` converts the new error into the caller's.
    Compatible,
    Incompatible(String),
    /// A plain value: the caller becomes fallible too.
    Plain,
    /// The caller's own error type, which an `io::Error` converts into: an
    /// `impl From<UnexpectedError>` through one bridges it.
    Bridge(Bridge),
}

fn returns(caller: &Function, index: &CrateIndex, strategy: &Strategy) -> Returns {
    let Some(ret) = &caller.ret else {
        return Returns::Plain;
    };
    let written = &index.files[caller.file].text[ret.clone()];
    let mut text: String = caller
        .ret_expanded
        .clone()
        .unwrap_or_else(|| written.split_whitespace().collect());
    // As the reason names it.
    let mut shown = format!("`{text}`");
    // `?` works in a `poll` function returning `Poll<Result<T, E>>` or
    // `Poll<Option<Result<T, E>>>` as in one returning `Result<T, E>`.
    if text.starts_with("Poll<") {
        let inner = index::poll_output(&text);
        if index::result_arity(inner).is_none() {
            return Returns::Incompatible(format!(
                "returns `{text}`, which holds no `Result` to carry the error"
            ));
        }
        text = inner.to_string();
        shown = format!("`{}` (a `{text}`)", super::squeeze(written));
    }
    if text.starts_with("Option<") {
        return Returns::Incompatible(
            "returns an `Option`, which would lose the error".to_string(),
        );
    }
    let Some(arity) = index::result_arity(&text) else {
        return Returns::Plain;
    };
    let file_text = &index.files[caller.file].text;
    let boxed = text.contains("Box<dyn") && text.contains("Error");
    let anyhow = text.contains("anyhow::")
        || (arity == 1 && file_text.contains("use anyhow::") && file_text.contains("Result"));
    let eyre = text.contains("eyre::") || text.contains("Report>");
    let compatible = match strategy {
        Strategy::Anyhow => anyhow || boxed,
        Strategy::CrateError { at, .. } => {
            let name = &index.error_enums[*at].name;
            let error = text
                .rsplit([',', '<'])
                .next()
                .unwrap_or("")
                .trim_end_matches('>');
            boxed
                || (arity == 1
                    && !anyhow
                    && !eyre
                    && !text.starts_with("io::")
                    && !text.starts_with("std::io::")
                    && !text.starts_with("fmt::"))
                || error.rsplit("::").next() == Some(name.as_str())
        }
        Strategy::NewError { .. } => boxed || anyhow || eyre || text.contains("UnexpectedError"),
    };
    let io = text.starts_with("io::Result<")
        || text.starts_with("std::io::Result<")
        || index::error_of(&text).is_some_and(|e| e == "io::Error" || e == "std::io::Error");
    let bridge = match strategy {
        // The crate may implement `From<Local>` for `io::Error`: one impl
        // carries the new error into every `io::Result` caller.
        Strategy::NewError { .. } if io => Some(Bridge {
            key: IO_ERROR.to_string(),
            error: IO_ERROR.to_string(),
            via: Via::IoFrom,
        }),
        Strategy::NewError { .. } if arity == 2 => index::error_of(&text)
            .filter(|error| !error.contains('<') || MESSAGE_ERRORS.contains(&error.as_str()))
            .and_then(|error| bridge(&error, caller, index)),
        _ => None,
    };
    if compatible {
        Returns::Compatible
    } else if let Some(bridge) = bridge {
        Returns::Bridge(bridge)
    } else {
        Returns::Incompatible(format!(
            "returns {shown}, which the new error does not convert into with `?`"
        ))
    }
}

/// An `impl From<UnexpectedError>` for a caller's error type `E`, through
/// an `io::Error`.
#[derive(Debug, Clone)]
struct Bridge {
    /// One per type: its name, or where it is declared when two crate
    /// types share the name (`crate::proto::error::Error`).
    key: String,
    /// `E` as the caller's file writes it.
    error: String,
    via: Via,
}

/// How a [`Bridge`] makes an `E` from the new error.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Via {
    /// An `io::Error`, which `E` converts from (`From<io::Error>`).
    IoFrom,
    /// An `io::Error` handed to `E::name(io::Error)` (h2's
    /// `Error::from_io`), when no `From<io::Error>` makes one.
    Constructor(String),
    /// The error's message: `E` is a std type made from it (`String`,
    /// `Cow<'static, str>`).
    Message,
}

/// Error types (whitespace removed) std makes from a `String` (and from a
/// `&'static str`), so the new error reaches them as its message (axum's
/// `Result<(), Cow<'static, str>>`).
const MESSAGE_ERRORS: [&str; 5] = [
    "String",
    "std::string::String",
    "Cow<'static,str>",
    "std::borrow::Cow<'static,str>",
    "borrow::Cow<'static,str>",
];

/// How the new error reaches `error`, the error type of `caller`'s
/// `Result`: a `From<io::Error>` the crate has, or a constructor of the
/// type that takes an `io::Error` and that `caller`'s file can call.
fn bridge(error: &str, caller: &Function, index: &CrateIndex) -> Option<Bridge> {
    if MESSAGE_ERRORS.contains(&error) {
        // One impl per std type, whichever way it is written.
        let key = if error.ends_with("String") {
            "String"
        } else {
            "Cow<'static, str>"
        };
        return Some(Bridge {
            key: key.to_string(),
            error: error.to_string(),
            via: Via::Message,
        });
    }
    let module = index.module_at(caller.file, caller.range.start);
    let name = error.rsplit("::").next()?;
    let key = if index.type_names.get(name).is_some_and(|&n| n > 1) {
        let decl = &index.decls[index.resolve_type(&module, error)?];
        format!("{}::{}", decl.module, decl.name)
    } else {
        name.to_string()
    };
    let with = |via| {
        Some(Bridge {
            key: key.clone(),
            error: error.to_string(),
            via,
        })
    };
    if index.converts(&["io::Error", "std::io::Error"], error, &module) {
        return with(Via::IoFrom);
    }
    let decl = index.resolve_type(&module, error);
    let constructor = index.functions.iter().find(|f| {
        !f.has_self
            && !f.test
            && f.owner == Owner::Inherent(name.to_string())
            && matches!(f.params.as_slice(), [p] if matches!(super::squeeze(p).as_str(), "io::Error" | "std::io::Error"))
            && f.ret.as_ref().is_some_and(|r| {
                let ret = super::squeeze(&index.files[f.file].text[r.clone()]);
                ret == "Self" || ret == name
            })
            && (f.crate_visible || within_module(index, f.file, caller.file))
            && (decl.is_none()
                || index.resolve_type(&index.module_at(f.file, f.range.start), name) == decl)
    })?;
    with(Via::Constructor(constructor.name.clone()))
}

fn strategy(ctx: &CrateContext<'_>, index: &CrateIndex) -> Result<Strategy, String> {
    if ctx.facts.is_some_and(|facts| facts.uses_anyhow) {
        return Ok(Strategy::Anyhow);
    }
    // The crate's own error enum: the one in the crate root or an `error`
    // module, else the only one.
    let preferred = index
        .error_enums
        .iter()
        .position(|e| {
            e.name == "Error" && (e.path == "crate::Error" || e.path == "crate::error::Error")
        })
        .or_else(|| (index.error_enums.len() == 1).then_some(0));
    if let Some(at) = preferred {
        let error = &index.error_enums[at];
        let existing = error.variants.iter().find(|(name, _)| name == "Unexpected");
        return match existing {
            Some((_, fields)) if fields == "(String)" => Ok(Strategy::CrateError {
                at,
                add_variant: false,
            }),
            Some(_) => Err(format!(
                "`{}` already has an `Unexpected` variant that does not carry a message",
                error.path
            )),
            None => Ok(Strategy::CrateError {
                at,
                add_variant: true,
            }),
        };
    }
    let root = index
        .lib_root
        .ok_or_else(|| "the crate has no `src/lib.rs` to hold a new error type".to_string())?;
    // `#![no_std]`, or `#![cfg_attr(.., no_std)]`: the new type uses `std`.
    // A comment that mentions it is not the attribute.
    let Some(tree) = index.tree(root) else {
        return Err("the crate root is beyond temper's size or nesting limits".to_string());
    };
    let no_std = {
        use ra_ap_syntax::ast::HasAttrs;
        tree.attrs().find_map(|attr| {
            let text = crate::context::attr_text(&attr);
            if text == "no_std" {
                Some(false)
            } else {
                (text.starts_with("cfg_attr(")
                    && text
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .any(|word| word == "no_std"))
                .then_some(true)
            }
        })
    };
    match no_std {
        Some(false) => return Err("the crate is `no_std`".to_string()),
        Some(true) => {
            return Err(
                "the crate also builds without `std` (`#![cfg_attr(.., no_std)]`), where a new error type could not implement `std::error::Error`"
                    .to_string(),
            );
        }
        None => {}
    }
    Ok(Strategy::NewError { root })
}

/// Whether the package's `rust-version` predates `io::Error::other` (1.74):
/// then `io::Error::new(io::ErrorKind::Other, ..)` is written instead.
fn before_io_error_other(ctx: &CrateContext<'_>) -> bool {
    ctx.facts.is_some_and(|facts| !facts.supports(1, 74))
}

/// An `io::Error` carrying `message` (an expression), spelled for the
/// package's `rust-version`.
fn io_error(message: &str, ctx: &CrateContext<'_>) -> String {
    if before_io_error_other(ctx) {
        format!("std::io::Error::new(std::io::ErrorKind::Other, {message})")
    } else {
        format!("std::io::Error::other({message})")
    }
}

/// Trees parsed on demand during one plan.
struct Parsed<'a> {
    index: &'a CrateIndex,
    files: HashMap<usize, SourceFile>,
}

impl<'a> Parsed<'a> {
    fn new(index: &'a CrateIndex) -> Parsed<'a> {
        Parsed {
            index,
            files: HashMap::new(),
        }
    }

    fn function(&mut self, function: &Function) -> Option<ast::Fn> {
        let edition = self.index.edition.unwrap_or(crate::Edition::CURRENT);
        let text = &self.index.files[function.file].text;
        let file = self.files.entry(function.file).or_insert_with(|| {
            (self.index.tree(function.file))
                .unwrap_or_else(|| SourceFile::parse(text, edition).tree())
        });
        file.syntax()
            .descendants()
            .filter_map(ast::Fn::cast)
            .find(|f| usize::from(f.syntax().text_range().start()) == function.range.start)
    }
}

fn push(plan: &mut Plan, file: usize, range: Range<usize>, text: impl Into<String>, order: u8) {
    plan.pieces.entry(file).or_default().push(Piece {
        range,
        text: text.into(),
        order,
    });
}

/// The signature, the returns, the tail and the `unwrap`s of one function.
fn rewrite_function(
    at: usize,
    strategy: &Strategy,
    index: &CrateIndex,
    parsed: &mut Parsed<'_>,
    plan: &mut Plan,
) -> Result<(), String> {
    let function = &index.functions[at];
    let file = function.file;
    let text = index.files[file].text.clone();
    let func = parsed
        .function(function)
        .ok_or_else(|| format!("`{}` could not be found again", function.display()))?;
    let body = func
        .body()
        .ok_or_else(|| format!("`{}` has no body", function.display()))?;
    let unit = function.ret.is_none()
        || function
            .ret
            .as_ref()
            .is_some_and(|r| text[r.clone()].split_whitespace().collect::<String>() == "()");
    // The signature.
    let ok_type = match &function.ret {
        Some(ret) => text[ret.clone()].to_string(),
        None => "()".to_string(),
    };
    let new_ret = result_type(&ok_type, strategy, index, file);
    match &function.ret {
        Some(ret) => push(plan, file, ret.clone(), new_ret, 1),
        None => push(
            plan,
            file,
            function.params_end..function.params_end,
            format!(" -> {new_ret}"),
            1,
        ),
    }
    // `return x` and the tail leave the function: both are wrapped in `Ok`.
    for ret in body
        .syntax()
        .descendants()
        .filter_map(ast::ReturnExpr::cast)
        .filter(|ret| owned_by(ret.syntax(), &func))
    {
        match ret.expr() {
            Some(value) => {
                let range = node_range(value.syntax());
                push(plan, file, range.start..range.start, "Ok(", 0);
                push(plan, file, range.end..range.end, ")", 2);
            }
            None => {
                let end = usize::from(ret.syntax().text_range().end());
                push(plan, file, end..end, " Ok(())", 1);
            }
        }
    }
    let stmts = body
        .stmt_list()
        .ok_or_else(|| format!("`{}` has an empty body", function.display()))?;
    let tail = stmts.tail_expr();
    let block_like = tail.as_ref().is_some_and(|tail| {
        matches!(
            tail,
            ast::Expr::IfExpr(_)
                | ast::Expr::MatchExpr(_)
                | ast::Expr::ForExpr(_)
                | ast::Expr::WhileExpr(_)
                | ast::Expr::LoopExpr(_)
                | ast::Expr::BlockExpr(_)
        )
    });
    // A tail that is itself an `unwrap` or `expect` becomes the rewritten
    // call's `Result`, which is already the function's: no `Ok(..?)`.
    // Not when the return type lets the value coerce (`&&T` to `&T`, a
    // `Box<T>` to `Box<dyn Trait>`): inside a `Result` nothing coerces, so the
    // value goes through `Ok(..?)`, where it still does.
    let coerces = function.ret.as_ref().is_some_and(|ret| {
        let written = &text[ret.clone()];
        written.contains('&') || written.contains("dyn") || written.contains("impl")
    });
    let tail_site = tail.as_ref().and_then(|tail| match tail {
        ast::Expr::MethodCallExpr(call) if is_unwrap_call(call) && !coerces => {
            Some(node_range(call.syntax()))
        }
        _ => None,
    });
    // A `loop` without `break` never ends: its type is `!`, which needs no
    // `Ok(..)` (one would only add an "unreachable call" warning).
    let endless = tail.as_ref().is_some_and(|tail| {
        matches!(tail, ast::Expr::LoopExpr(_))
            && !tail
                .syntax()
                .descendants()
                .any(|node| node.kind() == SyntaxKind::BREAK_EXPR)
    });
    match tail {
        Some(_) if tail_site.is_some() || endless => {}
        Some(tail) if !(unit && block_like) => {
            if matches!(tail, ast::Expr::ReturnExpr(_)) {
                // Already wrapped as a `return`.
            } else {
                let range = node_range(tail.syntax());
                push(plan, file, range.start..range.start, "Ok(", 0);
                push(plan, file, range.end..range.end, ")", 2);
            }
        }
        _ => {
            let ends_in_return = stmts.statements().last().is_some_and(|stmt| {
                matches!(&stmt, ast::Stmt::ExprStmt(e) if matches!(e.expr(), Some(ast::Expr::ReturnExpr(_))))
            });
            if !unit && stmts.tail_expr().is_none() && !ends_in_return {
                return Err(format!(
                    "`{}` has no tail expression to wrap in `Ok`",
                    function.display()
                ));
            }
            if !ends_in_return {
                let close = stmts
                    .r_curly_token()
                    .ok_or_else(|| format!("`{}` has an unclosed body", function.display()))?;
                let close_at = usize::from(close.text_range().start());
                let indent = line_indent(&text, usize::from(func.syntax().text_range().start()));
                let before = &text[..close_at];
                let trimmed = before.trim_end().len();
                push(
                    plan,
                    file,
                    trimmed..trimmed,
                    format!("\n{indent}    Ok(())"),
                    1,
                );
            }
        }
    }
    // The function's own `unwrap` and `expect` calls.
    let own: Vec<ast::MethodCallExpr> = body
        .syntax()
        .descendants()
        .filter_map(ast::MethodCallExpr::cast)
        .filter(|call| owned_by(call.syntax(), &func))
        .collect();
    rewrite_unwraps(&own, tail_site, strategy, index, file, &text, parsed, plan);
    // Closures whose result the callee hands back (`with_buf(|b| ..)`
    // where `fn with_buf<F: FnOnce(..) -> R, R>(..) -> R`): they return the
    // error too, and the call gets `?`.
    for closure in body
        .syntax()
        .descendants()
        .filter_map(ast::ClosureExpr::cast)
        .filter(|closure| owned_by(closure.syntax(), &func))
    {
        let calls: Vec<ast::MethodCallExpr> = closure
            .syntax()
            .descendants()
            .filter_map(ast::MethodCallExpr::cast)
            .filter(|call| is_unwrap_call(call) && owned_by_closure(call.syntax(), &closure))
            .collect();
        if calls.is_empty() {
            continue;
        }
        if let Err(why) = passthrough(&closure, index, parsed) {
            // The function's own finding must not be left half done.
            if start_site_in(&closure, file, plan) {
                return Err(why);
            }
            continue;
        }
        rewrite_closure(&closure, strategy, index, file, &text, plan)?;
        rewrite_unwraps(&calls, None, strategy, index, file, &text, parsed, plan);
    }
    Ok(())
}

/// Whether the migration's own finding is inside `closure`.
fn start_site_in(closure: &ast::ClosureExpr, file: usize, plan: &Plan) -> bool {
    plan.start.is_some_and(|(start_file, offset)| {
        start_file == file && node_range(closure.syntax()).contains(&offset)
    })
}

/// Whether `node` belongs to `closure` itself, not to a closure, `async`
/// block or function nested in it.
fn owned_by_closure(node: &SyntaxNode, closure: &ast::ClosureExpr) -> bool {
    owned_by_body(node, closure.syntax())
}

/// `Ok(())` when the callee of the call `closure` is an argument of returns
/// what the closure returns: every crate function of that name takes the
/// closure as a generic `F: FnOnce(..) -> R` (or `FnMut`, `Fn`, or
/// `impl FnOnce(..) -> R`) at that position and returns exactly `R`.
fn passthrough(
    closure: &ast::ClosureExpr,
    index: &CrateIndex,
    parsed: &mut Parsed<'_>,
) -> Result<(), String> {
    let shown =
        |what: &str| format!("the closure is passed to {what}, which may not hand its result back");
    if closure.ret_type().is_some() {
        return Err("the closure declares its return type".to_string());
    }
    let list = closure
        .syntax()
        .parent()
        .filter(|p| p.kind() == SyntaxKind::ARG_LIST)
        .and_then(ast::ArgList::cast)
        .ok_or_else(|| shown("something other than a call"))?;
    let position = list
        .args()
        .position(|arg| arg.syntax() == closure.syntax())
        .ok_or_else(|| shown("something other than a call"))?;
    let call = list.syntax().parent().ok_or_else(|| shown("a call"))?;
    let (name, method) = if let Some(call) = ast::MethodCallExpr::cast(call.clone()) {
        (call.name_ref().map(|n| n.text().to_string()), true)
    } else if let Some(call) = ast::CallExpr::cast(call.clone()) {
        let path = crate::context::callee_path(&call);
        (
            path.and_then(|p| p.rsplit("::").next().map(str::to_string)),
            false,
        )
    } else {
        (None, false)
    };
    let name = name.ok_or_else(|| shown("a call"))?;
    let candidates: Vec<&Function> = index
        .functions_named(&name)
        .map(|(_, f)| f)
        .filter(|f| f.has_self == method && !f.test)
        .collect();
    if candidates.is_empty() {
        return Err(shown(&format!("`{name}`, which is not the crate's")));
    }
    for candidate in candidates {
        let func = parsed
            .function(candidate)
            .ok_or_else(|| shown(&format!("`{name}`")))?;
        if !hands_back(&func, position) {
            return Err(shown(&format!("`{}`", candidate.display())));
        }
    }
    Ok(())
}

/// Whether `func`'s parameter at `position` (not counting `self`) is a
/// closure type `F: FnOnce(..) -> R` and `func` returns exactly `R`.
fn hands_back(func: &ast::Fn, position: usize) -> bool {
    let squeeze =
        |node: &SyntaxNode| -> String { node.text().to_string().split_whitespace().collect() };
    let Some(ret) = func.ret_type().and_then(|r| r.ty()) else {
        return false;
    };
    let ret = squeeze(ret.syntax());
    let Some(param) = func
        .param_list()
        .and_then(|list| list.params().nth(position))
        .and_then(|p| p.ty())
    else {
        return false;
    };
    let ty = squeeze(param.syntax());
    let closure_bound = |bound: &str| {
        ["FnOnce(", "FnMut(", "Fn("]
            .iter()
            .any(|f| bound.starts_with(f))
            && bound.ends_with(&format!(")->{ret}"))
    };
    if let Some(bound) = ty.strip_prefix("impl") {
        return closure_bound(bound);
    }
    // `F` bound in the generic list or the `where` clause.
    let mut bounds: Vec<String> = Vec::new();
    if let Some(generics) = func.generic_param_list() {
        for param in generics.generic_params().filter_map(|p| match p {
            ast::GenericParam::TypeParam(param) => Some(param),
            _ => None,
        }) {
            if param.name().is_some_and(|n| n.text() == ty.as_str())
                && let Some(list) = param.type_bound_list()
            {
                bounds.extend(list.bounds().map(|b| squeeze(b.syntax())));
            }
        }
    }
    if let Some(clause) = func.where_clause() {
        for predicate in clause.predicates() {
            if predicate.ty().is_some_and(|t| squeeze(t.syntax()) == ty)
                && let Some(list) = predicate.type_bound_list()
            {
                bounds.extend(list.bounds().map(|b| squeeze(b.syntax())));
            }
        }
    }
    bounds.iter().any(|b| closure_bound(b))
}

/// The closure returns `Result<_, E>`: its returns and tail in `Ok(..)`,
/// and `?` after the call it is passed to.
fn rewrite_closure(
    closure: &ast::ClosureExpr,
    strategy: &Strategy,
    index: &CrateIndex,
    file: usize,
    text: &str,
    plan: &mut Plan,
) -> Result<(), String> {
    let body = closure
        .body()
        .ok_or_else(|| "a closure has no body".to_string())?;
    let ret = result_type("_", strategy, index, file);
    for ret_expr in body
        .syntax()
        .descendants()
        .filter_map(ast::ReturnExpr::cast)
        .filter(|r| owned_by_closure(r.syntax(), closure))
    {
        match ret_expr.expr() {
            Some(value) => {
                let range = node_range(value.syntax());
                push(plan, file, range.start..range.start, "Ok(", 0);
                push(plan, file, range.end..range.end, ")", 2);
            }
            None => {
                let end = usize::from(ret_expr.syntax().text_range().end());
                push(plan, file, end..end, " Ok(())", 1);
            }
        }
    }
    let range = node_range(body.syntax());
    match &body {
        ast::Expr::BlockExpr(block)
            if block.async_token().is_none()
                && block.label().is_none()
                && block.unsafe_token().is_none() =>
        {
            push(
                plan,
                file,
                range.start..range.start,
                format!("-> {ret} "),
                1,
            );
            let stmts = block
                .stmt_list()
                .ok_or_else(|| "a closure has an empty body".to_string())?;
            match stmts.tail_expr() {
                Some(ast::Expr::ReturnExpr(_)) => {}
                Some(tail) => {
                    let tail = node_range(tail.syntax());
                    push(plan, file, tail.start..tail.start, "Ok(", 0);
                    push(plan, file, tail.end..tail.end, ")", 2);
                }
                None => {
                    let close = stmts
                        .r_curly_token()
                        .ok_or_else(|| "a closure has an unclosed body".to_string())?;
                    let close_at = usize::from(close.text_range().start());
                    let trimmed = text[..close_at].trim_end().len();
                    let indent = line_indent(text, trimmed);
                    push(plan, file, trimmed..trimmed, format!("\n{indent}Ok(())"), 1);
                }
            }
        }
        _ => {
            push(
                plan,
                file,
                range.start..range.start,
                format!("-> {ret} {{ Ok("),
                0,
            );
            push(plan, file, range.end..range.end, ") }", 2);
        }
    }
    let call_end = closure
        .syntax()
        .parent()
        .and_then(|list| list.parent())
        .map(|call| usize::from(call.text_range().end()))
        .ok_or_else(|| "a closure is not passed to a call".to_string())?;
    push(plan, file, call_end..call_end, "?", 1);
    Ok(())
}

/// `x.unwrap()` / `x.expect(..)` among `calls` rewritten to the strategy's
/// conversion and `?` (none after `tail_site`, which is already the
/// function's `Result`).
#[allow(clippy::too_many_arguments)]
fn rewrite_unwraps(
    calls: &[ast::MethodCallExpr],
    tail_site: Option<Range<usize>>,
    strategy: &Strategy,
    index: &CrateIndex,
    file: usize,
    text: &str,
    parsed: &mut Parsed<'_>,
    plan: &mut Plan,
) {
    for call in calls {
        let Some(name) = call.name_ref() else {
            continue;
        };
        let args: Vec<ast::Expr> = call
            .arg_list()
            .map(|a| a.args().collect())
            .unwrap_or_default();
        let message = match (name.text(), args.len()) {
            ("unwrap", 0) => None,
            ("expect", 1) => Some(args[0].clone()),
            _ => continue,
        };
        let Some(receiver) = call.receiver() else {
            continue;
        };
        let name_range = node_range(name.syntax());
        let call_end = usize::from(call.syntax().text_range().end());
        // The arguments stay as written (comments and all): only the method's
        // name changes, and `?` follows the call.
        match (&message, strategy) {
            (None, Strategy::Anyhow) => {
                let text = format!(
                    "context({})",
                    made_up_message(&receiver, super::fix::Kind::Unknown)
                );
                push(plan, file, name_range.start..call_end, text, 1);
            }
            (None, _) => {
                let text = format!(
                    "or_unexpected({})",
                    made_up_message(&receiver, super::fix::Kind::Unknown)
                );
                push(plan, file, name_range.start..call_end, text, 1);
            }
            (Some(arg), Strategy::Anyhow) if !is_string_literal(arg) => {
                push(plan, file, name_range, "with_context", 1);
                let arg_range = node_range(arg.syntax());
                push(plan, file, arg_range.start..arg_range.start, "|| ", 1);
                push(plan, file, arg_range.end..arg_range.end, ".to_string()", 1);
            }
            (Some(_), Strategy::Anyhow) => push(plan, file, name_range, "context", 1),
            (Some(_), _) => push(plan, file, name_range, "or_unexpected", 1),
        }
        if tail_site.as_ref() != Some(&node_range(call.syntax())) {
            push(plan, file, call_end..call_end, "?", 1);
        }
        let at = node_range(call.syntax()).start;
        if let Some(import) = import(strategy, index, file, text, at, parsed) {
            push(plan, file, import.0.clone(), import.1, 1);
        }
    }
}

/// `x.unwrap()` or `x.expect(..)` with their usual arguments.
fn is_unwrap_call(call: &ast::MethodCallExpr) -> bool {
    let args = call.arg_list().map_or(0, |a| a.args().count());
    call.name_ref()
        .is_some_and(|name| matches!((name.text(), args), ("unwrap", 0) | ("expect", 1)))
}

fn is_string_literal(expr: &ast::Expr) -> bool {
    matches!(expr, ast::Expr::Literal(lit) if matches!(lit.kind(), ast::LiteralKind::String(_)))
}

/// Whether `node` belongs to `func` itself, not to a closure, `async` block
/// or nested function inside it.
fn owned_by(node: &SyntaxNode, func: &ast::Fn) -> bool {
    owned_by_body(node, func.syntax())
}

/// Whether `node` belongs to `owner` (a function or closure) itself: no
/// closure, `async` block or function stands between them.
fn owned_by_body(node: &SyntaxNode, owner: &SyntaxNode) -> bool {
    for ancestor in node.ancestors().skip(1) {
        if ancestor == *owner {
            return true;
        }
        match ancestor.kind() {
            SyntaxKind::FN | SyntaxKind::CLOSURE_EXPR => return false,
            SyntaxKind::BLOCK_EXPR => {
                if let Some(block) = ast::BlockExpr::cast(ancestor.clone())
                    && block.async_token().is_some()
                {
                    return false;
                }
            }
            _ => {}
        }
    }
    false
}

/// `Result<T, E>` in the spelling the strategy and the file allow.
fn result_type(ok: &str, strategy: &Strategy, index: &CrateIndex, file: usize) -> String {
    let error = match strategy {
        Strategy::Anyhow => return format!("anyhow::Result<{ok}>"),
        Strategy::CrateError { at, .. } => index.error_enums[*at].path.clone(),
        Strategy::NewError { .. } => "crate::UnexpectedError".to_string(),
    };
    let text = &index.files[file].text;
    // A file that names its own `Result` (an alias taking one argument, or
    // an import) gets std's spelled out.
    let shadowed = text.contains("type Result<")
        || text.lines().any(|line| {
            let line = line.trim_start();
            line.starts_with("use ")
                && line.contains("Result")
                && !line.contains("std::result::Result")
        });
    if shadowed {
        format!("std::result::Result<{ok}, {error}>")
    } else {
        format!("Result<{ok}, {error}>")
    }
}

/// The `use` the rewritten call at offset `at` needs in `file`, as an
/// insertion: at the top of the file, or of the inline `mod { .. }` around
/// the call (hyper-util's `mod internal`), where the file's own imports do
/// not reach.
fn import(
    strategy: &Strategy,
    index: &CrateIndex,
    file: usize,
    text: &str,
    at: usize,
    parsed: &mut Parsed<'_>,
) -> Option<(Range<usize>, String)> {
    let (path, word) = match strategy {
        Strategy::Anyhow => ("anyhow::Context as _".to_string(), "Context"),
        Strategy::CrateError { at, .. } => {
            let module = index.error_enums[*at].path.rsplit_once("::")?.0.to_string();
            (format!("{module}::OrUnexpected"), "OrUnexpected")
        }
        Strategy::NewError { .. } => ("crate::OrUnexpected".to_string(), "OrUnexpected"),
    };
    // The trait's own file needs no import.
    let defines_here = match strategy {
        Strategy::CrateError { at, .. } => index.error_enums[*at].file == file,
        Strategy::NewError { root } => *root == file,
        Strategy::Anyhow => false,
    };
    let edition = index.edition.unwrap_or(crate::Edition::CURRENT);
    let tree = parsed
        .files
        .entry(file)
        .or_insert_with(|| SourceFile::parse(text, edition).tree());
    // The innermost inline module around the call.
    let call = tree
        .syntax()
        .token_at_offset(ra_ap_syntax::TextSize::try_from(at).ok()?)
        .right_biased()?
        .parent()?;
    let module = call
        .ancestors()
        .filter_map(ast::Module::cast)
        .find_map(|m| m.item_list());
    // The trait's own file, outside inline modules: in scope everywhere.
    if defines_here && module.is_none() {
        return None;
    }
    // A call under `#[cfg(..)]` inside its function (hyper-util's
    // `set_interface`, whose `expect` is in a block for other OSes): a `use`
    // outside that block would be unused, and warned about, where the block
    // is compiled out; it goes into the block.
    if let Some(block) = cfg_block(&call) {
        let list = block.stmt_list()?;
        if text[node_range(list.syntax())].contains(&format!("use {path};")) {
            return None;
        }
        let first = list
            .statements()
            .map(|s| s.syntax().clone())
            .next()
            .or_else(|| list.tail_expr().map(|e| e.syntax().clone()))?;
        let start = node_range(&first).start;
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let indent = &text[line_start..start];
        let indent = if indent.trim().is_empty() { indent } else { "" };
        return Some((start..start, format!("use {path};\n{indent}")));
    }
    let scope = module
        .as_ref()
        .map_or(0..text.len(), |list| node_range(list.syntax()));
    if text[scope]
        .lines()
        .any(|l| l.trim_start().starts_with("use ") && l.contains(word))
    {
        return None;
    }
    // After the scope's last `use`, else before its first item.
    let items: Vec<ast::Item> = match &module {
        Some(list) => list.items().collect(),
        None => tree.items().collect(),
    };
    let last_use = items.iter().rev().find(|i| matches!(i, ast::Item::Use(_)));
    match last_use {
        // As the local fix places it (so the two agree when both add it):
        // on the line after the last `use`, keeping a trailing comment with
        // the `use` it belongs to.
        Some(item) => {
            let range = node_range(item.syntax());
            let end = range.end;
            let line_start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
            let indent = &text[line_start..range.start];
            let indent = if indent.trim().is_empty() { indent } else { "" };
            let rest = &text[end..];
            let line_end = rest.find('\n').map(|at| end + at + 1);
            Some(match line_end {
                Some(at) if is_trivia(&text[end..at]) => (at..at, format!("{indent}use {path};\n")),
                _ => (end..end, format!("\n{indent}use {path};")),
            })
        }
        None => {
            let first = items.first()?;
            let start = node_range(first.syntax()).start;
            // Inside a module, the line the first item starts on is
            // indented; the `use` takes that indent and gives it back.
            let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
            let indent = &text[line_start..start];
            let indent = if indent.trim().is_empty() { indent } else { "" };
            Some((start..start, format!("use {path};\n\n{indent}")))
        }
    }
}

/// The block a `use` for the call (a node at it) belongs in when it sits
/// under a `#[cfg(..)]` inside its function (or the function itself has
/// one): the block nearest that attribute on the way down to the call.
fn cfg_block(call: &ra_ap_syntax::SyntaxNode) -> Option<ast::BlockExpr> {
    let mut blocks: Vec<ast::BlockExpr> = Vec::new();
    for node in call.ancestors() {
        let cfg = ast::AnyHasAttrs::cast(node.clone()).is_some_and(|item| {
            ast::HasAttrs::attrs(&item)
                .any(|attr| crate::context::attr_text(&attr).starts_with("cfg("))
        });
        if let Some(block) = ast::BlockExpr::cast(node.clone()) {
            blocks.push(block);
        }
        if let Some(func) = ast::Fn::cast(node.clone()) {
            return cfg.then(|| func.body()).flatten();
        }
        if cfg {
            return blocks.last().cloned();
        }
    }
    None
}

/// `file:line:column` of an offset, for the diagnostic.
fn location(index: &CrateIndex, file: usize, offset: usize) -> String {
    let text = &index.files[file].text;
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |at| at + 1) + 1;
    // The whole path: the caller shows it relative to the current
    // directory, as it shows the finding's own file.
    format!("{}:{line}:{column}", index.files[file].path.display())
}

/// The bridge key of callers returning `io::Result`.
const IO_ERROR: &str = "std::io::Error";

/// `impl From<UnexpectedError> for std::io::Error` in the crate root, next to
/// the new error type: `?` then carries the new error into every function
/// returning `io::Result`, as `io::Error::other` (an impl the orphan rule
/// allows, as the new error is the crate's own).
fn io_bridge(ctx: &CrateContext<'_>, index: &CrateIndex, root: usize, plan: &mut Plan) {
    // An item, not a mention in a comment.
    let bridged = index.files.iter().any(|f| {
        f.text.lines().any(|line| {
            line.trim_start().starts_with("impl From<")
                && line.contains("UnexpectedError> for std::io::Error")
        })
    });
    if bridged {
        return;
    }
    let Ok(io_error) = syn::parse_str::<syn::Expr>(&io_error("error", ctx)) else {
        return;
    };
    let item = quote! {
        #[doc = " Carries an `UnexpectedError` into functions returning `io::Result`"]
        #[doc = " (written by `temper fix`)."]
        impl From<crate::UnexpectedError> for std::io::Error {
            fn from(error: crate::UnexpectedError) -> Self {
                #io_error
            }
        }
    };
    if let Some(text) = crate::synth::items(item, "") {
        let end = index.files[root].text.trim_end().len();
        push(plan, root, end..end, format!("\n\n{text}"), 3);
    }
}

/// Items the strategy adds to the crate: the variant, the trait, the type,
/// and the bridges into callers' error types. The variant is a line inside
/// an existing enum (a text edit); the items are synthesised with `quote`.
fn helper_items(strategy: &Strategy, ctx: &CrateContext<'_>, index: &CrateIndex, plan: &mut Plan) {
    match strategy {
        Strategy::Anyhow => {}
        Strategy::CrateError { at, add_variant } => {
            let error = &index.error_enums[*at];
            if *add_variant {
                let text = &index.files[error.file].text;
                let before = text[..error.variants_end].trim_end().len();
                let comma = if text[..before].ends_with(',') || text[..before].ends_with('{') {
                    ""
                } else {
                    ","
                };
                push(
                    plan,
                    error.file,
                    before..before,
                    format!(
                        "{comma}\n    /// An `unwrap` or `expect` that used to panic (written by `temper fix`).\n    #[error(\"{{0}}\")]\n    Unexpected(String),"
                    ),
                    1,
                );
            }
            if !index.files[error.file].text.contains("trait OrUnexpected") {
                let name = quote::format_ident!("{}", error.name);
                let error_of = quote! { std::result::Result<T, #name> };
                let items = or_unexpected(
                    &error_of,
                    &quote! { #name::Unexpected(message.to_string()) },
                    &quote! { #name::Unexpected(format!("{}: {:?}", message, error)) },
                );
                if let Some(text) = crate::synth::items(items, "") {
                    push(
                        plan,
                        error.file,
                        error.item_end..error.item_end,
                        format!("\n\n{text}"),
                        1,
                    );
                }
            }
        }
        Strategy::NewError { root } => {
            for (key, (file, bridge)) in &plan.bridges.clone() {
                if key == IO_ERROR {
                    io_bridge(ctx, index, *root, plan);
                    continue;
                }
                let error = &bridge.error;
                let name = error.rsplit("::").next().unwrap_or(error);
                let bridged = index.files.iter().any(|f| {
                    f.text
                        .contains(&format!("From<crate::UnexpectedError> for {key}"))
                        || f.text
                            .contains(&format!("From<crate::UnexpectedError> for {error}"))
                });
                let Some(ty) = crate::synth::type_tokens(error) else {
                    continue;
                };
                let Ok(io_error) = syn::parse_str::<syn::Expr>(&io_error("error", ctx)) else {
                    continue;
                };
                let (doc, body) = match &bridge.via {
                    Via::Message => (
                        format!(" Carries an `UnexpectedError` as its message, a `{key}`"),
                        if key == "String" {
                            quote! { error.to_string() }
                        } else {
                            quote! { error.to_string().into() }
                        },
                    ),
                    Via::Constructor(constructor) => {
                        let call = quote::format_ident!("{}", constructor);
                        (
                            format!(
                                " Carries an `UnexpectedError` as an `io::Error`, which `{name}::{constructor}`"
                            ),
                            quote! { Self::#call(#io_error) },
                        )
                    }
                    Via::IoFrom => (
                        format!(
                            " Carries an `UnexpectedError` as an `io::Error`, which `{name}` converts"
                        ),
                        quote! { #io_error.into() },
                    ),
                };
                let second = match &bridge.via {
                    Via::Message => " (written by `temper fix`).",
                    Via::Constructor(_) => " takes (written by `temper fix`).",
                    Via::IoFrom => " from (written by `temper fix`).",
                };
                let item = quote! {
                    #[doc = #doc]
                    #[doc = #second]
                    impl From<crate::UnexpectedError> for #ty {
                        fn from(error: crate::UnexpectedError) -> Self {
                            #body
                        }
                    }
                };
                let Some(text) = crate::synth::items(item, "").filter(|_| !bridged) else {
                    continue;
                };
                let end = index.files[*file].text.trim_end().len();
                push(plan, *file, end..end, format!("\n\n{text}"), 2);
            }
            let text = &index.files[*root].text;
            if text.contains("struct UnexpectedError") {
                return;
            }
            let mut items = quote! {
                #[doc = " An `unwrap` or `expect` that used to panic, returned as an error instead"]
                #[doc = " (written by `temper fix`)."]
                #[derive(Debug)]
                pub struct UnexpectedError(String);

                impl std::fmt::Display for UnexpectedError {
                    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(&self.0)
                    }
                }

                impl std::error::Error for UnexpectedError {}
            };
            items.extend(or_unexpected(
                // A crate root often has a `Result` alias of its own.
                &quote! { std::result::Result<T, UnexpectedError> },
                &quote! { UnexpectedError(message.to_string()) },
                &quote! { UnexpectedError(format!("{}: {:?}", message, error)) },
            ));
            if let Some(text) = crate::synth::items(items, "") {
                let end = index.files[*root].text.trim_end().len();
                push(plan, *root, end..end, format!("\n\n{text}"), 1);
            }
        }
    }
}

/// The `OrUnexpected` extension trait and its impls for `Option` and
/// `Result`, returning `result` (a `Result<T, E>` type) with the error made
/// by `from_none` or `from_err` (which see `message` and `error`).
fn or_unexpected(
    result: &proc_macro2::TokenStream,
    from_none: &proc_macro2::TokenStream,
    from_err: &proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    quote! {
        #[doc = " Turns an unexpected `None` or `Err` into an error the caller can handle"]
        #[doc = " (written by `temper fix` in place of `unwrap` and `expect`)."]
        pub(crate) trait OrUnexpected<T> {
            fn or_unexpected(self, message: &str) -> #result;
        }

        impl<T> OrUnexpected<T> for Option<T> {
            fn or_unexpected(self, message: &str) -> #result {
                self.ok_or_else(|| #from_none)
            }
        }

        impl<T, E: std::fmt::Debug> OrUnexpected<T> for std::result::Result<T, E> {
            fn or_unexpected(self, message: &str) -> #result {
                self.map_err(|error| #from_err)
            }
        }
    }
}

/// Turns the plan into one fix: the edits inside each changed function are
/// merged into one replacement of the function, so the fix's edits never
/// overlap one another.
fn finish(
    mut plan: Plan,
    strategy: &Strategy,
    ctx: &CrateContext<'_>,
    index: &CrateIndex,
    start: usize,
) -> Result<(Fix, Vec<String>), String> {
    helper_items(strategy, ctx, index, &mut plan);
    let mut edits = Vec::new();
    let migrated: Vec<usize> = plan.migrated.keys().copied().collect();
    for (&file, pieces) in &mut plan.pieces {
        pieces.sort_by(|a, b| {
            (a.range.start, a.order, a.range.end).cmp(&(b.range.start, b.order, b.range.end))
        });
        pieces.dedup_by(|a, b| a.range == b.range && a.text == b.text);
        let text = &index.files[file].text;
        // Group the pieces inside each migrated function of this file.
        let mut groups: Vec<(Range<usize>, Vec<Piece>)> = migrated
            .iter()
            .map(|&f| &index.functions[f])
            .filter(|f| f.file == file)
            .map(|f| (f.range.clone(), Vec::new()))
            .collect();
        groups.sort_by_key(|(range, _)| range.start);
        for window in groups.windows(2) {
            if window[0].0.end > window[1].0.start {
                return Err("two of the functions to change are nested in one another".to_string());
            }
        }
        let mut loose = Vec::new();
        for piece in pieces.drain(..) {
            // An insertion right after a function's closing brace (the new
            // error type at the end of the file, when the function is last)
            // is not the function's: it stays an edit of its own, which
            // another migration making the same insertion shares.
            let after =
                |range: &Range<usize>| piece.range.is_empty() && piece.range.start == range.end;
            match groups.iter_mut().find(|(range, _)| {
                range.start <= piece.range.start && piece.range.end <= range.end && !after(range)
            }) {
                Some((_, group)) => group.push(piece),
                None => loose.push(piece),
            }
        }
        let path = index.files[file].path.clone();
        let target = (path != ctx.file).then_some(path);
        for (range, group) in groups {
            if group.is_empty() {
                continue;
            }
            let replacement = apply(text, range.clone(), &group)?;
            edits.push(edit(&target, range, replacement));
        }
        // Insertions at one offset become one edit, in order.
        let mut at = 0;
        while at < loose.len() {
            let mut next = at + 1;
            let mut replacement = loose[at].text.clone();
            while next < loose.len()
                && loose[next].range == loose[at].range
                && loose[at].range.is_empty()
            {
                replacement.push_str(&loose[next].text);
                next += 1;
            }
            edits.push(edit(&target, loose[at].range.clone(), replacement));
            at = next;
        }
    }
    edits.sort_by(|a, b| (&a.file, a.range.start).cmp(&(&b.file, b.range.start)));
    for pair in edits.windows(2) {
        if pair[0].file == pair[1].file && pair[0].range.end > pair[1].range.start {
            return Err("the rewrite of the callers overlaps itself".to_string());
        }
    }
    let root = &index.functions[start];
    let changed: Vec<String> = migrated
        .iter()
        .filter(|&&f| f != start)
        .map(|&f| format!("`{}`", index.functions[f].display()))
        .collect();
    let public: Vec<String> = migrated
        .iter()
        .map(|&f| &index.functions[f])
        .filter(|f| f.public)
        .map(|f| {
            format!(
                "`{}` ({})",
                f.display(),
                location(index, f.file, f.range.start)
            )
        })
        .collect();
    let error = match strategy {
        Strategy::Anyhow => "anyhow::Error".to_string(),
        Strategy::CrateError { at, .. } => format!("`{}`", index.error_enums[*at].name),
        Strategy::NewError { .. } => "a new `UnexpectedError`".to_string(),
    };
    let mut message = format!("make `{}` return a `Result` with {error}", root.display());
    if !changed.is_empty() {
        message.push_str(&format!(" and carry it through {}", changed.join(", ")));
    }
    let mut notes = Vec::new();
    if !public.is_empty() {
        notes.push(format!(
            "the fix changes public signatures, a breaking change for the crate's users: {}",
            public.join(", ")
        ));
    }
    if plan.bridges.contains_key(IO_ERROR) {
        notes.push(
            "callers returning `io::Result` get the new error as `io::Error::other(..)`, through `impl From<UnexpectedError> for std::io::Error`".to_string(),
        );
    }
    for (kind, how) in [
        (
            Via::IoFrom,
            "through the `From<io::Error>` they already have",
        ),
        (Via::Message, "which hands over the error's message"),
        (
            Via::Constructor(String::new()),
            "through the constructor from `io::Error` they already have",
        ),
    ] {
        let names: Vec<String> = plan
            .bridges
            .iter()
            .filter(|(key, (_, b))| {
                *key != IO_ERROR && std::mem::discriminant(&b.via) == std::mem::discriminant(&kind)
            })
            .map(|(key, (_, b))| match &b.via {
                Via::Constructor(f) => format!("`{key}` (through `{}::{f}`)", b.error),
                _ => format!("`{key}`"),
            })
            .collect();
        if !names.is_empty() {
            notes.push(format!(
                "callers returning {} get `impl From<UnexpectedError>`, {how}",
                names.join(", ")
            ));
        }
    }
    if !plan.dropped.is_empty() {
        notes.push(format!(
            "`Drop::drop` cannot return the error: the call{} at {} ignore{} it with `let _ = ..`, so the rest of `drop` still runs instead of panicking",
            if plan.dropped.len() == 1 { "" } else { "s" },
            plan.dropped.join(", "),
            if plan.dropped.len() == 1 { "s" } else { "" }
        ));
    }
    let still_panicking = |count: usize, place: &str| {
        let (s, verb) = if count == 1 { ("", "s") } else { ("s", "") };
        format!("{count} call{s} in {place} keep{verb} panicking with `.unwrap()`")
    };
    if plan.unwrapped_docs > 0 {
        notes.push(format!(
            "{}; the examples may rather show `?`",
            still_panicking(plan.unwrapped_docs, "doc examples")
        ));
    }
    if plan.unwrapped > 0 {
        notes.push(still_panicking(plan.unwrapped, "test or binary code"));
    }
    Ok((
        Fix {
            message,
            applicability: Applicability::Unsafe,
            edits,
        },
        notes,
    ))
}

fn edit(target: &Option<PathBuf>, range: Range<usize>, replacement: String) -> Edit {
    Edit {
        file: target.clone(),
        range,
        replacement,
    }
}

/// `text[range]` with `pieces` (sorted, inside the range) applied.
fn apply(text: &str, range: Range<usize>, pieces: &[Piece]) -> Result<String, String> {
    let mut out = String::new();
    let mut cursor = range.start;
    for piece in pieces {
        if piece.range.start < cursor {
            return Err("two rewrites of one function overlap".to_string());
        }
        out.push_str(&text[cursor..piece.range.start]);
        out.push_str(&piece.text);
        cursor = piece.range.end;
    }
    out.push_str(&text[cursor..range.end]);
    Ok(out)
}

/// The return type `ret` as written, or, when it names an associated type
/// (`Poll<Self::Output>`), as the impl defines it (`Poll<Result<u16, E>>`).
fn expanded_ret(
    ret: &str,
    finding: &Finding,
    ctx: &CrateContext<'_>,
    index: &CrateIndex,
) -> String {
    if !ret.contains("Self::") {
        return ret.to_string();
    }
    index
        .file_of(ctx.file)
        .and_then(|file| index.function_at(file, finding.range.start))
        .and_then(|at| index.functions[at].ret_expanded.clone())
        .unwrap_or_else(|| ret.to_string())
}

/// `opt.unwrap()` in a function returning `Result<_, E>`: `.ok_or(..)?` with
/// the message, when the crate evidently makes an `E` (or something `?`
/// converts into one) from a message.
fn option_error(
    finding: &mut Finding,
    data: &[String],
    ctx: &CrateContext<'_>,
    index: &CrateIndex,
) {
    // A last `guessed`: the receiver was taken for an `Option` by its
    // method's name alone.
    let [_, ret, message, method_call, rest @ ..] = data else {
        return;
    };
    let guessed = rest.first().is_some_and(|flag| flag == GUESSED);
    // `Option::unwrap(x)` is rare: only method calls are rewritten.
    if method_call != "true" {
        return;
    }
    // `expect` with a message that is not a literal is left alone: it may
    // borrow what does not live long enough for the error.
    if message.is_empty() {
        return;
    }
    let ret = expanded_ret(ret, finding, ctx, index);
    let Some(error) = index.error_type(&ret) else {
        return;
    };
    let Some((method, value, how, exact)) =
        error_value(&error, message, finding.range.start, ctx, index)
    else {
        return;
    };
    // The finding's span is the method's name through the call's end.
    let range = finding.range.clone();
    let replacement = match method {
        "ok_or" => format!("ok_or({value})?"),
        _ => format!("ok_or_else(|| {value})?"),
    };
    finding
        .notes
        .retain(|note| !note.starts_with("no automatic fix: an `Option` needs an error value"));
    if !exact {
        finding.notes.push(format!(
            "the `None` case becomes {how}, chosen from what the crate already converts or constructs; a value of `{error}` made for this case may describe it better"
        ));
    }
    finding.fix = Some(Fix {
        message: format!("return {how} with `.{method}(..)?`"),
        // An error value temper picked among several is a guess: unsafe.
        applicability: if exact && !guessed {
            Applicability::Safe
        } else {
            Applicability::Unsafe
        },
        edits: vec![Edit::replace(range, replacement)],
    });
}

/// `x.m().unwrap()` or `x.f.unwrap()` offered as `?` with the kind unknown:
/// when every method `m` (or field `f`) of the crate is an `Option`, `?`
/// cannot compile in a `Result` function, so the fix becomes the `Option`'s
/// (an error value, as for a known `Option`), or none.
fn receiver_kind(
    finding: &mut Finding,
    data: &[String],
    ctx: &CrateContext<'_>,
    index: &CrateIndex,
) {
    let [_, ret, message, method_call, what, name, on_self] = data else {
        return;
    };
    let ret = &expanded_ret(ret, finding, ctx, index);
    // `self.m()`: only the methods of the type whose method holds the call.
    let own_type = (on_self == "true")
        .then(|| {
            let file = index.file_of(ctx.file)?;
            let at = index.function_at(file, finding.range.start)?;
            match &index.functions[at].owner {
                Owner::Inherent(ty) | Owner::TraitImpl { self_ty: ty, .. } => Some(ty.clone()),
                _ => None,
            }
        })
        .flatten()
        .filter(|ty| {
            index.functions_named(name).any(|(_, f)| {
                f.has_self
                    && matches!(&f.owner, Owner::Inherent(t) | Owner::TraitImpl { self_ty: t, .. } if t == ty)
            })
        });
    let options = match what.as_str() {
        "method" => {
            let methods: Vec<&Function> = index
                .functions_named(name)
                .map(|(_, f)| f)
                .filter(|f| f.has_self && !f.test)
                .filter(|f| {
                    own_type.as_ref().is_none_or(|ty| {
                        matches!(&f.owner, Owner::Inherent(t) | Owner::TraitImpl { self_ty: t, .. } if t == ty)
                    })
                })
                .collect();
            let rets: Vec<String> = methods
                .iter()
                .map(|f| {
                    f.ret.as_ref().map_or(String::new(), |r| {
                        index.files[f.file].text[r.clone()]
                            .split_whitespace()
                            .collect()
                    })
                })
                .collect();
            // A std type's method of that name may be the one called.
            let std_name = own_type.is_none() && is_fallible_std_method(name);
            if ret.starts_with("Option<") {
                if !std_name {
                    option_function(finding, name, &rets, ctx, index);
                }
                return;
            }
            if std_name && !rets.iter().all(|r| r.starts_with("Option<")) {
                return;
            }
            if !rets.is_empty() && !rets.iter().any(|r| r.starts_with("Option<")) {
                let modules: Vec<String> = methods
                    .iter()
                    .map(|f| index.module_at(f.file, f.range.start))
                    .collect();
                receiver_result(finding, ret, name, (&rets, &modules), ctx, index);
                return;
            }
            !rets.is_empty() && rets.iter().all(|r| r.starts_with("Option<"))
        }
        _ => {
            let types: Vec<&String> = index
                .structs
                .iter()
                .flat_map(|(_, fields)| fields.iter())
                .filter(|(field, _)| field == name)
                .map(|(_, ty)| ty)
                .collect();
            !types.is_empty() && types.iter().all(|ty| ty.starts_with("Option<"))
        }
    };
    if !options {
        return;
    }
    let shown = match what.as_str() {
        "method" => format!("every `{name}` method of the crate returns an `Option`"),
        _ => format!("every `{name}` field of the crate is an `Option`"),
    };
    finding.fix = None;
    option_error(
        finding,
        &[
            OPTION_REQUEST.to_string(),
            ret.clone(),
            message.clone(),
            method_call.clone(),
        ],
        ctx,
        index,
    );
    if let Some(fix) = &mut finding.fix {
        // The receiver's type is inferred from names: unsafe.
        fix.applicability = Applicability::Unsafe;
        finding
            .notes
            .push(format!("the receiver is an `Option`: {shown}"));
    } else {
        finding.notes.push(format!(
            "no automatic fix: the receiver is an `Option` ({shown}), and the function's error type takes no message"
        ));
    }
}

/// Where `.unwrap()` / `.expect(..)` of the finding starts: its `.`, after
/// the receiver's last character.
fn dot_before(finding: &Finding, ctx: &CrateContext<'_>, index: &CrateIndex) -> Option<usize> {
    let file = index.file_of(ctx.file)?;
    let text = &index.files[file].text;
    let dot = text[..finding.range.start].trim_end().strip_suffix('.')?;
    Some(dot.trim_end().len())
}

/// Whether the return type `ret` (whitespace removed) is a `Result`: std's,
/// `io::Result`, or one of the crate's aliases.
fn is_result(ret: &str, index: &CrateIndex) -> bool {
    ret.starts_with("Result<")
        || ret.starts_with("io::Result<")
        || ret.starts_with("std::io::Result<")
        || index
            .result_aliases
            .iter()
            .any(|(alias, _)| ret.split('<').next() == Some(alias.as_str()))
}

/// `x.m().unwrap()` guessed as `?` in a function returning an `Option`:
/// when every method `m` of the crate returns a `Result`, `?` cannot compile,
/// and `.ok()?` is what turns it into the function's `None`.
fn option_function(
    finding: &mut Finding,
    name: &str,
    rets: &[String],
    ctx: &CrateContext<'_>,
    index: &CrateIndex,
) {
    let results = !rets.is_empty() && rets.iter().all(|r| is_result(r, index));
    if !results || finding.fix.is_none() {
        return;
    }
    let Some(start) = dot_before(finding, ctx, index) else {
        return;
    };
    finding.notes.push(format!(
        "the receiver is a `Result`: every `{name}` method of the crate returns one, so its error becomes the function's `None`"
    ));
    finding.fix = Some(Fix {
        message: "propagate with `.ok()?`".to_string(),
        applicability: Applicability::Unsafe,
        edits: vec![Edit::replace(start..finding.range.end, ".ok()?")],
    });
}

/// `x.m().unwrap()` / `.expect(..)` where every method `m` of the crate
/// returns `Result<_, S>` for one error type `S`: when the function's error
/// is `S` or converts from it, `?` (unsafe: the receiver's type is inferred
/// from the name); when it evidently does not, no fix.
fn receiver_result(
    finding: &mut Finding,
    ret: &str,
    name: &str,
    (rets, modules): (&[String], &[String]),
    ctx: &CrateContext<'_>,
    index: &CrateIndex,
) {
    // Each method's error type, and the module it is written in.
    let sources: Vec<Option<(String, &str)>> = rets
        .iter()
        .zip(modules)
        .map(|(r, module)| {
            if is_result(r, index) {
                Some((index.error_type(r)?, module.as_str()))
            } else {
                None
            }
        })
        .collect();
    let Some(Some((source, _))) = sources.first() else {
        return;
    };
    let last = |ty: &str| -> String {
        let ty = ty.split('<').next().unwrap_or(ty);
        ty.rsplit("::").next().unwrap_or(ty).to_string()
    };
    if sources
        .iter()
        .any(|s| s.as_ref().is_none_or(|(s, _)| last(s) != last(source)))
    {
        return;
    }
    let Some(target) = index.error_type(ret) else {
        return;
    };
    let Some(file) = index.file_of(ctx.file) else {
        return;
    };
    let here = index.module_at(file, finding.range.start);
    let shown = format!("every `{name}` method of the crate returns `Result<_, {source}>`");
    // `io::Error` and the like are not the crate's: a crate `Error` of the
    // same last name says nothing about them.
    let foreign = ["std::", "core::", "io::", "fmt::"]
        .iter()
        .any(|p| target.starts_with(p));
    // Two types of the crate share the name (h2's `crate::Error` and
    // `proto::Error`): the paths, followed through each module's `use`s,
    // tell which one each signature means, or nothing is taken for granted.
    let ambiguous = |ty: &str| index.type_names.get(&last(ty)).is_some_and(|&n| n > 1);
    let resolved = if !foreign && (ambiguous(&target) || ambiguous(source)) {
        let Some(wanted) = index.resolve_type(&here, &target) else {
            return;
        };
        let decls: Option<Vec<usize>> = sources
            .iter()
            .flatten()
            .map(|(s, module)| index.resolve_type(module, s))
            .collect();
        match decls.as_deref() {
            Some([first, rest @ ..]) if rest.iter().all(|d| d == first) => Some((*first, wanted)),
            _ => return,
        }
    } else {
        None
    };
    let converts = if foreign {
        let plain = |ty: &str| {
            ty.trim_start_matches("std::")
                .trim_start_matches("core::")
                .to_string()
        };
        plain(&target) == plain(source)
    } else if let Some((from, to)) = resolved {
        from == to || index.converts_decl(from, to)
    } else {
        last(&target) == last(source)
            || index.converts(&[source.as_str(), last(source).as_str()], &target, &here)
    } || target.starts_with("Box<dyn")
        || target == "anyhow::Error"
        || target == "eyre::Report";
    let unknown_kind = |n: &String| n.starts_with("no automatic fix: whether this is an `Option`");
    if !converts {
        // `io::Error` takes any error of the crate that implements
        // `std::error::Error` through `io::Error::other` (whether it is
        // `Send + Sync` the index cannot tell: unsafe, `--verify` checks).
        // Or an error of the crate that `?` makes from an `io::Error`.
        let io_target = matches!(target.as_str(), "io::Error" | "std::io::Error")
            || (!foreign && index.converts(&["io::Error", "std::io::Error"], &target, &here));
        let own_error = index.std_errors.contains(&last(source))
            && index.type_names.get(&last(source)).is_none_or(|&n| n <= 1);
        let guessed = finding
            .fix
            .as_ref()
            .is_none_or(|fix| fix.applicability == Applicability::Unsafe);
        if io_target
            && own_error
            && guessed
            && let Some(file) = index.file_of(ctx.file)
            && let Some(start) = dot_before(finding, ctx, index)
        {
            // `x\n    .expect(..)` keeps its layout: `x\n    .map_err(..)?`.
            let text = &index.files[file].text;
            let start = match text[start..finding.range.start].find('.') {
                Some(dot) if text[start..start + dot].contains('\n') => start + dot,
                _ => start,
            };
            finding.help = Some(super::fix::IO_OTHER_HELP.to_string());
            finding.notes.retain(|n| !unknown_kind(n));
            let into = if foreign {
                String::new()
            } else {
                format!(", which `?` converts into `{target}`")
            };
            finding.notes.push(format!(
                "the receiver is a `Result`: {shown}; `{source}` implements `std::error::Error`, and `io::Error::other` wraps it{into}"
            ));
            // No fix yet: an `expect`, which was not guessed.
            let message = match finding.fix {
                None => format!(
                    "{} {}",
                    super::fix::IO_OTHER_HELP,
                    super::fix::MESSAGE_DROPPED
                ),
                Some(_) => super::fix::IO_OTHER_HELP.to_string(),
            };
            finding.fix = Some(Fix {
                message,
                applicability: Applicability::Unsafe,
                edits: vec![Edit::replace(
                    start..finding.range.end,
                    format!(
                        ".map_err({})?",
                        super::fix::io_other(before_io_error_other(ctx))
                    ),
                )],
            });
            return;
        }
        // A conversion the index does not see (a generic `From`, a macro)
        // may still exist: only the fix guessed without it is withdrawn.
        if finding.fix.is_none() || guessed {
            finding.fix = None;
            finding.notes.retain(|n| !unknown_kind(n));
            finding.notes.push(format!(
                "no automatic fix: {shown}, and no `From<{source}>` for `{target}` is in the crate"
            ));
        }
        return;
    }
    let note = format!("the receiver is a `Result`: {shown}, which `?` converts into `{target}`");
    if finding.fix.is_some() {
        finding.notes.push(note);
        return;
    }
    // An `expect`, which was not guessed: `?` in place of `.expect(..)`.
    let Some(start) = dot_before(finding, ctx, index) else {
        return;
    };
    finding.notes.retain(|n| !unknown_kind(n));
    finding.notes.push(note);
    finding.fix = Some(Fix {
        message: format!("propagate with `?` {}", super::fix::MESSAGE_DROPPED),
        applicability: Applicability::Unsafe,
        edits: vec![Edit::replace(start..finding.range.end, "?")],
    });
}

/// A type written without whitespace (`Box<dynstd::error::Error>`), as
/// it is shown in a message (`Box<dyn std::error::Error>`).
fn spaced(ty: &str) -> String {
    let ty = ty.replace("<dyn", "<dyn ").replace('+', " + ");
    match ty.strip_prefix("dyn") {
        Some(rest) if !rest.starts_with(' ') => format!("dyn {rest}"),
        _ => ty,
    }
}

/// An expression of the error type `error` (or of one `?` converts into it)
/// carrying `message` (a string literal), the `Option` method that takes it,
/// and what it is in words.
fn error_value(
    error: &str,
    message: &str,
    offset: usize,
    ctx: &CrateContext<'_>,
    index: &CrateIndex,
) -> Option<(&'static str, String, String, bool)> {
    let module = index
        .file_of(ctx.file)
        .map_or_else(|| "crate".to_string(), |file| index.module_at(file, offset));
    // `type Error = Box<dyn std::error::Error + Send + Sync>;` declared in
    // the module of the call (hyper-util): what the alias names. (The same
    // name elsewhere may be another type: a `use`d one, or the crate's.)
    let error = match index.alias(error) {
        Some((declared, target)) if declared == module => target,
        _ => error,
    };
    let boxed = error.starts_with("Box<dyn") && error.contains("Error");
    let io = matches!(error, "io::Error" | "std::io::Error");
    // std converts a `&'static str` into these with `?`.
    let from_str = error == "&'staticstr" || MESSAGE_ERRORS.contains(&error);
    let converts = |sources: &[&str]| index.converts(sources, error, &module);
    if io || converts(&["io::Error", "std::io::Error"]) {
        let how = if io {
            "the message as an `io::Error`".to_string()
        } else {
            format!("the message as an `io::Error`, which `{error}` converts from")
        };
        return Some(("ok_or_else", io_error(message, ctx), how, io));
    }
    if boxed || from_str || converts(&["&str", "&\'staticstr", "&'staticstr", "&'astr"]) {
        return Some((
            "ok_or",
            message.to_string(),
            format!("the message as `{}`", spaced(error)),
            true,
        ));
    }
    if converts(&["String", "std::string::String"]) {
        return Some((
            "ok_or_else",
            format!("{message}.to_string()"),
            format!("the message as `{}`", spaced(error)),
            true,
        ));
    }
    if let Some(fmt) = error.strip_suffix("fmt::Error") {
        // A formatting error carries no message: the caller of `format!`
        // sees `fmt::Error` (and `to_string` panics with its own message).
        return Some((
            "ok_or",
            format!("{fmt}fmt::Error"),
            "`fmt::Error`".to_string(),
            true,
        ));
    }
    if error == "anyhow::Error" || error == "eyre::Report" {
        let krate = error.split("::").next().unwrap_or("anyhow");
        let mac = if krate == "anyhow" { "anyhow" } else { "eyre" };
        return Some((
            "ok_or_else",
            format!("{krate}::{mac}!({message})"),
            format!("the message as `{}`", spaced(error)),
            true,
        ));
    }
    constructor_value(error, message, offset, ctx, index)
}

/// `Error::config(..)` and the like: an associated function of the crate's
/// own error type that takes something a message makes, visible where the
/// `unwrap` is. The one the surrounding code already calls most is chosen.
fn constructor_value(
    error: &str,
    message: &str,
    offset: usize,
    ctx: &CrateContext<'_>,
    index: &CrateIndex,
) -> Option<(&'static str, String, String, bool)> {
    let written = error.split('<').next()?;
    if written.is_empty()
        || !written
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == ':')
    {
        return None;
    }
    let name = written.rsplit("::").next()?;
    let file = index.file_of(ctx.file)?;
    // Constructors are found by the type's name: with two crate types of
    // that name (h2's `crate::Error` and `proto::Error`), the one the path
    // resolves to, and the `impl` blocks whose type resolves to it.
    let decl = if index.type_names.get(name).is_some_and(|&n| n > 1) {
        Some(index.resolve_type(&index.module_at(file, offset), written)?)
    } else {
        None
    };
    let body = index
        .function_at(file, offset)
        .and_then(|at| index.functions[at].body.clone())
        .unwrap_or(offset..offset);
    let text = &index.files[file].text;
    let mut best: Option<((usize, usize, usize), String, String)> = None;
    for function in &index.functions {
        if function.has_self
            || function.test
            || function.owner != Owner::Inherent(name.to_string())
            || function.params.len() != 1
            || decl.is_some_and(|decl| {
                let module = index.module_at(function.file, function.range.start);
                index.resolve_type(&module, name) != Some(decl)
            })
        {
            continue;
        }
        let Some(ret) = &function.ret else { continue };
        let ret_text: String = index.files[function.file].text[ret.clone()]
            .split_whitespace()
            .collect();
        if ret_text != "Self" && ret_text.split('<').next() != Some(name) {
            continue;
        }
        // Private: callable from its own module and the modules inside it.
        if !function.crate_visible && !within_module(index, function.file, file) {
            continue;
        }
        let param: String = function.params[0].split_whitespace().collect();
        let Some(argument) = message_argument(&param, message, ctx) else {
            continue;
        };
        let call = format!("{name}::{}", function.name);
        // Whole paths only: `Error::config` is not `Error::config_parse`.
        let uses = |within: &str| {
            within
                .match_indices(call.as_str())
                .filter(|(at, _)| {
                    !within[at + call.len()..]
                        .starts_with(|c: char| c.is_alphanumeric() || c == '_')
                })
                .count()
        };
        let crate_uses: usize = index.files.iter().map(|f| uses(&f.text)).sum();
        let score = (uses(&text[body.clone()]), uses(text), crate_uses);
        if best.as_ref().is_none_or(|(top, _, _)| score > *top) {
            best = Some((
                score,
                format!("{written}::{}({argument})", function.name),
                format!("the message through `{call}`"),
            ));
        }
    }
    if best.is_none() {
        return newtype_value(written, name, message, (file, ctx), index);
    }
    best.map(|(_, value, how)| ("ok_or_else", value, how, false))
}

/// `Error(Some(msg.to_string()))` and the like: the crate's error is a tuple
/// struct whose one field holds a message, reachable from `file`.
fn newtype_value(
    written: &str,
    name: &str,
    message: &str,
    (file, ctx): (usize, &CrateContext<'_>),
    index: &CrateIndex,
) -> Option<(&'static str, String, String, bool)> {
    let mut candidates = index.newtypes.iter().filter(|n| n.name == name);
    let newtype = candidates.next()?;
    if candidates.next().is_some() {
        return None;
    }
    if !newtype.field_visible
        && (newtype.inline_module || !within_module(index, newtype.file, file))
    {
        return None;
    }
    let argument = match newtype
        .field
        .strip_prefix("Option<")
        .and_then(|inner| inner.strip_suffix('>'))
    {
        Some(inner) => format!("Some({})", message_argument(inner, message, ctx)?),
        None => message_argument(&newtype.field, message, ctx)?,
    };
    Some((
        "ok_or_else",
        format!("{written}({argument})"),
        format!("the message in `{name}(..)`"),
        false,
    ))
}

/// Whether code of `here` sees what is private to the module of `own`: its
/// own module and the modules inside it.
fn within_module(index: &CrateIndex, own: usize, here: usize) -> bool {
    let own = &index.files[own].module;
    let here = &index.files[here].module;
    here == own || here.starts_with(&format!("{own}::"))
}

/// The argument of a parameter of type `ty` (whitespace removed) made from
/// the string literal `message`.
fn message_argument(ty: &str, message: &str, ctx: &CrateContext<'_>) -> Option<String> {
    let dyn_error = ty.starts_with("Box<dyn")
        && (ty.contains("error::Error") || ty.starts_with("Box<dynError"));
    match ty {
        _ if dyn_error => Some(format!("{message}.into()")),
        "io::Error" | "std::io::Error" => Some(io_error(message, ctx)),
        "String" | "std::string::String" => Some(format!("{message}.to_string()")),
        "&str" | "&'staticstr" => Some(message.to_string()),
        _ if ty.starts_with("implInto<String>") || ty.starts_with("implToString") => {
            Some(message.to_string())
        }
        _ => None,
    }
}
