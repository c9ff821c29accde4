//! Forward-mode rules: each primitive's output tangent from its inputs'
//! tangents, written with public ops so that they can be differentiated and
//! batched again.

use super::derivatives::{self, product_of_others};
use crate::array::Array;
use crate::error::Result;
use crate::ops::creation::zeros_like;
use crate::ops::elementwise::{add, divide, exp, multiply, r#where, subtract};
use crate::ops::reduce::{scan, sum, Axes};
use crate::ops::shape::broadcast_to;
use crate::primitive::{Primitive, ReduceOp, ScanOp};

/// The node's primitive applied to new inputs, with the node's shape.
pub(crate) fn replay(node: &Array, primitive: Primitive, inputs: Vec<Array>) -> Array {
    Array::from_primitive(node.shape().to_vec(), node.dtype(), primitive, inputs)
}

/// The tangent of `node`'s output given its inputs' tangents (`None` for
/// zero); `None` when the output's tangent is zero.
pub(crate) fn forward(
    node: &Array,
    inputs: &[Array],
    tangents: &[Option<Array>],
) -> Result<Option<Array>> {
    super::record_rule("jvp", node);
    let zero_if_none = |k: usize| -> Result<Array> {
        match &tangents[k] {
            Some(t) => Ok(t.clone()),
            None => zeros_like(&inputs[k]),
        }
    };
    let t0 = tangents.first().cloned().flatten();
    let axes_i32 = |axes: &[usize]| axes.iter().map(|&d| d as i32).collect::<Vec<_>>();
    Ok(match node.primitive() {
        _ if !derivatives::carries_derivative(node) => None,
        Primitive::Unary(op) => match t0 {
            Some(t) => derivatives::unary(*op, &inputs[0], node)?.apply(&t)?,
            None => None,
        },
        Primitive::Binary(op) => {
            let (da, db) = derivatives::binary(*op, &inputs[0], &inputs[1], node)?;
            let mut total: Option<Array> = None;
            for (t, d) in tangents.iter().zip([da, db]) {
                if let Some(part) = t.as_ref().map(|t| d.apply(t)).transpose()?.flatten() {
                    total = Some(match total {
                        None => part,
                        Some(s) => add(&s, &part)?,
                    });
                }
            }
            total.map(|t| broadcast_to(&t, node.shape())).transpose()?
        }
        Primitive::Where => {
            let zero = Array::scalar_of(0, node.dtype());
            let pick = |k: usize| tangents[k].clone().unwrap_or_else(|| zero.clone());
            Some(broadcast_to(
                &r#where(&inputs[0], &pick(1), &pick(2))?,
                node.shape(),
            )?)
        }
        Primitive::AsType => match t0 {
            Some(t) if derivatives::differentiable(inputs[0].dtype()) => {
                Some(t.astype(node.dtype())?)
            }
            _ => None,
        },
        Primitive::Reduce { op, axes } => {
            let Some(t) = t0 else { return Ok(None) };
            let x = &inputs[0];
            let weighted = match op {
                ReduceOp::Sum => t,
                ReduceOp::Prod => multiply(&t, &product_of_others(x, axes)?)?,
                ReduceOp::Max | ReduceOp::Min => {
                    multiply(&t, &derivatives::extremum_share(x, node, axes)?)?
                }
                _ => return Ok(None),
            };
            Some(sum(&weighted, axes_i32(axes), false)?)
        }
        Primitive::Softmax { log } => {
            let Some(t) = t0 else { return Ok(None) };
            let row_sum = |v: &Array| sum(v, Axes::from(-1), true);
            Some(if *log {
                // t - Σ softmax(x) t
                subtract(&t, &row_sum(&multiply(&exp(node)?, &t)?)?)?
            } else {
                // y (t - Σ y t)
                multiply(node, &subtract(&t, &row_sum(&multiply(node, &t)?)?)?)?
            })
        }
        Primitive::Scan { op, axis, reverse } => {
            let Some(t) = t0 else { return Ok(None) };
            let along = |g: &Array| scan(ScanOp::Sum, g, Some(*axis as i32), *reverse);
            Some(match op {
                ScanOp::Sum => along(&t)?,
                // y_i Σ_{j≤i} t_j / x_j (not defined where x has zeros).
                ScanOp::Prod => multiply(node, &along(&divide(&t, &inputs[0])?)?)?,
            })
        }
        Primitive::Reshape
        | Primitive::Transpose(_)
        | Primitive::Broadcast
        | Primitive::Slice { .. }
        | Primitive::Diagonal { .. } => t0.map(|t| replay(node, node.primitive().clone(), vec![t])),
        Primitive::Pad { low, .. } => t0.map(|t| {
            let zero = crate::dtype::Scalar::Int(0);
            replay(
                node,
                Primitive::Pad {
                    low: low.clone(),
                    value: zero,
                },
                vec![t],
            )
        }),
        Primitive::Concatenate { .. } => {
            let parts = (0..inputs.len())
                .map(zero_if_none)
                .collect::<Result<Vec<_>>>()?;
            Some(replay(node, node.primitive().clone(), parts))
        }
        Primitive::Gather { .. } => {
            t0.map(|t| replay(node, node.primitive().clone(), vec![t, inputs[1].clone()]))
        }
        Primitive::ScatterAdd { .. } => Some(replay(
            node,
            node.primitive().clone(),
            vec![zero_if_none(0)?, inputs[1].clone(), zero_if_none(2)?],
        )),
        Primitive::Matmul => {
            let mut total: Option<Array> = None;
            if let Some(ta) = &tangents[0] {
                total = Some(replay(
                    node,
                    Primitive::Matmul,
                    vec![ta.clone(), inputs[1].clone()],
                ));
            }
            if let Some(tb) = &tangents[1] {
                let part = replay(node, Primitive::Matmul, vec![inputs[0].clone(), tb.clone()]);
                total = Some(match total {
                    None => part,
                    Some(s) => add(&s, &part)?,
                });
            }
            total
        }
        Primitive::Linalg(op) => crate::linalg::rules::jvp(*op, node, inputs, tangents)?,
        Primitive::Fused(fused) => {
            // Differentiate the chain the kernel stands for.
            let xs: Vec<Array> = inputs.iter().map(super::trace::fresh).collect();
            let out = super::compile::unfuse(fused, &xs)?;
            super::forward(&xs, tangents, &[out])?.remove(0)
        }
        // Forward mode differentiates the function itself.
        Primitive::Custom(_) => tangents.last().cloned().flatten(),
        // What `carries_derivative` rules out.
        _ => None,
    })
}
