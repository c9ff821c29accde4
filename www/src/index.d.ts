// Type declarations for kiln's JavaScript API (src/index.js). They use the
// DOM library's `WebAssembly`, `Request` and `Response` types (for
// `init()`'s options) and nothing else outside ES2022.
//
// Inside this file `Array` is kiln's array class; JS arrays are written
// `T[]` or `ReadonlyArray<T>` (the `T[]` syntax always means the global
// Array type).

// ------------------------------------------------------------------ types

/** Element types. `'float16'` needs an adapter with `shader-f16`. */
export type DType = 'float32' | 'float16' | 'int32' | 'uint32' | 'bool';

/**
 * The TypedArrays arrays are made from: Float64Array values are stored as
 * float32 unless a dtype says otherwise, Uint8Array as uint32 (or bool
 * with `dtype: 'bool'`).
 */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

/** What `data()` resolves to: a Float32Array for float32 and float16, a Uint8Array for bool. */
export type DataArray = Float32Array | Int32Array | Uint32Array | Uint8Array;

/** Nested JS arrays of numbers or booleans, rectangular, of any depth. */
export type NestedArray = ReadonlyArray<number | boolean | NestedArray>;

/** Nested JS arrays of one element type, as `array()` reads them. */
export type Nested<T> = ReadonlyArray<T | Nested<T>>;

/**
 * The dtypes whose elements JS reads as numbers: what `data()`, `array()`
 * and `item()` are typed for unless given the dtype.
 */
export type NumericDType = 'float32' | 'float16' | 'int32' | 'uint32';

/** One element as JS reads it: a boolean for bool, else a number. */
export type Scalar<D extends DType = DType> = D extends 'bool' ? boolean : number;

/** What `data()` resolves to for each dtype (float16 widens to float32). */
export type DataOf<D extends DType> = {
  float32: Float32Array;
  float16: Float32Array;
  int32: Int32Array;
  uint32: Uint32Array;
  bool: Uint8Array;
}[D];

/**
 * An operand: a kiln array, or a JS value turned into one (float32 for
 * numbers, bool when every entry is a boolean). A number next to an array
 * in an elementwise op is weakly typed, as in NumPy 2 and JAX.
 */
export type ArrayLike = Array | number | boolean | NestedArray | TypedArray;

/** A shape: a list of sizes, or one size for a 1-d shape. */
export type Shape = number | ReadonlyArray<number>;

/** One axis or a list of them; axes may be negative. */
export type Axis = number | ReadonlyArray<number>;

/** An entry of `slice()`'s index: `[start, stop, step]`, `null` for a default. */
export type SliceRange = readonly [start?: number | null, stop?: number | null, step?: number | null];

/** Per axis: a number (picks one position, the axis goes), `null` (all) or a range. */
export type SliceIndex = number | null | SliceRange;

/** A norm's order: a number (`Infinity` and `-Infinity` too), `'fro'` or `'nuc'`. */
export type NormOrd = number | 'fro' | 'nuc';

/** How a loss reduces over its elements. */
export type Reduction = 'mean' | 'sum' | 'none';

/** The adapter and its limits, as `init()` and `deviceInfo()` report them. */
export interface DeviceInfo {
  /** The adapter's name, e.g. `"llvmpipe (LLVM 15.0.6, 256 bits)"`. */
  name: string;
  /** The graphics API underneath (Vulkan, Metal, Dx12, BrowserWebGpu...), or `'cpu'` on the CPU backend. */
  backend: string;
  /** Discrete, integrated, virtual or CPU. */
  deviceType: string;
  /** The driver, where the adapter reports one. */
  driver: string;
  /** Whether `float16` arrays are available (`shader-f16`). */
  shaderF16: boolean;
  /** Whether arrays live in memory the host maps directly (native CPU and integrated adapters; never in a browser). */
  unifiedMemory: boolean;
  /** The largest storage buffer binding, in bytes. */
  maxStorageBindingBytes: number;
  /** The largest buffer, in bytes. */
  maxBufferBytes: number;
  /** Workgroup (shared) memory per workgroup, in bytes. */
  maxWorkgroupStorageBytes: number;
  /** Threads per workgroup. */
  maxInvocationsPerWorkgroup: number;
  /** Storage buffers one kernel may bind. */
  maxStorageBuffersPerKernel: number;
}

/** Live arrays and GPU memory, as `memory()` reports them. */
export interface MemoryInfo {
  /** Arrays held by JS objects now. */
  numArrays: number;
  /** Bytes held by live arrays and pending work. */
  activeBytes: number;
  /** The largest `activeBytes` seen since start. */
  peakBytes: number;
  /** Bytes of free buffers kept for reuse (`clearCache()` frees them). */
  cachedBytes: number;
  /** GPU buffers of the pool, in use or cached. */
  numBuffers: number;
  /** Compute pipelines compiled and kept. */
  numPipelines: number;
}

/** The .wasm module as `init()` takes it: a URL, a fetch response, bytes or a compiled module. */
export type WasmSource = string | URL | Request | Response | ArrayBuffer | ArrayBufferView | WebAssembly.Module;

export interface InitOptions {
  /**
   * Which backend evaluates arrays: `'auto'` (default) takes WebGPU where
   * the browser (or Node) offers an adapter and the CPU backend in
   * WebAssembly where it does not; `'webgpu'` only WebGPU (rejecting
   * without it); `'cpu'` the CPU backend. `deviceInfo().backend` says
   * which runs (`'cpu'` for the CPU backend).
   */
  backend?: 'auto' | 'webgpu' | 'cpu' | undefined;
  /**
   * The .wasm as a URL, bytes or a module (default: `pkg/kiln_bg.wasm`
   * of the package, read from disk in Node).
   */
  wasm?: WasmSource | Promise<WasmSource> | undefined;
}

/** The options of `array()`. */
export interface ArrayOptions {
  /** The shape (default: the nested arrays', or 1-d for a TypedArray). */
  shape?: ReadonlyArray<number> | undefined;
  /** The dtype (default: float32 for numbers, bool when every entry is a boolean; see `TypedArray`). */
  dtype?: DType | undefined;
}

/** `[before, after]` widths of `pad()`. */
export type PadPair = readonly [before: number, after: number];

/** Options of `linalg.solveTriangular()`. */
export interface SolveTriangularOptions {
  /** `a` is upper triangular (default false: lower). */
  upper?: boolean | undefined;
  /** Solve `a x = b` (default true) rather than `x a = b`. */
  left?: boolean | undefined;
  /** Take the diagonal of `a` as ones (default false). */
  unitDiagonal?: boolean | undefined;
}

/** Options of `nn.crossEntropy()`. */
export interface CrossEntropyOptions {
  /** Default `'mean'`. */
  reduction?: Reduction | undefined;
  /** Default 0. */
  labelSmoothing?: number | undefined;
}

/** What `linalg.lstsq()` returns. */
export interface LstsqResult {
  solution: Array;
  residuals: Array;
  rank: Array;
  singularValues: Array;
}

/**
 * A pytree of arrays: an array, `null` (an empty subtree), or a list or
 * plain object of pytrees. A (nested) list of numbers is one leaf, as
 * `array()` reads it.
 */
export type PyTree = Array | null | undefined | ReadonlyArray<PyTree> | { readonly [key: string]: PyTree };

/** Numbers and booleans, nested in lists: one leaf, as `array()` reads it. */
export type NestedNumbers = number | boolean | ReadonlyArray<NestedNumbers>;

/** Whether `T` is `any`. */
type IsAny<T> = 0 extends 1 & T ? true : false;

/** `T` with each array leaf replaced by `R` (numbers and lists of them too: they become arrays). */
export type LeavesTo<T, R> = IsAny<T> extends true
  ? any
  : T extends Array | NestedNumbers | ArrayBufferView
    ? R
    : T extends null | undefined
      ? null
      : T extends ReadonlyArray<unknown>
        ? { -readonly [K in keyof T]: LeavesTo<T[K], R> }
        : T extends object
          ? { -readonly [K in keyof T]: LeavesTo<T[K], R> }
          : R;

/** A tree of the structure of `T` with arrays for leaves: a gradient of `T`, an output. */
export type Structured<T> = LeavesTo<T, Array>;

