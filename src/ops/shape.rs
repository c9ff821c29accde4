//! Shape ops: views where the layout allows (reshape, transpose, broadcast,
//! slice, diagonal...), copies where it cannot (concatenate, pad, tile...).

use crate::array::check_shape;
use crate::array::Array;
use crate::dtype::{promote, Scalar};
use crate::error::{bail, fmt_shape, Result};
use crate::primitive::Primitive;

pub use crate::array::normalize_axis;

/// Several axes, normalized, checked for repeats, in the order given.
pub fn normalize_axes(op: &'static str, axes: &[i32], ndim: usize) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let a = normalize_axis(op, a, ndim)?;
        if out.contains(&a) {
            bail!(op, "repeated axis {a}");
        }
        out.push(a);
    }
    Ok(out)
}

/// The broadcast shape of `a` and `b` (NumPy rules).
pub fn broadcast_shapes(op: &'static str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = match (da, db) {
            _ if da == db => da,
            (1, d) | (d, 1) => d,
            _ => bail!(
                op,
                "shapes {} and {} cannot be broadcast together",
                fmt_shape(a),
                fmt_shape(b)
            ),
        };
    }
    Ok(out)
}

/// A view (or a copy when the layout requires) with `shape`; one entry may be -1.
///
/// ```
/// let a = kiln::arange(0.0, 6.0, 1.0, kiln::DType::F32)?;
/// let b = kiln::reshape(&a, &[2, -1])?;
/// assert_eq!(b.shape(), &[2, 3]);
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn reshape(a: &Array, shape: &[i64]) -> Result<Array> {
    let size = a.size();
    let unknown = shape.iter().filter(|&&d| d == -1).count();
    let described = || format!("{:?}", shape).replace('[', "(").replace(']', ")");
    if unknown > 1 || shape.iter().any(|&d| d < -1) {
        bail!("reshape", "invalid shape {}", described());
    }
    let known_axes: Vec<usize> = shape
        .iter()
        .filter(|&&d| d != -1)
        .map(|&d| d as usize)
        .collect();
    let known = check_shape("reshape", &known_axes)?;
    let new_shape: Vec<usize> = if unknown == 1 {
        if known == 0 || !size.is_multiple_of(known) {
            bail!(
                "reshape",
                "cannot reshape array of size {size} into shape {}",
                described()
            );
        }
        shape
            .iter()
            .map(|&d| if d == -1 { size / known } else { d as usize })
            .collect()
    } else {
        shape.iter().map(|&d| d as usize).collect()
    };
    if check_shape("reshape", &new_shape)? != size {
        bail!(
            "reshape",
            "cannot reshape array of size {size} into shape {}",
            described()
        );
    }
    Ok(reshape_to(a, new_shape))
}

/// Reshape to a shape already known to have the right size.
pub(crate) fn reshape_to(a: &Array, shape: Vec<usize>) -> Array {
    if shape == a.shape() {
        return a.clone();
    }
    Array::from_primitive(shape, a.dtype(), Primitive::Reshape, vec![a.clone()])
}

/// A 1-D view (or copy) of all elements.
pub fn flatten(a: &Array) -> Result<Array> {
    Ok(reshape_to(a, vec![a.size()]))
}

/// Permutes the axes; an empty `axes` reverses them (NumPy's default).
pub fn transpose(a: &Array, axes: &[i32]) -> Result<Array> {
    let ndim = a.ndim();
    let perm: Vec<usize> = if axes.is_empty() {
        (0..ndim).rev().collect()
    } else {
        if axes.len() != ndim {
            bail!(
                "transpose",
                "axes {axes:?} do not match an array of dimension {ndim}"
            );
        }
        normalize_axes("transpose", axes, ndim)?
    };
    if perm.iter().enumerate().all(|(i, &p)| i == p) {
        return Ok(a.clone());
    }
    let shape = perm.iter().map(|&p| a.shape()[p]).collect();
    Ok(Array::from_primitive(
        shape,
        a.dtype(),
        Primitive::Transpose(perm),
        vec![a.clone()],
    ))
}

