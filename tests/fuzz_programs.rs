//! Property fuzzing: random programs of ops over random shapes (0-d,
//! empty, broadcast, strided and negative-step views) and dtypes, checked
//! by properties that need no outside reference: compile equals eager,
//! vmap equals a loop, evaluation order and batching do not change
//! results, views equal their copies, jvp agrees with vjp and with finite
//! differences where the program is smooth; and random bad arguments to
//! the public functions, which must give errors, never panic.
//!
//! Seeded (proptest, a fixed seed unless `PROPTEST_RNG_SEED` is set);
//! failures shrink to a minimal program and are kept in
//! `tests/fixtures/fuzz_programs.proptest-regressions`, replayed first on
//! every run. `PROPTEST_CASES=2000` for a long run.

mod common;

use common::programs::{program, Program, Step};
use kiln::{Array, DType, Result, Slice};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};

fn floats(a: &Array) -> Vec<f64> {
    common::floats(a)
}

/// `got` and `want` agree within `rtol` of the larger magnitude involved
/// (exactly for integers), with the same shape.
fn agree(
    what: &str,
    got: &Array,
    want: &Array,
    rtol: f64,
) -> std::result::Result<(), TestCaseError> {
    prop_assert_eq!(got.shape(), want.shape(), "{}: shapes", what);
    prop_assert_eq!(got.dtype(), want.dtype(), "{}: dtypes", what);
    let (g, w) = (floats(got), floats(want));
    let scale = w.iter().chain(&g).fold(1.0f64, |m, v| m.max(v.abs()));
    // float16 results carry float16 roundings of every step.
    let tol = match want.dtype() {
        DType::F16 => 4e-3 * scale,
        DType::F32 => rtol * scale,
        _ => 0.0,
    };
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        prop_assert!(
            (a - b).abs() <= tol || (a.is_nan() && b.is_nan()),
            "{}: element {} is {} against {} (tolerance {})",
            what,
            i,
            a,
            b,
            tol
        );
    }
    Ok(())
}

