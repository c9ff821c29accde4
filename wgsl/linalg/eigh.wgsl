// Eigen-decomposition of symmetric n x n matrices by cyclic Jacobi
// rotations in round-robin order: each round rotates the n / 2 disjoint
// pairs at once (rows, then columns). Step s is round s % rounds of sweep
// s / rounds; a dispatch runs steps first..last. Once a whole sweep finds
// every off-diagonal element negligible the matrix is marked converged and
// later steps do nothing.
// Output per matrix, (n + 1) x n: the eigenvectors as the columns of rows
// 0..n, the eigenvalues (unsorted) in row n, written by the last step.
// `work` holds a copy of the matrix, `rot` the rotations of a round, and
// `state` [rotations this sweep, converged] per matrix.
// Parameters: [batch, n, src offset, first, last, steps].
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> work: array<f32>;
@group(0) @binding(4) var<storage, read_write> rot: array<vec2<f32>>;
@group(0) @binding(5) var<storage, read_write> state: array<u32>;

var<workgroup> rotated: atomic<u32>;
var<workgroup> done: u32;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let mat = matrix_id(wid, nwg);
    if (mat >= params[0]) {
        return;
    }
    let lid = lid3.x;
    let n = params[1];
    let players = n + n % 2u;
    let pairs = players / 2u;
    let rounds = players - 1u;
    // Lanes per pair in the rotations' updates (no more than a row has).
    let team = clamp(WG / pairs, 1u, n);
    let a = mat * n * n;
    let v = mat * (n + 1u) * n;
    let rb = mat * pairs;
    let s = params[2] + a;
    if (params[3] == 0u) {
        for (var t = lid; t < n * n; t += WG) {
            work[a + t] = src[s + t];
            out[v + t] = select(0.0, 1.0, t / n == t % n);
        }
        if (lid == 0u) {
            state[2u * mat] = 0u;
            state[2u * mat + 1u] = 0u;
        }
        sync();
    }
    for (var step = params[3]; step < params[4]; step++) {
        if (lid == 0u) {
            done = state[2u * mat + 1u];
            atomicStore(&rotated, 0u);
        }
        if (workgroupUniformLoad(&done) != 0u) {
            break;
        }
        let r = step % rounds;
        for (var t = lid; t < pairs; t += WG) {
            let pq = round_robin(players, r, t);
            var cs = vec2<f32>(1.0, 0.0);
            if (pq.y < n) {
                let app = work[a + pq.x * n + pq.x];
                let aqq = work[a + pq.y * n + pq.y];
                let apq = work[a + pq.x * n + pq.y];
                let scale = sqrt(abs(app)) * sqrt(abs(aqq));
                if (abs(apq) > EPS * scale && abs(apq) > 1e-30) {
                    cs = jacobi_rotation(app, aqq, apq).xy;
                    // Rounding keeps some pairs just above the threshold;
                    // only larger ones keep the sweeps going.
                    if (abs(apq) > SETTLED * EPS * scale) {
                        atomicAdd(&rotated, 1u);
                    }
                }
            }
            rot[rb + t] = cs;
        }
        sync();
        // Rows p and q of the matrix, then columns p and q of the matrix and
        // of the eigenvectors: a team of lanes per pair, striding over the
        // row (column) with the pair's rotation fixed.
        for (var t = lid / team; t < pairs; t += WG / team) {
            let pq = round_robin(players, r, t);
            let cs = rot[rb + t];
            if (pq.y < n && cs.y != 0.0) {
                let tau = cs.y / (1.0 + cs.x);
                let px = a + pq.x * n;
                let py = a + pq.y * n;
                for (var j = lid % team; j < n; j += team) {
                    let x = work[px + j];
                    let y = work[py + j];
                    work[px + j] = x - cs.y * (y + tau * x);
                    work[py + j] = y + cs.y * (x - tau * y);
                }
            }
        }
        sync();
        for (var t = lid / team; t < pairs; t += WG / team) {
            let pq = round_robin(players, r, t);
            let cs = rot[rb + t];
            if (pq.y < n && cs.y != 0.0) {
                let tau = cs.y / (1.0 + cs.x);
                for (var i = lid % team; i < n; i += team) {
                    let x = work[a + i * n + pq.x];
                    let y = work[a + i * n + pq.y];
                    work[a + i * n + pq.x] = x - cs.y * (y + tau * x);
                    work[a + i * n + pq.y] = y + cs.y * (x - tau * y);
                    let vx = out[v + i * n + pq.x];
                    let vy = out[v + i * n + pq.y];
                    out[v + i * n + pq.x] = vx - cs.y * (vy + tau * vx);
                    out[v + i * n + pq.y] = vy + cs.y * (vx - tau * vy);
                }
            }
        }
        if (lid == 0u) {
            let count = state[2u * mat] + atomicLoad(&rotated);
            if (r + 1u == rounds) {
                state[2u * mat] = 0u;
                state[2u * mat + 1u] = select(0u, 1u, count == 0u);
            } else {
                state[2u * mat] = count;
            }
        }
        sync();
    }
    if (params[4] == params[5]) {
        for (var i = lid; i < n; i += WG) {
            out[v + n * n + i] = work[a + i * n + i];
        }
    }
}
