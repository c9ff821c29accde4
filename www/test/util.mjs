// Helpers shared by the tests: a seeded generator and plain-JS reference
// math, so expected values never come from kiln itself.
import assert from 'node:assert/strict';
import { mulberry32, toSigned } from '../shared/rng.js';

/** A seeded generator of floats in [-1, 1) (mulberry32). */
export function rng(seed) {
  return toSigned(mulberry32(seed));
}

/** A rows x cols nested array of values from `next`. */
export function matrix(next, rows, cols) {
  return Array.from({ length: rows }, () => Array.from({ length: cols }, next));
}

export function matmul(a, b) {
  return a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
}

export function transpose(a) {
  return a[0].map((_, j) => a.map((row) => row[j]));
}

export function identity(n) {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => +(i === j)));
}

/** Flattens nested arrays and TypedArrays to a plain array of numbers. */
export function flat(x) {
  if (typeof x === 'number' || typeof x === 'boolean') return [Number(x)];
  return Array.from(x).flatMap(flat);
}

/** The shape of a nested array. */
export function shapeOf(x) {
  const shape = [];
  for (let v = x; Array.isArray(v); v = v[0]) shape.push(v.length);
  return shape;
}

/**
 * Asserts |actual - expected| <= atol + rtol |expected| elementwise; both
 * may be numbers, nested arrays or TypedArrays (compared flattened).
 */
export function assertClose(actual, expected, { rtol = 1e-5, atol = 1e-6, what = '' } = {}) {
  const a = flat(actual);
  const e = flat(expected);
  assert.equal(a.length, e.length, `${what} length ${a.length}, expected ${e.length}`);
  for (let i = 0; i < e.length; i++) {
    const ok = Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]) || (Number.isNaN(a[i]) && Number.isNaN(e[i]));
    assert.ok(ok, `${what} element ${i}: ${a[i]}, expected ${e[i]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** The largest absolute entry of a nested array. */
export function maxAbs(x) {
  return Math.max(...flat(x).map(Math.abs));
}

/** Determinant by Gaussian elimination with partial pivoting. */
export function det(a) {
  const m = a.map((row) => row.slice());
  const n = m.length;
  let d = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    if (m[p][c] === 0) return 0;
    if (p !== c) {
      [m[p], m[c]] = [m[c], m[p]];
      d = -d;
    }
    d *= m[c][c];
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k < n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return d;
}

/** erf in double precision: Maclaurin series below 2.5, erfc's continued fraction above. */
export function erf(x) {
  if (x < 0) return -erf(-x);
  if (x < 2.5) {
    // Maclaurin series: erf x = 2/sqrt(pi) sum (-1)^n x^(2n+1) / (n! (2n+1)).
    let term = x;
    let sum = x;
    for (let n = 1; n < 60; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Continued fraction for erfc, evaluated from the tail.
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (x + f);
  return 1 - Math.exp(-x * x) / Math.sqrt(Math.PI) / (x + f);
}

/** Inputs for the browser pages (app.mjs): a 3 x 4 and a 4 x 2 matrix, 5 points. */
export function appInput(seed) {
  const next = rng(seed);
  return { a: matrix(next, 3, 4), b: matrix(next, 4, 2), t: Array.from({ length: 5 }, () => 3 * next()) };
}

/** Asserts a page's result against the same computation in plain JS. */
export function assertAppResult(result, { a, b, t, backend }) {
  assert.equal(result.error, undefined, result.error);
  assert.deepEqual(shapeOf(result.product), [3, 2]);
  assertClose(result.product, matmul(a, b), { rtol: 1e-5, atol: 1e-6, what: 'matmul' });
  const gradient = t.map((v) => Math.tanh(v) + v * (1 - Math.tanh(v) ** 2));
  assertClose(result.gradient, gradient, { rtol: 1e-5, atol: 1e-6, what: 'grad' });
  assert.equal(result.info.backend, backend === 'cpu' ? 'cpu' : 'BrowserWebGpu');
  assert.ok(result.info.name.length > 0, `init() reported no adapter name: ${JSON.stringify(result.info)}`);
}
