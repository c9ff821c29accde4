//! Elementwise kernels: one generated WGSL map per op, dtypes and operand
//! addressing (contiguous, vec4-aligned contiguous, a broadcast scalar, or
//! strided).

use super::{check_dtypes, fill_template, KernelSource};
use crate::array::{contiguous_strides, is_contiguous, DeviceData};
use crate::backend::encoder::Encoder;
use crate::backend::limits::{grid_for_threads, MAX_NDIM};
use crate::backend::pool::Buffer;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::primitive::elementwise::{arange_expr, bitcast_expr, cast_expr, where_expr};
use crate::primitive::{BinaryOp, UnaryOp};
use std::fmt::Write;
use std::sync::{Arc, OnceLock};

pub const TEMPLATE: &str = wgsl!("elementwise.wgsl");

/// The value of a template's `{{math}}` placeholder: [`fill_template`]
/// puts there the functions of math.wgsl that the kernel calls, and those
/// they call (unused ones only cost compile time: 4-8 ms a pipeline on
/// SwiftShader).
pub const MATH: &str = "/* math.wgsl */";

/// The accurate math functions and constants (`k_exp`, `K_PI`, ...).
const MATH_LIBRARY: &str = wgsl!("math.wgsl");

/// The identifiers in WGSL text.
fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}

/// math.wgsl's top-level items (a `fn` or a `const` each), by name.
fn math_items() -> &'static [(&'static str, &'static str)] {
    static ITEMS: OnceLock<Vec<(&'static str, &'static str)>> = OnceLock::new();
    ITEMS.get_or_init(|| {
        let mut starts: Vec<usize> = Vec::new();
        let mut at = 0;
        for line in MATH_LIBRARY.split_inclusive('\n') {
            if line.starts_with("fn ") || line.starts_with("const ") {
                starts.push(at);
            }
            at += line.len();
        }
        starts.push(MATH_LIBRARY.len());
        starts
            .windows(2)
            .map(|w| {
                let text = &MATH_LIBRARY[w[0]..w[1]];
                let name = identifiers(text).nth(1).expect("a named item");
                (name, text)
            })
            .collect()
    })
}

/// `kernel` with [`MATH`] replaced by the math items it uses.
pub(crate) fn insert_math(kernel: &str) -> String {
    let items = math_items();
    let find = |name: &str| items.iter().position(|(n, _)| *n == name);
    let mut needed = vec![false; items.len()];
    let mut pending: Vec<usize> = identifiers(kernel).filter_map(find).collect();
    while let Some(k) = pending.pop() {
        if !needed[k] {
            needed[k] = true;
            pending.extend(identifiers(items[k].1).filter_map(find));
        }
    }
    let used: String = items
        .iter()
        .zip(&needed)
        .filter(|(_, &n)| n)
        .map(|((_, text), _)| *text)
        .collect();
    kernel.replacen(MATH, &used, 1)
}

/// How a kernel finds an operand's element `i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addr {
    Contiguous,
    /// Contiguous from an offset that is a multiple of 4 elements of 4
    /// bytes, read and written as vec4s (the output too: then every
    /// operand is `Vector` or `Scalar` and each thread maps 4 elements).
    Vector,
    /// A contiguous block repeated along broadcast leading axes (a row
    /// added to every row): element `i % period` of the block; the period
    /// is in the operand's first stride slot of the parameters.
    Repeat,
    /// `Repeat` read as vec4s (period and offset multiples of 4).
    RepeatVector,
    Scalar,
    Strided,
}

/// The block size of a [`Addr::Repeat`] view: leading axes broadcast
/// (stride 0), the rest contiguous.
fn repeat_period(shape: &[usize], strides: &[isize]) -> Option<usize> {
    let lead = strides.iter().take_while(|&&s| s == 0).count();
    let broadcast = shape[..lead].iter().any(|&d| d > 1);
    let tail_contiguous = is_contiguous(&shape[lead..], &strides[lead..]);
    (broadcast && lead < shape.len() && tail_contiguous).then(|| shape[lead..].iter().product())
}

