//! Optimizers that update a module's trainable parameters from gradients
//! by path (as [`nn::value_and_grad`](crate::nn::value_and_grad) returns
//! them), following PyTorch's update rules; learning-rate schedules;
//! gradient clipping.
//!
//! ```
//! use kiln::nn::{self, Layer, Linear, Module};
//! use kiln::optimizers::{Adam, Optimizer};
//! use kiln::{random, Array, Axes};
//! let model = Linear::new(2, 1, true, &random::key(0))?;
//! let mut opt = Optimizer::new(Adam::default(), 1e-2);
//! let x = Array::from_slice(&[1.0f32, 2.0], &[1, 2])?;
//! for _ in 0..3 {
//!     let (loss, grads) = nn::value_and_grad(&model, || {
//!         kiln::sum(&kiln::square(&model.forward(&x)?)?, Axes::All, false)
//!     })?;
//!     opt.step(&model, &grads)?;
//! }
//! # Ok::<(), kiln::Error>(())
//! ```

mod rules;
pub mod schedules;
mod updates;

pub use rules::{Adagrad, Adam, AdamW, Lion, RmsProp, Rule, Sgd};
pub use schedules::{
    cosine_decay, exponential_decay, join_schedules, linear_schedule, step_decay, Schedule,
};

use crate::array::Array;
use crate::dtype::DType;
use crate::error::{bail, fmt_shape, Result};
use crate::nn::{Module, Params};
use crate::ops::creation::zeros_like;
use crate::ops::elementwise::{add, divide, minimum, multiply, sqrt};
use std::collections::BTreeMap;
pub(crate) use updates::Updates;

/// One parameter's updates so far (bias corrections and first-step rules
/// count them per parameter, as PyTorch does) and its rule's slots.
#[derive(Debug, Clone)]
struct ParamState {
    steps: usize,
    slots: Vec<Array>,
}

/// An update rule with its learning-rate schedule, step count and
/// per-parameter state.
#[derive(Debug)]
pub struct Optimizer<R: Rule> {
    /// The update rule and its hyperparameters.
    pub rule: R,
    /// The learning rate by step (a constant converts into one).
    pub learning_rate: Schedule,
    /// When set, each update first scales the gradients so that their
    /// global L2 norm is at most this, as [`clip_grad_norm`] does, but
    /// inside the update's fused kernels instead of a multiply per
    /// gradient.
    pub max_grad_norm: Option<f64>,
    /// The global norm of the last update's gradients before clipping.
    grad_norm: Option<Array>,
    step: usize,
    /// Each parameter's state by path.
    state: BTreeMap<String, ParamState>,
    /// The rule's update, compiled per parameter shape, and the rule it
    /// was traced from as `Debug` shows it (a changed rule is traced again).
    updates: (String, Updates),
}

impl<R: Rule + Clone + std::fmt::Debug> Optimizer<R> {
    /// `rule` at `learning_rate` (a number or a [`Schedule`]), with no
    /// steps taken and no state yet.
    pub fn new(rule: R, learning_rate: impl Into<Schedule>) -> Optimizer<R> {
        Optimizer {
            rule,
            learning_rate: learning_rate.into(),
            max_grad_norm: None,
            grad_norm: None,
            step: 0,
            state: BTreeMap::new(),
            updates: Default::default(),
        }
    }

    /// The number of updates so far.
    pub fn steps(&self) -> usize {
        self.step
    }

    /// The learning rate the next update uses.
    pub fn current_learning_rate(&self) -> f64 {
        self.learning_rate.at(self.step)
    }

    /// [`Optimizer::max_grad_norm`] set to `max_norm`.
    pub fn with_max_grad_norm(mut self, max_norm: f64) -> Optimizer<R> {
        self.max_grad_norm = Some(max_norm);
        self
    }

    /// The global L2 norm of the last update's gradients before clipping
    /// (a lazy float32 scalar), where [`Optimizer::max_grad_norm`] is set.
    pub fn grad_norm(&self) -> Option<&Array> {
        self.grad_norm.as_ref()
    }

    /// Updates `model`'s parameters named in `grads` (lazily: nothing runs
    /// until the parameters are evaluated; see [`Optimizer::step`]).
    pub fn update(&mut self, model: &(impl Module + ?Sized), grads: &Params) -> Result<()> {
        self.update_where(model, grads, None)
    }

    /// [`Optimizer::update`] where `apply` (a bool scalar, lazy: the GPU
    /// decides, with no read-back) is true; where it is false, every
    /// parameter and state slot keeps its value (as a dynamic loss scale
    /// skips a step whose gradients overflow: see
    /// [`LossScaler::update`](crate::nn::LossScaler::update)). The step
    /// counts that the schedule and bias corrections follow count the
    /// step either way.
    pub fn update_if(
        &mut self,
        model: &(impl Module + ?Sized),
        grads: &Params,
        apply: &Array,
    ) -> Result<()> {
        if apply.dtype() != DType::Bool || apply.ndim() != 0 {
            bail!(
                "optimizer update",
                "the condition must be a bool scalar, got {} of shape {}",
                apply.dtype(),
                fmt_shape(apply.shape())
            );
        }
        self.update_where(model, grads, Some(apply))
    }

