//! The fix for `drop_without_async_cleanup`: the async work moves into an
//! explicit `async fn` (or is left to the type's existing cleanup), a guard
//! records that cleanup ran, and `drop` becomes the guarded fallback.
//!
//! Everything is text: new items are written with `format!` in the indentation
//! of the code around them, and every other byte of the file is left alone.
//! One finding of a `Drop` impl carries the whole rewrite; when the guard is a
//! new field, the struct literals of the type across the crate are updated by
//! [`complete`].

use super::{Cleanup, DropScan, Imports, Kind, Work, call_name, guard_fields, impl_type_name};
use super::{is_awaited, is_cleanup_name, is_drop_impl};
use crate::context::path_segments;
use crate::diagnostic::{Applicability, CrateFixRequest, Edit, Fix};
use crate::{CrateContext, Finding, LintInput, Logging};
use ra_ap_syntax::ast::{
    self, AstNode, HasArgList, HasAttrs, HasGenericParams, HasName, HasVisibility,
};
use ra_ap_syntax::{SourceFile, SyntaxKind, SyntaxNode, TextRange};
use std::ops::Range;

/// The field added when the type has nothing that records that cleanup ran.
const FLAG: &str = "cleaned_up";

/// Methods that need only `&self` when called on a field of `self`.
const SHARED_METHODS: &[&str] = &[
    "as_ref",
    "borrow",
    "cancel",
    "clone",
    "compare_exchange",
    "compare_exchange_weak",
    "fetch_add",
    "fetch_and",
    "fetch_or",
    "fetch_sub",
    "fetch_update",
    "get",
    "handle",
    "is_cancelled",
    "is_empty",
    "is_none",
    "is_some",
    "iter",
    "len",
    "load",
    "lock",
    "notify_one",
    "notify_waiters",
    "read",
    "send",
    "spawn",
    "store",
    "swap",
    "to_owned",
    "to_string",
    "try_lock",
    "try_read",
    "try_send",
    "try_write",
    "upgrade",
    "write",
];

/// Which of SPEC's defects the impl has.
pub(super) struct Defects {
    pub no_cleanup: bool,
    pub unguarded: bool,
    pub blocking: bool,
}

/// Everything detection learned about one `Drop` impl.
pub(super) struct Site<'a, 't> {
    pub input: &'a LintInput<'t>,
    pub impls: &'a [ast::Impl],
    pub drop_impl: &'a ast::Impl,
    pub body: &'a ast::BlockExpr,
    pub scan: &'a DropScan<'t>,
    pub cleanups: &'a [Cleanup],
    pub type_name: &'a str,
    pub imports: &'a Imports,
    pub defects: Defects,
}

/// Attaches the rewrite to `finding`, or a note saying why there is none.
pub(super) fn attach(site: &Site<'_, '_>, finding: &mut Finding) {
    match plan(site) {
        Ok(plan) => {
            finding.fix = Some(plan.fix);
            finding.notes.extend(plan.notes);
            finding.crate_fix = plan.crate_data.map(|data| CrateFixRequest { data });
        }
        Err(reason) => finding.notes.push(format!("no automatic fix: {reason}")),
    }
}

struct Plan {
    fix: Fix,
    notes: Vec<String>,
    crate_data: Option<Vec<String>>,
}

/// A `spawn(async move { .. });` statement.
struct SpawnSite {
    /// The statement: `spawn(..);` or `let _ = spawn(..);`.
    stmt: SyntaxNode,
    block: ast::BlockExpr,
    /// Needs an ambient runtime (`tokio::spawn`, `Handle::current().spawn`).
    panicking: bool,
    /// Spawned through one of the crate's wrappers, which `drop` keeps calling.
    wrapped: bool,
}

/// A `block_on(future)` call.
struct BlockSite {
    call: SyntaxNode,
    future: ast::Expr,
    /// The call is a whole expression statement.
    statement: Option<SyntaxNode>,
}

/// What records that cleanup ran.
enum Guard {
    /// A bool flag set by the cleanup (`store(true, ..)`); `new` when the fix adds it.
    Flag { field: String, new: bool },
    /// An `Option` field the cleanup takes.
    Taken(String),
}

/// Paths as this file can spell them.
struct Paths {
    atomic_bool: String,
    ordering: String,
    try_current: String,
}

