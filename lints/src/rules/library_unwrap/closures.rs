//! An `unwrap` inside a closure whose result the function consumes on the
//! spot. `iter.map(|x| x.parse().unwrap()).collect::<Vec<_>>()` becomes a
//! closure that returns the function's `Result` (or `Option`) and a fallible
//! `collect` with `?` after it; `iter.for_each(|x| ..)` becomes a `for` loop,
//! whose body `?` leaves as the function's own body does; an `async` block
//! awaited on the spot returns the error and its `.await` gets `?`. Closures
//! and blocks whose result is used elsewhere (stored, spawned, passed on) are
//! not touched.

use super::Site;
use super::fix::{Kind, Plan, decide, edits, fix_message, returns_for, wrapper};
use crate::LintInput;
use crate::context::{self, Enclosing};
use crate::diagnostic::{Applicability, Edit, Fix};
use crate::trees::Tree;
use ra_ap_syntax::ast::{self, AstNode, HasArgList, HasGenericArgs, HasName};
use ra_ap_syntax::{SyntaxKind, SyntaxNode};
use std::ops::Range;

/// The plan for `site`, an `unwrap` whose nearest body is `closure`; `None`
/// when the closure is not one of the shapes rewritten here.
pub(super) fn plan(
    tree: &Tree,
    site: &Site<'_>,
    kind: Kind,
    input: &LintInput<'_>,
    closure: &ast::ClosureExpr,
) -> Option<Plan> {
    if tree.is_macro() || closure.ret_type().is_some() {
        return None;
    }
    let call = closure
        .syntax()
        .parent()
        .filter(|p| p.kind() == SyntaxKind::ARG_LIST)
        .and_then(|list| list.parent())
        .and_then(ast::MethodCallExpr::cast)?;
    let method = call.name_ref()?.text().to_string();
    if !matches!(method.as_str(), "map" | "for_each") || call.arg_list()?.args().count() != 1 {
        return None;
    }
    // The closure must sit directly in the function whose body `?` leaves.
    let Some(Enclosing::Fn(func)) = context::enclosing_body(tree, closure.syntax()) else {
        return None;
    };
    let returns = returns_for(func.ret_type(), input)?;
    let body = closure.body()?;
    // An iterator's item is often a reference: `v.unwrap()` auto-derefs a
    // `&Option<T>`, `v?` does not. A receiver that is a parameter of the
    // closure is left alone.
    let params: Vec<String> = closure
        .param_list()?
        .params()
        .filter_map(|p| p.pat())
        .map(|p| p.syntax().text().to_string())
        .collect();
    let receiver = ast::MethodCallExpr::cast(site.node.clone()).and_then(|c| c.receiver());
    if receiver.is_some_and(|r| params.contains(&r.syntax().text().to_string())) {
        return None;
    }
    if method == "map" && !own_returns(body.syntax()).is_empty() {
        return Some(Plan::because(
            "no automatic fix: the closure returns early with `return`, which means something else outside it",
        ));
    }
    let (shape, applicability) = match decide(site.method, kind, returns, input) {
        Ok(decision) => decision,
        Err(note) => return Some(Plan::because(note)),
    };
    let (site_edits, intact) = edits(tree, site, kind, shape, input)?;
    let body_range = tree.node_range(body.syntax());
    let (inner, mut outer): (Vec<Edit>, Vec<Edit>) = site_edits.into_iter().partition(|edit| {
        edit.file.is_none()
            && body_range.start <= edit.range.start
            && edit.range.end <= body_range.end
    });
    let source = input.source;
    let (rewrite, message) = if method == "map" {
        map_collect(tree, &func, &call, &body, &inner, source)?
    } else {
        for_loop(tree, closure, &call, &body, &inner, source)?
    };
    outer.extend(rewrite);
    let mut applicability = applicability.min(Applicability::Unsafe);
    if !intact {
        applicability = Applicability::Unsafe;
    }
    Some(Plan {
        fix: Some(Fix {
            message: format!("{} and {message}", fix_message(site, shape)),
            applicability,
            edits: outer,
        }),
        ..Plan::none()
    })
}

