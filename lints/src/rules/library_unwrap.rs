//! `library_unwrap`: see [`LINT`]'s docs.

use crate::context::{self, Enclosing};
use crate::diagnostic::Level;
use crate::registry::{FixAvailability, Lint};
use crate::trees::{self, Tree};
use crate::{Finding, LintInput};
use ra_ap_syntax::ast::{self, AstNode, HasArgList, HasGenericArgs, HasName};
use ra_ap_syntax::{SyntaxKind, SyntaxNode, TextRange, TextSize};
use std::ops::Range;

mod closures;
mod convert;
mod fix;
mod migrate;

pub static LINT: Lint = Lint {
    name: "library_unwrap",
    default_level: Level::Warn,
    fix: FixAvailability::Sometimes,
    summary: "`unwrap` and `expect` calls that can panic in library code",
    docs: include_str!("library_unwrap.md"),
    check,
    complete: Some(complete),
    describe: Some(describe),
};

/// The crate-wide pass: an error conversion to check, or a migration.
fn complete(finding: &mut crate::Finding, ctx: &crate::CrateContext<'_>) {
    let request = finding.crate_fix.as_ref().and_then(|r| r.data.first());
    if request.is_some_and(|kind| kind == convert::REQUEST) {
        convert::complete(finding, ctx);
    } else {
        migrate::complete(finding, ctx);
    }
}

/// What `check` says instead of the crate-wide pass, when no fix is asked
/// for: each request is a fix `temper fix` plans across the crate, and may
/// find none; the file alone cannot tell, so no fix is shown, only how to
/// see it. What the file alone rules out stays as it is.
fn describe(finding: &mut crate::Finding) {
    let Some(request) = finding.crate_fix.take() else {
        return;
    };
    let data = request.data.as_slice();
    let note = match data.first().map(String::as_str) {
        Some(migrate::REQUEST) => {
            let function = data.get(1).map_or("", String::as_str);
            let obstacle = data.get(2).map_or("", String::as_str);
            if !obstacle.is_empty() {
                // The function itself cannot change: what the plan would say.
                format!("no automatic fix: {obstacle}")
            } else {
                let function = if function.is_empty() {
                    "the function".to_string()
                } else {
                    format!("`fn {function}`")
                };
                format!(
                    "`temper fix --unsafe-fixes` can try to make {function} return a `Result` and carry it through its callers across the crate: `temper fix --unsafe-fixes --diff` shows the change, or why it cannot be made"
                )
            }
        }
        Some(migrate::OPTION_REQUEST) => {
            // The crate-wide pass looks for an error value only for a
            // method call with a literal (or made-up) message.
            let [_, _, message, method_call] = data else {
                return;
            };
            if method_call != "true" || message.is_empty() {
                return;
            }
            finding.notes.retain(|note| {
                !note.starts_with("no automatic fix: an `Option` needs an error value")
            });
            "an `Option` needs an error value of the function's error type: `temper fix --unsafe-fixes --diff` looks for one the crate already converts or constructs, and shows the fix when it finds one".to_string()
        }
        Some(convert::REQUEST) => {
            finding.fix = None;
            "`?` compiles only if the function's error type converts from this error: `temper fix --unsafe-fixes --diff` checks that across the crate and shows the fix when it does".to_string()
        }
        Some(migrate::KIND_REQUEST) => {
            finding.fix = None;
            let name = data.get(5).map_or("", String::as_str);
            format!(
                "whether the receiver is an `Option` or a `Result` is unknown here: `temper fix --unsafe-fixes --diff` looks `{name}` up across the crate and shows the fix that follows"
            )
        }
        _ => return,
    };
    finding.notes.push(note);
}

const NAME: &str = "library_unwrap";

/// The panicking accessor being called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method<'a> {
    Unwrap,
    Expect,
    UnwrapErr,
    ExpectErr,
    /// A name from `options.library_unwrap.extra_methods`.
    Extra(&'a str),
}

impl<'a> Method<'a> {
    fn from_name(name: &str, extra: &'a [String]) -> Option<Method<'a>> {
        match name {
            "unwrap" => Some(Method::Unwrap),
            "expect" => Some(Method::Expect),
            "unwrap_err" => Some(Method::UnwrapErr),
            "expect_err" => Some(Method::ExpectErr),
            _ => extra
                .iter()
                .find(|e| e.as_str() == name)
                .map(|e| Method::Extra(e.as_str())),
        }
    }

    fn name(self) -> &'a str {
        match self {
            Method::Unwrap => "unwrap",
            Method::Expect => "expect",
            Method::UnwrapErr => "unwrap_err",
            Method::ExpectErr => "expect_err",
            Method::Extra(name) => name,
        }
    }

    fn takes_message(self) -> bool {
        matches!(self, Method::Expect | Method::ExpectErr)
    }

    /// The clippy lint whose allow attribute silences this call.
    fn clippy_lint(self) -> &'static str {
        if self.takes_message() {
            "clippy::expect_used"
        } else {
            "clippy::unwrap_used"
        }
    }

    /// The number of arguments the standard method takes.
    fn arity(self) -> Option<usize> {
        match self {
            Method::Unwrap | Method::UnwrapErr => Some(0),
            Method::Expect | Method::ExpectErr => Some(1),
            Method::Extra(_) => None,
        }
    }
}

/// What the receiver is known to be: only UFCS calls name the type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Receiver {
    Unknown,
    Option,
    Result,
}

/// One call (or UFCS path) found in a tree, before the context is judged.
struct Site<'a> {
    method: Method<'a>,
    receiver: Receiver,
    /// The node whose ancestors decide the context.
    node: SyntaxNode,
    /// The primary span, in the tree's coordinates.
    span: TextRange,
    /// The `expect` message as written, when there is one.
    message: Option<String>,
    /// `Option::unwrap` passed as a function value, not called.
    as_value: bool,
}

