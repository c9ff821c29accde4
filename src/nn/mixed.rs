//! Mixed precision: the loss computed in float16 from
//! float32 parameters, and the loss scaling that keeps small float16
//! cotangents from flushing to zero, fixed or adjusted as training goes
//! (as PyTorch's `GradScaler` does).

use super::module::Params;
use crate::array::Array;
use crate::dtype::DType;
use crate::error::{bail, Result};
use crate::ops::elementwise::isfinite;
use std::sync::{Arc, Mutex};

/// Mixed precision for [`compile_value_and_grad_mixed`](super::compile_value_and_grad_mixed):
/// the loss computes in a narrower float dtype while the parameters (and
/// so the gradients and the optimizer's state) stay in theirs.
#[derive(Debug, Clone)]
pub struct MixedPrecision {
    /// The dtype the loss computes in: the float trainable parameters are
    /// cast to it (float16: matmuls on tensor cores where the adapter has
    /// them; layer norm, softmax, attention and the losses still
    /// accumulate in float32).
    pub compute: DType,
    /// What the loss is multiplied by before differentiation (the
    /// gradients are divided by it after).
    pub loss_scale: LossScale,
}

impl Default for MixedPrecision {
    /// Float16 with a dynamic loss scale from 2^16 ([`LossScaler::default`]).
    fn default() -> MixedPrecision {
        MixedPrecision {
            compute: DType::F16,
            loss_scale: LossScale::Dynamic(LossScaler::default()),
        }
    }
}

impl MixedPrecision {
    /// The scaler of a dynamic loss scale.
    pub fn scaler(&self) -> Option<&LossScaler> {
        match &self.loss_scale {
            LossScale::Dynamic(s) => Some(s),
            LossScale::Fixed(_) => None,
        }
    }

    /// The scale the next gradient uses, after checking the settings.
    pub(crate) fn current_scale(&self) -> Result<f64> {
        let scale = match &self.loss_scale {
            LossScale::Fixed(s) => *s,
            LossScale::Dynamic(s) => s.scale(),
        };
        // The scale is applied in float32: it must be a normal one there.
        if !(self.compute.is_float() && (scale as f32).is_normal() && scale > 0.0) {
            bail!(
                "compile_value_and_grad_mixed",
                "needs a float compute dtype and a loss scale > 0 that float32 holds, got {} and {}",
                self.compute,
                scale
            );
        }
        Ok(scale)
    }
}

/// How mixed precision scales the loss.
#[derive(Debug, Clone)]
pub enum LossScale {
    /// Always this. Gradients that overflow come back infinite or NaN.
    Fixed(f64),
    /// Lowered when gradients overflow and raised while they do not; the
    /// training loop asks the scaler whether to apply each step.
    Dynamic(LossScaler),
}

#[derive(Debug)]
struct ScalerState {
    scale: f64,
    growth_factor: f64,
    backoff_factor: f64,
    growth_interval: usize,
    finite_in_a_row: usize,
    skipped: usize,
}

/// A dynamic loss scale, shared by its clones: after each gradient, call
/// [`LossScaler::update`] with it and apply the optimizer only when it
/// returns `true` (the gradients are finite). An overflow multiplies the
/// scale by the backoff factor (0.5) and skips the step; every
/// `growth_interval` (2000) finite steps in a row multiply it by the
/// growth factor (2), as PyTorch's `GradScaler` does.
///
/// ```
/// use kiln::nn::{self, Layer, Linear, LossScale, LossScaler, MixedPrecision};
/// use kiln::optimizers::{Adam, Optimizer};
/// use kiln::{random, Array, Axes, DType};
/// let model = Linear::new(3, 1, true, &random::key(0))?;
/// let scaler = LossScaler::new(1024.0)?;
/// let precision = MixedPrecision { compute: DType::F16, loss_scale: LossScale::Dynamic(scaler.clone()) };
/// let step = nn::compile_value_and_grad_mixed(&model, precision, |inputs: &[Array]| {
///     kiln::sum(&kiln::square(&model.forward(&inputs[0].astype(DType::F16)?)?)?, Axes::All, false)
/// });
/// let mut optimizer = Optimizer::new(Adam::default(), 1e-3);
/// let x = Array::from_slice(&[1.0f32, 2.0, 3.0], &[1, 3])?;
/// let (_loss, grads) = step(&[x])?;
/// if scaler.update(&grads)? {
///     optimizer.step(&model, &grads)?;
/// }
/// # Ok::<(), kiln::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct LossScaler(Arc<Mutex<ScalerState>>);

