//! Function transforms checked against independent references: finite
//! differences for vjp, the identity <w, J v> = <Jᵀ w, v> for jvp, loops over
//! the batch for vmap, and closed forms for higher derivatives.

// `&[x.clone()]` reads better than `std::slice::from_ref(&x)` in calls.
#![allow(clippy::cloned_ref_to_slice_refs)]

mod common;

use common::noise::uniform;
use common::read_f64;
use kiln::{Array, Axes, DType, Result, Slice, UnaryOp};
use std::collections::BTreeSet;

fn f32s(v: &[f64], shape: &[usize]) -> Array {
    let data: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    Array::from_slice(&data, shape).unwrap()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn assert_close(what: &str, got: &[f64], want: &[f64], rtol: f64, atol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= atol + rtol * w.abs() || (g.is_nan() && w.is_nan()),
            "{what}: element {k}: got {g}, want {w}\n got {got:?}\nwant {want:?}"
        );
    }
}

/// Where a case's inputs are drawn from.
#[derive(Clone, Copy)]
enum Domain {
    /// Uniform in `[lo, hi)`.
    Range(f64, f64),
    /// Distinct values 0.2 apart, shifted by a multiple of 0.04 that depends
    /// on the seed, so that two such arrays stay at least 0.04 apart (for
    /// max/min/sort, whose derivatives jump at ties).
    Spaced,
    /// Integers plus a fraction in [0.2, 0.8) (for rounding, away from jumps).
    OffGrid,
}

fn draw(seed: u64, shape: &[usize], domain: Domain) -> Array {
    let n: usize = shape.iter().product();
    let v = match domain {
        Domain::Range(lo, hi) => uniform(seed, n, lo, hi),
        Domain::Spaced => {
            let keys = uniform(seed, n, 0.0, 1.0);
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by(|&a, &b| keys[a].total_cmp(&keys[b]));
            let mut v = vec![0.0; n];
            for (rank, &k) in order.iter().enumerate() {
                v[k] = (rank as f64 - n as f64 / 2.0) * 0.2 + (seed % 5) as f64 * 0.04;
            }
            v
        }
        Domain::OffGrid => uniform(seed, n, 0.0, 1.0)
            .iter()
            .zip(uniform(seed + 1, n, -3.0, 3.0))
            .map(|(f, i)| i.floor() + 0.2 + 0.6 * f)
            .collect(),
    };
    f32s(&v, shape)
}

type Fun = Box<dyn Fn(&[Array]) -> Result<Array>>;

/// A function of float arrays with the shapes and domains of its inputs.
struct Case {
    name: String,
    inputs: Vec<(Vec<usize>, Domain)>,
    f: Fun,
    /// Whether finite differences measure the derivative (false for
    /// boolean outputs, and where the derivative is cut on purpose).
    smooth: bool,
}

fn case(
    name: &str,
    inputs: &[(&[usize], Domain)],
    f: impl Fn(&[Array]) -> Result<Array> + 'static,
) -> Case {
    Case {
        name: name.to_string(),
        inputs: inputs.iter().map(|(s, d)| (s.to_vec(), *d)).collect(),
        f: Box::new(f),
        smooth: true,
    }
}

const R: Domain = Domain::Range(-1.5, 1.5);

fn unary_domain(op: UnaryOp) -> Domain {
    use UnaryOp::*;
    match op {
        Log | Log2 | Log10 | Sqrt | Rsqrt | Reciprocal => Domain::Range(0.3, 2.0),
        Log1p => Domain::Range(-0.5, 2.0),
        // The cube root's slope is infinite at 0.
        Cbrt => Domain::Range(0.3, 2.0),
        Arcsin | Arccos | Arctanh | Erfinv => Domain::Range(-0.8, 0.8),
        Arccosh => Domain::Range(1.2, 3.0),
        Tan => Domain::Range(-1.2, 1.2),
        Abs | Sign => Domain::Spaced,
        Floor | Ceil | Round => Domain::OffGrid,
        _ => R,
    }
}

fn s(start: Option<i64>, stop: Option<i64>, step: Option<i64>) -> Slice {
    Slice::new(start, stop, step)
}

/// The unary op's case.
fn unary_case(op: UnaryOp) -> Case {
    let mut c = case(op.name(), &[(&[2, 3], unary_domain(op))], move |x| {
        kiln::ops::elementwise::unary(op, &x[0])
    });
    c.smooth = !matches!(
        op,
        UnaryOp::Isnan | UnaryOp::Isinf | UnaryOp::Isfinite | UnaryOp::LogicalNot
    );
    c
}

/// The binary op's case: `(2, 3)` from `da` with `(3,)` from `db`.
fn binary_case(name: &str, da: Domain, db: Domain) -> Case {
    let op = kiln::BinaryOp::from_name(name).unwrap();
    case(name, &[(&[2, 3], da), (&[3], db)], move |x| {
        kiln::ops::elementwise::binary(op, &x[0], &x[1])
    })
}

/// Unary ops of the table that the cases were first seeded with; cases of
/// ops added later come last, so that every earlier case keeps its seeds.
const FIRST_UNARY: usize = 35;

