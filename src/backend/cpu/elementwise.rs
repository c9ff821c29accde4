//! Elementwise primitives and fused chains on the CPU, with the op tables'
//! plain Rust functions (the same the kernels' expressions are tested
//! against).

use super::{load, stored, upload, HostBuffer, Slice, Values};
use crate::array::is_contiguous;
use crate::array::DeviceData;
use crate::backend::view::broadcast_view;
use crate::dtype::{DType, Scalar};
use crate::error::{Error, Result};
use crate::primitive::{BinaryHost, BinaryOp, Fused, FusedInput, Primitive, UnaryHost, UnaryOp};
use half::f16;

fn no_kernel(op: &str, dtype: DType) -> Error {
    Error::Eval(format!("{op} has no kernel for {dtype}"))
}

/// `f` of each element, for the compute type the values are in; `None`
/// where the op has no function for it.
fn map1<F, I, U>(
    values: Slice,
    fns: crate::primitive::elementwise::UnaryFns<F, I, U>,
    wrap: impl Fn(Vec<F>, Vec<I>, Vec<U>) -> Values,
) -> Option<Values> {
    fn each<T: Copy, R>(v: &[T], f: fn(T) -> R) -> Vec<R> {
        v.iter().map(|&x| f(x)).collect()
    }
    Some(match values {
        Slice::F(v) => wrap(each(v, fns.float?), vec![], vec![]),
        Slice::I(v) => wrap(vec![], each(v, fns.int?), vec![]),
        Slice::U(v) => wrap(vec![], vec![], each(v, fns.uint?)),
    })
}

/// The vector of `compute`'s type of a per-type result (the others are
/// empty).
fn pick(f: Vec<f32>, i: Vec<i32>, u: Vec<u32>, compute: DType) -> Values {
    match compute {
        DType::F32 | DType::F16 => Values::F(f),
        DType::I32 => Values::I(i),
        DType::U32 | DType::Bool => Values::U(u),
    }
}

/// Bools kept 0 or 1 after an op computed on their uint32 values.
fn as_bools(values: Values, compute: DType) -> Values {
    match (values, compute) {
        (Values::U(v), DType::Bool) => Values::U(v.into_iter().map(|x| (x != 0) as u32).collect()),
        (values, _) => values,
    }
}

/// The elements of float values.
fn float_slice(values: Slice<'_>) -> Option<&[f32]> {
    match values {
        Slice::F(x) => Some(x),
        _ => None,
    }
}

/// A unary op on values of `compute` dtype (float ops in loops made for
/// each op, the rest through the op table's functions).
pub(crate) fn unary(op: UnaryOp, values: Slice, compute: DType) -> Result<Values> {
    if let Some(floats) = float_slice(values).and_then(|x| op.map_floats(x)) {
        return Ok(Values::F(floats));
    }
    let out = match op.host() {
        UnaryHost::Map(fns) => {
            map1(values, fns, |f, i, u| pick(f, i, u, compute)).map(|v| as_bools(v, compute))
        }
        // Two of the three are empty.
        UnaryHost::Test(fns) => map1(values, fns, |f, i, u| {
            Values::U(f.into_iter().chain(i).chain(u).map(|b| b as u32).collect())
        }),
    };
    out.ok_or_else(|| no_kernel(op.name(), compute))
}

/// `f` of each pair of elements of one compute type.
fn map2<F, I, U>(
    a: Slice,
    b: Slice,
    fns: crate::primitive::elementwise::BinaryFns<F, I, U>,
    wrap: impl Fn(Vec<F>, Vec<I>, Vec<U>) -> Values,
) -> Option<Values> {
    fn each<T: Copy, R>(a: &[T], b: &[T], f: fn(T, T) -> R) -> Vec<R> {
        a.iter().zip(b).map(|(&x, &y)| f(x, y)).collect()
    }
    Some(match (a, b) {
        (Slice::F(a), Slice::F(b)) => wrap(each(a, b, fns.float?), vec![], vec![]),
        (Slice::I(a), Slice::I(b)) => wrap(vec![], each(a, b, fns.int?), vec![]),
        (Slice::U(a), Slice::U(b)) => wrap(vec![], vec![], each(a, b, fns.uint?)),
        _ => return None,
    })
}

