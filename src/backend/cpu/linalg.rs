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
use faer::{Mat, MatMut, MatRef, Side};

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
        .map(|p| MatRef::from_row_major_slice(&v[p * size..(p + 1) * size], rows, cols).to_owned())
        .collect();
    Ok((mats, rows, cols))
}

/// `blocks` (each `rows x cols`, row-major) as the node's output.
fn packed(blocks: Vec<Vec<f32>>, shape: &[usize]) -> DeviceData {
    stored(Values::F(blocks.concat()), DType::F32, shape)
}

/// A row-major block of a result, filled in parts.
struct Block {
    out: Vec<f32>,
    rows: usize,
    cols: usize,
}

impl Block {
    fn set(&mut self, i: usize, j: usize, v: f32) {
        self.out[i * self.cols + j] = v;
    }

    /// Copies `m` into the block at row `r0`, column `c0` (faer's copy,
    /// which transposes from its column-major matrices in tiles).
    fn put(&mut self, m: MatRef<'_, f32>, r0: usize, c0: usize) {
        MatMut::from_row_major_slice_mut(&mut self.out, self.rows, self.cols)
            .submatrix_mut(r0, c0, m.nrows(), m.ncols())
            .copy_from(m);
    }
}

/// A row-major `rows x cols` block of zeros with `fill` applied.
fn block(rows: usize, cols: usize, fill: impl FnOnce(&mut Block)) -> Vec<f32> {
    let mut b = Block {
        out: vec![0.0f32; rows * cols],
        rows,
        cols,
    };
    fill(&mut b);
    b.out
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
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::lu::partial_pivoting::factor::{lu_in_place, lu_in_place_scratch};
    let k = m.min(n);
    // faer's packed factors in place: L below the diagonal, U on and above.
    let mut factors = a.clone();
    let (mut fwd, mut inv) = (vec![0usize; m], vec![0usize; m]);
    let par = faer::get_global_parallelism();
    let scratch = lu_in_place_scratch::<usize, f32>(m, n, par, Default::default());
    lu_in_place(
        factors.as_mut(),
        &mut fwd,
        &mut inv,
        par,
        MemStack::new(&mut MemBuffer::new(scratch)),
        Default::default(),
    );
    let zero_pivot = (0..k).any(|i| factors[(i, i)] == 0.0);
    let (factors, perm) = if zero_pivot {
        unblocked_lu(a, m, n)
    } else {
        (factors, fwd)
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
    block(m, w, |b| {
        b.put(factors.as_ref(), 0, 0);
        for i in 0..m {
            b.set(i, n, f32::from_bits(perm[i] as u32));
            if i < k {
                b.set(i, n + 1, f32::from_bits(pivots[i] as u32));
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
        Ok(llt) => block(n, n, |b| b.put(llt.L(), 0, 0)),
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
            block(n, n, |b| b.put(l.as_ref(), 0, 0))
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
    block(n, k, |out| out.put(b.as_ref(), 0, 0))
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
    block(m, q_cols + n, |b| {
        b.put(q.as_ref(), 0, 0);
        // R is upper triangular (faer keeps zeros below its diagonal).
        b.put(r.as_ref().subrows(0, r.nrows().min(q_cols)), 0, q_cols);
    })
}

/// `(n + 1) x n`: the eigenvectors, then the eigenvalues.
fn eigh(a: &Mat<f32>, n: usize) -> Result<Vec<f32>> {
    let evd = a
        .self_adjoint_eigen(Side::Lower)
        .map_err(|e| Error::Eval(format!("eigh: {e:?}")))?;
    let values = evd.S().column_vector();
    Ok(block(n + 1, n, |b| {
        b.put(evd.U(), 0, 0);
        for j in 0..n {
            b.set(n, j, values[j]);
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
    Ok(block(m + n + 1, p, |b| {
        b.put(svd.U(), 0, 0);
        b.put(svd.V(), m, 0);
        for j in 0..n {
            b.set(m + n, j, s[j]);
        }
    }))
}
