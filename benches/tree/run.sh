#!/usr/bin/env bash
# A package of 100,000 module files (plus 100 directory modules), generated
# in a temporary directory, checked with `temper check --no-cache` under
# `/usr/bin/time -v`: prints the wall time and the peak resident set size.
#
#   bash benches/tree/run.sh                 # debug build, 100 x 1000 files
#   TEMPER_BIN=target/release/temper DIRS=100 FILES=1000 bash benches/tree/run.sh
#   FINDINGS=migrate bash benches/tree/run.sh  # findings whose fix migrates a
#                                              # signature across the crate,
#                                              # planned (`--plan-fixes`)
#
# Timing is not asserted anywhere: this is a measurement, run by hand; the
# README's "Reliability" section records the figures.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${TEMPER_BIN:-$root/target/debug/temper}"
dirs="${DIRS:-100}"
files="${FILES:-1000}"
# `local`: every tenth file has an `unwrap` in a function returning `Option`
# (a fix within the file); `migrate`: in a function returning a plain value,
# whose fix makes it fallible and is completed against the whole crate.
findings="${FINDINGS:-local}"
# Plain `check` only describes a migration; planning it is what is measured.
plan=()
if [ "$findings" = migrate ]; then
    plan=(--plan-fixes)
fi
if [ ! -x "$bin" ]; then
    (cd "$root" && cargo build --bin temper)
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
cat > "$work/Cargo.toml" <<TOML
[package]
name = "tree"
version = "0.1.0"
edition = "2021"

[workspace]
TOML
python3 - "$work" "$dirs" "$files" "$findings" <<'PY'
import os, sys
work, dirs, files, findings = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ret = "Option<u32>" if findings == "local" else "u32"
src = os.path.join(work, "src")
with open(os.path.join(src, "lib.rs"), "w") as lib:
    for d in range(dirs):
        lib.write(f"pub mod m{d};\n")
        os.makedirs(os.path.join(src, f"m{d}"))
        with open(os.path.join(src, f"m{d}.rs"), "w") as module:
            for f in range(files):
                module.write(f"pub mod f{f};\n")
        for f in range(files):
            # One finding in every tenth file, a clean function in the rest.
            body = "x.unwrap()" if f % 10 == 0 else "x.unwrap_or(0)"
            if findings == "local":
                body = f"Some({body})"
            with open(os.path.join(src, f"m{d}", f"f{f}.rs"), "w") as out:
                out.write(
                    f"//! Module {d}/{f}.\n\n"
                    f"pub fn value_{f}(x: Option<u32>) -> {ret} {{\n    {body}\n}}\n\n"
                    f"pub struct S{f} {{\n    pub n: u32,\n}}\n"
                )
PY
count=$(find "$work" -name '*.rs' | wc -l)
echo "files: $count ($(du -sh "$work" | cut -f1))"
cd "$work"
set +e
${TIMEOUT:+timeout $TIMEOUT} /usr/bin/time -v "$bin" check --no-cache "${plan[@]}" --format json . > "$work/out.json" 2> "$work/time.txt"
status=$?
set -e
echo "exit status: $status (1 = findings at deny level, 0 = warnings only)"
python3 -c "import json,sys; print('findings:', len(json.load(open(sys.argv[1]))))" "$work/out.json"
grep -E "Elapsed \(wall clock\)|Maximum resident set size|User time|System time" "$work/time.txt"
