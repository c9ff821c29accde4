// Option objects, checked: an unknown key is an error that names the op
// and the known keys, never silently ignored.

/** `options` (undefined: `{}`), with every key among `known`. */
export function optionsOf(op, options, known) {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new Error(`[${op}] options must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  const extra = Object.keys(options).filter((k) => !known.includes(k));
  if (extra.length > 0) throw new Error(`[${op}] unknown option ${extra[0]} (${known.join(', ')})`);
  return options;
}
