//! The scheduler: sorts the unevaluated part of the graph, lowers what one
//! kernel cannot compute (see [`crate::lower`]), hands every node to the
//! backend to encode into its batch of queued work, then drops the
//! evaluated nodes' inputs so that their buffers can be reused.

use crate::array::{retaining_graph, Array, Data, DeviceData};
use crate::backend::limits::KernelLimits;
use crate::backend::view::view_of;
use crate::backend::{Active, Backend};
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::lower::lower;
use crate::primitive::Primitive;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The unevaluated nodes reachable from `outputs`, inputs before users.
fn schedule(outputs: &[&Array]) -> Vec<Array> {
    let mut order = Vec::new();
    let mut seen = HashSet::new();
    // (node, inputs already pushed)
    let mut stack: Vec<(Array, bool)> = outputs.iter().map(|a| ((*a).clone(), false)).collect();
    while let Some((node, expanded)) = stack.pop() {
        if expanded {
            order.push(node);
            continue;
        }
        if node.is_evaluated() || !seen.insert(node.id()) {
            continue;
        }
        let inputs = node.inputs().clone();
        stack.push((node, true));
        for input in inputs.into_iter().rev() {
            if !input.is_evaluated() && !seen.contains(&input.id()) {
                stack.push((input, false));
            }
        }
    }
    order
}

/// Encodes `node`, whose inputs are evaluated: its lowered graph when one
/// kernel cannot compute it, else its own kernel. Where its values will be.
fn encode<B: Backend>(
    backend: &B,
    batch: &mut B::Batch<'_>,
    limits: &KernelLimits,
    node: &Array,
) -> Result<DeviceData> {
    let bytes = (node.size() as u64).saturating_mul(node.dtype().device_size() as u64);
    if bytes > limits.max_array_bytes {
        return Err(crate::Error::Eval(format!(
            "{} of shape {} is {bytes} bytes, more than this adapter's largest storage binding ({} bytes)",
            node.primitive().name(),
            crate::error::fmt_shape(node.shape()),
            limits.max_array_bytes
        )));
    }
    // Views cost no kernel on any backend.
    let data: Vec<DeviceData> = node
        .inputs()
        .iter()
        .map(|a| a.device_data().expect("inputs are evaluated first"))
        .collect();
    if let Some(view) = view_of(node, &data) {
        return Ok(view);
    }
    let Some(graph) = lower(node, limits)? else {
        return backend.encode(batch, node);
    };
    for inner in schedule(&[&graph]) {
        let data = encode(backend, batch, limits, &inner)?;
        *inner.data() = Some(Data::Device(data));
    }
    Ok(graph.device_data().expect("just encoded"))
}

/// Evaluates `outputs` on the chosen backend.
pub(crate) fn eval(outputs: &[&Array]) -> Result<()> {
    match crate::backend::active()? {
        Active::Gpu(dev) => eval_on(&dev, outputs),
        Active::Cpu => eval_on(&crate::backend::cpu::CPU, outputs),
    }
}

/// Evaluates `outputs` on `backend`: encodes their kernels into its batch
/// of queued work, which it submits when it sees fit (reads and
/// `synchronize` submit the rest).
fn eval_on<B: Backend>(backend: &B, outputs: &[&Array]) -> Result<()> {
    // Scheduling inside the batch: another thread's evaluation marks its
    // nodes evaluated only once their kernels are encoded.
    let mut batch = backend.begin();
    let order = schedule(outputs);
    if order.is_empty() {
        return backend.finish(batch);
    }
    let retain = retaining_graph();
    // How often each node of this evaluation is an input of another: once
    // its last user is encoded and nothing else holds it, its buffer can
    // serve a later kernel of the same submission.
    let mut uses: HashMap<usize, usize> = order.iter().map(|n| (n.id(), 0)).collect();
    for node in &order {
        for input in node.inputs().iter() {
            if let Some(n) = uses.get_mut(&input.id()) {
                *n += 1;
            }
        }
    }
    let holders = uses.clone();
    let limits = backend.kernel_limits();
    let encoded = (|| {
        for node in &order {
            *node.data() = Some(Data::Device(encode(backend, &mut batch, &limits, node)?));
            if retain {
                continue;
            }
            for input in node.inputs().iter() {
                let Some(left) = uses.get_mut(&input.id()) else {
                    continue;
                };
                *left -= 1;
                // Held only by `order` and its users here: no one can read it.
                let unheld = Arc::strong_count(&input.0) == 1 + holders[&input.id()];
                if *left == 0 && unheld && !matches!(input.primitive(), Primitive::Constant) {
                    *input.data() = None;
                }
            }
        }
        Ok(())
    })();
    if let Err(e) = encoded {
        // Uploaded constants stay valid; computed nodes were never queued.
        backend.abandon(&mut batch);
        for node in &order {
            if !matches!(node.primitive(), Primitive::Constant) {
                *node.data() = None;
            }
        }
        backend.finish(batch)?;
        return Err(e);
    }
    DISPATCHES.with(|c| c.set(c.get() + B::dispatches(&batch)));
    backend.finish(batch)?;
    // Transforms walk the graph after evaluating parts of it.
    if !retain {
        for node in &order {
            node.inputs().clear();
        }
    }
    Ok(())
}

/// The values of an evaluated array, row-major as the device stores them;
/// waits for the work that computes them.
pub(crate) async fn read<T: Element>(array: &Array) -> Result<Vec<T>> {
    if array.size() == 0 {
        return Ok(Vec::new());
    }
    let data = array
        .device_data()
        .ok_or_else(|| Error::Eval("readback of an array that is not evaluated".into()))?;
    match crate::backend::active()? {
        Active::Gpu(dev) => dev.read::<T>(&data, array.shape()).await,
        Active::Cpu => {
            crate::backend::cpu::CPU
                .read::<T>(&data, array.shape())
                .await
        }
    }
}

thread_local! {
    static DISPATCHES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Kernel dispatches encoded by evaluations on this thread so far (for tests
/// and benchmarks of scheduling and fusion).
pub fn dispatch_count() -> usize {
    DISPATCHES.with(|c| c.get())
}
