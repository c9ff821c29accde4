//! Uploads and readbacks, through the array's own buffer where the adapter
//! shares the host's memory (unified memory) and through staging buffers
//! elsewhere: every dtype, odd lengths, views at unaligned offsets, buffers
//! reused while earlier work on them is still running, and reads from many
//! threads. The test runs itself again in a child process with unified
//! memory turned off, so both paths are checked on any adapter.

use kiln::{Array, Slice};

/// Set in the child process that repeats the checks on the staging path.
const STAGING_CHILD: &str = "KILN_TRANSFER_STAGING_CHILD";

fn check_round_trips() {
    let info = kiln::device_info().unwrap();
    for n in [0usize, 1, 2, 3, 5, 17, 1000, 1 << 18] {
        let floats: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 3.0).collect();
        let a = Array::from_slice(&floats, &[n]).unwrap();
        assert_eq!(a.to_vec::<f32>().unwrap(), floats, "float32 of {n}");
        let ints: Vec<i32> = (0..n as i32).map(|i| i * 7 - 11).collect();
        let b = Array::from_slice(&ints, &[n]).unwrap();
        assert_eq!(b.to_vec::<i32>().unwrap(), ints, "int32 of {n}");
        let words: Vec<u32> = (0..n as u32).map(|i| i.wrapping_mul(2654435761)).collect();
        let c = Array::from_slice(&words, &[n]).unwrap();
        assert_eq!(c.to_vec::<u32>().unwrap(), words, "uint32 of {n}");
        let flags: Vec<bool> = (0..n).map(|i| i % 3 == 1).collect();
        let d = Array::from_slice(&flags, &[n]).unwrap();
        assert_eq!(d.to_vec::<bool>().unwrap(), flags, "bool of {n}");
        if info.shader_f16 {
            // Two bytes each: odd lengths end inside a word.
            let halves: Vec<half::f16> = floats.iter().map(|&v| half::f16::from_f32(v)).collect();
            let e = Array::from_slice(&halves, &[n]).unwrap();
            assert_eq!(e.to_vec::<half::f16>().unwrap(), halves, "float16 of {n}");
            let doubled = kiln::add(&e, &e).unwrap();
            let want: Vec<half::f16> = halves.iter().map(|&v| v + v).collect();
            assert_eq!(doubled.to_vec::<half::f16>().unwrap(), want);
        }
    }
}

fn check_views() {
    let values: Vec<f32> = (0..1001).map(|i| i as f32).collect();
    let a = Array::from_slice(&values, &[1001]).unwrap();
    a.eval().unwrap();
    // Offsets of one to four elements: reads start between map alignments.
    for start in 1..=4usize {
        let tail = a
            .slice(&[Slice::new(Some(start as i64), None, None)])
            .unwrap();
        assert_eq!(tail.to_vec::<f32>().unwrap(), values[start..].to_vec());
        let middle = a
            .slice(&[Slice::new(Some(start as i64), Some(start as i64 + 3), None)])
            .unwrap();
        assert_eq!(
            middle.to_vec::<f32>().unwrap(),
            values[start..start + 3].to_vec()
        );
    }
    let reversed = a.slice(&[Slice::step(-3)]).unwrap();
    let want: Vec<f32> = values.iter().rev().step_by(3).copied().collect();
    assert_eq!(reversed.to_vec::<f32>().unwrap(), want);
    let grid = a
        .slice(&[Slice::new(None, Some(1000), None)])
        .unwrap()
        .reshape(&[10, 100])
        .unwrap();
    let column = grid
        .slice(&[Slice::all(), Slice::new(Some(7), Some(8), None)])
        .unwrap();
    let want: Vec<f32> = (0..10).map(|r| (r * 100 + 7) as f32).collect();
    assert_eq!(column.to_vec::<f32>().unwrap(), want);
}

/// Buffers go back to the pool while the work that used them may still
/// run; the next uploads of the same size take them and must neither
/// change that work's results nor see its values.
fn check_reuse_during_work() {
    let n = 1 << 16;
    let mut queued = Vec::new();
    for step in 0..12 {
        let values: Vec<f32> = (0..n).map(|i| (i % 97) as f32 + step as f32).collect();
        let x = Array::from_slice(&values, &[n]).unwrap();
        let y = kiln::sum(&kiln::multiply(&x, &x).unwrap(), kiln::Axes::All, false).unwrap();
        y.eval().unwrap();
        let want: f64 = values.iter().map(|&v| (v as f64) * (v as f64)).sum();
        queued.push((y, want));
        // `x` drops here: its buffer may serve the next step's upload.
    }
    for (step, (y, want)) in queued.iter().enumerate() {
        let got = y.item::<f32>().unwrap() as f64;
        assert!(
            (got - want).abs() <= 1e-5 * want,
            "step {step}: {got} vs {want}"
        );
    }
}

fn check_reads_from_threads() {
    let values: Vec<i32> = (0..4099).collect();
    let a = Array::from_slice(&values, &[4099]).unwrap();
    let b = kiln::add(&a, &Array::scalar(1i32)).unwrap();
    std::thread::scope(|s| {
        for t in 0..8 {
            let (a, b, values) = (&a, &b, &values);
            s.spawn(move || {
                for _ in 0..20 {
                    if t % 2 == 0 {
                        assert_eq!(&a.to_vec::<i32>().unwrap(), values);
                    } else {
                        let got = b.to_vec::<i32>().unwrap();
                        assert!(got.iter().zip(values).all(|(g, v)| *g == v + 1));
                    }
                }
            });
        }
    });
}

#[test]
fn uploads_and_readbacks_on_both_paths() {
    let info = kiln::device_info().unwrap();
    let child = std::env::var_os(STAGING_CHILD).is_some();
    if child {
        assert!(!info.unified_memory, "KILN_UNIFIED_MEMORY=0 turns it off");
    } else if info.device_type == "Cpu" && std::env::var_os("KILN_UNIFIED_MEMORY").is_none() {
        assert!(
            info.unified_memory,
            "a CPU adapter shares the host's memory"
        );
    }
    check_round_trips();
    check_views();
    check_reuse_during_work();
    check_reads_from_threads();
    if child {
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "uploads_and_readbacks_on_both_paths",
            "--nocapture",
        ])
        .env(STAGING_CHILD, "1")
        .env("KILN_UNIFIED_MEMORY", "0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the staging path failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
}
