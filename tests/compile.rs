//! `compile` against eager evaluation: the same values on random graphs,
//! fewer kernels where elementwise chains fuse, and a bounded cache.

// `&[x.clone()]` reads better than `std::slice::from_ref(&x)` in calls.
#![allow(clippy::cloned_ref_to_slice_refs)]

mod common;

use kiln::{Array, Axes, DType, Result};
use std::cell::Cell;
use std::rc::Rc;

fn uniform(seed: u64, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    common::noise::uniform(seed, n, lo as f64, hi as f64)
        .into_iter()
        .map(|v| v as f32)
        .collect()
}

fn array(seed: u64, shape: &[usize]) -> Array {
    let n = shape.iter().product();
    Array::from_slice(&uniform(seed, n, -2.0, 2.0), shape).unwrap()
}

fn c(v: f32) -> Array {
    Array::scalar(v)
}

fn gelu(x: &Array) -> Result<Array> {
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

/// Dispatches that evaluating `outs` takes.
fn dispatches(outs: &[Array]) -> usize {
    let before = kiln::dispatch_count();
    kiln::eval(&outs.iter().collect::<Vec<_>>()).unwrap();
    kiln::dispatch_count() - before
}

fn values(a: &Array) -> Vec<f32> {
    a.astype(DType::F32).unwrap().to_vec::<f32>().unwrap()
}

fn assert_agree(what: &str, got: &Array, want: &Array) {
    assert_eq!(got.shape(), want.shape(), "{what}: shapes");
    assert_eq!(got.dtype(), want.dtype(), "{what}: dtypes");
    for (k, (g, w)) in values(got).iter().zip(values(want)).enumerate() {
        assert!(
            (g - w).abs() <= 1e-5 * w.abs() + 1e-6 || (g.is_nan() && w.is_nan()),
            "{what}: element {k}: compiled {g}, eager {w}"
        );
    }
}

#[test]
fn a_gelu_chain_becomes_one_kernel() {
    let x = array(1, &[64, 33]);
    let eager = gelu(&x).unwrap();
    let compiled = kiln::compile(|a: &[Array]| Ok(vec![gelu(&a[0])?]))(&[x.clone()]).unwrap();
    let eager_kernels = dispatches(&[eager.clone()]);
    let compiled_kernels = dispatches(&compiled);
    assert_eq!(eager_kernels, 9, "one kernel per elementwise op");
    assert_eq!(compiled_kernels, 1);
    assert_agree("gelu", &compiled[0], &eager);
}

/// Elementwise chains around a matmul and a reduction, with broadcasting,
/// a comparison, a select and a float16 round trip.
fn layer(a: &[Array]) -> Result<Vec<Array>> {
    let (x, w, b) = (&a[0], &a[1], &a[2]);
    // chain 1: 3 ops
    let h = kiln::sigmoid(&kiln::add(&kiln::multiply(x, &c(1.5))?, &c(0.1))?)?;
    let z = kiln::matmul(&h, w)?;
    // chain 2: add, tanh, greater, where, astype, astype = 6 ops
    let t = kiln::tanh(&kiln::add(&z, b)?)?;
    let positive = kiln::greater(&t, &c(0.0))?;
    let picked = kiln::r#where(&positive, &t, &kiln::multiply(&t, &c(0.01))?)?;
    let rounded = picked.astype(DType::F16)?.astype(DType::F32)?;
    // a reduction, then chain 3: exp, subtract, square = 3 ops
    let m = kiln::max(&rounded, Axes::from(-1), true)?;
    let out = kiln::square(&kiln::exp(&kiln::subtract(&rounded, &m)?)?)?;
    Ok(vec![out, m])
}

#[test]
fn chains_between_matmuls_and_reductions_fuse() {
    let args = [array(2, &[16, 8]), array(3, &[8, 12]), array(4, &[12])];
    let eager = layer(&args).unwrap();
    let compiled = kiln::compile(layer)(&args).unwrap();
    let eager_kernels = dispatches(&eager);
    let compiled_kernels = dispatches(&compiled);
    // The where's two branches: `t` has two other users, so it ends the
    // chain before it; each chain of k kernels becomes one.
    // Eager: 3 + matmul + (add, tanh) + (greater, multiply, where, 2 casts)
    //        + max + (subtract, exp, square).
    let reduction_and_matmul = eager_kernels - (3 + 2 + 5 + 3);
    assert_eq!(
        compiled_kernels,
        reduction_and_matmul + 4,
        "eager {eager_kernels} kernels, compiled {compiled_kernels}"
    );
    for (k, (g, w)) in compiled.iter().zip(&eager).enumerate() {
        assert_agree(&format!("output {k}"), g, w);
    }
}

/// A bias add that two chains read (a ReLU and the mask of its
/// derivative, as in a training step) is recomputed in both, so its own
/// kernel goes: matmul, (add, maximum), (add, greater, astype, multiply),
/// matmul.
fn two_readers(a: &[Array]) -> Result<Vec<Array>> {
    let z = kiln::add(&kiln::matmul(&a[0], &a[1])?, &a[2])?;
    let relu = kiln::maximum(&z, &c(0.0))?;
    let mask = kiln::multiply(&kiln::greater(&z, &c(0.0))?.astype(DType::F32)?, &c(2.0))?;
    Ok(vec![kiln::matmul(&relu, &a[3])?, mask])
}

#[test]
fn a_producer_read_by_two_chains_is_recomputed_in_each() {
    let args = [
        array(5, &[9, 7]),
        array(6, &[7, 11]),
        array(7, &[11]),
        array(8, &[11, 3]),
    ];
    let eager = two_readers(&args).unwrap();
    let compiled = kiln::compile(two_readers)(&args).unwrap();
    assert_eq!(dispatches(&eager), 7, "one kernel per op");
    assert_eq!(dispatches(&compiled), 4);
    for (k, (g, w)) in compiled.iter().zip(&eager).enumerate() {
        assert_agree(&format!("output {k}"), g, w);
    }
}

/// A random graph over a (6, 5) argument and a (5,) argument: elementwise
/// ops, broadcasting, reductions and matmuls in an order drawn from `seed`.
fn random_graph(seed: u64, a: &[Array]) -> Result<Vec<Array>> {
    let mut pool: Vec<Array> = vec![a[0].clone(), kiln::broadcast_to(&a[1], &[6, 5])?];
    let picks = uniform(seed, 64, 0.0, 1.0);
    let mut next = picks.into_iter();
    let mut pick = |n: usize| ((next.next().unwrap() * n as f32) as usize).min(n - 1);
    for _ in 0..14 {
        let x = pool[pick(pool.len())].clone();
        let y = pool[pick(pool.len())].clone();
        let out = match pick(11) {
            0 => kiln::sin(&x)?,
            1 => kiln::tanh(&kiln::add(&x, &y)?)?,
            2 => kiln::multiply(&x, &y)?,
            3 => kiln::subtract(&x, &kiln::multiply(&y, &c(0.5))?)?,
            4 => kiln::maximum(&x, &kiln::negative(&y)?)?,
            5 => kiln::divide(&x, &kiln::add(&kiln::square(&y)?, &c(1.0))?)?,
            6 => kiln::r#where(
                &kiln::less(&x, &y)?,
                &x,
                &kiln::exp(&kiln::negative(&kiln::abs(&y)?)?)?,
            )?,
            7 => kiln::subtract(&x, &kiln::mean(&y, Axes::from(0), true)?)?,
            8 => kiln::multiply(&kiln::max(&x, Axes::from(1), true)?, &kiln::cos(&y)?)?,
            9 => {
                let sq = kiln::matmul(&kiln::transpose(&x, &[1, 0])?, &y)?; // (5, 5)
                kiln::tanh(&kiln::matmul(&x, &kiln::multiply(&sq, &c(0.1))?)?)?
            }
            _ => kiln::sigmoid(&kiln::add(&x, &a[1])?)?,
        };
        pool.push(out);
    }
    let n = pool.len();
    Ok(vec![
        pool[n - 1].clone(),
        pool[n - 3].clone(),
        kiln::sum(&pool[n - 2], Axes::All, false)?,
    ])
}

