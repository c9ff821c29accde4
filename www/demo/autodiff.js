// Section 3: f, f' and f'' of a function typed by the user, by reverse-mode
// automatic differentiation applied twice.
//
// The function is written in a small expression language, not in
// JavaScript, so the text box never runs arbitrary code: numbers, x, pi, e,
// + - * / ^ (power), parentheses and the functions in FUNCTIONS. It is
// parsed into a JS function of a kiln array that applies kiln ops elementwise.

import * as kiln from '../src/index.js';
import { Plot } from './plot.js';

const FUNCTIONS = {
  sin: 'sin',
  cos: 'cos',
  tan: 'tan',
  exp: 'exp',
  log: 'log',
  sqrt: 'sqrt',
  tanh: 'tanh',
  sinh: 'sinh',
  cosh: 'cosh',
  arctan: 'arctan',
  sigmoid: 'sigmoid',
  erf: 'erf',
  abs: 'abs',
};
const BINARY = { '+': 'add', '-': 'subtract', '*': 'multiply', '/': 'divide', '^': 'power' };
const CONSTANTS = { pi: Math.PI, e: Math.E };
const FOLD = {
  add: (a, b) => a + b,
  subtract: (a, b) => a - b,
  multiply: (a, b) => a * b,
  divide: (a, b) => a / b,
  power: (a, b) => a ** b,
};

export const PRESETS = ['sin(x)*x', 'tanh(x)', 'exp(-x^2)', 'x^3', 'sqrt(1+x^2)'];
const SAMPLES = 201;
const COLORS = { f: '#2563eb', df: '#ea580c', d2f: '#16a34a' };

function tokenize(text) {
  const tokens = [];
  const re = /\s*(?:(\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_]\w*)|(\S))/y;
  let m;
  while (re.lastIndex < text.length && (m = re.exec(text))) {
    const [, number, name, symbol] = m;
    const token = number ?? name ?? symbol;
    if (token === undefined) break; // trailing whitespace
    const at = re.lastIndex - token.length;
    if (number !== undefined) tokens.push({ kind: 'number', value: Number(number), text: number, at });
    else if (name !== undefined) tokens.push({ kind: 'name', value: name, text: name, at });
    else tokens.push({ kind: 'symbol', value: symbol, text: symbol, at });
  }
  return tokens;
}

// Recursive descent: expr = term (('+'|'-') term)*, term = unary (('*'|'/')
// unary)*, unary = '-' unary | power, power = atom ('^' unary)?. Nodes are
// { num } | { x } | { fn, arg } | { op, a, b } | { neg }.
export function parse(text) {
  const tokens = tokenize(text);
  let i = 0;
  const peek = () => tokens[i];
  const fail = (msg) => {
    throw new Error(`${msg} at position ${(peek()?.at ?? text.length) + 1}`);
  };
  const accept = (symbol) => {
    if (peek()?.kind === 'symbol' && peek().value === symbol) {
      i += 1;
      return true;
    }
    return false;
  };
  const expect = (symbol) => accept(symbol) || fail(`expected "${symbol}"`);

  function atom() {
    const t = peek();
    if (!t) fail('unexpected end of expression');
    if (t.kind === 'number') {
      i += 1;
      return { num: t.value };
    }
    if (t.kind === 'name') {
      i += 1;
      if (t.value === 'x') return { x: true };
      if (t.value in CONSTANTS) return { num: CONSTANTS[t.value] };
      if (t.value in FUNCTIONS) {
        expect('(');
        const arg = expr();
        expect(')');
        return { fn: FUNCTIONS[t.value], arg };
      }
      i -= 1;
      fail(`unknown name "${t.value}"`);
    }
    if (accept('(')) {
      const inner = expr();
      expect(')');
      return inner;
    }
    return fail(`unexpected "${t.text}"`);
  }
  function power() {
    const base = atom();
    return accept('^') ? { op: 'power', a: base, b: unary() } : base;
  }
  function unary() {
    return accept('-') ? { neg: unary() } : power();
  }
  function binary(next, symbols) {
    let node = next();
    for (;;) {
      const t = peek();
      if (t?.kind !== 'symbol' || !symbols.includes(t.value)) return node;
      i += 1;
      node = { op: BINARY[t.value], a: node, b: next() };
    }
  }
  const term = () => binary(unary, ['*', '/']);
  const expr = () => binary(term, ['+', '-']);

  const tree = expr();
  if (i < tokens.length) fail(`unexpected "${peek().text}"`);
  return tree;
}

const literal = (v) => String(Number(v.toPrecision(6)));

