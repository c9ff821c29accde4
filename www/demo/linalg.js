// Section 2: linear algebra on the GPU. (a) Low-rank approximation of a
// photo from its singular value decomposition; (b) solving a dense linear
// system with kiln against Gaussian elimination in plain JavaScript.

import * as kiln from '../src/index.js';
import { Plot } from './plot.js';
import { mulberry32, toSigned } from '../shared/rng.js';

const PHOTO_URL = './data/photo.bin';

const duration = (ms) => (ms < 10 ? `${ms.toFixed(2)} ms` : ms < 10_000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`);

// photo.bin: height and width as little-endian uint16, then uint8 pixels.
async function loadPhoto() {
  const response = await fetch(PHOTO_URL);
  if (!response.ok) throw new Error(`fetching ${PHOTO_URL}: HTTP ${response.status}`);
  const buffer = await response.arrayBuffer();
  const view = new DataView(buffer);
  const height = view.getUint16(0, true);
  const width = view.getUint16(2, true);
  return { height, width, pixels: new Uint8Array(buffer, 4, height * width) };
}

// Grey values in [0, 1] (clipped) onto a canvas of the image's size.
function paint(canvas, values, width, height) {
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const g = Math.round(255 * Math.min(1, Math.max(0, values[i])));
    image.data[4 * i] = g;
    image.data[4 * i + 1] = g;
    image.data[4 * i + 2] = g;
    image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

export function setupSvd(root) {
  const $ = (sel) => root.querySelector(sel);
  const slider = $('[data-role=rank]');
  const state = {
    height: 0,
    width: 0,
    rank: Number(slider.value),
    relativeError: null,
    theoreticalError: null,
    busy: true,
    error: null,
  };
  const spectrum = new Plot($('[data-role=spectrum]'), {
    xLabel: 'index i',
    yLabel: 'singular value sᵢ',
    logY: true,
    series: [],
  });
  let photo; // kiln array of the image, and its factors u, s, vt
  let sigma; // the singular values on the CPU
  let wanted = state.rank;

  // Relative Frobenius error of the rank-k reconstruction: measured on the
  // GPU, and predicted by the discarded singular values.
  async function render(k) {
    const [approx, error] = kiln.tidy(() => {
      const uk = kiln.slice(photo.u, [null, [0, k, null]]);
      const sk = kiln.slice(photo.s, [[0, k, null]]);
      const vtk = kiln.slice(photo.vt, [[0, k, null], null]);
      const approx = kiln.matmul(uk.mul(sk), vtk);
      const error = kiln.linalg.norm(photo.a.sub(approx)).div(kiln.linalg.norm(photo.a));
      return [approx, error];
    });
    const [pixels, measured] = await Promise.all([approx.data(), error.item()]);
    kiln.dispose([approx, error]);
    let tail = 0;
    let total = 0;
    sigma.forEach((s, i) => {
      total += s * s;
      if (i >= k) tail += s * s;
    });
    paint($('[data-role=approx]'), pixels, state.width, state.height);
    Object.assign(state, { rank: k, relativeError: measured, theoreticalError: Math.sqrt(tail / total) });
    const stored = k * (state.height + state.width + 1);
    $('[data-role=rank-value]').textContent = String(k);
    $('[data-role=storage]').textContent =
      `${stored.toLocaleString()} numbers (${((100 * stored) / (state.height * state.width)).toFixed(1)} % of the pixels)`;
    $('[data-role=measured]').textContent = measured.toFixed(5);
    $('[data-role=theory]').textContent = state.theoreticalError.toFixed(5);
    spectrum.update({ shadeFromX: k + 0.5 });
  }

  // Renders the latest rank asked for; slider moves during a render coalesce.
  let rendering = false;
  async function refresh() {
    if (rendering) return;
    rendering = true;
    state.busy = true;
    try {
      do await render(wanted);
      while (wanted !== state.rank);
    } catch (err) {
      state.error = err.message;
      $('[data-role=message]').textContent = err.message;
    } finally {
      rendering = false;
      state.busy = false;
    }
  }

  slider.addEventListener('input', () => {
    wanted = Number(slider.value);
    $('[data-role=rank-value]').textContent = String(wanted);
    refresh();
  });

  // Loads the photo and factors it; resolves once the slider is usable.
  async function load() {
    const { height, width, pixels } = await loadPhoto();
    Object.assign(state, { height, width });
    slider.max = String(Math.min(height, width));
    const grey = Float32Array.from(pixels, (p) => p / 255);
    paint($('[data-role=original]'), grey, width, height);
    const started = performance.now();
    const message = $('[data-role=message]');
    const tick = () => {
      const elapsed = ((performance.now() - started) / 1000).toFixed(0);
      message.textContent = `Computing the SVD of the ${height} × ${width} image… ${elapsed} s`;
    };
    tick();
    const timer = setInterval(tick, 1000);
    try {
      const a = kiln.array(grey, { shape: [height, width], dtype: 'float32' });
      const [u, s, vt] = kiln.linalg.svd(a, false);
      sigma = await s.data();
      photo = { a, u, s, vt };
    } finally {
      clearInterval(timer);
    }
    message.textContent = `SVD of the ${height} × ${width} image: ${duration(performance.now() - started)} (including reading s back).`;
    spectrum.update({
      series: [{ color: '#7c3aed', xs: Array.from(sigma, (_, i) => i + 1), ys: Array.from(sigma) }],
    });
    await refresh();
    slider.disabled = false;
  }

  return {
    state,
    ready: load().catch((err) => {
      state.error = err.message;
      $('[data-role=message]').textContent = err.message;
      throw err;
    }),
  };
}

// Solves A x = b by Gaussian elimination with partial pivoting (row-major A).
function solveJs(a, b, n) {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]) > Math.abs(m[p * n + k])) p = i;
    if (p !== k) {
      for (let j = 0; j < n; j++) [m[k * n + j], m[p * n + j]] = [m[p * n + j], m[k * n + j]];
      [x[k], x[p]] = [x[p], x[k]];
    }
    const pivot = m[k * n + k];
    for (let i = k + 1; i < n; i++) {
      const f = m[i * n + k] / pivot;
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) m[i * n + j] -= f * m[k * n + j];
      x[i] -= f * x[k];
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i];
    for (let j = i + 1; j < n; j++) s -= m[i * n + j] * x[j];
    x[i] = s / m[i * n + i];
  }
  return x;
}

// The inverse by Gauss-Jordan elimination with partial pivoting.
function invJs(a, n) {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  const swap = (arr, r, s) => {
    for (let j = 0; j < n; j++) [arr[r * n + j], arr[s * n + j]] = [arr[s * n + j], arr[r * n + j]];
  };
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]) > Math.abs(m[p * n + k])) p = i;
    if (p !== k) {
      swap(m, k, p);
      swap(inv, k, p);
    }
    const d = 1 / m[k * n + k];
    for (let j = 0; j < n; j++) {
      m[k * n + j] *= d;
      inv[k * n + j] *= d;
    }
    for (let i = 0; i < n; i++) {
      const f = m[i * n + k];
      if (i === k || f === 0) continue;
      for (let j = 0; j < n; j++) {
        m[i * n + j] -= f * m[k * n + j];
        inv[i * n + j] -= f * inv[k * n + j];
      }
    }
  }
  return inv;
}

function matvec(a, x, n) {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += a[i * n + j] * x[j];
    y[i] = s;
  }
  return y;
}

// ||A x - b|| / ||b||, in double precision.
function residual(a, x, b, n) {
  const ax = matvec(a, x, n);
  let r = 0;
  let nb = 0;
  for (let i = 0; i < n; i++) {
    r += (ax[i] - b[i]) ** 2;
    nb += b[i] ** 2;
  }
  return Math.sqrt(r / nb);
}

const METHODS = {
  solve: {
    js: (a, b, n) => solveJs(a, b, n),
    kiln: (a, b) => kiln.linalg.solve(a, b),
  },
  inv: {
    js: (a, b, n) => matvec(invJs(a, n), b, n),
    kiln: (a, b) => kiln.matmul(kiln.linalg.inv(a), b),
  },
};

// Upload, solve and read back: the time a caller holding JS arrays waits.
async function timeKiln(method, a32, b32, n) {
  const started = performance.now();
  const x = kiln.tidy(() =>
    method(kiln.array(a32, { shape: [n, n], dtype: 'float32' }), kiln.array(b32, { shape: [n], dtype: 'float32' })),
  );
  const values = await x.data();
  const ms = performance.now() - started;
  x.dispose();
  return { ms, x: Float64Array.from(values) };
}

function timeJs(method, a, b, n) {
  const started = performance.now();
  const x = method(a, b, n);
  return { ms: performance.now() - started, x };
}

export function setupSolve(root) {
  const $ = (sel) => root.querySelector(sel);
  const button = $('[data-role=run]');
  const state = { busy: false, n: null, op: null, kilnMs: null, jsMs: null, kilnResidual: null, jsResidual: null, error: null };

  async function run() {
    const n = Number($('[data-role=n]').value);
    const op = $('[data-role=op]').value;
    const method = METHODS[op];
    Object.assign(state, { busy: true, n, op, kilnMs: null, jsMs: null, kilnResidual: null, jsResidual: null, error: null });
    button.disabled = true;
    $('[data-role=status]').textContent = `Running n = ${n}…`;
    for (const cell of root.querySelectorAll('td[data-role]')) cell.textContent = '…';
    try {
      // The same float32-representable system for both.
      const next = toSigned(mulberry32(n));
      const a32 = Float32Array.from({ length: n * n }, next);
      const b32 = Float32Array.from({ length: n }, next);
      const a = Float64Array.from(a32);
      const b = Float64Array.from(b32);

      await timeKiln(method.kiln, a32, b32, n); // warm-up: compiles the pipelines
      const gpu = await timeKiln(method.kiln, a32, b32, n);
      timeJs(method.js, a, b, n); // warm-up: lets the JIT optimise
      await new Promise((resolve) => setTimeout(resolve, 0));
      const cpu = timeJs(method.js, a, b, n);

      Object.assign(state, {
        kilnMs: gpu.ms,
        jsMs: cpu.ms,
        kilnResidual: residual(a, gpu.x, b, n),
        jsResidual: residual(a, cpu.x, b, n),
      });
      $('[data-role=kiln-ms]').textContent = duration(gpu.ms);
      $('[data-role=js-ms]').textContent = duration(cpu.ms);
      $('[data-role=kiln-res]').textContent = state.kilnResidual.toExponential(2);
      $('[data-role=js-res]').textContent = state.jsResidual.toExponential(2);
      const ratio = cpu.ms / gpu.ms;
      $('[data-role=status]').textContent =
        ratio >= 1
          ? `kiln was ${ratio.toFixed(1)}× faster than plain JS for n = ${n}.`
          : `Plain JS was ${(1 / ratio).toFixed(1)}× faster than kiln for n = ${n} ` +
            '(small systems, or a software GPU, favour the CPU).';
    } catch (err) {
      state.error = err.message;
      $('[data-role=status]').textContent = err.message;
    } finally {
      state.busy = false;
      button.disabled = false;
    }
  }

  root.querySelector('form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (!state.busy) run();
  });
  button.disabled = false;
  return { state };
}
