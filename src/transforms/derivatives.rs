//! Local derivatives shared by the forward (jvp) and reverse (vjp) rules,
//! written with public ops so that they can be differentiated again.

use crate::array::Array;
use crate::dtype::DType;
use crate::error::{bail, Result};
use crate::linalg::{batch, block, dims, mt, tri_solve, with_matrix};
use crate::ops::creation::{eye, tril, triu, zeros};
use crate::ops::elementwise::*;
use crate::ops::matmul::matmul;
use crate::ops::reduce::{cumprod, cumprod_reverse, sum};
use crate::ops::shape::expand_dims;
use crate::ops::shape::{broadcast_to, pad, reshape_to, slice, transpose, Slice};
use crate::ops::{creation::zeros_like, elementwise::BinaryOp, elementwise::UnaryOp};
use crate::primitive::{LinalgOp, Primitive};

/// A partial derivative, with the common trivial cases kept symbolic so that
/// rules do not multiply by constants.
pub(crate) enum Partial {
    Zero,
    One,
    MinusOne,
    Of(Array),
}

impl Partial {
    /// `t * self` (`None` when the product is zero).
    pub fn apply(&self, t: &Array) -> Result<Option<Array>> {
        Ok(match self {
            Partial::Zero => None,
            Partial::One => Some(t.clone()),
            Partial::MinusOne => Some(negative(t)?),
            Partial::Of(d) => Some(multiply(t, d)?),
        })
    }
}

fn constant(v: f64, like: &Array) -> Array {
    Array::scalar_of(v, like.dtype())
}

/// d op(x) / dx, given `x` and `y = op(x)` (float).
pub(crate) fn unary(op: UnaryOp, x: &Array, y: &Array) -> Result<Partial> {
    use UnaryOp::*;
    let c = |v: f64| constant(v, x);
    let one_minus_sq = |v: &Array| subtract(&c(1.0), &square(v)?);
    Ok(Partial::Of(match op {
        Negative => return Ok(Partial::MinusOne),
        Sign | Floor | Ceil | Round | Isnan | Isinf | Isfinite | LogicalNot => {
            return Ok(Partial::Zero)
        }
        Abs => sign(x)?,
        Exp => y.clone(),
        Expm1 => add(y, &c(1.0))?,
        Log => reciprocal(x)?,
        Log1p => reciprocal(&add(x, &c(1.0))?)?,
        Log2 => reciprocal(&multiply(x, &c(std::f64::consts::LN_2))?)?,
        Log10 => reciprocal(&multiply(x, &c(std::f64::consts::LN_10))?)?,
        Sqrt => divide(&c(0.5), y)?,
        Rsqrt => divide(&multiply(y, &c(-0.5))?, x)?,
        Square => multiply(x, &c(2.0))?,
        Reciprocal => negative(&square(y)?)?,
        Sin => cos(x)?,
        Cos => negative(&sin(x)?)?,
        Tan => add(&c(1.0), &square(y)?)?,
        Arcsin => rsqrt(&one_minus_sq(x)?)?,
        Arccos => negative(&rsqrt(&one_minus_sq(x)?)?)?,
        Arctan => reciprocal(&add(&c(1.0), &square(x)?)?)?,
        Sinh => cosh(x)?,
        Cosh => sinh(x)?,
        Tanh => one_minus_sq(y)?,
        Arcsinh => rsqrt(&add(&square(x)?, &c(1.0))?)?,
        // (x - 1)(x + 1) keeps precision near 1, where x² - 1 cancels.
        Arccosh => rsqrt(&multiply(&subtract(x, &c(1.0))?, &add(x, &c(1.0))?)?)?,
        Arctanh => reciprocal(&one_minus_sq(x)?)?,
        Sigmoid => multiply(y, &subtract(&c(1.0), y)?)?,
        Erf => multiply(
            &c(std::f64::consts::FRAC_2_SQRT_PI),
            &exp(&negative(&square(x)?)?)?,
        )?,
        Erfinv => multiply(&c(std::f64::consts::PI.sqrt() / 2.0), &exp(&square(y)?)?)?,
        Cbrt => reciprocal(&multiply(&square(y)?, &c(3.0))?)?,
        Exp2 => multiply(y, &c(std::f64::consts::LN_2))?,
        Deg2rad => c(std::f64::consts::PI / 180.0),
        Rad2deg => c(180.0 / std::f64::consts::PI),
    }))
}

