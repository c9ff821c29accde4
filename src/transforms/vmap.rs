//! Batching rules: each primitive applied to inputs that carry an extra
//! batch axis, giving the batched output and where its batch axis is.

use crate::array::Array;
use crate::error::{bail, Result};
use crate::ops::matmul::matmul;
use crate::ops::shape::{broadcast_to, index_axis, moveaxis, reshape_to, stack};
use crate::primitive::{CustomVjp, Primitive};
use std::sync::Arc;

/// `x` with its batch axis (if any) first; unbatched inputs are broadcast
/// along a new first axis of `size`.
fn to_front(x: &Array, axis: Option<usize>, size: usize) -> Result<Array> {
    match axis {
        Some(0) => Ok(x.clone()),
        Some(d) => moveaxis(x, d as i32, 0),
        None => {
            let mut shape = vec![size];
            shape.extend_from_slice(x.shape());
            broadcast_to(&reshape_to(x, [&[1], x.shape()].concat()), &shape)
        }
    }
}

/// `x` with its batch axis first and size-1 axes after it, so that its
/// unbatched part has `ndim` dimensions (for broadcasting ops).
fn to_front_aligned(x: &Array, axis: usize, ndim: usize) -> Result<Array> {
    let front = moveaxis(x, axis as i32, 0)?;
    let mut shape = vec![front.shape()[0]];
    shape.extend(std::iter::repeat_n(1, ndim + 1 - front.ndim()));
    shape.extend_from_slice(&front.shape()[1..]);
    Ok(reshape_to(&front, shape))
}

/// The shape of `node` with a batch axis of `size` in front.
fn batched_shape(node: &Array, size: usize) -> Vec<usize> {
    [&[size], node.shape()].concat()
}

fn shifted(axes: &[usize]) -> Vec<usize> {
    axes.iter().map(|&d| d + 1).collect()
}

/// `node`'s primitive (as given) on batched inputs, batch axis first.
fn rebuild(node: &Array, size: usize, primitive: Primitive, inputs: Vec<Array>) -> Array {
    Array::from_primitive(batched_shape(node, size), node.dtype(), primitive, inputs)
}

/// `node` applied to `inputs` whose batch axes are `axes` (`None`: not
/// batched); the batched output and its batch axis.
pub(crate) fn batch(
    node: &Array,
    inputs: &[Array],
    axes: &[Option<usize>],
    size: usize,
) -> Result<(Array, usize)> {
    super::record_rule("vmap", node);
    let fronts = || -> Result<Vec<Array>> {
        inputs
            .iter()
            .zip(axes)
            .map(|(x, &a)| to_front(x, a, size))
            .collect()
    };
    let first = || to_front(&inputs[0], axes[0], size);
    let out = match node.primitive() {
        Primitive::Constant
        | Primitive::Arange { .. }
        | Primitive::Full(_)
        | Primitive::Placeholder => {
            bail!(
                "vmap",
                "internal error: {} has no batched inputs",
                node.primitive().name()
            )
        }
        // Elementwise on one input: the batch axis stays where it is.
        Primitive::Unary(_) | Primitive::AsType | Primitive::BitCast | Primitive::StopGradient => {
            let x = &inputs[0];
            let out = Array::from_primitive(
                x.shape().to_vec(),
                node.dtype(),
                node.primitive().clone(),
                vec![x.clone()],
            );
            return Ok((out, axes[0].expect("the input is batched")));
        }
        Primitive::Fused(fused) if fused.is_stacked() => {
            // The roots batched one by one (batch first), stacked after it.
            let aligned = inputs
                .iter()
                .zip(axes)
                .map(|(x, &a)| match a {
                    Some(a) => to_front_aligned(x, a, node.ndim() - 1),
                    None => Ok(x.clone()),
                })
                .collect::<Result<Vec<_>>>()?;
            let mut batched = node.shape().to_vec();
            batched[0] = size;
            let roots = super::compile::unfuse_roots(fused, &aligned)?
                .iter()
                .map(|r| broadcast_to(r, &batched))
                .collect::<Result<Vec<_>>>()?;
            let stacked = crate::ops::shape::stack(&roots.iter().collect::<Vec<_>>(), 0)?;
            return Ok((stacked, 1));
        }
        Primitive::Binary(_) | Primitive::Where | Primitive::Fused(_) => {
            let aligned = inputs
                .iter()
                .zip(axes)
                .map(|(x, &a)| match a {
                    Some(a) => to_front_aligned(x, a, node.ndim()),
                    None => Ok(x.clone()),
                })
                .collect::<Result<Vec<_>>>()?;
            rebuild(node, size, node.primitive().clone(), aligned)
        }
        Primitive::Reduce { op, axes: reduced } => rebuild(
            node,
            size,
            Primitive::Reduce {
                op: *op,
                axes: shifted(reduced),
            },
            vec![first()?],
        ),
        // Along the last axis, which stays last with the batch axis in front.
        Primitive::Softmax { .. } | Primitive::Normalize { .. } => {
            rebuild(node, size, node.primitive().clone(), vec![first()?])
        }
        // Every input shares the batch axes (a mask's may be 1).
        Primitive::NormalizeGrad { .. }
        | Primitive::Attention { .. }
        | Primitive::AttentionGrad { .. } => {
            rebuild(node, size, node.primitive().clone(), fronts()?)
        }
        Primitive::SquaredNorm => crate::ops::reduce::batched_squared_norm(&fronts()?)?,
        Primitive::Scan { op, axis, reverse } => rebuild(
            node,
            size,
            Primitive::Scan {
                op: *op,
                axis: axis + 1,
                reverse: *reverse,
            },
            vec![first()?],
        ),
        Primitive::Reshape => reshape_to(&first()?, batched_shape(node, size)),
        Primitive::Transpose(perm) => {
            let perm = [vec![0], shifted(perm)].concat();
            rebuild(node, size, Primitive::Transpose(perm), vec![first()?])
        }
        Primitive::Broadcast => {
            let x = to_front_aligned(&inputs[0], axes[0].expect("batched"), node.ndim())?;
            broadcast_to(&x, &batched_shape(node, size))?
        }
        Primitive::Slice { start, step } => rebuild(
            node,
            size,
            Primitive::Slice {
                start: [vec![0], start.clone()].concat(),
                step: [vec![1], step.clone()].concat(),
            },
            vec![first()?],
        ),
        Primitive::Diagonal {
            offset,
            axis1,
            axis2,
        } => rebuild(
            node,
            size,
            Primitive::Diagonal {
                offset: *offset,
                axis1: axis1 + 1,
                axis2: axis2 + 1,
            },
            vec![first()?],
        ),
        Primitive::Concatenate { axis } => rebuild(
            node,
            size,
            Primitive::Concatenate { axis: axis + 1 },
            fronts()?,
        ),
        Primitive::Pad { low, value } => rebuild(
            node,
            size,
            Primitive::Pad {
                low: [vec![0], low.clone()].concat(),
                value: *value,
            },
            vec![first()?],
        ),
        Primitive::Gather { axis } => {
            rebuild(node, size, Primitive::Gather { axis: axis + 1 }, fronts()?)
        }
        Primitive::ScatterAdd { axis } => rebuild(
            node,
            size,
            Primitive::ScatterAdd { axis: axis + 1 },
            fronts()?,
        ),
        Primitive::Matmul => return batch_matmul(node, inputs, axes, size),
        Primitive::ArgSort { .. } => rebuild(node, size, node.primitive().clone(), vec![first()?]),
        Primitive::Linalg(_) => rebuild(node, size, node.primitive().clone(), fronts()?),
        // One hash per batch element: the kernel takes a single key.
        Primitive::Threefry => {
            let mut parts = Vec::with_capacity(size);
            for b in 0..size {
                let pick = |k: usize| match axes[k] {
                    Some(a) => index_axis(&inputs[k], a as i32, b as i64),
                    None => Ok(inputs[k].clone()),
                };
                parts.push(Array::from_primitive(
                    node.shape().to_vec(),
                    node.dtype(),
                    Primitive::Threefry,
                    vec![pick(0)?, pick(1)?],
                ));
            }
            stack(&parts.iter().collect::<Vec<_>>(), 0)?
        }
        Primitive::Custom(rule) => {
            // The backward rule runs batched too.
            let inner = rule.clone();
            let backward = move |primals: &[Array], out: &Array, ct: &Array| {
                let n = primals.len();
                let args: Vec<Array> = primals.iter().chain([out, ct]).cloned().collect();
                super::vmap_apply(
                    &|xs: &[Array]| (inner.backward)(&xs[..n], &xs[n], &xs[n + 1]),
                    &args,
                    &vec![Some(0); n + 2],
                    &vec![0; n],
                )
            };
            let rule = Arc::new(CustomVjp {
                backward: Box::new(backward),
            });
            rebuild(node, size, Primitive::Custom(rule), fronts()?)
        }
    };
    Ok((out, 0))
}

