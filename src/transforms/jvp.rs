//! Forward-mode rules: each primitive's output tangent from its inputs'
//! tangents, written with public ops so that they can be differentiated and
//! batched again.

use super::derivatives::{
    self, gaps_inverse, identity, internal, lower_half_diagonal, permutation_rows,
    product_of_others, qr_jvp, qr_parts, svd_differentiable, svd_parts, triangle, zero_block,
};
use crate::array::Array;
use crate::error::Result;
use crate::linalg::{block, dims, mt, tri_solve};
use crate::ops::attention::{attention_grad_composed, attention_packed_composed};
use crate::ops::creation::{tril, triu, zeros_like};
use crate::ops::elementwise::{
    add, add_all, divide, exp, multiply, negative, r#where, reciprocal, subtract,
};
use crate::ops::index::take_along_axis;
use crate::ops::matmul::matmul;
use crate::ops::reduce::{normalize_grad, normalize_grad_composed, scan, sum, Axes};
use crate::ops::shape::{broadcast_to, concatenate};
use crate::primitive::{LinalgOp, Primitive, ReduceOp, ScanOp};

/// The node's primitive applied to new inputs, with the node's shape.
pub(crate) fn replay(node: &Array, primitive: Primitive, inputs: Vec<Array>) -> Array {
    Array::from_primitive(node.shape().to_vec(), node.dtype(), primitive, inputs)
}