fn check(input: &LintInput<'_>, findings: &mut Vec<Finding>) {
    let options = &input.options.library_unwrap;
    // `unwrap` and `expect` also find `unwrap_err`, `expect_err` and extra
    // methods that start with them.
    let mut needles = vec!["unwrap", "expect"];
    needles.extend(
        options
            .extra_methods
            .iter()
            .map(String::as_str)
            .filter(|extra| !extra.starts_with("unwrap") && !extra.starts_with("expect")),
    );
    // The macro calls of the file, collected on the first finding inside one.
    let mut macros: Option<Vec<(Range<usize>, String)>> = None;
    for tree in input.trees {
        for node in candidates(input.source, tree, &needles, options) {
            let site = match node.kind() {
                SyntaxKind::METHOD_CALL_EXPR => method_call_site(&node, options),
                _ => ufcs_site(&node, &options.extra_methods),
            };
            let Some(mut site) = site else {
                continue;
            };
            if !applies(tree, &site, input) {
                continue;
            }
            let range = tree.file_range(site.span);
            let macro_name = if tree.is_macro() {
                let macros = macros.get_or_insert_with(|| macro_calls(input.trees));
                innermost_macro(macros, &range)
            } else {
                None
            };
            // What the receiver evidently is sharpens the label and the help,
            // and decides how sure the fix is.
            let kind = fix::receiver_kind(tree, &site, input);
            if site.receiver == Receiver::Unknown {
                site.receiver = kind.receiver();
            }
            let plan = fix::plan(tree, &site, kind, input, macros.as_deref().unwrap_or(&[]));
            findings.push(finding(tree, &site, range, macro_name, input, plan));
        }
    }
}

/// The method calls and paths in `tree` that name a reported method, found by
/// searching the file's text for `needles` and looking up the token there: far
/// cheaper than visiting every node, and comments and strings drop out by
/// their token kind.
fn candidates(
    source: &str,
    tree: &Tree,
    needles: &[&str],
    options: &crate::LibraryUnwrapOptions,
) -> Vec<SyntaxNode> {
    let root_range = tree.root.text_range();
    // A re-parsed macro argument list is a slice of the file shifted by a fixed
    // amount (its synthetic wrapper maps to the text around the macro call).
    let file_end = tree.file_range(root_range).end;
    let shift = file_end as isize - usize::from(root_range.end()) as isize;
    let start = shift.max(0) as usize;
    let Some(text) = source.get(start..file_end.min(source.len())) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for needle in needles {
        for (index, _) in text.match_indices(needle) {
            let offset = (start + index) as isize - shift;
            let Some(offset) = u32::try_from(offset).ok().map(TextSize::from) else {
                continue;
            };
            let range = TextRange::at(offset, TextSize::of(*needle));
            if !root_range.contains_range(range) {
                continue;
            }
            // `covering_element` binary-searches each level; `token_at_offset`
            // scans the children.
            let Some(token) = tree.root.covering_element(range).into_token() else {
                continue;
            };
            // Only a whole identifier counts: `my_unwrap` and `unwrap_or` do not.
            if token.kind() != SyntaxKind::IDENT
                || token.text_range().start() != offset
                || Method::from_name(token.text(), &options.extra_methods).is_none()
            {
                continue;
            }
            let Some(name_ref) = token.parent().filter(|n| n.kind() == SyntaxKind::NAME_REF) else {
                continue;
            };
            let Some(parent) = name_ref.parent() else {
                continue;
            };
            match parent.kind() {
                SyntaxKind::METHOD_CALL_EXPR => out.push(parent),
                SyntaxKind::PATH_SEGMENT => {
                    let path_expr = parent
                        .parent()
                        .and_then(|path| path.parent())
                        .filter(|n| n.kind() == SyntaxKind::PATH_EXPR);
                    out.extend(path_expr);
                }
                _ => {}
            }
        }
    }
    out
}

/// `x.unwrap()`, `x.expect("..")` and the configured extra methods.
fn method_call_site<'a>(
    node: &SyntaxNode,
    options: &'a crate::LibraryUnwrapOptions,
) -> Option<Site<'a>> {
    let call = ast::MethodCallExpr::cast(node.clone())?;
    let name = call.name_ref()?;
    let method = Method::from_name(name.text(), &options.extra_methods)?;
    let args: Vec<ast::Expr> = call.arg_list()?.args().collect();
    // Another arity is some other type's method of the same name, not
    // `Option`'s or `Result`'s.
    if method.arity().is_some_and(|arity| arity != args.len()) {
        return None;
    }
    let message = match (method.takes_message(), args.first()) {
        (true, Some(arg)) => {
            // A parser's `p.expect(T![;])` or a helper's `expect(Token::Comma)`
            // takes a token, not the message `Option::expect` takes.
            if !looks_like_message(arg) {
                return None;
            }
            Some(squeeze(&arg.syntax().text().to_string()))
        }
        _ => None,
    };
    // With `allow_lock_results`, a poisoned lock is a panic that already
    // happened on another thread; propagating it adds nothing.
    if options.allow_lock_results
        && matches!(method, Method::Unwrap | Method::Expect)
        && is_lock_call(call.receiver()?)
    {
        return None;
    }
    let span = TextRange::new(name.syntax().text_range().start(), node.text_range().end());
    Some(Site {
        method,
        receiver: Receiver::Unknown,
        node: node.clone(),
        span,
        message,
        as_value: false,
    })
}

/// `Option::unwrap(x)`, `Result::expect(r, "..")`, and `Option::unwrap`
/// passed as a function (`.map(Option::unwrap)`).
fn ufcs_site<'a>(node: &SyntaxNode, extra: &'a [String]) -> Option<Site<'a>> {
    let path = ast::PathExpr::cast(node.clone())?.path()?;
    let name = path.segment()?.name_ref()?;
    let method = Method::from_name(name.text(), extra)?;
    let qualifier = path.qualifier()?.segment()?.name_ref()?;
    let receiver = match qualifier.text() {
        "Option" => Receiver::Option,
        "Result" => Receiver::Result,
        _ => return None,
    };
    let call = node
        .parent()
        .and_then(ast::CallExpr::cast)
        .filter(|call| call.expr().is_some_and(|callee| callee.syntax() == node));
    let Some(call) = call else {
        return Some(Site {
            method,
            receiver,
            node: node.clone(),
            span: node.text_range(),
            message: None,
            as_value: true,
        });
    };
    // The message is the second argument: `Option::expect(x, "..")`.
    let message = if method.takes_message() {
        let arg = call.arg_list()?.args().nth(1)?;
        Some(squeeze(&arg.syntax().text().to_string()))
    } else {
        None
    };
    Some(Site {
        method,
        receiver,
        node: call.syntax().clone(),
        span: call.syntax().text_range(),
        message,
        as_value: false,
    })
}

