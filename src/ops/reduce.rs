//! Reductions, scans and the softmax family.

use crate::array::Array;
use crate::dtype::DType;
use crate::error::{bail, Result};
use crate::ops::elementwise::{
    add, add_all, divide, exp, isfinite, log, multiply, r#where, sqrt, subtract,
};
use crate::ops::shape::{flatten, normalize_axes, normalize_axis, reshape_to};
use crate::primitive::{Primitive, ReduceOp, ScanOp};

/// Which axes a reduction runs over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Axes {
    /// Every axis.
    All,
    /// These axes (negative counts from the end).
    Some(Vec<i32>),
}

impl From<i32> for Axes {
    fn from(a: i32) -> Axes {
        Axes::Some(vec![a])
    }
}

impl From<&[i32]> for Axes {
    fn from(a: &[i32]) -> Axes {
        Axes::Some(a.to_vec())
    }
}

impl<const N: usize> From<[i32; N]> for Axes {
    fn from(a: [i32; N]) -> Axes {
        Axes::Some(a.to_vec())
    }
}

impl From<Vec<i32>> for Axes {
    fn from(a: Vec<i32>) -> Axes {
        Axes::Some(a)
    }
}

impl From<Option<i32>> for Axes {
    fn from(a: Option<i32>) -> Axes {
        a.map_or(Axes::All, |a| Axes::Some(vec![a]))
    }
}

impl Axes {
    /// The normalized, sorted axes of an array of dimension `ndim`.
    pub(crate) fn resolve(&self, op: &'static str, ndim: usize) -> Result<Vec<usize>> {
        let mut axes = match self {
            Axes::All => (0..ndim).collect(),
            Axes::Some(v) => normalize_axes(op, v, ndim)?,
        };
        axes.sort_unstable();
        Ok(axes)
    }
}

/// The shape with `axes` kept as size 1.
fn kept_shape(shape: &[usize], axes: &[usize]) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .map(|(d, &n)| if axes.contains(&d) { 1 } else { n })
        .collect()
}

fn reduce(op: ReduceOp, a: &Array, axes: &Axes, keepdims: bool) -> Result<Array> {
    let name = op.name();
    let axes = axes.resolve(name, a.ndim())?;
    let k_len: usize = axes.iter().map(|&d| a.shape()[d]).product();
    let no_identity = matches!(
        op,
        ReduceOp::Max | ReduceOp::Min | ReduceOp::ArgMax | ReduceOp::ArgMin
    );
    if no_identity && k_len == 0 {
        bail!(
            name,
            "zero-size array to reduction operation {name} which has no identity"
        );
    }
    let (input, out_dtype) = match op {
        ReduceOp::Sum | ReduceOp::Prod if a.dtype() == DType::Bool => {
            (a.astype(DType::I32)?, DType::I32)
        }
        ReduceOp::ArgMax | ReduceOp::ArgMin => (a.clone(), DType::I32),
        ReduceOp::All | ReduceOp::Any => (a.clone(), DType::Bool),
        _ => (a.clone(), a.dtype()),
    };
    let out_shape: Vec<usize> = (0..a.ndim())
        .filter(|d| !axes.contains(d))
        .map(|d| a.shape()[d])
        .collect();
    let out = if axes.is_empty() && !op.is_arg() {
        input.astype(out_dtype)?
    } else {
        Array::from_primitive(
            out_shape,
            out_dtype,
            Primitive::Reduce {
                op,
                axes: axes.clone(),
            },
            vec![input],
        )
    };
    Ok(if keepdims {
        reshape_to(&out, kept_shape(a.shape(), &axes))
    } else {
        out
    })
}

