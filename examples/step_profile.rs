//! Where one training step of the character transformer goes: its
//! dispatches and GPU time (where the adapter has timestamps) by op and by
//! kernel, from `kiln::profile`, then the wall time per step over four runs
//! of 50 steps: eagerly, with the gradient compiled and the clipping
//! inside the optimizer's update, and the same in mixed precision (float16
//! compute, where the adapter has it; a fixed loss scale, then a dynamic
//! one) (the same model, batch and optimizer as
//! `examples/char_transformer.rs`, on random tokens: a step's cost does not
//! depend on the values).
//!
//! Run with `cargo run --release --example step_profile [steps per run] [runs]`.

mod char_model;

use char_model::{CharModel, Shape};
use kiln::nn::LossScaler;
use kiln::optimizers::{self, AdamW, Optimizer};
use kiln::{nn, profile, random, Array, Result};
use std::collections::BTreeMap;
use std::time::Instant;

const SHAPE: Shape = Shape {
    vocab: 80,
    dims: 128,
    heads: 4,
    layers: 3,
    context: 64,
};
const BATCH: usize = 32;

/// Count and GPU milliseconds of the runs grouped by `name`, most first.
fn table(
    runs: &[profile::KernelRun],
    name: impl Fn(&profile::KernelRun) -> String,
) -> Vec<(String, usize, f64)> {
    let mut by: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    for run in runs {
        let entry = by.entry(name(run)).or_default();
        entry.0 += 1;
        entry.1 += run.gpu_ns.unwrap_or(0.0) / 1e6;
    }
    let mut rows: Vec<_> = by.into_iter().map(|(k, (c, ms))| (k, c, ms)).collect();
    rows.sort_by(|a, b| b.2.total_cmp(&a.2).then(b.1.cmp(&a.1)));
    rows
}

/// The profile of one step and the wall time per step over `runs` runs of
/// `steps` steps; with a `scaler`, each step applies its gradients only
/// where they are finite (decided on the GPU).
fn measure(
    model: &CharModel,
    value_and_grad: &dyn Fn(&Array) -> Result<(Array, kiln::nn::Params)>,
    clip_inside: bool,
    scaler: Option<&LossScaler>,
    steps: usize,
    runs: usize,
) -> Result<()> {
    let mut optimizer = Optimizer::new(AdamW::default(), 1e-3);
    if clip_inside {
        optimizer.max_grad_norm = Some(1.0);
    }
    let mut count = 0u64;
    let mut step = |optimizer: &mut Optimizer<AdamW>| -> Result<Array> {
        count += 1;
        let batch = random::randint(
            &random::key(count),
            &[BATCH, SHAPE.context + 1],
            0,
            SHAPE.vocab as i32,
        )?;
        let (loss, grads) = value_and_grad(&batch)?;
        if let Some(scaler) = scaler {
            optimizer.step_if(model, &grads, &scaler.update(&grads)?)?;
        } else if clip_inside {
            optimizer.step(model, &grads)?;
        } else {
            let (grads, _) = optimizers::clip_grad_norm(&grads, 1.0)?;
            optimizer.step(model, &grads)?;
        }
        Ok(loss)
    };
    // Warm up: pipelines compiled, programs traced, buffers pooled.
    for _ in 0..3 {
        step(&mut optimizer)?.item::<f32>()?;
    }
    profile::start()?;
    step(&mut optimizer)?.item::<f32>()?;
    let recorded = profile::stop()?;
    println!(
        "one step: {} dispatches, GPU busy {:.3} ms{}",
        recorded.runs.len(),
        recorded.gpu_ns() / 1e6,
        if recorded.timed() {
            ""
        } else {
            " (no timestamps on this adapter)"
        }
    );
    // From the first kernel's start to the last one's end: against the
    // busy time, how long the GPU waited between kernels.
    let ends = recorded
        .runs
        .iter()
        .filter_map(|r| Some((r.start_ns?, r.start_ns? + r.gpu_ns?)));
    let (first, last) = ends.fold((f64::INFINITY, 0.0f64), |(a, b), (s, e)| {
        (a.min(s), b.max(e))
    });
    if last > first {
        println!(
            "GPU span {:.3} ms (first start to last end)",
            (last - first) / 1e6
        );
    }
    println!("\nby op:");
    for (op, count, ms) in table(&recorded.runs, |r| r.op.to_string()) {
        println!("{count:6} {ms:10.3} ms  {op}");
    }
    println!("\nby kernel (the 25 longest):");
    for (kernel, count, ms) in table(&recorded.runs, |r| r.kernel.to_string())
        .into_iter()
        .take(25)
    {
        println!("{count:6} {ms:10.3} ms  {kernel}");
    }
    println!();
    for run in 0..runs {
        let start = Instant::now();
        for _ in 0..steps {
            step(&mut optimizer)?;
        }
        kiln::synchronize()?;
        let ms = start.elapsed().as_secs_f64() * 1e3 / steps as f64;
        println!(
            "steps {:4}-{:4}: {ms:.2} ms/step",
            steps * run + 1,
            steps * run + steps
        );
    }
    if let Some(scaler) = scaler {
        println!(
            "loss scale {}, {} steps skipped",
            scaler.scale()?,
            scaler.skipped_steps()?
        );
    }
    Ok(())
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let steps: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(4);
    let info = kiln::device_info()?;
    println!("device: {} ({})", info.name, info.backend);
    let model = CharModel::new(SHAPE, 0)?;
    println!("\n## eager: nn::value_and_grad and clip_grad_norm each step\n");
    measure(
        &model,
        &|batch| nn::value_and_grad(&model, || model.loss(batch)),
        false,
        None,
        steps,
        runs,
    )?;
    println!("\n## compiled: nn::compile_value_and_grad, clipping inside the optimizer\n");
    let compiled = nn::compile_value_and_grad(&model, |inputs: &[Array]| model.loss(&inputs[0]));
    measure(
        &model,
        &|batch| compiled(std::slice::from_ref(batch)),
        true,
        None,
        steps,
        runs,
    )?;
    if !info.shader_f16 {
        return Ok(());
    }
    // Float16 compute, float32 weights and optimizer state: with a fixed
    // loss scale, then with the dynamic one.
    let fixed = nn::MixedPrecision {
        compute: kiln::DType::F16,
        loss_scale: nn::LossScale::Fixed(1024.0),
    };
    for precision in [fixed, nn::MixedPrecision::default()] {
        println!("\n## mixed precision, {:?}\n", precision.loss_scale);
        let scaler = precision.scaler().cloned();
        let mixed = nn::compile_value_and_grad_mixed(&model, precision, |inputs: &[Array]| {
            model.loss(&inputs[0])
        });
        measure(
            &model,
            &|batch| mixed(std::slice::from_ref(batch)),
            true,
            scaler.as_ref(),
            steps,
            runs,
        )?;
    }
    Ok(())
}
