//! Structural comparison of a component's decoded world against the expected world.

use std::collections::HashSet;

use semver::Version;
use wit_parser::{
    Function, FunctionKind, Handle, InterfaceId, Resolve, Span, Type, TypeDefKind, TypeId, WorldId,
    WorldItem, WorldKey,
};

use super::report::{Location, Problem, ProblemKind, Severity};
use super::version;
use super::world::{Resolved, Sources};

/// A world's imports or exports.
type Items = wit_parser::IndexMap<WorldKey, WorldItem>;

/// Which way an item crosses the component boundary: it decides which side must
/// provide what (the component must export every function the world exports; the
/// host must provide every function the component imports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Export,
    Import,
}

/// The first difference found while comparing two types.
struct Diff {
    /// Dotted path from the root (a parameter name, `result`, or a type name).
    path: String,
    /// The message without the path.
    message: String,
    expected: Option<String>,
    found: Option<String>,
    /// The innermost expected-side span known at the difference.
    span: Span,
    label: String,
    /// A plain "expected X, found Y" at `path`, which an enclosing `list`/`option`
    /// re-renders at its own level so the message shows the whole wrapper.
    shape: bool,
}

/// A versioned interface name, split so versions can be compared by semver track.
struct InterfaceName<'a> {
    namespace: &'a str,
    package: &'a str,
    name: &'a str,
    version: Option<&'a Version>,
}

impl InterfaceName<'_> {
    fn same_unversioned(&self, other: &InterfaceName<'_>) -> bool {
        self.namespace == other.namespace
            && self.package == other.package
            && self.name == other.name
    }

    fn unversioned(&self) -> String {
        format!("{}:{}/{}", self.namespace, self.package, self.name)
    }

    fn full(&self) -> String {
        match self.version {
            Some(v) => format!("{}@{v}", self.unversioned()),
            None => self.unversioned(),
        }
    }
}

fn interface_name(resolve: &Resolve, id: InterfaceId) -> Option<InterfaceName<'_>> {
    let interface = resolve.interfaces.get(id)?;
    let package = resolve.packages.get(interface.package?)?;
    Some(InterfaceName {
        namespace: &package.name.namespace,
        package: &package.name.name,
        name: interface.name.as_deref()?,
        version: package.name.version.as_ref(),
    })
}

fn key_name(resolve: &Resolve, key: &WorldKey) -> String {
    match key {
        WorldKey::Name(name) => name.clone(),
        WorldKey::Interface(id) => interface_name(resolve, *id)
            .map_or_else(|| String::from("<anonymous interface>"), |n| n.full()),
    }
}

/// How an expected world item was found among the component's items.
enum Found<'a> {
    Missing,
    Matched(&'a WorldKey, &'a WorldItem),
    /// Same interface under a semver-incompatible version.
    OtherVersion(&'a WorldKey, String),
}

pub(crate) struct Comparer<'a> {
    exp: &'a Resolve,
    act: &'a Resolve,
    sources: &'a Sources,
    problems: Vec<Problem>,
    named_done: HashSet<(TypeId, TypeId)>,
    /// The world item being compared, recorded in each problem.
    item: String,
}

impl<'a> Comparer<'a> {
    pub(crate) fn new(exp: &'a Resolve, act: &'a Resolve, sources: &'a Sources) -> Self {
        Comparer {
            exp,
            act,
            sources,
            problems: Vec::new(),
            named_done: HashSet::new(),
            item: String::new(),
        }
    }

    pub(crate) fn compare_worlds(mut self, exp_world: WorldId, act_world: WorldId) -> Vec<Problem> {
        let (Some(ew), Some(aw)) = (
            self.exp.worlds.get(exp_world),
            self.act.worlds.get(act_world),
        ) else {
            return self.problems;
        };
        for (key, item) in &ew.exports {
            self.compare_item(key, item, &aw.exports, Direction::Export);
        }
        let mut provided = HashSet::new();
        for (key, item) in &ew.imports {
            if let Some(found) = self.compare_item(key, item, &aw.imports, Direction::Import) {
                provided.insert(found);
            }
        }
        for (key, item) in &aw.imports {
            if provided.contains(key) || self.host_provides(key, item) {
                continue;
            }
            self.unexpected_import(key, ew.span);
        }
        self.problems
    }