/// Whether `strides` lay `shape` out densely (each element once, no gaps),
/// in some order of the axes.
pub(crate) fn dense(shape: &[usize], strides: &[isize]) -> bool {
    let mut axes: Vec<usize> = (0..shape.len()).filter(|&d| shape[d] > 1).collect();
    axes.sort_by_key(|&d| std::cmp::Reverse(strides[d]));
    let mut step = 1isize;
    for &d in axes.iter().rev() {
        if strides[d] != step {
            return false;
        }
        step *= shape[d] as isize;
    }
    true
}

impl Addr {
    fn of(shape: &[usize], strides: &[isize]) -> Addr {
        if strides.iter().all(|&s| s == 0) {
            Addr::Scalar
        } else if is_contiguous(shape, strides) {
            Addr::Contiguous
        } else if repeat_period(shape, strides).is_some() {
            Addr::Repeat
        } else {
            Addr::Strided
        }
    }

    /// Whether the operand is read whole vec4s at a time.
    fn is_vector(self) -> bool {
        matches!(self, Addr::Vector | Addr::RepeatVector)
    }

    fn code(self) -> char {
        match self {
            Addr::Contiguous => 'c',
            Addr::Vector => 'v',
            Addr::Repeat => 'r',
            Addr::RepeatVector => 'w',
            Addr::Scalar => 's',
            Addr::Strided => 'x',
        }
    }

    /// WGSL for the element offset of operand `k` (0 = output); vectors
    /// are read whole (see [`map_source_with`]).
    fn wgsl(self, k: usize) -> String {
        match self {
            Addr::Contiguous | Addr::Vector => format!("params[{}u] + i", 4 + k),
            Addr::Repeat | Addr::RepeatVector => format!("params[{}u] + i % period({k}u)", 4 + k),
            Addr::Scalar => format!("params[{}u]", 4 + k),
            Addr::Strided => format!("strided_offset(i, {k}u)"),
        }
    }
}

/// WGSL storing `expr` (in `dtype`'s compute type, or a WGSL bool for
/// `Bool`) as `dtype`'s storage type.
pub fn store_expr(expr: &str, dtype: DType) -> String {
    match dtype {
        DType::Bool => format!("select(0u, 1u, {expr})"),
        DType::F16 => format!("f16({expr})"),
        _ => expr.to_string(),
    }
}

/// WGSL loading a storage value into `dtype`'s compute type.
pub fn load_expr(raw: &str, dtype: DType) -> String {
    match dtype {
        DType::F16 => format!("f32({raw})"),
        _ => raw.to_string(),
    }
}

/// Where a map writes: a fresh contiguous buffer, or a view of an existing one.
pub struct Target {
    pub buffer: Arc<Buffer>,
    pub offset: usize,
    pub strides: Vec<isize>,
}

/// Builds a map kernel's WGSL source.
pub fn map_source(expr: &str, inputs: &[(DType, Addr)], out: (DType, Addr)) -> String {
    map_source_with("", expr, inputs, out, false)
}

/// The map kernels' variants: every unary and binary op (binary ones also
/// on vec4s), cast and `where` per dtype, with a spread of operand layouts.
pub(crate) fn variants(out: &mut Vec<KernelSource>) {
    let addrs = [Addr::Strided, Addr::Contiguous, Addr::Scalar, Addr::Repeat];
    for dtype in DType::ALL {
        for op in UnaryOp::ALL {
            if let Some(expr) = op.kernel_expr(dtype) {
                let addr = addrs[op.name().len() % 4];
                out.push(KernelSource::new(
                    format!("unary_{}_{dtype}", op.name()),
                    "main",
                    map_source(
                        &expr,
                        &[(dtype, addr)],
                        (op.result_dtype(dtype), Addr::Contiguous),
                    ),
                ));
            }
        }
        for op in BinaryOp::ALL {
            let result = op.result_dtype(dtype);
            let words = dtype.device_size() == 4 && result.device_size() == 4;
            if let (Some(expr), true) = (op.kernel_expr(dtype), words) {
                let second = [Addr::Vector, Addr::Scalar, Addr::RepeatVector][op.name().len() % 3];
                out.push(KernelSource::new(
                    format!("binary_{}_{dtype}_vec4", op.name()),
                    "main",
                    map_source(
                        &expr,
                        &[(dtype, Addr::Vector), (dtype, second)],
                        (result, Addr::Vector),
                    ),
                ));
            }
            if let Some(expr) = op.kernel_expr(dtype) {
                let ins = [(dtype, Addr::Strided), (dtype, addrs[op.name().len() % 4])];
                out.push(KernelSource::new(
                    format!("binary_{}_{dtype}", op.name()),
                    "main",
                    map_source(&expr, &ins, (op.result_dtype(dtype), Addr::Contiguous)),
                ));
            }
        }
        for to in DType::ALL {
            let expr = cast_expr("x0", dtype, to);
            out.push(KernelSource::new(
                format!("astype_{dtype}_{to}"),
                "main",
                map_source(&expr, &[(dtype, Addr::Strided)], (to, Addr::Strided)),
            ));
        }
        out.push(KernelSource::new(
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
        ));
    }
    out.push(KernelSource::new(
        "arange_f32",
        "main",
        map_source(
            arange_expr(DType::F32, 0.0, 1.0).expect("float arange").0,
            &[],
            (DType::F32, Addr::Contiguous),
        ),
    ));
    out.push(KernelSource::new(
        "bitcast_u32_f32",
        "main",
        map_source(
            &bitcast_expr(DType::F32),
            &[(DType::U32, Addr::Contiguous)],
            (DType::F32, Addr::Contiguous),
        ),
    ));
}

