//! Spawn wrappers: functions of the crate that start or block on async work,
//! directly or through each other (`self.manager.spawn_task(..)`,
//! `crate::rt::spawn(..)`), so that `drop` calling one counts as calling the
//! runtime.
//!
//! The facts are a small map built once per crate: each non-async function
//! and method with its owner, module, `cfg`, the first runtime call in its
//! body, whether it checks `Handle::try_current()`, and the calls it makes.
//! Only files that define a function of a name on the chain are parsed, so a
//! crate whose `Drop` impls call nothing of its own costs nothing.

use super::{Imports, Kind, classify_method, classify_path, ends_with, flatten_use, resolve};
use crate::context::{attr_path, attr_text, callee_path, is_cfg_test, is_test_attr, path_segments};
use ra_ap_syntax::ast::{self, AstNode, HasName};
use ra_ap_syntax::{Edition, SourceFile, SyntaxKind, SyntaxNode};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How many wrappers deep a chain is followed from `drop` to the runtime
/// call; deeper chains are not reported rather than searched without end.
pub const MAX_DEPTH: usize = 4;

/// One function or method of the crate.
#[derive(Debug, Clone)]
struct Summary {
    owner: Option<String>,
    name: String,
    /// The module it sits in: the file's module name, then inline modules.
    module: Option<String>,
    /// `cfg(feature="tokio")` on the function, its impl or its module.
    cfg: Option<String>,
    /// The first runtime call of its body.
    leaf: Option<Leaf>,
    /// It calls `Handle::try_current()`: the spawn is guarded.
    guarded: bool,
    calls: Vec<CallRef>,
}

#[derive(Debug, Clone)]
struct Leaf {
    kind: Kind,
    panics: bool,
    callee: String,
}

/// A call as syntax shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CallRef {
    /// `crate::rt` for `crate::rt::spawn(..)`; empty for a method call.
    pub qualifier: Vec<String>,
    pub name: String,
    pub method: bool,
    /// `self.name(..)`.
    pub on_self: bool,
}

/// What calling a wrapper does in the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Wrapper {
    pub kind: Kind,
    /// Reaches a runtime call that panics without a runtime, unchecked.
    pub panics: bool,
    /// A function on the way checks `Handle::try_current()` first.
    pub guarded: bool,
    /// `Manager::spawn_task`, `rt::spawn`, `tokio::spawn`: the functions
    /// called, down to the runtime call.
    pub chain: Vec<String>,
}

impl Wrapper {
    /// `Manager::spawn_task` → `tokio::spawn`.
    pub fn chain_text(&self) -> String {
        self.chain
            .iter()
            .map(|step| format!("`{step}`"))
            .collect::<Vec<_>>()
            .join(" → ")
    }
}

/// The crate's functions that spawn or block on async work.
#[derive(Debug, Clone, Default)]
pub struct SpawnWrappers {
    summaries: Summaries,
    resolved: Vec<Option<Wrapper>>,
    /// Indices into `summaries` by function name, in order: every lookup is
    /// by name, and scanning all summaries for each made resolving a large
    /// crate quadratic.
    by_name: std::collections::HashMap<String, Vec<usize>>,
}

/// The functions of one file as spawn-wrapper resolution reads them, taken
/// from a tree parsed for linting: [`CrateFunctions::know`] takes them in
/// place of parsing the file again.
#[derive(Debug, Clone)]
pub struct FileFunctions(Arc<Vec<Summary>>);

impl FileFunctions {
    /// The functions under `root`, the tree of the file at `path`; `extra`
    /// are the configured spawn functions, as for [`CrateFunctions::new`].
    pub(crate) fn of(root: &SyntaxNode, path: &Path, extra: &[String]) -> Self {
        let mut out = Vec::new();
        summarize(root, module_name(path).as_deref(), extra, &mut out);
        FileFunctions(Arc::new(out))
    }
}

