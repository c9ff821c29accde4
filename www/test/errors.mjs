// Bad input for every function of the package, shared by the Node test
// (errors.test.mjs) and the browser test (browser.test.mjs).
//
// The package's surface is enumerated, not listed: every exported
// function, every function of its namespace objects (kiln.linalg, ...),
// every method and getter of kiln.Array. Each needs an entry in `specs`
// below (or in `exempt`, with the reason), else it is reported as
// unchecked. An entry gives one valid call; the checks derive the bad calls
// from it (each array argument replaced by {}, 'x' and a disposed array, the
// call without arguments, methods called on a non-array) and add the
// entry's own bad calls (wrong shapes, dtypes, axes, values). Every bad call
// must throw (or reject) an Error with a message; kiln's messages start
// with the op's name in brackets, `[matmul] ...`.
//
// Results are plain objects, so they survive the trip out of a page.

/** Functions that cannot fail on any input, and why. */
export const exempt = {
  memory: 'takes no arguments and only reads counters',
  clearCache: 'takes no arguments; frees cached buffers',
  dispatchCount: 'takes no arguments and only reads a counter',
  deviceInfo: 'takes no arguments; reports the adapter opened by init()',
  print: 'logs any values as console.log does (arrays are read first: a disposed one throws [print])',
  destroyDevice: 'takes no arguments; the device-loss test in node.test.mjs checks what follows it',
  'nn.Module': 'the base class: constructing one takes no arguments and cannot fail',
  'nn.ReLU': 'takes no arguments and cannot fail',
  'nn.GELU': 'takes no arguments and cannot fail',
  'nn.Tanh': 'takes no arguments and cannot fail',
  'nn.Flatten': 'takes no arguments and cannot fail',
  'optimizers.Optimizer': 'made by the rule functions (SGD, Adam, ...), whose options are checked there; its methods are tested in node.test.mjs',
  'io.downloadSafetensors': 'starts a download in a page; what it saves is checked by io.saveSafetensors',
  'tree.flattenWithPaths': 'every value is a pytree, as for tree.flatten',
  'tree.flatten': 'every value is a pytree (a value that is not a list, a plain object or null is a leaf)',
  'tree.leaves': 'every value is a pytree, as for tree.flatten',
  'tree.structure': 'every value is a pytree, as for tree.flatten',
  'tree.map': 'any value is a leaf, so only its function can fail on one; its own errors (no function, trees of other structures) are tested in node.test.mjs',
  'tree.unflatten': 'takes a structure and any leaves; its errors (not a structure, the wrong number of leaves) are tested in node.test.mjs',
  init: 'its one option (the wasm) is read on the first call only, which the checks run after',
  dispose: 'frees the arrays found in any value (an array, a list, an object) and ignores the rest',
  'Array#dispose': 'disposing twice is allowed',
  'Array#isDisposed': 'a flag that is readable in any state',
  'Array#toString': 'describes disposed arrays too',
  'Array#free': 'the same as Array#dispose',
};

/** Not kiln ops, so their messages need no `[op]`: the wasm-bindgen class. */
const untagged = new Set(['Array']);

/** Array methods whose function has another name. */
const methodAliases = {
  sub: 'subtract',
  mul: 'multiply',
  div: 'divide',
  pow: 'power',
  neg: 'negative',
  T: 'transpose',
};

/** Exports under a second name. */
const exportAliases = { variance: 'var', evaluate: 'eval' };

/** What `thrower` throws: a user function's own error may propagate as is. */
const boom = new Error('boom');

/** The arrays the calls use, made fresh for each function. */
function fixtures(k) {
  const dead = k.array([1, 2, 3]);
  dead.dispose();
  return {
    k,
    dead,
    a23: k.array([[1, 2, 3], [4, 5, 6]]),
    a45: k.ones([4, 5]),
    col: k.array([[1], [2]]),
    // Symmetric positive definite.
    spd: k.array([[4, 1, 0], [1, 3, 1], [0, 1, 2]]),
    v3: k.array([1, 2, 3]),
    v2: k.array([1, 2]),
    s: k.array(2),
    i3: k.array([1, 2, 3], 'int32'),
    b3: k.array([true, false, true]),
    idx: k.array([0, 2], 'int32'),
    idxCol: k.array([[0], [1]], 'int32'),
    fidx: k.array([0, 1.5]),
    targets: k.array([0, 2], 'int32'),
    targets3: k.array([0, 1, 2], 'int32'),
    key: k.random.key(0),
  };
}

const sumSquares = (k) => (x) => k.sum(x.mul(x));

/**
 * name -> { ok: x => args, bad: [x => args], apply?, noArgsOk? }.
 * `apply` (transforms): the arguments for the function a call returns,
 * which must then throw; `badApply`: more [transformArgs, applyArgs].
 * `noArgsOk`: the call without arguments is valid.
 */
const specs = {};
const spec = (names, ok, bad = [], extra = {}) => {
  for (const name of names.split(/\s+/).filter(Boolean)) specs[name] = { ok, bad: [...bad], ...extra };
};

