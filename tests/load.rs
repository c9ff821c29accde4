//! Under load: arrays built, evaluated and read from 8 threads at once;
//! a training run whose memory stays flat; processes that exit with work
//! still queued. `KILN_SOAK_STEPS=10000 cargo test --release --test load
//! -- --nocapture soak` runs the long soak and prints its figures.

#[path = "../examples/common/mod.rs"]
mod common;

use kiln::nn::{self, losses, Activation, Flatten, Layer, Linear, Sequential};
use kiln::optimizers::{Adam, Optimizer};
use kiln::{random, Array, DType};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

/// Held by each test here: they share the device, and the soak measures
/// its memory.
static ALONE: Mutex<()> = Mutex::new(());

/// Runs `work` on a thread, failing if it takes longer than `limit` (a
/// deadlock would otherwise hang the test run).
fn within<T: Send + 'static>(limit: Duration, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(work());
    });
    result
        .recv_timeout(limit)
        .unwrap_or_else(|_| panic!("no result within {limit:?}: a deadlock or a panic"))
}

/// Each thread builds its own graph over shared and private inputs,
/// evaluates it, reads it back and checks it against the host, many times
/// over; arrays also cross threads (one thread's results feed another's).
#[test]
fn eight_threads_build_evaluate_and_read_at_once() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let shared =
        Array::from_slice(&(0..64).map(|i| i as f32).collect::<Vec<_>>(), &[8, 8]).unwrap();
    let handoff = within(Duration::from_secs(300), move || {
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let shared = shared.clone();
                std::thread::spawn(move || -> Vec<f32> {
                    let mut last = Vec::new();
                    for round in 0..25 {
                        let c = (t * 100 + round) as f32;
                        let mine = kiln::full(&[8, 8], c, DType::F32).unwrap();
                        let y = kiln::add(&kiln::matmul(&shared, &mine).unwrap(), &shared).unwrap();
                        let total = kiln::sum(&y, kiln::Axes::All, false).unwrap();
                        // sum_ij (shared @ c 1)_ij + shared_ij = 8 c sum(shared) + sum(shared).
                        let want = (8.0 * c + 1.0) * 2016.0;
                        let got = total.item::<f32>().unwrap();
                        assert!(
                            (got - want).abs() <= 1e-6 * want,
                            "thread {t} round {round}: {got} != {want}"
                        );
                        last = y.to_vec::<f32>().unwrap();
                    }
                    last
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|h| h.join().expect("a worker thread"))
            .collect::<Vec<_>>()
    });
    assert_eq!(handoff.len(), 8);
    for (t, values) in handoff.iter().enumerate() {
        let c = (t * 100 + 24) as f32;
        let first_row_sum: f32 = (0..8).map(|k| k as f32).sum::<f32>() * c;
        assert_eq!(values[0], first_row_sum, "thread {t}'s last result");
    }
}

/// Trains the digits MLP for `steps` steps (`KILN_SOAK_STEPS`, 300 by
/// default), requiring the pool's bytes and buffers and the compiled
/// pipelines to be the same at the end as after the first 50 steps;
/// prints the step times of the first and last tenths.
#[test]
fn soak_training_keeps_memory_flat() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let steps: usize = std::env::var("KILN_SOAK_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let data = common::load_digits().unwrap();
    let keys = random::split(&random::key(3), 2).unwrap();
    let key = |i| kiln::index_axis(&keys, 0, i).unwrap();
    let model = Sequential::new()
        .push(Flatten)
        .push(Linear::new(64, 64, true, &key(0)).unwrap())
        .push(Activation::Relu)
        .push(Linear::new(64, 10, true, &key(1)).unwrap());
    let mut optimizer = Optimizer::new(Adam::default(), 1e-3);
    let batches: Vec<Vec<i32>> = (0..32)
        .map(|b| (0..32).map(|i| b * 32 + i).collect())
        .collect();
    let warm = 50.min(steps / 2);
    let (mut settled, mut last) = (None, None);
    let mut times = Vec::with_capacity(steps);
    let mut loss = f32::NAN;
    for step in 0..steps {
        let start = Instant::now();
        let (x, y) = data.train.rows(&batches[step % batches.len()]).unwrap();
        let (value, grads) = nn::value_and_grad(&model, || {
            losses::cross_entropy(&model.forward(&x)?, &y, Default::default())
        })
        .unwrap();
        optimizer.step(&model, &grads).unwrap();
        loss = value.item::<f32>().unwrap(); // waits for the step
        times.push(start.elapsed().as_secs_f64() * 1e3);
        // Both taken at the same point of a step, with the same arrays
        // alive (the CPU backend, without a pool, counts live arrays only).
        if step + 1 == warm {
            settled = Some(kiln::memory_stats());
        }
        if step + 1 == steps {
            last = Some(kiln::memory_stats());
        }
    }
    let settled = settled.expect("warm-up steps");
    let end = last.expect("steps");
    assert!(
        loss.is_finite() && loss < 2.3,
        "loss {loss} after {steps} steps"
    );
    // Which cached buffer a kernel reuses (one up to twice its size) moves
    // bytes between active and cached from step to step; their sum, the
    // pool's buffers and the pipelines must not move at all.
    let held = |m: kiln::MemoryStats| (m.active + m.cached, m.buffers, m.pipelines);
    assert_eq!(
        held(end),
        held(settled),
        "pool bytes, buffers and pipelines after {warm} steps and after {steps}"
    );
    let median = |slice: &[f64]| {
        let mut sorted = slice.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted[sorted.len() / 2]
    };
    let tenth = (steps / 10).max(1);
    println!(
        "{steps} steps: loss {loss:.3}; {} pool bytes, {} buffers, {} pipelines throughout; \
         median step {:.2} ms in the first tenth after warm-up, {:.2} ms in the last",
        end.active + end.cached,
        end.buffers,
        end.pipelines,
        median(&times[warm..warm + tenth.min(steps - warm)]),
        median(&times[steps - tenth..])
    );
}

/// The child's work: kernels queued and a read begun, then the process
/// ends (kiln must not abort at exit while the driver still holds work).
#[test]
fn child_exits_with_work_queued() {
    if std::env::var_os("KILN_EXIT_CHILD").is_none() {
        return;
    }
    let a = random::normal(&random::key(1), &[128, 128], DType::F32).unwrap();
    let mut x = a.clone();
    for _ in 0..8 {
        x = kiln::tanh(&kiln::matmul(&x, &a).unwrap()).unwrap();
    }
    let _ = kiln::sum(&x, kiln::Axes::All, false).unwrap().item::<f32>();
    for _ in 0..8 {
        x = kiln::matmul(&x, &a).unwrap();
    }
    x.eval().unwrap();
    std::process::exit(0);
}

/// Runs the child above as its own process 200 times (the count
/// `KILN_EXIT_RUNS` overrides): every one exits with status 0.
#[test]
fn processes_exit_cleanly_with_work_queued() {
    let _alone = ALONE.lock().unwrap_or_else(|e| e.into_inner());
    let runs: usize = std::env::var("KILN_EXIT_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let me = std::env::current_exe().unwrap();
    let mut failures = Vec::new();
    for run in 0..runs {
        let out = std::process::Command::new(&me)
            .args([
                "--exact",
                "child_exits_with_work_queued",
                "--test-threads=1",
            ])
            .env("KILN_EXIT_CHILD", "1")
            .output()
            .unwrap();
        if !out.status.success() {
            failures.push(format!(
                "run {run}: {} {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {runs} runs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
