//! Convolutions and pooling, channels last (MLX's layout): inputs
//! `(N, L, C)` and `(N, H, W, C)`, weights `(out, [kh,] kw, in / groups)`.
//!
//! Both gather the receptive fields of every output position with one
//! `take` (im2col, on the GPU; the gradient is its scatter-add) and then
//! reduce them: a matmul with the weights per group, or a max or mean.

use super::check_float;
use super::module::{Layer, Module, Parameter, Scope};
use crate::array::Array;
use crate::dtype::{DType, Scalar};
use crate::error::{bail, fmt_shape, Result};
use crate::ops::elementwise::add;
use crate::ops::index::take;
use crate::ops::matmul::matmul;
use crate::ops::random;
use crate::ops::reduce::{max, mean};
use crate::ops::shape::{pad, reshape, transpose};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Stride, padding (zeros, both sides), dilation and groups of a
/// convolution over `D` spatial axes, and whether it has a bias.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConvOptions<const D: usize> {
    /// The step between windows along each spatial axis (default 1).
    pub stride: [usize; D],
    /// Zeros added on both sides of each spatial axis (default 0).
    pub padding: [usize; D],
    /// The spacing of kernel taps along each spatial axis (default 1).
    pub dilation: [usize; D],
    /// The number of channel groups, each convolved separately (default 1).
    pub groups: usize,
    /// Whether a layer has a bias (default `true`; the functions ignore it).
    pub bias: bool,
}

impl<const D: usize> Default for ConvOptions<D> {
    fn default() -> Self {
        ConvOptions {
            stride: [1; D],
            padding: [0; D],
            dilation: [1; D],
            groups: 1,
            bias: true,
        }
    }
}

/// The im2col indices of recent geometries (input size, kernel, stride,
/// padding, dilation), so that repeated forwards reuse one uploaded array.
static INDEX_CACHE: Mutex<BTreeMap<[[usize; 2]; 5], Array>> = Mutex::new(BTreeMap::new());

/// How many geometries [`INDEX_CACHE`] holds before it starts over.
const INDEX_CACHE_SIZE: usize = 64;

/// Where the windows of a 2-D sliding operation lie.
#[derive(Debug, Clone, Copy)]
struct Window {
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
}

impl Window {
    /// The output size along each spatial axis for an input of `size`.
    fn output(&self, op: &'static str, size: [usize; 2]) -> Result<[usize; 2]> {
        let mut out = [0; 2];
        for d in 0..2 {
            if self.kernel[d] == 0 || self.stride[d] == 0 || self.dilation[d] == 0 {
                bail!(op, "kernel size, stride and dilation must be positive");
            }
            let padded = size[d] + 2 * self.padding[d];
            let span = self.dilation[d] * (self.kernel[d] - 1) + 1;
            if padded < span {
                bail!(
                    op,
                    "the input ({} with padding {}) is smaller than the kernel's span {span}",
                    size[d],
                    self.padding[d]
                );
            }
            out[d] = (padded - span) / self.stride[d] + 1;
        }
        Ok(out)
    }

    /// The position in the flattened padded input of each element of each
    /// receptive field, for an input of `size` and an output of `out`:
    /// `(Ho * Wo * kh * kw)` int32, made once per geometry and cached (it is
    /// uploaded with the first evaluation that uses it).
    fn index(&self, size: [usize; 2], out: [usize; 2]) -> Result<Array> {
        let key = [size, self.kernel, self.stride, self.padding, self.dilation];
        let cache = || INDEX_CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(index) = cache().get(&key) {
            return Ok(index.clone());
        }
        let [ho, wo] = out;
        let [kh, kw] = self.kernel;
        let padded_w = size[1] + 2 * self.padding[1];
        let mut index = Vec::with_capacity(ho * wo * kh * kw);
        for oh in 0..ho {
            for ow in 0..wo {
                for i in 0..kh {
                    for j in 0..kw {
                        let row = oh * self.stride[0] + i * self.dilation[0];
                        let col = ow * self.stride[1] + j * self.dilation[1];
                        index.push((row * padded_w + col) as i32);
                    }
                }
            }
        }
        let index = Array::from_slice(&index, &[index.len()])?;
        let mut cache = cache();
        if cache.len() >= INDEX_CACHE_SIZE {
            cache.clear();
        }
        Ok(cache.entry(key).or_insert(index).clone())
    }

