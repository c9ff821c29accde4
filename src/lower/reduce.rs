//! Scans and arg-reductions along axes longer than one kernel handles.

use crate::array::Array;
use crate::backend::limits::KernelLimits;
use crate::dtype::{DType, Scalar};
use crate::error::Result;
use crate::ops::elementwise::{add, multiply};
use crate::ops::index::take_along_axis;
use crate::ops::reduce::{argmax, argmin, max, min, scan};
use crate::ops::shape::{concatenate, moveaxis, pad, reshape_to, slice, squeeze, Slice};
use crate::primitive::ScanOp;

/// The inclusive scan of `x` along a long `axis`: scan blocks, then carry
/// each block's total into the next.
pub(super) fn long_scan(
    op: ScanOp,
    x: &Array,
    axis: usize,
    reverse: bool,
    limits: &KernelLimits,
) -> Result<Option<Array>> {
    let n = x.shape()[axis];
    let len = limits.scan_max_len;
    if n <= len {
        return Ok(None);
    }
    let last = x.ndim() - 1;
    let identity = if op == ScanOp::Sum { 0 } else { 1 };
    let (padded, blocked) = into_blocks(x, axis, len, identity.into(), reverse)?;
    let blocks = blocked.shape()[last];
    let within = scan(op, &blocked, Some(-1), reverse)?;
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
        Slice::new(Some((blocks * len - n) as i64), None, None)
    } else {
        Slice::new(None, Some(n as i64), None)
    };
    Ok(Some(moveaxis(&slice(&flat, &keep)?, -1, axis as i32)?))
}

/// `x` with `axis` moved last and padded with `fill` (at its start when
/// `at_start`) to whole blocks of `len`, and that as `(..., blocks, len)`.
fn into_blocks(
    x: &Array,
    axis: usize,
    len: usize,
    fill: Scalar,
    at_start: bool,
) -> Result<(Array, Array)> {
    let moved = moveaxis(x, axis as i32, -1)?;
    let last = moved.ndim() - 1;
    let n = moved.shape()[last];
    let blocks = n.div_ceil(len);
    let mut widths = vec![(0, 0); moved.ndim()];
    widths[last] = if at_start {
        (blocks * len - n, 0)
    } else {
        (0, blocks * len - n)
    };
    let padded = pad(&moved, &widths, fill)?;
    let mut shape = padded.shape()[..last].to_vec();
    shape.extend([blocks, len]);
    let blocked = reshape_to(&padded, shape);
    Ok((padded, blocked))
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

/// The argmax (or argmin) of `x` along a long `axis`: reduce chunks, pick
/// the best chunk, then its index within the chunk.
pub(super) fn long_arg_reduce(
    arg_max: bool,
    x: &Array,
    axis: usize,
    limits: &KernelLimits,
) -> Result<Option<Array>> {
    let n = x.shape()[axis];
    let len = limits.arg_reduce_max_len;
    if n <= len {
        return Ok(None);
    }
    let fill = match (arg_max, x.dtype().is_float()) {
        (true, true) => Scalar::Float(f64::NEG_INFINITY),
        (false, true) => Scalar::Float(f64::INFINITY),
        (true, false) => Scalar::Int(if x.dtype() == DType::I32 {
            i32::MIN as i64
        } else {
            0
        }),
        (false, false) => Scalar::Int(if x.dtype() == DType::I32 {
            i32::MAX as i64
        } else {
            u32::MAX as i64
        }),
    };
    let (_, blocks) = into_blocks(x, axis, len, fill, false)?;
    let (within, chunk) = if arg_max {
        let best = max(&blocks, -1, false)?;
        (
            argmax(&blocks, Some(-1), false)?,
            argmax(&best, Some(-1), true)?,
        )
    } else {
        let best = min(&blocks, -1, false)?;
        (
            argmin(&blocks, Some(-1), false)?,
            argmin(&best, Some(-1), true)?,
        )
    };
    let local = take_along_axis(&within, &chunk, -1)?;
    let global = add(&multiply(&chunk, &Array::scalar(len as i32))?, &local)?;
    Ok(Some(squeeze(&global, &[-1])?))
}
