//! Reductions, scans and the row-wise primitives (softmax, normalisation,
//! squared norm) on the CPU. Float sums accumulate in float64, float
//! scans in float32 in order (as NumPy's `cumsum`); max and min propagate
//! NaN, and arg-reductions take the first of equal values (a NaN counts as
//! the largest and the smallest).

use super::elementwise::cast;
use super::{load, stored, Int, Values};
use crate::array::DeviceData;
use crate::backend::view::transpose;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::primitive::{ReduceOp, ScanOp};

type Operand<'a> = (&'a DeviceData, &'a [usize], DType);

/// The values of `input` with `axes` moved last, as rows of their elements:
/// (values, rows, row length).
fn rows_over(input: Operand, axes: &[usize], op: &str) -> Result<(Values, usize, usize)> {
    let (data, shape, _) = input;
    let kept: Vec<usize> = (0..shape.len()).filter(|d| !axes.contains(d)).collect();
    let perm: Vec<usize> = kept.iter().chain(axes).copied().collect();
    let view = transpose(data, &perm);
    let moved: Vec<usize> = perm.iter().map(|&d| shape[d]).collect();
    let k_len: usize = axes.iter().map(|&d| shape[d]).product();
    let rows: usize = kept.iter().map(|&d| shape[d]).product();
    Ok((load(&view, &moved, op)?, rows, k_len))
}

/// The float32 values of an operand, row-major.
fn floats(input: Operand, op: &str) -> Result<Vec<f32>> {
    match load(input.0, input.1, op)? {
        Values::F(v) => Ok(v),
        _ => Err(Error::Eval(format!("{op} needs float arrays"))),
    }
}

/// The index of the first maximum (or, with `less`, minimum) of `row`:
/// a NaN wins over every number.
fn arg_extreme(row: &[f32], less: bool) -> usize {
    let mut best = 0;
    for (k, &v) in row.iter().enumerate().skip(1) {
        let b = row[best];
        if b.is_nan() {
            break;
        }
        if v.is_nan() || (if less { v < b } else { v > b }) {
            best = k;
        }
    }
    best
}

fn arg_extreme_ord<T: PartialOrd + Copy>(row: &[T], less: bool) -> usize {
    let mut best = 0;
    for (k, &v) in row.iter().enumerate().skip(1) {
        if if less { v < row[best] } else { v > row[best] } {
            best = k;
        }
    }
    best
}

/// Each row's `f` of `values` in rows of `k_len` (empty rows included).
fn per_row<T, R>(values: &[T], rows: usize, k_len: usize, f: impl Fn(&[T]) -> R) -> Vec<R> {
    (0..rows)
        .map(|r| f(&values[r * k_len..(r + 1) * k_len]))
        .collect()
}

/// Independent accumulators of the row reductions, so that the additions
/// (and comparisons) of one lane need not wait for another's and the loop
/// vectorises.
const LANES: usize = 8;

/// The sum of `row` in float64.
fn sum_f64(row: &[f32]) -> f64 {
    let mut lanes = [0f64; LANES];
    let chunks = row.chunks_exact(LANES);
    let rest: f64 = chunks.remainder().iter().map(|&x| x as f64).sum();
    for chunk in chunks {
        for (lane, &x) in lanes.iter_mut().zip(chunk) {
            *lane += x as f64;
        }
    }
    lanes.iter().sum::<f64>() + rest
}

/// The largest (or, without `max`, smallest) element of `row`: NaN if any
/// is NaN, -inf (+inf) for an empty row.
fn extreme(row: &[f32], max: bool) -> f32 {
    let pick = |a: f32, b: f32| if max { a.max(b) } else { a.min(b) };
    let start = if max {
        f32::NEG_INFINITY
    } else {
        f32::INFINITY
    };
    let mut lanes = [start; LANES];
    let mut nan = false;
    let chunks = row.chunks_exact(LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, &x) in lanes.iter_mut().zip(chunk) {
            nan |= x.is_nan();
            *lane = pick(*lane, x);
        }
    }
    nan |= rest.iter().any(|x| x.is_nan());
    if nan {
        return f32::NAN;
    }
    lanes.iter().chain(rest).fold(start, |m, &x| pick(m, x))
}

/// Float rows: sums and products in float64, NaN-propagating max and min.
fn float_rows(op: ReduceOp, v: &[f32], rows: usize, k_len: usize) -> Values {
    use ReduceOp::*;
    let each = |f: &dyn Fn(&[f32]) -> f32| Values::F(per_row(v, rows, k_len, f));
    match op {
        Sum => each(&|row| sum_f64(row) as f32),
        Prod => each(&|row| row.iter().map(|&x| x as f64).product::<f64>() as f32),
        Max | Min => each(&|row| extreme(row, op == Max)),
        ArgMax | ArgMin => Values::I(per_row(v, rows, k_len, |row| {
            arg_extreme(row, op == ArgMin) as i32
        })),
        All => Values::U(per_row(v, rows, k_len, |row| {
            row.iter().all(|&x| x != 0.0) as u32
        })),
        Any => Values::U(per_row(v, rows, k_len, |row| {
            row.iter().any(|&x| x != 0.0) as u32
        })),
    }
}

