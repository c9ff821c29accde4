// Softmax (or log-softmax) of contiguous rows of length K, K a multiple of
// 4 and at most 16 values per lane (1024 with 64 lanes per row, 256 with
// 16): `row_lanes` lanes per row (64 / row_lanes rows
// per workgroup), each lane holding up to four vec4 of the row in
// registers, so the row is read from memory once and written once (on an
// H100, 16384 rows of 1024 at 2.3 TB/s, against 1.5 for the three sweeps
// of `softmax.wgsl`; short rows, as attention's, fill lanes that a thread
// per row would leave idle). Same results as `softmax.wgsl`, with the same
// NaN and infinity rules.
//
// Parameters: [rows, K, offset] (offset a multiple of 4). Filled in:
// `math`, `log` (true for log-softmax), `row_lanes` (16 or 64).
@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

{{math}}

const LOG: bool = {{log}};
const LANES: u32 = {{row_lanes}}u;
const ROWS_PER_GROUP: u32 = 64u / LANES;
const PER_LANE: u32 = 4u;

var<workgroup> partial: array<f32, 64>;

fn max4_or_nan(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
    return select(select(max(a, b), b, k_isnan4(b)), a, k_isnan4(a));
}

// exp of values shifted by the row's max (at most 0 or NaN), or by 0
// where log-softmax's max is not finite (`any_sign`).
fn exp4(v: vec4<f32>, any_sign: bool) -> vec4<f32> {
    if (any_sign) {
        return vec4(k_exp(v.x), k_exp(v.y), k_exp(v.z), k_exp(v.w));
    }
    return k_exp4_nonpositive(v);
}

// The combination over the row's lanes (max when `is_max`, else sum),
// returned to every lane of the row. Every lane of the workgroup calls it.
fn row_total(lid: u32, v: f32, is_max: bool) -> f32 {
    let lane = lid % LANES;
    partial[lid] = v;
    workgroupBarrier();
    for (var s = LANES / 2u; s > 0u; s >>= 1u) {
        if (lane < s) {
            if (is_max) {
                partial[lid] = k_max_or_nan(partial[lid], partial[lid + s]);
            } else {
                partial[lid] += partial[lid + s];
            }
        }
        workgroupBarrier();
    }
    let t = partial[lid - lane];
    workgroupBarrier();
    return t;
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    // Lanes past the last row stay for the barriers with no values.
    let row = (wid.x + wid.y * nwg.x) * ROWS_PER_GROUP + lid.x / LANES;
    let lane = lid.x % LANES;
    let k4 = select(0u, params[1] / 4u, row < params[0]);
    let base = params[2] / 4u + row * k4;
    let out_base = row * k4;
    var x: array<vec4<f32>, PER_LANE>;
    var m4 = vec4(-k_inf());
    for (var j = 0u; j < PER_LANE; j++) {
        let k = lane + j * LANES;
        if (k < k4) {
            x[j] = src[base + k];
            m4 = max4_or_nan(m4, x[j]);
        }
    }
    let m = row_total(lid.x, k_max_or_nan(k_max_or_nan(m4.x, m4.y), k_max_or_nan(m4.z, m4.w)), true);
    var shift = m;
    if (LOG && (k_isnan(m) || k_isinf(m))) {
        shift = 0.0;
    }
    var s4 = vec4(0.0);
    for (var j = 0u; j < PER_LANE; j++) {
        if (lane + j * LANES < k4) {
            x[j] -= shift;
            let e = exp4(x[j], shift != m);
            s4 += e;
            if (!LOG) {
                x[j] = e;
            }
        }
    }
    let total = row_total(lid.x, (s4.x + s4.y) + (s4.z + s4.w), false);
    let log_total = k_log(total);
    for (var j = 0u; j < PER_LANE; j++) {
        let k = lane + j * LANES;
        if (k < k4) {
            if (LOG) {
                dst[out_base + k] = x[j] - log_total;
            } else {
                dst[out_base + k] = x[j] / total;
            }
        }
    }
}
