//! kiln in a browser, on WebGPU.
//!
//! Run with
//! `CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=120 cargo test --target wasm32-unknown-unknown --test web`
//! (`.cargo/config.toml` makes `wasm-bindgen-test-runner` the runner and
//! `webdriver.json` starts Chromium headless with WebGPU enabled).
#![cfg(target_arch = "wasm32")]

use kiln::{Array, Axes, DType};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Opens the device (idempotent: every test calls it, in any order).
async fn init() -> kiln::DeviceInfo {
    kiln::init().await.expect("kiln::init in the browser")
}

fn assert_close(got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "lengths differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "element {i}: got {g}, want {w}"
        );
    }
}

#[wasm_bindgen_test]
async fn init_reports_a_webgpu_adapter() {
    let info = init().await;
    assert_eq!(info.backend, "BrowserWebGpu", "{info:?}");
    assert!(info.max_storage_binding_bytes >= 128 << 20, "{info:?}");
    assert!(info.max_buffer_bytes >= info.max_storage_binding_bytes.min(256 << 20));
    assert!(info.max_invocations_per_workgroup >= 256, "{info:?}");
    assert!(info.max_workgroup_storage_bytes >= 16 << 10, "{info:?}");
    // A second init and device_info agree with the first.
    let again = init().await;
    let queried = kiln::device_info().expect("device_info after init");
    assert_eq!(again.backend, info.backend);
    assert_eq!(queried.name, info.name);
    assert_eq!(queried.shader_f16, info.shader_f16);
}

#[wasm_bindgen_test]
async fn from_slice_round_trips() {
    init().await;
    let f = Array::from_slice(&[1.5f32, -2.0, 3.25, 0.0, 1e-3, -7.5], &[2, 3]).unwrap();
    assert_eq!(f.shape(), &[2, 3]);
    assert_eq!(f.dtype(), DType::F32);
    assert_eq!(
        f.to_vec_async::<f32>().await.unwrap(),
        vec![1.5, -2.0, 3.25, 0.0, 1e-3, -7.5]
    );
    let i = Array::from_slice(&[3i32, -1, 4, -1, 5], &[5]).unwrap();
    assert_eq!(
        i.to_vec_async::<i32>().await.unwrap(),
        vec![3, -1, 4, -1, 5]
    );
}

#[wasm_bindgen_test]
async fn elementwise_add_broadcasts() {
    init().await;
    // (2, 3) + (3,)
    let a = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    let b = Array::from_slice(&[10.0f32, 20.0, 30.0], &[3]).unwrap();
    let c = kiln::add(&a, &b).unwrap();
    assert_eq!(c.shape(), &[2, 3]);
    assert_eq!(
        c.to_vec_async::<f32>().await.unwrap(),
        vec![11.0, 22.0, 33.0, 14.0, 25.0, 36.0]
    );
    // (3, 1) + (1, 4): both sides broadcast.
    let col = Array::from_slice(&[0.0f32, 100.0, 200.0], &[3, 1]).unwrap();
    let row = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[1, 4]).unwrap();
    let grid = kiln::add(&col, &row).unwrap();
    assert_eq!(grid.shape(), &[3, 4]);
    let want: Vec<f32> = (0..3)
        .flat_map(|i| (1..=4).map(move |j| (100 * i + j) as f32))
        .collect();
    assert_eq!(grid.to_vec_async::<f32>().await.unwrap(), want);
    // A chain of ops (scalar operand, broadcast, unary) against plain Rust.
    let shift = Array::from_slice(&[0.1f32, -0.2, 0.3], &[3]).unwrap();
    let chain = kiln::exp(&kiln::add(&(&a * 0.5), &shift).unwrap()).unwrap();
    let want: Vec<f32> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]
        .iter()
        .zip([0.1f32, -0.2, 0.3].iter().cycle())
        .map(|(x, s)| (x * 0.5 + s).exp())
        .collect();
    assert_close(&chain.to_vec_async::<f32>().await.unwrap(), &want, 1e-5);
}

