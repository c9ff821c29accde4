//! kiln::linalg against LAPACK-style scaled residuals: each factorization
//! is multiplied back on the host in float64 and compared with its input,
//! scaled by n ||A|| eps, on random, ill-conditioned, positive-definite,
//! rank-deficient, tall, wide and batched inputs of sizes 1 to 512.
//! `cargo test --test linalg -- --nocapture` prints every residual.

mod common;

use common::host_matrix::{orthogonality, Mat};
use kiln::linalg::{self, QrMode};
use kiln::{Array, DType};

const EPS: f64 = f32::EPSILON as f64;
/// The bound every scaled residual must meet (LAPACK's test threshold).
const THRESHOLD: f64 = 30.0;

/// A stack of host matrices as one float32 array.
fn stack(ms: &[Mat], batched: bool) -> Array {
    let (r, c) = (ms[0].rows, ms[0].cols);
    let data: Vec<f32> = ms
        .iter()
        .flat_map(|m| m.data.iter().map(|&x| x as f32))
        .collect();
    let shape = if batched {
        vec![ms.len(), r, c]
    } else {
        vec![r, c]
    };
    Array::from_slice(&data, &shape).unwrap()
}

/// `count` matrices made by `make(k)` as one stack.
fn stack_of(count: u64, make: impl Fn(u64) -> Mat) -> Array {
    stack(&(0..count).map(make).collect::<Vec<_>>(), true)
}

fn array(m: &Mat) -> Array {
    stack(std::slice::from_ref(m), false)
}

/// The matrices of a float32 array (the last two axes), in float64.
fn mats(a: &Array) -> Vec<Mat> {
    let a = if a.ndim() == 1 {
        kiln::reshape(a, &[-1, 1]).unwrap()
    } else {
        a.clone()
    };
    let d = a.ndim();
    let (rows, cols) = (a.shape()[d - 2], a.shape()[d - 1]);
    let values = a.astype(DType::F32).unwrap().to_vec::<f32>().unwrap();
    if rows * cols == 0 {
        return vec![Mat::zeros(rows, cols); a.shape()[..d - 2].iter().product()];
    }
    values
        .chunks(rows * cols)
        .map(|c| Mat {
            rows,
            cols,
            data: c.iter().map(|&x| x as f64).collect(),
        })
        .collect()
}

fn vectors(a: &Array) -> Vec<Vec<f64>> {
    let n = a.shape()[a.ndim() - 1];
    let values = a.to_vec::<f32>().unwrap();
    values
        .chunks(n.max(1))
        .map(|c| c.iter().map(|&x| x as f64).collect())
        .collect()
}

/// Asserts a scaled residual is below the bound, and prints it (shown
/// with `cargo test --test linalg -- --nocapture`: the accuracy table).
fn check(what: &str, residual: f64) {
    eprintln!("residual\t{what}\t{residual:.3}");
    assert!(
        residual.is_finite() && residual < THRESHOLD,
        "{what}: scaled residual {residual:.2} (bound {THRESHOLD})"
    );
}

/// ||A - B|| / (n ||A|| eps)
/// Asserts that each output holds one result per matrix of `a`: the same
/// batch axes, `core` axes of its own after them.
fn same_batch(what: &str, a: &Array, outputs: &[(&Array, usize)]) {
    let batch = &a.shape()[..a.ndim() - 2];
    for (i, (out, core)) in outputs.iter().enumerate() {
        assert_eq!(
            &out.shape()[..out.ndim().saturating_sub(*core)],
            batch,
            "{what}: output {i}'s batch axes"
        );
        assert_eq!(out.ndim(), batch.len() + core, "{what}: output {i}'s axes");
    }
}

fn scaled(a: &Mat, b: &Mat, n: usize) -> f64 {
    a.sub(b).norm() / (n.max(1) as f64 * a.norm().max(f64::MIN_POSITIVE) * EPS)
}

fn check_lu(what: &str, a: &Array) {
    let (p, l, u) = linalg::lu(a).unwrap();
    let n = a.shape()[a.ndim() - 1];
    same_batch(what, a, &[(&p, 2), (&l, 2), (&u, 2)]);
    for (k, (((a, p), l), u)) in mats(a)
        .iter()
        .zip(mats(&p))
        .zip(mats(&l))
        .zip(mats(&u))
        .enumerate()
    {
        check(
            &format!("{what}[{k}] ||A - PLU||"),
            scaled(a, &p.mul(&l).mul(&u), n),
        );
        for i in 0..n {
            assert_eq!(l.at(i, i), 1.0, "{what}: L has a unit diagonal");
            for j in i + 1..n {
                assert_eq!(l.at(i, j), 0.0);
                assert_eq!(u.at(j, i), 0.0);
                assert!(l.at(j, i).abs() <= 1.0, "{what}: partial pivoting bounds L");
            }
        }
    }
}

fn check_qr(what: &str, a: &Array, mode: QrMode) {
    let (q, r) = linalg::qr(a, mode).unwrap();
    let (m, n) = (a.shape()[a.ndim() - 2], a.shape()[a.ndim() - 1]);
    let k = if mode == QrMode::Complete {
        m
    } else {
        m.min(n)
    };
    assert_eq!(&q.shape()[q.ndim() - 2..], &[m, k], "{what}: Q's shape");
    assert_eq!(&r.shape()[r.ndim() - 2..], &[k, n], "{what}: R's shape");
    same_batch(what, a, &[(&q, 2), (&r, 2)]);
    for (i, ((a, q), r)) in mats(a).iter().zip(mats(&q)).zip(mats(&r)).enumerate() {
        check(
            &format!("{what}[{i}] ||A - QR||"),
            scaled(a, &q.mul(&r), m.max(n)),
        );
        check(&format!("{what}[{i}] ||I - QᵀQ||"), orthogonality(&q));
        for row in 0..k {
            for col in 0..row.min(n) {
                assert_eq!(r.at(row, col), 0.0, "{what}: R is upper triangular");
            }
        }
    }
}

