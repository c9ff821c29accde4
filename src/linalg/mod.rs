//! Linear algebra on the GPU, with NumPy's names and semantics: every op
//! works on stacks of matrices (the last two axes), in float32 (float16
//! promoted; integer and bool inputs are refused), and is differentiable in
//! both modes wherever the function is.
//!
//! Factorizations run as WGSL kernels and never read values back: pivots
//! and convergence are decided on the GPU. So nothing here raises on a
//! singular or indefinite input; results hold non-finite values instead, as
//! each op documents, and the `*_ex` variants return an `info` array that
//! says which matrices of a stack failed.
//!
//! ```
//! use kiln::{linalg, Array};
//! let a = Array::from_slice(&[4.0f32, 1.0, 1.0, 3.0], &[2, 2])?;
//! let b = Array::from_slice(&[1.0f32, 2.0], &[2])?;
//! let x = linalg::solve(&a, &b)?;
//! # #[cfg(not(target_arch = "wasm32"))]
//! # {
//! let x = x.to_vec::<f32>()?;
//! assert!((x[0] - 1.0 / 11.0).abs() < 1e-6 && (x[1] - 7.0 / 11.0).abs() < 1e-6);
//! # }
//! # Ok::<(), kiln::Error>(())
//! ```

use crate::array::Array;
use crate::dtype::DType;
use crate::error::{bail, fmt_shape, Result};
use crate::ops::creation::{eye, lower_mask, tril, triu};
use crate::ops::elementwise::{
    abs, add, divide, equal, greater, isfinite, log, logical_not, logical_or, multiply, negative,
    power, r#where, reciprocal, remainder, sign, sqrt, square, subtract,
};
use crate::ops::index::take_along_axis;
use crate::ops::matmul::matmul;
use crate::ops::reduce::{any, argmax, max, min, prod, sum};
use crate::ops::shape::{
    broadcast_arrays, broadcast_shapes, broadcast_to, concatenate, diagonal, expand_dims,
    index_axis, moveaxis, normalize_axes, reshape_to, slice, squeeze, stack, swapaxes, Slice,
};
use crate::ops::sort::argsort;
use crate::primitive::{LinalgOp, Primitive};
use std::ops::Range;

/// float32 machine epsilon, the default relative cut-off of rank decisions.
const EPS: f32 = f32::EPSILON;

// ---------------------------------------------------------------- helpers

/// `a` as float32, refusing integer and bool arrays.
fn float32(op: &'static str, a: &Array) -> Result<Array> {
    if !a.dtype().is_float() {
        bail!(
            op,
            "expects a float array, got {}; convert it with astype",
            a.dtype()
        );
    }
    a.astype(DType::F32)
}

/// `a` as a float32 stack of matrices.
fn matrix_arg(op: &'static str, a: &Array) -> Result<Array> {
    if a.ndim() < 2 {
        bail!(
            op,
            "expects a matrix or a stack of matrices (at least 2 dimensions), got shape {}",
            fmt_shape(a.shape())
        );
    }
    float32(op, a)
}

/// `a` as a float32 stack of square matrices.
fn square_arg(op: &'static str, a: &Array) -> Result<Array> {
    let a = matrix_arg(op, a)?;
    let (m, n) = dims(&a);
    if m != n {
        bail!(
            op,
            "expects square matrices, got shape {} ({m} x {n})",
            fmt_shape(a.shape())
        );
    }
    Ok(a)
}

/// The sizes of the last two axes.
pub(crate) fn dims(a: &Array) -> (usize, usize) {
    let d = a.ndim();
    (a.shape()[d - 2], a.shape()[d - 1])
}

/// The leading (batch) axes.
pub(crate) fn batch(a: &Array) -> &[usize] {
    &a.shape()[..a.ndim() - 2]
}

/// The matrix transpose of the last two axes.
pub(crate) fn mt(a: &Array) -> Result<Array> {
    swapaxes(a, -1, -2)
}

/// Rows `rows` and columns `cols` of the last two axes.
pub(crate) fn block(a: &Array, rows: Range<usize>, cols: Range<usize>) -> Result<Array> {
    let mut slices = vec![Slice::all(); a.ndim() - 2];
    slices.push(Slice::new(
        Some(rows.start as i64),
        Some(rows.end as i64),
        None,
    ));
    slices.push(Slice::new(
        Some(cols.start as i64),
        Some(cols.end as i64),
        None,
    ));
    slice(a, &slices)
}

