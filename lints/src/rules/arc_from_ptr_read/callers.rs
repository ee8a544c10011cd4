//! The crate-wide half of the fix: find every call of the changed function
//! in the crate and decide, from declarations alone, whether it already
//! passes an `Arc<T>` (nothing to do: auto-deref and `&Arc<T>` arguments
//! keep compiling), passes `&*arc` (rewritten to `&arc`), or cannot be
//! migrated mechanically (the fix becomes unsafe and the call site is named).

use super::fix::Target;
use super::types::{self, SHARED, Ty};
use crate::trees::{self, Tree};
use crate::{Applicability, CrateContext, Edit, Finding};
use ra_ap_syntax::ast::{self, AstNode, HasArgList, HasName, HasVisibility};
use ra_ap_syntax::{SourceFile, SyntaxKind, SyntaxNode};
use std::cell::OnceCell;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::Path;

pub(super) fn complete(finding: &mut Finding, ctx: &CrateContext<'_>) {
    let Some(request) = finding.crate_fix.take() else {
        return;
    };
    let Some(target) = Target::decode(&request.data) else {
        // A payload this module did not write: never apply half a fix.
        finding.fix = None;
        return;
    };
    let Some(fix) = finding.fix.as_mut() else {
        return;
    };
    let krate = Crate::new(ctx);
    // Each problem says whether the call certainly stops compiling.
    let mut problems: Vec<(String, bool)> = Vec::new();
    let mut edits: Vec<Edit> = Vec::new();
    // The chain: the target first, then every `&self` method that hands its
    // `self` to something already migrated, which must hold the `Arc` too.
    let mut targets: Vec<Target> = vec![target];
    let mut migrated: Vec<String> = Vec::new();
    let mut at = 0;
    while let Some(current) = targets.get(at) {
        let current = current.clone();
        at += 1;
        for (index, (path, text)) in ctx.files.iter().enumerate() {
            if !text.contains(current.name.as_str()) {
                continue;
            }
            let own = path.as_path() == ctx.file;
            let scan = Scan {
                krate: &krate,
                target: &current,
                file: index,
                own,
                text,
            };
            for site in scan.run() {
                let position = display_position(path, text, site.offset);
                let breaks = matches!(site.verdict, Verdict::Breaks(_));
                match site.verdict {
                    Verdict::Fine => {}
                    Verdict::Bad(reason) | Verdict::Breaks(reason) => match site.step {
                        Some(step) if targets.iter().any(|t| step.is(t)) => {}
                        Some(step) if targets.len() < MAX_CHAIN => {
                            let family = family_path(text, &current.family);
                            edits.push(Edit {
                                file: (!own).then(|| path.clone()),
                                range: step.self_param.clone(),
                                replacement: format!("self: &{family}<Self>"),
                            });
                            migrated.push(format!("`{}::{}`", step.owner, step.name));
                            targets.push(step.into_target(&current, index));
                        }
                        _ => problems.push((format!("{position}: {reason}"), breaks)),
                    },
                    Verdict::Edit(range, replacement) => edits.push(Edit {
                        file: (!own).then(|| path.clone()),
                        range,
                        replacement,
                    }),
                }
            }
        }
        if current.public && krate.exported(&current) {
            problems.push((
                format!(
                    "`{}` is public: callers outside this crate must pass an `{}<{}>` too",
                    current.display(),
                    current.family,
                    current.pointee
                ),
                false,
            ));
        }
    }
    edits.dedup();
    if !migrated.is_empty() {
        let family = &targets[0].family;
        fix.message = format!(
            "{}, and take `self: &{family}<Self>` in {} up the call chain",
            fix.message,
            migrated.join(", ")
        );
    }
    // A call-site edit that touches the in-file edits (a call inside the
    // changed expression) would make the fix overlap itself.
    edits.retain(|edit| {
        let clash = edit.file.is_none()
            && fix
                .edits
                .iter()
                .any(|own| own.range.start < edit.range.end && edit.range.start < own.range.end);
        !clash
    });
    let call_sites = edits.len().saturating_sub(migrated.len());
    if call_sites > 0 {
        fix.message = format!(
            "{}, and lend the `{}` at {call_sites} call site{}",
            fix.message,
            targets[0].family,
            if call_sites == 1 { "" } else { "s" }
        );
    }
    fix.edits.extend(edits);
    if !problems.is_empty() {
        // A call that certainly stops compiling makes the fix a suggestion
        // only: an unsafe fix that cannot compile is not offered.
        let breaks = problems.iter().any(|(_, breaks)| *breaks);
        fix.applicability = fix.applicability.min(if breaks {
            Applicability::DisplayOnly
        } else {
            Applicability::Unsafe
        });
        finding
            .notes
            .extend(problems.into_iter().map(|(problem, certain)| {
                if certain {
                    format!("no automatic fix: the change would break this call: {problem}")
                } else {
                    format!("the fix is unsafe: {problem}")
                }
            }));
    }
}

/// `path:12:9`, the path as the caller gave it (absolute in `temper check`,
/// which shows it relative to the current directory, as in every header).
fn display_position(path: &Path, text: &str, offset: usize) -> String {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before, |i| &before[i + 1..])
        .chars()
        .count()
        + 1;
    let shown = path.to_string_lossy().replace('\\', "/");
    format!("{shown}:{line}:{column}")
}

/// What a call site needs.
enum Verdict {
    Fine,
    /// The call may stop compiling: the fix is unsafe.
    Bad(String),
    /// The call certainly stops compiling (a plain value, an `Rc` where the
    /// fix needs an `Arc`, a `&mut self` caller): the fix is not offered.
    Breaks(String),
    Edit(Range<usize>, String),
}

struct Site {
    offset: usize,
    verdict: Verdict,
    /// A bad site that passes `self` from a `&self` method of the pointee
    /// type: that method can take `self: &Arc<Self>` instead.
    step: Option<Step>,
}

/// How many methods a receiver change is carried up through, so a fix stays
/// reviewable and a cycle of calls ends.
const MAX_CHAIN: usize = 8;

/// A `&self` method that must take `self: &Arc<Self>` for a call in it to
/// compile after the fix.
struct Step {
    owner: String,
    name: String,
    /// The method's range in its file.
    span: Range<usize>,
    /// `&self`, to replace.
    self_param: Range<usize>,
    public: bool,
}

