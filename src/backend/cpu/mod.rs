//! The CPU backend: every primitive computed on the host in plain Rust, at
//! once, as the scheduler hands it over (there is no queue to batch into).
//! It runs where there is no GPU driver, natively and in WebAssembly (where
//! a browser has no WebGPU), and serves as the reference the GPU backend is
//! checked against.
//!
//! Buffers hold elements as the GPU stores them (float16 as `f16`, bools as
//! `u32` 0 or 1); an op reads its inputs' views into vectors of their
//! compute type ([`Values`]: `f32` for both float dtypes, `i32`, `u32` for
//! uint32 and bool), computes with the op tables' plain Rust functions, and
//! stores the result in its dtype.

mod elementwise;
mod index;
mod linalg;
mod matmul;
mod random;
mod reduce;

use super::limits::KernelLimits;
use super::pool::MemoryStats;
use super::Backend;
use crate::array::{contiguous_strides, is_contiguous, Array, Data, DeviceData};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::primitive::{Primitive, PLACEHOLDER_READ};
use half::f16;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The CPU backend. Its buffers are reference-counted host memory, freed
/// with the last array viewing them.
pub(crate) struct Cpu {
    /// Held by each evaluation: one graph is computed at a time, so that
    /// another thread's evaluation sees a node only once it is computed.
    evaluating: Mutex<()>,
}

/// The one CPU backend.
pub(crate) static CPU: Cpu = Cpu {
    evaluating: Mutex::new(()),
};

/// Elements as the GPU stores them.
pub(crate) enum HostBuffer {
    F32(Vec<f32>),
    F16(Vec<f16>),
    I32(Vec<i32>),
    /// uint32, and bools as 0 or 1.
    U32(Vec<u32>),
}

/// Elements in the type an op computes in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Values {
    /// float32 and float16.
    F(Vec<f32>),
    /// int32.
    I(Vec<i32>),
    /// uint32, and bools as 0 or 1.
    U(Vec<u32>),
}

impl Values {
    pub(crate) fn len(&self) -> usize {
        match self {
            Values::F(v) => v.len(),
            Values::I(v) => v.len(),
            Values::U(v) => v.len(),
        }
    }

    /// An empty vector of `dtype`'s compute type with room for `n`.
    pub(crate) fn with_capacity(dtype: DType, n: usize) -> Values {
        match dtype {
            DType::F32 | DType::F16 => Values::F(Vec::with_capacity(n)),
            DType::I32 => Values::I(Vec::with_capacity(n)),
            DType::U32 | DType::Bool => Values::U(Vec::with_capacity(n)),
        }
    }
}

/// Borrowed elements in the type an op computes in (a [`Values`] or part
/// of one).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Slice<'a> {
    F(&'a [f32]),
    I(&'a [i32]),
    U(&'a [u32]),
}

impl Values {
    /// Elements `range` of the values.
    pub(crate) fn slice(&self, range: std::ops::Range<usize>) -> Slice<'_> {
        match self {
            Values::F(v) => Slice::F(&v[range]),
            Values::I(v) => Slice::I(&v[range]),
            Values::U(v) => Slice::U(&v[range]),
        }
    }

    /// All of the values, borrowed.
    pub(crate) fn as_slice(&self) -> Slice<'_> {
        self.slice(0..self.len())
    }
}

/// The integer compute types (int32; uint32 and bools): wrapping
/// arithmetic, as in the kernels.
pub(crate) trait Int: Copy + Ord + Default {
    const ZERO: Self;
    const ONE: Self;
    const MIN: Self;
    const MAX: Self;
    fn wrapping_add(self, other: Self) -> Self;
    fn wrapping_mul(self, other: Self) -> Self;

    /// Addition for a running sum, else multiplication.
    fn scan_op(sum: bool) -> fn(Self, Self) -> Self {
        if sum {
            Self::wrapping_add
        } else {
            Self::wrapping_mul
        }
    }
}

macro_rules! int {
    ($($t:ty),*) => {$(
        impl Int for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            const MIN: Self = <$t>::MIN;
            const MAX: Self = <$t>::MAX;
            fn wrapping_add(self, other: Self) -> Self {
                <$t>::wrapping_add(self, other)
            }
            fn wrapping_mul(self, other: Self) -> Self {
                <$t>::wrapping_mul(self, other)
            }
        }
    )*};
}
int!(i32, u32);

