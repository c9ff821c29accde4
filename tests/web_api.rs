//! The JavaScript bindings (`kiln::wasm`) in a browser: conversions, thrown
//! errors, weak scalars, transforms of JS functions, memory accounting.
//!
//! Run with
//! `CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=120 cargo test --target wasm32-unknown-unknown --test web_api`
#![cfg(target_arch = "wasm32")]

use js_sys::{Float32Array, Float64Array, Function, Int32Array, Reflect, Uint32Array, Uint8Array};
use kiln::wasm::{self, ops, transforms, JsArray};
use wasm_bindgen::convert::TryFromJsValue;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

async fn init() {
    wasm::init("webgpu".into())
        .await
        .map_err(JsValue::from)
        .expect("kiln init");
}

fn f32s(values: &[f32], shape: &[u32]) -> JsArray {
    wasm::from_data(Float32Array::from(values).into(), shape.to_vec(), None)
        .map_err(JsValue::from)
        .expect("from_data")
}

async fn read(a: &JsArray) -> JsValue {
    JsFuture::from(a.data()).await.expect("data()")
}

async fn read_f32(a: &JsArray) -> Vec<f32> {
    read(a)
        .await
        .dyn_into::<Float32Array>()
        .expect("a Float32Array")
        .to_vec()
}

/// The message of the `Error` an export threw.
fn message<T>(result: Result<T, JsError>) -> String {
    let Err(e) = result else {
        panic!("expected an error")
    };
    let e: JsValue = e.into();
    e.dyn_into::<js_sys::Error>()
        .expect("a JS Error")
        .message()
        .into()
}

fn close(got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "got {got:?}, want {want:?}"
        );
    }
}

/// A JS function as the wrapper hands transforms one: arrays in, a JS
/// array of fresh array handles out.
fn trampoline(f: impl Fn(JsArray) -> JsArray + 'static) -> Closure<dyn Fn(JsValue) -> JsValue> {
    Closure::new(move |x: JsValue| -> JsValue {
        let x = JsArray::try_from_js_value(x).expect("a kiln array");
        js_sys::Array::of1(&f(x).into()).into()
    })
}

fn ok<T>(r: Result<T, JsError>) -> T {
    r.map_err(JsValue::from).expect("the export succeeds")
}

#[wasm_bindgen_test]
async fn typed_arrays_round_trip_with_their_dtypes() {
    init().await;
    let f = f32s(&[1.5, -2.0, 3.25, 0.5, 8.0, -1.0], &[2, 3]);
    assert_eq!(
        (f.shape(), f.dtype(), f.ndim(), f.size()),
        (vec![2, 3], "float32".into(), 2, 6.0)
    );
    assert_eq!(read_f32(&f).await, vec![1.5, -2.0, 3.25, 0.5, 8.0, -1.0]);

    let i = ok(wasm::from_data(
        Int32Array::from(&[3, -1, 4][..]).into(),
        vec![3],
        None,
    ));
    assert_eq!(i.dtype(), "int32");
    assert_eq!(
        read(&i).await.dyn_into::<Int32Array>().unwrap().to_vec(),
        vec![3, -1, 4]
    );

    let u = ok(wasm::from_data(
        Uint32Array::from(&[7u32, 9][..]).into(),
        vec![2],
        None,
    ));
    assert_eq!(
        read(&u).await.dyn_into::<Uint32Array>().unwrap().to_vec(),
        vec![7, 9]
    );

    let b = ok(wasm::from_data(
        Uint8Array::from(&[1u8, 0, 1][..]).into(),
        vec![3],
        Some("bool".into()),
    ));
    assert_eq!(b.dtype(), "bool");
    assert_eq!(
        read(&b).await.dyn_into::<Uint8Array>().unwrap().to_vec(),
        vec![1, 0, 1]
    );

    // Float64 values become float32, or the dtype asked for.
    let d = ok(wasm::from_data(
        Float64Array::from(&[2.5f64, -3.0][..]).into(),
        vec![2],
        Some("int32".into()),
    ));
    assert_eq!(
        read(&d).await.dyn_into::<Int32Array>().unwrap().to_vec(),
        vec![2, -3]
    );
}