fn plan(site: &Site<'_, '_>) -> Result<Plan, String> {
    // The fix writes an `async fn` and `.await`, which edition 2015 rejects.
    if !site.input.edition.at_least_2018() {
        return Err("the fix needs `async fn`, which edition 2015 does not have".to_string());
    }
    let source = site.input.source;
    let root = site
        .drop_impl
        .syntax()
        .ancestors()
        .last()
        .ok_or("no file")?;
    let body = site.body.syntax();
    let mut spawns = Vec::new();
    let mut blocks = Vec::new();
    let mut runtimes = Vec::new();
    for work in &site.scan.work {
        if work.tree.is_macro() {
            return Err("the async work is started inside a macro call".to_string());
        }
        if inside_closure_or_async(&work.call, body) {
            return Err(
                "the async work is started inside a closure or an `async` block".to_string(),
            );
        }
        match work.kind {
            Kind::Runtime => runtimes.push(runtime_site(site.input.source, work, body)?),
            Kind::Block => blocks.push(block_site(work)?),
            Kind::Spawn => spawns.push(spawn_site(site, work)?),
        }
    }
    // A panicking call outside the spawn itself (`let h = Handle::current();`)
    // is not rewritten by replacing the spawn statement.
    for panic in &site.scan.panics {
        let covered = site.scan.work.iter().any(|work| {
            let range = node_range(&work.call);
            range.start <= panic.span.start && panic.span.end <= range.end
        });
        if !covered {
            return Err(format!("`{}` is called apart from the spawn", panic.callee));
        }
    }
    let ranges: Vec<Range<usize>> = site.scan.work.iter().map(|w| node_range(&w.call)).collect();
    for (i, a) in ranges.iter().enumerate() {
        if ranges[i + 1..]
            .iter()
            .any(|b| a.start < b.end && b.start < a.end)
        {
            return Err("the async work is nested in other async work".to_string());
        }
    }

    let strukt = find_struct(&root, site.type_name);
    let existing = site.cleanups.first();
    let defects = &site.defects;
    let needs_guard = defects.no_cleanup || defects.unguarded || defects.blocking;
    if needs_guard && strukt.is_none() {
        return Err(format!("`{}` is not defined in this file", site.type_name));
    }
    let top_level = is_top_level(site.drop_impl.syntax())
        && strukt.as_ref().is_none_or(|s| is_top_level(s.syntax()));
    let paths = paths(site.imports, top_level);
    let logging = site.input.facts.logging;

    let guard = if !needs_guard {
        None
    } else if let Some(cleanup) = existing {
        if !blocks.is_empty() && cleanup.same_work.is_none() {
            return Err(format!(
                "`{}` does not await the work `drop` blocks on; move it there by hand",
                cleanup.name
            ));
        }
        Some(
            existing_guard(cleanup, strukt.as_ref()).unwrap_or(Guard::Flag {
                field: flag_name(strukt.as_ref()),
                new: true,
            }),
        )
    } else {
        Some(
            structural_option(site, strukt.as_ref())
                .map(Guard::Taken)
                .unwrap_or(Guard::Flag {
                    field: flag_name(strukt.as_ref()),
                    new: true,
                }),
        )
    };
    if let Some(Guard::Flag { new: true, .. }) = &guard {
        let Some(strukt) = &strukt else {
            return Err(format!("`{}` is not defined in this file", site.type_name));
        };
        can_add_flag(strukt)?;
    }

    let fn_indent = line_indent(source, node_range(body).start).to_string();
    let unit = indent_unit(source, site.body, &fn_indent);
    let handle = fresh_name(body, &["handle", "runtime", "tokio_handle"])
        .ok_or("no free name for the runtime handle")?;
    let mut edits = Vec::new();
    let mut notes = Vec::new();

    // The cleanup: the type's own, or a new `async fn` with `drop`'s body.
    let cleanup_name = match existing {
        Some(cleanup) => cleanup.name.clone(),
        None => cleanup_name(site, &spawns, &blocks)?,
    };
    let record = match &guard {
        Some(Guard::Flag { field, new: true }) => Some(format!(
            "self.{field}.store(true, {}::Release);",
            paths.ordering
        )),
        _ => None,
    };
    match existing {
        None => {
            let method = new_method(
                site,
                &spawns,
                &blocks,
                &runtimes,
                &cleanup_name,
                record.as_deref(),
                &fn_indent,
                &unit,
                strukt.as_ref(),
            )?;
            edits.push(Edit::insert(
                node_range(site.drop_impl.syntax()).start,
                method,
            ));
        }
        Some(cleanup) => {
            if let Some(record) = &record {
                let list = cleanup
                    .func
                    .body()
                    .and_then(|b| b.stmt_list())
                    .ok_or("the cleanup has no body")?;
                let open = list.l_curly_token().ok_or("the cleanup has no body")?;
                let at = usize::from(open.text_range().end());
                let indent = first_stmt_indent(source, &list).unwrap_or_else(|| {
                    format!(
                        "{}{unit}",
                        line_indent(source, node_range(cleanup.func.syntax()).start)
                    )
                });
                edits.push(Edit::insert(at, format!("\n{indent}{record}")));
            }
        }
    }
    if let Some(Guard::Flag { field, new: true }) = &guard
        && let Some(strukt) = &strukt
    {
        edits.push(struct_field(source, strukt, field, &paths)?);
    }

    // `drop`: the guarded fallback.
    let ran = match &guard {
        Some(Guard::Flag { field, .. }) => {
            Some(format!("self.{field}.load({}::Acquire)", paths.ordering))
        }
        Some(Guard::Taken(field)) => Some(format!("self.{field}.is_none()")),
        None => None,
    };
    let type_name = site.type_name;
    let list = site.body.stmt_list().ok_or("`drop` has no body")?;
    let open = usize::from(
        list.l_curly_token()
            .ok_or("`drop` has no body")?
            .text_range()
            .end(),
    );
    let close = usize::from(
        list.r_curly_token()
            .ok_or("`drop` has no body")?
            .text_range()
            .start(),
    );
    let inner = format!("{fn_indent}{unit}");
    if !blocks.is_empty() || !runtimes.is_empty() {
        let ran = ran.ok_or("no guard for the blocking work")?;
        let warn = warn(
            logging,
            &format!(
                "`{type_name}` dropped without `{cleanup_name}().await`; its cleanup did not run"
            ),
        );
        edits.push(Edit::replace(
            open..close,
            format!(
                "\n{inner}if {ran} {{\n{inner}{unit}return;\n{inner}}}\n{inner}{warn}\n{fn_indent}"
            ),
        ));
    } else {
        let warn_text = warn(
            logging,
            &format!(
                "`{type_name}` dropped without `{cleanup_name}().await`; cleaning up in the background"
            ),
        );
        // The guard is explicit at the top of `drop`, except where `drop`
        // already takes the `Option` that the new cleanup takes too.
        let structural = existing.is_none() && matches!(guard, Some(Guard::Taken(_)));
        let check_at_start = if structural { None } else { ran };
        let warn_at_site = needs_guard && check_at_start.is_none();
        if let Some(ran) = &check_at_start {
            edits.push(Edit::insert(
                open,
                format!(
                    "\n{inner}if {ran} {{\n{inner}{unit}return;\n{inner}}}\n{inner}{warn_text}"
                ),
            ));
        }
        for spawn in &spawns {
            let stmt_range = node_range(&spawn.stmt);
            let indent = line_indent(source, stmt_range.start);
            let prefix = if warn_at_site {
                format!("{warn_text}\n{indent}")
            } else {
                String::new()
            };
            if !spawn.panicking {
                if !prefix.is_empty() {
                    edits.push(Edit::insert(stmt_range.start, prefix));
                }
                continue;
            }
            let block = reindent(&source[node_range(spawn.block.syntax())], &unit);
            let otherwise = if needs_guard || logging == Logging::Stderr {
                String::new()
            } else {
                let warn = warn(
                    logging,
                    &format!(
                        "`{type_name}` dropped outside a tokio runtime; its cleanup did not run"
                    ),
                );
                format!(" else {{\n{indent}{unit}{warn}\n{indent}}}")
            };
            if spawn.wrapped {
                // The wrapper may do more than spawn (name the task, pick the
                // runtime by feature): keep calling it, only when it cannot panic.
                let stmt = reindent(&source[stmt_range.clone()], &unit);
                edits.push(Edit::replace(
                    stmt_range,
                    format!(
                        "{prefix}if {}.is_ok() {{\n{indent}{unit}{stmt}\n{indent}}}{otherwise}",
                        paths.try_current
                    ),
                ));
                continue;
            }
            edits.push(Edit::replace(
                stmt_range,
                format!(
                    "{prefix}if let Ok({handle}) = {} {{\n{indent}{unit}{handle}.spawn({block});\n{indent}}}{otherwise}",
                    paths.try_current
                ),
            ));
        }
    }

    let message = if defects.no_cleanup {
        format!(
            "move the async work into `async fn {cleanup_name}` and make `drop` a guarded fallback"
        )
    } else if defects.blocking {
        format!("leave the work to `{cleanup_name}` and make `drop` a fallback that does not block")
    } else if defects.unguarded {
        format!("make `drop` return at once when `{cleanup_name}` already ran")
    } else {
        "spawn only when `Handle::try_current()` finds a runtime".to_string()
    };
    if needs_guard {
        notes.push(format!(
            "fix: callers must now call `{cleanup_name}().await` to clean up deterministically; `drop` only warns{}",
            if blocks.is_empty() && runtimes.is_empty() { " and cleans up in the background when a runtime is running" } else { "" }
        ));
    } else {
        notes.push(
            "fix: without a runtime the work is now skipped with a warning instead of panicking"
                .to_string(),
        );
    }
    if logging == Logging::Stderr {
        notes.push(
            "fix: the crate uses neither `log` nor `tracing`, so the fallback in `drop` reports nothing; add a logging facade to hear about missed cleanups"
                .to_string(),
        );
    }
    let crate_data = match &guard {
        Some(Guard::Flag { field, new: true }) => {
            let drop_range = node_range(site.drop_impl.syntax());
            let shape = match strukt.as_ref().and_then(|s| s.field_list()) {
                Some(ast::FieldList::TupleFieldList(_)) => "tuple",
                _ => "record",
            };
            Some(vec![
                type_name.to_string(),
                field.clone(),
                drop_range.start.to_string(),
                drop_range.end.to_string(),
                shape.to_string(),
            ])
        }
        _ => None,
    };
    Ok(Plan {
        fix: Fix {
            message,
            // Every rewrite changes behaviour: cleanup happens only when
            // callers await it, or a panic becomes a skipped cleanup.
            applicability: Applicability::Unsafe,
            edits,
        },
        notes,
        crate_data,
    })
}

fn spawn_site(site: &Site<'_, '_>, work: &Work<'_>) -> Result<SpawnSite, String> {
    let name = call_name(&work.call).unwrap_or_default();
    let wrapped = work.chain.is_some();
    if name != "spawn" && !wrapped {
        return Err(format!(
            "only `spawn` of an `async` block is moved automatically, not `{}`",
            work.callee
        ));
    }
    let args: Vec<ast::Expr> = work.args.iter().flat_map(|a| a.args()).collect();
    // A wrapper may take more than the future (a name, a priority): the one
    // `async` block among its arguments is the work.
    let blocks: Vec<ast::BlockExpr> = args
        .iter()
        .filter_map(|arg| match crate::context::peel(arg.clone()) {
            ast::Expr::BlockExpr(block) if block.async_token().is_some() => Some(block),
            _ => None,
        })
        .collect();
    let block = match (args.as_slice(), blocks.as_slice()) {
        (_, [block]) if wrapped => block.clone(),
        ([_], [block]) => block.clone(),
        ([_], []) => return Err("the spawned future is not an `async` block".to_string()),
        _ if wrapped => {
            return Err(format!(
                "`{}` does not take exactly one `async` block",
                work.callee
            ));
        }
        _ => return Err("the spawn does not take exactly one future".to_string()),
    };
    if exits_early(block.syntax()) {
        return Err("the spawned block returns early or uses `?`".to_string());
    }
    let stmt = whole_statement(&work.call).ok_or("the spawn's `JoinHandle` is used")?;
    let range = node_range(&work.call);
    let mut panicking = false;
    for panic in &site.scan.panics {
        if range.start <= panic.span.start && panic.span.end <= range.end {
            if panic.local {
                return Err("`spawn_local` needs a `LocalSet`; move it by hand".to_string());
            }
            panicking = true;
        }
    }
    Ok(SpawnSite {
        stmt,
        block,
        panicking,
        wrapped,
    })
}

