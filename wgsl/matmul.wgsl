// Batched matrix product C = A B over strided operands, register-tiled:
// each workgroup computes a BM x BN tile of C, each thread TM x TN values
// of it in TM/4 x TN/4 blocks of 4 x 4 (the blocks of one thread lie
// BM/(TM/4) rows and BN/(TN/4) columns apart, so that neighbouring threads
// read neighbouring vec4s of workgroup memory). K advances BK at a time
// through workgroup memory, where A is kept transposed (k-major) like B.
//
// A and B are read through their row/column strides, so transposed
// operands need no copy; each operand's tile is loaded along k when k is
// its contiguous axis, across rows/columns otherwise, so that neighbouring
// threads read neighbouring addresses. Indices are clamped into the
// matrices and the values past their edges replaced by zero, so every
// access is in bounds (the module is built without runtime bounds checks).
//
// Parameters: [M, N, K, batch_ndim, offset_a, offset_b, a_row, a_col, b_row,
// b_col, batch_base, batch_shape[nb], a_batch_strides[nb], b_batch_strides[nb]]
// (strides are i32 bits). Filled in: `access` (shared helpers), `enable`, `in_t`, `out_t`, `acc_t`,
// `zero`, `load` (of a storage value `v`), `store` (of `r_val`), the tile
// sizes, `a_k_fast` and `b_k_fast`, `operands` (shared with the
// tensor-core kernel) and `multiply` (the unrolled products
// of one k step).
{{enable}}
@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> a: array<{{in_t}}>;
@group(0) @binding(2) var<storage, read> b: array<{{in_t}}>;
@group(0) @binding(3) var<storage, read_write> c: array<{{out_t}}>;

const BM: u32 = {{bm}}u;
const BN: u32 = {{bn}}u;
const BK: u32 = {{bk}}u;
const TM: u32 = {{tm}}u;
const TN: u32 = {{tn}}u;
// Threads along columns and rows.
const WX: u32 = BN / TN;
const WY: u32 = BM / TM;
const THREADS: u32 = WX * WY;

// Tiles of A (transposed) and B as vec4s: [k][rows / 4] and [k][cols / 4].
var<workgroup> tile_a: array<vec4<{{acc_t}}>, {{tile_a_len}}>;
var<workgroup> tile_b: array<vec4<{{acc_t}}>, {{tile_b_len}}>;

{{access}}

@compute @workgroup_size({{wx}}, {{wy}})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
{{operands}}    let row0 = wid.y * BM;
    let col0 = wid.x * BN;
    let tid = lid.y * WX + lid.x;
    var acc: array<vec4<{{acc_t}}>, {{acc_len}}>;
    for (var i = 0u; i < {{acc_len}}u; i++) {
        acc[i] = vec4<{{acc_t}}>({{zero}});
    }
    for (var k0 = 0u; k0 < k_len; k0 += BK) {
        // Stage the A tile: vec4 v holds rows 4r..4r+3 of column k.
        for (var v = tid; v < BK * BM / 4u; v += THREADS) {
            let k_fast = {{a_k_fast}};
            let k = select(v / (BM / 4u), v % BK, k_fast);
            let r = select(v % (BM / 4u), v / BK, k_fast);
            let kk = k0 + k;
            let col = i32(min(kk, k_len - 1u)) * a_col + a_at;
            var value: vec4<{{acc_t}}>;
            for (var j = 0u; j < 4u; j++) {
                let row = row0 + 4u * r + j;
                let x = load_a(col + i32(min(row, m - 1u)) * a_row);
                value[j] = select({{zero}}, x, row < m && kk < k_len);
            }
            tile_a[k * (BM / 4u) + r] = value;
        }
        // Stage the B tile: vec4 v holds columns 4c..4c+3 of row k.
        for (var v = tid; v < BK * BN / 4u; v += THREADS) {
            let k_fast = {{b_k_fast}};
            let k = select(v / (BN / 4u), v % BK, k_fast);
            let cq = select(v % (BN / 4u), v / BK, k_fast);
            let kk = k0 + k;
            let row = i32(min(kk, k_len - 1u)) * b_row + b_at;
            var value: vec4<{{acc_t}}>;
            for (var j = 0u; j < 4u; j++) {
                let col = col0 + 4u * cq + j;
                let x = load_b(row + i32(min(col, n - 1u)) * b_col);
                value[j] = select({{zero}}, x, col < n && kk < k_len);
            }
            tile_b[k * (BN / 4u) + cq] = value;
        }
        workgroupBarrier();
        for (var k = 0u; k < BK; k++) {
{{multiply}}
        }
        workgroupBarrier();
    }
    let c_at = batch * m * n;
    for (var i = 0u; i < TM; i++) {
        let row = row0 + 4u * ((i / 4u) * WY + lid.y) + i % 4u;
        if (row < m) {
            for (var g = 0u; g < TN / 4u; g++) {
                let col = col0 + 4u * (g * WX + lid.x);
                let block = acc[i * (TN / 4u) + g];
                for (var j = 0u; j < 4u; j++) {
                    if (col + j < n) {
                        let r_val = block[j];
                        c[c_at + row * n + col + j] = {{store}};
                    }
                }
            }
        }
    }
}