// ---- creation ----
spec('array', (x) => [[1, 2]], [
  (x) => [[[1, 2], [3]]],
  (x) => [[1, 'a']],
  (x) => [[1, 2], 'float64'],
  (x) => [new Float32Array(3), { shape: [2, 2] }],
  (x) => [[1, 2], { dtype: 'nope' }],
]);
spec('zeros ones', (x) => [[2, 3]], [
  (x) => [[-1]],
  (x) => [[2.5]],
  (x) => [[65536, 65537]], // more than 2^32 elements
  (x) => [[2, 'x']],
  (x) => [[2], 'float64'],
]);
spec('full', (x) => [[2], 7], [
  (x) => [[2], 'x'],
  (x) => [[65536, 65537], 1],
  (x) => [[-1], 1],
  (x) => [[2], 1, 'nope'],
]);
spec('zerosLike onesLike', (x) => [x.a23]);
spec('fullLike', (x) => [x.a23, 2], [(x) => [x.a23, 'x']]);
spec('arange', (x) => [0, 5], [
  (x) => [0, 5, 0],
  (x) => [0, Infinity],
  (x) => [0, 5, 1, 'nope'],
]);
spec('linspace', (x) => [0, 1, 5], [
  (x) => [0, 1, -1],
  (x) => [0, 1, 2.5],
  (x) => [0, 1, 'x'],
]);
spec('eye tri', (x) => [3], [
  (x) => [-1],
  (x) => [2.5],
  (x) => [3, -2],
  (x) => [3, 3, 0, 'nope'],
]);
spec('tril triu', (x) => [x.spd], [(x) => [x.v3], (x) => [x.spd, 1.5], (x) => [x.spd, 'x']]);

// ---- elementwise ----
// BEGIN generated from the op tables (KILN_BLESS=1 cargo test --test js_face)
const unaryOps = 'negative abs sign exp expm1 log log1p log2 log10 sqrt rsqrt square reciprocal sin cos tan arcsin arccos arctan sinh cosh tanh arcsinh arccosh arctanh sigmoid erf erfinv floor ceil round isnan isinf isfinite logicalNot cbrt exp2 deg2rad rad2deg';
const floatBinaryOps = 'add subtract multiply divide floorDivide remainder power maximum minimum arctan2 equal notEqual less lessEqual greater greaterEqual logaddexp hypot copysign';
const logicalBinaryOps = 'logicalAnd logicalOr';
const integerBinaryOps = 'bitwiseAnd bitwiseOr bitwiseXor leftShift rightShift';
// END generated
spec(floatBinaryOps, (x) => [x.a23, x.a23],
  [(x) => [x.a23, x.a45], (x) => [x.a23, [1, 2]]],
);
spec(logicalBinaryOps, (x) => [x.b3, x.b3], [(x) => [x.b3, x.a45]]);
spec(integerBinaryOps, (x) => [x.i3, x.i3], [
  (x) => [x.i3, x.a45],
  (x) => [x.v3, x.v3],
]);
spec(`${unaryOps} flatten stopGradient nn.sigmoid`, (x) => [x.v3]);
spec('where', (x) => [x.b3, x.v3, x.v3], [(x) => [x.b3, x.v3, x.a45], (x) => [x.b3, x.v3]]);
spec('clip', (x) => [x.v3, 0, 1], [(x) => [x.v3, 'x'], (x) => [x.v3, x.a45]]);
spec('astype', (x) => [x.v3, 'int32'], [(x) => [x.v3, 'float64'], (x) => [x.v3, {}], (x) => [x.v3]]);

// ---- reductions ----
spec('sum prod max min all any mean logsumexp', (x) => [x.a23, 1], [
  (x) => [x.a23, 2],
  (x) => [x.a23, -3],
  (x) => [x.a23, 1.5],
  (x) => [x.a23, [0, 0]],
  (x) => [x.a23, 'x'],
]);
spec('var variance std', (x) => [x.a23, 1], [
  (x) => [x.a23, 2],
  (x) => [x.a23, 1, false, -1],
  (x) => [x.a23, 1, false, 'x'],
]);
spec('argmax argmin', (x) => [x.a23, 1], [(x) => [x.a23, 2], (x) => [x.a23, 'x']]);
spec('softmax logSoftmax nn.softmax nn.logSoftmax', (x) => [x.a23], [(x) => [x.a23, 2], (x) => [x.a23, 'x']]);
spec('cumsum cumprod', (x) => [x.a23, 1], [(x) => [x.a23, 2], (x) => [x.a23, 'x']]);

