// Batched float16 matrix product on tensor cores (cooperative matrices):
// C = A B accumulated in float32. Each workgroup of 4 subgroups (of 32
// invocations) computes a 128 x 128 tile of C; subgroup s owns the 64 x 64
// block at rows 64 (s / 2), columns 64 (s % 2): 4 x 4 accumulators of
// 16 x 16, so that each 16-deep step loads 8 fragments for 16 products.
//
// Tiles wholly inside C, where the op says the operands allow it
// (`direct`: each dense along one axis, K a multiple of 16, rows aligned
// to 16 bytes), stream K through workgroup memory 32 at a time in two
// buffers: each thread loads its share of the next 128 x 32 tiles of A and
// B as 16-byte chunks into registers while the subgroups multiply the
// current ones, then stores them into the other buffer; one barrier per
// step. The tiles keep the operands' layouts (rows along K, or along M
// and N) with rows padded by 8 halves against bank conflicts. They hold
// vec4<f16> so that a chunk takes two stores, not eight; fragments load
// from them with offsets and strides counted in vec4s. A last 16 of K
// loads its fragments straight from the operands.
//
// Other tiles stage A and B row-major with zeros past the matrices' edges
// (so any M, N, K and any strides work).
//
// C is written as float32 into a buffer padded to whole tiles (`ldc`
// columns), from which the op takes the M x N float16 result.
//
// Parameters: [M, N, K, batch_ndim, offset_a, offset_b, a_row, a_col,
// b_row, b_col, batch_base, ldc, rows_padded, direct, batch_shape[nb],
// a_batch_strides[nb], b_batch_strides[nb]] (strides are i32 bits).
// Filled in: `a_k_fast`, `b_k_fast` (whether K is A's / B's contiguous
// axis), `a_ld`, `b_ld` (the operands' strides between fragment rows),
// and the unrolled `accumulators`, `direct_step`, `streamed_step`,
// `staged_step` and `stores` (written by src/backend/kernels/matmul.rs).
enable f16;
enable wgpu_cooperative_matrix;

@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> a: array<f16>;
@group(0) @binding(2) var<storage, read> b: array<f16>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
// A and B again, as 16-byte chunks (mat2x4<f16>) for the streamed tiles.
@group(0) @binding(4) var<storage, read> a_chunks: array<mat2x4<f16>>;
@group(0) @binding(5) var<storage, read> b_chunks: array<mat2x4<f16>>;

const BM: u32 = 128u;
const BN: u32 = 128u;
const BK: u32 = 32u;
const THREADS: u32 = 128u;
const HEADER: u32 = 14u;
const A_K_FAST: bool = {{a_k_fast}};
const B_K_FAST: bool = {{b_k_fast}};
// Row lengths of the streamed tiles: 32 along K or 128 across, plus 8.
const LDA: u32 = select(136u, 40u, A_K_FAST);
const LDB: u32 = select(136u, 40u, B_K_FAST);
// One buffer of a streamed tile (the larger layout).
const BUFFER: u32 = 5120u;

// Two buffers of the streamed tiles; the staged ones use the first 4096
// halves: A [BM][BK] and B [BK][BN], row-major. Fragment offsets count
// halves; `/ 4u` gives the vec4 holding one.
var<workgroup> tile_a: array<vec4<f16>, 2560>;
var<workgroup> tile_b: array<vec4<f16>, 2560>;

// This thread's chunks of the next streamed tiles.
var<private> next_a: array<mat2x4<f16>, 4>;
var<private> next_b: array<mat2x4<f16>, 4>;

// Chunk `e` (of 512) of a streamed tile: its row and first column, for a
// tile with rows along K (32 long, 4 chunks) or across (128, 16 chunks).
fn chunk_at(e: u32, k_fast: bool) -> vec2<u32> {
    return select(vec2(e / 16u, 8u * (e % 16u)), vec2(e / 4u, 8u * (e % 4u)), k_fast);
}

