//! WIT validator: checks a compiled WebAssembly component against a WIT world before it is instantiated.
//!
//! ```no_run
//! # fn main() -> Result<(), temper::wit::WitError> {
//! use std::path::Path;
//! let world = temper::wit::load_world(Path::new("wit"), None)?;
//! let report = temper::wit::validate_file(Path::new("guest.wasm"), &world)?;
//! if !report.is_compatible() {
//!     eprint!("{}", report.render_human(temper::wit::Style::Plain));
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # What is compared
//!
//! The component's own interface is read with [`wit_component::decode`], which
//! rebuilds a WIT world from the component's import and export types without
//! compiling or running anything (it validates the binary's structure, not its
//! function bodies). That view is exact for what matters here: interface names
//! with their versions, function names, parameter names and full types, and type
//! names. wasmtime's `Component::component_type` gives the same types only after
//! compiling the component with Cranelift, which is what this check is meant to
//! run before.
//!
//! Against the expected world this reports:
//!
//! - exports of the world the component lacks, imports of the component the host
//!   does not provide (`wasi:*` interfaces are provided by the host's WASI
//!   implementation and never reported), and imports of the world the component
//!   does not use (a warning: harmless for instantiation);
//! - per function: kind (sync/async, method), parameter count, names and types,
//!   and the result, compared structurally through records, variants, enums,
//!   flags, options, results, lists, tuples, maps and resource handles, with the
//!   path to the first difference (`extract: result.ok.links: expected
//!   list<string>, found list<link>`);
//! - named types missing from, or different in, the component's interface; a
//!   named type is compared once, under its own name, wherever it is used;
//! - package version mismatches of interfaces.
//!
//! Directions follow the component model: for an export the component must have
//! every function and type of the world's interface (extra ones are fine); for
//! an import the host must have every function the component imports.
//!
//! # Versions
//!
//! A component that exports plain functions decodes as a generic
//! `root:component` world and loses the package version; only interfaces keep
//! versioned names (`temper:extractor/extract@0.1.0`), so versions are checked
//! on interfaces. Two versions are compatible under wasmtime's own rule for
//! versioned names (its `alternate_lookup_key`): they must be on the same semver
//! track, which is the major version when it is not zero (`1.2.0` satisfies
//! `1.0.0`, `2.0.0` does not), the minor version for `0.x` (`0.1.5` satisfies
//! `0.1.0`, `0.2.0` does not), and the exact version for `0.0.x` and
//! pre-releases; build metadata is ignored. An unversioned name matches only an
//! unversioned name.
//!
//! # Input errors
//!
//! Unusable input is a [`WitError`] naming the file, never a panic: an empty
//! file, a text file, bytes without the WebAssembly magic, a core module, a
//! truncated or otherwise malformed component, a WIT package encoded as wasm,
//! and anything over [`MAX_COMPONENT_BYTES`].

mod compare;
mod error;
mod report;
mod version;
mod world;

pub mod cli;

use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

pub use error::WitError;
pub use report::{Location, Problem, ProblemKind, Severity, Style, ValidationReport};
pub use version::{
    is_compatible as versions_compatible, is_compatible_opt as versions_compatible_opt,
};
pub use world::{ExpectedWorld, dummy_component, load_world, load_world_source};

/// The largest component accepted, 256 MiB: real guests are a few MiB, and a
/// larger file is far more likely a wrong path than a component.
pub const MAX_COMPONENT_BYTES: u64 = 256 * 1024 * 1024;

/// Name used for a component validated from memory with [`validate`].
const MEMORY_NAME: &str = "<memory>";

/// Validates component bytes against the expected world.
pub fn validate(component: &[u8], expected: &ExpectedWorld) -> Result<ValidationReport, WitError> {
    validate_named(component, MEMORY_NAME, expected)
}

/// Same as [`validate`], naming the component `name` in errors and in the report.
pub fn validate_named(
    component: &[u8],
    name: &str,
    expected: &ExpectedWorld,
) -> Result<ValidationReport, WitError> {
    check_header(component, name)?;
    let (resolve, world) = decode(component, name)?;
    let problems = compare::Comparer::new(expected.resolve(), &resolve, &expected.sources)
        .compare_worlds(expected.world_id(), world);
    Ok(ValidationReport {
        component: name.to_owned(),
        world: expected.name().to_owned(),
        problems,
        sources: std::sync::Arc::clone(&expected.sources),
    })
}

/// Reads the component at `path` (refusing files over [`MAX_COMPONENT_BYTES`]
/// before reading them) and validates it against the expected world.
pub fn validate_file(path: &Path, expected: &ExpectedWorld) -> Result<ValidationReport, WitError> {
    let name = path.display().to_string();
    let bytes = read_component(path, &name)?;
    validate_named(&bytes, &name, expected)
}

