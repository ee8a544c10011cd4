//! `arc_from_ptr_read`: an `Arc`/`Rc` built from a bitwise copy of a value
//! that something else already owns, or from a pointer cast from a reference.
//!
//! Detection starts at every `Arc`/`Rc` constructor (`new`, `pin`, `from`,
//! `from_raw`), looks at its argument (through `unsafe { }`, parentheses and
//! one `let` binding), and reports when the argument is a bitwise copy
//! (`ptr::read` and friends, `.read()` on a raw pointer, `mem::transmute_copy`)
//! whose source is provably owned elsewhere: the `&self` receiver, a `&T`
//! parameter, a field of those, or a local that is still dropped.
//!
//! The fix borrows the `Arc` instead: [`fix`] rewrites the function,
//! [`callers`] judges (and where needed rewrites) its call sites across the
//! crate, with the small declaration-based type model of [`types`].

use crate::diagnostic::Level;
use crate::registry::{FixAvailability, Lint};
use crate::trees::Tree;
use crate::{Finding, LintInput};
use ra_ap_syntax::ast::{self, AstNode, HasArgList, HasGenericArgs, HasName, HasTypeBounds};
use ra_ap_syntax::{SyntaxKind, SyntaxNode};

mod callers;
mod fix;
mod types;

pub static LINT: Lint = Lint {
    name: "arc_from_ptr_read",
    default_level: Level::Deny,
    fix: FixAvailability::Sometimes,
    summary: "an `Arc` or `Rc` built from a bitwise copy of a value something else owns",
    docs: include_str!("arc_from_ptr_read.md"),
    check,
    complete: Some(callers::complete),
    // A deny-level lint whose diagnostic must name each call site the fix
    // cannot migrate: completed even when no fix is asked for.
    describe: None,
};

fn check(input: &LintInput<'_>, findings: &mut Vec<Finding>) {
    // Every finding needs a constructor (`Arc`/`Rc`) and a copy (`read`,
    // `read_unaligned`, `read_volatile`, `transmute_copy`, or an alias, whose
    // `use` names the original) or `from_raw`: a text search rules out most
    // files before any tree is walked.
    if !may_fire(input.source) {
        return;
    }
    let mut imports: Option<Imports> = None;
    for tree in input.trees {
        for call in tree.root.descendants().filter_map(ast::CallExpr::cast) {
            let Some(ctor) = constructor(&call) else {
                continue;
            };
            let finding = if ctor.from_raw {
                check_from_raw(input, tree, &call, &ctor)
            } else {
                check_owner(input, tree, &call, &ctor, &mut imports)
            };
            findings.extend(finding);
        }
    }
}

/// Whether `source` has the words every finding needs (see [`check`]); the
/// engine skips parsing a file for which no lint may fire.
pub(crate) fn may_fire(source: &str) -> bool {
    let has_owner = source.contains("Arc") || source.contains("Rc");
    has_owner
        && (source.contains("read") || source.contains("_copy") || source.contains("from_raw"))
}

/// An `Arc`/`Rc` constructor call.
struct Constructor {
    /// `Arc` or `Rc`.
    family: &'static str,
    from_raw: bool,
    /// `T` in `Arc::<T>::new`.
    type_arg: Option<ast::Type>,
    /// The callee path, e.g. `Arc::new`.
    path: SyntaxNode,
}

fn constructor(call: &ast::CallExpr) -> Option<Constructor> {
    let ast::Expr::PathExpr(callee) = call.expr()? else {
        return None;
    };
    let path = callee.path()?;
    let name = path.segment()?.name_ref()?;
    let from_raw = match name.text() {
        "new" | "pin" | "from" => false,
        "from_raw" => true,
        _ => return None,
    };
    let owner = path.qualifier()?.segment()?;
    let family = match owner.name_ref()?.text() {
        "Arc" => "Arc",
        "Rc" => "Rc",
        _ => return None,
    };
    Some(Constructor {
        family,
        from_raw,
        type_arg: first_type_arg(owner.generic_arg_list()),
        path: callee.syntax().clone(),
    })
}

/// The function a constructor call sits in, and the tree that holds it (the
/// file's tree when the call is inside a macro's arguments).
struct Scope<'a> {
    func: Option<ast::Fn>,
    func_tree: &'a Tree,
    /// File offset of the constructor call: only `let`s before it count.
    before: usize,
}

