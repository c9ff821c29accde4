// Section 1: a 64 -> 64 -> 10 multilayer perceptron trained on the
// scikit-learn digits with Adam and a cosine learning-rate decay, entirely
// with kiln ops on the GPU.

import * as kiln from '../src/index.js';
import { Plot } from './plot.js';

const DATA_URL = '../../examples/data/digits.safetensors';
const TEST_SIZE = 297;
const HIDDEN = 64;
const ADAM = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

// safetensors: an 8-byte little-endian header length, a JSON header mapping
// names to { dtype, shape, data_offsets }, then the raw tensor bytes.
async function loadSafetensors(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${url}: HTTP ${response.status}`);
  const buffer = await response.arrayBuffer();
  const headerLength = Number(new DataView(buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, headerLength)));
  const tensors = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: [start, end] } = info;
    if (dtype !== 'U8') throw new Error(`${name}: expected U8, got ${dtype}`);
    tensors[name] = { shape, data: new Uint8Array(buffer, 8 + headerLength + start, end - start) };
  }
  return tensors;
}

// Pixels 0..16 scaled to [0, 1] as float32 rows of 64, labels as int32.
function toArrays(images, labels, from, to) {
  const x = Float32Array.from(images.data.subarray(from * 64, to * 64), (v) => v / 16);
  const y = Int32Array.from(labels.data.subarray(from, to));
  return {
    x: kiln.array(x, { shape: [to - from, 64], dtype: 'float32' }),
    y: kiln.array(y, { shape: [to - from], dtype: 'int32' }),
  };
}

// He initialisation for the ReLU layer, LeCun for the output layer.
function initParams() {
  return kiln.tidy(() => [
    kiln.random.normal(kiln.random.key(1), [64, HIDDEN]).mul(Math.sqrt(2 / 64)),
    kiln.zeros([HIDDEN]),
    kiln.random.normal(kiln.random.key(2), [HIDDEN, 10]).mul(Math.sqrt(1 / HIDDEN)),
    kiln.zeros([10]),
  ]);
}

function logits([w1, b1, w2, b2], x) {
  const h = kiln.nn.relu(kiln.matmul(x, w1).add(b1));
  return kiln.matmul(h, w2).add(b2);
}

const loss = (w1, b1, w2, b2, x, y) => kiln.nn.crossEntropy(logits([w1, b1, w2, b2], x), y);
const lossAndGrads = kiln.valueAndGrad(loss, [0, 1, 2, 3]);

function accuracy(params, x, y) {
  return kiln.tidy(() => kiln.mean(kiln.equal(kiln.argmax(logits(params, x), -1), y).astype('float32')));
}

export function setupTraining(root, { epochs, batchSize }) {
  const $ = (sel) => root.querySelector(sel);
  const button = $('[data-role=toggle]');
  const state = {
    running: false,
    done: false,
    epoch: 0,
    epochs,
    step: 0,
    stepsPerEpoch: 0,
    loss: [],
    testAccuracy: [],
    stepsPerSecond: 0,
    numArrays: [],
    error: null,
  };
  const lossPlot = new Plot($('[data-role=loss-plot]'), {
    xLabel: 'step',
    yLabel: 'train loss',
    series: [{ color: '#2563eb', xs: [], ys: [] }],
  });
  const accPlot = new Plot($('[data-role=acc-plot]'), {
    xLabel: 'epoch',
    yLabel: 'test accuracy',
    xRange: [0, epochs],
    yRange: [0, 1],
    series: [{ color: '#16a34a', xs: [], ys: [], dots: true }],
  });

  let data;
  let run; // parameters, Adam moments and position in the current run
  let drawPending = false;

  function show() {
    $('[data-role=epoch]').textContent = `${state.epoch} / ${epochs}`;
    $('[data-role=step]').textContent = String(state.step);
    const last = state.loss.at(-1);
    $('[data-role=loss]').textContent = last === undefined ? '–' : last.toFixed(4);
    const acc = state.testAccuracy.at(-1);
    $('[data-role=acc]').textContent = acc === undefined ? '–' : `${(100 * acc).toFixed(1)} %`;
    $('[data-role=speed]').textContent = state.stepsPerSecond ? state.stepsPerSecond.toFixed(1) : '–';
    $('[data-role=arrays]').textContent = String(kiln.memory().numArrays);
    const steps = state.loss.map((_, i) => i + 1);
    lossPlot.update({ series: [{ color: '#2563eb', xs: steps, ys: state.loss }] });
    const epochsDone = state.testAccuracy.map((_, i) => i + 1);
    accPlot.update({ series: [{ color: '#16a34a', xs: epochsDone, ys: state.testAccuracy, dots: true }] });
  }

  // Redraws at most once per animation frame, however fast the steps are.
  function showSoon() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => {
      drawPending = false;
      show();
    });
  }

  function setButton() {
    if (state.running) button.textContent = 'Stop';
    else if (state.done) button.textContent = 'Train again';
    else button.textContent = state.step ? 'Resume' : 'Start training';
  }

  function newRun() {
    if (run) kiln.dispose([...run.params, ...run.m, ...run.v]);
    const params = initParams();
    run = {
      params,
      m: params.map((p) => kiln.zerosLike(p)),
      v: params.map((p) => kiln.zerosLike(p)),
      t: 0,
      order: null,
      batch: 0,
    };
    Object.assign(state, { done: false, epoch: 0, step: 0, loss: [], testAccuracy: [], numArrays: [], stepsPerSecond: 0 });
  }

  // One Adam step on one minibatch; returns the batch loss (not yet read).
  function step(batchIndex) {
    run.t += 1;
    const { beta1, beta2, eps } = ADAM;
    const lr = ADAM.lr * 0.5 * (1 + Math.cos((Math.PI * (run.t - 1)) / (epochs * state.stepsPerEpoch)));
    const c1 = 1 - beta1 ** run.t;
    const c2 = 1 - beta2 ** run.t;
    const old = [...run.params, ...run.m, ...run.v];
    const [value, ...next] = kiln.tidy(() => {
      const idx = kiln.slice(run.order, [[batchIndex * batchSize, (batchIndex + 1) * batchSize, null]]);
      const x = kiln.take(data.train.x, idx, 0);
      const y = kiln.take(data.train.y, idx, 0);
      const [value, grads] = lossAndGrads(...run.params, x, y);
      const m = run.m.map((m, i) => m.mul(beta1).add(grads[i].mul(1 - beta1)));
      const v = run.v.map((v, i) => v.mul(beta2).add(grads[i].mul(grads[i]).mul(1 - beta2)));
      const params = run.params.map((p, i) =>
        p.sub(m[i].div(c1).mul(lr).div(kiln.sqrt(v[i].div(c2)).add(eps))),
      );
      return [value, ...params, ...m, ...v];
    });
    kiln.dispose(old);
    run.params = next.slice(0, 4);
    run.m = next.slice(4, 8);
    run.v = next.slice(8, 12);
    return value;
  }

  async function loop() {
    let windowStart = performance.now();
    let windowSteps = 0;
    while (state.running && state.epoch < epochs) {
      if (!run.order) {
        // A fresh shuffle of the training set for every epoch.
        const seed = 1000 + state.epoch;
        run.order = kiln.tidy(() => kiln.random.permutation(kiln.random.key(seed), data.train.size));
      }
      const value = step(run.batch);
      // Waiting for the loss also lets the browser paint and handle input.
      state.loss.push(await value.item());
      value.dispose();
      state.step += 1;
      run.batch += 1;
      windowSteps += 1;
      const now = performance.now();
      if (now - windowStart > 500) {
        state.stepsPerSecond = (1000 * windowSteps) / (now - windowStart);
        windowStart = now;
        windowSteps = 0;
      }
      if (run.batch === state.stepsPerEpoch) {
        run.order.dispose();
        run.order = null;
        run.batch = 0;
        state.epoch += 1;
        const acc = accuracy(run.params, data.test.x, data.test.y);
        state.testAccuracy.push(await acc.item());
        acc.dispose();
        state.numArrays.push(kiln.memory().numArrays);
      }
      showSoon();
    }
    state.running = false;
    state.done = state.epoch >= epochs;
    setButton();
    show();
  }

  button.addEventListener('click', async () => {
    if (state.running) {
      state.running = false;
      return;
    }
    if (state.done || !run) newRun();
    state.running = true;
    state.error = null;
    setButton();
    try {
      await loop();
    } catch (err) {
      state.running = false;
      state.error = err.message;
      $('[data-role=error]').textContent = err.message;
      setButton();
    }
  });

  // Loads the data set; resolves once the Start button is usable.
  async function load() {
    const { images, labels } = await loadSafetensors(DATA_URL);
    const total = labels.shape[0];
    const train = toArrays(images, labels, 0, total - TEST_SIZE);
    const test = toArrays(images, labels, total - TEST_SIZE, total);
    data = { train: { ...train, size: total - TEST_SIZE }, test };
    state.stepsPerEpoch = Math.floor(data.train.size / batchSize);
    $('[data-role=dataset]').textContent =
      `${total - TEST_SIZE} training and ${TEST_SIZE} test images, batches of ${batchSize}`;
    lossPlot.update({ xRange: [0, epochs * state.stepsPerEpoch] });
    button.disabled = false;
    setButton();
    show();
  }

  return {
    state,
    ready: load().catch((err) => {
      state.error = err.message;
      $('[data-role=error]').textContent = err.message;
      throw err;
    }),
  };
}
