//! The character transformer of `examples/char_transformer.rs`: token
//! embeddings plus the sinusoidal position table, pre-norm GELU transformer
//! encoder blocks with a causal mask, a layer norm and a linear head. Shared
//! with `tests/js_weights.rs`, which checks that the same model built from
//! the JavaScript modules holds and computes the same.
#![allow(dead_code)]

use kiln::nn::{
    self, losses, Embedding, Layer, LayerNorm, Linear, Module, Scope, TransformerEncoderBlock,
    TransformerOptions,
};
use kiln::{random, Array, Result};

/// The model's sizes.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Characters in the alphabet.
    pub vocab: usize,
    /// The model width.
    pub dims: usize,
    /// Attention heads per block.
    pub heads: usize,
    /// Transformer blocks.
    pub layers: usize,
    /// The longest context (rows of the position table).
    pub context: usize,
}

pub struct CharModel {
    embed: Embedding,
    blocks: Vec<TransformerEncoderBlock>,
    norm: LayerNorm,
    head: Linear,
    positions: Array,
}

impl CharModel {
    /// A model of `shape` drawn from the key of `seed`.
    pub fn new(shape: Shape, seed: u64) -> Result<CharModel> {
        let Shape {
            vocab,
            dims,
            heads,
            layers,
            context,
        } = shape;
        let keys = random::split(&random::key(seed), layers + 2)?;
        let key = |i: usize| kiln::index_axis(&keys, 0, i as i64);
        let mut options = TransformerOptions::new(dims, heads);
        options.norm_first = true;
        options.activation = nn::Activation::Gelu;
        let embed = Embedding::new(vocab, dims, &key(0)?)?;
        // Embeddings start at N(0, 1/DIMS) so that they and the positions are of a size.
        embed.weight.set(kiln::multiply(
            &embed.weight.value(),
            &Array::scalar((dims as f32).sqrt().recip()),
        )?);
        Ok(CharModel {
            embed,
            blocks: (0..layers)
                .map(|i| TransformerEncoderBlock::new(options, &key(i + 1)?))
                .collect::<Result<_>>()?,
            norm: LayerNorm::new(dims, 1e-5, true)?,
            head: Linear::new(dims, vocab, true, &key(layers + 1)?)?,
            positions: nn::sinusoidal_positions(context, dims, 10000.0)?,
        })
    }

    /// Next-character logits `(B, L, vocab)` for tokens `(B, L)`.
    pub fn logits(&self, tokens: &Array) -> Result<Array> {
        let len = tokens.shape()[1];
        let positions = kiln::slice(
            &self.positions,
            &[kiln::Slice::new(None, Some(len as i64), None)],
        )?;
        // In the embeddings' dtype (float16 under mixed precision).
        let embedded = self.embed.forward(tokens)?;
        let mut h = kiln::add(&embedded, &positions.astype(embedded.dtype())?)?;
        for block in &self.blocks {
            h = block.forward_masked(&h, None, true)?;
        }
        self.head.forward(&self.norm.forward(&h)?)
    }

    /// Mean cross-entropy (nats per character) of predicting `windows`
    /// `(B, L + 1)` one character ahead.
    pub fn loss(&self, windows: &Array) -> Result<Array> {
        let l = windows.shape()[1] as i64;
        let inputs = kiln::slice(
            windows,
            &[
                kiln::Slice::all(),
                kiln::Slice::new(None, Some(l - 1), None),
            ],
        )?;
        let targets = kiln::slice(
            windows,
            &[kiln::Slice::all(), kiln::Slice::new(Some(1), None, None)],
        )?;
        losses::cross_entropy(&self.logits(&inputs)?, &targets, Default::default())
    }
}

impl Module for CharModel {
    fn visit(&self, scope: &mut Scope) {
        scope.child("embed", &self.embed);
        for (i, block) in self.blocks.iter().enumerate() {
            scope.child(&format!("blocks.{i}"), block);
        }
        scope.child("norm", &self.norm);
        scope.child("head", &self.head);
    }
}
