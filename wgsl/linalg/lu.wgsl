// LU factorization with partial pivoting, P A = L U, of n x n matrices.
// Output per matrix, (n + 2) x n: rows 0..n hold L (unit diagonal, below)
// and U (on and above the diagonal); row n the permutation (perm[i] = the
// row of A at row i of P A) and row n + 1 the LAPACK pivots (row k was
// swapped with row piv[k] at step k), both as int32 bits.
// A zero pivot leaves its column as it is (U gets a zero diagonal).
// Runs steps first..last of n (a dispatch covers a few, so that no loop
// runs too long); the first copies the input.
// Parameters: [batch, n, src offset, first, last].
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let mat = matrix_id(wid, nwg);
    if (mat >= params[0]) {
        return;
    }
    let lid = lid3.x;
    let n = params[1];
    let a = mat * (n + 2u) * n;
    let s = params[2] + mat * n * n;
    if (params[3] == 0u) {
        for (var i = lid; i < n * n; i += WG) {
            out[a + i] = src[s + i];
        }
        for (var i = lid; i < n; i += WG) {
            out[a + n * n + i] = bitcast<f32>(i);
        }
        sync();
    }
    for (var k = params[3]; k < params[4]; k++) {
        var best = -1.0;
        var at = k;
        for (var i = k + lid; i < n; i += WG) {
            let v = abs(out[a + i * n + k]);
            if (v > best) {
                best = v;
                at = i;
            }
        }
        let p = wg_argmax(lid, best, at);
        if (p != k) {
            for (var j = lid; j < n; j += WG) {
                let t = out[a + k * n + j];
                out[a + k * n + j] = out[a + p * n + j];
                out[a + p * n + j] = t;
            }
        }
        if (lid == 0u) {
            let row = a + n * n;
            let t = out[row + k];
            out[row + k] = out[row + p];
            out[row + p] = t;
            out[row + n + k] = bitcast<f32>(p);
        }
        sync();
        let pivot = out[a + k * n + k];
        let scale = select(1.0 / pivot, 1.0, pivot == 0.0);
        for (var i = k + 1u + lid; i < n; i += WG) {
            out[a + i * n + k] *= scale;
        }
        sync();
        let r = n - k - 1u;
        for (var t = lid; t < r * r; t += WG) {
            let i = k + 1u + t / r;
            let j = k + 1u + t % r;
            out[a + i * n + j] -= out[a + i * n + k] * out[a + k * n + j];
        }
        sync();
    }
}
