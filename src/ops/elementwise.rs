//! Elementwise ops from one table each for unary and binary ops: name, how
//! dtypes are treated, and the WGSL expression per compute type. The public
//! functions, the kernel text and the test list all read these tables.

use crate::array::Array;
use crate::dtype::{promote, DType, Kind};
use crate::error::{bail, Result};
use crate::primitive::Primitive;

/// How an elementwise op treats dtypes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Float in, float out; integer and bool inputs become float32.
    Float,
    /// Any numeric dtype, same dtype out; bool inputs become int32.
    Numeric,
    /// Float rounding; integers and bools pass through unchanged.
    Rounding,
    /// A float predicate, bool out; constant for integers and bools.
    Predicate,
    /// Truth values in, bool out.
    Logical,
    /// Inputs promoted to a common dtype, bool out.
    Compare,
    /// Integers and bools only, same dtype out.
    Bitwise,
    /// Integers only, same dtype out.
    Shift,
}

/// WGSL expressions of `x0` (and `x1`) for float (f32), int (i32) and
/// unsigned (u32) compute types; `None` where the type is not allowed.
pub(crate) struct Exprs {
    pub float: Option<&'static str>,
    pub int: Option<&'static str>,
    pub uint: Option<&'static str>,
}

impl Exprs {
    /// The expression for computing in `dtype`.
    fn for_dtype(&self, dtype: DType) -> Option<&'static str> {
        match dtype {
            DType::F32 | DType::F16 => self.float,
            DType::I32 => self.int,
            DType::U32 | DType::Bool => self.uint,
        }
    }
}

/// The WGSL expression of an op of `class` computing in `dtype`, in terms of
/// `x0`, `x1`; `None` where the op never computes in that dtype.
pub(crate) fn kernel_expr(exprs: Exprs, class: Class, dtype: DType) -> Option<String> {
    let expr = exprs.for_dtype(dtype)?;
    match (class, dtype) {
        // Numeric ops compute bools as int32, float ops compute in a float.
        (Class::Numeric | Class::Shift, DType::Bool)
        | (
            Class::Float | Class::Rounding | Class::Predicate,
            DType::Bool | DType::I32 | DType::U32,
        ) => None,
        // Bitwise ops on bools give bools.
        (Class::Bitwise, DType::Bool) => Some(format!("({expr}) != 0u")),
        _ => Some(expr.to_string()),
    }
}

/// The dtype an op of `class` gives when computing in `compute`.
pub(crate) fn result_dtype(class: Class, compute: DType) -> DType {
    match class {
        Class::Predicate | Class::Logical | Class::Compare => DType::Bool,
        _ => compute,
    }
}

macro_rules! op_table {
    ($(#[$meta:meta])* $enum:ident, $table:ident {
        $($variant:ident => $name:literal, $class:ident, $f:expr, $i:expr, $u:expr;)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $enum { $($variant),* }

        impl $enum {
            /// Every op of the table.
            pub const ALL: &'static [$enum] = &[$($enum::$variant),*];

            /// The NumPy name.
            pub fn name(self) -> &'static str {
                match self { $($enum::$variant => $name),* }
            }

            /// How the op treats dtypes.
            pub fn class(self) -> Class {
                match self { $($enum::$variant => Class::$class),* }
            }

            pub(crate) fn exprs(self) -> Exprs {
                match self { $($enum::$variant => Exprs { float: $f, int: $i, uint: $u }),* }
            }

            /// Looks an op up by its NumPy name.
            pub fn from_name(name: &str) -> Option<$enum> {
                Self::ALL.iter().copied().find(|op| op.name() == name)
            }
        }
    };
}

const NONE: Option<&str> = None;

