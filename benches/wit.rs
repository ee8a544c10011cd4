//! WIT validator speed: validating a component against `wit/` without compiling it,
//! and, with the `runtime` feature, what wasmtime takes to compile the same bytes.
//!
//! The component is the one named by `TEMPER_WIT_BENCH_COMPONENT`, else the real
//! guest when the pool's tests have built it into `target/guests/` (or
//! `$CARGO_TARGET_DIR/guests/`), else a dummy built from `wit/`.

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use temper::wit::{dummy_component, load_world, validate};

fn guest_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TEMPER_WIT_BENCH_COMPONENT") {
        return Some(PathBuf::from(path));
    }
    let mut dirs = vec![PathBuf::from("target/guests")];
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        dirs.push(PathBuf::from(dir).join("guests"));
    }
    let mut found: Vec<PathBuf> = dirs
        .iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    found.sort();
    found.into_iter().next()
}

fn bench(c: &mut Criterion) {
    let world = load_world(Path::new("wit"), None).expect("wit/ loads");
    let (label, component) = match guest_path() {
        Some(path) => (
            format!("guest {}", path.display()),
            std::fs::read(&path).expect("guest readable"),
        ),
        None => (
            String::from("dummy"),
            dummy_component(&world).expect("dummy builds"),
        ),
    };
    eprintln!("wit bench component: {label}, {} bytes", component.len());

    let mut group = c.benchmark_group("wit");
    group.bench_function("load_world", |b| {
        b.iter(|| load_world(Path::new("wit"), None).expect("wit/ loads"))
    });
    group.bench_function("validate", |b| {
        b.iter(|| validate(&component, &world).expect("component decodes"))
    });
    group.bench_function("decode", |b| {
        b.iter(|| wit_component::decode(&component).expect("component decodes"))
    });
    #[cfg(feature = "runtime")]
    {
        let engine = wasmtime::Engine::default();
        group.sample_size(10);
        group.bench_function("wasmtime_compile", |b| {
            b.iter(|| wasmtime::component::Component::new(&engine, &component).expect("compiles"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
