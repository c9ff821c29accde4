// Scaled dot-product attention without the score matrix in memory, as
// FlashAttention computes it: a thread per query (or, for the keys'
// gradient, per key) keeps its row and its accumulators in registers,
// while the workgroup streams tiles of the other side through workgroup
// memory (16 KiB at most, which every adapter has). The forward pass keeps
// a running maximum and sum of the softmax (rescaling only when the
// maximum grows), and writes each query's log-sum-exp beside its output;
// the derivative recomputes the probabilities from it. Scores are
// `scale q k`, at -inf for keys past the end or, when causal, keys
// j > i + Lk - Lq, plus the mask where there is one. A query that sees no
// key gets NaN, as the composed form gives.
//
// Parameters: [batches, Lq, Lk, D, Dv, q offset, k offset, v offset, mask
// offset, mask batch stride, mask query stride, causal, scale as f32
// bits, stats offset, output cotangent offset]. Filled in: `math`,
// `bindings` (those after v), `mask_value` (a function reading the mask,
// or giving 0), `d4` and `dv4` (vec4 per query or key row and per value
// row), `tile` (rows per tile, a multiple of 4), `kernel` (the entry
// points).
@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
{{bindings}}

{{math}}

const D4: u32 = {{d4}}u;
const DV4: u32 = {{dv4}}u;
const TILE: u32 = {{tile}}u;
const LANES: u32 = 64u;

// Tiles of rows of length D (keys, or scaled queries) and Dv (values, or
// output cotangents), and for the keys' gradient the queries' statistics.
var<workgroup> tile_d: array<vec4<f32>, TILE * D4>;
var<workgroup> tile_dv: array<vec4<f32>, TILE * DV4>;

{{mask_value}}

// Four values of q, k or v from `at + c`, zeros from `len` on.
fn q4(at: u32, c: u32, len: u32) -> vec4<f32> {
    var out = vec4(0.0);
    for (var t = 0u; t < 4u; t++) {
        if (c + t < len) { out[t] = q[at + c + t]; }
    }
    return out;
}

fn k4(at: u32, c: u32, len: u32) -> vec4<f32> {
    var out = vec4(0.0);
    for (var t = 0u; t < 4u; t++) {
        if (c + t < len) { out[t] = k[at + c + t]; }
    }
    return out;
}

fn v4(at: u32, c: u32, len: u32) -> vec4<f32> {
    var out = vec4(0.0);
    for (var t = 0u; t < 4u; t++) {
        if (c + t < len) { out[t] = v[at + c + t]; }
    }
    return out;
}

fn dot4(a: vec4<f32>) -> f32 {
    return a.x + a.y + a.z + a.w;
}

fn max4_or_nan(s: vec4<f32>) -> f32 {
    return k_max_or_nan(k_max_or_nan(s.x, s.y), k_max_or_nan(s.z, s.w));
}

// Whether query `i` sees key `j`.
fn visible(i: u32, j: u32) -> bool {
    let lk = params[2];
    let causal_end = i32(i) + i32(lk) - i32(params[1]);
    return j < lk && (params[11] == 0u || i32(j) <= causal_end);
}

// The scores `s` of query `i` against keys `j`..`j + 3` made final: the
// mask's value (row from `mask_row`) added, hidden keys at -inf.
fn finish_row(s: vec4<f32>, i: u32, j: u32, mask_row: u32) -> vec4<f32> {
    var out = s;
    for (var u = 0u; u < 4u; u++) {
        if (visible(i, j + u)) {
            out[u] += mask_value(mask_row + j + u);
        } else {
            out[u] = -k_inf();
        }
    }
    return out;
}

// exp(s - lse) for scores and their row's log-sum-exp; NaN for a query
// that sees no key (its log-sum-exp -inf), as the composed form gives.
fn probabilities(s: vec4<f32>, lse: vec4<f32>) -> vec4<f32> {
    let p = k_exp4_nonpositive(s - lse);
    return select(p, vec4(k_nan()), lse == vec4(-k_inf()));
}

// The end of the keys any query from `first` to `first + 63` sees.
fn key_end(first: u32) -> u32 {
    let lq = params[1];
    let lk = params[2];
    if (params[11] == 0u) {
        return lk;
    }
    let after_last = min(first + LANES, lq);
    return u32(clamp(i32(after_last) + i32(lk) - i32(lq), 0, i32(lk)));
}

// Keys and values `j0`..`j0 + TILE` of batch `b` into the tiles (zeros
// past the end). Every lane calls it.
fn load_keys(lane: u32, b: u32, j0: u32) {
    let lk = params[2];
    let d = params[3];
    let dv = params[4];
    for (var e = lane; e < TILE * D4; e += LANES) {
        let j = j0 + e / D4;
        var x = vec4(0.0);
        if (j < lk) { x = k4(params[6] + (b * lk + j) * d, (e % D4) * 4u, d); }
        tile_d[e] = x;
    }
    for (var e = lane; e < TILE * DV4; e += LANES) {
        let j = j0 + e / DV4;
        var x = vec4(0.0);
        if (j < lk) { x = v4(params[7] + (b * lk + j) * dv, (e % DV4) * 4u, dv); }
        tile_dv[e] = x;
    }
}

// Query `i` of batch `b`, scaled.
fn query_row(b: u32, i: u32) -> array<vec4<f32>, D4> {
    let d = params[3];
    let scale = bitcast<f32>(params[12]);
    var qr: array<vec4<f32>, D4>;
    for (var c = 0u; c < D4; c++) {
        qr[c] = q4(params[5] + (b * params[1] + i) * d, c * 4u, d) * scale;
    }
    return qr;
}

// The scores of a query row `qr` (scaled) against tile keys `t`..`t + 3`.
fn key_scores(qr: ptr<function, array<vec4<f32>, D4>>, t: u32) -> vec4<f32> {
    var s: vec4<f32>;
    for (var u = 0u; u < 4u; u++) {
        var acc = vec4(0.0);
        for (var c = 0u; c < D4; c++) {
            acc = fma((*qr)[c], tile_d[(t + u) * D4 + c], acc);
        }
        s[u] = dot4(acc);
    }
    return s;
}

// Which batch and which 64 rows (queries, or keys) a workgroup takes:
// (batch, first row); the batch is past the last when the grid overshoots.
// Uniform across the workgroup (the barriers depend on it): each lane's
// row is `min(first + lane, rows - 1)`, lanes past the last row taking the
// last one's and writing nothing.
fn group_rows(wid: vec3<u32>, nwg: vec3<u32>, rows: u32) -> vec2<u32> {
    let tiles = (rows + LANES - 1u) / LANES;
    let group = wid.x + wid.y * nwg.x;
    return vec2(group / tiles, (group % tiles) * LANES);
}

{{kernel}}
