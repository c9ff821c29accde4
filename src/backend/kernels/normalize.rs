//! Layer and RMS normalisation over the last axis, and their derivative:
//! one workgroup per row, or one thread per row for short rows.

use super::elementwise::contiguous;
use super::{fill_template, KernelSource, Rows};
use crate::array::DeviceData;
use crate::backend::encoder::Encoder;
use crate::backend::limits::ROW_LANES;
use crate::dtype::DType;
use crate::error::Result;

pub const TEMPLATE: &str = wgsl!("normalize.wgsl");

/// The sum over a workgroup's lanes, in workgroup memory (its first
/// step `{{half}}` is half the lanes).
const WORKGROUP_TOTAL: &str = "partial[lid] = v;
    workgroupBarrier();
    for (var s = {{half}}u; s > 0u; s >>= 1u) {
        if (lid < s) {
            partial[lid] += partial[lid + s];
        }
        workgroupBarrier();
    }
    let t = partial[0];
    workgroupBarrier();
    return t;";

pub fn source(rms: bool, grad: bool, by_thread: bool) -> String {
    let (bindings, load_g) = if grad {
        (
            "@group(0) @binding(2) var<storage, read> gin: array<f32>;\n\
             @group(0) @binding(3) var<storage, read_write> dst: array<f32>;",
            "gin[at]",
        )
    } else {
        (
            "@group(0) @binding(2) var<storage, read_write> dst: array<f32>;",
            "0.0",
        )
    };
    let row_lanes = ROW_LANES.to_string();
    let (workgroup_size, row, lane, lanes, row_total) = if by_thread {
        (
            "256",
            "gid.x + gid.y * nwg.x * 256u",
            "0u",
            "1u".to_string(),
            "return v;".to_string(),
        )
    } else {
        let total = WORKGROUP_TOTAL.replace("{{half}}", &(ROW_LANES / 2).to_string());
        (
            row_lanes.as_str(),
            "wid.x + wid.y * nwg.x",
            "lid.x",
            format!("{ROW_LANES}u"),
            total,
        )
    };
    fill_template(
        TEMPLATE,
        &[
            ("bindings", bindings),
            ("rms", &rms.to_string()),
            ("grad", &grad.to_string()),
            ("load_g", load_g),
            ("workgroup_size", workgroup_size),
            ("row", row),
            ("lane", lane),
            ("lanes", &lanes),
            ("row_total", &row_total),
        ],
    )
}

/// The pipeline's key.
fn key(rms: bool, grad: bool, by_thread: bool) -> String {
    format!(
        "{}normalize{}_f32{}",
        if rms { "rms_" } else { "" },
        if grad { "_grad" } else { "" },
        if by_thread { "_by_thread" } else { "" }
    )
}

/// Every combination, by workgroup and by thread.
pub(crate) fn variants(out: &mut Vec<KernelSource>) {
    for rms in [false, true] {
        for grad in [false, true] {
            for by_thread in [false, true] {
                let name = key(rms, grad, by_thread);
                out.push(KernelSource::new(
                    name,
                    "main",
                    source(rms, grad, by_thread),
                ));
            }
        }
    }
}

/// The normalisation of float32 `(x, shape)` along its last axis, or with
/// `g` its derivative applied to `g` (of the same shape).
pub fn encode(
    enc: &mut Encoder,
    x: &DeviceData,
    g: Option<&DeviceData>,
    shape: &[usize],
    eps: f64,
    rms: bool,
) -> Result<DeviceData> {
    let result = enc.alloc_array(shape, DType::F32)?;
    let Some(rows) = Rows::of(&enc.dev, shape) else {
        return Ok(result);
    };
    let x = contiguous(enc, x, shape, DType::F32)?;
    let g = g
        .map(|g| contiguous(enc, g, shape, DType::F32))
        .transpose()?;
    let grad = g.is_some();
    let by_thread = rows.by_thread;
    // Every index is inside a row of the contiguous inputs or the output.
    let pipeline = enc
        .dev
        .trusted_pipeline(&key(rms, grad, by_thread), "main", || {
            source(rms, grad, by_thread)
        });
    let params = [
        rows.count as u32,
        rows.len as u32,
        x.offset as u32,
        g.as_ref().map_or(0, |g| g.offset as u32),
        (eps as f32).to_bits(),
    ];
    let mut buffers = vec![x.gpu()];
    buffers.extend(g.map(|g| g.gpu()));
    buffers.push(result.gpu());
    enc.dispatch(pipeline, &params, buffers, rows.groups());
    Ok(result)
}
