// kiln.optimizers in JavaScript: the update rules of the Rust optimizers
// (applied by the same code, one parameter at a time), over pytrees of
// parameters or a module's trainable parameters, with learning-rate
// schedules, gradient clipping and state to save and restore.

import * as raw from '../pkg/kiln.js';
import * as kiln from './index.js';
import * as pytree from './tree.js';
import { optionsOf } from './options.js';
import { ensureReady } from './state.js';

const number = (op, what, v, { min = -Infinity, below = Infinity, atLeast = true } = {}) => {
  const ok = typeof v === 'number' && Number.isFinite(v) && (atLeast ? v >= min : v > min) && v < below;
  if (!ok) throw new Error(`[${op}] ${what} must be a finite number ${atLeast ? '>=' : '>'} ${min}${below < Infinity ? ` and < ${below}` : ''}, got ${String(v)}`);
  return v;
};

const flag = (op, what, v) => {
  if (typeof v !== 'boolean') throw new Error(`[${op}] ${what} must be a boolean, got ${typeof v}`);
  return v;
};

const steps = (op, what, v) => {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** 32) throw new Error(`[${op}] ${what} must be a non-negative integer, got ${String(v)}`);
  return v;
};

/** `[β₁, β₂]`, each in [0, 1). */
const betasOf = (op, betas) => {
  if (!Array.isArray(betas) || betas.length !== 2) throw new Error(`[${op}] betas must be [beta1, beta2], got ${String(betas)}`);
  return betas.map((b, i) => number(op, `betas[${i}]`, b, { min: 0, below: 1 }));
};

/** A learning rate: a number, or a function of the step (0 for the first update). */
function scheduleOf(op, lr) {
  if (typeof lr === 'function') return lr;
  const value = number(op, 'the learning rate', lr, { min: 0 });
  return () => value;
}

/**
 * An update rule with its learning rate, step count and per-parameter
 * state (made by `SGD`, `Adam`, ... below).
 */
export class Optimizer {
  #rule;
  #schedule;
  #step = 0;
  /** Per parameter path: `{ steps, slots }`. */
  #state = new Map();

  constructor(rule, learningRate, op) {
    if (!(rule instanceof raw.OptimizerRule)) {
      throw new Error('[Optimizer] make optimizers with kiln.optimizers.SGD, Adam, AdamW, RMSprop, Adagrad or Lion');
    }
    this.#rule = rule;
    this.#schedule = scheduleOf(op, learningRate);
  }

  /** The number of updates so far. */
  get steps() {
    return this.#step;
  }

  /** The learning rate the next update uses. */
  get learningRate() {
    return this.#schedule(this.#step);
  }

  /**
   * Updates `model` (a `kiln.nn.Module`) with `grads`, a tree shaped like
   * (a part of) `model.trainableParameters()`: the parameters are replaced
   * and the old ones freed.
   */
  update(model, grads) {
    if (!(model instanceof kiln.nn.Module)) {
      throw new Error('[optimizer update] expects a kiln.nn.Module (use apply() for a tree of parameters)');
    }
    const params = model.trainableParameters();
    const old = new Map(pytree.flattenWithPaths(params));
    const updated = this.apply(params, grads);
    const changed = pytree.flattenWithPaths(updated).filter(([path, a]) => old.get(path) !== a);
    model.update(updated);
    kiln.dispose(changed.map(([path]) => old.get(path)));
  }

