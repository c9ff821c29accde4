//! Composable function transforms: reverse mode ([`grad`], [`vjp`]),
//! forward mode ([`jvp`]), batching ([`vmap`]) and what is built from them
//! ([`jacobian`], [`jacfwd`], [`hessian`]), plus [`stop_gradient`],
//! [`custom_vjp`] and [`checkpoint`].
//!
//! Every transform traces the function once into the lazy graph and
//! rewrites that graph with per-primitive rules (`vjp.rs`, `jvp.rs`,
//! `vmap.rs`). The rules are written with public ops, so transforms nest
//! freely: `grad(grad(f))`, `vmap(grad(f))`, `jacfwd(jacobian(f))`.
//!
//! Functions of one array take `&Array`; functions of several take
//! `&[Array]`. Transformed functions are ordinary closures:
//!
//! ```
//! use kiln::{Array, Axes};
//! let f = |x: &Array| kiln::sum(&kiln::sin(x)?, Axes::All, false);
//! let df = kiln::grad(f);
//! let ddf = kiln::grad(move |x: &Array| kiln::sum(&df(x)?, Axes::All, false));
//! let x = Array::from_slice(&[0.0f32, 1.0], &[2])?;
//! # #[cfg(not(target_arch = "wasm32"))]
//! # {
//! let second = ddf(&x)?.to_vec::<f32>()?; // -sin(x)
//! assert!((second[1] + 1f32.sin()).abs() < 1e-6);
//! # }
//! # Ok::<(), kiln::Error>(())
//! ```

mod compile;
mod derivatives;
mod jvp;
pub(crate) mod trace;
mod vjp;
mod vmap;

use crate::array::Array;
use crate::dtype::DType;
use crate::error::{bail, fmt_shape, Result};
use crate::ops::creation::{eye, zeros_like};
use crate::ops::elementwise::add;
use crate::ops::shape::{broadcast_to, moveaxis, normalize_axis, reshape_to};
use crate::primitive::{CustomVjp, Primitive};
pub(crate) use compile::tracing;
pub use compile::{compile, CACHE_CAPACITY};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use trace::{check_argnums, fresh, placeholder, tape, RetainGraph};

thread_local! {
    static RULES_USED: RefCell<BTreeSet<(&'static str, &'static str)>> =
        const { RefCell::new(BTreeSet::new()) };
}

fn record_rule(transform: &'static str, node: &Array) {
    RULES_USED.with(|r| r.borrow_mut().insert((transform, node.primitive().kind())));
}

/// The (transform, primitive kind) pairs whose rules have run on this
/// thread (for the test that every primitive's rules are checked).
#[doc(hidden)]
pub fn rules_used() -> Vec<(&'static str, &'static str)> {
    RULES_USED.with(|r| r.borrow().iter().copied().collect())
}

fn check_float(op: &'static str, what: &str, arrays: &[Array]) -> Result<()> {
    for (k, a) in arrays.iter().enumerate() {
        if !derivatives::differentiable(a.dtype()) {
            bail!(
                op,
                "cannot differentiate with respect to {what} {k} of dtype {}; only float arrays carry derivatives",
                a.dtype()
            );
        }
    }
    Ok(())
}

fn check_shapes(op: &'static str, what: &str, given: &[Array], expected: &[Array]) -> Result<()> {
    if given.len() != expected.len() {
        bail!(
            op,
            "got {} {what}s for {} {}",
            given.len(),
            expected.len(),
            if what == "cotangent" {
                "outputs"
            } else {
                "primals"
            }
        );
    }
    for (k, (g, e)) in given.iter().zip(expected).enumerate() {
        if g.shape() != e.shape() {
            bail!(
                op,
                "{what} {k} has shape {}, but it must match shape {}",
                fmt_shape(g.shape()),
                fmt_shape(e.shape())
            );
        }
    }
    Ok(())
}

fn accumulate(acc: &mut HashMap<usize, Array>, node: &Array, g: Array) -> Result<()> {
    let total = match acc.remove(&node.id()) {
        Some(prev) => add(&prev, &g)?,
        None => g,
    };
    acc.insert(node.id(), total);
    Ok(())
}