/// One case per differentiable unary and binary op, and cases that reach
/// every other primitive.
fn cases() -> Vec<Case> {
    let mut out: Vec<Case> = UnaryOp::ALL[..FIRST_UNARY]
        .iter()
        .map(|&op| unary_case(op))
        .collect();
    let pos = Domain::Range(0.5, 2.0);
    let binary: Vec<(&str, Domain, Domain)> = vec![
        ("add", R, R),
        ("subtract", R, R),
        ("multiply", R, R),
        ("divide", R, pos),
        ("power", pos, R),
        ("maximum", Domain::Spaced, Domain::Spaced),
        ("minimum", Domain::Spaced, Domain::Spaced),
        ("arctan2", R, R),
        (
            "remainder",
            Domain::Range(0.1, 0.9),
            Domain::Range(1.0, 1.5),
        ),
        (
            "floor_divide",
            Domain::Range(0.1, 0.9),
            Domain::Range(1.0, 1.5),
        ),
    ];
    for (name, da, db) in binary {
        out.push(binary_case(name, da, db));
    }
    for name in ["equal", "less", "greater_equal", "logical_and"] {
        let op = kiln::BinaryOp::from_name(name).unwrap();
        let mut c = case(name, &[(&[2, 3], R), (&[2, 3], R)], move |x| {
            kiln::ops::elementwise::binary(op, &x[0], &x[1])?.astype(DType::F32)
        });
        c.smooth = false;
        out.push(c);
    }
    out.push(case("where", &[(&[2, 3], R), (&[3], R)], |x| {
        let cond = Array::from_slice(&[true, false, true], &[3])?;
        kiln::r#where(&cond, &x[0], &x[1])
    }));
    // float16 rounding defeats finite differences; the rule is checked
    // exactly in `casts_pass_cotangents_through`.
    let mut c = case("astype", &[(&[4], R)], |x| {
        kiln::sin(&x[0])?.astype(DType::F16)?.astype(DType::F32)
    });
    c.smooth = false;
    out.push(c);
    // Bits carry no derivative (only the multiply does), so finite
    // differences, which see x·x, do not apply.
    let mut c = case("view", &[(&[4], R)], |x| {
        let bits = kiln::view(&x[0], DType::U32)?;
        let back = kiln::view(&bits, DType::F32)?;
        kiln::multiply(&back, &x[0])
    });
    c.smooth = false;
    out.push(c);
    for (name, axes) in [
        ("sum", vec![1]),
        ("prod", vec![0, 2]),
        ("max", vec![2]),
        ("min", vec![0]),
    ] {
        let domain = if name == "prod" { R } else { Domain::Spaced };
        out.push(case(
            &format!("{name}{axes:?}"),
            &[(&[2, 3, 2], domain)],
            move |x| {
                let a = Axes::from(axes.clone());
                match name {
                    "sum" => kiln::sum(&x[0], a, false),
                    "prod" => kiln::prod(&x[0], a, false),
                    "max" => kiln::max(&x[0], a, false),
                    _ => kiln::min(&x[0], a, true),
                }
            },
        ));
    }
    out.push(case("prod with a zero", &[(&[3, 4], R)], |x| {
        let mask = f32s(&[1., 1., 0., 1.], &[4]);
        kiln::prod(&kiln::multiply(&x[0], &mask)?, Axes::from(1), false)
    }));
    out.push(case("argmax", &[(&[3, 4], Domain::Spaced)], |x| {
        let i = kiln::argmax(&x[0], Some(1), true)?;
        kiln::take_along_axis(&x[0], &i, 1)
    }));
    out.push(case("cumsum", &[(&[3, 4], R)], |x| {
        kiln::cumsum(&x[0], Some(1))
    }));
    out.push(case("cumsum_reverse", &[(&[3, 4], R)], |x| {
        kiln::cumsum_reverse(&x[0], 0)
    }));
    out.push(case(
        "cumprod",
        &[(&[3, 4], Domain::Range(0.5, 1.5))],
        |x| kiln::cumprod(&x[0], Some(1)),
    ));
    out.push(case(
        "cumprod_reverse",
        &[(&[3, 4], Domain::Range(0.5, 1.5))],
        |x| kiln::cumprod_reverse(&x[0], 1),
    ));
    out.push(case("reshape", &[(&[2, 6], R)], |x| {
        kiln::sin(&x[0].reshape(&[3, -1])?)
    }));
    out.push(case("reshape of a transpose", &[(&[3, 4], R)], |x| {
        x[0].transpose(&[1, 0])?.reshape(&[2, 6])
    }));
    out.push(case("transpose", &[(&[2, 3, 4], R)], |x| {
        kiln::transpose(&x[0], &[2, 0, 1])
    }));
    out.push(case("broadcast_to", &[(&[3, 1], R)], |x| {
        kiln::broadcast_to(&x[0], &[2, 3, 4])
    }));
    out.push(case("slice", &[(&[5, 7], R)], |x| {
        kiln::slice(
            &x[0],
            &[s(Some(1), Some(5), Some(2)), s(Some(6), Some(0), Some(-3))],
        )
    }));
    out.push(case("slice reversed", &[(&[6], R)], |x| {
        kiln::flip(&x[0], &[0])
    }));
    out.push(case("diagonal", &[(&[3, 4, 2], R)], |x| {
        kiln::diagonal(&x[0], 1, 0, 1)
    }));
    out.push(case("diagonal below", &[(&[4, 3], R)], |x| {
        kiln::diagonal(&x[0], -1, 0, 1)
    }));
    out.push(case("concatenate", &[(&[2, 3], R), (&[2, 2], R)], |x| {
        kiln::concatenate(&[&x[0], &kiln::exp(&x[1])?], 1)
    }));
    out.push(case(
        "einsum",
        &[(&[2, 3], R), (&[3, 4], R), (&[4], R)],
        |x| kiln::einsum("ij,jk,k->ij", &[&x[0], &x[1], &x[2]]),
    ));
    out.push(case(
        "einsum diagonal and ellipsis",
        &[(&[2, 3, 3], R)],
        |x| kiln::einsum("...ii->...i", &[&kiln::sin(&x[0])?]),
    ));
    out.push(case("convolve", &[(&[6], R), (&[3], R)], |x| {
        kiln::convolve(&x[0], &x[1], kiln::ConvolveMode::Full)
    }));
    out.push(case("correlate", &[(&[6], R), (&[3], R)], |x| {
        kiln::correlate(&x[0], &x[1], kiln::ConvolveMode::Same)
    }));
    out.push(case("cov and corrcoef", &[(&[3, 5], R)], |x| {
        flat(&[kiln::cov(&x[0], true, 1)?, kiln::corrcoef(&x[0], true)?])
    }));
    out.push(case(
        "diff, hstack, vstack",
        &[(&[3, 4], R), (&[4], R)],
        |x| {
            flat(&[
                kiln::diff(&x[0], 2, 1)?,
                kiln::hstack(&[&x[1], &x[1]])?,
                kiln::vstack(&[&x[0], &x[1]])?,
            ])
        },
    ));
    out.push(case("meshgrid", &[(&[3], R), (&[2], R)], |x| {
        let grids = kiln::meshgrid(&[&x[0], &x[1]], false)?;
        flat(&[kiln::multiply(&grids[0], &grids[1])?])
    }));
    out.push(case("pad", &[(&[2, 3], R)], |x| {
        kiln::pad(&x[0], &[(1, 0), (2, 1)], 3.0)
    }));
    out.push(case("take", &[(&[4, 3], R)], |x| {
        let idx = Array::from_slice(&[3i32, 0, 3, 1, 2], &[5]).unwrap();
        kiln::take(&x[0], &idx, Some(0))
    }));
    out.push(case("take_along_axis", &[(&[3, 4], R)], |x| {
        let idx = Array::from_slice(&[0i32, 3, 3, 2, 1, 1], &[3, 2]).unwrap();
        kiln::take_along_axis(&x[0], &idx, 1)
    }));
    out.push(case("scatter_add", &[(&[3, 4], R), (&[3, 2], R)], |x| {
        let idx = Array::from_slice(&[0i32, 3, 3, 3, 1, 0], &[3, 2]).unwrap();
        kiln::scatter_add(&x[0], &idx, &x[1], 1)
    }));
    out.push(case("matmul", &[(&[2, 3, 4], R), (&[4, 2], R)], |x| {
        kiln::matmul(&x[0], &x[1])
    }));
    out.push(case(
        "matmul batched",
        &[(&[3, 2], R), (&[2, 2, 4], R)],
        |x| kiln::matmul(&x[0], &x[1]),
    ));
    out.push(case("matmul vector", &[(&[4], R), (&[4, 3], R)], |x| {
        kiln::matmul(&x[0], &x[1])
    }));
    out.push(case("sort", &[(&[3, 5], Domain::Spaced)], |x| {
        kiln::sort(&x[0], Some(1))
    }));
    // Finite differences see through stop_gradient; its rule is checked
    // exactly in `stop_gradient_custom_vjp_and_checkpoint`.
    let mut c = case("stop_gradient", &[(&[4], R)], |x| {
        kiln::multiply(&x[0], &kiln::stop_gradient(&kiln::exp(&x[0])?))
    });
    c.smooth = false;
    out.push(c);
    out.push(case("softmax", &[(&[2, 5], R)], |x| {
        kiln::softmax(&x[0], Axes::from(-1))
    }));
    out.push(case("layer_norm", &[(&[2, 5], R), (&[5], R)], |x| {
        kiln::nn::layer_norm(&x[0], Some(&x[1]), None, 1e-5)
    }));
    out.push(case("rms_norm", &[(&[3, 4], R)], |x| {
        kiln::nn::rms_norm(&x[0], None, 1e-5)
    }));
    // The normalisations' gradients are kernels of their own, whose rules
    // differentiate the composed derivative.
    for rms in [false, true] {
        let name = if rms {
            "rms_norm gradient"
        } else {
            "layer_norm gradient"
        };
        out.push(case(name, &[(&[2, 5], R), (&[2, 5], R)], move |x| {
            let weights = x[1].clone();
            kiln::grad(move |y: &Array| {
                let normed = if rms {
                    kiln::nn::rms_norm(y, None, 1e-5)?
                } else {
                    kiln::nn::layer_norm(y, None, None, 1e-5)?
                };
                kiln::sum(&kiln::multiply(&normed, &weights)?, Axes::All, false)
            })(&x[0])
        }));
    }
    // Attention is one kernel (a causal one with an additive mask here),
    // and so are its queries' and its keys' gradients, whose rules
    // differentiate the composed derivative.
    let attention_shapes: [(&[usize], Domain); 4] = [
        (&[2, 3, 4], R),
        (&[2, 5, 4], R),
        (&[2, 5, 3], R),
        (&[3, 5], R),
    ];
    out.push(case("attention", &attention_shapes, |x| {
        kiln::nn::scaled_dot_product_attention(&x[0], &x[1], &x[2], None, Some(&x[3]), true)
    }));
    for (name, wrt) in [
        ("attention gradient (queries)", 0),
        ("attention gradient (keys)", 1),
    ] {
        out.push(case(name, &attention_shapes, move |x| {
            let (at, x) = (x[wrt].clone(), x.to_vec());
            let weights =
                kiln::cos(&kiln::arange(0.0, 6.0, 1.0, DType::F32)?.reshape(&[2, 1, 3])?)?;
            kiln::grad(move |y: &Array| {
                let mut args = x.clone();
                args[wrt] = y.clone();
                let out = kiln::nn::scaled_dot_product_attention(
                    &args[0],
                    &args[1],
                    &args[2],
                    None,
                    Some(&args[3]),
                    true,
                )?;
                kiln::sum(&kiln::multiply(&out, &weights)?, Axes::All, false)
            })(&at)
        }));
    }
    // The global norm of gradient clipping: one kernel over several arrays.
    out.push(case(
        "clip_grad_norm",
        &[(&[2, 3], R), (&[4], R), (&[], R)],
        |x| {
            let grads: kiln::nn::Params = ["a", "b", "c"]
                .into_iter()
                .map(String::from)
                .zip(x.iter().cloned())
                .collect();
            Ok(kiln::optimizers::clip_grad_norm(&grads, 1.0)?.1)
        },
    ));
    out.push(case("logsumexp", &[(&[2, 5], R)], |x| {
        kiln::logsumexp(&x[0], Axes::from(1), false)
    }));
    out.push(case("custom_vjp", &[(&[4], R)], |x| {
        let f = kiln::custom_vjp(
            |a: &[Array]| kiln::sin(&a[0]),
            |a, _, ct| Ok(vec![kiln::multiply(ct, &kiln::cos(&a[0])?)?]),
        );
        f(&[x[0].clone()])
    }));
    out.push(case("fused by compile", &[(&[2, 3], R), (&[3], R)], |x| {
        let f = kiln::compile(|a: &[Array]| {
            let t = kiln::tanh(&kiln::add(&a[0], &kiln::multiply(&a[1], &a[1])?)?)?;
            Ok(vec![kiln::multiply(&t, &kiln::sigmoid(&a[0])?)?])
        });
        Ok(f(x)?.remove(0))
    }));
    out.push(case("checkpoint", &[(&[4], R), (&[4], R)], |x| {
        let f = kiln::checkpoint(|a: &[Array]| kiln::tanh(&kiln::multiply(&a[0], &a[1])?));
        f(x)
    }));
    out.extend(linalg_cases());
    // Ops added to the tables later.
    out.extend(UnaryOp::ALL[FIRST_UNARY..].iter().map(|&op| unary_case(op)));
    out.push(binary_case("logaddexp", R, R));
    out.push(binary_case("hypot", R, pos));
    out.push(binary_case("copysign", pos, Domain::Range(-2.0, -0.5)));
    out
}

