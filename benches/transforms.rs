//! Cost of the function transforms on the default device:
//! - `mlp`: an MLP loss alone, and its value and gradient (forward + backward);
//! - `jacobian`: a 64×64 Jacobian by one batched pass (jacrev, jacfwd)
//!   against a loop of 64 vector-Jacobian products;
//! - `gelu`: a tanh-GELU chain eager (one kernel per op) and compiled (one
//!   fused kernel).
//!
//! Each iteration builds the graph, evaluates it and waits for the GPU.
//! `cargo bench --bench transforms`; `benches/torch_transforms.py` runs the
//! same on PyTorch.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kiln::{random, Array, Axes, DType, Result};
use std::time::Duration;

fn run(outs: Vec<Array>) {
    kiln::eval(&outs.iter().collect::<Vec<_>>()).expect("eval");
    kiln::synchronize().expect("sync");
}

fn normal(seed: u64, shape: &[usize], scale: f32) -> Array {
    let a = random::normal(&random::key(seed), shape, DType::F32).unwrap();
    let a = kiln::multiply(&a, &Array::scalar(scale)).unwrap();
    a.eval().unwrap();
    a
}

/// Mean softmax cross-entropy of a 2-layer tanh MLP; `p = [w1, b1, w2, b2]`.
fn mlp_loss(p: &[Array], x: &Array, labels: &Array) -> Result<Array> {
    let h = kiln::tanh(&kiln::add(&kiln::matmul(x, &p[0])?, &p[1])?)?;
    let logits = kiln::add(&kiln::matmul(&h, &p[2])?, &p[3])?;
    let logp = kiln::log_softmax(&logits, Axes::from(-1))?;
    let picked = kiln::take_along_axis(&logp, labels, -1)?;
    kiln::negative(&kiln::mean(&picked, Axes::All, false)?)
}

fn mlp(c: &mut Criterion) {
    let mut group = c.benchmark_group("mlp");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
    let (batch, d_in, hidden, classes) = (256, 512, 512, 10);
    let params = vec![
        normal(1, &[d_in, hidden], 0.05),
        normal(2, &[hidden], 0.01),
        normal(3, &[hidden, classes], 0.05),
        normal(4, &[classes], 0.01),
    ];
    let x = normal(5, &[batch, d_in], 1.0);
    let labels = random::randint(&random::key(6), &[batch, 1], 0, classes as i32).unwrap();
    labels.eval().unwrap();
    let size = format!("{batch}x{d_in}x{hidden}x{classes}");
    group.bench_function(BenchmarkId::new("loss", &size), |b| {
        b.iter(|| run(vec![mlp_loss(&params, &x, &labels).unwrap()]))
    });
    let value_and_grad =
        kiln::value_and_grad_n(|p: &[Array]| mlp_loss(p, &x, &labels), &[0, 1, 2, 3]);
    group.bench_function(BenchmarkId::new("value_and_grad", &size), |b| {
        b.iter(|| {
            let (loss, mut grads) = value_and_grad(&params).unwrap();
            grads.push(loss);
            run(grads)
        })
    });
    group.finish();
}

fn jacobian(c: &mut Criterion) {
    let mut group = c.benchmark_group("jacobian");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
    let n = 64;
    let w = normal(7, &[n, n], 0.2);
    let b = normal(8, &[n], 0.1);
    let x = normal(9, &[n], 1.0);
    let f = |x: &Array| {
        let y = kiln::tanh(&kiln::add(&kiln::matmul(&w, x)?, &b)?)?;
        kiln::multiply(&y, &kiln::sin(x)?)
    };
    group.bench_function(BenchmarkId::new("jacrev", n), |bench| {
        bench.iter(|| run(vec![kiln::jacobian(f)(&x).unwrap()]))
    });
    group.bench_function(BenchmarkId::new("jacfwd", n), |bench| {
        bench.iter(|| run(vec![kiln::jacfwd(f)(&x).unwrap()]))
    });
    let eye = kiln::eye(n, None, 0, DType::F32).unwrap();
    group.bench_function(BenchmarkId::new("loop_of_vjps", n), |bench| {
        bench.iter(|| {
            let rows: Vec<Array> = (0..n)
                .map(|i| {
                    let ct = kiln::index_axis(&eye, 0, i as i64).unwrap();
                    let (_, g) =
                        kiln::vjp(|xs| Ok(vec![f(&xs[0])?]), std::slice::from_ref(&x), &[ct])
                            .unwrap();
                    g.into_iter().next().unwrap()
                })
                .collect();
            run(vec![
                kiln::stack(&rows.iter().collect::<Vec<_>>(), 0).unwrap()
            ])
        })
    });
    group.finish();
}

fn gelu(x: &Array) -> Result<Array> {
    let c = |v: f32| Array::scalar(v);
    let cube = kiln::multiply(&kiln::multiply(x, x)?, x)?;
    let inner = kiln::multiply(
        &kiln::add(x, &kiln::multiply(&cube, &c(0.044715))?)?,
        &c(0.797_884_6),
    )?;
    kiln::multiply(
        &kiln::multiply(x, &c(0.5))?,
        &kiln::add(&c(1.0), &kiln::tanh(&inner)?)?,
    )
}

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("gelu");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
    let compiled = kiln::compile(|a: &[Array]| Ok(vec![gelu(&a[0])?]));
    for n in [1usize << 16, 1 << 20, 1 << 24] {
        let x = normal(10, &[n], 1.0);
        // One read and one write of the array (what a fused kernel moves).
        group.throughput(Throughput::Bytes(8 * n as u64));
        group.bench_with_input(BenchmarkId::new("eager", n), &n, |b, _| {
            b.iter(|| run(vec![gelu(&x).unwrap()]))
        });
        group.bench_with_input(BenchmarkId::new("compiled", n), &n, |b, _| {
            b.iter(|| run(compiled(std::slice::from_ref(&x)).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, mlp, jacobian, compile);
criterion_main!(benches);
