//! The ops, exported one by one under their JavaScript names. Namespaced
//! ops carry their namespace as a prefix (`linalg_svd`, `random_normal`,
//! `nn_relu`); the wrapper files them under `kiln.linalg`, ...

use super::{arrays_of, dtype, sizes, wrap, wrap_all, JsArray, JsResult};
use crate::error::invalid;
use crate::linalg::{self, NormOrd, QrMode, Triangular};
use crate::{random, Axes, DType, Sections, Slice, TensorAxes};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// `fn(a, b)` for each op `$f` of `$path`, exported as `$js`.
macro_rules! binary {
    ($path:path; $($f:ident => $js:literal),* $(,)?) => {
        $(
            #[doc = concat!("`", $js, "` in JavaScript (declared in `www/src/index.d.ts`).")]
            #[wasm_bindgen(js_name = $js)]
            pub fn $f(a: &JsArray, b: &JsArray) -> JsResult<JsArray> {
                use $path as m;
                wrap(stringify!($f), m::$f(&a.inner, &b.inner))
            }
        )*
    };
}

/// `fn(a, axes, keepdims)` reductions; no axes reduces over all of them.
macro_rules! reduction {
    ($($f:ident),* $(,)?) => {
        $(
            #[doc = concat!("`kiln.", stringify!($f), "` in JavaScript (declared in `www/src/index.d.ts`).")]
            #[wasm_bindgen]
            pub fn $f(a: &JsArray, axes: Option<Vec<i32>>, keepdims: bool) -> JsResult<JsArray> {
                wrap(stringify!($f), crate::$f(&a.inner, reduce_axes(axes), keepdims))
            }
        )*
    };
}

fn reduce_axes(axes: Option<Vec<i32>>) -> Axes {
    axes.map_or(Axes::All, Axes::Some)
}

unary!(crate; flatten => "flatten");

/// An export per row of an op table, under its JavaScript name.
macro_rules! table_exports {
    ($(#[$meta:meta])* UnaryOp;
        $($variant:ident => $name:ident, $js:literal, $class:ident $impls:tt;)*
    ) => {
        unary!(crate; $($name => $js),*);
    };
    ($(#[$meta:meta])* BinaryOp;
        $($variant:ident => $name:ident, $js:literal, $class:ident $impls:tt;)*
    ) => {
        binary!(crate; $($name => $js),*);
    };
}

crate::primitive::elementwise::unary_table!(table_exports);
crate::primitive::elementwise::binary_table!(table_exports);

binary!(crate; matmul => "matmul", outer => "outer", inner => "inner");

reduction!(sum, prod, max, min, all, any, mean, logsumexp);

/// `kiln.var` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn var(a: &JsArray, axes: Option<Vec<i32>>, keepdims: bool, ddof: u32) -> JsResult<JsArray> {
    wrap(
        "var",
        crate::var(&a.inner, reduce_axes(axes), keepdims, ddof as usize),
    )
}

/// `kiln.std` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn std(a: &JsArray, axes: Option<Vec<i32>>, keepdims: bool, ddof: u32) -> JsResult<JsArray> {
    wrap(
        "std",
        crate::std(&a.inner, reduce_axes(axes), keepdims, ddof as usize),
    )
}

/// `kiln.argmax` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn argmax(a: &JsArray, axis: Option<i32>, keepdims: bool) -> JsResult<JsArray> {
    wrap("argmax", crate::argmax(&a.inner, axis, keepdims))
}

/// `kiln.argmin` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn argmin(a: &JsArray, axis: Option<i32>, keepdims: bool) -> JsResult<JsArray> {
    wrap("argmin", crate::argmin(&a.inner, axis, keepdims))
}

/// `kiln.softmax` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn softmax(a: &JsArray, axes: Vec<i32>) -> JsResult<JsArray> {
    wrap("softmax", crate::softmax(&a.inner, axes))
}

/// `kiln.logSoftmax` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = logSoftmax)]
pub fn log_softmax(a: &JsArray, axes: Vec<i32>) -> JsResult<JsArray> {
    wrap("log_softmax", crate::log_softmax(&a.inner, axes))
}

