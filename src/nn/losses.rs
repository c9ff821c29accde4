//! Loss functions (PyTorch's definitions), with mean, sum or no reduction.
//! Classes are on the last axis.

use super::activations::softplus;
use super::{check_float, scalar};
use crate::array::Array;
use crate::dtype::DType;
use crate::error::{bail, fmt_shape, Result};
use crate::ops::elementwise::{
    abs, add, astype, equal, greater, less, log, multiply, negative, not_equal, r#where, square,
    subtract,
};
use crate::ops::index::take_along_axis;
use crate::ops::reduce::{log_softmax, mean, sum, Axes};
use crate::ops::shape::{expand_dims, squeeze};

/// How per-element losses become the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// The per-element losses.
    None,
    /// Their mean (for cross-entropy with ignored targets: over the rest).
    #[default]
    Mean,
    /// Their sum.
    Sum,
}

fn reduce(losses: Array, reduction: Reduction) -> Result<Array> {
    match reduction {
        Reduction::None => Ok(losses),
        Reduction::Mean => mean(&losses, Axes::All, false),
        Reduction::Sum => sum(&losses, Axes::All, false),
    }
}

fn check_same_shape(op: &'static str, x: &Array, targets: &Array) -> Result<()> {
    if x.shape() != targets.shape() {
        bail!(
            op,
            "targets of shape {} do not match predictions of shape {}",
            fmt_shape(targets.shape()),
            fmt_shape(x.shape())
        );
    }
    Ok(())
}

/// Options of [`cross_entropy`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CrossEntropy {
    /// Mixes the targets with the uniform distribution: `(1 - ε) t + ε / C`.
    pub label_smoothing: f64,
    /// Class-index targets equal to this contribute nothing. `None` by
    /// default (PyTorch's default is `Some(-100)`); other out-of-range
    /// indices are clamped, as in every gather (a check would need a sync).
    pub ignore_index: Option<i32>,
    /// How the per-element losses are combined.
    pub reduction: Reduction,
}

/// Cross-entropy from unnormalised `logits` `(..., C)`. `targets` are class
/// indices (integers of shape `(...)`) or probabilities (floats shaped like
/// the logits).
pub fn cross_entropy(logits: &Array, targets: &Array, options: CrossEntropy) -> Result<Array> {
    let op = "cross_entropy";
    check_float(op, Some("logits"), logits)?;
    if logits.ndim() == 0 {
        bail!(op, "logits need a class axis, got a scalar");
    }
    let classes = logits.shape()[logits.ndim() - 1];
    let eps = options.label_smoothing;
    if !(0.0..=1.0).contains(&eps) {
        bail!(op, "label smoothing must be in [0, 1], got {eps}");
    }
    let logp = log_softmax(logits, -1)?;
    let smooth = |nll: Array| -> Result<Array> {
        if eps == 0.0 {
            return Ok(nll);
        }
        let uniform = negative(&mean(&logp, -1, false)?)?;
        add(
            &multiply(&nll, &scalar(1.0 - eps, &nll))?,
            &multiply(&uniform, &scalar(eps, &uniform))?,
        )
    };
    if targets.dtype().is_float() {
        check_same_shape(op, logits, targets)?;
        if options.ignore_index.is_some() {
            bail!(
                op,
                "ignore_index applies to class-index targets, not probabilities"
            );
        }
        let t = if eps == 0.0 {
            targets.clone()
        } else {
            add(
                &multiply(targets, &scalar(1.0 - eps, targets))?,
                &scalar(eps / classes as f64, targets),
            )?
        };
        let losses = negative(&sum(&multiply(&t, &logp)?, -1, false)?)?;
        return reduce(losses, options.reduction);
    }
    if !targets.dtype().is_int() || targets.shape() != &logits.shape()[..logits.ndim() - 1] {
        bail!(
            op,
            "targets must be class indices of shape {} or probabilities of shape {}, got {} {}",
            fmt_shape(&logits.shape()[..logits.ndim() - 1]),
            fmt_shape(logits.shape()),
            targets.dtype(),
            fmt_shape(targets.shape())
        );
    }
    let targets = targets.astype(DType::I32)?;
    let Some(ignore) = options.ignore_index else {
        return reduce(smooth(nll_of(&logp, &targets)?)?, options.reduction);
    };
    let keep = not_equal(&targets, &Array::scalar(ignore))?;
    let safe = r#where(&keep, &targets, &Array::scalar(0i32))?;
    let losses = r#where(&keep, &smooth(nll_of(&logp, &safe)?)?, &scalar(0.0, &logp))?;
    match options.reduction {
        Reduction::Mean => {
            let kept = sum(&astype(&keep, logp.dtype())?, Axes::All, false)?;
            crate::ops::elementwise::divide(&sum(&losses, Axes::All, false)?, &kept)
        }
        other => reduce(losses, other),
    }
}

/// `-logp[..., t]` for class indices `t` (int32, in range).
fn nll_of(logp: &Array, targets: &Array) -> Result<Array> {
    let picked = take_along_axis(logp, &expand_dims(targets, &[-1])?, -1)?;
    negative(&squeeze(&picked, &[-1])?)
}