fn check_program(p: &Program) -> std::result::Result<(), TestCaseError> {
    let xs = p.inputs();
    let eager = p.run(&xs).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let fail = |e: kiln::Error| TestCaseError::fail(e.to_string());

    // Evaluation order and batching: both outputs read together, and each
    // from a fresh run on its own, give the same bits.
    kiln::eval(&eager.iter().collect::<Vec<_>>()).map_err(fail)?;
    for (k, out) in eager.iter().enumerate() {
        let alone = p.run(&xs).map_err(fail)?.swap_remove(k);
        let bits = |a: &Array| -> Vec<u64> {
            floats(a)
                .iter()
                .map(|v| if v.is_nan() { 1 } else { v.to_bits() })
                .collect()
        };
        prop_assert_eq!(bits(&alone), bits(out), "output {} evaluated alone", k);
    }

    // compile equals eager.
    let compiled = kiln::compile(|xs: &[Array]| p.run(xs));
    let outs = compiled(&xs).map_err(fail)?;
    let again = compiled(&xs).map_err(fail)?;
    for k in 0..2 {
        agree("compile", &outs[k], &eager[k], 1e-5)?;
        agree("compile (cached)", &again[k], &eager[k], 1e-5)?;
    }

    // Views equal their copies: the first input as a negative-step view of
    // a larger array gives what its contiguous copy gives.
    if !p.shape.is_empty() {
        let mut wider = p.shape.clone();
        wider[0] = 2 * wider[0] + 1;
        let big = p.input(&wider, 3);
        let mut slices = vec![Slice::all(); wider.len()];
        slices[0] = Slice::new(Some(-2), None, Some(-2));
        let view = kiln::slice(&big, &slices).map_err(fail)?;
        let copy = common::array(&floats(&view), view.shape(), p.dtype);
        let on_view = p.run(&[view, xs[1].clone()]).map_err(fail)?;
        let on_copy = p.run(&[copy, xs[1].clone()]).map_err(fail)?;
        agree("view against copy", &on_view[0], &on_copy[0], 1e-5)?;
    }

    // vmap equals a loop over three stacked inputs.
    let stacked = p.input(&[&[3], p.shape.as_slice()].concat(), 4);
    let mapped = kiln::vmap_n(|xs: &[Array]| p.run(xs), &[Some(0), None], &[0])(&[
        stacked.clone(),
        xs[1].clone(),
    ])
    .map_err(fail)?;
    for i in 0..3 {
        let one = kiln::index_axis(&stacked, 0, i).map_err(fail)?;
        let looped = p.run(&[one, xs[1].clone()]).map_err(fail)?;
        let row = kiln::index_axis(&mapped[0], 0, i).map_err(fail)?;
        agree("vmap against a loop", &row, &looped[0], 1e-5)?;
    }

    // Derivatives where the program is smooth and finite (the mean of an
    // empty axis is NaN, with no derivative to agree on).
    if p.smooth() && floats(&eager[0]).iter().all(|v| v.is_finite()) {
        // jvp agrees with vjp: <w, J v> = <J^T w, v>, and with central
        // differences of the program along v.
        let v = p.input(&p.shape, 5);
        let f = |xs: &[Array]| -> Result<Vec<Array>> {
            Ok(vec![p.run(&[xs[0].clone(), xs[1].clone()])?.remove(0)])
        };
        let (outs, tangents) = kiln::jvp(
            f,
            &[xs[0].clone(), xs[1].clone()],
            &[v.clone(), kiln::zeros_like(&xs[1]).map_err(fail)?],
        )
        .map_err(fail)?;
        let w = p.input(outs[0].shape(), 6);
        let (_, cotangents) =
            kiln::vjp(f, &[xs[0].clone(), xs[1].clone()], std::slice::from_ref(&w))
                .map_err(fail)?;
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let magnitude =
            |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x * y).abs()).sum::<f64>();
        let (wj, jw) = (floats(&w), floats(&tangents[0]));
        let (gv, vv) = (floats(&cotangents[0]), floats(&v));
        let forward = dot(&wj, &jw);
        let reverse = dot(&gv, &vv);
        let scale = 1.0 + magnitude(&wj, &jw).max(magnitude(&gv, &vv));
        prop_assert!(
            (forward - reverse).abs() <= 1e-4 * scale,
            "<w, J v> = {} but <J^T w, v> = {}",
            forward,
            reverse
        );
        let h = 1e-2;
        let shifted = |sign: f64| -> std::result::Result<Vec<f64>, TestCaseError> {
            let x = kiln::add(
                &xs[0],
                &kiln::multiply(&v, &Array::scalar((sign * h) as f32)).map_err(fail)?,
            )
            .map_err(fail)?;
            Ok(floats(&p.run(&[x, xs[1].clone()]).map_err(fail)?[0]))
        };
        let (up, down) = (shifted(1.0)?, shifted(-1.0)?);
        for (i, ((a, b), t)) in up.iter().zip(&down).zip(&jw).enumerate() {
            let difference = (a - b) / (2.0 * h);
            prop_assert!(
                (difference - t).abs() <= 2e-2 * (1.0 + t.abs()),
                "element {}: central difference {} against the jvp {}",
                i,
                difference,
                t
            );
        }
    }
    Ok(())
}

/// Where failures are kept.
const REGRESSIONS: &str = "tests/fixtures/fuzz_programs.proptest-regressions";