/// `kiln.cumsum` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn cumsum(a: &JsArray, axis: Option<i32>) -> JsResult<JsArray> {
    wrap("cumsum", crate::cumsum(&a.inner, axis))
}

/// `kiln.cumprod` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn cumprod(a: &JsArray, axis: Option<i32>) -> JsResult<JsArray> {
    wrap("cumprod", crate::cumprod(&a.inner, axis))
}

// ---- creation ----

/// `kiln.zeros` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn zeros(shape: Vec<u32>, dtype_name: Option<String>) -> JsResult<JsArray> {
    wrap(
        "zeros",
        crate::zeros(&sizes(&shape), dtype("zeros", dtype_name, DType::F32)?),
    )
}

/// `kiln.ones` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn ones(shape: Vec<u32>, dtype_name: Option<String>) -> JsResult<JsArray> {
    wrap(
        "ones",
        crate::ones(&sizes(&shape), dtype("ones", dtype_name, DType::F32)?),
    )
}

/// `kiln.full` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn full(shape: Vec<u32>, value: f64, dtype_name: Option<String>) -> JsResult<JsArray> {
    wrap(
        "full",
        crate::full(
            &sizes(&shape),
            value,
            dtype("full", dtype_name, DType::F32)?,
        ),
    )
}

/// `kiln.zerosLike` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = zerosLike)]
pub fn zeros_like(a: &JsArray) -> JsResult<JsArray> {
    wrap("zeros_like", crate::zeros_like(&a.inner))
}

/// `kiln.onesLike` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = onesLike)]
pub fn ones_like(a: &JsArray) -> JsResult<JsArray> {
    wrap("ones_like", crate::ones_like(&a.inner))
}

/// `kiln.fullLike` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = fullLike)]
pub fn full_like(a: &JsArray, value: f64) -> JsResult<JsArray> {
    wrap("full_like", crate::full_like(&a.inner, value))
}

/// `kiln.arange` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn arange(start: f64, stop: f64, step: f64, dtype_name: String) -> JsResult<JsArray> {
    let d = dtype("arange", Some(dtype_name), DType::F32)?;
    wrap("arange", crate::arange(start, stop, step, d))
}

/// `kiln.linspace` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn linspace(
    start: f64,
    stop: f64,
    num: u32,
    endpoint: bool,
    dtype_name: Option<String>,
) -> JsResult<JsArray> {
    let d = dtype("linspace", dtype_name, DType::F32)?;
    wrap(
        "linspace",
        crate::linspace(start, stop, num as usize, endpoint, d),
    )
}

/// `kiln.eye` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn eye(n: u32, m: Option<u32>, k: i32, dtype_name: Option<String>) -> JsResult<JsArray> {
    let d = dtype("eye", dtype_name, DType::F32)?;
    wrap(
        "eye",
        crate::eye(n as usize, m.map(|m| m as usize), k.into(), d),
    )
}

/// `kiln.tri` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn tri(n: u32, m: Option<u32>, k: i32, dtype_name: Option<String>) -> JsResult<JsArray> {
    let d = dtype("tri", dtype_name, DType::F32)?;
    wrap(
        "tri",
        crate::tri(n as usize, m.map(|m| m as usize), k.into(), d),
    )
}

/// `kiln.tril` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn tril(a: &JsArray, k: i32) -> JsResult<JsArray> {
    wrap("tril", crate::tril(&a.inner, k.into()))
}

/// `kiln.triu` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn triu(a: &JsArray, k: i32) -> JsResult<JsArray> {
    wrap("triu", crate::triu(&a.inner, k.into()))
}

// ---- elementwise with more arguments ----

/// `kiln.where` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = "where")]
pub fn where_(cond: &JsArray, x: &JsArray, y: &JsArray) -> JsResult<JsArray> {
    wrap("where", crate::r#where(&cond.inner, &x.inner, &y.inner))
}

/// `kiln.clip` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn clip(a: &JsArray, lo: Option<JsArray>, hi: Option<JsArray>) -> JsResult<JsArray> {
    let (lo, hi) = (lo.map(|b| b.inner.clone()), hi.map(|b| b.inner.clone()));
    wrap("clip", crate::clip(&a.inner, lo.as_ref(), hi.as_ref()))
}

