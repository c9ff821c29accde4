// The end of a sweep of jacobi_rounds.wgsl: `sweep_end` marks each matrix
// whose sweep rotated nothing converged and counts those that are not (in
// state[2 batch]); `next_rounds` then writes the workgroup counts of the
// next sweep's rounds into `groups`: none once every matrix has converged,
// so the remaining rounds cost nothing.
// Parameters: [batch, groups x, groups y].
@group(0) @binding(1) var<storage, read_write> state: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read_write> groups: array<u32>;

@compute @workgroup_size(256)
fn sweep_end(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    _ = groups[0];
    let mat = gid.x + gid.y * nwg.x * 256u;
    let batch = params[0];
    if (mat >= batch) {
        return;
    }
    if (atomicExchange(&state[2u * mat], 0u) == 0u) {
        atomicStore(&state[2u * mat + 1u], 1u);
    }
    if (atomicLoad(&state[2u * mat + 1u]) == 0u) {
        atomicAdd(&state[2u * batch], 1u);
    }
}

@compute @workgroup_size(1)
fn next_rounds() {
    let batch = params[0];
    let busy = atomicExchange(&state[2u * batch], 0u) != 0u;
    groups[0] = select(0u, params[1], busy);
    groups[1] = select(1u, params[2], busy);
    groups[2] = 1u;
}
