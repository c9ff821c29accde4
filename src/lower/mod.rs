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
use crate::ops::attention::{attention_grad_composed, attention_packed_composed};
use crate::primitive::{Primitive, ReduceOp};

/// The graph that computes `node` from its inputs in smaller pieces, or
/// `None` when one kernel can compute it.
pub(crate) fn lower(node: &Array, limits: &KernelLimits) -> Result<Option<Array>> {
    let may_lower = match node.primitive() {
        Primitive::Matmul
        | Primitive::Scan { .. }
        | Primitive::Linalg(_)
        | Primitive::Attention { .. }
        | Primitive::AttentionGrad { .. } => true,
        Primitive::Reduce { op, .. } => op.is_arg(),
        _ => false,
    };
    if !may_lower || node.size() == 0 {
        return Ok(None);
    }
    let inputs = node.inputs().clone();
    // Kernels take empty inputs, except attention on a backend without its
    // kernels.
    let no_attention_kernel = limits.attention_max_head_dim == 0
        && matches!(
            node.primitive(),
            Primitive::Attention { .. } | Primitive::AttentionGrad { .. }
        );
    if inputs.iter().any(|a| a.size() == 0) && !no_attention_kernel {
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
        Primitive::Attention { scale, causal } => attention(node, &inputs, limits, |xs| {
            attention_packed_composed(xs, *scale, *causal)
        }),
        Primitive::AttentionGrad {
            scale,
            causal,
            keys,
        } => attention(node, &inputs, limits, |xs| {
            attention_grad_composed(xs, *scale, *causal, *keys)
        }),
        _ => Ok(None),
    }
}

/// Attention (or its derivative) composed of matrix products where its
/// kernels cannot take it: rows longer than they hold in registers, or an
/// array larger than a binding.
fn attention(
    node: &Array,
    inputs: &[Array],
    limits: &KernelLimits,
    composed: impl FnOnce(&[Array]) -> Result<Array>,
) -> Result<Option<Array>> {
    let head_dim = |a: &Array| a.shape()[a.ndim() - 1];
    // A limit of 0: the backend has no attention kernel.
    let too_long = limits.attention_max_head_dim == 0
        || inputs[..3]
            .iter()
            .any(|a| head_dim(a) > limits.attention_max_head_dim);
    let too_large = std::iter::once(node)
        .chain(inputs)
        .any(|a| (a.size() * a.dtype().device_size()) as u64 > limits.max_array_bytes);
    if too_long || too_large {
        composed(inputs).map(Some)
    } else {
        Ok(None)
    }
}
