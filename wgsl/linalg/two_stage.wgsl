// Shared by the two-stage kernels (eigh_tridiagonal, svd_bidiagonal): the
// bindings, the tridiagonal or bidiagonal in workgroup memory, the bound on
// the sweeps that diagonalize it, and Householder reflectors on `work`.
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> work: array<f32>;
@group(0) @binding(4) var<storage, read_write> aux: array<f32>;
@group(0) @binding(5) var<storage, read_write> state: array<u32>;

// The largest n.
const MAXN: u32 = {{maxn}}u;
// Sweeps per eigenvalue (singular value) at most, as EISPACK's.
const SWEEPS: u32 = {{sweeps}}u;
// Loop trips one dispatch's sweeps may take.
const SWEEP_BUDGET: u32 = {{sweep_budget}}u;

// The diagonal and the off-diagonal of the tridiagonal or bidiagonal.
var<workgroup> td: array<f32, MAXN>;
var<workgroup> te: array<f32, MAXN>;
// A reflector being applied.
var<workgroup> hv: array<f32, MAXN>;
// The sweeps spent on the value being found.
var<workgroup> sweeps_done: u32;

// The reflector H = I - tau v vᵀ, v[0] = 1, with H x = (beta, 0, ...) for
// the `count` entries x of `work` from `first` in steps of `stride`; v's
// other entries overwrite x's. Returns (tau, beta); tau = 0 (H = I) when
// nothing below x[0] needs zeroing. Call in uniform control flow.
fn reflector(lid: u32, first: u32, count: u32, stride: u32) -> vec2<f32> {
    let alpha = work[first];
    var amax = 0.0;
    for (var i = 1u + lid; i < count; i += WG) {
        amax = max(amax, abs(work[first + i * stride]));
    }
    let scale = max(wg_max_abs(lid, amax), abs(alpha));
    var part = 0.0;
    if (scale > 0.0) {
        for (var i = 1u + lid; i < count; i += WG) {
            let x = work[first + i * stride] / scale;
            part += x * x;
        }
    }
    let tail = wg_sum(lid, part);
    var tau = 0.0;
    var beta = alpha;
    if (tail > 0.0) {
        // In units of `scale` (so that v is finite when x is tiny).
        let sa = alpha / scale;
        let sb = -sign(sa + select(0.0, 1e-30, sa == 0.0)) * sqrt(sa * sa + tail);
        beta = sb * scale;
        tau = (sb - sa) / sb;
        let inv = 1.0 / (sa - sb);
        for (var i = 1u + lid; i < count; i += WG) {
            work[first + i * stride] = work[first + i * stride] / scale * inv;
        }
    }
    return vec2<f32>(tau, beta);
}

// sqrt(a² + b²) without overflow.
fn hyp(a: f32, b: f32) -> f32 {
    let x = max(abs(a), abs(b));
    if (x == 0.0) {
        return 0.0;
    }
    let y = min(abs(a), abs(b)) / x;
    return x * sqrt(1.0 + y * y);
}

// The matrix into `work` at `a` (`count` entries of the input at `at`).
fn copy_input(lid: u32, a: u32, at: u32, count: u32) {
    for (var t = lid; t < count; t += WG) {
        work[a + t] = src[at + t];
    }
    sync();
}

// td and te from `aux`, where an earlier dispatch left them (n each, at
// d_at and e_at).
fn load_diagonals(lid: u32, n: u32, d_at: u32, e_at: u32) {
    for (var i = lid; i < n; i += WG) {
        td[i] = aux[d_at + i];
        te[i] = aux[e_at + i];
    }
}

// td and te into `aux`, for a later dispatch.
fn store_diagonals(lid: u32, n: u32, d_at: u32, e_at: u32) {
    workgroupBarrier();
    for (var i = lid; i < n; i += WG) {
        aux[d_at + i] = td[i];
        aux[e_at + i] = te[i];
    }
}