    fn update_where(
        &mut self,
        model: &(impl Module + ?Sized),
        grads: &Params,
        apply: Option<&Array>,
    ) -> Result<()> {
        let mut targets = Vec::new();
        let mut problem = None;
        model.for_each_parameter(&mut |path, p| {
            if let Some(g) = grads.get(path) {
                let value = p.value();
                if problem.is_none() && g.shape() != value.shape() {
                    problem = Some(format!(
                        "the gradient of {path} has shape {}, the parameter {}",
                        fmt_shape(g.shape()),
                        fmt_shape(value.shape())
                    ));
                }
                if problem.is_none() && !p.is_trainable() {
                    problem = Some(format!("{path} is not trainable (frozen or a buffer)"));
                }
                targets.push((path.to_string(), p.clone(), value, g.clone()));
            }
        });
        if let Some(problem) = problem {
            bail!("optimizer update", "{problem}");
        }
        if let Some(unknown) = grads.keys().find(|k| !targets.iter().any(|t| &t.0 == *k)) {
            bail!(
                "optimizer update",
                "the model has no parameter named {unknown:?}"
            );
        }
        if let Some(max_norm) = self.max_grad_norm {
            if !(max_norm.is_finite() && max_norm >= 0.0) {
                bail!(
                    "optimizer update",
                    "max_grad_norm must be a finite number >= 0, got {max_norm}"
                );
            }
        }
        // Check everything before changing anything.
        let slot_count = self.rule.slots().len();
        for (path, _, value, _) in &targets {
            if let Some(st) = self.state.get(path) {
                if st.slots.len() != slot_count {
                    bail!(
                        "optimizer update",
                        "the state of {path} has {} slots, the rule needs {slot_count} (was the rule changed after the first step?)",
                        st.slots.len()
                    );
                }
                if let Some(a) = st.slots.iter().find(|a| a.shape() != value.shape()) {
                    bail!(
                        "optimizer update",
                        "the state of {path} has shape {}, the parameter {}",
                        fmt_shape(a.shape()),
                        fmt_shape(value.shape())
                    );
                }
            }
        }
        self.step += 1;
        let lr = self.learning_rate.at(self.step - 1);
        let traced = format!("{:?}", self.rule);
        if traced != self.updates.0 {
            self.updates = (traced, Updates::default());
        }
        let updates = &mut self.updates.1;
        let factor = match self.max_grad_norm {
            Some(max_norm) if !targets.is_empty() => {
                let grads: Vec<Array> = targets.iter().map(|t| t.3.clone()).collect();
                let (norm, factor) = updates.clip_factor(&grads, max_norm)?;
                self.grad_norm = Some(norm);
                Some(factor)
            }
            _ => None,
        };
        for (path, p, value, g) in targets {
            if !self.state.contains_key(&path) {
                let slots = (0..slot_count)
                    .map(|_| zeros_like(&value))
                    .collect::<Result<Vec<_>>>()?;
                self.state
                    .insert(path.clone(), ParamState { steps: 0, slots });
            }
            let st = self.state.get_mut(&path).expect("just inserted");
            st.steps += 1;
            let g = g.astype(value.dtype())?;
            let scale = factor
                .as_ref()
                .map(|f| f.astype(value.dtype()))
                .transpose()?;
            p.set(updates.apply(
                &self.rule,
                (st.steps, lr),
                &value,
                &g,
                scale.as_ref(),
                apply,
                &mut st.slots,
            )?);
        }
        Ok(())
    }

    /// [`Optimizer::update`], then evaluates the parameters and the state,
    /// so that the next step starts from values rather than a growing graph.
    pub fn step(&mut self, model: &(impl Module + ?Sized), grads: &Params) -> Result<()> {
        self.update(model, grads)?;
        self.evaluate(model)
    }

    /// [`Optimizer::update_if`], then evaluates as [`Optimizer::step`] does.
    pub fn step_if(
        &mut self,
        model: &(impl Module + ?Sized),
        grads: &Params,
        apply: &Array,
    ) -> Result<()> {
        self.update_if(model, grads, apply)?;
        self.evaluate(model)
    }

    fn evaluate(&self, model: &(impl Module + ?Sized)) -> Result<()> {
        let mut arrays: Vec<Array> = model.parameters().into_values().collect();
        arrays.extend(self.state.values().flat_map(|st| st.slots.iter().cloned()));
        crate::array::eval(&arrays.iter().collect::<Vec<_>>())
    }

