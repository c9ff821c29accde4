//! Kernels: how each primitive is encoded on the GPU.

pub(crate) mod elementwise;
pub(crate) mod fused;
pub(crate) mod index;
pub(crate) mod linalg;
pub(crate) mod matmul;
pub use matmul::with_staged_tiles;
pub(crate) mod random;
pub(crate) mod reduce;
pub(crate) mod scan;
pub(crate) mod softmax;
pub(crate) mod sort;
pub(crate) mod views;

use super::device::Device;
use super::encoder::Encoder;
use super::limits::{KernelLimits, MAX_LOOP_TRIPS, WORKGROUP_SIZE};
use crate::array::{contiguous_strides, Array, Data, DeviceData};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::primitive::elementwise::{arange_expr, bitcast_expr, cast_expr, full_expr, where_expr};
use crate::primitive::Primitive;
use elementwise::{map, MapOp};

/// What one kernel computes at most; lowering splits larger work.
pub(crate) fn kernel_limits() -> KernelLimits {
    KernelLimits {
        matmul_max_rows: matmul::MAX_ROWS,
        matmul_max_k: matmul::MAX_K,
        scan_max_len: scan::MAX_SCAN_LEN,
        // An arg-reduction row is one workgroup's loop.
        arg_reduce_max_len: WORKGROUP_SIZE as usize * MAX_LOOP_TRIPS,
        linalg_blocked_from: linalg::BLOCKED_FROM,
        jacobi_one_workgroup: linalg::ONE_WORKGROUP_JACOBI,
    }
}

/// Fills `{{name}}` placeholders of a WGSL template.
pub(crate) fn fill_template(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{{{name}}}}}"), value);
    }
    debug_assert!(!out.contains("{{"), "unfilled placeholder in template");
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
            enc.upload(&buffer, bytes);
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
        Primitive::Transpose(perm) => Ok(views::transpose(&data[0], perm)),
        Primitive::Broadcast => Ok(views::broadcast_view(&data[0], inputs[0].shape(), shape)),
        Primitive::Slice { start, step } => Ok(views::slice(&data[0], start, step)),
        Primitive::Diagonal {
            offset,
            axis1,
            axis2,
        } => Ok(views::diagonal(&data[0], *offset, *axis1, *axis2)),
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
        Primitive::StopGradient | Primitive::Custom(_) => {
            Ok(data.last().expect("has an input").clone())
        }
        Primitive::Fused(fused) => {
            let operands: Vec<(&DeviceData, &[usize], DType)> = data
                .iter()
                .zip(&inputs)
                .map(|(d, a)| (d, a.shape(), a.dtype()))
                .collect();
            fused::encode(enc, fused, &operands, shape, dtype)
        }
        Primitive::Placeholder => Err(Error::Eval(
            "a traced function read the values of an argument of vmap or compile; \
             transformed functions cannot branch on their arguments' values"
                .into(),
        )),
    }
}

/// One generated kernel: its pipeline name, entry point and WGSL source.
#[doc(hidden)]
pub struct KernelSource {
    pub name: String,
    pub entry: &'static str,
    pub source: String,
}

