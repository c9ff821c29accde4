//! Elementwise ops: the public functions over the op tables of
//! [`crate::primitive::elementwise`], with broadcasting and promotion.

use crate::array::Array;
use crate::dtype::{promote, DType};
use crate::error::{bail, Result};
use crate::primitive::elementwise::{binary_table, dtypes, unary_table, Class};
pub use crate::primitive::elementwise::{BinaryOp, UnaryOp};
use crate::primitive::Primitive;

/// Applies a unary op.
pub fn unary(op: UnaryOp, a: &Array) -> Result<Array> {
    let (compute, out) = dtypes(op.name(), op.class(), a.dtype())?;
    match op.class() {
        Class::Rounding if !a.dtype().is_float() => return Ok(a.clone()),
        Class::Predicate if !a.dtype().is_float() => {
            return crate::ops::creation::full(a.shape(), op == UnaryOp::Isfinite, DType::Bool)
        }
        _ => {}
    }
    let a = a.astype(compute)?;
    Ok(Array::from_primitive(
        a.shape().to_vec(),
        out,
        Primitive::Unary(op),
        vec![a],
    ))
}

/// Applies a binary op with broadcasting and type promotion.
pub fn binary(op: BinaryOp, a: &Array, b: &Array) -> Result<Array> {
    let shape = crate::ops::shape::broadcast_shapes(op.name(), a.shape(), b.shape())?;
    let (compute, out) = dtypes(op.name(), op.class(), promote(a.dtype(), b.dtype()))?;
    let a = a.astype(compute)?;
    let b = b.astype(compute)?;
    Ok(Array::from_primitive(
        shape,
        out,
        Primitive::Binary(op),
        vec![a, b],
    ))
}

/// A public function per row of an op table (see [`unary_table`]).
macro_rules! public_fns {
    ($(#[$meta:meta])* UnaryOp;
        $($variant:ident => $name:ident, $js:literal, $class:ident $impls:tt;)*
    ) => {
        $(
            #[doc = concat!("Elementwise `", stringify!($name), "` (NumPy semantics).")]
            pub fn $name(a: &Array) -> Result<Array> {
                unary(UnaryOp::$variant, a)
            }
        )*
    };
    ($(#[$meta:meta])* BinaryOp;
        $($variant:ident => $name:ident, $js:literal, $class:ident $impls:tt;)*
    ) => {
        $(
            #[doc = concat!("Elementwise `", stringify!($name), "` with broadcasting (NumPy semantics).")]
            pub fn $name(a: &Array, b: &Array) -> Result<Array> {
                binary(BinaryOp::$variant, a, b)
            }
        )*
    };
}

unary_table!(public_fns);
binary_table!(public_fns);

/// The sum of `parts` (`None` for none), added left to right.
pub(crate) fn add_all(parts: impl IntoIterator<Item = Array>) -> Result<Option<Array>> {
    let mut total: Option<Array> = None;
    for part in parts {
        total = Some(match total {
            Some(t) => add(&t, &part)?,
            None => part,
        });
    }
    Ok(total)
}

/// `negative`, under NumPy's short name.
pub fn neg(a: &Array) -> Result<Array> {
    negative(a)
}

/// Elements of `x` where `cond` is true, else of `y` (broadcasting).
///
/// ```
/// use kiln::Array;
/// let c = Array::from_slice(&[true, false], &[2])?;
/// let r = kiln::r#where(&c, &Array::scalar(1.0f32), &Array::scalar(2.0f32))?;
/// # #[cfg(not(target_arch = "wasm32"))]
/// assert_eq!(r.to_vec::<f32>()?, vec![1.0, 2.0]);
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn r#where(cond: &Array, x: &Array, y: &Array) -> Result<Array> {
    let shape = crate::ops::shape::broadcast_shapes("where", x.shape(), y.shape())?;
    let shape = crate::ops::shape::broadcast_shapes("where", cond.shape(), &shape)?;
    let dtype = promote(x.dtype(), y.dtype());
    let cond = cond.astype(DType::Bool)?;
    Ok(Array::from_primitive(
        shape,
        dtype,
        Primitive::Where,
        vec![cond, x.astype(dtype)?, y.astype(dtype)?],
    ))
}

/// `where`, under a name that needs no raw identifier.
pub fn select(cond: &Array, x: &Array, y: &Array) -> Result<Array> {
    r#where(cond, x, y)
}

/// Limits values to `[lo, hi]` (either bound may be absent).
pub fn clip(a: &Array, lo: Option<&Array>, hi: Option<&Array>) -> Result<Array> {
    for bound in [lo, hi].into_iter().flatten() {
        crate::ops::shape::broadcast_shapes("clip", a.shape(), bound.shape())?;
    }
    let mut out = a.clone();
    if let Some(lo) = lo {
        out = maximum(&out, lo)?;
    }
    if let Some(hi) = hi {
        out = minimum(&out, hi)?;
    }
    Ok(out)
}

/// Converts to `dtype` (a no-op when it already is).
pub fn astype(a: &Array, dtype: DType) -> Result<Array> {
    if a.dtype() == dtype {
        return Ok(a.clone());
    }
    Ok(Array::from_primitive(
        a.shape().to_vec(),
        dtype,
        Primitive::AsType,
        vec![a.clone()],
    ))
}

/// Reinterprets the bits as `dtype`, which must have the same element size
/// (NumPy's `ndarray.view`): float32, int32 and uint32 interconvert.
pub fn view(a: &Array, dtype: DType) -> Result<Array> {
    let ok = |d: DType| matches!(d, DType::F32 | DType::I32 | DType::U32);
    if !ok(a.dtype()) || !ok(dtype) {
        bail!(
            "view",
            "can only reinterpret float32, int32 and uint32, not {} as {dtype}",
            a.dtype()
        );
    }
    if a.dtype() == dtype {
        return Ok(a.clone());
    }
    Ok(Array::from_primitive(
        a.shape().to_vec(),
        dtype,
        Primitive::BitCast,
        vec![a.clone()],
    ))
}