fn check_svd(what: &str, a: &Array, full: bool) {
    let (u, s, vh) = linalg::svd(a, full).unwrap();
    let (m, n) = (a.shape()[a.ndim() - 2], a.shape()[a.ndim() - 1]);
    same_batch(what, a, &[(&u, 2), (&s, 1), (&vh, 2)]);
    let k = m.min(n);
    for (i, (((a, u), s), vh)) in mats(a)
        .iter()
        .zip(mats(&u))
        .zip(vectors(&s))
        .zip(mats(&vh))
        .enumerate()
    {
        assert_eq!(s.len(), k);
        assert!(
            s.windows(2).all(|w| w[0] >= w[1]) && s.iter().all(|&x| x >= 0.0),
            "{what}: S descends, >= 0: {s:?}"
        );
        let us = Mat {
            rows: m,
            cols: k,
            data: (0..m)
                .flat_map(|r| (0..k).map(move |c| (r, c)))
                .map(|(r, c)| u.at(r, c))
                .collect(),
        }
        .scale_columns(&s);
        let vk = Mat {
            rows: k,
            cols: n,
            data: vh.data[..k * n].to_vec(),
        };
        check(
            &format!("{what}[{i}] ||A - USVᵀ||"),
            scaled(a, &us.mul(&vk), m.max(n)),
        );
        check(&format!("{what}[{i}] ||I - UᵀU||"), orthogonality(&u));
        check(&format!("{what}[{i}] ||I - VVᵀ||"), orthogonality(&vh.t()));
        if full {
            assert_eq!((u.rows, u.cols, vh.rows, vh.cols), (m, m, n, n));
        } else {
            assert_eq!((u.rows, u.cols, vh.rows, vh.cols), (m, k, k, n));
        }
    }
}

fn check_eigh(what: &str, a: &Array) {
    let (w, v) = linalg::eigh(a).unwrap();
    let n = a.shape()[a.ndim() - 1];
    same_batch(what, a, &[(&w, 1), (&v, 2)]);
    for (i, ((a, w), v)) in mats(a).iter().zip(vectors(&w)).zip(mats(&v)).enumerate() {
        assert!(
            w.windows(2).all(|p| p[0] <= p[1]),
            "{what}: ascending eigenvalues"
        );
        check(
            &format!("{what}[{i}] ||A - VΛVᵀ||"),
            scaled(a, &v.scale_columns(&w).mul(&v.t()), n),
        );
        check(&format!("{what}[{i}] ||I - VᵀV||"), orthogonality(&v));
    }
}

fn check_cholesky(what: &str, a: &Array) {
    let l = linalg::cholesky(a, false).unwrap();
    let n = a.shape()[a.ndim() - 1];
    same_batch(what, a, &[(&l, 2)]);
    for (i, (a, l)) in mats(a).iter().zip(mats(&l)).enumerate() {
        check(
            &format!("{what}[{i}] ||A - LLᵀ||"),
            scaled(a, &l.mul(&l.t()), n),
        );
        for row in 0..n {
            assert!(l.at(row, row) > 0.0, "{what}: L has a positive diagonal");
            for col in row + 1..n {
                assert_eq!(l.at(row, col), 0.0, "{what}: L is lower triangular");
            }
        }
    }
}

fn check_inverse(what: &str, a: &Array) {
    let x = linalg::inv(a).unwrap();
    let n = a.shape()[a.ndim() - 1];
    same_batch(what, a, &[(&x, 2)]);
    for (i, (a, x)) in mats(a).iter().zip(mats(&x)).enumerate() {
        let r = Mat::eye(n).sub(&a.mul(&x)).norm() / (n as f64 * a.norm() * x.norm() * EPS);
        check(&format!("{what}[{i}] ||I - AA⁻¹||"), r);
    }
}

fn check_solve(what: &str, a: &Array, b: &Array) {
    let x = linalg::solve(a, b).unwrap();
    let n = a.shape()[a.ndim() - 1];
    same_batch(what, a, &[(b, 2), (&x, 2)]);
    for (i, ((a, b), x)) in mats(a).iter().zip(mats(b)).zip(mats(&x)).enumerate() {
        let r = a.mul(&x).sub(&b).norm() / (n as f64 * a.norm() * x.norm() * EPS);
        check(&format!("{what}[{i}] ||Ax - b||"), r);
    }
}

const SIZES: [usize; 9] = [1, 2, 3, 5, 8, 17, 32, 64, 100];

#[test]
fn lu_solve_inv_random_and_ill_conditioned() {
    for (k, &n) in SIZES.iter().enumerate() {
        let a = array(&Mat::random(10 + k as u64, n, n));
        check_lu(&format!("lu random {n}"), &a);
        check_inverse(&format!("inv random {n}"), &a);
        let b = array(&Mat::random(20 + k as u64, n, 3));
        check_solve(&format!("solve random {n}"), &a, &b);
        let c = array(&Mat::ill_conditioned(30 + k as u64, n, 1e4));
        check_lu(&format!("lu cond 1e4 {n}"), &c);
        check_inverse(&format!("inv cond 1e4 {n}"), &c);
    }
}

