// Math helpers for elementwise kernels: IEEE predicates by bits (WGSL has
// no isnan), and accurate versions of functions WGSL lacks or computes
// loosely (expm1, log1p, tanh, erf, erfinv, pow with NumPy's edge cases).

fn k_isnan(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

fn k_isinf(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u;
}

// NaN and infinity through a variable: WGSL makes a constant expression that
// evaluates to NaN or infinity a shader-creation error (browsers enforce it).
fn k_nan() -> f32 {
    var bits = 0x7fc00000u;
    return bitcast<f32>(bits);
}

fn k_inf() -> f32 {
    var bits = 0x7f800000u;
    return bitcast<f32>(bits);
}

fn k_signbit(x: f32) -> bool {
    return (bitcast<u32>(x) >> 31u) != 0u;
}

// NumPy's sign: NaN stays NaN, and both zeros give +0. Built from the
// bits: drivers need not keep the sign of a float zero (lavapipe turned
// a comparison chain ending in 0.0 into -0.0).
fn k_sign(x: f32) -> f32 {
    if (k_isnan(x)) { return x; }
    let bits = bitcast<u32>(x);
    if ((bits & 0x7fffffffu) == 0u) { return bitcast<f32>(0u); }
    return bitcast<f32>((bits & 0x80000000u) | 0x3f800000u);
}

// exp(x) - 1: a Taylor series near zero, where exp(x) - 1 cancels.
fn k_expm1(x: f32) -> f32 {
    if (abs(x) < 0.5) {
        var t = x * (1.0 / 9.0);
        t = x * (1.0 / 8.0) * (1.0 + t);
        t = x * (1.0 / 7.0) * (1.0 + t);
        t = x * (1.0 / 6.0) * (1.0 + t);
        t = x * (1.0 / 5.0) * (1.0 + t);
        t = x * (1.0 / 4.0) * (1.0 + t);
        t = x * (1.0 / 3.0) * (1.0 + t);
        t = x * (1.0 / 2.0) * (1.0 + t);
        return x * (1.0 + t);
    }
    return exp(x) - 1.0;
}

// log(1 + x): 2 atanh(s) with s = x / (2 + x) as a series near zero.
// log and log2 with NumPy's edge cases: WGSL leaves x <= 0 undefined (some
// drivers give log|x| and a finite floor), NumPy gives NaN and -inf.
fn k_log(x: f32) -> f32 {
    if (x < 0.0 || k_isnan(x)) { return k_nan(); }
    if (x == 0.0) { return -k_inf(); }
    return log(x);
}

fn k_log2(x: f32) -> f32 {
    if (x < 0.0 || k_isnan(x)) { return k_nan(); }
    if (x == 0.0) { return -k_inf(); }
    return log2(x);
}

fn k_log1p(x: f32) -> f32 {
    if (x < -1.0 || k_isnan(x)) { return k_nan(); }
    if (x == -1.0) { return -k_inf(); }
    if (abs(x) < 0.25) {
        let s = x / (2.0 + x);
        let s2 = s * s;
        var p = 1.0 / 15.0;
        p = 1.0 / 13.0 + s2 * p;
        p = 1.0 / 11.0 + s2 * p;
        p = 1.0 / 9.0 + s2 * p;
        p = 1.0 / 7.0 + s2 * p;
        p = 1.0 / 5.0 + s2 * p;
        p = 1.0 / 3.0 + s2 * p;
        p = 1.0 + s2 * p;
        return 2.0 * s * p;
    }
    return log(1.0 + x);
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
    if (a > 88.0) { return sign(x) * exp(a - 0.6931471805599453); }
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

fn k_copysign(v: f32, s: f32) -> f32 {
    return select(abs(v), -abs(v), k_signbit(s));
}

const K_PI: f32 = 3.14159265358979;
const K_PI_2: f32 = 1.57079632679490;

// Arc tangent by range reduction and a minimax polynomial (Cephes atanf).
fn k_atan(x_in: f32) -> f32 {
    var x = abs(x_in);
    var y = 0.0;
    if (x > 2.414213562373095) {
        y = K_PI_2;
        x = -1.0 / x;
    } else if (x > 0.4142135623730950) {
        y = 0.7853981633974483;
        x = (x - 1.0) / (x + 1.0);
    }
    let z = x * x;
    y += (((8.05374449538e-2 * z - 1.38776856032e-1) * z + 1.99777106478e-1) * z - 3.33329491539e-1) * z * x + x;
    return k_copysign(y, x_in);
}

// Arc sine (Cephes asinf); NaN outside [-1, 1].
fn k_asin(x_in: f32) -> f32 {
    let a = abs(x_in);
    if (a > 1.0 || k_isnan(x_in)) { return k_nan(); }
    var x = a;
    var z = a * a;
    let big = a > 0.5;
    if (big) {
        z = 0.5 * (1.0 - a);
        x = sqrt(z);
    }
    var r = ((((4.2163199048e-2 * z + 2.4181311049e-2) * z + 4.5470025998e-2) * z + 7.4953002686e-2) * z + 1.6666752422e-1) * z * x + x;
    if (big) {
        r = K_PI_2 - 2.0 * r;
    }
    return k_copysign(r, x_in);
}

// Arc cosine, accurate near both ends.
fn k_acos(x: f32) -> f32 {
    if (abs(x) > 1.0 || k_isnan(x)) { return k_nan(); }
    if (x < -0.5) { return K_PI - 2.0 * k_asin(sqrt(0.5 * (1.0 + x))); }
    if (x > 0.5) { return 2.0 * k_asin(sqrt(0.5 * (1.0 - x))); }
    return K_PI_2 - k_asin(x);
}

// atan2 with C99/NumPy edge cases (signed zeros, infinities).
fn k_atan2(y: f32, x: f32) -> f32 {
    if (k_isnan(x) || k_isnan(y)) { return k_nan(); }
    if (k_isinf(x) && k_isinf(y)) { return k_copysign(select(0.75 * K_PI, 0.25 * K_PI, x > 0.0), y); }
    if (k_isinf(x)) { return k_copysign(select(K_PI, 0.0, x > 0.0), y); }
    if (k_isinf(y) || (x == 0.0 && !(y == 0.0))) { return k_copysign(K_PI_2, y); }
    if (y == 0.0) { return k_copysign(select(0.0, K_PI, k_signbit(x)), y); }
    let a = k_atan(y / x);
    if (x > 0.0) { return a; }
    return select(a + K_PI, a - K_PI, k_signbit(y));
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
    let odd = y_int && abs(y) < 16777216.0 && !(fract(y * 0.5) == 0.0);
    var r: f32;
    if (x == 0.0) {
        r = select(0.0, k_inf(), y < 0.0);
    } else {
        r = exp2(y * log2(abs(x)));
    }
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

// C's fmod: a - b trunc(a / b) with the sign of a, the product fused so
// that it is exact.
fn k_fmod(a: f32, b: f32) -> f32 {
    if (k_isinf(a) || k_isnan(a) || k_isnan(b) || b == 0.0) { return k_nan(); }
    if (k_isinf(b)) { return a; }
    var r = fma(-b, trunc(a / b), a);
    // trunc(a / b) can round one too far from zero.
    if (!(r == 0.0) && (r < 0.0) != (a < 0.0)) {
        r = r + select(-b, b, (a < 0.0) == (b < 0.0));
    }
    return r;
}

// Python's modulo: the result takes the sign of the divisor.
fn k_remainder(a: f32, b: f32) -> f32 {
    var m = k_fmod(a, b);
    if (m == 0.0) { return k_copysign(0.0, b); }
    if ((b < 0.0) != (m < 0.0)) { m = m + b; }
    return m;
}

// Floor division as NumPy's divmod computes it.
fn k_floor_divide(a: f32, b: f32) -> f32 {
    if (b == 0.0) { return a / b; }
    let m = k_fmod(a, b);
    var d = (a - m) / b;
    if (!(m == 0.0) && (b < 0.0) != (m < 0.0)) { d = d - 1.0; }
    if (d == 0.0) { return k_copysign(0.0, a / b); }
    var f = floor(d);
    if (d - f > 0.5) { f = f + 1.0; }
    return f;
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

// Cube root: one Newton step refines exp2(log2|x| / 3) to about an ulp.
fn k_cbrt(x: f32) -> f32 {
    let a = abs(x);
    if (a == 0.0 || k_isnan(x) || k_isinf(x)) { return x; }
    var y = exp2(log2(a) * (1.0 / 3.0));
    y = y - (y - a / (y * y)) * (1.0 / 3.0);
    return k_copysign(y, x);
}

// log(exp(a) + exp(b)) without overflow: the larger plus log1p of the
// smaller's ratio to it; equal arguments (infinities too) add log 2.
fn k_logaddexp(a: f32, b: f32) -> f32 {
    if (k_isnan(a) || k_isnan(b)) { return k_nan(); }
    if (a == b) { return a + 0.69314718055994531; }
    return max(a, b) + k_log1p(exp(-abs(a - b)));
}

// sqrt(x² + y²) without overflow or underflow; infinite when either is,
// even beside a NaN (as C's hypot).
fn k_hypot(x: f32, y: f32) -> f32 {
    let a = abs(x);
    let b = abs(y);
    if (k_isinf(a) || k_isinf(b)) { return k_inf(); }
    if (k_isnan(a) || k_isnan(b)) { return k_nan(); }
    let m = max(a, b);
    if (m == 0.0) { return 0.0; }
    let r = min(a, b) / m;
    return m * sqrt(1.0 + r * r);
}
