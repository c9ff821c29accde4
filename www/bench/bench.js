// kiln, TensorFlow.js and jax-js in one session, on the same float32
// inputs, all on WebGPU or all on the CPU in WebAssembly (`device: 'cpu'`:
// kiln's CPU backend, TensorFlow.js's wasm backend, jax-js's wasm device): in headless Chromium (index.html, page.js) or
// in Node on Dawn (run.mjs --node). Every timed call ends by reading its
// results back to JS (the whole result, same for all libraries), so it
// covers the queued GPU work. The first call of each library (shader
// compilation, tracing, lazy uploads) is reported apart from the warm time,
// the median of repeated calls. Each first result is checked against a
// float64 reference computed in JS before any time is reported as valid.

import { mulberry32 } from '../shared/rng.js';

const MIN_RUNS = 5;
const MAX_RUNS = 50;
const TOLERANCE = 1e-4;
const LR = 0.1;

// Set by runSuite: where progress lines go, and how TensorFlow.js loads.
let log;
let loadTf;

// ---------------------------------------------------------------- inputs

// Inputs come from a seeded generator (mulberry32), so every library gets
// the same data.

// A host tensor: a TypedArray and its shape.
function uniform(rand, shape, scale = 1) {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = scale * (2 * rand() - 1);
  return { data, shape };
}

function matmulInputs(n) {
  const rand = mulberry32(n);
  return { a: uniform(rand, [n, n]), b: uniform(rand, [n, n]) };
}

const MLP = { batch: 256, inputs: 64, hidden: 128, classes: 10 };

function mlpInputs() {
  const { batch, inputs, hidden, classes } = MLP;
  const rand = mulberry32(7);
  const glorot = (m, n) => uniform(rand, [m, n], Math.sqrt(6 / (m + n)));
  // Class indices for kiln.nn.crossEntropy, the same classes as one-hot rows
  // for the peers' losses.
  const labels = new Int32Array(batch);
  const onehot = new Float32Array(batch * classes);
  for (let i = 0; i < batch; i++) {
    labels[i] = Math.floor(rand() * classes);
    onehot[i * classes + labels[i]] = 1;
  }
  return {
    x: uniform(rand, [batch, inputs]),
    labels: { data: labels, shape: [batch] },
    onehot: { data: onehot, shape: [batch, classes] },
    // W1, b1, W2, b2
    params: [glorot(inputs, hidden), uniform(rand, [hidden], 0.1),
      glorot(hidden, classes), uniform(rand, [classes], 0.1)],
  };
}

// A general square matrix (solve, LU need pivoting) and a vector.
function solveInputs(n) {
  const rand = mulberry32(n + 1);
  return { a: uniform(rand, [n, n]), b: uniform(rand, [n]) };
}

// A smooth 128 × 192 image plus noise, as the demo page's photo.
function photoInputs() {
  const [m, n] = [128, 192];
  const rand = mulberry32(11);
  const data = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      data[i * n + j] = 0.5 + 0.3 * Math.sin(i / 9) * Math.cos(j / 13) + 0.05 * rand();
    }
  }
  return { a: { data, shape: [m, n] } };
}

// A symmetric positive definite matrix M Mᵀ / n + I.
function spdInputs(n) {
  const m = uniform(mulberry32(n + 2), [n, n]).data;
  const data = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += m[i * n + k] * m[j * n + k];
      data[i * n + j] = data[j * n + i] = s / n + (i === j ? 1 : 0);
    }
  }
  return { a: { data, shape: [n, n] } };
}

// ---------------------------------------------------------- float64 checks
// Each returns { error, ok }: a scaled error and whether it is within
// TOLERANCE.

function verdict(error) {
  return { error, ok: error <= TOLERANCE };
}

function maxAbs(xs) {
  let m = 0;
  for (const x of xs) m = Math.max(m, Math.abs(x));
  return m;
}

// C = A B on 16 spread rows, relative to the largest reference entry.
function checkMatmul({ a, b }, [c]) {
  const n = a.shape[0];
  let err = 0;
  let scale = 0;
  for (let i = 0; i < n; i += n / 16) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a.data[i * n + k] * b.data[k * n + j];
      err = Math.max(err, Math.abs(c[i * n + j] - s));
      scale = Math.max(scale, Math.abs(s));
    }
  }
  return verdict(err / scale);
}

