//! A tour of kiln: arrays, ops, lazy evaluation and the device.
//!
//! Run with `cargo run --release --example tour`.

use kiln::{random, Array, Axes, DType, Slice};

fn main() -> kiln::Result<()> {
    let info = kiln::device_info()?;
    println!(
        "device: {} ({}, {})",
        info.name, info.backend, info.device_type
    );
    println!(
        "  float16: {}, largest binding: {} MiB",
        info.shader_f16,
        info.max_storage_binding_bytes >> 20
    );

    // Arrays from host data; ops build a graph and compute nothing yet.
    let a = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
    let b = kiln::arange(0.0, 3.0, 1.0, DType::F32)?;
    let c = (&a * 2.0 + &b).exp()?; // broadcasting (2, 3) with (3,)
    println!("\na =\n{a}\nb = {b}");
    println!("dispatches so far: {}", kiln::dispatch_count());
    c.eval()?; // one submission for the whole graph
    println!("exp(2a + b) =\n{c}");
    println!("dispatches after eval: {}", kiln::dispatch_count());

    // Reductions, shapes as views, sorting, matmul.
    println!("\nsum over rows: {}", kiln::sum(&a, 1, false)?);
    println!("mean of all: {}", a.mean(Axes::All, false)?);
    println!("transpose (a view): {}", a.t()?);
    println!(
        "every other column reversed: {}",
        a.slice(&[Slice::all(), Slice::step(-2)])?
    );
    println!("a @ a.T = {}", kiln::matmul(&a, &a.t()?)?);
    println!("softmax rows = {}", kiln::softmax(&a, -1)?);
    let x = Array::from_slice(&[3.0f32, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0], &[8])?;
    let (top, idx) = kiln::topk(&x, 3, 0)?;
    println!("sort = {}\ntop 3 = {top} at {idx}", kiln::sort(&x, None)?);

    // Random numbers with explicit keys (the same bits as jax.random).
    let key = random::key(42);
    let keys = random::split(&key, 2)?;
    let noise = random::normal(&kiln::index_axis(&keys, 0, 0)?, &[2, 4], DType::F32)?;
    println!("\nnormal samples = {noise}");
    println!(
        "permutation of 8 = {}",
        random::permutation(&kiln::index_axis(&keys, 0, 1)?, 8)?
    );

    // Larger work, evaluated lazily in one go.
    let m = random::uniform(&key, &[256, 256], DType::F32, -1.0, 1.0)?;
    let product = kiln::matmul(&m, &m)?;
    let norm = kiln::sqrt(&kiln::sum(&kiln::square(&product)?, Axes::All, false)?)?;
    println!(
        "\n||M M||_F for a 256x256 uniform M = {}",
        norm.item::<f32>()?
    );

    // Function transforms: derivatives of any order, batching, compilation.
    let f = |x: &Array| kiln::sum(&kiln::tanh(x)?, Axes::All, false);
    let x = Array::from_slice(&[-1.0f32, 0.0, 0.5, 2.0], &[4])?;
    println!("\nf(x) = sum(tanh(x)) at x = {x}");
    println!("grad f = {}", kiln::grad(f)(&x)?);
    println!("hessian f =\n{}", kiln::hessian(f)(&x)?);
    let softmax = |v: &Array| kiln::softmax(v, 0);
    println!(
        "jacobian of softmax at x =\n{}",
        kiln::jacobian(softmax)(&x)?
    );
    let rows = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[3, 2])?;
    let row_norms =
        kiln::vmap(|r: &Array| kiln::sqrt(&kiln::sum(&kiln::square(r)?, Axes::All, false)?));
    println!("vmap(norm) over rows = {}", row_norms(&rows)?);
    let gelu = |v: &Array| -> kiln::Result<Array> {
        let inner = (&(v + &(&(v * v) * v * 0.044715)) * 0.797_884_6).tanh()?;
        Ok(&(v * 0.5) * &(inner + 1.0))
    };
    let big = random::normal(&key, &[1 << 16], DType::F32)?;
    big.eval()?;
    let before = kiln::dispatch_count();
    gelu(&big)?.eval()?;
    let eager = kiln::dispatch_count() - before;
    let compiled = kiln::compile(move |a: &[Array]| Ok(vec![gelu(&a[0])?]));
    let before = kiln::dispatch_count();
    compiled(&[big])?[0].eval()?;
    println!(
        "GELU: {eager} kernels eager, {} compiled",
        kiln::dispatch_count() - before
    );

    // Linear algebra on the GPU: a stack of systems, a factorization, and
    // a derivative through one.
    let m = Array::from_slice(&[4.0f32, 1.0, 0.5, 1.0, 3.0, 0.25, 0.5, 0.25, 2.0], &[3, 3])?;
    let rhs = Array::from_slice(&[1.0f32, 2.0, 3.0], &[3])?;
    println!("\nsolve(m, rhs) = {}", kiln::linalg::solve(&m, &rhs)?);
    let (w, v) = kiln::linalg::eigh(&m)?;
    println!("eigenvalues = {w}\neigenvectors =\n{v}");
    println!("singular values = {}", kiln::linalg::svdvals(&m)?);
    let log_det = |a: &Array| -> kiln::Result<Array> { Ok(kiln::linalg::slogdet(a)?.1) };
    println!("grad log|det m| = inv(m)ᵀ =\n{}", kiln::grad(log_det)(&m)?);

    let stats = kiln::memory_stats();
    println!(
        "GPU memory: active {} KiB, peak {} KiB, cached {} KiB",
        stats.active >> 10,
        stats.peak >> 10,
        stats.cached >> 10
    );
    Ok(())
}