macro_rules! reductions {
    ($($fn_name:ident => $op:ident),*) => {
        $(
            #[doc = concat!("`", stringify!($fn_name), "` over `axes` ([`Axes::All`] for every axis); `keepdims` keeps them as size 1.")]
            pub fn $fn_name(a: &Array, axes: impl Into<Axes>, keepdims: bool) -> Result<Array> {
                reduce(ReduceOp::$op, a, &axes.into(), keepdims)
            }
        )*
    };
}
reductions!(sum => Sum, prod => Prod, max => Max, min => Min, all => All, any => Any);

fn arg_reduce(op: ReduceOp, a: &Array, axis: Option<i32>, keepdims: bool) -> Result<Array> {
    let (x, d) = match axis {
        None => (flatten(a)?, 0),
        Some(ax) => (a.clone(), normalize_axis(op.name(), ax, a.ndim())?),
    };
    let out = reduce(op, &x, &Axes::from(d as i32), false)?;
    if keepdims {
        let shape = if axis.is_none() {
            vec![1; a.ndim()]
        } else {
            kept_shape(a.shape(), &[d])
        };
        return Ok(reshape_to(&out, shape));
    }
    Ok(out)
}

/// Index of the largest element along `axis` (of the flattened array when
/// `None`); the first one on ties and the first NaN if any (int32).
pub fn argmax(a: &Array, axis: Option<i32>, keepdims: bool) -> Result<Array> {
    arg_reduce(ReduceOp::ArgMax, a, axis, keepdims)
}

/// Index of the smallest element along `axis`; see [`argmax`].
pub fn argmin(a: &Array, axis: Option<i32>, keepdims: bool) -> Result<Array> {
    arg_reduce(ReduceOp::ArgMin, a, axis, keepdims)
}

/// The number of elements reduced over `axes`, as a float scalar.
fn count(a: &Array, axes: &Axes, dtype: DType, ddof: usize) -> Result<Array> {
    let axes = axes.resolve("mean", a.ndim())?;
    let n: usize = axes.iter().map(|&d| a.shape()[d]).product();
    Ok(Array::scalar_of(n as f64 - ddof as f64, dtype))
}

/// `a` as float32 for computing a statistic whose intermediate values
/// (sums of many elements, exponentials) may overflow float16, and the
/// dtype to give the result: float16 stays float16, integers become float32.
fn widened(a: &Array) -> Result<(Array, DType)> {
    let dtype = a.dtype().to_float();
    Ok((a.astype(DType::F32)?, dtype))
}

/// The arithmetic mean over `axes` (float32 for integer input).
pub fn mean(a: &Array, axes: impl Into<Axes>, keepdims: bool) -> Result<Array> {
    let axes = axes.into();
    axes.resolve("mean", a.ndim())?;
    let (x, dtype) = widened(a)?;
    divide(
        &sum(&x, axes.clone(), keepdims)?,
        &count(&x, &axes, x.dtype(), 0)?,
    )?
    .astype(dtype)
}

/// The variance over `axes` with `ddof` delta degrees of freedom.
pub fn var(a: &Array, axes: impl Into<Axes>, keepdims: bool, ddof: usize) -> Result<Array> {
    let axes = axes.into();
    axes.resolve("var", a.ndim())?;
    let (x, dtype) = widened(a)?;
    let centered = subtract(&x, &mean(&x, axes.clone(), true)?)?;
    divide(
        &sum(&multiply(&centered, &centered)?, axes.clone(), keepdims)?,
        &count(&x, &axes, x.dtype(), ddof)?,
    )?
    .astype(dtype)
}

/// The standard deviation over `axes` with `ddof` delta degrees of freedom.
pub fn std(a: &Array, axes: impl Into<Axes>, keepdims: bool, ddof: usize) -> Result<Array> {
    let axes = axes.into();
    axes.resolve("std", a.ndim())?;
    sqrt(&var(a, axes, keepdims, ddof)?)
}

