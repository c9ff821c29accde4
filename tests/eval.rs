//! Lazy evaluation, scheduling, memory, and sizes that cross the kernels'
//! internal limits (loop trip counts, dispatch grid limits, multi-pass paths).

use kiln::{Array, Axes, DType, Slice};

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn arrays_are_send_and_sync() {
    assert_send_sync::<Array>();
}

#[test]
fn ops_are_lazy_and_eval_is_idempotent() {
    let a = kiln::arange(0.0, 1000.0, 1.0, DType::F32).unwrap();
    let before = kiln::dispatch_count();
    let b = kiln::exp(&(&a * 0.001)).unwrap();
    let c = kiln::sum(&b, Axes::All, false).unwrap();
    assert_eq!(
        kiln::dispatch_count(),
        before,
        "building a graph dispatches nothing"
    );
    assert!(!c.is_evaluated());
    c.eval().unwrap();
    let after = kiln::dispatch_count();
    // arange, multiply (the scalar is an upload, not a kernel), exp and the one-pass sum.
    assert_eq!(after - before, 4);
    c.eval().unwrap();
    b.eval().unwrap();
    assert_eq!(
        kiln::dispatch_count(),
        after,
        "evaluated nodes are not computed again"
    );
    let expected: f64 = (0..1000).map(|i| (i as f64 * 0.001).exp()).sum();
    assert!((c.item::<f32>().unwrap() as f64 - expected).abs() < 1e-3);
}

#[test]
fn views_dispatch_nothing() {
    let a = kiln::arange(0.0, 24.0, 1.0, DType::F32)
        .unwrap()
        .reshape(&[2, 3, 4])
        .unwrap();
    a.eval().unwrap();
    let before = kiln::dispatch_count();
    let v = kiln::transpose(&a, &[2, 0, 1]).unwrap();
    let v = kiln::slice(&v, &[kiln::Slice::step(-1)]).unwrap();
    let v = kiln::expand_dims(&v, &[0]).unwrap();
    let v = kiln::broadcast_to(&v, &[3, 4, 2, 3]).unwrap();
    let d = kiln::diagonal(&a, 0, 1, 2).unwrap();
    kiln::eval(&[&v, &d]).unwrap();
    assert_eq!(kiln::dispatch_count(), before);
    assert_eq!(
        d.to_vec::<f32>().unwrap(),
        vec![0.0, 5.0, 10.0, 12.0, 17.0, 22.0]
    );
    assert_eq!(
        kiln::slice(&v, &[kiln::Slice::new(Some(2), None, None)])
            .unwrap()
            .to_vec::<f32>()
            .unwrap()[..6],
        [3.0, 7.0, 11.0, 15.0, 19.0, 23.0]
    );
}

#[test]
fn deep_unevaluated_graphs_drop_without_recursion() {
    let mut x = Array::scalar(1.0f32);
    for _ in 0..200_000 {
        x = &x + 1.0;
    }
    drop(x);
}

#[test]
fn device_info_names_the_adapter() {
    let info = kiln::device_info().unwrap();
    assert!(!info.name.is_empty() && !info.backend.is_empty());
    assert!(info.max_storage_binding_bytes >= 128 << 20);
}

#[test]
fn long_reductions_scans_and_arg_reductions_are_exact() {
    // 5M elements: more than one thread may loop over, so two passes.
    let n = 5_000_000;
    let ones = kiln::ones(&[n], DType::F32).unwrap();
    assert_eq!(
        kiln::sum(&ones, Axes::All, false)
            .unwrap()
            .item::<f32>()
            .unwrap(),
        n as f32
    );
    let ramp = kiln::arange(0.0, n as f64, 1.0, DType::I32).unwrap();
    let scrambled = kiln::remainder(&(&ramp * 7), &Array::scalar(1_000_003)).unwrap();
    let first_max = (0..n as i64)
        .max_by_key(|&i| ((i * 7) % 1_000_003, -i))
        .unwrap() as i32;
    assert_eq!(
        kiln::argmax(&scrambled, None, false)
            .unwrap()
            .item::<i32>()
            .unwrap(),
        first_max
    );
    assert_eq!(
        kiln::max(&ramp, Axes::All, false)
            .unwrap()
            .item::<i32>()
            .unwrap(),
        n as i32 - 1
    );
    // A scan longer than one kernel handles.
    let m = 600_000;
    let c = kiln::cumsum(&kiln::ones(&[m], DType::I32).unwrap(), None)
        .unwrap()
        .to_vec::<i32>()
        .unwrap();
    assert!(c.iter().enumerate().all(|(i, &v)| v == i as i32 + 1));
    let r = kiln::cumsum_reverse(&kiln::ones(&[2, m], DType::I32).unwrap(), 1)
        .unwrap()
        .to_vec::<i32>()
        .unwrap();
    assert_eq!(
        (r[0], r[m - 1], r[m], r[2 * m - 1]),
        (m as i32, 1, m as i32, 1)
    );
}

