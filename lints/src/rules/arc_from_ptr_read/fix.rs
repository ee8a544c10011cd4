//! The in-file half of the fix: the copied receiver or parameter becomes
//! `&Arc<T>`, the constructor becomes `Arc::clone(x)` / `Arc::downgrade(x)`,
//! and `unsafe` blocks or `let`s that only served the copy go. The call sites
//! are the crate-wide half (`callers`), so every fix asks for it.

use super::types::{self, owning_impl};
use super::{Constructor, Place, Root, Scope, Shape, compact, local_name, peel_block, single_arg};
use crate::trees::{Tree, macro_name};
use crate::{Applicability, Edit, Finding, Fix, LintInput};
use ra_ap_syntax::ast::{self, AstNode, HasName, HasVisibility};
use ra_ap_syntax::{SyntaxKind, SyntaxNode, SyntaxToken};
use std::ops::Range;

/// Methods that `Arc<T>` (or `&Arc<T>`) answers itself instead of forwarding
/// to `T`: after the change, `x.clone()` clones the `Arc`, not the value.
const OWNER_METHODS: &[&str] = &[
    "clone",
    "clone_from",
    "to_owned",
    "as_ref",
    "borrow",
    "into",
    "try_into",
    "as_ptr",
    "eq",
    "ne",
    "cmp",
    "partial_cmp",
    "hash",
    "type_id",
];

/// Macros whose arguments are plain expressions evaluated as written: a fix
/// inside them is as sure as one outside.
const TRANSPARENT_MACROS: &[&str] = &[
    "vec",
    "format",
    "print",
    "println",
    "eprint",
    "eprintln",
    "write",
    "writeln",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "dbg",
    "trace",
    "debug",
    "info",
    "warn",
    "error",
];

/// What the crate-wide pass needs to find and judge the call sites; encoded
/// in the finding's `crate_fix` payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    /// `Arc` or `Rc`.
    pub family: String,
    /// The function or method whose signature changes.
    pub name: String,
    /// The type of the `impl` it is in, for methods and associated functions.
    pub owner: Option<String>,
    /// The position of the changed parameter among the non-`self`
    /// parameters; `None` for the receiver.
    pub param: Option<usize>,
    pub has_self: bool,
    /// Declared plain `pub`: callers outside the crate may exist.
    pub public: bool,
    /// The function's range in the linted file: calls inside it see the new
    /// signature.
    pub span: Range<usize>,
    /// The pointee type's name (`Catalog` for `&Catalog`, the owner for a
    /// receiver), for messages and for telling our values from others.
    pub pointee: String,
    /// The crate file `span` is in, for a method migrated up the call chain;
    /// `None` for the linted file.
    pub file: Option<usize>,
}

impl Target {
    pub(super) fn encode(&self) -> Vec<String> {
        vec![
            self.family.clone(),
            self.name.clone(),
            self.owner.clone().unwrap_or_default(),
            self.param
                .map_or_else(|| "self".to_string(), |i| i.to_string()),
            u8::from(self.has_self).to_string(),
            u8::from(self.public).to_string(),
            self.span.start.to_string(),
            self.span.end.to_string(),
            self.pointee.clone(),
        ]
    }

    pub(super) fn decode(data: &[String]) -> Option<Target> {
        let [
            family,
            name,
            owner,
            param,
            has_self,
            public,
            start,
            end,
            pointee,
        ] = data
        else {
            return None;
        };
        Some(Target {
            family: family.clone(),
            name: name.clone(),
            owner: (!owner.is_empty()).then(|| owner.clone()),
            param: match param.as_str() {
                "self" => None,
                index => Some(index.parse().ok()?),
            },
            has_self: has_self == "1",
            public: public == "1",
            span: start.parse().ok()?..end.parse().ok()?,
            pointee: pointee.clone(),
            file: None,
        })
    }

    /// `Catalog::handle` or `share`, for messages.
    pub(super) fn display(&self) -> String {
        match &self.owner {
            Some(owner) => format!("{owner}::{}", self.name),
            None => self.name.clone(),
        }
    }
}

/// The finding, with a fix when one can be built, or a note saying why not.
pub(super) fn attach(
    finding: Finding,
    input: &LintInput<'_>,
    tree: &Tree,
    call: &ast::CallExpr,
    ctor: &Constructor,
    place: &Place,
    scope: &Scope<'_>,
) -> Finding {
    match plan(input, tree, call, ctor, place, scope) {
        Ok((fix, target, notes)) => {
            let mut finding = finding.with_fix(fix).needs_crate(target.encode());
            for note in notes {
                finding = finding.with_note(note);
            }
            finding
        }
        Err(Some(reason)) => finding.with_note(format!("no automatic fix: {reason}")),
        Err(None) => finding,
    }
}

