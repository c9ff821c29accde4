//! Matrix products too large for one kernel: blocks of rows (or columns)
//! of the result, or sums of products over chunks of the inner dimension.

use crate::array::Array;
use crate::backend::limits::KernelLimits;
use crate::error::Result;
use crate::ops::elementwise::add;
use crate::ops::matmul::matmul;
use crate::ops::shape::{concatenate, slice, Slice};

/// `x` sliced to `start..stop` along `axis` (negative from the end).
fn part(x: &Array, axis: i32, start: usize, stop: usize) -> Result<Array> {
    let mut s = vec![Slice::all(); x.ndim()];
    s[(x.ndim() as i32 + axis) as usize] = Slice::new(Some(start as i64), Some(stop as i64), None);
    slice(x, &s)
}

/// The product of `a (..., m, k)` and `b (..., k, n)` in pieces, when one
/// kernel cannot compute it.
pub(super) fn split(a: &Array, b: &Array, limits: &KernelLimits) -> Result<Option<Array>> {
    let (m, k) = (a.shape()[a.ndim() - 2], a.shape()[a.ndim() - 1]);
    let n = b.shape()[b.ndim() - 1];
    let max_rows = limits.matmul_max_rows;
    if m > max_rows || n > max_rows {
        // Very tall (or wide) products: one product per block of rows (or
        // columns) of the result.
        let (x, axis, len) = if m > max_rows { (a, -2, m) } else { (b, -1, n) };
        let blocks = (0..len)
            .step_by(max_rows)
            .map(|start| {
                let piece = part(x, axis, start, (start + max_rows).min(len))?;
                if m > max_rows {
                    matmul(&piece, b)
                } else {
                    matmul(a, &piece)
                }
            })
            .collect::<Result<Vec<_>>>()?;
        return Ok(Some(concatenate(&blocks.iter().collect::<Vec<_>>(), axis)?));
    }
    if k > limits.matmul_max_k {
        // Long inner dimensions: sum products of K-chunks.
        let mut total: Option<Array> = None;
        for start in (0..k).step_by(limits.matmul_max_k) {
            let stop = (start + limits.matmul_max_k).min(k);
            let product = matmul(&part(a, -1, start, stop)?, &part(b, -2, start, stop)?)?;
            total = Some(match total {
                None => product,
                Some(t) => add(&t, &product)?,
            });
        }
        return Ok(total);
    }
    Ok(None)
}
