//! Kernels: how each primitive is encoded on the GPU.

/// The text of a kernel file under `wgsl/`, as compiled into the library:
/// without its comments and indentation (kept line for line), which keeps
/// the web package small.
macro_rules! wgsl {
    ($path:literal) => {{
        const SOURCE: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/wgsl/", $path));
        const LEN: usize = $crate::backend::kernels::compact_wgsl(SOURCE.as_bytes(), &mut []);
        const BYTES: [u8; LEN] = {
            let mut bytes = [0u8; LEN];
            $crate::backend::kernels::compact_wgsl(SOURCE.as_bytes(), &mut bytes);
            bytes
        };
        const TEXT: &str = match core::str::from_utf8(&BYTES) {
            Ok(text) => text,
            Err(_) => panic!("kernel text is UTF-8"),
        };
        TEXT
    }};
}

pub(crate) mod attention;
pub(crate) mod elementwise;
pub(crate) mod fused;
pub(crate) mod index;
pub(crate) mod linalg;
pub(crate) mod matmul;
pub(crate) mod normalize;
pub(crate) mod random;
pub(crate) mod reduce;
pub(crate) mod scan;
pub(crate) mod softmax;
pub(crate) mod sort;
pub(crate) mod squared_norm;
pub(crate) mod views;

use super::device::Device;
use super::encoder::Encoder;
use super::limits::{
    grid, grid_for_threads, KernelLimits, MAX_LOOP_TRIPS, THREAD_ROW_MAX, WORKGROUP_SIZE,
};
use crate::array::{contiguous_strides, Array, Data, DeviceData};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::primitive::elementwise::{arange_expr, bitcast_expr, cast_expr, full_expr, where_expr};
use crate::primitive::{Primitive, PLACEHOLDER_READ};
use elementwise::{map, MapOp};
use std::cell::Cell;

thread_local! {
    /// Set inside [`choose_as_on_gpu`].
    static AS_ON_GPU: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with the kernels this thread encodes chosen as on a GPU even on
/// a CPU adapter (which otherwise takes kernels suited to a few cores, such
/// as the direct matmul kernel), so that tests on a CPU adapter exercise
/// the GPU's kernels.
pub fn choose_as_on_gpu<T>(f: impl FnOnce() -> T) -> T {
    AS_ON_GPU.with(|flag| {
        let before = flag.replace(true);
        let result = f();
        flag.set(before);
        result
    })
}

/// Whether kernels are chosen for a CPU adapter: on one, outside
/// [`choose_as_on_gpu`]. Every CPU-specific kernel choice asks this.
pub(crate) fn cpu_choices(dev: &Device) -> bool {
    dev.limits.cpu && !AS_ON_GPU.with(Cell::get)
}

/// Rows up to this long are reduced one thread per row on a CPU adapter,
/// where a workgroup's barriers cost more than a long loop (and its
/// pipeline takes several times longer to compile).
const CPU_THREAD_ROW_MAX: usize = 4096;

/// The longest row one thread reduces (reductions, softmax), and the
/// segment length of longer rows' partial reductions on a CPU adapter.
pub(crate) fn thread_row_max(dev: &Device) -> usize {
    if cpu_choices(dev) {
        CPU_THREAD_ROW_MAX
    } else {
        THREAD_ROW_MAX
    }
}

/// How a row kernel (softmax, normalisation) covers the rows along the
/// last axis of a non-empty array: a workgroup per row, or a thread per
/// row for rows up to [`thread_row_max`].
pub(crate) struct Rows {
    /// How many rows.
    pub count: usize,
    /// The length of each.
    pub len: usize,
    /// One thread per row.
    pub by_thread: bool,
}

impl Rows {
    /// The rows of `shape`, or `None` when it is empty.
    pub fn of(dev: &Device, shape: &[usize]) -> Option<Rows> {
        let size: usize = shape.iter().product();
        let len = shape.last().copied().unwrap_or(1);
        (size > 0).then(|| Rows {
            count: size / len,
            len,
            by_thread: len <= thread_row_max(dev),
        })
    }

    /// The workgroups to dispatch.
    pub fn groups(&self) -> [u32; 3] {
        if self.by_thread {
            grid_for_threads(self.count)
        } else {
            grid(self.count as u32)
        }
    }
}

/// What one kernel computes at most; lowering splits larger work.
pub(crate) fn kernel_limits(dev: &Device) -> KernelLimits {
    let cpu = cpu_choices(dev);
    KernelLimits {
        max_array_bytes: dev.limits.max_storage_binding_bytes,
        // A CPU adapter runs a thread's registers from memory: the
        // composed form's matrix products are faster there.
        attention_max_head_dim: if cpu { 0 } else { attention::MAX_HEAD_DIM },
        matmul_max_rows: matmul::MAX_ROWS,
        matmul_max_k: matmul::MAX_K,
        scan_max_len: scan::MAX_SCAN_LEN,
        // An arg-reduction row is one workgroup's loop.
        arg_reduce_max_len: WORKGROUP_SIZE as usize * MAX_LOOP_TRIPS,
        linalg_blocked_from: linalg::BLOCKED_FROM,
        lu_blocked_from: if cpu {
            linalg::CPU_LU_BLOCKED_FROM
        } else {
            linalg::BLOCKED_FROM
        },
        lu_panel: if cpu {
            linalg::CPU_LU_PANEL
        } else {
            linalg::LU_PANEL
        },
        narrow_triangular_blocked_from: if cpu {
            linalg::CPU_NARROW_TRIANGULAR_BLOCKED_FROM
        } else {
            linalg::BLOCKED_FROM
        },
    }
}

const fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t' || b == b'\r'
}

