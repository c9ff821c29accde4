//! Shared helpers for the fixture tests: building arrays from JSON tensors
//! and comparing results with written-down tolerances.
#![allow(dead_code)]

use half::f16;
use kiln::{Array, DType, Slice};
use serde_json::Value;

#[cfg(not(target_arch = "wasm32"))]
pub mod fuzz;
pub mod host_matrix;
pub mod noise;
#[cfg(not(target_arch = "wasm32"))]
pub mod programs;

/// An array's values as f64 (read through float32).
pub fn read_f64(a: &Array) -> Vec<f64> {
    a.astype(DType::F32)
        .unwrap()
        .to_vec::<f32>()
        .unwrap()
        .into_iter()
        .map(f64::from)
        .collect()
}

/// A number from a fixture (non-finite values are strings).
pub fn number(v: &Value) -> f64 {
    match v {
        Value::String(s) => match s.as_str() {
            "nan" => f64::NAN,
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            other => panic!("bad number {other}"),
        },
        Value::Bool(b) => *b as u8 as f64,
        v => v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")),
    }
}

pub fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .expect("list")
        .iter()
        .map(|x| x.as_i64().expect("int"))
        .collect()
}

pub fn usizes(v: &Value) -> Vec<usize> {
    ints(v).into_iter().map(|x| x as usize).collect()
}

pub fn i32s(v: &Value) -> Vec<i32> {
    ints(v).into_iter().map(|x| x as i32).collect()
}

pub fn dtype(v: &Value) -> DType {
    DType::from_name(v.as_str().expect("dtype name")).expect("known dtype")
}