#[test]
fn cholesky_positive_definite() {
    for (k, &n) in SIZES.iter().enumerate() {
        check_cholesky(
            &format!("cholesky {n}"),
            &array(&Mat::spd(40 + k as u64, n)),
        );
    }
}

#[test]
fn qr_random_tall_wide_rank_deficient() {
    for &(m, n) in &[
        (1, 1),
        (4, 4),
        (7, 3),
        (3, 7),
        (33, 17),
        (17, 33),
        (64, 64),
        (100, 20),
    ] {
        let a = array(&Mat::random(50 + m as u64 * 7 + n as u64, m, n));
        check_qr(&format!("qr reduced {m}x{n}"), &a, QrMode::Reduced);
        check_qr(&format!("qr complete {m}x{n}"), &a, QrMode::Complete);
    }
    let a = array(&Mat::rank_deficient(60, 20, 12, 4));
    check_qr("qr rank 4 of 20x12", &a, QrMode::Reduced);
}

#[test]
fn svd_random_tall_wide_rank_deficient() {
    for &(m, n) in &[
        (1, 1),
        (2, 2),
        (5, 5),
        (7, 3),
        (3, 7),
        (33, 17),
        (17, 33),
        (64, 64),
        (100, 20),
    ] {
        let a = array(&Mat::random(70 + m as u64 * 7 + n as u64, m, n));
        check_svd(&format!("svd thin {m}x{n}"), &a, false);
        check_svd(&format!("svd full {m}x{n}"), &a, true);
    }
    check_svd(
        "svd rank 3 of 20x12",
        &array(&Mat::rank_deficient(80, 20, 12, 3)),
        true,
    );
    check_svd(
        "svd rank 2 of 9x16",
        &array(&Mat::rank_deficient(81, 9, 16, 2)),
        false,
    );
    check_svd(
        "svd cond 1e4",
        &array(&Mat::ill_conditioned(82, 40, 1e4)),
        false,
    );
    check_svd("svd zeros", &array(&Mat::zeros(6, 4)), true);
}

#[test]
fn eigh_random_symmetric() {
    for (k, &n) in SIZES.iter().enumerate() {
        let sym = Mat::symmetric(90 + k as u64, n);
        check_eigh(&format!("eigh {n}"), &array(&sym));
    }
}

#[test]
fn batched_stacks_match_their_matrices() {
    let a = stack_of(4, |k| Mat::random(100 + k, 6, 6));
    check_lu("lu batch", &a);
    check_inverse("inv batch", &a);
    check_solve(
        "solve batch",
        &a,
        &stack_of(4, |k| Mat::random(110 + k, 6, 2)),
    );
    check_qr(
        "qr batch",
        &stack_of(3, |k| Mat::random(120 + k, 7, 4)),
        QrMode::Reduced,
    );
    check_svd(
        "svd batch",
        &stack_of(3, |k| Mat::random(130 + k, 4, 7)),
        false,
    );
    check_cholesky("cholesky batch", &stack_of(3, |k| Mat::spd(140 + k, 5)));
    check_eigh("eigh batch", &stack_of(3, |k| Mat::symmetric(150 + k, 5)));
    // Many small matrices: one workgroup each.
    let many = stack_of(500, |k| Mat::random(1000 + k, 4, 4));
    check_inverse("inv 500 x 4x4", &many);
    check_svd("svd 500 x 4x4", &many, false);
}

/// The largest size in CI: 512 x 512 for every factorization.
#[test]
fn size_512() {
    let n = 512;
    let a = array(&Mat::random(200, n, n));
    check_lu("lu 512", &a);
    check_inverse("inv 512", &a);
    check_solve("solve 512", &a, &array(&Mat::random(201, n, 4)));
    check_qr("qr 512", &a, QrMode::Reduced);
    check_cholesky("cholesky 512", &array(&Mat::spd(202, n)));
    check_eigh("eigh 512", &array(&Mat::symmetric(203, n)));
    check_svd("svd 512", &a, false);
}

// ---------------------------------------------------------------- NumPy

fn ord_of(v: &serde_json::Value) -> Option<linalg::NormOrd> {
    use linalg::NormOrd;
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(match s.as_str() {
            "fro" => NormOrd::Fro,
            "nuc" => NormOrd::Nuc,
            "inf" => NormOrd::P(f64::INFINITY),
            "-inf" => NormOrd::P(f64::NEG_INFINITY),
            other => panic!("unknown ord {other}"),
        }),
        v => Some(NormOrd::P(v.as_f64().expect("a number"))),
    }
}

