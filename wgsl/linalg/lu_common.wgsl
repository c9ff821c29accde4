// Shared by the LU kernels (lu.wgsl, lu_columns.wgsl, per_lane.wgsl), on
// the packed m x (n + 2) layout, row stride w = n + 2, whose column n holds
// the permutation and column n + 1 the pivots. Each kernel declares `src`
// and `out`.

// Entries first, first + step, ... of the packed layout at `a` filled from
// the m x n input at `s`: its entries, the identity permutation and zero
// pivots.
fn lu_copy_input(a: u32, s: u32, m: u32, n: u32, first: u32, step: u32) {
    let w = n + 2u;
    for (var t = first; t < m * w; t += step) {
        let i = t / w;
        let j = t % w;
        if (j < n) {
            out[a + t] = src[s + i * n + j];
        } else if (j == n) {
            out[a + t] = bitcast<f32>(i);
        } else {
            out[a + t] = 0.0;
        }
    }
}

// The row of column c's largest |entry| on or below the diagonal (the
// first among equals; NaN never wins), searched by one invocation.
fn pivot_row(a: u32, m: u32, w: u32, c: u32) -> u32 {
    var best = -1.0;
    var p = c;
    for (var i = c; i < m; i++) {
        let v = abs(out[a + i * w + c]);
        if (v > best) {
            best = v;
            p = i;
        }
    }
    return p;
}

// Swaps rows `r` and `p` of column `j`.
fn swap_rows(a: u32, w: u32, j: u32, r: u32, p: u32) {
    let t = out[a + r * w + j];
    out[a + r * w + j] = out[a + p * w + j];
    out[a + p * w + j] = t;
}
