//! Copies that assemble arrays (reshape where no view serves, concatenate,
//! pad), indexing (gather, scatter-add) and sorting on the CPU.

use super::elementwise::full;
use super::{load, stored, Values};
use crate::array::{contiguous_strides, DeviceData};
use crate::backend::view::{broadcast_view, reshape_strides};
use crate::dtype::{DType, Scalar};
use crate::error::{Error, Result};
use std::cmp::Ordering;

type Operand<'a> = (&'a DeviceData, &'a [usize], DType);

/// A view of the new shape where the layout allows one (NumPy's rule), else
/// a contiguous copy.
pub(crate) fn reshape((data, shape, dtype): Operand, new_shape: &[usize]) -> Result<DeviceData> {
    if new_shape.iter().product::<usize>() > 0 {
        if let Some(strides) = reshape_strides(shape, &data.strides, new_shape) {
            return Ok(DeviceData {
                buffer: data.buffer.clone(),
                strides,
                offset: data.offset,
            });
        }
    }
    Ok(stored(load(data, shape, "reshape")?, dtype, new_shape))
}

/// Writes `part` (of `part_shape`) into the contiguous `out` of `shape` at
/// `start`.
fn write_part(
    out: &mut Values,
    shape: &[usize],
    start: &[usize],
    part: Values,
    part_shape: &[usize],
) {
    let strides = contiguous_strides(shape);
    let offset: isize = start
        .iter()
        .zip(&strides)
        .map(|(&s, &t)| s as isize * t)
        .sum();
    let mut positions = Vec::with_capacity(part.len());
    super::for_each_position(part_shape, &strides, offset as usize, |at| {
        positions.push(at)
    });
    fn put<T: Copy>(dst: &mut [T], positions: &[usize], src: Vec<T>) {
        for (&at, v) in positions.iter().zip(src) {
            dst[at] = v;
        }
    }
    match (out, part) {
        (Values::F(d), Values::F(s)) => put(d, &positions, s),
        (Values::I(d), Values::I(s)) => put(d, &positions, s),
        (Values::U(d), Values::U(s)) => put(d, &positions, s),
        _ => unreachable!("parts of one dtype"),
    }
}

/// The values of a new contiguous array of `dtype` filled with `value`.
fn filled(value: Scalar, shape: &[usize], dtype: DType) -> Result<Values> {
    load(&full(value, shape, dtype), shape, "full")
}

pub(crate) fn concatenate(
    parts: &[Operand],
    axis: usize,
    shape: &[usize],
    dtype: DType,
) -> Result<DeviceData> {
    let mut out = filled(Scalar::Int(0), shape, dtype)?;
    let mut start = vec![0usize; shape.len()];
    for &(data, part_shape, _) in parts {
        write_part(
            &mut out,
            shape,
            &start,
            load(data, part_shape, "concatenate")?,
            part_shape,
        );
        if let Some(at) = start.get_mut(axis) {
            *at += part_shape[axis];
        }
    }
    Ok(stored(out, dtype, shape))
}

pub(crate) fn pad(
    (data, in_shape, _): Operand,
    low: &[usize],
    value: Scalar,
    shape: &[usize],
    dtype: DType,
) -> Result<DeviceData> {
    let mut out = filled(value, shape, dtype)?;
    write_part(&mut out, shape, low, load(data, in_shape, "pad")?, in_shape);
    Ok(stored(out, dtype, shape))
}

/// The indices of an operand as `i32`s, broadcast to `shape`.
fn indices((data, in_shape, _): Operand, shape: &[usize], op: &str) -> Result<Vec<i32>> {
    match load(&broadcast_view(data, in_shape, shape), shape, op)? {
        Values::I(v) => Ok(v),
        Values::U(v) => Ok(v.into_iter().map(|x| x as i32).collect()),
        Values::F(_) => Err(Error::Eval(format!("{op}: indices must be integers"))),
    }
}

/// Where index `j` of an axis of length `len` reads: negative counts from
/// the end, and the rest is clamped into the axis (as the kernels do).
fn clamp_index(j: i32, len: usize) -> usize {
    let j = if j < 0 {
        j as i64 + len as i64
    } else {
        j as i64
    };
    j.clamp(0, len as i64 - 1) as usize
}

/// Calls `f(e, p)` for each element `e` of `shape` (row-major) with its
/// position `p` in a contiguous array of `shape` whose `axis` coordinate is
/// replaced by `indices`' entry `e` (an axis `len` long there).
fn for_each_indexed(
    shape: &[usize],
    axis: usize,
    len: usize,
    indices: &[i32],
    mut f: impl FnMut(usize, usize),
) {
    // Elements after `axis` in each step along it, and steps of `axis`.
    let inner: usize = shape[axis + 1..].iter().product();
    let along = shape[axis];
    if inner * along == 0 {
        return;
    }
    let mut e = 0;
    for outer in 0..indices.len() / (along * inner) {
        for _ in 0..along {
            for rest in 0..inner {
                f(
                    e,
                    (outer * len + clamp_index(indices[e], len)) * inner + rest,
                );
                e += 1;
            }
        }
    }
}