/// `x + shift * I`: well away from singular for entries in [-1.5, 1.5].
fn shifted(x: &Array, shift: f32) -> Result<Array> {
    let n = x.shape()[x.ndim() - 1];
    kiln::add(
        x,
        &kiln::multiply(&kiln::eye(n, None, 0, DType::F32)?, &Array::scalar(shift))?,
    )
}

fn flat(parts: &[Array]) -> Result<Array> {
    let flats = parts
        .iter()
        .map(kiln::flatten)
        .collect::<Result<Vec<_>>>()?;
    kiln::concatenate(&flats.iter().collect::<Vec<_>>(), 0)
}

/// Functions of every linear-algebra primitive. Factors whose signs are a
/// convention (eigenvectors, singular vectors) enter squared.
fn linalg_cases() -> Vec<Case> {
    use kiln::linalg::{self, QrMode, Triangular};
    let sq = |x: &Array| kiln::multiply(x, x);
    vec![
        case("linalg.solve", &[(&[4, 4], R), (&[4, 2], R)], |x| {
            linalg::solve(&shifted(&x[0], 5.0)?, &x[1])
        }),
        case("linalg.inv", &[(&[3, 3], R)], |x| {
            linalg::inv(&shifted(&x[0], 4.0)?)
        }),
        case("linalg.det", &[(&[3, 3], R)], |x| linalg::det(&x[0])),
        case("linalg.slogdet", &[(&[3, 3], R)], |x| {
            Ok(linalg::slogdet(&shifted(&x[0], 4.0)?)?.1)
        }),
        case("linalg.lu", &[(&[4, 4], R)], |x| {
            let (_, l, u) = linalg::lu(&x[0])?;
            flat(&[l, u])
        }),
        case(
            "linalg.solve_triangular",
            &[(&[4, 4], R), (&[4, 3], R)],
            |x| {
                let lower =
                    linalg::solve_triangular(&shifted(&x[0], 4.0)?, &x[1], Triangular::lower())?;
                let upper =
                    linalg::solve_triangular(&x[0], &x[1], Triangular::upper().unit_diagonal())?;
                let right = linalg::solve_triangular(
                    &shifted(&x[0], 4.0)?,
                    &kiln::transpose(&x[1], &[1, 0])?,
                    Triangular::upper().right(),
                )?;
                flat(&[lower, upper, right])
            },
        ),
        case("linalg.cholesky", &[(&[4, 4], R)], |x| {
            let a = kiln::matmul(&x[0], &kiln::transpose(&x[0], &[1, 0])?)?;
            linalg::cholesky(&shifted(&a, 2.0)?, false)
        }),
        case("linalg.qr", &[(&[5, 3], R)], |x| {
            let (q, r) = linalg::qr(&x[0], QrMode::Reduced)?;
            flat(&[q, r])
        }),
        case("linalg.qr wide", &[(&[3, 5], R)], |x| {
            let (q, r) = linalg::qr(&x[0], QrMode::Reduced)?;
            flat(&[q, r])
        }),
        case("linalg.eigh", &[(&[4, 4], R)], move |x| {
            let (w, v) = linalg::eigh(&x[0])?;
            flat(&[w, sq(&v)?])
        }),
        case("linalg.svd", &[(&[4, 3], R)], move |x| {
            let (u, s, vh) = linalg::svd(&x[0], false)?;
            flat(&[s, sq(&u)?, sq(&vh)?])
        }),
        case("linalg.svd wide", &[(&[2, 4], R)], move |x| {
            let (u, s, vh) = linalg::svd(&x[0], false)?;
            flat(&[s, sq(&u)?, sq(&vh)?])
        }),
        case("linalg.pinv", &[(&[4, 3], R)], |x| {
            linalg::pinv(&x[0], None)
        }),
        case("linalg.lstsq", &[(&[5, 3], R), (&[5], R)], |x| {
            Ok(linalg::lstsq(&x[0], &x[1], None)?.solution)
        }),
    ]
}

