//! Argsort of the last axis with a bitonic network on the GPU.

use super::elementwise::{contiguous, load_expr, MATH};
use super::{check_dtypes, fill_template, KernelSource};
use crate::array::DeviceData;
use crate::backend::encoder::Encoder;
use crate::backend::limits::grid_for_threads;
use crate::dtype::DType;
use crate::error::Result;

pub const TEMPLATE: &str = wgsl!("sort.wgsl");

/// The three entry points of the sort kernel.
pub const ENTRIES: [&str; 3] = ["init", "step", "finish"];

/// The source for `entry`: each entry declares only the buffers it uses.
pub fn source(dtype: DType, entry: &str) -> String {
    let key_t = dtype.wgsl_compute();
    let bindings = match entry {
        "init" => format!(
            "@group(0) @binding(1) var<storage, read> src: array<{}>;\n@group(0) @binding(2) var<storage, read_write> keys: array<{key_t}>;\n@group(0) @binding(3) var<storage, read_write> idx: array<u32>;",
            dtype.wgsl_storage()
        ),
        "step" => format!("@group(0) @binding(1) var<storage, read_write> keys: array<{key_t}>;\n@group(0) @binding(2) var<storage, read_write> idx: array<u32>;"),
        _ => "@group(0) @binding(1) var<storage, read> idx: array<u32>;\n@group(0) @binding(2) var<storage, read_write> out: array<i32>;".to_string(),
    };
    // Entry points that do not use `keys` must not mention it.
    let mut text = fill_template(
        TEMPLATE,
        &[
            (
                "enable",
                if dtype == DType::F16 {
                    "enable f16;"
                } else {
                    ""
                },
            ),
            ("bindings", &bindings),
            ("math", MATH),
            ("key_t", key_t),
            ("load", &load_expr("v", dtype)),
            (
                "isnan_a",
                if dtype.is_float() {
                    "k_isnan(ka)"
                } else {
                    "false"
                },
            ),
            (
                "isnan_b",
                if dtype.is_float() {
                    "k_isnan(kb)"
                } else {
                    "false"
                },
            ),
        ],
    );
    // Keep only the requested entry point.
    for other in ENTRIES.iter().filter(|&&e| e != entry) {
        let start = text
            .find(&format!("@compute @workgroup_size(256)\nfn {other}("))
            .expect("entry present");
        // An entry point runs to the next one or to the end of the text.
        let end = text[start + 1..]
            .find("@compute")
            .map_or(text.len(), |e| start + 1 + e);
        text.replace_range(start..end, "");
    }
    text
}

/// Every entry point per dtype.
pub(crate) fn variants(out: &mut Vec<KernelSource>) {
    for dtype in DType::ALL {
        for entry in ENTRIES {
            out.push(KernelSource::new(
                format!("argsort_{entry}_{dtype}"),
                entry,
                source(dtype, entry),
            ));
        }
    }
}

/// Indices (int32) that sort each row of the last axis of `(data, shape)`.
pub fn argsort(
    enc: &mut Encoder,
    data: &DeviceData,
    shape: &[usize],
    dtype: DType,
    descending: bool,
) -> Result<DeviceData> {
    check_dtypes(&enc.dev, [dtype])?;
    let size: usize = shape.iter().product();
    let result = enc.alloc_array(shape, DType::I32)?;
    let out = result.gpu();
    if size == 0 {
        return Ok(result);
    }
    let src = contiguous(enc, data, shape, dtype)?;
    let n = shape[shape.len() - 1];
    let rows = size / n;
    let p = n.next_power_of_two();
    let keys = enc.alloc((rows * p * 4) as u64)?;
    let idx = enc.alloc((rows * p * 4) as u64)?;
    let name = dtype.wgsl_storage();
    let pipe = |enc: &mut Encoder, entry: &str| {
        enc.dev
            .pipeline_at(&format!("argsort_{entry}_{name}"), entry, || {
                source(dtype, entry)
            })
    };
    let base = [
        rows as u32,
        n as u32,
        p as u32,
        0,
        0,
        descending as u32,
        src.offset as u32,
    ];
    let init = pipe(enc, "init");
    enc.dispatch(
        init,
        &base,
        vec![src.gpu(), keys.clone(), idx.clone()],
        grid_for_threads(rows * p),
    );
    let step = pipe(enc, "step");
    let mut k = 2;
    while k <= p {
        let mut j = k / 2;
        while j > 0 {
            let mut params = base;
            params[3] = j as u32;
            params[4] = k as u32;
            enc.dispatch(
                step.clone(),
                &params,
                vec![keys.clone(), idx.clone()],
                grid_for_threads(rows * p / 2),
            );
            j /= 2;
        }
        k *= 2;
    }
    let finish = pipe(enc, "finish");
    enc.dispatch(finish, &base, vec![idx, out], grid_for_threads(size));
    Ok(result)
}
