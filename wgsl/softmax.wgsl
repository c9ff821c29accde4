// Softmax (or log-softmax) along contiguous rows of length K: one
// workgroup of 64 lanes per row sweeps it three times (max, sum of
// exponentials, output); a row is read from memory once and re-read from
// cache. Short rows take `by_thread`: one thread per row, no barriers
// (which cost more than such a row's work, and far more on CPU adapters).
// Rows that `softmax_vec4.wgsl` holds in registers go there.
//
// softmax:     exp(x - m) / sum(exp(x - m)), m the row's max (NaN if any is)
// log-softmax: (x - s) - log(sum(exp(x - s))), s = m where m is finite, else 0
//
// Parameters: [rows, K, offset]. Filled in: `math`, `log` (true for
// log-softmax).
@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

{{math}}

const LOG: bool = {{log}};

var<workgroup> partial: array<f32, 64>;

fn shift_of(m: f32) -> f32 {
    if (LOG && (k_isnan(m) || k_isinf(m))) {
        return 0.0;
    }
    return m;
}

// exp(v) of element k, which softmax keeps in `dst` until it divides it
// by the total (each lane reads back only what it wrote: one exp per
// element).
fn exp_kept(row: u32, k: u32, v: f32) -> f32 {
    let e = k_exp(v);
    if (!LOG) {
        dst[row * params[1] + k] = e;
    }
    return e;
}

fn store(row: u32, k: u32, v: f32, total: f32, log_total: f32) {
    if (LOG) {
        dst[row * params[1] + k] = v - log_total;
    } else {
        dst[row * params[1] + k] = dst[row * params[1] + k] / total;
    }
}

@compute @workgroup_size(256)
fn by_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = gid.x + gid.y * nwg.x * 256u;
    if (row >= params[0]) {
        return;
    }
    let k_len = params[1];
    let base = params[2] + row * k_len;
    var m = -k_inf();
    for (var k = 0u; k < k_len; k++) {
        m = k_max_or_nan(m, src[base + k]);
    }
    let shift = shift_of(m);
    var total = 0.0;
    for (var k = 0u; k < k_len; k++) {
        total += exp_kept(row, k, src[base + k] - shift);
    }
    let log_total = k_log(total);
    for (var k = 0u; k < k_len; k++) {
        store(row, k, src[base + k] - shift, total, log_total);
    }
}

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = wid.x + wid.y * nwg.x;
    if (row >= params[0]) {
        return;
    }
    let k_len = params[1];
    let base = params[2] + row * k_len;
    var m = -k_inf();
    var k = lid.x;
    // Four independent loads in flight per thread, then the rest one by one.
    for (; k + 192u < k_len; k += 256u) {
        let a = k_max_or_nan(src[base + k], src[base + k + 64u]);
        let b = k_max_or_nan(src[base + k + 128u], src[base + k + 192u]);
        m = k_max_or_nan(m, k_max_or_nan(a, b));
    }
    for (; k < k_len; k += 64u) {
        m = k_max_or_nan(m, src[base + k]);
    }
    partial[lid.x] = m;
    workgroupBarrier();
    for (var s = 32u; s > 0u; s >>= 1u) {
        if (lid.x < s) {
            partial[lid.x] = k_max_or_nan(partial[lid.x], partial[lid.x + s]);
        }
        workgroupBarrier();
    }
    m = partial[0];
    workgroupBarrier();
    let shift = shift_of(m);
    var total = 0.0;
    k = lid.x;
    for (; k + 192u < k_len; k += 256u) {
        let a = exp_kept(row, k, src[base + k] - shift) + exp_kept(row, k + 64u, src[base + k + 64u] - shift);
        let b = exp_kept(row, k + 128u, src[base + k + 128u] - shift) + exp_kept(row, k + 192u, src[base + k + 192u] - shift);
        total += a + b;
    }
    for (; k < k_len; k += 64u) {
        total += exp_kept(row, k, src[base + k] - shift);
    }
    partial[lid.x] = total;
    workgroupBarrier();
    for (var s = 32u; s > 0u; s >>= 1u) {
        if (lid.x < s) {
            partial[lid.x] += partial[lid.x + s];
        }
        workgroupBarrier();
    }
    total = partial[0];
    let log_total = k_log(total);
    for (k = lid.x; k < k_len; k += 64u) {
        store(row, k, src[base + k] - shift, total, log_total);
    }
}