#[test]
fn large_elementwise_grids_fold_into_two_dimensions() {
    // More than 65535 workgroups of 256 threads.
    let n = 65535 * 256 + 1000;
    let a = kiln::arange(0.0, n as f64, 1.0, DType::I32).unwrap();
    let b = (&a + 3).to_vec::<i32>().unwrap();
    assert_eq!(b.len(), n);
    assert!(b.iter().enumerate().all(|(i, &v)| v == i as i32 + 3));
}

#[test]
fn long_inner_dimensions_split_matmul() {
    let k = 20_000;
    let a = kiln::ones(&[2, k], DType::F32).unwrap();
    let b = kiln::ones(&[k, 3], DType::F32).unwrap();
    assert_eq!(
        kiln::matmul(&a, &b).unwrap().to_vec::<f32>().unwrap(),
        vec![k as f32; 6]
    );
}

#[test]
fn long_sorts_match_the_host() {
    let key = kiln::random::key(3);
    let x = kiln::random::normal(&key, &[70_001], DType::F32).unwrap();
    let mut host = x.to_vec::<f32>().unwrap();
    host.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(kiln::sort(&x, None).unwrap().to_vec::<f32>().unwrap(), host);
}

#[test]
fn very_tall_matmuls_split_into_row_blocks() {
    // More rows than one dispatch's grid covers (65535 workgroups × 32).
    let m = 65535 * 32 + 100;
    let a = kiln::arange(0.0, m as f64, 1.0, DType::F32)
        .unwrap()
        .reshape(&[m as i64, 1])
        .unwrap();
    let b = Array::from_slice(&[2.0f32, -1.0], &[1, 2]).unwrap();
    let c = kiln::matmul(&a, &b).unwrap();
    assert_eq!(c.shape(), &[m, 2]);
    let tail = kiln::slice(
        &c,
        &[Slice::new(Some(m as i64 - 3), None, None), Slice::all()],
    )
    .unwrap()
    .to_vec::<f32>()
    .unwrap();
    let r = (m - 3) as f32;
    assert_eq!(
        tail,
        vec![
            2.0 * r,
            -r,
            2.0 * (r + 1.0),
            -(r + 1.0),
            2.0 * (r + 2.0),
            -(r + 2.0)
        ]
    );
}

#[test]
fn zero_dimensional_float16_views_read_back() {
    // An element at an odd offset of a float16 buffer needs a copy to read.
    let a = Array::from_slice(&[1.0f32, 2.0, 3.0], &[3])
        .unwrap()
        .astype(DType::F16)
        .unwrap();
    let b = kiln::index_axis(&a, 0, 1).unwrap();
    assert_eq!(
        b.to_vec::<half::f16>().unwrap(),
        vec![half::f16::from_f32(2.0)]
    );
}

#[test]
fn float16_statistics_compute_in_float32() {
    // Sums of these overflow float16 (largest finite value 65504).
    let a = kiln::full(&[100_000], 1.5, DType::F16).unwrap();
    let f16 = half::f16::from_f64;
    let mean = kiln::mean(&a, Axes::All, false).unwrap();
    assert_eq!(mean.dtype(), DType::F16);
    assert_eq!(mean.to_vec::<half::f16>().unwrap(), vec![f16(1.5)]);
    let var = kiln::var(&a, Axes::All, false, 0).unwrap();
    assert_eq!(var.to_vec::<half::f16>().unwrap(), vec![f16(0.0)]);
    let zeros = kiln::zeros(&[100_000], DType::F16).unwrap();
    let lse = kiln::logsumexp(&zeros, Axes::All, false).unwrap();
    assert_eq!(
        lse.to_vec::<half::f16>().unwrap(),
        vec![f16(100_000f64.ln())]
    );
    let p = kiln::softmax(&zeros, Axes::All).unwrap();
    assert_eq!(p.to_vec::<half::f16>().unwrap()[0], f16(1e-5));
}