#[test]
fn compiled_random_graphs_agree_with_eager() {
    let mut fewer = 0;
    for seed in 0..12 {
        let args = [array(10 + seed, &[6, 5]), array(50 + seed, &[5])];
        let eager = random_graph(seed, &args).unwrap();
        let f = move |a: &[Array]| random_graph(seed, a);
        let compiled = kiln::compile(f)(&args).unwrap();
        let (e, k) = (dispatches(&eager), dispatches(&compiled));
        assert!(k <= e, "seed {seed}: compiled {k} kernels, eager {e}");
        fewer += (k < e) as usize;
        for (i, (g, w)) in compiled.iter().zip(&eager).enumerate() {
            assert_agree(&format!("seed {seed}, output {i}"), g, w);
        }
    }
    assert!(
        fewer >= 10,
        "fusion saved kernels in only {fewer} of 12 graphs"
    );
}

#[test]
fn programs_are_cached_per_signature_and_the_cache_is_bounded() {
    let traces = Rc::new(Cell::new(0));
    let counter = traces.clone();
    let f = kiln::compile(move |a: &[Array]| {
        counter.set(counter.get() + 1);
        Ok(vec![kiln::exp(&kiln::sin(&a[0])?)?])
    });
    let x = array(7, &[4]);
    for _ in 0..3 {
        f(&[x.clone()]).unwrap();
    }
    assert_eq!(traces.get(), 1, "same signature: traced once");
    f(&[array(8, &[4])]).unwrap();
    assert_eq!(traces.get(), 1, "new values, same signature");
    f(&[array(8, &[5])]).unwrap();
    f(&[x.astype(DType::F16).unwrap()]).unwrap();
    assert_eq!(traces.get(), 3, "new shape, new dtype");
    for n in 0..kiln::transforms::CACHE_CAPACITY {
        f(&[array(9, &[10 + n])]).unwrap();
    }
    let before = traces.get();
    f(&[x.clone()]).unwrap();
    assert_eq!(traces.get(), before + 1, "the oldest signature was dropped");
}