/// A binary op on values of `compute` dtype (both operands).
pub(crate) fn binary(op: BinaryOp, a: Slice, b: Slice, compute: DType) -> Result<Values> {
    if let (Some(x), Some(y)) = (float_slice(a), float_slice(b)) {
        if let Some(floats) = op.map_floats(x, y) {
            return Ok(Values::F(floats));
        }
    }
    let out = match op.host() {
        BinaryHost::Map(fns) => {
            map2(a, b, fns, |f, i, u| pick(f, i, u, compute)).map(|v| as_bools(v, compute))
        }
        // Two of the three are empty.
        BinaryHost::Test(fns) => map2(a, b, fns, |f, i, u| {
            Values::U(f.into_iter().chain(i).chain(u).map(|b| b as u32).collect())
        }),
    };
    out.ok_or_else(|| no_kernel(op.name(), compute))
}

/// `where(cond, x, y)`: `cond` as 0/1 values.
pub(crate) fn select(cond: Slice, x: Slice, y: Slice) -> Result<Values> {
    let Slice::U(c) = cond else {
        return Err(Error::Eval("where: the condition is not bool".into()));
    };
    fn pick_each<T: Copy>(c: &[u32], x: &[T], y: &[T]) -> Vec<T> {
        c.iter()
            .zip(x.iter().zip(y))
            .map(|(&c, (&x, &y))| if c != 0 { x } else { y })
            .collect()
    }
    Ok(match (x, y) {
        (Slice::F(x), Slice::F(y)) => Values::F(pick_each(c, x, y)),
        (Slice::I(x), Slice::I(y)) => Values::I(pick_each(c, x, y)),
        (Slice::U(x), Slice::U(y)) => Values::U(pick_each(c, x, y)),
        _ => return Err(Error::Eval("where: the branches differ in dtype".into())),
    })
}

/// Values of `from`'s compute type converted to `to`'s, as the kernels'
/// casts do: floats to integers truncate and saturate (NaN to 0), negative
/// floats to uint32 wrap through int32, anything nonzero (NaN included) is
/// true.
pub(crate) fn cast(values: Slice, to: DType) -> Values {
    use DType::*;
    fn each<T: Copy, R>(v: &[T], f: impl Fn(T) -> R) -> Vec<R> {
        v.iter().map(|&x| f(x)).collect()
    }
    match (values, to) {
        (Slice::F(v), Bool) => Values::U(each(v, |x| (x != 0.0) as u32)),
        (Slice::I(v), Bool) => Values::U(each(v, |x| (x != 0) as u32)),
        (Slice::U(v), Bool) => Values::U(each(v, |x| (x != 0) as u32)),
        (Slice::F(v), F32 | F16) => Values::F(v.to_vec()),
        (Slice::I(v), F32 | F16) => Values::F(each(v, |x| x as f32)),
        (Slice::U(v), F32 | F16) => Values::F(each(v, |x| x as f32)),
        (Slice::F(v), I32) => Values::I(each(v, |x| x as i32)),
        (Slice::I(v), I32) => Values::I(v.to_vec()),
        (Slice::U(v), I32) => Values::I(each(v, |x| x as i32)),
        (Slice::F(v), U32) => Values::U(each(
            v,
            |x| if x < 0.0 { x as i32 as u32 } else { x as u32 },
        )),
        (Slice::I(v), U32) => Values::U(each(v, |x| x as u32)),
        (Slice::U(v), U32) => Values::U(v.to_vec()),
    }
}

/// Float values rounded to float16 and back (ties to even; past 65504,
/// infinity), as a float16 step of a fused kernel keeps them.
fn round_to_f16(values: Values) -> Values {
    match values {
        Values::F(v) => Values::F(v.into_iter().map(|x| f16::from_f32(x).to_f32()).collect()),
        other => other,
    }
}

/// The 32-bit words of `values` reinterpreted as `to`.
fn bitcast(values: Slice, to: DType) -> Values {
    let bits: Vec<u32> = match values {
        Slice::F(v) => v.iter().map(|x| x.to_bits()).collect(),
        Slice::I(v) => v.iter().map(|&x| x as u32).collect(),
        Slice::U(v) => v.to_vec(),
    };
    match to {
        DType::F32 | DType::F16 => Values::F(bits.into_iter().map(f32::from_bits).collect()),
        DType::I32 => Values::I(bits.into_iter().map(|x| x as i32).collect()),
        DType::U32 | DType::Bool => Values::U(bits),
    }
}

