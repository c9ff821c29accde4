//! Reductions, scans and the softmax family.

use crate::array::Array;
use crate::backend::kernels::scan::MAX_SCAN_LEN;
use crate::backend::limits::{MAX_LOOP_TRIPS, WORKGROUP_SIZE};
use crate::dtype::{DType, Scalar};
use crate::error::{bail, Result};
use crate::ops::elementwise::{add, divide, exp, isfinite, log, multiply, r#where, sqrt, subtract};
use crate::ops::shape::{
    concatenate, flatten, moveaxis, normalize_axes, normalize_axis, pad, reshape_to, slice, Slice,
};
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

/// The longest row one arg-reduction kernel handles.
const ARG_ROW_MAX: usize = WORKGROUP_SIZE as usize * MAX_LOOP_TRIPS;

fn arg_reduce(op: ReduceOp, a: &Array, axis: Option<i32>, keepdims: bool) -> Result<Array> {
    let (x, d) = match axis {
        None => (flatten(a)?, 0),
        Some(ax) => (a.clone(), normalize_axis(op.name(), ax, a.ndim())?),
    };
    let n = x.shape()[d];
    let out = if n > ARG_ROW_MAX {
        // Reduce chunks, pick the best chunk, then its index within the chunk.
        let moved = moveaxis(&x, d as i32, -1)?;
        let chunks = n.div_ceil(ARG_ROW_MAX);
        let fill = match (op, x.dtype().is_float()) {
            (ReduceOp::ArgMax, true) => Scalar::Float(f64::NEG_INFINITY),
            (ReduceOp::ArgMin, true) => Scalar::Float(f64::INFINITY),
            (ReduceOp::ArgMax, false) => Scalar::Int(if x.dtype() == DType::I32 {
                i32::MIN as i64
            } else {
                0
            }),
            _ => Scalar::Int(if x.dtype() == DType::I32 {
                i32::MAX as i64
            } else {
                u32::MAX as i64
            }),
        };
        let mut widths = vec![(0, 0); moved.ndim()];
        widths[moved.ndim() - 1] = (0, chunks * ARG_ROW_MAX - n);
        let padded = pad(&moved, &widths, fill)?;
        let mut shape = padded.shape()[..moved.ndim() - 1].to_vec();
        shape.extend([chunks, ARG_ROW_MAX]);
        let blocks = reshape_to(&padded, shape);
        let best = reduce(
            if op == ReduceOp::ArgMax {
                ReduceOp::Max
            } else {
                ReduceOp::Min
            },
            &blocks,
            &Axes::from(-1),
            false,
        )?;
        let within = reduce(op, &blocks, &Axes::from(-1), false)?;
        let chunk = reduce(op, &best, &Axes::from(-1), true)?;
        let local = crate::ops::index::take_along_axis(&within, &chunk, -1)?;
        let global = add(
            &multiply(&chunk, &Array::scalar(ARG_ROW_MAX as i32))?,
            &local,
        )?;
        crate::ops::shape::squeeze(&global, &[-1])?
    } else {
        reduce(op, &x, &Axes::from(d as i32), false)?
    };
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
    let n = x.shape()[d];
    if n <= MAX_SCAN_LEN {
        return Ok(Array::from_primitive(
            x.shape().to_vec(),
            x.dtype(),
            Primitive::Scan {
                op,
                axis: d,
                reverse,
            },
            vec![x],
        ));
    }
    // Long axes: scan blocks, then carry each block's total into the next.
    let moved = moveaxis(&x, d as i32, -1)?;
    let last = moved.ndim() - 1;
    let blocks = n.div_ceil(MAX_SCAN_LEN);
    let identity = if op == ScanOp::Sum { 0 } else { 1 };
    let mut widths = vec![(0, 0); moved.ndim()];
    widths[last] = if reverse {
        (blocks * MAX_SCAN_LEN - n, 0)
    } else {
        (0, blocks * MAX_SCAN_LEN - n)
    };
    let padded = pad(&moved, &widths, identity)?;
    let mut shape = padded.shape()[..last].to_vec();
    shape.extend([blocks, MAX_SCAN_LEN]);
    let within = scan(op, &reshape_to(&padded, shape), Some(-1), reverse)?;
    let edge = if reverse {
        Slice::new(Some(0), Some(1), None)
    } else {
        Slice::new(Some(-1), None, None)
    };
    let mut slices = vec![Slice::all(); last + 2];
    slices[last + 1] = edge;
    let totals = slice(&within, &slices)?;
    // Each block starts from the scan of the blocks before it (exclusive scan of the totals).
    let inclusive = scan(op, &totals, Some(last as i32), reverse)?;
    let carry = shift_in(&inclusive, last, identity, reverse)?;
    let combined = if op == ScanOp::Sum {
        add(&within, &carry)?
    } else {
        multiply(&within, &carry)?
    };
    let flat = reshape_to(&combined, padded.shape().to_vec());
    let mut keep = vec![Slice::all(); last + 1];
    keep[last] = if reverse {
        Slice::new(Some((blocks * MAX_SCAN_LEN - n) as i64), None, None)
    } else {
        Slice::new(None, Some(n as i64), None)
    };
    moveaxis(&slice(&flat, &keep)?, -1, d as i32)
}

/// `a` shifted by one along `axis` (towards the end, or the start when
/// `reverse`), with `fill` coming in.
fn shift_in(a: &Array, axis: usize, fill: i32, reverse: bool) -> Result<Array> {
    let n = a.shape()[axis] as i64;
    let mut edge_shape = a.shape().to_vec();
    edge_shape[axis] = 1;
    let edge = crate::ops::creation::full(&edge_shape, fill, a.dtype())?;
    let mut keep = vec![Slice::all(); axis + 1];
    keep[axis] = if reverse {
        Slice::new(Some(1), None, None)
    } else {
        Slice::new(None, Some(n - 1), None)
    };
    let kept = slice(a, &keep)?;
    let parts = if reverse {
        [&kept, &edge]
    } else {
        [&edge, &kept]
    };
    concatenate(&parts, axis as i32)
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
