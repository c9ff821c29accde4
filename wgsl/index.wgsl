// Gather along one axis (take_along_axis): out[c] = src[c with c[axis] =
// idx[c]], negative indices counting from the end, out-of-range ones clamped.
//
// Parameters: [size, ndim, axis, axis_len, offset_src, offset_idx, shape[ndim],
// src_strides[ndim], idx_strides[ndim]]. Filled in: `enable`, `t`.
{{enable}}
@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> src: array<{{t}}>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<{{t}}>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= params[0]) {
        return;
    }
    let ndim = params[1];
    let axis = params[2];
    let axis_len = i32(params[3]);
    var src_at = i32(params[4]);
    var idx_at = i32(params[5]);
    var rest = i;
    for (var d = ndim; d > 0u; d--) {
        let extent = params[5u + d];
        let coord = i32(rest % extent);
        rest = rest / extent;
        idx_at += coord * bitcast<i32>(params[5u + 2u * ndim + d]);
        if (d - 1u != axis) {
            src_at += coord * bitcast<i32>(params[5u + ndim + d]);
        }
    }
    var j = idx[idx_at];
    if (j < 0) {
        j += axis_len;
    }
    j = clamp(j, 0, axis_len - 1);
    out[i] = src[src_at + j * bitcast<i32>(params[6u + ndim + axis])];
}
