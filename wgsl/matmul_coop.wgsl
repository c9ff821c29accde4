// Batched float16 matrix product on tensor cores (cooperative matrices):
// C = A B accumulated in float32. Each workgroup of 4 subgroups (of 32
// invocations) computes a 128 x 128 tile of C; subgroup s owns the 64 x 64
// block at rows 64 (s / 2), columns 64 (s % 2): 4 x 4 accumulators of
// 16 x 16, so that each k step loads 8 fragments for 16 products. K advances 32 at a time through workgroup memory, where the A and
// B tiles are staged row-major with zeros past the matrices' edges (so any
// M, N, K and any strides work).
//
// Tiles wholly inside C skip the staging when the op says the operands
// allow it (`direct`: each dense along one axis, K a multiple of 16, rows
// aligned to 16 bytes): subgroups then load their fragments straight from
// the operands, which the caches share between them.
//
// C is written as float32 into a buffer padded to whole tiles (`ldc`
// columns), from which the op takes the M x N float16 result.
//
// Parameters: [M, N, K, batch_ndim, offset_a, offset_b, a_row, a_col,
// b_row, b_col, batch_base, ldc, rows_padded, direct, batch_shape[nb],
// a_batch_strides[nb], b_batch_strides[nb]] (strides are i32 bits).
// Filled in: `a_k_fast`, `b_k_fast` (whether K is A's / B's contiguous
// axis), `a_ld`, `b_ld` (the fragments' strides), and the unrolled
// `accumulators`, `direct_step`, `staged_step` and `stores` (written by
// src/backend/kernels/matmul.rs).
enable f16;
enable wgpu_cooperative_matrix;

@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> a: array<f16>;
@group(0) @binding(2) var<storage, read> b: array<f16>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

const BM: u32 = 128u;
const BN: u32 = 128u;
const BK: u32 = 32u;
const THREADS: u32 = 128u;
const HEADER: u32 = 14u;

// A tile [BM][BK] and B tile [BK][BN], row-major.
var<workgroup> tile_a: array<f16, 4096>;
var<workgroup> tile_b: array<f16, 4096>;

fn stride(k: u32) -> i32 {
    return bitcast<i32>(params[k]);
}

@compute @workgroup_size(128)
fn main(@builtin(local_invocation_index) tid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
{{operands}}    let row0 = wid.y * BM;
    let col0 = wid.x * BN;
    // This subgroup's block of the tile.
    let sub = tid / 32u;
    let sub_row = (sub / 2u) * 64u;
    let sub_col = (sub % 2u) * 64u;
{{accumulators}}    // `&`, not `&&`: naga lowers `&&` through a variable, which its
    // uniformity analysis (needed around cooperative ops) cannot follow.
    let interior = (params[13] != 0u) & (row0 + BM <= m) & (col0 + BN <= n);
    if (interior) {
        let a_frag = u32(a_at + i32(row0 + sub_row) * a_row);
        let b_frag = u32(b_at + i32(col0 + sub_col) * b_col);
        let a_ld = u32({{a_ld}});
        let b_ld = u32({{b_ld}});
        for (var k0 = 0u; k0 < k_len; k0 += 16u) {
            let a_k = a_frag + k0 * u32(a_col);
            let b_k = b_frag + k0 * u32(b_row);
{{direct_step}}        }
    }
    for (var k0 = 0u; k0 < select(k_len, 0u, interior); k0 += BK) {
        for (var e = tid; e < BM * BK; e += THREADS) {
            let k_fast = {{a_k_fast}};
            let r = select(e % BM, e / BK, k_fast);
            let kk = select(e / BM, e % BK, k_fast);
            let row = row0 + r;
            let kg = k0 + kk;
            let at = a_at + i32(min(row, m - 1u)) * a_row + i32(min(kg, k_len - 1u)) * a_col;
            tile_a[r * BK + kk] = select(f16(0.0), a[at], row < m && kg < k_len);
        }
        for (var e = tid; e < BK * BN; e += THREADS) {
            let k_fast = {{b_k_fast}};
            let col = select(e % BN, e / BK, k_fast);
            let kk = select(e / BN, e % BK, k_fast);
            let cg = col0 + col;
            let kg = k0 + kk;
            let at = b_at + i32(min(kg, k_len - 1u)) * b_row + i32(min(cg, n - 1u)) * b_col;
            tile_b[kk * BN + col] = select(f16(0.0), b[at], cg < n && kg < k_len);
        }
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk += 16u) {
{{staged_step}}        }
        workgroupBarrier();
    }
    // The padded output holds whole tiles: every store is inside it. (The
    // store addresses are named first: naga 30's SPIR-V writer does not
    // emit an index computed inside a cooperative store.)
    let ldc = params[11];
    let block = batch * params[12] * ldc + (row0 + sub_row) * ldc + col0 + sub_col;
{{stores}}}
