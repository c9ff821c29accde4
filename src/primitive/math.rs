//! Host functions of the elementwise ops that Rust's float and integer
//! methods do not give with NumPy's semantics: the counterparts of the
//! helpers in `wgsl/math.wgsl`.

/// NumPy's sign: NaN stays NaN and both zeros give +0.
pub fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else if x.is_nan() {
        x
    } else {
        0.0
    }
}

/// `acosh`, NaN below 1 (libm's `acoshf` reads only `|x|` past 2, so it
/// gives numbers for arguments below -2).
pub fn acosh(x: f32) -> f32 {
    if x < 1.0 {
        f32::NAN
    } else {
        libm::acoshf(x)
    }
}

/// The logistic function, without overflow for large `|x|`.
pub fn sigmoid(x: f32) -> f32 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// The inverse error function: Giles' single-precision approximation
/// ("Approximating the erfinv function", 2010), refined by two Newton steps
/// on `erf` in f64; NaN outside [-1, 1].
pub fn erfinv(x: f32) -> f32 {
    if x.is_nan() || x.abs() > 1.0 {
        return f32::NAN;
    }
    if x.abs() == 1.0 {
        return x * f32::INFINITY;
    }
    let x = x as f64;
    let mut w = -((1.0 - x) * (1.0 + x)).ln();
    let coefficients: &[f64] = if w < 5.0 {
        w -= 2.5;
        &[
            2.81022636e-08,
            3.43273939e-07,
            -3.5233877e-06,
            -4.39150654e-06,
            0.00021858087,
            -0.00125372503,
            -0.00417768164,
            0.246640727,
            1.50140941,
        ]
    } else {
        w = w.sqrt() - 3.0;
        &[
            -0.000200214257,
            0.000100950558,
            0.00134934322,
            -0.00367342844,
            0.00573950773,
            -0.0076224613,
            0.00943887047,
            1.00167406,
            2.83297682,
        ]
    };
    let mut y = coefficients.iter().fold(0.0, |p, c| c + p * w) * x;
    for _ in 0..2 {
        let slope = std::f64::consts::FRAC_2_SQRT_PI * (-y * y).exp();
        y -= (libm::erf(y) - x) / slope;
    }
    y as f32
}

/// NumPy's float floor division (its `divmod` quotient): the quotient of
/// the exact remainder's division, so that `a == b * q + remainder(a, b)`.
pub fn floor_divide(a: f32, b: f32) -> f32 {
    if b == 0.0 {
        return a / b;
    }
    let m = a % b;
    let mut quotient = (a - m) / b;
    if m != 0.0 && (b < 0.0) != (m < 0.0) {
        quotient -= 1.0;
    }
    if quotient == 0.0 {
        return 0.0f32.copysign(a / b);
    }
    let floor = quotient.floor();
    if quotient - floor > 0.5 {
        floor + 1.0
    } else {
        floor
    }
}

/// Python's float modulo: the result takes the divisor's sign.
pub fn remainder(a: f32, b: f32) -> f32 {
    let m = a % b;
    if b == 0.0 {
        return m;
    }
    if m == 0.0 {
        return 0.0f32.copysign(b);
    }
    if (b < 0.0) != (m < 0.0) {
        m + b
    } else {
        m
    }
}

/// Integer floor division; 0 for a zero divisor (as NumPy, which warns).
pub fn floor_divide_i32(a: i32, b: i32) -> i32 {
    if b == 0 {
        return 0;
    }
    let q = a.wrapping_div(b);
    if a.wrapping_rem(b) != 0 && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

/// Integer modulo with the divisor's sign; 0 for a zero divisor.
pub fn remainder_i32(a: i32, b: i32) -> i32 {
    if b == 0 {
        return 0;
    }
    let r = a.wrapping_rem(b);
    if r != 0 && ((r < 0) != (b < 0)) {
        r + b
    } else {
        r
    }
}

/// Integer powers, wrapping; negative exponents give 0 but for bases 1
/// and -1.
pub fn pow_i32(x: i32, y: i32) -> i32 {
    match (x, y) {
        (1, _) => 1,
        (-1, y) if y < 0 => 1 - 2 * (y & 1),
        (_, y) if y < 0 => 0,
        (x, y) => x.wrapping_pow(y as u32),
    }
}

/// The larger of two floats, NaN if either is.
pub fn maximum(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.max(b)
    }
}

/// The smaller of two floats, NaN if either is.
pub fn minimum(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else {
        a.min(b)
    }
}

/// `log(exp(a) + exp(b))` without overflow: the larger plus `log1p` of the
/// smaller's ratio to it; equal arguments (infinities too) add `log 2`.
pub fn logaddexp(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        return f32::NAN;
    }
    if a == b {
        return a + std::f32::consts::LN_2;
    }
    a.max(b) + (-(a - b).abs()).exp().ln_1p()
}
