//! `einsum`: NumPy's subscripts (`"ij,jk->ik"`, `...` for broadcast axes,
//! the implicit output of labels that appear once) lowered to diagonals,
//! sums, transposes, reshapes and batched matrix products, operands
//! contracted left to right.

use crate::array::Array;
use crate::error::{bail, fmt_shape, Result};
use crate::ops::matmul::matmul;
use crate::ops::reduce::sum;
use crate::ops::shape::{broadcast_to, diagonal, reshape, transpose};
use std::collections::BTreeMap;

const OP: &str = "einsum";

/// The labels of the axes that `...` stands for: private characters, one
/// per broadcast axis, right-aligned across operands.
fn ellipsis_label(i: usize) -> char {
    char::from_u32(0xE000 + i as u32).expect("a private-use character")
}

/// One term's labels, `...` expanded to `ellipsis` broadcast labels.
fn parse_term(term: &str) -> Result<(Vec<char>, bool)> {
    let (before, after, dots) = match term.find("...") {
        Some(at) => (&term[..at], &term[at + 3..], true),
        None => (term, "", false),
    };
    if after.contains('.') || before.contains('.') {
        bail!(OP, "'{term}' has a '.' that is not part of one '...'");
    }
    if let Some(c) = before
        .chars()
        .chain(after.chars())
        .find(|c| !c.is_ascii_alphabetic())
    {
        bail!(
            OP,
            "subscripts are letters and '...', got '{c}' in '{term}'"
        );
    }
    let mut labels: Vec<char> = before.chars().collect();
    if dots {
        // Marked for expansion once the operand's rank is known.
        labels.push('.');
    }
    labels.extend(after.chars());
    Ok((labels, dots))
}