/// `n` copies of `value` in `dtype`'s compute type.
fn splat(value: Scalar, dtype: DType, n: usize) -> Values {
    let bits = value.bits_as(dtype);
    match dtype {
        DType::F32 | DType::F16 => Values::F(vec![f32::from_bits(bits); n]),
        DType::I32 => Values::I(vec![bits as i32; n]),
        DType::U32 | DType::Bool => Values::U(vec![bits; n]),
    }
}

pub(crate) fn full(value: Scalar, shape: &[usize], dtype: DType) -> DeviceData {
    stored(splat(value, dtype, shape.iter().product()), dtype, shape)
}

/// `start + i * step` in `dtype` (wrapping for integers, as the kernels).
pub(crate) fn arange(start: f64, step: f64, shape: &[usize], dtype: DType) -> Result<DeviceData> {
    let n: usize = shape.iter().product();
    let values = match dtype {
        DType::F32 | DType::F16 => {
            let (a, d) = (start as f32, step as f32);
            Values::F((0..n).map(|i| a + i as f32 * d).collect())
        }
        DType::I32 => {
            let (a, d) = (start as i32, step as i32);
            Values::I(
                (0..n)
                    .map(|i| a.wrapping_add((i as i32).wrapping_mul(d)))
                    .collect(),
            )
        }
        DType::U32 => {
            let (a, d) = (start as i64 as u32, step as i64 as u32);
            Values::U(
                (0..n)
                    .map(|i| a.wrapping_add((i as u32).wrapping_mul(d)))
                    .collect(),
            )
        }
        DType::Bool => return Err(no_kernel("arange", dtype)),
    };
    Ok(stored(values, dtype, shape))
}

/// An input's values broadcast to `shape`: borrowed from its buffer where
/// the view is its elements in order, else read into a new vector.
fn load_broadcast<'a>(
    (data, in_shape, _): (&'a DeviceData, &[usize], DType),
    shape: &[usize],
    op: &str,
) -> Result<Loaded<'a>> {
    let view = broadcast_view(data, in_shape, shape);
    let range = view.offset..view.offset + shape.iter().product::<usize>();
    if is_contiguous(shape, &view.strides) {
        match super::host_buffer(data, op)? {
            HostBuffer::F32(v) => return Ok(Loaded::Borrowed(Slice::F(&v[range]))),
            HostBuffer::I32(v) => return Ok(Loaded::Borrowed(Slice::I(&v[range]))),
            HostBuffer::U32(v) => return Ok(Loaded::Borrowed(Slice::U(&v[range]))),
            HostBuffer::F16(_) => {}
        }
    }
    Ok(Loaded::Owned(load(&view, shape, op)?))
}

/// An operand's values: borrowed from a buffer, or read into a vector.
enum Loaded<'a> {
    Borrowed(Slice<'a>),
    Owned(Values),
}

impl Loaded<'_> {
    fn slice(&self, range: std::ops::Range<usize>) -> Slice<'_> {
        match self {
            Loaded::Borrowed(Slice::F(v)) => Slice::F(&v[range]),
            Loaded::Borrowed(Slice::I(v)) => Slice::I(&v[range]),
            Loaded::Borrowed(Slice::U(v)) => Slice::U(&v[range]),
            Loaded::Owned(values) => values.slice(range),
        }
    }

    fn as_slice(&self) -> Slice<'_> {
        match self {
            Loaded::Borrowed(slice) => *slice,
            Loaded::Owned(values) => values.as_slice(),
        }
    }
}

