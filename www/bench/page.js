// The benchmark page: runs the suite in this browser tab and stores the
// results in `window.benchResults` (run.mjs waits for them).

import { runSuite } from './bench.js';
import { markdownTable } from './report.js';

const query = new URLSearchParams(location.search);
const logEl = document.getElementById('log');

async function packageVersion(path) {
  try {
    return (await (await fetch(path)).json()).version;
  } catch {
    return undefined;
  }
}

async function main() {
  const results = await runSuite({
    libs: query.get('libs')?.split(','),
    only: query.get('only')?.split(','),
    budgetMs: 1000 * Number(query.get('budget') ?? 4),
    device: query.get('device') ?? 'webgpu',
    environment: navigator.userAgent,
    versions: {
      kiln: await packageVersion('../package.json'),
      tfjs: await packageVersion('../node_modules/@tensorflow/tfjs/package.json'),
      jax: await packageVersion('../node_modules/@jax-js/jax/package.json'),
    },
    // index.html loads TensorFlow.js's UMD bundles, which define `tf`; the
    // wasm backend fetches its .wasm files from beside its bundle.
    loadTf: async (device) => {
      if (device === 'cpu') window.tf.wasm.setWasmPaths(new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', location.href).href);
      return window.tf;
    },
    log: (line) => {
      console.log(`[bench] ${line}`);
      logEl.textContent += `${line}\n`;
    },
  });
  document.getElementById('table').textContent = markdownTable(results);
  return results;
}

main().then(
  (results) => { window.benchResults = results; },
  (e) => {
    const message = e instanceof Error ? e.message : String(e);
    logEl.textContent += `failed: ${message}\n`;
    window.benchResults = { error: message };
  },
);
