//! Attention and transformers: scaled dot-product attention, multi-head
//! attention, a transformer encoder block, rotary and sinusoidal position
//! encodings.

use super::activations::Activation;
use super::linear::Linear;
use super::module::{Layer, Module, Scope};
use super::norm::{Dropout, LayerNorm};
use crate::array::Array;
use crate::dtype::{promote, DType};
use crate::error::{bail, fmt_shape, Result};
use crate::ops::creation::arange;
use crate::ops::elementwise::{add, cos, exp, multiply, not_equal, r#where, sin, subtract};
use crate::ops::matmul::outer;
use crate::ops::random;
use crate::ops::shape::{
    broadcast_shapes, broadcast_to, concatenate, expand_dims, reshape, reshape_to, split, squeeze,
    stack, swapaxes, Sections,
};

/// `softmax(q kᵀ · scale + mask) v` over the last two axes: `q`
/// `(..., Lq, D)`, `k` `(..., Lk, D)`, `v` `(..., Lk, Dv)`; `scale`
/// defaults to `1/√D`. `mask` broadcasts to `(..., Lq, Lk)`: a bool mask
/// keeps the `true` entries, a float mask is added to the scores. `causal`
/// lets query `i` see keys `j ≤ i + Lk - Lq` (the last query sees every
/// key, as with a cache of earlier keys; for `Lq = Lk` this is PyTorch's
/// `is_causal`). A query that may see no key at all gets NaN, as in
/// PyTorch.
///
/// It runs as one kernel, as FlashAttention does (a running softmax over
/// tiles of keys: no `(Lq, Lk)` score matrix in memory), and its gradient
/// as two (the queries', and the keys' with the values'); float16
/// operands compute in float32 and the result comes back in float16.
/// Rows longer than the kernels hold in registers (D or Dv above 128), and
/// CPU adapters, run the same composed of matrix products and a softmax.
pub fn scaled_dot_product_attention(
    q: &Array,
    k: &Array,
    v: &Array,
    scale: Option<f64>,
    mask: Option<&Array>,
    causal: bool,
) -> Result<Array> {
    let op = "scaled_dot_product_attention";
    for x in [q, k, v] {
        if !x.dtype().is_float() {
            bail!(
                op,
                "expected float queries, keys and values, got {}",
                x.dtype()
            );
        }
    }
    if q.ndim() < 2 || k.ndim() < 2 || v.ndim() < 2 {
        bail!(op, "queries, keys and values need at least 2 dimensions");
    }
    let d = q.shape()[q.ndim() - 1];
    let (lq, lk) = (q.shape()[q.ndim() - 2], k.shape()[k.ndim() - 2]);
    if k.shape()[k.ndim() - 1] != d || v.shape()[v.ndim() - 2] != lk {
        bail!(
            op,
            "queries {}, keys {} and values {} do not fit together",
            fmt_shape(q.shape()),
            fmt_shape(k.shape()),
            fmt_shape(v.shape())
        );
    }
    let scale = scale.unwrap_or(1.0 / (d.max(1) as f64).sqrt());
    let dtype = promote(promote(q.dtype(), k.dtype()), v.dtype());
    let dv = v.shape()[v.ndim() - 1];
    // One kernel over float32 operands of one batch shape; the mask
    // additive, with its own batch axes (1 where it broadcasts).
    let mask = match mask {
        Some(m) if m.dtype() == DType::Bool => Some(r#where(
            m,
            &Array::scalar(0.0f32),
            &Array::scalar(f32::NEG_INFINITY),
        )?),
        Some(m) => Some(m.astype(DType::F32)?),
        None => None,
    };
    let batch_of = |a: &Array| a.shape()[..a.ndim().saturating_sub(2)].to_vec();
    let mut batch = broadcast_shapes(op, &batch_of(q), &batch_of(k))?;
    batch = broadcast_shapes(op, &batch, &batch_of(v))?;
    if let Some(m) = &mask {
        batch = broadcast_shapes(op, &batch, &batch_of(m))?;
    }
    let operand = |a: &Array, rows: usize, cols: usize| {
        broadcast_to(
            &a.astype(DType::F32)?,
            &[&batch[..], &[rows, cols]].concat(),
        )
    };
    let (q, k, v) = (operand(q, lq, d)?, operand(k, lk, d)?, operand(v, lk, dv)?);
    let mask = match mask {
        Some(m) => {
            // (batch axes, 1 or Lq, Lk), with leading axes of 1 added.
            let lead = batch.len() + 2 - m.ndim().min(batch.len() + 2);
            let padded = reshape_to(&m, [&vec![1; lead][..], m.shape()].concat());
            let rows = padded.shape()[batch.len()];
            let kept = if rows == 1 { 1 } else { lq };
            let full = [&padded.shape()[..batch.len()], &[kept, lk]].concat();
            Some(broadcast_to(&padded, &full)?)
        }
        None => None,
    };
    let packed = if [lq, lk, d, dv].contains(&0) {
        let mut inputs = vec![q, k, v];
        inputs.extend(mask);
        crate::ops::attention::attention_packed_composed(&inputs, scale, causal)?
    } else {
        crate::ops::attention::attention_packed(&q, &k, &v, mask.as_ref(), scale, causal)
    };
    split(&packed, Sections::Indices(vec![dv as i64]), -1)?
        .swap_remove(0)
        .astype(dtype)
}