impl HostBuffer {
    fn bytes(&self) -> usize {
        match self {
            HostBuffer::F32(v) => v.len() * 4,
            HostBuffer::F16(v) => v.len() * 2,
            HostBuffer::I32(v) => v.len() * 4,
            HostBuffer::U32(v) => v.len() * 4,
        }
    }
}

/// A buffer of the CPU backend: counted in [`memory_stats`] while it lives.
struct Allocation(HostBuffer);

/// Bytes and buffers held by live allocations, and the most bytes held.
static ACTIVE_BYTES: AtomicUsize = AtomicUsize::new(0);
static PEAK_BYTES: AtomicUsize = AtomicUsize::new(0);
static BUFFERS: AtomicUsize = AtomicUsize::new(0);

impl Allocation {
    fn new(buffer: HostBuffer) -> Allocation {
        let active = ACTIVE_BYTES.fetch_add(buffer.bytes(), Ordering::Relaxed) + buffer.bytes();
        PEAK_BYTES.fetch_max(active, Ordering::Relaxed);
        BUFFERS.fetch_add(1, Ordering::Relaxed);
        Allocation(buffer)
    }
}

impl Drop for Allocation {
    fn drop(&mut self) {
        ACTIVE_BYTES.fetch_sub(self.0.bytes(), Ordering::Relaxed);
        BUFFERS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The CPU backend's memory: bytes of live buffers and their peak (it
/// keeps no cache and compiles no pipelines).
pub(crate) fn memory_stats() -> MemoryStats {
    MemoryStats {
        active: ACTIVE_BYTES.load(Ordering::Relaxed) as u64,
        peak: PEAK_BYTES.load(Ordering::Relaxed) as u64,
        buffers: BUFFERS.load(Ordering::Relaxed) as u64,
        ..MemoryStats::default()
    }
}

/// Restarts peak tracking from the bytes in use now.
pub(crate) fn reset_peak_memory() {
    PEAK_BYTES.store(ACTIVE_BYTES.load(Ordering::Relaxed), Ordering::Relaxed);
}

/// The buffer under a view the CPU backend made; an error naming `op` for
/// a view another backend made.
pub(crate) fn host_buffer<'a>(data: &'a DeviceData, op: &str) -> Result<&'a HostBuffer> {
    data.buffer
        .downcast_ref::<Allocation>()
        .map(|a| &a.0)
        .ok_or_else(|| super::mixed_backends(op, "GPU", "CPU"))
}

/// The view's axes with those of length 1 dropped and neighbours merged
/// where one stride steps over the other's whole extent, so that inner
/// runs are as long as the layout allows.
fn merged_axes(shape: &[usize], strides: &[isize]) -> (Vec<usize>, Vec<isize>) {
    let (mut dims, mut steps): (Vec<usize>, Vec<isize>) = (Vec::new(), Vec::new());
    for (&len, &stride) in shape.iter().zip(strides) {
        if len == 1 {
            continue;
        }
        match (dims.last_mut(), steps.last_mut()) {
            (Some(last_len), Some(last_stride)) if *last_stride == stride * len as isize => {
                *last_len *= len;
                *last_stride = stride;
            }
            _ => {
                dims.push(len);
                steps.push(stride);
            }
        }
    }
    (dims, steps)
}

/// Calls `f(start, stride, len)` for each run of the view (`shape`,
/// `strides`, `offset`) along its innermost merged axis, in row-major order:
/// the run's elements are at `start + i * stride` for `i < len`.
pub(crate) fn for_each_run(
    shape: &[usize],
    strides: &[isize],
    offset: usize,
    mut f: impl FnMut(usize, isize, usize),
) {
    if shape.contains(&0) {
        return;
    }
    let (dims, steps) = merged_axes(shape, strides);
    let Some((&inner, outer)) = dims.split_last() else {
        f(offset, 1, 1);
        return;
    };
    let inner_stride = steps[outer.len()];
    let mut index = vec![0usize; outer.len()];
    let mut base = offset as isize;
    loop {
        f(base as usize, inner_stride, inner);
        // The next run: the last outer axis that has not wrapped steps on.
        let mut d = outer.len();
        loop {
            if d == 0 {
                return;
            }
            d -= 1;
            index[d] += 1;
            base += steps[d];
            if index[d] < outer[d] {
                break;
            }
            base -= steps[d] * outer[d] as isize;
            index[d] = 0;
        }
    }
}

/// Calls `f` with the buffer position of each element of the view
/// (`shape`, `strides`, `offset`), in row-major order.
pub(crate) fn for_each_position(
    shape: &[usize],
    strides: &[isize],
    offset: usize,
    mut f: impl FnMut(usize),
) {
    for_each_run(shape, strides, offset, |start, stride, len| {
        for i in 0..len as isize {
            f((start as isize + i * stride) as usize);
        }
    });
}