impl Step {
    fn is(&self, target: &Target) -> bool {
        target.owner.as_deref() == Some(self.owner.as_str())
            && target.name == self.name
            && target.param.is_none()
    }

    fn into_target(self, from: &Target, file: usize) -> Target {
        Target {
            family: from.family.clone(),
            name: self.name,
            owner: Some(self.owner),
            param: None,
            has_self: true,
            public: self.public,
            span: self.span,
            pointee: from.pointee.clone(),
            file: Some(file),
        }
    }
}

/// `Arc` where the file imports it, else its full path.
fn family_path(text: &str, family: &str) -> String {
    let module = if family == "Rc" { "rc" } else { "sync" };
    let imported = text.lines().any(|line| {
        let line = line.trim();
        line.starts_with("use ")
            && (line.contains(&format!("std::{module}::{family};"))
                || (line.contains(&format!("std::{module}::{{"))
                    && line
                        .split(['{', '}', ',', ' ', ';'])
                        .any(|part| part == family)))
    });
    if imported {
        family.to_string()
    } else {
        format!("std::{module}::{family}")
    }
}

/// The crate's files, parsed on demand, and what their declarations say.
struct Crate<'c> {
    ctx: &'c CrateContext<'c>,
    parsed: Vec<OnceCell<SourceFile>>,
    index: OnceCell<Index>,
}

#[derive(Default)]
struct Index {
    /// Struct name → field name → type; `None` when two structs share a name.
    structs: HashMap<String, Option<HashMap<String, Ty>>>,
    /// Every struct, enum, union and alias name of the crate.
    types: HashSet<String>,
    /// Types declared plain `pub`.
    public_types: HashSet<String>,
    /// (impl type, function) → return type; `None` when ambiguous.
    fns: HashMap<(Option<String>, String), Option<Ty>>,
    aliases: HashMap<String, Ty>,
}

impl<'c> Crate<'c> {
    fn new(ctx: &'c CrateContext<'c>) -> Crate<'c> {
        Crate {
            ctx,
            parsed: ctx.files.iter().map(|_| OnceCell::new()).collect(),
            index: OnceCell::new(),
        }
    }

    fn file(&self, index: usize) -> &SourceFile {
        self.parsed[index]
            .get_or_init(|| SourceFile::parse(&self.ctx.files[index].1, self.ctx.edition).tree())
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| {
            let mut index = Index::default();
            for i in 0..self.ctx.files.len() {
                index.add(self.file(i).syntax());
            }
            index
        })
    }

    /// Whether a `pub` function is reachable from outside the crate as far
    /// as declarations tell: a method of a private type is not.
    fn exported(&self, target: &Target) -> bool {
        match &target.owner {
            Some(owner) => {
                let index = self.index();
                index.public_types.contains(owner) || !index.types.contains(owner)
            }
            None => true,
        }
    }
}

impl Index {
    fn add(&mut self, root: &SyntaxNode) {
        for node in root.descendants() {
            if let Some(item) = ast::Struct::cast(node.clone()) {
                let Some(name) = item.name().map(|n| n.text().to_string()) else {
                    continue;
                };
                self.add_type(&name, item.visibility());
                let mut fields = HashMap::new();
                if let Some(ast::FieldList::RecordFieldList(list)) = item.field_list() {
                    for field in list.fields() {
                        if let (Some(field_name), Some(ty)) = (field.name(), field.ty()) {
                            fields.insert(
                                field_name.text().to_string(),
                                types::from_ast(&ty, Some(&name)),
                            );
                        }
                    }
                }
                let entry = self.structs.entry(name).or_insert(Some(HashMap::new()));
                *entry = match entry.take() {
                    Some(existing) if existing.is_empty() => Some(fields),
                    _ => None,
                };
            } else if let Some(item) = ast::Enum::cast(node.clone()) {
                if let Some(name) = item.name() {
                    self.add_type(name.text(), item.visibility());
                }
            } else if let Some(item) = ast::Union::cast(node.clone()) {
                if let Some(name) = item.name() {
                    self.add_type(name.text(), item.visibility());
                }
            } else if let Some(item) = ast::TypeAlias::cast(node.clone()) {
                // Associated types of traits are not aliases of the crate.
                if item
                    .syntax()
                    .parent()
                    .and_then(ast::AssocItemList::cast)
                    .is_some()
                {
                    continue;
                }
                if let (Some(name), Some(ty)) = (item.name(), item.ty()) {
                    self.add_type(name.text(), item.visibility());
                    self.aliases
                        .insert(name.text().to_string(), types::from_ast(&ty, None));
                }
            } else if let Some(func) = ast::Fn::cast(node) {
                let Some(name) = func.name() else {
                    continue;
                };
                let owner = types::owning_impl(&func).and_then(|item| types::impl_name(&item));
                // Functions nested in bodies are not callable from elsewhere.
                if owner.is_none()
                    && func.syntax().parent().is_some_and(|p| {
                        p.kind() != SyntaxKind::ITEM_LIST && p.kind() != SyntaxKind::SOURCE_FILE
                    })
                {
                    continue;
                }
                let ret = match func.ret_type().and_then(|r| r.ty()) {
                    Some(ty) => types::from_ast(&ty, owner.as_deref()),
                    None => Ty::named("()", Vec::new()),
                };
                self.fns
                    .entry((owner, name.text().to_string()))
                    .and_modify(|existing| {
                        if existing.as_ref() != Some(&ret) {
                            *existing = None;
                        }
                    })
                    .or_insert(Some(ret));
            }
        }
    }

    fn add_type(&mut self, name: &str, visibility: Option<ast::Visibility>) {
        self.types.insert(name.to_string());
        if visibility.is_some_and(|v| v.pub_token().is_some() && v.visibility_inner().is_none()) {
            self.public_types.insert(name.to_string());
        }
    }

    /// Replaces aliases by what they name (a few levels deep).
    fn resolve(&self, ty: Ty) -> Ty {
        let mut ty = ty;
        for _ in 0..4 {
            match &ty {
                Ty::Named(name, args) if args.is_empty() => match self.aliases.get(name) {
                    Some(aliased) => ty = aliased.clone(),
                    None => return ty,
                },
                _ => return ty,
            }
        }
        ty
    }