// ---- shapes ----
spec('reshape', (x) => [x.a23, [3, 2]], [
  (x) => [x.a23, [4]],
  (x) => [x.a23, [-1, -1]],
  (x) => [x.a23, [2.5, 2]],
  (x) => [x.a23, 'x'],
]);
spec('transpose', (x) => [x.a23], [(x) => [x.a23, [0]], (x) => [x.a23, [0, 0]], (x) => [x.a23, [0, 2]]]);
spec('swapaxes', (x) => [x.a23, 0, 1], [(x) => [x.a23, 0, 2], (x) => [x.a23, 0, 'x']]);
spec('moveaxis', (x) => [x.a23, 0, 1], [(x) => [x.a23, 0, 5], (x) => [x.a23, 'x', 0]]);
spec('expandDims', (x) => [x.a23, 0], [(x) => [x.a23, 4], (x) => [x.a23, 'x']]);
spec('squeeze', (x) => [x.col, 1], [(x) => [x.a23, 0], (x) => [x.a23, 5]]);
spec('broadcastTo', (x) => [x.v3, [2, 3]], [(x) => [x.v3, [4]], (x) => [x.a23, [3]], (x) => [x.v3, 'x']]);
spec('slice', (x) => [x.a23, [0, [0, 2]]], [
  (x) => [x.a23, [5]],
  (x) => [x.a23, [0, 0, 0]],
  (x) => [x.a23, ['x']],
  (x) => [x.a23, [[0, 2, 0]]],
  (x) => [x.a23, 'x'],
]);
spec('concatenate', (x) => [[x.a23, x.a23]], [
  (x) => [[x.a23, x.v3]],
  (x) => [[x.a23, x.a23], 3],
  (x) => [[]],
]);
spec('stack', (x) => [[x.v3, x.v3]], [(x) => [[x.v3, x.a23]], (x) => [[x.v3, x.v3], 5], (x) => [[]]]);
spec('split', (x) => [x.v3, 3], [(x) => [x.v3, 2], (x) => [x.v3, 'x'], (x) => [x.v3, 3, 2]]);
spec('pad', (x) => [x.v3, [[1, 1]]], [
  (x) => [x.v3, [[1, 1], [1, 1]]],
  (x) => [x.v3, [[-1, 1]]],
  (x) => [x.v3, 'x'],
]);
spec('tile', (x) => [x.v3, [2]], [(x) => [x.v3, [-1]], (x) => [x.v3, 'x']]);
spec('repeat', (x) => [x.v3, 2], [(x) => [x.v3, -1], (x) => [x.v3, 2, 3], (x) => [x.v3, 'x']]);
spec('flip', (x) => [x.a23, 0], [(x) => [x.a23, 3]]);
spec('diagonal trace', (x) => [x.spd], [(x) => [x.v3], (x) => [x.spd, 0, 0, 0]]);

// ---- products ----
spec('matmul', (x) => [x.a23, x.spd], [(x) => [x.a23, x.a45], (x) => [x.v3, x.a23], (x) => [x.s, x.v3]]);
spec('outer', (x) => [x.v3, x.v3]);
spec('inner', (x) => [x.v3, x.v3], [(x) => [x.v3, x.a45]]);
spec('tensordot', (x) => [x.a23, x.spd, 1], [
  (x) => [x.a23, x.a45, 1],
  (x) => [x.a23, x.spd, 5],
  (x) => [x.a23, x.spd, 'x'],
]);

// ---- indexing and sorting ----
spec('take', (x) => [x.v3, x.idx], [(x) => [x.v3, x.fidx], (x) => [x.v3, x.idx, 3]]);
spec('takeAlongAxis', (x) => [x.a23, x.idxCol, 1], [
  (x) => [x.a23, x.idx, 1],
  (x) => [x.a23, x.idxCol, 3],
]);
spec('scatterAdd', (x) => [x.v3, x.idx, x.v2, 0], [
  (x) => [x.v3, x.idx, x.v3, 0],
  (x) => [x.v3, x.fidx, x.v2, 0],
  (x) => [x.v3, x.idx, x.v2, 2],
]);
spec('sort argsort', (x) => [x.a23], [(x) => [x.a23, 2], (x) => [x.a23, 'x']]);
spec('topk', (x) => [x.v3, 2], [(x) => [x.v3, 5], (x) => [x.v3, -1], (x) => [x.v3, 2, 1]]);

// ---- random ----
spec('random.key', (x) => [0], [(x) => [-1], (x) => [1.5], (x) => [2 ** 60]]);
spec('random.split', (x) => [x.key], [(x) => [x.v3], (x) => [x.key, -1], (x) => [x.key, 'x']]);
spec('random.foldIn', (x) => [x.key, 2 ** 32 - 1], [(x) => [x.v3, 1], (x) => [x.key, 'x'], (x) => [x.key, 2 ** 32], (x) => [x.key, -1]]);
spec('random.bits', (x) => [x.key, [2]], [(x) => [x.v3, [2]], (x) => [x.key, [-1]], (x) => [x.key, 'x']]);
spec('random.uniform random.normal random.gumbel', (x) => [x.key, [2]], [
  (x) => [x.v3, [2]],
  (x) => [x.key, [-1]],
  (x) => [x.key, 'x'],
]);
spec('random.randint', (x) => [x.key, [2], 0, 10], [(x) => [x.v3, [2], 0, 10], (x) => [x.key, [2], 'x', 10]]);
spec('random.bernoulli', (x) => [x.key, 0.5, [2]], [(x) => [x.v3, 0.5, [2]], (x) => [x.key, 'x', [2]]]);
spec('random.categorical', (x) => [x.key, x.a23], [(x) => [x.v3, x.a23], (x) => [x.key, x.a23, 2]]);
spec('random.permutation', (x) => [x.key, 5], [(x) => [x.v3, 5], (x) => [x.key, -1], (x) => [x.key, 'x']]);

