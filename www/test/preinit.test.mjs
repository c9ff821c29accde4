// Every function called before `init()` fails with a named error: either
// `[op] call await kiln.init() first`, or its own check of the arguments
// (which needs no module) - never the generated glue's TypeError.
import './gpu-node.mjs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as kiln from '@kiln-ml/kiln';
import { surface } from './errors.mjs';
import { execFileSync } from 'node:child_process';

test('calls before init() say so', async () => {
  const messages = [];
  for (const { name, kind } of surface(kiln)) {
    if (kind !== 'function' || name === 'init' || name === 'print') continue;
    const fn = name.split('.').reduce((o, part) => o[part], kiln);
    const isClass = /^class[\s{]/.test(Function.prototype.toString.call(fn));
    try {
      // Arguments that pass the cheap checks of most functions.
      const result = isClass ? new fn(2, 2) : fn(1, 1);
      if (result && typeof result.then === 'function') await result;
      messages.push([name, 'no error']);
    } catch (e) {
      messages.push([name, e instanceof Error ? e.message : String(e)]);
    }
  }
  // Pure-JS functions (tree utilities, module classes without parameters) may succeed.
  const glue = messages.filter(([, m]) => m !== 'no error' && !/^\[[^\]]+\] \S/.test(m));
  assert.deepEqual(glue, [], 'untagged errors before init()');
  const guarded = messages.filter(([, m]) => m.includes('call await kiln.init() first'));
  assert.ok(guarded.length > 200, `only ${guarded.length} functions said to call init() first`);
  assert.throws(() => kiln.array([1, 2]), /^Error: \[array\] call await kiln.init\(\) first$/);
  await kiln.init();
  assert.deepEqual(await kiln.array([1, 2]).data(), new Float32Array([1, 2]));
});

test('without WebGPU, init() runs on the CPU backend, and init({ backend: "webgpu" }) rejects with what to do', () => {
  // A Node without the webgpu package's navigator.gpu.
  const script = `import('@kiln-ml/kiln').then(async (k) => {
    const info = await k.init();
    const sum = await k.sum(k.array([1, 2, 3])).item();
    console.log(JSON.stringify({ backend: info.backend, sum }));
    await k.init({ backend: 'webgpu' }).then(() => console.log('opened'), (e) => console.log(e.message));
    await k.init({ backend: 'metal' }).then(() => console.log('opened'), (e) => console.log(e.message));
  });`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).split('\n');
  assert.deepEqual(JSON.parse(out[0]), { backend: 'cpu', sum: 6 });
  assert.match(out[1], /no WebGPU adapter/);
  assert.match(out[1], /SwiftShader/);
  assert.match(out[2], /^\[init\] backend must be 'auto', 'webgpu', 'cpu', got metal$/);
});