/** What a transformed function takes for a parameter of type `T`: arrays may be any `ArrayLike`. */
export type TreeLike<T> = IsAny<T> extends true
  ? any
  : T extends Array
    ? ArrayLike
    : T extends NestedNumbers | ArrayBufferView | null | undefined
      ? T
      : T extends ReadonlyArray<unknown>
        ? { [K in keyof T]: TreeLike<T[K]> }
        : T extends object
          ? { [K in keyof T]: TreeLike<T[K]> }
          : T;

/** A function as `grad` and `valueAndGrad` take it: pytrees in, one array out. */
export type ArrayFunction = (...args: any[]) => Array;

/** A function with an auxiliary result (`hasAux`): pytrees in, `[output, aux]` out. */
export type AuxFunction<O = Array> = (...args: any[]) => readonly [O, unknown];

/** A function as `vmap`, `vjp`, `jvp` and `compile` take it: pytrees in, a pytree out (checked when it runs). */
export type ArraysFunction = (...args: any[]) => unknown;

/** A parameter list `P` with each array in it an `ArrayLike`: what a transformed function takes. */
export type ArgsLike<P extends ReadonlyArray<unknown>> = { [K in keyof P]: TreeLike<P[K]> };

/** The aux a `hasAux` function returns. */
export type AuxOf<F extends (...args: any[]) => unknown> = ReturnType<F> extends readonly [unknown, infer A] ? A : never;

/** The gradient with respect to argument `N` of `F`: that argument's structure. */
export type GradAt<F extends (...args: any[]) => unknown, N extends number> = Structured<Parameters<F>[N]>;

/** The gradients with respect to the arguments `N` of `F`, one per entry. */
export type GradsAt<F extends (...args: any[]) => unknown, N extends ReadonlyArray<number>> = {
  -readonly [K in keyof N]: N[K] extends number ? Structured<Parameters<F>[N[K]]> : never;
};

/** The structure of a pytree (from `tree.flatten` or `tree.structure`). */
export interface TreeDef {
  /** How many leaves trees of this structure have. */
  readonly numLeaves: number;
  /** A tree of this structure with `leaves` in order. */
  unflatten(leaves: ReadonlyArray<unknown>): unknown;
  /** Whether `other` is the same structure. */
  equals(other: TreeDef): boolean;
  /** `*` per leaf, `null`, `[...]` and `{key: ...}`. */
  toString(): string;
}


// ------------------------------------------------------------------ Array

/**
 * The array class; every kiln function returns instances of it. Arrays are
 * lazy: reading (`data()`, `array()`, `item()`) evaluates the graph. Made
 * only by kiln's functions (the class is the generated `KilnArray`).
 */
export declare class Array {
  private constructor();

  /** The shape, as an array of numbers (a new list on each read). */
  readonly shape: number[];
  readonly dtype: DType;
  readonly ndim: number;
  readonly size: number;
  /** Whether the array was freed (`dispose()`, `free()` or a `tidy()`). */
  readonly isDisposed: boolean;
  /** The array with its axes reversed (`transpose(a)`). */
  readonly T: Array;

  /**
   * A promise of the values as a TypedArray (`DataOf` gives which). Typed
   * for the numeric dtypes unless given the dtype, as in
   * `await mask.data<'bool'>()`; at run time it follows the array's dtype.
   */
  data<D extends DType = NumericDType>(): Promise<DataOf<D>>;
  /**
   * A promise of the values as nested JS arrays (booleans for bool; a 0-d
   * array gives its value). Typed as numbers unless given the dtype:
   * `await mask.array<'bool'>()`.
   */
  array<D extends DType = NumericDType>(): Promise<Scalar<D> | Nested<Scalar<D>>>;
  /**
   * A promise of the one value of a size-1 array: a number, so
   * `(await loss.item()).toFixed(4)` needs no cast; a boolean for bool,
   * typed as one with `await flag.item<'bool'>()`.
   */
  item<D extends DType = NumericDType>(): Promise<Scalar<D>>;
  /** Another handle to the same values, freed on its own (or by the `tidy()` it was made in). */
  clone(): Array;
  /** Frees the array; does nothing when it was freed already. */
  dispose(): void;
  /** The same as `dispose()`. */
  free(): void;
  /** `Array([[1., 2.]], dtype=float32)` once read, else the shape and how to read it; `Array(disposed)`. */
  toString(): string;
  /** The sub-arrays along axis 0 (`const [k1, k2] = kiln.random.split(key)`). */
  [Symbol.iterator](): Iterator<Array>;

  // BEGIN generated from the op tables (KILN_BLESS=1 cargo test --test js_face)
  negative(): Array;
  abs(): Array;
  sign(): Array;
  exp(): Array;
  expm1(): Array;
  log(): Array;
  log1p(): Array;
  log2(): Array;
  log10(): Array;
  sqrt(): Array;
  rsqrt(): Array;
  square(): Array;
  reciprocal(): Array;
  sin(): Array;
  cos(): Array;
  tan(): Array;
  arcsin(): Array;
  arccos(): Array;
  arctan(): Array;
  sinh(): Array;
  cosh(): Array;
  tanh(): Array;
  arcsinh(): Array;
  arccosh(): Array;
  arctanh(): Array;
  sigmoid(): Array;
  erf(): Array;
  erfinv(): Array;
  floor(): Array;
  ceil(): Array;
  round(): Array;
  isnan(): Array;
  isinf(): Array;
  isfinite(): Array;
  logicalNot(): Array;
  cbrt(): Array;
  exp2(): Array;
  deg2rad(): Array;
  rad2deg(): Array;
  add(other: ArrayLike): Array;
  subtract(other: ArrayLike): Array;
  multiply(other: ArrayLike): Array;
  divide(other: ArrayLike): Array;
  floorDivide(other: ArrayLike): Array;
  remainder(other: ArrayLike): Array;
  power(other: ArrayLike): Array;
  maximum(other: ArrayLike): Array;
  minimum(other: ArrayLike): Array;
  arctan2(other: ArrayLike): Array;
  equal(other: ArrayLike): Array;
  notEqual(other: ArrayLike): Array;
  less(other: ArrayLike): Array;
  lessEqual(other: ArrayLike): Array;
  greater(other: ArrayLike): Array;
  greaterEqual(other: ArrayLike): Array;
  logicalAnd(other: ArrayLike): Array;
  logicalOr(other: ArrayLike): Array;
  bitwiseAnd(other: ArrayLike): Array;
  bitwiseOr(other: ArrayLike): Array;
  bitwiseXor(other: ArrayLike): Array;
  leftShift(other: ArrayLike): Array;
  rightShift(other: ArrayLike): Array;
  logaddexp(other: ArrayLike): Array;
  hypot(other: ArrayLike): Array;
  copysign(other: ArrayLike): Array;
  // END generated
  matmul(other: ArrayLike): Array;
  /** `subtract` */
  sub(other: ArrayLike): Array;
  /** `multiply` */
  mul(other: ArrayLike): Array;
  /** `divide` */
  div(other: ArrayLike): Array;
  /** `power` */
  pow(other: ArrayLike): Array;
  /** `negative` */
  neg(): Array;

  sum(axis?: Axis | null, keepdims?: boolean): Array;
  prod(axis?: Axis | null, keepdims?: boolean): Array;
  max(axis?: Axis | null, keepdims?: boolean): Array;
  min(axis?: Axis | null, keepdims?: boolean): Array;
  mean(axis?: Axis | null, keepdims?: boolean): Array;
  all(axis?: Axis | null, keepdims?: boolean): Array;
  any(axis?: Axis | null, keepdims?: boolean): Array;
  logsumexp(axis?: Axis | null, keepdims?: boolean): Array;
  var(axis?: Axis | null, keepdims?: boolean, ddof?: number): Array;
  std(axis?: Axis | null, keepdims?: boolean, ddof?: number): Array;
  argmax(axis?: number | null, keepdims?: boolean): Array;
  argmin(axis?: number | null, keepdims?: boolean): Array;
  softmax(axis?: Axis): Array;
  logSoftmax(axis?: Axis): Array;
  cumsum(axis?: number | null): Array;
  cumprod(axis?: number | null): Array;