/// A float32 linear-algebra node.
pub(crate) fn node(op: LinalgOp, shape: Vec<usize>, inputs: Vec<Array>) -> Array {
    Array::from_primitive(shape, DType::F32, Primitive::Linalg(op), inputs)
}

/// `shape` with its last two axes replaced.
pub(crate) fn with_matrix(batch: &[usize], rows: usize, cols: usize) -> Vec<usize> {
    [batch, &[rows, cols]].concat()
}

/// The identity, broadcast over `batch`.
fn identity_like(batch: &[usize], n: usize, dtype: DType) -> Result<Array> {
    broadcast_to(&eye(n, None, 0, dtype)?, &with_matrix(batch, n, n))
}

/// A symmetric matrix from the lower triangle of `a`.
fn symmetric_from_lower(a: &Array) -> Result<Array> {
    let n = dims(a).0;
    r#where(&lower_mask(n, n, 0)?, a, &mt(a)?)
}

/// Solves `T X = B` with `T` triangular (only its `lower` or upper triangle
/// is read; its diagonal is taken as ones when `unit`). Batch axes must agree.
pub(crate) fn tri_solve(t: &Array, b: &Array, lower: bool, unit: bool) -> Result<Array> {
    Ok(node(
        LinalgOp::TriangularSolve { lower, unit },
        b.shape().to_vec(),
        vec![t.clone(), b.clone()],
    ))
}

/// `a` and `b` with their batch axes broadcast together; `b` a vector
/// (made a column, `true` returned) when it has one dimension.
fn broadcast_system(op: &'static str, a: &Array, b: &Array) -> Result<(Array, Array, bool)> {
    let b = float32(op, b)?;
    let vector = b.ndim() == 1;
    let b = if vector {
        reshape_to(&b, vec![b.size(), 1])
    } else {
        b
    };
    let n = dims(a).0;
    if dims(&b).0 != n {
        bail!(
            op,
            "a has {n} rows but b has shape {}; they must match",
            fmt_shape(b.shape())
        );
    }
    let shared = broadcast_shapes(op, batch(a), batch(&b))?;
    let a = broadcast_to(a, &with_matrix(&shared, n, dims(a).1))?;
    let k = dims(&b).1;
    let b = broadcast_to(&b, &with_matrix(&shared, n, k))?;
    Ok((a, b, vector))
}

/// Drops the column axis a vector right-hand side was given.
fn unvector(x: Array, vector: bool) -> Result<Array> {
    if vector {
        squeeze(&x, &[-1])
    } else {
        Ok(x)
    }
}

/// LAPACK's `info` from a failure mask over the last axis: 0 where nothing
/// failed, else 1 + the first index that did.
fn info_from(failed: &Array) -> Result<Array> {
    let first = argmax(&failed.astype(DType::I32)?, Some(-1), false)?;
    let one = Array::scalar(1i32);
    r#where(
        &any(failed, -1, false)?,
        &add(&first, &one)?,
        &Array::scalar(0i32),
    )
}

// ---------------------------------------------------------------- LU

/// Column `c` of a packed LU output, as int32.
pub(crate) fn int_column(packed: &Array, c: usize) -> Result<Array> {
    let rows = dims(packed).0;
    let column = squeeze(&block(packed, 0..rows, c..c + 1)?, &[-1])?;
    crate::ops::elementwise::view(&column, DType::I32)
}

/// The packed LU node of square float32 `a`.
struct Lu {
    packed: Array,
    n: usize,
}

impl Lu {
    fn of(a: &Array) -> Lu {
        let n = dims(a).0;
        let packed = node(
            LinalgOp::LuFactor,
            with_matrix(batch(a), n, n + 2),
            vec![a.clone()],
        );
        Lu { packed, n }
    }

    /// L (strictly below the diagonal) and U (on and above) in one matrix.
    fn factors(&self) -> Result<Array> {
        block(&self.packed, 0..self.n, 0..self.n)
    }

    /// `perm[i]`: the row of A that is row i of P A.
    fn permutation(&self) -> Result<Array> {
        int_column(&self.packed, self.n)
    }

    /// LAPACK's pivots: row k was swapped with row `pivots[k]` at step k.
    fn pivots(&self) -> Result<Array> {
        int_column(&self.packed, self.n + 1)
    }

    fn diagonal(&self) -> Result<Array> {
        diagonal(&self.factors()?, 0, -2, -1)
    }

