//! Mixed precision: the loss computed in float16 from
//! float32 parameters, and the loss scaling that keeps small float16
//! cotangents from flushing to zero, fixed or adjusted as training goes
//! (as PyTorch's `GradScaler` does).

use super::module::Params;
use crate::array::Array;
use crate::dtype::DType;
use crate::error::{bail, Result};
use crate::ops::elementwise::{add, greater_equal, isfinite, logical_not, multiply, r#where};
use crate::transforms::compile;
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

    /// The scale the next gradient uses, a float32 scalar, after checking
    /// the settings.
    pub(crate) fn current_scale(&self) -> Result<Array> {
        // The scale is applied in float32: it must be a normal one there
        // (a dynamic scale's start was checked when it was made).
        let valid = match &self.loss_scale {
            LossScale::Fixed(s) => (*s as f32).is_normal() && *s > 0.0,
            LossScale::Dynamic(_) => true,
        };
        if !(self.compute.is_float() && valid) {
            bail!(
                "compile_value_and_grad_mixed",
                "needs a float compute dtype and a loss scale > 0 that float32 holds, got {} and {:?}",
                self.compute,
                self.loss_scale
            );
        }
        Ok(match &self.loss_scale {
            LossScale::Fixed(s) => Array::scalar(*s as f32),
            LossScale::Dynamic(s) => s.scale_array(),
        })
    }
}

/// How mixed precision scales the loss.
#[derive(Debug, Clone)]
pub enum LossScale {
    /// Always this. Gradients that overflow come back infinite or NaN.
    Fixed(f64),
    /// Lowered when gradients overflow and raised while they do not; the
    /// training loop applies each step only where the scaler finds its
    /// gradients finite.
    Dynamic(LossScaler),
}

/// The compiled update of a dynamic scale: `[grads..., scale, in a row,
/// skipped]` to `[finite, scale, in a row, skipped]`.
type ScaleUpdate = Box<dyn Fn(&[Array]) -> Result<Vec<Array>> + Send + Sync>;

struct ScalerState {
    /// The scale, the finite steps in a row since it last changed, and the
    /// steps skipped so far: float32 scalars that only the GPU updates.
    scale: Array,
    in_a_row: Array,
    skipped: Array,
    growth_factor: f64,
    backoff_factor: f64,
    growth_interval: usize,
    update: Option<ScaleUpdate>,
}

impl std::fmt::Debug for ScalerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "LossScaler(growth {} every {} steps, backoff {})",
            self.growth_factor, self.growth_interval, self.backoff_factor
        )
    }
}

/// A dynamic loss scale, shared by its clones: after each gradient, pass
/// it to [`LossScaler::update`], which gives a lazy bool (true where the
/// gradients are finite) for [`Optimizer::step_if`](crate::optimizers::Optimizer::step_if).
/// An overflow multiplies the scale by the backoff factor (0.5) and skips
/// the step; every `growth_interval` (2000) finite steps in a row multiply
/// it by the growth factor (2), as PyTorch's `GradScaler` does. All of it
/// runs on the GPU: nothing is read back, so the CPU keeps queueing steps
/// ahead (PyTorch's scaler reads the flag back every step).
///
/// ```
/// use kiln::nn::{self, Layer, Linear, LossScale, LossScaler, MixedPrecision};
/// use kiln::optimizers::{Adam, Optimizer};
/// use kiln::{random, Array, Axes, DType};
/// let model = Linear::new(3, 1, true, &random::key(0))?;
/// let scaler = LossScaler::new(1024.0)?;
/// let precision = MixedPrecision { compute: DType::F32, loss_scale: LossScale::Dynamic(scaler.clone()) };
/// let step = nn::compile_value_and_grad_mixed(&model, precision, |inputs: &[Array]| {
///     kiln::sum(&kiln::square(&model.forward(&inputs[0])?)?, Axes::All, false)
/// });
/// let mut optimizer = Optimizer::new(Adam::default(), 1e-3);
/// let x = Array::from_slice(&[1.0f32, 2.0, 3.0], &[1, 3])?;
/// let (_loss, grads) = step(&[x])?;
/// let finite = scaler.update(&grads)?;
/// optimizer.step_if(&model, &grads, &finite)?;
/// # #[cfg(not(target_arch = "wasm32"))]
/// assert_eq!((finite.item::<bool>()?, scaler.scale()?), (true, 1024.0));
/// # Ok::<(), kiln::Error>(())
/// ```
#[derive(Clone)]
pub struct LossScaler(Arc<Mutex<ScalerState>>);

