// Type-checks the declarations in src/index.d.ts against realistic use:
// `npm run typecheck` (tsc -p tsconfig.json). Nothing here runs; the
// functions are only compiled, and the lines marked @ts-expect-error must
// stay errors.

import * as kiln from '@kiln-ml/kiln';
import type { Array, ArrayLike, DType, DeviceInfo, MemoryInfo, Nested, NestedArray } from '@kiln-ml/kiln';

/** True when `A` and `B` are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
/** Compiles only when its argument is `true`. */
function assertType<T extends true>(_: T): void {}

export async function setup(): Promise<void> {
  const info: DeviceInfo = await kiln.init();
  await kiln.init({ wasm: new URL('../pkg/kiln_bg.wasm', import.meta.url) });
  await kiln.init({ wasm: fetch('/kiln_bg.wasm') });
  const name: string = info.name;
  const f16: boolean = kiln.deviceInfo().shaderF16;
  const unified: boolean = kiln.deviceInfo().unifiedMemory;
  const limit: number = info.maxStorageBindingBytes + info.maxInvocationsPerWorkgroup;
  console.log(name, info.backend, info.deviceType, info.driver, f16, unified, limit);

  const mem: MemoryInfo = kiln.memory();
  console.log(mem.numArrays, mem.activeBytes, mem.peakBytes, mem.cachedBytes);
  kiln.clearCache();
  const destroy: () => void = kiln.destroyDevice;
  console.log(destroy.name);
  const dispatches: number = kiln.dispatchCount();
  console.log(dispatches);

  // @ts-expect-error: options are an object
  await kiln.init('kiln_bg.wasm');
}

