//! The JavaScript API (wasm32 only), through `wasm-bindgen`.
//!
//! These are the raw exports: positional arguments, arrays by reference and
//! every failure a thrown `Error` carrying kiln's message. The npm package's
//! wrapper (`www/src/index.js`) turns them into the documented API: numbers
//! and nested arrays as operands, defaults and option objects, namespaces,
//! `tidy`. Lists of arrays cross the boundary by value, so the wrapper
//! passes clones (an `Array` clone is a reference count). The modules are
//! public so that `tests/web_api.rs` can drive the exports from Rust.

// Shared by the modules below (textual scope: defined before them).
/// `fn(a)` for each op `$f` of `$path`, exported as `$js`.
macro_rules! unary {
    ($path:path; $($f:ident => $js:literal),* $(,)?) => {
        $(
            #[doc = concat!("`", $js, "` in JavaScript (declared in `www/src/index.d.ts`).")]
            #[wasm_bindgen(js_name = $js)]
            pub fn $f(a: &JsArray) -> JsResult<JsArray> {
                use $path as m;
                wrap(stringify!($f), m::$f(&a.inner))
            }
        )*
    };
}

pub mod io;
pub mod nn;
pub mod numpy;
pub mod ops;
pub mod optimizers;
pub mod transforms;

use crate::error::invalid;
use crate::{Array, DType};
use js_sys::{Float32Array, Float64Array, Int32Array, Uint32Array, Uint8Array};
use std::sync::atomic::{AtomicUsize, Ordering};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Every raw export returns this; `kiln::Error` converts into the thrown
/// `Error` with the same message.
type JsResult<T> = std::result::Result<T, JsError>;

/// Arrays held by JavaScript objects now (for `memory()`).
static LIVE_ARRAYS: AtomicUsize = AtomicUsize::new(0);

/// A kiln array owned by a JavaScript object. The wrapper exports it as
/// `Array`; the class is named apart so that the generated glue keeps the
/// global `Array`.
#[wasm_bindgen(js_name = KilnArray)]
pub struct JsArray {
    inner: Array,
}

impl JsArray {
    pub(crate) fn new(inner: Array) -> JsArray {
        LIVE_ARRAYS.fetch_add(1, Ordering::Relaxed);
        JsArray { inner }
    }
}

impl Drop for JsArray {
    fn drop(&mut self) {
        LIVE_ARRAYS.fetch_sub(1, Ordering::Relaxed);
    }
}

/// `op`'s result for JavaScript, if wasm32 can address it: sizes are 32-bit
/// there, so a larger shape's element count would wrap around.
fn wrap(op: &'static str, result: crate::Result<Array>) -> JsResult<JsArray> {
    let a = result?;
    let bytes = a
        .shape()
        .iter()
        .try_fold(a.dtype().size() as u64, |total, &d| {
            total.checked_mul(d as u64)
        });
    match bytes {
        Some(bytes) if bytes <= u32::MAX as u64 => Ok(JsArray::new(a)),
        _ => Err(invalid(
            op,
            format!(
                "the result would be {} {}: more than the 4 GiB a wasm32 array can address",
                crate::error::fmt_shape(a.shape()),
                a.dtype()
            ),
        )
        .into()),
    }
}

fn wrap_all(op: &'static str, arrays: impl IntoIterator<Item = Array>) -> JsResult<Vec<JsArray>> {
    arrays.into_iter().map(|a| wrap(op, Ok(a))).collect()
}

fn arrays_of(arrays: &[JsArray]) -> Vec<Array> {
    arrays.iter().map(|a| a.inner.clone()).collect()
}

/// A dtype by name (`"float32"`, ...), or `default` when none is given.
fn dtype(op: &'static str, name: Option<String>, default: DType) -> crate::Result<DType> {
    match name {
        None => Ok(default),
        Some(name) => DType::from_name(&name).ok_or_else(|| {
            invalid(
                op,
                format!("unknown dtype '{name}' (float32, float16, int32, uint32 or bool)"),
            )
        }),
    }
}

/// A shape or count from JS numbers.
fn sizes(values: &[u32]) -> Vec<usize> {
    values.iter().map(|&v| v as usize).collect()
}

