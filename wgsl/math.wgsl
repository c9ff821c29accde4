// Math helpers for elementwise kernels: IEEE predicates by bits (WGSL has
// no isnan), and accurate versions of functions WGSL lacks or computes
// loosely (expm1, log1p, tanh, erf, erfinv, pow with NumPy's edge cases).

fn k_isnan(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

fn k_isnan4(v: vec4<f32>) -> vec4<bool> {
    return (bitcast<vec4<u32>>(v) & vec4(0x7fffffffu)) > vec4(0x7f800000u);
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

// exp(x) within 2 ulp on every driver (WGSL lets the built-in be far
// off): x = n ln2 + r by Cody-Waite reduction (ln2 in two parts, the
// first with trailing zeros so n * K_LN2_HI is exact), |r| <= ln2 / 2,
// then exp(r) = 1 + r + r^2 P(r) (Cephes expf) scaled by 2^n in two
// steps, so that results near the overflow and subnormal ends stay exact.
const K_LN2_HI: f32 = 0.693145751953125;
const K_LN2_LO: f32 = 1.42860682030941723212e-6;
fn k_exp(x: f32) -> f32 {
    if (k_isnan(x)) { return x; }
    if (x > 88.72283935546875) { return k_inf(); }
    if (x < -103.97208404541015625) { return 0.0; }
    return k_exp_scaled(x, 0);
}

// exp(x) 2^s, for x and s whose result is finite and nonzero. A
// subnormal result is built from its bits (the integer m of m 2^-149,
// rounded once): adapters that flush subnormal results of arithmetic, as
// NVIDIA's do, would give 0.
fn k_exp_scaled(x: f32, s: i32) -> f32 {
    let p = k_exp_parts(x);
    let k = i32(p.x) + s;
    if (k < -126) {
        return bitcast<f32>(u32(round(ldexp(p.y, k + 149))));
    }
    let half = k / 2;
    return ldexp(ldexp(p.y, half), k - half);
}

// (n, exp(x - n ln2)) with n = round(x / ln2), so exp(x) = 2^n times the
// second.
fn k_exp_parts(x: f32) -> vec2<f32> {
    let n = round(x * 1.44269504088896341);
    let r = (x - n * K_LN2_HI) - n * K_LN2_LO;
    var p = 1.9875691500e-4;
    p = p * r + 1.3981999507e-3;
    p = p * r + 8.3334519073e-3;
    p = p * r + 4.1665795894e-2;
    p = p * r + 1.6666665459e-1;
    p = p * r + 5.0000001201e-1;
    return vec2<f32>(n, 1.0 + (r + r * r * p));
}

// k_exp of four values at most 0 (or NaN), without branches or ldexp
// (which cost some GPUs more than the rest of exp: softmax of 16384 rows
// of 1024 on an H100 took 104 us with k_exp): 2^n is built from its bits,
// and a subnormal result from its bits as k_exp_scaled builds it.
fn k_exp4_nonpositive(v: vec4<f32>) -> vec4<f32> {
    let x = max(v, vec4(-103.97208404541015625));
    let a = k_exp_parts(x.x);
    let b = k_exp_parts(x.y);
    let c = k_exp_parts(x.z);
    let d = k_exp_parts(x.w);
    let n = vec4(a.x, b.x, c.x, d.x);
    // Where the result is subnormal, y 2^(n + 149) is the integer m of m 2^-149.
    let low = n < vec4(-126.0);
    let e = vec4<i32>(select(n, n + 149.0, low)) + 127;
    let scaled = vec4(a.y, b.y, c.y, d.y) * bitcast<vec4<f32>>(vec4<u32>(e) << vec4(23u));
    let out = select(scaled, bitcast<vec4<f32>>(vec4<u32>(round(scaled))), low);
    return select(out, v, k_isnan4(v));
}

// max(a, b), NaN where either is.
fn k_max_or_nan(a: f32, b: f32) -> f32 {
    if (k_isnan(a)) {
        return a;
    }
    if (k_isnan(b)) {
        return b;
    }
    return max(a, b);
}

// log(x) of a finite positive x as (e, log m) with x = 2^e m, m in
// [sqrt(1/2), sqrt(2)), from the bits (subnormals scaled up first); log m
// as fdlibm's logf: f = m - 1 exactly, s = f / (2 + f) and
// log(1 + f) = f - (f^2/2 - s (f^2/2 + R(s^2))), exact at 1, accurate near it.
fn k_log_split(x_in: f32) -> vec2<f32> {
    var x = x_in;
    var e = 0;
    if (x < 1.17549435e-38) {
        // A subnormal is its bits times 2^-149 (read so, as drivers may
        // flush subnormal operands of arithmetic).
        x = f32(bitcast<u32>(x));
        e = -149;
    }
    let bits = bitcast<u32>(x);
    e = e + i32((bits >> 23u) & 0xffu) - 127;
    var m = bitcast<f32>((bits & 0x007fffffu) | 0x3f800000u);
    if (m > 1.41421356) {
        m = m * 0.5;
        e = e + 1;
    }
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let r = z * (0.66666662693 + w * 0.28498786688) + w * (0.40000972152 + w * 0.24279078841);
    let hfsq = 0.5 * f * f;
    return vec2<f32>(f32(e), f - (hfsq - s * (hfsq + r)));
}

// The logarithms' values outside (0, inf): NaN below 0, -inf at 0, inf at inf.
fn k_log_edge(x: f32) -> f32 {
    if (x < 0.0 || k_isnan(x)) { return k_nan(); }
    if (x == 0.0) { return -k_inf(); }
    return x;
}

// log(x) within 2 ulp on every driver (WGSL lets the built-in be millions
// of ulp off near 1).
fn k_log(x: f32) -> f32 {
    if (!(x > 0.0) || k_isinf(x)) { return k_log_edge(x); }
    let p = k_log_split(x);
    return p.x * K_LN2_HI + (p.x * K_LN2_LO + p.y);
}

// log2(x), exact at powers of two.
fn k_log2(x: f32) -> f32 {
    if (!(x > 0.0) || k_isinf(x)) { return k_log_edge(x); }
    let p = k_log_split(x);
    return p.x + p.y * 1.44269504088896341;
}

// The 64-bit product of two u32s as (low, high) words.
fn k_mul_wide(a: u32, b: u32) -> vec2<u32> {
    let ll = (a & 0xffffu) * (b & 0xffffu);
    let lh = (a & 0xffffu) * (b >> 16u);
    let hl = (a >> 16u) * (b & 0xffffu);
    let hh = (a >> 16u) * (b >> 16u);
    let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
    return vec2<u32>((ll & 0xffffu) | (mid << 16u), hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u));
}

// 32 bits of `words` starting `shift` bits into words[i] (shift < 32).
fn k_funnel(high: u32, low: u32, shift: u32) -> u32 {
    if (shift == 0u) { return high; }
    return (high << shift) | (low >> (32u - shift));
}

// |x| = q pi/2 + r with |r| <= pi/4, for finite x, as (r, q mod 4), by
// Payne-Hanek reduction: |x| = m 2^e exactly (m of 24 bits), and the 96
// bits of 2/pi that decide x 2/pi mod 4 (their place set by e) multiplied
// by m in 32-bit words, so r keeps its relative accuracy however close x
// is to a multiple of pi/2, over the whole float32 range.
fn k_reduce_half_pi(x: f32) -> vec2<f32> {
    // The bits of 2/pi after a word of zeros (so small x index from 0).
    var two_over_pi = array<u32, 8>(
        0u, 0xA2F9836Eu, 0x4E441529u, 0xFC2757D1u, 0xF534DDC0u, 0xDB629599u, 0x3C439041u, 0xFE5163ABu,
    );
    if (abs(x) <= 0.785398163) { return vec2<f32>(abs(x), 0.0); }
    let bits = bitcast<u32>(abs(x));
    let m = (bits & 0x007fffffu) | 0x00800000u;
    // |x| = m 2^e; bits of 2/pi worth 2^(e - 1) and below matter mod 4.
    let start = u32(i32((bits >> 23u) & 0xffu) - 150 + 30);
    let i = start / 32u;
    let shift = start % 32u;
    let w2 = k_funnel(two_over_pi[i], two_over_pi[i + 1u], shift);
    let w1 = k_funnel(two_over_pi[i + 1u], two_over_pi[i + 2u], shift);
    let w0 = k_funnel(two_over_pi[i + 2u], two_over_pi[min(i + 3u, 7u)], shift);
    // m (w2 w1 w0) 2^-94 = x 2/pi mod 4: the quadrant in bits 94-95.
    let p0 = k_mul_wide(m, w0);
    let p1 = k_mul_wide(m, w1);
    let p2 = k_mul_wide(m, w2);
    let word1 = p0.y + p1.x;
    let carry = select(0u, 1u, word1 < p0.y);
    let word2 = p1.y + p2.x + carry;
    var q = (word2 >> 30u) & 3u;
    // The fraction's 64 bits below the quadrant, in [0, 1) quadrants.
    var hi = (word2 << 2u) | (word1 >> 30u);
    var lo = (word1 << 2u) | (p0.x >> 30u);
    var negative = false;
    if (hi >= 0x80000000u) {
        // Over half a quadrant: r = f - 1 in the next quadrant.
        q = (q + 1u) & 3u;
        lo = ~lo + 1u;
        hi = ~hi + select(0u, 1u, lo == 0u);
        negative = true;
    }
    // The fraction as a float from its leading 32 significant bits.
    var lead = countLeadingZeros(hi);
    var top = k_funnel(hi, lo, lead);
    if (hi == 0u) {
        lead = 32u + countLeadingZeros(lo);
        top = lo << (lead - 32u);
    }
    if (top == 0u) { return vec2<f32>(0.0, f32(q)); }
    let f = ldexp(f32(top), -32 - i32(lead));
    let r = f * 1.57079632679489662;
    return vec2<f32>(select(r, -r, negative), f32(q));
}

// sin(r) and cos(r) for |r| <= pi/4 (Cephes sinf, cosf).
fn k_sin_kernel(r: f32) -> f32 {
    let z = r * r;
    return r + r * z * ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1);
}