/// Exchanges two axes.
pub fn swapaxes(a: &Array, axis1: i32, axis2: i32) -> Result<Array> {
    let ndim = a.ndim();
    let (x, y) = (
        normalize_axis("swapaxes", axis1, ndim)?,
        normalize_axis("swapaxes", axis2, ndim)?,
    );
    let mut perm: Vec<i32> = (0..ndim as i32).collect();
    perm.swap(x, y);
    transpose(a, &perm)
}

/// Moves axis `source` to position `destination`.
pub fn moveaxis(a: &Array, source: i32, destination: i32) -> Result<Array> {
    let ndim = a.ndim();
    let s = normalize_axis("moveaxis", source, ndim)?;
    let d = normalize_axis("moveaxis", destination, ndim)?;
    let mut perm: Vec<i32> = (0..ndim as i32).filter(|&i| i as usize != s).collect();
    perm.insert(d, s as i32);
    transpose(a, &perm)
}

/// Inserts size-1 axes at `axes` (positions in the result).
pub fn expand_dims(a: &Array, axes: &[i32]) -> Result<Array> {
    let out_ndim = a.ndim() + axes.len();
    let axes = normalize_axes("expand_dims", axes, out_ndim)?;
    let mut rest = a.shape().iter();
    let shape = (0..out_ndim)
        .map(|d| {
            if axes.contains(&d) {
                1
            } else {
                *rest.next().expect("sizes match")
            }
        })
        .collect();
    Ok(reshape_to(a, shape))
}

/// Removes size-1 axes: those in `axes`, or all when `axes` is empty.
pub fn squeeze(a: &Array, axes: &[i32]) -> Result<Array> {
    let axes = if axes.is_empty() {
        (0..a.ndim()).filter(|&d| a.shape()[d] == 1).collect()
    } else {
        normalize_axes("squeeze", axes, a.ndim())?
    };
    for &d in &axes {
        if a.shape()[d] != 1 {
            bail!("squeeze", "cannot remove axis {d} of size {}", a.shape()[d]);
        }
    }
    let shape = (0..a.ndim())
        .filter(|d| !axes.contains(d))
        .map(|d| a.shape()[d])
        .collect();
    Ok(reshape_to(a, shape))
}

/// A view of `a` broadcast to `shape` (NumPy rules).
pub fn broadcast_to(a: &Array, shape: &[usize]) -> Result<Array> {
    check_shape("broadcast_to", shape)?;
    let target = broadcast_shapes("broadcast_to", a.shape(), shape)?;
    if target != shape {
        bail!(
            "broadcast_to",
            "cannot broadcast shape {} to {}",
            fmt_shape(a.shape()),
            fmt_shape(shape)
        );
    }
    if a.shape() == shape {
        return Ok(a.clone());
    }
    Ok(Array::from_primitive(
        shape.to_vec(),
        a.dtype(),
        Primitive::Broadcast,
        vec![a.clone()],
    ))
}

/// Broadcasts several arrays to their common shape.
pub fn broadcast_arrays(arrays: &[&Array]) -> Result<Vec<Array>> {
    let mut shape: Vec<usize> = vec![];
    for a in arrays {
        shape = broadcast_shapes("broadcast_arrays", &shape, a.shape())?;
    }
    arrays.iter().map(|a| broadcast_to(a, &shape)).collect()
}

/// One axis of a slice: Python's `start:stop:step`, each part optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    /// The first index (negative counts from the end); default the start
    /// of the axis, or its end for a negative step.
    pub start: Option<i64>,
    /// The index to stop before (negative counts from the end); default
    /// past the end of the axis, or before its start for a negative step.
    pub stop: Option<i64>,
    /// The stride, nonzero; default 1.
    pub step: Option<i64>,
}

impl Slice {
    /// `start:stop:step`.
    pub fn new(start: Option<i64>, stop: Option<i64>, step: Option<i64>) -> Slice {
        Slice { start, stop, step }
    }

    /// `:` (the whole axis).
    pub fn all() -> Slice {
        Slice::new(None, None, None)
    }

    /// `::step`.
    pub fn step(step: i64) -> Slice {
        Slice::new(None, None, Some(step))
    }

    /// This slice with a step.
    pub fn by(self, step: i64) -> Slice {
        Slice {
            step: Some(step),
            ..self
        }
    }