/// A runtime `drop` builds to block on: what the explicit `async fn`, which
/// runs on the caller's runtime, leaves out.
struct RuntimeSite {
    /// The runtime's binding, for messages.
    name: String,
    /// Rewrites of `drop`'s body for the new cleanup: the runtime's `let`
    /// deleted, an `if let Ok(rt) = ..` around the work unwrapped.
    edits: Vec<(Range<usize>, String)>,
    /// One level of indentation to remove on each line of an unwrapped block.
    dedents: Vec<Range<usize>>,
    /// Every use of the binding; each must fall inside a rewrite, or the
    /// cleanup would name a runtime it no longer builds.
    uses: Vec<Range<usize>>,
}

fn runtime_site(source: &str, work: &Work<'_>, body: &SyntaxNode) -> Result<RuntimeSite, String> {
    // The expression that yields the runtime: the builder chain, `?`, `.unwrap()`.
    let mut expr = work.call.clone();
    while let Some(parent) = expr.parent() {
        let continues = match parent.kind() {
            SyntaxKind::METHOD_CALL_EXPR => {
                let Some(call) = ast::MethodCallExpr::cast(parent.clone()) else {
                    break;
                };
                if call.receiver().is_none_or(|r| r.syntax() != &expr) {
                    break;
                }
                // `Runtime::new()?.block_on(fut)`: a temporary runtime, gone
                // with the `block_on` call the cleanup awaits instead.
                if call.name_ref().is_some_and(|n| n.text() == "block_on") {
                    return Ok(RuntimeSite {
                        name: call_name(&work.call).unwrap_or_default(),
                        edits: Vec::new(),
                        dedents: Vec::new(),
                        uses: Vec::new(),
                    });
                }
                true
            }
            SyntaxKind::TRY_EXPR | SyntaxKind::PAREN_EXPR => true,
            _ => false,
        };
        if !continues {
            break;
        }
        expr = parent;
    }
    let unbound = || "the runtime is not bound by a `let` or an `if let`".to_string();
    let parent = expr.parent().ok_or_else(unbound)?;
    let mut site = RuntimeSite {
        name: String::new(),
        edits: Vec::new(),
        dedents: Vec::new(),
        uses: Vec::new(),
    };
    if let Some(stmt) = ast::LetStmt::cast(parent.clone()) {
        site.name = binding(stmt.pat()).ok_or_else(unbound)?;
        let range = node_range(stmt.syntax());
        let whole = whole_lines(source, range.clone()).ok_or_else(unbound)?;
        site.edits.push((whole, String::new()));
        site.uses.extend(name_uses(body, &site.name, range.end));
        // `let rt = Builder::..().build(); if let Ok(rt) = rt { .. }`.
        let later = stmt
            .syntax()
            .siblings(ra_ap_syntax::Direction::Next)
            .skip(1)
            .filter_map(|n| {
                ast::ExprStmt::cast(n.clone())
                    .and_then(|e| e.expr())
                    .or_else(|| ast::Expr::cast(n))
            });
        for later in later {
            let ast::Expr::IfExpr(if_expr) = later else {
                continue;
            };
            let Some(ast::Expr::LetExpr(let_expr)) = if_expr.condition() else {
                continue;
            };
            let scrutinee = let_expr.expr().map(|e| e.syntax().text().to_string());
            if scrutinee.as_deref() != Some(site.name.as_str()) {
                continue;
            }
            let inner = binding(let_expr.pat()).ok_or_else(unbound)?;
            unwrap_if(source, &if_expr, &mut site)?;
            let start = node_range(if_expr.syntax()).start;
            site.uses.extend(name_uses(body, &inner, start));
        }
        return Ok(site);
    }
    let let_expr = ast::LetExpr::cast(parent).ok_or_else(unbound)?;
    let if_expr = let_expr
        .syntax()
        .parent()
        .and_then(ast::IfExpr::cast)
        .filter(|i| {
            i.condition()
                .is_some_and(|c| c.syntax() == let_expr.syntax())
        })
        .ok_or_else(unbound)?;
    site.name = binding(let_expr.pat()).ok_or_else(unbound)?;
    unwrap_if(source, &if_expr, &mut site)?;
    site.uses.extend(name_uses(
        body,
        &site.name,
        node_range(if_expr.syntax()).start,
    ));
    Ok(site)
}

/// `rt` for `rt`, `Ok(rt)`, `Some(rt)`.
fn binding(pat: Option<ast::Pat>) -> Option<String> {
    match pat? {
        ast::Pat::IdentPat(ident) => Some(ident.name()?.text().to_string()),
        ast::Pat::TupleStructPat(tuple) => {
            let fields: Vec<ast::Pat> = tuple.fields().collect();
            let [only] = fields.as_slice() else {
                return None;
            };
            binding(Some(only.clone()))
        }
        _ => None,
    }
}

/// The places after `from` where `name` is read.
fn name_uses(body: &SyntaxNode, name: &str, from: usize) -> Vec<Range<usize>> {
    body.descendants()
        .filter(|n| n.kind() == SyntaxKind::NAME_REF && n.text() == name)
        .map(|n| node_range(&n))
        .filter(|r| r.start >= from)
        .collect()
}

/// `if let Ok(rt) = .. { body }` (no `else`) becomes `body` in the cleanup:
/// the opening line and the closing brace go, the lines between lose one level.
fn unwrap_if(source: &str, if_expr: &ast::IfExpr, site: &mut RuntimeSite) -> Result<(), String> {
    let layout = || "the runtime's `if let` is not laid out one statement per line".to_string();
    if if_expr.else_branch().is_some() {
        return Err(
            "the runtime's `if let` has an `else` branch; move its work by hand".to_string(),
        );
    }
    let list = if_expr
        .then_branch()
        .and_then(|b| b.stmt_list())
        .ok_or_else(layout)?;
    let open = usize::from(
        list.l_curly_token()
            .ok_or_else(layout)?
            .text_range()
            .start(),
    );
    let close = usize::from(
        list.r_curly_token()
            .ok_or_else(layout)?
            .text_range()
            .start(),
    );
    let start = node_range(if_expr.syntax()).start;
    let head = whole_lines(source, start..open + 1).ok_or_else(layout)?;
    let tail = whole_lines(source, close..close + 1).ok_or_else(layout)?;
    let outer = line_indent(source, start).len();
    let inner = first_stmt_indent(source, &list).ok_or_else(layout)?;
    let unit = inner
        .len()
        .checked_sub(outer)
        .filter(|&u| u > 0)
        .ok_or_else(layout)?;
    let mut at = head.end;
    while at < tail.start {
        let line_end = source[at..].find('\n').map_or(source.len(), |i| at + i + 1);
        let line = &source[at..line_end];
        if line.len() > unit && line[..unit].trim().is_empty() {
            site.dedents.push(at..at + unit);
        }
        at = line_end;
    }
    site.edits.push((head, String::new()));
    site.edits.push((tail, String::new()));
    Ok(())
}

/// `range` with the rest of its lines, when nothing else shares them: from
/// the start of its first line through the end of its last line's newline.
fn whole_lines(source: &str, range: Range<usize>) -> Option<Range<usize>> {
    let start = source[..range.start].rfind('\n').map_or(0, |i| i + 1);
    if !source[start..range.start].trim().is_empty() {
        return None;
    }
    let rest = &source[range.end..];
    let newline = rest.find('\n').unwrap_or(rest.len());
    let after = rest[..newline].trim();
    // A trailing `;` or comment stays with the statement.
    if !(after.is_empty() || after == ";" || after.starts_with("//")) {
        return None;
    }
    Some(start..(range.end + newline + 1).min(source.len()))
}

