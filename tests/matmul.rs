//! The matmul kernels against an f64 product on the host: every tiling
//! (chosen by shape: 32, 64 and 128 square tiles) and, on CPU adapters,
//! the direct kernel they run by default; both load directions of each
//! operand (row-major and transposed views), ragged edges in M, N and K,
//! broadcast batches, and the integer and float16 variants.

mod common;

use common::noise::uniform;
use kiln::backend::kernels::choose_as_on_gpu as with_staged_tiles;
use kiln::{Array, DType};

/// Runs `check` with the adapter's own kernel choice (the direct kernel on
/// a CPU adapter) and with the GPU tilings.
fn on_every_kernel(check: impl Fn()) {
    check();
    with_staged_tiles(check);
}

/// `(batch, m, k) @ (batch, k, n)` on the host in f64; `bt` means `b` is
/// stored as `(batch, n, k)`.
fn host_matmul(
    a: &[f64],
    b: &[f64],
    batch: usize,
    m: usize,
    n: usize,
    k: usize,
    bt: bool,
) -> Vec<f64> {
    let mut c = vec![0.0; batch * m * n];
    for p in 0..batch {
        for i in 0..m {
            for j in 0..n {
                c[(p * m + i) * n + j] = (0..k)
                    .map(|q| {
                        let y = if bt {
                            b[(p * n + j) * k + q]
                        } else {
                            b[(p * k + q) * n + j]
                        };
                        a[(p * m + i) * k + q] * y
                    })
                    .sum();
            }
        }
    }
    c
}

fn f32_array(values: &[f64], shape: &[usize]) -> Array {
    let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    Array::from_slice(&v, shape).unwrap()
}

/// Checks `batch × (m, k) @ (k, n)` with A (and B) given as transposed
/// views when `at` (`bt`).
fn check(batch: usize, m: usize, n: usize, k: usize, at: bool, bt: bool) {
    let a_host = uniform(batch as u64 * 7 + m as u64, batch * m * k, -1.0, 1.0);
    let b_host = uniform(n as u64 * 13 + k as u64, batch * k * n, -1.0, 1.0);
    let want = host_matmul(&a_host, &b_host, batch, m, n, k, bt);
    let abs = |v: &[f64]| v.iter().map(|x| x.abs()).collect::<Vec<_>>();
    let scale = host_matmul(&abs(&a_host), &abs(&b_host), batch, m, n, k, bt);
    let a = if at {
        // Stored (batch, k, m): transpose the host values into that layout.
        let mut stored = vec![0.0; a_host.len()];
        for p in 0..batch {
            for i in 0..m {
                for q in 0..k {
                    stored[(p * k + q) * m + i] = a_host[(p * m + i) * k + q];
                }
            }
        }
        f32_array(&stored, &[batch, k, m]).mt().unwrap()
    } else {
        f32_array(&a_host, &[batch, m, k])
    };
    let b = if bt {
        f32_array(&b_host, &[batch, n, k]).mt().unwrap()
    } else {
        f32_array(&b_host, &[batch, k, n])
    };
    let got = kiln::matmul(&a, &b).unwrap().to_vec::<f32>().unwrap();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        // The classic bound for a sum of k products in f32.
        let tol = k as f64 * f32::EPSILON as f64 * scale[i];
        assert!(
            (*g as f64 - w).abs() <= tol,
            "batch {batch}, {m}x{n}x{k} (a^T {at}, b^T {bt}): element {i} is {g}, want {w}"
        );
    }
}

#[test]
fn every_tiling_and_load_direction_matches_the_host() {
    // Ragged edges in every dimension. Shapes are chosen so that the kernel
    // picks each tiling: few workgroups -> 32 x 32 tiles; 16 products of
    // about 130 x 130 -> 64 x 64 (144 workgroups, 64 at 128 x 128); 32 of
    // them -> 128 x 128 (128 workgroups). Few tiles and a long K split K:
    // 128 x 96 by 2048 into 8 slices of 32 x 32 tiles, two 70 x 40 by
    // 1536 into 4. On a CPU adapter the direct kernel takes each of its
    // widths: up to 16 columns, up to 32, wider.
    for (batch, m, n, k) in [
        (1, 1, 1, 1),
        (1, 3, 5, 7),
        (1, 9, 16, 5),
        (1, 65, 17, 3),
        (3, 70, 27, 13),
        (2, 33, 65, 17),
        (1, 130, 129, 70),
        (16, 130, 129, 21),
        (32, 130, 129, 21),
        (32, 129, 131, 9),
        (1, 128, 96, 2048),
        (2, 70, 40, 1536),
    ] {
        for (at, bt) in [(false, false), (true, false), (false, true), (true, true)] {
            on_every_kernel(|| check(batch, m, n, k, at, bt));
        }
    }
}

#[test]
fn broadcast_batches_integers_and_float16_match_the_host() {
    on_every_kernel(broadcast_batches_integers_and_float16);
}

