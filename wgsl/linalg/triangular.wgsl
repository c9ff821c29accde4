// Solves T X = B for X, T an n x n triangular matrix (lower or upper, unit
// diagonal or not; the other triangle is not read) and B n x k. One
// invocation substitutes down (or up) one column of B, and there is no
// synchronisation: with L invocations per matrix (k, to pack tiny matrices
// into a workgroup, or whole workgroups, so that a large T stays in one
// workgroup's cache), invocation t takes column t % L of matrix t / L.
// T may be a view: its rows T row stride apart, its matrices T matrix
// stride apart (0 for one T shared by every B).
// Runs substitution steps first..last of n.
// Parameters: [batch, n, k, T offset, B offset, lower, unit, T row stride,
// T matrix stride, L, first, last].
@group(0) @binding(1) var<storage, read> tri: array<f32>;
@group(0) @binding(2) var<storage, read> rhs: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let thread = gid.x + gid.y * nwg.x * WG;
    let n = params[1];
    let k = params[2];
    let mat = thread / params[9];
    let c = thread % params[9];
    if (mat >= params[0] || c >= k) {
        return;
    }
    let rs = params[7];
    let t = params[3] + mat * params[8];
    let b = params[4] + mat * n * k;
    let x = mat * n * k;
    let lower = params[5] != 0u;
    let unit = params[6] != 0u;
    for (var step = params[10]; step < params[11]; step++) {
        let i = select(n - 1u - step, step, lower);
        var acc = rhs[b + i * k + c];
        if (lower) {
            for (var j = 0u; j < i; j++) {
                acc -= tri[t + i * rs + j] * out[x + j * k + c];
            }
        } else {
            for (var j = i + 1u; j < n; j++) {
                acc -= tri[t + i * rs + j] * out[x + j * k + c];
            }
        }
        if (!unit) {
            acc /= tri[t + i * rs + i];
        }
        out[x + i * k + c] = acc;
    }
}
