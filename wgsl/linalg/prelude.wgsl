// Shared by the linear-algebra kernels: one workgroup per matrix, the matrix
// in storage memory, invocations striding over its rows or columns.
@group(0) @binding(0) var<storage, read> params: array<u32>;

// Invocations per workgroup (64 for small matrices, 256 for larger ones).
const WG: u32 = {{lanes}}u;
// float32 machine epsilon.
const EPS: f32 = 1.1920929e-7;
// Jacobi: how far above the rotation threshold a pair must be to need
// another sweep (rounding keeps some pairs just above it).
const SETTLED: f32 = 16.0;

var<workgroup> red: array<f32, WG>;
var<workgroup> red_idx: array<u32, WG>;

// Orders the workgroup's storage writes before its later reads.
fn sync() {
    storageBarrier();
    workgroupBarrier();
}

// The workgroup's total of `v`, given to every invocation.
fn wg_sum(lid: u32, v: f32) -> f32 {
    red[lid] = v;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            red[lid] += red[lid + s];
        }
        workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier();
    return total;
}

// The largest |v| over the workgroup, given to every invocation.
fn wg_max_abs(lid: u32, v: f32) -> f32 {
    red[lid] = abs(v);
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            red[lid] = max(red[lid], red[lid + s]);
        }
        workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier();
    return total;
}

// The index of the workgroup's largest `v` (the lowest index among equals;
// NaN loses to everything), given to every invocation.
fn wg_argmax(lid: u32, v: f32, i: u32) -> u32 {
    red[lid] = v;
    red_idx[lid] = i;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            let w = red[lid + s];
            let j = red_idx[lid + s];
            if (w > red[lid] || (w == red[lid] && j < red_idx[lid])) {
                red[lid] = w;
                red_idx[lid] = j;
            }
        }
        workgroupBarrier();
    }
    let best = red_idx[0];
    workgroupBarrier();
    return best;
}

fn nan() -> f32 {
    var bits = 0x7fc00000u;
    return bitcast<f32>(bits);
}

// The matrix this workgroup works on.
fn matrix_id(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wid.x + wid.y * nwg.x;
}

// Players `(p, q)`, p < q, of pair `t` in round `r` of a round-robin
// tournament of `N` (even) players: every pair meets once in N - 1 rounds,
// and the pairs of a round are disjoint.
fn round_robin(N: u32, r: u32, t: u32) -> vec2<u32> {
    let ring = N - 1u;
    var a = 0u;
    if (t != 0u) {
        a = 1u + (t + r) % ring;
    }
    let b = 1u + (N - 1u - t + r) % ring;
    return vec2<u32>(min(a, b), max(a, b));
}

// The rotation (c, s, s / (1 + c)) that zeroes the off-diagonal of the
// symmetric 2 x 2 matrix [[app, apq], [apq, aqq]] (for one-sided Jacobi,
// the Gram matrix of two columns): the smaller of the two angles.
fn jacobi_rotation(app: f32, aqq: f32, apq: f32) -> vec3<f32> {
    let theta = (aqq - app) / (2.0 * apq);
    var t = 1.0 / (abs(theta) + sqrt(1.0 + theta * theta));
    if (abs(theta) > 1e18) {
        t = 0.5 / abs(theta);
    }
    t = select(t, -t, theta < 0.0);
    let c = 1.0 / sqrt(1.0 + t * t);
    let s = t * c;
    return vec3<f32>(c, s, s / (1.0 + c));
}
