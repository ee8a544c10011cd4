#!/usr/bin/env bash
# Builds the benchmark corpus of `cargo bench --bench versus` (issue #11):
# the crates.io sources of nine popular projects nobody here wrote — tokio,
# hyper, serde, regex, ripgrep (with its grep-*, globset and ignore crates),
# wasmtime (with its cranelift and pulley crates), axum, reqwest and sqlx —
# copied into DIR, one directory per crate.
#
#   bash benches/corpus.sh DIR
#
# cargo downloads them (`cargo fetch` in a scratch project that depends on
# each at its exact version) into its registry cache, from which they are
# copied; nothing is built.
set -euo pipefail
dir="${1:?usage: bash benches/corpus.sh DIR}"
crates=(
  tokio@1.54.1 tokio-util@0.7.20 tokio-macros@2.7.2
  hyper@1.12.0 hyper-util@0.1.21
  serde@1.0.229 serde_core@1.0.229 serde_derive@1.0.229
  regex@1.13.2 regex-automata@0.4.19 regex-syntax@0.8.12 regex-lite@0.1.9
  ripgrep@14.1.1 grep@0.3.2 grep-cli@0.1.12 grep-matcher@0.1.9
  grep-printer@0.2.2 grep-regex@0.1.14 grep-searcher@0.1.17
  globset@0.4.22 ignore@0.4.35
  wasmtime@48.0.8 wasmtime-environ@48.0.8
  wasmtime-internal-cache@48.0.8 wasmtime-internal-component-macro@48.0.8
  wasmtime-internal-component-util@48.0.8 wasmtime-internal-core@48.0.8
  wasmtime-internal-cranelift@48.0.8 wasmtime-internal-fiber@48.0.8
  wasmtime-internal-jit-debug@48.0.8 wasmtime-internal-jit-icache-coherence@48.0.8
  wasmtime-internal-unwinder@48.0.8 wasmtime-internal-versioned-export-macros@48.0.8
  wasmtime-internal-wit-bindgen@48.0.8
  cranelift-assembler-x64@0.135.8 cranelift-assembler-x64-meta@0.135.8
  cranelift-bforest@0.135.8 cranelift-bitset@0.135.8 cranelift-codegen@0.135.8
  cranelift-codegen-meta@0.135.8 cranelift-codegen-shared@0.135.8
  cranelift-control@0.135.8 cranelift-entity@0.135.8 cranelift-frontend@0.135.8
  cranelift-isle@0.135.8 cranelift-native@0.135.8 cranelift-srcgen@0.135.8
  pulley-interpreter@48.0.8 pulley-macros@48.0.8
  axum@0.8.9 axum-core@0.5.6
  reqwest@0.12.28
  sqlx@0.8.6 sqlx-core@0.8.6 sqlx-mysql@0.8.6 sqlx-postgres@0.8.6
  sqlx-sqlite@0.8.6 sqlx-macros@0.8.6 sqlx-macros-core@0.8.6
)
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/src"
: > "$scratch/src/lib.rs"
{
  printf '[package]\nname = "temper-bench-corpus"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[dependencies]\n'
  for crate in "${crates[@]}"; do
    printf '%s = "=%s"\n' "${crate%@*}" "${crate#*@}"
  done
} > "$scratch/Cargo.toml"
(cd "$scratch" && cargo fetch --quiet)
registry="${CARGO_HOME:-$HOME/.cargo}/registry/src"
mkdir -p "$dir"
for crate in "${crates[@]}"; do
  name="${crate%@*}-${crate#*@}"
  source="$(ls -d "$registry"/*/"$name" | head -n 1)"
  rm -rf "${dir:?}/$name"
  cp -R "$source" "$dir/$name"
done
files=$(find "$dir" -name '*.rs' | wc -l)
bytes=$(find "$dir" -name '*.rs' -print0 | xargs -0 cat | wc -c)
echo "corpus: ${#crates[@]} crates, $files .rs files, $bytes bytes in $dir"