fn inputs_of(c: &Case, seed: u64) -> Vec<Array> {
    c.inputs
        .iter()
        .enumerate()
        .map(|(k, (shape, d))| draw(seed + 7 * k as u64, shape, *d))
        .collect()
}

/// <w, f(x)> for fixed weights `w`.
fn weighted(c: &Case, w: &Array, x: &[Array]) -> f64 {
    let y = (c.f)(x).unwrap();
    dot(&read_f64(&y), &read_f64(w))
}

#[test]
fn vjp_matches_finite_differences() {
    for (n, c) in cases().iter().enumerate().filter(|(_, c)| c.smooth) {
        let x = inputs_of(c, 100 + n as u64);
        let y = (c.f)(&x).unwrap();
        let w = draw(200 + n as u64, y.shape(), R);
        let (_, grads) = kiln::vjp(|xs| Ok(vec![(c.f)(xs)?]), &x, &[w.clone()]).unwrap();
        let v: Vec<Array> = x
            .iter()
            .enumerate()
            .map(|(k, xi)| draw(300 + n as u64 + k as u64, xi.shape(), R))
            .collect();
        let ad: f64 = grads
            .iter()
            .zip(&v)
            .map(|(g, vi)| dot(&read_f64(g), &read_f64(vi)))
            .sum();
        // Central differences along v with step h: truncation ~h², rounding
        // ~ε·Σ|w·f|/h; h = 1e-2 balances them for float32.
        let h = 1e-2;
        let shifted = |sign: f64| -> Vec<Array> {
            x.iter()
                .zip(&v)
                .map(|(xi, vi)| {
                    let step = kiln::multiply(vi, &Array::scalar((sign * h) as f32)).unwrap();
                    kiln::add(xi, &step).unwrap()
                })
                .collect()
        };
        let fd = (weighted(c, &w, &shifted(1.0)) - weighted(c, &w, &shifted(-1.0))) / (2.0 * h);
        let scale: f64 = read_f64(&y)
            .iter()
            .zip(read_f64(&w))
            .map(|(a, b)| (a * b).abs())
            .sum();
        let tol = 1e-2 * ad.abs().max(fd.abs()) + 1e-3 * scale + 1e-4;
        assert!(
            (ad - fd).abs() <= tol,
            "{}: vjp gives {ad}, finite differences {fd} (tolerance {tol})",
            c.name
        );
    }
}

#[test]
fn jvp_agrees_with_vjp() {
    for (n, c) in cases().iter().enumerate() {
        let x = inputs_of(c, 400 + n as u64);
        let v: Vec<Array> = x
            .iter()
            .enumerate()
            .map(|(k, xi)| draw(500 + n as u64 + k as u64, xi.shape(), R))
            .collect();
        let (outs, tangents) = kiln::jvp(|xs| Ok(vec![(c.f)(xs)?]), &x, &v).unwrap();
        let w = draw(600 + n as u64, outs[0].shape(), R);
        let (_, grads) = kiln::vjp(|xs| Ok(vec![(c.f)(xs)?]), &x, &[w.clone()]).unwrap();
        let lhs = dot(&read_f64(&w), &read_f64(&tangents[0]));
        let rhs: f64 = grads
            .iter()
            .zip(&v)
            .map(|(g, vi)| dot(&read_f64(g), &read_f64(vi)))
            .sum();
        assert!(
            (lhs - rhs).abs() <= 1e-4 * (1.0 + lhs.abs().max(rhs.abs())),
            "{}: <w, J v> = {lhs} but <Jᵀ w, v> = {rhs}",
            c.name
        );
        assert_close(
            &format!("{}: jvp's primal output", c.name),
            &read_f64(&outs[0]),
            &read_f64(&(c.f)(&x).unwrap()),
            1e-6,
            1e-6,
        );
    }
}

/// `x` with a batch axis of `size` at `axis`, each slice a different draw.
fn batched(shape: &[usize], domain: Domain, size: usize, axis: usize, seed: u64) -> Array {
    let slices: Vec<Array> = (0..size)
        .map(|b| draw(seed + 13 * b as u64, shape, domain))
        .collect();
    kiln::stack(&slices.iter().collect::<Vec<_>>(), axis as i32).unwrap()
}

