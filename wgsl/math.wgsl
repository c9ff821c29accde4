// Math helpers for elementwise kernels: IEEE predicates by bits (WGSL has
// no isnan), and accurate versions of functions WGSL lacks or computes
// loosely (expm1, log1p, tanh, erf, erfinv, pow with NumPy's edge cases).

fn k_isnan(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

fn k_isinf(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u;
}

fn k_nan() -> f32 {
    return bitcast<f32>(0x7fc00000u);
}

fn k_inf() -> f32 {
    return bitcast<f32>(0x7f800000u);
}

fn k_signbit(x: f32) -> bool {
    return (bitcast<u32>(x) >> 31u) != 0u;
}

fn k_sign(x: f32) -> f32 {
    if (k_isnan(x)) { return x; }
    if (x > 0.0) { return 1.0; }
    if (x < 0.0) { return -1.0; }
    return x;
}

// Kahan's trick: exact cancellation of the rounding of exp.
fn k_expm1(x: f32) -> f32 {
    if (abs(x) < 1e-5) { return x + 0.5 * x * x; }
    let u = exp(x);
    if (u == 1.0) { return x; }
    let um1 = u - 1.0;
    if (um1 == -1.0) { return -1.0; }
    if (k_isinf(u)) { return u; }
    return um1 * x / log(u);
}

fn k_log1p(x: f32) -> f32 {
    let u = 1.0 + x;
    if (u == 1.0) { return x; }
    if (k_isinf(u)) { return u; }
    return log(u) * x / (u - 1.0);
}

fn k_sigmoid(x: f32) -> f32 {
    if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
    let e = exp(x);
    return e / (1.0 + e);
}

fn k_tanh(x: f32) -> f32 {
    if (k_isnan(x)) { return x; }
    if (abs(x) > 20.0) { return sign(x); }
    let t = k_expm1(-2.0 * abs(x));
    return -sign(x) * t / (2.0 + t);
}

fn k_sinh(x: f32) -> f32 {
    let a = abs(x);
    if (a > 88.0) { let e = exp(a - 0.6931471805599453); return sign(x) * e * e / e; }
    let u = k_expm1(a);
    return sign(x) * 0.5 * (u + u / (u + 1.0));
}

fn k_cosh(x: f32) -> f32 {
    let e = exp(abs(x) - 0.6931471805599453);
    return e + 0.25 / e;
}

fn k_asinh(x: f32) -> f32 {
    let a = abs(x);
    if (a > 1e10) { return sign(x) * (log(a) + 0.6931471805599453); }
    let a2 = a * a;
    return sign(x) * k_log1p(a + a2 / (1.0 + sqrt(1.0 + a2)));
}

fn k_acosh(x: f32) -> f32 {
    if (x < 1.0) { return k_nan(); }
    if (x > 1e10) { return log(x) + 0.6931471805599453; }
    let t = x - 1.0;
    return k_log1p(t + sqrt(2.0 * t + t * t));
}

fn k_atanh(x: f32) -> f32 {
    let a = abs(x);
    if (a > 1.0) { return k_nan(); }
    return sign(x) * 0.5 * k_log1p(2.0 * a / (1.0 - a));
}

// Rational approximation of erf on [-4, 4] (saturates beyond), a few ulp in f32.
fn k_erf(x_in: f32) -> f32 {
    if (k_isnan(x_in)) { return x_in; }
    let x = clamp(x_in, -4.0, 4.0);
    let x2 = x * x;
    var p = x2 * -2.72614225801306e-10 + 2.77068142495902e-08;
    p = x2 * p - 2.10102402082508e-06;
    p = x2 * p - 5.69250639462346e-05;
    p = x2 * p - 7.34990630326855e-04;
    p = x2 * p - 2.95459980854025e-03;
    p = x2 * p - 1.60960333262415e-02;
    p = x * p;
    var q = x2 * -1.45660718464996e-05 - 2.13374055278905e-04;
    q = x2 * q - 1.68282697438203e-03;
    q = x2 * q - 7.37332916720468e-03;
    q = x2 * q - 1.42647390514189e-02;
    return p / q;
}

// Giles' single-precision erfinv ("Approximating the erfinv function", 2010).
fn k_erfinv(x: f32) -> f32 {
    if (abs(x) > 1.0 || k_isnan(x)) { return k_nan(); }
    if (abs(x) == 1.0) { return x * k_inf(); }
    var w = -log((1.0 - x) * (1.0 + x));
    var p: f32;
    if (w < 5.0) {
        w = w - 2.5;
        p = 2.81022636e-08;
        p = 3.43273939e-07 + p * w;
        p = -3.5233877e-06 + p * w;
        p = -4.39150654e-06 + p * w;
        p = 0.00021858087 + p * w;
        p = -0.00125372503 + p * w;
        p = -0.00417768164 + p * w;
        p = 0.246640727 + p * w;
        p = 1.50140941 + p * w;
    } else {
        w = sqrt(w) - 3.0;
        p = -0.000200214257;
        p = 0.000100950558 + p * w;
        p = 0.00134934322 + p * w;
        p = -0.00367342844 + p * w;
        p = 0.00573950773 + p * w;
        p = -0.0076224613 + p * w;
        p = 0.00943887047 + p * w;
        p = 1.00167406 + p * w;
        p = 2.83297682 + p * w;
    }
    return p * x;
}

// x ** y with C99/NumPy edge cases (negative bases with integral exponents).
fn k_pow(x: f32, y: f32) -> f32 {
    if (y == 0.0 || x == 1.0) { return 1.0; }
    if (k_isnan(x) || k_isnan(y)) { return k_nan(); }
    if (abs(x) == 1.0 && k_isinf(y)) { return 1.0; }
    let y_int = floor(y) == y;
    if (x < 0.0 && !y_int) { return k_nan(); }
    let odd = y_int && abs(y) < 16777216.0 && fract(y * 0.5) != 0.0;
    var r = exp2(y * log2(abs(x)));
    if (k_signbit(x) && odd) { r = -r; }
    return r;
}

fn k_max(a: f32, b: f32) -> f32 {
    if (k_isnan(a)) { return a; }
    if (k_isnan(b)) { return b; }
    return max(a, b);
}

fn k_min(a: f32, b: f32) -> f32 {
    if (k_isnan(a)) { return a; }
    if (k_isnan(b)) { return b; }
    return min(a, b);
}

// Python's modulo: the result takes the sign of the divisor.
fn k_remainder(a: f32, b: f32) -> f32 {
    if (b == 0.0 || k_isinf(a) || k_isnan(a) || k_isnan(b)) { return k_nan(); }
    if (k_isinf(b)) {
        if (a == 0.0 || (a > 0.0) == (b > 0.0)) { return a; }
        return b;
    }
    var r = a - b * trunc(a / b);
    if (abs(r) >= abs(b)) { r = r - b * trunc(r / b); }
    if (r != 0.0 && ((r < 0.0) != (b < 0.0))) { r = r + b; }
    return r;
}

fn k_floor_divide(a: f32, b: f32) -> f32 {
    if (b == 0.0) { return a / b; }
    let r = k_remainder(a, b);
    if (k_isnan(r)) { return floor(a / b); }
    return round((a - r) / b);
}

fn k_floor_divide_i32(a: i32, b: i32) -> i32 {
    if (b == 0) { return 0; }
    var q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) { q = q - 1; }
    return q;
}

fn k_remainder_i32(a: i32, b: i32) -> i32 {
    if (b == 0) { return 0; }
    var r = a % b;
    if (r != 0 && ((r < 0) != (b < 0))) { r = r + b; }
    return r;
}

// Integer powers by squaring; negative exponents give 0 (except for bases 1 and -1).
fn k_pow_i32(x: i32, y: i32) -> i32 {
    if (y < 0) {
        if (x == 1) { return 1; }
        if (x == -1) { return select(1, -1, (y & 1) != 0); }
        return 0;
    }
    var base = x;
    var e = u32(y);
    var r = 1;
    for (var k = 0u; k < 32u && e != 0u; k++) {
        if ((e & 1u) != 0u) { r = r * base; }
        base = base * base;
        e = e >> 1u;
    }
    return r;
}

fn k_pow_u32(x: u32, y: u32) -> u32 {
    var base = x;
    var e = y;
    var r = 1u;
    for (var k = 0u; k < 32u && e != 0u; k++) {
        if ((e & 1u) != 0u) { r = r * base; }
        base = base * base;
        e = e >> 1u;
    }
    return r;
}
