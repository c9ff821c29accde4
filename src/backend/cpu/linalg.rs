//! Linear algebra on the CPU through faer, each matrix of a batch in turn,
//! packed as the kernels pack their results (see [`LinalgOp`]). Where faer
//! stops (a zero pivot, a matrix that is not positive definite) the
//! factorization goes on as the kernels do: an LU leaves a zero pivot's
//! column as it is, and a Cholesky factor is NaN from the failing column on.

use super::{load, stored, Values};
use crate::array::DeviceData;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::primitive::LinalgOp;
use faer::{Mat, MatRef, Side};

type Operand<'a> = (&'a DeviceData, &'a [usize], DType);

/// The float32 matrices of an operand, each `rows x cols`.
fn matrices(input: Operand, op: &str) -> Result<(Vec<Mat<f32>>, usize, usize)> {
    let shape = input.1;
    let (rows, cols) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    let Values::F(v) = load(input.0, shape, op)? else {
        return Err(Error::Eval(format!("{op} needs float32 matrices")));
    };
    let size = rows * cols;
    let count: usize = shape[..shape.len() - 2].iter().product();
    let mats = (0..count)
        .map(|p| Mat::from_fn(rows, cols, |i, j| v[p * size + i * cols + j]))
        .collect();
    Ok((mats, rows, cols))
}

/// `blocks` (each `rows x cols`, row-major) as the node's output.
fn packed(blocks: Vec<Vec<f32>>, shape: &[usize]) -> DeviceData {
    stored(Values::F(blocks.concat()), DType::F32, shape)
}

/// A row-major `rows x cols` block with `fill` called for each part.
fn block(
    rows: usize,
    cols: usize,
    fill: impl FnOnce(&mut dyn FnMut(usize, usize, f32)),
) -> Vec<f32> {
    let mut out = vec![0.0f32; rows * cols];
    fill(&mut |i, j, v| out[i * cols + j] = v);
    out
}

/// Copies `m` into the block at row `r0`, column `c0`.
fn put(set: &mut dyn FnMut(usize, usize, f32), m: MatRef<'_, f32>, r0: usize, c0: usize) {
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            set(r0 + i, c0 + j, m[(i, j)]);
        }
    }
}

/// The node `op` over `inputs`, of `shape`.
pub(crate) fn encode(op: LinalgOp, inputs: &[Operand], shape: &[usize]) -> Result<DeviceData> {
    let name = op.name();
    let (mats, m, n) = matrices(inputs[0], name)?;
    let blocks: Vec<Vec<f32>> = match op {
        LinalgOp::LuFactor => mats.iter().map(|a| lu(a, m, n)).collect(),
        LinalgOp::Cholesky => mats.iter().map(|a| cholesky(a, n)).collect(),
        LinalgOp::TriangularSolve { lower, unit } => {
            let (rhs, _, k) = matrices(inputs[1], name)?;
            mats.iter()
                .zip(rhs)
                .map(|(t, b)| triangular_solve(t, b, lower, unit, k))
                .collect()
        }
        LinalgOp::Qr { complete } => mats.iter().map(|a| qr(a, m, n, complete)).collect(),
        LinalgOp::Eigh => mats
            .iter()
            .map(|a| eigh(a, n))
            .collect::<Result<Vec<_>>>()?,
        LinalgOp::Svd { full } => mats
            .iter()
            .map(|a| svd(a, m, n, full))
            .collect::<Result<Vec<_>>>()?,
        // Only blocked QR makes these, and the CPU factors whole matrices.
        LinalgOp::Householder => {
            return Err(Error::Eval(format!(
                "{name}: not a primitive of the CPU backend"
            )))
        }
    };
    Ok(packed(blocks, shape))
}

/// `m x (n + 2)`: L and U packed, the permutation (`perm[i]`: the row of A
/// at row i of P A) and the LAPACK pivots, as int32 bits.
fn lu(a: &Mat<f32>, m: usize, n: usize) -> Vec<f32> {
    let k = m.min(n);
    let lu = a.partial_piv_lu();
    let (l, u) = (lu.L(), lu.U());
    let zero_pivot = (0..k).any(|i| u[(i, i)] == 0.0);
    let (factors, perm) = if zero_pivot {
        unblocked_lu(a, m, n)
    } else {
        let mut f = Mat::<f32>::zeros(m, n);
        for i in 0..m {
            for j in 0..n {
                f[(i, j)] = if j < i { l[(i, j)] } else { u[(i, j)] };
            }
        }
        (f, lu.P().arrays().0.to_vec())
    };
    // The swaps that give `perm`, one per step: LAPACK's pivots.
    let mut at: Vec<usize> = (0..m).collect();
    let mut row_of = at.clone();
    let mut pivots = vec![0usize; k];
    for step in 0..k {
        let j = row_of[perm[step]];
        pivots[step] = j;
        at.swap(step, j);
        row_of[at[step]] = step;
        row_of[at[j]] = j;
    }
    let w = n + 2;
    block(m, w, |set| {
        put(set, factors.as_ref(), 0, 0);
        for i in 0..m {
            set(i, n, f32::from_bits(perm[i] as u32));
            if i < k {
                set(i, n + 1, f32::from_bits(pivots[i] as u32));
            }
        }
    })
}