#[test]
fn queued_work_survives_a_failed_evaluation_and_reads_submit_it() {
    // Small evaluations are queued, not submitted one by one: each read
    // (and `synchronize`) submits what is queued before it.
    let mut steps = Vec::new();
    let mut x = kiln::arange(0.0, 8.0, 1.0, DType::F32).unwrap();
    for _ in 0..5 {
        x = &x * 2.0;
        x.eval().unwrap();
        steps.push(x.clone());
    }
    // An evaluation that fails while encoding (an array larger than any
    // storage binding) drops only its own work.
    let huge = kiln::zeros(&[1 << 30], DType::F32).unwrap();
    let failed = (&huge + 1.0).eval();
    assert!(failed.is_err(), "a 4 GiB array cannot be bound");
    let more = &x + 1.0;
    more.eval().unwrap();
    for (k, step) in steps.iter().enumerate() {
        let scale = 2f32.powi(k as i32 + 1);
        let want: Vec<f32> = (0..8).map(|i| i as f32 * scale).collect();
        assert_eq!(step.to_vec::<f32>().unwrap(), want);
    }
    let want: Vec<f32> = (0..8).map(|i| i as f32 * 32.0 + 1.0).collect();
    assert_eq!(more.to_vec::<f32>().unwrap(), want);
}

#[test]
fn reductions_down_columns_match_the_host() {
    // Leading axes of contiguous data reduce down columns without a copy;
    // 20000 rows split into segments and take a second pass (argmin, whose
    // one pass cannot be that long, transposes into rows instead).
    let (k, cols) = (20000usize, 40usize);
    let host: Vec<f32> = (0..k * cols)
        .map(|i| ((i * 7919 % 10007) as f32 / 10007.0) - 0.5)
        .collect();
    let a = Array::from_slice(&host, &[k, cols]).unwrap();
    let column = |c: usize| -> Vec<f32> { (0..k).map(|r| host[r * cols + c]).collect() };
    let sums = kiln::sum(&a, 0, false).unwrap().to_vec::<f32>().unwrap();
    let maxes = kiln::max(&a, 0, false).unwrap().to_vec::<f32>().unwrap();
    let argmins = kiln::argmin(&a, Some(0), false)
        .unwrap()
        .to_vec::<i32>()
        .unwrap();
    let positive = kiln::greater(&a, &Array::scalar(-0.4999f32)).unwrap();
    let alls = kiln::all(&positive, 0, false)
        .unwrap()
        .to_vec::<bool>()
        .unwrap();
    for c in 0..cols {
        let want: f64 = column(c).into_iter().map(f64::from).sum();
        assert!((sums[c] as f64 - want).abs() < 2e-3, "sum of column {c}");
        let top = column(c).into_iter().fold(f32::MIN, f32::max);
        assert_eq!(maxes[c], top, "max of column {c}");
        let low = column(c).into_iter().fold(f32::MAX, f32::min);
        let first = column(c).into_iter().position(|v| v == low).unwrap();
        assert_eq!(argmins[c] as usize, first, "argmin of column {c}");
        assert_eq!(
            alls[c],
            column(c).into_iter().all(|v| v > -0.4999),
            "all of column {c}"
        );
    }
    // Two leading axes of a (400, 100, 20) view: a mean over 40000 rows of 20.
    let b = a.reshape(&[400, 100, 20]).unwrap();
    let means = kiln::mean(&b, &[0, 1][..], false)
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    for (c, m) in means.iter().enumerate() {
        let want: f64 = (0..k * 2).map(|r| host[r * 20 + c] as f64).sum::<f64>() / (k * 2) as f64;
        assert!((*m as f64 - want).abs() < 1e-6, "mean of column {c}");
    }
}