/// (d op / da, d op / db) at `a`, `b` with `y = op(a, b)` (float).
pub(crate) fn binary(op: BinaryOp, a: &Array, b: &Array, y: &Array) -> Result<(Partial, Partial)> {
    use BinaryOp::*;
    let c = |v: f64| constant(v, y);
    let float = |m: Array| m.astype(y.dtype());
    Ok(match op {
        Add => (Partial::One, Partial::One),
        Subtract => (Partial::One, Partial::MinusOne),
        Multiply => (Partial::Of(b.clone()), Partial::Of(a.clone())),
        Divide => (
            Partial::Of(reciprocal(b)?),
            Partial::Of(negative(&divide(y, b)?)?),
        ),
        Remainder => (Partial::One, Partial::Of(negative(&floor_divide(a, b)?)?)),
        Power => {
            // b·a^(b-1), and y·log(a); both 0 where the factor in front is
            // 0, with `a` kept off 0 inside the log so that higher
            // derivatives stay finite.
            let zero = c(0.0);
            let da = r#where(
                &equal(b, &zero)?,
                &zero,
                &multiply(b, &power(a, &subtract(b, &c(1.0))?)?)?,
            )?;
            let a_is_zero = equal(a, &zero)?;
            let safe_a = r#where(&a_is_zero, &c(1.0), a)?;
            let db = r#where(&a_is_zero, &zero, &multiply(y, &log(&safe_a)?)?)?;
            (Partial::Of(da), Partial::Of(db))
        }
        Maximum | Minimum => {
            // Ties share the derivative evenly (as JAX does).
            let (win_a, win_b) = if op == Maximum {
                (greater(a, b)?, less(a, b)?)
            } else {
                (less(a, b)?, greater(a, b)?)
            };
            let tie = multiply(&float(equal(a, b)?)?, &c(0.5))?;
            (
                Partial::Of(add(&float(win_a)?, &tie)?),
                Partial::Of(add(&float(win_b)?, &tie)?),
            )
        }
        Arctan2 => {
            let r2 = add(&square(a)?, &square(b)?)?;
            (
                Partial::Of(divide(b, &r2)?),
                Partial::Of(negative(&divide(a, &r2)?)?),
            )
        }
        // exp(a) / (exp(a) + exp(b)) and its mirror.
        Logaddexp => (
            Partial::Of(exp(&subtract(a, y)?)?),
            Partial::Of(exp(&subtract(b, y)?)?),
        ),
        Hypot => (Partial::Of(divide(a, y)?), Partial::Of(divide(b, y)?)),
        // |a| carries b's sign: sign(a) sign(b), and nothing through b.
        Copysign => {
            let unit = |x: &Array| copysign(&c(1.0), x);
            (Partial::Of(multiply(&unit(a)?, &unit(b)?)?), Partial::Zero)
        }
        FloorDivide | Equal | NotEqual | Less | LessEqual | Greater | GreaterEqual | LogicalAnd
        | LogicalOr | BitwiseAnd | BitwiseOr | BitwiseXor | LeftShift | RightShift => {
            (Partial::Zero, Partial::Zero)
        }
    })
}

/// `g` summed down to `shape`, undoing a broadcast.
pub(crate) fn unbroadcast(g: &Array, shape: &[usize]) -> Result<Array> {
    if g.shape() == shape {
        return Ok(g.clone());
    }
    let lead = g.ndim() - shape.len();
    let mut axes: Vec<i32> = (0..lead as i32).collect();
    for (d, &n) in shape.iter().enumerate() {
        if n == 1 && g.shape()[lead + d] != 1 {
            axes.push((lead + d) as i32);
        }
    }
    let summed = if axes.is_empty() {
        g.clone()
    } else {
        sum(g, axes, false)?
    };
    Ok(reshape_to(&summed, shape.to_vec()))
}