/// Every kernel variant kiln can generate, for validation without a GPU.
#[doc(hidden)]
pub fn variants() -> Vec<KernelSource> {
    use crate::primitive::{BinaryOp, ReduceOp, ScanOp, UnaryOp};
    use elementwise::{map_source, Addr};
    let mut out = Vec::new();
    let mut push = |name: String, entry: &'static str, source: String| {
        out.push(KernelSource {
            name,
            entry,
            source,
        })
    };
    let addrs = [Addr::Strided, Addr::Contiguous, Addr::Scalar, Addr::Repeat];
    for dtype in DType::ALL {
        for op in UnaryOp::ALL {
            if let Some(expr) = op.kernel_expr(dtype) {
                let addr = addrs[op.name().len() % 4];
                push(
                    format!("unary_{}_{dtype}", op.name()),
                    "main",
                    map_source(
                        &expr,
                        &[(dtype, addr)],
                        (op.result_dtype(dtype), Addr::Contiguous),
                    ),
                );
            }
        }
        for op in BinaryOp::ALL {
            let out = op.result_dtype(dtype);
            let words = dtype.device_size() == 4 && out.device_size() == 4;
            if let (Some(expr), true) = (op.kernel_expr(dtype), words) {
                let second = [Addr::Vector, Addr::Scalar, Addr::RepeatVector][op.name().len() % 3];
                push(
                    format!("binary_{}_{dtype}_vec4", op.name()),
                    "main",
                    map_source(
                        &expr,
                        &[(dtype, Addr::Vector), (dtype, second)],
                        (out, Addr::Vector),
                    ),
                );
            }
            if let Some(expr) = op.kernel_expr(dtype) {
                let ins = [(dtype, Addr::Strided), (dtype, addrs[op.name().len() % 4])];
                push(
                    format!("binary_{}_{dtype}", op.name()),
                    "main",
                    map_source(&expr, &ins, (op.result_dtype(dtype), Addr::Contiguous)),
                );
            }
        }
        for to in DType::ALL {
            let expr = cast_expr("x0", dtype, to);
            push(
                format!("astype_{dtype}_{to}"),
                "main",
                map_source(&expr, &[(dtype, Addr::Strided)], (to, Addr::Strided)),
            );
        }
        push(
            format!("where_{dtype}"),
            "main",
            map_source(
                &where_expr(dtype),
                &[
                    (DType::Bool, Addr::Strided),
                    (dtype, Addr::Scalar),
                    (dtype, Addr::Contiguous),
                ],
                (dtype, Addr::Contiguous),
            ),
        );
        // Sums and products of bools run as int32.
        let skip = if dtype == DType::Bool { 2 } else { 0 };
        for op in ReduceOp::ALL.into_iter().skip(skip) {
            let out = match op {
                ReduceOp::ArgMax | ReduceOp::ArgMin => DType::I32,
                ReduceOp::All | ReduceOp::Any => DType::Bool,
                _ => dtype,
            };
            for entry in ["by_workgroup", "by_thread", "by_column"] {
                push(
                    format!("reduce_{}_{dtype}_{entry}", op.name()),
                    entry,
                    reduce::source(op, dtype, out),
                );
            }
        }
        if dtype != DType::Bool {
            for op in [ScanOp::Sum, ScanOp::Prod] {
                push(
                    format!("scan_{op:?}_{dtype}"),
                    "main",
                    scan::source(op, dtype),
                );
            }
            if dtype == DType::F16 {
                for (a_k, b_k) in [(false, false), (true, false), (false, true), (true, true)] {
                    push(
                        matmul::coop_key(a_k, b_k),
                        "main",
                        matmul::coop_source(a_k, b_k),
                    );
                }
            }
            push(
                matmul::direct_key(dtype),
                "main",
                matmul::direct_source(dtype),
            );
            for tile in matmul::Tile::ALL {
                for (a_k, b_k) in [(false, false), (true, false), (false, true), (true, true)] {
                    push(
                        matmul::key(dtype, tile, a_k, b_k),
                        "main",
                        matmul::source(dtype, tile, a_k, b_k),
                    );
                }
            }
        }
        push(
            format!("gather_{dtype}"),
            "main",
            index::gather_source(dtype),
        );
        if let Ok(source) = index::scatter_source(dtype) {
            push(format!("scatter_add_{dtype}"), "main", source);
        }
        for entry in sort::ENTRIES {
            push(
                format!("argsort_{entry}_{dtype}"),
                entry,
                sort::source(dtype, entry),
            );
        }
    }
    push(
        "arange_f32".into(),
        "main",
        map_source(
            arange_expr(DType::F32, 0.0, 1.0).expect("float arange").0,
            &[],
            (DType::F32, Addr::Contiguous),
        ),
    );
    push(
        "bitcast_u32_f32".into(),
        "main",
        map_source(
            &bitcast_expr(DType::F32),
            &[(DType::U32, Addr::Contiguous)],
            (DType::F32, Addr::Contiguous),
        ),
    );
    push("threefry2x32".into(), "main", random::SOURCE.to_string());
    {
        use crate::primitive::LinalgOp;
        for op in [
            LinalgOp::LuFactor,
            LinalgOp::Cholesky,
            LinalgOp::TriangularSolve {
                lower: true,
                unit: false,
            },
            LinalgOp::Qr { complete: false },
            LinalgOp::Eigh,
            LinalgOp::Svd { full: false },
        ] {
            for lanes in [64, 256] {
                let (name, source) = linalg::source(op, lanes);
                push(name, "main", source);
            }
        }
        for (name, entry, source) in linalg::jacobi_sources() {
            push(name, entry, source);
        }
    }
    for log in [false, true] {
        for by_thread in [false, true] {
            let (name, entry) = softmax::key(log, by_thread);
            push(name.into(), entry, softmax::source(log));
        }
    }
    // A fused chain touching every value type: float, float16, int, bool.
    {
        use crate::primitive::{FusedInput::*, FusedStep, Primitive as P};
        let step = |primitive, dtype, inputs: &[crate::primitive::FusedInput]| FusedStep {
            primitive,
            dtype,
            inputs: inputs.to_vec(),
        };
        let chain = vec![
            step(P::Unary(UnaryOp::Tanh), DType::F32, &[Input(0)]),
            step(
                P::Binary(BinaryOp::Less),
                DType::Bool,
                &[Step(0), Constant(0)],
            ),
            step(P::Where, DType::F32, &[Step(1), Step(0), Input(1)]),
            step(P::AsType, DType::F16, &[Step(2)]),
            step(P::AsType, DType::I32, &[Step(3)]),
            step(
                P::Binary(BinaryOp::Multiply),
                DType::I32,
                &[Step(4), Input(2)],
            ),
        ];
        let inputs = [DType::F32, DType::F32, DType::I32];
        let chain =
            crate::primitive::Fused::new(chain, inputs.to_vec(), vec![Array::scalar(0.5f32)]);
        let fused = fused::generate(&chain).expect("a valid chain");
        let operands: Vec<(DType, Addr)> = inputs.iter().map(|d| (*d, Addr::Strided)).collect();
        push(
            "fused_sample".into(),
            "main",
            elementwise::map_source_with(
                &fused.functions,
                &fused.expr,
                &operands,
                (DType::I32, Addr::Contiguous),
                fused.f16,
            ),
        );
    }
    out
}