    /// The receptive fields of `x` `(N, H, W, C)`, padded with `fill`:
    /// `(N, Ho, Wo, kh * kw, C)`.
    fn patches(&self, op: &'static str, x: &Array, fill: impl Into<Scalar>) -> Result<Array> {
        let (n, h, w, c) = (x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
        let [ho, wo] = self.output(op, [h, w])?;
        let [ph, pw] = self.padding;
        let xp = pad(x, &[(0, 0), (ph, ph), (pw, pw), (0, 0)], fill)?;
        let [kh, kw] = self.kernel;
        let (padded_h, padded_w) = (h + 2 * ph, w + 2 * pw);
        let flat = reshape(&xp, &[n as i64, (padded_h * padded_w) as i64, c as i64])?;
        let index = self.index([h, w], [ho, wo])?;
        let gathered = take(&flat, &index, Some(1))?;
        reshape(
            &gathered,
            &[n as i64, ho as i64, wo as i64, (kh * kw) as i64, c as i64],
        )
    }
}

/// 2-D convolution: `x` `(N, H, W, C)`, `weight` `(O, kh, kw, C / groups)`;
/// returns `(N, Ho, Wo, O)` (cross-correlation, as in every framework).
pub fn conv2d(x: &Array, weight: &Array, options: &ConvOptions<2>) -> Result<Array> {
    conv2d_named("conv2d", x, weight, options)
}

fn conv2d_named(
    op: &'static str,
    x: &Array,
    weight: &Array,
    options: &ConvOptions<2>,
) -> Result<Array> {
    check_float(op, None, x)?;
    if x.ndim() != 4 || weight.ndim() != 4 {
        bail!(
            op,
            "expected an input (N, H, W, C) and a weight (O, KH, KW, C / groups), got {} and {}",
            fmt_shape(x.shape()),
            fmt_shape(weight.shape())
        );
    }
    let (c, o, cg) = (x.shape()[3], weight.shape()[0], weight.shape()[3]);
    let g = options.groups;
    if g == 0 || c % g != 0 || o % g != 0 || cg * g != c {
        bail!(
            op,
            "{c} input channels and {o} output channels in {g} groups do not fit a weight of shape {}",
            fmt_shape(weight.shape())
        );
    }
    let window = Window {
        kernel: [weight.shape()[1], weight.shape()[2]],
        stride: options.stride,
        padding: options.padding,
        dilation: options.dilation,
    };
    let p = window.patches(op, x, 0.0)?;
    let (n, ho, wo, k) = (p.shape()[0], p.shape()[1], p.shape()[2], p.shape()[3]);
    let m = (n * ho * wo) as i64;
    let y = if g == 1 {
        let kc = (k * c) as i64;
        let w2 = reshape(weight, &[o as i64, kc])?;
        matmul(&reshape(&p, &[m, kc])?, &w2.mt()?)?
    } else {
        let (g64, og) = (g as i64, (o / g) as i64);
        let pg = transpose(&reshape(&p, &[m, k as i64, g64, cg as i64])?, &[2, 0, 1, 3])?;
        let kcg = (k * cg) as i64;
        let pg = reshape(&pg, &[g64, m, kcg])?;
        let wg = reshape(weight, &[g64, og, kcg])?.mt()?;
        let yg = matmul(&pg, &wg)?; // (G, M, O / G)
        transpose(&yg, &[1, 0, 2])?
    };
    reshape(&y, &[n as i64, ho as i64, wo as i64, o as i64])
}

/// 1-D convolution: `x` `(N, L, C)`, `weight` `(O, k, C / groups)`;
/// returns `(N, Lo, O)`.
pub fn conv1d(x: &Array, weight: &Array, options: &ConvOptions<1>) -> Result<Array> {
    if x.ndim() != 3 || weight.ndim() != 3 {
        bail!(
            "conv1d",
            "expected an input (N, L, C) and a weight (O, K, C / groups), got {} and {}",
            fmt_shape(x.shape()),
            fmt_shape(weight.shape())
        );
    }
    let options2 = ConvOptions {
        stride: [1, options.stride[0]],
        padding: [0, options.padding[0]],
        dilation: [1, options.dilation[0]],
        groups: options.groups,
        bias: options.bias,
    };
    let y = conv2d_named(
        "conv1d",
        &crate::ops::shape::expand_dims(x, &[1])?,
        &crate::ops::shape::expand_dims(weight, &[1])?,
        &options2,
    )?;
    crate::ops::shape::squeeze(&y, &[1])
}

/// A convolution layer over `D` spatial axes ([`Conv1d`], [`Conv2d`]);
/// weight and bias start uniform in `±1/√fan_in`, as in PyTorch.
#[derive(Debug, Clone)]
pub struct Conv<const D: usize> {
    /// The kernel, `(out, [kh,] kw, in / groups)`.
    pub weight: Parameter,
    /// The bias, `(out)`, if `options.bias`.
    pub bias: Option<Parameter>,
    /// Stride, padding, dilation and groups.
    pub options: ConvOptions<D>,
}

/// A 1-D convolution layer on `(N, L, C)` inputs.
pub type Conv1d = Conv<1>;
/// A 2-D convolution layer on `(N, H, W, C)` inputs.
pub type Conv2d = Conv<2>;

impl<const D: usize> Conv<D> {
    /// `in_channels` to `out_channels` with a kernel of `kernel` (per axis).
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; D],
        options: ConvOptions<D>,
        key: &Array,
    ) -> Result<Conv<D>> {
        let g = options.groups;
        if g == 0 || !in_channels.is_multiple_of(g) || !out_channels.is_multiple_of(g) {
            bail!(
                "Conv",
                "{in_channels} input and {out_channels} output channels cannot be split into {g} groups"
            );
        }
        let mut shape = vec![out_channels];
        shape.extend_from_slice(&kernel);
        shape.push(in_channels / g);
        let fan_in: usize = shape[1..].iter().product();
        let limit = 1.0 / (fan_in.max(1) as f64).sqrt();
        let keys = random::split(key, 2)?;
        let key_at = |i| crate::ops::shape::index_axis(&keys, 0, i);
        Ok(Conv {
            weight: Parameter::new(random::uniform(
                &key_at(0)?,
                &shape,
                DType::F32,
                -limit,
                limit,
            )?),
            bias: if options.bias {
                Some(Parameter::new(random::uniform(
                    &key_at(1)?,
                    &[out_channels],
                    DType::F32,
                    -limit,
                    limit,
                )?))
            } else {
                None
            },
            options,
        })
    }

    fn add_bias(&self, y: Array) -> Result<Array> {
        match &self.bias {
            Some(b) => add(&y, &b.value()),
            None => Ok(y),
        }
    }
}