/// `Err(None)`: no fix, and the help already says what to do instead.
type Planned = Result<(Fix, Target, Vec<String>), Option<String>>;

fn plan(
    input: &LintInput<'_>,
    tree: &Tree,
    call: &ast::CallExpr,
    ctor: &Constructor,
    place: &Place,
    scope: &Scope<'_>,
) -> Planned {
    // Copies of fields and locals, and data behind pointers, need a decision
    // about who owns the value; only a borrowed whole value has a mechanical
    // answer: borrow its `Arc` instead.
    if place.shape != Shape::Whole {
        return Err(None);
    }
    let name = match &place.root {
        Root::Receiver => "self".to_string(),
        Root::RefParam(name) => name.clone(),
        Root::Local { .. } => return Err(None),
    };
    let func = scope.func.clone().ok_or(None)?;
    let family = ctor.family;
    let func_tree = scope.func_tree;
    let source = input.source;
    let fn_name = func.name().ok_or(None)?.text().to_string();

    let impl_item = owning_impl(&func);
    if let Some(item) = &impl_item
        && let Some(trait_ty) = item.trait_()
    {
        return Err(Some(format!(
            "`{fn_name}` implements `{}`, whose signature it must keep",
            compact(trait_ty.syntax())
        )));
    }
    if func
        .syntax()
        .parent()
        .and_then(|list| list.parent())
        .is_some_and(|item| item.kind() == SyntaxKind::TRAIT)
    {
        return Err(Some(format!(
            "`{fn_name}` is a trait method: its implementations must change with it"
        )));
    }
    let owner = impl_item.as_ref().and_then(types::impl_name);

    let ctor_path = ast::PathExpr::cast(ctor.path.clone())
        .and_then(|p| p.path())
        .ok_or(None)?;
    let ctor_name = ctor_path.segment().and_then(|s| s.name_ref()).ok_or(None)?;
    if ctor_name.text() == "pin" {
        return Err(Some(format!(
            "`{family}::pin` needs a value of its own: a `Pin<{family}<T>>` cannot be made from a shared `{family}<T>`"
        )));
    }
    let family_ty = family_type(&ctor_path, &func, family);
    let mut reasons: Vec<String> = Vec::new();
    let mut edits: Vec<Edit> = Vec::new();
    let line = |offset: usize| source[..offset.min(source.len())].matches('\n').count() + 1;

    // The signature.
    let (param_index, pointee) = if name == "self" {
        let param = scope.self_param().ok_or(None)?;
        let (lifetime, mutable) = match param.ty() {
            Some(ast::Type::RefType(reference)) => (
                reference.lifetime().map(|l| l.text().to_string()),
                reference.mut_token().is_some(),
            ),
            Some(_) => return Err(None),
            None => (
                param.lifetime().map(|l| l.text().to_string()),
                param.mut_token().is_some(),
            ),
        };
        if mutable {
            reasons.push(
                "`&mut self` becomes a shared `self: &Arc<Self>`: the method can no longer mutate through it"
                    .replace("Arc", family),
            );
        }
        let lifetime = lifetime.map_or_else(String::new, |l| format!("{l} "));
        edits.push(Edit::replace(
            func_tree.node_range(param.syntax()),
            format!("self: &{lifetime}{family_ty}<Self>"),
        ));
        (None, owner.clone().ok_or(None)?)
    } else {
        let param = scope.param(&name).ok_or(None)?;
        let Some(ast::Type::RefType(reference)) = param.ty() else {
            return Err(None);
        };
        let inner = reference.ty().ok_or(None)?;
        let inner_text = source
            .get(func_tree.node_range(inner.syntax()))
            .ok_or(None)?;
        // A copied `&Arc<T>` makes an `Arc<Arc<T>>`: what the caller meant
        // (`Arc::clone(x)`, a different type) is not a mechanical change.
        if types::type_name(&inner).is_some_and(|n| n == "Arc" || n == "Rc") {
            return Err(None);
        }
        if reference.mut_token().is_some() {
            reasons.push(format!(
                "`{name}: &mut {inner_text}` becomes a shared `&{family}<{inner_text}>`: the function can no longer mutate through it"
            ));
        }
        let lifetime = reference
            .lifetime()
            .map_or_else(String::new, |l| format!("{} ", l.text()));
        edits.push(Edit::replace(
            func_tree.node_range(reference.syntax()),
            format!("&{lifetime}{family_ty}<{inner_text}>"),
        ));
        let index = func
            .param_list()
            .ok_or(None)?
            .params()
            .position(|p| p.syntax() == param.syntax())
            .ok_or(None)?;
        let pointee = match types::type_name(&inner) {
            Some(n) if n == "Self" => owner.clone().ok_or(None)?,
            Some(n) => n,
            None => return Err(None),
        };
        (Some(index), pointee)
    };

    // The expression: the downgrade around the constructor, or the
    // constructor itself, and `unsafe` blocks that only wrapped it.
    let downgrade = downgrade_call(call);
    let (node, replacement) = match &downgrade {
        Some(outer) => {
            let callee = outer.expr().ok_or(None)?;
            let callee_text = source.get(tree.node_range(callee.syntax())).ok_or(None)?;
            (outer.syntax().clone(), format!("{callee_text}({name})"))
        }
        None => {
            let callee = tree.node_range(&ctor.path);
            let last = tree.node_range(ctor_name.syntax());
            let before = source.get(callee.start..last.start).ok_or(None)?;
            let after = source.get(last.end..callee.end).ok_or(None)?;
            (
                call.syntax().clone(),
                format!("{before}clone{after}({name})"),
            )
        }
    };
    let node = widen_through_unsafe(node);
    let expr_range = tree.node_range(&node);
    let replacement = keep_comments(source, tree, &node, replacement);
    edits.push(Edit::replace(expr_range.clone(), replacement));
    if let Some(host) = &tree.host
        && let Some(macro_name) = macro_name(host)
        && !TRANSPARENT_MACROS.contains(&macro_name.as_str())
    {
        reasons.push(format!(
            "the expression is inside `{macro_name}!`, whose expansion temper cannot see"
        ));
    }

    // A copy bound to a local first (`let copy = ptr::read(self);`), and
    // pointers cast from the binding for it (`let raw = self as *const _;`):
    // the `let`s go too once nothing else uses them.
    let mut removed = vec![expr_range.clone()];
    let mut fed: Vec<String> = vec![name.clone()];
    if let Some(arg) = single_arg(call)
        && let Some(local) = local_name(&peel_block(arg.clone()))
        && local != name
        && let Some(binding) = scope.binding_before(&local, tree.node_range(arg.syntax()).start)
    {
        // The copy would still be made, and dropped, without the `Arc`.
        if !ctor.from_raw && !only_used_in(&func, &binding, &local, &removed, func_tree) {
            return Err(Some(format!(
                "the copy `{local}` is used again after the `{family}` is built"
            )));
        }
        fed.push(local);
    }
    loop {
        let before = removed.len();
        for binding in func
            .body()
            .into_iter()
            .flat_map(|body| body.syntax().descendants())
            .filter_map(ast::LetStmt::cast)
        {
            let code = code_range(binding.syntax());
            let range = func_tree.file_range(ra_ap_syntax::TextRange::new(
                (code.start as u32).into(),
                (code.end as u32).into(),
            ));
            if range.start >= expr_range.start
                || removed
                    .iter()
                    .any(|r| r.start <= range.start && range.end <= r.end)
            {
                continue;
            }
            let Some(ast::Pat::IdentPat(pat)) = binding.pat() else {
                continue;
            };
            let Some(local) = pat.name().map(|n| n.text().to_string()) else {
                continue;
            };
            let feeds = binding.initializer().is_some_and(|init| {
                init.syntax()
                    .descendants_with_tokens()
                    .filter_map(|e| e.into_token())
                    .any(|t| fed.iter().any(|f| f == t.text()))
            });
            let is_fed = fed.contains(&local);
            if (feeds || is_fed) && only_used_in(&func, &binding, &local, &removed, func_tree) {
                let range = whole_lines(source, range);
                removed.push(range.clone());
                edits.push(Edit::delete(range));
                if !is_fed {
                    fed.push(local);
                }
            }
        }
        if removed.len() == before {
            break;
        }
    }

    // The copy function's import, when this fix removes its only use.
    if let Some(edit) = unused_import(input, &removed) {
        edits.push(edit);
    }

    // Uses of the changed binding that do not read the same through an
    // `&Arc<T>`.
    for token in ident_tokens(&func, &name) {
        let offset = usize::from(token.text_range().start());
        if removed.iter().any(|r| r.contains(&offset)) || is_field_or_path(&token) {
            continue;
        }
        // The declaration itself is in the parameter list, not the body.
        if func.param_list().is_some_and(|list| {
            list.syntax()
                .text_range()
                .contains(token.text_range().start())
        }) {
            continue;
        }
        let next = next_code_token(&token);
        if next.as_ref().is_some_and(|t| t.kind() == SyntaxKind::DOT) {
            let method = next.as_ref().and_then(next_code_token);
            if let Some(method) = method.filter(|m| OWNER_METHODS.contains(&m.text())) {
                reasons.push(format!(
                    "`{name}.{}()` at line {} now calls the `{family}`'s method, not the value's",
                    method.text(),
                    line(offset)
                ));
            }
            continue;
        }
        reasons.push(format!(
            "`{name}` is used as a value at line {}, where it is now an `&{family}<{}>`",
            line(offset),
            if name == "self" { "Self" } else { &pointee }
        ));
    }

    let public = func
        .visibility()
        .is_some_and(|v| v.pub_token().is_some() && v.visibility_inner().is_none());
    let target = Target {
        family: family.to_string(),
        name: fn_name,
        owner,
        param: param_index,
        has_self: scope.self_param().is_some(),
        public,
        span: func_tree.node_range(func.syntax()),
        pointee,
        file: None,
    };
    let share = if downgrade.is_some() {
        "downgrade"
    } else {
        "clone"
    };
    let message = if name == "self" {
        format!("change the receiver to `self: &{family}<Self>` and use `{family}::{share}(self)`")
    } else {
        format!(
            "change `{name}` to `&{family}<{}>` and use `{family}::{share}({name})`",
            target.pointee
        )
    };
    let applicability = if reasons.is_empty() {
        Applicability::Safe
    } else {
        Applicability::Unsafe
    };
    let notes = reasons
        .into_iter()
        .map(|reason| format!("the fix is unsafe: {reason}"))
        .collect();
    Ok((
        Fix {
            message,
            applicability,
            edits,
        },
        target,
        notes,
    ))
}

