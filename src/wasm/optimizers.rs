//! Optimizers for JavaScript: the update rules, learning-rate schedules and
//! gradient clipping of [`crate::optimizers`], one parameter at a time.
//! `www/src/optimizers.js` keeps each parameter's state and step count over
//! pytrees, as [`crate::optimizers::Optimizer`] does over modules.

use super::{arrays_of, wrap, wrap_all, JsArray, JsResult};
use crate::error::invalid;
use crate::optimizers::{self, Adagrad, Adam, AdamW, Lion, RmsProp, Rule, Sgd, Updates};
use std::cell::RefCell;
use std::sync::Arc;
use wasm_bindgen::prelude::*;

/// An update rule with its hyperparameters, and its update compiled per
/// parameter shape.
#[wasm_bindgen]
pub struct OptimizerRule {
    rule: Arc<dyn Rule>,
    updates: RefCell<Updates>,
}

fn rule(rule: impl Rule) -> OptimizerRule {
    OptimizerRule {
        rule: Arc::new(rule),
        updates: RefCell::new(Updates::default()),
    }
}

#[wasm_bindgen]
impl OptimizerRule {
    /// Names of the per-parameter state arrays, which start at zero.
    pub fn slots(&self) -> Vec<String> {
        self.rule.slots().iter().map(|s| s.to_string()).collect()
    }

    /// `[new parameter, ...new state]` for parameter `p` with gradient `g`
    /// at its update `step` (1 for the first) and learning rate `lr`.
    pub fn apply(
        &self,
        step: u32,
        lr: f64,
        p: &JsArray,
        g: &JsArray,
        state: Vec<JsArray>,
    ) -> JsResult<Vec<JsArray>> {
        let op = "optimizer update";
        let (p, g) = (&p.inner, &g.inner);
        if g.shape() != p.shape() {
            return Err(invalid(
                op,
                format!(
                    "the gradient has shape {}, the parameter {}",
                    crate::error::fmt_shape(g.shape()),
                    crate::error::fmt_shape(p.shape())
                ),
            )
            .into());
        }
        let mut state = arrays_of(&state);
        if state.len() != self.rule.slots().len() || state.iter().any(|s| s.shape() != p.shape()) {
            return Err(invalid(op, "the state does not fit the parameter").into());
        }
        let updated = self.updates.borrow_mut().apply(
            &self.rule,
            (step.max(1) as usize, lr),
            p,
            &g.astype(p.dtype())?,
            None,
            None,
            &mut state,
        )?;
        wrap_all(op, std::iter::once(updated).chain(state))
    }
}

/// `kiln.optimizers.SGD`'s rule.
#[wasm_bindgen(js_name = sgdRule)]
pub fn sgd_rule(momentum: f64, dampening: f64, nesterov: bool, weight_decay: f64) -> OptimizerRule {
    rule(Sgd {
        momentum,
        dampening,
        nesterov,
        weight_decay,
    })
}

/// `kiln.optimizers.Adam`'s rule.
#[wasm_bindgen(js_name = adamRule)]
pub fn adam_rule(beta1: f64, beta2: f64, eps: f64, weight_decay: f64) -> OptimizerRule {
    rule(Adam {
        betas: (beta1, beta2),
        eps,
        weight_decay,
    })
}

/// `kiln.optimizers.AdamW`'s rule.
#[wasm_bindgen(js_name = adamwRule)]
pub fn adamw_rule(beta1: f64, beta2: f64, eps: f64, weight_decay: f64) -> OptimizerRule {
    rule(AdamW {
        betas: (beta1, beta2),
        eps,
        weight_decay,
    })
}

/// `kiln.optimizers.RMSprop`'s rule.
#[wasm_bindgen(js_name = rmspropRule)]
pub fn rmsprop_rule(
    alpha: f64,
    eps: f64,
    momentum: f64,
    centered: bool,
    weight_decay: f64,
) -> OptimizerRule {
    rule(RmsProp {
        alpha,
        eps,
        momentum,
        centered,
        weight_decay,
    })
}

/// `kiln.optimizers.Adagrad`'s rule.
#[wasm_bindgen(js_name = adagradRule)]
pub fn adagrad_rule(eps: f64, weight_decay: f64) -> OptimizerRule {
    rule(Adagrad { eps, weight_decay })
}

/// `kiln.optimizers.Lion`'s rule.
#[wasm_bindgen(js_name = lionRule)]
pub fn lion_rule(beta1: f64, beta2: f64, weight_decay: f64) -> OptimizerRule {
    rule(Lion {
        betas: (beta1, beta2),
        weight_decay,
    })
}

/// A learning rate by step.
#[wasm_bindgen]
pub struct LearningRate {
    schedule: optimizers::Schedule,
}

#[wasm_bindgen]
impl LearningRate {
    /// The learning rate at `step` (0 for the first update).
    pub fn at(&self, step: u32) -> f64 {
        self.schedule.at(step as usize)
    }
}

fn schedule(schedule: optimizers::Schedule) -> LearningRate {
    LearningRate { schedule }
}

/// `init · rate^⌊step / stepSize⌋`.
#[wasm_bindgen(js_name = stepDecay)]
pub fn step_decay(init: f64, rate: f64, step_size: u32) -> LearningRate {
    schedule(optimizers::step_decay(init, rate, step_size as usize))
}

/// `init · rate^step`.
#[wasm_bindgen(js_name = exponentialDecay)]
pub fn exponential_decay(init: f64, rate: f64) -> LearningRate {
    schedule(optimizers::exponential_decay(init, rate))
}

/// Half a cosine from `init` to `end` over `decay_steps`, then `end`.
#[wasm_bindgen(js_name = cosineDecay)]
pub fn cosine_decay(init: f64, decay_steps: u32, end: f64) -> LearningRate {
    schedule(optimizers::cosine_decay(init, decay_steps as usize, end))
}

/// A line from `init` to `end` over `steps`, then `end`.
#[wasm_bindgen(js_name = linearSchedule)]
pub fn linear_schedule(init: f64, end: f64, steps: u32) -> LearningRate {
    schedule(optimizers::linear_schedule(init, end, steps as usize))
}

/// `[...clipped, norm]`: `grads` scaled so that their global L2 norm is at
/// most `max_norm`, and the norm before clipping.
#[wasm_bindgen(js_name = clipGradNorm)]
pub fn clip_grad_norm(grads: Vec<JsArray>, max_norm: f64) -> JsResult<Vec<JsArray>> {
    let op = "clip_grad_norm";
    if !(max_norm.is_finite() && max_norm >= 0.0) {
        return Err(invalid(
            op,
            format!("maxNorm must be a finite number >= 0, got {max_norm}"),
        )
        .into());
    }
    // Named by position, so that the order comes back as it went in.
    let named: crate::nn::Params = arrays_of(&grads)
        .into_iter()
        .enumerate()
        .map(|(i, g)| (format!("{i:010}"), g))
        .collect();
    let (clipped, norm) = optimizers::clip_grad_norm(&named, max_norm)?;
    let mut out = wrap_all(op, clipped.into_values())?;
    out.push(wrap(op, Ok(norm))?);
    Ok(out)
}
