//! The linear-algebra kernels: one workgroup per matrix (see `wgsl/linalg/`).

use super::elementwise::contiguous;
use crate::array::DeviceData;
use crate::backend::encoder::Encoder;
use crate::backend::limits::grid;
use crate::dtype::DType;
use crate::error::Result;
use crate::primitive::LinalgOp;

const PRELUDE: &str = include_str!("../../../wgsl/linalg/prelude.wgsl");

/// Jacobi sweeps at most; sweeps stop earlier once nothing rotates
/// (float32 converges in well under ten for the matrices tested).
pub const MAX_SWEEPS: u32 = 30;

/// The kernel file of each op.
fn body(op: LinalgOp) -> &'static str {
    match op {
        LinalgOp::LuFactor => include_str!("../../../wgsl/linalg/lu.wgsl"),
        LinalgOp::Cholesky => include_str!("../../../wgsl/linalg/cholesky.wgsl"),
        LinalgOp::TriangularSolve { .. } => include_str!("../../../wgsl/linalg/triangular.wgsl"),
        LinalgOp::Qr { .. } => include_str!("../../../wgsl/linalg/qr.wgsl"),
        LinalgOp::Eigh => include_str!("../../../wgsl/linalg/eigh.wgsl"),
        LinalgOp::Svd { .. } => include_str!("../../../wgsl/linalg/svd.wgsl"),
    }
}

/// The pipeline name and WGSL source of `op`'s kernel.
pub fn source(op: LinalgOp) -> (String, String) {
    (
        format!("linalg_{}", op.name()),
        format!("{PRELUDE}\n{}", body(op)),
    )
}

/// The `(rows, cols)` of the last two axes and the number of matrices.
fn matrices(shape: &[usize]) -> (usize, usize, usize) {
    let d = shape.len();
    let (rows, cols) = (shape[d - 2], shape[d - 1]);
    (shape[..d - 2].iter().product(), rows, cols)
}

/// Work per invocation, in loop trips, that one dispatch may hold: lavapipe
/// stops a loop after 65535 trips in total, and browsers end long dispatches.
const TRIPS_PER_DISPATCH: usize = crate::backend::limits::MAX_LOOP_TRIPS;

/// Splits steps `0..total` into runs whose summed `trips` stay within
/// [`TRIPS_PER_DISPATCH`] (at least one step each).
fn runs(total: usize, trips: impl Fn(usize) -> usize) -> Vec<[u32; 2]> {
    let mut out = Vec::new();
    let (mut first, mut load) = (0, 0);
    for step in 0..total {
        let t = trips(step);
        if step > first && load + t > TRIPS_PER_DISPATCH {
            out.push([first as u32, step as u32]);
            (first, load) = (step, 0);
        }
        load += t;
    }
    out.push([first as u32, total as u32]);
    out
}

/// Loop trips of one invocation over `items` items.
fn per_thread(items: usize) -> usize {
    items.div_ceil(WORKGROUP) + 1
}

/// Invocations per workgroup of the linear-algebra kernels.
const WORKGROUP: usize = 64;