/// `g`, reduced over `axes` of `shape`, broadcast back to `shape`.
pub(crate) fn unreduce(g: &Array, shape: &[usize], axes: &[usize]) -> Result<Array> {
    let kept = (0..shape.len())
        .map(|d| if axes.contains(&d) { 1 } else { shape[d] })
        .collect();
    broadcast_to(&reshape_to(g, kept), shape)
}

/// For each element, the product of the other elements of its reduction
/// over `axes` (exact with zeros: exclusive products from both ends).
pub(crate) fn product_of_others(x: &Array, axes: &[usize]) -> Result<Array> {
    let kept: Vec<usize> = (0..x.ndim()).filter(|d| !axes.contains(d)).collect();
    let perm: Vec<i32> = kept.iter().chain(axes).map(|&d| d as i32).collect();
    let moved = transpose(x, &perm)?;
    let n: usize = axes.iter().map(|&d| x.shape()[d]).product();
    if n == 0 {
        return zeros_like(x);
    }
    let mut rows = moved.shape()[..kept.len()].to_vec();
    rows.push(n);
    let flat = reshape_to(&moved, rows.clone());
    let last = rows.len() - 1;
    let exclusive = |scanned: Array, from_start: bool| -> Result<Array> {
        let mut keep = vec![Slice::all(); rows.len()];
        let mut widths = vec![(0, 0); rows.len()];
        if from_start {
            keep[last] = Slice::new(None, Some(n as i64 - 1), None);
            widths[last] = (1, 0);
        } else {
            keep[last] = Slice::new(Some(1), None, None);
            widths[last] = (0, 1);
        }
        pad(&slice(&scanned, &keep)?, &widths, 1)
    };
    let before = exclusive(cumprod(&flat, Some(last as i32))?, true)?;
    let after = exclusive(cumprod_reverse(&flat, last as i32)?, false)?;
    let others = reshape_to(&multiply(&before, &after)?, moved.shape().to_vec());
    let mut inverse = vec![0i32; perm.len()];
    for (k, &p) in perm.iter().enumerate() {
        inverse[p as usize] = k as i32;
    }
    transpose(&others, &inverse)
}

/// Where `x` equals its reduction `y` over `axes`, divided by how many
/// elements tie: the share of the derivative of max/min each element gets.
pub(crate) fn extremum_share(x: &Array, y: &Array, axes: &[usize]) -> Result<Array> {
    let at = equal(x, &unreduce(y, x.shape(), axes)?)?.astype(x.dtype())?;
    let axes_i: Vec<i32> = axes.iter().map(|&d| d as i32).collect();
    let count = sum(&at, axes_i, true)?;
    divide(&at, &count)
}

/// Whether arrays of `dtype` carry derivatives.
pub(crate) fn differentiable(dtype: DType) -> bool {
    dtype.is_float()
}

/// Whether `node`'s output depends differentiably on its inputs: not for
/// sources, integer-valued results, bit reinterpretation, or a stop.
pub(crate) fn carries_derivative(node: &Array) -> bool {
    !matches!(
        node.primitive(),
        Primitive::Constant
            | Primitive::Arange { .. }
            | Primitive::Full(_)
            | Primitive::Placeholder
            | Primitive::Threefry
            | Primitive::ArgSort { .. }
            | Primitive::BitCast
            | Primitive::StopGradient
    ) && differentiable(node.dtype())
}

// Linear algebra: the parts of the packed factorizations and the pieces
// their rules share.

pub(crate) fn zero_block(like: &Array, rows: usize, cols: usize) -> Result<Array> {
    zeros(&with_matrix(batch(like), rows, cols), DType::F32)
}

/// `I` of size n (broadcasts against stacks).
pub(crate) fn identity(n: usize) -> Result<Array> {
    eye(n, None, 0, DType::F32)
}

/// The part of `x` a triangular solve reads.
pub(crate) fn triangle(x: &Array, lower: bool, unit: bool) -> Result<Array> {
    match (lower, unit) {
        (true, false) => tril(x, 0),
        (true, true) => tril(x, -1),
        (false, false) => triu(x, 0),
        (false, true) => triu(x, 1),
    }
}