// ---- linalg ----
spec('linalg.inv linalg.det linalg.slogdet linalg.eigh linalg.eigvalsh linalg.cholesky', (x) => [x.spd], [
  (x) => [x.a23],
  (x) => [x.v3],
]);
spec('linalg.svd linalg.svdvals linalg.qr linalg.pinv', (x) => [x.a23], [(x) => [x.v3]]);
spec('linalg.lu linalg.luFactor', (x) => [x.spd], [(x) => [x.v3]]);
specs['linalg.qr'].bad.push((x) => [x.a23, 'x']);
spec('linalg.solve linalg.solveTriangular linalg.choSolve linalg.lstsq', (x) => [x.spd, x.v3], [
  (x) => [x.spd, x.a45],
  (x) => [x.v3, x.v3],
]);
spec('linalg.matrixRank', (x) => [x.spd], [(x) => [x.s]]);
spec('linalg.cond', (x) => [x.spd], [(x) => [x.v3], (x) => [x.spd, 'x']]);
spec('linalg.norm', (x) => [x.spd], [
  (x) => [x.spd, 'x'],
  (x) => [x.spd, 'fro', 0],
  (x) => [x.spd, undefined, 5],
]);
spec('linalg.matrixPower', (x) => [x.spd, 2], [(x) => [x.a23, 2], (x) => [x.spd, 1.5], (x) => [x.spd, 'x']]);
spec('linalg.cross', (x) => [x.v3, x.v3], [(x) => [x.a45, x.a45], (x) => [x.v3, x.v3, 2]]);

// ---- nn ----
spec('nn.relu nn.gelu nn.silu nn.softplus nn.logSigmoid', (x) => [x.v3]);
spec('nn.leakyRelu nn.elu', (x) => [x.v3], [(x) => [x.v3, 'x']]);
spec('nn.crossEntropy', (x) => [x.a23, x.targets], [
  (x) => [x.a23, x.targets3],
  (x) => [x.a23, x.a45],
  (x) => [x.a23, x.targets, { reduction: 'x' }],
]);
spec('nn.mseLoss', (x) => [x.a23, x.a23], [(x) => [x.a23, x.a45], (x) => [x.a23, x.a23, 'x']]);
spec('nn.mish nn.geluTanh', (x) => [x.v3], [(x) => [x.i3]]);
spec('nn.glu', (x) => [x.a45, 0], [(x) => [x.v3], (x) => [x.a45, 5]]);
spec('nn.nllLoss nn.accuracy', (x) => [x.a23, x.targets], [(x) => [x.a23, x.targets3], (x) => [x.a23, x.fidx]]);
spec('nn.binaryCrossEntropy nn.l1Loss nn.klDivLoss', (x) => [x.a23, x.a23], [
  (x) => [x.a23, x.a45],
  (x) => [x.a23, x.a23, 'x'],
]);
spec('nn.smoothL1Loss nn.huberLoss', (x) => [x.a23, x.a23], [
  (x) => [x.a23, x.a45],
  (x) => [x.a23, x.a23, { reduction: 'x' }],
  (x) => [x.a23, x.a23, { bogus: 1 }],
]);
spec('nn.layerNorm nn.rmsNorm', (x) => [x.a23], [(x) => [x.a23, { weight: x.v2 }], (x) => [x.a23, { eps: 'x' }], (x) => [x.i3]]);
spec('nn.groupNorm', (x) => [x.a23, 3], [(x) => [x.a23, 2], (x) => [x.a23, 0], (x) => [x.v3, 3]]);
spec('nn.dropout', (x) => [x.a23, 0.5, x.key], [(x) => [x.a23, 1, x.key], (x) => [x.a23, 0.5, x.v3], (x) => [x.i3, 0.5, x.key]]);
spec('nn.conv1d', (x) => [x.k.ones([1, 4, 2]), x.k.ones([3, 2, 2])], [
  (x) => [x.a23, x.k.ones([3, 2, 2])],
  (x) => [x.k.ones([1, 4, 2]), x.k.ones([3, 2, 5])],
  (x) => [x.k.ones([1, 4, 2]), x.k.ones([3, 2, 2]), { stride: 0 }],
]);
spec('nn.conv2d', (x) => [x.k.ones([1, 4, 4, 2]), x.k.ones([3, 2, 2, 2])], [
  (x) => [x.a23, x.k.ones([3, 2, 2, 2])],
  (x) => [x.k.ones([1, 4, 4, 2]), x.k.ones([3, 2, 2, 2]), { padding: [1] }],
  (x) => [x.k.ones([1, 4, 4, 2]), x.k.ones([3, 2, 2, 2]), { groups: 2 }],
]);
spec('nn.maxPool2d nn.avgPool2d', (x) => [x.k.ones([1, 4, 4, 2]), 2], [
  (x) => [x.a23, 2],
  (x) => [x.k.ones([1, 4, 4, 2]), 0],
  (x) => [x.k.ones([1, 4, 4, 2]), 2, { padding: 2 }],
]);
spec('nn.scaledDotProductAttention', (x) => [x.a23, x.a23, x.a23], [
  (x) => [x.a23, x.a45, x.a23],
  (x) => [x.a23, x.a23, x.a23, { causal: 'yes' }],
  (x) => [x.i3, x.i3, x.i3],
]);
spec('nn.init.glorotUniform nn.init.glorotNormal nn.init.heUniform nn.init.heNormal', (x) => [x.key, [3, 2]], [
  (x) => [x.key, [3]],
  (x) => [x.key, [3, 2], { dtype: 'int32' }],
  (x) => [x.v3, [3, 2]],
]);
spec('nn.init.truncatedNormal', (x) => [x.key, [3]], [(x) => [x.key, [3], { lower: 1, upper: -1 }], (x) => [x.key, [3], { std: 0 }]]);
spec('nn.Embedding', (x) => [5, 3], [(x) => [0, 3], (x) => [5, 'x'], (x) => [5, 3, { key: 'x' }]]);
spec('nn.Conv1d nn.Conv2d', (x) => [2, 4, 3], [(x) => [2, 4, 0], (x) => [3, 4, 3, { groups: 2 }], (x) => [2, 4, 3, { bias: 1 }]]);
spec('nn.MaxPool2d nn.AvgPool2d', (x) => [2], [(x) => [0], (x) => [2, { stride: 'x' }], (x) => [[2, 2, 2]]]);
spec('nn.LayerNorm nn.RmsNorm', (x) => [4], [(x) => [0], (x) => [4, { bogus: 1 }]]);
spec('nn.GroupNorm', (x) => [2, 4], [(x) => [3, 4], (x) => [0, 4], (x) => [2, 4, { affine: 'yes' }]]);
spec('nn.BatchNorm', (x) => [3], [(x) => [0], (x) => [3, { momentum: 2 }], (x) => [3, { affine: 1 }]]);
spec('nn.batchNorm', (x) => [x.a23, x.v3, x.v3], [
  (x) => [x.a23, x.v2, x.v3],
  (x) => [x.a23, x.v3, x.v3, { training: 'yes' }],
  (x) => [x.k.ones([1, 3]), x.v3, x.v3, { training: true }],
]);
spec('nn.Dropout', (x) => [0.5], [(x) => [1], (x) => [-0.5], (x) => [0.5, { key: 'x' }]]);
spec('nn.MultiHeadAttention', (x) => [4, 2], [(x) => [4, 3], (x) => [0, 2], (x) => [4, 2, { bias: 'x' }]]);
spec('nn.TransformerEncoderBlock', (x) => [4, 2], [(x) => [4, 3], (x) => [4, 2, { activation: 'x' }], (x) => [4, 2, { normFirst: 1 }]]);
spec('nn.Rope', (x) => [2], [(x) => [3], (x) => [2, { traditional: 'x' }]]);
spec('nn.sinusoidalPositions', (x) => [4, 8], [(x) => [4, 3], (x) => [-1, 8], (x) => [4, 8, 'x']]);
spec('nn.rope', (x) => [x.a23, 2], [(x) => [x.a23, 3], (x) => [x.v3, 2], (x) => [x.a23, 2, { offset: -1 }]]);