#[wasm_bindgen_test]
async fn sum_reduces() {
    init().await;
    let a = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3]).unwrap();
    let total = kiln::sum(&a, Axes::All, false).unwrap();
    assert_eq!(total.shape(), &[] as &[usize]);
    assert_eq!(total.to_vec_async::<f32>().await.unwrap(), vec![21.0]);
    let rows = kiln::sum(&a, 1, false).unwrap();
    assert_eq!(rows.shape(), &[2]);
    assert_eq!(rows.to_vec_async::<f32>().await.unwrap(), vec![6.0, 15.0]);
    let cols = kiln::sum(&a, 0, true).unwrap();
    assert_eq!(cols.shape(), &[1, 3]);
    assert_eq!(
        cols.to_vec_async::<f32>().await.unwrap(),
        vec![5.0, 7.0, 9.0]
    );
    // Long enough to need more than one workgroup / pass.
    let n = 300_000;
    let ones = kiln::ones(&[n], DType::F32).unwrap();
    let big = kiln::sum(&ones, Axes::All, false).unwrap();
    assert_eq!(big.to_vec_async::<f32>().await.unwrap(), vec![n as f32]);
    let ints: Vec<i32> = (0..n as i32).map(|v| v % 7 - 3).collect();
    let want: i32 = ints.iter().sum();
    let isum = kiln::sum(&Array::from_slice(&ints, &[n]).unwrap(), Axes::All, false).unwrap();
    assert_eq!(isum.to_vec_async::<i32>().await.unwrap(), vec![want]);
}

#[wasm_bindgen_test]
async fn matmul_64x64_matches_plain_rust() {
    init().await;
    let n = 64;
    // Small integers: every product and sum is exact in f32.
    let a: Vec<f32> = (0..n * n)
        .map(|i| ((i * 7 + 3) % 11) as f32 - 5.0)
        .collect();
    let b: Vec<f32> = (0..n * n)
        .map(|i| ((i * 5 + 1) % 13) as f32 - 6.0)
        .collect();
    let mut want = vec![0.0f32; n * n];
    for i in 0..n {
        for j in 0..n {
            want[i * n + j] = (0..n).map(|k| a[i * n + k] * b[k * n + j]).sum();
        }
    }
    let x = Array::from_slice(&a, &[n, n]).unwrap();
    let y = Array::from_slice(&b, &[n, n]).unwrap();
    let z = kiln::matmul(&x, &y).unwrap();
    assert_eq!(z.shape(), &[n, n]);
    assert_close(&z.to_vec_async::<f32>().await.unwrap(), &want, 0.0);

    // A non-square, non-multiple-of-tile case: (37, 50) @ (50, 29).
    let (m, k, p) = (37, 50, 29);
    let a: Vec<f32> = (0..m * k).map(|i| (i % 9) as f32 * 0.25 - 1.0).collect();
    let b: Vec<f32> = (0..k * p).map(|i| (i % 5) as f32 * 0.5 - 1.0).collect();
    let mut want = vec![0.0f32; m * p];
    for i in 0..m {
        for j in 0..p {
            want[i * p + j] = (0..k).map(|t| a[i * k + t] * b[t * p + j]).sum();
        }
    }
    let z = kiln::matmul(
        &Array::from_slice(&a, &[m, k]).unwrap(),
        &Array::from_slice(&b, &[k, p]).unwrap(),
    )
    .unwrap();
    assert_eq!(z.shape(), &[m, p]);
    assert_close(&z.to_vec_async::<f32>().await.unwrap(), &want, 1e-5);
}

#[wasm_bindgen_test]
async fn logarithms_give_numpys_edge_cases() {
    // WGSL leaves log of x <= 0 undefined; SwiftShader gives log|x| and a
    // finite floor there, NumPy NaN and -inf.
    init().await;
    let x = Array::from_slice(&[-1.0f32, 0.0, 1.0, f32::INFINITY], &[4]).unwrap();
    for (name, got) in [
        ("log", kiln::log(&x)),
        ("log2", kiln::log2(&x)),
        ("log10", kiln::log10(&x)),
    ] {
        let v = got.unwrap().to_vec_async::<f32>().await.unwrap();
        assert!(v[0].is_nan(), "{name}(-1) = {}", v[0]);
        assert_eq!(&v[1..], &[f32::NEG_INFINITY, 0.0, f32::INFINITY], "{name}");
    }
    let x = Array::from_slice(&[-2.0f32, -1.0, 0.0], &[3]).unwrap();
    let v = kiln::log1p(&x)
        .unwrap()
        .to_vec_async::<f32>()
        .await
        .unwrap();
    assert!(v[0].is_nan(), "log1p(-2) = {}", v[0]);
    assert_eq!(&v[1..], &[f32::NEG_INFINITY, 0.0]);
}

