//! Crate-wide facts for fixes that reach across files: every function and
//! method with its owner, signature and visibility, and the crate's error
//! types and `Result` aliases, built once per crate from its files' text.
//!
//! The index is plain data (byte ranges into the texts it was built from), so
//! it can be shared between threads and kept while the trees are dropped.
//! Call sites are looked up on demand by name ([`calls_to`]): only the files
//! whose text mentions the name are parsed for them.

use crate::Edition;
use crate::context;
use crate::trees;
use ra_ap_syntax::ast::{self, AstNode, HasAttrs, HasName, HasVisibility};
use ra_ap_syntax::{SourceFile, SyntaxKind, SyntaxNode};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a function belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A free function.
    Free,
    /// A method of `impl Type { .. }`.
    Inherent(String),
    /// A method of `impl Trait for Type { .. }`: its signature is the trait's.
    TraitImpl { trait_name: String, self_ty: String },
    /// A method declared in `trait Trait { .. }`.
    TraitDef(String),
}

/// One `fn` item of the crate.
#[derive(Debug, Clone)]
pub struct Function {
    /// Index into [`CrateIndex::files`].
    pub file: usize,
    pub name: String,
    pub owner: Owner,
    /// The whole item, attributes and doc comments included.
    pub range: Range<usize>,
    /// Unrestricted `pub`: part of the crate's API when its module is.
    pub public: bool,
    pub is_async: bool,
    pub is_const: bool,
    /// `extern "C" fn` or `#[no_mangle]`: called from outside Rust.
    pub foreign: bool,
    /// `#[test]` and friends, or inside `#[cfg(test)]`.
    pub test: bool,
    /// `fn f(&self ..)`, `fn f(self ..)`, ...
    pub has_self: bool,
    /// The declared return type's range, if any.
    pub ret: Option<Range<usize>>,
    /// Where ` -> T` goes when there is no return type: after the `)`.
    pub params_end: usize,
    pub body: Option<Range<usize>>,
}

impl Function {
    /// `Type::name` or `name`, as the diagnostic shows it.
    pub fn display(&self) -> String {
        match &self.owner {
            Owner::Free => self.name.clone(),
            Owner::Inherent(ty) => format!("{ty}::{}", self.name),
            Owner::TraitImpl { trait_name, .. } => format!("{trait_name}::{}", self.name),
            Owner::TraitDef(trait_name) => format!("{trait_name}::{}", self.name),
        }
    }
}

/// An error enum of the crate that derives `thiserror::Error`.
#[derive(Debug, Clone)]
pub struct ErrorEnum {
    pub file: usize,
    pub name: String,
    /// The path the rest of the crate names it by (`crate::error::Error`).
    pub path: String,
    /// Where a new variant goes: right before the closing `}`.
    pub variants_end: usize,
    /// The item's end, where a helper item can follow it.
    pub item_end: usize,
    /// Variant names with their field text (`(String)`, `{ .. }`, empty).
    pub variants: Vec<(String, String)>,
}

/// One file of the crate.
#[derive(Debug, Clone)]
pub struct IndexedFile {
    pub path: PathBuf,
    pub text: Arc<str>,
    /// `crate::a::b` for `src/a/b.rs`; `crate` for the crate root.
    pub module: String,
    /// Code of a test, bench, example, build script or binary target, as its
    /// place in the package says (`tests/`, `src/bin/`, `src/main.rs`, ..).
    pub outside_library: bool,
}