/// `take_along_axis`: `a` (the output's shape but along `axis`) read at
/// `indices` (the output's shape).
pub(crate) fn gather(a: Operand, idx: Operand, axis: usize, shape: &[usize]) -> Result<DeviceData> {
    let (data, a_shape, dtype) = a;
    let indices = indices(idx, shape, "take_along_axis")?;
    let values = load(data, a_shape, "take_along_axis")?;
    fn pick<T: Copy>(v: &[T], shape: &[usize], axis: usize, len: usize, at: &[i32]) -> Vec<T> {
        let mut out = Vec::with_capacity(at.len());
        for_each_indexed(shape, axis, len, at, |_, p| out.push(v[p]));
        out
    }
    let len = a_shape[axis];
    let values = match values {
        Values::F(v) => Values::F(pick(&v, shape, axis, len, &indices)),
        Values::I(v) => Values::I(pick(&v, shape, axis, len, &indices)),
        Values::U(v) => Values::U(pick(&v, shape, axis, len, &indices)),
    };
    Ok(stored(values, dtype, shape))
}

/// `a` with `updates` (broadcast to the indices' shape) added at `indices`
/// along `axis`, in row-major order (integers wrap).
pub(crate) fn scatter_add(
    a: Operand,
    idx: Operand,
    updates: Operand,
    axis: usize,
) -> Result<DeviceData> {
    let (data, a_shape, dtype) = a;
    let shape = idx.1;
    let indices = indices(idx, shape, "scatter_add")?;
    let (u_data, u_shape, _) = updates;
    let updates = load(
        &broadcast_view(u_data, u_shape, shape),
        shape,
        "scatter_add",
    )?;
    let len = a_shape[axis];
    let mut out = load(data, a_shape, "scatter_add")?;
    fn add_at<T: Copy>(
        o: &mut [T],
        u: &[T],
        at: (&[usize], usize, usize, &[i32]),
        add: fn(T, T) -> T,
    ) {
        let (shape, axis, len, indices) = at;
        for_each_indexed(shape, axis, len, indices, |e, p| o[p] = add(o[p], u[e]));
    }
    let at = (shape, axis, len, indices.as_slice());
    match (&mut out, updates) {
        (Values::F(o), Values::F(u)) => add_at(o, &u, at, |x, y| x + y),
        (Values::I(o), Values::I(u)) => add_at(o, &u, at, i32::wrapping_add),
        (Values::U(o), Values::U(u)) => add_at(o, &u, at, u32::wrapping_add),
        _ => return Err(Error::Eval("scatter_add: updates of another dtype".into())),
    }
    Ok(stored(out, dtype, a_shape))
}

/// The order of `a, b` for a stable sort, ascending or descending, NaN
/// last ascending and first descending.
fn order<T: PartialOrd>(a: &T, b: &T, descending: bool) -> Ordering {
    let (a_nan, b_nan) = (a.partial_cmp(a).is_none(), b.partial_cmp(b).is_none());
    match (a_nan, b_nan) {
        (true, true) => Ordering::Equal,
        (true, false) if descending => Ordering::Less,
        (true, false) => Ordering::Greater,
        (false, true) if descending => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => {
            let o = a.partial_cmp(b).expect("numbers");
            if descending {
                o.reverse()
            } else {
                o
            }
        }
    }
}

/// The int32 indices that sort each last-axis row of `a` (stable).
pub(crate) fn argsort((data, shape, _): Operand, descending: bool) -> Result<DeviceData> {
    let k_len = *shape.last().unwrap_or(&1);
    fn rows<T: PartialOrd + Copy>(v: &[T], k_len: usize, descending: bool) -> Vec<i32> {
        let mut out = Vec::with_capacity(v.len());
        for row in v.chunks(k_len.max(1)) {
            let mut idx: Vec<i32> = (0..row.len() as i32).collect();
            idx.sort_by(|&a, &b| order(&row[a as usize], &row[b as usize], descending));
            out.extend(idx);
        }
        out
    }
    let sorted = match load(data, shape, "argsort")? {
        Values::F(v) => rows(&v, k_len, descending),
        Values::I(v) => rows(&v, k_len, descending),
        Values::U(v) => rows(&v, k_len, descending),
    };
    Ok(stored(Values::I(sorted), DType::I32, shape))
}