// Loads this thread's chunks of the tiles at K = k0 into registers. `a0`
// and `b0` are the elements at the tile's first row and column and K = 0.
fn fetch(tid: u32, a0: u32, b0: u32, a_ld: u32, b_ld: u32, k0: u32) {
    for (var i = 0u; i < 4u; i++) {
        let e = tid + i * THREADS;
        let ca = chunk_at(e, A_K_FAST);
        let cb = chunk_at(e, B_K_FAST);
        // Along K, rows are the tile's rows of A (columns of B), chunks
        // step through K; across, rows are K's and chunks step along them.
        let a_at = select(a0 + (k0 + ca.x) * a_ld + ca.y, a0 + ca.x * a_ld + k0 + ca.y, A_K_FAST);
        let b_at = select(b0 + (k0 + cb.x) * b_ld + cb.y, b0 + cb.x * b_ld + k0 + cb.y, B_K_FAST);
        next_a[i] = a_chunks[a_at / 8u];
        next_b[i] = b_chunks[b_at / 8u];
    }
}

// Stores the fetched chunks into buffer `buffer` of the streamed tiles.
fn stash(tid: u32, buffer: u32) {
    for (var i = 0u; i < 4u; i++) {
        let e = tid + i * THREADS;
        let ca = chunk_at(e, A_K_FAST);
        let cb = chunk_at(e, B_K_FAST);
        let a_at = (buffer * BUFFER + ca.x * LDA + ca.y) / 4u;
        let b_at = (buffer * BUFFER + cb.x * LDB + cb.y) / 4u;
        tile_a[a_at] = next_a[i][0];
        tile_a[a_at + 1u] = next_a[i][1];
        tile_b[b_at] = next_b[i][0];
        tile_b[b_at + 1u] = next_b[i][1];
    }
}

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
        let a_ld = u32({{a_ld}});
        let b_ld = u32({{b_ld}});
        let a0 = u32(a_at + i32(row0) * a_row);
        let b0 = u32(b_at + i32(col0) * b_col);
        fetch(tid, a0, b0, a_ld, b_ld, 0u);
        stash(tid, 0u);
        workgroupBarrier();
        let steps = k_len / BK;
        for (var t = 0u; t < steps; t++) {
            let more = t + 1u < steps;
            if (more) {
                fetch(tid, a0, b0, a_ld, b_ld, (t + 1u) * BK);
            }
            let buffer = (t % 2u) * BUFFER;
            for (var kk = 0u; kk < BK; kk += 16u) {
{{streamed_step}}            }
            if (more) {
                stash(tid, (t + 1u) % 2u);
            }
            workgroupBarrier();
        }
        if (k_len % BK != 0u) {
            let k0 = steps * BK;
            let a_k = u32(a_at + i32(row0 + sub_row) * a_row) + k0 * u32(a_col);
            let b_k = u32(b_at + i32(col0 + sub_col) * b_col) + k0 * u32(b_row);
{{direct_step}}        }
    }
    for (var k0 = 0u; k0 < select(k_len, 0u, interior); k0 += BK) {
        // Four neighbours along K (A) or N (B) per vec4; neighbouring
        // threads read neighbouring addresses of the operand.
        for (var e = tid; e < BM * BK / 4u; e += THREADS) {
            let r = select(e % BM, e / (BK / 4u), A_K_FAST);
            let q = select(e / BM, e % (BK / 4u), A_K_FAST);
            let row = row0 + r;
            var v = vec4<f16>();
            for (var h = 0u; h < 4u; h++) {
                let kg = k0 + 4u * q + h;
                let at = a_at + i32(min(row, m - 1u)) * a_row + i32(min(kg, k_len - 1u)) * a_col;
                v[h] = select(f16(0.0), a[at], row < m && kg < k_len);
            }
            tile_a[r * (BK / 4u) + q] = v;
        }
        for (var e = tid; e < BK * BN / 4u; e += THREADS) {
            let kk = select(e / (BN / 4u), e % BK, B_K_FAST);
            let q = select(e % (BN / 4u), e / BK, B_K_FAST);
            let kg = k0 + kk;
            var v = vec4<f16>();
            for (var h = 0u; h < 4u; h++) {
                let cg = col0 + 4u * q + h;
                let at = b_at + i32(min(kg, k_len - 1u)) * b_row + i32(min(cg, n - 1u)) * b_col;
                v[h] = select(f16(0.0), b[at], cg < n && kg < k_len);
            }
            tile_b[kk * (BN / 4u) + q] = v;
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
