//! Normalisation layers and dropout. Features are on the last axis
//! (channels last).

use super::module::{Layer, Module, Parameter, Scope, Training};
use super::{check_float, scalar};
use crate::array::Array;
use crate::dtype::DType;
use crate::error::{bail, fmt_shape, Result};
use crate::ops::creation::{ones, zeros};
use crate::ops::elementwise::{add, multiply, r#where, rsqrt, subtract};
use crate::ops::random;
use crate::ops::reduce::{mean, normalize_last_axis, var};
use crate::ops::shape::reshape;
use crate::transforms::stop_gradient;
use std::sync::atomic::{AtomicU32, Ordering};

/// `(x - mean) / √(var + eps)` over `axes` (biased variance).
fn standardize(x: &Array, axes: &[i32], eps: f64) -> Result<Array> {
    let mu = mean(x, axes, true)?;
    let v = var(x, axes, true, 0)?;
    multiply(&subtract(x, &mu)?, &rsqrt(&add(&v, &scalar(eps, &v))?)?)
}

fn check_features(op: &'static str, x: &Array, features: usize) -> Result<()> {
    check_float(op, None, x)?;
    if x.ndim() == 0 || x.shape()[x.ndim() - 1] != features {
        bail!(
            op,
            "expected {features} features in the last axis, got shape {}",
            fmt_shape(x.shape())
        );
    }
    Ok(())
}

/// `y * weight + bias`, each where given.
fn affine(y: Array, weight: Option<&Array>, bias: Option<&Array>) -> Result<Array> {
    let y = match weight {
        Some(w) => multiply(&y, w)?,
        None => y,
    };
    match bias {
        Some(b) => add(&y, b),
        None => Ok(y),
    }
}

/// The values of a layer's optional scale and shift.
fn values(weight: &Option<Parameter>, bias: &Option<Parameter>) -> (Option<Array>, Option<Array>) {
    (
        weight.as_ref().map(Parameter::value),
        bias.as_ref().map(Parameter::value),
    )
}

/// Fails unless `weight` and `bias`, where given, hold one value per feature.
fn check_affine(
    op: &'static str,
    features: usize,
    weight: Option<&Array>,
    bias: Option<&Array>,
) -> Result<()> {
    for (what, a) in [("weight", weight), ("bias", bias)] {
        if let Some(a) = a {
            if a.shape() != [features] {
                bail!(
                    op,
                    "the {what} must have shape ({features}), got {}",
                    fmt_shape(a.shape())
                );
            }
        }
    }
    Ok(())
}

/// The number of features (the last axis) of a float input.
fn features(op: &'static str, x: &Array) -> Result<usize> {
    check_float(op, None, x)?;
    match x.shape().last() {
        Some(&f) => Ok(f),
        None => bail!(op, "expected at least one axis, got a scalar"),
    }
}

/// Layer normalisation over the last axis, then `* weight + bias` where
/// given (each of shape `(features)`).
pub fn layer_norm(
    x: &Array,
    weight: Option<&Array>,
    bias: Option<&Array>,
    eps: f64,
) -> Result<Array> {
    let op = "layer_norm";
    check_affine(op, features(op, x)?, weight, bias)?;
    affine(last_axis_normalized(x, eps, false)?, weight, bias)
}

/// `x` normalised over its last axis by one kernel (in float32; a second
/// for the derivative), in `x`'s dtype.
fn last_axis_normalized(x: &Array, eps: f64, rms: bool) -> Result<Array> {
    normalize_last_axis(&x.astype(DType::F32)?, eps, rms).astype(x.dtype())
}

/// `x / √(mean(x²) + eps)` over the last axis, then `* weight` where given.
pub fn rms_norm(x: &Array, weight: Option<&Array>, eps: f64) -> Result<Array> {
    let op = "rms_norm";
    check_affine(op, features(op, x)?, weight, None)?;
    // In float32: float16 squares overflow beyond 256.
    affine(last_axis_normalized(x, eps, true)?, weight, None)
}

/// Group normalisation of `(N, ..., C)` inputs: the channels in `groups`
/// groups, each normalised over its channels and every position; then
/// `* weight + bias` where given (each of shape `(C)`).
pub fn group_norm(
    x: &Array,
    groups: usize,
    weight: Option<&Array>,
    bias: Option<&Array>,
    eps: f64,
) -> Result<Array> {
    let op = "group_norm";
    let channels = features(op, x)?;
    check_affine(op, channels, weight, bias)?;
    if groups == 0 || !channels.is_multiple_of(groups) {
        bail!(
            op,
            "{channels} channels cannot be split into {groups} groups"
        );
    }
    if x.ndim() < 2 {
        bail!(
            op,
            "expected a batch of inputs (N, ..., C), got shape {}",
            fmt_shape(x.shape())
        );
    }
    let g = groups as i64;
    let positions: usize = x.shape()[1..x.ndim() - 1].iter().product();
    let grouped = reshape(
        x,
        &[
            x.shape()[0] as i64,
            positions as i64,
            g,
            channels as i64 / g,
        ],
    )?;
    let y = standardize(&grouped, &[1, 3], eps)?;
    let shape: Vec<i64> = x.shape().iter().map(|&d| d as i64).collect();
    affine(reshape(&y, &shape)?, weight, bias)
}

fn affine_parameters(dims: usize, affine: bool) -> Result<(Option<Parameter>, Option<Parameter>)> {
    if !affine {
        return Ok((None, None));
    }
    Ok((
        Some(Parameter::new(ones(&[dims], DType::F32)?)),
        Some(Parameter::new(zeros(&[dims], DType::F32)?)),
    ))
}

fn visit_affine(scope: &mut Scope, weight: &Option<Parameter>, bias: &Option<Parameter>) {
    if let Some(w) = weight {
        scope.parameter("weight", w);
    }
    if let Some(b) = bias {
        scope.parameter("bias", b);
    }
}

/// Layer normalisation over the last axis (Ba et al. 2016).
#[derive(Debug, Clone)]
pub struct LayerNorm {
    /// The number of features (the last axis).
    pub dims: usize,
    /// Added to the variance for stability.
    pub eps: f64,
    /// The scale, `(dims)`, starting at ones, if affine.
    pub weight: Option<Parameter>,
    /// The shift, `(dims)`, starting at zeros, if affine.
    pub bias: Option<Parameter>,
}

impl LayerNorm {
    /// Normalises `dims` features; with a learned scale and shift when
    /// `affine`.
    pub fn new(dims: usize, eps: f64, affine: bool) -> Result<LayerNorm> {
        let (weight, bias) = affine_parameters(dims, affine)?;
        Ok(LayerNorm {
            dims,
            eps,
            weight,
            bias,
        })
    }
}

impl Module for LayerNorm {
    fn visit(&self, scope: &mut Scope) {
        visit_affine(scope, &self.weight, &self.bias);
    }
}

impl Layer for LayerNorm {
    fn forward(&self, x: &Array) -> Result<Array> {
        check_features("LayerNorm", x, self.dims)?;
        let (w, b) = values(&self.weight, &self.bias);
        layer_norm(x, w.as_ref(), b.as_ref(), self.eps)
    }
}

/// Root-mean-square normalisation over the last axis (Zhang and Sennrich
/// 2019): `x / √(mean(x²) + eps) * weight`.
#[derive(Debug, Clone)]
pub struct RmsNorm {
    /// The number of features (the last axis).
    pub dims: usize,
    /// Added to the mean square for stability.
    pub eps: f64,
    /// The scale, `(dims)`, starting at ones.
    pub weight: Parameter,
}

impl RmsNorm {
    /// Normalises `dims` features, with a learned scale.
    pub fn new(dims: usize, eps: f64) -> Result<RmsNorm> {
        Ok(RmsNorm {
            dims,
            eps,
            weight: Parameter::new(ones(&[dims], DType::F32)?),
        })
    }
}

impl Module for RmsNorm {
    fn visit(&self, scope: &mut Scope) {
        scope.parameter("weight", &self.weight);
    }
}

impl Layer for RmsNorm {
    fn forward(&self, x: &Array) -> Result<Array> {
        check_features("RMSNorm", x, self.dims)?;
        rms_norm(x, Some(&self.weight.value()), self.eps)
    }
}

/// Group normalisation (Wu and He 2018) of `(N, ..., C)` inputs: the
/// channels form `groups` groups, each normalised over its channels and
/// every position.
#[derive(Debug, Clone)]
pub struct GroupNorm {
    /// The number of channel groups.
    pub groups: usize,
    /// The number of channels (the last axis), a multiple of `groups`.
    pub channels: usize,
    /// Added to the variance for stability.
    pub eps: f64,
    /// The per-channel scale, `(channels)`, starting at ones, if affine.
    pub weight: Option<Parameter>,
    /// The per-channel shift, `(channels)`, starting at zeros, if affine.
    pub bias: Option<Parameter>,
}

impl GroupNorm {
    /// Normalises `channels` channels in `groups` groups; with a learned
    /// per-channel scale and shift when `affine`.
    pub fn new(groups: usize, channels: usize, eps: f64, affine: bool) -> Result<GroupNorm> {
        if groups == 0 || !channels.is_multiple_of(groups) {
            bail!(
                "GroupNorm",
                "{channels} channels cannot be split into {groups} groups"
            );
        }
        let (weight, bias) = affine_parameters(channels, affine)?;
        Ok(GroupNorm {
            groups,
            channels,
            eps,
            weight,
            bias,
        })
    }
}

impl Module for GroupNorm {
    fn visit(&self, scope: &mut Scope) {
        visit_affine(scope, &self.weight, &self.bias);
    }
}

impl Layer for GroupNorm {
    fn forward(&self, x: &Array) -> Result<Array> {
        check_features("GroupNorm", x, self.channels)?;
        let (w, b) = values(&self.weight, &self.bias);
        group_norm(x, self.groups, w.as_ref(), b.as_ref(), self.eps)
    }
}

/// Batch normalisation (Ioffe and Szegedy 2015) of `(N, ..., C)` inputs.
/// Training normalises with the batch's statistics and updates the running
/// ones (`running = (1 - momentum) running + momentum batch`, the unbiased
/// variance, as in PyTorch); evaluation uses the running statistics.
#[derive(Debug, Clone)]
pub struct BatchNorm {
    /// The number of channels (the last axis).
    pub channels: usize,
    /// Added to the variance for stability.
    pub eps: f64,
    /// The weight of each batch's statistics in the running ones.
    pub momentum: f64,
    /// The per-channel scale, `(channels)`, starting at ones, if affine.
    pub weight: Option<Parameter>,
    /// The per-channel shift, `(channels)`, starting at zeros, if affine.
    pub bias: Option<Parameter>,
    /// The running mean, `(channels)`, a buffer starting at zeros.
    pub running_mean: Parameter,
    /// The running variance, `(channels)`, a buffer starting at ones.
    pub running_var: Parameter,
    /// Whether it normalises with the batch's statistics (training) or
    /// the running ones.
    pub training: Training,
}

impl BatchNorm {
    /// Normalises `channels` channels; with a learned per-channel scale and
    /// shift when `affine`.
    pub fn new(channels: usize, eps: f64, momentum: f64, affine: bool) -> Result<BatchNorm> {
        let (weight, bias) = affine_parameters(channels, affine)?;
        Ok(BatchNorm {
            channels,
            eps,
            momentum,
            weight,
            bias,
            running_mean: Parameter::buffer(zeros(&[channels], DType::F32)?),
            running_var: Parameter::buffer(ones(&[channels], DType::F32)?),
            training: Training::default(),
        })
    }
}

impl Module for BatchNorm {
    fn visit(&self, scope: &mut Scope) {
        visit_affine(scope, &self.weight, &self.bias);
        scope.parameter("running_mean", &self.running_mean);
        scope.parameter("running_var", &self.running_var);
        scope.training(&self.training);
    }
}

impl Layer for BatchNorm {
    fn forward(&self, x: &Array) -> Result<Array> {
        check_features("BatchNorm", x, self.channels)?;
        let (w, b) = values(&self.weight, &self.bias);
        let (y, running) = batch_norm(
            x,
            &self.running_mean.value(),
            &self.running_var.value(),
            w.as_ref(),
            b.as_ref(),
            self.training.get(),
            self.momentum,
            self.eps,
        )?;
        if let Some((mean, var)) = running {
            self.running_mean.set(mean);
            self.running_var.set(var);
        }
        Ok(y)
    }
}

/// Batch normalisation of `(N, ..., C)` inputs, then `* weight + bias`
/// where given. With `training`, by the batch's statistics, and also the
/// running mean and variance moved toward them by `momentum`
/// (`(1 - momentum) running + momentum batch`, the unbiased variance, as
/// PyTorch); else by `running_mean` and `running_var` (each `(C)`).
#[allow(clippy::too_many_arguments)]
pub fn batch_norm(
    x: &Array,
    running_mean: &Array,
    running_var: &Array,
    weight: Option<&Array>,
    bias: Option<&Array>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> Result<(Array, Option<(Array, Array)>)> {
    let op = "batch_norm";
    let channels = features(op, x)?;
    check_affine(op, channels, weight, bias)?;
    for (what, a) in [
        ("running mean", running_mean),
        ("running variance", running_var),
    ] {
        if a.shape() != [channels] {
            bail!(
                op,
                "the {what} must have shape ({channels}), got {}",
                fmt_shape(a.shape())
            );
        }
    }
    let axes: Vec<i32> = (0..x.ndim() as i32 - 1).collect();
    if !training {
        let y = multiply(
            &subtract(x, running_mean)?,
            &rsqrt(&add(running_var, &scalar(eps, running_var))?)?,
        )?;
        return Ok((affine(y, weight, bias)?, None));
    }
    if x.size() / channels.max(1) < 2 {
        bail!(
            op,
            "training needs more than one value per channel, got shape {}",
            fmt_shape(x.shape())
        );
    }
    let batch_mean = stop_gradient(&mean(x, axes.as_slice(), false)?);
    let batch_var = stop_gradient(&var(x, axes.as_slice(), false, 1)?);
    let blend = |running: &Array, batch: &Array| {
        add(
            &multiply(running, &scalar(1.0 - momentum, running))?,
            &multiply(batch, &scalar(momentum, batch))?,
        )
    };
    let running = (
        blend(running_mean, &batch_mean)?,
        blend(running_var, &batch_var)?,
    );
    let y = affine(standardize(x, &axes, eps)?, weight, bias)?;
    Ok((y, Some(running)))
}

/// Zeroes each element with probability `p` and scales the rest by
/// `1 / (1 - p)`, with a fresh key each call (`key` folded with a counter);
/// the identity in evaluation mode.
#[derive(Debug)]
pub struct Dropout {
    /// The drop probability, in `[0, 1)`.
    pub p: f64,
    key: Array,
    calls: AtomicU32,
    /// Whether it drops (training) or passes inputs through.
    pub training: Training,
}

impl Dropout {
    /// Drops with probability `p` (in `[0, 1)`), with keys derived from `key`.
    pub fn new(p: f64, key: &Array) -> Result<Dropout> {
        if !(0.0..1.0).contains(&p) {
            bail!("Dropout", "the drop probability must be in [0, 1), got {p}");
        }
        Ok(Dropout {
            p,
            key: key.clone(),
            calls: AtomicU32::new(0),
            training: Training::default(),
        })
    }
}

/// [`Dropout`] as a function of an explicit key.
pub fn dropout(x: &Array, p: f64, key: &Array) -> Result<Array> {
    if !(0.0..1.0).contains(&p) {
        bail!("dropout", "the drop probability must be in [0, 1), got {p}");
    }
    check_float("dropout", None, x)?;
    if p == 0.0 {
        return Ok(x.clone());
    }
    let keep = random::bernoulli(key, 1.0 - p, x.shape()).map_err(|e| e.within("dropout"))?;
    r#where(
        &keep,
        &multiply(x, &scalar(1.0 / (1.0 - p), x))?,
        &scalar(0.0, x),
    )
}

impl Module for Dropout {
    fn visit(&self, scope: &mut Scope) {
        scope.training(&self.training);
    }
}

impl Layer for Dropout {
    fn forward(&self, x: &Array) -> Result<Array> {
        if !self.training.get() || self.p == 0.0 {
            return Ok(x.clone());
        }
        if crate::transforms::tracing() {
            bail!(
                "Dropout",
                "draws a fresh mask at each call, which compile would fix at tracing; \
                 compile with the model in evaluation mode, or call nn::dropout with a key passed in as an argument"
            );
        }
        let call = self.calls.fetch_add(1, Ordering::Relaxed);
        dropout(x, self.p, &random::fold_in(&self.key, call)?)
    }
}
