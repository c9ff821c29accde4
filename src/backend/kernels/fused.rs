//! Fused elementwise kernels: a chain of elementwise primitives becomes one
//! WGSL function per step, nested into a single map expression.

use super::elementwise::{map, map_source_with, Addr, MapOp};
use super::views::broadcast_view;
use super::KernelSource;
use crate::array::{Array, DeviceData};
use crate::backend::encoder::Encoder;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::primitive::elementwise::{cast_expr, where_expr};
use crate::primitive::{Fused, FusedInput, Primitive};
use std::fmt::Write;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The generated kernel of a [`Fused`] chain.
pub(crate) struct FusedKernel {
    /// WGSL helper functions, one per step.
    pub functions: String,
    /// An expression of the inputs `x0, x1, ...` that calls them.
    pub expr: String,
    /// Identifies `functions` and `expr` among pipelines.
    pub name: String,
    /// Whether the kernel computes in float16 somewhere.
    pub f16: bool,
}

/// The WGSL type values of `dtype` have inside a fused kernel: bools are
/// 0/1 `u32`s and float16 computes as `f32`, as loads give them.
fn value_type(dtype: DType) -> &'static str {
    match dtype {
        DType::F16 | DType::F32 => "f32",
        DType::I32 => "i32",
        DType::U32 | DType::Bool => "u32",
    }
}

/// A 0-d constant's value (its `bytes` of `dtype`) as a WGSL literal of
/// its value type.
fn literal(bytes: &[u8], dtype: DType) -> String {
    let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    match dtype {
        DType::F32 => format!("bitcast<f32>({}u)", word(bytes)),
        DType::F16 => {
            let value = half::f16::from_le_bytes([bytes[0], bytes[1]]).to_f32();
            format!("bitcast<f32>({}u)", value.to_bits())
        }
        DType::I32 => format!("bitcast<i32>({}u)", word(bytes)),
        DType::U32 | DType::Bool => format!("{}u", word(bytes)),
    }
}

/// The kernel of `fused`, generated on first use.
pub(crate) fn kernel(fused: &Fused) -> Result<Arc<FusedKernel>> {
    if let Some(made) = fused.kernel.get() {
        if let Ok(kernel) = made.clone().downcast::<FusedKernel>() {
            return Ok(kernel);
        }
    }
    let kernel = Arc::new(generate(fused)?);
    let _ = fused.kernel.set(kernel.clone());
    Ok(kernel)
}

/// Rounds a float32 to the nearest float16 (ties to even), kept as a
/// float32, by its bits: NVIDIA's Vulkan driver folds both `f32(f16(x))`
/// and an unpack of a pack to `x`.
const ROUND_TO_F16: &str = "fn round_to_f16(x: f32) -> f32 {
    let bits = bitcast<u32>(x);
    let magnitude = bits & 0x7fffffffu;
    // Infinities and NaNs as they are.
    if (magnitude >= 0x7f800000u) {
        return x;
    }
    // Below float16's smallest normal: multiples of 2^-24 (all exact).
    if (magnitude < 0x38800000u) {
        return round(x * 16777216.0) * 5.9604644775390625e-8;
    }
    // Ten bits of mantissa, to nearest even; past 65504, infinity.
    let rounded = (magnitude + 0xfffu + ((magnitude >> 13u) & 1u)) & 0xffffe000u;
    let sign = bits & 0x80000000u;
    return bitcast<f32>(sign | select(rounded, 0x7f800000u, rounded > 0x477fe000u));
}
";