/// The family's type path as the signature should spell it: the
/// constructor's own qualifier, or the full `std` path when the constructor's
/// name comes from a `use` inside the function body (not in scope in the
/// signature).
fn family_type(ctor_path: &ast::Path, func: &ast::Fn, family: &str) -> String {
    let Some(qualifier) = ctor_path.qualifier() else {
        return family.to_string();
    };
    let segments: Vec<String> = qualifier
        .segments()
        .filter_map(|s| s.name_ref())
        .map(|n| n.text().to_string())
        .collect();
    let leading = qualifier
        .first_segment()
        .and_then(|s| s.coloncolon_token())
        .is_some();
    let written = format!("{}{}", if leading { "::" } else { "" }, segments.join("::"));
    let local_use = segments.len() == 1
        && func.body().is_some_and(|body| {
            body.syntax()
                .descendants()
                .filter_map(ast::Use::cast)
                .any(|item| compact(item.syntax()).contains(family))
        });
    if local_use {
        return match family {
            "Rc" => "std::rc::Rc".to_string(),
            _ => "std::sync::Arc".to_string(),
        };
    }
    written
}

/// `Arc::downgrade(&<call>)` around the constructor.
fn downgrade_call(call: &ast::CallExpr) -> Option<ast::CallExpr> {
    let mut current = call.syntax().parent()?;
    while current.kind() == SyntaxKind::PAREN_EXPR {
        current = current.parent()?;
    }
    ast::RefExpr::cast(current.clone())?;
    let outer = ast::CallExpr::cast(ast::ArgList::cast(current.parent()?)?.syntax().parent()?)?;
    let ast::Expr::PathExpr(callee) = outer.expr()? else {
        return None;
    };
    let name = callee.path()?.segment()?.name_ref()?;
    (name.text() == "downgrade").then_some(outer)
}