  reshape(shape: Shape): Array;
  transpose(axes?: ReadonlyArray<number> | null): Array;
  swapaxes(axis1: number, axis2: number): Array;
  moveaxis(source: number, destination: number): Array;
  expandDims(axis: Axis): Array;
  squeeze(axis?: Axis | null): Array;
  broadcastTo(shape: Shape): Array;
  flatten(): Array;
  flip(axis?: Axis | null): Array;
  tile(reps: Shape): Array;
  repeat(repeats: number, axis?: number | null): Array;
  diagonal(offset?: number, axis1?: number, axis2?: number): Array;
  trace(offset?: number, axis1?: number, axis2?: number): Array;
  slice(index: ReadonlyArray<SliceIndex>): Array;
  take(indices: ArrayLike, axis?: number | null): Array;
  sort(axis?: number | null): Array;
  argsort(axis?: number | null): Array;
  clip(lo?: ArrayLike | null, hi?: ArrayLike | null): Array;
  astype(dtype: DType): Array;
}

// ---------------------------------------------------------------- loading

/**
 * Loads the module, opens the backend `options.backend` names (default
 * `'auto'`: WebGPU where there is an adapter, else the CPU backend) and
 * reports it. `options.wasm` may give the .wasm as a URL, bytes or a
 * module; only the first call loads, so later calls ignore it. A later
 * call may switch backends; arrays made before are not used after.
 */
export declare function init(options?: InitOptions): Promise<DeviceInfo>;
/** The adapter `init()` opened. */
export declare function deviceInfo(): DeviceInfo;
/** Reads the arrays among `values` and logs everything, as `console.log` would. */
export declare function print(...values: unknown[]): Promise<void>;
/**
 * Destroys the GPU device as a browser's device loss would: its memory is
 * freed, and every op throws (naming the loss) until `init()` opens a new
 * device; arrays made before must be made again.
 */
export declare function destroyDevice(): void;
/** Live arrays and GPU bytes. */
export declare function memory(): MemoryInfo;
/** Frees the GPU buffers kept for reuse. */
export declare function clearCache(): void;
/** How many kernels have been dispatched since start. */
export declare function dispatchCount(): number;

// ----------------------------------------------------------------- memory

/**
 * Runs `fn` and frees every array made inside it except those it returns
 * (in an array or an object) and those passed to keep(). `fn` must not be
 * async.
 */
export declare function tidy<T>(fn: () => T extends PromiseLike<unknown> ? never : T): T;
/** Keeps `a` alive past the tidy() it was made in. */
export declare function keep<T extends Array>(a: T): T;
/**
 * Frees an array, or every array in a list or a plain object (searched
 * recursively; other values are ignored). Freed arrays are skipped.
 */
export declare function dispose(value: Array | object): void;

// -------------------------------------------------------------- creation

/**
 * A new array from a number, a boolean, nested arrays or a TypedArray
 * (`options`: a dtype name or `{ shape, dtype }`). From a kiln array: a new
 * handle, converted when a dtype is given.
 */
export declare function array(values: ArrayLike, options?: DType | ArrayOptions): Array;
export declare function zeros(shape: Shape, dtype?: DType): Array;
export declare function ones(shape: Shape, dtype?: DType): Array;
/** bool when `value` is a boolean and no dtype is given, else float32 by default. */
export declare function full(shape: Shape, value: number | boolean, dtype?: DType): Array;
export declare function zerosLike(a: ArrayLike): Array;
export declare function onesLike(a: ArrayLike): Array;
export declare function fullLike(a: ArrayLike, value: number | boolean): Array;
/** `arange(stop)`: int32 when `stop` is an integer. */
export declare function arange(stop: number): Array;
/** `arange(start, stop, step = 1)`; int32 when all are integers. */
export declare function arange(start: number, stop: number | undefined, step?: number, dtype?: DType): Array;
/** `num` (default 50) values from `start` to `stop`, `stop` included unless `endpoint` is false. */
export declare function linspace(start: number, stop: number, num?: number, endpoint?: boolean, dtype?: DType): Array;
/** Ones on diagonal `k` of an `n` x `m` matrix (`m` defaults to `n`). */
export declare function eye(n: number, m?: number | null, k?: number, dtype?: DType): Array;
/** Ones at and below diagonal `k` of an `n` x `m` matrix. */
export declare function tri(n: number, m?: number | null, k?: number, dtype?: DType): Array;
export declare function tril(a: ArrayLike, k?: number): Array;
export declare function triu(a: ArrayLike, k?: number): Array;

// ------------------------------------------------------------- elementwise

// BEGIN generated from the op tables (KILN_BLESS=1 cargo test --test js_face)
export declare function negative(a: ArrayLike): Array;
export declare function abs(a: ArrayLike): Array;
export declare function sign(a: ArrayLike): Array;
export declare function exp(a: ArrayLike): Array;
export declare function expm1(a: ArrayLike): Array;
export declare function log(a: ArrayLike): Array;
export declare function log1p(a: ArrayLike): Array;
export declare function log2(a: ArrayLike): Array;
export declare function log10(a: ArrayLike): Array;
export declare function sqrt(a: ArrayLike): Array;
export declare function rsqrt(a: ArrayLike): Array;
export declare function square(a: ArrayLike): Array;
export declare function reciprocal(a: ArrayLike): Array;
export declare function sin(a: ArrayLike): Array;
export declare function cos(a: ArrayLike): Array;
export declare function tan(a: ArrayLike): Array;
export declare function arcsin(a: ArrayLike): Array;
export declare function arccos(a: ArrayLike): Array;
export declare function arctan(a: ArrayLike): Array;
export declare function sinh(a: ArrayLike): Array;
export declare function cosh(a: ArrayLike): Array;
export declare function tanh(a: ArrayLike): Array;
export declare function arcsinh(a: ArrayLike): Array;
export declare function arccosh(a: ArrayLike): Array;
export declare function arctanh(a: ArrayLike): Array;
export declare function sigmoid(a: ArrayLike): Array;
export declare function erf(a: ArrayLike): Array;
export declare function erfinv(a: ArrayLike): Array;
export declare function floor(a: ArrayLike): Array;
export declare function ceil(a: ArrayLike): Array;
export declare function round(a: ArrayLike): Array;
export declare function isnan(a: ArrayLike): Array;
export declare function isinf(a: ArrayLike): Array;
export declare function isfinite(a: ArrayLike): Array;
export declare function logicalNot(a: ArrayLike): Array;
export declare function cbrt(a: ArrayLike): Array;
export declare function exp2(a: ArrayLike): Array;
export declare function deg2rad(a: ArrayLike): Array;
export declare function rad2deg(a: ArrayLike): Array;
export declare function add(a: ArrayLike, b: ArrayLike): Array;
export declare function subtract(a: ArrayLike, b: ArrayLike): Array;
export declare function multiply(a: ArrayLike, b: ArrayLike): Array;
export declare function divide(a: ArrayLike, b: ArrayLike): Array;
export declare function floorDivide(a: ArrayLike, b: ArrayLike): Array;
export declare function remainder(a: ArrayLike, b: ArrayLike): Array;
export declare function power(a: ArrayLike, b: ArrayLike): Array;
export declare function maximum(a: ArrayLike, b: ArrayLike): Array;
export declare function minimum(a: ArrayLike, b: ArrayLike): Array;
export declare function arctan2(a: ArrayLike, b: ArrayLike): Array;
export declare function equal(a: ArrayLike, b: ArrayLike): Array;
export declare function notEqual(a: ArrayLike, b: ArrayLike): Array;
export declare function less(a: ArrayLike, b: ArrayLike): Array;
export declare function lessEqual(a: ArrayLike, b: ArrayLike): Array;
export declare function greater(a: ArrayLike, b: ArrayLike): Array;
export declare function greaterEqual(a: ArrayLike, b: ArrayLike): Array;
export declare function logicalAnd(a: ArrayLike, b: ArrayLike): Array;
export declare function logicalOr(a: ArrayLike, b: ArrayLike): Array;
export declare function bitwiseAnd(a: ArrayLike, b: ArrayLike): Array;
export declare function bitwiseOr(a: ArrayLike, b: ArrayLike): Array;
export declare function bitwiseXor(a: ArrayLike, b: ArrayLike): Array;
export declare function leftShift(a: ArrayLike, b: ArrayLike): Array;
export declare function rightShift(a: ArrayLike, b: ArrayLike): Array;
export declare function logaddexp(a: ArrayLike, b: ArrayLike): Array;
export declare function hypot(a: ArrayLike, b: ArrayLike): Array;
export declare function copysign(a: ArrayLike, b: ArrayLike): Array;
// END generated
/** The array as 1-d. */
export declare function flatten(a: ArrayLike): Array;
/** `a` with no gradient flowing through it. */
export declare function stopGradient(a: ArrayLike): Array;