/// Values, determinants and solutions against numpy.linalg
/// (`tests/gen_linalg_fixtures.py`): spectra within the backward-error
/// bound 30 max(m, n) eps ||A||, solutions within 1e-3 of their largest
/// entry, ranks exactly.
#[test]
fn numpy_fixtures() {
    use common::{check, load_cases, Tol, EXACT};
    let cases = load_cases("linalg.json");
    assert!(cases.len() >= 70);
    for (k, c) in cases.iter().enumerate() {
        let op = c["op"].as_str().unwrap();
        let p = &c["params"];
        let args: Vec<Array> = c["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(common::tensor)
            .collect();
        let a = &args[0];
        let n = a.shape().iter().rev().take(2).copied().max().unwrap_or(1) as f64;
        let scale = c["scale"].as_f64().unwrap();
        let spectral = Tol {
            rtol: 0.0,
            atol: THRESHOLD * n * EPS * scale,
        };
        let outputs: Vec<Array> = match op {
            "det" => vec![linalg::det(a).unwrap()],
            "slogdet" => {
                let (s, l) = linalg::slogdet(a).unwrap();
                vec![s, l]
            }
            "svdvals" => vec![linalg::svdvals(a).unwrap()],
            "eigvalsh" => vec![linalg::eigvalsh(a).unwrap()],
            "inv" => vec![linalg::inv(a).unwrap()],
            "solve" => vec![linalg::solve(a, &args[1]).unwrap()],
            "pinv" => vec![linalg::pinv(a, None).unwrap()],
            "lstsq" => {
                let r = linalg::lstsq(a, &args[1], None).unwrap();
                vec![r.solution, r.rank, r.singular_values]
            }
            "norm" => {
                let axes: Option<Vec<i32>> = p.get("axis").map(common::i32s);
                let keep = p["keepdims"].as_bool().unwrap_or(false);
                vec![linalg::norm(a, ord_of(&p["ord"]), axes.as_deref(), keep).unwrap()]
            }
            "cond" => vec![linalg::cond(a, ord_of(&p["ord"])).unwrap()],
            "matrix_rank" => vec![linalg::matrix_rank(a, None).unwrap()],
            "matrix_power" => vec![linalg::matrix_power(a, p["n"].as_i64().unwrap()).unwrap()],
            "cross" => {
                vec![linalg::cross(a, &args[1], p["axis"].as_i64().unwrap() as i32).unwrap()]
            }
            other => panic!("unknown op {other}"),
        };
        let wants = c["outputs"].as_array().unwrap();
        assert_eq!(outputs.len(), wants.len());
        for (i, (got, want)) in outputs.iter().zip(wants).enumerate() {
            let largest = common::values(want)
                .0
                .iter()
                .fold(0.0f64, |m, v| m.max(v.abs()));
            let tol = match (op, i) {
                // Relative to the determinant itself (as slogdet's log within
                // 2e-3), so a wrong sign or magnitude fails; a singular
                // matrix's within the backward error of Hadamard's bound.
                ("det", _) if largest > 0.0 => Tol {
                    rtol: 2e-3,
                    atol: 0.0,
                },
                ("det", _) => Tol {
                    rtol: 0.0,
                    atol: THRESHOLD * n * EPS * hadamard_bound(a),
                },
                ("slogdet", 0) | ("lstsq", 1) | ("matrix_rank", _) => EXACT,
                ("slogdet", _) => Tol {
                    rtol: 0.0,
                    atol: 2e-3,
                },
                ("svdvals" | "eigvalsh", _) | ("lstsq", 2) => spectral,
                ("norm", _) if p["ord"] == "nuc" || p["ord"] == 2 || p["ord"] == -2 => spectral,
                ("cross" | "norm" | "matrix_power", _) => Tol {
                    rtol: 1e-5,
                    atol: 1e-5 * largest,
                },
                _ => Tol {
                    rtol: 0.0,
                    atol: 1e-3 * largest,
                },
            };
            if let Err(e) = check(got, want, tol) {
                panic!("case {k} ({op} {p}) output {i}: {e}");
            }
        }
    }
}

/// Hadamard's bound on |det A|, the product of A's row norms (the largest
/// over a stack).
fn hadamard_bound(a: &Array) -> f64 {
    let n = *a.shape().last().unwrap();
    common::floats(a)
        .chunks(n * n)
        .map(|m| {
            m.chunks(n)
                .map(|row| row.iter().map(|v| v * v).sum::<f64>().sqrt())
                .product::<f64>()
        })
        .fold(0.0, f64::max)
}

// ---------------------------------------------------------------- failures

#[test]
fn singular_and_indefinite_inputs_are_reported_not_raised() {
    // A stack of a regular and a singular matrix.
    let a = Array::from_slice(&[2.0f32, 1.0, 1.0, 3.0, 1.0, 2.0, 2.0, 4.0], &[2, 2, 2]).unwrap();
    let (x, info) = linalg::inv_ex(&a).unwrap();
    assert_eq!(info.to_vec::<i32>().unwrap(), vec![0, 2]);
    let x = x.to_vec::<f32>().unwrap();
    assert!(x[..4].iter().all(|v| v.is_finite()));
    assert!(x[4..].iter().any(|v| !v.is_finite()), "singular: {x:?}");
    let (_, info) =
        linalg::solve_ex(&a, &Array::from_slice(&[1.0f32, 1.0], &[2]).unwrap()).unwrap();
    assert_eq!(info.to_vec::<i32>().unwrap(), vec![0, 2]);
    let (_, _, info) = linalg::lu_factor_ex(&a).unwrap();
    assert_eq!(info.to_vec::<i32>().unwrap(), vec![0, 2]);
    assert_eq!(
        linalg::det(&a).unwrap().to_vec::<f32>().unwrap(),
        vec![5.0, 0.0]
    );
    let (sign, logabs) = linalg::slogdet(&a).unwrap();
    assert_eq!(sign.to_vec::<f32>().unwrap(), vec![1.0, 0.0]);
    let logabs = logabs.to_vec::<f32>().unwrap();
    assert!((logabs[0] - 5f32.ln()).abs() < 1e-6 && logabs[1] == f32::NEG_INFINITY);
    // Positive definite, then indefinite at the second leading minor.
    let s = Array::from_slice(
        &[
            4.0f32, 2.0, 0.0, 2.0, 5.0, 0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 0.0, 2.0, 1.0, 0.0, 0.0, 0.0,
            1.0,
        ],
        &[2, 3, 3],
    )
    .unwrap();
    let (l, info) = linalg::cholesky_ex(&s, false).unwrap();
    assert_eq!(info.to_vec::<i32>().unwrap(), vec![0, 2]);
    let l = l.to_vec::<f32>().unwrap();
    assert_eq!(&l[..9], &[2.0, 0.0, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0, 1.0]);
    assert!(l[13].is_nan(), "the failing pivot is NaN: {l:?}");
}

#[test]
fn bad_input_gives_errors_naming_the_op() {
    let square = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2]).unwrap();
    let wide = Array::from_slice(&[1.0f32; 6], &[2, 3]).unwrap();
    let vector = Array::from_slice(&[1.0f32; 3], &[3]).unwrap();
    let ints = Array::from_slice(&[1i32, 2, 3, 4], &[2, 2]).unwrap();
    let err = |r: kiln::Result<Array>| r.map(|_| ()).unwrap_err().to_string();
    let expect = |msg: String, op: &str, part: &str| {
        assert!(
            msg.starts_with(&format!("[{op}]")) && msg.contains(part),
            "{msg}"
        );
    };
    expect(err(linalg::inv(&wide)), "inv", "square");
    expect(err(linalg::det(&vector)), "det", "at least 2 dimensions");
    expect(err(linalg::cholesky(&ints, false)), "cholesky", "float");
    expect(err(linalg::eigh(&wide).map(|r| r.0)), "eigh", "square");
    expect(err(linalg::svd(&ints, false).map(|r| r.1)), "svd", "float");
    expect(
        err(linalg::qr(&vector, QrMode::Reduced).map(|r| r.0)),
        "qr",
        "at least 2",
    );
    expect(err(linalg::solve(&square, &vector)), "solve", "rows");
    let batch_a = Array::from_slice(&[1.0f32; 12], &[3, 2, 2]).unwrap();
    let batch_b = Array::from_slice(&[1.0f32; 8], &[2, 2, 2]).unwrap();
    expect(err(linalg::solve(&batch_a, &batch_b)), "solve", "broadcast");
    expect(
        err(linalg::solve_triangular(
            &square,
            &wide.astype(DType::I32).unwrap(),
            linalg::Triangular::lower(),
        )),
        "solve_triangular",
        "float",
    );
    expect(
        err(linalg::matrix_power(&wide, 2)),
        "matrix_power",
        "square",
    );
    expect(
        err(linalg::cross(&square, &square, -1)),
        "cross",
        "3 components",
    );
    expect(
        err(linalg::norm(
            &vector,
            Some(linalg::NormOrd::Fro),
            None,
            false,
        )),
        "norm",
        "matrix norm",
    );
    expect(
        err(linalg::norm(
            &square,
            Some(linalg::NormOrd::P(3.0)),
            None,
            false,
        )),
        "norm",
        "matrix norms take",
    );
    // A derivative that does not exist is an error too.
    let tall = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 7.0], &[3, 2]).unwrap();
    let complete_q = |x: &Array| -> kiln::Result<Array> {
        kiln::sum(&linalg::qr(x, QrMode::Complete)?.0, kiln::Axes::All, false)
    };
    expect(err(kiln::grad(complete_q)(&tall)), "qr", "reduced");
}