/// Copies WGSL text without `//` comments, indentation and trailing blanks
/// into `out` (when it is long enough) and returns the copied length.
pub(crate) const fn compact_wgsl(source: &[u8], out: &mut [u8]) -> usize {
    let mut written = 0;
    let mut line = 0;
    while line < source.len() {
        let mut end = line;
        while end < source.len() && source[end] != b'\n' {
            end += 1;
        }
        let mut start = line;
        while start < end && is_blank(source[start]) {
            start += 1;
        }
        let mut stop = start;
        while stop < end && !(source[stop] == b'/' && stop + 1 < end && source[stop + 1] == b'/') {
            stop += 1;
        }
        while stop > start && is_blank(source[stop - 1]) {
            stop -= 1;
        }
        while start < stop {
            if written < out.len() {
                out[written] = source[start];
            }
            written += 1;
            start += 1;
        }
        if end < source.len() {
            if written < out.len() {
                out[written] = b'\n';
            }
            written += 1;
        }
        line = end + 1;
    }
    written
}

/// Fills `{{name}}` placeholders of a WGSL template; where one holds
/// [`elementwise::MATH`], the math functions the kernel uses go there.
pub(crate) fn fill_template(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{{{name}}}}}"), value);
    }
    debug_assert!(!out.contains("{{"), "unfilled placeholder in template");
    if out.contains(elementwise::MATH) {
        out = elementwise::insert_math(&out);
    }
    out
}

/// Fails clearly when a dtype needs a feature the adapter lacks.
pub(crate) fn check_dtypes(dev: &Device, dtypes: impl IntoIterator<Item = DType>) -> Result<()> {
    if !dev.limits.shader_f16 && dtypes.into_iter().any(|d| d == DType::F16) {
        return Err(Error::Device(format!(
            "float16 arrays need the shader-f16 feature, which adapter \"{}\" lacks; use float32",
            dev.info.name
        )));
    }
    Ok(())
}