fn broadcast_batches_integers_and_float16() {
    // (3, 1, 40, 24) @ (1, 4, 24, 36): batch dimensions broadcast as views.
    let (m, k, n) = (40, 24, 36);
    let a_host = uniform(1, 3 * m * k, -4.0, 4.0);
    let b_host = uniform(2, 4 * k * n, -4.0, 4.0);
    let round = |v: &[f64]| v.iter().map(|x| x.round()).collect::<Vec<_>>();
    let (a_int, b_int) = (round(&a_host), round(&b_host));
    let a = f32_array(&a_int, &[3, 1, m, k]);
    let b = f32_array(&b_int, &[1, 4, k, n]);
    let mut want = Vec::new();
    for p in 0..3 {
        for q in 0..4 {
            let a_p = &a_int[p * m * k..(p + 1) * m * k];
            let b_q = &b_int[q * k * n..(q + 1) * k * n];
            want.extend(host_matmul(a_p, b_q, 1, m, n, k, false));
        }
    }
    let c = kiln::matmul(&a, &b).unwrap();
    assert_eq!(c.shape(), &[3, 4, m, n]);
    // Small integers: exact in f32, int32 and (below 2048) float16.
    let got = c.to_vec::<f32>().unwrap();
    assert!(got.iter().zip(&want).all(|(g, w)| *g as f64 == *w));
    let ints = kiln::matmul(
        &a.astype(DType::I32).unwrap(),
        &b.astype(DType::I32).unwrap(),
    )
    .unwrap()
    .to_vec::<i32>()
    .unwrap();
    assert!(ints.iter().zip(&want).all(|(g, w)| *g as f64 == *w));
    if kiln::device_info().unwrap().shader_f16 {
        let halves = kiln::matmul(
            &a.astype(DType::F16).unwrap(),
            &b.astype(DType::F16).unwrap(),
        )
        .unwrap()
        .astype(DType::F32)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
        assert!(halves.iter().zip(&want).all(|(g, w)| *g as f64 == *w));
    }
}

#[test]
fn float16_products_match_the_host_on_every_path() {
    on_every_kernel(float16_products_on_every_path);
}

fn float16_products_on_every_path() {
    // Every side >= 64: tensor cores where the adapter has cooperative
    // matrices (ragged edges padded to whole 128 x 128 tiles; interior
    // tiles stream K through workgroup memory 32 at a time when K is a
    // multiple of 16, a K of 80 taking its last 16 straight from memory;
    // one tile by a K of 2048 splits K into 8 slices), the register-tiled
    // kernel elsewhere. Small integers keep every product and sum exact in
    // float16 and float32.
    let f16 = kiln::device_info().unwrap().shader_f16;
    for (batch, m, n, k, bt) in [
        (1usize, 200usize, 136usize, 72usize, false),
        (1, 128, 256, 80, true),
        (3, 130, 257, 64, true),
        (2, 64, 64, 200, false),
        (1, 256, 384, 96, false),
        (1, 128, 128, 2048, false),
    ] {
        let ints = |seed: u64, len: usize| -> Vec<f64> {
            uniform(seed, len, -2.5, 2.5)
                .iter()
                .map(|v| v.round())
                .collect()
        };
        let (a_host, b_host) = (ints(m as u64, batch * m * k), ints(n as u64, batch * k * n));
        let want = host_matmul(&a_host, &b_host, batch, m, n, k, bt);
        let a = f32_array(&a_host, &[batch, m, k])
            .astype(DType::F16)
            .unwrap();
        let b = if bt {
            f32_array(&b_host, &[batch, n, k]).mt().unwrap()
        } else {
            f32_array(&b_host, &[batch, k, n])
        };
        let product = kiln::matmul(&a, &b.astype(DType::F16).unwrap());
        if !f16 {
            let err = product.and_then(|p| p.to_vec::<f32>()).unwrap_err();
            assert!(err.to_string().contains("float16"), "{err}");
            continue;
        }
        let got = product
            .unwrap()
            .astype(DType::F32)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(*g as f64, *w, "batch {batch}, {m}x{n}x{k}: element {i}");
        }
        // Other layouts of the same A, as float16 views of (batch, m, k).
        let check = |what: &str, a: Array| {
            let got = kiln::matmul(&a, &b.astype(DType::F16).unwrap())
                .unwrap()
                .astype(DType::F32)
                .unwrap()
                .to_vec::<f32>()
                .unwrap();
            let exact = got.iter().zip(&want).all(|(g, w)| *g as f64 == *w);
            assert!(exact, "{what} A, batch {batch}, {m}x{n}x{k}");
        };
        let half =
            |values: &[f64], shape: &[usize]| f32_array(values, shape).astype(DType::F16).unwrap();
        // Negative row strides (rows stored reversed, then flipped):
        // staged, never loaded directly.
        let mut reversed = Vec::with_capacity(a_host.len());
        for p in 0..batch {
            for r in (0..m).rev() {
                let start = (p * m + r) * k;
                reversed.extend_from_slice(&a_host[start..start + k]);
            }
        }
        check(
            "flipped",
            kiln::flip(&half(&reversed, &[batch, m, k]), &[1]).unwrap(),
        );
        // Stored as (batch, k, m) and transposed: M is its contiguous
        // axis, in the streamed tiles and the staged ones alike.
        let mut columns = vec![0.0; a_host.len()];
        for p in 0..batch {
            for r in 0..m {
                for q in 0..k {
                    columns[(p * k + q) * m + r] = a_host[(p * m + r) * k + q];
                }
            }
        }
        check("transposed", half(&columns, &[batch, k, m]).mt().unwrap());
    }
}