// One SGD step in float64; the loss is compared relatively and each
// parameter's update relative to its largest reference update.
function checkMlp({ x, labels, params }, [loss, ...updated]) {
  const { batch: B, inputs: I, hidden: H, classes: C } = MLP;
  const [W1, b1, W2, b2] = params.map((p) => p.data);
  const h = new Float64Array(B * H);
  const dlogits = new Float64Array(B * C);
  let ref = 0;
  for (let r = 0; r < B; r++) {
    for (let j = 0; j < H; j++) {
      let s = b1[j];
      for (let k = 0; k < I; k++) s += x.data[r * I + k] * W1[k * H + j];
      h[r * H + j] = Math.max(s, 0);
    }
    const z = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      let s = b2[c];
      for (let j = 0; j < H; j++) s += h[r * H + j] * W2[j * C + c];
      z[c] = s;
    }
    const zmax = Math.max(...z);
    const lse = zmax + Math.log(z.reduce((acc, v) => acc + Math.exp(v - zmax), 0));
    ref += (lse - z[labels.data[r]]) / B;
    for (let c = 0; c < C; c++) {
      dlogits[r * C + c] = (Math.exp(z[c] - lse) - (c === labels.data[r] ? 1 : 0)) / B;
    }
  }
  const gW2 = new Float64Array(H * C);
  const gb2 = new Float64Array(C);
  const gW1 = new Float64Array(I * H);
  const gb1 = new Float64Array(H);
  for (let r = 0; r < B; r++) {
    for (let j = 0; j < H; j++) {
      if (h[r * H + j] <= 0) continue;
      let dh = 0;
      for (let c = 0; c < C; c++) {
        gW2[j * C + c] += h[r * H + j] * dlogits[r * C + c];
        dh += dlogits[r * C + c] * W2[j * C + c];
      }
      gb1[j] += dh;
      for (let k = 0; k < I; k++) gW1[k * H + j] += x.data[r * I + k] * dh;
    }
    for (let c = 0; c < C; c++) gb2[c] += dlogits[r * C + c];
  }
  let err = Math.abs(loss[0] - ref) / Math.abs(ref);
  [gW1, gb1, gW2, gb2].forEach((g, p) => {
    let diff = 0;
    for (let i = 0; i < g.length; i++) {
      diff = Math.max(diff, Math.abs(updated[p][i] - (params[p].data[i] - LR * g[i])));
    }
    err = Math.max(err, diff / (LR * maxAbs(g)));
  });
  return verdict(err);
}

// Backward error ‖A x − b‖∞ / (‖A‖∞ ‖x‖∞).
function checkSolve({ a, b }, [x]) {
  const n = b.shape[0];
  let res = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    let s = -b.data[i];
    let row = 0;
    for (let k = 0; k < n; k++) {
      s += a.data[i * n + k] * x[k];
      row += Math.abs(a.data[i * n + k]);
    }
    res = Math.max(res, Math.abs(s));
    norm = Math.max(norm, row);
  }
  return verdict(res / (norm * maxAbs(x)));
}

// max |L Lᵀ − A| / max |A|, with L taken as returned (upper part included).
function checkCholesky({ a }, [l]) {
  const n = a.shape[0];
  let err = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += l[i * n + k] * l[j * n + k];
      err = Math.max(err, Math.abs(s - a.data[i * n + j]));
    }
  }
  return verdict(err / maxAbs(a.data));
}

// Packed LU with LAPACK-style pivots (row i was swapped with row piv[i]):
// max |P A − L U| / max |A|.
function checkLu({ a }, [lu, piv]) {
  const n = a.shape[0];
  const pa = Float64Array.from(a.data);
  for (let i = 0; i < n; i++) {
    const p = piv[i];
    if (!(p >= i && p < n)) return { error: Infinity, ok: false, reason: `pivot ${i} is ${p}` };
    for (let j = 0; j < n; j++) [pa[i * n + j], pa[p * n + j]] = [pa[p * n + j], pa[i * n + j]];
  }
  let err = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = i <= j ? lu[i * n + j] : 0;
      for (let k = 0; k < Math.min(i, j + 1); k++) s += lu[i * n + k] * lu[k * n + j];
      err = Math.max(err, Math.abs(s - pa[i * n + j]));
    }
  }
  return verdict(err / maxAbs(a.data));
}

