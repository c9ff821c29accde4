//! NumPy functions composed of other ops (so their derivatives, batching
//! and fusion come from those): stacking helpers, differences, grids,
//! comparisons within a tolerance, one-hot codes, covariance and
//! correlation, and 1-D convolution.

use crate::array::Array;
use crate::dtype::{DType, Scalar};
use crate::error::{bail, fmt_shape, Result};
use crate::ops::creation::arange;
use crate::ops::elementwise::{
    abs, add, astype, divide, equal, isfinite, isnan, logical_and, logical_or, multiply, not_equal,
    r#where, sqrt, subtract,
};
use crate::ops::index::take;
use crate::ops::matmul::matmul;
use crate::ops::reduce::{all, mean};
use crate::ops::shape::{
    broadcast_to, concatenate, diagonal, expand_dims, flip, normalize_axes, reshape, slice, Slice,
};

/// At least one axis: a 0-d array as shape `(1)`.
fn at_least_1d(a: &Array) -> Result<Array> {
    if a.ndim() == 0 {
        reshape(a, &[1])
    } else {
        Ok(a.clone())
    }
}

/// Joins `arrays` along their second axis, or their first when all are
/// 1-D (NumPy's `hstack`).
pub fn hstack(arrays: &[&Array]) -> Result<Array> {
    let lifted = arrays
        .iter()
        .map(|a| at_least_1d(a))
        .collect::<Result<Vec<_>>>()?;
    let axis = if lifted.iter().all(|a| a.ndim() == 1) {
        0
    } else {
        1
    };
    concatenate(&lifted.iter().collect::<Vec<_>>(), axis).map_err(|e| e.within("hstack"))
}

/// Joins `arrays` along their first axis, 1-D arrays as rows (NumPy's
/// `vstack`).
pub fn vstack(arrays: &[&Array]) -> Result<Array> {
    let rows = arrays
        .iter()
        .map(|a| match a.ndim() {
            0 => reshape(a, &[1, 1]),
            1 => reshape(a, &[1, a.shape()[0] as i64]),
            _ => Ok((*a).clone()),
        })
        .collect::<Result<Vec<_>>>()?;
    concatenate(&rows.iter().collect::<Vec<_>>(), 0).map_err(|e| e.within("vstack"))
}

/// The `n`-th discrete difference along `axis`: `a[1:] - a[:-1]` applied
/// `n` times (for bool, `a[1:] != a[:-1]`, as NumPy).
pub fn diff(a: &Array, n: usize, axis: i32) -> Result<Array> {
    if a.ndim() == 0 {
        bail!("diff", "needs at least one axis, got a scalar");
    }
    let d = normalize_axes("diff", &[axis], a.ndim())?[0];
    let mut out = a.clone();
    for _ in 0..n {
        let len = out.shape()[d] as i64;
        if len == 0 {
            break;
        }
        let part = |range: Slice| {
            let mut slices = vec![Slice::all(); out.ndim()];
            slices[d] = range;
            slice(&out, &slices)
        };
        let (later, earlier) = (
            part(Slice::new(Some(1), None, None))?,
            part(Slice::new(None, Some(len - 1), None))?,
        );
        out = if out.dtype() == DType::Bool {
            not_equal(&later, &earlier)?
        } else {
            subtract(&later, &earlier)?
        };
    }
    Ok(out)
}

/// Coordinate arrays from 1-D `axes`: with `ij` indexing each is shaped
/// `(len0, len1, ...)`; with `xy` (NumPy's default) the first two lengths
/// swap.
pub fn meshgrid(axes: &[&Array], ij: bool) -> Result<Vec<Array>> {
    if let Some(a) = axes.iter().find(|a| a.ndim() != 1) {
        bail!(
            "meshgrid",
            "expects 1-D arrays, got shape {}",
            fmt_shape(a.shape())
        );
    }
    let mut shape: Vec<usize> = axes.iter().map(|a| a.shape()[0]).collect();
    let position = |i: usize| match (ij, i) {
        (false, 0) if axes.len() > 1 => 1,
        (false, 1) => 0,
        _ => i,
    };
    if !ij && shape.len() > 1 {
        shape.swap(0, 1);
    }
    axes.iter()
        .enumerate()
        .map(|(i, a)| {
            let mut view = vec![1i64; shape.len()];
            view[position(i)] = a.shape()[0] as i64;
            broadcast_to(&reshape(a, &view)?, &shape)
        })
        .collect()
}