// ---- transforms ----
const thrower = () => {
  throw boom;
};
spec(
  'grad valueAndGrad',
  (x) => [sumSquares(x.k)],
  [
    (x) => [(t) => t.mul(2)], // not a scalar
    (x) => [thrower],
    (x) => [() => 'x'],
    (x) => [sumSquares(x.k), 5],
    (x) => [sumSquares(x.k), 'x'],
  ],
  { apply: (x) => [x.v3] },
);
spec('jacobian jacfwd jacrev', (x) => [(t) => t.mul(t)], [(x) => [thrower], (x) => [() => 'x']], {
  apply: (x) => [x.v3],
});
spec('hessian', (x) => [sumSquares(x.k)], [(x) => [thrower], (x) => [() => 'x']], { apply: (x) => [x.v3] });
spec('vmap', (x) => [(t) => t.sum()], [(x) => [(t) => t.sum(), 5], (x) => [thrower]], {
  apply: (x) => [x.a23],
});
// Batch sizes 2 and 4 in one call.
specs.vmap.badApply = [(x) => [[(p, q) => p.add(q)], [x.a23, x.a45]]];
spec('compile', (x) => [(t) => t.mul(2)], [(x) => [() => 'x'], (x) => [(t) => t.matmul(x.a45)]], {
  apply: (x) => [x.a23],
});
spec('checkpoint', (x) => [(t) => t.mul(2)], [(x) => [5], (x) => [() => 'x']], { apply: (x) => [x.v3] });
spec('customVjp', (x) => [(t) => t.mul(2), (p, out, ct) => [ct.mul(2)]], [
  (x) => [(t) => t, 5],
  (x) => [5, (p, out, ct) => [ct]],
  (x) => [() => 'x', (p, out, ct) => [ct]],
], { apply: (x) => [x.v3] });
// ---- NumPy's composite functions ----
spec('einsum', (x) => ['ij,jk->ik', x.a23, x.k.ones([3, 2])], [
  (x) => ['ij,jk->ik', x.a23, x.a23],
  (x) => ['ij,jk', x.a23],
  (x) => ['i$,j', x.v3, x.v3],
  (x) => ['ij->q', x.a23],
  (x) => [5, x.a23],
]);
spec('hstack vstack', (x) => [[x.a23, x.a23]], [(x) => [[x.a23, x.a45]], (x) => [x.a23], (x) => [[]]]);
spec('diff', (x) => [x.a23], [(x) => [x.s], (x) => [x.a23, -1], (x) => [x.a23, 1, 5]]);
spec('meshgrid', (x) => [[x.v3, x.v2]], [(x) => [[x.a23, x.v2]], (x) => [[x.v3], 'xyz']]);
spec('isclose allclose', (x) => [x.a23, x.a23], [(x) => [x.a23, x.a45], (x) => [x.a23, x.a23, { rtol: -1 }], (x) => [x.a23, x.a23, { tol: 1 }]]);
spec('arrayEqual', (x) => [x.a23, x.a45], [(x) => [x.a23, x.a23, { equalNan: 'x' }]]);
spec('nanToNum', (x) => [x.v3], [(x) => [x.v3, { nan: 'x' }], (x) => [x.v3, { inf: 1 }]]);
spec('oneHot', (x) => [x.idx, 3], [(x) => [x.v3, 3], (x) => [x.idx, -1], (x) => [x.idx, 3, 'float64']]);
spec('cov corrcoef', (x) => [x.a23], [(x) => [x.k.ones([2, 2, 2])], (x) => [x.a23, { rowvar: 'x' }]]);
spec('convolve correlate', (x) => [x.v3, x.v2], [(x) => [x.a23, x.v2], (x) => [x.v3, x.v2, 'middle'], (x) => [x.v3, x.k.zeros([0])]]);

