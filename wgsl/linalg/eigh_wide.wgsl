// Eigen-decomposition of symmetric n x n matrices too wide for one
// workgroup, in stages that each spread over many workgroups:
//   copy_in        A into `a`;
//   reduce         one dispatch per column k: the rows below k take
//                  reflector k - 1's rank-2 update, and reflector k is
//                  formed from row k, giving T = Qᵀ A Q tridiagonal (LAPACK's
//                  sytd2, lower). Each workgroup takes a band of rows, a
//                  team of lanes per row, and leaves its rows of
//                  p = tau A v for the next step; every workgroup forms the
//                  reflector itself, so one dispatch per column suffices;
//   bisect         each eigenvalue of T by bisection on Sturm counts within
//                  its unreduced block (an invocation per eigenvalue);
//   inverse        its eigenvector by inverse iteration (an invocation each);
//   project,       the eigenvectors of each cluster of close eigenvalues
//   within         made orthonormal in order, in blocks of SPAN members:
//                  `project` takes the members before a block out of each
//                  of its vectors (twice, a workgroup per vector), `within`
//                  orthonormalizes the block (modified Gram-Schmidt, twice,
//                  a workgroup per block);
//   back           Q applied to the eigenvectors, last reflector first, a
//                  workgroup per band of columns.
// Output per matrix, (n + 1) x n: the eigenvectors as the columns of rows
// 0..n, the eigenvalues (ascending within each block) in row n. Parameters
// start [batch, n, src offset]; each entry point's others are noted there.
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
// The matrix as it is reduced, n x n per matrix.
@group(0) @binding(3) var<storage, read_write> a: array<f32>;
// Reflector k in row k (entries k + 1..n, the first 1), n x n per matrix.
@group(0) @binding(4) var<storage, read_write> refl: array<f32>;
// Per matrix, AUX_ROWS rows of n (see the row names below).
@group(0) @binding(5) var<storage, read_write> aux: array<f32>;
// Inverse iteration's factors: 3 x n rows of `slots` invocations.
@group(0) @binding(6) var<storage, read_write> factors: array<f32>;

// Lanes per row in `reduce`, and rows per team.
const TEAM: u32 = 32u;
const TEAMS: u32 = WG / TEAM;
const ROWS_PER_TEAM: u32 = {{rows_per_team}}u;
// Columns and row parts of a workgroup in `back`.
const BACK_COLUMNS: u32 = 16u;
const BACK_PARTS: u32 = WG / BACK_COLUMNS;
// Entries of a row held in workgroup memory at a time by `reduce`.
const TILE: u32 = 1024u;
// Bisection steps at most (float32 needs about 26 from Gershgorin's
// interval to the tolerance).
const BISECTIONS: u32 = {{bisections}}u;
// Inverse iteration's solves.
const SOLVES: u32 = {{solves}}u;
// Eigenvalues closer than this times ||T|| are one cluster, whose vectors
// are made orthogonal together (as LAPACK's stein).
const CLUSTER: f32 = 1e-3;
// Cluster members per `within` block.
const SPAN: u32 = {{span}}u;
// Earlier members one `project` dispatch takes at most.
const CHUNK: u32 = {{chunk}}u;
// The smallest normal float32.
const TINY: f32 = 1.17549435e-38;

// Rows of `aux`: T's diagonal and off-diagonal, the reflectors' tau, p of
// the last two steps, each eigenvalue's bisection interval and unreduced
// block (first and last index), ||T||, and its cluster's first and last
// index.
const D: u32 = 0u;
const E: u32 = 1u;
const TAU: u32 = 2u;
const P: u32 = 3u;
const LO: u32 = 5u;
const HI: u32 = 6u;
const FIRST: u32 = 7u;
const LAST: u32 = 8u;
const NORM: u32 = 9u;
const CLUSTER_FIRST: u32 = 10u;
const CLUSTER_LAST: u32 = 11u;
const AUX_ROWS: u32 = 12u;

