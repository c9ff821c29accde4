//! Scaled dot-product attention, one kernel forward and two backward,
//! against a float64 host reference: values, the gradients of the queries,
//! keys, values and mask, causal and padding masks, queries that see no
//! key, broadcast batches, float16, ragged sizes across tiles and
//! workgroups, and rows too long for the kernels (composed instead). Each
//! test runs as the adapter chooses (CPU adapters compose attention of
//! matrix products) and with the kernels chosen as on a GPU.

mod common;

use common::noise::uniform;
use common::{array, floats};
use kiln::backend::kernels::choose_as_on_gpu;
use kiln::{nn, Array, Axes, DType};

/// Runs `f` with the adapter's kernel choices, then with a GPU's.
fn on_both_paths(f: impl Fn()) {
    f();
    choose_as_on_gpu(f);
}

/// One attention problem: `n` batches of `lq` queries and `lk` keys.
#[derive(Clone, Copy, Debug)]
struct Shape {
    n: usize,
    lq: usize,
    lk: usize,
    d: usize,
    dv: usize,
}

/// Host values of an attention problem, every batch explicit; the mask
/// additive (`-inf` hides a key).
struct Host {
    s: Shape,
    q: Vec<f64>,
    k: Vec<f64>,
    v: Vec<f64>,
    mask: Vec<f64>,
    causal: bool,
    scale: f64,
}

/// The reference's results: the output, and with `w` as the output's
/// cotangent, the gradients of q, k, v and the mask.
struct Reference {
    out: Vec<f64>,
    dq: Vec<f64>,
    dk: Vec<f64>,
    dv: Vec<f64>,
    dmask: Vec<f64>,
}

impl Host {
    /// The probabilities of batch `b` (NaN rows where a query sees no key).
    fn probabilities(&self, b: usize) -> Vec<f64> {
        let Shape { lq, lk, d, .. } = self.s;
        let mut p = vec![0.0; lq * lk];
        for i in 0..lq {
            let row = &mut p[i * lk..(i + 1) * lk];
            for (j, r) in row.iter_mut().enumerate() {
                let dot: f64 = (0..d)
                    .map(|c| self.q[(b * lq + i) * d + c] * self.k[(b * lk + j) * d + c])
                    .sum();
                let hidden = self.causal && j as i64 > i as i64 + lk as i64 - lq as i64;
                *r = if hidden {
                    f64::NEG_INFINITY
                } else {
                    self.scale * dot + self.mask[(b * lq + i) * lk + j]
                };
            }
            let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let total: f64 = row.iter().map(|s| (s - m).exp()).sum();
            for r in row.iter_mut() {
                *r = if m == f64::NEG_INFINITY {
                    f64::NAN
                } else {
                    (*r - m).exp() / total
                };
            }
        }
        p
    }

    fn reference(&self, w: &[f64]) -> Reference {
        let Shape { n, lq, lk, d, dv } = self.s;
        let mut r = Reference {
            out: vec![0.0; n * lq * dv],
            dq: vec![0.0; n * lq * d],
            dk: vec![0.0; n * lk * d],
            dv: vec![0.0; n * lk * dv],
            dmask: vec![0.0; n * lq * lk],
        };
        for b in 0..n {
            let p = self.probabilities(b);
            for i in 0..lq {
                let wi = &w[(b * lq + i) * dv..(b * lq + i + 1) * dv];
                // dP_ij = w_i · v_j; dS_ij = P_ij (dP_ij - Σ_l P_il dP_il).
                let dp: Vec<f64> = (0..lk)
                    .map(|j| (0..dv).map(|c| wi[c] * self.v[(b * lk + j) * dv + c]).sum())
                    .collect();
                let mean: f64 = (0..lk).map(|j| p[i * lk + j] * dp[j]).sum();
                for j in 0..lk {
                    let pij = p[i * lk + j];
                    let ds = pij * (dp[j] - mean);
                    r.dmask[(b * lq + i) * lk + j] = ds;
                    for (c, wic) in wi.iter().enumerate() {
                        r.out[(b * lq + i) * dv + c] += pij * self.v[(b * lk + j) * dv + c];
                        r.dv[(b * lk + j) * dv + c] += pij * wic;
                    }
                    for c in 0..d {
                        r.dq[(b * lq + i) * d + c] +=
                            self.scale * ds * self.k[(b * lk + j) * d + c];
                        r.dk[(b * lk + j) * d + c] +=
                            self.scale * ds * self.q[(b * lq + i) * d + c];
                    }
                }
            }
        }
        r
    }
}

