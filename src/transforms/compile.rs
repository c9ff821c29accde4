//! `compile`: trace a function once per argument shapes and dtypes, keep the
//! graph as a program with chains of elementwise ops fused into single
//! kernels, and replay that program on later calls.

use super::trace::{placeholder, tape, RetainGraph};
use crate::array::Array;
use crate::dtype::DType;
use crate::error::{bail, Result};
use crate::primitive::{
    Fused, FusedInput, FusedStep, Primitive, MAX_FUSED_INPUTS, MAX_FUSED_STEPS,
};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

thread_local! {
    /// How many `compile` traces are running on this thread.
    static TRACING: Cell<usize> = const { Cell::new(0) };
}

/// Whether a function is being traced by [`compile`] on this thread: ops
/// whose result would be wrong if fixed at tracing (a fresh dropout mask)
/// refuse to run then.
pub(crate) fn tracing() -> bool {
    TRACING.with(|t| t.get() > 0)
}

/// Marks this thread as tracing until dropped, also after an error.
struct Tracing;

impl Tracing {
    fn new() -> Tracing {
        TRACING.with(|t| t.set(t.get() + 1));
        Tracing
    }
}

impl Drop for Tracing {
    fn drop(&mut self) {
        TRACING.with(|t| t.set(t.get() - 1));
    }
}

/// How many argument signatures a compiled function keeps programs for;
/// the least recently used is dropped first.
pub const CACHE_CAPACITY: usize = 32;

/// Where a program step's operand comes from.
#[derive(Clone)]
enum Ref {
    Arg(usize),
    Step(usize),
    /// An array the function used that does not depend on its arguments.
    Const(Array),
}

impl Ref {
    fn same(&self, other: &Ref) -> bool {
        match (self, other) {
            (Ref::Arg(a), Ref::Arg(b)) | (Ref::Step(a), Ref::Step(b)) => a == b,
            (Ref::Const(a), Ref::Const(b)) => a.id() == b.id(),
            _ => false,
        }
    }
}

#[derive(Clone)]
struct Step {
    primitive: Primitive,
    shape: Vec<usize>,
    dtype: DType,
    inputs: Vec<Ref>,
}

/// A traced function: steps in order, and where the outputs come from.
struct Program {
    steps: Vec<Step>,
    outputs: Vec<Ref>,
}

type Signature = Vec<(Vec<usize>, DType)>;

impl Program {
    fn trace(f: &dyn Fn(&[Array]) -> Result<Vec<Array>>, args: &[Array]) -> Result<Program> {
        let _retain = RetainGraph::new();
        let _tracing = Tracing::new();
        let stand_ins: Vec<Array> = args
            .iter()
            .map(|a| placeholder(a.shape().to_vec(), a))
            .collect();
        let outs = f(&stand_ins)?;
        let mut refs: HashMap<usize, Ref> = stand_ins
            .iter()
            .enumerate()
            .map(|(k, p)| (p.id(), Ref::Arg(k)))
            .collect();
        let resolve = |refs: &HashMap<usize, Ref>, a: &Array| {
            refs.get(&a.id())
                .cloned()
                .unwrap_or_else(|| Ref::Const(a.clone()))
        };
        let mut steps = Vec::new();
        for node in tape(&stand_ins, &outs) {
            super::check_custom_captures(&node, &node.inputs(), "compile")?;
            let inputs = node.inputs().iter().map(|i| resolve(&refs, i)).collect();
            refs.insert(node.id(), Ref::Step(steps.len()));
            steps.push(Step {
                primitive: node.primitive().clone(),
                shape: node.shape().to_vec(),
                dtype: node.dtype(),
                inputs,
            });
        }
        let outputs = outs.iter().map(|o| resolve(&refs, o)).collect();
        Program { steps, outputs }.fused(args)?.merged_outputs(args)
    }

    fn dtype_of(&self, r: &Ref, args: &[Array]) -> DType {
        match r {
            Ref::Arg(k) => args[*k].dtype(),
            Ref::Step(j) => self.steps[*j].dtype,
            Ref::Const(a) => a.dtype(),
        }
    }