/// `x.map(|a| f(a).unwrap()).collect::<C>()` or `let v: C = x.map(..).collect();`:
/// the closure returns the function's `Result<_, E>`, and the collect
/// gathers into `Result<C, E>` with `?` after it.
fn map_collect(
    tree: &Tree,
    func: &ast::Fn,
    map: &ast::MethodCallExpr,
    body: &ast::Expr,
    inner: &[Edit],
    source: &str,
) -> Option<(Vec<Edit>, &'static str)> {
    let collect = map
        .syntax()
        .parent()
        .and_then(ast::MethodCallExpr::cast)
        .filter(|c| c.name_ref().is_some_and(|n| n.text() == "collect"))?;
    let ret = func.ret_type()?.ty()?;
    let wrap = wrapper(&ret)?;
    let turbofish = collect
        .generic_arg_list()
        .and_then(|list| list.generic_args().next());
    let mut edits = Vec::new();
    let collection = match &turbofish {
        Some(arg) => {
            let collection = arg.syntax().text().to_string();
            edits.push(Edit::replace(
                tree.node_range(arg.syntax()),
                with_first_argument(&ret, &collection)?,
            ));
            collection
        }
        None => {
            let ty = collect
                .syntax()
                .parent()
                .and_then(ast::LetStmt::cast)
                .and_then(|stmt| stmt.ty())?;
            let collection = ty.syntax().text().to_string();
            let name_end = tree.node_range(collect.name_ref()?.syntax()).end;
            edits.push(Edit::insert(
                name_end,
                format!("::<{}>", with_first_argument(&ret, &collection)?),
            ));
            collection
        }
    };
    if collection.contains("impl") {
        return None;
    }
    edits.push(Edit::insert(tree.node_range(collect.syntax()).end, "?"));
    let closure_ret = with_first_argument(&ret, "_")?;
    let body_range = tree.node_range(body.syntax());
    let mut pieces: Vec<(Range<usize>, String)> = inner
        .iter()
        .map(|e| (e.range.clone(), e.replacement.clone()))
        .collect();
    let text = match body {
        ast::Expr::BlockExpr(block) => {
            let tail = block.stmt_list()?.tail_expr()?;
            let tail = tree.node_range(tail.syntax());
            pieces.push((tail.start..tail.start, format!("{wrap}(")));
            pieces.push((tail.end..tail.end, ")".to_string()));
            format!("-> {closure_ret} {}", apply(source, &body_range, pieces)?)
        }
        _ => {
            pieces.push((body_range.start..body_range.start, format!("{wrap}(")));
            pieces.push((body_range.end..body_range.end, ")".to_string()));
            format!(
                "-> {closure_ret} {{ {} }}",
                apply(source, &body_range, pieces)?
            )
        }
    };
    edits.push(Edit::replace(body_range, text));
    Some((edits, "the closure returns it to a fallible `collect`"))
}

