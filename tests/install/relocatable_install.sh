#!/usr/bin/env bash
# `cmake --install` into a prefix, the prefix moved elsewhere, and the moved binary still finds
# its bundled data (zoo recipes, the demo model) and nothing of the build or source tree.
# Usage: relocatable_install.sh BUILD_DIR
set -euo pipefail
build=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/headscope_install_XXXXXX")
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
mv "$work/prefix" "$work/moved"
bin="$work/moved/bin/headscope"
fail() { echo "relocatable install: $*" >&2; exit 1; }
"$bin" --version | grep -q '^headscope [0-9]' || fail "--version printed no version"
list=$("$bin" zoo list) || fail "zoo list failed in the moved prefix"
grep -q '^needle-4x8 ' <<<"$list" || fail "zoo list does not show the needle-4x8 recipe: $list"
[[ -f "$work/moved/share/headscope/models/needle-4x8/config.json" ]] ||
  fail "the demo model was not installed"
# The demo's default model comes from the moved prefix: it fails on the (too short) length,
# after the model was found and loaded.
out=$("$bin" demo --length 100000 --out "$work/demo" 2>&1) && fail "demo --length 100000 ran"
grep -q "exceeds the model's" <<<"$out" || fail "demo did not find its bundled model: $out"
echo "relocatable install: ok"
