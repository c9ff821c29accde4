#!/usr/bin/env bash
# Builds the npm package's wasm: the crate for wasm32 (release), then the
# wasm-bindgen glue into pkg/ (ES module for browsers, bundlers and Node;
# --weak-refs frees arrays the garbage collector reclaims).
#
#   bash www/build.sh        (or: cd www && npm run build)
set -euo pipefail
cd "$(dirname "$0")"
cargo build --quiet --release --lib --target wasm32-unknown-unknown --manifest-path ../Cargo.toml
target_dir="$(cargo metadata --format-version 1 --no-deps --manifest-path ../Cargo.toml \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
wasm-bindgen --target web --weak-refs --out-dir pkg --out-name kiln \
    "$target_dir/wasm32-unknown-unknown/release/kiln.wasm"
echo "built $(pwd)/pkg ($(du -h pkg/kiln_bg.wasm | cut -f1) wasm)"
