//! Lowering: the one step between the graph and the backend. A node that
//! one kernel of the backend cannot compute (a matrix product with too many
//! rows or too long an inner dimension, a scan or an arg-reduction over too
//! long an axis, a large factorization) is rewritten into a graph of smaller
//! primitives over the same inputs, given the backend's [`KernelLimits`] as
//! data. The scheduler encodes that graph in the node's place.
//!
//! Derivative rules never see lowered graphs: the transforms work on the
//! high-level primitives, and lowering happens only at evaluation.

mod linalg;
mod matmul;
mod reduce;

use crate::array::Array;
use crate::backend::limits::KernelLimits;
use crate::error::Result;
use crate::primitive::{Primitive, ReduceOp};

/// The graph that computes `node` from its inputs in smaller pieces, or
/// `None` when one kernel can compute it.
pub(crate) fn lower(node: &Array, limits: &KernelLimits) -> Result<Option<Array>> {
    let may_lower = match node.primitive() {
        Primitive::Matmul | Primitive::Scan { .. } | Primitive::Linalg(_) => true,
        Primitive::Reduce { op, .. } => op.is_arg(),
        _ => false,
    };
    if !may_lower || node.size() == 0 {
        return Ok(None);
    }
    let inputs = node.inputs().clone();
    if inputs.iter().any(|a| a.size() == 0) {
        return Ok(None);
    }
    match node.primitive() {
        Primitive::Matmul => matmul::split(&inputs[0], &inputs[1], limits),
        Primitive::Scan { op, axis, reverse } => {
            reduce::long_scan(*op, &inputs[0], *axis, *reverse, limits)
        }
        Primitive::Reduce { op, axes } if op.is_arg() => {
            let arg_max = *op == ReduceOp::ArgMax;
            reduce::long_arg_reduce(arg_max, &inputs[0], axes[0], limits)
        }
        Primitive::Linalg(op) => linalg::expand(*op, &inputs, limits),
        _ => Ok(None),
    }
}
