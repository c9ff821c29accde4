//! Reductions of contiguous data over its leading axes run down columns;
//! others move the reduced axes last (copying only when the view is not
//! already contiguous that way) and reduce rows. Long rows and columns are
//! split into segments reduced in a second pass.

use super::elementwise::{contiguous, load_expr, map, store_expr, MapOp, MATH};
use super::{check_dtypes, cpu_choices, fill_template, thread_row_max, views, KernelSource};
use crate::array::{contiguous_strides, is_contiguous, DeviceData};
use crate::backend::encoder::Encoder;
use crate::backend::limits::{
    grid, grid_for_threads, MAX_LOOP_TRIPS, ROW_LANES, THREAD_ROW_MAX, WORKGROUP_SIZE,
};
use crate::backend::pool::Buffer;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::primitive::elementwise::cast_expr;
use crate::primitive::ReduceOp;
use std::sync::Arc;

pub const TEMPLATE: &str = wgsl!("reduce.wgsl");

/// The accumulator dtype of `op` over `dtype`.
fn acc_dtype(op: ReduceOp, dtype: DType) -> DType {
    match op {
        ReduceOp::All | ReduceOp::Any => DType::Bool,
        _ if dtype == DType::F16 => DType::F32,
        _ => dtype,
    }
}

fn identity(op: ReduceOp, dtype: DType) -> &'static str {
    use DType::*;
    match (op, dtype.kind() == crate::dtype::Kind::Float, dtype) {
        (ReduceOp::All, ..) => "1u",
        (ReduceOp::Any, ..) => "0u",
        (ReduceOp::Sum, true, _) => "0.0",
        (ReduceOp::Sum, _, I32) => "0",
        (ReduceOp::Sum, ..) => "0u",
        (ReduceOp::Prod, true, _) => "1.0",
        (ReduceOp::Prod, _, I32) => "1",
        (ReduceOp::Prod, ..) => "1u",
        (ReduceOp::Max | ReduceOp::ArgMax, true, _) => "-k_inf()",
        (ReduceOp::Max | ReduceOp::ArgMax, _, I32) => "bitcast<i32>(0x80000000u)",
        (ReduceOp::Max | ReduceOp::ArgMax, ..) => "0u",
        (ReduceOp::Min | ReduceOp::ArgMin, true, _) => "k_inf()",
        (ReduceOp::Min | ReduceOp::ArgMin, _, I32) => "2147483647",
        (ReduceOp::Min | ReduceOp::ArgMin, ..) => "0xffffffffu",
    }
}

fn combine(op: ReduceOp, float: bool) -> String {
    // NaN wins (the first one), chosen without branches: a combine per
    // element is on the hot path of whole-array reductions.
    let nan_first = |f: &str| {
        format!(
            "return Acc(select(select({f}(a.v, b.v), b.v, k_isnan(b.v)), a.v, k_isnan(a.v)), 0u);"
        )
    };
    let arg = |cmp: &str| {
        let ordered =
            format!("if (a.v {cmp} b.v || (a.v == b.v && a.i < b.i)) {{ return a; }} return b;");
        if float {
            format!("if (k_isnan(a.v) || k_isnan(b.v)) {{ if (k_isnan(a.v) && (!k_isnan(b.v) || a.i < b.i)) {{ return a; }} return b; }} {ordered}")
        } else {
            ordered
        }
    };
    match op {
        ReduceOp::Sum => "return Acc(a.v + b.v, 0u);".into(),
        ReduceOp::Prod => "return Acc(a.v * b.v, 0u);".into(),
        ReduceOp::Max if float => nan_first("max"),
        ReduceOp::Min if float => nan_first("min"),
        ReduceOp::Max => "return Acc(max(a.v, b.v), 0u);".into(),
        ReduceOp::Min => "return Acc(min(a.v, b.v), 0u);".into(),
        ReduceOp::ArgMax => arg(">"),
        ReduceOp::ArgMin => arg("<"),
        ReduceOp::All => "return Acc(a.v & b.v, 0u);".into(),
        ReduceOp::Any => "return Acc(a.v | b.v, 0u);".into(),
    }
}

