//! Gather and scatter-add along an axis.

use super::elementwise::copy;
use super::{check_dtypes, fill_template, KernelSource};
use crate::array::{contiguous_strides, DeviceData};
use crate::backend::encoder::Encoder;
use crate::backend::limits::grid_for_threads;
use crate::dtype::DType;
use crate::error::{Error, Result};

pub const GATHER: &str = wgsl!("index.wgsl");
pub const SCATTER: &str = wgsl!("scatter.wgsl");

pub fn gather_source(dtype: DType) -> String {
    let enable = if dtype == DType::F16 {
        "enable f16;"
    } else {
        ""
    };
    fill_template(GATHER, &[("enable", enable), ("t", dtype.wgsl_storage())])
}

pub fn scatter_source(dtype: DType) -> Result<String> {
    let (t, atomic_t, add) = match dtype {
        DType::F32 => (
            "f32",
            "u32",
            "var old = atomicLoad(&out[at]);\n    loop {\n        let r = atomicCompareExchangeWeak(&out[at], old, bitcast<u32>(bitcast<f32>(old) + v));\n        if (r.exchanged) { break; }\n        old = r.old_value;\n    }",
        ),
        DType::I32 => ("i32", "i32", "atomicAdd(&out[at], v);"),
        DType::U32 => ("u32", "u32", "atomicAdd(&out[at], v);"),
        _ => return Err(Error::Eval(format!("scatter_add has no kernel for {dtype}"))),
    };
    Ok(fill_template(
        SCATTER,
        &[("t", t), ("atomic_t", atomic_t), ("add", add)],
    ))
}

/// Gather per dtype, and scatter-add where the dtype has one.
pub(crate) fn variants(out: &mut Vec<KernelSource>) {
    for dtype in DType::ALL {
        out.push(KernelSource::new(
            format!("gather_{dtype}"),
            "main",
            gather_source(dtype),
        ));
        if let Ok(source) = scatter_source(dtype) {
            out.push(KernelSource::new(
                format!("scatter_add_{dtype}"),
                "main",
                source,
            ));
        }
    }
}

/// `take_along_axis(src, idx, axis)` where `idx` (i32) is already broadcast to `shape`.
pub fn gather(
    enc: &mut Encoder,
    src: &DeviceData,
    src_shape: &[usize],
    idx: &DeviceData,
    axis: usize,
    shape: &[usize],
    dtype: DType,
) -> Result<DeviceData> {
    check_dtypes(&enc.dev, [dtype])?;
    let size: usize = shape.iter().product();
    let out = enc.alloc((size * dtype.device_size()) as u64)?;
    if size > 0 {
        let ndim = shape.len();
        let mut params = vec![
            size as u32,
            ndim as u32,
            axis as u32,
            src_shape[axis] as u32,
            src.offset as u32,
            idx.offset as u32,
        ];
        params.extend(shape.iter().map(|&d| d as u32));
        params.extend(src.strides.iter().map(|&s| s as i32 as u32));
        params.extend(idx.strides.iter().map(|&s| s as i32 as u32));
        let pipeline = enc
            .dev
            .pipeline(&format!("gather_{}", dtype.wgsl_storage()), || {
                gather_source(dtype)
            });
        enc.dispatch(
            pipeline,
            &params,
            vec![src.gpu(), idx.gpu(), out.clone()],
            grid_for_threads(size),
        );
    }
    Ok(DeviceData {
        buffer: out,
        strides: contiguous_strides(shape),
        offset: 0,
    })
}

/// `base` with `upd` added at `idx` along `axis`; `idx` and `upd` share `idx_shape`.
#[allow(clippy::too_many_arguments)]
pub fn scatter_add(
    enc: &mut Encoder,
    base: &DeviceData,
    idx: &DeviceData,
    idx_shape: &[usize],
    upd: &DeviceData,
    axis: usize,
    shape: &[usize],
    dtype: DType,
) -> Result<DeviceData> {
    let out = copy(enc, base, shape, dtype)?;
    let size: usize = idx_shape.iter().product();
    if size == 0 || shape.iter().product::<usize>() == 0 {
        return Ok(out);
    }
    let source = scatter_source(dtype)?;
    let ndim = shape.len();
    let mut params = vec![
        size as u32,
        ndim as u32,
        axis as u32,
        shape[axis] as u32,
        upd.offset as u32,
        idx.offset as u32,
    ];
    params.extend(idx_shape.iter().map(|&d| d as u32));
    params.extend(out.strides.iter().map(|&s| s as i32 as u32));
    params.extend(upd.strides.iter().map(|&s| s as i32 as u32));
    params.extend(idx.strides.iter().map(|&s| s as i32 as u32));
    let pipeline = enc
        .dev
        .pipeline(&format!("scatter_add_{}", dtype.wgsl_storage()), || source);
    enc.dispatch(
        pipeline,
        &params,
        vec![upd.gpu(), idx.gpu(), out.gpu()],
        grid_for_threads(size),
    );
    Ok(out)
}
