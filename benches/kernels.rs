//! The kernel speed table: matmul (f32 square, skinny, batched, transposed;
//! f16), elementwise (unary, binary, broadcast), reductions (all, last
//! axis, first axis), softmax over rows, causal attention (fused, composed,
//! forward and backward), a compiled chain of 8 elementwise ops, and the
//! CPU cost per op. Every row is checked against a CPU
//! reference before it is timed.
//!
//! Each figure is the time per call of `reps` calls queued back to back
//! (build the graph, evaluate: encode and submit) and one wait for the GPU
//! at the end, the median of five such trials (the CPU rows time only the
//! building, encoding and submitting); PyTorch is timed the same
//! way by `benches/torch_kernels.py`.
//!
//! ```text
//! cargo bench --bench kernels                  # small sizes, any adapter
//! <bench binary> --full --torch benches/torch_kernels.py
//!                                              # the GPU table, with PyTorch
//! <bench binary> --full --profile              # and each row's kernels with
//!                                              # their GPU time
//! <bench binary> --full --only "sum all,softmax" # only rows whose names
//!                                              # contain one of these
//! ```

use kiln::{profile, random, Array, Axes, DType, Result};
use std::collections::HashMap;
use std::time::Instant;

/// What a row's work is measured in.
#[derive(Clone, Copy, PartialEq)]
enum Unit {
    /// Bytes read and written: GB/s.
    Bytes,
    /// Floating-point operations: GFLOP/s.
    Flops,
    /// Ops built and submitted: µs of CPU time per op.
    Ops,
}

struct Row {
    name: String,
    unit: Unit,
    work: f64,
    seconds: f64,
}

impl Row {
    /// The figure as printed: GB/s, TFLOP/s or µs per op.
    fn figure(&self, seconds: f64) -> f64 {
        match self.unit {
            Unit::Bytes => self.work / seconds / 1e9,
            Unit::Flops => self.work / seconds / 1e9,
            Unit::Ops => seconds / self.work * 1e6,
        }
    }

