//! What every transform shares: keeping the graph while a function is
//! traced, stand-ins for arguments, and the part of a graph that lies
//! between a function's arguments and its outputs.

use crate::array::Array;
use crate::error::{bail, Result};
use crate::primitive::Primitive;
use std::cell::Cell;
use std::collections::HashSet;

thread_local! {
    static RETAIN: Cell<usize> = const { Cell::new(0) };
}

/// While alive, evaluation keeps evaluated nodes' inputs, so that a
/// transform can still walk the graph of a function that read some values.
pub(crate) struct RetainGraph(());

impl RetainGraph {
    pub fn new() -> RetainGraph {
        RETAIN.with(|r| r.set(r.get() + 1));
        RetainGraph(())
    }
}

impl Drop for RetainGraph {
    fn drop(&mut self) {
        RETAIN.with(|r| r.set(r.get() - 1));
    }
}

/// Whether a transform on this thread is tracing.
pub(crate) fn retaining_graph() -> bool {
    RETAIN.with(|r| r.get() > 0)
}

/// A new node that is `a` (a view), so that a transform can tell its
/// argument apart from every other use of the same array.
pub(crate) fn fresh(a: &Array) -> Array {
    Array::from_primitive(
        a.shape().to_vec(),
        a.dtype(),
        Primitive::Reshape,
        vec![a.clone()],
    )
}

/// A value-less stand-in of `shape` and `a`'s dtype.
pub(crate) fn placeholder(shape: Vec<usize>, a: &Array) -> Array {
    Array::from_primitive(shape, a.dtype(), Primitive::Placeholder, vec![])
}

/// The nodes that depend on `sources` and that `outputs` depend on, inputs
/// before users; `sources` themselves are left out, and the walk does not go
/// past them.
pub(crate) fn tape(sources: &[Array], outputs: &[Array]) -> Vec<Array> {
    let source_ids: HashSet<usize> = sources.iter().map(Array::id).collect();
    let mut active: HashSet<usize> = source_ids.clone();
    let mut visited: HashSet<usize> = HashSet::new();
    let mut order = Vec::new();
    // (node, inputs already pushed)
    let mut stack: Vec<(Array, bool)> = outputs.iter().map(|a| (a.clone(), false)).collect();
    while let Some((node, expanded)) = stack.pop() {
        if expanded {
            if node.inputs().iter().any(|i| active.contains(&i.id())) {
                active.insert(node.id());
                order.push(node);
            }
            continue;
        }
        if source_ids.contains(&node.id()) || !visited.insert(node.id()) {
            continue;
        }
        let inputs = node.inputs().clone();
        stack.push((node, true));
        for input in inputs.into_iter().rev() {
            if !visited.contains(&input.id()) {
                stack.push((input, false));
            }
        }
    }
    order
}

/// Checks that `argnums` pick distinct arguments among `n`.
pub(crate) fn check_argnums(op: &'static str, argnums: &[usize], n: usize) -> Result<()> {
    if argnums.is_empty() {
        bail!(op, "argnums is empty; name at least one argument");
    }
    for (k, &i) in argnums.iter().enumerate() {
        if i >= n {
            bail!(
                op,
                "argnums names argument {i}, but the function was given {n}"
            );
        }
        if argnums[..k].contains(&i) {
            bail!(op, "argnums names argument {i} twice");
        }
    }
    Ok(())
}