fn block_site(work: &Work<'_>) -> Result<BlockSite, String> {
    let args: Vec<ast::Expr> = work.args.iter().flat_map(|a| a.args()).collect();
    let [future] = args.as_slice() else {
        return Err(format!(
            "`{}` does not take exactly one future",
            work.callee
        ));
    };
    let statement = work
        .call
        .parent()
        .and_then(ast::ExprStmt::cast)
        .filter(|stmt| stmt.expr().is_some_and(|e| e.syntax() == &work.call))
        .map(|stmt| stmt.syntax().clone());
    Ok(BlockSite {
        call: work.call.clone(),
        future: future.clone(),
        statement,
    })
}

/// `spawn(..);` or `let _ = spawn(..);`: the spawn's handle is not used.
fn whole_statement(call: &SyntaxNode) -> Option<SyntaxNode> {
    let parent = call.parent()?;
    if let Some(stmt) = ast::ExprStmt::cast(parent.clone()) {
        return (stmt.expr()?.syntax() == call && stmt.semicolon_token().is_some())
            .then_some(parent);
    }
    let stmt = ast::LetStmt::cast(parent.clone())?;
    let wildcard = matches!(stmt.pat()?, ast::Pat::WildcardPat(_));
    (wildcard && stmt.initializer()?.syntax() == call && stmt.let_else().is_none())
        .then_some(parent)
}

fn inside_closure_or_async(node: &SyntaxNode, body: &SyntaxNode) -> bool {
    node.ancestors().skip(1).take_while(|a| a != body).any(|a| {
        a.kind() == SyntaxKind::CLOSURE_EXPR
            || a.kind() == SyntaxKind::FN
            || ast::BlockExpr::cast(a).is_some_and(|b| b.async_token().is_some())
    })
}

/// Whether a `return` or `?` in `block` leaves the block itself, which an
/// inlined copy would turn into leaving the cleanup function.
fn exits_early(block: &SyntaxNode) -> bool {
    let mut stack: Vec<SyntaxNode> = block.children().collect();
    while let Some(node) = stack.pop() {
        match node.kind() {
            SyntaxKind::RETURN_EXPR | SyntaxKind::TRY_EXPR => return true,
            // Their `return` and `?` stay inside them.
            SyntaxKind::CLOSURE_EXPR | SyntaxKind::FN => continue,
            SyntaxKind::BLOCK_EXPR
                if ast::BlockExpr::cast(node.clone())
                    .is_some_and(|b| b.async_token().is_some()) =>
            {
                continue;
            }
            _ => stack.extend(node.children()),
        }
    }
    false
}

/// The type's existing record of cleanup: a flag its cleanup sets, or an
/// `Option` field it takes.
fn existing_guard(cleanup: &Cleanup, strukt: Option<&ast::Struct>) -> Option<Guard> {
    let text: String = cleanup
        .func
        .body()?
        .syntax()
        .text()
        .to_string()
        .split_whitespace()
        .collect();
    for field in &cleanup.writes {
        if text.contains(&format!("self.{field}.store(true,"))
            || text.contains(&format!("self.{field}.swap(true,"))
        {
            return Some(Guard::Flag {
                field: field.clone(),
                new: false,
            });
        }
        if text.contains(&format!("self.{field}.take()"))
            && strukt.is_some_and(|s| field_is_option(s, field))
        {
            return Some(Guard::Taken(field.clone()));
        }
    }
    None
}

/// An `Option` field that `drop` takes before every piece of its work: the
/// new cleanup runs the same body, so it takes it too, and a second cleanup
/// finds nothing to do.
fn structural_option(site: &Site<'_, '_>, strukt: Option<&ast::Struct>) -> Option<String> {
    let strukt = strukt?;
    let body = site.body.syntax();
    let text: String = body.text().to_string().split_whitespace().collect();
    let mut common: Option<Vec<String>> = None;
    for work in &site.scan.work {
        let fields = guard_fields(work, body);
        common = Some(match common {
            None => fields,
            Some(previous) => previous
                .into_iter()
                .filter(|f| fields.contains(f))
                .collect(),
        });
    }
    common?.into_iter().find(|field| {
        text.contains(&format!("self.{field}.take()")) && field_is_option(strukt, field)
    })
}

fn field_is_option(strukt: &ast::Struct, name: &str) -> bool {
    record_fields(strukt).is_some_and(|list| {
        list.fields().any(|field| {
            field.name().is_some_and(|n| n.text() == name)
                && field.ty().is_some_and(|ty| {
                    let text = ty.syntax().text().to_string();
                    text.starts_with("Option<") || text.starts_with("std::option::Option<")
                })
        })
    })
}

fn record_fields(strukt: &ast::Struct) -> Option<ast::RecordFieldList> {
    match strukt.field_list()? {
        ast::FieldList::RecordFieldList(list) => Some(list),
        ast::FieldList::TupleFieldList(_) => None,
    }
}

/// The one struct of that name in the file.
fn find_struct(root: &SyntaxNode, name: &str) -> Option<ast::Struct> {
    let mut found = root
        .descendants()
        .filter_map(ast::Struct::cast)
        .filter(|s| s.name().is_some_and(|n| n.text() == name));
    let first = found.next()?;
    // Two structs of that name (in different modules) cannot be told apart.
    found.next().is_none().then_some(first)
}

/// The new guard field's name: `cleaned_up`, or the next position of a tuple
/// struct (`self.1`).
fn flag_name(strukt: Option<&ast::Struct>) -> String {
    match strukt.and_then(|s| s.field_list()) {
        Some(ast::FieldList::TupleFieldList(list)) => list.fields().count().to_string(),
        _ => FLAG.to_string(),
    }
}

/// Whether a new `AtomicBool` field can go into the struct.
fn can_add_flag(strukt: &ast::Struct) -> Result<(), String> {
    match strukt.field_list() {
        Some(ast::FieldList::RecordFieldList(list)) => {
            if list
                .fields()
                .any(|f| f.name().is_some_and(|n| n.text() == FLAG))
            {
                return Err(format!("the type already has a field `{FLAG}`"));
            }
        }
        Some(ast::FieldList::TupleFieldList(_)) => {}
        None => {
            return Err(
                "the type is a unit struct: it has no fields to add a guard to".to_string(),
            );
        }
    }
    for attr in strukt.attrs() {
        let text = crate::context::attr_text(&attr);
        let Some(derives) = text
            .strip_prefix("derive(")
            .and_then(|t| t.strip_suffix(')'))
        else {
            continue;
        };
        // `AtomicBool` implements `Debug` and `Default`, nothing else a derive needs.
        if let Some(other) = derives.split(',').find(|d| {
            !matches!(
                path_segments(d).last().map(String::as_str),
                Some("Debug" | "Default") | None
            )
        }) {
            return Err(format!(
                "the type derives `{other}`, which a new `AtomicBool` guard does not implement"
            ));
        }
    }
    Ok(())
}

fn struct_field(
    source: &str,
    strukt: &ast::Struct,
    field: &str,
    paths: &Paths,
) -> Result<Edit, String> {
    let visibility = |visibilities: Vec<String>| match visibilities.split_first() {
        // Literals elsewhere can name the new field only if it is as visible
        // as the others; with mixed visibility, the crate is the widest need.
        Some((first, rest)) if rest.iter().all(|v| v == first) => first.clone(),
        Some(_) => "pub(crate) ".to_string(),
        None => String::new(),
    };
    let shown = |v: Option<ast::Visibility>| {
        v.map(|v| format!("{} ", v.syntax().text()))
            .unwrap_or_default()
    };
    match strukt.field_list() {
        Some(ast::FieldList::RecordFieldList(list)) => {
            let visibility = visibility(list.fields().map(|f| shown(f.visibility())).collect());
            append_entry(
                source,
                list.syntax(),
                &format!("{visibility}{field}: {}", paths.atomic_bool),
            )
            .ok_or_else(|| "the struct's field list is malformed".to_string())
        }
        Some(ast::FieldList::TupleFieldList(list)) => {
            let visibility = visibility(list.fields().map(|f| shown(f.visibility())).collect());
            append_arg(
                source,
                list.syntax(),
                &format!("{visibility}{}", paths.atomic_bool),
            )
            .ok_or_else(|| "the struct's field list is malformed".to_string())
        }
        None => Err("the type has no fields".to_string()),
    }
}