/// Builds a map kernel's WGSL source, with helper `functions` that `expr`
/// may call; `f16` enables float16 even when no operand is float16.
pub fn map_source_with(
    functions: &str,
    expr: &str,
    inputs: &[(DType, Addr)],
    out: (DType, Addr),
    f16: bool,
) -> String {
    let any_f16 = f16 || inputs.iter().any(|(d, _)| *d == DType::F16) || out.0 == DType::F16;
    let element = |dtype: DType, addr: Addr| {
        if addr.is_vector() {
            format!("vec4<{}>", dtype.wgsl_storage())
        } else {
            dtype.wgsl_storage().to_string()
        }
    };
    let mut bindings = String::new();
    for (k, (dtype, addr)) in inputs.iter().enumerate() {
        let _ = writeln!(
            bindings,
            "@group(0) @binding({}) var<storage, read> in{k}: array<{}>;",
            k + 1,
            element(*dtype, *addr)
        );
    }
    let _ = writeln!(
        bindings,
        "@group(0) @binding({}) var<storage, read_write> out: array<{}>;",
        inputs.len() + 1,
        element(out.0, out.1)
    );
    let load_inputs = |body: &mut String, indent: &str| {
        for (k, (dtype, addr)) in inputs.iter().enumerate() {
            let raw = if addr.is_vector() {
                format!("w{k}[j]")
            } else {
                format!("in{k}[{}]", addr.wgsl(k + 1))
            };
            let _ = writeln!(body, "{indent}let x{k} = {};", load_expr(&raw, *dtype));
        }
    };
    let mut body = String::new();
    if out.1 == Addr::Vector {
        // Four elements per thread; the last vec4 may be partly past the end.
        let _ = writeln!(body, "    let size = params[0];");
        let _ = writeln!(body, "    if (4u * t >= size) {{\n        return;\n    }}");
        for (k, (_, addr)) in inputs.iter().enumerate() {
            if addr.is_vector() {
                let first = if *addr == Addr::Vector {
                    "4u * t".to_string()
                } else {
                    format!("4u * t % period({}u)", k + 1)
                };
                let _ = writeln!(
                    body,
                    "    let w{k} = in{k}[(params[{}u] + {first}) / 4u];",
                    5 + k
                );
            }
        }
        let _ = writeln!(body, "    var r: vec4<{}>;", out.0.wgsl_storage());
        let _ = writeln!(body, "    for (var j = 0u; j < 4u; j++) {{");
        let _ = writeln!(body, "        let i = 4u * t + j;");
        load_inputs(&mut body, "        ");
        let _ = writeln!(body, "        r[j] = {};", store_expr(expr, out.0));
        let _ = writeln!(body, "    }}");
        let _ = writeln!(
            body,
            "    if (4u * t + 3u < size) {{\n        out[t] = r;\n    }} else {{"
        );
        let _ = writeln!(
            body,
            "        for (var j = 0u; 4u * t + j < size; j++) {{\n            out[t][j] = r[j];\n        }}\n    }}"
        );
    } else {
        let _ = writeln!(body, "    let i = t;");
        let _ = writeln!(body, "    if (i >= params[0]) {{\n        return;\n    }}");
        load_inputs(&mut body, "    ");
        let _ = writeln!(
            body,
            "    out[{}] = {};",
            out.1.wgsl(0),
            store_expr(expr, out.0)
        );
    }
    fill_template(
        TEMPLATE,
        &[
            ("enable", if any_f16 { "enable f16;" } else { "" }),
            ("bindings", &bindings),
            ("header", &(5 + inputs.len()).to_string()),
            ("math", MATH),
            ("functions", functions),
            ("body", &body),
        ],
    )
}