// A = U diag(s) Vᵀ for the reduced SVD of an m × n matrix:
// max |U diag(s) Vᵀ − A| / max |A|.
function checkSvd({ a }, [u, s, vt]) {
  const [m, n] = a.shape;
  const k = Math.min(m, n);
  let err = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let x = 0;
      for (let t = 0; t < k; t++) x += u[i * k + t] * s[t] * vt[t * n + j];
      err = Math.max(err, Math.abs(x - a.data[i * n + j]));
    }
  }
  return verdict(err / maxAbs(a.data));
}

// A V = V diag(w) for a symmetric A: max |A V − V diag(w)| / max |A|.
function checkEigh({ a }, [w, v]) {
  const n = a.shape[0];
  let err = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let x = -v[i * n + j] * w[j];
      for (let k = 0; k < n; k++) x += a.data[i * n + k] * v[k * n + j];
      err = Math.max(err, Math.abs(x));
    }
  }
  return verdict(err / maxAbs(a.data));
}

// ------------------------------------------------------------- libraries
// Each library maps a benchmark kind to a factory: factory(inputs) returns
// { run: async () => TypedArray[] (the results read back), dispose() }.
// A missing kind means the library has no API for it.

let kiln;
let tf;
let jax;
// 'webgpu' or 'cpu' (every library in WebAssembly), set by runSuite.
let device;

const kilnLib = {
  name: 'kiln',
  async load() {
    kiln = await import('../src/index.js');
    const info = await kiln.init({ backend: device });
    return { device: `${info.backend}, ${info.deviceType} ${info.name}`.trim(), info };
  },
  // Kernels dispatched so far: a call that dispatched none did not run on the GPU.
  dispatches: () => kiln.dispatchCount(),
  matmul({ a, b }) {
    const [x, y] = [a, b].map(toKiln);
    return {
      run: () => kilnRead([kiln.matmul(x, y)]),
      dispose: () => kiln.dispose([x, y]),
    };
  },
  mlp: (inputs) => kilnMlp(inputs, false),
  mlpCompiled: (inputs) => kilnMlp(inputs, true),
  solve({ a, b }) {
    const [x, y] = [a, b].map(toKiln);
    return {
      run: () => kilnRead([kiln.linalg.solve(x, y)]),
      dispose: () => kiln.dispose([x, y]),
    };
  },
  cholesky({ a }) {
    const x = toKiln(a);
    return { run: () => kilnRead([kiln.linalg.cholesky(x)]), dispose: () => x.dispose() };
  },
  // luFactor gives the packed factor and pivots, as jax-js's lax.linalg.lu.
  lu({ a }) {
    const x = toKiln(a);
    return { run: () => kilnRead(kiln.linalg.luFactor(x)), dispose: () => x.dispose() };
  },
  svd({ a }) {
    const x = toKiln(a);
    return { run: () => kilnRead(kiln.linalg.svd(x, false)), dispose: () => x.dispose() };
  },
  eigh({ a }) {
    const x = toKiln(a);
    return { run: () => kilnRead(kiln.linalg.eigh(x)), dispose: () => x.dispose() };
  },
};

function toKiln({ data, shape }) {
  return kiln.array(data, { shape, dtype: data instanceof Int32Array ? 'int32' : 'float32' });
}

// Reads every array back, then frees them.
async function kilnRead(arrays) {
  try {
    return await Promise.all(arrays.map((a) => a.data()));
  } finally {
    kiln.dispose(arrays);
  }
}

function kilnMlp(inputs, compiled) {
  let params = inputs.params.map(toKiln);
  const x = toKiln(inputs.x);
  const labels = toKiln(inputs.labels);
  const loss = (W1, b1, W2, b2, x, labels) => {
    const h = kiln.nn.relu(kiln.matmul(x, W1).add(b1));
    return kiln.nn.crossEntropy(kiln.matmul(h, W2).add(b2), labels);
  };
  const valueAndGrad = kiln.valueAndGrad(loss, [0, 1, 2, 3]);
  const sgd = (...args) => {
    const [value, grads] = valueAndGrad(...args);
    return [value, ...grads.map((g, i) => args[i].sub(g.mul(LR)))];
  };
  const step = compiled ? kiln.compile(sgd) : sgd;
  return {
    async run() {
      const [value, ...next] = kiln.tidy(() => step(...params, x, labels));
      kiln.dispose(params);
      params = next;
      try {
        return await Promise.all([value, ...params].map((a) => a.data()));
      } finally {
        value.dispose();
      }
    },
    dispose: () => kiln.dispose([...params, x, labels]),
  };
}