/// LU with partial pivoting column by column, leaving a zero pivot's
/// column as it is: the packed factors and the permutation.
fn unblocked_lu(a: &Mat<f32>, m: usize, n: usize) -> (Mat<f32>, Vec<usize>) {
    let mut f = a.clone();
    let mut perm: Vec<usize> = (0..m).collect();
    for k in 0..m.min(n) {
        let p = (k..m)
            .max_by(|&x, &y| f[(x, k)].abs().total_cmp(&f[(y, k)].abs()).then(y.cmp(&x)))
            .expect("a row");
        if p != k {
            for j in 0..n {
                let t = f[(k, j)];
                f[(k, j)] = f[(p, j)];
                f[(p, j)] = t;
            }
            perm.swap(k, p);
        }
        let pivot = f[(k, k)];
        if pivot == 0.0 {
            continue;
        }
        for i in k + 1..m {
            let l = f[(i, k)] / pivot;
            f[(i, k)] = l;
            for j in k + 1..n {
                f[(i, j)] -= l * f[(k, j)];
            }
        }
    }
    (f, perm)
}

/// The lower Cholesky factor, zeros above; NaN from the first column whose
/// pivot is not positive on.
fn cholesky(a: &Mat<f32>, n: usize) -> Vec<f32> {
    match a.llt(Side::Lower) {
        Ok(llt) => block(n, n, |set| put(set, llt.L(), 0, 0)),
        Err(_) => {
            let mut l = Mat::<f32>::zeros(n, n);
            for j in 0..n {
                let d = a[(j, j)] - (0..j).map(|q| l[(j, q)] * l[(j, q)]).sum::<f32>();
                // NaN stays NaN: every later column reads this one.
                let d = if d > 0.0 { d.sqrt() } else { f32::NAN };
                l[(j, j)] = d;
                for i in j + 1..n {
                    l[(i, j)] =
                        (a[(i, j)] - (0..j).map(|q| l[(i, q)] * l[(j, q)]).sum::<f32>()) / d;
                }
            }
            block(n, n, |set| put(set, l.as_ref(), 0, 0))
        }
    }
}

/// `X` with `T X = B`, reading only T's triangle (and not its diagonal when
/// `unit`).
fn triangular_solve(t: &Mat<f32>, mut b: Mat<f32>, lower: bool, unit: bool, k: usize) -> Vec<f32> {
    let n = t.nrows();
    match (lower, unit) {
        (true, false) => t.solve_lower_triangular_in_place(b.as_mut()),
        (true, true) => t.solve_unit_lower_triangular_in_place(b.as_mut()),
        (false, false) => t.solve_upper_triangular_in_place(b.as_mut()),
        (false, true) => t.solve_unit_upper_triangular_in_place(b.as_mut()),
    }
    block(n, k, |set| put(set, b.as_ref(), 0, 0))
}

/// `m x (q + n)`: Q (`q` columns: m when `complete`, else min(m, n)) beside R
/// (`q` rows).
fn qr(a: &Mat<f32>, m: usize, n: usize, complete: bool) -> Vec<f32> {
    let q_cols = if complete { m } else { m.min(n) };
    let qr = a.qr();
    let (q, r) = if complete {
        (qr.compute_Q(), qr.R().to_owned())
    } else {
        (qr.compute_thin_Q(), qr.thin_R().to_owned())
    };
    block(m, q_cols + n, |set| {
        put(set, q.as_ref(), 0, 0);
        for i in 0..r.nrows().min(q_cols) {
            for j in i..n {
                set(i, q_cols + j, r[(i, j)]);
            }
        }
    })
}

/// `(n + 1) x n`: the eigenvectors, then the eigenvalues.
fn eigh(a: &Mat<f32>, n: usize) -> Result<Vec<f32>> {
    let evd = a
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| Error::Eval(format!("eigh: {e:?}")))?;
    let values = evd.S().column_vector();
    Ok(block(n + 1, n, |set| {
        put(set, evd.U(), 0, 0);
        for j in 0..n {
            set(n, j, values[j]);
        }
    }))
}

/// `(m + n + 1) x p` for `m >= n`: U (`p` columns: m when `full`, else n),
/// V, then the singular values.
fn svd(a: &Mat<f32>, m: usize, n: usize, full: bool) -> Result<Vec<f32>> {
    let p = if full { m } else { n };
    let svd = if full { a.svd() } else { a.thin_svd() }
        .map_err(|e| Error::Eval(format!("svd: {e:?}")))?;
    let s = svd.S().column_vector();
    Ok(block(m + n + 1, p, |set| {
        put(set, svd.U(), 0, 0);
        put(set, svd.V(), m, 0);
        for j in 0..n {
            set(m + n, j, s[j]);
        }
    }))
}
