//! Scaled dot-product attention and its derivative without the score
//! matrix in memory: a thread per query (or key) with its row in
//! registers, the other side streamed through workgroup memory in tiles.

use super::elementwise::{contiguous, MATH};
use super::views::broadcast_view;
use super::{fill_template, KernelSource};
use crate::array::{Array, DeviceData};
use crate::backend::encoder::Encoder;
use crate::backend::limits::grid;
use crate::dtype::DType;
use crate::error::Result;

const TEMPLATE: &str = wgsl!("attention.wgsl");
const FORWARD: &str = wgsl!("attention_forward.wgsl");
const GRAD: &str = wgsl!("attention_grad.wgsl");

/// The longest query, key or value rows the kernels take (in registers);
/// lowering composes longer ones of matrix products and a softmax.
pub const MAX_HEAD_DIM: usize = 128;

/// The workgroup memory the tiles may take: what every adapter has.
const TILE_BYTES: usize = 16384;

/// Which kernel.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Pass {
    Forward,
    /// The queries' gradient.
    Queries,
    /// The keys' and values' gradients.
    Keys,
}

/// Rows per tile for rows of `d4` and `dv4` vec4s: as many as 16 KiB
/// hold (with the statistics' two floats), at most 64, a multiple of 4.
fn tile(d4: usize, dv4: usize) -> usize {
    (TILE_BYTES / ((d4 + dv4) * 16 + 8)).min(64) / 4 * 4
}

fn source(pass: Pass, d4: usize, dv4: usize, masked: bool) -> String {
    let (bindings, kernel) = match pass {
        Pass::Forward => (
            "@group(0) @binding(4) var<storage, read_write> dst: array<f32>;",
            FORWARD,
        ),
        _ => (
            "@group(0) @binding(4) var<storage, read> stats: array<f32>;\n\
             @group(0) @binding(5) var<storage, read> d_out: array<f32>;\n\
             @group(0) @binding(6) var<storage, read_write> dst: array<f32>;",
            GRAD,
        ),
    };
    let mask_binding = if pass == Pass::Forward { 5 } else { 7 };
    let (mask_binding, mask_value) = if masked {
        (
            format!("@group(0) @binding({mask_binding}) var<storage, read> mask: array<f32>;"),
            "fn mask_value(at: u32) -> f32 { return mask[at]; }",
        )
    } else {
        (
            String::new(),
            "fn mask_value(at: u32) -> f32 { return 0.0; }",
        )
    };
    fill_template(
        TEMPLATE,
        &[
            ("bindings", &format!("{bindings}\n{mask_binding}")),
            ("kernel", kernel),
            ("mask_value", mask_value),
            ("math", MATH),
            ("d4", &d4.to_string()),
            ("dv4", &dv4.to_string()),
            ("tile", &tile(d4, dv4).to_string()),
        ],
    )
}

/// The pipeline's key and entry point.
fn key(pass: Pass, d4: usize, dv4: usize, masked: bool) -> (String, &'static str) {
    let (name, entry) = match pass {
        Pass::Forward => ("attention", "main"),
        Pass::Queries => ("attention_grad_queries", "queries"),
        Pass::Keys => ("attention_grad_keys", "keys"),
    };
    let masked = if masked { "_masked" } else { "" };
    (format!("{name}_{d4}_{dv4}{masked}"), entry)
}

/// Attention's kernels for a few row lengths, masked and not.
pub(crate) fn variants(out: &mut Vec<KernelSource>) {
    for pass in [Pass::Forward, Pass::Queries, Pass::Keys] {
        for (d4, dv4) in [(1, 1), (8, 8), (16, 8), (32, 32)] {
            for masked in [false, true] {
                let (name, entry) = key(pass, d4, dv4, masked);
                out.push(KernelSource::new(
                    name,
                    entry,
                    source(pass, d4, dv4, masked),
                ));
            }
        }
    }
}

/// `Attention` (`grad`: `None`) or `AttentionGrad` (`grad`: whether the
/// keys') of the node's `inputs` and their `data`.
pub fn encode(
    enc: &mut Encoder,
    inputs: &[Array],
    data: &[DeviceData],
    out_shape: &[usize],
    scale: f64,
    causal: bool,
    grad: Option<bool>,
) -> Result<DeviceData> {
    let result = enc.alloc_array(out_shape, DType::F32)?;
    if out_shape.contains(&0) {
        return Ok(result);
    }
    let pass = match grad {
        None => Pass::Forward,
        Some(false) => Pass::Queries,
        Some(true) => Pass::Keys,
    };
    let shape = inputs[0].shape();
    let nd = shape.len();
    let (lq, d) = (shape[nd - 2], shape[nd - 1]);
    let (lk, dv) = (inputs[1].shape()[nd - 2], inputs[2].shape()[nd - 1]);
    let batch = &shape[..nd - 2];
    let batches: usize = batch.iter().product();
    let dense =
        |enc: &mut Encoder, k: usize| contiguous(enc, &data[k], inputs[k].shape(), DType::F32);
    let mut buffers = Vec::new();
    let mut offsets = Vec::new();
    // The operands (q, k, v, and for the derivative the statistics and the
    // output's cotangent), then the result, then the mask.
    let tensors = if pass == Pass::Forward { 3 } else { 5 };
    for k in 0..tensors {
        let x = dense(enc, k)?;
        offsets.push(x.offset as u32);
        buffers.push(x.gpu());
    }
    buffers.push(result.gpu());
    let mask = inputs.get(tensors);
    let (mut mask_offset, mut mask_batch_stride, mut mask_query_stride) = (0, 0, 0);
    if let Some(mask) = mask {
        let mshape = mask.shape();
        let lqm = mshape[nd - 2];
        let m = if mshape[..nd - 2].iter().all(|&s| s == 1) {
            dense(enc, tensors)?
        } else {
            // Batch axes of 1 among others: spread over the whole batch.
            let full = [batch, &mshape[nd - 2..]].concat();
            let view = broadcast_view(&data[tensors], mshape, &full);
            mask_batch_stride = (lqm * lk) as u32;
            contiguous(enc, &view, &full, DType::F32)?
        };
        mask_offset = m.offset as u32;
        mask_query_stride = if lqm == 1 { 0 } else { lk as u32 };
        buffers.push(m.gpu());
    }
    let (d4, dv4) = (d.div_ceil(4), dv.div_ceil(4));
    let (key, entry) = key(pass, d4, dv4, mask.is_some());
    // Every read is inside a row of its contiguous array (rows clamped to
    // the last, columns below D or Dv), of the mask's (batch, query, key)
    // as materialised or broadcast above, or of a tile; every write is
    // guarded by its row. Bounds checks and loop counters would keep the
    // register rows from being unrolled.
    let pipeline = enc
        .dev
        .trusted_pipeline(&key, entry, || source(pass, d4, dv4, mask.is_some()));
    let at = |k: usize| offsets.get(k).copied().unwrap_or(0);
    let params = [
        batches as u32,
        lq as u32,
        lk as u32,
        d as u32,
        dv as u32,
        at(0),
        at(1),
        at(2),
        mask_offset,
        mask_batch_stride,
        mask_query_stride,
        causal as u32,
        (scale as f32).to_bits(),
        at(3),
        at(4),
    ];
    let rows = if pass == Pass::Keys { lk } else { lq };
    let groups = batches * rows.div_ceil(64);
    enc.dispatch(pipeline, &params, buffers, grid(groups as u32));
    Ok(result)
}
