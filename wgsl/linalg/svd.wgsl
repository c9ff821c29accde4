// Singular value decomposition A = U S Vᵀ of m x n matrices, m >= n, by
// one-sided (Hestenes) Jacobi: pairs of columns of A are rotated, in
// round-robin order, until all are orthogonal to working precision; then
// S holds the column norms, U the normalised columns and V the product of
// the rotations. Columns of U that are zero (rank deficiency), and the
// columns n..m of a full U, are completed to an orthonormal basis.
// Steps: J = sweeps * rounds Jacobi rounds (skipped once a whole sweep
// rotates nothing), then one step of norms, then one step per column of U
// to complete; a dispatch runs steps first..last.
// Output per matrix, (m + n + 1) x p, p = m (full) or n: U in rows 0..m,
// V in rows m..m + n (columns 0..n), S (unsorted) in row m + n.
// `dots` holds p scalars per matrix, `state` [rotations this sweep,
// converged, largest singular value].
// Parameters: [batch, m, n, p, src offset, first, last, J].
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> dots: array<f32>;
@group(0) @binding(4) var<storage, read_write> state: array<u32>;

var<workgroup> rotated: atomic<u32>;
var<workgroup> flag: u32;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let mat = matrix_id(wid, nwg);
    if (mat >= params[0]) {
        return;
    }
    let lid = lid3.x;
    let m = params[1];
    let n = params[2];
    let p = params[3];
    let first = params[5];
    let last = params[6];
    let jacobi = params[7];
    let u = mat * (m + n + 1u) * p;
    let vb = u + m * p;
    let sb = vb + n * p;
    let st = mat * 3u;
    let s = params[4] + mat * m * n;
    let players = n + n % 2u;
    let pairs = players / 2u;
    let rounds = players - 1u;
    let tol = EPS * sqrt(f32(m));
    if (first == 0u) {
        for (var t = lid; t < (m + n + 1u) * p; t += WG) {
            let i = t / p;
            let j = t % p;
            var x = 0.0;
            if (i < m && j < n) {
                x = src[s + i * n + j];
            } else if (i >= m && i < m + n) {
                x = select(0.0, 1.0, i - m == j);
            }
            out[u + t] = x;
        }
        if (lid == 0u) {
            state[st] = 0u;
            state[st + 1u] = 0u;
        }
        sync();
    }
    for (var step = first; step < min(last, jacobi); step++) {
        if (lid == 0u) {
            flag = state[st + 1u];
            atomicStore(&rotated, 0u);
        }
        if (workgroupUniformLoad(&flag) != 0u) {
            break;
        }
        let r = step % rounds;
        for (var t = lid; t < pairs; t += WG) {
            let pq = round_robin(players, r, t);
            if (pq.y < n) {
                var alpha = 0.0;
                var beta = 0.0;
                var gamma = 0.0;
                for (var i = 0u; i < m; i++) {
                    let x = out[u + i * p + pq.x];
                    let y = out[u + i * p + pq.y];
                    alpha += x * x;
                    beta += y * y;
                    gamma += x * y;
                }
                let scale = sqrt(alpha) * sqrt(beta);
                if (abs(gamma) > tol * scale && abs(gamma) > 1e-37) {
                    // Rotations in Rutishauser's form, x - s (y + tau x): tiny
                    // late rotations then add rounding of their own size only.
                    let rotation = jacobi_rotation(alpha, beta, gamma);
                    let sn = rotation.y;
                    let tau = rotation.z;
                    for (var i = 0u; i < m; i++) {
                        let x = out[u + i * p + pq.x];
                        let y = out[u + i * p + pq.y];
                        out[u + i * p + pq.x] = x - sn * (y + tau * x);
                        out[u + i * p + pq.y] = y + sn * (x - tau * y);
                    }
                    for (var i = 0u; i < n; i++) {
                        let x = out[vb + i * p + pq.x];
                        let y = out[vb + i * p + pq.y];
                        out[vb + i * p + pq.x] = x - sn * (y + tau * x);
                        out[vb + i * p + pq.y] = y + sn * (x - tau * y);
                    }
                    // Rounding keeps some pairs just above the threshold;
                    // only larger ones keep the sweeps going.
                    if (abs(gamma) > SETTLED * tol * scale) {
                        atomicAdd(&rotated, 1u);
                    }
                }
            }
        }
        sync();
        if (lid == 0u) {
            let count = state[st] + atomicLoad(&rotated);
            if (r + 1u == rounds) {
                state[st] = 0u;
                state[st + 1u] = select(0u, 1u, count == 0u);
            } else {
                state[st] = count;
            }
        }
        sync();
    }
    if (first <= jacobi && jacobi < last) {
        // Column norms, then normalised columns.
        var largest = 0.0;
        for (var j = lid; j < n; j += WG) {
            var norm = 0.0;
            for (var i = 0u; i < m; i++) {
                let x = out[u + i * p + j];
                norm += x * x;
            }
            norm = sqrt(norm);
            out[sb + j] = norm;
            largest = max(largest, norm);
        }
        let smax = wg_max_abs(lid, largest);
        if (lid == 0u) {
            state[st + 2u] = bitcast<u32>(smax);
        }
        sync();
        for (var e = lid; e < m * n; e += WG) {
            let i = e / n;
            let j = e % n;
            let norm = out[sb + j];
            var x = 0.0;
            if (norm > smax * 1e-30 && norm > 0.0) {
                x = out[u + i * p + j] / norm;
            }
            out[u + i * p + j] = x;
        }
        for (var j = n + lid; j < p; j += WG) {
            out[sb + j] = 0.0;
        }
        sync();
    }
    // Complete U: each missing column becomes the projection of the unit
    // vector best kept by the projector onto the complement of the columns
    // so far, orthogonalised twice and normalised.
    let smax = bitcast<f32>(state[st + 2u]);
    for (var step = max(first, jacobi + 1u); step < last; step++) {
        let c = step - jacobi - 1u;
        if (lid == 0u) {
            var missing = 1u;
            if (c < n) {
                let norm = out[sb + c];
                missing = select(0u, 1u, !(norm > smax * 1e-30 && norm > 0.0));
            }
            flag = missing;
        }
        if (workgroupUniformLoad(&flag) == 0u) {
            continue;
        }
        var best = -1.0;
        var at = 0u;
        for (var i = lid; i < m; i += WG) {
            var kept = 1.0;
            for (var j = 0u; j < p; j++) {
                let x = out[u + i * p + j];
                kept -= x * x;
            }
            if (kept > best) {
                best = kept;
                at = i;
            }
        }
        let e = wg_argmax(lid, best, at);
        for (var i = lid; i < m; i += WG) {
            var x = select(0.0, 1.0, i == e);
            for (var j = 0u; j < p; j++) {
                if (j != c) {
                    x -= out[u + e * p + j] * out[u + i * p + j];
                }
            }
            out[u + i * p + c] = x;
        }
        sync();
        // Orthogonalise again against the other columns.
        for (var j = lid; j < p; j += WG) {
            var dot = 0.0;
            if (j != c) {
                for (var i = 0u; i < m; i++) {
                    dot += out[u + i * p + j] * out[u + i * p + c];
                }
            }
            dots[mat * p + j] = dot;
        }
        sync();
        var part = 0.0;
        for (var i = lid; i < m; i += WG) {
            var x = out[u + i * p + c];
            for (var j = 0u; j < p; j++) {
                x -= dots[mat * p + j] * out[u + i * p + j];
            }
            out[u + i * p + c] = x;
            part += x * x;
        }
        let norm = sqrt(wg_sum(lid, part));
        for (var i = lid; i < m; i += WG) {
            out[u + i * p + c] /= norm;
        }
        sync();
    }
}
