//! The elementwise op tables: for each unary and binary op its name, how it
//! treats dtypes and its kernel expression per compute type; and the kernel
//! expressions of the other elementwise primitives (`where`, `astype`,
//! bit casts, `full`, `arange`). The public functions, every backend's
//! kernels, the fusion code generator and the test lists read these rows.

use super::math;
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

/// Something per compute type of an elementwise op: for float32 and
/// float16 (computed as `f32`), for int32 (`i32`), and for uint32 and
/// bool (`u32`, bools as 0/1); `None` where the op never computes in it.
#[derive(Debug, Clone, Copy)]
pub struct PerType<F, I, U> {
    /// For float32 and float16.
    pub float: Option<F>,
    /// For int32.
    pub int: Option<I>,
    /// For uint32 and bool.
    pub uint: Option<U>,
}

impl<F, I, U> PerType<F, I, U> {
    const NONE: Self = PerType {
        float: None,
        int: None,
        uint: None,
    };
}

/// WGSL expressions of `x0` (and `x1`) per compute type.
type Exprs = PerType<&'static str, &'static str, &'static str>;

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

/// Unary host functions per compute type, giving `F`, `I` and `U`.
pub type UnaryFns<F, I, U> = PerType<fn(f32) -> F, fn(i32) -> I, fn(u32) -> U>;

/// Binary host functions per compute type, giving `F`, `I` and `U`.
pub type BinaryFns<F, I, U> = PerType<fn(f32, f32) -> F, fn(i32, i32) -> I, fn(u32, u32) -> U>;

/// The plain Rust functions of a unary op per compute type: `Map` for ops
/// giving their compute type, `Test` for those giving bools. A CPU backend
/// and host-side checks compute with these.
#[derive(Debug, Clone, Copy)]
pub enum UnaryHost {
    /// Ops giving their compute type.
    Map(UnaryFns<f32, i32, u32>),
    /// Ops giving bools.
    Test(UnaryFns<bool, bool, bool>),
}

/// The plain Rust functions of a binary op, as [`UnaryHost`].
#[derive(Debug, Clone, Copy)]
pub enum BinaryHost {
    /// Ops giving their compute type.
    Map(BinaryFns<f32, i32, u32>),
    /// Ops giving bools.
    Test(BinaryFns<bool, bool, bool>),
}

/// One element in the type an elementwise op computes in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HostValue {
    /// A float32 or float16 element.
    Float(f32),
    /// An int32 element.
    Int(i32),
    /// A uint32 element.
    Uint(u32),
    /// A bool element.
    Bool(bool),
}

impl HostValue {
    /// The dtype this value computes as (float16 computes as float32).
    pub fn compute_dtype(self) -> DType {
        match self {
            HostValue::Float(_) => DType::F32,
            HostValue::Int(_) => DType::I32,
            HostValue::Uint(_) => DType::U32,
            HostValue::Bool(_) => DType::Bool,
        }
    }
}

/// The WGSL expression of an op of `class` computing in `dtype`, in terms of
/// `x0`, `x1`; `None` where the op never computes in that dtype.
fn kernel_expr(exprs: Exprs, class: Class, dtype: DType) -> Option<String> {
    if !computes_in(class, dtype) {
        return None;
    }
    let expr = exprs.for_dtype(dtype)?;
    Some(match (class, dtype) {
        // Bitwise ops on bools give bools.
        (Class::Bitwise, DType::Bool) => format!("({expr}) != 0u"),
        _ => expr.to_string(),
    })
}

/// Whether an op of `class` may compute in `dtype` (given a function for
/// its compute type): numeric ops compute bools as int32, float ops
/// compute in a float.
fn computes_in(class: Class, dtype: DType) -> bool {
    !matches!(
        (class, dtype),
        (Class::Numeric | Class::Shift, DType::Bool)
            | (
                Class::Float | Class::Rounding | Class::Predicate,
                DType::Bool | DType::I32 | DType::U32,
            )
    )
}

