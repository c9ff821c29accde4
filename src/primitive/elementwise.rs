//! The elementwise op tables: for each unary and binary op its name, how it
//! treats dtypes and its kernel expression per compute type; and the kernel
//! expressions of the other elementwise primitives (`where`, `astype`,
//! bit casts, `full`, `arange`). The public functions, every backend's
//! kernels, the fusion code generator and the test lists read these rows.

use crate::dtype::{DType, Kind};
use crate::error::{bail, Result};

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
struct Exprs {
    /// For float32 and float16 (computed as f32).
    pub float: Option<&'static str>,
    /// For int32.
    pub int: Option<&'static str>,
    /// For uint32 and bool (as 0/1 `u32`).
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
fn kernel_expr(exprs: Exprs, class: Class, dtype: DType) -> Option<String> {
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
fn result_dtype(class: Class, compute: DType) -> DType {
    match class {
        Class::Predicate | Class::Logical | Class::Compare => DType::Bool,
        _ => compute,
    }
}

/// The op enum of a table.
macro_rules! op_table {
    ($(#[$meta:meta])* $enum:ident;
        $($variant:ident => $name:ident, $js:literal, $class:ident, $f:expr, $i:expr, $u:expr;)*
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $enum {
            $(
                #[doc = concat!("`", stringify!($name), "`, of class [`Class::", stringify!($class), "`].")]
                $variant
            ),*
        }

        impl $enum {
            /// Every op of the table.
            pub const ALL: &'static [$enum] = &[$($enum::$variant),*];

            /// The NumPy name.
            pub fn name(self) -> &'static str {
                match self { $($enum::$variant => stringify!($name)),* }
            }

            /// The JavaScript name (camelCase).
            pub fn js_name(self) -> &'static str {
                match self { $($enum::$variant => $js),* }
            }

            /// How the op treats dtypes.
            pub fn class(self) -> Class {
                match self { $($enum::$variant => Class::$class),* }
            }

            fn exprs(self) -> Exprs {
                match self { $($enum::$variant => Exprs { float: $f, int: $i, uint: $u }),* }
            }

            /// The kernel expression computing in `compute`; `None` where
            /// the op never computes in that dtype.
            pub(crate) fn kernel_expr(self, compute: DType) -> Option<String> {
                kernel_expr(self.exprs(), self.class(), compute)
            }

            /// The dtype the op gives when computing in `compute`.
            pub fn result_dtype(self, compute: DType) -> DType {
                result_dtype(self.class(), compute)
            }

            /// Looks an op up by its NumPy name.
            pub fn from_name(name: &str) -> Option<$enum> {
                Self::ALL.iter().copied().find(|op| op.name() == name)
            }
        }
    };
}

const NONE: Option<&str> = None;

/// Calls the macro `$then` with the unary op table: per op its variant,
/// NumPy name (the Rust function), JavaScript name, [`Class`] and kernel
/// expressions of `x0` for float, int and unsigned compute types. The op
/// enum, the public functions and the JavaScript exports are all made from
/// these rows.
macro_rules! unary_table {
    ($then:ident) => {
        $then! {
            /// Unary elementwise ops.
            UnaryOp;
        Negative => negative, "negative", Numeric, Some("-x0"), Some("-x0"), Some("0u - x0");
                Abs => abs, "abs", Numeric, Some("abs(x0)"), Some("abs(x0)"), Some("x0");
                Sign => sign, "sign", Numeric, Some("k_sign(x0)"), Some("sign(x0)"), Some("select(0u, 1u, x0 > 0u)");
                Exp => exp, "exp", Float, Some("exp(x0)"), NONE, NONE;
                Expm1 => expm1, "expm1", Float, Some("k_expm1(x0)"), NONE, NONE;
                Log => log, "log", Float, Some("k_log(x0)"), NONE, NONE;
                Log1p => log1p, "log1p", Float, Some("k_log1p(x0)"), NONE, NONE;
                Log2 => log2, "log2", Float, Some("k_log2(x0)"), NONE, NONE;
                Log10 => log10, "log10", Float, Some("k_log2(x0) * 0.30102999566398120"), NONE, NONE;
                Sqrt => sqrt, "sqrt", Float, Some("sqrt(x0)"), NONE, NONE;
                Rsqrt => rsqrt, "rsqrt", Float, Some("inverseSqrt(x0)"), NONE, NONE;
                Square => square, "square", Numeric, Some("x0 * x0"), Some("x0 * x0"), Some("x0 * x0");
                Reciprocal => reciprocal, "reciprocal", Float, Some("1.0 / x0"), NONE, NONE;
                Sin => sin, "sin", Float, Some("sin(x0)"), NONE, NONE;
                Cos => cos, "cos", Float, Some("cos(x0)"), NONE, NONE;
                Tan => tan, "tan", Float, Some("tan(x0)"), NONE, NONE;
                Arcsin => arcsin, "arcsin", Float, Some("k_asin(x0)"), NONE, NONE;
                Arccos => arccos, "arccos", Float, Some("k_acos(x0)"), NONE, NONE;
                Arctan => arctan, "arctan", Float, Some("k_atan(x0)"), NONE, NONE;
                Sinh => sinh, "sinh", Float, Some("k_sinh(x0)"), NONE, NONE;
                Cosh => cosh, "cosh", Float, Some("k_cosh(x0)"), NONE, NONE;
                Tanh => tanh, "tanh", Float, Some("k_tanh(x0)"), NONE, NONE;
                Arcsinh => arcsinh, "arcsinh", Float, Some("k_asinh(x0)"), NONE, NONE;
                Arccosh => arccosh, "arccosh", Float, Some("k_acosh(x0)"), NONE, NONE;
                Arctanh => arctanh, "arctanh", Float, Some("k_atanh(x0)"), NONE, NONE;
                Sigmoid => sigmoid, "sigmoid", Float, Some("k_sigmoid(x0)"), NONE, NONE;
                Erf => erf, "erf", Float, Some("k_erf(x0)"), NONE, NONE;
                Erfinv => erfinv, "erfinv", Float, Some("k_erfinv(x0)"), NONE, NONE;
                Floor => floor, "floor", Rounding, Some("floor(x0)"), NONE, NONE;
                Ceil => ceil, "ceil", Rounding, Some("ceil(x0)"), NONE, NONE;
                Round => round, "round", Rounding, Some("round(x0)"), NONE, NONE;
                Isnan => isnan, "isnan", Predicate, Some("k_isnan(x0)"), NONE, NONE;
                Isinf => isinf, "isinf", Predicate, Some("k_isinf(x0)"), NONE, NONE;
                Isfinite => isfinite, "isfinite", Predicate, Some("!(k_isnan(x0) || k_isinf(x0))"), NONE, NONE;
                LogicalNot => logical_not, "logicalNot", Logical, Some("x0 == 0.0"), Some("x0 == 0"), Some("x0 == 0u");
                        Cbrt => cbrt, "cbrt", Float, Some("k_cbrt(x0)"), NONE, NONE;
                        Exp2 => exp2, "exp2", Float, Some("exp2(x0)"), NONE, NONE;
                        Deg2rad => deg2rad, "deg2rad", Float, Some("x0 * 0.017453292519943295"), NONE, NONE;
                        Rad2deg => rad2deg, "rad2deg", Float, Some("x0 * 57.295779513082323"), NONE, NONE;
        }
    };
}
pub(crate) use unary_table;

/// Calls the macro `$then` with the binary op table (broadcasting ops of
/// `x0` and `x1`), in the form of [`unary_table`].
macro_rules! binary_table {
    ($then:ident) => {
        $then! {
            /// Binary elementwise ops (broadcasting).
            BinaryOp;
        Add => add, "add", Numeric, Some("x0 + x1"), Some("x0 + x1"), Some("x0 + x1");
                Subtract => subtract, "subtract", Numeric, Some("x0 - x1"), Some("x0 - x1"), Some("x0 - x1");
                Multiply => multiply, "multiply", Numeric, Some("x0 * x1"), Some("x0 * x1"), Some("x0 * x1");
                Divide => divide, "divide", Float, Some("x0 / x1"), NONE, NONE;
                FloorDivide => floor_divide, "floorDivide", Numeric, Some("k_floor_divide(x0, x1)"), Some("k_floor_divide_i32(x0, x1)"), Some("select(x0 / x1, 0u, x1 == 0u)");
                Remainder => remainder, "remainder", Numeric, Some("k_remainder(x0, x1)"), Some("k_remainder_i32(x0, x1)"), Some("select(x0 % x1, 0u, x1 == 0u)");
                Power => power, "power", Numeric, Some("k_pow(x0, x1)"), Some("k_pow_i32(x0, x1)"), Some("k_pow_u32(x0, x1)");
                Maximum => maximum, "maximum", Numeric, Some("k_max(x0, x1)"), Some("max(x0, x1)"), Some("max(x0, x1)");
                Minimum => minimum, "minimum", Numeric, Some("k_min(x0, x1)"), Some("min(x0, x1)"), Some("min(x0, x1)");
                Arctan2 => arctan2, "arctan2", Float, Some("k_atan2(x0, x1)"), NONE, NONE;
                Equal => equal, "equal", Compare, Some("x0 == x1"), Some("x0 == x1"), Some("x0 == x1");
                NotEqual => not_equal, "notEqual", Compare, Some("!(x0 == x1)"), Some("x0 != x1"), Some("x0 != x1");
                Less => less, "less", Compare, Some("x0 < x1"), Some("x0 < x1"), Some("x0 < x1");
                LessEqual => less_equal, "lessEqual", Compare, Some("x0 <= x1"), Some("x0 <= x1"), Some("x0 <= x1");
                Greater => greater, "greater", Compare, Some("x0 > x1"), Some("x0 > x1"), Some("x0 > x1");
                GreaterEqual => greater_equal, "greaterEqual", Compare, Some("x0 >= x1"), Some("x0 >= x1"), Some("x0 >= x1");
                LogicalAnd => logical_and, "logicalAnd", Logical, Some("!(x0 == 0.0) && !(x1 == 0.0)"), Some("x0 != 0 && x1 != 0"), Some("x0 != 0u && x1 != 0u");
                LogicalOr => logical_or, "logicalOr", Logical, Some("!(x0 == 0.0) || !(x1 == 0.0)"), Some("x0 != 0 || x1 != 0"), Some("x0 != 0u || x1 != 0u");
                BitwiseAnd => bitwise_and, "bitwiseAnd", Bitwise, NONE, Some("x0 & x1"), Some("x0 & x1");
                BitwiseOr => bitwise_or, "bitwiseOr", Bitwise, NONE, Some("x0 | x1"), Some("x0 | x1");
                BitwiseXor => bitwise_xor, "bitwiseXor", Bitwise, NONE, Some("x0 ^ x1"), Some("x0 ^ x1");
                LeftShift => left_shift, "leftShift", Shift, NONE, Some("select(0, x0 << u32(x1), x1 >= 0 && x1 < 32)"), Some("select(0u, x0 << x1, x1 < 32u)");
                RightShift => right_shift, "rightShift", Shift, NONE, Some("x0 >> u32(clamp(x1, 0, 31))"), Some("select(0u, x0 >> x1, x1 < 32u)");
                        Logaddexp => logaddexp, "logaddexp", Float, Some("k_logaddexp(x0, x1)"), NONE, NONE;
                        Hypot => hypot, "hypot", Float, Some("k_hypot(x0, x1)"), NONE, NONE;
                        Copysign => copysign, "copysign", Float, Some("k_copysign(x0, x1)"), NONE, NONE;
        }
    };
}
pub(crate) use binary_table;

unary_table!(op_table);
binary_table!(op_table);

/// The dtype an op computes in for an input of `dtype`, and its output dtype.
pub(crate) fn dtypes(op: &'static str, class: Class, dtype: DType) -> Result<(DType, DType)> {
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

/// The kernel expression of `where(x0, x1, x2)` giving `dtype`.
pub(crate) fn where_expr(dtype: DType) -> String {
    let pick = "select(x2, x1, x0 != 0u)";
    if dtype == DType::Bool {
        format!("{pick} != 0u")
    } else {
        pick.to_string()
    }
}

/// A kernel expression converting `x` from `from`'s compute type to `to`'s
/// (to a WGSL `bool` when `to` is `Bool`).
pub(crate) fn cast_expr(x: &str, from: DType, to: DType) -> String {
    use DType::*;
    match (from, to) {
        (Bool | U32, Bool) => format!("{x} != 0u"),
        (I32, Bool) => format!("{x} != 0"),
        // `!(x == 0)` rather than `x != 0`: NaN is true, and some drivers
        // compile float `!=` as an ordered comparison.
        (F16 | F32, Bool) => format!("!({x} == 0.0)"),
        (_, F16 | F32) => format!("f32({x})"),
        (F16 | F32, I32) => format!("i32({x})"),
        (Bool | U32, I32) => format!("bitcast<i32>({x})"),
        (I32, I32) => x.to_string(),
        (F16 | F32, U32) => format!("select(u32({x}), bitcast<u32>(i32({x})), {x} < 0.0)"),
        (I32, U32) => format!("bitcast<u32>({x})"),
        (Bool | U32, U32) => x.to_string(),
    }
}

/// The kernel expression reinterpreting the 32-bit word `x0` as `dtype`.
pub(crate) fn bitcast_expr(dtype: DType) -> String {
    format!("bitcast<{}>(x0)", dtype.wgsl_storage())
}

/// The kernel expression of a `full` of `dtype` whose value's bits are the
/// parameter `p0`.
pub(crate) fn full_expr(dtype: DType) -> &'static str {
    match dtype {
        DType::F32 | DType::F16 => "bitcast<f32>(p0)",
        DType::I32 => "bitcast<i32>(p0)",
        DType::U32 => "p0",
        DType::Bool => "p0 != 0u",
    }
}

/// The kernel expression of element `i` of an `arange` of `dtype`, and its
/// parameters `[p0, p1]` (start and step as `dtype` bits); `None` for bool.
pub(crate) fn arange_expr(dtype: DType, start: f64, step: f64) -> Option<(&'static str, [u32; 2])> {
    Some(match dtype {
        DType::F32 | DType::F16 => (
            "bitcast<f32>(p0) + f32(i) * bitcast<f32>(p1)",
            [(start as f32).to_bits(), (step as f32).to_bits()],
        ),
        DType::I32 => (
            "bitcast<i32>(p0) + i32(i) * bitcast<i32>(p1)",
            [start as i32 as u32, step as i32 as u32],
        ),
        DType::U32 => ("p0 + i * p1", [start as i64 as u32, step as i64 as u32]),
        DType::Bool => return None,
    })
}