    /// Start, step and count on an axis of `len` (Python's `slice.indices`).
    fn resolve(&self, len: usize) -> Result<(usize, isize, usize)> {
        let n = len as i64;
        let step = self.step.unwrap_or(1);
        if step == 0 {
            bail!("slice", "slice step cannot be zero");
        }
        let clamp = |v: i64, lo: i64, hi: i64| v.clamp(lo, hi);
        let fix = |v: i64| if v < 0 { v + n } else { v };
        let (start, stop) = if step > 0 {
            (
                clamp(self.start.map(fix).unwrap_or(0), 0, n),
                clamp(self.stop.map(fix).unwrap_or(n), 0, n),
            )
        } else {
            (
                clamp(self.start.map(fix).unwrap_or(n - 1), -1, n - 1),
                clamp(self.stop.map(fix).unwrap_or(-1), -1, n - 1),
            )
        };
        let count = if step > 0 {
            (stop - start + step - 1).div_euclid(step).max(0)
        } else {
            (start - stop - step - 1).div_euclid(-step).max(0)
        };
        Ok((start.max(0) as usize, step as isize, count as usize))
    }
}

impl From<std::ops::Range<i64>> for Slice {
    fn from(r: std::ops::Range<i64>) -> Slice {
        Slice::new(Some(r.start), Some(r.end), None)
    }
}

impl From<std::ops::RangeFrom<i64>> for Slice {
    fn from(r: std::ops::RangeFrom<i64>) -> Slice {
        Slice::new(Some(r.start), None, None)
    }
}

impl From<std::ops::RangeTo<i64>> for Slice {
    fn from(r: std::ops::RangeTo<i64>) -> Slice {
        Slice::new(None, Some(r.end), None)
    }
}

impl From<std::ops::RangeFull> for Slice {
    fn from(_: std::ops::RangeFull) -> Slice {
        Slice::all()
    }
}

/// A strided view: one [`Slice`] per leading axis (missing axes are whole).
///
/// ```
/// use kiln::Slice;
/// let a = kiln::arange(0.0, 10.0, 1.0, kiln::DType::F32)?;
/// let b = kiln::slice(&a, &[Slice::all().by(-3)])?; // [9, 6, 3, 0]
/// assert_eq!(b.shape(), &[4]);
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn slice(a: &Array, slices: &[Slice]) -> Result<Array> {
    if slices.len() > a.ndim() {
        bail!(
            "slice",
            "too many indices ({}) for an array of dimension {}",
            slices.len(),
            a.ndim()
        );
    }
    let mut start = vec![0; a.ndim()];
    let mut step = vec![1; a.ndim()];
    let mut shape = a.shape().to_vec();
    for (d, s) in slices.iter().enumerate() {
        let (b, k, n) = s.resolve(a.shape()[d])?;
        start[d] = b;
        step[d] = k;
        shape[d] = n;
    }
    if shape == a.shape() && step.iter().all(|&k| k == 1) {
        return Ok(a.clone());
    }
    if shape.contains(&0) {
        start = vec![0; a.ndim()];
    }
    Ok(Array::from_primitive(
        shape,
        a.dtype(),
        Primitive::Slice { start, step },
        vec![a.clone()],
    ))
}

/// Element `index` along `axis`, removing the axis (`a[..., index, ...]`).
pub fn index_axis(a: &Array, axis: i32, index: i64) -> Result<Array> {
    let d = normalize_axis("index_axis", axis, a.ndim())?;
    let n = a.shape()[d] as i64;
    let i = if index < 0 { index + n } else { index };
    if i < 0 || i >= n {
        bail!(
            "index_axis",
            "index {index} is out of bounds for axis {d} with size {n}"
        );
    }
    let mut slices = vec![Slice::all(); d + 1];
    slices[d] = Slice::new(Some(i), Some(i + 1), None);
    squeeze(&slice(a, &slices)?, &[d as i32])
}