/// `log(sum(exp(a)))` over `axes`, computed stably.
pub fn logsumexp(a: &Array, axes: impl Into<Axes>, keepdims: bool) -> Result<Array> {
    let axes = axes.into();
    axes.resolve("logsumexp", a.ndim())?;
    let (x, dtype) = widened(a)?;
    let m = max(&x, axes.clone(), true)?;
    let shift = r#where(&isfinite(&m)?, &m, &Array::scalar_of(0, x.dtype()))?;
    let total = sum(&exp(&subtract(&x, &shift)?)?, axes.clone(), true)?;
    let out = add(&log(&total)?, &shift)?.astype(dtype)?;
    if keepdims {
        return Ok(out);
    }
    let axes = axes.resolve("logsumexp", a.ndim())?;
    let shape = (0..a.ndim())
        .filter(|d| !axes.contains(d))
        .map(|d| a.shape()[d])
        .collect();
    Ok(reshape_to(&out, shape))
}

/// `exp(a) / sum(exp(a))` over `axes`.
pub fn softmax(a: &Array, axes: impl Into<Axes>) -> Result<Array> {
    let axes = axes.into();
    axes.resolve("softmax", a.ndim())?;
    let (x, dtype) = widened(a)?;
    if let Some(fused) = last_axis_softmax(&x, &axes, false)? {
        return fused.astype(dtype);
    }
    let e = exp(&subtract(&x, &max(&x, axes.clone(), true)?)?)?;
    divide(&e, &sum(&e, axes, true)?)?.astype(dtype)
}

/// Rows longer than this are not worth one workgroup each.
const SOFTMAX_MAX_ROW: usize = 1 << 20;

/// Softmax over the last axis of float32 `x` as one kernel, when `axes` is
/// just that axis (other axes compose the primitive ops).
fn last_axis_softmax(x: &Array, axes: &Axes, log: bool) -> Result<Option<Array>> {
    let name = if log { "log_softmax" } else { "softmax" };
    let last = x.ndim().checked_sub(1);
    let resolved = axes.resolve(name, x.ndim())?;
    match last {
        Some(last) if resolved == [last] && x.shape()[last] <= SOFTMAX_MAX_ROW => {
            Ok(Some(Array::from_primitive(
                x.shape().to_vec(),
                DType::F32,
                Primitive::Softmax { log },
                vec![x.clone()],
            )))
        }
        _ => Ok(None),
    }
}

/// `a - logsumexp(a)` over `axes`.
pub fn log_softmax(a: &Array, axes: impl Into<Axes>) -> Result<Array> {
    let axes = axes.into();
    axes.resolve("log_softmax", a.ndim())?;
    let (x, dtype) = widened(a)?;
    if let Some(fused) = last_axis_softmax(&x, &axes, true)? {
        return fused.astype(dtype);
    }
    // Subtracting the max first keeps the result accurate for large inputs.
    let m = max(&x, axes.clone(), true)?;
    let shifted = subtract(
        &x,
        &r#where(&isfinite(&m)?, &m, &Array::scalar_of(0, x.dtype()))?,
    )?;
    subtract(&shifted, &log(&sum(&exp(&shifted)?, axes, true)?)?)?.astype(dtype)
}

/// Σ x² over every element of every array of `arrays` (float32; each
/// float array is converted), as a float32 scalar: one kernel per
/// `MAX_FUSED_INPUTS` arrays and one more reduction each, instead of a
/// square and a reduction per array.
pub(crate) fn squared_norm(arrays: &[Array]) -> Result<Array> {
    let wide = arrays
        .iter()
        .map(|a| a.astype(DType::F32))
        .collect::<Result<Vec<_>>>()?;
    let parts = wide
        .chunks(crate::primitive::MAX_FUSED_INPUTS)
        .map(|group| {
            Array::from_primitive(vec![], DType::F32, Primitive::SquaredNorm, group.to_vec())
        });
    add_all(parts)?.ok_or_else(|| crate::error::invalid("squared_norm", "no arrays given"))
}

