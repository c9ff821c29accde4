//! Random numbers with explicit keys, bit-compatible with `jax.random`
//! (threefry2x32, JAX's default "partitionable" counters).
//!
//! ```
//! use kiln::random;
//! let key = random::key(0);
//! let keys = random::split(&key, 2)?;
//! let k1 = kiln::index_axis(&keys, 0, 0)?;
//! let x = random::normal(&k1, &[3], kiln::DType::F32)?;
//! assert_eq!(x.shape(), &[3]);
//! # Ok::<(), kiln::Error>(())
//! ```

use crate::array::Array;
use crate::dtype::DType;
use crate::error::{bail, fmt_shape, Result};
use crate::ops::creation::{arange, zeros};
use crate::ops::elementwise::{
    add, bitwise_and, bitwise_or, bitwise_xor, erfinv, less, log, maximum, multiply, negative,
    remainder, right_shift, subtract, view,
};
use crate::ops::reduce::argmax;
use crate::ops::shape::{expand_dims, index_axis, normalize_axis, reshape_to, stack};
use crate::primitive::Primitive;

/// A key from a seed, as `jax.random.PRNGKey(seed)`: uint32 `[seed >> 32, seed & 0xffffffff]`.
pub fn key(seed: u64) -> Array {
    Array::from_slice(&[(seed >> 32) as u32, seed as u32], &[2])
        .expect("two values fill shape (2,)")
}

fn check_key(op: &'static str, key: &Array) -> Result<()> {
    if key.shape() != [2] || key.dtype() != DType::U32 {
        bail!(
            op,
            "a key is a uint32 array of shape (2,), got {} {}",
            key.dtype(),
            fmt_shape(key.shape())
        );
    }
    Ok(())
}

/// threefry2x32 of the counters `(0, i)` for `i < n`: an `(n, 2)` uint32 array.
fn hash_counters(key: &Array, n: usize) -> Result<Array> {
    let lo = arange(0.0, n as f64, 1.0, DType::U32)?;
    let counts = stack(&[&zeros(&[n], DType::U32)?, &lo], -1)?;
    Ok(Array::from_primitive(
        vec![n, 2],
        DType::U32,
        Primitive::Threefry,
        vec![key.clone(), counts],
    ))
}

/// `num` new keys from `key`: a `(num, 2)` uint32 array.
pub fn split(key: &Array, num: usize) -> Result<Array> {
    check_key("split", key)?;
    hash_counters(key, num)
}

/// Folds `data` into `key` (as `jax.random.fold_in`).
pub fn fold_in(key: &Array, data: u32) -> Result<Array> {
    check_key("fold_in", key)?;
    let counts = Array::from_slice(&[0u32, data], &[1, 2])?;
    let out = Array::from_primitive(
        vec![1, 2],
        DType::U32,
        Primitive::Threefry,
        vec![key.clone(), counts],
    );
    Ok(reshape_to(&out, vec![2]))
}

/// Uniform random uint32 bits of `shape`.
pub fn bits(key: &Array, shape: &[usize]) -> Result<Array> {
    check_key("bits", key)?;
    let n: usize = shape.iter().product();
    let pairs = hash_counters(key, n)?;
    let words = bitwise_xor(&index_axis(&pairs, 1, 0)?, &index_axis(&pairs, 1, 1)?)?;
    Ok(reshape_to(&words, shape.to_vec()))
}

fn float_dtype(op: &'static str, dtype: DType) -> Result<()> {
    if !dtype.is_float() {
        bail!(op, "needs a float dtype, got {dtype}");
    }
    Ok(())
}

/// Floats uniform in `[0, 1)` built from the top mantissa bits, as JAX does.
fn unit_floats(key: &Array, shape: &[usize], dtype: DType) -> Result<Array> {
    let b = bits(key, shape)?;
    if dtype == DType::F16 {
        // JAX draws 16 bits and keeps the top 10 as the mantissa.
        let mantissa = right_shift(
            &bitwise_and(&b, &Array::scalar(0xffffu32))?,
            &Array::scalar(6u32),
        )?;
        let f = multiply(
            &mantissa.astype(DType::F32)?,
            &Array::scalar(1.0f32 / 1024.0),
        )?;
        return f.astype(DType::F16);
    }
    let one_bits = bitwise_or(
        &right_shift(&b, &Array::scalar(9u32))?,
        &Array::scalar(0x3f80_0000u32),
    )?;
    subtract(&view(&one_bits, DType::F32)?, &Array::scalar(1.0f32))
}

/// Uniform samples in `[minval, maxval)`.
pub fn uniform(
    key: &Array,
    shape: &[usize],
    dtype: DType,
    minval: f64,
    maxval: f64,
) -> Result<Array> {
    check_key("uniform", key)?;
    float_dtype("uniform", dtype)?;
    let lo = Array::scalar_of(minval, dtype);
    let span = Array::scalar_of(maxval - minval, dtype);
    let u = unit_floats(key, shape, dtype)?;
    maximum(&lo, &add(&multiply(&u, &span)?, &lo)?)
}

