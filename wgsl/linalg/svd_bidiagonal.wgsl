// Singular value decomposition A = U S Vᵀ of m x n matrices, m >= n,
// n <= MAXN, in two stages, one workgroup per matrix: Householder reduction
// to an upper bidiagonal B = Qᵀ A P (LAPACK's gebd2), U = Q's first p
// columns and V = P accumulated from the reflectors, then implicitly
// shifted QR sweeps on B (Golub and Kahan, as Numerical Recipes' svdcmp),
// whose rotations turn U's and V's columns into the singular vectors.
// Steps; a dispatch runs first..last:
//   0..n          left reflector k = step on column k, then right reflector
//                 on row k, both applied to the rest of A;
//   n             d and e of the bidiagonal into `aux`, U = I, V = I;
//   n+1..2n       left reflector k = 2n - step applied to U (last first);
//   2n+1..3n-1    right reflector k = 3n - 1 - step applied to V;
//   3n..3n+C      QR sweeps, as many as a chunk's loop-trip budget allows
//                 (C chunks allow SWEEPS sweeps per singular value);
//   3n+C          the singular values out.
// Output per matrix, (m + n + 1) x p, p = m (full) or n: U in rows 0..m, V
// in rows m..m + n (columns 0..n), S (unsorted, >= 0) in row m + n. `work`
// holds A as it is reduced (reflectors below the diagonal and right of the
// superdiagonal), `aux` d, e and both reflectors' tau, n each; `state` the
// QR sweeps' progress.
// Parameters: [batch, m, n, p, src offset, first, last, C].
// td, te (two_stage.wgsl): the bidiagonal, te[i] coupling i - 1 and i
// (te[0] = 0).

// One iteration's rotations: cancelling te[l] (U's columns l - 1 and i, by
// i), then the sweep (V's and U's columns j and j + 1, by j).
var<workgroup> cancel_c: array<f32, MAXN>;
var<workgroup> cancel_s: array<f32, MAXN>;
var<workgroup> v_c: array<f32, MAXN>;
var<workgroup> v_s: array<f32, MAXN>;
var<workgroup> u_c: array<f32, MAXN>;
var<workgroup> u_s: array<f32, MAXN>;
// The sweeps' progress: the singular value being found (k, from the last;
// its sweeps in sweeps_done), and the scale of negligible couplings.
var<workgroup> qr_k: u32;
var<workgroup> qr_norm: f32;
// What one iteration does, for every lane: cancelled columns l..cancel_end
// (none when equal), the sweep's columns l..sweep_end, the column to negate
// (n for none); `qr_l` is n once every value is found.
var<workgroup> qr_l: u32;
var<workgroup> cancel_end: u32;
var<workgroup> sweep_end: u32;
var<workgroup> negate: u32;

