//! A character-level transformer language model trained on the quotations
//! and poems of Debian's `fortunes` package (`examples/data/fortunes.txt`,
//! written by `examples/data/make_text.py`): token embeddings plus the
//! sinusoidal position table, pre-norm transformer encoder blocks with a
//! causal mask, AdamW with warmup and cosine decay, gradient clipping.
//! Prints the validation loss against the text's unigram entropy as it
//! trains, saves and reloads its weights, and samples text at the end.
//!
//! Run with `cargo run --release --example char_transformer [steps [weights]] [--f16]`
//! (`--f16`: float16 compute, float32 weights and optimizer state);
//! `weights` is where the trained weights go (default: the temporary
//! directory), with the alphabet and the model's shape as metadata (the
//! demo page's fourth section loads `www/demo/data/char_transformer.safetensors`,
//! written by `... char_transformer 1500 www/demo/data/char_transformer.safetensors`).

mod char_model;

use char_model::{CharModel, Shape};
use kiln::nn::{self, Module};
use kiln::optimizers::{self, AdamW, Optimizer};
use kiln::{random, Array, DType, Result};
use std::time::Instant;

const CONTEXT: usize = 64;
const DIMS: usize = 128;
const HEADS: usize = 4;
const LAYERS: usize = 3;
const BATCH: usize = 32;

/// The model's shape for an alphabet of `vocab` characters.
fn shape(vocab: usize) -> Shape {
    Shape {
        vocab,
        dims: DIMS,
        heads: HEADS,
        layers: LAYERS,
        context: CONTEXT,
    }
}

/// The text as token ids, the alphabet, and the unigram entropy in nats.
fn load_text() -> Result<(Vec<i32>, Vec<char>, f64)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/fortunes.txt");
    let text =
        std::fs::read_to_string(path).map_err(|e| kiln::Error::Eval(format!("{path}: {e}")))?;
    let mut alphabet: Vec<char> = text.chars().collect();
    alphabet.sort_unstable();
    alphabet.dedup();
    let ids: Vec<i32> = text
        .chars()
        .map(|c| alphabet.binary_search(&c).unwrap() as i32)
        .collect();
    let mut counts = vec![0usize; alphabet.len()];
    ids.iter().for_each(|&i| counts[i as usize] += 1);
    let n = ids.len() as f64;
    let entropy = -counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| c as f64 / n * (c as f64 / n).ln())
        .sum::<f64>();
    Ok((ids, alphabet, entropy))
}

/// `starts.len()` windows of `CONTEXT + 1` tokens of `ids`, as `(B, CONTEXT + 1)`.
fn windows(ids: &[i32], starts: &[i32]) -> Result<Array> {
    let rows: Vec<i32> = starts
        .iter()
        .flat_map(|&s| ids[s as usize..s as usize + CONTEXT + 1].iter().copied())
        .collect();
    Array::from_slice(&rows, &[starts.len(), CONTEXT + 1])
}

/// Window starts for `count` batches, drawn at once (one read back).
fn batch_starts(key: &Array, count: usize, len: usize) -> Result<Vec<i32>> {
    random::randint(key, &[count, BATCH], 0, (len - CONTEXT - 1) as i32)?.to_vec::<i32>()
}

/// The mean loss over fixed validation batches.
fn validation_loss(model: &CharModel, batches: &[Array]) -> Result<f32> {
    let total = batches
        .iter()
        .map(|b| model.loss(b))
        .collect::<Result<Vec<_>>>()?;
    kiln::mean(
        &kiln::stack(&total.iter().collect::<Vec<_>>(), 0)?,
        kiln::Axes::All,
        false,
    )?
    .item::<f32>()
}

/// `count` characters continuing `prompt`, sampled at `temperature`.
fn sample(
    model: &CharModel,
    alphabet: &[char],
    prompt: &str,
    count: usize,
    temperature: f32,
) -> Result<String> {
    model.train(false);
    let mut ids: Vec<i32> = prompt
        .chars()
        .filter_map(|c| alphabet.binary_search(&c).ok().map(|i| i as i32))
        .collect();
    let key = random::key(99);
    for i in 0..count {
        let context = &ids[ids.len().saturating_sub(CONTEXT)..];
        let logits = model.logits(&Array::from_slice(context, &[1, context.len()])?)?;
        let last = kiln::index_axis(&kiln::index_axis(&logits, 0, 0)?, 0, -1)?;
        let scaled = kiln::divide(&last, &Array::scalar(temperature))?;
        let next = random::categorical(&random::fold_in(&key, i as u32)?, &scaled, -1, None)?;
        ids.push(next.astype(DType::I32)?.item::<i32>()?);
    }
    Ok(ids.iter().map(|&i| alphabet[i as usize]).collect())
}