    /// The program with chains of elementwise steps merged into fused
    /// steps. A chain grows from its last step backwards through producers
    /// of the same shape that nothing else uses, while it reads at most
    /// `MAX_FUSED_INPUTS` arrays. A producer that only elementwise steps of
    /// its shape read, itself reading no elementwise step (a bias add after
    /// a matmul, say), is recomputed inside each chain that reads it, and
    /// its own kernel goes when every reader's chain has it.
    fn fused(self, args: &[Array]) -> Result<Program> {
        let n = self.steps.len();
        let readers = self.readers();
        let mut is_output = vec![false; n];
        for r in &self.outputs {
            if let Ref::Step(j) = r {
                is_output[*j] = true;
            }
        }
        let elementwise = |j: usize| self.steps[j].primitive.is_elementwise();
        let sole_reader = |j: usize| readers[j].len() == 1 && !is_output[j];
        let recomputable = |j: usize| {
            !is_output[j]
                && readers[j].len() > 1
                && readers[j]
                    .iter()
                    .all(|&c| elementwise(c) && self.steps[c].shape == self.steps[j].shape)
                && !self.steps[j]
                    .inputs
                    .iter()
                    .any(|r| matches!(r, Ref::Step(i) if elementwise(*i)))
        };
        let mut absorbed = vec![false; n];
        let mut chain_of: Vec<Option<usize>> = vec![None; n];
        let mut chains: HashMap<usize, Vec<usize>> = HashMap::new();
        for root in (0..n).rev() {
            let step = &self.steps[root];
            if absorbed[root] || chain_of[root].is_some() || !elementwise(root) {
                continue;
            }
            let mut members = vec![root];
            while members.len() < MAX_FUSED_STEPS {
                let candidate = members.iter().find_map(|&m| {
                    self.steps[m].inputs.iter().find_map(|r| match r {
                        Ref::Step(j)
                            if !members.contains(j)
                                && !absorbed[*j]
                                && (sole_reader(*j) || recomputable(*j))
                                && elementwise(*j)
                                && self.steps[*j].shape == step.shape
                                && self.leaves(&[&members[..], &[*j]].concat()).len()
                                    <= MAX_FUSED_INPUTS =>
                        {
                            Some(*j)
                        }
                        _ => None,
                    })
                });
                match candidate {
                    Some(j) => members.push(j),
                    None => break,
                }
            }
            if members.len() < 2 {
                continue;
            }
            members.sort_unstable();
            for &m in &members {
                if sole_reader(m) || m == root {
                    absorbed[m] = m != root;
                    chain_of[m] = Some(root);
                }
            }
            chains.insert(root, members);
        }
        // A recomputed producer goes when every reader's chain has it.
        for j in 0..n {
            if recomputable(j) && chain_of[j].is_none() {
                let covered = readers[j]
                    .iter()
                    .all(|&c| chain_of[c].is_some_and(|root| chains[&root].contains(&j)));
                absorbed[j] = covered;
            }
        }
        let mut replacement: HashMap<usize, Step> = HashMap::new();
        for (root, members) in &chains {
            replacement.insert(*root, self.fuse(members, args)?);
        }
        // Renumber the steps that remain.
        let mut index = vec![usize::MAX; n];
        let mut steps = Vec::new();
        let mut replacement = replacement;
        for (j, step) in self.steps.into_iter().enumerate() {
            if absorbed[j] {
                continue;
            }
            let mut step = replacement.remove(&j).unwrap_or(step);
            step.inputs = step.inputs.iter().map(|r| renumbered(r, &index)).collect();
            index[j] = steps.len();
            steps.push(step);
        }
        let outputs = self.outputs.iter().map(|r| renumbered(r, &index)).collect();
        Ok(Program { steps, outputs })
    }