/// Appends `entry` to a `( .. )` list (tuple fields, call arguments, tuple
/// struct patterns), after a trailing comma when there is one.
fn append_arg(source: &str, list: &SyntaxNode, entry: &str) -> Option<Edit> {
    let close = list
        .children_with_tokens()
        .filter(|t| t.kind() == SyntaxKind::R_PAREN)
        .last()
        .map(|t| usize::from(t.text_range().start()))?;
    let open = list
        .children_with_tokens()
        .find(|t| t.kind() == SyntaxKind::L_PAREN)
        .map(|t| usize::from(t.text_range().end()))?;
    let inner = &source[open..close];
    let trimmed = inner.trim_end();
    if trimmed.trim().is_empty() {
        return Some(Edit::replace(open..close, entry.to_string()));
    }
    let end = open + trimmed.len();
    if trimmed.ends_with(',') {
        if inner[trimmed.len()..].contains('\n') {
            let indent = line_indent(source, end);
            return Some(Edit::insert(end, format!("\n{indent}{entry},")));
        }
        return Some(Edit::insert(end, format!(" {entry}")));
    }
    Some(Edit::insert(end, format!(", {entry}")))
}

/// The name of the new cleanup: a cleanup-like call the work awaits
/// (`checkin`, `return_instance`), else `cleanup`.
fn cleanup_name(
    site: &Site<'_, '_>,
    spawns: &[SpawnSite],
    blocks: &[BlockSite],
) -> Result<String, String> {
    let extra = &site
        .input
        .options
        .drop_without_async_cleanup
        .extra_cleanup_methods;
    let taken = method_names(site);
    let mut candidates = Vec::new();
    for spawn in spawns {
        candidates.extend(
            spawn
                .block
                .syntax()
                .descendants()
                .filter(is_awaited)
                .filter_map(|n| call_name(&n)),
        );
    }
    for block in blocks {
        candidates.extend(call_name(block.future.syntax()));
        candidates.extend(
            block
                .future
                .syntax()
                .descendants()
                .filter(is_awaited)
                .filter_map(|n| call_name(&n)),
        );
    }
    candidates
        .into_iter()
        .filter(|name| is_cleanup_name(name, extra))
        .chain(["cleanup".to_string()])
        .find(|name| !taken.contains(name))
        .ok_or_else(|| "the type already has a method named `cleanup`".to_string())
}

/// The methods of the type's inherent impls in this file.
fn method_names(site: &Site<'_, '_>) -> Vec<String> {
    site.impls
        .iter()
        .filter(|item| item.trait_().is_none() && !is_drop_impl(item))
        .filter(|item| impl_type_name(item).as_deref() == Some(site.type_name))
        .filter_map(|item| item.assoc_item_list())
        .flat_map(|list| list.assoc_items())
        .filter_map(|item| match item {
            ast::AssocItem::Fn(func) => func.name().map(|n| n.text().to_string()),
            _ => None,
        })
        .collect()
}

/// `impl T { async fn cleanup(&self) { <drop's body, the work awaited> } }`,
/// followed by the indentation the `Drop` impl had.
#[allow(clippy::too_many_arguments)]
fn new_method(
    site: &Site<'_, '_>,
    spawns: &[SpawnSite],
    blocks: &[BlockSite],
    runtimes: &[RuntimeSite],
    name: &str,
    record: Option<&str>,
    fn_indent: &str,
    unit: &str,
    strukt: Option<&ast::Struct>,
) -> Result<String, String> {
    let source = site.input.source;
    let body_range = node_range(site.body.syntax());
    let mut replacements: Vec<(Range<usize>, String)> = Vec::new();
    for spawn in spawns {
        let range = node_range(&spawn.stmt);
        let indent = line_indent(source, range.start);
        let inlined =
            inline_block(source, &spawn.block, indent).ok_or("the spawned block is malformed")?;
        replacements.push((range, inlined));
    }
    for block in blocks {
        let future = &block.future;
        let text = match (future, &block.statement) {
            (ast::Expr::BlockExpr(b), Some(stmt))
                if b.async_token().is_some() && !exits_early(b.syntax()) =>
            {
                let range = node_range(stmt);
                let indent = line_indent(source, range.start);
                let inlined =
                    inline_block(source, b, indent).ok_or("the blocked-on block is malformed")?;
                replacements.push((range, inlined));
                continue;
            }
            (
                ast::Expr::CallExpr(_)
                | ast::Expr::MethodCallExpr(_)
                | ast::Expr::PathExpr(_)
                | ast::Expr::FieldExpr(_)
                | ast::Expr::ParenExpr(_)
                | ast::Expr::MacroExpr(_)
                | ast::Expr::AwaitExpr(_)
                | ast::Expr::TryExpr(_)
                | ast::Expr::BlockExpr(_),
                _,
            ) => format!("{}.await", &source[node_range(future.syntax())]),
            _ => format!("({}).await", &source[node_range(future.syntax())]),
        };
        replacements.push((node_range(&block.call), text));
    }
    for runtime in runtimes {
        replacements.extend(runtime.edits.iter().cloned());
    }
    // Re-indenting the body of an unwrapped `if let Ok(rt) = ..` gives way to
    // a rewrite spanning that line.
    for runtime in runtimes {
        for dedent in &runtime.dedents {
            let clash = replacements
                .iter()
                .any(|(r, _)| r.start < dedent.end && dedent.start < r.end);
            if !clash {
                replacements.push((dedent.clone(), String::new()));
            }
        }
    }
    replacements.sort_by_key(|(range, _)| range.start);
    for pair in replacements.windows(2) {
        if pair[0].0.end > pair[1].0.start {
            return Err("the runtime's setup and its use overlap".to_string());
        }
    }
    for runtime in runtimes {
        let left = runtime.uses.iter().any(|use_range| {
            !replacements
                .iter()
                .any(|(r, _)| r.start <= use_range.start && use_range.end <= r.end)
        });
        if left {
            return Err(format!(
                "`drop` uses the runtime `{}` for more than `block_on`; move its work by hand",
                runtime.name
            ));
        }
    }
    let mut body = String::new();
    let mut at = body_range.start;
    let open = site
        .body
        .stmt_list()
        .and_then(|l| l.l_curly_token())
        .map(|t| usize::from(t.text_range().end()))
        .ok_or("`drop` has no body")?;
    if let Some(record) = record {
        body.push_str(&source[at..open]);
        body.push_str(&format!("\n{fn_indent}{unit}{record}"));
        at = open;
    }
    for (range, text) in replacements {
        body.push_str(&source[at..range.start]);
        body.push_str(&text);
        at = range.end;
    }
    body.push_str(&source[at..body_range.end]);

    let receiver = if needs_mut(site.body.syntax()) {
        "&mut self"
    } else {
        "&self"
    };
    let visibility = strukt
        .and_then(|s| s.visibility())
        .map(|v| format!("{} ", v.syntax().text()))
        .unwrap_or_default();
    let item = site.drop_impl;
    let impl_indent = line_indent(source, node_range(item.syntax()).start);
    let generics = item
        .generic_param_list()
        .map(|g| g.syntax().text().to_string())
        .unwrap_or_default();
    let self_ty = item.self_ty().ok_or("the impl has no type")?;
    let where_clause = item
        .where_clause()
        .map(|w| format!("{} ", w.syntax().text()))
        .unwrap_or_default();
    Ok(format!(
        "impl{generics} {ty} {where_clause}{{\n\
         {fn_indent}/// Does the cleanup `drop` used to leave to the background; await it\n\
         {fn_indent}/// (under a timeout if needed) before dropping the value.\n\
         {fn_indent}{visibility}async fn {name}({receiver}) {body}\n\
         {impl_indent}}}\n\n{impl_indent}",
        ty = &source[node_range(self_ty.syntax())],
    ))
}