    /// WASI comes from the host's WASI implementation, not from the world, and
    /// types carry no obligation of their own.
    fn host_provides(&self, key: &WorldKey, item: &WorldItem) -> bool {
        if matches!(item, WorldItem::Type { .. }) {
            return true;
        }
        match key {
            WorldKey::Interface(id) => {
                interface_name(self.act, *id).is_some_and(|n| n.namespace == "wasi")
            }
            WorldKey::Name(_) => false,
        }
    }

    fn unexpected_import(&mut self, key: &WorldKey, world_span: Span) {
        let name = key_name(self.act, key);
        let mut problem = self.problem(
            ProblemKind::UnexpectedImport,
            name.clone(),
            format!("component imports `{name}`, which the host does not provide"),
            world_span,
        );
        problem.label = String::from("the host implements this world");
        problem.help = Some(String::from(
            "add the import to the world or remove it from the guest",
        ));
        self.problems.push(problem);
    }

    fn find<'b>(&self, key: &WorldKey, items: &'b Items) -> Found<'b> {
        match key {
            WorldKey::Name(name) => items
                .iter()
                .find(|(k, _)| matches!(k, WorldKey::Name(n) if n == name))
                .map_or(Found::Missing, |(k, item)| Found::Matched(k, item)),
            WorldKey::Interface(id) => {
                let Some(wanted) = interface_name(self.exp, *id) else {
                    return Found::Missing;
                };
                let mut other = None;
                for (k, item) in items {
                    let WorldKey::Interface(aid) = k else {
                        continue;
                    };
                    let Some(name) = interface_name(self.act, *aid) else {
                        continue;
                    };
                    if !wanted.same_unversioned(&name) {
                        continue;
                    }
                    if version::is_compatible_opt(wanted.version, name.version) {
                        return Found::Matched(k, item);
                    }
                    other.get_or_insert((k, name.full()));
                }
                other.map_or(Found::Missing, |(k, n)| Found::OtherVersion(k, n))
            }
        }
    }

    /// Compares one world item; returns the component's key it matched, if any.
    fn compare_item<'b>(
        &mut self,
        key: &WorldKey,
        item: &WorldItem,
        actual: &'b Items,
        direction: Direction,
    ) -> Option<&'b WorldKey> {
        // Types are compared through the functions and interfaces that use them.
        if let WorldItem::Type { .. } = item {
            return None;
        }
        self.item = key_name(self.exp, key);
        match self.find(key, actual) {
            Found::Missing => {
                self.missing_item(item, direction);
                None
            }
            Found::OtherVersion(k, found) => {
                self.version_mismatch(key, item, &found);
                Some(k)
            }
            Found::Matched(k, found) => {
                match (item, found) {
                    (WorldItem::Interface { id, .. }, WorldItem::Interface { id: aid, .. }) => {
                        self.compare_interface(*id, *aid, direction);
                    }
                    (WorldItem::Function(ef), WorldItem::Function(af)) => {
                        self.compare_function(ef, af);
                    }
                    _ => self.missing_item(item, direction),
                }
                Some(k)
            }
        }
    }

    /// The span of a world item; wit-parser leaves some imports without one, and
    /// then the interface declaration is the next best place to point at.
    fn item_span(&self, item: &WorldItem) -> Span {
        let span = item.span();
        if span.is_known() {
            return span;
        }
        match item {
            WorldItem::Interface { id, .. } => self
                .exp
                .interfaces
                .get(*id)
                .map_or(span, |interface| interface.span),
            _ => span,
        }
    }

    fn missing_item(&mut self, item: &WorldItem, direction: Direction) {
        let what = match item {
            WorldItem::Function(_) => "function",
            _ => "interface",
        };
        let name = self.item.clone();
        let span = self.item_span(item);
        let problem = match direction {
            Direction::Export => {
                let mut p = self.problem(
                    ProblemKind::MissingExport,
                    name.clone(),
                    format!("component does not export {what} `{name}`"),
                    span,
                );
                p.label = String::from("the world exports this");
                p.help = Some(format!("export `{name}` from the guest"));
                p
            }
            Direction::Import => {
                let mut p = self.problem(
                    ProblemKind::MissingImport,
                    name.clone(),
                    format!("component does not import {what} `{name}` that the world declares"),
                    span,
                );
                p.severity = Severity::Warning;
                p.label = String::from("the world imports this");
                p
            }
        };
        self.problems.push(problem);
    }

    fn version_mismatch(&mut self, key: &WorldKey, item: &WorldItem, found: &str) {
        let expected = key_name(self.exp, key);
        let mut problem = self.problem(
            ProblemKind::VersionMismatch,
            expected.clone(),
            format!(
                "version mismatch: the world has `{expected}`, the component has `{found}`, and the versions are not semver-compatible"
            ),
            self.item_span(item),
        );
        if let WorldKey::Interface(id) = key
            && let Some(location) = self.package_location(*id, item.span())
        {
            problem.location = Some(location);
        }
        problem.expected = expected.rsplit_once('@').map(|(_, v)| v.to_owned());
        problem.found = found.rsplit_once('@').map(|(_, v)| v.to_owned());
        problem.label = String::from("the world's package version");
        problem.help = Some(String::from(
            "rebuild the guest against this WIT; versions match when their major (or, for 0.x, minor) parts are equal",
        ));
        self.problems.push(problem);
    }

    /// The `package ns:name@x.y.z;` line of the file that declares the interface:
    /// that is where the version is written, and wit-parser keeps no span for it.
    fn package_location(&self, id: InterfaceId, fallback: Span) -> Option<Location> {
        let interface = self.exp.interfaces.get(id)?;
        let package = self.exp.packages.get(interface.package?)?;
        let at = self
            .sources
            .resolve(self.exp, interface.span)
            .or_else(|| self.sources.resolve(self.exp, fallback))?;
        let file = self.sources.files.get(at.file)?;
        let needle = format!("package {}:{}", package.name.namespace, package.name.name);
        let start = file.contents.find(&needle)?;
        let end = file
            .contents
            .get(start..)?
            .find(';')
            .map_or(needle.len(), |e| e + 1);
        Some(self.location(&self.sources.at(at.file, start, end)))
    }

    fn compare_interface(&mut self, eid: InterfaceId, aid: InterfaceId, direction: Direction) {
        let (Some(ei), Some(ai)) = (self.exp.interfaces.get(eid), self.act.interfaces.get(aid))
        else {
            return;
        };
        let item = self.item.clone();
        match direction {
            Direction::Export => {
                for (name, ef) in &ei.functions {
                    match ai.functions.get(name) {
                        Some(af) => self.compare_function(ef, af),
                        None => {
                            let mut p = self.problem(
                                ProblemKind::MissingFunction,
                                item.clone(),
                                format!(
                                    "`{item}` in the component has no function `{}`",
                                    function_name(ef)
                                ),
                                ef.span,
                            );
                            p.label = String::from("not exported by the component");
                            self.problems.push(p);
                        }
                    }
                }
                for (name, tid) in &ei.types {
                    match ai.types.get(name) {
                        Some(atid) => self.compare_named(*tid, *atid),
                        None => {
                            let span = self.exp.types.get(*tid).map_or(Span::default(), |t| t.span);
                            let mut p = self.problem(
                                ProblemKind::MissingType,
                                item.clone(),
                                format!("`{item}` in the component has no type `{name}`"),
                                span,
                            );
                            p.label = String::from("not in the component");
                            self.problems.push(p);
                        }
                    }
                }
            }
            Direction::Import => {
                // The host provides the world's interface, which may hold more than
                // the component uses, so only what the component imports must exist.
                for (name, af) in &ai.functions {
                    match ei.functions.get(name) {
                        Some(ef) => self.compare_function(ef, af),
                        None => {
                            let mut p = self.problem(
                                ProblemKind::MissingFunction,
                                item.clone(),
                                format!(
                                    "component imports function `{}` from `{item}`, which the host does not provide",
                                    function_name(af)
                                ),
                                ei.span,
                            );
                            p.label = String::from("the host's interface");
                            self.problems.push(p);
                        }
                    }
                }
                for (name, atid) in &ai.types {
                    match ei.types.get(name) {
                        Some(tid) => self.compare_named(*tid, *atid),
                        None => {
                            let mut p = self.problem(
                                ProblemKind::MissingType,
                                item.clone(),
                                format!("component imports type `{name}` from `{item}`, which the host does not define"),
                                ei.span,
                            );
                            p.label = String::from("the host's interface");
                            self.problems.push(p);
                        }
                    }
                }
            }
        }
    }

    fn compare_function(&mut self, ef: &Function, af: &Function) {
        let name = function_name(ef);
        let item = self.item.clone();
        if std::mem::discriminant(&ef.kind) != std::mem::discriminant(&af.kind) {
            let mut p = self.problem(
                ProblemKind::FunctionKindMismatch,
                item,
                format!(
                    "{name}: expected {} function, found {} function",
                    kind_name(&ef.kind),
                    kind_name(&af.kind)
                ),
                ef.span,
            );
            p.path = Some(name);
            p.label = String::from("declared here");
            self.problems.push(p);
            return;
        }
        if ef.params.len() != af.params.len() {
            let mut p = self.problem(
                ProblemKind::ParamCountMismatch,
                item.clone(),
                format!(
                    "{name}: expected {} parameters, found {}",
                    ef.params.len(),
                    af.params.len()
                ),
                ef.span,
            );
            p.path = Some(name.clone());
            p.expected = Some(self.signature(self.exp, ef));
            p.found = Some(self.signature(self.act, af));
            p.label = format!("expected {} parameters", ef.params.len());
            p.help = Some(format!(
                "the component has `{}`",
                self.signature(self.act, af)
            ));
            self.problems.push(p);
        } else {
            for (index, (ep, ap)) in ef.params.iter().zip(&af.params).enumerate() {
                if ep.name != ap.name {
                    let mut p = self.problem(
                        ProblemKind::ParamNameMismatch,
                        item.clone(),
                        format!(
                            "{name}: parameter {}: expected `{}`, found `{}`",
                            index + 1,
                            ep.name,
                            ap.name
                        ),
                        ep.span,
                    );
                    p.path = Some(format!("{name}: {}", ep.name));
                    p.expected = Some(ep.name.clone());
                    p.found = Some(ap.name.clone());
                    p.label = format!("the component calls it `{}`", ap.name);
                    self.problems.push(p);
                }
                if let Some(diff) = self.compare(ep.ty, ap.ty, &ep.name, ep.span) {
                    self.push_diff(ProblemKind::ParamTypeMismatch, &format!("{name}: "), diff);
                }
            }
        }
        match (ef.result, af.result) {
            (None, None) => {}
            (Some(e), Some(a)) => {
                if let Some(diff) = self.compare(e, a, "result", ef.span) {
                    self.push_diff(ProblemKind::ResultMismatch, &format!("{name}: "), diff);
                }
            }
            (e, a) => {
                let render = |resolve: &Resolve, t: Option<Type>| {
                    t.map_or_else(|| String::from("no result"), |t| render(resolve, t))
                };
                let (expected, found) = (render(self.exp, e), render(self.act, a));
                let mut p = self.problem(
                    ProblemKind::ResultMismatch,
                    item,
                    format!("{name}: result: expected {expected}, found {found}"),
                    ef.span,
                );
                p.path = Some(format!("{name}: result"));
                p.label = format!("expected `{expected}`");
                p.expected = Some(expected);
                p.found = Some(found);
                self.problems.push(p);
            }
        }
    }

    fn push_diff(&mut self, kind: ProblemKind, prefix: &str, diff: Diff) {
        let path = format!("{prefix}{}", diff.path);
        let mut p = self.problem(
            kind,
            self.item.clone(),
            format!("{path}: {}", diff.message),
            diff.span,
        );
        p.path = Some(path);
        p.expected = diff.expected;
        p.found = diff.found;
        p.label = diff.label;
        self.problems.push(p);
    }

    /// Named types with the same name on both sides are compared once, as types in
    /// their own right, and reported under their own name; everything else is
    /// compared structurally in place.
    fn compare(&mut self, e: Type, a: Type, path: &str, span: Span) -> Option<Diff> {
        if let (Type::Id(ei), Type::Id(ai)) = (e, a)
            && let (Some(en), Some(an)) = (type_name(self.exp, ei), type_name(self.act, ai))
            && en == an
        {
            self.compare_named(ei, ai);
            return None;
        }
        self.compare_structure(e, a, path, span)
    }

    fn compare_named(&mut self, ei: TypeId, ai: TypeId) {
        if !self.named_done.insert((ei, ai)) {
            return;
        }
        let Some(def) = self.exp.types.get(ei) else {
            return;
        };
        let name = def.name.clone().unwrap_or_default();
        if let Some(diff) = self.compare_structure(Type::Id(ei), Type::Id(ai), &name, def.span) {
            self.push_diff(ProblemKind::TypeMismatch, "", diff);
        }
    }

    fn mismatch(&self, e: Type, a: Type, path: &str, span: Span) -> Diff {
        let (expected, found) = (render(self.exp, e), render(self.act, a));
        Diff {
            path: path.to_owned(),
            message: format!("expected {expected}, found {found}"),
            label: format!("expected `{expected}`"),
            expected: Some(expected),
            found: Some(found),
            span,
            shape: true,
        }
    }

    /// Re-renders a plain mismatch of a wrapper's element at the wrapper, so the
    /// message reads `expected list<string>, found list<link>`.
    fn rewrap(&self, diff: Option<Diff>, e: Type, a: Type, path: &str) -> Option<Diff> {
        let diff = diff?;
        if diff.shape && diff.path == path {
            return Some(self.mismatch(e, a, path, diff.span));
        }
        Some(diff)
    }

    fn compare_structure(&mut self, e: Type, a: Type, path: &str, span: Span) -> Option<Diff> {
        let (ed, ad) = (dealias(self.exp, e), dealias(self.act, a));
        if shape(self.exp, ed) != shape(self.act, ad) {
            return Some(self.mismatch(e, a, path, span));
        }
        let (Type::Id(ei), Type::Id(ai)) = (ed, ad) else {
            // Equal shapes of primitives are equal primitives.
            return None;
        };
        let (Some(edef), Some(adef)) = (self.exp.types.get(ei), self.act.types.get(ai)) else {
            return None;
        };
        let (exp, act) = (self.exp, self.act);
        match (&edef.kind, &adef.kind) {
            (TypeDefKind::Record(er), TypeDefKind::Record(ar)) => {
                let en: Vec<_> = er
                    .fields
                    .iter()
                    .map(|f| (f.name.as_str(), f.span))
                    .collect();
                let an: Vec<_> = ar.fields.iter().map(|f| f.name.as_str()).collect();
                if let Some(diff) = names_diff("field", &en, &an, path, span) {
                    return Some(diff);
                }
                for (ef, af) in er.fields.iter().zip(&ar.fields) {
                    let diff = self.compare(ef.ty, af.ty, &format!("{path}.{}", ef.name), ef.span);
                    if diff.is_some() {
                        return diff;
                    }
                }
                None
            }
            (TypeDefKind::Variant(ev), TypeDefKind::Variant(av)) => {
                let en: Vec<_> = ev.cases.iter().map(|c| (c.name.as_str(), c.span)).collect();
                let an: Vec<_> = av.cases.iter().map(|c| c.name.as_str()).collect();
                if let Some(diff) = names_diff("case", &en, &an, path, span) {
                    return Some(diff);
                }
                for (ec, ac) in ev.cases.iter().zip(&av.cases) {
                    let case_path = format!("{path}.{}", ec.name);
                    let diff =
                        self.compare_optional(ec.ty, ac.ty, &case_path, ec.span, "no payload");
                    if diff.is_some() {
                        return diff;
                    }
                }
                None
            }
            (TypeDefKind::Enum(ee), TypeDefKind::Enum(ae)) => {
                let en: Vec<_> = ee.cases.iter().map(|c| (c.name.as_str(), c.span)).collect();
                let an: Vec<_> = ae.cases.iter().map(|c| c.name.as_str()).collect();
                names_diff("case", &en, &an, path, span)
            }
            (TypeDefKind::Flags(ef), TypeDefKind::Flags(af)) => {
                let en: Vec<_> = ef.flags.iter().map(|f| (f.name.as_str(), f.span)).collect();
                let an: Vec<_> = af.flags.iter().map(|f| f.name.as_str()).collect();
                names_diff("flag", &en, &an, path, span)
            }
            (TypeDefKind::Tuple(et), TypeDefKind::Tuple(at)) => {
                for (index, (x, y)) in et.types.iter().zip(&at.types).enumerate() {
                    let diff = self.compare(*x, *y, &format!("{path}.{index}"), span);
                    if diff.is_some() {
                        return diff;
                    }
                }
                None
            }
            (TypeDefKind::Option(x), TypeDefKind::Option(y))
            | (TypeDefKind::List(x), TypeDefKind::List(y))
            | (TypeDefKind::FixedLengthList(x, _), TypeDefKind::FixedLengthList(y, _)) => {
                let diff = self.compare(*x, *y, path, span);
                self.rewrap(diff, e, a, path)
            }
            (TypeDefKind::Future(x), TypeDefKind::Future(y))
            | (TypeDefKind::Stream(x), TypeDefKind::Stream(y)) => {
                let diff = self.compare_optional(*x, *y, path, span, "no payload");
                self.rewrap(diff, e, a, path)
            }
            (TypeDefKind::Result(x), TypeDefKind::Result(y)) => {
                let ok = self.compare_optional(x.ok, y.ok, &format!("{path}.ok"), span, "_");
                if ok.is_some() {
                    return ok;
                }
                self.compare_optional(x.err, y.err, &format!("{path}.err"), span, "_")
            }
            (TypeDefKind::Map(ek, ev), TypeDefKind::Map(ak, av)) => {
                let key = self.compare(*ek, *ak, &format!("{path}.key"), span);
                if key.is_some() {
                    return key;
                }
                self.compare(*ev, *av, &format!("{path}.value"), span)
            }
            (TypeDefKind::Handle(eh), TypeDefKind::Handle(ah)) => {
                let (Handle::Own(er) | Handle::Borrow(er)) = eh;
                let (Handle::Own(ar) | Handle::Borrow(ar)) = ah;
                (type_name(exp, *er) != type_name(act, *ar))
                    .then(|| self.mismatch(e, a, path, span))
            }
            (TypeDefKind::Resource, TypeDefKind::Resource) => {
                (type_name(exp, ei) != type_name(act, ai)).then(|| self.mismatch(e, a, path, span))
            }
            _ => None,
        }
    }

    fn compare_optional(
        &mut self,
        e: Option<Type>,
        a: Option<Type>,
        path: &str,
        span: Span,
        none: &str,
    ) -> Option<Diff> {
        match (e, a) {
            (None, None) => None,
            (Some(e), Some(a)) => self.compare(e, a, path, span),
            (e, a) => {
                let render = |resolve: &Resolve, t: Option<Type>| {
                    t.map_or_else(|| none.to_owned(), |t| render(resolve, t))
                };
                let (expected, found) = (render(self.exp, e), render(self.act, a));
                Some(Diff {
                    path: path.to_owned(),
                    message: format!("expected {expected}, found {found}"),
                    label: format!("expected `{expected}`"),
                    expected: Some(expected),
                    found: Some(found),
                    span,
                    shape: false,
                })
            }
        }
    }

    fn signature(&self, resolve: &Resolve, f: &Function) -> String {
        let params: Vec<String> = f
            .params
            .iter()
            .map(|p| format!("{}: {}", p.name, render(resolve, p.ty)))
            .collect();
        let mut sig = format!("func({})", params.join(", "));
        if let Some(result) = f.result {
            sig.push_str(" -> ");
            sig.push_str(&render(resolve, result));
        }
        sig
    }

    fn location(&self, resolved: &Resolved) -> Location {
        Location {
            file: self
                .sources
                .files
                .get(resolved.file)
                .map_or_else(String::new, |f| f.name.clone()),
            line: resolved.line,
            column: resolved.column,
            offset: resolved.offset,
            length: resolved.length,
            file_index: resolved.file,
        }
    }

    fn problem(&self, kind: ProblemKind, item: String, message: String, span: Span) -> Problem {
        let location = self
            .sources
            .resolve(self.exp, span)
            .map(|resolved| self.location(&resolved));
        Problem {
            kind,
            severity: Severity::Error,
            item,
            path: None,
            message,
            expected: None,
            found: None,
            location,
            help: None,
            label: String::from("declared here"),
        }
    }
}