    fn unit_name(&self) -> &'static str {
        match self.unit {
            Unit::Bytes => "GB/s",
            Unit::Flops => "GFLOP/s",
            Unit::Ops => "µs/op",
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Seconds per call of `f`: calls queued back to back, one wait at the
/// end, counted unless `cpu_only` (then only building, encoding and
/// submitting are timed).
fn time_per_call(f: &mut dyn FnMut() -> Result<Vec<Array>>, cpu_only: bool) -> Result<f64> {
    let mut run = |reps: usize| -> Result<f64> {
        let start = Instant::now();
        for _ in 0..reps {
            let outs = f()?;
            kiln::eval(&outs.iter().collect::<Vec<_>>())?;
        }
        let submitted = start.elapsed();
        kiln::synchronize()?;
        let end = if cpu_only { submitted } else { start.elapsed() };
        Ok(end.as_secs_f64() / reps as f64)
    };
    run(1)?;
    let once = run(1)?;
    let reps = ((0.05 / once) as usize).clamp(3, 1000);
    Ok(median(
        (0..5).map(|_| run(reps)).collect::<Result<Vec<_>>>()?,
    ))
}

/// Keeps the GPU busy for two seconds, so that its clocks have left their
/// idle state before the first row is timed (rows picked with `--only`
/// otherwise ran at a fraction of their speed).
fn warm_up() -> Result<()> {
    let a = uniform(0, &[2048, 2048], DType::F32);
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < 2.0 {
        kiln::eval(&[&kiln::matmul(&a, &a)?])?;
        kiln::synchronize()?;
    }
    Ok(())
}

/// Fails unless every `got[i]` is within `tol[i]` of `want[i]`.
fn check(name: &str, got: &[f64], want: &[f64], tol: &[f64]) {
    assert_eq!(got.len(), want.len(), "{name}: result length");
    for i in 0..got.len() {
        let err = (got[i] - want[i]).abs();
        assert!(
            err <= tol[i],
            "{name}: element {i} is {} but the reference is {} (tolerance {})",
            got[i],
            want[i],
            tol[i]
        );
    }
}

fn uniform(seed: u64, shape: &[usize], dtype: DType) -> Array {
    let a = random::uniform(&random::key(seed), shape, DType::F32, -1.0, 1.0)
        .and_then(|a| a.astype(dtype))
        .unwrap();
    a.eval().unwrap();
    a
}

fn host(a: &Array) -> Vec<f64> {
    pollster::block_on(a.to_f64_vec_async()).unwrap()
}

struct Bench {
    rows: Vec<Row>,
    /// Whether to print the kernels of one call of each row with their
    /// GPU time (`--profile`).
    profile: bool,
    /// Time only the rows whose names contain one of these (`--only a,b`).
    only: Vec<String>,
}

impl Bench {
    fn time(
        &mut self,
        name: String,
        unit: Unit,
        work: f64,
        mut f: impl FnMut() -> Result<Vec<Array>>,
    ) {
        if !self.only.is_empty() && !self.only.iter().any(|o| name.contains(o.as_str())) {
            return;
        }
        let seconds =
            time_per_call(&mut f, unit == Unit::Ops).unwrap_or_else(|e| panic!("{name}: {e}"));
        let row = Row {
            name,
            unit,
            work,
            seconds,
        };
        eprintln!(
            "{:<40} {:>10.1} µs  {:>9.2} {}",
            row.name,
            seconds * 1e6,
            row.figure(seconds),
            row.unit_name()
        );
        if self.profile && unit != Unit::Ops {
            let mut profiled = || -> Result<profile::Profile> {
                profile::start()?;
                let outs = f()?;
                kiln::eval(&outs.iter().collect::<Vec<_>>())?;
                profile::stop()
            };
            let recorded = profiled().unwrap_or_else(|e| panic!("{}: {e}", row.name));
            for kernel in recorded.by_kernel() {
                eprintln!(
                    "    {:>3} x {:<60} {:>9.1} µs GPU",
                    kernel.count,
                    kernel.name,
                    kernel.gpu_ns / 1e3
                );
            }
        }
        self.rows.push(row);
    }

    /// `c = a @ b` for (batch, m, k) @ (batch, k, n), with `b` stored
    /// transposed when `b_transposed`; checks 64 entries of `c` in f64.
    fn matmul(&mut self, name: &str, shape: [usize; 4], dtype: DType, b_transposed: bool) {
        let [batch, m, n, k] = shape;
        let lead = |rest: [usize; 2]| -> Vec<usize> {
            let mut s = if batch > 1 { vec![batch] } else { vec![] };
            s.extend(rest);
            s
        };
        let a = uniform(1, &lead([m, k]), dtype);
        let b_stored = uniform(2, &lead(if b_transposed { [n, k] } else { [k, n] }), dtype);
        let b = if b_transposed {
            b_stored.mt().unwrap()
        } else {
            b_stored.clone()
        };
        let c = kiln::matmul(&a, &b).unwrap();
        let (ha, hb, hc) = (host(&a), host(&b_stored), host(&c));
        let (mut got, mut want, mut tol) = (vec![], vec![], vec![]);
        for s in 0..64usize {
            let (bi, i, j) = (s * 7 % batch, s * 131 % m, s * 977 % n);
            let (mut dot, mut scale) = (0.0, 0.0);
            for kk in 0..k {
                let x = ha[(bi * m + i) * k + kk];
                let y = if b_transposed {
                    hb[(bi * n + j) * k + kk]
                } else {
                    hb[(bi * k + kk) * n + j]
                };
                dot += x * y;
                scale += (x * y).abs();
            }
            got.push(hc[(bi * m + i) * n + j]);
            want.push(dot);
            let eps = if dtype == DType::F16 { 1e-3 } else { 1e-6 };
            tol.push(eps * (4.0 * scale + dot.abs()) + 1e-6);
        }
        check(name, &got, &want, &tol);
        let flops = 2.0 * (batch * m * n * k) as f64;
        self.time(name.into(), Unit::Flops, flops, || {
            Ok(vec![kiln::matmul(&a, &b)?])
        });
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--full");
    let torch = args
        .iter()
        .position(|a| a == "--torch")
        .and_then(|i| args.get(i + 1).cloned());
    let info = kiln::device_info().expect("a GPU adapter");
    eprintln!(
        "device: {} ({}, {}); float16 on tensor cores: {}",
        info.name, info.backend, info.driver, info.cooperative_matrix
    );
    let profile = args.iter().any(|a| a == "--profile");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(|list| list.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let mut bench = Bench {
        rows: vec![],
        profile,
        only,
    };
    if full {
        warm_up().expect("warm-up");
    }
    // (full size, small size)
    let pick = |big: usize, small: usize| if full { big } else { small };

    // Matmul: square, skinny, batched, a transposed operand, float16.
    for n in if full {
        vec![1024, 2048, 4096, 8192]
    } else {
        vec![128, 256, 512]
    } {
        bench.matmul(&format!("matmul f32 {n}"), [1, n, n, n], DType::F32, false);
    }
    let (wide, thin) = (pick(4096, 512), pick(256, 32));
    bench.matmul(
        &format!("matmul f32 {thin}x{wide}x{wide}"),
        [1, thin, wide, wide],
        DType::F32,
        false,
    );
    bench.matmul(
        &format!("matmul f32 {wide}x{wide}x{thin}"),
        [1, wide, wide, thin],
        DType::F32,
        false,
    );
    let (nb, side) = (pick(64, 8), pick(512, 128));
    bench.matmul(
        &format!("matmul f32 batched {nb}x{side}"),
        [nb, side, side, side],
        DType::F32,
        false,
    );
    let n = pick(4096, 256);
    bench.matmul(
        &format!("matmul f32 {n} a@b.T"),
        [1, n, n, n],
        DType::F32,
        true,
    );
    if info.shader_f16 {
        for n in if full { vec![4096, 8192] } else { vec![256] } {
            bench.matmul(&format!("matmul f16 {n}"), [1, n, n, n], DType::F16, false);
        }
    }

    // Elementwise.
    let big = pick(1 << 24, 1 << 20);
    let x = uniform(3, &[big], DType::F32);
    let y = uniform(4, &[big], DType::F32);
    let (hx, hy) = (host(&x), host(&y));
    let mega = big >> 20;
    let exp = kiln::exp(&x).unwrap();
    let want: Vec<f64> = hx.iter().map(|v| v.exp()).collect();
    let tol: Vec<f64> = want.iter().map(|v| 2e-6 * v.abs()).collect();
    check("exp", &host(&exp), &want, &tol);
    bench.time(
        format!("exp {mega}M"),
        Unit::Bytes,
        8.0 * big as f64,
        || Ok(vec![kiln::exp(&x)?]),
    );
    let sum = &x + &y;
    let want: Vec<f64> = hx.iter().zip(&hy).map(|(a, b)| a + b).collect();
    check("add", &host(&sum), &want, &vec![1e-6; big]);
    bench.time(
        format!("add {mega}M"),
        Unit::Bytes,
        12.0 * big as f64,
        || Ok(vec![kiln::add(&x, &y)?]),
    );
    let side = pick(4096, 1024);
    let matrix = x.reshape(&[side as i64, -1]).unwrap();
    let cols = matrix.dim(1).unwrap();
    let row = uniform(5, &[cols], DType::F32);
    let hrow = host(&row);
    let broadcast = kiln::add(&matrix, &row).unwrap();
    let want: Vec<f64> = hx
        .iter()
        .enumerate()
        .map(|(i, a)| a + hrow[i % cols])
        .collect();
    check("add row", &host(&broadcast), &want, &vec![1e-6; big]);
    bench.time(
        format!("add {side}x{cols} + row"),
        Unit::Bytes,
        8.0 * big as f64,
        || Ok(vec![kiln::add(&matrix, &row)?]),
    );
    let transposed = kiln::add(&matrix.t().unwrap(), &matrix.t().unwrap()).unwrap();
    let want: Vec<f64> = (0..big)
        .map(|i| 2.0 * hx[(i % side) * cols + i / side])
        .collect();
    check(
        "add transposed",
        &host(&transposed),
        &want,
        &vec![1e-6; big],
    );
    bench.time(
        format!("add transposed {side}x{cols}"),
        Unit::Bytes,
        8.0 * big as f64,
        || Ok(vec![kiln::add(&matrix.t()?, &matrix.t()?)?]),
    );

    // Reductions and softmax over rows of 1024.
    let rows = x.reshape(&[-1, 1024]).unwrap();
    let n_rows = big / 1024;
    let total = kiln::sum(&x, Axes::All, false).unwrap();
    let want = hx.iter().sum::<f64>();
    let scale = hx.iter().map(|v| v.abs()).sum::<f64>();
    check("sum", &host(&total), &[want], &[1e-6 * scale]);
    bench.time(
        format!("sum all {mega}M"),
        Unit::Bytes,
        4.0 * big as f64,
        || Ok(vec![kiln::sum(&x, Axes::All, false)?]),
    );
    let top = kiln::max(&x, Axes::All, false).unwrap();
    let want = hx.iter().cloned().fold(f64::MIN, f64::max);
    check("max", &host(&top), &[want], &[0.0]);
    bench.time(
        format!("max all {mega}M"),
        Unit::Bytes,
        4.0 * big as f64,
        || Ok(vec![kiln::max(&x, Axes::All, false)?]),
    );
    let last = kiln::sum(&rows, -1, false).unwrap();
    let want: Vec<f64> = hx.chunks(1024).map(|r| r.iter().sum()).collect();
    check("sum last axis", &host(&last), &want, &vec![1e-4; n_rows]);
    bench.time(
        format!("sum last axis {n_rows}x1024"),
        Unit::Bytes,
        4.0 * big as f64,
        || Ok(vec![kiln::sum(&rows, -1, false)?]),
    );
    let first = kiln::sum(&rows, 0, false).unwrap();
    let mut want = vec![0.0; 1024];
    for (i, v) in hx.iter().enumerate() {
        want[i % 1024] += v;
    }
    let tol = vec![1e-6 * n_rows as f64; 1024];
    check("sum first axis", &host(&first), &want, &tol);
    bench.time(
        format!("sum first axis {n_rows}x1024"),
        Unit::Bytes,
        4.0 * big as f64,
        || Ok(vec![kiln::sum(&rows, 0, false)?]),
    );
    let soft = kiln::softmax(&rows, Axes::from(-1)).unwrap();
    let mut want = Vec::with_capacity(big);
    for r in hx.chunks(1024) {
        let top = r.iter().cloned().fold(f64::MIN, f64::max);
        let z: f64 = r.iter().map(|v| (v - top).exp()).sum();
        want.extend(r.iter().map(|v| (v - top).exp() / z));
    }
    check("softmax", &host(&soft), &want, &vec![1e-7; big]);
    bench.time(
        format!("softmax rows {n_rows}x1024"),
        Unit::Bytes,
        8.0 * big as f64,
        || Ok(vec![kiln::softmax(&rows, Axes::from(-1))?]),
    );

    // Causal attention: the fused kernel, the same composed of matrix
    // products and a softmax, and the fused forward and backward.
    let (heads, len, dim) = (pick(128, 8), pick(1024, 128), 64);
    let shape = [heads, len, dim];
    let (q, k, v) = (
        uniform(6, &shape, DType::F32),
        uniform(7, &shape, DType::F32),
        uniform(8, &shape, DType::F32),
    );
    let attention = kiln::nn::scaled_dot_product_attention(&q, &k, &v, None, None, true).unwrap();
    let (hq, hk, hv, ha) = (host(&q), host(&k), host(&v), host(&attention));
    let (mut got, mut want) = (vec![], vec![]);
    for i in (0..len).step_by(len / 16) {
        // The first head's query i against the float64 softmax.
        let scores: Vec<f64> = (0..=i)
            .map(|j| {
                (0..dim)
                    .map(|c| hq[i * dim + c] * hk[j * dim + c])
                    .sum::<f64>()
                    / (dim as f64).sqrt()
            })
            .collect();
        let top = scores.iter().cloned().fold(f64::MIN, f64::max);
        let z: f64 = scores.iter().map(|s| (s - top).exp()).sum();
        for c in 0..dim {
            got.push(ha[i * dim + c]);
            want.push(
                scores
                    .iter()
                    .enumerate()
                    .map(|(j, s)| (s - top).exp() / z * hv[j * dim + c])
                    .sum(),
            );
        }
    }
    check("attention", &got, &want, &vec![1e-5; got.len()]);
    let name = format!("attention causal {heads}x{len}x{dim}");
    let flops = 2.0 * (heads * len * len * dim) as f64;
    bench.time(name.clone(), Unit::Flops, flops, || {
        Ok(vec![kiln::nn::scaled_dot_product_attention(
            &q, &k, &v, None, None, true,
        )?])
    });
    let visible = kiln::tri(len, None, 0, DType::Bool).unwrap();
    bench.time(format!("{name}, composed"), Unit::Flops, flops, || {
        let scores = kiln::matmul(
            &kiln::multiply(&q, &Array::scalar(1.0 / (dim as f32).sqrt()))?,
            &kiln::swapaxes(&k, -1, -2)?,
        )?;
        let masked = kiln::r#where(&visible, &scores, &Array::scalar(f32::NEG_INFINITY))?;
        Ok(vec![kiln::matmul(
            &kiln::softmax(&masked, Axes::from(-1))?,
            &v,
        )?])
    });
    let weights = uniform(9, &shape, DType::F32);
    let forward_backward = kiln::grad_n(
        |x: &[Array]| {
            let out =
                kiln::nn::scaled_dot_product_attention(&x[0], &x[1], &x[2], None, None, true)?;
            kiln::sum(&kiln::multiply(&out, &weights)?, Axes::All, false)
        },
        &[0, 1, 2],
    );
    let qkv = [q.clone(), k.clone(), v.clone()];
    bench.time(
        format!("{name}, forward and backward"),
        Unit::Flops,
        3.5 * flops,
        || forward_backward(&qkv),
    );

    // A chain of 8 elementwise ops (twice the tanh-GELU), eager and compiled.
    let chain = |v: &[Array]| -> Result<Vec<Array>> {
        let x = &v[0];
        let cube = kiln::multiply(&kiln::multiply(x, x)?, x)?;
        let inner = kiln::add(&kiln::multiply(&cube, &Array::scalar(0.044715f32))?, x)?;
        let t = kiln::tanh(&kiln::multiply(&inner, &Array::scalar(0.797_884_6_f32))?)?;
        Ok(vec![kiln::multiply(
            &kiln::add(&t, &Array::scalar(1.0f32))?,
            x,
        )?])
    };
    let compiled = kiln::compile(chain);
    let args = [x.clone()];
    let want: Vec<f64> = hx
        .iter()
        .map(|v| (1.0 + (0.7978846 * (v + 0.044715 * v * v * v)).tanh()) * v)
        .collect();
    let tol: Vec<f64> = want.iter().map(|v| 1e-5 * (1.0 + v.abs())).collect();
    check("chain", &host(&chain(&args).unwrap()[0]), &want, &tol);
    check(
        "chain compiled",
        &host(&compiled(&args).unwrap()[0]),
        &want,
        &tol,
    );
    bench.time(
        format!("chain of 8 ops {mega}M, eager"),
        Unit::Bytes,
        8.0 * big as f64,
        || chain(&args),
    );
    bench.time(
        format!("chain of 8 ops {mega}M, compiled"),
        Unit::Bytes,
        8.0 * big as f64,
        || compiled(&args),
    );

    // CPU cost per op on tiny arrays: 1000 adds in one evaluation, and 1000
    // adds each evaluated on its own.
    let ops = 1000;
    let tiny = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[4]).unwrap();
    let last = (0..ops).try_fold(tiny.clone(), |acc, _| kiln::add(&acc, &tiny));
    check(
        "tiny chain",
        &host(&last.unwrap()),
        &[1001.0, 2002.0, 3003.0, 4004.0],
        &[0.0; 4],
    );
    bench.time(
        "cpu per op, 1000 ops per eval".into(),
        Unit::Ops,
        ops as f64,
        || {
            Ok(vec![
                (0..ops).try_fold(tiny.clone(), |acc, _| kiln::add(&acc, &tiny))?
            ])
        },
    );
    bench.time(
        "cpu per op, eval after each".into(),
        Unit::Ops,
        ops as f64,
        || {
            let mut acc = tiny.clone();
            for _ in 0..ops {
                acc = kiln::add(&acc, &tiny)?;
                acc.eval()?;
            }
            Ok(vec![acc])
        },
    );

    print_table(
        &bench.rows,
        torch.map(|script| run_torch(&script, full, &bench.only)),
    );
}

/// Runs the PyTorch baseline script: one `name<TAB>seconds` line per row.
fn run_torch(script: &str, full: bool, only: &[String]) -> HashMap<String, f64> {
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(script);
    if full {
        cmd.arg("--full");
    }
    if !only.is_empty() {
        cmd.args(["--only", &only.join(",")]);
    }
    let out = cmd.output().expect("running python3");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (name, s) = l.split_once('\t')?;
            Some((name.to_string(), s.trim().parse().ok()?))
        })
        .collect()
}

fn print_table(rows: &[Row], torch: Option<HashMap<String, f64>>) {
    let info = kiln::device_info().unwrap();
    println!("\n{} ({}, {})\n", info.name, info.backend, info.driver);
    match &torch {
        None => {
            println!("| row | time | kiln |");
            println!("|---|---|---|");
        }
        Some(_) => {
            println!("| row | kiln | PyTorch | kiln / PyTorch speed |");
            println!("|---|---|---|---|");
        }
    }
    let fmt = |r: &Row, s: f64| format!("{:.1} {}", r.figure(s), r.unit_name());
    for r in rows {
        match &torch {
            None => println!(
                "| {} | {:.1} µs | {} |",
                r.name,
                r.seconds * 1e6,
                fmt(r, r.seconds)
            ),
            Some(t) => {
                let (theirs, ratio) = match t.get(&r.name) {
                    Some(&s) => (fmt(r, s), format!("{:.2}", s / r.seconds)),
                    None => ("—".into(), "—".into()),
                };
                println!(
                    "| {} | {} | {} | {} |",
                    r.name,
                    fmt(r, r.seconds),
                    theirs,
                    ratio
                );
            }
        }
    }
    if let Some(t) = &torch {
        for (name, s) in t {
            if !rows.iter().any(|r| &r.name == name) {
                println!("| {name} | — | {:.1} µs | — |", s * 1e6);
            }
        }
    }
}
