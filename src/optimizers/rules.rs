//! Update rules. Each follows the PyTorch optimizer of the same name
//! (Lion: Chen et al. 2023, as in MLX); weight decay is L2 (added to the
//! gradient) except in AdamW and Lion, where it shrinks the parameters.

use crate::array::Array;
use crate::error::Result;
use crate::ops::elementwise::{add, divide, multiply, sign, sqrt, square, subtract};

/// How one parameter is updated from its gradient. The optimizers trace
/// [`Rule::apply`] once per parameter shape and replay it with its chain of
/// elementwise ops fused (see [`compile`](crate::compile)): every number
/// that changes from step to step (the learning rate, bias corrections,
/// first-step factors) must come from the coefficients, while the rule's
/// own fields are fixed into the trace (an [`Optimizer`](super::Optimizer)
/// whose rule changed, as `Debug` shows it, traces it again), and the
/// compiled update keeps a copy of the rule (hence `Send + Sync + 'static`:
/// rules are plain data).
pub trait Rule: Send + Sync + 'static {
    /// Names of the per-parameter state arrays, which start at zero.
    fn slots(&self) -> &'static [&'static str];

    /// The numbers update `step` (1 for the first) at learning rate `lr`
    /// depends on, given to [`Rule::apply`] as scalars in this order.
    fn coefficients(&self, step: usize, lr: f64) -> Vec<f64>;

    /// The new value of parameter `p` with gradient `g`, from the
    /// [`Rule::coefficients`] `c` of the update, updating `state` in place.
    fn apply(&self, c: &[Array], p: &Array, g: &Array, state: &mut [Array]) -> Result<Array>;
}

/// A shared rule updates as the rule it points to.
impl<R: Rule + ?Sized> Rule for std::sync::Arc<R> {
    fn slots(&self) -> &'static [&'static str] {
        (**self).slots()
    }

    fn coefficients(&self, step: usize, lr: f64) -> Vec<f64> {
        (**self).coefficients(step, lr)
    }

    fn apply(&self, c: &[Array], p: &Array, g: &Array, state: &mut [Array]) -> Result<Array> {
        (**self).apply(c, p, g, state)
    }
}

fn s(value: f64, like: &Array) -> Array {
    Array::scalar_of(value, like.dtype())
}

/// `a·x + b·y`.
fn blend(a: f64, x: &Array, b: f64, y: &Array) -> Result<Array> {
    add(&multiply(x, &s(a, x))?, &multiply(y, &s(b, y))?)
}

/// `g + wd·p` (L2 weight decay), or `g` when `wd` is zero.
fn decayed(g: &Array, p: &Array, wd: f64) -> Result<Array> {
    if wd == 0.0 {
        Ok(g.clone())
    } else {
        blend(1.0, g, wd, p)
    }
}

/// `p - lr·u`, the learning rate a scalar array.
fn descend(p: &Array, lr: &Array, u: &Array) -> Result<Array> {
    subtract(p, &multiply(u, lr)?)
}

/// Stochastic gradient descent with optional momentum (the first step's
/// buffer is the gradient), Nesterov momentum and weight decay.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sgd {
    /// The momentum factor; 0 (the default) for plain SGD.
    pub momentum: f64,
    /// How much of each gradient the momentum buffer leaves out (0 to 1).
    pub dampening: f64,
    /// Whether to step along the gradient plus momentum times the buffer.
    pub nesterov: bool,
    /// L2 penalty, added to the gradient as `weight_decay · p`.
    pub weight_decay: f64,
}

impl Rule for Sgd {
    fn slots(&self) -> &'static [&'static str] {
        if self.momentum == 0.0 {
            &[]
        } else {
            &["momentum"]
        }
    }

    /// The learning rate, then the buffer's factors: the first step's
    /// buffer is the gradient (0, 1), later ones `momentum · buffer +
    /// (1 - dampening) · g`.
    fn coefficients(&self, step: usize, lr: f64) -> Vec<f64> {
        if step == 1 {
            vec![lr, 0.0, 1.0]
        } else {
            vec![lr, self.momentum, 1.0 - self.dampening]
        }
    }

    fn apply(&self, c: &[Array], p: &Array, g: &Array, state: &mut [Array]) -> Result<Array> {
        let g = decayed(g, p, self.weight_decay)?;
        if self.momentum == 0.0 {
            return descend(p, &c[0], &g);
        }
        let buf = add(&multiply(&state[0], &c[1])?, &multiply(&g, &c[2])?)?;
        state[0] = buf.clone();
        let u = if self.nesterov {
            blend(1.0, &g, self.momentum, &buf)?
        } else {
            buf
        };
        descend(p, &c[0], &u)
    }
}