/// The kernel for `fused`'s steps, with its host constants written in.
pub(crate) fn generate(fused: &Fused) -> Result<FusedKernel> {
    let (steps, inputs, constants) = (&fused.steps, &fused.inputs, &fused.constants);
    let literals = constants
        .iter()
        .enumerate()
        .map(|(k, c)| Ok(literal(fused.constant_host_bytes(k)?, c.dtype())))
        .collect::<Result<Vec<_>>>()?;
    let mut functions = String::new();
    let mut calls: Vec<String> = Vec::with_capacity(steps.len());
    let mut f16 = inputs.contains(&DType::F16) || constants.iter().any(|c| c.dtype() == DType::F16);
    for (j, step) in steps.iter().enumerate() {
        let operand_dtype = |r: &FusedInput| match *r {
            FusedInput::Input(k) => inputs[k],
            FusedInput::Step(s) => steps[s].dtype,
            FusedInput::Constant(k) => constants[k].dtype(),
        };
        let dtypes: Vec<DType> = step.inputs.iter().map(operand_dtype).collect();
        let missing = || Error::Eval(format!("fused kernel: no kernel for step {j}"));
        let body = match &step.primitive {
            Primitive::Unary(op) => op.kernel_expr(dtypes[0]).ok_or_else(missing)?,
            Primitive::Binary(op) => op.kernel_expr(dtypes[0]).ok_or_else(missing)?,
            // Bools inside the chain are 0/1 values.
            Primitive::Where => where_expr(DType::U32),
            Primitive::AsType => cast_expr("x0", dtypes[0], step.dtype),
            other => {
                return Err(Error::Eval(format!(
                    "fused kernel: {} is not elementwise",
                    other.name()
                )))
            }
        };
        // Results take the form loads give: bools as 0/1, float16 rounded.
        let body = match step.dtype {
            DType::Bool if !matches!(step.primitive, Primitive::Where) => {
                format!("select(0u, 1u, {body})")
            }
            DType::F16 => {
                f16 = true;
                format!("round_to_f16({body})")
            }
            _ => body,
        };
        let params: Vec<String> = dtypes
            .iter()
            .enumerate()
            .map(|(k, d)| format!("x{k}: {}", value_type(*d)))
            .collect();
        let _ = writeln!(
            functions,
            "fn fused_{j}({}) -> {} {{\n    return {body};\n}}",
            params.join(", "),
            value_type(step.dtype)
        );
        let args: Vec<String> = step
            .inputs
            .iter()
            .map(|r| match *r {
                FusedInput::Input(k) => format!("x{k}"),
                FusedInput::Step(s) => calls[s].clone(),
                FusedInput::Constant(k) => literals[k].clone(),
            })
            .collect();
        calls.push(format!("fused_{j}({})", args.join(", ")));
    }
    if steps.iter().any(|s| s.dtype == DType::F16) {
        functions.insert_str(0, ROUND_TO_F16);
    }
    let root = steps
        .last()
        .ok_or_else(|| Error::Eval("fused kernel: no steps".into()))?;
    let expr = if fused.is_stacked() {
        // Element i is of root i / p0 (p0: the elements of each root).
        let params: Vec<String> = inputs
            .iter()
            .enumerate()
            .map(|(k, d)| format!("x{k}: {}", value_type(*d)))
            .collect();
        let args: Vec<String> = (0..inputs.len()).map(|k| format!("x{k}")).collect();
        let mut body = String::new();
        for (r, &root) in fused.roots.iter().enumerate() {
            if r + 1 == fused.roots.len() {
                let _ = write!(body, "    return {};", calls[root]);
            } else {
                let _ = writeln!(body, "    if (k == {r}u) {{ return {}; }}", calls[root]);
            }
        }
        let _ = writeln!(
            functions,
            "fn fused_roots(k: u32, {}) -> {} {{\n{body}\n}}",
            params.join(", "),
            value_type(steps[fused.roots[0]].dtype)
        );
        format!("fused_roots(i / p0, {})", args.join(", "))
    } else {
        let result = calls.pop().expect("one call per step");
        if root.dtype == DType::Bool {
            format!("{result} != 0u")
        } else {
            result
        }
    };
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (&functions, &expr).hash(&mut hasher);
    Ok(FusedKernel {
        name: format!("fused_{:016x}", hasher.finish()),
        functions,
        expr,
        f16,
    })
}

/// Runs a fused kernel over `inputs` broadcast to `shape`.
pub(crate) fn encode(
    enc: &mut Encoder,
    fused: &Fused,
    inputs: &[(&DeviceData, &[usize], DType)],
    shape: &[usize],
    dtype: DType,
) -> Result<DeviceData> {
    let kernel = kernel(fused)?;
    if kernel.f16 {
        // Float16 steps inside the chain need the feature as much as
        // float16 inputs do.
        super::check_dtypes(&enc.dev, [DType::F16])?;
    }
    // Stacked roots: every input is read once per root.
    let roots = if fused.is_stacked() { shape[0] } else { 1 };
    let each = if fused.is_stacked() {
        &shape[1..]
    } else {
        shape
    };
    let views: Vec<(DeviceData, DType)> = inputs
        .iter()
        .map(|(d, s, dt)| {
            let mut view = broadcast_view(d, s, each);
            if fused.is_stacked() {
                view.strides.insert(0, 0);
            }
            (view, *dt)
        })
        .collect();
    let operands: Vec<(&DeviceData, DType)> = views.iter().map(|(d, dt)| (d, *dt)).collect();
    let per_root = (shape.iter().product::<usize>() / roots.max(1)) as u32;
    let op = MapOp {
        functions: &kernel.functions,
        f16: kernel.f16,
        ..MapOp::new(&kernel.name, &kernel.expr).with_params([per_root, 0])
    };
    map(enc, op, &operands, shape, dtype, None)
}

/// A fused chain touching every value type: float, float16, int, bool.
pub(crate) fn variants(out: &mut Vec<KernelSource>) {
    use crate::primitive::{BinaryOp, FusedStep, UnaryOp};
    use FusedInput::*;
    let step = |primitive, dtype, inputs: &[FusedInput]| FusedStep {
        primitive,
        dtype,
        inputs: inputs.to_vec(),
    };
    let chain = vec![
        step(Primitive::Unary(UnaryOp::Tanh), DType::F32, &[Input(0)]),
        step(
            Primitive::Binary(BinaryOp::Less),
            DType::Bool,
            &[Step(0), Constant(0)],
        ),
        step(Primitive::Where, DType::F32, &[Step(1), Step(0), Input(1)]),
        step(Primitive::AsType, DType::F16, &[Step(2)]),
        step(Primitive::AsType, DType::I32, &[Step(3)]),
        step(
            Primitive::Binary(BinaryOp::Multiply),
            DType::I32,
            &[Step(4), Input(2)],
        ),
    ];
    let inputs = [DType::F32, DType::F32, DType::I32];
    let chain = Fused::new(chain, inputs.to_vec(), vec![Array::scalar(0.5f32)]);
    let fused = generate(&chain).expect("a valid chain");
    let operands: Vec<(DType, Addr)> = inputs.iter().map(|d| (*d, Addr::Strided)).collect();
    out.push(KernelSource::new(
        "fused_sample",
        "main",
        map_source_with(
            &fused.functions,
            &fused.expr,
            &operands,
            (DType::I32, Addr::Contiguous),
            fused.f16,
        ),
    ));
}
