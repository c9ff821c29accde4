// Row reductions of a contiguous (rows, K) input. Each row is split into
// segments of `seg` elements (so no thread loops too long); item = (row,
// segment) writes one partial result. `by_workgroup` gives each item a
// workgroup of `lanes` lanes, each with four loads in flight, and a tree in
// workgroup memory (64 lanes for whole rows of up to a few thousand: fewer
// barriers per element and more loads in flight than 256 sharing a short
// row; 256 for long segments, where 64 lanes would each combine too many
// values one after another); `by_thread` one thread (short rows).
//
// Parameters: [rows, K, seg, nseg, offset].
// Filled in: `enable`, `in_t`, `out_t`, `acc_t`, `identity`, `lanes`,
// `load` (of `v: in_t`), `combine` (of `a, b: Acc`), `store` (of `r: Acc`).
{{enable}}
@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> src: array<{{in_t}}>;
@group(0) @binding(2) var<storage, read_write> dst: array<{{out_t}}>;

struct Acc {
    v: {{acc_t}},
    i: u32,
}

{{math}}

fn load(at: u32, k: u32) -> Acc {
    let v = src[at];
    return Acc({{load}}, k);
}

fn combine(a: Acc, b: Acc) -> Acc {
    {{combine}}
}

fn store(r: Acc) -> {{out_t}} {
    return {{store}};
}

const LANES: u32 = {{lanes}}u;

var<workgroup> partial: array<Acc, LANES>;

@compute @workgroup_size(LANES)
fn by_workgroup(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let item = wid.x + wid.y * nwg.x;
    let nseg = params[3];
    if (item >= params[0] * nseg) {
        return;
    }
    let k_len = params[1];
    let begin = (item % nseg) * params[2];
    let end = min(begin + params[2], k_len);
    let base = params[4] + (item / nseg) * k_len;
    var acc = Acc({{identity}}, 0xffffffffu);
    var k = begin + lid.x;
    // Four independent loads in flight per thread, then the rest one by one.
    for (; k + 3u * LANES < end; k += 4u * LANES) {
        let a = combine(load(base + k, k), load(base + k + LANES, k + LANES));
        let b = combine(load(base + k + 2u * LANES, k + 2u * LANES), load(base + k + 3u * LANES, k + 3u * LANES));
        acc = combine(acc, combine(a, b));
    }
    for (; k < end; k += LANES) {
        acc = combine(acc, load(base + k, k));
    }
    partial[lid.x] = acc;
    workgroupBarrier();
    for (var s = LANES / 2u; s > 0u; s >>= 1u) {
        if (lid.x < s) {
            partial[lid.x] = combine(partial[lid.x], partial[lid.x + s]);
        }
        workgroupBarrier();
    }
    if (lid.x == 0u) {
        dst[item] = store(partial[0]);
    }
}

@compute @workgroup_size(256)
fn by_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let item = gid.x + gid.y * nwg.x * 256u;
    let nseg = params[3];
    if (item >= params[0] * nseg) {
        return;
    }
    let k_len = params[1];
    let begin = (item % nseg) * params[2];
    let end = min(begin + params[2], k_len);
    let base = params[4] + (item / nseg) * k_len;
    var acc = Acc({{identity}}, 0xffffffffu);
    for (var k = begin; k < end; k++) {
        acc = combine(acc, load(base + k, k));
    }
    dst[item] = store(acc);
}

// Column reductions of a contiguous (K, cols) input: item = (segment,
// column) reduces one segment of one column, neighbouring threads reading
// neighbouring columns; partials are laid out (nseg, cols).
// Parameters: [cols, K, seg, nseg, offset].
@compute @workgroup_size(256)
fn by_column(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let item = gid.x + gid.y * nwg.x * 256u;
    let cols = params[0];
    if (item >= cols * params[3]) {
        return;
    }
    let col = item % cols;
    let begin = (item / cols) * params[2];
    let end = min(begin + params[2], params[1]);
    let at = params[4] + col;
    var acc = Acc({{identity}}, 0xffffffffu);
    var k = begin;
    for (; k + 3u < end; k += 4u) {
        let a = combine(load(at + k * cols, k), load(at + (k + 1u) * cols, k + 1u));
        let b = combine(load(at + (k + 2u) * cols, k + 2u), load(at + (k + 3u) * cols, k + 3u));
        acc = combine(acc, combine(a, b));
    }
    for (; k < end; k++) {
        acc = combine(acc, load(at + k * cols, k));
    }
    dst[item] = store(acc);
}
