//! Softmax and log-softmax over the last axis: one workgroup per row.

use super::elementwise::{contiguous, MATH};
use super::fill_template;
use crate::array::DeviceData;
use crate::backend::encoder::Encoder;
use crate::backend::limits::grid;
use crate::dtype::DType;
use crate::error::Result;

pub const TEMPLATE: &str = include_str!("../../../wgsl/softmax.wgsl");

pub fn source(log: bool) -> String {
    fill_template(TEMPLATE, &[("math", MATH), ("log", &log.to_string())])
}

pub fn key(log: bool) -> &'static str {
    if log {
        "log_softmax_f32"
    } else {
        "softmax_f32"
    }
}

/// `softmax` (or `log_softmax` when `log`) of float32 `(data, shape)`
/// along its last axis.
pub fn encode(
    enc: &mut Encoder,
    data: &DeviceData,
    shape: &[usize],
    log: bool,
) -> Result<DeviceData> {
    let size: usize = shape.iter().product();
    let result = enc.alloc_array(shape, DType::F32)?;
    let out = result.buffer.clone();
    let k_len = shape.last().copied().unwrap_or(1);
    if size == 0 {
        return Ok(result);
    }
    let src = contiguous(enc, data, shape, DType::F32)?;
    let rows = size / k_len;
    // Every index is inside a row of the contiguous input or output.
    let pipeline = enc.dev.trusted_pipeline(key(log), "main", || source(log));
    let params = [rows as u32, k_len as u32, src.offset as u32];
    enc.dispatch(
        pipeline,
        &params,
        vec![src.buffer.clone(), out],
        grid(rows as u32),
    );
    Ok(result)
}
