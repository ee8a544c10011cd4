//! `drop_without_async_cleanup`: see [`LINT`]'s docs.
//!
//! For every `impl Drop for T`, the body of `fn drop` (closures, async blocks
//! and macro arguments included) is searched for calls that start async work:
//! spawns, `block_on`, building a runtime. Each of SPEC's four defects is then
//! its own finding: no explicit async cleanup on `T`, a cleanup that `drop` does
//! not check for, a spawn that panics without a runtime, and blocking.

use crate::context::{callee_path, in_test_code, path_segments, peel};
use crate::diagnostic::Level;
use crate::registry::{FixAvailability, Lint};
use crate::trees::Tree;
use crate::{Finding, LintInput};
use ra_ap_syntax::ast::{self, AstNode, HasArgList, HasName};
use ra_ap_syntax::{SyntaxKind, SyntaxNode};
use std::ops::Range;

mod fix;
pub(crate) mod wrappers;

use wrappers::{CallRef, SpawnWrappers};

pub static LINT: Lint = Lint {
    name: "drop_without_async_cleanup",
    default_level: Level::Warn,
    fix: FixAvailability::Sometimes,
    summary: "`Drop::drop` spawns or blocks on async work instead of a guarded fallback for an explicit async cleanup",
    docs: include_str!("drop_without_async_cleanup.md"),
    check,
    complete: Some(fix::complete),
    // Its crate-wide pass reads only the files that name the type, and says
    // which literals the guard field cannot reach: completed either way.
    describe: None,
};

const NAME: &str = "drop_without_async_cleanup";

/// Words that name an explicit cleanup when they start or end a method name.
const CLEANUP_WORDS: &[&str] = &[
    "cleanup",
    "close",
    "shutdown",
    "release",
    "checkin",
    "dispose",
    "terminate",
    "stop",
    "finish",
    "disconnect",
    "destroy",
    "teardown",
];

/// Multi-word cleanup names.
const CLEANUP_PHRASES: &[&str] = &[
    "check_in",
    "give_back",
    "clean_up",
    "tear_down",
    "async_drop",
];

/// Executors whose global spawn functions work without an ambient tokio
/// runtime, so they start async work but do not panic outside one.
const RUNTIME_FREE_EXECUTORS: &[&str] = &[
    "async_std",
    "smol",
    "async_global_executor",
    "wasm_bindgen_futures",
    "actix_rt",
    "glib",
];

/// Methods on a field that record something in it.
const WRITERS: &[&str] = &[
    "store",
    "swap",
    "take",
    "replace",
    "set",
    "insert",
    "compare_exchange",
    "compare_exchange_weak",
    "fetch_or",
    "fetch_and",
    "fetch_add",
    "fetch_sub",
    "fetch_update",
    "cancel",
    "close",
];

/// Calls too generic to say that two functions do the same work.
const GENERIC_CALLS: &[&str] = &[
    "and_then",
    "as_deref",
    "as_mut",
    "as_ref",
    "block_on",
    "borrow",
    "borrow_mut",
    "clone",
    "context",
    "default",
    "err",
    "expect",
    "from",
    "get",
    "inspect",
    "into",
    "is_err",
    "is_none",
    "is_ok",
    "is_some",
    "iter",
    "len",
    "load",
    "lock",
    "map",
    "map_err",
    "new",
    "ok",
    "ok_or",
    "read",
    "sleep",
    "spawn",
    "spawn_blocking",
    "spawn_local",
    "store",
    "swap",
    "take",
    "timeout",
    "to_owned",
    "to_string",
    "unwrap",
    "unwrap_or",
    "unwrap_or_default",
    "unwrap_or_else",
    "with_context",
    "write",
    "Err",
    "Ok",
    "Some",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The work is started and left running after `drop` returns.
    Spawn,
    /// `drop` waits for the work on the current thread.
    Block,
    /// `drop` builds a runtime to run the work on.
    Runtime,
}

/// A call in `drop` that starts async work.
struct Work<'t> {
    tree: &'t Tree,
    call: SyntaxNode,
    kind: Kind,
    span: Range<usize>,
    /// The callee as written, for messages: `tokio::spawn`, `rt.block_on`.
    callee: String,
    /// The call's arguments, where the spawned or blocked-on future lives.
    args: Option<ast::ArgList>,
    /// For a call of one of the crate's spawn wrappers: the functions it goes
    /// through down to the runtime call.
    chain: Option<String>,
}

/// A call that panics when no tokio runtime is entered: `tokio::spawn`,
/// `Handle::current()`.
struct PanicSite {
    span: Range<usize>,
    callee: String,
    /// `tokio::task::spawn_local` needs a `LocalSet` as well as a runtime.
    local: bool,
    /// The runtime call at the end of the crate's spawn wrappers it goes through.
    chain: Option<String>,
}

/// What `drop`'s body does.
#[derive(Default)]
struct DropScan<'t> {
    work: Vec<Work<'t>>,
    panics: Vec<PanicSite>,
    /// File offsets of `Handle::try_current()` calls.
    try_current: Vec<usize>,
    /// Names of the calls the spawned or blocked-on futures make.
    async_calls: Vec<String>,
}

/// An explicit cleanup method of the dropped type.
struct Cleanup {
    func: ast::Fn,
    name: String,
    name_span: Range<usize>,
    /// Takes `self` by value: `drop` runs right after it returns.
    consumes: bool,
    /// The call it awaits that `drop` also starts, when recognised that way.
    same_work: Option<String>,
    /// Fields of `self` it records something in.
    writes: Vec<String>,
    /// It `mem::forget`s or `ManuallyDrop`s `self`, so `drop` never runs after it.
    forgets: bool,
}

/// `use` declarations of the file, flattened: the name in scope and its path.
type Imports = Vec<(String, Vec<String>)>;

fn check(input: &LintInput<'_>, findings: &mut Vec<Finding>) {
    let Some(file_tree) = input.trees.first() else {
        return;
    };
    // Found from the text, so files without a `Drop` impl cost no tree walk.
    let drop_impls = drop_impls(input.source, &file_tree.root);
    if drop_impls.is_empty() {
        return;
    }
    let (impls, uses) = items(&file_tree.root, &drop_impls);
    let mut imports = Vec::new();
    for tree in uses.iter().filter_map(ast::Use::use_tree) {
        flatten_use(&tree, &[], &mut imports);
    }
    // As for `library_unwrap`, test code is not the product: a test double's
    // `Drop` is not reported (nor, through `Finding::not_in_tests`, a file
    // that only test targets compile).
    let test_attrs = &input.options.library_unwrap.test_attributes;
    // Without the crate's facts, the file's own functions are the wrappers
    // it can see.
    let own;
    let wrappers = match input.wrappers {
        Some(wrappers) => wrappers,
        None => {
            own = SpawnWrappers::from_root(
                &file_tree.root,
                None,
                &input
                    .options
                    .drop_without_async_cleanup
                    .extra_spawn_functions,
            );
            &own
        }
    };
    for drop_impl in &drop_impls {
        if in_test_code(file_tree, drop_impl.syntax(), test_attrs) {
            continue;
        }
        check_drop_impl(
            input, file_tree, &impls, drop_impl, &imports, wrappers, findings,
        );
    }
}

