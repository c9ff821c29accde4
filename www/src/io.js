// kiln.io in JavaScript: safetensors files from URLs, fetch responses,
// blobs and buffers, and to bytes or a download; the parsing and writing
// are the Rust crate's (`safetensors`), so files move between the two.

import * as raw from '../pkg/kiln.js';
import * as kiln from './index.js';
import * as pytree from './tree.js';
import { ensureReady } from './state.js';

const op = 'load_safetensors';

/** The bytes of `source`: a URL (string or `URL`), a `Response`, a `Blob`, an `ArrayBuffer` or a typed array. */
async function bytesOf(source) {
  if (typeof source === 'string' || source instanceof URL) {
    let response;
    try {
      response = await fetch(source);
    } catch (e) {
      throw new Error(`[${op}] could not fetch ${String(source)}: ${e?.message ?? e}`);
    }
    return bytesOf(response);
  }
  if (typeof Response !== 'undefined' && source instanceof Response) {
    if (!source.ok) throw new Error(`[${op}] ${source.url || 'the response'} answered ${source.status} ${source.statusText}`.trim());
    return new Uint8Array(await source.arrayBuffer());
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  throw new Error(`[${op}] expects a URL, a Response, a Blob, an ArrayBuffer or a Uint8Array, got ${source === null ? 'null' : typeof source}`);
}

/**
 * The arrays of a safetensors file by name (`{ 'layers.0.weight': Array,
 * ... }`), or with `{ metadata: true }` `{ arrays, metadata }`.
 */
export async function loadSafetensors(source, options = {}) {
  ensureReady(op);
  if (options === null || typeof options !== 'object') throw new Error(`[${op}] options must be an object, got ${String(options)}`);
  const { metadata = false } = options;
  if (typeof metadata !== 'boolean') throw new Error(`[${op}] metadata must be a boolean, got ${typeof metadata}`);
  const bytes = await bytesOf(source);
  const [names, arrays, meta] = raw.loadSafetensors(bytes);
  const out = Object.fromEntries(names.map((name, i) => [name, arrays[i]]));
  return metadata ? { arrays: out, metadata: meta } : out;
}

/**
 * The bytes of a safetensors file holding the arrays of `tree` (a pytree:
 * a module's `parameters()`, an optimizer's `state()`, ...), each named by
 * its dotted path, and `metadata` (an object of strings).
 */
export async function saveSafetensors(tree, options = {}) {
  ensureReady('save_safetensors');
  if (options === null || typeof options !== 'object') throw new Error(`[save_safetensors] options must be an object, got ${String(options)}`);
  const { metadata } = options;
  const pairs = pytree.flattenWithPaths(tree);
  if (pairs.length === 0) throw new Error('[save_safetensors] no arrays to save');
  for (const [path, a] of pairs) {
    if (!(a instanceof kiln.Array) || a.isDisposed) {
      throw new Error(`[save_safetensors] ${JSON.stringify(path)} must be a kiln array, not disposed`);
    }
  }
  return raw.saveSafetensors(pairs.map(([p]) => p), pairs.map(([, a]) => a.clone()), metadata);
}

/** Saves `tree` as a safetensors file that the browser downloads as `filename`. */
export async function downloadSafetensors(tree, filename = 'weights.safetensors', options) {
  if (typeof document === 'undefined') throw new Error('[download_safetensors] needs a browser page (use saveSafetensors for bytes)');
  const bytes = await saveSafetensors(tree, options);
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const link = Object.assign(document.createElement('a'), { href: url, download: String(filename) });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