/// `got` against `want` within `1e-5 (1 + |want|)`, NaN where `want` is.
fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = if w.is_nan() {
            g.is_nan()
        } else {
            (g - w).abs() <= tol * (1.0 + w.abs())
        };
        assert!(ok, "{what}[{k}]: got {g}, want {w}");
    }
}

/// How a case masks its keys.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mask {
    None,
    /// A bool mask (n, 1, lk) hiding the last keys of the first batch.
    Padding,
    /// A float mask (lq, lk) for every batch, with some keys at -inf.
    Float,
}

/// Values, and the gradients of q, k, v (and a float mask) through
/// `sum(out * w)`, against the reference.
fn check(s: Shape, causal: bool, mask: Mask, seed: u64) {
    let Shape { n, lq, lk, d, dv } = s;
    let what = format!("{s:?} causal {causal} mask {mask:?}");
    let q = uniform(seed, n * lq * d, -1.0, 1.0);
    let k = uniform(seed + 1, n * lk * d, -1.0, 1.0);
    let v = uniform(seed + 2, n * lk * dv, -1.0, 1.0);
    let w = uniform(seed + 3, n * lq * dv, -1.0, 1.0);
    let keep: Vec<f64> = (0..n * lk)
        .map(|e| if e < lk && e % lk > lk / 2 { 0.0 } else { 1.0 })
        .collect();
    let float_mask: Vec<f64> = uniform(seed + 4, lq * lk, -2.0, 2.0)
        .into_iter()
        .enumerate()
        .map(|(e, m)| if e % 7 == 3 { f64::NEG_INFINITY } else { m })
        .collect();
    let host_mask: Vec<f64> = (0..n * lq * lk)
        .map(|e| {
            let (b, i, j) = (e / (lq * lk), e / lk % lq, e % lk);
            match mask {
                Mask::None => 0.0,
                Mask::Padding if keep[b * lk + j] == 0.0 => f64::NEG_INFINITY,
                Mask::Padding => 0.0,
                Mask::Float => float_mask[i * lk + j],
            }
        })
        .collect();
    let host = Host {
        s,
        q: q.clone(),
        k: k.clone(),
        v: v.clone(),
        mask: host_mask,
        causal,
        scale: 1.0 / (d as f64).sqrt(),
    };
    let want = host.reference(&w);

    let qa = array(&q, &[n, lq, d], DType::F32);
    let ka = array(&k, &[n, lk, d], DType::F32);
    let va = array(&v, &[n, lk, dv], DType::F32);
    let wa = array(&w, &[n, lq, dv], DType::F32);
    let ma = match mask {
        Mask::None => None,
        Mask::Padding => Some(array(&keep, &[n, 1, lk], DType::Bool)),
        Mask::Float => Some(array(&float_mask, &[lq, lk], DType::F32)),
    };
    let out = nn::scaled_dot_product_attention(&qa, &ka, &va, None, ma.as_ref(), causal).unwrap();
    assert_eq!(out.shape(), &[n, lq, dv]);
    assert_close(&format!("{what}: output"), &floats(&out), &want.out, 1e-5);

    let mut args = vec![qa, ka, va];
    let float = mask == Mask::Float;
    if float {
        args.extend(ma.clone());
    }
    let wrt: Vec<usize> = (0..args.len()).collect();
    let loss = |x: &[Array]| {
        let m = if float { Some(&x[3]) } else { ma.as_ref() };
        let out = nn::scaled_dot_product_attention(&x[0], &x[1], &x[2], None, m, causal)?;
        kiln::sum(&kiln::multiply(&out, &wa)?, Axes::All, false)
    };
    let grads = kiln::grad_n(loss, &wrt)(&args).unwrap();
    assert_close(&format!("{what}: dq"), &floats(&grads[0]), &want.dq, 1e-5);
    assert_close(&format!("{what}: dk"), &floats(&grads[1]), &want.dk, 1e-5);
    assert_close(&format!("{what}: dv"), &floats(&grads[2]), &want.dv, 1e-5);
    if float {
        // The mask is shared by the batches: its gradient sums theirs.
        let summed: Vec<f64> = (0..lq * lk)
            .map(|e| (0..n).map(|b| want.dmask[b * lq * lk + e]).sum())
            .collect();
        assert_close(&format!("{what}: dmask"), &floats(&grads[3]), &summed, 1e-5);
    }
}

