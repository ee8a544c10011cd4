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
use ra_ap_syntax::ast::{
    self, AstNode, HasAttrs, HasGenericArgs, HasGenericParams, HasName, HasVisibility,
};
use ra_ap_syntax::{SourceFile, SyntaxKind, SyntaxNode};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod resolve;
pub use resolve::{TypeDecl, UseEntry};

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
    /// The inline modules (`mod name { .. }`) around it in its file,
    /// outermost first: `["bare"]`.
    pub inline_modules: Vec<String>,
    /// `fn f(&self ..)`, `fn f(self ..)`, ...
    pub has_self: bool,
    /// The other parameters' types, each run of whitespace one space.
    pub params: Vec<String>,
    /// Their names, when the pattern is a plain identifier (else empty).
    pub param_names: Vec<String>,
    /// `pub` or `pub(crate)`: callable from anywhere in the crate.
    pub crate_visible: bool,
    /// The declared return type's range, if any.
    pub ret: Option<Range<usize>>,
    /// The return type with `Self::Output` and the like read through the
    /// trait implementation (`Poll<Result<T, E>>` for `Poll<Self::Output>`),
    /// whitespace removed; `None` when it names no such type.
    pub ret_expanded: Option<String>,
    /// Where ` -> T` goes when there is no return type: after the `)`.
    pub params_end: usize,
    pub body: Option<Range<usize>>,
}

/// A type as written, reduced to what names it for method lookup: no
/// references, lifetimes, `mut`, `dyn` or whitespace (`Option<&'a mut
/// Authority>` is `Option<Authority>`, `&mut Codec<T, B>` is
/// `Codec<T,B>`). The text must keep its own spaces between words.
fn nominal(ty: &str) -> String {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(ty.len());
    let mut rest = ty;
    while let Some(c) = rest.chars().next() {
        if c == '\'' {
            let end = rest[1..]
                .find(|c: char| !word(c))
                .map_or(rest.len(), |e| e + 1);
            rest = rest[end..].trim_start();
            // `Foo<'a, T>`: the lifetime's comma goes with it.
            rest = rest.strip_prefix(',').unwrap_or(rest);
        } else if word(c) {
            let end = rest.find(|c: char| !word(c)).unwrap_or(rest.len());
            if !matches!(&rest[..end], "mut" | "dyn") {
                out.push_str(&rest[..end]);
            }
            rest = &rest[end..];
        } else {
            if c != '&' && !c.is_whitespace() {
                out.push(c);
            }
            rest = &rest[c.len_utf8()..];
        }
    }
    // `Foo<'a>` lost its only argument.
    out.replace("<>", "")
}

/// `T` of `&T`, `&mut T`, `&'a T`, `&'a mut T`.
fn dereferenced(ty: &str) -> &str {
    let mut ty = ty.trim();
    while let Some(rest) = ty.strip_prefix('&') {
        ty = rest.trim_start();
        if let Some(rest) = ty.strip_prefix('\'') {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            ty = rest[end..].trim_start();
        }
        if let Some(rest) = ty.strip_prefix("mut ") {
            ty = rest.trim_start();
        }
    }
    ty
}

impl Function {
    /// The named type of parameter `name` (`IdleConn` for
    /// `conn: &mut IdleConn<T>`), when it is a plain path type.
    pub fn param_type(&self, name: &str) -> Option<&str> {
        let at = self.param_names.iter().position(|n| n == name)?;
        let ty = dereferenced(&self.params[at]);
        let head = ty.split('<').next()?;
        let last = head.rsplit("::").next()?;
        (!last.is_empty()
            && last.starts_with(|c: char| c.is_uppercase())
            && last.chars().all(|c| c.is_alphanumeric() || c == '_'))
        .then_some(last)
    }

    /// Whether parameter `name` is declared with a type no crate can add
    /// methods to by an inherent `impl`: a slice, an array, a tuple, or a
    /// primitive (`payload: &[u8]`, `n: usize`, `s: &str`).
    pub fn param_is_builtin(&self, name: &str) -> bool {
        let Some(at) = self.param_names.iter().position(|n| n == name) else {
            return false;
        };
        let ty = dereferenced(&self.params[at]);
        ty.starts_with(['[', '(']) || ty == "str" || context::PRIMITIVES.contains(&ty)
    }

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

/// For each identifier-like word of the files, the files it occurs in.
fn word_files(files: &[IndexedFile]) -> std::collections::HashMap<String, Vec<usize>> {
    let mut words: std::collections::HashMap<String, Vec<usize>> = Default::default();
    for (at, file) in files.iter().enumerate() {
        for word in file
            .text
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
        {
            let entry = words.entry(word.to_string()).or_default();
            if entry.last() != Some(&at) {
                entry.push(at);
            }
        }
    }
    words
}

/// `impl From<Source> for Target` (or a `#[from]` field of an error enum).
#[derive(Debug, Clone)]
pub struct FromImpl {
    /// The source's text, whitespace removed.
    pub source: String,
    /// The target's last path segment.
    pub target: String,
    /// The target as written, whitespace and generics removed
    /// (`crate::Error`, `Error`).
    pub written: String,
    /// The module the impl is written in, for [`CrateIndex::resolve_type`].
    pub module: String,
}

/// `struct Name(Field);` of the crate.
#[derive(Debug, Clone)]
pub struct Newtype {
    pub name: String,
    /// Index into [`CrateIndex::files`].
    pub file: usize,
    /// The field's type, whitespace removed.
    pub field: String,
    /// `pub` or `pub(..)`: the field is reachable outside its module.
    pub field_visible: bool,
    /// Declared in a `mod name { .. }` of its file.
    pub inline_module: bool,
}

/// The crate-wide index.
#[derive(Debug, Clone, Default)]
pub struct CrateIndex {
    pub files: Vec<IndexedFile>,
    pub functions: Vec<Function>,
    pub error_enums: Vec<ErrorEnum>,
    /// `type Name<..> = ..Result<.., E>;`: the alias's name and `E`'s text.
    pub result_aliases: Vec<(String, String)>,
    /// `impl From<Source> for Target`, and thiserror's `#[from]`.
    pub from_impls: Vec<FromImpl>,
    /// Structs with named fields: the name and each field's name and type
    /// (each run of whitespace one space).
    pub structs: Vec<(String, Vec<(String, String)>)>,
    /// Tuple structs with one field: the name, the file, the field's type
    /// (whitespace removed) and whether the field is `pub` or `pub(..)`.
    pub newtypes: Vec<Newtype>,
    /// The names of the tuple structs (`struct Name(A, B);`).
    pub tuple_structs: Vec<String>,
    /// How many `impl TryFrom<..> for ..` the crate has.
    pub try_from_impls: usize,
    /// The names of the inline modules (`mod name { .. }`) of the crate.
    pub inline_modules: std::collections::HashSet<String>,
    /// Types without generics that implement `std::error::Error`
    /// (`impl Error for Name`, `impl std::error::Error for Name`): their
    /// names.
    pub std_errors: Vec<String>,
    /// How many structs and enums of the library bear each name (test
    /// code's own types, which library code cannot name, are not counted).
    pub type_names: std::collections::HashMap<String, usize>,
    /// The crate's structs and enums.
    pub decls: Vec<TypeDecl>,
    /// `type Name = Target;` (a module's item, without generics of its own):
    /// the module that declares it and the target, whitespace removed (empty
    /// when two aliases share the name).
    pub type_aliases: std::collections::HashMap<String, (String, String)>,
    /// Per module of the library (`crate::proto`, an inline module too):
    /// the names its `use` items bring in.
    pub uses: std::collections::HashMap<String, Vec<UseEntry>>,
    /// Modules declared `#[cfg(test)] mod name;` (`crate::test`).
    test_modules: Vec<String>,
    /// The crate root (`src/lib.rs`), when it is one of the files.
    pub lib_root: Option<usize>,
    /// Functions by file and start offset.
    pub by_start: std::collections::HashMap<(usize, usize), usize>,
    /// Functions by name, functions by file, files by path.
    pub by_name: std::collections::HashMap<String, Vec<usize>>,
    pub by_file: Vec<Vec<usize>>,
    pub by_path: std::collections::HashMap<PathBuf, usize>,
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
    sites: SitesByName,
    /// [`doc_calls_to`]'s answers by name.
    doc_sites: SitesByName,
    /// Which files mention each identifier-like word, built on first use.
    words: std::sync::OnceLock<std::collections::HashMap<String, Vec<usize>>>,
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
        let test_file = |file: &IndexedFile| {
            file.outside_library
                || index.test_modules.iter().any(|test| {
                    file.module == *test || file.module.starts_with(&format!("{test}::"))
                })
        };
        for decl in &index.decls {
            if !decl.test && !test_file(&index.files[decl.file]) {
                *index.type_names.entry(decl.name.clone()).or_default() += 1;
            }
        }
        index.by_start = index
            .functions
            .iter()
            .enumerate()
            .map(|(at, f)| ((f.file, f.range.start), at))
            .collect();
        index.by_file = vec![Vec::new(); index.files.len()];
        for (at, function) in index.functions.iter().enumerate() {
            index.by_file[function.file].push(at);
            index
                .by_name
                .entry(function.name.clone())
                .or_default()
                .push(at);
        }
        index.by_path = index
            .files
            .iter()
            .enumerate()
            .map(|(at, f)| (f.path.clone(), at))
            .collect();
        index
    }

