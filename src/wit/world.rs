//! Loading the expected WIT world, keeping its source text for diagnostics.

use std::path::Path;
use std::sync::Arc;

use wit_parser::{PackageId, Resolve, Span, WorldId};

use super::WitError;

/// One WIT source file, kept so diagnostics can quote it.
#[derive(Debug)]
pub(crate) struct SourceFile {
    /// The path as wit-parser registered it (the `--wit` path joined with the file name).
    pub(crate) name: String,
    pub(crate) contents: Arc<str>,
}

/// The WIT source files of an [`ExpectedWorld`], shared with the reports made against it.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    pub(crate) files: Vec<SourceFile>,
}

/// A span resolved to a file, a byte range and a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub(crate) file: usize,
    pub(crate) offset: usize,
    pub(crate) length: usize,
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl Sources {
    pub(crate) fn resolve(&self, resolve: &Resolve, span: Span) -> Option<Resolved> {
        let location = resolve.source_map.resolve_span(span)?;
        let file = self.files.iter().position(|f| f.name == location.path)?;
        Some(self.at(file, location.range.start, location.range.len()))
    }

    pub(crate) fn at(&self, file: usize, offset: usize, length: usize) -> Resolved {
        let (line, column) = self
            .files
            .get(file)
            .and_then(|f| f.contents.get(..offset))
            .map(|before| {
                let line = before.matches('\n').count() + 1;
                let line_start = before.rfind('\n').map_or(0, |i| i + 1);
                let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
                (line, column)
            })
            .unwrap_or((1, 1));
        Resolved {
            file,
            offset,
            length,
            line,
            column,
        }
    }
}

/// A parsed and resolved WIT world that components are validated against.
///
/// Load it once with [`load_world`] and validate any number of components with it;
/// it is cheap to share (`Send + Sync`).
#[derive(Debug, Clone)]
pub struct ExpectedWorld {
    pub(crate) resolve: Arc<Resolve>,
    pub(crate) world: WorldId,
    pub(crate) sources: Arc<Sources>,
    name: String,
}

impl ExpectedWorld {
    /// The fully qualified world name, e.g. `temper:extractor/extractor@0.1.0`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The resolved WIT, for callers that want to inspect the world themselves.
    pub fn resolve(&self) -> &Resolve {
        &self.resolve
    }

    /// The world inside [`ExpectedWorld::resolve`].
    pub fn world_id(&self) -> WorldId {
        self.world
    }
}

/// Parses the WIT at `wit_path` (a directory with an optional `deps/`, or a single
/// `.wit` file) and selects `world`, or the only world of the package when `world`
/// is `None`.
pub fn load_world(wit_path: &Path, world: Option<&str>) -> Result<ExpectedWorld, WitError> {
    let display = wit_path.display().to_string();
    if !wit_path.exists() {
        return Err(WitError::WitNotFound { path: display });
    }
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_path(wit_path)
        .map_err(|err| WitError::WitInvalid {
            path: display.clone(),
            message: format!("{err:#}"),
        })?;
    let world_id = select_world(&resolve, package, world, &display)?;
    let name = world_name(&resolve, world_id);
    let sources = read_sources(&resolve);
    Ok(ExpectedWorld {
        resolve: Arc::new(resolve),
        world: world_id,
        sources: Arc::new(sources),
        name,
    })
}

/// Parses a single WIT document held in memory (`name` is what reports call
/// it) and selects `world` as [`load_world`] does: for a world compiled into a
/// program, such as the pool's.
pub fn load_world_source(
    name: &str,
    source: &str,
    world: Option<&str>,
) -> Result<ExpectedWorld, WitError> {
    let mut resolve = Resolve::default();
    let package = resolve
        .push_source(name, source)
        .map_err(|err| WitError::WitInvalid {
            path: name.to_owned(),
            message: format!("{err:#}"),
        })?;
    let world_id = select_world(&resolve, package, world, name)?;
    let world_name = world_name(&resolve, world_id);
    let files = resolve
        .source_map
        .source_names()
        .map(|file| SourceFile {
            name: file.to_owned(),
            contents: Arc::from(source),
        })
        .collect();
    Ok(ExpectedWorld {
        resolve: Arc::new(resolve),
        world: world_id,
        sources: Arc::new(Sources { files }),
        name: world_name,
    })
}

fn select_world(
    resolve: &Resolve,
    package: PackageId,
    world: Option<&str>,
    display: &str,
) -> Result<WorldId, WitError> {
    let Some(pkg) = resolve.packages.get(package) else {
        return Err(WitError::NoWorld {
            path: display.to_owned(),
        });
    };
    let available: Vec<String> = pkg.worlds.keys().cloned().collect();
    match world {
        // A plain name is looked up in the main package; anything else (a
        // `pkg:name/world` path) goes through wit-parser's own selection rules.
        Some(name) => pkg
            .worlds
            .get(name)
            .copied()
            .or_else(|| resolve.select_world(&[package], Some(name)).ok())
            .ok_or_else(|| WitError::UnknownWorld {
                path: display.to_owned(),
                name: name.to_owned(),
                available,
            }),
        None => match pkg.worlds.values().copied().collect::<Vec<_>>().as_slice() {
            [] => Err(WitError::NoWorld {
                path: display.to_owned(),
            }),
            [only] => Ok(*only),
            _ => Err(WitError::AmbiguousWorld {
                path: display.to_owned(),
                available,
            }),
        },
    }
}

pub(crate) fn world_name(resolve: &Resolve, world: WorldId) -> String {
    let Some(w) = resolve.worlds.get(world) else {
        return String::from("<unknown world>");
    };
    match w.package.and_then(|p| resolve.packages.get(p)) {
        Some(pkg) => {
            let name = &pkg.name;
            match &name.version {
                Some(v) => format!("{}:{}/{}@{v}", name.namespace, name.name, w.name),
                None => format!("{}:{}/{}", name.namespace, name.name, w.name),
            }
        }
        None => w.name.clone(),
    }
}

/// Reads back the text of every WIT file wit-parser used; a file that cannot be
/// read again only loses its snippet in diagnostics.
fn read_sources(resolve: &Resolve) -> Sources {
    let files = resolve
        .source_map
        .source_names()
        .filter_map(|name| {
            let contents = std::fs::read_to_string(name).ok()?;
            Some(SourceFile {
                name: name.to_owned(),
                contents: Arc::from(contents),
            })
        })
        .collect();
    Sources { files }
}

/// Builds a component for the world from a dummy core module (every export a stub
/// that traps), without compiling anything: what the tests and benchmarks validate.
pub fn dummy_component(expected: &ExpectedWorld) -> Result<Vec<u8>, WitError> {
    let resolve = expected.resolve();
    let world = expected.world_id();
    let fail = |message: String| WitError::Dummy {
        world: expected.name().to_owned(),
        message,
    };
    let mut module = wit_component::dummy_module(
        resolve,
        world,
        wit_parser::ManglingAndAbi::Legacy(wit_parser::LiftLowerAbi::Sync),
    );
    wit_component::embed_component_metadata(
        &mut module,
        resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )
    .map_err(|e| fail(format!("{e:#}")))?;
    let mut encoder = wit_component::ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .map_err(|e| fail(format!("{e:#}")))?;
    encoder.encode().map_err(|e| fail(format!("{e:#}")))
}