/// `unsafe { <node> }` with nothing else inside is replaced whole: once the
/// copy is gone nothing in it is unsafe.
fn widen_through_unsafe(node: SyntaxNode) -> SyntaxNode {
    let mut node = node;
    loop {
        let Some(list) = node.parent().and_then(ast::StmtList::cast) else {
            return node;
        };
        let only_tail = list.statements().next().is_none()
            && list.tail_expr().is_some_and(|tail| tail.syntax() == &node);
        let Some(block) = list.syntax().parent().and_then(ast::BlockExpr::cast) else {
            return node;
        };
        if !only_tail || block.unsafe_token().is_none() {
            return node;
        }
        node = block.syntax().clone();
    }
}

/// The replacement with the comments of the replaced text in front of it:
/// on lines of their own when the expression starts its line, else inline
/// as block comments.
fn keep_comments(source: &str, tree: &Tree, node: &SyntaxNode, replacement: String) -> String {
    let comments: Vec<String> = node
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
        .filter(|t| t.kind() == SyntaxKind::COMMENT)
        .map(|t| t.text().trim_end().to_string())
        .collect();
    if comments.is_empty() {
        return replacement;
    }
    let start = tree.node_range(node).start;
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let indent = &source[line_start..start];
    if indent.trim().is_empty() {
        let mut out = String::new();
        for comment in comments {
            out.push_str(&comment);
            out.push('\n');
            out.push_str(indent);
        }
        return out + &replacement;
    }
    let mut out = String::new();
    for comment in comments {
        match comment.strip_prefix("//") {
            // A line comment that cannot become a block comment is dropped
            // rather than allowed to swallow the code after it.
            Some(text) if text.contains("*/") => {}
            Some(text) => out.push_str(&format!("/*{text} */ ")),
            None => {
                out.push_str(&comment);
                out.push(' ');
            }
        }
    }
    out + &replacement
}