/// Joins arrays along an existing axis (dtypes promote).
pub fn concatenate(arrays: &[&Array], axis: i32) -> Result<Array> {
    let Some(first) = arrays.first() else {
        bail!("concatenate", "need at least one array")
    };
    if first.ndim() == 0 {
        bail!(
            "concatenate",
            "zero-dimensional arrays cannot be concatenated"
        );
    }
    let axis = normalize_axis("concatenate", axis, first.ndim())?;
    let mut shape = first.shape().to_vec();
    shape[axis] = 0;
    let mut dtype = first.dtype();
    for a in arrays {
        let same = a.ndim() == first.ndim()
            && (0..a.ndim()).all(|d| d == axis || a.shape()[d] == first.shape()[d]);
        if !same {
            bail!(
                "concatenate",
                "shapes {} and {} differ outside axis {axis}",
                fmt_shape(first.shape()),
                fmt_shape(a.shape())
            );
        }
        shape[axis] += a.shape()[axis];
        dtype = promote(dtype, a.dtype());
    }
    if arrays.len() == 1 {
        return first.astype(dtype);
    }
    let inputs = arrays
        .iter()
        .map(|a| a.astype(dtype))
        .collect::<Result<Vec<_>>>()?;
    Ok(Array::from_primitive(
        shape,
        dtype,
        Primitive::Concatenate { axis },
        inputs,
    ))
}

/// Joins arrays along a new axis.
pub fn stack(arrays: &[&Array], axis: i32) -> Result<Array> {
    let Some(first) = arrays.first() else {
        bail!("stack", "need at least one array")
    };
    if arrays.iter().any(|a| a.shape() != first.shape()) {
        bail!("stack", "all arrays must have the same shape");
    }
    let expanded = arrays
        .iter()
        .map(|a| expand_dims(a, &[axis]))
        .collect::<Result<Vec<_>>>()
        .map_err(|e| e.within("stack"))?;
    let refs: Vec<&Array> = expanded.iter().collect();
    if refs.len() == 1 {
        return Ok(expanded[0].clone());
    }
    concatenate(&refs, axis)
}

/// How [`split`] divides an axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sections {
    /// This many equal parts (the axis must divide evenly).
    Count(usize),
    /// Cut before each of these indices.
    Indices(Vec<i64>),
}

/// Splits `a` along `axis` into views.
pub fn split(a: &Array, sections: Sections, axis: i32) -> Result<Vec<Array>> {
    let d = normalize_axis("split", axis, a.ndim())?;
    let n = a.shape()[d] as i64;
    let cuts: Vec<i64> = match sections {
        Sections::Count(0) => bail!("split", "number of sections must be larger than 0"),
        Sections::Count(k) => {
            if n % k as i64 != 0 {
                bail!(
                    "split",
                    "array split does not result in an equal division ({n} into {k})"
                );
            }
            (1..k as i64).map(|i| i * n / k as i64).collect()
        }
        Sections::Indices(v) => v,
    };
    let mut out = Vec::new();
    let mut start: i64 = 0;
    for stop in cuts.into_iter().chain([n]) {
        let mut slices = vec![Slice::all(); d + 1];
        let fix = |v: i64| if v < 0 { (v + n).max(0) } else { v.min(n) };
        let (b, e) = (fix(start), fix(stop).max(fix(start)));
        slices[d] = Slice::new(Some(b), Some(e), None);
        out.push(slice(a, &slices)?);
        start = stop;
    }
    Ok(out)
}

/// Pads each axis with `widths[d] = (before, after)` copies of `value`.
pub fn pad(a: &Array, widths: &[(usize, usize)], value: impl Into<Scalar>) -> Result<Array> {
    if widths.len() != a.ndim() {
        bail!(
            "pad",
            "need one (before, after) pair per axis: got {} for an array of dimension {}",
            widths.len(),
            a.ndim()
        );
    }
    if widths.iter().all(|&(l, h)| l == 0 && h == 0) {
        return Ok(a.clone());
    }
    let shape: Vec<usize> = a
        .shape()
        .iter()
        .zip(widths)
        .map(|(&n, &(l, h))| n.checked_add(l)?.checked_add(h))
        .collect::<Option<_>>()
        .ok_or_else(|| crate::error::invalid("pad", "the padded shape is too large"))?;
    check_shape("pad", &shape)?;
    let low = widths.iter().map(|&(l, _)| l).collect();
    Ok(Array::from_primitive(
        shape,
        a.dtype(),
        Primitive::Pad {
            low,
            value: value.into(),
        },
        vec![a.clone()],
    ))
}