/// Encodes `op` on float32 inputs `(data, shape)`; `shape` is the output's.
pub fn encode(
    enc: &mut Encoder,
    op: LinalgOp,
    inputs: &[(&DeviceData, &[usize])],
    shape: &[usize],
) -> Result<DeviceData> {
    let result = enc.alloc_array(shape, DType::F32)?;
    let (batch, m, n) = matrices(inputs[0].1);
    if shape.iter().product::<usize>() == 0 || batch == 0 {
        return Ok(result);
    }
    let srcs = inputs
        .iter()
        .map(|(d, s)| contiguous(enc, d, s, DType::F32))
        .collect::<Result<Vec<_>>>()?;
    let (key, text) = source(op);
    let pipeline = enc.dev.pipeline(&key, || text);
    let out = result.buffer.clone();
    let (b32, m32, n32) = (batch as u32, m as u32, n as u32);
    let src = srcs[0].buffer.clone();
    let offset = srcs[0].offset as u32;
    let run_all = |enc: &mut Encoder,
                   base: &[u32],
                   buffers: Vec<std::sync::Arc<crate::backend::pool::Buffer>>,
                   groups: u32,
                   steps: Vec<[u32; 2]>,
                   tail: &[u32]| {
        for range in steps {
            let params = [base, &range, tail].concat();
            enc.dispatch(pipeline.clone(), &params, buffers.clone(), grid(groups));
        }
    };
    match op {
        LinalgOp::LuFactor | LinalgOp::Cholesky => {
            let steps = runs(n, |k| {
                let r = n - k;
                per_thread(r * r)
                    + 3 * per_thread(n)
                    + 8
                    + if k == 0 { per_thread(n * n) } else { 0 }
            });
            run_all(enc, &[b32, n32, offset], vec![src, out], b32, steps, &[]);
        }
        LinalgOp::TriangularSolve { lower, unit } => {
            let k = inputs[1].1[inputs[1].1.len() - 1];
            let per = k.div_ceil(WORKGROUP).max(1) as u32;
            let base = [
                b32,
                n32,
                k as u32,
                offset,
                srcs[1].offset as u32,
                lower as u32,
                unit as u32,
                per,
            ];
            let rhs = srcs[1].buffer.clone();
            let steps = runs(n, |i| i.max(n - i) + 1);
            run_all(enc, &base, vec![src, rhs, out], b32 * per, steps, &[]);
        }
        LinalgOp::Qr { .. } => {
            let k = shape[shape.len() - 1] - n;
            let p = m.min(n);
            let tau = enc.alloc((batch * p * 4).max(4) as u64)?;
            let steps = runs(2 * p, |step| {
                let start = if step == 0 {
                    per_thread(m * (k + n))
                } else {
                    0
                };
                let end = if step + 1 == 2 * p {
                    per_thread(m * n)
                } else {
                    0
                };
                start
                    + end
                    + if step < p {
                        2 * per_thread(m - step) + 8 + per_thread(n - step) * 2 * (m - step)
                    } else {
                        let j = 2 * p - 1 - step;
                        per_thread(k - j) * 2 * (m - j)
                    }
            });
            run_all(
                enc,
                &[b32, m32, n32, k as u32, offset],
                vec![src, out, tau],
                b32,
                steps,
                &[],
            );
        }
        LinalgOp::Eigh => {
            let pairs = n.div_ceil(2);
            let rounds = (2 * pairs - 1).max(1);
            let total = MAX_SWEEPS as usize * rounds;
            let work = enc.alloc((batch * n * n * 4) as u64)?;
            let rot = enc.alloc((batch * pairs * 8) as u64)?;
            let state = enc.alloc((batch * 2 * 4) as u64)?;
            let steps = runs(total, |step| {
                let start = if step == 0 { per_thread(n * n) } else { 0 };
                start + per_thread(pairs) + 2 * per_thread(pairs * n) + 2
            });
            run_all(
                enc,
                &[b32, n32, offset],
                vec![src, out, work, rot, state],
                b32,
                steps,
                &[total as u32],
            );
        }
        LinalgOp::Svd { .. } => {
            let p = shape[shape.len() - 1];
            let pairs = n.div_ceil(2);
            let rounds = (2 * pairs - 1).max(1);
            let jacobi = MAX_SWEEPS as usize * rounds;
            let dots = enc.alloc((batch * p * 4) as u64)?;
            let state = enc.alloc((batch * 3 * 4) as u64)?;
            let steps = runs(jacobi + 1 + p, |step| {
                let start = if step == 0 {
                    per_thread((m + n + 1) * p)
                } else {
                    0
                };
                start
                    + if step < jacobi {
                        per_thread(pairs) * (3 * m + n) + 2
                    } else if step == jacobi {
                        per_thread(n) * m + per_thread(m * n) + per_thread(p) + 8
                    } else {
                        per_thread(m) * p * 2 + per_thread(p) * m + 8
                    }
            });
            run_all(
                enc,
                &[b32, m32, n32, p as u32, offset],
                vec![src, out, dots, state],
                b32,
                steps,
                &[jacobi as u32],
            );
        }
    }
    Ok(result)
}