#[test]
fn compile_composes_with_the_other_transforms() {
    let x = array(11, &[3, 4]);
    let fused = kiln::compile(|a: &[Array]| Ok(vec![gelu(&a[0])?]));
    let loss = |x: &Array| kiln::sum(&gelu(x)?, Axes::All, false);
    let compiled_loss = move |x: &Array| kiln::sum(&fused(&[x.clone()])?[0], Axes::All, false);
    // grad through a fused kernel, and a compiled gradient.
    let g_eager = kiln::grad(loss)(&x).unwrap();
    assert_agree(
        "grad of compiled",
        &kiln::grad(compiled_loss)(&x).unwrap(),
        &g_eager,
    );
    let compiled_grad = kiln::compile(move |a: &[Array]| Ok(vec![kiln::grad(loss)(&a[0])?]));
    assert_agree(
        "compiled grad",
        &compiled_grad(&[x.clone()]).unwrap()[0],
        &g_eager,
    );
    // vmap over a compiled function.
    let rows = kiln::compile(|a: &[Array]| Ok(vec![gelu(&a[0])?]));
    let mapped = kiln::vmap(move |r: &Array| Ok(rows(&[r.clone()])?.remove(0)))(&x).unwrap();
    assert_agree("vmap of compiled", &mapped, &gelu(&x).unwrap());
}

#[test]
fn reading_arguments_while_tracing_is_an_error() {
    let f = kiln::compile(|a: &[Array]| {
        let first = a[0].to_vec::<f32>()?[0];
        Ok(vec![kiln::multiply(&a[0], &c(first))?])
    });
    let err = f(&[array(1, &[3])]).unwrap_err().to_string();
    assert!(err.contains("cannot branch on"), "{err}");
}

