//! Batched matrix products on the CPU: float products (float16 in float32)
//! through `matrixmultiply`'s blocked kernels, float32 straight from the
//! operands' strided views; integer products in wrapping arithmetic, as
//! the kernels.

use super::{host_buffer, load, stored, HostBuffer, Int, Values};
use crate::array::DeviceData;
use crate::backend::view::broadcast_view;
use crate::dtype::DType;
use crate::error::{Error, Result};

type Operand<'a> = (&'a DeviceData, &'a [usize], DType);

/// Where each batch entry's matrix starts and its row and column strides.
struct Layout {
    starts: Vec<usize>,
    row: isize,
    col: isize,
}

impl Layout {
    /// The layout of a view whose leading axes are `batch_shape`.
    fn of(view: &DeviceData, batch_shape: &[usize]) -> Layout {
        let nb = batch_shape.len();
        let mut starts = Vec::new();
        if nb == 0 {
            starts.push(view.offset);
        } else {
            super::for_each_position(batch_shape, &view.strides[..nb], view.offset, |at| {
                starts.push(at)
            });
        }
        Layout {
            starts,
            row: view.strides[nb],
            col: view.strides[nb + 1],
        }
    }

    /// Contiguous `batches` matrices of `rows x cols`.
    fn contiguous(batches: usize, rows: usize, cols: usize) -> Layout {
        Layout {
            starts: (0..batches).map(|p| p * rows * cols).collect(),
            row: cols as isize,
            col: 1,
        }
    }
}

/// `a @ b` of `shape` (batch axes broadcast).
pub(crate) fn matmul(a: Operand, b: Operand, shape: &[usize], dtype: DType) -> Result<DeviceData> {
    let nb = shape.len() - 2;
    let (m, n) = (shape[nb], shape[nb + 1]);
    let k = a.1[a.1.len() - 1];
    let batch_shape = &shape[..nb];
    let batches: usize = batch_shape.iter().product();
    let full = |s: &[usize]| {
        let mut f = batch_shape.to_vec();
        f.extend_from_slice(&s[s.len() - 2..]);
        f
    };
    let (a_full, b_full) = (full(a.1), full(b.1));
    let a_view = broadcast_view(a.0, a.1, &a_full);
    let b_view = broadcast_view(b.0, b.1, &b_full);
    let c = if let (HostBuffer::F32(x), HostBuffer::F32(y)) =
        (host_buffer(a.0, "matmul")?, host_buffer(b.0, "matmul")?)
    {
        let (la, lb) = (
            Layout::of(&a_view, batch_shape),
            Layout::of(&b_view, batch_shape),
        );
        Values::F(float_products(x, &la, y, &lb, (m, n, k)))
    } else {
        // The operands as contiguous values of their compute type first.
        let (la, lb) = (
            Layout::contiguous(batches, m, k),
            Layout::contiguous(batches, k, n),
        );
        match (
            load(&a_view, &a_full, "matmul")?,
            load(&b_view, &b_full, "matmul")?,
        ) {
            (Values::F(x), Values::F(y)) => Values::F(float_products(&x, &la, &y, &lb, (m, n, k))),
            (Values::I(x), Values::I(y)) => Values::I(int_products(&x, &y, batches, (m, n, k))),
            (Values::U(x), Values::U(y)) => Values::U(int_products(&x, &y, batches, (m, n, k))),
            _ => return Err(Error::Eval("matmul: operands of two dtypes".into())),
        }
    };
    Ok(stored(c, dtype, shape))
}

/// The contiguous products of every batch entry of `a` and `b` in float32.
fn float_products(
    a: &[f32],
    la: &Layout,
    b: &[f32],
    lb: &Layout,
    (m, n, k): (usize, usize, usize),
) -> Vec<f32> {
    let batches = la.starts.len();
    if m * n == 0 {
        return vec![0.0f32; batches * m * n];
    }
    // A stack of matrices times one matrix (a layer's weight), the stack's
    // rows evenly spaced: one product of all the rows.
    let one_rhs = lb.starts.iter().all(|&s| s == lb.starts[0]);
    let stacked = la
        .starts
        .iter()
        .enumerate()
        .all(|(p, &s)| s as isize == la.starts[0] as isize + (p * m) as isize * la.row);
    if batches > 1 && one_rhs && stacked {
        let rows = Layout {
            starts: vec![la.starts[0]],
            row: la.row,
            col: la.col,
        };
        let rhs = Layout {
            starts: vec![lb.starts[0]],
            row: lb.row,
            col: lb.col,
        };
        return float_products(a, &rows, b, &rhs, (batches * m, n, k));
    }
    let mut c = vec![0.0f32; batches * m * n];
    for (out, (&ao, &bo)) in c.chunks_mut(m * n).zip(la.starts.iter().zip(&lb.starts)) {
        // SAFETY: every element the strides reach from a batch entry's start
        // (rows below m, columns below k for A; k and n for B) is an element
        // of the evaluated operand, inside its buffer; `out` holds m x n.
        unsafe {
            matrixmultiply::sgemm(
                m,
                k,
                n,
                1.0,
                a.as_ptr().add(ao),
                la.row,
                la.col,
                b.as_ptr().add(bo),
                lb.row,
                lb.col,
                0.0,
                out.as_mut_ptr(),
                n as isize,
                1,
            );
        }
    }
    c
}

/// Integer products of contiguous operands (wrapping).
fn int_products<T: Int>(
    a: &[T],
    b: &[T],
    batches: usize,
    (m, n, k): (usize, usize, usize),
) -> Vec<T> {
    let mut c = vec![T::ZERO; batches * m * n];
    for p in 0..batches {
        let (a, b) = (&a[p * m * k..], &b[p * k * n..]);
        for i in 0..m {
            let row = &mut c[(p * m + i) * n..(p * m + i + 1) * n];
            for q in 0..k {
                let x = a[i * k + q];
                for (j, r) in row.iter_mut().enumerate() {
                    *r = r.wrapping_add(x.wrapping_mul(b[q * n + j]));
                }
            }
        }
    }
    c
}
