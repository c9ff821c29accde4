#!/usr/bin/env bash
# Runs every JavaScript test of the package, in order; exits non-zero if
# any fails. Needs pkg/ built (npm run build) and Chromium
# ($CHROMIUM, else /usr/bin/chromium).
set -u
cd "$(dirname "$0")/.."

# Dawn (Node's WebGPU) rejects lavapipe; use SwiftShader where there is no GPU.
export VK_ICD_FILENAMES="${VK_ICD_FILENAMES:-/usr/lib/chromium/vk_swiftshader_icd.json}"

failed=()
run() {
  echo "== $*"
  "$@" || failed+=("$*")
}

run node --expose-gc --test --test-reporter=spec test/node.test.mjs
# The same tests on the CPU backend (WebAssembly, no WebGPU needed).
run env KILN_TEST_BACKEND=cpu node --expose-gc --test --test-reporter=spec test/node.test.mjs
run node --test --test-reporter=spec test/size.test.mjs
run node --test --test-reporter=spec test/preinit.test.mjs
run node --test --test-reporter=spec test/errors.test.mjs
run env KILN_TEST_BACKEND=cpu node --test --test-reporter=spec test/errors.test.mjs
run node --test --test-reporter=spec test/browser.test.mjs
run node --test --test-reporter=spec test/vite.test.mjs
run node --test --test-reporter=spec test/pack.test.mjs
if [ -f test/demo.e2e.mjs ]; then
  run node test/demo.e2e.mjs
fi

if [ ${#failed[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed[@]}"
  exit 1
fi
echo "all JavaScript tests passed"