/// Negative log-likelihood of class indices `targets` `(...)` under
/// log-probabilities `logp` `(..., C)`.
pub fn nll_loss(logp: &Array, targets: &Array, reduction: Reduction) -> Result<Array> {
    let op = "nll_loss";
    check_float(op, Some("log-probabilities"), logp)?;
    if logp.ndim() == 0
        || !targets.dtype().is_int()
        || targets.shape() != &logp.shape()[..logp.ndim() - 1]
    {
        bail!(
            op,
            "targets must be class indices of shape {}, got {} {}",
            fmt_shape(&logp.shape()[..logp.ndim().max(1) - 1]),
            targets.dtype(),
            fmt_shape(targets.shape())
        );
    }
    reduce(nll_of(logp, &targets.astype(DType::I32)?)?, reduction)
}

/// Binary cross-entropy from logits: `softplus(x) - x t`, stable for any `x`.
pub fn binary_cross_entropy(
    logits: &Array,
    targets: &Array,
    reduction: Reduction,
) -> Result<Array> {
    let op = "binary_cross_entropy";
    check_float(op, Some("logits"), logits)?;
    check_same_shape(op, logits, targets)?;
    let t = targets.astype(logits.dtype())?;
    reduce(
        subtract(&softplus(logits)?, &multiply(logits, &t)?)?,
        reduction,
    )
}

/// Mean squared error `(x - t)²`.
pub fn mse_loss(x: &Array, targets: &Array, reduction: Reduction) -> Result<Array> {
    check_float("mse_loss", Some("predictions"), x)?;
    check_same_shape("mse_loss", x, targets)?;
    reduce(square(&subtract(x, targets)?)?, reduction)
}

/// Absolute error `|x - t|`.
pub fn l1_loss(x: &Array, targets: &Array, reduction: Reduction) -> Result<Array> {
    check_float("l1_loss", Some("predictions"), x)?;
    check_same_shape("l1_loss", x, targets)?;
    reduce(abs(&subtract(x, targets)?)?, reduction)
}

/// `0.5 d² / β` where `|d| < β`, else `|d| - β/2` (d = x - t).
pub fn smooth_l1_loss(
    x: &Array,
    targets: &Array,
    beta: f64,
    reduction: Reduction,
) -> Result<Array> {
    check_float("smooth_l1_loss", Some("predictions"), x)?;
    check_same_shape("smooth_l1_loss", x, targets)?;
    if beta <= 0.0 {
        return l1_loss(x, targets, reduction);
    }
    let d = abs(&subtract(x, targets)?)?;
    let quadratic = multiply(&square(&d)?, &scalar(0.5 / beta, &d))?;
    let linear = subtract(&d, &scalar(0.5 * beta, &d))?;
    reduce(
        r#where(&less(&d, &scalar(beta, &d))?, &quadratic, &linear)?,
        reduction,
    )
}

/// Huber loss: `0.5 d²` where `|d| ≤ δ`, else `δ (|d| - δ/2)`.
pub fn huber_loss(x: &Array, targets: &Array, delta: f64, reduction: Reduction) -> Result<Array> {
    check_float("huber_loss", Some("predictions"), x)?;
    check_same_shape("huber_loss", x, targets)?;
    if delta <= 0.0 {
        bail!("huber_loss", "delta must be positive, got {delta}");
    }
    let d = abs(&subtract(x, targets)?)?;
    let quadratic = multiply(&square(&d)?, &scalar(0.5, &d))?;
    let linear = multiply(&subtract(&d, &scalar(0.5 * delta, &d))?, &scalar(delta, &d))?;
    reduce(
        r#where(&greater(&d, &scalar(delta, &d))?, &linear, &quadratic)?,
        reduction,
    )
}

/// Kullback-Leibler divergence `t (log t - logp)` of target probabilities
/// `t` from log-probabilities `logp` (PyTorch's `kl_div` argument order);
/// zero where `t = 0`. `Mean` averages over every element, as PyTorch's
/// `'mean'`; divide a `Sum` by the batch size for `'batchmean'`.
pub fn kl_div_loss(logp: &Array, targets: &Array, reduction: Reduction) -> Result<Array> {
    check_float("kl_div_loss", Some("log-probabilities"), logp)?;
    check_same_shape("kl_div_loss", logp, targets)?;
    let zero = scalar(0.0, targets);
    let positive = greater(targets, &zero)?;
    let safe = r#where(&positive, targets, &scalar(1.0, targets))?;
    let terms = multiply(targets, &subtract(&log(&safe)?, logp)?)?;
    reduce(r#where(&positive, &terms, &zero)?, reduction)
}

/// Whether `logits`' arg-max equals the class-index `targets`: the
/// fraction correct, a float scalar.
pub fn accuracy(logits: &Array, targets: &Array) -> Result<Array> {
    let predicted = crate::ops::reduce::argmax(logits, Some(-1), false)?;
    if predicted.shape() != targets.shape() || !targets.dtype().is_int() {
        bail!(
            "accuracy",
            "targets must be class indices of shape {}, got {} {}",
            fmt_shape(predicted.shape()),
            targets.dtype(),
            fmt_shape(targets.shape())
        );
    }
    let hits = equal(&predicted.astype(DType::I32)?, &targets.astype(DType::I32)?)?;
    mean(&astype(&hits, DType::F32)?, Axes::All, false)
}