/// The dtype an op of `class` gives when computing in `compute`.
fn result_dtype(class: Class, compute: DType) -> DType {
    match class {
        Class::Predicate | Class::Logical | Class::Compare => DType::Bool,
        _ => compute,
    }
}

/// The kernel expressions of a row's implementations.
macro_rules! row_exprs {
    ({ $($ty:ident: $wgsl:literal => $host:expr),* $(,)? }) => {
        Exprs { $($ty: Some($wgsl),)* ..Exprs::NONE }
    };
}

/// The host functions of a row's implementations, for the table of
/// `$enum`: `Test` for the classes giving bools, `Map` for the rest.
macro_rules! row_host {
    (UnaryOp, $class:ident, $impls:tt) => { row_host!(@ UnaryHost, $class, $impls) };
    (BinaryOp, $class:ident, $impls:tt) => { row_host!(@ BinaryHost, $class, $impls) };
    (@ $host:ident, Predicate, $impls:tt) => { row_host!(@@ $host, Test, $impls) };
    (@ $host:ident, Logical, $impls:tt) => { row_host!(@@ $host, Test, $impls) };
    (@ $host:ident, Compare, $impls:tt) => { row_host!(@@ $host, Test, $impls) };
    (@ $host:ident, $class:ident, $impls:tt) => { row_host!(@@ $host, Map, $impls) };
    (@@ $host:ident, $kind:ident, { $($ty:ident: $wgsl:literal => $f:expr),* $(,)? }) => {
        $host::$kind(PerType { $($ty: Some($f),)* ..PerType::NONE })
    };
}

/// A row's float function applied by `$each` to the slices `$args`, for
/// the classes whose float function gives floats; `None` for the rest.
macro_rules! row_float_loop {
    (Predicate, $impls:tt, $each:ident, $($arg:expr),*) => { None };
    (Logical, $impls:tt, $each:ident, $($arg:expr),*) => { None };
    (Compare, $impls:tt, $each:ident, $($arg:expr),*) => { None };
    ($class:ident, { float: $wgsl:literal => $f:expr $(, $($rest:tt)*)? }, $each:ident, $($arg:expr),*) => {
        Some($each($($arg,)* $f))
    };
    ($class:ident, $impls:tt, $each:ident, $($arg:expr),*) => { None };
}

/// `f` of each element, in a loop made for `f` (inlined, and vectorised
/// where `f` allows).
fn each_float(x: &[f32], f: impl Fn(f32) -> f32) -> Vec<f32> {
    x.iter().map(|&a| f(a)).collect()
}

/// `f` of each pair of elements, as [`each_float`].
fn each_float_pair(x: &[f32], y: &[f32], f: impl Fn(f32, f32) -> f32) -> Vec<f32> {
    x.iter().zip(y).map(|(&a, &b)| f(a, b)).collect()
}

/// The float loops of the table of `$enum`: a loop per op, specialised to
/// its host function, for a CPU backend.
macro_rules! float_loops {
    (UnaryOp; $($variant:ident, $class:ident, $impls:tt;)*) => {
        impl UnaryOp {
            /// The op's float function over every element of `x`, in a loop
            /// made for it; `None` where the op gives no floats from floats.
            pub(crate) fn map_floats(self, x: &[f32]) -> Option<Vec<f32>> {
                match self { $(UnaryOp::$variant => row_float_loop!($class, $impls, each_float, x)),* }
            }
        }
    };
    (BinaryOp; $($variant:ident, $class:ident, $impls:tt;)*) => {
        impl BinaryOp {
            /// The op's float function over pairs of elements of `x` and
            /// `y`, as [`UnaryOp::map_floats`].
            pub(crate) fn map_floats(self, x: &[f32], y: &[f32]) -> Option<Vec<f32>> {
                match self {
                    $(BinaryOp::$variant => row_float_loop!($class, $impls, each_float_pair, x, y)),*
                }
            }
        }
    };
}

/// The host function type of the table of `$enum`.
macro_rules! host_type {
    (UnaryOp) => {
        UnaryHost
    };
    (BinaryOp) => {
        BinaryHost
    };
}