/// Unary, binary, `where`, `astype` and `bitcast` nodes.
pub(crate) fn encode(
    primitive: &Primitive,
    inputs: &[(&DeviceData, &[usize], DType)],
    shape: &[usize],
    dtype: DType,
) -> Result<DeviceData> {
    let name = primitive.name();
    let operands = inputs
        .iter()
        .map(|&input| load_broadcast(input, shape, name))
        .collect::<Result<Vec<_>>>()?;
    let arg = |k: usize| operands[k].as_slice();
    let compute = inputs[0].2;
    let values = match primitive {
        Primitive::Unary(op) => unary(*op, arg(0), compute)?,
        Primitive::Binary(op) => binary(*op, arg(0), arg(1), compute)?,
        Primitive::Where => select(arg(0), arg(1), arg(2))?,
        Primitive::AsType => cast(arg(0), dtype),
        Primitive::BitCast => bitcast(arg(0), dtype),
        other => return Err(Error::Eval(format!("{} is not elementwise", other.name()))),
    };
    Ok(stored(values, dtype, shape))
}

/// Elements of a fused chain computed together: each step runs over a
/// block of this many before the next step reads it, so that the steps'
/// values stay in cache.
const FUSED_BLOCK: usize = 2048;

/// A fused chain: its steps block by block over the (broadcast) output,
/// float16 steps rounded as the kernel rounds them; several roots stacked
/// along a new first axis.
pub(crate) fn fused(
    fused: &Fused,
    inputs: &[(&DeviceData, &[usize], DType)],
    shape: &[usize],
    dtype: DType,
) -> Result<DeviceData> {
    let each = if fused.is_stacked() {
        &shape[1..]
    } else {
        shape
    };
    let n: usize = each.iter().product();
    let loaded = inputs
        .iter()
        .map(|&input| load_broadcast(input, each, "fused"))
        .collect::<Result<Vec<_>>>()?;
    let constants = fused
        .constants
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let bytes = fused.constant_host_bytes(k)?;
            let one = load(&super::output(upload(bytes, c.dtype()), &[]), &[], "fused")?;
            Ok(repeat(&one, n.min(FUSED_BLOCK)))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut roots: Vec<Values> = fused
        .roots
        .iter()
        .map(|_| Values::with_capacity(dtype, n))
        .collect();
    let mut steps: Vec<(Values, DType)> = Vec::with_capacity(fused.steps.len());
    for start in (0..n).step_by(FUSED_BLOCK) {
        let end = n.min(start + FUSED_BLOCK);
        steps.clear();
        for step in &fused.steps {
            let operand = |r: &FusedInput| match *r {
                FusedInput::Input(k) => (loaded[k].slice(start..end), fused.inputs[k]),
                FusedInput::Step(s) => (steps[s].0.as_slice(), steps[s].1),
                FusedInput::Constant(k) => (
                    constants[k].slice(0..end - start),
                    fused.constants[k].dtype(),
                ),
            };
            let arg = |i: usize| operand(&step.inputs[i]);
            let values = match &step.primitive {
                Primitive::Unary(op) => unary(*op, arg(0).0, arg(0).1)?,
                Primitive::Binary(op) => binary(*op, arg(0).0, arg(1).0, arg(0).1)?,
                Primitive::Where => select(arg(0).0, arg(1).0, arg(2).0)?,
                Primitive::AsType => cast(arg(0).0, step.dtype),
                other => {
                    return Err(Error::Eval(format!(
                        "fused kernel: {} is not elementwise",
                        other.name()
                    )))
                }
            };
            let values = if step.dtype == DType::F16 {
                round_to_f16(values)
            } else {
                values
            };
            steps.push((values, step.dtype));
        }
        for (out, &r) in roots.iter_mut().zip(&fused.roots) {
            append(out, steps[r].0.as_slice());
        }
    }
    let mut roots = roots.into_iter();
    let mut values = roots.next().expect("a root");
    for more in roots {
        append(&mut values, more.as_slice());
    }
    Ok(stored(values, dtype, shape))
}

/// One value repeated `n` times.
fn repeat(one: &Values, n: usize) -> Values {
    match one {
        Values::F(v) => Values::F(vec![v[0]; n]),
        Values::I(v) => Values::I(vec![v[0]; n]),
        Values::U(v) => Values::U(vec![v[0]; n]),
    }
}

/// `more` appended to `all` (of the same compute type).
fn append(all: &mut Values, more: Slice) {
    match (all, more) {
        (Values::F(a), Slice::F(b)) => a.extend_from_slice(b),
        (Values::I(a), Slice::I(b)) => a.extend_from_slice(b),
        (Values::U(a), Slice::U(b)) => a.extend_from_slice(b),
        _ => unreachable!("roots of one dtype"),
    }
}