/** Matrix product, batched over leading axes and broadcasting. */
export declare function matmul(a: ArrayLike, b: ArrayLike): Array;
export declare function outer(a: ArrayLike, b: ArrayLike): Array;
export declare function inner(a: ArrayLike, b: ArrayLike): Array;

/** `x` where `cond` holds, else `y`. */
export declare function where(cond: ArrayLike, x: ArrayLike, y: ArrayLike): Array;
/** `a` limited to `[lo, hi]`; a missing bound is not applied. */
export declare function clip(a: ArrayLike, lo?: ArrayLike | null, hi?: ArrayLike | null): Array;
export declare function astype(a: ArrayLike, dtype: DType): Array;

// -------------------------------------------------------------- reductions

// `axis`: one axis, a list, or undefined/null for all axes.
export declare function sum(a: ArrayLike, axis?: Axis | null, keepdims?: boolean): Array;
export declare function prod(a: ArrayLike, axis?: Axis | null, keepdims?: boolean): Array;
export declare function max(a: ArrayLike, axis?: Axis | null, keepdims?: boolean): Array;
export declare function min(a: ArrayLike, axis?: Axis | null, keepdims?: boolean): Array;
export declare function all(a: ArrayLike, axis?: Axis | null, keepdims?: boolean): Array;
export declare function any(a: ArrayLike, axis?: Axis | null, keepdims?: boolean): Array;
export declare function mean(a: ArrayLike, axis?: Axis | null, keepdims?: boolean): Array;
export declare function logsumexp(a: ArrayLike, axis?: Axis | null, keepdims?: boolean): Array;
/** The variance (`ddof`: delta degrees of freedom, default 0); exported as `var`. */
export declare function variance(a: ArrayLike, axis?: Axis | null, keepdims?: boolean, ddof?: number): Array;
export { variance as var };
export declare function std(a: ArrayLike, axis?: Axis | null, keepdims?: boolean, ddof?: number): Array;
/** The index (int32) of the largest entry along `axis` (of the flattened array when none). */
export declare function argmax(a: ArrayLike, axis?: number | null, keepdims?: boolean): Array;
export declare function argmin(a: ArrayLike, axis?: number | null, keepdims?: boolean): Array;
/** Default axis -1. */
export declare function softmax(a: ArrayLike, axis?: Axis): Array;
/** Default axis -1. */
export declare function logSoftmax(a: ArrayLike, axis?: Axis): Array;
/** Along `axis` (of the flattened array when none). */
export declare function cumsum(a: ArrayLike, axis?: number | null): Array;
export declare function cumprod(a: ArrayLike, axis?: number | null): Array;

// ------------------------------------------------------------------ shapes

/** `shape` may hold one -1 (inferred). */
export declare function reshape(a: ArrayLike, shape: Shape): Array;
/** Permutes the axes; reverses them when `axes` is missing. */
export declare function transpose(a: ArrayLike, axes?: ReadonlyArray<number> | null): Array;
export declare function swapaxes(a: ArrayLike, axis1: number, axis2: number): Array;
export declare function moveaxis(a: ArrayLike, source: number, destination: number): Array;
export declare function expandDims(a: ArrayLike, axis: Axis): Array;
/** Removes size-1 axes: those in `axis`, or all when it is missing. */
export declare function squeeze(a: ArrayLike, axis?: Axis | null): Array;
export declare function broadcastTo(a: ArrayLike, shape: Shape): Array;
/** Reverses the order of elements along `axis` (all axes when missing). */
export declare function flip(a: ArrayLike, axis?: Axis | null): Array;
export declare function tile(a: ArrayLike, reps: Shape): Array;
/** Each element `repeats` times along `axis` (of the flattened array when none). */
export declare function repeat(a: ArrayLike, repeats: number, axis?: number | null): Array;
export declare function diagonal(a: ArrayLike, offset?: number, axis1?: number, axis2?: number): Array;
export declare function trace(a: ArrayLike, offset?: number, axis1?: number, axis2?: number): Array;
/** `widths`: a number, one `[before, after]` pair for every axis, or a pair per axis. */
export declare function pad(a: ArrayLike, widths: number | PadPair | ReadonlyArray<PadPair>, value?: number): Array;
export declare function concatenate(arrays: ReadonlyArray<ArrayLike>, axis?: number): Array;
export declare function stack(arrays: ReadonlyArray<ArrayLike>, axis?: number): Array;
/** `sections`: a number of equal parts, or a list of cut indices. */
export declare function split(a: ArrayLike, sections: number | ReadonlyArray<number>, axis?: number): Array[];
/** Per axis: a number (picks one position), `null` (all), or `[start, stop, step]`. */
export declare function slice(a: ArrayLike, index: ReadonlyArray<SliceIndex>): Array;

// ------------------------------------------------ products, indexing, sorting

/** `axes`: a number of trailing/leading axes (default 2), or `[axesOfA, axesOfB]`. */
/** NumPy's `einsum`: `einsum('ij,jk->ik', a, b)`, `...` and the implicit output included. */
export declare function einsum(subscripts: string, ...operands: ArrayLike[]): Array;
/** Joins along the second axis (the first for 1-D arrays). */
export declare function hstack(arrays: ReadonlyArray<ArrayLike>): Array;
/** Joins along the first axis, 1-D arrays as rows. */
export declare function vstack(arrays: ReadonlyArray<ArrayLike>): Array;
/** The `n`-th (default 1) discrete difference along `axis` (default -1). */
export declare function diff(a: ArrayLike, n?: number, axis?: number): Array;
/** Coordinate arrays from 1-D arrays (`indexing` 'xy' by default, or 'ij'). */
export declare function meshgrid(arrays: ReadonlyArray<ArrayLike>, indexing?: 'xy' | 'ij'): Array[];
/** Tolerances of `isclose` and `allclose` (defaults 1e-5, 1e-8, false). */
export interface CloseOptions {
  rtol?: number;
  atol?: number;
  equalNan?: boolean;
}
/** Elementwise `|a - b| <= atol + rtol |b|`, as bool. */
export declare function isclose(a: ArrayLike, b: ArrayLike, options?: CloseOptions): Array;
/** Whether every pair is close: a 0-d bool array. */
export declare function allclose(a: ArrayLike, b: ArrayLike, options?: CloseOptions): Array;
/** Whether shapes and values are equal: a 0-d bool array. */
export declare function arrayEqual(a: ArrayLike, b: ArrayLike, options?: { equalNan?: boolean }): Array;
/** NaN to `nan` (0), infinities to `posinf` and `neginf` (default the dtype's extremes). */
export declare function nanToNum(x: ArrayLike, options?: { nan?: number; posinf?: number; neginf?: number }): Array;
/** `(..., numClasses)` one-hot codes of integer indices (float32 unless `dtype`). */
export declare function oneHot(indices: ArrayLike, numClasses: number, dtype?: DType): Array;
/** The covariance of the rows (`rowvar: false`: columns), normalised by N - ddof (ddof 1). */
export declare function cov(m: ArrayLike, options?: { rowvar?: boolean; ddof?: number }): Array;
/** The correlation coefficients of the rows (`rowvar: false`: columns). */
export declare function corrcoef(m: ArrayLike, options?: { rowvar?: boolean }): Array;
/** The 1-D convolution (`mode` 'full' by default). */
export declare function convolve(a: ArrayLike, v: ArrayLike, mode?: 'full' | 'same' | 'valid'): Array;
/** The 1-D cross-correlation (`mode` 'valid' by default). */
export declare function correlate(a: ArrayLike, v: ArrayLike, mode?: 'full' | 'same' | 'valid'): Array;
export declare function tensordot(
  a: ArrayLike,
  b: ArrayLike,
  axes?: number | readonly [ReadonlyArray<number>, ReadonlyArray<number>],
): Array;
/** Entries at `indices` (integers; JS values become int32) along `axis` (of the flattened array when none). */
export declare function take(a: ArrayLike, indices: ArrayLike, axis?: number | null): Array;
export declare function takeAlongAxis(a: ArrayLike, indices: ArrayLike, axis: number): Array;
/** `a` with `updates` added at `indices` along `axis` (default 0), repeated indices accumulating. */
export declare function scatterAdd(a: ArrayLike, indices: ArrayLike, updates: ArrayLike, axis?: number): Array;
/** Sorted along `axis` (default -1; `null`: the flattened array). */
export declare function sort(a: ArrayLike, axis?: number | null): Array;
export declare function argsort(a: ArrayLike, axis?: number | null): Array;
/** The `k` largest entries along `axis` (default -1) and their indices, largest first. */
export declare function topk(a: ArrayLike, k: number, axis?: number): [values: Array, indices: Array];