// ---------------------------------------------------------------- derivatives

/// Second derivatives through the factorizations: the gradient of
/// log|det A| is A⁻ᵀ, and its derivative along V is -(A⁻¹ V A⁻¹)ᵀ.
#[test]
fn hessian_of_log_determinant_is_analytic() {
    let n = 4;
    let mut a = Mat::random(300, n, n);
    for i in 0..n {
        a.data[i * n + i] += 3.0;
    }
    let v = Mat::random(301, n, n);
    let logdet = |x: &Array| -> kiln::Result<Array> { Ok(linalg::slogdet(x)?.1) };
    let g = kiln::grad(logdet)(&array(&a)).unwrap();
    let inv = mats(&linalg::inv(&array(&a)).unwrap()).remove(0);
    let want_g = inv.t();
    let (_, dg) = kiln::jvp(
        |xs| Ok(vec![kiln::grad(logdet)(&xs[0])?]),
        &[array(&a)],
        &[array(&v)],
    )
    .unwrap();
    let want_dg = Mat {
        rows: n,
        cols: n,
        data: inv.mul(&v).mul(&inv).t().data.iter().map(|x| -x).collect(),
    };
    let close = |what: &str, got: &Mat, want: &Mat| {
        let err = got.sub(want).norm() / want.norm();
        assert!(err < 1e-4, "{what}: relative error {err}");
    };
    close("grad log|det|", &mats(&g)[0], &want_g);
    close("its derivative", &mats(&dg[0])[0], &want_dg);
    // The same through a Hessian: H[i, j, k, l] contracted with V.
    let h = kiln::hessian(logdet)(&array(&a)).unwrap();
    let h = mats(&kiln::reshape(&h, &[(n * n) as i64, (n * n) as i64]).unwrap()).remove(0);
    let hv = h.mul(&Mat {
        rows: n * n,
        cols: 1,
        data: v.data.clone(),
    });
    close(
        "hessian",
        &Mat {
            rows: n,
            cols: n,
            data: hv.data,
        },
        &want_dg,
    );
}