/// The crate-wide index.
#[derive(Debug, Clone, Default)]
pub struct CrateIndex {
    pub files: Vec<IndexedFile>,
    pub functions: Vec<Function>,
    pub error_enums: Vec<ErrorEnum>,
    /// `type Name<..> = ..Result<.., E>;`: the alias's name and `E`'s text.
    pub result_aliases: Vec<(String, String)>,
    /// `impl From<Source> for Target`: the source's text (whitespace
    /// removed) and the target's last path segment.
    pub from_impls: Vec<(String, String)>,
    /// The crate root (`src/lib.rs`), when it is one of the files.
    pub lib_root: Option<usize>,
    /// Functions by file and start offset.
    pub by_start: std::collections::HashMap<(usize, usize), usize>,
    pub edition: Option<Edition>,
    /// [`calls_to`]'s answers and the trees it parsed, kept for the next
    /// question about the same crate.
    pub calls: CallsCache,
}

/// What [`calls_to`] learned about a crate: each fix plan follows callers
/// name by name, and without this every plan of every finding parsed again
/// each file whose text mentions each name (most of `temper check`'s time on
/// large crates).
#[derive(Default)]
pub struct CallsCache {
    /// A file's tree by its index in [`CrateIndex::files`]; `None` when the
    /// file is beyond [`crate::lex`]'s limits.
    trees: std::sync::Mutex<std::collections::HashMap<usize, Option<ra_ap_syntax::GreenNode>>>,
    sites: std::sync::Mutex<std::collections::HashMap<String, Vec<CallSite>>>,
}

impl CrateIndex {
    /// The tree of `files[at]`, parsed once for the whole index; `None`
    /// beyond [`crate::lex`]'s limits.
    pub fn tree(&self, at: usize) -> Option<SourceFile> {
        let edition = self.edition.unwrap_or(Edition::CURRENT);
        self.calls.tree(at, &self.files.get(at)?.text, edition)
    }
}

impl CallsCache {
    fn tree(&self, at: usize, text: &str, edition: Edition) -> Option<SourceFile> {
        let known = lock(&self.trees).get(&at).cloned();
        let green = match known {
            Some(green) => green,
            None => {
                let green = crate::lex::shape(text).within_limits().then(|| {
                    SourceFile::parse(text, edition)
                        .syntax_node()
                        .green()
                        .to_owned()
                });
                lock(&self.trees).insert(at, green.clone());
                green
            }
        };
        SourceFile::cast(SyntaxNode::new_root(green?))
    }
}

/// A cache stays usable after a panic elsewhere poisoned its lock.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A copy of an index starts with an empty cache.
impl Clone for CallsCache {
    fn clone(&self) -> CallsCache {
        CallsCache::default()
    }
}

impl std::fmt::Debug for CallsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallsCache").finish_non_exhaustive()
    }
}

impl CrateIndex {
    /// Indexes `files` (absolute paths with their current text).
    pub fn build(files: &[(PathBuf, Arc<str>)], edition: Edition) -> CrateIndex {
        let lib_root = files
            .iter()
            .enumerate()
            .filter(|(_, (path, _))| path.ends_with("src/lib.rs"))
            .min_by_key(|(_, (path, _))| path.components().count())
            .map(|(at, _)| at)
            // A file checked on its own is a crate root.
            .or_else(|| (files.len() == 1).then_some(0));
        let package_dir = lib_root
            .and_then(|at| files[at].0.parent()?.parent())
            .map(Path::to_path_buf)
            .or_else(|| common_package_dir(files));
        let mut index = CrateIndex {
            lib_root,
            edition: Some(edition),
            ..CrateIndex::default()
        };
        for (at, (path, text)) in files.iter().enumerate() {
            let relative = package_dir
                .as_deref()
                .and_then(|dir| path.strip_prefix(dir).ok())
                .unwrap_or(path);
            index.files.push(IndexedFile {
                path: path.clone(),
                text: text.clone(),
                module: module_path(relative),
                outside_library: outside_library(relative),
            });
            // A file beyond the parser's limits is not parsed (it could
            // overflow the stack); its functions are simply not indexed.
            if !crate::lex::shape(text).within_limits() {
                lock(&index.calls.trees).insert(at, None);
                continue;
            }
            let file = SourceFile::parse(text, edition).tree();
            index.collect(at, &file);
            // Kept for the call-site searches and rewrites that follow: each
            // file of the crate is parsed once.
            lock(&index.calls.trees).insert(at, Some(file.syntax().green().to_owned()));
        }
        index.by_start = index
            .functions
            .iter()
            .enumerate()
            .map(|(at, f)| ((f.file, f.range.start), at))
            .collect();
        index
    }

