// Attention's forward pass (see attention.wgsl): a thread per query,
// writing its output row and then its log-sum-exp.
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let lq = params[1];
    let dv = params[4];
    let at = group_rows(wid, nwg, lq);
    let b = at.x;
    if (b >= params[0]) {
        return;
    }
    let i = min(at.y + lid.x, lq - 1u);
    var qr = query_row(b, i);
    var acc: array<vec4<f32>, DV4>;
    var m = -k_inf();
    var l = 0.0;
    let mask_row = params[8] + b * params[9] + i * params[10];
    let end = key_end(at.y);
    for (var j0 = 0u; j0 < end; j0 += TILE) {
        load_keys(lid.x, b, j0);
        workgroupBarrier();
        for (var t = 0u; t < TILE; t += 4u) {
            let s = finish_row(key_scores(&qr, t), i, j0 + t, mask_row);
            let m_new = k_max_or_nan(m, max4_or_nan(s));
            let shift = select(m_new, 0.0, m_new == -k_inf());
            if (m_new > m) {
                // The running sums were relative to a smaller maximum.
                let rescale = k_exp(m - shift);
                l *= rescale;
                for (var c = 0u; c < DV4; c++) {
                    acc[c] *= rescale;
                }
            }
            m = m_new;
            let p = k_exp4_nonpositive(s - vec4(shift));
            l += dot4(p);
            for (var c = 0u; c < DV4; c++) {
                acc[c] += p.x * tile_dv[t * DV4 + c] + p.y * tile_dv[(t + 1u) * DV4 + c]
                    + p.z * tile_dv[(t + 2u) * DV4 + c] + p.w * tile_dv[(t + 3u) * DV4 + c];
            }
        }
        workgroupBarrier();
    }
    if (at.y + lid.x < lq) {
        let out_at = (b * lq + i) * (dv + 1u);
        for (var c = 0u; c < DV4; c++) {
            let o = acc[c] / l;
            for (var t = 0u; t < 4u; t++) {
                if (c * 4u + t < dv) { dst[out_at + c * 4u + t] = o[t]; }
            }
        }
        dst[out_at + dv] = select(m, 0.0, m == -k_inf()) + k_log(l);
    }
}
