//! Transforms of JavaScript functions. The wrapper hands over each user
//! function as a trampoline: it takes arrays and returns a JS array of
//! arrays (fresh handles, which Rust takes over), and frees what the user
//! function made in between.

use super::{arrays_of, wrap, wrap_all, JsArray, JsResult};
use crate::error::invalid;
use crate::Array;
use js_sys::Function;
use wasm_bindgen::convert::TryFromJsValue;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Calls a trampoline on `args`; its failure becomes an error of `op`.
fn call(op: &'static str, f: &Function, args: &[Array]) -> crate::Result<Vec<Array>> {
    let js_args: js_sys::Array = args
        .iter()
        .map(|a| JsValue::from(JsArray::new(a.clone())))
        .collect();
    let out = f
        .apply(&JsValue::NULL, &js_args)
        .map_err(|e| invalid(op, format!("the function threw: {}", message(&e))))?;
    let list = out
        .dyn_into::<js_sys::Array>()
        .map_err(|_| invalid(op, "the function must return an array or a list of arrays"))?;
    list.iter()
        .map(|v| {
            JsArray::try_from_js_value(v)
                .map(|a| a.inner.clone())
                .map_err(|_| invalid(op, "the function must return kiln arrays"))
        })
        .collect()
}

/// The one output of a function that must return one array.
fn call_one(op: &'static str, f: &Function, args: &[Array]) -> crate::Result<Array> {
    let mut outs = call(op, f, args)?;
    match outs.len() {
        1 => Ok(outs.remove(0)),
        n => Err(invalid(
            op,
            format!("the function must return one array, not {n}"),
        )),
    }
}

fn message(e: &JsValue) -> String {
    match e.dyn_ref::<js_sys::Error>() {
        Some(error) => error.message().into(),
        None => e.as_string().unwrap_or_else(|| format!("{e:?}")),
    }
}

fn indices(argnums: &[u32]) -> Vec<usize> {
    argnums.iter().map(|&k| k as usize).collect()
}

/// The gradients of a scalar `f` with respect to `argnums`.
#[wasm_bindgen]
pub fn grad(f: &Function, args: Vec<JsArray>, argnums: Vec<u32>) -> JsResult<Vec<JsArray>> {
    let g = crate::grad_n(|xs: &[Array]| call_one("grad", f, xs), &indices(&argnums));
    wrap_all("grad", g(&arrays_of(&args))?)
}

/// `[value, ...gradients]`.
#[wasm_bindgen(js_name = valueAndGrad)]
pub fn value_and_grad(
    f: &Function,
    args: Vec<JsArray>,
    argnums: Vec<u32>,
) -> JsResult<Vec<JsArray>> {
    let g = crate::value_and_grad_n(
        |xs: &[Array]| call_one("value_and_grad", f, xs),
        &indices(&argnums),
    );
    let (value, grads) = g(&arrays_of(&args))?;
    wrap_all("value_and_grad", std::iter::once(value).chain(grads))
}

fn pair(first: Vec<Array>, second: Vec<Array>) -> js_sys::Array {
    let list = |arrays: Vec<Array>| -> js_sys::Array {
        arrays
            .into_iter()
            .map(|a| JsValue::from(JsArray::new(a)))
            .collect()
    };
    js_sys::Array::of2(&list(first), &list(second))
}

/// A function of arrays to arrays, as the transforms take it.
type Traced<'a> = dyn Fn(&[Array]) -> crate::Result<Vec<Array>> + 'a;

/// Applies `transform` (`crate::vjp` or `crate::jvp`) to `f` at `primals`
/// with `seeds` (cotangents or tangents); `[outputs, results]`.
fn linearized(
    op: &'static str,
    f: &Function,
    primals: Vec<JsArray>,
    seeds: Vec<JsArray>,
    transform: impl FnOnce(&Traced, &[Array], &[Array]) -> crate::Result<(Vec<Array>, Vec<Array>)>,
) -> JsResult<js_sys::Array> {
    let traced = |xs: &[Array]| call(op, f, xs);
    let (outs, results) = transform(&traced, &arrays_of(&primals), &arrays_of(&seeds))?;
    Ok(pair(outs, results))
}

/// `[outputs, cotangents]`: reverse mode.
#[wasm_bindgen]
pub fn vjp(
    f: &Function,
    primals: Vec<JsArray>,
    cotangents: Vec<JsArray>,
) -> JsResult<js_sys::Array> {
    linearized("vjp", f, primals, cotangents, |f, xs, cts| {
        crate::vjp(f, xs, cts)
    })
}