/// `x.for_each(|a| ..);` becomes `for a in x { .. }`.
fn for_loop(
    tree: &Tree,
    closure: &ast::ClosureExpr,
    call: &ast::MethodCallExpr,
    body: &ast::Expr,
    inner: &[Edit],
    source: &str,
) -> Option<(Vec<Edit>, &'static str)> {
    let stmt = call.syntax().parent().and_then(ast::ExprStmt::cast)?;
    stmt.semicolon_token()?;
    let mut params = closure.param_list()?.params();
    let param = params.next()?;
    if params.next().is_some() || param.ty().is_some() {
        return None;
    }
    let pattern = param.pat()?.syntax().text().to_string();
    let receiver = call.receiver()?;
    // A struct literal is not allowed in a `for` head.
    if receiver
        .syntax()
        .descendants()
        .any(|n| n.kind() == SyntaxKind::RECORD_EXPR)
    {
        return None;
    }
    let receiver = receiver.syntax().text().to_string();
    let body_range = tree.node_range(body.syntax());
    let mut pieces: Vec<(Range<usize>, String)> = inner
        .iter()
        .map(|e| (e.range.clone(), e.replacement.clone()))
        .collect();
    // `return;` in the closure goes on with the next item: `continue`.
    for ret in own_returns(body.syntax()) {
        // Inside a loop of the closure, `continue` would mean that loop.
        let in_loop = ret
            .syntax()
            .ancestors()
            .take_while(|n| n != body.syntax())
            .any(|n| {
                matches!(
                    n.kind(),
                    SyntaxKind::FOR_EXPR | SyntaxKind::WHILE_EXPR | SyntaxKind::LOOP_EXPR
                )
            });
        if ret.expr().is_some() || in_loop {
            return None;
        }
        pieces.push((tree.node_range(ret.syntax()), "continue".to_string()));
    }
    let new_body = apply(source, &body_range, pieces)?;
    let block = match body {
        ast::Expr::BlockExpr(block) if block.async_token().is_none() && block.label().is_none() => {
            new_body
        }
        _ => {
            let indent = super::fix::line_indent(source, tree.node_range(stmt.syntax()).start);
            format!("{{\n{indent}    {new_body};\n{indent}}}")
        }
    };
    let edit = Edit::replace(
        tree.node_range(stmt.syntax()),
        format!("for {pattern} in {receiver} {block}"),
    );
    Some((vec![edit], "`for_each` becomes a `for` loop"))
}

/// `Result<T, E>` with `T` replaced by `first` (`Result<first, E>`), as the
/// function's return type spells it.
fn with_first_argument(ret: &ast::Type, first: &str) -> Option<String> {
    let ast::Type::PathType(path) = ret else {
        return None;
    };
    let segment = path.path()?.segment()?;
    let arg = segment.generic_arg_list()?.generic_args().next()?;
    let text = ret.syntax().text().to_string();
    let start = usize::from(ret.syntax().text_range().start());
    let arg = usize::from(arg.syntax().text_range().start()) - start
        ..usize::from(arg.syntax().text_range().end()) - start;
    Some(format!("{}{first}{}", &text[..arg.start], &text[arg.end..]))
}

/// The `return`s that leave this closure (not one nested in it).
fn own_returns(body: &SyntaxNode) -> Vec<ast::ReturnExpr> {
    let mut found = Vec::new();
    let mut walk = body.preorder();
    while let Some(event) = walk.next() {
        let ra_ap_syntax::WalkEvent::Enter(node) = event else {
            continue;
        };
        match node.kind() {
            SyntaxKind::CLOSURE_EXPR | SyntaxKind::FN => walk.skip_subtree(),
            SyntaxKind::BLOCK_EXPR
                if ast::BlockExpr::cast(node.clone())
                    .is_some_and(|b| b.async_token().is_some()) =>
            {
                walk.skip_subtree()
            }
            SyntaxKind::RETURN_EXPR => found.extend(ast::ReturnExpr::cast(node)),
            _ => {}
        }
    }
    found
}

/// The text of `range` of `source` with `pieces` (all inside it) applied;
/// an insertion comes before a replacement starting at the same offset.
fn apply(
    source: &str,
    range: &Range<usize>,
    mut pieces: Vec<(Range<usize>, String)>,
) -> Option<String> {
    pieces.sort_by_key(|(r, _)| (r.start, r.end > r.start, r.end));
    let mut out = String::new();
    let mut cursor = range.start;
    for (r, text) in pieces {
        if r.start < cursor || r.end > range.end {
            return None;
        }
        out.push_str(source.get(cursor..r.start)?);
        out.push_str(&text);
        cursor = r.end;
    }
    out.push_str(source.get(cursor..range.end)?);
    Some(out)
}

