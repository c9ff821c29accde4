// Eigen-decomposition of symmetric n x n matrices (n <= MAXN) in two
// stages, one workgroup per matrix: Householder reduction to a tridiagonal
// T = Qᵀ A Q (LAPACK's sytd2, lower), Q accumulated from its reflectors, then
// the implicit QL method with Wilkinson's shift on T (EISPACK's tql2), whose
// rotations turn Q's columns into the eigenvectors. About 4 n³ flops, where
// Jacobi takes 3 n³ per sweep.
// Steps, T = n - 2 reflectors (0 for n < 3); a dispatch runs first..last:
//   0..T          reflector k = step, applied to both sides of A;
//   T             d and e of the tridiagonal into `aux`, Q = I;
//   T+1..2T       reflector k = 2T - step applied to Q (last first);
//   2T+1..2T+1+C  QL sweeps, as many as a chunk's loop-trip budget allows
//                 (C chunks allow SWEEPS sweeps per eigenvalue);
//   2T+1+C        the eigenvalues out.
// Output per matrix, (n + 1) x n: the eigenvectors as the columns of rows
// 0..n, the eigenvalues (unsorted) in row n. `work` holds A as it is
// reduced (the reflectors below its subdiagonal), `aux` d, e and the
// reflectors' tau, n each; `state` the QL method's progress.
// Parameters: [batch, n, src offset, first, last, C].
// Lanes per row in the rank-2 updates (divides WG).
const TEAM: u32 = {{team}}u;

// td, te (two_stage.wgsl): the tridiagonal, te[i] coupling i and i + 1.

