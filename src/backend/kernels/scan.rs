//! Inclusive scans (cumsum, cumprod) along one axis.

use super::elementwise::{contiguous, store_expr};
use super::{check_dtypes, fill_template, views, KernelSource};
use crate::array::{contiguous_strides, DeviceData};
use crate::backend::encoder::Encoder;
use crate::backend::limits::grid;
use crate::dtype::DType;
use crate::error::Result;
use crate::primitive::ScanOp;

pub const TEMPLATE: &str = wgsl!("scan.wgsl");

/// The longest axis one scan kernel handles; the op splits longer ones.
pub const MAX_SCAN_LEN: usize = 256 * 2048;

pub fn source(op: ScanOp, dtype: DType) -> String {
    let acc = dtype.wgsl_compute();
    let (identity, expr) = match (op, dtype) {
        (ScanOp::Sum, DType::F32 | DType::F16) => ("0.0", "a + b"),
        (ScanOp::Sum, DType::I32) => ("0", "a + b"),
        (ScanOp::Sum, _) => ("0u", "a + b"),
        (ScanOp::Prod, DType::F32 | DType::F16) => ("1.0", "a * b"),
        (ScanOp::Prod, DType::I32) => ("1", "a * b"),
        (ScanOp::Prod, _) => ("1u", "a * b"),
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
            ("acc_t", acc),
            ("identity", identity),
            ("op", expr),
            ("store", &store_expr("r", dtype)),
        ],
    )
}

/// Sums and products per dtype but bool.
pub(crate) fn variants(out: &mut Vec<KernelSource>) {
    for dtype in DType::ALL.into_iter().filter(|&d| d != DType::Bool) {
        for op in [ScanOp::Sum, ScanOp::Prod] {
            out.push(KernelSource::new(
                format!("scan_{op:?}_{dtype}"),
                "main",
                source(op, dtype),
            ));
        }
    }
}

/// Scans `axis` of `(data, shape)`; the output is contiguous.
pub fn encode(
    enc: &mut Encoder,
    op: ScanOp,
    data: &DeviceData,
    shape: &[usize],
    dtype: DType,
    axis: usize,
    reverse: bool,
) -> Result<DeviceData> {
    check_dtypes(&enc.dev, [dtype])?;
    let size: usize = shape.iter().product();
    let out = enc.alloc((size * dtype.device_size()) as u64)?;
    if size == 0 {
        return Ok(DeviceData {
            buffer: out,
            strides: contiguous_strides(shape),
            offset: 0,
        });
    }
    // Move the axis last, scan rows, and view the result with the axis back in place.
    let ndim = shape.len();
    let mut perm: Vec<usize> = (0..ndim).filter(|&d| d != axis).collect();
    perm.push(axis);
    let moved_shape: Vec<usize> = perm.iter().map(|&d| shape[d]).collect();
    let src = contiguous(enc, &views::transpose(data, &perm), &moved_shape, dtype)?;
    let k_len = shape[axis];
    let rows = size / k_len;
    let key = format!("scan_{:?}_{}", op, dtype.wgsl_storage()).to_lowercase();
    let pipeline = enc.dev.pipeline(&key, || source(op, dtype));
    enc.dispatch(
        pipeline,
        &[rows as u32, k_len as u32, src.offset as u32, reverse as u32],
        vec![src.gpu(), out.clone()],
        grid(rows as u32),
    );
    let moved_strides = contiguous_strides(&moved_shape);
    let mut strides = vec![0isize; ndim];
    for (k, &d) in perm.iter().enumerate() {
        strides[d] = moved_strides[k];
    }
    Ok(DeviceData {
        buffer: out,
        strides,
        offset: 0,
    })
}
