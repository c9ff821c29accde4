//! A multilayer perceptron on the scikit-learn digits (1797 8x8 images,
//! `examples/data/digits.safetensors`): 64 -> 128 -> 10 with ReLU, Adam with
//! cosine learning-rate decay, cross-entropy; prints progress per epoch, reaches about 97% test
//! accuracy, then saves and reloads its weights with safetensors.
//!
//! Run with `cargo run --release --example digits_mlp [epochs] [--f16]` (`--f16`:
//! float16 compute, float32 weights and optimizer state).

mod common;

use kiln::nn::{Activation, Flatten, Linear, Sequential};
use kiln::random;

fn mlp(seed: u64) -> kiln::Result<Sequential> {
    let keys = random::split(&random::key(seed), 2)?;
    let key = |i| kiln::index_axis(&keys, 0, i);
    Ok(Sequential::new()
        .push(Flatten)
        .push(Linear::new(64, 128, true, &key(0)?)?)
        .push(Activation::Relu)
        .push(Linear::new(128, 10, true, &key(1)?)?))
}

fn main() -> kiln::Result<()> {
    common::run_example("digits_mlp", 20, mlp)
}
