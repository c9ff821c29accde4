//! Differential fuzzing: random programs (`common::programs`) run on the GPU
//! backend and on the CPU backend, which serves as the reference; their
//! results, and the gradients of their sums, agree within float rounding
//! (exactly for integers). One test, since the backend is chosen for the
//! whole process; it needs a GPU adapter (lavapipe in CI).
//!
//! Seeded as `tests/fuzz_programs.rs` is; failures shrink and are kept in
//! `tests/fixtures/differential.proptest-regressions`.

mod common;

use common::programs::{program, Program};
use kiln::{Array, Axes, BackendKind, DType};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};

/// An output's shape and values.
type Output = (Vec<usize>, Vec<f64>);

/// What a program computes on the backend in use: its outputs, and where
/// the program is smooth the gradient of its sum.
fn results(p: &Program) -> std::result::Result<Vec<Output>, String> {
    let xs = p.inputs();
    let mut outs = p.run(&xs).map_err(|e| e.to_string())?;
    if p.smooth() {
        let program = p.clone();
        let total = move |x: &Array| -> kiln::Result<Array> {
            let outs = program.run(&[x.clone(), program.input(&program.other, 2)])?;
            kiln::sum(&outs[0], Axes::All, false)
        };
        outs.push(kiln::grad(total)(&xs[0]).map_err(|e| e.to_string())?);
    }
    kiln::eval(&outs.iter().collect::<Vec<_>>()).map_err(|e| e.to_string())?;
    Ok(outs
        .iter()
        .map(|a| (a.shape().to_vec(), common::floats(a)))
        .collect())
}

fn on(kind: BackendKind) {
    pollster::block_on(kiln::init_with(kind)).expect("opening the backend");
}

fn compare(p: &Program) -> std::result::Result<(), TestCaseError> {
    on(BackendKind::Gpu);
    let gpu = results(p);
    on(BackendKind::Cpu);
    let cpu = results(p);
    let (gpu, cpu) = match (gpu, cpu) {
        (Ok(g), Ok(c)) => (g, c),
        (Err(g), Err(c)) => {
            prop_assert_eq!(g, c, "both backends fail, with the same error");
            return Ok(());
        }
        (g, c) => return Err(TestCaseError::fail(format!("GPU: {g:?}, CPU: {c:?}"))),
    };
    prop_assert_eq!(gpu.len(), cpu.len());
    for (i, ((gs, g), (cs, c))) in gpu.iter().zip(&cpu).enumerate() {
        prop_assert_eq!(gs, cs, "output {}: shapes", i);
        let scale = g.iter().chain(c).fold(1.0f64, |m, v| m.max(v.abs()));
        // Transcendentals and summation orders differ by a few float32
        // roundings per step; float16 rounds every step.
        let tol = match p.dtype {
            DType::F16 => 4e-3 * scale,
            DType::F32 => 1e-5 * scale,
            _ => 0.0,
        };
        for (j, (a, b)) in g.iter().zip(c).enumerate() {
            prop_assert!(
                (a - b).abs() <= tol || (a.is_nan() && b.is_nan()),
                "output {} element {}: GPU {} against CPU {} (tolerance {})",
                i,
                j,
                a,
                b,
                tol
            );
        }
    }
    Ok(())
}

#[test]
fn random_programs_agree_on_both_backends() {
    // The strategy asks the GPU whether float16 is there.
    on(BackendKind::Gpu);
    let mut runner = TestRunner::new(common::fuzz::config(
        1000,
        "tests/fixtures/differential.proptest-regressions",
    ));
    let result = runner.run(&program(), |p| compare(&p));
    on(BackendKind::Gpu);
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