/// What a map kernel computes: `expr` in terms of `x0`, `x1`, ... (the
/// inputs), `i` (the element) and `p0`, `p1` (the `params` words), calling
/// WGSL `functions` if it needs them. `name` must identify `expr` and
/// `functions` among kernels.
pub struct MapOp<'a> {
    pub name: &'a str,
    pub expr: &'a str,
    pub params: [u32; 2],
    pub functions: &'a str,
    /// Whether `functions` use float16 (so the module must enable it).
    pub f16: bool,
    /// Whether a new output must be row-major even when the inputs share
    /// another dense layout (which it otherwise takes, for speed).
    pub row_major: bool,
}

impl<'a> MapOp<'a> {
    pub fn new(name: &'a str, expr: &'a str) -> MapOp<'a> {
        MapOp {
            name,
            expr,
            params: [0, 0],
            functions: "",
            f16: false,
            row_major: false,
        }
    }

    pub fn with_params(self, params: [u32; 2]) -> MapOp<'a> {
        MapOp { params, ..self }
    }

    /// The output is row-major (a contiguous copy, say).
    pub fn row_major(self) -> MapOp<'a> {
        MapOp {
            row_major: true,
            ..self
        }
    }
}

/// Runs `op` over `shape`, reading strided `inputs` and writing `out_dtype`
/// into `target` or a new contiguous buffer.
pub fn map(
    enc: &mut Encoder,
    op: MapOp,
    inputs: &[(&DeviceData, DType)],
    shape: &[usize],
    out_dtype: DType,
    target: Option<Target>,
) -> Result<DeviceData> {
    let MapOp {
        name,
        expr,
        params: p,
        functions,
        f16,
        row_major,
    } = op;
    let size: usize = shape.iter().product();
    let fresh = target.is_none();
    // Inputs that all share one dense layout other than row-major (say,
    // transposed) are mapped in memory order into an output of that layout.
    let shared = inputs
        .iter()
        .map(|(d, _)| &d.strides)
        .filter(|s| s.iter().any(|&v| v != 0));
    let layout = shared.clone().next().filter(|first| {
        dense(shape, first) && !is_contiguous(shape, first) && shared.clone().all(|s| s == *first)
    });
    let memory_order = fresh && !row_major && layout.is_some();
    let target = match target {
        Some(t) => t,
        None => Target {
            buffer: enc.alloc((size * out_dtype.device_size()) as u64)?,
            offset: 0,
            strides: match layout {
                Some(strides) if memory_order => strides.clone(),
                _ => contiguous_strides(shape),
            },
        },
    };
    let result = DeviceData {
        buffer: target.buffer.clone(),
        strides: target.strides.clone(),
        offset: target.offset,
    };
    if size == 0 {
        return Ok(result);
    }
    if shape.len() > MAX_NDIM {
        return Err(Error::Eval(format!(
            "{name}: arrays of more than {MAX_NDIM} dimensions are not supported"
        )));
    }
    if size > i32::MAX as usize {
        return Err(Error::Eval(format!(
            "{name}: arrays of more than 2^31 elements are not supported"
        )));
    }
    check_dtypes(&enc.dev, inputs.iter().map(|(_, d)| *d).chain([out_dtype]))?;
    let addr = |strides: &[isize]| match Addr::of(shape, strides) {
        Addr::Strided if memory_order => Addr::Contiguous,
        other => other,
    };
    let mut addrs: Vec<(DType, Addr)> = inputs
        .iter()
        .map(|(d, dt)| (*dt, addr(&d.strides)))
        .collect();
    let mut out_addr = addr(&target.strides);
    // vec4 loads and stores when every operand is 4-byte, contiguous and
    // aligned (or a scalar), and the output a buffer of its own.
    let word = |dtype: DType| dtype.device_size() == 4;
    let periods: Vec<usize> = inputs
        .iter()
        .map(|(d, _)| repeat_period(shape, &d.strides).unwrap_or(0))
        .collect();
    let vectorise = fresh
        && word(out_dtype)
        && (0..inputs.len()).all(|k| {
            let ((dt, addr), aligned) = (addrs[k], inputs[k].0.offset.is_multiple_of(4));
            match addr {
                Addr::Scalar => true,
                Addr::Contiguous => word(dt) && aligned,
                Addr::Repeat => word(dt) && aligned && periods[k].is_multiple_of(4),
                _ => false,
            }
        });
    if vectorise {
        out_addr = Addr::Vector;
        for (_, addr) in addrs.iter_mut() {
            *addr = match *addr {
                Addr::Contiguous => Addr::Vector,
                Addr::Repeat => Addr::RepeatVector,
                other => other,
            };
        }
    }
    let mut key = format!("map_{name}");
    for (dt, addr) in addrs.iter().chain([&(out_dtype, out_addr)]) {
        let _ = write!(key, "_{}{}", dt.name(), addr.code());
    }
    let source = || map_source_with(functions, expr, &addrs, (out_dtype, out_addr), f16);
    let pipeline = if vectorise {
        // Every vec4 index is below ceil((offset + size) / 4), inside the
        // binding: pool buffers are whole multiples of 16 bytes.
        enc.dev.trusted_pipeline(&key, "main", source)
    } else {
        enc.dev.pipeline(&key, source)
    };
    let ndim = shape.len();
    let header = 5 + inputs.len();
    let mut params = vec![0u32; header + ndim * (2 + inputs.len())];
    params[0] = size as u32;
    params[1] = ndim as u32;
    params[2] = p[0];
    params[3] = p[1];
    params[4] = target.offset as u32;
    for (k, (d, _)) in inputs.iter().enumerate() {
        params[5 + k] = d.offset as u32;
    }
    let strides = std::iter::once(&target.strides).chain(inputs.iter().map(|(d, _)| &d.strides));
    for d in 0..ndim {
        params[header + d] = shape[d] as u32;
    }
    for (k, s) in strides.enumerate() {
        for d in 0..ndim {
            params[header + ndim * (1 + k) + d] = s[d] as i32 as u32;
        }
    }
    for (k, period) in periods.iter().enumerate() {
        if matches!(addrs[k].1, Addr::Repeat | Addr::RepeatVector) {
            // Its first stride slot (0: broadcast) holds the period instead.
            params[header + ndim * (2 + k)] = *period as u32;
        }
    }
    let mut buffers: Vec<Arc<Buffer>> = inputs.iter().map(|(d, _)| d.gpu()).collect();
    buffers.push(target.buffer);
    let threads = if vectorise { size.div_ceil(4) } else { size };
    enc.dispatch(pipeline, &params, buffers, grid_for_threads(threads));
    Ok(result)
}

/// A contiguous copy of a strided view.
pub fn copy(
    enc: &mut Encoder,
    data: &DeviceData,
    shape: &[usize],
    dtype: DType,
) -> Result<DeviceData> {
    copy_into(enc, data, shape, dtype, None)
}

/// Copies a strided view into `target` (or a new contiguous buffer).
pub fn copy_into(
    enc: &mut Encoder,
    data: &DeviceData,
    shape: &[usize],
    dtype: DType,
    target: Option<Target>,
) -> Result<DeviceData> {
    let expr = if dtype == DType::Bool {
        "x0 != 0u"
    } else {
        "x0"
    };
    map(
        enc,
        MapOp::new("copy", expr).row_major(),
        &[(data, dtype)],
        shape,
        dtype,
        target,
    )
}

/// The view itself when contiguous, else a contiguous copy.
pub fn contiguous(
    enc: &mut Encoder,
    data: &DeviceData,
    shape: &[usize],
    dtype: DType,
) -> Result<DeviceData> {
    if is_contiguous(shape, &data.strides) {
        Ok(data.clone())
    } else {
        copy(enc, data, shape, dtype)
    }
}