    fn collect(&mut self, at: usize, file: &SourceFile) {
        let module = self.files[at].module.clone();
        for node in file.syntax().descendants() {
            if let Some(func) = ast::Fn::cast(node.clone()) {
                if let Some(function) = function(at, &func) {
                    self.functions.push(function);
                }
            } else if let Some(item) = ast::Enum::cast(node.clone()) {
                if let Some(error) = error_enum(at, &module, file, &item) {
                    self.error_enums.push(error);
                }
            } else if let Some(alias) = ast::TypeAlias::cast(node.clone()) {
                if let Some(entry) = result_alias(&alias) {
                    self.result_aliases.push(entry);
                }
            } else if let Some(imp) = ast::Impl::cast(node)
                && let Some(entry) = from_impl(&imp)
            {
                self.from_impls.push(entry);
            }
        }
    }

    /// The functions named `name`.
    pub fn functions_named<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = (usize, &'a Function)> {
        self.functions
            .iter()
            .enumerate()
            .filter(move |(_, f)| f.name == name)
    }

    /// The innermost function whose body holds `offset` of file `file`.
    pub fn function_at(&self, file: usize, offset: usize) -> Option<usize> {
        self.functions
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                f.file == file
                    && f.body
                        .as_ref()
                        .is_some_and(|b| b.start <= offset && offset < b.end)
            })
            .min_by_key(|(_, f)| f.range.end - f.range.start)
            .map(|(at, _)| at)
    }

    pub fn file_of(&self, path: &Path) -> Option<usize> {
        self.files.iter().position(|file| file.path == path)
    }
}

/// The directory above `src/` of the first file that has one.
fn common_package_dir(files: &[(PathBuf, Arc<str>)]) -> Option<PathBuf> {
    files.iter().find_map(|(path, _)| {
        let mut dir = path.parent();
        while let Some(current) = dir {
            if current.file_name().is_some_and(|name| name == "src") {
                return current.parent().map(Path::to_path_buf);
            }
            dir = current.parent();
        }
        None
    })
}

/// `crate::a::b` from `src/a/b.rs` or `src/a/b/mod.rs` (a `#[path]` module
/// is named as its file's place suggests; callers use it only to name items).
fn module_path(relative: &Path) -> String {
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let Some(rest) = parts.strip_prefix(&["src".to_string()]) else {
        return "crate".to_string();
    };
    let mut segments = vec!["crate".to_string()];
    for (at, part) in rest.iter().enumerate() {
        let last = at + 1 == rest.len();
        if !last {
            segments.push(part.clone());
            continue;
        }
        let stem = part.trim_end_matches(".rs");
        if !matches!(stem, "lib" | "main" | "mod") {
            segments.push(stem.to_string());
        }
    }
    segments.join("::")
}

fn outside_library(relative: &Path) -> bool {
    let text = relative.to_string_lossy().replace('\\', "/");
    ["tests/", "benches/", "examples/", "src/bin/"]
        .iter()
        .any(|dir| text.starts_with(dir))
        || text == "src/main.rs"
        || text == "build.rs"
}

fn range(node: &SyntaxNode) -> Range<usize> {
    usize::from(node.text_range().start())..usize::from(node.text_range().end())
}

