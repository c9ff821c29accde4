// One-sided Jacobi for larger matrices, many workgroups per matrix: each
// round is a dispatch in which every workgroup rotates one pair of columns
// (256 invocations share its dot products and updates). Columns live as
// rows of `ut` (n x m, A's columns) and `vt` (n x n, V's columns), so that
// they are contiguous. `state` holds per matrix [rotations this sweep,
// converged] (see jacobi_sweep.wgsl); rounds of converged matrices return
// at once. Entry points: `init` (copy A, V = I), `round`, `finish`
// (U's unnormalised columns and V into the SVD kernel's output layout,
// which then normalises and completes them).
// Parameters: [batch, m, n, p, src offset, round].
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> ut: array<f32>;
@group(0) @binding(4) var<storage, read_write> vt: array<f32>;
@group(0) @binding(5) var<storage, read_write> state: array<atomic<u32>>;

const LANES: u32 = 256u;
var<workgroup> sums: array<vec3<f32>, LANES>;
var<workgroup> skip: u32;

// Every binding is named by every entry point, so they share one layout.
fn touch() {
    _ = src[0];
    _ = out[0];
    _ = ut[0];
    _ = vt[0];
    _ = atomicLoad(&state[0]);
}

@compute @workgroup_size(256)
fn init(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    touch();
    let i = gid.x + gid.y * nwg.x * LANES;
    let m = params[1];
    let n = params[2];
    let per = n * m + n * n;
    if (i >= params[0] * per) {
        return;
    }
    let mat = i / per;
    let e = i % per;
    if (e < n * m) {
        let j = e / m;
        let row = e % m;
        ut[mat * n * m + e] = src[params[4] + mat * m * n + row * n + j];
    } else {
        let f = e - n * m;
        vt[mat * n * n + f] = select(0.0, 1.0, f / n == f % n);
    }
    if (e == 0u) {
        atomicStore(&state[2u * mat], 0u);
        atomicStore(&state[2u * mat + 1u], 0u);
    }
    if (i == 0u) {
        atomicStore(&state[2u * params[0]], 0u);
    }
}

@compute @workgroup_size(256)
fn round(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    touch();
    let lid = lid3.x;
    let m = params[1];
    let n = params[2];
    let players = n + n % 2u;
    let pairs = players / 2u;
    let group = wid.x + wid.y * nwg.x;
    let mat = group / pairs;
    if (mat >= params[0]) {
        return;
    }
    let pq = round_robin(players, params[5], group % pairs);
    if (lid == 0u) {
        skip = select(0u, 1u, pq.y >= n || atomicLoad(&state[2u * mat + 1u]) != 0u);
    }
    if (workgroupUniformLoad(&skip) != 0u) {
        return;
    }
    let x = mat * n * m + pq.x * m;
    let y = mat * n * m + pq.y * m;
    var part = vec3<f32>(0.0);
    for (var i = lid; i < m; i += LANES) {
        let a = ut[x + i];
        let b = ut[y + i];
        part += vec3<f32>(a * a, b * b, a * b);
    }
    sums[lid] = part;
    workgroupBarrier();
    for (var s = LANES / 2u; s > 0u; s >>= 1u) {
        if (lid < s) {
            sums[lid] += sums[lid + s];
        }
        workgroupBarrier();
    }
    let alpha = sums[0].x;
    let beta = sums[0].y;
    let gamma = sums[0].z;
    let tol = EPS * sqrt(f32(m));
    let scale = sqrt(alpha) * sqrt(beta);
    if (!(abs(gamma) > tol * scale && abs(gamma) > 1e-37)) {
        return;
    }
    let rotation = jacobi_rotation(alpha, beta, gamma);
    let sn = rotation.y;
    let tau = rotation.z;
    for (var i = lid; i < m; i += LANES) {
        let a = ut[x + i];
        let b = ut[y + i];
        ut[x + i] = a - sn * (b + tau * a);
        ut[y + i] = b + sn * (a - tau * b);
    }
    let vx = mat * n * n + pq.x * n;
    let vy = mat * n * n + pq.y * n;
    for (var i = lid; i < n; i += LANES) {
        let a = vt[vx + i];
        let b = vt[vy + i];
        vt[vx + i] = a - sn * (b + tau * a);
        vt[vy + i] = b + sn * (a - tau * b);
    }
    if (lid == 0u && abs(gamma) > SETTLED * tol * scale) {
        atomicAdd(&state[2u * mat], 1u);
    }
}

@compute @workgroup_size(256)
fn finish(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    touch();
    let i = gid.x + gid.y * nwg.x * LANES;
    let m = params[1];
    let n = params[2];
    let p = params[3];
    let per = (m + n + 1u) * p;
    if (i >= params[0] * per) {
        return;
    }
    let mat = i / per;
    let e = i % per;
    let row = e / p;
    let col = e % p;
    var x = 0.0;
    if (row < m && col < n) {
        x = ut[mat * n * m + col * m + row];
    } else if (row >= m && row < m + n && col < n) {
        x = vt[mat * n * n + col * n + (row - m)];
    }
    out[i] = x;
}
