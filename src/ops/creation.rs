//! Creating arrays: constants, ranges, identity and triangular matrices.

use crate::array::Array;
use crate::dtype::{DType, Scalar};
use crate::error::{bail, Result};
use crate::ops::elementwise::{add, equal, less_equal, multiply, r#where};
use crate::ops::shape::{broadcast_to, reshape_to};
use crate::primitive::Primitive;

/// An array of `shape` filled with `value` (a broadcast view of one element).
pub fn full(shape: &[usize], value: impl Into<Scalar>, dtype: DType) -> Result<Array> {
    filled("full", shape, value.into(), dtype)
}

/// Zeros of `shape`.
pub fn zeros(shape: &[usize], dtype: DType) -> Result<Array> {
    filled("zeros", shape, 0.into(), dtype)
}

/// Ones of `shape`.
pub fn ones(shape: &[usize], dtype: DType) -> Result<Array> {
    filled("ones", shape, 1.into(), dtype)
}

fn filled(op: &'static str, shape: &[usize], value: Scalar, dtype: DType) -> Result<Array> {
    let one = Array::from_primitive(vec![], dtype, Primitive::Full(value), vec![]);
    broadcast_to(&one, shape).map_err(|e| e.within(op))
}

/// `value` with the shape and dtype of `a`.
pub fn full_like(a: &Array, value: impl Into<Scalar>) -> Result<Array> {
    full(a.shape(), value, a.dtype())
}

/// Zeros with the shape and dtype of `a`.
pub fn zeros_like(a: &Array) -> Result<Array> {
    zeros(a.shape(), a.dtype())
}

/// Ones with the shape and dtype of `a`.
pub fn ones_like(a: &Array) -> Result<Array> {
    ones(a.shape(), a.dtype())
}

/// Values `start, start + step, ...` below `stop` (NumPy's `arange`).
///
/// ```
/// let a = kiln::arange(0.0, 1.0, 0.25, kiln::DType::F32)?;
/// assert_eq!(a.shape(), &[4]);
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn arange(start: f64, stop: f64, step: f64, dtype: DType) -> Result<Array> {
    if step == 0.0 || !step.is_finite() || !start.is_finite() || !stop.is_finite() {
        bail!(
            "arange",
            "start, stop and step must be finite and step non-zero"
        );
    }
    if dtype == DType::Bool {
        bail!("arange", "bool ranges are not supported");
    }
    let n = ((stop - start) / step).ceil().max(0.0) as usize;
    Ok(Array::from_primitive(
        vec![n],
        dtype,
        Primitive::Arange { start, step },
        vec![],
    ))
}

/// `num` evenly spaced values from `start` to `stop` (included when `endpoint`).
pub fn linspace(start: f64, stop: f64, num: usize, endpoint: bool, dtype: DType) -> Result<Array> {
    if !dtype.is_float() {
        bail!("linspace", "needs a float dtype, got {dtype}");
    }
    let div = if endpoint { num.saturating_sub(1) } else { num };
    let step = if div > 0 {
        (stop - start) / div as f64
    } else {
        0.0
    };
    let i = arange(0.0, num as f64, 1.0, dtype)?;
    let y = add(
        &multiply(&i, &Array::scalar_of(step, dtype))?,
        &Array::scalar_of(start, dtype),
    )?;
    if endpoint && num > 1 {
        let last = equal(&i, &Array::scalar_of((num - 1) as f64, dtype))?;
        return r#where(&last, &Array::scalar_of(stop, dtype), &y);
    }
    Ok(y)
}

/// `rows[:, None] + k >= cols[None, :]` for an `n × m` grid, as bool.
pub(crate) fn lower_mask(n: usize, m: usize, k: i64) -> Result<Array> {
    let rows = reshape_to(&arange(0.0, n as f64, 1.0, DType::I32)?, vec![n, 1]);
    let cols = reshape_to(&arange(0.0, m as f64, 1.0, DType::I32)?, vec![1, m]);
    less_equal(&cols, &shifted(&rows, k)?)
}

/// `rows + k`, without an op when `k` is 0.
fn shifted(rows: &Array, k: i64) -> Result<Array> {
    if k == 0 {
        Ok(rows.clone())
    } else {
        add(rows, &Array::scalar(k as i32))
    }
}

/// Ones on the `k`-th diagonal of an `n × m` matrix (`m` defaults to `n`).
pub fn eye(n: usize, m: Option<usize>, k: i64, dtype: DType) -> Result<Array> {
    let m = m.unwrap_or(n);
    let rows = reshape_to(&arange(0.0, n as f64, 1.0, DType::I32)?, vec![n, 1]);
    let cols = reshape_to(&arange(0.0, m as f64, 1.0, DType::I32)?, vec![1, m]);
    equal(&shifted(&rows, k)?, &cols)?.astype(dtype)
}

/// The identity matrix.
pub fn identity(n: usize, dtype: DType) -> Result<Array> {
    eye(n, None, 0, dtype)
}

/// Ones at and below the `k`-th diagonal of an `n × m` matrix.
pub fn tri(n: usize, m: Option<usize>, k: i64, dtype: DType) -> Result<Array> {
    lower_mask(n, m.unwrap_or(n), k)?.astype(dtype)
}

fn triangle(op: &'static str, a: &Array, k: i64, lower: bool) -> Result<Array> {
    if a.ndim() < 2 {
        bail!(
            op,
            "needs an array of at least 2 dimensions, got {}",
            a.ndim()
        );
    }
    let (n, m) = (a.shape()[a.ndim() - 2], a.shape()[a.ndim() - 1]);
    let zero = zeros(&[], a.dtype())?;
    if lower {
        r#where(&lower_mask(n, m, k)?, a, &zero)
    } else {
        r#where(&lower_mask(n, m, k - 1)?, &zero, a)
    }
}

/// The lower triangle (at and below diagonal `k`) of the last two axes.
pub fn tril(a: &Array, k: i64) -> Result<Array> {
    triangle("tril", a, k, true)
}

/// The upper triangle (at and above diagonal `k`) of the last two axes.
pub fn triu(a: &Array, k: i64) -> Result<Array> {
    triangle("triu", a, k, false)
}
