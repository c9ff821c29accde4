//! Every op against NumPy fixtures (`tests/fixtures/ops.json`, written by
//! `tests/gen_fixtures.py`), on the default device.

mod common;

use common::{
    check, check_ulps, dtype, floats, i32s, ints, load_cases, number, tensor, usizes, Bound, Tol,
    EXACT,
};
use kiln::primitive::HostValue;
use kiln::{Array, Axes, BinaryOp, DType, Result, Sections, Slice, TensorAxes, UnaryOp};
use serde_json::Value;

fn axes(v: &Value) -> Axes {
    if v.is_null() {
        Axes::All
    } else {
        Axes::Some(i32s(v))
    }
}

fn axis(v: &Value) -> Option<i32> {
    v.as_i64().map(|a| a as i32)
}

/// Runs the op of a fixture case.
fn run(op: &str, args: &[Array], p: &Value) -> Result<Vec<Array>> {
    let a = || &args[0];
    let one = |r: Result<Array>| r.map(|x| vec![x]);
    if let Some(u) = UnaryOp::from_name(op) {
        return one(kiln::ops::elementwise::unary(u, a()));
    }
    if let Some(b) = BinaryOp::from_name(op) {
        return one(kiln::ops::elementwise::binary(b, &args[0], &args[1]));
    }
    let keep = || p["keepdims"].as_bool().unwrap_or(false);
    let ddof = || p["ddof"].as_u64().unwrap_or(0) as usize;
    let scalar = |v: &Value| (!v.is_null()).then(|| Array::scalar(number(v) as f32));
    match op {
        "where" => one(kiln::r#where(&args[0], &args[1], &args[2])),
        "clip" => {
            let x = a();
            let cast = |s: Option<Array>| s.map(|s| s.astype(x.dtype())).transpose();
            let (lo, hi) = (cast(scalar(&p["lo"]))?, cast(scalar(&p["hi"]))?);
            one(kiln::clip(x, lo.as_ref(), hi.as_ref()))
        }
        "astype" => one(a().astype(dtype(&p["dtype"]))),
        "sum" => one(kiln::sum(a(), axes(&p["axes"]), keep())),
        "mean" => one(kiln::mean(a(), axes(&p["axes"]), keep())),
        "prod" => one(kiln::prod(a(), axes(&p["axes"]), keep())),
        "max" => one(kiln::max(a(), axes(&p["axes"]), keep())),
        "min" => one(kiln::min(a(), axes(&p["axes"]), keep())),
        "all" => one(kiln::all(a(), axes(&p["axes"]), keep())),
        "any" => one(kiln::any(a(), axes(&p["axes"]), keep())),
        "logsumexp" => one(kiln::logsumexp(a(), axes(&p["axes"]), keep())),
        "argmax" => one(kiln::argmax(a(), axis(&p["axis"]), keep())),
        "argmin" => one(kiln::argmin(a(), axis(&p["axis"]), keep())),
        "var" => one(kiln::var(a(), axes(&p["axes"]), keep(), ddof())),
        "std" => one(kiln::std(a(), axes(&p["axes"]), keep(), ddof())),
        "cumsum" => one(kiln::cumsum(a(), axis(&p["axis"]))),
        "cumprod" => one(kiln::cumprod(a(), axis(&p["axis"]))),
        "softmax" => one(kiln::softmax(a(), axes(&p["axes"]))),
        "log_softmax" => one(kiln::log_softmax(a(), axes(&p["axes"]))),
        "reshape" => one(kiln::reshape(a(), &ints(&p["shape"]))),
        "flatten" => one(kiln::flatten(a())),
        "transpose" => one(kiln::transpose(
            a(),
            &if p["axes"].is_null() {
                vec![]
            } else {
                i32s(&p["axes"])
            },
        )),
        "swapaxes" => one(kiln::swapaxes(
            a(),
            p["axis1"].as_i64().unwrap() as i32,
            p["axis2"].as_i64().unwrap() as i32,
        )),
        "moveaxis" => one(kiln::moveaxis(
            a(),
            p["source"].as_i64().unwrap() as i32,
            p["destination"].as_i64().unwrap() as i32,
        )),
        "expand_dims" => one(kiln::expand_dims(a(), &i32s(&p["axes"]))),
        "squeeze" => one(kiln::squeeze(
            a(),
            &if p["axes"].is_null() {
                vec![]
            } else {
                i32s(&p["axes"])
            },
        )),
        "broadcast_to" => one(kiln::broadcast_to(a(), &usizes(&p["shape"]))),
        "slice" => {
            let slices: Vec<Slice> = p["slices"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| Slice::new(s[0].as_i64(), s[1].as_i64(), s[2].as_i64()))
                .collect();
            one(kiln::slice(a(), &slices))
        }
        "concatenate" => one(kiln::concatenate(
            &args.iter().collect::<Vec<_>>(),
            p["axis"].as_i64().unwrap() as i32,
        )),
        "stack" => one(kiln::stack(
            &args.iter().collect::<Vec<_>>(),
            p["axis"].as_i64().unwrap() as i32,
        )),
        "split" => {
            let sections = match &p["sections"] {
                Value::Number(n) => Sections::Count(n.as_u64().unwrap() as usize),
                v => Sections::Indices(ints(v)),
            };
            kiln::split(a(), sections, p["axis"].as_i64().unwrap() as i32)
        }
        "pad" => {
            let widths: Vec<(usize, usize)> = p["pad_width"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| {
                    (
                        w[0].as_u64().unwrap() as usize,
                        w[1].as_u64().unwrap() as usize,
                    )
                })
                .collect();
            let value = number(&p["value"]);
            let value = if a().dtype().is_float() {
                kiln::Scalar::Float(value)
            } else {
                kiln::Scalar::Int(value as i64)
            };
            one(kiln::pad(a(), &widths, value))
        }
        "tile" => one(kiln::tile(a(), &usizes(&p["reps"]))),
        "repeat" => one(kiln::repeat(
            a(),
            p["repeats"].as_u64().unwrap() as usize,
            axis(&p["axis"]),
        )),
        "flip" => one(kiln::flip(
            a(),
            &if p["axes"].is_null() {
                vec![]
            } else {
                i32s(&p["axes"])
            },
        )),
        "diagonal" | "trace" => {
            let (o, x, y) = (
                p["offset"].as_i64().unwrap_or(0),
                p["axis1"].as_i64().unwrap_or(0) as i32,
                p["axis2"].as_i64().unwrap_or(1) as i32,
            );
            one(if op == "trace" {
                kiln::trace(a(), o, x, y)
            } else {
                kiln::diagonal(a(), o, x, y)
            })
        }
        "take" => one(kiln::take(&args[0], &args[1], axis(&p["axis"]))),
        "take_along_axis" => one(kiln::take_along_axis(
            &args[0],
            &args[1],
            p["axis"].as_i64().unwrap() as i32,
        )),
        "scatter_add" => one(kiln::scatter_add(
            &args[0],
            &args[1],
            &args[2],
            p["axis"].as_i64().unwrap() as i32,
        )),
        "matmul" => one(kiln::matmul(&args[0], &args[1])),
        "outer" => one(kiln::outer(&args[0], &args[1])),
        "inner" => one(kiln::inner(&args[0], &args[1])),
        "hstack" => one(kiln::hstack(&args.iter().collect::<Vec<_>>())),
        "vstack" => one(kiln::vstack(&args.iter().collect::<Vec<_>>())),
        "diff" => one(kiln::diff(
            a(),
            p["n"].as_u64().unwrap() as usize,
            p["axis"].as_i64().unwrap() as i32,
        )),
        "meshgrid" => kiln::meshgrid(
            &args.iter().collect::<Vec<_>>(),
            p["indexing"].as_str() == Some("ij"),
        ),
        "isclose" | "allclose" => {
            let f = if op == "isclose" {
                kiln::isclose
            } else {
                kiln::allclose
            };
            let (rtol, atol) = (number(&p["rtol"]), number(&p["atol"]));
            one(f(
                &args[0],
                &args[1],
                rtol,
                atol,
                p["equal_nan"].as_bool().unwrap(),
            ))
        }
        "array_equal" => one(kiln::array_equal(
            &args[0],
            &args[1],
            p["equal_nan"].as_bool().unwrap(),
        )),
        "nan_to_num" => {
            let optional = |v: &Value| (!v.is_null()).then(|| number(v));
            one(kiln::nan_to_num(
                a(),
                number(&p["nan"]),
                optional(&p["posinf"]),
                optional(&p["neginf"]),
            ))
        }
        "one_hot" => one(kiln::one_hot(
            a(),
            p["num_classes"].as_u64().unwrap() as usize,
            dtype(&p["dtype"]),
        )),
        "cov" => one(kiln::cov(
            a(),
            p["rowvar"].as_bool().unwrap(),
            p["ddof"].as_u64().unwrap() as usize,
        )),
        "corrcoef" => one(kiln::corrcoef(a(), p["rowvar"].as_bool().unwrap())),
        "convolve" | "correlate" => {
            let mode = match p["mode"].as_str().unwrap() {
                "full" => kiln::ConvolveMode::Full,
                "same" => kiln::ConvolveMode::Same,
                _ => kiln::ConvolveMode::Valid,
            };
            let f = if op == "convolve" {
                kiln::convolve
            } else {
                kiln::correlate
            };
            one(f(&args[0], &args[1], mode))
        }
        "einsum" => one(kiln::einsum(
            p["subscripts"].as_str().unwrap(),
            &args.iter().collect::<Vec<_>>(),
        )),
        "tensordot" => {
            let axes = match &p["axes"] {
                Value::Number(n) => TensorAxes::Count(n.as_u64().unwrap() as usize),
                v => TensorAxes::Pairs(i32s(&v[0]), i32s(&v[1])),
            };
            one(kiln::tensordot(&args[0], &args[1], axes))
        }
        "sort" => one(kiln::sort(a(), axis(&p["axis"]))),
        "argsort" => one(kiln::argsort(a(), axis(&p["axis"]))),
        "topk" => kiln::topk(
            a(),
            p["k"].as_u64().unwrap() as usize,
            p["axis"].as_i64().unwrap_or(-1) as i32,
        )
        .map(|(v, i)| vec![v, i]),
        "zeros" => one(kiln::zeros(&usizes(&p["shape"]), dtype(&p["dtype"]))),
        "ones" => one(kiln::ones(&usizes(&p["shape"]), dtype(&p["dtype"]))),
        "full" => {
            let dt = dtype(&p["dtype"]);
            let v = number(&p["value"]);
            let value = if dt.is_float() {
                kiln::Scalar::Float(v)
            } else if dt == DType::Bool {
                kiln::Scalar::Bool(v != 0.0)
            } else {
                kiln::Scalar::Int(v as i64)
            };
            one(kiln::full(&usizes(&p["shape"]), value, dt))
        }
        "arange" => one(kiln::arange(
            number(&p["start"]),
            number(&p["stop"]),
            number(&p["step"]),
            dtype(&p["dtype"]),
        )),
        "linspace" => one(kiln::linspace(
            number(&p["start"]),
            number(&p["stop"]),
            p["num"].as_u64().unwrap() as usize,
            p["endpoint"].as_bool().unwrap_or(true),
            DType::F32,
        )),
        "eye" => one(kiln::eye(
            p["n"].as_u64().unwrap() as usize,
            p["m"].as_u64().map(|m| m as usize),
            p["k"].as_i64().unwrap_or(0),
            dtype(&p["dtype"]),
        )),
        "tri" => one(kiln::tri(
            p["n"].as_u64().unwrap() as usize,
            p["m"].as_u64().map(|m| m as usize),
            p["k"].as_i64().unwrap_or(0),
            dtype(&p["dtype"]),
        )),
        "tril" => one(kiln::tril(a(), p["k"].as_i64().unwrap_or(0))),
        "triu" => one(kiln::triu(a(), p["k"].as_i64().unwrap_or(0))),
        other => panic!("no runner for op {other}"),
    }
}

/// The bound for `op` producing `dtype`, against the correctly rounded
/// value (fixtures are computed in float64): integer and bool results, and
/// float ops that are exactly rounded or move data, bit for bit (the sign
/// of zero included); the rest in ulps of the dtype, so tiny results
/// cannot pass as zero; sums against the magnitude of their terms.
fn tolerance(op: &str, dtype: DType, k_len: usize) -> Bound {
    if !dtype.is_float() {
        return EXACT.into();
    }
    let half = dtype == DType::F16;
    match op {
        // Exactly rounded in IEEE arithmetic, or pure data movement.
        "negative" | "abs" | "sign" | "square" | "floor" | "ceil" | "round" | "add"
        | "subtract" | "multiply" | "maximum" | "minimum" | "where" | "clip" | "astype" | "max"
        | "min" | "reshape" | "flatten" | "transpose" | "swapaxes" | "moveaxis" | "expand_dims"
        | "squeeze" | "broadcast_to" | "slice" | "concatenate" | "stack" | "split" | "pad"
        | "tile" | "repeat" | "flip" | "diagonal" | "take" | "take_along_axis" | "sort"
        | "topk" | "zeros" | "ones" | "full" | "eye" | "tri" | "tril" | "triu" | "scatter_add"
        | "hstack" | "vstack" | "meshgrid" | "nan_to_num" | "one_hot" => EXACT.into(),
        // Division and square roots are within 2.5 ulp in WGSL.
        "divide" | "sqrt" | "rsqrt" | "reciprocal" | "floor_divide" | "arange" | "linspace" => {
            Bound::Ulps(3.0)
        }
        // a - b * trunc(a / b) is not exact where the driver does not fuse
        // the multiply-add: the error is a few ulp of the operands (at most
        // about 10 in these fixtures), not of the result.
        "remainder" => Tol {
            rtol: if half { 1e-3 } else { 4e-7 },
            atol: if half { 8e-3 } else { 4e-6 },
        }
        .into(),
        // Sums in another order than NumPy's pairwise one, and (float16)
        // rounded once more at the end.
        "sum" | "mean" | "prod" | "cumsum" | "cumprod" | "trace" | "var" | "std" | "matmul"
        | "outer" | "inner" | "tensordot" | "einsum" | "convolve" | "correlate" | "diff"
        | "cov" | "corrcoef" => {
            let terms = (k_len.max(1) as f64).sqrt();
            Tol {
                rtol: 2e-6 * terms.max(1.0) + if half { 1e-3 } else { 0.0 },
                atol: 1e-6 * terms * if half { 1e3 } else { 1.0 },
            }
            .into()
        }
        // Transcendental functions (kiln's own, `wgsl/math.wgsl`): float16
        // ones compute in float32 and round once.
        _ if half => Bound::Ulps(1.0),
        // exp2(y log2 x) scales log2's error by y log x; logaddexp adds
        // log1p of an exp.
        "power" | "logaddexp" => Bound::Ulps(8.0),
        // exp(x - max) / sum: x - max rounds by up to eps |x - max| / 2,
        // which exp turns into a relative error (16 ulp in these fixtures,
        // at x - max near -20).
        "softmax" | "log_softmax" | "logsumexp" => Bound::Ulps(24.0),
        _ => Bound::Ulps(4.0),
    }
}

/// Fails with `failures`, and with every elementwise op of the tables
/// missing from `covered` (the ops whose `what` a case checked).
fn assert_all_passed(
    what: &str,
    covered: &std::collections::BTreeSet<String>,
    failures: &[String],
    cases: usize,
) {
    let unary = UnaryOp::ALL.iter().map(|o| o.name());
    let missing = unary
        .chain(BinaryOp::ALL.iter().map(|o| o.name()))
        .filter(|name| !covered.contains(*name))
        .map(|name| format!("no case checked the {what} of {name}"));
    let failures: Vec<String> = failures.iter().cloned().chain(missing).collect();
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The input arrays of a fixture case.
fn case_args(case: &Value) -> Vec<Array> {
    case["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(tensor)
        .collect()
}

#[test]
fn ops_match_numpy_fixtures() {
    let cases = load_cases("ops.json");
    let mut failures = Vec::new();
    let mut covered = std::collections::BTreeSet::new();
    let mut worst = std::collections::BTreeMap::new();
    for (n, case) in cases.iter().enumerate() {
        let op = case["op"].as_str().unwrap();
        covered.insert(op.to_string());
        let args = case_args(case);
        let k_len = args.iter().map(Array::size).max().unwrap_or(1);
        let label = format!("#{n} {op} ({})", case["note"].as_str().unwrap_or(""));
        let outputs = match run(op, &args, &case["params"]) {
            Ok(o) => o,
            Err(e) => {
                failures.push(format!("{label}: {e}"));
                continue;
            }
        };
        let wanted: Vec<&Value> = match &case["expected"] {
            Value::Array(list) => list.iter().collect(),
            v => vec![v],
        };
        if outputs.len() != wanted.len() {
            failures.push(format!(
                "{label}: {} outputs, expected {}",
                outputs.len(),
                wanted.len()
            ));
            continue;
        }
        for (got, want) in outputs.iter().zip(wanted) {
            let bound = tolerance(op, got.dtype(), k_len);
            match check_ulps(got, want, bound) {
                Ok(ulps) => {
                    let seen = worst.entry((op.to_string(), got.dtype())).or_insert(0.0);
                    *seen = f64::max(*seen, ulps);
                }
                Err(e) => failures.push(format!("{label}: {e}")),
            }
        }
    }
    // Every elementwise op of the tables has fixtures.
    assert_all_passed("fixture", &covered, &failures, cases.len());
    println!(
        "{} cases over {} ops passed; worst ulps:",
        cases.len(),
        covered.len()
    );
    for ((op, dtype), ulps) in &worst {
        if *ulps > 0.0 {
            println!("  {op} {dtype}: {ulps:.1}");
        }
    }
}

/// An element of `dtype` from a fixture value, as an op computes it.
fn host_value(v: f64, dtype: DType) -> HostValue {
    match dtype {
        DType::F32 | DType::F16 => HostValue::Float(v as f32),
        DType::I32 => HostValue::Int(v as i32),
        DType::U32 => HostValue::Uint(v as u32),
        DType::Bool => HostValue::Bool(v != 0.0),
    }
}

fn host_f64(v: HostValue) -> f64 {
    match v {
        HostValue::Float(x) => x as f64,
        HostValue::Int(x) => x as f64,
        HostValue::Uint(x) => x as f64,
        HostValue::Bool(x) => x as u8 as f64,
    }
}

/// The plain Rust function of every elementwise op, applied on the host to
/// the NumPy fixtures' inputs (converted to the op's compute type), gives
/// NumPy's results within the tolerances the kernels meet.
#[test]
fn host_functions_match_numpy_fixtures() {
    let cases = load_cases("ops.json");
    let mut failures = Vec::new();
    let mut checked = std::collections::BTreeSet::new();
    for (n, case) in cases.iter().enumerate() {
        let name = case["op"].as_str().unwrap();
        let (unary, binary) = (UnaryOp::from_name(name), BinaryOp::from_name(name));
        if unary.is_none() && binary.is_none() {
            continue;
        }
        let args = case_args(case);
        let refs: Vec<&Array> = args.iter().collect();
        let promoted = args.iter().map(Array::dtype).reduce(kiln::promote).unwrap();
        let compute = match unary.map(|op| op.compute_dtype(promoted)) {
            Some(dtype) => dtype,
            None => binary.unwrap().compute_dtype(promoted),
        };
        // Cases whose dtypes the op refuses are the error tests' business.
        let Ok(compute) = compute else { continue };
        let inputs: Vec<Vec<HostValue>> = kiln::broadcast_arrays(&refs)
            .unwrap()
            .iter()
            .map(|a| {
                let values = floats(&a.astype(compute).unwrap());
                values.into_iter().map(|v| host_value(v, compute)).collect()
            })
            .collect();
        let results: Option<Vec<HostValue>> = match (unary, binary) {
            (Some(op), _) => inputs[0].iter().map(|&x| op.eval_host(x)).collect(),
            (_, Some(op)) => (inputs[0].iter().zip(&inputs[1]))
                .map(|(&a, &b)| op.eval_host(a, b))
                .collect(),
            _ => unreachable!(),
        };
        // Ops that never compute in this type (rounding or predicates of
        // integers) are answered without one.
        let Some(results) = results else { continue };
        let out_dtype = match (unary, binary) {
            (Some(op), _) => op.result_dtype(compute),
            (_, Some(op)) => op.result_dtype(compute),
            _ => unreachable!(),
        };
        let values: Vec<f64> = results.into_iter().map(host_f64).collect();
        let shape = kiln::broadcast_arrays(&refs).unwrap()[0].shape().to_vec();
        let got = common::array(&values, &shape, out_dtype);
        let k_len = args.iter().map(Array::size).max().unwrap_or(1);
        if let Err(e) = check(&got, &case["expected"], tolerance(name, out_dtype, k_len)) {
            let note = case["note"].as_str().unwrap_or("");
            failures.push(format!("#{n} {name} ({note}): {e}"));
        }
        checked.insert(name.to_string());
    }
    assert_all_passed("host function", &checked, &failures, cases.len());
}

#[test]
fn column_sums_split_long_columns_as_on_a_gpu() {
    // Columns of 2048 take a pass of segments and one over the partials on
    // a GPU; short ones one pass; both kernels' choices run here.
    for shape in [[2048usize, 128], [300, 20], [256, 40], [5000, 17]] {
        let n = shape[0] * shape[1];
        let values: Vec<f32> = (0..n)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        let mut want = vec![0.0f64; shape[1]];
        for (i, v) in values.iter().enumerate() {
            want[i % shape[1]] += *v as f64;
        }
        let x = Array::from_slice(&values, &shape).unwrap();
        for as_on_gpu in [false, true] {
            let sum = || kiln::sum(&x, 0, false).unwrap().to_vec::<f32>().unwrap();
            let got = if as_on_gpu {
                kiln::backend::kernels::choose_as_on_gpu(sum)
            } else {
                sum()
            };
            for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (*g as f64 - w).abs() < 1e-3,
                    "{shape:?} column {k} (as on a GPU: {as_on_gpu}): {g}, want {w}"
                );
            }
        }
    }
}

#[test]
fn row_reductions_match_the_host_on_both_kernels() {
    // Rows of 100 and 1500 (a workgroup each on a GPU, a thread on a CPU
    // adapter; 256 lanes for a few rows, 64 for 1100 of them), 70000
    // (segments, then a pass over the partials) and a single row of
    // 300000; sums, maxes and argmaxes (a tie: the first index wins) by
    // the kernels a GPU and a CPU adapter choose.
    for shape in [
        [7usize, 100],
        [3, 1500],
        [1100, 300],
        [2, 70000],
        [1, 300000],
    ] {
        let n = shape[0] * shape[1];
        let mut values: Vec<f32> = (0..n)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        for r in 0..shape[0] {
            let row = &mut values[r * shape[1]..(r + 1) * shape[1]];
            let last = row.len() - 1;
            row[(r * 37) % row.len()] = 7.0;
            row[last] = 7.0;
        }
        let x = Array::from_slice(&values, &shape).unwrap();
        for as_on_gpu in [false, true] {
            let run = || {
                let sums = kiln::sum(&x, -1, false)?.to_vec::<f32>()?;
                let maxes = kiln::max(&x, -1, false)?.to_vec::<f32>()?;
                let args = kiln::argmax(&x, Some(-1), false)?.to_vec::<i32>()?;
                Ok::<_, kiln::Error>((sums, maxes, args))
            };
            let (sums, maxes, args) = if as_on_gpu {
                kiln::backend::kernels::choose_as_on_gpu(run)
            } else {
                run()
            }
            .unwrap();
            for (r, row) in values.chunks(shape[1]).enumerate() {
                let want: f64 = row.iter().map(|&v| v as f64).sum();
                let what = format!("{shape:?} row {r} (as on a GPU: {as_on_gpu})");
                assert!(
                    (sums[r] as f64 - want).abs() < 1e-6 * row.len() as f64,
                    "{what}: sum {}, want {want}",
                    sums[r]
                );
                assert_eq!(maxes[r], 7.0, "{what}: max");
                let first = ((r * 37) % row.len()).min(row.len() - 1) as i32;
                assert_eq!(args[r], first, "{what}: argmax");
            }
        }
    }
}

/// Softmax (or log-softmax) of `row` in float64 by the kernels' rules: the
/// max is NaN where any value is, and log-softmax shifts by it only where
/// it is finite.
fn host_softmax(row: &[f32], log: bool) -> Vec<f64> {
    let m = row.iter().fold(f64::NEG_INFINITY, |m, &v| {
        if m.is_nan() || v.is_nan() {
            f64::NAN
        } else {
            m.max(v as f64)
        }
    });
    let shift = if log && !m.is_finite() { 0.0 } else { m };
    let total: f64 = row.iter().map(|&v| (v as f64 - shift).exp()).sum();
    row.iter()
        .map(|&v| {
            if log {
                v as f64 - shift - total.ln()
            } else {
                (v as f64 - shift).exp() / total
            }
        })
        .collect()
}

#[test]
fn softmax_rows_match_the_host_on_every_kernel() {
    // By the kernels a GPU and a CPU adapter choose: rows of 1500 and 1022
    // (three sweeps, with four loads per lane and a rest), rows held in
    // registers by 64 lanes (1024: every lane full; 260: lanes with one or
    // two vec4) and by 16 lanes, four rows to a workgroup (256 full, 64,
    // and five rows of 12: a workgroup with rows missing), rows of 5 (a
    // thread per row) and rows of 256 starting one element into their
    // buffer (three sweeps). Rows of the 260 case hold a NaN, an infinity
    // and only minus infinities; a row of the 256 case falls to -127.5
    // (exponentials that underflow).
    for (shape, skip) in [
        ([3usize, 1500], 0),
        ([2, 1022], 0),
        ([5, 1024], 0),
        ([4, 260], 0),
        ([7, 256], 0),
        ([8, 64], 0),
        ([5, 12], 0),
        ([4, 5], 0),
        ([3, 256], 1),
    ] {
        let n = shape[0] * shape[1];
        let mut values: Vec<f32> = (0..n + skip)
            .map(|i| ((i * 7919) % 1000) as f32 / 100.0 - 5.0)
            .collect();
        if shape == [4, 260] {
            values[260 + 17] = f32::NAN;
            values[2 * 260 + 3] = f32::INFINITY;
            values[3 * 260..].fill(f32::NEG_INFINITY);
        }
        if shape == [7, 256] {
            // Exponentials down to underflow: 0 to -127.5 by halves.
            for (k, v) in values[6 * 256..].iter_mut().enumerate() {
                *v = -0.5 * k as f32;
            }
        }
        let all = Array::from_slice(&values, &[n + skip]).unwrap();
        let window = (skip as i64)..((n + skip) as i64);
        let x = kiln::reshape(
            &kiln::slice(&all, &[window.into()]).unwrap(),
            &shape.map(|d| d as i64),
        )
        .unwrap();
        let values = &values[skip..];
        for as_on_gpu in [false, true] {
            for log in [false, true] {
                let run = || {
                    let y = if log {
                        kiln::log_softmax(&x, -1)
                    } else {
                        kiln::softmax(&x, -1)
                    };
                    y.unwrap().to_vec::<f32>().unwrap()
                };
                let got = if as_on_gpu {
                    kiln::backend::kernels::choose_as_on_gpu(run)
                } else {
                    run()
                };
                for (r, row) in values.chunks(shape[1]).enumerate() {
                    for (k, want) in host_softmax(row, log).into_iter().enumerate() {
                        let g = got[r * shape[1] + k] as f64;
                        // Probabilities relative to themselves (down to
                        // float32's smallest normal numbers), logarithms
                        // relative to 1 + themselves.
                        let bound = if log {
                            1e-5 * (1.0 + want.abs())
                        } else {
                            1e-5 * want.abs() + 1e-37
                        };
                        assert!(
                            (g - want).abs() <= bound
                                || (g.is_nan() && want.is_nan())
                                || g == want,
                            "{shape:?} log {log} as on a GPU {as_on_gpu}: [{r}, {k}] {g}, want {want}"
                        );
                    }
                }
            }
        }
    }
}