/// `kiln.astype` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn astype(a: &JsArray, dtype_name: String) -> JsResult<JsArray> {
    let d = dtype("astype", Some(dtype_name), DType::F32)?;
    wrap("astype", crate::astype(&a.inner, d))
}

/// `kiln.stopGradient` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = stopGradient)]
pub fn stop_gradient(a: &JsArray) -> JsArray {
    JsArray::new(crate::stop_gradient(&a.inner))
}

// ---- shapes ----

/// `kiln.reshape` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn reshape(a: &JsArray, shape: Vec<i32>) -> JsResult<JsArray> {
    let shape: Vec<i64> = shape.into_iter().map(i64::from).collect();
    wrap("reshape", crate::reshape(&a.inner, &shape))
}

/// `kiln.transpose` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn transpose(a: &JsArray, axes: Option<Vec<i32>>) -> JsResult<JsArray> {
    wrap(
        "transpose",
        crate::transpose(&a.inner, &axes.unwrap_or_default()),
    )
}

/// `kiln.swapaxes` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn swapaxes(a: &JsArray, axis1: i32, axis2: i32) -> JsResult<JsArray> {
    wrap("swapaxes", crate::swapaxes(&a.inner, axis1, axis2))
}

/// `kiln.moveaxis` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn moveaxis(a: &JsArray, source: i32, destination: i32) -> JsResult<JsArray> {
    wrap("moveaxis", crate::moveaxis(&a.inner, source, destination))
}

/// `kiln.expandDims` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = expandDims)]
pub fn expand_dims(a: &JsArray, axes: Vec<i32>) -> JsResult<JsArray> {
    wrap("expand_dims", crate::expand_dims(&a.inner, &axes))
}

/// `kiln.squeeze` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn squeeze(a: &JsArray, axes: Option<Vec<i32>>) -> JsResult<JsArray> {
    wrap(
        "squeeze",
        crate::squeeze(&a.inner, &axes.unwrap_or_default()),
    )
}

/// `kiln.broadcastTo` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = broadcastTo)]
pub fn broadcast_to(a: &JsArray, shape: Vec<u32>) -> JsResult<JsArray> {
    wrap(
        "broadcast_to",
        crate::broadcast_to(&a.inner, &sizes(&shape)),
    )
}

/// `kiln.flip` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn flip(a: &JsArray, axes: Option<Vec<i32>>) -> JsResult<JsArray> {
    wrap("flip", crate::flip(&a.inner, &axes.unwrap_or_default()))
}

/// `kiln.tile` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn tile(a: &JsArray, reps: Vec<u32>) -> JsResult<JsArray> {
    wrap("tile", crate::tile(&a.inner, &sizes(&reps)))
}

/// `kiln.repeat` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn repeat(a: &JsArray, repeats: u32, axis: Option<i32>) -> JsResult<JsArray> {
    wrap("repeat", crate::repeat(&a.inner, repeats as usize, axis))
}

/// `kiln.diagonal` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn diagonal(a: &JsArray, offset: i32, axis1: i32, axis2: i32) -> JsResult<JsArray> {
    wrap(
        "diagonal",
        crate::diagonal(&a.inner, offset.into(), axis1, axis2),
    )
}

/// `kiln.trace` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn trace(a: &JsArray, offset: i32, axis1: i32, axis2: i32) -> JsResult<JsArray> {
    wrap("trace", crate::trace(&a.inner, offset.into(), axis1, axis2))
}

/// `widths` holds a (before, after) pair per axis, flattened.
#[wasm_bindgen]
pub fn pad(a: &JsArray, widths: Vec<u32>, value: f64) -> JsResult<JsArray> {
    if !widths.len().is_multiple_of(2) {
        return Err(invalid("pad", "widths must be (before, after) pairs").into());
    }
    let pairs: Vec<(usize, usize)> = widths
        .chunks(2)
        .map(|w| (w[0] as usize, w[1] as usize))
        .collect();
    wrap("pad", crate::pad(&a.inner, &pairs, value))
}