impl Default for LossScaler {
    /// PyTorch's defaults: from 2^16, halved on overflow, doubled after
    /// 2000 finite steps.
    fn default() -> LossScaler {
        LossScaler::new(65536.0).expect("a valid scale")
    }
}

impl LossScaler {
    /// A scaler from `initial_scale` (finite, > 0), with a backoff factor
    /// of 0.5 and growth by 2 every 2000 finite steps.
    pub fn new(initial_scale: f64) -> Result<LossScaler> {
        if !(initial_scale.is_finite() && initial_scale > 0.0) {
            bail!(
                "LossScaler",
                "the initial scale must be finite and > 0, got {initial_scale}"
            );
        }
        Ok(LossScaler(Arc::new(Mutex::new(ScalerState {
            scale: initial_scale,
            growth_factor: 2.0,
            backoff_factor: 0.5,
            growth_interval: 2000,
            finite_in_a_row: 0,
            skipped: 0,
        }))))
    }

    /// This scaler with the scale multiplied by `factor` (> 1) after every
    /// `interval` (> 0) finite steps in a row.
    pub fn with_growth(self, factor: f64, interval: usize) -> Result<LossScaler> {
        if !(factor.is_finite() && factor > 1.0 && interval > 0) {
            bail!(
                "LossScaler",
                "growth needs a finite factor > 1 and an interval > 0, got {factor} and {interval}"
            );
        }
        {
            let mut s = self.state();
            (s.growth_factor, s.growth_interval) = (factor, interval);
        }
        Ok(self)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ScalerState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The scale the next gradient uses.
    pub fn scale(&self) -> f64 {
        self.state().scale
    }

    /// How many steps [`LossScaler::update`] found overflowing so far.
    pub fn skipped_steps(&self) -> usize {
        self.state().skipped
    }

    /// Whether every gradient in `grads` is finite, adjusting the scale
    /// for the next step: `false` (skip this step) lowers it. Waits for
    /// the gradients and reads one value back (a float32 sum of squares:
    /// gradients so large that it overflows count as overflowing too).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn update(&self, grads: &Params) -> Result<bool> {
        let finite = match all_finite(grads)? {
            Some(flag) => flag.item::<bool>()?,
            None => true,
        };
        Ok(self.record(finite))
    }

    /// [`LossScaler::update`], awaiting the read-back (the only way in a
    /// browser).
    pub async fn update_async(&self, grads: &Params) -> Result<bool> {
        let finite = match all_finite(grads)? {
            Some(flag) => flag.item_async::<bool>().await?,
            None => true,
        };
        Ok(self.record(finite))
    }

    /// Adjusts the scale after a step whose gradients were `finite` or not.
    fn record(&self, finite: bool) -> bool {
        let mut s = self.state();
        if finite {
            s.finite_in_a_row += 1;
            if s.finite_in_a_row == s.growth_interval {
                let grown = s.scale * s.growth_factor;
                // Stay where float32 can hold the scale.
                if grown <= f32::MAX as f64 {
                    s.scale = grown;
                }
                s.finite_in_a_row = 0;
            }
        } else {
            s.scale *= s.backoff_factor;
            s.finite_in_a_row = 0;
            s.skipped += 1;
        }
        finite
    }
}

/// Whether every element of `grads` is finite, as a lazy bool scalar
/// (`None` for no gradients).
fn all_finite(grads: &Params) -> Result<Option<Array>> {
    let arrays: Vec<Array> = grads
        .values()
        .map(|g| g.astype(DType::F32))
        .collect::<Result<_>>()?;
    if arrays.is_empty() {
        return Ok(None);
    }
    let total = crate::ops::reduce::squared_norm(&arrays)?;
    isfinite(&total).map(Some)
}
