//! The threefry2x32 hash behind `kiln::random`.

use super::elementwise::contiguous;
use super::KernelSource;
use crate::array::DeviceData;
use crate::backend::encoder::Encoder;
use crate::backend::limits::grid_for_threads;
use crate::dtype::DType;
use crate::error::Result;

pub const SOURCE: &str = wgsl!("random.wgsl");

pub(crate) fn variants(out: &mut Vec<KernelSource>) {
    out.push(KernelSource::new(
        "threefry2x32",
        "main",
        SOURCE.to_string(),
    ));
}

/// Hashes `(n, 2)` counter pairs under a `(2,)` key into `(n, 2)` words.
pub fn threefry(
    enc: &mut Encoder,
    key: &DeviceData,
    counts: &DeviceData,
    shape: &[usize],
) -> Result<DeviceData> {
    let size: usize = shape.iter().product();
    let result = enc.alloc_array(shape, DType::U32)?;
    let out = result.gpu();
    if size == 0 {
        return Ok(result);
    }
    let key = contiguous(enc, key, &[2], DType::U32)?;
    let counts = contiguous(enc, counts, shape, DType::U32)?;
    let pipeline = enc.dev.pipeline("threefry2x32", || SOURCE.to_string());
    let n = size / 2;
    enc.dispatch(
        pipeline,
        &[n as u32, key.offset as u32, counts.offset as u32],
        vec![key.gpu(), counts.gpu(), out],
        grid_for_threads(n),
    );
    Ok(result)
}