#[wasm_bindgen(js_class = KilnArray)]
impl JsArray {
    /// Arrays come from kiln's functions; `new Array()` is an error.
    #[wasm_bindgen(constructor)]
    pub fn construct() -> JsResult<JsArray> {
        Err(invalid(
            "Array",
            "use kiln.array(values) or another kiln function to make an array",
        )
        .into())
    }

    /// The shape, as an array of numbers.
    #[wasm_bindgen(getter)]
    pub fn shape(&self) -> Vec<u32> {
        self.inner.shape().iter().map(|&d| d as u32).collect()
    }

    /// The dtype's name (`'float32'`, `'int32'`, ...).
    #[wasm_bindgen(getter)]
    pub fn dtype(&self) -> String {
        self.inner.dtype().name().to_string()
    }

    /// The number of dimensions.
    #[wasm_bindgen(getter)]
    pub fn ndim(&self) -> u32 {
        self.inner.ndim() as u32
    }

    /// The number of elements.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> f64 {
        self.inner.size() as f64
    }

    /// Another handle to the same array (the wrapper passes clones where
    /// the boundary takes arrays by value).
    #[wasm_bindgen(js_name = clone)]
    pub fn clone_handle(&self) -> JsArray {
        JsArray::new(self.inner.clone())
    }

    /// Evaluates and reads the values back: a promise of a `Float32Array`
    /// (float32, float16), `Int32Array`, `Uint32Array` or `Uint8Array` (bool).
    pub fn data(&self) -> js_sys::Promise {
        let a = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let typed: JsValue = match a.dtype() {
                DType::F32 => Float32Array::from(&a.to_vec_async::<f32>().await?[..]).into(),
                DType::F16 => {
                    let values: Vec<f32> = a
                        .to_vec_async::<half::f16>()
                        .await?
                        .into_iter()
                        .map(f32::from)
                        .collect();
                    Float32Array::from(&values[..]).into()
                }
                DType::I32 => Int32Array::from(&a.to_vec_async::<i32>().await?[..]).into(),
                DType::U32 => Uint32Array::from(&a.to_vec_async::<u32>().await?[..]).into(),
                DType::Bool => {
                    let values: Vec<u8> = a
                        .to_vec_async::<bool>()
                        .await?
                        .into_iter()
                        .map(u8::from)
                        .collect();
                    Uint8Array::from(&values[..]).into()
                }
            };
            Ok(typed)
        })
    }
}

impl From<crate::Error> for JsValue {
    fn from(e: crate::Error) -> JsValue {
        JsError::from(e).into()
    }
}

/// An array from a TypedArray and a shape. Float64Array values are stored
/// as float32 unless `dtype` says otherwise; `Uint8Array` is read as bool
/// when `dtype` is `"bool"`.
#[wasm_bindgen(js_name = fromData)]
pub fn from_data(
    values: JsValue,
    shape: Vec<u32>,
    dtype_name: Option<String>,
) -> JsResult<JsArray> {
    let op = "array";
    let shape = sizes(&shape);
    let wanted = dtype_name
        .map(|name| dtype(op, Some(name), DType::F32))
        .transpose()?;
    let a = if let Some(v) = values.dyn_ref::<Float32Array>() {
        Array::from_slice(&v.to_vec(), &shape)?
    } else if let Some(v) = values.dyn_ref::<Float64Array>() {
        let v: Vec<f32> = v.to_vec().into_iter().map(|x| x as f32).collect();
        Array::from_slice(&v, &shape)?
    } else if let Some(v) = values.dyn_ref::<Int32Array>() {
        Array::from_slice(&v.to_vec(), &shape)?
    } else if let Some(v) = values.dyn_ref::<Uint32Array>() {
        Array::from_slice(&v.to_vec(), &shape)?
    } else if let Some(v) = values.dyn_ref::<Uint8Array>() {
        if wanted == Some(DType::Bool) {
            let v: Vec<bool> = v.to_vec().into_iter().map(|x| x != 0).collect();
            Array::from_slice(&v, &shape)?
        } else {
            let v: Vec<u32> = v.to_vec().into_iter().map(u32::from).collect();
            Array::from_slice(&v, &shape)?
        }
    } else {
        return Err(invalid(
            op,
            "values must be a Float32Array, Float64Array, Int32Array, Uint32Array or Uint8Array",
        )
        .into());
    };
    match wanted {
        Some(d) if d != a.dtype() => wrap(op, crate::astype(&a, d)),
        _ => wrap(op, Ok(a)),
    }
}