impl<'a> Scope<'a> {
    fn of(input: &'a LintInput<'_>, tree: &'a Tree, node: &SyntaxNode) -> Scope<'a> {
        let func = tree.ancestors(node).into_iter().find_map(ast::Fn::cast);
        let in_same_tree = func
            .as_ref()
            .is_some_and(|f| node.ancestors().any(|a| &a == f.syntax()));
        let func_tree = if in_same_tree || !tree.is_macro() {
            tree
        } else {
            input.trees.first().unwrap_or(tree)
        };
        Scope {
            func,
            func_tree,
            before: tree.node_range(node).start,
        }
    }

    fn self_param(&self) -> Option<ast::SelfParam> {
        self.func.as_ref()?.param_list()?.self_param()
    }

    /// `&self`, `&mut self`, `self: &Self`, `self: &mut Self`.
    fn self_is_ref(&self) -> Option<bool> {
        let param = self.self_param()?;
        Some(param.amp_token().is_some() || matches!(param.ty(), Some(ast::Type::RefType(_))))
    }

    fn param(&self, name: &str) -> Option<ast::Param> {
        self.func.as_ref()?.param_list()?.params().find(|param| {
            matches!(param.pat(), Some(ast::Pat::IdentPat(pat))
                if pat.name().is_some_and(|n| n.text() == name))
        })
    }

    /// The last `let name = ..` before the constructor call.
    fn binding(&self, name: &str) -> Option<ast::LetStmt> {
        self.binding_before(name, self.before)
    }

    /// The last `let name = ..` that starts before file offset `before`.
    fn binding_before(&self, name: &str, before: usize) -> Option<ast::LetStmt> {
        let body = self.func.as_ref()?.body()?;
        body.syntax()
            .descendants()
            .filter_map(ast::LetStmt::cast)
            .filter(|stmt| self.func_tree.node_range(stmt.syntax()).start < before)
            .filter(|stmt| {
                matches!(stmt.pat(), Some(ast::Pat::IdentPat(pat))
                    if pat.name().is_some_and(|n| n.text() == name))
            })
            .last()
    }

    /// `mem::forget(name)` or a `ManuallyDrop` binding: the original is never
    /// dropped, so the copy is the only owner.
    fn never_dropped(&self, name: &str) -> bool {
        let Some(body) = self.func.as_ref().and_then(|f| f.body()) else {
            return false;
        };
        let forgotten = body
            .syntax()
            .descendants()
            .filter_map(ast::CallExpr::cast)
            .any(|call| {
                last_segment_is(&call, "forget")
                    && single_arg(&call).is_some_and(|arg| compact(arg.syntax()) == name)
            });
        let manually_dropped = |text: String| text.contains("ManuallyDrop");
        forgotten
            || self.binding(name).is_some_and(|stmt| {
                stmt.ty()
                    .is_some_and(|ty| manually_dropped(compact(ty.syntax())))
                    || stmt
                        .initializer()
                        .is_some_and(|init| manually_dropped(compact(init.syntax())))
            })
            || self
                .param(name)
                .and_then(|p| p.ty())
                .is_some_and(|ty| manually_dropped(compact(ty.syntax())))
    }
}

/// Where the copied value lives.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Root {
    /// The `&self` / `&mut self` receiver.
    Receiver,
    /// A `&T` / `&mut T` parameter, with its name.
    RefParam(String),
    /// A local binding or by-value parameter that is still dropped.
    Local { name: String, param: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    /// The whole referent: `*self`, `*x`, `local`.
    Whole,
    /// A field of it: `self.inner`.
    Field,
    /// Data behind it: `*self.items.as_ptr()`.
    Behind,
}

/// The place a copy reads from.
#[derive(Debug, Clone)]
struct Place {
    /// As shown to the user: `*self`, `self.inner`, `x`.
    desc: String,
    root: Root,
    shape: Shape,
    /// The place's type when it is known syntactically.
    ty: Option<ast::Type>,
}

/// What a pointer expression points at.
struct Pointer {
    place: Place,
    /// Syntactic evidence that the expression is a raw pointer.
    raw: bool,
    /// The pointee type, from a cast, turbofish or declaration.
    ty: Option<ast::Type>,
}

fn check_owner(
    input: &LintInput<'_>,
    tree: &Tree,
    call: &ast::CallExpr,
    ctor: &Constructor,
    imports: &mut Option<Imports>,
) -> Option<Finding> {
    let arg = single_arg(call)?;
    let scope = Scope::of(input, tree, call.syntax());
    let (copy_expr, copy_tree, binding_ty) = follow_binding(peel_block(arg), tree, &scope)?;
    let copy = classify_copy(&copy_expr, input.file.syntax(), imports)?;
    let pointer = pointer_origin(copy.pointer, &scope, 1)?;
    // `.read()` without a raw pointer behind it is usually `RwLock::read`.
    if copy.needs_raw_pointer && !pointer.raw {
        return None;
    }
    // Copying plain `Copy` data leaves two independent values: no double drop.
    let types = [
        &ctor.type_arg,
        &copy.turbofish,
        &binding_ty,
        &pointer.ty,
        &pointer.place.ty,
    ];
    if types
        .into_iter()
        .flatten()
        .any(|ty| is_copy_known(ty, &scope, input.file.syntax()))
    {
        return None;
    }
    if pointer.place.root == Root::Receiver
        && pointer.place.shape == Shape::Whole
        && impl_self_name(&scope).is_some_and(|name| copy_type_in_file(input.file.syntax(), &name))
    {
        return None;
    }
    if let Some(ty) = field_type(&pointer.place, &scope, input.file.syntax())
        && is_copy_known(&ty, &scope, input.file.syntax())
    {
        return None;
    }
    if let Root::Local { name, .. } = &pointer.place.root
        && scope.never_dropped(name)
    {
        // The original is forgotten, so the copy is a move, not a duplicate.
        return None;
    }
    let family = ctor.family;
    let place = &pointer.place;
    let message = match place.root {
        Root::Local { .. } => {
            format!("`{family}` built from a bitwise copy of a value that is still owned")
        }
        _ => format!("`{family}` built from a bitwise copy of a borrowed value"),
    };
    let downgrade = downgrade_call(call.syntax());
    let mut finding = Finding::new(LINT.name, copy_tree.node_range(copy.call.syntax()), message)
        .with_primary_label(format!(
            "bitwise copy of `{}`; both the copy and the original will be dropped",
            place.desc
        ))
        .with_label(
            tree.node_range(&ctor.path),
            format!("the `{family}` takes ownership of the copy"),
        )
        .with_help(help(family, place, downgrade.is_some()));
    if let Some(downgrade) = downgrade {
        finding = finding.with_label(
            tree.node_range(&downgrade),
            format!(
                "this `Weak` can never be upgraded: the temporary `{family}` is dropped at the end of the statement"
            ),
        );
    }
    Some(fix::attach(finding, input, tree, call, ctor, place, &scope))
}

fn check_from_raw(
    input: &LintInput<'_>,
    tree: &Tree,
    call: &ast::CallExpr,
    ctor: &Constructor,
) -> Option<Finding> {
    let arg = single_arg(call)?;
    let scope = Scope::of(input, tree, call.syntax());
    let (pointer_expr, pointer_tree, _) = follow_binding(peel_block(arg), tree, &scope)?;
    // Only a cast from a reference is known to be wrong; a pointer from
    // `into_raw` (or of unknown provenance) may well be right.
    let place = cast_from_reference(&pointer_expr, &scope)?;
    let family = ctor.family;
    let downgrade = downgrade_call(call.syntax());
    let mut finding = Finding::new(
        LINT.name,
        tree.node_range(&ctor.path),
        format!("`{family}::from_raw` of a pointer cast from a reference"),
    )
    .with_primary_label(format!(
        "`{family}::from_raw` only accepts pointers returned by `{family}::into_raw`"
    ))
    .with_label(
        pointer_tree.node_range(pointer_expr.syntax()),
        format!("this pointer was cast from a borrow of `{}`", place.desc),
    )
    .with_help(help(family, &place, downgrade.is_some()))
    .with_note(format!(
        "the `{family}` will read a reference count that does not exist and free memory it never allocated"
    ));
    if let Some(downgrade) = downgrade {
        finding = finding.with_label(
            tree.node_range(&downgrade),
            format!(
                "this `Weak` can never be upgraded: the temporary `{family}` is dropped at the end of the statement"
            ),
        );
    }
    Some(fix::attach(
        finding, input, tree, call, ctor, &place, &scope,
    ))
}

/// `self as *const Self`, `&x as *const T`, `x as *const T` for a `&T`
/// parameter, `ptr::from_ref(..)`: a pointer that came from a reference.
fn cast_from_reference(expr: &ast::Expr, scope: &Scope<'_>) -> Option<Place> {
    let reference = match peel_block(expr.clone()) {
        ast::Expr::CastExpr(cast) => cast.expr()?,
        ast::Expr::CallExpr(call)
            if (last_segment_is(&call, "from_ref") || last_segment_is(&call, "from_mut")) =>
        {
            single_arg(&call)?
        }
        _ => return None,
    };
    match peel_block(reference) {
        inner @ ast::Expr::CastExpr(_) => cast_from_reference(&inner, scope),
        ast::Expr::RefExpr(reference) => {
            // A borrow of data behind another pointer (`&ptr.as_ref().data`)
            // may well point into an `Arc` allocation: only places owned here count.
            place_of(&peel_block(reference.expr()?), scope)
        }
        other => {
            let pointer = pointer_origin(other, scope, 1)?;
            // A raw pointer cast again says nothing about where it came from.
            (!pointer.raw).then_some(pointer.place)
        }
    }
}

/// `Arc::downgrade(&<call>)`: the downgrade call's callee path.
fn downgrade_call(node: &SyntaxNode) -> Option<SyntaxNode> {
    let mut current = node.parent()?;
    while current.kind() == SyntaxKind::PAREN_EXPR {
        current = current.parent()?;
    }
    ast::RefExpr::cast(current.clone())?;
    let call = ast::CallExpr::cast(ast::ArgList::cast(current.parent()?)?.syntax().parent()?)?;
    if !last_segment_is(&call, "downgrade") {
        return None;
    }
    Some(call.expr()?.syntax().clone())
}

fn help(family: &str, place: &Place, downgrade: bool) -> String {
    let share = if downgrade { "downgrade" } else { "clone" };
    match (&place.root, &place.shape) {
        (Root::Receiver, Shape::Whole) => {
            format!("take `self: &{family}<Self>` and share it with `{family}::{share}(self)`")
        }
        (Root::RefParam(name), Shape::Whole) => {
            let ty = place
                .ty
                .as_ref()
                .map_or_else(|| "T".to_string(), |ty| compact(ty.syntax()));
            if ty.starts_with(&format!("{family}<")) {
                return format!("share `{name}` with `{family}::clone({name})`");
            }
            format!("take `{name}: &{family}<{ty}>` and share it with `{family}::{share}({name})`")
        }
        (Root::Local { name, .. }, Shape::Whole) => {
            format!(
                "move `{name}` into the `{family}` with `{family}::new({name})` instead of copying it"
            )
        }
        (_, Shape::Field) => format!(
            "store `{}` as an `{family}` and share it with `{family}::{share}(&{})`",
            place.desc, place.desc
        ),
        _ => format!(
            "keep the value in an `{family}` and share it with `{family}::{share}` instead of copying it"
        ),
    }
}

/// A bitwise copy call.
struct CopyCall {
    /// The whole call, for the primary span.
    call: ast::Expr,
    /// The pointer (or reference) read from.
    pointer: ast::Expr,
    /// `.read()` is only a copy on a raw pointer.
    needs_raw_pointer: bool,
    /// `ptr::read::<T>`, or `Dst` in `transmute_copy::<Src, Dst>`.
    turbofish: Option<ast::Type>,
}

const READS: &[&str] = &["read", "read_unaligned", "read_volatile"];

fn classify_copy(
    expr: &ast::Expr,
    file: &SyntaxNode,
    imports: &mut Option<Imports>,
) -> Option<CopyCall> {
    match expr {
        ast::Expr::CallExpr(call) => {
            let ast::Expr::PathExpr(callee) = call.expr()? else {
                return None;
            };
            let path = callee.path()?;
            let segment = path.segment()?;
            let name = segment.name_ref()?.text().to_string();
            let is_copy_name = READS.contains(&name.as_str()) || name == "transmute_copy";
            let function = match path.qualifier() {
                Some(qualifier) => {
                    if !is_copy_name {
                        return None;
                    }
                    let module = qualifier.segment()?.name_ref()?.text().to_string();
                    let qualified = qualifier.qualifier().is_some();
                    let imports = imports.get_or_insert_with(|| Imports::collect(file));
                    match imports.module(&module, qualified)? {
                        Module::Ptr if READS.contains(&name.as_str()) => name,
                        Module::Mem if name == "transmute_copy" => name,
                        _ => return None,
                    }
                }
                // Only names that could be a copy function or an alias of one
                // (`use std::ptr::read as ptr_read`) are worth a look at the imports.
                None if is_copy_name || name.contains("read") || name.contains("copy") => {
                    let imports = imports.get_or_insert_with(|| Imports::collect(file));
                    imports.function(&name)?.to_string()
                }
                None => return None,
            };
            let args = call.arg_list()?.args().collect::<Vec<_>>();
            let [pointer] = args.as_slice() else {
                return None;
            };
            let type_args = segment
                .generic_arg_list()
                .map(|list| type_args(&list))
                .unwrap_or_default();
            let turbofish = if function == "transmute_copy" {
                type_args.get(1).cloned()
            } else {
                type_args.first().cloned()
            };
            Some(CopyCall {
                call: expr.clone(),
                pointer: pointer.clone(),
                needs_raw_pointer: false,
                turbofish,
            })
        }
        ast::Expr::MethodCallExpr(method) => {
            let name = method.name_ref()?;
            if !READS.contains(&name.text()) || method.arg_list()?.args().next().is_some() {
                return None;
            }
            Some(CopyCall {
                call: expr.clone(),
                pointer: method.receiver()?,
                needs_raw_pointer: true,
                turbofish: None,
            })
        }
        _ => None,
    }
}

/// Follows one `let name = ..` binding when `expr` is a plain local, returning
/// the expression, its tree and the binding's declared type.
fn follow_binding<'a>(
    expr: ast::Expr,
    tree: &'a Tree,
    scope: &Scope<'a>,
) -> Option<(ast::Expr, &'a Tree, Option<ast::Type>)> {
    let Some(name) = local_name(&expr) else {
        return Some((expr, tree, None));
    };
    let binding = scope.binding_before(&name, tree.node_range(expr.syntax()).start)?;
    Some((
        peel_block(binding.initializer()?),
        scope.func_tree,
        binding.ty(),
    ))
}