const tfjsLib = {
  name: 'tfjs',
  async load() {
    tf = await loadTf(device);
    const backend = device === 'cpu' ? 'wasm' : 'webgpu';
    // Otherwise tfjs silently runs ops on small tensors on its CPU backend.
    if (backend === 'webgpu') tf.env().set('WEBGPU_CPU_FORWARD', false);
    if (!(await tf.setBackend(backend))) throw new Error(`the ${backend} backend did not start`);
    await tf.ready();
    if (tf.getBackend() !== backend) throw new Error(`backend is ${tf.getBackend()}`);
    return { device: backend };
  },
  matmul({ a, b }) {
    const [x, y] = [a, b].map(toTf);
    return { run: () => tfRead([tf.matMul(x, y)]), dispose: () => tf.dispose([x, y]) };
  },
  mlp(inputs) {
    const vars = inputs.params.map((p) => tf.variable(toTf(p)));
    const [W1, b1, W2, b2] = vars;
    const x = toTf(inputs.x);
    const onehot = toTf(inputs.onehot);
    const optimizer = tf.train.sgd(LR);
    const loss = () => {
      const h = tf.relu(tf.matMul(x, W1).add(b1));
      return tf.losses.softmaxCrossEntropy(onehot, tf.matMul(h, W2).add(b2));
    };
    return {
      async run() {
        const value = optimizer.minimize(loss, true, vars);
        try {
          assertTfOnGpu([value, ...vars]);
          return await Promise.all([value, ...vars].map((t) => t.data()));
        } finally {
          value.dispose();
        }
      },
      dispose() {
        tf.dispose([...vars, x, onehot]);
        optimizer.dispose();
      },
    };
  },
};

function toTf({ data, shape }) {
  return tf.tensor(data, shape);
}

// A tensor computed on the GPU holds a GPU buffer, one forwarded to the CPU
// holds plain values. (On the wasm backend every tensor is in wasm memory.)
function assertTfOnGpu(tensors) {
  if (device === 'cpu') return;
  for (const t of tensors) {
    if (!(tf.backend().tensorMap.get(t.dataId)?.resource instanceof GPUBuffer)) {
      throw new Error('a result is not in a GPU buffer');
    }
  }
}

async function tfRead(tensors) {
  try {
    assertTfOnGpu(tensors);
    return await Promise.all(tensors.map((t) => t.data()));
  } finally {
    tf.dispose(tensors);
  }
}

// jax-js moves arrays into the functions they are passed to: `a.ref` keeps a
// reference for later, and `a.data()` consumes `a`.
const jaxLib = {
  name: 'jax',
  async load() {
    jax = await import('../node_modules/@jax-js/jax/dist/index.js');
    // The default device is wasm (CPU): WebGPU has to be asked for.
    const wanted = device === 'cpu' ? 'wasm' : 'webgpu';
    if (!(await jax.init(wanted)).includes(wanted)) throw new Error(`no ${wanted} device`);
    jax.defaultDevice(wanted);
    return { device: jax.defaultDevice() };
  },
  matmul({ a, b }) {
    const [x, y] = [a, b].map(toJax);
    return {
      run: () => jaxRead([jax.numpy.matmul(x.ref, y.ref)]),
      dispose: () => jax.tree.dispose([x, y]),
    };
  },
  mlp: (inputs) => jaxMlp(inputs, false),
  mlpCompiled: (inputs) => jaxMlp(inputs, true),
  solve({ a, b }) {
    const [x, y] = [a, b].map(toJax);
    return {
      run: () => jaxRead([jax.numpy.linalg.solve(x.ref, y.ref)]),
      dispose: () => jax.tree.dispose([x, y]),
    };
  },
  // lax.linalg.cholesky: numpy.linalg.cholesky would first symmetrize the
  // input, which kiln does not do.
  cholesky({ a }) {
    const x = toJax(a);
    return { run: () => jaxRead([jax.lax.linalg.cholesky(x.ref)]), dispose: () => x.dispose() };
  },
  lu({ a }) {
    const x = toJax(a);
    return {
      run() {
        const [lu, pivots, permutation] = jax.lax.linalg.lu(x.ref);
        permutation.dispose();
        return jaxRead([lu, pivots]);
      },
      dispose: () => x.dispose(),
    };
  },
};

function toJax({ data, shape }) {
  return jax.numpy.array(data, { shape });
}

