// Section 1: a 64 -> 64 -> 10 multilayer perceptron (kiln.nn) trained on
// the scikit-learn digits with kiln.optimizers.Adam and a cosine
// learning-rate decay, entirely on the GPU; the data set comes through
// kiln.io.loadSafetensors.

import * as kiln from '../src/index.js';
import { Plot } from './plot.js';
import { breathe } from './pace.js';

const DATA_URL = '../../examples/data/digits.safetensors';
const TEST_SIZE = 297;
const HIDDEN = 64;
const LEARNING_RATE = 0.01;

// The 8 x 8 images' pixels 0..16 (uint8 in the file, int32 here) scaled
// to [0, 1] as float32 rows of 64, and the labels, for images from..to.
function split(images, labels, from, to) {
  return kiln.tidy(() => ({
    x: kiln.slice(images, [[from, to, null]]).reshape([to - from, 64]).astype('float32').div(16),
    y: kiln.slice(labels, [[from, to, null]]),
  }));
}

function makeModel() {
  return new kiln.nn.Sequential(
    new kiln.nn.Linear(64, HIDDEN, { key: kiln.random.key(1) }),
    new kiln.nn.ReLU(),
    new kiln.nn.Linear(HIDDEN, 10, { key: kiln.random.key(2) }),
  );
}

function accuracy(model, x, y) {
  return kiln.tidy(() => kiln.mean(kiln.equal(kiln.argmax(model.forward(x), -1), y).astype('float32')));
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
  let run; // the model, its optimizer and the position in the current run
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
    if (run) kiln.dispose([run.model.parameters(), run.optimizer.state()]);
    const model = makeModel();
    const totalSteps = epochs * state.stepsPerEpoch;
    run = {
      model,
      lossAndGrads: kiln.nn.valueAndGrad(model, (x, y) => kiln.nn.crossEntropy(model.forward(x), y)),
      optimizer: kiln.optimizers.Adam(kiln.optimizers.cosineDecay(LEARNING_RATE, totalSteps)),
      order: null,
      batch: 0,
    };
    Object.assign(state, { done: false, epoch: 0, step: 0, loss: [], testAccuracy: [], numArrays: [], stepsPerSecond: 0 });
  }

  // One Adam step on one minibatch; returns the batch loss (not yet read).
  function step(batchIndex) {
    const [value, grads] = kiln.tidy(() => {
      const idx = kiln.slice(run.order, [[batchIndex * batchSize, (batchIndex + 1) * batchSize, null]]);
      return run.lossAndGrads(kiln.take(data.train.x, idx, 0), kiln.take(data.train.y, idx, 0));
    });
    run.optimizer.update(run.model, grads);
    kiln.dispose(grads);
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
      state.loss.push(await value.item());
      await breathe();
      value.dispose();
      state.step += 1;
      run.batch += 1;
      windowSteps += 1;
      const now = performance.now();
      if (now - windowStart > 500 || (windowSteps > 0 && state.epoch + 1 === epochs && run.batch === state.stepsPerEpoch)) {
        state.stepsPerSecond = (1000 * windowSteps) / (now - windowStart);
        windowStart = now;
        windowSteps = 0;
      }
      if (run.batch === state.stepsPerEpoch) {
        run.order.dispose();
        run.order = null;
        run.batch = 0;
        state.epoch += 1;
        const acc = accuracy(run.model, data.test.x, data.test.y);
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
    const { images, labels } = await kiln.io.loadSafetensors(DATA_URL);
    const total = labels.shape[0];
    const train = split(images, labels, 0, total - TEST_SIZE);
    const test = split(images, labels, total - TEST_SIZE, total);
    kiln.dispose([images, labels]);
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