/// A scalar of `value`, weakly typed against `like` as NumPy 2 and JAX do:
/// `int32 array + 2.5` is float32, `float16 array + 2` stays float16.
#[wasm_bindgen(js_name = weakScalar)]
pub fn weak_scalar(value: f64, like: &JsArray) -> JsArray {
    let scalar = if value.fract() == 0.0 && value.abs() < 2f64.powi(31) {
        crate::Scalar::Int(value as i64)
    } else {
        crate::Scalar::Float(value)
    };
    let dtype = scalar.weak_dtype(like.inner.dtype());
    JsArray::new(Array::scalar_of(scalar, dtype))
}

/// Opens the backend named `backend` (`auto`, `webgpu` or `cpu`; see
/// [`crate::init_with`]) and reports it; the GPU device once opened is kept.
#[wasm_bindgen]
pub async fn init(backend: String) -> JsResult<JsValue> {
    let kind = crate::BackendKind::from_name(&backend)?;
    Ok(device_object(&crate::init_with(kind).await?))
}

/// Destroys the GPU device as a browser's device loss would (see
/// [`crate::destroy_device`]); `init()` opens a new one.
#[wasm_bindgen(js_name = destroyDevice)]
pub fn destroy_device() {
    crate::destroy_device();
}

/// `kiln.deviceInfo` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen(js_name = deviceInfo)]
pub fn device_info() -> JsResult<JsValue> {
    Ok(device_object(&crate::device_info()?))
}

fn device_object(info: &crate::DeviceInfo) -> JsValue {
    let o = js_sys::Object::new();
    let set = |k: &str, v: JsValue| {
        js_sys::Reflect::set(&o, &k.into(), &v).expect("setting a field of a new object");
    };
    set("name", info.name.as_str().into());
    set("backend", info.backend.as_str().into());
    set("deviceType", info.device_type.as_str().into());
    set("driver", info.driver.as_str().into());
    set("shaderF16", info.shader_f16.into());
    set("unifiedMemory", info.unified_memory.into());
    set(
        "maxStorageBindingBytes",
        (info.max_storage_binding_bytes as f64).into(),
    );
    set("maxBufferBytes", (info.max_buffer_bytes as f64).into());
    set(
        "maxWorkgroupStorageBytes",
        info.max_workgroup_storage_bytes.into(),
    );
    set(
        "maxInvocationsPerWorkgroup",
        info.max_invocations_per_workgroup.into(),
    );
    set(
        "maxStorageBuffersPerKernel",
        info.max_storage_buffers_per_kernel.into(),
    );
    o.into()
}

/// Live arrays and GPU memory: `{ numArrays, activeBytes, peakBytes,
/// cachedBytes, numBuffers, numPipelines }`.
#[wasm_bindgen(js_name = memoryStats)]
pub fn memory() -> JsValue {
    let stats = crate::memory_stats();
    let o = js_sys::Object::new();
    for (k, v) in [
        ("numArrays", LIVE_ARRAYS.load(Ordering::Relaxed) as f64),
        ("activeBytes", stats.active as f64),
        ("peakBytes", stats.peak as f64),
        ("cachedBytes", stats.cached as f64),
        ("numBuffers", stats.buffers as f64),
        ("numPipelines", stats.pipelines as f64),
    ] {
        js_sys::Reflect::set(&o, &k.into(), &v.into()).expect("setting a field of a new object");
    }
    o.into()
}

/// Frees the GPU buffers kept for reuse.
#[wasm_bindgen(js_name = clearCache)]
pub fn clear_cache() {
    crate::clear_cache();
}

/// Queues the kernels of every array (they run while JS goes on).
#[wasm_bindgen]
pub fn eval(arrays: Vec<JsArray>) -> JsResult<()> {
    let arrays = arrays_of(&arrays);
    crate::eval(&arrays.iter().collect::<Vec<_>>())?;
    Ok(())
}

/// How many kernels have been dispatched since start.
#[wasm_bindgen(js_name = dispatchCount)]
pub fn dispatch_count() -> f64 {
    crate::dispatch_count() as f64
}
