//! Bad input gives an error naming the op, never a panic or garbage.

use kiln::{Array, Axes, BinaryOp, DType, Result, Sections, Slice, TensorAxes};

fn f32s(shape: &[usize]) -> Array {
    let n: usize = shape.iter().product();
    Array::from_slice(&(0..n).map(|i| i as f32).collect::<Vec<_>>(), shape).unwrap()
}

#[test]
fn every_op_rejects_bad_input_with_its_name() {
    let m23 = f32s(&[2, 3]);
    let m45 = f32s(&[4, 5]);
    let v3 = f32s(&[3]);
    let v4 = f32s(&[4]);
    let empty = f32s(&[0, 3]);
    let ints = Array::from_slice(&[0i32, 1], &[2]).unwrap();
    let bools = Array::from_slice(&[true, false], &[2]).unwrap();
    let cases: Vec<(&str, Result<Array>)> = vec![
        ("array", Array::from_slice(&[1.0f32, 2.0], &[3])),
        ("array", Array::from_slice(&[1.0f32], &[1; 17])),
        (
            "array",
            Array::from_slice::<f32>(&[], &[1 << 40, 1 << 40, 0]),
        ),
        ("zeros", kiln::zeros(&[usize::MAX, 2], DType::F32)),
        ("ones", kiln::ones(&[0, usize::MAX, 2], DType::F32)),
        ("full", kiln::full(&[1; 20], 2.0, DType::F32)),
        ("reshape", kiln::reshape(&empty, &[1 << 40, 1 << 40, 0])),
        ("reshape", kiln::reshape(&empty, &[i64::MAX, 2, -1])),
        (
            "reshape",
            kiln::reshape(&v3, &[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3]),
        ),
        ("reshape", kiln::reshape(&m23, &[4, 2])),
        ("reshape", kiln::reshape(&m23, &[-1, -1])),
        ("transpose", kiln::transpose(&m23, &[0, 0])),
        ("transpose", kiln::transpose(&m23, &[0])),
        ("swapaxes", kiln::swapaxes(&m23, 0, 2)),
        ("moveaxis", kiln::moveaxis(&m23, -3, 0)),
        ("expand_dims", kiln::expand_dims(&m23, &[3])),
        ("squeeze", kiln::squeeze(&m23, &[0])),
        ("broadcast_to", kiln::broadcast_to(&m23, &[3, 3])),
        ("broadcast_to", kiln::broadcast_to(&m23, &[3])),
        ("slice", kiln::slice(&m23, &[Slice::step(0)])),
        ("slice", kiln::slice(&v3, &[Slice::all(), Slice::all()])),
        ("index_axis", kiln::index_axis(&m23, 1, 3)),
        ("concatenate", kiln::concatenate(&[&m23, &m45], 0)),
        ("concatenate", kiln::concatenate(&[], 0)),
        ("stack", kiln::stack(&[&v3, &v4], 0)),
        (
            "split",
            kiln::split(&v3, Sections::Count(2), 0).map(|v| v[0].clone()),
        ),
        ("pad", kiln::pad(&m23, &[(1, 1)], 0.0)),
        ("repeat", kiln::repeat(&m23, 2, Some(2))),
        ("flip", kiln::flip(&m23, &[2])),
        ("diagonal", kiln::diagonal(&m23, 0, 1, 1)),
        ("diagonal", kiln::diagonal(&v3, 0, 0, 1)),
        ("trace", kiln::trace(&v3, 0, 0, 1)),
        ("where", kiln::r#where(&bools, &v3, &v3)),
        ("clip", kiln::clip(&m23, Some(&v4), None)),
        ("view", kiln::view(&bools, DType::F32)),
        ("bitwise_and", kiln::bitwise_and(&v3, &v3)),
        ("left_shift", kiln::left_shift(&bools, &bools)),
        ("sum", kiln::sum(&m23, 2, false)),
        ("sum", kiln::sum(&m23, [0, 0], false)),
        ("prod", kiln::prod(&m23, -3, true)),
        ("mean", kiln::mean(&m23, 5, false)),
        ("max", kiln::max(&empty, 0, false)),
        ("min", kiln::min(&empty, Axes::All, false)),
        ("all", kiln::all(&m23, 2, false)),
        ("any", kiln::any(&m23, 2, false)),
        ("argmax", kiln::argmax(&m23, Some(2), false)),
        ("argmin", kiln::argmin(&empty, Some(0), false)),
        ("var", kiln::var(&m23, 2, false, 0)),
        ("std", kiln::std(&m23, 2, false, 1)),
        ("logsumexp", kiln::logsumexp(&m23, 2, false)),
        ("softmax", kiln::softmax(&m23, 2)),
        ("log_softmax", kiln::log_softmax(&m23, 2)),
        ("cumsum", kiln::cumsum(&m23, Some(2))),
        ("cumprod", kiln::cumprod(&m23, Some(-3))),
        ("take", kiln::take(&m23, &v3, Some(0))),
        ("take", kiln::take(&m23, &ints, Some(2))),
        ("take_along_axis", kiln::take_along_axis(&m23, &ints, 0)),
        ("scatter_add", kiln::scatter_add(&m23, &ints, &ints, 0)),
        ("matmul", kiln::matmul(&m23, &m45)),
        ("matmul", kiln::matmul(&Array::scalar(1.0f32), &m23)),
        ("matmul", kiln::matmul(&bools, &bools)),
        ("inner", kiln::inner(&m23, &m45)),
        (
            "tensordot",
            kiln::tensordot(&m23, &m45, TensorAxes::Count(1)),
        ),
        (
            "tensordot",
            kiln::tensordot(&m23, &m45, TensorAxes::Count(3)),
        ),
        ("sort", kiln::sort(&m23, Some(2))),
        ("argsort", kiln::argsort(&Array::scalar(1.0f32), Some(0))),
        ("topk", kiln::topk(&v3, 4, 0).map(|(v, _)| v)),
        ("arange", kiln::arange(0.0, 1.0, 0.0, DType::F32)),
        ("arange", kiln::arange(0.0, 2.0, 1.0, DType::Bool)),
        ("linspace", kiln::linspace(0.0, 1.0, 5, true, DType::I32)),
        ("tril", kiln::tril(&v3, 0)),
        ("triu", kiln::triu(&v3, 0)),
    ];
    for (op, result) in cases {
        match result {
            Ok(a) => panic!("[{op}] accepted bad input and gave {:?}", a.shape()),
            Err(e) => {
                let message = e.to_string();
                assert!(
                    message.starts_with(&format!("[{op}] ")),
                    "expected an error from {op}, got: {message}"
                );
            }
        }
    }
}

#[test]
fn every_binary_op_rejects_shapes_that_do_not_broadcast() {
    let a = f32s(&[2, 3]);
    let b = f32s(&[4]);
    for &op in BinaryOp::ALL {
        let (a, b) = if op.name().contains("shift") || op.name().starts_with("bitwise") {
            (a.astype(DType::I32).unwrap(), b.astype(DType::I32).unwrap())
        } else {
            (a.clone(), b.clone())
        };
        let message = kiln::ops::elementwise::binary(op, &a, &b)
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            format!(
                "[{}] shapes (2, 3) and (4,) cannot be broadcast together",
                op.name()
            )
        );
    }
}

#[test]
fn reading_back_checks_dtype_and_size() {
    let a = f32s(&[2]);
    assert!(a
        .to_vec::<i32>()
        .unwrap_err()
        .to_string()
        .starts_with("[to_vec]"));
    assert!(a
        .item::<f32>()
        .unwrap_err()
        .to_string()
        .starts_with("[item]"));
    assert_eq!(
        kiln::sum(&a, Axes::All, false)
            .unwrap()
            .item::<f32>()
            .unwrap(),
        1.0
    );
}

#[test]
#[should_panic(expected = "[add] shapes (2, 3) and (4,) cannot be broadcast together")]
fn operators_panic_with_the_op_message() {
    let _ = &f32s(&[2, 3]) + &f32s(&[4]);
}