#[wasm_bindgen_test]
async fn errors_are_thrown_with_the_op_named_and_the_module_keeps_working() {
    init().await;
    let a = f32s(&[1.0; 6], &[2, 3]);
    let b = f32s(&[1.0; 20], &[4, 5]);
    assert!(message(ops::matmul(&a, &b)).starts_with("[matmul]"));
    assert!(message(wasm::from_data(
        Float32Array::new_with_length(5).into(),
        vec![2, 3],
        None
    ))
    .starts_with("[array]"));
    assert!(
        message(wasm::from_data(JsValue::from_str("x"), vec![1], None)).contains("Float32Array")
    );
    assert!(
        message(ops::zeros(vec![2], Some("float64".into()))).contains("unknown dtype 'float64'")
    );
    assert!(message(ops::linalg_qr(&a, "thin".into())).starts_with("[qr]"));
    assert!(message(ops::inv(&a)).starts_with("[inv]"));
    assert!(message(ops::random_key(-1.0)).starts_with("[key]"));
    assert!(message(ops::slice(&a, js_sys::Array::of1(&"x".into()))).starts_with("[slice]"));
    assert!(message(ops::reshape(&a, vec![4, 2])).starts_with("[reshape]"));
    assert!(message(ops::sum(&a, Some(vec![5]), false)).starts_with("[sum]"));
    // A function that throws inside a transform.
    let throws: Closure<dyn Fn(JsValue) -> Result<JsValue, JsValue>> =
        Closure::new(|_| Err(js_sys::Error::new("boom").into()));
    let f: &Function = throws.as_ref().unchecked_ref();
    let m = message(transforms::grad(f, vec![a.clone_handle()], vec![0]));
    assert!(m.starts_with("[grad]") && m.contains("boom"), "{m}");
    // Still working.
    let c = ok(ops::matmul(&a, &ok(ops::transpose(&a, None))));
    assert_eq!(read_f32(&c).await, vec![3.0, 3.0, 3.0, 3.0]);
}

#[wasm_bindgen_test]
async fn numbers_are_weakly_typed_by_the_array_beside_them() {
    init().await;
    let i = ok(wasm::from_data(
        Int32Array::from(&[1, 2][..]).into(),
        vec![2],
        None,
    ));
    let half = wasm::weak_scalar(2.5, &i);
    let sum = ok(ops::add(&i, &half));
    assert_eq!(sum.dtype(), "float32");
    assert_eq!(read_f32(&sum).await, vec![3.5, 4.5]);
    let two = wasm::weak_scalar(2.0, &i);
    assert_eq!(ok(ops::multiply(&i, &two)).dtype(), "int32");
}