/// Summaries, file by file, shared between the answers that include the same
/// files rather than copied into each; numbered in order across the files.
#[derive(Debug, Clone, Default)]
struct Summaries {
    files: Vec<Arc<Vec<Summary>>>,
    /// Each summary's file (into `files`) and place in it.
    at: Vec<(usize, usize)>,
}

impl Summaries {
    fn new(files: Vec<Arc<Vec<Summary>>>) -> Self {
        let at = files
            .iter()
            .enumerate()
            .flat_map(|(file, summaries)| (0..summaries.len()).map(move |i| (file, i)))
            .collect();
        Summaries { files, at }
    }

    fn len(&self) -> usize {
        self.at.len()
    }

    fn iter(&self) -> impl Iterator<Item = &Summary> {
        self.files.iter().flat_map(|summaries| summaries.iter())
    }
}

impl std::ops::Index<usize> for Summaries {
    type Output = Summary;

    fn index(&self, index: usize) -> &Summary {
        let (file, at) = self.at[index];
        &self.files[file][at]
    }
}

/// A crate's files as [`SpawnWrappers::from_crate`] searches them, with
/// what it learned of each file (the names it defines, its functions'
/// summaries) kept for the next question: a crate with many `Drop` impls asks
/// once per file that has one.
pub struct CrateFunctions<'a> {
    files: &'a [(PathBuf, Arc<str>)],
    edition: Edition,
    extra_spawn_functions: &'a [String],
    /// Per file, every name that follows `fn ` in its text.
    defined: Vec<Option<std::collections::HashSet<&'a str>>>,
    /// Per file, the summaries of its functions, once parsed.
    summaries: Vec<Option<Arc<Vec<Summary>>>>,
    /// The answers given so far, by the files they were built from.
    answers: HashMap<Vec<usize>, Arc<SpawnWrappers>>,
}

impl<'a> CrateFunctions<'a> {
    pub fn new(
        files: &'a [(PathBuf, Arc<str>)],
        edition: Edition,
        extra_spawn_functions: &'a [String],
    ) -> Self {
        CrateFunctions {
            files,
            edition,
            extra_spawn_functions,
            defined: vec![None; files.len()],
            summaries: vec![None; files.len()],
            answers: HashMap::new(),
        }
    }

    /// The functions of `files[index]`, already summarized from its text
    /// (with this crate's edition and spawn functions): it is not parsed.
    pub fn know(&mut self, index: usize, functions: FileFunctions) {
        if let Some(slot) = self.summaries.get_mut(index) {
            *slot = Some(functions.0);
        }
    }

    /// [`defines`], answered from the file's names once they are collected.
    fn defines(&mut self, index: usize, name: &str) -> bool {
        let text: &'a str = &self.files[index].1;
        let is_word = !name.is_empty() && name.chars().all(is_ident_char);
        if !is_word {
            return defines(text, name);
        }
        self.defined[index]
            .get_or_insert_with(|| defined_names(text))
            .contains(name)
    }