/// `kiln.concatenate` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn concatenate(arrays: Vec<JsArray>, axis: i32) -> JsResult<JsArray> {
    let arrays = arrays_of(&arrays);
    wrap(
        "concatenate",
        crate::concatenate(&arrays.iter().collect::<Vec<_>>(), axis),
    )
}

/// `kiln.stack` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn stack(arrays: Vec<JsArray>, axis: i32) -> JsResult<JsArray> {
    let arrays = arrays_of(&arrays);
    wrap(
        "stack",
        crate::stack(&arrays.iter().collect::<Vec<_>>(), axis),
    )
}

/// `sections`: a number of equal parts, or an array of cut indices.
#[wasm_bindgen]
pub fn split(a: &JsArray, sections: JsValue, axis: i32) -> JsResult<Vec<JsArray>> {
    let sections = if let Some(n) = sections.as_f64() {
        Sections::Count(count("split", "sections", n)?)
    } else if let Some(list) = sections.dyn_ref::<js_sys::Array>() {
        Sections::Indices(
            list.iter()
                .map(|v| integer("split", "a cut index", &v))
                .collect::<crate::Result<_>>()?,
        )
    } else {
        return Err(invalid("split", "sections must be a number or an array of indices").into());
    };
    wrap_all("split", crate::split(&a.inner, sections, axis)?)
}

/// `index` has an entry per leading axis: a number picks one position
/// (the axis goes), `null` keeps the whole axis, `[start, stop, step]`
/// (entries may be `null`) slices it.
#[wasm_bindgen]
pub fn slice(a: &JsArray, index: js_sys::Array) -> JsResult<JsArray> {
    let op = "slice";
    let mut slices = Vec::new();
    let mut picks = Vec::new();
    for (axis, entry) in index.iter().enumerate() {
        if entry.is_null() || entry.is_undefined() {
            slices.push(Slice::all());
        } else if entry.as_f64().is_some() {
            picks.push((axis, integer(op, "an index", &entry)?));
            slices.push(Slice::all());
        } else if let Some(parts) = entry.dyn_ref::<js_sys::Array>() {
            if parts.length() > 3 {
                return Err(invalid(op, "a slice is [start, stop, step]").into());
            }
            let part = |k: u32| -> crate::Result<Option<i64>> {
                let v = parts.get(k);
                if v.is_null() || v.is_undefined() {
                    Ok(None)
                } else {
                    integer(op, "a slice bound", &v).map(Some)
                }
            };
            slices.push(Slice::new(part(0)?, part(1)?, part(2)?));
        } else {
            return Err(invalid(op, "each index is a number, null or [start, stop, step]").into());
        }
    }
    let mut out = crate::slice(&a.inner, &slices)?;
    // Picked axes go last to first, so earlier axis numbers stay valid.
    for &(axis, position) in picks.iter().rev() {
        out = crate::index_axis(&out, axis as i32, position).map_err(|e| e.within(op))?;
    }
    wrap(op, Ok(out))
}

/// `axes`: a number of trailing/leading axes, or `[axesOfA, axesOfB]`.
#[wasm_bindgen]
pub fn tensordot(a: &JsArray, b: &JsArray, axes: JsValue) -> JsResult<JsArray> {
    let op = "tensordot";
    let axes = if let Some(n) = axes.as_f64() {
        TensorAxes::Count(count(op, "axes", n)?)
    } else {
        let pair = axes
            .dyn_ref::<js_sys::Array>()
            .filter(|p| p.length() == 2)
            .ok_or_else(|| invalid(op, "axes must be a number or [axesOfA, axesOfB]"))?;
        let list = |v: JsValue| -> crate::Result<Vec<i32>> {
            let list = v
                .dyn_into::<js_sys::Array>()
                .map_err(|_| invalid(op, "axes must be a number or [axesOfA, axesOfB]"))?;
            list.iter()
                .map(|x| integer(op, "an axis", &x).map(|x| x as i32))
                .collect()
        };
        TensorAxes::Pairs(list(pair.get(0))?, list(pair.get(1))?)
    };
    wrap("tensordot", crate::tensordot(&a.inner, &b.inner, axes))
}