export async function arrays(): Promise<void> {
  const x = kiln.array([[1, 2], [3, 4]]);
  const mask = kiln.array([true, false]);
  const ints = kiln.array(new Int32Array([1, -2, 3, -4]), { shape: [2, 2], dtype: 'int32' });
  const half = kiln.array([0.5, 1.5], 'float16');
  const fromConst = kiln.array([[1, 2], [3, 4]] as const);
  const copy = kiln.array(x, { dtype: 'float32' });

  const shape: number[] = x.shape;
  const dtype: DType = x.dtype;
  const count: number = x.size + x.ndim;
  console.log(shape, dtype, count, x.toString(), x.isDisposed);

  const data = await x.data();
  if (data instanceof Float32Array) console.log(data[0]);
  const first: number = data[0] ?? 0;
  const bits: Uint8Array = await mask.data<'bool'>();
  const nested: number | Nested<number> = await x.array();
  const anyNested: number | boolean | NestedArray = await mask.array<'bool'>();
  const rows = nested as number[][];
  console.log(rows[0]?.[1], first, bits, anyNested);
  // item() is a number: no cast before toFixed.
  console.log((await kiln.sum(x).item()).toFixed(2));
  const flags: boolean = await mask.all().item<'bool'>();
  const int32: Int32Array = await kiln.argmax(x).data<'int32'>();
  console.log(flags, int32);
  // @ts-expect-error: a numeric array's item is a number
  const wrongItem: boolean = await kiln.sum(x).item();
  // @ts-expect-error: the dtype given must be a dtype
  await x.data<'f32'>();
  console.log(wrongItem);

  // Creation.
  kiln.zeros([2, 3]);
  kiln.ones(4, 'int32');
  kiln.full([2], true);
  kiln.full([2, 2], 7, 'uint32');
  kiln.zerosLike(x);
  kiln.onesLike([1, 2, 3]);
  kiln.fullLike(x, 0.5);
  kiln.arange(10);
  kiln.arange(2, 11, 3);
  kiln.arange(0, 1, 0.25, 'float32');
  kiln.linspace(0, 1, 5, false);
  kiln.eye(3, 4, 1);
  kiln.eye(3, null, 0, 'bool');
  kiln.tri(3);
  kiln.tril(kiln.ones([3, 3]), -1);
  kiln.triu(x);

  // Ops with JS values as operands.
  const y = kiln.matmul(x, x).add(1);
  kiln.add(2, x);
  kiln.subtract(x, [1, 2]);
  kiln.where(kiln.greater(x, 2), x, 0);
  kiln.clip(x, 0, null);
  kiln.clip(x, undefined, 3);
  kiln.maximum(ints, 0);
  kiln.astype(ints, 'float32');
  kiln.logicalAnd(mask, true);
  kiln.bitwiseXor(ints, 3);
  kiln.erf(new Float32Array([0.1, 0.2]));
  kiln.stopGradient(x);

  // Reductions: one axis, a list, or all.
  kiln.sum(x);
  kiln.mean(x, 0, true);
  kiln.max(x, [0, 1]);
  kiln.var(x, -1, false, 1);
  kiln.variance(x, null);
  kiln.std(x, undefined, true);
  kiln.argmax(x, 1);
  kiln.softmax(x);
  kiln.logSoftmax(x, [0, 1]);
  kiln.cumsum(x, null);

  // Shapes, products, indexing.
  kiln.reshape(x, [4, -1]);
  kiln.transpose(kiln.zeros([2, 3, 4]), [2, 0, 1]);
  kiln.expandDims(x, 0);
  kiln.squeeze(kiln.zeros([1, 3, 1]));
  kiln.broadcastTo(kiln.array([1, 2]), [3, 2]);
  kiln.pad(x, 1);
  kiln.pad(x, [1, 2]);
  kiln.pad(x, [[0, 1], [2, 0]], -1);
  kiln.concatenate([x, [[5, 6]]]);
  kiln.stack([x, x], 1);
  const parts: Array[] = kiln.split(kiln.arange(6), [2, 4]);
  kiln.slice(x, [0, null]);
  kiln.slice(x, [[null, null, -1], [1]]);
  kiln.tensordot(x, x, [[1], [0]]);
  kiln.take(x, [1, 0], 0);
  kiln.takeAlongAxis(x, kiln.argsort(x), -1);
  kiln.scatterAdd(kiln.zeros([4]), [0, 0, 3], [1, 2, 3]);
  const [top, topIdx] = kiln.topk(x, 1);
  kiln.sort(x, null);
  console.log(parts.length, top.shape, topIdx.dtype);

  // Methods mirror the functions.
  const z = x.T.matmul(x).sub(1).mul(2).div(3).pow(2).neg().abs().sqrt();
  z.sum(0).mean().reshape([1]).astype('float16');
  z.var(undefined, false, 1).std().argmax(0, true);
  z.clip(0, 1).slice([null, [0, 1]]).take([0], 1).sort().argsort(-1);
  z.expandDims(0).squeeze().broadcastTo([2, 2]).flatten().flip().tile(2).repeat(2, 0);
  z.diagonal().trace().cumsum().softmax(-1).logSoftmax();
  z.greaterEqual(0).any().equal(true);
  const spare = z.clone();

  // Queue work without waiting; eval and evaluate are one function.
  kiln.eval(y, [z, spare]);
  kiln.evaluate(y);

  // @ts-expect-error: not a dtype
  kiln.zeros([2], 'float64');
  // @ts-expect-error: not a dtype
  x.astype('int64');
  // @ts-expect-error: strings are not operands
  kiln.add(x, '1');
  // @ts-expect-error: shape is read-only
  x.shape = [4];
  // @ts-expect-error: arrays are made by kiln's functions
  new kiln.Array();
  // @ts-expect-error: argmax takes one axis
  kiln.argmax(x, [0, 1]);
  // @ts-expect-error: a slice is [start, stop, step]
  kiln.slice(x, [[0, 1, 1, 1]]);
  // @ts-expect-error: data() is a promise
  data.length + x.data().length;

  kiln.dispose([x, mask, ints, half, fromConst, copy]);
  kiln.dispose({ y, z });
  spare.free();
}

export async function memory(x: Array): Promise<void> {
  // tidy() frees what is made inside except what is returned.
  const loss: Array = kiln.tidy(() => kiln.exp(x).mul(2).sum());
  const pair = kiln.tidy(() => {
    const kept = kiln.keep(kiln.square(x));
    return { mean: kiln.mean(x), kept };
  });
  assertType<Equal<typeof pair, { mean: Array; kept: Array }>>(true);
  const nothing = kiln.tidy(() => {
    kiln.sin(x);
  });
  assertType<Equal<typeof nothing, void>>(true);
  console.log(await loss.item(), await pair.mean.item());
  kiln.dispose(pair);

  // @ts-expect-error: the function must not be async
  kiln.tidy(async () => kiln.sum(x));
  // @ts-expect-error: keep() takes one array
  kiln.keep([x]);
}