/// Cotangents of `xs` given cotangents of `outs`, by walking the graph
/// between them backwards.
fn backward(xs: &[Array], outs: &[Array], cotangents: &[Array]) -> Result<Vec<Array>> {
    let tape = tape(xs, outs);
    let active: HashSet<usize> = xs.iter().chain(&tape).map(Array::id).collect();
    let mut acc = HashMap::new();
    for (out, ct) in outs.iter().zip(cotangents) {
        if derivatives::differentiable(out.dtype()) && active.contains(&out.id()) {
            accumulate(&mut acc, out, ct.astype(out.dtype())?)?;
        }
    }
    for node in tape.iter().rev() {
        let Some(ct) = acc.remove(&node.id()) else {
            continue;
        };
        let inputs = node.inputs().clone();
        if let Primitive::Custom(_) = node.primitive() {
            let (args, out) = inputs.split_at(inputs.len() - 1);
            let source_ids: HashSet<usize> = xs.iter().map(Array::id).collect();
            if trace::reaches_past(&out[0], args, |n| source_ids.contains(&n.id())) {
                return Err(trace::captured_traced_array("differentiation"));
            }
        }
        let needed: Vec<bool> = inputs
            .iter()
            .map(|i| active.contains(&i.id()) && derivatives::differentiable(i.dtype()))
            .collect();
        let grads = vjp::backward(node, &inputs, &ct, &needed)?;
        for (input, g) in inputs.iter().zip(grads) {
            if let Some(g) = g {
                accumulate(&mut acc, input, g)?;
            }
        }
    }
    xs.iter()
        .map(|x| acc.remove(&x.id()).map_or_else(|| zeros_like(x), Ok))
        .collect()
}

/// Evaluates `f` at `primals` and pulls `cotangents` (one per output, of its
/// shape) back through it: `(outputs, cotangents of the primals)`.
///
/// ```
/// use kiln::Array;
/// let x = Array::from_slice(&[1.0f32, 2.0], &[2])?;
/// let (out, grads) = kiln::vjp(
///     |xs| Ok(vec![kiln::multiply(&xs[0], &xs[0])?]),
///     &[x],
///     &[Array::from_slice(&[1.0f32, 1.0], &[2])?],
/// )?;
/// # #[cfg(not(target_arch = "wasm32"))]
/// assert_eq!(grads[0].to_vec::<f32>()?, vec![2.0, 4.0]);
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn vjp<F>(f: F, primals: &[Array], cotangents: &[Array]) -> Result<(Vec<Array>, Vec<Array>)>
where
    F: FnOnce(&[Array]) -> Result<Vec<Array>>,
{
    check_float("vjp", "primal", primals)?;
    let _retain = RetainGraph::new();
    let xs: Vec<Array> = primals.iter().map(fresh).collect();
    let outs = f(&xs)?;
    check_shapes("vjp", "cotangent", cotangents, &outs)?;
    let grads = backward(&xs, &outs, cotangents)?;
    Ok((outs, grads))
}

/// Evaluates `f` at `primals` and pushes `tangents` (one per primal, of its
/// shape) forward through it: `(outputs, tangents of the outputs)`.
pub fn jvp<F>(f: F, primals: &[Array], tangents: &[Array]) -> Result<(Vec<Array>, Vec<Array>)>
where
    F: FnOnce(&[Array]) -> Result<Vec<Array>>,
{
    check_float("jvp", "primal", primals)?;
    check_shapes("jvp", "tangent", tangents, primals)?;
    let _retain = RetainGraph::new();
    let xs: Vec<Array> = primals.iter().map(fresh).collect();
    let outs = f(&xs)?;
    let tangents = tangents
        .iter()
        .zip(&xs)
        .map(|(t, x)| Ok(Some(t.astype(x.dtype())?)))
        .collect::<Result<Vec<_>>>()?;
    let out_tangents = forward(&xs, &tangents, &outs)?
        .into_iter()
        .zip(&outs)
        .map(|(t, o)| t.map_or_else(|| zeros_like(o), Ok))
        .collect::<Result<Vec<_>>>()?;
    Ok((outs, out_tangents))
}