op_table!(
    /// Unary elementwise ops.
    UnaryOp, UNARY {
        Negative => "negative", Numeric, Some("-x0"), Some("-x0"), Some("0u - x0");
        Abs => "abs", Numeric, Some("abs(x0)"), Some("abs(x0)"), Some("x0");
        Sign => "sign", Numeric, Some("k_sign(x0)"), Some("sign(x0)"), Some("select(0u, 1u, x0 > 0u)");
        Exp => "exp", Float, Some("exp(x0)"), NONE, NONE;
        Expm1 => "expm1", Float, Some("k_expm1(x0)"), NONE, NONE;
        Log => "log", Float, Some("k_log(x0)"), NONE, NONE;
        Log1p => "log1p", Float, Some("k_log1p(x0)"), NONE, NONE;
        Log2 => "log2", Float, Some("k_log2(x0)"), NONE, NONE;
        Log10 => "log10", Float, Some("k_log2(x0) * 0.30102999566398120"), NONE, NONE;
        Sqrt => "sqrt", Float, Some("sqrt(x0)"), NONE, NONE;
        Rsqrt => "rsqrt", Float, Some("inverseSqrt(x0)"), NONE, NONE;
        Square => "square", Numeric, Some("x0 * x0"), Some("x0 * x0"), Some("x0 * x0");
        Reciprocal => "reciprocal", Float, Some("1.0 / x0"), NONE, NONE;
        Sin => "sin", Float, Some("sin(x0)"), NONE, NONE;
        Cos => "cos", Float, Some("cos(x0)"), NONE, NONE;
        Tan => "tan", Float, Some("tan(x0)"), NONE, NONE;
        Arcsin => "arcsin", Float, Some("k_asin(x0)"), NONE, NONE;
        Arccos => "arccos", Float, Some("k_acos(x0)"), NONE, NONE;
        Arctan => "arctan", Float, Some("k_atan(x0)"), NONE, NONE;
        Sinh => "sinh", Float, Some("k_sinh(x0)"), NONE, NONE;
        Cosh => "cosh", Float, Some("k_cosh(x0)"), NONE, NONE;
        Tanh => "tanh", Float, Some("k_tanh(x0)"), NONE, NONE;
        Arcsinh => "arcsinh", Float, Some("k_asinh(x0)"), NONE, NONE;
        Arccosh => "arccosh", Float, Some("k_acosh(x0)"), NONE, NONE;
        Arctanh => "arctanh", Float, Some("k_atanh(x0)"), NONE, NONE;
        Sigmoid => "sigmoid", Float, Some("k_sigmoid(x0)"), NONE, NONE;
        Erf => "erf", Float, Some("k_erf(x0)"), NONE, NONE;
        Erfinv => "erfinv", Float, Some("k_erfinv(x0)"), NONE, NONE;
        Floor => "floor", Rounding, Some("floor(x0)"), NONE, NONE;
        Ceil => "ceil", Rounding, Some("ceil(x0)"), NONE, NONE;
        Round => "round", Rounding, Some("round(x0)"), NONE, NONE;
        Isnan => "isnan", Predicate, Some("k_isnan(x0)"), NONE, NONE;
        Isinf => "isinf", Predicate, Some("k_isinf(x0)"), NONE, NONE;
        Isfinite => "isfinite", Predicate, Some("!(k_isnan(x0) || k_isinf(x0))"), NONE, NONE;
        LogicalNot => "logical_not", Logical, Some("x0 == 0.0"), Some("x0 == 0"), Some("x0 == 0u");
    }
);

op_table!(
    /// Binary elementwise ops (broadcasting).
    BinaryOp, BINARY {
        Add => "add", Numeric, Some("x0 + x1"), Some("x0 + x1"), Some("x0 + x1");
        Subtract => "subtract", Numeric, Some("x0 - x1"), Some("x0 - x1"), Some("x0 - x1");
        Multiply => "multiply", Numeric, Some("x0 * x1"), Some("x0 * x1"), Some("x0 * x1");
        Divide => "divide", Float, Some("x0 / x1"), NONE, NONE;
        FloorDivide => "floor_divide", Numeric, Some("k_floor_divide(x0, x1)"), Some("k_floor_divide_i32(x0, x1)"), Some("select(x0 / x1, 0u, x1 == 0u)");
        Remainder => "remainder", Numeric, Some("k_remainder(x0, x1)"), Some("k_remainder_i32(x0, x1)"), Some("select(x0 % x1, 0u, x1 == 0u)");
        Power => "power", Numeric, Some("k_pow(x0, x1)"), Some("k_pow_i32(x0, x1)"), Some("k_pow_u32(x0, x1)");
        Maximum => "maximum", Numeric, Some("k_max(x0, x1)"), Some("max(x0, x1)"), Some("max(x0, x1)");
        Minimum => "minimum", Numeric, Some("k_min(x0, x1)"), Some("min(x0, x1)"), Some("min(x0, x1)");
        Arctan2 => "arctan2", Float, Some("k_atan2(x0, x1)"), NONE, NONE;
        Equal => "equal", Compare, Some("x0 == x1"), Some("x0 == x1"), Some("x0 == x1");
        NotEqual => "not_equal", Compare, Some("!(x0 == x1)"), Some("x0 != x1"), Some("x0 != x1");
        Less => "less", Compare, Some("x0 < x1"), Some("x0 < x1"), Some("x0 < x1");
        LessEqual => "less_equal", Compare, Some("x0 <= x1"), Some("x0 <= x1"), Some("x0 <= x1");
        Greater => "greater", Compare, Some("x0 > x1"), Some("x0 > x1"), Some("x0 > x1");
        GreaterEqual => "greater_equal", Compare, Some("x0 >= x1"), Some("x0 >= x1"), Some("x0 >= x1");
        LogicalAnd => "logical_and", Logical, Some("!(x0 == 0.0) && !(x1 == 0.0)"), Some("x0 != 0 && x1 != 0"), Some("x0 != 0u && x1 != 0u");
        LogicalOr => "logical_or", Logical, Some("!(x0 == 0.0) || !(x1 == 0.0)"), Some("x0 != 0 || x1 != 0"), Some("x0 != 0u || x1 != 0u");
        BitwiseAnd => "bitwise_and", Bitwise, NONE, Some("x0 & x1"), Some("x0 & x1");
        BitwiseOr => "bitwise_or", Bitwise, NONE, Some("x0 | x1"), Some("x0 | x1");
        BitwiseXor => "bitwise_xor", Bitwise, NONE, Some("x0 ^ x1"), Some("x0 ^ x1");
        LeftShift => "left_shift", Shift, NONE, Some("select(0, x0 << u32(x1), x1 >= 0 && x1 < 32)"), Some("select(0u, x0 << x1, x1 < 32u)");
        RightShift => "right_shift", Shift, NONE, Some("x0 >> u32(clamp(x1, 0, 31))"), Some("select(0u, x0 >> x1, x1 < 32u)");
    }
);

