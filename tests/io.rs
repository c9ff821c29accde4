//! safetensors I/O: files PyTorch wrote load with the right names, dtypes,
//! shapes and values; files kiln writes pass the reference `safetensors`
//! package's reader (`tests/check_safetensors.py`); bad files are errors.

use half::f16;
use kiln::io::{from_safetensors_bytes, load_safetensors, save_safetensors, to_safetensors_bytes};
use kiln::nn::{self, Module, Params};
use kiln::{Array, DType};
use std::collections::HashMap;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn f64s(a: &Array) -> Vec<f64> {
    pollster::block_on(a.to_f64_vec_async()).unwrap()
}

#[test]
fn loads_what_pytorch_wrote() {
    let (arrays, metadata) = load_safetensors(fixture("torch_tensors.safetensors")).unwrap();
    assert_eq!(metadata["writer"], "torch");
    let k: Vec<f64> = (0..12).map(f64::from).collect();
    let halves: Vec<f64> = k.iter().map(|k| (k - 5.5) / 4.0).collect();
    // name, dtype kiln holds it as, shape, values by the writer's formula
    let want: Vec<(&str, DType, Vec<usize>, Vec<f64>)> = vec![
        ("float32", DType::F32, vec![3, 4], halves.clone()),
        ("float16", DType::F16, vec![2, 6], halves.clone()),
        ("bfloat16", DType::F32, vec![12], halves.clone()),
        ("float64", DType::F32, vec![4, 3], halves.clone()),
        (
            "int64",
            DType::I32,
            vec![2, 2, 3],
            k.iter().map(|k| k * 1000.0 - 4000.0).collect(),
        ),
        (
            "int32",
            DType::I32,
            vec![6, 2],
            k.iter().map(|k| -7.0 * k).collect(),
        ),
        (
            "int16",
            DType::I32,
            vec![12],
            k.iter().map(|k| k - 6.0).collect(),
        ),
        (
            "uint8",
            DType::I32,
            vec![3, 4],
            k.iter().map(|k| k * 20.0).collect(),
        ),
        (
            "bool",
            DType::Bool,
            vec![4, 3],
            k.iter().map(|&k| (k % 3.0 == 0.0) as u8 as f64).collect(),
        ),
        ("scalar", DType::F32, vec![], vec![2.5]),
        ("layer.0.weight", DType::F32, vec![2, 3], vec![1.0; 6]),
    ];
    assert_eq!(
        arrays.len(),
        want.len(),
        "names: {:?}",
        arrays.keys().collect::<Vec<_>>()
    );
    for (name, dtype, shape, values) in want {
        let a = &arrays[name];
        assert_eq!((a.dtype(), a.shape()), (dtype, shape.as_slice()), "{name}");
        assert_eq!(f64s(a), values, "{name}");
    }
}

/// The arrays `tests/check_safetensors.py` expects, by its formulas.
fn arrays_for_python() -> Params {
    let k: Vec<i32> = (0..12).collect();
    let halves: Vec<f32> = k.iter().map(|&k| (k as f32 - 5.5) / 4.0).collect();
    let mut p = Params::new();
    p.insert(
        "float32".into(),
        Array::from_slice(&halves, &[3, 4]).unwrap(),
    );
    let h: Vec<f16> = halves.iter().map(|&v| f16::from_f32(v)).collect();
    p.insert("float16".into(), Array::from_slice(&h, &[2, 6]).unwrap());
    let i: Vec<i32> = k.iter().map(|k| -7 * k).collect();
    p.insert("int32".into(), Array::from_slice(&i, &[6, 2]).unwrap());
    let u: Vec<u32> = k.iter().map(|&k| k as u32 * 100_000).collect();
    p.insert("uint32".into(), Array::from_slice(&u, &[12]).unwrap());
    let b: Vec<bool> = k.iter().map(|k| k % 3 == 0).collect();
    p.insert("bool".into(), Array::from_slice(&b, &[4, 3]).unwrap());
    p.insert(
        "nested.layer.weight".into(),
        kiln::full(&[2, 3], 0.25, DType::F32).unwrap(),
    );
    p.insert("scalar".into(), Array::scalar(2.5f32));
    p
}

#[test]
fn python_reads_what_kiln_wrote() {
    let path = std::env::temp_dir().join(format!("kiln-io-{}.safetensors", std::process::id()));
    let metadata = HashMap::from([("format".to_string(), "kiln".to_string())]);
    save_safetensors(&path, &arrays_for_python(), Some(metadata)).unwrap();
    let out = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/check_safetensors.py"
        ))
        .arg(&path)
        .output()
        .expect("python3 runs");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "the safetensors package rejects kiln's file: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bytes_round_trip() {
    let arrays = arrays_for_python();
    let bytes = to_safetensors_bytes(&arrays, None).unwrap();
    let (back, metadata) = from_safetensors_bytes(&bytes).unwrap();
    assert!(metadata.is_empty());
    assert_eq!(
        back.keys().collect::<Vec<_>>(),
        arrays.keys().collect::<Vec<_>>()
    );
    for (name, a) in &arrays {
        assert_eq!(
            (back[name].dtype(), back[name].shape()),
            (a.dtype(), a.shape()),
            "{name}"
        );
        assert_eq!(f64s(&back[name]), f64s(a), "{name}");
    }
}

fn message(result: kiln::Result<impl std::fmt::Debug>) -> String {
    result.expect_err("must fail").to_string()
}

#[test]
fn bad_files_are_errors() {
    let garbage = message(from_safetensors_bytes(b"not a safetensors file"));
    assert!(garbage.contains("load_safetensors"), "{garbage}");
    let missing = message(load_safetensors("/nonexistent/weights.safetensors"));
    assert!(
        missing.contains("load_safetensors") && missing.contains("/nonexistent"),
        "{missing}"
    );
    // An int64 value beyond int32's range cannot be held.
    let big: Vec<u8> = bytemuck::cast_slice(&[1i64, 1 << 40]).to_vec();
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::I64, vec![2], &big).unwrap();
    let bytes = safetensors::serialize([("ids", view)], None).unwrap();
    let too_big = message(from_safetensors_bytes(&bytes));
    assert!(
        too_big.contains("ids") && too_big.contains("int32"),
        "{too_big}"
    );
}

#[test]
fn module_weights_load_strictly() {
    let key = kiln::random::key(0);
    let model = nn::Linear::new(3, 2, true, &key).unwrap();
    let mut params = model.parameters();
    params.insert("extra".into(), Array::scalar(1.0f32));
    let unknown = message(nn::load_parameters(&model, &params));
    assert!(unknown.contains("extra"), "{unknown}");
    params.remove("extra");
    params.remove("bias");
    let missing = message(nn::load_parameters(&model, &params));
    assert!(missing.contains("bias"), "{missing}");
    params.insert("bias".into(), kiln::zeros(&[3], DType::F32).unwrap());
    let shape = message(nn::load_parameters(&model, &params));
    assert!(
        shape.contains("bias") && shape.contains("(2,)") && shape.contains("(3,)"),
        "{shape}"
    );
    // A failed load changes nothing.
    assert_eq!(model.bias.as_ref().unwrap().value().shape(), &[2]);
    let bytes = to_safetensors_bytes(&model.parameters(), None).unwrap();
    let other = nn::Linear::new(3, 2, true, &kiln::random::key(1)).unwrap();
    nn::load_weights_from_bytes(&other, &bytes).unwrap();
    assert_eq!(f64s(&other.weight.value()), f64s(&model.weight.value()));
}