/** Queues the kernels of the arrays without waiting for them; exported as `eval`. */
export declare function evaluate(...arrays: (Array | ReadonlyArray<Array>)[]): void;
export { evaluate as eval };

// ------------------------------------------------------------------ random

/**
 * Random numbers with explicit keys, the same values as `jax.random` for
 * the same key. A key is a uint32 array of shape [2].
 */
export declare const random: {
  /** A key from an integer seed in [0, 2^53). */
  key(seed: number): Array;
  /** `num` (default 2) new keys: one uint32 array of shape [num, 2]. */
  split(key: Array, num?: number): Array;
  /** A new key from `key` and `data`, an integer in [0, 2^32). */
  foldIn(key: Array, data: number): Array;
  /** uint32 bits. */
  bits(key: Array, shape?: Shape): Array;
  /** Uniform in `[low, high)` (default [0, 1)). */
  uniform(key: Array, shape?: Shape, low?: number, high?: number, dtype?: DType): Array;
  normal(key: Array, shape?: Shape, dtype?: DType): Array;
  gumbel(key: Array, shape?: Shape, dtype?: DType): Array;
  /** int32 in `[low, high)`. */
  randint(key: Array, shape: Shape, low: number, high: number): Array;
  /** bool, true with probability `p` (default 0.5). */
  bernoulli(key: Array, p?: number, shape?: Shape): Array;
  /** int32 categories drawn from `logits` along `axis` (default -1); `shape` defaults to the logits' without `axis`. */
  categorical(key: Array, logits: ArrayLike, axis?: number, shape?: Shape): Array;
  /** A random permutation of `0..n` (int32). */
  permutation(key: Array, n: number): Array;
};

// ------------------------------------------------------------------ linalg

/** Linear algebra on the GPU, batched over leading axes and differentiable. */
export declare const linalg: {
  inv(a: ArrayLike): Array;
  det(a: ArrayLike): Array;
  eigvalsh(a: ArrayLike): Array;
  svdvals(a: ArrayLike): Array;
  solve(a: ArrayLike, b: ArrayLike): Array;
  slogdet(a: ArrayLike): [sign: Array, logabsdet: Array];
  lu(a: ArrayLike): [p: Array, l: Array, u: Array];
  luFactor(a: ArrayLike): [lu: Array, pivots: Array];
  eigh(a: ArrayLike): [w: Array, v: Array];
  cholesky(a: ArrayLike, upper?: boolean): Array;
  choSolve(factor: ArrayLike, b: ArrayLike, upper?: boolean): Array;
  solveTriangular(a: ArrayLike, b: ArrayLike, options?: SolveTriangularOptions): Array;
  /** Default mode `'reduced'`. */
  qr(a: ArrayLike, mode?: 'reduced' | 'complete'): [q: Array, r: Array];
  /** Default `fullMatrices` true. */
  svd(a: ArrayLike, fullMatrices?: boolean): [u: Array, s: Array, vt: Array];
  pinv(a: ArrayLike, rtol?: number | null): Array;
  lstsq(a: ArrayLike, b: ArrayLike, rcond?: number | null): LstsqResult;
  matrixRank(a: ArrayLike, tol?: number | null): Array;
  matrixPower(a: ArrayLike, n: number): Array;
  /** Default axis -1. */
  cross(a: ArrayLike, b: ArrayLike, axis?: number): Array;
  norm(a: ArrayLike, ord?: NormOrd | null, axis?: Axis | null, keepdims?: boolean): Array;
  cond(a: ArrayLike, ord?: NormOrd | null): Array;
};

// ---------------------------------------------------------------------- nn

export declare const nn: {
  relu(x: ArrayLike): Array;
  gelu(x: ArrayLike): Array;
  silu(x: ArrayLike): Array;
  softplus(x: ArrayLike): Array;
  logSigmoid(x: ArrayLike): Array;
  sigmoid: typeof sigmoid;
  softmax: typeof softmax;
  logSoftmax: typeof logSoftmax;
  /** Default slope 0.01. */
  leakyRelu(x: ArrayLike, slope?: number): Array;
  /** Default alpha 1. */
  elu(x: ArrayLike, alpha?: number): Array;
  /**
   * `targets`: class indices (integers shaped like the logits without the
   * class axis: an int32 array, or JS numbers one axis short of the logits)
   * or probabilities (floats shaped like the logits).
   */
  crossEntropy(logits: ArrayLike, targets: ArrayLike, options?: CrossEntropyOptions): Array;
  /** Default reduction `'mean'`. */
  mseLoss(x: ArrayLike, targets: ArrayLike, reduction?: Reduction): Array;
  mish(x: ArrayLike): Array;
  /** GELU by its tanh approximation. */
  geluTanh(x: ArrayLike): Array;
  /** Splits `axis` (default -1) in halves `a`, `b`: `a * sigmoid(b)`. */
  glu(x: ArrayLike, axis?: number): Array;
  /** Class indices (int32 or JS numbers) against log-probabilities. */
  nllLoss(logp: ArrayLike, targets: ArrayLike, reduction?: Reduction): Array;
  /** From logits. */
  binaryCrossEntropy(logits: ArrayLike, targets: ArrayLike, reduction?: Reduction): Array;
  l1Loss(x: ArrayLike, targets: ArrayLike, reduction?: Reduction): Array;
  /** `targets · (log targets - logp)`. */
  klDivLoss(logp: ArrayLike, targets: ArrayLike, reduction?: Reduction): Array;
  smoothL1Loss(x: ArrayLike, targets: ArrayLike, options?: { beta?: number; reduction?: Reduction }): Array;
  huberLoss(x: ArrayLike, targets: ArrayLike, options?: { delta?: number; reduction?: Reduction }): Array;
  /** The fraction of rows whose largest logit is the target class. */
  accuracy(logits: ArrayLike, targets: ArrayLike): Array;
  /** Over the last axis; `weight` and `bias` of one value per feature where given (eps 1e-5). */
  layerNorm(x: ArrayLike, options?: { weight?: ArrayLike; bias?: ArrayLike; eps?: number }): Array;
  rmsNorm(x: ArrayLike, options?: { weight?: ArrayLike; eps?: number }): Array;
  /** `[output, runningMean, runningVar]`: batch statistics (and moved running ones) in training, else the running ones. */
  batchNorm(
    x: ArrayLike,
    runningMean: ArrayLike,
    runningVar: ArrayLike,
    options?: { weight?: ArrayLike; bias?: ArrayLike; training?: boolean; momentum?: number; eps?: number },
  ): [output: Array, runningMean: Array, runningVar: Array];
  /** `(N, ..., C)` inputs, the channels in `groups` groups. */
  groupNorm(x: ArrayLike, groups: number, options?: { weight?: ArrayLike; bias?: ArrayLike; eps?: number }): Array;
  /** Zeroes each entry with probability `p`, the rest scaled by `1 / (1 - p)`. */
  dropout(x: ArrayLike, p: number, key: Array): Array;
  /** `x` `(N, L, C)`, `weight` `(O, K, C / groups)`. */
  conv1d(x: ArrayLike, weight: ArrayLike, options?: ConvOptions<number>): Array;
  /** `x` `(N, H, W, C)`, `weight` `(O, KH, KW, C / groups)`. */
  conv2d(x: ArrayLike, weight: ArrayLike, options?: ConvOptions<number | [number, number]>): Array;
  /** Max over windows of `kernel` of `(N, H, W, C)` inputs (stride default: the kernel). */
  maxPool2d(x: ArrayLike, kernel: number | [number, number], options?: PoolOptions): Array;
  /** The mean over windows (padding counts as zeros). */
  avgPool2d(x: ArrayLike, kernel: number | [number, number], options?: PoolOptions): Array;
  /** `softmax(q kᵀ · scale + mask) v` (scale default `1/√D`). */
  scaledDotProductAttention(
    q: ArrayLike,
    k: ArrayLike,
    v: ArrayLike,
    options?: { scale?: number; mask?: ArrayLike; causal?: boolean },
  ): Array;
  /** Initialisers: arrays of `shape` drawn with `key`. */
  init: {
    glorotUniform(key: Array, shape: Shape, options?: { gain?: number; dtype?: DType }): Array;
    glorotNormal(key: Array, shape: Shape, options?: { gain?: number; dtype?: DType }): Array;
    heUniform(key: Array, shape: Shape, options?: { dtype?: DType }): Array;
    heNormal(key: Array, shape: Shape, options?: { dtype?: DType }): Array;
    /** N(mean, std²) truncated to `[mean + lower·std, mean + upper·std]` (defaults 0, 1, -2, 2). */
    truncatedNormal(
      key: Array,
      shape: Shape,
      options?: { mean?: number; std?: number; lower?: number; upper?: number; dtype?: DType },
    ): Array;
  };
  /** The sinusoidal position table `(length, dims)` (base 10000). */
  sinusoidalPositions(length: number, dims: number, base?: number): Array;
  /** Rotary position embeddings of the first `dims` features of `(..., L, D)` inputs. */
  rope(x: ArrayLike, dims: number, options?: { traditional?: boolean; base?: number; offset?: number }): Array;
  MultiHeadAttention: typeof MultiHeadAttention;
  TransformerEncoderBlock: typeof TransformerEncoderBlock;
  Rope: typeof Rope;
  Embedding: typeof Embedding;
  Conv1d: typeof Conv1d;
  Conv2d: typeof Conv2d;
  MaxPool2d: typeof MaxPool2d;
  AvgPool2d: typeof AvgPool2d;
  LayerNorm: typeof LayerNorm;
  RmsNorm: typeof RmsNorm;
  GroupNorm: typeof GroupNorm;
  BatchNorm: typeof BatchNorm;
  Dropout: typeof Dropout;
  /** The base class of layers and models (see `Module`). */
  Module: typeof Module;
  /** `y = x Wᵀ + b` (see `Linear`). */
  Linear: typeof Linear;
  /** Layers in order (see `Sequential`). */
  Sequential: typeof Sequential;
  ReLU: typeof ReLU;
  GELU: typeof GELU;
  Tanh: typeof Tanh;
  Flatten: typeof Flatten;
  /**
   * `[loss, grads]` of `lossFn(...args)`, which runs `model`, with respect
   * to the model's trainable parameters (grads shaped like
   * `model.trainableParameters()`).
   */
  valueAndGrad<A extends unknown[]>(model: Module, lossFn: (...args: A) => Array): (...args: A) => [loss: Array, grads: ParamTree];
};