/// Integer rows (wrapping sums and products), given as `T` by `wrap`.
fn int_rows<T: Int>(
    op: ReduceOp,
    v: &[T],
    rows: usize,
    k_len: usize,
    wrap: fn(Vec<T>) -> Values,
) -> Values {
    use ReduceOp::*;
    let fold = |start: T, f: fn(T, T) -> T| {
        wrap(per_row(v, rows, k_len, |row| {
            row.iter().fold(start, |a, &x| f(a, x))
        }))
    };
    match op {
        Sum => fold(T::ZERO, T::wrapping_add),
        Prod => fold(T::ONE, T::wrapping_mul),
        Max => fold(T::MIN, Ord::max),
        Min => fold(T::MAX, Ord::min),
        ArgMax | ArgMin => Values::I(per_row(v, rows, k_len, |row| {
            arg_extreme_ord(row, op == ArgMin) as i32
        })),
        All => Values::U(per_row(v, rows, k_len, |row| {
            row.iter().all(|&x| x != T::ZERO) as u32
        })),
        Any => Values::U(per_row(v, rows, k_len, |row| {
            row.iter().any(|&x| x != T::ZERO) as u32
        })),
    }
}

/// `op` over each row of `k_len` values of one compute type.
fn reduce_rows(op: ReduceOp, values: Values, k_len: usize, rows: usize) -> Values {
    match values {
        Values::F(v) => float_rows(op, &v, rows, k_len),
        Values::I(v) => int_rows(op, &v, rows, k_len, Values::I),
        Values::U(v) => int_rows(op, &v, rows, k_len, Values::U),
    }
}

/// Float sums over adjacent axes that have axes after them (a bias's
/// gradient, say), read in order: each output column accumulates its
/// inputs in float64 a row at a time, rather than gathering the columns
/// into rows first. `None` for other reductions.
fn column_sums(
    op: ReduceOp,
    axes: &[usize],
    input: Operand,
    dtype: DType,
) -> Result<Option<Vec<f32>>> {
    let shape = input.1;
    let (Some(&first), Some(&last)) = (axes.first(), axes.last()) else {
        return Ok(None);
    };
    let adjacent = axes.windows(2).all(|w| w[1] == w[0] + 1);
    let inner: usize = shape[last + 1..].iter().product();
    if op != ReduceOp::Sum || !dtype.is_float() || !adjacent || inner <= 1 {
        return Ok(None);
    }
    let outer: usize = shape[..first].iter().product();
    let along: usize = shape[first..=last].iter().product();
    if along == 0 {
        return Ok(Some(vec![0.0; outer * inner]));
    }
    let v = floats(input, op.name())?;
    let mut out = Vec::with_capacity(outer * inner);
    let mut acc = vec![0f64; inner];
    for block in v.chunks(along * inner).take(outer) {
        acc.fill(0.0);
        for row in block.chunks(inner) {
            acc.iter_mut().zip(row).for_each(|(a, &x)| *a += x as f64);
        }
        out.extend(acc.iter().map(|&a| a as f32));
    }
    Ok(Some(out))
}

/// A `Reduce` node of `dtype` over `axes` of `input`.
pub(crate) fn reduce(
    op: ReduceOp,
    axes: &[usize],
    input: Operand,
    dtype: DType,
) -> Result<DeviceData> {
    let name = op.name();
    let out_shape: Vec<usize> = (0..input.1.len())
        .filter(|d| !axes.contains(d))
        .map(|d| input.1[d])
        .collect();
    if let Some(sums) = column_sums(op, axes, input, dtype)? {
        return Ok(stored(Values::F(sums), dtype, &out_shape));
    }
    let trailing = axes
        .iter()
        .rev()
        .zip((0..input.1.len()).rev())
        .all(|(&a, d)| a == d);
    if trailing && input.2.is_float() && dtype.is_float() {
        // Rows already in order: reduced where they are.
        let k_len: usize = axes.iter().map(|&d| input.1[d]).product();
        let v = super::float_view(input.0, input.1, name)?;
        let rows = out_shape.iter().product();
        return Ok(stored(float_rows(op, &v, rows, k_len), dtype, &out_shape));
    }
    let (values, rows, k_len) = rows_over(input, axes, name)?;
    // Sums and products compute in the result's type (bools sum as int32).
    let values = match op {
        ReduceOp::Sum | ReduceOp::Prod => cast(values.as_slice(), dtype),
        _ => values,
    };
    Ok(stored(
        reduce_rows(op, values, k_len, rows),
        dtype,
        &out_shape,
    ))
}

/// Inclusive scan of `op` along rows of `k_len`, backwards with `reverse`.
fn scan_rows<T: Copy>(v: &mut [T], k_len: usize, reverse: bool, f: impl Fn(T, T) -> T) {
    if k_len == 0 {
        return;
    }
    for row in v.chunks_mut(k_len) {
        if reverse {
            for k in (0..k_len - 1).rev() {
                row[k] = f(row[k + 1], row[k]);
            }
        } else {
            for k in 1..k_len {
                row[k] = f(row[k - 1], row[k]);
            }
        }
    }
}