/// Adam (Kingma and Ba 2015) with bias correction; `weight_decay` is L2.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adam {
    /// Decay rates `(β₁, β₂)` of the running means of the gradients and
    /// of their squares.
    pub betas: (f64, f64),
    /// Added to the denominator for stability.
    pub eps: f64,
    /// L2 penalty, added to the gradient as `weight_decay · p`.
    pub weight_decay: f64,
}

/// The state of [`Adam`] and [`AdamW`]: the running means of the gradients
/// and of their squares.
const ADAM_SLOTS: &[&str] = &["m", "v"];

impl Default for Adam {
    fn default() -> Adam {
        Adam {
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

impl Adam {
    /// The learning rate over the first bias correction, the inverse
    /// square root of the second, and the decoupled decay factor
    /// `1 - lr·weight_decay`.
    fn coefficients(&self, step: usize, lr: f64) -> Vec<f64> {
        let (b1, b2) = self.betas;
        let correction1 = 1.0 - b1.powi(step as i32);
        let correction2 = 1.0 - b2.powi(step as i32);
        vec![
            lr / correction1,
            1.0 / correction2.sqrt(),
            1.0 - lr * self.weight_decay,
        ]
    }

    /// The Adam update, with L2 weight decay (added to the gradient) or
    /// `decoupled` decay (the parameters shrink by `1 - lr·weight_decay`
    /// first): `p - lr/(1-β₁ᵗ) · m / (√v / √(1-β₂ᵗ) + eps)`, updating `m`, `v`.
    fn update(
        &self,
        decoupled: bool,
        c: &[Array],
        p: &Array,
        g: &Array,
        state: &mut [Array],
    ) -> Result<Array> {
        let (base, g) = if decoupled {
            (multiply(p, &c[2])?, g.clone())
        } else {
            (p.clone(), decayed(g, p, self.weight_decay)?)
        };
        let (b1, b2) = self.betas;
        let m = blend(b1, &state[0], 1.0 - b1, &g)?;
        let v = blend(b2, &state[1], 1.0 - b2, &square(&g)?)?;
        let denom = add(&multiply(&sqrt(&v)?, &c[1])?, &s(self.eps, &v))?;
        let u = multiply(&divide(&m, &denom)?, &c[0])?;
        state[0] = m;
        state[1] = v;
        subtract(&base, &u)
    }
}

impl Rule for Adam {
    fn slots(&self) -> &'static [&'static str] {
        ADAM_SLOTS
    }

    fn coefficients(&self, step: usize, lr: f64) -> Vec<f64> {
        Adam::coefficients(self, step, lr)
    }

    fn apply(&self, c: &[Array], p: &Array, g: &Array, state: &mut [Array]) -> Result<Array> {
        self.update(false, c, p, g, state)
    }
}

/// Adam with decoupled weight decay (Loshchilov and Hutter 2019): the
/// parameters shrink by `1 - lr·weight_decay` before the Adam step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamW {
    /// Decay rates `(β₁, β₂)` of the running means of the gradients and
    /// of their squares.
    pub betas: (f64, f64),
    /// Added to the denominator for stability.
    pub eps: f64,
    /// Decoupled decay: each step scales the parameters by
    /// `1 - lr · weight_decay`.
    pub weight_decay: f64,
}

impl Default for AdamW {
    fn default() -> AdamW {
        AdamW {
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

impl AdamW {
    /// The same hyperparameters as an [`Adam`], whose update this shares.
    fn as_adam(&self) -> Adam {
        Adam {
            betas: self.betas,
            eps: self.eps,
            weight_decay: self.weight_decay,
        }
    }
}

impl Rule for AdamW {
    fn slots(&self) -> &'static [&'static str] {
        ADAM_SLOTS
    }

    fn coefficients(&self, step: usize, lr: f64) -> Vec<f64> {
        self.as_adam().coefficients(step, lr)
    }

    fn apply(&self, c: &[Array], p: &Array, g: &Array, state: &mut [Array]) -> Result<Array> {
        self.as_adam().update(true, c, p, g, state)
    }
}

/// RMSprop (Hinton): divides by a running root mean square of the
/// gradients; optionally centred (subtracting the running mean's square)
/// and with momentum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RmsProp {
    /// The decay rate of the running means.
    pub alpha: f64,
    /// Added to the denominator for stability.
    pub eps: f64,
    /// The momentum factor; 0 for none.
    pub momentum: f64,
    /// Whether to subtract the square of the running mean gradient.
    pub centered: bool,
    /// L2 penalty, added to the gradient as `weight_decay · p`.
    pub weight_decay: f64,
}

impl Default for RmsProp {
    fn default() -> RmsProp {
        RmsProp {
            alpha: 0.99,
            eps: 1e-8,
            momentum: 0.0,
            centered: false,
            weight_decay: 0.0,
        }
    }
}

impl Rule for RmsProp {
    fn slots(&self) -> &'static [&'static str] {
        match (self.centered, self.momentum > 0.0) {
            (false, false) => &["square_avg"],
            (true, false) => &["square_avg", "grad_avg"],
            (false, true) => &["square_avg", "momentum"],
            (true, true) => &["square_avg", "grad_avg", "momentum"],
        }
    }