/// Repeats the whole array `reps[d]` times along each axis (NumPy's `tile`).
pub fn tile(a: &Array, reps: &[usize]) -> Result<Array> {
    let ndim = a.ndim().max(reps.len());
    let mut shape = vec![1usize; ndim - a.ndim()];
    shape.extend_from_slice(a.shape());
    let mut r = vec![1usize; ndim - reps.len()];
    r.extend_from_slice(reps);
    // (d0, d1, ...) -> (1, d0, 1, d1, ...) -> (r0, d0, r1, d1, ...) -> (r0 d0, r1 d1, ...)
    let interleaved: Vec<usize> = shape.iter().flat_map(|&d| [1, d]).collect();
    let expanded: Vec<usize> = shape.iter().zip(&r).flat_map(|(&d, &k)| [k, d]).collect();
    let x = reshape_to(a, interleaved);
    let x = broadcast_to(&x, &expanded).map_err(|e| e.within("tile"))?;
    Ok(reshape_to(
        &x,
        shape.iter().zip(&r).map(|(&d, &k)| d * k).collect(),
    ))
}

/// Repeats each element `repeats` times along `axis` (flattened when `None`).
pub fn repeat(a: &Array, repeats: usize, axis: Option<i32>) -> Result<Array> {
    let (x, d) = match axis {
        None => (flatten(a)?, 0),
        Some(ax) => (a.clone(), normalize_axis("repeat", ax, a.ndim())?),
    };
    let mut shape = x.shape().to_vec();
    shape.insert(d + 1, 1);
    let y = reshape_to(&x, shape.clone());
    shape[d + 1] = repeats;
    let y = broadcast_to(&y, &shape).map_err(|e| e.within("repeat"))?;
    let mut out = x.shape().to_vec();
    out[d] *= repeats;
    Ok(reshape_to(&y, out))
}

/// Reverses the order of elements along `axes` (all axes when empty): a view.
pub fn flip(a: &Array, axes: &[i32]) -> Result<Array> {
    let axes = if axes.is_empty() {
        (0..a.ndim()).collect()
    } else {
        normalize_axes("flip", axes, a.ndim())?
    };
    let mut slices = vec![Slice::all(); a.ndim()];
    for d in axes {
        slices[d] = Slice::step(-1);
    }
    slice(a, &slices)
}

/// The diagonal with `offset` of the matrices on `axis1`, `axis2`, as a view
/// whose last axis runs along the diagonal.
pub fn diagonal(a: &Array, offset: i64, axis1: i32, axis2: i32) -> Result<Array> {
    if a.ndim() < 2 {
        bail!(
            "diagonal",
            "needs an array of at least 2 dimensions, got {}",
            a.ndim()
        );
    }
    let x = normalize_axis("diagonal", axis1, a.ndim())?;
    let y = normalize_axis("diagonal", axis2, a.ndim())?;
    if x == y {
        bail!("diagonal", "axis1 and axis2 cannot be the same");
    }
    let (n, m) = (a.shape()[x] as i64, a.shape()[y] as i64);
    let len = if offset >= 0 {
        (m - offset).min(n)
    } else {
        (n + offset).min(m)
    }
    .max(0) as usize;
    let mut shape: Vec<usize> = (0..a.ndim())
        .filter(|&d| d != x && d != y)
        .map(|d| a.shape()[d])
        .collect();
    shape.push(len);
    let offset = if len == 0 { 0 } else { offset as isize };
    Ok(Array::from_primitive(
        shape,
        a.dtype(),
        Primitive::Diagonal {
            offset,
            axis1: x,
            axis2: y,
        },
        vec![a.clone()],
    ))
}

/// The sum along a diagonal.
pub fn trace(a: &Array, offset: i64, axis1: i32, axis2: i32) -> Result<Array> {
    if a.ndim() < 2 {
        bail!(
            "trace",
            "needs an array of at least 2 dimensions, got {}",
            a.ndim()
        );
    }
    let d = diagonal(a, offset, axis1, axis2).map_err(|e| e.within("trace"))?;
    crate::ops::reduce::sum(&d, -1, false)
}