var<workgroup> prev_v: array<f32, TILE>;
var<workgroup> prev_w: array<f32, TILE>;
var<workgroup> next_v: array<f32, TILE>;
var<workgroup> uniform_word: u32;
var<workgroup> uniform_from: u32;
var<workgroup> dots: array<f32, CHUNK>;

// Every binding is named by every entry point, so they share one layout.
fn touch() {
    _ = src[0];
    _ = out[0];
    _ = a[0];
    _ = refl[0];
    _ = aux[0];
    _ = factors[0];
}

fn aux_row(mat: u32, n: u32, row: u32) -> u32 {
    return (mat * AUX_ROWS + row) * n;
}

// Row i of matrix `mat`'s eigenvectors in `out`.
fn vector_row(mat: u32, n: u32, i: u32) -> u32 {
    return (mat * (n + 1u) + i) * n;
}

fn thread_id(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * WG;
}

@compute @workgroup_size(WG)
fn copy_in(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    touch();
    let t = thread_id(gid, nwg);
    let n = params[1];
    if (t < params[0] * n * n) {
        a[t] = src[params[2] + t];
    }
}

// The step's view of the previous reflector (k - 1) and its rank-2 update
// A -= v wᵀ + w vᵀ, w = p - (tau / 2)(p·v) v.
struct Previous {
    v_at: u32,
    p_at: u32,
    half_tau_pv: f32,
    some: bool,
}

fn prev_v_at(pr: Previous, j: u32) -> f32 {
    if (!pr.some) {
        return 0.0;
    }
    return refl[pr.v_at + j];
}

fn prev_w_at(pr: Previous, j: u32) -> f32 {
    if (!pr.some) {
        return 0.0;
    }
    return aux[pr.p_at + j] - pr.half_tau_pv * refl[pr.v_at + j];
}

// Entry (i, j) of A after the previous step's update, from `a` before it.
fn updated(pr: Previous, at: u32, vi: f32, wi: f32, j: u32) -> f32 {
    return a[at + j] - (vi * prev_w_at(pr, j) + wi * prev_v_at(pr, j));
}

