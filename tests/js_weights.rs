//! Weights move between Rust and JavaScript: a small model shaped as
//! `examples/char_transformer.rs`'s (embedding, pre-norm transformer
//! blocks with a causal mask, layer norm, linear head) is drawn from a fixed
//! key, and its weights, with its logits for fixed tokens in the metadata,
//! are `tests/fixtures/char_model.safetensors`. `www/test/node.test.mjs`
//! builds the same model from JS modules, checks that it draws the same
//! weights, loads the file and compares the logits.
//!
//! The file is checked against a fresh computation here, and rewritten with
//! `KILN_BLESS=1 cargo test --test js_weights`.

use kiln::nn::{
    self, Activation, Embedding, Layer, LayerNorm, Linear, Module, Scope, TransformerEncoderBlock,
    TransformerOptions,
};
use kiln::{random, Array, Result};
use std::collections::HashMap;

const VOCAB: usize = 11;
const DIMS: usize = 16;
const HEADS: usize = 2;
const LAYERS: usize = 2;
const CONTEXT: usize = 8;

struct CharModel {
    embed: Embedding,
    blocks: Vec<TransformerEncoderBlock>,
    norm: LayerNorm,
    head: Linear,
}

impl CharModel {
    /// Drawn as the example draws its model.
    fn new(seed: u64) -> Result<CharModel> {
        let keys = random::split(&random::key(seed), LAYERS + 2)?;
        let key = |i: usize| kiln::index_axis(&keys, 0, i as i64);
        let mut options = TransformerOptions::new(DIMS, HEADS);
        options.norm_first = true;
        options.activation = Activation::Gelu;
        let embed = Embedding::new(VOCAB, DIMS, &key(0)?)?;
        embed.weight.set(kiln::multiply(
            &embed.weight.value(),
            &Array::scalar((DIMS as f32).sqrt().recip()),
        )?);
        Ok(CharModel {
            embed,
            blocks: (0..LAYERS)
                .map(|i| TransformerEncoderBlock::new(options, &key(i + 1)?))
                .collect::<Result<_>>()?,
            norm: LayerNorm::new(DIMS, 1e-5, true)?,
            head: Linear::new(DIMS, VOCAB, true, &key(LAYERS + 1)?)?,
        })
    }

    fn logits(&self, tokens: &Array) -> Result<Array> {
        let len = tokens.shape()[1];
        let positions = nn::sinusoidal_positions(len, DIMS, 10000.0)?;
        let mut h = kiln::add(&self.embed.forward(tokens)?, &positions)?;
        for block in &self.blocks {
            h = block.forward_masked(&h, None, true)?;
        }
        self.head.forward(&self.norm.forward(&h)?)
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

const TOKENS: [[i32; CONTEXT]; 2] = [[1, 2, 3, 4, 5, 6, 7, 8], [10, 0, 3, 3, 9, 1, 4, 2]];

fn json(values: &[f32]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:e}")).collect();
    format!("[{}]", items.join(","))
}

#[test]
fn the_char_model_fixture_is_what_rust_computes() {
    let model = CharModel::new(5).unwrap();
    let flat: Vec<i32> = TOKENS.iter().flatten().copied().collect();
    let tokens = Array::from_slice(&flat, &[2, CONTEXT]).unwrap();
    let logits = model.logits(&tokens).unwrap().to_vec::<f32>().unwrap();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/char_model.safetensors"
    );
    if std::env::var("KILN_BLESS").is_ok_and(|v| v == "1") {
        let metadata = HashMap::from([
            ("tokens".to_string(), format!("{:?}", TOKENS)),
            ("logits".to_string(), json(&logits)),
            (
                "shape".to_string(),
                format!("[2, {CONTEXT}, {VOCAB}] logits of a model of {DIMS} dims, {HEADS} heads, {LAYERS} pre-norm GELU blocks, causal, drawn from key 5"),
            ),
        ]);
        kiln::io::save_safetensors(path, &model.parameters(), Some(metadata)).unwrap();
    }
    let (stored, metadata) = kiln::io::load_safetensors(path).unwrap();
    let fresh = model.parameters();
    assert_eq!(
        stored.keys().collect::<Vec<_>>(),
        fresh.keys().collect::<Vec<_>>()
    );
    for (name, a) in &fresh {
        assert_eq!(
            stored[name].to_vec::<f32>().unwrap(),
            a.to_vec::<f32>().unwrap(),
            "{name} drifted from the fixture (KILN_BLESS=1 rewrites it)"
        );
    }
    let expected: Vec<f32> = serde_json::from_str(&metadata["logits"]).unwrap();
    assert_eq!(expected.len(), logits.len());
    for (i, (e, g)) in expected.iter().zip(&logits).enumerate() {
        assert!(
            (e - g).abs() <= 1e-5 * (1.0 + e.abs()),
            "logit {i}: {g}, the fixture {e}"
        );
    }
}