// The tree as a function of a kiln array, with constant arithmetic folded in
// JS, and the same function written as kiln calls (shown under the text box).
export function compile(tree) {
  function build(node) {
    if ('num' in node) return { num: node.num, code: literal(node.num) };
    if (node.x) return { apply: (x) => x, code: 'x', usesX: true };
    if (node.neg) {
      const a = build(node.neg);
      if ('num' in a) return { num: -a.num, code: literal(-a.num) };
      return { apply: (x) => kiln.negative(a.apply(x)), code: `kiln.negative(${a.code})`, usesX: a.usesX };
    }
    const name = node.fn ?? node.op;
    const args = node.fn ? [build(node.arg)] : [build(node.a), build(node.b)];
    if (!node.fn && args.every((a) => 'num' in a)) {
      const value = FOLD[name](args[0].num, args[1].num);
      return { num: value, code: literal(value) };
    }
    const op = kiln[name];
    const parts = args.map((a) => ('num' in a ? () => a.num : a.apply));
    return {
      apply: (x) => op(...parts.map((part) => part(x))),
      code: `kiln.${name}(${args.map((a) => a.code).join(', ')})`,
      usesX: args.some((a) => a.usesX),
    };
  }
  const root = build(tree);
  if ('num' in root) return { fn: (x) => kiln.fullLike(x, root.num), code: `kiln.fullLike(x, ${root.code})` };
  if (!root.usesX) return { fn: (x) => kiln.broadcastTo(root.apply(x), x.shape), code: root.code };
  return { fn: root.apply, code: root.code };
}

// A y range that ignores a few huge values (poles such as 1/x near 0), or
// undefined (fit everything) when there are none.
function visibleRange(values) {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return undefined;
  const lo = finite[Math.floor(finite.length * 0.02)];
  const hi = finite[Math.ceil(finite.length * 0.98) - 1];
  if (finite.at(-1) - finite[0] <= 4 * (hi - lo)) return undefined;
  const pad = (hi - lo) * 0.15 || 1;
  return [lo - pad, hi + pad];
}

export function setupAutodiff(root) {
  const $ = (sel) => root.querySelector(sel);
  const input = $('[data-role=expression]');
  const button = $('[data-role=plot]');
  const state = { busy: false, expression: null, xs: null, f: null, df: null, d2f: null, error: null };
  const plot = new Plot($('[data-role=curves]'), { xLabel: 'x', series: [] });

  async function render() {
    const text = input.value.trim();
    const lo = Number($('[data-role=lo]').value);
    const hi = Number($('[data-role=hi]').value);
    Object.assign(state, { expression: text, xs: null, f: null, df: null, d2f: null, error: null });
    $('[data-role=message]').textContent = '';
    $('[data-role=code]').textContent = '';
    try {
      if (!(lo < hi)) throw new Error('the interval needs "from" < "to"');
      const { fn, code } = compile(parse(text));
      $('[data-role=code]').textContent = `f = (x) => ${code}`;
      // g(x) = sum(f(x)) over independent sample points, so grad(g) is f'
      // pointwise; the same trick on f' gives f''.
      const g = (x) => kiln.sum(fn(x));
      const df = kiln.grad(g);
      const d2f = kiln.grad((x) => kiln.sum(df(x)));
      const outputs = kiln.tidy(() => {
        const x = kiln.linspace(lo, hi, SAMPLES);
        return [x, fn(x), df(x), d2f(x)];
      });
      const [xs, f, d1, d2] = (await Promise.all(outputs.map((a) => a.data()))).map((d) => Array.from(d));
      kiln.dispose(outputs);
      Object.assign(state, { xs, f, df: d1, d2f: d2 });
      // Where f is undefined (log of a negative number, a pole), so are its
      // derivatives, whatever the chain rule's arithmetic gives there.
      const whereDefined = (ys) => ys.map((y, i) => (Number.isFinite(f[i]) ? y : NaN));
      const [shownD1, shownD2] = [whereDefined(d1), whereDefined(d2)];
      plot.update({
        xRange: [lo, hi],
        yRange: visibleRange([...f, ...shownD1, ...shownD2]),
        series: [
          { label: 'f(x)', color: COLORS.f, xs, ys: f },
          { label: 'f′(x)', color: COLORS.df, xs, ys: shownD1 },
          { label: 'f″(x)', color: COLORS.d2f, xs, ys: shownD2 },
        ],
      });
    } catch (err) {
      state.error = err.message;
      $('[data-role=message]').textContent = err.message;
      // No curves of an earlier function under the error.
      plot.update({ xRange: undefined, yRange: undefined, series: [] });
    }
  }

  // Renders the current input; requests made meanwhile coalesce into one.
  let queued = false;
  async function draw() {
    if (state.busy) {
      queued = true;
      return;
    }
    state.busy = true;
    do {
      queued = false;
      await render();
    } while (queued);
    state.busy = false;
  }

  const presets = $('[data-role=presets]');
  for (const text of PRESETS) {
    const chip = document.createElement('button');
    chip.type = 'button';
    chip.className = 'chip';
    chip.textContent = text;
    chip.addEventListener('click', () => {
      input.value = text;
      draw();
    });
    presets.append(chip);
  }
  root.querySelector('form').addEventListener('submit', (event) => {
    event.preventDefault();
    draw();
  });
  for (const bound of root.querySelectorAll('[data-role=lo], [data-role=hi]')) bound.addEventListener('change', draw);
  button.disabled = false;
  return { state, ready: draw() };
}
