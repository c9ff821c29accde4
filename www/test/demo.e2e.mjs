// End-to-end test of the demo page (www/demo/) in headless Chromium: serves
// the repository, drives each section through its controls and checks what
// the page computed against independent references.
//
//   node www/test/demo.e2e.mjs
//
// Environment: SCREENSHOT_DIR (default www/test/screenshots/) receives one
// PNG per section; CHROMIUM overrides the browser (default /usr/bin/chromium).
// Exits non-zero, naming every failed check, when anything is wrong.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '../scripts/serve.mjs';
import { launch, openPage } from './chromium.mjs';

const READY_TIMEOUT = 150_000;
const EPOCHS = 5; // the page's default is 20; 5 keeps the test short on SwiftShader
const MIN_ACCURACY = 0.8;
const RANKS = [1, 5, 20, 60];
const SVD_TOLERANCE = 1e-3; // |measured - predicted| relative error, absolute
const SOLVE_N = 128;
const MAX_KILN_RESIDUAL = 1e-4; // float32
const MAX_JS_RESIDUAL = 1e-10; // float64
const DERIVATIVE_RTOL = 1e-3;
const DERIVATIVES = {
  'exp(-x^2)': {
    f: (x) => Math.exp(-x * x),
    df: (x) => -2 * x * Math.exp(-x * x),
    d2f: (x) => (4 * x * x - 2) * Math.exp(-x * x),
  },
  'x^3': { f: (x) => x ** 3, df: (x) => 3 * x * x, d2f: (x) => 6 * x },
  'sin(x)*x': {
    f: (x) => Math.sin(x) * x,
    df: (x) => Math.sin(x) + x * Math.cos(x),
    d2f: (x) => 2 * Math.cos(x) - x * Math.sin(x),
  },
};

const screenshotDir = resolve(
  process.env.SCREENSHOT_DIR ?? fileURLToPath(new URL('./screenshots/', import.meta.url)),
);
const failures = [];

