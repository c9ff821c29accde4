//! What every transform shares: keeping the graph while a function is
//! traced, stand-ins for arguments, and the part of a graph that lies
//! between a function's arguments and its outputs.

use crate::array::Array;
use crate::error::{bail, Result};
use crate::primitive::Primitive;
use std::collections::HashSet;

pub(crate) use crate::array::RetainGraph;

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

/// Whether `out`'s graph reaches a node for which `hit` holds without
/// passing through `args` (for rules that only see a function's arguments:
/// what a function captured instead must not be traced).
pub(crate) fn reaches_past(out: &Array, args: &[Array], hit: impl Fn(&Array) -> bool) -> bool {
    let stop: HashSet<usize> = args.iter().map(Array::id).collect();
    let mut seen = HashSet::new();
    let mut stack = vec![out.clone()];
    while let Some(node) = stack.pop() {
        if stop.contains(&node.id()) || !seen.insert(node.id()) {
            continue;
        }
        if hit(&node) {
            return true;
        }
        stack.extend(node.inputs().iter().cloned());
    }
    false
}

/// The error for a custom rule whose function captured a traced array.
pub(crate) fn captured_traced_array(transform: &str) -> crate::error::Error {
    crate::error::invalid(
        "custom_vjp",
        format!(
            "the function uses an array that {transform} is tracing without taking it as an \
             argument; pass that array as an argument"
        ),
    )
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
