//! # kiln
//!
//! Portable lazy arrays for machine learning and numerical computing, with
//! WGSL kernels run through `wgpu`: natively (Vulkan, Metal, DX12) and in
//! browsers (WebGPU).
//!
//! ```
//! use kiln::{Array, Axes};
//! let x = Array::from_slice(&[1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
//! let y = (&x * 2.0).exp()?;          // builds a graph; nothing runs yet
//! let total = kiln::sum(&y, Axes::All, false)?;
//! # #[cfg(not(target_arch = "wasm32"))]
//! println!("{}", total);               // evaluates on the GPU and prints
//! # Ok::<(), kiln::Error>(())
//! ```
//!
//! Arrays are cheap handles to nodes of a graph; ops check their arguments
//! at once and return [`Result`], but compute nothing until [`Array::eval`]
//! or a read ([`Array::to_vec`], [`Array::to_vec_async`]).

#![warn(missing_docs)]

pub mod array;
pub mod backend;
pub mod dtype;
pub mod error;
mod format;
pub mod io;
pub mod linalg;
mod lower;
pub mod nn;
pub mod ops;
pub mod optimizers;
pub mod primitive;
mod scheduler;
pub mod transforms;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use array::{eval, Array};
#[cfg(not(target_arch = "wasm32"))]
pub use backend::device::synchronize;
pub use backend::device::{
    clear_cache, destroy_device, device_info, init, memory_stats, reset_peak_memory, DeviceInfo,
};
pub use backend::pool::MemoryStats;
pub use backend::profile;
pub use backend::{init_with, BackendKind};
pub use dtype::{promote, DType, Element, Scalar};
pub use error::{Error, Result};
pub use ops::composite::{
    allclose, array_equal, convolve, corrcoef, correlate, cov, diff, hstack, isclose, meshgrid,
    nan_to_num, one_hot, vstack, ConvolveMode,
};
pub use ops::creation::*;
pub use ops::einsum::einsum;
pub use ops::elementwise::*;
pub use ops::index::{scatter_add, take, take_along_axis};
pub use ops::matmul::{inner, matmul, outer, tensordot, TensorAxes};
pub use ops::random;
pub use ops::reduce::{
    all, any, argmax, argmin, cumprod, cumprod_reverse, cumsum, cumsum_reverse, log_softmax,
    logsumexp, max, mean, min, prod, softmax, std, sum, var, Axes,
};
pub use ops::shape::{
    broadcast_arrays, broadcast_shapes, broadcast_to, concatenate, diagonal, expand_dims, flatten,
    flip, index_axis, moveaxis, pad, repeat, reshape, slice, split, squeeze, stack, swapaxes, tile,
    trace, transpose, Sections, Slice,
};
pub use ops::sort::{argsort, sort, topk};
pub use scheduler::dispatch_count;
pub use transforms::{
    checkpoint, compile, custom_vjp, grad, grad_n, hessian, jacfwd, jacobian, jacrev, jvp,
    stop_gradient, value_and_grad, value_and_grad_n, vjp, vmap, vmap_n,
};
