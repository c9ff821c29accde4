//! View primitives (new strides over the same buffer) and the copies that
//! assemble arrays from parts (concatenate, pad).

use super::elementwise::{contiguous, copy_into, map, MapOp, Target};
use crate::array::{contiguous_strides, DeviceData};
use crate::backend::view::reshape_strides;
// The views themselves are stride arithmetic, the same on every backend.
use crate::backend::encoder::Encoder;
pub use crate::backend::view::{broadcast_view, transpose};
use crate::dtype::{DType, Scalar};
use crate::error::Result;

pub fn reshape(
    enc: &mut Encoder,
    data: &DeviceData,
    shape: &[usize],
    new_shape: &[usize],
    dtype: DType,
) -> Result<DeviceData> {
    if new_shape.iter().product::<usize>() == 0 {
        return Ok(DeviceData {
            buffer: data.buffer.clone(),
            strides: contiguous_strides(new_shape),
            offset: data.offset,
        });
    }
    if let Some(strides) = reshape_strides(shape, &data.strides, new_shape) {
        return Ok(DeviceData {
            buffer: data.buffer.clone(),
            strides,
            offset: data.offset,
        });
    }
    let copied = contiguous(enc, data, shape, dtype)?;
    Ok(DeviceData {
        buffer: copied.buffer,
        strides: contiguous_strides(new_shape),
        offset: 0,
    })
}

/// The sub-view of a contiguous output where a part of `part_shape` starting at `start` goes.
fn region(out: &DeviceData, start: &[usize]) -> Target {
    let offset = start
        .iter()
        .zip(&out.strides)
        .map(|(&s, &st)| s as isize * st)
        .sum::<isize>() as usize;
    Target {
        buffer: out.gpu(),
        offset: out.offset + offset,
        strides: out.strides.clone(),
    }
}

pub fn concatenate(
    enc: &mut Encoder,
    parts: &[(&DeviceData, &[usize])],
    axis: usize,
    shape: &[usize],
    dtype: DType,
) -> Result<DeviceData> {
    let size: usize = shape.iter().product();
    let out = DeviceData {
        buffer: enc.alloc((size * dtype.device_size()) as u64)?,
        strides: contiguous_strides(shape),
        offset: 0,
    };
    let mut start = vec![0usize; shape.len()];
    for (data, part_shape) in parts {
        copy_into(enc, data, part_shape, dtype, Some(region(&out, &start)))?;
        // (0-d arrays have no axis: their copy is the only part.)
        if let Some(at) = start.get_mut(axis) {
            *at += part_shape[axis];
        }
    }
    Ok(out)
}

pub fn pad(
    enc: &mut Encoder,
    data: &DeviceData,
    in_shape: &[usize],
    low: &[usize],
    value: Scalar,
    shape: &[usize],
    dtype: DType,
) -> Result<DeviceData> {
    let expr = match dtype {
        DType::F32 | DType::F16 => "bitcast<f32>(p0)",
        DType::I32 => "bitcast<i32>(p0)",
        DType::U32 => "p0",
        DType::Bool => "p0 != 0u",
    };
    let out = map(
        enc,
        MapOp::new("full", expr).with_params([value.bits_as(dtype), 0]),
        &[],
        shape,
        dtype,
        None,
    )?;
    copy_into(enc, data, in_shape, dtype, Some(region(&out, low)))?;
    Ok(out)
}
