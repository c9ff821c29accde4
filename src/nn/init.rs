//! Initialisers: arrays of a shape drawn from [`random`]
//! keys. Fans follow the layer layouts of [`nn`](super): the first axis is
//! the output, the last the input, the axes between are the receptive field
//! (a linear weight `(out, in)`, a convolution weight `(out, kh, kw, in)`).

use crate::array::Array;
use crate::dtype::DType;
use crate::error::{bail, fmt_shape, Result};
use crate::ops::elementwise::{add, erfinv, multiply};
use crate::ops::random;

/// `(fan_in, fan_out)` of a weight shape.
pub fn fans(op: &'static str, shape: &[usize]) -> Result<(usize, usize)> {
    if shape.len() < 2 {
        bail!(
            op,
            "fans need a weight of at least 2 dimensions, got {}",
            fmt_shape(shape)
        );
    }
    let receptive: usize = shape[1..shape.len() - 1].iter().product();
    Ok((shape[shape.len() - 1] * receptive, shape[0] * receptive))
}

fn scaled_normal(
    op: &'static str,
    key: &Array,
    shape: &[usize],
    dtype: DType,
    std: f64,
) -> Result<Array> {
    multiply(
        &random::normal(key, shape, dtype).map_err(|e| e.within(op))?,
        &Array::scalar_of(std, dtype),
    )
}

/// Glorot (Xavier) uniform: `U(-l, l)`, `l = gain √(6 / (fan_in + fan_out))`.
pub fn glorot_uniform(key: &Array, shape: &[usize], dtype: DType, gain: f64) -> Result<Array> {
    let (fan_in, fan_out) = fans("glorot_uniform", shape)?;
    let limit = gain * (6.0 / (fan_in + fan_out) as f64).sqrt();
    random::uniform(key, shape, dtype, -limit, limit).map_err(|e| e.within("glorot_uniform"))
}

/// Glorot (Xavier) normal: `N(0, σ²)`, `σ = gain √(2 / (fan_in + fan_out))`.
pub fn glorot_normal(key: &Array, shape: &[usize], dtype: DType, gain: f64) -> Result<Array> {
    let (fan_in, fan_out) = fans("glorot_normal", shape)?;
    scaled_normal(
        "glorot_normal",
        key,
        shape,
        dtype,
        gain * (2.0 / (fan_in + fan_out) as f64).sqrt(),
    )
}

/// He (Kaiming) uniform for ReLU layers: `U(-l, l)`, `l = √(6 / fan_in)`.
pub fn he_uniform(key: &Array, shape: &[usize], dtype: DType) -> Result<Array> {
    let (fan_in, _) = fans("he_uniform", shape)?;
    let limit = (6.0 / fan_in as f64).sqrt();
    random::uniform(key, shape, dtype, -limit, limit).map_err(|e| e.within("he_uniform"))
}

/// He (Kaiming) normal for ReLU layers: `N(0, 2 / fan_in)`.
pub fn he_normal(key: &Array, shape: &[usize], dtype: DType) -> Result<Array> {
    let (fan_in, _) = fans("he_normal", shape)?;
    scaled_normal("he_normal", key, shape, dtype, (2.0 / fan_in as f64).sqrt())
}

/// A normal `N(mean, std²)` truncated to `[mean + lower·std, mean + upper·std]`,
/// sampled exactly by the inverse CDF.
pub fn truncated_normal(
    key: &Array,
    shape: &[usize],
    dtype: DType,
    mean: f64,
    std: f64,
    lower: f64,
    upper: f64,
) -> Result<Array> {
    if lower >= upper || std <= 0.0 {
        bail!(
            "truncated_normal",
            "needs lower < upper and std > 0, got [{lower}, {upper}] and std {std}"
        );
    }
    let cdf = |z: f64| 0.5 * (1.0 + libm::erf(z / std::f64::consts::SQRT_2));
    // u in (2Φ(a) - 1, 2Φ(b) - 1), then z = √2 erfinv(u).
    let (lo, hi) = (2.0 * cdf(lower) - 1.0, 2.0 * cdf(upper) - 1.0);
    let u = random::uniform(key, shape, DType::F32, lo, hi)
        .map_err(|e| e.within("truncated_normal"))?;
    let z = multiply(&erfinv(&u)?, &Array::scalar(std::f32::consts::SQRT_2))?;
    let z = crate::ops::elementwise::clip(
        &z,
        Some(&Array::scalar(lower as f32)),
        Some(&Array::scalar(upper as f32)),
    )?;
    add(
        &multiply(&z, &Array::scalar(std as f32))?,
        &Array::scalar(mean as f32),
    )?
    .astype(dtype)
}
