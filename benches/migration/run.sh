#!/usr/bin/env bash
# The migration table of the README: real crates from cargo's registry, each
# fixed in a temporary copy with `temper fix --unsafe-fixes --verify`, then
# built and test-built; a second fix run must change nothing.
#
#   bash benches/migration/run.sh [CRATE-VERSION ...]
#
# Crates are fetched into cargo's registry cache first (`cargo fetch` in a
# scratch project), so the run needs the registry once. The table goes to
# stdout; logs stay in the scratch directory it prints.
set -euo pipefail
cd "$(dirname "$0")/../.."
crates=("$@")
if [ ${#crates[@]} -eq 0 ]; then
    crates=(deadpool-0.13.1 r2d2-0.8.10 bb8-0.9.1 mobc-0.9.0 tokio-postgres-0.7.18 h2-0.4.20 http-1.5.0)
fi
if [ -z "${TEMPER_BIN:-}" ]; then
    cargo build --release --quiet --bin temper
fi
temper="${TEMPER_BIN:-$PWD/target/release/temper}"
scratch="$(mktemp -d)"
echo "scratch: $scratch" >&2

# Fetch the crates through a throwaway project that depends on each version.
mkdir -p "$scratch/fetch/src"
{
    echo '[package]'
    echo 'name = "fetch"'
    echo 'version = "0.0.0"'
    echo 'edition = "2021"'
    echo '[dependencies]'
    for crate in "${crates[@]}"; do
        name="${crate%-*}"
        version="${crate##*-}"
        echo "$name = { version = \"=$version\", default-features = false }"
    done
} > "$scratch/fetch/Cargo.toml"
touch "$scratch/fetch/src/lib.rs"
(cd "$scratch/fetch" && cargo fetch --quiet)
registry="$(dirname "$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -maxdepth 2 -name "${crates[0]}" -type d | head -1)")"

count() { # findings in the current directory, from temper's JSON
    "$temper" check --no-cache --format json . 2>/dev/null |
        python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

# Findings left because the chain reaches a trait method (`Deref::deref`,
# `Drop::drop`, ..): the trait decides the signature, so no fix can change it.
at_trait() {
    python3 -c '
import re, sys
summary = [l for l in open(sys.argv[1]) if re.match(r"^[0-9]+ fixed", l)]
text = summary[-1] if summary else ""
print(sum(int(n) for n in re.findall(r"(\d+) no automatic fix \(the chain reaches `[^`]+`, a trait method", text)))
' "$1"
}

echo "| crate | findings | fixed | reverted by --verify | left at a trait method | fixed of the rest | left (reasons) | cargo check --all-targets | cargo test --no-run | second fix |"
echo "|---|---:|---:|---:|---:|---:|---|---|---|---|"
for crate in "${crates[@]}"; do
    dir="$scratch/$crate"
    cp -r "$registry/$crate" "$dir"
    rm -f "$dir/Cargo.toml.orig" "$dir/.cargo_vcs_info.json"
    export CARGO_TARGET_DIR="$scratch/target"
    (cd "$dir" && cargo generate-lockfile --quiet 2>/dev/null || true)
    before=$(cd "$dir" && count)
    (cd "$dir" && "$temper" fix --unsafe-fixes --verify . > "$scratch/$crate.fix.log" 2>&1) || true
    summary=$(grep -E '^[0-9]+ fixed' "$scratch/$crate.fix.log" | tail -1)
    fixed=$(echo "$summary" | sed -E 's/^([0-9]+) fixed.*/\1/')
    reverted=$(grep -c '^left .*reverted by --verify' "$scratch/$crate.fix.log" || true)
    left=$(echo "$summary" | sed -E 's/^[0-9]+ fixed, ?//')
    check=fail
    (cd "$dir" && cargo check --all-targets --quiet > "$scratch/$crate.check.log" 2>&1) && check=ok
    testbuild=fail
    (cd "$dir" && cargo test --no-run --quiet > "$scratch/$crate.test.log" 2>&1) && testbuild=ok
    (cd "$dir" && "$temper" fix --unsafe-fixes --verify . > "$scratch/$crate.fix2.log" 2>&1) || true
    second=$(grep -E '^[0-9]+ fixed' "$scratch/$crate.fix2.log" | tail -1 | sed -E 's/^([0-9]+) fixed.*/\1 fixed/')
    trait=$(at_trait "$scratch/$crate.fix.log")
    rest=$((before - trait))
    share=$([ "$rest" -gt 0 ] && echo "$((100 * fixed / rest))%" || echo "-")
    echo "| $crate | $before | $fixed | $reverted | $trait | $share | ${left:-none} | $check | $testbuild | $second |"
done
