//! Choosing the backend: the CPU and GPU backends give the same values
//! for the same program, say which of them runs, and refuse arrays of the
//! other one with an error naming the op. (One test: the backend is
//! chosen for the whole process.)

mod common;

use common::read_f64;
use kiln::{random, Array, Axes, BackendKind, DType};

/// A program touching each kind of primitive: random bits, elementwise
/// ops, a fused-size chain, reductions, scans, a matmul, indexing, sorting,
/// softmax, normalisation, and views.
fn program() -> Vec<Array> {
    let key = random::key(7);
    let x = random::normal(&key, &[6, 40], DType::F32).unwrap();
    let w = random::uniform(
        &random::fold_in(&key, 1).unwrap(),
        &[40, 24],
        DType::F32,
        -1.0,
        1.0,
    )
    .unwrap();
    let h = kiln::tanh(&kiln::matmul(&x, &w).unwrap()).unwrap();
    let order = kiln::argsort(&h, Some(-1)).unwrap();
    let picked = kiln::take_along_axis(&h, &order, -1).unwrap();
    let half = h.astype(DType::F16).unwrap();
    vec![
        random::bits(&key, &[16]).unwrap(),
        h.clone(),
        kiln::softmax(&h, Axes::from(-1)).unwrap(),
        kiln::sum(&h, Axes::from(0), false).unwrap(),
        kiln::max(&h, Axes::All, false).unwrap(),
        kiln::argmax(&h, Some(1), false).unwrap(),
        kiln::cumsum(&h, Some(1)).unwrap(),
        order,
        picked,
        h.t().unwrap().reshape(&[-1]).unwrap(),
        kiln::matmul(&half, &half.t().unwrap())
            .unwrap()
            .astype(DType::F32)
            .unwrap(),
        kiln::nn::layer_norm(&h, None, None, 1e-5).unwrap(),
    ]
}

#[test]
fn both_backends_compute_the_same_program_and_do_not_mix() {
    assert!(BackendKind::from_name("tpu").is_err());
    assert_eq!(BackendKind::from_name(" CPU ").unwrap(), BackendKind::Cpu);

    let gpu = pollster::block_on(kiln::init_with(BackendKind::Gpu)).unwrap();
    assert_ne!(gpu.backend, "cpu");
    let on_gpu = program();
    let gpu_values: Vec<Vec<f64>> = on_gpu.iter().map(read_f64).collect();

    let cpu = pollster::block_on(kiln::init_with(BackendKind::Cpu)).unwrap();
    assert_eq!(cpu.backend, "cpu");
    assert_eq!(kiln::device_info().unwrap().backend, "cpu");
    let cpu_values: Vec<Vec<f64>> = program().iter().map(read_f64).collect();
    for (k, (g, c)) in gpu_values.iter().zip(&cpu_values).enumerate() {
        assert_eq!(g.len(), c.len(), "output {k}");
        for (i, (a, b)) in g.iter().zip(c).enumerate() {
            // Bits and indices exactly; floats to float32 rounding of sums
            // taken in another order (float16 products to float16's).
            let tol = if k == 10 { 2e-2 } else { 1e-5 } * (1.0 + a.abs());
            assert!(
                (a - b).abs() <= tol,
                "output {k}, element {i}: GPU {a}, CPU {b}"
            );
        }
    }

    // An array the GPU computed, used on the CPU backend.
    let err = kiln::exp(&on_gpu[1])
        .unwrap()
        .eval()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("exp") && err.contains("GPU backend") && err.contains("CPU backend"),
        "{err}"
    );
    let on_cpu = kiln::exp(&Array::from_slice(&[1.0f32], &[1]).unwrap()).unwrap();
    on_cpu.eval().unwrap();
    pollster::block_on(kiln::init_with(BackendKind::Gpu)).unwrap();
    let err = kiln::negative(&on_cpu)
        .unwrap()
        .eval()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("negative") && err.contains("CPU backend") && err.contains("GPU backend"),
        "{err}"
    );
    // Values read before the switch stay readable as host data: new arrays.
    let again = Array::from_slice(
        &gpu_values[1].iter().map(|&v| v as f32).collect::<Vec<_>>(),
        &[6, 24],
    )
    .unwrap();
    assert_eq!(again.shape(), &[6, 24]);
}