#[wasm_bindgen_test]
async fn bad_inputs_return_errors() {
    init().await;
    let a = kiln::ones(&[2, 3], DType::F32).unwrap();
    let b = kiln::ones(&[4, 5], DType::F32).unwrap();
    let err = kiln::matmul(&a, &b).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("[matmul]"), "{msg}");
    assert!(msg.contains("(2, 3)") && msg.contains("(4, 5)"), "{msg}");

    let err = kiln::add(&a, &kiln::ones(&[4], DType::F32).unwrap()).unwrap_err();
    assert!(err.to_string().starts_with("[add]"), "{err}");

    let err = Array::from_slice(&[1.0f32, 2.0, 3.0], &[2, 2]).unwrap_err();
    assert!(err.to_string().starts_with("[array]"), "{err}");

    let err = a.to_vec_async::<i32>().await.unwrap_err();
    assert!(err.to_string().starts_with("[to_vec]"), "{err}");

    // The device is still usable after the errors.
    let c = kiln::add(&a, &a).unwrap();
    assert_eq!(c.to_vec_async::<f32>().await.unwrap(), vec![2.0; 6]);
}

/// Every kernel variant kiln can generate compiles in the browser's own WGSL
/// compiler (Tint in Chromium), which is stricter than naga (tests/kernels.rs):
/// e.g. it rejects constant expressions that evaluate to NaN or infinity.
/// Uses a separate device with error scopes, because on the web an invalid
/// shader is not a panic: kiln's dispatch silently does nothing.
#[wasm_bindgen_test]
async fn every_kernel_compiles_in_the_browser() {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
    let adapter = instance
        .request_adapter(&wgpu::RequestAdapterOptions::default())
        .await
        .expect("a WebGPU adapter");
    let f16 = adapter.features().contains(wgpu::Features::SHADER_F16);
    let (device, _queue) = adapter
        .request_device(&wgpu::DeviceDescriptor {
            required_features: if f16 {
                wgpu::Features::SHADER_F16
            } else {
                wgpu::Features::empty()
            },
            required_limits: adapter.limits(),
            ..Default::default()
        })
        .await
        .expect("a WebGPU device");
    let variants = kiln::backend::kernels::variants();
    let mut failures = Vec::new();
    let mut checked = 0;
    for k in &variants {
        if !f16 && k.source.contains("enable f16") {
            continue; // kiln only builds these where shader-f16 exists
        }
        if k.source.contains("enable wgpu_cooperative_matrix") {
            continue; // native only, where the adapter has cooperative matrices
        }
        checked += 1;
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some(&k.name),
            source: wgpu::ShaderSource::Wgsl(k.source.as_str().into()),
        });
        let _pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(&k.name),
            layout: None,
            module: &module,
            entry_point: Some(k.entry),
            compilation_options: Default::default(),
            cache: None,
        });
        if let Some(e) = scope.pop().await {
            failures.push(format!("{}: {e}", k.name));
        }
    }
    assert!(checked > 100, "only {checked} kernels checked");
    assert!(
        failures.is_empty(),
        "{} of {checked} kernels fail to compile in the browser (f16 variants {}); the first ones:\n{}",
        failures.len(),
        if f16 { "included" } else { "skipped" },
        failures[..failures.len().min(20)].join("\n")
    );
}

