// kiln.nn's modules in JavaScript: a module is an object whose array-valued
// properties are its parameters and whose module-valued properties are its
// children (lists and plain objects of either count too), as MLX's
// nn.Module. `parameters()` is a pytree, so the transforms and optimizers
// take it as it is; the names of its leaves' paths (`'layers.0.weight'`)
// are those of the Rust modules, so weights move between the two.

import * as kiln from './index.js';
import * as pytree from './tree.js';
import { optionsOf } from './options.js';

const JsArray = globalThis.Array;

const isPlainObject = (v) =>
  v !== null && typeof v === 'object' && !JsArray.isArray(v) &&
  (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

/** Seeds of the keys drawn for layers made without one: a fixed sequence, so runs repeat. */
let nextSeed = 0;

/** The base class of layers and models. */
export class Module {
  constructor() {
    // Not enumerable: neither is a parameter.
    Object.defineProperty(this, 'isTraining', { value: true, writable: true });
    Object.defineProperty(this, 'frozen', { value: new Set(), writable: true });
    // Arrays the module keeps but never trains (batch norm's running statistics).
    Object.defineProperty(this, 'buffers', { value: new Set(), writable: true });
  }

  /** The module's parameters as a pytree of its properties (object keys sorted). */
  parameters() {
    return this.#collect(false);
  }

  /** The parameters an optimizer updates: those not frozen, and not buffers. */
  trainableParameters() {
    return this.#collect(true);
  }

  /** Child modules by property name (lists and objects of them as they are). */
  children() {
    const out = {};
    for (const key of Object.keys(this).sort()) {
      const found = childrenIn(this[key]);
      if (found !== undefined) out[key] = found;
    }
    return out;
  }

  /** The number of entries in trainable parameters. */
  numParameters() {
    return pytree.leaves(this.trainableParameters()).reduce((n, a) => n + a.size, 0);
  }

  /**
   * Freezes the parameters whose path starts with `prefix` (all for `''`),
   * so that `trainableParameters()`, `nn.valueAndGrad` and optimizers skip
   * them.
   */
  freeze(prefix = '') {
    this.#mark(prefix, true);
    return this;
  }

  /** Undoes `freeze` for the paths starting with `prefix`. */
  unfreeze(prefix = '') {
    this.#mark(prefix, false);
    return this;
  }

  /**
   * Sets the parameters in `tree` (a subtree of `parameters()`: any part
   * of it); a path the module lacks, or a shape or dtype other than the
   * parameter's, is an error that changes nothing. The arrays are taken as
   * they are (not copied); the replaced ones are not freed.
   */
  update(tree) {
    const pairs = pytree.flattenWithPaths(tree);
    const slots = new Map(this.#slots().map((s) => [s.path, s]));
    for (const [path, value] of pairs) {
      const slot = slots.get(path);
      if (slot === undefined) throw new Error(`[update] the module has no parameter named ${JSON.stringify(path)}`);
      if (!(value instanceof kiln.Array)) throw new Error(`[update] ${path} must be a kiln array, got ${typeof value}`);
      const old = slot.get();
      if (String(old.shape) !== String(value.shape) || old.dtype !== value.dtype) {
        throw new Error(`[update] parameter ${path} is ${old.dtype} (${old.shape}), got ${value.dtype} (${value.shape})`);
      }
    }
    for (const [path, value] of pairs) slots.get(path).set(value);
    return this;
  }

  /** Training (`true`) or evaluation behaviour for dropout and batch norm, in this module and below. */
  train(mode = true) {
    if (typeof mode !== 'boolean') throw new Error(`[train] the mode must be a boolean, got ${typeof mode}`);
    this.isTraining = mode;
    for (const child of pytree.leaves(this.children())) child.train(mode);
    return this;
  }

  /** `train(false)`. */
  eval() {
    return this.train(false);
  }

  /**
   * Sets every parameter from a safetensors file (a URL, `Response`,
   * `Blob`, `ArrayBuffer` or `Uint8Array`) or an object of arrays by path,
   * which must name each parameter (as `saveWeights` and the Rust
   * `nn::save_weights` write them). The replaced arrays are freed.
   */
  async loadWeights(source) {
    const isTable = source !== null && typeof source === 'object' && Object.getPrototypeOf(source) === Object.prototype;
    const loaded = isTable ? source : await kiln.io.loadSafetensors(source);
    const current = pytree.flattenWithPaths(this.parameters());
    const fail = (message) => {
      if (!isTable) kiln.dispose(Object.values(loaded));
      throw new Error(`[load_weights] ${message}`);
    };
    const missing = current.find(([path]) => !(path in loaded));
    if (missing) fail(`no value for the parameter ${JSON.stringify(missing[0])}`);
    try {
      this.update(loaded);
    } catch (e) {
      fail(e.message.replace(/^\[update\] /, ''));
    }
    const kept = new Set(Object.values(loaded));
    kiln.dispose(current.map(([, a]) => a).filter((a) => !kept.has(a)));
    return this;
  }

  /** The parameters as safetensors bytes (`io.saveSafetensors`), named by path. */
  saveWeights(options) {
    return kiln.io.saveSafetensors(this.parameters(), options);
  }

  /** Frees every parameter's GPU memory (the module cannot run after). */
  dispose() {
    kiln.dispose(pytree.leaves(this.parameters()));
  }

  /** The module applied to its input(s); layers define it. */
  forward() {
    throw new Error(`[forward] ${this.constructor.name} does not define forward()`);
  }

  /**
   * Every parameter as `{ path, get, set }`: its dotted path, and how to
   * read and replace it where it lives (this module or a child).
   */
  #slots() {
    const out = [];
    const walk = (holder, key, path, owner, local) => {
      const v = holder[key];
      if (v instanceof kiln.Array) {
        out.push({ path, owner, local, get: () => holder[key], set: (a) => { holder[key] = a; } });
      } else if (v instanceof Module) {
        v.#slots().forEach((s) => out.push({ ...s, path: `${path}.${s.path}` }));
      } else if (JsArray.isArray(v) || isPlainObject(v)) {
        const keys = JsArray.isArray(v) ? v.map((_, i) => i) : Object.keys(v).sort();
        for (const k of keys) walk(v, k, `${path}.${k}`, owner, `${local}.${k}`);
      }
    };
    for (const key of Object.keys(this).sort()) walk(this, key, key, this, key);
    return out;
  }

  /** The parameters (with `trainableOnly`, those not frozen) as a tree. */
  #collect(trainableOnly) {
    const build = (v, local) => {
      if (v instanceof kiln.Array) return trainableOnly && (this.frozen.has(local) || this.buffers.has(local)) ? undefined : v;
      if (v instanceof Module) return v.#collect(trainableOnly);
      if (JsArray.isArray(v)) {
        const parts = v.map((c, i) => build(c, `${local}.${i}`));
        return parts.some((p) => p !== undefined) ? parts.map((p) => p ?? null) : undefined;
      }
      if (isPlainObject(v)) {
        const entries = Object.keys(v).sort().map((k) => [k, build(v[k], `${local}.${k}`)]).filter(([, p]) => p !== undefined);
        return entries.length > 0 ? Object.fromEntries(entries) : undefined;
      }
      return undefined;
    };
    const out = {};
    for (const key of Object.keys(this).sort()) {
      const part = build(this[key], key);
      if (part !== undefined) out[key] = part;
    }
    return out;
  }

  #mark(prefix, frozen) {
    if (typeof prefix !== 'string') throw new Error(`[freeze] the prefix must be a string, got ${typeof prefix}`);
    for (const { path, owner, local } of this.#slots()) {
      if (prefix === '' || path === prefix || path.startsWith(`${prefix}.`)) {
        if (frozen) owner.frozen.add(local);
        else owner.frozen.delete(local);
      }
    }
  }
}

