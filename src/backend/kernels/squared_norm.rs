//! The sum of the squares of several float32 arrays (the squared global
//! norm that gradient clipping needs) in two dispatches: workgroups sum
//! chunks of every input into partial results, which one reduction sums.

use super::elementwise::{contiguous, dense};
use super::{fill_template, reduce, KernelSource};
use crate::array::DeviceData;
use crate::backend::encoder::Encoder;
use crate::backend::limits::grid;
use crate::dtype::DType;
use crate::error::Result;
use crate::primitive::ReduceOp;
use std::fmt::Write;

pub const TEMPLATE: &str = wgsl!("squared_norm.wgsl");

/// Elements each workgroup sums (as `CHUNK` in the kernel).
const CHUNK: usize = 4096;

pub fn source(count: usize) -> String {
    let mut bindings = String::new();
    let mut cases = String::new();
    for k in 0..count {
        let _ = writeln!(
            bindings,
            "@group(0) @binding({}) var<storage, read> in{k}: array<f32>;",
            k + 1
        );
        let label = if k + 1 == count {
            "default".to_string()
        } else {
            format!("case {k}u")
        };
        let _ = writeln!(cases, "        {label}: {{ return in{k}[at]; }}");
    }
    let _ = writeln!(
        bindings,
        "@group(0) @binding({}) var<storage, read_write> partials: array<f32>;",
        count + 1
    );
    fill_template(
        TEMPLATE,
        &[
            ("bindings", &bindings),
            ("count", &count.to_string()),
            ("cases", &cases),
        ],
    )
}

/// The kernel for each number of inputs up to `MAX_FUSED_INPUTS`.
pub(crate) fn variants(out: &mut Vec<KernelSource>) {
    for count in 1..=crate::primitive::MAX_FUSED_INPUTS {
        out.push(KernelSource::new(
            format!("squared_norm_{count}"),
            "main",
            source(count),
        ));
    }
}

/// Σ x² over every element of the float32 `inputs` (data and shape), as a
/// 0-d float32 array.
pub fn encode(enc: &mut Encoder, inputs: &[(&DeviceData, &[usize])]) -> Result<DeviceData> {
    let mut params = Vec::with_capacity(3 * inputs.len() + 1);
    let mut buffers = Vec::with_capacity(inputs.len() + 1);
    let mut workgroups = 0usize;
    for (data, shape) in inputs {
        let size: usize = shape.iter().product();
        // The order of the elements does not matter: a dense view in any
        // axis order (a transposed gradient) is read as it lies.
        let data = if dense(shape, &data.strides) {
            (*data).clone()
        } else {
            contiguous(enc, data, shape, DType::F32)?
        };
        params.extend([size as u32, data.offset as u32, workgroups as u32]);
        buffers.push(data.gpu());
        workgroups += size.div_ceil(CHUNK);
    }
    params.push(workgroups as u32);
    let partials = enc.alloc_array(&[workgroups], DType::F32)?;
    if workgroups > 0 {
        buffers.push(partials.gpu());
        let count = inputs.len();
        // Every index is inside its input's first `size` elements or the partials.
        let pipeline = enc
            .dev
            .trusted_pipeline(&format!("squared_norm_{count}"), "main", || source(count));
        enc.dispatch(pipeline, &params, buffers, grid(workgroups as u32));
    }
    reduce::encode(
        enc,
        ReduceOp::Sum,
        &partials,
        &[workgroups],
        DType::F32,
        &[0],
        DType::F32,
    )
}