#[test]
fn vectorised_maps_handle_tails_offsets_and_scalars() {
    // Contiguous operands aligned to 4 elements map 4 per thread; sizes
    // that are not multiples of 4 end in a partial vec4, and misaligned
    // offsets take the one-element path.
    let host: Vec<f32> = (0..40).map(|i| i as f32 * 0.5 - 3.0).collect();
    let base = Array::from_slice(&host, &[40]).unwrap();
    for start in [0usize, 1, 4, 8] {
        for len in [1usize, 3, 4, 5, 8, 9, 31] {
            let range = Slice::new(Some(start as i64), Some((start + len) as i64), None);
            let part = kiln::slice(&base, &[range]).unwrap();
            let sum = kiln::add(&part, &kiln::index_axis(&base, 0, 0).unwrap()).unwrap();
            let doubled = kiln::multiply(&part, &Array::scalar(2.0f32)).unwrap();
            let positive = kiln::greater(&part, &Array::scalar(0.0f32)).unwrap();
            let want = &host[start..start + len];
            let got = sum.to_vec::<f32>().unwrap();
            assert_eq!(
                got,
                want.iter().map(|v| v + host[0]).collect::<Vec<_>>(),
                "{start}+{len}"
            );
            let got = doubled.to_vec::<f32>().unwrap();
            assert_eq!(
                got,
                want.iter().map(|v| v * 2.0).collect::<Vec<_>>(),
                "{start}+{len}"
            );
            let got = positive.to_vec::<bool>().unwrap();
            assert_eq!(
                got,
                want.iter().map(|v| *v > 0.0).collect::<Vec<_>>(),
                "{start}+{len}"
            );
        }
    }
}

#[test]
fn rows_broadcast_against_blocks_match_the_host() {
    // A block repeated along broadcast leading axes is read as element
    // `i % period`: vec4s when the period is a multiple of 4, else one
    // element at a time; views with an offset too.
    for (rows, cols) in [(3usize, 4usize), (5, 6), (7, 8), (2, 1), (4, 12)] {
        let host: Vec<f32> = (0..rows * cols).map(|i| i as f32 * 0.25).collect();
        let bias: Vec<f32> = (0..cols + 4).map(|i| 100.0 + i as f32).collect();
        let m = Array::from_slice(&host, &[rows, cols]).unwrap();
        let b = Array::from_slice(&bias, &[cols + 4]).unwrap();
        for start in [0usize, 4, 3] {
            let range = Slice::new(Some(start as i64), Some((start + cols) as i64), None);
            let row = kiln::slice(&b, &[range]).unwrap();
            let got = kiln::add(&m, &row).unwrap().to_vec::<f32>().unwrap();
            let want: Vec<f32> = (0..rows * cols)
                .map(|i| host[i] + bias[start + i % cols])
                .collect();
            assert_eq!(got, want, "({rows}, {cols}) + row at {start}");
            // Three dimensions: (2, rows, cols) + (rows, cols).
            let cube = kiln::broadcast_to(&m, &[2, rows, cols]).unwrap();
            let stacked = kiln::multiply(&cube, &kiln::expand_dims(&m, &[0]).unwrap()).unwrap();
            let got = stacked.to_vec::<f32>().unwrap();
            let want: Vec<f32> = (0..2 * rows * cols)
                .map(|i| host[i % (rows * cols)] * host[i % (rows * cols)])
                .collect();
            assert_eq!(got, want, "(2, {rows}, {cols}) * block");
        }
    }
}

#[test]
fn maps_of_transposed_views_keep_their_layout_and_copies_are_row_major() {
    // Inputs sharing one dense layout are mapped in memory order into an
    // output of that layout (no gathering); copies stay row-major.
    let host: Vec<f32> = (0..12).map(|i| i as f32).collect();
    let m = Array::from_slice(&host, &[3, 4]).unwrap();
    let t = m.t().unwrap();
    let sum = kiln::add(&t, &t).unwrap();
    let want: Vec<f32> = (0..12).map(|i| 2.0 * host[(i % 3) * 4 + i / 3]).collect();
    assert_eq!(sum.to_vec::<f32>().unwrap(), want);
    let row_sums = kiln::sum(&sum, 1, false).unwrap().to_vec::<f32>().unwrap();
    let want: Vec<f32> = (0..4)
        .map(|c| (0..3).map(|r| 2.0 * host[r * 4 + c]).sum())
        .collect();
    assert_eq!(row_sums, want);
    let flat = sum.reshape(&[12]).unwrap().to_vec::<f32>().unwrap();
    let want: Vec<f32> = (0..12).map(|i| 2.0 * host[(i % 3) * 4 + i / 3]).collect();
    assert_eq!(flat, want, "a reshape of the mapped view copies row-major");
}