/// What `expr`, a pointer or reference, points at. `hops` is how many `let`
/// bindings may still be followed.
fn pointer_origin(expr: ast::Expr, scope: &Scope<'_>, hops: u8) -> Option<Pointer> {
    match peel_block(expr) {
        ast::Expr::CastExpr(cast) => {
            let ty = match cast.ty()? {
                ast::Type::PtrType(ptr) => ptr.ty(),
                _ => return None,
            };
            let inner = pointer_origin(cast.expr()?, scope, hops)?;
            Some(Pointer {
                ty: ty.or(inner.ty),
                raw: true,
                place: inner.place,
            })
        }
        ast::Expr::RefExpr(reference) => Some(Pointer {
            place: place_of(&peel_block(reference.expr()?), scope)?,
            raw: reference.raw_token().is_some(),
            ty: None,
        }),
        ast::Expr::MacroExpr(mac) => {
            let call = mac.macro_call()?;
            let name = call.path()?.segment()?.name_ref()?.text().to_string();
            if name != "addr_of" && name != "addr_of_mut" {
                return None;
            }
            let text = compact(call.token_tree()?.syntax());
            let inner = text.strip_prefix('(')?.strip_suffix(')')?;
            Some(Pointer {
                place: place_from_text(inner, scope)?,
                raw: true,
                ty: None,
            })
        }
        ast::Expr::MethodCallExpr(method) => {
            let name = method.name_ref()?.text().to_string();
            if method.arg_list()?.args().next().is_some() {
                return None;
            }
            match name.as_str() {
                "cast" | "cast_mut" | "cast_const" => {
                    let inner = pointer_origin(method.receiver()?, scope, hops)?;
                    let ty = first_type_arg(method.generic_arg_list());
                    Some(Pointer {
                        ty: ty.or(inner.ty),
                        raw: true,
                        place: inner.place,
                    })
                }
                "as_ptr" | "as_mut_ptr" => {
                    let receiver = peel_block(method.receiver()?);
                    let owner = place_of(&receiver, scope).or_else(|| {
                        // `self.items.as_ptr()` on a `&self` receiver.
                        let pointer = pointer_origin(receiver.clone(), scope, 0)?;
                        Some(pointer.place)
                    })?;
                    // A by-value parameter is usually a pointer (`NonNull`)
                    // whose pointee nobody here is known to own.
                    if matches!(owner.root, Root::Local { param: true, .. }) {
                        return None;
                    }
                    Some(Pointer {
                        place: Place {
                            desc: format!("*{}", compact(method.syntax())),
                            root: owner.root,
                            shape: Shape::Behind,
                            ty: None,
                        },
                        raw: true,
                        ty: None,
                    })
                }
                _ => None,
            }
        }
        ast::Expr::CallExpr(call)
            if last_segment_is(&call, "from_ref") || last_segment_is(&call, "from_mut") =>
        {
            let inner = pointer_origin(single_arg(&call)?, scope, hops)?;
            Some(Pointer { raw: true, ..inner })
        }
        ast::Expr::PathExpr(path) => {
            let name = path.path()?.as_single_name_ref()?.text().to_string();
            if name == "self" {
                if !scope.self_is_ref()? {
                    return None;
                }
                return Some(Pointer {
                    place: Place {
                        desc: "*self".to_string(),
                        root: Root::Receiver,
                        shape: Shape::Whole,
                        ty: None,
                    },
                    raw: false,
                    ty: None,
                });
            }
            if let Some(param) = scope.param(&name) {
                return match param.ty()? {
                    ast::Type::RefType(reference) => Some(Pointer {
                        place: Place {
                            desc: format!("*{name}"),
                            root: Root::RefParam(name),
                            shape: Shape::Whole,
                            ty: reference.ty(),
                        },
                        raw: false,
                        ty: reference.ty(),
                    }),
                    // Moving out of a raw-pointer parameter is the documented
                    // idiom, and who owns its pointee cannot be known here.
                    _ => None,
                };
            }
            if hops == 0 {
                return None;
            }
            let binding = scope.binding(&name)?;
            let declared = binding.ty();
            let inner = pointer_origin(binding.initializer()?, scope, hops - 1)?;
            let (raw, ty) = match declared {
                Some(ast::Type::PtrType(ptr)) => (true, ptr.ty()),
                Some(ast::Type::RefType(reference)) => (inner.raw, reference.ty()),
                _ => (inner.raw, None),
            };
            Some(Pointer {
                place: inner.place,
                raw,
                ty: ty.or(inner.ty),
            })
        }
        _ => None,
    }
}

