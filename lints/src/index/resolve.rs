//! Which of the crate's types a written type path names, when two types
//! share a name (h2's `crate::Error` and `proto::Error`): the path is
//! followed through module paths and the `use` items of each module's file,
//! as rustc resolves it for the common shapes (`crate::`, `self::`,
//! `super::`, a name a `use` brings in, a `pub use` re-export, a glob). A
//! path that leaves the crate, or a shape this does not follow, resolves to
//! nothing: the caller stays as careful as without it.

use super::CrateIndex;
use ra_ap_syntax::ast::{self, HasName};
use ra_ap_syntax::{AstNode, SyntaxKind};

/// A struct or enum of the crate.
#[derive(Debug, Clone)]
pub struct TypeDecl {
    pub name: String,
    /// Index into [`CrateIndex::files`].
    pub file: usize,
    /// The module that declares it: the file's, then its inline modules
    /// (`crate::proto::error`, `crate::a::inner`).
    pub module: String,
    /// Inside `#[cfg(test)]` code.
    pub test: bool,
}

/// What one name of a file's top-level `use` items stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseEntry {
    /// The name the item brings in (`Error`, `proto`); `*` for a glob.
    pub name: String,
    /// The path it stands for (`crate::error::Error`, `self::error`).
    pub path: String,
}

/// What a `use` item of a file of module `module` brings in, and the
/// module it is written in (the file's own, or an inline `mod name { .. }`'s);
/// `None` for a `use` inside a function body, which is not a module's item.
pub(super) fn use_entries(module: &str, item: &ast::Use) -> Option<(String, Vec<UseEntry>)> {
    let parent = item.syntax().parent()?;
    let in_module = parent.kind() == SyntaxKind::SOURCE_FILE
        || (parent.kind() == SyntaxKind::ITEM_LIST
            && parent
                .parent()
                .is_some_and(|p| p.kind() == SyntaxKind::MODULE));
    if !in_module {
        return None;
    }
    let mut entries = Vec::new();
    flatten(&item.use_tree()?, "", &mut entries);
    Some((item_module(module, item.syntax()), entries))
}

fn flatten(tree: &ast::UseTree, prefix: &str, out: &mut Vec<UseEntry>) {
    let path: String = tree
        .path()
        .map(|p| p.syntax().text().to_string())
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let full = match (prefix.is_empty(), path.is_empty()) {
        (true, _) => path.clone(),
        (false, true) => prefix.to_string(),
        (false, false) => format!("{prefix}::{path}"),
    };
    if let Some(list) = tree.use_tree_list() {
        for child in list.use_trees() {
            flatten(&child, &full, out);
        }
        return;
    }
    if tree.star_token().is_some() {
        out.push(UseEntry {
            name: "*".to_string(),
            path: full,
        });
        return;
    }
    // `use a::b::{self, c}`: `self` names `a::b`.
    let (full, last) = match full.strip_suffix("::self") {
        Some(parent) => (parent.to_string(), parent.rsplit("::").next().unwrap_or("")),
        None => (full.clone(), full.rsplit("::").next().unwrap_or("")),
    };
    let name = match tree.rename() {
        Some(rename) => match rename.name() {
            Some(name) => name.text().to_string(),
            // `as _`: nothing is named.
            None => return,
        },
        None => last.to_string(),
    };
    if !name.is_empty() {
        out.push(UseEntry { name, path: full });
    }
}

/// The module an item at `node` of a file of module `module` belongs to:
/// the file's, then each inline `mod name { .. }` around it.
pub(super) fn item_module(module: &str, node: &ra_ap_syntax::SyntaxNode) -> String {
    let mut inline: Vec<String> = node
        .ancestors()
        .skip(1)
        .filter(|a| a.kind() == SyntaxKind::MODULE)
        .filter_map(|a| Some(ast::Module::cast(a)?.name()?.text().to_string()))
        .collect();
    inline.reverse();
    let mut out = module.to_string();
    for name in inline {
        out.push_str("::");
        out.push_str(&name);
    }
    out
}

/// How many (module, path) pairs one resolution visits at most: each is
/// visited once, so cycles of globs (`use super::*;` both ways) end.
const MAX_VISITS: usize = 64;

type Seen = std::collections::HashSet<(String, String)>;

impl CrateIndex {
    /// The crate type (an index into [`Self::decls`]) that `written` names in
    /// module `module`: `Error`, `crate::Error`, `proto::Error<T>`,
    /// `super::Error`. `None` when it names none of the crate's types, or
    /// one of several this cannot tell apart.
    pub fn resolve_type(&self, module: &str, written: &str) -> Option<usize> {
        let written: String = written.split_whitespace().collect();
        let path = written.split('<').next()?.trim_start_matches("::");
        self.resolve_in(module, path, &mut Seen::new())
    }

    fn resolve_in(&self, module: &str, path: &str, seen: &mut Seen) -> Option<usize> {
        if path.is_empty()
            || seen.len() >= MAX_VISITS
            || !seen.insert((module.to_string(), path.to_string()))
        {
            return None;
        }
        let segments: Vec<&str> = path.split("::").collect();
        let (first, rest) = segments.split_first()?;
        if rest.is_empty() {
            return self.resolve_name(module, first, seen);
        }
        let mut base = match *first {
            "crate" => "crate".to_string(),
            "self" => module.to_string(),
            "super" => module.rsplit_once("::")?.0.to_string(),
            // `use crate::proto;` then `proto::Error`.
            name => match self.use_of(module, name) {
                Some(target) => {
                    let path = format!("{target}::{}", rest.join("::"));
                    return self.resolve_in(module, &path, seen);
                }
                // A child module (`mod proto;` then `proto::Error`); an
                // external crate's path finds no type of the crate.
                None => format!("{module}::{name}"),
            },
        };
        let (last, middle) = rest.split_last()?;
        for (at, segment) in middle.iter().enumerate() {
            match *segment {
                "super" => base = base.rsplit_once("::")?.0.to_string(),
                name => match self.use_of(&base, name) {
                    Some(target) => {
                        let path = format!("{target}::{}", rest[at + 1..].join("::"));
                        return self.resolve_in(&base, &path, seen);
                    }
                    None => base = format!("{base}::{name}"),
                },
            }
        }
        self.resolve_name(&base, last, seen)
    }

    /// `name` as module `module` sees it: declared there, or brought in by a
    /// `use` of the module's file (or by one of its globs).
    fn resolve_name(&self, module: &str, name: &str, seen: &mut Seen) -> Option<usize> {
        let mut declared = self.decls.iter().enumerate().filter(|(_, d)| {
            d.name == name && d.module == module && !self.files[d.file].outside_library
        });
        if let Some((first, _)) = declared.next() {
            return declared.next().is_none().then_some(first);
        }
        if let Some(target) = self.use_of(module, name) {
            return self.resolve_in(module, &target, seen);
        }
        let globbed: Vec<usize> = self
            .module_uses(module)
            .iter()
            .filter(|u| u.name == "*")
            .filter_map(|u| self.resolve_in(module, &format!("{}::{name}", u.path), seen))
            .collect();
        match globbed.as_slice() {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// The path a `use` of module `module` gives `name`, as written there.
    fn use_of(&self, module: &str, name: &str) -> Option<String> {
        self.module_uses(module)
            .iter()
            .find(|u| u.name == name)
            .map(|u| u.path.clone())
    }

    fn module_uses(&self, module: &str) -> &[UseEntry] {
        self.uses.get(module).map_or(&[], Vec::as_slice)
    }
}