    /// +1 or -1: the sign of the permutation.
    fn parity(&self) -> Result<Array> {
        let steps = crate::ops::creation::arange(0.0, self.n as f64, 1.0, DType::I32)?;
        let swaps = sum(
            &crate::ops::elementwise::not_equal(&self.pivots()?, &steps)?.astype(DType::I32)?,
            -1,
            false,
        )?;
        let odd = remainder(&swaps, &Array::scalar(2i32))?.astype(DType::F32)?;
        subtract(
            &Array::scalar(1.0f32),
            &multiply(&odd, &Array::scalar(2.0f32))?,
        )
    }

    /// X with A X = B for `b (..., n, k)` of the same batch.
    fn solve(&self, b: &Array) -> Result<Array> {
        let lu = self.factors()?;
        let rows = broadcast_to(&expand_dims(&self.permutation()?, &[-1])?, b.shape())?;
        let pb = take_along_axis(b, &rows, -2)?;
        let y = tri_solve(&lu, &pb, true, true)?;
        tri_solve(&lu, &y, false, false)
    }

    /// 1 + the first zero (or non-finite) pivot, 0 where there is none.
    fn info(&self) -> Result<Array> {
        let d = self.diagonal()?;
        info_from(&logical_or(
            &equal(&d, &Array::scalar(0.0f32))?,
            &logical_not(&isfinite(&d)?)?,
        )?)
    }
}

/// The LU factorization with partial pivoting, packed as LAPACK's `getrf`
/// (and SciPy's `lu_factor`): L below the diagonal (its unit diagonal
/// implied) and U on and above it, and the pivots (int32, 0-based: row k
/// was swapped with row `pivots[k]`). A singular matrix factors too, with
/// zeros on U's diagonal.
pub fn lu_factor(a: &Array) -> Result<(Array, Array)> {
    let lu = Lu::of(&square_arg("lu_factor", a)?);
    Ok((lu.factors()?, lu.pivots()?))
}

/// [`lu_factor`] and `info`: 0, or 1 + the first zero pivot (singular).
pub fn lu_factor_ex(a: &Array) -> Result<(Array, Array, Array)> {
    let lu = Lu::of(&square_arg("lu_factor_ex", a)?);
    Ok((lu.factors()?, lu.pivots()?, lu.info()?))
}

/// `(P, L, U)` with `A = P L U`: P a permutation matrix, L unit lower
/// triangular, U upper triangular (SciPy's and PyTorch's `lu`).
pub fn lu(a: &Array) -> Result<(Array, Array, Array)> {
    let a = square_arg("lu", a)?;
    let lu = Lu::of(&a);
    let n = lu.n;
    let factors = lu.factors()?;
    let l = add(&tril(&factors, -1)?, &eye(n, None, 0, DType::F32)?)?;
    let u = triu(&factors, 0)?;
    // P[r, c] = 1 where perm[c] = r.
    let rows = reshape_to(
        &crate::ops::creation::arange(0.0, n as f64, 1.0, DType::I32)?,
        vec![n, 1],
    );
    let p = equal(&expand_dims(&lu.permutation()?, &[-2])?, &rows)?.astype(DType::F32)?;
    Ok((p, l, u))
}

/// The solution `x` of `a @ x = b`: `b` is a vector `(n,)` or a stack of
/// right-hand sides `(..., n, k)`, batch axes broadcast (NumPy 2's rule).
/// Singular `a` gives non-finite values (see [`solve_ex`]).
pub fn solve(a: &Array, b: &Array) -> Result<Array> {
    Ok(solve_ex_named("solve", a, b)?.0)
}

/// [`solve`] and `info` per matrix: 0, or 1 + the first zero pivot of a's
/// LU factorization (singular).
pub fn solve_ex(a: &Array, b: &Array) -> Result<(Array, Array)> {
    solve_ex_named("solve_ex", a, b)
}

fn solve_ex_named(op: &'static str, a: &Array, b: &Array) -> Result<(Array, Array)> {
    let a = square_arg(op, a)?;
    let (a, b, vector) = broadcast_system(op, &a, b)?;
    let lu = Lu::of(&a);
    Ok((unvector(lu.solve(&b)?, vector)?, lu.info()?))
}

/// The inverse of each square matrix; singular ones give non-finite values
/// (see [`inv_ex`]).
pub fn inv(a: &Array) -> Result<Array> {
    Ok(inv_ex_named("inv", a)?.0)
}

