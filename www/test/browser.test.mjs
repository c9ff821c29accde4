// The package straight from source in headless Chromium, without a bundler:
// plain.html imports ../src/index.js from a <script type="module">. Then
// the bad-input checks of errors.mjs run in the same page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { serve } from '../scripts/serve.mjs';
import { launch, openPage, runApp } from './chromium.mjs';
import { exempt, failures } from './errors.mjs';
import { appInput, assertAppResult, matmul } from './util.mjs';

let server;
let browser;
before(async () => {
  server = await serve({ port: 0 });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const pageUrl = () => new URL('www/test/plain.html', server.url).href;

for (const backend of ['webgpu', 'cpu']) {
  test(`a plain module script computes a matmul and a gradient (${backend})`, async () => {
    const page = await openPage(browser);
    const input = { ...appInput(11), backend };
    assertAppResult(await runApp(page, pageUrl(), input), input);
    assert.deepEqual(page.problems, []);
    await page.close();
  });
}

test('without WebGPU the page runs on the CPU backend', async () => {
  const page = await openPage(browser);
  await page.addInitScript(() => {
    delete Navigator.prototype.gpu;
  });
  const input = appInput(12);
  assertAppResult(await runApp(page, pageUrl(), input), { ...input, backend: 'cpu' });
  assert.deepEqual(page.problems, []);
  await page.close();
});

test('the wasm is served as application/wasm', async () => {
  const res = await fetch(new URL('www/pkg/kiln_bg.wasm', server.url));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/wasm');
});

// The checks in the page, on both backends; after a call that breaks the
// module, a reload (a fresh module) goes on from the next function.
for (const backend of ['webgpu', 'cpu']) test(`bad input throws named Errors in the browser too (${backend})`, async (t) => {
  const page = await openPage(browser);
  const reports = [];
  for (let from = 0; from !== null; from = reports.at(-1).next) {
    await page.goto(pageUrl());
    reports.push(
      await page.evaluate(async ([start, backend]) => {
        const kiln = await import('/www/src/index.js');
        const { runErrorChecks } = await import('/www/test/errors.mjs');
        await kiln.init({ backend });
        return runErrorChecks(kiln, { from: start });
      }, [from, backend]),
    );
  }
  const results = reports.flatMap((r) => r.results);
  for (const name of Object.keys(exempt)) t.diagnostic(`exempt: ${name}`);
  const bad = failures(results);
  for (const line of bad) t.diagnostic(line);
  const crashed = reports.map((r) => r.crashed).filter(Boolean);
  for (const name of crashed) t.diagnostic(`broke the module: ${name}`);

  // And afterwards a matmul is still right.
  const lhs = [[2, -1], [0.5, 3]];
  const rhs = [[1, 4], [-2, 0.25]];
  const product = await page.evaluate(async ([a, b]) => {
    const kiln = await import('/www/src/index.js');
    return kiln.matmul(a, b).array();
  }, [lhs, rhs]);
  await page.close();

  assert.equal(bad.length, 0, `${bad.length} bad calls misbehaved (listed above)`);
  assert.deepEqual(crashed, []);
  assert.deepEqual(product, matmul(lhs, rhs));
});

test('a lost device throws in the page and init() recovers', async () => {
  const page = await openPage(browser);
  await page.goto(pageUrl());
  const report = await page.evaluate(async () => {
    const kiln = await import('/www/src/index.js');
    await kiln.init();
    const before = kiln.square(kiln.array([1, 2, 3]));
    const first = await before.array();
    kiln.destroyDevice();
    const failure = async (f) => {
      try {
        await f();
        return 'no error';
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      }
    };
    const lostRead = await failure(() => before.array());
    const lostOp = await failure(() => kiln.add(kiln.array([1]), 1).array());
    const info = await kiln.init();
    const oldInput = await failure(() => kiln.multiply(before, 2).array());
    const after = await kiln.add(kiln.array([1, 2]), 1).array();
    return { first, lostRead, lostOp, unified: info.unifiedMemory, oldInput, after };
  });
  await page.close();
  assert.deepEqual(report.first, [1, 4, 9]);
  for (const message of [report.lostRead, report.lostOp, report.oldInput]) {
    assert.match(message, /lost/);
  }
  assert.match(report.lostOp, /init\(\)/);
  assert.match(report.oldInput, /multiply/);
  assert.equal(report.unified, false);
  assert.deepEqual(report.after, [2, 3]);
});