  /**
   * The parameters `params` (a pytree) after one update with `grads` (a
   * tree of the same paths, or some of them); the new arrays outlive any
   * `tidy`, and `params` are left as they are.
   */
  apply(params, grads) {
    const op = 'optimizer update';
    const named = pytree.flattenWithPaths(params);
    const current = new Map(named);
    const pairs = pytree.flattenWithPaths(grads);
    for (const [path, g] of pairs) {
      const p = current.get(path);
      if (p === undefined) throw new Error(`[${op}] the parameters have no ${JSON.stringify(path)} for its gradient`);
      if (!(g instanceof kiln.Array) || !(p instanceof kiln.Array)) throw new Error(`[${op}] ${path}: parameters and gradients must be kiln arrays`);
      if (String(g.shape) !== String(p.shape)) {
        throw new Error(`[${op}] the gradient of ${path} has shape (${g.shape}), the parameter (${p.shape})`);
      }
      const state = this.#state.get(path);
      if (state && String(state.slots[0]?.shape ?? p.shape) !== String(p.shape)) {
        throw new Error(`[${op}] the state of ${path} has shape (${state.slots[0].shape}), the parameter (${p.shape})`);
      }
    }
    this.#step += 1;
    const lr = this.#schedule(this.#step - 1);
    number(op, 'the learning rate', lr, { min: 0 });
    const replaced = new Map();
    kiln.tidy(() => {
      for (const [path, g] of pairs) {
        const p = current.get(path);
        let state = this.#state.get(path);
        if (state === undefined) {
          state = { steps: 0, slots: this.#rule.slots().map(() => kiln.keep(kiln.zerosLike(p))) };
          this.#state.set(path, state);
        }
        state.steps += 1;
        const [next, ...slots] = this.#rule.apply(state.steps, lr, p, g, state.slots.map((s) => s.clone()));
        kiln.dispose(state.slots);
        state.slots = slots.map((s) => kiln.keep(s));
        replaced.set(path, kiln.keep(next));
      }
    });
    // `named` lists the leaves in the order of the structure.
    return pytree.structure(params).unflatten(named.map(([path, leaf]) => replaced.get(path) ?? leaf));
  }

  /**
   * The state by name, as the Rust optimizer names it: `step` (updates so
   * far), and per parameter `step.<path>` and `<slot>.<path>`; copies, to
   * save with `io.saveSafetensors`.
   */
  state() {
    const out = { step: kiln.array(this.#step, 'uint32') };
    const slots = this.#rule.slots();
    for (const [path, { steps: n, slots: arrays }] of this.#state) {
      out[`step.${path}`] = kiln.array(n, 'uint32');
      slots.forEach((name, i) => { out[`${name}.${path}`] = arrays[i].clone(); });
    }
    return out;
  }

  /** Restores what `state()` returned (reads the step counts back, hence async). */
  async loadState(state) {
    const op = 'optimizer load_state';
    if (state === null || typeof state !== 'object') throw new Error(`[${op}] expects the object state() returned`);
    const slots = this.#rule.slots();
    const count = async (name) => {
      const a = state[name];
      if (!(a instanceof kiln.Array) || a.size !== 1 || !['int32', 'uint32'].includes(a.dtype)) {
        throw new Error(`[${op}] ${JSON.stringify(name)} must be one integer`);
      }
      return a.item();
    };
    if (!('step' in state)) throw new Error(`[${op}] the state has no "step"`);
    const restored = new Map();
    for (const name of Object.keys(state)) {
      if (name === 'step') continue;
      const dot = name.indexOf('.');
      const [slot, path] = dot < 0 ? [name, ''] : [name.slice(0, dot), name.slice(dot + 1)];
      if (slot !== 'step' && !slots.includes(slot)) {
        throw new Error(`[${op}] ${JSON.stringify(name)} is not a slot of this optimizer (its slots: ${slots.join(', ') || 'none'})`);
      }
      if (!restored.has(path)) restored.set(path, { steps: undefined, slots: slots.map(() => undefined) });
      const entry = restored.get(path);
      if (slot === 'step') entry.steps = name;
      else entry.slots[slots.indexOf(slot)] = state[name];
    }
    for (const [path, entry] of restored) {
      if (entry.steps === undefined) throw new Error(`[${op}] the state of ${JSON.stringify(path)} has no "step.${path}"`);
      if (entry.slots.some((s) => !(s instanceof kiln.Array))) {
        throw new Error(`[${op}] the state of ${JSON.stringify(path)} misses some of the slots ${slots.join(', ')}`);
      }
    }
    // Counts read last, so that a bad state changes nothing.
    const total = await count('step');
    const next = new Map();
    for (const [path, entry] of restored) {
      next.set(path, { steps: await count(entry.steps), slots: entry.slots.map((s) => kiln.keep(s.clone())) });
    }
    for (const { slots: arrays } of this.#state.values()) kiln.dispose(arrays);
    this.#step = total;
    this.#state = next;
  }

  /** Frees the state's arrays. */
  dispose() {
    for (const { slots: arrays } of this.#state.values()) kiln.dispose(arrays);
    this.#state.clear();
  }
}

/** Stochastic gradient descent, with momentum, dampening, Nesterov and L2 weight decay as PyTorch's. */
export function SGD(learningRate, options) {
  const op = 'SGD';
  ensureReady(op);
  const { momentum = 0, dampening = 0, nesterov = false, weightDecay = 0 } =
    optionsOf(op, options, ['momentum', 'dampening', 'nesterov', 'weightDecay']);
  const rule = raw.sgdRule(number(op, 'momentum', momentum, { min: 0 }), number(op, 'dampening', dampening, { min: 0 }),
    flag(op, 'nesterov', nesterov), number(op, 'weightDecay', weightDecay, { min: 0 }));
  return new Optimizer(rule, learningRate, op);
}

const adamLike = (op, make) => (learningRate, options) => {
  ensureReady(op);
  const { betas = [0.9, 0.999], eps = 1e-8, weightDecay = op === 'AdamW' ? 0.01 : 0 } =
    optionsOf(op, options, ['betas', 'eps', 'weightDecay']);
  const [b1, b2] = betasOf(op, betas);
  return new Optimizer(make(b1, b2, number(op, 'eps', eps, { min: 0, atLeast: false }), number(op, 'weightDecay', weightDecay, { min: 0 })),
    learningRate, op);
};

/** Adam with bias correction; `weightDecay` is L2 (added to the gradient). */
export const Adam = adamLike('Adam', (...a) => raw.adamRule(...a));
/** AdamW: Adam with decoupled weight decay (default 0.01). */
export const AdamW = adamLike('AdamW', (...a) => raw.adamwRule(...a));

/** RMSprop as PyTorch's (alpha 0.99, optional momentum and centering). */
export function RMSprop(learningRate, options) {
  const op = 'RMSprop';
  ensureReady(op);
  const { alpha = 0.99, eps = 1e-8, momentum = 0, centered = false, weightDecay = 0 } =
    optionsOf(op, options, ['alpha', 'eps', 'momentum', 'centered', 'weightDecay']);
  const rule = raw.rmspropRule(number(op, 'alpha', alpha, { min: 0, below: 1 }), number(op, 'eps', eps, { min: 0, atLeast: false }),
    number(op, 'momentum', momentum, { min: 0 }), flag(op, 'centered', centered), number(op, 'weightDecay', weightDecay, { min: 0 }));
  return new Optimizer(rule, learningRate, op);
}

/** Adagrad as PyTorch's. */
export function Adagrad(learningRate, options) {
  const op = 'Adagrad';
  ensureReady(op);
  const { eps = 1e-10, weightDecay = 0 } = optionsOf(op, options, ['eps', 'weightDecay']);
  return new Optimizer(raw.adagradRule(number(op, 'eps', eps, { min: 0, atLeast: false }), number(op, 'weightDecay', weightDecay, { min: 0 })),
    learningRate, op);
}

/** Lion (Chen et al. 2023), with decoupled weight decay. */
export function Lion(learningRate, options) {
  const op = 'Lion';
  ensureReady(op);
  const { betas = [0.9, 0.99], weightDecay = 0 } = optionsOf(op, options, ['betas', 'weightDecay']);
  const [b1, b2] = betasOf(op, betas);
  return new Optimizer(raw.lionRule(b1, b2, number(op, 'weightDecay', weightDecay, { min: 0 })), learningRate, op);
}

/** A schedule made in Rust (by `make`, once the module is loaded), as the function of the step that optimizers take. */
const asFunction = (op, make) => {
  ensureReady(op);
  const schedule = make();
  return (step) => schedule.at(steps('schedule', 'the step', step));
};

/** `init · rate^⌊step / stepSize⌋` (PyTorch's StepLR). */
export const stepDecay = (init, rate, stepSize) => asFunction('step_decay', () => raw.stepDecay(number('step_decay', 'init', init),
  number('step_decay', 'rate', rate), steps('step_decay', 'stepSize', stepSize)));
/** `init · rate^step` (PyTorch's ExponentialLR). */
export const exponentialDecay = (init, rate) => asFunction('exponential_decay',
  () => raw.exponentialDecay(number('exponential_decay', 'init', init), number('exponential_decay', 'rate', rate)));
/** Half a cosine from `init` down to `end` over `decaySteps`, then `end`. */
export const cosineDecay = (init, decaySteps, end = 0) => asFunction('cosine_decay', () => raw.cosineDecay(number('cosine_decay', 'init', init),
  steps('cosine_decay', 'decaySteps', decaySteps), number('cosine_decay', 'end', end)));
/** A line from `init` to `end` over `steps`, then `end` (a warmup when it rises). */
export const linearSchedule = (init, end, count) => asFunction('linear_schedule', () => raw.linearSchedule(number('linear_schedule', 'init', init),
  number('linear_schedule', 'end', end), steps('linear_schedule', 'steps', count)));

/**
 * Schedules one after another: schedule `i + 1` starts, at its own step 0,
 * at `boundaries[i]` (one boundary fewer than schedules, ascending).
 */
export function joinSchedules(schedules, boundaries) {
  const op = 'join_schedules';
  if (!Array.isArray(schedules) || !Array.isArray(boundaries) || schedules.length === 0 ||
      boundaries.length + 1 !== schedules.length) {
    throw new Error(`[${op}] needs one boundary fewer than schedules`);
  }
  schedules.forEach((s, i) => { if (typeof s !== 'function') throw new Error(`[${op}] schedule ${i} is not a function`); });
  boundaries.forEach((b, i) => {
    steps(op, `boundaries[${i}]`, b);
    if (i > 0 && b < boundaries[i - 1]) throw new Error(`[${op}] boundaries must ascend`);
  });
  return (step) => {
    let i = 0;
    while (i < boundaries.length && step >= boundaries[i]) i++;
    return schedules[i](i === 0 ? step : step - boundaries[i - 1]);
  };
}

/**
 * `[clipped, norm]`: `grads` (a pytree) scaled so that their global L2 norm
 * is at most `maxNorm` (PyTorch's clip_grad_norm_), and the norm before.
 */
export function clipGradNorm(grads, maxNorm) {
  ensureReady('clip_grad_norm');
  const [leaves, def] = pytree.flatten(grads);
  if (leaves.length === 0) throw new Error('[clip_grad_norm] no gradients given');
  if (!leaves.every((g) => g instanceof kiln.Array && !g.isDisposed)) {
    throw new Error('[clip_grad_norm] gradients must be kiln arrays, not disposed');
  }
  const limit = number('clip_grad_norm', 'maxNorm', maxNorm, { min: 0 });
  const out = raw.clipGradNorm(leaves.map((g) => g.clone()), limit);
  const norm = out.pop();
  return [def.unflatten(out), norm];
}