/// [`inv`] and `info` per matrix: 0, or 1 + the first zero pivot (singular).
pub fn inv_ex(a: &Array) -> Result<(Array, Array)> {
    inv_ex_named("inv_ex", a)
}

fn inv_ex_named(op: &'static str, a: &Array) -> Result<(Array, Array)> {
    let a = square_arg(op, a)?;
    let lu = Lu::of(&a);
    let i = identity_like(batch(&a), lu.n, DType::F32)?;
    Ok((lu.solve(&i)?, lu.info()?))
}

/// The determinant of each square matrix (from its LU factorization).
pub fn det(a: &Array) -> Result<Array> {
    let lu = Lu::of(&square_arg("det", a)?);
    multiply(&prod(&lu.diagonal()?, -1, false)?, &lu.parity()?)
}

/// `(sign, logabsdet)` with `det = sign * exp(logabsdet)`: sign is -1, 0 or
/// 1, and a singular matrix gives `(0, -inf)`, as NumPy.
pub fn slogdet(a: &Array) -> Result<(Array, Array)> {
    let lu = Lu::of(&square_arg("slogdet", a)?);
    let d = lu.diagonal()?;
    let sign_d = prod(&sign(&d)?, -1, false)?;
    let logabs = sum(&log(&abs(&d)?)?, -1, false)?;
    Ok((multiply(&sign_d, &lu.parity()?)?, logabs))
}

// ---------------------------------------------------------------- triangular

/// Which triangular system [`solve_triangular`] solves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Triangular {
    /// Read the upper triangle (default: the lower one).
    pub upper: bool,
    /// Solve `a @ x = b` (default) or, when false, `x @ a = b`.
    pub right: bool,
    /// Take the diagonal as ones without reading it.
    pub unit_diagonal: bool,
}

impl Triangular {
    /// Solve with the lower triangle (the default).
    pub fn lower() -> Triangular {
        Triangular::default()
    }

    /// Solve with the upper triangle.
    pub fn upper() -> Triangular {
        Triangular {
            upper: true,
            ..Triangular::default()
        }
    }

    /// Solve `x @ a = b` instead of `a @ x = b`.
    pub fn right(self) -> Triangular {
        Triangular {
            right: true,
            ..self
        }
    }

    /// Take the diagonal as ones without reading it.
    pub fn unit_diagonal(self) -> Triangular {
        Triangular {
            unit_diagonal: true,
            ..self
        }
    }
}

/// The solution of a triangular system: `a @ x = b`, or `x @ a = b` with
/// [`Triangular::right`]; only the chosen triangle of `a` is read. `b` is
/// `(..., n, k)` (`(..., k, n)` on the right) or a vector `(n,)`; batch
/// axes broadcast. A zero on the diagonal gives non-finite values.
pub fn solve_triangular(a: &Array, b: &Array, how: Triangular) -> Result<Array> {
    let op = "solve_triangular";
    let a = square_arg(op, a)?;
    if how.right {
        let b = float32(op, b)?;
        let bt = if b.ndim() == 1 { b } else { mt(&b)? };
        let (at, bt, vector) = broadcast_system(op, &mt(&a)?, &bt)?;
        let x = tri_solve(&at, &bt, how.upper, how.unit_diagonal)?;
        return if vector { unvector(x, true) } else { mt(&x) };
    }
    let (a, b, vector) = broadcast_system(op, &a, b)?;
    unvector(tri_solve(&a, &b, !how.upper, how.unit_diagonal)?, vector)
}

// ---------------------------------------------------------------- Cholesky

fn cholesky_lower(op: &'static str, a: &Array) -> Result<Array> {
    let a = square_arg(op, a)?;
    Ok(node(
        LinalgOp::Cholesky,
        a.shape().to_vec(),
        vec![symmetric_from_lower(&a)?],
    ))
}

/// The Cholesky factor of symmetric positive-definite matrices, read from
/// their lower triangle: L with `a = L Lᵀ`, or `U = Lᵀ` with `a = Uᵀ U`
/// when `upper`. A matrix that is not positive definite gives NaN from the
/// first failing column on (see [`cholesky_ex`]).
pub fn cholesky(a: &Array, upper: bool) -> Result<Array> {
    let l = cholesky_lower("cholesky", a)?;
    if upper {
        mt(&l)
    } else {
        Ok(l)
    }
}

