//! Linear algebra timings: each op on one n x n matrix (n = 16, 32, 48, 64,
//! 128, 256, 1024, and 4096 with `--large`) and on stacks of small ones, on
//! the default GPU, with the dispatches one call queues, and the same ops
//! through faer on this CPU. `--profile` prints, per
//! op and shape, one call's GPU time per kernel (see `kiln::profile`);
//! `--trace DIR` also writes its Chrome trace to `DIR/<op>_<shape>.json`.
//!
//!     cargo bench --bench linalg -- [--large] [--ops inv,svd]
//!         [--sizes 64,256] [--profile] [--trace DIR]
//!
//! Times are medians of several runs after a warm-up, each run ending in a
//! device sync; `benches/torch_linalg.py` times torch.linalg the same way.

use kiln::linalg::{self, QrMode};
use kiln::{random, Array, DType};
use std::time::Instant;

const OPS: [&str; 8] = [
    "lu_factor",
    "solve",
    "inv",
    "det",
    "cholesky",
    "qr",
    "eigh",
    "svd",
];

/// The median seconds of `f` (warm-up excluded); fewer runs for slow ones.
fn median(mut f: impl FnMut()) -> f64 {
    let t = Instant::now();
    f();
    let first = t.elapsed().as_secs_f64();
    let runs = if first > 1.0 {
        1
    } else {
        (0.5 / first).clamp(3.0, 20.0) as usize
    };
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// A well-conditioned input for `op`: symmetric positive definite for
/// cholesky and eigh, else normal entries plus n on the diagonal.
fn input(op: &str, batch: &[usize], n: usize, seed: u64) -> Array {
    let shape = [batch, &[n, n]].concat();
    let x = random::normal(&random::key(seed), &shape, DType::F32).unwrap();
    let eye = kiln::multiply(
        &kiln::eye(n, None, 0, DType::F32).unwrap(),
        &Array::scalar(n as f32),
    )
    .unwrap();
    let a = if op == "cholesky" || op == "eigh" {
        let t = kiln::swapaxes(&x, -1, -2).unwrap();
        kiln::add(&kiln::matmul(&x, &t).unwrap(), &eye).unwrap()
    } else {
        kiln::add(&x, &eye).unwrap()
    };
    a.eval().unwrap();
    a
}

fn kiln_op(op: &str, a: &Array, b: &Array) -> Vec<Array> {
    match op {
        "lu_factor" => {
            let (lu, piv) = linalg::lu_factor(a).unwrap();
            vec![lu, piv]
        }
        "solve" => vec![linalg::solve(a, b).unwrap()],
        "inv" => vec![linalg::inv(a).unwrap()],
        "det" => vec![linalg::det(a).unwrap()],
        "cholesky" => vec![linalg::cholesky(a, false).unwrap()],
        "qr" => {
            let (q, r) = linalg::qr(a, QrMode::Reduced).unwrap();
            vec![q, r]
        }
        "eigh" => {
            let (w, v) = linalg::eigh(a).unwrap();
            vec![w, v]
        }
        "svd" => {
            let (u, s, vh) = linalg::svd(a, false).unwrap();
            vec![u, s, vh]
        }
        other => panic!("unknown op {other}"),
    }
}

/// What one call of `op` costs on the GPU.
struct KilnTime {
    seconds: f64,
    dispatches: usize,
    profile: Option<kiln::profile::Profile>,
}

fn time_kiln(op: &str, batch: &[usize], n: usize, profiled: bool) -> KilnTime {
    let a = input(op, batch, n, 1);
    let b = random::normal(&random::key(2), &[batch, &[n, 1]].concat(), DType::F32).unwrap();
    b.eval().unwrap();
    let call = || {
        let outs = kiln_op(op, &a, &b);
        kiln::eval(&outs.iter().collect::<Vec<_>>()).unwrap();
        kiln::synchronize().unwrap();
    };
    let seconds = median(call);
    // One more call, counted (and profiled when asked).
    let before = kiln::dispatch_count();
    if profiled {
        kiln::profile::start().unwrap();
    }
    call();
    let profile = profiled.then(|| kiln::profile::stop().unwrap());
    KilnTime {
        seconds,
        dispatches: kiln::dispatch_count() - before,
        profile,
    }
}

mod cpu {
    use faer::linalg::solvers::DenseSolveCore;
    use faer::prelude::*;
    use faer::{Mat, Side};

    pub fn matrix(op: &str, n: usize, seed: u64) -> Mat<f32> {
        let values = super::common_uniform(seed, n * n);
        let x = Mat::<f32>::from_fn(n, n, |i, j| values[i * n + j]);
        if op == "cholesky" || op == "eigh" {
            &x * x.transpose() + Mat::<f32>::identity(n, n) * Scale(n as f32)
        } else {
            x + Mat::<f32>::identity(n, n) * Scale(n as f32)
        }
    }

    /// Runs `op` once on `a` and returns something derived from the result.
    pub fn run(op: &str, a: &Mat<f32>, b: &Mat<f32>) -> f32 {
        match op {
            "lu_factor" => a.partial_piv_lu().U()[(0, 0)],
            "solve" => a.partial_piv_lu().solve(b)[(0, 0)],
            "inv" => a.partial_piv_lu().inverse()[(0, 0)],
            "det" => a.determinant(),
            "cholesky" => a.llt(Side::Lower).unwrap().L()[(0, 0)],
            "qr" => a.qr().compute_thin_Q()[(0, 0)],
            "eigh" => a.self_adjoint_eigen(Side::Lower).unwrap().S()[0],
            "svd" => a.thin_svd().unwrap().S()[0],
            other => panic!("unknown op {other}"),
        }
    }
}

#[path = "../tests/common/noise.rs"]
mod noise;

/// Deterministic values in [-1, 1) for the CPU inputs.
fn common_uniform(seed: u64, n: usize) -> Vec<f32> {
    noise::uniform(seed, n, -1.0, 1.0)
        .into_iter()
        .map(|v| v as f32)
        .collect()
}

fn time_cpu(op: &str, count: usize, n: usize) -> Option<f64> {
    let mats: Vec<_> = (0..count.min(64))
        .map(|k| cpu::matrix(op, n, k as u64 + 1))
        .collect();
    let b = faer::Mat::<f32>::from_fn(n, 1, |i, _| i as f32);
    let per = median(|| {
        let mut acc = 0.0;
        for a in &mats {
            acc += cpu::run(op, a, &b);
        }
        std::hint::black_box(acc);
    }) / mats.len() as f64;
    Some(per * count as f64)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let large = args.iter().any(|a| a == "--large");
    let ops: Vec<String> = args
        .iter()
        .position(|a| a == "--ops")
        .map(|i| args[i + 1].split(',').map(String::from).collect())
        .unwrap_or_else(|| OPS.iter().map(|s| s.to_string()).collect());
    let trace_dir = args
        .iter()
        .position(|a| a == "--trace")
        .map(|i| args[i + 1].clone());
    let profiled = trace_dir.is_some() || args.iter().any(|a| a == "--profile");
    let sizes: Vec<usize> = args
        .iter()
        .position(|a| a == "--sizes")
        .map(|i| args[i + 1].split(',').map(|s| s.parse().unwrap()).collect())
        .unwrap_or_else(|| {
            let mut sizes = vec![16, 32, 48, 64, 128, 256, 1024];
            if large {
                sizes.push(4096);
            }
            sizes
        });
    let info = kiln::device_info().unwrap();
    println!("device: {} ({})", info.name, info.backend);
    let mut shapes: Vec<(Vec<usize>, usize)> = sizes.iter().map(|&n| (vec![], n)).collect();
    shapes.extend([(vec![10000], 4), (vec![512], 32)]);
    println!(
        "{:<10} {:>14} {:>12} {:>11} {:>12} {:>8}",
        "op", "shape", "kiln ms", "dispatches", "faer ms", "ratio"
    );
    for op in &ops {
        for (batch, n) in &shapes {
            let count: usize = batch.iter().product();
            let kiln = time_kiln(op, batch, *n, profiled);
            let label = if batch.is_empty() {
                format!("{n}x{n}")
            } else {
                format!("{count}x{n}x{n}")
            };
            let row = format!(
                "{op:<10} {label:>14} {:>12.3} {:>11}",
                kiln.seconds * 1e3,
                kiln.dispatches
            );
            match time_cpu(op, count, *n) {
                Some(cpu) => println!("{row} {:>12.3} {:>8.2}", cpu * 1e3, cpu / kiln.seconds),
                None => println!("{row}"),
            }
            if let Some(profile) = kiln.profile {
                println!("{profile}\n");
                if let Some(dir) = &trace_dir {
                    let path = format!("{dir}/{op}_{label}.json");
                    std::fs::write(&path, profile.chrome_trace()).expect("writing a trace");
                }
            }
        }
    }
}