#[test]
fn vmap_matches_a_loop() {
    let size = 3;
    for (n, c) in cases().iter().enumerate() {
        // Map the first input along its last axis, the second (if any)
        // along axis 0, and pass a third whole.
        let mut args = Vec::new();
        let mut axes = Vec::new();
        for (k, (shape, d)) in c.inputs.iter().enumerate() {
            let seed = 700 + 31 * n as u64 + k as u64;
            match k {
                0 => {
                    args.push(batched(shape, *d, size, shape.len(), seed));
                    axes.push(Some(-1));
                }
                1 if n % 2 == 0 => {
                    args.push(batched(shape, *d, size, 0, seed));
                    axes.push(Some(0));
                }
                _ => {
                    args.push(draw(seed, shape, *d));
                    axes.push(None);
                }
            }
        }
        let f = |xs: &[Array]| Ok(vec![(c.f)(xs)?]);
        let got = kiln::vmap_n(f, &axes, &[0])(&args).unwrap();
        let mut want = Vec::new();
        for b in 0..size {
            let slice: Vec<Array> = args
                .iter()
                .zip(&axes)
                .map(|(a, ax)| match ax {
                    Some(ax) => kiln::index_axis(a, *ax, b as i64).unwrap(),
                    None => a.clone(),
                })
                .collect();
            want.push((c.f)(&slice).unwrap());
        }
        let want = kiln::stack(&want.iter().collect::<Vec<_>>(), 0).unwrap();
        assert_eq!(got[0].shape(), want.shape(), "{}: vmap shape", c.name);
        assert_close(
            &format!("{}: vmap", c.name),
            &read_f64(&got[0]),
            &read_f64(&want),
            1e-5,
            1e-5,
        );
    }
}

#[test]
fn nested_vmap_matches_a_double_loop() {
    let (outer, inner) = (2, 3);
    for (n, c) in cases().iter().enumerate() {
        let (shape, d) = &c.inputs[0];
        let rows: Vec<Array> = (0..outer)
            .map(|o| batched(shape, *d, inner, 0, 900 + 17 * n as u64 + o as u64))
            .collect();
        let x = kiln::stack(&rows.iter().collect::<Vec<_>>(), 0).unwrap();
        let rest: Vec<Array> = c.inputs[1..]
            .iter()
            .enumerate()
            .map(|(k, (s, d))| draw(950 + n as u64 + k as u64, s, *d))
            .collect();
        let call = |first: &Array| {
            let mut xs = vec![first.clone()];
            xs.extend(rest.iter().cloned());
            (c.f)(&xs)
        };
        let got = kiln::vmap(kiln::vmap(call))(&x).unwrap();
        let mut want = Vec::new();
        for o in 0..outer {
            for i in 0..inner {
                let xi = kiln::index_axis(&kiln::index_axis(&x, 0, o as i64).unwrap(), 0, i as i64);
                want.push(call(&xi.unwrap()).unwrap());
            }
        }
        let want = kiln::stack(&want.iter().collect::<Vec<_>>(), 0).unwrap();
        assert_close(
            &format!("{}: vmap of vmap", c.name),
            &read_f64(&got),
            &read_f64(&want),
            1e-5,
            1e-5,
        );
        assert_eq!(&got.shape()[..2], &[outer, inner], "{}", c.name);
    }
}

#[test]
fn every_primitive_has_checked_rules() {
    // Run every check on this thread, then ask which rules ran.
    vjp_matches_finite_differences();
    jvp_agrees_with_vjp();
    vmap_matches_a_loop();
    vmap_of_random_over_keys();
    let used: BTreeSet<(&str, &str)> = kiln::transforms::rules_used().into_iter().collect();
    // Sources have no inputs to transform; integer-valued primitives
    // never receive a cotangent, and threefry never a tangent.
    let sources = ["constant", "arange", "full", "placeholder"];
    let mut missing = Vec::new();
    for &kind in kiln::primitive::Primitive::KINDS {
        if sources.contains(&kind) {
            continue;
        }
        for transform in ["vjp", "jvp", "vmap"] {
            let exempt = match transform {
                "vjp" => ["argsort", "threefry2x32"].contains(&kind),
                "jvp" => kind == "threefry2x32",
                _ => false,
            };
            if !exempt && !used.contains(&(transform, kind)) {
                missing.push(format!("{transform} of {kind}"));
            }
        }
    }
    assert!(missing.is_empty(), "rules never checked: {missing:?}");
    // Every elementwise op is a case of its own.
    let names: BTreeSet<String> = cases().into_iter().map(|c| c.name).collect();
    for op in UnaryOp::ALL {
        assert!(names.contains(op.name()), "no case for {}", op.name());
    }
}

#[test]
fn vmap_of_random_over_keys() {
    let keys = kiln::random::split(&kiln::random::key(3), 4).unwrap();
    let draws = kiln::vmap(|k: &Array| kiln::random::normal(k, &[5], DType::F32))(&keys).unwrap();
    assert_eq!(draws.shape(), &[4, 5]);
    for b in 0..4 {
        let k = kiln::index_axis(&keys, 0, b).unwrap();
        let want = kiln::random::normal(&k, &[5], DType::F32).unwrap();
        let got = kiln::index_axis(&draws, 0, b).unwrap();
        assert_close(
            "normal under vmap",
            &read_f64(&got),
            &read_f64(&want),
            0.0,
            0.0,
        );
    }
}

#[test]
fn vmap_with_batched_indices() {
    let x = f32s(&uniform(1, 12, -1.0, 1.0), &[3, 4]);
    let idx = Array::from_slice(&[0i32, 3, 1, 1, 2, 0], &[3, 2]).unwrap();
    let pick = kiln::vmap_n(
        |a: &[Array]| Ok(vec![kiln::take(&a[0], &a[1], Some(0))?]),
        &[None, Some(0)],
        &[0],
    );
    let got = pick(&[x.clone(), idx.clone()]).unwrap();
    let want = kiln::take(&x, &idx, Some(0)).unwrap();
    assert_close(
        "take under vmap",
        &read_f64(&got[0]),
        &read_f64(&want),
        0.0,
        0.0,
    );
}

fn tanh_second(x: f64) -> f64 {
    let t = x.tanh();
    -2.0 * t * (1.0 - t * t)
}