impl std::fmt::Debug for LossScaler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.state().fmt(f)
    }
}

impl Default for LossScaler {
    /// PyTorch's defaults: from 2^16, halved on overflow, doubled after
    /// 2000 finite steps.
    fn default() -> LossScaler {
        LossScaler::new(65536.0).expect("a valid scale")
    }
}

impl LossScaler {
    /// A scaler from `initial_scale` (a normal float32 > 0), with a
    /// backoff factor of 0.5 and growth by 2 every 2000 finite steps.
    pub fn new(initial_scale: f64) -> Result<LossScaler> {
        if !((initial_scale as f32).is_normal() && initial_scale > 0.0) {
            bail!(
                "LossScaler",
                "the initial scale must be a normal float32 > 0, got {initial_scale}"
            );
        }
        Ok(LossScaler(Arc::new(Mutex::new(ScalerState {
            scale: Array::scalar(initial_scale as f32),
            in_a_row: Array::scalar(0.0f32),
            skipped: Array::scalar(0.0f32),
            growth_factor: 2.0,
            backoff_factor: 0.5,
            growth_interval: 2000,
            update: None,
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
            (s.growth_factor, s.growth_interval, s.update) = (factor, interval, None);
        }
        Ok(self)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, ScalerState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The scale the next gradient uses, as a lazy float32 scalar.
    pub(crate) fn scale_array(&self) -> Array {
        self.state().scale.clone()
    }

    /// The scale the next gradient uses (waits for the GPU).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn scale(&self) -> Result<f64> {
        Ok(self.scale_array().item::<f32>()? as f64)
    }

    /// How many steps [`LossScaler::update`] found overflowing so far
    /// (waits for the GPU).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn skipped_steps(&self) -> Result<usize> {
        let skipped = self.state().skipped.clone();
        Ok(skipped.item::<f32>()? as usize)
    }

    /// Whether every gradient in `grads` is finite, as a lazy bool scalar
    /// for [`Optimizer::step_if`](crate::optimizers::Optimizer::step_if),
    /// and the scale for the next step: lowered where not, raised after
    /// enough finite steps in a row. Nothing is read back. (The test is a
    /// float32 sum of squares: gradients so large that it overflows count
    /// as overflowing too.)
    pub fn update(&self, grads: &Params) -> Result<Array> {
        let mut args: Vec<Array> = grads
            .values()
            .map(|g| g.astype(DType::F32))
            .collect::<Result<_>>()?;
        if args.is_empty() {
            bail!("LossScaler::update", "no gradients given");
        }
        let mut s = self.state();
        args.extend([s.scale.clone(), s.in_a_row.clone(), s.skipped.clone()]);
        let (growth, backoff, interval) = (
            s.growth_factor as f32,
            s.backoff_factor as f32,
            s.growth_interval as f32,
        );
        let update = s.update.get_or_insert_with(|| {
            Box::new(compile(move |args: &[Array]| {
                let (grads, state) = args.split_at(args.len() - 3);
                let (scale, in_a_row, skipped) = (&state[0], &state[1], &state[2]);
                let finite = isfinite(&crate::ops::reduce::squared_norm(grads)?)?;
                let counted = add(in_a_row, &Array::scalar(1.0f32))?;
                let grow = greater_equal(&counted, &Array::scalar(interval))?;
                // Grown only while float32 holds the scale.
                let grown = multiply(scale, &Array::scalar(growth))?;
                let grown = r#where(&isfinite(&grown)?, &grown, scale)?;
                let kept = r#where(&grow, &grown, scale)?;
                let lowered = multiply(scale, &Array::scalar(backoff))?;
                let zero = Array::scalar(0.0f32);
                Ok(vec![
                    finite.clone(),
                    r#where(&finite, &kept, &lowered)?,
                    r#where(&finite, &r#where(&grow, &zero, &counted)?, &zero)?,
                    add(skipped, &logical_not(&finite)?.astype(DType::F32)?)?,
                ])
            }))
        });
        let mut out = update(&args)?.into_iter();
        let finite = out.next().expect("the flag");
        (s.scale, s.in_a_row, s.skipped) = (
            out.next().expect("the scale"),
            out.next().expect("the count"),
            out.next().expect("the skipped steps"),
        );
        Ok(finite)
    }
}
