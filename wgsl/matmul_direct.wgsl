// Batched matrix product for CPU adapters (lavapipe, SwiftShader): no
// workgroup memory and no barriers, which such adapters run as costly
// switches between invocations. Each thread accumulates a 4 x 4 block of C
// straight from A and B, whose rows lie WY and columns WX apart, so that
// neighbouring threads read neighbouring columns of B; a workgroup covers
// 32 x 32 of C. Indices are clamped into the matrices (rows and columns
// past the edges compute values that are not stored), so every access is
// in bounds.
//
// Parameters and substitutions as matmul.wgsl: `access`, `enable`, `in_t`, `out_t`,
// `acc_t`, `zero`, `load`, `store`, `operands`.
{{enable}}
@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> a: array<{{in_t}}>;
@group(0) @binding(2) var<storage, read> b: array<{{in_t}}>;
@group(0) @binding(3) var<storage, read_write> c: array<{{out_t}}>;

const WX: u32 = 8u;
const WY: u32 = 8u;

{{access}}

@compute @workgroup_size(8, 8)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
{{operands}}    let row0 = wid.y * 4u * WY + lid.y;
    let col0 = wid.x * 4u * WX + lid.x;
    var a_rows: array<i32, 4>;
    var b_cols: array<i32, 4>;
    for (var i = 0u; i < 4u; i++) {
        a_rows[i] = a_at + i32(min(row0 + i * WY, m - 1u)) * a_row;
        b_cols[i] = b_at + i32(min(col0 + i * WX, n - 1u)) * b_col;
    }
    var acc: array<vec4<{{acc_t}}>, 4>;
    for (var i = 0u; i < 4u; i++) {
        acc[i] = vec4<{{acc_t}}>({{zero}});
    }
    for (var k = 0u; k < k_len; k++) {
        let ka = i32(k) * a_col;
        let kb = i32(k) * b_row;
        let bk = vec4<{{acc_t}}>(load_b(b_cols[0] + kb), load_b(b_cols[1] + kb), load_b(b_cols[2] + kb), load_b(b_cols[3] + kb));
        acc[0] += load_a(a_rows[0] + ka) * bk;
        acc[1] += load_a(a_rows[1] + ka) * bk;
        acc[2] += load_a(a_rows[2] + ka) * bk;
        acc[3] += load_a(a_rows[3] + ka) * bk;
    }
    let c_at = batch * m * n;
    for (var i = 0u; i < 4u; i++) {
        let row = row0 + i * WY;
        for (var j = 0u; j < 4u; j++) {
            let col = col0 + j * WX;
            if (row < m && col < n) {
                let r_val = acc[i][j];
                c[c_at + row * n + col] = {{store}};
            }
        }
    }
}
