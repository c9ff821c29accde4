//! Reverse-mode rules: each primitive's inputs' cotangents from its output's
//! cotangent, written with public ops so that they can be differentiated
//! and batched again.

use super::derivatives::{
    self, gaps_inverse, identity, internal, lower_half_diagonal, permutation_rows,
    product_of_others, qr_parts, qr_vjp, svd_differentiable, svd_parts, triangle, unbroadcast,
    unreduce,
};
use crate::array::Array;
use crate::error::{bail, fmt_shape, Result};
use crate::linalg::{block, dims, mt, tri_solve};
use crate::ops::attention::{attention_grad_composed, attention_vjp};
use crate::ops::creation::{eye, tril, triu, zeros, zeros_like};
use crate::ops::elementwise::{
    add, divide, exp, multiply, negative, r#where, reciprocal, subtract,
};
use crate::ops::index::{scatter_add, take_along_axis};
use crate::ops::matmul::matmul;
use crate::ops::reduce::{normalize_grad, normalize_grad_composed, scan, sum, Axes};
use crate::ops::shape::{
    concatenate, expand_dims, flip, pad, reshape_to, slice, swapaxes, transpose, Slice,
};
use crate::primitive::{LinalgOp, Primitive, ReduceOp, ScanOp};

/// The cotangents of the inputs of a node that `composed` computes from
/// them as well: the derivative of a fused derivative kernel is that of
/// its composed form.
fn differentiate_composed(
    inputs: &[Array],
    ct: &Array,
    composed: impl FnOnce(&[Array]) -> Result<Array>,
) -> Result<Vec<Option<Array>>> {
    let xs: Vec<Array> = inputs.iter().map(super::trace::fresh).collect();
    let out = composed(&xs)?;
    Ok(super::backward(&xs, &[out], std::slice::from_ref(ct))?
        .into_iter()
        .map(Some)
        .collect())
}

