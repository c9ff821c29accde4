//! Large matrices: blocked algorithms whose kernels factor narrow panels and
//! whose updates are matrix products on the fast matmul. The factorizations
//! of [`LinalgOp`] lower into these graphs above the backend's
//! `linalg_blocked_from`; the primitives keep their derivative rules, as
//! the graphs are only how they are computed.

use crate::array::Array;
use crate::backend::limits::{KernelLimits, NARROW_RHS};
use crate::dtype::DType;
use crate::error::Result;
use crate::linalg::{batch, block, dims, int_column, mt, node, tri_solve, with_matrix};
use crate::ops::creation::{arange, eye, tril, triu, zeros};
use crate::ops::elementwise::{add, subtract, view};
use crate::ops::index::take_along_axis;
use crate::ops::matmul::matmul;
use crate::ops::shape::{broadcast_to, concatenate, expand_dims, slice, Slice};
use crate::primitive::LinalgOp;
use std::ops::Range;

/// Panel width of Cholesky, QR and triangular solves: the columns one
/// kernel factors at a time (LU's is the backend's `lu_panel`).
const BLOCK: usize = 32;

/// The blocked graph computing `op` on `inputs`, when they are large.
pub(super) fn expand(
    op: LinalgOp,
    inputs: &[Array],
    limits: &KernelLimits,
) -> Result<Option<Array>> {
    let (m, n) = dims(&inputs[0]);
    let blocked_from = limits.linalg_blocked_from;
    let triangular_blocked_from = match inputs.get(1) {
        Some(b) if dims(b).1 <= NARROW_RHS => limits.narrow_triangular_blocked_from,
        _ => blocked_from,
    };
    Ok(match op {
        LinalgOp::LuFactor if m == n && n > limits.lu_blocked_from => {
            Some(lu(&inputs[0], limits.lu_panel)?)
        }
        LinalgOp::Cholesky if n > blocked_from => Some(cholesky(&inputs[0])?),
        LinalgOp::Qr { complete } if m.min(n) > blocked_from => Some(qr(&inputs[0], complete)?),
        LinalgOp::TriangularSolve { lower, unit } if n > triangular_blocked_from => {
            Some(triangular(&inputs[0], &inputs[1], lower, unit)?)
        }
        _ => None,
    })
}

/// The blocks `0..n` in steps of `width`.
fn blocks(n: usize, width: usize) -> Vec<Range<usize>> {
    (0..n)
        .step_by(width)
        .map(|k| k..(k + width).min(n))
        .collect()
}

/// `x[..., range]` along the last axis.
fn last(x: &Array, range: Range<usize>) -> Result<Array> {
    let mut slices = vec![Slice::all(); x.ndim() - 1];
    slices.push(Slice::new(
        Some(range.start as i64),
        Some(range.end as i64),
        None,
    ));
    slice(x, &slices)
}

fn join(parts: &[Array], axis: i32) -> Result<Array> {
    concatenate(&parts.iter().collect::<Vec<_>>(), axis)
}

/// Right-looking blocked Cholesky: factor a diagonal block, solve for the
/// panel below it, subtract its outer product from the rest.
fn cholesky(a: &Array) -> Result<Array> {
    let n = dims(a).0;
    let bt = batch(a).to_vec();
    let mut rest = a.clone();
    let mut columns = Vec::new();
    for range in blocks(n, BLOCK) {
        let (k, b, r) = (range.start, range.len(), n - range.start);
        let a11 = block(&rest, 0..b, 0..b)?;
        let l11 = node(LinalgOp::Cholesky, with_matrix(&bt, b, b), vec![a11]);
        let mut column = Vec::new();
        if k > 0 {
            column.push(zeros(&with_matrix(&bt, k, b), DType::F32)?);
        }
        column.push(l11.clone());
        if r > b {
            let a21 = block(&rest, b..r, 0..b)?;
            let l21 = mt(&tri_solve(&l11, &mt(&a21)?, true, false)?)?;
            rest = subtract(&block(&rest, b..r, b..r)?, &matmul(&l21, &mt(&l21)?)?)?;
            column.push(l21);
        }
        columns.push(join(&column, -2)?);
    }
    join(&columns, -1)
}

/// Right-looking blocked LU with partial pivoting: a kernel factors each
/// tall panel (choosing its pivots among all remaining rows), the rows are
/// permuted, a triangular solve gives U's block row and a matrix product
/// updates the rest. Returns the packed layout of [`LinalgOp::LuFactor`].
fn lu(a: &Array, panel: usize) -> Result<Array> {
    let n = dims(a).0;
    let bt = batch(a).to_vec();
    let mut rest = a.clone();
    // L's columns so far, for the rows not yet final.
    let mut lower: Option<Array> = None;
    // The row of A each remaining row came from.
    let mut order = broadcast_to(
        &arange(0.0, n as f64, 1.0, DType::I32)?,
        &[&bt[..], &[n]].concat(),
    )?;
    let (mut rows, mut perm, mut pivots) = (Vec::new(), Vec::new(), Vec::new());
    for range in blocks(n, panel) {
        let (k, b, r) = (range.start, range.len(), n - range.start);
        let columns = block(&rest, 0..r, 0..b)?;
        let packed = node(
            LinalgOp::LuFactor,
            with_matrix(&bt, r, b + 2),
            vec![columns],
        );
        let lu_p = block(&packed, 0..r, 0..b)?;
        let perm_p = int_column(&packed, b)?;
        let by_rows =
            |cols: usize| broadcast_to(&expand_dims(&perm_p, &[-1])?, &with_matrix(&bt, r, cols));
        order = take_along_axis(&order, &perm_p, -1)?;
        let mut top = Vec::new();
        if let Some(l) = &lower {
            let l = take_along_axis(l, &by_rows(k)?, -2)?;
            top.push(block(&l, 0..b, 0..k)?);
            lower = Some(l);
        }
        top.push(block(&lu_p, 0..b, 0..b)?);
        if r > b {
            let right = take_along_axis(&block(&rest, 0..r, b..r)?, &by_rows(r - b)?, -2)?;
            let u12 = tri_solve(
                &block(&lu_p, 0..b, 0..b)?,
                &block(&right, 0..b, 0..r - b)?,
                true,
                true,
            )?;
            let l21 = block(&lu_p, b..r, 0..b)?;
            rest = subtract(&block(&right, b..r, 0..r - b)?, &matmul(&l21, &u12)?)?;
            top.push(u12);
            lower = Some(match &lower {
                Some(l) => join(&[block(l, b..r, 0..k)?, l21], -1)?,
                None => l21,
            });
        }
        rows.push(join(&top, -1)?);
        perm.push(last(&order, 0..b)?);
        order = last(&order, b..r)?;
        let piv_p = last(&int_column(&packed, b + 1)?, 0..b)?;
        pivots.push(add(&piv_p, &Array::scalar(k as i32))?);
    }
    let column = |parts: &[Array]| -> Result<Array> {
        view(&expand_dims(&join(parts, -1)?, &[-1])?, DType::F32)
    };
    join(&[join(&rows, -2)?, column(&perm)?, column(&pivots)?], -1)
}