/// The elements of a view, row-major, each converted by `f`: whole runs at
/// a time (copied, repeated where the stride is 0, or stepped through).
fn gather<T: Copy, U: Copy>(
    src: &[T],
    data: &DeviceData,
    shape: &[usize],
    f: impl Fn(T) -> U,
) -> Vec<U> {
    let (dims, steps) = merged_axes(shape, &data.strides);
    if let [.., rows, cols] = dims[..] {
        if steps[dims.len() - 2] == 1 && !shape.contains(&0) {
            return transposed(src, data.offset, (&dims, &steps), (rows, cols), f);
        }
    }
    let mut out = Vec::with_capacity(shape.iter().product());
    for_each_run(
        shape,
        &data.strides,
        data.offset,
        |start, stride, len| match stride {
            1 => out.extend(src[start..start + len].iter().map(|&x| f(x))),
            0 => out.extend(std::iter::repeat_n(f(src[start]), len)),
            _ if stride > 0 => out.extend(
                src[start..]
                    .iter()
                    .step_by(stride as usize)
                    .take(len)
                    .map(|&x| f(x)),
            ),
            _ => out
                .extend((0..len as isize).map(|i| f(src[(start as isize + i * stride) as usize]))),
        },
    );
    out
}

/// The elements of a view whose last two merged axes are transposed (the
/// second last has stride 1), in tiles so that both the reads and the
/// writes stay within a few cache lines.
fn transposed<T: Copy, U: Copy>(
    src: &[T],
    offset: usize,
    (dims, steps): (&[usize], &[isize]),
    (rows, cols): (usize, usize),
    f: impl Fn(T) -> U,
) -> Vec<U> {
    const TILE: usize = 32;
    let col_step = steps[dims.len() - 1];
    let outer = dims.len() - 2;
    let mut out = vec![f(src[offset]); dims.iter().product()];
    let mut at = 0;
    for_each_position(&dims[..outer], &steps[..outer], offset, |base| {
        let block = &mut out[at..at + rows * cols];
        for r0 in (0..rows).step_by(TILE) {
            for c0 in (0..cols).step_by(TILE) {
                for r in r0..rows.min(r0 + TILE) {
                    for c in c0..cols.min(c0 + TILE) {
                        let from = base as isize + r as isize + c as isize * col_step;
                        block[r * cols + c] = f(src[from as usize]);
                    }
                }
            }
        }
        at += rows * cols;
    });
    out
}

/// The float elements of a view of `shape`, row-major: borrowed where the
/// buffer holds float32s in that order, else read into a new vector.
pub(crate) fn float_view<'a>(
    data: &'a DeviceData,
    shape: &[usize],
    op: &str,
) -> Result<std::borrow::Cow<'a, [f32]>> {
    if let HostBuffer::F32(v) = host_buffer(data, op)? {
        if is_contiguous(shape, &data.strides) {
            let n: usize = shape.iter().product();
            return Ok(std::borrow::Cow::Borrowed(&v[data.offset..data.offset + n]));
        }
    }
    match load(data, shape, op)? {
        Values::F(v) => Ok(std::borrow::Cow::Owned(v)),
        _ => Err(Error::Eval(format!("{op} needs float arrays"))),
    }
}

/// The values of a view of `shape`, row-major, in their compute type.
pub(crate) fn load(data: &DeviceData, shape: &[usize], op: &str) -> Result<Values> {
    Ok(match host_buffer(data, op)? {
        HostBuffer::F32(v) => Values::F(gather(v, data, shape, |x| x)),
        HostBuffer::F16(v) => Values::F(gather(v, data, shape, f16::to_f32)),
        HostBuffer::I32(v) => Values::I(gather(v, data, shape, |x| x)),
        HostBuffer::U32(v) => Values::U(gather(v, data, shape, |x| x)),
    })
}

/// `values` stored as `dtype` (float16 rounded to nearest, ties to even).
pub(crate) fn store(values: Values, dtype: DType) -> HostBuffer {
    match (values, dtype) {
        (Values::F(v), DType::F16) => HostBuffer::F16(v.into_iter().map(f16::from_f32).collect()),
        (Values::F(v), _) => HostBuffer::F32(v),
        (Values::I(v), _) => HostBuffer::I32(v),
        (Values::U(v), _) => HostBuffer::U32(v),
    }
}

