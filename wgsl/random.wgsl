// The threefry2x32 block cipher (20 rounds), as jax.random uses it: for
// every counter pair (c0, c1) under key (k0, k1), out = threefry(k, c).
//
// Parameters: [n, offset_key, offset_counts].
@group(0) @binding(0) var<storage, read> params: array<u32>;
@group(0) @binding(1) var<storage, read> key: array<u32>;
@group(0) @binding(2) var<storage, read> counts: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;

fn rotl(v: u32, r: u32) -> u32 {
    return (v << r) | (v >> (32u - r));
}

fn mix(x: vec2<u32>, r: u32) -> vec2<u32> {
    let y0 = x.x + x.y;
    return vec2<u32>(y0, rotl(x.y, r) ^ y0);
}

fn rounds_a(x_in: vec2<u32>) -> vec2<u32> {
    return mix(mix(mix(mix(x_in, 13u), 15u), 26u), 6u);
}

fn rounds_b(x_in: vec2<u32>) -> vec2<u32> {
    return mix(mix(mix(mix(x_in, 17u), 29u), 16u), 24u);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= params[0]) {
        return;
    }
    let k0 = key[params[1]];
    let k1 = key[params[1] + 1u];
    let k2 = k0 ^ k1 ^ 0x1BD11BDAu;
    var x = vec2<u32>(counts[params[2] + 2u * i] + k0, counts[params[2] + 2u * i + 1u] + k1);
    x = rounds_a(x);
    x += vec2<u32>(k1, k2 + 1u);
    x = rounds_b(x);
    x += vec2<u32>(k2, k0 + 2u);
    x = rounds_a(x);
    x += vec2<u32>(k0, k1 + 3u);
    x = rounds_b(x);
    x += vec2<u32>(k1, k2 + 4u);
    x = rounds_a(x);
    x += vec2<u32>(k2, k0 + 5u);
    out[2u * i] = x.x;
    out[2u * i + 1u] = x.y;
}
