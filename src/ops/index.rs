//! Indexing: gather with `take` / `take_along_axis`, and `scatter_add`.

use crate::array::Array;
use crate::dtype::DType;
use crate::error::{bail, fmt_shape, Result};
use crate::ops::shape::{broadcast_to, flatten, normalize_axis, reshape_to};
use crate::primitive::Primitive;

fn index_dtype(op: &'static str, indices: &Array) -> Result<Array> {
    if !indices.dtype().is_int() {
        bail!(op, "indices must be integers, got {}", indices.dtype());
    }
    indices.astype(DType::I32)
}

/// `a[..., indices[j], ...]` along `axis`: the result's shape is
/// `a.shape[:axis] + indices.shape + a.shape[axis+1:]` (flattened `a` when `None`).
/// Negative indices count from the end; out-of-range indices are clamped
/// (a check would need a GPU sync).
pub fn take(a: &Array, indices: &Array, axis: Option<i32>) -> Result<Array> {
    let indices = index_dtype("take", indices)?;
    let (x, d) = match axis {
        None => (flatten(a)?, 0),
        Some(ax) => (a.clone(), normalize_axis("take", ax, a.ndim())?),
    };
    if x.shape()[d] == 0 && indices.size() > 0 {
        bail!("take", "cannot take from an empty axis");
    }
    let outer: usize = x.shape()[..d].iter().product();
    let inner: usize = x.shape()[d + 1..].iter().product();
    let m = indices.size();
    let x3 = reshape_to(&x, vec![outer, x.shape()[d], inner]);
    let idx3 = broadcast_to(&reshape_to(&indices, vec![1, m, 1]), &[outer, m, inner])?;
    let gathered = Array::from_primitive(
        vec![outer, m, inner],
        x.dtype(),
        Primitive::Gather { axis: 1 },
        vec![x3, idx3],
    );
    let mut shape = x.shape()[..d].to_vec();
    shape.extend_from_slice(indices.shape());
    shape.extend_from_slice(&x.shape()[d + 1..]);
    Ok(reshape_to(&gathered, shape))
}

/// The shapes `a` and `indices` broadcast to, for gathers and scatters along `axis`.
fn along_axis_shape(
    op: &'static str,
    a: &Array,
    indices: &Array,
    axis: usize,
) -> Result<Vec<usize>> {
    if indices.ndim() != a.ndim() {
        bail!(
            op,
            "indices must have the same number of dimensions as the array: {} vs {}",
            fmt_shape(indices.shape()),
            fmt_shape(a.shape())
        );
    }
    let mut shape = Vec::with_capacity(a.ndim());
    for d in 0..a.ndim() {
        let (n, k) = (a.shape()[d], indices.shape()[d]);
        shape.push(match (n, k) {
            _ if d == axis => k,
            _ if n == k => n,
            (1, k) | (k, 1) => k,
            _ => bail!(
                op,
                "shapes {} and {} do not broadcast outside axis {axis}",
                fmt_shape(a.shape()),
                fmt_shape(indices.shape())
            ),
        });
    }
    Ok(shape)
}

/// Picks `a`'s elements along `axis` at `indices` (NumPy's `take_along_axis`).
pub fn take_along_axis(a: &Array, indices: &Array, axis: i32) -> Result<Array> {
    let indices = index_dtype("take_along_axis", indices)?;
    let d = normalize_axis("take_along_axis", axis, a.ndim())?;
    let shape = along_axis_shape("take_along_axis", a, &indices, d)?;
    if a.shape()[d] == 0 && shape.iter().product::<usize>() > 0 {
        bail!("take_along_axis", "cannot take from an empty axis");
    }
    let mut a_shape = shape.clone();
    a_shape[d] = a.shape()[d];
    let a_b = broadcast_to(a, &a_shape)?;
    let idx_b = broadcast_to(&indices, &shape)?;
    Ok(Array::from_primitive(
        shape,
        a.dtype(),
        Primitive::Gather { axis: d },
        vec![a_b, idx_b],
    ))
}

/// `a` with `updates` added at `indices` along `axis`, repeated indices
/// accumulating: the inverse of [`take_along_axis`] (like `np.add.at` with
/// `put_along_axis` indexing, or PyTorch's `scatter_add`).
pub fn scatter_add(a: &Array, indices: &Array, updates: &Array, axis: i32) -> Result<Array> {
    let indices = index_dtype("scatter_add", indices)?;
    let d = normalize_axis("scatter_add", axis, a.ndim())?;
    let shape = along_axis_shape("scatter_add", a, &indices, d)?;
    if (0..a.ndim()).any(|k| k != d && shape[k] != a.shape()[k]) {
        bail!(
            "scatter_add",
            "indices of shape {} cannot scatter into shape {}",
            fmt_shape(indices.shape()),
            fmt_shape(a.shape())
        );
    }
    let idx_b = broadcast_to(&indices, &shape)?;
    let compute = match a.dtype() {
        DType::F16 => DType::F32,
        DType::Bool => bail!("scatter_add", "bool arrays cannot be added into"),
        d => d,
    };
    let upd = broadcast_to(&updates.astype(compute)?, &shape).map_err(|_| {
        crate::error::invalid(
            "scatter_add",
            format!(
                "updates of shape {} do not match indices of shape {}",
                fmt_shape(updates.shape()),
                fmt_shape(&shape)
            ),
        )
    })?;
    let base = a.astype(compute)?;
    let out = Array::from_primitive(
        a.shape().to_vec(),
        compute,
        Primitive::ScatterAdd { axis: d },
        vec![base, idx_b, upd],
    );
    out.astype(a.dtype())
}