#[test]
fn attention_and_its_gradients_match_a_float64_reference() {
    on_both_paths(reference_cases);
}

fn reference_cases() {
    let shapes = [
        // One query, one key, one feature.
        Shape {
            n: 1,
            lq: 1,
            lk: 1,
            d: 1,
            dv: 1,
        },
        // Rows that are not whole vec4s; Dv differs from D.
        Shape {
            n: 2,
            lq: 5,
            lk: 7,
            d: 5,
            dv: 3,
        },
        // Queries over two workgroups and keys over three tiles of 64.
        Shape {
            n: 2,
            lq: 70,
            lk: 150,
            d: 8,
            dv: 8,
        },
        // A transformer head.
        Shape {
            n: 3,
            lq: 64,
            lk: 64,
            d: 32,
            dv: 32,
        },
        // More queries than keys; short tiles of long rows.
        Shape {
            n: 1,
            lq: 130,
            lk: 40,
            d: 16,
            dv: 64,
        },
        Shape {
            n: 1,
            lq: 3,
            lk: 40,
            d: 128,
            dv: 128,
        },
    ];
    let mut seed = 10;
    for s in shapes {
        for causal in [false, true] {
            for mask in [Mask::None, Mask::Padding, Mask::Float] {
                // Causal with more queries than keys hides every key from
                // the first queries: NaN rows, checked on their own below.
                if !(causal && s.lq > s.lk) {
                    check(s, causal, mask, seed);
                }
                seed += 10;
            }
        }
    }
}

#[test]
fn a_query_that_sees_no_key_gets_nan_and_the_others_are_untouched() {
    on_both_paths(queries_that_see_no_key);
}

fn queries_that_see_no_key() {
    // Causal with 5 queries and 3 keys: queries 0 and 1 see no key.
    let q = array(&uniform(1, 5 * 4, -1.0, 1.0), &[1, 5, 4], DType::F32);
    let k = array(&uniform(2, 3 * 4, -1.0, 1.0), &[1, 3, 4], DType::F32);
    let v = array(&uniform(3, 3 * 2, -1.0, 1.0), &[1, 3, 2], DType::F32);
    let out = floats(&nn::scaled_dot_product_attention(&q, &k, &v, None, None, true).unwrap());
    assert!(out[..4].iter().all(|x| x.is_nan()), "{out:?}");
    assert!(out[4..].iter().all(|x| x.is_finite()), "{out:?}");
    // The last query sees every key: plain attention of that row.
    let last = kiln::slice(
        &q,
        &[kiln::Slice::all(), kiln::Slice::new(Some(4), None, None)],
    )
    .unwrap();
    let alone = nn::scaled_dot_product_attention(&last, &k, &v, None, None, false).unwrap();
    assert_close("last query", &out[8..], &floats(&alone), 1e-6);
    // A mask that hides every key of one query.
    let mut keep = vec![1.0; 3 * 3];
    keep[3..6].fill(0.0);
    let mask = array(&keep, &[3, 3], DType::Bool);
    let q3 = kiln::slice(
        &q,
        &[kiln::Slice::all(), kiln::Slice::new(Some(0), Some(3), None)],
    )
    .unwrap();
    let out =
        floats(&nn::scaled_dot_product_attention(&q3, &k, &v, None, Some(&mask), false).unwrap());
    assert!(
        out[2..4].iter().all(|x| x.is_nan())
            && out[..2].iter().chain(&out[4..]).all(|x| x.is_finite()),
        "{out:?}"
    );
}

#[test]
fn shared_keys_broadcast_and_their_gradient_sums_over_the_heads() {
    on_both_paths(shared_keys);
}