/// A bool mask `(B, 1, 1, L)` for attention from `key_mask` `(B, L)`
/// (non-zero or `true`: a real token; zero or `false`: padding).
pub fn padding_mask(key_mask: &Array) -> Result<Array> {
    if key_mask.ndim() != 2 {
        bail!(
            "padding_mask",
            "expected a key mask (batch, length), got shape {}",
            fmt_shape(key_mask.shape())
        );
    }
    let keep = if key_mask.dtype() == DType::Bool {
        key_mask.clone()
    } else {
        not_equal(key_mask, &Array::scalar_of(0, key_mask.dtype()))?
    };
    expand_dims(&keep, &[1, 2])
}

/// Multi-head attention (Vaswani et al. 2017) on `(B, L, dims)` inputs,
/// with separate query, key, value and output projections.
#[derive(Debug, Clone)]
pub struct MultiHeadAttention {
    /// The number of heads; each attends over `dims / heads` features.
    pub heads: usize,
    /// The query projection, `dims` to `dims`.
    pub query_proj: Linear,
    /// The key projection, `dims` to `dims`.
    pub key_proj: Linear,
    /// The value projection, `dims` to `dims`.
    pub value_proj: Linear,
    /// The output projection, `dims` to `dims`.
    pub out_proj: Linear,
}

impl MultiHeadAttention {
    /// `heads` heads over `dims` features (`dims` a multiple of `heads`),
    /// with biases in the projections when `bias`; `key` seeds them.
    pub fn new(dims: usize, heads: usize, bias: bool, key: &Array) -> Result<MultiHeadAttention> {
        if heads == 0 || !dims.is_multiple_of(heads) {
            bail!(
                "MultiHeadAttention",
                "{dims} dimensions cannot be split into {heads} heads"
            );
        }
        let keys = random::split(key, 4)?;
        let proj = |i| {
            Linear::new(
                dims,
                dims,
                bias,
                &crate::ops::shape::index_axis(&keys, 0, i)?,
            )
        };
        Ok(MultiHeadAttention {
            heads,
            query_proj: proj(0)?,
            key_proj: proj(1)?,
            value_proj: proj(2)?,
            out_proj: proj(3)?,
        })
    }

    /// `(B, L, dims)` to `(B, heads, L, dims / heads)`.
    fn split_heads(&self, x: &Array) -> Result<Array> {
        let (b, l, dims) = (
            x.shape()[0] as i64,
            x.shape()[1] as i64,
            x.shape()[2] as i64,
        );
        let heads = self.heads as i64;
        swapaxes(&reshape(x, &[b, l, heads, dims / heads])?, 1, 2)
    }

    /// Attention of `queries` `(B, Lq, dims)` to `keys` and `values`
    /// `(B, Lk, dims)`; `mask` as in [`scaled_dot_product_attention`],
    /// broadcasting to `(B, heads, Lq, Lk)` (see [`padding_mask`]).
    pub fn attend(
        &self,
        queries: &Array,
        keys: &Array,
        values: &Array,
        mask: Option<&Array>,
        causal: bool,
    ) -> Result<Array> {
        for (name, x) in [("queries", queries), ("keys", keys), ("values", values)] {
            if x.ndim() != 3 {
                bail!(
                    "MultiHeadAttention",
                    "{name} must be (batch, length, dims), got shape {}",
                    fmt_shape(x.shape())
                );
            }
        }
        let q = self.split_heads(&self.query_proj.forward(queries)?)?;
        let k = self.split_heads(&self.key_proj.forward(keys)?)?;
        let v = self.split_heads(&self.value_proj.forward(values)?)?;
        let o = scaled_dot_product_attention(&q, &k, &v, None, mask, causal)?;
        let (b, lq) = (queries.shape()[0] as i64, queries.shape()[1] as i64);
        let dims = self.out_proj.input_dims() as i64;
        let o = reshape(&swapaxes(&o, 1, 2)?, &[b, lq, dims])?;
        self.out_proj.forward(&o)
    }
}

impl Module for MultiHeadAttention {
    fn visit(&self, scope: &mut Scope) {
        scope.child("query_proj", &self.query_proj);
        scope.child("key_proj", &self.key_proj);
        scope.child("value_proj", &self.value_proj);
        scope.child("out_proj", &self.out_proj);
    }
}