    fn coefficients(&self, _: usize, lr: f64) -> Vec<f64> {
        vec![lr]
    }

    fn apply(&self, c: &[Array], p: &Array, g: &Array, state: &mut [Array]) -> Result<Array> {
        let a = self.alpha;
        let g = decayed(g, p, self.weight_decay)?;
        state[0] = blend(a, &state[0], 1.0 - a, &square(&g)?)?;
        let mut avg = state[0].clone();
        if self.centered {
            state[1] = blend(a, &state[1], 1.0 - a, &g)?;
            avg = subtract(&avg, &square(&state[1])?)?;
        }
        let denom = add(&sqrt(&avg)?, &s(self.eps, &avg))?;
        let u = divide(&g, &denom)?;
        if self.momentum > 0.0 {
            let last = state.len() - 1;
            state[last] = blend(self.momentum, &state[last], 1.0, &u)?;
            descend(p, &c[0], &state[last])
        } else {
            descend(p, &c[0], &u)
        }
    }
}

/// Adagrad (Duchi et al. 2011): divides by the root of the summed squared
/// gradients.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adagrad {
    /// Added to the denominator for stability.
    pub eps: f64,
    /// L2 penalty, added to the gradient as `weight_decay · p`.
    pub weight_decay: f64,
}

impl Default for Adagrad {
    fn default() -> Adagrad {
        Adagrad {
            eps: 1e-10,
            weight_decay: 0.0,
        }
    }
}

impl Rule for Adagrad {
    fn slots(&self) -> &'static [&'static str] {
        &["sum"]
    }

    fn coefficients(&self, _: usize, lr: f64) -> Vec<f64> {
        vec![lr]
    }

    fn apply(&self, c: &[Array], p: &Array, g: &Array, state: &mut [Array]) -> Result<Array> {
        let g = decayed(g, p, self.weight_decay)?;
        state[0] = add(&state[0], &square(&g)?)?;
        let denom = add(&sqrt(&state[0])?, &s(self.eps, &g))?;
        descend(p, &c[0], &divide(&g, &denom)?)
    }
}

/// Lion (Chen et al. 2023): steps by the sign of an interpolation of the
/// momentum and the gradient, with decoupled weight decay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lion {
    /// `(β₁, β₂)`: the momentum's weight in the step's interpolation and
    /// the momentum's decay rate.
    pub betas: (f64, f64),
    /// Decoupled decay: each step moves `p` by `-lr · weight_decay · p`.
    pub weight_decay: f64,
}

impl Default for Lion {
    fn default() -> Lion {
        Lion {
            betas: (0.9, 0.99),
            weight_decay: 0.0,
        }
    }
}

impl Rule for Lion {
    fn slots(&self) -> &'static [&'static str] {
        &["m"]
    }

    fn coefficients(&self, _: usize, lr: f64) -> Vec<f64> {
        vec![lr]
    }

    fn apply(&self, c: &[Array], p: &Array, g: &Array, state: &mut [Array]) -> Result<Array> {
        let (b1, b2) = self.betas;
        let interpolated = blend(b1, &state[0], 1.0 - b1, g)?;
        let u = blend(1.0, &sign(&interpolated)?, self.weight_decay, p)?;
        state[0] = blend(b2, &state[0], 1.0 - b2, g)?;
        descend(p, &c[0], &u)
    }
}