// ---- modules and optimizers ----
spec('nn.Linear', (x) => [3, 2], [
  (x) => [0, 2],
  (x) => [3, 2.5],
  (x) => [3, 'x'],
  (x) => [3, 2, { bias: 'yes' }],
  (x) => [3, 2, { key: 'x' }],
]);
spec('nn.Sequential', (x) => [new x.k.nn.ReLU()], [(x) => [x.v3], (x) => [new x.k.nn.ReLU(), 5]], { noArgsOk: true });
{
  const linearLoss = (x) => {
    const model = new x.k.nn.Linear(3, 1, { key: x.key });
    return [model, (v) => x.k.sum(model.forward(v))];
  };
  spec('nn.valueAndGrad', linearLoss, [(x) => [{}, () => x.s], (x) => [linearLoss(x)[0], 5]], { apply: (x) => [x.v3] });
}
// An empty safetensors file: an 8-byte header length, then `{}`.
const emptyFile = () => new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 123, 125]);
spec('io.loadSafetensors', (x) => [emptyFile()], [
  (x) => [new Uint8Array([1, 2, 3])],
  (x) => [new Uint8Array([255, 0, 0, 0, 0, 0, 0, 0, 123, 125])],
  (x) => [5],
  (x) => [emptyFile(), 5],
]);
spec('io.saveSafetensors', (x) => [{ a: x.v3 }], [
  (x) => [{}],
  (x) => [{ a: 'x' }],
  (x) => [{ a: x.v3 }, { metadata: { k: 5 } }],
  (x) => [{ a: x.v3 }, { metadata: 'x' }],
]);
spec('optimizers.SGD', (x) => [0.1], [
  (x) => [-1],
  (x) => ['x'],
  (x) => [0.1, { momentum: -1 }],
  (x) => [0.1, { nesterov: 1 }],
  (x) => [0.1, { bogus: 1 }],
  (x) => [0.1, 5],
]);
spec('optimizers.Adam optimizers.AdamW', (x) => [0.1], [
  (x) => [-1],
  (x) => [0.1, { betas: [0.9] }],
  (x) => [0.1, { betas: [0.9, 1.5] }],
  (x) => [0.1, { eps: 0 }],
  (x) => [0.1, { weightDecay: -1 }],
]);
spec('optimizers.RMSprop', (x) => [0.1], [(x) => [0.1, { alpha: 1 }], (x) => [0.1, { centered: 'no' }], (x) => [Infinity]]);
spec('optimizers.Adagrad', (x) => [0.1], [(x) => [0.1, { eps: -1 }], (x) => [NaN]]);
spec('optimizers.Lion', (x) => [0.1], [(x) => [0.1, { betas: [2, 0.9] }], (x) => [0.1, { eps: 1 }]]);
spec('optimizers.stepDecay', (x) => [0.1, 0.5, 10], [(x) => ['x', 0.5, 10], (x) => [0.1, 0.5, -1], (x) => [0.1, 0.5, 1.5]]);
spec('optimizers.exponentialDecay', (x) => [0.1, 0.5], [(x) => [0.1, 'x']]);
spec('optimizers.cosineDecay', (x) => [0.1, 100], [(x) => [0.1, -5], (x) => [0.1, 100, 'x']]);
spec('optimizers.linearSchedule', (x) => [0, 0.1, 100], [(x) => [0, 0.1, -1], (x) => [0, 'x', 100]]);
spec('optimizers.joinSchedules', (x) => [[() => 1, () => 2], [5]], [
  (x) => [[() => 1], [5]],
  (x) => [[() => 1, 3], [5]],
  (x) => [[() => 1, () => 2], [-1]],
  (x) => [[() => 1, () => 2, () => 3], [5, 2]],
]);
spec('optimizers.clipGradNorm', (x) => [[x.v3], 1], [(x) => [[x.v3], -1], (x) => [[], 1], (x) => [['x'], 1]]);

spec('vjp', (x) => [(t) => t.mul(2), [x.v3], [x.v3]], [
  (x) => [(t) => t.mul(2), [x.v3], [x.a23]],
  (x) => [thrower, [x.v3], [x.v3]],
]);
spec('jvp', (x) => [(t) => t.mul(2), [x.v3], [x.v3]], [
  (x) => [(t) => t.mul(2), [x.v3], [x.a23]],
  (x) => [thrower, [x.v3], [x.v3]],
]);

// ---- memory and setup ----
spec('tidy', (x) => [() => x.v3.add(1)], [(x) => [thrower], (x) => [async () => x.v3]]);
spec('keep', (x) => [x.v3]);
spec('eval evaluate', (x) => [x.v3], [], { noArgsOk: true });

