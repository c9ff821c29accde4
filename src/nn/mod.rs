//! Neural networks: modules with named parameter trees, layers,
//! activations, initialisers and losses. Pair with
//! [`optimizers`](crate::optimizers) to train:
//!
//! ```
//! use kiln::nn::{self, losses, Activation, Layer, Linear, Module, Sequential};
//! use kiln::optimizers::{Optimizer, Sgd};
//! use kiln::{random, Array};
//! let keys = random::split(&random::key(0), 2)?;
//! let model = Sequential::new()
//!     .push(Linear::new(4, 16, true, &kiln::index_axis(&keys, 0, 0)?)?)
//!     .push(Activation::Relu)
//!     .push(Linear::new(16, 3, true, &kiln::index_axis(&keys, 0, 1)?)?);
//! let x = random::normal(&random::key(1), &[8, 4], kiln::DType::F32)?;
//! let y = Array::from_slice(&[0i32, 1, 2, 0, 1, 2, 0, 1], &[8])?;
//! let mut opt = Optimizer::new(Sgd::default(), 0.1);
//! let (loss, grads) = nn::value_and_grad(&model, || {
//!     losses::cross_entropy(&model.forward(&x)?, &y, Default::default())
//! })?;
//! opt.step(&model, &grads)?;
//! # #[cfg(not(target_arch = "wasm32"))]
//! println!("loss {}", loss.item::<f32>()?);
//! # Ok::<(), kiln::Error>(())
//! ```
//!
//! Layouts follow MLX: features and channels on the last axis.

mod activations;
mod attention;
mod conv;
pub mod init;
mod linear;
pub mod losses;
mod mixed;
mod module;
mod norm;

pub use activations::{
    elu, gelu, gelu_tanh, glu, leaky_relu, log_sigmoid, log_softmax, mish, relu, silu, softmax,
    softplus, Activation,
};
pub use attention::{
    padding_mask, scaled_dot_product_attention, sinusoidal_positions, MultiHeadAttention, Rope,
    TransformerEncoderBlock, TransformerOptions,
};
pub use conv::{
    avg_pool2d, conv1d, conv2d, max_pool2d, AvgPool2d, Conv, Conv1d, Conv2d, ConvOptions, MaxPool2d,
};
pub use linear::{Embedding, Linear};
pub use mixed::{LossScale, LossScaler, MixedPrecision};
pub use module::{
    compile_value_and_grad, compile_value_and_grad_mixed, value_and_grad, Entry, Flatten, Layer,
    Module, Parameter, Params, Scope, Sequential, Training,
};
pub use norm::{
    batch_norm, dropout, group_norm, layer_norm, rms_norm, BatchNorm, Dropout, GroupNorm,
    LayerNorm, RmsNorm,
};

use crate::array::Array;
use crate::error::{bail, Result};

/// `value` as a scalar of `like`'s dtype.
pub(crate) fn scalar(value: f64, like: &Array) -> Array {
    Array::scalar_of(value, like.dtype())
}

/// Fails unless `x` holds floats (layers' and losses' constants would
/// truncate in integers, so they take floats only, as PyTorch's do).
/// `what` names the argument in the message ("logits must be floats");
/// without it the message reads "expected a float input".
pub(crate) fn check_float(op: &'static str, what: Option<&str>, x: &Array) -> Result<()> {
    if x.dtype().is_float() {
        return Ok(());
    }
    match what {
        Some(what) => bail!(op, "{what} must be floats, got {}", x.dtype()),
        None => bail!(op, "expected a float input, got {}", x.dtype()),
    }
}

/// Sets every parameter and buffer of `model` from `params`, which must
/// name each of them exactly once (shapes and dtypes must match).
pub fn load_parameters(model: &(impl Module + ?Sized), params: &Params) -> Result<()> {
    if let Some(missing) = model.parameters().keys().find(|k| !params.contains_key(*k)) {
        bail!("load_parameters", "no value for the parameter {missing:?}");
    }
    model.update(params)
}

/// Saves `model`'s parameters and buffers to a safetensors file (native only).
#[cfg(not(target_arch = "wasm32"))]
pub fn save_weights(
    model: &(impl Module + ?Sized),
    path: impl AsRef<std::path::Path>,
) -> Result<()> {
    crate::io::save_safetensors(path, &model.parameters(), None)
}

/// Loads `model`'s parameters and buffers from a safetensors file written
/// by [`save_weights`] (or PyTorch, with the same names and layouts).
#[cfg(not(target_arch = "wasm32"))]
pub fn load_weights(
    model: &(impl Module + ?Sized),
    path: impl AsRef<std::path::Path>,
) -> Result<()> {
    load_parameters(model, &crate::io::load_safetensors(path)?.0)
}

/// Loads `model`'s parameters and buffers from safetensors bytes.
pub fn load_weights_from_bytes(model: &(impl Module + ?Sized), bytes: &[u8]) -> Result<()> {
    load_parameters(model, &crate::io::from_safetensors_bytes(bytes)?.0)
}