fn integer(op: &'static str, what: &str, v: &JsValue) -> crate::Result<i64> {
    match v.as_f64() {
        Some(x) if x.fract() == 0.0 && x.abs() < 2f64.powi(53) => Ok(x as i64),
        _ => Err(invalid(op, format!("{what} must be an integer, got {v:?}"))),
    }
}

fn count(op: &'static str, what: &str, n: f64) -> crate::Result<usize> {
    if n.fract() == 0.0 && (0.0..2f64.powi(32)).contains(&n) {
        Ok(n as usize)
    } else {
        Err(invalid(
            op,
            format!("{what} must be a non-negative integer, got {n}"),
        ))
    }
}

// ---- indexing and sorting ----

/// `kiln.take` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn take(a: &JsArray, indices: &JsArray, axis: Option<i32>) -> JsResult<JsArray> {
    wrap("take", crate::take(&a.inner, &indices.inner, axis))
}

/// `kiln.takeAlongAxis` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = takeAlongAxis)]
pub fn take_along_axis(a: &JsArray, indices: &JsArray, axis: i32) -> JsResult<JsArray> {
    wrap(
        "take_along_axis",
        crate::take_along_axis(&a.inner, &indices.inner, axis),
    )
}

/// `kiln.scatterAdd` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = scatterAdd)]
pub fn scatter_add(
    a: &JsArray,
    indices: &JsArray,
    updates: &JsArray,
    axis: i32,
) -> JsResult<JsArray> {
    wrap(
        "scatter_add",
        crate::scatter_add(&a.inner, &indices.inner, &updates.inner, axis),
    )
}

/// `kiln.sort` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn sort(a: &JsArray, axis: Option<i32>) -> JsResult<JsArray> {
    wrap("sort", crate::sort(&a.inner, axis))
}

/// `kiln.argsort` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn argsort(a: &JsArray, axis: Option<i32>) -> JsResult<JsArray> {
    wrap("argsort", crate::argsort(&a.inner, axis))
}

/// `kiln.topk` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn topk(a: &JsArray, k: u32, axis: i32) -> JsResult<Vec<JsArray>> {
    let (values, indices) = crate::topk(&a.inner, k as usize, axis)?;
    wrap_all("topk", [values, indices])
}

// ---- random ----

/// `kiln.random.key` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = random_key)]
pub fn random_key(seed: f64) -> JsResult<JsArray> {
    if !(seed.fract() == 0.0 && (0.0..2f64.powi(53)).contains(&seed)) {
        return Err(invalid(
            "key",
            format!("the seed must be an integer in [0, 2^53), got {seed}"),
        )
        .into());
    }
    Ok(JsArray::new(random::key(seed as u64)))
}

/// `kiln.random.split` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = random_split)]
pub fn random_split(key: &JsArray, num: u32) -> JsResult<JsArray> {
    wrap("split", random::split(&key.inner, num as usize))
}

/// `kiln.random.foldIn` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = random_foldIn)]
pub fn random_fold_in(key: &JsArray, data: u32) -> JsResult<JsArray> {
    wrap("fold_in", random::fold_in(&key.inner, data))
}

/// `kiln.random.bits` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = random_bits)]
pub fn random_bits(key: &JsArray, shape: Vec<u32>) -> JsResult<JsArray> {
    wrap("bits", random::bits(&key.inner, &sizes(&shape)))
}

/// `kiln.random.uniform` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = random_uniform)]
pub fn random_uniform(
    key: &JsArray,
    shape: Vec<u32>,
    low: f64,
    high: f64,
    dtype_name: Option<String>,
) -> JsResult<JsArray> {
    let d = dtype("uniform", dtype_name, DType::F32)?;
    wrap(
        "uniform",
        random::uniform(&key.inner, &sizes(&shape), d, low, high),
    )
}