/// The place a place expression (the operand of `&`) denotes, when it is owned
/// by the receiver, a reference parameter or a local.
fn place_of(expr: &ast::Expr, scope: &Scope<'_>) -> Option<Place> {
    match expr {
        ast::Expr::PrefixExpr(prefix) if prefix.op_kind() == Some(ast::UnaryOp::Deref) => {
            let pointer = pointer_origin(prefix.expr()?, scope, 1)?;
            Some(Place {
                ty: pointer.ty.or(pointer.place.ty),
                ..pointer.place
            })
        }
        ast::Expr::FieldExpr(_) | ast::Expr::IndexExpr(_) => {
            let mut base = expr.clone();
            loop {
                base = match base {
                    ast::Expr::FieldExpr(field) => field.expr()?,
                    ast::Expr::IndexExpr(index) => index.base()?,
                    ast::Expr::ParenExpr(paren) => paren.expr()?,
                    _ => break,
                };
            }
            let root = match &base {
                ast::Expr::PrefixExpr(_) => place_of(&base, scope)?.root,
                _ => {
                    let name = local_name(&base)?;
                    if name == "self" && scope.self_is_ref()? {
                        Root::Receiver
                    } else if let Some(ast::Type::RefType(_)) =
                        scope.param(&name).and_then(|p| p.ty())
                    {
                        Root::RefParam(name)
                    } else {
                        place_of(&base, scope)?.root
                    }
                }
            };
            Some(Place {
                desc: compact(expr.syntax()),
                root,
                shape: Shape::Field,
                ty: None,
            })
        }
        ast::Expr::PathExpr(_) => {
            let name = local_name(expr)?;
            if name == "self" {
                // `&self` on a `&self` receiver copies a reference, which is `Copy`.
                if scope.self_is_ref()? {
                    return None;
                }
                return Some(local("self", true, None));
            }
            if let Some(param) = scope.param(&name) {
                return match param.ty()? {
                    // Copying a reference or raw pointer is a plain copy.
                    ast::Type::RefType(_) | ast::Type::PtrType(_) => None,
                    ty => Some(local(&name, true, Some(ty))),
                };
            }
            let binding = scope.binding(&name)?;
            let init = binding.initializer().map(peel_block);
            // A local holding a reference, pointer or literal is `Copy` data.
            if matches!(
                binding.ty(),
                Some(ast::Type::RefType(_) | ast::Type::PtrType(_))
            ) || matches!(
                init,
                Some(ast::Expr::RefExpr(_) | ast::Expr::Literal(_) | ast::Expr::CastExpr(_))
            ) {
                return None;
            }
            Some(local(&name, false, binding.ty()))
        }
        _ => None,
    }
}