/// Sizes that are not multiples of the panel width, stacked: the blocked
/// algorithms (LU, Cholesky, triangular solves, QR) and many-workgroup
/// Jacobi on batches.
#[test]
fn blocked_sizes_and_stacks() {
    let n = 300;
    let ms: Vec<Mat> = (0..2).map(|k| Mat::random(400 + k, n, n)).collect();
    let a = stack(&ms, true);
    check_lu("lu 2 x 300", &a);
    check_inverse("inv 2 x 300", &a);
    check_cholesky(
        "cholesky 2 x 300",
        &stack(&[Mat::spd(410, n), Mat::spd(411, n)], true),
    );
    check_qr("qr 2 x 300", &a, QrMode::Reduced);
    check_qr(
        "qr 330 x 290 complete",
        &array(&Mat::random(420, 330, 290)),
        QrMode::Complete,
    );
    check_qr(
        "qr 280 x 340",
        &array(&Mat::random(421, 280, 340)),
        QrMode::Reduced,
    );
    check_svd(
        "svd 2 x 70 x 50",
        &stack(&[Mat::random(430, 70, 50), Mat::random(431, 70, 50)], true),
        false,
    );
}

/// Either side of each boundary between algorithms: SVD and eigh by
/// Jacobi up to 32 columns and through a bidiagonal or tridiagonal above
/// (batches, odd sizes, full U, rank deficiency, zeros, repeated values),
/// and the widest one-workgroup SVD and eigh (256) against many workgroups
/// above.
#[test]
fn jacobi_regime_boundaries() {
    check_svd("svd 33 x 32", &array(&Mat::random(450, 33, 32)), true);
    check_svd(
        "svd 2 x 34 x 33",
        &stack(&[Mat::random(451, 34, 33), Mat::random(452, 34, 33)], true),
        true,
    );
    check_svd("svd 41 x 90", &array(&Mat::random(453, 41, 90)), false);
    check_svd(
        "svd rank 5 of 60x45",
        &array(&Mat::rank_deficient(454, 60, 45, 5)),
        true,
    );
    check_svd(
        "svd cond 1e6 of 64",
        &array(&Mat::ill_conditioned(455, 64, 1e6)),
        false,
    );
    check_svd("svd zeros 40x36", &array(&Mat::zeros(40, 36)), true);
    let ones = Mat::new(50, 40, vec![1.0; 2000]);
    check_svd("svd ones 50x40", &array(&ones), true);
    check_eigh("eigh 32", &array(&Mat::symmetric(445, 32)));
    check_eigh(
        "eigh 2 x 33",
        &stack(&[Mat::symmetric(446, 33), Mat::symmetric(447, 33)], true),
    );
    check_eigh("eigh 47", &array(&Mat::symmetric(448, 47)));
    check_eigh("eigh ones 40", &array(&Mat::new(40, 40, vec![1.0; 1600])));
    // diag(1, 1, 1, 0, 0, ..., -2, -2) rotated: clusters and zeros.
    let n = 40;
    let q = mats(
        &linalg::qr(&array(&Mat::random(449, n, n)), QrMode::Reduced)
            .unwrap()
            .0,
    )
    .remove(0);
    let values: Vec<f64> = (0..n)
        .map(|i| {
            if i < 3 {
                1.0
            } else if i < n - 2 {
                0.0
            } else {
                -2.0
            }
        })
        .collect();
    check_eigh(
        "eigh 40 clustered",
        &array(&q.scale_columns(&values).mul(&q.t())),
    );
    check_svd("svd 130 x 128", &array(&Mat::random(440, 130, 128)), false);
    check_svd(
        "svd 2 x 140 x 129",
        &stack(
            &[Mat::random(441, 140, 129), Mat::random(442, 140, 129)],
            true,
        ),
        false,
    );
    check_eigh("eigh 128", &array(&Mat::symmetric(443, 128)));
    check_eigh("eigh 129", &array(&Mat::symmetric(444, 129)));
    check_svd("svd 300 x 256", &array(&Mat::random(465, 300, 256)), true);
    check_svd("svd 258 x 257", &array(&Mat::random(466, 258, 257)), false);
    check_eigh("eigh 256", &array(&Mat::symmetric(467, 256)));
    check_eigh("eigh 257", &array(&Mat::symmetric(468, 257)));
}

/// eigh wider than one workgroup (reduction to a tridiagonal on many
/// workgroups, bisection, inverse iteration): clusters of equal and of
/// nearly equal eigenvalues, rank one, zeros, the identity, a batch.
#[test]
fn eigh_on_many_workgroups() {
    let n = 300;
    let rotated = |seed: u64, values: &[f64]| {
        let q = Mat::orthogonal(seed, values.len());
        array(&q.scale_columns(values).mul(&q.t()))
    };
    let repeated: Vec<f64> = (0..n)
        .map(|i| match i {
            0..3 => 1.0,
            _ if i < n - 2 => 0.0,
            _ => -2.0,
        })
        .collect();
    check_eigh("eigh 300 repeated", &rotated(480, &repeated));
    // Pairs 1e-5 apart and a run of 40 spaced 1e-4: clusters to orthogonalize.
    let close: Vec<f64> = (0..n)
        .map(|i| match i {
            0..40 => 1.0 + 1e-4 * i as f64,
            _ => (i / 2) as f64 * 0.01 + (i % 2) as f64 * 1e-5,
        })
        .collect();
    check_eigh("eigh 300 close", &rotated(481, &close));
    let graded: Vec<f64> = (0..n)
        .map(|i| 10f64.powf(-6.0 * i as f64 / n as f64))
        .collect();
    check_eigh("eigh 300 graded", &rotated(482, &graded));
    check_eigh(
        "eigh ones 270",
        &array(&Mat::new(270, 270, vec![1.0; 270 * 270])),
    );
    check_eigh("eigh zeros 260", &array(&Mat::zeros(260, 260)));
    check_eigh("eigh identity 260", &array(&Mat::eye(260)));
    check_eigh(
        "eigh 2 x 258",
        &stack(&[Mat::symmetric(483, 258), Mat::symmetric(484, 258)], true),
    );
}