fn main() -> Result<()> {
    // `--f16`: float16 compute, float32 weights and optimizer state.
    let mixed = std::env::args().any(|a| a == "--f16");
    let args: Vec<String> = std::env::args().filter(|a| a != "--f16").collect();
    let steps: usize = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1500)
        .max(2);
    let info = kiln::device_info()?;
    println!(
        "device: {} ({}){}",
        info.name,
        info.backend,
        if mixed { ", float16 compute" } else { "" }
    );
    let (ids, alphabet, entropy) = load_text()?;
    let cut = ids.len() * 9 / 10;
    let (train, valid) = (&ids[..cut], &ids[cut..]);
    println!(
        "text: {} characters ({} training, {} validation), {} distinct; unigram entropy {entropy:.3} nats",
        ids.len(), train.len(), valid.len(), alphabet.len()
    );
    let model = CharModel::new(shape(alphabet.len()), 0)?;
    println!(
        "model: {LAYERS} blocks of {DIMS} dims, {HEADS} heads, context {CONTEXT}; {} parameters",
        model.num_parameters()
    );
    let valid_batches = batch_starts(&random::key(1), 8, valid.len())?
        .chunks(BATCH)
        .map(|s| windows(valid, s))
        .collect::<Result<Vec<_>>>()?;
    let warmup = (steps / 10).max(1);
    let schedule = optimizers::join_schedules(
        vec![
            optimizers::linear_schedule(0.0, 2e-3, warmup),
            optimizers::cosine_decay(2e-3, steps - warmup, 1e-4),
        ],
        vec![warmup],
    )?;
    let mut optimizer = Optimizer::new(
        AdamW {
            weight_decay: 0.01,
            ..Default::default()
        },
        schedule,
    )
    .with_max_grad_norm(1.0);
    // The loss and its gradients, traced once and replayed every step.
    let loss = |inputs: &[Array]| model.loss(&inputs[0]);
    let float32 = nn::compile_value_and_grad(&model, loss);
    // Float16 compute with a dynamic loss scale: steps whose gradients
    // overflow are skipped and the scale lowered.
    let precision = nn::MixedPrecision::default();
    let scaler = precision.scaler().cloned().expect("a dynamic loss scale");
    let float16 = nn::compile_value_and_grad_mixed(&model, precision, loss);
    let value_and_grad = |inputs: &[Array]| {
        if mixed {
            float16(inputs)
        } else {
            float32(inputs)
        }
    };
    let starts = batch_starts(&random::key(2), steps, train.len())?;
    let report_every = (steps / 15).max(1);
    let start = Instant::now();
    let mut timed = (Instant::now(), 0usize);
    for step in 1..=steps {
        let batch = windows(train, &starts[(step - 1) * BATCH..step * BATCH])?;
        let (loss, grads) = value_and_grad(&[batch])?;
        if mixed {
            optimizer.step_if(&model, &grads, &scaler.update(&grads)?)?;
        } else {
            optimizer.step(&model, &grads)?;
        }
        if step % report_every == 0 || step == steps {
            let train_loss = loss.item::<f32>()?;
            let ms = 1e3 * timed.0.elapsed().as_secs_f64() / (step - timed.1) as f64;
            model.train(false);
            let valid_loss = validation_loss(&model, &valid_batches)?;
            model.train(true);
            // Device memory and pipelines, to show that a long run stays flat.
            let memory = kiln::memory_stats();
            println!(
                "step {step:5}: train loss {train_loss:.3}, validation loss {valid_loss:.3} nats/char, {ms:.1} ms/step; \
                 {:.1} MB live, {:.1} MB pooled, {} buffers, {} pipelines",
                memory.active as f64 / 1e6,
                memory.cached as f64 / 1e6,
                memory.buffers,
                memory.pipelines
            );
            timed = (Instant::now(), step);
        }
    }
    if mixed {
        println!(
            "loss scale {}, {} of {steps} steps skipped for overflowing gradients",
            scaler.scale()?,
            scaler.skipped_steps()?
        );
    }
    model.train(false);
    let valid_loss = validation_loss(&model, &valid_batches)?;
    println!(
        "trained {steps} steps in {:.1} s: validation loss {valid_loss:.3} nats/char vs unigram entropy {entropy:.3} ({:.0}% of it)",
        start.elapsed().as_secs_f64(),
        100.0 * valid_loss as f64 / entropy
    );
    let path = args
        .get(2)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("char_transformer.safetensors"));
    let metadata = [
        (
            "alphabet",
            serde_json::json!(alphabet.iter().collect::<String>()),
        ),
        ("vocab", alphabet.len().into()),
        ("dims", DIMS.into()),
        ("heads", HEADS.into()),
        ("layers", LAYERS.into()),
        ("context", CONTEXT.into()),
        ("steps", steps.into()),
        ("validation_loss", f64::from(valid_loss).into()),
        ("unigram_entropy", entropy.into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    kiln::io::save_safetensors(&path, &model.parameters(), Some(metadata))?;
    let reloaded = CharModel::new(shape(alphabet.len()), 1)?;
    nn::load_weights(&reloaded, &path)?;
    reloaded.train(false);
    println!(
        "saved to {} and reloaded: validation loss {:.3}",
        path.display(),
        validation_loss(&reloaded, &valid_batches)?
    );
    println!(
        "\nsampled text:\n{}",
        sample(&reloaded, &alphabet, "Love is ", 400, 0.8)?
    );
    Ok(())
}
