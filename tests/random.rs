//! `kiln::random` against fixtures made with `jax.random` (threefry2x32,
//! partitionable counters): the same keys must give the same bits.

mod common;

use common::{check, load_cases, number, tensor, usizes, Tol, EXACT};
use kiln::{random, Array, DType};
use serde_json::Value;

/// The key JAX made for `seed`: JAX's default 32-bit mode keeps only the low
/// 32 bits of the seed, while `kiln::random::key` takes all 64 (as JAX's
/// 64-bit mode does), so larger seeds are reduced here first.
fn jax_key(seed: u64) -> Array {
    random::key(seed & 0xffff_ffff)
}

fn run(op: &str, p: &Value, args: &[Array]) -> kiln::Result<Array> {
    let key = jax_key(p["seed"].as_u64().expect("seed"));
    let shape = || usizes(&p["shape"]);
    match op {
        "key" => Ok(key),
        "split" => random::split(&key, p["num"].as_u64().unwrap() as usize),
        "bits" => random::bits(&key, &shape()),
        "uniform" => random::uniform(
            &key,
            &shape(),
            DType::F32,
            number(&p["minval"]),
            number(&p["maxval"]),
        ),
        "normal" => random::normal(&key, &shape(), DType::F32),
        "randint" => random::randint(
            &key,
            &shape(),
            p["minval"].as_i64().unwrap() as i32,
            p["maxval"].as_i64().unwrap() as i32,
        ),
        "bernoulli" => random::bernoulli(&key, number(&p["p"]), &shape()),
        "categorical" => {
            let shape = (!p["shape"].is_null()).then(|| usizes(&p["shape"]));
            random::categorical(
                &key,
                &args[0],
                p["axis"].as_i64().unwrap() as i32,
                shape.as_deref(),
            )
        }
        "permutation" => random::permutation(&key, p["n"].as_u64().unwrap() as usize),
        "fold_in" => random::fold_in(&key, p["data"].as_u64().unwrap() as u32),
        "gumbel" => random::gumbel(&key, &shape(), DType::F32),
        other => panic!("no runner for {other}"),
    }
}

#[test]
fn random_matches_jax_fixtures() {
    let cases = load_cases("random.json");
    let mut failures = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let op = case["op"].as_str().unwrap();
        let args: Vec<Array> = case
            .get("args")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(tensor).collect())
            .unwrap_or_default();
        // Bits, keys and integers must match exactly. Uniform floats may
        // differ by one rounding where XLA fuses `u * span + min` into an fma;
        // normal samples go through erfinv, which differs from XLA's in the last bits.
        let tol = match op {
            // (gumbel is -log(-log(u)) of uniform u.)
            "normal" | "gumbel" => Tol {
                rtol: 2e-6,
                atol: 1e-6,
            },
            // (one ulp of the bounds, at most 3 here).
            "uniform" => Tol {
                rtol: 3e-7,
                atol: 5e-7,
            },
            _ => EXACT,
        };
        let result = run(op, &case["params"], &args)
            .map_err(|e| e.to_string())
            .and_then(|a| check(&a, &case["expected"], tol));
        if let Err(e) = result {
            failures.push(format!("#{n} {op} {}: {e}", case["params"]));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn keys_take_all_64_bits_of_the_seed() {
    let k = random::key((5u64 << 32) | 9);
    assert_eq!(k.to_vec::<u32>().unwrap(), vec![5, 9]);
}

#[test]
fn random_rejects_bad_keys_and_dtypes() {
    let bad = Array::from_slice(&[1.0f32, 2.0], &[2]).unwrap();
    let e = random::bits(&bad, &[3]).unwrap_err().to_string();
    assert!(e.starts_with("[bits]"), "{e}");
    let e = random::uniform(&random::key(0), &[2], DType::I32, 0.0, 1.0)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("[uniform]"), "{e}");
    let e = random::categorical(&random::key(0), &bad, 3, None)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("[categorical]"), "{e}");
}