/// The flat values, shape and dtype of a fixture tensor.
pub fn values(t: &Value) -> (Vec<f64>, Vec<usize>, DType) {
    let data = t["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(number)
        .collect();
    (data, usizes(&t["shape"]), dtype(&t["dtype"]))
}

/// The values of an array, whatever its dtype, as float64.
pub fn floats(a: &Array) -> Vec<f64> {
    pollster::block_on(a.to_f64_vec_async()).unwrap()
}

/// An array from host values.
pub fn array(data: &[f64], shape: &[usize], dt: DType) -> Array {
    match dt {
        DType::F32 => Array::from_slice(&data.iter().map(|&v| v as f32).collect::<Vec<_>>(), shape),
        DType::F16 => Array::from_slice(
            &data.iter().map(|&v| f16::from_f64(v)).collect::<Vec<_>>(),
            shape,
        ),
        DType::I32 => Array::from_slice(&data.iter().map(|&v| v as i32).collect::<Vec<_>>(), shape),
        DType::U32 => Array::from_slice(&data.iter().map(|&v| v as u32).collect::<Vec<_>>(), shape),
        DType::Bool => {
            Array::from_slice(&data.iter().map(|&v| v != 0.0).collect::<Vec<_>>(), shape)
        }
    }
    .expect("fixture tensor")
}

fn opt(v: &Value) -> Option<i64> {
    v.as_i64()
}

/// An argument tensor, with its view steps applied (transpose, slice, broadcast).
pub fn tensor(t: &Value) -> Array {
    let (data, shape, dt) = values(t);
    let mut a = array(&data, &shape, dt);
    if let Some(steps) = t.get("view").and_then(Value::as_array) {
        for step in steps {
            let kind = step[0].as_str().expect("view kind");
            a = match kind {
                "transpose" => kiln::transpose(&a, &i32s(&step[1])),
                "slice" => {
                    let slices: Vec<Slice> = step[1]
                        .as_array()
                        .expect("slices")
                        .iter()
                        .map(|s| Slice::new(opt(&s[0]), opt(&s[1]), opt(&s[2])))
                        .collect();
                    kiln::slice(&a, &slices)
                }
                "broadcast_to" => kiln::broadcast_to(&a, &usizes(&step[1])),
                other => panic!("unknown view step {other}"),
            }
            .expect("view step");
        }
    }
    a
}

/// Relative and absolute tolerance: `|got - want| <= atol + rtol * |want|`.
#[derive(Debug, Clone, Copy)]
pub struct Tol {
    pub rtol: f64,
    pub atol: f64,
}

pub const EXACT: Tol = Tol {
    rtol: 0.0,
    atol: 0.0,
};

/// How close a result must be to the correctly rounded value.
#[derive(Debug, Clone, Copy)]
pub enum Bound {
    /// Within `atol + rtol * |want|`; [`EXACT`] means bit for bit, the
    /// sign of zero included.
    Tol(Tol),
    /// Within this many units in the last place of the result's dtype.
    Ulps(f64),
}

impl From<Tol> for Bound {
    fn from(tol: Tol) -> Bound {
        Bound::Tol(tol)
    }
}

/// The spacing of `dtype`'s floats at `w` (rounded to that dtype): the
/// distance from |w| to the next float away from zero, subnormals included.
pub fn ulp(w: f64, dtype: DType) -> f64 {
    match dtype {
        DType::F16 => {
            let h = f16::from_f64(w.abs());
            f16::from_bits(h.to_bits() + 1).to_f64() - h.to_f64()
        }
        _ => {
            let f = w.abs() as f32;
            f64::from(f32::from_bits(f.to_bits() + 1)) - f64::from(f)
        }
    }
}

/// Compares an array with a fixture tensor; returns a description of the first mismatch.
pub fn check(got: &Array, want: &Value, bound: impl Into<Bound>) -> Result<(), String> {
    check_ulps(got, want, bound).map(drop)
}

/// Compares as [`check`] does; returns the largest distance in ulps of the
/// result's dtype over the finite expected values (0 for integers).
pub fn check_ulps(got: &Array, want: &Value, bound: impl Into<Bound>) -> Result<f64, String> {
    let bound = bound.into();
    let (expected, shape, dt) = values(want);
    if got.shape() != shape.as_slice() {
        return Err(format!("shape {:?}, expected {:?}", got.shape(), shape));
    }
    if got.dtype() != dt {
        return Err(format!("dtype {}, expected {}", got.dtype(), dt));
    }
    let values = pollster::block_on(got.to_f64_vec_async()).map_err(|e| e.to_string())?;
    // Fixtures print floats in decimal: compare with the nearest value of the dtype.
    let round = |w: f64| match dt {
        DType::F32 => w as f32 as f64,
        DType::F16 => f16::from_f64(w).to_f64(),
        _ => w,
    };
    let mut worst = 0.0f64;
    for (i, (&g, w)) in values
        .iter()
        .zip(expected.iter().map(|&w| round(w)))
        .enumerate()
    {
        let ulps = if dt.is_float() && w.is_finite() && g.is_finite() {
            (g - w).abs() / ulp(w, dt)
        } else {
            0.0
        };
        worst = worst.max(ulps);
        let ok = if w.is_nan() {
            g.is_nan()
        } else if w.is_infinite() {
            g == w
        } else {
            match bound {
                Bound::Tol(t) if t.rtol == 0.0 && t.atol == 0.0 => {
                    g == w && g.is_sign_negative() == w.is_sign_negative()
                }
                Bound::Tol(tol) => (g - w).abs() <= tol.atol + tol.rtol * w.abs(),
                Bound::Ulps(most) => ulps <= most,
            }
        };
        if !ok {
            return Err(format!(
                "element {i}: got {g:e}, expected {w:e} ({ulps:.1} ulp; bound {bound:?})"
            ));
        }
    }
    Ok(worst)
}

/// The cases of a fixture file in `tests/fixtures/`.
pub fn load_cases(file: &str) -> Vec<Value> {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut fixtures: Value = serde_json::from_str(&text).expect("valid JSON");
    match fixtures["cases"].take() {
        Value::Array(cases) => cases,
        _ => panic!("{path} has no cases"),
    }
}
