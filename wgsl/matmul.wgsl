// Batched matrix product C = A B over strided operands: each thread computes
// a 4x4 block of C, each 8x8 workgroup a 32x32 tile. A and B are read
// through their row/column strides, so transposed operands need no copy.
//
// Parameters: [M, N, K, batch_ndim, offset_a, offset_b, a_row, a_col, b_row,
// b_col, batch_base, batch_shape[nb], a_batch_strides[nb], b_batch_strides[nb]]
// (strides are i32 bits). K is at most 16384 (longer products are split by
// the op). Filled in: `enable`, `in_t`, `out_t`, `acc_t`, `zero`,
// `load` (of a storage value `v`), `store` (of `r`).
{{enable}}
@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> a: array<{{in_t}}>;
@group(0) @binding(2) var<storage, read> b: array<{{in_t}}>;
@group(0) @binding(3) var<storage, read_write> c: array<{{out_t}}>;

fn stride(k: u32) -> i32 {
    return bitcast<i32>(params[k]);
}

fn load_a(at: i32) -> {{acc_t}} {
    let v = a[at];
    return {{load}};
}

fn load_b(at: i32) -> {{acc_t}} {
    let v = b[at];
    return {{load}};
}

@compute @workgroup_size(8, 8)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
    let m = params[0];
    let n = params[1];
    let k_len = params[2];
    let nb = params[3];
    let batch = wid.z + params[10];
    var a_at = i32(params[4]);
    var b_at = i32(params[5]);
    var rest = batch;
    for (var d = nb; d > 0u; d--) {
        let extent = params[10u + d];
        let coord = i32(rest % extent);
        rest = rest / extent;
        a_at += coord * stride(10u + nb + d);
        b_at += coord * stride(10u + 2u * nb + d);
    }
    let row0 = (wid.y * 8u + lid.y) * 4u;
    let col0 = (wid.x * 8u + lid.x) * 4u;
    let a_row = stride(6u);
    let a_col = stride(7u);
    let b_row = stride(8u);
    let b_col = stride(9u);
    var acc: array<vec4<{{acc_t}}>, 4>;
    for (var r = 0u; r < 4u; r++) {
        acc[r] = vec4<{{acc_t}}>({{zero}});
    }
    // Rows and columns past the edge read row/column 0 and are never stored.
    var rows: vec4<i32>;
    var cols: vec4<i32>;
    for (var r = 0u; r < 4u; r++) {
        rows[r] = select(0, i32(row0 + r), row0 + r < m) * a_row;
        cols[r] = select(0, i32(col0 + r), col0 + r < n) * b_col;
    }
    for (var k = 0u; k < k_len; k++) {
        let ak = a_at + i32(k) * a_col;
        let bk = b_at + i32(k) * b_row;
        let bv = vec4<{{acc_t}}>(load_b(bk + cols[0]), load_b(bk + cols[1]), load_b(bk + cols[2]), load_b(bk + cols[3]));
        acc[0] += load_a(ak + rows[0]) * bv;
        acc[1] += load_a(ak + rows[1]) * bv;
        acc[2] += load_a(ak + rows[2]) * bv;
        acc[3] += load_a(ak + rows[3]) * bv;
    }
    let c_at = batch * m * n;
    for (var r = 0u; r < 4u; r++) {
        if (row0 + r < m) {
            for (var j = 0u; j < 4u; j++) {
                if (col0 + j < n) {
                    let r_val = acc[r][j];
                    c[c_at + (row0 + r) * n + col0 + j] = {{store}};
                }
            }
        }
    }
}
