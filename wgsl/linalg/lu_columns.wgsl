// LU factorization with partial pivoting for CPU adapters (lavapipe,
// SwiftShader), whose barriers and memory accesses cost more than
// arithmetic: blocks of D columns, each factored by one invocation alone
// (pivots, swaps, scaling and the block's own updates), then every column
// to the right updated D steps at a time, a lane per column down the rows
// (neighbouring lanes on neighbouring entries, D multipliers a row, one
// load and one store of each entry per D steps).
// The packed layout's columns (the permutation column n included) are
// shared out among workgroups, WG each (the last one the rest, up to
// WG + 1), so that a matrix's columns are
// updated on several cores; the workgroup holding the next block factors
// it once its columns are updated. Blocks depend on each other across
// workgroups: with more than one workgroup per matrix, a dispatch runs one
// block (the host splits the steps so).
// Parameters [batch, m, n, src offset, first block, last block, start]
// (steps counted in blocks; start: 1 when the dispatch copies the input
// and factors block 0 first); output layout as lu.wgsl's: column n holds
// the permutation, column n + 1 the pivots.
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

// Columns per block: the steps one barrier covers.
const D: u32 = {{depth}}u;

// Factors the block of columns c0..c0 + D (those below `steps`) of the
// matrix at `a` (rows `m`, row stride `w`, `n` columns), already updated by
// every earlier step: for each column, the largest |entry| on or below the
// diagonal (the first among equals; NaN never wins) is the pivot, its row
// noted in the pivot column and swapped up across the block, the entries
// below divided by it (left as they are when it is zero), and the block's
// later columns updated.
fn factor_block(a: u32, m: u32, w: u32, n: u32, steps: u32, c0: u32) {
    let end = min(c0 + D, n);
    for (var c = c0; c < min(c0 + D, steps); c++) {
        let p = pivot_row(a, m, w, c);
        out[a + c * w + n + 1u] = bitcast<f32>(p);
        if (p != c) {
            for (var j = c0; j < end; j++) {
                swap_rows(a, w, j, c, p);
            }
        }
        let pivot = out[a + c * w + c];
        let scale = select(1.0 / pivot, 1.0, pivot == 0.0);
        for (var i = c + 1u; i < m; i++) {
            out[a + i * w + c] *= scale;
        }
        for (var j = c + 1u; j < end; j++) {
            let u = out[a + c * w + j];
            for (var i = c + 1u; i < m; i++) {
                out[a + i * w + j] -= out[a + i * w + c] * u;
            }
        }
    }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid3: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let m = params[1];
    let n = params[2];
    // Workgroups per matrix, and this one's share: columns first..end of
    // 0..=n, strided over the lanes.
    let groups = max((n + WG - 1u) / WG, 1u);
    let id = matrix_id(wid, nwg);
    let mat = id / groups;
    if (mat >= params[0]) {
        return;
    }
    let g = id % groups;
    let first = g * WG + lid3.x;
    let end = select((g + 1u) * WG, n + 1u, g + 1u == groups);
    let steps = min(m, n);
    let w = n + 2u;
    let a = mat * m * w;
    let s = params[3] + mat * m * n;
    if (params[6] == 1u) {
        for (var j = first; j < end; j += WG) {
            for (var i = 0u; i < m; i++) {
                if (j < n) {
                    out[a + i * w + j] = src[s + i * n + j];
                } else {
                    out[a + i * w + n] = bitcast<f32>(i);
                }
            }
        }
        // No pivots yet (written by the workgroup that factors block 0).
        if (g == 0u) {
            for (var i = lid3.x; i < m; i += WG) {
                out[a + i * w + n + 1u] = 0.0;
            }
        }
        sync();
        if (lid3.x == 0u && steps > 0u && g == 0u) {
            factor_block(a, m, w, n, steps, 0u);
        }
        sync();
    }
    for (var kb = params[4]; kb < params[5]; kb++) {
        let k0 = kb * D;
        let k1 = min(k0 + D, steps);
        // Every column but the block's (the permutation column n included):
        // the block's row swaps, then U's entries in the block's rows and
        // the rows below less the block's multipliers times them.
        for (var j = first; j < end; j += WG) {
            if (j >= k0 && j < k0 + D && j < n) {
                continue;
            }
            for (var c = k0; c < k1; c++) {
                let p = bitcast<u32>(out[a + c * w + n + 1u]);
                if (p != c) {
                    swap_rows(a, w, j, c, p);
                }
            }
            if (j >= k1 && j < n) {
                var u: array<f32, D>;
                for (var t = 0u; t < k1 - k0; t++) {
                    var x = out[a + (k0 + t) * w + j];
                    for (var r = 0u; r < t; r++) {
                        x -= out[a + (k0 + t) * w + k0 + r] * u[r];
                    }
                    u[t] = x;
                    out[a + (k0 + t) * w + j] = x;
                }
                for (var i = k1; i < m; i++) {
                    var x = out[a + i * w + j];
                    for (var t = 0u; t < k1 - k0; t++) {
                        x -= out[a + i * w + k0 + t] * u[t];
                    }
                    out[a + i * w + j] = x;
                }
            }
        }
        sync();
        if (lid3.x == 0u && k0 + D < steps && (k0 + D) / WG == g) {
            factor_block(a, m, w, n, steps, k0 + D);
        }
        sync();
    }
}