#[wasm_bindgen_test]
async fn nn_trains_and_round_trips_safetensors_bytes() {
    use kiln::nn::{self, Layer, Module};
    use kiln::optimizers::{Optimizer, Sgd};
    init().await;
    // Least squares for y = 2 x0 - 3 x1 + 1 on a fixed grid of 16 points.
    let xs: Vec<f32> = (0..32).map(|i| ((i * 7) % 11) as f32 / 5.0 - 1.0).collect();
    let ys: Vec<f32> = xs
        .chunks(2)
        .map(|p| 2.0 * p[0] - 3.0 * p[1] + 1.0)
        .collect();
    let x = Array::from_slice(&xs, &[16, 2]).unwrap();
    let y = Array::from_slice(&ys, &[16, 1]).unwrap();
    let model = nn::Linear::new(2, 1, true, &kiln::random::key(0)).unwrap();
    let mut opt = Optimizer::new(Sgd::default(), 0.2);
    for _ in 0..200 {
        let (_, grads) = nn::value_and_grad(&model, || {
            nn::losses::mse_loss(&model.forward(&x)?, &y, Default::default())
        })
        .unwrap();
        opt.step(&model, &grads).unwrap();
    }
    let w = model.weight.value().to_vec_async::<f32>().await.unwrap();
    let b = model
        .bias
        .as_ref()
        .unwrap()
        .value()
        .to_vec_async::<f32>()
        .await
        .unwrap();
    assert_close(&w, &[2.0, -3.0], 1e-3);
    assert_close(&b, &[1.0], 1e-3);
    let bytes = kiln::io::to_safetensors_bytes_async(&model.parameters(), None)
        .await
        .unwrap();
    let other = nn::Linear::new(2, 1, true, &kiln::random::key(1)).unwrap();
    nn::load_weights_from_bytes(&other, &bytes).unwrap();
    let w2 = other.weight.value().to_vec_async::<f32>().await.unwrap();
    assert_eq!(w, w2);
    let err = nn::load_weights_from_bytes(&other, b"garbage").unwrap_err();
    assert!(err.to_string().contains("load_safetensors"), "{err}");
}

#[path = "common/noise.rs"]
mod noise;

#[path = "common/host_matrix.rs"]
mod host_matrix;

use host_matrix::Mat;

/// Deterministic values in [-1, 1).
fn noise(seed: u64, n: usize) -> Vec<f64> {
    noise::uniform(seed, n, -1.0, 1.0)
}

/// Row-major product of (m x k) and (k x n) host matrices.
fn host_matmul(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
    Mat::new(m, k, a.to_vec())
        .mul(&Mat::new(k, n, b.to_vec()))
        .data
}

fn host_transpose(a: &[f64], m: usize, n: usize) -> Vec<f64> {
    Mat::new(m, n, a.to_vec()).t().data
}

fn frobenius_of_difference(a: &[f64], b: &[f64]) -> f64 {
    let row = |v: &[f64]| Mat::new(1, v.len(), v.to_vec());
    row(a).sub(&row(b)).norm()
}

/// ||I - QᵀQ|| / (rows eps) for an m x k matrix Q.
fn orthogonality(q: &[f64], m: usize, k: usize) -> f64 {
    host_matrix::orthogonality(&Mat::new(m, k, q.to_vec()))
}

async fn host(a: &Array) -> Vec<f64> {
    a.to_vec_async::<f32>()
        .await
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect()
}

fn assert_residual(what: &str, r: f64) {
    assert!(r.is_finite() && r < 30.0, "{what}: scaled residual {r}");
}

