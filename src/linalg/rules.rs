//! Derivatives of the linear-algebra primitives, in both modes, written with
//! public ops (and the primitives themselves) so that they can be
//! differentiated and batched again. Each rule works on the packed output
//! the kernel writes (see [`LinalgOp`]).
//!
//! Where a function has no derivative the rules give non-finite values:
//! repeated eigenvalues (eigh), repeated or zero singular values (svd), a
//! singular matrix (LU, solve, inv, det).

use super::{batch, block, dims, mt, tri_solve, with_matrix};
use crate::array::Array;
use crate::dtype::DType;
use crate::error::{bail, Result};
use crate::ops::creation::{eye, tril, triu, zeros, zeros_like};
use crate::ops::elementwise::{add, multiply, negative, reciprocal, subtract};
use crate::ops::index::{scatter_add, take_along_axis};
use crate::ops::matmul::matmul;
use crate::ops::reduce::sum;
use crate::ops::shape::{broadcast_to, concatenate, expand_dims};
use crate::primitive::LinalgOp;

fn zero_block(like: &Array, rows: usize, cols: usize) -> Result<Array> {
    zeros(&with_matrix(batch(like), rows, cols), DType::F32)
}

/// `I` of size n (broadcasts against stacks).
fn identity(n: usize) -> Result<Array> {
    eye(n, None, 0, DType::F32)
}

/// The part of `x` a triangular solve reads.
fn triangle(x: &Array, lower: bool, unit: bool) -> Result<Array> {
    match (lower, unit) {
        (true, false) => tril(x, 0),
        (true, true) => tril(x, -1),
        (false, false) => triu(x, 0),
        (false, true) => triu(x, 1),
    }
}

/// `F[i, j] = 1 / (d[j] - d[i])` off the diagonal, 0 on it, for `d (..., 1, n)`.
fn gaps_inverse(d: &Array, n: usize) -> Result<Array> {
    let gaps = add(&subtract(d, &mt(d)?)?, &identity(n)?)?;
    subtract(&reciprocal(&gaps)?, &identity(n)?)
}

/// The LU node's permutation as int32 indices along rows, `(..., n, n)`.
fn permutation_rows(packed: &Array, n: usize) -> Result<Array> {
    let perm = super::int_column(packed, n)?;
    let shape = with_matrix(batch(packed), n, n);
    broadcast_to(&expand_dims(&perm, &[-1])?, &shape)
}

/// `x` with the lower triangle below the diagonal plus half the diagonal.
fn lower_half_diagonal(x: &Array, n: usize) -> Result<Array> {
    let half = multiply(&multiply(x, &identity(n)?)?, &Array::scalar(0.5f32))?;
    add(&tril(x, -1)?, &half)
}

/// The cotangents of the inputs of `op` (output `node`) from the output's
/// cotangent `ct`.
pub(crate) fn vjp(
    op: LinalgOp,
    node: &Array,
    inputs: &[Array],
    ct: &Array,
) -> Result<Vec<Option<Array>>> {
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

/// The tangent of `op`'s output (`node`) from its inputs' tangents.
pub(crate) fn jvp(
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

/// Blocked QR's panels exist only inside a kernel, never in a graph that
/// is differentiated.
fn internal(op: LinalgOp) -> crate::error::Error {
    crate::error::invalid(op.name(), "is internal to blocked QR and has no derivative")
}

/// Q and R of a QR node, refusing the one case without a derivative:
/// the complete factorization of a tall matrix (its extra columns of Q are
/// not unique).
fn qr_parts(node: &Array, a: &Array) -> Result<(Array, Array)> {
    let (m, n) = dims(a);
    let k = dims(node).1 - n;
    if k != m.min(n) {
        bail!(
            "qr",
            "derivatives need the reduced mode for a {m} x {n} matrix (the complete Q's extra columns are not unique)"
        );
    }
    Ok((block(node, 0..m, 0..k)?, block(node, 0..k, k..k + n)?))
}

/// The cotangent of A = Q R (m >= n, reduced) from those of Q and R:
/// (Q̄ + Q copyltu(M)) R⁻ᵀ with M = R R̄ᵀ - Q̄ᵀ Q.
fn qr_vjp(q: &Array, r: &Array, gq: &Array, gr: &Array) -> Result<Array> {
    let big_n = subtract(&matmul(gr, &mt(r)?)?, &matmul(&mt(q)?, gq)?)?;
    let copied = add(&triu(&big_n, 0)?, &mt(&triu(&big_n, 1)?)?)?;
    let w = add(gq, &matmul(q, &copied)?)?;
    mt(&tri_solve(r, &mt(&w)?, false, false)?)
}

/// The tangents of Q and R (m >= n, reduced) along dA.
fn qr_jvp(q: &Array, r: &Array, da: &Array) -> Result<(Array, Array)> {
    // D = dA R⁻¹, X = Qᵀ D, C = skew part of X's lower triangle.
    let d = mt(&tri_solve(&mt(r)?, &mt(da)?, true, false)?)?;
    let x = matmul(&mt(q)?, &d)?;
    let lower = tril(&x, -1)?;
    let c = subtract(&lower, &mt(&lower)?)?;
    let upper = subtract(&x, &c)?;
    Ok((subtract(&d, &matmul(q, &upper)?)?, matmul(&upper, r)?))
}

fn svd_differentiable(full: bool, m: usize, n: usize) -> Result<()> {
    if full && m != n {
        bail!(
            "svd",
            "derivatives need full_matrices = false for a {m} x {n} matrix (the extra singular vectors are not unique)"
        );
    }
    Ok(())
}

/// U (first n columns), V and S `(..., 1, n)` of an SVD node.
fn svd_parts(node: &Array, m: usize, n: usize) -> Result<(Array, Array, Array)> {
    Ok((
        block(node, 0..m, 0..n)?,
        block(node, m..m + n, 0..n)?,
        block(node, m + n..m + n + 1, 0..n)?,
    ))
}
