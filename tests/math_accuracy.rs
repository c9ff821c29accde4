//! Every float32 unary op swept over its whole domain (about 4,000 points
//! spread evenly over the bit patterns of both signs, plus the hard cases:
//! next to 1, next to zero and multiples of pi/2, the overflow edges)
//! against float64 references (Rust's std and libm), reporting the worst
//! error in ulps per op and failing above 4 (`tests/sweep/`; the browser
//! runs the same sweep in `tests/web.rs`).

mod sweep;

use kiln::{Array, UnaryOp};
use sweep::{reference, sweep, worst_ulps, BOUND};

#[test]
fn unary_ops_are_within_their_ulp_bounds_over_the_whole_float32_domain() {
    let xs = sweep();
    let input = Array::from_slice(&xs, &[xs.len()]).unwrap();
    let mut failures = Vec::new();
    let mut swept = 0;
    println!("{:>10} {:>10} {:>16}", "op", "worst ulp", "at");
    for &op in UnaryOp::ALL {
        let Some(_) = reference(op, 0.5) else {
            continue;
        };
        let got = kiln::unary(op, &input)
            .and_then(|a| a.to_vec::<f32>())
            .unwrap_or_else(|e| panic!("{}: {e}", op.name()));
        let (worst, at) = worst_ulps(op, &xs, &got);
        swept += 1;
        println!("{:>10} {worst:>10.1} {at:>16e}", op.name());
        if worst > BOUND {
            failures.push(format!(
                "{}: {worst:.1} ulp at x = {at:e} (bound {BOUND})",
                op.name()
            ));
        }
    }
    assert!(swept >= 25, "swept {swept} ops");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
