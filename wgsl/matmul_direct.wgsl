// Batched matrix product for CPU adapters (lavapipe, SwiftShader): no
// workgroup memory and no barriers, which such adapters run as costly
// switches between invocations. Each thread accumulates an 8 x 8 block of C
// straight from A and B, whose rows lie WY and columns WX apart, so that
// neighbouring threads read neighbouring columns of B; 16 loads feed 64
// multiply-adds per step of k. A workgroup covers 8 WY rows and 8 WX columns
// of C (WX is small for narrow products, so that few threads idle past the
// last column). Indices are clamped into the matrices (rows and columns
// past the edges compute values that are not stored), so every access is
// in bounds.
//
// Parameters and substitutions as matmul.wgsl: `access`, `enable`, `in_t`, `out_t`,
// `acc_t`, `zero`, `load`, `store`, `operands`, and `wx`, `wy`.
{{enable}}
@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> a: array<{{in_t}}>;
@group(0) @binding(2) var<storage, read> b: array<{{in_t}}>;
@group(0) @binding(3) var<storage, read_write> c: array<{{out_t}}>;

const WX: u32 = {{wx}}u;
const WY: u32 = {{wy}}u;

{{access}}

@compute @workgroup_size({{wx}}, {{wy}})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
{{operands}}    let row0 = wid.y * 8u * WY + lid.y;
    let col0 = wid.x * 8u * WX + lid.x;
    var a_rows: array<i32, 8>;
    var b_cols: array<i32, 8>;
    for (var i = 0u; i < 8u; i++) {
        a_rows[i] = a_at + i32(min(row0 + i * WY, m - 1u)) * a_row;
        b_cols[i] = b_at + i32(min(col0 + i * WX, n - 1u)) * b_col;
    }
    // Row i of the block: acc[2i] holds columns 0-3, acc[2i + 1] columns 4-7.
    var acc: array<vec4<{{acc_t}}>, 16>;
    for (var i = 0u; i < 16u; i++) {
        acc[i] = vec4<{{acc_t}}>({{zero}});
    }
    for (var k = 0u; k < k_len; k++) {
        let ka = i32(k) * a_col;
        let kb = i32(k) * b_row;
        let b0 = vec4<{{acc_t}}>(load_b(b_cols[0] + kb), load_b(b_cols[1] + kb), load_b(b_cols[2] + kb), load_b(b_cols[3] + kb));
        let b1 = vec4<{{acc_t}}>(load_b(b_cols[4] + kb), load_b(b_cols[5] + kb), load_b(b_cols[6] + kb), load_b(b_cols[7] + kb));
        let a0 = load_a(a_rows[0] + ka);
        acc[0] += a0 * b0;
        acc[1] += a0 * b1;
        let a1 = load_a(a_rows[1] + ka);
        acc[2] += a1 * b0;
        acc[3] += a1 * b1;
        let a2 = load_a(a_rows[2] + ka);
        acc[4] += a2 * b0;
        acc[5] += a2 * b1;
        let a3 = load_a(a_rows[3] + ka);
        acc[6] += a3 * b0;
        acc[7] += a3 * b1;
        let a4 = load_a(a_rows[4] + ka);
        acc[8] += a4 * b0;
        acc[9] += a4 * b1;
        let a5 = load_a(a_rows[5] + ka);
        acc[10] += a5 * b0;
        acc[11] += a5 * b1;
        let a6 = load_a(a_rows[6] + ka);
        acc[12] += a6 * b0;
        acc[13] += a6 * b1;
        let a7 = load_a(a_rows[7] + ka);
        acc[14] += a7 * b0;
        acc[15] += a7 * b1;
    }
    let c_at = batch * m * n;
    for (var i = 0u; i < 8u; i++) {
        let row = row0 + i * WY;
        for (var j = 0u; j < 8u; j++) {
            let col = col0 + j * WX;
            if (row < m && col < n) {
                let r_val = acc[2u * i + j / 4u][j % 4u];
                c[c_at + row * n + col] = {{store}};
            }
        }
    }
}
