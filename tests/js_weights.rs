//! Weights move between Rust and JavaScript: `examples/char_transformer.rs`'s
//! model (embedding, pre-norm transformer blocks with a causal mask, layer
//! norm, linear head), small, is drawn from a fixed key, and its weights, with its logits for fixed tokens in the metadata,
//! are `tests/fixtures/char_model.safetensors`. `www/test/node.test.mjs`
//! builds the same model from JS modules, checks that it draws the same
//! weights, loads the file and compares the logits.
//!
//! The file is checked against a fresh computation here, and rewritten with
//! `KILN_BLESS=1 cargo test --test js_weights`.

#[path = "../examples/char_model/mod.rs"]
mod char_model;

use char_model::{CharModel, Shape};
use kiln::nn::Module;
use kiln::Array;
use std::collections::HashMap;

const CONTEXT: usize = 8;

/// Small, so that the fixture is too.
const SHAPE: Shape = Shape {
    vocab: 11,
    dims: 16,
    heads: 2,
    layers: 2,
    context: CONTEXT,
};

const TOKENS: [[i32; CONTEXT]; 2] = [[1, 2, 3, 4, 5, 6, 7, 8], [10, 0, 3, 3, 9, 1, 4, 2]];

fn json(values: &[f32]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:e}")).collect();
    format!("[{}]", items.join(","))
}

#[test]
fn the_char_model_fixture_is_what_rust_computes() {
    let model = CharModel::new(SHAPE, 5).unwrap();
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
                format!("[2, {CONTEXT}, {}] logits of the example's model shaped {SHAPE:?}, drawn from key 5", SHAPE.vocab),
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