fn k_cos_kernel(r: f32) -> f32 {
    let z = r * r;
    return 1.0 - 0.5 * z + z * z * ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2);
}

// sin, cos and tan within 2 ulp on every driver over the whole float32
// range (WGSL lets the built-ins be far off, most of all for large x).
fn k_sin(x: f32) -> f32 {
    if (k_isnan(x) || k_isinf(x)) { return k_nan(); }
    let rq = k_reduce_half_pi(x);
    let q = u32(rq.y);
    var y = select(k_sin_kernel(rq.x), k_cos_kernel(rq.x), (q & 1u) == 1u);
    if (q >= 2u) { y = -y; }
    return select(y, -y, x < 0.0);
}

fn k_cos(x: f32) -> f32 {
    if (k_isnan(x) || k_isinf(x)) { return k_nan(); }
    let rq = k_reduce_half_pi(x);
    let q = u32(rq.y);
    let y = select(k_cos_kernel(rq.x), k_sin_kernel(rq.x), (q & 1u) == 1u);
    return select(y, -y, q == 1u || q == 2u);
}

// tan(r) for |r| <= pi/4 by Cephes tanf's polynomial; -1/tan(r) in odd
// quadrants.
fn k_tan(x: f32) -> f32 {
    if (k_isnan(x) || k_isinf(x)) { return k_nan(); }
    let rq = k_reduce_half_pi(x);
    let r = rq.x;
    let z = r * r;
    var p = 9.38540185543e-3;
    p = p * z + 3.11992232697e-3;
    p = p * z + 2.44301354525e-2;
    p = p * z + 5.34112807005e-2;
    p = p * z + 1.33387994085e-1;
    p = p * z + 3.33331568548e-1;
    var y = r + r * z * p;
    if ((u32(rq.y) & 1u) == 1u) { y = -1.0 / y; }
    return select(y, -y, x < 0.0);
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
    return k_exp(x) - 1.0;
}