/** The modules in `v` (a module, or lists and objects holding some), or undefined. */
function childrenIn(v) {
  if (v instanceof Module) return v;
  if (JsArray.isArray(v)) {
    const parts = v.map(childrenIn);
    return parts.some((p) => p !== undefined) ? parts.map((p) => p ?? null) : undefined;
  }
  if (isPlainObject(v)) {
    const entries = Object.keys(v).sort().map((k) => [k, childrenIn(v[k])]).filter(([, p]) => p !== undefined);
    return entries.length > 0 ? Object.fromEntries(entries) : undefined;
  }
  return undefined;
}

/** `key`, checked; a key of the next seed when none is given (inside a tidy: it is freed). */
function keyOf(op, key) {
  if (key === undefined) return kiln.random.key(nextSeed++);
  if (!(key instanceof kiln.Array)) throw new Error(`[${op}] key must be a key from kiln.random.key, got ${typeof key}`);
  return key;
}

const dimsOf = (op, what, v) => {
  if (!Number.isInteger(v) || v < 1) throw new Error(`[${op}] ${what} must be a positive integer, got ${String(v)}`);
  return v;
};

/**
 * `y = x Wᵀ + b`, `W` of shape `(outputDims, inputDims)`; weight and bias
 * start uniform in `±1/√inputDims` (PyTorch's and MLX's; the same values
 * as the Rust `Linear` for the same key).
 */