    fn field(&self, owner: &Ty, field: &str) -> Ty {
        let Some(name) = owner.auto_deref().name() else {
            return Ty::Unknown;
        };
        self.structs
            .get(name)
            .and_then(|fields| fields.as_ref())
            .and_then(|fields| fields.get(field))
            .cloned()
            .map_or(Ty::Unknown, |ty| self.resolve(ty))
    }

    fn returns(&self, owner: Option<&str>, name: &str) -> Ty {
        self.fns
            .get(&(owner.map(str::to_string), name.to_string()))
            .and_then(Clone::clone)
            .map_or(Ty::Unknown, |ty| self.resolve(ty))
    }
}

/// One file's call sites of the target.
struct Scan<'s> {
    krate: &'s Crate<'s>,
    target: &'s Target,
    file: usize,
    /// The linted file: calls inside the changed function see its new
    /// signature.
    own: bool,
    text: &'s str,
}

impl Scan<'_> {
    fn run(&self) -> Vec<Site> {
        let file = self.krate.file(self.file);
        let trees = trees::collect(
            file,
            self.krate.ctx.edition,
            std::slice::from_ref(&self.target.name),
        );
        let mut sites = Vec::new();
        // Identifiers the re-parsed trees account for; any other occurrence
        // inside a macro's tokens is a call temper cannot judge.
        let mut seen_in_macros: HashSet<usize> = HashSet::new();
        for tree in &trees {
            for node in tree.root.descendants() {
                if tree.is_macro()
                    && let Some(name) = ast::NameRef::cast(node.clone())
                    && name.text() == self.target.name
                {
                    seen_in_macros.insert(tree.node_range(name.syntax()).start);
                }
                if let Some(site) = self.site(&trees, tree, &node) {
                    sites.push(site);
                }
            }
        }
        for token in file
            .syntax()
            .descendants_with_tokens()
            .filter_map(|e| e.into_token())
        {
            let offset = usize::from(token.text_range().start());
            if token.kind() != SyntaxKind::IDENT
                || token.text() != self.target.name
                || seen_in_macros.contains(&offset)
            {
                continue;
            }
            let Some(mac) = token.parent_ancestors().find_map(ast::MacroCall::cast) else {
                continue;
            };
            let name = trees::macro_name(&mac).unwrap_or_default();
            sites.push(Site {
                offset,
                verdict: Verdict::Bad(format!(
                    "`{}` is used inside `{name}!`, whose arguments temper cannot check",
                    self.target.name
                )),
                step: None,
            });
        }
        sites
    }

    fn site(&self, trees: &[Tree], tree: &Tree, node: &SyntaxNode) -> Option<Site> {
        let target = self.target;
        if let Some(call) = ast::MethodCallExpr::cast(node.clone()) {
            let name = call.name_ref()?;
            if name.text() != target.name || !target.has_self {
                return None;
            }
            let offset = tree.node_range(name.syntax()).start;
            let env = Env::of(self, trees, tree, call.syntax());
            let receiver = call.receiver()?;
            let receiver_ty = env.infer(&receiver);
            let (verdict, passed) = match target.param {
                None => (self.judge_receiver(&receiver_ty), receiver),
                Some(index) => {
                    if matches!(self.judge_receiver(&receiver_ty), Judged::NotOurs) {
                        return None;
                    }
                    let arg = call.arg_list()?.args().nth(index)?;
                    (self.judge_arg(&env, &arg), arg)
                }
            };
            let verdict = match verdict {
                Judged::NotOurs => return None,
                Judged::Verdict(v) => v,
            };
            let (verdict, step) = env.chain(verdict, &passed);
            return Some(Site {
                offset,
                verdict,
                step,
            });
        }
        let path_expr = ast::PathExpr::cast(node.clone())?;
        let path = path_expr.path()?;
        let segment = path.segment()?.name_ref()?;
        if segment.text() != target.name || !self.names_target(tree, &path) {
            return None;
        }
        let offset = tree.node_range(segment.syntax()).start;
        let call = path_expr
            .syntax()
            .parent()
            .and_then(ast::CallExpr::cast)
            .filter(|call| {
                call.expr()
                    .is_some_and(|e| e.syntax() == path_expr.syntax())
            });
        let Some(call) = call else {
            // A local variable that shares the function's name.
            if path.qualifier().is_none() && binds_locally(tree, path_expr.syntax(), &target.name) {
                return None;
            }
            return Some(Site {
                offset,
                verdict: Verdict::Bad(format!(
                    "`{}` is used as a function value, whose type changes",
                    target.display()
                )),
                step: None,
            });
        };
        let position = match target.param {
            None => 0,
            Some(index) => index + usize::from(target.has_self),
        };
        let env = Env::of(self, trees, tree, call.syntax());
        let arg = call.arg_list()?.args().nth(position)?;
        let verdict = match self.judge_arg(&env, &arg) {
            Judged::NotOurs => return None,
            Judged::Verdict(v) => v,
        };
        let (verdict, step) = env.chain(verdict, &arg);
        Some(Site {
            offset,
            verdict,
            step,
        })
    }

    /// Whether a path ending in the target's name names the target:
    /// `Owner::name` / `Self::name` inside `impl Owner` for associated items,
    /// a plain or module-qualified path for free functions.
    fn names_target(&self, tree: &Tree, path: &ast::Path) -> bool {
        let qualifier = path.qualifier();
        match &self.target.owner {
            Some(owner) => {
                let Some(last) = qualifier
                    .and_then(|q| q.segment())
                    .and_then(|s| s.name_ref())
                else {
                    return false;
                };
                let text = last.text();
                if text == "Self" {
                    return tree
                        .ancestors(path.syntax())
                        .into_iter()
                        .find_map(ast::Impl::cast)
                        .and_then(|item| types::impl_name(&item))
                        .is_some_and(|name| &name == owner);
                }
                text == owner.as_str()
                    || self
                        .krate
                        .index()
                        .resolve(Ty::named(text, Vec::new()))
                        .name()
                        .is_some_and(|n| n == owner)
            }
            None => qualifier.is_none_or(|q| {
                // `Type::name` is an associated function, not this free one.
                q.segment()
                    .and_then(|s| s.name_ref())
                    .is_none_or(|n| !n.text().starts_with(char::is_uppercase))
            }),
        }
    }

    /// A method call's receiver when the changed binding is `self`.
    fn judge_receiver(&self, ty: &Ty) -> Judged {
        let target = self.target;
        let owner = target.owner.as_deref().unwrap_or(&target.pointee);
        let base = ty.strip_refs();
        if let Some(family) = base.owner_family() {
            let inner = base.arg(0);
            if family == target.family || family == SHARED {
                return Judged::Verdict(Verdict::Fine);
            }
            if inner.strip_refs().name() == Some(owner) {
                return Judged::Verdict(Verdict::Breaks(format!(
                    "receiver is an `{family}<{owner}>`, not an `{}<{owner}>`",
                    target.family
                )));
            }
            return match inner {
                Ty::Unknown => Judged::Verdict(Verdict::Bad(self.unknown_receiver())),
                _ => Judged::NotOurs,
            };
        }
        match base {
            Ty::Named(name, _) if name == owner => {
                Judged::Verdict(Verdict::Breaks(self.not_shared("receiver")))
            }
            // `Box<Catalog>`, a guard or wrapper of one: derefs to the value
            // without an `Arc` in between.
            Ty::Named(_, _) if base.mentions(owner) => {
                Judged::Verdict(Verdict::Breaks(self.not_shared("receiver")))
            }
            Ty::Named(_, _) | Ty::Foreign(_) => Judged::NotOurs,
            Ty::Ref(_) | Ty::Unknown => Judged::Verdict(Verdict::Bad(self.unknown_receiver())),
        }
    }

    /// The argument passed for the changed `&T` parameter.
    fn judge_arg(&self, env: &Env<'_>, arg: &ast::Expr) -> Judged {
        let target = self.target;
        // `&*arc` (or `&**arc_ref`) lends the value out of an `Arc` the
        // caller holds: lend the `Arc` instead.
        if let ast::Expr::RefExpr(reference) = arg
            && reference.mut_token().is_none()
            && reference.raw_token().is_none()
            && let Some(mut inner) = reference.expr()
        {
            let mut derefs = 0usize;
            while let ast::Expr::PrefixExpr(prefix) = &inner
                && prefix.op_kind() == Some(ast::UnaryOp::Deref)
                && let Some(next) = prefix.expr()
            {
                derefs += 1;
                inner = next;
            }
            if derefs > 0 {
                let mut ty = env.infer(&inner);
                for kept in 0..derefs {
                    if ty
                        .owner_family()
                        .is_some_and(|f| f == target.family || f == SHARED)
                    {
                        let text = env.text(inner.syntax());
                        return Judged::Verdict(Verdict::Edit(
                            env.tree.node_range(arg.syntax()),
                            format!("&{}{text}", "*".repeat(kept)),
                        ));
                    }
                    ty = ty.deref();
                }
            }
        }
        let ty = env.infer(arg);
        let Ty::Ref(_) = &ty else {
            return Judged::Verdict(Verdict::Bad(self.unknown_arg()));
        };
        let base = ty.strip_refs();
        match base.owner_family() {
            Some(family) if family == target.family || family == SHARED => {
                Judged::Verdict(Verdict::Fine)
            }
            Some(family) => Judged::Verdict(Verdict::Breaks(format!(
                "argument is an `&{family}<{}>`, not an `&{}<{}>`",
                target.pointee, target.family, target.pointee
            ))),
            None => match base {
                Ty::Unknown => Judged::Verdict(Verdict::Bad(self.unknown_arg())),
                _ => Judged::Verdict(Verdict::Breaks(self.not_shared("argument"))),
            },
        }
    }

    fn not_shared(&self, what: &str) -> String {
        let target = self.target;
        match what {
            "argument" => format!(
                "argument is not an `&{}<{}>`",
                target.family, target.pointee
            ),
            _ => format!("{what} is not an `{}<{}>`", target.family, target.pointee),
        }
    }

    fn unknown_receiver(&self) -> String {
        format!(
            "cannot tell whether the receiver is an `{}<{}>`",
            self.target.family, self.target.pointee
        )
    }

    fn unknown_arg(&self) -> String {
        format!(
            "cannot tell whether the argument is an `&{}<{}>`",
            self.target.family, self.target.pointee
        )
    }
}

