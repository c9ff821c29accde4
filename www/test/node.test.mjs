// kiln in Node with Dawn (the `webgpu` package) as navigator.gpu, or on the
// CPU backend with KILN_TEST_BACKEND=cpu.
// Run: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json node --test test/node.test.mjs
import './gpu-node.mjs';
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as kiln from '@kiln-ml/kiln';
import { assertClose, det, erf, identity, matmul, matrix, maxAbs, rng, transpose } from './util.mjs';

// Nested arrays of the shape of `x` with `f` applied to each entry.
const map = (x, f) => (Array.isArray(x) ? x.map((v) => map(v, f)) : f(x));

const backend = process.env.KILN_TEST_BACKEND ?? 'webgpu';
const onGpu = backend === 'webgpu';
let info;
before(async () => {
  info = await kiln.init({ backend });
});

test('init reports the backend', (t) => {
  t.diagnostic(JSON.stringify(info));
  assert.equal(info.backend, onGpu ? 'BrowserWebGpu' : 'cpu');
  assert.ok(info.name.length > 0, 'adapter name is empty');
  assert.equal(typeof info.shaderF16, 'boolean');
  assert.ok(info.maxBufferBytes > 0 && info.maxStorageBindingBytes > 0);
});

describe('arrays', () => {
  test('creation, metadata and reading back', async () => {
    const x = kiln.array([[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(x.shape, [2, 3]);
    assert.equal(x.dtype, 'float32');
    assert.equal(x.ndim, 2);
    assert.equal(x.size, 6);
    assert.deepEqual(await x.array(), [[1, 2, 3], [4, 5, 6]]);
    const data = await x.data();
    assert.ok(data instanceof Float32Array);
    assert.deepEqual(Array.from(data), [1, 2, 3, 4, 5, 6]);
    assert.equal(await kiln.array(2.5).item(), 2.5);

    const typed = kiln.array(new Int32Array([1, -2, 3, -4]), { shape: [2, 2], dtype: 'int32' });
    assert.equal(typed.dtype, 'int32');
    const ints = await typed.data();
    assert.ok(ints instanceof Int32Array);
    assert.deepEqual(Array.from(ints), [1, -2, 3, -4]);

    const bools = await kiln.array([true, false, true]).data();
    assert.ok(bools instanceof Uint8Array);
    assert.deepEqual(Array.from(bools), [1, 0, 1]);
  });

  test('reads started together each get their own values', async () => {
    // Their copies share one submission; each array's bytes must still
    // land in its own readback: float, int, bool, a strided view, a
    // reduction, a constant never computed and an empty array.
    const x = kiln.array([[1, 2, 3], [4, 5, 6]]);
    const reads = [
      x.add(1),
      x.transpose(),
      x.astype('int32').mul(-1),
      x.greater(3),
      kiln.array([1.5, -2.5]),
      x.sum(),
      kiln.zeros([0, 3]),
    ];
    const values = await Promise.all(reads.map((a) => a.data()));
    assert.deepEqual(Array.from(values[0]), [2, 3, 4, 5, 6, 7]);
    assert.deepEqual(Array.from(values[1]), [1, 4, 2, 5, 3, 6]);
    assert.ok(values[2] instanceof Int32Array);
    assert.deepEqual(Array.from(values[2]), [-1, -2, -3, -4, -5, -6]);
    assert.deepEqual(Array.from(values[3]), [0, 0, 0, 1, 1, 1]);
    assert.deepEqual(Array.from(values[4]), [1.5, -2.5]);
    assert.deepEqual(Array.from(values[5]), [21]);
    assert.equal(values[6].length, 0);
  });

  test('creation functions', async () => {
    assert.deepEqual(await kiln.zeros([2, 2]).array(), [[0, 0], [0, 0]]);
    assert.deepEqual(await kiln.full([3], 7, 'int32').array(), [7, 7, 7]);
    assert.deepEqual(await kiln.arange(2, 11, 3).array(), [2, 5, 8]);
    assertClose(await kiln.linspace(0, 1, 5).data(), [0, 0.25, 0.5, 0.75, 1]);
    assert.deepEqual(await kiln.eye(3, 4, 1).array(), [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]);
    assert.deepEqual(await kiln.tril(kiln.ones([3, 3])).array(), [[1, 0, 0], [1, 1, 0], [1, 1, 1]]);
  });
});

describe('arithmetic', () => {
  test('the README example', async () => {
    const x = kiln.array([[1, 2], [3, 4]]);
    const expected = map(matmul([[1, 2], [3, 4]], [[1, 2], [3, 4]]), (v) => v + 1);
    assert.deepEqual(await kiln.matmul(x, x).add(1).array(), expected);
  });

  test('matmul of random matrices, batched and broadcast', async () => {
    const next = rng(1);
    const a = matrix(next, 7, 5);
    const b = matrix(next, 5, 3);
    assertClose(await kiln.matmul(a, b).data(), matmul(a, b), { rtol: 1e-5, atol: 1e-5 });

    // [2, 7, 5] @ [5, 3]: the matrix broadcasts over the batch.
    const a2 = [a, matrix(next, 7, 5)];
    const out = kiln.matmul(kiln.array(a2), kiln.array(b));
    assert.deepEqual(out.shape, [2, 7, 3]);
    assertClose(await out.data(), a2.map((m) => matmul(m, b)), { rtol: 1e-5, atol: 1e-5 });

    // A matrix large enough for tiled kernels.
    const c = matrix(next, 67, 129);
    const d = matrix(next, 129, 33);
    assertClose(await kiln.matmul(c, d).data(), matmul(c, d), { rtol: 1e-4, atol: 1e-4 });
  });

  test('elementwise ops and broadcasting', async () => {
    const next = rng(2);
    const a = matrix(next, 3, 4);
    const col = [[0.5], [-1.5], [2]];
    const pos = map(a, (v) => v + 1.5); // positive, for log/sqrt/pow
    const A = kiln.array(a);
    const P = kiln.array(pos);
    const cases = [
      ['add', kiln.add(A, col), a.map((r, i) => r.map((v) => v + col[i][0]))],
      ['sub', A.sub(2), map(a, (v) => v - 2)],
      ['mul', A.mul(A), map(a, (v) => v * v)],
      ['div', kiln.divide(1, P), map(pos, (v) => 1 / v)],
      ['pow', P.pow(1.5), map(pos, (v) => v ** 1.5)],
      ['neg', A.neg(), map(a, (v) => -v)],
      ['exp', kiln.exp(A), map(a, Math.exp)],
      ['log', kiln.log(P), map(pos, Math.log)],
      ['sqrt', kiln.sqrt(P), map(pos, Math.sqrt)],
      ['sin', kiln.sin(A), map(a, Math.sin)],
      ['tanh', kiln.tanh(A), map(a, Math.tanh)],
      ['sigmoid', kiln.sigmoid(A), map(a, (v) => 1 / (1 + Math.exp(-v)))],
      ['erf', kiln.erf(A.mul(2)), map(a, (v) => erf(2 * v))],
      ['maximum', kiln.maximum(A, 0), map(a, (v) => Math.max(v, 0))],
      ['where', kiln.where(kiln.greater(A, 0), A, kiln.zerosLike(A)), map(a, (v) => (v > 0 ? v : 0))],
      ['clip', kiln.clip(A, -0.25, 0.25), map(a, (v) => Math.min(Math.max(v, -0.25), 0.25))],
    ];
    for (const [name, got, expected] of cases) {
      // WGSL specifies sin to 2^-11 absolute error only (SwiftShader's is
      // off by up to 2e-4); the rest are near float32 rounding.
      const atol = name === 'sin' ? 2 ** -11 : 2e-6;
      assertClose(await got.data(), expected, { rtol: 2e-6, atol, what: name });
    }
  });

  test('cbrt, exp2, deg2rad, rad2deg, logaddexp, hypot, copysign and their gradients', async () => {
    const next = rng(5);
    const a = matrix(next, 2, 3);
    const b = matrix(next, 2, 3);
    const A = kiln.array(a);
    const B = kiln.array(b);
    const both = (f) => a.map((r, i) => r.map((v, j) => f(v, b[i][j])));
    const logaddexp = (x, y) => Math.max(x, y) + Math.log1p(Math.exp(-Math.abs(x - y)));
    const copysign = (x, y) => (y < 0 || Object.is(y, -0) ? -Math.abs(x) : Math.abs(x));
    const cases = [
      ['cbrt', A.cbrt(), map(a, Math.cbrt)],
      ['exp2', kiln.exp2(A), map(a, (v) => 2 ** v)],
      ['deg2rad', kiln.deg2rad(A), map(a, (v) => (v * Math.PI) / 180)],
      ['rad2deg', A.rad2deg(), map(a, (v) => (v * 180) / Math.PI)],
      ['logaddexp', kiln.logaddexp(A, B), both(logaddexp)],
      ['hypot', A.hypot(B), both(Math.hypot)],
      ['copysign', kiln.copysign(A, B), both(copysign)],
    ];
    for (const [name, got, expected] of cases) {
      assertClose(await got.data(), expected, { rtol: 2e-6, atol: 1e-6, what: name });
    }
    assertClose(await kiln.cbrt([8, -27, 0]).data(), [2, -3, 0], { rtol: 2.5e-7, what: "cbrt of cubes" });
    // d/da logaddexp(a, b) = exp(a - logaddexp(a, b)); d/da hypot(a, b) = a / hypot(a, b).
    const [ga, gb] = kiln.grad((x, y) => kiln.sum(kiln.logaddexp(x, y)), [0, 1])(A, B);
    assertClose(await ga.data(), both((x, y) => Math.exp(x - logaddexp(x, y))), { atol: 1e-6, what: 'd logaddexp / da' });
    assertClose(await gb.data(), both((x, y) => Math.exp(y - logaddexp(x, y))), { atol: 1e-6, what: 'd logaddexp / db' });
    const gh = kiln.grad((x) => kiln.sum(kiln.hypot(x, B)))(A);
    assertClose(await gh.data(), both((x, y) => x / Math.hypot(x, y)), { atol: 1e-6, what: 'd hypot / da' });
    const gc = kiln.grad((x) => kiln.sum(kiln.cbrt(x)))(kiln.array([8, 1, 0.125]));
    assertClose(await gc.data(), [1 / 12, 1 / 3, 4 / 3], { atol: 1e-6, what: 'd cbrt' });
  });

  test('integer ops follow floor semantics', async () => {
    const a = kiln.array([-7, 7, -8, 9], 'int32');
    const b = kiln.array([2, -2, 3, 4], 'int32');
    // Python's // and %: floor division, remainder with the divisor's sign.
    const [x, y] = [[-7, 7, -8, 9], [2, -2, 3, 4]];
    const floorDiv = x.map((v, i) => Math.floor(v / y[i]));
    const rem = x.map((v, i) => v - y[i] * Math.floor(v / y[i]));
    const q = kiln.floorDivide(a, b);
    assert.equal(q.dtype, 'int32');
    assert.deepEqual(Array.from(await q.data()), floorDiv);
    assert.deepEqual(Array.from(await kiln.remainder(a, b).data()), rem);
  });

  test('weak typing of JS numbers', async () => {
    const i = kiln.array([1, 2], 'int32');
    const f = i.add(2.5);
    assert.equal(f.dtype, 'float32');
    assertClose(await f.data(), [3.5, 4.5]);
    assert.equal(i.add(2).dtype, 'int32');
    assert.equal(kiln.array([1, 2]).add(kiln.array([1, 1], 'int32')).dtype, 'float32');
  });

  test('comparisons give bool', async () => {
    const c = kiln.less([1, 5, 3], [2, 2, 3]);
    assert.equal(c.dtype, 'bool');
    assert.deepEqual(Array.from(await c.data()), [1, 0, 0]);
    assert.deepEqual(Array.from(await kiln.lessEqual([1, 5, 3], [2, 2, 3]).data()), [1, 0, 1]);
  });
});

describe('reductions', () => {
  const next = rng(3);
  const a = matrix(next, 4, 6);
  const rows = a;
  const cols = transpose(a);
  const sum = (v) => v.reduce((s, x) => s + x, 0);
  const mean = (v) => sum(v) / v.length;
  const variance = (v, ddof = 0) => sum(v.map((x) => (x - mean(v)) ** 2)) / (v.length - ddof);

  test('sum, mean, prod, max, min, argmax', async () => {
    const A = kiln.array(a);
    assertClose(await kiln.sum(A).item(), sum(a.flat()), { atol: 1e-5 });
    assertClose(await A.sum(1).data(), rows.map(sum), { atol: 1e-5 });
    const keep = kiln.sum(A, 0, true);
    assert.deepEqual(keep.shape, [1, 6]);
    assertClose(await keep.data(), cols.map(sum), { atol: 1e-5 });
    assertClose(await kiln.mean(A, -1).data(), rows.map(mean), { atol: 1e-6 });
    assertClose(await kiln.prod(A, 0).data(), cols.map((c) => c.reduce((p, x) => p * x, 1)), { atol: 1e-6 });
    assertClose(await kiln.max(A, 1).data(), rows.map((r) => Math.max(...r)));
    assertClose(await kiln.min(A, [0, 1]).item(), Math.min(...a.flat()));
    const argmax = kiln.argmax(A, 0);
    assert.deepEqual(Array.from(await argmax.data()), cols.map((c) => c.indexOf(Math.max(...c))));
  });

  test('var, std, logsumexp, softmax, cumsum', async () => {
    const A = kiln.array(a);
    assertClose(await kiln.var(A, 1).data(), rows.map((r) => variance(r)), { atol: 1e-6 });
    assertClose(await kiln.std(A, 1, false, 1).data(), rows.map((r) => Math.sqrt(variance(r, 1))), { atol: 1e-6 });
    const lse = rows.map((r) => Math.log(sum(r.map(Math.exp))));
    assertClose(await kiln.logsumexp(A, 1).data(), lse, { atol: 1e-6 });
    const softmax = rows.map((r, i) => r.map((x) => Math.exp(x - lse[i])));
    assertClose(await kiln.softmax(A).data(), softmax, { atol: 1e-6 });
    const cumsum = rows.map((r) => r.map((_, j) => sum(r.slice(0, j + 1))));
    assertClose(await kiln.cumsum(A, 1).data(), cumsum, { atol: 1e-5 });
  });
});

describe('transforms', () => {
  const t = [0.5, 1.0, -2.0];
  // f(t) = sum(t tanh t): f' = tanh t + t sech^2 t, f'' = 2 sech^2 t (1 - t tanh t).
  const f = (x) => kiln.sum(kiln.tanh(x).mul(x));
  const sech2 = (v) => 1 - Math.tanh(v) ** 2;
  const df = t.map((v) => Math.tanh(v) + v * sech2(v));
  const d2f = t.map((v) => 2 * sech2(v) * (1 - v * Math.tanh(v)));

  test('grad matches the analytic derivative', async () => {
    const g = kiln.grad(f);
    assertClose(await g(kiln.array(t)).data(), df, { atol: 1e-6 });
    const g2 = kiln.grad((x) => kiln.sum(g(x)));
    assertClose(await g2(kiln.array(t)).data(), d2f, { atol: 2e-6 });
  });

  test('the README example: grad of grad of sum(sin(t) t)', async () => {
    // d2/dt2 sin(t) t = 2 cos t - t sin t. WGSL specifies sin and cos to
    // 2^-11 absolute error only, hence the tolerance.
    const h = (x) => kiln.sum(kiln.sin(x).mul(x));
    const dh = kiln.grad(h);
    const d2h = kiln.grad((x) => kiln.sum(dh(x)));
    const expected = t.map((v) => 2 * Math.cos(v) - v * Math.sin(v));
    assertClose(await d2h(kiln.array(t)).data(), expected, { atol: 4 * 2 ** -11 });
  });

  test('valueAndGrad and several argnums', async () => {
    const [value, g] = kiln.valueAndGrad(f)(kiln.array(t));
    assertClose(await value.item(), t.reduce((s, v) => s + Math.tanh(v) * v, 0), { atol: 1e-6 });
    assertClose(await g.data(), df, { atol: 1e-6 });

    // d/dx sum(x y^2) = y^2, d/dy = 2 x y.
    const x = [1, 2, 3];
    const y = [-1, 0.5, 2];
    const [gx, gy] = kiln.grad((p, q) => kiln.sum(p.mul(q).mul(q)), [0, 1])(kiln.array(x), kiln.array(y));
    assertClose(await gx.data(), y.map((v) => v * v));
    assertClose(await gy.data(), x.map((v, i) => 2 * v * y[i]));
  });

  test('jvp, vmap and jacobian', async () => {
    // Forward mode: d/dt exp(t) in direction v is exp(t) v. The output and
    // its tangent have the structure of f's output: here one array.
    const v = [1, -1, 2];
    const [out, tangent] = kiln.jvp((x) => kiln.exp(x), [kiln.array(t)], [kiln.array(v)]);
    assertClose(await out.data(), t.map(Math.exp), { atol: 1e-6 });
    assertClose(await tangent.data(), t.map((x, i) => Math.exp(x) * v[i]), { atol: 1e-6 });

    // vmap of a row dot product over a batch of rows.
    const rows = [[1, 2], [3, 4], [5, 6]];
    const w = [0.5, -1];
    const dots = kiln.vmap((r, u) => kiln.sum(r.mul(u)), [0, null])(kiln.array(rows), kiln.array(w));
    assertClose(await dots.data(), rows.map((r) => r[0] * w[0] + r[1] * w[1]));

    // The Jacobian of x -> x^2 is diag(2x).
    const jac = kiln.jacobian((x) => x.mul(x))(kiln.array(t));
    assertClose(await jac.data(), t.map((a, i) => t.map((_, j) => (i === j ? 2 * a : 0))));
  });
});

describe('pytrees', () => {
  // A two-layer model's parameters as a nested tree.
  const W1 = [[0.5, -1], [2, 0.25], [-0.5, 1.5]]; // 3 x 2
  const b1 = [0.1, -0.2];
  const W2 = [[1], [-2]]; // 2 x 1
  const X = [[1, 2, 3], [-1, 0.5, 2]]; // 2 x 3
  const Y = [[1], [0]];
  const params = () => ({
    layers: [{ w: kiln.array(W1), b: kiln.array(b1) }, { w: kiln.array(W2), b: null }],
    scale: kiln.array(2),
  });
  const model = (p, x) => {
    const h = kiln.tanh(kiln.matmul(x, p.layers[0].w).add(p.layers[0].b));
    return kiln.matmul(h, p.layers[1].w).mul(p.scale);
  };
  const loss = (p, x, y) => kiln.mean(kiln.square(model(p, x).sub(y)));
  // The same model in plain JS, for finite differences.
  const plainLoss = (w1, bias, w2, scale) => {
    let total = 0;
    X.forEach((row, r) => {
      const h = [0, 1].map((j) => Math.tanh(row.reduce((acc, v, i) => acc + v * w1[i][j], 0) + bias[j]));
      const out = (h[0] * w2[0][0] + h[1] * w2[1][0]) * scale;
      total += (out - Y[r][0]) ** 2;
    });
    return total / X.length;
  };

  test('tree.flatten, unflatten, leaves, structure and map', async () => {
    const p = params();
    const [leaves, def] = kiln.tree.flatten(p);
    // Keys sorted, null an empty subtree, numbers-only lists one leaf.
    assert.equal(leaves.length, 4);
    assert.equal(String(def), '{"layers": [{"b": *, "w": *}, {"b": null, "w": *}], "scale": *}');
    assert.equal(kiln.tree.leaves({ data: [1, 2, 3], none: null }).length, 1);
    const rebuilt = kiln.tree.unflatten(def, leaves);
    assert.equal(rebuilt.layers[1].b, null);
    assert.equal(rebuilt.layers[0].w, p.layers[0].w);
    assert.equal(String(kiln.tree.structure(rebuilt)), String(def));
    const doubled = kiln.tree.map((a, b) => a.add(b), p, p);
    assertClose(await doubled.layers[0].w.array(), W1.map((r) => r.map((v) => 2 * v)));
    assert.throws(() => kiln.tree.map((a, b) => a.add(b), p, { scale: p.scale }), /\[tree.map\] tree 2 has the structure/);
    assert.throws(() => kiln.tree.unflatten(def, leaves.slice(1)), /\[tree.unflatten\] .* has 4 leaves, got 3/);
    assert.throws(() => kiln.tree.unflatten({}, leaves), /\[tree.unflatten\] expects a structure/);
    assert.throws(() => kiln.tree.map(5, p), /\[tree.map\] expects a function/);
  });

  test('valueAndGrad of a nested parameter tree matches finite differences', async () => {
    const [value, grads] = kiln.valueAndGrad(loss)(params(), kiln.array(X), kiln.array(Y));
    assertClose(await value.item(), plainLoss(W1, b1, W2, 2), { rtol: 1e-5 });
    assert.equal(String(kiln.tree.structure(grads)), String(kiln.tree.structure(params())));
    const h = 1e-3;
    const central = (perturb) => (plainLoss(...perturb(h)) - plainLoss(...perturb(-h))) / (2 * h);
    const bump = (m, i, j, d) => m.map((r, a) => r.map((v, b) => (a === i && b === j ? v + d : v)));
    const dW1 = W1.map((r, i) => r.map((_, j) => central((d) => [bump(W1, i, j, d), b1, W2, 2])));
    const db1 = b1.map((_, j) => central((d) => [W1, b1.map((v, k) => (k === j ? v + d : v)), W2, 2]));
    const dW2 = W2.map((r, i) => r.map((_, j) => central((d) => [W1, b1, bump(W2, i, j, d), 2])));
    const dScale = central((d) => [W1, b1, W2, 2 + d]);
    assertClose(await grads.layers[0].w.array(), dW1, { rtol: 1e-3, atol: 1e-4 });
    assertClose(await grads.layers[0].b.array(), db1, { rtol: 1e-3, atol: 1e-4 });
    assertClose(await grads.layers[1].w.array(), dW2, { rtol: 1e-3, atol: 1e-4 });
    assert.equal(grads.layers[1].b, null);
    assertClose(await grads.scale.item(), dScale, { rtol: 1e-3, atol: 1e-4 });
  });

  test('hasAux returns the auxiliary tree beside the gradient', async () => {
    const withAux = (p, x, y) => {
      const out = model(p, x);
      return [kiln.mean(kiln.square(out.sub(y))), { predictions: out, label: 'mse' }];
    };
    const [grads, aux] = kiln.grad(withAux, { hasAux: true })(params(), kiln.array(X), kiln.array(Y));
    const [[value, aux2], grads2] = kiln.valueAndGrad(withAux, { argnums: 0, hasAux: true })(params(), kiln.array(X), kiln.array(Y));
    assert.equal(aux.label, 'mse');
    assert.deepEqual(aux.predictions.shape, [2, 1]);
    assertClose(await aux.predictions.data(), await aux2.predictions.data());
    assertClose(await value.item(), plainLoss(W1, b1, W2, 2), { rtol: 1e-5 });
    assertClose(await grads.scale.item(), await grads2.scale.item());
    assert.throws(() => kiln.grad((p) => kiln.sum(p), { hasAux: true })(kiln.array([1])), /\[grad\].*\[output, aux\]/);
    assert.throws(() => kiln.grad(loss, { argnum: 0 }), /\[grad\] unknown option argnum/);
  });

  test('argnums over several tree arguments', async () => {
    const f = (a, b) => kiln.sum(a.x.mul(b[0])).add(kiln.sum(b[1]));
    const [ga, gb] = kiln.grad(f, [0, 1])({ x: kiln.array([1, 2]) }, [kiln.array([3, 4]), kiln.array([5, 6])]);
    assertClose(await ga.x.data(), [3, 4]);
    assertClose(await gb[0].data(), [1, 2]);
    assertClose(await gb[1].data(), [1, 1]);
    assert.throws(() => kiln.grad(f, 2)({ x: kiln.array([1]) }, [kiln.array([1]), kiln.array([1])]), /\[grad\] argnums 2 is out of range/);
  });

  test('vjp and jvp over trees agree: <w, J v> = <J^T w, v>', async () => {
    const f = (p) => ({ y: kiln.sin(p.a).mul(p.b), z: [kiln.sum(kiln.exp(p.a))] });
    const primal = { a: kiln.array([0.3, -0.7]), b: kiln.array([2, 0.5]) };
    const tangent = { a: kiln.array([1, 2]), b: kiln.array([-1, 0.5]) };
    const cot = { y: kiln.array([0.25, -1]), z: [kiln.array(3)] };
    const [out, jv] = kiln.jvp(f, [primal], [tangent]);
    const [out2, [jtw]] = kiln.vjp(f, [primal], cot);
    assert.equal(String(kiln.tree.structure(jv)), '{"y": *, "z": [*]}');
    assert.equal(String(kiln.tree.structure(jtw)), '{"a": *, "b": *}');
    assertClose(await out.y.data(), await out2.y.data());
    const dot = async (p, q) => {
      let total = 0;
      for (const [u, v] of kiln.tree.leaves(p).map((l, i) => [l, kiln.tree.leaves(q)[i]])) {
        total += await kiln.sum(u.mul(v)).item();
      }
      return total;
    };
    assertClose(await dot(cot, jv), await dot(jtw, tangent), { rtol: 1e-5 });
    assert.throws(() => kiln.jvp(f, [primal], [{ a: tangent.a }]), /\[jvp\] the tangents must have the structure/);
    assert.throws(() => kiln.vjp(f, [primal], { y: cot.y }), /\[vjp\]/);
    const [, , aux] = kiln.vjp((p) => [kiln.sum(p.a), 'seen'], [primal], kiln.array(1), { hasAux: true });
    assert.equal(aux, 'seen');
  });

  test('vmap maps over trees with per-leaf axes and stacks tree outputs', async () => {
    const rows = [[1, 2], [3, 4], [5, 6]];
    const f = (p, x) => ({ dot: kiln.sum(x.mul(p.w)), shifted: x.add(p.b) });
    const p = { w: kiln.array([0.5, -1]), b: kiln.array(10) };
    const out = kiln.vmap(f, [null, 0])(p, kiln.array(rows));
    assertClose(await out.dot.data(), rows.map((r) => r[0] * 0.5 - r[1]));
    assertClose(await out.shifted.array(), rows.map((r) => r.map((v) => v + 10)));
    // A tree of axes: w mapped along its axis 0 together with x.
    const perLeaf = kiln.vmap(f, [{ w: 0, b: null }, 0], { dot: 0, shifted: 1 })(
      { w: kiln.array([[1, 0], [0, 1], [1, 1]]), b: kiln.array(0) }, kiln.array(rows));
    assertClose(await perLeaf.dot.data(), [1, 4, 11]);
    assert.deepEqual(perLeaf.shifted.shape, [2, 3]);
    assert.throws(() => kiln.vmap(f, [{ w: 0 }, 0])(p, kiln.array(rows)), /\[vmap\] inAxes must be/);
  });

  test('jacobian, jacfwd and hessian of trees give trees of trees', async () => {
    // f(p) = { u: a * b (elementwise), v: sum(a^2) }.
    const f = (p) => ({ u: p.a.mul(p.b), v: kiln.sum(p.a.mul(p.a)) });
    const a = [1, 2];
    const b = [3, -1];
    const p = { a: kiln.array(a), b: kiln.array(b) };
    for (const jac of [kiln.jacobian(f), kiln.jacfwd(f), kiln.jacrev(f)]) {
      const J = jac(p);
      assertClose(await J.u.a.array(), [[b[0], 0], [0, b[1]]]);
      assertClose(await J.u.b.array(), [[a[0], 0], [0, a[1]]]);
      assert.deepEqual(J.v.a.shape, [2]);
      assertClose(await J.v.a.data(), a.map((x) => 2 * x));
      assertClose(await J.v.b.data(), [0, 0]);
    }
    // One array in, a tree out.
    const J1 = kiln.jacobian((x) => [x.mul(2), kiln.sum(x)])(kiln.array(a));
    assertClose(await J1[0].array(), [[2, 0], [0, 2]]);
    assertClose(await J1[1].data(), [1, 1]);
    // hessian of sum(a^2 b): d2/da2 = diag(2b), d2/dadb = diag(2a), d2/db2 = 0.
    const H = kiln.hessian((q) => kiln.sum(q.a.mul(q.a).mul(q.b)))(p);
    assertClose(await H.a.a.array(), [[2 * b[0], 0], [0, 2 * b[1]]]);
    assertClose(await H.a.b.array(), [[2 * a[0], 0], [0, 2 * a[1]]]);
    assertClose(await H.b.a.array(), [[2 * a[0], 0], [0, 2 * a[1]]]);
    assertClose(await H.b.b.array(), [[0, 0], [0, 0]]);
  });

  test('compile takes and returns trees, retracing per structure', async () => {
    const step = kiln.compile((p, x) => ({ out: kiln.matmul(x, p.w).add(p.b), norm: kiln.sum(kiln.square(p.w)) }));
    const p = { w: kiln.array([[1, 2], [3, 4]]), b: kiln.array([0.5, -0.5]) };
    const first = step(p, kiln.array([[1, 1]]));
    const again = step(p, kiln.array([[2, 0]]));
    assertClose(await first.out.array(), [[4.5, 5.5]]);
    assertClose(await again.out.array(), [[2.5, 3.5]]);
    assertClose(await again.norm.item(), 30);
    const other = kiln.compile((p) => kiln.sum(kiln.tree.leaves(p).reduce((s, l) => s.add(kiln.sum(l)), kiln.array(0))));
    assertClose(await other({ a: kiln.array([1, 2]) }).item(), 3);
    assertClose(await other({ a: kiln.array([1, 2]), b: [kiln.array(4)] }).item(), 7);
  });

  test('checkpoint and customVjp in JS', async () => {
    // checkpoint gives the same gradient as the plain function.
    const block = (p, x) => kiln.sum(kiln.tanh(x.mul(p.w)).mul(p.v));
    const p = { w: kiln.array([0.5, -1, 2]), v: kiln.array([1, 2, 3]) };
    const x = kiln.array([1, 0.5, -0.25]);
    const plain = kiln.grad(block)(p, x);
    const saved = kiln.grad(kiln.checkpoint(block))(p, x);
    assertClose(await saved.w.data(), await plain.w.data(), { atol: 1e-6 });
    assertClose(await saved.v.data(), await plain.v.data(), { atol: 1e-6 });
    // A gradient clipped to [-1, 1] on the way back (Rust's doc example).
    const clipped = kiln.customVjp((t) => t, (primals, out, ct) => [kiln.clip(ct, -1, 1)]);
    const g = kiln.grad((t) => kiln.sum(clipped(t).mul(3)))(kiln.array([2, -5]));
    assertClose(await g.data(), [1, 1]);
    // Forward values go through f.
    assertClose(await clipped(kiln.array([7])).data(), [7]);
    const wrong = kiln.customVjp((t) => t, () => [kiln.array(1), kiln.array(2)]);
    assert.throws(() => kiln.grad((t) => kiln.sum(wrong(t)))(kiln.array([1])), /\[custom_vjp\].*one cotangent per argument/);
  });
});

describe('modules and optimizers', () => {
  // A model class of one's own: children in a list and an object, a
  // parameter of its own.
  class Net extends kiln.nn.Module {
    constructor() {
      super();
      this.layers = [new kiln.nn.Linear(3, 4, { key: kiln.random.key(1) }), new kiln.nn.Linear(4, 2, { key: kiln.random.key(2) })];
      this.head = { out: new kiln.nn.Linear(2, 1, { bias: false, key: kiln.random.key(3) }) };
      this.scale = kiln.array([1.5]);
      this.label = 'not a parameter';
    }

    forward(x) {
      return kiln.tidy(() => {
        const h = kiln.tanh(this.layers[1].forward(kiln.tanh(this.layers[0].forward(x))));
        return this.head.out.forward(h).mul(this.scale);
      });
    }
  }

  test('parameters() is a pytree named as the Rust modules name theirs', async () => {
    const net = new Net();
    const paths = kiln.tree.flattenWithPaths(net.parameters()).map(([p]) => p);
    assert.deepEqual(paths, ['head.out.weight', 'layers.0.bias', 'layers.0.weight', 'layers.1.bias', 'layers.1.weight', 'scale']);
    assert.equal(net.numParameters(), 4 * 3 + 4 + 2 * 4 + 2 + 2 + 1);
    net.freeze('layers.0');
    assert.deepEqual(kiln.tree.flattenWithPaths(net.trainableParameters()).map(([p]) => p),
      ['head.out.weight', 'layers.1.bias', 'layers.1.weight', 'scale']);
    net.unfreeze();
    assert.equal(kiln.tree.leaves(net.trainableParameters()).length, 6);
    // Linear starts as Rust's: uniform in +-1/sqrt(in) from the key's first split.
    const w = await net.layers[0].weight.array();
    assert.ok(w.flat().every((v) => Math.abs(v) <= 1 / Math.sqrt(3)));
    const again = new kiln.nn.Linear(3, 4, { key: kiln.random.key(1) });
    assert.deepEqual(await again.weight.array(), w);
    const expected = kiln.random.uniform(kiln.slice(kiln.random.split(kiln.random.key(1), 2), [0]), [4, 3], -1 / Math.sqrt(3), 1 / Math.sqrt(3));
    assert.deepEqual(await expected.array(), w);
    // update: checked before anything changes.
    const before = net.scale;
    assert.throws(() => net.update({ scale: kiln.array([1, 2]) }), /\[update\] parameter scale is float32 \(1\), got float32 \(2\)/);
    assert.throws(() => net.update({ layers: [null, { bogus: kiln.array(1) }] }), /\[update\] the module has no parameter named "layers.1.bogus"/);
    assert.equal(net.scale, before);
    net.update({ scale: kiln.array([2]) });
    assertClose(await net.scale.data(), [2]);
    assert.equal(net.eval().layers[1].isTraining, false);
    assert.equal(net.train().head.out.isTraining, true);
  });

  test('Sequential names layers by position and chains them', async () => {
    const model = new kiln.nn.Sequential(new kiln.nn.Linear(2, 3, { key: kiln.random.key(4) }), new kiln.nn.ReLU(),
      new kiln.nn.Linear(3, 1, { key: kiln.random.key(5) }));
    assert.deepEqual(kiln.tree.flattenWithPaths(model.parameters()).map(([p]) => p), ['0.bias', '0.weight', '2.bias', '2.weight']);
    const x = kiln.array([[1, -2], [0.5, 3]]);
    const [l0, , l2] = model.layers;
    const manual = kiln.add(kiln.matmul(kiln.nn.relu(kiln.add(kiln.matmul(x, l0.weight.T), l0.bias)), l2.weight.T), l2.bias);
    assertClose(await model.forward(x).data(), await manual.data(), { atol: 1e-6 });
    model.freeze('0');
    assert.deepEqual(kiln.tree.flattenWithPaths(model.trainableParameters()).map(([p]) => p), ['2.bias', '2.weight']);
  });

  test('nn.valueAndGrad and an optimizer train a model, memory flat under tidy', async () => {
    // y = 2 x - 1 from 16 points.
    const xs = kiln.array(Array.from({ length: 16 }, (_, i) => [i / 8 - 1]));
    const ys = xs.mul(2).sub(1);
    const model = new kiln.nn.Linear(1, 1, { key: kiln.random.key(6) });
    const lossFn = (x, y) => kiln.mean(kiln.square(model.forward(x).sub(y)));
    const step = kiln.nn.valueAndGrad(model, lossFn);
    const opt = kiln.optimizers.SGD(0.5);
    // Collect earlier tests' garbage first, so that the counts below are this loop's.
    globalThis.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const counts = [];
    let loss = Infinity;
    for (let i = 0; i < 60; i++) {
      const value = kiln.tidy(() => {
        const [current, grads] = step(xs, ys);
        assert.deepEqual(Object.keys(grads).sort(), ['bias', 'weight']);
        opt.update(model, grads);
        return current;
      });
      loss = await value.item();
      value.dispose();
      counts.push(kiln.memory().numArrays);
    }
    assert.ok(loss < 1e-6, `loss ${loss}`);
    assertClose(await model.weight.data(), [2], { atol: 1e-3 });
    assertClose(await model.bias.data(), [-1], { atol: 1e-3 });
    assert.equal(opt.steps, 60);
    // Other tests' arrays may be collected meanwhile: the count must not grow.
    assert.ok(counts.at(-1) <= counts[5], `live arrays grew over the steps: ${counts[5]} -> ${counts.at(-1)}`);
    // A frozen parameter is left alone.
    model.freeze('bias');
    const bias = await model.bias.data();
    kiln.tidy(() => opt.update(model, step(xs, ys.add(1))[1]));
    assert.deepEqual(await model.bias.data(), bias);
  });

  test('update rules match their formulas (SGD momentum, Adam, AdamW, Lion, RMSprop, Adagrad)', async () => {
    const p0 = [1, -2, 0.5];
    const gradsAt = [[0.1, -0.3, 0.2], [0.05, 0.4, -0.1], [-0.2, 0.1, 0.3]];
    const lr = 0.1;
    const run = async (opt) => {
      let params = { w: kiln.array(p0) };
      for (const g of gradsAt) {
        const next = opt.apply(params, { w: kiln.array(g) });
        params = next;
      }
      return params.w.data();
    };
    // Plain-JS references, per element (PyTorch's formulas).
    const reference = (update) => p0.map((p, i) => {
      const state = {};
      gradsAt.forEach((g, t) => { p = update(p, g[i], t + 1, state); });
      return p;
    });
    const sgd = reference((p, g, t, s) => {
      s.b = t === 1 ? g : 0.9 * s.b + g;
      return p - lr * s.b;
    });
    const adam = (decoupled, wd) => reference((p, g, t, s) => {
      const [b1, b2, eps] = [0.9, 0.999, 1e-8];
      if (!decoupled) g += wd * p;
      s.m = b1 * (s.m ?? 0) + (1 - b1) * g;
      s.v = b2 * (s.v ?? 0) + (1 - b2) * g * g;
      const mh = s.m / (1 - b1 ** t);
      const vh = s.v / (1 - b2 ** t);
      if (decoupled) p *= 1 - lr * wd;
      return p - lr * mh / (Math.sqrt(vh) + eps);
    });
    const lion = reference((p, g, t, s) => {
      const [b1, b2, wd] = [0.9, 0.99, 0.1];
      const m = s.m ?? 0;
      const c = b1 * m + (1 - b1) * g;
      s.m = b2 * m + (1 - b2) * g;
      return p * (1 - lr * wd) - lr * Math.sign(c);
    });
    const rmsprop = reference((p, g, t, s) => {
      s.v = 0.99 * (s.v ?? 0) + 0.01 * g * g;
      return p - lr * g / (Math.sqrt(s.v) + 1e-8);
    });
    const adagrad = reference((p, g, t, s) => {
      s.v = (s.v ?? 0) + g * g;
      return p - lr * g / (Math.sqrt(s.v) + 1e-10);
    });
    const o = kiln.optimizers;
    assertClose(await run(o.SGD(lr, { momentum: 0.9 })), sgd, { rtol: 1e-5 });
    assertClose(await run(o.Adam(lr)), adam(false, 0), { rtol: 1e-5 });
    assertClose(await run(o.Adam(lr, { weightDecay: 0.1 })), adam(false, 0.1), { rtol: 1e-5 });
    assertClose(await run(o.AdamW(lr, { weightDecay: 0.1 })), adam(true, 0.1), { rtol: 1e-5 });
    assertClose(await run(o.Lion(lr, { weightDecay: 0.1 })), lion, { rtol: 1e-5 });
    assertClose(await run(o.RMSprop(lr)), rmsprop, { rtol: 1e-5 });
    assertClose(await run(o.Adagrad(lr)), adagrad, { rtol: 1e-5 });
    assert.throws(() => o.Adam(lr, { betas: [0.9, 1] }), /\[Adam\] betas\[1\] must be/);
    assert.throws(() => o.SGD(lr, { momentun: 0.9 }), /\[SGD\] unknown option momentun/);
    assert.throws(() => o.SGD(-1), /\[SGD\] the learning rate must be/);
    assert.throws(() => o.SGD(lr).apply({ w: kiln.array([1]) }, { v: kiln.array([1]) }), /the parameters have no "v" for its gradient/);
  });

  test('schedules, clipping, and optimizer state saved and restored', async () => {
    const o = kiln.optimizers;
    const cos = o.cosineDecay(1, 10, 0.1);
    assertClose([cos(0), cos(5), cos(10), cos(20)], [1, 0.55, 0.1, 0.1], { rtol: 1e-12 });
    const warm = o.joinSchedules([o.linearSchedule(0, 1, 4), o.stepDecay(1, 0.5, 2)], [4]);
    assertClose([warm(0), warm(2), warm(4), warm(6), warm(9)], [0, 0.5, 1, 0.5, 0.25], { rtol: 1e-12 });
    assertClose([o.exponentialDecay(2, 0.5)(3)], [0.25]);
    const [clipped, norm] = o.clipGradNorm({ a: kiln.array([3]), b: [kiln.array([4])] }, 1);
    assertClose(await norm.item(), 5);
    assertClose(await clipped.a.data(), [3 / (5 + 1e-6)]);
    assertClose(await clipped.b[0].data(), [4 / (5 + 1e-6)]);

    // Two steps, state saved, three more from the saved state = five in a row.
    const grads = [[0.1, -0.2], [0.3, 0.1], [-0.1, 0.2], [0.2, 0.2], [0.05, -0.3]];
    const steps = (opt, params, from, to) => {
      for (let t = from; t < to; t++) params = opt.apply(params, { w: kiln.array(grads[t]) });
      return params;
    };
    const straight = steps(o.Adam(o.cosineDecay(0.1, 5)), { w: kiln.array([1, 1]) }, 0, 5);
    const first = o.Adam(o.cosineDecay(0.1, 5));
    const half = steps(first, { w: kiln.array([1, 1]) }, 0, 2);
    const saved = first.state();
    assert.deepEqual(Object.keys(saved).sort(), ['m.w', 'step', 'step.w', 'v.w']);
    const second = o.Adam(o.cosineDecay(0.1, 5));
    await second.loadState(saved);
    assert.equal(second.steps, 2);
    const resumed = steps(second, half, 2, 5);
    assertClose(await resumed.w.data(), await straight.w.data(), { rtol: 1e-6 });
    await assert.rejects(second.loadState({ step: kiln.array(1, 'uint32'), 'q.w': kiln.array([1, 1]) }), /not a slot of this optimizer/);
  });
});

describe('layers and their functions', () => {
  // Plain-JS references.
  const meanOf = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const standardize = (xs, eps) => {
    const m = meanOf(xs);
    const v = meanOf(xs.map((x) => (x - m) ** 2));
    return xs.map((x) => (x - m) / Math.sqrt(v + eps));
  };

  test('layerNorm, rmsNorm and groupNorm against their formulas', async () => {
    const rows = [[1, 2, 4, 7], [-1, 0.5, 3, 3]];
    const w = [1, 2, 0.5, -1];
    const b = [0, 1, 0, 2];
    const ln = kiln.nn.layerNorm(rows, { weight: w, bias: b, eps: 1e-5 });
    assertClose(await ln.array(), rows.map((r) => standardize(r, 1e-5).map((v, i) => v * w[i] + b[i])), { atol: 1e-5 });
    const rms = kiln.nn.rmsNorm(rows, { weight: w });
    assertClose(await rms.array(), rows.map((r) => {
      const s = Math.sqrt(meanOf(r.map((v) => v * v)) + 1e-5);
      return r.map((v, i) => (v / s) * w[i]);
    }), { atol: 1e-5 });
    // (N=1, positions=2, C=4) in 2 groups of 2 channels.
    const x = [[[1, 2, 3, 4], [5, 6, 7, 9]]];
    const gn = kiln.nn.groupNorm(x, 2);
    const g0 = standardize([1, 2, 5, 6], 1e-5);
    const g1 = standardize([3, 4, 7, 9], 1e-5);
    assertClose(await gn.array(), [[[g0[0], g0[1], g1[0], g1[1]], [g0[2], g0[3], g1[2], g1[3]]]], { atol: 1e-5 });
    const layer = new kiln.nn.LayerNorm(4);
    assertClose(await layer.forward(rows).array(), rows.map((r) => standardize(r, 1e-5)), { atol: 1e-5 });
    assert.deepEqual(Object.keys(layer.parameters()), ['bias', 'weight']);
    assert.deepEqual(Object.keys(new kiln.nn.LayerNorm(4, { affine: false }).parameters()), []);
    assert.throws(() => kiln.nn.layerNorm(rows, { weight: [1, 2] }), /\[layer_norm\] the weight must have shape \(4\)/);
    assert.throws(() => kiln.nn.groupNorm(x, 3), /\[group_norm\] 4 channels cannot be split into 3 groups/);
    assert.throws(() => new kiln.nn.LayerNorm(4, { epsilon: 1 }), /\[LayerNorm\] unknown option epsilon/);
  });

  test('BatchNorm normalises by the batch in training, by its running statistics after', async () => {
    const bn = new kiln.nn.BatchNorm(2, { momentum: 0.5 });
    assert.deepEqual(Object.keys(bn.parameters()), ['bias', 'running_mean', 'running_var', 'weight']);
    assert.deepEqual(Object.keys(bn.trainableParameters()), ['bias', 'weight']);
    const X = [[1, 10], [3, 20], [5, 60]];
    const cols = [0, 1].map((c) => X.map((r) => r[c]));
    const y = await bn.forward(kiln.array(X)).array();
    const normed = cols.map((c) => standardize(c, 1e-5));
    assertClose(y, X.map((_, r) => [normed[0][r], normed[1][r]]), { atol: 1e-5 });
    // running = 0.5 running + 0.5 batch (unbiased variance).
    const unbiased = (c) => { const m = meanOf(c); return c.reduce((s, v) => s + (v - m) ** 2, 0) / (c.length - 1); };
    assertClose(await bn.running_mean.data(), cols.map((c) => 0.5 * meanOf(c)), { rtol: 1e-6 });
    assertClose(await bn.running_var.data(), cols.map((c) => 0.5 + 0.5 * unbiased(c)), { rtol: 1e-5 });
    const rm = await bn.running_mean.data();
    const rv = await bn.running_var.data();
    bn.eval();
    assertClose(await bn.forward(kiln.array([[2, 30]])).data(), [0, 1].map((c) => ([2, 30][c] - rm[c]) / Math.sqrt(rv[c] + 1e-5)), { atol: 1e-5 });
    assert.deepEqual(await bn.running_mean.data(), rm, 'evaluation leaves the statistics alone');
    // Gradients skip the buffers.
    bn.train();
    const [, grads] = kiln.nn.valueAndGrad(bn, (x) => kiln.sum(kiln.square(bn.forward(x))))(kiln.array(X));
    assert.deepEqual(Object.keys(grads), ['bias', 'weight']);
  });

  test('conv1d, conv2d and pooling against direct loops', async () => {
    // x (1, 4, 4, 2), weight (3, 2, 2, 2): stride 1, padding 1.
    const X = Array.from({ length: 4 }, (_, i) => Array.from({ length: 4 }, (_, j) => [i + j * 0.5, i * j - 1]));
    const W = Array.from({ length: 3 }, (_, o) => Array.from({ length: 2 }, (_, a) =>
      Array.from({ length: 2 }, (_, c) => [o - a + c * 0.25, (o + 1) * 0.5 - a * c])));
    const pad = 1;
    const at = (i, j, c) => (i < 0 || j < 0 || i >= 4 || j >= 4 ? 0 : X[i][j][c]);
    const direct = [];
    for (let i = 0; i < 5; i++) {
      const row = [];
      for (let j = 0; j < 5; j++) {
        row.push(W.map((wo) => {
          let sum = 0;
          for (let a = 0; a < 2; a++) for (let c = 0; c < 2; c++) for (let ch = 0; ch < 2; ch++) {
            sum += at(i + a - pad, j + c - pad, ch) * wo[a][c][ch];
          }
          return sum;
        }));
      }
      direct.push(row);
    }
    assertClose(await kiln.nn.conv2d([X], W, { padding: pad }).array(), [direct], { atol: 1e-5 });
    // conv1d: the first row as (1, 4, 2) with the kernels' first rows.
    const conv1 = kiln.nn.conv1d([X[0]], W.map((wo) => wo[0]), { stride: 2 });
    const direct1 = [0, 2].map((j) => W.map((wo) => [0, 1].reduce((s, c) => s + X[0][j + c][0] * wo[0][c][0] + X[0][j + c][1] * wo[0][c][1], 0)));
    assertClose(await conv1.array(), [direct1], { atol: 1e-5 });
    // Pools of 2 x 2 windows, stride 2.
    const pooled = (f) => [0, 2].map((i) => [0, 2].map((j) => [0, 1].map((c) =>
      f([X[i][j][c], X[i + 1][j][c], X[i][j + 1][c], X[i + 1][j + 1][c]]))));
    assertClose(await kiln.nn.maxPool2d([X], 2).array(), [pooled((v) => Math.max(...v))]);
    assertClose(await new kiln.nn.AvgPool2d(2).forward(kiln.array([X])).array(), [pooled(meanOf)], { atol: 1e-6 });
    // The layer draws its weight as the Rust Conv2d: uniform in +-1/sqrt(fan in) from the key's first split.
    const layer = new kiln.nn.Conv2d(2, 3, 2, { key: kiln.random.key(9) });
    assert.deepEqual(layer.weight.shape, [3, 2, 2, 2]);
    const drawn = kiln.random.uniform(kiln.slice(kiln.random.split(kiln.random.key(9), 2), [0]), [3, 2, 2, 2], -Math.sqrt(1 / 8), Math.sqrt(1 / 8));
    assert.deepEqual(await layer.weight.array(), await drawn.array());
    assert.deepEqual(layer.forward(kiln.array([X])).shape, [1, 3, 3, 3]);
    assert.throws(() => new kiln.nn.Conv2d(3, 4, 2, { groups: 2 }), /\[Conv2d\] 3 input and 4 output channels cannot be split into 2 groups/);
    assert.throws(() => kiln.nn.conv2d([X], W, { stride: 0 }), /\[conv2d\] stride must be a positive integer/);
  });

  test('scaledDotProductAttention with a causal mask against a plain softmax', async () => {
    const q = [[1, 0], [0, 1], [1, 1]];
    const k = [[1, 2], [0, 1], [-1, 0.5]];
    const v = [[1, 0], [0, 2], [3, 1]];
    const expected = q.map((qi, i) => {
      const scores = k.map((kj, j) => (j <= i ? (qi[0] * kj[0] + qi[1] * kj[1]) / Math.sqrt(2) : -Infinity));
      const top = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - top));
      const total = e.reduce((a, b) => a + b, 0);
      return [0, 1].map((d) => e.reduce((s, w, j) => s + (w / total) * v[j][d], 0));
    });
    assertClose(await kiln.nn.scaledDotProductAttention(q, k, v, { causal: true }).array(), expected, { atol: 1e-6 });
  });

  test('Embedding, Dropout, losses and initialisers', async () => {
    const table = new kiln.nn.Embedding(5, 3, { key: kiln.random.key(10) });
    const rows = await table.weight.array();
    assert.deepEqual(await table.forward([4, 0, 4]).array(), [rows[4], rows[0], rows[4]]);
    assert.deepEqual(table.asLinear(kiln.ones([1, 3])).shape, [1, 5]);

    const drop = new kiln.nn.Dropout(0.25, { key: kiln.random.key(11) });
    const ones = kiln.ones([4000]);
    const first = await drop.forward(ones).data();
    const second = await drop.forward(ones).data();
    const zeros = first.filter((v) => v === 0).length;
    assert.ok(Math.abs(zeros / 4000 - 0.25) < 0.03, `dropped ${zeros} of 4000`);
    assert.ok(first.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
    assert.notDeepEqual(first, second, 'each call draws a fresh mask');
    assert.deepEqual(await drop.eval().forward([1, 2]).data(), new Float32Array([1, 2]));

    const x = [0.5, -1, 3];
    const t = [1, 1, 0];
    const d = x.map((v, i) => v - t[i]);
    assertClose(await kiln.nn.l1Loss(x, t).item(), meanOf(d.map(Math.abs)));
    assertClose(await kiln.nn.huberLoss(x, t, { delta: 1, reduction: 'sum' }).item(),
      d.reduce((s, e) => s + (Math.abs(e) < 1 ? 0.5 * e * e : Math.abs(e) - 0.5), 0), { rtol: 1e-6 });
    assertClose(await kiln.nn.binaryCrossEntropy(x, t).item(),
      meanOf(x.map((z, i) => Math.max(z, 0) - z * t[i] + Math.log1p(Math.exp(-Math.abs(z))))), { rtol: 1e-6 });
    const logp = [[Math.log(0.7), Math.log(0.3)], [Math.log(0.4), Math.log(0.6)]];
    assertClose(await kiln.nn.nllLoss(logp, [0, 1]).item(), -(Math.log(0.7) + Math.log(0.6)) / 2, { rtol: 1e-6 });
    assertClose(await kiln.nn.accuracy([[2, 1], [0, 3], [5, 4]], [0, 1, 1]).item(), 2 / 3, { rtol: 1e-6 });

    const key = kiln.random.key(12);
    const limit = Math.sqrt(6 / (30 + 20));
    const glorot = await kiln.nn.init.glorotUniform(key, [20, 30]).data();
    assert.ok(glorot.every((v) => Math.abs(v) <= limit) && Math.max(...glorot.map(Math.abs)) > 0.9 * limit);
    const trunc = await kiln.nn.init.truncatedNormal(key, [2000], { std: 0.5, lower: -1, upper: 1 }).data();
    assert.ok(trunc.every((v) => Math.abs(v) <= 0.5));
    assert.throws(() => kiln.nn.init.heNormal(key, [3], { gain: 2 }), /\[he_normal\] unknown option gain/);
    assert.throws(() => new kiln.nn.Dropout(1), /\[Dropout\] the drop probability must be in \[0, 1\)/);
  });
});

describe('attention modules', () => {
  const softmax = (row) => {
    const top = Math.max(...row);
    const e = row.map((v) => Math.exp(v - top));
    const total = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / total);
  };
  const linear = async (layer, x) => {
    const w = await layer.weight.array();
    const b = await layer.bias.array();
    return x.map((row) => w.map((wo, o) => row.reduce((s, v, i) => s + v * wo[i], b[o])));
  };

  test('MultiHeadAttention against per-head attention in plain JS', async () => {
    const mha = new kiln.nn.MultiHeadAttention(4, 2, { key: kiln.random.key(21) });
    assert.deepEqual(Object.keys(mha.parameters()), ['key_proj', 'out_proj', 'query_proj', 'value_proj']);
    const X = [[0.5, -1, 2, 0.25], [1, 0, -0.5, 1.5], [-1, 2, 0, 1]];
    const [q, k, v] = [await linear(mha.query_proj, X), await linear(mha.key_proj, X), await linear(mha.value_proj, X)];
    const heads = [0, 1].map((h) => {
      const cols = (m) => m.map((row) => row.slice(2 * h, 2 * h + 2));
      const [qh, kh, vh] = [cols(q), cols(k), cols(v)];
      return qh.map((qi, i) => {
        const w = softmax(kh.map((kj, j) => (j <= i ? (qi[0] * kj[0] + qi[1] * kj[1]) / Math.sqrt(2) : -Infinity)));
        return [0, 1].map((d) => w.reduce((sum, wj, j) => sum + wj * vh[j][d], 0));
      });
    });
    const joined = X.map((_, i) => [...heads[0][i], ...heads[1][i]]);
    const expected = await linear(mha.out_proj, joined);
    const got = await mha.forward(kiln.array([X]), { causal: true }).array();
    assertClose(got[0], expected, { atol: 1e-5 });
  });

  test('TransformerEncoderBlock keeps shapes, names parameters as Rust, and trains', async () => {
    const block = new kiln.nn.TransformerEncoderBlock(8, 2, { mlpDims: 16, normFirst: true, key: kiln.random.key(22) });
    const paths = kiln.tree.flattenWithPaths(block.parameters()).map(([p]) => p);
    assert.ok(paths.includes('attention.query_proj.weight') && paths.includes('linear2.bias') && paths.includes('norm1.weight'));
    assert.equal(paths.length, 4 * 2 + 2 * 2 + 2 * 2);
    const x = kiln.random.normal(kiln.random.key(23), [2, 5, 8]);
    assert.deepEqual(block.forward(x, { causal: true }).shape, [2, 5, 8]);
    const step = kiln.nn.valueAndGrad(block, (input) => kiln.mean(kiln.square(block.forward(input))));
    const [loss, grads] = step(x);
    assert.ok(Number.isFinite(await loss.item()));
    assert.deepEqual(grads.attention.out_proj.weight.shape, [8, 8]);
    assert.throws(() => new kiln.nn.TransformerEncoderBlock(8, 3), /\[TransformerEncoderBlock\] 8 dimensions cannot be split into 3 heads/);
    assert.throws(() => new kiln.nn.TransformerEncoderBlock(8, 2, { activation: 'swish' }), /activation must be one of/);
  });

  test('Rope turns feature pairs by position', async () => {
    // dims 4 of 6 features, halves paired: (x0, x2) and (x1, x3) turn by p * base^(-2i/4).
    const X = [[1, 2, 3, 4, 5, 6], [0.5, -1, 2, 1, 7, 8]];
    const offset = 3;
    const expected = X.map((row, l) => {
      const p = l + offset;
      const out = [...row];
      for (let i = 0; i < 2; i++) {
        const angle = p * 10000 ** (-2 * i / 4);
        out[i] = row[i] * Math.cos(angle) - row[i + 2] * Math.sin(angle);
        out[i + 2] = row[i] * Math.sin(angle) + row[i + 2] * Math.cos(angle);
      }
      return out;
    });
    assertClose(await new kiln.nn.Rope(4).forward(kiln.array(X), offset).array(), expected, { atol: 1e-5 });
    assert.throws(() => new kiln.nn.Rope(3), /\[Rope\] dims must be even/);
  });
});

describe('weights from Rust', () => {
  // examples/char_transformer.rs's model, small (tests/js_weights.rs writes its fixture).
  class CharModel extends kiln.nn.Module {
    constructor(seed) {
      super();
      const keys = [...kiln.random.split(kiln.random.key(seed), 4)];
      this.embed = new kiln.nn.Embedding(11, 16, { key: keys[0] });
      const drawn = this.embed.weight;
      this.embed.weight = kiln.keep(drawn.mul(1 / 4));
      drawn.dispose();
      this.blocks = [1, 2].map((i) => new kiln.nn.TransformerEncoderBlock(16, 2, { normFirst: true, activation: 'gelu', key: keys[i] }));
      this.norm = new kiln.nn.LayerNorm(16);
      this.head = new kiln.nn.Linear(16, 11, { key: keys[3] });
      kiln.dispose(keys);
    }

    forward(tokens) {
      return kiln.tidy(() => {
        let h = kiln.add(this.embed.forward(tokens), kiln.nn.sinusoidalPositions(tokens.shape[1], 16));
        for (const block of this.blocks) h = block.forward(h, { causal: true });
        return this.head.forward(this.norm.forward(h));
      });
    }
  }

  test('a model saved by Rust loads into the same model built from JS modules', async () => {
    const bytes = readFileSync(new URL('../../tests/fixtures/char_model.safetensors', import.meta.url));
    const { arrays, metadata } = await kiln.io.loadSafetensors(bytes, { metadata: true });
    const tokens = kiln.array(JSON.parse(metadata.tokens), 'int32');
    const expected = JSON.parse(metadata.logits);
    // Drawn from the same key, the JS modules hold the Rust model's weights:
    // bit for bit on a GPU (the fixture was drawn on one); on the CPU
    // backend within a rounding, as a GPU may fuse `u * span + low` into one
    // multiply-add.
    const same = new CharModel(5);
    const ours = kiln.tree.flattenWithPaths(same.parameters());
    assert.deepEqual(ours.map(([p]) => p), Object.keys(arrays));
    for (const [path, a] of ours) {
      if (onGpu) assert.deepEqual(await a.data(), await arrays[path].data(), path);
      else assertClose(await a.data(), await arrays[path].data(), { rtol: 2 ** -23, atol: 2 ** -24, what: path });
    }
    assertClose(await same.forward(tokens).data(), expected, { atol: 1e-4, rtol: 1e-4 });
    // Drawn from another key, then loaded from the file.
    const other = new CharModel(6);
    await other.loadWeights(bytes);
    assertClose(await other.forward(tokens).data(), expected, { atol: 1e-4, rtol: 1e-4 });
  });
});

describe('NumPy composite functions', () => {
  test('einsum, stacking, diff, meshgrid, tolerances, oneHot, statistics and convolution', async () => {
    const a = [[1, 2, 3], [4, 5, 6]];
    const b = [[1, 0], [0, 1], [2, -1]];
    assert.deepEqual(await kiln.einsum('ij,jk->ik', a, b).array(), [[7, -1], [16, -1]]);
    assert.deepEqual(await kiln.einsum('ii', [[1, 2], [3, 4]]).item(), 5);
    assert.deepEqual(await kiln.einsum('...i,...i', a, a).array(), [14, 77]);
    assert.deepEqual(await kiln.hstack([[1, 2], [3]]).array(), [1, 2, 3]);
    assert.deepEqual(await kiln.vstack([[1, 2], [3, 4]]).array(), [[1, 2], [3, 4]]);
    assert.deepEqual(await kiln.diff([1, 4, 9, 16], 2).array(), [2, 2]);
    const [gx, gy] = kiln.meshgrid([[1, 2, 3], [10, 20]]);
    assert.deepEqual(await gx.array(), [[1, 2, 3], [1, 2, 3]]);
    assert.deepEqual(await gy.array(), [[10, 10, 10], [20, 20, 20]]);
    assert.deepEqual(await kiln.isclose([1, 1, NaN], [1.000001, 1.1, NaN], { equalNan: true }).array(), [true, false, true]);
    assert.equal(await kiln.allclose([1, 2], [1, 2.5]).item(), false);
    assert.equal(await kiln.arrayEqual([1, 2], [1, 2]).item(), true);
    assert.deepEqual(await kiln.nanToNum([NaN, Infinity, 1], { posinf: 7 }).array(), [0, 7, 1]);
    assert.deepEqual(await kiln.oneHot([2, 0], 3).array(), [[0, 0, 1], [1, 0, 0]]);
    assertClose(await kiln.cov([[1, 2, 3, 4], [2, 4, 6, 9]]).array(), [[5 / 3, 11.5 / 3], [11.5 / 3, 26.75 / 3]], { rtol: 1e-5 });
    assertClose(await kiln.corrcoef([[1, 2, 3], [3, 2, 1]]).array(), [[1, -1], [-1, 1]], { atol: 1e-6 });
    assert.deepEqual(await kiln.convolve([1, 2, 3], [0, 1, 0.5]).array(), [0, 1, 2.5, 4, 1.5]);
    assert.deepEqual(await kiln.correlate([1, 2, 3], [0, 1, 0.5]).array(), [3.5]);
    // Gradients flow through them: d/dx sum(convolve(x, v)) = sum(v) for each x.
    const g = kiln.grad((x) => kiln.sum(kiln.convolve(x, [1, 2, 3])))(kiln.array([1, 1, 1, 1]));
    assert.deepEqual(await g.array(), [6, 6, 6, 6]);
  });
});

describe('JS conventions', () => {
  test('arrays iterate along axis 0; toString shows values once read; print reads them', async (t) => {
    const [k1, k2] = kiln.random.split(kiln.random.key(0));
    assert.deepEqual(k1.shape, [2]);
    assert.notDeepEqual(await k1.data(), await k2.data());
    const rows = [...kiln.array([[1, 2], [3, 4], [5, 6]])];
    assert.equal(rows.length, 3);
    assert.deepEqual(await rows[2].array(), [5, 6]);
    assert.throws(() => [...kiln.array(1)], /\[iterate\] a 0-d array/);
    const a = kiln.array([[1.5, 2], [3, 4]]);
    assert.match(String(a), /shape=\[2,2\], dtype=float32; read it with await a.array\(\)/);
    await a.data();
    assert.equal(String(a), 'Array([[1.5, 2.], [3., 4.]], dtype=float32)');
    const long = kiln.arange(0, 100, 1, 'int32');
    await long.data();
    assert.equal(String(long), 'Array([0, 1, 2, ..., 97, 98, 99], dtype=int32)');
    const logged = t.mock.method(console, 'log', () => {});
    await kiln.print('loss', kiln.array([true, false]));
    assert.deepEqual(logged.mock.calls[0].arguments, ['loss', 'Array([true, false], dtype=bool)']);
    logged.mock.restore();
    assert.equal(kiln.Array.name, 'Array');
    assert.equal(kiln.ones([1]).constructor.name, 'Array');
    assert.throws(() => kiln.zeros([2], 'f32'), /\[zeros\] unknown dtype string f32 \(float32, float16, int32, uint32, bool\)/);
  });
});

describe('io', () => {
  test('a safetensors file written by PyTorch loads with its dtypes converted', async () => {
    const bytes = readFileSync(new URL('../../tests/fixtures/torch_tensors.safetensors', import.meta.url));
    const { arrays, metadata } = await kiln.io.loadSafetensors(bytes, { metadata: true });
    assert.equal(metadata.writer, 'torch');
    const k = Array.from({ length: 12 }, (_, i) => i);
    assert.equal(arrays.float32.dtype, 'float32');
    assert.deepEqual(arrays.float32.shape, [3, 4]);
    assertClose(await arrays.float32.data(), k.map((v) => (v - 5.5) / 4), { rtol: 0, atol: 0 });
    assert.equal(arrays.bfloat16.dtype, 'float32');
    assertClose(await arrays.bfloat16.data(), k.map((v) => (v - 5.5) / 4), { rtol: 0, atol: 0 });
    assert.equal(arrays.int64.dtype, 'int32');
    assert.deepEqual(Array.from(await arrays.int64.data()), k.map((v) => v * 1000 - 4000));
    assert.deepEqual(Array.from(await arrays.uint8.data()), k.map((v) => v * 20));
    assert.deepEqual(await arrays.bool.array(), [[true, false, false], [true, false, false], [true, false, false], [true, false, false]]);
    assertClose(await arrays.scalar.item(), 2.5);
    await assert.rejects(kiln.io.loadSafetensors(bytes.subarray(0, 40)), /^Error: \[load_safetensors\] /);
  });

  test('weights round-trip through bytes, and loadWeights checks every name', async () => {
    const model = new kiln.nn.Sequential(new kiln.nn.Linear(3, 4, { key: kiln.random.key(7) }), new kiln.nn.Tanh(),
      new kiln.nn.Linear(4, 2, { key: kiln.random.key(8) }));
    const bytes = await model.saveWeights({ metadata: { note: 'two layers' } });
    const loaded = await kiln.io.loadSafetensors(bytes);
    assert.deepEqual(Object.keys(loaded), ['0.bias', '0.weight', '2.bias', '2.weight']);
    assert.deepEqual(await loaded['2.weight'].array(), await model.layers[2].weight.array());
    const other = new kiln.nn.Sequential(new kiln.nn.Linear(3, 4), new kiln.nn.Tanh(), new kiln.nn.Linear(4, 2));
    await other.loadWeights(bytes);
    const x = kiln.array([[1, 2, 3]]);
    assert.deepEqual(await other.forward(x).array(), await model.forward(x).array());
    // A tree of arrays saves by path too; the optimizer's state among them.
    const state = kiln.optimizers.Adam(0.1).state();
    const nested = await kiln.io.loadSafetensors(await kiln.io.saveSafetensors({ model: model.parameters(), state }));
    assert.ok('model.0.weight' in nested && 'state.step' in nested);
    const small = new kiln.nn.Linear(3, 1);
    await assert.rejects(small.loadWeights(bytes), /\[load_weights\] no value for the parameter "bias"/);
    await assert.rejects(small.loadWeights({ weight: kiln.ones([2, 3]), bias: kiln.ones([1]) }),
      /\[load_weights\] parameter weight is float32 \(1,3\), got float32 \(2,3\)/);
  });
});

describe('linalg', () => {
  const next = rng(4);
  // Diagonally dominant, so well conditioned.
  const wellConditioned = (n) => matrix(next, n, n).map((row, i) => row.map((v, j) => v + (i === j ? n : 0)));

  test('solve has a small residual', async () => {
    const a = wellConditioned(6);
    const b = matrix(next, 6, 2);
    const x = await kiln.linalg.solve(kiln.array(a), kiln.array(b)).array();
    const residual = maxAbs(matmul(a, x).map((row, i) => row.map((v, j) => v - b[i][j])));
    assert.ok(residual < 1e-5, `|Ax - b| = ${residual}`);

    // A vector right-hand side and a batch of systems.
    const vec = matrix(next, 1, 6)[0];
    const xv = await kiln.linalg.solve(kiln.array(a), kiln.array(vec)).data();
    const rv = maxAbs(matmul(a, Array.from(xv, (v) => [v])).map((r, i) => r[0] - vec[i]));
    assert.ok(rv < 1e-5, `|Ax - b| = ${rv} for a vector b`);
    const batch = [wellConditioned(4), wellConditioned(4), wellConditioned(4)];
    const rhs = batch.map(() => matrix(next, 4, 1));
    const xs = await kiln.linalg.solve(kiln.array(batch), kiln.array(rhs)).array();
    batch.forEach((m, k) => {
      const r = maxAbs(matmul(m, xs[k]).map((row, i) => row[0] - rhs[k][i][0]));
      assert.ok(r < 1e-5, `batch ${k}: |Ax - b| = ${r}`);
    });
  });

  test('det, inv and cholesky', async () => {
    const a = wellConditioned(5);
    assertClose(await kiln.linalg.det(kiln.array(a)).item(), det(a), { rtol: 1e-4 });
    const inv = await kiln.linalg.inv(kiln.array(a)).array();
    assertClose(matmul(a, inv), identity(5), { atol: 1e-5 });

    // A symmetric positive definite matrix: L L^T = S.
    const m = matrix(next, 5, 5);
    const s = matmul(m, transpose(m)).map((row, i) => row.map((v, j) => v + (i === j ? 1 : 0)));
    const l = await kiln.linalg.cholesky(kiln.array(s)).array();
    l.forEach((row, i) => row.forEach((v, j) => j > i && assert.equal(v, 0, `L[${i}][${j}] = ${v}`)));
    assertClose(matmul(l, transpose(l)), s, { atol: 1e-5 });
  });

  test('qr and svd reconstruct the matrix', async () => {
    const a = matrix(next, 6, 4);
    const [q, r] = kiln.linalg.qr(kiln.array(a));
    const [Q, R] = [await q.array(), await r.array()];
    assertClose(matmul(transpose(Q), Q), identity(4), { atol: 1e-5, what: 'QᵀQ' });
    assertClose(matmul(Q, R), a, { atol: 1e-5, what: 'QR' });

    const [u, s, vt] = kiln.linalg.svd(kiln.array(a), false);
    const [U, S, VT] = [await u.array(), Array.from(await s.data()), await vt.array()];
    assert.deepEqual(S, [...S].sort((x, y) => y - x), 'singular values are not descending');
    assert.ok(S.every((v) => v >= 0), 'negative singular value');
    assertClose(matmul(U.map((row) => row.map((v, j) => v * S[j])), VT), a, { atol: 1e-5, what: 'U S Vᵀ' });
  });

  test('the gradient of det is det(A) A^-T', async () => {
    const a = wellConditioned(3);
    const g = await kiln.grad((m) => kiln.linalg.det(m))(kiln.array(a)).array();
    const inv = await kiln.linalg.inv(kiln.array(a)).array();
    assertClose(g, map(transpose(inv), (v) => v * det(a)), { rtol: 1e-4, atol: 1e-4 });
  });
});

describe('random', () => {
  // Streams made by jax.random (threefry2x32, partitionable counters) for
  // the Rust tests; JAX's 32-bit mode keeps the low 32 bits of a seed.
  const fixtures = JSON.parse(readFileSync(new URL('../../tests/fixtures/random.json', import.meta.url), 'utf8'));
  const draw = {
    key: (key) => key,
    split: (key, p) => kiln.random.split(key, p.num),
    bits: (key, p) => kiln.random.bits(key, p.shape),
    uniform: (key, p) => kiln.random.uniform(key, p.shape, p.minval, p.maxval),
    normal: (key, p) => kiln.random.normal(key, p.shape),
    randint: (key, p) => kiln.random.randint(key, p.shape, p.minval, p.maxval),
    bernoulli: (key, p) => kiln.random.bernoulli(key, p.p, p.shape),
    categorical: (key, p, [logits]) => kiln.random.categorical(key, logits, p.axis, p.shape ?? undefined),
    permutation: (key, p) => kiln.random.permutation(key, p.n),
    fold_in: (key, p) => kiln.random.foldIn(key, p.data),
    gumbel: (key, p) => kiln.random.gumbel(key, p.shape),
  };
  // Uniform floats may differ by one rounding (XLA fuses u * span + min);
  // normal samples go through erfinv, which differs from XLA's in the last
  // bits, and gumbel samples through two logarithms.
  const close = { rtol: 2e-6, atol: 1e-6 };
  const tolerance = { uniform: { rtol: 3e-7, atol: 5e-7 }, normal: close, gumbel: close };
  // The fixtures spell infinities as strings.
  const number = (v) => ({ inf: Infinity, '-inf': -Infinity, nan: NaN })[v] ?? Number(v);

  test('the same values as jax.random', async () => {
    for (const { op, params, args = [], expected } of fixtures.cases) {
      const what = `${op} ${JSON.stringify(params)}`;
      const inputs = args.map((t) => kiln.array(Float32Array.from(t.data, number), { shape: t.shape }));
      const out = draw[op](kiln.random.key(params.seed % 2 ** 32), params, inputs);
      assert.equal(out.dtype, expected.dtype, what);
      assert.deepEqual(out.shape, expected.shape, what);
      const got = Array.from(await out.data());
      const want = expected.data.map(number);
      if (tolerance[op]) assertClose(got, want, { ...tolerance[op], what });
      else assert.deepEqual(got, want, what);
    }
  });
});

describe('memory', () => {
  // The garbage collector frees leaked arrays of earlier tests at any
  // await, so counts are compared only within synchronous stretches.
  test('tidy frees everything but its result', async () => {
    const before = kiln.memory().numArrays;
    const x = kiln.array([[1, 2], [3, 4]]);
    const kept = [];
    const z = kiln.tidy(() => {
      const y = kiln.exp(x).mul(2);
      kept.push(kiln.keep(y.add(1)));
      return y.sum();
    });
    // x, z and the kept array are live.
    assert.equal(kiln.memory().numArrays, before + 3);
    const e = [1, 2, 3, 4].map(Math.exp);
    assertClose(await z.item(), 2 * e.reduce((s, v) => s + v, 0), { rtol: 1e-6 });
    assertClose(await kept[0].data(), e.map((v) => 2 * v + 1), { rtol: 1e-6 });
    const live = kiln.memory().numArrays;
    z.dispose();
    kiln.dispose([x, kept[0]]);
    assert.equal(kiln.memory().numArrays, live - 3);
  });

  test('bytes are released on dispose', async () => {
    const bytes = 256 * 256 * 4;
    const big = kiln.ones([256, 256]).mul(3);
    const total = big.sum();
    assert.equal(await total.item(), 3 * 256 * 256);
    total.dispose();
    const held = kiln.memory();
    assert.ok(held.activeBytes >= bytes, `activeBytes ${held.activeBytes} with a ${bytes}-byte array live`);
    assert.ok(held.peakBytes >= held.activeBytes);
    big.dispose();
    const freed = kiln.memory();
    assert.ok(held.activeBytes - freed.activeBytes >= bytes, `dispose freed ${held.activeBytes - freed.activeBytes} bytes`);
    for (const key of ['numArrays', 'activeBytes', 'peakBytes', 'cachedBytes']) {
      assert.ok(Number.isFinite(freed[key]) && freed[key] >= 0, `memory().${key} = ${freed[key]}`);
    }
  });

  // Needs node --expose-gc (test/run.sh passes it).
  test('the garbage collector frees arrays nobody disposed', { skip: typeof gc !== 'function' }, async () => {
    const count = 200;
    const made = () => {
      for (let i = 0; i < count; i++) kiln.array([i, i + 1]).mul(2);
    };
    made();
    const leaked = kiln.memory().numArrays;
    // FinalizationRegistry callbacks run after a collection, between tasks.
    for (let round = 0; round < 20 && kiln.memory().numArrays > leaked - count; round++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const after = kiln.memory().numArrays;
    assert.ok(after <= leaked - count, `${leaked} arrays live before collection, ${after} after`);
  });

  test('a disposed array cannot be used', () => {
    const x = kiln.array([1, 2]);
    x.dispose();
    assert.throws(() => kiln.add(x, 1), (e) => e instanceof Error && /^\[add\] .*disposed/.test(e.message));
  });
});

describe('errors', () => {
  test('a shape mismatch throws a named error and the module keeps working', async () => {
    const a = kiln.ones([2, 3]);
    const b = kiln.ones([4, 5]);
    assert.throws(
      () => kiln.matmul(a, b),
      (e) => e instanceof Error && /^\[matmul\] /.test(e.message) && /\(2, 3\)/.test(e.message) && /\(4, 5\)/.test(e.message),
    );
    assert.throws(() => kiln.reshape(a, [4]), (e) => e instanceof Error && e.message.includes('[reshape]'));
    assert.throws(() => kiln.sum(a, 2), (e) => e instanceof Error && e.message.includes('[sum]'));
    assert.throws(() => kiln.array('x'), (e) => e instanceof Error && e.message.startsWith('[array] '));
    const c = kiln.matmul(a, kiln.ones([3, 2]));
    assert.deepEqual(await c.array(), [[3, 3], [3, 3]]);
  });

  test('linalg shape errors throw and the module keeps working', async () => {
    assert.throws(() => kiln.linalg.cholesky(kiln.ones([2, 3])), (e) => e instanceof Error && e.message.startsWith('[cholesky] '));
    const x = await kiln.linalg.solve([[2, 0], [0, 4]], [1, 1]).data();
    assertClose(x, [0.5, 0.25]);
  });
});

describe('device loss', () => {
  // Last: it replaces the device every test above used.
  test('a lost device throws clearly and init() recovers', { skip: !onGpu && 'no device to lose on the CPU backend' }, async () => {
    const before = kiln.square(kiln.array([1, 2, 3]));
    assert.deepEqual(await before.data(), new Float32Array([1, 4, 9]));
    kiln.destroyDevice();
    const lost = (e) => e instanceof Error && /lost/.test(e.message) && /init\(\)/.test(e.message);
    await assert.rejects(before.data(), lost);
    await assert.rejects(kiln.add(kiln.array([1]), 1).data(), lost);
    const info = await kiln.init();
    assert.equal(info.unifiedMemory, false);
    await assert.rejects(kiln.multiply(before, 2).data(), (e) => /multiply/.test(e.message) && /lost/.test(e.message));
    assert.deepEqual(await kiln.add(kiln.array([1, 2]), 1).data(), new Float32Array([2, 3]));
    const g = kiln.grad((x) => kiln.sum(kiln.square(x)));
    assert.deepEqual(await g(kiln.array([3, 4])).data(), new Float32Array([6, 8]));
  });
});