    /// The state as arrays by name: `"step"` (the updates so far, which
    /// the schedule follows), and for each parameter `"step.<path>"` (its
    /// own updates) and `"<slot>.<path>"`; to save with
    /// [`save_safetensors`](crate::io::save_safetensors).
    pub fn state(&self) -> Params {
        let mut out = Params::new();
        out.insert("step".into(), Array::scalar(self.step as u32));
        for (path, st) in &self.state {
            out.insert(format!("step.{path}"), Array::scalar(st.steps as u32));
            for (name, a) in self.rule.slots().iter().zip(&st.slots) {
                out.insert(format!("{name}.{path}"), a.clone());
            }
        }
        out
    }

    /// Restores what [`Optimizer::state`] returned (blocks to read the
    /// step count; native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load_state(&mut self, state: &Params) -> Result<()> {
        pollster::block_on(self.load_state_async(state))
    }

    /// Restores what [`Optimizer::state`] returned.
    pub async fn load_state_async(&mut self, state: &Params) -> Result<()> {
        let op = "optimizer load_state";
        let count = |name: &str, a: &Array| -> Result<Array> {
            if a.size() != 1 || !a.dtype().is_int() {
                bail!(
                    op,
                    "{name:?} must be one integer, got {} {}",
                    a.dtype(),
                    fmt_shape(a.shape())
                );
            }
            a.astype(DType::U32)
        };
        let Some(step) = state.get("step") else {
            bail!(op, "the state has no \"step\"");
        };
        let step = count("step", step)?;
        let slots = self.rule.slots();
        let mut steps = BTreeMap::new();
        let mut restored: BTreeMap<String, Vec<Option<Array>>> = BTreeMap::new();
        for (name, a) in state.iter().filter(|(k, _)| *k != "step") {
            let Some((slot, path)) = name.split_once('.') else {
                bail!(op, "unexpected state entry {name:?}");
            };
            if slot == "step" {
                steps.insert(path.to_string(), count(name, a)?);
                continue;
            }
            let Some(i) = slots.iter().position(|s| *s == slot) else {
                bail!(
                    op,
                    "{name:?} is not a slot of this optimizer (its slots: {slots:?})"
                );
            };
            restored
                .entry(path.to_string())
                .or_insert_with(|| vec![None; slots.len()])[i] = Some(a.clone());
        }
        let mut by_path = BTreeMap::new();
        for path in steps.keys().chain(restored.keys()) {
            let Some(n) = steps.get(path) else {
                bail!(op, "the state of {path:?} has no \"step.{path}\"");
            };
            let entries = restored
                .get(path)
                .cloned()
                .unwrap_or_else(|| vec![None; slots.len()]);
            let Some(full) = entries.iter().cloned().collect::<Option<Vec<Array>>>() else {
                bail!(
                    op,
                    "the state of {path:?} misses some of the slots {slots:?}"
                );
            };
            by_path.insert(path.clone(), (n.clone(), full));
        }
        // Read the counts last, so that a bad state changes nothing.
        let total = step.item_async::<u32>().await? as usize;
        let mut state = BTreeMap::new();
        for (path, (n, slots)) in by_path {
            let steps = n.item_async::<u32>().await? as usize;
            state.insert(path, ParamState { steps, slots });
        }
        self.step = total;
        self.state = state;
        Ok(())
    }
}

/// Scales `grads` so that their global L2 norm is at most `max_norm`
/// (PyTorch's `clip_grad_norm_`: the factor is `max_norm / (norm + 1e-6)`
/// when below 1). Returns the clipped gradients and the norm before
/// clipping, computed on the GPU (no sync).
pub fn clip_grad_norm(grads: &Params, max_norm: f64) -> Result<(Params, Array)> {
    let all: Vec<Array> = grads.values().cloned().collect();
    let (norm, factor) = clip_factor(&all, &Array::scalar(max_norm as f32))?;
    let clipped = grads
        .iter()
        .map(|(k, g)| Ok((k.clone(), multiply(g, &factor.astype(g.dtype())?)?)))
        .collect::<Result<Params>>()?;
    Ok((clipped, norm))
}

/// The global L2 norm of `grads` (float32) and the factor that scales
/// them to a norm of at most `max_norm` (a float32 scalar).
fn clip_factor(grads: &[Array], max_norm: &Array) -> Result<(Array, Array)> {
    if grads.is_empty() {
        bail!("clip_grad_norm", "no gradients given");
    }
    let total = crate::ops::reduce::squared_norm(grads)?;
    let norm = sqrt(&total)?;
    let factor = minimum(
        &divide(max_norm, &add(&norm, &Array::scalar(1e-6f32))?)?,
        &Array::scalar(1.0f32),
    )?;
    Ok((norm, factor))
}