/// Tangents of `outs` given tangents of `xs` (`None`: zero), by walking the
/// graph between them forwards.
fn forward(xs: &[Array], tangents: &[Option<Array>], outs: &[Array]) -> Result<Vec<Option<Array>>> {
    let mut known: HashMap<usize, Array> = HashMap::new();
    for (x, t) in xs.iter().zip(tangents) {
        if let Some(t) = t {
            known.insert(x.id(), t.clone());
        }
    }
    for node in tape(xs, outs) {
        let inputs = node.inputs().clone();
        let ts: Vec<Option<Array>> = inputs.iter().map(|i| known.get(&i.id()).cloned()).collect();
        if ts.iter().all(Option::is_none) {
            continue;
        }
        if let Some(t) = jvp::forward(&node, &inputs, &ts)? {
            known.insert(node.id(), t);
        }
    }
    Ok(outs.iter().map(|o| known.get(&o.id()).cloned()).collect())
}

fn scalar_output(op: &'static str, out: &Array) -> Result<()> {
    if out.ndim() != 0 {
        bail!(
            op,
            "the function must return a scalar (shape ()), not shape {}; reduce it or use vjp",
            fmt_shape(out.shape())
        );
    }
    if !derivatives::differentiable(out.dtype()) {
        bail!(
            op,
            "the function returned {}, which carries no derivative",
            out.dtype()
        );
    }
    Ok(())
}

fn value_and_grad_impl<F>(
    op: &'static str,
    f: &F,
    args: &[Array],
    argnums: &[usize],
) -> Result<(Array, Vec<Array>)>
where
    F: Fn(&[Array]) -> Result<Array>,
{
    check_argnums(op, argnums, args.len())?;
    let picked: Vec<Array> = argnums.iter().map(|&i| args[i].clone()).collect();
    check_float(op, "argument", &picked).map_err(|_| {
        let (k, a) = argnums
            .iter()
            .map(|&i| (i, &args[i]))
            .find(|(_, a)| !derivatives::differentiable(a.dtype()))
            .expect("one is not float");
        crate::error::invalid(
            op,
            format!(
                "cannot differentiate with respect to argument {k} of dtype {}; only float arrays carry derivatives",
                a.dtype()
            ),
        )
    })?;
    let _retain = RetainGraph::new();
    let mut traced = args.to_vec();
    let xs: Vec<Array> = picked.iter().map(fresh).collect();
    for (&i, x) in argnums.iter().zip(&xs) {
        traced[i] = x.clone();
    }
    let out = f(&traced)?;
    scalar_output(op, &out)?;
    let grads = backward(
        &xs,
        std::slice::from_ref(&out),
        &[Array::scalar_of(1, out.dtype())],
    )?;
    Ok((out, grads))
}

/// The gradient of a scalar function of one array.
pub fn grad<F>(f: F) -> impl Fn(&Array) -> Result<Array>
where
    F: Fn(&Array) -> Result<Array>,
{
    move |x: &Array| {
        let g = |xs: &[Array]| f(&xs[0]);
        Ok(
            value_and_grad_impl("grad", &g, std::slice::from_ref(x), &[0])?
                .1
                .remove(0),
        )
    }
}

/// The value and gradient of a scalar function of one array.
pub fn value_and_grad<F>(f: F) -> impl Fn(&Array) -> Result<(Array, Array)>
where
    F: Fn(&Array) -> Result<Array>,
{
    move |x: &Array| {
        let g = |xs: &[Array]| f(&xs[0]);
        let (value, mut grads) =
            value_and_grad_impl("value_and_grad", &g, std::slice::from_ref(x), &[0])?;
        Ok((value, grads.remove(0)))
    }
}

/// The gradients of a scalar function of several arrays with respect to the
/// arguments `argnums` (in that order).
///
/// ```
/// use kiln::{Array, Axes};
/// let loss = |p: &[Array]| kiln::sum(&kiln::multiply(&p[0], &p[1])?, Axes::All, false);
/// let dloss = kiln::grad_n(loss, &[1]);
/// let w = Array::from_slice(&[3.0f32], &[1])?;
/// let x = Array::from_slice(&[5.0f32], &[1])?;
/// # #[cfg(not(target_arch = "wasm32"))]
/// assert_eq!(dloss(&[w, x])?[0].to_vec::<f32>()?, vec![3.0]);
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn grad_n<F>(f: F, argnums: &[usize]) -> impl Fn(&[Array]) -> Result<Vec<Array>>
where
    F: Fn(&[Array]) -> Result<Array>,
{
    let argnums = argnums.to_vec();
    move |args: &[Array]| Ok(value_and_grad_impl("grad", &f, args, &argnums)?.1)
}