export async function linearAlgebra(): Promise<void> {
  const key = kiln.random.key(0);
  const a = kiln.random.normal(key, [64, 32]);
  const [u, s, vt] = kiln.linalg.svd(a, false);
  const [q, r] = kiln.linalg.qr(a, 'complete');
  const [w, v] = kiln.linalg.eigh(kiln.matmul(a.T, a));
  const [sign, logdet] = kiln.linalg.slogdet(kiln.eye(3));
  const [p, l, upper] = kiln.linalg.lu(kiln.eye(3));
  const [lu, pivots] = kiln.linalg.luFactor(kiln.eye(3));
  const { solution, residuals, rank, singularValues } = kiln.linalg.lstsq(a, kiln.ones([64]));
  assertType<Equal<typeof u, Array>>(true);

  const m = kiln.array([[4, 1], [1, 3]]);
  const chol = kiln.linalg.cholesky(m);
  kiln.linalg.choSolve(chol, [1, 2]);
  kiln.linalg.solveTriangular(chol, [1, 2], { upper: false, unitDiagonal: true });
  kiln.linalg.solve(m, [1, 0]);
  kiln.linalg.inv(m).matmul(m);
  kiln.linalg.det(m);
  kiln.linalg.pinv(a, 1e-6);
  kiln.linalg.matrixRank(a);
  kiln.linalg.matrixPower(m, -2);
  kiln.linalg.cross([1, 0, 0], [0, 1, 0]);
  kiln.linalg.norm(a);
  kiln.linalg.norm(a, 'fro');
  kiln.linalg.norm(a, Infinity, 1, true);
  kiln.linalg.cond(m, 2);
  kiln.linalg.svdvals(a);
  kiln.linalg.eigvalsh(m);
  console.log(await solution.data(), s.shape, rank.dtype);
  kiln.dispose([u, s, vt, q, r, w, v, sign, logdet, p, l, upper, lu, pivots, residuals, singularValues]);

  // @ts-expect-error: mode is 'reduced' or 'complete'
  kiln.linalg.qr(a, 'full');
  // @ts-expect-error: svd returns three arrays
  const [, , , extra] = kiln.linalg.svd(a);
  // @ts-expect-error: lstsq returns an object
  const [sol] = kiln.linalg.lstsq(a, kiln.ones([64]));
  console.log(extra, sol);
}

export function randomNumbers(): void {
  const key = kiln.random.key(42);
  const keys = kiln.random.split(key, 3);
  const k1 = kiln.slice(keys, [0]);
  const k2 = kiln.random.foldIn(key, 7);
  kiln.random.bits(k1, [4]);
  kiln.random.uniform(k1, [2, 2], -1, 1);
  kiln.random.uniform(k1);
  kiln.random.normal(k2, 8, 'float16');
  kiln.random.gumbel(k2, [3]);
  kiln.random.randint(k1, [5], 0, 10);
  kiln.random.bernoulli(k1, 0.3, [5]);
  kiln.random.categorical(k1, [[0.1, 2.0, -1.0]], -1, [4, 1]);
  kiln.random.permutation(k2, 10);

  // @ts-expect-error: a key, not a seed
  kiln.random.normal(0, [3]);
  // split returns one (num, 2) array of keys, which destructures along axis 0.
  const [a, b] = kiln.random.split(key);
  assertType<Equal<typeof a, Array | undefined>>(true);
  console.log(a, b);
}

export function neuralNetworks(): void {
  const logits = kiln.random.normal(kiln.random.key(1), [8, 10]);
  const labels = kiln.array([0, 1, 2, 3, 4, 5, 6, 7], 'int32');
  kiln.nn.crossEntropy(logits, labels);
  kiln.nn.crossEntropy(logits, labels, { reduction: 'none', labelSmoothing: 0.1 });
  kiln.nn.mseLoss(logits, kiln.zerosLike(logits), 'sum');
  const h = kiln.nn.gelu(kiln.nn.relu(logits));
  kiln.nn.leakyRelu(h, 0.2);
  kiln.nn.elu(h);
  kiln.nn.silu(h);
  kiln.nn.softplus(h);
  kiln.nn.logSigmoid(h);
  kiln.nn.sigmoid(h);
  kiln.nn.softmax(h, -1);
  kiln.nn.logSoftmax(h);

  // @ts-expect-error: reduction is 'mean', 'sum' or 'none'
  kiln.nn.mseLoss(h, h, 'avg');
}

