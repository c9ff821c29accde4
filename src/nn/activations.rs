//! Activation functions, as functions and as [`Activation`] layers.

use super::module::{Layer, Module, Scope};
use super::{check_float, scalar};
use crate::array::Array;
use crate::error::Result;
use crate::ops::elementwise::{
    abs, erf, exp, expm1, greater, log1p, maximum, multiply, negative, r#where, sigmoid, tanh,
};
use crate::ops::shape::{split, Sections};
use crate::ops::{elementwise::add, reduce};

/// `max(x, 0)`.
pub fn relu(x: &Array) -> Result<Array> {
    check_float("relu", None, x)?;
    maximum(x, &scalar(0.0, x))
}

/// `x` where positive, `slope * x` elsewhere.
pub fn leaky_relu(x: &Array, slope: f64) -> Result<Array> {
    check_float("leaky_relu", None, x)?;
    r#where(
        &greater(x, &scalar(0.0, x))?,
        x,
        &multiply(x, &scalar(slope, x))?,
    )
}

/// `x` where positive, `alpha * (exp(x) - 1)` elsewhere.
pub fn elu(x: &Array, alpha: f64) -> Result<Array> {
    check_float("elu", None, x)?;
    r#where(
        &greater(x, &scalar(0.0, x))?,
        x,
        &multiply(&expm1(x)?, &scalar(alpha, x))?,
    )
}

/// The exact GELU, `x * Φ(x) = x/2 * (1 + erf(x / √2))`.
pub fn gelu(x: &Array) -> Result<Array> {
    check_float("gelu", None, x)?;
    let phi = add(
        &erf(&multiply(x, &scalar(std::f64::consts::FRAC_1_SQRT_2, x))?)?,
        &scalar(1.0, x),
    )?;
    multiply(&multiply(x, &phi)?, &scalar(0.5, x))
}

/// GELU's tanh approximation, `x/2 * (1 + tanh(√(2/π) (x + 0.044715 x³)))`.
pub fn gelu_tanh(x: &Array) -> Result<Array> {
    check_float("gelu_tanh", None, x)?;
    let cube = multiply(&multiply(x, x)?, x)?;
    let inner = add(x, &multiply(&cube, &scalar(0.044715, x))?)?;
    let c = (2.0 / std::f64::consts::PI).sqrt();
    let t = add(&tanh(&multiply(&inner, &scalar(c, x))?)?, &scalar(1.0, x))?;
    multiply(&multiply(x, &t)?, &scalar(0.5, x))
}

/// `x * sigmoid(x)` (swish).
pub fn silu(x: &Array) -> Result<Array> {
    check_float("silu", None, x)?;
    multiply(x, &sigmoid(x)?)
}

/// `log(1 + exp(x))`, computed as `max(x, 0) + log1p(exp(-|x|))` so that
/// it neither overflows nor loses small values.
pub fn softplus(x: &Array) -> Result<Array> {
    check_float("softplus", None, x)?;
    add(&relu(x)?, &log1p(&exp(&negative(&abs(x)?)?)?)?)
}

/// `log(sigmoid(x)) = -softplus(-x)`.
pub fn log_sigmoid(x: &Array) -> Result<Array> {
    check_float("log_sigmoid", None, x)?;
    negative(&softplus(&negative(x)?)?)
}

/// `x * tanh(softplus(x))`.
pub fn mish(x: &Array) -> Result<Array> {
    check_float("mish", None, x)?;
    multiply(x, &tanh(&softplus(x)?)?)
}

/// The gated linear unit: splits `axis` in halves `a`, `b` and returns
/// `a * sigmoid(b)`.
pub fn glu(x: &Array, axis: i32) -> Result<Array> {
    check_float("glu", None, x)?;
    let halves = split(x, Sections::Count(2), axis).map_err(|e| e.within("glu"))?;
    multiply(&halves[0], &sigmoid(&halves[1])?)
}

/// Softmax over the last axis.
pub fn softmax(x: &Array) -> Result<Array> {
    reduce::softmax(x, -1)
}

/// Log-softmax over the last axis.
pub fn log_softmax(x: &Array) -> Result<Array> {
    reduce::log_softmax(x, -1)
}

/// An activation as a layer, for [`Sequential`](super::Sequential).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// [`relu`].
    Relu,
    /// [`leaky_relu`] with this negative slope.
    LeakyRelu(f64),
    /// [`elu`] with this `alpha`.
    Elu(f64),
    /// [`gelu`], the exact GELU.
    Gelu,
    /// [`gelu_tanh`], GELU's tanh approximation.
    GeluTanh,
    /// [`silu`] (swish).
    Silu,
    /// [`softplus`].
    Softplus,
    /// [`log_sigmoid`].
    LogSigmoid,
    /// [`mish`].
    Mish,
    /// The logistic sigmoid `1 / (1 + exp(-x))`.
    Sigmoid,
    /// The hyperbolic tangent.
    Tanh,
    /// [`softmax`] over the last axis.
    Softmax,
    /// [`log_softmax`] over the last axis.
    LogSoftmax,
}

impl Activation {
    /// This activation of `x`, elementwise (or over the last axis for the
    /// softmaxes).
    pub fn apply(self, x: &Array) -> Result<Array> {
        match self {
            Activation::Relu => relu(x),
            Activation::LeakyRelu(slope) => leaky_relu(x, slope),
            Activation::Elu(alpha) => elu(x, alpha),
            Activation::Gelu => gelu(x),
            Activation::GeluTanh => gelu_tanh(x),
            Activation::Silu => silu(x),
            Activation::Softplus => softplus(x),
            Activation::LogSigmoid => log_sigmoid(x),
            Activation::Mish => mish(x),
            Activation::Sigmoid => sigmoid(x),
            Activation::Tanh => tanh(x),
            Activation::Softmax => softmax(x),
            Activation::LogSoftmax => log_softmax(x),
        }
    }
}

impl Module for Activation {
    fn visit(&self, _: &mut Scope) {}
}

impl Layer for Activation {
    fn forward(&self, x: &Array) -> Result<Array> {
        self.apply(x)
    }
}