/// The value and the gradients with respect to `argnums` of a scalar
/// function of several arrays.
pub fn value_and_grad_n<F>(
    f: F,
    argnums: &[usize],
) -> impl Fn(&[Array]) -> Result<(Array, Vec<Array>)>
where
    F: Fn(&[Array]) -> Result<Array>,
{
    let argnums = argnums.to_vec();
    move |args: &[Array]| value_and_grad_impl("value_and_grad", &f, args, &argnums)
}

/// Applies `f` to `args` mapped over the axes `in_axes` (`None`: passed
/// whole to every call), stacking each output along `out_axes`.
pub(crate) fn vmap_apply(
    f: &dyn Fn(&[Array]) -> Result<Vec<Array>>,
    args: &[Array],
    in_axes: &[Option<i32>],
    out_axes: &[i32],
) -> Result<Vec<Array>> {
    if in_axes.len() != args.len() {
        bail!(
            "vmap",
            "in_axes has {} entries, but the function was given {} arguments",
            in_axes.len(),
            args.len()
        );
    }
    let mut size: Option<(usize, usize)> = None;
    let mut batched: HashMap<usize, (Array, usize)> = HashMap::new();
    let mut sources = Vec::new();
    let mut traced = Vec::new();
    for (k, (a, axis)) in args.iter().zip(in_axes).enumerate() {
        let Some(axis) = *axis else {
            traced.push(a.clone());
            continue;
        };
        let d = normalize_axis("vmap", axis, a.ndim()).map_err(|_| {
            crate::error::invalid(
                "vmap",
                format!(
                    "in_axes[{k}] = {axis} is out of range for argument {k} of shape {}",
                    fmt_shape(a.shape())
                ),
            )
        })?;
        let n = a.shape()[d];
        match size {
            Some((m, j)) if m != n => bail!(
                "vmap",
                "argument {k} has size {n} along its mapped axis, but argument {j} has size {m}"
            ),
            None => size = Some((n, k)),
            _ => {}
        }
        let mut shape = a.shape().to_vec();
        shape.remove(d);
        let p = placeholder(shape, a);
        batched.insert(p.id(), (a.clone(), d));
        sources.push(p.clone());
        traced.push(p);
    }
    let Some((size, _)) = size else {
        bail!("vmap", "in_axes maps no argument; map at least one");
    };
    let _retain = RetainGraph::new();
    let outs = f(&traced)?;
    if out_axes.len() != outs.len() && out_axes.len() != 1 {
        bail!(
            "vmap",
            "out_axes has {} entries, but the function returned {} outputs",
            out_axes.len(),
            outs.len()
        );
    }
    for node in tape(&sources, &outs) {
        let inputs = node.inputs().clone();
        check_custom_captures(&node, &inputs, "vmap")?;
        let (xs, axes): (Vec<Array>, Vec<Option<usize>>) = inputs
            .iter()
            .map(|i| match batched.get(&i.id()) {
                Some((b, d)) => (b.clone(), Some(*d)),
                None => (i.clone(), None),
            })
            .unzip();
        let result = vmap::batch(&node, &xs, &axes, size)?;
        batched.insert(node.id(), result);
    }
    outs.iter()
        .zip(out_axes.iter().cycle())
        .enumerate()
        .map(|(k, (o, &axis))| {
            let (b, from) = match batched.get(&o.id()) {
                Some((b, d)) => (b.clone(), *d),
                None => {
                    // Outputs that do not depend on the mapped arguments repeat.
                    let shape = [&[size], o.shape()].concat();
                    let b = broadcast_to(&reshape_to(o, [&[1], o.shape()].concat()), &shape)?;
                    (b, 0)
                }
            };
            let to = normalize_axis("vmap", axis, b.ndim()).map_err(|_| {
                crate::error::invalid(
                    "vmap",
                    format!(
                        "out_axes[{k}] = {axis} is out of range for output {k}, which has {} dimensions when batched",
                        b.ndim()
                    ),
                )
            })?;
            moveaxis(&b, from as i32, to as i32)
        })
        .collect()
}