/// Matrix products with a batch axis: folded into the rows (or columns) of
/// the batched operand when the other one is a plain matrix, so that the
/// whole batch is one product.
fn batch_matmul(
    node: &Array,
    inputs: &[Array],
    axes: &[Option<usize>],
    size: usize,
) -> Result<(Array, usize)> {
    let (a, b) = (&inputs[0], &inputs[1]);
    match (axes[0], axes[1]) {
        (Some(ax), None) if b.ndim() == 2 => {
            // (..., B, m, k) → (..., B·m, k)
            let moved = moveaxis(a, ax as i32, a.ndim() as i32 - 3)?;
            let mut rows = moved.shape()[..moved.ndim() - 3].to_vec();
            let (m, k) = (
                moved.shape()[moved.ndim() - 2],
                moved.shape()[moved.ndim() - 1],
            );
            rows.extend([size * m, k]);
            let product = matmul(&reshape_to(&moved, rows), b)?;
            let mut shape = product.shape()[..product.ndim() - 2].to_vec();
            shape.extend([size, m, b.shape()[1]]);
            let at = shape.len() - 3;
            Ok((reshape_to(&product, shape), at))
        }
        (None, Some(bx)) if a.ndim() == 2 => {
            // (..., k, B, n) → (..., k, B·n)
            let moved = moveaxis(b, bx as i32, b.ndim() as i32 - 2)?;
            let mut cols = moved.shape()[..moved.ndim() - 2].to_vec();
            let n = moved.shape()[moved.ndim() - 1];
            cols.push(size * n);
            let product = matmul(a, &reshape_to(&moved, cols))?;
            let mut shape = product.shape()[..product.ndim() - 1].to_vec();
            shape.extend([size, n]);
            let at = shape.len() - 2;
            Ok((reshape_to(&product, shape), at))
        }
        _ => {
            let align = |x: &Array, axis: Option<usize>| match axis {
                Some(d) => to_front_aligned(x, d, node.ndim()),
                None => Ok(x.clone()),
            };
            let out = matmul(&align(a, axes[0])?, &align(b, axes[1])?)?;
            Ok((out, 0))
        }
    }
}