/// Names of the calls `drop` bodies make that could be spawn wrappers defined
/// elsewhere in the crate; empty for a file without `Drop` impls.
pub(crate) fn crate_calls(input: &LintInput<'_>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let Some(file_tree) = input.trees.first() else {
        return out;
    };
    let test_attrs = &input.options.library_unwrap.test_attributes;
    for drop_impl in drop_impls(input.source, &file_tree.root) {
        if in_test_code(file_tree, drop_impl.syntax(), test_attrs) {
            continue;
        }
        let Some(body) = drop_impl
            .assoc_item_list()
            .into_iter()
            .flat_map(|list| list.assoc_items())
            .find_map(|item| match item {
                ast::AssocItem::Fn(func) if func.name().is_some_and(|n| n.text() == "drop") => {
                    func.body()
                }
                _ => None,
            })
        else {
            continue;
        };
        for node in body.syntax().descendants() {
            let Some(name) = call_name(&node) else {
                continue;
            };
            // `rt::spawn(..)`, `crate::rt::spawn(..)`: a generic name behind a
            // module of the crate may be the crate's own wrapper.
            let crate_path = GENERIC_CALLS.contains(&name.as_str()) && crate_qualified(&node);
            if (GENERIC_CALLS.contains(&name.as_str()) && !crate_path)
                || name.starts_with(char::is_uppercase)
                || out.contains(&name)
            {
                continue;
            }
            out.push(name);
        }
    }
    out
}

