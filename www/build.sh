#!/usr/bin/env bash
# Builds the npm package's wasm: the crate for wasm32 (the size-tuned
# wasm-release profile), then the wasm-bindgen glue into pkg/ (ES module for
# browsers, bundlers and Node; --weak-refs frees arrays the garbage
# collector reclaims), then wasm-opt -Oz --converge (binaryen, from npm
# install; its passes repeated until the size stops falling), which also
# drops the function names.
#
#   bash www/build.sh        (or: cd www && npm run build)
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x node_modules/.bin/wasm-opt ]; then
    echo "www/build.sh: wasm-opt is missing; run npm install in www/ first (it comes with the binaryen package)" >&2
    exit 1
fi
cargo build --quiet --profile wasm-release --lib --target wasm32-unknown-unknown --manifest-path ../Cargo.toml
target_dir="$(cargo metadata --format-version 1 --no-deps --manifest-path ../Cargo.toml \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
wasm-bindgen --target web --weak-refs --out-dir pkg --out-name kiln \
    "$target_dir/wasm32-unknown-unknown/wasm-release/kiln.wasm"
node_modules/.bin/wasm-opt -Oz --converge pkg/kiln_bg.wasm -o pkg/kiln_bg.wasm
echo "built $(pwd)/pkg ($(du -h pkg/kiln_bg.wasm | cut -f1) wasm, $(gzip -9 -c pkg/kiln_bg.wasm | wc -c) bytes gzipped)"