/// WGSL source of `op` reading `in_dtype` and writing `out_dtype`, its
/// `by_workgroup` entry with `lanes` lanes.
pub fn source(op: ReduceOp, in_dtype: DType, out_dtype: DType, lanes: usize) -> String {
    let acc = acc_dtype(op, in_dtype);
    let load = match op {
        ReduceOp::All | ReduceOp::Any => format!(
            "select(0u, 1u, {})",
            cast_expr(&load_expr("v", in_dtype), in_dtype, DType::Bool)
        ),
        _ => load_expr("v", in_dtype),
    };
    let store = match op {
        ReduceOp::ArgMax | ReduceOp::ArgMin => "i32(r.i)".to_string(),
        // Bools are accumulated as the u32 0 or 1 they are stored as.
        _ if out_dtype == DType::Bool => "r.v".to_string(),
        _ => store_expr("r.v", out_dtype),
    };
    let f16 = in_dtype == DType::F16 || out_dtype == DType::F16;
    fill_template(
        TEMPLATE,
        &[
            ("enable", if f16 { "enable f16;" } else { "" }),
            ("in_t", in_dtype.wgsl_storage()),
            ("out_t", out_dtype.wgsl_storage()),
            ("acc_t", acc.wgsl_compute()),
            ("identity", identity(op, in_dtype)),
            ("lanes", &lanes.to_string()),
            ("math", MATH),
            ("load", &load),
            ("combine", &combine(op, in_dtype.is_float())),
            ("store", &store),
        ],
    )
}

/// Every op's kernel per dtype, under each entry point's pipeline name.
pub(crate) fn variants(out: &mut Vec<KernelSource>) {
    for dtype in DType::ALL {
        // Sums and products of bools run as int32.
        let skip = if dtype == DType::Bool { 2 } else { 0 };
        for op in ReduceOp::ALL.into_iter().skip(skip) {
            let result = match op {
                ReduceOp::ArgMax | ReduceOp::ArgMin => DType::I32,
                ReduceOp::All | ReduceOp::Any => DType::Bool,
                _ => dtype,
            };
            for (entry, lanes) in [
                ("by_workgroup", ROW_LANES as usize),
                ("by_workgroup", WORKGROUP_SIZE as usize),
                ("by_thread", WORKGROUP_SIZE as usize),
                ("by_column", WORKGROUP_SIZE as usize),
            ] {
                out.push(KernelSource::new(
                    format!("reduce_{}_{dtype}_{entry}_{lanes}", op.name()),
                    entry,
                    source(op, dtype, result, lanes),
                ));
            }
        }
    }
}

/// Workgroups a reduction aims for, so that a few long rows still fill the GPU.
const TARGET_ITEMS: usize = 2048;

/// The shortest segment on a GPU: at least [`TARGET_ITEMS`], so that the
/// partials of one pass always fit in one segment of the next (two passes
/// reduce any row).
const MIN_SEGMENT: usize = 16 * WORKGROUP_SIZE as usize;

/// Segments up to this long take [`ROW_LANES`] lanes per workgroup, longer
/// ones [`WORKGROUP_SIZE`] (on an H100, rows of 1024: 2.1 TB/s against
/// 1.9; segments of 4096: 1.8 against 2.0 for the sum, 1.3 against 1.8
/// for the max, whose NaN tests make each lane's chain of combinations
/// the bound).
const ROW_LANES_MAX: usize = 2048;

/// Fewer workgroups than this take [`WORKGROUP_SIZE`] lanes whatever their
/// segment: with the GPU mostly idle (the second pass of a whole-array
/// reduction is one workgroup over 2048 partials), each lane's chain of
/// dependent loads is the time, four times longer with 64 lanes.
const ROW_LANES_MIN_ITEMS: usize = 1024;

/// The segment length for `rows` rows of `k_len`: whole rows when they are
/// short (up to `thread_max`, one thread each) or when the op needs one
/// pass (arg-reductions); else one thread's worth on a CPU adapter, and on
/// a GPU short enough to give about [`TARGET_ITEMS`] workgroups and to keep
/// loops short.
fn segment_len(rows: usize, k_len: usize, single_pass: bool, thread_max: usize) -> usize {
    let wg = WORKGROUP_SIZE as usize;
    if k_len <= thread_max || single_pass {
        return k_len;
    }
    if thread_max > THREAD_ROW_MAX {
        // At most `thread_max` partials, so that one more pass ends it.
        return thread_max.max(k_len.div_ceil(thread_max));
    }
    let per_row = TARGET_ITEMS.div_ceil(rows);
    k_len
        .div_ceil(per_row)
        .next_multiple_of(wg)
        .clamp(MIN_SEGMENT, wg * MAX_LOOP_TRIPS)
}

