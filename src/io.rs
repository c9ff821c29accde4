//! Saving and loading arrays in the safetensors format (the `safetensors`
//! crate), from files natively and from bytes everywhere (the browser).
//!
//! kiln holds bool, uint32, int32, float16 and float32. Loading converts
//! the other formats: bfloat16 and float64 to float32, the narrower
//! integers to int32, and 64-bit integers to int32 when every value fits
//! (else it is an error). Names are kept as they are.

use crate::array::Array;
use crate::dtype::DType;
use crate::error::{bail, Result};
use half::{bf16, f16};
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;
use std::collections::{BTreeMap, HashMap};

/// Arrays by dotted path (`"layers.0.weight"`): a module's parameter tree
/// flattened, as `state_dict`s and safetensors files name them.
pub type Params = BTreeMap<String, Array>;

fn format_error(op: &'static str, e: impl std::fmt::Display) -> crate::Error {
    crate::error::invalid(op, format!("{e}"))
}

/// The arrays of a safetensors file's bytes, and its metadata.
pub fn from_safetensors_bytes(bytes: &[u8]) -> Result<(Params, HashMap<String, String>)> {
    let op = "load_safetensors";
    let file = SafeTensors::deserialize(bytes).map_err(|e| format_error(op, e))?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| format_error(op, e))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let mut out = Params::new();
    for (name, view) in file.iter() {
        out.insert(name.to_string(), to_array(name, &view)?);
    }
    Ok((out, metadata))
}

fn to_array(name: &str, view: &TensorView<'_>) -> Result<Array> {
    let op = "load_safetensors";
    let (data, shape) = (view.data(), view.shape());
    if let Err(crate::Error::Invalid { message, .. }) = crate::array::check_shape(op, shape) {
        bail!(op, "{name}: {message}");
    }
    fn pod<T: bytemuck::Pod>(data: &[u8]) -> Vec<T> {
        bytemuck::pod_collect_to_vec(data)
    }
    let ints = |values: Vec<i64>| -> Result<Array> {
        if let Some(v) = values.iter().find(|&&v| i32::try_from(v).is_err()) {
            bail!(op, "{name} holds {v}, which does not fit kiln's int32");
        }
        Array::from_slice(&values.iter().map(|&v| v as i32).collect::<Vec<_>>(), shape)
    };
    match view.dtype() {
        Dtype::F32 => Array::from_slice(&pod::<f32>(data), shape),
        Dtype::F16 => Array::from_slice(&pod::<f16>(data), shape),
        Dtype::I32 => Array::from_slice(&pod::<i32>(data), shape),
        Dtype::U32 => Array::from_slice(&pod::<u32>(data), shape),
        Dtype::BOOL => Array::from_slice(&data.iter().map(|&b| b != 0).collect::<Vec<_>>(), shape),
        Dtype::BF16 => Array::from_slice(
            &pod::<bf16>(data)
                .iter()
                .map(|v| v.to_f32())
                .collect::<Vec<_>>(),
            shape,
        ),
        Dtype::F64 => Array::from_slice(
            &pod::<f64>(data)
                .iter()
                .map(|&v| v as f32)
                .collect::<Vec<_>>(),
            shape,
        ),
        Dtype::U8 => ints(data.iter().map(|&v| v as i64).collect()),
        Dtype::I8 => ints(pod::<i8>(data).into_iter().map(i64::from).collect()),
        Dtype::U16 => ints(pod::<u16>(data).into_iter().map(i64::from).collect()),
        Dtype::I16 => ints(pod::<i16>(data).into_iter().map(i64::from).collect()),
        Dtype::I64 => ints(pod::<i64>(data)),
        Dtype::U64 => {
            let values = pod::<u64>(data);
            if let Some(v) = values.iter().find(|&&v| v > i32::MAX as u64) {
                bail!(op, "{name} holds {v}, which does not fit kiln's int32");
            }
            ints(values.into_iter().map(|v| v as i64).collect())
        }
        other => bail!(op, "{name} has dtype {other:?}, which kiln cannot hold"),
    }
}

/// The bytes of a safetensors file holding `arrays` and `metadata`
/// (evaluates and reads the arrays back; works on every target).
pub async fn to_safetensors_bytes_async(
    arrays: &Params,
    metadata: Option<HashMap<String, String>>,
) -> Result<Vec<u8>> {
    let mut host = Vec::with_capacity(arrays.len());
    for (name, a) in arrays {
        let (dtype, bytes) = match a.dtype() {
            DType::Bool => (
                Dtype::BOOL,
                a.to_vec_async::<bool>()
                    .await?
                    .into_iter()
                    .map(u8::from)
                    .collect(),
            ),
            DType::U32 => (
                Dtype::U32,
                bytemuck::cast_slice(&a.to_vec_async::<u32>().await?).to_vec(),
            ),
            DType::I32 => (
                Dtype::I32,
                bytemuck::cast_slice(&a.to_vec_async::<i32>().await?).to_vec(),
            ),
            DType::F16 => (
                Dtype::F16,
                bytemuck::cast_slice(&a.to_vec_async::<f16>().await?).to_vec(),
            ),
            DType::F32 => (
                Dtype::F32,
                bytemuck::cast_slice(&a.to_vec_async::<f32>().await?).to_vec(),
            ),
        };
        host.push((name.clone(), dtype, a.shape().to_vec(), bytes));
    }
    let views = host
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            let view = TensorView::new(*dtype, shape.clone(), bytes)
                .map_err(|e| format_error("save_safetensors", e))?;
            Ok((name.as_str(), view))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize(views, metadata).map_err(|e| format_error("save_safetensors", e))
}

/// [`to_safetensors_bytes_async`], blocking (native only).
#[cfg(not(target_arch = "wasm32"))]
pub fn to_safetensors_bytes(
    arrays: &Params,
    metadata: Option<HashMap<String, String>>,
) -> Result<Vec<u8>> {
    pollster::block_on(to_safetensors_bytes_async(arrays, metadata))
}

/// Writes `arrays` to a safetensors file at `path` (native only).
#[cfg(not(target_arch = "wasm32"))]
pub fn save_safetensors(
    path: impl AsRef<std::path::Path>,
    arrays: &Params,
    metadata: Option<HashMap<String, String>>,
) -> Result<()> {
    let path = path.as_ref();
    let bytes = to_safetensors_bytes(arrays, metadata)?;
    std::fs::write(path, bytes).map_err(|e| {
        format_error(
            "save_safetensors",
            format!("cannot write {}: {e}", path.display()),
        )
    })
}

/// Reads the arrays and metadata of a safetensors file (native only).
#[cfg(not(target_arch = "wasm32"))]
pub fn load_safetensors(
    path: impl AsRef<std::path::Path>,
) -> Result<(Params, HashMap<String, String>)> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| {
        format_error(
            "load_safetensors",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    from_safetensors_bytes(&bytes)
}