fn function(at: usize, func: &ast::Fn) -> Option<Function> {
    let name = func.name()?.text().to_string();
    let params = func.param_list()?;
    let owner = owner(func);
    let public = func
        .visibility()
        .is_some_and(|vis| vis.syntax().text() == "pub");
    let attrs: Vec<String> = func.attrs().map(|attr| context::attr_text(&attr)).collect();
    let foreign = func.abi().is_some()
        || attrs.iter().any(|attr| {
            attr == "no_mangle" || attr == "unsafe(no_mangle)" || attr.starts_with("export_name")
        });
    Some(Function {
        file: at,
        name,
        owner,
        range: range(func.syntax()),
        public,
        is_async: func.async_token().is_some(),
        is_const: func.const_token().is_some(),
        foreign,
        test: in_test_code(func.syntax()),
        has_self: params.self_param().is_some(),
        ret: func
            .ret_type()
            .and_then(|ret| ret.ty())
            .map(|ty| range(ty.syntax())),
        params_end: usize::from(params.syntax().text_range().end()),
        body: func.body().map(|body| range(body.syntax())),
    })
}

/// `#[test]`, `#[cfg(test)]` on the function or an item around it. The
/// file's own inner attributes are not read here: asking the source file for
/// its attributes walks every item of the file, once per function.
fn in_test_code(node: &SyntaxNode) -> bool {
    node.ancestors()
        .filter(|ancestor| ancestor.kind() != SyntaxKind::SOURCE_FILE)
        .any(|ancestor| test_attrs(&ancestor))
}

fn test_attrs(node: &SyntaxNode) -> bool {
    node.kind() != SyntaxKind::SOURCE_FILE
        && context::attrs_of(node)
            .iter()
            .any(|attr| context::is_cfg_test(attr) || context::is_test_attr(attr, &[]))
}

fn owner(func: &ast::Fn) -> Owner {
    let Some(list) = func
        .syntax()
        .parent()
        .filter(|p| p.kind() == SyntaxKind::ASSOC_ITEM_LIST)
    else {
        return Owner::Free;
    };
    let Some(container) = list.parent() else {
        return Owner::Free;
    };
    if let Some(imp) = ast::Impl::cast(container.clone()) {
        let self_ty = imp.self_ty().map(|ty| type_name(&ty)).unwrap_or_default();
        return match imp.trait_() {
            Some(trait_ty) => Owner::TraitImpl {
                trait_name: type_name(&trait_ty),
                self_ty,
            },
            None => Owner::Inherent(self_ty),
        };
    }
    if let Some(item) = ast::Trait::cast(container) {
        return Owner::TraitDef(
            item.name()
                .map(|n| n.text().to_string())
                .unwrap_or_default(),
        );
    }
    Owner::Free
}

/// The last path segment of a type, without generics: `Pool` for
/// `crate::pool::Pool<T>`.
pub fn type_name(ty: &ast::Type) -> String {
    match ty {
        ast::Type::PathType(path) => path
            .path()
            .and_then(|p| p.segment())
            .and_then(|s| s.name_ref())
            .map(|n| n.text().to_string())
            .unwrap_or_default(),
        _ => ty.syntax().text().to_string(),
    }
}

fn error_enum(at: usize, module: &str, file: &SourceFile, item: &ast::Enum) -> Option<ErrorEnum> {
    let name = item.name()?.text().to_string();
    if !name.ends_with("Error") {
        return None;
    }
    // Visible to the rest of the crate: `pub` or `pub(crate)`, declared at the
    // top of its file.
    let vis = item.visibility()?.syntax().text().to_string();
    if !(vis == "pub" || vis == "pub(crate)")
        || item.syntax().parent()?.kind() != SyntaxKind::SOURCE_FILE
    {
        return None;
    }
    let derives_error = item.attrs().any(|attr| {
        let text = context::attr_text(&attr);
        text.starts_with("derive(")
            && text
                .trim_start_matches("derive(")
                .trim_end_matches(')')
                .split(',')
                .any(|d| d == "Error" || d == "thiserror::Error")
    });
    let thiserror = file.syntax().text().to_string().contains("thiserror");
    if !derives_error || !thiserror {
        return None;
    }
    let list = item.variant_list()?;
    let close = list.r_curly_token()?;
    let variants = list
        .variants()
        .filter_map(|variant| {
            let name = variant.name()?.text().to_string();
            let fields = variant
                .field_list()
                .map(|f| {
                    f.syntax()
                        .text()
                        .to_string()
                        .split_whitespace()
                        .collect::<String>()
                })
                .unwrap_or_default();
            Some((name, fields))
        })
        .collect();
    Some(ErrorEnum {
        file: at,
        path: format!("{module}::{name}"),
        name,
        variants_end: usize::from(close.text_range().start()),
        item_end: usize::from(item.syntax().text_range().end()),
        variants,
    })
}