#[wasm_bindgen_test]
async fn transforms_of_js_functions_compose() {
    init().await;
    // f(x) = sum(sin(x) * x): f' = sin x + x cos x, f'' = 2 cos x - x sin x.
    let f = trampoline(|x| {
        ok(ops::sum(
            &ok(ops::multiply(&ok(ops::sin(&x)), &x)),
            None,
            false,
        ))
    });
    let f_ref: Function = f.as_ref().unchecked_ref::<Function>().clone();
    let df = trampoline(move |x| {
        let g = ok(transforms::grad(&f_ref, vec![x], vec![0])).remove(0);
        ok(ops::sum(&g, None, false))
    });
    let xs = [0.5f32, 1.0, -2.0];
    let x = f32s(&xs, &[3]);
    let d1 = ok(transforms::grad(
        f.as_ref().unchecked_ref(),
        vec![x.clone_handle()],
        vec![0],
    ))
    .remove(0);
    let d2 = ok(transforms::grad(
        df.as_ref().unchecked_ref(),
        vec![x.clone_handle()],
        vec![0],
    ))
    .remove(0);
    let want1: Vec<f32> = xs.iter().map(|&t| t.sin() + t * t.cos()).collect();
    let want2: Vec<f32> = xs.iter().map(|&t| 2.0 * t.cos() - t * t.sin()).collect();
    // WGSL allows sin and cos an absolute error of 2^-11 on [-pi, pi].
    close(&read_f32(&d1).await, &want1, 2e-3);
    close(&read_f32(&d2).await, &want2, 2e-3);

    // vmap over rows, the Hessian, and a compiled function called twice.
    let norm2 = trampoline(|x| ok(ops::sum(&ok(ops::square(&x)), None, false)));
    let norm2: &Function = norm2.as_ref().unchecked_ref();
    let m = f32s(&[1.0, 2.0, 3.0, 4.0], &[2, 2]);
    let rows = ok(transforms::vmap(
        norm2,
        vec![m],
        js_sys::Array::of1(&0.into()),
        vec![0],
    ));
    assert_eq!(read_f32(&rows[0]).await, vec![5.0, 25.0]);
    let h = ok(transforms::hessian(norm2, &x));
    assert_eq!(
        read_f32(&h).await,
        vec![2.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 2.0]
    );
    let calls = std::rc::Rc::new(std::cell::Cell::new(0));
    let counted = calls.clone();
    let exp_plus_one = trampoline(move |x| {
        counted.set(counted.get() + 1);
        ok(ops::add(&ok(ops::exp(&x)), &wasm::weak_scalar(1.0, &x)))
    });
    let compiled = transforms::compile(exp_plus_one.as_ref().unchecked_ref::<Function>().clone());
    for values in [[0.0f32, 1.0, 2.0], [1.0, -1.0, 0.5]] {
        let out = ok(compiled.call(vec![f32s(&values, &[3])])).remove(0);
        let want: Vec<f32> = values.iter().map(|v| v.exp() + 1.0).collect();
        close(&read_f32(&out).await, &want, 1e-5);
    }
    assert_eq!(calls.get(), 1, "the second call replays the traced program");
}

#[wasm_bindgen_test]
async fn memory_counts_live_arrays() {
    init().await;
    let count = || {
        Reflect::get(&wasm::memory(), &"numArrays".into())
            .unwrap()
            .as_f64()
            .unwrap()
    };
    let before = count();
    let made: Vec<JsArray> = (0..5).map(|k| f32s(&[k as f32], &[1])).collect();
    assert_eq!(count(), before + 5.0);
    drop(made);
    assert_eq!(count(), before);
}

/// A host function of one or two float32 values.
type Unary = fn(f32) -> f32;
type Binary = fn(f32, f32) -> f32;

#[wasm_bindgen_test]
async fn the_newer_table_ops_match_rust_in_the_browser() {
    init().await;
    let (a, b) = ([8.0f32, -27.0, 0.5, 2.0], [1.0f32, -2.0, 3.0, -0.5]);
    let (x, y) = (f32s(&a, &[4]), f32s(&b, &[4]));
    let run = |r: Result<JsArray, JsError>| r.map_err(JsValue::from).expect("the op runs");
    let unary: [(JsArray, Unary); 4] = [
        (run(ops::cbrt(&x)), f32::cbrt),
        (run(ops::exp2(&x)), f32::exp2),
        (run(ops::deg2rad(&x)), f32::to_radians),
        (run(ops::rad2deg(&x)), f32::to_degrees),
    ];
    for (got, f) in unary {
        close(&read_f32(&got).await, &a.map(f), 2e-6);
    }
    let logaddexp = |p: f32, q: f32| {
        let (p, q) = (p as f64, q as f64);
        (p.max(q) + (-(p - q).abs()).exp().ln_1p()) as f32
    };
    let binary: [(JsArray, Binary); 3] = [
        (run(ops::logaddexp(&x, &y)), logaddexp),
        (run(ops::hypot(&x, &y)), f32::hypot),
        (run(ops::copysign(&x, &y)), f32::copysign),
    ];
    for (got, f) in binary {
        let want: Vec<f32> = a.iter().zip(&b).map(|(p, q)| f(*p, *q)).collect();
        close(&read_f32(&got).await, &want, 2e-6);
    }
}