/// The `impl Drop for T` blocks, found at each `Drop` followed by `for` in the
/// text; comments and strings that say so have no `impl` around them.
fn drop_impls(source: &str, root: &SyntaxNode) -> Vec<ast::Impl> {
    let mut out: Vec<ast::Impl> = Vec::new();
    for (at, _) in source.match_indices("Drop") {
        let rest = &source[at + "Drop".len()..];
        let trimmed = rest.trim_start();
        let followed_by_for = trimmed.len() < rest.len()
            && trimmed.starts_with("for")
            && trimmed[3..].starts_with(char::is_whitespace);
        if !followed_by_for {
            continue;
        }
        let Ok(offset) = u32::try_from(at) else {
            continue;
        };
        let Some(token) = root.token_at_offset(offset.into()).right_biased() else {
            continue;
        };
        let Some(item) = token.parent_ancestors().find_map(ast::Impl::cast) else {
            continue;
        };
        if is_drop_impl(&item) && !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// The impls and `use` declarations a `Drop` impl can see: those at module
/// level, in inline modules, and in the blocks that contain a `Drop` impl.
fn items(root: &SyntaxNode, drop_impls: &[ast::Impl]) -> (Vec<ast::Impl>, Vec<ast::Use>) {
    let mut containers = vec![root.clone()];
    for item in drop_impls {
        containers.extend(
            item.syntax()
                .ancestors()
                .filter(|a| a.kind() == SyntaxKind::STMT_LIST),
        );
    }
    let mut impls = Vec::new();
    let mut uses = Vec::new();
    let mut seen = Vec::new();
    while let Some(container) = containers.pop() {
        if seen.contains(&container) {
            continue;
        }
        for child in container.children() {
            match child.kind() {
                SyntaxKind::IMPL => impls.extend(ast::Impl::cast(child)),
                SyntaxKind::USE => uses.extend(ast::Use::cast(child)),
                SyntaxKind::MODULE => containers.extend(
                    ast::Module::cast(child)
                        .and_then(|m| m.item_list())
                        .map(|list| list.syntax().clone()),
                ),
                _ => {}
            }
        }
        seen.push(container);
    }
    (impls, uses)
}

fn check_drop_impl(
    input: &LintInput<'_>,
    file_tree: &Tree,
    impls: &[ast::Impl],
    drop_impl: &ast::Impl,
    imports: &Imports,
    wrappers: &SpawnWrappers,
    findings: &mut Vec<Finding>,
) -> Option<()> {
    let type_name = impl_type_name(drop_impl)?;
    let drop_fn = drop_impl
        .assoc_item_list()?
        .assoc_items()
        .filter_map(|item| match item {
            ast::AssocItem::Fn(func) => Some(func),
            _ => None,
        })
        .find(|func| func.name().is_some_and(|name| name.text() == "drop"))?;
    let body = drop_fn.body()?;
    let krate = Crate {
        wrappers,
        self_type: &type_name,
    };
    let scan = scan_drop(input, body.syntax(), imports, &krate);
    let first = scan.work.first()?;

    let header = {
        let start = file_tree.node_range(drop_impl.syntax()).start;
        let end = file_tree.node_range(drop_impl.self_ty()?.syntax()).end;
        start..end
    };
    let header_label = "`Drop::drop` cannot await";
    let cleanups = cleanups(input, impls, &type_name, &scan.async_calls);
    // Each defect is built as its own part, then folded into one diagnostic
    // per impl: one site, one report, every defect a label and a note.
    let mut parts: Vec<Finding> = Vec::new();
    let mut unguarded_work = false;

    // Defects 1 and 2: is there an explicit cleanup, and does `drop` know it ran?
    if cleanups.is_empty() {
        let verb = match first.kind {
            Kind::Spawn => "spawns async work",
            Kind::Block => "blocks on async work",
            Kind::Runtime => "builds a runtime for async work",
        };
        parts.push(
            Finding::new(
                NAME,
                first.span.clone(),
                format!("`Drop` for `{type_name}` {verb} but `{type_name}` has no explicit async cleanup"),
            )
            .with_primary_label(unawaited_label(first))
            .with_label(header.clone(), header_label)
            .with_help(format!(
                "add `async fn cleanup(&self)` to `{type_name}` that does this work and records that it ran (an `AtomicBool` or an `Option` it takes)"
            ))
            .with_note("callers cannot await this cleanup, see its errors or bound it with a timeout")
            .with_note(TARGET_SHAPE),
        );
    } else if let Some(unguarded) = scan.work.iter().find(|work| {
        let guards = guard_fields(work, body.syntax());
        !cleanups.iter().any(|cleanup| {
            cleanup.forgets || cleanup.writes.iter().any(|field| guards.contains(field))
        })
    }) {
        unguarded_work = true;
        let cleanup = &cleanups[0];
        let name = &cleanup.name;
        let cleanup_label = match &cleanup.same_work {
            Some(call) => format!(
                "`{name}` awaits the same `{call}` call; `drop` does not check whether it ran"
            ),
            None => "explicit cleanup; `drop` does not check whether it ran".to_string(),
        };
        let help = match cleanup.writes.first() {
            Some(field) => {
                format!("return from `drop` at once when `self.{field}` says `{name}` already ran")
            }
            None => format!(
                "make `{name}` record that it ran (take an `Option` field or set an `AtomicBool`) and return from `drop` at once when it did"
            ),
        };
        let mut finding = Finding::new(
            NAME,
            unguarded.span.clone(),
            format!("`drop` repeats the cleanup `{name}` already did"),
        )
        .with_primary_label(format!("runs even when `{name}` already cleaned up"))
        .with_label(header.clone(), header_label)
        .with_label(cleanup.name_span.clone(), cleanup_label)
        .with_help(help);
        if cleanup.consumes {
            finding = finding.with_note(format!(
                "`{name}` takes `self` by value, so `drop` runs on the same value as soon as `{name}` returns"
            ));
        }
        parts.push(finding.with_note(TARGET_SHAPE));
    }

    // Defect 3: a spawn that needs an ambient runtime, without checking for one.
    let unchecked: Vec<&PanicSite> = scan
        .panics
        .iter()
        .filter(|site| !scan.try_current.iter().any(|&at| at < site.span.start))
        .collect();
    if let Some((site, rest)) = unchecked.split_first() {
        let mut finding = Finding::new(
            NAME,
            site.span.clone(),
            format!("`drop` calls `{}` without checking `Handle::try_current()`", site.callee),
        )
        .with_primary_label(match (&site.chain, site.local) {
            (Some(runtime_call), _) => format!(
                "`{runtime_call}` down the call chain panics when the value is dropped outside a runtime or during runtime shutdown"
            ),
            (None, true) => {
                "panics when the value is dropped outside a `LocalSet` on a runtime".to_string()
            }
            (None, false) => {
                "panics when the value is dropped outside a runtime or during runtime shutdown"
                    .to_string()
            }
        })
        .with_label(header.clone(), header_label)
        .with_help(
            "do the work only when `tokio::runtime::Handle::try_current()` returns a handle, on that handle; otherwise log a warning instead of panicking",
        );
        for other in rest {
            finding = finding.with_label(other.span.clone(), "also panics without a runtime");
        }
        parts.push(finding);
    }

    // Defect 4: blocking on a future, or building a runtime to do so.
    let blocking: Vec<&Work> = scan
        .work
        .iter()
        .filter(|work| work.kind != Kind::Spawn)
        .collect();
    if let Some((block, rest)) = blocking.split_first() {
        let (message, label) = match block.kind {
            Kind::Runtime => (
                "`drop` builds a runtime to block on async work".to_string(),
                "panics when the value is dropped inside a runtime, and blocks the thread otherwise",
            ),
            _ => (
                format!("`drop` blocks on a future with `{}`", block.callee),
                "blocks the dropping thread: stalls a runtime worker, or panics inside a runtime",
            ),
        };
        let mut finding = Finding::new(NAME, block.span.clone(), message)
            .with_primary_label(label)
            .with_label(header, header_label)
            .with_help(
                "await this work in an explicit `async fn` cleanup instead; `drop` must not block",
            );
        for other in rest {
            finding = finding.with_label(other.span.clone(), "also blocks");
        }
        parts.push(finding.with_note(TARGET_SHAPE));
    }

    // The one finding of the impl carries the whole rewrite; built only when
    // there is a finding.
    if let Some(mut carrier) = merge(parts) {
        let site = fix::Site {
            input,
            impls,
            drop_impl,
            body: &body,
            scan: &scan,
            cleanups: &cleanups,
            type_name: &type_name,
            imports,
            defects: fix::Defects {
                no_cleanup: cleanups.is_empty(),
                unguarded: unguarded_work,
                blocking: !blocking.is_empty(),
            },
        };
        fix::attach(&site, &mut carrier);
        findings.push(carrier.not_in_tests());
    }
    Some(())
}

/// Folds the defects of one impl into the first: its message heads the
/// diagnostic, every other defect adds its label at its own span (joined to
/// the primary label when the spans coincide) and a note with its advice.
fn merge(parts: Vec<Finding>) -> Option<Finding> {
    let mut parts = parts.into_iter();
    let mut merged = parts.next()?;
    for part in parts {
        if part.range == merged.range {
            merged.primary_label = format!("{}; {}", merged.primary_label, part.primary_label);
        } else if let Some(label) = merged.labels.iter_mut().find(|l| l.range == part.range) {
            label.message = format!("{}; {}", label.message, part.primary_label);
        } else {
            merged = merged.with_label(part.range.clone(), part.primary_label.clone());
        }
        for label in part.labels {
            if !merged.labels.contains(&label) {
                merged.labels.push(label);
            }
        }
        let note = match &part.help {
            Some(help) => format!("also {}: {help}", part.message),
            None => format!("also {}", part.message),
        };
        merged.notes.push(note);
        for note in part.notes {
            if !merged.notes.contains(&note) {
                merged.notes.push(note);
            }
        }
    }
    // The target shape closes the list of notes, after every defect's own.
    if let Some(at) = merged.notes.iter().position(|n| n == TARGET_SHAPE) {
        let shape = merged.notes.remove(at);
        merged.notes.push(shape);
    }
    Some(merged)
}

const TARGET_SHAPE: &str = "target shape: an explicit `async fn cleanup` that records that it ran; `drop` returns at once when it did, otherwise warns and does best-effort cleanup only when `Handle::try_current()` finds a runtime";

fn unawaited_label(work: &Work<'_>) -> String {
    match (&work.chain, work.kind) {
        (None, Kind::Spawn) => "spawned here; nothing can await it or see its errors".to_string(),
        (None, Kind::Block) => "blocks here until the work finishes".to_string(),
        (None, Kind::Runtime) => "builds a runtime here to run the work on".to_string(),
        (Some(chain), Kind::Spawn) => {
            format!("spawns through {chain}; nothing can await it or see its errors")
        }
        (Some(chain), _) => format!("blocks through {chain} until the work finishes"),
    }
}

/// `impl Drop for T`, `impl std::ops::Drop for T`.
fn is_drop_impl(item: &ast::Impl) -> bool {
    // A negative impl (`impl !Drop`) has no body to check.
    if item.excl_token().is_some() {
        return false;
    }
    let Some(ast::Type::PathType(trait_ty)) = item.trait_() else {
        return false;
    };
    last_segment(trait_ty.path()).is_some_and(|name| name == "Drop")
}

/// `Conn` for `impl<T> Drop for Conn<T>` or `impl pool::Conn`.
fn impl_type_name(item: &ast::Impl) -> Option<String> {
    let ast::Type::PathType(ty) = item.self_ty()? else {
        return None;
    };
    last_segment(ty.path())
}

fn last_segment(path: Option<ast::Path>) -> Option<String> {
    Some(path?.segment()?.name_ref()?.text().to_string())
}

/// Flattens a `use` tree to (name in scope, full path):
/// `use tokio::task::{self, spawn}` gives `task` and `spawn`.
fn flatten_use(tree: &ast::UseTree, prefix: &[String], out: &mut Imports) {
    let mut path = prefix.to_vec();
    if let Some(p) = tree.path() {
        for segment in path_segments(&p.syntax().text().to_string()) {
            // `use tokio::task::{self}` names the prefix itself.
            if segment != "self" {
                path.push(segment);
            }
        }
    }
    if let Some(list) = tree.use_tree_list() {
        for sub in list.use_trees() {
            flatten_use(&sub, &path, out);
        }
        return;
    }
    // Glob imports name nothing that can be resolved without the other crate.
    if tree.star_token().is_some() {
        return;
    }
    let alias = match tree.rename() {
        Some(rename) => match rename.name() {
            Some(name) => name.text().to_string(),
            None => return,
        },
        None => match path.last() {
            Some(last) => last.clone(),
            None => return,
        },
    };
    out.push((alias, path));
}

/// `task::spawn` → `tokio::task::spawn` after `use tokio::task`.
fn resolve(segments: Vec<String>, imports: &Imports) -> Vec<String> {
    let Some(first) = segments.first() else {
        return segments;
    };
    let Some((_, full)) = imports.iter().find(|(alias, _)| alias == first) else {
        return segments;
    };
    full.iter()
        .cloned()
        .chain(segments.into_iter().skip(1))
        .collect()
}

/// The trees that make up `body`: the body itself, then the re-parsed
/// arguments of macro calls inside it.
fn scopes<'t>(trees: &'t [Tree], body: &SyntaxNode) -> Vec<(&'t Tree, SyntaxNode)> {
    let mut out = Vec::new();
    let Some(file_tree) = trees.first() else {
        return out;
    };
    out.push((file_tree, body.clone()));
    let range = body.text_range();
    for tree in &trees[1..] {
        let Some(host) = &tree.host else {
            continue;
        };
        if range.contains_range(host.syntax().text_range()) && !nested_item(host.syntax(), body) {
            out.push((tree, tree.root.clone()));
        }
    }
    out
}

/// Whether `node` sits in a function or item nested inside `body`, which only
/// runs if something calls it.
fn nested_item(node: &SyntaxNode, body: &SyntaxNode) -> bool {
    node.ancestors()
        .skip(1)
        .take_while(|ancestor| ancestor != body)
        .any(|ancestor| {
            matches!(
                ancestor.kind(),
                SyntaxKind::FN | SyntaxKind::IMPL | SyntaxKind::MODULE | SyntaxKind::TRAIT
            )
        })
}

/// The crate's spawn wrappers, and the type whose `drop` is scanned.
struct Crate<'a> {
    wrappers: &'a SpawnWrappers,
    self_type: &'a str,
}