/// How a call site names its callee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallKind {
    /// `name(..)`, `module::name(..)`, `Type::name(..)`, `Self::name(..)`:
    /// the path's qualifier segments.
    Path(Vec<String>),
    /// `receiver.name(..)`, with the receiver's text.
    Method(String),
}

/// Where a call's value is used, as far as `?` is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallPlace {
    /// In the body of a function (index into [`CrateIndex::functions`]).
    Function(usize),
    /// Inside a closure: `?` would leave the closure.
    Closure,
    /// Inside an `async` block: `?` would leave the block.
    AsyncBlock,
    /// Inside the arguments of a macro that may not evaluate them in place.
    Macro,
    /// Outside any function body (a `const` or `static`).
    Item,
}

/// One call to a function by name, or a mention of it as a value.
#[derive(Debug, Clone)]
pub struct CallSite {
    pub file: usize,
    pub kind: CallKind,
    /// The call expression.
    pub range: Range<usize>,
    /// Where `?` goes: after the call, or after its `.await`.
    pub end: usize,
    pub awaited: bool,
    pub place: CallPlace,
    /// Inside test code (`#[cfg(test)]`, `#[test]`).
    pub test: bool,
    /// The name is mentioned but not called (`map(name)`, `let f = name;`).
    pub as_value: bool,
}

/// Macros whose arguments std evaluates in place, in the calling function, so
/// a `?` there returns from that function as it would outside the macro.
pub(crate) const STD_MACROS: &[&str] = &[
    "assert",
    "assert_eq",
    "assert_ne",
    "dbg",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "eprint",
    "eprintln",
    "format",
    "format_args",
    "panic",
    "print",
    "println",
    "todo",
    "unimplemented",
    "unreachable",
    "vec",
    "write",
    "writeln",
];

/// Every call of (and mention as a value of) a function or method named
/// `name` in the crate's files. Only files whose text mentions the name are
/// parsed.
pub fn calls_to(index: &CrateIndex, name: &str) -> Vec<CallSite> {
    if let Some(sites) = lock(&index.calls.sites).get(name) {
        return sites.clone();
    }
    let sites = find_calls(index, name);
    lock(&index.calls.sites).insert(name.to_string(), sites.clone());
    sites
}

fn find_calls(index: &CrateIndex, name: &str) -> Vec<CallSite> {
    let mut out = Vec::new();
    let keywords = [name.to_string()];
    let edition = index.edition.unwrap_or(Edition::CURRENT);
    for (at, file) in index.files.iter().enumerate() {
        if !file.text.contains(name) {
            continue;
        }
        let Some(parsed) = index.calls.tree(at, &file.text, edition) else {
            continue;
        };
        if let Some(names) = name_refs_outside_macros(&parsed, &file.text, name) {
            let tree = trees::file_tree(&parsed);
            out.extend(names.iter().filter_map(|node| site(index, at, &tree, node)));
            continue;
        }
        for tree in trees::collect(&parsed, edition, &keywords) {
            for node in tree.root.descendants() {
                if node.kind() != SyntaxKind::NAME_REF || node.text() != name {
                    continue;
                }
                if let Some(site) = site(index, at, &tree, &node) {
                    out.push(site);
                }
            }
        }
    }
    out
}