// Reads every array back, consuming it.
function jaxRead(arrays) {
  for (const a of arrays) {
    if (a.device !== jax.defaultDevice()) throw new Error(`a result is on ${a.device}`);
  }
  return Promise.all(arrays.map((a) => a.data()));
}

function jaxMlp(inputs, compiled) {
  const { numpy: np, nn, tree } = jax;
  let params = inputs.params.map(toJax);
  const x = toJax(inputs.x);
  const onehot = toJax(inputs.onehot);
  const loss = ([W1, b1, W2, b2], x, onehot) => {
    const h = nn.relu(np.matmul(x, W1).add(b1));
    return nn.logSoftmax(np.matmul(h, W2).add(b2)).mul(onehot).sum(-1).mean().neg();
  };
  const valueAndGrad = jax.valueAndGrad(loss);
  const sgd = (params, x, onehot) => {
    const [value, grads] = valueAndGrad(tree.ref(params), x, onehot);
    return [value, tree.map((p, g) => p.sub(g.mul(LR)), params, grads)];
  };
  const step = compiled ? jax.jit(sgd) : sgd;
  return {
    async run() {
      // The step consumes the old parameters. jax-js is lazy: reading the
      // updated parameters (not only the loss) makes the step complete.
      const [value, next] = step(params, x.ref, onehot.ref);
      params = next;
      return jaxRead([value, ...tree.ref(params)]);
    },
    dispose() {
      tree.dispose([params, x, onehot]);
      if (compiled) step.dispose();
    },
  };
}

const ALL_LIBRARIES = [kilnLib, tfjsLib, jaxLib];

// ------------------------------------------------------------ benchmarks

const matmul = (n) => ({
  id: `matmul${n}`,
  label: `matmul ${n}×${n}`,
  kind: 'matmul',
  flops: 2 * n ** 3,
  inputs: () => matmulInputs(n),
  check: checkMatmul,
});

const ALL_BENCHMARKS = [
  matmul(256),
  matmul(512),
  matmul(1024),
  {
    id: 'mlp',
    label: 'MLP step (256, 64→128→10, SGD)',
    kind: 'mlp',
    inputs: mlpInputs,
    check: checkMlp,
  },
  {
    id: 'mlp-compiled',
    label: 'MLP step, compiled (kiln compile, jax-js jit)',
    kind: 'mlpCompiled',
    inputs: mlpInputs,
    check: checkMlp,
  },
  { id: 'solve256', label: 'solve 256×256', kind: 'solve', inputs: () => solveInputs(256), check: checkSolve },
  { id: 'cholesky256', label: 'cholesky 256×256', kind: 'cholesky', inputs: () => spdInputs(256), check: checkCholesky },
  { id: 'lu256', label: 'lu 256×256 (packed, pivots)', kind: 'lu', inputs: () => solveInputs(256), check: checkLu },
  // The spectral functions against LU of the same matrix (no cliff: within
  // 10x), and the demo page's photo (128 × 192, reduced SVD).
  { id: 'lu64', label: 'lu 64×64 (packed, pivots)', kind: 'lu', inputs: () => solveInputs(64), check: checkLu },
  { id: 'svd64', label: 'svd 64×64 (reduced)', kind: 'svd', inputs: () => solveInputs(64), check: checkSvd },
  { id: 'eigh64', label: 'eigh 64×64', kind: 'eigh', inputs: () => spdInputs(64), check: checkEigh },
  { id: 'svd-photo', label: 'svd 128×192 (the demo photo, reduced)', kind: 'svd', inputs: photoInputs, check: checkSvd },
];

// --------------------------------------------------------------- runner

const errorText = (e) => (e instanceof Error ? e.message : String(e));

async function timed(fn) {
  const t0 = performance.now();
  const out = await fn();
  return [performance.now() - t0, out];
}