fn scan_drop<'t>(
    input: &LintInput<'t>,
    body: &SyntaxNode,
    imports: &Imports,
    krate: &Crate<'_>,
) -> DropScan<'t> {
    let options = &input.options.drop_without_async_cleanup;
    let mut scan = DropScan::default();
    let mut async_blocks = Vec::new();
    for (tree, root) in scopes(input.trees, body) {
        for node in root.descendants() {
            match node.kind() {
                SyntaxKind::CALL_EXPR => {
                    let Some(call) = ast::CallExpr::cast(node.clone()) else {
                        continue;
                    };
                    let Some(callee) = callee_path(&call) else {
                        continue;
                    };
                    if !tree.is_macro() && nested_item(&node, body) {
                        continue;
                    }
                    let segments = resolve(path_segments(&callee), imports);
                    let Some(last) = segments.last() else {
                        continue;
                    };
                    let span = call
                        .expr()
                        .map(|e| tree.node_range(e.syntax()))
                        .unwrap_or_else(|| tree.node_range(&node));
                    if last == "try_current" {
                        scan.try_current.push(span.start);
                        continue;
                    }
                    if ends_with(&segments, &["Handle", "current"]) {
                        scan.panics.push(PanicSite {
                            span: tree.node_range(&node),
                            callee: format!("{callee}()"),
                            local: false,
                            chain: None,
                        });
                        continue;
                    }
                    let Some((kind, panics)) =
                        classify_path(&segments, &options.extra_spawn_functions)
                    else {
                        continue;
                    };
                    if panics {
                        scan.panics.push(PanicSite {
                            span: span.clone(),
                            callee: callee.clone(),
                            local: last == "spawn_local",
                            chain: None,
                        });
                    }
                    scan.work.push(Work {
                        tree,
                        call: node.clone(),
                        kind,
                        span,
                        callee,
                        args: call.arg_list(),
                        chain: None,
                    });
                }
                SyntaxKind::METHOD_CALL_EXPR => {
                    let Some(call) = ast::MethodCallExpr::cast(node.clone()) else {
                        continue;
                    };
                    let Some(kind) = classify_method(&call, &options.extra_spawn_functions) else {
                        continue;
                    };
                    if !tree.is_macro() && nested_item(&node, body) {
                        continue;
                    }
                    let Some(name) = call.name_ref() else {
                        continue;
                    };
                    let name_range = tree.node_range(name.syntax());
                    let receiver_range = call
                        .receiver()
                        .map(|r| tree.node_range(r.syntax()))
                        .unwrap_or_else(|| name_range.clone());
                    let joined = receiver_range.start..name_range.end;
                    // A receiver spanning lines would make the label sprawl:
                    // point at the method name alone then.
                    let span = match input.source.get(joined.clone()) {
                        Some(text) if !text.contains('\n') => joined,
                        _ => name_range,
                    };
                    let callee = input
                        .source
                        .get(span.clone())
                        .unwrap_or_default()
                        .split_whitespace()
                        .collect();
                    scan.work.push(Work {
                        tree,
                        call: node.clone(),
                        kind,
                        span,
                        callee,
                        args: call.arg_list(),
                        chain: None,
                    });
                }
                SyntaxKind::BLOCK_EXPR
                    if ast::BlockExpr::cast(node.clone())
                        .is_some_and(|b| b.async_token().is_some()) =>
                {
                    async_blocks.push(node);
                }
                _ => {}
            }
        }
    }
    if let Some(file_tree) = input.trees.first() {
        wrapper_work(input, file_tree, body, imports, krate, &mut scan);
    }
    let mut async_calls = Vec::new();
    let arg_nodes = scan
        .work
        .iter()
        .filter_map(|work| work.args.as_ref().map(|a| a.syntax().clone()));
    for root in arg_nodes.chain(async_blocks) {
        for node in root.descendants() {
            if let Some(name) = call_name(&node)
                && !GENERIC_CALLS.contains(&name.as_str())
                && !async_calls.contains(&name)
            {
                async_calls.push(name);
            }
        }
    }
    scan.async_calls = async_calls;
    // Blocking inside a closure handed to a thread or `spawn_blocking` blocks
    // that thread, not the one running `drop`: the work is spawned, not awaited.
    for work in &mut scan.work {
        if work.kind != Kind::Spawn && on_other_thread(work.tree, &work.call, body) {
            work.kind = Kind::Spawn;
        }
    }
    scan.work.sort_by_key(|work| work.span.start);
    scan.panics.sort_by_key(|site| site.span.start);
    scan
}