// ---- Array members without a function of the same name ----
spec('Array#data Array#array Array#clone', (x) => [x.s]);
spec('Array#item', (x) => [x.s], [(x) => [x.v3]]);

/** Every function of the package: exports, namespaces, Array members. */
export function surface(k) {
  const out = [];
  for (const [name, value] of Object.entries(k)) {
    if (name === 'Array') {
      out.push({ name, kind: 'class' });
    } else if (typeof value === 'function') {
      out.push({ name, kind: 'function' });
    } else if (value && typeof value === 'object') {
      // Namespaces, and the namespaces inside them (kiln.nn.init).
      const walk = (prefix, namespace) => {
        for (const [inner, v] of Object.entries(namespace)) {
          if (typeof v === 'function') out.push({ name: `${prefix}.${inner}`, kind: 'function' });
          else if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) walk(`${prefix}.${inner}`, v);
        }
      };
      walk(name, value);
    }
  }
  for (let proto = k.Array.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      // Skip wasm-bindgen's internals (__wbg_ptr, __destroy_into_raw).
      if (name === 'constructor' || name.startsWith('__') || out.some((e) => e.name === `Array#${name}`)) continue;
      if (d.get) out.push({ name: `Array#${name}`, kind: 'getter' });
      else if (typeof d.value === 'function') out.push({ name: `Array#${name}`, kind: 'method' });
    }
  }
  return out;
}

const lookup = (k, name) => name.split('.').reduce((o, p) => o[p], k);

/** A short description of a call's arguments, for the report. */
function describe(x, args) {
  const one = (v) => {
    if (v === x.dead) return 'disposed';
    if (v instanceof x.k.Array) return `${v.dtype}[${v.shape}]`;
    if (typeof v === 'function') return v === thrower ? 'fn throwing' : `fn ${String(v).slice(0, 24)}`;
    if (Array.isArray(v)) return `[${v.map(one).join(', ')}]`;
    if (v === undefined) return 'undefined';
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    if (typeof v === 'object' && v.constructor !== Object) return v.constructor.name;
    return JSON.stringify(v);
  };
  return args.map(one).join(', ');
}

/**
 * The bad calls of one spec: its own, plus each array, list of arrays or
 * function argument replaced by garbage (the first argument where there is
 * none), plus the call without arguments.
 */
function badCalls(x, s) {
  const garbage = [{}, 'x', x.dead];
  const calls = s.bad.map((f) => f(x));
  const ok = s.ok(x);
  const substitutable = (v) =>
    v instanceof x.k.Array || typeof v === 'function' || (Array.isArray(v) && v.some((e) => e instanceof x.k.Array));
  const positions = ok.map((v, i) => (substitutable(v) ? i : -1)).filter((i) => i >= 0);
  if (positions.length === 0 && ok.length > 0) positions.push(0);
  for (const p of positions) {
    for (const g of garbage) calls.push(ok.map((v, i) => (i === p ? g : v)));
    if (Array.isArray(ok[p])) calls.push(ok.map((v, i) => (i === p ? [x.dead, ...ok[p].slice(1)] : v)));
  }
  if (!s.noArgsOk) calls.push([]);
  return calls;
}

/** Disposes the kiln arrays in a value (an array, a list, an object). */
function disposeAll(k, v, seen = new Set()) {
  if (!v || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  if (v instanceof k.Array) {
    try {
      v.dispose();
    } catch {
      // Already disposed.
    }
    return;
  }
  for (const e of Object.values(v)) disposeAll(k, e, seen);
}

/**
 * What a call did: { threw } or { value }; promises are awaited. For a
 * call that throws at once, `leaked` counts the arrays it left alive (read
 * before anything else can run, so the garbage collector cannot interfere).
 */
async function attempt(k, f) {
  const before = k.memory().numArrays;
  let value;
  try {
    value = f();
  } catch (threw) {
    return { threw, leaked: k.memory().numArrays - before };
  }
  try {
    if (value && typeof value.then === 'function') value = await value;
    return { value };
  } catch (threw) {
    return { threw };
  }
}

/** A returned value, for the report; arrays as dtype[shape]. */
function shown(k, v) {
  if (v instanceof k.Array) {
    try {
      return `${v.dtype}[${v.shape}]`;
    } catch (e) {
      return `an unusable array (${e.message})`;
    }
  }
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return `[${v.map((e) => shown(k, e)).join(', ')}]`;
  return JSON.stringify(v) ?? String(v);
}

const norm = (s) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Whether `f` is a class (called with `new`). */
const isClass = (f) => typeof f === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(f));

/** Judges a call that should have failed. */
function judge(k, name, outcome) {
  if (!('threw' in outcome)) {
    const v = outcome.value;
    return { status: 'no-throw', message: `returned ${shown(k, v).slice(0, 100)}` };
  }
  const e = outcome.threw;
  if (e === boom) return { status: 'ok', message: e.message };
  if (!(e instanceof Error)) return { status: 'not-an-error', message: `threw ${typeof e}: ${String(e).slice(0, 120)}` };
  if (!e.message) return { status: 'empty-message', message: `${e.name} with no message` };
  if (untagged.has(name)) return { status: 'ok', message: e.message };
  const base = name.replace(/^Array#/, '');
  const tag = /^\[([^\]]+)\] \S/.exec(e.message)?.[1];
  if (!tag) return { status: 'untagged', message: e.message };
  const names = [base, base.split('.').pop(), methodAliases[base], exportAliases[base]].filter(Boolean).map(norm);
  if (!names.includes(norm(tag))) return { status: 'wrong-tag', message: e.message };
  if (outcome.leaked > 0) return { status: 'leak', message: `${outcome.leaked} array(s) left alive by: ${e.message}` };
  return { status: 'ok', message: e.message };
}