fn shared_keys() {
    // Multi-query attention: one set of keys and values for 3 heads.
    let (b, h, l, d) = (2, 3, 6, 4);
    let q = array(
        &uniform(5, b * h * l * d, -1.0, 1.0),
        &[b, h, l, d],
        DType::F32,
    );
    let k = array(&uniform(6, b * l * d, -1.0, 1.0), &[b, 1, l, d], DType::F32);
    let v = array(&uniform(7, b * l * d, -1.0, 1.0), &[b, 1, l, d], DType::F32);
    let tiled = |a: &Array| {
        kiln::add(
            &kiln::broadcast_to(a, &[b, h, l, d]).unwrap(),
            &Array::scalar(0.0f32),
        )
        .unwrap()
    };
    let loss = |kk: &Array| {
        let out = nn::scaled_dot_product_attention(&q, kk, &v, Some(0.7), None, true)?;
        kiln::sum(&kiln::square(&out)?, Axes::All, false)
    };
    let got = kiln::grad(loss)(&k).unwrap();
    let per_head = kiln::grad(loss)(&tiled(&k)).unwrap();
    let want = kiln::sum(&per_head, Axes::from(1), true).unwrap();
    assert_eq!(got.shape(), &[b, 1, l, d]);
    assert_close("dk", &floats(&got), &floats(&want), 1e-6);
    let out = nn::scaled_dot_product_attention(&q, &k, &v, Some(0.7), None, true).unwrap();
    let full = nn::scaled_dot_product_attention(&q, &tiled(&k), &tiled(&v), Some(0.7), None, true)
        .unwrap();
    assert_close("output", &floats(&out), &floats(&full), 0.0);
}

#[test]
fn float16_attention_and_long_rows() {
    on_both_paths(float16_and_long_rows);
}

fn float16_and_long_rows() {
    let s = Shape {
        n: 2,
        lq: 9,
        lk: 11,
        d: 8,
        dv: 6,
    };
    let q = uniform(21, s.n * s.lq * s.d, -1.0, 1.0);
    let k = uniform(22, s.n * s.lk * s.d, -1.0, 1.0);
    let v = uniform(23, s.n * s.lk * s.dv, -1.0, 1.0);
    let at = |x: &[f64], r, c, dt| array(x, &[s.n, r, c], dt);
    let f32_out = nn::scaled_dot_product_attention(
        &at(&q, s.lq, s.d, DType::F32),
        &at(&k, s.lk, s.d, DType::F32),
        &at(&v, s.lk, s.dv, DType::F32),
        None,
        None,
        false,
    )
    .unwrap();
    if kiln::device_info().unwrap().shader_f16 {
        let half = |x: &[f64], r, c| at(x, r, c, DType::F16);
        let out = nn::scaled_dot_product_attention(
            &half(&q, s.lq, s.d),
            &half(&k, s.lk, s.d),
            &half(&v, s.lk, s.dv),
            None,
            None,
            false,
        )
        .unwrap();
        assert_eq!(out.dtype(), DType::F16);
        // Inputs rounded to float16 (2^-11 relative), the output once more.
        assert_close("float16", &floats(&out), &floats(&f32_out), 4e-3);
    }
    // Rows longer than the kernels hold run composed, with the same results.
    let d = 132;
    let q = array(&uniform(24, 5 * d, -1.0, 1.0), &[1, 5, d], DType::F32);
    let k = array(&uniform(25, 7 * d, -1.0, 1.0), &[1, 7, d], DType::F32);
    let v = array(&uniform(26, 7 * 3, -1.0, 1.0), &[1, 7, 3], DType::F32);
    let host = Host {
        s: Shape {
            n: 1,
            lq: 5,
            lk: 7,
            d,
            dv: 3,
        },
        q: floats(&q),
        k: floats(&k),
        v: floats(&v),
        mask: vec![0.0; 35],
        causal: true,
        scale: 0.1,
    };
    let out = nn::scaled_dot_product_attention(&q, &k, &v, Some(0.1), None, true).unwrap();
    assert_close(
        "d = 132",
        &floats(&out),
        &host.reference(&[0.0; 15]).out,
        1e-5,
    );
}