/// Calls in `drop` of the crate's own functions that spawn or block on async
/// work further down (`self.manager.spawn_task(..)`, `crate::rt::spawn(..)`).
/// Calls inside closures and `async` blocks do not run in `drop` itself, and
/// calls inside work already found are part of it.
fn wrapper_work<'t>(
    input: &LintInput<'t>,
    tree: &'t Tree,
    body: &SyntaxNode,
    imports: &Imports,
    krate: &Crate<'_>,
    scan: &mut DropScan<'t>,
) {
    let found: Vec<Range<usize>> = scan.work.iter().map(|w| tree.node_range(&w.call)).collect();
    for node in body.descendants() {
        let deferred = node.ancestors().skip(1).take_while(|a| a != body).any(|a| {
            a.kind() == SyntaxKind::CLOSURE_EXPR
                || ast::BlockExpr::cast(a).is_some_and(|b| b.async_token().is_some())
        });
        if deferred || nested_item(&node, body) {
            continue;
        }
        let range = tree.node_range(&node);
        if found
            .iter()
            .any(|f| f.start <= range.start && range.end <= f.end)
        {
            continue;
        }
        let (call, receiver_type, span, args) = match node.kind() {
            SyntaxKind::CALL_EXPR => {
                let Some(call) = ast::CallExpr::cast(node.clone()) else {
                    continue;
                };
                let Some(callee) = callee_path(&call) else {
                    continue;
                };
                let segments = resolve(path_segments(&callee), imports);
                let Some((name, qualifier)) = segments.split_last() else {
                    continue;
                };
                let call_ref = CallRef {
                    qualifier: qualifier.to_vec(),
                    name: name.clone(),
                    method: false,
                    on_self: false,
                };
                let span = call
                    .expr()
                    .map_or(range.clone(), |e| tree.node_range(e.syntax()));
                (call_ref, None, span, call.arg_list())
            }
            SyntaxKind::METHOD_CALL_EXPR => {
                let Some(call) = ast::MethodCallExpr::cast(node.clone()) else {
                    continue;
                };
                let (Some(name), Some(receiver)) = (call.name_ref(), call.receiver()) else {
                    continue;
                };
                let on_self = receiver.syntax().text() == "self";
                let receiver_type = self_field(receiver.syntax())
                    .and_then(|field| wrappers::field_type(&tree.root, krate.self_type, &field));
                let call_ref = CallRef {
                    qualifier: Vec::new(),
                    name: name.text().to_string(),
                    method: true,
                    on_self,
                };
                let start = tree.node_range(receiver.syntax()).start;
                let end = tree.node_range(name.syntax()).end;
                let span = match input.source.get(start..end) {
                    Some(text) if !text.contains('\n') => start..end,
                    _ => tree.node_range(name.syntax()),
                };
                (call_ref, receiver_type, span, call.arg_list())
            }
            _ => continue,
        };
        let Some(wrapper) =
            krate
                .wrappers
                .lookup(&call, Some(krate.self_type), receiver_type.as_deref())
        else {
            continue;
        };
        let callee: String = input
            .source
            .get(span.clone())
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let chain = wrapper.chain_text();
        if wrapper.panics {
            scan.panics.push(PanicSite {
                span: span.clone(),
                callee: callee.clone(),
                local: false,
                chain: wrapper.chain.last().cloned(),
            });
        }
        scan.work.push(Work {
            tree,
            call: node.clone(),
            kind: wrapper.kind,
            span,
            callee,
            args,
            chain: Some(chain),
        });
    }
}

/// Whether `node` sits in a closure passed to a spawn call:
/// `std::thread::spawn(move || rt.block_on(..))`, `spawn_blocking(|| ..)`.
fn on_other_thread(tree: &Tree, node: &SyntaxNode, body: &SyntaxNode) -> bool {
    let chain = tree.ancestors(node);
    for pair in chain.windows(3) {
        let [closure, args, call] = pair else {
            continue;
        };
        if call == body {
            break;
        }
        if closure.kind() == SyntaxKind::CLOSURE_EXPR
            && args.kind() == SyntaxKind::ARG_LIST
            && call_name(call).is_some_and(|name| name.starts_with("spawn"))
        {
            return true;
        }
    }
    false
}

fn ends_with(segments: &[String], suffix: &[&str]) -> bool {
    segments.len() >= suffix.len()
        && segments[segments.len() - suffix.len()..]
            .iter()
            .zip(suffix)
            .all(|(a, b)| a == b)
}

/// The kind of work a configured extra function starts: `block_on`-like names
/// block, the rest spawn.
fn extra_kind(name: &str) -> Kind {
    if name.contains("block") {
        Kind::Block
    } else {
        Kind::Spawn
    }
}

/// Classifies a path call; the flag says whether it panics without an ambient
/// tokio runtime.
fn classify_path(segments: &[String], extra: &[String]) -> Option<(Kind, bool)> {
    let last = segments.last()?.as_str();
    for entry in extra {
        let wanted = path_segments(entry);
        let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
        if ends_with(segments, &wanted) {
            return Some((extra_kind(last), false));
        }
    }
    // `std::thread::spawn` and `rayon::spawn` run synchronous code on another
    // thread: nothing async is left unfinished.
    if segments.iter().any(|s| s == "thread" || s == "rayon") {
        return None;
    }
    let owner = segments
        .len()
        .checked_sub(2)
        .map(|index| segments[index].as_str());
    match last {
        "spawn" | "spawn_local" | "spawn_blocking" => {
            // `Handle::spawn(&handle, fut)`: a handle in hand needs no ambient runtime.
            if matches!(owner, Some("Handle" | "Runtime" | "LocalSet")) {
                return Some((Kind::Spawn, false));
            }
            let root = segments[0].as_str();
            if segments.len() == 1 {
                // A bare `spawn` that no `use` resolves could be anything; the
                // longer names are tokio's by convention.
                return (last != "spawn").then_some((Kind::Spawn, true));
            }
            if root == "tokio" || (segments.len() == 2 && root == "task") {
                return Some((Kind::Spawn, true));
            }
            if RUNTIME_FREE_EXECUTORS.contains(&root) {
                return Some((Kind::Spawn, false));
            }
            None
        }
        "block_on" => Some((Kind::Block, false)),
        "new" if owner == Some("Runtime") => Some((Kind::Runtime, false)),
        "new_current_thread" | "new_multi_thread" if owner == Some("Builder") => {
            Some((Kind::Runtime, false))
        }
        _ => None,
    }
}

fn classify_method(call: &ast::MethodCallExpr, extra: &[String]) -> Option<Kind> {
    let name = call.name_ref()?;
    let name = name.text();
    let is_spawnish = matches!(
        name,
        "spawn" | "spawn_local" | "spawn_blocking" | "block_on"
    );
    let is_extra = extra
        .iter()
        .any(|entry| !entry.contains("::") && entry == name);
    if !is_spawnish && !is_extra {
        return None;
    }
    let args: Vec<ast::Expr> = call.arg_list()?.args().collect();
    if is_extra {
        return Some(extra_kind(name));
    }
    // Every executor's spawn and block_on takes exactly one future or closure;
    // `Command::spawn()` takes none.
    let [arg] = args.as_slice() else {
        return None;
    };
    match name {
        "block_on" => Some(Kind::Block),
        "spawn_local" | "spawn_blocking" => Some(Kind::Spawn),
        _ => {
            let receiver = call.receiver()?;
            let arg = peel(arg.clone());
            // `thread::Builder::spawn` and scoped-thread spawns take a closure;
            // async spawns take a future.
            if matches!(arg, ast::Expr::ClosureExpr(_)) || mentions(&receiver, &["thread"]) {
                return None;
            }
            let is_async_block =
                matches!(&arg, ast::Expr::BlockExpr(block) if block.async_token().is_some());
            (is_async_block || mentions_runtime(&receiver)).then_some(Kind::Spawn)
        }
    }
}