/// `F[i, j] = 1 / (d[j] - d[i])` off the diagonal, 0 on it, for `d (..., 1, n)`.
pub(crate) fn gaps_inverse(d: &Array, n: usize) -> Result<Array> {
    let gaps = add(&subtract(d, &mt(d)?)?, &identity(n)?)?;
    subtract(&reciprocal(&gaps)?, &identity(n)?)
}

/// The LU node's permutation as int32 indices along rows, `(..., n, n)`.
pub(crate) fn permutation_rows(packed: &Array, n: usize) -> Result<Array> {
    let perm = crate::linalg::int_column(packed, n)?;
    let shape = with_matrix(batch(packed), n, n);
    broadcast_to(&expand_dims(&perm, &[-1])?, &shape)
}

/// `x` with the lower triangle below the diagonal plus half the diagonal.
pub(crate) fn lower_half_diagonal(x: &Array, n: usize) -> Result<Array> {
    let half = multiply(&multiply(x, &identity(n)?)?, &Array::scalar(0.5f32))?;
    add(&tril(x, -1)?, &half)
}

/// Blocked QR's panels exist only inside a kernel, never in a graph that
/// is differentiated.
pub(crate) fn internal(op: LinalgOp) -> crate::error::Error {
    crate::error::invalid(op.name(), "is internal to blocked QR and has no derivative")
}

/// Q and R of a QR node, refusing the one case without a derivative:
/// the complete factorization of a tall matrix (its extra columns of Q are
/// not unique).
pub(crate) fn qr_parts(node: &Array, a: &Array) -> Result<(Array, Array)> {
    let (m, n) = dims(a);
    let k = dims(node).1 - n;
    if k != m.min(n) {
        bail!(
            "qr",
            "derivatives need the reduced mode for a {m} x {n} matrix (the complete Q's extra columns are not unique)"
        );
    }
    Ok((block(node, 0..m, 0..k)?, block(node, 0..k, k..k + n)?))
}

/// The cotangent of A = Q R (m >= n, reduced) from those of Q and R:
/// (Q̄ + Q copyltu(M)) R⁻ᵀ with M = R R̄ᵀ - Q̄ᵀ Q.
pub(crate) fn qr_vjp(q: &Array, r: &Array, gq: &Array, gr: &Array) -> Result<Array> {
    let big_n = subtract(&matmul(gr, &mt(r)?)?, &matmul(&mt(q)?, gq)?)?;
    let copied = add(&triu(&big_n, 0)?, &mt(&triu(&big_n, 1)?)?)?;
    let w = add(gq, &matmul(q, &copied)?)?;
    mt(&tri_solve(r, &mt(&w)?, false, false)?)
}

/// The tangents of Q and R (m >= n, reduced) along dA.
pub(crate) fn qr_jvp(q: &Array, r: &Array, da: &Array) -> Result<(Array, Array)> {
    // D = dA R⁻¹, X = Qᵀ D, C = skew part of X's lower triangle.
    let d = mt(&tri_solve(&mt(r)?, &mt(da)?, true, false)?)?;
    let x = matmul(&mt(q)?, &d)?;
    let lower = tril(&x, -1)?;
    let c = subtract(&lower, &mt(&lower)?)?;
    let upper = subtract(&x, &c)?;
    Ok((subtract(&d, &matmul(q, &upper)?)?, matmul(&upper, r)?))
}

pub(crate) fn svd_differentiable(full: bool, m: usize, n: usize) -> Result<()> {
    if full && m != n {
        bail!(
            "svd",
            "derivatives need full_matrices = false for a {m} x {n} matrix (the extra singular vectors are not unique)"
        );
    }
    Ok(())
}

/// U (first n columns), V and S `(..., 1, n)` of an SVD node.
pub(crate) fn svd_parts(node: &Array, m: usize, n: usize) -> Result<(Array, Array, Array)> {
    Ok((
        block(node, 0..m, 0..n)?,
        block(node, m..m + n, 0..n)?,
        block(node, m + n..m + n + 1, 0..n)?,
    ))
}