/// A custom rule runs later on its arguments alone: what its function
/// captured must not depend on the stand-ins of a trace.
pub(crate) fn check_custom_captures(node: &Array, inputs: &[Array], transform: &str) -> Result<()> {
    if let Primitive::Custom(_) = node.primitive() {
        let (args, out) = inputs.split_at(inputs.len() - 1);
        if trace::reaches_past(&out[0], args, |n| {
            matches!(n.primitive(), Primitive::Placeholder)
        }) {
            return Err(trace::captured_traced_array(transform));
        }
    }
    Ok(())
}

/// `f` mapped over the first axis of its argument and output.
///
/// ```
/// use kiln::{Array, Axes};
/// let norms = kiln::vmap(|row: &Array| kiln::sum(&kiln::square(row)?, Axes::All, false));
/// let x = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
/// # #[cfg(not(target_arch = "wasm32"))]
/// assert_eq!(norms(&x)?.to_vec::<f32>()?, vec![5.0, 25.0]);
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn vmap<F>(f: F) -> impl Fn(&Array) -> Result<Array>
where
    F: Fn(&Array) -> Result<Array>,
{
    move |x: &Array| {
        let g = |xs: &[Array]| Ok(vec![f(&xs[0])?]);
        Ok(vmap_apply(&g, std::slice::from_ref(x), &[Some(0)], &[0])?.remove(0))
    }
}

/// `f` of several arrays mapped over `in_axes` of its arguments (`None`:
/// the argument is passed whole to every call), its outputs stacked along
/// `out_axes` (one entry per output, or one for all). Negative axes count
/// from the end.
pub fn vmap_n<F>(
    f: F,
    in_axes: &[Option<i32>],
    out_axes: &[i32],
) -> impl Fn(&[Array]) -> Result<Vec<Array>>
where
    F: Fn(&[Array]) -> Result<Vec<Array>>,
{
    let (in_axes, out_axes) = (in_axes.to_vec(), out_axes.to_vec());
    move |args: &[Array]| vmap_apply(&f, args, &in_axes, &out_axes)
}

/// The identity matrix of size `n`, shaped `(n, *shape)`: one basis vector
/// of an array of `shape` per row.
fn basis(shape: &[usize], dtype: DType) -> Result<Array> {
    let n: usize = shape.iter().product();
    let rows = eye(n, None, 0, dtype)?;
    Ok(reshape_to(&rows, [&[n], shape].concat()))
}

/// The Jacobian of `f` by reverse mode: shape `f(x).shape + x.shape`, one
/// batched vector-Jacobian product for all rows.
pub fn jacobian<F>(f: F) -> impl Fn(&Array) -> Result<Array>
where
    F: Fn(&Array) -> Result<Array>,
{
    move |x: &Array| {
        check_float("jacobian", "argument", std::slice::from_ref(x))?;
        let probe = {
            let _retain = RetainGraph::new();
            f(x)?
        };
        if !derivatives::differentiable(probe.dtype()) {
            bail!(
                "jacobian",
                "the function returned {}, which carries no derivative",
                probe.dtype()
            );
        }
        let y_shape = probe.shape().to_vec();
        let pull = |cts: &[Array]| {
            let (_, grads) = vjp(|xs| Ok(vec![f(&xs[0])?]), std::slice::from_ref(x), cts)?;
            Ok(grads)
        };
        let rows = vmap_apply(&pull, &[basis(&y_shape, probe.dtype())?], &[Some(0)], &[0])?;
        Ok(reshape_to(&rows[0], [&y_shape[..], x.shape()].concat()))
    }
}

/// [`jacobian`] under JAX's name for reverse mode.
pub fn jacrev<F>(f: F) -> impl Fn(&Array) -> Result<Array>
where
    F: Fn(&Array) -> Result<Array>,
{
    jacobian(f)
}

/// The Jacobian of `f` by forward mode: shape `f(x).shape + x.shape`, one
/// batched Jacobian-vector product for all columns.
pub fn jacfwd<F>(f: F) -> impl Fn(&Array) -> Result<Array>
where
    F: Fn(&Array) -> Result<Array>,
{
    move |x: &Array| {
        check_float("jacfwd", "argument", std::slice::from_ref(x))?;
        let push = |ts: &[Array]| {
            let (_, tangents) = jvp(|xs| Ok(vec![f(&xs[0])?]), std::slice::from_ref(x), ts)?;
            Ok(tangents)
        };
        let cols = vmap_apply(&push, &[basis(x.shape(), x.dtype())?], &[Some(0)], &[-1])?;
        let y_shape = &cols[0].shape()[..cols[0].ndim() - 1];
        Ok(reshape_to(&cols[0], [y_shape, x.shape()].concat()))
    }
}