fn local(name: &str, param: bool, ty: Option<ast::Type>) -> Place {
    Place {
        desc: name.to_string(),
        root: Root::Local {
            name: name.to_string(),
            param,
        },
        shape: Shape::Whole,
        ty,
    }
}

/// The place named by an `addr_of!` argument, e.g. `self.inner` or `*self`.
fn place_from_text(text: &str, scope: &Scope<'_>) -> Option<Place> {
    let body = text.trim_start_matches('*');
    let base_end = body.find(['.', '[']).unwrap_or(body.len());
    let base = &body[..base_end];
    let root = if base == "self" {
        scope.self_is_ref()?.then_some(Root::Receiver)?
    } else if let Some(ast::Type::RefType(_)) = scope.param(base).and_then(|p| p.ty()) {
        Root::RefParam(base.to_string())
    } else {
        return None;
    };
    let shape = if base_end == body.len() {
        Shape::Whole
    } else {
        Shape::Field
    };
    let desc = if shape == Shape::Whole {
        format!("*{base}")
    } else {
        body.to_string()
    };
    Some(Place {
        desc,
        root,
        shape,
        ty: None,
    })
}

/// Plain `Copy` data: primitives, raw pointers, shared references, and tuples
/// and arrays of those.
fn is_copy_type(ty: &ast::Type) -> bool {
    match ty {
        ast::Type::PtrType(_) | ast::Type::NeverType(_) => true,
        ast::Type::RefType(reference) => reference.mut_token().is_none(),
        ast::Type::ParenType(paren) => paren.ty().is_some_and(|t| is_copy_type(&t)),
        ast::Type::TupleType(tuple) => tuple.fields().all(|t| is_copy_type(&t)),
        ast::Type::ArrayType(array) => array.ty().is_some_and(|t| is_copy_type(&t)),
        ast::Type::PathType(path) => path
            .path()
            .and_then(|p| p.as_single_name_ref())
            .is_some_and(|name| crate::context::PRIMITIVES.contains(&name.text())),
        _ => false,
    }
}