// Parameters: [batch, n, src offset, k, workgroups per matrix].
@compute @workgroup_size(WG)
fn reduce(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    touch();
    let n = params[1];
    let k = params[3];
    let per_matrix = params[4];
    let group = matrix_id(wid, nwg);
    let mat = group / per_matrix;
    if (mat >= params[0]) {
        return;
    }
    let band = group % per_matrix;
    let base = mat * n * n;
    var pr = Previous(0u, 0u, 0.0, k > 0u);
    if (k > 0u) {
        pr.v_at = base + (k - 1u) * n;
        pr.p_at = aux_row(mat, n, P + (k - 1u) % 2u);
        var part = 0.0;
        for (var i = k + lid; i < n; i += WG) {
            part += aux[pr.p_at + i] * refl[pr.v_at + i];
        }
        pr.half_tau_pv = 0.5 * aux[aux_row(mat, n, TAU) + k - 1u] * wg_sum(lid, part);
    }
    // Row k after the update: d_k, then the reflector's x = row[k + 1..n].
    let row_k = base + k * n;
    let vk = prev_v_at(pr, k);
    let wk = prev_w_at(pr, k);
    let d = updated(pr, row_k, vk, wk, k);
    var alpha = 0.0;
    if (k + 1u < n) {
        alpha = updated(pr, row_k, vk, wk, k + 1u);
    }
    var amax = 0.0;
    for (var j = k + 2u + lid; j < n; j += WG) {
        amax = max(amax, abs(updated(pr, row_k, vk, wk, j)));
    }
    let scale = max(wg_max_abs(lid, amax), abs(alpha));
    var part = 0.0;
    if (scale > 0.0) {
        for (var j = k + 2u + lid; j < n; j += WG) {
            let x = updated(pr, row_k, vk, wk, j) / scale;
            part += x * x;
        }
    }
    let tail = wg_sum(lid, part);
    var tau = 0.0;
    var beta = alpha;
    // v's entries below the first are x's times this.
    var v_scale = 0.0;
    if (tail > 0.0) {
        let sa = alpha / scale;
        let sb = -sign(sa + select(0.0, 1e-30, sa == 0.0)) * sqrt(sa * sa + tail);
        beta = sb * scale;
        tau = (sb - sa) / sb;
        v_scale = 1.0 / ((sa - sb) * scale);
    }
    if (band == 0u) {
        if (lid == 0u) {
            aux[aux_row(mat, n, D) + k] = d;
            aux[aux_row(mat, n, E) + k] = beta;
            aux[aux_row(mat, n, TAU) + k] = tau;
            if (k + 1u < n) {
                refl[row_k + k + 1u] = 1.0;
            }
        }
        for (var j = k + 2u + lid; j < n; j += WG) {
            refl[row_k + j] = updated(pr, row_k, vk, wk, j) * v_scale;
        }
    }
    // This workgroup's rows: updated, and their part of p = tau A v.
    let team = lid / TEAM;
    let lane = lid % TEAM;
    let first_row = k + 1u + band * TEAMS * ROWS_PER_TEAM;
    var acc: array<f32, ROWS_PER_TEAM>;
    var row_v: array<f32, ROWS_PER_TEAM>;
    var row_w: array<f32, ROWS_PER_TEAM>;
    for (var q = 0u; q < ROWS_PER_TEAM; q++) {
        let i = min(first_row + q * TEAMS + team, n - 1u);
        acc[q] = 0.0;
        row_v[q] = prev_v_at(pr, i);
        row_w[q] = prev_w_at(pr, i);
    }
    for (var start = k + 1u; start < n; start += TILE) {
        let count = min(TILE, n - start);
        for (var t = lid; t < count; t += WG) {
            let j = start + t;
            prev_v[t] = prev_v_at(pr, j);
            prev_w[t] = prev_w_at(pr, j);
            var v = 1.0;
            if (j > k + 1u) {
                v = updated(pr, row_k, vk, wk, j) * v_scale;
            }
            next_v[t] = select(0.0, v, tau != 0.0);
        }
        workgroupBarrier();
        for (var q = 0u; q < ROWS_PER_TEAM; q++) {
            let i = first_row + q * TEAMS + team;
            if (i < n) {
                let at = base + i * n + start;
                for (var t = lane; t < count; t += TEAM) {
                    var x = a[at + t];
                    if (pr.some) {
                        x -= row_v[q] * prev_w[t] + row_w[q] * prev_v[t];
                        a[at + t] = x;
                    }
                    acc[q] += x * next_v[t];
                }
            }
        }
        workgroupBarrier();
    }
    let p_at = aux_row(mat, n, P + k % 2u);
    for (var q = 0u; q < ROWS_PER_TEAM; q++) {
        red[lid] = acc[q];
        workgroupBarrier();
        for (var s = TEAM / 2u; s > 0u; s >>= 1u) {
            if (lane < s) {
                red[lid] += red[lid + s];
            }
            workgroupBarrier();
        }
        let i = first_row + q * TEAMS + team;
        if (lane == 0u && i < n) {
            aux[p_at + i] = tau * red[lid];
        }
        workgroupBarrier();
    }
}

// The number of eigenvalues below x of T's block first..last (Sturm
// count of the LDLᵀ pivots of T - x I).
fn below(mat: u32, n: u32, first: u32, last: u32, x: f32, pivmin: f32) -> u32 {
    let d_at = aux_row(mat, n, D);
    let e_at = aux_row(mat, n, E);
    var q = aux[d_at + first] - x;
    if (abs(q) < pivmin) {
        q = -pivmin;
    }
    var count = select(0u, 1u, q < 0.0);
    for (var i = first + 1u; i <= last; i++) {
        let e = aux[e_at + i - 1u];
        q = (aux[d_at + i] - x) - e * e / q;
        if (abs(q) < pivmin) {
            q = -pivmin;
        }
        count += select(0u, 1u, q < 0.0);
    }
    return count;
}