fn read_component(path: &Path, name: &str) -> Result<Vec<u8>, WitError> {
    let read_error = |source| WitError::Read {
        path: name.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let size = file.metadata().map_err(read_error)?.len();
    if size > MAX_COMPONENT_BYTES {
        return Err(WitError::TooLarge {
            path: name.to_owned(),
            size,
            limit: MAX_COMPONENT_BYTES,
        });
    }
    let mut bytes = Vec::new();
    // The take() bounds the read even if the file grows after the size check.
    file.take(MAX_COMPONENT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    Ok(bytes)
}

/// Recognises the inputs people pass by mistake from the first bytes, so they
/// get a precise error rather than a decoder message.
fn check_header(bytes: &[u8], name: &str) -> Result<(), WitError> {
    let path = name.to_owned();
    if bytes.is_empty() {
        return Err(WitError::Empty { path });
    }
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if size > MAX_COMPONENT_BYTES {
        return Err(WitError::TooLarge {
            path,
            size,
            limit: MAX_COMPONENT_BYTES,
        });
    }
    if !bytes.starts_with(b"\0asm") {
        if let Some(hint) = text_hint(bytes) {
            return Err(WitError::TextFile { path, hint });
        }
        return Err(WitError::NotWasm { path });
    }
    let [_, _, _, _, v0, v1, l0, l1, ..] = *bytes else {
        return Err(WitError::Truncated {
            path,
            len: bytes.len(),
        });
    };
    let (version, layer) = (u16::from_le_bytes([v0, v1]), u16::from_le_bytes([l0, l1]));
    match (version, layer) {
        (1, 0) => Err(WitError::CoreModule { path }),
        (0x0d, 1) => Ok(()),
        _ => Err(WitError::UnsupportedHeader {
            path,
            version,
            layer,
        }),
    }
}

/// Returns advice when the start of the file is text rather than binary.
fn text_hint(bytes: &[u8]) -> Option<String> {
    let head = bytes.get(..bytes.len().min(4096))?;
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // A multi-byte character cut by the 4 KiB window is still text.
        Err(err) if err.error_len().is_none() => {
            std::str::from_utf8(head.get(..err.valid_up_to())?).ok()?
        }
        Err(_) => return None,
    };
    if text.contains('\0') {
        return None;
    }
    let trimmed = text.trim_start();
    let hint = if trimmed.starts_with("(component") || trimmed.starts_with("(module") {
        "this is the WebAssembly text format: compile it to a binary first (`wasm-tools parse`)"
    } else if trimmed.contains("package ")
        || trimmed.contains("world ")
        || trimmed.contains("interface ")
    {
        "this looks like WIT: pass it with --wit and give the compiled component as COMPONENT"
    } else {
        "give the path of a compiled `.wasm` component"
    };
    Some(hint.to_owned())
}

/// Decodes the component's world. The decoder is third-party code fed untrusted
/// bytes, so a panic in it is caught and reported as a malformed component.
fn decode(
    bytes: &[u8],
    name: &str,
) -> Result<(wit_parser::Resolve, wit_parser::WorldId), WitError> {
    // Validate first: fuzzing found 2-3 KB components that made the decoder
    // allocate about 3 GB before rejecting them; the validator refuses them
    // in linear time and memory.
    if let Err(err) = wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(bytes)
    {
        return Err(reader_error(&err, err.to_string(), bytes, name));
    }
    let decoded =
        catch_unwind(AssertUnwindSafe(|| wit_component::decode(bytes))).map_err(|_| {
            WitError::Malformed {
                path: name.to_owned(),
                message: String::from("the decoder panicked on this input"),
            }
        })?;
    match decoded {
        Ok(wit_component::DecodedWasm::Component(resolve, world)) => Ok((resolve, world)),
        Ok(wit_component::DecodedWasm::WitPackage(..)) => Err(WitError::WitPackage {
            path: name.to_owned(),
        }),
        Err(err) => {
            let message = format!("{err:#}");
            match err
                .chain()
                .find_map(|cause| cause.downcast_ref::<wasmparser::BinaryReaderError>())
            {
                Some(reader) => Err(reader_error(reader, message, bytes, name)),
                None => Err(WitError::Malformed {
                    path: name.to_owned(),
                    message,
                }),
            }
        }
    }
}

/// A binary that ends early is truncated; anything else the reader refuses is
/// malformed.
fn reader_error(
    error: &wasmparser::BinaryReaderError,
    message: String,
    bytes: &[u8],
    name: &str,
) -> WitError {
    if error.offset() >= bytes.len() || error.message().contains("unexpected end") {
        WitError::Truncated {
            path: name.to_owned(),
            len: bytes.len(),
        }
    } else {
        WitError::Malformed {
            path: name.to_owned(),
            message,
        }
    }
}