/// `kiln.random.normal` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = random_normal)]
pub fn random_normal(
    key: &JsArray,
    shape: Vec<u32>,
    dtype_name: Option<String>,
) -> JsResult<JsArray> {
    let d = dtype("normal", dtype_name, DType::F32)?;
    wrap("normal", random::normal(&key.inner, &sizes(&shape), d))
}

/// `kiln.random.gumbel` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = random_gumbel)]
pub fn random_gumbel(
    key: &JsArray,
    shape: Vec<u32>,
    dtype_name: Option<String>,
) -> JsResult<JsArray> {
    let d = dtype("gumbel", dtype_name, DType::F32)?;
    wrap("gumbel", random::gumbel(&key.inner, &sizes(&shape), d))
}

/// `kiln.random.randint` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = random_randint)]
pub fn random_randint(key: &JsArray, shape: Vec<u32>, low: i32, high: i32) -> JsResult<JsArray> {
    wrap(
        "randint",
        random::randint(&key.inner, &sizes(&shape), low, high),
    )
}

/// `kiln.random.bernoulli` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = random_bernoulli)]
pub fn random_bernoulli(key: &JsArray, p: f64, shape: Vec<u32>) -> JsResult<JsArray> {
    wrap(
        "bernoulli",
        random::bernoulli(&key.inner, p, &sizes(&shape)),
    )
}

/// `kiln.random.categorical` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = random_categorical)]
pub fn random_categorical(
    key: &JsArray,
    logits: &JsArray,
    axis: i32,
    shape: Option<Vec<u32>>,
) -> JsResult<JsArray> {
    let shape = shape.map(|s| sizes(&s));
    wrap(
        "categorical",
        random::categorical(&key.inner, &logits.inner, axis, shape.as_deref()),
    )
}

/// `kiln.random.permutation` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = random_permutation)]
pub fn random_permutation(key: &JsArray, n: u32) -> JsResult<JsArray> {
    wrap("permutation", random::permutation(&key.inner, n as usize))
}

// ---- linear algebra ----

unary!(linalg;
    inv => "linalg_inv", det => "linalg_det", eigvalsh => "linalg_eigvalsh",
    svdvals => "linalg_svdvals",
);

binary!(linalg; solve => "linalg_solve");

/// `kiln.linalg.slogdet` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = linalg_slogdet)]
pub fn linalg_slogdet(a: &JsArray) -> JsResult<Vec<JsArray>> {
    let (sign, logdet) = linalg::slogdet(&a.inner)?;
    wrap_all("slogdet", [sign, logdet])
}

/// `kiln.linalg.lu` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = linalg_lu)]
pub fn linalg_lu(a: &JsArray) -> JsResult<Vec<JsArray>> {
    let (p, l, u) = linalg::lu(&a.inner)?;
    wrap_all("lu", [p, l, u])
}

/// `kiln.linalg.luFactor` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = linalg_luFactor)]
pub fn linalg_lu_factor(a: &JsArray) -> JsResult<Vec<JsArray>> {
    let (lu, pivots) = linalg::lu_factor(&a.inner)?;
    wrap_all("lu_factor", [lu, pivots])
}

/// `kiln.linalg.cholesky` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = linalg_cholesky)]
pub fn linalg_cholesky(a: &JsArray, upper: bool) -> JsResult<JsArray> {
    wrap("cholesky", linalg::cholesky(&a.inner, upper))
}

/// `kiln.linalg.choSolve` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = linalg_choSolve)]
pub fn linalg_cho_solve(factor: &JsArray, b: &JsArray, upper: bool) -> JsResult<JsArray> {
    wrap(
        "cho_solve",
        linalg::cho_solve(&factor.inner, &b.inner, upper),
    )
}

/// `kiln.linalg.solveTriangular` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = linalg_solveTriangular)]
pub fn linalg_solve_triangular(
    a: &JsArray,
    b: &JsArray,
    upper: bool,
    left: bool,
    unit_diagonal: bool,
) -> JsResult<JsArray> {
    let how = Triangular {
        upper,
        right: !left,
        unit_diagonal,
    };
    wrap(
        "solve_triangular",
        linalg::solve_triangular(&a.inner, &b.inner, how),
    )
}