export class Linear extends Module {
  constructor(inputDims, outputDims, options) {
    super();
    const { bias = true, key } = optionsOf('Linear', options, ['bias', 'key']);
    dimsOf('Linear', 'inputDims', inputDims);
    dimsOf('Linear', 'outputDims', outputDims);
    if (typeof bias !== 'boolean') throw new Error(`[Linear] bias must be a boolean, got ${typeof bias}`);
    const { weight, bias: b } = uniformPair('Linear', key, [outputDims, inputDims], bias ? [outputDims] : undefined,
      1 / Math.sqrt(inputDims));
    this.weight = weight;
    if (bias) this.bias = b;
  }

  forward(x) {
    return kiln.tidy(() => {
      const y = kiln.matmul(x, kiln.transpose(this.weight));
      return this.bias === undefined ? y : kiln.add(y, this.bias);
    });
  }
}

/** Uniform in `±limit` from the first and second split of `key`: weight and bias as the Rust layers draw them. */
function uniformPair(op, key, weightShape, biasShape, limit) {
  return kiln.tidy(() => {
    const keys = kiln.random.split(keyOf(op, key), 2);
    const weight = kiln.keep(kiln.random.uniform(kiln.slice(keys, [0]), weightShape, -limit, limit));
    const bias = biasShape && kiln.keep(kiln.random.uniform(kiln.slice(keys, [1]), biasShape, -limit, limit));
    return { weight, bias };
  });
}

/** One size or one per spatial axis. */
const sizes = (op, what, v, n) => {
  const list = typeof v === 'number' ? JsArray(n).fill(v) : v;
  if (!JsArray.isArray(list) || list.length !== n || !list.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new Error(`[${op}] ${what} must be a positive integer or ${n} of them, got ${String(v)}`);
  }
  return list;
};

/** A table of `num` vectors of `dims` floats looked up by integer index; starts N(0, 1). */
export class Embedding extends Module {
  constructor(num, dims, options) {
    super();
    const { key } = optionsOf('Embedding', options, ['key']);
    dims = dimsOf('Embedding', 'dims', dims);
    num = dimsOf('Embedding', 'num', num);
    this.weight = kiln.tidy(() => kiln.keep(kiln.random.normal(keyOf('Embedding', key), [num, dims])));
  }

  forward(indices) {
    return kiln.take(this.weight, indices, 0);
  }

  /** `x Wᵀ`: scores against every embedding (a language model's tied output layer). */
  asLinear(x) {
    return kiln.tidy(() => kiln.matmul(x, kiln.transpose(this.weight)));
  }
}

/** Convolutions over `d` spatial axes, channels last; weight `(out, ...kernel, in / groups)`. */
class Conv extends Module {
  #options;
  #apply;
  constructor(op, d, inChannels, outChannels, kernel, options, apply) {
    super();
    const { stride = 1, padding = 0, dilation = 1, groups = 1, bias = true, key } =
      optionsOf(op, options, ['stride', 'padding', 'dilation', 'groups', 'bias', 'key']);
    dimsOf(op, 'inChannels', inChannels);
    dimsOf(op, 'outChannels', outChannels);
    dimsOf(op, 'groups', groups);
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new Error(`[${op}] ${inChannels} input and ${outChannels} output channels cannot be split into ${groups} groups`);
    }
    if (typeof bias !== 'boolean') throw new Error(`[${op}] bias must be a boolean, got ${typeof bias}`);
    const shape = [outChannels, ...sizes(op, 'kernel', kernel, d), inChannels / groups];
    const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
    Object.assign(this, uniformPair(op, key, shape, bias ? [outChannels] : undefined, 1 / Math.sqrt(fanIn)));
    if (!bias) delete this.bias;
    this.#options = { stride, padding, dilation, groups };
    this.#apply = apply;
  }

  forward(x) {
    return kiln.tidy(() => {
      const y = this.#apply(x, this.weight, this.#options);
      return this.bias === undefined ? y : kiln.add(y, this.bias);
    });
  }
}

