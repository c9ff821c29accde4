// Scatter-add along one axis, the inverse of take_along_axis: for every
// element c of the indices, out[c with c[axis] = idx[c]] += upd[c]. The
// output already holds the base array. Floats add with a compare-exchange
// loop on the bits; integers with atomicAdd. Indices as in index.wgsl.
//
// Parameters: [size, ndim, axis, axis_len, offset_upd, offset_idx,
// shape[ndim], out_strides[ndim], upd_strides[ndim], idx_strides[ndim]].
// Filled in: `t` (f32, i32 or u32), `add`.
@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> upd: array<{{t}}>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<atomic<{{atomic_t}}>>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= params[0]) {
        return;
    }
    let ndim = params[1];
    let axis = params[2];
    let axis_len = i32(params[3]);
    var out_at = 0;
    var upd_at = i32(params[4]);
    var idx_at = i32(params[5]);
    var rest = i;
    for (var d = ndim; d > 0u; d--) {
        let extent = params[5u + d];
        let coord = i32(rest % extent);
        rest = rest / extent;
        upd_at += coord * bitcast<i32>(params[5u + 2u * ndim + d]);
        idx_at += coord * bitcast<i32>(params[5u + 3u * ndim + d]);
        if (d - 1u != axis) {
            out_at += coord * bitcast<i32>(params[5u + ndim + d]);
        }
    }
    var j = idx[idx_at];
    if (j < 0) {
        j += axis_len;
    }
    j = clamp(j, 0, axis_len - 1);
    let at = out_at + j * bitcast<i32>(params[6u + ndim + axis]);
    let v = upd[upd_at];
    {{add}}
}