/// Whether a `library_unwrap` finding is silenced by clippy lints allowed
/// over its whole file from elsewhere in the module tree (an attribute on the
/// `mod` declaration, or a parent file's `#![allow]`). The message names the
/// method (`\`expect\` in library code`), which decides the clippy lint.
pub fn allowed_by_module(finding: &Finding, allows: &[&str]) -> bool {
    if finding.lint != NAME || allows.is_empty() {
        return false;
    }
    let clippy = if finding.message.starts_with("`expect") {
        "clippy::expect_used"
    } else {
        "clippy::unwrap_used"
    };
    allows.contains(&clippy) || allows.contains(&"clippy::restriction")
}

/// Whether the call is in library code as far as this file can tell.
fn applies(tree: &Tree, site: &Site<'_>, input: &LintInput<'_>) -> bool {
    let options = &input.options.library_unwrap;
    // Test modules and test functions are not compiled into the library.
    if context::in_test_code(tree, &site.node, &options.test_attributes) {
        return false;
    }
    // Code evaluated at compile time fails the build instead of panicking.
    if runs_at_compile_time(tree, &site.node) {
        return false;
    }
    // The user allowed the matching clippy lint (or the whole restriction group).
    let lints = [site.method.clippy_lint(), "clippy::restriction"];
    if context::any_ancestor_attr(tree, &site.node, |attr| context::allows(attr, &lints)) {
        return false;
    }
    // A parser's `p.expect(kind)` or a wrapper's `self.unwrap()`: the
    // receiver's declared type is not an `Option` or `Result`, so the method is
    // that type's own.
    if let Ok(call) = ast::MethodCallExpr::cast(site.node.clone()).ok_or(())
        && receiver_has_other_type(tree, &call)
    {
        return false;
    }
    // A method that delegates to the accessor of the same name (a wrapper's
    // own `fn unwrap(self)`) is a deliberately panicking API; its callers are
    // reported instead.
    if let Some(Enclosing::Fn(func)) = context::enclosing_body(tree, &site.node)
        && func
            .name()
            .is_some_and(|name| name.text() == site.method.name())
    {
        return false;
    }
    true
}

/// `context::in_const_context`, except that a closure in a `static` or `const`
/// initialiser (`LazyLock::new(|| ..)`) runs at run time, when first used.
fn runs_at_compile_time(tree: &Tree, node: &SyntaxNode) -> bool {
    if !context::in_const_context(tree, node) {
        return false;
    }
    for ancestor in tree.ancestors(node) {
        match ancestor.kind() {
            SyntaxKind::CLOSURE_EXPR => return false,
            SyntaxKind::CONST | SyntaxKind::STATIC | SyntaxKind::CONST_ARG => return true,
            _ => {}
        }
    }
    true
}

/// Whether the receiver is `self` or a parameter whose declared type is neither
/// an `Option` nor a `Result` (nor a pointer that could hold one).
fn receiver_has_other_type(tree: &Tree, call: &ast::MethodCallExpr) -> bool {
    let Some(ast::Expr::PathExpr(receiver)) = call.receiver() else {
        return false;
    };
    let Some(path) = receiver.path() else {
        return false;
    };
    if path.qualifier().is_some() {
        return false;
    }
    let name = path.syntax().text().to_string();
    let Some(func) = tree
        .ancestors(call.syntax())
        .into_iter()
        .find_map(ast::Fn::cast)
    else {
        return false;
    };
    let Some(params) = func.param_list() else {
        return false;
    };
    if name == "self" {
        if params.self_param().is_none() {
            return false;
        }
        let Some(owner) = func.syntax().parent().and_then(|list| list.parent()) else {
            return false;
        };
        // In a trait, `self` is a generic `Self`: its methods come from traits.
        if ast::Trait::can_cast(owner.kind()) {
            return true;
        }
        let Some(self_ty) = ast::Impl::cast(owner).and_then(|imp| imp.self_ty()) else {
            return false;
        };
        return type_name(&self_ty).is_some_and(|ty| !holds_option_or_result(&ty));
    }
    let Some(ty) = params.params().find_map(|param| {
        let ast::Pat::IdentPat(pat) = param.pat()? else {
            return None;
        };
        (pat.name()?.text() == name.as_str()).then(|| param.ty())?
    }) else {
        return false;
    };
    // A `let` that rebinds the name may give it any type.
    let rebound = func.body().is_some_and(|body| {
        body.syntax()
            .descendants()
            .filter_map(ast::IdentPat::cast)
            .any(|pat| pat.name().is_some_and(|n| n.text() == name.as_str()))
    });
    if rebound {
        return false;
    }
    match ty {
        // `&Option<u8>` still has `unwrap` through a copy; any other referent
        // cannot be moved out of the reference.
        ast::Type::RefType(reference) => reference
            .ty()
            .and_then(|inner| type_name(&inner))
            .is_some_and(|inner| !holds_option_or_result(&inner)),
        other => type_name(&other).is_some_and(|ty| {
            !holds_option_or_result(&ty)
                && !matches!(
                    ty.as_str(),
                    "Box" | "Rc" | "Arc" | "Cow" | "Pin" | "ManuallyDrop" | "Ref" | "RefMut"
                )
                && !ty.ends_with("Guard")
        }),
    }
}

/// The last segment of a path type: `Parser` for `crate::Parser<'a>`.
fn type_name(ty: &ast::Type) -> Option<String> {
    let ast::Type::PathType(path) = ty else {
        return None;
    };
    Some(path.path()?.segment()?.name_ref()?.text().to_string())
}

/// `Option`, `Result` or an alias that looks like one.
fn holds_option_or_result(name: &str) -> bool {
    name.ends_with("Option") || name.ends_with("Result")
}

/// `m.lock()`, `rw.read()`, `rw.write()`, `m.try_lock()`, a `Condvar`'s
/// waits: a call whose `unwrap` answers a poisoned lock.
fn is_lock_call(receiver: ast::Expr) -> bool {
    let ast::Expr::MethodCallExpr(call) = context::peel(receiver) else {
        return false;
    };
    let args = call.arg_list().map_or(0, |args| args.args().count());
    call.name_ref()
        .is_some_and(|name| returns_lock_result(name.text(), args))
}

