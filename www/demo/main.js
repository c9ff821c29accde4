// Starts WebGPU through kiln, shows the adapter, then sets up the four
// sections. Query parameters: ?epochs=N (default 20) and ?batch=N (default
// 50) for the training section.
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

// The adapter in words: "SwiftShader (software) · float16".
const KINDS = { Cpu: 'software', DiscreteGpu: 'discrete GPU', IntegratedGpu: 'integrated GPU', VirtualGpu: 'virtual GPU' };
function describe(info) {
  const raw = (info.name || 'unnamed adapter').trim();
  const name = /swiftshader/i.test(raw) ? 'SwiftShader' : raw.replace(/\b[a-z]/g, (c) => c.toUpperCase());
  const kind = KINDS[info.deviceType];
  return [kind ? `${name} (${kind})` : name, info.shaderF16 ? 'float16' : 'no float16'].join(' · ');
}

const state = { adapter: null, error: null };
window.kilnDemo = { state, ready: start() };

function unavailable(title, reason) {
  state.error = reason;
  document.getElementById('unavailable-title').textContent = title;
  document.getElementById('adapter').dataset.state = 'error';
  document.getElementById('adapter-text').textContent = 'WebGPU unavailable';
  document.getElementById('unavailable-reason').textContent = reason;
  document.getElementById('unavailable').hidden = false;
  for (const section of document.querySelectorAll('section.card')) section.classList.add('disabled');
  // Nothing will load: no section says it is loading.
  for (const hint of document.querySelectorAll('[data-role=dataset]')) hint.textContent = 'Needs WebGPU';
  return { ok: false, error: reason };
}

async function start() {
  if (!('gpu' in navigator)) {
    return unavailable('WebGPU is not available', `This browser does not offer WebGPU. The demo runs in ${BROWSERS}.`);
  }
  let info;
  try {
    info = await kiln.init();
  } catch (err) {
    const noAdapter = err.message.includes('no WebGPU adapter');
    return unavailable(
      'kiln could not start WebGPU',
      noAdapter ? `This browser gives no WebGPU adapter (WebGPU may be turned off, or the GPU blocked). The demo runs in ${BROWSERS}.` : `kiln.init() failed: ${err.message}`,
    );
  }
  state.adapter = info;
  document.getElementById('adapter').dataset.state = 'ok';
  document.getElementById('adapter-text').textContent = describe(info);
  document.getElementById('adapter-note').hidden = info.deviceType !== 'Cpu';

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