/// The op enum of a table, with its names, dtype rules, kernel expressions
/// and host functions.
macro_rules! op_table {
    ($(#[$meta:meta])* $enum:ident;
        $($variant:ident => $name:ident, $js:literal, $class:ident $impls:tt;)*
    ) => {
        float_loops!($enum; $($variant, $class, $impls;)*);

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

            // Rows that give every compute type leave nothing to update.
            #[allow(clippy::needless_update)]
            fn exprs(self) -> Exprs {
                match self { $($enum::$variant => row_exprs!($impls)),* }
            }

            /// The kernel expression computing in `compute`; `None` where
            /// the op never computes in that dtype.
            pub(crate) fn kernel_expr(self, compute: DType) -> Option<String> {
                kernel_expr(self.exprs(), self.class(), compute)
            }

            /// The dtype the op computes in for inputs of `dtype` (after
            /// promotion); an error where the op does not take `dtype`.
            pub fn compute_dtype(self, dtype: DType) -> Result<DType> {
                Ok(dtypes(self.name(), self.class(), dtype)?.0)
            }

            /// The op's plain Rust functions per compute type.
            #[allow(clippy::needless_update)]
            pub fn host(self) -> host_type!($enum) {
                match self { $($enum::$variant => row_host!($enum, $class, $impls)),* }
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

/// Calls the macro `$then` with the unary op table. A row gives an op's
/// variant, NumPy name (the Rust function), JavaScript name and [`Class`],
/// then per compute type it allows (`float`, `int`, `uint`, see
/// [`PerType`]) its kernel expression of `x0` and its plain Rust function.
/// The op enum, the public functions, the `Array` methods and the
/// JavaScript exports are all made from these rows.
macro_rules! unary_table {
    ($then:ident) => {
        $then! {
            /// Unary elementwise ops.
            UnaryOp;
        Negative => negative, "negative", Numeric {
            float: "-x0" => |x| -x,
            int: "-x0" => |x| x.wrapping_neg(),
            uint: "0u - x0" => |x| x.wrapping_neg(),
        };
        Abs => abs, "abs", Numeric {
            float: "abs(x0)" => |x| x.abs(),
            int: "abs(x0)" => |x| x.wrapping_abs(),
            uint: "x0" => |x| x,
        };
        Sign => sign, "sign", Numeric {
            float: "k_sign(x0)" => math::sign,
            int: "sign(x0)" => |x| x.signum(),
            uint: "select(0u, 1u, x0 > 0u)" => |x| (x > 0) as u32,
        };
        Exp => exp, "exp", Float { float: "k_exp(x0)" => |x| x.exp() };
        Expm1 => expm1, "expm1", Float { float: "k_expm1(x0)" => |x| x.exp_m1() };
        Log => log, "log", Float { float: "k_log(x0)" => |x| x.ln() };
        Log1p => log1p, "log1p", Float { float: "k_log1p(x0)" => |x| x.ln_1p() };
        Log2 => log2, "log2", Float { float: "k_log2(x0)" => |x| x.log2() };
        Log10 => log10, "log10", Float {
            float: "k_log2(x0) * 0.30102999566398120" => |x| x.log10(),
        };
        Sqrt => sqrt, "sqrt", Float { float: "sqrt(x0)" => |x| x.sqrt() };
        Rsqrt => rsqrt, "rsqrt", Float { float: "inverseSqrt(x0)" => |x| 1.0 / x.sqrt() };
        Square => square, "square", Numeric {
            float: "x0 * x0" => |x| x * x,
            int: "x0 * x0" => |x| x.wrapping_mul(x),
            uint: "x0 * x0" => |x| x.wrapping_mul(x),
        };
        Reciprocal => reciprocal, "reciprocal", Float { float: "1.0 / x0" => |x| 1.0 / x };
        Sin => sin, "sin", Float { float: "k_sin(x0)" => |x| x.sin() };
        Cos => cos, "cos", Float { float: "k_cos(x0)" => |x| x.cos() };
        Tan => tan, "tan", Float { float: "k_tan(x0)" => |x| x.tan() };
        Arcsin => arcsin, "arcsin", Float { float: "k_asin(x0)" => |x| x.asin() };
        Arccos => arccos, "arccos", Float { float: "k_acos(x0)" => |x| x.acos() };
        Arctan => arctan, "arctan", Float { float: "k_atan(x0)" => |x| x.atan() };
        Sinh => sinh, "sinh", Float { float: "k_sinh(x0)" => |x| x.sinh() };
        Cosh => cosh, "cosh", Float { float: "k_cosh(x0)" => |x| x.cosh() };
        Tanh => tanh, "tanh", Float { float: "k_tanh(x0)" => |x| x.tanh() };
        Arcsinh => arcsinh, "arcsinh", Float { float: "k_asinh(x0)" => libm::asinhf };
        Arccosh => arccosh, "arccosh", Float { float: "k_acosh(x0)" => math::acosh };
        Arctanh => arctanh, "arctanh", Float { float: "k_atanh(x0)" => libm::atanhf };
        Sigmoid => sigmoid, "sigmoid", Float { float: "k_sigmoid(x0)" => math::sigmoid };
        Erf => erf, "erf", Float { float: "k_erf(x0)" => libm::erff };
        Erfinv => erfinv, "erfinv", Float { float: "k_erfinv(x0)" => math::erfinv };
        Floor => floor, "floor", Rounding { float: "floor(x0)" => |x| x.floor() };
        Ceil => ceil, "ceil", Rounding { float: "ceil(x0)" => |x| x.ceil() };
        Round => round, "round", Rounding { float: "round(x0)" => |x| x.round_ties_even() };
        Isnan => isnan, "isnan", Predicate { float: "k_isnan(x0)" => |x| x.is_nan() };
        Isinf => isinf, "isinf", Predicate { float: "k_isinf(x0)" => |x| x.is_infinite() };
        Isfinite => isfinite, "isfinite", Predicate {
            float: "!(k_isnan(x0) || k_isinf(x0))" => |x| x.is_finite(),
        };
        LogicalNot => logical_not, "logicalNot", Logical {
            float: "x0 == 0.0" => |x| x == 0.0,
            int: "x0 == 0" => |x| x == 0,
            uint: "x0 == 0u" => |x| x == 0,
        };
        Cbrt => cbrt, "cbrt", Float { float: "k_cbrt(x0)" => |x| x.cbrt() };
        Exp2 => exp2, "exp2", Float { float: "exp2(x0)" => |x| x.exp2() };
        Deg2rad => deg2rad, "deg2rad", Float {
            float: "x0 * 0.017453292519943295" => |x| x.to_radians(),
        };
        Rad2deg => rad2deg, "rad2deg", Float {
            float: "x0 * 57.295779513082323" => |x| x.to_degrees(),
        };
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
        Add => add, "add", Numeric {
            float: "x0 + x1" => |a, b| a + b,
            int: "x0 + x1" => |a, b| a.wrapping_add(b),
            uint: "x0 + x1" => |a, b| a.wrapping_add(b),
        };
        Subtract => subtract, "subtract", Numeric {
            float: "x0 - x1" => |a, b| a - b,
            int: "x0 - x1" => |a, b| a.wrapping_sub(b),
            uint: "x0 - x1" => |a, b| a.wrapping_sub(b),
        };
        Multiply => multiply, "multiply", Numeric {
            float: "x0 * x1" => |a, b| a * b,
            int: "x0 * x1" => |a, b| a.wrapping_mul(b),
            uint: "x0 * x1" => |a, b| a.wrapping_mul(b),
        };
        Divide => divide, "divide", Float { float: "x0 / x1" => |a, b| a / b };
        FloorDivide => floor_divide, "floorDivide", Numeric {
            float: "k_floor_divide(x0, x1)" => math::floor_divide,
            int: "k_floor_divide_i32(x0, x1)" => math::floor_divide_i32,
            uint: "select(x0 / x1, 0u, x1 == 0u)" => |a, b| a.checked_div(b).unwrap_or(0),
        };
        Remainder => remainder, "remainder", Numeric {
            float: "k_remainder(x0, x1)" => math::remainder,
            int: "k_remainder_i32(x0, x1)" => math::remainder_i32,
            uint: "select(x0 % x1, 0u, x1 == 0u)" => |a, b| a.checked_rem(b).unwrap_or(0),
        };
        Power => power, "power", Numeric {
            float: "k_pow(x0, x1)" => |a, b| a.powf(b),
            int: "k_pow_i32(x0, x1)" => math::pow_i32,
            uint: "k_pow_u32(x0, x1)" => |a, b| a.wrapping_pow(b),
        };
        Maximum => maximum, "maximum", Numeric {
            float: "k_max(x0, x1)" => math::maximum,
            int: "max(x0, x1)" => |a, b| a.max(b),
            uint: "max(x0, x1)" => |a, b| a.max(b),
        };
        Minimum => minimum, "minimum", Numeric {
            float: "k_min(x0, x1)" => math::minimum,
            int: "min(x0, x1)" => |a, b| a.min(b),
            uint: "min(x0, x1)" => |a, b| a.min(b),
        };
        Arctan2 => arctan2, "arctan2", Float { float: "k_atan2(x0, x1)" => |y, x| y.atan2(x) };
        Equal => equal, "equal", Compare {
            float: "x0 == x1" => |a, b| a == b,
            int: "x0 == x1" => |a, b| a == b,
            uint: "x0 == x1" => |a, b| a == b,
        };
        NotEqual => not_equal, "notEqual", Compare {
            float: "!(x0 == x1)" => |a, b| a != b,
            int: "x0 != x1" => |a, b| a != b,
            uint: "x0 != x1" => |a, b| a != b,
        };
        Less => less, "less", Compare {
            float: "x0 < x1" => |a, b| a < b,
            int: "x0 < x1" => |a, b| a < b,
            uint: "x0 < x1" => |a, b| a < b,
        };
        LessEqual => less_equal, "lessEqual", Compare {
            float: "x0 <= x1" => |a, b| a <= b,
            int: "x0 <= x1" => |a, b| a <= b,
            uint: "x0 <= x1" => |a, b| a <= b,
        };
        Greater => greater, "greater", Compare {
            float: "x0 > x1" => |a, b| a > b,
            int: "x0 > x1" => |a, b| a > b,
            uint: "x0 > x1" => |a, b| a > b,
        };
        GreaterEqual => greater_equal, "greaterEqual", Compare {
            float: "x0 >= x1" => |a, b| a >= b,
            int: "x0 >= x1" => |a, b| a >= b,
            uint: "x0 >= x1" => |a, b| a >= b,
        };
        LogicalAnd => logical_and, "logicalAnd", Logical {
            float: "!(x0 == 0.0) && !(x1 == 0.0)" => |a, b| a != 0.0 && b != 0.0,
            int: "x0 != 0 && x1 != 0" => |a, b| a != 0 && b != 0,
            uint: "x0 != 0u && x1 != 0u" => |a, b| a != 0 && b != 0,
        };
        LogicalOr => logical_or, "logicalOr", Logical {
            float: "!(x0 == 0.0) || !(x1 == 0.0)" => |a, b| a != 0.0 || b != 0.0,
            int: "x0 != 0 || x1 != 0" => |a, b| a != 0 || b != 0,
            uint: "x0 != 0u || x1 != 0u" => |a, b| a != 0 || b != 0,
        };
        BitwiseAnd => bitwise_and, "bitwiseAnd", Bitwise {
            int: "x0 & x1" => |a, b| a & b,
            uint: "x0 & x1" => |a, b| a & b,
        };
        BitwiseOr => bitwise_or, "bitwiseOr", Bitwise {
            int: "x0 | x1" => |a, b| a | b,
            uint: "x0 | x1" => |a, b| a | b,
        };
        BitwiseXor => bitwise_xor, "bitwiseXor", Bitwise {
            int: "x0 ^ x1" => |a, b| a ^ b,
            uint: "x0 ^ x1" => |a, b| a ^ b,
        };
        LeftShift => left_shift, "leftShift", Shift {
            int: "select(0, x0 << u32(x1), x1 >= 0 && x1 < 32)" => |a, b| {
                if (0..32).contains(&b) { a << b } else { 0 }
            },
            uint: "select(0u, x0 << x1, x1 < 32u)" => |a, b| if b < 32 { a << b } else { 0 },
        };
        RightShift => right_shift, "rightShift", Shift {
            int: "x0 >> u32(clamp(x1, 0, 31))" => |a, b| a >> b.clamp(0, 31),
            uint: "select(0u, x0 >> x1, x1 < 32u)" => |a, b| if b < 32 { a >> b } else { 0 },
        };
        Logaddexp => logaddexp, "logaddexp", Float {
            float: "k_logaddexp(x0, x1)" => math::logaddexp,
        };
        Hypot => hypot, "hypot", Float { float: "k_hypot(x0, x1)" => |a, b| a.hypot(b) };
        Copysign => copysign, "copysign", Float {
            float: "k_copysign(x0, x1)" => |a, b| a.copysign(b),
        };
        }
    };
}
pub(crate) use binary_table;

unary_table!(op_table);
binary_table!(op_table);

impl UnaryOp {
    /// Computes the op on one element on the host, with its plain Rust
    /// function for the element's compute type (as its kernel would);
    /// `None` where the op never computes in that type.
    pub fn eval_host(self, x: HostValue) -> Option<HostValue> {
        use HostValue::*;
        if !computes_in(self.class(), x.compute_dtype()) {
            return None;
        }
        Some(match (self.host(), x) {
            (UnaryHost::Map(f), Float(a)) => Float(f.float?(a)),
            (UnaryHost::Map(f), Int(a)) => Int(f.int?(a)),
            (UnaryHost::Map(f), Uint(a)) => Uint(f.uint?(a)),
            (UnaryHost::Map(f), Bool(a)) => Bool(f.uint?(a as u32) != 0),
            (UnaryHost::Test(f), Float(a)) => Bool(f.float?(a)),
            (UnaryHost::Test(f), Int(a)) => Bool(f.int?(a)),
            (UnaryHost::Test(f), Uint(a)) => Bool(f.uint?(a)),
            (UnaryHost::Test(f), Bool(a)) => Bool(f.uint?(a as u32)),
        })
    }
}

impl BinaryOp {
    /// Computes the op on one pair of elements of the same compute type on
    /// the host, as [`UnaryOp::eval_host`]; `None` where the op never
    /// computes in that type or the types differ.
    pub fn eval_host(self, a: HostValue, b: HostValue) -> Option<HostValue> {
        use HostValue::*;
        if !computes_in(self.class(), a.compute_dtype()) {
            return None;
        }
        Some(match (self.host(), a, b) {
            (BinaryHost::Map(f), Float(a), Float(b)) => Float(f.float?(a, b)),
            (BinaryHost::Map(f), Int(a), Int(b)) => Int(f.int?(a, b)),
            (BinaryHost::Map(f), Uint(a), Uint(b)) => Uint(f.uint?(a, b)),
            (BinaryHost::Map(f), Bool(a), Bool(b)) => Bool(f.uint?(a as u32, b as u32) != 0),
            (BinaryHost::Test(f), Float(a), Float(b)) => Bool(f.float?(a, b)),
            (BinaryHost::Test(f), Int(a), Int(b)) => Bool(f.int?(a, b)),
            (BinaryHost::Test(f), Uint(a), Uint(b)) => Bool(f.uint?(a, b)),
            (BinaryHost::Test(f), Bool(a), Bool(b)) => Bool(f.uint?(a as u32, b as u32)),
            _ => return None,
        })
    }
}

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
