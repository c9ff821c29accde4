//! Learning-rate schedules: functions of the step (0 for the first update).

use std::f64::consts::PI;
use std::sync::Arc;

/// A learning rate by step. Plain numbers convert into constant schedules.
#[derive(Clone)]
pub struct Schedule(Arc<dyn Fn(usize) -> f64 + Send + Sync>);

impl Schedule {
    /// A schedule from a function of the step.
    pub fn new(f: impl Fn(usize) -> f64 + Send + Sync + 'static) -> Schedule {
        Schedule(Arc::new(f))
    }

    /// The learning rate at `step`.
    pub fn at(&self, step: usize) -> f64 {
        (self.0)(step)
    }
}

impl std::fmt::Debug for Schedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Schedule(starts at {})", self.at(0))
    }
}

impl From<f64> for Schedule {
    fn from(lr: f64) -> Schedule {
        Schedule::new(move |_| lr)
    }
}

/// `init · rate^⌊step / step_size⌋` (PyTorch's `StepLR`).
pub fn step_decay(init: f64, rate: f64, step_size: usize) -> Schedule {
    let step_size = step_size.max(1);
    Schedule::new(move |step| init * rate.powi((step / step_size) as i32))
}

/// `init · rate^step` (PyTorch's `ExponentialLR`).
pub fn exponential_decay(init: f64, rate: f64) -> Schedule {
    Schedule::new(move |step| init * rate.powi(step as i32))
}

/// Half a cosine from `init` down to `end` over `decay_steps`, then `end`
/// (PyTorch's `CosineAnnealingLR` for its first period).
pub fn cosine_decay(init: f64, decay_steps: usize, end: f64) -> Schedule {
    Schedule::new(move |step| {
        if decay_steps == 0 {
            return end;
        }
        let t = step.min(decay_steps) as f64 / decay_steps as f64;
        end + (init - end) * 0.5 * (1.0 + (PI * t).cos())
    })
}

/// A straight line from `init` to `end` over `steps`, then `end` (a warmup
/// when it rises).
pub fn linear_schedule(init: f64, end: f64, steps: usize) -> Schedule {
    Schedule::new(move |step| {
        if steps == 0 {
            return end;
        }
        let t = step.min(steps) as f64 / steps as f64;
        init + (end - init) * t
    })
}

/// Schedules one after another: schedule `i + 1` starts (at its own step
/// 0) at `boundaries[i]`. Needs one boundary fewer than schedules.
pub fn join_schedules(schedules: Vec<Schedule>, boundaries: Vec<usize>) -> crate::Result<Schedule> {
    if schedules.is_empty() || boundaries.len() + 1 != schedules.len() {
        crate::error::bail!(
            "join_schedules",
            "needs one boundary fewer than schedules, got {} schedules and {} boundaries",
            schedules.len(),
            boundaries.len()
        );
    }
    if boundaries.windows(2).any(|w| w[0] > w[1]) {
        crate::error::bail!(
            "join_schedules",
            "boundaries must be increasing, got {boundaries:?}"
        );
    }
    Ok(Schedule::new(move |step| {
        let i = boundaries.iter().take_while(|&&b| step >= b).count();
        let start = if i == 0 { 0 } else { boundaries[i - 1] };
        schedules[i].at(step - start)
    }))
}
