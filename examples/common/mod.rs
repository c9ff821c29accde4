//! What the digits examples (and the training test) share: the data, a
//! training loop that prints its progress, and the save-and-reload check.
#![allow(dead_code)]

use kiln::nn::Sequential;
use kiln::nn::{self, losses, Layer, MixedPrecision};
use kiln::optimizers::{cosine_decay, Adam, Optimizer, Rule};
use kiln::{random, Array, DType, Result};
use std::time::Instant;

/// Images `(N, 8, 8, 1)` scaled to `[0, 1]` and their labels `(N,)` int32.
pub struct Split {
    pub images: Array,
    pub labels: Array,
}

impl Split {
    pub fn len(&self) -> usize {
        self.labels.size()
    }

    /// The rows at `index` (host indices).
    pub fn rows(&self, index: &[i32]) -> Result<(Array, Array)> {
        let index = Array::from_slice(index, &[index.len()])?;
        Ok((
            kiln::take(&self.images, &index, Some(0))?,
            kiln::take(&self.labels, &index, Some(0))?,
        ))
    }
}

/// The scikit-learn digits, shuffled with a fixed key and split 80/20.
pub struct Digits {
    pub train: Split,
    pub test: Split,
}

pub fn load_digits() -> Result<Digits> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/data/digits.safetensors"
    );
    let (arrays, _) = kiln::io::load_safetensors(path)?;
    let images = kiln::divide(
        &arrays["images"].astype(DType::F32)?,
        &Array::scalar(16.0f32),
    )?;
    let images = kiln::reshape(&images, &[-1, 8, 8, 1])?;
    let labels = arrays["labels"].astype(DType::I32)?;
    let n = labels.size();
    let order = random::permutation(&random::key(2024), n)?.to_vec::<i32>()?;
    let cut = n * 4 / 5;
    let split = |index: &[i32]| -> Result<Split> {
        let index = Array::from_slice(index, &[index.len()])?;
        Ok(Split {
            images: kiln::take(&images, &index, Some(0))?,
            labels: kiln::take(&labels, &index, Some(0))?,
        })
    };
    Ok(Digits {
        train: split(&order[..cut])?,
        test: split(&order[cut..])?,
    })
}

/// The fraction of `split` that `model` classifies correctly.
pub fn accuracy(model: &dyn Layer, split: &Split) -> Result<f32> {
    let was_training = model.is_training();
    model.train(false);
    let result = losses::accuracy(&model.forward(&split.images)?, &split.labels)?.item::<f32>();
    model.train(was_training);
    result
}

/// What a training run reached.
pub struct Report {
    pub steps: usize,
    pub final_loss: f32,
    pub test_accuracy: f32,
    pub ms_per_step: f64,
}

/// The loss and gradients of a training step from its inputs.
type Gradient<'a> = Box<dyn Fn(&[Array]) -> Result<(Array, nn::Params)> + 'a>;