impl Layer for MultiHeadAttention {
    /// Self-attention without a mask.
    fn forward(&self, x: &Array) -> Result<Array> {
        self.attend(x, x, x, None, false)
    }
}

/// A transformer encoder block: self-attention and a two-layer MLP, each
/// with a residual connection and layer norm, after (`norm_first = false`,
/// the original design and PyTorch's default) or before the sublayer.
#[derive(Debug)]
pub struct TransformerEncoderBlock {
    /// The self-attention sublayer.
    pub attention: MultiHeadAttention,
    /// The layer norm of the attention sublayer.
    pub norm1: LayerNorm,
    /// The layer norm of the MLP sublayer.
    pub norm2: LayerNorm,
    /// The MLP's first layer, `dims` to `mlp_dims`.
    pub linear1: Linear,
    /// The MLP's second layer, `mlp_dims` to `dims`.
    pub linear2: Linear,
    /// Dropout after the attention, inside the MLP and after it.
    pub dropout: Dropout,
    /// The MLP's activation.
    pub activation: Activation,
    /// Whether the norms come before the sublayers (pre-norm).
    pub norm_first: bool,
}

/// The shape of a [`TransformerEncoderBlock`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransformerOptions {
    /// The model width: features of the input and output.
    pub dims: usize,
    /// The number of attention heads (`dims` must be a multiple).
    pub heads: usize,
    /// The width of the MLP's hidden layer.
    pub mlp_dims: usize,
    /// The drop probability of the block's dropout.
    pub dropout: f64,
    /// The MLP's activation.
    pub activation: Activation,
    /// Whether the norms come before the sublayers (pre-norm).
    pub norm_first: bool,
    /// The layer norms' `eps`.
    pub norm_eps: f64,
}

impl TransformerOptions {
    /// `dims` wide with `heads` heads, an MLP 4× as wide, no dropout, ReLU,
    /// post-norm, `eps = 1e-5` (PyTorch's defaults but for dropout).
    pub fn new(dims: usize, heads: usize) -> TransformerOptions {
        TransformerOptions {
            dims,
            heads,
            mlp_dims: 4 * dims,
            dropout: 0.0,
            activation: Activation::Relu,
            norm_first: false,
            norm_eps: 1e-5,
        }
    }
}

impl TransformerEncoderBlock {
    /// A block shaped by `options`, its weights seeded by `key`.
    pub fn new(options: TransformerOptions, key: &Array) -> Result<TransformerEncoderBlock> {
        let o = options;
        let keys = random::split(key, 4)?;
        let key_at = |i| crate::ops::shape::index_axis(&keys, 0, i);
        Ok(TransformerEncoderBlock {
            attention: MultiHeadAttention::new(o.dims, o.heads, true, &key_at(0)?)?,
            norm1: LayerNorm::new(o.dims, o.norm_eps, true)?,
            norm2: LayerNorm::new(o.dims, o.norm_eps, true)?,
            linear1: Linear::new(o.dims, o.mlp_dims, true, &key_at(1)?)?,
            linear2: Linear::new(o.mlp_dims, o.dims, true, &key_at(2)?)?,
            dropout: Dropout::new(o.dropout, &key_at(3)?)?,
            activation: o.activation,
            norm_first: o.norm_first,
        })
    }

    /// The block on `x` `(B, L, dims)` with an attention mask (see
    /// [`MultiHeadAttention::attend`]).
    pub fn forward_masked(&self, x: &Array, mask: Option<&Array>, causal: bool) -> Result<Array> {
        let attend = |h: &Array| {
            let a = self.attention.attend(h, h, h, mask, causal)?;
            self.dropout.forward(&a)
        };
        let mlp = |h: &Array| {
            let hidden = self.activation.apply(&self.linear1.forward(h)?)?;
            let out = self.linear2.forward(&self.dropout.forward(&hidden)?)?;
            self.dropout.forward(&out)
        };
        if self.norm_first {
            let x = add(x, &attend(&self.norm1.forward(x)?)?)?;
            add(&x, &mlp(&self.norm2.forward(&x)?)?)
        } else {
            let x = self.norm1.forward(&add(x, &attend(x)?)?)?;
            self.norm2.forward(&add(&x, &mlp(&x)?)?)
        }
    }
}

impl Module for TransformerEncoderBlock {
    fn visit(&self, scope: &mut Scope) {
        scope.child("attention", &self.attention);
        scope.child("norm1", &self.norm1);
        scope.child("norm2", &self.norm2);
        scope.child("linear1", &self.linear1);
        scope.child("linear2", &self.linear2);
        scope.child("dropout", &self.dropout);
    }
}

impl Layer for TransformerEncoderBlock {
    fn forward(&self, x: &Array) -> Result<Array> {
        self.forward_masked(x, None, false)
    }
}