#[test]
fn grad_of_grad_of_tanh() {
    let xs = [-2.0, -0.5, 0.0, 0.3, 1.7];
    let x = f32s(&xs, &[5]);
    let sum_of =
        |f: fn(&Array) -> Result<Array>| move |x: &Array| kiln::sum(&f(x)?, Axes::All, false);
    let d1 = kiln::grad(sum_of(kiln::tanh));
    let d2 = kiln::grad(move |x: &Array| kiln::sum(&d1(x)?, Axes::All, false));
    let d1_again = kiln::grad(sum_of(kiln::tanh));
    let want1: Vec<f64> = xs.iter().map(|x| 1.0 - x.tanh().powi(2)).collect();
    let want2: Vec<f64> = xs.iter().map(|&x| tanh_second(x)).collect();
    assert_close(
        "tanh'",
        &read_f64(&d1_again(&x).unwrap()),
        &want1,
        1e-5,
        1e-6,
    );
    assert_close("tanh''", &read_f64(&d2(&x).unwrap()), &want2, 1e-4, 1e-5);
    // Third order, through the same rules.
    let d2b = kiln::grad(move |x: &Array| {
        kiln::sum(&kiln::grad(sum_of(kiln::tanh))(x)?, Axes::All, false)
    });
    let d3 = kiln::grad(move |x: &Array| kiln::sum(&d2b(x)?, Axes::All, false));
    let want3: Vec<f64> = xs
        .iter()
        .map(|&x| {
            let t = x.tanh();
            -2.0 * (1.0 - t * t) * (1.0 - 3.0 * t * t)
        })
        .collect();
    assert_close("tanh'''", &read_f64(&d3(&x).unwrap()), &want3, 1e-3, 1e-4);
}

fn rosenbrock(x: &Array) -> Result<Array> {
    let n = x.shape()[0] as i64;
    let head = kiln::slice(x, &[s(None, Some(n - 1), None)])?;
    let tail = kiln::slice(x, &[s(Some(1), None, None)])?;
    let a = kiln::subtract(&tail, &kiln::square(&head)?)?;
    let b = kiln::subtract(&Array::scalar(1.0f32), &head)?;
    let terms = kiln::add(
        &kiln::multiply(&Array::scalar(100.0f32), &kiln::square(&a)?)?,
        &kiln::square(&b)?,
    )?;
    kiln::sum(&terms, Axes::All, false)
}

#[test]
fn hessian_of_rosenbrock() {
    let xs = [0.5, -0.3, 1.2, 0.8];
    let n = xs.len();
    let h = kiln::hessian(rosenbrock)(&f32s(&xs, &[n])).unwrap();
    assert_eq!(h.shape(), &[n, n]);
    // Analytic: ∂²/∂x_i² = 1200x_i² - 400x_{i+1} + 2 (i < n-1), + 200 (i > 0);
    // ∂²/∂x_i∂x_{i+1} = -400x_i.
    let mut want = vec![0.0; n * n];
    for i in 0..n {
        if i + 1 < n {
            want[i * n + i] += 1200.0 * xs[i] * xs[i] - 400.0 * xs[i + 1] + 2.0;
            want[i * n + i + 1] = -400.0 * xs[i];
            want[(i + 1) * n + i] = -400.0 * xs[i];
        }
        if i > 0 {
            want[i * n + i] += 200.0;
        }
    }
    assert_close("hessian of rosenbrock", &read_f64(&h), &want, 1e-4, 1e-3);
    let by_reverse = kiln::jacobian(kiln::jacobian(rosenbrock))(&f32s(&xs, &[n])).unwrap();
    assert_close(
        "jacrev of jacrev",
        &read_f64(&by_reverse),
        &want,
        1e-4,
        1e-3,
    );
}

/// A 3-4-2 tanh MLP's squared loss on a fixed batch, as a function of all
/// parameters packed in one vector (3·4 + 4 + 4·2 + 2 = 26).
fn mlp_loss(p: &Array) -> Result<Array> {
    let take = |start: i64, len: i64, shape: &[i64]| {
        kiln::slice(p, &[s(Some(start), Some(start + len), None)])?.reshape(shape)
    };
    let (w1, b1) = (take(0, 12, &[3, 4])?, take(12, 4, &[4])?);
    let (w2, b2) = (take(16, 8, &[4, 2])?, take(24, 2, &[2])?);
    let x = f32s(&uniform(5, 15, -1.0, 1.0), &[5, 3]);
    let target = f32s(&uniform(6, 10, -1.0, 1.0), &[5, 2]);
    let hidden = kiln::tanh(&kiln::add(&kiln::matmul(&x, &w1)?, &b1)?)?;
    let out = kiln::add(&kiln::matmul(&hidden, &w2)?, &b2)?;
    kiln::mean(
        &kiln::square(&kiln::subtract(&out, &target)?)?,
        Axes::All,
        false,
    )
}

#[test]
fn hessian_of_an_mlp_loss_matches_differences_of_its_gradient() {
    let n = 26;
    let p0 = uniform(9, n, -0.8, 0.8);
    let h = kiln::hessian(mlp_loss)(&f32s(&p0, &[n])).unwrap();
    assert_eq!(h.shape(), &[n, n]);
    let h = read_f64(&h);
    let grad = kiln::grad(mlp_loss);
    // Column j ≈ (∇L(p + e_j s) - ∇L(p - e_j s)) / 2s.
    let step = 1e-2;
    for j in [0, 5, 13, 17, 25] {
        let shifted = |sign: f64| {
            let mut p = p0.clone();
            p[j] += sign * step;
            read_f64(&grad(&f32s(&p, &[n])).unwrap())
        };
        let (up, down) = (shifted(1.0), shifted(-1.0));
        let fd: Vec<f64> = up
            .iter()
            .zip(&down)
            .map(|(a, b)| (a - b) / (2.0 * step))
            .collect();
        let column: Vec<f64> = (0..n).map(|i| h[i * n + j]).collect();
        assert_close(&format!("hessian column {j}"), &column, &fd, 2e-2, 2e-3);
    }
    // Symmetric, as a Hessian must be.
    for i in 0..n {
        for j in 0..i {
            assert!(
                (h[i * n + j] - h[j * n + i]).abs() < 1e-4,
                "H[{i},{j}] != H[{j},{i}]"
            );
        }
    }
}

#[test]
fn jacobian_of_softmax_is_diag_minus_outer() {
    let xs = [0.3, -1.2, 2.0, 0.0, 0.7];
    let x = f32s(&xs, &[5]);
    let softmax = |x: &Array| kiln::softmax(x, Axes::from(0));
    let e: Vec<f64> = xs.iter().map(|v| v.exp()).collect();
    let total: f64 = e.iter().sum();
    let p: Vec<f64> = e.iter().map(|v| v / total).collect();
    let mut want = vec![0.0; 25];
    for i in 0..5 {
        for j in 0..5 {
            want[i * 5 + j] = if i == j { p[i] } else { 0.0 } - p[i] * p[j];
        }
    }
    let rev = kiln::jacobian(softmax)(&x).unwrap();
    let fwd = kiln::jacfwd(softmax)(&x).unwrap();
    assert_close("jacrev of softmax", &read_f64(&rev), &want, 1e-5, 1e-6);
    assert_close("jacfwd of softmax", &read_f64(&fwd), &want, 1e-5, 1e-6);
}