/// `labels` with the `.` marker replaced by the last `count` of `width`
/// broadcast labels.
fn expand(labels: &[char], count: usize, width: usize) -> Vec<char> {
    labels
        .iter()
        .flat_map(|&c| {
            if c == '.' {
                (width - count..width)
                    .map(ellipsis_label)
                    .collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// NumPy's `einsum` over `operands`.
pub fn einsum(subscripts: &str, operands: &[&Array]) -> Result<Array> {
    let spec: String = subscripts.chars().filter(|c| !c.is_whitespace()).collect();
    let (lhs, rhs) = match spec.split_once("->") {
        Some((l, r)) => (l, Some(r)),
        None => (spec.as_str(), None),
    };
    let terms: Vec<&str> = lhs.split(',').collect();
    if terms.len() != operands.len() {
        bail!(
            OP,
            "'{subscripts}' names {} operands, got {}",
            terms.len(),
            operands.len()
        );
    }
    // Each operand's labels, with how many axes its `...` covers.
    let mut parsed = Vec::new();
    for (term, x) in terms.iter().zip(operands) {
        let (labels, dots) = parse_term(term)?;
        let explicit = labels.len() - dots as usize;
        if (!dots && explicit != x.ndim()) || (dots && explicit > x.ndim()) {
            bail!(
                OP,
                "'{term}' has {explicit} labels for an operand of shape {}",
                fmt_shape(x.shape())
            );
        }
        parsed.push((labels, x.ndim() - explicit));
    }
    let width = parsed.iter().map(|p| p.1).max().unwrap_or(0);
    let inputs: Vec<Vec<char>> = parsed
        .iter()
        .map(|(labels, count)| expand(labels, *count, width))
        .collect();
    // Sizes by label: equal, or 1 against n for broadcast axes.
    let mut sizes: BTreeMap<char, usize> = BTreeMap::new();
    for (labels, x) in inputs.iter().zip(operands) {
        for (&c, &d) in labels.iter().zip(x.shape()) {
            let known = sizes.entry(c).or_insert(d);
            let broadcast = c as u32 >= 0xE000;
            if *known != d {
                if broadcast && (*known == 1 || d == 1) {
                    *known = (*known).max(d);
                } else {
                    let name = if broadcast {
                        "a '...' axis".to_string()
                    } else {
                        format!("'{c}'")
                    };
                    bail!(OP, "{name} has sizes {known} and {d} in '{subscripts}'");
                }
            }
        }
    }
    let output: Vec<char> = match rhs {
        Some(r) => {
            let (labels, _) = parse_term(r)?;
            let out = expand(&labels, width, width);
            for (i, c) in out.iter().enumerate() {
                if !sizes.contains_key(c) {
                    bail!(
                        OP,
                        "the output label '{c}' is in no operand of '{subscripts}'"
                    );
                }
                if out[..i].contains(c) {
                    bail!(OP, "the output repeats '{c}' in '{subscripts}'");
                }
            }
            out
        }
        None => {
            let mut counts: BTreeMap<char, usize> = BTreeMap::new();
            inputs
                .iter()
                .flatten()
                .for_each(|&c| *counts.entry(c).or_default() += 1);
            let broadcast = (0..width).map(ellipsis_label);
            let once = counts
                .iter()
                .filter(|(c, n)| **n == 1 && (**c as u32) < 0xE000)
                .map(|(c, _)| *c);
            broadcast.chain(once).collect()
        }
    };
    // Contract left to right, keeping what the output or a later operand needs.
    let mut current: Option<(Array, Vec<char>)> = None;
    for (i, (x, labels)) in operands.iter().zip(&inputs).enumerate() {
        let mut needed: Vec<char> = output.clone();
        inputs[i + 1..]
            .iter()
            .flatten()
            .for_each(|&c| needed.push(c));
        current = Some(match current {
            None => reduce(x, labels, &needed)?,
            // The accumulator holds only needed labels, once each (what
            // `reduce` and `contract` leave); the operand sums what neither
            // it nor anything later needs.
            Some((acc, acc_labels)) => {
                let mut needed_here = needed.clone();
                needed_here.extend(acc_labels.iter());
                let (y, y_labels) = reduce(x, labels, &needed_here)?;
                contract(&acc, &acc_labels, &y, &y_labels, &needed, &sizes)?
            }
        });
    }
    let (result, labels) = current.expect("at least one operand");
    let (result, labels) = reduce(&result, &labels, &output)?;
    let order: Vec<i32> = output
        .iter()
        .map(|c| labels.iter().position(|l| l == c).expect("kept") as i32)
        .collect();
    let result = transpose(&result, &order)?;
    // Broadcast axes of size 1 in every operand stay 1; others as sized.
    let shape: Vec<usize> = output.iter().map(|c| sizes[c]).collect();
    if result.shape() == shape.as_slice() {
        Ok(result)
    } else {
        broadcast_to(&result, &shape)
    }
}

/// `x` with repeated labels taken along their diagonal and the labels not
/// in `keep` summed out.
fn reduce(x: &Array, labels: &[char], keep: &[char]) -> Result<(Array, Vec<char>)> {
    let (mut x, mut labels) = (x.clone(), labels.to_vec());
    while let Some((p, q)) = repeated(&labels) {
        // The diagonal becomes the last axis.
        x = diagonal(&x, 0, p as i32, q as i32)?;
        let c = labels[p];
        labels.remove(q);
        labels.remove(p);
        labels.push(c);
    }
    let summed: Vec<i32> = (0..labels.len())
        .filter(|&i| !keep.contains(&labels[i]))
        .map(|i| i as i32)
        .collect();
    if !summed.is_empty() {
        x = sum(&x, summed.as_slice(), false)?;
        labels.retain(|c| keep.contains(c));
    }
    Ok((x, labels))
}

/// The first two positions holding the same label.
fn repeated(labels: &[char]) -> Option<(usize, usize)> {
    (0..labels.len()).find_map(|p| {
        (p + 1..labels.len())
            .find(|&q| labels[q] == labels[p])
            .map(|q| (p, q))
    })
}

/// `a · b` over their shared labels: those `keep` needs are batch axes,
/// the rest are summed by the matrix product.
fn contract(
    a: &Array,
    la: &[char],
    b: &Array,
    lb: &[char],
    keep: &[char],
    sizes: &BTreeMap<char, usize>,
) -> Result<(Array, Vec<char>)> {
    let shared: Vec<char> = la.iter().filter(|c| lb.contains(c)).copied().collect();
    let batch: Vec<char> = shared
        .iter()
        .filter(|c| keep.contains(c))
        .copied()
        .collect();
    let summed: Vec<char> = shared
        .iter()
        .filter(|c| !keep.contains(c))
        .copied()
        .collect();
    let left: Vec<char> = la.iter().filter(|c| !lb.contains(c)).copied().collect();
    let right: Vec<char> = lb.iter().filter(|c| !la.contains(c)).copied().collect();
    // x's axes in the order of `groups`, shared ones broadcast to their
    // full sizes, as a 3-D array (one axis per group).
    let arrange = |x: &Array, labels: &[char], groups: [&[char]; 3]| -> Result<Array> {
        let ordered: Vec<char> = groups.iter().flat_map(|g| g.iter().copied()).collect();
        let order: Vec<i32> = ordered
            .iter()
            .map(|c| labels.iter().position(|l| l == c).expect("a label of x") as i32)
            .collect();
        let moved = transpose(x, &order)?;
        let shape: Vec<usize> = ordered
            .iter()
            .enumerate()
            .map(|(k, c)| {
                if shared.contains(c) {
                    sizes[c]
                } else {
                    moved.shape()[k]
                }
            })
            .collect();
        let moved = broadcast_to(&moved, &shape)?;
        let (first, second) = (groups[0].len(), groups[0].len() + groups[1].len());
        let count = |r: std::ops::Range<usize>| shape[r].iter().product::<usize>() as i64;
        reshape(
            &moved,
            &[
                count(0..first),
                count(first..second),
                count(second..shape.len()),
            ],
        )
    };
    let a3 = arrange(a, la, [&batch, &left, &summed])?;
    let b3 = arrange(b, lb, [&batch, &summed, &right])?;
    let product = matmul(&a3, &b3)?;
    let labels: Vec<char> = batch.iter().chain(&left).chain(&right).copied().collect();
    let shape: Vec<i64> = labels
        .iter()
        .map(|c| {
            if batch.contains(c) {
                sizes[c] as i64
            } else if left.contains(c) {
                a.shape()[la.iter().position(|l| l == c).expect("left")] as i64
            } else {
                b.shape()[lb.iter().position(|l| l == c).expect("right")] as i64
            }
        })
        .collect();
    Ok((reshape(&product, &shape)?, labels))
}