/// The statements of an `async` block, to stand where the statement that
/// spawned it stood (first line unindented, the rest at `indent`).
fn inline_block(source: &str, block: &ast::BlockExpr, indent: &str) -> Option<String> {
    let list = block.stmt_list()?;
    let open = usize::from(list.l_curly_token()?.text_range().end());
    let close = usize::from(list.r_curly_token()?.text_range().start());
    let mut inner = String::new();
    match list.tail_expr() {
        // The tail's value was the task's output, which nobody read.
        Some(tail) if !is_block_like(&tail) => {
            let end = node_range(tail.syntax()).end;
            inner.push_str(&source[open..end]);
            inner.push(';');
            inner.push_str(&source[end..close]);
        }
        _ => inner.push_str(&source[open..close]),
    }
    let lines: Vec<&str> = inner.trim().lines().collect();
    let (first, rest) = lines.split_first()?;
    let depth = rest
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out = first.to_string();
    for line in rest {
        out.push('\n');
        if !line.trim().is_empty() {
            out.push_str(indent);
            out.push_str(line.get(depth..).unwrap_or(line.trim_start()));
        }
    }
    Some(out)
}

fn is_block_like(expr: &ast::Expr) -> bool {
    matches!(
        expr,
        ast::Expr::IfExpr(_)
            | ast::Expr::MatchExpr(_)
            | ast::Expr::BlockExpr(_)
            | ast::Expr::LoopExpr(_)
            | ast::Expr::WhileExpr(_)
            | ast::Expr::ForExpr(_)
    )
}

/// Whether the copied body needs `&mut self`: it takes, assigns or borrows a
/// field mutably, or calls a method whose receiver is not known to be shared.
fn needs_mut(body: &SyntaxNode) -> bool {
    for node in body.descendants() {
        if node.kind() == SyntaxKind::MACRO_CALL
            && ast::MacroCall::cast(node.clone())
                .and_then(|m| m.token_tree())
                .is_some_and(|tt| {
                    tt.syntax()
                        .descendants_with_tokens()
                        .any(|t| t.as_token().is_some_and(|t| t.text() == "self"))
                })
        {
            // Macro arguments are not parsed: assume the worst.
            return true;
        }
        let is_self = node.kind() == SyntaxKind::PATH_EXPR && node.text() == "self";
        if !is_self {
            continue;
        }
        let Some(parent) = node.parent() else {
            return true;
        };
        let shared = match parent.kind() {
            SyntaxKind::FIELD_EXPR => field_use_is_shared(&parent),
            _ => false,
        };
        if !shared {
            return true;
        }
    }
    false
}

fn field_use_is_shared(field: &SyntaxNode) -> bool {
    let Some(parent) = field.parent() else {
        return false;
    };
    match parent.kind() {
        SyntaxKind::METHOD_CALL_EXPR => ast::MethodCallExpr::cast(parent).is_some_and(|call| {
            call.receiver().is_some_and(|r| r.syntax() == field)
                && call
                    .name_ref()
                    .is_some_and(|n| SHARED_METHODS.iter().any(|m| n.text() == *m))
        }),
        SyntaxKind::REF_EXPR => ast::RefExpr::cast(parent).is_some_and(|r| r.mut_token().is_none()),
        SyntaxKind::BIN_EXPR => ast::BinExpr::cast(parent).is_some_and(|bin| {
            !matches!(bin.op_kind(), Some(ast::BinaryOp::Assignment { .. }))
                || bin.lhs().is_none_or(|lhs| lhs.syntax() != field)
        }),
        // Reading a `Copy` field, or passing it along by value, is all `drop`
        // could do with it through `&mut self` as well.
        SyntaxKind::LET_STMT | SyntaxKind::ARG_LIST | SyntaxKind::RECORD_EXPR_FIELD => true,
        _ => false,
    }
}

fn paths(imports: &Imports, top_level: bool) -> Paths {
    let imported = |alias: &str, suffix: &[&str]| {
        top_level
            && imports.iter().any(|(name, path)| {
                name == alias
                    && path.len() >= suffix.len()
                    && path[path.len() - suffix.len()..]
                        .iter()
                        .zip(suffix)
                        .all(|(a, b)| a == b)
            })
    };
    Paths {
        atomic_bool: if imported("AtomicBool", &["sync", "atomic", "AtomicBool"]) {
            "AtomicBool".to_string()
        } else {
            "std::sync::atomic::AtomicBool".to_string()
        },
        ordering: if imported("Ordering", &["sync", "atomic", "Ordering"]) {
            "Ordering".to_string()
        } else {
            "std::sync::atomic::Ordering".to_string()
        },
        try_current: if imported("Handle", &["tokio", "runtime", "Handle"]) {
            "Handle::try_current()".to_string()
        } else {
            "tokio::runtime::Handle::try_current()".to_string()
        },
    }
}

fn is_top_level(node: &SyntaxNode) -> bool {
    node.parent()
        .is_some_and(|p| p.kind() == SyntaxKind::SOURCE_FILE)
}

fn warn(logging: Logging, message: &str) -> String {
    match logging {
        Logging::Tracing => format!("tracing::warn!(\"{message}\");"),
        Logging::Log => format!("log::warn!(\"{message}\");"),
        // Library code does not write to stderr behind its users' backs:
        // without a logging facade the fallback is silent and says so here.
        Logging::Stderr => format!("// {message} (silent: the crate has no logging facade)"),
    }
}