/// [`cholesky`] and `info` per matrix: 0, or the order of the first
/// leading minor that is not positive definite.
pub fn cholesky_ex(a: &Array, upper: bool) -> Result<(Array, Array)> {
    let l = cholesky_lower("cholesky_ex", a)?;
    let d = diagonal(&l, 0, -2, -1)?;
    let info = info_from(&logical_not(&isfinite(&d)?)?)?;
    Ok((if upper { mt(&l)? } else { l }, info))
}

/// The solution of `a @ x = b` given the Cholesky factor of `a` (lower, or
/// upper when `upper`), as SciPy's `cho_solve`.
pub fn cho_solve(factor: &Array, b: &Array, upper: bool) -> Result<Array> {
    let op = "cho_solve";
    let c = square_arg(op, factor)?;
    let (c, b, vector) = broadcast_system(op, &c, b)?;
    let (l, lt) = if upper {
        (mt(&c)?, c)
    } else {
        (c.clone(), mt(&c)?)
    };
    let y = tri_solve(&l, &b, true, false)?;
    unvector(tri_solve(&lt, &y, false, false)?, vector)
}

// ---------------------------------------------------------------- QR

/// Which factors [`qr`] returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum QrMode {
    /// Q `(m, k)` and R `(k, n)`, k = min(m, n).
    #[default]
    Reduced,
    /// Q `(m, m)` and R `(m, n)`.
    Complete,
}

/// The QR factorization `a = Q R` by Householder reflections: Q with
/// orthonormal columns, R upper triangular (LAPACK's signs: R's diagonal
/// may be negative).
pub fn qr(a: &Array, mode: QrMode) -> Result<(Array, Array)> {
    let a = matrix_arg("qr", a)?;
    let (m, n) = dims(&a);
    let complete = mode == QrMode::Complete;
    let k = if complete { m } else { m.min(n) };
    let out = node(
        LinalgOp::Qr { complete },
        with_matrix(batch(&a), m, k + n),
        vec![a],
    );
    Ok((block(&out, 0..m, 0..k)?, block(&out, 0..k, k..k + n)?))
}

// ---------------------------------------------------------------- eigh

/// Eigenvalues (ascending) and eigenvectors (the columns of V) of symmetric
/// matrices, read from their lower triangle: `a = V diag(w) Vᵀ`. Up to 32 x
/// 32 computed by Jacobi rotations, which give small eigenvalues to high
/// relative accuracy; up to 256 through a tridiagonal (Householder, then
/// implicit QL); larger ones reduced to a tridiagonal on many workgroups,
/// whose eigenvalues are found by bisection and eigenvectors by inverse
/// iteration.
pub fn eigh(a: &Array) -> Result<(Array, Array)> {
    let a = square_arg("eigh", a)?;
    let n = dims(&a).0;
    let out = node(
        LinalgOp::Eigh,
        with_matrix(batch(&a), n + 1, n),
        vec![symmetric_from_lower(&a)?],
    );
    let vectors = block(&out, 0..n, 0..n)?;
    let values = squeeze(&block(&out, n..n + 1, 0..n)?, &[-2])?;
    let order = argsort(&values, Some(-1))?;
    let columns = broadcast_to(&expand_dims(&order, &[-2])?, vectors.shape())?;
    Ok((
        take_along_axis(&values, &order, -1)?,
        take_along_axis(&vectors, &columns, -1)?,
    ))
}

/// The eigenvalues (ascending) of symmetric matrices (see [`eigh`]).
pub fn eigvalsh(a: &Array) -> Result<Array> {
    Ok(eigh(a).map_err(|e| e.within("eigvalsh"))?.0)
}

// ---------------------------------------------------------------- SVD

/// `(U, S, Vh)` with `a = U diag(S) Vh`, singular values descending: U
/// `(m, m)` and Vh `(n, n)` when `full_matrices`, else U `(m, k)` and Vh
/// `(k, n)`, k = min(m, n). Columns of U for zero singular values are
/// completed to an orthonormal basis. Computed by one-sided Jacobi when k
/// is at most 32 or above 256, else through a bidiagonal (Householder, then
/// implicitly shifted QR).
pub fn svd(a: &Array, full_matrices: bool) -> Result<(Array, Array, Array)> {
    let a = matrix_arg("svd", a)?;
    svd_f32(&a, full_matrices)
}

