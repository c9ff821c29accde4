//! WebGPU's limits in one place: what every kernel may assume, and what this
//! adapter really offers.

/// Threads per workgroup for the 1-D kernels (elementwise, gather, scatter).
pub const WORKGROUP_SIZE: u32 = 256;

/// The most workgroups per dispatch dimension WebGPU guarantees; larger
/// grids fold into a second dimension.
pub const MAX_WORKGROUPS_PER_DIM: u32 = 65535;

/// Kernels keep every loop below this many iterations per thread (lavapipe
/// silently stops loops at 65535 iterations).
pub const MAX_LOOP_TRIPS: usize = 16384;

/// Storage buffers per shader stage that WebGPU guarantees.
pub const MAX_STORAGE_BUFFERS: usize = 8;

/// The largest number of dimensions a strided kernel supports.
pub use crate::array::MAX_NDIM;

/// Lanes of the workgroup that a row kernel (reductions of rows up to a
/// few thousand, softmax's sweeps, normalisation) gives each row: 64 lanes
/// each looping over the row keep more loads in flight and take fewer
/// barriers per element than 256 sharing it (on an H100, sums of 16384
/// rows of 1024 at 2.1-2.2 TB/s against 1.9).
pub const ROW_LANES: u32 = 64;

/// Rows up to this long are reduced one thread per row on a GPU
/// (reductions, softmax); longer ones take a workgroup each. CPU adapters
/// go further (`kernels::thread_row_max`).
pub const THREAD_ROW_MAX: usize = 64;

/// Splits `groups` workgroups into an `(x, y)` grid within WebGPU's limits;
/// kernels recover the linear id as `wid.x + wid.y * nwg.x`.
pub fn grid(groups: u32) -> [u32; 3] {
    if groups <= MAX_WORKGROUPS_PER_DIM {
        [groups.max(1), 1, 1]
    } else {
        let y = groups.div_ceil(MAX_WORKGROUPS_PER_DIM);
        [groups.div_ceil(y), y, 1]
    }
}

/// The grid for `threads` threads in workgroups of [`WORKGROUP_SIZE`].
pub fn grid_for_threads(threads: usize) -> [u32; 3] {
    grid((threads as u64).div_ceil(WORKGROUP_SIZE as u64) as u32)
}

/// What kiln uses of an adapter's limits and features.
#[derive(Debug, Clone)]
pub struct DeviceLimits {
    /// The largest storage buffer binding, in bytes.
    pub max_storage_binding_bytes: u64,
    /// The largest buffer, in bytes.
    pub max_buffer_bytes: u64,
    /// Workgroup (shared) memory per workgroup, in bytes.
    pub max_workgroup_storage_bytes: u32,
    /// Threads per workgroup.
    pub max_invocations_per_workgroup: u32,
    /// The alignment of storage binding offsets, in bytes.
    pub storage_offset_alignment: u32,
    /// Storage buffers one kernel may bind.
    pub max_storage_buffers: u32,
    /// Whether kernels may use float16 (`shader-f16`).
    pub shader_f16: bool,
    /// 16 x 16 x 16 float16 cooperative matrices with float32 accumulators
    /// in subgroups of 32 (tensor cores), used for float16 matmul.
    pub cooperative_f16: bool,
    /// A software adapter running on the CPU (lavapipe, SwiftShader): a
    /// few cores wide, and workgroup barriers cost far more than on a GPU.
    pub cpu: bool,
}

/// Right-hand sides a triangular solve counts as few (see
/// [`KernelLimits::narrow_triangular_blocked_from`]).
pub const NARROW_RHS: usize = 8;

/// What one kernel of a backend can compute, as data for lowering: nodes
/// beyond these are rewritten into smaller primitives before encoding.
#[derive(Debug, Clone)]
pub struct KernelLimits {
    /// The most rows (or columns) of a matrix product's result.
    pub matmul_max_rows: usize,
    /// The longest inner dimension of a matrix product.
    pub matmul_max_k: usize,
    /// The longest axis a scan runs along.
    pub scan_max_len: usize,
    /// The longest axis an argmax or argmin runs along.
    pub arg_reduce_max_len: usize,
    /// Factorizations of matrices larger than this run as blocked graphs of
    /// panel kernels and matrix products.
    pub linalg_blocked_from: usize,
    /// LU factorizations of matrices larger than this run blocked.
    pub lu_blocked_from: usize,
    /// The columns each panel kernel of a blocked LU factors.
    pub lu_panel: usize,
    /// Triangular solves for a few right-hand sides (at most
    /// [`NARROW_RHS`]) of matrices larger than this run blocked.
    pub narrow_triangular_blocked_from: usize,
    /// The longest query, key or value rows attention's kernels take
    /// (longer ones run composed; 0: attention always runs composed).
    pub attention_max_head_dim: usize,
    /// The largest array a kernel can write, in bytes (larger results are
    /// an error before anything is lowered or encoded).
    pub max_array_bytes: u64,
}
