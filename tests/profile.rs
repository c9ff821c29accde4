//! `kiln::profile`: every dispatch between start and stop, named by kernel
//! and op, timed where the adapter has timestamp queries. One test: a
//! profile records the whole device, so nothing else may run beside it.

use kiln::{profile, Array};

#[test]
fn a_profile_records_each_dispatch_with_its_kernel_op_and_time() {
    let a = Array::from_slice(&[4.0f32, 1.0, 2.0, 1.0, 3.0, 0.5, 2.0, 0.5, 5.0], &[3, 3]).unwrap();
    a.eval().unwrap();
    // Not recording: stopping fails with a message naming the call.
    let err = profile::stop().unwrap_err().to_string();
    assert!(err.contains("profile::stop"), "{err}");

    let before = kiln::dispatch_count();
    profile::start().unwrap();
    let err = profile::start().unwrap_err().to_string();
    assert!(err.contains("already recording"), "{err}");
    let b = kiln::exp(&kiln::matmul(&a, &a).unwrap()).unwrap();
    let l = kiln::linalg::cholesky(&a, false).unwrap();
    kiln::eval(&[&b, &l]).unwrap();
    let dispatched = kiln::dispatch_count() - before;
    let recorded = profile::stop().unwrap();

    assert_eq!(recorded.runs.len(), dispatched);
    let ops: Vec<&str> = recorded.runs.iter().map(|r| r.op).collect();
    for op in ["matmul", "exp", "cholesky"] {
        assert!(ops.contains(&op), "no {op} dispatch in {ops:?}");
    }
    for run in &recorded.runs {
        assert!(!run.kernel.is_empty());
        assert!(run.bytes >= 4, "{run:?} binds no buffer");
    }
    let info = kiln::device_info().unwrap();
    if recorded.timed() {
        for run in &recorded.runs {
            let ns = run.gpu_ns.unwrap();
            assert!(ns > 0.0 && ns < 1e10, "{run:?}: implausible GPU time");
        }
        let starts: Vec<f64> = recorded.runs.iter().map(|r| r.start_ns.unwrap()).collect();
        assert!(
            starts.windows(2).all(|w| w[0] <= w[1]),
            "{starts:?} out of order"
        );
    } else {
        println!("{}: no timestamp queries, counts only", info.name);
    }
    let by_op = recorded.by_op();
    assert_eq!(by_op.iter().map(|r| r.count).sum::<usize>(), dispatched);
    let table = recorded.to_string();
    assert!(table.contains("total"), "{table}");

    let trace: serde_json::Value = serde_json::from_str(&recorded.chrome_trace()).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    assert_eq!(events.len(), dispatched);
    assert!(events
        .iter()
        .all(|e| e["ph"] == "X" && e["dur"].as_f64().unwrap() > 0.0));

    // The values are unchanged by profiling.
    let gram = kiln::matmul(&l, &l.transpose(&[1, 0]).unwrap()).unwrap();
    let (want, got) = (a.to_vec::<f32>().unwrap(), gram.to_vec::<f32>().unwrap());
    assert!(want.iter().zip(&got).all(|(w, g)| (w - g).abs() < 1e-5));
    // Work after stopping is not recorded.
    profile::start().unwrap();
    let empty = profile::stop().unwrap();
    assert!(empty.runs.is_empty());
}