/// `Copy` data as far as this file can tell: a primitive or pointer, a generic
/// parameter bounded by `Copy`, or a type of this file that derives or
/// implements `Copy`.
fn is_copy_known(ty: &ast::Type, scope: &Scope<'_>, file: &SyntaxNode) -> bool {
    if is_copy_type(ty) {
        return true;
    }
    let ast::Type::PathType(path) = ty else {
        return false;
    };
    let Some(name) = path.path().and_then(|p| p.as_single_name_ref()) else {
        return false;
    };
    let name = name.text().to_string();
    if name == "Self" {
        return impl_self_name(scope).is_some_and(|name| copy_type_in_file(file, &name));
    }
    copy_bound(scope, &name) || copy_type_in_file(file, &name)
}

/// `T: Copy` on the function, its impl or its trait.
fn copy_bound(scope: &Scope<'_>, name: &str) -> bool {
    let Some(func) = &scope.func else {
        return false;
    };
    let bounded = |bounds: Option<ast::TypeBoundList>| {
        bounds.is_some_and(|b| {
            b.bounds()
                .any(|bound| compact(bound.syntax()).rsplit("::").next() == Some("Copy"))
        })
    };
    func.syntax().ancestors().any(|ancestor| {
        ancestor.children().any(|child| {
            if let Some(params) = ast::GenericParamList::cast(child.clone()) {
                return params.type_or_const_params().any(|param| match param {
                    ast::TypeOrConstParam::Type(param) => {
                        param.name().is_some_and(|n| n.text() == name)
                            && bounded(param.type_bound_list())
                    }
                    ast::TypeOrConstParam::Const(_) => false,
                });
            }
            if let Some(clause) = ast::WhereClause::cast(child) {
                return clause.predicates().any(|pred| {
                    pred.ty().is_some_and(|ty| compact(ty.syntax()) == name)
                        && bounded(pred.type_bound_list())
                });
            }
            false
        })
    })
}

/// The name of the type the enclosing `impl` is for.
fn impl_self_name(scope: &Scope<'_>) -> Option<String> {
    let func = scope.func.as_ref()?;
    let item = func.syntax().ancestors().find_map(ast::Impl::cast)?;
    let ast::Type::PathType(path) = item.self_ty()? else {
        return None;
    };
    Some(path.path()?.segment()?.name_ref()?.text().to_string())
}

/// A struct, enum or union of this file named `name` that derives or
/// implements `Copy`.
fn copy_type_in_file(file: &SyntaxNode, name: &str) -> bool {
    file.descendants().any(|node| {
        if let Some(item) = ast::Impl::cast(node.clone()) {
            let is_copy = item
                .trait_()
                .is_some_and(|t| compact(t.syntax()).rsplit("::").next() == Some("Copy"));
            return is_copy
                && matches!(item.self_ty(), Some(ast::Type::PathType(p))
                    if p.path().and_then(|p| p.segment()).and_then(|s| s.name_ref())
                        .is_some_and(|n| n.text() == name));
        }
        let named = ast::Adt::cast(node.clone())
            .and_then(|adt| adt.name())
            .is_some_and(|n| n.text() == name);
        named
            && crate::context::attrs_of(&node).iter().any(|attr| {
                let text = crate::context::attr_text(attr);
                text.starts_with("derive(")
                    && text[7..]
                        .split([',', ')'])
                        .any(|part| part.rsplit("::").next() == Some("Copy"))
            })
    })
}