    /// The program with its elementwise outputs of one shape and dtype
    /// computed by one kernel with several roots (an optimizer's new
    /// parameter and state, say), where only those outputs read each other
    /// and together they read no more arrays than one kernel may bind. Each
    /// output becomes a view of the stacked result.
    fn merged_outputs(self, args: &[Array]) -> Result<Program> {
        let n = self.steps.len();
        let readers = self.readers();
        let mut outputs: Vec<usize> = Vec::new();
        for r in &self.outputs {
            if let Ref::Step(j) = r {
                if !outputs.contains(j) {
                    outputs.push(*j);
                }
            }
        }
        let chain_like = |j: usize| {
            let step = &self.steps[j];
            step.dtype != DType::Bool
                && match &step.primitive {
                    Primitive::Fused(f) => !f.is_stacked(),
                    p => p.is_elementwise(),
                }
        };
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for &j in outputs.iter().filter(|&&j| chain_like(j)) {
            let step = &self.steps[j];
            match groups.iter_mut().find(|g| {
                let first = &self.steps[g[0]];
                first.shape == step.shape && first.dtype == step.dtype
            }) {
                Some(group) => group.push(j),
                None => groups.push(vec![j]),
            }
        }
        let limit = fused_input_limit();
        // Per merge: every step the kernel computes, the outputs among them
        // (both sorted), and the kernel.
        let mut merged: Vec<(Vec<usize>, Vec<usize>, Step)> = Vec::new();
        for mut group in groups {
            // Only members may read members.
            while let Some(k) = group
                .iter()
                .position(|&j| readers[j].iter().any(|c| !group.contains(c)))
            {
                group.remove(k);
            }
            group.sort_unstable();
            if group.len() < 2 {
                continue;
            }
            // Elementwise steps of the same shape that only members read
            // (the new moments of a guarded optimizer update, which both
            // the new parameter and the kept-or-new moment read) join as
            // members whose values are not written.
            let mut members = group.clone();
            while let Some(j) = (0..n).find(|&j| {
                !members.contains(&j)
                    && !outputs.contains(&j)
                    && chain_like(j)
                    && self.steps[j].shape == self.steps[group[0]].shape
                    && !readers[j].is_empty()
                    && readers[j].iter().all(|c| members.contains(c))
            }) {
                members.push(j);
            }
            members.sort_unstable();
            // Without them where they make the kernel too large.
            let fits = |members: &[usize]| {
                let steps: usize = members.iter().map(|&j| self.chain_len(j)).sum();
                steps <= MAX_FUSED_STEPS && self.leaves(members).len() <= limit
            };
            let members = match [members, group.clone()].into_iter().find(|m| fits(m)) {
                Some(members) => members,
                None => continue,
            };
            let step = self.stack(&members, &group, args)?;
            merged.push((members, group, step));
        }
        if merged.is_empty() {
            return Ok(self);
        }
        // The stacked step goes where its last member was, each member's
        // view right after it.
        let mut index = vec![usize::MAX; n];
        let mut steps = Vec::new();
        let mut stacked_at: HashMap<usize, Step> = merged
            .iter()
            .map(|(members, _, step)| (*members.last().expect("members"), step.clone()))
            .collect();
        let member_of = |j: usize| merged.iter().find(|(members, _, _)| members.contains(&j));
        for (j, step) in self.steps.into_iter().enumerate() {
            let Some((_, group, _)) = member_of(j) else {
                let mut step = step;
                step.inputs = step.inputs.iter().map(|r| renumbered(r, &index)).collect();
                index[j] = steps.len();
                steps.push(step);
                continue;
            };
            let Some(mut stacked) = stacked_at.remove(&j) else {
                continue;
            };
            stacked.inputs = stacked
                .inputs
                .iter()
                .map(|r| renumbered(r, &index))
                .collect();
            let at = steps.len();
            let each = stacked.shape[1..].to_vec();
            let dtype = stacked.dtype;
            steps.push(stacked);
            for (k, &member) in group.iter().enumerate() {
                let mut start = vec![0; each.len() + 1];
                start[0] = k;
                let mut sliced = vec![1];
                sliced.extend_from_slice(&each);
                steps.push(Step {
                    primitive: Primitive::Slice {
                        start,
                        step: vec![1; each.len() + 1],
                    },
                    shape: sliced,
                    dtype,
                    inputs: vec![Ref::Step(at)],
                });
                steps.push(Step {
                    primitive: Primitive::Reshape,
                    shape: each.clone(),
                    dtype,
                    inputs: vec![Ref::Step(steps.len() - 1)],
                });
                index[member] = steps.len() - 1;
            }
        }
        let outputs = self.outputs.iter().map(|r| renumbered(r, &index)).collect();
        Ok(Program { steps, outputs })
    }