/// Finds the first difference between two ordered name lists (record fields,
/// variant or enum cases, flags); names must match one to one and in order, as
/// the canonical ABI lays them out by position.
fn names_diff(
    what: &str,
    expected: &[(&str, Span)],
    actual: &[&str],
    path: &str,
    span: Span,
) -> Option<Diff> {
    let diff = |message: String, span: Span, label: String| Diff {
        path: path.to_owned(),
        message,
        expected: None,
        found: None,
        span,
        label,
        shape: false,
    };
    for index in 0..expected.len().max(actual.len()) {
        let e = expected.get(index);
        let a = actual.get(index);
        if let (Some((en, _)), Some(an)) = (e, a)
            && en == an
        {
            continue;
        }
        if let Some((en, es)) = e
            && !actual.contains(en)
        {
            return Some(diff(
                format!("missing {what} `{en}`"),
                *es,
                String::from("not in the component"),
            ));
        }
        if let Some(an) = a
            && !expected.iter().any(|(n, _)| n == an)
        {
            return Some(diff(
                format!("unexpected {what} `{an}`"),
                span,
                format!("the component adds `{an}`"),
            ));
        }
        if let (Some((en, es)), Some(an)) = (e, a) {
            return Some(diff(
                format!(
                    "{what} `{en}` is out of order: expected at position {}, found `{an}` there",
                    index + 1
                ),
                *es,
                format!("expected at position {}", index + 1),
            ));
        }
    }
    None
}

