// The sum of the squares of several float32 arrays, first pass: each
// workgroup sums the squares of up to CHUNK elements of one input into one
// partial result (the partials are summed by a second reduction). Input k
// takes the workgroups from its `first` on.
//
// Parameters: [size, offset, first] per input, then the workgroup count.
// Filled in: `bindings` (of `in0`, `in1`, ... and `partials`), `count`
// (inputs), `cases` (the switch arms of `load`).
@group(0) @binding(0) var<storage, read> params: array<u32>;
{{bindings}}

const CHUNK: u32 = 4096u;
const COUNT: u32 = {{count}}u;

var<workgroup> partial: array<f32, 256>;

fn load(k: u32, at: u32) -> f32 {
    switch k {
        {{cases}}
    }
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = wid.x + wid.y * nwg.x;
    if (w >= params[3u * COUNT]) {
        return;
    }
    var k = 0u;
    for (var j = 1u; j < COUNT; j++) {
        if (w >= params[3u * j + 2u]) {
            k = j;
        }
    }
    let begin = (w - params[3u * k + 2u]) * CHUNK;
    let end = min(begin + CHUNK, params[3u * k]);
    let offset = params[3u * k + 1u];
    var acc = 0.0;
    for (var i = begin + lid.x; i < end; i += 256u) {
        let v = load(k, offset + i);
        acc += v * v;
    }
    partial[lid.x] = acc;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (lid.x < s) {
            partial[lid.x] += partial[lid.x + s];
        }
        workgroupBarrier();
    }
    if (lid.x == 0u) {
        partials[w] = partial[0];
    }
}
