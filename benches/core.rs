//! Throughput of the core kernels on the default device: elementwise add,
//! sum reductions and matmul over a grid of sizes (GB/s and GFLOP/s), and
//! of moving arrays between host and device (upload, readback).
//!
//! `cargo bench --bench core` (lavapipe on a machine without a GPU).
//! `KILN_UNIFIED_MEMORY=0 cargo bench --bench core -- transfer` measures
//! the staging path on an adapter that shares the host's memory.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kiln::{random, Array, Axes, DType};
use std::time::Duration;

/// Evaluates `f()` and waits for the GPU.
fn run(f: impl Fn() -> Array) {
    f().eval().expect("eval");
    kiln::synchronize().expect("sync");
}

fn elementwise(c: &mut Criterion) {
    let mut group = c.benchmark_group("add_f32");
    for n in [1usize << 16, 1 << 20, 1 << 24] {
        let a = random::uniform(&random::key(0), &[n], DType::F32, 0.0, 1.0).unwrap();
        let b = random::uniform(&random::key(1), &[n], DType::F32, 0.0, 1.0).unwrap();
        kiln::eval(&[&a, &b]).unwrap();
        group.throughput(Throughput::Bytes(3 * 4 * n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, _| {
            bench.iter(|| run(|| &a + &b))
        });
    }
    group.finish();
}

fn reductions(c: &mut Criterion) {
    let mut group = c.benchmark_group("sum_f32");
    for n in [1usize << 16, 1 << 20, 1 << 24] {
        let a = random::uniform(&random::key(2), &[n], DType::F32, 0.0, 1.0).unwrap();
        a.eval().unwrap();
        group.throughput(Throughput::Bytes(4 * n as u64));
        group.bench_with_input(BenchmarkId::new("all", n), &n, |bench, _| {
            bench.iter(|| run(|| kiln::sum(&a, Axes::All, false).unwrap()))
        });
        let rows = a.reshape(&[-1, 1024]).unwrap();
        group.bench_with_input(BenchmarkId::new("last_axis", n), &n, |bench, _| {
            bench.iter(|| run(|| kiln::sum(&rows, -1, false).unwrap()))
        });
    }
    group.finish();
}

fn matmul(c: &mut Criterion) {
    let mut group = c.benchmark_group("matmul_f32");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4));
    for n in [128usize, 256, 512, 1024] {
        let a = random::normal(&random::key(3), &[n, n], DType::F32).unwrap();
        let b = random::normal(&random::key(4), &[n, n], DType::F32).unwrap();
        kiln::eval(&[&a, &b]).unwrap();
        // Criterion's "elements" here are floating-point operations.
        group.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |bench, _| {
            bench.iter(|| run(|| kiln::matmul(&a, &b).unwrap()))
        });
    }
    group.finish();
}

/// Host to device (an array made from a slice, evaluated) and back (read
/// into a vector), through staging buffers or in place with unified memory.
fn transfer(c: &mut Criterion) {
    let unified = kiln::device_info().expect("device").unified_memory;
    let mut group = c.benchmark_group(if unified {
        "transfer_unified"
    } else {
        "transfer_staging"
    });
    for n in [1usize << 12, 1 << 18, 1 << 24] {
        let values: Vec<f32> = (0..n).map(|i| i as f32).collect();
        group.throughput(Throughput::Bytes(4 * n as u64));
        group.bench_with_input(BenchmarkId::new("upload", n), &n, |bench, _| {
            bench.iter(|| {
                let a = Array::from_slice(&values, &[n]).expect("array");
                a.eval().expect("eval");
                kiln::synchronize().expect("sync");
            })
        });
        let a = Array::from_slice(&values, &[n]).expect("array");
        a.eval().expect("eval");
        group.bench_with_input(BenchmarkId::new("readback", n), &n, |bench, _| {
            bench.iter(|| a.to_vec::<f32>().expect("read"))
        });
    }
    group.finish();
}

criterion_group!(benches, elementwise, reductions, matmul, transfer);
criterion_main!(benches);
