//! Batched matrix products over strided operands.

use super::elementwise::{load_expr, map, store_expr, MapOp, Target};
use super::{check_dtypes, cpu_choices, fill_template, views, KernelSource};
use crate::array::{contiguous_strides, DeviceData};
use crate::backend::device::Device;
use crate::backend::encoder::Encoder;
use crate::backend::limits::MAX_WORKGROUPS_PER_DIM;
use crate::backend::pool::Buffer;
use crate::dtype::DType;
use crate::error::Result;
use crate::primitive::elementwise::cast_expr;
use crate::primitive::ReduceOp;
use std::fmt::Write;
use std::sync::Arc;

pub const TEMPLATE: &str = wgsl!("matmul.wgsl");
pub const COOP_TEMPLATE: &str = wgsl!("matmul_coop.wgsl");
pub const DIRECT_TEMPLATE: &str = wgsl!("matmul_direct.wgsl");

/// The rows and columns of C one thread of the direct kernel covers.
const DIRECT_BLOCK: usize = 8;

/// The direct kernel's threads per workgroup along C's rows.
const DIRECT_WY: u32 = 8;

/// The direct kernel's threads per workgroup along C's columns, one kernel
/// each.
pub const DIRECT_WIDTHS: [u32; 3] = [2, 4, 8];

/// The direct kernel's width for products `n` columns wide: narrow ones
/// take few threads across, so that few idle past the last column.
fn direct_width(n: usize) -> u32 {
    DIRECT_WIDTHS
        .into_iter()
        .find(|&wx| n <= DIRECT_BLOCK * wx as usize)
        .unwrap_or(DIRECT_WIDTHS[DIRECT_WIDTHS.len() - 1])
}

/// WGSL shared by the matmul kernels: sizes, the batch entry's operand
/// offsets and the operands' strides from the parameters (the batch shape
/// and strides start at `HEADER`).
const OPERANDS: &str = "    let m = params[0];
    let n = params[1];
    let k_len = params[2];
    let nb = params[3];
    let batch = wid.z + params[10];
    var a_at = i32(params[4]);
    var b_at = i32(params[5]);
    var rest = batch;
    for (var d = nb; d > 0u; d--) {
        let extent = params[HEADER + d - 1u];
        let coord = i32(rest % extent);
        rest = rest / extent;
        a_at += coord * stride(HEADER + nb + d - 1u);
        b_at += coord * stride(HEADER + 2u * nb + d - 1u);
    }
    let a_row = stride(6u);
    let a_col = stride(7u);
    let b_row = stride(8u);
    let b_col = stride(9u);
";

/// Float16 products with every side at least this long run on tensor cores
/// where the adapter has them (smaller ones waste most of a 128 x 128 tile).
pub const COOP_MIN_SIDE: usize = 64;

/// The longest inner dimension one kernel handles; the op splits longer ones.
pub const MAX_K: usize = 16384;

/// The most rows (or columns) of C one dispatch covers: the smallest tile's
/// side per workgroup.
pub const MAX_ROWS: usize = MAX_WORKGROUPS_PER_DIM as usize * 32;

/// Workgroups a product aims for, to fill a large GPU's cores.
const ENOUGH_WORKGROUPS: usize = 128;

/// The shortest slice of K a workgroup of a split product sums.
const MIN_SPLIT_K: usize = 256;

/// The workgroups a split product aims for: two per core of a 132-core
/// GPU (one 128 x 128 tile per core leaves it waiting on memory).
const SPLIT_WORKGROUPS: usize = 256;

