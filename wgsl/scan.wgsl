// Inclusive scans along contiguous rows of (rows, K): one workgroup per row
// walks tiles of 256 elements, scanning each tile in workgroup memory and
// carrying the running total. Rows are short enough (checked by the op) that
// no loop runs too long.
//
// Parameters: [rows, K, offset_in, reverse]. Filled in: `enable`, `in_t`,
// `out_t`, `acc_t`, `identity`, `op` (of `a`, `b`), `store` (of `r`).
{{enable}}
@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> src: array<{{in_t}}>;
@group(0) @binding(2) var<storage, read_write> dst: array<{{out_t}}>;

var<workgroup> tile: array<{{acc_t}}, 256>;

fn apply(a: {{acc_t}}, b: {{acc_t}}) -> {{acc_t}} {
    return {{op}};
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = wid.x + wid.y * nwg.x;
    if (row >= params[0]) {
        return;
    }
    let k_len = params[1];
    let reverse = params[3] != 0u;
    let base = row * k_len;
    var carry: {{acc_t}} = {{identity}};
    for (var t = 0u; t < k_len; t += 256u) {
        let k = t + lid.x;
        // Position along the scan direction -> element index.
        let at = select(k, k_len - 1u - k, reverse);
        var v: {{acc_t}} = {{identity}};
        if (k < k_len) {
            v = {{acc_t}}(src[params[2] + base + at]);
        }
        tile[lid.x] = v;
        workgroupBarrier();
        for (var s = 1u; s < 256u; s <<= 1u) {
            var other: {{acc_t}} = {{identity}};
            if (lid.x >= s) {
                other = tile[lid.x - s];
            }
            workgroupBarrier();
            tile[lid.x] = apply(other, tile[lid.x]);
            workgroupBarrier();
        }
        let r = apply(carry, tile[lid.x]);
        if (k < k_len) {
            dst[base + at] = {{store}};
        }
        carry = apply(carry, tile[255]);
        workgroupBarrier();
    }
}