/// Encodes the kernels that compute `node` and returns where its values will be.
pub(crate) fn encode(enc: &mut Encoder, node: &Array) -> Result<DeviceData> {
    let inputs: Vec<Array> = node.inputs().clone();
    let data: Vec<DeviceData> = inputs
        .iter()
        .map(|a| a.device_data().expect("inputs are evaluated first"))
        .collect();
    let shape = node.shape();
    let dtype = node.dtype();
    let no_kernel = |op_name: &str, compute: DType| {
        Error::Eval(format!("{op_name} has no kernel for {compute}"))
    };
    match node.primitive() {
        Primitive::Constant => {
            check_dtypes(&enc.dev, [dtype])?;
            let guard = node.data();
            let Some(Data::Host(bytes)) = &*guard else {
                return Err(Error::Eval("a constant lost its data".into()));
            };
            let buffer = enc.alloc_upload(bytes.len() as u64)?;
            enc.upload(&buffer, bytes)?;
            Ok(DeviceData {
                buffer,
                strides: contiguous_strides(shape),
                offset: 0,
            })
        }
        Primitive::Arange { start, step } => {
            let (expr, p) =
                arange_expr(dtype, *start, *step).ok_or_else(|| no_kernel("arange", dtype))?;
            map(
                enc,
                MapOp::new("arange", expr).with_params(p),
                &[],
                shape,
                dtype,
                None,
            )
        }
        Primitive::Full(value) => map(
            enc,
            MapOp::new("full", full_expr(dtype)).with_params([value.bits_as(dtype), 0]),
            &[],
            shape,
            dtype,
            None,
        ),
        Primitive::Unary(op) => {
            let compute = inputs[0].dtype();
            let expr = op
                .kernel_expr(compute)
                .ok_or_else(|| no_kernel(op.name(), compute))?;
            map(
                enc,
                MapOp::new(&format!("unary_{}", op.name()), &expr),
                &[(&data[0], compute)],
                shape,
                dtype,
                None,
            )
        }
        Primitive::Binary(op) => {
            let compute = inputs[0].dtype();
            let expr = op
                .kernel_expr(compute)
                .ok_or_else(|| no_kernel(op.name(), compute))?;
            let a = views::broadcast_view(&data[0], inputs[0].shape(), shape);
            let b = views::broadcast_view(&data[1], inputs[1].shape(), shape);
            map(
                enc,
                MapOp::new(&format!("binary_{}", op.name()), &expr),
                &[(&a, compute), (&b, compute)],
                shape,
                dtype,
                None,
            )
        }
        Primitive::Where => {
            let views: Vec<DeviceData> = (0..3)
                .map(|k| views::broadcast_view(&data[k], inputs[k].shape(), shape))
                .collect();
            map(
                enc,
                MapOp::new("where", &where_expr(dtype)),
                &[
                    (&views[0], DType::Bool),
                    (&views[1], dtype),
                    (&views[2], dtype),
                ],
                shape,
                dtype,
                None,
            )
        }
        Primitive::AsType => {
            let from = inputs[0].dtype();
            let expr = cast_expr("x0", from, dtype);
            map(
                enc,
                MapOp::new("astype", &expr),
                &[(&data[0], from)],
                shape,
                dtype,
                None,
            )
        }
        Primitive::BitCast => map(
            enc,
            MapOp::new("bitcast", &bitcast_expr(dtype)),
            &[(&data[0], inputs[0].dtype())],
            shape,
            dtype,
            None,
        ),
        Primitive::Reduce { op, axes } => reduce::encode(
            enc,
            *op,
            &data[0],
            inputs[0].shape(),
            inputs[0].dtype(),
            axes,
            dtype,
        ),
        Primitive::Scan { op, axis, reverse } => {
            scan::encode(enc, *op, &data[0], shape, dtype, *axis, *reverse)
        }
        Primitive::Reshape => views::reshape(enc, &data[0], inputs[0].shape(), shape, dtype),
        Primitive::Concatenate { axis } => {
            let parts: Vec<(&DeviceData, &[usize])> = data
                .iter()
                .zip(&inputs)
                .map(|(d, a)| (d, a.shape()))
                .collect();
            views::concatenate(enc, &parts, *axis, shape, dtype)
        }
        Primitive::Pad { low, value } => {
            views::pad(enc, &data[0], inputs[0].shape(), low, *value, shape, dtype)
        }
        Primitive::Gather { axis } => index::gather(
            enc,
            &data[0],
            inputs[0].shape(),
            &data[1],
            *axis,
            shape,
            dtype,
        ),
        Primitive::ScatterAdd { axis } => index::scatter_add(
            enc,
            &data[0],
            &data[1],
            inputs[1].shape(),
            &data[2],
            *axis,
            shape,
            dtype,
        ),
        Primitive::Matmul => matmul::encode(
            enc,
            &data[0],
            inputs[0].shape(),
            &data[1],
            inputs[1].shape(),
            shape,
            dtype,
        ),
        Primitive::Softmax { log } => softmax::encode(enc, &data[0], shape, *log),
        Primitive::Normalize { eps, rms } => {
            normalize::encode(enc, &data[0], None, shape, *eps, *rms)
        }
        Primitive::SquaredNorm => {
            let parts: Vec<(&DeviceData, &[usize])> = data
                .iter()
                .zip(&inputs)
                .map(|(d, a)| (d, a.shape()))
                .collect();
            squared_norm::encode(enc, &parts)
        }
        Primitive::Attention { scale, causal } => {
            attention::encode(enc, &inputs, &data, shape, *scale, *causal, None)
        }
        Primitive::AttentionGrad {
            scale,
            causal,
            keys,
        } => attention::encode(enc, &inputs, &data, shape, *scale, *causal, Some(*keys)),
        Primitive::NormalizeGrad { eps, rms } => {
            normalize::encode(enc, &data[0], Some(&data[1]), shape, *eps, *rms)
        }
        Primitive::ArgSort { descending } => sort::argsort(
            enc,
            &data[0],
            inputs[0].shape(),
            inputs[0].dtype(),
            *descending,
        ),
        Primitive::Linalg(op) => {
            let operands: Vec<(&DeviceData, &[usize])> = data
                .iter()
                .zip(&inputs)
                .map(|(d, a)| (d, a.shape()))
                .collect();
            linalg::encode(enc, *op, &operands, shape)
        }
        Primitive::Threefry => random::threefry(enc, &data[0], &data[1], shape),
        Primitive::Fused(fused) => {
            let operands: Vec<(&DeviceData, &[usize], DType)> = data
                .iter()
                .zip(&inputs)
                .map(|(d, a)| (d, a.shape(), a.dtype()))
                .collect();
            fused::encode(enc, fused, &operands, shape, dtype)
        }
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

/// One generated kernel: its pipeline name, entry point and WGSL source.
#[doc(hidden)]
pub struct KernelSource {
    pub name: String,
    pub entry: &'static str,
    pub source: String,
}

impl KernelSource {
    pub(crate) fn new(name: impl Into<String>, entry: &'static str, source: String) -> Self {
        KernelSource {
            name: name.into(),
            entry,
            source,
        }
    }
}

/// Every kernel variant kiln can generate, for validation without a GPU:
/// each kernel family lists its own.
#[doc(hidden)]
pub fn variants() -> Vec<KernelSource> {
    let families: [fn(&mut Vec<KernelSource>); 13] = [
        elementwise::variants,
        reduce::variants,
        scan::variants,
        matmul::variants,
        index::variants,
        sort::variants,
        random::variants,
        linalg::variants,
        softmax::variants,
        normalize::variants,
        squared_norm::variants,
        fused::variants,
        attention::variants,
    ];
    let mut out = Vec::new();
    for family in families {
        family(&mut out);
    }
    out
}