    fn collect(&mut self, at: usize, file: &SourceFile) {
        let module = self.files[at].module.clone();
        // Test, bench and example files are crates of their own: their
        // `crate::` is not the library's.
        let library = !self.files[at].outside_library;
        for node in file.syntax().descendants() {
            if let Some(item) = ast::Module::cast(node.clone())
                && item.item_list().is_none()
                && test_attrs(item.syntax())
                && let Some(name) = item.name()
            {
                self.test_modules.push(format!("{module}::{}", name.text()));
            }
            if let Some(item) = ast::Module::cast(node.clone())
                && item.item_list().is_some()
                && let Some(name) = item.name()
            {
                self.inline_modules.insert(name.text().to_string());
            }
            if library
                && let Some(item) = ast::Use::cast(node.clone())
                && let Some((in_module, entries)) = resolve::use_entries(&module, &item)
            {
                self.uses.entry(in_module).or_default().extend(entries);
            }
            if let Some(func) = ast::Fn::cast(node.clone()) {
                if let Some(function) = function(at, &func) {
                    self.functions.push(function);
                }
            } else if let Some(item) = ast::Enum::cast(node.clone()) {
                let item_module = resolve::item_module(&module, item.syntax());
                self.from_impls
                    .extend(
                        derived_froms(&item)
                            .into_iter()
                            .map(|(source, target)| FromImpl {
                                written: target.clone(),
                                source,
                                target,
                                module: item_module.clone(),
                            }),
                    );
                if let Some(name) = item.name() {
                    self.decls.push(TypeDecl {
                        name: name.text().to_string(),
                        file: at,
                        module: item_module,
                        test: in_test_code(item.syntax()),
                    });
                }
                if let Some(error) = error_enum(at, &module, file, &item) {
                    self.error_enums.push(error);
                }
            } else if let Some(item) = ast::Struct::cast(node.clone()) {
                if let Some(name) = item.name() {
                    self.decls.push(TypeDecl {
                        name: name.text().to_string(),
                        file: at,
                        module: resolve::item_module(&module, item.syntax()),
                        test: in_test_code(item.syntax()),
                    });
                }
                if let (Some(name), Some(ast::FieldList::TupleFieldList(list))) =
                    (item.name(), item.field_list())
                {
                    let fields: Vec<ast::TupleField> = list.fields().collect();
                    self.tuple_structs.push(name.text().to_string());
                    if let [field] = fields.as_slice()
                        && let Some(ty) = field.ty()
                    {
                        self.newtypes.push(Newtype {
                            name: name.text().to_string(),
                            file: at,
                            field: squeezed(ty.syntax()),
                            field_visible: field.visibility().is_some(),
                            inline_module: item
                                .syntax()
                                .ancestors()
                                .any(|a| ast::Module::can_cast(a.kind())),
                        });
                    }
                }
                if let (Some(name), Some(ast::FieldList::RecordFieldList(list))) =
                    (item.name(), item.field_list())
                {
                    let fields = list
                        .fields()
                        .filter_map(|f| {
                            Some((f.name()?.text().to_string(), spaced(f.ty()?.syntax())))
                        })
                        .collect();
                    self.structs.push((name.text().to_string(), fields));
                }
            } else if let Some(alias) = ast::TypeAlias::cast(node.clone()) {
                if let Some(entry) = result_alias(&alias) {
                    self.result_aliases.push(entry);
                }
                // `type AnyMap = HashMap<..>;` (no generics of its own): what
                // a receiver of that type is. Two aliases of one name: none.
                // Module items only: an `impl`'s `type Error = ..;` is an
                // associated type, not an alias.
                let module_item = alias.syntax().parent().is_some_and(|p| {
                    p.kind() == SyntaxKind::SOURCE_FILE || p.kind() == SyntaxKind::ITEM_LIST
                });
                if !self.files[at].outside_library
                    && module_item
                    && alias.generic_param_list().is_none()
                    && let (Some(name), Some(ty)) = (alias.name(), alias.ty())
                {
                    let target = squeezed(ty.syntax());
                    let in_module = resolve::item_module(&module, alias.syntax());
                    self.type_aliases
                        .entry(name.text().to_string())
                        .and_modify(|seen| seen.1.clear())
                        .or_insert((in_module, target));
                }
            } else if let Some(imp) = ast::Impl::cast(node) {
                if let Some((source, target)) = from_impl(&imp) {
                    let written = imp
                        .self_ty()
                        .map(|t| squeezed(t.syntax()))
                        .unwrap_or_default();
                    self.from_impls.push(FromImpl {
                        source,
                        target,
                        written: written.split('<').next().unwrap_or_default().to_string(),
                        module: resolve::item_module(&module, imp.syntax()),
                    });
                }
                if let Some(name) = std_error_impl(&imp) {
                    self.std_errors.push(name);
                }
                if imp
                    .trait_()
                    .is_some_and(|t| squeezed(t.syntax()).starts_with("TryFrom<"))
                {
                    self.try_from_impls += 1;
                }
            }
        }
    }