/// Whether `a` and `b` are equal within `atol + rtol · |b|`, elementwise
/// (NumPy's `isclose`): infinities equal only themselves, NaN equals NaN
/// only with `equal_nan`.
pub fn isclose(a: &Array, b: &Array, rtol: f64, atol: f64, equal_nan: bool) -> Result<Array> {
    let op = "isclose";
    if !(rtol >= 0.0 && atol >= 0.0) {
        bail!(
            op,
            "rtol and atol must be non-negative, got {rtol} and {atol}"
        );
    }
    let dtype = crate::promote(crate::promote(a.dtype(), b.dtype()), DType::F32);
    let (x, y) = (astype(a, dtype)?, astype(b, dtype)?);
    let scalar = |v: f64| Array::scalar_of(Scalar::Float(v), dtype);
    let within = crate::ops::elementwise::less_equal(
        &abs(&subtract(&x, &y).map_err(|e| e.within(op))?)?,
        &add(&scalar(atol), &multiply(&scalar(rtol), &abs(&y)?)?)?,
    )?;
    let finite = logical_and(&isfinite(&x)?, &isfinite(&y)?)?;
    let close = r#where(&finite, &within, &equal(&x, &y)?)?;
    if equal_nan {
        logical_or(&close, &logical_and(&isnan(&x)?, &isnan(&y)?)?)
    } else {
        Ok(close)
    }
}

/// Whether every pair is close (a 0-d bool array; see [`isclose`]).
pub fn allclose(a: &Array, b: &Array, rtol: f64, atol: f64, equal_nan: bool) -> Result<Array> {
    all(
        &isclose(a, b, rtol, atol, equal_nan).map_err(|e| e.within("allclose"))?,
        crate::Axes::All,
        false,
    )
}

/// Whether `a` and `b` have the same shape and values (a 0-d bool array;
/// NaN equals NaN only with `equal_nan`).
pub fn array_equal(a: &Array, b: &Array, equal_nan: bool) -> Result<Array> {
    if a.shape() != b.shape() {
        return Ok(Array::scalar(false));
    }
    let mut same = equal(a, b)?;
    if equal_nan && a.dtype().is_float() && b.dtype().is_float() {
        same = logical_or(&same, &logical_and(&isnan(a)?, &isnan(b)?)?)?;
    }
    all(&same, crate::Axes::All, false)
}

/// `x` with NaN replaced by `nan`, +inf by `posinf` and -inf by `neginf`
/// (by default the dtype's largest and smallest finite values); integers
/// and bools as they are.
pub fn nan_to_num(x: &Array, nan: f64, posinf: Option<f64>, neginf: Option<f64>) -> Result<Array> {
    if !x.dtype().is_float() {
        return Ok(x.clone());
    }
    let largest = if x.dtype() == DType::F16 {
        65504.0
    } else {
        f32::MAX as f64
    };
    let scalar = |v: f64| Array::scalar_of(Scalar::Float(v), x.dtype());
    let positive = crate::ops::elementwise::greater(x, &scalar(0.0))?;
    let infinite = r#where(
        &positive,
        &scalar(posinf.unwrap_or(largest)),
        &scalar(neginf.unwrap_or(-largest)),
    )?;
    let finite_or_nan = r#where(&isnan(x)?, &scalar(nan), x)?;
    let is_inf = crate::ops::elementwise::isinf(x)?;
    r#where(&is_inf, &infinite, &finite_or_nan)
}

/// `(..., num_classes)` codes of integer `indices`: 1 at each index, 0
/// elsewhere (indices outside `[0, num_classes)` give all zeros).
pub fn one_hot(indices: &Array, num_classes: usize, dtype: DType) -> Result<Array> {
    if !indices.dtype().is_int() {
        bail!(
            "one_hot",
            "indices must be integers, got {}",
            indices.dtype()
        );
    }
    let classes = arange(0.0, num_classes as f64, 1.0, DType::I32)?;
    let hits = equal(
        &expand_dims(&astype(indices, DType::I32)?, &[-1])?,
        &classes,
    )?;
    astype(&hits, dtype)
}

