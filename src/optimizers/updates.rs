//! A rule's update compiled per parameter shape: its chain of elementwise
//! ops fused into one kernel that writes the parameter and each state slot
//! (one kernel per output where the adapter binds too few arrays for all
//! the update reads) instead of a dispatch per op, replayed every step with
//! the step's coefficients as scalar arguments.

use super::Rule;
use crate::array::Array;
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::elementwise::{multiply, r#where};
use crate::transforms::compile;
use std::collections::HashMap;
use std::sync::Arc;

/// A compiled function of arrays.
type Update = Box<dyn Fn(&[Array]) -> Result<Vec<Array>> + Send + Sync>;

/// The compiled updates of one rule (whose fields are fixed into them: a
/// changed rule needs new `Updates`), and the coefficients of the last step.
#[derive(Default)]
pub(crate) struct Updates {
    /// By parameter shape and dtype, whether the gradient is scaled, and
    /// whether the update is conditional.
    compiled: HashMap<(Vec<usize>, DType, bool, bool), Update>,
    /// The global gradient norm and clipping factor of
    /// [`Optimizer::max_grad_norm`](super::Optimizer::max_grad_norm).
    clip: Option<Update>,
    /// The step, learning rate and dtype the coefficients were made for
    /// (shared by the parameters of one step).
    coefficients: Option<((usize, u64, DType), Vec<Array>)>,
}

impl std::fmt::Debug for Updates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Updates({} shapes compiled)", self.compiled.len())
    }
}

impl Updates {
    /// The global norm of `grads` and the factor that clips it to
    /// `max_norm`, from one program per gradient shapes (its scalar
    /// additions fused).
    pub fn clip_factor(&mut self, grads: &[Array], max_norm: f64) -> Result<(Array, Array)> {
        let clip = self.clip.get_or_insert_with(|| {
            Box::new(compile(|args: &[Array]| {
                let (grads, max_norm) = args.split_at(args.len() - 1);
                let (norm, factor) = super::clip_factor(grads, &max_norm[0])?;
                Ok(vec![norm, factor])
            }))
        });
        let args: Vec<Array> = grads
            .iter()
            .cloned()
            .chain([Array::scalar(max_norm as f32)])
            .collect();
        let mut outputs = clip(&args)?.into_iter();
        let norm = outputs.next().expect("the norm");
        Ok((norm, outputs.next().expect("the factor")))
    }

    /// `rule`'s new value of `p` with gradient `g` (of `p`'s dtype, times
    /// `scale` where given) at update `step` and learning rate `lr`,
    /// updating `state` in place; where `apply` (a bool scalar) is given
    /// and false, `p` and `state` keep their values.
    #[allow(clippy::too_many_arguments)]
    pub fn apply<R: Rule + Clone>(
        &mut self,
        rule: &R,
        (step, lr): (usize, f64),
        p: &Array,
        g: &Array,
        scale: Option<&Array>,
        apply: Option<&Array>,
        state: &mut [Array],
    ) -> Result<Array> {
        let key = (step, lr.to_bits(), p.dtype());
        let coefficients = match &self.coefficients {
            Some((made, arrays)) if *made == key => arrays.clone(),
            _ => {
                let arrays: Vec<Array> = rule
                    .coefficients(step, lr)
                    .into_iter()
                    .map(|c| Array::scalar_of(c, p.dtype()))
                    .collect();
                self.coefficients = Some((key, arrays.clone()));
                arrays
            }
        };
        let slots = state.len();
        let (scaled, guarded) = (scale.is_some(), apply.is_some());
        let update = self
            .compiled
            .entry((p.shape().to_vec(), p.dtype(), scaled, guarded))
            .or_insert_with(|| {
                let rule = Arc::new(rule.clone());
                Box::new(compile(move |args: &[Array]| {
                    // [p, g, ...state, scale if scaled, apply if guarded,
                    // ...coefficients]
                    let old: Vec<Array> = std::iter::once(&args[0])
                        .chain(&args[2..2 + slots])
                        .cloned()
                        .collect();
                    let mut state = args[2..2 + slots].to_vec();
                    let mut rest = &args[2 + slots..];
                    let g = if scaled {
                        let g = multiply(&args[1], &rest[0])?;
                        rest = &rest[1..];
                        g
                    } else {
                        args[1].clone()
                    };
                    let apply = if guarded {
                        let a = rest[0].clone();
                        rest = &rest[1..];
                        Some(a)
                    } else {
                        None
                    };
                    let p = rule.apply(rest, &args[0], &g, &mut state)?;
                    let new = std::iter::once(p).chain(state);
                    match apply {
                        Some(a) => new.zip(&old).map(|(n, o)| r#where(&a, &n, o)).collect(),
                        None => Ok(new.collect()),
                    }
                }))
            });
        let args: Vec<Array> = [p.clone(), g.clone()]
            .into_iter()
            .chain(state.iter().cloned())
            .chain(scale.cloned())
            .chain(apply.cloned())
            .chain(coefficients)
            .collect();
        let mut outputs = update(&args)?.into_iter();
        let p = outputs.next().expect("the parameter comes first");
        for (slot, value) in state.iter_mut().zip(outputs) {
            *slot = value;
        }
        Ok(p)
    }
}