/// Trains `model` with cross-entropy on shuffled mini-batches for
/// `epochs`, in mixed `precision` where given, printing the loss, the test
/// accuracy and the time per step after each epoch.
pub fn train<R: Rule + Clone + std::fmt::Debug>(
    model: &dyn Layer,
    optimizer: &mut Optimizer<R>,
    data: &Digits,
    epochs: usize,
    batch: usize,
    seed: u64,
    precision: Option<MixedPrecision>,
) -> Result<Report> {
    let n = data.train.len();
    // The loss and its gradients, traced once per batch size and replayed.
    let value_and_grad: Gradient = match &precision {
        None => Box::new(nn::compile_value_and_grad(model, |inputs: &[Array]| {
            losses::cross_entropy(&model.forward(&inputs[0])?, &inputs[1], Default::default())
        })),
        Some(p) => {
            let compute = p.compute;
            Box::new(nn::compile_value_and_grad_mixed(
                model,
                p.clone(),
                move |inputs: &[Array]| {
                    let logits = model.forward(&inputs[0].astype(compute)?)?;
                    losses::cross_entropy(&logits, &inputs[1], Default::default())
                },
            ))
        }
    };
    let mut report = Report {
        steps: 0,
        final_loss: f32::NAN,
        test_accuracy: 0.0,
        ms_per_step: 0.0,
    };
    let mut elapsed = 0.0;
    for epoch in 1..=epochs {
        let order = random::permutation(&random::fold_in(&random::key(seed), epoch as u32)?, n)?
            .to_vec::<i32>()?;
        let start = Instant::now();
        let mut epoch_losses = Vec::new();
        for index in order.chunks(batch) {
            let (x, y) = data.train.rows(index)?;
            let (loss, grads) = value_and_grad(&[x, y])?;
            // A dynamic loss scale skips steps whose gradients overflow.
            match precision.as_ref().and_then(MixedPrecision::scaler) {
                Some(scaler) => optimizer.step_if(model, &grads, &scaler.update(&grads)?)?,
                None => optimizer.step(model, &grads)?,
            }
            epoch_losses.push(loss);
            report.steps += 1;
        }
        let mean_loss = kiln::mean(
            &kiln::stack(&epoch_losses.iter().collect::<Vec<_>>(), 0)?,
            kiln::Axes::All,
            false,
        )?;
        report.final_loss = mean_loss.item::<f32>()?; // waits for the epoch's work
        let seconds = start.elapsed().as_secs_f64();
        elapsed += seconds;
        report.test_accuracy = accuracy(model, &data.test)?;
        println!(
            "epoch {epoch:3}: loss {:.4}, test accuracy {:5.1}%, {:.2} ms/step",
            report.final_loss,
            100.0 * report.test_accuracy,
            1e3 * seconds / epoch_losses.len() as f64
        );
    }
    report.ms_per_step = 1e3 * elapsed / report.steps.max(1) as f64;
    Ok(report)
}

/// Saves `model`'s weights with safetensors, loads them into `fresh` (the
/// same architecture, initialised differently) and checks that both
/// classify the test set identically.
pub fn save_and_reload(
    model: &dyn Layer,
    fresh: &dyn Layer,
    data: &Digits,
    name: &str,
) -> Result<()> {
    let path = std::env::temp_dir().join(format!("{name}.safetensors"));
    nn::save_weights(model, &path)?;
    nn::load_weights(fresh, &path)?;
    let (a, b) = (accuracy(model, &data.test)?, accuracy(fresh, &data.test)?);
    println!(
        "saved to {} and reloaded: test accuracy {:.1}% -> {:.1}%",
        path.display(),
        100.0 * a,
        100.0 * b
    );
    if a != b {
        return Err(kiln::Error::Eval(format!(
            "the reloaded model scores {b}, the original {a}"
        )));
    }
    Ok(())
}

/// A digits example's `main`: trains `build(0)` with Adam (cosine decay
/// from 1e-3) at batch 32 for the epochs given as the first argument
/// (else `default_epochs`), then saves and reloads into `build(1)`.
pub fn run_example(
    name: &str,
    default_epochs: usize,
    build: impl Fn(u64) -> Result<Sequential>,
) -> Result<()> {
    let epochs = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default_epochs);
    // `--f16`: float16 compute, float32 weights and optimizer state.
    let precision = std::env::args()
        .any(|a| a == "--f16")
        .then(MixedPrecision::default);
    let info = kiln::device_info()?;
    println!(
        "device: {} ({}){}",
        info.name,
        info.backend,
        if precision.is_some() {
            ", float16 compute"
        } else {
            ""
        }
    );
    let data = load_digits()?;
    println!(
        "digits: {} training, {} test images",
        data.train.len(),
        data.test.len()
    );
    let model = build(0)?;
    let steps = epochs * data.train.len().div_ceil(32);
    let mut optimizer = Optimizer::new(Adam::default(), cosine_decay(1e-3, steps, 1e-5));
    let report = train(&model, &mut optimizer, &data, epochs, 32, 1, precision)?;
    println!(
        "{} steps: test accuracy {:.1}%, {:.2} ms per step",
        report.steps,
        100.0 * report.test_accuracy,
        report.ms_per_step
    );
    save_and_reload(&model, &build(1)?, &data, name)
}
