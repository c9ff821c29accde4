// Runs the benchmarks (bench.js), prints a markdown table and writes the
// full results as JSON: in headless Chromium (the page bench/index.html),
// or with --node in this Node process on Dawn (the `webgpu` package).
//
//   node bench/run.mjs [--node] [--out bench/results.json] [--device webgpu|cpu]
//                      [--libs kiln,tfjs,jax] [--only matmul256,mlp] [--budget 4]
//
// --device cpu runs every library on the CPU in WebAssembly (kiln's CPU
// backend, TensorFlow.js's wasm backend, jax-js's wasm device), in Chromium.
//
// Chromium is the system's ($CHROMIUM, else /usr/bin/chromium), with WebGPU
// enabled (SwiftShader where there is no GPU). Dawn takes the GPU's Vulkan
// driver; where there is none, set
// VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json for SwiftShader.

import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runInThisContext } from 'node:vm';
import { createRequire } from 'node:module';
import { markdownTable } from './report.js';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: fileURLToPath(new URL('results.json', import.meta.url)) },
    libs: { type: 'string' },
    only: { type: 'string' },
    budget: { type: 'string' },
    node: { type: 'boolean', default: false },
    device: { type: 'string', default: 'webgpu' },
  },
});
if (args.node && args.device !== 'webgpu') throw new Error('--device cpu runs in Chromium, not with --node');

async function inChromium() {
  // Only this runner needs a browser (playwright-core) and the file server.
  const { serve } = await import('../scripts/serve.mjs');
  const { launch } = await import('../test/chromium.mjs');
  const query = new URLSearchParams();
  for (const key of ['libs', 'only', 'budget', 'device']) {
    if (args[key] !== undefined) query.set(key, args[key]);
  }
  const server = await serve({ port: 0 });
  const browser = await launch();
  try {
    const page = await browser.newPage();
    page.on('console', (msg) => console.error(msg.text()));
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(new URL(`www/bench/?${query}`, server.url).href);
    const handle = await page.waitForFunction(() => window.benchResults, null, { timeout: 0, polling: 1000 });
    const results = await handle.jsonValue();
    if (results.error) throw new Error(results.error);
    return results;
  } finally {
    await browser.close();
    await server.close();
  }
}

async function inNode() {
  await import('../test/gpu-node.mjs');
  const { runSuite } = await import('./bench.js');
  const version = async (path) => JSON.parse(await readFile(new URL(path, import.meta.url), 'utf8')).version;
  return runSuite({
    libs: args.libs?.split(','),
    only: args.only?.split(','),
    budgetMs: 1000 * Number(args.budget ?? 4),
    environment: `Node ${process.version} (Dawn, the webgpu package)`,
    versions: {
      kiln: await version('../package.json'),
      tfjs: await version('../node_modules/@tensorflow/tfjs/package.json'),
      jax: await version('../node_modules/@jax-js/jax/package.json'),
    },
    // The same UMD bundles as the page, run as scripts so that they define
    // the global `tf` as in a browser (they call `require` for Node's
    // modules when they see Node).
    loadTf: async () => {
      globalThis.require ??= createRequire(import.meta.url);
      for (const bundle of ['tfjs/dist/tf.min.js', 'tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js']) {
        const path = new URL(`../node_modules/@tensorflow/${bundle}`, import.meta.url);
        runInThisContext(await readFile(path, 'utf8'), { filename: fileURLToPath(path) });
      }
      return globalThis.tf;
    },
    log: (line) => console.error(`[bench] ${line}`),
  });
}

const results = args.node ? await inNode() : await inChromium();
console.log(markdownTable(results));
await writeFile(resolve(args.out), `${JSON.stringify(results, null, 2)}\n`);
console.error(`results written to ${resolve(args.out)}`);