/// Standard normal samples (inverse-erf transform, as JAX does).
pub fn normal(key: &Array, shape: &[usize], dtype: DType) -> Result<Array> {
    check_key("normal", key)?;
    float_dtype("normal", dtype)?;
    // The float just above -1, so that erfinv stays finite.
    let lo = match dtype {
        DType::F16 => half::f16::from_bits(half::f16::from_f32(-1.0).to_bits() - 1).to_f64(),
        _ => f32::from_bits((-1.0f32).to_bits() - 1) as f64,
    };
    let u = uniform(key, shape, dtype, lo, 1.0)?;
    multiply(
        &erfinv(&u)?,
        &Array::scalar_of(std::f64::consts::SQRT_2, dtype),
    )
}

/// Integers uniform in `[minval, maxval)` (int32), as `jax.random.randint`.
pub fn randint(key: &Array, shape: &[usize], minval: i32, maxval: i32) -> Result<Array> {
    check_key("randint", key)?;
    let keys = split(key, 2)?;
    let higher = bits(&index_axis(&keys, 0, 0)?, shape)?;
    let lower = bits(&index_axis(&keys, 0, 1)?, shape)?;
    let span = if maxval <= minval {
        1u32
    } else {
        maxval.wrapping_sub(minval) as u32
    };
    let span_arr = Array::scalar(span);
    // JAX's "2^32 mod span": (2^16 mod span)^2 mod span, squared in wrapping
    // uint32 arithmetic as JAX does it (so the same keys give the same values).
    let half = (1u32 << 16) % span;
    let multiplier = Array::scalar(half.wrapping_mul(half) % span);
    let offset = add(
        &multiply(&remainder(&higher, &span_arr)?, &multiplier)?,
        &remainder(&lower, &span_arr)?,
    )?;
    let offset = remainder(&offset, &span_arr)?;
    add(&Array::scalar(minval), &view(&offset, DType::I32)?)
}

/// `True` with probability `p`.
pub fn bernoulli(key: &Array, p: f64, shape: &[usize]) -> Result<Array> {
    let u = uniform(key, shape, DType::F32, 0.0, 1.0).map_err(|e| e.within("bernoulli"))?;
    less(&u, &Array::scalar(p as f32))
}

/// Gumbel samples.
pub fn gumbel(key: &Array, shape: &[usize], dtype: DType) -> Result<Array> {
    check_key("gumbel", key)?;
    float_dtype("gumbel", dtype)?;
    let tiny = match dtype {
        DType::F16 => 6.103515625e-05,
        _ => f32::MIN_POSITIVE as f64,
    };
    let u = uniform(key, shape, dtype, tiny, 1.0)?;
    negative(&log(&negative(&log(&u)?)?)?)
}

/// Category indices drawn from `logits` along `axis` (int32), with
/// `shape` defaulting to the logits' shape without `axis`.
pub fn categorical(
    key: &Array,
    logits: &Array,
    axis: i32,
    shape: Option<&[usize]>,
) -> Result<Array> {
    check_key("categorical", key)?;
    let d = normalize_axis("categorical", axis, logits.ndim())?;
    let batch: Vec<usize> = (0..logits.ndim())
        .filter(|&k| k != d)
        .map(|k| logits.shape()[k])
        .collect();
    let shape = shape
        .map(<[usize]>::to_vec)
        .unwrap_or_else(|| batch.clone());
    if shape.len() < batch.len() || shape[shape.len() - batch.len()..] != batch[..] {
        bail!(
            "categorical",
            "shape {} must end with the logits' batch shape {}",
            fmt_shape(&shape),
            fmt_shape(&batch)
        );
    }
    let prefix = shape.len() - batch.len();
    let mut noise_shape = shape.clone();
    noise_shape.insert(prefix + d, logits.shape()[d]);
    let leading: Vec<i32> = (0..prefix as i32).collect();
    let noise = gumbel(key, &noise_shape, logits.dtype().to_float())?;
    let scores = add(&noise, &expand_dims(logits, &leading)?)?;
    argmax(&scores, Some((prefix + d) as i32), false)
}

/// A random permutation of `0..n` (int32), as `jax.random.permutation`.
pub fn permutation(key: &Array, n: usize) -> Result<Array> {
    check_key("permutation", key)?;
    // Sort by fresh random keys, enough rounds to make ties negligible.
    let rounds = (3.0 * (n.max(1) as f64).ln() / (u32::MAX as f64).ln()).ceil() as usize;
    let mut x = arange(0.0, n as f64, 1.0, DType::I32)?;
    let mut key = key.clone();
    for _ in 0..rounds {
        let keys = split(&key, 2)?;
        key = index_axis(&keys, 0, 0)?;
        let sort_keys = bits(&index_axis(&keys, 0, 1)?, &[n])?;
        let order = crate::ops::sort::argsort(&sort_keys, Some(0))?;
        x = crate::ops::index::take(&x, &order, Some(0))?;
    }
    Ok(x)
}
