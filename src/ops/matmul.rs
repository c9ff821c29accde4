//! Matrix products: matmul (batched, broadcasting), outer, inner, tensordot.

use crate::array::Array;
use crate::dtype::{promote, DType};
use crate::error::{bail, fmt_shape, Result};
use crate::ops::elementwise::multiply;
use crate::ops::shape::{
    broadcast_shapes, flatten, normalize_axes, reshape_to, squeeze, transpose,
};
use crate::primitive::Primitive;

/// The matrix product with NumPy's rules: 1-D operands become a row (left)
/// or column (right) and lose that axis again; leading axes broadcast.
///
/// ```
/// let a = kiln::Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
/// let b = kiln::matmul(&a, &a)?;
/// # #[cfg(not(target_arch = "wasm32"))]
/// assert_eq!(b.to_vec::<f32>()?, vec![7.0, 10.0, 15.0, 22.0]);
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn matmul(a: &Array, b: &Array) -> Result<Array> {
    if a.ndim() == 0 || b.ndim() == 0 {
        bail!("matmul", "scalar operands are not allowed; use multiply");
    }
    let dtype = promote(a.dtype(), b.dtype());
    if dtype == DType::Bool {
        bail!(
            "matmul",
            "bool arrays cannot be multiplied; convert them with astype"
        );
    }
    let a2 = if a.ndim() == 1 {
        reshape_to(a, vec![1, a.size()])
    } else {
        a.clone()
    };
    let b2 = if b.ndim() == 1 {
        reshape_to(b, vec![b.size(), 1])
    } else {
        b.clone()
    };
    let (m, k) = (a2.shape()[a2.ndim() - 2], a2.shape()[a2.ndim() - 1]);
    let (k2, n) = (b2.shape()[b2.ndim() - 2], b2.shape()[b2.ndim() - 1]);
    if k != k2 {
        bail!(
            "matmul",
            "shapes {} and {} cannot be multiplied",
            fmt_shape(a.shape()),
            fmt_shape(b.shape())
        );
    }
    let batch = broadcast_shapes(
        "matmul",
        &a2.shape()[..a2.ndim() - 2],
        &b2.shape()[..b2.ndim() - 2],
    )?;
    let (a2, b2) = (a2.astype(dtype)?, b2.astype(dtype)?);
    let mut shape = batch;
    shape.extend([m, n]);
    let mut out = Array::from_primitive(shape, dtype, Primitive::Matmul, vec![a2, b2]);
    if b.ndim() == 1 {
        out = squeeze(&out, &[-1])?;
    }
    if a.ndim() == 1 {
        out = squeeze(&out, &[if b.ndim() == 1 { -1 } else { -2 }])?;
    }
    Ok(out)
}

/// The outer product of the flattened inputs.
pub fn outer(a: &Array, b: &Array) -> Result<Array> {
    let a = reshape_to(&flatten(a)?, vec![a.size(), 1]);
    let b = reshape_to(&flatten(b)?, vec![1, b.size()]);
    multiply(&a, &b)
}

/// Sums products over the last axes of `a` and `b`; 0-d operands multiply.
pub fn inner(a: &Array, b: &Array) -> Result<Array> {
    if a.ndim() == 0 || b.ndim() == 0 {
        return multiply(a, b);
    }
    let (k, k2) = (a.shape()[a.ndim() - 1], b.shape()[b.ndim() - 1]);
    if k != k2 {
        bail!(
            "inner",
            "last dimensions differ: {} and {}",
            fmt_shape(a.shape()),
            fmt_shape(b.shape())
        );
    }
    tensordot(a, b, TensorAxes::Pairs(vec![-1], vec![-1]))
}

/// Which axes [`tensordot`] contracts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TensorAxes {
    /// The last `n` axes of `a` with the first `n` of `b`.
    Count(usize),
    /// These axes of `a` with these of `b`, pairwise.
    Pairs(Vec<i32>, Vec<i32>),
}

/// Sums products over the given axes of `a` and `b` (NumPy's `tensordot`).
pub fn tensordot(a: &Array, b: &Array, axes: TensorAxes) -> Result<Array> {
    let (ax_a, ax_b) = match axes {
        TensorAxes::Count(n) => {
            if n > a.ndim() || n > b.ndim() {
                bail!(
                    "tensordot",
                    "cannot contract {n} axes of arrays of dimensions {} and {}",
                    a.ndim(),
                    b.ndim()
                );
            }
            (
                (a.ndim() - n..a.ndim()).collect::<Vec<_>>(),
                (0..n).collect::<Vec<_>>(),
            )
        }
        TensorAxes::Pairs(x, y) => {
            if x.len() != y.len() {
                bail!(
                    "tensordot",
                    "axes lists must have the same length: {x:?} and {y:?}"
                );
            }
            (
                normalize_axes("tensordot", &x, a.ndim())?,
                normalize_axes("tensordot", &y, b.ndim())?,
            )
        }
    };
    for (&x, &y) in ax_a.iter().zip(&ax_b) {
        if a.shape()[x] != b.shape()[y] {
            bail!(
                "tensordot",
                "shape mismatch for sum: {} (axis {x}) and {} (axis {y})",
                fmt_shape(a.shape()),
                fmt_shape(b.shape())
            );
        }
    }
    let free_a: Vec<usize> = (0..a.ndim()).filter(|d| !ax_a.contains(d)).collect();
    let free_b: Vec<usize> = (0..b.ndim()).filter(|d| !ax_b.contains(d)).collect();
    let k: usize = ax_a.iter().map(|&d| a.shape()[d]).product();
    let m: usize = free_a.iter().map(|&d| a.shape()[d]).product();
    let n: usize = free_b.iter().map(|&d| b.shape()[d]).product();
    let perm_a: Vec<i32> = free_a.iter().chain(&ax_a).map(|&d| d as i32).collect();
    let perm_b: Vec<i32> = ax_b.iter().chain(&free_b).map(|&d| d as i32).collect();
    let a2 = reshape_to(&transpose(a, &perm_a)?, vec![m, k]);
    let b2 = reshape_to(&transpose(b, &perm_b)?, vec![k, n]);
    let mut shape: Vec<usize> = free_a.iter().map(|&d| a.shape()[d]).collect();
    shape.extend(free_b.iter().map(|&d| b.shape()[d]));
    Ok(reshape_to(&matmul(&a2, &b2)?, shape))
}
