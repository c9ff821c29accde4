//! A small convolutional network on the scikit-learn digits: two 3x3
//! convolutions (16 and 32 channels, ReLU), 2x2 max pooling, a 64-unit
//! dense layer and the 10-way output; Adam with cosine learning-rate decay, cross-entropy. Prints progress
//! per epoch, reaches about 98% test accuracy, then saves and reloads its
//! weights with safetensors.
//!
//! Run with `cargo run --release --example digits_cnn [epochs] [--f16]` (`--f16`:
//! float16 compute, float32 weights and optimizer state).

mod common;

use kiln::nn::{Activation, Conv2d, ConvOptions, Flatten, Linear, MaxPool2d, Sequential};
use kiln::random;

fn cnn(seed: u64) -> kiln::Result<Sequential> {
    let keys = random::split(&random::key(seed), 4)?;
    let key = |i| kiln::index_axis(&keys, 0, i);
    let same = ConvOptions {
        padding: [1, 1],
        ..Default::default()
    };
    Ok(Sequential::new()
        .push(Conv2d::new(1, 16, [3, 3], same, &key(0)?)?)
        .push(Activation::Relu)
        .push(Conv2d::new(16, 32, [3, 3], same, &key(1)?)?)
        .push(Activation::Relu)
        .push(MaxPool2d::new([2, 2], [2, 2], [0, 0]))
        .push(Flatten)
        .push(Linear::new(4 * 4 * 32, 64, true, &key(2)?)?)
        .push(Activation::Relu)
        .push(Linear::new(64, 10, true, &key(3)?)?))
}

fn main() -> kiln::Result<()> {
    common::run_example("digits_cnn", 15, cnn)
}