/// A `Scan` node of `dtype` along `axis` of `input`.
pub(crate) fn scan(
    op: ScanOp,
    axis: usize,
    reverse: bool,
    input: Operand,
    dtype: DType,
) -> Result<DeviceData> {
    let shape = input.1;
    let (values, _, k_len) = rows_over(input, &[axis], "cumsum")?;
    let mut values = cast(values.as_slice(), dtype);
    let sum = op == ScanOp::Sum;
    match &mut values {
        Values::F(v) if sum => scan_rows(v, k_len, reverse, |a, b| a + b),
        Values::F(v) => scan_rows(v, k_len, reverse, |a, b| a * b),
        Values::I(v) => scan_rows(v, k_len, reverse, Int::scan_op(sum)),
        Values::U(v) => scan_rows(v, k_len, reverse, Int::scan_op(sum)),
    }
    // The rows have the scanned axis last: put it back.
    let mut moved: Vec<usize> = (0..shape.len()).filter(|&d| d != axis).collect();
    moved.push(axis);
    let moved_shape: Vec<usize> = moved.iter().map(|&d| shape[d]).collect();
    let scanned = stored(values, dtype, &moved_shape);
    let mut inverse = vec![0; moved.len()];
    for (i, &d) in moved.iter().enumerate() {
        inverse[d] = i;
    }
    Ok(transpose(&scanned, &inverse))
}

/// Softmax (or log-softmax) along the last axis: NaN rows stay NaN, and
/// log-softmax shifts by the row's max only where it is finite.
pub(crate) fn softmax(input: Operand, log: bool) -> Result<DeviceData> {
    let shape = input.1;
    let mut v = floats(input, "softmax")?;
    let k_len = *shape.last().unwrap_or(&1);
    if k_len > 0 {
        let mut exps = vec![0f32; k_len];
        for row in v.chunks_mut(k_len) {
            let m = extreme(row, true);
            let shift = if log && !m.is_finite() { 0.0 } else { m };
            for (e, &x) in exps.iter_mut().zip(row.iter()) {
                *e = (x - shift).exp();
            }
            let total = sum_f64(&exps) as f32;
            if log {
                let log_total = total.ln();
                row.iter_mut().for_each(|x| *x = *x - shift - log_total);
            } else {
                row.iter_mut().zip(&exps).for_each(|(x, &e)| *x = e / total);
            }
        }
    }
    Ok(stored(Values::F(v), DType::F32, shape))
}

/// Normalisation along the last axis, `(x - m) r` with `r = 1 / √(mean((x
/// - m)²) + eps)` (`m = 0` for RMS); with `g`, its derivative applied to
/// `g`: `r (g - mean(g) - y mean(g y))` (no `mean(g)` for RMS).
pub(crate) fn normalize(
    input: Operand,
    g: Option<Operand>,
    eps: f32,
    rms: bool,
) -> Result<DeviceData> {
    let shape = input.1;
    let x = super::float_view(input.0, shape, "layer_norm")?;
    let g = g
        .map(|g| super::float_view(g.0, g.1, "layer_norm"))
        .transpose()?;
    let k_len = *shape.last().unwrap_or(&1);
    let mut out = vec![0.0f32; x.len()];
    if k_len > 0 {
        let n = k_len as f32;
        for (r, row) in x.chunks(k_len).enumerate() {
            let m = if rms {
                0.0
            } else {
                row.iter().sum::<f32>() / n
            };
            let squares: f32 = row.iter().map(|&v| (v - m) * (v - m)).sum();
            let inv = 1.0 / (squares / n + eps).sqrt();
            let dst = &mut out[r * k_len..(r + 1) * k_len];
            match &g {
                None => {
                    for (o, &v) in dst.iter_mut().zip(row) {
                        *o = (v - m) * inv;
                    }
                }
                Some(g) => {
                    let g = &g[r * k_len..(r + 1) * k_len];
                    let g_mean = if rms { 0.0 } else { g.iter().sum::<f32>() / n };
                    let gy_mean = g
                        .iter()
                        .zip(row)
                        .map(|(&g, &v)| g * (v - m) * inv)
                        .sum::<f32>()
                        / n;
                    for ((o, &v), &g) in dst.iter_mut().zip(row).zip(g) {
                        let y = (v - m) * inv;
                        *o = inv * (g - g_mean - y * gy_mean);
                    }
                }
            }
        }
    }
    Ok(stored(Values::F(out), DType::F32, shape))
}

/// The sum of the squares of every element of the inputs, a float32 scalar.
pub(crate) fn squared_norm(inputs: &[Operand]) -> Result<DeviceData> {
    let mut total = 0.0f64;
    for &input in inputs {
        total += super::float_view(input.0, input.1, "squared_norm")?
            .iter()
            .map(|&x| (x as f64) * (x as f64))
            .sum::<f64>();
    }
    Ok(stored(Values::F(vec![total as f32]), DType::F32, &[]))
}
