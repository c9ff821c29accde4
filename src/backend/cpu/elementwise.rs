//! Elementwise primitives and fused chains on the CPU, with the op tables'
//! plain Rust functions (the same the kernels' expressions are tested
//! against).

use super::{load, stored, upload, Values};
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
    values: Values,
    fns: crate::primitive::elementwise::UnaryFns<F, I, U>,
    wrap: impl Fn(Vec<F>, Vec<I>, Vec<U>) -> Values,
) -> Option<Values> {
    Some(match values {
        Values::F(v) => wrap(v.into_iter().map(fns.float?).collect(), vec![], vec![]),
        Values::I(v) => wrap(vec![], v.into_iter().map(fns.int?).collect(), vec![]),
        Values::U(v) => wrap(vec![], vec![], v.into_iter().map(fns.uint?).collect()),
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

/// A unary op on values of `compute` dtype.
pub(crate) fn unary(op: UnaryOp, values: Values, compute: DType) -> Result<Values> {
    let out = match op.host() {
        UnaryHost::Map(fns) => {
            let out = map1(values, fns, |f, i, u| pick(f, i, u, compute));
            // Bools stay 0/1.
            match (out, compute) {
                (Some(Values::U(v)), DType::Bool) => {
                    Some(Values::U(v.into_iter().map(|x| (x != 0) as u32).collect()))
                }
                (out, _) => out,
            }
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
    a: Values,
    b: Values,
    fns: crate::primitive::elementwise::BinaryFns<F, I, U>,
    wrap: impl Fn(Vec<F>, Vec<I>, Vec<U>) -> Values,
) -> Option<Values> {
    Some(match (a, b) {
        (Values::F(a), Values::F(b)) => {
            let f = fns.float?;
            wrap(
                a.into_iter().zip(b).map(|(x, y)| f(x, y)).collect(),
                vec![],
                vec![],
            )
        }
        (Values::I(a), Values::I(b)) => {
            let f = fns.int?;
            wrap(
                vec![],
                a.into_iter().zip(b).map(|(x, y)| f(x, y)).collect(),
                vec![],
            )
        }
        (Values::U(a), Values::U(b)) => {
            let f = fns.uint?;
            wrap(
                vec![],
                vec![],
                a.into_iter().zip(b).map(|(x, y)| f(x, y)).collect(),
            )
        }
        _ => return None,
    })
}

/// A binary op on values of `compute` dtype (both operands).
pub(crate) fn binary(op: BinaryOp, a: Values, b: Values, compute: DType) -> Result<Values> {
    let out = match op.host() {
        BinaryHost::Map(fns) => {
            let out = map2(a, b, fns, |f, i, u| pick(f, i, u, compute));
            match (out, compute) {
                (Some(Values::U(v)), DType::Bool) => {
                    Some(Values::U(v.into_iter().map(|x| (x != 0) as u32).collect()))
                }
                (out, _) => out,
            }
        }
        // Two of the three are empty.
        BinaryHost::Test(fns) => map2(a, b, fns, |f, i, u| {
            Values::U(f.into_iter().chain(i).chain(u).map(|b| b as u32).collect())
        }),
    };
    out.ok_or_else(|| no_kernel(op.name(), compute))
}

/// `where(cond, x, y)`: `cond` as 0/1 values.
pub(crate) fn select(cond: Values, x: Values, y: Values) -> Result<Values> {
    let Values::U(c) = cond else {
        return Err(Error::Eval("where: the condition is not bool".into()));
    };
    fn pick_each<T: Copy>(c: &[u32], x: Vec<T>, y: Vec<T>) -> Vec<T> {
        c.iter()
            .zip(x.into_iter().zip(y))
            .map(|(&c, (x, y))| if c != 0 { x } else { y })
            .collect()
    }
    Ok(match (x, y) {
        (Values::F(x), Values::F(y)) => Values::F(pick_each(&c, x, y)),
        (Values::I(x), Values::I(y)) => Values::I(pick_each(&c, x, y)),
        (Values::U(x), Values::U(y)) => Values::U(pick_each(&c, x, y)),
        _ => return Err(Error::Eval("where: the branches differ in dtype".into())),
    })
}

/// Values of `from`'s compute type converted to `to`'s, as the kernels'
/// casts do: floats to integers truncate and saturate (NaN to 0), negative
/// floats to uint32 wrap through int32, anything nonzero (NaN included) is
/// true.
pub(crate) fn cast(values: Values, to: DType) -> Values {
    use DType::*;
    match (values, to) {
        (Values::F(v), Bool) => Values::U(v.into_iter().map(|x| (x != 0.0) as u32).collect()),
        (Values::I(v), Bool) => Values::U(v.into_iter().map(|x| (x != 0) as u32).collect()),
        (Values::U(v), Bool) => Values::U(v.into_iter().map(|x| (x != 0) as u32).collect()),
        (Values::F(v), F32 | F16) => Values::F(v),
        (Values::I(v), F32 | F16) => Values::F(v.into_iter().map(|x| x as f32).collect()),
        (Values::U(v), F32 | F16) => Values::F(v.into_iter().map(|x| x as f32).collect()),
        (Values::F(v), I32) => Values::I(v.into_iter().map(|x| x as i32).collect()),
        (Values::I(v), I32) => Values::I(v),
        (Values::U(v), I32) => Values::I(v.into_iter().map(|x| x as i32).collect()),
        (Values::F(v), U32) => Values::U(
            v.into_iter()
                .map(|x| if x < 0.0 { x as i32 as u32 } else { x as u32 })
                .collect(),
        ),
        (Values::I(v), U32) => Values::U(v.into_iter().map(|x| x as u32).collect()),
        (Values::U(v), U32) => Values::U(v),
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
fn bitcast(values: Values, to: DType) -> Values {
    let bits: Vec<u32> = match values {
        Values::F(v) => v.into_iter().map(f32::to_bits).collect(),
        Values::I(v) => v.into_iter().map(|x| x as u32).collect(),
        Values::U(v) => v,
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

/// An input's values broadcast to `shape`.
fn load_broadcast(
    (data, in_shape, _): (&DeviceData, &[usize], DType),
    shape: &[usize],
    op: &str,
) -> Result<Values> {
    load(&broadcast_view(data, in_shape, shape), shape, op)
}

/// Unary, binary, `where`, `astype` and `bitcast` nodes.
pub(crate) fn encode(
    primitive: &Primitive,
    inputs: &[(&DeviceData, &[usize], DType)],
    shape: &[usize],
    dtype: DType,
) -> Result<DeviceData> {
    let name = primitive.name();
    let mut operands = inputs
        .iter()
        .map(|&input| load_broadcast(input, shape, name))
        .collect::<Result<Vec<_>>>()?
        .into_iter();
    let mut next = || operands.next().expect("the primitive's operands");
    let compute = inputs[0].2;
    let values = match primitive {
        Primitive::Unary(op) => unary(*op, next(), compute)?,
        Primitive::Binary(op) => binary(*op, next(), next(), compute)?,
        Primitive::Where => select(next(), next(), next())?,
        Primitive::AsType => cast(next(), dtype),
        Primitive::BitCast => bitcast(next(), dtype),
        other => return Err(Error::Eval(format!("{} is not elementwise", other.name()))),
    };
    Ok(stored(values, dtype, shape))
}

/// A fused chain: each step over the whole (broadcast) output, float16
/// steps rounded as the kernel rounds them; several roots stacked along a
/// new first axis.
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
            Ok(repeat(&one, n))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut steps: Vec<(Values, DType)> = Vec::with_capacity(fused.steps.len());
    for step in &fused.steps {
        let operand = |r: &FusedInput| match *r {
            FusedInput::Input(k) => (loaded[k].clone(), fused.inputs[k]),
            FusedInput::Step(s) => steps[s].clone(),
            FusedInput::Constant(k) => (constants[k].clone(), fused.constants[k].dtype()),
        };
        let mut operands = step.inputs.iter().map(operand);
        let mut next = || operands.next().expect("the step's operands");
        let values = match &step.primitive {
            Primitive::Unary(op) => {
                let (x, compute) = next();
                unary(*op, x, compute)?
            }
            Primitive::Binary(op) => {
                let ((a, compute), (b, _)) = (next(), next());
                binary(*op, a, b, compute)?
            }
            Primitive::Where => select(next().0, next().0, next().0)?,
            Primitive::AsType => cast(next().0, step.dtype),
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
    let mut roots = fused.roots.iter().map(|&r| steps[r].0.clone());
    let values = if fused.is_stacked() {
        let mut all = Values::with_capacity(dtype, n * fused.roots.len());
        for root in roots {
            append(&mut all, root);
        }
        all
    } else {
        roots.next().expect("a root")
    };
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
fn append(all: &mut Values, more: Values) {
    match (all, more) {
        (Values::F(a), Values::F(b)) => a.extend(b),
        (Values::I(a), Values::I(b)) => a.extend(b),
        (Values::U(a), Values::U(b)) => a.extend(b),
        _ => unreachable!("roots of one dtype"),
    }
}
