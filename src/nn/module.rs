//! Modules: trees of named parameters, buffers and mode flags.
//!
//! A module registers what it holds with a [`Scope`] in [`Module::visit`];
//! everything else (listing, freezing, updating, saving, switching between
//! training and evaluation) is built on that one walk. Parameters are
//! shared handles, so `&self` is enough to update them, and a clone of a
//! [`Parameter`] is the same parameter.

use super::mixed::MixedPrecision;
use crate::array::Array;
use crate::dtype::DType;
use crate::error::{bail, fmt_shape, Result};
use crate::ops::elementwise::{multiply, reciprocal};
use crate::transforms::{compile, value_and_grad_n};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

pub use crate::io::Params;

#[derive(Debug)]
struct Slot {
    value: Array,
    frozen: bool,
    buffer: bool,
}

/// A module's array: a trainable weight, or a buffer (such as batch
/// norm's running statistics) that is saved and loaded but never trained.
#[derive(Debug, Clone)]
pub struct Parameter(Arc<RwLock<Slot>>);

impl Parameter {
    /// A trainable parameter.
    pub fn new(value: Array) -> Parameter {
        Parameter::with(value, false)
    }

    /// A buffer: part of the state, never trained.
    pub fn buffer(value: Array) -> Parameter {
        Parameter::with(value, true)
    }

    fn with(value: Array, buffer: bool) -> Parameter {
        Parameter(Arc::new(RwLock::new(Slot {
            value,
            frozen: false,
            buffer,
        })))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Slot> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Slot> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The current value.
    pub fn value(&self) -> Array {
        self.read().value.clone()
    }

    /// Replaces the value (no checks; [`Module::update`] checks shapes).
    pub fn set(&self, value: Array) {
        self.write().value = value;
    }

    /// Whether an optimizer updates it: not a buffer and not frozen.
    pub fn is_trainable(&self) -> bool {
        let slot = self.read();
        !slot.buffer && !slot.frozen
    }

    /// Whether it is a buffer.
    pub fn is_buffer(&self) -> bool {
        self.read().buffer
    }

    fn set_frozen(&self, frozen: bool) {
        self.write().frozen = frozen;
    }
}

/// Whether a module (dropout, batch norm) is training; modules start in
/// training mode, as in PyTorch and MLX.
#[derive(Debug, Clone)]
pub struct Training(Arc<AtomicBool>);

impl Default for Training {
    fn default() -> Training {
        Training(Arc::new(AtomicBool::new(true)))
    }
}

impl Training {
    /// Whether the module is in training mode.
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self, training: bool) {
        self.0.store(training, Ordering::Relaxed);
    }
}

/// What a walk over a module meets.
pub enum Entry<'a> {
    /// A parameter or buffer, with its full dotted path.
    Parameter(&'a str, &'a Parameter),
    /// A training-mode flag.
    Training(&'a Training),
}

/// The walk over a module tree: modules register their parameters,
/// children and mode flags here, and it hands them on with full paths.
pub struct Scope<'a> {
    path: String,
    visitor: &'a mut dyn FnMut(Entry<'_>),
}

impl Scope<'_> {
    fn path_to(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// Registers a parameter (or buffer) under `name`.
    pub fn parameter(&mut self, name: &str, parameter: &Parameter) {
        let path = self.path_to(name);
        (self.visitor)(Entry::Parameter(&path, parameter));
    }

    /// Registers a child module under `name`.
    pub fn child(&mut self, name: &str, module: &dyn Module) {
        let inner = self.path_to(name);
        let outer = std::mem::replace(&mut self.path, inner);
        module.visit(self);
        self.path = outer;
    }

    /// Registers a training-mode flag.
    pub fn training(&mut self, flag: &Training) {
        (self.visitor)(Entry::Training(flag));
    }
}

