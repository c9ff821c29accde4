//! Safetensors for JavaScript: the loader and writer of [`crate::io`] on
//! bytes. `www/src/io.js` fetches them from URLs, responses and buffers.

use super::{wrap, JsArray, JsResult};
use crate::error::invalid;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// `[names, arrays, metadata]` of a safetensors file's bytes, names sorted.
#[wasm_bindgen(js_name = loadSafetensors)]
pub fn load_safetensors(bytes: &[u8]) -> JsResult<js_sys::Array> {
    let (arrays, metadata) = crate::io::from_safetensors_bytes(bytes)?;
    let names = js_sys::Array::new();
    let values = js_sys::Array::new();
    for (name, a) in arrays {
        names.push(&JsValue::from(name.as_str()));
        values.push(&JsValue::from(wrap("load_safetensors", Ok(a))?));
    }
    let meta = js_sys::Object::new();
    for (k, v) in metadata {
        js_sys::Reflect::set(&meta, &k.as_str().into(), &v.as_str().into())
            .map_err(|_| invalid("load_safetensors", "could not build the metadata object"))?;
    }
    Ok(js_sys::Array::of3(&names, &values, &meta))
}

/// The bytes of a safetensors file holding `arrays` named `names`, with
/// `metadata` (an object of strings, or undefined).
#[wasm_bindgen(js_name = saveSafetensors)]
pub async fn save_safetensors(
    names: Vec<String>,
    arrays: Vec<JsArray>,
    metadata: JsValue,
) -> JsResult<Vec<u8>> {
    let op = "save_safetensors";
    if names.len() != arrays.len() {
        return Err(invalid(op, "one name per array").into());
    }
    let mut params = crate::io::Params::new();
    for (name, a) in names.into_iter().zip(arrays) {
        if params.insert(name.clone(), a.inner.clone()).is_some() {
            return Err(invalid(op, format!("the name {name:?} is used twice")).into());
        }
    }
    let metadata = if metadata.is_undefined() || metadata.is_null() {
        None
    } else {
        let entries = js_sys::Object::entries(
            metadata
                .dyn_ref::<js_sys::Object>()
                .ok_or_else(|| invalid(op, "metadata must be an object of strings"))?,
        );
        let mut out = HashMap::new();
        for entry in entries.iter() {
            let pair = js_sys::Array::from(&entry);
            let (k, v) = (pair.get(0).as_string(), pair.get(1).as_string());
            match (k, v) {
                (Some(k), Some(v)) => {
                    out.insert(k, v);
                }
                _ => return Err(invalid(op, "metadata values must be strings").into()),
            }
        }
        Some(out)
    };
    Ok(crate::io::to_safetensors_bytes_async(&params, metadata).await?)
}