enum Judged {
    /// Not a call of the target (a method of the same name on another type).
    NotOurs,
    Verdict(Verdict),
}

/// Where an expression is: its tree and the function around it, for
/// looking up the bindings it names.
struct Env<'e> {
    scan: &'e Scan<'e>,
    tree: &'e Tree,
    /// The file's own tree, where bindings live.
    file_tree: &'e Tree,
    func: Option<ast::Fn>,
    self_name: Option<String>,
    /// File offset of the expression being judged: bindings after it do not
    /// count.
    at: usize,
    /// The function is the one being changed.
    changed: bool,
}

impl<'e> Env<'e> {
    fn of(scan: &'e Scan<'e>, trees: &'e [Tree], tree: &'e Tree, node: &SyntaxNode) -> Env<'e> {
        let func = tree
            .ancestors(node)
            .into_iter()
            .find_map(ast::Fn::cast)
            .filter(|f| f.name().is_some_and(|n| n.text() != "__temper_macro_args"));
        let self_name = func
            .as_ref()
            .and_then(|f| f.syntax().ancestors().find_map(ast::Impl::cast))
            .and_then(|item| types::impl_name(&item));
        let in_target_file = match scan.target.file {
            Some(file) => scan.file == file,
            None => scan.own,
        };
        let changed = in_target_file
            && func.as_ref().is_some_and(|f| {
                let range = f.syntax().text_range();
                usize::from(range.start()) == scan.target.span.start
                    && usize::from(range.end()) == scan.target.span.end
            });
        Env {
            scan,
            tree,
            file_tree: trees.first().unwrap_or(tree),
            func,
            self_name,
            at: tree.node_range(node).start,
            changed,
        }
    }

    fn index(&self) -> &Index {
        self.scan.krate.index()
    }

    /// A bad verdict on `self` either becomes a step up the call chain, or
    /// says why the chain stops there.
    fn chain(&self, verdict: Verdict, passed: &ast::Expr) -> (Verdict, Option<Step>) {
        if !matches!(verdict, Verdict::Bad(_) | Verdict::Breaks(_)) {
            return (verdict, None);
        }
        if let Some(step) = self.step(passed) {
            return (verdict, Some(step));
        }
        let mutable = passed.syntax().text() == "self"
            && self
                .func
                .as_ref()
                .and_then(|f| f.param_list())
                .and_then(|l| l.self_param())
                .is_some_and(|p| p.mut_token().is_some() && p.amp_token().is_some());
        let name = self.func.as_ref().and_then(|f| f.name());
        match (mutable, name, &self.self_name) {
            (true, Some(name), Some(owner)) => (
                Verdict::Breaks(format!(
                    "`{owner}::{name}` has `&mut self`, which cannot become a shared `self: &{}<Self>`",
                    self.scan.target.family
                )),
                None,
            ),
            _ => (verdict, None),
        }
    }

    /// The enclosing method, when `passed` is its `self` and it is an
    /// inherent `&self` method of the pointee type: taking `self: &Arc<Self>`
    /// there makes `passed` an `&Arc<T>`. `&mut self` cannot become shared,
    /// and a trait method's receiver is the trait's to choose.
    fn step(&self, passed: &ast::Expr) -> Option<Step> {
        if self.changed || passed.syntax().text() != "self" || self.tree.is_macro() {
            return None;
        }
        let func = self.func.as_ref()?;
        let owner = self.self_name.clone()?;
        if owner != self.scan.target.pointee {
            return None;
        }
        let item = func.syntax().ancestors().find_map(ast::Impl::cast)?;
        if item.trait_().is_some() {
            return None;
        }
        let param = func.param_list()?.self_param()?;
        if param.amp_token().is_none() || param.mut_token().is_some() || param.ty().is_some() {
            return None;
        }
        let public = func
            .visibility()
            .is_some_and(|v| v.pub_token().is_some() && v.visibility_inner().is_none());
        Some(Step {
            owner,
            name: func.name()?.text().to_string(),
            span: self.file_tree.node_range(func.syntax()),
            self_param: self.file_tree.node_range(param.syntax()),
            public,
        })
    }

    fn text(&self, node: &SyntaxNode) -> String {
        self.scan
            .text
            .get(self.tree.node_range(node))
            .unwrap_or_default()
            .to_string()
    }

    fn convert(&self, ty: &ast::Type) -> Ty {
        self.index()
            .resolve(types::from_ast(ty, self.self_name.as_deref()))
    }

    /// The changed binding's type after the fix: `&Arc<T>`.
    fn shared_ref(&self) -> Ty {
        let target = &self.scan.target;
        Ty::Ref(Box::new(Ty::named(
            &target.family,
            vec![Ty::named(&target.pointee, Vec::new())],
        )))
    }

    fn infer(&self, expr: &ast::Expr) -> Ty {
        self.infer_depth(expr, 0)
    }

    fn infer_depth(&self, expr: &ast::Expr, depth: u8) -> Ty {
        // Bindings refer to bindings; a cap keeps cycles and long chains cheap.
        if depth > 8 {
            return Ty::Unknown;
        }
        let next = |e: &ast::Expr| self.infer_depth(e, depth + 1);
        match expr {
            ast::Expr::ParenExpr(paren) => paren.expr().map_or(Ty::Unknown, |e| next(&e)),
            ast::Expr::RefExpr(reference) => {
                Ty::Ref(Box::new(reference.expr().map_or(Ty::Unknown, |e| next(&e))))
            }
            ast::Expr::PrefixExpr(prefix) if prefix.op_kind() == Some(ast::UnaryOp::Deref) => {
                prefix.expr().map_or(Ty::Unknown, |e| next(&e).deref())
            }
            ast::Expr::AwaitExpr(inner) => inner.expr().map_or(Ty::Unknown, |e| next(&e)),
            ast::Expr::TryExpr(inner) => inner.expr().map_or(Ty::Unknown, |e| next(&e).unwrapped()),
            ast::Expr::BlockExpr(block) => block
                .stmt_list()
                .and_then(|s| s.tail_expr())
                .map_or(Ty::Unknown, |e| next(&e)),
            ast::Expr::RecordExpr(record) => record
                .path()
                .and_then(|p| p.segment())
                .and_then(|s| s.name_ref())
                .map_or(Ty::Unknown, |name| self.named_value(name.text())),
            ast::Expr::FieldExpr(field) => {
                let (Some(base), Some(name)) = (field.expr(), field.name_ref()) else {
                    return Ty::Unknown;
                };
                self.index().field(&next(&base), name.text())
            }
            ast::Expr::IndexExpr(index) => {
                let base = index.base().map_or(Ty::Unknown, |e| next(&e));
                let base = base.auto_deref().clone();
                match base.name() {
                    Some("HashMap" | "BTreeMap") => base.arg(1),
                    _ => base.element(),
                }
            }
            ast::Expr::PathExpr(path) => self.path_value(path, depth),
            ast::Expr::CallExpr(call) => self.call_value(call, depth),
            ast::Expr::MethodCallExpr(call) => self.method_value(call, depth),
            _ => Ty::Unknown,
        }
    }

    /// A struct literal or unit value of type `name`.
    fn named_value(&self, name: &str) -> Ty {
        let name = if name == "Self" {
            match &self.self_name {
                Some(own) => own.clone(),
                None => return Ty::Unknown,
            }
        } else {
            name.to_string()
        };
        self.index().resolve(Ty::named(&name, Vec::new()))
    }

    fn path_value(&self, path: &ast::PathExpr, depth: u8) -> Ty {
        let Some(name) = path.path().and_then(|p| p.as_single_name_ref()) else {
            return Ty::Unknown;
        };
        let name = name.text().to_string();
        let Some(func) = &self.func else {
            return Ty::Unknown;
        };
        if name == "self" {
            if self.changed && self.scan.target.param.is_none() {
                return self.shared_ref();
            }
            let Some(param) = func.param_list().and_then(|l| l.self_param()) else {
                return Ty::Unknown;
            };
            let own = self
                .self_name
                .as_deref()
                .map_or(Ty::Unknown, |n| Ty::named(n, Vec::new()));
            return match param.ty() {
                Some(ty) => self.convert(&ty),
                None if param.amp_token().is_some() => Ty::Ref(Box::new(own)),
                None => own,
            };
        }
        self.binding(func, &name, depth)
    }

    /// The type of the binding `name` visible at the expression: the
    /// innermost `let`, `for`, `if let` or closure parameter before it, else
    /// the function's parameter.
    fn binding(&self, func: &ast::Fn, name: &str, depth: u8) -> Ty {
        let at = self.at;
        let mut best: Option<(usize, Ty)> = None;
        let mut consider = |start: usize, scope: Option<SyntaxNode>, ty: &dyn Fn() -> Ty| {
            let Some(scope) = scope else {
                return;
            };
            let range = scope.text_range();
            let covers = usize::from(range.start()) <= at && at < usize::from(range.end());
            if start < at && covers && best.as_ref().is_none_or(|(s, _)| *s < start) {
                best = Some((start, ty()));
            }
        };
        if let Some(body) = func.body() {
            for node in body.syntax().descendants() {
                let start = usize::from(node.text_range().start());
                if start >= at {
                    break;
                }
                if let Some(stmt) = ast::LetStmt::cast(node.clone()) {
                    let Some(pat) = stmt.pat() else {
                        continue;
                    };
                    let scope = stmt.syntax().parent();
                    let end = usize::from(stmt.syntax().text_range().end());
                    if end > at {
                        continue;
                    }
                    match bound_by(&pat, name) {
                        Some(Bound::Whole) => consider(start, scope, &|| match stmt.ty() {
                            Some(ty) => self.convert(&ty),
                            None => stmt
                                .initializer()
                                .map_or(Ty::Unknown, |e| self.in_file(&e, depth)),
                        }),
                        Some(Bound::Unwrapped) => consider(start, scope, &|| {
                            stmt.initializer()
                                .map_or(Ty::Unknown, |e| self.in_file(&e, depth).unwrapped())
                        }),
                        None => {}
                    }
                } else if let Some(each) = ast::ForExpr::cast(node.clone()) {
                    let Some(pat) = each.pat() else {
                        continue;
                    };
                    if let Some(Bound::Whole) = bound_by(&pat, name) {
                        let scope = ast::HasLoopBody::loop_body(&each).map(|b| b.syntax().clone());
                        consider(start, scope, &|| {
                            each.iterable()
                                .map_or(Ty::Unknown, |e| self.in_file(&e, depth).element())
                        });
                    }
                } else if let Some(cond) = ast::LetExpr::cast(node.clone()) {
                    let Some(pat) = cond.pat() else {
                        continue;
                    };
                    let Some(bound) = bound_by(&pat, name) else {
                        continue;
                    };
                    let scope = cond.syntax().ancestors().find_map(|a| {
                        if let Some(branch) = ast::IfExpr::cast(a.clone()) {
                            return branch.then_branch().map(|b| b.syntax().clone());
                        }
                        ast::WhileExpr::cast(a)
                            .and_then(|w| ast::HasLoopBody::loop_body(&w))
                            .map(|b| b.syntax().clone())
                    });
                    consider(start, scope, &|| {
                        let ty = cond.expr().map_or(Ty::Unknown, |e| self.in_file(&e, depth));
                        match bound {
                            Bound::Whole => ty,
                            Bound::Unwrapped => ty.unwrapped(),
                        }
                    });
                } else if let Some(closure) = ast::ClosureExpr::cast(node.clone()) {
                    let Some(params) = closure.param_list() else {
                        continue;
                    };
                    for param in params.params() {
                        let Some(Bound::Whole) = param.pat().and_then(|p| bound_by(&p, name))
                        else {
                            continue;
                        };
                        let scope = closure.body().map(|b| b.syntax().clone());
                        consider(start, scope, &|| {
                            param.ty().map_or(Ty::Unknown, |ty| self.convert(&ty))
                        });
                    }
                }
            }
        }
        if let Some((_, ty)) = best {
            return ty;
        }
        let Some(list) = func.param_list() else {
            return Ty::Unknown;
        };
        for (index, param) in list.params().enumerate() {
            if param.pat().and_then(|p| bound_by(&p, name)).is_none() {
                continue;
            }
            if self.changed && self.scan.target.param == Some(index) {
                return self.shared_ref();
            }
            return param.ty().map_or(Ty::Unknown, |ty| self.convert(&ty));
        }
        Ty::Unknown
    }

    /// Infers an expression of the file's own tree (a binding's
    /// initializer), whatever tree the judged expression is in.
    fn in_file(&self, expr: &ast::Expr, depth: u8) -> Ty {
        let env = Env {
            scan: self.scan,
            tree: self.file_tree,
            file_tree: self.file_tree,
            func: self.func.clone(),
            self_name: self.self_name.clone(),
            at: usize::from(expr.syntax().text_range().start()),
            changed: self.changed,
        };
        env.infer_depth(expr, depth + 1)
    }

    fn call_value(&self, call: &ast::CallExpr, depth: u8) -> Ty {
        let Some(ast::Expr::PathExpr(callee)) = call.expr() else {
            return Ty::Unknown;
        };
        let Some(path) = callee.path() else {
            return Ty::Unknown;
        };
        let Some(name) = path.segment().and_then(|s| s.name_ref()) else {
            return Ty::Unknown;
        };
        let name = name.text().to_string();
        let first_arg = || {
            call.arg_list()
                .and_then(|l| l.args().next())
                .map_or(Ty::Unknown, |e| self.infer_depth(&e, depth + 1))
        };
        let qualifier = path
            .qualifier()
            .and_then(|q| q.segment())
            .and_then(|s| s.name_ref())
            .map(|n| n.text().to_string());
        let Some(qualifier) = qualifier else {
            return match name.as_str() {
                "Some" => Ty::named("Option", vec![first_arg()]),
                "Ok" => Ty::named("Result", vec![first_arg()]),
                _ => self.index().returns(None, &name),
            };
        };
        match (qualifier.as_str(), name.as_str()) {
            ("Arc" | "Rc", "new" | "from") => Ty::named(&qualifier, vec![first_arg()]),
            ("Arc" | "Rc", "clone") => {
                let ty = first_arg();
                match ty.strip_refs() {
                    owned @ Ty::Named(n, _) if n == &qualifier => owned.clone(),
                    _ => Ty::named(&qualifier, vec![Ty::Unknown]),
                }
            }
            ("Box", "new") => Ty::named("Box", vec![first_arg()]),
            _ => {
                let owner = if qualifier == "Self" {
                    match &self.self_name {
                        Some(own) => own.clone(),
                        None => return Ty::Unknown,
                    }
                } else {
                    match self.index().resolve(Ty::named(&qualifier, Vec::new())) {
                        Ty::Named(n, _) => n,
                        _ => return Ty::Unknown,
                    }
                };
                if self.index().types.contains(&owner) {
                    return self.index().returns(Some(&owner), &name);
                }
                // A type from outside the crate (`Runtime::new()`): whatever it
                // returns, it is none of the crate's values.
                let standard = matches!(
                    owner.as_str(),
                    "Arc" | "Rc" | "Box" | "Weak" | "Option" | "Result" | "Vec" | "Pin" | "Cow"
                );
                if owner.starts_with(char::is_uppercase) && !standard {
                    return Ty::Foreign(owner);
                }
                Ty::Unknown
            }
        }
    }

    fn method_value(&self, call: &ast::MethodCallExpr, depth: u8) -> Ty {
        let (Some(receiver), Some(name)) = (call.receiver(), call.name_ref()) else {
            return Ty::Unknown;
        };
        let receiver = self.infer_depth(&receiver, depth + 1);
        let name = name.text().to_string();
        // The crate's own methods first: a `CatalogHandle::upgrade` is not
        // `Weak::upgrade`.
        if let Ty::Named(owner, _) = receiver.auto_deref()
            && self
                .index()
                .fns
                .contains_key(&(Some(owner.clone()), name.clone()))
        {
            return self.index().returns(Some(owner), &name);
        }
        match name.as_str() {
            "clone" | "to_owned" => receiver.strip_refs().clone(),
            "unwrap" | "expect" | "unwrap_or_default" | "unwrap_unchecked" => {
                receiver.strip_refs().unwrapped()
            }
            "upgrade" => {
                let base = receiver.auto_deref();
                match base.name() {
                    Some("Weak") => Ty::named(
                        "Option",
                        vec![Ty::named(self.weak_family(), vec![base.arg(0)])],
                    ),
                    _ => Ty::Unknown,
                }
            }
            "get" | "first" | "last" | "get_mut" => {
                let base = receiver.auto_deref();
                let element = match base.name() {
                    Some("HashMap" | "BTreeMap") => base.arg(1),
                    _ => base.element(),
                };
                match element {
                    Ty::Unknown => Ty::Unknown,
                    element => Ty::named("Option", vec![Ty::Ref(Box::new(element))]),
                }
            }
            "iter" | "iter_mut" => {
                let element = receiver.auto_deref().element();
                match element {
                    Ty::Unknown => Ty::Unknown,
                    element => Ty::named("Iter", vec![Ty::Ref(Box::new(element))]),
                }
            }
            "values" | "values_mut" => {
                let base = receiver.auto_deref();
                match base.name() {
                    Some("HashMap" | "BTreeMap") => {
                        Ty::named("Iter", vec![Ty::Ref(Box::new(base.arg(1)))])
                    }
                    _ => Ty::Unknown,
                }
            }
            "into_iter" => receiver,
            _ => Ty::Unknown,
        }
    }

    /// Which owner a `Weak` of this file upgrades to, from its imports.
    fn weak_family(&self) -> &'static str {
        let text = self.scan.text;
        let rc = text.contains("rc::Weak") || text.contains("rc::{");
        let sync = text.contains("sync::Weak") || text.contains("sync::{");
        match (rc, sync) {
            (true, false) => "Rc",
            (false, true) => "Arc",
            _ => SHARED,
        }
    }
}