/// A tree of parameters. Implement [`Module::visit`]; the rest comes with it.
///
/// ```
/// use kiln::nn::{Linear, Module, Scope, Layer};
/// use kiln::{random, Array};
///
/// struct Mlp { hidden: Linear, out: Linear }
/// impl Module for Mlp {
///     fn visit(&self, scope: &mut Scope) {
///         scope.child("hidden", &self.hidden);
///         scope.child("out", &self.out);
///     }
/// }
/// let key = random::key(0);
/// let mlp = Mlp { hidden: Linear::new(4, 8, true, &key)?, out: Linear::new(8, 2, true, &key)? };
/// let names: Vec<String> = mlp.parameters().into_keys().collect();
/// assert_eq!(names, ["hidden.bias", "hidden.weight", "out.bias", "out.weight"]);
/// # Ok::<(), kiln::Error>(())
/// ```
pub trait Module {
    /// Registers this module's parameters, buffers, children and mode flags.
    fn visit(&self, scope: &mut Scope);

    /// Calls `f` with the path and handle of every parameter and buffer.
    fn for_each_parameter(&self, f: &mut dyn FnMut(&str, &Parameter)) {
        let mut visitor = |entry: Entry<'_>| {
            if let Entry::Parameter(path, p) = entry {
                f(path, p)
            }
        };
        let mut scope = Scope {
            path: String::new(),
            visitor: &mut visitor,
        };
        self.visit(&mut scope);
    }

    /// Every parameter and buffer by path.
    fn parameters(&self) -> Params {
        let mut out = Params::new();
        self.for_each_parameter(&mut |path, p| {
            out.insert(path.to_string(), p.value());
        });
        out
    }

    /// The parameters an optimizer updates: not buffers, not frozen.
    fn trainable_parameters(&self) -> Params {
        let mut out = Params::new();
        self.for_each_parameter(&mut |path, p| {
            if p.is_trainable() {
                out.insert(path.to_string(), p.value());
            }
        });
        out
    }

    /// The number of scalars in trainable parameters.
    fn num_parameters(&self) -> usize {
        self.trainable_parameters().values().map(Array::size).sum()
    }

    /// Freezes the parameters whose path starts with `prefix` (all of them
    /// for `""`), so that gradients and optimizers skip them.
    fn freeze(&self, prefix: &str) {
        self.for_each_parameter(&mut |path, p| {
            if path_has_prefix(path, prefix) {
                p.set_frozen(true)
            }
        });
    }

    /// Undoes [`Module::freeze`] for the paths starting with `prefix`.
    fn unfreeze(&self, prefix: &str) {
        self.for_each_parameter(&mut |path, p| {
            if path_has_prefix(path, prefix) {
                p.set_frozen(false)
            }
        });
    }

    /// Sets the named parameters (a subset is fine). Unknown names, or a
    /// shape or dtype that differs from the current value, are errors and
    /// leave the module unchanged.
    fn update(&self, params: &Params) -> Result<()> {
        let mut found = BTreeMap::new();
        let mut problem = None;
        self.for_each_parameter(&mut |path, p| {
            if let Some(new) = params.get(path) {
                let old = p.value();
                if problem.is_none() && (old.shape() != new.shape() || old.dtype() != new.dtype()) {
                    problem = Some(format!(
                        "parameter {path} is {} {}, got {} {}",
                        old.dtype(),
                        fmt_shape(old.shape()),
                        new.dtype(),
                        fmt_shape(new.shape())
                    ));
                }
                found.insert(path.to_string(), p.clone());
            }
        });
        if let Some(problem) = problem {
            bail!("update", "{problem}");
        }
        if let Some(unknown) = params.keys().find(|k| !found.contains_key(*k)) {
            bail!("update", "the module has no parameter named {unknown:?}");
        }
        for (path, p) in found {
            p.set(params[&path].clone());
        }
        Ok(())
    }

    /// Switches dropout and batch norm between training (`true`) and
    /// evaluation (`false`) behaviour.
    fn train(&self, training: bool) {
        let mut visitor = |entry: Entry<'_>| {
            if let Entry::Training(flag) = entry {
                flag.set(training)
            }
        };
        let mut scope = Scope {
            path: String::new(),
            visitor: &mut visitor,
        };
        self.visit(&mut scope);
    }

    /// Whether the module is in training mode (true when it has no mode flags).
    fn is_training(&self) -> bool {
        let mut training = true;
        let mut visitor = |entry: Entry<'_>| {
            if let Entry::Training(flag) = entry {
                training &= flag.get();
            }
        };
        let mut scope = Scope {
            path: String::new(),
            visitor: &mut visitor,
        };
        self.visit(&mut scope);
        training
    }

    /// Evaluates every parameter and buffer (after an optimizer step, so that
    /// the next step starts from values, not from a growing graph).
    fn eval_parameters(&self) -> Result<()> {
        let values: Vec<Array> = self.parameters().into_values().collect();
        crate::array::eval(&values.iter().collect::<Vec<_>>())
    }
}

