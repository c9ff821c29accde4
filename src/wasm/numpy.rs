//! NumPy's composite functions for JavaScript (`crate::ops::composite` and
//! `einsum`): lists of arrays cross by value, options as plain values
//! checked by `www/src/index.js`.

use super::{arrays_of, dtype, wrap, wrap_all, JsArray, JsResult};
use crate::error::invalid;
use crate::ops::composite::ConvolveMode;
use wasm_bindgen::prelude::*;

fn listed(arrays: &[JsArray]) -> Vec<crate::Array> {
    arrays_of(arrays)
}

/// `kiln.einsum` in JavaScript.
#[wasm_bindgen]
pub fn einsum(subscripts: &str, operands: Vec<JsArray>) -> JsResult<JsArray> {
    let arrays = listed(&operands);
    wrap(
        "einsum",
        crate::einsum(subscripts, &arrays.iter().collect::<Vec<_>>()),
    )
}

/// `kiln.hstack` (`vertical` false) and `kiln.vstack` in JavaScript.
#[wasm_bindgen(js_name = stackAlong)]
pub fn stack_along(arrays: Vec<JsArray>, vertical: bool) -> JsResult<JsArray> {
    let arrays = listed(&arrays);
    let refs: Vec<&crate::Array> = arrays.iter().collect();
    if vertical {
        wrap("vstack", crate::vstack(&refs))
    } else {
        wrap("hstack", crate::hstack(&refs))
    }
}

/// `kiln.diff` in JavaScript.
#[wasm_bindgen]
pub fn diff(a: &JsArray, n: u32, axis: i32) -> JsResult<JsArray> {
    wrap("diff", crate::diff(&a.inner, n as usize, axis))
}

/// `kiln.meshgrid` in JavaScript.
#[wasm_bindgen]
pub fn meshgrid(arrays: Vec<JsArray>, ij: bool) -> JsResult<Vec<JsArray>> {
    let arrays = listed(&arrays);
    wrap_all(
        "meshgrid",
        crate::meshgrid(&arrays.iter().collect::<Vec<_>>(), ij)?,
    )
}

/// `kiln.isclose` (`all` false) and `kiln.allclose` in JavaScript.
#[wasm_bindgen]
pub fn isclose(
    a: &JsArray,
    b: &JsArray,
    rtol: f64,
    atol: f64,
    equal_nan: bool,
    all: bool,
) -> JsResult<JsArray> {
    if all {
        wrap(
            "allclose",
            crate::allclose(&a.inner, &b.inner, rtol, atol, equal_nan),
        )
    } else {
        wrap(
            "isclose",
            crate::isclose(&a.inner, &b.inner, rtol, atol, equal_nan),
        )
    }
}

/// `kiln.arrayEqual` in JavaScript.
#[wasm_bindgen(js_name = arrayEqual)]
pub fn array_equal(a: &JsArray, b: &JsArray, equal_nan: bool) -> JsResult<JsArray> {
    wrap(
        "array_equal",
        crate::array_equal(&a.inner, &b.inner, equal_nan),
    )
}

/// `kiln.nanToNum` in JavaScript.
#[wasm_bindgen(js_name = nanToNum)]
pub fn nan_to_num(
    x: &JsArray,
    nan: f64,
    posinf: Option<f64>,
    neginf: Option<f64>,
) -> JsResult<JsArray> {
    wrap(
        "nan_to_num",
        crate::nan_to_num(&x.inner, nan, posinf, neginf),
    )
}

/// `kiln.oneHot` in JavaScript.
#[wasm_bindgen(js_name = oneHot)]
pub fn one_hot(
    indices: &JsArray,
    num_classes: u32,
    dtype_name: Option<String>,
) -> JsResult<JsArray> {
    let d = dtype("one_hot", dtype_name, crate::DType::F32)?;
    wrap(
        "one_hot",
        crate::one_hot(&indices.inner, num_classes as usize, d),
    )
}

/// `kiln.cov` in JavaScript.
#[wasm_bindgen]
pub fn cov(m: &JsArray, rowvar: bool, ddof: u32) -> JsResult<JsArray> {
    wrap("cov", crate::cov(&m.inner, rowvar, ddof as usize))
}

/// `kiln.corrcoef` in JavaScript.
#[wasm_bindgen]
pub fn corrcoef(m: &JsArray, rowvar: bool) -> JsResult<JsArray> {
    wrap("corrcoef", crate::corrcoef(&m.inner, rowvar))
}

/// `kiln.convolve` (`correlate` false) and `kiln.correlate` in JavaScript.
#[wasm_bindgen]
pub fn convolve(a: &JsArray, v: &JsArray, mode: &str, correlate: bool) -> JsResult<JsArray> {
    let op = if correlate { "correlate" } else { "convolve" };
    let mode = match mode {
        "full" => ConvolveMode::Full,
        "same" => ConvolveMode::Same,
        "valid" => ConvolveMode::Valid,
        _ => {
            return Err(invalid(
                op,
                format!("mode must be 'full', 'same' or 'valid', got '{mode}'"),
            )
            .into())
        }
    };
    let out = if correlate {
        crate::correlate(&a.inner, &v.inner, mode)
    } else {
        crate::convolve(&a.inner, &v.inner, mode)
    };
    wrap(op, out)
}
