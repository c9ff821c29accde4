// The package in a Vite build: test/vite/ imports `@kiln-ml/kiln`, Vite bundles it
// (emitting the .wasm as an asset), and the built page runs in headless
// Chromium from the static server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build, createLogger } from 'vite';
import { serve } from '../scripts/serve.mjs';
import { launch, openPage, runApp } from './chromium.mjs';
import { appInput, assertAppResult } from './util.mjs';

const configFile = fileURLToPath(new URL('vite/vite.config.js', import.meta.url));
const dist = new URL('vite/dist/', import.meta.url);
const wasm = new URL('../pkg/kiln_bg.wasm', import.meta.url);

// What Vite warns about while building (a bundler user would see it too).
const warnings = [];
const logger = createLogger('warn');
logger.warn = logger.warnOnce = (message) => warnings.push(message);

let server;
let browser;
before(async () => {
  await build({ configFile, customLogger: logger });
  server = await serve({ port: 0 });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('the build emits the wasm as an asset and references it', async () => {
  const assets = await readdir(new URL('assets/', dist));
  const wasmAssets = assets.filter((f) => f.endsWith('.wasm'));
  assert.equal(wasmAssets.length, 1, `assets: ${assets.join(', ')}`);
  const emitted = await readFile(new URL(`assets/${wasmAssets[0]}`, dist));
  assert.ok(emitted.equals(await readFile(wasm)), 'the emitted wasm differs from pkg/kiln_bg.wasm');
  const scripts = await Promise.all(
    assets.filter((f) => f.endsWith('.js')).map((f) => readFile(new URL(`assets/${f}`, dist), 'utf8')),
  );
  assert.ok(scripts.some((s) => s.includes(wasmAssets[0])), 'no script refers to the emitted wasm');
  assert.ok((await stat(new URL('index.html', dist))).isFile());
});

test('the build has no warnings', () => {
  assert.deepEqual(warnings, []);
});

test('the built page computes a matmul and a gradient', async () => {
  const page = await openPage(browser);
  const input = appInput(12);
  const url = new URL('www/test/vite/dist/index.html', server.url).href;
  assertAppResult(await runApp(page, url, input), input);
  assert.deepEqual(page.problems, []);
  await page.close();
});
