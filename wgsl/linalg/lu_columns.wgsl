// LU factorization with partial pivoting for CPU adapters (lavapipe,
// SwiftShader), whose barriers cost more than arithmetic: each invocation
// owns columns j = lid + t WG and updates them down the rows (neighbouring
// invocations touch neighbouring addresses, which the CPU's vector lanes
// load together), and one barrier per column. The owner of column k + 1
// finishes it in step k, then picks its pivot, swaps it into place and
// scales the multipliers, so the next step finds them ready.
// Same parameters and output layout as lu.wgsl: [batch, m, n, src offset,
// first, last]; column n holds the permutation, column n + 1 the pivots.
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

// Pivots column `c` of the matrix at `a` (rows `m`, row stride `w`, `n`
// columns): the largest |entry| on or below the diagonal (the first among
// equals; NaN never wins) is swapped up within the column, its row noted
// in the pivot column, and the entries below divided by it (left as they
// are when it is zero).
fn pivot_column(a: u32, m: u32, w: u32, n: u32, c: u32) {
    var best = -1.0;
    var p = c;
    for (var i = c; i < m; i++) {
        let v = abs(out[a + i * w + c]);
        if (v > best) {
            best = v;
            p = i;
        }
    }
    out[a + c * w + n + 1u] = bitcast<f32>(p);
    let pivot = out[a + p * w + c];
    out[a + p * w + c] = out[a + c * w + c];
    out[a + c * w + c] = pivot;
    let scale = select(1.0 / pivot, 1.0, pivot == 0.0);
    for (var i = c + 1u; i < m; i++) {
        out[a + i * w + c] *= scale;
    }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let mat = matrix_id(wid, nwg);
    if (mat >= params[0]) {
        return;
    }
    let lid = lid3.x;
    let m = params[1];
    let n = params[2];
    let steps = min(m, n);
    let w = n + 2u;
    let a = mat * m * w;
    let s = params[3] + mat * m * n;
    if (params[4] == 0u) {
        for (var t = lid; t < m * w; t += WG) {
            let i = t / w;
            let j = t % w;
            if (j < n) {
                out[a + t] = src[s + i * n + j];
            } else if (j == n) {
                out[a + t] = bitcast<f32>(i);
            } else {
                out[a + t] = 0.0;
            }
        }
        sync();
        if (lid == 0u && steps > 0u) {
            pivot_column(a, m, w, n, 0u);
        }
        sync();
    }
    for (var k = params[4]; k < params[5]; k++) {
        let p = bitcast<u32>(out[a + k * w + n + 1u]);
        for (var j = lid; j <= n; j += WG) {
            if (j == k) {
                continue;
            }
            let top = out[a + p * w + j];
            if (p != k) {
                out[a + p * w + j] = out[a + k * w + j];
                out[a + k * w + j] = top;
            }
            if (j > k && j < n) {
                for (var i = k + 1u; i < m; i++) {
                    out[a + i * w + j] -= out[a + i * w + k] * top;
                }
                if (j == k + 1u && j < steps) {
                    pivot_column(a, m, w, n, j);
                }
            }
        }
        sync();
    }
}
