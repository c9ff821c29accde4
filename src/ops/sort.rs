//! Sorting on the GPU: sort, argsort, topk.

use crate::array::Array;
use crate::error::{bail, Result};
use crate::ops::index::take_along_axis;
use crate::ops::shape::{flatten, moveaxis, normalize_axis, slice, Slice};
use crate::primitive::Primitive;

fn argsort_along(
    op: &'static str,
    a: &Array,
    axis: Option<i32>,
    descending: bool,
) -> Result<(Array, Array, i32)> {
    let (x, d) = match axis {
        None => (flatten(a)?, 0),
        Some(ax) => (a.clone(), normalize_axis(op, ax, a.ndim())? as i32),
    };
    if x.ndim() == 0 {
        bail!(op, "cannot sort a 0-d array along an axis");
    }
    let moved = moveaxis(&x, d, -1)?;
    let idx = Array::from_primitive(
        moved.shape().to_vec(),
        crate::DType::I32,
        Primitive::ArgSort { descending },
        vec![moved],
    );
    Ok((x, moveaxis(&idx, -1, d)?, d))
}

/// Indices (int32) that sort `a` along `axis` (flattened when `None`);
/// stable, NaN last.
pub fn argsort(a: &Array, axis: Option<i32>) -> Result<Array> {
    Ok(argsort_along("argsort", a, axis, false)?.1)
}

/// `a` sorted along `axis` (flattened when `None`), NaN last.
pub fn sort(a: &Array, axis: Option<i32>) -> Result<Array> {
    let (x, idx, d) = argsort_along("sort", a, axis, false)?;
    take_along_axis(&x, &idx, d)
}

/// The `k` largest elements along `axis` and their indices, largest first
/// (ties by lower index; NaN counts as largest).
pub fn topk(a: &Array, k: usize, axis: i32) -> Result<(Array, Array)> {
    let (x, idx, d) = argsort_along("topk", a, Some(axis), true)?;
    let n = x.shape()[d as usize];
    if k > n {
        bail!("topk", "k = {k} is larger than the axis size {n}");
    }
    let mut slices = vec![Slice::all(); d as usize + 1];
    slices[d as usize] = Slice::new(None, Some(k as i64), None);
    let idx = slice(&idx, &slices)?;
    Ok((take_along_axis(&x, &idx, d)?, idx))
}