/// A contiguous view of `shape` over a new buffer.
pub(crate) fn output(buffer: HostBuffer, shape: &[usize]) -> DeviceData {
    DeviceData {
        buffer: Arc::new(Allocation::new(buffer)),
        strides: contiguous_strides(shape),
        offset: 0,
    }
}

/// `values` of `shape` stored as `dtype` in a new buffer.
pub(crate) fn stored(values: Values, dtype: DType, shape: &[usize]) -> DeviceData {
    output(store(values, dtype), shape)
}

/// A constant's host bytes (the GPU's layout) as a buffer.
fn upload(bytes: &[u8], dtype: DType) -> HostBuffer {
    match dtype {
        DType::F32 => HostBuffer::F32(bytemuck::pod_collect_to_vec(bytes)),
        DType::F16 => HostBuffer::F16(bytemuck::pod_collect_to_vec(bytes)),
        DType::I32 => HostBuffer::I32(bytemuck::pod_collect_to_vec(bytes)),
        DType::U32 | DType::Bool => HostBuffer::U32(bytemuck::pod_collect_to_vec(bytes)),
    }
}

/// What is reported about the CPU backend.
pub(crate) fn info() -> super::device::DeviceInfo {
    super::device::DeviceInfo {
        name: "CPU".into(),
        backend: "cpu".into(),
        device_type: "Cpu".into(),
        driver: String::new(),
        shader_f16: true,
        cooperative_matrix: false,
        max_storage_binding_bytes: isize::MAX as u64,
        max_buffer_bytes: isize::MAX as u64,
        max_workgroup_storage_bytes: 0,
        max_invocations_per_workgroup: 1,
        // As many as a fused chain may read (plus its output and
        // parameters, as on a GPU).
        max_storage_buffers_per_kernel: crate::primitive::MAX_FUSED_INPUTS as u32 + 2,
        unified_memory: true,
    }
}

/// The evaluation in progress: the nodes it has computed so far (for
/// counts), holding the backend for its duration.
pub(crate) struct CpuBatch<'a> {
    computed: usize,
    _evaluating: MutexGuard<'a, ()>,
}

impl Backend for Cpu {
    type Batch<'a> = CpuBatch<'a>;

    fn kernel_limits(&self) -> KernelLimits {
        KernelLimits {
            matmul_max_rows: usize::MAX,
            matmul_max_k: usize::MAX,
            scan_max_len: usize::MAX,
            arg_reduce_max_len: usize::MAX,
            // Factorizations run whole (see `linalg`).
            linalg_blocked_from: usize::MAX,
            lu_blocked_from: usize::MAX,
            lu_panel: usize::MAX,
            narrow_triangular_blocked_from: usize::MAX,
            // Attention runs composed: its products and softmax are the
            // CPU's kernels.
            attention_max_head_dim: 0,
            max_array_bytes: isize::MAX as u64,
        }
    }