/// A name that no identifier in `body` uses, so binding it shadows nothing.
fn fresh_name(body: &SyntaxNode, candidates: &[&'static str]) -> Option<&'static str> {
    candidates.iter().copied().find(|name| {
        !body
            .descendants_with_tokens()
            .filter_map(|t| t.into_token())
            .any(|t| t.kind() == SyntaxKind::IDENT && t.text() == *name)
    })
}

fn node_range(node: &SyntaxNode) -> Range<usize> {
    text_range(node.text_range())
}

fn text_range(range: TextRange) -> Range<usize> {
    usize::from(range.start())..usize::from(range.end())
}

/// The whitespace that starts the line `offset` is on.
fn line_indent(source: &str, offset: usize) -> &str {
    let start = source[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = &source[start..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// One level of indentation as the body writes it.
fn indent_unit(source: &str, body: &ast::BlockExpr, fn_indent: &str) -> String {
    body.stmt_list()
        .and_then(|list| first_stmt_indent(source, &list))
        .and_then(|indent| indent.strip_prefix(fn_indent).map(str::to_string))
        .filter(|unit| !unit.is_empty())
        .unwrap_or_else(|| "    ".to_string())
}

fn first_stmt_indent(source: &str, list: &ast::StmtList) -> Option<String> {
    let first = list
        .statements()
        .map(|s| s.syntax().clone())
        .chain(list.tail_expr().map(|e| e.syntax().clone()))
        .next()?;
    let start = node_range(&first).start;
    let indent = line_indent(source, start);
    // Only a statement that starts its own line shows the indentation.
    (source[..start].ends_with(indent) && source[..start - indent.len()].ends_with('\n'))
        .then(|| indent.to_string())
}

/// Indents every line after the first by `unit` more.
fn reindent(text: &str, unit: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.trim().is_empty() {
                out.push_str(unit);
            }
        }
        out.push_str(line);
    }
    out
}

/// Appends `entry` to a `{ .. }` list of fields (a struct definition, literal
/// or pattern), matching its layout: one per line, or all on one line.
fn append_entry(source: &str, list: &SyntaxNode, entry: &str) -> Option<Edit> {
    let open = list
        .children_with_tokens()
        .find(|t| t.kind() == SyntaxKind::L_CURLY)
        .map(|t| usize::from(t.text_range().end()))?;
    let close = list
        .children_with_tokens()
        .filter(|t| t.kind() == SyntaxKind::R_CURLY)
        .last()
        .map(|t| usize::from(t.text_range().start()))?;
    let entries: Vec<SyntaxNode> = list
        .children()
        .filter(|c| {
            matches!(
                c.kind(),
                SyntaxKind::RECORD_FIELD
                    | SyntaxKind::RECORD_EXPR_FIELD
                    | SyntaxKind::RECORD_PAT_FIELD
            )
        })
        .collect();
    // `..base` comes last: the new entry goes right before it.
    if let Some(dotdot) = list
        .children_with_tokens()
        .find(|t| t.kind() == SyntaxKind::DOT2)
    {
        let at = usize::from(dotdot.text_range().start());
        let text = if source[open..at].contains('\n') {
            format!("{entry},\n{}", line_indent(source, at))
        } else {
            format!("{entry}, ")
        };
        return Some(Edit::insert(at, text));
    }
    let Some(last) = entries.last() else {
        let inner = &source[open..close];
        let text = if inner.contains('\n') {
            let indent = line_indent(source, open - 1);
            format!("\n{indent}    {entry},\n{indent}")
        } else {
            format!(" {entry} ")
        };
        return Some(Edit::replace(open..close, text));
    };
    let last_range = node_range(last);
    let after = &source[last_range.end..close];
    let comma = after
        .find(|c: char| !c.is_whitespace())
        .filter(|&i| after[i..].starts_with(','))
        .map(|i| last_range.end + i);
    let multiline = source[open..last_range.start].contains('\n');
    if !multiline {
        return Some(match comma {
            Some(at) => Edit::insert(at + 1, format!(" {entry},")),
            None => Edit::insert(last_range.end, format!(", {entry}")),
        });
    }
    let indent = line_indent(source, last_range.start);
    Some(match comma {
        Some(at) => {
            // After a comment that ends the line, not between comma and comment.
            let rest = &source[at + 1..close];
            let line_end = rest.find('\n').map(|i| at + 1 + i);
            let at = match line_end {
                Some(end)
                    if source[at + 1..end].trim().is_empty()
                        || source[at + 1..end].trim_start().starts_with("//") =>
                {
                    end
                }
                _ => at + 1,
            };
            Edit::insert(at, format!("\n{indent}{entry},"))
        }
        None => Edit::insert(last_range.end, format!(",\n{indent}{entry}")),
    })
}

/// Adds the new guard field to every struct literal and pattern of the type
/// in the crate.
pub(super) fn complete(finding: &mut Finding, ctx: &CrateContext<'_>) {
    let Some(request) = finding.crate_fix.take() else {
        return;
    };
    let [type_name, field, drop_start, drop_end, shape] = request.data.as_slice() else {
        finding.fix = None;
        return;
    };
    let drop_range =
        drop_start.parse::<usize>().unwrap_or(0)..drop_end.parse::<usize>().unwrap_or(0);
    let Some(fix) = finding.fix.as_mut() else {
        return;
    };
    let own: Vec<Range<usize>> = fix
        .edits
        .iter()
        .filter(|e| e.file.is_none())
        .map(|e| e.range.clone())
        .collect();
    let mut problems = Vec::new();
    for (path, text) in ctx.files {
        // `Self { .. }` literals sit in an `impl` that names the type too.
        if !text.contains(type_name.as_str()) {
            continue;
        }
        let is_own = path.as_path() == ctx.file;
        let root = SourceFile::parse(text, ctx.edition).tree().syntax().clone();
        let mut imports = Vec::new();
        for item in root.children().filter_map(ast::Use::cast) {
            if let Some(tree) = item.use_tree() {
                super::flatten_use(&tree, &[], &mut imports);
            }
        }
        let line = |offset: usize| text[..offset].matches('\n').count() + 1;
        let at = |offset: usize| format!("{}:{}", path.display(), line(offset));
        // A literal inside this fix's own edits, or inside the `Drop` impl it
        // rewrites, would be edited twice.
        let rewritten = |range: &Range<usize>| {
            is_own
                && (own
                    .iter()
                    .any(|r| r.start < range.end && range.start < r.end.max(r.start + 1))
                    || (drop_range.start <= range.start && range.end <= drop_range.end))
        };
        for node in root.descendants() {
            if shape == "tuple" {
                let top = node.ancestors().all(|a| a.kind() != SyntaxKind::MODULE);
                let value = format!("{}::new(false)", paths(&imports, top).atomic_bool);
                let (list, entry) = match tuple_use(&node, type_name) {
                    TupleUse::None => continue,
                    TupleUse::Call(list) => (list, value),
                    TupleUse::Pattern(list) => (list, "_".to_string()),
                    TupleUse::Value => {
                        problems.push(format!(
                            "{}: `{type_name}` is used as a constructor function; it is not updated",
                            at(node_range(&node).start)
                        ));
                        continue;
                    }
                };
                let range = node_range(&node);
                if rewritten(&range) {
                    problems.push(format!(
                        "{}: a `{type_name}` constructor inside the rewritten code is not updated",
                        at(range.start)
                    ));
                    continue;
                }
                let Some(mut edit) = append_arg(text, &list, &entry) else {
                    continue;
                };
                if !is_own {
                    edit.file = Some(path.clone());
                }
                fix.edits.push(edit);
                continue;
            }
            let list = match node.kind() {
                SyntaxKind::RECORD_EXPR => ast::RecordExpr::cast(node.clone())
                    .filter(|r| names_type(r.path(), &node, type_name))
                    .and_then(|r| r.record_expr_field_list())
                    .map(|l| l.syntax().clone()),
                SyntaxKind::RECORD_PAT => ast::RecordPat::cast(node.clone())
                    .filter(|r| names_type(r.path(), &node, type_name))
                    .and_then(|r| r.record_pat_field_list())
                    // A pattern with `..` already ignores the new field.
                    .filter(|l| l.rest_pat().is_none())
                    .map(|l| l.syntax().clone()),
                SyntaxKind::MACRO_CALL => {
                    if macro_builds(&node, type_name) {
                        problems.push(format!(
                            "{}: a `{type_name}` literal inside a macro call is not updated",
                            at(node_range(&node).start)
                        ));
                    }
                    continue;
                }
                _ => continue,
            };
            let Some(list) = list else {
                continue;
            };
            let range = node_range(&node);
            if rewritten(&range) {
                problems.push(format!(
                    "{}: a `{type_name}` literal inside the rewritten code is not updated",
                    at(range.start)
                ));
                continue;
            }
            let entry = if node.kind() == SyntaxKind::RECORD_PAT {
                format!("{field}: _")
            } else {
                let top = node.ancestors().all(|a| a.kind() != SyntaxKind::MODULE);
                format!("{field}: {}::new(false)", paths(&imports, top).atomic_bool)
            };
            let Some(mut edit) = append_entry(text, &list, &entry) else {
                problems.push(format!(
                    "{}: malformed `{type_name}` literal",
                    at(range.start)
                ));
                continue;
            };
            if !is_own {
                edit.file = Some(path.clone());
            }
            fix.edits.push(edit);
        }
    }
    if !problems.is_empty() {
        // Applying the rest would leave literals without the new field: a build error.
        fix.applicability = Applicability::DisplayOnly;
        finding.notes.extend(problems);
    }
}

/// How a tuple struct's name is used at a node.
enum TupleUse {
    None,
    /// `T(a, b)`: the argument list gets the new field's value.
    Call(SyntaxNode),
    /// `T(a, b)` as a pattern without `..`: the field list gets `_`.
    Pattern(SyntaxNode),
    /// `T` passed as a function (`.map(T)`), which no edit can extend.
    Value,
}

fn tuple_use(node: &SyntaxNode, type_name: &str) -> TupleUse {
    match node.kind() {
        SyntaxKind::CALL_EXPR => {
            let Some(call) = ast::CallExpr::cast(node.clone()) else {
                return TupleUse::None;
            };
            let Some(ast::Expr::PathExpr(callee)) = call.expr() else {
                return TupleUse::None;
            };
            match call.arg_list() {
                Some(args) if names_type(callee.path(), node, type_name) => {
                    TupleUse::Call(args.syntax().clone())
                }
                _ => TupleUse::None,
            }
        }
        SyntaxKind::TUPLE_STRUCT_PAT => {
            let Some(pat) = ast::TupleStructPat::cast(node.clone()) else {
                return TupleUse::None;
            };
            let rest = pat.fields().any(|f| matches!(f, ast::Pat::RestPat(_)));
            if rest || !names_type(pat.path(), node, type_name) {
                return TupleUse::None;
            }
            TupleUse::Pattern(node.clone())
        }
        SyntaxKind::PATH_EXPR => {
            let callee = node
                .parent()
                .and_then(ast::CallExpr::cast)
                .and_then(|c| c.expr())
                .is_some_and(|e| e.syntax() == node);
            let named = ast::PathExpr::cast(node.clone())
                .is_some_and(|p| names_type(p.path(), node, type_name));
            if named && !callee {
                TupleUse::Value
            } else {
                TupleUse::None
            }
        }
        _ => TupleUse::None,
    }
}

/// `T` or `path::T`, or `Self` inside an `impl` of `T`.
fn names_type(path: Option<ast::Path>, node: &SyntaxNode, type_name: &str) -> bool {
    let Some(path) = path else {
        return false;
    };
    let text = path.syntax().text().to_string();
    let segments = path_segments(&text);
    match segments.last().map(String::as_str) {
        Some("Self") => node
            .ancestors()
            .find_map(ast::Impl::cast)
            .and_then(|item| impl_type_name(&item))
            .is_some_and(|name| name == type_name),
        Some(last) => last == type_name,
        None => false,
    }
}

/// Whether a macro's tokens contain `T { .. }` as an expression or pattern.
fn macro_builds(node: &SyntaxNode, type_name: &str) -> bool {
    let Some(tt) = ast::MacroCall::cast(node.clone()).and_then(|m| m.token_tree()) else {
        return false;
    };
    let tokens: Vec<_> = tt
        .syntax()
        .descendants_with_tokens()
        .filter(|t| !t.kind().is_trivia())
        .collect();
    tokens.windows(3).any(|w| {
        let before = w[0]
            .as_token()
            .map(|t| t.text().to_string())
            .unwrap_or_default();
        w[1].as_token()
            .is_some_and(|t| t.kind() == SyntaxKind::IDENT && t.text() == type_name)
            && w[2].kind() == SyntaxKind::TOKEN_TREE
            && w[2]
                .as_node()
                .is_some_and(|n| n.text().to_string().starts_with('{'))
            && !matches!(
                before.as_str(),
                "struct" | "enum" | "union" | "impl" | "for" | "trait"
            )
    })
}

#[cfg(test)]
mod tests {
    use crate::{Applicability, CrateContext, CrateFacts, Edition, Finding, Options, analyze};
    use std::path::PathBuf;
    use std::sync::Arc;

    fn carrier(source: &str) -> Finding {
        let findings = analyze(
            source,
            Edition::Edition2024,
            &Options::default(),
            &CrateFacts::default(),
        )
        .findings;
        findings
            .into_iter()
            .find(|f| f.fix.is_some() || f.notes.iter().any(|n| n.starts_with("no automatic fix")))
            .expect("a finding")
    }

    fn apply(source: &str, finding: &Finding) -> String {
        let mut edits: Vec<_> = finding
            .fix
            .iter()
            .flat_map(|f| &f.edits)
            .filter(|e| e.file.is_none())
            .collect();
        edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
        let mut out = source.to_string();
        for edit in edits {
            out.replace_range(edit.range.clone(), &edit.replacement);
        }
        out
    }

    #[test]
    fn option_taken_before_the_spawn_is_the_guard() {
        let source = "struct Lease { pool: Pool, conn: Option<Conn> }\nimpl Drop for Lease {\n    fn drop(&mut self) {\n        if let Some(conn) = self.conn.take() {\n            let pool = self.pool.clone();\n            tokio::spawn(async move { pool.checkin(conn).await });\n        }\n    }\n}\n";
        let finding = carrier(source);
        assert!(
            finding.crate_fix.is_none(),
            "no new field, nothing to complete"
        );
        let fixed = apply(source, &finding);
        assert!(fixed.contains("    async fn checkin(&mut self) {\n        if let Some(conn) = self.conn.take() {\n            let pool = self.pool.clone();\n            pool.checkin(conn).await;\n        }\n    }"), "{fixed}");
        assert!(fixed.contains("if let Ok(handle) = tokio::runtime::Handle::try_current() {\n                handle.spawn(async move { pool.checkin(conn).await });\n            }"), "{fixed}");
        assert_eq!(
            finding.fix.map(|f| f.applicability),
            Some(Applicability::Unsafe)
        );
    }

    #[test]
    fn new_flag_reaches_literals_in_other_files() {
        let source = "pub struct Conn { pub id: u64 }\nimpl Conn { pub async fn close(&self) { send(self.id).await; } }\nimpl Drop for Conn { fn drop(&mut self) { let id = self.id; tokio::spawn(async move { send(id).await; }); } }\n";
        let mut finding = carrier(source);
        assert!(finding.crate_fix.is_some());
        let own = PathBuf::from("/c/src/conn.rs");
        let other = PathBuf::from("/c/src/pool.rs");
        let files = [
            (own.clone(), Arc::from(source)),
            (
                other.clone(),
                Arc::from(
                    "fn f() -> Conn { crate::Conn { id: 1 } }\nfn g(c: &Conn) { let Conn { id } = c; }\n",
                ),
            ),
        ];
        let ctx = CrateContext {
            file: &own,
            files: &files,
            edition: Edition::Edition2024,
            facts: None,
            index: &Default::default(),
        };
        super::complete(&mut finding, &ctx);
        assert!(finding.crate_fix.is_none());
        let fix = finding.fix.expect("a fix");
        let replacements: Vec<&str> = fix
            .edits
            .iter()
            .filter(|e| e.file.as_ref() == Some(&other))
            .map(|e| e.replacement.as_str())
            .collect();
        assert_eq!(
            replacements,
            [
                ", cleaned_up: std::sync::atomic::AtomicBool::new(false)",
                ", cleaned_up: _"
            ]
        );
        assert_eq!(fix.applicability, Applicability::Unsafe);
    }

    #[test]
    fn literal_in_a_macro_makes_the_fix_display_only() {
        let source = "struct Conn { id: u64 }\nimpl Drop for Conn { fn drop(&mut self) { let id = self.id; tokio::spawn(async move { send(id).await; }); } }\nfn all() -> Vec<Conn> { vec![Conn { id: 1 }] }\n";
        let mut finding = carrier(source);
        let own = PathBuf::from("/c/src/lib.rs");
        let files = [(own.clone(), Arc::from(source))];
        super::complete(
            &mut finding,
            &CrateContext {
                file: &own,
                files: &files,
                edition: Edition::Edition2024,
                facts: None,
                index: &Default::default(),
            },
        );
        assert_eq!(
            finding.fix.map(|f| f.applicability),
            Some(Applicability::DisplayOnly)
        );
        assert!(
            finding
                .notes
                .iter()
                .any(|n| n.ends_with("a `Conn` literal inside a macro call is not updated"))
        );
    }

    #[test]
    fn unsupported_shapes_say_why() {
        let source = "struct A { c: Option<C> }\nimpl Drop for A { fn drop(&mut self) { if let Some(c) = self.c.take() { tokio::task::spawn_local(async move { c.close().await }); } } }\n";
        let finding = carrier(source);
        assert!(finding.fix.is_none());
        assert!(
            finding
                .notes
                .iter()
                .any(|n| n.contains("not `tokio::task::spawn_local`")),
            "{:?}",
            finding.notes
        );
        let derived = "#[derive(Clone)]\nstruct A { h: H }\nimpl Drop for A { fn drop(&mut self) { let h = self.h.clone(); tokio::spawn(async move { h.go().await }); } }\n";
        let finding = carrier(derived);
        assert!(
            finding.notes.iter().any(|n| n.contains("derives `Clone`")),
            "{:?}",
            finding.notes
        );
    }
}
