// LU factorization with partial pivoting, P A = L U, of m x n matrices.
// Output per matrix, m x (n + 2): L (unit diagonal, below) and U (on and
// above the diagonal) in columns 0..n; in column n the permutation
// (perm[i] = the row of A at row i of P A) and in column n + 1 the LAPACK
// pivots (row k was swapped with row piv[k] at step k; rows 0..min(m, n)),
// both as int32 bits. A zero pivot leaves its column as it is (U gets a
// zero diagonal). Runs steps first..last of min(m, n) (a dispatch covers a
// few, so that no loop runs too long); the first copies the input.
// Parameters: [batch, m, n, src offset, first, last].
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let mat = matrix_id(wid, nwg);
    if (mat >= params[0]) {
        return;
    }
    let lid = lid3.x;
    let m = params[1];
    let n = params[2];
    let w = n + 2u;
    let a = mat * m * w;
    let s = params[3] + mat * m * n;
    if (params[4] == 0u) {
        lu_copy_input(a, s, m, n, lid, WG);
        sync();
    }
    for (var k = params[4]; k < params[5]; k++) {
        var best = -1.0;
        var at = k;
        for (var i = k + lid; i < m; i += WG) {
            let v = abs(out[a + i * w + k]);
            if (v > best) {
                best = v;
                at = i;
            }
        }
        let p = wg_argmax(lid, best, at);
        if (p != k) {
            for (var j = lid; j <= n; j += WG) {
                let t = out[a + k * w + j];
                out[a + k * w + j] = out[a + p * w + j];
                out[a + p * w + j] = t;
            }
        }
        if (lid == 0u) {
            out[a + k * w + n + 1u] = bitcast<f32>(p);
        }
        sync();
        let pivot = out[a + k * w + k];
        let scale = select(1.0 / pivot, 1.0, pivot == 0.0);
        for (var i = k + 1u + lid; i < m; i += WG) {
            out[a + i * w + k] *= scale;
        }
        sync();
        let rows = m - k - 1u;
        let cols = n - k - 1u;
        for (var t = lid; t < rows * cols; t += WG) {
            let i = k + 1u + t / cols;
            let j = k + 1u + t % cols;
            out[a + i * w + j] -= out[a + i * w + k] * out[a + k * w + j];
        }
        sync();
    }
}
