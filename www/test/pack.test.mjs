// The package as a user gets it: `npm pack` makes the tarball, a fresh
// project (www/test/packed/, rebuilt each run) installs it with npm, and
// then a Node script (on Dawn) and a Vite build of the test app (in
// headless Chromium) use it by its name, with nothing from the source tree.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build, createLogger } from 'vite';
import { serve } from '../scripts/serve.mjs';
import { launch, openPage, runApp } from './chromium.mjs';
import { appInput, assertAppResult } from './util.mjs';

const www = fileURLToPath(new URL('..', import.meta.url));
const project = new URL('packed/', import.meta.url);
const dir = fileURLToPath(project);
const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

let tarball;
let server;
let browser;
before(async () => {
  await rm(project, { recursive: true, force: true });
  await mkdir(project, { recursive: true });
  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], www));
  tarball = packed[0];
  await writeFile(new URL('package.json', project), JSON.stringify({ name: 'fresh-app', private: true, type: 'module' }));
  // The package has no dependencies: installing its tarball needs no network.
  npm(['install', '--offline', '--no-audit', '--no-fund', `./${tarball.filename}`], dir);
  server = await serve({ port: 0 });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('the tarball holds the built wasm, the sources and the types, and nothing else', () => {
  const files = tarball.files.map((f) => f.path).sort();
  for (const needed of ['pkg/kiln_bg.wasm', 'pkg/kiln.js', 'src/index.js', 'src/index.d.ts', 'src/layers.js', 'README.md', 'package.json']) {
    assert.ok(files.includes(needed), `${needed} missing from ${files.join(', ')}`);
  }
  assert.deepEqual(files.filter((f) => !/^(pkg|src)\/|^README\.md$|^package\.json$/.test(f)), []);
  assert.equal(tarball.name, '@kiln-ml/kiln');
});

test('a Node script of the fresh project trains with the installed package', () => {
  // navigator.gpu from the webgpu package (Dawn), as the README tells Node users.
  const gpu = new URL('gpu-node.mjs', import.meta.url).href;
  const script = `
    import '${gpu}';
    import * as kiln from '@kiln-ml/kiln';
    await kiln.init();
    const model = new kiln.nn.Linear(1, 1, { key: kiln.random.key(0) });
    const opt = kiln.optimizers.Adam(0.1);
    const x = kiln.array([[0], [1], [2], [3]]);
    const y = x.mul(2).add(1);
    const step = kiln.nn.valueAndGrad(model, () => kiln.mean(kiln.square(model.forward(x).sub(y))));
    let loss;
    for (let i = 0; i < 300; i++) {
      loss = kiln.tidy(() => { const [l, g] = step(); opt.update(model, g); return l; });
    }
    console.log(JSON.stringify({ loss: await loss.item(), w: await model.weight.item() }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' });
  const { loss, w } = JSON.parse(out.trim().split('\n').pop());
  assert.ok(loss < 1e-3, `loss ${loss}`);
  assert.ok(Math.abs(w - 2) < 0.05, `weight ${w}`);
});

test('a Vite build of the fresh project runs in the browser', async () => {
  const app = new URL('app/', project);
  await cp(new URL('vite/index.html', import.meta.url), new URL('index.html', app), { recursive: true });
  await writeFile(new URL('main.js', app), "import * as kiln from '@kiln-ml/kiln';\nimport { main } from '../../app.mjs';\n\nmain(kiln);\n");
  const warnings = [];
  const logger = createLogger('warn');
  logger.warn = logger.warnOnce = (message) => warnings.push(message);
  await build({
    root: fileURLToPath(app),
    base: './',
    build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
    logLevel: 'warn',
    customLogger: logger,
    configFile: false,
  });
  assert.deepEqual(warnings, []);
  const assets = await readdir(new URL('dist/assets/', app));
  assert.equal(assets.filter((f) => f.endsWith('.wasm')).length, 1, assets.join(', '));
  const page = await openPage(browser);
  const input = appInput(13);
  const url = new URL('www/test/packed/app/dist/index.html', server.url).href;
  assertAppResult(await runApp(page, url, input), input);
  assert.deepEqual(page.problems, []);
  await page.close();
});