// The rotations of one QL sweep, by the lower index they couple.
var<workgroup> rc: array<f32, MAXN>;
var<workgroup> rs: array<f32, MAXN>;
// A's product with the reflector being applied (hv).
var<workgroup> hp: array<f32, MAXN>;
// The QL method's progress: the eigenvalue being found (and its sweeps,
// sweeps_done); the current sweep's rows low..end.
var<workgroup> ql_l: u32;
var<workgroup> ql_end: u32;
var<workgroup> ql_low: u32;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let mat = matrix_id(wid, nwg);
    if (mat >= params[0]) {
        return;
    }
    let lid = lid3.x;
    let n = params[1];
    let first = params[3];
    let last = params[4];
    let chunks = params[5];
    let a = mat * n * n;
    let z = mat * (n + 1u) * n;
    let d_at = mat * 3u * n;
    let e_at = d_at + n;
    let tau_at = e_at + n;
    let reflectors = max(n, 2u) - 2u;
    let ql_first = 2u * reflectors + 1u;
    if (first == 0u) {
        copy_input(lid, a, params[2] + a, n * n);
    }
    // The tridiagonal and the QL method's progress, unless this dispatch
    // finds them (step T).
    if (first > reflectors && last > ql_first) {
        load_diagonals(lid, n, d_at, e_at);
        if (lid == 0u) {
            ql_l = state[2u * mat];
            sweeps_done = state[2u * mat + 1u];
        }
        workgroupBarrier();
    }
    for (var step = first; step < last; step++) {
        if (step < reflectors) {
            // The reflector H = I - tau v vᵀ (v[k+1] = 1) that zeroes A's
            // column k below its subdiagonal.
            let k = step;
            let h = reflector(lid, a + (k + 1u) * n + k, n - k - 1u, n);
            let tau = h.x;
            let beta = h.y;
            sync();
            // With tau = 0 (nothing to zero) the update adds zeros.
            for (var i = k + 1u + lid; i < n; i += WG) {
                hv[i] = select(work[a + i * n + k], 1.0, i == k + 1u);
            }
            workgroupBarrier();
            // p = tau A v over the trailing block, then w = p - (tau/2)(pᵀv) v.
            var pv = 0.0;
            for (var i = k + 1u + lid; i < n; i += WG) {
                var acc = 0.0;
                for (var j = k + 1u; j < n; j++) {
                    acc += work[a + i * n + j] * hv[j];
                }
                hp[i] = tau * acc;
                pv += hp[i] * hv[i];
            }
            let half_k = 0.5 * tau * wg_sum(lid, pv);
            for (var i = k + 1u + lid; i < n; i += WG) {
                hp[i] -= half_k * hv[i];
            }
            workgroupBarrier();
            // A -= v wᵀ + w vᵀ on the trailing block.
            for (var i = k + 1u + lid / TEAM; i < n; i += WG / TEAM) {
                let vi = hv[i];
                let wi = hp[i];
                for (var j = k + 1u + lid % TEAM; j < n; j += TEAM) {
                    work[a + i * n + j] -= vi * hp[j] + wi * hv[j];
                }
            }
            if (lid == 0u) {
                aux[tau_at + k] = tau;
                aux[e_at + k] = beta;
            }
            sync();
        } else if (step == reflectors) {
            for (var i = lid; i < n; i += WG) {
                let d = work[a + i * n + i];
                td[i] = d;
                aux[d_at + i] = d;
                // The last coupling was never reflected.
                if (i >= reflectors) {
                    let e = select(0.0, work[a + min(i + 1u, n - 1u) * n + i], i + 1u < n);
                    te[i] = e;
                    aux[e_at + i] = e;
                } else {
                    te[i] = aux[e_at + i];
                }
            }
            for (var t = lid; t < n * n; t += WG) {
                out[z + t] = select(0.0, 1.0, t / n == t % n);
            }
            if (lid == 0u) {
                ql_l = 0u;
                sweeps_done = 0u;
                state[2u * mat] = 0u;
                state[2u * mat + 1u] = 0u;
            }
            sync();
        } else if (step < ql_first) {
            // Q <- H_k Q on rows and columns k + 1.. (Q's other entries are
            // still the identity's), a lane per column.
            let k = 2u * reflectors - step;
            let tau = aux[tau_at + k];
            for (var i = k + 1u + lid; i < n; i += WG) {
                hv[i] = select(work[a + i * n + k], 1.0, i == k + 1u);
            }
            workgroupBarrier();
            for (var j = k + 1u + lid; j < n; j += WG) {
                var w = 0.0;
                for (var i = k + 1u; i < n; i++) {
                    w += hv[i] * out[z + i * n + j];
                }
                w *= tau;
                for (var i = k + 1u; i < n; i++) {
                    out[z + i * n + j] -= w * hv[i];
                }
            }
            sync();
        } else if (step < ql_first + chunks) {
            // tql2: shifted QL sweeps on rows l..end until e[l] is negligible,
            // for l = 0, 1, ... One lane chases the bulge and records its
            // rotations; every lane then applies them to its rows of the
            // eigenvectors. A chunk sweeps while its loop-trip budget lasts.
            var budget = SWEEP_BUDGET;
            loop {
                if (lid == 0u) {
                    ql_end = n;
                    var l = ql_l;
                    var end = l;
                    for (; l < n; l++) {
                        end = l;
                        for (; end + 1u < n; end++) {
                            if (abs(te[end]) <= 0.5 * EPS * (abs(td[end]) + abs(td[end + 1u]))) {
                                break;
                            }
                        }
                        if (end != l && sweeps_done < SWEEPS) {
                            break;
                        }
                        sweeps_done = 0u;
                    }
                    ql_l = l;
                    if (l < n) {
                        sweeps_done++;
                        ql_end = end;
                        var g = (td[l + 1u] - td[l]) / (2.0 * te[l]);
                        var r = hyp(g, 1.0);
                        g = td[end] - td[l] + te[l] / (g + select(-r, r, g >= 0.0));
                        var s = 1.0;
                        var c = 1.0;
                        var p = 0.0;
                        var low = l;
                        var lost = false;
                        for (var i = end; i > l; i--) {
                            let f = s * te[i - 1u];
                            let b = c * te[i - 1u];
                            r = hyp(f, g);
                            te[i] = r;
                            if (r == 0.0) {
                                // Underflow: deflate here and sweep again.
                                td[i] -= p;
                                te[end] = 0.0;
                                low = i;
                                lost = true;
                                break;
                            }
                            s = f / r;
                            c = g / r;
                            g = td[i] - p;
                            r = (td[i - 1u] - g) * s + 2.0 * c * b;
                            p = s * r;
                            td[i] = g + p;
                            g = c * r - b;
                            rc[i - 1u] = c;
                            rs[i - 1u] = s;
                        }
                        if (!lost) {
                            td[l] -= p;
                            te[l] = g;
                            te[end] = 0.0;
                        }
                        ql_low = low;
                    }
                }
                let end = workgroupUniformLoad(&ql_end);
                if (end == n) {
                    break;
                }
                let low = workgroupUniformLoad(&ql_low);
                // Each rotation's second entry is the next one's first:
                // carried in a register, not stored and reloaded.
                for (var row = lid; row < n; row += WG) {
                    let at = z + row * n;
                    var f = out[at + end];
                    for (var i = end; i > low; i--) {
                        let c = rc[i - 1u];
                        let s = rs[i - 1u];
                        let x = out[at + i - 1u];
                        out[at + i] = s * x + c * f;
                        f = c * x - s * f;
                    }
                    out[at + low] = f;
                }
                workgroupBarrier();
                // A sweep's loop trips at most: finding l and its end, the
                // chase, and the rotations on a lane's rows.
                let cost = 3u * n + 8u + ((n + WG - 1u) / WG) * (n + 1u);
                if (budget < 2u * cost) {
                    break;
                }
                budget -= cost;
            }
        } else {
            for (var i = lid; i < n; i += WG) {
                out[z + n * n + i] = td[i];
            }
        }
    }
    if (last > ql_first && last <= ql_first + chunks) {
        // The tridiagonal and the progress so far, for the next dispatch.
        store_diagonals(lid, n, d_at, e_at);
        if (lid == 0u) {
            state[2u * mat] = ql_l;
            state[2u * mat + 1u] = sweeps_done;
        }
    }
}