/** 1-D convolution on `(N, L, C)` inputs (weight and bias as the Rust `Conv1d` draws them). */
export class Conv1d extends Conv {
  constructor(inChannels, outChannels, kernel, options) {
    super('Conv1d', 1, inChannels, outChannels, kernel, options, (x, w, o) => kiln.nn.conv1d(x, w, o));
  }
}

/** 2-D convolution on `(N, H, W, C)` inputs. */
export class Conv2d extends Conv {
  constructor(inChannels, outChannels, kernel, options) {
    super('Conv2d', 2, inChannels, outChannels, kernel, options, (x, w, o) => kiln.nn.conv2d(x, w, o));
  }
}

/** Pooling of `(N, H, W, C)` inputs over windows of `kernel` (stride default: the kernel). */
class Pool extends Module {
  #apply;
  constructor(op, kernel, options, apply) {
    super();
    const { stride = kernel, padding = 0 } = optionsOf(op, options, ['stride', 'padding']);
    const window = { kernel: sizes(op, 'kernel', kernel, 2), stride: sizes(op, 'stride', stride, 2), padding };
    this.#apply = (x) => apply(x, window.kernel, { stride: window.stride, padding: window.padding });
  }

  forward(x) {
    return this.#apply(x);
  }
}

/** 2-D max pooling; padding counts as -inf. */
export class MaxPool2d extends Pool {
  constructor(kernel, options) {
    super('MaxPool2d', kernel, options, (...a) => kiln.nn.maxPool2d(...a));
  }
}

/** 2-D average pooling; padding counts as zeros. */
export class AvgPool2d extends Pool {
  constructor(kernel, options) {
    super('AvgPool2d', kernel, options, (...a) => kiln.nn.avgPool2d(...a));
  }
}

/** A scale starting at ones and a shift at zeros, `(dims)` each, when `affine`. */
function affineParameters(module, dims, affine) {
  if (typeof affine !== 'boolean') throw new Error(`[${module.constructor.name}] affine must be a boolean, got ${typeof affine}`);
  if (affine) {
    module.weight = kiln.keep(kiln.ones([dims]));
    module.bias = kiln.keep(kiln.zeros([dims]));
  }
}

/** Layer normalisation over the last axis (eps 1e-5, affine by default). */
export class LayerNorm extends Module {
  #eps;
  constructor(dims, options) {
    super();
    const { eps = 1e-5, affine = true } = optionsOf('LayerNorm', options, ['eps', 'affine']);
    affineParameters(this, dimsOf('LayerNorm', 'dims', dims), affine);
    this.#eps = eps;
  }