/// The plan for `site`, an `unwrap` whose nearest body is the `async` block
/// `block`: `async { .. x.unwrap() .. }.await` in a function returning
/// `Result<T, E>` becomes `async { .. x? .. Ok::<_, E>(tail) }.await?`.
pub(super) fn async_block_plan(
    tree: &Tree,
    site: &Site<'_>,
    kind: Kind,
    input: &LintInput<'_>,
    block: &ast::BlockExpr,
) -> Option<Plan> {
    if tree.is_macro() {
        return None;
    }
    let awaited = block.syntax().parent().and_then(ast::AwaitExpr::cast)?;
    let Some(Enclosing::Fn(func)) = context::enclosing_body(tree, block.syntax()) else {
        return None;
    };
    let ret = func.ret_type()?.ty()?;
    let returns = returns_for(func.ret_type(), input)?;
    if !own_returns(block.syntax()).is_empty() {
        return Some(Plan::because(
            "no automatic fix: the `async` block returns early with `return`, which leaves only the block",
        ));
    }
    // `?` inside the block needs the block's error type spelt out.
    let wrap = match wrapper(&ret)? {
        "Some" => "Some".to_string(),
        _ => format!("Ok::<_, {}>", error_type(&ret)?),
    };
    let (shape, applicability) = match decide(site.method, kind, returns, input) {
        Ok(decision) => decision,
        Err(note) => return Some(Plan::because(note)),
    };
    let (site_edits, intact) = edits(tree, site, kind, shape, input)?;
    let block_range = tree.node_range(block.syntax());
    let (inner, mut outer): (Vec<Edit>, Vec<Edit>) = site_edits.into_iter().partition(|edit| {
        edit.file.is_none()
            && block_range.start <= edit.range.start
            && edit.range.end <= block_range.end
    });
    let tail = block.stmt_list()?.tail_expr()?;
    let tail = tree.node_range(tail.syntax());
    let mut pieces: Vec<(Range<usize>, String)> = inner
        .iter()
        .map(|e| (e.range.clone(), e.replacement.clone()))
        .collect();
    pieces.push((tail.start..tail.start, format!("{wrap}(")));
    pieces.push((tail.end..tail.end, ")".to_string()));
    outer.push(Edit::replace(
        block_range.clone(),
        apply(input.source, &block_range, pieces)?,
    ));
    outer.push(Edit::insert(tree.node_range(awaited.syntax()).end, "?"));
    let mut applicability = applicability.min(Applicability::Unsafe);
    if !intact {
        applicability = Applicability::Unsafe;
    }
    Some(Plan {
        fix: Some(Fix {
            message: format!(
                "{} and the `async` block returns it to `.await?`",
                fix_message(site, shape)
            ),
            applicability,
            edits: outer,
        }),
        ..Plan::none()
    })
}

/// `E` of the function's `Result<T, E>` as written; `std::io::Error` for
/// `io::Result<T>`, `anyhow::Error` for `anyhow::Result<T>`.
fn error_type(ret: &ast::Type) -> Option<String> {
    let ast::Type::PathType(path) = ret else {
        return None;
    };
    let path = path.path()?;
    let segment = path.segment()?;
    let mut args = segment.generic_arg_list()?.generic_args();
    let _ok = args.next()?;
    if let Some(error) = args.next() {
        return Some(error.syntax().text().to_string());
    }
    let qualifier = path.qualifier()?.syntax().text().to_string();
    match qualifier.as_str() {
        "io" | "std::io" => Some("std::io::Error".to_string()),
        "anyhow" => Some("anyhow::Error".to_string()),
        "eyre" | "color_eyre" | "color_eyre::eyre" => Some(format!("{qualifier}::Report")),
        _ => None,
    }
}