    /// The functions named `name`.
    pub fn functions_named<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = (usize, &'a Function)> {
        self.by_name
            .get(name)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&at| (at, &self.functions[at]))
    }

    /// The innermost function whose body holds `offset` of file `file`.
    pub fn function_at(&self, file: usize, offset: usize) -> Option<usize> {
        self.by_file
            .get(file)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&at| (at, &self.functions[at]))
            .filter(|(_, f)| {
                f.body
                    .as_ref()
                    .is_some_and(|b| b.start <= offset && offset < b.end)
            })
            .min_by_key(|(_, f)| f.range.end - f.range.start)
            .map(|(at, _)| at)
    }

    pub fn file_of(&self, path: &Path) -> Option<usize> {
        self.by_path.get(path).copied()
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

pub(crate) fn function(at: usize, func: &ast::Fn) -> Option<Function> {
    let name = func.name()?.text().to_string();
    let params = func.param_list()?;
    let owner = owner(func);
    let visibility: String = func
        .visibility()
        .map(|vis| squeezed(vis.syntax()))
        .unwrap_or_default();
    let public = visibility == "pub";
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
        inline_modules: {
            let mut names: Vec<String> = func
                .syntax()
                .ancestors()
                .filter_map(ast::Module::cast)
                .filter_map(|m| m.name())
                .map(|n| n.text().to_string())
                .collect();
            names.reverse();
            names
        },
        has_self: params.self_param().is_some(),
        params: params
            .params()
            .map(|param| param.ty().map(|ty| spaced(ty.syntax())).unwrap_or_default())
            .collect(),
        param_names: params
            .params()
            .map(|param| match param.pat() {
                Some(ast::Pat::IdentPat(pat)) => {
                    pat.name().map(|n| n.text().to_string()).unwrap_or_default()
                }
                _ => String::new(),
            })
            .collect(),
        crate_visible: public || visibility == "pub(crate)",
        ret: func
            .ret_type()
            .and_then(|ret| ret.ty())
            .map(|ty| range(ty.syntax())),
        ret_expanded: func
            .ret_type()
            .and_then(|ret| ret.ty())
            .filter(|ty| ty.syntax().text().contains_char(':'))
            .and_then(|ty| {
                let expanded = context::expanded_type_text(&ty);
                (expanded != ty.syntax().text().to_string())
                    .then(|| expanded.split_whitespace().collect())
            }),
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
    // A generic error (`Error<E>`) cannot be named without its parameters.
    if !name.ends_with("Error") || item.generic_param_list().is_some() {
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
    /// In a doc example (a doctest): a program of its own that uses the
    /// library as a dependency, where a panic fails the example as a test.
    Doc,
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
    "matches",
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
pub fn calls_to(index: &CrateIndex, name: &str) -> Arc<Vec<CallSite>> {
    memoized(&index.calls.sites, name, || find_calls(index, name))
}

type SitesByName = std::sync::Mutex<std::collections::HashMap<String, Arc<Vec<CallSite>>>>;

/// `cache`'s answer for `name`, found with `find` the first time.
fn memoized(
    cache: &SitesByName,
    name: &str,
    find: impl FnOnce() -> Vec<CallSite>,
) -> Arc<Vec<CallSite>> {
    if let Some(sites) = lock(cache).get(name) {
        return Arc::clone(sites);
    }
    let sites = Arc::new(find());
    lock(cache).insert(name.to_string(), Arc::clone(&sites));
    sites
}

fn find_calls(index: &CrateIndex, name: &str) -> Vec<CallSite> {
    let mut out = Vec::new();
    let keywords = [name.to_string()];
    let edition = index.edition.unwrap_or(Edition::CURRENT);
    let words = index.calls.words.get_or_init(|| word_files(&index.files));
    for &at in words.get(name).map_or(&[][..], Vec::as_slice) {
        let file = &index.files[at];
        let Some(parsed) = index.calls.tree(at, &file.text, edition) else {
            continue;
        };
        if let Some(names) = name_refs_outside_macros(&parsed, &file.text, name) {
            let tree = trees::file_tree(&parsed);
            out.extend(names.iter().filter_map(|node| site(index, at, &tree, node)));
            continue;
        }
        let mut seen = std::collections::HashSet::new();
        for tree in trees::collect(&parsed, edition, &keywords) {
            for node in tree.root.descendants() {
                if node.kind() != SyntaxKind::NAME_REF || node.text() != name {
                    continue;
                }
                seen.insert(tree.node_range(&node).start);
                if let Some(site) = site(index, at, &tree, &node) {
                    out.push(site);
                }
            }
        }
        out.extend(unparsed_macro_calls(at, &parsed, name, &seen));
    }
    out
}

/// Calls of `name` in the arguments of macros whose arguments temper does
/// not parse (`tap_inner!(self, mut this => { this.f(..) })` in axum): the
/// chain cannot be carried in there, so each such call is a site in a
/// macro. `seen` holds the offsets of the name references found in the
/// trees that were parsed.
fn unparsed_macro_calls(
    at: usize,
    file: &SourceFile,
    name: &str,
    seen: &std::collections::HashSet<usize>,
) -> Vec<CallSite> {
    let mut out = Vec::new();
    for token in file
        .syntax()
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
    {
        if token.kind() != SyntaxKind::IDENT
            || token.text() != name
            || token
                .parent()
                .is_none_or(|p| p.kind() != SyntaxKind::TOKEN_TREE)
        {
            continue;
        }
        let start = usize::from(token.text_range().start());
        if seen.contains(&start) {
            continue;
        }
        let significant = |t: Option<ra_ap_syntax::SyntaxToken>, forward: bool| {
            let mut t = t;
            while let Some(token) = &t {
                if !token.kind().is_trivia() {
                    break;
                }
                t = if forward {
                    token.next_token()
                } else {
                    token.prev_token()
                };
            }
            t.map(|t| t.kind())
        };
        let called = significant(token.next_token(), true) == Some(SyntaxKind::L_PAREN);
        let kind = match significant(token.prev_token(), false) {
            Some(SyntaxKind::DOT) if called => CallKind::Method(String::new()),
            Some(SyntaxKind::DOT) => continue,
            _ if called => CallKind::Path(Vec::new()),
            _ => continue,
        };
        let end = usize::from(token.text_range().end());
        out.push(CallSite {
            file: at,
            kind,
            range: start..end,
            end,
            awaited: false,
            place: CallPlace::Macro,
            test: token.parent().is_some_and(|p| in_test_code(&p)),
            as_value: false,
        });
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
    let shape = call_shape(tree, name_ref)?;
    Some(CallSite {
        file: at,
        place: place(index, at, tree, &shape.call),
        test: tree.ancestors(&shape.call).iter().any(test_attrs),
        kind: shape.kind,
        range: shape.range,
        end: shape.end,
        awaited: shape.awaited,
        as_value: shape.as_value,
    })
}

/// A call (or a mention as a value) of the name at `name_ref`, with offsets
/// in `tree`'s text.
struct CallShape {
    call: SyntaxNode,
    kind: CallKind,
    as_value: bool,
    range: Range<usize>,
    end: usize,
    awaited: bool,
}

fn call_shape(tree: &trees::Tree, name_ref: &SyntaxNode) -> Option<CallShape> {
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
    Some(CallShape {
        call,
        kind,
        as_value,
        range: call_range,
        end,
        awaited,
    })
}

/// Calls to `name` in the doc examples of the library's files: the code
/// blocks of `///` and `//!` comments that rustdoc compiles as doctests
/// (not `ignore`, `compile_fail`, `text` or another language). Offsets are
/// the file's; hidden lines (`# let x = ..;`) count, as rustdoc compiles
/// them.
pub fn doc_calls_to(index: &CrateIndex, name: &str) -> Arc<Vec<CallSite>> {
    memoized(&index.calls.doc_sites, name, || find_doc_calls(index, name))
}

fn find_doc_calls(index: &CrateIndex, name: &str) -> Vec<CallSite> {
    const WRAPPER: &str = "fn __temper_doc_example() {\n";
    let mut out = Vec::new();
    let edition = index.edition.unwrap_or(Edition::CURRENT);
    let keywords = [name.to_string()];
    let words = index.calls.words.get_or_init(|| word_files(&index.files));
    for &at in words.get(name).map_or(&[][..], Vec::as_slice) {
        let file = &index.files[at];
        if file.outside_library {
            continue;
        }
        for block in doc_examples(&file.text) {
            if !block.code.contains(name) || !crate::lex::shape(&block.code).within_limits() {
                continue;
            }
            let wrapped = format!("{WRAPPER}{}}}", block.code);
            let parsed = SourceFile::parse(&wrapped, edition).tree();
            let to_file = |offset: usize| block.file_offset(offset.checked_sub(WRAPPER.len())?);
            for tree in trees::collect(&parsed, edition, &keywords) {
                for node in tree.root.descendants() {
                    if node.kind() != SyntaxKind::NAME_REF || node.text() != name {
                        continue;
                    }
                    let Some(shape) = call_shape(&tree, &node) else {
                        continue;
                    };
                    let (Some(start), Some(end), Some(after)) = (
                        to_file(shape.range.start),
                        to_file(shape.range.end),
                        to_file(shape.end),
                    ) else {
                        continue;
                    };
                    out.push(CallSite {
                        file: at,
                        kind: shape.kind,
                        range: start..end,
                        end: after,
                        awaited: shape.awaited,
                        place: CallPlace::Doc,
                        test: false,
                        as_value: shape.as_value,
                    });
                }
            }
        }
    }
    out
}

/// The code of one doc example, and where each of its lines is in the file.
#[derive(Debug, Default)]
struct DocExample {
    code: String,
    /// Per line: its start in `code`, its start in the file, its length.
    lines: Vec<(usize, usize, usize)>,
    /// Whether rustdoc compiles it as Rust.
    rust: bool,
}

impl DocExample {
    /// The file offset of `offset` in [`Self::code`], when it is on a line
    /// (or at its end) rather than on a line break the file does not have
    /// there.
    fn file_offset(&self, offset: usize) -> Option<usize> {
        let at = self.lines.partition_point(|&(start, _, _)| start <= offset);
        let &(start, file_start, len) = self.lines.get(at.checked_sub(1)?)?;
        (offset - start <= len).then_some(file_start + offset - start)
    }
}

/// The doc examples of `text`: fenced code blocks in runs of `///` or `//!`
/// lines.
fn doc_examples(text: &str) -> Vec<DocExample> {
    let mut out = Vec::new();
    let mut open: Option<DocExample> = None;
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let at = line_start;
        line_start += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start().len();
        let rest = &body[indent..];
        let doc = (rest.starts_with("///") && !rest.starts_with("////")) || rest.starts_with("//!");
        if !doc {
            // The comment ended inside a block: not an example to edit.
            open = None;
            continue;
        }
        let mut content_at = indent + 3;
        if body[content_at..].starts_with(' ') {
            content_at += 1;
        }
        let content = &body[content_at..];
        let trimmed = content.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            match open.take() {
                Some(block) if block.rust => out.push(block),
                Some(_) => {}
                None => {
                    open = Some(DocExample {
                        rust: rust_info(trimmed[3..].trim_start_matches(['`', '~'])),
                        ..DocExample::default()
                    });
                }
            }
            continue;
        }
        let Some(block) = open.as_mut() else {
            continue;
        };
        // rustdoc's hidden lines: `# code` and a lone `#` are compiled, shown
        // without the `#`; `##` is a literal `#`.
        let lead = content.len() - trimmed.len();
        let (skip, code) = if trimmed == "#" {
            (lead + 1, "")
        } else if let Some(code) = trimmed.strip_prefix("# ") {
            (lead + 2, code)
        } else if trimmed.starts_with("##") {
            (lead + 1, &trimmed[1..])
        } else {
            (0, content)
        };
        block
            .lines
            .push((block.code.len(), at + content_at + skip, code.len()));
        block.code.push_str(code);
        block.code.push('\n');
    }
    out
}

/// Whether a code block's info string (after the fence) is one rustdoc
/// compiles as a doctest.
fn rust_info(info: &str) -> bool {
    info.split([',', ' ', '\t'])
        .filter(|token| !token.is_empty())
        .all(|token| {
            matches!(
                token,
                "rust" | "no_run" | "should_panic" | "test_harness" | "standalone_crate"
            ) || token.starts_with("edition")
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

fn spaced(node: &SyntaxNode) -> String {
    node.text()
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
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

/// The `Result` a `poll` function's `Poll<Result<..>>` or
/// `Poll<Option<Result<..>>>` holds (`ty` whitespace removed), which `?`
/// propagates into as into a `Result`; `ty` itself when it is no `Poll`.
pub fn poll_output(ty: &str) -> &str {
    let Some(inner) = ty.strip_prefix("Poll<").and_then(|t| t.strip_suffix('>')) else {
        return ty;
    };
    inner
        .strip_prefix("Option<")
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(inner)
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

/// The conversions a derive writes for `#[from]` fields (thiserror's
/// `Variant(#[from] S)`), as `(S, Enum)`.
fn derived_froms(item: &ast::Enum) -> Vec<(String, String)> {
    let (Some(name), Some(list)) = (item.name(), item.variant_list()) else {
        return Vec::new();
    };
    let from = |attrs: ast::AstChildren<ast::Attr>| {
        attrs
            .into_iter()
            .any(|attr| context::attr_text(&attr) == "from")
    };
    let mut found = Vec::new();
    for variant in list.variants() {
        let source = match variant.field_list() {
            Some(ast::FieldList::TupleFieldList(fields)) => fields
                .fields()
                .find(|f| from(f.attrs()))
                .and_then(|f| f.ty()),
            Some(ast::FieldList::RecordFieldList(fields)) => fields
                .fields()
                .find(|f| from(f.attrs()))
                .and_then(|f| f.ty()),
            None => None,
        };
        if let Some(source) = source {
            found.push((squeezed(source.syntax()), name.text().to_string()));
        }
    }
    found
}

/// `text` parsed as one expression.
fn parse_expr(text: &str, edition: Edition) -> Option<ast::Expr> {
    let parsed = SourceFile::parse(&format!("fn f() {{ let _ = {text}; }}"), edition);
    if !parsed.errors().is_empty() {
        return None;
    }
    parsed
        .tree()
        .syntax()
        .descendants()
        .find_map(ast::LetStmt::cast)?
        .initializer()
}

/// The name a method call on a value of type `ty` (nominal, see
/// [`nominal`]) is looked up under: the type's own, or through the smart
/// pointer holding it (`Arc<Hook<T>>` calls `Hook`'s methods; a crate
/// cannot add inherent methods to `Arc`).
fn type_head(ty: &str) -> Option<String> {
    let head = ty.split('<').next()?.rsplit("::").next()?;
    if matches!(
        head,
        "Arc"
            | "Rc"
            | "Box"
            | "Pin"
            | "Ref"
            | "RefMut"
            | "MutexGuard"
            | "RwLockReadGuard"
            | "RwLockWriteGuard"
            | "ManuallyDrop"
            | "LockResult"
            | "TryLockResult"
    ) {
        return type_head(first_type_arg(ty)?);
    }
    // A std type keeps its path: `std::collections::hash_map::Entry` is not
    // the crate's `Entry`.
    let path = ty.split('<').next()?;
    if ["std::", "core::", "alloc::"]
        .iter()
        .any(|p| path.starts_with(p))
    {
        return is_type_name(head).then(|| path.to_string());
    }
    is_type_name(head).then(|| head.to_string())
}

/// `Name`: an uppercase identifier.
fn is_type_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_uppercase())
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// `T` of `Result<T, E>`, `Option<T>`, `io::Result<T>`, or of an alias
/// `Result<T>`.
fn unwrapped(ty: &str) -> Option<String> {
    let head = ty.split('<').next()?.rsplit("::").next()?;
    if !matches!(head, "Result" | "Option" | "LockResult" | "TryLockResult") {
        return None;
    }
    first_type_arg(ty).map(str::to_string)
}

/// What `lock()` / `read()` / `write()` (and their `try_` forms) return on a
/// `Mutex<T>` / `RwLock<T>` behind `Arc`, `Rc` or `Box`: a `LockResult` of
/// the guard (which [`type_head`] looks through, for locks without
/// poisoning too).
fn lock_guard(receiver: &str, method: &str) -> Option<String> {
    let head = receiver.split('<').next()?.rsplit("::").next()?;
    if matches!(head, "Arc" | "Rc" | "Box") {
        return lock_guard(first_type_arg(receiver)?, method);
    }
    let inner = first_type_arg(receiver)?;
    let guard = match (head, method.trim_start_matches("try_")) {
        ("Mutex", "lock") => "MutexGuard",
        ("RwLock", "read") => "RwLockReadGuard",
        ("RwLock", "write") => "RwLockWriteGuard",
        _ => return None,
    };
    Some(format!("LockResult<{guard}<{inner}>>"))
}

/// `A` of `Name<A, ..>` (whitespace removed).
fn first_type_arg(ty: &str) -> Option<&str> {
    let inner = ty.get(ty.find('<')? + 1..ty.len().checked_sub(1)?)?;
    let mut depth = 0usize;
    for (at, c) in inner.char_indices() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => return Some(&inner[..at]),
            _ => {}
        }
    }
    Some(inner)
}

/// The type arguments of `ty` (whitespace removed): `[K, V, S]` of
/// `HashMap<K, V, S>`; none without `<..>`.
fn type_args(ty: &str) -> Vec<&str> {
    let Some(inner) = ty
        .find('<')
        .and_then(|open| ty.get(open + 1..ty.len().checked_sub(1)?))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (at, c) in inner.char_indices() {
        match c {
            '<' | '(' | '[' => depth += 1,
            '>' | ')' | ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&inner[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    out.push(&inner[start..]);
    out
}

/// `ret` with the word `Self` replaced by `ty`.
fn with_self(ret: &str, ty: &str) -> String {
    let mut out = String::new();
    let mut rest = ret;
    while let Some(at) = rest.find("Self") {
        let before = rest[..at].chars().next_back();
        let after = rest[at + 4..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        out.push_str(&rest[..at]);
        out.push_str(if word(before) || word(after) {
            "Self"
        } else {
            ty
        });
        rest = &rest[at + 4..];
    }
    out.push_str(rest);
    out
}

/// The initializer of a `let`: `value` up to its `;` at depth zero.
fn initializer(value: &str) -> Option<&str> {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    for (at, c) in value.char_indices() {
        if in_str {
            match (escaped, c) {
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => escaped = false,
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.checked_sub(1)?,
            ';' if depth == 0 => return Some(value[..at].trim()),
            _ => {}
        }
    }
    None
}

/// For `Some(name)` / `Ok(name)` (also `ref name`, `mut name`,
/// `ref mut name`) at the start of `pattern`: the type the wrapper unwraps
/// (`"Option"` or `"Result"`) and the rest of the text after the pattern.
fn some_binding<'a>(pattern: &'a str, name: &str) -> Option<(&'static str, &'a str)> {
    let (wrapper, inner) = match pattern.strip_prefix("Some(") {
        Some(inner) => ("Option", inner),
        None => ("Result", pattern.strip_prefix("Ok(")?),
    };
    let close = inner.find(')')?;
    let mut binding = inner[..close].trim();
    for prefix in ["ref ", "mut "] {
        binding = binding
            .strip_prefix(prefix)
            .map_or(binding, str::trim_start);
    }
    (binding == name).then(|| (wrapper, &inner[close + 1..]))
}

/// The scrutinee of `if let` / `while let` / `let .. else`: `value` up to
/// the block that follows it (or `else`, or the `;` of a plain `let`).
fn scrutinee(value: &str) -> Option<&str> {
    let mut depth = 0usize;
    for (at, c) in value.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.checked_sub(1)?,
            '{' | ';' if depth == 0 => {
                let expr = value[..at].trim();
                return Some(expr.strip_suffix("else").map_or(expr, str::trim_end));
            }
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

/// `impl Error for Name {}` (or `error::Error`, `std::error::Error`,
/// `core::error::Error`) without generics: `Name`.
fn std_error_impl(imp: &ast::Impl) -> Option<String> {
    let trait_ty = squeezed(imp.trait_()?.syntax());
    let std_trait = matches!(
        trait_ty.as_str(),
        "Error" | "error::Error" | "std::error::Error" | "core::error::Error"
    );
    if !std_trait || imp.generic_param_list().is_some() {
        return None;
    }
    let ast::Type::PathType(ty) = imp.self_ty()? else {
        return None;
    };
    let segment = ty.path()?.segment()?;
    if segment.generic_arg_list().is_some() {
        return None;
    }
    Some(segment.name_ref()?.text().to_string())
}

impl CrateIndex {
    /// The type of the local `name` at offset `at` of function `caller`, when
    /// its last `let` before `at` says it plainly: `let x: Type = ..`, or an
    /// initializer [`Self::expr_type`] can follow (`Type { .. }`,
    /// `Type::default()`, `Type::builder(..).size(4).build().unwrap()` through
    /// the crate's own signatures). The type's name, without generics.
    pub fn local_type(&self, caller: usize, name: &str, at: usize) -> Option<String> {
        let full = self.local_full_type(caller, name, at, 0)?;
        type_head(&self.peeled(&full))
    }

    /// The type's name (without generics) of the receiver expression
    /// `receiver` (its text) at offset `at` of function `caller`, through
    /// [`Self::expr_type`]: `conn`, `uri.authority().unwrap()`,
    /// `pool.get().await?`.
    pub fn receiver_type(&self, caller: usize, receiver: &str, at: usize) -> Option<String> {
        let expr = parse_expr(receiver, self.edition.unwrap_or(Edition::CURRENT))?;
        let full = self.expr_type(&expr, caller, at, 0)?;
        type_head(&self.peeled(&full))
    }

    /// `ty` without the smart pointers a method call sees through (`Arc`,
    /// `Rc`, `Box`) and with the crate's aliases replaced by what they name:
    /// `Box<AnyMap>` is `HashMap<TypeId, ..>`.
    fn peeled(&self, ty: &str) -> String {
        let mut ty = dereferenced(ty).to_string();
        for _ in 0..8 {
            let head = ty.split('<').next().unwrap_or_default();
            let last = head.rsplit("::").next().unwrap_or(head);
            let next = match last {
                "Arc" | "Rc" | "Box" => first_type_arg(&ty).map(str::to_string),
                _ if head == last && !ty.contains('<') => {
                    self.alias(last).map(|(_, target)| nominal(target))
                }
                _ => None,
            };
            match next {
                Some(next) => ty = dereferenced(&next).to_string(),
                None => break,
            }
        }
        ty
    }

    /// What the crate's one alias named `name` stands for (whitespace
    /// removed), and the module that declares it.
    pub fn alias(&self, name: &str) -> Option<(&str, &str)> {
        self.type_aliases
            .get(name)
            .filter(|(_, target)| !target.is_empty())
            .map(|(module, target)| (module.as_str(), target.as_str()))
    }

    /// What a method of a std collection returns, for the few whose answer
    /// is a type of the collection's own arguments (`HashMap<K, V>::get` is
    /// `Option<V>`, `::entry` a std `Entry<K, V>`); `None` for the rest and
    /// for a crate type that shares the collection's name.
    fn std_method(&self, receiver: &str, method: &str) -> Option<String> {
        let head = receiver.split('<').next()?;
        let last = head.rsplit("::").next()?;
        let std_path = head.starts_with("std::collections::");
        if !std_path && self.type_names.contains_key(last) {
            return None;
        }
        let args = type_args(receiver);
        match (last, method, args.as_slice()) {
            ("HashMap" | "BTreeMap", "entry", [k, v, ..]) => {
                let module = if last == "HashMap" {
                    "hash_map"
                } else {
                    "btree_map"
                };
                Some(format!("std::collections::{module}::Entry<{k},{v}>"))
            }
            ("HashMap" | "BTreeMap", "get" | "get_mut" | "remove" | "insert", [_, v, ..]) => {
                Some(format!("Option<{v}>"))
            }
            (
                "Entry",
                "or_insert" | "or_insert_with" | "or_insert_with_key" | "or_default",
                [_, v],
            ) if std_path => Some((*v).to_string()),
            (
                "Vec" | "VecDeque",
                "pop" | "pop_front" | "pop_back" | "first" | "last" | "get" | "get_mut",
                [t],
            ) => Some(format!("Option<{t}>")),
            _ => None,
        }
    }

    fn local_full_type(
        &self,
        caller: usize,
        name: &str,
        at: usize,
        depth: usize,
    ) -> Option<String> {
        if depth > 4 {
            return None;
        }
        let function = &self.functions[caller];
        let body = function.body.clone()?;
        let text = &self.files[function.file].text;
        let before = text.get(body.start..at.min(body.end))?;
        // The last `let name` / `let mut name` before the call, or the last
        // `let Some(name) = ..` (`if let`, `while let`, `let .. else`).
        let mut found = None;
        for (offset, _) in before.match_indices("let ") {
            if before[..offset]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
            {
                continue;
            }
            let rest = before[offset + 4..].trim_start();
            if let Some((wrapper, after)) = some_binding(rest, name) {
                found = Some((body.start + offset, after, Some(wrapper)));
                continue;
            }
            let plain = rest.strip_prefix("mut ").map_or(rest, str::trim_start);
            if let Some(after) = plain.strip_prefix(name)
                && after.starts_with([' ', ':', '='])
            {
                found = Some((body.start + offset, after, None));
                continue;
            }
            // Another pattern that binds the name (`if let Ok(mut name) =`,
            // `let (name, _) =`): what it binds is not known, and it
            // shadows every binding before it.
            let pattern = rest.split('=').next().unwrap_or(rest);
            if pattern
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| w == name)
            {
                found = None;
            }
        }
        let (let_at, after, wrapper) = found?;
        let after = after.trim_start();
        if let Some(annotated) = after.strip_prefix(':') {
            return Some(nominal(annotated.split('=').next()?));
        }
        let value = after.strip_prefix('=')?;
        let init = if wrapper.is_some() {
            scrutinee(value)?
        } else {
            initializer(value)?
        };
        let expr = parse_expr(init, self.edition.unwrap_or(Edition::CURRENT))?;
        let ty = self.expr_type(&expr, caller, let_at, depth + 1)?;
        match wrapper {
            // `Some(ref x)` of an `Option<T>` binds a `&T`: the same name;
            // `Ok(x)` of a `Result<T, E>` (or a lock's `LockResult`) a `T`.
            Some(expected) => {
                let head = ty.split('<').next().unwrap_or_default();
                head.ends_with(expected).then(|| unwrapped(&ty)).flatten()
            }
            None => Some(ty),
        }
    }

    /// The type (whitespace removed, `Self` resolved) of `expr`, written in
    /// function `caller` before offset `at`, as far as the crate's own
    /// signatures tell; `None` at the first step they do not.
    pub fn expr_type(
        &self,
        expr: &ast::Expr,
        caller: usize,
        at: usize,
        depth: usize,
    ) -> Option<String> {
        // `depth` counts the `let`s followed; an expression's own nesting is
        // finite.
        if depth > 4 {
            return None;
        }
        match expr {
            ast::Expr::ParenExpr(paren) => self.expr_type(&paren.expr()?, caller, at, depth),
            ast::Expr::RecordExpr(record) => {
                let path = record.path()?;
                let name = path.segment()?.name_ref()?.text().to_string();
                is_type_name(&name).then_some(name)
            }
            ast::Expr::PathExpr(path) => {
                let path = path.path()?;
                if path.qualifier().is_some() {
                    return None;
                }
                let name = path.segment()?.name_ref()?.text().to_string();
                match self.functions[caller]
                    .param_names
                    .iter()
                    .position(|n| *n == name)
                {
                    Some(i) => Some(nominal(&self.functions[caller].params[i])),
                    None => self.local_full_type(caller, &name, at, depth),
                }
            }
            ast::Expr::CallExpr(call) => {
                let ast::Expr::PathExpr(callee) = call.expr()? else {
                    return None;
                };
                let path = callee.path()?;
                let f = path.segment()?.name_ref()?.text().to_string();
                let ty = path.qualifier()?.segment()?.name_ref()?.text().to_string();
                if !is_type_name(&ty) {
                    return None;
                }
                if f == "default" {
                    return Some(ty);
                }
                self.returns_of(&ty, &f)
            }
            // `self.field`, `x.field`: the field's declared type.
            ast::Expr::FieldExpr(field) => {
                let owner = match field.expr()? {
                    ast::Expr::PathExpr(path) if path.syntax().text() == "self" => {
                        match &self.functions[caller].owner {
                            Owner::Inherent(ty) | Owner::TraitImpl { self_ty: ty, .. } => {
                                ty.clone()
                            }
                            _ => return None,
                        }
                    }
                    other => type_head(&self.expr_type(&other, caller, at, depth)?)?,
                };
                let name = field.name_ref()?.text().to_string();
                Some(nominal(self.field_type(&owner, &name)?))
            }
            ast::Expr::MethodCallExpr(call) => {
                let receiver = self.expr_type(&call.receiver()?, caller, at, depth)?;
                let method = call.name_ref()?.text().to_string();
                match method.as_str() {
                    "unwrap" | "expect" | "unwrap_or_else" | "unwrap_or_default" | "unwrap_or" => {
                        unwrapped(&receiver)
                    }
                    "clone" => Some(receiver),
                    // `Option::as_ref` and friends keep the `Option` (the
                    // reference is not part of a nominal type).
                    "as_ref" | "as_mut" | "as_deref" | "as_deref_mut" | "take"
                        if receiver.starts_with("Option<") =>
                    {
                        Some(receiver)
                    }
                    // `Option::get_or_insert_with` and friends: the value.
                    "get_or_insert_with" | "get_or_insert" | "insert"
                        if receiver.starts_with("Option<") =>
                    {
                        unwrapped(&receiver)
                    }
                    // A std lock behind `Arc`/`Rc`/`Box`: its guard.
                    "lock" | "read" | "write" | "try_lock" | "try_read" | "try_write" => {
                        lock_guard(&receiver, &method)
                    }
                    // `Result<T, E>::ok()` is `Option<T>`.
                    "ok" if receiver
                        .split('<')
                        .next()
                        .is_some_and(|h| h.ends_with("Result")) =>
                    {
                        Some(format!("Option<{}>", unwrapped(&receiver)?))
                    }
                    _ => {
                        let receiver = self.peeled(&receiver);
                        if let Some(ty) = self.std_method(&receiver, &method) {
                            return Some(ty);
                        }
                        let head = receiver.split('<').next()?.rsplit("::").next()?.to_string();
                        self.returns_of(&head, &method)
                    }
                }
            }
            ast::Expr::TryExpr(try_expr) => {
                unwrapped(&self.expr_type(&try_expr.expr()?, caller, at, depth)?)
            }
            ast::Expr::AwaitExpr(awaited) => {
                // An `async fn`'s declared type is its output.
                self.expr_type(&awaited.expr()?, caller, at, depth)
            }
            _ => None,
        }
    }

    /// What the crate's `Type::name` returns (whitespace removed, `Self` as
    /// `Type`), when every such function agrees.
    fn returns_of(&self, ty: &str, name: &str) -> Option<String> {
        let mut rets = self
            .functions_named(name)
            .filter(|(_, f)| f.owner == Owner::Inherent(ty.to_string()))
            .map(|(_, f)| {
                let ret = f.ret.as_ref().map_or("()".to_string(), |r| {
                    nominal(&self.files[f.file].text[r.clone()])
                });
                with_self(&ret, ty)
            });
        let first = rets.next()?;
        rets.all(|r| r == first).then_some(first)
    }

    /// The declared type of field `field` of the crate's one struct named
    /// `owner` (`None` when no struct, or two, have that name).
    fn field_type(&self, owner: &str, field: &str) -> Option<&str> {
        let mut structs = self.structs.iter().filter(|(name, _)| name == owner);
        let (_, fields) = structs.next()?;
        if structs.next().is_some() {
            return None;
        }
        Some(&fields.iter().find(|(name, _)| name == field)?.1)
    }

    /// The type named by `receiver` (`self.conn`, `self.conn.as_ref().unwrap()`)
    /// in a method of `self_ty`: the field's type, through an `Option` the
    /// receiver unwraps. `None` when the struct, the field or the shape is
    /// not one syntax tells.
    pub fn field_receiver_type(&self, self_ty: &str, receiver: &str) -> Option<String> {
        let receiver: String = receiver.split_whitespace().collect();
        let rest = receiver.strip_prefix("self.")?;
        let (field, chain) = rest.split_once('.').unwrap_or((rest, ""));
        let unwraps = match chain {
            "" => false,
            "as_ref().unwrap()" | "as_mut().unwrap()" | "take().unwrap()" | "unwrap()" => true,
            _ => return None,
        };
        let ty = dereferenced(self.field_type(self_ty, field)?);
        let ty = if unwraps {
            ty.strip_prefix("Option<")?.strip_suffix('>')?
        } else {
            ty
        };
        let head = ty.split('<').next()?;
        Some(head.rsplit("::").next()?.to_string())
    }

    /// The error type a function's return type (whitespace removed) names:
    /// `E` of `Result<T, E>`, through the crate's aliases; `io::Error` for
    /// `io::Result<T>`.
    pub fn error_type(&self, ret: &str) -> Option<String> {
        let ret = poll_output(ret);
        if ret.starts_with("io::Result<") || ret.starts_with("std::io::Result<") {
            return Some("std::io::Error".to_string());
        }
        // `fmt::Result` is `Result<(), fmt::Error>`, named as written.
        if let Some(path) = ["fmt::Result", "std::fmt::Result", "core::fmt::Result"]
            .iter()
            .find(|path| ret == **path)
        {
            return Some(path.replace("Result", "Error"));
        }
        if let Some(error) = ret
            .strip_prefix("anyhow::Result<")
            .or_else(|| ret.strip_prefix("eyre::Result<"))
            .and_then(|rest| rest.strip_suffix('>'))
            .filter(|rest| !rest.contains(','))
            .map(|_| {
                if ret.starts_with("anyhow") {
                    "anyhow::Error"
                } else {
                    "eyre::Report"
                }
            })
        {
            return Some(error.to_string());
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

    /// Whether the crate converts `source` into the error `target`, written
    /// in module `module`.
    pub fn converts(&self, source: &[&str], target: &str, module: &str) -> bool {
        let written = target.split('<').next().unwrap_or(target);
        let name = written.rsplit("::").next().unwrap_or(written);
        // With two crate types of that name (h2's `crate::Error` and
        // `proto::Error`), each `From` counts for the one its target
        // resolves to; when the target does not resolve, no conversion is
        // taken for granted.
        let ambiguous = self.type_names.get(name).is_some_and(|&n| n > 1);
        let wanted = if ambiguous {
            match self.resolve_type(module, written) {
                Some(decl) => Some(decl),
                None => return false,
            }
        } else {
            None
        };
        self.from_impls.iter().any(|from| {
            from.target == name
                && source.contains(&from.source.as_str())
                && wanted
                    .is_none_or(|decl| self.resolve_type(&from.module, &from.written) == Some(decl))
        })
    }

    /// Whether the crate has a `From` conversion from crate type `from` into
    /// crate type `to` (indices into [`Self::decls`]).
    pub fn converts_decl(&self, from: usize, to: usize) -> bool {
        self.from_impls.iter().any(|imp| {
            imp.target == self.decls[to].name
                && self.resolve_type(&imp.module, &imp.written) == Some(to)
                && self.resolve_type(&imp.module, &imp.source) == Some(from)
        })
    }

    /// The module of the code at `offset` of file `file`: the file's, or an
    /// inline module's inside it.
    pub fn module_at(&self, file: usize, offset: usize) -> String {
        let module = self.files.get(file).map_or("crate", |f| f.module.as_str());
        let Some(tree) = self.tree(file) else {
            return module.to_string();
        };
        let Ok(at) = u32::try_from(offset) else {
            return module.to_string();
        };
        match tree.syntax().token_at_offset(at.into()).right_biased() {
            Some(token) => match token.parent() {
                Some(parent) => resolve::item_module(module, &parent),
                None => module.to_string(),
            },
            None => module.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(text: &str) -> CrateIndex {
        let files = vec![(PathBuf::from("/p/src/lib.rs"), Arc::from(text))];
        CrateIndex::build(&files, Edition::Edition2021)
    }

    #[test]
    fn locals_resolve_through_their_let() {
        let text = "pub struct Registry { n: u8 }\n\
             impl Registry { pub fn new() -> Self { Registry { n: 0 } } pub fn open() -> Option<Registry> { None } }\n\
             fn load() {\n\
                 let mut a = Registry::default();\n\
                 let b: &Registry = &a;\n\
                 let c = Registry { n: 1 };\n\
                 let d = Registry::new();\n\
                 let e = Registry::open();\n\
                 let f = Registry::new().clone();\n\
                 let h = Registry::builder().size(4).build().unwrap();\n\
                 let i = Registry::open().map(|r| r);\n\
                 a.add(); b.add(); c.add(); d.add(); e.add(); f.add(); g.add(); h.add(); i.add();\n\
             }\n\
             pub struct Builder { size: u8 }\n\
             impl Registry { pub fn builder() -> Builder { Builder { size: 0 } } }\n\
             impl Builder { pub fn size(self, n: u8) -> Self { self } pub fn build(self) -> Result<Registry, String> { Ok(Registry { n: 0 }) } }\n";
        let index = index(text);
        let load = index.functions_named("load").next().expect("load").0;
        let at = text.find("a.add()").expect("call");
        let local = |name: &str| index.local_type(load, name, at);
        assert_eq!(local("a").as_deref(), Some("Registry"));
        assert_eq!(local("b").as_deref(), Some("Registry"));
        assert_eq!(local("c").as_deref(), Some("Registry"));
        assert_eq!(local("d").as_deref(), Some("Registry"));
        assert_eq!(local("f").as_deref(), Some("Registry"));
        // Through a builder's own signatures and the `unwrap` of its result.
        assert_eq!(local("h").as_deref(), Some("Registry"));
        // An `Option<Registry>` is not a `Registry`.
        assert_eq!(local("e").as_deref(), Some("Option"));
        // A std method on the way, an unknown name: not told.
        assert_eq!(local("i"), None);
        assert_eq!(local("g"), None);
    }

    #[test]
    fn nominal_types_drop_references_and_lifetimes() {
        assert_eq!(nominal("&mut Codec<T, B>"), "Codec<T,B>");
        assert_eq!(nominal("Option<&'a mut Authority>"), "Option<Authority>");
        assert_eq!(nominal("&'static str"), "str");
        assert_eq!(nominal("Entry<'a, T>"), "Entry<T>");
        assert_eq!(nominal("Ref<'_>"), "Ref");
        assert_eq!(nominal("Box<dyn Error + Send>"), "Box<Error+Send>");
        assert_eq!(nominal("Result<Muted, E>"), "Result<Muted,E>");
    }

    #[test]
    fn test_code_types_do_not_share_library_names() {
        let files = [
            (
                PathBuf::from("/p/src/lib.rs"),
                Arc::from(
                    "#[cfg(test)]\nmod test;\npub struct Error(Option<String>);\npub enum Kind { A }\n\
                     #[cfg(test)]\nmod tests { pub enum Kind { B } }\n",
                ),
            ),
            (
                PathBuf::from("/p/src/test.rs"),
                Arc::from("pub struct Error;\n"),
            ),
            (
                PathBuf::from("/p/src/other.rs"),
                Arc::from("pub struct Error;\n"),
            ),
        ];
        let index = CrateIndex::build(&files[..2], Edition::Edition2021);
        assert_eq!(index.type_names.get("Error"), Some(&1));
        assert_eq!(index.type_names.get("Kind"), Some(&1));
        // A library module's type of the same name is another candidate.
        let index = CrateIndex::build(&[files[0].clone(), files[2].clone()], Edition::Edition2021);
        assert_eq!(index.type_names.get("Error"), Some(&2));
    }

    #[test]
    fn receivers_resolve_through_references() {
        let text = "pub struct Uri; pub struct Authority; pub struct Codec<T>(T);\n\
             impl Uri { pub fn authority(&self) -> Option<&'_ Authority> { None } }\n\
             impl Authority { pub fn host(&self) -> &str { \"\" } }\n\
             fn send(dst: &mut Codec<u8>, uri: &'static Uri) { dst.flush(); uri.authority().unwrap().host(); }\n";
        let index = index(text);
        let (send, _) = index.functions_named("send").next().expect("send");
        let at = text.find("dst.flush").expect("call");
        let receiver = |text: &str| index.receiver_type(send, text, at);
        assert_eq!(receiver("dst").as_deref(), Some("Codec"));
        assert_eq!(receiver("uri").as_deref(), Some("Uri"));
        assert_eq!(
            receiver("uri.authority().unwrap()").as_deref(),
            Some("Authority")
        );
        assert_eq!(type_head("Arc<Hook<T,dynSignal>>").as_deref(), Some("Hook"));
        assert_eq!(type_head("Pin<Box<Conn>>").as_deref(), Some("Conn"));
        assert_eq!(type_head("Option<Conn>").as_deref(), Some("Option"));
    }

    #[test]
    fn receivers_resolve_through_parameters_and_fields() {
        let index = index(
            "pub struct Connection<M> { conn: Option<ActiveConn<M>>, pool: Pool<M>, raw: &'static Raw }\n\
             impl<M> Connection<M> {\n\
                 pub fn is_new(&self) -> bool { self.conn.as_ref().unwrap().is_new() }\n\
             }\n\
             fn validate(conn: &mut IdleConn<u8>, other: T, n: usize) {}\n",
        );
        let field = |receiver: &str| index.field_receiver_type("Connection", receiver);
        assert_eq!(
            field("self.conn.as_ref().unwrap()").as_deref(),
            Some("ActiveConn")
        );
        assert_eq!(
            field("self.conn.take().unwrap()").as_deref(),
            Some("ActiveConn")
        );
        assert_eq!(field("self.pool").as_deref(), Some("Pool"));
        assert_eq!(field("self.raw").as_deref(), Some("Raw"));
        // Not an `Option` to unwrap, an unknown field, another shape.
        assert_eq!(field("self.pool.unwrap()"), None);
        assert_eq!(field("self.missing"), None);
        assert_eq!(field("self.conn.get().unwrap()"), None);
        assert_eq!(index.field_receiver_type("Other", "self.conn"), None);

        let validate = index
            .functions_named("validate")
            .map(|(_, f)| f)
            .next()
            .expect("indexed");
        assert_eq!(validate.param_type("conn"), Some("IdleConn"));
        // A generic parameter's name is a type, but not a named one we know.
        assert_eq!(validate.param_type("other"), Some("T"));
        assert_eq!(validate.param_type("n"), None);
        assert_eq!(validate.param_type("missing"), None);
    }

    #[test]
    fn error_types_from_return_types() {
        let index = index("pub type Result<T> = std::result::Result<T, crate::Error>;\n");
        let error = |ret: &str| index.error_type(ret);
        assert_eq!(error("fmt::Result").as_deref(), Some("fmt::Error"));
        assert_eq!(
            error("std::fmt::Result").as_deref(),
            Some("std::fmt::Error")
        );
        assert_eq!(error("io::Result<u8>").as_deref(), Some("std::io::Error"));
        assert_eq!(
            error("anyhow::Result<u8>").as_deref(),
            Some("anyhow::Error")
        );
        assert_eq!(error("Result<u8,MyError>").as_deref(), Some("MyError"));
        assert_eq!(error("Result<u8>").as_deref(), Some("crate::Error"));
        assert_eq!(error("Vec<u8>"), None);
    }

    /// h2's layout: `crate::Error` (re-exported from `error`) and
    /// `proto::Error` (re-exported from `proto::error`), each named by
    /// paths, `use`s, globs and inline modules.
    #[test]
    fn two_types_of_one_name_resolve_by_path() {
        let file = |path: &str, text: &str| (PathBuf::from(format!("/p/{path}")), Arc::from(text));
        let files = vec![
            file(
                "src/lib.rs",
                "mod error;\nmod proto;\npub use crate::error::{Error, Reason as R};\n\
                 mod inner { use crate::proto::*; }\n",
            ),
            file(
                "src/error.rs",
                "use crate::proto::{self, Initiator};\npub struct Error;\npub struct Reason;\n\
                 impl From<proto::Error> for Error { fn from(_: proto::Error) -> Self { Error } }\n",
            ),
            file(
                "src/proto/mod.rs",
                "mod error;\npub use self::error::Error;\n",
            ),
            file(
                "src/proto/error.rs",
                "pub struct Error;\npub struct Initiator;\n\
                 impl From<std::io::Error> for Error { fn from(_: std::io::Error) -> Self { Error } }\n",
            ),
            file("tests/t.rs", "pub struct Error;\n"),
            // Globs both ways: each (module, path) is visited once.
            file("src/a.rs", "use crate::*;\nuse crate::b::*;\n"),
            file("src/b.rs", "use super::*;\nuse crate::a::*;\n"),
        ];
        let index = CrateIndex::build(&files, Edition::Edition2021);
        let decl = |module: &str, written: &str| {
            index
                .resolve_type(module, written)
                .map(|d| format!("{}::{}", index.decls[d].module, index.decls[d].name))
        };
        let top = Some("crate::error::Error".to_string());
        let proto = Some("crate::proto::error::Error".to_string());
        assert_eq!(decl("crate", "Error"), top);
        assert_eq!(decl("crate::proto", "Error"), proto);
        assert_eq!(decl("crate::proto::streams", "crate::Error"), top);
        assert_eq!(decl("crate::proto::streams", "super::Error"), proto);
        assert_eq!(decl("crate::error", "proto::Error"), proto);
        assert_eq!(decl("crate::error", "Error"), top);
        assert_eq!(decl("crate::client", "crate::proto::Error<T>"), proto);
        assert_eq!(decl("crate::inner", "Error"), proto);
        assert_eq!(decl("crate", "R"), Some("crate::error::Reason".to_string()));
        assert_eq!(decl("crate::a", "Error"), top);
        assert_eq!(decl("crate::b", "Missing"), None);
        // Not the crate's, or not a path this follows.
        assert_eq!(decl("crate::error", "std::io::Error"), None);
        assert_eq!(decl("crate::client", "Error"), None);
        // A conversion counts for the type its target resolves to.
        assert!(index.converts(&["io::Error", "std::io::Error"], "Error", "crate::proto"));
        assert!(!index.converts(
            &["io::Error", "std::io::Error"],
            "crate::Error",
            "crate::proto"
        ));
        assert!(!index.converts(&["io::Error", "std::io::Error"], "Error", "crate::client"));
        let (top, proto) = (
            index.resolve_type("crate", "Error").expect("resolves"),
            index
                .resolve_type("crate::proto", "Error")
                .expect("resolves"),
        );
        assert!(index.converts_decl(proto, top));
        assert!(!index.converts_decl(top, proto));
    }

    /// http's `Extensions`: a field `Option<Box<AnyMap>>`, where `AnyMap` is
    /// an alias of a std `HashMap`; neither the map's `entry` nor its
    /// `Entry`'s `or_insert_with` is the crate's `HeaderMap::entry` or
    /// `Entry::or_insert_with`.
    #[test]
    fn std_collections_behind_aliases_are_not_crate_types() {
        let index = index(
            "use std::collections::HashMap;\n\
             type AnyMap = HashMap<TypeId, Box<dyn Any>>;\n\
             pub struct Entry;\n\
             pub struct Item;\n\
             pub struct Extensions { map: Option<Box<AnyMap>>, items: Vec<Item>, named: HashMap<String, Item> }\n\
             impl Extensions { fn get(&mut self) {\n\
                 let a = self.map.get_or_insert_with(Box::default);\n\
                 let b = self.map.get_or_insert_with(Box::default).entry(1);\n\
                 let c = self.items.pop().unwrap();\n\
                 let d = self.named.get(\"x\").unwrap();\n\
                 let e = self.named.entry(String::new()).or_default();\n\
                 a.x(); b.x(); c.x(); d.x(); e.x();\n\
             } }\n",
        );
        let (caller, f) = index.functions_named("get").next().expect("indexed");
        let at = f.body.clone().expect("a body").end - 2;
        let ty = |name: &str| index.local_type(caller, name, at);
        assert_eq!(ty("a").as_deref(), Some("HashMap"));
        assert_eq!(
            ty("b").as_deref(),
            Some("std::collections::hash_map::Entry")
        );
        assert_eq!(ty("c").as_deref(), Some("Item"));
        assert_eq!(ty("d").as_deref(), Some("Item"));
        assert_eq!(ty("e").as_deref(), Some("Item"));
    }
}
