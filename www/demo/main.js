// Starts kiln (WebGPU where the browser has it, else the CPU backend in
// WebAssembly), shows which backend runs, then sets up the sections. Query
// parameters: ?backend=auto|webgpu|cpu (default auto), ?epochs=N (default
// 20) and ?batch=N (default 50) for the training section.
//
// window.kilnDemo is a small hook for automated tests: `ready` resolves to
// { ok, adapter } or { ok: false, error } once every section is usable, and
// `state` holds each section's latest results.

import * as kiln from '../src/index.js';
import { setupTraining } from './train.js';
import { setupSvd, setupSolve } from './linalg.js';
import { setupAutodiff } from './autodiff.js';
import { setupChars } from './chars.js';

const query = new URLSearchParams(location.search);
const positive = (name, fallback) => {
  const value = Number(query.get(name));
  return Number.isInteger(value) && value > 0 ? value : fallback;
};

const BROWSERS = 'Chrome or Edge 113+, Safari 26+ or Firefox 141+, with hardware acceleration on';

// The backend in words: "SwiftShader (software) · float16", or "CPU
// (WebAssembly, no WebGPU)".
const KINDS = { Cpu: 'software', DiscreteGpu: 'discrete GPU', IntegratedGpu: 'integrated GPU', VirtualGpu: 'virtual GPU' };
function describe(info) {
  if (info.backend === 'cpu') return `CPU backend (WebAssembly${'gpu' in navigator ? '' : ', no WebGPU in this browser'})`;
  const raw = (info.name || 'unnamed adapter').trim();
  const name = /swiftshader/i.test(raw) ? 'SwiftShader' : raw.replace(/\b[a-z]/g, (c) => c.toUpperCase());
  const kind = KINDS[info.deviceType];
  return [kind ? `${name} (${kind})` : name, info.shaderF16 ? 'float16' : 'no float16'].join(' · ');
}

// What the note under the backend says, if anything.
function noteFor(info) {
  if (info.backend === 'cpu') {
    return `kiln runs on its CPU backend, compiled to WebAssembly: everything below works, single-threaded. With WebGPU (${BROWSERS}) the same code runs as GPU compute shaders.`;
  }
  if (info.deviceType === 'Cpu') {
    return 'This is a software (CPU) adapter: everything below works, but expect it to be far slower than on a GPU.';
  }
  return null;
}

const state = { adapter: null, error: null };
window.kilnDemo = { state, ready: start() };

function unavailable(title, reason) {
  state.error = reason;
  document.getElementById('unavailable-title').textContent = title;
  document.getElementById('adapter').dataset.state = 'error';
  document.getElementById('adapter-text').textContent = 'kiln could not start';
  document.getElementById('unavailable-reason').textContent = reason;
  document.getElementById('unavailable').hidden = false;
  for (const section of document.querySelectorAll('section.card')) section.classList.add('disabled');
  // Nothing will load: no section says it is loading.
  for (const hint of document.querySelectorAll('[data-role=dataset]')) hint.textContent = 'Unavailable';
  return { ok: false, error: reason };
}

async function start() {
  let info;
  try {
    info = await kiln.init({ backend: query.get('backend') ?? 'auto' });
  } catch (err) {
    const noAdapter = err.message.includes('no WebGPU adapter');
    return unavailable(
      'kiln could not start',
      noAdapter ? `This browser gives no WebGPU adapter (WebGPU may be turned off, or the GPU blocked). The demo runs on WebGPU in ${BROWSERS}, and on the CPU everywhere else (drop ?backend=webgpu).` : `kiln.init() failed: ${err.message}`,
    );
  }
  state.adapter = info;
  document.getElementById('adapter').dataset.state = 'ok';
  document.getElementById('adapter-text').textContent = describe(info);
  const note = noteFor(info);
  document.getElementById('adapter-note').hidden = note === null;
  document.getElementById('adapter-note').textContent = note ?? '';
  for (const label of document.querySelectorAll('[data-role=backend-label]')) {
    label.textContent = info.backend === 'cpu' ? 'CPU' : 'WebGPU';
  }

  const train = setupTraining(document.getElementById('train'), {
    epochs: positive('epochs', 20),
    batchSize: positive('batch', 50),
  });
  const svd = setupSvd(document.getElementById('svd'));
  const solve = setupSolve(document.getElementById('solve'));
  const autodiff = setupAutodiff(document.getElementById('autodiff'));
  const chars = setupChars(document.getElementById('chars'));
  Object.assign(state, { train: train.state, svd: svd.state, solve: solve.state, autodiff: autodiff.state, chars: chars.state });
  try {
    await Promise.all([train.ready, svd.ready, autodiff.ready]);
  } catch (err) {
    console.error(err);
    state.error = err.message;
    return { ok: false, error: err.message };
  }
  return { ok: true, adapter: info };
}
