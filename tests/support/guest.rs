//! Builds the guest components under `fixtures/guests/` for the pool's tests
//! and benchmarks, once per process.
//!
//! The guest is built for `wasm32-unknown-unknown` and wrapped into a
//! component with `wit_component::ComponentEncoder`, rather than built for
//! `wasm32-wasip2`: Rust's std for wasip2 imports WASI interfaces (cli,
//! io, clocks...) even when the guest never uses them, so the host would have
//! to link `wasmtime-wasi` and grant capabilities to a pure function. The
//! encoded component imports nothing; the pool instantiates it with an empty
//! linker. The Rust source is the same either way.

// Shared by the tests and the benchmark, and each reads only part of it.
#![allow(dead_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The wasm target the guest's core module is built for.
pub const TARGET: &str = "wasm32-unknown-unknown";

/// The built guest.
pub struct Guest {
    /// The component (what the pool loads).
    pub component: Vec<u8>,
    /// Where the component was written, for tests of loading by path.
    pub component_path: PathBuf,
    /// The core module before encoding: a wrong input for the pool.
    pub core_module: Vec<u8>,
}

/// The extractor guest, built on first use. Panics with the build output when
/// the build fails: nothing in the pool can be tested without it.
pub fn extractor() -> &'static Guest {
    static GUEST: OnceLock<Guest> = OnceLock::new();
    GUEST.get_or_init(|| build().unwrap_or_else(|error| panic!("building the guest: {error}")))
}

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `$CARGO_TARGET_DIR/guests`, or `target/guests` in the repository.
fn guest_target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            let dir = if dir.is_absolute() {
                dir
            } else {
                repo_root().join(dir)
            };
            dir.join("guests")
        }
        _ => repo_root().join("target").join("guests"),
    }
}

fn build() -> Result<Guest, String> {
    ensure_target_installed()?;
    let target_dir = guest_target_dir();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    // Cargo locks the target directory, so concurrent test processes wait
    // for each other instead of clashing; the component is then written with
    // an atomic rename.
    let output = Command::new(cargo)
        .arg("build")
        .arg("--release")
        .arg("--manifest-path")
        .arg(repo_root().join("fixtures/guests/Cargo.toml"))
        .arg("--target")
        .arg(TARGET)
        .arg("--target-dir")
        .arg(&target_dir)
        .arg("-p")
        .arg("temper-guest-extractor")
        // Host-specific flags (target-cpu, linker choices) must not leak
        // into a wasm build.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo build of the guest failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let core_path = target_dir
        .join(TARGET)
        .join("release")
        .join("temper_guest_extractor.wasm");
    let core_module =
        std::fs::read(&core_path).map_err(|e| format!("reading {}: {e}", core_path.display()))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&core_module)
        .and_then(|encoder| encoder.validate(true).encode())
        .map_err(|e| format!("encoding the component: {e:#}"))?;
    let component_path = target_dir.join("temper_guest_extractor.component.wasm");
    let partial = target_dir.join(format!(
        "temper_guest_extractor.component.wasm.{}.part",
        std::process::id()
    ));
    std::fs::write(&partial, &component)
        .and_then(|()| std::fs::rename(&partial, &component_path))
        .map_err(|e| format!("writing {}: {e}", component_path.display()))?;
    Ok(Guest {
        component,
        component_path,
        core_module,
    })
}

/// Installs the wasm target with rustup when the toolchain lacks it, so a
/// fresh machine with only rustup and registry access can run the tests.
fn ensure_target_installed() -> Result<(), String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    let output = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    let libdir = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if output.status.success() {
        let has_std = std::fs::read_dir(&libdir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
            })
            .unwrap_or(false);
        if has_std {
            return Ok(());
        }
    }
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status()
        .map_err(|e| format!("{TARGET} is missing and rustup cannot run: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`rustup target add {TARGET}` failed: {status}"))
    }
}
