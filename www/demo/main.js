// Starts WebGPU through kiln, shows the adapter, then sets up the three
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

const query = new URLSearchParams(location.search);
const positive = (name, fallback) => {
  const value = Number(query.get(name));
  return Number.isInteger(value) && value > 0 ? value : fallback;
};

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
  return { ok: false, error: reason };
}

// One line about the adapter: its name, API, kind and float16 support.
function describe(info) {
  const parts = [info.name || 'unnamed adapter'];
  if (info.backend) parts.push(info.backend);
  if (info.deviceType) parts.push(info.deviceType);
  if (info.driver) parts.push(info.driver);
  parts.push(info.shaderF16 ? 'shader-f16' : 'no shader-f16');
  return parts.join(' · ');
}

async function start() {
  if (!('gpu' in navigator)) {
    return unavailable('WebGPU is not available', 'This browser does not expose WebGPU (navigator.gpu is missing).');
  }
  let info;
  try {
    info = await kiln.init();
  } catch (err) {
    return unavailable('kiln could not start WebGPU', `kiln.init() failed: ${err.message}`);
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
  Object.assign(state, { train: train.state, svd: svd.state, solve: solve.state, autodiff: autodiff.state });
  try {
    await Promise.all([train.ready, svd.ready, autodiff.ready]);
  } catch (err) {
    console.error(err);
    state.error = err.message;
    return { ok: false, error: err.message };
  }
  return { ok: true, adapter: info };
}