/// Whether an identifier in `expr` contains one of `words`, ignoring case.
fn mentions(expr: &ast::Expr, words: &[&str]) -> bool {
    expr.syntax()
        .descendants_with_tokens()
        .filter_map(|element| element.into_token())
        .filter(|token| token.kind() == SyntaxKind::IDENT)
        .any(|token| {
            let text = token.text().to_ascii_lowercase();
            words.iter().any(|word| text.contains(word))
        })
}

/// `self.handle`, `Handle::current()`, `self.runtime`, `rt`, `self.tokio_rt`.
fn mentions_runtime(expr: &ast::Expr) -> bool {
    mentions(expr, &["handle", "runtime"])
        || expr
            .syntax()
            .descendants_with_tokens()
            .filter_map(|element| element.into_token())
            .filter(|token| token.kind() == SyntaxKind::IDENT)
            .any(|token| {
                let text = token.text();
                text.eq_ignore_ascii_case("rt") || text.ends_with("_rt") || text.starts_with("rt_")
            })
}

/// The name a call node invokes: the method, or a path call's last segment.
/// Whether a call's path starts in this crate: `crate::`, `self::`,
/// `super::`, or a module name that is not a runtime or std crate.
fn crate_qualified(node: &SyntaxNode) -> bool {
    const EXTERNAL: &[&str] = &[
        "tokio",
        "async_std",
        "smol",
        "futures",
        "futures_executor",
        "futures_lite",
        "std",
        "core",
        "alloc",
        "thread",
        "task",
        "runtime",
        "executor",
        "glommio",
        "actix_rt",
        "wasm_bindgen_futures",
    ];
    let Some(ast::Expr::PathExpr(path)) = ast::CallExpr::cast(node.clone()).and_then(|c| c.expr())
    else {
        return false;
    };
    let text: String = path.syntax().text().to_string();
    let segments: Vec<&str> = text.split("::").map(str::trim).collect();
    match segments.as_slice() {
        [first, .., _] => {
            matches!(*first, "crate" | "self" | "super")
                || (first.starts_with(char::is_lowercase) && !EXTERNAL.contains(first))
        }
        _ => false,
    }
}

fn call_name(node: &SyntaxNode) -> Option<String> {
    match node.kind() {
        SyntaxKind::METHOD_CALL_EXPR => Some(
            ast::MethodCallExpr::cast(node.clone())?
                .name_ref()?
                .text()
                .to_string(),
        ),
        SyntaxKind::CALL_EXPR => {
            let ast::Expr::PathExpr(path) = ast::CallExpr::cast(node.clone())?.expr()? else {
                return None;
            };
            last_segment(path.path())
        }
        _ => None,
    }
}

/// The type's explicit async cleanups: `async fn`s taking `self` in any other
/// impl of the type in this file, named like a cleanup or awaiting a call that
/// `drop`'s async work makes.
fn cleanups(
    input: &LintInput<'_>,
    impls: &[ast::Impl],
    type_name: &str,
    async_calls: &[String],
) -> Vec<Cleanup> {
    let extra = &input
        .options
        .drop_without_async_cleanup
        .extra_cleanup_methods;
    let mut out = Vec::new();
    let Some(file_tree) = input.trees.first() else {
        return out;
    };
    for item in impls {
        // The `Drop` impl's own `drop` is not a cleanup callers can await.
        if is_drop_impl(item) || impl_type_name(item).as_deref() != Some(type_name) {
            continue;
        }
        let Some(list) = item.assoc_item_list() else {
            continue;
        };
        for func in list.assoc_items().filter_map(|i| match i {
            ast::AssocItem::Fn(func) => Some(func),
            _ => None,
        }) {
            let Some(cleanup) = cleanup_method(input, file_tree, &func, async_calls, extra) else {
                continue;
            };
            out.push(cleanup);
        }
    }
    // Name the one whose behaviour matches `drop` first: it is the one `drop` repeats.
    out.sort_by_key(|cleanup| cleanup.same_work.is_none());
    out
}

fn cleanup_method(
    input: &LintInput<'_>,
    file_tree: &Tree,
    func: &ast::Fn,
    async_calls: &[String],
    extra: &[String],
) -> Option<Cleanup> {
    func.async_token()?;
    let self_param = func.param_list()?.self_param()?;
    let name = func.name()?;
    let body = func.body()?;
    let scopes = scopes(input.trees, body.syntax());
    let same_work = scopes.iter().find_map(|(_, root)| {
        root.descendants()
            .filter(is_awaited)
            .filter_map(|node| call_name(&node))
            .find(|call| async_calls.contains(call))
    });
    if !is_cleanup_name(name.text(), extra) && same_work.is_none() {
        return None;
    }
    let mut writes = Vec::new();
    let mut forgets = false;
    for (_, root) in &scopes {
        for node in root.descendants() {
            if node.kind() == SyntaxKind::CALL_EXPR
                && call_name(&node).is_some_and(|n| n == "forget")
            {
                forgets = true;
            }
            if let Some(field) = self_field(&node)
                && is_written(&node)
                && !writes.contains(&field)
            {
                writes.push(field);
            }
            if node.kind() == SyntaxKind::CALL_EXPR
                && ast::CallExpr::cast(node.clone())
                    .and_then(|c| callee_path(&c))
                    .is_some_and(|p| ends_with(&path_segments(&p), &["ManuallyDrop", "new"]))
            {
                forgets = true;
            }
        }
    }
    Some(Cleanup {
        func: func.clone(),
        name: name.text().to_string(),
        name_span: file_tree.node_range(name.syntax()),
        consumes: self_param.amp_token().is_none() && self_param.ty().is_none(),
        same_work,
        writes,
        forgets,
    })
}

