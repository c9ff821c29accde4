// The package's download stays inside its budget: the wasm and the JS a web
// app fetches, gzipped at level 9 as a server would send them. Raise a
// budget only with a reason (a new capability), and record the new sizes
// in BENCHMARKS.md ("Package size").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';

const root = new URL('../', import.meta.url);
const gzipped = async (path) => gzipSync(await readFile(new URL(path, root)), { level: 9 }).length;

/** Budgets in bytes, gzipped. */
// The wasm's rose from 387,000 with the CPU backend (plain Rust, a loop per
// float op, matrixmultiply and faer's linear algebra), which runs the
// package where there is no WebGPU.
const BUDGET = { wasm: 540_000, js: 56_000 };

test('the wasm stays within its budget', async () => {
  const wasm = await gzipped('pkg/kiln_bg.wasm');
  console.log(`pkg/kiln_bg.wasm: ${wasm} bytes gzipped (budget ${BUDGET.wasm})`);
  assert.ok(wasm <= BUDGET.wasm, `pkg/kiln_bg.wasm is ${wasm} bytes gzipped, over its budget of ${BUDGET.wasm}`);
});

test('the JavaScript stays within its budget', async () => {
  const sources = (await readdir(new URL('src/', root))).filter((f) => f.endsWith('.js'));
  const files = [...sources.map((f) => `src/${f}`), 'pkg/kiln.js'];
  const text = Buffer.concat(await Promise.all(files.map((f) => readFile(new URL(f, root)))));
  const js = gzipSync(text, { level: 9 }).length;
  console.log(`${files.join(', ')}: ${js} bytes gzipped together (budget ${BUDGET.js})`);
  assert.ok(js <= BUDGET.js, `the package's JavaScript is ${js} bytes gzipped, over its budget of ${BUDGET.js}`);
});
