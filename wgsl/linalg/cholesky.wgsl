// Cholesky factorization A = L Lᵀ of symmetric positive definite n x n
// matrices, reading the lower triangle. Output: L (zeros above). A pivot
// that is not positive makes NaN, which spreads to the rest of the factor.
// Runs steps first..last of n; the first copies the input.
// Parameters: [batch, n, src offset, first, last].
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let mat = matrix_id(wid, nwg);
    if (mat >= params[0]) {
        return;
    }
    let lid = lid3.x;
    let n = params[1];
    let a = mat * n * n;
    let s = params[2] + a;
    if (params[3] == 0u) {
        for (var t = lid; t < n * n; t += WG) {
            out[a + t] = select(0.0, src[s + t], t / n >= t % n);
        }
        sync();
    }
    for (var k = params[3]; k < params[4]; k++) {
        let d = out[a + k * n + k];
        let l = select(nan(), sqrt(d), d > 0.0);
        sync();
        if (lid == 0u) {
            out[a + k * n + k] = l;
        }
        for (var i = k + 1u + lid; i < n; i += WG) {
            out[a + i * n + k] /= l;
        }
        sync();
        let r = n - k - 1u;
        for (var t = lid; t < r * r; t += WG) {
            let i = k + 1u + t / r;
            let j = k + 1u + t % r;
            if (j <= i) {
                out[a + i * n + j] -= out[a + i * n + k] * out[a + j * n + k];
            }
        }
        sync();
    }
}
