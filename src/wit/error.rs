//! Errors for input the validator cannot use: a bad WIT directory or bytes that are not a component.

use miette::Diagnostic;
use thiserror::Error;

/// Why a WIT world could not be loaded or a component could not be read.
///
/// Each variant names the file it is about. Problems with a well-formed component
/// (missing exports, signature drift) are not errors: they are the
/// [`ValidationReport`](super::ValidationReport).
#[derive(Debug, Error, Diagnostic)]
#[non_exhaustive]
pub enum WitError {
    /// The WIT path does not exist.
    #[error("WIT path `{path}` does not exist")]
    #[diagnostic(
        code(temper::wit::wit_not_found),
        help("pass the directory holding the world with --wit DIR")
    )]
    WitNotFound {
        /// The path that was given.
        path: String,
    },

    /// The WIT files did not parse or resolve.
    #[error("invalid WIT in `{path}`: {message}")]
    #[diagnostic(code(temper::wit::wit_invalid))]
    WitInvalid {
        /// The WIT directory or file.
        path: String,
        /// What wit-parser reported, with its own file and line.
        message: String,
    },

    /// The WIT package declares no world.
    #[error("WIT package in `{path}` declares no world")]
    #[diagnostic(code(temper::wit::no_world))]
    NoWorld {
        /// The WIT directory or file.
        path: String,
    },

    /// Several worlds and no `--world` to choose between them.
    #[error("WIT package in `{path}` declares several worlds: {}", available.join(", "))]
    #[diagnostic(
        code(temper::wit::ambiguous_world),
        help("choose one with --world NAME")
    )]
    AmbiguousWorld {
        /// The WIT directory or file.
        path: String,
        /// The worlds of the main package.
        available: Vec<String>,
    },

    /// The world named with `--world` does not exist.
    #[error("no world `{name}` in `{path}`")]
    #[diagnostic(code(temper::wit::unknown_world), help("worlds declared there: {}", available.join(", ")))]
    UnknownWorld {
        /// The WIT directory or file.
        path: String,
        /// The requested world.
        name: String,
        /// The worlds of the main package.
        available: Vec<String>,
    },

    /// The component file could not be read.
    #[error("cannot read component `{path}`")]
    #[diagnostic(code(temper::wit::read))]
    Read {
        /// The component path.
        path: String,
        /// The underlying IO error.
        #[source]
        source: std::io::Error,
    },

    /// The component file is empty.
    #[error("component `{path}` is empty")]
    #[diagnostic(code(temper::wit::empty))]
    Empty {
        /// The component path.
        path: String,
    },

    /// The file is larger than [`MAX_COMPONENT_BYTES`](super::MAX_COMPONENT_BYTES).
    #[error("component `{path}` is {size} bytes, over the {limit} byte limit")]
    #[diagnostic(
        code(temper::wit::too_large),
        help("a component this large is not a sensible pool guest; check the path")
    )]
    TooLarge {
        /// The component path.
        path: String,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },

    /// The file is text, not a WebAssembly binary.
    #[error("`{path}` is a text file, not a WebAssembly component")]
    #[diagnostic(code(temper::wit::text_file), help("{hint}"))]
    TextFile {
        /// The component path.
        path: String,
        /// What to do instead.
        hint: String,
    },

    /// The file does not start with the WebAssembly magic number.
    #[error("`{path}` is not a WebAssembly binary (it does not start with `\\0asm`)")]
    #[diagnostic(code(temper::wit::not_wasm))]
    NotWasm {
        /// The component path.
        path: String,
    },

    /// A core module was given where a component is needed.
    #[error("`{path}` is a core WebAssembly module, not a component")]
    #[diagnostic(
        code(temper::wit::core_module),
        help(
            "wrap it into a component first, e.g. `wasm-tools component new` or wit_component::ComponentEncoder"
        )
    )]
    CoreModule {
        /// The component path.
        path: String,
    },

    /// A WebAssembly binary of a version or layer this decoder does not know.
    #[error(
        "`{path}` has an unsupported WebAssembly header (version {version:#06x}, layer {layer})"
    )]
    #[diagnostic(code(temper::wit::unsupported_header))]
    UnsupportedHeader {
        /// The component path.
        path: String,
        /// The version field of the header.
        version: u16,
        /// The layer field of the header (0 for core modules, 1 for components).
        layer: u16,
    },

    /// The binary ends before its sections do.
    #[error("component `{path}` is truncated: it ends at byte {len} in the middle of a section")]
    #[diagnostic(
        code(temper::wit::truncated),
        help("the file was probably cut short while copying or building; rebuild it")
    )]
    Truncated {
        /// The component path.
        path: String,
        /// The file length in bytes.
        len: usize,
    },

    /// The binary is a component header followed by something that is not a valid component.
    #[error("component `{path}` is malformed: {message}")]
    #[diagnostic(code(temper::wit::malformed))]
    Malformed {
        /// The component path.
        path: String,
        /// What the decoder reported.
        message: String,
    },

    /// The binary is a WIT package encoded as WebAssembly, not a component with code.
    #[error("`{path}` is a WIT package encoded as WebAssembly, not a component")]
    #[diagnostic(code(temper::wit::wit_package))]
    WitPackage {
        /// The component path.
        path: String,
    },

    /// A dummy component could not be built for a world.
    #[error("cannot build a dummy component for world `{world}`: {message}")]
    #[diagnostic(code(temper::wit::dummy))]
    Dummy {
        /// The world.
        world: String,
        /// What wit-component reported.
        message: String,
    },
}

impl WitError {
    /// A stable, kebab-case name for the error, used in JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            WitError::WitNotFound { .. } => "wit-not-found",
            WitError::WitInvalid { .. } => "wit-invalid",
            WitError::NoWorld { .. } => "no-world",
            WitError::AmbiguousWorld { .. } => "ambiguous-world",
            WitError::UnknownWorld { .. } => "unknown-world",
            WitError::Read { .. } => "read",
            WitError::Empty { .. } => "empty",
            WitError::TooLarge { .. } => "too-large",
            WitError::TextFile { .. } => "text-file",
            WitError::NotWasm { .. } => "not-wasm",
            WitError::CoreModule { .. } => "core-module",
            WitError::UnsupportedHeader { .. } => "unsupported-header",
            WitError::Truncated { .. } => "truncated",
            WitError::Malformed { .. } => "malformed",
            WitError::WitPackage { .. } => "wit-package",
            WitError::Dummy { .. } => "dummy",
        }
    }
}