/// Every `name` identifier (or `self`) in the function's body, including
/// macro arguments, outside nested functions.
fn ident_tokens(func: &ast::Fn, name: &str) -> impl Iterator<Item = SyntaxToken> {
    let name = name.to_string();
    let func = func.clone();
    func.body()
        .into_iter()
        .flat_map(|body| body.syntax().descendants_with_tokens())
        .filter_map(|element| element.into_token())
        .filter(move |token| {
            matches!(token.kind(), SyntaxKind::IDENT | SyntaxKind::SELF_KW)
                && token.text() == name
                && token
                    .parent_ancestors()
                    .find_map(ast::Fn::cast)
                    .is_some_and(|f| f.syntax() == func.syntax())
        })
}

/// `other.name` (a field or method called like the binding), `self::item`,
/// or a struct field name in `Foo { name: .. }`: not a use of the binding.
fn is_field_or_path(token: &SyntaxToken) -> bool {
    let prev = prev_code_token(token);
    let next = next_code_token(token);
    if prev.as_ref().is_some_and(|t| t.kind() == SyntaxKind::DOT) {
        return true;
    }
    if next
        .as_ref()
        .is_some_and(|t| t.kind() == SyntaxKind::COLON2)
    {
        return true;
    }
    next.as_ref().is_some_and(|t| t.kind() == SyntaxKind::COLON)
        && prev
            .as_ref()
            .is_some_and(|t| matches!(t.kind(), SyntaxKind::L_CURLY | SyntaxKind::COMMA))
}

fn next_code_token(token: &SyntaxToken) -> Option<SyntaxToken> {
    let mut current = token.next_token()?;
    while current.kind().is_trivia() {
        current = current.next_token()?;
    }
    Some(current)
}

fn prev_code_token(token: &SyntaxToken) -> Option<SyntaxToken> {
    let mut current = token.prev_token()?;
    while current.kind().is_trivia() {
        current = current.prev_token()?;
    }
    Some(current)
}

