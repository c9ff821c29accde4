//! The float32 sweep of the unary ops and its float64 references, shared
//! by `tests/math_accuracy.rs` (native) and `tests/web.rs` (the browser).

use kiln::UnaryOp;

/// The float32 points an op is swept over: evenly spaced bit patterns of
/// the finite floats of both signs, and a few hand-picked hard cases.
pub fn sweep() -> Vec<f32> {
    let steps = 2000u32;
    let top = f32::MAX.to_bits();
    let mut xs: Vec<f32> = (0..=steps)
        .flat_map(|k| {
            let x = f32::from_bits((top as u64 * k as u64 / steps as u64) as u32);
            [x, -x]
        })
        .collect();
    let one = 1.0f32.to_bits();
    for d in 1..=8u32 {
        xs.extend([f32::from_bits(one - d), f32::from_bits(one + d)]);
        xs.extend([-f32::from_bits(one - d), -f32::from_bits(one + d)]);
    }
    // The floats nearest multiples of pi/2, where sin, cos and tan are
    // ill-conditioned (the driver's sin was 688 ulp off next to -8953).
    for k in (1..=40u32).chain([5699, 5700, 5701, 100_003, 10_000_019]) {
        let x = (k as f64 * std::f64::consts::FRAC_PI_2) as f32;
        xs.extend([x, -x, f32::from_bits(x.to_bits() + 1)]);
    }
    xs.extend([
        1e-7, -1e-7, 1e-20, 1e-30, 1e-40, 0.5, 2.0, 10.0, 88.72, 88.7228, -87.33, -103.9, 89.0,
        1e4, -8953.0, 3.0e5, 1e10,
    ]);
    xs
}

/// The float64 reference of `op`, or `None` where std and libm give none.
pub fn reference(op: UnaryOp, x: f64) -> Option<f64> {
    let y = match op.name() {
        "exp" => x.exp(),
        "expm1" => x.exp_m1(),
        "exp2" => x.exp2(),
        "log" => x.ln(),
        "log1p" => x.ln_1p(),
        "log2" => x.log2(),
        "log10" => x.log10(),
        "sqrt" => x.sqrt(),
        "rsqrt" => 1.0 / x.sqrt(),
        "reciprocal" => 1.0 / x,
        "cbrt" => x.cbrt(),
        "sin" => x.sin(),
        "cos" => x.cos(),
        "tan" => x.tan(),
        "arcsin" => x.asin(),
        "arccos" => x.acos(),
        "arctan" => x.atan(),
        "sinh" => x.sinh(),
        "cosh" => x.cosh(),
        "tanh" => x.tanh(),
        "arcsinh" => x.asinh(),
        "arccosh" => x.acosh(),
        "arctanh" => x.atanh(),
        "sigmoid" => 1.0 / (1.0 + (-x).exp()),
        "erf" => libm::erf(x),
        "erfinv" => erfinv(x),
        "deg2rad" => x.to_radians(),
        "rad2deg" => x.to_degrees(),
        _ => return None,
    };
    Some(y)
}

/// The inverse of libm's erf by bisection in float64.
fn erfinv(x: f64) -> f64 {
    if x.abs() > 1.0 {
        return f64::NAN;
    }
    if x.abs() == 1.0 {
        return x * f64::INFINITY;
    }
    let (mut lo, mut hi) = (-10.0f64, 10.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if libm::erf(mid) < x {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The error of `got` in ulps of float32 at the correctly rounded `want`;
/// below the smallest normal in units of it, as WGSL lets drivers flush
/// subnormal results to zero.
fn ulps(got: f32, want: f64) -> f64 {
    if want.is_nan() || got.is_nan() {
        return if want.is_nan() && got.is_nan() {
            0.0
        } else {
            f64::INFINITY
        };
    }
    let rounded = want as f32;
    if rounded.is_infinite() || got.is_infinite() {
        return if got == rounded { 0.0 } else { f64::INFINITY };
    }
    let spacing = if rounded.abs() < f32::MIN_POSITIVE {
        f32::MIN_POSITIVE
    } else {
        f32::from_bits(rounded.abs().to_bits() + 1) - rounded.abs()
    };
    (got as f64 - want).abs() / spacing as f64
}

/// The most ulps any op may be off.
pub const BOUND: f64 = 4.0;

/// The largest error over `xs` of `got` (the op's float32 results), and
/// where it is. A subnormal input may be read as a zero of its sign, as
/// WGSL lets drivers flush subnormal operands (SwiftShader does).
pub fn worst_ulps(op: UnaryOp, xs: &[f32], got: &[f32]) -> (f64, f32) {
    let (mut worst, mut at) = (0.0f64, 0.0f32);
    for (&x, &g) in xs.iter().zip(got) {
        let error = |x: f32| ulps(g, reference(op, x as f64).expect("a reference"));
        let e = if x.is_subnormal() {
            error(x).min(error(0.0f32.copysign(x)))
        } else {
            error(x)
        };
        if e > worst {
            (worst, at) = (e, x);
        }
    }
    (worst, at)
}