/// Dispatches entry point `entry` of `op`'s kernel (with `lanes` lanes
/// for `by_workgroup`) over `src` with the parameters `[lines, k_len, seg,
/// nseg]` (lines: rows or columns), into a new buffer of `lines * nseg`
/// values.
fn dispatch(
    enc: &mut Encoder,
    op: ReduceOp,
    (entry, lanes): (&'static str, usize),
    src: &DeviceData,
    (in_dtype, out_dtype): (DType, DType),
    [lines, k_len, seg, nseg]: [usize; 4],
    groups: [u32; 3],
) -> Result<Arc<Buffer>> {
    let out = enc.alloc((lines * nseg * out_dtype.device_size()) as u64)?;
    let key = format!(
        "reduce_{}_{}_{}_{entry}_{lanes}",
        op.name(),
        in_dtype.name(),
        out_dtype.name()
    );
    // Every index is below `lines * k_len` (rows) or `k_len * cols`
    // (columns) past the offset, or below the workgroup's lanes.
    let pipeline = enc
        .dev
        .trusted_pipeline(&key, entry, || source(op, in_dtype, out_dtype, lanes));
    let params = [lines, k_len, seg, nseg, src.offset].map(|v| v as u32);
    enc.dispatch(pipeline, &params, vec![src.gpu(), out.clone()], groups);
    Ok(out)
}

/// One pass over contiguous `(rows, k_len)` rows, giving `(rows, nseg)` partials.
fn pass(
    enc: &mut Encoder,
    op: ReduceOp,
    src: &DeviceData,
    in_dtype: DType,
    rows: usize,
    k_len: usize,
    out_dtype: DType,
) -> Result<(DeviceData, usize)> {
    let thread_max = thread_row_max(&enc.dev);
    let seg = segment_len(rows, k_len, op.is_arg(), thread_max);
    let by_thread = seg <= thread_max;
    let nseg = k_len.div_ceil(seg);
    let items = rows * nseg;
    let lanes = if seg.min(k_len) <= ROW_LANES_MAX && items >= ROW_LANES_MIN_ITEMS {
        ROW_LANES
    } else {
        WORKGROUP_SIZE
    } as usize;
    let entry = if by_thread {
        "by_thread"
    } else {
        "by_workgroup"
    };
    let groups = if by_thread {
        grid_for_threads(items)
    } else {
        grid(items as u32)
    };
    let out = dispatch(
        enc,
        op,
        (entry, lanes),
        src,
        (in_dtype, out_dtype),
        [rows, k_len, seg, nseg],
        groups,
    )?;
    Ok((
        DeviceData {
            buffer: out,
            strides: vec![nseg as isize, 1],
            offset: 0,
        },
        nseg,
    ))
}

/// Columns enough for neighbouring threads to read neighbouring addresses;
/// fewer are transposed into rows (on a GPU: a CPU adapter reduces two or
/// more columns in place, where the copy and a workgroup's barriers would
/// cost more).
const MIN_COLUMNS: usize = 16;

/// Threads a column reduction aims for, so that a few columns still fill the GPU.
const TARGET_COLUMN_THREADS: usize = 65536;

/// Columns up to this long are summed by one thread each on a GPU (a
/// longer serial loop costs more than a second pass).
const GPU_COLUMN_MAX: usize = 256;

/// The segment length for columns of `k_len`: whole columns for
/// arg-reductions (one pass) and short columns (on a CPU adapter, any
/// small input), else short enough to give about
/// [`TARGET_COLUMN_THREADS`] threads.
fn column_segment_len(op: ReduceOp, k_len: usize, cols: usize, cpu: bool) -> usize {
    let whole = if cpu {
        k_len * cols <= 8 * TARGET_COLUMN_THREADS && k_len <= MAX_LOOP_TRIPS
    } else {
        k_len <= GPU_COLUMN_MAX
    };
    if op.is_arg() || whole {
        return k_len;
    }
    k_len
        .div_ceil(TARGET_COLUMN_THREADS.div_ceil(cols))
        .clamp(32, MAX_LOOP_TRIPS)
}

/// One pass down the columns of contiguous `(k_len, cols)` data, giving
/// `(nseg, cols)` partials.
fn column_pass(
    enc: &mut Encoder,
    op: ReduceOp,
    src: &DeviceData,
    in_dtype: DType,
    (k_len, cols): (usize, usize),
    out_dtype: DType,
) -> Result<(DeviceData, usize)> {
    let seg = column_segment_len(op, k_len, cols, cpu_choices(&enc.dev));
    let nseg = k_len.div_ceil(seg);
    let out = dispatch(
        enc,
        op,
        ("by_column", WORKGROUP_SIZE as usize),
        src,
        (in_dtype, out_dtype),
        [cols, k_len, seg, nseg],
        grid_for_threads(nseg * cols),
    )?;
    let partials = DeviceData {
        buffer: out,
        strides: vec![cols as isize, 1],
        offset: 0,
    };
    Ok((partials, nseg))
}

/// Reduces the leading `k_len` rows of contiguous `(k_len, cols)` data.
fn reduce_columns(
    enc: &mut Encoder,
    op: ReduceOp,
    src: &DeviceData,
    dtype: DType,
    (k_len, cols): (usize, usize),
    out_dtype: DType,
) -> Result<DeviceData> {
    let partial_dtype = acc_dtype(op, dtype);
    let (mut data, mut rows, mut from) = (src.clone(), k_len, dtype);
    loop {
        let done = column_segment_len(op, rows, cols, cpu_choices(&enc.dev)) >= rows;
        let to = if done { out_dtype } else { partial_dtype };
        let (next, nseg) = column_pass(enc, op, &data, from, (rows, cols), to)?;
        if done {
            return Ok(next);
        }
        (data, rows, from) = (next, nseg, partial_dtype);
    }
}

/// Reduces `axes` of `(data, shape)` away.
pub fn encode(
    enc: &mut Encoder,
    op: ReduceOp,
    data: &DeviceData,
    shape: &[usize],
    dtype: DType,
    axes: &[usize],
    out_dtype: DType,
) -> Result<DeviceData> {
    check_dtypes(&enc.dev, [dtype, out_dtype])?;
    let kept: Vec<usize> = (0..shape.len()).filter(|d| !axes.contains(d)).collect();
    let out_shape: Vec<usize> = kept.iter().map(|&d| shape[d]).collect();
    let rows: usize = out_shape.iter().product();
    let k_len: usize = axes.iter().map(|&d| shape[d]).product();
    if rows == 0 || k_len == 0 {
        // An empty reduction is the identity (ops reject it for max, min and arg*).
        let value = match op {
            ReduceOp::Prod | ReduceOp::All => "1i",
            _ => "0i",
        };
        let expr = cast_expr(value, DType::I32, out_dtype);
        return map(
            enc,
            MapOp::new(&format!("fill_{value}"), &expr),
            &[],
            &out_shape,
            out_dtype,
            None,
        );
    }
    let mut sorted_axes = axes.to_vec();
    sorted_axes.sort_unstable();
    let leading = sorted_axes.iter().enumerate().all(|(i, &d)| i == d);
    let columns_fit = !op.is_arg() || k_len <= MAX_LOOP_TRIPS;
    let enough_columns = rows >= MIN_COLUMNS || (rows > 1 && cpu_choices(&enc.dev));
    if leading && columns_fit && enough_columns && is_contiguous(shape, &data.strides) {
        // Contiguous (k_len, rows) data: reduce down the columns, no copy.
        let result = reduce_columns(enc, op, data, dtype, (k_len, rows), out_dtype)?;
        return Ok(DeviceData {
            buffer: result.buffer,
            strides: contiguous_strides(&out_shape),
            offset: 0,
        });
    }
    let perm: Vec<usize> = kept.iter().chain(axes).copied().collect();
    let permuted_shape: Vec<usize> = perm.iter().map(|&d| shape[d]).collect();
    let src = contiguous(enc, &views::transpose(data, &perm), &permuted_shape, dtype)?;
    let max_row = WORKGROUP_SIZE as usize * MAX_LOOP_TRIPS;
    if op.is_arg() && k_len > max_row {
        return Err(Error::Eval(format!(
            "{} over more than {max_row} elements must be split by the op",
            op.name()
        )));
    }
    let thread_max = thread_row_max(&enc.dev);
    let (result, _) = if segment_len(rows, k_len, op.is_arg(), thread_max) >= k_len {
        pass(enc, op, &src, dtype, rows, k_len, out_dtype)?
    } else {
        // Partial results per segment, then one pass over the partials.
        let partial_dtype = acc_dtype(op, dtype);
        let (partials, nseg) = pass(enc, op, &src, dtype, rows, k_len, partial_dtype)?;
        pass(enc, op, &partials, partial_dtype, rows, nseg, out_dtype)?
    };
    Ok(DeviceData {
        buffer: result.buffer,
        strides: contiguous_strides(&out_shape),
        offset: 0,
    })
}
