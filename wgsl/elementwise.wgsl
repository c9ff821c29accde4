// Elementwise map of strided inputs into a strided output, one element per
// thread, or (vectorised: contiguous operands aligned to 4 elements) four
// per thread through vec4 loads and stores. Generated per op, dtypes and
// addressing: `enable`, `header`, `bindings`, `functions` and `body` are
// filled in by src/backend/kernels/elementwise.rs.
//
// Parameters (binding 0): [size, ndim, p0, p1, offset_out, offset_in0..,
// shape[ndim], strides_out[ndim], strides_in0[ndim], ...]; strides are i32
// bits, and the shape starts at HEADER (5 + the number of inputs).
{{enable}}
@group(0) @binding(0) var<storage, read> params: array<u32>;
{{bindings}}
const HEADER: u32 = {{header}}u;

// Element offset of linear index `i` in operand `k` (0 = output).
fn strided_offset(i: u32, k: u32) -> u32 {
    let ndim = params[1];
    let strides = HEADER + ndim * (1u + k);
    var rest = i;
    var at = i32(params[4u + k]);
    for (var d = ndim; d > 0u; d--) {
        let extent = params[HEADER + d - 1u];
        at += i32(rest % extent) * bitcast<i32>(params[strides + d - 1u]);
        rest = rest / extent;
    }
    return u32(at);
}

// The block size of repeat-addressed operand `k`, kept in its first stride
// slot.
fn period(k: u32) -> u32 {
    return params[HEADER + params[1] * (1u + k)];
}

{{math}}
{{functions}}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    // This thread's element, or its vec4 of elements in vectorised kernels.
    let t = gid.x + gid.y * nwg.x * 256u;
    let p0 = params[2];
    let p1 = params[3];
{{body}}
}