    fn summaries(&mut self, index: usize) -> &[Summary] {
        let (path, text) = &self.files[index];
        let (edition, extra) = (self.edition, self.extra_spawn_functions);
        self.summaries[index].get_or_insert_with(|| {
            let mut out = Vec::new();
            // Beyond the parser's limits: not parsed, no wrappers from it.
            if crate::lex::shape(text).within_limits() {
                let root = SourceFile::parse(text, edition).tree().syntax().clone();
                summarize(&root, module_name(path).as_deref(), extra, &mut out);
            }
            Arc::new(out)
        })
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every word that follows `fn ` in `text`: `defines(text, name)` holds for
/// a word `name` exactly when it is among them.
fn defined_names(text: &str) -> std::collections::HashSet<&str> {
    text.match_indices("fn ")
        .map(|(at, _)| {
            let rest = &text[at + "fn ".len()..];
            let end = rest
                .char_indices()
                .find(|&(_, c)| !is_ident_char(c))
                .map_or(rest.len(), |(i, _)| i);
            &rest[..end]
        })
        .collect()
}

impl SpawnWrappers {
    /// The wrappers defined in one file's tree.
    pub(super) fn from_root(root: &SyntaxNode, module: Option<&str>, options: &[String]) -> Self {
        let mut summaries = Vec::new();
        summarize(root, module, options, &mut summaries);
        SpawnWrappers::from_summaries(Summaries::new(vec![Arc::new(summaries)]))
    }

    /// The wrappers among the functions of `files` that `names` (called from
    /// `Drop` impls) reach, `MAX_DEPTH` calls deep.
    pub fn from_files(
        names: &[String],
        files: &[(PathBuf, Arc<str>)],
        edition: Edition,
        extra_spawn_functions: &[String],
    ) -> Self {
        Arc::unwrap_or_clone(SpawnWrappers::from_crate(
            names,
            &mut CrateFunctions::new(files, edition, extra_spawn_functions),
        ))
    }

    /// [`SpawnWrappers::from_files`] over a crate whose files were already
    /// searched and parsed for another file's question: the same answer,
    /// without searching or parsing any file twice, and shared with every
    /// question that reaches the same files in the same order (the answer
    /// depends on nothing else).
    pub fn from_crate(names: &[String], crate_fns: &mut CrateFunctions<'_>) -> Arc<Self> {
        let mut parsed = vec![false; crate_fns.files.len()];
        // The files whose summaries are taken, in the order they are taken.
        let mut order: Vec<usize> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut frontier: Vec<String> = names.to_vec();
        for _ in 0..MAX_DEPTH {
            frontier.retain(|name| !seen.contains(name));
            frontier.sort();
            frontier.dedup();
            if frontier.is_empty() {
                break;
            }
            for (index, done) in parsed.iter_mut().enumerate() {
                if *done || !frontier.iter().any(|name| crate_fns.defines(index, name)) {
                    continue;
                }
                *done = true;
                crate_fns.summaries(index);
                order.push(index);
            }
            let wanted: HashSet<&str> = frontier.iter().map(String::as_str).collect();
            let mut next = Vec::new();
            for summary in order
                .iter()
                .flat_map(|&index| crate_fns.summaries[index].iter().flat_map(|s| s.iter()))
                .filter(|s| wanted.contains(s.name.as_str()))
            {
                next.extend(summary.calls.iter().map(|call| call.name.clone()));
            }
            seen.extend(frontier);
            frontier = next;
        }
        if let Some(known) = crate_fns.answers.get(&order) {
            return known.clone();
        }
        let summaries = order
            .iter()
            .filter_map(|&index| crate_fns.summaries[index].clone())
            .collect();
        let answer = Arc::new(SpawnWrappers::from_summaries(Summaries::new(summaries)));
        crate_fns.answers.insert(order, answer.clone());
        answer
    }

    fn from_summaries(summaries: Summaries) -> Self {
        let mut by_name: std::collections::HashMap<String, Vec<usize>> =
            std::collections::HashMap::new();
        for (index, summary) in summaries.iter().enumerate() {
            by_name.entry(summary.name.clone()).or_default().push(index);
        }
        let mut map = SpawnWrappers {
            resolved: vec![None; summaries.len()],
            summaries,
            by_name,
        };
        // Leaves first, then one more level of callers per round. A call's
        // answer depends only on the summaries of its name, so a summary is
        // looked at again only when one of the names it calls changed since
        // it was last looked at: otherwise it would give the same answer and
        // change nothing. `changed_at` and `looked_at` are ticks of one clock.
        let mut clock = 1usize;
        let mut changed_at: HashMap<&str, usize> = HashMap::new();
        for (index, summary) in map.summaries.iter().enumerate() {
            if let Some(leaf) = &summary.leaf {
                map.resolved[index] = Some(Wrapper {
                    kind: leaf.kind,
                    panics: leaf.panics && !summary.guarded,
                    guarded: summary.guarded,
                    chain: vec![leaf.callee.clone()],
                });
                changed_at.insert(summary.name.as_str(), clock);
            }
        }
        let mut looked_at = vec![0usize; map.summaries.len()];
        for _ in 1..MAX_DEPTH {
            let mut changed = false;
            for (index, looked) in looked_at.iter_mut().enumerate() {
                // A wrapper that panics somewhere down (a `cfg`-chosen tokio
                // path beside an async-std one) is the one worth naming.
                if map.resolved[index].as_ref().is_some_and(|w| w.panics) {
                    continue;
                }
                let summary = &map.summaries[index];
                let stale = summary.calls.iter().any(|call| {
                    changed_at
                        .get(call.name.as_str())
                        .is_some_and(|&at| at > *looked)
                });
                if !stale {
                    continue;
                }
                clock += 1;
                *looked = clock;
                let owner = summary.owner.as_deref();
                let found: Vec<Wrapper> = summary
                    .calls
                    .iter()
                    .filter_map(|call| map.lookup(call, owner, None))
                    .collect();
                let best = found
                    .iter()
                    .find(|w| w.panics && !summary.guarded)
                    .or_else(|| found.first());
                let Some(inner) = best else {
                    continue;
                };
                let guarded = summary.guarded;
                let wrapper = Wrapper {
                    kind: inner.kind,
                    panics: inner.panics && !guarded,
                    guarded: inner.guarded || guarded,
                    chain: inner.chain.clone(),
                };
                let better = match &map.resolved[index] {
                    None => true,
                    Some(current) => wrapper.panics && !current.panics,
                };
                if better {
                    map.resolved[index] = Some(wrapper);
                    changed = true;
                    clock += 1;
                    changed_at.insert(summary.name.as_str(), clock);
                }
            }
            if !changed {
                break;
            }
        }
        map
    }

    pub fn is_empty(&self) -> bool {
        self.resolved.iter().all(Option::is_none)
    }

    /// The wrapper a call reaches, with the callee first in its chain.
    /// `self_type` is the type whose method makes the call (for `self.m()`
    /// and `Self::f()`), `receiver_type` the declared type of the receiver
    /// when known (`self.manager` is a `Manager`). A name with several
    /// candidates counts only when every candidate is a wrapper, or when the
    /// candidates are alternatives chosen by `cfg` and one of them is.
    pub(super) fn lookup(
        &self,
        call: &CallRef,
        self_type: Option<&str>,
        receiver_type: Option<&str>,
    ) -> Option<Wrapper> {
        let candidates = self.candidates(call, self_type, receiver_type);
        let (_, rest) = candidates.split_first()?;
        let wrappers: Vec<(usize, &Wrapper)> = candidates
            .iter()
            .filter_map(|&i| self.resolved[i].as_ref().map(|w| (i, w)))
            .collect();
        let (chosen, wrapper) = *wrappers.first()?;
        let by_cfg =
            !rest.is_empty() && candidates.iter().all(|&i| self.summaries[i].cfg.is_some()) && {
                let mut cfgs: Vec<&String> = candidates
                    .iter()
                    .filter_map(|&i| self.summaries[i].cfg.as_ref())
                    .collect();
                cfgs.sort();
                cfgs.dedup();
                cfgs.len() == candidates.len()
            };
        if !rest.is_empty() && !by_cfg && wrappers.len() != candidates.len() {
            // Ambiguous: some function of that name does not spawn.
            return None;
        }
        let summary = &self.summaries[chosen];
        let mut step = match (&summary.owner, &summary.module) {
            (Some(owner), _) => format!("{owner}::{}", summary.name),
            (None, Some(module)) => format!("{module}::{}", summary.name),
            (None, None) => summary.name.clone(),
        };
        if by_cfg && let Some(cfg) = &summary.cfg {
            step.push_str(&format!("` with `{cfg}"));
        }
        let mut chain = vec![step];
        chain.extend(wrapper.chain.iter().cloned());
        Some(Wrapper {
            kind: wrapper.kind,
            panics: wrappers.iter().any(|(_, w)| w.panics),
            guarded: wrappers.iter().all(|(_, w)| w.guarded),
            chain,
        })
    }

    fn candidates(
        &self,
        call: &CallRef,
        self_type: Option<&str>,
        receiver_type: Option<&str>,
    ) -> Vec<usize> {
        let named = self
            .by_name
            .get(&call.name)
            .into_iter()
            .flatten()
            .map(|&i| (i, &self.summaries[i]));
        if call.method {
            let owner = if call.on_self {
                self_type
            } else {
                receiver_type
            };
            return named
                .filter(|(_, s)| s.owner.is_some())
                .filter(|(_, s)| owner.is_none_or(|o| s.owner.as_deref() == Some(o)))
                .map(|(i, _)| i)
                .collect();
        }
        let qualifier = call.qualifier.last().map(String::as_str);
        match qualifier {
            Some("Self") => named
                .filter(|(_, s)| s.owner.is_some() && s.owner.as_deref() == self_type)
                .map(|(i, _)| i)
                .collect(),
            Some(q) if q.starts_with(char::is_uppercase) => named
                .filter(|(_, s)| s.owner.as_deref() == Some(q))
                .map(|(i, _)| i)
                .collect(),
            _ => {
                let free: Vec<(usize, &Summary)> =
                    named.filter(|(_, s)| s.owner.is_none()).collect();
                let module = qualifier.filter(|q| !matches!(*q, "crate" | "self" | "super"));
                let in_module: Vec<usize> = free
                    .iter()
                    .filter(|(_, s)| module.is_some() && s.module.as_deref() == module)
                    .map(|(i, _)| *i)
                    .collect();
                if in_module.is_empty() {
                    free.into_iter().map(|(i, _)| i).collect()
                } else {
                    in_module
                }
            }
        }
    }
}

/// Whether `text` may define a function `name`: `fn name` as words.
fn defines(text: &str, name: &str) -> bool {
    let needle = format!("fn {name}");
    text.match_indices(&needle).any(|(at, _)| {
        let after = text[at + needle.len()..].chars().next();
        after.is_none_or(|c| !is_ident_char(c))
    })
}

/// `rt` for `src/rt.rs` and `src/rt/mod.rs`; `None` for crate roots.
fn module_name(path: &Path) -> Option<String> {
    let stem = path.file_stem()?.to_str()?;
    match stem {
        "lib" | "main" => None,
        "mod" => Some(path.parent()?.file_name()?.to_str()?.to_string()),
        _ => Some(stem.to_string()),
    }
}

/// Every non-async function and method under `root`, outside test code.
fn summarize(root: &SyntaxNode, module: Option<&str>, extra: &[String], out: &mut Vec<Summary>) {
    let mut imports: Imports = Vec::new();
    for item in root.descendants().filter_map(ast::Use::cast) {
        if let Some(tree) = item.use_tree() {
            flatten_use(&tree, &[], &mut imports);
        }
    }
    for func in root.descendants().filter_map(ast::Fn::cast) {
        // Calling an `async fn` only builds a future; `drop` that lets it go
        // runs nothing.
        if func.async_token().is_some() {
            continue;
        }
        let (Some(name), Some(body)) = (func.name(), func.body()) else {
            continue;
        };
        let mut cfg = None;
        let mut owner = None;
        let mut inline_module = None;
        let mut test = false;
        for ancestor in func.syntax().ancestors() {
            if ancestor != *func.syntax() && ancestor.kind() == SyntaxKind::FN {
                // A function nested in another one is not callable by name
                // from elsewhere.
                test = true;
            }
            for attr in crate::context::attrs_of(&ancestor) {
                if is_cfg_test(&attr) || is_test_attr(&attr, &[]) {
                    test = true;
                } else if attr_path(&attr).as_deref() == Some("cfg") && cfg.is_none() {
                    cfg = Some(attr_text(&attr));
                }
            }
            if owner.is_none()
                && let Some(item) = ast::Impl::cast(ancestor.clone())
            {
                owner = super::impl_type_name(&item);
            }
            // A trait's default method: called on any implementor.
            if owner.is_none()
                && let Some(item) = ast::Trait::cast(ancestor.clone())
            {
                owner = item.name().map(|n| n.text().to_string());
            }
            if inline_module.is_none()
                && let Some(item) = ast::Module::cast(ancestor.clone())
            {
                inline_module = item.name().map(|n| n.text().to_string());
            }
        }
        if test {
            continue;
        }
        let mut summary = Summary {
            owner,
            name: name.text().to_string(),
            module: inline_module.or_else(|| module.map(str::to_string)),
            cfg,
            leaf: None,
            guarded: false,
            calls: Vec::new(),
        };
        scan_body(body.syntax(), &imports, extra, &mut summary);
        out.push(summary);
    }
}

fn scan_body(body: &SyntaxNode, imports: &Imports, extra: &[String], summary: &mut Summary) {
    let mut current_handle = false;
    for node in body.descendants() {
        if super::nested_item(&node, body) {
            continue;
        }
        if let Some(call) = ast::CallExpr::cast(node.clone()) {
            let Some(callee) = callee_path(&call) else {
                continue;
            };
            let segments = resolve(path_segments(&callee), imports);
            let Some((name, qualifier)) = segments.split_last() else {
                continue;
            };
            if name == "try_current" {
                summary.guarded = true;
                continue;
            }
            if ends_with(&segments, &["Handle", "current"]) {
                current_handle = true;
                continue;
            }
            if let Some((kind, panics)) = classify_path(&segments, extra) {
                summary.leaf.get_or_insert(Leaf {
                    kind,
                    panics,
                    callee,
                });
                continue;
            }
            summary.calls.push(CallRef {
                qualifier: qualifier.to_vec(),
                name: name.clone(),
                method: false,
                on_self: false,
            });
        } else if let Some(call) = ast::MethodCallExpr::cast(node.clone()) {
            let Some(name) = call.name_ref().map(|n| n.text().to_string()) else {
                continue;
            };
            if let Some(kind) = classify_method(&call, extra) {
                let receiver = call
                    .receiver()
                    .map(|r| r.syntax().text().to_string())
                    .unwrap_or_default();
                let receiver: String = receiver.split_whitespace().collect();
                summary.leaf.get_or_insert(Leaf {
                    kind,
                    panics: false,
                    callee: format!("{receiver}.{name}"),
                });
                continue;
            }
            let on_self = call.receiver().is_some_and(|r| r.syntax().text() == "self");
            summary.calls.push(CallRef {
                qualifier: Vec::new(),
                name,
                method: true,
                on_self,
            });
        }
    }
    // `Handle::current().spawn(..)` panics outside a runtime just as
    // `tokio::spawn` does.
    if current_handle && let Some(leaf) = &mut summary.leaf {
        leaf.panics = true;
    }
}

/// The declared type of `self.field` in `type_name`'s definition in `root`,
/// through `Arc`, `Box`, `Rc`, `Option` and references: `Manager` for
/// `manager: Arc<Manager>`.
pub(super) fn field_type(root: &SyntaxNode, type_name: &str, field: &str) -> Option<String> {
    let strukt = root
        .descendants()
        .filter_map(ast::Struct::cast)
        .find(|s| s.name().is_some_and(|n| n.text() == type_name))?;
    let ast::FieldList::RecordFieldList(list) = strukt.field_list()? else {
        return None;
    };
    let ty = list
        .fields()
        .find(|f| f.name().is_some_and(|n| n.text() == field))?
        .ty()?;
    let mut text: String = ty.syntax().text().to_string().split_whitespace().collect();
    loop {
        let trimmed = text.trim_start_matches('&').trim_start_matches("mut");
        let segments = path_segments(trimmed);
        let outer = trimmed.find('<').map(|at| &trimmed[..at]);
        match outer.map(|o| path_segments(o).last().cloned().unwrap_or_default()) {
            Some(wrapper) if matches!(wrapper.as_str(), "Arc" | "Box" | "Rc" | "Option") => {
                let start = trimmed.find('<')? + 1;
                let end = trimmed.rfind('>')?;
                text = trimmed.get(start..end)?.to_string();
            }
            _ => return segments.last().cloned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrappers(files: &[(&str, &str)], names: &[&str]) -> SpawnWrappers {
        let files: Vec<(PathBuf, Arc<str>)> = files
            .iter()
            .map(|(path, text)| (PathBuf::from(path), Arc::from(*text)))
            .collect();
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        SpawnWrappers::from_files(&names, &files, Edition::Edition2024, &[])
    }

    fn method(name: &str) -> CallRef {
        CallRef {
            qualifier: Vec::new(),
            name: name.to_string(),
            method: true,
            on_self: false,
        }
    }

    #[test]
    fn two_levels_across_files() {
        let map = wrappers(
            &[
                (
                    "/c/src/manager.rs",
                    "pub struct Manager;\nimpl Manager { pub fn spawn_task<F>(&self, f: F) { crate::rt::spawn(f) } }\n",
                ),
                (
                    "/c/src/rt.rs",
                    "pub fn spawn<F>(f: F) { tokio::spawn(f); }\n",
                ),
            ],
            &["spawn_task"],
        );
        let found = map.lookup(&method("spawn_task"), None, Some("Manager"));
        let found = found.expect("a wrapper");
        assert_eq!(
            found.chain_text(),
            "`Manager::spawn_task` → `rt::spawn` → `tokio::spawn`"
        );
        assert!(found.panics);
        assert!(
            map.lookup(&method("spawn_task"), None, Some("Other"))
                .is_none()
        );
    }

    #[test]
    fn try_current_guards_and_async_fns_do_not_count() {
        let map = wrappers(
            &[(
                "/c/src/lib.rs",
                "struct M;\nimpl M {\n fn go(&self) { if let Ok(h) = tokio::runtime::Handle::try_current() { h.spawn(async {}); } }\n async fn later(&self) { tokio::spawn(async {}); }\n}\n",
            )],
            &["go", "later"],
        );
        let go = map.lookup(&method("go"), None, None).expect("a wrapper");
        assert!(go.guarded && !go.panics);
        assert!(map.lookup(&method("later"), None, None).is_none());
    }

    /// Linting again with the crate's wrappers changes only the findings of
    /// the lint that reads them: the file's other findings are kept, and the
    /// result is what linting everything again gives.
    #[test]
    fn relinting_with_wrappers_replaces_only_the_drop_findings() {
        let lib = "pub mod manager;\npub struct Conn { manager: std::sync::Arc<manager::Manager> }\nimpl Drop for Conn {\n    fn drop(&mut self) {\n        self.manager.spawn_task(async {});\n    }\n}\npub fn port(text: &str) -> u16 {\n    text.parse().unwrap()\n}\n";
        let manager = "pub struct Manager;\nimpl Manager {\n    pub fn spawn_task<F>(&self, f: F) {\n        tokio::spawn(f);\n    }\n}\n";
        let files: Vec<(PathBuf, Arc<str>)> =
            [("/c/src/lib.rs", lib), ("/c/src/manager.rs", manager)]
                .iter()
                .map(|(path, text)| (PathBuf::from(path), Arc::from(*text)))
                .collect();
        let (options, facts) = (crate::Options::default(), crate::CrateFacts::default());
        let alone = crate::analyze(lib, Edition::Edition2024, &options, &facts);
        assert_eq!(alone.crate_calls, ["spawn_task"]);
        let wrappers =
            SpawnWrappers::from_files(&alone.crate_calls, &files, Edition::Edition2024, &[]);
        assert!(!wrappers.is_empty());
        let whole = crate::analyze_in_crate(lib, Edition::Edition2024, &options, &facts, &wrappers)
            .findings;
        let mut relinted = alone.findings.clone();
        crate::relint_in_crate(
            lib,
            Edition::Edition2024,
            &options,
            &facts,
            &wrappers,
            &mut relinted,
        );
        assert_eq!(relinted, whole);
        let lints = |findings: &[crate::Finding]| -> Vec<&str> {
            findings.iter().map(|f| f.lint).collect()
        };
        assert_eq!(lints(&alone.findings), ["library_unwrap"]);
        assert_eq!(
            lints(&whole),
            ["drop_without_async_cleanup", "library_unwrap"]
        );
    }

    /// Questions asked of one crate share its parsed files and, when they
    /// reach the same files, the answer: each answer is the one a fresh
    /// search gives.
    #[test]
    fn shared_answers_are_the_fresh_answers() {
        let texts = [
            (
                "/c/src/a.rs",
                "pub fn start() { crate::rt::go(); }\npub fn idle() {}\n",
            ),
            ("/c/src/rt.rs", "pub fn go() { tokio::spawn(async {}); }\n"),
            ("/c/src/b.rs", "pub fn stop() {}\n"),
        ];
        let files: Vec<(PathBuf, Arc<str>)> = texts
            .iter()
            .map(|(path, text)| (PathBuf::from(path), Arc::from(*text)))
            .collect();
        let mut shared = CrateFunctions::new(&files, Edition::Edition2024, &[]);
        let free = |name: &str| CallRef {
            qualifier: Vec::new(),
            name: name.to_string(),
            method: false,
            on_self: false,
        };
        for names in [&["start"][..], &["stop"], &["start"], &["idle", "start"]] {
            let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            let answer = SpawnWrappers::from_crate(&names, &mut shared);
            let fresh = wrappers(
                &texts,
                &names.iter().map(String::as_str).collect::<Vec<_>>(),
            );
            for name in ["start", "stop", "idle", "go"] {
                assert_eq!(
                    answer.lookup(&free(name), None, None),
                    fresh.lookup(&free(name), None, None),
                    "{names:?} {name}"
                );
            }
            assert_eq!(answer.is_empty(), fresh.is_empty(), "{names:?}");
        }
        assert!(
            SpawnWrappers::from_crate(&["stop".to_string()], &mut shared).is_empty(),
            "`stop` reaches no runtime call"
        );
    }

    /// Functions known from a tree parsed for linting give the answer
    /// parsing the file again gives.
    #[test]
    fn known_functions_answer_as_parsed_ones() {
        let texts = [
            (
                "/c/src/manager.rs",
                "pub struct Manager;\nimpl Manager { pub fn spawn_task<F>(&self, f: F) { crate::rt::spawn(f) } }\n",
            ),
            (
                "/c/src/rt.rs",
                "pub fn spawn<F>(f: F) { tokio::spawn(f); }\n",
            ),
        ];
        let files: Vec<(PathBuf, Arc<str>)> = texts
            .iter()
            .map(|(path, text)| (PathBuf::from(path), Arc::from(*text)))
            .collect();
        let names = ["spawn_task".to_string()];
        let mut known = CrateFunctions::new(&files, Edition::Edition2024, &[]);
        for (at, (path, text)) in files.iter().enumerate() {
            let root = SourceFile::parse(text, Edition::Edition2024)
                .tree()
                .syntax()
                .clone();
            known.know(at, FileFunctions::of(&root, path, &[]));
        }
        let answer = SpawnWrappers::from_crate(&names, &mut known);
        let fresh = SpawnWrappers::from_files(&names, &files, Edition::Edition2024, &[]);
        let call = method("spawn_task");
        assert_eq!(
            answer.lookup(&call, None, Some("Manager")),
            fresh.lookup(&call, None, Some("Manager"))
        );
        assert!(answer.lookup(&call, None, Some("Manager")).is_some());
    }

    #[test]
    fn field_types_see_through_smart_pointers() {
        let root = SourceFile::parse(
            "struct L { m: Arc<Manager>, o: Option<Box<pool::Inner>> }",
            Edition::Edition2024,
        )
        .tree()
        .syntax()
        .clone();
        assert_eq!(field_type(&root, "L", "m").as_deref(), Some("Manager"));
        assert_eq!(field_type(&root, "L", "o").as_deref(), Some("Inner"));
    }
}