/// The declared type of `self.field` / `x.field` when the struct is in this
/// file.
fn field_type(place: &Place, scope: &Scope<'_>, file: &SyntaxNode) -> Option<ast::Type> {
    if place.shape != Shape::Field {
        return None;
    }
    let (base, field) = place.desc.split_once('.')?;
    if field.contains(['.', '[']) {
        return None;
    }
    let owner = match &place.root {
        Root::Receiver if base == "self" => impl_self_name(scope)?,
        Root::RefParam(name) if name == base => {
            let ast::Type::RefType(reference) = scope.param(name)?.ty()? else {
                return None;
            };
            let ast::Type::PathType(path) = reference.ty()? else {
                return None;
            };
            path.path()?.segment()?.name_ref()?.text().to_string()
        }
        _ => return None,
    };
    let item = file
        .descendants()
        .filter_map(ast::Struct::cast)
        .find(|s| s.name().is_some_and(|n| n.text() == owner))?;
    let ast::FieldList::RecordFieldList(fields) = item.field_list()? else {
        return None;
    };
    fields
        .fields()
        .find(|f| f.name().is_some_and(|n| n.text() == field))?
        .ty()
}

/// Which standard module a path qualifier names.
enum Module {
    Ptr,
    Mem,
}

/// What the file's `use` items bring into scope from `std::ptr` / `std::mem`.
#[derive(Debug, Default)]
struct Imports {
    /// Local names of `std::ptr` / `core::ptr`.
    ptr_modules: Vec<String>,
    /// Local names of `std::mem` / `core::mem`.
    mem_modules: Vec<String>,
    /// (local name, original name) of imported copy functions.
    functions: Vec<(String, &'static str)>,
    ptr_glob: bool,
    mem_glob: bool,
}

impl Imports {
    fn collect(file: &SyntaxNode) -> Imports {
        let mut imports = Imports::default();
        for item in file.descendants().filter_map(ast::Use::cast) {
            if let Some(tree) = item.use_tree() {
                imports.walk(&tree, &[]);
            }
        }
        imports
    }

    fn walk(&mut self, tree: &ast::UseTree, prefix: &[String]) {
        let mut full = prefix.to_vec();
        if let Some(path) = tree.path() {
            full.extend(
                path.segments()
                    .filter_map(|s| s.name_ref())
                    .map(|n| n.text().to_string()),
            );
        }
        if let Some(list) = tree.use_tree_list() {
            for child in list.use_trees() {
                self.walk(&child, &full);
            }
            return;
        }
        if full.last().is_some_and(|last| last == "self") {
            full.pop();
        }
        let std_root = full
            .first()
            .is_some_and(|first| matches!(first.as_str(), "std" | "core" | "alloc"));
        if !std_root {
            return;
        }
        let rest: Vec<&str> = full[1..].iter().map(String::as_str).collect();
        if tree.star_token().is_some() {
            match rest.as_slice() {
                ["ptr"] => self.ptr_glob = true,
                ["mem"] => self.mem_glob = true,
                _ => {}
            }
            return;
        }
        let Some(last) = rest.last() else {
            return;
        };
        let local = match tree.rename().and_then(|r| r.name()) {
            Some(name) => name.text().to_string(),
            None => last.to_string(),
        };
        match rest.as_slice() {
            ["ptr"] => self.ptr_modules.push(local),
            ["mem"] => self.mem_modules.push(local),
            ["ptr", name] => {
                if let Some(original) = READS.iter().find(|r| *r == name) {
                    self.functions.push((local, original));
                }
            }
            ["mem", "transmute_copy"] => self.functions.push((local, "transmute_copy")),
            _ => {}
        }
    }

    /// The module a qualifier names; `qualified` qualifiers (`std::ptr`) are
    /// taken at their word, a bare `ptr` must have been imported.
    fn module(&self, name: &str, qualified: bool) -> Option<Module> {
        if qualified {
            return match name {
                "ptr" => Some(Module::Ptr),
                "mem" => Some(Module::Mem),
                _ => None,
            };
        }
        if self.ptr_modules.iter().any(|m| m == name) {
            Some(Module::Ptr)
        } else if self.mem_modules.iter().any(|m| m == name) || name == "mem" {
            // `mem::` names `std::mem` in practice even when imported through
            // a prelude or re-export this file cannot see.
            Some(Module::Mem)
        } else {
            None
        }
    }

    /// The original name of an unqualified copy function in scope.
    fn function(&self, name: &str) -> Option<&'static str> {
        if let Some((_, original)) = self.functions.iter().find(|(local, _)| local == name) {
            return Some(original);
        }
        if self.ptr_glob {
            return READS.iter().find(|r| **r == name).copied();
        }
        (self.mem_glob && name == "transmute_copy").then_some("transmute_copy")
    }
}

/// Parentheses and `unsafe { }` / plain blocks: single-expression ones are
/// peeled, and a block ending in a local (`unsafe { let c = ..; c }`) yields
/// that local so its binding can be followed.
fn peel_block(expr: ast::Expr) -> ast::Expr {
    let expr = crate::context::peel(expr);
    if let ast::Expr::BlockExpr(block) = &expr
        && (block.unsafe_token().is_some() || block.modifier().is_none())
        && let Some(tail) = block.stmt_list().and_then(|s| s.tail_expr())
        && local_name(&tail).is_some()
    {
        return tail;
    }
    expr
}