/// The tangent of a node that `composed` computes from its inputs as
/// well, given the inputs' tangents: a fused kernel's derivative is that
/// of its composed form.
fn differentiate_composed(
    inputs: &[Array],
    tangents: &[Option<Array>],
    composed: impl FnOnce(&[Array]) -> Result<Array>,
) -> Result<Option<Array>> {
    let xs: Vec<Array> = inputs.iter().map(super::trace::fresh).collect();
    let out = composed(&xs)?;
    Ok(super::forward(&xs, tangents, &[out])?.remove(0))
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
        Primitive::Normalize { eps, rms } => {
            let Some(t) = t0 else { return Ok(None) };
            Some(normalize_grad(&inputs[0], &t, *eps, *rms))
        }
        Primitive::SquaredNorm => {
            // 2 Σ x t over the inputs that have tangents.
            let mut parts = Vec::new();
            for (x, t) in inputs.iter().zip(tangents) {
                if let Some(t) = t {
                    parts.push(sum(&multiply(x, t)?, Axes::All, false)?);
                }
            }
            match add_all(parts)? {
                Some(t) => Some(multiply(&t, &Array::scalar(2.0f32))?),
                None => None,
            }
        }
        Primitive::NormalizeGrad { eps, rms } => differentiate_composed(inputs, tangents, |xs| {
            normalize_grad_composed(&xs[0], &xs[1], *eps, *rms)
        })?,
        // The output is a smooth function of the inputs: differentiate the
        // composed forms.
        Primitive::Attention { scale, causal } => differentiate_composed(inputs, tangents, |xs| {
            attention_packed_composed(xs, *scale, *causal)
        })?,
        Primitive::AttentionGrad {
            scale,
            causal,
            keys,
        } => differentiate_composed(inputs, tangents, |xs| {
            attention_grad_composed(xs, *scale, *causal, *keys)
        })?,
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
        Primitive::Linalg(op) => linalg(*op, node, inputs, tangents)?,
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

/// The tangent of the output (`node`) of the linear-algebra primitive `op`
/// from its inputs' tangents (see the reverse rule for the conventions).
fn linalg(
    op: LinalgOp,
    node: &Array,
    inputs: &[Array],
    tangents: &[Option<Array>],
) -> Result<Option<Array>> {
    let Some(da) = tangents[0].clone() else {
        return match op {
            LinalgOp::TriangularSolve { lower, unit } => match &tangents[1] {
                Some(db) => Ok(Some(tri_solve(&inputs[0], db, lower, unit)?)),
                None => Ok(None),
            },
            _ => Ok(None),
        };
    };
    Ok(Some(match op {
        LinalgOp::Householder => return Err(internal(op)),
        LinalgOp::TriangularSolve { lower, unit } => {
            let moved = matmul(&triangle(&da, lower, unit)?, node)?;
            let rhs = match &tangents[1] {
                Some(db) => subtract(db, &moved)?,
                None => negative(&moved)?,
            };
            tri_solve(&inputs[0], &rhs, lower, unit)?
        }
        LinalgOp::LuFactor => {
            let n = dims(&inputs[0]).0;
            let lu = block(node, 0..n, 0..n)?;
            let pda = take_along_axis(&da, &permutation_rows(node, n)?, -2)?;
            let y = tri_solve(&lu, &pda, true, true)?;
            // x = L⁻¹ P dA U⁻¹
            let x = mt(&tri_solve(&mt(&lu)?, &mt(&y)?, true, false)?)?;
            let l = add(&tril(&lu, -1)?, &identity(n)?)?;
            let dl = matmul(&l, &tril(&x, -1)?)?;
            let du = matmul(&triu(&x, 0)?, &triu(&lu, 0)?)?;
            let packed = add(&tril(&dl, -1)?, &du)?;
            concatenate(&[&packed, &zero_block(&packed, n, 2)?], -1)?
        }
        LinalgOp::Cholesky => {
            let l = node;
            let n = dims(l).0;
            let y = tri_solve(l, &da, true, false)?;
            let x = mt(&tri_solve(l, &mt(&y)?, true, false)?)?;
            matmul(l, &lower_half_diagonal(&x, n)?)?
        }
        LinalgOp::Qr { .. } => {
            let a = &inputs[0];
            let (q, r) = qr_parts(node, a)?;
            let (m, n) = dims(a);
            if m >= n {
                let (dq, dr) = qr_jvp(&q, &r, &da)?;
                let dr = concatenate(&[&dr, &zero_block(&dr, m - n, n)?], -2)?;
                concatenate(&[&dq, &dr], -1)?
            } else {
                // A = [X | Y]: dX moves Q and U as a square QR; V = Qᵀ Y.
                let u = block(&r, 0..m, 0..m)?;
                let (dq, du) = qr_jvp(&q, &u, &block(&da, 0..m, 0..m)?)?;
                let y = block(a, 0..m, m..n)?;
                let dv = add(
                    &matmul(&mt(&dq)?, &y)?,
                    &matmul(&mt(&q)?, &block(&da, 0..m, m..n)?)?,
                )?;
                concatenate(&[&dq, &du, &dv], -1)?
            }
        }
        LinalgOp::Eigh => {
            let n = dims(&inputs[0]).0;
            let v = block(node, 0..n, 0..n)?;
            let w = block(node, n..n + 1, 0..n)?;
            let p = matmul(&matmul(&mt(&v)?, &da)?, &v)?;
            let dw = sum(&multiply(&p, &identity(n)?)?, -2, true)?;
            let dv = matmul(&v, &multiply(&gaps_inverse(&w, n)?, &p)?)?;
            concatenate(&[&dv, &dw], -2)?
        }
        LinalgOp::Svd { full } => {
            let (m, n) = dims(&inputs[0]);
            svd_differentiable(full, m, n)?;
            let (u, v, s) = svd_parts(node, m, n)?;
            let f = gaps_inverse(&multiply(&s, &s)?, n)?;
            let dav = matmul(&da, &v)?;
            let p = matmul(&mt(&u)?, &dav)?;
            let pt = mt(&p)?;
            let st = mt(&s)?;
            let ds = sum(&multiply(&p, &identity(n)?)?, -2, true)?;
            let du_in = multiply(&f, &add(&multiply(&p, &s)?, &multiply(&st, &pt)?)?)?;
            let du = add(
                &matmul(&u, &du_in)?,
                &multiply(&subtract(&dav, &matmul(&u, &p)?)?, &reciprocal(&s)?)?,
            )?;
            let dv_in = multiply(&f, &add(&multiply(&st, &p)?, &multiply(&pt, &s)?)?)?;
            let dv = matmul(&v, &dv_in)?;
            concatenate(&[&du, &dv, &ds], -2)?
        }
    }))
}