fn path_has_prefix(path: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || path == prefix
        || (path.starts_with(prefix) && path.as_bytes().get(prefix.len()) == Some(&b'.'))
}

/// A module with one input and one output: what [`Sequential`] chains.
pub trait Layer: Module {
    /// The layer applied to `x`.
    fn forward(&self, x: &Array) -> Result<Array>;
}

/// Layers applied in order; their parameters are named by position
/// (`"0.weight"`, `"2.bias"`).
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Layer>>,
}

impl Sequential {
    /// No layers (the identity).
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// Appends a layer.
    pub fn push(mut self, layer: impl Layer + 'static) -> Sequential {
        self.layers.push(Box::new(layer));
        self
    }

    /// The number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there are no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl Module for Sequential {
    fn visit(&self, scope: &mut Scope) {
        for (i, layer) in self.layers.iter().enumerate() {
            scope.child(&i.to_string(), layer.as_ref());
        }
    }
}

impl Layer for Sequential {
    fn forward(&self, x: &Array) -> Result<Array> {
        self.layers
            .iter()
            .try_fold(x.clone(), |h, layer| layer.forward(&h))
    }
}

/// Flattens every axis but the first: `(N, ...)` to `(N, -1)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flatten;

impl Module for Flatten {
    fn visit(&self, _: &mut Scope) {}
}

impl Layer for Flatten {
    fn forward(&self, x: &Array) -> Result<Array> {
        if x.ndim() == 0 {
            bail!("Flatten", "needs a batch axis, got a scalar");
        }
        let rest: usize = x.shape()[1..].iter().product();
        crate::ops::shape::reshape(x, &[x.shape()[0] as i64, rest as i64])
    }
}

/// The value of `loss` and its gradients with respect to `model`'s
/// trainable parameters, by path (MLX's `nn.value_and_grad`). `loss` runs
/// the model; while it runs, the parameters are stand-ins that the
/// gradient is taken with respect to.
///
/// ```
/// use kiln::nn::{self, Layer, Linear, Module};
/// use kiln::{random, Array, Axes};
/// let model = Linear::new(3, 1, true, &random::key(0))?;
/// let x = Array::from_slice(&[1.0f32, 2.0, 3.0], &[1, 3])?;
/// let (loss, grads) = nn::value_and_grad(&model, || {
///     kiln::sum(&kiln::square(&model.forward(&x)?)?, Axes::All, false)
/// })?;
/// assert_eq!(grads["weight"].shape(), &[1, 3]);
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn value_and_grad<M, F>(model: &M, loss: F) -> Result<(Array, Params)>
where
    M: Module + ?Sized,
    F: Fn() -> Result<Array>,
{
    let mut names = Vec::new();
    let mut handles = Vec::new();
    model.for_each_parameter(&mut |path, p| {
        if p.is_trainable() {
            names.push(path.to_string());
            handles.push(p.clone());
        }
    });
    if handles.is_empty() {
        return Ok((loss()?, Params::new()));
    }
    let values: Vec<Array> = handles.iter().map(Parameter::value).collect();
    let argnums: Vec<usize> = (0..values.len()).collect();
    let restore = Restore {
        handles: &handles,
        values: &values,
    };
    let traced = |args: &[Array]| {
        for (p, a) in handles.iter().zip(args) {
            p.set(a.clone());
        }
        loss()
    };
    let result = value_and_grad_n(traced, &argnums)(&values);
    drop(restore);
    let (value, grads) = result?;
    Ok((value, names.into_iter().zip(grads).collect()))
}

/// What a compiled gradient was traced for: the parameters' paths and
/// trainable flags, and the modules' training flags.
#[derive(PartialEq)]
struct TracedFor {
    parameters: Vec<(String, bool)>,
    modes: Vec<bool>,
}