/// Whether the function around `node` binds `name` itself (a parameter or a
/// pattern in its body).
fn binds_locally(tree: &Tree, node: &SyntaxNode, name: &str) -> bool {
    tree.ancestors(node)
        .into_iter()
        .find_map(ast::Fn::cast)
        .is_some_and(|func| {
            func.syntax()
                .descendants()
                .filter_map(ast::IdentPat::cast)
                .any(|pat| pat.name().is_some_and(|n| n.text() == name))
        })
}

/// How a pattern binds a name: the whole value, or the value inside
/// `Some(..)` / `Ok(..)`.
#[derive(Clone, Copy)]
enum Bound {
    Whole,
    Unwrapped,
}

fn bound_by(pat: &ast::Pat, name: &str) -> Option<Bound> {
    match pat {
        ast::Pat::IdentPat(ident) => ident
            .name()
            .is_some_and(|n| n.text() == name)
            .then_some(Bound::Whole),
        ast::Pat::TupleStructPat(tuple) => {
            let head = tuple.path()?.segment()?.name_ref()?;
            if head.text() != "Some" && head.text() != "Ok" {
                return None;
            }
            let mut fields = tuple.fields();
            let ast::Pat::IdentPat(ident) = fields.next()? else {
                return None;
            };
            (fields.next().is_none() && ident.name().is_some_and(|n| n.text() == name))
                .then_some(Bound::Unwrapped)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::{
        Applicability, CrateContext, CrateFacts, Edition, Finding, Options, analyze, complete_fixes,
    };
    use std::path::PathBuf;
    use std::sync::Arc;

    const LIB: &str = "use std::ptr;\n\
        use std::sync::{Arc, Weak};\n\
        pub(crate) struct Catalog { names: Vec<String> }\n\
        pub(crate) struct Handle { inner: Weak<Catalog> }\n\
        impl Catalog {\n\
        pub(crate) fn handle(&self) -> Handle { Handle { inner: Arc::downgrade(&Arc::new(unsafe { ptr::read(self) })) } }\n\
        }\n\
        pub(crate) fn share(catalog: &Catalog) -> Arc<Catalog> { Arc::new(unsafe { ptr::read(catalog) }) }\n";

    /// The linted file's findings (the first file), completed against all.
    fn complete(files: &[(&str, &str)]) -> Vec<Finding> {
        let files: Vec<(PathBuf, Arc<str>)> = files
            .iter()
            .map(|(path, text)| (PathBuf::from(path), Arc::from(*text)))
            .collect();
        let (path, text) = &files[0];
        let mut findings = analyze(
            text,
            Edition::Edition2024,
            &Options::default(),
            &CrateFacts::default(),
        )
        .findings;
        complete_fixes(
            &mut findings,
            &CrateContext {
                file: path,
                files: &files,
                edition: Edition::Edition2024,
                facts: None,
                index: &Default::default(),
            },
        );
        assert!(findings.iter().all(|f| f.crate_fix.is_none()));
        findings
    }

    fn applicability(finding: &Finding) -> Option<Applicability> {
        finding.fix.as_ref().map(|fix| fix.applicability)
    }

    #[test]
    fn callers_holding_arcs_keep_the_fix_safe() {
        let callers = "use std::sync::Arc;\n\
            use crate::catalog::{Catalog, share};\n\
            struct Host { catalog: Arc<Catalog> }\n\
            async fn load() -> Result<Arc<Catalog>, String> { Err(String::new()) }\n\
            impl Host {\n\
            fn a(&self) { let _ = self.catalog.handle(); let _ = share(&self.catalog); }\n\
            async fn b(&self) -> Result<(), String> { let c = load().await?; let _ = c.handle(); let _ = Catalog::handle(&c); Ok(()) }\n\
            }\n\
            fn c(all: &[Arc<Catalog>]) { for each in all { let _ = each.handle(); } }\n";
        let findings = complete(&[("/p/src/catalog.rs", LIB), ("/p/src/host.rs", callers)]);
        assert_eq!(findings.len(), 2);
        for finding in &findings {
            assert_eq!(
                applicability(finding),
                Some(Applicability::Safe),
                "{finding:?}"
            );
            assert!(finding.notes.is_empty(), "{:?}", finding.notes);
        }
    }

    #[test]
    fn plain_callers_keep_the_fix_from_being_offered_and_are_named() {
        let callers = "use crate::catalog::{Catalog, share};\n\
            fn a(c: &Catalog) { let _ = c.handle(); let _ = share(c); }\n";
        let findings = complete(&[("/p/src/catalog.rs", LIB), ("/p/src/host.rs", callers)]);
        assert_eq!(findings.len(), 2);
        // The changed signature would not compile at these calls: an unsafe
        // fix that cannot compile is not offered.
        assert_eq!(
            applicability(&findings[0]),
            Some(Applicability::DisplayOnly)
        );
        assert_eq!(
            applicability(&findings[1]),
            Some(Applicability::DisplayOnly)
        );
        assert_eq!(
            findings[0].notes,
            [
                "no automatic fix: the change would break this call: /p/src/host.rs:2:31: receiver is not an `Arc<Catalog>`"
            ]
        );
        assert_eq!(
            findings[1].notes,
            [
                "no automatic fix: the change would break this call: /p/src/host.rs:2:49: argument is not an `&Arc<Catalog>`"
            ]
        );
    }

    #[test]
    fn a_borrow_through_the_arc_lends_the_arc_in_the_callers_file() {
        let callers = "use std::sync::Arc;\n\
            use crate::catalog::{Catalog, share};\n\
            fn a(c: Arc<Catalog>) -> Arc<Catalog> { share(&*c) }\n";
        let findings = complete(&[("/p/src/catalog.rs", LIB), ("/p/src/host.rs", callers)]);
        let fix = findings[1].fix.as_ref().expect("a fix");
        assert_eq!(fix.applicability, Applicability::Safe);
        let edit = fix.edits.last().expect("an edit");
        assert_eq!(
            edit.file.as_deref(),
            Some(std::path::Path::new("/p/src/host.rs"))
        );
        assert_eq!(&callers[edit.range.clone()], "&*c");
        assert_eq!(edit.replacement, "&c");
    }

    #[test]
    fn same_named_methods_of_other_types_are_not_call_sites() {
        let callers = "use std::sync::Arc;\n\
            struct Runtime;\n\
            impl Runtime { fn handle(&self) -> u8 { 0 } }\n\
            fn a(rt: &Runtime) -> u8 { rt.handle() }\n\
            fn b() { let rt = tokio::runtime::Builder::new_current_thread(); let _ = rt.handle(); }\n";
        let findings = complete(&[("/p/src/catalog.rs", LIB), ("/p/src/rt.rs", callers)]);
        assert_eq!(applicability(&findings[0]), Some(Applicability::Safe));
    }

    #[test]
    fn public_functions_of_public_types_are_unsafe() {
        let lib = LIB
            .replace("pub(crate) struct Catalog", "pub struct Catalog")
            .replace("pub(crate) fn", "pub fn");
        let findings = complete(&[("/p/src/lib.rs", &lib)]);
        assert_eq!(applicability(&findings[0]), Some(Applicability::Unsafe));
        assert_eq!(
            findings[0].notes,
            [
                "the fix is unsafe: `Catalog::handle` is public: callers outside this crate must pass an `Arc<Catalog>` too"
            ]
        );
    }

    #[test]
    fn unknown_receivers_are_named() {
        let callers =
            "fn a(make: impl Fn() -> crate::Catalog) { let c = make(); let _ = c.handle(); }\n";
        let findings = complete(&[("/p/src/catalog.rs", LIB), ("/p/tests/it.rs", callers)]);
        assert_eq!(applicability(&findings[0]), Some(Applicability::Unsafe));
        assert_eq!(
            findings[0].notes,
            [
                "the fix is unsafe: /p/tests/it.rs:1:69: cannot tell whether the receiver is an `Arc<Catalog>`"
            ]
        );
    }

    /// The text after applying one finding's in-file edits.
    fn apply(text: &str, finding: &Finding) -> String {
        let mut edits: Vec<_> = finding
            .fix
            .iter()
            .flat_map(|fix| &fix.edits)
            .filter(|edit| edit.file.is_none())
            .collect();
        edits.sort_by_key(|edit| std::cmp::Reverse(edit.range.start));
        let mut out = text.to_string();
        for edit in edits {
            out.replace_range(edit.range.clone(), &edit.replacement);
        }
        out
    }

    #[test]
    fn an_import_only_the_copy_used_goes_from_its_list() {
        let text = "use std::{ptr, sync::Arc};\n\
            struct S { v: Vec<u8> }\n\
            impl S {\n    fn share(&self) -> Arc<S> {\n        unsafe { Arc::new(ptr::read(self)) }\n    }\n}\n\
            fn main() { let s = Arc::new(S { v: Vec::new() }); let _ = s.share(); }\n";
        let findings = complete(&[("/p/src/main.rs", text)]);
        assert_eq!(applicability(&findings[0]), Some(Applicability::Safe));
        assert_eq!(
            apply(text, &findings[0]),
            "use std::{sync::Arc};\n\
            struct S { v: Vec<u8> }\n\
            impl S {\n    fn share(self: &Arc<Self>) -> Arc<S> {\n        Arc::clone(self)\n    }\n}\n\
            fn main() { let s = Arc::new(S { v: Vec::new() }); let _ = s.share(); }\n"
        );
    }
}