/** A module's parameters: arrays in nested plain objects and lists, named by property. */
export type ParamTree = { [key: string]: Array | ParamTree | ReadonlyArray<Array | ParamTree | null> };

/**
 * The base class of layers and models: array-valued properties are
 * parameters, module-valued properties children (lists and plain objects
 * of them too), as MLX's `nn.Module`; the paths of `parameters()`
 * (`'layers.0.weight'`) are those of the Rust modules.
 */
export declare class Module {
  /** Whether dropout and batch norm behave as in training. */
  readonly isTraining: boolean;
  /** Every parameter, as a pytree (object keys sorted). */
  parameters(): ParamTree;
  /** The parameters that are not frozen. */
  trainableParameters(): ParamTree;
  /** Child modules by property name. */
  children(): Record<string, unknown>;
  /** The number of entries in trainable parameters. */
  numParameters(): number;
  /** Freezes the parameters whose path starts with `prefix` (all for `''`). */
  freeze(prefix?: string): this;
  /** Undoes `freeze`. */
  unfreeze(prefix?: string): this;
  /** Sets the parameters in `tree` (any part of `parameters()`), checked first. */
  update(tree: unknown): this;
  /** Training (`true`, the default) or evaluation mode, for this module and below. */
  train(mode?: boolean): this;
  /** `train(false)`. */
  eval(): this;
  /**
   * Sets every parameter from a safetensors file (URL, Response, Blob,
   * buffer) or an object of arrays by path; the replaced arrays are freed.
   */
  loadWeights(source: SafetensorsSource | Record<string, Array>): Promise<this>;
  /** The parameters as safetensors bytes, named by path. */
  saveWeights(options?: { metadata?: Record<string, string> }): Promise<Uint8Array>;
  /** Frees every parameter. */
  dispose(): void;
  /** The module applied to its input(s) (and options, for some layers). */
  forward(...inputs: any[]): Array;
}

/** Options of `Linear`. */
export interface LinearOptions {
  /** Whether there is a bias (default true). */
  bias?: boolean;
  /** The key the initial values are drawn with (default: the next of a fixed sequence). */
  key?: Array;
}

/** `y = x Wᵀ + b`, `W` `(outputDims, inputDims)`, both uniform in `±1/√inputDims` at first. */
export declare class Linear extends Module {
  constructor(inputDims: number, outputDims: number, options?: LinearOptions);
  weight: Array;
  bias?: Array;
  forward(x: ArrayLike): Array;
}

/** Stride, padding, dilation and groups of a convolution (per spatial axis or one for all). */
export interface ConvOptions<S> {
  stride?: S;
  padding?: S;
  dilation?: S;
  groups?: number;
}

/** A convolution layer's options: `ConvOptions`, whether it has a bias, and the key it is drawn with. */
export interface ConvLayerOptions<S> extends ConvOptions<S> {
  bias?: boolean;
  key?: Array;
}

/** Stride (default: the kernel) and padding of a pooling window. */
export interface PoolOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
}

/** An attention mask and whether it is causal. */
export interface AttentionOptions {
  /** Broadcasts to `(B, heads, Lq, Lk)`: bool keeps `true`, floats are added to the scores. */
  mask?: ArrayLike;
  causal?: boolean;
}

/** Multi-head attention on `(B, L, dims)` inputs (property names are the Rust module's). */
export declare class MultiHeadAttention extends Module {
  constructor(dims: number, heads: number, options?: { bias?: boolean; key?: Array });
  query_proj: Linear;
  key_proj: Linear;
  value_proj: Linear;
  out_proj: Linear;
  attend(queries: Array, keys: Array, values: Array, options?: AttentionOptions): Array;
  forward(x: Array, options?: AttentionOptions): Array;
}

/** Options of `TransformerEncoderBlock`. */
export interface TransformerOptions {
  /** The MLP's hidden width (default 4 × dims). */
  mlpDims?: number;
  /** The drop probability (default 0). */
  dropout?: number;
  activation?: 'relu' | 'gelu' | 'geluTanh' | 'silu' | 'mish' | 'tanh';
  /** Norms before the sublayers (default false: after). */
  normFirst?: boolean;
  normEps?: number;
  key?: Array;
}

/** Self-attention and a two-layer MLP, each with a residual connection and layer norm. */
export declare class TransformerEncoderBlock extends Module {
  constructor(dims: number, heads: number, options?: TransformerOptions);
  attention: MultiHeadAttention;
  norm1: LayerNorm;
  norm2: LayerNorm;
  linear1: Linear;
  linear2: Linear;
  dropout: Dropout;
  forward(x: Array, options?: AttentionOptions): Array;
}

/** Rotary position embeddings; `forward(x, offset)`. */
export declare class Rope extends Module {
  constructor(dims: number, options?: { traditional?: boolean; base?: number });
  forward(x: ArrayLike, offset?: number): Array;
}

/** A table of `num` vectors of `dims` floats, looked up by integer index. */
export declare class Embedding extends Module {
  constructor(num: number, dims: number, options?: { key?: Array });
  weight: Array;
  forward(indices: ArrayLike): Array;
  /** `x Wᵀ`: scores against every embedding. */
  asLinear(x: ArrayLike): Array;
}

