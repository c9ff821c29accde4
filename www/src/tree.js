// Pytrees: nested JS arrays and plain objects whose leaves are kiln arrays
// (or anything else that is not a container), as JAX's. The transforms
// take and return them; `kiln.tree` exposes the functions below.
//
// Containers: JS arrays, and plain objects (their keys in sorted order, as
// JAX sorts dict keys, so that trees built in a different key order match).
// `null` and `undefined` are empty subtrees (no leaves). A JS array of
// numbers or booleans (nested, as `kiln.array` reads it) is one leaf: data
// for an array, not a list of scalars.

const JsArray = globalThis.Array;

const isPlainObject = (v) =>
  v !== null && typeof v === 'object' && !JsArray.isArray(v) &&
  (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

/** Whether `v` is a (nested) JS array of numbers or booleans: a leaf. */
function isData(v) {
  if (!JsArray.isArray(v) || v.length === 0) return false;
  const flat = v.flat(Infinity);
  return flat.length > 0 && flat.every((x) => typeof x === 'number' || typeof x === 'boolean');
}

/** The structure of a pytree: where its leaves are, without them. */
export class TreeDef {
  /** @param {'leaf'|'none'|'list'|'object'} kind */
  constructor(kind, children = [], keys = []) {
    this.kind = kind;
    this.children = children;
    this.keys = keys;
    this.numLeaves = kind === 'leaf' ? 1 : children.reduce((n, c) => n + c.numLeaves, 0);
  }

  /** A tree of this structure with `leaves` in order. */
  unflatten(leaves) {
    if (!JsArray.isArray(leaves) || leaves.length !== this.numLeaves) {
      throw new Error(`[tree.unflatten] the structure ${this} has ${this.numLeaves} leaves, got ${JsArray.isArray(leaves) ? leaves.length : 'no list'}`);
    }
    let at = 0;
    const build = (def) => {
      switch (def.kind) {
        case 'leaf': return leaves[at++];
        case 'none': return null;
        case 'list': return def.children.map(build);
        default: return Object.fromEntries(def.keys.map((k, i) => [k, build(def.children[i])]));
      }
    };
    return build(this);
  }

  /** Whether `other` is the same structure. */
  equals(other) {
    return other instanceof TreeDef && String(this) === String(other);
  }

  /** `*` per leaf, `null`, `[...]` and `{key: ...}`. */
  toString() {
    switch (this.kind) {
      case 'leaf': return '*';
      case 'none': return 'null';
      case 'list': return `[${this.children.join(', ')}]`;
      default: return `{${this.keys.map((k, i) => `${JSON.stringify(k)}: ${this.children[i]}`).join(', ')}}`;
    }
  }
}

/** `[leaves, structure]` of a pytree, leaves in order (object keys sorted). */
export function flatten(tree) {
  const leaves = [];
  const walk = (v) => {
    if (v === null || v === undefined) return new TreeDef('none');
    if (JsArray.isArray(v) && !isData(v)) return new TreeDef('list', v.map(walk));
    if (isPlainObject(v)) {
      const keys = Object.keys(v).sort();
      return new TreeDef('object', keys.map((k) => walk(v[k])), keys);
    }
    leaves.push(v);
    return new TreeDef('leaf');
  };
  const def = walk(tree);
  return [leaves, def];
}

/** The leaves of a pytree, in order. */
export const leaves = (tree) => flatten(tree)[0];

/** The structure of a pytree. */
export const structure = (tree) => flatten(tree)[1];

/** The tree of `structure` with `leaves` in order. */
export function unflatten(def, leafList) {
  if (!(def instanceof TreeDef)) throw new Error('[tree.unflatten] expects a structure from tree.flatten or tree.structure');
  return def.unflatten(leafList);
}

/**
 * `f` applied to each leaf of `tree` (and the leaves at the same places of
 * `rest`, which must have the same structure): a tree of the results.
 */
export function map(f, tree, ...rest) {
  if (typeof f !== 'function') throw new Error('[tree.map] expects a function first');
  const [first, def] = flatten(tree);
  const others = rest.map((t, i) => {
    const [ls, d] = flatten(t);
    if (!d.equals(def)) throw new Error(`[tree.map] tree ${i + 2} has the structure ${d}, not ${def}`);
    return ls;
  });
  return def.unflatten(first.map((leaf, i) => f(leaf, ...others.map((ls) => ls[i]))));
}

/**
 * Per leaf of `def`, the entry of `spec` that covers it: `spec` is a tree
 * of `def`'s structure or a prefix of it, whose leaves (numbers, `null`)
 * apply to every leaf below them (JAX's `in_axes` convention).
 */
export function broadcastPrefix(op, what, def, spec) {
  if (spec === null || spec === undefined || typeof spec === 'number') {
    return JsArray(def.numLeaves).fill(spec ?? null);
  }
  if (def.kind === 'list' && JsArray.isArray(spec) && spec.length === def.children.length) {
    return def.children.flatMap((c, i) => broadcastPrefix(op, what, c, spec[i]));
  }
  if (def.kind === 'object' && isPlainObject(spec)) {
    const keys = Object.keys(spec).sort();
    if (String(keys) === String(def.keys)) {
      return def.children.flatMap((c, i) => broadcastPrefix(op, what, c, spec[def.keys[i]]));
    }
  }
  throw new Error(`[${op}] ${what} must be a number, null, or a tree of them shaped like ${def}`);
}

/**
 * `[[path, leaf], ...]`: each leaf with its dotted path (object keys and
 * list indices, `'layers.0.w'`), in `flatten`'s order: the names that
 * safetensors files and optimizer states use.
 */
export function flattenWithPaths(tree) {
  const out = [];
  const walk = (v, path) => {
    if (v === null || v === undefined) return;
    const at = (k) => (path === '' ? String(k) : `${path}.${k}`);
    if (JsArray.isArray(v) && !isData(v)) v.forEach((c, i) => walk(c, at(i)));
    else if (isPlainObject(v)) Object.keys(v).sort().forEach((k) => walk(v[k], at(k)));
    else out.push([path, v]);
  };
  walk(tree, '');
  return out;
}