/// LU on both of its kernels (a column per lane on CPU adapters, an entry
/// per lane on GPUs): random, singular and stacked matrices, one that takes
/// several dispatches, and the tall panels of the blocked path.
#[test]
fn lu_kernels_for_cpus_and_gpus() {
    let cases = || {
        for (seed, n) in [(470, 1), (471, 5), (472, 65), (473, 128)] {
            check_lu(&format!("lu {n}"), &array(&Mat::random(seed, n, n)));
        }
        check_lu(
            "lu rank 3 of 12",
            &array(&Mat::rank_deficient(475, 12, 12, 3)),
        );
        check_lu("lu zeros", &array(&Mat::zeros(6, 6)));
        check_lu("lu 30 x 4x4", &stack_of(30, |k| Mat::random(476 + k, 4, 4)));
        check_lu("lu 200", &array(&Mat::random(506, 200, 200)));
        // On CPU adapters a matrix's columns shared out among workgroups
        // (the last one's share one wider at 256), stacked.
        check_lu("lu 256", &array(&Mat::random(509, 256, 256)));
        check_lu(
            "lu 3 x 150",
            &stack_of(3, |k| Mat::random(510 + k, 150, 150)),
        );
        check_solve(
            "solve 150",
            &array(&Mat::random(507, 150, 150)),
            &array(&Mat::random(508, 150, 2)),
        );
    };
    cases();
    kiln::backend::kernels::choose_as_on_gpu(cases);
}

/// Triangular solves read T where it lies (inside a larger array, one T
/// for a whole stack of right-hand sides): the results equal those on a
/// contiguous copy, and T X = B holds.
#[test]
fn triangular_solves_read_views() {
    use kiln::ops::shape::{slice, Slice};
    // A diagonally dominant 6 x 6 block at rows 1..7, columns 2..8.
    let big = |seed: u64| {
        let m = Mat::random(seed, 9, 10);
        let data = (0..90)
            .map(|t| m.at(t / 10, t % 10) + if t / 10 + 1 == t % 10 { 8.0 } else { 0.0 })
            .collect();
        Mat::new(9, 10, data)
    };
    let whole = stack(&[big(510), big(511)], true);
    let s = |a: i64, b: i64| Slice::new(Some(a), Some(b), None);
    let t = slice(&whole, &[Slice::all(), s(1, 7), s(2, 8)]).unwrap();
    let copy = kiln::multiply(&t, &Array::scalar(1.0f32)).unwrap();
    let b = stack(&[Mat::random(512, 6, 3), Mat::random(513, 6, 3)], true);
    let shared = slice(&whole, &[s(0, 1), s(1, 7), s(2, 8)]).unwrap();
    let shared = kiln::reshape(&shared, &[6, 6]).unwrap();
    for how in [linalg::Triangular::lower(), linalg::Triangular::upper()] {
        let on_view = linalg::solve_triangular(&t, &b, how).unwrap();
        let on_copy = linalg::solve_triangular(&copy, &b, how).unwrap();
        assert_eq!(
            on_view.to_vec::<f32>().unwrap(),
            on_copy.to_vec::<f32>().unwrap()
        );
        let (tm, bm, xm) = (mats(&copy), mats(&b), mats(&on_view));
        for i in 0..2 {
            let tri = Mat::new(
                6,
                6,
                (0..36)
                    .map(|e| {
                        let (r, c) = (e / 6, e % 6);
                        let keep = if how.upper { c >= r } else { c <= r };
                        if keep {
                            tm[i].at(r, c)
                        } else {
                            0.0
                        }
                    })
                    .collect(),
            );
            check(
                "solve_triangular on a view ||T X - B||",
                scaled(&bm[i], &tri.mul(&xm[i]), 6),
            );
        }
        let broadcast = linalg::solve_triangular(&shared, &b, how).unwrap();
        let first = linalg::solve_triangular(
            &kiln::multiply(&shared, &Array::scalar(1.0f32)).unwrap(),
            &b,
            how,
        )
        .unwrap();
        assert_eq!(
            broadcast.to_vec::<f32>().unwrap(),
            first.to_vec::<f32>().unwrap()
        );
    }
}

/// The two-stage kernels as a GPU runs them (more lanes per matrix), and
/// either side of the widest one-workgroup SVD on GPUs.
#[test]
fn two_stage_kernels_as_on_a_gpu() {
    kiln::backend::kernels::choose_as_on_gpu(|| {
        check_svd("gpu svd 70 x 64", &array(&Mat::random(460, 70, 64)), true);
        check_svd(
            "gpu svd rank 5 of 60x45",
            &array(&Mat::rank_deficient(461, 60, 45, 5)),
            false,
        );
        check_eigh(
            "gpu eigh 2 x 100",
            &stack(&[Mat::symmetric(462, 100), Mat::symmetric(463, 100)], true),
        );
        check_eigh("gpu eigh 33", &array(&Mat::symmetric(464, 33)));
        // GPUs take SVDs wider than 192 columns to many workgroups.
        check_svd(
            "gpu svd 200 x 192",
            &array(&Mat::random(469, 200, 192)),
            false,
        );
        check_svd(
            "gpu svd 193 x 193",
            &array(&Mat::random(509, 193, 193)),
            false,
        );
    });
}