/// A method, by name and argument count, that returns a `LockResult` or
/// `TryLockResult`: a lock's `lock()`, `read()`, `write()` and their `try_`
/// forms, and `Condvar`'s `wait(guard)`, `wait_while(guard, f)`,
/// `wait_timeout(guard, d)`, `wait_timeout_while(guard, d, f)`.
pub(super) fn returns_lock_result(name: &str, args: usize) -> bool {
    matches!(
        (name, args),
        (
            "lock" | "read" | "write" | "try_lock" | "try_read" | "try_write",
            0
        ) | ("wait", 1)
            | ("wait_while" | "wait_timeout", 2)
            | ("wait_timeout_while", 3)
    )
}

/// Whether `expr` can be the `&str` message of `expect`, rather than a token
/// or an enum value.
fn looks_like_message(expr: &ast::Expr) -> bool {
    match expr {
        ast::Expr::Literal(lit) => matches!(
            lit.kind(),
            ast::LiteralKind::String(_) | ast::LiteralKind::CString(_)
        ),
        ast::Expr::RefExpr(inner) => inner.expr().is_none_or(|e| looks_like_message(&e)),
        ast::Expr::ParenExpr(inner) => inner.expr().is_none_or(|e| looks_like_message(&e)),
        ast::Expr::MacroExpr(mac) => mac
            .macro_call()
            .and_then(|call| trees::macro_name(&call))
            .is_some_and(|name| matches!(name.as_str(), "format" | "concat" | "stringify")),
        ast::Expr::PathExpr(path) => !path_is_camel_case(path.path()),
        ast::Expr::CallExpr(call) => match call.expr() {
            Some(ast::Expr::PathExpr(path)) => !path_is_camel_case(path.path()),
            _ => true,
        },
        ast::Expr::RecordExpr(_)
        | ast::Expr::ArrayExpr(_)
        | ast::Expr::TupleExpr(_)
        | ast::Expr::ClosureExpr(_) => false,
        _ => true,
    }
}

/// `Token::Comma`, `Kind`: a type or variant, not a `msg` or `ERR_MSG` value.
fn path_is_camel_case(path: Option<ast::Path>) -> bool {
    let Some(name) = path.and_then(|p| p.segment()).and_then(|s| s.name_ref()) else {
        return false;
    };
    let text = name.text();
    text.starts_with(|c: char| c.is_ascii_uppercase()) && text.chars().any(|c| c.is_lowercase())
}

/// Every macro call of the file, as (file range of its arguments, path as
/// written).
fn macro_calls(trees: &[Tree]) -> Vec<(Range<usize>, String)> {
    let mut out = Vec::new();
    for tree in trees {
        for call in tree.root.descendants().filter_map(ast::MacroCall::cast) {
            let (Some(tt), Some(path)) = (call.token_tree(), call.path()) else {
                continue;
            };
            let name: String = path
                .syntax()
                .text()
                .to_string()
                .split_whitespace()
                .collect();
            out.push((tree.node_range(tt.syntax()), name));
        }
    }
    out
}

/// The path of the innermost macro whose arguments contain `range`.
fn innermost_macro(macros: &[(Range<usize>, String)], range: &Range<usize>) -> Option<String> {
    macros
        .iter()
        .filter(|(args, _)| args.start <= range.start && range.end <= args.end)
        .min_by_key(|(args, _)| args.len())
        .map(|(_, name)| name.clone())
}

fn finding(
    tree: &Tree,
    site: &Site<'_>,
    range: Range<usize>,
    macro_name: Option<String>,
    input: &LintInput<'_>,
    plan: fix::Plan,
) -> Finding {
    let name = site.method.name();
    let help = plan.help.unwrap_or_else(|| help(tree, site, input));
    let mut finding = Finding::new(NAME, range, format!("`{name}` in library code"))
        .with_primary_label(primary_label(site))
        .with_help(help)
        .library_only();
    if let Some(mac) = macro_name {
        finding = finding.with_note(format!(
            "`{mac}!` evaluates this argument at run time, like any other code"
        ));
    }
    // A `None` returned with `?` is the function's ordinary "nothing" to its
    // callers, and carries no message.
    let returns_option = fix::enclosing_ret(tree, site)
        .and_then(|ret| ret.ty())
        .and_then(|ty| fallible(&ty))
        == Some(Fallible::Option);
    if returns_option {
        let lost = if site.method.takes_message() {
            format!(", and the `{name}` message is lost")
        } else {
            String::new()
        };
        finding = finding.with_note(format!(
            "the function returns an `Option`: its callers read a `None` passed on with `?` as an ordinary answer (nothing there, not ready), not as a failure{lost}; check that they can tell"
        ));
    } else if site.method.takes_message() {
        finding = finding.with_note(format!(
            "the `{name}` message can become the error's context instead of a panic message"
        ));
    }
    if let Some(note) = plan.note {
        finding = finding.with_note(note);
    }
    if let Some(fix) = plan.fix {
        finding = finding.with_fix(fix);
    }
    if let Some(payload) = plan.migrate {
        let mut request = vec![migrate::REQUEST.to_string()];
        request.extend(payload);
        finding = finding.needs_crate(request);
    }
    if let Some(request) = plan.option_error {
        finding = finding.needs_crate(request);
    }
    if let Some(request) = plan.error_conversion {
        finding = finding.needs_crate(request);
    }
    finding
}

fn primary_label(site: &Site<'_>) -> String {
    let failure = match (site.method, site.receiver) {
        (Method::UnwrapErr | Method::ExpectErr, _) => "`Ok`",
        (_, Receiver::Option) => "`None`",
        (_, Receiver::Result) => "`Err`",
        (_, Receiver::Unknown) => "`None` or `Err`",
    };
    if site.as_value {
        return format!("panics on any {failure} it is given");
    }
    match site.method {
        Method::Extra(_) => "can panic".to_string(),
        method if method.takes_message() => {
            format!("panics with this message if the value is {failure}")
        }
        _ => format!("panics if the value is {failure}"),
    }
}

