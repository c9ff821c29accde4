// Whether the wasm module is loaded: every function that reaches it first
// checks, so that a call before `init()` says so instead of failing inside
// the generated glue.

export const state = { ready: false };

/** Throws `[op] call await kiln.init() first` until the module is loaded. */
export function ensureReady(op) {
  if (!state.ready) throw new Error(`[${op}] call await kiln.init() first`);
}