/// Rotary position embeddings (Su et al. 2021) on the first `dims`
/// features of `(..., L, D)` inputs: feature pairs turn by `position · θᵢ`,
/// `θᵢ = base^(-2i/dims)`. Pairs are the two halves of the features (MLX's
/// default, GPT-NeoX) or, when `traditional`, neighbours (the paper).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rope {
    /// How many leading features turn (even); the rest pass through.
    pub dims: usize,
    /// Whether pairs are neighbouring features rather than the two halves.
    pub traditional: bool,
    /// The base of the angular frequencies (10000 in most models).
    pub base: f64,
}

impl Rope {
    /// Turns the first `dims` features (even and positive) with
    /// frequencies of `base`; see [`Rope`] for `traditional`.
    pub fn new(dims: usize, traditional: bool, base: f64) -> Result<Rope> {
        if dims == 0 || !dims.is_multiple_of(2) {
            bail!(
                "RoPE",
                "the rotated dimensions must be even and positive, got {dims}"
            );
        }
        Ok(Rope {
            dims,
            traditional,
            base,
        })
    }

    /// Rotates `x` whose positions start at `offset`.
    pub fn forward_at(&self, x: &Array, offset: usize) -> Result<Array> {
        let nd = x.ndim();
        if nd < 2 || x.shape()[nd - 1] < self.dims || !x.dtype().is_float() {
            bail!(
                "RoPE",
                "expected float inputs (..., length, >= {} features), got {} {}",
                self.dims,
                x.dtype(),
                fmt_shape(x.shape())
            );
        }
        let (len, half) = (x.shape()[nd - 2], self.dims / 2);
        let positions = arange(offset as f64, (offset + len) as f64, 1.0, DType::F32)?;
        let theta: Vec<f32> = (0..half)
            .map(|i| self.base.powf(-2.0 * i as f64 / self.dims as f64) as f32)
            .collect();
        // In float32 whatever x is: float16 cannot hold large angles.
        let angles = outer(&positions, &Array::from_slice(&theta, &[half])?)?;
        let (c, s) = (
            cos(&angles)?.astype(x.dtype())?,
            sin(&angles)?.astype(x.dtype())?,
        );
        let parts = split(x, Sections::Indices(vec![self.dims as i64]), -1)?;
        let (rotated, rest) = (&parts[0], &parts[1]);
        let turn = |x1: &Array, x2: &Array| -> Result<(Array, Array)> {
            Ok((
                subtract(&multiply(x1, &c)?, &multiply(x2, &s)?)?,
                add(&multiply(x1, &s)?, &multiply(x2, &c)?)?,
            ))
        };
        let turned = if self.traditional {
            let mut pair_shape: Vec<i64> = rotated.shape()[..nd - 1]
                .iter()
                .map(|&d| d as i64)
                .collect();
            pair_shape.extend([half as i64, 2]);
            let pairs = split(&reshape(rotated, &pair_shape)?, Sections::Count(2), -1)?;
            let (y1, y2) = turn(&squeeze(&pairs[0], &[-1])?, &squeeze(&pairs[1], &[-1])?)?;
            let y = stack(&[&y1, &y2], -1)?;
            let shape: Vec<i64> = rotated.shape().iter().map(|&d| d as i64).collect();
            reshape(&y, &shape)?
        } else {
            let halves = split(rotated, Sections::Count(2), -1)?;
            let (y1, y2) = turn(&halves[0], &halves[1])?;
            concatenate(&[&y1, &y2], -1)?
        };
        if rest.shape()[nd - 1] == 0 {
            Ok(turned)
        } else {
            concatenate(&[&turned, rest], -1)
        }
    }
}

impl Module for Rope {
    fn visit(&self, _: &mut Scope) {}
}

impl Layer for Rope {
    fn forward(&self, x: &Array) -> Result<Array> {
        self.forward_at(x, 0)
    }
}

/// The sinusoidal position table of Vaswani et al. (2017), `(length,
/// dims)`: `sin(p ωᵢ)` in the first half of the features and `cos(p ωᵢ)`
/// in the second, `ωᵢ = base^(-i / (dims / 2))`.
pub fn sinusoidal_positions(length: usize, dims: usize, base: f64) -> Result<Array> {
    if dims == 0 || !dims.is_multiple_of(2) {
        bail!(
            "sinusoidal_positions",
            "dims must be even and positive, got {dims}"
        );
    }
    let half = dims / 2;
    let positions = arange(0.0, length as f64, 1.0, DType::F32)?;
    let steps = arange(0.0, half as f64, 1.0, DType::F32)?;
    let omega = exp(&multiply(
        &steps,
        &Array::scalar((-base.ln() / half as f64) as f32),
    )?)?;
    let angles = outer(&positions, &omega)?;
    concatenate(&[&sin(&angles)?, &cos(&angles)?], -1)
}