/// What a fallible return type allows: how the error can leave the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fallible {
    Option,
    Result {
        /// The error type is (or may be) `anyhow::Error` / `eyre::Report`, so
        /// `.context(..)` / `.wrap_err(..)` converts with `?`.
        dynamic_error: bool,
    },
}

/// `Result<..>`, `io::Result<..>`, `anyhow::Result<..>`, an alias ending in
/// `Result`, `Option<..>`, and `Poll` of those.
fn fallible(ty: &ast::Type) -> Option<Fallible> {
    // `Poll<Self::Output>` of a `Future` whose `Output` is a `Result`.
    if let Some(declared) = context::assoc_type(ty) {
        return fallible(&declared);
    }
    let ast::Type::PathType(path_type) = ty else {
        return None;
    };
    let path = path_type.path()?;
    let segment = path.segment()?;
    let name = segment.name_ref()?;
    let name = name.text();
    let mut generic_types = segment
        .generic_arg_list()
        .into_iter()
        .flat_map(|list| list.generic_args())
        .filter_map(|arg| match arg {
            ast::GenericArg::TypeArg(arg) => arg.ty(),
            _ => None,
        });
    if name == "Option" {
        return Some(Fallible::Option);
    }
    if name == "Poll" {
        // `?` on a `Result` also works in `poll` functions returning
        // `Poll<Result<..>>` or `Poll<Option<Result<..>>>`.
        let mut inner = generic_types.next()?;
        if let Some(item) = option_of(&inner) {
            inner = item;
        }
        return match fallible(&inner)? {
            Fallible::Option => None,
            result => Some(result),
        };
    }
    if !name.ends_with("Result") {
        return None;
    }
    let qualifier = path
        .qualifier()
        .and_then(|q| q.segment())
        .and_then(|s| s.name_ref())
        .map(|n| n.text().to_string());
    let dynamic_qualifier = matches!(qualifier.as_deref(), None | Some("anyhow" | "eyre"));
    let error = generic_types.nth(1).map(|e| e.syntax().text().to_string());
    let dynamic_error = name == "Result"
        && dynamic_qualifier
        && error.is_none_or(|e| e.contains("anyhow") || e.contains("eyre") || e.contains("Report"));
    Some(Fallible::Result { dynamic_error })
}

/// `T` of `Option<T>` (`Option<Self::Item>` read through the impl).
fn option_of(ty: &ast::Type) -> Option<ast::Type> {
    let ty = context::assoc_type(ty).unwrap_or_else(|| ty.clone());
    let ast::Type::PathType(path_type) = &ty else {
        return None;
    };
    let segment = path_type.path()?.segment()?;
    if segment.name_ref()?.text() != "Option" {
        return None;
    }
    segment
        .generic_arg_list()?
        .generic_args()
        .find_map(|arg| match arg {
            ast::GenericArg::TypeArg(arg) => arg.ty(),
            _ => None,
        })
}

fn help(tree: &Tree, site: &Site<'_>, input: &LintInput<'_>) -> String {
    let generic = "return the error to the caller or handle it here".to_string();
    let Some(enclosing) = context::enclosing_body(tree, &site.node) else {
        return generic;
    };
    let ret = match &enclosing {
        Enclosing::Fn(func) => func.ret_type(),
        Enclosing::Closure(closure) => closure.ret_type(),
        Enclosing::AsyncBlock(_) => None,
    };
    if let Some(kind) = ret.as_ref().and_then(|r| r.ty()).and_then(|t| fallible(&t)) {
        return propagate_help(site, kind, input);
    }
    match enclosing {
        Enclosing::Fn(func) => fn_help(&func, ret),
        Enclosing::Closure(_) => {
            "this closure cannot propagate with `?`; return the error from the closure or handle it here"
                .to_string()
        }
        Enclosing::AsyncBlock(_) => {
            "this `async` block cannot propagate with `?` to its function; return the error from the block or handle it here"
                .to_string()
        }
    }
}

fn propagate_help(site: &Site<'_>, kind: Fallible, input: &LintInput<'_>) -> String {
    if matches!(site.method, Method::UnwrapErr | Method::ExpectErr) {
        return "match on the value and return an error for the `Ok` case".to_string();
    }
    if site.as_value {
        return "propagate the errors with `?` instead, e.g. by collecting into a `Result`"
            .to_string();
    }
    let message = site.message.as_deref().unwrap_or("\"..\"");
    match kind {
        Fallible::Option => match site.receiver {
            Receiver::Result => "propagate with `.ok()?`".to_string(),
            Receiver::Option => "propagate with `?`".to_string(),
            Receiver::Unknown => "propagate with `?` (a `Result` needs `.ok()?`)".to_string(),
        },
        // A `Result` with a standard error converts into `anyhow::Error`.
        Fallible::Result {
            dynamic_error: true,
        } if site.receiver == Receiver::Result && site.message.is_none() => {
            "propagate the error with `?`".to_string()
        }
        Fallible::Result {
            dynamic_error: true,
        } if input.facts.uses_anyhow => {
            format!("propagate the error with `.context({message})?`")
        }
        Fallible::Result {
            dynamic_error: true,
        } if input.facts.uses_eyre => {
            format!("propagate the error with `.wrap_err({message})?`")
        }
        Fallible::Result { .. } => match site.receiver {
            Receiver::Option => "propagate the error with `.ok_or(..)?`".to_string(),
            Receiver::Result => "propagate the error with `?`".to_string(),
            Receiver::Unknown => {
                "propagate the error with `?` (an `Option` needs `.ok_or(..)?` first)".to_string()
            }
        },
    }
}

/// Help for a function that has no fallible return type.
fn fn_help(func: &ast::Fn, ret: Option<ast::RetType>) -> String {
    let name = func
        .name()
        .map(|n| n.text().to_string())
        .unwrap_or_else(|| "_".to_string());
    let ty = ret
        .and_then(|r| r.ty())
        .map(|t| squeeze(&t.syntax().text().to_string()))
        .unwrap_or_else(|| "()".to_string());
    // A trait implementation cannot change the signature the trait fixes.
    if let Some(trait_name) = implemented_trait(func) {
        return format!(
            "`fn {name}` implements `{trait_name}` and cannot return an error; handle the error here instead of panicking"
        );
    }
    format!("`fn {name}` returns `{ty}`; return `Result<{ty}, E>` to propagate this error")
}