/// A traced forward and backward program and what it was traced for.
type CompiledGrad<'a> = (TracedFor, Box<dyn Fn(&[Array]) -> Result<Vec<Array>> + 'a>);

/// Every training flag of `model`, in visiting order.
fn modes(model: &(impl Module + ?Sized)) -> Vec<bool> {
    let mut modes = Vec::new();
    let mut visitor = |entry: Entry<'_>| {
        if let Entry::Training(flag) = entry {
            modes.push(flag.get());
        }
    };
    model.visit(&mut Scope {
        path: String::new(),
        visitor: &mut visitor,
    });
    modes
}

/// [`value_and_grad`] compiled, as MLX's `mx.compile` over
/// `nn.value_and_grad`: `loss` takes the step's inputs (a batch, its
/// targets) as arrays, and is traced with its gradient once per shapes of
/// the inputs and parameters; later calls replay that program, with chains
/// of elementwise ops fused into single kernels (in the backward pass too)
/// and no graph built by autodiff. Buffers that `loss` sets (batch norm's
/// running statistics) are outputs of the program and are set after each
/// call. As with [`compile`], arrays `loss` reads that are neither inputs
/// nor parameters are fixed at tracing, and a [`Dropout`](super::Dropout)
/// in training mode is an error. Freezing or unfreezing parameters, or
/// switching between training and evaluation, traces again.
///
/// ```
/// use kiln::nn::{self, Layer, Linear, Module};
/// use kiln::{random, Array, Axes};
/// let model = Linear::new(3, 1, true, &random::key(0))?;
/// let step = nn::compile_value_and_grad(&model, |inputs: &[Array]| {
///     kiln::sum(&kiln::square(&model.forward(&inputs[0])?)?, Axes::All, false)
/// });
/// let x = Array::from_slice(&[1.0f32, 2.0, 3.0], &[1, 3])?;
/// let (loss, grads) = step(&[x])?;
/// assert_eq!(grads["weight"].shape(), &[1, 3]);
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn compile_value_and_grad<'a, M, F>(
    model: &'a M,
    loss: F,
) -> impl Fn(&[Array]) -> Result<(Array, Params)> + 'a
where
    M: Module + ?Sized,
    F: Fn(&[Array]) -> Result<Array> + 'a,
{
    compiled_gradient(model, None, loss)
}

/// [`compile_value_and_grad`] with the loss computed in `precision.compute`
/// from float parameters cast to it, the loss scaled for differentiation;
/// the loss (float32) and the gradients (in the parameters' dtypes) come
/// back unscaled. A change of the scale (a dynamic one's) replays the
/// same trace. With a [`LossScale::Dynamic`](crate::nn::LossScale::Dynamic) scale, apply each step with
/// [`Optimizer::step_if`](crate::optimizers::Optimizer::step_if) and the
/// flag [`LossScaler::update`](crate::nn::LossScaler::update) gives.
///
/// ```
/// use kiln::nn::{self, Layer, Linear, LossScale, MixedPrecision};
/// use kiln::{random, Array, Axes, DType};
/// let model = Linear::new(3, 1, true, &random::key(0))?;
/// let precision = MixedPrecision { compute: DType::F16, loss_scale: LossScale::Fixed(1024.0) };
/// let step = nn::compile_value_and_grad_mixed(&model, precision, |inputs: &[Array]| {
///     kiln::sum(&kiln::square(&model.forward(&inputs[0].astype(DType::F16)?)?)?, Axes::All, false)
/// });
/// let x = Array::from_slice(&[1.0f32, 2.0, 3.0], &[1, 3])?;
/// let (loss, grads) = step(&[x])?;
/// assert_eq!((loss.dtype(), grads["weight"].dtype()), (DType::F32, DType::F32));
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn compile_value_and_grad_mixed<'a, M, F>(
    model: &'a M,
    precision: MixedPrecision,
    loss: F,
) -> impl Fn(&[Array]) -> Result<(Array, Params)> + 'a
where
    M: Module + ?Sized,
    F: Fn(&[Array]) -> Result<Array> + 'a,
{
    compiled_gradient(model, Some(precision), loss)
}

