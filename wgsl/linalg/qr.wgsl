// Householder QR, A = Q R, of m x n matrices. Output per matrix, m x (k + n):
// Q (m x k, k = m for the complete factorization or min(m, n) for the
// reduced one) in columns 0..k, then R (k x n, zeros below the diagonal and
// in rows k..m) in columns k..k + n. Reflectors follow LAPACK (dgeqrf):
// H = I - tau v vᵀ with v[j] = 1, chosen so that R's diagonal is -sign(a) |x|.
// Steps 0..p (p = min(m, n)) make R, steps p..2p accumulate Q; a dispatch
// runs steps first..last.
// In compact mode (m >= n, k = n: the panels of blocked QR) the output is
// instead R with the reflectors' v below the diagonal, and in columns 0..n
// the upper triangular T of the compact WY form H_0 ... H_{n-1} =
// I - V T Vᵀ (LAPACK's dlarft), built column j at step p + j.
// Parameters: [batch, m, n, k, src offset, first, last, compact]; `tau` and
// `dots` hold p scalars per matrix.
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> tau: array<f32>;
@group(0) @binding(4) var<storage, read_write> dots: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let mat = matrix_id(wid, nwg);
    if (mat >= params[0]) {
        return;
    }
    let lid = lid3.x;
    let m = params[1];
    let n = params[2];
    let k = params[3];
    let w = k + n;
    let a = mat * m * w;
    let s = params[4] + mat * m * n;
    let p = min(m, n);
    let tb = mat * p;
    // R's columns start at a + k; Q's at a.
    let first = params[5];
    let last = params[6];
    let compact = params[7] != 0u;
    if (first == 0u) {
        for (var t = lid; t < m * w; t += WG) {
            let i = t / w;
            let j = t % w;
            if (j < k) {
                out[a + t] = select(0.0, 1.0, i == j && !compact);
            } else {
                out[a + t] = src[s + i * n + (j - k)];
            }
        }
        sync();
    }
    for (var j = first; j < min(last, p); j++) {
        var part = 0.0;
        for (var i = j + 1u + lid; i < m; i += WG) {
            let v = out[a + i * w + k + j];
            part += v * v;
        }
        let sigma = wg_sum(lid, part);
        let alpha = out[a + j * w + k + j];
        var beta = alpha;
        var t = 0.0;
        var scale = 0.0;
        if (sigma > 0.0) {
            beta = -sign_or_one(alpha) * sqrt(alpha * alpha + sigma);
            t = (beta - alpha) / beta;
            scale = 1.0 / (alpha - beta);
        }
        sync();
        for (var i = j + 1u + lid; i < m; i += WG) {
            out[a + i * w + k + j] *= scale;
        }
        if (lid == 0u) {
            out[a + j * w + k + j] = beta;
            tau[tb + j] = t;
        }
        sync();
        // Apply H to the trailing columns.
        reflect(lid, a + k + j, a + k + j + 1u, n - j - 1u, j, m, w, t);
        sync();
    }
    if (compact) {
        for (var step = max(first, p); step < last; step++) {
            let j = step - p;
            // dots[i] = v_iᵀ v_j for the reflectors before j, each summed by
            // the whole workgroup (panels are tall).
            for (var i = 0u; i < j; i++) {
                var part = 0.0;
                for (var r = j + 1u + lid; r < m; r += WG) {
                    part += out[a + r * w + k + i] * out[a + r * w + k + j];
                }
                let d = out[a + j * w + k + i] + wg_sum(lid, part);
                if (lid == 0u) {
                    dots[tb + i] = d;
                }
            }
            sync();
            let tj = tau[tb + j];
            for (var i = lid; i < j; i += WG) {
                var acc = 0.0;
                for (var l = i; l < j; l++) {
                    acc += out[a + i * w + l] * dots[tb + l];
                }
                out[a + i * w + j] = -tj * acc;
            }
            if (lid == 0u) {
                out[a + j * w + j] = tj;
            }
            sync();
        }
        return;
    }
    // Q = H_0 H_1 ... H_{p-1} applied to the first k columns of I, last
    // reflector first; H_j leaves columns before j alone.
    for (var step = max(first, p); step < last; step++) {
        let j = 2u * p - 1u - step;
        let t = tau[tb + j];
        reflect(lid, a + k + j, a + j, k - j, j, m, w, t);
        sync();
    }
    if (last == 2u * p) {
        for (var t = lid; t < m * n; t += WG) {
            let i = t / n;
            let j = t % n;
            if (i > j) {
                out[a + i * w + k + j] = 0.0;
            }
        }
    }
}

// Applies H = I - t v vᵀ (v: 1 at row j, then the column starting at `v`
// below it) to the `count` columns starting at `c` (rows j..m, row stride
// w): one column per invocation when there are many columns, else each
// column by the whole workgroup (a tall panel has few columns and many
// rows).
fn reflect(lid: u32, v: u32, c: u32, count: u32, j: u32, m: u32, w: u32, t: f32) {
    let rows = m - j;
    let alone = ((count + WG - 1u) / WG) * 2u * rows;
    let together = count * (2u * ((rows + WG - 1u) / WG) + 16u);
    if (alone <= together) {
        for (var col = c + lid; col < c + count; col += WG) {
            var dot = out[col + j * w];
            for (var i = j + 1u; i < m; i++) {
                dot += out[v + i * w] * out[col + i * w];
            }
            let f = t * dot;
            out[col + j * w] -= f;
            for (var i = j + 1u; i < m; i++) {
                out[col + i * w] -= f * out[v + i * w];
            }
        }
    } else {
        for (var col = c; col < c + count; col++) {
            var part = 0.0;
            for (var i = j + 1u + lid; i < m; i += WG) {
                part += out[v + i * w] * out[col + i * w];
            }
            let f = t * (out[col + j * w] + wg_sum(lid, part));
            for (var i = j + 1u + lid; i < m; i += WG) {
                out[col + i * w] -= f * out[v + i * w];
            }
            if (lid == 0u) {
                out[col + j * w] -= f;
            }
        }
    }
    sync();
}

fn sign_or_one(x: f32) -> f32 {
    return select(1.0, -1.0, x < 0.0);
}