/// The dtype an op computes in for an input of `dtype`, and its output dtype.
fn dtypes(op: &'static str, class: Class, dtype: DType) -> Result<(DType, DType)> {
    Ok(match class {
        Class::Float => (dtype.to_float(), dtype.to_float()),
        Class::Numeric if dtype == DType::Bool => (DType::I32, DType::I32),
        Class::Numeric | Class::Rounding => (dtype, dtype),
        Class::Predicate | Class::Logical | Class::Compare => (dtype, DType::Bool),
        Class::Bitwise if dtype.is_float() => {
            bail!(op, "needs integer or bool arrays, got {dtype}")
        }
        Class::Bitwise => (dtype, dtype),
        Class::Shift if dtype.kind() != Kind::Int => bail!(op, "needs integer arrays, got {dtype}"),
        Class::Shift => (dtype, dtype),
    })
}

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

macro_rules! unary_fns {
    ($($fn_name:ident => $variant:ident),* $(,)?) => {
        $(
            #[doc = concat!("Elementwise `", stringify!($fn_name), "` (NumPy semantics).")]
            pub fn $fn_name(a: &Array) -> Result<Array> {
                unary(UnaryOp::$variant, a)
            }
        )*
    };
}

macro_rules! binary_fns {
    ($($fn_name:ident => $variant:ident),* $(,)?) => {
        $(
            #[doc = concat!("Elementwise `", stringify!($fn_name), "` with broadcasting (NumPy semantics).")]
            pub fn $fn_name(a: &Array, b: &Array) -> Result<Array> {
                binary(BinaryOp::$variant, a, b)
            }
        )*
    };
}

unary_fns!(
    negative => Negative, abs => Abs, sign => Sign, exp => Exp, expm1 => Expm1, log => Log,
    log1p => Log1p, log2 => Log2, log10 => Log10, sqrt => Sqrt, rsqrt => Rsqrt,
    square => Square, reciprocal => Reciprocal, sin => Sin, cos => Cos, tan => Tan,
    arcsin => Arcsin, arccos => Arccos, arctan => Arctan, sinh => Sinh, cosh => Cosh,
    tanh => Tanh, arcsinh => Arcsinh, arccosh => Arccosh, arctanh => Arctanh,
    sigmoid => Sigmoid, erf => Erf, erfinv => Erfinv, floor => Floor, ceil => Ceil,
    round => Round, isnan => Isnan, isinf => Isinf, isfinite => Isfinite,
    logical_not => LogicalNot,
);

binary_fns!(
    add => Add, subtract => Subtract, multiply => Multiply, divide => Divide,
    floor_divide => FloorDivide, remainder => Remainder, power => Power,
    maximum => Maximum, minimum => Minimum, arctan2 => Arctan2, equal => Equal,
    not_equal => NotEqual, less => Less, less_equal => LessEqual, greater => Greater,
    greater_equal => GreaterEqual, logical_and => LogicalAnd, logical_or => LogicalOr,
    bitwise_and => BitwiseAnd, bitwise_or => BitwiseOr, bitwise_xor => BitwiseXor,
    left_shift => LeftShift, right_shift => RightShift,
);

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
