// Attention's derivative (see attention.wgsl), from each query's
// statistics (its log-sum-exp, and delta: the sum of its output times the
// output's cotangent less the log-sum-exp's cotangent): with p = exp(s -
// lse) and ds = p (dO v - delta), the queries' gradient is scale ds k,
// the keys' scale dsᵀ q and the values' pᵀ dO. `queries` runs a thread
// per query over tiles of keys; `keys` a thread per key over tiles of
// queries, writing the keys' gradient and then the values'. Neither
// needs atomics.

var<workgroup> tile_stats: array<vec2<f32>, TILE>;

// The output cotangent's four values from `at + c`, zeros from `len` on.
fn d_out4(at: u32, c: u32, len: u32) -> vec4<f32> {
    var out = vec4(0.0);
    for (var t = 0u; t < 4u; t++) {
        if (c + t < len) { out[t] = d_out[at + c + t]; }
    }
    return out;
}

fn stats_of(b: u32, i: u32) -> vec2<f32> {
    let at = params[13] + (b * params[1] + i) * 2u;
    return vec2(stats[at], stats[at + 1u]);
}

@compute @workgroup_size(64)
fn queries(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let lq = params[1];
    let d = params[3];
    let dv = params[4];
    let at = group_rows(wid, nwg, lq);
    let b = at.x;
    if (b >= params[0]) {
        return;
    }
    let i = min(at.y + lid.x, lq - 1u);
    let scale = bitcast<f32>(params[12]);
    var qr = query_row(b, i);
    var dor: array<vec4<f32>, DV4>;
    for (var c = 0u; c < DV4; c++) {
        dor[c] = d_out4(params[14] + (b * lq + i) * dv, c * 4u, dv);
    }
    let st = stats_of(b, i);
    var dq: array<vec4<f32>, D4>;
    let mask_row = params[8] + b * params[9] + i * params[10];
    let end = key_end(at.y);
    for (var j0 = 0u; j0 < end; j0 += TILE) {
        load_keys(lid.x, b, j0);
        workgroupBarrier();
        for (var t = 0u; t < TILE; t += 4u) {
            let s = finish_row(key_scores(&qr, t), i, j0 + t, mask_row);
            let p = probabilities(s, vec4(st.x));
            var dp: vec4<f32>;
            for (var u = 0u; u < 4u; u++) {
                var acc = vec4(0.0);
                for (var c = 0u; c < DV4; c++) {
                    acc = fma(dor[c], tile_dv[(t + u) * DV4 + c], acc);
                }
                dp[u] = dot4(acc);
            }
            let ds = p * (dp - vec4(st.y));
            for (var c = 0u; c < D4; c++) {
                dq[c] += ds.x * tile_d[t * D4 + c] + ds.y * tile_d[(t + 1u) * D4 + c]
                    + ds.z * tile_d[(t + 2u) * D4 + c] + ds.w * tile_d[(t + 3u) * D4 + c];
            }
        }
        workgroupBarrier();
    }
    if (at.y + lid.x < lq) {
        let out_at = (b * lq + i) * d;
        for (var c = 0u; c < D4; c++) {
            let g = dq[c] * scale;
            for (var t = 0u; t < 4u; t++) {
                if (c * 4u + t < d) { dst[out_at + c * 4u + t] = g[t]; }
            }
        }
    }
}

// Scaled queries, output cotangents and statistics of queries
// `i0`..`i0 + TILE` of batch `b` into the tiles (zeros past the end).
// Every lane calls it.
fn load_queries(lane: u32, b: u32, i0: u32) {
    let lq = params[1];
    let d = params[3];
    let dv = params[4];
    let scale = bitcast<f32>(params[12]);
    for (var e = lane; e < TILE * D4; e += LANES) {
        let i = i0 + e / D4;
        var x = vec4(0.0);
        if (i < lq) { x = q4(params[5] + (b * lq + i) * d, (e % D4) * 4u, d) * scale; }
        tile_d[e] = x;
    }
    for (var e = lane; e < TILE * DV4; e += LANES) {
        let i = i0 + e / DV4;
        var x = vec4(0.0);
        if (i < lq) { x = d_out4(params[14] + (b * lq + i) * dv, (e % DV4) * 4u, dv); }
        tile_dv[e] = x;
    }
    for (var e = lane; e < TILE; e += LANES) {
        var x = vec2(0.0);
        if (i0 + e < lq) { x = stats_of(b, i0 + e); }
        tile_stats[e] = x;
    }
}