function check(ok, message) {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${message}`);
  if (!ok) failures.push(message);
}

const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

const POLL = { polling: 100 };

const state = (page, section) => page.evaluate((section) => window.kilnDemo.state[section], section);

async function shoot(page, selector, name) {
  const file = join(screenshotDir, name);
  await page.locator(selector).screenshot({ path: file });
  console.log(`  screenshot ${file}`);
}

async function testTraining(page, prefix) {
  console.log(`\n1. Training (${EPOCHS} epochs)`);
  const started = performance.now();
  await page.click('#train [data-role=toggle]');
  await page.waitForFunction(
    () => window.kilnDemo.state.train.done || window.kilnDemo.state.train.error !== null,
    null,
    { ...POLL, timeout: 150_000 },
  );
  const s = await state(page, 'train');
  console.log(`  ${s.step} steps in ${seconds(started)} (${s.stepsPerSecond.toFixed(1)} steps/s at the end)`);
  console.log(`  test accuracy per epoch: ${s.testAccuracy.map((a) => a.toFixed(3)).join(', ')}`);
  console.log(`  live arrays after each epoch: ${s.numArrays.join(', ')}`);
  check(s.error === null, `training ran without error${s.error ? `: ${s.error}` : ''}`);
  check(s.testAccuracy.length === EPOCHS, `${EPOCHS} epochs evaluated (got ${s.testAccuracy.length})`);
  const final = s.testAccuracy.at(-1) ?? 0;
  check(final > MIN_ACCURACY, `final test accuracy ${final.toFixed(3)} > ${MIN_ACCURACY}`);
  const perEpoch = s.stepsPerEpoch;
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = mean(s.loss.slice(0, perEpoch));
  const last = mean(s.loss.slice(-perEpoch));
  check(last < first / 2, `mean train loss fell from ${first.toFixed(3)} (epoch 1) to ${last.toFixed(3)} (epoch ${EPOCHS})`);
  check(
    s.numArrays.length > 1 && s.numArrays.every((n) => n === s.numArrays[0]),
    `live arrays stay flat across epochs (${s.numArrays.join(', ')})`,
  );
  await shoot(page, '#train', `${prefix}1-training.png`);
}

async function testSvd(page, prefix) {
  console.log('\n2a. SVD image compression');
  const rows = [];
  for (const k of RANKS) {
    await page.locator('#svd [data-role=rank]').fill(String(k));
    await page.waitForFunction(
      (k) => {
        const s = window.kilnDemo.state.svd;
        return (s.rank === k && !s.busy) || s.error !== null;
      },
      k,
      { ...POLL, timeout: 30_000 },
    );
    const s = await state(page, 'svd');
    check(s.error === null, `rank ${k} rendered${s.error ? `: ${s.error}` : ''}`);
    rows.push(s);
    console.log(
      `  rank ${String(k).padStart(3)}: measured ${s.relativeError.toFixed(6)}, from singular values ${s.theoreticalError.toFixed(6)}`,
    );
    check(
      Math.abs(s.relativeError - s.theoreticalError) <= SVD_TOLERANCE,
      `rank ${k}: measured and predicted errors agree within ${SVD_TOLERANCE}`,
    );
  }
  const errors = rows.map((r) => r.relativeError);
  check(
    errors.every((e, i) => i === 0 || e < errors[i - 1]),
    `error strictly decreases over ranks ${RANKS.join(', ')}`,
  );
  await shoot(page, '#svd', `${prefix}2a-svd.png`);
}

// Waits until section `name` is idle with its `result` field set or an error.
async function settled(page, name, result, timeout) {
  await page.waitForFunction(
    ([name, result]) => {
      const s = window.kilnDemo.state[name];
      return !s.busy && (s[result] !== null || s.error !== null);
    },
    [name, result],
    { ...POLL, timeout },
  );
}

async function testSolve(page, prefix) {
  for (const op of ['solve', 'inv']) {
    console.log(`\n2b. Linear system, n = ${SOLVE_N}, ${op}`);
    await page.selectOption('#solve [data-role=n]', String(SOLVE_N));
    await page.selectOption('#solve [data-role=op]', op);
    await page.click('#solve [data-role=run]');
    await settled(page, 'solve', 'kilnMs', 60_000);
    const s = await state(page, 'solve');
    check(s.error === null, `${op} ran without error${s.error ? `: ${s.error}` : ''}`);
    if (s.error !== null) continue;
    console.log(`  kiln ${s.kilnMs.toFixed(1)} ms, residual ${s.kilnResidual.toExponential(2)}`);
    console.log(`  JS   ${s.jsMs.toFixed(1)} ms, residual ${s.jsResidual.toExponential(2)}`);
    check(s.kilnResidual < MAX_KILN_RESIDUAL, `kiln residual < ${MAX_KILN_RESIDUAL}`);
    check(s.jsResidual < MAX_JS_RESIDUAL, `JS residual < ${MAX_JS_RESIDUAL}`);
  }
  await shoot(page, '#solve', `${prefix}2b-solve.png`);
}

async function testAutodiff(page, prefix) {
  for (const [text, exact] of Object.entries(DERIVATIVES)) {
    console.log(`\n3. Autodiff of f(x) = ${text}`);
    await page.fill('#autodiff [data-role=expression]', text);
    await page.click('#autodiff [data-role=plot]');
    await page.waitForFunction(
      (text) => {
        const s = window.kilnDemo.state.autodiff;
        return !s.busy && s.expression === text;
      },
      text,
      { ...POLL, timeout: 30_000 },
    );
    const s = await state(page, 'autodiff');
    check(s.error === null, `${text} evaluated${s.error ? `: ${s.error}` : ''}`);
    if (s.error !== null) continue;
    for (const key of ['f', 'df', 'd2f']) {
      let worst = 0;
      let at = 0;
      s.xs.forEach((x, i) => {
        const want = exact[key](x);
        const err = Math.abs(s[key][i] - want) / Math.max(1, Math.abs(want));
        // NaN (a missing or non-finite value) is the worst error there is.
        if (!(err <= worst)) [worst, at] = [Number.isNaN(err) ? Infinity : err, x];
      });
      check(s[key].length === s.xs.length, `${key} has a value at each of ${s.xs.length} points`);
      check(
        worst <= DERIVATIVE_RTOL,
        `${key.padEnd(3)} at ${s.xs.length} points: worst relative error ${worst.toExponential(2)} (x = ${at.toFixed(3)})`,
      );
    }
  }
  await shoot(page, '#autodiff', `${prefix}3-autodiff.png`);

  const drawn = await curvePixels(page);
  check(drawn > 500, `the curves are drawn (${drawn} curve pixels)`);

  console.log('\n3. Autodiff of an expression that does not parse');
  await page.fill('#autodiff [data-role=expression]', 'sin(x');
  await page.click('#autodiff [data-role=plot]');
  await page.waitForFunction(() => window.kilnDemo.state.autodiff.error !== null, null, { ...POLL, timeout: 30_000 });
  const message = page.locator('#autodiff [data-role=message]');
  const [color, bad] = await message.evaluate((el) => [
    getComputedStyle(el).color,
    getComputedStyle(document.documentElement).getPropertyValue('--bad').trim(),
  ]);
  check(color === hexToRgb(bad), `the error is shown in the error colour (${color}, want ${bad})`);
  const plotted = await curvePixels(page);
  check(plotted === 0, `no curves of the earlier function remain under the error (${plotted} curve pixels)`);
  await shoot(page, '#autodiff', `${prefix}3-autodiff-error.png`);
}

const CHARS_PROMPT = 'The only thing we have to fear is fear itself. ';

// The parameters of examples/char_model's transformer for its metadata:
// embeddings, per block attention (4 projections with biases), two layer
// norms and the MLP (4x wide), then the final norm and the head.
function charModelParameters({ vocab: v, dims: d, layers }) {
  const block = 4 * (d * d + d) + 2 * 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d);
  return v * d + layers * block + 2 * d + d * v + v;
}

async function testChars(page, prefix) {
  console.log('\n4. The character model trained natively');
  await page.fill('#chars [data-role=prompt]', CHARS_PROMPT);
  await page.click('#chars [data-role=write]');
  await settled(page, 'chars', 'text', 300_000);
  const s = await state(page, 'chars');
  check(s.error === null, `the model loaded and wrote${s.error ? `: ${s.error}` : ''}`);
  if (s.error !== null) return;
  const { meta } = s;
  console.log(`  ${s.parameters} parameters, ${meta.steps} steps, held-out loss ${meta.validation_loss.toFixed(3)} (unigram ${meta.unigram_entropy.toFixed(3)}), ${s.msPerChar.toFixed(1)} ms per character`);
  check(s.parameters === charModelParameters(meta), `the parameters are the Rust model's (${s.parameters})`);
  check(
    s.promptLoss < meta.unigram_entropy,
    `the loaded model predicts the prompt better than character frequencies (${s.promptLoss.toFixed(3)} < ${meta.unigram_entropy.toFixed(3)} nats per character)`,
  );
  const written = [...s.text].slice([...CHARS_PROMPT].length);
  check(s.text.startsWith(CHARS_PROMPT) && written.length === 240, `240 characters written after the prompt (${written.length})`);
  check(written.every((c) => meta.alphabet.includes(c)), 'every character written is in the alphabet');
  check(s.arrayGrowth === 0, `live arrays stay flat while it writes (${s.arrayGrowth} more)`);
  console.log(`  ${JSON.stringify(s.text.slice(0, 160))}...`);
  await shoot(page, '#chars', `${prefix}4-chars.png`);
}