fn svd_f32(a: &Array, full: bool) -> Result<(Array, Array, Array)> {
    let (m, n) = dims(a);
    if m < n {
        // aᵀ = U' S V'ᵀ, so a = V' S U'ᵀ.
        let (u, s, vh) = svd_f32(&mt(a)?, full)?;
        return Ok((mt(&vh)?, s, mt(&u)?));
    }
    let p = if full { m } else { n };
    let out = node(
        LinalgOp::Svd { full },
        with_matrix(batch(a), m + n + 1, p),
        vec![a.clone()],
    );
    let s = squeeze(&block(&out, m + n..m + n + 1, 0..n)?, &[-2])?;
    let order = argsort(&negative(&s)?, Some(-1))?;
    let reorder = |x: &Array| {
        let columns = broadcast_to(&expand_dims(&order, &[-2])?, x.shape())?;
        take_along_axis(x, &columns, -1)
    };
    let mut u = reorder(&block(&out, 0..m, 0..n)?)?;
    if p > n {
        u = concatenate(&[&u, &block(&out, 0..m, n..p)?], -1)?;
    }
    let v = reorder(&block(&out, m..m + n, 0..n)?)?;
    Ok((u, take_along_axis(&s, &order, -1)?, mt(&v)?))
}

/// The singular values, descending (see [`svd`]).
pub fn svdvals(a: &Array) -> Result<Array> {
    Ok(svd(a, false).map_err(|e| e.within("svdvals"))?.1)
}

/// Singular values at or below `rtol * largest` (default `max(m, n) * eps`)
/// count as zero.
fn cutoff(s: &Array, m: usize, n: usize, rtol: Option<f32>) -> Result<Array> {
    let rtol = rtol.unwrap_or(m.max(n) as f32 * EPS);
    multiply(&max(s, -1, true)?, &Array::scalar(rtol))
}

/// The Moore-Penrose pseudo-inverse from the SVD; singular values at or
/// below `rtol` times the largest (default `max(m, n) * eps`) count as zero.
pub fn pinv(a: &Array, rtol: Option<f32>) -> Result<Array> {
    let a = matrix_arg("pinv", a)?;
    let (m, n) = dims(&a);
    let (u, s, vh) = svd_f32(&a, false)?;
    let keep = greater(&s, &cutoff(&s, m, n, rtol)?)?;
    let inverse = r#where(&keep, &reciprocal(&s)?, &Array::scalar(0.0f32))?;
    matmul(
        &mt(&vh)?,
        &multiply(&expand_dims(&inverse, &[-1])?, &mt(&u)?)?,
    )
}

/// What [`lstsq`] returns.
#[derive(Debug, Clone)]
pub struct Lstsq {
    /// The minimum-norm least-squares solution, `(..., n)` or `(..., n, k)`.
    pub solution: Array,
    /// Squared residual norms `|a x - b|²` per right-hand side.
    pub residuals: Array,
    /// The effective rank of each matrix (int32).
    pub rank: Array,
    /// The singular values of `a`, descending.
    pub singular_values: Array,
}

/// The least-squares solution of `a @ x = b` with the smallest norm, from
/// the SVD; singular values at or below `rcond` times the largest (default
/// `max(m, n) * eps`) count as zero. `b` is `(m,)` or `(..., m, k)`.
/// Unlike NumPy, residuals are always returned.
pub fn lstsq(a: &Array, b: &Array, rcond: Option<f32>) -> Result<Lstsq> {
    let op = "lstsq";
    let a = matrix_arg(op, a)?;
    let (a, b, vector) = broadcast_system(op, &a, b)?;
    let (m, n) = dims(&a);
    let (u, s, vh) = svd_f32(&a, false)?;
    let keep = greater(&s, &cutoff(&s, m, n, rcond)?)?;
    let inverse = r#where(&keep, &reciprocal(&s)?, &Array::scalar(0.0f32))?;
    let coefficients = multiply(&expand_dims(&inverse, &[-1])?, &matmul(&mt(&u)?, &b)?)?;
    let x = matmul(&mt(&vh)?, &coefficients)?;
    let residual = subtract(&matmul(&a, &x)?, &b)?;
    let residuals = sum(&square(&residual)?, -2, false)?;
    Ok(Lstsq {
        solution: unvector(x, vector)?,
        residuals: if vector {
            squeeze(&residuals, &[-1])?
        } else {
            residuals
        },
        rank: sum(&keep.astype(DType::I32)?, -1, false)?,
        singular_values: s,
    })
}