/// The `name` references of `file`, in order, found from the text's
/// occurrences of `name` rather than by visiting every node; `None` when one
/// sits in a macro's arguments (the re-parsed trees must be searched too) or
/// `name` is not a plain word.
fn name_refs_outside_macros(file: &SourceFile, text: &str, name: &str) -> Option<Vec<SyntaxNode>> {
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let root = file.syntax();
    let mut out = Vec::new();
    for (at, _) in text.match_indices(name) {
        let range = ra_ap_syntax::TextRange::at(
            u32::try_from(at).ok()?.into(),
            u32::try_from(name.len()).ok()?.into(),
        );
        if !root.text_range().contains_range(range) {
            continue;
        }
        let Some(token) = root.covering_element(range).into_token() else {
            continue;
        };
        if token.text_range() != range {
            continue;
        }
        match token.parent() {
            Some(parent) if parent.kind() == SyntaxKind::TOKEN_TREE => return None,
            Some(parent) if parent.kind() == SyntaxKind::NAME_REF => out.push(parent),
            _ => {}
        }
    }
    Some(out)
}

fn site(
    index: &CrateIndex,
    at: usize,
    tree: &trees::Tree,
    name_ref: &SyntaxNode,
) -> Option<CallSite> {
    let parent = name_ref.parent()?;
    let (call, kind, as_value) = if let Some(method) = ast::MethodCallExpr::cast(parent.clone()) {
        let receiver = method.receiver()?.syntax().text().to_string();
        (method.syntax().clone(), CallKind::Method(receiver), false)
    } else if parent.kind() == SyntaxKind::PATH_SEGMENT {
        // `a::b::name` as an expression: a call when it is the callee.
        let path = parent.parent().and_then(ast::Path::cast)?;
        // Only the last segment names the function.
        if path
            .syntax()
            .parent()
            .is_some_and(|p| p.kind() == SyntaxKind::PATH)
        {
            return None;
        }
        let path_expr = path.syntax().parent().and_then(ast::PathExpr::cast)?;
        let qualifier: Vec<String> = path
            .qualifier()
            .map(|q| context::path_segments(&q.syntax().text().to_string()))
            .unwrap_or_default();
        match path_expr.syntax().parent().and_then(ast::CallExpr::cast) {
            Some(call)
                if call
                    .expr()
                    .is_some_and(|e| e.syntax() == path_expr.syntax()) =>
            {
                (call.syntax().clone(), CallKind::Path(qualifier), false)
            }
            // A bare name that is not called is usually a local variable; it
            // counts as the function passed as a value only where a function
            // value is expected: an argument, or a qualified path.
            _ => {
                let argument = path_expr
                    .syntax()
                    .parent()
                    .is_some_and(|p| p.kind() == SyntaxKind::ARG_LIST);
                if qualifier.is_empty() && !argument {
                    return None;
                }
                (path_expr.syntax().clone(), CallKind::Path(qualifier), true)
            }
        }
    } else {
        return None;
    };
    let call_range = tree.node_range(&call);
    let (end, awaited) = match call.parent().and_then(ast::AwaitExpr::cast) {
        Some(awaited) => (tree.node_range(awaited.syntax()).end, true),
        None => (call_range.end, false),
    };
    let place = place(index, at, tree, &call);
    Some(CallSite {
        file: at,
        kind,
        range: call_range,
        end,
        awaited,
        place,
        test: tree.ancestors(&call).iter().any(test_attrs),
        as_value,
    })
}