    fn begin(&self) -> CpuBatch<'_> {
        CpuBatch {
            computed: 0,
            _evaluating: self.evaluating.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    fn encode(&self, batch: &mut CpuBatch<'_>, node: &Array) -> Result<DeviceData> {
        check_fits(node)?;
        let data = compute(node)?;
        // Counted as the GPU counts its kernels: views and constants compute
        // nothing.
        let view = node.inputs().iter().any(|input| {
            input
                .device_data()
                .is_some_and(|d| Arc::ptr_eq(&d.buffer, &data.buffer))
        });
        if !view && !matches!(node.primitive(), Primitive::Constant) {
            batch.computed += 1;
        }
        Ok(data)
    }

    fn dispatches(batch: &CpuBatch<'_>) -> usize {
        batch.computed
    }

    fn abandon(&self, _batch: &mut CpuBatch<'_>) {}

    fn finish(&self, _batch: CpuBatch<'_>) -> Result<()> {
        Ok(())
    }

    async fn read<T: Element>(&self, data: &DeviceData, shape: &[usize]) -> Result<Vec<T>> {
        let buffer = host_buffer(data, "readback")?;
        let bytes: Vec<u8> = match buffer {
            HostBuffer::F32(v) => bytemuck::cast_slice(&gather(v, data, shape, |x| x)).to_vec(),
            HostBuffer::F16(v) => bytemuck::cast_slice(&gather(v, data, shape, |x| x)).to_vec(),
            HostBuffer::I32(v) => bytemuck::cast_slice(&gather(v, data, shape, |x| x)).to_vec(),
            HostBuffer::U32(v) => bytemuck::cast_slice(&gather(v, data, shape, |x| x)).to_vec(),
        };
        Ok(T::decode(&bytes))
    }
}

/// Results from this size on are first reserved as a whole, so that one
/// too large for the host's memory is an error, not an abort.
const RESERVE_FROM: usize = 1 << 26;

/// An error naming the op where `node`'s values cannot be allocated.
fn check_fits(node: &Array) -> Result<()> {
    let bytes = node.size().saturating_mul(node.dtype().device_size());
    if bytes >= RESERVE_FROM {
        Vec::<u8>::new().try_reserve_exact(bytes).map_err(|_| {
            Error::Eval(format!(
                "{} of shape {} is {bytes} bytes, more than this host can allocate",
                node.primitive().name(),
                crate::error::fmt_shape(node.shape())
            ))
        })?;
    }
    Ok(())
}

/// Computes `node`, whose inputs are evaluated.
fn compute(node: &Array) -> Result<DeviceData> {
    let inputs: Vec<Array> = node.inputs().clone();
    let data: Vec<DeviceData> = inputs
        .iter()
        .map(|a| a.device_data().expect("inputs are evaluated first"))
        .collect();
    let shape = node.shape();
    let dtype = node.dtype();
    let name = node.primitive().name();
    if node.size() == 0 && !matches!(node.primitive(), Primitive::Constant) {
        return Ok(stored(Values::with_capacity(dtype, 0), dtype, shape));
    }
    // Each input as (view, shape, dtype).
    let operands: Vec<(&DeviceData, &[usize], DType)> = data
        .iter()
        .zip(&inputs)
        .map(|(d, a)| (d, a.shape(), a.dtype()))
        .collect();
    match node.primitive() {
        Primitive::Constant => {
            let guard = node.data();
            let Some(Data::Host(bytes)) = &*guard else {
                return Err(Error::Eval("a constant lost its data".into()));
            };
            Ok(output(upload(bytes, dtype), shape))
        }
        Primitive::Arange { start, step } => elementwise::arange(*start, *step, shape, dtype),
        Primitive::Full(value) => Ok(elementwise::full(*value, shape, dtype)),
        Primitive::Unary(_)
        | Primitive::Binary(_)
        | Primitive::Where
        | Primitive::AsType
        | Primitive::BitCast => elementwise::encode(node.primitive(), &operands, shape, dtype),
        Primitive::Fused(fused) => elementwise::fused(fused, &operands, shape, dtype),
        Primitive::Reduce { op, axes } => reduce::reduce(*op, axes, operands[0], dtype),
        Primitive::Scan { op, axis, reverse } => {
            reduce::scan(*op, *axis, *reverse, operands[0], dtype)
        }
        Primitive::Softmax { log } => reduce::softmax(operands[0], *log),
        Primitive::Normalize { eps, rms } => {
            reduce::normalize(operands[0], None, *eps as f32, *rms)
        }
        Primitive::NormalizeGrad { eps, rms } => {
            reduce::normalize(operands[0], Some(operands[1]), *eps as f32, *rms)
        }
        Primitive::SquaredNorm => reduce::squared_norm(&operands),
        Primitive::Reshape => index::reshape(operands[0], shape),
        Primitive::Concatenate { axis } => index::concatenate(&operands, *axis, shape, dtype),
        Primitive::Pad { low, value } => index::pad(operands[0], low, *value, shape, dtype),
        Primitive::Gather { axis } => index::gather(operands[0], operands[1], *axis, shape),
        Primitive::ScatterAdd { axis } => {
            index::scatter_add(operands[0], operands[1], operands[2], *axis)
        }
        Primitive::ArgSort { descending } => index::argsort(operands[0], *descending),
        Primitive::Matmul => matmul::matmul(operands[0], operands[1], shape, dtype),
        Primitive::Threefry => random::threefry(operands[0], operands[1], shape),
        Primitive::Linalg(op) => linalg::encode(*op, &operands, shape),
        Primitive::Attention { .. } | Primitive::AttentionGrad { .. } => Err(Error::Eval(
            format!("{name}: the CPU backend computes attention composed; this node should have been lowered"),
        )),
        Primitive::Placeholder => Err(Error::Eval(PLACEHOLDER_READ.into())),
        Primitive::Transpose(_)
        | Primitive::Broadcast
        | Primitive::Slice { .. }
        | Primitive::Diagonal { .. }
        | Primitive::StopGradient
        | Primitive::Custom(_) => Err(Error::Eval(format!(
            "{}: views are taken by the scheduler",
            node.primitive().name()
        ))),
    }
}