#[test]
fn jacobian_shapes_follow_output_then_input() {
    let x = f32s(&uniform(2, 6, -1.0, 1.0), &[2, 3]);
    let f = |x: &Array| kiln::sum(&kiln::sin(x)?, Axes::from(0), false);
    let rev = kiln::jacobian(f)(&x).unwrap();
    let fwd = kiln::jacfwd(f)(&x).unwrap();
    assert_eq!(rev.shape(), &[3, 2, 3]);
    assert_close(
        "jacrev vs jacfwd",
        &read_f64(&rev),
        &read_f64(&fwd),
        1e-6,
        1e-6,
    );
}

#[test]
fn grad_n_picks_arguments_and_value_and_grad_returns_the_value() {
    let w = f32s(&[1.0, -2.0], &[2]);
    let x = f32s(&[3.0, 0.5], &[2]);
    let loss = |p: &[Array]| {
        kiln::sum(
            &kiln::multiply(&kiln::square(&p[0])?, &p[1])?,
            Axes::All,
            false,
        )
    };
    let g = kiln::grad_n(loss, &[1, 0])(&[w.clone(), x.clone()]).unwrap();
    assert_close("d/dx", &read_f64(&g[0]), &[1.0, 4.0], 0.0, 0.0);
    assert_close("d/dw", &read_f64(&g[1]), &[6.0, -2.0], 0.0, 0.0);
    let (value, grads) = kiln::value_and_grad_n(loss, &[0])(&[w, x]).unwrap();
    assert_close("value", &read_f64(&value), &[5.0], 0.0, 0.0);
    assert_eq!(grads.len(), 1);
    let (v, g) = kiln::value_and_grad(|x: &Array| kiln::sum(&kiln::exp(x)?, Axes::All, false))(
        &Array::scalar(0.0f32),
    )
    .unwrap();
    assert_eq!(
        (v.item::<f32>().unwrap(), g.item::<f32>().unwrap()),
        (1.0, 1.0)
    );
}

#[test]
fn vmap_of_grad_and_grad_of_vmap() {
    let x = f32s(&uniform(4, 6, -1.0, 1.0), &[3, 2]);
    let f = |x: &Array| kiln::sum(&kiln::sin(&kiln::square(x)?)?, Axes::All, false);
    let per_row = kiln::vmap(kiln::grad(f))(&x).unwrap();
    let whole = kiln::grad(f)(&x).unwrap();
    assert_close(
        "vmap(grad)",
        &read_f64(&per_row),
        &read_f64(&whole),
        1e-6,
        1e-6,
    );
    let total =
        kiln::grad(|x: &Array| kiln::sum(&kiln::vmap(f)(x)?, Axes::All, false))(&x).unwrap();
    assert_close(
        "grad(vmap)",
        &read_f64(&total),
        &read_f64(&whole),
        1e-6,
        1e-6,
    );
}

#[test]
fn stop_gradient_custom_vjp_and_checkpoint() {
    let x = f32s(&[0.5, -1.0, 2.0], &[3]);
    // d/dx [x · sg(x)] = sg(x) = x.
    let g = kiln::grad(|x: &Array| {
        kiln::sum(
            &kiln::multiply(x, &kiln::stop_gradient(x))?,
            Axes::All,
            false,
        )
    })(&x)
    .unwrap();
    assert_close("stop_gradient", &read_f64(&g), &[0.5, -1.0, 2.0], 0.0, 0.0);
    // A custom rule replaces the derivative: here, twice the true one.
    let doubled = kiln::custom_vjp(
        |a: &[Array]| kiln::square(&a[0]),
        |a, _, ct| {
            Ok(vec![kiln::multiply(
                ct,
                &kiln::multiply(&a[0], &Array::scalar(4.0f32))?,
            )?])
        },
    );
    let g = kiln::grad(move |x: &Array| kiln::sum(&doubled(&[x.clone()])?, Axes::All, false))(&x)
        .unwrap();
    assert_close("custom_vjp", &read_f64(&g), &[2.0, -4.0, 8.0], 0.0, 0.0);
    // Checkpointing gives the same gradient and recomputes the forward pass.
    let body = |a: &[Array]| {
        kiln::sum(
            &kiln::exp(&kiln::sin(&kiln::cos(&a[0])?)?)?,
            Axes::All,
            false,
        )
    };
    let plain = kiln::value_and_grad(body_one(body));
    let saved = kiln::checkpoint(body);
    let remat = kiln::value_and_grad(move |x: &Array| saved(&[x.clone()]));
    let before = kiln::dispatch_count();
    let (v_plain, g_plain) = plain(&x).unwrap();
    kiln::eval(&[&v_plain, &g_plain]).unwrap();
    let plain_dispatches = kiln::dispatch_count() - before;
    let before = kiln::dispatch_count();
    let (v_remat, g_remat) = remat(&x).unwrap();
    kiln::eval(&[&v_remat, &g_remat]).unwrap();
    let remat_dispatches = kiln::dispatch_count() - before;
    assert_close(
        "checkpoint value",
        &read_f64(&v_remat),
        &read_f64(&v_plain),
        0.0,
        0.0,
    );
    assert_close(
        "checkpoint",
        &read_f64(&g_remat),
        &read_f64(&g_plain),
        1e-6,
        1e-6,
    );
    assert!(
        remat_dispatches > plain_dispatches,
        "the checkpointed gradient should recompute the forward pass ({remat_dispatches} vs {plain_dispatches} kernels)"
    );
}

fn body_one(f: fn(&[Array]) -> Result<Array>) -> impl Fn(&Array) -> Result<Array> {
    move |x: &Array| f(std::slice::from_ref(x))
}

#[test]
fn casts_pass_cotangents_through() {
    let x = f32s(&[0.25, -1.5, 3.0], &[3]);
    let w = f32s(&[1.0, 2.0, -0.5], &[3]);
    let (_, g) = kiln::vjp(
        |xs| Ok(vec![xs[0].astype(DType::F16)?.astype(DType::F32)?]),
        &[x.clone()],
        &[w.clone()],
    )
    .unwrap();
    assert_close("vjp of astype", &read_f64(&g[0]), &read_f64(&w), 0.0, 0.0);
    let (_, t) = kiln::jvp(|xs| Ok(vec![xs[0].astype(DType::F16)?]), &[x], &[w.clone()]).unwrap();
    assert_eq!(t[0].dtype(), DType::F16);
    assert_close("jvp of astype", &read_f64(&t[0]), &read_f64(&w), 0.0, 0.0);
}