/// The trait that `func` implements, when it is in an `impl Trait for Type`.
fn implemented_trait(func: &ast::Fn) -> Option<String> {
    let list = func.syntax().parent()?;
    let imp = ast::Impl::cast(list.parent()?)?;
    let ty = imp.trait_()?;
    Some(squeeze(&ty.syntax().text().to_string()))
}

/// Collapses runs of whitespace (a type or message written over lines).
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use crate::{CrateFacts, Edition, Options, analyze};

    fn lines_with(source: &str, options: &Options) -> Vec<usize> {
        let analysis = analyze(
            source,
            Edition::Edition2024,
            options,
            &CrateFacts::default(),
        );
        analysis
            .findings
            .iter()
            .filter(|f| f.lint == "library_unwrap")
            .map(|f| source[..f.range.start].lines().count().max(1))
            .collect()
    }

    fn lines(source: &str) -> Vec<usize> {
        lines_with(source, &Options::default())
    }

    /// `describe_fixes` and `complete_fixes` on one crate file: the notes of
    /// each finding both ways, and the described findings' fixes.
    fn described_and_planned(source: &str) -> Vec<(Vec<String>, Vec<String>, bool)> {
        let path = std::path::PathBuf::from("/crate/src/lib.rs");
        let files = vec![(path.clone(), std::sync::Arc::<str>::from(source))];
        let findings = analyze(
            source,
            Edition::Edition2024,
            &Options::default(),
            &CrateFacts::default(),
        )
        .findings;
        let mut described = findings.clone();
        crate::describe_fixes(&mut described);
        let mut planned = findings;
        crate::complete_fixes(
            &mut planned,
            &crate::CrateContext {
                file: &path,
                files: &files,
                edition: Edition::Edition2024,
                facts: None,
                index: &Default::default(),
            },
        );
        assert!(described.iter().all(|f| f.crate_fix.is_none()));
        described
            .into_iter()
            .zip(planned)
            .map(|(d, p)| {
                assert_eq!(
                    (&d.message, &d.range, &d.help),
                    (&p.message, &p.range, &p.help)
                );
                (d.notes, p.notes, d.fix.is_some())
            })
            .collect()
    }

    #[test]
    fn described_migrations_say_what_the_plan_would_try() {
        // A plain function: the plan may carry it through its callers; the
        // description claims no fix and says how to see it.
        let source = "pub fn port(text: &str) -> u16 {\n    text.parse().unwrap()\n}\n";
        let [(described, planned, has_fix)] = described_and_planned(source).try_into().unwrap();
        assert!(!has_fix);
        assert_eq!(described.len(), 1, "{described:?}");
        assert!(
            described[0].starts_with(
                "`temper fix --unsafe-fixes` can try to make `fn port` return a `Result`"
            ),
            "{described:?}"
        );
        assert!(
            planned.iter().all(|n| !n.contains("temper fix")),
            "{planned:?}"
        );
        // A trait method cannot change: the file says so, as the plan does.
        let source = "pub struct S(u8);\nimpl Default for S {\n    fn default() -> Self {\n        S(\"7\".parse().unwrap())\n    }\n}\n";
        let [(described, planned, has_fix)] = described_and_planned(source).try_into().unwrap();
        assert!(!has_fix);
        assert_eq!(described, planned);
        assert_eq!(
            described,
            [
                "no automatic fix: the chain reaches `Default::default`, a trait method whose signature the trait decides"
            ]
        );
    }

    #[test]
    fn lock_results_allowed_only_with_option() {
        let source = "fn f(m: &Mutex<u8>, rw: &RwLock<u8>) {\n    let a = m.lock().unwrap();\n    let b = rw.read().expect(\"poisoned\");\n    let c = rw.write().unwrap();\n    let d = m.try_lock().unwrap();\n    let e = other().unwrap();\n}\n";
        assert_eq!(lines(source), [2, 3, 4, 5, 6]);
        let mut options = Options::default();
        options.library_unwrap.allow_lock_results = true;
        assert_eq!(lines_with(source, &options), [6]);
    }

    #[test]
    fn extra_methods_and_test_attributes() {
        let source = "fn f(x: Option<u8>) -> u8 {\n    x.unwrap_or_panic()\n}\n#[my_test]\nfn g(x: Option<u8>) {\n    x.unwrap();\n}\n";
        assert_eq!(lines(source), [6]);
        let mut options = Options::default();
        options.library_unwrap.extra_methods = vec!["unwrap_or_panic".to_string()];
        options.library_unwrap.test_attributes = vec!["my_test".to_string()];
        assert_eq!(lines_with(source, &options), [2]);
    }

    #[test]
    fn other_methods_named_expect_or_unwrap() {
        let source = "fn parse() {\n    parser().expect(T![;]);\n    parser().expect(Token::Comma);\n    parser().expect('x');\n    parser().unwrap(1);\n    next().expect(MESSAGE);\n    next().expect(&format!(\"{}\", 1));\n}\n";
        assert_eq!(lines(source), [6, 7]);
    }

    #[test]
    fn receivers_declared_as_other_types() {
        let source = "fn list(p: &mut Parser, ket: SyntaxKind) {\n    p.expect(ket);\n}\nimpl Parser {\n    fn eat(&mut self, kind: SyntaxKind) {\n        self.expect(kind);\n    }\n}\nfn opt(o: &Option<u8>, b: Box<Option<u8>>, s: String) -> u8 {\n    let s = s.parse::<u8>();\n    o.unwrap() + b.unwrap() + s.unwrap()\n}\nimpl<T> Ext for Option<T> {\n    fn get(self) -> T {\n        self.expect(\"set\")\n    }\n}\n";
        assert_eq!(lines(source), [11, 11, 11, 15]);
    }

    #[test]
    fn delegating_wrapper_and_lazy_static_closure() {
        let source = "impl<T> Checked<T> {\n    pub fn unwrap(self) -> T {\n        self.0.unwrap()\n    }\n}\nstatic CONFIG: LazyLock<Config> = LazyLock::new(|| load().unwrap());\nconst N: usize = parse(\"4\").unwrap();\n";
        assert_eq!(lines(source), [6]);
    }

    /// The applicability and the fixed text of each finding's fix, applied
    /// alone.
    fn fixes(source: &str, facts: &CrateFacts) -> Vec<(&'static str, String)> {
        analyze(source, Edition::Edition2024, &Options::default(), facts)
            .findings
            .into_iter()
            .filter(|f| f.lint == "library_unwrap")
            .filter_map(|f| f.fix)
            .map(|fix| {
                let mut text = source.to_string();
                let mut edits = fix.edits.clone();
                edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
                for edit in edits {
                    text.replace_range(edit.range, &edit.replacement);
                }
                (fix.applicability.as_str(), text)
            })
            .collect()
    }

    #[test]
    fn option_functions_propagate_with_question_mark() {
        let none = CrateFacts::default();
        assert_eq!(
            fixes(
                "fn f(x: Option<u8>) -> Option<u8> { let v = x.unwrap(); Some(v) }",
                &none
            ),
            [(
                "safe",
                "fn f(x: Option<u8>) -> Option<u8> { let v = x?; Some(v) }".to_string()
            )]
        );
        // A reference parameter cannot be the operand of `?`.
        assert_eq!(
            fixes(
                "fn f(x: &Option<u8>) -> Option<u8> { x.unwrap(); None }",
                &none
            )[0]
            .0,
            "unsafe"
        );
        assert_eq!(
            fixes(
                "fn f(s: &str) -> Option<u8> { Some(Result::unwrap(s.parse::<u8>())) }",
                &none
            ),
            [(
                "safe",
                "fn f(s: &str) -> Option<u8> { Some(s.parse::<u8>().ok()?) }".to_string()
            )]
        );
        assert_eq!(
            fixes("fn f(a: Option<u8>, b: Option<u8>) -> Option<u8> { Some(Option::unwrap(a.or(b))) }", &none)[0].1,
            "fn f(a: Option<u8>, b: Option<u8>) -> Option<u8> { Some(a.or(b)?) }"
        );
        assert_eq!(
            fixes("fn f(x: Option<Option<u8>>) -> Option<u8> { Option::unwrap(x.unwrap_or(None).or(None)) ; None }", &none)[0].1,
            "fn f(x: Option<Option<u8>>) -> Option<u8> { x.unwrap_or(None).or(None)? ; None }"
        );
        // A comment inside the removed text is lost: only with --unsafe-fixes.
        assert_eq!(
            fixes("fn f(v: &[u8]) -> Option<u8> { v.first().copied().expect(/* why */ \"one\"); None }", &none)[0].0,
            "unsafe"
        );
    }

    #[test]
    fn anyhow_context_and_its_import() {
        let anyhow = CrateFacts {
            uses_anyhow: true,
            ..CrateFacts::default()
        };
        let source = "//! Doc.\n\nmod inner {\n    fn f(v: &[u8]) -> anyhow::Result<u8> {\n        Ok(*v.first().expect(\"one\"))\n    }\n}\n";
        assert_eq!(
            fixes(source, &anyhow),
            [(
                "safe",
                "//! Doc.\n\nmod inner {\n    use anyhow::Context as _;\n\n    fn f(v: &[u8]) -> anyhow::Result<u8> {\n        Ok(*v.first().context(\"one\")?)\n    }\n}\n".to_string()
            )]
        );
        // An unqualified `Result` may be the crate's own alias.
        let alias = "use std::fs; // files\nfn f() -> Result<String> { Ok(fs::read_to_string(\"a\").expect(\"a\")) }\n";
        assert_eq!(
            fixes(alias, &anyhow),
            [(
                "unsafe",
                "use std::fs; // files\nuse anyhow::Context as _;\nfn f() -> Result<String> { Ok(fs::read_to_string(\"a\").context(\"a\")?) }\n".to_string()
            )]
        );
        // Already imported: no second import.
        let imported = "use anyhow::{Context, Result};\nfn f(v: Vec<u8>) -> Result<u8> { Ok(v.last().copied().unwrap()) }\n";
        assert_eq!(
            fixes(imported, &anyhow)[0].1,
            "use anyhow::{Context, Result};\nfn f(v: Vec<u8>) -> Result<u8> { Ok(v.last().copied().context(\"`v.last().copied()` is None\")?) }\n"
        );
    }

    /// Unsafe fixes that cannot compile are not offered: an `Option` local
    /// in a function returning another error, and `x?.unwrap()`.
    #[test]
    fn options_the_syntax_can_see_get_no_question_mark() {
        let none = CrateFacts::default();
        let local = "fn connect(hosts: &[u8]) -> Result<u8, MyError> {\n    let mut error = None;\n    for host in hosts {\n        match try_one(*host) {\n            Ok(c) => return Ok(c),\n            Err(e) => error = Some(e),\n        }\n    }\n    Err(error.unwrap())\n}\n";
        assert!(fixes(local, &none).is_empty(), "{:?}", fixes(local, &none));
        let parsed = "fn decode(src: &mut Buf) -> Result<Option<Message>, MyError> {\n    let message = Message::parse(src)?.unwrap();\n    Ok(Some(message))\n}\n";
        assert!(
            fixes(parsed, &none).is_empty(),
            "{:?}",
            fixes(parsed, &none)
        );
        // tokio-postgres 0.7.18 `connect`: `host` is also bound in an earlier
        // `match`'s arm, whose scope ends before the read; the `let` decides.
        let rebound = "fn connect(config: &Config, i: usize) -> Result<Host, MyError> {\n    let host = config.host.get(i);\n    let hostname = match host {\n        Some(Host::Tcp(host)) => Some(host.clone()),\n        None => None,\n    };\n    let addr = match hostname {\n        Some(_) => Host::Other,\n        None => host.cloned().unwrap(),\n    };\n    Ok(addr)\n}\n";
        assert!(
            fixes(rebound, &none).is_empty(),
            "{:?}",
            fixes(rebound, &none)
        );
        // A binding that does reach the read (an enclosing arm) still makes
        // the variable's type unclear: `?` is offered, unsafe.
        let shadowed = "fn f(v: Option<Result<u8, E>>) -> Result<u8, MyError> {\n    let x = v.get(0);\n    match v {\n        Some(x) => Ok(x.unwrap()),\n        None => Ok(0),\n    }\n}\n";
        assert_eq!(fixes(shadowed, &none)[0].0, "unsafe");
        // With an `io::Error` the `Option` gets its error value.
        let io = "fn decode(src: &mut Buf) -> std::io::Result<Option<Message>> {\n    let message = Message::parse(src)?.unwrap();\n    Ok(Some(message))\n}\n";
        let fixed = fixes(io, &none);
        assert!(
            fixed.iter().all(|(_, text)| !text.contains("??")),
            "{fixed:?}"
        );
    }

    #[test]
    fn eyre_custom_and_boxed_errors() {
        let eyre = CrateFacts {
            uses_eyre: true,
            ..CrateFacts::default()
        };
        assert_eq!(
            fixes("fn f() -> eyre::Result<String> { Ok(std::fs::read_to_string(\"a\").expect(\"a\")) }", &eyre),
            [(
                "safe",
                "use eyre::WrapErr as _;\n\nfn f() -> eyre::Result<String> { Ok(std::fs::read_to_string(\"a\").wrap_err(\"a\")?) }".to_string()
            )]
        );
        // eyre's `WrapErr` has no `Option` implementation.
        assert!(
            fixes(
                "fn f(v: &[u8]) -> eyre::Result<u8> { Ok(*v.first().unwrap()) }",
                &eyre
            )
            .is_empty()
        );
        let none = CrateFacts::default();
        assert_eq!(
            fixes("fn f() -> Result<String, Box<dyn std::error::Error>> { Ok(std::env::var(\"A\").unwrap()) }", &none)[0].0,
            "safe"
        );
        assert_eq!(
            fixes("fn f() -> Result<u8, MyError> { Ok(g().unwrap()) }", &none)[0].0,
            "unsafe"
        );
        // `?` on an `Option` cannot produce `MyError`; a lock's error borrows
        // the guard.
        assert!(
            fixes(
                "fn f(v: &[u8]) -> Result<u8, MyError> { Ok(*v.first().unwrap()) }",
                &none
            )
            .is_empty()
        );
        // A poisoned lock is recovered, whatever the function returns, and
        // only as an unsafe fix: it changes behaviour.
        assert_eq!(
            fixes(
                "fn f(m: &Mutex<u8>) -> std::io::Result<u8> { Ok(*m.lock().unwrap()) }",
                &none
            ),
            [(
                "unsafe",
                "fn f(m: &Mutex<u8>) -> std::io::Result<u8> { Ok(*m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)) }".to_string()
            )]
        );
        assert_eq!(
            fixes(
                "fn f(m: &Mutex<u8>) -> Option<u8> { Some(*m.lock().expect(\"poisoned\")) }",
                &none
            )[0]
            .0,
            "unsafe"
        );
        assert!(
            fixes(
                "const fn f(x: Option<u8>) -> Option<u8> { Some(x.unwrap()) }",
                &none
            )
            .is_empty()
        );
        // `Path::strip_prefix` returns a `Result`, `str::strip_prefix` an
        // `Option`: unknown, so unsafe.
        assert_eq!(
            fixes(
                "fn f(p: &Path, b: &Path) -> Option<&Path> { Some(p.strip_prefix(b).unwrap()) }",
                &none
            )[0]
            .0,
            "unsafe"
        );
        // A crate's own `fs` module is not `std::fs`.
        assert_eq!(
            fixes(
                "fn f() -> std::io::Result<u8> { Ok(crate::fs::load().unwrap()) }",
                &none
            )[0]
            .0,
            "unsafe"
        );
    }

    #[test]
    fn macro_arguments_by_macro() {
        let none = CrateFacts::default();
        let known = fixes(
            "fn f(v: &[u8]) -> Option<String> { Some(format!(\"{}\", v.first().unwrap())) }",
            &none,
        );
        assert_eq!(
            known[0],
            (
                "safe",
                "fn f(v: &[u8]) -> Option<String> { Some(format!(\"{}\", v.first()?)) }"
                    .to_string()
            )
        );
        let logging = fixes(
            "fn f(v: &[u8]) -> Option<u8> { log::info!(\"{}\", v.first().unwrap()); None }",
            &none,
        );
        assert_eq!(logging[0].0, "unsafe");
        assert!(
            fixes(
                "fn f(v: &[u8]) -> Option<u8> { my::retry!(v.first().unwrap()); None }",
                &none
            )
            .is_empty()
        );
    }

    #[test]
    fn help_follows_the_return_type() {
        let help = |source: &str, facts: &CrateFacts| {
            analyze(source, Edition::Edition2024, &Options::default(), facts)
                .findings
                .into_iter()
                .filter(|f| f.lint == "library_unwrap")
                .filter_map(|f| f.help)
                .collect::<Vec<_>>()
        };
        let anyhow = CrateFacts {
            uses_anyhow: true,
            ..CrateFacts::default()
        };
        assert_eq!(
            help(
                "fn f() -> anyhow::Result<()> { x.expect(\"x is set\"); Ok(()) }",
                &anyhow
            ),
            ["propagate the error with `.context(\"x is set\")?`"]
        );
        assert_eq!(
            help(
                "fn f() -> io::Result<()> { x.expect(\"x\"); Ok(()) }",
                &anyhow
            ),
            ["propagate the error with `?` (an `Option` needs `.ok_or(..)?` first)"]
        );
        assert_eq!(
            help(
                "fn poll(self: Pin<&mut Self>) -> Poll<Result<(), E>> { x.unwrap(); }",
                &CrateFacts::default()
            ),
            ["propagate the error with `?` (an `Option` needs `.ok_or(..)?` first)"]
        );
        assert_eq!(
            help(
                "fn f() -> Option<u8> { x.unwrap() }",
                &CrateFacts::default()
            ),
            ["propagate with `?` (a `Result` needs `.ok()?`)"]
        );
        assert_eq!(
            help(
                "impl Drop for X { fn drop(&mut self) { x.unwrap(); } }",
                &CrateFacts::default()
            ),
            [
                "`fn drop` implements `Drop` and cannot return an error; handle the error here instead of panicking"
            ]
        );
    }
}