#[test]
fn long_chains_split_into_several_kernels() {
    let chain = |a: &[Array]| {
        let mut x = a[0].clone();
        for _ in 0..200 {
            x = kiln::sin(&kiln::add(&x, &c(0.25))?)?;
        }
        Ok(vec![x])
    };
    let x = array(12, &[100]);
    let eager = chain(&[x.clone()]).unwrap();
    let compiled = kiln::compile(chain)(&[x]).unwrap();
    let kernels = dispatches(&compiled);
    assert!((2..=10).contains(&kernels), "400 ops in {kernels} kernels");
    assert_agree("a 400-op chain", &compiled[0], &eager[0]);
}

/// Three outputs of one shape that read each other (as an optimizer's new
/// moment, second moment and parameter do), and a fourth that a reduction
/// reads, so it stays a kernel of its own.
fn updates(a: &[Array]) -> Result<Vec<Array>> {
    let (p, g, m) = (&a[0], &a[1], &a[2]);
    let m_new = kiln::add(&kiln::multiply(m, &c(0.9))?, &kiln::multiply(g, &c(0.1))?)?;
    let v_new = kiln::multiply(&kiln::square(g)?, &c(0.5))?;
    let p_new = kiln::subtract(
        p,
        &kiln::divide(&m_new, &kiln::add(&kiln::sqrt(&v_new)?, &c(1e-3))?)?,
    )?;
    let other = kiln::exp(&kiln::negative(p)?)?;
    let total = kiln::sum(&other, Axes::All, false)?;
    Ok(vec![m_new, v_new, p_new, other, total])
}

#[test]
fn outputs_that_read_each_other_share_one_kernel() {
    let args: Vec<Array> = (0..3).map(|k| array(70 + k, &[5, 7])).collect();
    let compiled = kiln::compile(updates);
    let got = compiled(&args).unwrap();
    let want = updates(&args).unwrap();
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_agree(&format!("output {k}"), g, w);
    }
    // m, v and p in one kernel (three arrays read: every adapter binds
    // that many); exp(-p) and its sum (one or two passes).
    let count = dispatches(&compiled(&args).unwrap());
    assert!(count <= 4, "{count} dispatches");
    // Transforms see through the stacked kernel: a gradient and a vmap.
    let loss = |a: &[Array]| -> Result<Array> {
        let outs = compiled(a)?;
        kiln::sum(&kiln::multiply(&outs[2], &outs[0])?, Axes::All, false)
    };
    let eager_loss = |a: &[Array]| -> Result<Array> {
        let outs = updates(a)?;
        kiln::sum(&kiln::multiply(&outs[2], &outs[0])?, Axes::All, false)
    };
    let grads = kiln::grad_n(loss, &[0, 1, 2])(&args).unwrap();
    let want = kiln::grad_n(eager_loss, &[0, 1, 2])(&args).unwrap();
    for (k, (g, w)) in grads.iter().zip(&want).enumerate() {
        assert_agree(&format!("gradient {k}"), g, w);
    }
    let rows = |a: &Array| -> Result<Array> {
        let outs = compiled(&[a.clone(), args[1].clone(), args[2].clone()])?;
        Ok(outs[2].clone())
    };
    let stacked = kiln::stack(&[&args[0], &args[1]], 0).unwrap();
    let batched = kiln::vmap(rows)(&stacked).unwrap();
    for b in 0..2 {
        let one = kiln::index_axis(&batched, 0, b).unwrap();
        let want = updates(&[args[b as usize].clone(), args[1].clone(), args[2].clone()])
            .unwrap()
            .remove(2);
        assert_agree(&format!("vmap row {b}"), &one, &want);
    }
}

/// The updates of [`updates`] kept where a bool flag is false (as a
/// skipped mixed-precision step keeps them): the new moments are read by
/// the new parameter and by their own kept-or-new outputs, never returned.
fn guarded_updates(a: &[Array]) -> Result<Vec<Array>> {
    let (p, g, m, flag) = (&a[0], &a[1], &a[2], &a[3]);
    let new = updates(&a[..3])?;
    Ok(vec![
        kiln::r#where(flag, &new[0], m)?,
        kiln::r#where(flag, &new[2], p)?,
        kiln::r#where(flag, &new[1], g)?,
    ])
}