// Whether |x| is negligible beside `norm`.
fn negligible(x: f32, norm: f32) -> bool {
    return abs(x) <= 0.5 * EPS * norm;
}

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
    let chunks = params[7];
    let a = mat * m * n;
    let u = mat * (m + n + 1u) * p;
    let vb = u + m * p;
    let sb = vb + n * p;
    let d_at = mat * 4u * n;
    let e_at = d_at + n;
    let tauq_at = e_at + n;
    let taup_at = tauq_at + n;
    let st = mat * 3u;
    let qr_first = 3u * n;
    if (first == 0u) {
        copy_input(lid, a, params[4] + a, m * n);
    }
    // The bidiagonal and the sweeps' progress, unless this dispatch finds
    // them (step n).
    if (first > n && last > qr_first) {
        load_diagonals(lid, n, d_at, e_at);
        if (lid == 0u) {
            qr_k = state[st];
            sweeps_done = state[st + 1u];
            qr_norm = bitcast<f32>(state[st + 2u]);
        }
        workgroupBarrier();
    }
    for (var step = first; step < last; step++) {
        if (step < n) {
            let k = step;
            // Left: zero column k below the diagonal; A <- H A on columns
            // k + 1.., a lane per column.
            let left = reflector(lid, a + k * n + k, m - k, n);
            sync();
            for (var j = k + 1u + lid; j < n; j += WG) {
                var w = work[a + k * n + j];
                for (var i = k + 1u; i < m; i++) {
                    w += work[a + i * n + k] * work[a + i * n + j];
                }
                w *= left.x;
                work[a + k * n + j] -= w;
                for (var i = k + 1u; i < m; i++) {
                    work[a + i * n + j] -= w * work[a + i * n + k];
                }
            }
            sync();
            // Right: zero row k right of the superdiagonal; A <- A G on rows
            // k + 1.., a lane per row.
            var right = vec2<f32>(0.0, 0.0);
            if (k + 1u < n) {
                right = reflector(lid, a + k * n + k + 1u, n - k - 1u, 1u);
                sync();
                for (var j = k + 1u + lid; j < n; j += WG) {
                    hv[j] = select(work[a + k * n + j], 1.0, j == k + 1u);
                }
                workgroupBarrier();
                for (var i = k + 1u + lid; i < m; i += WG) {
                    var w = 0.0;
                    for (var j = k + 1u; j < n; j++) {
                        w += work[a + i * n + j] * hv[j];
                    }
                    w *= right.x;
                    for (var j = k + 1u; j < n; j++) {
                        work[a + i * n + j] -= w * hv[j];
                    }
                }
            }
            if (lid == 0u) {
                aux[d_at + k] = left.y;
                aux[tauq_at + k] = left.x;
                aux[taup_at + k] = right.x;
                // e couples k and k + 1; te[i] couples i - 1 and i.
                if (k + 1u < n) {
                    aux[e_at + k + 1u] = right.y;
                }
            }
            sync();
        } else if (step == n) {
            for (var i = lid; i < n; i += WG) {
                td[i] = aux[d_at + i];
                te[i] = select(aux[e_at + i], 0.0, i == 0u);
                aux[e_at + i] = te[i];
            }
            for (var t = lid; t < m * p; t += WG) {
                out[u + t] = select(0.0, 1.0, t / p == t % p);
            }
            for (var t = lid; t < n * n; t += WG) {
                out[vb + (t / n) * p + t % n] = select(0.0, 1.0, t / n == t % n);
            }
            workgroupBarrier();
            if (lid == 0u) {
                var norm = 0.0;
                for (var i = 0u; i < n; i++) {
                    norm = max(norm, abs(td[i]) + abs(te[i]));
                }
                qr_norm = norm;
                qr_k = n - 1u;
                sweeps_done = 0u;
                state[st] = qr_k;
                state[st + 1u] = 0u;
                state[st + 2u] = bitcast<u32>(norm);
            }
            sync();
        } else if (step <= 2u * n) {
            // U <- H_k U on rows k.. and columns k..p (the rest is still the
            // identity's), a lane per column.
            let k = 2u * n - step;
            let tau = aux[tauq_at + k];
            for (var j = k + lid; j < p; j += WG) {
                var w = out[u + k * p + j];
                for (var i = k + 1u; i < m; i++) {
                    w += work[a + i * n + k] * out[u + i * p + j];
                }
                w *= tau;
                out[u + k * p + j] -= w;
                for (var i = k + 1u; i < m; i++) {
                    out[u + i * p + j] -= w * work[a + i * n + k];
                }
            }
            sync();
        } else if (step < qr_first) {
            // V <- G_k V on rows and columns k + 1.., a lane per column.
            let k = 3u * n - 1u - step;
            let tau = aux[taup_at + k];
            for (var j = k + 1u + lid; j < n; j += WG) {
                var w = out[vb + (k + 1u) * p + j];
                for (var i = k + 2u; i < n; i++) {
                    w += work[a + k * n + i] * out[vb + i * p + j];
                }
                w *= tau;
                out[vb + (k + 1u) * p + j] -= w;
                for (var i = k + 2u; i < n; i++) {
                    out[vb + i * p + j] -= w * work[a + k * n + i];
                }
            }
            sync();
        } else if (step < qr_first + chunks) {
            // One lane finds the next sweep's rotations (svdcmp's loop body);
            // every lane then applies them to its rows of U and V.
            var budget = SWEEP_BUDGET;
            loop {
                if (lid == 0u) {
                    let norm = qr_norm;
                    let k = qr_k;
                    qr_l = n;
                    cancel_end = 0u;
                    sweep_end = 0u;
                    negate = n;
                    if (k < n) {
                        // The lowest l with te[l] negligible (te[0] is 0),
                        // or with td[l - 1] negligible: te[l] is then
                        // cancelled by rotations on the left.
                        var l = k;
                        var cancel = false;
                        for (; l > 0u; l--) {
                            if (negligible(te[l], norm)) {
                                break;
                            }
                            if (negligible(td[l - 1u], norm)) {
                                cancel = true;
                                break;
                            }
                        }
                        qr_l = l;
                        cancel_end = l;
                        if (cancel) {
                            var c = 0.0;
                            var s = 1.0;
                            for (var i = l; i <= k; i++) {
                                let f = s * te[i];
                                te[i] = c * te[i];
                                if (negligible(f, norm)) {
                                    break;
                                }
                                let g = td[i];
                                let h = hyp(f, g);
                                td[i] = h;
                                c = g / h;
                                s = -f / h;
                                cancel_c[i] = c;
                                cancel_s[i] = s;
                                cancel_end = i + 1u;
                            }
                        }
                        sweep_end = l;
                        if (l == k) {
                            // Converged: the value made non-negative.
                            if (td[k] < 0.0) {
                                td[k] = -td[k];
                                negate = k;
                            }
                            qr_k = k - 1u;
                            sweeps_done = 0u;
                        } else if (sweeps_done >= SWEEPS) {
                            // Given up: left as it is.
                            qr_k = k - 1u;
                            sweeps_done = 0u;
                        } else {
                            sweeps_done++;
                            // The shift from the trailing 2 x 2 of BᵀB.
                            var x = td[l];
                            var y = td[k - 1u];
                            var g = te[k - 1u];
                            var h = te[k];
                            var z = td[k];
                            var f = ((y - z) * (y + z) + (g - h) * (g + h)) / (2.0 * h * y);
                            g = hyp(f, 1.0);
                            f = ((x - z) * (x + z) + h * ((y / (f + select(-g, g, f >= 0.0))) - h)) / x;
                            var c = 1.0;
                            var s = 1.0;
                            for (var j = l; j < k; j++) {
                                let i = j + 1u;
                                g = te[i];
                                y = td[i];
                                h = s * g;
                                g = c * g;
                                z = hyp(f, h);
                                te[j] = z;
                                c = f / z;
                                s = h / z;
                                f = x * c + g * s;
                                g = g * c - x * s;
                                h = y * s;
                                y *= c;
                                v_c[j] = c;
                                v_s[j] = s;
                                z = hyp(f, h);
                                td[j] = z;
                                if (z != 0.0) {
                                    c = f / z;
                                    s = h / z;
                                }
                                f = c * g + s * y;
                                x = c * y - s * g;
                                u_c[j] = c;
                                u_s[j] = s;
                            }
                            te[l] = 0.0;
                            te[k] = f;
                            td[k] = x;
                            sweep_end = k;
                        }
                    }
                }
                let l = workgroupUniformLoad(&qr_l);
                if (l == n) {
                    break;
                }
                let cancelled = workgroupUniformLoad(&cancel_end);
                let swept = workgroupUniformLoad(&sweep_end);
                let flip = workgroupUniformLoad(&negate);
                // The entry that the next rotation shares is carried in a
                // register, not stored and reloaded.
                for (var row = lid; row < m + n; row += WG) {
                    if (row < m) {
                        let at = u + row * p;
                        if (cancelled > l) {
                            var y = out[at + l - 1u];
                            for (var i = l; i < cancelled; i++) {
                                let z = out[at + i];
                                out[at + i] = z * cancel_c[i] - y * cancel_s[i];
                                y = y * cancel_c[i] + z * cancel_s[i];
                            }
                            out[at + l - 1u] = y;
                        }
                        if (swept > l) {
                            var y = out[at + l];
                            for (var j = l; j < swept; j++) {
                                let z = out[at + j + 1u];
                                out[at + j] = y * u_c[j] + z * u_s[j];
                                y = z * u_c[j] - y * u_s[j];
                            }
                            out[at + swept] = y;
                        }
                    } else {
                        let at = vb + (row - m) * p;
                        if (swept > l) {
                            var x = out[at + l];
                            for (var j = l; j < swept; j++) {
                                let z = out[at + j + 1u];
                                out[at + j] = x * v_c[j] + z * v_s[j];
                                x = z * v_c[j] - x * v_s[j];
                            }
                            out[at + swept] = x;
                        }
                        if (flip < n) {
                            out[at + flip] = -out[at + flip];
                        }
                    }
                }
                workgroupBarrier();
                // An iteration's loop trips at most: finding l, cancelling,
                // the sweep, and the rotations on a lane's rows.
                let cost = 3u * n + 8u + ((m + n + WG - 1u) / WG) * (2u * n + 2u);
                if (budget < 2u * cost) {
                    break;
                }
                budget -= cost;
            }
        } else {
            for (var i = lid; i < n; i += WG) {
                out[sb + i] = td[i];
            }
        }
    }
    if (last > qr_first && last <= qr_first + chunks) {
        // The bidiagonal and the progress so far, for the next dispatch.
        store_diagonals(lid, n, d_at, e_at);
        if (lid == 0u) {
            state[st] = qr_k;
            state[st + 1u] = sweeps_done;
        }
    }
}
