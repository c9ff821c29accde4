//! Batched matrix products over strided operands.

use super::elementwise::{load_expr, store_expr};
use super::{check_dtypes, fill_template, views};
use crate::array::{contiguous_strides, DeviceData};
use crate::backend::encoder::Encoder;
use crate::backend::limits::MAX_WORKGROUPS_PER_DIM;
use crate::dtype::DType;
use crate::error::Result;

pub const TEMPLATE: &str = include_str!("../../../wgsl/matmul.wgsl");

/// The longest inner dimension one kernel handles; the op splits longer ones.
pub const MAX_K: usize = 16384;

/// The most rows (or columns) of C one dispatch covers: 32 per workgroup.
pub const MAX_ROWS: usize = MAX_WORKGROUPS_PER_DIM as usize * 32;

pub fn source(dtype: DType) -> String {
    let zero = match dtype {
        DType::I32 => "0",
        DType::U32 | DType::Bool => "0u",
        _ => "0.0",
    };
    fill_template(
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
            ("in_t", dtype.wgsl_storage()),
            ("out_t", dtype.wgsl_storage()),
            ("acc_t", dtype.wgsl_compute()),
            ("zero", zero),
            ("load", &load_expr("v", dtype)),
            ("store", &store_expr("r_val", dtype)),
        ],
    )
}

/// `a @ b` for `a: (..., M, K)`, `b: (..., K, N)` whose batch dimensions
/// broadcast to `out_shape[..-2]`.
pub fn encode(
    enc: &mut Encoder,
    a: &DeviceData,
    a_shape: &[usize],
    b: &DeviceData,
    b_shape: &[usize],
    out_shape: &[usize],
    dtype: DType,
) -> Result<DeviceData> {
    check_dtypes(&enc.dev, [dtype])?;
    let nd = out_shape.len();
    let (m, n, k) = (
        out_shape[nd - 2],
        out_shape[nd - 1],
        a_shape[a_shape.len() - 1],
    );
    let batch_shape = &out_shape[..nd - 2];
    let batch: usize = batch_shape.iter().product();
    let size = batch * m * n;
    let out = enc.alloc((size * dtype.device_size()) as u64)?;
    let result = DeviceData {
        buffer: out.clone(),
        strides: contiguous_strides(out_shape),
        offset: 0,
    };
    if size == 0 {
        return Ok(result);
    }
    // Batch dimensions broadcast as views: stride 0 where an operand has size 1.
    let mut a_full = batch_shape.to_vec();
    a_full.extend_from_slice(&a_shape[a_shape.len() - 2..]);
    let mut b_full = batch_shape.to_vec();
    b_full.extend_from_slice(&b_shape[b_shape.len() - 2..]);
    let a = views::broadcast_view(a, a_shape, &a_full);
    let b = views::broadcast_view(b, b_shape, &b_full);
    let nb = batch_shape.len();
    let pipeline = enc
        .dev
        .pipeline(&format!("matmul_{}", dtype.wgsl_storage()), || {
            source(dtype)
        });
    let bits = |s: isize| s as i32 as u32;
    let groups_x = n.div_ceil(32) as u32;
    let groups_y = m.div_ceil(32) as u32;
    let mut base = 0usize;
    while base < batch {
        let count = (batch - base).min(MAX_WORKGROUPS_PER_DIM as usize);
        let mut params = vec![
            m as u32,
            n as u32,
            k as u32,
            nb as u32,
            a.offset as u32,
            b.offset as u32,
            bits(a.strides[nb]),
            bits(a.strides[nb + 1]),
            bits(b.strides[nb]),
            bits(b.strides[nb + 1]),
            base as u32,
        ];
        params.extend(batch_shape.iter().map(|&d| d as u32));
        params.extend(a.strides[..nb].iter().map(|&s| bits(s)));
        params.extend(b.strides[..nb].iter().map(|&s| bits(s)));
        enc.dispatch(
            pipeline.clone(),
            &params,
            vec![a.buffer.clone(), b.buffer.clone(), out.clone()],
            [groups_x, groups_y, count as u32],
        );
        base += count;
    }
    Ok(result)
}