// One call: its time, its results and, where the library counts them, the
// kernels it dispatched.
async function call(lib, instance) {
  const before = lib.dispatches?.();
  const [ms, out] = await timed(instance.run);
  return { ms, out, dispatches: lib.dispatches && lib.dispatches() - before };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// First calls one library after the other, then warm calls round-robin so
// that all libraries see the same conditions. Each library makes as many
// warm calls as fit in budgetMs (at least MIN_RUNS, at most MAX_RUNS),
// estimated from the median of its warm calls so far.
async function runBenchmark(bench, libraries, loaded, budgetMs) {
  const inputs = bench.inputs();
  const cells = {};
  const live = [];
  for (const lib of libraries) {
    const factory = lib[bench.kind];
    if (!loaded[lib.name]) {
      cells[lib.name] = { note: 'not loaded' };
    } else if (!factory) {
      cells[lib.name] = { note: 'no API' };
    } else {
      let instance;
      try {
        instance = factory(inputs);
        const { ms: first, out, dispatches } = await call(lib, instance);
        if (dispatches === 0) throw new Error('no kernel was dispatched');
        const cell = { first_ms: first, check: bench.check(inputs, out), dispatches, times: [] };
        cells[lib.name] = cell;
        live.push({ lib, instance, cell, target: 1 });
        log(`${bench.label}, ${lib.name}: first call ${first.toFixed(1)} ms, check ${cell.check.error.toExponential(1)}`);
      } catch (e) {
        cells[lib.name] = { error: errorText(e) };
        log(`${bench.label}, ${lib.name}: error: ${errorText(e)}`);
        instance?.dispose();
      }
    }
  }
  while (live.some((e) => e.cell.times.length < e.target)) {
    for (const entry of live) {
      const { cell, instance } = entry;
      if (cell.error || cell.times.length >= entry.target) continue;
      try {
        const { ms, dispatches } = await call(entry.lib, instance);
        cell.times.push(ms);
        cell.warm_dispatches = dispatches;
        const estimate = Math.round(budgetMs / median(cell.times));
        entry.target = Math.min(MAX_RUNS, Math.max(MIN_RUNS, estimate));
      } catch (e) {
        cell.error = errorText(e);
        log(`${bench.label}, ${entry.lib.name}: error in a warm call: ${cell.error}`);
      }
    }
  }
  for (const { lib, instance, cell } of live) {
    instance.dispose();
    if (cell.times.length) {
      cell.warm_ms = median(cell.times);
      cell.min_ms = Math.min(...cell.times);
      const kernels = cell.warm_dispatches === undefined ? '' : `, ${cell.warm_dispatches} dispatches`;
      log(`${bench.label}, ${lib.name}: warm ${cell.warm_ms.toFixed(2)} ms (median of ${cell.times.length}${kernels})`);
    }
  }
  return { id: bench.id, label: bench.label, flops: bench.flops, cells };
}

async function adapterInfo() {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return null;
  const { vendor, architecture, device, description } = adapter.info;
  return { vendor, architecture, device, description, isFallbackAdapter: adapter.info.isFallbackAdapter ?? adapter.isFallbackAdapter };
}

/**
 * Runs the benchmarks and returns the results (report.js prints them).
 * `libs` and `only` pick libraries and benchmark ids (all when absent),
 * `budgetMs` the warm time per library and benchmark; `device` is
 * 'webgpu' (default) or 'cpu' (every library in WebAssembly); `environment`
 * names the runtime, `versions` gives each library's version,
 * `loadTf(device)` resolves to TensorFlow.js with its WebGPU (or wasm)
 * backend registered, and `log(line)` reports progress.
 */
export async function runSuite({ libs, only, budgetMs = 4000, device: where = 'webgpu', environment, versions = {}, loadTf: tfLoader, log: logger }) {
  if (!['webgpu', 'cpu'].includes(where)) throw new Error(`device must be webgpu or cpu, got ${where}`);
  log = logger;
  loadTf = tfLoader;
  device = where;
  const libraries = ALL_LIBRARIES.filter((lib) => !libs || libs.includes(lib.name));
  const benchmarks = ALL_BENCHMARKS.filter((b) => !only || only.includes(b.id));
  const results = {
    userAgent: environment,
    device,
    adapter: device === 'webgpu' ? await adapterInfo() : null,
    config: { budgetMs, minRuns: MIN_RUNS, maxRuns: MAX_RUNS, tolerance: TOLERANCE },
    libs: {},
    benchmarks: [],
  };
  const loaded = {};
  for (const lib of libraries) {
    const version = versions[lib.name];
    try {
      const [ms, info] = await timed(() => lib.load());
      loaded[lib.name] = true;
      results.libs[lib.name] = { version, loadMs: ms, ...info };
      log(`${lib.name} ${version ?? ''} on ${info.device}, loaded in ${ms.toFixed(0)} ms`);
    } catch (e) {
      results.libs[lib.name] = { version, error: errorText(e) };
      log(`${lib.name}: failed to load: ${errorText(e)}`);
    }
  }
  for (const bench of benchmarks) results.benchmarks.push(await runBenchmark(bench, libraries, loaded, budgetMs));
  return results;
}