/// Blocked substitution: each diagonal block by the kernel, after
/// subtracting the product of the blocks solved so far.
fn triangular(t: &Array, b: &Array, lower: bool, unit: bool) -> Result<Array> {
    let n = dims(t).0;
    let k = dims(b).1;
    let mut order = blocks(n, BLOCK);
    if !lower {
        order.reverse();
    }
    // The rows solved so far, contiguous: 0..done (lower) or done..n (upper).
    let mut solved: Option<(Range<usize>, Array)> = None;
    for range in order {
        let mut rhs = block(b, range.clone(), 0..k)?;
        if let Some((rows, x)) = &solved {
            rhs = subtract(&rhs, &matmul(&block(t, range.clone(), rows.clone())?, x)?)?;
        }
        let diagonal = block(t, range.clone(), range.clone())?;
        let x = tri_solve(&diagonal, &rhs, lower, unit)?;
        solved = Some(match solved {
            None => (range, x),
            Some((rows, done)) if lower => (rows.start..range.end, join(&[done, x], -2)?),
            Some((rows, done)) => (range.start..rows.end, join(&[x, done], -2)?),
        });
    }
    Ok(solved.expect("n > 0").1)
}

/// Blocked Householder QR with the compact WY form: a kernel factors each
/// panel into R, its reflectors V and T (H_0 ... H_{b-1} = I - V T Vᵀ),
/// whose transpose updates the columns to its right with matrix products;
/// Q is the reflectors applied to the identity's first k columns, last
/// panel first. Returns the packed layout of [`LinalgOp::Qr`].
fn qr(a: &Array, complete: bool) -> Result<Array> {
    let (m, n) = dims(a);
    let bt = batch(a).to_vec();
    let k = if complete { m } else { m.min(n) };
    let mut rest = a.clone();
    let mut panels = Vec::new();
    let mut r_rows = Vec::new();
    for range in blocks(m.min(n), BLOCK) {
        let (j, b, r) = (range.start, range.len(), m - range.start);
        let columns = n - j;
        let panel = block(&rest, 0..r, 0..b)?;
        let packed = node(
            LinalgOp::Householder,
            with_matrix(&bt, r, 2 * b),
            vec![panel],
        );
        let t = triu(&block(&packed, 0..b, 0..b)?, 0)?;
        let factor = block(&packed, 0..r, b..2 * b)?;
        let v = add(&tril(&factor, -1)?, &eye(r, Some(b), 0, DType::F32)?)?;
        let mut row = Vec::new();
        if j > 0 {
            row.push(zeros(&with_matrix(&bt, b, j), DType::F32)?);
        }
        row.push(triu(&block(&factor, 0..b, 0..b)?, 0)?);
        if columns > b {
            // (I - V T Vᵀ)ᵀ C = C - V Tᵀ (Vᵀ C)
            let c = block(&rest, 0..r, b..columns)?;
            let update = matmul(&v, &matmul(&mt(&t)?, &matmul(&mt(&v)?, &c)?)?)?;
            let c = subtract(&c, &update)?;
            row.push(block(&c, 0..b, 0..columns - b)?);
            rest = block(&c, b..r, 0..columns - b)?;
        }
        r_rows.push(join(&row, -1)?);
        panels.push((j, v, t));
    }
    let mut r_factor = join(&r_rows, -2)?;
    if k > m.min(n) {
        r_factor = join(
            &[
                r_factor,
                zeros(&with_matrix(&bt, k - m.min(n), n), DType::F32)?,
            ],
            -2,
        )?;
    }
    let mut q = broadcast_to(&eye(m, Some(k), 0, DType::F32)?, &with_matrix(&bt, m, k))?;
    for (j, v, t) in panels.into_iter().rev() {
        let below = block(&q, j..m, 0..k)?;
        let update = matmul(&v, &matmul(&t, &matmul(&mt(&v)?, &below)?)?)?;
        let below = subtract(&below, &update)?;
        q = if j > 0 {
            join(&[block(&q, 0..j, 0..k)?, below], -2)?
        } else {
            below
        };
    }
    // R has k rows; the packed layout pads them to m.
    if k < m {
        r_factor = join(
            &[r_factor, zeros(&with_matrix(&bt, m - k, n), DType::F32)?],
            -2,
        )?;
    }
    join(&[q, r_factor], -1)
}