#[test]
fn random_programs_keep_their_properties() {
    let mut runner = TestRunner::new(common::fuzz::config(400, REGRESSIONS));
    let started = std::time::Instant::now();
    let steps = std::cell::Cell::new(0usize);
    let result = runner.run(&program(), |p| {
        steps.set(steps.get() + p.steps.len());
        check_program(&p)
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    println!(
        "{} programs ({} steps, shrinking included) in {:.1} s",
        runner.config().cases,
        steps.get(),
        started.elapsed().as_secs_f64()
    );
}

/// Cases the fuzzer found, kept as they shrank.
#[test]
fn found_cases_keep_their_properties() {
    // compile wrote the mean's zero count into the fused kernel, and
    // lavapipe folded sin(x / 0) to 0 (eager: NaN).
    let mean_of_empty = Program {
        dtype: DType::F32,
        shape: vec![1, 0],
        other: vec![],
        seed: 0,
        steps: vec![Step::Mean(-1, false), Step::Unary(0)],
    };
    check_program(&mean_of_empty).unwrap();
    // pad overflowed its shape; a product of 35 TB was lowered into
    // billions of pieces (ten minutes) before its size was refused.
    let refused = [
        (Call::Pad(vec![(0, usize::MAX)]), vec![0]),
        (Call::Tile(vec![1 << 40, 1 << 40]), vec![1]),
        (Call::Matmul(vec![4, 2, 1, 1 << 40]), vec![1]),
    ];
    for (call, shape) in refused {
        let a = kiln::zeros(&shape, DType::F32).unwrap();
        let outcome = call
            .apply(&a)
            .and_then(|outs| kiln::eval(&outs.iter().collect::<Vec<_>>()));
        assert!(outcome.is_err(), "{call:?} on {shape:?}");
    }
}

/// One public function called with arbitrary arguments.
#[derive(Debug, Clone)]
enum Call {
    Reshape(Vec<i64>),
    Transpose(Vec<i32>),
    Sum(Vec<i32>, bool),
    Argmax(Option<i32>),
    Slice(Vec<(Option<i64>, Option<i64>, Option<i64>)>),
    Take(Vec<i32>, Option<i32>),
    Concatenate(Vec<usize>, i32),
    Matmul(Vec<usize>),
    Pad(Vec<(usize, usize)>),
    Tile(Vec<usize>),
    Repeat(usize, Option<i32>),
    Diagonal(i64, i32, i32),
    Topk(usize, i32),
    Squeeze(Vec<i32>),
    Moveaxis(i32, i32),
    Cumsum(Option<i32>),
    BroadcastTo(Vec<usize>),
    ExpandDims(Vec<i32>),
    Softmax(Vec<i32>),
}

fn call() -> impl Strategy<Value = Call> {
    let dims = || {
        prop::collection::vec(
            prop_oneof![0usize..6, Just(usize::MAX), Just(1 << 40)],
            0..5,
        )
    };
    let axes = || prop::collection::vec(-6i32..6, 0..4);
    let bound = || prop::option::of(-8i64..8);
    prop_oneof![
        prop::collection::vec(prop_oneof![-3i64..8, Just(i64::MAX), Just(i64::MIN)], 0..5)
            .prop_map(Call::Reshape),
        axes().prop_map(Call::Transpose),
        (axes(), any::<bool>()).prop_map(|(a, k)| Call::Sum(a, k)),
        prop::option::of(-6i32..6).prop_map(Call::Argmax),
        prop::collection::vec((bound(), bound(), prop::option::of(-3i64..3)), 0..4)
            .prop_map(Call::Slice),
        (
            prop::collection::vec(-10i32..10, 0..4),
            prop::option::of(-6i32..6)
        )
            .prop_map(|(i, a)| Call::Take(i, a)),
        (dims(), -6i32..6).prop_map(|(d, a)| Call::Concatenate(d, a)),
        dims().prop_map(Call::Matmul),
        prop::collection::vec((0usize..3, prop_oneof![0usize..3, Just(usize::MAX)]), 0..4)
            .prop_map(Call::Pad),
        prop::collection::vec(prop_oneof![0usize..3, Just(1 << 40)], 0..5).prop_map(Call::Tile),
        (
            prop_oneof![0usize..4, Just(usize::MAX)],
            prop::option::of(-6i32..6)
        )
            .prop_map(|(r, a)| Call::Repeat(r, a)),
        (-5i64..5, -6i32..6, -6i32..6).prop_map(|(o, a, b)| Call::Diagonal(o, a, b)),
        (prop_oneof![0usize..8, Just(usize::MAX)], -6i32..6).prop_map(|(k, a)| Call::Topk(k, a)),
        axes().prop_map(Call::Squeeze),
        (-6i32..6, -6i32..6).prop_map(|(a, b)| Call::Moveaxis(a, b)),
        prop::option::of(-6i32..6).prop_map(Call::Cumsum),
        dims().prop_map(Call::BroadcastTo),
        axes().prop_map(Call::ExpandDims),
        axes().prop_map(Call::Softmax),
    ]
}

impl Call {
    /// Calls the function on `a`; an `Err` is an answer as good as `Ok`.
    fn apply(&self, a: &Array) -> Result<Vec<Array>> {
        let one = |r: Result<Array>| r.map(|x| vec![x]);
        match self {
            Call::Reshape(s) => one(kiln::reshape(a, s)),
            Call::Transpose(p) => one(kiln::transpose(a, p)),
            Call::Sum(axes, keep) => one(kiln::sum(a, axes.clone(), *keep)),
            Call::Argmax(axis) => one(kiln::argmax(a, *axis, false)),
            Call::Slice(parts) => {
                let slices: Vec<Slice> =
                    parts.iter().map(|&(s, e, k)| Slice::new(s, e, k)).collect();
                one(kiln::slice(a, &slices))
            }
            Call::Take(indices, axis) => {
                let ix = Array::from_slice(indices, &[indices.len()])?;
                one(kiln::take(a, &ix, *axis))
            }
            Call::Concatenate(shape, axis) => {
                let b = kiln::zeros(shape, a.dtype())?;
                one(kiln::concatenate(&[a, &b], *axis))
            }
            Call::Matmul(shape) => one(kiln::matmul(a, &kiln::ones(shape, a.dtype())?)),
            Call::Pad(widths) => one(kiln::pad(a, widths, 0.0)),
            Call::Tile(reps) => one(kiln::tile(a, reps)),
            Call::Repeat(r, axis) => one(kiln::repeat(a, *r, *axis)),
            Call::Diagonal(o, x, y) => one(kiln::diagonal(a, *o, *x, *y)),
            Call::Topk(k, axis) => kiln::topk(a, *k, *axis).map(|(v, i)| vec![v, i]),
            Call::Squeeze(axes) => one(kiln::squeeze(a, axes)),
            Call::Moveaxis(s, d) => one(kiln::moveaxis(a, *s, *d)),
            Call::Cumsum(axis) => one(kiln::cumsum(a, *axis)),
            Call::BroadcastTo(shape) => one(kiln::broadcast_to(a, shape)),
            Call::ExpandDims(axes) => one(kiln::expand_dims(a, axes)),
            Call::Softmax(axes) => one(kiln::softmax(a, axes.clone())),
        }
    }
}

/// Arbitrary arguments to public functions give an `Ok` whose results
/// evaluate, or an error naming the function; never a panic.
#[test]
fn bad_arguments_give_errors_not_panics() {
    let mut runner = TestRunner::new(common::fuzz::config(5000, REGRESSIONS));
    let shape = prop::collection::vec(0usize..4, 0..4);
    let dtype = prop_oneof![Just(DType::F32), Just(DType::I32), Just(DType::Bool)];
    let (refused, answered) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
    let result = runner.run(&(shape, dtype, call()), |(shape, dtype, call)| {
        let a = kiln::zeros(&shape, dtype).unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let outs = call.apply(&a)?;
            kiln::eval(&outs.iter().collect::<Vec<_>>())?;
            Ok::<_, kiln::Error>(outs.len())
        }));
        match outcome {
            Err(_) => prop_assert!(false, "{:?} on {:?} {:?} panicked", call, shape, dtype),
            Ok(Ok(_)) => answered.set(answered.get() + 1),
            Ok(Err(e)) => {
                prop_assert!(e.to_string().starts_with('['), "{:?}: {}", call, e);
                refused.set(refused.get() + 1);
            }
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    println!(
        "{} calls answered, {} refused",
        answered.get(),
        refused.get()
    );
}
