//! The linear-algebra kernels: one workgroup per matrix (see `wgsl/linalg/`).
//! Large matrices reach them lowered into panels (see `src/lower/linalg.rs`).

use super::elementwise::contiguous;
use super::KernelSource;
use crate::array::DeviceData;
use crate::backend::encoder::Encoder;
use crate::backend::limits::{grid, grid_for_threads};
use crate::dtype::DType;
use crate::error::Result;
use crate::primitive::LinalgOp;

const PRELUDE: &str = wgsl!("linalg/prelude.wgsl");

/// The helpers every LU kernel shares (packed layout, serial pivot search).
const LU_COMMON: &str = wgsl!("linalg/lu_common.wgsl");

/// Jacobi sweeps at most; sweeps stop earlier once nothing rotates
/// (float32 converges in well under ten for the matrices tested).
pub const MAX_SWEEPS: u32 = 30;

/// The kernel file of each op.
fn body(op: LinalgOp) -> &'static str {
    match op {
        LinalgOp::LuFactor => wgsl!("linalg/lu.wgsl"),
        LinalgOp::Cholesky => wgsl!("linalg/cholesky.wgsl"),
        LinalgOp::TriangularSolve { .. } => wgsl!("linalg/triangular.wgsl"),
        LinalgOp::Qr { .. } | LinalgOp::Householder => {
            wgsl!("linalg/qr.wgsl")
        }
        LinalgOp::Eigh => wgsl!("linalg/eigh.wgsl"),
        LinalgOp::Svd { .. } => wgsl!("linalg/svd.wgsl"),
    }
}

/// The shared helpers with `lanes` invocations per workgroup.
fn prelude(lanes: usize) -> String {
    super::fill_template(PRELUDE, &[("lanes", &lanes.to_string())])
}

/// The pipeline name and WGSL source of `op`'s kernel with `lanes`
/// invocations per workgroup.
pub fn source(op: LinalgOp, lanes: usize) -> (String, String) {
    // Blocked QR's panels run the QR kernel in its compact mode.
    let name = match op {
        LinalgOp::Householder => LinalgOp::Qr { complete: false }.name(),
        _ => op.name(),
    };
    let helpers = if op == LinalgOp::LuFactor {
        LU_COMMON
    } else {
        ""
    };
    (
        format!("linalg_{name}_{lanes}"),
        format!("{}\n{helpers}\n{}", prelude(lanes), body(op)),
    )
}

/// Invocations per workgroup for `op` on m x n matrices: more for larger
/// ones, whose steps have more to share. The triangular solve gives each
/// invocation a column of its own.
fn lanes_for(op: LinalgOp, m: usize, n: usize, cpu: bool) -> usize {
    match op {
        LinalgOp::TriangularSolve { .. } => 64,
        // lu_columns.wgsl: a column per lane, few lanes waiting at barriers.
        // One lane count for every size, so that one pipeline serves them
        // all (in Chromium on SwiftShader 16 lanes made LU of 256 about 5%
        // faster, but a second pipeline cost LU of 64 a first call of 145
        // against 6 ms).
        LinalgOp::LuFactor if cpu => 64,
        // The two-stage kernels: on a CPU adapter, whose barriers cost the
        // more the more lanes wait at them, few lanes (eigh of 64 x 64 on
        // lavapipe: 8.3 ms with 64, 14 ms with 256).
        LinalgOp::Eigh | LinalgOp::Svd { .. } if two_stage(op, n, cpu) && cpu => 64,
        _ if m.max(n) >= 64 => 256,
        _ => 64,
    }
}

/// The (row, matrix) strides of a float32 view of `shape` whose entries lie
/// along its rows and whose matrices are one stride apart (or all the
/// same), if it is such a view.
fn row_strided(data: &DeviceData, shape: &[usize]) -> Option<(usize, usize)> {
    let nd = shape.len();
    let st = &data.strides;
    if nd < 2 || (shape[nd - 1] > 1 && st[nd - 1] != 1) || st[nd - 2] < 0 {
        return None;
    }
    // The batch axes that count, outermost first, as (size, stride).
    let batch: Vec<(usize, isize)> = (0..nd - 2)
        .filter(|&d| shape[d] > 1)
        .map(|d| (shape[d], st[d]))
        .collect();
    let matrix = batch.last().map_or(0, |&(_, s)| s);
    let nested = batch.windows(2).all(|w| w[0].1 == w[1].1 * w[1].0 as isize);
    (matrix >= 0 && nested).then_some((st[nd - 2] as usize, matrix as usize))
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
    runs_from(0, total, trips)
}