/// `x.unwrap();` as a statement of `Drop::drop` (or of a closure inside it):
/// `drop` cannot return the error, and a panic there aborts the process when
/// it runs during unwinding, so the failure is ignored: `let _ = x;`.
pub(super) fn drop_statement_plan(tree: &Tree, site: &Site<'_>) -> Option<Plan> {
    if tree.is_macro() {
        return None;
    }
    let call = ast::MethodCallExpr::cast(site.node.clone())?;
    let stmt = call.syntax().parent().and_then(ast::ExprStmt::cast)?;
    stmt.semicolon_token()?;
    let func = tree
        .ancestors(call.syntax())
        .into_iter()
        .find_map(ast::Fn::cast)?;
    if !is_drop_fn(&func) {
        return None;
    }
    // Nothing of the call is lost: the receiver is kept, the message of an
    // `expect` was only for the panic.
    let receiver = call.receiver()?;
    if let Some(args) = call.arg_list()
        && args.args().any(|arg| !super::fix::message_is_static(&arg))
    {
        return None;
    }
    let edit = Edit::replace(
        tree.node_range(stmt.syntax()),
        format!("let _ = {};", receiver.syntax().text()),
    );
    Some(Plan {
        fix: Some(Fix {
            message: "ignore the failure in `drop` with `let _ = ..`".to_string(),
            applicability: Applicability::Unsafe,
            edits: vec![edit],
        }),
        note: Some(
            "`drop` cannot return an error, and a panic in `drop` during unwinding aborts the process: the fix ignores the failure, so the rest of the cleanup still runs".to_string(),
        ),
        ..Plan::none()
    })
}

/// `fn drop` of an `impl Drop for T`.
fn is_drop_fn(func: &ast::Fn) -> bool {
    func.name().is_some_and(|n| n.text() == "drop")
        && func
            .syntax()
            .parent()
            .and_then(|list| list.parent())
            .and_then(ast::Impl::cast)
            .and_then(|imp| imp.trait_())
            .is_some_and(|t| {
                let text = t.syntax().text().to_string();
                text == "Drop" || text.ends_with("::Drop")
            })
}

/// `f(.., x.unwrap(), ..);` in `Drop::drop`, where `x` is an `Option` (or a
/// `Result`): a panic there skips the rest of `drop` (and aborts the process
/// during unwinding), so the value is taken first with
/// `let Some(v) = x else { return; };`, which skips the rest without
/// panicking, and the statement uses `v`. A crate whose `rust-version` is
/// older than 1.65 (no `let .. else`) gets
/// `let v = match x { Some(v) => v, None => return };` instead.
pub(super) fn drop_let_else_plan(
    tree: &Tree,
    site: &Site<'_>,
    kind: Kind,
    input: &LintInput<'_>,
) -> Option<Plan> {
    let source = input.source;
    if tree.is_macro() {
        return None;
    }
    let (pattern, other) = match kind {
        Kind::Option => ("Some", "None"),
        Kind::Result(_) => ("Ok", "Err(_)"),
        Kind::Unknown => return None,
    };
    let let_else_syntax = input.facts.supports(1, 65);
    let take = |name: &str, value: &str| {
        if let_else_syntax {
            format!("let {pattern}({name}) = {value} else {{ return; }};")
        } else {
            format!(
                "let {name} = match {value} {{ {pattern}({name}) => {name}, {other} => return }};"
            )
        }
    };
    let call = ast::MethodCallExpr::cast(site.node.clone())?;
    if !call
        .name_ref()
        .is_some_and(|n| n.text() == "unwrap" || n.text() == "expect")
    {
        return None;
    }
    // The call belongs to `drop` itself, not to a closure or block in it.
    let Some(Enclosing::Fn(func)) = context::enclosing_body(tree, call.syntax()) else {
        return None;
    };
    if !is_drop_fn(&func) {
        return None;
    }
    if let Some(args) = call.arg_list()
        && args.args().any(|arg| !super::fix::message_is_static(&arg))
    {
        return None;
    }
    let receiver = call.receiver()?;
    // The statement holding the call, directly in a block of `drop`.
    let stmt = call.syntax().ancestors().find(|n| {
        n.parent()
            .is_some_and(|p| p.kind() == SyntaxKind::STMT_LIST)
            && matches!(n.kind(), SyntaxKind::EXPR_STMT | SyntaxKind::LET_STMT)
    })?;
    if stmt.text_range().start() > call.syntax().text_range().start() {
        return None;
    }
    // Nothing the statement evaluates before the value may have an effect:
    // taking the value first must not reorder calls.
    let receiver_start = receiver.syntax().text_range().start();
    let effect = stmt.descendants().any(|n| {
        n.text_range().end() <= receiver_start
            && matches!(
                n.kind(),
                SyntaxKind::CALL_EXPR
                    | SyntaxKind::METHOD_CALL_EXPR
                    | SyntaxKind::MACRO_CALL
                    | SyntaxKind::AWAIT_EXPR
                    | SyntaxKind::BIN_EXPR
                    | SyntaxKind::PREFIX_EXPR
            )
    });
    if effect {
        return None;
    }
    let receiver_text = receiver.syntax().text().to_string();
    // `let v = x.unwrap();` becomes `let Some(v) = x else { return; };`.
    if let Some(let_stmt) = ast::LetStmt::cast(stmt.clone())
        && let Some(ast::Pat::IdentPat(pat)) = let_stmt.pat()
        && let_stmt.ty().is_none()
        && let_stmt.let_else().is_none()
        && let_stmt
            .initializer()
            .is_some_and(|init| init.syntax() == call.syntax())
    {
        let pat = pat.syntax().text().to_string();
        return Some(let_else(
            vec![Edit::replace(
                tree.node_range(&stmt),
                take(&pat, &receiver_text),
            )],
            pattern,
            &pat,
            let_else_syntax,
        ));
    }
    let body = func.body()?.syntax().text().to_string();
    let name = binding_name(&receiver, &body)?;
    let source_start = tree.node_range(&stmt).start;
    let indent = super::fix::line_indent(source, source_start);
    let call_range = tree.node_range(call.syntax());
    let edits = vec![
        Edit::insert(
            source_start,
            format!("{}\n{indent}", take(&name, &receiver_text)),
        ),
        Edit::replace(call_range, name.clone()),
    ];
    Some(let_else(edits, pattern, &name, let_else_syntax))
}