#[wasm_bindgen_test]
async fn linalg_solve_qr_svd_eigh_meet_lapack_residuals() {
    use kiln::linalg::{self, QrMode};
    init().await;
    let eps = f32::EPSILON as f64;
    // solve: one workgroup (24), and blocked LU with matmul updates (260).
    for (seed, n) in [(1u64, 24usize), (2, 260)] {
        let a_host: Vec<f64> = noise(seed, n * n);
        let b_host: Vec<f64> = noise(seed + 10, n * 2);
        let a = Array::from_slice(
            &a_host.iter().map(|&v| v as f32).collect::<Vec<_>>(),
            &[n, n],
        )
        .unwrap();
        let b = Array::from_slice(
            &b_host.iter().map(|&v| v as f32).collect::<Vec<_>>(),
            &[n, 2],
        )
        .unwrap();
        let x = host(&linalg::solve(&a, &b).unwrap()).await;
        let ax = host_matmul(&a_host, &x, n, n, 2);
        let norm = |v: &[f64]| v.iter().map(|t| t * t).sum::<f64>().sqrt();
        let r = frobenius_of_difference(&ax, &b_host) / (n as f64 * norm(&a_host) * norm(&x) * eps);
        assert_residual(&format!("solve {n}"), r);
    }
    // qr of a tall matrix.
    let (m, n) = (30, 12);
    let a_host = noise(3, m * n);
    let a = Array::from_slice(
        &a_host.iter().map(|&v| v as f32).collect::<Vec<_>>(),
        &[m, n],
    )
    .unwrap();
    let (q, r) = linalg::qr(&a, QrMode::Reduced).unwrap();
    let (q, r) = (host(&q).await, host(&r).await);
    let norm_a = a_host.iter().map(|t| t * t).sum::<f64>().sqrt();
    let back = host_matmul(&q, &r, m, n, n);
    assert_residual(
        "qr ||A - QR||",
        frobenius_of_difference(&back, &a_host) / (m as f64 * norm_a * eps),
    );
    assert_residual("qr ||I - QᵀQ||", orthogonality(&q, m, n));
    // svd: one workgroup (20 x 12) and many workgroups per matrix (40 x 40).
    for (seed, m, n) in [(4u64, 20usize, 12usize), (5, 40, 40)] {
        let a_host = noise(seed, m * n);
        let a = Array::from_slice(
            &a_host.iter().map(|&v| v as f32).collect::<Vec<_>>(),
            &[m, n],
        )
        .unwrap();
        let (u, s, vh) = linalg::svd(&a, false).unwrap();
        let (u, s, vh) = (host(&u).await, host(&s).await, host(&vh).await);
        let us: Vec<f64> = (0..m * n).map(|t| u[t] * s[t % n]).collect();
        let back = host_matmul(&us, &vh, m, n, n);
        let norm_a = a_host.iter().map(|t| t * t).sum::<f64>().sqrt();
        assert_residual(
            "svd ||A - USVᵀ||",
            frobenius_of_difference(&back, &a_host) / (m as f64 * norm_a * eps),
        );
        assert_residual("svd ||I - UᵀU||", orthogonality(&u, m, n));
        assert_residual(
            "svd ||I - VVᵀ||",
            orthogonality(&host_transpose(&vh, n, n), n, n),
        );
        assert!(
            s.windows(2).all(|w| w[0] >= w[1]),
            "descending singular values"
        );
    }
    // eigh: two-sided Jacobi (16) and through a tridiagonal (48).
    for (seed, n) in [(6u64, 16usize), (7, 48)] {
        let x = noise(seed, n * n);
        let sym: Vec<f64> = (0..n * n).map(|t| x[t] + x[(t % n) * n + t / n]).collect();
        let a =
            Array::from_slice(&sym.iter().map(|&v| v as f32).collect::<Vec<_>>(), &[n, n]).unwrap();
        let (w, v) = linalg::eigh(&a).unwrap();
        let (w, v) = (host(&w).await, host(&v).await);
        let vw: Vec<f64> = (0..n * n).map(|t| v[t] * w[t % n]).collect();
        let back = host_matmul(&vw, &host_transpose(&v, n, n), n, n, n);
        let norm_a = sym.iter().map(|t| t * t).sum::<f64>().sqrt();
        assert_residual(
            &format!("eigh {n} ||A - VΛVᵀ||"),
            frobenius_of_difference(&back, &sym) / (n as f64 * norm_a * eps),
        );
        assert_residual(&format!("eigh {n} ||I - VᵀV||"), orthogonality(&v, n, n));
        assert!(w.windows(2).all(|p| p[0] <= p[1]), "ascending eigenvalues");
    }
    // A bad shape is an error, not a panic, and the module keeps working.
    let wide = Array::from_slice(&[1.0f32; 6], &[2, 3]).unwrap();
    let err = linalg::inv(&wide).unwrap_err().to_string();
    assert!(err.starts_with("[inv]"), "{err}");
}

mod sweep;

/// The native float32 sweep of every unary op (`tests/math_accuracy.rs`)
/// on the browser's adapter: kiln's own transcendental functions keep
/// their 4-ulp bound where the driver's built-ins do not (SwiftShader's
/// sin, cos and tan were about 2e-4 off).
#[wasm_bindgen_test]
async fn unary_ops_are_within_their_ulp_bounds_in_the_browser() {
    init().await;
    let xs = sweep::sweep();
    let input = Array::from_slice(&xs, &[xs.len()]).unwrap();
    let mut failures = Vec::new();
    let mut report = Vec::new();
    for &op in kiln::UnaryOp::ALL {
        if sweep::reference(op, 0.5).is_none() {
            continue;
        }
        let got = kiln::unary(op, &input)
            .unwrap()
            .to_vec_async::<f32>()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", op.name()));
        let (worst, at) = sweep::worst_ulps(op, &xs, &got);
        report.push(format!("{} {worst:.1}", op.name()));
        if worst > sweep::BOUND {
            failures.push(format!("{}: {worst:.1} ulp at x = {at:e}", op.name()));
        }
    }
    wasm_bindgen_test::console_log!("worst ulps: {}", report.join(", "));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
