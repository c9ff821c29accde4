//! Softmax and log-softmax over the last axis: one workgroup per row, or
//! one thread per row for short rows.

use super::elementwise::{contiguous, MATH};
use super::{fill_template, KernelSource, Rows};
use crate::array::DeviceData;
use crate::backend::encoder::Encoder;
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
    let result = enc.alloc_array(shape, DType::F32)?;
    let Some(rows) = Rows::of(&enc.dev, shape) else {
        return Ok(result);
    };
    let src = contiguous(enc, data, shape, DType::F32)?;
    let (key, entry) = key(log, rows.by_thread);
    // Every index is inside a row of the contiguous input or output.
    let pipeline = enc.dev.trusted_pipeline(key, entry, || source(log));
    let params = [rows.count as u32, rows.len as u32, src.offset as u32];
    enc.dispatch(
        pipeline,
        &params,
        vec![src.gpu(), result.gpu()],
        rows.groups(),
    );
    Ok(result)
}