/// [`compile_value_and_grad`], in `precision` where given.
fn compiled_gradient<'a, M, F>(
    model: &'a M,
    precision: Option<MixedPrecision>,
    loss: F,
) -> impl Fn(&[Array]) -> Result<(Array, Params)> + 'a
where
    M: Module + ?Sized,
    F: Fn(&[Array]) -> Result<Array> + 'a,
{
    let loss = Arc::new(loss);
    let traced: Mutex<Option<CompiledGrad<'a>>> = Mutex::new(None);
    let compute = precision.as_ref().map(|p| p.compute);
    move |inputs: &[Array]| {
        // The loss scale is the trace's last argument.
        let scale = match &precision {
            Some(p) => Some(p.current_scale()?),
            None => None,
        };
        let mut layout = Vec::new();
        let mut handles = Vec::new();
        model.for_each_parameter(&mut |path, p| {
            layout.push((path.to_string(), p.is_trainable()));
            handles.push(p.clone());
        });
        let traced_for = TracedFor {
            parameters: layout,
            modes: modes(model),
        };
        let mut traced = traced.lock().unwrap_or_else(|e| e.into_inner());
        if traced.as_ref().is_none_or(|(t, _)| *t != traced_for) {
            let layout = &traced_for.parameters;
            let trainable: Vec<usize> = (0..layout.len()).filter(|&i| layout[i].1).collect();
            let (handles, loss) = (handles.clone(), loss.clone());
            let program = compile(move |args: &[Array]| {
                let (params, inputs) = args.split_at(handles.len());
                let (inputs, scale) = match compute {
                    Some(_) => (&inputs[..inputs.len() - 1], inputs.last()),
                    None => (inputs, None),
                };
                for (p, a) in handles.iter().zip(params) {
                    p.set(a.clone());
                }
                let with_stand_ins = |params: &[Array]| {
                    for &i in &trainable {
                        handles[i].set(match compute {
                            Some(dtype) if params[i].dtype().is_float() => {
                                params[i].astype(dtype)?
                            }
                            _ => params[i].clone(),
                        });
                    }
                    let value = loss(inputs)?;
                    match scale {
                        Some(s) => multiply(&value.astype(DType::F32)?, s),
                        None => Ok(value),
                    }
                };
                let (value, grads) = value_and_grad_n(with_stand_ins, &trainable)(params)?;
                let (value, grads) = match scale {
                    Some(s) => {
                        let inverse = reciprocal(s)?;
                        let unscale = |a: &Array| multiply(a, &inverse.astype(a.dtype())?);
                        let grads = grads.iter().map(unscale).collect::<Result<Vec<_>>>()?;
                        (unscale(&value)?, grads)
                    }
                    None => (value, grads),
                };
                let mut outputs = vec![value];
                outputs.extend(grads);
                // What the other parameters hold now: the argument itself
                // unless `loss` set it.
                outputs.extend(
                    (0..handles.len())
                        .filter(|i| !trainable.contains(i))
                        .map(|i| handles[i].value()),
                );
                Ok(outputs)
            });
            *traced = Some((traced_for, Box::new(program)));
        }
        let values: Vec<Array> = handles.iter().map(Parameter::value).collect();
        let restore = Restore {
            handles: &handles,
            values: &values,
        };
        let mut args: Vec<Array> = values.iter().chain(inputs).cloned().collect();
        args.extend(scale);
        let (
            TracedFor {
                parameters: layout, ..
            },
            program,
        ) = traced.as_ref().expect("traced");
        let result = program(&args);
        drop(restore);
        let mut outputs = result?.into_iter();
        let value = outputs.next().expect("the loss");
        // The gradients come first, then the other parameters' values.
        let trainable = layout.iter().filter(|(_, t)| *t).map(|(path, _)| path);
        let grads: Params = trainable.cloned().zip(outputs.by_ref()).collect();
        let others = layout.iter().zip(&handles).filter(|((_, t), _)| !t);
        for ((_, _), p) in others {
            p.set(outputs.next().expect("a value per parameter"));
        }
        Ok((value, grads))
    }
}

/// Puts parameters back to their values when dropped, also after an error.
struct Restore<'a> {
    handles: &'a [Parameter],
    values: &'a [Array],
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        for (p, v) in self.handles.iter().zip(self.values) {
            p.set(v.clone());
        }
    }
}