/// The covariance matrix of the variables in `m`'s rows (columns when
/// `rowvar` is false), normalised by `N - ddof` (NumPy's default `ddof` 1);
/// a 0-d array for a 1-D `m`.
pub fn cov(m: &Array, rowvar: bool, ddof: usize) -> Result<Array> {
    let op = "cov";
    if m.ndim() > 2 {
        bail!(
            op,
            "expects 1-D or 2-D data, got shape {}",
            fmt_shape(m.shape())
        );
    }
    let x = match (m.ndim(), rowvar) {
        (0 | 1, _) => reshape(m, &[1, -1])?,
        (_, true) => m.clone(),
        (_, false) => crate::ops::shape::transpose(m, &[1, 0])?,
    };
    let x = astype(&x, crate::promote(x.dtype(), DType::F32))?;
    let n = x.shape()[1];
    if n <= ddof {
        bail!(
            op,
            "{n} observations leave no degrees of freedom with ddof {ddof}"
        );
    }
    let centred = subtract(&x, &mean(&x, -1, true)?)?;
    let c = divide(
        &matmul(&centred, &crate::ops::shape::transpose(&centred, &[1, 0])?)?,
        &Array::scalar_of(Scalar::Float((n - ddof) as f64), x.dtype()),
    )?;
    if m.ndim() < 2 {
        reshape(&c, &[])
    } else {
        Ok(c)
    }
}

/// The correlation coefficients of the variables in `m`'s rows (columns
/// when `rowvar` is false): the covariance over the product of standard
/// deviations, clipped to `[-1, 1]`.
pub fn corrcoef(m: &Array, rowvar: bool) -> Result<Array> {
    let c = cov(m, rowvar, 1).map_err(|e| e.within("corrcoef"))?;
    if c.ndim() == 0 {
        return divide(&c, &c);
    }
    let sd = sqrt(&diagonal(&c, 0, 0, 1)?)?;
    let r = divide(&divide(&c, &expand_dims(&sd, &[1])?)?, &sd)?;
    let one = Array::scalar_of(Scalar::Float(1.0), r.dtype());
    let minus = Array::scalar_of(Scalar::Float(-1.0), r.dtype());
    crate::ops::elementwise::clip(&r, Some(&minus), Some(&one))
}

/// How much of a 1-D convolution to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvolveMode {
    /// Every overlap: `n + m - 1` values.
    Full,
    /// The length of the longer input, centred.
    Same,
    /// Only full overlaps: `max(n, m) - min(n, m) + 1` values.
    Valid,
}

/// The discrete linear convolution of 1-D `a` and `v` (NumPy's
/// `convolve`): `out[k] = Σ_j a[k - j] v[j]`, by a gather of `a`'s windows
/// and one matrix product.
pub fn convolve(a: &Array, v: &Array, mode: ConvolveMode) -> Result<Array> {
    convolve_named("convolve", a, v, mode)
}

/// The cross-correlation of 1-D `a` and `v` (NumPy's `correlate`, whose
/// default mode is `Valid`): `convolve(a, v[::-1])`.
pub fn correlate(a: &Array, v: &Array, mode: ConvolveMode) -> Result<Array> {
    if v.ndim() != 1 {
        bail!(
            "correlate",
            "expects 1-D arrays, got shapes {} and {}",
            fmt_shape(a.shape()),
            fmt_shape(v.shape())
        );
    }
    convolve_named("correlate", a, &flip(v, &[0])?, mode)
}

fn convolve_named(op: &'static str, a: &Array, v: &Array, mode: ConvolveMode) -> Result<Array> {
    if a.ndim() != 1 || v.ndim() != 1 {
        bail!(
            op,
            "expects 1-D arrays, got shapes {} and {}",
            fmt_shape(a.shape()),
            fmt_shape(v.shape())
        );
    }
    let (n, m) = (a.shape()[0], v.shape()[0]);
    if n == 0 || m == 0 {
        bail!(op, "the inputs must not be empty");
    }
    // Windows of `a` padded by a zero at index n: row k holds a[k - j], j = 0..m.
    let full = n + m - 1;
    let (start, len) = match mode {
        ConvolveMode::Full => (0, full),
        ConvolveMode::Same => ((full - n.max(m)) / 2, n.max(m)),
        ConvolveMode::Valid => (n.min(m) - 1, n.max(m) - n.min(m) + 1),
    };
    let index: Vec<i32> = (start..start + len)
        .flat_map(|k| {
            (0..m).map(move |j| {
                if k >= j && k - j < n {
                    (k - j) as i32
                } else {
                    n as i32
                }
            })
        })
        .collect();
    let zero = Array::scalar_of(Scalar::Float(0.0), a.dtype());
    let padded = concatenate(&[a, &reshape(&zero, &[1])?], 0)?;
    let windows = take(&padded, &Array::from_slice(&index, &[len, m])?, Some(0))?;
    let dtype = crate::promote(a.dtype(), v.dtype());
    reshape(
        &matmul(
            &astype(&windows, dtype)?,
            &reshape(&astype(v, dtype)?, &[m as i64, 1])?,
        )?,
        &[len as i64],
    )
}