/// The cotangents of `node`'s inputs given the cotangent `ct` of its
/// output; only those marked `needed` are computed (the rest are `None`,
/// as are inputs that carry no derivative).
pub(crate) fn backward(
    node: &Array,
    inputs: &[Array],
    ct: &Array,
    needed: &[bool],
) -> Result<Vec<Option<Array>>> {
    super::record_rule("vjp", node);
    let none = || vec![None; inputs.len()];
    Ok(match node.primitive() {
        _ if !derivatives::carries_derivative(node) => none(),
        Primitive::Unary(op) => {
            vec![derivatives::unary(*op, &inputs[0], node)?.apply(ct)?]
        }
        Primitive::Binary(op) => {
            let (da, db) = derivatives::binary(*op, &inputs[0], &inputs[1], node)?;
            let mut out = Vec::new();
            for (k, d) in [da, db].iter().enumerate() {
                out.push(match (needed[k], d.apply(ct)?) {
                    (true, Some(g)) => Some(unbroadcast(&g, inputs[k].shape())?),
                    _ => None,
                });
            }
            out
        }
        Primitive::Where => {
            let zero = Array::scalar_of(0, ct.dtype());
            let cond = &inputs[0];
            vec![
                None,
                Some(unbroadcast(&r#where(cond, ct, &zero)?, inputs[1].shape())?),
                Some(unbroadcast(&r#where(cond, &zero, ct)?, inputs[2].shape())?),
            ]
        }
        Primitive::AsType => {
            let from = inputs[0].dtype();
            vec![derivatives::differentiable(from)
                .then(|| ct.astype(from))
                .transpose()?]
        }
        Primitive::Reduce { op, axes } => {
            let x = &inputs[0];
            let spread = unreduce(ct, x.shape(), axes)?;
            vec![match op {
                ReduceOp::Sum => Some(spread),
                ReduceOp::Prod => Some(multiply(&spread, &product_of_others(x, axes)?)?),
                ReduceOp::Max | ReduceOp::Min => Some(multiply(
                    &spread,
                    &derivatives::extremum_share(x, node, axes)?,
                )?),
                _ => None,
            }]
        }
        Primitive::Softmax { log } => {
            let row_sum = |v: &Array| sum(v, Axes::from(-1), true);
            vec![Some(if *log {
                // ct - softmax(x) Σ ct
                subtract(ct, &multiply(&exp(node)?, &row_sum(ct)?)?)?
            } else {
                // y (ct - Σ ct y)
                multiply(node, &subtract(ct, &row_sum(&multiply(ct, node)?)?)?)?
            })]
        }
        Primitive::Normalize { eps, rms } => {
            vec![Some(normalize_grad(&inputs[0], ct, *eps, *rms))]
        }
        Primitive::SquaredNorm => {
            let twice = multiply(ct, &Array::scalar(2.0f32))?;
            inputs
                .iter()
                .map(|x| Ok(Some(multiply(x, &twice)?)))
                .collect::<Result<_>>()?
        }
        Primitive::NormalizeGrad { eps, rms } => {
            differentiate_composed(inputs, ct, |xs| normalize_grad_composed(&xs[0], &xs[1], *eps, *rms))?
        }
        Primitive::Attention { scale, causal } => {
            let mut grads = attention_vjp(node, inputs, ct, needed, *scale, *causal)?;
            if let Some(Some(d_scores)) = grads.get_mut(3) {
                *d_scores = unbroadcast(d_scores, inputs[3].shape())?;
            }
            grads
        }
        Primitive::AttentionGrad {
            scale,
            causal,
            keys,
        } => differentiate_composed(inputs, ct, |xs| {
            attention_grad_composed(xs, *scale, *causal, *keys)
        })?,
        Primitive::Scan { op, axis, reverse } => {
            let back = |g: &Array| scan(ScanOp::Sum, g, Some(*axis as i32), !reverse);
            vec![Some(match op {
                ScanOp::Sum => back(ct)?,
                // Σ_{i≥j} ct_i·y_i / x_j (not defined where x has zeros).
                ScanOp::Prod => divide(&back(&multiply(ct, node)?)?, &inputs[0])?,
            })]
        }
        Primitive::Reshape => vec![Some(reshape_to(ct, inputs[0].shape().to_vec()))],
        Primitive::Transpose(perm) => {
            let mut inverse = vec![0i32; perm.len()];
            for (k, &p) in perm.iter().enumerate() {
                inverse[p] = k as i32;
            }
            vec![Some(transpose(ct, &inverse)?)]
        }
        Primitive::Broadcast => vec![Some(unbroadcast(ct, inputs[0].shape())?)],
        Primitive::Slice { start, step } => {
            vec![Some(unslice(ct, inputs[0].shape(), start, step)?)]
        }
        Primitive::Diagonal {
            offset,
            axis1,
            axis2,
        } => vec![Some(undiagonal(
            ct,
            inputs[0].shape(),
            *offset,
            *axis1,
            *axis2,
        )?)],
        Primitive::Concatenate { axis } => {
            let mut at = 0;
            let mut out = Vec::new();
            for input in inputs {
                let n = input.shape()[*axis];
                let mut keep = vec![Slice::all(); ct.ndim()];
                keep[*axis] = Slice::new(Some(at as i64), Some((at + n) as i64), None);
                out.push(Some(slice(ct, &keep)?));
                at += n;
            }
            out
        }
        Primitive::Pad { low, .. } => {
            let keep: Vec<Slice> = low
                .iter()
                .zip(inputs[0].shape())
                .map(|(&l, &n)| Slice::new(Some(l as i64), Some((l + n) as i64), None))
                .collect();
            vec![Some(slice(ct, &keep)?)]
        }
        Primitive::Gather { axis } => {
            let a = &inputs[0];
            let g = scatter_add(&zeros_like(a)?, &inputs[1], ct, *axis as i32)?;
            vec![Some(g), None]
        }
        Primitive::ScatterAdd { axis } => vec![
            Some(ct.clone()),
            None,
            Some(take_along_axis(ct, &inputs[1], *axis as i32)?),
        ],
        Primitive::Matmul => {
            let (a, b) = (&inputs[0], &inputs[1]);
            let ga = needed[0]
                .then(|| unbroadcast(&matmul(ct, &swapaxes(b, -1, -2)?)?, a.shape()))
                .transpose()?;
            let gb = needed[1]
                .then(|| {
                    if b.ndim() == 2 && a.ndim() > 2 {
                        // A matrix applied to a stack (a layer's weight):
                        // one product over all the stack's rows, rather
                        // than a product per entry summed after.
                        let rows = |x: &Array| {
                            let (lead, last) = x.shape().split_at(x.ndim() - 1);
                            reshape_to(x, vec![lead.iter().product(), last[0]])
                        };
                        matmul(&swapaxes(&rows(a), -1, -2)?, &rows(ct))
                    } else {
                        unbroadcast(&matmul(&swapaxes(a, -1, -2)?, ct)?, b.shape())
                    }
                })
                .transpose()?;
            vec![ga, gb]
        }
        Primitive::Linalg(op) => linalg(*op, node, inputs, ct)?,
        Primitive::Fused(fused) => {
            // Differentiate the chain the kernel stands for.
            let xs: Vec<Array> = inputs.iter().map(super::trace::fresh).collect();
            let out = super::compile::unfuse(fused, &xs)?;
            super::backward(&xs, &[out], std::slice::from_ref(ct))?
                .into_iter()
                .map(Some)
                .collect()
        }
        Primitive::Custom(rule) => {
            let (primals, out) = inputs.split_at(inputs.len() - 1);
            let grads = (rule.backward)(primals, &out[0], ct)?;
            if grads.len() != primals.len() {
                bail!(
                    "custom_vjp",
                    "the backward rule returned {} cotangents for {} inputs",
                    grads.len(),
                    primals.len()
                );
            }
            let mut out = Vec::new();
            for (k, (g, p)) in grads.into_iter().zip(primals).enumerate() {
                if g.shape() != p.shape() {
                    bail!(
                        "custom_vjp",
                        "the backward rule's cotangent {k} has shape {}, but input {k} has shape {}",
                        fmt_shape(g.shape()),
                        fmt_shape(p.shape())
                    );
                }
                out.push(Some(g.astype(p.dtype())?));
            }
            out.push(None);
            out
        }
        // What `carries_derivative` rules out.
        _ => none(),
    })
    .map(|grads| {
        // Keep only what was asked for.
        grads
            .into_iter()
            .zip(needed)
            .map(|(g, &n)| g.filter(|_| n))
            .collect()
    })
}

/// The cotangent of a strided slice's input: `ct` spread back to the
/// positions it was taken from, zeros elsewhere.
fn unslice(ct: &Array, shape: &[usize], start: &[usize], step: &[isize]) -> Result<Array> {
    if ct.size() == 0 {
        return zeros(shape, ct.dtype());
    }
    let mut g = ct.clone();
    for d in 0..shape.len() {
        let n = ct.shape()[d];
        let stride = step[d].unsigned_abs();
        let first = if step[d] < 0 {
            g = flip(&g, &[d as i32])?;
            start[d] - (n - 1) * stride
        } else {
            start[d]
        };
        if stride > 1 {
            // Interleave stride - 1 zeros after each element.
            let mut widths = vec![(0, 0); g.ndim() + 1];
            widths[d + 1] = (0, stride - 1);
            let spaced = pad(&expand_dims(&g, &[d as i32 + 1])?, &widths, 0)?;
            let mut merged = g.shape().to_vec();
            merged[d] = n * stride;
            let mut keep = vec![Slice::all(); g.ndim()];
            keep[d] = Slice::new(None, Some(((n - 1) * stride + 1) as i64), None);
            g = slice(&reshape_to(&spaced, merged), &keep)?;
        }
        let mut widths = vec![(0, 0); g.ndim()];
        widths[d] = (first, shape[d] - first - g.shape()[d]);
        g = pad(&g, &widths, 0)?;
    }
    Ok(g)
}

/// The cotangent of a diagonal's input: `ct` on the diagonal, zeros elsewhere.
fn undiagonal(
    ct: &Array,
    shape: &[usize],
    offset: isize,
    axis1: usize,
    axis2: usize,
) -> Result<Array> {
    let (n1, n2) = (shape[axis1], shape[axis2]);
    let k = ct.shape()[ct.ndim() - 1];
    if k == 0 {
        return zeros(shape, ct.dtype());
    }
    // Put the diagonal's entries in a full (..., n1, n2) block, then keep
    // them only on the diagonal.
    let last = ct.ndim() - 1;
    let mut widths = vec![(0, 0); ct.ndim()];
    let (along, spread_axis) = if offset >= 0 { (n1, -1) } else { (n2, -2) };
    widths[last] = (0, along - k);
    let lined = expand_dims(&pad(ct, &widths, 0)?, &[spread_axis])?;
    let mask = eye(n1, Some(n2), offset as i64, crate::dtype::DType::Bool)?;
    let block = r#where(&mask, &lined, &Array::scalar_of(0, ct.dtype()))?;
    // Move the block's last two axes to axis1 and axis2.
    let rest = shape.len() - 2;
    let mut others = 0..rest;
    let perm: Vec<i32> = (0..shape.len())
        .map(|d| match d {
            _ if d == axis1 => rest as i32,
            _ if d == axis2 => rest as i32 + 1,
            _ => others.next().expect("one per other axis") as i32,
        })
        .collect();
    transpose(&block, &perm)
}

/// The cotangents of the inputs of the linear-algebra primitive `op`
/// (output `node`) from the output's cotangent `ct`. Each rule works on the
/// packed output the kernel writes (see [`LinalgOp`]); where a function has
/// no derivative the rules give non-finite values (repeated eigenvalues,
/// repeated or zero singular values, a singular matrix).
fn linalg(op: LinalgOp, node: &Array, inputs: &[Array], ct: &Array) -> Result<Vec<Option<Array>>> {
    Ok(match op {
        LinalgOp::Householder => return Err(internal(op)),
        LinalgOp::TriangularSolve { lower, unit } => {
            let t = &inputs[0];
            let gb = tri_solve(&mt(t)?, ct, !lower, unit)?;
            let gt = negative(&triangle(&matmul(&gb, &mt(node)?)?, lower, unit)?)?;
            vec![Some(gt), Some(gb)]
        }
        LinalgOp::LuFactor => {
            let n = dims(&inputs[0]).0;
            let lu = block(node, 0..n, 0..n)?;
            let c = block(ct, 0..n, 0..n)?;
            let l = add(&tril(&lu, -1)?, &identity(n)?)?;
            let u = triu(&lu, 0)?;
            let inner = add(
                &tril(&matmul(&mt(&l)?, &tril(&c, -1)?)?, -1)?,
                &triu(&matmul(&triu(&c, 0)?, &mt(&u)?)?, 0)?,
            )?;
            // (P A)̄ = L⁻ᵀ inner U⁻ᵀ, then rows back to A's order.
            let z = tri_solve(&mt(&lu)?, &inner, false, true)?;
            let w = mt(&tri_solve(&lu, &mt(&z)?, false, false)?)?;
            let rows = permutation_rows(node, n)?;
            vec![Some(scatter_add(&zeros_like(&w)?, &rows, &w, -2)?)]
        }
        LinalgOp::Cholesky => {
            let l = node;
            let n = dims(l).0;
            let p = lower_half_diagonal(&matmul(&mt(l)?, ct)?, n)?;
            let y = tri_solve(&mt(l)?, &p, false, false)?;
            let s = mt(&tri_solve(&mt(l)?, &mt(&y)?, false, false)?)?;
            let sym = multiply(&add(&s, &mt(&s)?)?, &Array::scalar(0.5f32))?;
            vec![Some(sym)]
        }
        LinalgOp::Qr { .. } => {
            let a = &inputs[0];
            let (q, r) = qr_parts(node, a)?;
            let (m, k) = dims(&q);
            let n = dims(&r).1;
            let gq = block(ct, 0..m, 0..k)?;
            let gr = block(ct, 0..k, k..k + n)?;
            if m >= n {
                vec![Some(qr_vjp(&q, &r, &gq, &gr)?)]
            } else {
                // A = [X | Y] with X square: X = Q U and R = [U | Qᵀ Y].
                let u = block(&r, 0..m, 0..m)?;
                let gv = block(&gr, 0..m, m..n)?;
                let y = block(a, 0..m, m..n)?;
                let gq = add(&gq, &matmul(&y, &mt(&gv)?)?)?;
                let gx = qr_vjp(&q, &u, &gq, &block(&gr, 0..m, 0..m)?)?;
                vec![Some(concatenate(&[&gx, &matmul(&q, &gv)?], -1)?)]
            }
        }
        LinalgOp::Eigh => {
            let n = dims(&inputs[0]).0;
            let v = block(node, 0..n, 0..n)?;
            let w = block(node, n..n + 1, 0..n)?;
            let gv = block(ct, 0..n, 0..n)?;
            let gw = block(ct, n..n + 1, 0..n)?;
            let inner = add(
                &multiply(&gw, &identity(n)?)?,
                &multiply(&gaps_inverse(&w, n)?, &matmul(&mt(&v)?, &gv)?)?,
            )?;
            vec![Some(matmul(&matmul(&v, &inner)?, &mt(&v)?)?)]
        }
        LinalgOp::Svd { full } => {
            let (m, n) = dims(&inputs[0]);
            svd_differentiable(full, m, n)?;
            let (u, v, s) = svd_parts(node, m, n)?;
            let gu = block(ct, 0..m, 0..n)?;
            let gv = block(ct, m..m + n, 0..n)?;
            let gs = block(ct, m + n..m + n + 1, 0..n)?;
            let f = gaps_inverse(&multiply(&s, &s)?, n)?;
            let utgu = matmul(&mt(&u)?, &gu)?;
            let vtgv = matmul(&mt(&v)?, &gv)?;
            let j = multiply(&f, &subtract(&utgu, &mt(&utgu)?)?)?;
            let k = multiply(&f, &subtract(&vtgv, &mt(&vtgv)?)?)?;
            let inner = add(
                &add(&multiply(&j, &s)?, &multiply(&mt(&s)?, &k)?)?,
                &multiply(&gs, &identity(n)?)?,
            )?;
            // (I - U Uᵀ) Ū S⁻¹ Vᵀ: the part of Ū outside U's span.
            let outside = multiply(&subtract(&gu, &matmul(&u, &utgu)?)?, &reciprocal(&s)?)?;
            let ga = matmul(&add(&matmul(&u, &inner)?, &outside)?, &mt(&v)?)?;
            vec![Some(ga)]
        }
    })
}
