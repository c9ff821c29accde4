//! Training end to end: the digits MLP of `examples/digits_mlp.rs` (same
//! data and model; Adam at a constant 1e-3) reaches 94% test accuracy
//! within 10 epochs (450 steps), from a fixed key.

#[path = "../examples/common/mod.rs"]
mod common;

use kiln::nn::{Activation, Flatten, Linear, Sequential};
use kiln::optimizers::{Adam, Optimizer};
use kiln::random;

#[test]
fn digits_mlp_reaches_94_percent() {
    let data = common::load_digits().unwrap();
    let keys = random::split(&random::key(0), 2).unwrap();
    let key = |i| kiln::index_axis(&keys, 0, i).unwrap();
    let model = Sequential::new()
        .push(Flatten)
        .push(Linear::new(64, 128, true, &key(0)).unwrap())
        .push(Activation::Relu)
        .push(Linear::new(128, 10, true, &key(1)).unwrap());
    let mut optimizer = Optimizer::new(Adam::default(), 1e-3);
    let mut accuracy = 0.0;
    for epoch in 1..=10 {
        let report = common::train(&model, &mut optimizer, &data, 1, 32, epoch, None).unwrap();
        accuracy = report.test_accuracy;
        if accuracy >= 0.94 {
            break;
        }
    }
    assert!(accuracy >= 0.94, "test accuracy {accuracy} after 10 epochs");
}