fn is_cleanup_name(name: &str, extra: &[String]) -> bool {
    if extra.iter().any(|e| e == name) {
        return true;
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("return_") || CLEANUP_PHRASES.iter().any(|p| lower.contains(p)) {
        return true;
    }
    let first = lower.split('_').next().unwrap_or_default();
    let last = lower.rsplit('_').next().unwrap_or_default();
    CLEANUP_WORDS.contains(&first) || CLEANUP_WORDS.contains(&last)
}

/// Whether the call at `node` is awaited: `x.close().await`,
/// `timeout(d, x.close()).await?`.
fn is_awaited(node: &SyntaxNode) -> bool {
    if !matches!(
        node.kind(),
        SyntaxKind::METHOD_CALL_EXPR | SyntaxKind::CALL_EXPR
    ) {
        return false;
    }
    for ancestor in node.ancestors().skip(1) {
        match ancestor.kind() {
            SyntaxKind::AWAIT_EXPR => return true,
            SyntaxKind::STMT_LIST
            | SyntaxKind::LET_STMT
            | SyntaxKind::EXPR_STMT
            | SyntaxKind::CLOSURE_EXPR
            | SyntaxKind::FN => return false,
            _ => {}
        }
    }
    false
}

/// `closed` for `self.closed` (and the first field of `self.inner.conn`).
fn self_field(node: &SyntaxNode) -> Option<String> {
    if node.kind() != SyntaxKind::FIELD_EXPR {
        return None;
    }
    let field = ast::FieldExpr::cast(node.clone())?;
    let ast::Expr::PathExpr(receiver) = field.expr()? else {
        return None;
    };
    if receiver.syntax().text() != "self" {
        return None;
    }
    Some(field.name_ref()?.text().to_string())
}

/// Whether the field access at `node` is written: assigned, or the receiver of
/// a recording method (`.store(`, `.take()`), possibly through `.lock()` and
/// `.await`, or passed to `mem::take` / `mem::replace`.
fn is_written(node: &SyntaxNode) -> bool {
    let mut current = node.clone();
    for _ in 0..8 {
        let Some(parent) = current.parent() else {
            return false;
        };
        match parent.kind() {
            SyntaxKind::METHOD_CALL_EXPR => {
                let Some(call) = ast::MethodCallExpr::cast(parent.clone()) else {
                    return false;
                };
                // Only the receiver position passes the field along the chain.
                if call.receiver().is_none_or(|r| r.syntax() != &current) {
                    return false;
                }
                if call.name_ref().is_some_and(|n| WRITERS.contains(&n.text())) {
                    return true;
                }
            }
            SyntaxKind::BIN_EXPR => {
                let Some(bin) = ast::BinExpr::cast(parent.clone()) else {
                    return false;
                };
                return matches!(bin.op_kind(), Some(ast::BinaryOp::Assignment { .. }))
                    && bin.lhs().is_some_and(|lhs| lhs.syntax() == &current);
            }
            SyntaxKind::ARG_LIST => {
                return parent
                    .parent()
                    .and_then(|call| call_name(&call))
                    .is_some_and(|n| matches!(n.as_str(), "take" | "replace" | "swap"));
            }
            SyntaxKind::AWAIT_EXPR
            | SyntaxKind::TRY_EXPR
            | SyntaxKind::FIELD_EXPR
            | SyntaxKind::PAREN_EXPR
            | SyntaxKind::REF_EXPR
            | SyntaxKind::PREFIX_EXPR => {}
            _ => return false,
        }
        current = parent;
    }
    false
}

/// Fields of `self` that decide whether `work` runs: conditions of enclosing
/// `if`/`while`/`match`, receivers of `self.x.take().map(|x| ..)`, and earlier
/// statements that return early (`let Some(x) = self.x.take() else { return }`).
fn guard_fields(work: &Work<'_>, body: &SyntaxNode) -> Vec<String> {
    let mut fields = Vec::new();
    let locals = locals(body);
    let chain = work.tree.ancestors(&work.call);
    for pair in chain.windows(2) {
        let [child, parent] = pair else {
            continue;
        };
        if parent == body {
            break;
        }
        match parent.kind() {
            SyntaxKind::IF_EXPR | SyntaxKind::WHILE_EXPR => {
                let condition = ast::IfExpr::cast(parent.clone())
                    .and_then(|e| e.condition())
                    .or_else(|| ast::WhileExpr::cast(parent.clone()).and_then(|e| e.condition()));
                if let Some(condition) = condition
                    && condition.syntax() != child
                {
                    read_fields(condition.syntax(), &locals, &mut fields);
                }
            }
            SyntaxKind::MATCH_EXPR if child.kind() == SyntaxKind::MATCH_ARM_LIST => {
                if let Some(scrutinee) = ast::MatchExpr::cast(parent.clone()).and_then(|m| m.expr())
                {
                    read_fields(scrutinee.syntax(), &locals, &mut fields);
                }
            }
            SyntaxKind::METHOD_CALL_EXPR if child.kind() == SyntaxKind::ARG_LIST => {
                if let Some(receiver) =
                    ast::MethodCallExpr::cast(parent.clone()).and_then(|m| m.receiver())
                {
                    read_fields(receiver.syntax(), &locals, &mut fields);
                }
            }
            SyntaxKind::STMT_LIST => {
                for earlier in parent.children().take_while(|stmt| stmt != child) {
                    early_return_fields(&earlier, &locals, &mut fields);
                }
            }
            _ => {}
        }
    }
    fields
}

/// The fields an earlier statement checks before returning early.
fn early_return_fields(stmt: &SyntaxNode, locals: &[(String, Vec<String>)], out: &mut Vec<String>) {
    if let Some(let_stmt) = ast::LetStmt::cast(stmt.clone()) {
        let diverges = let_stmt.let_else().is_some() || has_return(stmt);
        if diverges && let Some(init) = let_stmt.initializer() {
            read_fields(init.syntax(), locals, out);
        }
        return;
    }
    if !has_return(stmt) {
        return;
    }
    let expr = ast::ExprStmt::cast(stmt.clone()).and_then(|s| s.expr());
    match expr {
        Some(ast::Expr::IfExpr(if_expr)) => {
            if let Some(condition) = if_expr.condition() {
                read_fields(condition.syntax(), locals, out);
            }
        }
        Some(ast::Expr::MatchExpr(match_expr)) => {
            if let Some(scrutinee) = match_expr.expr() {
                read_fields(scrutinee.syntax(), locals, out);
            }
        }
        _ => read_fields(stmt, locals, out),
    }
}

fn has_return(node: &SyntaxNode) -> bool {
    node.descendants()
        .any(|n| n.kind() == SyntaxKind::RETURN_EXPR)
}

/// Local variables bound from fields of `self`: `let inner = self.inner.take();`.
fn locals(body: &SyntaxNode) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for let_stmt in body.descendants().filter_map(ast::LetStmt::cast) {
        let Some(ast::Pat::IdentPat(pat)) = let_stmt.pat() else {
            continue;
        };
        let (Some(name), Some(init)) = (pat.name(), let_stmt.initializer()) else {
            continue;
        };
        let mut fields = Vec::new();
        read_fields(init.syntax(), &[], &mut fields);
        if !fields.is_empty() {
            out.push((name.text().to_string(), fields));
        }
    }
    out
}