/// float16 input is promoted to float32 (the result is float32).
#[test]
fn float16_input_is_promoted() {
    if !kiln::device_info().unwrap().shader_f16 {
        return;
    }
    let a = array(&Mat::spd(500, 6));
    let half = a.astype(DType::F16).unwrap();
    let (w, _) = linalg::eigh(&half).unwrap();
    assert_eq!(w.dtype(), DType::F32);
    let want = linalg::eigvalsh(&half.astype(DType::F32).unwrap()).unwrap();
    let (got, want) = (w.to_vec::<f32>().unwrap(), want.to_vec::<f32>().unwrap());
    assert_eq!(got, want);
    assert_eq!(linalg::inv(&half).unwrap().dtype(), DType::F32);
}

/// `t`'s upper or lower triangle, with ones on the diagonal if `unit`.
fn triangle(t: &Mat, upper: bool, unit: bool) -> Mat {
    let n = t.rows;
    let data = (0..n * n)
        .map(|e| {
            let (r, c) = (e / n, e % n);
            match (r == c, if upper { c > r } else { c < r }) {
                (true, _) if unit => 1.0,
                (true, _) | (_, true) => t.at(r, c),
                _ => 0.0,
            }
        })
        .collect();
    Mat::new(n, n, data)
}

/// Every kind of triangular system (upper or lower, unit diagonal or not,
/// T X = B or X T = B), the Cholesky factor either way up and cho_solve,
/// each against its residual with the matrix rebuilt on the host.
#[test]
fn triangular_and_cholesky_variants_meet_their_residuals() {
    let n = 17;
    // Well conditioned: random entries, a dominant diagonal.
    let dominant = |seed: u64| {
        let m = Mat::random(seed, n, n);
        let data = (0..n * n)
            .map(|e| m.at(e / n, e % n) + if e / n == e % n { 6.0 } else { 0.0 })
            .collect();
        Mat::new(n, n, data)
    };
    let ts = [dominant(520), dominant(521)];
    let t = stack(&ts, true);
    let left_b = stack(&[Mat::random(522, n, 3), Mat::random(523, n, 3)], true);
    let right_b = stack(&[Mat::random(524, 3, n), Mat::random(525, 3, n)], true);
    for upper in [false, true] {
        for unit in [false, true] {
            for right in [false, true] {
                let mut how = if upper {
                    linalg::Triangular::upper()
                } else {
                    linalg::Triangular::lower()
                };
                if unit {
                    how = how.unit_diagonal();
                }
                if right {
                    how = how.right();
                }
                let b = if right { &right_b } else { &left_b };
                let x = linalg::solve_triangular(&t, b, how).unwrap();
                let what = format!("solve_triangular upper {upper} unit {unit} right {right}");
                same_batch(&what, &t, &[(&x, 2)]);
                for (i, (bm, xm)) in mats(b).iter().zip(mats(&x)).enumerate() {
                    let tri = triangle(&ts[i], upper, unit);
                    let product = if right { xm.mul(&tri) } else { tri.mul(&xm) };
                    check(&format!("{what}[{i}] ||T X - B||"), scaled(bm, &product, n));
                }
            }
        }
    }
    let spds = [Mat::spd(526, n), Mat::spd(527, n)];
    let a = stack(&spds, true);
    let b = stack(&[Mat::random(528, n, 2), Mat::random(529, n, 2)], true);
    for upper in [false, true] {
        let c = linalg::cholesky(&a, upper).unwrap();
        let x = linalg::cho_solve(&c, &b, upper).unwrap();
        let what = format!("cholesky upper {upper}");
        same_batch(&what, &a, &[(&c, 2), (&x, 2)]);
        for (i, ((am, cm), (bm, xm))) in spds
            .iter()
            .zip(mats(&c))
            .zip(mats(&b).iter().zip(mats(&x)))
            .enumerate()
        {
            let rebuilt = if upper {
                cm.t().mul(&cm)
            } else {
                cm.mul(&cm.t())
            };
            check(&format!("{what}[{i}] ||A - C C||"), scaled(am, &rebuilt, n));
            assert_eq!(
                triangle(&cm, upper, false).data,
                cm.data,
                "{what}: triangular"
            );
            check(
                &format!("cho_solve {what}[{i}] ||A X - B||"),
                scaled(bm, &am.mul(&xm), n),
            );
        }
    }
}

#[test]
fn svd_of_matrices_without_columns() {
    // A stack of 4 x 0 matrices: no singular values, an empty reduced U,
    // and a full U that is orthogonal.
    let a = kiln::zeros(&[2, 4, 0], DType::F32).unwrap();
    let (u, s, vh) = linalg::svd(&a, true).unwrap();
    assert_eq!(
        (u.shape(), s.shape(), vh.shape()),
        (&[2, 4, 4][..], &[2, 0][..], &[2, 0, 0][..])
    );
    let gram = kiln::matmul(&u.mt().unwrap(), &u)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    for (k, g) in gram.iter().enumerate() {
        let want = if k % 16 % 5 == 0 { 1.0 } else { 0.0 };
        assert!((g - want).abs() < 1e-6, "UᵀU[{k}] = {g}");
    }
    let (u, s, _) = linalg::svd(&a, false).unwrap();
    assert_eq!((u.shape(), s.shape()), (&[2, 4, 0][..], &[2, 0][..]));
}