fn type_name(resolve: &Resolve, id: TypeId) -> Option<&str> {
    resolve.types.get(id)?.name.as_deref()
}

/// Follows `type a = b` aliases to the type they stand for.
fn dealias(resolve: &Resolve, mut ty: Type) -> Type {
    // Aliases cannot be cyclic in resolved WIT; the bound only guards against a
    // malformed decode.
    for _ in 0..64 {
        let Type::Id(id) = ty else { return ty };
        match resolve.types.get(id).map(|t| &t.kind) {
            Some(TypeDefKind::Type(inner)) => ty = *inner,
            _ => return ty,
        }
    }
    ty
}

/// The outermost constructor of a type: two types whose shapes differ differ
/// right there, without looking inside.
#[derive(Debug, PartialEq, Eq)]
enum Shape {
    Primitive(Type),
    Kind(&'static str),
    Tuple(usize),
    FixedLengthList(u32),
    Unknown,
}

fn shape(resolve: &Resolve, ty: Type) -> Shape {
    let Type::Id(id) = ty else {
        return Shape::Primitive(ty);
    };
    match resolve.types.get(id).map(|t| &t.kind) {
        Some(TypeDefKind::Tuple(t)) => Shape::Tuple(t.types.len()),
        Some(TypeDefKind::FixedLengthList(_, n)) => Shape::FixedLengthList(*n),
        Some(kind) => Shape::Kind(kind.as_str()),
        None => Shape::Unknown,
    }
}

fn kind_name(kind: &FunctionKind) -> &'static str {
    match kind {
        FunctionKind::Freestanding => "a free",
        FunctionKind::AsyncFreestanding => "an async free",
        FunctionKind::Method(_) => "a method",
        FunctionKind::AsyncMethod(_) => "an async method",
        FunctionKind::Static(_) => "a static",
        FunctionKind::AsyncStatic(_) => "an async static",
        FunctionKind::Constructor(_) => "a constructor",
    }
}