fn let_else(edits: Vec<Edit>, pattern: &str, name: &str, let_else: bool) -> Plan {
    let message = if let_else {
        format!("take the value with `let {pattern}({name}) = .. else {{ return; }}`")
    } else {
        // `rust-version` before 1.65: no `let .. else`.
        format!(
            "take the value with `let {name} = match .. {{ {pattern}({name}) => {name}, .. => return }}`"
        )
    };
    Plan {
        fix: Some(Fix {
            message,
            applicability: Applicability::Unsafe,
            edits,
        }),
        note: Some(
            "a panic in `drop` skips the rest of it, and aborts the process during unwinding: returning early skips the rest without panicking".to_string(),
        ),
        ..Plan::none()
    }
}

/// A name for the value of `receiver` (`conn` for `self.conn.take()`) that
/// `body` does not use yet.
fn binding_name(receiver: &ast::Expr, body: &str) -> Option<String> {
    let mut expr = receiver.clone();
    let base = loop {
        match expr {
            ast::Expr::FieldExpr(field) => break field.name_ref()?.text().to_string(),
            ast::Expr::MethodCallExpr(call)
                if call.arg_list().is_some_and(|a| a.args().count() == 0) =>
            {
                expr = call.receiver()?;
            }
            ast::Expr::PathExpr(path) => {
                break path.path()?.segment()?.name_ref()?.text().to_string();
            }
            _ => break "value".to_string(),
        }
    };
    let base = if base == "self" {
        "value".to_string()
    } else {
        base
    };
    // A field `self.conn` does not take the name; a binding or path does.
    let bound = |word: &str| {
        body.match_indices(word).any(|(at, _)| {
            let before = body[..at].trim_end();
            let after = body[at + word.len()..].chars().next();
            let whole = !body[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
                && !after.is_some_and(|c| c.is_alphanumeric() || c == '_');
            whole && !before.ends_with('.')
        })
    };
    [
        base.clone(),
        format!("{base}_value"),
        format!("taken_{base}"),
    ]
    .into_iter()
    .find(|candidate| !bound(candidate))
}