export async function transforms(): Promise<void> {
  // grad of a function of one array, and its composition.
  const f = (t: Array) => kiln.sum(kiln.sin(t).mul(t));
  const df = kiln.grad(f);
  const d2f = kiln.grad((t) => kiln.sum(df(t)));
  const dd = kiln.grad(kiln.grad(f));
  assertType<Equal<typeof df, (t: ArrayLike) => Array>>(true);
  console.log(await d2f(kiln.array([0.5, 1.0])).data(), dd([0.5]));

  // A small training loop: gradients with respect to two parameters.
  const xs = kiln.random.normal(kiln.random.key(0), [32, 3]);
  const ys = kiln.random.normal(kiln.random.key(1), [32]);
  const loss = (w: Array, b: Array) => kiln.mean(kiln.square(kiln.matmul(xs, w).add(b).sub(ys)));
  let params = { w: kiln.zeros([3]), b: kiln.zeros([]) };
  const step = kiln.valueAndGrad(loss, [0, 1]);
  for (let i = 0; i < 10; i++) {
    const next = kiln.tidy(() => {
      const [value, [dw, db]] = step(params.w, params.b);
      console.log(value.toString());
      return { w: params.w.sub(dw.mul(0.1)), b: params.b.sub(db.mul(0.1)) };
    });
    kiln.dispose(params);
    params = next;
  }
  const grads = kiln.grad(loss, [1])(params.w, params.b);
  assertType<Equal<typeof grads, [Array]>>(true);
  const [value, dw] = kiln.valueAndGrad(loss)(params.w, 0);
  assertType<Equal<typeof dw, Array>>(true);
  console.log(value.shape, grads[0].shape);

  // vjp, jvp: the arguments in a list, [output, cotangents or tangent] out,
  // each with the structure it follows.
  const ones = kiln.ones([2]);
  const [outs, cts] = kiln.vjp((a: Array, b: Array) => [kiln.multiply(a, b), kiln.add(a, b)], [[1, 2], [3, 4]], [ones, ones]);
  assertType<Equal<typeof outs, Array[]>>(true);
  assertType<Equal<typeof cts, [Array, Array]>>(true);
  const [primalsOut, tangentsOut] = kiln.jvp((t: Array) => kiln.tanh(t), [xs], [kiln.onesLike(xs)]);
  assertType<Equal<typeof tangentsOut, Array>>(true);
  console.log(outs.length, cts.length, primalsOut.shape, tangentsOut.shape);

  // Pytrees: parameters as nested objects; gradients of the same structure.
  type Params = { layers: { w: Array; b: Array | null }[]; scale: Array };
  const model: Params = { layers: [{ w: kiln.ones([3, 2]), b: null }], scale: kiln.array(2) };
  const treeLoss = (p: Params, x: Array) => kiln.sum(kiln.matmul(x, p.layers[0]!.w).mul(p.scale));
  const treeGrads = kiln.grad(treeLoss)(model, xs);
  assertType<Equal<typeof treeGrads.scale, Array>>(true);
  console.log(treeGrads.layers[0]?.w.shape, treeGrads.layers[0]?.b);
  const [[lossValue, aux], auxGrads] = kiln.valueAndGrad(
    (p: Params, x: Array) => [treeLoss(p, x), { note: 'aux' }] as const,
    { hasAux: true },
  )(model, xs);
  assertType<Equal<typeof aux, { readonly note: 'aux' }>>(true);
  console.log(lossValue.shape, aux.note, auxGrads.scale.shape);
  const [leaves, structure] = kiln.tree.flatten(model);
  const rebuilt = structure.unflatten(leaves);
  const halves = kiln.tree.map((leaf) => leaf.mul(0.5), model);
  console.log(leaves.length, structure.numLeaves, rebuilt, halves.scale.shape, kiln.tree.leaves(model).length);
  const saved = kiln.checkpoint(treeLoss)(model, xs);
  const clipped = kiln.customVjp((t: Array) => t, (_primals, _out, ct) => [kiln.clip(ct, -1, 1)]);
  const treeJacobian = kiln.jacobian((p: { a: Array; b: Array }) => ({ u: p.a.mul(p.b) }))({ a: [1, 2], b: [3, 4] });
  console.log(saved.shape, clipped(xs).shape, treeJacobian.u.a.shape);

  // vmap: per-example gradients; one array out, or a list.
  const perExample = kiln.vmap(kiln.grad((w: Array, x: Array) => kiln.sum(kiln.multiply(w, x))), [null, 0]);
  const batch = perExample(params.w, xs);
  assertType<Equal<typeof batch, Array>>(true);
  const both = kiln.vmap((x: Array) => [kiln.sin(x), kiln.cos(x)], 0, [0, 1]);
  const [sines, cosines] = both(xs);
  console.log(sines?.shape, cosines?.shape);

  // Jacobians and Hessians of functions of one array.
  kiln.jacobian((x) => kiln.tanh(x))([0.1, 0.2]);
  kiln.jacrev(kiln.sin)(xs);
  kiln.jacfwd(kiln.grad(f))([1, 2]);
  const hess = kiln.hessian(f)(kiln.array([0.5, 1.0]));
  console.log(hess.shape);

  // compile keeps the function's signature.
  const fused = kiln.compile((a: Array, b: Array) => kiln.exp(a).mul(b).add(1));
  const out: Array = fused(xs, 2);
  const pairs = kiln.compile((a: Array) => [a.sum(), a.mean()] as const);
  const [total, average] = pairs(xs);
  console.log(out.shape, total.shape, average.shape);

  // Modules and optimizers.
  class Mlp extends kiln.nn.Module {
    hidden = new kiln.nn.Linear(3, 8);
    out = new kiln.nn.Linear(8, 1, { bias: false, key: kiln.random.key(0) });
    forward(x: ArrayLike): Array {
      return this.out.forward(kiln.nn.relu(this.hidden.forward(x)));
    }
  }
  const mlp = new Mlp();
  const optimizer = kiln.optimizers.AdamW(kiln.optimizers.cosineDecay(1e-3, 100), { weightDecay: 0.1 });
  const mlpStep = kiln.nn.valueAndGrad(mlp, (x: Array, y: Array) => kiln.mean(kiln.square(mlp.forward(x).sub(y))));
  const [mlpLoss, mlpGrads] = mlpStep(xs, kiln.zeros([32, 1]));
  const [clippedGrads, gradNorm] = kiln.optimizers.clipGradNorm(mlpGrads, 1);
  optimizer.update(mlp, clippedGrads);
  const plain = kiln.optimizers.SGD(0.1).apply({ w: params.w }, { w: params.w });
  console.log(mlpLoss.shape, gradNorm.shape, plain.w.shape, optimizer.steps, mlp.numParameters());
  const optimizerState: Record<string, Array> = optimizer.state();
  await optimizer.loadState(optimizerState);
  const cnn = new kiln.nn.Sequential(
    new kiln.nn.Conv2d(1, 8, 3, { padding: 1 }),
    new kiln.nn.ReLU(),
    new kiln.nn.MaxPool2d(2),
    new kiln.nn.Flatten(),
    new kiln.nn.Dropout(0.1),
    new kiln.nn.LayerNorm(8 * 14 * 14),
  );
  const images = kiln.zeros([2, 28, 28, 1]);
  console.log(cnn.forward(images).shape, kiln.nn.conv2d(images, kiln.ones([4, 3, 3, 1]), { stride: [1, 2] }).shape);
  const attended = kiln.nn.scaledDotProductAttention(xs, xs, xs, { causal: true });
  const w0 = kiln.nn.init.glorotUniform(kiln.random.key(1), [3, 4], { gain: 2 });
  console.log(attended.shape, w0.shape, kiln.nn.huberLoss(xs, xs, { delta: 0.5 }).shape);
  const [firstKey, secondKey] = kiln.random.split(kiln.random.key(3));
  await kiln.print('keys', firstKey, secondKey);
  const encoder = new kiln.nn.TransformerEncoderBlock(64, 4, { activation: 'gelu', normFirst: true });
  const tokens = kiln.zeros([2, 10, 64]);
  console.log(encoder.forward(tokens, { causal: true }).shape, new kiln.nn.Rope(16).forward(tokens, 4).shape);
  // @ts-expect-error: activations are named
  new kiln.nn.TransformerEncoderBlock(64, 4, { activation: 'swish' });
  const contracted: Array = kiln.einsum('bij,bjk->bik', kiln.ones([2, 3, 4]), kiln.ones([2, 4, 5]));
  const [gridX, gridY] = kiln.meshgrid([[1, 2], [3, 4, 5]], 'ij');
  console.log(contracted.shape, gridX?.shape, gridY?.shape, kiln.allclose(contracted, contracted, { rtol: 1e-3 }).shape);
  // @ts-expect-error: meshgrid's indexing is 'xy' or 'ij'
  kiln.meshgrid([[1]], 'yx');
  // @ts-expect-error: pooling takes a kernel
  new kiln.nn.MaxPool2d();
  // @ts-expect-error: Linear's dims are numbers
  new kiln.nn.Linear('3', 8);
  // @ts-expect-error: SGD has no option betas
  kiln.optimizers.SGD(0.1, { betas: [0.9, 0.99] });

  // @ts-expect-error: grad takes a function of arrays
  kiln.grad((t: number) => t * 2);
  // @ts-expect-error: grad's function returns one array
  kiln.grad((t: Array) => [t, t]);
  // @ts-expect-error: with hasAux the function returns [output, aux]
  kiln.grad((t: Array) => kiln.sum(t), { hasAux: true });
  // @ts-expect-error: the gradient function keeps f's arity
  df(xs, xs);
  // @ts-expect-error: jacobian's function takes one array
  kiln.jacobian(loss);
  // @ts-expect-error: arguments are arrays or JS values
  fused(xs, 'two');
}