/// Fields of `self` read in `node`, directly or through a local bound from them.
fn read_fields(node: &SyntaxNode, locals: &[(String, Vec<String>)], out: &mut Vec<String>) {
    for descendant in node.descendants() {
        let found: Vec<String> = if let Some(field) = self_field(&descendant) {
            vec![field]
        } else if descendant.kind() == SyntaxKind::NAME_REF {
            let text = descendant.text();
            locals
                .iter()
                .filter(|(name, _)| text == name.as_str())
                .flat_map(|(_, fields)| fields.iter().cloned())
                .collect()
        } else {
            continue;
        };
        for field in found {
            if !out.contains(&field) {
                out.push(field);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{CrateFacts, DropOptions, Edition, Options, analyze};

    fn messages_with(source: &str, options: &Options) -> Vec<String> {
        analyze(
            source,
            Edition::Edition2024,
            options,
            &CrateFacts::default(),
        )
        .findings
        .into_iter()
        .filter(|f| f.lint == super::NAME)
        .map(|f| f.message)
        .collect()
    }

    fn messages(source: &str) -> Vec<String> {
        messages_with(source, &Options::default())
    }

    #[test]
    fn tokio_spawn_without_cleanup_is_one_report_with_defects_one_and_three() {
        let source = "struct Conn;\nimpl Drop for Conn {\n    fn drop(&mut self) {\n        tokio::spawn(async {});\n    }\n}\n";
        let findings: Vec<_> = analyze(
            source,
            Edition::Edition2024,
            &Options::default(),
            &CrateFacts::default(),
        )
        .findings;
        let [finding] = findings.as_slice() else {
            panic!("one report per impl: {findings:#?}");
        };
        assert_eq!(
            finding.message,
            "`Drop` for `Conn` spawns async work but `Conn` has no explicit async cleanup"
        );
        assert!(
            finding
                .primary_label
                .contains("panics when the value is dropped outside a runtime")
        );
        assert!(finding.notes.iter().any(|n| n.starts_with(
            "also `drop` calls `tokio::spawn` without checking `Handle::try_current()`: do the work only when"
        )), "{:#?}", finding.notes);
        assert!(finding.not_in_tests);
    }

    #[test]
    fn test_code_drop_impls_are_not_reported() {
        let source = "#[cfg(test)]\nmod tests {\n    struct Double;\n    impl Drop for Double { fn drop(&mut self) { tokio::spawn(async {}); } }\n}\n#[test]\nfn t() {\n    struct Local;\n    impl Drop for Local { fn drop(&mut self) { tokio::spawn(async {}); } }\n}\n";
        assert!(messages(source).is_empty());
    }

    #[test]
    fn spawn_wrappers_in_the_same_file() {
        let source = "struct Manager;\nimpl Manager {\n    fn spawn_task<F>(&self, f: F) { rt::spawn(f) }\n    fn guarded<F>(&self, f: F) { if let Ok(handle) = tokio::runtime::Handle::try_current() { handle.spawn(f); } }\n}\nmod rt { pub fn spawn<F>(f: F) { tokio::spawn(f); } }\nstruct Lease { manager: std::sync::Arc<Manager> }\nimpl Drop for Lease { fn drop(&mut self) { self.manager.spawn_task(async {}); } }\nstruct Guarded { manager: Manager }\nimpl Drop for Guarded { fn drop(&mut self) { self.manager.guarded(async {}); } }\n";
        let findings = analyze(
            source,
            Edition::Edition2024,
            &Options::default(),
            &CrateFacts::default(),
        )
        .findings;
        let [lease, guarded] = findings.as_slice() else {
            panic!("{findings:#?}");
        };
        assert_eq!(
            lease.message,
            "`Drop` for `Lease` spawns async work but `Lease` has no explicit async cleanup"
        );
        assert!(
            lease
                .primary_label
                .contains("spawns through `Manager::spawn_task` → `rt::spawn` → `tokio::spawn`"),
            "{}",
            lease.primary_label
        );
        assert!(
            lease
                .notes
                .iter()
                .any(|n| n.contains("`self.manager.spawn_task`"))
        );
        assert!(
            !guarded
                .notes
                .iter()
                .any(|n| n.contains("Handle::try_current()`:")),
            "a guarded wrapper does not panic: {:#?}",
            guarded.notes
        );
    }

    #[test]
    fn imports_resolve_bare_and_module_paths() {
        let spawn = "use tokio::spawn;\nstruct A;\nimpl Drop for A { fn drop(&mut self) { spawn(async {}); } }\n";
        assert_eq!(messages(spawn).len(), 1);
        let threads = "use std::thread::{self, spawn};\nstruct A;\nimpl Drop for A { fn drop(&mut self) { spawn(|| {}); thread::spawn(|| {}); } }\n";
        assert!(messages(threads).is_empty());
        let unknown = "struct A;\nimpl Drop for A { fn drop(&mut self) { spawn(async {}); } }\n";
        assert!(messages(unknown).is_empty());
        let async_std = "use async_std::task;\nstruct A;\nimpl Drop for A { fn drop(&mut self) { task::spawn(async {}); } }\n";
        assert_eq!(messages(async_std).len(), 1, "no tokio panic for async-std");
    }

    #[test]
    fn nested_fn_in_drop_is_not_drop_work() {
        let source = "struct A;\nimpl Drop for A { fn drop(&mut self) { fn later() { tokio::spawn(async {}); } } }\n";
        assert!(messages(source).is_empty());
    }

    #[test]
    fn options_add_spawn_functions_and_cleanup_names() {
        let source = "struct A;\nimpl A { async fn recycle(&self) {} }\nimpl Drop for A { fn drop(&mut self) { my_rt::go(async {}); } }\n";
        assert!(messages(source).is_empty());
        let mut options = Options {
            drop_without_async_cleanup: DropOptions {
                extra_spawn_functions: vec!["my_rt::go".to_string()],
                extra_cleanup_methods: Vec::new(),
            },
            ..Options::default()
        };
        assert_eq!(
            messages_with(source, &options),
            ["`Drop` for `A` spawns async work but `A` has no explicit async cleanup"]
        );
        options.drop_without_async_cleanup.extra_cleanup_methods = vec!["recycle".to_string()];
        assert_eq!(
            messages_with(source, &options),
            ["`drop` repeats the cleanup `recycle` already did"]
        );
    }

    #[test]
    fn forgetting_self_in_cleanup_is_a_guard() {
        let source = "struct A { h: tokio::runtime::Handle }\nimpl A { async fn close(self) { std::mem::forget(self); } }\nimpl Drop for A { fn drop(&mut self) { self.h.spawn(async {}); } }\n";
        assert!(messages(source).is_empty());
    }

    #[test]
    fn local_bound_from_field_is_a_guard() {
        let source = "struct A { h: Handle, inner: Option<u8> }\nimpl A { async fn close(&mut self) { self.inner = None; } }\nimpl Drop for A { fn drop(&mut self) { let inner = self.inner.take(); if let Some(i) = inner { self.h.spawn(async move { let _ = i; }); } } }\n";
        assert!(messages(source).is_empty());
    }

    #[test]
    fn block_on_in_a_thread_does_not_block_drop() {
        let source = "struct A { rt: tokio::runtime::Runtime }\nimpl A { async fn close(&self) {} }\nimpl Drop for A { fn drop(&mut self) { let rt = self.rt.handle().clone(); std::thread::spawn(move || rt.block_on(async {})); } }\n";
        assert_eq!(
            messages(source),
            ["`drop` repeats the cleanup `close` already did"]
        );
    }

    #[test]
    fn command_and_thread_builder_spawns_are_synchronous() {
        let source = "struct A;\nimpl Drop for A { fn drop(&mut self) { let _ = std::process::Command::new(\"x\").spawn(); let _ = std::thread::Builder::new().spawn(move || {}); } }\n";
        assert!(messages(source).is_empty());
    }
}