    /// The steps that read each step.
    fn readers(&self) -> Vec<Vec<usize>> {
        let mut readers: Vec<Vec<usize>> = vec![Vec::new(); self.steps.len()];
        for (c, step) in self.steps.iter().enumerate() {
            for r in &step.inputs {
                if let Ref::Step(j) = r {
                    readers[*j].push(c);
                }
            }
        }
        readers
    }

    /// The number of elementwise ops step `j` runs.
    fn chain_len(&self, j: usize) -> usize {
        match &self.steps[j].primitive {
            Primitive::Fused(f) => f.steps.len(),
            _ => 1,
        }
    }

    /// One fused step computing the chains or elementwise steps `members`
    /// (sorted, reading each other only as earlier members), the values of
    /// those in `written` stacked along a new first axis.
    fn stack(&self, members: &[usize], written: &[usize], args: &[Array]) -> Result<Step> {
        let leaves = self.leaves(members);
        let mut chain: Vec<FusedStep> = Vec::new();
        let mut constants: Vec<Array> = Vec::new();
        let mut constant_index = |a: &Array| index_in(&mut constants, a);
        // Where in the chain each member's value is.
        let mut values: Vec<usize> = Vec::new();
        for &m in members {
            let step = &self.steps[m];
            let outside = |r: &Ref, values: &[usize]| match r {
                Ref::Step(j) if members.contains(j) => {
                    FusedInput::Step(values[members.iter().position(|g| g == j).expect("a member")])
                }
                _ => FusedInput::Input(leaves.iter().position(|l| l.same(r)).expect("a leaf")),
            };
            match &step.primitive {
                Primitive::Fused(f) => {
                    let base = chain.len();
                    for fs in &f.steps {
                        let inputs = fs
                            .inputs
                            .iter()
                            .map(|r| match *r {
                                FusedInput::Input(k) => outside(&step.inputs[k], &values),
                                FusedInput::Step(s) => FusedInput::Step(base + s),
                                FusedInput::Constant(k) => {
                                    FusedInput::Constant(constant_index(&f.constants[k]))
                                }
                            })
                            .collect();
                        chain.push(FusedStep {
                            primitive: fs.primitive.clone(),
                            dtype: fs.dtype,
                            inputs,
                        });
                    }
                    values.push(base + f.roots[0]);
                }
                primitive => {
                    let inputs = step
                        .inputs
                        .iter()
                        .map(|r| match r {
                            Ref::Const(a) if Fused::can_inline(a) => {
                                FusedInput::Constant(constant_index(a))
                            }
                            r => outside(r, &values),
                        })
                        .collect();
                    chain.push(FusedStep {
                        primitive: primitive.clone(),
                        dtype: step.dtype,
                        inputs,
                    });
                    values.push(chain.len() - 1);
                }
            }
        }
        let roots = members
            .iter()
            .zip(&values)
            .filter(|(m, _)| written.contains(m))
            .map(|(_, &v)| v)
            .collect();
        let dtypes: Vec<DType> = leaves.iter().map(|l| self.dtype_of(l, args)).collect();
        let first = &self.steps[written[0]];
        let mut shape = vec![written.len()];
        shape.extend_from_slice(&first.shape);
        Ok(Step {
            primitive: Primitive::Fused(Arc::new(
                Fused::new(chain, dtypes, constants).with_roots(roots),
            )),
            shape,
            dtype: first.dtype,
            inputs: leaves,
        })
    }