#[test]
fn steps_that_only_merged_outputs_read_join_their_kernel() {
    let mut args: Vec<Array> = (0..3).map(|k| array(80 + k, &[5, 7])).collect();
    for apply in [true, false] {
        args.truncate(3);
        args.push(Array::scalar(apply));
        let compiled = kiln::compile(guarded_updates);
        let got = compiled(&args).unwrap();
        let want = guarded_updates(&args).unwrap();
        for (k, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_agree(&format!("apply {apply}, output {k}"), g, w);
        }
        // The new moment and parameter and the three choices: one kernel.
        let count = dispatches(&compiled(&args).unwrap());
        assert_eq!(count, 1, "apply {apply}");
    }
}

#[test]
fn a_float16_round_trip_inside_a_fused_kernel_rounds() {
    if !kiln::device_info().unwrap().shader_f16 {
        return;
    }
    // Every magnitude float16 has (subnormals, normals, past its largest),
    // the exact midpoints between neighbours (ties go to the even one),
    // signed zeros, infinities and NaN.
    let mut host: Vec<f32> = (0..4000)
        .map(|i| {
            let magnitude = 2f32.powf(-26.0 + 43.0 * (i as f32 / 4000.0));
            let wobble = 1.0 + ((i as f32) * 0.618).fract() * 1e-3;
            if i % 2 == 0 {
                magnitude * wobble
            } else {
                -magnitude * wobble
            }
        })
        .collect();
    for bits in [
        0x3c00u16, 0x3c01, 0x0001, 0x0002, 0x03ff, 0x0400, 0x7bfe, 0x7bff,
    ] {
        let low = half::f16::from_bits(bits).to_f32();
        let high = half::f16::from_bits(bits + 1).to_f32();
        host.extend([(low + high) / 2.0, -(low + high) / 2.0]);
    }
    host.extend([
        0.0,
        -0.0,
        65504.0,
        65519.0,
        65520.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
    ]);
    let x = Array::from_slice(&host, &[host.len()]).unwrap();
    // The round trip between two ops, so that all three fuse.
    let f = |a: &[Array]| -> Result<Vec<Array>> {
        let doubled = kiln::multiply(&a[0], &c(2.0))?;
        let rounded = doubled.astype(DType::F16)?.astype(DType::F32)?;
        Ok(vec![kiln::multiply(&rounded, &c(0.5))?])
    };
    let compiled = kiln::compile(f)(&[x.clone()]).unwrap();
    assert_eq!(dispatches(&compiled), 1, "one fused kernel");
    let got = compiled[0].to_vec::<f32>().unwrap();
    for (k, (g, v)) in got.iter().zip(&host).enumerate() {
        let want = half::f16::from_f32(v * 2.0).to_f32() * 0.5;
        assert!(
            g.to_bits() == want.to_bits() || (g.is_nan() && want.is_nan()),
            "{k}: {v} rounded to {g}, float16 gives {want}"
        );
    }
}

#[test]
fn a_constant_written_into_a_kernel_may_also_be_read_from_memory() {
    // The scalar is written into the fused kernel of `x * s + 1`, and read
    // as an array by the broadcast the sum reads, which may move its data
    // to the device before the fused kernel is generated.
    let s = c(2.5);
    let f = move |a: &[Array]| -> Result<Vec<Array>> {
        let spread = kiln::sum(&kiln::broadcast_to(&s, a[0].shape())?, Axes::All, false)?;
        let chain = kiln::add(&kiln::multiply(&a[0], &s)?, &c(1.0))?;
        Ok(vec![spread, chain])
    };
    let x = array(90, &[4]);
    let got = kiln::compile(f.clone())(&[x.clone()]).unwrap();
    let want = f(&[x]).unwrap();
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_agree(&format!("output {k}"), g, w);
    }
}