// Opaque pixels of the autodiff plot in the colours of its three curves
// (autodiff.js's COLORS).
function curvePixels(page) {
  return page.locator('#autodiff [data-role=curves]').evaluate((canvas) => {
    const curves = [[0x25, 0x63, 0xeb], [0xea, 0x58, 0x0c], [0x16, 0xa3, 0x4a]];
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      const near = curves.some((c) => Math.hypot(data[i] - c[0], data[i + 1] - c[1], data[i + 2] - c[2]) < 24);
      if (data[i + 3] > 200 && near) count++;
    }
    return count;
  });
}

function hexToRgb(hex) {
  const v = Number.parseInt(hex.replace('#', ''), 16);
  return `rgb(${(v >> 16) & 255}, ${(v >> 8) & 255}, ${v & 255})`;
}

// Opens the demo and drives every section. `withoutWebGpu`: the browser
// offers no navigator.gpu, so the page runs on kiln's CPU backend (in
// WebAssembly) and says so.
async function runDemo(browser, url, { withoutWebGpu }) {
  const started = performance.now();
  const page = await openPage(browser);
  if (withoutWebGpu) {
    await page.addInitScript(() => {
      delete Navigator.prototype.gpu;
    });
  }
  await page.setViewportSize({ width: 1200, height: 900 });
  console.log(`Opening ${url}${withoutWebGpu ? ' without WebGPU' : ''}`);
  await page.goto(url);
  // Ready once every section is usable; on SwiftShader the photo's SVD
  // takes most of this.
  await page.waitForFunction(() => window.kilnDemo, null, { timeout: 30_000 });
  const ready = await page.evaluate(
    (ms) => Promise.race([window.kilnDemo.ready, new Promise((ok) => setTimeout(() => ok({ ok: false, error: `not ready after ${ms / 1000} s` }), ms))]),
    READY_TIMEOUT,
  );
  const prefix = withoutWebGpu ? 'cpu-' : '';
  if (!ready.ok) {
    await page.screenshot({ path: join(screenshotDir, `${prefix}unavailable.png`), fullPage: true });
    throw new Error(`the demo did not start${withoutWebGpu ? ' without WebGPU' : ''}: ${ready.error}`);
  }
  const adapter = await page.textContent('#adapter-text');
  console.log(`Backend: ${adapter} (page ready after ${seconds(started)})`);
  const info = await page.evaluate(() => window.kilnDemo.state.adapter);
  if (withoutWebGpu) {
    check(info.backend === 'cpu', `without WebGPU the page runs on the CPU backend (${info.backend})`);
    check(/CPU backend/.test(adapter) && /no WebGPU/.test(adapter), `the page says so: "${adapter}"`);
    const note = await page.textContent('#adapter-note');
    check(await page.isVisible('#adapter-note') && /WebAssembly/.test(note), `the note explains it: "${note}"`);
    check(!(await page.isVisible('#unavailable')), 'no notice that it cannot start');
  } else if (info.deviceType === 'Cpu') {
    check(/\(software\)/.test(adapter), `the adapter is named in words: "${adapter}"`);
  }
  await page.screenshot({ path: join(screenshotDir, `${prefix}0-page.png`) });

  // A section that throws (a timeout, say) fails; the next ones still run.
  const sections = { training: testTraining, svd: testSvd, solve: testSolve, autodiff: testAutodiff, chars: testChars };
  for (const [name, run] of Object.entries(sections)) {
    try {
      await run(page, prefix);
    } catch (err) {
      check(false, `${prefix}${name}: ${err.message.split('\n')[0]}`);
      await page.screenshot({ path: join(screenshotDir, `${prefix}failed-${name}.png`), fullPage: true });
    }
  }
  check(page.problems.length === 0, `no console errors or uncaught exceptions${page.problems.length ? `:\n    ${page.problems.join('\n    ')}` : ''}`);
  await page.close();
  console.log(`(${seconds(started)})`);
}

async function main() {
  const started = performance.now();
  await mkdir(screenshotDir, { recursive: true });
  const server = await serve({ port: 0 });
  const browser = await launch();
  try {
    const url = `${server.url}www/demo/?epochs=${EPOCHS}`;
    await runDemo(browser, url, { withoutWebGpu: false });
    console.log('\n== The same page in a browser without WebGPU');
    await runDemo(browser, url, { withoutWebGpu: true });
  } finally {
    await browser.close();
    await server.close();
  }
  console.log(`\nTotal ${seconds(started)}.`);
}

try {
  await main();
} catch (err) {
  failures.push(err.message);
  console.error(`\nFAIL ${err.message}`);
}
if (failures.length) {
  console.error(`\n${failures.length} check(s) failed:\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
console.log('All demo checks passed.');