#[test]
fn integer_paths_carry_no_derivative() {
    let x = f32s(&[0.3, 2.0, -1.0, 0.9], &[4]);
    // The sort's permutation is a constant: d/dx Σ w·sort(x) = w, permuted back.
    let w = f32s(&[1.0, 2.0, 3.0, 4.0], &[4]);
    let w2 = w.clone();
    let g = kiln::grad(move |x: &Array| {
        kiln::sum(
            &kiln::multiply(&kiln::sort(x, Some(0))?, &w2)?,
            Axes::All,
            false,
        )
    })(&x)
    .unwrap();
    assert_close(
        "grad of sort",
        &read_f64(&g),
        &[2.0, 4.0, 1.0, 3.0],
        0.0,
        0.0,
    );
    // Rounding and casts through integers have zero derivative.
    let g = kiln::grad(|x: &Array| {
        let through_int = x.astype(DType::I32)?.astype(DType::F32)?;
        kiln::sum(
            &kiln::add(&through_int, &kiln::floor(x)?)?,
            Axes::All,
            false,
        )
    })(&x)
    .unwrap();
    assert_close("grad through int", &read_f64(&g), &[0.0; 4], 0.0, 0.0);
}

#[test]
fn transforms_reject_bad_arguments() {
    let x = f32s(&[1.0, 2.0], &[2]);
    let loss = |p: &[Array]| kiln::sum(&p[0], Axes::All, false);
    let message = |r: Result<Vec<Array>>| r.unwrap_err().to_string();
    let m = message(kiln::grad_n(loss, &[1])(&[x.clone()]));
    assert!(m.contains("grad") && m.contains("argument 1"), "{m}");
    let m = message(kiln::grad_n(loss, &[0, 0])(&[x.clone()]));
    assert!(m.contains("twice"), "{m}");
    let m = message(kiln::grad_n(loss, &[])(&[x.clone()]));
    assert!(m.contains("empty"), "{m}");
    let ints = Array::from_slice(&[1i32, 2], &[2]).unwrap();
    let m = kiln::grad(|a: &Array| kiln::sum(a, Axes::All, false))(&ints)
        .unwrap_err()
        .to_string();
    assert!(m.contains("int32") && m.contains("differentiate"), "{m}");
    let m = kiln::grad(|a: &Array| kiln::sin(a))(&x)
        .unwrap_err()
        .to_string();
    assert!(m.contains("scalar"), "{m}");
    let f = |xs: &[Array]| Ok(vec![kiln::sin(&xs[0])?]);
    let wrong = f32s(&[1.0, 2.0, 3.0], &[3]);
    let m = kiln::vjp(f, &[x.clone()], &[wrong.clone()])
        .unwrap_err()
        .to_string();
    assert!(
        m.contains("vjp") && m.contains("cotangent 0 has shape (3,)"),
        "{m}"
    );
    let m = kiln::vjp(f, &[x.clone()], &[]).unwrap_err().to_string();
    assert!(m.contains("0 cotangents for 1 outputs"), "{m}");
    let m = kiln::jvp(f, &[x.clone()], &[wrong])
        .unwrap_err()
        .to_string();
    assert!(m.contains("jvp") && m.contains("tangent 0"), "{m}");
    let m = message(kiln::vmap_n(f, &[Some(1)], &[0])(&[x.clone()]));
    assert!(m.contains("in_axes[0] = 1 is out of range"), "{m}");
    let m = message(kiln::vmap_n(f, &[Some(0)], &[2])(&[x.clone()]));
    assert!(m.contains("out_axes[0] = 2 is out of range"), "{m}");
    let m = message(kiln::vmap_n(f, &[Some(0), Some(0)], &[0])(&[
        x.clone(),
        wrong_size(),
    ]));
    assert!(m.contains("size 3") && m.contains("size 2"), "{m}");
    let m = message(kiln::vmap_n(f, &[None], &[0])(&[x.clone()]));
    assert!(m.contains("maps no argument"), "{m}");
    let m = message(kiln::vmap_n(f, &[Some(0), None], &[0])(&[x.clone()]));
    assert!(m.contains("in_axes has 2 entries"), "{m}");
    // Reading values inside a mapped function cannot work.
    let m = kiln::vmap(|r: &Array| {
        let v = r.to_vec::<f32>()?;
        Ok(Array::scalar(v[0]))
    })(&x)
    .unwrap_err()
    .to_string();
    assert!(m.contains("cannot branch on"), "{m}");
}

fn wrong_size() -> Array {
    f32s(&[1.0, 2.0, 3.0], &[3])
}

#[test]
fn custom_rules_must_take_traced_arrays_as_arguments() {
    let x = f32s(&[1.0, 2.0], &[2]);
    let w = f32s(&[3.0, -1.0], &[2]);
    // `w` is differentiated, but the checkpointed function only captures it.
    let m = kiln::grad(|w: &Array| {
        let captured = w.clone();
        let block = kiln::checkpoint(move |a: &[Array]| kiln::multiply(&a[0], &captured));
        kiln::sum(&block(&[x.clone()])?, Axes::All, false)
    })(&w)
    .unwrap_err()
    .to_string();
    assert!(
        m.contains("custom_vjp") && m.contains("as an argument"),
        "{m}"
    );
    // Taking it as an argument works.
    let g = kiln::grad(|w: &Array| {
        let block = kiln::checkpoint(|a: &[Array]| kiln::multiply(&a[0], &a[1]));
        kiln::sum(&block(&[x.clone(), w.clone()])?, Axes::All, false)
    })(&w)
    .unwrap();
    assert_close(
        "checkpoint with two arguments",
        &read_f64(&g),
        &[1.0, 2.0],
        0.0,
        0.0,
    );
    // The same under vmap.
    let m = kiln::vmap(|r: &Array| {
        let e = kiln::exp(r)?;
        kiln::checkpoint(move |a: &[Array]| kiln::multiply(&a[0], &e))(&[Array::scalar(2.0f32)])
    })(&w)
    .unwrap_err()
    .to_string();
    assert!(m.contains("vmap is tracing"), "{m}");
}

#[test]
fn checkpoint_takes_integer_arguments() {
    let x = f32s(&[1.0, 2.0, 3.0], &[3]);
    let idx = Array::from_slice(&[2i32, 2, 0], &[3]).unwrap();
    let g = kiln::grad(|x: &Array| {
        let pick = kiln::checkpoint(|a: &[Array]| kiln::take(&a[0], &a[1], Some(0)));
        kiln::sum(
            &kiln::square(&pick(&[x.clone(), idx.clone()])?)?,
            Axes::All,
            false,
        )
    })(&x)
    .unwrap();
    // d/dx Σ x[idx]² = 2 x[j] times how often j is picked.
    assert_close(
        "grad through a checkpointed take",
        &read_f64(&g),
        &[2.0, 0.0, 12.0],
        0.0,
        0.0,
    );
}