impl<const D: usize> Module for Conv<D> {
    fn visit(&self, scope: &mut Scope) {
        scope.parameter("weight", &self.weight);
        if let Some(bias) = &self.bias {
            scope.parameter("bias", bias);
        }
    }
}

impl Layer for Conv<1> {
    fn forward(&self, x: &Array) -> Result<Array> {
        self.add_bias(conv1d(x, &self.weight.value(), &self.options)?)
    }
}

impl Layer for Conv<2> {
    fn forward(&self, x: &Array) -> Result<Array> {
        self.add_bias(conv2d(x, &self.weight.value(), &self.options)?)
    }
}

fn pool_window(kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2]) -> Window {
    Window {
        kernel,
        stride,
        padding,
        dilation: [1, 1],
    }
}

/// The windows of a pooling layer's input `(N, H, W, C)`, padded with `fill`.
fn pool_patches(op: &'static str, window: &Window, x: &Array, fill: f64) -> Result<Array> {
    check_float(op, None, x)?;
    if x.ndim() != 4 {
        bail!(
            op,
            "expected an input (N, H, W, C), got {}",
            fmt_shape(x.shape())
        );
    }
    if (0..2).any(|d| 2 * window.padding[d] > window.kernel[d]) {
        bail!(op, "padding must be at most half the kernel size");
    }
    window.patches(op, x, fill)
}

/// 2-D max pooling of `(N, H, W, C)` inputs: windows of `kernel` every
/// `stride`, with `padding` (at most half the kernel) counting as `-inf`.
pub fn max_pool2d(
    x: &Array,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
) -> Result<Array> {
    let p = pool_patches(
        "max_pool2d",
        &pool_window(kernel, stride, padding),
        x,
        f64::NEG_INFINITY,
    )?;
    max(&p, 3, false)
}

/// 2-D average pooling of `(N, H, W, C)` inputs; padding counts as zeros in
/// the average (PyTorch's `count_include_pad=True`, MLX's behaviour).
pub fn avg_pool2d(
    x: &Array,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
) -> Result<Array> {
    mean(
        &pool_patches("avg_pool2d", &pool_window(kernel, stride, padding), x, 0.0)?,
        3,
        false,
    )
}

/// 2-D max pooling over `(N, H, W, C)` inputs; padding counts as `-inf`.
#[derive(Debug, Clone, Copy)]
pub struct MaxPool2d {
    window: Window,
}

impl MaxPool2d {
    /// Windows of `kernel` every `stride`, with `padding` on both sides.
    pub fn new(kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2]) -> MaxPool2d {
        MaxPool2d {
            window: pool_window(kernel, stride, padding),
        }
    }
}

impl Module for MaxPool2d {
    fn visit(&self, _: &mut Scope) {}
}

impl Layer for MaxPool2d {
    fn forward(&self, x: &Array) -> Result<Array> {
        let w = &self.window;
        max_pool2d(x, w.kernel, w.stride, w.padding)
    }
}

/// 2-D average pooling over `(N, H, W, C)` inputs; padding counts as zeros
/// in the average (PyTorch's `count_include_pad=True`, MLX's behaviour).
#[derive(Debug, Clone, Copy)]
pub struct AvgPool2d {
    window: Window,
}

impl AvgPool2d {
    /// Windows of `kernel` every `stride`, with `padding` on both sides.
    pub fn new(kernel: [usize; 2], stride: [usize; 2], padding: [usize; 2]) -> AvgPool2d {
        AvgPool2d {
            window: pool_window(kernel, stride, padding),
        }
    }
}

impl Module for AvgPool2d {
    fn visit(&self, _: &mut Scope) {}
}

impl Layer for AvgPool2d {
    fn forward(&self, x: &Array) -> Result<Array> {
        let w = &self.window;
        avg_pool2d(x, w.kernel, w.stride, w.padding)
    }
}