/// The Hessian of a scalar function: forward mode over reverse mode.
pub fn hessian<F>(f: F) -> impl Fn(&Array) -> Result<Array>
where
    F: Fn(&Array) -> Result<Array>,
{
    jacfwd(jacobian(f))
}

/// `a` unchanged, but treated as a constant by differentiation.
pub fn stop_gradient(a: &Array) -> Array {
    Array::from_primitive(
        a.shape().to_vec(),
        a.dtype(),
        Primitive::StopGradient,
        vec![a.clone()],
    )
}

/// `f` with a user-given reverse-mode rule: `backward(primals, output,
/// cotangent)` returns one cotangent per primal. Forward mode and batching
/// still go through `f` (batching runs `backward` batched as well).
///
/// Arrays that depend on what a transform differentiates or maps must reach
/// `f` as arguments: the rule sees only the arguments, so capturing such an
/// array in `f` is an error (reported when the capture is the traced array
/// itself or computed from it without using `f`'s arguments).
///
/// ```
/// use kiln::Array;
/// // A gradient clipped to [-1, 1] on the way back.
/// let clipped = kiln::custom_vjp(
///     |xs: &[Array]| Ok(xs[0].clone()),
///     |_, _, ct| {
///         let (lo, hi) = (Array::scalar(-1.0f32), Array::scalar(1.0f32));
///         Ok(vec![kiln::clip(ct, Some(&lo), Some(&hi))?])
///     },
/// );
/// let g = kiln::grad(move |x: &Array| {
///     kiln::sum(&kiln::multiply(&clipped(&[x.clone()])?, &Array::scalar(3.0f32))?, kiln::Axes::All, false)
/// });
/// # #[cfg(not(target_arch = "wasm32"))]
/// assert_eq!(g(&Array::scalar(2.0f32))?.item::<f32>()?, 1.0);
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn custom_vjp<F, B>(f: F, backward: B) -> impl Fn(&[Array]) -> Result<Array>
where
    F: Fn(&[Array]) -> Result<Array>,
    B: Fn(&[Array], &Array, &Array) -> Result<Vec<Array>> + Send + Sync + 'static,
{
    let rule = Arc::new(CustomVjp {
        backward: Box::new(backward),
    });
    move |args: &[Array]| {
        let out = f(args)?;
        let mut inputs = args.to_vec();
        inputs.push(out.clone());
        Ok(Array::from_primitive(
            out.shape().to_vec(),
            out.dtype(),
            Primitive::Custom(rule.clone()),
            inputs,
        ))
    }
}

/// `f`, whose reverse-mode derivative recomputes `f`'s forward pass from
/// its arguments instead of keeping its intermediate arrays (gradient
/// checkpointing): the backward graph refers only to the arguments, which
/// must include every array that depends on what is differentiated (see
/// [`custom_vjp`]). Integer arguments get no derivative.
pub fn checkpoint<F>(f: F) -> impl Fn(&[Array]) -> Result<Array>
where
    F: Fn(&[Array]) -> Result<Array> + Send + Sync + 'static,
{
    let f = Arc::new(f);
    let forward = f.clone();
    custom_vjp(
        move |args: &[Array]| forward(args),
        move |primals: &[Array], _out: &Array, ct: &Array| {
            // Differentiate with respect to the float arguments only.
            let floats: Vec<usize> = (0..primals.len())
                .filter(|&k| derivatives::differentiable(primals[k].dtype()))
                .collect();
            let picked: Vec<Array> = floats.iter().map(|&k| primals[k].clone()).collect();
            let (_, grads) = vjp(
                |xs| {
                    let mut args = primals.to_vec();
                    for (&k, x) in floats.iter().zip(xs) {
                        args[k] = x.clone();
                    }
                    Ok(vec![f(&args)?])
                },
                &picked,
                std::slice::from_ref(ct),
            )?;
            let mut grads = grads.into_iter();
            primals
                .iter()
                .enumerate()
                .map(|(k, p)| match floats.contains(&k) {
                    true => Ok(grads.next().expect("one per float argument")),
                    false => zeros_like(p),
                })
                .collect()
        },
    )
}