fn single_arg(call: &ast::CallExpr) -> Option<ast::Expr> {
    let mut args = call.arg_list()?.args();
    let first = args.next()?;
    args.next().is_none().then_some(first)
}

fn last_segment_is(call: &ast::CallExpr, name: &str) -> bool {
    let Some(ast::Expr::PathExpr(callee)) = call.expr() else {
        return false;
    };
    callee
        .path()
        .and_then(|p| p.segment())
        .and_then(|s| s.name_ref())
        .is_some_and(|n| n.text() == name)
}

/// The name of a single-segment path expression: a local, parameter or `self`.
fn local_name(expr: &ast::Expr) -> Option<String> {
    let ast::Expr::PathExpr(path) = expr else {
        return None;
    };
    let name = path.path()?.as_single_name_ref()?;
    (name.ident_token().is_some() || name.self_token().is_some()).then(|| name.text().to_string())
}

fn type_args(list: &ast::GenericArgList) -> Vec<ast::Type> {
    list.generic_args()
        .filter_map(|arg| match arg {
            ast::GenericArg::TypeArg(arg) => arg.ty(),
            _ => None,
        })
        .collect()
}

fn first_type_arg(list: Option<ast::GenericArgList>) -> Option<ast::Type> {
    type_args(&list?).into_iter().next()
}

/// A node's text with whitespace removed.
fn compact(node: &SyntaxNode) -> String {
    let mut out = String::new();
    for token in node
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
    {
        if !token.kind().is_trivia() {
            out.push_str(token.text());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::{CrateFacts, Edition, Options, analyze};

    /// The 1-based lines this lint reports in `source`.
    fn lines(source: &str) -> Vec<usize> {
        analyze(
            source,
            Edition::Edition2024,
            &Options::default(),
            &CrateFacts::default(),
        )
        .findings
        .iter()
        .filter(|f| f.lint == super::LINT.name)
        .map(|f| source[..f.range.start].lines().count().max(1))
        .collect()
    }

    #[test]
    fn aliased_and_nested_imports() {
        let source = "use std::ptr::read as ptr_read;\n\
            use std::{ptr as p, sync::Arc};\n\
            impl S {\n\
            fn a(&self) -> Arc<S> { Arc::new(unsafe { ptr_read(self) }) }\n\
            fn b(&self) -> Arc<S> { Arc::new(unsafe { p::read(self) }) }\n\
            }\n";
        assert_eq!(lines(source), [4, 5]);
    }

    #[test]
    fn glob_import() {
        let source = "use std::ptr::*;\n\
            fn a(s: &S) -> Arc<S> { Arc::new(unsafe { read_unaligned(s) }) }\n";
        assert_eq!(lines(source), [2]);
    }

    #[test]
    fn crate_local_ptr_module_is_not_std() {
        let source = "mod ptr { pub fn read(s: &super::S) -> super::S { s.dup() } }\n\
            fn a(s: &S) -> Arc<S> { Arc::new(ptr::read(s)) }\n\
            fn b(s: &S) -> Arc<S> { Arc::new(read(s)) }\n";
        assert_eq!(lines(source), Vec::<usize>::new());
    }

    #[test]
    fn copying_a_reference_is_fine() {
        let source = "use std::ptr;\n\
            impl S { fn a(&self) -> Arc<&S> { Arc::new(unsafe { ptr::read(&self) }) } }\n\
            fn b(s: &S) -> Arc<&S> { Arc::new(unsafe { ptr::read(&s) }) }\n";
        assert_eq!(lines(source), Vec::<usize>::new());
    }

    #[test]
    fn typed_binding_of_copy_data() {
        let source = "use std::ptr;\n\
            impl S { fn a(&self) -> Arc<u64> {\n\
            let n: u64 = unsafe { ptr::read(self as *const S as *const _) };\n\
            Arc::new(n) } }\n";
        assert_eq!(lines(source), Vec::<usize>::new());
    }

    #[test]
    fn block_tail_and_closure() {
        let source = "use std::ptr;\n\
            impl S {\n\
            fn a(&self) -> Arc<S> { Arc::new(unsafe { let c = ptr::read(self); c }) }\n\
            fn b(&self) -> impl Fn() -> Arc<S> + '_ { move || Arc::new(unsafe { ptr::read(self) }) }\n\
            }\n";
        assert_eq!(lines(source), [3, 4]);
    }

    #[test]
    fn by_value_self_forgotten() {
        let source = "use std::{mem, ptr};\n\
            impl S {\n\
            fn a(self) -> Arc<S> { let a = Arc::new(unsafe { ptr::read(&self) }); mem::forget(self); a }\n\
            fn b(self) -> Arc<S> { Arc::new(unsafe { ptr::read(&self) }) }\n\
            }\n";
        assert_eq!(lines(source), [4]);
    }

    #[test]
    fn other_constructors_and_lock_reads() {
        let source = "use std::ptr;\n\
            impl S {\n\
            fn a(&self) -> Arc<Mutex<S>> { Arc::new(Mutex::new(self.make())) }\n\
            fn b(&self) -> Arc<Vec<u8>> { Arc::new(self.lock.read()) }\n\
            fn c(&self) -> Box<S> { Box::new(unsafe { ptr::read(self) }) }\n\
            }\n";
        assert_eq!(lines(source), Vec::<usize>::new());
    }
}
