// Sorting the rows of a contiguous (rows, n) array with a bitonic network
// over rows padded to P = next power of two: `init` copies keys and indices,
// each `step` dispatch does one compare-exchange stage (j, k), `finish`
// writes the sorted indices. Order: by value (NaN last, or first when
// descending), ties by index, so the sort is stable; padding always last.
//
// Parameters: [rows, n, P, j, k, descending, offset_src]. Filled in:
// `enable`, `bindings`, `math`, `key_t`, `load` (of a storage value
// `v`), `isnan_a` and `isnan_b` (whether `ka`, `kb` are NaN).
{{enable}}
@group(0) @binding(0) var<storage, read> params: array<u32>;
{{bindings}}

{{math}}

fn thread_id(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * 256u;
}

// Whether element (ka, ia) goes before (kb, ib).
fn before(ka: {{key_t}}, ia: u32, kb: {{key_t}}, ib: u32) -> bool {
    let n = params[1];
    let pad_a = ia >= n;
    let pad_b = ib >= n;
    if (pad_a || pad_b) {
        return (!pad_a && pad_b) || (pad_a && pad_b && ia < ib);
    }
    let nan_a = {{isnan_a}};
    let nan_b = {{isnan_b}};
    var tie = (nan_a && nan_b) || (!nan_a && !nan_b && ka == kb);
    if (tie) {
        return ia < ib;
    }
    if (params[5] != 0u) {
        return (nan_a && !nan_b) || (!nan_a && !nan_b && ka > kb);
    }
    return (!nan_a && nan_b) || (!nan_a && !nan_b && ka < kb);
}

@compute @workgroup_size(256)
fn init(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_id(gid, nwg);
    let n = params[1];
    let p = params[2];
    if (t >= params[0] * p) {
        return;
    }
    let row = t / p;
    let pos = t % p;
    var key: {{key_t}};
    if (pos < n) {
        let v = src[params[6] + row * n + pos];
        key = {{load}};
    }
    keys[t] = key;
    idx[t] = pos;
}

@compute @workgroup_size(256)
fn step(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_id(gid, nwg);
    let p = params[2];
    let half_p = p / 2u;
    if (t >= params[0] * half_p) {
        return;
    }
    let j = params[3];
    let k = params[4];
    let row = t / half_p;
    let pair = t % half_p;
    let i = (pair / j) * 2u * j + (pair % j);
    let l = i + j;
    let a = row * p + i;
    let b = row * p + l;
    let ascending = (i & k) == 0u;
    let ka = keys[a];
    let kb = keys[b];
    let ia = idx[a];
    let ib = idx[b];
    var swap: bool;
    if (ascending) {
        swap = before(kb, ib, ka, ia);
    } else {
        swap = before(ka, ia, kb, ib);
    }
    if (swap) {
        keys[a] = kb;
        keys[b] = ka;
        idx[a] = ib;
        idx[b] = ia;
    }
}

@compute @workgroup_size(256)
fn finish(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_id(gid, nwg);
    let n = params[1];
    if (t >= params[0] * n) {
        return;
    }
    let row = t / n;
    out[t] = i32(idx[row * params[2] + t % n]);
}
