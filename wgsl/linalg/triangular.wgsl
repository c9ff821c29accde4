// Solves T X = B for X, T an n x n triangular matrix (lower or upper, unit
// diagonal or not; the other triangle is not read) and B n x k. One
// invocation substitutes down (or up) one column of B, so a workgroup
// covers WG columns and there is no synchronisation.
// Runs substitution steps first..last of n.
// Parameters: [batch, n, k, T offset, B offset, lower, unit, workgroups per
// matrix, first, last].
@group(0) @binding(1) var<storage, read> tri: array<f32>;
@group(0) @binding(2) var<storage, read> rhs: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let group = matrix_id(wid, nwg);
    let per = params[7];
    let mat = group / per;
    let n = params[1];
    let k = params[2];
    let c = (group % per) * WG + lid3.x;
    if (mat >= params[0] || c >= k) {
        return;
    }
    let t = params[3] + mat * n * n;
    let b = params[4] + mat * n * k;
    let x = mat * n * k;
    let lower = params[5] != 0u;
    let unit = params[6] != 0u;
    for (var step = params[8]; step < params[9]; step++) {
        let i = select(n - 1u - step, step, lower);
        var acc = rhs[b + i * k + c];
        if (lower) {
            for (var j = 0u; j < i; j++) {
                acc -= tri[t + i * n + j] * out[x + j * k + c];
            }
        } else {
            for (var j = i + 1u; j < n; j++) {
                acc -= tri[t + i * n + j] * out[x + j * k + c];
            }
        }
        if (!unit) {
            acc /= tri[t + i * n + i];
        }
        out[x + i * k + c] = acc;
    }
}