/// Into how many slices to split K (a power of two, each a multiple of 16
/// and at least [`MIN_SPLIT_K`] long) when products of `tiles` output
/// tiles give fewer than [`ENOUGH_WORKGROUPS`], aiming for
/// [`SPLIT_WORKGROUPS`]: 1 where they already do or K is short. Each
/// slice's product is one entry of a batch of partial products, which a
/// column sum adds up (a 256 x 4096 by 4096 x 4096 product has only 64
/// tiles of 128 x 128 for an H100's 132 cores).
fn k_splits(tiles: usize, k: usize) -> usize {
    if tiles >= ENOUGH_WORKGROUPS {
        return 1;
    }
    let mut splits = 1;
    while tiles * splits < SPLIT_WORKGROUPS
        && k.is_multiple_of(32 * splits)
        && k / (2 * splits) >= MIN_SPLIT_K
    {
        splits *= 2;
    }
    splits
}

/// `op` (A or B) viewed as `splits` slices of K stacked along a new
/// leading batch axis: `k_axis` is K's axis in its strides.
fn split_k_view(op: &DeviceData, k_axis: usize, slice: usize) -> DeviceData {
    let mut strides = vec![op.strides[k_axis] * slice as isize];
    strides.extend_from_slice(&op.strides);
    DeviceData {
        buffer: op.buffer.clone(),
        strides,
        offset: op.offset,
    }
}

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

    /// Whether the adapter's workgroups can hold the tiling.
    fn fits(self, dev: &Device) -> bool {
        self.threads() <= dev.limits.max_invocations_per_workgroup
            && self.workgroup_bytes(4) <= dev.limits.max_workgroup_storage_bytes
    }

    /// The largest tiling the adapter allows that, with K split into
    /// [`k_splits`] slices, still gives `batch` products of `m × n` by `k`
    /// enough workgroups to fill a large GPU; and the slices.
    fn choose(dev: &Device, m: usize, n: usize, k: usize, batch: usize) -> (Tile, usize) {
        let count = |t: &Tile| m.div_ceil(t.bm as usize) * n.div_ceil(t.bn as usize) * batch;
        Tile::ALL
            .into_iter()
            .filter(|t| t.fits(dev))
            .map(|t| (t, k_splits(count(&t), k)))
            .find(|(t, splits)| count(t) * splits >= ENOUGH_WORKGROUPS)
            .unwrap_or((Tile::SMALL, k_splits(count(&Tile::SMALL), k)))
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

/// WGSL shared by the register-tiled and direct kernels: where the batch
/// shape starts in the parameters, strides, and loads of A and B as the
/// accumulator type.
const ACCESS: &str = "// Where the batch shape starts in the parameters.
const HEADER: u32 = 11u;

fn stride(k: u32) -> i32 {
    return bitcast<i32>(params[k]);
}

fn load_a(at: i32) -> {{acc_t}} {
    let v = a[at];
    return {{load}};
}

fn load_b(at: i32) -> {{acc_t}} {
    let v = b[at];
    return {{load}};
}
";

/// Substitutions every matmul kernel for `dtype` takes.
fn dtype_substitutions(dtype: DType) -> Vec<(&'static str, String)> {
    let zero = match dtype {
        DType::I32 => "0",
        DType::U32 | DType::Bool => "0u",
        _ => "0.0",
    };
    let enable = if dtype == DType::F16 {
        "enable f16;"
    } else {
        ""
    };
    vec![
        // First: it holds placeholders filled by the entries after it.
        ("access", ACCESS.to_string()),
        ("enable", enable.to_string()),
        ("in_t", dtype.wgsl_storage().to_string()),
        ("out_t", dtype.wgsl_storage().to_string()),
        ("acc_t", dtype.wgsl_compute().to_string()),
        ("zero", zero.to_string()),
        ("load", load_expr("v", dtype)),
        ("store", store_expr("r_val", dtype)),
        ("operands", OPERANDS.to_string()),
    ]
}

fn fill(template: &str, substitutions: &[(&'static str, String)]) -> String {
    let pairs: Vec<(&str, &str)> = substitutions
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    fill_template(template, &pairs)
}

/// The kernel for `dtype` with `tile`; `a_k_fast`/`b_k_fast` say whether
/// K is the contiguous axis of A/B (and so the direction tiles load along).
pub fn source(dtype: DType, tile: Tile, a_k_fast: bool, b_k_fast: bool) -> String {
    let num = |v: u32| v.to_string();
    let mut substitutions = dtype_substitutions(dtype);
    substitutions.extend([
        ("bm", num(tile.bm)),
        ("bn", num(tile.bn)),
        ("bk", num(tile.bk)),
        ("tm", num(tile.tm)),
        ("tn", num(tile.tn)),
        ("wx", num(tile.bn / tile.tn)),
        ("wy", num(tile.bm / tile.tm)),
        ("tile_a_len", num(tile.bk * tile.bm / 4)),
        ("tile_b_len", num(tile.bk * tile.bn / 4)),
        ("acc_len", num(tile.tm * tile.tn / 4)),
        ("a_k_fast", a_k_fast.to_string()),
        ("b_k_fast", b_k_fast.to_string()),
        ("multiply", multiply_statements(tile)),
    ]);
    fill(TEMPLATE, &substitutions)
}

/// The kernel for CPU adapters (no workgroup memory), for `dtype`, `width`
/// threads across (one of [`DIRECT_WIDTHS`]).
pub fn direct_source(dtype: DType, width: u32) -> String {
    let mut substitutions = dtype_substitutions(dtype);
    substitutions.extend([("wx", width.to_string()), ("wy", DIRECT_WY.to_string())]);
    fill(DIRECT_TEMPLATE, &substitutions)
}

/// The pipeline key of [`direct_source`]'s kernel.
pub fn direct_key(dtype: DType, width: u32) -> String {
    format!("matmul_{}_direct_{width}", dtype.wgsl_storage())
}

/// Fragments of 16 rows (of A) and 16 columns (of B) per subgroup block of
/// the tensor-core kernel (a 64 x 64 block).
const COOP_FRAGMENTS: usize = 4;

/// Workgroup memory of the tensor-core kernel: two buffers of streamed A
/// and B tiles (see wgsl/matmul_coop.wgsl).
pub const COOP_WORKGROUP_BYTES: u32 = 2 * 10240 * 2;

/// The tensor-core kernel for float16 (see wgsl/matmul_coop.wgsl), its
/// per-fragment code unrolled.
pub fn coop_source(a_k_fast: bool, b_k_fast: bool) -> String {
    let f = COOP_FRAGMENTS;
    let (mut accumulators, mut direct, mut streamed, mut staged, mut stores) = (
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    );
    // A fragment is row-major when K is A's contiguous axis; a B fragment
    // is column-major when K is B's. The streamed tiles keep the operands'
    // layouts.
    let load_a = if a_k_fast { "coopLoadT" } else { "coopLoad" };
    let load_b = if b_k_fast { "coopLoad" } else { "coopLoadT" };
    for i in 0..f {
        let o = 16 * i;
        let _ = writeln!(
            direct,
            "            let a{i} = {load_a}<coop_mat16x16<f16, A>>(&a[a_k + {o}u * u32(a_row)], a_ld);"
        );
        let _ = writeln!(
            direct,
            "            let b{i} = {load_b}<coop_mat16x16<f16, B>>(&b[b_k + {o}u * u32(b_col)], b_ld);"
        );
        let a_at = if a_k_fast {
            format!("(sub_row + {o}u) * LDA + kk")
        } else {
            format!("kk * LDA + sub_row + {o}u")
        };
        let b_at = if b_k_fast {
            format!("(sub_col + {o}u) * LDB + kk")
        } else {
            format!("kk * LDB + sub_col + {o}u")
        };
        let _ = writeln!(
            streamed,
            "                let a{i} = {load_a}<coop_mat16x16<f16, A>>(&tile_a[(buffer + {a_at}) / 4u], LDA / 4u);"
        );
        let _ = writeln!(
            streamed,
            "                let b{i} = {load_b}<coop_mat16x16<f16, B>>(&tile_b[(buffer + {b_at}) / 4u], LDB / 4u);"
        );
        let _ = writeln!(
            staged,
            "            let a{i} = coopLoadT<coop_mat16x16<f16, A>>(&tile_a[((sub_row + {o}u) * BK + kk) / 4u], BK / 4u);"
        );
        let _ = writeln!(
            staged,
            "            let b{i} = coopLoadT<coop_mat16x16<f16, B>>(&tile_b[(kk * BN + sub_col + {o}u) / 4u], BN / 4u);"
        );
    }
    for i in 0..f {
        for j in 0..f {
            let _ = writeln!(accumulators, "    var acc{i}{j} = coop_mat16x16<f32, C>();");
            let mma = format!("acc{i}{j} = coopMultiplyAdd(a{i}, b{j}, acc{i}{j});\n");
            direct.push_str(&format!("            {mma}"));
            staged.push_str(&format!("            {mma}"));
            streamed.push_str(&format!("                {mma}"));
            let _ = writeln!(
                stores,
                "    let at{i}{j} = block + {}u * ldc + {}u;\n    coopStoreT(acc{i}{j}, &c[at{i}{j}], ldc);",
                16 * i,
                16 * j
            );
        }
    }
    fill_template(
        COOP_TEMPLATE,
        &[
            ("a_k_fast", &a_k_fast.to_string()),
            ("b_k_fast", &b_k_fast.to_string()),
            ("operands", OPERANDS),
            ("a_ld", if a_k_fast { "a_row" } else { "a_col" }),
            ("b_ld", if b_k_fast { "b_col" } else { "b_row" }),
            ("accumulators", &accumulators),
            ("direct_step", &direct),
            ("streamed_step", &streamed),
            ("staged_step", &staged),
            ("stores", &stores),
        ],
    )
}

pub fn coop_key(a_k_fast: bool, b_k_fast: bool) -> String {
    format!("matmul_coop_f16_{a_k_fast}_{b_k_fast}")
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

/// Per dtype but bool: the direct kernel and every tiling in both load
/// directions of each operand; the tensor-core kernels for float16.
pub(crate) fn variants(out: &mut Vec<KernelSource>) {
    let directions = [(false, false), (true, false), (false, true), (true, true)];
    for dtype in DType::ALL.into_iter().filter(|&d| d != DType::Bool) {
        if dtype == DType::F16 {
            for (a_k, b_k) in directions {
                out.push(KernelSource::new(
                    coop_key(a_k, b_k),
                    "main",
                    coop_source(a_k, b_k),
                ));
            }
        }
        for width in DIRECT_WIDTHS {
            out.push(KernelSource::new(
                direct_key(dtype, width),
                "main",
                direct_source(dtype, width),
            ));
        }
        for tile in Tile::ALL {
            for (a_k, b_k) in directions {
                out.push(KernelSource::new(
                    key(dtype, tile, a_k, b_k),
                    "main",
                    source(dtype, tile, a_k, b_k),
                ));
            }
        }
    }
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
    let out_batch_shape = &out_shape[..nd - 2];
    let out_batch: usize = out_batch_shape.iter().product();
    if out_batch * m * n == 0 {
        return enc.alloc_array(out_shape, dtype);
    }
    // Batch dimensions broadcast as views: stride 0 where an operand has size 1.
    let mut a_full = out_batch_shape.to_vec();
    a_full.extend_from_slice(&a_shape[a_shape.len() - 2..]);
    let mut b_full = out_batch_shape.to_vec();
    b_full.extend_from_slice(&b_shape[b_shape.len() - 2..]);
    let (a, b) = (
        views::broadcast_view(a, a_shape, &a_full),
        views::broadcast_view(b, b_shape, &b_full),
    );
    // Tensor cores write float32 into whole 128 x 128 tiles; the result is
    // the M x N corner of each, converted to float16.
    let (m_pad, n_pad) = (m.next_multiple_of(128), n.next_multiple_of(128));
    let padded_bytes = (out_batch * m_pad * n_pad * 4) as u64;
    let max_binding = enc.dev.limits.max_storage_binding_bytes;
    let coop = dtype == DType::F16
        && enc.dev.limits.cooperative_f16
        && m.min(n).min(k) >= COOP_MIN_SIDE
        && padded_bytes <= max_binding;
    // CPU adapters take the direct kernel at every size: without barriers
    // it beats the tilings there (BENCHMARKS.md, "Matmul on CPU adapters").
    let (staged, splits) = if coop {
        let tiles = out_batch * (m_pad / 128) * (n_pad / 128);
        let mut splits = k_splits(tiles, k);
        while padded_bytes * splits as u64 > max_binding {
            splits /= 2;
        }
        (None, splits)
    } else if cpu_choices(&enc.dev) {
        (None, 1)
    } else {
        // Partial products are float32: float16 splits K only on tensor cores.
        let splittable_k = if dtype == DType::F32 { k } else { 0 };
        let (tile, splits) = Tile::choose(&enc.dev, m, n, splittable_k, out_batch);
        (Some(tile), splits)
    };
    // A split product is a batch of `splits` products over slices of K,
    // stacked along a new leading batch axis.
    let nb0 = out_batch_shape.len();
    let (a, b, k, batch_shape) = if splits > 1 {
        let slice = k / splits;
        let mut shape = vec![splits];
        shape.extend_from_slice(out_batch_shape);
        (
            split_k_view(&a, nb0 + 1, slice),
            split_k_view(&b, nb0, slice),
            slice,
            shape,
        )
    } else {
        (a, b, k, out_batch_shape.to_vec())
    };
    let batch = out_batch * splits;
    let nb = batch_shape.len();
    // Whether K is the contiguous axis of A (column stride 1) and of B (row
    // stride 1): tiles then load along K.
    let a_k_fast = a.strides[nb + 1] == 1 && k > 1;
    let b_k_fast = b.strides[nb] == 1 && k > 1;
    // [M, N, K, nb, offsets, strides, batch base, extra..., batch shape and
    // strides]: the layout both kernels read.
    let bits = |s: isize| s as i32 as u32;
    let params = |base: usize, extra: &[u32]| {
        let mut p = vec![
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
        p.extend_from_slice(extra);
        p.extend(batch_shape.iter().map(|&d| d as u32));
        p.extend(a.strides[..nb].iter().map(|&s| bits(s)));
        p.extend(b.strides[..nb].iter().map(|&s| bits(s)));
        p
    };
    let batches = || {
        (0..batch)
            .step_by(MAX_WORKGROUPS_PER_DIM as usize)
            .map(move |base| {
                (
                    base,
                    (batch - base).min(MAX_WORKGROUPS_PER_DIM as usize) as u32,
                )
            })
    };
    // The sum over the leading `splits` axis of contiguous float32 partial
    // products, `len` values each.
    let add_splits = |enc: &mut Encoder, partials: Arc<Buffer>, len: usize| {
        let partials = DeviceData {
            buffer: partials,
            strides: vec![len as isize, 1],
            offset: 0,
        };
        let sum = &[0];
        super::reduce::encode(
            enc,
            ReduceOp::Sum,
            &partials,
            &[splits, len],
            DType::F32,
            sum,
            DType::F32,
        )
        .map(|summed| summed.buffer)
    };
    if coop {
        // Interior tiles stream 16-byte chunks (and load a last 16 of K's
        // fragments straight from the operands) when each operand is
        // dense along the axis its tiles' rows run (K for A when
        // `a_k_fast`, M otherwise; K for B when `b_k_fast`, N otherwise),
        // K is whole fragments, and every row starts 16 bytes aligned:
        // offsets, the other strides and the batch strides are
        // non-negative multiples of 8 elements.
        let aligned = |v: isize| v >= 0 && v % 8 == 0;
        let (a_dense, a_lead) = if a_k_fast { (nb + 1, nb) } else { (nb, nb + 1) };
        let (b_dense, b_lead) = if b_k_fast { (nb, nb + 1) } else { (nb + 1, nb) };
        let direct = a.strides[a_dense] == 1
            && b.strides[b_dense] == 1
            && k % 16 == 0
            && [
                a.offset as isize,
                b.offset as isize,
                a.strides[a_lead],
                b.strides[b_lead],
            ]
            .iter()
            .chain(&a.strides[..nb])
            .chain(&b.strides[..nb])
            .all(|&v| aligned(v));
        let padded = enc.alloc(padded_bytes * splits as u64)?;
        let pipeline = enc
            .dev
            .trusted_pipeline(&coop_key(a_k_fast, b_k_fast), "main", || {
                coop_source(a_k_fast, b_k_fast)
            });
        for (base, count) in batches() {
            enc.dispatch(
                pipeline.clone(),
                &params(base, &[n_pad as u32, m_pad as u32, direct as u32]),
                // A and B also as 16-byte chunks for the streamed tiles.
                vec![a.gpu(), b.gpu(), padded.clone(), a.gpu(), b.gpu()],
                [(n_pad / 128) as u32, (m_pad / 128) as u32, count],
            );
        }
        let summed = if splits > 1 {
            add_splits(enc, padded, out_batch * m_pad * n_pad)?
        } else {
            padded
        };
        let mut strides: Vec<isize> = contiguous_strides(out_batch_shape)
            .iter()
            .map(|s| s * (m_pad * n_pad) as isize)
            .collect();
        strides.extend([n_pad as isize, 1]);
        let view = DeviceData {
            buffer: summed,
            strides,
            offset: 0,
        };
        let result = enc.alloc_array(out_shape, dtype)?;
        let target = Target {
            buffer: result.gpu(),
            offset: 0,
            strides: result.strides.clone(),
        };
        let expr = cast_expr("x0", DType::F32, dtype);
        let convert = MapOp::new("astype", &expr);
        map(
            enc,
            convert,
            &[(&view, DType::F32)],
            out_shape,
            dtype,
            Some(target),
        )?;
        return Ok(result);
    }
    let (pipeline, side_m, side_n) = if let Some(tile) = staged {
        let pipeline =
            enc.dev
                .trusted_pipeline(&key(dtype, tile, a_k_fast, b_k_fast), "main", || {
                    source(dtype, tile, a_k_fast, b_k_fast)
                });
        (pipeline, tile.bm as usize, tile.bn as usize)
    } else {
        let width = direct_width(n);
        let pipeline = enc
            .dev
            .trusted_pipeline(&direct_key(dtype, width), "main", || {
                direct_source(dtype, width)
            });
        (
            pipeline,
            DIRECT_BLOCK * DIRECT_WY as usize,
            DIRECT_BLOCK * width as usize,
        )
    };
    let products = if splits > 1 {
        enc.alloc_array(&[batch * m * n], DType::F32)?
    } else {
        enc.alloc_array(out_shape, dtype)?
    };
    let groups_x = n.div_ceil(side_n) as u32;
    let groups_y = m.div_ceil(side_m) as u32;
    for (base, count) in batches() {
        enc.dispatch(
            pipeline.clone(),
            &params(base, &[]),
            vec![a.gpu(), b.gpu(), products.gpu()],
            [groups_x, groups_y, count],
        );
    }
    if splits == 1 {
        return Ok(products);
    }
    let summed = add_splits(enc, products.gpu(), out_batch * m * n)?;
    Ok(DeviceData {
        buffer: summed,
        strides: contiguous_strides(out_shape),
        offset: 0,
    })
}