/** 1-D convolution on `(N, L, C)` inputs. */
export declare class Conv1d extends Module {
  constructor(inChannels: number, outChannels: number, kernel: number, options?: ConvLayerOptions<number>);
  weight: Array;
  bias?: Array;
  forward(x: ArrayLike): Array;
}

/** 2-D convolution on `(N, H, W, C)` inputs. */
export declare class Conv2d extends Module {
  constructor(
    inChannels: number,
    outChannels: number,
    kernel: number | [number, number],
    options?: ConvLayerOptions<number | [number, number]>,
  );
  weight: Array;
  bias?: Array;
  forward(x: ArrayLike): Array;
}

/** 2-D max pooling. */
export declare class MaxPool2d extends Module {
  constructor(kernel: number | [number, number], options?: PoolOptions);
  forward(x: ArrayLike): Array;
}

/** 2-D average pooling. */
export declare class AvgPool2d extends Module {
  constructor(kernel: number | [number, number], options?: PoolOptions);
  forward(x: ArrayLike): Array;
}

/** Layer normalisation over the last axis. */
export declare class LayerNorm extends Module {
  constructor(dims: number, options?: { eps?: number; affine?: boolean });
  weight?: Array;
  bias?: Array;
  forward(x: ArrayLike): Array;
}

/** Root-mean-square normalisation over the last axis. */
export declare class RmsNorm extends Module {
  constructor(dims: number, options?: { eps?: number });
  weight: Array;
  forward(x: ArrayLike): Array;
}

/** Group normalisation of `(N, ..., C)` inputs. */
export declare class GroupNorm extends Module {
  constructor(groups: number, channels: number, options?: { eps?: number; affine?: boolean });
  weight?: Array;
  bias?: Array;
  forward(x: ArrayLike): Array;
}

/** Batch normalisation; buffers `running_mean` and `running_var` (not trained). */
export declare class BatchNorm extends Module {
  constructor(channels: number, options?: { eps?: number; momentum?: number; affine?: boolean });
  weight?: Array;
  bias?: Array;
  running_mean: Array;
  running_var: Array;
  forward(x: ArrayLike): Array;
}

/** Dropout with a fresh key each call; the identity in evaluation mode. */
export declare class Dropout extends Module {
  constructor(p: number, options?: { key?: Array });
  forward(x: ArrayLike): Array;
}

/** Layers applied in order; their parameters are named by position (`'0.weight'`). */
export declare class Sequential extends Module {
  constructor(...layers: Module[]);
  layers: Module[];
  forward(x: ArrayLike): Array;
}

/** `relu` as a layer. */
export declare class ReLU extends Module {
  forward(x: ArrayLike): Array;
}
/** `gelu` as a layer. */
export declare class GELU extends Module {
  forward(x: ArrayLike): Array;
}
/** `tanh` as a layer. */
export declare class Tanh extends Module {
  forward(x: ArrayLike): Array;
}
/** `(N, ...)` to `(N, -1)`. */
export declare class Flatten extends Module {
  forward(x: Array): Array;
}

// ---------------------------------------------------------------------- io

/** Where safetensors bytes come from: a URL, a fetch response, a blob or a buffer. */
export type SafetensorsSource = string | URL | Response | Blob | ArrayBuffer | ArrayBufferView;

export declare const io: {
  /** The arrays of a safetensors file by name. */
  loadSafetensors(source: SafetensorsSource, options?: { metadata?: false }): Promise<Record<string, Array>>;
  /** The arrays by name and the file's metadata. */
  loadSafetensors(
    source: SafetensorsSource,
    options: { metadata: true },
  ): Promise<{ arrays: Record<string, Array>; metadata: Record<string, string> }>;
  /** The bytes of a safetensors file holding the arrays of a pytree, each named by its dotted path. */
  saveSafetensors(tree: unknown, options?: { metadata?: Record<string, string> }): Promise<Uint8Array>;
  /** `saveSafetensors`, downloaded by the browser as `filename`. */
  downloadSafetensors(tree: unknown, filename?: string, options?: { metadata?: Record<string, string> }): Promise<void>;
};

// -------------------------------------------------------------- optimizers

/** A learning rate: a number, or a function of the step (0 for the first update). */
export type LearningRate = number | ((step: number) => number);

/** An update rule with its learning rate, step count and per-parameter state. */
export declare class Optimizer {
  private constructor();
  /** The number of updates so far. */
  readonly steps: number;
  /** The learning rate the next update uses. */
  readonly learningRate: number;
  /** Updates `model`'s trainable parameters with `grads` (shaped like them); the old arrays are freed. */
  update(model: Module, grads: unknown): void;
  /** `params` after one update with `grads` (a tree of the same paths); `params` are left as they are. */
  apply<T>(params: T, grads: unknown): T;
  /** The state by name (`step`, `step.<path>`, `<slot>.<path>`), as copies. */
  state(): Record<string, Array>;
  /** Restores what `state()` returned. */
  loadState(state: Record<string, Array>): Promise<void>;
  /** Frees the state. */
  dispose(): void;
}

/** Options of `SGD`. */
export interface SgdOptions {
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  /** L2, added to the gradient. */
  weightDecay?: number;
}

/** Options of `Adam` and `AdamW`. */
export interface AdamOptions {
  betas?: [number, number];
  eps?: number;
  /** L2 for Adam; decoupled (default 0.01) for AdamW. */
  weightDecay?: number;
}

/** Options of `RMSprop`. */
export interface RmspropOptions {
  alpha?: number;
  eps?: number;
  momentum?: number;
  centered?: boolean;
  weightDecay?: number;
}

export declare const optimizers: {
  Optimizer: typeof Optimizer;
  /** SGD with momentum, dampening, Nesterov and L2 weight decay (PyTorch's). */
  SGD(learningRate: LearningRate, options?: SgdOptions): Optimizer;
  /** Adam with bias correction. */
  Adam(learningRate: LearningRate, options?: AdamOptions): Optimizer;
  /** Adam with decoupled weight decay. */
  AdamW(learningRate: LearningRate, options?: AdamOptions): Optimizer;
  RMSprop(learningRate: LearningRate, options?: RmspropOptions): Optimizer;
  Adagrad(learningRate: LearningRate, options?: { eps?: number; weightDecay?: number }): Optimizer;
  Lion(learningRate: LearningRate, options?: { betas?: [number, number]; weightDecay?: number }): Optimizer;
  /** `init · rate^⌊step / stepSize⌋`. */
  stepDecay(init: number, rate: number, stepSize: number): (step: number) => number;
  /** `init · rate^step`. */
  exponentialDecay(init: number, rate: number): (step: number) => number;
  /** Half a cosine from `init` to `end` (default 0) over `decaySteps`, then `end`. */
  cosineDecay(init: number, decaySteps: number, end?: number): (step: number) => number;
  /** A line from `init` to `end` over `steps`, then `end`. */
  linearSchedule(init: number, end: number, steps: number): (step: number) => number;
  /** Schedule `i + 1` starts, at its own step 0, at `boundaries[i]`. */
  joinSchedules(schedules: ReadonlyArray<(step: number) => number>, boundaries: ReadonlyArray<number>): (step: number) => number;
  /** `[clipped, norm]`: `grads` scaled to a global L2 norm of at most `maxNorm`. */
  clipGradNorm<T>(grads: T, maxNorm: number): [clipped: T, norm: Array];
};

// -------------------------------------------------------------- transforms

/** `argnums`, as an option. */
export interface GradOptions<N> {
  /** The arguments to differentiate (default 0). */
  argnums?: N;
  /** `f` returns `[loss, aux]`; the aux comes back beside the gradient. */
  hasAux?: boolean;
}

/**
 * The gradient of a scalar `f` with respect to argument `argnums` (default
 * 0); arguments may be pytrees, and a gradient has its argument's structure.
 */