/// The rank of each matrix: how many singular values exceed `tol` (default
/// the largest singular value times `max(m, n) * eps`), as int32.
pub fn matrix_rank(a: &Array, tol: Option<f32>) -> Result<Array> {
    let a = matrix_arg("matrix_rank", a)?;
    let (m, n) = dims(&a);
    let s = svd_f32(&a, false)?.1;
    let tol = match tol {
        Some(t) => Array::scalar(t),
        None => cutoff(&s, m, n, None)?,
    };
    sum(&greater(&s, &tol)?.astype(DType::I32)?, -1, false)
}

// ---------------------------------------------------------------- norms

/// The order of a [`norm`]: a number (`f64::INFINITY` for inf), or the
/// Frobenius or nuclear matrix norm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NormOrd {
    /// A numbered order: any number, inf or -inf for vectors (0 counts
    /// nonzeros); 1, -1, 2, -2, inf or -inf for matrices.
    P(f64),
    /// The Frobenius norm: the square root of the sum of squares.
    Fro,
    /// The nuclear norm: the sum of the singular values.
    Nuc,
}

impl From<f64> for NormOrd {
    fn from(p: f64) -> NormOrd {
        NormOrd::P(p)
    }
}

/// Vector or matrix norms, as NumPy's `norm`: with no `axes`, a 1-D array
/// gets a vector norm, a 2-D one a matrix norm, and with no `ord` any array
/// gets the 2-norm of all its elements. One axis gives vector norms (ord
/// any number, inf, -inf, 0 counting nonzeros), two give matrix norms (ord
/// fro, nuc, 1, -1, 2, -2, inf, -inf).
pub fn norm(
    a: &Array,
    ord: Option<NormOrd>,
    axes: Option<&[i32]>,
    keepdims: bool,
) -> Result<Array> {
    let op = "norm";
    let a = float32(op, a)?;
    let axes: Vec<usize> = match axes {
        Some(axes) => normalize_axes(op, axes, a.ndim())?,
        None if ord.is_none() => {
            let total = sqrt(&sum(&square(&a)?, crate::ops::reduce::Axes::All, keepdims)?)?;
            return Ok(total);
        }
        None => match a.ndim() {
            1 => vec![0],
            2 => vec![0, 1],
            d => bail!(
                op,
                "an order needs axes for a {d}-dimensional array (or a 1-D or 2-D one)"
            ),
        },
    };
    match axes.as_slice() {
        [axis] => vector_norm_along(&a, ord.unwrap_or(NormOrd::P(2.0)), *axis as i32, keepdims),
        [r, c] if r != c => matrix_norm_along(&a, ord.unwrap_or(NormOrd::Fro), *r, *c, keepdims),
        _ => bail!(
            op,
            "axes must be one axis or two distinct axes, got {axes:?}"
        ),
    }
}

fn vector_norm_along(a: &Array, ord: NormOrd, axis: i32, keepdims: bool) -> Result<Array> {
    let x = abs(a)?;
    let NormOrd::P(p) = ord else {
        bail!(
            "norm",
            "{ord:?} is a matrix norm; vector norms take a number"
        );
    };
    if p == f64::INFINITY {
        max(&x, axis, keepdims)
    } else if p == f64::NEG_INFINITY {
        min(&x, axis, keepdims)
    } else if p == 0.0 {
        sum(
            &crate::ops::elementwise::not_equal(&x, &Array::scalar(0.0f32))?.astype(DType::F32)?,
            axis,
            keepdims,
        )
    } else if p == 1.0 {
        sum(&x, axis, keepdims)
    } else if p == 2.0 {
        sqrt(&sum(&square(&x)?, axis, keepdims)?)
    } else {
        let p32 = Array::scalar(p as f32);
        power(&sum(&power(&x, &p32)?, axis, keepdims)?, &reciprocal(&p32)?)
    }
}

