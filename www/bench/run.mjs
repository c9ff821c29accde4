// Runs the benchmark page (bench/index.html) in headless Chromium, prints a
// markdown table and writes the full results as JSON.
//
//   node bench/run.mjs [--out bench/results.json] [--libs kiln,tfjs,jax]
//                      [--only matmul256,mlp] [--budget 4]
//
// Chromium is the system's ($CHROMIUM, else /usr/bin/chromium), with WebGPU
// enabled (SwiftShader where there is no GPU).

import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { serve } from '../scripts/serve.mjs';
import { launch } from '../test/chromium.mjs';
import { markdownTable } from './report.js';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: fileURLToPath(new URL('results.json', import.meta.url)) },
    libs: { type: 'string' },
    only: { type: 'string' },
    budget: { type: 'string' },
  },
});

const query = new URLSearchParams();
for (const key of ['libs', 'only', 'budget']) {
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
  console.log(markdownTable(results));
  await writeFile(resolve(args.out), `${JSON.stringify(results, null, 2)}\n`);
  console.error(`results written to ${resolve(args.out)}`);
} finally {
  await browser.close();
  await server.close();
}