  forward(x) {
    return kiln.nn.layerNorm(x, { weight: this.weight, bias: this.bias, eps: this.#eps });
  }
}

/** Root-mean-square normalisation over the last axis, with a learned scale. */
export class RmsNorm extends Module {
  #eps;
  constructor(dims, options) {
    super();
    const { eps = 1e-5 } = optionsOf('RmsNorm', options, ['eps']);
    this.weight = kiln.keep(kiln.ones([dimsOf('RmsNorm', 'dims', dims)]));
    this.#eps = eps;
  }

  forward(x) {
    return kiln.nn.rmsNorm(x, { weight: this.weight, eps: this.#eps });
  }
}

/** Group normalisation of `(N, ..., C)` inputs. */
export class GroupNorm extends Module {
  #groups;
  #eps;
  constructor(groups, channels, options) {
    super();
    const { eps = 1e-5, affine = true } = optionsOf('GroupNorm', options, ['eps', 'affine']);
    dimsOf('GroupNorm', 'groups', groups);
    if (dimsOf('GroupNorm', 'channels', channels) % groups !== 0) {
      throw new Error(`[GroupNorm] ${channels} channels cannot be split into ${groups} groups`);
    }
    affineParameters(this, channels, affine);
    [this.#groups, this.#eps] = [groups, eps];
  }

  forward(x) {
    return kiln.nn.groupNorm(x, this.#groups, { weight: this.weight, bias: this.bias, eps: this.#eps });
  }
}

/**
 * Batch normalisation of `(N, ..., C)` inputs: in training by the batch's
 * statistics, updating the running ones (buffers `running_mean` and
 * `running_var`, as the Rust layer names them); in evaluation by them.
 */
export class BatchNorm extends Module {
  #eps;
  #momentum;
  constructor(channels, options) {
    super();
    const { eps = 1e-5, momentum = 0.1, affine = true } = optionsOf('BatchNorm', options, ['eps', 'momentum', 'affine']);
    dimsOf('BatchNorm', 'channels', channels);
    if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) {
      throw new Error(`[BatchNorm] momentum must be in [0, 1], got ${String(momentum)}`);
    }
    affineParameters(this, channels, affine);
    this.running_mean = kiln.keep(kiln.zeros([channels]));
    this.running_var = kiln.keep(kiln.ones([channels]));
    this.buffers.add('running_mean');
    this.buffers.add('running_var');
    [this.#eps, this.#momentum] = [eps, momentum];
  }

  forward(x) {
    const [y, mean, variance] = kiln.nn.batchNorm(x, this.running_mean, this.running_var, {
      weight: this.weight, bias: this.bias, training: this.isTraining, momentum: this.#momentum, eps: this.#eps,
    });
    if (this.isTraining) {
      const old = [this.running_mean, this.running_var];
      [this.running_mean, this.running_var] = [kiln.keep(mean), kiln.keep(variance)];
      kiln.dispose(old);
    } else {
      kiln.dispose([mean, variance]);
    }
    return y;
  }
}

/**
 * Zeroes each entry with probability `p` in training mode, with a fresh
 * key each call (`key` folded with a counter, as the Rust `Dropout`); the
 * identity in evaluation mode.
 */
export class Dropout extends Module {
  #p;
  #key;
  #calls = 0;
  constructor(p, options) {
    super();
    const { key } = optionsOf('Dropout', options, ['key']);
    if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw new Error(`[Dropout] the drop probability must be in [0, 1), got ${String(p)}`);
    this.#p = p;
    this.#key = key === undefined ? kiln.keep(kiln.random.key(nextSeed++)) : keyOf('Dropout', key).clone();
    kiln.keep(this.#key);
  }

  forward(x) {
    if (!this.isTraining || this.#p === 0) return x instanceof kiln.Array ? x.clone() : kiln.array(x);
    return kiln.tidy(() => kiln.nn.dropout(x, this.#p, kiln.random.foldIn(this.#key, this.#calls++)));
  }
}

/** The activations a transformer block's MLP may use, by name. */
const ACTIVATIONS = {
  relu: (x) => kiln.nn.relu(x),
  gelu: (x) => kiln.nn.gelu(x),
  geluTanh: (x) => kiln.nn.geluTanh(x),
  silu: (x) => kiln.nn.silu(x),
  mish: (x) => kiln.nn.mish(x),
  tanh: (x) => kiln.tanh(x),
};

/**
 * Multi-head attention on `(B, L, dims)` inputs with query, key, value and
 * output projections. Property names are the Rust module's (`query_proj`,
 * ...), so that its weights load unchanged; drawn as the Rust module draws
 * them for the same key.
 */
export class MultiHeadAttention extends Module {
  #heads;
  constructor(dims, heads, options) {
    super();
    const op = 'MultiHeadAttention';
    const { bias = true, key } = optionsOf(op, options, ['bias', 'key']);
    if (typeof bias !== 'boolean') throw new Error(`[${op}] bias must be a boolean, got ${typeof bias}`);
    dimsOf(op, 'dims', dims);
    if (dimsOf(op, 'heads', heads) && dims % heads !== 0) {
      throw new Error(`[${op}] ${dims} dimensions cannot be split into ${heads} heads`);
    }
    this.#heads = heads;
    kiln.tidy(() => {
      const keys = kiln.random.split(keyOf(op, key), 4);
      const proj = (i) => new Linear(dims, dims, { bias, key: kiln.slice(keys, [i]) });
      [this.query_proj, this.key_proj, this.value_proj, this.out_proj] = [proj(0), proj(1), proj(2), proj(3)];
    });
  }

  /** Attention of `queries` `(B, Lq, dims)` to `keys` and `values` `(B, Lk, dims)`; `{ mask, causal }`. */
  attend(queries, keys, values, options) {
    const { mask, causal = false } = optionsOf('MultiHeadAttention', options, ['mask', 'causal']);
    return kiln.tidy(() => {
      const split = (x) => {
        const [b, l, d] = x.shape;
        return kiln.swapaxes(kiln.reshape(x, [b, l, this.#heads, d / this.#heads]), 1, 2);
      };
      for (const [name, x] of [['queries', queries], ['keys', keys], ['values', values]]) {
        if (!(x instanceof kiln.Array) || x.ndim !== 3) throw new Error(`[MultiHeadAttention] ${name} must be a (batch, length, dims) array`);
      }
      const q = split(this.query_proj.forward(queries));
      const k = split(this.key_proj.forward(keys));
      const v = split(this.value_proj.forward(values));
      const o = kiln.nn.scaledDotProductAttention(q, k, v, { mask, causal });
      const [b, lq] = queries.shape;
      return this.out_proj.forward(kiln.reshape(kiln.swapaxes(o, 1, 2), [b, lq, -1]));
    });
  }

  /** Self-attention; `{ mask, causal }`. */
  forward(x, options) {
    return this.attend(x, x, x, options);
  }
}

/**
 * A transformer encoder block: self-attention and a two-layer MLP, each
 * with a residual connection and layer norm after (default) or before
 * (`normFirst`) the sublayer. Options: `mlpDims` (4 × dims), `dropout` (0),
 * `activation` ('relu', 'gelu', 'geluTanh', 'silu', 'mish', 'tanh'),
 * `normFirst` (false), `normEps` (1e-5), `key`.
 */
export class TransformerEncoderBlock extends Module {
  #activation;
  #normFirst;
  constructor(dims, heads, options) {
    super();
    const op = 'TransformerEncoderBlock';
    const { mlpDims = 4 * dims, dropout = 0, activation = 'relu', normFirst = false, normEps = 1e-5, key } =
      optionsOf(op, options, ['mlpDims', 'dropout', 'activation', 'normFirst', 'normEps', 'key']);
    dimsOf(op, 'dims', dims);
    dimsOf(op, 'heads', heads);
    dimsOf(op, 'mlpDims', mlpDims);
    if (dims % heads !== 0) throw new Error(`[${op}] ${dims} dimensions cannot be split into ${heads} heads`);
    if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) {
      throw new Error(`[${op}] dropout must be in [0, 1), got ${String(dropout)}`);
    }
    if (!(activation in ACTIVATIONS)) {
      throw new Error(`[${op}] activation must be one of ${Object.keys(ACTIVATIONS).join(', ')}, got ${String(activation)}`);
    }
    if (typeof normFirst !== 'boolean') throw new Error(`[${op}] normFirst must be a boolean, got ${typeof normFirst}`);
    this.#activation = ACTIVATIONS[activation];
    this.#normFirst = normFirst;
    kiln.tidy(() => {
      const keys = kiln.random.split(keyOf(op, key), 4);
      const at = (i) => kiln.slice(keys, [i]);
      this.attention = new MultiHeadAttention(dims, heads, { key: at(0) });
      this.norm1 = new LayerNorm(dims, { eps: normEps });
      this.norm2 = new LayerNorm(dims, { eps: normEps });
      this.linear1 = new Linear(dims, mlpDims, { key: at(1) });
      this.linear2 = new Linear(mlpDims, dims, { key: at(2) });
      this.dropout = new Dropout(dropout, { key: at(3) });
    });
  }

  /** The block on `x` `(B, L, dims)`; `{ mask, causal }` for the attention. */
  forward(x, options) {
    return kiln.tidy(() => {
      const attend = (h) => this.dropout.forward(this.attention.attend(h, h, h, options));
      const mlp = (h) => {
        const hidden = this.#activation(this.linear1.forward(h));
        return this.dropout.forward(this.linear2.forward(this.dropout.forward(hidden)));
      };
      if (this.#normFirst) {
        const h = kiln.add(x, attend(this.norm1.forward(x)));
        return kiln.add(h, mlp(this.norm2.forward(h)));
      }
      const h = this.norm1.forward(kiln.add(x, attend(x)));
      return this.norm2.forward(kiln.add(h, mlp(h)));
    });
  }
}

/**
 * Rotary position embeddings on the first `dims` features of `(..., L, D)`
 * inputs (pairs are the two halves, or neighbours when `traditional`);
 * `forward(x, offset)` for positions starting at `offset`.
 */
export class Rope extends Module {
  #dims;
  #traditional;
  #base;
  constructor(dims, options) {
    super();
    const { traditional = false, base = 10000 } = optionsOf('Rope', options, ['traditional', 'base']);
    if (!Number.isInteger(dims) || dims < 2 || dims % 2 !== 0) throw new Error(`[Rope] dims must be even and positive, got ${String(dims)}`);
    if (typeof traditional !== 'boolean') throw new Error(`[Rope] traditional must be a boolean, got ${typeof traditional}`);
    [this.#dims, this.#traditional, this.#base] = [dims, traditional, base];
  }

  forward(x, offset = 0) {
    return kiln.nn.rope(x, this.#dims, { traditional: this.#traditional, base: this.#base, offset });
  }
}

/** Layers applied in order; their parameters are named by position (`'0.weight'`). */
export class Sequential extends Module {
  constructor(...layers) {
    super();
    layers.forEach((layer, i) => {
      if (!(layer instanceof Module)) throw new Error(`[Sequential] layer ${i} is not a module`);
    });
    this.layers = layers;
  }

  parameters() {
    return super.parameters().layers ?? [];
  }

  trainableParameters() {
    return super.trainableParameters().layers ?? [];
  }

  update(tree) {
    return super.update({ layers: tree });
  }

  freeze(prefix = '') {
    return super.freeze(prefix === '' ? '' : `layers.${prefix}`);
  }

  unfreeze(prefix = '') {
    return super.unfreeze(prefix === '' ? '' : `layers.${prefix}`);
  }

  forward(x) {
    return kiln.tidy(() => this.layers.reduce((h, layer) => layer.forward(h), x));
  }
}

/** An activation function as a layer (no parameters). */
class Activation extends Module {
  #fn;
  constructor(fn) {
    super();
    this.#fn = fn;
  }

  forward(x) {
    return this.#fn(x);
  }
}

/** `relu` as a layer. */
export class ReLU extends Activation {
  constructor() {
    super((x) => kiln.nn.relu(x));
  }
}

/** `gelu` as a layer. */
export class GELU extends Activation {
  constructor() {
    super((x) => kiln.nn.gelu(x));
  }
}

/** `tanh` as a layer. */
export class Tanh extends Activation {
  constructor() {
    super((x) => kiln.tanh(x));
  }
}

/** Flattens every axis but the first: `(N, ...)` to `(N, -1)`. */
export class Flatten extends Module {
  forward(x) {
    if (x.ndim === 0) throw new Error('[Flatten] needs a batch axis, got a scalar');
    return kiln.reshape(x, [x.shape[0], -1]);
  }
}

/**
 * `[loss, grads]` of `lossFn(...args)`, which runs `model`, with respect to
 * the model's trainable parameters (MLX's `nn.value_and_grad`): the grads
 * have the structure of `model.trainableParameters()`.
 */
export function valueAndGrad(model, lossFn) {
  if (!(model instanceof Module)) throw new Error('[value_and_grad] expects a kiln.nn.Module first');
  if (typeof lossFn !== 'function') throw new Error('[value_and_grad] expects a loss function second');
  return (...args) => {
    const params = model.trainableParameters();
    const traced = (p, ...rest) => {
      const saved = model.trainableParameters();
      model.update(p);
      try {
        return lossFn(...rest);
      } finally {
        model.update(saved);
      }
    };
    return kiln.valueAndGrad(traced)(params, ...args);
  };
}