    /// The distinct operands that `members` read from outside themselves
    /// (scalar constants are written into the kernel instead).
    fn leaves(&self, members: &[usize]) -> Vec<Ref> {
        let mut leaves: Vec<Ref> = Vec::new();
        for &m in members {
            for r in &self.steps[m].inputs {
                let inside = matches!(r, Ref::Step(j) if members.contains(j));
                let written_in = matches!(r, Ref::Const(a) if Fused::can_inline(a));
                if !inside && !written_in && !leaves.iter().any(|l| l.same(r)) {
                    leaves.push(r.clone());
                }
            }
        }
        leaves
    }

    /// One fused step computing `members` (sorted; the last is the root).
    fn fuse(&self, members: &[usize], args: &[Array]) -> Result<Step> {
        let leaves = self.leaves(members);
        let mut constants: Vec<Array> = Vec::new();
        let mut constant_index = |a: &Array| index_in(&mut constants, a);
        let chain = members
            .iter()
            .map(|&m| {
                let step = &self.steps[m];
                let inputs = step
                    .inputs
                    .iter()
                    .map(|r| match r {
                        Ref::Step(j) if members.contains(j) => {
                            FusedInput::Step(members.iter().position(|x| x == j).expect("a member"))
                        }
                        Ref::Const(a) if Fused::can_inline(a) => {
                            FusedInput::Constant(constant_index(a))
                        }
                        _ => FusedInput::Input(
                            leaves.iter().position(|l| l.same(r)).expect("a leaf"),
                        ),
                    })
                    .collect();
                FusedStep {
                    primitive: step.primitive.clone(),
                    dtype: step.dtype,
                    inputs,
                }
            })
            .collect();
        let dtypes: Vec<DType> = leaves.iter().map(|l| self.dtype_of(l, args)).collect();
        let root = &self.steps[*members.last().expect("members")];
        Ok(Step {
            primitive: Primitive::Fused(Arc::new(Fused::new(chain, dtypes, constants))),
            shape: root.shape.clone(),
            dtype: root.dtype,
            inputs: leaves,
        })
    }

    /// The program's outputs for `args` (lazy, like any op's).
    fn run(&self, args: &[Array]) -> Vec<Array> {
        let mut values: Vec<Array> = Vec::with_capacity(self.steps.len());
        let get = |values: &[Array], r: &Ref| match r {
            Ref::Arg(k) => args[*k].clone(),
            Ref::Step(j) => values[*j].clone(),
            Ref::Const(a) => a.clone(),
        };
        for step in &self.steps {
            let inputs = step.inputs.iter().map(|r| get(&values, r)).collect();
            values.push(Array::from_primitive(
                step.shape.clone(),
                step.dtype,
                step.primitive.clone(),
                inputs,
            ));
        }
        self.outputs.iter().map(|r| get(&values, r)).collect()
    }
}

/// The most arrays one fused kernel reads on the default device: its
/// storage bindings but the parameters and the result; at least
/// [`MAX_FUSED_INPUTS`] (what every WebGPU adapter allows), at most 14.
fn fused_input_limit() -> usize {
    crate::backend::device::device_info()
        .map(|info| (info.max_storage_buffers_per_kernel as usize).saturating_sub(2))
        .unwrap_or(0)
        .clamp(MAX_FUSED_INPUTS, 14)
}

/// `r` with a step index moved to `index[step]`.
fn renumbered(r: &Ref, index: &[usize]) -> Ref {
    match r {
        Ref::Step(s) => Ref::Step(index[*s]),
        other => other.clone(),
    }
}

/// Where `a` is among a fused kernel's `constants`, added if new.
fn index_in(constants: &mut Vec<Array>, a: &Array) -> usize {
    constants
        .iter()
        .position(|c| c.id() == a.id())
        .unwrap_or_else(|| {
            constants.push(a.clone());
            constants.len() - 1
        })
}