/// [`squared_norm`] of arrays whose first axis is a batch, per batch
/// element, composed of ops (what `vmap` gives).
pub(crate) fn batched_squared_norm(arrays: &[Array]) -> Result<Array> {
    let parts = arrays
        .iter()
        .map(|a| {
            let axes: Vec<i32> = (1..a.ndim() as i32).collect();
            sum(&crate::ops::elementwise::square(a)?, axes, false)
        })
        .collect::<Result<Vec<_>>>()?;
    add_all(parts)?.ok_or_else(|| crate::error::invalid("squared_norm", "no arrays given"))
}

/// Float32 `x` normalised along its last axis as one kernel: `(x - mean) /
/// √(var + eps)` (biased variance), or `x / √(mean(x²) + eps)` when `rms`.
pub(crate) fn normalize_last_axis(x: &Array, eps: f64, rms: bool) -> Array {
    Array::from_primitive(
        x.shape().to_vec(),
        DType::F32,
        Primitive::Normalize { eps, rms },
        vec![x.clone()],
    )
}

/// The derivative of [`normalize_last_axis`] at `x` applied to `g` (both
/// float32, of one shape) as one kernel.
pub(crate) fn normalize_grad(x: &Array, g: &Array, eps: f64, rms: bool) -> Array {
    Array::from_primitive(
        x.shape().to_vec(),
        DType::F32,
        Primitive::NormalizeGrad { eps, rms },
        vec![x.clone(), g.clone()],
    )
}

/// [`normalize_grad`] composed of primitive ops: `r (g - mean(g) - y
/// mean(g y))` with `y` the normalised `x` and `r` its inverse root (no
/// `mean(g)` for RMS). The transforms differentiate this.
pub(crate) fn normalize_grad_composed(x: &Array, g: &Array, eps: f64, rms: bool) -> Result<Array> {
    use crate::ops::elementwise::{rsqrt, square};
    let centered = if rms {
        x.clone()
    } else {
        subtract(x, &mean(x, -1, true)?)?
    };
    let mean_square = mean(&square(&centered)?, -1, true)?;
    let r = rsqrt(&add(&mean_square, &Array::scalar(eps as f32))?)?;
    let y = multiply(&centered, &r)?;
    let inner = subtract(g, &multiply(&y, &mean(&multiply(g, &y)?, -1, true)?)?)?;
    let inner = if rms {
        inner
    } else {
        subtract(&inner, &mean(g, -1, true)?)?
    };
    multiply(&r, &inner)
}

pub(crate) fn scan(op: ScanOp, a: &Array, axis: Option<i32>, reverse: bool) -> Result<Array> {
    let name = if op == ScanOp::Sum {
        "cumsum"
    } else {
        "cumprod"
    };
    let (x, d) = match axis {
        None => (flatten(a)?, 0),
        Some(ax) => (a.clone(), normalize_axis(name, ax, a.ndim())?),
    };
    let x = if x.dtype() == DType::Bool {
        x.astype(DType::I32)?
    } else {
        x
    };
    Ok(Array::from_primitive(
        x.shape().to_vec(),
        x.dtype(),
        Primitive::Scan {
            op,
            axis: d,
            reverse,
        },
        vec![x],
    ))
}

/// Cumulative sum along `axis` (of the flattened array when `None`).
pub fn cumsum(a: &Array, axis: Option<i32>) -> Result<Array> {
    scan(ScanOp::Sum, a, axis, false)
}

/// Cumulative product along `axis` (of the flattened array when `None`).
pub fn cumprod(a: &Array, axis: Option<i32>) -> Result<Array> {
    scan(ScanOp::Prod, a, axis, false)
}

/// Cumulative sum from the end of `axis` backwards.
pub fn cumsum_reverse(a: &Array, axis: i32) -> Result<Array> {
    scan(ScanOp::Sum, a, Some(axis), true)
}

/// Cumulative product from the end of `axis` backwards.
pub fn cumprod_reverse(a: &Array, axis: i32) -> Result<Array> {
    scan(ScanOp::Prod, a, Some(axis), true)
}
