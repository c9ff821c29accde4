//! Softmax and log-softmax over the last axis: one workgroup per row, or
//! one thread per row for short rows.

use super::elementwise::{contiguous, MATH};
use super::{fill_template, thread_row_max, KernelSource};
use crate::array::DeviceData;
use crate::backend::encoder::Encoder;
use crate::backend::limits::{grid, grid_for_threads};
use crate::dtype::DType;
use crate::error::Result;

pub const TEMPLATE: &str = wgsl!("softmax.wgsl");

pub fn source(log: bool) -> String {
    fill_template(TEMPLATE, &[("math", MATH), ("log", &log.to_string())])
}

/// The pipeline's key and entry point.
pub fn key(log: bool, by_thread: bool) -> (&'static str, &'static str) {
    match (log, by_thread) {
        (true, false) => ("log_softmax_f32", "main"),
        (false, false) => ("softmax_f32", "main"),
        (true, true) => ("log_softmax_f32_by_thread", "by_thread"),
        (false, true) => ("softmax_f32_by_thread", "by_thread"),
    }
}

/// Softmax and log-softmax, by workgroup and by thread.
pub(crate) fn variants(out: &mut Vec<KernelSource>) {
    for log in [false, true] {
        for by_thread in [false, true] {
            let (name, entry) = key(log, by_thread);
            out.push(KernelSource::new(name, entry, source(log)));
        }
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
    let out = result.gpu();
    let k_len = shape.last().copied().unwrap_or(1);
    if size == 0 {
        return Ok(result);
    }
    let src = contiguous(enc, data, shape, DType::F32)?;
    let rows = size / k_len;
    let by_thread = k_len <= thread_row_max(&enc.dev);
    let (key, entry) = key(log, by_thread);
    // Every index is inside a row of the contiguous input or output.
    let pipeline = enc.dev.trusted_pipeline(key, entry, || source(log));
    let params = [rows as u32, k_len as u32, src.offset as u32];
    let groups = if by_thread {
        grid_for_threads(rows)
    } else {
        grid(rows as u32)
    };
    enc.dispatch(pipeline, &params, vec![src.gpu(), out], groups);
    Ok(result)
}
