//! The device layer: the `Backend` interface the scheduler talks to, its
//! wgpu implementation (device and queue, buffer pool, pipeline cache,
//! readback, and the kernels) and its CPU implementation, and the choice
//! between them.
//!
//! Nothing here knows the public ops, the transforms or lowering: the
//! backend encodes one lowered primitive at a time.

pub(crate) mod cpu;
pub mod device;
pub(crate) mod encoder;
pub mod kernels;
pub mod limits;
pub mod pool;
pub mod profile;
pub(crate) mod view;
pub(crate) mod wgpu;

use crate::array::{Array, DeviceData};
use crate::dtype::Element;
use crate::error::{Error, Result};
use device::{Device, DeviceInfo};
use limits::KernelLimits;
use std::sync::{Arc, Mutex};

/// What the scheduler needs of a device: its kernels' limits (for
/// lowering), a batch of queued work to encode lowered primitives into, and
/// reading values back. Allocation and upload happen as nodes are encoded
/// (a constant's encoding is its upload); submission is the backend's
/// choice, and reads submit what is queued.
pub(crate) trait Backend {
    /// The queued work one evaluation adds to (held for its duration, so
    /// that evaluations on several threads do not interleave).
    type Batch<'a>
    where
        Self: 'a;

    /// What one kernel can compute; the scheduler lowers the rest.
    fn kernel_limits(&self) -> KernelLimits;

    /// Takes the queued work for an evaluation to add to.
    fn begin(&self) -> Self::Batch<'_>;

    /// Encodes the kernels computing `node`, a primitive one kernel can
    /// compute, whose inputs are evaluated; where its values will be.
    fn encode(&self, batch: &mut Self::Batch<'_>, node: &Array) -> Result<DeviceData>;

    /// Kernels encoded into `batch` since [`Backend::begin`].
    fn dispatches(batch: &Self::Batch<'_>) -> usize;

    /// Drops what was encoded since [`Backend::begin`] (after an error).
    fn abandon(&self, batch: &mut Self::Batch<'_>);

    /// Queues the batch for later evaluations, submitting it if the
    /// backend sees fit.
    fn finish(&self, batch: Self::Batch<'_>) -> Result<()>;

    /// The values of `data`, a view of `shape` holding `T`s that this
    /// backend computed, row-major; waits for the work that computes them.
    async fn read<T: Element>(&self, data: &DeviceData, shape: &[usize]) -> Result<Vec<T>>;
}

/// Which implementation evaluates arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// The GPU where one is found, else the CPU.
    Auto,
    /// The GPU through wgpu: Vulkan, Metal or DX12 natively, WebGPU in a
    /// browser.
    Gpu,
    /// Plain Rust on the host's CPU: no GPU or driver needed.
    Cpu,
}

impl BackendKind {
    /// The kind named `name`: `"auto"`, `"gpu"` (or `"webgpu"`) or `"cpu"`.
    pub fn from_name(name: &str) -> Result<BackendKind> {
        match name.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(BackendKind::Auto),
            "gpu" | "webgpu" => Ok(BackendKind::Gpu),
            "cpu" => Ok(BackendKind::Cpu),
            other => Err(crate::error::invalid(
                "init",
                format!("unknown backend \"{other}\" (use \"auto\", \"gpu\" or \"cpu\")"),
            )),
        }
    }
}

/// The backend evaluations run on, once chosen: at [`init_with`] (or
/// [`init`](device::init)), or natively at the first evaluation.
static CHOSEN: Mutex<Option<Chosen>> = Mutex::new(None);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chosen {
    Gpu,
    Cpu,
}

/// The backend that evaluates arrays now.
pub(crate) enum Active {
    Gpu(Arc<Device>),
    Cpu,
}

/// The kind of backend a native program runs on unless told otherwise:
/// `KILN_BACKEND` (`auto`, `gpu` or `cpu`), else `auto`.
#[cfg(not(target_arch = "wasm32"))]
fn default_kind() -> Result<BackendKind> {
    match std::env::var("KILN_BACKEND") {
        Ok(name) => BackendKind::from_name(&name),
        Err(_) => Ok(BackendKind::Auto),
    }
}

/// Whether evaluations run on the CPU backend now (chosen, not opened here).
pub(crate) fn on_cpu() -> bool {
    *CHOSEN.lock().unwrap_or_else(|e| e.into_inner()) == Some(Chosen::Cpu)
}

/// The backend of this process, chosen on first use natively.
pub(crate) fn active() -> Result<Active> {
    let chosen = *CHOSEN.lock().unwrap_or_else(|e| e.into_inner());
    match chosen {
        Some(Chosen::Cpu) => Ok(Active::Cpu),
        Some(Chosen::Gpu) => device::device().map(Active::Gpu),
        #[cfg(not(target_arch = "wasm32"))]
        None => {
            pollster::block_on(init_with(default_kind()?))?;
            active()
        }
        // In a browser nothing may block: `init` opens the device.
        #[cfg(target_arch = "wasm32")]
        None => device::device().map(Active::Gpu),
    }
}

/// The error for an input of `op` that the `other` backend computed, in an
/// evaluation on `this` one.
pub(crate) fn mixed_backends(op: &str, other: &str, this: &str) -> Error {
    Error::Eval(format!(
        "{op}: an input was computed on the {other} backend, and this evaluation runs on the \
         {this} backend; arrays of two backends do not mix (read its values into a new array)"
    ))
}

/// Chooses the backend arrays are evaluated on and opens it; what it runs
/// on. `Auto` takes the GPU where an adapter is found and the CPU where
/// none is. Arrays computed on one backend are not used by the other: read
/// their values and make new arrays.
pub async fn init_with(kind: BackendKind) -> Result<DeviceInfo> {
    let (chosen, info) = match kind {
        BackendKind::Cpu => (Chosen::Cpu, cpu::info()),
        BackendKind::Gpu | BackendKind::Auto => match device::open().await {
            Ok(info) => (Chosen::Gpu, info),
            Err(_) if kind == BackendKind::Auto => (Chosen::Cpu, cpu::info()),
            Err(e) => return Err(e),
        },
    };
    *CHOSEN.lock().unwrap_or_else(|e| e.into_inner()) = Some(chosen);
    Ok(info)
}