/// `[outputs, tangents]`: forward mode.
#[wasm_bindgen]
pub fn jvp(f: &Function, primals: Vec<JsArray>, tangents: Vec<JsArray>) -> JsResult<js_sys::Array> {
    linearized("jvp", f, primals, tangents, |f, xs, ts| {
        crate::jvp(f, xs, ts)
    })
}

/// `in_axes`: per argument a number or `null` (passed whole).
#[wasm_bindgen]
pub fn vmap(
    f: &Function,
    args: Vec<JsArray>,
    in_axes: js_sys::Array,
    out_axes: Vec<i32>,
) -> JsResult<Vec<JsArray>> {
    let in_axes: Vec<Option<i32>> = in_axes
        .iter()
        .map(|v| match v.as_f64() {
            _ if v.is_null() || v.is_undefined() => Ok(None),
            Some(x) if x.fract() == 0.0 && x.abs() < 2f64.powi(31) => Ok(Some(x as i32)),
            _ => Err(invalid(
                "vmap",
                format!("in_axes entries are integers or null, got {v:?}"),
            )),
        })
        .collect::<crate::Result<_>>()?;
    let g = crate::vmap_n(|xs: &[Array]| call("vmap", f, xs), &in_axes, &out_axes);
    wrap_all("vmap", g(&arrays_of(&args))?)
}

macro_rules! jacobians {
    ($($f:ident),*) => {
        $(
            #[doc = concat!("`kiln.", stringify!($f), "` of a JS function of one array.")]
            #[wasm_bindgen]
            pub fn $f(f: &Function, x: &JsArray) -> JsResult<JsArray> {
                let j = crate::$f(|x: &Array| call_one(stringify!($f), f, std::slice::from_ref(x)));
                wrap(stringify!($f), j(&x.inner))
            }
        )*
    };
}

jacobians!(jacobian, jacfwd, jacrev, hessian);

type Program = Box<dyn Fn(&[Array]) -> crate::Result<Vec<Array>>>;

/// A function traced once per argument shapes and dtypes, then replayed.
#[wasm_bindgen]
pub struct Compiled {
    run: Program,
}

#[wasm_bindgen]
impl Compiled {
    /// The traced function's outputs for `args`.
    pub fn call(&self, args: Vec<JsArray>) -> JsResult<Vec<JsArray>> {
        wrap_all("compile", (self.run)(&arrays_of(&args))?)
    }
}

/// `kiln.compile` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn compile(f: Function) -> Compiled {
    Compiled {
        run: Box::new(crate::compile(move |xs: &[Array]| call("compile", &f, xs))),
    }
}

/// A JavaScript function held where the transforms ask for `Send + Sync`
/// (rules kept in the graph). The wasm build runs on one thread, so it is
/// never shared or sent.
struct OnOneThread(Function);

// SAFETY: kiln's wasm32 build has no threads (no atomics), so the function
// is only ever used on the thread that made it.
unsafe impl Send for OnOneThread {}
// SAFETY: as above.
unsafe impl Sync for OnOneThread {}

/// A transformed function of arrays to one array.
type ToOne = Box<dyn Fn(&[Array]) -> crate::Result<Array>>;

/// A function whose backward pass recomputes its forward pass.
#[wasm_bindgen]
pub struct Checkpointed {
    run: ToOne,
}

#[wasm_bindgen]
impl Checkpointed {
    /// The function's output for `args`.
    pub fn call(&self, args: Vec<JsArray>) -> JsResult<JsArray> {
        wrap("checkpoint", (self.run)(&arrays_of(&args)))
    }
}

/// `kiln.checkpoint` in JavaScript (declared in `www/src/index.d.ts`).
#[wasm_bindgen]
pub fn checkpoint(f: Function) -> Checkpointed {
    let f = OnOneThread(f);
    Checkpointed {
        run: Box::new(crate::checkpoint(move |xs: &[Array]| {
            call_one("checkpoint", &f.0, xs)
        })),
    }
}

/// `f(args)` with the reverse-mode rule `backward(primals..., output,
/// cotangent)`, which returns one cotangent per argument.
#[wasm_bindgen(js_name = customVjp)]
pub fn custom_vjp(f: &Function, backward: Function, args: Vec<JsArray>) -> JsResult<JsArray> {
    let backward = OnOneThread(backward);
    let g = crate::custom_vjp(
        |xs: &[Array]| call_one("custom_vjp", f, xs),
        move |primals: &[Array], out: &Array, ct: &Array| {
            let mut all = primals.to_vec();
            all.extend([out.clone(), ct.clone()]);
            call("custom_vjp", &backward.0, &all)
        },
    );
    wrap("custom_vjp", g(&arrays_of(&args)))
}
