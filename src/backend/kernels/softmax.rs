//! Softmax and log-softmax over the last axis: one workgroup per row (its
//! values in registers where the row fits them), or one thread per row for
//! short rows.

use super::elementwise::{contiguous, MATH};
use super::{cpu_choices, fill_template, KernelSource, Rows};
use crate::array::DeviceData;
use crate::backend::device::Device;
use crate::backend::encoder::Encoder;
use crate::backend::limits::grid;
use crate::dtype::DType;
use crate::error::Result;

pub const TEMPLATE: &str = wgsl!("softmax.wgsl");

/// Rows held in registers, four values per vec4.
pub const VEC4_TEMPLATE: &str = wgsl!("softmax_vec4.wgsl");

/// The values of a row each lane of `softmax_vec4.wgsl` holds (four vec4).
const VEC4_PER_LANE: usize = 16;

/// The lanes `softmax_vec4.wgsl` gives a row: 16 (four rows per
/// workgroup) for rows up to 256, else 64.
const VEC4_ROW_LANES: [usize; 2] = [16, 64];

/// The workgroup size of `softmax_vec4.wgsl`.
const VEC4_WORKGROUP: usize = 64;

/// How a row is covered.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Layout {
    /// A thread per row.
    ByThread,
    /// A workgroup per row, sweeping it three times.
    Sweeps,
    /// `lanes` lanes of a workgroup per row, holding it in registers.
    Registers { lanes: usize },
}

const LAYOUTS: [Layout; 4] = [
    Layout::ByThread,
    Layout::Sweeps,
    Layout::Registers {
        lanes: VEC4_ROW_LANES[0],
    },
    Layout::Registers {
        lanes: VEC4_ROW_LANES[1],
    },
];

fn source(log: bool, layout: Layout) -> String {
    let log = log.to_string();
    match layout {
        Layout::Registers { lanes } => fill_template(
            VEC4_TEMPLATE,
            &[
                ("math", MATH),
                ("log", &log),
                ("row_lanes", &lanes.to_string()),
            ],
        ),
        _ => fill_template(TEMPLATE, &[("math", MATH), ("log", &log)]),
    }
}

/// The pipeline's key and entry point.
fn key(log: bool, layout: Layout) -> (String, &'static str) {
    let name = if log {
        "log_softmax_f32"
    } else {
        "softmax_f32"
    };
    match layout {
        Layout::ByThread => (format!("{name}_by_thread"), "by_thread"),
        Layout::Sweeps => (name.to_string(), "main"),
        Layout::Registers { lanes } => (format!("{name}_vec4_{lanes}"), "main"),
    }
}

/// The layout for `rows` whose contiguous data starts at `offset`: on a
/// GPU, rows of whole vec4 that fit the registers are held there (short
/// ones too: a thread per row reads across rows and leaves most of the
/// GPU idle); CPU adapters keep a thread per row where they can.
fn layout(dev: &Device, rows: &Rows, offset: usize) -> Layout {
    let vec4 = rows.len.is_multiple_of(4) && offset.is_multiple_of(4);
    let lanes = VEC4_ROW_LANES
        .into_iter()
        .find(|lanes| rows.len <= lanes * VEC4_PER_LANE);
    match lanes {
        Some(lanes) if vec4 && !cpu_choices(dev) => Layout::Registers { lanes },
        _ if rows.by_thread => Layout::ByThread,
        _ => Layout::Sweeps,
    }
}

/// Softmax and log-softmax in every layout.
pub(crate) fn variants(out: &mut Vec<KernelSource>) {
    for log in [false, true] {
        for layout in LAYOUTS {
            let (name, entry) = key(log, layout);
            out.push(KernelSource::new(name, entry, source(log, layout)));
        }
    }
}

/// `softmax` (or `log_softmax` when `log`) of float32 `(data, shape)`
/// along its last axis.
pub fn encode(
    enc: &mut Encoder,
    data: &DeviceData,
    shape: &[usize],
    log: bool,
) -> Result<DeviceData> {
    let result = enc.alloc_array(shape, DType::F32)?;
    let Some(rows) = Rows::of(&enc.dev, shape) else {
        return Ok(result);
    };
    let src = contiguous(enc, data, shape, DType::F32)?;
    let layout = layout(&enc.dev, &rows, src.offset);
    let (key, entry) = key(log, layout);
    // Every index is inside a row of the contiguous input or output.
    let pipeline = enc
        .dev
        .trusted_pipeline(&key, entry, || source(log, layout));
    let params = [rows.count as u32, rows.len as u32, src.offset as u32];
    let groups = match layout {
        Layout::Registers { lanes } => grid(rows.count.div_ceil(VEC4_WORKGROUP / lanes) as u32),
        _ => rows.groups(),
    };
    enc.dispatch(pipeline, &params, vec![src.gpu(), result.gpu()], groups);
    Ok(result)
}
