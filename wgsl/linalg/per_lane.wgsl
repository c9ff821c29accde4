// Stacks of tiny matrices, a matrix per invocation (a workgroup per matrix
// would leave most of its lanes idle and pay a barrier per step): the same
// steps, packed outputs and non-finite results as lu.wgsl, cholesky.wgsl
// and eigh.wgsl, in one dispatch. Parameters as those kernels' (their step
// ranges unused), but eigh's.
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

// The matrix of invocation `gid` in a grid folded as `grid` folds it.
fn lane_matrix(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * WG;
}

// LU with partial pivoting of an m x n matrix into m x (n + 2):
// [batch, m, n, src offset, ..].
@compute @workgroup_size(WG)
fn lu(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let mat = lane_matrix(gid, nwg);
    if (mat >= params[0]) {
        return;
    }
    let m = params[1];
    let n = params[2];
    let w = n + 2u;
    let a = mat * m * w;
    let s = params[3] + mat * m * n;
    lu_copy_input(a, s, m, n, 0u, 1u);
    for (var k = 0u; k < min(m, n); k++) {
        let p = pivot_row(a, m, w, k);
        out[a + k * w + n + 1u] = bitcast<f32>(p);
        if (p != k) {
            for (var j = 0u; j <= n; j++) {
                swap_rows(a, w, j, k, p);
            }
        }
        let pivot = out[a + k * w + k];
        let scale = select(1.0 / pivot, 1.0, pivot == 0.0);
        for (var i = k + 1u; i < m; i++) {
            let l = out[a + i * w + k] * scale;
            out[a + i * w + k] = l;
            for (var j = k + 1u; j < n; j++) {
                out[a + i * w + j] -= l * out[a + k * w + j];
            }
        }
    }
}

// Cholesky factor of an n x n matrix's lower triangle (zeros above; a
// pivot that is not positive makes NaN, which spreads): [batch, n, src
// offset, ..].
@compute @workgroup_size(WG)
fn cholesky(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let mat = lane_matrix(gid, nwg);
    if (mat >= params[0]) {
        return;
    }
    let n = params[1];
    let a = mat * n * n;
    let s = params[2] + a;
    for (var t = 0u; t < n * n; t++) {
        out[a + t] = select(0.0, src[s + t], t / n >= t % n);
    }
    for (var k = 0u; k < n; k++) {
        let d = out[a + k * n + k];
        let l = select(nan(), sqrt(d), d > 0.0);
        out[a + k * n + k] = l;
        for (var i = k + 1u; i < n; i++) {
            out[a + i * n + k] /= l;
        }
        for (var i = k + 1u; i < n; i++) {
            for (var j = k + 1u; j <= i; j++) {
                out[a + i * n + j] -= out[a + i * n + k] * out[a + j * n + k];
            }
        }
    }
}

// The largest n, and its square (the private copies of A and V).
const MAXN: u32 = {{maxn}}u;
const MAXN2: u32 = MAXN * MAXN;

// Eigen-decomposition of a symmetric n x n matrix by cyclic Jacobi in the
// round-robin order of eigh.wgsl (the disjoint pairs of a round rotated one
// after another, which is the same arithmetic), at most `sweeps` sweeps,
// ending after one that rotates nothing: [batch, n, src offset, sweeps].
// Output (n + 1) x n: the eigenvectors as columns, then the eigenvalues
// (unsorted).
@compute @workgroup_size(WG)
fn eigh(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let mat = lane_matrix(gid, nwg);
    if (mat >= params[0]) {
        return;
    }
    let n = params[1];
    let s = params[2] + mat * n * n;
    let v = mat * (n + 1u) * n;
    var w: array<f32, MAXN2>;
    var e: array<f32, MAXN2>;
    for (var t = 0u; t < n * n; t++) {
        w[t] = src[s + t];
        e[t] = select(0.0, 1.0, t / n == t % n);
    }
    let players = n + n % 2u;
    let pairs = players / 2u;
    let rounds = max(players - 1u, 1u);
    for (var sweep = 0u; sweep < params[3]; sweep++) {
        var rotated = 0u;
        for (var r = 0u; r < rounds; r++) {
            for (var t = 0u; t < pairs; t++) {
                let pq = round_robin(players, r, t);
                let p = pq.x;
                let q = pq.y;
                if (q >= n) {
                    continue;
                }
                let app = w[p * n + p];
                let aqq = w[q * n + q];
                let apq = w[p * n + q];
                let scale = sqrt(abs(app)) * sqrt(abs(aqq));
                if (!(abs(apq) > EPS * scale && abs(apq) > 1e-30)) {
                    continue;
                }
                let cs = jacobi_rotation(app, aqq, apq);
                if (abs(apq) > SETTLED * EPS * scale) {
                    rotated++;
                }
                if (cs.y == 0.0) {
                    continue;
                }
                let tau = cs.y / (1.0 + cs.x);
                for (var j = 0u; j < n; j++) {
                    let x = w[p * n + j];
                    let y = w[q * n + j];
                    w[p * n + j] = x - cs.y * (y + tau * x);
                    w[q * n + j] = y + cs.y * (x - tau * y);
                }
                for (var i = 0u; i < n; i++) {
                    let x = w[i * n + p];
                    let y = w[i * n + q];
                    w[i * n + p] = x - cs.y * (y + tau * x);
                    w[i * n + q] = y + cs.y * (x - tau * y);
                    let vx = e[i * n + p];
                    let vy = e[i * n + q];
                    e[i * n + p] = vx - cs.y * (vy + tau * vx);
                    e[i * n + q] = vy + cs.y * (vx - tau * vy);
                }
            }
        }
        if (rotated == 0u) {
            break;
        }
    }
    for (var t = 0u; t < n * n; t++) {
        out[v + t] = e[t];
    }
    for (var i = 0u; i < n; i++) {
        out[v + n * n + i] = w[i * n + i];
    }
}