/// `[method]res.name` is shown as `res.name`, `[constructor]res` as `res.constructor`.
fn function_name(f: &Function) -> String {
    let name = f.name.as_str();
    if let Some(rest) = name.strip_prefix("[constructor]") {
        return format!("{rest}.constructor");
    }
    for prefix in ["[method]", "[static]", "[async method]", "[async static]"] {
        if let Some(rest) = name.strip_prefix(prefix) {
            return rest.to_owned();
        }
    }
    name.to_owned()
}

/// Renders a type as WIT source would write it, using names where the type has one.
pub(crate) fn render(resolve: &Resolve, ty: Type) -> String {
    let id = match ty {
        Type::Bool => return "bool".into(),
        Type::U8 => return "u8".into(),
        Type::U16 => return "u16".into(),
        Type::U32 => return "u32".into(),
        Type::U64 => return "u64".into(),
        Type::S8 => return "s8".into(),
        Type::S16 => return "s16".into(),
        Type::S32 => return "s32".into(),
        Type::S64 => return "s64".into(),
        Type::F32 => return "f32".into(),
        Type::F64 => return "f64".into(),
        Type::Char => return "char".into(),
        Type::String => return "string".into(),
        Type::ErrorContext => return "error-context".into(),
        Type::Id(id) => id,
    };
    let Some(def) = resolve.types.get(id) else {
        return "<unknown>".into();
    };
    if let Some(name) = &def.name {
        return name.clone();
    }
    let optional = |t: &Option<Type>| t.map_or_else(|| "_".to_owned(), |t| render(resolve, t));
    match &def.kind {
        TypeDefKind::Option(t) => format!("option<{}>", render(resolve, *t)),
        TypeDefKind::List(t) => format!("list<{}>", render(resolve, *t)),
        TypeDefKind::FixedLengthList(t, n) => format!("list<{}, {n}>", render(resolve, *t)),
        TypeDefKind::Map(k, v) => format!("map<{}, {}>", render(resolve, *k), render(resolve, *v)),
        TypeDefKind::Tuple(t) => {
            let parts: Vec<String> = t.types.iter().map(|t| render(resolve, *t)).collect();
            format!("tuple<{}>", parts.join(", "))
        }
        TypeDefKind::Result(r) => match (r.ok, r.err) {
            (None, None) => "result".into(),
            (Some(ok), None) => format!("result<{}>", render(resolve, ok)),
            (ok, err) => format!("result<{}, {}>", optional(&ok), optional(&err)),
        },
        TypeDefKind::Future(t) => match t {
            Some(t) => format!("future<{}>", render(resolve, *t)),
            None => "future".into(),
        },
        TypeDefKind::Stream(t) => match t {
            Some(t) => format!("stream<{}>", render(resolve, *t)),
            None => "stream".into(),
        },
        TypeDefKind::Handle(Handle::Own(r)) => {
            type_name(resolve, *r).unwrap_or("<resource>").to_owned()
        }
        TypeDefKind::Handle(Handle::Borrow(r)) => {
            format!("borrow<{}>", type_name(resolve, *r).unwrap_or("<resource>"))
        }
        TypeDefKind::Type(t) => render(resolve, *t),
        other => other.as_str().to_owned(),
    }
}