/// Deletes the `use` of `std::ptr` (or of a copy function) when every use of
/// the imported name is inside text this fix removes: otherwise the fixed
/// file warns about an unused import. Only this fix's own removals count,
/// because another finding's fix may not be applied.
fn unused_import(input: &LintInput<'_>, removed: &[Range<usize>]) -> Option<Edit> {
    let source = input.source;
    let mut found: Option<(String, ast::UseTree)> = None;
    for item in input.file.syntax().descendants().filter_map(ast::Use::cast) {
        let Some(tree) = item.use_tree() else {
            continue;
        };
        for leaf in tree.syntax().descendants().filter_map(ast::UseTree::cast) {
            if leaf.use_tree_list().is_some() || leaf.star_token().is_some() {
                continue;
            }
            let mut segments: Vec<String> = Vec::new();
            for ancestor in leaf.syntax().ancestors().filter_map(ast::UseTree::cast) {
                let mut own: Vec<String> = ancestor
                    .path()
                    .map(|p| {
                        p.segments()
                            .filter_map(|s| s.name_ref())
                            .map(|n| n.text().to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                own.append(&mut segments);
                segments = own;
            }
            let parts: Vec<&str> = segments.iter().map(String::as_str).collect();
            let imported = match parts.as_slice() {
                ["std" | "core", "ptr"] => true,
                ["std" | "core", "ptr", name] => super::READS.contains(name),
                ["std" | "core", "mem", "transmute_copy"] => true,
                _ => false,
            };
            if !imported {
                continue;
            }
            let local = match leaf.rename().and_then(|r| r.name()) {
                Some(name) => name.text().to_string(),
                None => segments.last()?.clone(),
            };
            // Two imports of the same copy machinery: not worth guessing.
            if found.is_some() {
                return None;
            }
            found = Some((local, leaf));
        }
    }
    let (local, leaf) = found?;
    let item = leaf.syntax().ancestors().find_map(ast::Use::cast)?;
    let item_range = item.syntax().text_range();
    let mut uses = input
        .file
        .syntax()
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
        .filter(|t| t.kind() == SyntaxKind::IDENT && t.text() == local)
        .filter(|t| !item_range.contains_range(t.text_range()))
        .filter(|t| {
            !prev_code_token(t)
                .is_some_and(|p| matches!(p.kind(), SyntaxKind::DOT | SyntaxKind::COLON2))
        })
        .map(|t| usize::from(t.text_range().start()))
        .peekable();
    uses.peek()?;
    if !uses.all(|offset| removed.iter().any(|r| r.contains(&offset))) {
        return None;
    }
    let range = code_range;
    let Some(list) = leaf.syntax().parent().and_then(ast::UseTreeList::cast) else {
        // The whole `use` item imports only this.
        return Some(Edit::delete(whole_lines(source, range(item.syntax()))));
    };
    if list.use_trees().count() == 1 {
        return Some(Edit::delete(whole_lines(source, range(item.syntax()))));
    }
    let leaf_range = range(leaf.syntax());
    let next = leaf.syntax().last_token().and_then(|t| next_code_token(&t));
    if let Some(comma) = next.filter(|t| t.kind() == SyntaxKind::COMMA) {
        let after = usize::from(comma.text_range().end());
        let spaces = source[after..].len() - source[after..].trim_start_matches(' ').len();
        return Some(Edit::delete(leaf_range.start..after + spaces));
    }
    let prev = leaf
        .syntax()
        .first_token()
        .and_then(|t| prev_code_token(&t))?;
    (prev.kind() == SyntaxKind::COMMA)
        .then(|| Edit::delete(usize::from(prev.text_range().start())..leaf_range.end))
}

/// A node's range without the comments the parser attaches in front of
/// items: deleting a `use` must not delete the comment above it.
fn code_range(node: &SyntaxNode) -> Range<usize> {
    let end = usize::from(node.text_range().end());
    let start = node
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
        .find(|t| !t.kind().is_trivia())
        .map_or(end, |t| usize::from(t.text_range().start()));
    start..end
}

/// Whether every use of `local` after its `let` lies in a range that is
/// removed, and there is at least one.
fn only_used_in(
    func: &ast::Fn,
    binding: &ast::LetStmt,
    local: &str,
    removed: &[Range<usize>],
    func_tree: &Tree,
) -> bool {
    let end = func_tree.node_range(binding.syntax()).end;
    let mut uses = ident_tokens(func, local)
        .filter(|token| !is_field_or_path(token))
        .map(|token| usize::from(token.text_range().start()))
        .filter(|offset| *offset >= end)
        .peekable();
    uses.peek().is_some() && uses.all(|offset| removed.iter().any(|r| r.contains(&offset)))
}

/// A statement's range grown to its whole lines when it is alone on them, so
/// deleting it leaves no blank line behind.
fn whole_lines(source: &str, range: Range<usize>) -> Range<usize> {
    let line_start = source[..range.start].rfind('\n').map_or(0, |i| i + 1);
    let rest = &source[range.end..];
    let line_end = rest.find('\n').map_or(source.len(), |i| range.end + i + 1);
    let before_blank = source[line_start..range.start].trim().is_empty();
    let after = &source[range.end..line_end];
    if before_blank && after.trim().is_empty() {
        return line_start..line_end;
    }
    // A trailing comment stays, where the statement's indentation put it.
    let spaces = after.len() - after.trim_start().len();
    if before_blank && after.trim_start().starts_with("//") {
        return range.start..range.end + spaces;
    }
    range
}