/// [`runs`] of steps `start..total`.
fn runs_from(start: usize, total: usize, trips: impl Fn(usize) -> usize) -> Vec<[u32; 2]> {
    let mut out = Vec::new();
    let (mut first, mut load) = (start, 0);
    for step in start..total {
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
    // A triangular solve reads T where it lies when its rows are (an LU
    // factor inside the packed output, a block of a larger matrix).
    let t_strides = match op {
        LinalgOp::TriangularSolve { .. } => row_strided(inputs[0].0, inputs[0].1),
        _ => None,
    };
    let srcs = inputs
        .iter()
        .enumerate()
        .map(|(i, (d, s))| match t_strides {
            Some(_) if i == 0 => Ok((*d).clone()),
            _ => contiguous(enc, d, s, DType::F32),
        })
        .collect::<Result<Vec<_>>>()?;
    let out = result.gpu();
    let (b32, m32, n32) = (batch as u32, m as u32, n as u32);
    let src = srcs[0].gpu();
    let offset = srcs[0].offset as u32;
    if let Some(entry) = per_lane_entry(op, m, n) {
        let key = format!("linalg_per_lane_{entry}");
        let pipeline = enc.dev.pipeline_at(&key, entry, per_lane_source);
        let params = match op {
            LinalgOp::LuFactor => vec![b32, m32, n32, offset, 0, 0],
            LinalgOp::Eigh => vec![b32, n32, offset, MAX_SWEEPS],
            _ => vec![b32, n32, offset, 0, 0],
        };
        let groups = b32.div_ceil(PER_LANE_WG as u32);
        enc.dispatch(pipeline, &params, vec![src, out], grid(groups));
        return Ok(result);
    }
    let cpu = super::cpu_choices(&enc.dev);
    let lanes = lanes_for(op, m, n, cpu);
    // Loop trips of one invocation over `items` items.
    let per_thread = |items: usize| items.div_ceil(lanes) + 1;
    let lu_by_columns = op == LinalgOp::LuFactor && cpu;
    let (key, text) = if two_stage(op, n, cpu) {
        two_stage_source(op, lanes)
    } else if lu_by_columns {
        lu_columns_source(lanes)
    } else {
        source(op, lanes)
    };
    let pipeline = enc.dev.pipeline(&key, || text);
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
        LinalgOp::LuFactor => {
            let total = if lu_by_columns {
                m.min(n).div_ceil(LU_DEPTH)
            } else {
                m.min(n)
            };
            // lu_columns.wgsl shares a matrix's columns out among
            // workgroups, whose blocks then take a dispatch each.
            let per_matrix = if lu_by_columns {
                n.div_ceil(lanes).max(1)
            } else {
                1
            };
            let steps = if per_matrix > 1 {
                let blocks = (0..total as u32).map(|k| [k, k + 1]);
                std::iter::once([0, 0]).chain(blocks).collect()
            } else {
                runs(total, |k| {
                    let start = match (k, lu_by_columns) {
                        // The copy, and lu_columns.wgsl factoring the first block.
                        (0, true) => per_thread(m * (n + 2)) + 3 * LU_DEPTH * m,
                        (0, false) => per_thread(m * (n + 2)),
                        _ => 0,
                    };
                    start
                        + if lu_by_columns {
                            // Trips of a block's step: the lane's columns down
                            // the rows, then factoring the next block.
                            let k = k * LU_DEPTH;
                            (per_thread(n + 1) + 3 * LU_DEPTH) * (m - k) + 8
                        } else {
                            per_thread((m - k) * (n - k)) + 2 * per_thread(m) + per_thread(n) + 8
                        }
                })
            };
            let groups = grid(b32 * per_matrix as u32);
            for (i, [first, last]) in steps.into_iter().enumerate() {
                // The first dispatch copies the input (lu_columns.wgsl).
                let params = vec![b32, m32, n32, offset, first, last, (i == 0) as u32];
                enc.dispatch(
                    pipeline.clone(),
                    &params,
                    vec![src.clone(), out.clone()],
                    groups,
                );
            }
        }
        LinalgOp::Cholesky => {
            let steps = runs(n, |k| {
                let r = n - k;
                let start = if k == 0 { per_thread(n * n) } else { 0 };
                start + per_thread(r * r) + 3 * per_thread(n) + 8
            });
            run_all(enc, &[b32, n32, offset], vec![src, out], b32, steps, &[]);
        }
        LinalgOp::TriangularSolve { lower, unit } => {
            let k = inputs[1].1[inputs[1].1.len() - 1];
            let (row, matrix) = t_strides.unwrap_or((n, n * n));
            // Invocations per matrix: tiny ones packed into workgroups
            // (on the H100 solve 10000 x 4x4 0.20 -> 0.14 ms), larger ones a
            // workgroup each (packed, solve 512 x 32x32 took 0.42 against
            // 0.37 ms).
            let per_matrix = if n <= PER_LANE_UP_TO {
                k
            } else {
                k.div_ceil(lanes) * lanes
            };
            let base = [
                b32,
                n32,
                k as u32,
                offset,
                srcs[1].offset as u32,
                lower as u32,
                unit as u32,
                row as u32,
                matrix as u32,
                per_matrix as u32,
            ];
            let rhs = srcs[1].gpu();
            let steps = runs(n, |i| i.max(n - i) + 1);
            let groups = (batch * per_matrix).div_ceil(lanes) as u32;
            run_all(enc, &base, vec![src, rhs, out], groups, steps, &[]);
        }
        LinalgOp::Qr { .. } | LinalgOp::Householder => {
            let compact = op == LinalgOp::Householder;
            let k = shape[shape.len() - 1] - n;
            let p = m.min(n);
            let tau = enc.alloc((batch * p * 4).max(4) as u64)?;
            let dots = enc.alloc((batch * p * 4).max(4) as u64)?;
            // Loop trips of qr.wgsl's `reflect` on `count` columns of `rows`.
            let reflect = |count: usize, rows: usize| {
                let alone = count.div_ceil(lanes) * 2 * rows;
                alone.min(count * (2 * rows.div_ceil(lanes) + 16)) + 8
            };
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
                        2 * per_thread(m - step) + 8 + reflect(n - step, m - step)
                    } else if compact {
                        let j = step - p;
                        j * (per_thread(m) + 8) + per_thread(j) * j + 4
                    } else {
                        let j = 2 * p - 1 - step;
                        reflect(k - j, m - j)
                    }
            });
            run_all(
                enc,
                &[b32, m32, n32, k as u32, offset],
                vec![src, out, tau, dots],
                b32,
                steps,
                &[compact as u32],
            );
        }
        LinalgOp::Eigh if two_stage(op, n, cpu) => {
            let work = enc.alloc((batch * n * n * 4) as u64)?;
            let aux = enc.alloc((batch * 3 * n * 4) as u64)?;
            let state = enc.alloc((batch * 2 * 4) as u64)?;
            let reflectors = n.max(2) - 2;
            let ql_first = 2 * reflectors + 1;
            // As eigh_tridiagonal.wgsl counts a QL sweep's loop trips.
            let sweep = 3 * n + 8 + n.div_ceil(lanes) * (n + 1);
            let sweeps_per_chunk = (SWEEP_BUDGET / sweep).saturating_sub(1).max(1);
            let chunks = (SWEEPS * n).div_ceil(sweeps_per_chunk);
            // A workgroup reduction's loop trips.
            let reduce = lanes.ilog2() as usize + 2;
            let steps = runs(ql_first + chunks + 1, |step| {
                let start = if step == 0 { per_thread(n * n) } else { 0 };
                start
                    + per_thread(n)
                    + if step < reflectors {
                        let l = n - step - 1;
                        5 * per_thread(l)
                            + per_thread(l) * (l + 1)
                            + 3 * reduce
                            + l.div_ceil(lanes / TWO_STAGE_TEAM) * (l.div_ceil(TWO_STAGE_TEAM) + 1)
                            + 8
                    } else if step == reflectors {
                        per_thread(n) + per_thread(n * n) + 4
                    } else if step < ql_first {
                        let l = n - (2 * reflectors - step) - 1;
                        per_thread(l) + per_thread(l) * (2 * l + 2) + 4
                    } else if step < ql_first + chunks {
                        SWEEP_BUDGET + sweep
                    } else {
                        per_thread(n)
                    }
            });
            run_all(
                enc,
                &[b32, n32, offset],
                vec![src, out, work, aux, state],
                b32,
                steps,
                &[chunks as u32],
            );
        }
        LinalgOp::Eigh if n > ONE_WORKGROUP_SPECTRAL => {
            eigh_wide(enc, (batch, n), src, offset, out)?;
        }
        LinalgOp::Eigh => {
            let pairs = n.div_ceil(2);
            let rounds = (2 * pairs).saturating_sub(1).max(1);
            let total = MAX_SWEEPS as usize * rounds;
            let work = enc.alloc((batch * n * n * 4) as u64)?;
            let rot = enc.alloc((batch * pairs * 8) as u64)?;
            let state = enc.alloc((batch * 2 * 4) as u64)?;
            // eigh.wgsl's teams: lanes per pair in the row and column updates.
            let team = (lanes / pairs).clamp(1, n.max(1));
            let update = pairs.div_ceil(lanes / team) * (n.div_ceil(team) + 1);
            let steps = runs(total, |step| {
                let start = if step == 0 { per_thread(n * n) } else { 0 };
                start + per_thread(pairs) + 2 * update + 2
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
        LinalgOp::Svd { .. } if two_stage(op, n, cpu) => {
            let p = shape[shape.len() - 1];
            let work = enc.alloc((batch * m * n * 4) as u64)?;
            let aux = enc.alloc((batch * 4 * n * 4) as u64)?;
            let state = enc.alloc((batch * 3 * 4) as u64)?;
            let qr_first = 3 * n;
            // As svd_bidiagonal.wgsl counts an iteration's loop trips.
            let sweep = 3 * n + 8 + (m + n).div_ceil(lanes) * (2 * n + 2);
            let sweeps_per_chunk = (SWEEP_BUDGET / sweep).saturating_sub(1).max(1);
            let chunks = ((SWEEPS + 1) * n).div_ceil(sweeps_per_chunk);
            let reduce = lanes.ilog2() as usize + 2;
            let steps = runs(qr_first + chunks + 1, |step| {
                let start = if step == 0 { per_thread(m * n) } else { 0 };
                start
                    + per_thread(n)
                    + if step < n {
                        let (rows, cols) = (m - step, n - step);
                        6 * per_thread(rows)
                            + 6 * per_thread(cols)
                            + 6 * reduce
                            + per_thread(cols) * 2 * rows
                            + per_thread(rows) * 2 * cols
                            + 8
                    } else if step == n {
                        per_thread(n) * 2 + per_thread(m * p) + per_thread(n * n) + n + 4
                    } else if step <= 2 * n {
                        let k = 2 * n - step;
                        per_thread(p - k) * 2 * (m - k) + 4
                    } else if step < qr_first {
                        let k = 3 * n - 1 - step;
                        per_thread(n - k) * 2 * (n - k) + 4
                    } else if step < qr_first + chunks {
                        SWEEP_BUDGET + sweep
                    } else {
                        per_thread(n)
                    }
            });
            run_all(
                enc,
                &[b32, m32, n32, p as u32, offset],
                vec![src, out, work, aux, state],
                b32,
                steps,
                &[chunks as u32],
            );
        }
        LinalgOp::Svd { .. } => {
            let p = shape[shape.len() - 1];
            let pairs = n.div_ceil(2);
            let rounds = (2 * pairs).saturating_sub(1).max(1);
            let jacobi = MAX_SWEEPS as usize * rounds;
            let dots = enc.alloc((batch * p * 4) as u64)?;
            let state = enc.alloc((batch * 3 * 4) as u64)?;
            let mut first = 0;
            if n > one_workgroup_svd(cpu) {
                let base = [b32, m32, n32, p as u32, offset];
                jacobi_rounds(enc, &base, (batch, m, n, p), src.clone(), out.clone())?;
                first = jacobi;
            }
            let steps = runs_from(first, jacobi + 1 + p, |step| {
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

/// Matrices up to this size have their eigenvalues (singular values) found
/// by Jacobi rotations: small ones to high relative accuracy, and tiny
/// matrices in few steps. Larger ones up to [`ONE_WORKGROUP_SPECTRAL`] are
/// reduced to a tridiagonal (bidiagonal) first, in two-stage kernels.
pub const JACOBI_UP_TO: usize = 32;

/// The largest matrix the two-stage kernels take (their tridiagonal or
/// bidiagonal is kept in workgroup memory).
pub const TWO_STAGE_MAX: usize = 256;

/// Whether `op` on matrices of `n` columns runs in a two-stage kernel (on
/// a CPU adapter when `cpu`).
fn two_stage(op: LinalgOp, n: usize, cpu: bool) -> bool {
    n > JACOBI_UP_TO
        && match op {
            LinalgOp::Eigh => n <= ONE_WORKGROUP_SPECTRAL,
            LinalgOp::Svd { .. } => n <= one_workgroup_svd(cpu),
            _ => false,
        }
}

/// The widest SVD that runs in one workgroup per matrix. On GPUs the
/// many-workgroup rounds overtake it before 256 columns (on the H100 svd of
/// 192 x 192 48 ms in one workgroup against 52 ms, of 256 x 256 96 against
/// 69 ms); on CPU adapters they never do (lavapipe, 256 x 256: 0.45 s
/// against 3.6 s).
fn one_workgroup_svd(cpu: bool) -> usize {
    if cpu {
        ONE_WORKGROUP_SPECTRAL
    } else {
        ONE_WORKGROUP_SVD_ON_GPUS
    }
}

/// [`one_workgroup_svd`] on GPUs.
const ONE_WORKGROUP_SVD_ON_GPUS: usize = 192;

/// Lanes per row in the two-stage eigh kernel's rank-2 updates.
const TWO_STAGE_TEAM: usize = 32;

/// QL (QR) sweeps per eigenvalue (singular value) at most in the two-stage
/// kernels.
const SWEEPS: usize = 30;

/// Loop trips of QL (QR) sweeps per dispatch in the two-stage kernels (under
/// [`TRIPS_PER_DISPATCH`] with room for the dispatch's other work).
const SWEEP_BUDGET: usize = 50_000;

/// The pipeline name and source of `op`'s two-stage kernel (eigh or SVD).
fn two_stage_source(op: LinalgOp, lanes: usize) -> (String, String) {
    let (kernel, body) = match op {
        LinalgOp::Eigh => ("eigh_tridiagonal", wgsl!("linalg/eigh_tridiagonal.wgsl")),
        _ => ("svd_bidiagonal", wgsl!("linalg/svd_bidiagonal.wgsl")),
    };
    let text = super::fill_template(
        &format!("{TWO_STAGE}\n{body}"),
        &[
            ("maxn", &TWO_STAGE_MAX.to_string()),
            ("team", &TWO_STAGE_TEAM.to_string()),
            ("sweeps", &SWEEPS.to_string()),
            ("sweep_budget", &SWEEP_BUDGET.to_string()),
        ],
    );
    (
        format!("linalg_{kernel}_{lanes}"),
        format!("{}\n{text}", prelude(lanes)),
    )
}

const TWO_STAGE: &str = wgsl!("linalg/two_stage.wgsl");

/// LU, Cholesky and eigh of matrices up to this size run a matrix per
/// invocation (per_lane.wgsl).
pub const PER_LANE_UP_TO: usize = 8;

/// Invocations per workgroup of per_lane.wgsl.
const PER_LANE_WG: usize = 64;

/// The entry point of per_lane.wgsl that computes `op` on m x n matrices,
/// if they are small enough for it.
fn per_lane_entry(op: LinalgOp, m: usize, n: usize) -> Option<&'static str> {
    if m.max(n) > PER_LANE_UP_TO {
        return None;
    }
    match op {
        LinalgOp::LuFactor => Some("lu"),
        LinalgOp::Cholesky => Some("cholesky"),
        LinalgOp::Eigh => Some("eigh"),
        _ => None,
    }
}

fn per_lane_source() -> String {
    let body = super::fill_template(
        wgsl!("linalg/per_lane.wgsl"),
        &[("maxn", &PER_LANE_UP_TO.to_string())],
    );
    format!("{}\n{LU_COMMON}\n{body}", prelude(PER_LANE_WG))
}

/// Columns per lane block and steps per barrier of the LU kernel for CPU
/// adapters (in Chromium on SwiftShader, LU of 256 took 48 ms with 4, 28-32
/// with 8 and 33 with 16).
const LU_DEPTH: usize = 8;

/// The pipeline name and source of the LU kernel for CPU adapters (blocks
/// of columns factored by one lane, the columns right of them updated by a
/// lane each).
fn lu_columns_source(lanes: usize) -> (String, String) {
    let body = super::fill_template(
        wgsl!("linalg/lu_columns.wgsl"),
        &[("depth", &LU_DEPTH.to_string())],
    );
    (
        format!("linalg_lu_columns_{lanes}"),
        format!("{}\n{LU_COMMON}\n{body}", prelude(lanes)),
    )
}

const ROUNDS: &str = wgsl!("linalg/jacobi_rounds.wgsl");
const SWEEP: &str = wgsl!("linalg/jacobi_sweep.wgsl");

fn rounds_source(body: &str) -> String {
    format!("{}\n{body}", prelude(64))
}

/// Each op's one-workgroup kernel at both lane counts, and the
/// many-workgroup Jacobi kernels.
pub(crate) fn variants(out: &mut Vec<KernelSource>) {
    for op in [
        LinalgOp::LuFactor,
        LinalgOp::Cholesky,
        LinalgOp::TriangularSolve {
            lower: true,
            unit: false,
        },
        LinalgOp::Qr { complete: false },
        LinalgOp::Eigh,
        LinalgOp::Svd { full: false },
    ] {
        for lanes in [64, 256] {
            let (name, source) = source(op, lanes);
            out.push(KernelSource::new(name, "main", source));
        }
    }
    for op in [LinalgOp::Eigh, LinalgOp::Svd { full: false }] {
        for lanes in [64, 256] {
            let (name, source) = two_stage_source(op, lanes);
            out.push(KernelSource::new(name, "main", source));
        }
    }
    for entry in WIDE_ENTRIES {
        out.push(KernelSource::new(
            format!("linalg_eigh_wide_{entry}"),
            entry,
            eigh_wide_source(),
        ));
    }
    let (name, source) = lu_columns_source(64);
    out.push(KernelSource::new(name, "main", source));
    for entry in ["lu", "cholesky", "eigh"] {
        out.push(KernelSource::new(
            format!("linalg_per_lane_{entry}"),
            entry,
            per_lane_source(),
        ));
    }
    for entry in ["init", "round", "finish"] {
        out.push(KernelSource::new(
            format!("linalg_jacobi_{entry}"),
            entry,
            rounds_source(ROUNDS),
        ));
    }
    for entry in ["sweep_end", "next_rounds"] {
        out.push(KernelSource::new(
            format!("linalg_jacobi_{entry}"),
            entry,
            rounds_source(SWEEP),
        ));
    }
}

/// Square factorizations of matrices larger than this run blocked: panel
/// kernels and matrix products.
pub const BLOCKED_FROM: usize = 128;

/// On CPU adapters LU runs unblocked up to this size: lu_columns.wgsl
/// shares the columns out among workgroups, one dispatch per block of
/// columns, where the blocked graph takes a dozen kinds of kernel (gathers,
/// copies, products), each a pipeline to compile and dispatches to pay for
/// (LU of 256 in Chromium on SwiftShader 36.8 -> 28-32 ms, solve's first
/// call 243 -> 126-156 ms).
pub const CPU_LU_BLOCKED_FROM: usize = 256;

/// Columns per panel of a blocked LU. CPU adapters take wider panels: each
/// panel costs a dozen dispatches of gathers, copies and products, which a
/// software adapter pays for more than the longer panel kernel (LU of 256
/// blocked on lavapipe 16.5 -> 13.2 ms, of 512 68 -> 62 ms; Cholesky and
/// QR are fastest at 32 there).
pub const LU_PANEL: usize = 32;
pub const CPU_LU_PANEL: usize = 64;

/// On CPU adapters triangular solves for a few right-hand sides run
/// unblocked up to this size: one invocation a column beats the blocked
/// graph's products there (solve of 256 on lavapipe 16.7 -> 14.6 ms with
/// one right-hand side, 17.2 -> 14.8 with 8; level at 1024 with one, and
/// slower with 8).
pub const CPU_NARROW_TRIANGULAR_BLOCKED_FROM: usize = 512;

/// SVD and eigh of matrices up to this many columns run in one workgroup
/// per matrix, all steps in a few dispatches; wider SVDs rotate column
/// pairs with many workgroups, one dispatch per round even once converged
/// (on lavapipe svd of 64 x 64 took 190 ms and 1,591 dispatches that way),
/// and wider eigh runs eigh_wide.wgsl.
pub const ONE_WORKGROUP_SPECTRAL: usize = 256;

/// Jacobi sweeps at most in the many-workgroup regime (each sweep is one
/// dispatch per round even once converged, so the cap is tighter).
pub const WIDE_SWEEPS: u32 = 24;

/// The many-workgroup one-sided Jacobi rounds of an SVD: A's columns
/// rotated until orthogonal, left unnormalised in `out` with V, for the SVD
/// kernel's last steps. `sizes` are (batch, m, n, p).
fn jacobi_rounds(
    enc: &mut Encoder,
    base: &[u32],
    (batch, m, n, p): (usize, usize, usize, usize),
    src: std::sync::Arc<crate::backend::pool::Buffer>,
    out: std::sync::Arc<crate::backend::pool::Buffer>,
) -> Result<()> {
    let text = || rounds_source(ROUNDS);
    let pipe = |enc: &mut Encoder, entry: &str| {
        enc.dev
            .pipeline_at(&format!("linalg_jacobi_{entry}"), entry, text)
    };
    let ut = enc.alloc((batch * n * m * 4) as u64)?;
    let vt = enc.alloc((batch * n * n * 4) as u64)?;
    let state = enc.alloc((batch * 2 * 4 + 4) as u64)?;
    let buffers = vec![src, out, ut, vt, state.clone()];
    let pairs = n.div_ceil(2);
    let rounds = 2 * pairs - 1;
    let params = |r: usize| [base, &[r as u32]].concat();
    let init = pipe(enc, "init");
    enc.dispatch(
        init,
        &params(0),
        buffers.clone(),
        grid_for_threads(batch * (n * m + n * n)),
    );
    let round = pipe(enc, "round");
    // After each sweep the GPU writes how many workgroups the next sweep's
    // rounds run: none once every matrix has converged.
    let sweep_text = || rounds_source(SWEEP);
    let sweep_end = enc
        .dev
        .pipeline_at("linalg_jacobi_sweep_end", "sweep_end", sweep_text);
    let next_rounds = enc
        .dev
        .pipeline_at("linalg_jacobi_next_rounds", "next_rounds", sweep_text);
    let round_grid = grid((batch * pairs) as u32);
    let groups = enc.alloc(16)?;
    let sweep_buffers = vec![state, groups.clone()];
    let sweep_params = [batch as u32, round_grid[0], round_grid[1]];
    for sweep in 0..WIDE_SWEEPS {
        for r in 0..rounds {
            if sweep == 0 {
                enc.dispatch(round.clone(), &params(r), buffers.clone(), round_grid);
            } else {
                enc.dispatch_indirect(round.clone(), &params(r), buffers.clone(), &groups);
            }
        }
        enc.dispatch(
            sweep_end.clone(),
            &sweep_params,
            sweep_buffers.clone(),
            grid_for_threads(batch),
        );
        enc.dispatch(
            next_rounds.clone(),
            &sweep_params,
            sweep_buffers.clone(),
            [1, 1, 1],
        );
    }
    let finish = pipe(enc, "finish");
    enc.dispatch(
        finish,
        &params(0),
        buffers,
        grid_for_threads(batch * (m + n + 1) * p),
    );
    Ok(())
}

/// Rows of the reduction per team of lanes in eigh_wide.wgsl (a team of
/// 32 lanes per row, 8 teams per workgroup).
const WIDE_ROWS_PER_TEAM: usize = 2;

/// Bisection steps at most per eigenvalue in eigh_wide.wgsl.
const WIDE_BISECTIONS: usize = 40;

/// Inverse iteration's solves per eigenvector in eigh_wide.wgsl.
const WIDE_SOLVES: usize = 3;

/// Cluster members per block of the orthonormalization in eigh_wide.wgsl.
const WIDE_SPAN: usize = 16;

/// Earlier cluster members one projection dispatch of eigh_wide.wgsl takes
/// at most (its workgroup memory holds their dot products).
const WIDE_CHUNK: usize = 2048;

/// eigh_wide.wgsl with its constants.
fn eigh_wide_source() -> String {
    let body = super::fill_template(
        wgsl!("linalg/eigh_wide.wgsl"),
        &[
            ("rows_per_team", &WIDE_ROWS_PER_TEAM.to_string()),
            ("bisections", &WIDE_BISECTIONS.to_string()),
            ("solves", &WIDE_SOLVES.to_string()),
            ("span", &WIDE_SPAN.to_string()),
            ("chunk", &WIDE_CHUNK.to_string()),
        ],
    );
    format!("{}\n{body}", prelude(WIDE_LANES))
}

/// Invocations per workgroup of eigh_wide.wgsl.
const WIDE_LANES: usize = 256;

/// The entry points of eigh_wide.wgsl, in the order they run.
const WIDE_ENTRIES: [&str; 7] = [
    "copy_in", "reduce", "bisect", "inverse", "project", "within", "back",
];

/// eigh of matrices wider than one workgroup takes (see eigh_wide.wgsl):
/// the reduction to a tridiagonal one dispatch per column on many
/// workgroups, its eigenvalues by bisection and eigenvectors by inverse
/// iteration an invocation each, the back-transformation a workgroup per
/// band of columns.
fn eigh_wide(
    enc: &mut Encoder,
    (batch, n): (usize, usize),
    src: std::sync::Arc<crate::backend::pool::Buffer>,
    offset: u32,
    out: std::sync::Arc<crate::backend::pool::Buffer>,
) -> Result<()> {
    let pipes: Vec<_> = WIDE_ENTRIES
        .iter()
        .map(|entry| {
            enc.dev.pipeline_at(
                &format!("linalg_eigh_wide_{entry}"),
                entry,
                eigh_wide_source,
            )
        })
        .collect();
    let [copy_in, reduce, bisect, inverse, project, within, back] = &pipes[..] else {
        unreachable!("seven entry points")
    };
    let floats = |count: usize| enc.alloc((count * 4).max(4) as u64);
    let a = floats(batch * n * n)?;
    let refl = floats(batch * n * n)?;
    let aux = floats(batch * 12 * n)?;
    // Inverse iteration's factors: 3 n floats per invocation, in chunks of
    // invocations that fit one binding.
    let eigenvalues = batch * n;
    let fit = (enc.dev.limits.max_storage_binding_bytes as usize / (12 * n)) / WIDE_LANES;
    let slots = eigenvalues.min(fit.max(1) * WIDE_LANES);
    let factors = floats(3 * n * slots)?;
    let buffers = vec![src, out, a, refl, aux, factors];
    let (b32, n32) = (batch as u32, n as u32);
    let threads = |count: usize| grid(count.div_ceil(WIDE_LANES) as u32);
    let mut run = |pipe: &std::sync::Arc<_>, tail: &[u32], groups: [u32; 3]| {
        let params = [&[b32, n32, offset][..], tail].concat();
        enc.dispatch(
            std::sync::Arc::clone(pipe),
            &params,
            buffers.clone(),
            groups,
        );
    };
    run(copy_in, &[], threads(batch * n * n));
    let rows_per_group = (WIDE_LANES / 32) * WIDE_ROWS_PER_TEAM;
    for k in 0..n {
        let per_matrix = (n - k - 1).div_ceil(rows_per_group).max(1);
        run(
            reduce,
            &[k as u32, per_matrix as u32],
            grid((batch * per_matrix) as u32),
        );
    }
    let bisect_steps = runs(WIDE_BISECTIONS, |step| {
        n + 8 + if step == 0 { 4 * n } else { 0 }
    });
    for range in bisect_steps {
        run(bisect, &range, threads(eigenvalues));
    }
    for first in (0..eigenvalues).step_by(slots) {
        for range in runs(WIDE_SOLVES + 1, |_| 4 * n + 8) {
            run(
                inverse,
                &[range[0], range[1], first as u32, slots as u32],
                threads(slots),
            );
        }
    }
    // Clusters in blocks of WIDE_SPAN members: each block's vectors lose
    // their projections on the members before it (twice, in chunks whose
    // loop trips fit a dispatch), then are orthonormalized among themselves.
    let lanes_over = |count: usize| count.div_ceil(WIDE_LANES);
    let chunk = (1..=WIDE_CHUNK / WIDE_LANES)
        .rev()
        .map(|c| c * WIDE_LANES)
        .find(|&c| lanes_over(c) * n + lanes_over(n) * c <= TRIPS_PER_DISPATCH)
        .unwrap_or(WIDE_LANES);
    for block in 0..n.div_ceil(WIDE_SPAN) {
        let before = block * WIDE_SPAN;
        for _ in 0..2 {
            for start in (0..before).step_by(chunk) {
                run(
                    project,
                    &[block as u32, start as u32, chunk as u32],
                    grid(eigenvalues as u32),
                );
            }
        }
        run(within, &[block as u32], grid(eigenvalues as u32));
    }
    let per_matrix = n.div_ceil(16);
    let parts = WIDE_LANES / 16;
    for range in runs(n - 1, |step| 2 * (step + 2).div_ceil(parts) + 12) {
        run(
            back,
            &[range[0], range[1], per_matrix as u32],
            grid((batch * per_matrix) as u32),
        );
    }
    Ok(())
}

// SVD and eigh below the lowering's limit run in one workgroup.
const _: () = assert!(ONE_WORKGROUP_SPECTRAL <= TWO_STAGE_MAX);
