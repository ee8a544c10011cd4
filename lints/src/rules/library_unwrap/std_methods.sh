#!/usr/bin/env bash
# Regenerates std_methods.txt: every method name of the standard library
# (core, alloc, std; inherent and trait methods), read from the toolchain's
# rust-docs component, with ` ?` after the names of which some method
# returns an `Option` or a `Result` (what `.unwrap()` can be called on).
# Needs `rustup component add rust-docs` and python3.
#
#   bash lints/src/rules/library_unwrap/std_methods.sh
set -euo pipefail
cd "$(dirname "$0")"
docs="$(rustc --print sysroot)/share/doc/rust/html"
version="$(rustc --version | cut -d' ' -f1-2)"
python3 - "$docs" "$version" > std_methods.txt <<'PY'
import html, os, re, sys
docs, version = sys.argv[1], sys.argv[2]
item = re.compile(r'id="(?:method|tymethod)\.([a-z_0-9]+)"(.*?)</h4>', re.S)
fallible_ret = re.compile(r'(?:\w+::)*(Option|Result|LockResult|TryLockResult)\b|Poll<\s*(Option|Result)')
names, fallible = set(), set()
for crate in ("core", "alloc", "std"):
    for directory, _, files in os.walk(os.path.join(docs, crate)):
        for name in files:
            if not name.endswith(".html"):
                continue
            with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as f:
                text = f.read()
            for m in item.finditer(text):
                names.add(m.group(1))
                signature = html.unescape(re.sub(r"<[^>]+>", "", m.group(2)))
                if "->" in signature:
                    ret = signature.split("->", 1)[1].strip()
                    if fallible_ret.match(ret) or re.match(r"(?:\w+::)*\w*Result\b", ret):
                        fallible.add(m.group(1))
print("# Method names of Rust's standard library (core, alloc, std), one per line,")
print(f"# from the rust-docs of {version}; ` ?` marks a name some method of which")
print("# returns an `Option` or a `Result`. Regenerate with std_methods.sh.")
for name in sorted(names):
    print(f"{name} ?" if name in fallible else name)
PY