fn matrix_norm_along(a: &Array, ord: NormOrd, r: usize, c: usize, keepdims: bool) -> Result<Array> {
    // The two axes last, rows then columns.
    let last = a.ndim() as i32;
    let moved = moveaxis(
        &moveaxis(a, r as i32, last - 1)?,
        if c > r { c as i32 - 1 } else { c as i32 },
        last - 1,
    )?;
    let x = abs(&moved)?;
    let value = match ord {
        NormOrd::Fro => sqrt(&sum(&square(&x)?, [-2, -1], false)?)?,
        NormOrd::Nuc => sum(&svd_f32(&moved, false)?.1, -1, false)?,
        NormOrd::P(1.0) => max(&sum(&x, -2, false)?, -1, false)?,
        NormOrd::P(-1.0) => min(&sum(&x, -2, false)?, -1, false)?,
        NormOrd::P(p) if p == f64::INFINITY => max(&sum(&x, -1, false)?, -1, false)?,
        NormOrd::P(p) if p == f64::NEG_INFINITY => min(&sum(&x, -1, false)?, -1, false)?,
        NormOrd::P(2.0) => max(&svd_f32(&moved, false)?.1, -1, false)?,
        NormOrd::P(-2.0) => min(&svd_f32(&moved, false)?.1, -1, false)?,
        NormOrd::P(p) => bail!(
            "norm",
            "matrix norms take ord fro, nuc, 1, -1, 2, -2, inf or -inf, got {p}"
        ),
    };
    if keepdims {
        let mut kept = [r as i32, c as i32];
        kept.sort();
        expand_dims(&value, &kept)
    } else {
        Ok(value)
    }
}

/// The condition number of each matrix in the norm `ord` (default 2: the
/// ratio of the largest to the smallest singular value; other orders need
/// square matrices and use [`inv`]).
pub fn cond(a: &Array, ord: Option<NormOrd>) -> Result<Array> {
    let op = "cond";
    let a = matrix_arg(op, a)?;
    match ord.unwrap_or(NormOrd::P(2.0)) {
        NormOrd::P(p) if p == 2.0 || p == -2.0 => {
            let s = svd_f32(&a, false)?.1;
            let ratio = divide(&max(&s, -1, false)?, &min(&s, -1, false)?)?;
            if p > 0.0 {
                Ok(ratio)
            } else {
                reciprocal(&ratio)
            }
        }
        ord => {
            let a = square_arg(op, &a)?;
            let d = a.ndim();
            let axes = [d as i32 - 2, d as i32 - 1];
            multiply(
                &norm(&a, Some(ord), Some(&axes), false)?,
                &norm(&inv(&a)?, Some(ord), Some(&axes), false)?,
            )
        }
    }
}

// ---------------------------------------------------------------- products

/// `a` multiplied by itself `n` times (by repeated squaring); `n = 0` gives
/// the identity and a negative `n` powers of the inverse (float only).
pub fn matrix_power(a: &Array, n: i64) -> Result<Array> {
    let op = "matrix_power";
    if a.ndim() < 2 || dims(a).0 != dims(a).1 {
        bail!(
            op,
            "expects square matrices, got shape {}",
            fmt_shape(a.shape())
        );
    }
    if a.dtype() == DType::Bool {
        bail!(
            op,
            "bool matrices cannot be multiplied; convert them with astype"
        );
    }
    let size = dims(a).0;
    if n == 0 {
        return identity_like(batch(a), size, a.dtype());
    }
    let mut base = if n < 0 { inv(a)? } else { a.clone() };
    let mut k = n.unsigned_abs();
    let mut result: Option<Array> = None;
    while k > 0 {
        if k & 1 == 1 {
            result = Some(match result {
                None => base.clone(),
                Some(r) => matmul(&r, &base)?,
            });
        }
        k >>= 1;
        if k > 0 {
            base = matmul(&base, &base)?;
        }
    }
    Ok(result.expect("n is not zero"))
}

/// The cross product of 3-vectors along `axis` (broadcasting the others).
pub fn cross(a: &Array, b: &Array, axis: i32) -> Result<Array> {
    let op = "cross";
    let arrays = broadcast_arrays(&[a, b])?;
    let (a, b) = (&arrays[0], &arrays[1]);
    if a.ndim() == 0 {
        bail!(op, "expects vectors, got scalars");
    }
    let d = normalize_axes(op, &[axis], a.ndim())?[0] as i32;
    if a.shape()[d as usize] != 3 {
        bail!(
            op,
            "expects vectors of 3 components along axis {axis}, got shape {}",
            fmt_shape(a.shape())
        );
    }
    let part = |x: &Array, i: i64| index_axis(x, d, i);
    let term = |i: i64, j: i64| -> Result<Array> {
        subtract(
            &multiply(&part(a, i)?, &part(b, j)?)?,
            &multiply(&part(a, j)?, &part(b, i)?)?,
        )
    };
    stack(&[&term(1, 2)?, &term(2, 0)?, &term(0, 1)?], d)
}
