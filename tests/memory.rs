//! Memory accounting, on either backend. One test function, so that no
//! other test in this binary allocates while it measures.

use kiln::{Array, Axes, DType, Result};

#[test]
fn memory_is_accounted_and_reused() {
    evaluated_arrays_drop_their_graph_and_memory_is_reused();
    memory_stats_track_buffers_and_clear_cache_frees_them();
    intermediates_give_their_buffers_to_later_kernels();
    checkpointing_lowers_peak_memory();
    a_compiled_training_loop_stays_flat();
}

/// The peak of active memory while `f`'s results are evaluated, above
/// what was active before.
fn peak_of(f: impl FnOnce() -> Vec<Array>) -> (u64, Vec<Array>) {
    kiln::clear_cache();
    let before = kiln::memory_stats().active;
    kiln::reset_peak_memory();
    let outs = f();
    kiln::eval(&outs.iter().collect::<Vec<_>>()).unwrap();
    (kiln::memory_stats().peak - before, outs)
}

const MIB: u64 = 1 << 20;

fn intermediates_give_their_buffers_to_later_kernels() {
    let x = kiln::ones(&[1 << 18], DType::F32).unwrap(); // 1 MiB
    x.eval().unwrap();
    let (peak, y) = peak_of(|| {
        let mut y = x.clone();
        for _ in 0..30 {
            y = kiln::sin(&kiln::add(&y, &Array::scalar(0.5f32)).unwrap()).unwrap();
        }
        vec![y]
    });
    // 60 kernels, each output needed only by the next one.
    assert!(
        peak <= 4 * MIB,
        "a chain of 60 kernels peaked at {peak} bytes"
    );
    assert!(y[0].to_vec::<f32>().unwrap()[0].is_finite());
}

fn checkpointing_lowers_peak_memory() {
    let x = kiln::random::normal(&kiln::random::key(0), &[1 << 18], DType::F32).unwrap();
    x.eval().unwrap();
    fn block(a: &[Array]) -> Result<Array> {
        let mut y = a[0].clone();
        for _ in 0..6 {
            y = kiln::sin(&y)?;
        }
        Ok(y)
    }
    let loss = |x: &Array, remat: bool| -> Result<Array> {
        let saved = kiln::checkpoint(block);
        let mut y = x.clone();
        for _ in 0..4 {
            y = if remat { saved(&[y])? } else { block(&[y])? };
        }
        kiln::sum(&y, Axes::All, false)
    };
    let (plain, g_plain) = peak_of(|| vec![kiln::grad(|x: &Array| loss(x, false))(&x).unwrap()]);
    let (remat, g_remat) = peak_of(|| vec![kiln::grad(|x: &Array| loss(x, true))(&x).unwrap()]);
    // Plain: the 24 sines' inputs are all kept for the backward pass.
    // Checkpointed: 4 block inputs, and one block's recomputation at a time.
    assert!(
        remat * 10 < plain * 6,
        "checkpointing peaked at {remat} bytes, the plain gradient at {plain}"
    );
    let (a, b) = (
        g_plain[0].to_vec::<f32>().unwrap(),
        g_remat[0].to_vec::<f32>().unwrap(),
    );
    assert!(
        a.iter().zip(&b).all(|(p, q)| (p - q).abs() <= 1e-6),
        "gradients differ"
    );
}

fn evaluated_arrays_drop_their_graph_and_memory_is_reused() {
    let mut x = kiln::zeros(&[4096], DType::F32).unwrap();
    x.eval().unwrap();
    let start = kiln::memory_stats().active;
    for _ in 0..200 {
        x = (&x * 0.5 + 1.0).sqrt().unwrap();
        x.eval().unwrap();
    }
    // The loop keeps a bounded amount of memory alive, not 200 arrays' worth.
    let grown = kiln::memory_stats().active.saturating_sub(start);
    assert!(grown < 64 * 4096 * 4, "active memory grew by {grown} bytes");
    let v = x.to_vec::<f32>().unwrap();
    assert!((v[0] - 1.280776).abs() < 1e-5, "{}", v[0]);
}

fn memory_stats_track_buffers_and_clear_cache_frees_them() {
    let a = kiln::arange(0.0, 262144.0, 1.0, DType::F32).unwrap();
    a.eval().unwrap();
    let with = kiln::memory_stats();
    assert!(with.active >= 1 << 20 && with.peak >= with.active);
    drop(a);
    let without = kiln::memory_stats();
    if kiln::device_info().unwrap().backend == "cpu" {
        // The CPU backend frees a buffer with its last array (no pool).
        assert!(without.active + (1 << 20) <= with.active, "{without:?}");
        assert_eq!(without.peak, with.peak);
    } else {
        assert!(without.cached >= 1 << 20, "{without:?}");
    }
    kiln::clear_cache();
    assert_eq!(kiln::memory_stats().cached, 0);
}

/// Live and pooled memory, buffers and pipelines.
fn footprint() -> [u64; 4] {
    let m = kiln::memory_stats();
    [m.active, m.cached, m.buffers, m.pipelines]
}

fn a_compiled_training_loop_stays_flat() {
    use kiln::nn::{self, losses, Layer};
    use kiln::optimizers::{AdamW, Optimizer};
    let key = |k| kiln::random::key(k);
    let model = nn::Sequential::new()
        .push(nn::Linear::new(16, 32, true, &key(1)).unwrap())
        .push(nn::LayerNorm::new(32, 1e-5, true).unwrap())
        .push(nn::Activation::Gelu)
        .push(nn::Linear::new(32, 4, true, &key(2)).unwrap());
    let step = nn::compile_value_and_grad(&model, |inputs: &[Array]| {
        losses::mse_loss(&model.forward(&inputs[0])?, &inputs[1], Default::default())
    });
    let mut optimizer = Optimizer::new(AdamW::default(), 1e-3).with_max_grad_norm(1.0);
    let mut train = |steps: u64| {
        for i in 0..steps {
            let x = kiln::random::normal(&key(100 + i), &[8, 16], DType::F32).unwrap();
            let y = kiln::random::normal(&key(200 + i), &[8, 4], DType::F32).unwrap();
            let (loss, grads) = step(&[x, y]).unwrap();
            optimizer.step(&model, &grads).unwrap();
            assert!(loss.item::<f32>().unwrap().is_finite());
        }
    };
    // After a few steps (tracing, pipelines, the pool's first buffers),
    // many more leave the footprint as it was.
    train(5);
    let settled = footprint();
    train(60);
    assert_eq!(
        footprint(),
        settled,
        "live bytes, pooled bytes, buffers, pipelines after 5 and 65 steps"
    );
}