@compute @workgroup_size(64)
fn keys(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let lq = params[1];
    let lk = params[2];
    let d = params[3];
    let dv = params[4];
    let at = group_rows(wid, nwg, lk);
    let b = at.x;
    if (b >= params[0]) {
        return;
    }
    let j = min(at.y + lid.x, lk - 1u);
    var kr: array<vec4<f32>, D4>;
    for (var c = 0u; c < D4; c++) {
        kr[c] = k4(params[6] + (b * lk + j) * d, c * 4u, d);
    }
    var vr: array<vec4<f32>, DV4>;
    for (var c = 0u; c < DV4; c++) {
        vr[c] = v4(params[7] + (b * lk + j) * dv, c * 4u, dv);
    }
    var dk: array<vec4<f32>, D4>;
    var dvr: array<vec4<f32>, DV4>;
    // Causal: the first query that sees the group's first key.
    var start = 0u;
    if (params[11] != 0u) {
        start = u32(clamp(i32(at.y) - i32(lk) + i32(lq), 0, i32(lq)));
    }
    let mask_column = params[8] + b * params[9] + j;
    for (var i0 = start; i0 < lq; i0 += TILE) {
        load_queries(lid.x, b, i0);
        workgroupBarrier();
        for (var t = 0u; t < TILE; t += 4u) {
            var s: vec4<f32>;
            var stat_lse: vec4<f32>;
            var stat_delta: vec4<f32>;
            for (var u = 0u; u < 4u; u++) {
                let i = i0 + t + u;
                var acc = vec4(0.0);
                for (var c = 0u; c < D4; c++) {
                    acc = fma(tile_d[(t + u) * D4 + c], kr[c], acc);
                }
                s[u] = -k_inf();
                if (i < lq && visible(i, j)) {
                    s[u] = dot4(acc) + mask_value(mask_column + i * params[10]);
                }
                stat_lse[u] = tile_stats[t + u].x;
                stat_delta[u] = tile_stats[t + u].y;
            }
            let p = probabilities(s, stat_lse);
            var dp: vec4<f32>;
            for (var u = 0u; u < 4u; u++) {
                var acc = vec4(0.0);
                for (var c = 0u; c < DV4; c++) {
                    acc = fma(tile_dv[(t + u) * DV4 + c], vr[c], acc);
                }
                dp[u] = dot4(acc);
            }
            let ds = p * (dp - stat_delta);
            for (var c = 0u; c < DV4; c++) {
                dvr[c] += p.x * tile_dv[t * DV4 + c] + p.y * tile_dv[(t + 1u) * DV4 + c]
                    + p.z * tile_dv[(t + 2u) * DV4 + c] + p.w * tile_dv[(t + 3u) * DV4 + c];
            }
            for (var c = 0u; c < D4; c++) {
                dk[c] += ds.x * tile_d[t * D4 + c] + ds.y * tile_d[(t + 1u) * D4 + c]
                    + ds.z * tile_d[(t + 2u) * D4 + c] + ds.w * tile_d[(t + 3u) * D4 + c];
            }
        }
        workgroupBarrier();
    }
    if (at.y + lid.x < lk) {
        let out_at = (b * lk + j) * (d + dv);
        for (var c = 0u; c < D4; c++) {
            for (var t = 0u; t < 4u; t++) {
                if (c * 4u + t < d) { dst[out_at + c * 4u + t] = dk[c][t]; }
            }
        }
        for (var c = 0u; c < DV4; c++) {
            for (var t = 0u; t < 4u; t++) {
                if (c * 4u + t < dv) { dst[out_at + d + c * 4u + t] = dvr[c][t]; }
            }
        }
    }
}