/** The spec of a name: methods share their function's spec. */
function specFor(entry) {
  if (entry.kind !== 'method') return { s: specs[entry.name], method: false };
  const base = entry.name.slice('Array#'.length);
  return { s: specs[entry.name] ?? specs[methodAliases[base] ?? base], method: true };
}

/** Runs one entry's checks; returns result records. */
async function checkEntry(k, entry) {
  const name = entry.name;
  const results = [];
  const record = (label, judged) => results.push({ name, args: label, ...judged });
  const x = fixtures(k);
  try {
    if (entry.kind === 'class') {
      for (const args of [[], [{}], ['x'], [x.dead]]) {
        const out = await attempt(k, () => new k.Array(...args));
        record(`new (${describe(x, args)})`, judge(k, name, out));
      }
      return results;
    }
    if (entry.kind === 'getter') {
      // Reading a property of a disposed array.
      const prop = name.slice('Array#'.length);
      const got = await attempt(k, () => x.dead[prop]);
      record('disposed', judge(k, name, got));
      return results;
    }
    const found = specFor(entry);
    if (!found.s) {
      results.push({ name, args: '', status: 'unchecked', message: 'no bad-input spec for this function' });
      return results;
    }
    const { s, method } = found;
    const prop = name.slice('Array#'.length);
    // Calls `name` with args; for methods the first argument is the receiver.
    const call = (args) => {
      if (!method) {
        const fn = lookup(k, name);
        return isClass(fn) ? new fn(...args) : fn(...args);
      }
      const [self, ...rest] = args;
      return k.Array.prototype[prop].call(self, ...rest);
    };
    const run = async (args, applyArgs) => {
      const out = await attempt(k, () => call(args));
      if ('value' in out && typeof out.value === 'function' && applyArgs) {
        const g = out.value;
        return attempt(k, () => g(...applyArgs));
      }
      return out;
    };

    // The valid call must work, or the bad calls prove nothing.
    const okArgs = s.ok(x);
    if (method && !(okArgs[0] instanceof k.Array)) {
      results.push({ name, args: '', status: 'unchecked', message: "the function's spec has no array to call the method on" });
      return results;
    }
    const valid = await run(okArgs, s.apply?.(x));
    if ('threw' in valid) {
      results.push({ name, args: describe(x, okArgs), status: 'valid-call-failed', message: String(valid.threw?.message ?? valid.threw) });
    } else {
      disposeAll(k, valid.value);
    }

    for (const args of badCalls(x, s)) {
      // A method always has its receiver.
      if (method && args.length === 0) continue;
      const out = await run(args, s.apply?.(x));
      record(describe(x, args), judge(k, name, out));
      if ('value' in out) disposeAll(k, out.value);
    }
    // Transforms: the function they return, called with bad arguments.
    if (s.apply) {
      const calls = [{}, 'x', x.dead].map((g) => [okArgs, [g]]);
      for (const f of s.badApply ?? []) calls.push(f(x));
      for (const [fnArgs, applyArgs] of calls) {
        const out = await run(fnArgs, applyArgs);
        record(`${describe(x, fnArgs)}) then (${describe(x, applyArgs)}`, judge(k, name, out));
        if ('value' in out) disposeAll(k, out.value);
      }
    }
    return results;
  } finally {
    disposeAll(k, x);
  }
}

/** Whether the module still computes: [[1, 2], [3, 4]] @ [[5], [6]]. */
export async function healthy(k) {
  try {
    const y = k.tidy(() => k.matmul(k.array([[1, 2], [3, 4]]), k.array([[5], [6]])));
    const v = Array.from(await y.data());
    y.dispose();
    return v.length === 2 && v[0] === 17 && v[1] === 39;
  } catch {
    return false;
  }
}

/**
 * Runs the checks of every surface entry from index `from` on. Stops after
 * the first entry that leaves the module broken (`crashed`, `next`: where
 * to go on in a fresh module).
 */
export async function runErrorChecks(k, { from = 0 } = {}) {
  const entries = surface(k);
  const results = [];
  for (let i = from; i < entries.length; i++) {
    const entry = entries[i];
    if (exempt[entry.name]) {
      results.push({ name: entry.name, args: '', status: 'exempt', message: exempt[entry.name] });
      continue;
    }
    let entryResults;
    try {
      entryResults = await checkEntry(k, entry);
    } catch (e) {
      entryResults = [{ name: entry.name, args: '', status: 'harness-error', message: String(e?.stack ?? e) }];
    }
    results.push(...entryResults);
    if (!(await healthy(k))) {
      return { total: entries.length, results, crashed: entry.name, next: i + 1 < entries.length ? i + 1 : null };
    }
  }
  return { total: entries.length, results, crashed: null, next: null };
}

/** The failures among results, as report lines. */
export function failures(results) {
  return results
    .filter((r) => r.status !== 'ok' && r.status !== 'exempt')
    .map((r) => `${r.status}: ${r.name}(${r.args}): ${r.message}`);
}
