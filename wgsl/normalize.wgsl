// Normalisation along contiguous rows of length K, and its derivative.
// Forward: y = (x - m) r with m the row's mean and r = 1 / sqrt(mean((x -
// m)^2) + eps); with RMS, m = 0. Derivative applied to g (the Jacobian is
// symmetric, so this serves both autodiff modes):
// r (g - mean(g) - y mean(g y)), without the mean(g) term for RMS.
// A row is read from memory once and re-read from cache, by one workgroup,
// or for short rows by one thread (no barriers, which cost more than such
// a row's work).
//
// Parameters: [rows, K, x offset, g offset, eps as f32 bits]. Filled in:
// `rms`, `grad` (true for the derivative), `bindings` (of `dst`, and of
// `gin` for the derivative), `load_g` (of `at`); by workgroup or by
// thread: `workgroup_size`, `row` (of the builtins), `lane` and `lanes`
// (the first element a lane visits and the stride), `row_total` (the sum
// of `v` over the lanes).
@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> src: array<f32>;
{{bindings}}

const RMS: bool = {{rms}};
const GRAD: bool = {{grad}};

var<workgroup> partial: array<f32, {{workgroup_size}}>;

fn load_g(at: u32) -> f32 {
    return {{load_g}};
}

// Every lane of a row calls it.
fn row_total(lid: u32, v: f32) -> f32 {
    {{row_total}}
}

@compute @workgroup_size({{workgroup_size}})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = {{row}};
    if (row >= params[0]) {
        return;
    }
    let k_len = params[1];
    let n = f32(k_len);
    let base = params[2] + row * k_len;
    let g_base = params[3] + row * k_len;
    var m = 0.0;
    if (!RMS) {
        var s = 0.0;
        for (var k = {{lane}}; k < k_len; k += {{lanes}}) {
            s += src[base + k];
        }
        m = row_total(lid.x, s) / n;
    }
    var squares = 0.0;
    for (var k = {{lane}}; k < k_len; k += {{lanes}}) {
        let d = src[base + k] - m;
        squares += d * d;
    }
    let r = 1.0 / sqrt(row_total(lid.x, squares) / n + bitcast<f32>(params[4]));
    if (GRAD) {
        var g_sum = 0.0;
        var gy_sum = 0.0;
        for (var k = {{lane}}; k < k_len; k += {{lanes}}) {
            let g = load_g(g_base + k);
            g_sum += g;
            gy_sum += g * (src[base + k] - m) * r;
        }
        let g_mean = select(row_total(lid.x, g_sum) / n, 0.0, RMS);
        let gy_mean = row_total(lid.x, gy_sum) / n;
        for (var k = {{lane}}; k < k_len; k += {{lanes}}) {
            let y = (src[base + k] - m) * r;
            dst[row * k_len + k] = r * (load_g(g_base + k) - g_mean - y * gy_mean);
        }
    } else {
        for (var k = {{lane}}; k < k_len; k += {{lanes}}) {
            dst[row * k_len + k] = (src[base + k] - m) * r;
        }
    }
}
