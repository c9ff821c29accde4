//! Batched matrix products over strided operands.

use super::elementwise::{load_expr, store_expr};
use super::{check_dtypes, fill_template, views};
use crate::array::DeviceData;
use crate::backend::device::Device;
use crate::backend::encoder::Encoder;
use crate::backend::limits::MAX_WORKGROUPS_PER_DIM;
use crate::dtype::DType;
use crate::error::Result;
use std::fmt::Write;

pub const TEMPLATE: &str = include_str!("../../../wgsl/matmul.wgsl");

/// The longest inner dimension one kernel handles; the op splits longer ones.
pub const MAX_K: usize = 16384;

/// The most rows (or columns) of C one dispatch covers: the smallest tile's
/// side per workgroup.
pub const MAX_ROWS: usize = MAX_WORKGROUPS_PER_DIM as usize * 32;

/// A register tiling: each workgroup computes `bm × bn` of C, each thread
/// `tm × tn` of it, with `bk` steps of K staged in workgroup memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    pub bm: u32,
    pub bn: u32,
    pub bk: u32,
    pub tm: u32,
    pub tn: u32,
}

impl Tile {
    /// 128 × 128 per workgroup, 8 × 8 per thread: large products.
    pub const LARGE: Tile = Tile {
        bm: 128,
        bn: 128,
        bk: 8,
        tm: 8,
        tn: 8,
    };
    /// 64 × 64 per workgroup, 4 × 4 per thread: mid-sized or skinny ones.
    pub const MEDIUM: Tile = Tile {
        bm: 64,
        bn: 64,
        bk: 16,
        tm: 4,
        tn: 4,
    };
    /// 32 × 32 per workgroup, 4 × 4 per thread: small ones.
    pub const SMALL: Tile = Tile {
        bm: 32,
        bn: 32,
        bk: 16,
        tm: 4,
        tn: 4,
    };
    pub const ALL: [Tile; 3] = [Tile::LARGE, Tile::MEDIUM, Tile::SMALL];

    fn threads(self) -> u32 {
        (self.bm / self.tm) * (self.bn / self.tn)
    }

    /// Workgroup memory of the staged tiles, for `acc_bytes`-byte values.
    fn workgroup_bytes(self, acc_bytes: u32) -> u32 {
        self.bk * (self.bm + self.bn) * acc_bytes
    }

    /// The largest tiling the adapter allows that still gives `batch`
    /// products of `m × n` enough workgroups to fill a large GPU.
    fn choose(dev: &Device, m: usize, n: usize, batch: usize) -> Tile {
        const ENOUGH_WORKGROUPS: usize = 128;
        let fits = |t: &Tile| {
            t.threads() <= dev.limits.max_invocations_per_workgroup
                && t.workgroup_bytes(4) <= dev.limits.max_workgroup_storage_bytes
        };
        let count = |t: &Tile| m.div_ceil(t.bm as usize) * n.div_ceil(t.bn as usize) * batch;
        Tile::ALL
            .into_iter()
            .filter(fits)
            .find(|t| count(t) >= ENOUGH_WORKGROUPS)
            .unwrap_or(Tile::SMALL)
    }

    fn name(self) -> String {
        let Tile { bm, bn, bk, tm, tn } = self;
        format!("{bm}x{bn}x{bk}_{tm}x{tn}")
    }
}

/// The products of one k step, unrolled: thread block (i, g) of C gains
/// A's column-k rows of block i/4 times B's row-k columns of block g.
fn multiply_statements(tile: Tile) -> String {
    let (row_blocks, col_blocks) = (tile.tm / 4, tile.tn / 4);
    let mut out = String::new();
    for r in 0..row_blocks {
        let _ = writeln!(
            out,
            "            let a{r} = tile_a[k * (BM / 4u) + {r}u * WY + lid.y];"
        );
    }
    for g in 0..col_blocks {
        let _ = writeln!(
            out,
            "            let b{g} = tile_b[k * (BN / 4u) + {g}u * WX + lid.x];"
        );
    }
    for i in 0..tile.tm {
        let lane = ["x", "y", "z", "w"][(i % 4) as usize];
        for g in 0..col_blocks {
            let _ = writeln!(
                out,
                "            acc[{}] += a{}.{lane} * b{g};",
                i * col_blocks + g,
                i / 4
            );
        }
    }
    out
}

/// The kernel for `dtype` with `tile`; `a_k_fast`/`b_k_fast` say whether
/// K is the contiguous axis of A/B (and so the direction tiles load along).
pub fn source(dtype: DType, tile: Tile, a_k_fast: bool, b_k_fast: bool) -> String {
    let zero = match dtype {
        DType::I32 => "0",
        DType::U32 | DType::Bool => "0u",
        _ => "0.0",
    };
    let num = |v: u32| v.to_string();
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
            ("bm", &num(tile.bm)),
            ("bn", &num(tile.bn)),
            ("bk", &num(tile.bk)),
            ("tm", &num(tile.tm)),
            ("tn", &num(tile.tn)),
            ("wx", &num(tile.bn / tile.tn)),
            ("wy", &num(tile.bm / tile.tm)),
            ("tile_a_len", &num(tile.bk * tile.bm / 4)),
            ("tile_b_len", &num(tile.bk * tile.bn / 4)),
            ("acc_len", &num(tile.tm * tile.tn / 4)),
            ("a_k_fast", &a_k_fast.to_string()),
            ("b_k_fast", &b_k_fast.to_string()),
            ("multiply", &multiply_statements(tile)),
        ],
    )
}

/// The pipeline key of [`source`]'s kernel.
pub fn key(dtype: DType, tile: Tile, a_k_fast: bool, b_k_fast: bool) -> String {
    format!(
        "matmul_{}_{}_{}{}",
        dtype.wgsl_storage(),
        tile.name(),
        if a_k_fast { 'k' } else { 'm' },
        if b_k_fast { 'k' } else { 'n' }
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
    let result = enc.alloc_array(out_shape, dtype)?;
    let out = result.buffer.clone();
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
    let tile = Tile::choose(&enc.dev, m, n, batch);
    // Whether K is the contiguous axis of A (column stride 1) and of B (row
    // stride 1): tiles then load along K.
    let a_k_fast = a.strides[nb + 1] == 1 && k > 1;
    let b_k_fast = b.strides[nb] == 1 && k > 1;
    let pipeline = enc
        .dev
        .trusted_pipeline(&key(dtype, tile, a_k_fast, b_k_fast), "main", || {
            source(dtype, tile, a_k_fast, b_k_fast)
        });
    let bits = |s: isize| s as i32 as u32;
    let groups_x = n.div_ceil(tile.bn as usize) as u32;
    let groups_y = m.div_ceil(tile.bm as usize) as u32;
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