export declare function grad<F extends ArrayFunction, const N extends number = 0>(
  f: F,
  argnums?: N | (GradOptions<N> & { hasAux?: false }),
): (...args: ArgsLike<Parameters<F>>) => GradAt<F, N>;
/** The gradients of a scalar `f` with respect to arguments `argnums`, one per entry. */
export declare function grad<F extends ArrayFunction, const N extends ReadonlyArray<number>>(
  f: F,
  argnums: N | (GradOptions<N> & { argnums: N; hasAux?: false }),
): (...args: ArgsLike<Parameters<F>>) => GradsAt<F, N>;
/** `[grad, aux]`: `f` returns `[loss, aux]`. */
export declare function grad<F extends AuxFunction, const N extends number = 0>(
  f: F,
  options: GradOptions<N> & { hasAux: true },
): (...args: ArgsLike<Parameters<F>>) => [grad: GradAt<F, N>, aux: AuxOf<F>];
/** `[grads, aux]` for a list of `argnums`. */
export declare function grad<F extends AuxFunction, const N extends ReadonlyArray<number>>(
  f: F,
  options: GradOptions<N> & { argnums: N; hasAux: true },
): (...args: ArgsLike<Parameters<F>>) => [grads: GradsAt<F, N>, aux: AuxOf<F>];

/** `[value, grad]` of a scalar `f` (argnums default 0). */
export declare function valueAndGrad<F extends ArrayFunction, const N extends number = 0>(
  f: F,
  argnums?: N | (GradOptions<N> & { hasAux?: false }),
): (...args: ArgsLike<Parameters<F>>) => [value: Array, grad: GradAt<F, N>];
/** `[value, grads]`: a list of gradients when `argnums` is a list. */
export declare function valueAndGrad<F extends ArrayFunction, const N extends ReadonlyArray<number>>(
  f: F,
  argnums: N | (GradOptions<N> & { argnums: N; hasAux?: false }),
): (...args: ArgsLike<Parameters<F>>) => [value: Array, grads: GradsAt<F, N>];
/** `[[value, aux], grad]`: `f` returns `[loss, aux]`. */
export declare function valueAndGrad<F extends AuxFunction, const N extends number = 0>(
  f: F,
  options: GradOptions<N> & { hasAux: true },
): (...args: ArgsLike<Parameters<F>>) => [value: [value: Array, aux: AuxOf<F>], grad: GradAt<F, N>];
/** `[[value, aux], grads]` for a list of `argnums`. */
export declare function valueAndGrad<F extends AuxFunction, const N extends ReadonlyArray<number>>(
  f: F,
  options: GradOptions<N> & { argnums: N; hasAux: true },
): (...args: ArgsLike<Parameters<F>>) => [value: [value: Array, aux: AuxOf<F>], grads: GradsAt<F, N>];

/**
 * `[output, cotangents]`: reverse mode. `primals` lists `f`'s arguments
 * (pytrees); `cotangents` has the structure of `f`'s output; one cotangent
 * tree per argument comes back.
 */
export declare function vjp<F extends ArraysFunction>(
  f: F,
  primals: ArgsLike<Parameters<F>>,
  cotangents: TreeLike<ReturnType<F>>,
  options?: { hasAux?: false },
): [output: Structured<ReturnType<F>>, cotangents: Structured<Parameters<F>>];
/** `[output, cotangents, aux]`: `f` returns `[output, aux]`. */
export declare function vjp<F extends AuxFunction<unknown>>(
  f: F,
  primals: ArgsLike<Parameters<F>>,
  cotangents: TreeLike<ReturnType<F>[0]>,
  options: { hasAux: true },
): [output: Structured<ReturnType<F>[0]>, cotangents: Structured<Parameters<F>>, aux: AuxOf<F>];

/** `[output, tangent]`: forward mode; `tangents` has the structure of `primals`. */
export declare function jvp<F extends ArraysFunction>(
  f: F,
  primals: ArgsLike<Parameters<F>>,
  tangents: ArgsLike<Parameters<F>>,
  options?: { hasAux?: false },
): [output: Structured<ReturnType<F>>, tangent: Structured<ReturnType<F>>];
/** `[output, tangent, aux]`: `f` returns `[output, aux]`. */
export declare function jvp<F extends AuxFunction<unknown>>(
  f: F,
  primals: ArgsLike<Parameters<F>>,
  tangents: ArgsLike<Parameters<F>>,
  options: { hasAux: true },
): [output: Structured<ReturnType<F>[0]>, tangent: Structured<ReturnType<F>[0]>, aux: AuxOf<F>];

/** An axis per leaf: a number, `null` (not mapped), or a tree of them shaped like (a prefix of) the value. */
export type AxisSpec = number | null | ReadonlyArray<AxisSpec> | { readonly [key: string]: AxisSpec };

/**
 * `f` mapped over axis `inAxes` of its arguments (`null`: passed whole;
 * one value for all arguments, or per argument a value or a tree of them
 * shaped like the argument; default 0), the results stacked along
 * `outAxes` (a number, or a tree of numbers shaped like the output).
 */
export declare function vmap<F extends ArraysFunction>(
  f: F,
  inAxes?: AxisSpec,
  outAxes?: AxisSpec,
): (...args: ArgsLike<Parameters<F>>) => Structured<ReturnType<F>>;

/** The Jacobian of a pytree `Y` by a pytree `X`: `Y`'s structure of `X`'s structures. */
export type JacobianOf<Y, X> = LeavesTo<Y, Structured<X>>;

/**
 * d f / d x, shaped `f(x).shape + x.shape` (reverse mode); for pytrees a
 * tree of trees: the output's structure outside, `x`'s inside.
 */
export declare function jacobian(f: (x: Array) => Array): (x: ArrayLike) => Array;
export declare function jacobian<X, Y extends PyTree>(f: (x: X) => Y): (x: TreeLike<X>) => JacobianOf<Y, X>;
/** The Jacobian by reverse mode (as `jacobian`). */
export declare function jacrev(f: (x: Array) => Array): (x: ArrayLike) => Array;
export declare function jacrev<X, Y extends PyTree>(f: (x: X) => Y): (x: TreeLike<X>) => JacobianOf<Y, X>;
/** The Jacobian by forward mode (one jvp per input element). */
export declare function jacfwd(f: (x: Array) => Array): (x: ArrayLike) => Array;
export declare function jacfwd<X, Y extends PyTree>(f: (x: X) => Y): (x: TreeLike<X>) => JacobianOf<Y, X>;
/** The Hessian of a scalar `f`, shaped `x.shape + x.shape` (a tree of trees for a pytree `x`). */
export declare function hessian(f: (x: Array) => Array): (x: ArrayLike) => Array;
export declare function hessian<X>(f: (x: X) => Array): (x: TreeLike<X>) => JacobianOf<X, X>;

/** `f` traced once per argument structure, shapes and dtypes, fused, then replayed. */
export declare function compile<F extends ArraysFunction>(f: F): (...args: ArgsLike<Parameters<F>>) => Structured<ReturnType<F>>;

/** `f` whose gradient recomputes its forward pass instead of keeping its intermediate arrays. */
export declare function checkpoint<F extends ArrayFunction>(f: F): (...args: ArgsLike<Parameters<F>>) => Array;

/**
 * `f` with a reverse-mode rule of one's own: `backward(primals, output,
 * cotangent)` returns one cotangent per argument, shaped like the arguments.
 */
export declare function customVjp<F extends ArrayFunction>(
  f: F,
  backward: (primals: Parameters<F>, output: Array, cotangent: Array) => ReadonlyArray<unknown>,
): (...args: ArgsLike<Parameters<F>>) => Array;

/** Pytrees: the nested lists and plain objects of arrays that the transforms take. */
export declare const tree: {
  /** `[leaves, structure]`, leaves in order (object keys sorted). */
  flatten<L = Array>(tree: unknown): [leaves: L[], structure: TreeDef];
  /** `[[path, leaf], ...]` with dotted paths (`'layers.0.weight'`), in `flatten`'s order. */
  flattenWithPaths<L = Array>(tree: unknown): [path: string, leaf: L][];
  /** The tree of `structure` with `leaves` in order. */
  unflatten(structure: TreeDef, leaves: ReadonlyArray<unknown>): unknown;
  /** The leaves in order. */
  leaves<L = Array>(tree: unknown): L[];
  /** The structure. */
  structure(tree: unknown): TreeDef;
  /** `f` on each leaf (with the leaves at the same places of `rest`, of the same structure). */
  map<T, R>(f: (leaf: Array, ...rest: any[]) => R, tree: T, ...rest: unknown[]): LeavesTo<T, R>;
};