fn place(index: &CrateIndex, at: usize, tree: &trees::Tree, node: &SyntaxNode) -> CallPlace {
    if let Some(host) = &tree.host {
        let name = trees::macro_name(host).unwrap_or_default();
        if !STD_MACROS.contains(&name.as_str()) {
            return CallPlace::Macro;
        }
    }
    match context::enclosing_body(tree, node) {
        Some(context::Enclosing::Closure(_)) => CallPlace::Closure,
        Some(context::Enclosing::AsyncBlock(_)) => CallPlace::AsyncBlock,
        Some(context::Enclosing::Fn(func)) => {
            // A function around a macro call is a node of the file's own
            // tree, whose offsets are the file's.
            let in_tree = func.syntax().ancestors().last().as_ref() == Some(&tree.root);
            let start = if in_tree {
                tree.node_range(func.syntax()).start
            } else {
                range(func.syntax()).start
            };
            index
                .by_start
                .get(&(at, start))
                .map_or(CallPlace::Item, |&f| CallPlace::Function(f))
        }
        None => CallPlace::Item,
    }
}

/// Whether `ty` (a return type's text, whitespace removed) is `Result<..>`
/// in one of its spellings, and how many generic arguments it has.
pub fn result_arity(ty: &str) -> Option<usize> {
    let ty: String = ty.split_whitespace().collect();
    let start = ty.find("Result<")?;
    let head = &ty[..start];
    if !(head.is_empty() || head.ends_with("::")) {
        return None;
    }
    let inner = ty[start + "Result<".len()..].strip_suffix('>')?;
    let mut depth = 0usize;
    let mut count = 1;
    for c in inner.chars() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => count += 1,
            _ => {}
        }
    }
    Some(count)
}

fn squeezed(node: &SyntaxNode) -> String {
    node.text().to_string().split_whitespace().collect()
}

/// `type Name<T> = Result<T, E>;` as `(Name, E)`.
fn result_alias(alias: &ast::TypeAlias) -> Option<(String, String)> {
    let name = alias.name()?.text().to_string();
    let ty = squeezed(alias.ty()?.syntax());
    if result_arity(&ty) != Some(2) {
        return None;
    }
    let error = error_of(&ty)?;
    Some((name, error))
}

/// The second argument of a two-argument `Result<T, E>` (whitespace removed).
pub fn error_of(ty: &str) -> Option<String> {
    let start = ty.find("Result<")? + "Result<".len();
    let inner = ty[start..].strip_suffix('>')?;
    let mut depth = 0usize;
    for (at, c) in inner.char_indices() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => return Some(inner[at + 1..].to_string()),
            _ => {}
        }
    }
    None
}

/// `impl From<S> for T` as `(S, T)`.
fn from_impl(imp: &ast::Impl) -> Option<(String, String)> {
    let trait_ty = squeezed(imp.trait_()?.syntax());
    let source = trait_ty
        .strip_prefix("From<")?
        .strip_suffix('>')?
        .to_string();
    let target = type_name(&imp.self_ty()?);
    Some((source, target))
}

impl CrateIndex {
    /// The error type a function's return type (whitespace removed) names:
    /// `E` of `Result<T, E>`, through the crate's aliases; `io::Error` for
    /// `io::Result<T>`.
    pub fn error_type(&self, ret: &str) -> Option<String> {
        let ret = ret
            .strip_prefix("Poll<")
            .and_then(|r| r.strip_suffix('>'))
            .unwrap_or(ret);
        if ret.starts_with("io::Result<") || ret.starts_with("std::io::Result<") {
            return Some("std::io::Error".to_string());
        }
        if let Some(error) = error_of(ret) {
            return Some(error);
        }
        let name = ret.split('<').next()?.rsplit("::").next()?;
        self.result_aliases
            .iter()
            .find(|(alias, _)| alias == name)
            .map(|(_, error)| error.clone())
    }

    /// Whether the crate converts `source` into the error named `target`.
    pub fn converts(&self, source: &[&str], target: &str) -> bool {
        let target = target.split('<').next().unwrap_or(target);
        let target = target.rsplit("::").next().unwrap_or(target);
        self.from_impls
            .iter()
            .any(|(from, to)| to == target && source.contains(&from.as_str()))
    }
}