// log(1 + x): 2 atanh(s) with s = x / (2 + x) as a series near zero.
// log and log2 with NumPy's edge cases: WGSL leaves x <= 0 undefined (some
// drivers give log|x| and a finite floor), NumPy gives NaN and -inf.

fn k_log1p(x: f32) -> f32 {
    if (x < -1.0 || k_isnan(x)) { return k_nan(); }
    if (x == -1.0) { return -k_inf(); }
    // log1p(x) rounds to x below 2^-24 (and 2s would leave the normal
    // range for the tiniest x).
    if (abs(x) < 5.9604645e-8) { return x; }
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
    return k_log(1.0 + x);
}

fn k_sigmoid(x: f32) -> f32 {
    if (x >= 0.0) { return 1.0 / (1.0 + k_exp(-x)); }
    let e = k_exp(x);
    // e / (1 + e) is e itself below the smallest normal number (returned
    // as is: dividing would flush it to 0 where the adapter flushes).
    if (e < 1.17549435e-38) { return e; }
    return e / (1.0 + e);
}

fn k_tanh(x: f32) -> f32 {
    if (k_isnan(x)) { return x; }
    if (abs(x) > 20.0) { return sign(x); }
    let t = k_expm1(-2.0 * abs(x));
    return -sign(x) * t / (2.0 + t);
}

