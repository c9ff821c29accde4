//! Scaled dot-product attention as one primitive (see
//! [`Primitive::Attention`]), with its derivative as two more kernels, and
//! the composed forms that the transforms differentiate and that lowering
//! falls back to.

use crate::array::Array;
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::creation::tri;
use crate::ops::elementwise::{add, exp, multiply, r#where, subtract};
use crate::ops::matmul::matmul;
use crate::ops::reduce::{logsumexp, sum};
use crate::ops::shape::{concatenate, split, swapaxes, Sections};
use crate::primitive::Primitive;

/// The length of an array's last axis.
fn last(a: &Array) -> usize {
    a.shape()[a.ndim() - 1]
}

/// [`Primitive::Attention`] of `q`, `k`, `v` (float32, one batch shape)
/// and an optional additive float32 mask: `(..., Lq, Dv + 1)`, each
/// query's output then its log-sum-exp.
pub(crate) fn attention_packed(
    q: &Array,
    k: &Array,
    v: &Array,
    mask: Option<&Array>,
    scale: f64,
    causal: bool,
) -> Array {
    let mut shape = q.shape().to_vec();
    *shape.last_mut().expect("queries are matrices") = last(v) + 1;
    let mut inputs = vec![q.clone(), k.clone(), v.clone()];
    inputs.extend(mask.cloned());
    Array::from_primitive(
        shape,
        DType::F32,
        Primitive::Attention { scale, causal },
        inputs,
    )
}

/// The scores `scale q kᵀ`, with keys a causal query may not see at -∞
/// and the mask added.
fn scores(q: &Array, k: &Array, mask: Option<&Array>, scale: f64, causal: bool) -> Result<Array> {
    let scaled = multiply(q, &Array::scalar(scale as f32))?;
    let mut s = matmul(&scaled, &swapaxes(k, -1, -2)?)?;
    if causal {
        let (lq, lk) = (q.shape()[q.ndim() - 2], k.shape()[k.ndim() - 2]);
        let visible = tri(lq, Some(lk), lk as i64 - lq as i64, DType::Bool)?;
        s = r#where(&visible, &s, &Array::scalar(f32::NEG_INFINITY))?;
    }
    match mask {
        Some(m) => add(&s, m),
        None => Ok(s),
    }
}

/// [`attention_packed`] composed of primitive ops (inputs `q`, `k`, `v`
/// and the optional mask).
pub(crate) fn attention_packed_composed(
    inputs: &[Array],
    scale: f64,
    causal: bool,
) -> Result<Array> {
    let s = scores(&inputs[0], &inputs[1], inputs.get(3), scale, causal)?;
    let lse = logsumexp(&s, -1, true)?;
    let out = matmul(&exp(&subtract(&s, &lse)?)?, &inputs[2])?;
    concatenate(&[&out, &lse], -1)
}

/// [`Primitive::AttentionGrad`] of `inputs` (`q`, `k`, `v`, `stats`, the
/// output's cotangent and the optional mask).
pub(crate) fn attention_grad(inputs: &[Array], scale: f64, causal: bool, keys: bool) -> Array {
    let (q, k, v) = (&inputs[0], &inputs[1], &inputs[2]);
    let mut shape = if keys { k.shape() } else { q.shape() }.to_vec();
    if keys {
        *shape.last_mut().expect("keys are matrices") += last(v);
    }
    Array::from_primitive(
        shape,
        DType::F32,
        Primitive::AttentionGrad {
            scale,
            causal,
            keys,
        },
        inputs.to_vec(),
    )
}

/// The probabilities `p` and the scores' gradient `p (ct vᵀ - delta)`
/// from the inputs of [`Primitive::AttentionGrad`].
fn score_grads(inputs: &[Array], scale: f64, causal: bool) -> Result<(Array, Array)> {
    let (q, k, v, stats, d_out) = (&inputs[0], &inputs[1], &inputs[2], &inputs[3], &inputs[4]);
    let parts = split(stats, Sections::Count(2), -1)?;
    let s = scores(q, k, inputs.get(5), scale, causal)?;
    let p = exp(&subtract(&s, &parts[0])?)?;
    let dp = matmul(d_out, &swapaxes(v, -1, -2)?)?;
    let ds = multiply(&p, &subtract(&dp, &parts[1])?)?;
    Ok((p, ds))
}

/// [`attention_grad`] composed of primitive ops.
pub(crate) fn attention_grad_composed(
    inputs: &[Array],
    scale: f64,
    causal: bool,
    keys: bool,
) -> Result<Array> {
    let (p, ds) = score_grads(inputs, scale, causal)?;
    let (q, k, d_out) = (&inputs[0], &inputs[1], &inputs[4]);
    let scaled = |a: &Array| multiply(a, &Array::scalar(scale as f32));
    if keys {
        let dk = matmul(&swapaxes(&ds, -1, -2)?, &scaled(q)?)?;
        let dv = matmul(&swapaxes(&p, -1, -2)?, d_out)?;
        concatenate(&[&dk, &dv], -1)
    } else {
        scaled(&matmul(&ds, k)?)
    }
}

/// The cotangents of `Attention`'s inputs (`q`, `k`, `v`, and the mask
/// where there is one) that `needed` asks for, from `ct`, the cotangent of
/// its packed output `node`; the mask's before it is summed to the mask's
/// shape.
pub(crate) fn attention_vjp(
    node: &Array,
    inputs: &[Array],
    ct: &Array,
    needed: &[bool],
    scale: f64,
    causal: bool,
) -> Result<Vec<Option<Array>>> {
    let cut = Sections::Indices(vec![last(&inputs[2]) as i64]);
    let (outs, cts) = (split(node, cut.clone(), -1)?, split(ct, cut, -1)?);
    // Σ ct·out - ct_lse: the softmax's derivative and the log-sum-exp's
    // (whose gradient in the scores is the probabilities) in one term.
    let delta = subtract(&sum(&multiply(&cts[0], &outs[0])?, -1, true)?, &cts[1])?;
    let stats = concatenate(&[&outs[1], &delta], -1)?;
    let mut grad_inputs = inputs[..3].to_vec();
    grad_inputs.extend([stats, cts[0].clone()]);
    grad_inputs.extend(inputs.get(3).cloned());
    let mut grads = vec![None; inputs.len()];
    if needed[0] {
        grads[0] = Some(attention_grad(&grad_inputs, scale, causal, false));
    }
    if needed[1] || needed[2] {
        let dkv = attention_grad(&grad_inputs, scale, causal, true);
        let d = last(&inputs[0]) as i64;
        let [dk, dv]: [Array; 2] = split(&dkv, Sections::Indices(vec![d]), -1)?
            .try_into()
            .expect("two parts");
        (grads[1], grads[2]) = (Some(dk), Some(dv));
    }
    if needed.get(3) == Some(&true) {
        grads[3] = Some(score_grads(&grad_inputs, scale, causal)?.1);
    }
    Ok(grads)
}
