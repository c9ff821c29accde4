//! The scheduler: sorts the unevaluated part of the graph, encodes every
//! kernel into the device's batch of queued work, then drops the evaluated
//! nodes' inputs. A batch is submitted once it holds [`SUBMIT_AT`]
//! dispatches, or when anything is read back or synchronised: a submission
//! costs tens of microseconds of CPU time, a dispatch a few.

use super::device::device;
use super::device::Device;
use super::encoder::{Batch, Encoder};
use super::kernels;
use crate::array::{Array, Data};
use crate::error::Result;
use crate::primitive::Primitive;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, MutexGuard};

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

/// Encodes the unevaluated graph of `output` into `enc`, from inside the
/// encoding of another node whose kernel is that graph; where its values
/// will be.
pub(crate) fn encode_graph(enc: &mut Encoder, output: &Array) -> Result<crate::array::DeviceData> {
    for node in schedule(&[output]) {
        *node.data() = Some(Data::Device(kernels::encode(enc, &node)?));
    }
    Ok(output.device_data().expect("just encoded"))
}

/// Queued dispatches that make a batch worth submitting.
pub(crate) const SUBMIT_AT: usize = 32;

/// Evaluates `outputs`: encodes their kernels into the device's batch,
/// which is submitted when full (reads and `synchronize` submit the rest).
pub(crate) fn eval(outputs: &[&Array]) -> Result<()> {
    let dev = device()?;
    // Scheduling under the lock: another thread's evaluation marks its
    // nodes evaluated only once their kernels are encoded.
    let mut pending = dev.pending.lock().unwrap_or_else(|e| e.into_inner());
    let order = schedule(outputs);
    if order.is_empty() {
        return Ok(());
    }
    let retain = crate::array::retaining_graph();
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
    let mut encoder = Encoder::resume(dev.clone(), std::mem::take(&mut *pending));
    let mark = encoder.mark();
    let queued_before = encoder.dispatch_count();
    // Buffers given back from now on may still be used by queued work.
    dev.pool.defer();
    let encoded = (|| {
        for node in &order {
            *node.data() = Some(Data::Device(kernels::encode(&mut encoder, node)?));
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
        encoder.truncate(mark);
        for node in &order {
            if !matches!(node.primitive(), Primitive::Constant) {
                *node.data() = None;
            }
        }
        finish(&dev, encoder, pending)?;
        return Err(e);
    }
    DISPATCHES.with(|c| c.set(c.get() + encoder.dispatch_count() - queued_before));
    finish(&dev, encoder, pending)?;
    // Transforms walk the graph after evaluating parts of it.
    if !retain {
        for node in &order {
            node.inputs().clear();
        }
    }
    Ok(())
}

/// Queues the encoder's batch for later evaluations, submitting it if full.
fn finish(dev: &Arc<Device>, encoder: Encoder, mut pending: MutexGuard<Batch>) -> Result<()> {
    let full = encoder.dispatch_count() >= SUBMIT_AT;
    *pending = encoder.into_batch();
    if pending.is_empty() {
        dev.pool.settle();
    }
    drop(pending);
    if full {
        dev.flush()
    } else {
        Ok(())
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