// exp(|x|) / 2, overflowing only where the result does.
fn k_exp_half(a: f32) -> f32 {
    if (a > 89.41598629223294) { return k_inf(); }
    return k_exp_scaled(a, -1);
}

fn k_sinh(x: f32) -> f32 {
    let a = abs(x);
    if (a > 88.0) { return sign(x) * k_exp_half(a); }
    let u = k_expm1(a);
    return sign(x) * 0.5 * (u + u / (u + 1.0));
}

fn k_cosh(x: f32) -> f32 {
    if (k_isnan(x)) { return x; }
    let h = k_exp_half(abs(x));
    return h + 0.25 / h;
}

fn k_asinh(x: f32) -> f32 {
    let a = abs(x);
    if (a > 1e10) { return sign(x) * (k_log(a) + 0.6931471805599453); }
    let a2 = a * a;
    return sign(x) * k_log1p(a + a2 / (1.0 + sqrt(1.0 + a2)));
}

fn k_acosh(x: f32) -> f32 {
    if (x < 1.0) { return k_nan(); }
    if (x > 1e10) { return k_log(x) + 0.6931471805599453; }
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

// erf within 3 ulp: x P(x^2) below 0.8, and 1 - exp(-x^2) R(1 / (1 + x))
// above it (erfc times exp(x^2) is smooth there), so that values near 1
// come from the small erfc; 1 from 4 on, where erf rounds to it. Both
// polynomials fitted to float64 erf by weighted least squares.
fn k_erf(x: f32) -> f32 {
    if (k_isnan(x)) { return x; }
    let a = abs(x);
    if (a < 0.8) {
        let z = x * x;
        var p = 9.242590749636292e-05;
        p = p * z - 8.320253691636026e-04;
        p = p * z + 5.214596632868052e-03;
        p = p * z - 2.6864174753427505e-02;
        p = p * z + 1.1283771693706512e-01;
        p = p * z - 3.7612637877464294e-01;
        p = p * z + 1.128379225730896;
        return x * p;
    }
    if (a >= 4.0) { return k_copysign(1.0, x); }
    let t = 1.0 / (1.0 + a);
    var r = -5.368366241455078e-01;
    r = r * t + 2.7125771045684814;
    r = r * t - 5.802453994750977;
    r = r * t + 6.623758316040039;
    r = r * t - 3.9143738746643066;
    r = r * t + 6.7074054479599e-01;
    r = r * t + 9.764783084392548e-02;
    r = r * t + 5.869530439376831e-01;
    r = r * t + 5.625564455986023e-01;
    r = r * t + 5.196412530494854e-05;
    return k_copysign(1.0 - k_exp(-(a * a)) * r, x);
}

// Giles' single-precision erfinv ("Approximating the erfinv function", 2010).
fn k_erfinv(x: f32) -> f32 {
    if (abs(x) > 1.0 || k_isnan(x)) { return k_nan(); }
    if (abs(x) == 1.0) { return x * k_inf(); }
    var w = -k_log((1.0 - x) * (1.0 + x));
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
    var a = abs(x);
    if (a == 0.0 || k_isnan(x) || k_isinf(x)) { return x; }
    // A subnormal's cube root from its bits: (b 2^-149)^(1/3) = (b / 4)^(1/3) 2^-49.
    var scale = 0;
    if (a < 1.17549435e-38) {
        a = f32(bitcast<u32>(a)) * 0.25;
        scale = -49;
    }
    var y = exp2(k_log2(a) * (1.0 / 3.0));
    y = y - (y - a / (y * y)) * (1.0 / 3.0);
    return k_copysign(ldexp(y, scale), x);
}

// log(exp(a) + exp(b)) without overflow: the larger plus log1p of the
// smaller's ratio to it; equal arguments (infinities too) add log 2.
fn k_logaddexp(a: f32, b: f32) -> f32 {
    if (k_isnan(a) || k_isnan(b)) { return k_nan(); }
    if (a == b) { return a + 0.69314718055994531; }
    return max(a, b) + k_log1p(k_exp(-abs(a - b)));
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
