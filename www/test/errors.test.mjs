// Bad input to every function of the package (see errors.mjs), in Node
// with Dawn. The checks run in a child process; when a call leaves the
// module broken, a fresh process (a fresh module) goes on from the next
// function, so one crash does not hide the rest. (Not a worker thread:
// Dawn's pending work does not keep a worker's event loop alive.)
//
// Run: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json node --test test/errors.test.mjs
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { exempt, failures, runErrorChecks, surface } from './errors.mjs';

// What the README documents, by where it lives.
const documented = {
  '': `init array tidy keep dispose memory grad valueAndGrad vjp jvp vmap jacobian jacfwd jacrev
    hessian compile zeros ones full zerosLike onesLike fullLike arange linspace eye tri tril triu
    add subtract multiply divide power maximum minimum remainder floorDivide arctan2 equal notEqual
    less lessEqual greater greaterEqual logicalAnd logicalOr logicalNot bitwiseAnd bitwiseOr
    bitwiseXor abs exp log sqrt sin tanh sigmoid erf where clip astype sum mean prod max min all
    any logsumexp var std argmax argmin softmax logSoftmax cumsum cumprod reshape flatten transpose
    swapaxes moveaxis expandDims squeeze broadcastTo slice concatenate stack split pad tile repeat
    flip diagonal trace matmul outer inner tensordot take takeAlongAxis scatterAdd sort argsort
    topk Array`,
  'random.': 'key split foldIn bits uniform normal randint bernoulli gumbel categorical permutation',
  'linalg.': `inv solve det slogdet lu luFactor cholesky choSolve solveTriangular qr svd svdvals eigh
    eigvalsh pinv lstsq matrixRank cond norm matrixPower cross`,
  'nn.': 'relu gelu silu softplus logSigmoid leakyRelu elu crossEntropy mseLoss',
  'Array#': `shape dtype ndim size data array item dispose add sub mul div pow neg matmul reshape
    transpose T sum mean exp astype`,
};

/** A 3 x 4 by 4 x 2 product read back, for the check that all still works. */
const lhs = [[1, -2, 3, 0.5], [0, 1, -1, 2], [4, 0, 1, -3]];
const rhs = [[1, 2], [-1, 0], [0.5, -2], [3, 1]];

const childFlag = '--errors-from';

/** In the child: the checks from the entry given, reported to the parent. */
async function inChild(from) {
  await import('./gpu-node.mjs');
  const kiln = await import('@kiln-ml/kiln');
  await kiln.init({ backend: process.env.KILN_TEST_BACKEND ?? 'webgpu' });
  const report = await runErrorChecks(kiln, { from });
  if (report.next === null) {
    report.product = await kiln.matmul(lhs, rhs).array();
    report.names = surface(kiln).map((e) => e.name);
  }
  process.send(report);
}

/** Runs the checks from entry `from` in a fresh process. */
function segment(from) {
  const child = fork(fileURLToPath(import.meta.url), [childFlag, String(from)], { execArgv: [] });
  return new Promise((resolve, reject) => {
    let report;
    child.on('message', (m) => {
      report = m;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (report) resolve(report);
      else reject(new Error(`the checks from entry ${from} ended (${signal ?? code}) without a report`));
    });
  });
}

// node:test is loaded in the parent only (in the child it would print an
// empty test report).
async function main() {
  const { test, before } = await import('node:test');
  const assert = (await import('node:assert/strict')).default;
  const { matmul } = await import('./util.mjs');

  const reports = [];
  before(async () => {
    for (let from = 0; from !== null; from = reports.at(-1).next) reports.push(await segment(from));
  });
  const results = () => reports.flatMap((r) => r.results);
  const last = () => reports.at(-1);

  test('the README functions are all there', () => {
    const names = new Set(last().names);
    const missing = Object.entries(documented).flatMap(([prefix, list]) =>
      list.split(/\s+/).filter(Boolean).map((n) => prefix + n).filter((n) => !names.has(n)),
    );
    assert.deepEqual(missing, []);
  });

  test('every bad call throws an Error that names the op', (t) => {
    const all = results();
    const counted = all.filter((r) => r.status !== 'exempt');
    t.diagnostic(`${new Set(counted.map((r) => r.name)).size} functions, ${counted.length} bad calls`);
    for (const [name, why] of Object.entries(exempt)) t.diagnostic(`exempt: ${name}: ${why}`);
    const bad = failures(all);
    for (const line of bad) t.diagnostic(line);
    assert.equal(bad.length, 0, `${bad.length} bad calls misbehaved (listed above)`);
  });

  test('no bad call breaks the module', () => {
    assert.deepEqual(reports.map((r) => r.crashed).filter(Boolean), []);
  });

  test('a matmul after all of that is right', () => {
    assert.deepEqual(last().product, matmul(lhs, rhs));
  });
}

const at = process.argv.indexOf(childFlag);
if (at >= 0) await inChild(Number(process.argv[at + 1]));
else await main();