// The guard on Sturm pivots of a block whose largest off-diagonal square
// is `e2` (as LAPACK's stebz).
fn pivot_guard(e2: f32) -> f32 {
    return TINY * max(1.0, e2);
}

// Parameters: [batch, n, src offset, first step, last step]. An invocation
// per eigenvalue; the first step finds its block and interval.
@compute @workgroup_size(WG)
fn bisect(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    touch();
    let t = thread_id(gid, nwg);
    let n = params[1];
    if (t >= params[0] * n) {
        return;
    }
    let mat = t / n;
    let j = t % n;
    let d_at = aux_row(mat, n, D);
    let e_at = aux_row(mat, n, E);
    if (params[3] == 0u) {
        var norm = 0.0;
        for (var i = 0u; i < n; i++) {
            var r = abs(aux[d_at + i]);
            if (i > 0u) {
                r += abs(aux[e_at + i - 1u]);
            }
            if (i + 1u < n) {
                r += abs(aux[e_at + i]);
            }
            norm = max(norm, r);
        }
        // Off-diagonals this small count as zero: a change within the
        // reduction's own backward error.
        let split = EPS * norm;
        var first = j;
        while (first > 0u && abs(aux[e_at + first - 1u]) > split) {
            first -= 1u;
        }
        var last = j;
        while (last + 1u < n && abs(aux[e_at + last]) > split) {
            last += 1u;
        }
        var lo = aux[d_at + first];
        var hi = lo;
        for (var i = first; i <= last; i++) {
            var r = 0.0;
            if (i > first) {
                r += abs(aux[e_at + i - 1u]);
            }
            if (i < last) {
                r += abs(aux[e_at + i]);
            }
            lo = min(lo, aux[d_at + i] - r);
            hi = max(hi, aux[d_at + i] + r);
        }
        let slack = 2.0 * EPS * norm;
        if (first < last) {
            lo -= slack;
            hi += slack;
        }
        aux[aux_row(mat, n, LO) + j] = lo;
        aux[aux_row(mat, n, HI) + j] = hi;
        aux[aux_row(mat, n, FIRST) + j] = bitcast<f32>(first);
        aux[aux_row(mat, n, LAST) + j] = bitcast<f32>(last);
        aux[aux_row(mat, n, NORM) + j] = norm;
    }
    let first = bitcast<u32>(aux[aux_row(mat, n, FIRST) + j]);
    let last = bitcast<u32>(aux[aux_row(mat, n, LAST) + j]);
    let norm = aux[aux_row(mat, n, NORM) + j];
    var lo = aux[aux_row(mat, n, LO) + j];
    var hi = aux[aux_row(mat, n, HI) + j];
    var e2 = 0.0;
    for (var i = first; i < last; i++) {
        let e = aux[e_at + i];
        e2 = max(e2, e * e);
    }
    let pivmin = pivot_guard(e2);
    let index = j - first;
    for (var step = params[3]; step < params[4]; step++) {
        let mid = 0.5 * (lo + hi);
        if (hi - lo <= max(EPS * norm, 2.0 * EPS * max(abs(lo), abs(hi))) || mid <= lo || mid >= hi) {
            break;
        }
        if (below(mat, n, first, last, mid, pivmin) > index) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    aux[aux_row(mat, n, LO) + j] = lo;
    aux[aux_row(mat, n, HI) + j] = hi;
    out[vector_row(mat, n, n) + j] = 0.5 * (lo + hi);
}

// A pseudo-random number in [-1, 1) for entry i of start vector j.
fn start_entry(j: u32, i: u32) -> f32 {
    var h = j * 747796405u + i * 2891336453u + 2654435769u;
    h = ((h >> ((h >> 28u) + 4u)) ^ h) * 277803737u;
    h = (h >> 22u) ^ h;
    return f32(h >> 8u) / 8388608.0 - 1.0;
}

// Parameters: [batch, n, src offset, first step, last step, first
// eigenvalue, slots]. An invocation per eigenvalue first..first + slots;
// step 0 fills the start vector, steps 1..=SOLVES solve (T - λ I) x_new = x
// by Gaussian elimination with partial pivoting on T's block, scaling x to
// a largest entry of 1 (to unit length after the last).
@compute @workgroup_size(WG)
fn inverse(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    touch();
    let slot = thread_id(gid, nwg);
    let n = params[1];
    let slots = params[6];
    let t = params[5] + slot;
    if (slot >= slots || t >= params[0] * n) {
        return;
    }
    let mat = t / n;
    let j = t % n;
    let first = bitcast<u32>(aux[aux_row(mat, n, FIRST) + j]);
    let last = bitcast<u32>(aux[aux_row(mat, n, LAST) + j]);
    let x_at = vector_row(mat, n, 0u) + j;
    let d_at = aux_row(mat, n, D);
    let e_at = aux_row(mat, n, E);
    let lambda = out[vector_row(mat, n, n) + j];
    // Pivots smaller than this are raised to it.
    let smallest = max(EPS * aux[aux_row(mat, n, NORM) + j], TINY);
    for (var step = params[3]; step < params[4]; step++) {
        if (step == 0u) {
            let values = vector_row(mat, n, n);
            let close = CLUSTER * aux[aux_row(mat, n, NORM) + j];
            var lo = j;
            while (lo > first && abs(out[values + lo] - out[values + lo - 1u]) <= close) {
                lo -= 1u;
            }
            var hi = j;
            while (hi < last && abs(out[values + hi + 1u] - out[values + hi]) <= close) {
                hi += 1u;
            }
            aux[aux_row(mat, n, CLUSTER_FIRST) + j] = bitcast<f32>(lo);
            aux[aux_row(mat, n, CLUSTER_LAST) + j] = bitcast<f32>(hi);
            for (var i = 0u; i < n; i++) {
                var x = 0.0;
                if (first == last) {
                    x = select(0.0, 1.0, i == j);
                } else if (i >= first && i <= last) {
                    x = start_entry(j, i);
                }
                out[x_at + i * n] = x;
            }
            continue;
        }
        if (first == last) {
            continue;
        }
        // Elimination: row i of U into `factors`, its right-hand side into x.
        var cur_a = aux[d_at + first] - lambda;
        var cur_b = aux[e_at + first];
        var y = out[x_at + first * n];
        for (var i = first; i < last; i++) {
            let l = aux[e_at + i];
            let nd = aux[d_at + i + 1u] - lambda;
            var ne = 0.0;
            if (i + 1u < last) {
                ne = aux[e_at + i + 1u];
            }
            let xn = out[x_at + (i + 1u) * n];
            var u = vec3<f32>(cur_a, cur_b, 0.0);
            var rhs = y;
            if (abs(cur_a) >= abs(l)) {
                let m = l / guarded(cur_a, smallest);
                cur_a = nd - m * cur_b;
                cur_b = ne;
                y = xn - m * y;
            } else {
                u = vec3<f32>(l, nd, ne);
                rhs = xn;
                let m = cur_a / l;
                cur_a = cur_b - m * nd;
                cur_b = -m * ne;
                y -= m * xn;
            }
            store_factor(n, slots, slot, i, vec3<f32>(guarded(u.x, smallest), u.y, u.z));
            out[x_at + i * n] = rhs;
        }
        // Back substitution.
        var x2 = y / guarded(cur_a, smallest);
        out[x_at + last * n] = x2;
        var x1 = 0.0;
        var amax = abs(x2);
        for (var i = last; i > first; i--) {
            let u = load_factor(n, slots, slot, i - 1u);
            let x = (out[x_at + (i - 1u) * n] - u.y * x2 - u.z * x1) / u.x;
            out[x_at + (i - 1u) * n] = x;
            x1 = x2;
            x2 = x;
            amax = max(amax, abs(x));
        }
        var norm = amax;
        if (step == SOLVES) {
            var sum = 0.0;
            for (var i = first; i <= last; i++) {
                let x = out[x_at + i * n] / amax;
                sum += x * x;
            }
            norm = amax * sqrt(sum);
        }
        for (var i = first; i <= last; i++) {
            out[x_at + i * n] = out[x_at + i * n] / norm;
        }
    }
}

// x, or ±smallest when |x| is below it.
fn guarded(x: f32, smallest: f32) -> f32 {
    if (abs(x) < smallest) {
        return select(smallest, -smallest, x < 0.0);
    }
    return x;
}

fn store_factor(n: u32, slots: u32, slot: u32, i: u32, u: vec3<f32>) {
    factors[i * slots + slot] = u.x;
    factors[(n + i) * slots + slot] = u.y;
    factors[(2u * n + i) * slots + slot] = u.z;
}

fn load_factor(n: u32, slots: u32, slot: u32, i: u32) -> vec3<f32> {
    return vec3<f32>(
        factors[i * slots + slot],
        factors[(n + i) * slots + slot],
        factors[(2u * n + i) * slots + slot],
    );
}

// Vector j's cluster: [first member, last member, T's block's first row,
// its last row].
fn cluster_of(mat: u32, n: u32, j: u32) -> vec4<u32> {
    return vec4<u32>(
        bitcast<u32>(aux[aux_row(mat, n, CLUSTER_FIRST) + j]),
        bitcast<u32>(aux[aux_row(mat, n, CLUSTER_LAST) + j]),
        bitcast<u32>(aux[aux_row(mat, n, FIRST) + j]),
        bitcast<u32>(aux[aux_row(mat, n, LAST) + j]),
    );
}

// The (matrix, eigenvector) a workgroup works on; the matrix is `batch`
// past the last (uniform, so entry points may return on it).
fn member(wid: vec3<u32>, nwg: vec3<u32>) -> vec2<u32> {
    let n = params[1];
    let t = matrix_id(wid, nwg);
    if (t >= params[0] * n) {
        return vec2<u32>(params[0], 0u);
    }
    return vec2<u32>(t / n, t % n);
}

// Parameters: [batch, n, src offset, block, first earlier member, count].
// A workgroup per eigenvector; those in block `block` of their cluster
// subtract their projections on the cluster's members first + start..
// first + start + count that lie before the block and whose eigenvalues
// are within the cluster tolerance of their own. (Clusters chain: in
// float32 the whole spectrum of a large matrix is one. Inverse iteration
// leaves vectors of eigenvalues further apart orthogonal to about
// eps ||T|| / gap, as the within-block pass and the residual tests hold.)
@compute @workgroup_size(WG)
fn project(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    touch();
    let n = params[1];
    let me = member(wid, nwg);
    if (me.x >= params[0]) {
        return;
    }
    let mat = me.x;
    let j = me.y;
    let c = cluster_of(mat, n, j);
    if (lid == 0u) {
        var count = 0u;
        var first_near = c.x + params[4];
        let before = c.x + params[3] * SPAN;
        if (c.x < c.y && (j - c.x) / SPAN == params[3]) {
            let values = vector_row(mat, n, n);
            let close = CLUSTER * aux[aux_row(mat, n, NORM) + j];
            var near = j;
            while (near > c.x && abs(out[values + j] - out[values + near - 1u]) <= close) {
                near -= 1u;
            }
            let end = min(first_near + params[5], before);
            first_near = max(first_near, near);
            if (first_near < end) {
                count = end - first_near;
            }
        }
        uniform_word = count;
        uniform_from = first_near;
    }
    let count = workgroupUniformLoad(&uniform_word);
    let start = workgroupUniformLoad(&uniform_from);
    if (count == 0u) {
        return;
    }
    let x = vector_row(mat, n, 0u);
    for (var q = lid; q < count; q += WG) {
        var dot = 0.0;
        for (var i = c.z; i <= c.w; i++) {
            dot += out[x + i * n + start + q] * out[x + i * n + j];
        }
        dots[q] = dot;
    }
    workgroupBarrier();
    for (var i = c.z + lid; i <= c.w; i += WG) {
        var sum = 0.0;
        for (var q = 0u; q < count; q++) {
            sum += dots[q] * out[x + i * n + start + q];
        }
        out[x + i * n + j] -= sum;
    }
}

// Parameters: [batch, n, src offset, block]. A workgroup per eigenvector;
// the first of block `block` of its cluster orthonormalizes the block's
// vectors in order, each against those before it.
@compute @workgroup_size(WG)
fn within(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    touch();
    let n = params[1];
    let me = member(wid, nwg);
    if (me.x >= params[0]) {
        return;
    }
    let mat = me.x;
    let j = me.y;
    let c = cluster_of(mat, n, j);
    if (lid == 0u) {
        var count = 0u;
        if (c.x < c.y && j == c.x + params[3] * SPAN) {
            count = min(SPAN, c.y + 1u - j);
        }
        uniform_word = count;
    }
    let count = workgroupUniformLoad(&uniform_word);
    let x = vector_row(mat, n, 0u);
    for (var m = 0u; m < count; m++) {
        let col = x + j + m;
        for (var round = 0u; round < 2u; round++) {
            for (var q = 0u; q < m; q++) {
                var part = 0.0;
                for (var i = c.z + lid; i <= c.w; i += WG) {
                    part += out[col + i * n] * out[x + j + q + i * n];
                }
                let dot = wg_sum(lid, part);
                for (var i = c.z + lid; i <= c.w; i += WG) {
                    out[col + i * n] -= dot * out[x + j + q + i * n];
                }
            }
        }
        var part = 0.0;
        for (var i = c.z + lid; i <= c.w; i += WG) {
            let v = out[col + i * n];
            part += v * v;
        }
        let norm = sqrt(wg_sum(lid, part));
        for (var i = c.z + lid; i <= c.w; i += WG) {
            out[col + i * n] /= norm;
        }
    }
}

// Parameters: [batch, n, src offset, first step, last step, workgroups per
// matrix]. Step s applies reflector n - 2 - s to the eigenvectors' rows
// below it.
@compute @workgroup_size(WG)
fn back(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    touch();
    let n = params[1];
    let per_matrix = params[5];
    let group = matrix_id(wid, nwg);
    let mat = group / per_matrix;
    if (mat >= params[0]) {
        return;
    }
    let column = (group % per_matrix) * BACK_COLUMNS + lid % BACK_COLUMNS;
    let part = lid / BACK_COLUMNS;
    let live = column < n;
    let x_at = vector_row(mat, n, 0u) + min(column, n - 1u);
    let base = mat * n * n;
    let tau_at = aux_row(mat, n, TAU);
    for (var step = params[3]; step < params[4]; step++) {
        let k = n - 2u - step;
        let v_at = base + k * n;
        // Each lane keeps the rows i = part (mod BACK_PARTS) in every step.
        let own = k + 1u + (part + BACK_PARTS - (k + 1u) % BACK_PARTS) % BACK_PARTS;
        var sum = 0.0;
        if (live) {
            for (var i = own; i < n; i += BACK_PARTS) {
                sum += refl[v_at + i] * out[x_at + i * n];
            }
        }
        red[lid] = sum;
        workgroupBarrier();
        for (var s = BACK_PARTS / 2u; s > 0u; s >>= 1u) {
            if (part < s) {
                red[lid] += red[lid + s * BACK_COLUMNS];
            }
            workgroupBarrier();
        }
        let scale = aux[tau_at + k] * red[lid % BACK_COLUMNS];
        workgroupBarrier();
        if (live) {
            for (var i = own; i < n; i += BACK_PARTS) {
                out[x_at + i * n] -= scale * refl[v_at + i];
            }
        }
    }
}