/// `kiln.linalg.qr` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = linalg_qr)]
pub fn linalg_qr(a: &JsArray, mode: String) -> JsResult<Vec<JsArray>> {
    let mode = match mode.as_str() {
        "reduced" => QrMode::Reduced,
        "complete" => QrMode::Complete,
        _ => {
            let message = format!("mode must be 'reduced' or 'complete', got '{mode}'");
            return Err(invalid("qr", message).into());
        }
    };
    let (q, r) = linalg::qr(&a.inner, mode)?;
    wrap_all("qr", [q, r])
}

/// `kiln.linalg.svd` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = linalg_svd)]
pub fn linalg_svd(a: &JsArray, full_matrices: bool) -> JsResult<Vec<JsArray>> {
    let (u, s, vt) = linalg::svd(&a.inner, full_matrices)?;
    wrap_all("svd", [u, s, vt])
}

/// `kiln.linalg.eigh` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = linalg_eigh)]
pub fn linalg_eigh(a: &JsArray) -> JsResult<Vec<JsArray>> {
    let (w, v) = linalg::eigh(&a.inner)?;
    wrap_all("eigh", [w, v])
}

/// `kiln.linalg.pinv` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = linalg_pinv)]
pub fn linalg_pinv(a: &JsArray, rtol: Option<f32>) -> JsResult<JsArray> {
    wrap("pinv", linalg::pinv(&a.inner, rtol))
}

/// `[solution, residuals, rank, singularValues]`.
#[wasm_bindgen(js_name = linalg_lstsq)]
pub fn linalg_lstsq(a: &JsArray, b: &JsArray, rcond: Option<f32>) -> JsResult<Vec<JsArray>> {
    let fit = linalg::lstsq(&a.inner, &b.inner, rcond)?;
    wrap_all(
        "lstsq",
        [fit.solution, fit.residuals, fit.rank, fit.singular_values],
    )
}

/// `kiln.linalg.matrixRank` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = linalg_matrixRank)]
pub fn linalg_matrix_rank(a: &JsArray, tol: Option<f32>) -> JsResult<JsArray> {
    wrap("matrix_rank", linalg::matrix_rank(&a.inner, tol))
}

/// `kiln.linalg.matrixPower` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = linalg_matrixPower)]
pub fn linalg_matrix_power(a: &JsArray, n: i32) -> JsResult<JsArray> {
    wrap("matrix_power", linalg::matrix_power(&a.inner, n.into()))
}

/// `kiln.linalg.cross` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = linalg_cross)]
pub fn linalg_cross(a: &JsArray, b: &JsArray, axis: i32) -> JsResult<JsArray> {
    wrap("cross", linalg::cross(&a.inner, &b.inner, axis))
}

/// `ord`: `undefined`, a number (`Infinity` too), `'fro'` or `'nuc'`.
fn norm_ord(op: &'static str, ord: &JsValue) -> crate::Result<Option<NormOrd>> {
    if ord.is_undefined() || ord.is_null() {
        return Ok(None);
    }
    if let Some(p) = ord.as_f64() {
        return Ok(Some(NormOrd::P(p)));
    }
    match ord.as_string().as_deref() {
        Some("fro") => Ok(Some(NormOrd::Fro)),
        Some("nuc") => Ok(Some(NormOrd::Nuc)),
        _ => Err(invalid(
            op,
            format!("ord must be a number, 'fro' or 'nuc', got {ord:?}"),
        )),
    }
}

/// `kiln.linalg.norm` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = linalg_norm)]
pub fn linalg_norm(
    a: &JsArray,
    ord: JsValue,
    axes: Option<Vec<i32>>,
    keepdims: bool,
) -> JsResult<JsArray> {
    let ord = norm_ord("norm", &ord)?;
    wrap(
        "norm",
        linalg::norm(&a.inner, ord, axes.as_deref(), keepdims),
    )
}

/// `kiln.linalg.cond` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = linalg_cond)]
pub fn linalg_cond(a: &JsArray, ord: JsValue) -> JsResult<JsArray> {
    let ord = norm_ord("cond", &ord)?;
    wrap("cond", linalg::cond(&a.inner, ord))
}