/// `f`, traced once per argument shapes and dtypes into a program whose
/// chains of elementwise ops run as single generated kernels; later calls
/// with the same signature replay the program without calling `f`.
///
/// Values `f` reads that do not depend on its arguments (captured arrays,
/// constants it creates) are fixed at tracing, and `f` must not read its
/// arguments' values. Results agree with calling `f` directly. A
/// [`Dropout`](crate::nn::Dropout) layer in training mode is an error while
/// tracing, as its fresh mask would be fixed; [`crate::nn::dropout`] with a
/// key passed as an argument is not.
///
/// ```
/// use kiln::Array;
/// let gelu = kiln::compile(|x: &[Array]| {
///     let x = &x[0];
///     let inner = kiln::multiply(&kiln::add(x, &kiln::multiply(&kiln::power(x, &Array::scalar(3.0f32))?, &Array::scalar(0.044715f32))?)?, &Array::scalar(0.7978846f32))?;
///     let y = kiln::multiply(&kiln::multiply(x, &Array::scalar(0.5f32))?, &kiln::add(&Array::scalar(1.0f32), &kiln::tanh(&inner)?)?)?;
///     Ok(vec![y])
/// });
/// let y = gelu(&[Array::from_slice(&[-1.0f32, 0.0, 1.0], &[3])?])?;
/// # #[cfg(not(target_arch = "wasm32"))]
/// assert!((y[0].to_vec::<f32>()?[2] - 0.841192).abs() < 1e-5);
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn compile<F>(f: F) -> impl Fn(&[Array]) -> Result<Vec<Array>>
where
    F: Fn(&[Array]) -> Result<Vec<Array>>,
{
    let cache: Mutex<Vec<(Signature, Arc<Program>)>> = Mutex::new(Vec::new());
    move |args: &[Array]| {
        let signature: Signature = args
            .iter()
            .map(|a| (a.shape().to_vec(), a.dtype()))
            .collect();
        let found = {
            let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
            let hit = cache.iter().position(|(s, _)| *s == signature);
            hit.map(|k| {
                let entry = cache.remove(k);
                let program = entry.1.clone();
                cache.insert(0, entry);
                program
            })
        };
        let program = match found {
            Some(p) => p,
            None => {
                let program = Arc::new(Program::trace(&f, args)?);
                let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
                cache.insert(0, (signature, program.clone()));
                cache.truncate(CACHE_CAPACITY);
                program
            }
        };
        Ok(program.run(args))
    }
}

/// A fused node's chain rebuilt from ordinary elementwise ops on `inputs`,
/// for the transforms to differentiate (several roots stacked).
pub(crate) fn unfuse(fused: &Fused, inputs: &[Array]) -> Result<Array> {
    let mut roots = unfuse_roots(fused, inputs)?;
    if fused.is_stacked() {
        return crate::ops::shape::stack(&roots.iter().collect::<Vec<_>>(), 0);
    }
    roots
        .pop()
        .ok_or_else(|| crate::error::invalid("compile", "a fused kernel has no steps"))
}

/// The values of a fused node's roots, rebuilt from ordinary ops.
pub(crate) fn unfuse_roots(fused: &Fused, inputs: &[Array]) -> Result<Vec<Array>> {
    use crate::ops::elementwise::{astype, binary, r#where, unary};
    let mut values: Vec<Array> = Vec::with_capacity(fused.steps.len());
    for step in &fused.steps {
        let xs: Vec<Array> = step
            .inputs
            .iter()
            .map(|r| match *r {
                FusedInput::Input(k) => inputs[k].clone(),
                FusedInput::Step(s) => values[s].clone(),
                FusedInput::Constant(k) => fused.constants[k].clone(),
            })
            .collect();
        values.push(match &step.primitive {
            Primitive::Unary(op) => unary(*op, &xs[0])?,
            Primitive::Binary(op) => binary(*op, &xs[0], &xs[1])?,
            Primitive::Where => r#where(&xs[0], &xs[1], &xs[2])?,
            Primitive::AsType => astype(&xs[0], step.dtype)?,
            other => bail!("compile", "{} cannot be fused", other.name()),
        });
    }
    Ok(fused.roots.iter().map(|&r| values[r].clone()).collect())
}
